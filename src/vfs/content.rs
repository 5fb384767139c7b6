//! The content cache: the server's bytes of clean documents, on local disk.
//!
//! One sparse file per (object id, change token) under `CACHE/content/`,
//! with the byte ranges already downloaded. A read fetches only the missing
//! parts of what it needs plus a read-ahead window (the caller grows the
//! window while access is sequential), with HTTP Range requests: reading
//! the first block of a 1 GiB document downloads about a window, not the
//! whole file. A new change token is a new entry, so stale bytes are never
//! served. The cache is bounded by `--cache-size`: least recently used
//! entries are evicted; dirty data lives elsewhere (`CACHE/dirty/`) and is
//! never evicted.

use std::collections::HashMap;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::cmis::{Binding, ByteRange};

use super::types::{VfsError, VfsResult};

/// Downloaded ranges of one entry, sorted, merged, half-open.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ranges(Vec<(u64, u64)>);

impl Ranges {
    pub fn add(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        self.0.push((start, end));
        self.0.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.0.len());
        for &(s, e) in &self.0 {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        self.0 = merged;
    }

    /// The parts of `[start, end)` not yet present.
    pub fn missing(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut pos = start;
        for &(s, e) in &self.0 {
            if e <= pos {
                continue;
            }
            if s >= end {
                break;
            }
            if s > pos {
                out.push((pos, s.min(end)));
            }
            pos = pos.max(e);
            if pos >= end {
                break;
            }
        }
        if pos < end {
            out.push((pos, end));
        }
        out
    }

    pub fn bytes(&self) -> u64 {
        self.0.iter().map(|(s, e)| e - s).sum()
    }
}

struct Entry {
    path: PathBuf,
    ranges: Ranges,
    last_used: Instant,
    /// Ranges being downloaded now (several at once: a far jump starts
    /// its own download instead of waiting for the running one).
    inflight: Vec<(u64, u64)>,
    /// Signalled whenever downloaded bytes arrive.
    progress: Arc<tokio::sync::Notify>,
    /// The last background download's failure, for the waiting reader.
    error: Option<VfsError>,
}

/// What a reader needs from the cache.
#[derive(Debug, Clone, Copy)]
pub struct Want<'a> {
    pub object_id: &'a str,
    /// The version's change token (see `version_tag`).
    pub token: &'a str,
    /// The document's size.
    pub size: u64,
    pub offset: u64,
    pub len: u64,
    /// Fetch this much from `offset` when something is missing.
    pub readahead: u64,
}

pub struct ContentCache {
    dir: PathBuf,
    limit: u64,
    entries: Mutex<HashMap<String, Entry>>,
}

fn io_err(what: &str, e: std::io::Error) -> VfsError {
    if e.raw_os_error() == Some(28) {
        VfsError::NoSpace(format!("{what}: {e}"))
    } else {
        VfsError::Io(format!("{what}: {e}"))
    }
}

fn entry_key(object_id: &str, token: &str) -> String {
    format!("{object_id}\u{0}{token}")
}

/// A file name for a cache key (hex of a hash; collisions only cost a
/// re-download because the entry table is keyed by the full key).
fn file_name(key: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, key.as_bytes());
    d.as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl ContentCache {
    pub fn new(dir: &Path, limit: u64) -> VfsResult<ContentCache> {
        let dir = dir.join("content");
        // Entries do not survive a restart (their ranges are in memory).
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| io_err("cannot create the content cache", e))?;
        Ok(ContentCache {
            dir,
            limit,
            entries: Mutex::new(HashMap::new()),
        })
    }

    #[allow(clippy::type_complexity)]
    fn entry(&self, key: &str) -> (PathBuf, Arc<tokio::sync::Notify>) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = map.entry(key.to_string()).or_insert_with(|| Entry {
            path: self.dir.join(file_name(key)),
            ranges: Ranges::default(),
            last_used: Instant::now(),
            inflight: Vec::new(),
            progress: Arc::new(tokio::sync::Notify::new()),
            error: None,
        });
        e.last_used = Instant::now();
        (e.path.clone(), e.progress.clone())
    }

    fn missing(&self, key: &str, start: u64, end: u64) -> Vec<(u64, u64)> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some(e) => e.ranges.missing(start, end),
            None => vec![(start, end)],
        }
    }

    fn add_range(&self, key: &str, start: u64, end: u64) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = map.get_mut(key) {
            e.ranges.add(start, end);
            e.progress.notify_waiters();
        }
    }

    /// Makes `want.offset .. +want.len` (clipped to the size) present.
    /// When bytes are missing, a download of the read-ahead window starts
    /// in the background and the reader waits only for its own bytes (the
    /// download records its progress chunk by chunk), so a sequential
    /// reader streams. Returns the cache file's path.
    pub async fn ensure(
        self: &Arc<Self>,
        binding: &Arc<dyn Binding>,
        want: &Want<'_>,
    ) -> VfsResult<PathBuf> {
        let key = entry_key(want.object_id, want.token);
        let (path, progress) = self.entry(&key);
        let end = want.offset.saturating_add(want.len).min(want.size);
        let mut failures = 0;
        loop {
            let notified = progress.notified();
            if want.offset >= end || self.missing(&key, want.offset, end).is_empty() {
                return Ok(path);
            }
            if let Some(e) = self.take_error(&key) {
                failures += 1;
                if failures >= 3 {
                    return Err(e);
                }
            }
            self.start_download(binding, want, &key);
            let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
        }
    }

    /// Starts downloading the read-ahead window after `want.offset` unless
    /// a download of this entry is running already.
    pub fn prefetch(self: &Arc<Self>, binding: &Arc<dyn Binding>, want: &Want<'_>) {
        let key = entry_key(want.object_id, want.token);
        self.entry(&key);
        self.start_download(binding, want, &key);
    }

    fn start_download(self: &Arc<Self>, binding: &Arc<dyn Binding>, want: &Want<'_>, key: &str) {
        let (path, progress) = self.entry(key);
        let fetch_end = want
            .offset
            .saturating_add(want.len.max(want.readahead))
            .min(want.size);
        let holes: Vec<(u64, u64)> = {
            let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            let Some(e) = map.get_mut(key) else {
                return;
            };
            let mut busy = Ranges::default();
            for &(s, t) in &e.inflight {
                busy.add(s, t);
            }
            let holes: Vec<(u64, u64)> = e
                .ranges
                .missing(want.offset, fetch_end)
                .into_iter()
                .flat_map(|(s, t)| busy.missing(s, t))
                .collect();
            e.inflight.extend(holes.iter().copied());
            holes
        };
        if holes.is_empty() {
            return;
        }
        let (cache, binding) = (self.clone(), binding.clone());
        let (key, object_id) = (key.to_string(), want.object_id.to_string());
        tokio::spawn(async move {
            let r = async {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .map_err(|e| io_err("cannot open a cache file", e))?;
                for &(s, e) in &holes {
                    cache
                        .fetch(&*binding, &object_id, &file, &key, s, e)
                        .await?;
                }
                Ok::<(), VfsError>(())
            }
            .await;
            {
                let mut map = cache.entries.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(e) = map.get_mut(&key) {
                    e.inflight.retain(|h| !holes.contains(h));
                    if let Err(err) = &r {
                        e.error = Some(err.clone());
                    }
                }
            }
            if let Err(e) = &r {
                tracing::debug!("download of {object_id} failed: {e}");
            }
            progress.notify_waiters();
            cache.evict();
        });
    }

    fn take_error(&self, key: &str) -> Option<VfsError> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get_mut(key).and_then(|e| e.error.take())
    }

    async fn fetch(
        &self,
        binding: &dyn Binding,
        object_id: &str,
        file: &std::fs::File,
        key: &str,
        start: u64,
        end: u64,
    ) -> VfsResult<()> {
        let stream = binding
            .content(
                object_id,
                Some(ByteRange {
                    offset: start,
                    length: Some(end - start),
                }),
            )
            .await?;
        // A server that ignores Range sends from byte 0.
        let mut pos = stream.range_start.unwrap_or(0);
        let mut body = stream.body;
        let mut done_from = start;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| VfsError::Io(format!("download broke off: {e}")))?;
            let cstart = pos;
            let cend = pos + chunk.len() as u64;
            pos = cend;
            if cend <= start {
                continue;
            }
            let skip = start.saturating_sub(cstart) as usize;
            let upto = (end.min(cend) - cstart) as usize;
            if skip < upto {
                file.write_at(&chunk[skip..upto], cstart + skip as u64)
                    .map_err(|e| io_err("cannot write the content cache", e))?;
            }
            // Record progress as we go so a parallel reader could use it.
            let reached = end.min(cend);
            if reached > done_from {
                self.add_range(key, done_from, reached);
                done_from = reached;
            }
            if cend >= end {
                break;
            }
        }
        if done_from < end {
            return Err(VfsError::Io(format!(
                "the server sent {} of {} bytes",
                done_from - start,
                end - start
            )));
        }
        Ok(())
    }

    /// Reads `[offset, offset+len)` of a cached entry (after [`ensure`]).
    pub fn read_at(path: &Path, offset: u64, len: usize) -> VfsResult<Vec<u8>> {
        let f = std::fs::File::open(path).map_err(|e| io_err("cannot read the cache", e))?;
        let mut buf = vec![0u8; len];
        let mut got = 0;
        while got < len {
            let n = f
                .read_at(&mut buf[got..], offset + got as u64)
                .map_err(|e| io_err("cannot read the cache", e))?;
            if n == 0 {
                break;
            }
            got += n;
        }
        buf.truncate(got);
        Ok(buf)
    }

    /// Copies the whole document into `dest` (to start editing it).
    pub async fn copy_full(
        self: &Arc<Self>,
        binding: &Arc<dyn Binding>,
        object_id: &str,
        token: &str,
        size: u64,
        dest: &Path,
    ) -> VfsResult<()> {
        let src = self
            .ensure(
                binding,
                &Want {
                    object_id,
                    token,
                    size,
                    offset: 0,
                    len: size,
                    readahead: size,
                },
            )
            .await?;
        if size == 0 {
            std::fs::File::create(dest).map_err(|e| io_err("cannot create a cache file", e))?;
            return Ok(());
        }
        std::fs::copy(&src, dest).map_err(|e| io_err("cannot copy into the cache", e))?;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(dest)
            .map_err(|e| io_err("cannot open a cache file", e))?;
        f.set_len(size)
            .map_err(|e| io_err("cannot size a cache file", e))?;
        Ok(())
    }

    /// Takes over a file with the complete content of a version (a dirty
    /// file just uploaded), so re-reads need no download.
    pub fn adopt(&self, object_id: &str, token: &str, file: &Path, size: u64) {
        let key = entry_key(object_id, token);
        let path = self.dir.join(file_name(&key));
        if std::fs::rename(file, &path).is_err() {
            let _ = std::fs::remove_file(file);
            return;
        }
        let mut ranges = Ranges::default();
        ranges.add(0, size);
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(
            key,
            Entry {
                path,
                ranges,
                last_used: Instant::now(),
                inflight: Vec::new(),
                progress: Arc::new(tokio::sync::Notify::new()),
                error: None,
            },
        );
        drop(map);
        self.evict();
    }

    /// Bytes held.
    pub fn used(&self) -> u64 {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.values().map(|e| e.ranges.bytes()).sum()
    }

    /// Evicts least recently used entries (not being downloaded) until the
    /// cache fits its limit.
    fn evict(&self) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let mut used: u64 = map.values().map(|e| e.ranges.bytes()).sum();
        if used <= self.limit {
            return;
        }
        let mut order: Vec<(Instant, String)> =
            map.iter().map(|(k, e)| (e.last_used, k.clone())).collect();
        order.sort();
        for (_, key) in order {
            if used <= self.limit {
                break;
            }
            let busy = map.get(&key).is_some_and(|e| !e.inflight.is_empty());
            if busy {
                continue;
            }
            if let Some(e) = map.remove(&key) {
                used = used.saturating_sub(e.ranges.bytes());
                let _ = std::fs::remove_file(&e.path);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_and_report_holes() {
        let mut r = Ranges::default();
        r.add(10, 20);
        r.add(30, 40);
        assert_eq!(r.missing(0, 50), vec![(0, 10), (20, 30), (40, 50)]);
        assert_eq!(r.missing(12, 18), vec![]);
        r.add(15, 35);
        assert_eq!(r.0, vec![(10, 40)]);
        assert_eq!(r.missing(5, 45), vec![(5, 10), (40, 45)]);
        assert_eq!(r.bytes(), 30);
    }
}
