//! Streamed uploads (see [`crate::vfs::feed`]): the upload of a new file,
//! or of a document rewritten from its start, runs while the file is
//! written. It takes the same decisions as the ordinary upload
//! ([`upload_record`] with [`Source::Feed`]) except a conflict copy: where
//! one is due, the stream stops. A stream that fails or is aborted loses
//! nothing: the file stays dirty and journaled, and the ordinary upload
//! after close takes over.

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
    let up = upload_record(vfs, &rec, false, Source::Feed(feed))
        .await
        .map_err(|e| e.to_string())?;
    // Generation 0 matches no write: should the body have ended without a
    // final size, the file stays dirty and is uploaded again in full.
    let generation = feed.finished_generation().unwrap_or(0);
    vfs.streamed
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = vfs.display_path(ino);
    apply_uploaded(vfs, ino, parent, generation, &rec, &name, up).map_err(|e| e.to_string())
}
