//! The virtual file system: CMIS objects as files and directories, shared
//! by the FUSE mount (`crate::fuse`) and, later, the WebDAV endpoint.
//!
//! [`Vfs`] is a POSIX-shaped facade: `lookup`, `getattr`, `readdir`,
//! `open`/`read`/`write`/`release`, `create`, `mkdir`, `unlink`, `rename`,
//! `link`, xattrs..., each an `async fn` returning [`VfsResult`]. It holds
//! no FUSE types; errors become an errno (or an HTTP status) only at the
//! adapter.
//!
//! Below it:
//! - [`inode`]: the inode table (one inode per CMIS object for the life of
//!   the mount, documents keyed by version series id) and each file's write
//!   state (clean / dirty / local-only);
//! - [`dir`]: directory listings from one getChildren sweep, negative
//!   lookups;
//! - [`content`]: the content cache of clean documents (ranged reads,
//!   read-ahead);
//! - [`writeback`]: the upload worker (createDocument, setContentStream,
//!   checkOut/checkIn, conflict copies, retries with backoff, journal
//!   replay);
//! - [`journal`]: the redb journal of dirty files and the state store of
//!   user-set mtimes and modes.
//!
//! Metadata is cached for `metadata_ttl`; our own changes update the caches
//! at once, and where the repository has a change log it is polled and
//! exactly the changed objects are invalidated. Every request that a caller
//! waits for is bounded by `request_timeout`: a lost server gives EIO, never
//! a hang. Directory operations (mkdir, rmdir, rename, unlink) are
//! synchronous; file content is written back.

mod attrs;
mod changelog;
mod checkout;
mod chunks;
mod config;
pub mod content;
mod data;
pub mod dir;
mod dirty;
mod entries;
pub mod events;
pub mod feed;
pub mod inode;
pub mod journal;
mod lifecycle;
pub mod names;
mod readdir;
mod rename;
mod replace;
mod trim;
pub mod types;
pub mod versions;
pub mod writeback;
mod xattr;

use std::collections::{HashMap, HashSet};

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use crate::cmis::{
    prop, Action, Binding, ChangeType, ChangesCapability, ChildrenOptions, CmisError, CmisObject,
    Properties, PropertyValue, ReadOptions, RepositoryInfo, TypeDefinition,
};

pub use config::{current_ids, glob_match, VfsConfig, DEFAULT_LOCAL_ONLY};
use content::ContentCache;
use data::{Handle, Stream};
use dir::Listing;
pub use events::{from_kernel, Change};
use inode::{Dirty, FileState, Inode, InodeTable, OwnCheckout};
use journal::{JournalRecord, ObjectState, StateStore};
pub use types::*;

/// An xattr of the mount's root directory listing what is still to
/// upload (`getfattr -n user.cmisfs.pending MOUNTPOINT`): one line per
/// file, `bytes<TAB>path[<TAB>last error]`.
pub const PENDING_XATTR: &str = "user.cmisfs.pending";

/// One file still to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    pub name: String,
    pub bytes: u64,
    pub last_error: Option<String>,
}

/// The VFS of one mounted repository.
pub struct Vfs {
    binding: Arc<dyn Binding>,
    info: RepositoryInfo,
    cfg: VfsConfig,
    table: Mutex<InodeTable>,
    store: StateStore,
    cache: Arc<ContentCache>,
    dirty_dir: PathBuf,
    handles: Mutex<HashMap<Fh, Handle>>,
    next_fh: AtomicU64,
    next_local: AtomicU64,
    next_journal: AtomicU64,
    types: Mutex<HashMap<String, TypeDefinition>>,
    /// Wakes the upload worker.
    wake: tokio::sync::Notify,
    /// Signalled after every upload attempt.
    progress: tokio::sync::Notify,
    /// Bytes written and not yet uploaded.
    dirty_bytes: AtomicU64,
    /// Journal records of an earlier run, uploaded in the background.
    orphans: Mutex<Vec<(JournalRecord, Instant, u32)>>,
    /// The last failure of such a record, and whether it was a refusal
    /// for good (by record id).
    orphan_errors: Mutex<HashMap<u64, (String, bool)>>,
    /// Inodes / records being uploaded now.
    uploading: Mutex<HashSet<Ino>>,
    /// PWCs of our own uploads whose cancelCheckOut failed: the next
    /// upload checks them in (not the open checkout of another client of
    /// the same user, which takes writes and stays open).
    leftover_checkouts: Mutex<HashSet<String>>,
    /// New files written by appends only, which may stream their upload
    /// while being written (see [`feed`]).
    streams: Mutex<HashMap<Ino, Stream>>,
    /// The runtime, for tasks started from the FUSE threads.
    rt: tokio::runtime::Handle,
    /// Uploads that completed while their file was being written.
    streamed: AtomicU64,
    /// Whether the repository answers appendContentStream (asked once,
    /// when an upload in chunks is first due).
    append_supported: tokio::sync::OnceCell<bool>,
    /// Uploads sent in chunks so far.
    chunked: AtomicU64,
    stopping: AtomicBool,
    /// The change-log poll (`None`: no usable change log, TTLs only).
    log: Mutex<Option<LogHealth>>,
    /// Bumped by every invalidation from the change log: a read that
    /// started before one is not trusted beyond its TTL (it may predate
    /// the change the invalidation was for).
    log_epoch: AtomicU64,
    /// getChildren sweeps running (the poll waits for them).
    sweeps: AtomicU64,
    /// Something may have become droppable (a forget, a new listing).
    trim_needed: AtomicBool,
    /// Who wants to hear of changes (the FUSE adapter).
    events: events::Subscribers,
    /// The hidden `.versions` trees (see [`versions`]).
    versions: Mutex<versions::Versions>,
}

/// How the change-log poll is doing.
#[derive(Debug, Clone, Copy)]
struct LogHealth {
    /// The last poll succeeded.
    ok: bool,
    /// When the last successful poll started.
    last_ok: Instant,
}

/// While the change-log poll is healthy, cached attributes and listings
/// are trusted this long (the poll expires what changes; this only bounds
/// the damage of a log that misses changes).
const LOG_TRUST: Duration = Duration::from_secs(60);
/// A poll is healthy when the last one succeeded and started at most this
/// long ago (a stuck poll task loses the trust).
const LOG_HEALTHY_FOR: Duration = Duration::from_secs(60);
/// A poll waits at most this long for getChildren sweeps to end.
const MAX_POLL_DEFER: Duration = Duration::from_secs(20);

fn now_ns(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i64,
        Err(e) => -(e.duration().as_nanos() as i64),
    }
}

fn from_ns(ns: i64) -> SystemTime {
    if ns >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_nanos(ns as u64)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_nanos(ns.unsigned_abs())
    }
}

/// The version of an object's content: its id and change token (or
/// failing that its modification date). The id is part of it because
/// the tag keys what the user set on a version series (`ObjectState`), and
/// some servers (ours) count change tokens per object: a new version's
/// first token may equal an older version's, and the date set on the old
/// one would show on the new content.
pub fn version_tag(o: &CmisObject) -> String {
    let token = o
        .change_token()
        .map(str::to_string)
        .or_else(|| o.last_modification_date().map(|d| d.to_rfc3339()))
        .unwrap_or_default();
    format!("{}@{token}", o.id())
}

/// Whether `o` is a private working copy (CMIS 1.0 servers may not say
/// so with cmis:isPrivateWorkingCopy: then its id is the series' PWC id).
pub fn is_pwc(o: &CmisObject) -> bool {
    o.is_private_working_copy() == Some(true)
        || (o.is_private_working_copy().is_none()
            && o.version_series_checked_out_id() == Some(o.id()))
}

/// The stable key of an object: version series id (documents) or id.
pub fn object_key(o: &CmisObject) -> String {
    if o.is_document() {
        if let Some(s) = o.version_series_id().filter(|s| !s.is_empty()) {
            return s.to_string();
        }
    }
    o.id().to_string()
}

/// The properties the VFS uses (attributes, mode bits, xattrs): asking
/// for only these keeps listings of large folders small on the wire and in
/// memory.
pub const PROPERTY_FILTER: &str = "cmis:objectId,cmis:name,cmis:baseTypeId,cmis:objectTypeId,\
cmis:versionSeriesId,cmis:changeToken,cmis:contentStreamLength,cmis:contentStreamMimeType,\
cmis:lastModificationDate,cmis:creationDate,cmis:createdBy,cmis:lastModifiedBy,\
cmis:versionLabel,cmis:isLatestVersion,cmis:checkinComment,cmis:description,\
cmis:isVersionSeriesCheckedOut,cmis:versionSeriesCheckedOutBy,cmis:versionSeriesCheckedOutId,\
cmis:isPrivateWorkingCopy,cmis:path,cmis:parentId";

/// Reads with allowable actions (mode bits come from them).
static READ_OPTS: std::sync::LazyLock<ReadOptions> = std::sync::LazyLock::new(|| ReadOptions {
    filter: Some(PROPERTY_FILTER.to_string()),
    include_allowable_actions: true,
});
const PLAIN_READ: ReadOptions = ReadOptions {
    filter: None,
    include_allowable_actions: false,
};

/// One request a caller waits for: retried while the failure looks
/// transient (server error, broken connection, refused connection), within
/// `timeout` in all; then EIO.
async fn with_retries<T, F>(timeout: Duration, call: impl Fn() -> F) -> VfsResult<T>
where
    F: std::future::Future<Output = Result<T, CmisError>>,
{
    let start = Instant::now();
    let deadline = start + timeout;
    let mut delay = Duration::from_millis(50);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, call()).await {
            Ok(Ok(v)) => return Ok(v),
            // Retries are brief: a flaky server gets a few seconds, an
            // unreachable one one second (then cached data or EIO).
            Ok(Err(e))
                if transient(&e)
                    && Instant::now() + delay < deadline
                    && start.elapsed()
                        < if matches!(e, CmisError::Connect { .. }) {
                            Duration::from_secs(1)
                        } else {
                            Duration::from_secs(5)
                        } =>
            {
                tracing::debug!("retrying after a transient failure: {e}");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(1));
            }
            Ok(Err(e)) => return Err(VfsError::from(e)),
            Err(_) => {
                return Err(VfsError::Io(format!(
                    "the server did not answer within {timeout:?}"
                )))
            }
        }
    }
}

/// Failures worth retrying: the server or the connection, not the request.
fn transient(e: &CmisError) -> bool {
    match e {
        CmisError::Runtime(_)
        | CmisError::Transport { .. }
        | CmisError::Connect { .. }
        | CmisError::Timeout { .. }
        | CmisError::Protocol { .. } => true,
        CmisError::Http { status, .. } => *status >= 500,
        _ => false,
    }
}

/// A definite no from the repository (permission, constraint, name...):
/// retrying will not help until something changes there. Server errors
/// (runtime, 5xx: often overload or a restart) are not counted: those
/// uploads are waited for.
fn refused_for_good(e: &CmisError) -> bool {
    !e.is_transient() && !transient(e)
}

fn io_err(what: &str, e: std::io::Error) -> VfsError {
    if e.raw_os_error() == Some(28) {
        VfsError::NoSpace(format!("{what}: {e}"))
    } else {
        VfsError::Io(format!("{what}: {e}"))
    }
}

impl Vfs {
    /// Connects the VFS to a repository: reads its info and root folder
    /// (failing fast when the server is unreachable), opens the cache and
    /// journal, and starts the background tasks (upload worker, journal
    /// replay, change-log polling). Must run inside a tokio runtime.
    pub async fn new(binding: Arc<dyn Binding>, cfg: VfsConfig) -> VfsResult<Arc<Vfs>> {
        // Everything read from here on is covered by the change log from
        // the token of this repositoryInfo on.
        let started = Instant::now();
        // Retried like any request (a flaky server at mount time).
        let info = with_retries(cfg.request_timeout, || binding.repository_info()).await?;
        // The event of the log's latest token, read before anything else:
        // whatever it is, what we read from here on reflects it, so the
        // poll may skip it when the log hands it back first.
        let log_start = match (&info.latest_change_log_token, info.capabilities.changes) {
            (Some(token), c) if c != ChangesCapability::None => tokio::time::timeout(
                cfg.request_timeout,
                binding.content_changes(Some(token), false, Some(1)),
            )
            .await
            .ok()
            .and_then(Result::ok)
            .and_then(|ch| ch.events.into_iter().next()),
            _ => None,
        };
        let root_obj = with_retries(cfg.request_timeout, || {
            binding.object(&info.root_folder_id, &READ_OPTS)
        })
        .await?;
        let cache_err = |e| {
            io_err(
                &format!(
                    "cannot create the cache directory {}",
                    cfg.cache_dir.display()
                ),
                e,
            )
        };
        std::fs::create_dir_all(&cfg.cache_dir).map_err(cache_err)?;
        {
            use std::os::unix::fs::PermissionsExt;
            let _ =
                std::fs::set_permissions(&cfg.cache_dir, std::fs::Permissions::from_mode(0o700));
        }
        let dirty_dir = cfg.cache_dir.join("dirty");
        std::fs::create_dir_all(&dirty_dir).map_err(cache_err)?;
        let store = StateStore::open(&cfg.cache_dir.join("state.redb"))
            .map_err(|e| VfsError::Io(e.to_string()))?;
        let cache = Arc::new(ContentCache::new(&cfg.cache_dir, cfg.cache_size)?);
        let mut root = inode::blank(
            FileKind::Directory,
            root_obj.id().to_string(),
            ROOT_INO,
            String::new(),
        );
        root.parents.clear();
        let table = InodeTable::new(root);
        let mut records = store.records().map_err(|e| VfsError::Io(e.to_string()))?;
        // New files whose creating PUT never completed: not what the
        // client meant to store (it got an error), so not uploaded.
        let mut unfinished = Vec::new();
        records.retain(|r| {
            let marker = replace::incomplete_marker(&r.path);
            if !marker.exists() {
                return true;
            }
            tracing::warn!(
                "'{}' was being uploaded over WebDAV when cmisfs stopped: the incomplete file is dropped",
                r.name
            );
            let _ = store.remove_record(r.id);
            unfinished.push(r.clone());
            false
        });
        // A replacement streamed into a checkout that cmisfs never checked
        // in: the checkout is ours to cancel, unless a surviving record of
        // the same document (committed meanwhile) will check it in.
        unfinished.retain(|u| {
            u.object_id.is_some() && !records.iter().any(|r| r.object_id == u.object_id)
        });
        let next_journal = store.next_id().map_err(|e| VfsError::Io(e.to_string()))?;
        // Files of the last run that no record names (local-only files,
        // leftovers of a crash between upload and cleanup) are garbage.
        if let Ok(dir) = std::fs::read_dir(&dirty_dir) {
            let keep: HashSet<PathBuf> = records.iter().map(|r| r.path.clone()).collect();
            for entry in dir.flatten() {
                if !keep.contains(&entry.path()) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        let vfs = Arc::new(Vfs {
            binding,
            info,
            cfg,
            table: Mutex::new(table),
            store,
            cache,
            dirty_dir,
            handles: Mutex::new(HashMap::new()),
            next_fh: AtomicU64::new(1),
            next_local: AtomicU64::new(1),
            next_journal: AtomicU64::new(next_journal),
            types: Mutex::new(HashMap::new()),
            wake: tokio::sync::Notify::new(),
            progress: tokio::sync::Notify::new(),
            dirty_bytes: AtomicU64::new(0),
            orphans: Mutex::new(Vec::new()),
            orphan_errors: Mutex::new(HashMap::new()),
            uploading: Mutex::new(HashSet::new()),
            leftover_checkouts: Mutex::new(HashSet::new()),
            streams: Mutex::new(HashMap::new()),
            rt: tokio::runtime::Handle::current(),
            streamed: AtomicU64::new(0),
            append_supported: tokio::sync::OnceCell::new(),
            chunked: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            log: Mutex::new(None),
            log_epoch: AtomicU64::new(0),
            sweeps: AtomicU64::new(0),
            trim_needed: AtomicBool::new(false),
            events: events::Subscribers::default(),
            versions: Mutex::new(versions::Versions::default()),
        });
        // The log replaces the TTLs only where it is complete (no
        // changesIncomplete) and polled at least as often as the TTL asks
        // for: a change then shows within the TTL either way.
        if vfs.info.capabilities.changes != ChangesCapability::None
            && vfs.info.changes_incomplete != Some(true)
            && vfs.cfg.change_poll <= vfs.cfg.metadata_ttl
        {
            *vfs.log.lock().unwrap_or_else(|p| p.into_inner()) = Some(LogHealth {
                ok: vfs.info.latest_change_log_token.is_some(),
                last_ok: started,
            });
        }
        {
            let mut t = vfs.lock();
            let trust = vfs.trust_until(0);
            if let Some(r) = t.get_mut(ROOT_INO) {
                vfs.apply_object(r, root_obj);
                r.attr_trusted_until = trust;
            }
        }
        if !records.is_empty() {
            tracing::info!(
                files = records.len(),
                "replaying the journal: uploading files left from the last run"
            );
            let now = Instant::now();
            let mut o = vfs.orphans.lock().unwrap_or_else(|p| p.into_inner());
            for r in records {
                vfs.dirty_bytes.fetch_add(
                    std::fs::metadata(&r.path).map(|m| m.len()).unwrap_or(0),
                    Ordering::Relaxed,
                );
                o.push((r, now, 0));
            }
        }
        writeback::spawn_worker(vfs.clone());
        if !unfinished.is_empty() {
            let v = vfs.clone();
            let cancelling = vfs
                .rt
                .spawn(async move { replace::cancel_unfinished(&v, unfinished).await });
            // Done before the first read, which would otherwise show the
            // PWC a killed upload left (its partial content); a slow server
            // gets the request timeout, then it goes on in the background.
            let _ = tokio::time::timeout(vfs.cfg.request_timeout, cancelling).await;
        }
        trim::spawn_trimmer(vfs.clone());
        if vfs.info.capabilities.changes != ChangesCapability::None {
            changelog::spawn_change_poll(vfs.clone(), log_start);
        }
        Ok(vfs)
    }

    pub fn binding(&self) -> &Arc<dyn Binding> {
        &self.binding
    }

    pub fn repository_info(&self) -> &RepositoryInfo {
        &self.info
    }

    pub fn config(&self) -> &VfsConfig {
        &self.cfg
    }

    /// Changes made through this VFS by anything but the kernel (WebDAV,
    /// our own checkouts) and changes the change log reports: what a FUSE
    /// mount must invalidate. See [`events`].
    pub fn subscribe(&self) -> tokio::sync::mpsc::UnboundedReceiver<Change> {
        self.events.subscribe()
    }

    fn lock(&self) -> MutexGuard<'_, InodeTable> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the change-log poll currently vouches for cached metadata.
    fn log_healthy(&self) -> bool {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|h| h.ok && h.last_ok.elapsed() < LOG_HEALTHY_FOR)
    }

    /// How long what a read that started at `epoch` returned may be
    /// trusted beyond its TTL (`None`: the TTL only).
    fn trust_until(&self, epoch: u64) -> Option<Instant> {
        let usable = self.log.lock().unwrap_or_else(|p| p.into_inner()).is_some();
        (usable && self.log_epoch.load(Ordering::SeqCst) == epoch)
            .then(|| Instant::now() + LOG_TRUST.max(self.cfg.metadata_ttl))
    }

    /// One request a caller waits for: see [`with_retries`].
    async fn meta<T, F>(&self, call: impl Fn() -> F) -> VfsResult<T>
    where
        F: std::future::Future<Output = Result<T, CmisError>>,
    {
        with_retries(self.cfg.request_timeout, call).await
    }

    fn is_local_only(&self, name: &str) -> bool {
        self.cfg.local_only.iter().any(|p| glob_match(p, name))
    }

    /// Whether `obj` is checked out by the user we connect as: the PWC id
    /// then. Anonymous sessions cannot tell; a checkout whose PWC they can
    /// see counts as theirs.
    fn own_checkout_of(&self, obj: &CmisObject) -> Option<String> {
        if obj.is_version_series_checked_out() != Some(true) {
            return None;
        }
        let pwc = obj.version_series_checked_out_id()?;
        match (
            obj.version_series_checked_out_by(),
            self.cfg.user.as_deref(),
        ) {
            (Some(by), Some(me)) if by != me => None,
            (None, Some(_)) => None,
            _ => Some(pwc.to_string()),
        }
    }

    /// Whether `id` is not the PWC of a checkout of ours that nothing was
    /// written into yet (a WebDAV lock's, unmodified).
    fn pwc_written(&self, key: &str, id: &str) -> bool {
        !self
            .store
            .checkout(key)
            .is_some_and(|c| c.pwc_id == id && !c.modified)
    }

    /// Copies what the server says into an inode (keeping local state for
    /// dirty files and user-set mtime/mode while the change token holds).
    /// A private working copy of ours only updates the content attributes
    /// (the inode stays the filed document).
    fn apply_object(&self, i: &mut Inode, obj: CmisObject) {
        if is_pwc(&obj) && !obj.is_folder() {
            // Someone else's PWC (listed by some servers): not our content.
            if self.own_checkout_of(&obj).is_none() {
                return;
            }
            if !i.is_dirty() && !matches!(i.state, FileState::LocalOnly(_)) {
                i.size = obj.content_length().unwrap_or(0);
                // A PWC nothing was written into holds the document's
                // content: its date is the checkout's, not a change.
                if self.pwc_written(&i.key, obj.id()) {
                    if let Some(d) = obj.last_modification_date() {
                        i.mtime = d.into();
                    }
                }
            }
            i.attr_expires = Instant::now() + self.cfg.metadata_ttl;
            i.checkout = Some(OwnCheckout {
                pwc_id: obj.id().to_string(),
                pwc: Some(obj),
            });
            return;
        }
        i.checkout = match self.own_checkout_of(&obj) {
            Some(pwc_id) => match i.checkout.take() {
                Some(c) if c.pwc_id == pwc_id => Some(c),
                _ => Some(OwnCheckout { pwc_id, pwc: None }),
            },
            None => None,
        };
        let tag = version_tag(&obj);
        let state = self.store.state(&i.key, &tag);
        let folder = obj.is_folder();
        // Size and server date of what the file shows (our PWC, if read).
        let shown = i
            .checkout
            .as_ref()
            .and_then(|c| c.pwc.as_ref())
            .unwrap_or(&obj);
        let dated = if std::ptr::eq(shown, &obj) || self.pwc_written(&i.key, shown.id()) {
            shown
        } else {
            &obj
        };
        if !i.is_dirty() && !matches!(i.state, FileState::LocalOnly(_)) {
            i.size = if folder {
                0
            } else {
                shown.content_length().unwrap_or(0)
            };
            i.mtime = state
                .as_ref()
                .and_then(|s| s.mtime_ns)
                .map(from_ns)
                .or_else(|| dated.last_modification_date().map(SystemTime::from))
                .unwrap_or(i.mtime);
        }
        if let Some(d) = obj.last_modification_date() {
            let server: SystemTime = d.into();
            // Keep a newer local ctime (chmod, utimens, rename...).
            if server > i.ctime || state.is_none() {
                i.ctime = server;
            }
        }
        if let Some(a) = state.as_ref().and_then(|s| s.atime_ns) {
            i.atime = Some(from_ns(a));
        }
        if let Some(d) = obj.creation_date() {
            i.crtime = d.into();
        }
        let checked_out_by_other = obj.is_version_series_checked_out() == Some(true)
            && match (
                obj.version_series_checked_out_by(),
                self.cfg.user.as_deref(),
            ) {
                (Some(by), Some(me)) => by != me,
                (Some(_), None) => obj.version_series_checked_out_id().is_none(),
                _ => false,
            };
        // Our own checkout: the document lacks canSetContentStream and
        // canCheckOut, but its PWC takes our writes.
        i.writable = if folder {
            obj.allows(Action::CreateDocument) != Some(false)
                || obj.allows(Action::CreateFolder) != Some(false)
        } else {
            obj.allows(Action::SetContentStream) != Some(false)
                || obj.allows(Action::CheckOut) == Some(true)
                || i.checkout.is_some()
        } && !checked_out_by_other
            && !self.cfg.read_only;
        let base: u16 = if folder { 0o755 } else { 0o644 };
        i.perm = match state.as_ref().and_then(|s| s.mode).or(i.user_mode) {
            Some(m) => (m & 0o7777) as u16,
            None if i.writable => base,
            None => base & !0o222,
        };
        i.attr_expires = Instant::now() + self.cfg.metadata_ttl;
        // Trusted beyond the TTL only where the caller knows the read
        // raced with no invalidation.
        i.attr_trusted_until = None;
        i.object = Some(obj);
    }

    /// The inode for an object seen in folder `parent` as `name`.
    fn upsert(&self, t: &mut InodeTable, parent: Ino, name: String, obj: CmisObject) -> Ino {
        let key = object_key(&obj);
        let kind = if obj.is_folder() {
            FileKind::Directory
        } else {
            FileKind::RegularFile
        };
        let ino = match t.by_key(&key) {
            Some(ino) => ino,
            None => t.insert(inode::blank(kind, key, parent, name.clone())),
        };
        if let Some(i) = t.get_mut(ino) {
            i.parents.insert(parent);
            i.parent = parent;
            i.name = name;
            i.unlinked = false;
            i.last_used = Instant::now();
            self.apply_object(i, obj);
        }
        ino
    }

    fn attr_of(&self, t: &InodeTable, ino: Ino) -> VfsResult<Attr> {
        t.get(ino)
            .map(|i| self.full_attr(t, i))
            .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))
    }

    /// An inode's attributes; a directory's nlink counts its
    /// subdirectories (2 + n) where we have its listing.
    fn full_attr(&self, t: &InodeTable, i: &Inode) -> Attr {
        let mut a = i.attr(self.cfg.uid, self.cfg.gid);
        if i.kind == FileKind::Directory {
            if let Some(l) = &i.listing {
                let subdirs =
                    l.subdirs(|c| t.get(c).is_some_and(|x| x.kind == FileKind::Directory));
                a.nlink = 2 + subdirs;
            }
        }
        a
    }

    /// Our own change of a directory's entries: its mtime and ctime.
    fn touch_dir(t: &mut InodeTable, dir: Ino) {
        if let Some(d) = t.get_mut(dir) {
            d.touch_mtime();
        }
    }

    /// The object id of a folder inode.
    fn folder_id(t: &InodeTable, ino: Ino) -> VfsResult<String> {
        let i = t
            .get(ino)
            .ok_or_else(|| VfsError::NotFound(format!("inode {ino}")))?;
        if i.kind != FileKind::Directory {
            return Err(VfsError::NotDir(i.name.clone()));
        }
        i.object_id()
            .map(str::to_string)
            .ok_or_else(|| VfsError::NotFound(i.name.clone()))
    }

    /// The repository path of an inode, from the names we know.
    fn path_of(t: &InodeTable, ino: Ino) -> VfsResult<String> {
        let mut parts = Vec::new();
        let mut cur = ino;
        let mut guard = 0;
        while cur != ROOT_INO {
            let i = t
                .get(cur)
                .ok_or_else(|| VfsError::NotFound(format!("inode {cur}")))?;
            parts.push(names::to_cmis(&i.name)?);
            cur = i.parent;
            guard += 1;
            if guard > 4096 {
                return Err(VfsError::Io("directory loop".into()));
            }
        }
        parts.reverse();
        Ok(format!("/{}", parts.join("/")))
    }

    /// The name an inode is known by (for logs and `pending`).
    fn display_path(&self, ino: Ino) -> String {
        let t = self.lock();
        Self::path_of(&t, ino).unwrap_or_else(|_| format!("inode {ino}"))
    }

    fn check_name(name: &str) -> VfsResult<String> {
        if name.len() > names::NAME_MAX {
            return Err(VfsError::NameTooLong(name.to_string()));
        }
        Ok(names::to_cmis(name)?)
    }

    /// Publishes that `name` in `parent` changed (and so did the
    /// directory's own attributes).
    fn publish_entry(&self, parent: Ino, name: &str) {
        self.events.publish([
            Change::Entry {
                parent,
                name: name.to_string(),
            },
            Change::Inode {
                ino: parent,
                data: false,
            },
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ns_round_trip() {
        let t = SystemTime::UNIX_EPOCH + Duration::new(1_700_000_000, 123);
        assert_eq!(from_ns(now_ns(t)), t);
    }
}
