//! The vocabulary of the VFS API: inode numbers, attributes, directory
//! entries, attribute changes, open flags, and [`VfsError`], which maps to
//! one errno (FUSE) and one HTTP status (WebDAV). Both adapters translate
//! these types and hold no policy of their own.

use std::time::SystemTime;

use crate::cmis::CmisError;

/// An inode number. [`ROOT_INO`] is the repository's root folder.
pub type Ino = u64;

/// The root directory's inode number (FUSE's FUSE_ROOT_ID).
pub const ROOT_INO: Ino = 1;

/// A handle of an open file, chosen by the VFS.
pub type Fh = u64;

/// What an inode is. CMIS has no symlinks, devices or fifos.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Directory,
    RegularFile,
}

/// Attributes of an inode, as `stat` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr {
    pub ino: Ino,
    pub kind: FileKind,
    pub size: u64,
    pub atime: SystemTime,
    pub mtime: SystemTime,
    pub ctime: SystemTime,
    pub crtime: SystemTime,
    /// Permission bits (e.g. 0o644), derived from allowable actions and
    /// any mode the user set with chmod.
    pub perm: u16,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
}

/// One entry of a directory listing, with its attributes (readdirplus,
/// PROPFIND depth 1: one getChildren sweep fills them all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub attr: Attr,
}

/// The attribute changes of a setattr call (`None`: leave as is).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetAttr {
    pub size: Option<u64>,
    pub atime: Option<SystemTime>,
    pub mtime: Option<SystemTime>,
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

/// How a file is opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenFlags {
    pub read: bool,
    pub write: bool,
    pub truncate: bool,
    pub append: bool,
    /// O_EXCL with O_CREAT: fail if the name exists.
    pub exclusive: bool,
}

impl OpenFlags {
    /// From the `open(2)` flags word (Linux values).
    pub fn from_libc(flags: i32) -> OpenFlags {
        let acc = flags & libc_consts::O_ACCMODE;
        OpenFlags {
            read: acc == libc_consts::O_RDONLY || acc == libc_consts::O_RDWR,
            write: acc == libc_consts::O_WRONLY || acc == libc_consts::O_RDWR,
            truncate: flags & libc_consts::O_TRUNC != 0,
            append: flags & libc_consts::O_APPEND != 0,
            exclusive: flags & libc_consts::O_EXCL != 0,
        }
    }
}

/// The Linux values of the open flags (no libc dependency for six numbers).
mod libc_consts {
    pub const O_ACCMODE: i32 = 0o3;
    pub const O_RDONLY: i32 = 0o0;
    pub const O_WRONLY: i32 = 0o1;
    pub const O_RDWR: i32 = 0o2;
    pub const O_EXCL: i32 = 0o200;
    pub const O_TRUNC: i32 = 0o1000;
    pub const O_APPEND: i32 = 0o2000;
}

/// File system statistics for statfs / the WebDAV quota properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatFs {
    pub blocks: u64,
    pub blocks_free: u64,
    pub files: u64,
    pub files_free: u64,
    pub block_size: u32,
    pub name_max: u32,
}

/// Everything a VFS operation can fail with. Each variant is one errno and
/// one HTTP status; the message says what failed, for the log.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum VfsError {
    #[error("no such file or directory: {0}")]
    NotFound(String),
    #[error("already exists: {0}")]
    Exists(String),
    #[error("not a directory: {0}")]
    NotDir(String),
    #[error("is a directory: {0}")]
    IsDir(String),
    #[error("directory not empty: {0}")]
    NotEmpty(String),
    /// The repository says no (ACL), or the document is checked out by
    /// someone else.
    #[error("permission denied: {0}")]
    AccessDenied(String),
    /// An operation CMIS cannot express (chown to another user, a hard link
    /// where the repository lacks multi-filing).
    #[error("operation not permitted: {0}")]
    NotPermitted(String),
    /// A name the repository refuses, or one that maps to no cmis:name.
    #[error("invalid name: {0}")]
    InvalidName(String),
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("name too long: {0}")]
    NameTooLong(String),
    #[error("too many links: {0}")]
    TooManyLinks(String),
    /// The local cache disk is full.
    #[error("no space left in the cache: {0}")]
    NoSpace(String),
    #[error("read-only file system")]
    ReadOnly,
    #[error("file is locked: {0}")]
    Locked(String),
    #[error("not supported: {0}")]
    NotSupported(String),
    /// No such extended attribute.
    #[error("no such attribute: {0}")]
    NoAttr(String),
    /// A buffer too small for an xattr value.
    #[error("result too large")]
    Range,
    #[error("timed out: {0}")]
    TimedOut(String),
    /// The server is unreachable or failed; the operation may succeed later.
    #[error("I/O error: {0}")]
    Io(String),
}

/// Linux errno values used below (stable ABI numbers; no libc dependency).
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const EIO: i32 = 5;
    pub const EACCES: i32 = 13;
    pub const EBUSY: i32 = 16;
    pub const EEXIST: i32 = 17;
    pub const ENOTDIR: i32 = 20;
    pub const EISDIR: i32 = 21;
    pub const EINVAL: i32 = 22;
    pub const ENOSPC: i32 = 28;
    pub const EROFS: i32 = 30;
    pub const EMLINK: i32 = 31;
    pub const ERANGE: i32 = 34;
    pub const ENAMETOOLONG: i32 = 36;
    pub const ENOTEMPTY: i32 = 39;
    pub const ENODATA: i32 = 61;
    pub const ENOTSUP: i32 = 95;
    pub const ETIMEDOUT: i32 = 110;
}

impl VfsError {
    /// The errno a FUSE reply carries.
    pub fn errno(&self) -> i32 {
        use errno::*;
        match self {
            VfsError::NotFound(_) => ENOENT,
            VfsError::Exists(_) => EEXIST,
            VfsError::NotDir(_) => ENOTDIR,
            VfsError::IsDir(_) => EISDIR,
            VfsError::NotEmpty(_) => ENOTEMPTY,
            VfsError::AccessDenied(_) => EACCES,
            VfsError::NotPermitted(_) => EPERM,
            VfsError::InvalidName(_) | VfsError::InvalidArgument(_) => EINVAL,
            VfsError::NameTooLong(_) => ENAMETOOLONG,
            VfsError::TooManyLinks(_) => EMLINK,
            VfsError::NoSpace(_) => ENOSPC,
            VfsError::ReadOnly => EROFS,
            VfsError::Locked(_) => EBUSY,
            VfsError::NotSupported(_) => ENOTSUP,
            VfsError::NoAttr(_) => ENODATA,
            VfsError::Range => ERANGE,
            VfsError::TimedOut(_) => ETIMEDOUT,
            VfsError::Io(_) => EIO,
        }
    }

    /// The HTTP status a WebDAV reply carries.
    pub fn http_status(&self) -> u16 {
        match self {
            VfsError::NotFound(_) | VfsError::NoAttr(_) => 404,
            VfsError::Exists(_) | VfsError::NotEmpty(_) | VfsError::NotDir(_) => 409,
            VfsError::IsDir(_) | VfsError::NotSupported(_) => 405,
            VfsError::AccessDenied(_) | VfsError::NotPermitted(_) | VfsError::ReadOnly => 403,
            VfsError::InvalidName(_)
            | VfsError::InvalidArgument(_)
            | VfsError::NameTooLong(_)
            | VfsError::Range => 400,
            VfsError::TooManyLinks(_) => 409,
            VfsError::NoSpace(_) => 507,
            VfsError::Locked(_) => 423,
            VfsError::TimedOut(_) => 504,
            VfsError::Io(_) => 502,
        }
    }
}

impl From<CmisError> for VfsError {
    /// The repository's answer, as a file system error. What `what` failed
    /// is in the message; the caller adds context where it has more.
    fn from(e: CmisError) -> VfsError {
        let m = e.to_string();
        match e {
            CmisError::ObjectNotFound(_) => VfsError::NotFound(m),
            CmisError::PermissionDenied(_) | CmisError::Unauthorized { .. } => {
                VfsError::AccessDenied(m)
            }
            CmisError::NameConstraintViolation(_) => VfsError::InvalidName(m),
            CmisError::ContentAlreadyExists(_) => VfsError::Exists(m),
            CmisError::InvalidArgument(_) | CmisError::FilterNotValid(_) => {
                VfsError::InvalidArgument(m)
            }
            CmisError::NotSupported(_) | CmisError::StreamNotSupported(_) => {
                VfsError::NotSupported(m)
            }
            CmisError::Versioning(_) => VfsError::AccessDenied(m),
            CmisError::Timeout { .. } => VfsError::TimedOut(m),
            _ => VfsError::Io(m),
        }
    }
}

impl From<super::names::NameError> for VfsError {
    fn from(e: super::names::NameError) -> VfsError {
        VfsError::InvalidName(e.to_string())
    }
}

pub type VfsResult<T> = Result<T, VfsError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags() {
        let f = OpenFlags::from_libc(0o1 | 0o1000 | 0o100);
        assert!(f.write && !f.read && f.truncate && !f.append);
        let f = OpenFlags::from_libc(0o2 | 0o2000);
        assert!(f.write && f.read && f.append);
    }

    #[test]
    fn errors_map_to_errno_and_status() {
        assert_eq!(
            VfsError::from(CmisError::ObjectNotFound("x".into())).errno(),
            2
        );
        assert_eq!(
            VfsError::from(CmisError::NameConstraintViolation("x".into())).errno(),
            errno::EINVAL
        );
        assert_eq!(VfsError::Locked("x".into()).http_status(), 423);
        assert_eq!(VfsError::NoSpace("x".into()).errno(), errno::ENOSPC);
    }
}
