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
//!
//! Files: `services` the Binding trait (every service), `discovery` the
//! repository list and opening a repository, `urls` URL building,
//! `request` sending GETs and form POSTs, `reply` reading replies and
//! errors.

use url::Url;

mod discovery;
mod form;
pub mod json;
mod reply;
mod request;
mod services;
mod urls;

use super::http::HttpClient;

pub struct BrowserBinding {
    client: HttpClient,
    repository_id: String,
    repository_url: Url,
    root_folder_url: Url,
}
