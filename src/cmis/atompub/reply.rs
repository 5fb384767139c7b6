//! The object a write's reply stands for: its entry, the entry at its Location, or a re-read.

use reqwest::header::{ACCEPT, CONTENT_LOCATION, CONTENT_TYPE, LOCATION};
use reqwest::Response;

use super::parse::{protocol, Entry};
use super::request::{header_str, read_body};
use super::xml::ATOM;
use super::{AtomPubBinding, ACCEPT_XML};
use crate::cmis::error::{CmisError, Result};
use crate::cmis::model::*;
use crate::cmis::Binding;

impl AtomPubBinding {
    /// The object a write reply stands for: the entry in its body, else
    /// the entry its Location header names, else `fallback_id` re-read.
    pub(super) async fn object_reply(
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
    pub(super) async fn created(
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

    /// After a write whose reply is no entry: the Location the server
    /// named (the id may have changed), else the object by id.
    pub(super) async fn reread_after(
        &self,
        response: Response,
        object_id: &str,
    ) -> Result<CmisObject> {
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
}
