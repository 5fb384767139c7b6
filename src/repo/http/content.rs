//! The content stream GET: Range requests, Content-Disposition, injected connection drops.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{Ctx, Params, Result, FILENAME_SET};
use crate::cmis::error::CmisError;
use crate::repo::store::{Kind, ObjRec};

impl Ctx {
    pub(super) async fn content(
        self,
        rec: ObjRec,
        p: &Params,
        headers: &HeaderMap,
    ) -> Result<Response> {
        if rec.kind != Kind::Document {
            return Err(CmisError::Constraint(format!(
                "'{}' is a folder and has no content",
                rec.id
            )));
        }
        let Some(c) = rec.content.clone() else {
            return Err(CmisError::Constraint(format!(
                "'{}' has no content stream",
                rec.id
            )));
        };
        let path = self.st.svc.store.content_path(&c.id);
        let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
            None => None,
            Some(h) => match parse_range(h, c.length) {
                Ok(r) => r,
                Err(()) => {
                    return Ok(Response::builder()
                        .status(StatusCode::RANGE_NOT_SATISFIABLE)
                        .header(header::CONTENT_RANGE, format!("bytes */{}", c.length))
                        .body(Body::empty())
                        .unwrap_or_default())
                }
            },
        };
        let (start, len) = range.unwrap_or((0, c.length));
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| CmisError::Storage(format!("cannot open content: {e}")))?;
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| CmisError::Storage(e.to_string()))?;
        let drop_after = self.st.faults.as_ref().and_then(|f| f.drop_after());
        let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), 256 * 1024);
        let body = match drop_after {
            None => Body::from_stream(stream),
            Some(limit) => {
                let mut sent = 0u64;
                let cut = stream.map(move |chunk| {
                    let chunk = chunk?;
                    if sent >= limit {
                        return Err(std::io::Error::other("injected fault: connection dropped"));
                    }
                    let keep = (limit - sent).min(chunk.len() as u64) as usize;
                    sent += keep as u64;
                    if keep < chunk.len() {
                        // Send what fits; the next poll fails.
                        return Ok::<Bytes, std::io::Error>(chunk.slice(..keep));
                    }
                    Ok(chunk)
                });
                // Force a failure even when the limit falls on the end.
                let tail = futures_util::stream::once(async {
                    // Let what was sent reach the client before the cut.
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    Err::<Bytes, std::io::Error>(std::io::Error::other(
                        "injected fault: connection dropped",
                    ))
                });
                Body::from_stream(cut.chain(tail))
            }
        };
        let disposition = match p.get("download") {
            Some(d) if d.eq_ignore_ascii_case("attachment") => "attachment",
            _ => "inline",
        };
        let fname: String =
            percent_encoding::utf8_percent_encode(&c.file_name, FILENAME_SET).to_string();
        let mut b = Response::builder()
            .status(if range.is_some() {
                StatusCode::PARTIAL_CONTENT
            } else {
                StatusCode::OK
            })
            .header(header::CONTENT_LENGTH, len)
            .header(header::ACCEPT_RANGES, "bytes")
            .header(
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename*=UTF-8''{fname}"),
            );
        b = b.header(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&c.mime_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        );
        if range.is_some() {
            let end = (start + len).saturating_sub(1);
            b = b.header(
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{}", c.length),
            );
        }
        b.body(body).map_err(|e| CmisError::Runtime(e.to_string()))
    }
}

/// `bytes=a-b` / `bytes=a-` / `bytes=-n` → (start, length); `Ok(None)` for
/// headers we ignore (several ranges, other units), `Err` when
/// unsatisfiable.
fn parse_range(h: &str, total: u64) -> std::result::Result<Option<(u64, u64)>, ()> {
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let Ok(n) = b.parse::<u64>() else {
            return Ok(None);
        };
        if n == 0 || total == 0 {
            return Err(());
        }
        let n = n.min(total);
        return Ok(Some((total - n, n)));
    }
    let Ok(start) = a.parse::<u64>() else {
        return Ok(None);
    };
    if start >= total {
        return Err(());
    }
    let end = if b.is_empty() {
        total - 1
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e.min(total - 1),
            Ok(_) => return Ok(None),
            Err(_) => return Ok(None),
        }
    };
    if start == 0 && end == total - 1 {
        // The whole stream: answer 200, not a "partial" 206.
        return Ok(None);
    }
    Ok(Some((start, end - start + 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-0", 10), Ok(Some((0, 1))));
        assert_eq!(parse_range("bytes=0-", 10), Ok(None));
        assert_eq!(parse_range("bytes=5-", 10), Ok(Some((5, 5))));
        assert_eq!(parse_range("bytes=-3", 10), Ok(Some((7, 3))));
        assert_eq!(parse_range("bytes=2-100", 10), Ok(Some((2, 8))));
        assert_eq!(parse_range("bytes=10-", 10), Err(()));
        assert_eq!(parse_range("bytes=0-1,3-4", 10), Ok(None));
        assert_eq!(parse_range("items=0-1", 10), Ok(None));
    }
}
