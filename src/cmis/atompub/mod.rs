//! CMIS AtomPub binding (XML; CMIS 1.0 and 1.1, spec chapter 3).
//!
//! The client never guesses URL layouts: it reads the service document
//! (one app:workspace per repository) and from then on follows what the
//! server hands out — the workspace's collections (root, query, checkedout,
//! unfiled), URI templates (objectbyid, objectbypath, typebyid), workspace
//! links (changes), and each entry's links (self, edit, edit-media, down,
//! up, version-history, foldertree). Service arguments travel as query
//! parameters, CMIS data as Atom entries (`write`), replies are parsed into
//! the typed model (`parse`, over the tiny XML tree of `xml`).
//!
//! Most services need a link of the object they act on. A bounded cache
//! maps object id → links, filled from every entry the binding reads
//! (children feeds included), so e.g. listing a folder just read costs one
//! request. Entries are dropped on delete and move; a cached entry lacking
//! a link is re-read once before the binding concludes the link is absent.
//!
//! Content goes as raw bytes to edit-media (setContentStream, and in CMIS
//! 1.1 appendContentStream with `append=true`), or base64 in cmisra:content
//! of a POSTed/PUT entry (createDocument, checkIn) — streamed in both cases.
//! Errors map by HTTP status (3.2.3.1), refined by the exception name
//! OpenCMIS-style servers write into the error page (409 alone is
//! ambiguous).

mod parse;
mod write;
mod xml;

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use async_trait::async_trait;
use futures_util::TryStreamExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{
    HeaderMap, ACCEPT, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_LOCATION, CONTENT_RANGE,
    CONTENT_TYPE, LOCATION, RANGE,
};
use reqwest::{Body, RequestBuilder, Response, StatusCode};
use tracing::debug;

use super::error::{CmisError, Result};
use super::http::{transport_error, HttpClient};
use super::model::*;
use super::Binding;
use parse::{protocol, Entry, ObjectLinks, Workspace};
use xml::{Element, ATOM};

const MEDIA_ENTRY: &str = "application/atom+xml;type=entry";
const MEDIA_SERVICE: &str = "application/atomsvc+xml";
const MEDIA_QUERY: &str = "application/cmisquery+xml";
const ACCEPT_XML: &str =
    "application/atom+xml, application/atomsvc+xml;q=0.9, application/xml;q=0.8, */*;q=0.1";

/// Metadata replies larger than this are refused (content never counts).
const MAX_XML_BYTES: usize = 64 << 20;
/// Objects whose links are remembered.
const LINK_CACHE_SIZE: usize = 4096;

/// RFC 3986 unreserved characters stay, everything else is escaped
/// (URI template values, 3.7.1.1).
const TEMPLATE_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Object id → links, bounded, oldest out first.
#[derive(Default)]
struct LinkCache {
    map: HashMap<String, ObjectLinks>,
    order: VecDeque<String>,
}

impl LinkCache {
    fn get(&self, id: &str) -> Option<ObjectLinks> {
        self.map.get(id).cloned()
    }

    fn put(&mut self, id: &str, links: ObjectLinks) {
        if self.map.insert(id.to_string(), links).is_none() {
            self.order.push_back(id.to_string());
            while self.order.len() > LINK_CACHE_SIZE {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }

    fn remove(&mut self, id: &str) {
        if self.map.remove(id).is_some() {
            self.order.retain(|k| k != id);
        }
    }
}

/// The AtomPub binding for one repository.
pub struct AtomPubBinding {
    client: HttpClient,
    service_url: String,
    repository_id: String,
    workspace: Workspace,
    links: Mutex<LinkCache>,
}

/// Reads a metadata body, bounded.
async fn read_body(mut response: Response) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_XML_BYTES {
            return Err(protocol(format!(
                "reply larger than {} MiB",
                MAX_XML_BYTES >> 20
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// The CMIS error an unsuccessful reply stands for.
async fn error_of(response: Response) -> CmisError {
    let status = response.status().as_u16();
    let url = strip_query(response.url().as_str()).to_string();
    let body = HttpClient::error_body(response).await;
    let excerpt = parse::error_excerpt(&body);
    match parse::error_body(&body) {
        Some((name, message)) => {
            let message = if message.is_empty() { excerpt } else { message };
            CmisError::from_exception(name, message)
        }
        None => {
            let message = if excerpt.is_empty() {
                format!("HTTP {status} from {url}")
            } else {
                excerpt
            };
            CmisError::from_http_status(status, &url, message)
        }
    }
}

fn parse_xml(body: &[u8], url: &str) -> Result<Element> {
    xml::parse(body).map_err(|e| protocol(format!("{}: {e}", strip_query(url))))
}

/// Fills a URI template; variables without a value become empty (3.7.1.1).
fn fill_template(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &rest[open + 1..open + close];
        let value = vars
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .unwrap_or("");
        out.extend(utf8_percent_encode(value, TEMPLATE_VALUE));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn bool_str(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// `attachment; filename=...` with an RFC 6266/5987 UTF-8 form for
/// non-ASCII names.
fn content_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = utf8_percent_encode(file_name, TEMPLATE_VALUE);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The file name of a Content-Disposition header, if any.
fn disposition_file_name(value: &str) -> Option<String> {
    let mut plain = None;
    for part in value.split(';').map(str::trim) {
        if let Some(v) = part.strip_prefix("filename*=") {
            let v = v.trim_matches('"');
            if let Some(enc) = v
                .strip_prefix("UTF-8''")
                .or_else(|| v.strip_prefix("utf-8''"))
            {
                if let Ok(s) = percent_encoding::percent_decode_str(enc).decode_utf8() {
                    return Some(s.into_owned());
                }
            }
        } else if let Some(v) = part.strip_prefix("filename=") {
            plain = Some(v.trim_matches('"').to_string());
        }
    }
    plain
}

/// `bytes START-END/TOTAL` → START.
fn content_range_start(headers: &HeaderMap) -> Option<u64> {
    let v = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let v = v.trim().strip_prefix("bytes")?.trim_start();
    v.split('-').next()?.trim().parse().ok()
}

fn header_str(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Everything about a read request the URIs carry.
fn read_params(options: &ReadOptions) -> Vec<(&'static str, String)> {
    vec![
        (
            "filter",
            options.filter.clone().unwrap_or_else(|| "*".into()),
        ),
        (
            "includeAllowableActions",
            bool_str(options.include_allowable_actions).into(),
        ),
        ("includeRelationships", "none".into()),
        ("renditionFilter", "cmis:none".into()),
        ("includePolicyIds", "false".into()),
        ("includeACL", "false".into()),
    ]
}

impl AtomPubBinding {
    /// GET on the service URL: the repositories it serves.
    pub async fn discover(client: &HttpClient, url: &str) -> Result<Vec<RepositoryInfo>> {
        Ok(fetch_service(client, url)
            .await?
            .into_iter()
            .map(|w| w.info)
            .collect())
    }

    /// A binding for one repository of the service at `url`.
    pub async fn open(client: HttpClient, url: &str, repository_id: &str) -> Result<Self> {
        let workspace = fetch_service(&client, url)
            .await?
            .into_iter()
            .find(|w| w.info.id == repository_id)
            .ok_or_else(|| {
                CmisError::NoRepository(format!("no repository with id '{repository_id}' at {url}"))
            })?;
        Ok(AtomPubBinding {
            client,
            service_url: url.to_string(),
            repository_id: repository_id.to_string(),
            workspace,
            links: Mutex::new(LinkCache::default()),
        })
    }

    fn is_cmis10(&self) -> bool {
        self.workspace.info.cmis_version_supported.trim() == "1.0"
    }

    // ----- plumbing -----

    /// An absolute URL from a server link plus extra query parameters.
    fn url(&self, href: &str, params: &[(&str, String)]) -> Result<String> {
        let mut url = match url::Url::parse(href) {
            Ok(u) => u,
            Err(url::ParseError::RelativeUrlWithoutBase) => url::Url::parse(&self.service_url)
                .and_then(|base| base.join(href))
                .map_err(|e| protocol(format!("invalid link '{href}': {e}")))?,
            Err(e) => return Err(protocol(format!("invalid link '{href}': {e}"))),
        };
        if !params.is_empty() {
            let mut query = url.query_pairs_mut();
            for (k, v) in params {
                query.append_pair(k, v);
            }
        }
        Ok(url.into())
    }

    fn template(&self, kind: &str) -> Result<&str> {
        self.workspace
            .templates
            .get(kind)
            .map(String::as_str)
            .ok_or_else(|| {
                CmisError::NotSupported(format!(
                    "the service document has no '{kind}' URI template"
                ))
            })
    }

    fn collection(&self, kind: &str) -> Result<&str> {
        self.workspace
            .collections
            .get(kind)
            .map(String::as_str)
            .ok_or_else(|| {
                CmisError::NotSupported(format!("the service document has no '{kind}' collection"))
            })
    }

    /// Sends; a non-2xx reply becomes its CMIS error.
    async fn execute(&self, request: RequestBuilder) -> Result<Response> {
        let response = self.client.send(request).await?;
        debug!(
            status = response.status().as_u16(),
            url = strip_query(response.url().as_str()),
            "atompub reply"
        );
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(error_of(response).await)
        }
    }

    /// The XML document of a reply; `None` for an empty body.
    async fn xml_of(&self, response: Response) -> Result<Option<Element>> {
        let url = response.url().to_string();
        let body = read_body(response).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        parse_xml(&body, &url).map(Some)
    }

    async fn get_xml(&self, url: &str) -> Result<Element> {
        let response = self
            .execute(self.client.get(url).header(ACCEPT, ACCEPT_XML))
            .await?;
        self.xml_of(response)
            .await?
            .ok_or_else(|| protocol(format!("{}: empty reply", strip_query(url))))
    }

    fn remember(&self, entry: &Entry) {
        let id = entry.object.id();
        if !id.is_empty() {
            if let Ok(mut cache) = self.links.lock() {
                cache.put(id, entry.links.clone());
            }
        }
    }

    fn forget(&self, id: &str) {
        if let Ok(mut cache) = self.links.lock() {
            cache.remove(id);
        }
    }

    fn entry_of(&self, root: &Element) -> Result<Entry> {
        let entry = parse::entry(root)?;
        self.remember(&entry);
        Ok(entry)
    }

    fn feed_of(&self, root: &Element) -> Result<parse::Feed> {
        let feed = parse::feed(root)?;
        for entry in &feed.entries {
            self.remember(entry);
        }
        Ok(feed)
    }

    async fn get_entry(&self, url: &str) -> Result<Entry> {
        let root = self.get_xml(url).await?;
        self.entry_of(&root)
    }

    async fn get_feed(&self, url: &str) -> Result<parse::Feed> {
        let root = self.get_xml(url).await?;
        self.feed_of(&root)
    }

    /// getObject through the objectbyid template.
    async fn fetch_object(
        &self,
        id: &str,
        options: &ReadOptions,
        return_version: &str,
    ) -> Result<Entry> {
        let params = read_params(options);
        let mut vars: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        vars.push(("id", id));
        vars.push(("returnVersion", return_version));
        let url = self.url(&fill_template(self.template("objectbyid")?, &vars), &[])?;
        let entry = self.get_entry(&url).await?;
        if entry.object.id() != id {
            if let Ok(mut cache) = self.links.lock() {
                cache.put(id, entry.links.clone());
            }
        }
        Ok(entry)
    }

    /// A link of an object: from the cache, else (or when the cached
    /// entry lacks it) from a fresh read.
    async fn link(
        &self,
        id: &str,
        pick: impl Fn(&ObjectLinks) -> Option<&String>,
    ) -> Result<Option<String>> {
        let cached = self.links.lock().ok().and_then(|c| c.get(id));
        if let Some(href) = cached.as_ref().and_then(&pick) {
            return Ok(Some(href.clone()));
        }
        let options = ReadOptions {
            filter: Some("cmis:objectId,cmis:baseTypeId".into()),
            include_allowable_actions: false,
        };
        let entry = self.fetch_object(id, &options, "").await?;
        Ok(pick(&entry.links).cloned())
    }

    async fn self_link(&self, id: &str) -> Result<String> {
        self.link(id, |l| l.self_.as_ref().or(l.edit.as_ref()))
            .await?
            .ok_or_else(|| protocol(format!("the entry of {id} has no self link")))
    }

    async fn edit_link(&self, id: &str) -> Result<String> {
        self.link(id, |l| l.edit.as_ref().or(l.self_.as_ref()))
            .await?
            .ok_or_else(|| protocol(format!("the entry of {id} has no edit link")))
    }

    async fn children_link(&self, folder_id: &str) -> Result<String> {
        self.link(folder_id, |l| l.children.as_ref())
            .await?
            .ok_or_else(|| CmisError::InvalidArgument(format!("{folder_id} is not a folder")))
    }

    /// The object a write reply stands for: the entry in its body, else
    /// the entry its Location header names, else `fallback_id` re-read.
    async fn object_reply(
        &self,
        response: Response,
        fallback_id: Option<&str>,
    ) -> Result<CmisObject> {
        let headers = response.headers().clone();
        if let Some(root) = self.xml_of(response).await? {
            if root.is(ATOM, "entry") {
                return Ok(self.entry_of(&root)?.object);
            }
        }
        let location =
            header_str(&headers, CONTENT_LOCATION).or_else(|| header_str(&headers, LOCATION));
        if let Some(location) = location {
            if let Some(entry) = self.entry_at(&location).await? {
                return Ok(entry.object);
            }
        }
        match fallback_id {
            Some(id) => Ok(self
                .fetch_object(id, &ReadOptions::default(), "")
                .await?
                .object),
            None => Err(protocol("the server answered without the object's entry")),
        }
    }

    /// The entry a Location header names; `None` when it names something
    /// else (a content stream: not downloaded).
    async fn entry_at(&self, location: &str) -> Result<Option<Entry>> {
        let url = self.url(location, &[])?;
        let response = self
            .execute(self.client.get(&url).header(ACCEPT, ACCEPT_XML))
            .await?;
        let content_type = header_str(response.headers(), CONTENT_TYPE).unwrap_or_default();
        if !content_type.contains("xml") {
            return Ok(None);
        }
        match self.xml_of(response).await? {
            Some(root) if root.is(ATOM, "entry") => Ok(Some(self.entry_of(&root)?)),
            _ => Ok(None),
        }
    }

    /// The object a create made. The spec has the reply carry its entry;
    /// where a server sends neither entry nor Location, it is looked up by
    /// the parent's path and the name.
    async fn created(
        &self,
        response: Response,
        parent_id: Option<&str>,
        properties: &Properties,
    ) -> Result<CmisObject> {
        match self.object_reply(response, None).await {
            Err(CmisError::Protocol { message }) => {
                let (Some(parent), Some(name)) = (parent_id, properties.str(prop::NAME)) else {
                    return Err(CmisError::Protocol { message });
                };
                let options = ReadOptions::default();
                let folder = self.fetch_object(parent, &options, "").await?.object;
                let path = match folder.path() {
                    Some("/") => format!("/{name}"),
                    Some(p) => format!("{p}/{name}"),
                    None => return Err(CmisError::Protocol { message }),
                };
                self.object_by_path(&path, &options).await
            }
            other => other,
        }
    }

    /// A request with an entry body, content streamed inside it.
    fn with_entry(
        &self,
        request: RequestBuilder,
        properties: &Properties,
        content: Option<ContentUpload>,
    ) -> RequestBuilder {
        let request = request.header(CONTENT_TYPE, MEDIA_ENTRY);
        match content {
            None => request.body(write::entry(properties)),
            Some(content) => {
                let file_name = (!self.is_cmis10()).then_some(content.file_name.as_str());
                let (head, tail) =
                    write::entry_with_content(properties, &content.mime_type, file_name);
                let length = content
                    .length
                    .map(|n| head.len() as u64 + write::base64_len(n) + tail.len() as u64);
                let request = match length {
                    Some(n) => request.header(CONTENT_LENGTH, n),
                    None => request,
                };
                request.body(Body::wrap_stream(write::entry_stream(
                    head,
                    content.body,
                    tail,
                )))
            }
        }
    }

    /// PUT of raw content to edit-media, then the object re-read.
    async fn put_content(
        &self,
        object_id: &str,
        content: ContentUpload,
        params: Vec<(&str, String)>,
    ) -> Result<CmisObject> {
        let href = self
            .link(object_id, |l| l.edit_media.as_ref())
            .await?
            .ok_or_else(|| {
                CmisError::Constraint(format!(
                    "the content of {object_id} cannot be set (no edit-media link)"
                ))
            })?;
        let url = self.url(&href, &params)?;
        let mut request = self
            .client
            .put(&url)
            .header(CONTENT_TYPE, content.mime_type.as_str())
            .header(CONTENT_DISPOSITION, content_disposition(&content.file_name));
        if let Some(n) = content.length {
            request = request.header(CONTENT_LENGTH, n);
        }
        let response = self
            .execute(request.body(Body::wrap_stream(content.body)))
            .await?;
        self.reread_after(response, object_id).await
    }

    /// After a write whose reply is no entry: the Location the server
    /// named (the id may have changed), else the object by id.
    async fn reread_after(&self, response: Response, object_id: &str) -> Result<CmisObject> {
        let headers = response.headers().clone();
        let _ = read_body(response).await;
        let location =
            header_str(&headers, LOCATION).or_else(|| header_str(&headers, CONTENT_LOCATION));
        if let Some(location) = location {
            if let Ok(Some(entry)) = self.entry_at(&location).await {
                return Ok(entry.object);
            }
        }
        Ok(self
            .fetch_object(object_id, &ReadOptions::default(), "")
            .await?
            .object)
    }

    fn id_entry(object_id: &str) -> Properties {
        Properties::new().with_id(prop::OBJECT_ID, object_id)
    }
}

/// GET and parse a service document.
async fn fetch_service(client: &HttpClient, url: &str) -> Result<Vec<Workspace>> {
    let response = client
        .send(client.get(url).header(
            ACCEPT,
            format!("{MEDIA_SERVICE}, application/xml;q=0.9, */*;q=0.1"),
        ))
        .await?;
    let status = response.status();
    if !status.is_success() {
        let body = HttpClient::error_body(response).await;
        return Err(match parse::error_body(&body) {
            // A CMIS server refusing: say what it said.
            Some((name, message)) => match CmisError::from_exception(name, message) {
                e @ CmisError::PermissionDenied(_) => e,
                e => protocol(format!(
                    "{url} is not an AtomPub service document (HTTP {}: {e})",
                    status.as_u16()
                )),
            },
            None => protocol(format!(
                "{url} is not an AtomPub service document (HTTP {})",
                status.as_u16()
            )),
        });
    }
    let content_type = header_str(response.headers(), CONTENT_TYPE).unwrap_or_default();
    let body = read_body(response).await?;
    let root = xml::parse(&body).map_err(|e| {
        protocol(format!(
            "{url} did not answer with an AtomPub service document (Content-Type '{content_type}': {e})"
        ))
    })?;
    parse::service_document(&root).map_err(|e| {
        protocol(format!(
            "{url}: {}",
            e.to_string()
                .trim_start_matches("malformed reply from the server: ")
        ))
    })
}

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

#[cfg(test)]
mod tests;
