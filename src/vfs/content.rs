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

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
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

    /// The end of the present run of bytes that contains `from` (`from`
    /// itself when that byte is missing).
    pub fn contiguous_end(&self, from: u64) -> u64 {
        let mut end = from;
        for &(s, e) in &self.0 {
            if s > end {
                break;
            }
            end = end.max(e);
        }
        end
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
    /// Downloaded chunks not yet stored in the cache file, by offset:
    /// readers take them from memory, so storing runs beside the download
    /// instead of in front of the reader.
    unwritten: BTreeMap<u64, Bytes>,
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

/// Downloaded bytes are stored in the cache file in runs of at least
/// this size, one write at a time per download (parallel writes to one
/// file only contend for its lock)...
const WRITE_BATCH: usize = 1 << 20;
/// ...while at most this much waits for the write in progress (bounds
/// memory when the disk is slower than the network).
const WRITE_BACKLOG: usize = 8 << 20;

async fn join_write(w: tokio::task::JoinHandle<VfsResult<()>>) -> VfsResult<()> {
    w.await
        .map_err(|e| VfsError::Io(format!("cache writer failed: {e}")))?
}

fn io_err(what: &str, e: std::io::Error) -> VfsError {
    if e.raw_os_error() == Some(28) {
        VfsError::NoSpace(format!("{what}: {e}"))
    } else {
        VfsError::Io(format!("{what}: {e}"))
    }
}

/// Up to `len` bytes of `file` from `offset` (fewer at its end), read
/// into fresh memory without zeroing it first: on the hot paths (every
/// read of a cached file, every piece of a streamed upload) the zeroing
/// cost about as much as the copy.
pub fn read_exact_or_eof(
    file: &std::fs::File,
    offset: u64,
    len: usize,
) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut buf = Vec::with_capacity(len);
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.take(len as u64).read_to_end(&mut buf)?;
    Ok(buf)
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
            unwritten: BTreeMap::new(),
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
                // A broken download is retried (the caller bounds the
                // wait); an answer such as "not found" is final.
                failures += 1;
                if !matches!(e, VfsError::Io(_) | VfsError::TimedOut(_)) || failures > 50 {
                    return Err(e);
                }
                tokio::time::sleep(Duration::from_millis(20 * failures.min(10))).await;
            }
            self.start_download(binding, want, &key);
            let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
        }
    }

    /// The cache file when `[start, end)` of the entry is all present.
    pub fn present(&self, object_id: &str, token: &str, start: u64, end: u64) -> Option<PathBuf> {
        let key = entry_key(object_id, token);
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = map.get_mut(&key)?;
        if !e.ranges.missing(start, end).is_empty() {
            return None;
        }
        e.last_used = Instant::now();
        Some(e.path.clone())
    }

    /// Keeps a sequential reader's read-ahead window filled: when less than
    /// `want.readahead` after `want.offset` is present or being downloaded,
    /// a download of the next half window starts. So a
    /// sequential read costs a few large range requests (the window grows
    /// with the caller's), not one per read call.
    pub fn prefetch(self: &Arc<Self>, binding: &Arc<dyn Binding>, want: &Want<'_>) {
        let key = entry_key(want.object_id, want.token);
        self.entry(&key);
        let target = want.offset.saturating_add(want.readahead).min(want.size);
        let covered = {
            let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            let Some(e) = map.get(&key) else {
                return;
            };
            let mut have = e.ranges.clone();
            for &(s, t) in &e.inflight {
                have.add(s, t);
            }
            have.contiguous_end(want.offset)
        };
        if covered >= target {
            return;
        }
        // Requests of half a window: two run side by side while the reader
        // consumes the first (one stream alone leaves the CPUs idle while
        // it waits on the network round trips).
        let step = (want.readahead / 2).max(1 << 20);
        let upto = covered.saturating_add(step).min(want.size);
        let from = Want {
            offset: covered,
            len: upto - covered,
            readahead: upto - covered,
            ..*want
        };
        self.start_download(binding, &from, &key);
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
                let file = Arc::new(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .truncate(false)
                        .write(true)
                        .open(&path)
                        .map_err(|e| io_err("cannot open a cache file", e))?,
                );
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
        self: &Arc<Self>,
        binding: &dyn Binding,
        object_id: &str,
        file: &Arc<std::fs::File>,
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
        // Chunks become readable at once (from memory) and are stored by
        // one blocking write at a time; what arrives meanwhile waits, up
        // to WRITE_BACKLOG, and goes in the next write.
        let mut batch: Vec<(u64, Bytes)> = Vec::new();
        let mut batch_bytes = 0usize;
        let mut writing: Option<tokio::task::JoinHandle<VfsResult<()>>> = None;
        let r = async {
            loop {
                let next = body.next().await;
                let finished = next.is_none();
                if let Some(chunk) = next {
                    let chunk =
                        chunk.map_err(|e| VfsError::Io(format!("download broke off: {e}")))?;
                    let cstart = pos;
                    let cend = pos + chunk.len() as u64;
                    pos = cend;
                    if cend > start {
                        let skip = start.saturating_sub(cstart) as usize;
                        let upto = (end.min(cend) - cstart) as usize;
                        if skip < upto {
                            let at = cstart + skip as u64;
                            let piece = chunk.slice(skip..upto);
                            let reached = at + piece.len() as u64;
                            self.add_unwritten(key, at, piece.clone(), done_from, reached);
                            done_from = done_from.max(reached);
                            batch_bytes += piece.len();
                            batch.push((at, piece));
                        }
                    }
                }
                let last = pos >= end || finished;
                if batch.is_empty() || (batch_bytes < WRITE_BATCH && !last) {
                    if last {
                        break;
                    }
                    continue;
                }
                if let Some(w) = writing.take() {
                    if w.is_finished() || batch_bytes >= WRITE_BACKLOG || last {
                        join_write(w).await?;
                    } else {
                        writing = Some(w);
                        continue;
                    }
                }
                let (cache, file, key) = (self.clone(), file.clone(), key.to_string());
                let chunks = std::mem::take(&mut batch);
                batch_bytes = 0;
                writing = Some(tokio::task::spawn_blocking(move || {
                    cache.store(&file, &key, &chunks)
                }));
                if last {
                    break;
                }
            }
            Ok::<(), VfsError>(())
        }
        .await;
        // The write finishes (or fails) before the download counts as
        // done: an entry with no download running has nothing in memory.
        let stored = match writing {
            Some(w) => join_write(w).await,
            None => Ok(()),
        };
        r?;
        stored?;
        if done_from < end {
            return Err(VfsError::Io(format!(
                "the server sent {} of {} bytes",
                done_from - start,
                end - start
            )));
        }
        Ok(())
    }

    /// Makes a downloaded chunk readable before it is stored.
    fn add_unwritten(&self, key: &str, at: u64, piece: Bytes, from: u64, reached: u64) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = map.get_mut(key) {
            e.unwritten.insert(at, piece);
            if reached > from {
                e.ranges.add(from, reached);
            }
            e.progress.notify_waiters();
        }
    }

    /// Stores chunks in the cache file, then drops them from memory. On
    /// failure (disk full) the entry forgets what it had: the bytes are
    /// fetched again and the reader gets the error.
    fn store(&self, file: &std::fs::File, key: &str, chunks: &[(u64, Bytes)]) -> VfsResult<()> {
        let mut result = Ok(());
        for (at, piece) in chunks {
            if let Err(e) = file.write_all_at(piece, *at) {
                result = Err(io_err("cannot write the content cache", e));
                break;
            }
        }
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = map.get_mut(key) {
            for (at, _) in chunks {
                e.unwritten.remove(at);
            }
            if e.unwritten.is_empty() {
                e.progress.notify_waiters();
            }
            if let Err(err) = &result {
                e.ranges = Ranges::default();
                e.unwritten.clear();
                e.error = Some(err.clone());
                e.progress.notify_waiters();
            }
        }
        result
    }

    /// Reads `[offset, offset+len)` of an entry made present by
    /// [`ContentCache::ensure`]: from the chunks still in memory and the cache file.
    /// A read inside one chunk costs no copy.
    pub fn read(
        &self,
        object_id: &str,
        token: &str,
        path: &Path,
        offset: u64,
        len: usize,
    ) -> VfsResult<Bytes> {
        let key = entry_key(object_id, token);
        let end = offset + len as u64;
        // Chunks overlapping the range, cloned under the lock: a chunk
        // missing here was stored before this snapshot, so the file has it.
        let chunks: Vec<(u64, Bytes)> = {
            let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            match map.get(&key) {
                Some(e) if !e.unwritten.is_empty() => {
                    let first = e
                        .unwritten
                        .range(..=offset)
                        .next_back()
                        .map(|(k, _)| *k)
                        .unwrap_or(offset);
                    e.unwritten
                        .range(first..end)
                        .filter(|(k, b)| **k + b.len() as u64 > offset)
                        .map(|(k, b)| (*k, b.clone()))
                        .collect()
                }
                _ => Vec::new(),
            }
        };
        if let [(at, b)] = chunks.as_slice() {
            if *at <= offset && at + b.len() as u64 >= end {
                let from = (offset - at) as usize;
                return Ok(b.slice(from..from + len));
            }
        }
        // All in memory (the chunks are sorted and disjoint): one copy.
        let mut reach = offset;
        for (at, b) in &chunks {
            if *at > reach {
                break;
            }
            reach = reach.max(at + b.len() as u64);
        }
        if !chunks.is_empty() && reach >= end {
            let mut buf = bytes::BytesMut::with_capacity(len);
            for (at, b) in &chunks {
                let s = offset.max(*at);
                let t = end.min(at + b.len() as u64);
                if s < t {
                    buf.extend_from_slice(&b[(s - at) as usize..(t - at) as usize]);
                }
            }
            return Ok(buf.freeze());
        }
        let mut buf = if chunks.is_empty() {
            Self::read_at(path, offset, len)?
        } else {
            // Partly in memory: the file (zeros where not stored yet, or
            // short), then the chunks over it.
            let mut buf = Self::read_at(path, offset, len)?;
            buf.resize(len, 0);
            for (at, b) in &chunks {
                let s = offset.max(*at);
                let t = end.min(at + b.len() as u64);
                if s < t {
                    buf[(s - offset) as usize..(t - offset) as usize]
                        .copy_from_slice(&b[(s - at) as usize..(t - at) as usize]);
                }
            }
            buf
        };
        buf.truncate(len);
        Ok(Bytes::from(buf))
    }

    /// Reads `[offset, offset+len)` of a cached entry (after [`ContentCache::ensure`]).
    pub fn read_at(path: &Path, offset: u64, len: usize) -> VfsResult<Vec<u8>> {
        let f = std::fs::File::open(path).map_err(|e| io_err("cannot read the cache", e))?;
        read_exact_or_eof(&f, offset, len).map_err(|e| io_err("cannot read the cache", e))
    }

    /// Waits until no downloaded bytes of the entry are only in memory
    /// (before the cache file is used as a whole).
    async fn wait_stored(&self, object_id: &str, token: &str) {
        let key = entry_key(object_id, token);
        loop {
            let notified = {
                let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
                match map.get(&key) {
                    Some(e) if !e.unwritten.is_empty() => e.progress.clone(),
                    _ => return,
                }
            };
            let n = notified.notified();
            // Bounded: the writer signals after each batch; poll anyway.
            let _ = tokio::time::timeout(Duration::from_millis(20), n).await;
        }
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
        self.wait_stored(object_id, token).await;
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
                unwritten: BTreeMap::new(),
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
        assert_eq!(r.contiguous_end(12), 40);
        assert_eq!(r.contiguous_end(40), 40);
        assert_eq!(r.contiguous_end(5), 5);
    }

    /// Reads see downloaded bytes whether they are still in memory, in
    /// the file, or split between both.
    #[test]
    fn reads_combine_memory_and_file() {
        let dir = std::env::temp_dir().join(format!("cmisfs-content-{}", std::process::id()));
        let cache = ContentCache::new(&dir, 1 << 30).unwrap();
        let key = entry_key("doc", "t1");
        let (path, _) = cache.entry(&key);
        let data: Vec<u8> = (0..300u32).map(|i| (i % 251) as u8).collect();
        // Bytes 0..100 stored, 100..200 and 200..300 only in memory.
        std::fs::write(&path, &data[..100]).unwrap();
        {
            let mut map = cache.entries.lock().unwrap();
            let e = map.get_mut(&key).unwrap();
            e.ranges.add(0, 300);
            e.unwritten
                .insert(100, Bytes::copy_from_slice(&data[100..200]));
            e.unwritten
                .insert(200, Bytes::copy_from_slice(&data[200..300]));
        }
        let read = |off: u64, len: usize| cache.read("doc", "t1", &path, off, len).unwrap();
        assert_eq!(read(120, 50), &data[120..170]); // inside one chunk
        assert_eq!(read(150, 100), &data[150..250]); // across chunks
        assert_eq!(read(50, 200), &data[50..250]); // file and memory
        assert_eq!(read(0, 60), &data[0..60]); // file only

        // Once stored, the same reads come from the file.
        let chunks: Vec<(u64, Bytes)> = {
            let map = cache.entries.lock().unwrap();
            map[&key]
                .unwritten
                .iter()
                .map(|(k, b)| (*k, b.clone()))
                .collect()
        };
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        cache.store(&f, &key, &chunks).unwrap();
        assert!(cache.entries.lock().unwrap()[&key].unwritten.is_empty());
        assert_eq!(read(50, 250), &data[50..300]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
