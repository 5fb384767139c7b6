//! The WebDAV endpoint (`cmisfs webdav`, `cmisfs mount --webdav`): the
//! same VFS as the FUSE mount, served over WebDAV class 1 and 2.
//!
//! - [`backend`]: the VFS API as the adapter sees it (one trait object per
//!   user view);
//! - [`fs`]: dav-server's file system traits over it (paths → inodes,
//!   files → VFS handles, dead properties);
//! - [`locks`]: the gateway's lock system, persisted;
//! - [`store`]: the gateway's state file (dead properties, locks);
//! - [`http`]: authentication, input checks, and the behaviours around
//!   dav-server (mtime properties, X-OC-Mtime, LOCK = checkout);
//! - [`mem`]: an in-memory backend, to test the adapter alone.

pub mod backend;
pub mod fs;
pub mod http;
pub mod locks;
pub mod mem;
pub mod store;
pub mod vfs_backend;

pub use backend::Backend;
pub use http::{
    serve, AuthConfig, Backends, OpenError, RunningWebdav, UserBackends, WebdavOptions,
};
