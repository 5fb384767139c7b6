//! The service document: discovery, opening one repository's workspace, its CMIS version.

use std::sync::Mutex;

use reqwest::header::{ACCEPT, CONTENT_TYPE};

use super::links::LinkCache;
use super::parse::{self, protocol, Workspace};
use super::request::{header_str, read_body};
use super::xml;
use super::{AtomPubBinding, MEDIA_SERVICE};
use crate::cmis::error::{CmisError, Result};
use crate::cmis::http::HttpClient;
use crate::cmis::model::*;

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

    pub(super) fn is_cmis10(&self) -> bool {
        self.workspace.info.cmis_version_supported.trim() == "1.0"
    }
}

/// GET and parse a service document.
pub(super) async fn fetch_service(client: &HttpClient, url: &str) -> Result<Vec<Workspace>> {
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
