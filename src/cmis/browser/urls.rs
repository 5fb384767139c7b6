//! URLs: object, selector and path URLs (names percent-encoded per segment)
//! and the read options every object read carries.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use url::Url;

use super::form::bool_str;
use super::BrowserBinding;
use crate::cmis::error::{CmisError, Result};
use crate::cmis::model::ReadOptions;

/// Everything but the unreserved characters is escaped in a path segment,
/// so that `+`, `&`, `;`, quotes etc. in a name survive any server's
/// decoding.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl BrowserBinding {
    /// `rootFolderUrl?objectId=ID&cmisselector=SEL`.
    pub(super) fn object_url(&self, object_id: &str, selector: &str) -> Url {
        let mut url = self.root_folder_url.clone();
        url.query_pairs_mut()
            .append_pair("objectId", object_id)
            .append_pair("cmisselector", selector);
        url
    }

    /// `repositoryUrl?cmisselector=SEL`.
    pub(super) fn repository_selector_url(&self, selector: &str) -> Url {
        let mut url = self.repository_url.clone();
        url.query_pairs_mut().append_pair("cmisselector", selector);
        url
    }

    /// `rootFolderUrl/a/b` for the absolute path `/a/b`.
    pub(super) fn path_url(&self, path: &str) -> Result<Url> {
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
}

pub(super) fn parse_url(url: &str) -> Result<Url> {
    Url::parse(url).map_err(|e| CmisError::InvalidArgument(format!("invalid URL '{url}': {e}")))
}

pub(super) fn join_segment(base: &Url, segment: &str) -> Result<Url> {
    let mut text = base.as_str().split('?').next().unwrap_or("").to_string();
    if !text.ends_with('/') {
        text.push('/');
    }
    text.push_str(&utf8_percent_encode(segment, SEGMENT).to_string());
    parse_url(&text)
}

pub(super) fn strip_query(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

pub(super) fn add_read_options(url: &mut Url, options: &ReadOptions) {
    let mut q = url.query_pairs_mut();
    q.append_pair("succinct", bool_str(succinct_is_typed(options)));
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

/// Whether the succinct form (values without their types: about a third
/// of the bytes, and a third of the server's time for a page of children)
/// still types every property asked for: only `cmis:` ones are, by their
/// id or their JSON value (see `json::properties`). The VFS always asks
/// for such a list; other reads get the full form.
fn succinct_is_typed(options: &ReadOptions) -> bool {
    options
        .filter
        .as_deref()
        .is_some_and(|f| f.split(',').all(|p| p.trim().starts_with("cmis:")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmis::http::HttpClient;

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
    fn succinct_only_where_every_property_is_a_cmis_one() {
        let with = |filter: Option<&str>| {
            let mut u = Url::parse("http://h/x").unwrap();
            let options = ReadOptions {
                filter: filter.map(str::to_string),
                include_allowable_actions: false,
            };
            add_read_options(&mut u, &options);
            u.query_pairs()
                .find(|(k, _)| k == "succinct")
                .map(|(_, v)| v.into_owned())
        };
        assert_eq!(
            with(Some("cmis:name, cmis:objectId")).as_deref(),
            Some("true")
        );
        assert_eq!(with(None).as_deref(), Some("false"));
        assert_eq!(
            with(Some("cmis:name,acme:budget")).as_deref(),
            Some("false")
        );
        assert_eq!(with(Some("*")).as_deref(), Some("false"));
    }

    #[test]
    fn object_urls_encode_ids() {
        let b = binding();
        let u = b.object_url("abc;1.0&x=y", "object");
        let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
        assert_eq!(pairs[0], ("objectId".into(), "abc;1.0&x=y".into()));
        assert_eq!(pairs[1], ("cmisselector".into(), "object".into()));
    }
}
