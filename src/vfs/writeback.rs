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
pub use stream::stream_upload;

/// Most uploads at once.
const PARALLEL: usize = 4;

/// The id of an upload's record that is in no journal: a WebDAV PUT's
/// replacement streamed before it is committed (see `Vfs::note_staged_write`).
pub const NOT_JOURNALED: u64 = u64::MAX;

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

fn unreadable(e: std::io::Error) -> CmisError {
    CmisError::Storage(format!("cannot read the cache file: {e}"))
}

/// Where the bytes of an upload come from.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// The record's cache file, complete: read as often as needed, in
    /// pieces where the repository wants chunks.
    CacheFile,
    /// The cache file while it is being written (a streamed upload, see
    /// [`crate::vfs::feed`]): one request, never in chunks. A streamed
    /// upload makes no conflict copy: it stops, and the ordinary upload
    /// after close decides with the whole file at hand.
    Feed(&'a Arc<Feed>),
}

impl Source<'_> {
    /// An upload body from the start of the content.
    pub(super) async fn body(self, rec: &JournalRecord) -> Result<ContentUpload, CmisError> {
        match self {
            Source::CacheFile => {
                ContentUpload::from_file(&rec.path, rec.name.clone(), mime_type(&rec.name))
                    .await
                    .map_err(unreadable)
            }
            Source::Feed(feed) => feed
                .content(&rec.path, rec.name.clone(), mime_type(&rec.name))
                .map_err(unreadable),
        }
    }

    fn streamed(self) -> bool {
        matches!(self, Source::Feed(_))
    }

    /// What a streamed upload answers where a conflict needs deciding.
    fn undecided(self, rec: &JournalRecord) -> Option<CmisError> {
        self.streamed().then(|| {
            CmisError::UpdateConflict(format!(
                "'{}' needs a conflict decision; it is uploaded after close",
                rec.name
            ))
        })
    }
}

/// Whether the server's copy changed since the edit of `rec` began (its
/// change token is another; unknown tokens count as unchanged).
fn changed_on_server(rec: &JournalRecord, current: &CmisObject) -> bool {
    match (&rec.base_token, current.change_token()) {
        (Some(base), Some(now)) => base != now,
        _ => false,
    }
}

/// Uploads one journal record (the bytes in `rec.path`, from `source`).
/// `replay`: a record of an earlier run.
pub async fn upload_record(
    vfs: &Vfs,
    rec: &JournalRecord,
    replay: bool,
    source: Source<'_>,
) -> Result<Uploaded, CmisError> {
    let b = vfs.binding();
    let Some(oid) = rec.object_id.clone() else {
        let props = Properties::new()
            .with_string(prop::NAME, rec.name.clone())
            .with_id(prop::OBJECT_TYPE_ID, "cmis:document");
        return match send(vfs, rec, source, true, |c| {
            b.create_document(Some(&rec.parent_id), &props, Some(c), None)
        })
        .await
        {
            Ok(o) => Ok(Uploaded {
                object: o,
                conflict_copy: None,
            }),
            Err(
                e @ (CmisError::NameConstraintViolation(_) | CmisError::ContentAlreadyExists(_)),
            ) if source.streamed() => Err(e),
            Err(CmisError::NameConstraintViolation(m))
            | Err(CmisError::ContentAlreadyExists(m)) => {
                // Someone created the same name meanwhile (or a replay after
                // a crash that hit after the create): keep theirs.
                tracing::warn!("'{}' exists on the server already ({m})", rec.name);
                let copy = conflict_copy(vfs, rec).await?;
                Ok(Uploaded {
                    object: copy.clone(),
                    conflict_copy: Some(copy),
                })
            }
            Err(e) => Err(e),
        };
    };
    let current = match b.object(&oid, &Default::default()).await {
        Ok(o) => o,
        Err(CmisError::ObjectNotFound(_)) => {
            // Deleted on the server while we edited: ours becomes a new
            // document (nothing is lost).
            tracing::warn!(
                "'{}' was deleted on the server; uploading our copy as a new document",
                rec.name
            );
            let mut r = rec.clone();
            r.object_id = None;
            return Box::pin(upload_record(vfs, &r, replay, source)).await;
        }
        Err(e) => return Err(e),
    };
    let changed = changed_on_server(rec, &current);
    let checked_out_by_other = current.is_version_series_checked_out() == Some(true)
        && match (
            current.version_series_checked_out_by(),
            vfs.config().user.as_deref(),
        ) {
            (Some(by), Some(me)) => by != me,
            _ => false,
        };
    // Our own checkout, left by a failed upload, explains a new token:
    // nobody else could change the content meanwhile.
    let own_leftover = vfs.own_checkout_of(&current).is_some_and(|pwc| {
        vfs.leftover_checkouts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&pwc)
    });
    if (changed && !own_leftover) || checked_out_by_other {
        if let Some(e) = source.undecided(rec) {
            return Err(e);
        }
        return conflict(vfs, rec, current).await;
    }
    // Checked out by our own user (a WebDAV lock, another client of the
    // same user): the content goes into the PWC and the checkout stays
    // open for its owner to end. On replay, a checkout that is not one of
    // our locks is the leftover of a crash inside checkOut+checkIn below:
    // that path checks it in.
    if let Some(pwc) = vfs.own_checkout_of(&current) {
        let key = object_key(&current);
        let lock = vfs.store.checkout(&key).filter(|c| c.pwc_id == pwc);
        // Left by one of our own failed uploads: checked in below.
        if lock.is_some() || !(replay || own_leftover) {
            let o = send(vfs, rec, source, false, |c| {
                b.set_content(&pwc, c, true, None)
            })
            .await?;
            if let Some(mut c) = lock.filter(|c| !c.modified) {
                c.modified = true;
                if let Err(e) = vfs.store.put_checkout(&key, &c) {
                    tracing::warn!(
                        "cannot record the write into the checkout of '{}': {e}",
                        rec.name
                    );
                }
            }
            return Ok(Uploaded {
                object: o,
                conflict_copy: None,
            });
        }
    }
    let versionable = vfs.versionable(&current).await == Some(true);
    if !versionable {
        match send(vfs, rec, source, false, |c| {
            b.set_content(&oid, c, true, rec.base_token.as_deref())
        })
        .await
        {
            Ok(o) => {
                return Ok(Uploaded {
                    object: o,
                    conflict_copy: None,
                })
            }
            Err(e @ CmisError::UpdateConflict(_)) if source.streamed() => return Err(e),
            Err(CmisError::UpdateConflict(_)) => {
                let now = b.object(&oid, &Default::default()).await?;
                return conflict(vfs, rec, now).await;
            }
            Err(CmisError::Versioning(_)) | Err(CmisError::Constraint(_)) => {}
            Err(e) => return Err(e),
        }
    }
    // checkOut + checkIn with the content.
    let pwc_id = match b.check_out(&oid).await {
        Ok(pwc) => pwc.id().to_string(),
        Err(e) => match current.version_series_checked_out_id() {
            // Our own earlier checkout (a crash between checkOut and
            // checkIn): use it.
            Some(id) if !checked_out_by_other => id.to_string(),
            _ => return Err(e),
        },
    };
    // In chunks: the pieces go into the PWC, the checkIn carries none.
    let size = tokio::fs::metadata(&rec.path)
        .await
        .map(|m| m.len())
        .unwrap_or(0);
    let content_in_checkin = if !source.streamed() && chunk_size(vfs, size).await.is_some() {
        if let Err(e) = send(vfs, rec, source, false, |c| {
            b.set_content(&pwc_id, c, true, None)
        })
        .await
        {
            undo_checkout(vfs, rec, &oid, &pwc_id).await;
            return Err(e);
        }
        None
    } else {
        match source.body(rec).await {
            Ok(c) => Some(c),
            Err(e) => {
                undo_checkout(vfs, rec, &oid, &pwc_id).await;
                return Err(e);
            }
        }
    };
    match b
        .check_in(
            &pwc_id,
            vfs.config().major_versions,
            None,
            content_in_checkin,
            Some("saved by cmisfs"),
        )
        .await
    {
        Ok(o) => {
            vfs.leftover_checkouts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&pwc_id);
            Ok(Uploaded {
                object: o,
                conflict_copy: None,
            })
        }
        Err(e) => {
            undo_checkout(vfs, rec, &oid, &pwc_id).await;
            Err(e)
        }
    }
}

/// Ends our own checkout after a failed checkIn, and takes the token the
/// document has afterwards as the base of the next attempt: checkOut and
/// cancelCheckOut may each change the token (the embedded repository
/// bumps it), and nobody else can change the content while we hold the
/// checkout, so the next attempt would otherwise take our own checkout
/// for someone else's change and save the user's file as a conflict copy.
/// A checkout that cannot be cancelled (server gone) is remembered, and
/// the next attempt checks the content into it.
async fn undo_checkout(vfs: &Vfs, rec: &JournalRecord, oid: &str, pwc_id: &str) {
    let b = vfs.binding();
    let staged = rec.id == NOT_JOURNALED;
    if let Err(e) = b.cancel_check_out(pwc_id).await {
        tracing::warn!(
            "cannot cancel the checkout of '{}' ({e}); the next upload checks it in",
            rec.name
        );
        vfs.leftover_checkouts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(pwc_id.to_string());
    }
    let Ok(now) = b.object(oid, &super::READ_OPTS).await else {
        return;
    };
    let token = now.change_token().map(str::to_string);
    if token == rec.base_token {
        return;
    }
    if !staged {
        let mut r = rec.clone();
        r.base_token = token.clone();
        if let Err(e) = vfs.store.put_record(&r) {
            tracing::warn!("cannot update the journal record of '{}': {e}", rec.name);
        }
    }
    let mut t = vfs.lock();
    for i in t.iter_mut() {
        let ours = staged && i.object_id() == Some(oid);
        match &mut i.state {
            FileState::Dirty(d) if d.journal_id == rec.id => d.base_token = token.clone(),
            // A streamed replacement, not committed yet: what the file
            // is based on when it is (its dirty base, or its object).
            FileState::Dirty(d) if ours && d.base_token == rec.base_token => {
                d.base_token = token.clone()
            }
            FileState::Clean if ours => vfs.apply_object(i, now.clone()),
            _ => {}
        }
    }
}

async fn conflict_copy(vfs: &Vfs, rec: &JournalRecord) -> Result<CmisObject, CmisError> {
    let name = names::conflict_name(&rec.name, chrono::Utc::now());
    let props = Properties::new()
        .with_string(prop::NAME, name.clone())
        .with_id(prop::OBJECT_TYPE_ID, "cmis:document");
    let b = vfs.binding();
    let o = send(vfs, rec, Source::CacheFile, true, |c| {
        b.create_document(Some(&rec.parent_id), &props, Some(c), None)
    })
    .await?;
    tracing::warn!(
        "conflict: '{}' changed on the server while we had changes; the server's copy is kept, ours is saved as '{name}'",
        rec.name
    );
    Ok(o)
}

async fn conflict(
    vfs: &Vfs,
    rec: &JournalRecord,
    server: CmisObject,
) -> Result<Uploaded, CmisError> {
    let copy = conflict_copy(vfs, rec).await?;
    Ok(Uploaded {
        object: server,
        conflict_copy: Some(copy),
    })
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
        let rekey = i.key != key;
        drop(t);
        let _ = vfs.store.remove_record(rec.id);
        if rekey {
            vfs.lock().rekey(ino, key);
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
