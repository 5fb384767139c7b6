//! Uploads in chunks (`--upload-chunk-size`): the first piece with the
//! usual request, the others with appendContentStream (CMIS 1.1), for
//! servers or proxies that cap the size of a request.

use crate::cmis::{CmisError, CmisObject, ContentUpload};

use super::journal::JournalRecord;
use super::writeback::{mime_type, Source};
use super::Vfs;

/// The piece size for an upload of `size` bytes, when it goes in chunks:
/// a chunk size is configured, the file is bigger, and the repository
/// answers appendContentStream. Asked once with an append to an object
/// that does not exist: "not found" means the service is there, "not
/// supported" that it is not (then every upload is one request).
pub(super) async fn chunk_size(vfs: &Vfs, size: u64) -> Option<u64> {
    let chunk = vfs.config().upload_chunk_size.filter(|c| size > *c)?;
    let supported = *vfs
        .append_supported
        .get_or_init(|| async {
            let probe = ContentUpload::from_bytes("probe", "application/octet-stream", "");
            let r = vfs
                .binding()
                .append_content("cmisfs-append-probe-nonexistent", probe, true, None)
                .await;
            let supported = !matches!(r, Err(CmisError::NotSupported(_)));
            if !supported {
                tracing::warn!(
                    "the repository does not support appendContentStream: uploads go in one request despite --upload-chunk-size"
                );
            }
            supported
        })
        .await;
    supported.then_some(chunk)
}

/// Sends `rec`'s bytes with `first` (createDocument, setContentStream,
/// ...). With chunks (see [`chunk_size`]) `first` gets the first piece
/// and the others are appended to the object it returned, the last with
/// isLastChunk (a streamed `source` always goes whole). `creates`:
/// `first` makes a new document, which is deleted again when a later
/// piece fails (the retry creates it afresh instead of meeting its own
/// half-uploaded namesake).
pub(super) async fn send<F, Fut>(
    vfs: &Vfs,
    rec: &JournalRecord,
    source: Source<'_>,
    creates: bool,
    first: F,
) -> Result<CmisObject, CmisError>
where
    F: FnOnce(ContentUpload) -> Fut,
    Fut: std::future::Future<Output = Result<CmisObject, CmisError>>,
{
    if let Source::Feed(_) = source {
        return first(source.body(rec).await?).await;
    }
    let size = tokio::fs::metadata(&rec.path)
        .await
        .map_err(|e| CmisError::Storage(format!("cannot read the cache file: {e}")))?
        .len();
    let Some(chunk) = chunk_size(vfs, size).await else {
        return first(source.body(rec).await?).await;
    };
    let piece = |offset: u64, len: u64| async move {
        ContentUpload::from_file_range(
            &rec.path,
            offset,
            len,
            rec.name.clone(),
            mime_type(&rec.name),
        )
        .await
        .map_err(|e| CmisError::Storage(format!("cannot read the cache file: {e}")))
    };
    let mut obj = first(piece(0, chunk).await?).await?;
    let created = obj.id().to_string();
    let mut offset = chunk;
    while offset < size {
        let len = chunk.min(size - offset);
        let last = offset + len >= size;
        let token = obj.change_token().map(str::to_string);
        let appended = async {
            vfs.binding()
                .append_content(obj.id(), piece(offset, len).await?, last, token.as_deref())
                .await
        }
        .await;
        obj = match appended {
            Ok(o) => o,
            Err(e) => {
                if creates {
                    if let Err(d) = vfs.binding().delete(&created, true).await {
                        tracing::warn!(
                            "cannot remove the half-uploaded '{}' ({d}); the next attempt may save a conflict copy",
                            rec.name
                        );
                    }
                }
                return Err(e);
            }
        };
        offset += len;
    }
    vfs.chunked
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tracing::debug!("uploaded '{}' in {} pieces", rec.name, size.div_ceil(chunk));
    Ok(obj)
}
