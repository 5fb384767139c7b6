//! `ls -l` of a large folder on a real FUSE mount (in process) costs about
//! one getChildren page per 1000 entries plus a couple of requests: the
//! listing sweep fills every entry's attributes and readdirplus hands them
//! to the kernel. A counting wrapper around the binding counts requests,
//! the change-log polls included.
//!
//! Also here, because it needs the wrapper to hold a listing back: our own
//! changes made while a listing sweep runs survive its older view.
//!
//! Also here, because they count requests: cached metadata is trusted
//! beyond its TTL while the change-log poll is healthy (and changes on the
//! server still show), and the inode table shrinks once the kernel forgets.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cmisfs::cmis::*;
use cmisfs::vfs::{OpenFlags, SetAttr, Vfs, VfsConfig};

struct Counting {
    inner: Arc<dyn Binding>,
    /// Every request.
    n: AtomicU64,
    /// getContentChanges requests (also in `n`).
    polls: AtomicU64,
    /// Makes getContentChanges fail (a broken change log).
    fail_changes: AtomicBool,
    /// Holds getChildren answers back (after the server answered) until
    /// `release` gets a permit; `viewed` is told when one is held.
    hold_children: AtomicBool,
    /// Holds createDocument requests back the same way, before they go.
    hold_creates: AtomicBool,
    viewed: tokio::sync::Notify,
    release: tokio::sync::Semaphore,
    /// appendContentStream calls so far, and the one (1-based) to fail
    /// with a 503 instead of passing it on (0: none).
    appends: AtomicU64,
    fail_append: AtomicU64,
    /// Answers every appendContentStream with notSupported (a CMIS 1.0
    /// server, or one without the service).
    no_appends: AtomicBool,
    /// getContentStream requests, and requests that change content or
    /// versions (create, set, append, checkOut, checkIn), also in `n`.
    contents: AtomicU64,
    changes: AtomicU64,
    /// The next checkIn reads a few pieces of its content, then fails
    /// with a 503 (a server lost in the middle of an upload).
    fail_check_in: AtomicBool,
    check_ins: AtomicU64,
    /// The next cancelCheckOut fails with a 503.
    fail_cancel: AtomicBool,
    /// This many createDocument requests fail with a 503 (a server that
    /// is briefly unwell), then they pass again.
    fail_creates: AtomicU64,
}

impl Counting {
    fn new(inner: Arc<dyn Binding>) -> Arc<Counting> {
        Arc::new(Counting {
            inner,
            n: AtomicU64::new(0),
            polls: AtomicU64::new(0),
            fail_changes: AtomicBool::new(false),
            hold_children: AtomicBool::new(false),
            hold_creates: AtomicBool::new(false),
            viewed: tokio::sync::Notify::new(),
            release: tokio::sync::Semaphore::new(0),
            appends: AtomicU64::new(0),
            fail_append: AtomicU64::new(0),
            no_appends: AtomicBool::new(false),
            contents: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            fail_check_in: AtomicBool::new(false),
            check_ins: AtomicU64::new(0),
            fail_cancel: AtomicBool::new(false),
            fail_creates: AtomicU64::new(0),
        })
    }

    fn hit(&self) {
        self.n.fetch_add(1, Ordering::SeqCst);
    }

    fn count(&self) -> u64 {
        self.n.load(Ordering::SeqCst)
    }

    fn change(&self) {
        self.hit();
        self.changes.fetch_add(1, Ordering::SeqCst);
    }

    /// Tells `viewed` and waits for a `release` permit while `hold` is on.
    async fn held(&self, hold: &AtomicBool) {
        if hold.load(Ordering::SeqCst) {
            self.viewed.notify_one();
            if let Ok(p) = self.release.acquire().await {
                p.forget();
            }
        }
    }
}

#[async_trait]
impl Binding for Counting {
    fn kind(&self) -> BindingKind {
        self.inner.kind()
    }
    fn repository_id(&self) -> &str {
        self.inner.repository_id()
    }
    async fn repository_info(&self) -> Result<RepositoryInfo> {
        self.hit();
        self.inner.repository_info().await
    }
    async fn type_definition(&self, t: &str) -> Result<TypeDefinition> {
        self.hit();
        self.inner.type_definition(t).await
    }
    async fn children(&self, f: &str, o: &ChildrenOptions) -> Result<ObjectList> {
        self.hit();
        let page = self.inner.children(f, o).await;
        self.held(&self.hold_children).await;
        page
    }
    async fn object(&self, id: &str, o: &ReadOptions) -> Result<CmisObject> {
        self.hit();
        self.inner.object(id, o).await
    }
    async fn object_by_path(&self, p: &str, o: &ReadOptions) -> Result<CmisObject> {
        self.hit();
        self.inner.object_by_path(p, o).await
    }
    async fn parents(&self, id: &str, o: &ReadOptions) -> Result<Vec<ObjectParent>> {
        self.hit();
        self.inner.parents(id, o).await
    }
    async fn content(&self, id: &str, r: Option<ByteRange>) -> Result<ContentStream> {
        self.hit();
        self.contents.fetch_add(1, Ordering::SeqCst);
        self.inner.content(id, r).await
    }
    async fn create_document(
        &self,
        f: Option<&str>,
        p: &Properties,
        c: Option<ContentUpload>,
        v: Option<VersioningState>,
    ) -> Result<CmisObject> {
        self.change();
        self.held(&self.hold_creates).await;
        let failing = self
            .fail_creates
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failing.is_ok() {
            return Err(CmisError::Http {
                status: 503,
                url: String::new(),
                message: "injected".into(),
            });
        }
        self.inner.create_document(f, p, c, v).await
    }
    async fn create_folder(&self, f: &str, p: &Properties) -> Result<CmisObject> {
        self.hit();
        self.inner.create_folder(f, p).await
    }
    async fn set_content(
        &self,
        id: &str,
        c: ContentUpload,
        o: bool,
        t: Option<&str>,
    ) -> Result<CmisObject> {
        self.change();
        self.inner.set_content(id, c, o, t).await
    }
    async fn append_content(
        &self,
        id: &str,
        c: ContentUpload,
        l: bool,
        t: Option<&str>,
    ) -> Result<CmisObject> {
        self.hit();
        let n = self.appends.fetch_add(1, Ordering::SeqCst) + 1;
        if self.no_appends.load(Ordering::SeqCst) {
            return Err(CmisError::NotSupported("appendContentStream".into()));
        }
        if n == self.fail_append.load(Ordering::SeqCst) {
            return Err(CmisError::Http {
                status: 503,
                url: String::new(),
                message: "injected".into(),
            });
        }
        self.inner.append_content(id, c, l, t).await
    }
    async fn delete_content(&self, id: &str, t: Option<&str>) -> Result<CmisObject> {
        self.hit();
        self.inner.delete_content(id, t).await
    }
    async fn update_properties(
        &self,
        id: &str,
        p: &Properties,
        t: Option<&str>,
    ) -> Result<CmisObject> {
        self.hit();
        self.inner.update_properties(id, p, t).await
    }
    async fn move_object(&self, id: &str, to: &str, from: &str) -> Result<CmisObject> {
        self.hit();
        self.inner.move_object(id, to, from).await
    }
    async fn delete(&self, id: &str, all: bool) -> Result<()> {
        self.hit();
        self.inner.delete(id, all).await
    }
    async fn delete_tree(
        &self,
        id: &str,
        all: bool,
        u: UnfileObjects,
        c: bool,
    ) -> Result<Vec<String>> {
        self.hit();
        self.inner.delete_tree(id, all, u, c).await
    }
    async fn add_object_to_folder(&self, id: &str, f: &str, all: bool) -> Result<()> {
        self.hit();
        self.inner.add_object_to_folder(id, f, all).await
    }
    async fn remove_object_from_folder(&self, id: &str, f: Option<&str>) -> Result<()> {
        self.hit();
        self.inner.remove_object_from_folder(id, f).await
    }
    async fn check_out(&self, id: &str) -> Result<CmisObject> {
        self.change();
        self.inner.check_out(id).await
    }
    async fn cancel_check_out(&self, id: &str) -> Result<()> {
        self.hit();
        if self.fail_cancel.swap(false, Ordering::SeqCst) {
            return Err(CmisError::Http {
                status: 503,
                url: String::new(),
                message: "injected".into(),
            });
        }
        self.inner.cancel_check_out(id).await
    }
    async fn check_in(
        &self,
        id: &str,
        major: bool,
        p: Option<&Properties>,
        c: Option<ContentUpload>,
        comment: Option<&str>,
    ) -> Result<CmisObject> {
        self.change();
        self.check_ins.fetch_add(1, Ordering::SeqCst);
        if self.fail_check_in.swap(false, Ordering::SeqCst) {
            if let Some(mut c) = c {
                use futures_util::StreamExt;
                for _ in 0..3 {
                    let _ = c.body.next().await;
                }
            }
            return Err(CmisError::Http {
                status: 503,
                url: String::new(),
                message: "injected".into(),
            });
        }
        self.inner.check_in(id, major, p, c, comment).await
    }
    async fn all_versions(&self, id: &str) -> Result<Vec<CmisObject>> {
        self.hit();
        self.inner.all_versions(id).await
    }
    async fn content_changes(
        &self,
        t: Option<&str>,
        p: bool,
        m: Option<u64>,
    ) -> Result<ContentChanges> {
        self.hit();
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self.fail_changes.load(Ordering::SeqCst) {
            return Err(CmisError::Runtime("change log broken (test)".into()));
        }
        self.inner.content_changes(t, p, m).await
    }
    async fn query(&self, s: &str, a: bool, m: Option<u64>, k: u64) -> Result<ObjectList> {
        self.hit();
        self.inner.query(s, a, m, k).await
    }
}

/// Open for reading and writing, nothing else.
const RW: OpenFlags = OpenFlags {
    read: true,
    write: true,
    truncate: false,
    append: false,
    exclusive: false,
};

async fn new_folder(b: &Arc<dyn Binding>, parent: &str, name: &str) -> String {
    b.create_folder(
        parent,
        &Properties::new()
            .with_string(prop::NAME, name)
            .with_id(prop::OBJECT_TYPE_ID, "cmis:folder"),
    )
    .await
    .unwrap()
    .id()
    .to_string()
}

async fn new_doc(b: &Arc<dyn Binding>, folder: &str, name: &str, content: &'static [u8]) -> String {
    b.create_document(
        Some(folder),
        &Properties::new()
            .with_string(prop::NAME, name)
            .with_id(prop::OBJECT_TYPE_ID, "cmis:document"),
        Some(ContentUpload::from_bytes(name, "text/plain", content)),
        None,
    )
    .await
    .unwrap()
    .id()
    .to_string()
}

/// `n` documents `doc-NNNNN.txt` in `folder`, 8 at a time.
async fn fill(b: &Arc<dyn Binding>, folder: &str, n: usize) {
    let mut tasks = Vec::new();
    for chunk in 0..8 {
        let b = b.clone();
        let folder = folder.to_string();
        tasks.push(tokio::spawn(async move {
            for i in (chunk..n).step_by(8) {
                new_doc(&b, &folder, &format!("doc-{i:05}.txt"), b"x").await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

async fn connect(repo: &cmisfs::repo::RunningRepo) -> (Arc<dyn Binding>, String) {
    let b = common::admin_binding(
        &repo.service_url(),
        Duration::from_secs(5),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let root = b.repository_info().await.unwrap().root_folder_id;
    (b, root)
}

/// The write-path tests' world: a repository with one folder, a Counting
/// binding over it and a cache directory for the VFS.
struct World {
    inner: Arc<dyn Binding>,
    folder: String,
    folder_name: String,
    counting: Arc<Counting>,
    cache: tempfile::TempDir,
    _repo: cmisfs::repo::RunningRepo,
    _data: tempfile::TempDir,
}

impl World {
    async fn new(folder_name: &str) -> World {
        let data = tempfile::tempdir().unwrap();
        let repo = common::start_repo(data.path()).await;
        let (inner, root) = connect(&repo).await;
        let folder = new_folder(&inner, &root, folder_name).await;
        World {
            counting: Counting::new(inner.clone()),
            inner,
            folder,
            folder_name: folder_name.to_string(),
            cache: tempfile::tempdir().unwrap(),
            _repo: repo,
            _data: data,
        }
    }

    /// A VFS through the Counting binding (write-back delay 50 ms, then
    /// `tweak`), and the inode of the world's folder.
    async fn vfs(&self, tweak: impl FnOnce(&mut VfsConfig)) -> (Arc<Vfs>, u64) {
        let mut cfg = VfsConfig::new(self.cache.path().to_path_buf());
        cfg.write_back_delay = Duration::from_millis(50);
        tweak(&mut cfg);
        let vfs = Vfs::new(self.counting.clone(), cfg).await.unwrap();
        let dir = vfs.lookup(1, &self.folder_name).await.unwrap().ino;
        (vfs, dir)
    }

    /// The names in the folder, as the server lists them.
    async fn names(&self) -> Vec<String> {
        let list = self
            .inner
            .children(&self.folder, &ChildrenOptions::default())
            .await
            .unwrap();
        list.objects
            .into_iter()
            .map(|o| o.name().to_string())
            .collect()
    }

    /// The latest version of the folder's document `name`.
    async fn latest(&self, name: &str) -> CmisObject {
        let path = format!("/{}/{name}", self.folder_name);
        self.inner
            .object_by_path(&path, &ReadOptions::default())
            .await
            .unwrap()
    }

    /// The content of the folder's document `name`, as the server has it.
    async fn content(&self, name: &str) -> Vec<u8> {
        let o = self.latest(name).await;
        common::read_all(&*self.inner, o.id()).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ls_l_of_a_large_folder_costs_a_page_per_1000() {
    const N: usize = 2500;
    let data = tempfile::tempdir().unwrap();
    let repo = common::start_repo(data.path()).await;
    let (inner, root) = connect(&repo).await;
    let fid = new_folder(&inner, &root, "big").await;
    fill(&inner, &fid, N).await;
    let counting = Counting::new(inner);
    let cache = tempfile::tempdir().unwrap();
    // The defaults: 2 s metadata TTL, the change log polled every 3 s.
    let cfg = VfsConfig::new(cache.path().to_path_buf());
    let poll_every = cfg.change_poll;
    let vfs = Vfs::new(counting.clone(), cfg).await.unwrap();
    let mp = tempfile::tempdir().unwrap();
    let fs = cmisfs::fuse::CmisFs::new(vfs.clone(), tokio::runtime::Handle::current());
    let mpp = mp.path().to_path_buf();
    let session = tokio::task::spawn_blocking(move || {
        let mut config = fuser::Config::default();
        config.mount_options = vec![fuser::MountOption::FSName("cmisfs-test".into())];
        fuser::Session::new(fs, &mpp, &config)
    })
    .await
    .unwrap()
    .unwrap();
    let bg = session.spawn().unwrap();
    struct Unmount(Option<fuser::BackgroundSession>, std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            if let Some(bg) = self.0.take() {
                if bg.umount_and_join().is_err() {
                    let _ = std::process::Command::new("fusermount3")
                        .arg("-uz")
                        .arg(&self.1)
                        .status();
                }
            }
        }
    }
    let mut guard = Unmount(Some(bg), mp.path().to_path_buf());
    // Past the root's TTL, with the poll running: start right after a
    // poll, so the poll's timing cannot help or hurt.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let polls = counting.polls.load(Ordering::SeqCst);
    let deadline = std::time::Instant::now() + poll_every * 3;
    while counting.polls.load(Ordering::SeqCst) == polls {
        assert!(
            std::time::Instant::now() < deadline,
            "the change log is not polled"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let before = counting.count();
    let polls_before = counting.polls.load(Ordering::SeqCst);
    let dir = mp.path().join("big");
    let started = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("ls")
            .arg("-l")
            .arg(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let took = started.elapsed();
    assert!(out.status.success());
    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(lines, N + 1, "a 'total' line and every document");
    let used = counting.count() - before;
    let polls = counting.polls.load(Ordering::SeqCst) - polls_before;
    let budget = N.div_ceil(1000) as u64 + 2;
    println!("ls -l of {N} documents in {took:?}: {used} requests, {polls} of them polls (budget {budget})");
    assert!(used <= budget, "{used} requests > {budget}");
    // The kernel holds every entry readdirplus gave it.
    assert!(vfs.inode_count() > N, "{} inodes", vfs.inode_count());
    let bg = guard.0.take().unwrap();
    tokio::task::spawn_blocking(move || bg.umount_and_join())
        .await
        .unwrap()
        .unwrap();
    repo.shutdown().await;
}

async fn wait_for(what: &str, mut ok: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if ok().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within 5 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_is_trusted_while_the_change_log_is_healthy() {
    let data = tempfile::tempdir().unwrap();
    let repo = common::start_repo(data.path()).await;
    let (inner, root) = connect(&repo).await;
    let t_id = new_folder(&inner, &root, "t").await;
    let u_id = new_folder(&inner, &root, "u").await;
    let a_id = new_doc(&inner, &t_id, "a.txt", b"x").await;
    let b_id = new_doc(&inner, &t_id, "b.txt", b"b").await;
    let counting = Counting::new(inner.clone());
    let cache = tempfile::tempdir().unwrap();
    let mut cfg = VfsConfig::new(cache.path().to_path_buf());
    cfg.metadata_ttl = Duration::from_millis(300);
    cfg.change_poll = Duration::from_millis(200);
    let vfs = Vfs::new(counting.clone(), cfg).await.unwrap();
    let t = vfs.lookup(1, "t").await.unwrap().ino;
    let u = vfs.lookup(1, "u").await.unwrap().ino;
    assert_eq!(vfs.readdir(t).await.unwrap().len(), 2);
    assert!(vfs.readdir(u).await.unwrap().is_empty());
    let a = vfs.lookup(t, "a.txt").await.unwrap().ino;
    // Well past the TTL, a quiet repository costs polls only.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let others = || counting.count() - counting.polls.load(Ordering::SeqCst);
    let before = others();
    assert_eq!(vfs.getattr(a).await.unwrap().size, 1);
    vfs.getattr(t).await.unwrap();
    vfs.getattr(1).await.unwrap();
    assert_eq!(vfs.readdir(t).await.unwrap().len(), 2);
    assert!(vfs.readdir(u).await.unwrap().is_empty());
    assert!(vfs.lookup(t, "nothing-here").await.is_err());
    assert_eq!(others() - before, 0, "requests beyond the polls");
    // A change on the server shows.
    inner
        .set_content(
            &a_id,
            ContentUpload::from_bytes("a.txt", "text/plain", &b"xyz"[..]),
            true,
            None,
        )
        .await
        .unwrap();
    wait_for("the new size", async || {
        vfs.getattr(a).await.unwrap().size == 3
    })
    .await;
    // A move into a listed folder shows there (the log names the object,
    // not where it went).
    inner.move_object(&b_id, &u_id, &t_id).await.unwrap();
    wait_for("the moved document", async || {
        vfs.readdir(u)
            .await
            .unwrap()
            .iter()
            .any(|e| e.name == "b.txt")
    })
    .await;
    assert_eq!(vfs.readdir(t).await.unwrap().len(), 1);
    // A broken change log: back to the TTL.
    counting.fail_changes.store(true, Ordering::SeqCst);
    let polls = counting.polls.load(Ordering::SeqCst);
    wait_for("a failed poll", async || {
        counting.polls.load(Ordering::SeqCst) > polls + 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let before = others();
    vfs.getattr(a).await.unwrap();
    assert_eq!(others() - before, 1, "getattr past the TTL asks the server");
    repo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inode_table_shrinks_when_the_kernel_forgets() {
    let data = tempfile::tempdir().unwrap();
    let repo = common::start_repo(data.path()).await;
    let (inner, root) = connect(&repo).await;
    let big = new_folder(&inner, &root, "big").await;
    let small = new_folder(&inner, &root, "small").await;
    fill(&inner, &big, 300).await;
    fill(&inner, &small, 20).await;
    let cache = tempfile::tempdir().unwrap();
    let mut cfg = VfsConfig::new(cache.path().to_path_buf());
    cfg.forget_grace = Duration::from_millis(200);
    cfg.max_listed_entries = 100;
    cfg.write_back_delay = Duration::from_secs(60);
    let vfs = Vfs::new(Counting::new(inner), cfg).await.unwrap();
    // The kernel looks both folders up and lists big with readdirplus
    // (one lookup per entry); small is listed as WebDAV does (no lookups).
    let b = vfs.lookup(1, "big").await.unwrap().ino;
    vfs.hold(b);
    let s = vfs.lookup(1, "small").await.unwrap().ino;
    vfs.hold(s);
    let entries = vfs.readdir(b).await.unwrap();
    assert_eq!(entries.len(), 300);
    for e in &entries {
        vfs.hold(e.attr.ino);
    }
    let first = entries[0].clone();
    let kept = vfs.readdir(s).await.unwrap()[0].clone();
    // A new file, not uploaded yet, nobody holds.
    let flags = RW;
    let (local, fh) = vfs.create(b, "local.txt", 0o644, flags).await.unwrap();
    vfs.write(fh, local.ino, 0, b"local data").await.unwrap();
    vfs.release(fh, local.ino).await.unwrap();
    let full = vfs.inode_count();
    assert_eq!(full, 3 + 300 + 20 + 1);
    // (The background trimmer may have run already: count what is left.)
    tokio::time::sleep(Duration::from_millis(300)).await;
    vfs.trim();
    assert_eq!(vfs.inode_count(), full, "everything is held");
    // The kernel forgets big's entries: they go, the rest stays.
    for e in &entries {
        vfs.forget(e.attr.ino, 1);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    vfs.trim();
    assert_eq!(vfs.inode_count(), full - 300);
    // Known objects keep their inode number; a forgotten one gets a new
    // one, with the right attributes.
    assert_eq!(vfs.lookup(s, &kept.name).await.unwrap().ino, kept.attr.ino);
    let again = vfs.lookup(b, &first.name).await.unwrap();
    assert_ne!(again.ino, first.attr.ino);
    assert_eq!(again.size, 1);
    assert_eq!(vfs.lookup(b, &first.name).await.unwrap().ino, again.ino);
    // The file with local data survived, readable.
    let fh = vfs
        .open(
            local.ino,
            OpenFlags {
                write: false,
                ..flags
            },
        )
        .await
        .unwrap();
    let data = vfs.read(fh, local.ino, 0, 100).await.unwrap();
    assert_eq!(&data[..], b"local data");
    vfs.release(fh, local.ino).await.unwrap();
    assert_eq!(vfs.readdir(b).await.unwrap().len(), 301);
    // The forgotten inode is gone for good.
    assert!(vfs.getattr(first.attr.ino).await.is_err());
    // A folder the kernel forgets stays while something in it stays
    // (paths are built from parents); small goes with its entries once
    // its listing is evicted (big's, the newest, is kept).
    vfs.forget(b, 1);
    vfs.forget(s, 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    vfs.trim();
    assert!(vfs.getattr(b).await.is_ok(), "big holds local.txt");
    assert!(vfs.getattr(s).await.is_err(), "small is gone");
    assert!(vfs.getattr(kept.attr.ino).await.is_err());
    repo.shutdown().await;
}

/// Our own uploads and renames come back through the change log; an event
/// carrying the change token we already hold is old news, so looking the
/// files up and listing their folder afterwards costs nothing beyond the
/// polls (it used to cost 41 requests here: every name dropped from the
/// listing and looked up again, as a second `rsync -a` did through FUSE).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_own_changes_in_the_change_log_cost_no_requests() {
    let data = tempfile::tempdir().unwrap();
    let repo = common::start_repo(data.path()).await;
    let (inner, root) = connect(&repo).await;
    new_folder(&inner, &root, "w").await;
    let counting = Counting::new(inner.clone());
    let cache = tempfile::tempdir().unwrap();
    let mut cfg = VfsConfig::new(cache.path().to_path_buf());
    // Long enough that nothing expires by time during the test (a loaded
    // machine): only the change-log handling is measured.
    cfg.metadata_ttl = Duration::from_secs(5);
    cfg.change_poll = Duration::from_millis(200);
    cfg.write_back_delay = Duration::from_millis(50);
    let vfs = Vfs::new(counting.clone(), cfg).await.unwrap();
    let w = vfs.lookup(1, "w").await.unwrap().ino;
    assert!(vfs.readdir(w).await.unwrap().is_empty());
    let flags = RW;
    // The log is held back while we write (its polls fail), so that the
    // events reach the VFS after our own replies, all at once: a poll that
    // races with a reply would see an event before the inode holds its
    // token, and rightly invalidate.
    counting.fail_changes.store(true, Ordering::SeqCst);
    // Uploaded under a temp name, then renamed into place (rsync's temp
    // files of large files, or any mv).
    for k in 0..20 {
        let name = format!("f{k}.txt");
        let tmp = format!(".f{k}.txt.XyZ{k}");
        let (a, fh) = vfs.create(w, &tmp, 0o644, flags).await.unwrap();
        vfs.write(fh, a.ino, 0, name.as_bytes()).await.unwrap();
        vfs.fsync(a.ino).await.unwrap();
        vfs.release(fh, a.ino).await.unwrap();
    }
    for k in 0..20 {
        let tmp = format!(".f{k}.txt.XyZ{k}");
        vfs.rename(w, &tmp, w, &format!("f{k}.txt"), false)
            .await
            .unwrap();
    }
    wait_for("the uploads", async || vfs.pending().is_empty()).await;
    counting.fail_changes.store(false, Ordering::SeqCst);
    // A few polls see the 20 creations and renames.
    let polls = counting.polls.load(Ordering::SeqCst);
    wait_for("three polls", async || {
        counting.polls.load(Ordering::SeqCst) > polls + 2
    })
    .await;
    let others = || counting.count() - counting.polls.load(Ordering::SeqCst);
    let before = others();
    for k in 0..20 {
        let a = vfs.lookup(w, &format!("f{k}.txt")).await.unwrap();
        assert_eq!(a.size, format!("f{k}.txt").len() as u64);
    }
    assert_eq!(vfs.readdir(w).await.unwrap().len(), 20);
    assert_eq!(others() - before, 0, "requests beyond the polls");
    repo.shutdown().await;
}

/// A listing sweep takes a while; what we change in the folder meanwhile
/// is newer than its view. A file whose upload finishes during the sweep
/// stays listed (it used to vanish: `cp -r` through a slow server lost two
/// of 200 files from `ls`), a removed one does not come back and a renamed
/// one keeps its new name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_during_a_listing_sweep_survive_it() {
    let data = tempfile::tempdir().unwrap();
    let repo = common::start_repo(data.path()).await;
    let (inner, root) = connect(&repo).await;
    let fid = new_folder(&inner, &root, "d").await;
    new_doc(&inner, &fid, "gone.txt", b"1").await;
    new_doc(&inner, &fid, "old-name.txt", b"2").await;
    let counting = Counting::new(inner);
    let cache = tempfile::tempdir().unwrap();
    let mut cfg = VfsConfig::new(cache.path().to_path_buf());
    cfg.write_back_delay = Duration::from_secs(60);
    let vfs = Vfs::new(counting.clone(), cfg).await.unwrap();
    let d = vfs.lookup(1, "d").await.unwrap().ino;
    let flags = RW;
    let (new, fh) = vfs.create(d, "new.txt", 0o644, flags).await.unwrap();
    vfs.write(fh, new.ino, 0, b"new data").await.unwrap();
    // The sweep sees the server before the upload.
    counting.hold_children.store(true, Ordering::SeqCst);
    let listing = tokio::spawn({
        let vfs = vfs.clone();
        async move { vfs.readdir(d).await }
    });
    tokio::time::timeout(Duration::from_secs(10), counting.viewed.notified())
        .await
        .expect("the sweep asks the server");
    vfs.fsync(new.ino).await.unwrap();
    vfs.release(fh, new.ino).await.unwrap();
    vfs.unlink(d, "gone.txt").await.unwrap();
    vfs.rename(d, "old-name.txt", d, "new-name.txt", false)
        .await
        .unwrap();
    counting.hold_children.store(false, Ordering::SeqCst);
    counting.release.add_permits(100);
    let names = |entries: Vec<cmisfs::vfs::DirEntry>| {
        let mut n: Vec<String> = entries.into_iter().map(|e| e.name).collect();
        n.sort();
        n
    };
    let want = vec!["new-name.txt".to_string(), "new.txt".to_string()];
    assert_eq!(
        names(listing.await.unwrap().unwrap()),
        want,
        "the sweep's answer"
    );
    assert_eq!(
        names(vfs.readdir(d).await.unwrap()),
        want,
        "the listing kept"
    );
    assert_eq!(vfs.lookup(d, "new.txt").await.unwrap().ino, new.ino);
    assert!(vfs.lookup(d, "gone.txt").await.is_err());
    assert!(vfs.lookup(d, "old-name.txt").await.is_err());
    // And the server agrees, seen by a sweep of its own.
    let mut server: Vec<String> = counting
        .inner
        .children(&fid, &ChildrenOptions::default())
        .await
        .unwrap()
        .objects
        .iter()
        .map(|o| o.name().to_string())
        .collect();
    server.sort();
    assert_eq!(server, want);
    repo.shutdown().await;
}

/// `upload_chunk_size`: when a later piece of a new document fails, the
/// half-uploaded document is removed, and the retry creates it whole (no
/// conflict copy beside a truncated original).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_piece_of_a_new_document_leaves_no_half_document() {
    let w = World::new("c").await;
    let counting = &w.counting;
    let (vfs, dir) = w.vfs(|c| c.upload_chunk_size = Some(64 * 1024)).await;
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 241) as u8).collect();
    // Append 1 is the probe (to an object that does not exist); 2 is the
    // second piece of the new document.
    counting.fail_append.store(2, Ordering::SeqCst);
    let (a, fh) = vfs.create(dir, "big.bin", 0o644, RW).await.unwrap();
    vfs.write(fh, a.ino, 0, &body).await.unwrap();
    vfs.release(fh, a.ino).await.unwrap();
    wait_for("the upload", async || vfs.pending().is_empty()).await;
    // Failed once, then all four pieces' appends (3 per attempt) again.
    assert_eq!(counting.appends.load(Ordering::SeqCst), 1 + 1 + 3);
    assert_eq!(vfs.chunked_uploads(), 1);
    assert_eq!(w.names().await, ["big.bin"], "no conflict copy");
    assert_eq!(w.content("big.bin").await, body);
}

/// `upload_chunk_size` against a repository without appendContentStream:
/// it is asked once, and every upload goes in one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_append_uploads_go_in_one_request() {
    let w = World::new("n").await;
    let counting = &w.counting;
    counting.no_appends.store(true, Ordering::SeqCst);
    let (vfs, dir) = w.vfs(|c| c.upload_chunk_size = Some(64 * 1024)).await;
    for (name, len) in [("a.bin", 200_000usize), ("b.bin", 150_000)] {
        let body = common::pattern(len, 7);
        let (a, fh) = vfs.create(dir, name, 0o644, RW).await.unwrap();
        vfs.write(fh, a.ino, 0, &body).await.unwrap();
        vfs.fsync(a.ino).await.unwrap();
        vfs.release(fh, a.ino).await.unwrap();
        assert_eq!(w.content(name).await, body);
    }
    assert_eq!(counting.appends.load(Ordering::SeqCst), 1, "only the probe");
    assert_eq!(vfs.chunked_uploads(), 0);
}

/// Opening a document for writing costs nothing until the first write:
/// `touch` and programs that open read-write to read or lock a document
/// used to download it whole at the open and upload it again as a new
/// version at the close; an O_TRUNC open (the kernel sends the open, then
/// a truncate) downloaded the content it was about to throw away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_for_writing_costs_nothing_until_the_first_write() {
    let w = World::new("o").await;
    let counting = &w.counting;
    new_doc(&w.inner, &w.folder, "a.txt", b"the original content").await;
    let before = w.latest("a.txt").await;
    let (vfs, dir) = w.vfs(|_| {}).await;
    let a = vfs.lookup(dir, "a.txt").await.unwrap().ino;

    // touch: open for writing, set the times, close.
    let fh = vfs.open(a, RW).await.unwrap();
    let when = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let set = SetAttr {
        mtime: Some(when),
        ..Default::default()
    };
    vfs.setattr(a, set).await.unwrap();
    vfs.release(fh, a).await.unwrap();
    // Open read-write, read, close.
    let fh = vfs.open(a, RW).await.unwrap();
    assert_eq!(&vfs.read(fh, a, 0, 3).await.unwrap()[..], b"the");
    vfs.release(fh, a).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(vfs.pending().is_empty());
    assert_eq!(
        counting.changes.load(Ordering::SeqCst),
        0,
        "nothing uploaded"
    );
    assert_eq!(counting.contents.load(Ordering::SeqCst), 1, "the one read");
    assert_eq!(
        w.latest("a.txt").await.change_token(),
        before.change_token()
    );
    assert_eq!(vfs.getattr(a).await.unwrap().mtime, when);

    // Open, truncate, write: the old content is not fetched again.
    let contents = counting.contents.load(Ordering::SeqCst);
    let fh = vfs.open(a, RW).await.unwrap();
    let set = SetAttr {
        size: Some(0),
        ..Default::default()
    };
    vfs.setattr(a, set).await.unwrap();
    vfs.write(fh, a, 0, b"new").await.unwrap();
    vfs.release(fh, a).await.unwrap();
    wait_for("the upload", async || vfs.pending().is_empty()).await;
    assert_eq!(counting.contents.load(Ordering::SeqCst), contents);
    assert_eq!(w.content("a.txt").await, b"new");
}

/// LibreOffice's save: it writes and fsyncs `luNNNNxXXXX.tmp` beside the
/// document, then renames it over the document. The temp file is local
/// only: the save is one new version of the document (checkOut +
/// checkIn), not a createDocument of the temp file, a delete and the
/// version (the content uploaded twice, and a document that lived a
/// moment on the server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_libreoffice_save_uploads_the_content_once() {
    let w = World::new("office").await;
    new_doc(&w.inner, &w.folder, "report.odt", b"version one").await;
    let (vfs, dir) = w.vfs(|_| {}).await;
    vfs.lookup(dir, "report.odt").await.unwrap();
    let tmp = "lu8055xou39.tmp";
    let (t, fh) = vfs.create(dir, tmp, 0o644, RW).await.unwrap();
    vfs.write(fh, t.ino, 0, b"version two").await.unwrap();
    vfs.fsync(t.ino).await.unwrap();
    vfs.release(fh, t.ino).await.unwrap();
    vfs.rename(dir, tmp, dir, "report.odt", false)
        .await
        .unwrap();
    wait_for("the upload", async || vfs.pending().is_empty()).await;
    let changes = w.counting.changes.load(Ordering::SeqCst);
    assert_eq!(changes, 2, "checkOut + checkIn only");
    assert_eq!(w.content("report.odt").await, b"version two");
    assert_eq!(w.latest("report.odt").await.version_label(), Some("1.1"));
}

/// A streamed rewrite of a versionable document that breaks off (the
/// server fails the checkIn halfway through the body) leaves no checkout
/// behind, and the document is uploaded whole after close: one new
/// version with the new content.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_streamed_rewrite_is_uploaded_whole_afterwards() {
    let w = World::new("r").await;
    let counting = &w.counting;
    let mib = 1usize << 20;
    let old = common::pattern(20 * mib, 1);
    let new = common::pattern(20 * mib, 2);
    let props = Properties::new()
        .with_string(prop::NAME, "big.bin")
        .with_id(prop::OBJECT_TYPE_ID, "cmis:document");
    let body = ContentUpload::from_bytes("big.bin", "application/octet-stream", old);
    let doc = w
        .inner
        .create_document(Some(&w.folder), &props, Some(body), None)
        .await
        .unwrap();
    let (vfs, dir) = w.vfs(|_| {}).await;
    let ino = vfs.lookup(dir, "big.bin").await.unwrap().ino;
    counting.fail_check_in.store(true, Ordering::SeqCst);
    let fh = vfs.open(ino, RW).await.unwrap();
    let set = SetAttr {
        size: Some(0),
        ..Default::default()
    };
    vfs.setattr(ino, set).await.unwrap();
    for (k, chunk) in new.chunks(mib).enumerate() {
        vfs.write(fh, ino, (k * mib) as u64, chunk).await.unwrap();
    }
    vfs.fsync(ino).await.unwrap();
    vfs.release(fh, ino).await.unwrap();
    wait_for("the upload", async || vfs.pending().is_empty()).await;
    let check_ins = counting.check_ins.load(Ordering::SeqCst);
    assert_eq!(check_ins, 2, "the broken one, then one whole");
    let latest = w.latest("big.bin").await;
    assert_eq!(latest.is_version_series_checked_out(), Some(false));
    assert_eq!(w.content("big.bin").await, new);
    assert_eq!(w.inner.all_versions(doc.id()).await.unwrap().len(), 2);
}

/// A save whose checkIn fails once (a server error in the middle of the
/// upload) is retried as a new version of the document. The checkOut and
/// cancelCheckOut of the failed attempt changed the document's token;
/// the retry used to take that for someone else's change and upload the
/// user's file as a conflict copy beside the unchanged document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_check_in_is_retried_without_a_conflict_copy() {
    let w = World::new("s").await;
    let counting = &w.counting;
    let doc = new_doc(&w.inner, &w.folder, "note.txt", b"version one").await;
    let (vfs, dir) = w.vfs(|_| {}).await;
    let ino = vfs.lookup(dir, "note.txt").await.unwrap().ino;
    counting.fail_check_in.store(true, Ordering::SeqCst);
    let fh = vfs.open(ino, RW).await.unwrap();
    vfs.write(fh, ino, 0, b"version TWO").await.unwrap();
    vfs.release(fh, ino).await.unwrap();
    wait_for("the upload", async || vfs.pending().is_empty()).await;
    assert_eq!(counting.check_ins.load(Ordering::SeqCst), 2);
    assert_eq!(w.names().await, ["note.txt"], "no conflict copy");
    assert_eq!(w.content("note.txt").await, b"version TWO");
    assert_eq!(w.inner.all_versions(&doc).await.unwrap().len(), 2);
}

/// A failed checkIn whose cancelCheckOut fails too (the server went away
/// for a moment) leaves our own checkout open. The retry checks the
/// content into it; it used to take it for another client's checkout of
/// the same user, put the content into the PWC and leave the document
/// checked out for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_left_by_a_failed_upload_is_checked_in_by_the_retry() {
    let w = World::new("l").await;
    let counting = &w.counting;
    let doc = new_doc(&w.inner, &w.folder, "note.txt", b"version one").await;
    let (vfs, dir) = w.vfs(|_| {}).await;
    let ino = vfs.lookup(dir, "note.txt").await.unwrap().ino;
    counting.fail_check_in.store(true, Ordering::SeqCst);
    counting.fail_cancel.store(true, Ordering::SeqCst);
    let fh = vfs.open(ino, RW).await.unwrap();
    vfs.write(fh, ino, 0, b"version TWO").await.unwrap();
    vfs.release(fh, ino).await.unwrap();
    wait_for("the upload", async || vfs.pending().is_empty()).await;
    assert_eq!(counting.check_ins.load(Ordering::SeqCst), 2);
    let latest = w.latest("note.txt").await;
    assert_eq!(latest.is_version_series_checked_out(), Some(false));
    assert_eq!(w.names().await, ["note.txt"], "no conflict copy");
    assert_eq!(w.content("note.txt").await, b"version TWO");
    assert_eq!(w.inner.all_versions(&doc).await.unwrap().len(), 2);
}

/// Written again while its conflict copy is being uploaded: the newer
/// bytes are not (or only partly) in that copy. They used to be deleted
/// with the cache file when the copy was made; now they stay dirty and
/// become a conflict copy of their own, and the server's copy stays.
/// (The growing file also used to overrun the upload's announced length:
/// the server refused the body and fsync failed.)
/// fsync rides out a server that is unwell for a moment (two 503s in a
/// row): the save succeeds instead of failing with EIO, and the document
/// is created once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fsync_retries_a_brief_server_failure() {
    let w = World::new("f").await;
    let (vfs, dir) = w.vfs(|_| {}).await;
    let (a, fh) = vfs.create(dir, "saved.txt", 0o644, RW).await.unwrap();
    vfs.write(fh, a.ino, 0, b"the report").await.unwrap();
    w.counting.fail_creates.store(2, Ordering::SeqCst);
    vfs.fsync(a.ino).await.unwrap();
    vfs.release(fh, a.ino).await.unwrap();
    assert_eq!(w.counting.fail_creates.load(Ordering::SeqCst), 0);
    assert_eq!(w.content("saved.txt").await, b"the report");
    assert_eq!(w.names().await, ["saved.txt"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_during_a_conflict_upload_are_kept() {
    let w = World::new("w").await;
    let counting = &w.counting;
    let doc = new_doc(&w.inner, &w.folder, "plan.txt", b"version one").await;
    let (vfs, dir) = w.vfs(|_| {}).await;
    let ino = vfs.lookup(dir, "plan.txt").await.unwrap().ino;
    let fh = vfs.open(ino, RW).await.unwrap();
    vfs.write(fh, ino, 0, b"mine, first").await.unwrap();
    // Someone else saves meanwhile.
    let theirs = ContentUpload::from_bytes("plan.txt", "text/plain", &b"theirs"[..]);
    w.inner.set_content(&doc, theirs, true, None).await.unwrap();
    counting.hold_creates.store(true, Ordering::SeqCst);
    let upload = tokio::spawn({
        let vfs = vfs.clone();
        async move { vfs.fsync(ino).await }
    });
    counting.viewed.notified().await;
    // The conflict copy is on its way; the user writes on.
    vfs.write(fh, ino, 0, b"mine, second and last")
        .await
        .unwrap();
    counting.hold_creates.store(false, Ordering::SeqCst);
    counting.release.add_permits(1);
    upload.await.unwrap().unwrap();
    vfs.release(fh, ino).await.unwrap();
    wait_for("the uploads", async || vfs.pending().is_empty()).await;
    assert_eq!(
        w.content("plan.txt").await,
        b"theirs",
        "the server's copy stays"
    );
    let mut kept = Vec::new();
    for name in w.names().await {
        if name.starts_with("plan (conflict ") {
            kept.push(w.content(&name).await);
        }
    }
    assert!(
        kept.iter().any(|c| c == b"mine, second and last"),
        "the last write is in a conflict copy: {:?}",
        kept.iter()
            .map(|c| String::from_utf8_lossy(c))
            .collect::<Vec<_>>()
    );
}

/// Renamed while its createDocument is on its way: the document must end
/// up under the new name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_renamed_during_its_first_upload_gets_the_new_name() {
    let w = World::new("r").await;
    let counting = &w.counting;
    let (vfs, dir) = w.vfs(|_| {}).await;
    let (a, fh) = vfs.create(dir, "download.part", 0o644, RW).await.unwrap();
    vfs.write(fh, a.ino, 0, b"the whole download")
        .await
        .unwrap();
    counting.hold_creates.store(true, Ordering::SeqCst);
    let upload = tokio::spawn({
        let vfs = vfs.clone();
        async move { vfs.fsync(a.ino).await }
    });
    counting.viewed.notified().await;
    vfs.release(fh, a.ino).await.unwrap();
    let rename = tokio::spawn({
        let vfs = vfs.clone();
        async move {
            vfs.rename(dir, "download.part", dir, "report.pdf", false)
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    counting.hold_creates.store(false, Ordering::SeqCst);
    counting.release.add_permits(1);
    upload.await.unwrap().unwrap();
    rename.await.unwrap().unwrap();
    wait_for("the uploads", async || vfs.pending().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(w.names().await, ["report.pdf"]);
    assert_eq!(w.content("report.pdf").await, b"the whole download");
}

/// Deleted while its createDocument is on its way: no document is left
/// behind in the repository.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_deleted_during_its_first_upload_leaves_nothing() {
    let w = World::new("d").await;
    let counting = &w.counting;
    let (vfs, dir) = w.vfs(|_| {}).await;
    let (a, fh) = vfs.create(dir, "scratch.dat", 0o644, RW).await.unwrap();
    vfs.write(fh, a.ino, 0, b"short-lived").await.unwrap();
    vfs.release(fh, a.ino).await.unwrap();
    counting.hold_creates.store(true, Ordering::SeqCst);
    counting.viewed.notified().await;
    let unlink = tokio::spawn({
        let vfs = vfs.clone();
        async move { vfs.unlink(dir, "scratch.dat").await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    counting.hold_creates.store(false, Ordering::SeqCst);
    counting.release.add_permits(1);
    unlink.await.unwrap().unwrap();
    wait_for("the uploads", async || vfs.pending().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(w.names().await.is_empty(), "left: {:?}", w.names().await);
    assert!(vfs.lookup(dir, "scratch.dat").await.is_err());
}

/// A new file whose name someone else took on the server before our
/// upload: theirs keeps the name, ours becomes the conflict copy, and the
/// mount shows exactly that at once (it used to show our bytes under the
/// taken name, as the copy's object, until the next listing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_file_whose_name_was_taken_shows_as_its_conflict_copy() {
    let w = World::new("n").await;
    let (vfs, dir) = w
        .vfs(|c| c.write_back_delay = Duration::from_secs(3600))
        .await;
    let (a, fh) = vfs.create(dir, "dup.txt", 0o644, RW).await.unwrap();
    vfs.write(fh, a.ino, 0, b"ours").await.unwrap();
    vfs.release(fh, a.ino).await.unwrap();
    let theirs = new_doc(&w.inner, &w.folder, "dup.txt", b"theirs").await;
    vfs.fsync(a.ino).await.unwrap();
    let names = w.names().await;
    assert_eq!(names.len(), 2, "{names:?}");
    let copy = names
        .iter()
        .find(|n| n.starts_with("dup (conflict "))
        .unwrap();
    let read = |ino: u64| {
        let vfs = vfs.clone();
        async move {
            let fh = vfs.open(ino, OpenFlags::default()).await.unwrap();
            let b = vfs.read(fh, ino, 0, 100).await.unwrap();
            vfs.release(fh, ino).await.unwrap();
            b
        }
    };
    let named = vfs.lookup(dir, "dup.txt").await.unwrap().ino;
    assert_ne!(named, a.ino, "the name is theirs again");
    let id = vfs.getxattr(named, "user.cmis.objectId").await.unwrap();
    assert_eq!(id, theirs.as_bytes());
    assert_eq!(read(named).await, &b"theirs"[..]);
    assert_eq!(vfs.lookup(dir, copy).await.unwrap().ino, a.ino);
    assert_eq!(read(a.ino).await, &b"ours"[..]);
}
