//! The data path: reading and writing file content through open handles.
//!
//! Reads of clean documents go through the content cache (ranged
//! downloads with a read-ahead window that grows while access is
//! sequential); reads and writes of dirty or local-only files go to their
//! cache file. Writes mark the file dirty; `fsync` uploads and waits;
//! the last `release` of a writer schedules the upload after
//! `write_back_delay`.

use std::os::unix::fs::FileExt;

use bytes::Bytes;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::content::{self, ContentCache};
use super::events::Change;
use super::feed::{Feed, STREAM_START};
use super::inode::FileState;
use super::types::*;
use super::{io_err, version_tag, versions, writeback, Vfs};

/// An open file.
#[derive(Debug, Clone)]
pub(super) struct Handle {
    #[allow(dead_code)] // kept for debugging and the WebDAV adapter
    pub ino: Ino,
    pub write: bool,
    pub next_off: u64,
    pub window: u64,
    /// A whole-content replacement (see [`Vfs::open_replacing`]): the
    /// bytes written so far, not yet the file's.
    pub staging: Option<PathBuf>,
    /// A new file that is incomplete until commit (see
    /// [`Vfs::create_replacing`]): its marker file.
    pub marker: Option<PathBuf>,
    /// A replacement written by appends from its start: how far, and its
    /// streamed upload once started (see [`Vfs::note_staged_write`]).
    /// `None` once a write elsewhere ruled streaming out.
    pub staged_stream: Option<Stream>,
}

/// A new file being written by appends only (see [`super::feed`]).
#[derive(Debug, Clone)]
pub(super) struct Stream {
    /// Bytes appended so far.
    pub(super) end: u64,
    /// The streamed upload, once started.
    pub(super) feed: Option<Arc<Feed>>,
}

/// Where the bytes of a read come from.
enum Src {
    /// A dirty or local-only file's cache file, and the file's size.
    Local(PathBuf, u64),
    /// The content cache: object id, version tag, size.
    Remote(String, String, u64),
}

fn read_local(path: &std::path::Path, len: u64, offset: u64, size: u32) -> VfsResult<Bytes> {
    if offset >= len {
        return Ok(Bytes::new());
    }
    let n = (len - offset).min(size as u64) as usize;
    ContentCache::read_at(path, offset, n).map(Bytes::from)
}

/// How long fsync retries an upload that met a transient failure, and one
/// that found the server unreachable.
const FSYNC_RETRIES: Duration = Duration::from_secs(5);
const FSYNC_RETRIES_UNREACHABLE: Duration = Duration::from_secs(1);
const MIN_WINDOW: u64 = 1 << 20;
const MAX_WINDOW: u64 = 64 << 20;
/// How far from the previous read a read still counts as sequential.
const SEQUENTIAL_SLACK: u64 = 4 << 20;

impl Vfs {
    /// A new open handle of `ino`.
    pub(super) fn new_handle(&self, ino: Ino, write: bool) -> Fh {
        let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
        self.handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                fh,
                Handle {
                    ino,
                    write,
                    next_off: 0,
                    window: MIN_WINDOW,
                    staging: None,
                    marker: None,
                    staged_stream: None,
                },
            );
        fh
    }

    /// `f` on the open handle `fh` (`None`: no such handle).
    pub(super) fn with_handle<R>(&self, fh: Fh, f: impl FnOnce(&mut Handle) -> R) -> Option<R> {
        self.handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&fh)
            .map(f)
    }

    /// Whether the kernel may keep its page cache for this file (the
    /// content did not change since it was cached).
    pub fn keep_cache(&self, ino: Ino) -> bool {
        // A version never changes.
        if versions::is_virtual(ino) {
            return true;
        }
        let mut t = self.lock();
        let Some(i) = t.get_mut(ino) else {
            return false;
        };
        match (&i.state, i.content_object()) {
            (FileState::Clean, Some(o)) => {
                let tag = version_tag(o);
                let keep = i.page_cache_tag.as_deref() == Some(tag.as_str());
                i.page_cache_tag = Some(tag);
                keep
            }
            // Our own bytes: every change went through the kernel. After
            // the upload the tag is new, so the next open starts afresh.
            (FileState::Dirty(_) | FileState::LocalOnly(_), _) => {
                i.page_cache_tag = None;
                true
            }
            _ => false,
        }
    }

    /// Where a file's bytes are for reading.
    fn read_source(&self, ino: Ino) -> VfsResult<Src> {
        if versions::is_virtual(ino) {
            let (id, tag, size) = self.version_source(ino)?;
            return Ok(Src::Remote(id, tag, size));
        }
        let t = self.lock();
        let i = t.file(ino)?;
        Ok(match &i.state {
            FileState::Dirty(d) => Src::Local(d.path.clone(), i.size),
            FileState::LocalOnly(p) => Src::Local(p.clone(), i.size),
            FileState::Clean => match i.content_object() {
                Some(o) => Src::Remote(o.id().to_string(), version_tag(o), i.size),
                None => Src::Local(PathBuf::new(), 0),
            },
        })
    }

    /// Records a read on its handle; returns the read-ahead window.
    fn note_read(&self, fh: Fh, offset: u64, size: u32) -> u64 {
        let mut h = self.handles.lock().unwrap_or_else(|p| p.into_inner());
        match h.get_mut(&fh) {
            Some(h) => {
                // The kernel's read-ahead sends several requests at once,
                // which may arrive a little out of order: near the last
                // one is still sequential.
                let near = offset.abs_diff(h.next_off) <= SEQUENTIAL_SLACK;
                if near && offset > 0 {
                    h.window = (h.window * 2).min(MAX_WINDOW);
                } else if !near {
                    h.window = MIN_WINDOW;
                }
                h.next_off = if near {
                    h.next_off.max(offset + size as u64)
                } else {
                    offset + size as u64
                };
                h.window
            }
            None => MIN_WINDOW,
        }
    }

    /// Sequential: keeps the download ahead of the reader.
    fn read_ahead(&self, id: &str, tag: &str, len: u64, next: u64, window: u64) {
        if window > MIN_WINDOW && next < len {
            let want = content::Want {
                object_id: id,
                token: tag,
                size: len,
                offset: next,
                len: window,
                readahead: window,
            };
            let _rt = self.rt.enter();
            self.cache.prefetch(&self.binding, &want);
        }
    }

    /// A read that needs no waiting (local bytes, or downloaded ones),
    /// done at once on the caller's thread (the FUSE adapter's). `None`:
    /// use [`Vfs::read`].
    pub fn try_read_now(
        self: &Arc<Self>,
        fh: Fh,
        ino: Ino,
        offset: u64,
        size: u32,
    ) -> Option<VfsResult<Bytes>> {
        match self.read_source(ino) {
            Err(e) => Some(Err(e)),
            Ok(Src::Local(path, len)) => Some(read_local(&path, len, offset, size)),
            Ok(Src::Remote(id, tag, len)) => {
                if offset >= len {
                    return Some(Ok(Bytes::new()));
                }
                let end = (offset + size as u64).min(len);
                let path = self.cache.present(&id, &tag, offset, end)?;
                let window = self.note_read(fh, offset, size);
                self.read_ahead(&id, &tag, len, offset + size as u64, window);
                Some(
                    self.cache
                        .read(&id, &tag, &path, offset, (end - offset) as usize),
                )
            }
        }
    }

    pub async fn read(
        self: &Arc<Self>,
        fh: Fh,
        ino: Ino,
        offset: u64,
        size: u32,
    ) -> VfsResult<Bytes> {
        match self.read_source(ino)? {
            Src::Local(path, len) => read_local(&path, len, offset, size),
            Src::Remote(id, tag, len) => {
                if offset >= len {
                    return Ok(Bytes::new());
                }
                let window = self.note_read(fh, offset, size);
                let want = content::Want {
                    object_id: &id,
                    token: &tag,
                    size: len,
                    offset,
                    len: size as u64,
                    readahead: window,
                };
                let path = tokio::time::timeout(
                    self.cfg.request_timeout,
                    self.cache.ensure(&self.binding, &want),
                )
                .await
                .map_err(|_| VfsError::Io("download timed out".into()))??;
                self.read_ahead(&id, &tag, len, offset + size as u64, window);
                let n = (len - offset).min(size as u64) as usize;
                self.cache.read(&id, &tag, &path, offset, n)
            }
        }
    }

    pub async fn write(
        self: &Arc<Self>,
        fh: Fh,
        ino: Ino,
        offset: u64,
        data: &[u8],
    ) -> VfsResult<u32> {
        versions::refuse(&[ino])?;
        if let Some(staging) = self.staging_of(fh) {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&staging)
                .map_err(|e| io_err("cannot open the cache file", e))?;
            f.write_all_at(data, offset)
                .map_err(|e| io_err("cannot write the cache file", e))?;
            self.note_staged_write(fh, ino, offset, data.len() as u64);
            return Ok(data.len() as u32);
        }
        // Back-pressure: wait while uploads are behind.
        let mut waited = 0;
        while self.dirty_bytes.load(Ordering::Relaxed) > self.cfg.max_dirty_bytes
            && !self.stopping.load(Ordering::Relaxed)
            && waited < 600
        {
            self.wake.notify_one();
            let _ =
                tokio::time::timeout(Duration::from_millis(500), self.progress.notified()).await;
            waited += 1;
        }
        let clean = {
            let t = self.lock();
            matches!(t.get(ino).map(|i| &i.state), Some(FileState::Clean))
        };
        if clean {
            // The first write since the open (or since an fsync uploaded
            // it while still open): dirty, from the repository's content.
            self.make_dirty(ino, true).await?;
        }
        match self.try_write_now(ino, offset, data, true) {
            Some(r) => r,
            None => Err(VfsError::Io(
                "write to a file not opened for writing".into(),
            )),
        }
    }

    /// A write that needs no waiting (the file is dirty and uploads are
    /// not behind), done at once: the FUSE adapter calls this on its own
    /// thread, saving a copy of the data and a hop to the runtime. `None`:
    /// use [`Vfs::write`].
    pub fn try_write_now(
        self: &Arc<Self>,
        ino: Ino,
        offset: u64,
        data: &[u8],
        waited: bool,
    ) -> Option<VfsResult<u32>> {
        if let Err(e) = versions::refuse(&[ino]) {
            return Some(Err(e));
        }
        if !waited && self.dirty_bytes.load(Ordering::Relaxed) > self.cfg.max_dirty_bytes {
            return None;
        }
        let path = {
            let t = self.lock();
            match t.get(ino).map(|i| &i.state) {
                Some(FileState::Dirty(d)) => d.path.clone(),
                Some(FileState::LocalOnly(p)) => p.clone(),
                Some(FileState::Clean) => return None,
                None => return Some(Err(VfsError::NotFound(format!("inode {ino}")))),
            }
        };
        Some(self.write_local(&path, ino, offset, data))
    }

    fn write_local(
        self: &Arc<Self>,
        path: &std::path::Path,
        ino: Ino,
        offset: u64,
        data: &[u8],
    ) -> VfsResult<u32> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| io_err("cannot open the cache file", e))?;
        f.write_all_at(data, offset)
            .map_err(|e| io_err("cannot write the cache file", e))?;
        let mut t = self.lock();
        if let Some(i) = t.get_mut(ino) {
            let end = offset + data.len() as u64;
            if end > i.size {
                self.dirty_bytes.fetch_add(end - i.size, Ordering::Relaxed);
                i.size = end;
            }
            i.touch_mtime();
            i.user_mtime = None;
            if let FileState::Dirty(d) = &mut i.state {
                d.generation += 1;
            }
        }
        drop(t);
        self.note_write(ino, offset, data.len() as u64);
        Ok(data.len() as u32)
    }

    /// close(): a writer learns here that the repository refused the last
    /// upload of this file for good (the data stays in the journal).
    pub async fn flush(&self, fh: Fh, ino: Ino) -> VfsResult<()> {
        let write = self
            .handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&fh)
            .is_some_and(|h| h.write);
        if !write {
            return Ok(());
        }
        let t = self.lock();
        match t.get(ino).and_then(|i| i.refused.clone()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Watches a new file's writes: while they are appends, its upload
    /// may start before it is complete. Hidden names (rsync's and
    /// editors' temp files, renamed over their target when done) and
    /// desktop temp files are not streamed.
    pub(super) fn track_appends(&self, ino: Ino, name: &str) {
        if name.starts_with('.') || self.is_local_only(name) || self.cfg.read_only {
            return;
        }
        self.streams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(ino, Stream { end: 0, feed: None });
    }

    /// Stops watching, and breaks off a streamed upload in progress (the
    /// file is uploaded the ordinary way).
    pub(super) fn abort_stream(&self, ino: Ino) {
        let s = self
            .streams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&ino);
        if let Some(feed) = s.and_then(|s| s.feed) {
            tracing::debug!("streamed upload of inode {ino} aborted");
            feed.abort();
        }
    }

    /// The file is complete (fsync, last close): a streamed upload ends at
    /// its present size.
    fn finish_stream(&self, ino: Ino) {
        let s = self
            .streams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&ino);
        let Some(feed) = s.and_then(|s| s.feed) else {
            return;
        };
        let t = self.lock();
        match t.get(ino) {
            Some(i) => match &i.state {
                FileState::Dirty(d) => feed.finish(i.size, d.generation),
                _ => feed.abort(),
            },
            None => feed.abort(),
        }
    }

    /// After a write of `len` bytes at `offset`: extends, starts or
    /// aborts the file's streamed upload.
    fn note_write(self: &Arc<Self>, ino: Ino, offset: u64, len: u64) {
        let mut streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
        let Some(s) = streams.get_mut(&ino) else {
            return;
        };
        if offset != s.end {
            let feed = s.feed.take();
            streams.remove(&ino);
            drop(streams);
            if let Some(feed) = feed {
                tracing::debug!("streamed upload of inode {ino} aborted: write at {offset}");
                feed.abort();
            }
            return;
        }
        s.end += len;
        match &s.feed {
            Some(feed) => feed.advance(s.end),
            // In chunks (--upload-chunk-size) a file is never one request.
            None if s.end >= STREAM_START && self.cfg.upload_chunk_size.is_none() => {
                // Only when no upload of it runs now (the guard moves to
                // the upload task).
                let io = self.lock().get(ino).map(|i| i.io_lock.clone());
                let Some(guard) = io.and_then(|io| io.try_lock_owned().ok()) else {
                    return;
                };
                let feed = Feed::new(s.end);
                s.feed = Some(feed.clone());
                drop(streams);
                let vfs = self.clone();
                self.rt.spawn(async move {
                    writeback::stream_upload(&vfs, ino, feed, guard, None).await;
                });
            }
            None => {}
        }
    }

    /// The writer gave up before finishing (a WebDAV PUT whose body broke
    /// off): what it wrote is not the file the client meant, so it is
    /// dropped instead of uploaded. A replacement ([`Vfs::open_replacing`])
    /// just goes, leaving the file as it was. Otherwise a file new with
    /// this writer goes away, and a document goes back to the repository's
    /// copy. Nothing happens while another writer has the file open.
    pub async fn abandon(&self, fh: Fh, ino: Ino) -> VfsResult<()> {
        let staged = self.drop_staging(fh);
        self.drop_marker(fh);
        if staged {
            tracing::warn!(
                "an unfinished replacement of '{}' was dropped; the file is unchanged",
                self.display_path(ino)
            );
            return Ok(());
        }
        self.abort_stream(ino);
        // Another writer's bytes (a replacement staged meanwhile) are not
        // this writer's to drop.
        let others = self
            .handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|(k, h)| *k != fh && h.ino == ino && (h.write || h.staging.is_some()));
        if others {
            return Ok(());
        }
        let new_file = {
            let mut t = self.lock();
            let Some(i) = t.get_mut(ino) else {
                return Ok(());
            };
            if i.writers > 1 || !i.is_dirty() || i.unlinked {
                return Ok(());
            }
            match i.object.clone() {
                Some(o) => {
                    self.discard_local(i);
                    self.apply_object(i, o);
                    i.expire_attr();
                    tracing::warn!(
                        "an unfinished write of '{}' was dropped; the repository's copy stays",
                        i.name
                    );
                    None
                }
                None => Some((i.parent, i.name.clone())),
            }
        };
        match new_file {
            None => {
                self.events.publish([Change::Inode { ino, data: true }]);
                Ok(())
            }
            Some((parent, name)) => {
                tracing::warn!("an unfinished new file '{name}' was dropped");
                self.unlink(parent, &name).await
            }
        }
    }

    /// Uploads now and waits: the server's answer is the result. A server
    /// hiccup (a 503, a dropped connection) is retried for a few seconds,
    /// as metadata calls are: an editor's save or a WebDAV PUT fails only
    /// if the server stays unwell (the write-back goes on retrying then).
    pub async fn fsync(&self, ino: Ino) -> VfsResult<()> {
        self.finish_stream(ino);
        let start = Instant::now();
        let mut delay = Duration::from_millis(100);
        // The retries here count as one attempt for the write-back's backoff.
        let attempts = self.lock().get(ino).map_or(0, |i| i.attempts);
        loop {
            let dirty = {
                let t = self.lock();
                t.get(ino).is_some_and(|i| i.is_dirty() && !i.unlinked)
            };
            if !dirty {
                return Ok(());
            }
            match writeback::upload_inode(self, ino).await {
                Err(VfsError::Io(m))
                    if self.lock().get(ino).is_some_and(|i| {
                        // As `with_retries`: a server that does not answer
                        // at all gets one second, a flaky one five.
                        let budget = if i.unreachable {
                            FSYNC_RETRIES_UNREACHABLE
                        } else {
                            FSYNC_RETRIES
                        };
                        i.refused.is_none() && start.elapsed() + delay < budget
                    }) =>
                {
                    if let Some(i) = self.lock().get_mut(ino) {
                        i.attempts = attempts;
                    }
                    tracing::debug!("fsync: retrying the upload after: {m}");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
                r => return r,
            }
        }
    }

    pub async fn release(&self, fh: Fh, ino: Ino) -> VfsResult<()> {
        let h = self
            .handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&fh);
        // A replacement never committed: the file is unchanged (its
        // streamed upload, if any, is broken off). A new file's marker
        // goes too: what is there now is kept.
        if let Some(feed) = h
            .as_ref()
            .and_then(|h| h.staged_stream.as_ref())
            .and_then(|s| s.feed.clone())
        {
            feed.abort();
        }
        for f in h
            .iter()
            .flat_map(|h| h.staging.iter().chain(h.marker.iter()))
        {
            let _ = std::fs::remove_file(f);
        }
        if h.is_some_and(|h| h.write) {
            // Written by WebDAV: the mount's cached pages and size are old.
            self.events.publish([Change::Inode { ino, data: true }]);
            let mut t = self.lock();
            if let Some(i) = t.get_mut(ino) {
                i.writers = i.writers.saturating_sub(1);
                if i.writers == 0 {
                    if let FileState::Dirty(d) = &mut i.state {
                        d.upload_at = Some(Instant::now() + self.cfg.write_back_delay);
                    }
                }
            }
            let last = t.get(ino).is_none_or(|i| i.writers == 0);
            drop(t);
            if last {
                self.finish_stream(ino);
            }
            self.wake.notify_one();
        }
        Ok(())
    }
}
