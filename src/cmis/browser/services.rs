//! The Binding trait for the Browser binding: every CMIS service as a GET
//! with a selector or a POST of a form.

use async_trait::async_trait;
use futures_util::TryStreamExt;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use reqwest::{RequestBuilder, StatusCode};

use super::form::{bool_str, Form};
use super::json;
use super::reply::{content_disposition_file_name, error_from, header_str, parse_content_range};
use super::request::Reread;
use super::urls::add_read_options;
use super::BrowserBinding;
use crate::cmis::error::{CmisError, Result};
use crate::cmis::model::*;
use crate::cmis::Binding;

#[async_trait]
impl Binding for BrowserBinding {
    fn kind(&self) -> BindingKind {
        BindingKind::Browser
    }

    fn repository_id(&self) -> &str {
        &self.repository_id
    }

    async fn repository_info(&self) -> Result<RepositoryInfo> {
        let v = self
            .get_json(self.repository_selector_url("repositoryInfo"))
            .await?;
        Ok(json::find_repository_info(&v, &self.repository_id)?.info)
    }

    async fn type_definition(&self, type_id: &str) -> Result<TypeDefinition> {
        let mut url = self.repository_selector_url("typeDefinition");
        url.query_pairs_mut().append_pair("typeId", type_id);
        json::parse_type_definition(&self.get_json(url).await?)
    }

    async fn children(&self, folder_id: &str, options: &ChildrenOptions) -> Result<ObjectList> {
        let mut url = self.object_url(folder_id, "children");
        add_read_options(&mut url, &options.read);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("includePathSegment", "true");
            q.append_pair("skipCount", &options.skip_count.to_string());
            if let Some(max) = options.max_items {
                q.append_pair("maxItems", &max.to_string());
            }
            if let Some(order) = &options.order_by {
                q.append_pair("orderBy", order);
            }
        }
        json::parse_children(&self.get_json(url).await?)
    }

    async fn object(&self, object_id: &str, options: &ReadOptions) -> Result<CmisObject> {
        let mut url = self.object_url(object_id, "object");
        add_read_options(&mut url, options);
        json::parse_object(&self.get_json(url).await?)
    }

    async fn object_by_path(&self, path: &str, options: &ReadOptions) -> Result<CmisObject> {
        let mut url = self.path_url(path)?;
        url.query_pairs_mut().append_pair("cmisselector", "object");
        add_read_options(&mut url, options);
        json::parse_object(&self.get_json(url).await?)
    }

    async fn parents(&self, object_id: &str, options: &ReadOptions) -> Result<Vec<ObjectParent>> {
        let mut url = self.object_url(object_id, "parents");
        add_read_options(&mut url, options);
        url.query_pairs_mut()
            .append_pair("includeRelativePathSegment", "true");
        json::parse_parents(&self.get_json(url).await?)
    }

    async fn content(&self, object_id: &str, range: Option<ByteRange>) -> Result<ContentStream> {
        let url = self.object_url(object_id, "content");
        tracing::debug!(object_id, ?range, "GET content");
        let mut request: RequestBuilder = self.client.get(url.as_str());
        if let Some(r) = range {
            request = request.header(RANGE, r.to_http_header());
        }
        let response = self.client.send(request).await?;
        let status = response.status();
        if status == StatusCode::RANGE_NOT_SATISFIABLE {
            return Err(CmisError::InvalidArgument(format!(
                "range {:?} lies beyond the end of the content of {object_id}",
                range
            )));
        }
        if !status.is_success() {
            return Err(error_from(response).await);
        }
        let headers = response.headers();
        let range_start = if status == StatusCode::PARTIAL_CONTENT {
            // A 206 without a readable Content-Range: trust our request.
            Some(
                header_str(headers, CONTENT_RANGE)
                    .and_then(|v| parse_content_range(&v))
                    .or(range.map(|r| r.offset))
                    .unwrap_or(0),
            )
        } else {
            None
        };
        let mime_type = header_str(headers, CONTENT_TYPE);
        let file_name = header_str(headers, CONTENT_DISPOSITION)
            .and_then(|v| content_disposition_file_name(&v));
        let length = response.content_length();
        let body: ByteStream = Box::pin(response.bytes_stream().map_err(std::io::Error::other));
        Ok(ContentStream {
            length,
            mime_type,
            file_name,
            range_start,
            body,
        })
    }

    async fn create_document(
        &self,
        folder_id: Option<&str>,
        properties: &Properties,
        content: Option<ContentUpload>,
        versioning_state: Option<VersioningState>,
    ) -> Result<CmisObject> {
        let url = match folder_id {
            Some(_) => self.root_folder_url.clone(),
            None => self.repository_url.clone(),
        };
        let form = Form::new("createDocument")
            .opt("objectId", folder_id)
            .properties(properties)
            .opt(
                "versioningState",
                versioning_state.map(VersioningState::as_str),
            );
        let reply = self.post_maybe_content(url, form, content).await?;
        self.created_object(reply, folder_id, properties).await
    }

    async fn create_folder(&self, parent_id: &str, properties: &Properties) -> Result<CmisObject> {
        let form = Form::new("createFolder")
            .text("objectId", parent_id)
            .properties(properties);
        let reply = self.post(self.root_folder_url.clone(), form).await?;
        self.created_object(reply, Some(parent_id), properties)
            .await
    }

    async fn set_content(
        &self,
        object_id: &str,
        content: ContentUpload,
        overwrite: bool,
        change_token: Option<&str>,
    ) -> Result<CmisObject> {
        let form = Form::new("setContent")
            .text("objectId", object_id)
            .text("overwriteFlag", bool_str(overwrite))
            .opt("changeToken", change_token);
        self.content_action(object_id, form, content).await
    }

    async fn append_content(
        &self,
        object_id: &str,
        content: ContentUpload,
        is_last_chunk: bool,
        change_token: Option<&str>,
    ) -> Result<CmisObject> {
        let form = Form::new("appendContent")
            .text("objectId", object_id)
            .text("isLastChunk", bool_str(is_last_chunk))
            .opt("changeToken", change_token);
        self.content_action(object_id, form, content).await
    }

    async fn delete_content(
        &self,
        object_id: &str,
        change_token: Option<&str>,
    ) -> Result<CmisObject> {
        let form = Form::new("deleteContent")
            .text("objectId", object_id)
            .opt("changeToken", change_token);
        let reply = self.post(self.root_folder_url.clone(), form).await?;
        self.changed_object(reply, object_id, Reread::SameOrNewVersion)
            .await
    }

    async fn update_properties(
        &self,
        object_id: &str,
        properties: &Properties,
        change_token: Option<&str>,
    ) -> Result<CmisObject> {
        let form = Form::new("update")
            .text("objectId", object_id)
            .opt("changeToken", change_token)
            .properties(properties);
        let reply = self.post(self.root_folder_url.clone(), form).await?;
        self.changed_object(reply, object_id, Reread::Same).await
    }

    async fn move_object(
        &self,
        object_id: &str,
        target_folder_id: &str,
        source_folder_id: &str,
    ) -> Result<CmisObject> {
        let form = Form::new("move")
            .text("objectId", object_id)
            .text("targetFolderId", target_folder_id)
            .text("sourceFolderId", source_folder_id);
        let reply = self.post(self.root_folder_url.clone(), form).await?;
        self.changed_object(reply, object_id, Reread::Same).await
    }

    async fn delete(&self, object_id: &str, all_versions: bool) -> Result<()> {
        let form = Form::new("delete")
            .text("objectId", object_id)
            .text("allVersions", bool_str(all_versions));
        self.post(self.root_folder_url.clone(), form).await?;
        Ok(())
    }

    async fn delete_tree(
        &self,
        folder_id: &str,
        all_versions: bool,
        unfile: UnfileObjects,
        continue_on_failure: bool,
    ) -> Result<Vec<String>> {
        let form = Form::new("deleteTree")
            .text("objectId", folder_id)
            .text("allVersions", bool_str(all_versions))
            .text("unfileObjects", unfile.as_str())
            .text("continueOnFailure", bool_str(continue_on_failure));
        // Deleting a big tree can take long: no overall timeout.
        let reply = self
            .send_form(self.root_folder_url.clone(), form, None, false)
            .await?;
        json::parse_failed_ids(&reply)
    }

    async fn add_object_to_folder(
        &self,
        object_id: &str,
        folder_id: &str,
        all_versions: bool,
    ) -> Result<()> {
        let form = Form::new("addObjectToFolder")
            .text("objectId", object_id)
            .text("folderId", folder_id)
            .text("allVersions", bool_str(all_versions));
        self.post(self.root_folder_url.clone(), form).await?;
        Ok(())
    }

    async fn remove_object_from_folder(
        &self,
        object_id: &str,
        folder_id: Option<&str>,
    ) -> Result<()> {
        let form = Form::new("removeObjectFromFolder")
            .text("objectId", object_id)
            .opt("folderId", folder_id);
        self.post(self.root_folder_url.clone(), form).await?;
        Ok(())
    }

    async fn check_out(&self, object_id: &str) -> Result<CmisObject> {
        let form = Form::new("checkOut").text("objectId", object_id);
        let reply = self.post(self.root_folder_url.clone(), form).await?;
        if reply.is_null() {
            // No PWC in the reply: the document says where it is.
            let doc = self.object(object_id, &ReadOptions::default()).await?;
            return match doc.version_series_checked_out_id() {
                Some(pwc) => self.object(pwc, &ReadOptions::default()).await,
                None => Err(CmisError::Protocol {
                    message: "checkOut answered nothing and the document names no PWC".into(),
                }),
            };
        }
        json::parse_object(&reply)
    }

    async fn cancel_check_out(&self, pwc_id: &str) -> Result<()> {
        let form = Form::new("cancelCheckOut").text("objectId", pwc_id);
        self.post(self.root_folder_url.clone(), form).await?;
        Ok(())
    }

    async fn check_in(
        &self,
        pwc_id: &str,
        major: bool,
        properties: Option<&Properties>,
        content: Option<ContentUpload>,
        comment: Option<&str>,
    ) -> Result<CmisObject> {
        let mut form = Form::new("checkIn")
            .text("objectId", pwc_id)
            .text("major", bool_str(major))
            .opt("checkinComment", comment);
        if let Some(p) = properties {
            form = form.properties(p);
        }
        let reply = self
            .post_maybe_content(self.root_folder_url.clone(), form, content)
            .await?;
        self.changed_object(reply, pwc_id, Reread::Latest).await
    }

    async fn all_versions(&self, object_id: &str) -> Result<Vec<CmisObject>> {
        let mut url = self.object_url(object_id, "versions");
        add_read_options(&mut url, &ReadOptions::default());
        json::parse_object_array(&self.get_json(url).await?)
    }

    async fn content_changes(
        &self,
        change_log_token: Option<&str>,
        include_properties: bool,
        max_items: Option<u64>,
    ) -> Result<ContentChanges> {
        let mut url = self.repository_selector_url("contentChanges");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("succinct", "false");
            q.append_pair("includeProperties", bool_str(include_properties));
            q.append_pair("includePolicyIds", "false");
            q.append_pair("includeACL", "false");
            if let Some(token) = change_log_token {
                q.append_pair("changeLogToken", token);
            }
            if let Some(max) = max_items {
                q.append_pair("maxItems", &max.to_string());
            }
        }
        json::parse_content_changes(&self.get_json(url).await?)
    }

    async fn query(
        &self,
        statement: &str,
        search_all_versions: bool,
        max_items: Option<u64>,
        skip_count: u64,
    ) -> Result<ObjectList> {
        let mut url = self.repository_selector_url("query");
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("q", statement);
            q.append_pair("succinct", "false");
            q.append_pair("searchAllVersions", bool_str(search_all_versions));
            q.append_pair("includeAllowableActions", "false");
            q.append_pair("includeRelationships", "none");
            q.append_pair("renditionFilter", "cmis:none");
            q.append_pair("skipCount", &skip_count.to_string());
            if let Some(max) = max_items {
                q.append_pair("maxItems", &max.to_string());
            }
        }
        json::parse_query_results(&self.get_json(url).await?)
    }
}
