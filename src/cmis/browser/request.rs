//! Requests: GETs of JSON, POSTs of forms (content streamed last), and the
//! object re-read when a change's reply does not hold it.

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use serde_json::Value;
use url::Url;

use super::form::Form;
use super::json;
use super::reply::{read_json, read_json_or_empty};
use super::urls::{add_read_options, strip_query};
use super::BrowserBinding;
use crate::cmis::error::{CmisError, Result};
use crate::cmis::model::*;
use crate::cmis::Binding;

impl BrowserBinding {
    /// GET returning JSON, within the metadata timeout.
    pub(super) async fn get_json(&self, url: Url) -> Result<Value> {
        tracing::debug!(url = %strip_query(&url), query = url.query().unwrap_or(""), "GET");
        let request = self.client.get(url.as_str()).timeout(self.client.timeout);
        let response = self.client.send(request).await?;
        read_json(response).await
    }

    /// POST of a form (no content): the metadata timeout applies.
    pub(super) async fn post(&self, url: Url, form: Form) -> Result<Value> {
        self.send_form(url, form, None, true).await
    }

    /// POST of a form with optional content as its last part. With
    /// content there is no overall timeout: a large upload takes as long
    /// as it takes (the read timeout still catches a server that stops
    /// answering).
    pub(super) async fn post_maybe_content(
        &self,
        url: Url,
        form: Form,
        content: Option<ContentUpload>,
    ) -> Result<Value> {
        let timed = content.is_none();
        self.send_form(url, form, content, timed).await
    }

    pub(super) async fn post_content(
        &self,
        url: Url,
        form: Form,
        content: ContentUpload,
    ) -> Result<Value> {
        self.send_form(url, form, Some(content), false).await
    }

    /// A content action (setContent, appendContent) on `object_id`: the
    /// form and the content posted to the root folder URL, then the object
    /// it changed (possibly a new version).
    pub(super) async fn content_action(
        &self,
        object_id: &str,
        form: Form,
        content: ContentUpload,
    ) -> Result<CmisObject> {
        let reply = self
            .post_content(self.root_folder_url.clone(), form, content)
            .await?;
        self.changed_object(reply, object_id, Reread::SameOrNewVersion)
            .await
    }

    pub(super) async fn send_form(
        &self,
        url: Url,
        form: Form,
        content: Option<ContentUpload>,
        timed: bool,
    ) -> Result<Value> {
        tracing::debug!(
            url = %strip_query(&url),
            action = %form.action,
            content_length = ?content.as_ref().map(|c| c.length),
            "POST"
        );
        let body = form.into_body(content);
        let mut request = self
            .client
            .post(url.as_str())
            .header(CONTENT_TYPE, body.content_type);
        if let Some(len) = body.length {
            // Known length: Content-Length instead of chunked encoding
            // (some servers refuse chunked uploads).
            request = request.header(CONTENT_LENGTH, len);
        }
        if timed {
            request = request.timeout(self.client.timeout);
        }
        let request = request.body(reqwest::Body::wrap_stream(body.body));
        let response = self.client.send(request).await?;
        read_json_or_empty(response).await
    }

    /// The object a change returned, or the object re-read when the reply
    /// carries none (see [`Reread`]).
    pub(super) async fn changed_object(
        &self,
        reply: Value,
        object_id: &str,
        reread: Reread,
    ) -> Result<CmisObject> {
        if reply.get("properties").is_some() || reply.get("succinctProperties").is_some() {
            return json::parse_object(&reply);
        }
        tracing::debug!(object_id, ?reread, "no object in the reply: reading it");
        let read = |latest: bool| {
            let mut url = self.object_url(object_id, "object");
            if latest {
                url.query_pairs_mut().append_pair("returnVersion", "latest");
            }
            add_read_options(&mut url, &ReadOptions::default());
            async move { json::parse_object(&self.get_json(url).await?) }
        };
        match reread {
            Reread::Same => read(false).await,
            Reread::Latest => read(true).await,
            Reread::SameOrNewVersion => {
                let object = read(false).await?;
                // An old version now: the change made a new one. (A PWC is
                // never the latest version, and stays what we changed.)
                if object.is_latest_version() == Some(false)
                    && object.is_private_working_copy() != Some(true)
                {
                    read(true).await
                } else {
                    Ok(object)
                }
            }
        }
    }
}

impl BrowserBinding {
    /// The object a create returned or, when the reply holds none, the
    /// object found by its parent's path and its name.
    pub(super) async fn created_object(
        &self,
        reply: Value,
        parent_id: Option<&str>,
        properties: &Properties,
    ) -> Result<CmisObject> {
        if !reply.is_null() {
            return json::parse_object(&reply);
        }
        let (Some(parent_id), Some(name)) = (parent_id, properties.str(prop::NAME)) else {
            return Err(CmisError::Protocol {
                message: "the create answered no object, and it cannot be found by path".into(),
            });
        };
        tracing::debug!(
            parent_id,
            "no object in the create reply: reading it by path"
        );
        let parent = self.object(parent_id, &ReadOptions::default()).await?;
        let parent_path = parent.path().ok_or_else(|| CmisError::Protocol {
            message: "the create answered no object, and its folder has no path".into(),
        })?;
        let path = format!("{}/{name}", parent_path.trim_end_matches('/'));
        self.object_by_path(&path, &ReadOptions::default()).await
    }
}

/// How to find the object after a change whose reply did not include it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Reread {
    /// The id still names it (updateProperties, move).
    Same,
    /// The id may now name an older version (content changes on servers
    /// that version automatically).
    SameOrNewVersion,
    /// The id is gone or old: ask for the latest version (checkIn).
    Latest,
}
