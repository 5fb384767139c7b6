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
//!
//! Files: `services` the Binding trait (every service), `discovery` the
//! service document, `links` the link cache and URI templates, `request`
//! sending and reading replies, `upload` and `reply` the two ends of a write.

mod discovery;
mod links;
mod parse;
mod reply;
mod request;
mod services;
mod upload;
mod write;
mod xml;

use std::sync::Mutex;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

use super::http::HttpClient;
use links::LinkCache;
use parse::Workspace;

const MEDIA_ENTRY: &str = "application/atom+xml;type=entry";
const MEDIA_SERVICE: &str = "application/atomsvc+xml";
const MEDIA_QUERY: &str = "application/cmisquery+xml";
const ACCEPT_XML: &str =
    "application/atom+xml, application/atomsvc+xml;q=0.9, application/xml;q=0.8, */*;q=0.1";

/// RFC 3986 unreserved characters stay, everything else is escaped
/// (URI template values, 3.7.1.1).
const TEMPLATE_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The AtomPub binding for one repository.
pub struct AtomPubBinding {
    client: HttpClient,
    service_url: String,
    repository_id: String,
    workspace: Workspace,
    links: Mutex<LinkCache>,
}

#[cfg(test)]
mod tests;
