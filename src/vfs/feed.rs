//! Streamed uploads: a new file written sequentially, or a document
//! rewritten from its start, starts uploading while it is still being
//! written.
//!
//! Write-back alone uploads a file after it is closed, so writing a big
//! file and then fsyncing costs the write time plus the upload time. When a
//! new file grows by appends past [`STREAM_START`], the VFS starts its
//! createDocument at once with a body that follows the cache file as it
//! grows (a [`Feed`]); fsync or the last close fixes the final size and the
//! body ends there. The server sees one ordinary upload: nothing partial is
//! ever visible, and a body that breaks off creates nothing.
//!
//! Anything that is not a plain append (a write elsewhere, a truncate, a
//! rename or unlink, no progress for [`IDLE_LIMIT`]) aborts the stream:
//! the request fails, and the file is uploaded the ordinary way from the
//! journal. A streamed upload is an optimisation, never the only copy.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use crate::cmis::ContentUpload;

/// A new file starts streaming once this much has been appended.
pub const STREAM_START: u64 = 16 << 20;
/// A stream with no new bytes and no end for this long is aborted (the
/// server should not hold a request open for a writer that went idle).
pub const IDLE_LIMIT: Duration = Duration::from_secs(20);
/// The most read from the cache file per body chunk.
const CHUNK: u64 = 1 << 20;

#[derive(Debug, Default)]
struct FeedState {
    /// Bytes of the file written so far (all appends from 0).
    written: u64,
    /// The final size and the file's generation at that moment, once
    /// fsync or the last close said the file is complete.
    finished: Option<(u64, u64)>,
    aborted: bool,
}

/// The growing body of one streamed upload.
#[derive(Debug, Default)]
pub struct Feed {
    state: Mutex<FeedState>,
    changed: tokio::sync::Notify,
    /// The file the body is read from, once held (see [`Feed::hold_file`]).
    file: Mutex<Option<std::fs::File>>,
}

impl Feed {
    pub fn new(written: u64) -> Arc<Feed> {
        Arc::new(Feed {
            state: Mutex::new(FeedState {
                written,
                ..Default::default()
            }),
            changed: tokio::sync::Notify::new(),
            file: Mutex::new(None),
        })
    }

    /// Opens the file at `path` now: every body reads this file, even
    /// after it is renamed (a WebDAV PUT's staging file becomes the
    /// document's cache file when committed).
    pub fn hold_file(&self, path: &Path) -> std::io::Result<()> {
        let file = std::fs::File::open(path)?;
        *self.file.lock().unwrap_or_else(|p| p.into_inner()) = Some(file);
        Ok(())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The file now holds `written` bytes (after an append).
    pub fn advance(&self, written: u64) {
        self.state().written = written;
        self.changed.notify_waiters();
    }

    /// The file is complete at `size` bytes, as of write generation
    /// `generation`.
    pub fn finish(&self, size: u64, generation: u64) {
        self.state().finished = Some((size, generation));
        self.changed.notify_waiters();
    }

    pub fn abort(&self) {
        self.state().aborted = true;
        self.changed.notify_waiters();
    }

    /// The generation the uploaded bytes belong to (once finished).
    pub fn finished_generation(&self) -> Option<u64> {
        let s = self.state();
        match (s.aborted, s.finished) {
            (false, Some((_, g))) => Some(g),
            _ => None,
        }
    }

    /// The upload body: the cache file at `path` (or the held file), up
    /// to the final size, read as it is written.
    pub fn content(
        self: &Arc<Self>,
        path: &Path,
        file_name: String,
        mime_type: &str,
    ) -> std::io::Result<ContentUpload> {
        let held = self
            .file
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(std::fs::File::try_clone);
        let file = match held {
            Some(f) => f?,
            None => std::fs::File::open(path)?,
        };
        let body = futures_util::stream::unfold(
            (self.clone(), file, 0u64),
            |(feed, file, sent)| async move {
                match feed.next_chunk(&file, sent).await {
                    Ok(Some(b)) => {
                        let sent = sent + b.len() as u64;
                        Some((Ok(b), (feed, file, sent)))
                    }
                    Ok(None) => None,
                    // The error ends the request; unfold stops after it
                    // because the state is gone.
                    Err(e) => {
                        feed.abort();
                        Some((Err(e), (feed, file, u64::MAX)))
                    }
                }
            },
        );
        Ok(ContentUpload {
            file_name,
            mime_type: mime_type.to_string(),
            length: None,
            body: Box::pin(body),
        })
    }

    async fn next_chunk(&self, file: &std::fs::File, sent: u64) -> std::io::Result<Option<Bytes>> {
        if sent == u64::MAX {
            return Ok(None);
        }
        loop {
            let notified = self.changed.notified();
            let (available, end) = {
                let s = self.state();
                if s.aborted {
                    return Err(std::io::Error::other(
                        "streamed upload aborted (the file changed)",
                    ));
                }
                match s.finished {
                    Some((size, _)) => (size, Some(size)),
                    None => (s.written, None),
                }
            };
            if sent < available {
                let n = (available - sent).min(CHUNK) as usize;
                let buf = super::content::read_exact_or_eof(file, sent, n)?;
                if buf.len() < n {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the cache file is shorter than what was written to it",
                    ));
                }
                return Ok(Some(Bytes::from(buf)));
            }
            if end.is_some() {
                return Ok(None);
            }
            if tokio::time::timeout(IDLE_LIMIT, notified).await.is_err() {
                return Err(std::io::Error::other(
                    "streamed upload aborted (the writer went idle)",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;
    use std::os::unix::fs::FileExt;

    async fn collect(c: ContentUpload) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        let mut body = c.body;
        while let Some(chunk) = body.next().await {
            out.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn body_follows_the_file_until_finished() {
        let dir = std::env::temp_dir().join(format!("cmisfs-feed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        std::fs::write(&path, b"hello").unwrap();
        let feed = Feed::new(5);
        let body = tokio::spawn(collect(
            feed.content(&path, "f".into(), "text/plain").unwrap(),
        ));
        tokio::time::sleep(Duration::from_millis(20)).await;
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(b" world", 5).unwrap();
        feed.advance(11);
        feed.finish(11, 7);
        assert_eq!(body.await.unwrap().unwrap(), b"hello world");
        assert_eq!(feed.finished_generation(), Some(7));

        // An abort breaks the body off with an error.
        let feed = Feed::new(5);
        let body = tokio::spawn(collect(
            feed.content(&path, "f".into(), "text/plain").unwrap(),
        ));
        tokio::time::sleep(Duration::from_millis(20)).await;
        feed.abort();
        assert!(body.await.unwrap().is_err());
        assert_eq!(feed.finished_generation(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
