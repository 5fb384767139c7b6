//! The Binding trait over AtomPub: every CMIS service as requests on links and templates.

use async_trait::async_trait;
use futures_util::TryStreamExt;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, RANGE};
use reqwest::StatusCode;

use super::discovery::fetch_service;
use super::links::fill_template;
use super::parse::{self, protocol};
use super::request::{
    bool_str, content_range_start, disposition_file_name, error_of, header_str, read_body,
    read_params,
};
use super::write;
use super::xml::ATOM;
use super::{AtomPubBinding, MEDIA_QUERY};
use crate::cmis::error::{CmisError, Result};
use crate::cmis::model::*;
use crate::cmis::Binding;

#[async_trait]
impl Binding for AtomPubBinding {
    fn kind(&self) -> BindingKind {
        BindingKind::AtomPub
    }

    fn repository_id(&self) -> &str {
        &self.repository_id
    }

    async fn repository_info(&self) -> Result<RepositoryInfo> {
        fetch_service(&self.client, &self.service_url)
            .await?
            .into_iter()
            .find(|w| w.info.id == self.repository_id)
            .map(|w| w.info)
            .ok_or_else(|| {
                CmisError::NoRepository(format!(
                    "repository '{}' is no longer listed",
                    self.repository_id
                ))
            })
    }

    async fn type_definition(&self, type_id: &str) -> Result<TypeDefinition> {
        let url = self.url(
            &fill_template(self.template("typebyid")?, &[("id", type_id)]),
            &[],
        )?;
        parse::type_definition(&self.get_xml(&url).await?)
    }

    async fn children(&self, folder_id: &str, options: &ChildrenOptions) -> Result<ObjectList> {
        let href = self.children_link(folder_id).await?;
        let mut params = read_params(&options.read);
        params.push(("includePathSegment", "true".into()));
        params.push(("skipCount", options.skip_count.to_string()));
        if let Some(max) = options.max_items {
            params.push(("maxItems", max.to_string()));
        }
        if let Some(order) = &options.order_by {
            params.push(("orderBy", order.clone()));
        }
        let feed = self.get_feed(&self.url(&href, &params)?).await?;
        Ok(ObjectList {
            has_more_items: feed.has_more_items,
            num_items: feed.num_items,
            objects: feed.entries.into_iter().map(|e| e.object).collect(),
        })
    }

    async fn object(&self, object_id: &str, options: &ReadOptions) -> Result<CmisObject> {
        Ok(self.fetch_object(object_id, options, "").await?.object)
    }

    async fn object_by_path(&self, path: &str, options: &ReadOptions) -> Result<CmisObject> {
        let params = read_params(options);
        let mut vars: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        vars.push(("path", path));
        let url = self.url(&fill_template(self.template("objectbypath")?, &vars), &[])?;
        Ok(self.get_entry(&url).await?.object)
    }

    async fn parents(&self, object_id: &str, options: &ReadOptions) -> Result<Vec<ObjectParent>> {
        let Some(up) = self.link(object_id, |l| l.up.as_ref()).await? else {
            return Ok(Vec::new()); // the root folder
        };
        let mut params = read_params(options);
        params.push(("includeRelativePathSegment", "true".into()));
        let root = self.get_xml(&self.url(&up, &params)?).await?;
        if root.is(ATOM, "feed") {
            let feed = self.feed_of(&root)?;
            return Ok(feed
                .entries
                .into_iter()
                .map(|e| ObjectParent {
                    folder: e.object,
                    relative_path_segment: e.relative_path_segment,
                })
                .collect());
        }
        // A folder's up link points at its parent's entry; its name in
        // that parent is its own name.
        let parent = self.entry_of(&root)?;
        let name_only = ReadOptions {
            filter: Some("cmis:objectId,cmis:name".into()),
            include_allowable_actions: false,
        };
        let own = self.fetch_object(object_id, &name_only, "").await?;
        Ok(vec![ObjectParent {
            folder: parent.object,
            relative_path_segment: Some(own.object.name().to_string()),
        }])
    }

    async fn content(&self, object_id: &str, range: Option<ByteRange>) -> Result<ContentStream> {
        let href = self
            .link(object_id, |l| {
                l.content_src.as_ref().or(l.edit_media.as_ref())
            })
            .await?
            .ok_or_else(|| CmisError::Constraint(format!("{object_id} has no content stream")))?;
        let mut request = self.client.get(&self.url(&href, &[])?);
        if let Some(range) = range {
            request = request.header(RANGE, range.to_http_header());
        }
        let response = self.execute(request).await?;
        let headers = response.headers();
        let range_start = if response.status() == StatusCode::PARTIAL_CONTENT {
            Some(
                content_range_start(headers)
                    .ok_or_else(|| protocol("HTTP 206 without a valid Content-Range header"))?,
            )
        } else {
            None
        };
        let stream = ContentStream {
            length: response.content_length(),
            mime_type: header_str(headers, CONTENT_TYPE),
            file_name: header_str(headers, CONTENT_DISPOSITION)
                .and_then(|v| disposition_file_name(&v)),
            range_start,
            body: Box::pin(response.bytes_stream().map_err(std::io::Error::other)),
        };
        Ok(stream)
    }

    async fn create_document(
        &self,
        folder_id: Option<&str>,
        properties: &Properties,
        content: Option<ContentUpload>,
        versioning_state: Option<VersioningState>,
    ) -> Result<CmisObject> {
        let href = match folder_id {
            Some(folder) => self.children_link(folder).await?,
            None => self.collection("unfiled")?.to_string(),
        };
        let mut params = Vec::new();
        if let Some(state) = versioning_state {
            params.push(("versioningState", state.as_str().to_string()));
        }
        let request = self.client.post(&self.url(&href, &params)?);
        let response = self
            .execute(self.with_entry(request, properties, content))
            .await?;
        self.created(response, folder_id, properties).await
    }

    async fn create_folder(&self, parent_id: &str, properties: &Properties) -> Result<CmisObject> {
        let href = self.children_link(parent_id).await?;
        let request = self.client.post(&self.url(&href, &[])?);
        let response = self
            .execute(self.with_entry(request, properties, None))
            .await?;
        self.created(response, Some(parent_id), properties).await
    }

    async fn set_content(
        &self,
        object_id: &str,
        content: ContentUpload,
        overwrite: bool,
        change_token: Option<&str>,
    ) -> Result<CmisObject> {
        let mut params = vec![("overwriteFlag", bool_str(overwrite).to_string())];
        if let Some(token) = change_token {
            params.push(("changeToken", token.to_string()));
        }
        self.put_content(object_id, content, params).await
    }

    async fn append_content(
        &self,
        object_id: &str,
        content: ContentUpload,
        is_last_chunk: bool,
        change_token: Option<&str>,
    ) -> Result<CmisObject> {
        if self.is_cmis10() {
            return Err(CmisError::NotSupported(
                "appendContentStream needs CMIS 1.1; this AtomPub endpoint speaks CMIS 1.0".into(),
            ));
        }
        let mut params = vec![
            ("append", "true".to_string()),
            ("isLastChunk", bool_str(is_last_chunk).to_string()),
        ];
        if let Some(token) = change_token {
            params.push(("changeToken", token.to_string()));
        }
        self.put_content(object_id, content, params).await
    }

    async fn delete_content(
        &self,
        object_id: &str,
        change_token: Option<&str>,
    ) -> Result<CmisObject> {
        let href = self
            .link(object_id, |l| l.edit_media.as_ref())
            .await?
            .ok_or_else(|| {
                CmisError::Constraint(format!(
                    "the content of {object_id} cannot be deleted (no edit-media link)"
                ))
            })?;
        // OpenCMIS servers refuse this without the token: send the current
        // one when the caller has none (it means "whatever is there").
        let token = match change_token {
            Some(token) => Some(token.to_string()),
            None => {
                let options = ReadOptions {
                    filter: Some("cmis:objectId,cmis:changeToken".into()),
                    include_allowable_actions: false,
                };
                let current = self.fetch_object(object_id, &options, "").await?;
                current.object.change_token().map(str::to_string)
            }
        };
        let mut params = Vec::new();
        if let Some(token) = token {
            params.push(("changeToken", token));
        }
        let response = self
            .execute(self.client.delete(&self.url(&href, &params)?))
            .await?;
        self.reread_after(response, object_id).await
    }

    async fn update_properties(
        &self,
        object_id: &str,
        properties: &Properties,
        change_token: Option<&str>,
    ) -> Result<CmisObject> {
        let href = self.edit_link(object_id).await?;
        let mut properties = properties.clone();
        let mut params = Vec::new();
        if let Some(token) = change_token {
            properties.set(
                prop::CHANGE_TOKEN,
                PropertyValue::String(vec![token.into()]),
            );
            // Older servers read it from the URL only.
            params.push(("changeToken", token.to_string()));
        }
        let request = self.client.put(&self.url(&href, &params)?);
        let response = self
            .execute(self.with_entry(request, &properties, None))
            .await?;
        self.object_reply(response, Some(object_id)).await
    }

    async fn move_object(
        &self,
        object_id: &str,
        target_folder_id: &str,
        source_folder_id: &str,
    ) -> Result<CmisObject> {
        let href = self.children_link(target_folder_id).await?;
        let params = [("sourceFolderId", source_folder_id.to_string())];
        let request = self.client.post(&self.url(&href, &params)?);
        self.forget(object_id);
        let response = self
            .execute(self.with_entry(request, &Self::id_entry(object_id), None))
            .await?;
        self.object_reply(response, Some(object_id)).await
    }

    async fn delete(&self, object_id: &str, all_versions: bool) -> Result<()> {
        let href = self.self_link(object_id).await?;
        let params = [("allVersions", bool_str(all_versions).to_string())];
        let result = self
            .execute(self.client.delete(&self.url(&href, &params)?))
            .await;
        self.forget(object_id);
        result.map(drop)
    }

    async fn delete_tree(
        &self,
        folder_id: &str,
        all_versions: bool,
        unfile: UnfileObjects,
        continue_on_failure: bool,
    ) -> Result<Vec<String>> {
        let href = match self
            .link(folder_id, |l| {
                l.descendants
                    .as_ref()
                    .or(l.folder_tree.as_ref())
                    .or(l.children.as_ref())
            })
            .await?
        {
            Some(href) => href,
            None => {
                return Err(CmisError::InvalidArgument(format!(
                    "{folder_id} is not a folder"
                )))
            }
        };
        let params = [
            ("allVersions", bool_str(all_versions).to_string()),
            ("unfileObjects", unfile.as_str().to_string()),
            (
                "continueOnFailure",
                bool_str(continue_on_failure).to_string(),
            ),
        ];
        let response = self
            .client
            .send(self.client.delete(&self.url(&href, &params)?))
            .await?;
        self.forget(folder_id);
        if response.status().is_success() {
            return Ok(Vec::new());
        }
        if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
            return Err(error_of(response).await);
        }
        // Partly done: what is left is what could not be deleted (3.10.4.2).
        let error = error_of(response).await;
        let Ok(left) = self.children(folder_id, &ChildrenOptions::default()).await else {
            return Err(error);
        };
        let mut ids: Vec<String> = left.objects.iter().map(|o| o.id().to_string()).collect();
        ids.push(folder_id.to_string());
        Ok(ids)
    }

    async fn add_object_to_folder(
        &self,
        object_id: &str,
        folder_id: &str,
        all_versions: bool,
    ) -> Result<()> {
        let href = self.children_link(folder_id).await?;
        let params = [("allVersions", bool_str(all_versions).to_string())];
        let request = self.client.post(&self.url(&href, &params)?);
        let response = self
            .execute(self.with_entry(request, &Self::id_entry(object_id), None))
            .await?;
        let _ = read_body(response).await;
        Ok(())
    }

    async fn remove_object_from_folder(
        &self,
        object_id: &str,
        folder_id: Option<&str>,
    ) -> Result<()> {
        let href = self.collection("unfiled")?.to_string();
        let mut params = Vec::new();
        if let Some(folder) = folder_id {
            params.push(("removeFrom", folder.to_string()));
        }
        let request = self.client.post(&self.url(&href, &params)?);
        let response = self
            .execute(self.with_entry(request, &Self::id_entry(object_id), None))
            .await?;
        let _ = read_body(response).await;
        self.forget(object_id);
        Ok(())
    }

    async fn check_out(&self, object_id: &str) -> Result<CmisObject> {
        let href = self.collection("checkedout")?.to_string();
        let request = self.client.post(&self.url(&href, &[])?);
        let response = self
            .execute(self.with_entry(request, &Self::id_entry(object_id), None))
            .await?;
        self.forget(object_id);
        self.object_reply(response, None).await
    }

    async fn cancel_check_out(&self, pwc_id: &str) -> Result<()> {
        // In this binding cancelCheckOut is a DELETE of the PWC's entry:
        // on anything else the same request deletes the document.
        let options = ReadOptions {
            filter: Some(
                "cmis:objectId,cmis:isPrivateWorkingCopy,cmis:versionSeriesCheckedOutId".into(),
            ),
            include_allowable_actions: false,
        };
        let object = self.fetch_object(pwc_id, &options, "").await?.object;
        let is_pwc = object.is_private_working_copy() == Some(true)
            || object.version_series_checked_out_id() == Some(pwc_id);
        if !is_pwc {
            return Err(CmisError::Versioning(format!(
                "{pwc_id} is not a private working copy"
            )));
        }
        let href = self.self_link(pwc_id).await?;
        let result = self
            .execute(self.client.delete(&self.url(&href, &[])?))
            .await;
        self.forget(pwc_id);
        result.map(drop)
    }

    async fn check_in(
        &self,
        pwc_id: &str,
        major: bool,
        properties: Option<&Properties>,
        content: Option<ContentUpload>,
        comment: Option<&str>,
    ) -> Result<CmisObject> {
        let href = self.edit_link(pwc_id).await?;
        let mut params = vec![
            ("checkin", "true".to_string()),
            ("major", bool_str(major).to_string()),
        ];
        if let Some(comment) = comment {
            params.push(("checkinComment", comment.to_string()));
        }
        let empty = Properties::new();
        let request = self.client.put(&self.url(&href, &params)?);
        let response = self
            .execute(self.with_entry(request, properties.unwrap_or(&empty), content))
            .await?;
        self.forget(pwc_id);
        self.object_reply(response, None).await
    }

    async fn all_versions(&self, object_id: &str) -> Result<Vec<CmisObject>> {
        let Some(href) = self.link(object_id, |l| l.version_history.as_ref()).await? else {
            // Not versionable: the object is its only version.
            let object = self
                .fetch_object(object_id, &ReadOptions::default(), "")
                .await?
                .object;
            return if object.is_document() {
                Ok(vec![object])
            } else {
                Err(CmisError::InvalidArgument(format!(
                    "{object_id} is not a document"
                )))
            };
        };
        let params = read_params(&ReadOptions::default());
        let feed = self.get_feed(&self.url(&href, &params)?).await?;
        Ok(feed.entries.into_iter().map(|e| e.object).collect())
    }

    async fn content_changes(
        &self,
        change_log_token: Option<&str>,
        include_properties: bool,
        max_items: Option<u64>,
    ) -> Result<ContentChanges> {
        let href = self
            .workspace
            .link(parse::rel::CHANGES)
            .ok_or_else(|| CmisError::NotSupported("the repository offers no change log".into()))?
            .to_string();
        let mut params = vec![
            (
                "includeProperties",
                bool_str(include_properties).to_string(),
            ),
            ("includePolicyIds", "false".to_string()),
            ("includeACL", "false".to_string()),
        ];
        if let Some(token) = change_log_token {
            params.push(("changeLogToken", token.to_string()));
        }
        if let Some(max) = max_items {
            params.push(("maxItems", max.to_string()));
        }
        let root = self.get_xml(&self.url(&href, &params)?).await?;
        let feed = parse::feed(&root)?;
        // The token of the last event: an extension element of the feed
        // (OpenCMIS), else in the next link's URL; once the log is read to
        // its end, the repository's latest token.
        let next_token = feed.link("next").and_then(|next| {
            url::Url::parse(next).ok().and_then(|u| {
                u.query_pairs()
                    .find(|(k, _)| k == "changeLogToken")
                    .map(|(_, v)| v.into_owned())
            })
        });
        let latest_change_log_token = match feed.change_log_token.clone().or(next_token) {
            Some(token) => Some(token),
            None if !feed.has_more_items => self.repository_info().await?.latest_change_log_token,
            None => None,
        };
        let mut events = Vec::new();
        for entry in feed.entries {
            let Some(change) = entry.change else {
                return Err(protocol("changes feed entry without cmis:changeEventInfo"));
            };
            events.push(ChangeEvent {
                object_id: entry.object.id().to_string(),
                change_type: change.change_type,
                change_time: change.change_time,
                properties: entry.object.properties,
            });
        }
        Ok(ContentChanges {
            events,
            has_more_items: feed.has_more_items,
            latest_change_log_token,
        })
    }

    async fn query(
        &self,
        statement: &str,
        search_all_versions: bool,
        max_items: Option<u64>,
        skip_count: u64,
    ) -> Result<ObjectList> {
        let href = self.collection("query")?.to_string();
        let body = write::query(statement, search_all_versions, max_items, skip_count);
        let response = self
            .execute(
                self.client
                    .post(&self.url(&href, &[])?)
                    .header(CONTENT_TYPE, MEDIA_QUERY)
                    .body(body),
            )
            .await?;
        let root = self
            .xml_of(response)
            .await?
            .ok_or_else(|| protocol("empty query reply"))?;
        // Query results are not objects with links: no caching.
        let feed = parse::feed(&root)?;
        Ok(ObjectList {
            has_more_items: feed.has_more_items,
            num_items: feed.num_items,
            objects: feed.entries.into_iter().map(|e| e.object).collect(),
        })
    }
}
