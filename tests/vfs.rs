//! The VFS semantics against the embedded repository, in process, without
//! FUSE: create/write/read, save-by-rename (identity and a new version),
//! unlink and link (nlink), mtime persistence across remounts, conflict
//! copies, journal replay after a simulated crash, local-only temp files.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cmisfs::cmis::{
    self, Auth, Binding, BindingChoice, ConnectOptions, ContentUpload, HttpOptions, ReadOptions,
};
use cmisfs::repo::{self, RepoConfig, RunningRepo};
use cmisfs::vfs::{FileKind, OpenFlags, SetAttr, Vfs, VfsConfig, VfsError, ROOT_INO};

struct Env {
    _repo: RunningRepo,
    binding: Arc<dyn Binding>,
    _data: tempfile::TempDir,
    cache: tempfile::TempDir,
}

async fn env() -> Env {
    let data = tempfile::tempdir().unwrap();
    let repo = repo::start(RepoConfig {
        data_dir: data.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        users_file: None,
    })
    .await
    .unwrap();
    let binding = cmis::connect(&ConnectOptions {
        url: repo.service_url(),
        binding: BindingChoice::Browser,
        repository: None,
        http: HttpOptions {
            auth: Auth::Basic {
                user: "admin".into(),
                password: "admin".into(),
            },
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            ..Default::default()
        },
    })
    .await
    .unwrap();
    Env {
        _repo: repo,
        binding,
        _data: data,
        cache: tempfile::tempdir().unwrap(),
    }
}

impl Env {
    async fn vfs(&self) -> Arc<Vfs> {
        self.vfs_in(self.cache.path()).await
    }

    async fn vfs_in(&self, dir: &std::path::Path) -> Arc<Vfs> {
        let mut cfg = VfsConfig::new(dir.to_path_buf());
        cfg.write_back_delay = Duration::from_millis(100);
        cfg.metadata_ttl = Duration::from_millis(500);
        cfg.user = Some("admin".into());
        Vfs::new(self.binding.clone(), cfg).await.unwrap()
    }

    async fn server_content(&self, path: &str) -> Option<Vec<u8>> {
        let o = self
            .binding
            .object_by_path(path, &ReadOptions::default())
            .await
            .ok()?;
        Some(
            self.binding
                .content(o.id(), None)
                .await
                .unwrap()
                .into_bytes()
                .await
                .unwrap(),
        )
    }
}

const W: OpenFlags = OpenFlags {
    read: true,
    write: true,
    truncate: false,
    append: false,
    exclusive: false,
};

async fn write_file(vfs: &Vfs, parent: u64, name: &str, data: &[u8]) -> u64 {
    let (a, fh) = vfs.create(parent, name, 0o644, W).await.unwrap();
    vfs.write(fh, a.ino, 0, data).await.unwrap();
    vfs.release(fh, a.ino).await.unwrap();
    a.ino
}

async fn wait_uploaded(vfs: &Vfs) {
    for _ in 0..200 {
        if vfs.pending().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("still pending: {:?}", vfs.pending());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_write_read_and_upload() {
    let e = env().await;
    let vfs = e.vfs().await;
    let ino = write_file(&vfs, ROOT_INO, "hello.txt", b"hello world").await;
    // Readable at once from the local copy.
    let fh = vfs.open(ino, OpenFlags::default()).await.unwrap();
    assert_eq!(vfs.read(fh, ino, 6, 100).await.unwrap(), b"world");
    vfs.release(fh, ino).await.unwrap();
    wait_uploaded(&vfs).await;
    assert_eq!(
        e.server_content("/hello.txt").await.unwrap(),
        b"hello world"
    );
    // Same inode after upload; listing shows it with its size.
    let list = vfs.readdir(ROOT_INO).await.unwrap();
    let entry = list.iter().find(|d| d.name == "hello.txt").unwrap();
    assert_eq!(entry.attr.ino, ino);
    assert_eq!(entry.attr.size, 11);
    // Overwrite in the middle (fetches the old content first).
    let fh = vfs.open(ino, W).await.unwrap();
    vfs.write(fh, ino, 0, b"HELLO").await.unwrap();
    vfs.fsync(ino).await.unwrap();
    vfs.release(fh, ino).await.unwrap();
    assert_eq!(
        e.server_content("/hello.txt").await.unwrap(),
        b"HELLO world"
    );
    // A read through a fresh VFS (empty cache) uses ranged downloads.
    let cache2 = tempfile::tempdir().unwrap();
    let v2 = e.vfs_in(cache2.path()).await;
    let a = v2.lookup(ROOT_INO, "hello.txt").await.unwrap();
    let fh = v2.open(a.ino, OpenFlags::default()).await.unwrap();
    assert_eq!(v2.read(fh, a.ino, 6, 5).await.unwrap(), b"world");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_by_rename_keeps_identity_and_makes_a_version() {
    let e = env().await;
    let vfs = e.vfs().await;
    let doc = write_file(&vfs, ROOT_INO, "report.txt", b"version one").await;
    vfs.fsync(doc).await.unwrap();
    let before = e
        .binding
        .object_by_path("/report.txt", &ReadOptions::default())
        .await
        .unwrap();
    let series = before.version_series_id().unwrap().to_string();
    // rsync style: temp file, fsynced (so already uploaded), renamed over.
    let tmp = write_file(&vfs, ROOT_INO, ".report.txt.Xy12ab", b"version two!").await;
    vfs.fsync(tmp).await.unwrap();
    assert!(e.server_content("/.report.txt.Xy12ab").await.is_some());
    vfs.rename(
        ROOT_INO,
        ".report.txt.Xy12ab",
        ROOT_INO,
        "report.txt",
        false,
    )
    .await
    .unwrap();
    // The kernel's view: the target name is the source's inode.
    assert_eq!(vfs.lookup(ROOT_INO, "report.txt").await.unwrap().ino, tmp);
    vfs.fsync(tmp).await.unwrap();
    let after = e
        .binding
        .object_by_path("/report.txt", &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(after.version_series_id(), Some(series.as_str()));
    assert_eq!(
        e.server_content("/report.txt").await.unwrap(),
        b"version two!"
    );
    let versions = e.binding.all_versions(after.id()).await.unwrap();
    assert!(versions.len() >= 2, "a new version: {versions:?}");
    assert!(e.server_content("/.report.txt.Xy12ab").await.is_none());
    assert!(vfs.lookup(ROOT_INO, ".report.txt.Xy12ab").await.is_err());
    // RENAME_NOREPLACE
    write_file(&vfs, ROOT_INO, "other.txt", b"x").await;
    assert!(matches!(
        vfs.rename(ROOT_INO, "other.txt", ROOT_INO, "report.txt", true)
            .await,
        Err(VfsError::Exists(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mv_link_and_unlink() {
    let e = env().await;
    let vfs = e.vfs().await;
    let a = vfs.mkdir(ROOT_INO, "a", 0o755).await.unwrap();
    let b = vfs.mkdir(ROOT_INO, "b", 0o755).await.unwrap();
    assert_eq!(a.kind, FileKind::Directory);
    let f = write_file(&vfs, a.ino, "f.txt", b"data").await;
    vfs.fsync(f).await.unwrap();
    // Plain rename + move.
    vfs.rename(a.ino, "f.txt", b.ino, "g.txt", false)
        .await
        .unwrap();
    assert!(e.server_content("/b/g.txt").await.is_some());
    assert!(e.server_content("/a/f.txt").await.is_none());
    // Hard link = multi-filing.
    let l = vfs.link(f, a.ino, "g.txt").await.unwrap();
    assert_eq!(l.ino, f);
    assert_eq!(l.nlink, 2);
    assert!(e.server_content("/a/g.txt").await.is_some());
    // Unlink one name: removeObjectFromFolder; the other stays.
    vfs.unlink(b.ino, "g.txt").await.unwrap();
    assert!(e.server_content("/b/g.txt").await.is_none());
    assert_eq!(e.server_content("/a/g.txt").await.unwrap(), b"data");
    // Unlink the last: deleted.
    vfs.unlink(a.ino, "g.txt").await.unwrap();
    assert!(e.server_content("/a/g.txt").await.is_none());
    // rmdir: not empty → ENOTEMPTY; empty → gone.
    write_file(&vfs, a.ino, "x", b"1").await;
    assert!(matches!(
        vfs.rmdir(ROOT_INO, "a").await,
        Err(VfsError::NotEmpty(_))
    ));
    vfs.unlink(a.ino, "x").await.unwrap();
    vfs.rmdir(ROOT_INO, "a").await.unwrap();
    assert!(vfs.lookup(ROOT_INO, "a").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtime_and_mode_survive_a_remount() {
    let e = env().await;
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    {
        let vfs = e.vfs().await;
        let f = write_file(&vfs, ROOT_INO, "old.txt", b"x").await;
        vfs.fsync(f).await.unwrap();
        let a = vfs
            .setattr(
                f,
                SetAttr {
                    mtime: Some(when),
                    mode: Some(0o600),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(a.mtime, when);
        // chown to someone else: EPERM.
        assert!(matches!(
            vfs.setattr(
                f,
                SetAttr {
                    uid: Some(12345),
                    ..Default::default()
                }
            )
            .await,
            Err(VfsError::NotPermitted(_))
        ));
        vfs.shutdown(Some(Duration::from_secs(10))).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let vfs = e.vfs().await;
    let a = vfs.lookup(ROOT_INO, "old.txt").await.unwrap();
    assert_eq!(a.mtime, when);
    assert_eq!(a.perm, 0o600);
    // The server's change wins.
    let o = e
        .binding
        .object_by_path("/old.txt", &ReadOptions::default())
        .await
        .unwrap();
    e.binding
        .set_content(
            o.id(),
            ContentUpload::from_bytes("old.txt", "text/plain", &b"changed"[..]),
            true,
            None,
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let list = vfs.readdir(ROOT_INO).await.unwrap();
    let a = list.iter().find(|d| d.name == "old.txt").unwrap();
    assert_ne!(a.attr.mtime, when);
    assert_eq!(a.attr.size, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_side_change_makes_a_conflict_copy() {
    let e = env().await;
    let vfs = e.vfs().await;
    let f = write_file(&vfs, ROOT_INO, "shared.txt", b"base").await;
    vfs.fsync(f).await.unwrap();
    let fh = vfs.open(f, W).await.unwrap();
    vfs.write(fh, f, 0, b"ours").await.unwrap();
    // Someone else saves meanwhile.
    let o = e
        .binding
        .object_by_path("/shared.txt", &ReadOptions::default())
        .await
        .unwrap();
    e.binding
        .set_content(
            o.id(),
            ContentUpload::from_bytes("shared.txt", "text/plain", &b"theirs"[..]),
            true,
            None,
        )
        .await
        .unwrap();
    vfs.fsync(f).await.unwrap();
    vfs.release(fh, f).await.unwrap();
    assert_eq!(e.server_content("/shared.txt").await.unwrap(), b"theirs");
    let list = vfs.readdir(ROOT_INO).await.unwrap();
    let copy = list
        .iter()
        .find(|d| d.name.starts_with("shared (conflict "))
        .unwrap_or_else(|| panic!("no conflict copy in {list:?}"));
    assert_eq!(
        e.server_content(&format!("/{}", copy.name)).await.unwrap(),
        b"ours"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_is_replayed_after_a_crash() {
    let e = env().await;
    {
        let vfs = e.vfs().await;
        let (a, fh) = vfs.create(ROOT_INO, "unsaved.bin", 0o644, W).await.unwrap();
        vfs.write(fh, a.ino, 0, &vec![7u8; 100_000]).await.unwrap();
        // Crash: no release, no fsync, no shutdown.
        assert_eq!(vfs.pending().len(), 1);
        drop(vfs);
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(e.server_content("/unsaved.bin").await.is_none());
    let vfs = e.vfs().await;
    wait_uploaded(&vfs).await;
    assert_eq!(
        e.server_content("/unsaved.bin").await.unwrap(),
        vec![7u8; 100_000]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_temp_files_stay_local() {
    let e = env().await;
    let vfs = e.vfs().await;
    write_file(&vfs, ROOT_INO, ".~lock.doc.odt#", b"lock").await;
    write_file(&vfs, ROOT_INO, "notes.txt~", b"backup").await;
    // gedit: writes a temp, renames it to the real name.
    write_file(&vfs, ROOT_INO, ".goutputstream-ABC123", b"saved").await;
    vfs.rename(
        ROOT_INO,
        ".goutputstream-ABC123",
        ROOT_INO,
        "notes.txt",
        false,
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    wait_uploaded(&vfs).await;
    assert!(e.server_content("/.~lock.doc.odt#").await.is_none());
    assert!(e.server_content("/notes.txt~").await.is_none());
    assert_eq!(e.server_content("/notes.txt").await.unwrap(), b"saved");
    // Still visible locally.
    let a = vfs.lookup(ROOT_INO, ".~lock.doc.odt#").await.unwrap();
    assert_eq!(a.size, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xattrs_show_and_set_properties() {
    let e = env().await;
    let vfs = e.vfs().await;
    let f = write_file(&vfs, ROOT_INO, "x.txt", b"1").await;
    vfs.fsync(f).await.unwrap();
    let id = vfs.getxattr(f, "user.cmis.objectId").await.unwrap();
    assert!(!id.is_empty());
    assert!(vfs
        .listxattr(f)
        .await
        .unwrap()
        .contains(&"user.cmis.versionLabel".to_string()));
    vfs.setxattr(f, "user.cmis.description", b"hello")
        .await
        .unwrap();
    assert_eq!(
        vfs.getxattr(f, "user.cmis.description").await.unwrap(),
        b"hello"
    );
    assert!(matches!(
        vfs.setxattr(f, "user.cmis.objectId", b"x").await,
        Err(VfsError::NotPermitted(_))
    ));
    assert!(matches!(
        vfs.getxattr(f, "user.other").await,
        Err(VfsError::NoAttr(_))
    ));
}
