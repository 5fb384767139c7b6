//! What writes send: Atom entries (content inside, base64, streamed) and raw edit-media content.

use percent_encoding::utf8_percent_encode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::{Body, RequestBuilder};

use super::write;
use super::{AtomPubBinding, MEDIA_ENTRY, TEMPLATE_VALUE};
use crate::cmis::error::{CmisError, Result};
use crate::cmis::model::*;

/// `attachment; filename=...` with an RFC 6266/5987 UTF-8 form for
/// non-ASCII names.
pub(super) fn content_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = utf8_percent_encode(file_name, TEMPLATE_VALUE);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

impl AtomPubBinding {
    /// A request with an entry body, content streamed inside it.
    pub(super) fn with_entry(
        &self,
        request: RequestBuilder,
        properties: &Properties,
        content: Option<ContentUpload>,
    ) -> RequestBuilder {
        let request = request.header(CONTENT_TYPE, MEDIA_ENTRY);
        match content {
            None => request.body(write::entry(properties)),
            Some(content) => {
                let file_name = (!self.is_cmis10()).then_some(content.file_name.as_str());
                let (head, tail) =
                    write::entry_with_content(properties, &content.mime_type, file_name);
                let length = content
                    .length
                    .map(|n| head.len() as u64 + write::base64_len(n) + tail.len() as u64);
                let request = match length {
                    Some(n) => request.header(CONTENT_LENGTH, n),
                    None => request,
                };
                request.body(Body::wrap_stream(write::entry_stream(
                    head,
                    content.body,
                    tail,
                )))
            }
        }
    }

    /// PUT of raw content to edit-media, then the object re-read.
    pub(super) async fn put_content(
        &self,
        object_id: &str,
        content: ContentUpload,
        params: Vec<(&str, String)>,
    ) -> Result<CmisObject> {
        let href = self
            .link(object_id, |l| l.edit_media.as_ref())
            .await?
            .ok_or_else(|| {
                CmisError::Constraint(format!(
                    "the content of {object_id} cannot be set (no edit-media link)"
                ))
            })?;
        let url = self.url(&href, &params)?;
        let mut request = self
            .client
            .put(&url)
            .header(CONTENT_TYPE, content.mime_type.as_str())
            .header(CONTENT_DISPOSITION, content_disposition(&content.file_name));
        if let Some(n) = content.length {
            request = request.header(CONTENT_LENGTH, n);
        }
        let response = self
            .execute(request.body(Body::wrap_stream(content.body)))
            .await?;
        self.reread_after(response, object_id).await
    }

    pub(super) fn id_entry(object_id: &str) -> Properties {
        Properties::new().with_id(prop::OBJECT_ID, object_id)
    }
}
