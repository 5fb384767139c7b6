//! The file system the WebDAV adapter serves: the VFS API (issue 4) as one
//! object-safe trait, so that the adapter can hold one `Arc<dyn Backend>`
//! per user (passthrough authentication gives each user a VFS view of their
//! own) and be tested on an in-memory stand-in ([`super::mem::MemBackend`]).
//!
//! Every method is the VFS call of the same name; names are file names (the
//! VFS maps them to cmis:name). The two lock methods are the VFS side of a
//! WebDAV LOCK on a document: check it out in the repository where it is
//! versionable (then writes go to the private working copy), and check it
//! in (or cancel the checkout when nothing was written) at UNLOCK.

use async_trait::async_trait;
use bytes::Bytes;

use crate::vfs::{Attr, DirEntry, Fh, Ino, OpenFlags, SetAttr, StatFs, VfsError, VfsResult};

#[async_trait]
pub trait Backend: Send + Sync + 'static {
    async fn lookup(&self, parent: Ino, name: &str) -> VfsResult<Attr>;
    async fn getattr(&self, ino: Ino) -> VfsResult<Attr>;
    async fn setattr(&self, ino: Ino, set: SetAttr) -> VfsResult<Attr>;
    /// The whole listing with attributes, without `.` and `..`.
    async fn readdir(&self, ino: Ino) -> VfsResult<Vec<DirEntry>>;
    async fn open(&self, ino: Ino, flags: OpenFlags) -> VfsResult<Fh>;
    async fn create(&self, parent: Ino, name: &str, flags: OpenFlags) -> VfsResult<(Attr, Fh)>;
    async fn read(&self, ino: Ino, fh: Fh, offset: u64, size: u32) -> VfsResult<Bytes>;
    async fn write(&self, ino: Ino, fh: Fh, offset: u64, data: &[u8]) -> VfsResult<u32>;
    /// Makes written data durable in the repository (waits for the upload).
    async fn fsync(&self, ino: Ino, fh: Fh) -> VfsResult<()>;
    async fn release(&self, ino: Ino, fh: Fh) -> VfsResult<()>;
    /// The client gave up mid-write (a PUT whose body broke off): drop what
    /// it wrote instead of uploading it (called before `release`).
    async fn abandon(&self, _ino: Ino, _fh: Fh) -> VfsResult<()> {
        Ok(())
    }
    /// Opens an existing file whose whole content a PUT or COPY replaces:
    /// the file keeps its content until [`Backend::commit`].
    async fn open_replacing(&self, ino: Ino, flags: OpenFlags) -> VfsResult<Fh> {
        self.open(ino, flags).await
    }
    /// Creates a file whose whole content a PUT writes: incomplete until
    /// [`Backend::commit`].
    async fn create_replacing(
        &self,
        parent: Ino,
        name: &str,
        flags: OpenFlags,
    ) -> VfsResult<(Attr, Fh)> {
        self.create(parent, name, flags).await
    }
    /// The replacement of `open_replacing` is complete: it becomes the
    /// file's content. Returns whether there was one.
    async fn commit(&self, _ino: Ino, _fh: Fh) -> VfsResult<bool> {
        Ok(false)
    }
    async fn mkdir(&self, parent: Ino, name: &str) -> VfsResult<Attr>;
    async fn unlink(&self, parent: Ino, name: &str) -> VfsResult<()>;
    async fn rmdir(&self, parent: Ino, name: &str) -> VfsResult<()>;
    /// POSIX rename: replaces an existing file at the target (the VFS turns
    /// a freshly written file renamed over a document into a new version).
    async fn rename(&self, parent: Ino, name: &str, newparent: Ino, newname: &str)
        -> VfsResult<()>;
    async fn statfs(&self) -> VfsResult<StatFs>;
    async fn getxattr(&self, ino: Ino, name: &str) -> VfsResult<Vec<u8>>;

    /// The change token the ETag of `ino` is made from (see
    /// `Vfs::etag_token`): by default the object's.
    async fn etag_token(&self, ino: Ino) -> Option<String> {
        let v = self.getxattr(ino, "user.cmis.changeToken").await.ok()?;
        String::from_utf8(v).ok()
    }

    /// The key under which dead properties of `ino` are stored: the CMIS
    /// object id, so that they follow the object through renames and moves.
    async fn object_key(&self, ino: Ino) -> VfsResult<String> {
        let id = self.getxattr(ino, "user.cmis.objectId").await?;
        String::from_utf8(id).map_err(|_| VfsError::Io("object id is not UTF-8".into()))
    }

    /// A WebDAV LOCK on the document `ino` was granted: check it out where
    /// it is versionable. `Ok(true)`: checked out by this call (undone with
    /// [`Backend::unlock_document`] if the WebDAV lock is then refused);
    /// `Ok(false)`: nothing done (not versionable, or already ours). `Locked`/`AccessDenied` when
    /// someone else holds the checkout.
    async fn lock_document(&self, _ino: Ino, _owner: &str) -> VfsResult<bool> {
        Ok(false)
    }

    /// The last WebDAV lock on `ino` ended (UNLOCK or timeout): end the
    /// checkout [`Backend::lock_document`] made, checking the document in
    /// when it was modified under the lock, else cancelling the checkout.
    /// A checkout it did not make is left alone.
    async fn unlock_document(&self, _ino: Ino) -> VfsResult<()> {
        Ok(())
    }
}
