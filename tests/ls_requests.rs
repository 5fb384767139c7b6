//! `ls -l` of a large folder on a real FUSE mount (in process) costs about
//! one getChildren page per 1000 entries plus a couple of requests: the
//! listing sweep fills every entry's attributes and readdirplus hands them
//! to the kernel. A counting wrapper around the binding counts requests.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cmisfs::cmis::*;
use cmisfs::vfs::{Vfs, VfsConfig};

struct Counting {
    inner: Arc<dyn Binding>,
    n: AtomicU64,
}

impl Counting {
    fn hit(&self) {
        self.n.fetch_add(1, Ordering::SeqCst);
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
        self.inner.children(f, o).await
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
        self.inner.content(id, r).await
    }
    async fn create_document(
        &self,
        f: Option<&str>,
        p: &Properties,
        c: Option<ContentUpload>,
        v: Option<VersioningState>,
    ) -> Result<CmisObject> {
        self.hit();
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
        self.hit();
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
        self.hit();
        self.inner.check_out(id).await
    }
    async fn cancel_check_out(&self, id: &str) -> Result<()> {
        self.hit();
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
        self.hit();
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
        self.inner.content_changes(t, p, m).await
    }
    async fn query(&self, s: &str, a: bool, m: Option<u64>, k: u64) -> Result<ObjectList> {
        self.hit();
        self.inner.query(s, a, m, k).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ls_l_of_a_large_folder_costs_a_page_per_1000() {
    const N: usize = 2500;
    let data = tempfile::tempdir().unwrap();
    let repo = common::start_repo(data.path()).await;
    let inner = common::admin_binding(
        &repo.service_url(),
        Duration::from_secs(5),
        Duration::from_secs(60),
    )
    .await
    .unwrap();
    let info = inner.repository_info().await.unwrap();
    let folder = inner
        .create_folder(
            &info.root_folder_id,
            &Properties::new()
                .with_string(prop::NAME, "big")
                .with_id(prop::OBJECT_TYPE_ID, "cmis:folder"),
        )
        .await
        .unwrap();
    let fid = folder.id().to_string();
    let mut tasks = Vec::new();
    for chunk in 0..8 {
        let b = inner.clone();
        let fid = fid.clone();
        tasks.push(tokio::spawn(async move {
            for i in (chunk..N).step_by(8) {
                b.create_document(
                    Some(&fid),
                    &Properties::new()
                        .with_string(prop::NAME, format!("doc-{i:05}.txt"))
                        .with_id(prop::OBJECT_TYPE_ID, "cmis:document"),
                    Some(ContentUpload::from_bytes("x", "text/plain", &b"x"[..])),
                    None,
                )
                .await
                .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let counting = Arc::new(Counting {
        inner,
        n: AtomicU64::new(0),
    });
    let cache = tempfile::tempdir().unwrap();
    let mut cfg = VfsConfig::new(cache.path().to_path_buf());
    cfg.metadata_ttl = Duration::from_secs(10);
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
    let before = counting.n.load(Ordering::SeqCst);
    let dir = mp.path().join("big");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("ls")
            .arg("-l")
            .arg(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success());
    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
    assert_eq!(lines, N + 1, "a 'total' line and every document");
    let used = counting.n.load(Ordering::SeqCst) - before;
    let budget = N.div_ceil(1000) as u64 + 2;
    println!("ls -l of {N} documents: {used} requests (budget {budget})");
    assert!(used <= budget, "{used} requests > {budget}");
    let bg = guard.0.take().unwrap();
    tokio::task::spawn_blocking(move || bg.umount_and_join())
        .await
        .unwrap()
        .unwrap();
    repo.shutdown().await;
}
