//! [`Backend`] for the real VFS: each call is the `Vfs` method of the same
//! name (argument order and the modes of new files and folders aside).
//!
//! With [`CheckoutLocks`] (the default; `--webdav-lock-checkout=false`
//! turns it off), LOCK on a document is a CMIS checkOut ([`Vfs::check_out`]:
//! every CMIS user sees it checked out, and it survives a gateway restart);
//! writes under the lock go into the PWC; UNLOCK (or the lock's expiry)
//! is [`Vfs::end_checkout`]: checkIn when something was written, else
//! cancelCheckOut.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

use super::backend::Backend;
use crate::vfs::{Attr, DirEntry, Fh, Ino, OpenFlags, SetAttr, StatFs, Vfs, VfsResult};

/// Modes of files and folders made over WebDAV (the VFS derives the
/// write bits from allowable actions anyway).
const FILE_MODE: u32 = 0o644;
const DIR_MODE: u32 = 0o755;

#[async_trait]
impl Backend for Arc<Vfs> {
    async fn lookup(&self, parent: Ino, name: &str) -> VfsResult<Attr> {
        Vfs::lookup(self, parent, name).await
    }
    async fn getattr(&self, ino: Ino) -> VfsResult<Attr> {
        Vfs::getattr(self, ino).await
    }
    async fn setattr(&self, ino: Ino, set: SetAttr) -> VfsResult<Attr> {
        Vfs::setattr(self, ino, set).await
    }
    async fn readdir(&self, ino: Ino) -> VfsResult<Vec<DirEntry>> {
        Vfs::readdir(self, ino).await
    }
    async fn open(&self, ino: Ino, flags: OpenFlags) -> VfsResult<Fh> {
        Vfs::open(self, ino, flags).await
    }
    async fn create(&self, parent: Ino, name: &str, flags: OpenFlags) -> VfsResult<(Attr, Fh)> {
        Vfs::create(self, parent, name, FILE_MODE, flags).await
    }
    async fn read(&self, ino: Ino, fh: Fh, offset: u64, size: u32) -> VfsResult<Bytes> {
        Vfs::read(self, fh, ino, offset, size).await
    }
    async fn write(&self, ino: Ino, fh: Fh, offset: u64, data: &[u8]) -> VfsResult<u32> {
        Vfs::write(self, fh, ino, offset, data).await
    }
    async fn fsync(&self, ino: Ino, _fh: Fh) -> VfsResult<()> {
        Vfs::fsync(self, ino).await
    }
    async fn release(&self, ino: Ino, fh: Fh) -> VfsResult<()> {
        Vfs::release(self, fh, ino).await
    }
    async fn abandon(&self, ino: Ino, fh: Fh) -> VfsResult<()> {
        Vfs::abandon(self, fh, ino).await
    }
    async fn open_replacing(&self, ino: Ino, _flags: OpenFlags) -> VfsResult<Fh> {
        Vfs::open_replacing(self, ino).await
    }
    async fn commit(&self, ino: Ino, fh: Fh) -> VfsResult<bool> {
        Vfs::commit_replace(self, fh, ino).await
    }
    async fn create_replacing(
        &self,
        parent: Ino,
        name: &str,
        flags: OpenFlags,
    ) -> VfsResult<(Attr, Fh)> {
        Vfs::create_replacing(self, parent, name, FILE_MODE, flags).await
    }
    async fn mkdir(&self, parent: Ino, name: &str) -> VfsResult<Attr> {
        Vfs::mkdir(self, parent, name, DIR_MODE).await
    }
    async fn unlink(&self, parent: Ino, name: &str) -> VfsResult<()> {
        Vfs::unlink(self, parent, name).await
    }
    async fn rmdir(&self, parent: Ino, name: &str) -> VfsResult<()> {
        Vfs::rmdir(self, parent, name).await
    }
    async fn rename(
        &self,
        parent: Ino,
        name: &str,
        newparent: Ino,
        newname: &str,
    ) -> VfsResult<()> {
        Vfs::rename(self, parent, name, newparent, newname, false).await
    }
    async fn statfs(&self) -> VfsResult<StatFs> {
        Vfs::statfs(self).await
    }
    async fn getxattr(&self, ino: Ino, name: &str) -> VfsResult<Vec<u8>> {
        Vfs::getxattr(self, ino, name).await
    }
    async fn etag_token(&self, ino: Ino) -> Option<String> {
        Vfs::etag_token(self, ino).ok().flatten()
    }

    /// The version series id (the same for every version of a document),
    /// else the object id; a file not yet in the repository (a desktop temp
    /// file kept local) is keyed by its inode for the life of the process.
    async fn object_key(&self, ino: Ino) -> VfsResult<String> {
        for name in ["user.cmis.versionSeriesId", "user.cmis.objectId"] {
            if let Ok(v) = Vfs::getxattr(self, ino, name).await {
                if let Ok(s) = String::from_utf8(v) {
                    return Ok(s);
                }
            }
        }
        Vfs::getattr(self, ino).await?;
        Ok(format!("local:{ino}"))
    }
}

/// The VFS, with WebDAV locks on documents taken as CMIS checkouts.
pub struct CheckoutLocks(pub Arc<Vfs>);

#[async_trait]
impl Backend for CheckoutLocks {
    async fn lookup(&self, parent: Ino, name: &str) -> VfsResult<Attr> {
        Backend::lookup(&self.0, parent, name).await
    }
    async fn getattr(&self, ino: Ino) -> VfsResult<Attr> {
        Backend::getattr(&self.0, ino).await
    }
    async fn setattr(&self, ino: Ino, set: SetAttr) -> VfsResult<Attr> {
        Backend::setattr(&self.0, ino, set).await
    }
    async fn readdir(&self, ino: Ino) -> VfsResult<Vec<DirEntry>> {
        Backend::readdir(&self.0, ino).await
    }
    async fn open(&self, ino: Ino, flags: OpenFlags) -> VfsResult<Fh> {
        Backend::open(&self.0, ino, flags).await
    }
    async fn create(&self, parent: Ino, name: &str, flags: OpenFlags) -> VfsResult<(Attr, Fh)> {
        Backend::create(&self.0, parent, name, flags).await
    }
    async fn read(&self, ino: Ino, fh: Fh, offset: u64, size: u32) -> VfsResult<Bytes> {
        Backend::read(&self.0, ino, fh, offset, size).await
    }
    async fn write(&self, ino: Ino, fh: Fh, offset: u64, data: &[u8]) -> VfsResult<u32> {
        Backend::write(&self.0, ino, fh, offset, data).await
    }
    async fn fsync(&self, ino: Ino, fh: Fh) -> VfsResult<()> {
        Backend::fsync(&self.0, ino, fh).await
    }
    async fn release(&self, ino: Ino, fh: Fh) -> VfsResult<()> {
        Backend::release(&self.0, ino, fh).await
    }
    async fn abandon(&self, ino: Ino, fh: Fh) -> VfsResult<()> {
        Backend::abandon(&self.0, ino, fh).await
    }
    async fn open_replacing(&self, ino: Ino, flags: OpenFlags) -> VfsResult<Fh> {
        Backend::open_replacing(&self.0, ino, flags).await
    }
    async fn commit(&self, ino: Ino, fh: Fh) -> VfsResult<bool> {
        Backend::commit(&self.0, ino, fh).await
    }
    async fn create_replacing(
        &self,
        parent: Ino,
        name: &str,
        flags: OpenFlags,
    ) -> VfsResult<(Attr, Fh)> {
        Backend::create_replacing(&self.0, parent, name, flags).await
    }
    async fn mkdir(&self, parent: Ino, name: &str) -> VfsResult<Attr> {
        Backend::mkdir(&self.0, parent, name).await
    }
    async fn unlink(&self, parent: Ino, name: &str) -> VfsResult<()> {
        Backend::unlink(&self.0, parent, name).await
    }
    async fn rmdir(&self, parent: Ino, name: &str) -> VfsResult<()> {
        Backend::rmdir(&self.0, parent, name).await
    }
    async fn rename(
        &self,
        parent: Ino,
        name: &str,
        newparent: Ino,
        newname: &str,
    ) -> VfsResult<()> {
        Backend::rename(&self.0, parent, name, newparent, newname).await
    }
    async fn statfs(&self) -> VfsResult<StatFs> {
        Backend::statfs(&self.0).await
    }
    async fn getxattr(&self, ino: Ino, name: &str) -> VfsResult<Vec<u8>> {
        Backend::getxattr(&self.0, ino, name).await
    }
    async fn etag_token(&self, ino: Ino) -> Option<String> {
        Backend::etag_token(&self.0, ino).await
    }
    async fn object_key(&self, ino: Ino) -> VfsResult<String> {
        Backend::object_key(&self.0, ino).await
    }

    async fn lock_document(&self, ino: Ino, _owner: &str) -> VfsResult<bool> {
        Vfs::check_out(&self.0, ino).await
    }

    async fn unlock_document(&self, ino: Ino) -> VfsResult<()> {
        Vfs::end_checkout(&self.0, ino).await
    }
}
