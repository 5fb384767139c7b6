//! Discovery: the repository list at the service URL, and opening one
//! repository's binding.

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use super::json::{self, RepositoryEntry};
use super::reply::{describe_type, header_str, read_body, snippet};
use super::urls::{join_segment, parse_url, strip_query};
use super::BrowserBinding;
use crate::cmis::error::{CmisError, Result};
use crate::cmis::http::HttpClient;
use crate::cmis::model::RepositoryInfo;

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
