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
/// `staged`: the record of a WebDAV PUT's replacement (see
/// `Vfs::note_staged_write`), which becomes the file's content only when
/// committed; `None`: the inode's own dirty file.
pub async fn stream_upload(
    vfs: &Arc<Vfs>,
    ino: Ino,
    feed: Arc<Feed>,
    _io: tokio::sync::OwnedMutexGuard<()>,
    staged: Option<JournalRecord>,
) {
    vfs.uploading
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(ino);
    let journaled = staged.clone();
    if let Err(e) = stream_locked(vfs, ino, &feed, staged).await {
        tracing::debug!(
            "streamed upload of {} stopped ({e}); it is uploaded after close instead",
            vfs.display_path(ino)
        );
        feed.abort();
    }
    if let Some(rec) = &journaled {
        vfs.forget_staged(rec);
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

async fn stream_locked(
    vfs: &Vfs,
    ino: Ino,
    feed: &Arc<Feed>,
    staged: Option<JournalRecord>,
) -> Result<(), String> {
    let prepared = match &staged {
        Some(rec) => rec.clone(),
        None => match prepare(vfs, ino).map_err(|e| e.to_string())? {
            Some((rec, _, _)) => rec,
            None => return Err("nothing to upload".into()),
        },
    };
    let up = upload_record(vfs, &prepared, false, Source::Feed(feed))
        .await
        .map_err(|e| e.to_string())?;
    // Generation 0 matches no write: should the body have ended without a
    // final size, the file stays dirty and is uploaded again in full.
    let generation = feed.finished_generation().unwrap_or(0);
    vfs.streamed
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (rec, parent) = {
        let t = vfs.lock();
        let i = t.get(ino).ok_or("the file is gone")?;
        match (&i.state, staged) {
            (_, None) => (prepared, i.parent),
            // The body ended, so the replacement was committed: it is
            // the file's dirty content, in the journal.
            (FileState::Dirty(d), Some(mut r)) => {
                r.id = d.journal_id;
                r.path = d.path.clone();
                (r, i.parent)
            }
            _ => return Err("the replaced file is gone".into()),
        }
    };
    let name = vfs.display_path(ino);
    apply_uploaded(vfs, ino, parent, generation, &rec, &name, up).map_err(|e| e.to_string())
}
