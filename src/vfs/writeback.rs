//! Write-back: uploading dirty files.
//!
//! A file becomes dirty at its first write (see `Vfs::make_dirty`): its
//! bytes live in a cache file and a journal record names where they go.
//! The worker here uploads a dirty file `write_back_delay` after its last
//! close (fsync uploads at once and waits). An upload is:
//! - new file: createDocument in its folder;
//! - changed document of a non-versionable type: setContentStream with the
//!   change token our edit started from;
//! - changed document of a versionable type, or one the server will not
//!   update in place (pwconly, or a versioning/constraint refusal):
//!   checkOut, then checkIn with the content (a new minor version, major
//!   with `--major-versions`);
//! - the server's copy changed since our edit started (updateConflict, or a
//!   different change token): a *conflict*: the server's copy stays, ours is
//!   created beside it as `names::conflict_name(...)`, with a warning.
//!
//! A failed upload is retried with exponential backoff (up to 5 minutes
//! apart) and never dropped. One the repository refuses for good
//! (`refused_for_good`: permission, constraint, name...) is marked
//! `refused`: close and fsync report it, and shutdown does not wait for it
//! (it stays in the journal for the next mount). Writes during an upload bump the file's
//! generation, so the file stays dirty and is uploaded again.
//! Records left by an earlier run (crash, kill -9) are uploaded the same
//! way in the background; the mount does not wait for them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cmis::{prop, CmisError, CmisObject, ContentUpload, Properties};

use super::chunks::{chunk_size, send};
use super::feed::Feed;
use super::inode::FileState;
use super::journal::{JournalRecord, ObjectState};
use super::types::{Ino, VfsError, VfsResult};
use super::{names, object_key, version_tag, Vfs};

mod stream;
mod upload;
pub use stream::stream_upload;
pub use upload::{upload_record, Source};

/// Most uploads at once.
const PARALLEL: usize = 4;

/// The result of one upload.
pub struct Uploaded {
    /// The document our inode now shows.
    pub object: CmisObject,
    /// Our content went to a conflict copy (the server's copy was kept).
    pub conflict_copy: Option<CmisObject>,
}

fn backoff(attempts: u32) -> Duration {
    Duration::from_millis((500u64 << attempts.min(10)).min(300_000))
}

/// A MIME type from the file name's extension.
pub fn mime_type(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt") | Some("md") | Some("log") => "text/plain",
        Some("html") | Some("htm") => "text/html",
        Some("css") => "text/css",
        Some("csv") => "text/csv",
        Some("xml") => "application/xml",
        Some("json") => "application/json",
        Some("pdf") => "application/pdf",
        Some("png") => "image/png",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("zip") => "application/zip",
        Some("odt") => "application/vnd.oasis.opendocument.text",
        Some("ods") => "application/vnd.oasis.opendocument.spreadsheet",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// Uploads the dirty file of an inode now; returns the server's verdict.
pub async fn upload_inode(vfs: &Vfs, ino: Ino) -> VfsResult<()> {
    let io = {
        let t = vfs.lock();
        match t.get(ino) {
            Some(i) => i.io_lock.clone(),
            None => return Err(VfsError::NotFound(format!("inode {ino}"))),
        }
    };
    let _io = io.lock().await;
    vfs.uploading
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(ino);
    let r = upload_locked(vfs, ino).await;
    vfs.uploading
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&ino);
    vfs.progress.notify_waiters();
    r
}

/// What to upload for a dirty inode: its journal record, its write
/// generation and its folder (`None`: nothing to upload).
fn prepare(vfs: &Vfs, ino: Ino) -> VfsResult<Option<(JournalRecord, u64, Ino)>> {
    let prepared = {
        let t = vfs.lock();
        let Some(i) = t.get(ino) else {
            return Ok(None);
        };
        let FileState::Dirty(d) = &i.state else {
            return Ok(None);
        };
        if i.unlinked {
            return Ok(None);
        }
        let parent_id = Vfs::folder_id(&t, i.parent)?;
        Some((
            JournalRecord {
                id: d.journal_id,
                parent_id,
                name: names::to_cmis(&i.name).unwrap_or_else(|_| i.name.clone()),
                object_id: i.object_id().map(str::to_string),
                base_token: d.base_token.clone(),
                path: d.path.clone(),
                mtime_ns: i.user_mtime.map(super::now_ns),
            },
            d.generation,
            i.parent,
        ))
    };
    Ok(prepared)
}

async fn upload_locked(vfs: &Vfs, ino: Ino) -> VfsResult<()> {
    let Some((rec, generation, parent)) = prepare(vfs, ino)? else {
        return Ok(());
    };
    let name = vfs.display_path(ino);
    let result = tokio::time::timeout(
        vfs.config().request_timeout * 20,
        upload_record(vfs, &rec, false, Source::CacheFile),
    )
    .await
    .unwrap_or_else(|_| {
        Err(CmisError::Timeout {
            url: "upload".into(),
        })
    });
    match result {
        Ok(up) => apply_uploaded(vfs, ino, parent, generation, &rec, &name, up),
        Err(e) => {
            let permanent = super::refused_for_good(&e);
            let verr = VfsError::from(e.clone());
            let mut t = vfs.lock();
            if let Some(i) = t.get_mut(ino) {
                i.attempts += 1;
                i.last_error = Some(e.to_string());
                // Kept (and retried with backoff): the refusal may be
                // lifted (rights granted); shutdown does not wait for it.
                i.refused = permanent.then(|| verr.clone());
                i.unreachable = matches!(e, CmisError::Connect { .. });
                if let FileState::Dirty(d) = &mut i.state {
                    if d.upload_at.is_some() {
                        d.upload_at = Some(Instant::now() + backoff(i.attempts));
                    }
                }
                tracing::warn!(
                    "upload of {name} failed (attempt {}), will retry: {e}",
                    i.attempts
                );
            }
            drop(t);
            let e = verr;
            if let VfsError::InvalidName(m) = &e {
                tracing::warn!("the server refuses the name of {name}: {m}");
            }
            Err(e)
        }
    }
}

/// Shows the result of a successful upload: the inode becomes clean (its
/// bytes kept as clean cache) unless it was written since `generation`.
fn apply_uploaded(
    vfs: &Vfs,
    ino: Ino,
    parent: Ino,
    generation: u64,
    rec: &JournalRecord,
    name: &str,
    up: Uploaded,
) -> VfsResult<()> {
    let mut t = vfs.lock();
    if let Some(c) = &up.conflict_copy {
        // The conflict copy shows up at the next listing.
        let _ = c;
        if let Some(l) = t.get_mut(parent).and_then(|p| p.listing.as_mut()) {
            l.expire();
        }
    }
    let key = object_key(&up.object);
    // Uploaded into our PWC: the document (id, token) is unchanged.
    let into_pwc = super::is_pwc(&up.object);
    let Some(i) = t.get_mut(ino) else {
        return Ok(());
    };
    let key = if into_pwc { i.key.clone() } else { key };
    // New content: the ETag follows the server's token again.
    i.etag_pin = None;
    let still = match &i.state {
        FileState::Dirty(d) => d.generation == generation,
        _ => false,
    };
    let size = i.size;
    let mtime = i.user_mtime;
    let mode = i.user_mode;
    let atime = i.atime;
    i.attempts = 0;
    i.last_error = None;
    i.refused = None;
    i.unreachable = false;
    if up.conflict_copy.is_some() && !still {
        // Written again during the upload: the newest bytes are not (or
        // only partly) in the conflict copy. They stay dirty on the same
        // base, so the next upload saves them as a conflict copy too.
        return Ok(());
    }
    if up.conflict_copy.is_some() {
        // Show the server's copy again.
        if let FileState::Dirty(d) = std::mem::replace(&mut i.state, FileState::Clean) {
            let _ = std::fs::remove_file(&d.path);
        }
        i.user_mtime = None;
        vfs.sub_dirty(size);
        i.object = Some(up.object);
        i.expire_attr();
        // A new file whose name was taken on the server: our inode is the
        // conflict copy now, under the copy's name, and the name is the
        // server's document's again (looked up afresh).
        let renamed = (rec.object_id.is_none() && i.parent == parent).then(|| {
            let copy = i.object.as_ref().map(|o| o.name()).unwrap_or_default();
            let copy = names::to_file(copy).name;
            (std::mem::replace(&mut i.name, copy.clone()), copy)
        });
        let rekey = i.key != key;
        if let Some((old, copy)) = &renamed {
            if let Some(l) = t.get_mut(parent).and_then(|p| p.listing.as_mut()) {
                if l.entries.get(old) == Some(&ino) {
                    l.remove(old);
                }
                l.insert(copy.clone(), ino);
            }
        }
        drop(t);
        let _ = vfs.store.remove_record(rec.id);
        if rekey {
            vfs.lock().rekey(ino, key);
        }
        if let Some((old, copy)) = renamed {
            vfs.publish_entry(parent, &old);
            vfs.publish_entry(parent, &copy);
        }
        return Ok(());
    }
    if still {
        if let FileState::Dirty(d) = std::mem::replace(&mut i.state, FileState::Clean) {
            // Our bytes are the server's now: keep them as clean
            // cache (warm re-reads).
            vfs.cache
                .adopt(up.object.id(), &version_tag(&up.object), &d.path, size);
        }
        vfs.sub_dirty(size);
    } else if let FileState::Dirty(d) = &mut i.state {
        if !into_pwc {
            d.base_token = up.object.change_token().map(str::to_string);
        }
    }
    let tag = version_tag(&up.object);
    let was_key = i.key.clone();
    // A new document: the repository has it now.
    let created = i.object.is_none().then(|| (i.parent, i.name.clone()));
    if still {
        // The kernel's pages hold exactly what was uploaded.
        i.page_cache_tag = Some(tag.clone());
        vfs.apply_object(i, up.object.clone());
        if let Some(m) = mtime {
            i.mtime = m;
        }
        if let Some(m) = mode {
            i.perm = (m & 0o7777) as u16;
        }
        i.size = size;
    } else if into_pwc {
        if let Some(c) = i.checkout.as_mut() {
            c.pwc = Some(up.object.clone());
        }
    } else {
        i.object = Some(up.object.clone());
    }
    if let Some((dir, file_name)) = created {
        if let Some(l) = t.get_mut(dir).and_then(|d| d.listing.as_mut()) {
            l.confirm(&file_name, ino);
        }
    }
    drop(t);
    if was_key != key {
        vfs.lock().rekey(ino, key.clone());
    }
    if mtime.is_some() || mode.is_some() || atime.is_some() {
        let st = ObjectState {
            token: tag,
            atime_ns: atime.map(super::now_ns),
            mtime_ns: mtime.map(super::now_ns),
            mode,
        };
        if let Err(e) = vfs.store.put_state(&key, &st) {
            tracing::warn!("cannot keep the mtime of {name}: {e}");
        }
    }
    if still {
        let _ = vfs.store.remove_record(rec.id);
    } else if !into_pwc {
        let mut r = rec.clone();
        r.object_id = Some(up.object.id().to_string());
        r.base_token = up.object.change_token().map(str::to_string);
        let _ = vfs.store.put_record(&r);
    }
    tracing::debug!("uploaded {name}");
    Ok(())
}

/// The upload worker: uploads due files, PARALLEL at a time, and the
/// records of an earlier run.
pub fn spawn_worker(vfs: Arc<Vfs>) {
    let weak = Arc::downgrade(&vfs);
    drop(vfs);
    tokio::spawn(async move {
        let sem = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
        loop {
            let Some(vfs) = weak.upgrade() else { return };
            let notified = vfs.wake.notified();
            let now = Instant::now();
            let due: Vec<Ino> = {
                let busy = vfs
                    .uploading
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                let t = vfs.lock();
                t.iter()
                    .filter(|i| !i.unlinked && !busy.contains(&i.ino))
                    .filter(|i| match &i.state {
                        FileState::Dirty(d) => d.upload_at.is_some_and(|u| u <= now),
                        _ => false,
                    })
                    .map(|i| i.ino)
                    .collect()
            };
            for ino in due {
                let Ok(permit) = sem.clone().acquire_owned().await else {
                    return;
                };
                vfs.uploading
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(ino);
                let v = vfs.clone();
                tokio::spawn(async move {
                    let _ = upload_inode(&v, ino).await;
                    drop(permit);
                });
            }
            // Records of an earlier run (marked in flight while uploading).
            let orphans: Vec<(JournalRecord, u32)> = {
                let mut o = vfs.orphans.lock().unwrap_or_else(|p| p.into_inner());
                o.iter_mut()
                    .filter(|(_, at, _)| *at <= now)
                    .map(|(r, at, n)| {
                        *at = now + Duration::from_secs(3600);
                        (r.clone(), *n)
                    })
                    .collect()
            };
            for (rec, attempts) in orphans {
                let Ok(permit) = sem.clone().acquire_owned().await else {
                    return;
                };
                let v = vfs.clone();
                tokio::spawn(async move {
                    replay_one(&v, rec, attempts).await;
                    drop(permit);
                    v.progress.notify_waiters();
                });
            }
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
            // After shutdown, files the repository refuses wait for the
            // next mount (still in the journal).
            if vfs.stopping.load(std::sync::atomic::Ordering::Relaxed)
                && vfs.pending_refused().iter().all(|(_, refused)| *refused)
            {
                return;
            }
        }
    });
}

fn forget_orphan(vfs: &Vfs, id: u64) {
    vfs.orphan_errors
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
    vfs.orphans
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|(r, _, _)| r.id != id);
}

async fn replay_one(vfs: &Vfs, rec: JournalRecord, attempts: u32) {
    if !rec.path.exists() {
        forget_orphan(vfs, rec.id);
        tracing::error!(
            "journal: the cache file of '{}' is missing; cannot upload it",
            rec.name
        );
        let _ = vfs.store.remove_record(rec.id);
        return;
    }
    let size = std::fs::metadata(&rec.path).map(|m| m.len()).unwrap_or(0);
    // A record of an earlier run still being pending in an inode of ours
    // (save-by-rename after replay started) would be a duplicate: skip.
    {
        let t = vfs.lock();
        let in_use = t.iter().any(|i| match &i.state {
            FileState::Dirty(d) => d.path == rec.path,
            _ => false,
        });
        if in_use {
            drop(t);
            forget_orphan(vfs, rec.id);
            return;
        }
    }
    match upload_record(vfs, &rec, true, Source::CacheFile).await {
        Ok(up) => {
            tracing::info!("journal: uploaded '{}' left from the last run", rec.name);
            let key = object_key(&up.object);
            if let Some(m) = rec.mtime_ns {
                let _ = vfs.store.put_state(
                    &key,
                    &ObjectState {
                        token: version_tag(&up.object),
                        atime_ns: None,
                        mtime_ns: Some(m),
                        mode: None,
                    },
                );
            }
            let _ = vfs.store.remove_record(rec.id);
            let _ = std::fs::remove_file(&rec.path);
            forget_orphan(vfs, rec.id);
            vfs.sub_dirty(size);
            let mut t = vfs.lock();
            let folders: Vec<Ino> = t
                .iter()
                .filter(|i| i.object_id() == Some(rec.parent_id.as_str()))
                .map(|i| i.ino)
                .collect();
            for f in folders {
                if let Some(l) = t.get_mut(f).and_then(|d| d.listing.as_mut()) {
                    l.expire();
                }
            }
            if let Some(ino) = t.by_key(&key) {
                if let Some(i) = t.get_mut(ino) {
                    i.expire_attr();
                }
            }
        }
        Err(e) => {
            let n = attempts + 1;
            tracing::warn!(
                "journal: upload of '{}' failed (attempt {n}), will retry: {e}",
                rec.name
            );
            {
                let mut r = vfs.orphan_errors.lock().unwrap_or_else(|p| p.into_inner());
                r.insert(rec.id, (e.to_string(), super::refused_for_good(&e)));
            }
            let mut o = vfs.orphans.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(e) = o.iter_mut().find(|(r, _, _)| r.id == rec.id) {
                e.1 = Instant::now() + backoff(n);
                e.2 = n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert!(backoff(1) < backoff(2));
        assert_eq!(backoff(30), Duration::from_secs(300));
    }

    #[test]
    fn mime_types() {
        assert_eq!(mime_type("a.TXT"), "text/plain");
        assert_eq!(mime_type("noext"), "application/octet-stream");
    }
}
