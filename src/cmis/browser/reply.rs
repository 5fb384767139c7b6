//! Replies: bounded bodies, JSON or the CMIS error a reply stands for, and
//! the content headers (Content-Range, Content-Disposition).

use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::Response;
use serde_json::Value;

use super::json;
use super::urls::strip_query;
use crate::cmis::error::{CmisError, Result};
use crate::cmis::http::HttpClient;

/// Largest JSON reply we read; a bigger one is a broken or hostile server.
const MAX_JSON_BYTES: usize = 64 * 1024 * 1024;

pub(super) fn describe_type(content_type: &str) -> String {
    match content_type.split(';').next().map(str::trim) {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => "a reply without a content type".to_string(),
    }
}

pub(super) fn header_str(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// A short, printable piece of an error body (HTML pages are long).
pub(super) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(300).collect();
    if one_line.chars().count() > 300 {
        out.push('…');
    }
    out
}

/// The whole body, bounded.
pub(super) async fn read_body(mut response: Response) -> Result<Vec<u8>> {
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
    crate::cmis::http::transport_error(e)
}

/// The error a failed request stands for (its body read up to 64 KiB).
pub(super) async fn error_from(response: Response) -> CmisError {
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
pub(super) async fn read_json(response: Response) -> Result<Value> {
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
pub(super) async fn read_json_or_empty(response: Response) -> Result<Value> {
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

/// `bytes START-END/TOTAL` → START.
pub(super) fn parse_content_range(value: &str) -> Option<u64> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, _total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    start.trim().parse().ok()
}

/// The file name of a `Content-Disposition` header (`filename*=UTF-8''…`
/// preferred over `filename="…"`).
pub(super) fn content_disposition_file_name(value: &str) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
