//! POST bodies: urlencoded or multipart forms; a content part is streamed to the store's tmp dir.

use std::path::PathBuf;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, HeaderMap};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::{parse_urlencoded, Params, Result, St, MAX_FORM};
use crate::cmis::error::CmisError;
use crate::repo::service::Staged;

/// Reads a POST body: urlencoded or multipart. Query string parameters
/// count too (form fields win). A file part is streamed to the store's
/// tmp dir and synced.
pub(super) async fn read_form(
    st: &St,
    query: Params,
    req: Request,
) -> Result<(Params, Option<Staged>)> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut params = Params::default();
    let mut staged = None;
    if ctype.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| CmisError::InvalidArgument(format!("bad multipart body: {e}")))?;
        let mut fields = 0;
        let mut text_bytes = 0usize;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    return Err(CmisError::InvalidArgument(format!(
                        "bad multipart body: {e}"
                    )))
                }
            };
            fields += 1;
            if fields > 10_000 {
                return Err(CmisError::InvalidArgument("too many form fields".into()));
            }
            let name = field.name().unwrap_or("").to_string();
            if field.file_name().is_some() || name == "content" {
                if staged.is_some() {
                    return Err(CmisError::InvalidArgument(
                        "more than one content part".into(),
                    ));
                }
                let file_name = extended_file_name(field.headers())
                    .or_else(|| field.file_name().map(str::to_string))
                    .unwrap_or_default();
                let mime = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                staged = Some(stage(st, field, file_name, mime).await?);
            } else {
                let mut field = field;
                let mut buf = Vec::new();
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| CmisError::InvalidArgument(format!("bad multipart body: {e}")))?
                {
                    text_bytes += chunk.len();
                    if text_bytes > MAX_FORM {
                        return Err(CmisError::Constraint("form fields too large".into()));
                    }
                    buf.extend_from_slice(&chunk);
                }
                let text = String::from_utf8(buf).map_err(|_| {
                    CmisError::InvalidArgument(format!("field '{name}' is not valid UTF-8"))
                })?;
                params.push(name, text);
            }
        }
    } else {
        let mut body = req.into_body().into_data_stream();
        let mut buf = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk =
                chunk.map_err(|e| CmisError::InvalidArgument(format!("cannot read body: {e}")))?;
            if buf.len() + chunk.len() > MAX_FORM {
                return Err(CmisError::Constraint(
                    "form too large (use multipart for content)".into(),
                ));
            }
            buf.extend_from_slice(&chunk);
        }
        let text = std::str::from_utf8(&buf)
            .map_err(|_| CmisError::InvalidArgument("form is not valid UTF-8".into()))?;
        params = parse_urlencoded(text.trim())?;
    }
    for (k, v) in query.0 {
        if params.get(&k).is_none() {
            params.push(k, v);
        }
    }
    Ok((params, staged))
}

/// The RFC 2231 / 5987 `filename*=UTF-8''...` of a part, which clients
/// use for non-ASCII names and multer does not decode.
fn extended_file_name(h: &HeaderMap) -> Option<String> {
    let cd = h.get(header::CONTENT_DISPOSITION)?.to_str().ok()?;
    for param in cd.split(';') {
        let Some((k, v)) = param.trim().split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("filename*") {
            let v = v.trim().trim_matches('"');
            let (charset, rest) = v.split_once('\'')?;
            let (_, encoded) = rest.split_once('\'')?;
            if !charset.eq_ignore_ascii_case("utf-8") {
                return None;
            }
            return percent_encoding::percent_decode_str(encoded)
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned());
        }
    }
    None
}

/// Streams one multipart file part to a synced temporary file.
async fn stage(
    st: &St,
    mut field: axum::extract::multipart::Field<'_>,
    file_name: String,
    mime: String,
) -> Result<Staged> {
    let path: PathBuf = st.svc.store.tmp_dir().join(format!(
        "up-{:08x}{:08x}",
        crate::repo::service::rand_u32(),
        crate::repo::service::rand_u32()
    ));
    // From here on, Drop removes the file if anything fails.
    let mut staged = Staged {
        path: path.clone(),
        length: 0,
        mime_type: mime,
        file_name,
    };
    let mut f = tokio::fs::File::create(&path)
        .await
        .map_err(|e| CmisError::Storage(format!("cannot create upload file: {e}")))?;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| CmisError::InvalidArgument(format!("upload broke off: {e}")))?
    {
        f.write_all(&chunk)
            .await
            .map_err(|e| CmisError::Storage(format!("cannot write upload: {e}")))?;
        staged.length += chunk.len() as u64;
    }
    f.flush()
        .await
        .map_err(|e| CmisError::Storage(e.to_string()))?;
    f.sync_all()
        .await
        .map_err(|e| CmisError::Storage(e.to_string()))?;
    Ok(staged)
}
