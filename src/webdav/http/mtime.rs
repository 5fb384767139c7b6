//! Setting mtimes: the mtime properties PROPPATCH renames into
//! [`MTIME_NS`](crate::webdav::fs::MTIME_NS), HTTP dates, element text and
//! `X-OC-Mtime` values.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use quick_xml::events::Event;

const NS_DAV: &str = "DAV:";
const NS_MS: &str = "urn:schemas-microsoft-com:";

/// The mtime-setting properties, as (namespace, name, stand-in name).
pub(super) const MTIME_PROPS: [(&str, &str, &str); 3] = [
    (NS_DAV, "getlastmodified", "dav-getlastmodified"),
    (NS_DAV, "lastmodified", "dav-lastmodified"),
    (NS_MS, "Win32LastModifiedTime", "ms-Win32LastModifiedTime"),
];

/// The real namespace and name behind a stand-in name in
/// [`MTIME_NS`](crate::webdav::fs::MTIME_NS).
pub(crate) fn mtime_prop_origin(standin: &str) -> (&'static str, &'static str) {
    MTIME_PROPS
        .iter()
        .find(|(_, _, s)| *s == standin)
        .map(|(ns, n, _)| (*ns, *n))
        .unwrap_or((NS_DAV, "getlastmodified"))
}

/// The text content of an XML element (the value of a property).
pub(crate) fn element_text(xml: &[u8]) -> Option<String> {
    let mut r = quick_xml::Reader::from_reader(xml);
    let mut out = String::new();
    loop {
        match r.read_event() {
            Ok(Event::Text(t)) => out.push_str(&t.unescape().ok()?),
            Ok(Event::CData(t)) => out.push_str(std::str::from_utf8(&t).ok()?),
            Ok(Event::Eof) => break,
            Err(_) => return None,
            _ => {}
        }
    }
    Some(out.trim().to_string())
}

/// An HTTP date (RFC 1123, as getlastmodified holds), or RFC 3339.
pub(crate) fn parse_http_date(s: &str) -> Option<SystemTime> {
    let t = chrono::DateTime::parse_from_rfc2822(s.trim())
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s.trim()))
        .ok()?;
    let secs = t.timestamp();
    let nanos = t.timestamp_subsec_nanos();
    if secs < 0 {
        return None;
    }
    Some(UNIX_EPOCH + Duration::new(secs as u64, nanos))
}

/// `X-OC-Mtime`: seconds since the epoch, maybe with a fraction.
pub(super) fn parse_oc_mtime(v: &str) -> Option<SystemTime> {
    let v = v.trim();
    let (secs, frac) = v.split_once('.').unwrap_or((v, ""));
    let secs: u64 = secs.parse().ok()?;
    let nanos = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().take(9).collect();
        let n: u32 = digits.parse().ok()?;
        n * 10u32.pow(9 - digits.len() as u32)
    };
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let t = parse_http_date("Tue, 24 Nov 2026 07:55:19 GMT").unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1795506919);
        let t = parse_oc_mtime("1700000000.5").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap(),
            Duration::new(1_700_000_000, 500_000_000)
        );
        assert!(parse_oc_mtime("abc").is_none());
        assert_eq!(
            element_text(b"<a:x xmlns:a=\"u\"> 12 </a:x>").as_deref(),
            Some("12")
        );
    }
}
