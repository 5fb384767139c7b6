//! Change notifications: what a front end must forget when another front
//! end (or the repository, through the change log) changed something.
//!
//! The FUSE kernel caches entries and attributes for the metadata TTL; a
//! WebDAV MOVE served by the same VFS would stay invisible to the mount
//! until then. So the VFS publishes [`Change`]s on unbounded channels
//! ([`super::Vfs::subscribe`]) and the FUSE adapter turns them into kernel
//! invalidations from its own thread.
//!
//! Changes made *through* the kernel are not published: the kernel updated
//! its own caches already. The FUSE adapter runs its callbacks inside
//! [`from_kernel`], which marks the task; [`Subscribers::publish`] drops
//! what such a task publishes.

use std::sync::Mutex;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::types::Ino;

/// One thing a cache of the namespace must forget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The name `name` in directory `parent` now means something else (or
    /// nothing): removed, renamed away, replaced, created.
    Entry { parent: Ino, name: String },
    /// The attributes of `ino` changed; `data`: its content too.
    Inode { ino: Ino, data: bool },
}

tokio::task_local! {
    static KERNEL: ();
}

/// Runs `f` as the handler of a kernel request: what it changes is not
/// published (the kernel knows).
pub async fn from_kernel<F: std::future::Future>(f: F) -> F::Output {
    KERNEL.scope((), f).await
}

fn in_kernel_request() -> bool {
    KERNEL.try_with(|_| ()).is_ok()
}

/// The subscribers of one VFS.
#[derive(Default)]
pub struct Subscribers(Mutex<Vec<UnboundedSender<Change>>>);

impl Subscribers {
    pub fn subscribe(&self) -> UnboundedReceiver<Change> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(tx);
        rx
    }

    /// Sends `changes` to every subscriber, unless the caller serves a
    /// kernel request. Subscribers that went away are dropped.
    pub fn publish(&self, changes: impl IntoIterator<Item = Change>) {
        if in_kernel_request() {
            return;
        }
        self.publish_always(changes);
    }

    /// Sends `changes` whoever the caller is (the change-log poll).
    pub fn publish_always(&self, changes: impl IntoIterator<Item = Change>) {
        let mut subs = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if subs.is_empty() {
            return;
        }
        for c in changes {
            subs.retain(|s| s.send(c.clone()).is_ok());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn kernel_requests_are_not_published() {
        let s = Subscribers::default();
        let mut rx = s.subscribe();
        from_kernel(async { s.publish([Change::Inode { ino: 5, data: true }]) }).await;
        s.publish([Change::Entry {
            parent: 1,
            name: "a".into(),
        }]);
        assert_eq!(
            rx.recv().await,
            Some(Change::Entry {
                parent: 1,
                name: "a".into()
            })
        );
        assert!(rx.try_recv().is_err());
        drop(rx);
        s.publish([Change::Inode {
            ino: 1,
            data: false,
        }]);
        assert!(s.0.lock().unwrap().is_empty());
    }
}
