//! The FUSE adapter: translates kernel requests into [`Vfs`] calls.
//!
//! Translation only, no policy. Every callback that may wait on the
//! server hands its work to the tokio runtime and replies from the task,
//! so a slow server never blocks the fuser worker threads. Reads and
//! writes that need only local data (a dirty file, downloaded bytes) are
//! done on the fuser thread itself (`try_read_now`/`try_write_now`):
//! no copy into a task, no hop to the runtime. Entry and attribute TTLs are the VFS's metadata
//! TTL; directory listings are snapshotted at opendir so that readdir
//! offsets stay stable (the snapshot pins its inodes); readdirplus gives
//! the kernel every entry's attributes from the one getChildren sweep.
//! Every entry handed to the kernel (lookup, create, mkdir, link, a
//! readdirplus entry but `.` and `..`) is one lookup held
//! ([`Vfs::hold`]) until the kernel's forget. What changes elsewhere (a
//! WebDAV request served by the same VFS, the change log) reaches the
//! kernel as invalidations from [`spawn_invalidator`]'s thread.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use fuser::{
    Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags, Generation, INodeNo,
    KernelConfig, LockOwner, OpenFlags as FuseOpenFlags, RenameFlags, ReplyAttr, ReplyCreate,
    ReplyData, ReplyDirectory, ReplyDirectoryPlus, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs,
    ReplyWrite, ReplyXattr, Request, TimeOrNow, WriteFlags,
};

use crate::vfs::{
    from_kernel, Attr, Change, DirEntry, FileKind, OpenFlags, SetAttr, Vfs, VfsError,
};

/// The `Filesystem` of fuser over our VFS.
pub struct CmisFs {
    vfs: Arc<Vfs>,
    rt: tokio::runtime::Handle,
    ttl: Duration,
    dirs: Arc<Mutex<HashMap<u64, Arc<Vec<DirEntry>>>>>,
    next_dir: AtomicU64,
}

impl CmisFs {
    pub fn new(vfs: Arc<Vfs>, rt: tokio::runtime::Handle) -> CmisFs {
        let ttl = vfs.config().metadata_ttl;
        CmisFs {
            vfs,
            rt,
            ttl,
            dirs: Arc::new(Mutex::new(HashMap::new())),
            next_dir: AtomicU64::new(1),
        }
    }
}

impl CmisFs {
    /// Runs the handler of a kernel request that may change the namespace
    /// or a file: what it changes is not published back to the kernel.
    fn spawn_kernel<F>(&self, f: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        self.rt.spawn(from_kernel(f));
    }
}

/// Turns the VFS's change notifications (WebDAV requests served by the
/// same VFS, the repository's change log) into kernel invalidations, so
/// that the mount shows them at once rather than after the entry and
/// attribute TTL. A thread of its own: a notification can block while the
/// kernel holds the directory's lock for a request we are still serving,
/// so it must never be sent from inside a request handler.
pub fn spawn_invalidator(
    vfs: &Vfs,
    notifier: fuser::Notifier,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let mut rx = vfs.subscribe();
    std::thread::Builder::new()
        .name("cmisfs-inval".into())
        .spawn(move || {
            while let Some(c) = rx.blocking_recv() {
                let r = match &c {
                    Change::Entry { parent, name } => {
                        notifier.inval_entry(INodeNo(*parent), OsStr::new(name))
                    }
                    // Offset -1: attributes only; 0: the cached pages too.
                    Change::Inode { ino, data } => {
                        notifier.inval_inode(INodeNo(*ino), if *data { 0 } else { -1 }, 0)
                    }
                };
                if let Err(e) = r {
                    // The mount is gone: nothing left to invalidate.
                    // ENODEV, ENOTCONN, EBADF.
                    if matches!(e.raw_os_error(), Some(19 | 107 | 9)) {
                        return;
                    }
                    tracing::debug!("fuse: invalidating {c:?}: {e}");
                }
            }
        })
}

fn errno(e: &VfsError) -> Errno {
    match e {
        VfsError::NotFound(_) | VfsError::NoAttr(_) | VfsError::Range => {}
        e => tracing::debug!("fuse: {e}"),
    }
    if let VfsError::NoAttr(_) = e {
        return Errno::NO_XATTR;
    }
    Errno::from_i32(e.errno())
}

fn attr(a: &Attr) -> FileAttr {
    FileAttr {
        ino: INodeNo(a.ino),
        size: a.size,
        blocks: a.size.div_ceil(512),
        atime: a.atime,
        mtime: a.mtime,
        ctime: a.ctime,
        crtime: a.crtime,
        kind: match a.kind {
            FileKind::Directory => FileType::Directory,
            FileKind::RegularFile => FileType::RegularFile,
        },
        perm: a.perm,
        nlink: a.nlink,
        uid: a.uid,
        gid: a.gid,
        rdev: 0,
        blksize: 128 * 1024,
        flags: 0,
    }
}

fn time(t: TimeOrNow) -> SystemTime {
    match t {
        TimeOrNow::SpecificTime(t) => t,
        TimeOrNow::Now => SystemTime::now(),
    }
}

fn name(n: &OsStr) -> Result<String, Errno> {
    std::str::from_utf8(n.as_bytes())
        .map(str::to_string)
        .map_err(|_| Errno::EINVAL)
}

/// The largest read-ahead and read request we ask the kernel for.
pub const READ_AHEAD: u32 = 1 << 20;

impl Filesystem for CmisFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        let _ = config.add_capabilities(fuser::InitFlags::FUSE_DO_READDIRPLUS);
        let _ = config.set_max_readahead(READ_AHEAD);
        let _ = config.set_max_write(1 << 20);
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, n: &OsStr, reply: ReplyEntry) {
        let Ok(n) = name(n) else {
            return reply.error(Errno::ENOENT);
        };
        let (vfs, ttl) = (self.vfs.clone(), self.ttl);
        self.rt.spawn(async move {
            match vfs.lookup(parent.0, &n).await {
                Ok(a) => {
                    vfs.hold(a.ino);
                    reply.entry(&ttl, &attr(&a), Generation(0))
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        self.vfs.forget(ino.0, nlookup);
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        let (vfs, ttl) = (self.vfs.clone(), self.ttl);
        self.rt.spawn(async move {
            match vfs.getattr(ino.0).await {
                Ok(a) => reply.attr(&ttl, &attr(&a)),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn setattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let set = SetAttr {
            size,
            atime: atime.map(time),
            mtime: mtime.map(time),
            mode,
            uid,
            gid,
        };
        let (vfs, ttl) = (self.vfs.clone(), self.ttl);
        self.spawn_kernel(async move {
            match vfs.setattr(ino.0, set).await {
                Ok(a) => reply.attr(&ttl, &attr(&a)),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        n: &OsStr,
        mode: u32,
        umask: u32,
        reply: ReplyEntry,
    ) {
        let Ok(n) = name(n) else {
            return reply.error(Errno::EINVAL);
        };
        let (vfs, ttl) = (self.vfs.clone(), self.ttl);
        self.spawn_kernel(async move {
            match vfs.mkdir(parent.0, &n, mode & !umask).await {
                Ok(a) => {
                    vfs.hold(a.ino);
                    reply.entry(&ttl, &attr(&a), Generation(0))
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, n: &OsStr, reply: ReplyEmpty) {
        let Ok(n) = name(n) else {
            return reply.error(Errno::ENOENT);
        };
        let vfs = self.vfs.clone();
        self.spawn_kernel(async move {
            match vfs.unlink(parent.0, &n).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, n: &OsStr, reply: ReplyEmpty) {
        let Ok(n) = name(n) else {
            return reply.error(Errno::ENOENT);
        };
        let vfs = self.vfs.clone();
        self.spawn_kernel(async move {
            match vfs.rmdir(parent.0, &n).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        n: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        let (Ok(n), Ok(nn)) = (name(n), name(newname)) else {
            return reply.error(Errno::EINVAL);
        };
        if flags.contains(RenameFlags::RENAME_EXCHANGE)
            || flags.contains(RenameFlags::RENAME_WHITEOUT)
        {
            return reply.error(Errno::EINVAL);
        }
        let noreplace = flags.contains(RenameFlags::RENAME_NOREPLACE);
        let vfs = self.vfs.clone();
        self.spawn_kernel(async move {
            match vfs.rename(parent.0, &n, newparent.0, &nn, noreplace).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn link(
        &self,
        _req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        let Ok(nn) = name(newname) else {
            return reply.error(Errno::EINVAL);
        };
        let (vfs, ttl) = (self.vfs.clone(), self.ttl);
        self.spawn_kernel(async move {
            match vfs.link(ino.0, newparent.0, &nn).await {
                Ok(a) => {
                    vfs.hold(a.ino);
                    reply.entry(&ttl, &attr(&a), Generation(0))
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: FuseOpenFlags, reply: ReplyOpen) {
        let vfs = self.vfs.clone();
        let f = OpenFlags::from_libc(flags.0);
        self.spawn_kernel(async move {
            match vfs.open(ino.0, f).await {
                Ok(fh) => {
                    let fl = if vfs.keep_cache(ino.0) {
                        FopenFlags::FOPEN_KEEP_CACHE
                    } else {
                        FopenFlags::empty()
                    };
                    reply.opened(FileHandle(fh), fl)
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: FuseOpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        if let Some(r) = self.vfs.try_read_now(fh.0, ino.0, offset, size) {
            return match r {
                Ok(d) => reply.data(&d),
                Err(e) => reply.error(errno(&e)),
            };
        }
        let vfs = self.vfs.clone();
        self.rt.spawn(async move {
            match vfs.read(fh.0, ino.0, offset, size).await {
                Ok(d) => reply.data(&d),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: FuseOpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        if let Some(r) = self.vfs.try_write_now(ino.0, offset, data, false) {
            return match r {
                Ok(n) => reply.written(n),
                Err(e) => reply.error(errno(&e)),
            };
        }
        let vfs = self.vfs.clone();
        let data = data.to_vec();
        self.rt.spawn(async move {
            match vfs.write(fh.0, ino.0, offset, &data).await {
                Ok(n) => reply.written(n),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn flush(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        let vfs = self.vfs.clone();
        self.rt.spawn(async move {
            match vfs.flush(fh.0, ino.0).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn release(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        _flags: FuseOpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        let vfs = self.vfs.clone();
        self.spawn_kernel(async move {
            match vfs.release(fh.0, ino.0).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn fsync(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        let vfs = self.vfs.clone();
        self.rt.spawn(async move {
            match vfs.fsync(ino.0).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, _flags: FuseOpenFlags, reply: ReplyOpen) {
        let vfs = self.vfs.clone();
        let dirs = self.dirs.clone();
        let fh = self.next_dir.fetch_add(1, Ordering::Relaxed);
        self.rt.spawn(async move {
            match vfs.readdir(ino.0).await {
                Ok(entries) => {
                    let inos: Vec<u64> = entries.iter().map(|e| e.attr.ino).collect();
                    vfs.pin(&inos);
                    dirs.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(fh, Arc::new(entries));
                    reply.opened(FileHandle(fh), FopenFlags::empty())
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let entries = self
            .dirs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&fh.0)
            .cloned();
        let Some(entries) = entries else {
            return reply.error(Errno::EBADF);
        };
        // Offsets: 1 = ".", 2 = "..", 2+k = entry k.
        let mut off = offset;
        if off == 0 {
            if reply.add(ino, 1, FileType::Directory, ".") {
                return reply.ok();
            }
            off = 1;
        }
        if off == 1 {
            if reply.add(INodeNo(1), 2, FileType::Directory, "..") {
                return reply.ok();
            }
            off = 2;
        }
        for (k, e) in entries.iter().enumerate().skip((off - 2) as usize) {
            let kind = match e.attr.kind {
                FileKind::Directory => FileType::Directory,
                FileKind::RegularFile => FileType::RegularFile,
            };
            if reply.add(INodeNo(e.attr.ino), (k + 3) as u64, kind, &e.name) {
                break;
            }
        }
        reply.ok();
    }

    fn readdirplus(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        let entries = self
            .dirs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&fh.0)
            .cloned();
        let Some(entries) = entries else {
            return reply.error(Errno::EBADF);
        };
        let vfs = self.vfs.clone();
        let ttl = self.ttl;
        self.rt.spawn(async move {
            let mut off = offset;
            // The kernel takes no lookup and no attributes from "." and
            // "..": cached attributes (the root's for "..") do.
            if off == 0 {
                if let Ok(a) = vfs.cached_attr(ino.0) {
                    if reply.add(ino, 1, ".", &ttl, &attr(&a), Generation(0)) {
                        return reply.ok();
                    }
                }
                off = 1;
            }
            if off == 1 {
                if let Ok(a) = vfs.cached_attr(1) {
                    if reply.add(INodeNo(1), 2, "..", &ttl, &attr(&a), Generation(0)) {
                        return reply.ok();
                    }
                }
                off = 2;
            }
            for (k, e) in entries.iter().enumerate().skip((off - 2) as usize) {
                if reply.add(
                    INodeNo(e.attr.ino),
                    (k + 3) as u64,
                    &e.name,
                    &ttl,
                    &attr(&e.attr),
                    Generation(0),
                ) {
                    break;
                }
                vfs.hold(e.attr.ino);
            }
            reply.ok();
        });
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: FuseOpenFlags,
        reply: ReplyEmpty,
    ) {
        let snapshot = self
            .dirs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&fh.0);
        if let Some(entries) = snapshot {
            let inos: Vec<u64> = entries.iter().map(|e| e.attr.ino).collect();
            self.vfs.unpin(&inos);
        }
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let vfs = self.vfs.clone();
        self.rt.spawn(async move {
            match vfs.statfs().await {
                Ok(s) => reply.statfs(
                    s.blocks,
                    s.blocks_free,
                    s.blocks_free,
                    s.files,
                    s.files_free,
                    s.block_size,
                    s.name_max,
                    s.block_size,
                ),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn setxattr(
        &self,
        _req: &Request,
        ino: INodeNo,
        n: &OsStr,
        value: &[u8],
        _flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        let Ok(n) = name(n) else {
            return reply.error(Errno::EINVAL);
        };
        let vfs = self.vfs.clone();
        let value = value.to_vec();
        self.rt.spawn(async move {
            match vfs.setxattr(ino.0, &n, &value).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn getxattr(&self, _req: &Request, ino: INodeNo, n: &OsStr, size: u32, reply: ReplyXattr) {
        let Ok(n) = name(n) else {
            return reply.error(Errno::NO_XATTR);
        };
        let vfs = self.vfs.clone();
        self.rt.spawn(async move {
            match vfs.getxattr(ino.0, &n).await {
                Ok(v) => xattr_reply(reply, size, &v),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn listxattr(&self, _req: &Request, ino: INodeNo, size: u32, reply: ReplyXattr) {
        let vfs = self.vfs.clone();
        self.rt.spawn(async move {
            match vfs.listxattr(ino.0).await {
                Ok(names) => {
                    let mut buf = Vec::new();
                    for n in names {
                        buf.extend_from_slice(n.as_bytes());
                        buf.push(0);
                    }
                    xattr_reply(reply, size, &buf)
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn removexattr(&self, _req: &Request, ino: INodeNo, n: &OsStr, reply: ReplyEmpty) {
        let Ok(n) = name(n) else {
            return reply.error(Errno::NO_XATTR);
        };
        let vfs = self.vfs.clone();
        self.rt.spawn(async move {
            match vfs.removexattr(ino.0, &n).await {
                Ok(()) => reply.ok(),
                Err(e) => reply.error(errno(&e)),
            }
        });
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: fuser::AccessFlags, reply: ReplyEmpty) {
        reply.ok();
    }

    fn create(
        &self,
        _req: &Request,
        parent: INodeNo,
        n: &OsStr,
        mode: u32,
        umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        let Ok(n) = name(n) else {
            return reply.error(Errno::EINVAL);
        };
        let (vfs, ttl) = (self.vfs.clone(), self.ttl);
        let f = OpenFlags::from_libc(flags);
        self.spawn_kernel(async move {
            match vfs.create(parent.0, &n, mode & !umask, f).await {
                Ok((a, fh)) => {
                    vfs.hold(a.ino);
                    reply.created(
                        &ttl,
                        &attr(&a),
                        Generation(0),
                        FileHandle(fh),
                        FopenFlags::empty(),
                    )
                }
                Err(e) => reply.error(errno(&e)),
            }
        });
    }
}

fn xattr_reply(reply: ReplyXattr, size: u32, value: &[u8]) {
    if size == 0 {
        reply.size(value.len() as u32);
    } else if value.len() > size as usize {
        reply.error(Errno::ERANGE);
    } else {
        reply.data(value);
    }
}
