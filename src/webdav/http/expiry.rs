//! Lock timeouts: the task that expires locks, and ending the checkout of a
//! document whose last lock is gone.

use std::sync::Arc;
use std::time::Duration;

use dav_server::davpath::DavPath;
use dav_server::ls::DavLock;

use super::{Auth, Server, View};
use crate::vfs::FileKind;

impl Server {
    /// Ends the checkouts of locks that time out: a task that receives
    /// them, and drops timed-out locks every second even when no request
    /// comes. Needs a tokio runtime.
    pub fn spawn_expiry(self: &Arc<Self>) {
        let rx = match self.expired_rx.lock() {
            Ok(mut r) => r.take(),
            Err(_) => None,
        };
        let Some(mut rx) = rx else { return };
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    l = rx.recv() => {
                        let (Some(l), Some(s)) = (l, weak.upgrade()) else { return };
                        s.lock_expired(l).await;
                    }
                    _ = tick.tick() => {
                        let Some(s) = weak.upgrade() else { return };
                        s.ls.expire_now();
                    }
                }
            }
        });
    }

    /// A lock timed out: end the checkout it made, unless another lock
    /// still covers the document.
    async fn lock_expired(&self, l: DavLock) {
        if !self.ls.locks_on(&l.path).is_empty() {
            return;
        }
        let view = match &self.auth {
            Auth::Passthrough(_) => {
                let v = l.principal.as_ref().and_then(|u| {
                    self.views
                        .lock()
                        .ok()
                        .and_then(|views| views.get(u).map(|(_, v)| v.clone()))
                });
                match v {
                    Some(v) => v,
                    None => {
                        if let Ok(mut p) = self.pending_ends.lock() {
                            p.push(l);
                        }
                        return;
                    }
                }
            }
            _ => match &self.shared {
                Some(v) => v.clone(),
                None => return,
            },
        };
        tracing::info!("webdav: the lock on {} timed out", l.path.as_url_string());
        end_checkout(&view, &l.path).await;
    }
}

/// The last lock on `path` is gone (UNLOCK, timeout): end the checkout
/// the VFS made for it, if any (checkIn when written, else cancel).
pub(super) async fn end_checkout(view: &View, path: &DavPath) {
    if let Ok(a) = view.fs.resolve(path).await {
        if a.kind == FileKind::RegularFile {
            if let Err(e) = view.fs.backend().unlock_document(a.ino).await {
                tracing::warn!(
                    "webdav: ending the checkout of {}: {e}",
                    path.as_url_string()
                );
            }
        }
    }
}
