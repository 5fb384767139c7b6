//! Streamed uploads (see [`crate::vfs::feed`]): the upload of a new file,
//! or of a document rewritten from its start, runs while the file is
//! written. A stream that fails or is aborted loses nothing: the file
//! stays dirty and journaled, and the ordinary upload takes over.

use super::*;

/// A streamed upload of a new file or a rewritten document, holding the
/// inode's upload lock. When it fails or is aborted nothing is lost: the
/// file stays dirty and journaled and is uploaded the ordinary way.
pub async fn stream_upload(
    vfs: &Arc<Vfs>,
    ino: Ino,
    feed: Arc<Feed>,
    _io: tokio::sync::OwnedMutexGuard<()>,
) {
    vfs.uploading
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(ino);
    if let Err(e) = stream_locked(vfs, ino, &feed).await {
        tracing::debug!(
            "streamed upload of {} stopped ({e}); it is uploaded after close instead",
            vfs.display_path(ino)
        );
        feed.abort();
    }
    {
        let mut streams = vfs.streams.lock().unwrap_or_else(|p| p.into_inner());
        let ours = streams
            .get(&ino)
            .and_then(|s| s.feed.as_ref())
            .is_some_and(|f| Arc::ptr_eq(f, &feed));
        if ours {
            streams.remove(&ino);
        }
    }
    vfs.uploading
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&ino);
    vfs.progress.notify_waiters();
    vfs.wake.notify_one();
}

async fn stream_locked(vfs: &Vfs, ino: Ino, feed: &Arc<Feed>) -> Result<(), String> {
    let Some((rec, _, parent)) = prepare(vfs, ino).map_err(|e| e.to_string())? else {
        return Err("nothing to upload".into());
    };
    let body = || {
        feed.content(&rec.path, rec.name.clone(), mime_type(&rec.name))
            .map_err(|e| format!("cannot read the cache file: {e}"))
    };
    let object = match &rec.object_id {
        Some(oid) => stream_existing(vfs, &rec, oid, body).await?,
        None => {
            let props = Properties::new()
                .with_string(prop::NAME, rec.name.clone())
                .with_id(prop::OBJECT_TYPE_ID, "cmis:document");
            vfs.binding()
                .create_document(Some(&rec.parent_id), &props, Some(body()?), None)
                .await
                .map_err(|e| e.to_string())?
        }
    };
    // Generation 0 matches no write: should the body have ended without a
    // final size, the file stays dirty and is uploaded again in full.
    let generation = feed.finished_generation().unwrap_or(0);
    vfs.streamed
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = vfs.display_path(ino);
    apply_uploaded(
        vfs,
        ino,
        parent,
        generation,
        &rec,
        &name,
        Uploaded {
            object,
            conflict_copy: None,
        },
    )
    .map_err(|e| e.to_string())
}

/// A document rewritten from its start (truncated, then appended to):
/// the new content goes up while it is written, as setContentStream with
/// the change token, or checkOut + checkIn for a versionable type. What
/// needs a decision (changed on the server, checked out, refused) is left
/// to the ordinary upload after close, which makes conflict copies and
/// falls back between the two ways.
async fn stream_existing(
    vfs: &Vfs,
    rec: &JournalRecord,
    oid: &str,
    body: impl Fn() -> Result<ContentUpload, String>,
) -> Result<CmisObject, String> {
    let b = vfs.binding();
    let current = b
        .object(oid, &Default::default())
        .await
        .map_err(|e| e.to_string())?;
    let changed = changed_on_server(rec, &current);
    if changed || current.is_version_series_checked_out() == Some(true) {
        return Err("changed on the server or checked out".into());
    }
    let versionable = vfs.versionable(&current).await == Some(true);
    if !versionable {
        return b
            .set_content(oid, body()?, true, rec.base_token.as_deref())
            .await
            .map_err(|e| e.to_string());
    }
    let pwc = b.check_out(oid).await.map_err(|e| e.to_string())?;
    let major = vfs.config().major_versions;
    let comment = Some("saved by cmisfs");
    let content = match body() {
        Ok(c) => c,
        Err(e) => {
            undo_checkout(vfs, rec, oid, pwc.id()).await;
            return Err(e);
        }
    };
    match b
        .check_in(pwc.id(), major, None, Some(content), comment)
        .await
    {
        Ok(o) => Ok(o),
        Err(e) => {
            undo_checkout(vfs, rec, oid, pwc.id()).await;
            Err(e.to_string())
        }
    }
}
