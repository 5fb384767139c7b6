//! CMIS Browser binding client (JSON over HTTP, CMIS 1.1 chapter 5).
//!
//! Addressing: the service URL lists the repositories; each carries a
//! `repositoryUrl` (types, query, change log, unfiled creates) and a
//! `rootFolderUrl`. An object is addressed as `rootFolderUrl?objectId=ID`
//! or by path, `rootFolderUrl/a/b` with each name percent-encoded. Reads
//! are GETs with a `cmisselector`; changes are POSTs of a
//! multipart/form-data form whose `cmisaction` names the service, with the
//! content (when there is one) as the last part, streamed.
//!
//! Replies are JSON; errors are `{"exception", "message"}` objects (or, from
//! proxies and broken servers, anything else, mapped by HTTP status). JSON
//! parsing lives in [`json`].
//!
//! Object ids are opaque: they go back to the server exactly as received.

use async_trait::async_trait;
use futures_util::TryStreamExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{
    HeaderMap, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE,
};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::Value;
use url::Url;

mod form;
pub mod json;

use form::{bool_str, Form};

use super::error::{CmisError, Result};
use super::http::HttpClient;
use super::model::*;
use super::Binding;
use json::RepositoryEntry;

/// Largest JSON reply we read; a bigger one is a broken or hostile server.
const MAX_JSON_BYTES: usize = 64 * 1024 * 1024;

/// Everything but the unreserved characters is escaped in a path segment,
/// so that `+`, `&`, `;`, quotes etc. in a name survive any server's
/// decoding.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub struct BrowserBinding {
    client: HttpClient,
    repository_id: String,
    repository_url: Url,
    root_folder_url: Url,
}

impl BrowserBinding {
    /// GET on the service URL: the repositories it serves.
    pub async fn discover(client: &HttpClient, url: &str) -> Result<Vec<RepositoryInfo>> {
        Ok(fetch_repositories(client, url)
            .await?
            .into_iter()
            .map(|e| e.info)
            .collect())
    }

    /// A binding for one repository of the service at `url`.
    pub async fn open(client: HttpClient, url: &str, repository_id: &str) -> Result<Self> {
        let service = parse_url(url)?;
        let entries = fetch_repositories(&client, url).await?;
        let entry = entries
            .into_iter()
            .find(|e| e.info.id == repository_id)
            .ok_or_else(|| {
                CmisError::NoRepository(format!("{url} has no repository '{repository_id}'"))
            })?;
        // The spec requires both URLs; derive the usual layout if missing.
        let repository_url = match &entry.repository_url {
            Some(u) => parse_url(u)?,
            None => join_segment(&service, repository_id)?,
        };
        let root_folder_url = match &entry.root_folder_url {
            Some(u) => parse_url(u)?,
            None => join_segment(&repository_url, "root")?,
        };
        tracing::debug!(%repository_url, %root_folder_url, "browser binding opened");
        Ok(BrowserBinding {
            client,
            repository_id: repository_id.to_string(),
            repository_url,
            root_folder_url,
        })
    }

    /// `rootFolderUrl?objectId=ID&cmisselector=SEL`.
    fn object_url(&self, object_id: &str, selector: &str) -> Url {
        let mut url = self.root_folder_url.clone();
        url.query_pairs_mut()
            .append_pair("objectId", object_id)
            .append_pair("cmisselector", selector);
        url
    }

    /// `repositoryUrl?cmisselector=SEL`.
    fn repository_selector_url(&self, selector: &str) -> Url {
        let mut url = self.repository_url.clone();
        url.query_pairs_mut().append_pair("cmisselector", selector);
        url
    }

    /// `rootFolderUrl/a/b` for the absolute path `/a/b`.
    fn path_url(&self, path: &str) -> Result<Url> {
        if !path.starts_with('/') {
            return Err(CmisError::InvalidArgument(format!(
                "path '{path}' is not absolute"
            )));
        }
        let mut text = self.root_folder_url.as_str().to_string();
        if let Some(q) = text.find('?') {
            text.truncate(q);
        }
        let base = text.trim_end_matches('/').to_string();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // URL parsers resolve `.` and `..` (even as %2E), which would
        // address another object: such names are reachable by id only.
        if segments.iter().any(|s| *s == "." || *s == "..") {
            return Err(CmisError::InvalidArgument(format!(
                "path '{path}' has a '.' or '..' name, which a URL cannot carry; use the object id"
            )));
        }
        let encoded: Vec<String> = segments
            .iter()
            .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
            .collect();
        let full = if encoded.is_empty() {
            self.root_folder_url.as_str().to_string()
        } else {
            format!("{base}/{}", encoded.join("/"))
        };
        let mut url = parse_url(&full)?;
        if let Some(q) = self.root_folder_url.query() {
            url.set_query(Some(q));
        }
        Ok(url)
    }

    /// GET returning JSON, within the metadata timeout.
    async fn get_json(&self, url: Url) -> Result<Value> {
        tracing::debug!(url = %strip_query(&url), query = url.query().unwrap_or(""), "GET");
        let request = self.client.get(url.as_str()).timeout(self.client.timeout);
        let response = self.client.send(request).await?;
        read_json(response).await
    }

    /// POST of a form (no content): the metadata timeout applies.
    async fn post(&self, url: Url, form: Form) -> Result<Value> {
        self.send_form(url, form, None, true).await
    }

    /// POST of a form with optional content as its last part. With
    /// content there is no overall timeout: a large upload takes as long
    /// as it takes (the read timeout still catches a server that stops
    /// answering).
    async fn post_maybe_content(
        &self,
        url: Url,
        form: Form,
        content: Option<ContentUpload>,
    ) -> Result<Value> {
        let timed = content.is_none();
        self.send_form(url, form, content, timed).await
    }

    async fn post_content(&self, url: Url, form: Form, content: ContentUpload) -> Result<Value> {
        self.send_form(url, form, Some(content), false).await
    }

    async fn send_form(
        &self,
        url: Url,
        form: Form,
        content: Option<ContentUpload>,
        timed: bool,
    ) -> Result<Value> {
        tracing::debug!(
            url = %strip_query(&url),
            action = %form.action,
            content_length = ?content.as_ref().map(|c| c.length),
            "POST"
        );
        let body = form.into_body(content);
        let mut request = self
            .client
            .post(url.as_str())
            .header(CONTENT_TYPE, body.content_type);
        if let Some(len) = body.length {
            // Known length: Content-Length instead of chunked encoding
            // (some servers refuse chunked uploads).
            request = request.header(CONTENT_LENGTH, len);
        }
        if timed {
            request = request.timeout(self.client.timeout);
        }
        let request = request.body(reqwest::Body::wrap_stream(body.body));
        let response = self.client.send(request).await?;
        read_json_or_empty(response).await
    }

    /// The object a change returned, or the object re-read when the reply
    /// carries none (see [`Reread`]).
    async fn changed_object(
        &self,
        reply: Value,
        object_id: &str,
        reread: Reread,
    ) -> Result<CmisObject> {
        if reply.get("properties").is_some() || reply.get("succinctProperties").is_some() {
            return json::parse_object(&reply);
        }
        tracing::debug!(object_id, ?reread, "no object in the reply: reading it");
        let read = |latest: bool| {
            let mut url = self.object_url(object_id, "object");
            if latest {
                url.query_pairs_mut().append_pair("returnVersion", "latest");
            }
            add_read_options(&mut url, &ReadOptions::default());
            async move { json::parse_object(&self.get_json(url).await?) }
        };
        match reread {
            Reread::Same => read(false).await,
            Reread::Latest => read(true).await,
            Reread::SameOrNewVersion => {
                let object = read(false).await?;
                // An old version now: the change made a new one. (A PWC is
                // never the latest version, and stays what we changed.)
                if object.is_latest_version() == Some(false)
                    && object.is_private_working_copy() != Some(true)
                {
                    read(true).await
                } else {
                    Ok(object)
                }
            }
        }
    }
}

impl BrowserBinding {
    /// The object a create returned or, when the reply holds none, the
    /// object found by its parent's path and its name.
    async fn created_object(
        &self,
        reply: Value,
        parent_id: Option<&str>,
        properties: &Properties,
    ) -> Result<CmisObject> {
        if !reply.is_null() {
            return json::parse_object(&reply);
        }
        let (Some(parent_id), Some(name)) = (parent_id, properties.str(prop::NAME)) else {
            return Err(CmisError::Protocol {
                message: "the create answered no object, and it cannot be found by path".into(),
            });
        };
        tracing::debug!(
            parent_id,
            "no object in the create reply: reading it by path"
        );
        let parent = self.object(parent_id, &ReadOptions::default()).await?;
        let parent_path = parent.path().ok_or_else(|| CmisError::Protocol {
            message: "the create answered no object, and its folder has no path".into(),
        })?;
        let path = format!("{}/{name}", parent_path.trim_end_matches('/'));
        self.object_by_path(&path, &ReadOptions::default()).await
    }
}

/// How to find the object after a change whose reply did not include it.
#[derive(Debug, Clone, Copy)]
enum Reread {
    /// The id still names it (updateProperties, move).
    Same,
    /// The id may now name an older version (content changes on servers
    /// that version automatically).
    SameOrNewVersion,
    /// The id is gone or old: ask for the latest version (checkIn).
    Latest,
}

/// GET on the service URL, with errors that say what came back instead of
/// a CMIS repository list.
async fn fetch_repositories(client: &HttpClient, url: &str) -> Result<Vec<RepositoryEntry>> {
    let parsed = parse_url(url)?;
    let request = client.get(parsed.as_str()).timeout(client.timeout);
    let response = client.send(request).await?;
    let status = response.status();
    let content_type = header_str(response.headers(), CONTENT_TYPE).unwrap_or_default();
    let not_cmis = |what: &str| CmisError::Protocol {
        message: format!(
            "{}: got {what}, not a CMIS Browser binding reply",
            strip_query(&parsed)
        ),
    };
    // Only JSON (or an untyped or text reply) can be CMIS; anything else
    // is not read, however big it is.
    let maybe_json = content_type.is_empty()
        || content_type.contains("json")
        || content_type.starts_with("text/plain");
    let body = if maybe_json {
        read_body(response).await?
    } else {
        Vec::new()
    };
    let value: Option<Value> = serde_json::from_slice(&body).ok();
    if let Some(e) = value.as_ref().and_then(json::parse_exception) {
        return Err(e);
    }
    if !status.is_success() {
        return Err(match status.as_u16() {
            // Credentials refused, or a proxy whose server is down: say so.
            // Anything else without a CMIS error body is not CMIS.
            403 | 502..=504 => {
                CmisError::from_http_status(status.as_u16(), &strip_query(&parsed), snippet(&body))
            }
            code => not_cmis(&format!("HTTP {code} ({})", describe_type(&content_type))),
        });
    }
    let Some(value) = value else {
        return Err(not_cmis(&describe_type(&content_type)));
    };
    json::parse_repositories(&value)
        .map_err(|e| not_cmis(&format!("JSON that is not a repository list ({e})")))
}

fn describe_type(content_type: &str) -> String {
    match content_type.split(';').next().map(str::trim) {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => "a reply without a content type".to_string(),
    }
}

fn parse_url(url: &str) -> Result<Url> {
    Url::parse(url).map_err(|e| CmisError::InvalidArgument(format!("invalid URL '{url}': {e}")))
}

fn join_segment(base: &Url, segment: &str) -> Result<Url> {
    let mut text = base.as_str().split('?').next().unwrap_or("").to_string();
    if !text.ends_with('/') {
        text.push('/');
    }
    text.push_str(&utf8_percent_encode(segment, SEGMENT).to_string());
    parse_url(&text)
}

fn strip_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

fn header_str(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A short, printable piece of an error body (HTML pages are long).
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(300).collect();
    if one_line.chars().count() > 300 {
        out.push('…');
    }
    out
}

/// The whole body, bounded.
async fn read_body(mut response: Response) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_JSON_BYTES {
            return Err(CmisError::Protocol {
                message: format!("reply larger than {MAX_JSON_BYTES} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn transport(e: reqwest::Error) -> CmisError {
    super::http::transport_error(e)
}

/// The error a failed request stands for (its body read up to 64 KiB).
async fn error_from(response: Response) -> CmisError {
    let status = response.status().as_u16();
    let url = strip_query(response.url());
    let body = HttpClient::error_body(response).await;
    if let Some(e) = serde_json::from_str::<Value>(&body)
        .ok()
        .as_ref()
        .and_then(json::parse_exception)
    {
        return e;
    }
    let message = match snippet(body.as_bytes()) {
        s if s.is_empty() => format!("HTTP {status} from {url}"),
        s => s,
    };
    CmisError::from_http_status(status, &url, message)
}

/// A JSON reply, or the error it stands for.
async fn read_json(response: Response) -> Result<Value> {
    let value = read_json_or_empty(response).await?;
    if value.is_null() {
        return Err(CmisError::Protocol {
            message: "empty reply where JSON was expected".into(),
        });
    }
    Ok(value)
}

/// Like [`read_json`], but an empty body is `Value::Null` (delete,
/// cancelCheckOut and friends answer nothing).
async fn read_json_or_empty(response: Response) -> Result<Value> {
    if !response.status().is_success() {
        return Err(error_from(response).await);
    }
    let content_type = header_str(response.headers(), CONTENT_TYPE).unwrap_or_default();
    let body = read_body(response).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let value: Value = serde_json::from_slice(&body).map_err(|e| CmisError::Protocol {
        message: format!(
            "got {} that is not JSON ({e}): {}",
            describe_type(&content_type),
            snippet(&body)
        ),
    })?;
    // suppressResponseCodes-style errors arrive with 200.
    if let Some(e) = json::parse_exception(&value) {
        return Err(e);
    }
    Ok(value)
}

fn add_read_options(url: &mut Url, options: &ReadOptions) {
    let mut q = url.query_pairs_mut();
    q.append_pair("succinct", "false");
    q.append_pair("filter", options.filter.as_deref().unwrap_or("*"));
    q.append_pair(
        "includeAllowableActions",
        bool_str(options.include_allowable_actions),
    );
    q.append_pair("includeRelationships", "none");
    q.append_pair("includePolicyIds", "false");
    q.append_pair("includeACL", "false");
    q.append_pair("renditionFilter", "cmis:none");
}

/// `bytes START-END/TOTAL` → START.
fn parse_content_range(value: &str) -> Option<u64> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, _total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    start.trim().parse().ok()
}

/// The file name of a `Content-Disposition` header (`filename*=UTF-8''…`
/// preferred over `filename="…"`).
fn content_disposition_file_name(value: &str) -> Option<String> {
    let mut plain = None;
    for param in value.split(';').map(str::trim) {
        let Some((key, val)) = param.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                let val = val.trim().trim_matches('"');
                let encoded = val.split_once("''").map(|(_, v)| v).unwrap_or(val);
                if let Ok(decoded) = percent_encoding::percent_decode_str(encoded).decode_utf8() {
                    return Some(decoded.into_owned());
                }
            }
            "filename" => plain = Some(val.trim().trim_matches('"').to_string()),
            _ => {}
        }
    }
    plain.filter(|s| !s.is_empty())
}

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
        let reply = self
            .post_content(self.root_folder_url.clone(), form, content)
            .await?;
        self.changed_object(reply, object_id, Reread::SameOrNewVersion)
            .await
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
        let reply = self
            .post_content(self.root_folder_url.clone(), form, content)
            .await?;
        self.changed_object(reply, object_id, Reread::SameOrNewVersion)
            .await
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

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> BrowserBinding {
        BrowserBinding {
            client: HttpClient::new(&Default::default()).unwrap(),
            repository_id: "A1".into(),
            repository_url: Url::parse("http://h/cmis/browser/A1").unwrap(),
            root_folder_url: Url::parse("http://h/cmis/browser/A1/root").unwrap(),
        }
    }

    #[test]
    fn paths_are_percent_encoded_per_segment() {
        let b = binding();
        assert_eq!(
            b.path_url("/").unwrap().as_str(),
            "http://h/cmis/browser/A1/root"
        );
        assert_eq!(
            b.path_url("/a b/c#d?e+f&g%h'\"ü").unwrap().as_str(),
            "http://h/cmis/browser/A1/root/a%20b/c%23d%3Fe%2Bf%26g%25h%27%22%C3%BC"
        );
        assert!(b.path_url("relative").is_err());
        assert!(b.path_url("/a/../b").is_err());
        assert!(b.path_url("/a/.").is_err());
        assert!(b.path_url("/a/.../b").is_ok());
    }

    #[test]
    fn object_urls_encode_ids() {
        let b = binding();
        let u = b.object_url("abc;1.0&x=y", "object");
        let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
        assert_eq!(pairs[0], ("objectId".into(), "abc;1.0&x=y".into()));
        assert_eq!(pairs[1], ("cmisselector".into(), "object".into()));
    }

    #[test]
    fn content_headers() {
        assert_eq!(parse_content_range("bytes 10-19/100"), Some(10));
        assert_eq!(parse_content_range("bytes 0-0/*"), Some(0));
        assert_eq!(parse_content_range("garbage"), None);
        assert_eq!(
            content_disposition_file_name("inline; filename=\"a b.txt\"").as_deref(),
            Some("a b.txt")
        );
        assert_eq!(
            content_disposition_file_name("attachment; filename=x; filename*=UTF-8''%C3%BC.txt")
                .as_deref(),
            Some("ü.txt")
        );
        assert_eq!(content_disposition_file_name("inline"), None);
    }
}
