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
use std::time::Instant;

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
    /// Held while downloading into this entry.
    lock: Arc<tokio::sync::Mutex<()>>,
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

    fn entry(&self, key: &str) -> (PathBuf, Arc<tokio::sync::Mutex<()>>) {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let e = map.entry(key.to_string()).or_insert_with(|| Entry {
            path: self.dir.join(file_name(key)),
            ranges: Ranges::default(),
            last_used: Instant::now(),
            lock: Arc::new(tokio::sync::Mutex::new(())),
        });
        e.last_used = Instant::now();
        (e.path.clone(), e.lock.clone())
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
        }
    }

    /// Makes `[offset, offset+want)` (clipped to `size`) present, fetching
    /// up to `offset + readahead` for the missing parts. Returns the path.
    pub async fn ensure(
        &self,
        binding: &dyn Binding,
        object_id: &str,
        token: &str,
        size: u64,
        offset: u64,
        want: u64,
        readahead: u64,
    ) -> VfsResult<PathBuf> {
        let key = entry_key(object_id, token);
        let (path, lock) = self.entry(&key);
        let end = offset.saturating_add(want).min(size);
        if offset >= end || self.missing(&key, offset, end).is_empty() {
            return Ok(path);
        }
        let _g = lock.lock().await;
        let fetch_end = offset.saturating_add(want.max(readahead)).min(size);
        let holes = self.missing(&key, offset, fetch_end);
        if holes.is_empty() {
            return Ok(path);
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_err("cannot open a cache file", e))?;
        for (s, e) in holes {
            self.fetch(binding, object_id, &file, &key, s, e).await?;
        }
        drop(_g);
        self.evict();
        Ok(path)
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
        &self,
        binding: &dyn Binding,
        object_id: &str,
        token: &str,
        size: u64,
        dest: &Path,
    ) -> VfsResult<()> {
        let src = self
            .ensure(binding, object_id, token, size, 0, size, size)
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
                lock: Arc::new(tokio::sync::Mutex::new(())),
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
            let busy = map.get(&key).is_some_and(|e| e.lock.try_lock().is_err());
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
