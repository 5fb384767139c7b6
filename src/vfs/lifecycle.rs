//! What is still to upload (pending, with refusals), counters of the
//! upload paths, and shutdown (flush with a progress line).

use super::*;

impl Vfs {
    /// What is still to upload.
    /// How many uploads ran while their file was still being written
    /// (streamed, see [`feed`]) and completed.
    pub fn streamed_uploads(&self) -> u64 {
        self.streamed.load(Ordering::Relaxed)
    }

    /// How many uploads went in chunks (`upload_chunk_size`).
    pub fn chunked_uploads(&self) -> u64 {
        self.chunked.load(Ordering::Relaxed)
    }

    pub fn pending(&self) -> Vec<PendingUpload> {
        self.pending_refused().into_iter().map(|(p, _)| p).collect()
    }

    /// What is still to upload, each with whether the repository refused
    /// its last upload for good (and no upload of it is under way).
    pub(super) fn pending_refused(&self) -> Vec<(PendingUpload, bool)> {
        let mut out = Vec::new();
        let busy = self
            .uploading
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let inos: Vec<(Ino, u64, Option<String>, bool)> = {
            let t = self.lock();
            t.iter()
                .filter(|i| i.is_dirty() && !i.unlinked)
                .map(|i| {
                    let refused = i.refused.is_some() && !busy.contains(&i.ino);
                    (i.ino, i.size, i.last_error.clone(), refused)
                })
                .collect()
        };
        for (ino, bytes, last_error, refused) in inos {
            out.push((
                PendingUpload {
                    name: self.display_path(ino),
                    bytes,
                    last_error,
                },
                refused,
            ));
        }
        let errors = self
            .orphan_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for (r, _, _) in self
            .orphans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let err = errors.get(&r.id);
            out.push((
                PendingUpload {
                    name: r.name.clone(),
                    bytes: std::fs::metadata(&r.path).map(|m| m.len()).unwrap_or(0),
                    last_error: err.map(|(e, _)| e.clone()),
                },
                err.is_some_and(|(_, permanent)| *permanent),
            ));
        }
        out
    }

    /// Uploads everything now and waits (with a progress line every few
    /// seconds), up to `max_wait`; what is left stays in the journal for the
    /// next mount. Returns what is left. While the server is unreachable it
    /// keeps waiting (never drops data); files the repository refused for
    /// good (permission, constraint...) are not waited for: once only they
    /// are left, each gets a warning and shutdown returns.
    pub async fn shutdown(&self, max_wait: Option<Duration>) -> Vec<PendingUpload> {
        let start = Instant::now();
        let mut last_report = Instant::now() - Duration::from_secs(10);
        loop {
            {
                let mut t = self.lock();
                for i in t.iter_mut() {
                    if let FileState::Dirty(d) = &mut i.state {
                        if d.upload_at.is_none_or(|u| u > Instant::now()) && i.attempts == 0 {
                            d.upload_at = Some(Instant::now());
                        }
                    }
                }
            }
            self.wake.notify_one();
            let detailed = self.pending_refused();
            if detailed.iter().all(|(_, refused)| *refused) {
                for (p, _) in &detailed {
                    tracing::warn!(
                        "not uploaded: {}: the repository refused it ({}); it stays in the journal in {} and is retried at the next mount",
                        p.name,
                        p.last_error.as_deref().unwrap_or("refused"),
                        self.cfg.cache_dir.display()
                    );
                }
                self.stopping.store(true, Ordering::Relaxed);
                return detailed.into_iter().map(|(p, _)| p).collect();
            }
            let left: Vec<PendingUpload> = detailed.into_iter().map(|(p, _)| p).collect();
            if max_wait.is_some_and(|m| start.elapsed() >= m) {
                self.stopping.store(true, Ordering::Relaxed);
                return left;
            }
            if last_report.elapsed() >= Duration::from_secs(2) {
                let bytes: u64 = left.iter().map(|p| p.bytes).sum();
                let err = left.iter().find_map(|p| p.last_error.clone());
                match err {
                    Some(e) => tracing::warn!(
                        "uploading: {} file(s), {} bytes left (last error: {e})",
                        left.len(),
                        bytes
                    ),
                    None => {
                        tracing::info!("uploading: {} file(s), {} bytes left", left.len(), bytes)
                    }
                }
                last_report = Instant::now();
            }
            let _ =
                tokio::time::timeout(Duration::from_millis(200), self.progress.notified()).await;
        }
    }
}
