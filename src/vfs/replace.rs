//! Whole-content replacements (a WebDAV PUT or COPY onto a file): a
//! staging file that becomes the file's content only when committed, its
//! streamed upload, and new files that count as incomplete until then.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::data::Stream;
use super::events::Change;
use super::feed::{Feed, STREAM_START};
use super::inode::FileState;
use super::journal::JournalRecord;
use super::types::*;
use super::{io_err, names, versions, writeback, Vfs};

/// The file beside a dirty file's cache file that marks it incomplete: a
/// journal record with one is dropped at the next start.
pub(super) fn incomplete_marker(path: &std::path::Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".incomplete");
    PathBuf::from(p)
}

impl Vfs {
    pub(super) fn staging_of(&self, fh: Fh) -> Option<PathBuf> {
        self.with_handle(fh, |h| h.staging.clone()).flatten()
    }

    /// Opens a file for a replacement of its whole content (a WebDAV PUT
    /// or COPY onto it): writes go to a staging file, and the file keeps
    /// its content (local bytes not yet uploaded included) until
    /// [`Vfs::commit_replace`]. Released or abandoned before that, or lost
    /// in a crash (the staging file is in no journal record, or in one
    /// marked incomplete), the replacement changes nothing: a PUT cut short
    /// never destroys the previous content, and never becomes a version. A
    /// replacement written by appends may upload while it is written (see
    /// `Vfs::note_staged_write`).
    pub async fn open_replacing(&self, ino: Ino) -> VfsResult<Fh> {
        versions::refuse(&[ino])?;
        if self.cfg.read_only {
            return Err(VfsError::ReadOnly);
        }
        self.wait_complete(ino).await?;
        self.ensure_pwc(ino).await;
        self.may_write(ino).await?;
        let fh = self.new_handle(ino, false);
        let path = self.dirty_dir.join(format!("staging-{fh}"));
        if let Err(e) = std::fs::File::create(&path) {
            self.handles
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&fh);
            return Err(io_err("cannot create a cache file", e));
        }
        // Only a document the repository has can stream its replacement.
        let on_server = {
            let t = self.lock();
            t.get(ino).is_some_and(|i| i.object.is_some())
        };
        self.with_handle(fh, |h| {
            h.staging = Some(path);
            h.staged_stream = on_server.then_some(Stream { end: 0, feed: None });
        });
        Ok(fh)
    }

    /// After a write of `len` bytes at `offset` into the staging file of
    /// `fh`: while the writes are appends, the replacement's upload starts
    /// past [`STREAM_START`] and follows the staging file; anything else
    /// breaks it off. The repository sees the new content only when the
    /// body ends, at [`Vfs::commit_replace`]: a replacement dropped before
    /// that fails the request and changes nothing.
    pub(super) fn note_staged_write(self: &Arc<Self>, fh: Fh, ino: Ino, offset: u64, len: u64) {
        let due = self
            .with_handle(fh, |h| {
                let s = h.staged_stream.as_mut()?;
                if offset != s.end {
                    if let Some(feed) = h.staged_stream.take().and_then(|s| s.feed) {
                        tracing::debug!(
                            "streamed replacement of inode {ino} aborted: write at {offset}"
                        );
                        feed.abort();
                    }
                    return None;
                }
                s.end += len;
                match &s.feed {
                    Some(feed) => {
                        feed.advance(s.end);
                        None
                    }
                    None => (s.end >= STREAM_START && self.cfg.upload_chunk_size.is_none())
                        .then_some(()),
                }
            })
            .flatten();
        if due.is_none() {
            return;
        }
        let Some((rec, io)) = self.staged_record(fh, ino) else {
            return;
        };
        // Only when no upload of it runs now (the guard moves to the
        // upload task).
        let Ok(guard) = io.try_lock_owned() else {
            return;
        };
        // Journaled as incomplete: if cmisfs stops before the commit, the
        // next start drops it and cancels a checkout the upload left.
        let marker = incomplete_marker(&rec.path);
        if let Err(e) = std::fs::File::create(&marker)
            .map_err(|e| e.to_string())
            .and_then(|_| self.store.put_record(&rec).map_err(|e| e.to_string()))
        {
            tracing::debug!("no streamed replacement of inode {ino}: {e}");
            let _ = std::fs::remove_file(&marker);
            return;
        }
        let feed = self
            .with_handle(fh, |h| {
                let s = h.staged_stream.as_mut().filter(|s| s.feed.is_none())?;
                let feed = Feed::new(s.end);
                s.feed = Some(feed.clone());
                Some(feed)
            })
            .flatten();
        let Some(feed) = feed else {
            self.forget_staged(&rec);
            return;
        };
        if let Err(e) = feed.hold_file(&rec.path) {
            tracing::debug!("no streamed replacement of inode {ino}: {e}");
            feed.abort();
            self.forget_staged(&rec);
            return;
        }
        let vfs = self.clone();
        self.rt.spawn(async move {
            writeback::stream_upload(&vfs, ino, feed, guard, Some(rec)).await;
        });
    }

    /// The journal record of a streamed replacement goes (the stream
    /// ended; a committed replacement has a record of its own).
    pub(super) fn forget_staged(&self, rec: &JournalRecord) {
        let _ = self.store.remove_record(rec.id);
        let _ = std::fs::remove_file(incomplete_marker(&rec.path));
    }

    /// What a streamed replacement uploads: the staging file of `fh` as
    /// the new content of `ino`'s document, from the token the file's
    /// content is based on now. Its journal record is marked incomplete:
    /// the replacement is not the file's until committed.
    pub(super) fn staged_record(
        &self,
        fh: Fh,
        ino: Ino,
    ) -> Option<(JournalRecord, Arc<tokio::sync::Mutex<()>>)> {
        let path = self.staging_of(fh)?;
        let t = self.lock();
        let i = t.get(ino)?;
        let object_id = i.object_id()?.to_string();
        let base_token = match &i.state {
            FileState::Dirty(d) => d.base_token.clone(),
            FileState::Clean => i.change_token().map(str::to_string),
            FileState::LocalOnly(_) => return None,
        };
        let rec = JournalRecord {
            id: self.next_journal.fetch_add(1, Ordering::Relaxed),
            parent_id: Self::folder_id(&t, i.parent).ok()?,
            name: names::to_cmis(&i.name).unwrap_or_else(|_| i.name.clone()),
            object_id: Some(object_id),
            base_token,
            path,
            mtime_ns: None,
        };
        Some((rec, i.io_lock.clone()))
    }

    /// Waits until no PUT that made `ino` as a new file is still writing
    /// it. That PUT writes into the file itself (see
    /// [`Vfs::create_replacing`]), so a replacement committed meanwhile
    /// would take the rest of its bytes. Fails with `NotFound` when that
    /// PUT broke off and the file went with it.
    async fn wait_complete(&self, ino: Ino) -> VfsResult<()> {
        let deadline = Instant::now() + self.cfg.request_timeout * 20;
        loop {
            let writing = self
                .handles
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .values()
                .any(|h| h.ino == ino && h.marker.is_some());
            if !writing {
                break;
            }
            if Instant::now() >= deadline {
                return Err(VfsError::Locked(format!(
                    "{} is being written by another request",
                    self.display_path(ino)
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        match self.lock().get(ino) {
            Some(i) if !i.unlinked => Ok(()),
            _ => Err(VfsError::NotFound(format!("inode {ino}"))),
        }
    }

    /// Takes the staging file of `fh` (deleted) and breaks off its
    /// streamed upload: the replacement is dropped.
    pub(super) fn drop_staging(&self, fh: Fh) -> bool {
        let taken = self
            .with_handle(fh, |h| (h.staging.take(), h.staged_stream.take()))
            .unwrap_or_default();
        if let Some(feed) = taken.1.and_then(|s| s.feed) {
            feed.abort();
        }
        match taken.0 {
            Some(path) => {
                let _ = std::fs::remove_file(path);
                true
            }
            None => false,
        }
    }

    /// Creates a new file whose whole content a WebDAV PUT writes: like
    /// [`Vfs::create`] (the upload may stream while the body arrives), but
    /// the file counts as incomplete until [`Vfs::commit_replace`]. If
    /// cmisfs stops before that, the next start drops its journal record
    /// instead of uploading a cut-off body. If the name exists by now (two
    /// PUTs of one new name at once), this is a replacement of that file
    /// ([`Vfs::open_replacing`]), once its own PUT is complete: the bytes
    /// of two PUTs never mix.
    pub async fn create_replacing(
        &self,
        parent: Ino,
        name: &str,
        mode: u32,
        flags: OpenFlags,
    ) -> VfsResult<(Attr, Fh)> {
        let exclusive = OpenFlags {
            exclusive: true,
            ..flags
        };
        // Again if the file went while we waited (its PUT broke off).
        for _ in 0..3 {
            match self
                .create_marked(parent, name, mode, exclusive, true)
                .await
            {
                Ok(made) => return Ok(made),
                Err(VfsError::Exists(_)) if !flags.exclusive => {
                    tracing::debug!("PUT of '{name}': made by another request meanwhile");
                }
                Err(e) => return Err(e),
            }
            let attr = match self.lookup(parent, name).await {
                Ok(a) if a.kind == FileKind::Directory => {
                    return Err(VfsError::IsDir(name.to_string()))
                }
                Ok(a) => a,
                Err(VfsError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            match self.open_replacing(attr.ino).await {
                Ok(fh) => return Ok((attr, fh)),
                Err(VfsError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(VfsError::Locked(format!(
            "'{name}' is being created and removed by other requests; try again"
        )))
    }

    /// Takes the incomplete-marker of a handle and deletes the file.
    pub(super) fn drop_marker(&self, fh: Fh) -> bool {
        let marker = self.with_handle(fh, |h| h.marker.take()).flatten();
        match marker {
            Some(m) => {
                let _ = std::fs::remove_file(m);
                true
            }
            None => false,
        }
    }

    /// Makes a replacement opened with [`Vfs::open_replacing`] the file's
    /// content (dirty, journaled, uploaded as usual), or marks a file made
    /// by [`Vfs::create_replacing`] complete. Returns whether `fh` had
    /// either to commit.
    pub async fn commit_replace(&self, fh: Fh, ino: Ino) -> VfsResult<bool> {
        // Deleted (a DELETE, an rm on the mount) while the body arrived:
        // the request fails rather than report a file that is not there.
        let deleted = {
            let t = self.lock();
            match t.get(ino) {
                Some(i) if i.unlinked => Some(i.name.clone()),
                Some(_) => None,
                None => Some(format!("inode {ino}")),
            }
        };
        if let Some(name) = deleted {
            if self.drop_marker(fh) | self.drop_staging(fh) {
                return Err(VfsError::NotFound(format!(
                    "'{name}' was deleted while it was being written"
                )));
            }
        }
        if self.drop_marker(fh) {
            return Ok(true);
        }
        let Some(staging) = self.staging_of(fh) else {
            return Ok(false);
        };
        self.make_dirty(ino, false).await?;
        self.abort_stream(ino);
        let mut t = self.lock();
        let i = t
            .get_mut(ino)
            .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
        let path = match &i.state {
            FileState::Dirty(d) => d.path.clone(),
            FileState::LocalOnly(p) => p.clone(),
            FileState::Clean => return Err(VfsError::Io("not dirty".into())),
        };
        // Same directory: the rename swaps the content at once.
        std::fs::rename(&staging, &path).map_err(|e| io_err("cannot replace the cache file", e))?;
        let len = std::fs::metadata(&path)
            .map_err(|e| io_err("cannot read the cache file", e))?
            .len();
        if matches!(i.state, FileState::Dirty(_)) {
            self.sub_dirty(i.size);
            self.dirty_bytes.fetch_add(len, Ordering::Relaxed);
        }
        i.size = len;
        i.touch_mtime();
        i.user_mtime = None;
        let delay = self.cfg.write_back_delay;
        let mut generation = None;
        if let FileState::Dirty(d) = &mut i.state {
            d.generation += 1;
            generation = Some(d.generation);
            if i.writers == 0 {
                d.upload_at = Some(Instant::now() + delay);
            }
        }
        drop(t);
        let stream = self
            .with_handle(fh, |h| {
                h.staging = None;
                h.staged_stream.take()
            })
            .flatten();
        if let Some((feed, end)) = stream.and_then(|s| Some((s.feed?, s.end))) {
            // The body ends here: the upload completes with exactly the
            // committed content, or not at all.
            match generation {
                Some(g) if end == len => feed.finish(len, g),
                _ => feed.abort(),
            }
        }
        self.events.publish([Change::Inode { ino, data: true }]);
        self.wake.notify_one();
        Ok(true)
    }
}

/// After a restart: the checkouts that streamed replacements of the last
/// run left open (cmisfs stopped before their checkIn) are cancelled. A
/// checkout that is a WebDAV lock's, or not our user's, stays.
pub(super) async fn cancel_unfinished(vfs: &Vfs, records: Vec<JournalRecord>) {
    for rec in records {
        let Some(oid) = rec.object_id.as_deref() else {
            continue;
        };
        let Ok(current) = vfs.binding().object(oid, &super::READ_OPTS).await else {
            continue;
        };
        let Some(pwc) = vfs.own_checkout_of(&current) else {
            continue;
        };
        if vfs.store.checkout(&super::object_key(&current)).is_some() {
            continue;
        }
        match vfs.binding().cancel_check_out(&pwc).await {
            Ok(()) => tracing::warn!(
                "cancelled the checkout of '{}' left by a WebDAV upload that never completed",
                rec.name
            ),
            Err(e) => tracing::warn!(
                "cannot cancel the checkout of '{}' left by an unfinished WebDAV upload: {e}",
                rec.name
            ),
        }
    }
}
