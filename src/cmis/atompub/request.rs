//! Requests and replies: URLs, parameters, headers, errors by status, XML into entries and feeds.

use reqwest::header::{HeaderMap, ACCEPT, CONTENT_RANGE};
use reqwest::{RequestBuilder, Response};
use tracing::debug;

use super::parse::{self, protocol, Entry};
use super::xml::{self, Element};
use super::{AtomPubBinding, ACCEPT_XML};
use crate::cmis::error::{CmisError, Result};
use crate::cmis::http::{transport_error, HttpClient};
use crate::cmis::model::*;

/// Metadata replies larger than this are refused (content never counts).
const MAX_XML_BYTES: usize = 64 << 20;

/// Reads a metadata body, bounded.
pub(super) async fn read_body(mut response: Response) -> Result<Vec<u8>> {
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
pub(super) async fn error_of(response: Response) -> CmisError {
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

pub(super) fn parse_xml(body: &[u8], url: &str) -> Result<Element> {
    xml::parse(body).map_err(|e| protocol(format!("{}: {e}", strip_query(url))))
}

pub(super) fn bool_str(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// The file name of a Content-Disposition header, if any.
pub(super) fn disposition_file_name(value: &str) -> Option<String> {
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
pub(super) fn content_range_start(headers: &HeaderMap) -> Option<u64> {
    let v = headers.get(CONTENT_RANGE)?.to_str().ok()?;
    let v = v.trim().strip_prefix("bytes")?.trim_start();
    v.split('-').next()?.trim().parse().ok()
}

pub(super) fn header_str(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Everything about a read request the URIs carry.
pub(super) fn read_params(options: &ReadOptions) -> Vec<(&'static str, String)> {
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
    /// An absolute URL from a server link plus extra query parameters.
    pub(super) fn url(&self, href: &str, params: &[(&str, String)]) -> Result<String> {
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

    /// Sends; a non-2xx reply becomes its CMIS error.
    pub(super) async fn execute(&self, request: RequestBuilder) -> Result<Response> {
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
    pub(super) async fn xml_of(&self, response: Response) -> Result<Option<Element>> {
        let url = response.url().to_string();
        let body = read_body(response).await?;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        parse_xml(&body, &url).map(Some)
    }

    pub(super) async fn get_xml(&self, url: &str) -> Result<Element> {
        let response = self
            .execute(self.client.get(url).header(ACCEPT, ACCEPT_XML))
            .await?;
        self.xml_of(response)
            .await?
            .ok_or_else(|| protocol(format!("{}: empty reply", strip_query(url))))
    }

    pub(super) fn entry_of(&self, root: &Element) -> Result<Entry> {
        let entry = parse::entry(root)?;
        self.remember(&entry);
        Ok(entry)
    }

    pub(super) fn feed_of(&self, root: &Element) -> Result<parse::Feed> {
        let feed = parse::feed(root)?;
        for entry in &feed.entries {
            self.remember(entry);
        }
        Ok(feed)
    }

    pub(super) async fn get_entry(&self, url: &str) -> Result<Entry> {
        let root = self.get_xml(url).await?;
        self.entry_of(&root)
    }

    pub(super) async fn get_feed(&self, url: &str) -> Result<parse::Feed> {
        let root = self.get_xml(url).await?;
        self.feed_of(&root)
    }
}
