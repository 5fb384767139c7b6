//! Input checks every request passes: path traversal, Destination host, XML
//! bodies (size, depth, DOCTYPE), and the log line of a refusal.

use std::net::SocketAddr;

use axum::http::{Method, StatusCode};
use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};

use super::mtime::MTIME_PROPS;
use crate::webdav::fs::MTIME_NS;

/// Largest XML request body (PROPFIND, PROPPATCH, LOCK).
pub(super) const MAX_XML_BODY: usize = 1 << 20;
/// Deepest element nesting accepted in an XML body.
const MAX_XML_DEPTH: usize = 32;

/// Why a request path is refused, if it is: every segment, once
/// percent-decoded, must be UTF-8 without NUL or backslash, and not `.`
/// or `..`.
pub(super) fn bad_path(raw: &str) -> Option<&'static str> {
    let path = raw.split(['?', '#']).next().unwrap_or("");
    if path.contains('\\') {
        return Some("backslash in path");
    }
    for seg in path.split('/') {
        let bytes: Vec<u8> = percent_encoding::percent_decode_str(seg).collect();
        if bytes == b"." || bytes == b".." {
            return Some("path traversal");
        }
        if bytes.contains(&0) || bytes.contains(&b'\\') {
            return Some("NUL or backslash in path");
        }
        if std::str::from_utf8(&bytes).is_err() {
            return Some("path is not UTF-8");
        }
    }
    None
}

/// The path of a Destination header, if it names this server (same host
/// and port as the request's Host header, or no host at all).
pub(super) fn destination_path(dest: &str, host: Option<&str>) -> Result<String, StatusCode> {
    if dest.starts_with('/') {
        return Ok(dest.to_string());
    }
    let url = url::Url::parse(dest).map_err(|_| StatusCode::BAD_REQUEST)?;
    let dest_host = match (url.host_str(), url.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => return Err(StatusCode::BAD_REQUEST),
    };
    let req_host = host.map(|h| {
        if h.contains(':') && !h.ends_with(']') {
            h.to_ascii_lowercase()
        } else {
            format!(
                "{}:{}",
                h.to_ascii_lowercase(),
                url.port_or_known_default().unwrap_or(80)
            )
        }
    });
    if req_host.as_deref() != Some(dest_host.to_ascii_lowercase().as_str()) {
        return Err(StatusCode::BAD_GATEWAY);
    }
    // The path as sent: the URL parser would already have resolved `..`.
    let after_scheme = dest.split_once("://").map(|(_, r)| r).unwrap_or(dest);
    Ok(match after_scheme.find('/') {
        Some(i) => after_scheme[i..].to_string(),
        None => "/".to_string(),
    })
}

/// Checks an XML body (size is checked by the caller): no DOCTYPE (so no
/// entity expansion), bounded depth, well formed. For a PROPPATCH, renames
/// the mtime properties under `set` into [`MTIME_NS`].
pub(super) fn vet_xml(body: &[u8], proppatch: bool) -> Result<Option<Vec<u8>>, &'static str> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut reader = quick_xml::NsReader::from_reader(body);
    let mut writer = quick_xml::Writer::new(Vec::with_capacity(body.len() + 128));
    // Local names of the open elements, and whether each was renamed.
    let mut stack: Vec<(Vec<u8>, Option<String>)> = Vec::new();
    let mut renamed = false;
    loop {
        let (ns, ev) = reader
            .read_resolved_event()
            .map_err(|_| "malformed XML body")?;
        let ns_str = match ns {
            ResolveResult::Bound(Namespace(n)) => std::str::from_utf8(n).ok(),
            _ => None,
        };
        match ev {
            Event::DocType(_) => return Err("DOCTYPE in XML body"),
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(ev, Event::Empty(_));
                let local = e.local_name().as_ref().to_vec();
                let in_set =
                    proppatch && stack.len() == 3 && stack[1].0 == b"set" && stack[2].0 == b"prop";
                let standin = if in_set {
                    MTIME_PROPS
                        .iter()
                        .find(|(pns, n, _)| Some(*pns) == ns_str && n.as_bytes() == local)
                        .map(|(_, _, s)| format!("cmisfs-mtime:{s}"))
                } else {
                    None
                };
                let out = match &standin {
                    Some(name) => {
                        renamed = true;
                        let mut s = BytesStart::new(name.clone());
                        s.push_attribute(("xmlns:cmisfs-mtime", MTIME_NS));
                        if is_empty {
                            Event::Empty(s)
                        } else {
                            Event::Start(s)
                        }
                    }
                    None => ev.clone(),
                };
                writer.write_event(out).map_err(|_| "malformed XML body")?;
                if !is_empty {
                    stack.push((local, standin));
                    if stack.len() > MAX_XML_DEPTH {
                        return Err("XML body nested too deep");
                    }
                }
            }
            Event::End(_) => {
                let Some((_, standin)) = stack.pop() else {
                    return Err("malformed XML body");
                };
                let out = match standin {
                    Some(name) => Event::End(BytesEnd::new(name)),
                    None => ev,
                };
                writer.write_event(out).map_err(|_| "malformed XML body")?;
            }
            other => writer
                .write_event(other)
                .map_err(|_| "malformed XML body")?,
        }
    }
    if !stack.is_empty() {
        return Err("malformed XML body");
    }
    Ok(if renamed {
        Some(writer.into_inner())
    } else {
        None
    })
}

pub(super) fn log_refusal(peer: SocketAddr, method: &Method, path: &str, s: StatusCode, why: &str) {
    tracing::warn!("webdav: {} {method} {path} from {peer}: {why}", s.as_u16());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(bad_path("/a/b.txt").is_none());
        assert!(bad_path("/a/%C3%A9t%C3%A9/").is_none());
        assert!(bad_path("/a/../b").is_some());
        assert!(bad_path("/a/%2e%2e/b").is_some());
        assert!(bad_path("/a/%2E%2E").is_some());
        assert!(bad_path("/a\\..\\b").is_some());
        assert!(bad_path("/a/%5c..%5cb").is_some());
        assert!(bad_path("/a/%ff").is_some());
        assert!(bad_path("/a/%00").is_some());
    }

    #[test]
    fn destinations() {
        assert_eq!(
            destination_path("http://127.0.0.1:8080/x/y", Some("127.0.0.1:8080")),
            Ok("/x/y".into())
        );
        assert_eq!(
            destination_path("http://evil.example:8080/x", Some("127.0.0.1:8080")),
            Err(StatusCode::BAD_GATEWAY)
        );
        assert_eq!(destination_path("/x", None), Ok("/x".into()));
        assert_eq!(
            destination_path("http://h:1/a/%2e%2e/b", Some("h:1")),
            Ok("/a/%2e%2e/b".into())
        );
        assert_eq!(
            destination_path("http://localhost/x", Some("localhost")),
            Ok("/x".into())
        );
    }

    #[test]
    fn xml_vetting() {
        let bomb = b"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]><D:propfind xmlns:D=\"DAV:\">&lol;</D:propfind>";
        assert!(vet_xml(bomb, false).is_err());
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(vet_xml(deep.as_bytes(), false).is_err());
        assert!(vet_xml(b"<a><b></a>", false).is_err());
        let pp = br#"<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://ex/"><D:set><D:prop><D:getlastmodified>Tue, 24 Nov 2026 07:55:19 GMT</D:getlastmodified><Z:x>1</Z:x></D:prop></D:set></D:propertyupdate>"#;
        let out = String::from_utf8(vet_xml(pp, true).unwrap().unwrap()).unwrap();
        assert!(out.contains("cmisfs-mtime:dav-getlastmodified"), "{out}");
        assert!(out.contains("<Z:x>1</Z:x>"));
        assert!(vet_xml(pp, false).unwrap().is_none());
    }
}
