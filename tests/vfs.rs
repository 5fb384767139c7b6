//! The VFS semantics against the embedded repository, in process, without
//! FUSE: create/write/read, save-by-rename (identity and a new version),
//! unlink and link (nlink), mtime persistence across remounts, conflict
//! copies, journal replay after a simulated crash, local-only temp files.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use cmisfs::cmis::{Binding, CmisObject, ContentUpload, ReadOptions};
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
    let repo = common::start_repo(data.path()).await;
    let binding = common::admin_binding(
        &repo.service_url(),
        Duration::from_secs(5),
        Duration::from_secs(30),
    )
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

    /// A document created directly in the repository's root folder.
    async fn put_doc(&self, name: &str, type_id: &str, content: Vec<u8>) -> CmisObject {
        let root = self.binding.repository_info().await.unwrap().root_folder_id;
        let props = cmisfs::cmis::Properties::new()
            .with_string("cmis:name", name.to_string())
            .with_id("cmis:objectTypeId", type_id);
        let body = ContentUpload::from_bytes(name, "application/octet-stream", content);
        self.binding
            .create_document(Some(&root), &props, Some(body), None)
            .await
            .unwrap()
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

async fn write_file(vfs: &Arc<Vfs>, parent: u64, name: &str, data: &[u8]) -> u64 {
    let (a, fh) = vfs.create(parent, name, 0o644, W).await.unwrap();
    vfs.write(fh, a.ino, 0, data).await.unwrap();
    vfs.release(fh, a.ino).await.unwrap();
    a.ino
}

/// `cp` over an existing document: open, truncate to 0, append `data` a
/// MiB at a time, fsync, close.
async fn rewrite(vfs: &Arc<Vfs>, ino: u64, data: &[u8]) {
    let mib = 1usize << 20;
    let fh = vfs.open(ino, W).await.unwrap();
    let set = SetAttr {
        size: Some(0),
        ..SetAttr::default()
    };
    vfs.setattr(ino, set).await.unwrap();
    for (k, chunk) in data.chunks(mib).enumerate() {
        vfs.write(fh, ino, (k * mib) as u64, chunk).await.unwrap();
    }
    vfs.fsync(ino).await.unwrap();
    vfs.release(fh, ino).await.unwrap();
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
    assert_eq!(vfs.read(fh, ino, 6, 100).await.unwrap(), &b"world"[..]);
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
    assert_eq!(v2.read(fh, a.ino, 6, 5).await.unwrap(), &b"world"[..]);
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

/// A folder moved into itself or below is refused with EINVAL before
/// the repository is asked (a WebDAV MOVE reaches the VFS without the
/// kernel's check; the repository's constraint error was an EIO).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_is_not_moved_into_itself() {
    let e = env().await;
    let vfs = e.vfs().await;
    let a = vfs.mkdir(ROOT_INO, "a", 0o755).await.unwrap();
    let b = vfs.mkdir(a.ino, "b", 0o755).await.unwrap();
    for (into, name) in [(b.ino, "c"), (a.ino, "a2")] {
        let err = vfs
            .rename(ROOT_INO, "a", into, name, false)
            .await
            .unwrap_err();
        assert_eq!(err.errno(), 22, "EINVAL: {err}");
    }
    // Beside itself is fine.
    vfs.rename(a.ino, "b", ROOT_INO, "b", false).await.unwrap();
    let names: Vec<_> = vfs
        .readdir(ROOT_INO)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert!(
        names.contains(&"a".to_string()) && names.contains(&"b".to_string()),
        "{names:?}"
    );
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
    // A fresh mount asks the server how many folders hold it.
    {
        let c = tempfile::tempdir().unwrap();
        let v2 = e.vfs_in(c.path()).await;
        let a2 = v2.lookup(ROOT_INO, "a").await.unwrap().ino;
        assert_eq!(v2.lookup(a2, "g.txt").await.unwrap().nlink, 2);
        // A directory's nlink counts its subdirectories.
        v2.readdir(ROOT_INO).await.unwrap();
        assert_eq!(v2.getattr(ROOT_INO).await.unwrap().nlink, 4);
    }
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

/// Writes "ours" into shared.txt while someone else saves "theirs" there,
/// fsyncs, and returns the names of the conflict copies holding "ours"
/// (the server's copy stays "theirs").
async fn ours_meets_theirs(e: &Env, vfs: &Arc<Vfs>, f: u64) -> Vec<String> {
    let fh = vfs.open(f, W).await.unwrap();
    vfs.write(fh, f, 0, b"ours").await.unwrap();
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
    let mut copies = Vec::new();
    for d in vfs.readdir(ROOT_INO).await.unwrap() {
        if d.name.starts_with("shared (conflict ")
            && e.server_content(&format!("/{}", d.name)).await.unwrap() == b"ours"
        {
            copies.push(d.name);
        }
    }
    copies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_side_change_makes_a_conflict_copy() {
    let e = env().await;
    let vfs = e.vfs().await;
    let f = write_file(&vfs, ROOT_INO, "shared.txt", b"base").await;
    vfs.fsync(f).await.unwrap();
    let copies = ours_meets_theirs(&e, &vfs, f).await;
    assert_eq!(copies.len(), 1, "{copies:?}");
}

/// A conflict whose copy's name is taken (another conflict of the same
/// file in the same second) saves a numbered copy instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflict_copy_whose_name_is_taken_is_numbered() {
    let e = env().await;
    let vfs = e.vfs().await;
    let f = write_file(&vfs, ROOT_INO, "shared.txt", b"base").await;
    vfs.fsync(f).await.unwrap();
    // The plain copy names of the next seconds are taken.
    let now = chrono::Utc::now();
    for s in 0..3 {
        let when = now + chrono::Duration::seconds(s);
        let name = cmisfs::vfs::names::conflict_name("shared.txt", when, 1);
        e.put_doc(&name, "cmis:document", b"earlier".to_vec()).await;
    }
    let copies = ours_meets_theirs(&e, &vfs, f).await;
    assert!(
        copies.len() == 1 && copies[0].ends_with(" 2).txt"),
        "one numbered copy: {copies:?}"
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

/// A JetBrains IDE's safe write: the new text goes to a temp file, the
/// document is renamed away, the temp file takes its name and the old one
/// is deleted. One upload, the same document, one new version, and no
/// temp document on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jetbrains_safe_write_saves_a_new_version() {
    let e = env().await;
    let vfs = e.vfs().await;
    let ino = write_file(&vfs, ROOT_INO, "Main.kt", b"fun main() {}").await;
    vfs.fsync(ino).await.unwrap();
    let id = vfs.getxattr(ino, "user.cmis.objectId").await.unwrap();
    let tmp = write_file(&vfs, ROOT_INO, "Main.kt___jb_tmp___", b"fun main() = Unit").await;
    vfs.fsync(tmp).await.unwrap();
    vfs.rename(ROOT_INO, "Main.kt", ROOT_INO, "Main.kt___jb_old___", false)
        .await
        .unwrap();
    vfs.rename(ROOT_INO, "Main.kt___jb_tmp___", ROOT_INO, "Main.kt", false)
        .await
        .unwrap();
    vfs.unlink(ROOT_INO, "Main.kt___jb_old___").await.unwrap();
    let saved = vfs.lookup(ROOT_INO, "Main.kt").await.unwrap().ino;
    vfs.fsync(saved).await.unwrap();
    wait_uploaded(&vfs).await;
    assert_eq!(
        e.server_content("/Main.kt").await.unwrap(),
        b"fun main() = Unit"
    );
    assert!(e.server_content("/Main.kt___jb_tmp___").await.is_none());
    assert!(e.server_content("/Main.kt___jb_old___").await.is_none());
    let id = String::from_utf8(id).unwrap();
    assert_eq!(e.binding.all_versions(&id).await.unwrap().len(), 2);
    // The file is the new version of the same series.
    let now = vfs.getxattr(saved, "user.cmis.objectId").await.unwrap();
    let versions = e.binding.all_versions(&id).await.unwrap();
    assert_eq!(versions[0].id().as_bytes(), now.as_slice());
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
    // What is pending, on the root.
    let g = write_file(&vfs, ROOT_INO, "later.txt", b"12345").await;
    let p = vfs
        .getxattr(ROOT_INO, cmisfs::vfs::PENDING_XATTR)
        .await
        .unwrap();
    assert_eq!(String::from_utf8(p).unwrap(), "5\t/later.txt\n");
    vfs.fsync(g).await.unwrap();
    assert!(vfs
        .getxattr(ROOT_INO, cmisfs::vfs::PENDING_XATTR)
        .await
        .unwrap()
        .is_empty());
    assert!(matches!(
        vfs.getxattr(f, "user.other").await,
        Err(VfsError::NoAttr(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vim_style_backup_rename_save_keeps_identity() {
    let e = env().await;
    let vfs = e.vfs().await;
    let f = write_file(&vfs, ROOT_INO, "notes.md", b"first").await;
    vfs.fsync(f).await.unwrap();
    let series = e
        .binding
        .object_by_path("/notes.md", &ReadOptions::default())
        .await
        .unwrap()
        .version_series_id()
        .unwrap()
        .to_string();
    // vim (backupcopy=no): file → file~, write a new file, delete file~.
    vfs.rename(ROOT_INO, "notes.md", ROOT_INO, "notes.md~", false)
        .await
        .unwrap();
    assert!(vfs.lookup(ROOT_INO, "notes.md").await.is_err());
    let fh = vfs.open(f, OpenFlags::default()).await.unwrap();
    assert_eq!(vfs.read(fh, f, 0, 100).await.unwrap(), &b"first"[..]);
    vfs.release(fh, f).await.unwrap();
    let n = write_file(&vfs, ROOT_INO, "notes.md", b"second").await;
    vfs.unlink(ROOT_INO, "notes.md~").await.unwrap();
    vfs.fsync(n).await.unwrap();
    let o = e
        .binding
        .object_by_path("/notes.md", &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(o.version_series_id(), Some(series.as_str()));
    assert_eq!(e.server_content("/notes.md").await.unwrap(), b"second");
    assert!(e.server_content("/notes.md~").await.is_none());
    assert!(e.binding.all_versions(o.id()).await.unwrap().len() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlinked_open_file_stays_usable_and_is_not_uploaded() {
    let e = env().await;
    let vfs = e.vfs().await;
    let (a, fh) = vfs.create(ROOT_INO, "scratch", 0o600, W).await.unwrap();
    vfs.write(fh, a.ino, 0, b"abc").await.unwrap();
    vfs.unlink(ROOT_INO, "scratch").await.unwrap();
    vfs.write(fh, a.ino, 3, b"def").await.unwrap();
    assert_eq!(vfs.read(fh, a.ino, 0, 10).await.unwrap(), &b"abcdef"[..]);
    vfs.release(fh, a.ino).await.unwrap();
    wait_uploaded(&vfs).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(e.server_content("/scratch").await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_lost_then_back() {
    let data = tempfile::tempdir().unwrap();
    let repo = common::start_repo(data.path()).await;
    let addr = repo.addr;
    let binding = common::admin_binding(
        &repo.service_url(),
        Duration::from_secs(2),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut cfg = VfsConfig::new(cache.path().to_path_buf());
    cfg.write_back_delay = Duration::from_millis(100);
    cfg.metadata_ttl = Duration::from_millis(200);
    cfg.request_timeout = Duration::from_secs(3);
    let vfs = Vfs::new(binding.clone(), cfg).await.unwrap();
    let f = write_file(&vfs, ROOT_INO, "kept.txt", b"cached bytes").await;
    vfs.fsync(f).await.unwrap();
    let d = vfs.mkdir(ROOT_INO, "dir", 0o755).await.unwrap();
    assert_eq!(vfs.readdir(ROOT_INO).await.unwrap().len(), 2);

    repo.shutdown().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Cached reads and attributes keep working.
    let a = vfs.getattr(f).await.unwrap();
    assert_eq!(a.size, 12);
    let fh = vfs.open(f, OpenFlags::default()).await.unwrap();
    assert_eq!(vfs.read(fh, f, 0, 100).await.unwrap(), &b"cached bytes"[..]);
    vfs.release(fh, f).await.unwrap();
    assert!(vfs.readdir(ROOT_INO).await.is_ok());
    // Writes land in the journal.
    let g = write_file(&vfs, ROOT_INO, "offline.txt", b"written offline").await;
    // Metadata the cache cannot answer fails with EIO, within the bound.
    let t = std::time::Instant::now();
    let err = vfs.readdir(d.ino).await.unwrap_err();
    assert_eq!(err.errno(), 5, "{err}");
    assert!(t.elapsed() < Duration::from_secs(10));
    // fsync reports the failure, after retrying an unreachable server for
    // about a second (a flaky one gets five).
    let t = std::time::Instant::now();
    assert!(vfs.fsync(g).await.is_err(), "fsync reports the failure");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());

    // The server comes back on the same address: the upload resumes.
    let repo = repo::start(RepoConfig {
        data_dir: data.path().to_path_buf(),
        listen: addr,
        users_file: None,
    })
    .await
    .unwrap();
    for _ in 0..100 {
        if vfs.pending().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(vfs.pending().is_empty(), "{:?}", vfs.pending());
    let o = binding
        .object_by_path("/offline.txt", &ReadOptions::default())
        .await
        .unwrap();
    let got = binding
        .content(o.id(), None)
        .await
        .unwrap()
        .into_bytes()
        .await
        .unwrap();
    assert_eq!(got, b"written offline");
    repo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_log_invalidates_what_changed() {
    let e = env().await;
    let mut cfg = VfsConfig::new(e.cache.path().to_path_buf());
    cfg.metadata_ttl = Duration::from_secs(60);
    cfg.change_poll = Duration::from_millis(200);
    let vfs = Vfs::new(e.binding.clone(), cfg).await.unwrap();
    let f = write_file(&vfs, ROOT_INO, "watched.txt", b"12345").await;
    vfs.fsync(f).await.unwrap();
    assert_eq!(vfs.readdir(ROOT_INO).await.unwrap().len(), 1);
    let o = e
        .binding
        .object_by_path("/watched.txt", &ReadOptions::default())
        .await
        .unwrap();
    e.binding
        .set_content(
            o.id(),
            ContentUpload::from_bytes("watched.txt", "text/plain", &b"1234567890"[..]),
            true,
            None,
        )
        .await
        .unwrap();
    let root = e.binding.repository_info().await.unwrap().root_folder_id;
    e.binding
        .create_document(
            Some(&root),
            &cmisfs::cmis::Properties::new()
                .with_string(cmisfs::cmis::prop::NAME, "new.txt")
                .with_id(cmisfs::cmis::prop::OBJECT_TYPE_ID, "cmis:document"),
            None,
            None,
        )
        .await
        .unwrap();
    // Well within the 60 s TTL, the poll makes both changes visible.
    let mut ok = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let size = vfs.getattr(f).await.unwrap().size;
        let n = vfs.readdir(ROOT_INO).await.unwrap().len();
        if size == 10 && n == 2 {
            ok = true;
            break;
        }
    }
    assert!(ok, "the change log did not invalidate the caches");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_cache_disk_is_enospc_for_the_writer() {
    let e = env().await;
    let small = tempfile::tempdir().unwrap();
    let st = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(small.path())
        .status()
        .unwrap();
    assert!(st.success(), "mounting a small tmpfs needs root");
    struct Umount(std::path::PathBuf);
    impl Drop for Umount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _u = Umount(small.path().to_path_buf());
    let vfs = e.vfs_in(small.path()).await;
    let (a, fh) = vfs.create(ROOT_INO, "huge.bin", 0o644, W).await.unwrap();
    let chunk = vec![1u8; 1 << 20];
    let mut err = None;
    for i in 0..8u64 {
        if let Err(x) = vfs.write(fh, a.ino, i << 20, &chunk).await {
            err = Some(x);
            break;
        }
    }
    let err = err.expect("8 MiB do not fit in 4 MiB");
    assert!(matches!(err, VfsError::NoSpace(_)), "{err}");
    assert_eq!(err.errno(), 28);
    // The journal cannot grow either: new files fail the same way.
    assert!(matches!(
        vfs.create(ROOT_INO, "more.txt", 0o644, W).await,
        Err(VfsError::NoSpace(_))
    ));
    // Space freed: writing works again, and the partial file was kept.
    assert!(vfs.getattr(a.ino).await.unwrap().size >= 1 << 20);
    vfs.release(fh, a.ino).await.unwrap();
    vfs.unlink(ROOT_INO, "huge.bin").await.unwrap();
    let ok = write_file(&vfs, ROOT_INO, "small.txt", b"fits").await;
    vfs.fsync(ok).await.unwrap();
    assert_eq!(e.server_content("/small.txt").await.unwrap(), b"fits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_checked_out_by_someone_else_is_read_only() {
    let e = env().await;
    let mut cfg = VfsConfig::new(e.cache.path().to_path_buf());
    cfg.metadata_ttl = Duration::from_millis(200);
    // We pretend to be another user than the one holding the checkout.
    cfg.user = Some("someone-else".into());
    let vfs = Vfs::new(e.binding.clone(), cfg).await.unwrap();
    let f = write_file(&vfs, ROOT_INO, "locked.txt", b"x").await;
    vfs.fsync(f).await.unwrap();
    let o = e
        .binding
        .object_by_path("/locked.txt", &ReadOptions::default())
        .await
        .unwrap();
    let pwc = e.binding.check_out(o.id()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let a = vfs.getattr(f).await.unwrap();
    assert_eq!(a.perm & 0o222, 0, "no write bit: {:o}", a.perm);
    assert!(matches!(
        vfs.open(f, W).await,
        Err(VfsError::AccessDenied(_))
    ));
    e.binding.cancel_check_out(pwc.id()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    vfs.getattr(f).await.unwrap();
    let fh = vfs.open(f, W).await.unwrap();
    vfs.release(fh, f).await.unwrap();
}

const WT: OpenFlags = OpenFlags {
    read: true,
    write: true,
    truncate: true,
    append: false,
    exclusive: false,
};

async fn overwrite(vfs: &Arc<Vfs>, ino: u64, data: &[u8]) {
    let fh = vfs.open(ino, WT).await.unwrap();
    vfs.write(fh, ino, 0, data).await.unwrap();
    vfs.release(fh, ino).await.unwrap();
    vfs.fsync(ino).await.unwrap();
}

async fn read_all(vfs: &Arc<Vfs>, ino: u64) -> Vec<u8> {
    let fh = vfs.open(ino, OpenFlags::default()).await.unwrap();
    let b = vfs.read(fh, ino, 0, 1 << 20).await.unwrap();
    vfs.release(fh, ino).await.unwrap();
    b.to_vec()
}

/// A checkout by our own user (another client of ours, or a WebDAV lock)
/// leaves the document writable: writes go into the PWC, the checkout
/// stays open, the file shows the PWC's content. Only a checkout the VFS
/// made itself is ended by `end_checkout`: checkIn when written (one new
/// version), else cancelled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_checked_out_by_us_takes_writes_into_its_pwc() {
    let e = env().await;
    let vfs = e.vfs().await;
    let f = write_file(&vfs, ROOT_INO, "mine.txt", b"v1").await;
    vfs.fsync(f).await.unwrap();
    let doc = |e: &Env| {
        let b = e.binding.clone();
        async move {
            b.object_by_path("/mine.txt", &ReadOptions::default())
                .await
                .unwrap()
        }
    };
    let versions = |e: &Env| {
        let b = e.binding.clone();
        async move {
            let o = b
                .object_by_path("/mine.txt", &ReadOptions::default())
                .await
                .unwrap();
            b.all_versions(o.id())
                .await
                .unwrap()
                .into_iter()
                .filter(|v| v.is_private_working_copy() != Some(true))
                .count()
        }
    };
    let n = versions(&e).await;

    // Checked out by another client of our user.
    let pwc = e.binding.check_out(doc(&e).await.id()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let a = vfs.getattr(f).await.unwrap();
    assert_ne!(a.perm & 0o200, 0, "writable: {:o}", a.perm);
    overwrite(&vfs, f, b"v2, into the working copy").await;
    let o = doc(&e).await;
    assert_eq!(o.is_version_series_checked_out(), Some(true));
    assert_eq!(o.version_series_checked_out_by(), Some("admin"));
    assert_eq!(versions(&e).await, n, "no version made");
    let in_pwc = e
        .binding
        .content(pwc.id(), None)
        .await
        .unwrap()
        .into_bytes()
        .await
        .unwrap();
    assert_eq!(in_pwc, b"v2, into the working copy");
    assert_eq!(read_all(&vfs, f).await, b"v2, into the working copy");
    // Not ours to end.
    vfs.end_checkout(f).await.unwrap();
    assert_eq!(doc(&e).await.is_version_series_checked_out(), Some(true));
    e.binding.cancel_check_out(pwc.id()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    vfs.getattr(f).await.unwrap();
    assert_eq!(read_all(&vfs, f).await, b"v1");

    // Checked out by the VFS (a WebDAV lock): nothing written → cancel.
    assert!(vfs.check_out(f).await.unwrap());
    assert_eq!(doc(&e).await.is_version_series_checked_out(), Some(true));
    assert!(!vfs.check_out(f).await.unwrap(), "already ours");
    vfs.end_checkout(f).await.unwrap();
    assert_eq!(doc(&e).await.is_version_series_checked_out(), Some(false));
    assert_eq!(versions(&e).await, n);

    // Written twice under the checkout → one new version at the end.
    assert!(vfs.check_out(f).await.unwrap());
    overwrite(&vfs, f, b"v3 draft").await;
    overwrite(&vfs, f, b"v3").await;
    assert_eq!(versions(&e).await, n);
    vfs.end_checkout(f).await.unwrap();
    let o = doc(&e).await;
    assert_eq!(o.is_version_series_checked_out(), Some(false));
    assert_eq!(versions(&e).await, n + 1);
    assert_eq!(e.server_content("/mine.txt").await.unwrap(), b"v3");
    assert_eq!(read_all(&vfs, f).await, b"v3");
    // Writable as before, and a save is a version again.
    overwrite(&vfs, f, b"v4").await;
    assert_eq!(versions(&e).await, n + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_random_and_sequential_reads_match() {
    let e = env().await;
    let data: Vec<u8> = (0..6_000_000u32).map(|i| (i * 31 % 247) as u8).collect();
    {
        let vfs = e.vfs().await;
        let f = write_file(&vfs, ROOT_INO, "big.bin", &data).await;
        vfs.fsync(f).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let cache = tempfile::tempdir().unwrap();
    let vfs = e.vfs_in(cache.path()).await;
    let f = vfs.lookup(ROOT_INO, "big.bin").await.unwrap().ino;
    let fh = vfs.open(f, OpenFlags::default()).await.unwrap();
    // Far jumps first (each starts its own download), then concurrent
    // readers, then a sequential pass.
    let mut seed = 12345u64;
    for _ in 0..40 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let off = (seed >> 33) % (data.len() as u64 - 1);
        let len = 1 + (seed >> 13) % 200_000;
        let got = vfs.read(fh, f, off, len as u32).await.unwrap();
        let end = (off + len).min(data.len() as u64) as usize;
        assert_eq!(got, &data[off as usize..end], "at {off}");
    }
    let mut tasks = Vec::new();
    for k in 0..4u64 {
        let vfs = vfs.clone();
        let data = data.clone();
        tasks.push(tokio::spawn(async move {
            let fh = vfs.open(f, OpenFlags::default()).await.unwrap();
            let mut off = k * 1_000_000;
            while off < data.len() as u64 {
                let got = vfs.read(fh, f, off, 131072).await.unwrap();
                let end = (off as usize + 131072).min(data.len());
                assert_eq!(got, &data[off as usize..end]);
                off += 131072;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_survive_a_flaky_server() {
    let data = tempfile::tempdir().unwrap();
    let repo = repo::start_with_faults(
        RepoConfig {
            data_dir: data.path().to_path_buf(),
            listen: "127.0.0.1:0".parse().unwrap(),
            users_file: None,
        },
        repo::FaultConfig {
            latency_ms: 2,
            error_rate: 0.1,
            error_status: 503,
            drop_rate: 0.1,
            drop_after_bytes: 1024,
        },
    )
    .await
    .unwrap();
    let mut binding = None;
    for _ in 0..20 {
        if let Ok(b) = common::admin_binding(
            &repo.service_url(),
            Duration::from_secs(5),
            Duration::from_secs(30),
        )
        .await
        {
            binding = Some(b);
            break;
        }
    }
    let binding = binding.expect("connect through the faults");
    let contents: Vec<Vec<u8>> = (0..30u32)
        .map(|i| (0..(i * 7919 % 50_000)).map(|j| (i + j) as u8).collect())
        .collect();
    let new_vfs = |dir: std::path::PathBuf| {
        let binding = binding.clone();
        async move {
            let mut cfg = VfsConfig::new(dir);
            cfg.write_back_delay = Duration::from_millis(50);
            for _ in 0..20 {
                if let Ok(v) = Vfs::new(binding.clone(), cfg.clone()).await {
                    return v;
                }
            }
            panic!("no VFS through the faults");
        }
    };
    let c1 = tempfile::tempdir().unwrap();
    {
        let vfs = new_vfs(c1.path().to_path_buf()).await;
        let d = vfs.mkdir(ROOT_INO, "in", 0o755).await.unwrap();
        for (i, c) in contents.iter().enumerate() {
            write_file(&vfs, d.ino, &format!("f{i}.bin"), c).await;
        }
        let left = vfs.shutdown(Some(Duration::from_secs(60))).await;
        assert!(left.is_empty(), "{left:?}");
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let c2 = tempfile::tempdir().unwrap();
    let vfs = new_vfs(c2.path().to_path_buf()).await;
    let d = vfs.lookup(ROOT_INO, "in").await.unwrap().ino;
    assert_eq!(vfs.readdir(d).await.unwrap().len(), contents.len());
    for (i, c) in contents.iter().enumerate() {
        let f = vfs.lookup(d, &format!("f{i}.bin")).await.unwrap().ino;
        let fh = vfs.open(f, OpenFlags::default()).await.unwrap();
        let got = vfs.read(fh, f, 0, 100_000).await.unwrap();
        assert_eq!(&got, c, "f{i}.bin");
    }
}

/// A new file written by appends uploads while it is written (one
/// streamed createDocument); a write elsewhere, a rename or an unlink
/// breaks the stream off and the ordinary upload takes over, losing
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_new_files_stream_their_upload_and_fall_back_cleanly() {
    let e = env().await;
    let vfs = e.vfs().await;
    let mib = 1usize << 20;
    let data: Vec<u8> = (0..24 * mib).map(|i| (i * 7 % 253) as u8).collect();
    let append_all = |name: &'static str| {
        let vfs = vfs.clone();
        let data = data.clone();
        async move {
            let (a, fh) = vfs.create(ROOT_INO, name, 0o644, W).await.unwrap();
            for (k, chunk) in data.chunks(mib).enumerate() {
                vfs.write(fh, a.ino, (k * mib) as u64, chunk).await.unwrap();
            }
            (a.ino, fh)
        }
    };

    // 1. Appends only, then fsync: streamed.
    let (ino, fh) = append_all("streamed.bin").await;
    vfs.fsync(ino).await.unwrap();
    vfs.release(fh, ino).await.unwrap();
    assert_eq!(vfs.streamed_uploads(), 1);
    assert_eq!(e.server_content("/streamed.bin").await.unwrap(), data);
    let id = vfs.getxattr(ino, "user.cmis.objectId").await.unwrap();

    // 2. A write back at the start aborts the stream; the file is
    //    uploaded whole after close.
    let (ino2, fh) = append_all("rewritten.bin").await;
    vfs.write(fh, ino2, 0, b"REWRITTEN").await.unwrap();
    vfs.release(fh, ino2).await.unwrap();
    wait_uploaded(&vfs).await;
    let mut expect = data.clone();
    expect[..9].copy_from_slice(b"REWRITTEN");
    assert_eq!(e.server_content("/rewritten.bin").await.unwrap(), expect);

    // 3. Renamed while open and streaming: one document, the new name.
    let (ino3, fh) = append_all("before.bin").await;
    vfs.rename(ROOT_INO, "before.bin", ROOT_INO, "after.bin", false)
        .await
        .unwrap();
    vfs.release(fh, ino3).await.unwrap();
    wait_uploaded(&vfs).await;
    assert_eq!(e.server_content("/after.bin").await.unwrap(), data);
    assert!(e.server_content("/before.bin").await.is_none());

    // 4. Unlinked while streaming: nothing reaches the server.
    let (ino4, fh) = append_all("gone.bin").await;
    vfs.unlink(ROOT_INO, "gone.bin").await.unwrap();
    vfs.release(fh, ino4).await.unwrap();
    wait_uploaded(&vfs).await;
    assert!(e.server_content("/gone.bin").await.is_none());

    assert_eq!(vfs.streamed_uploads(), 1, "only the first file streamed");
    // The streamed document kept its identity and reads back locally.
    assert_eq!(vfs.getxattr(ino, "user.cmis.objectId").await.unwrap(), id);
    let fh = vfs.open(ino, OpenFlags::default()).await.unwrap();
    assert_eq!(
        vfs.read(fh, ino, (20 * mib) as u64, 16).await.unwrap(),
        &data[20 * mib..20 * mib + 16]
    );
}

/// `.versions` nodes the kernel forgot and nobody uses go at the next
/// trim (the table used to keep every node for the life of the mount);
/// held or open ones stay, and what went is made again by a lookup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_nodes_go_when_the_kernel_forgets_them() {
    let e = env().await;
    let mut cfg = VfsConfig::new(e.cache.path().to_path_buf());
    cfg.write_back_delay = Duration::from_millis(100);
    cfg.forget_grace = Duration::from_millis(200);
    let vfs = Vfs::new(e.binding.clone(), cfg).await.unwrap();
    let dir = vfs.mkdir(ROOT_INO, "v", 0o755).await.unwrap().ino;
    vfs.hold(dir);
    let ino = write_file(&vfs, dir, "a.txt", b"one").await;
    vfs.fsync(ino).await.unwrap();
    wait_uploaded(&vfs).await;
    let settle = || async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        vfs.trim();
    };
    // As the kernel does: every lookup held.
    let root = vfs.lookup(dir, ".versions").await.unwrap().ino;
    vfs.hold(root);
    let series = vfs.lookup(root, "a.txt").await.unwrap().ino;
    vfs.hold(series);
    let name = vfs.readdir(series).await.unwrap()[0].name.clone();
    let v = vfs.lookup(series, &name).await.unwrap().ino;
    vfs.hold(v);
    let fh = vfs.open(v, OpenFlags::default()).await.unwrap();
    let made = vfs.version_node_count();
    assert!(made >= 3, "{made}");
    settle().await;
    assert_eq!(vfs.version_node_count(), made, "all held");
    for i in [root, series, v] {
        vfs.forget(i, 1);
    }
    settle().await;
    assert_eq!(vfs.version_node_count(), 1, "only the open version");
    assert_eq!(&vfs.read(fh, v, 0, 10).await.unwrap()[..], b"one");
    vfs.release(fh, v).await.unwrap();
    settle().await;
    assert_eq!(vfs.version_node_count(), 0);
    let root = vfs.lookup(dir, ".versions").await.unwrap().ino;
    let series = vfs.lookup(root, "a.txt").await.unwrap().ino;
    let again = vfs.lookup(series, &name).await.unwrap().ino;
    assert_ne!(again, v, "a new node");
    let fh = vfs.open(again, OpenFlags::default()).await.unwrap();
    assert_eq!(&vfs.read(fh, again, 0, 10).await.unwrap()[..], b"one");
    vfs.release(fh, again).await.unwrap();
}

/// A document rewritten from its start (the kernel's O_TRUNC open is an
/// open, then a truncate to 0, then appends) uploads while it is written,
/// as a new version (versionable type) or new content (plain type) of the
/// same document.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewritten_documents_stream_their_upload() {
    let e = env().await;
    let vfs = e.vfs().await;
    let mib = 1usize << 20;
    let old: Vec<u8> = (0..20 * mib).map(|i| (i % 249) as u8).collect();
    let new: Vec<u8> = (0..20 * mib).map(|i| (i * 3 % 251) as u8).collect();
    for (name, type_id) in [
        ("versioned.bin", "cmis:document"),
        ("plain.bin", "cmisfs:plainDocument"),
    ] {
        let doc = e.put_doc(name, type_id, old.clone()).await;
        let before = vfs.streamed_uploads();
        let ino = vfs.lookup(ROOT_INO, name).await.unwrap().ino;
        rewrite(&vfs, ino, &new).await;
        assert_eq!(vfs.streamed_uploads(), before + 1, "{name} streamed");
        assert_eq!(e.server_content(&format!("/{name}")).await.unwrap(), new);
        let versions = e.binding.all_versions(doc.id()).await;
        if type_id == "cmis:document" {
            assert_eq!(versions.unwrap().len(), 2, "one new version");
        }
        wait_uploaded(&vfs).await;
    }
}

/// A document changed on the server while it is rewritten: the streamed
/// upload stops short of deciding, and the upload after close keeps the
/// server's copy and saves ours, whole, as a conflict copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_rewrite_of_a_changed_document_becomes_a_conflict_copy() {
    let e = env().await;
    let vfs = e.vfs().await;
    let root_id = e.binding.repository_info().await.unwrap().root_folder_id;
    let mib = 1usize << 20;
    let ours: Vec<u8> = (0..20 * mib).map(|i| (i * 7 % 253) as u8).collect();
    let doc = e
        .put_doc("shared.bin", "cmisfs:plainDocument", b"original".to_vec())
        .await;
    let before = vfs.streamed_uploads();
    let ino = vfs.lookup(ROOT_INO, "shared.bin").await.unwrap().ino;
    let fh = vfs.open(ino, W).await.unwrap();
    let set = SetAttr {
        size: Some(0),
        ..SetAttr::default()
    };
    vfs.setattr(ino, set).await.unwrap();
    // Someone else saves meanwhile.
    let theirs = ContentUpload::from_bytes("shared.bin", "text/plain", &b"theirs"[..]);
    e.binding
        .set_content(doc.id(), theirs, true, None)
        .await
        .unwrap();
    for (k, chunk) in ours.chunks(mib).enumerate() {
        vfs.write(fh, ino, (k * mib) as u64, chunk).await.unwrap();
    }
    vfs.fsync(ino).await.unwrap();
    vfs.release(fh, ino).await.unwrap();
    wait_uploaded(&vfs).await;
    assert_eq!(vfs.streamed_uploads(), before, "the stream did not decide");
    assert_eq!(e.server_content("/shared.bin").await.unwrap(), b"theirs");
    let copies: Vec<String> = e
        .binding
        .children(&root_id, &Default::default())
        .await
        .unwrap()
        .objects
        .iter()
        .map(|o| o.name().to_string())
        .filter(|n| n.starts_with("shared (conflict "))
        .collect();
    assert_eq!(copies.len(), 1, "one conflict copy: {copies:?}");
    assert_eq!(
        e.server_content(&format!("/{}", copies[0])).await.unwrap(),
        ours
    );
}

/// A document checked out by the mount (a WebDAV LOCK) streams its
/// rewrite into the private working copy; ending the checkout leaves one
/// new version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checked_out_document_streams_its_rewrite_into_the_pwc() {
    let e = env().await;
    let vfs = e.vfs().await;
    let new: Vec<u8> = (0..20usize << 20).map(|i| (i * 5 % 241) as u8).collect();
    let doc = e
        .put_doc("locked.bin", "cmis:document", b"v1".to_vec())
        .await;
    let ino = vfs.lookup(ROOT_INO, "locked.bin").await.unwrap().ino;
    assert!(vfs.check_out(ino).await.unwrap(), "checked out");
    let before = vfs.streamed_uploads();
    rewrite(&vfs, ino, &new).await;
    assert_eq!(vfs.streamed_uploads(), before + 1, "streamed into the PWC");
    vfs.end_checkout(ino).await.unwrap();
    wait_uploaded(&vfs).await;
    let versions = e.binding.all_versions(doc.id()).await.unwrap();
    assert_eq!(versions.len(), 2, "one new version");
    assert_eq!(e.server_content("/locked.bin").await.unwrap(), new);
}

/// Older versions are readable, read-only, under the hidden `.versions`
/// directory; readdir of the folder does not show it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_versions_are_readable_under_dot_versions() {
    let e = env().await;
    let vfs = e.vfs().await;
    let dir = vfs.mkdir(ROOT_INO, "reports", 0o755).await.unwrap().ino;
    let ino = write_file(&vfs, dir, "q3.txt", b"first draft").await;
    vfs.fsync(ino).await.unwrap();
    let fh = vfs.open(ino, W).await.unwrap();
    vfs.setattr(
        ino,
        SetAttr {
            size: Some(0),
            ..SetAttr::default()
        },
    )
    .await
    .unwrap();
    vfs.write(fh, ino, 0, b"final text").await.unwrap();
    vfs.fsync(ino).await.unwrap();
    vfs.release(fh, ino).await.unwrap();
    wait_uploaded(&vfs).await;

    let listed: Vec<String> = vfs
        .readdir(dir)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(listed, ["q3.txt"], "the folder does not list .versions");

    let root = vfs.lookup(dir, ".versions").await.unwrap();
    assert_eq!(root.kind, FileKind::Directory);
    assert_eq!(root.perm, 0o555);
    let docs = vfs.readdir(root.ino).await.unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].name, "q3.txt");
    assert_eq!(docs[0].attr.kind, FileKind::Directory);

    let series = vfs.lookup(root.ino, "q3.txt").await.unwrap();
    assert_eq!(
        series.ino, docs[0].attr.ino,
        "one inode per series directory"
    );
    let versions = vfs.readdir(series.ino).await.unwrap();
    assert!(versions.len() >= 2, "{versions:?}");
    for v in &versions {
        assert!(
            v.name.starts_with("q3 (v") && v.name.ends_with(").txt"),
            "{}",
            v.name
        );
        assert_eq!(v.attr.perm, 0o444);
    }
    // Oldest first: the first draft, then the final text.
    let read_all = |ino: u64| {
        let vfs = vfs.clone();
        async move {
            let fh = vfs.open(ino, OpenFlags::default()).await.unwrap();
            let b = vfs.read(fh, ino, 0, 1000).await.unwrap();
            vfs.release(fh, ino).await.unwrap();
            b
        }
    };
    let (oldest, newest) = (&versions[0], versions.last().unwrap());
    assert_eq!(oldest.attr.size, 11);
    assert_eq!(read_all(oldest.attr.ino).await, &b"first draft"[..]);
    assert_eq!(read_all(newest.attr.ino).await, &b"final text"[..]);
    let by_name = vfs.lookup(series.ino, &oldest.name).await.unwrap();
    assert_eq!(by_name, oldest.attr);
    let label = vfs
        .getxattr(oldest.attr.ino, "user.cmis.versionLabel")
        .await
        .unwrap();
    assert!(
        oldest
            .name
            .contains(&format!("(v{})", String::from_utf8(label).unwrap())),
        "{}",
        oldest.name
    );

    // Nothing in the tree can change.
    let v = oldest.attr.ino;
    assert_eq!(vfs.open(v, W).await.unwrap_err(), VfsError::ReadOnly);
    assert!(matches!(
        vfs.create(series.ino, "new.txt", 0o644, W).await,
        Err(VfsError::ReadOnly)
    ));
    assert_eq!(
        vfs.unlink(series.ino, &oldest.name).await.unwrap_err(),
        VfsError::ReadOnly
    );
    assert_eq!(
        vfs.rename(series.ino, &oldest.name, dir, "restored.txt", false)
            .await
            .unwrap_err(),
        VfsError::ReadOnly
    );
    assert_eq!(
        vfs.mkdir(root.ino, "x", 0o755).await.unwrap_err(),
        VfsError::ReadOnly
    );
    assert_eq!(
        vfs.setattr(
            v,
            SetAttr {
                size: Some(0),
                ..SetAttr::default()
            }
        )
        .await
        .unwrap_err(),
        VfsError::ReadOnly
    );
    assert_eq!(
        vfs.setxattr(v, "user.cmis.description", b"x")
            .await
            .unwrap_err(),
        VfsError::ReadOnly
    );
    assert!(vfs.lookup(root.ino, "missing.txt").await.is_err());
    assert!(vfs.lookup(series.ino, "q3 (v9.9).txt").await.is_err());
    // The live file is untouched.
    assert_eq!(read_all(ino).await, &b"final text"[..]);
}

/// A whole-content replacement (a WebDAV PUT onto a file) that is dropped
/// half-way leaves the file as it was, local bytes not yet uploaded
/// included; committed, it replaces them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_replacement_keeps_unuploaded_bytes() {
    let e = env().await;
    let mut cfg = VfsConfig::new(e.cache.path().to_path_buf());
    cfg.write_back_delay = Duration::from_secs(3600);
    cfg.user = Some("admin".into());
    let vfs = Vfs::new(e.binding.clone(), cfg).await.unwrap();
    let ino = write_file(&vfs, ROOT_INO, "draft.txt", b"server copy").await;
    vfs.fsync(ino).await.unwrap();
    // Local bytes, waiting for the (long) write-back delay.
    let fh = vfs.open(ino, W).await.unwrap();
    vfs.write(fh, ino, 0, b"local edit!").await.unwrap();
    vfs.release(fh, ino).await.unwrap();
    assert_eq!(vfs.pending().len(), 1);

    let read_all = || async {
        let fh = vfs.open(ino, OpenFlags::default()).await.unwrap();
        let b = vfs.read(fh, ino, 0, 100).await.unwrap();
        vfs.release(fh, ino).await.unwrap();
        b
    };
    let put = vfs.open_replacing(ino).await.unwrap();
    vfs.write(put, ino, 0, b"half a").await.unwrap();
    assert_eq!(
        read_all().await,
        &b"local edit!"[..],
        "not visible before commit"
    );
    vfs.abandon(put, ino).await.unwrap();
    vfs.release(put, ino).await.unwrap();
    assert_eq!(read_all().await, &b"local edit!"[..]);
    assert_eq!(vfs.getattr(ino).await.unwrap().size, 11);
    assert_eq!(
        vfs.pending().len(),
        1,
        "the local edit still waits for upload"
    );
    assert_eq!(
        e.server_content("/draft.txt").await.unwrap(),
        b"server copy"
    );

    // Released without commit (a request that ended early): unchanged too.
    let put = vfs.open_replacing(ino).await.unwrap();
    vfs.write(put, ino, 0, b"zz").await.unwrap();
    vfs.release(put, ino).await.unwrap();
    assert_eq!(read_all().await, &b"local edit!"[..]);

    // Committed: the new content, uploaded by fsync.
    let put = vfs.open_replacing(ino).await.unwrap();
    vfs.write(put, ino, 0, b"the new one").await.unwrap();
    vfs.write(put, ino, 11, b", complete").await.unwrap();
    assert!(vfs.commit_replace(put, ino).await.unwrap());
    vfs.fsync(ino).await.unwrap();
    vfs.release(put, ino).await.unwrap();
    assert_eq!(read_all().await, &b"the new one, complete"[..]);
    assert!(vfs.pending().is_empty());
    assert_eq!(
        e.server_content("/draft.txt").await.unwrap(),
        b"the new one, complete"
    );
    // An empty replacement empties the file.
    let put = vfs.open_replacing(ino).await.unwrap();
    assert!(vfs.commit_replace(put, ino).await.unwrap());
    vfs.fsync(ino).await.unwrap();
    vfs.release(put, ino).await.unwrap();
    assert_eq!(e.server_content("/draft.txt").await.unwrap(), b"");
    // No staging file is left behind.
    let left: Vec<_> = std::fs::read_dir(e.cache.path().join("dirty"))
        .unwrap()
        .flatten()
        .filter(|f| f.file_name().to_string_lossy().starts_with("staging-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A new file whose creating PUT never completed (cmisfs stopped first)
/// is not uploaded at the next start; one whose PUT completed is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incomplete_put_of_a_new_file_is_dropped_after_a_crash() {
    let e = env().await;
    {
        let vfs = e.vfs().await;
        let (a, fh) = vfs
            .create_replacing(ROOT_INO, "cut.bin", 0o644, W)
            .await
            .unwrap();
        vfs.write(fh, a.ino, 0, &[1u8; 5000]).await.unwrap();
        let (b, fh2) = vfs
            .create_replacing(ROOT_INO, "whole.bin", 0o644, W)
            .await
            .unwrap();
        vfs.write(fh2, b.ino, 0, &[2u8; 5000]).await.unwrap();
        assert!(vfs.commit_replace(fh2, b.ino).await.unwrap());
        // Crash: no release, no fsync, no shutdown.
        drop(vfs);
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let vfs = e.vfs().await;
    wait_uploaded(&vfs).await;
    assert_eq!(
        e.server_content("/whole.bin").await.unwrap(),
        vec![2u8; 5000]
    );
    assert!(e.server_content("/cut.bin").await.is_none());
    assert!(vfs.lookup(ROOT_INO, "cut.bin").await.is_err());
    let left: Vec<_> = std::fs::read_dir(e.cache.path().join("dirty"))
        .unwrap()
        .flatten()
        .map(|f| f.file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A WebDAV PUT of a new name: create, write `data` a MiB at a time,
/// commit, fsync, release.
async fn put_new(vfs: Arc<Vfs>, name: &'static str, data: Vec<u8>) -> Result<u64, VfsError> {
    let mib = 1usize << 20;
    let (a, fh) = vfs.create_replacing(ROOT_INO, name, 0o644, W).await?;
    for (k, chunk) in data.chunks(mib).enumerate() {
        vfs.write(fh, a.ino, (k * mib) as u64, chunk).await?;
    }
    vfs.commit_replace(fh, a.ino).await?;
    vfs.fsync(a.ino).await?;
    vfs.release(fh, a.ino).await?;
    Ok(a.ino)
}

/// Two PUTs of one new name at once (two WebDAV clients, both found no
/// file): the second waits until the first is complete and then replaces
/// it as a whole. Before, it wrote into the first one's file: the bytes
/// mixed, and a second createDocument of the name made conflict copies.
/// When the first breaks off, the second makes the file anew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_puts_of_one_new_name_do_not_mix() {
    let e = env().await;
    let vfs = e.vfs().await;
    let mib = 1usize << 20;
    let ours = vec![b'a'; 2 * mib];
    let theirs = vec![b'b'; 2 * mib];
    for (name, first_completes) in [("same.bin", true), ("cut.bin", false)] {
        let (a, fh) = vfs
            .create_replacing(ROOT_INO, name, 0o644, W)
            .await
            .unwrap();
        vfs.write(fh, a.ino, 0, &ours[..mib]).await.unwrap();
        let second = tokio::spawn(put_new(vfs.clone(), name, theirs.clone()));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!second.is_finished(), "the second PUT waits for the first");
        vfs.write(fh, a.ino, mib as u64, &ours[mib..])
            .await
            .unwrap();
        if first_completes {
            assert!(vfs.commit_replace(fh, a.ino).await.unwrap());
            vfs.fsync(a.ino).await.unwrap();
        } else {
            vfs.abandon(fh, a.ino).await.unwrap();
        }
        vfs.release(fh, a.ino).await.unwrap();
        second.await.unwrap().unwrap();
        assert!(
            e.server_content(&format!("/{name}")).await.unwrap() == theirs,
            "{name}: the later PUT's bytes, whole"
        );
    }
    let mut names: Vec<_> = vfs
        .readdir(ROOT_INO)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    assert_eq!(names, ["cut.bin", "same.bin"], "no conflict copies");
    assert!(vfs.pending().is_empty());
}

/// Eight PUTs of one new name at once, as eight WebDAV clients send them:
/// one file, holding one PUT's bytes whole, and no conflict copies. (The
/// check for the name and the new inode were apart: two requests on two
/// threads both made the file, and both createDocuments met.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_puts_of_one_new_name_leave_one_whole_file() {
    let e = env().await;
    let vfs = e.vfs().await;
    let bodies: Vec<Vec<u8>> = (0..8u8).map(|k| vec![b'a' + k; 3 << 20]).collect();
    let puts: Vec<_> = bodies
        .iter()
        .map(|b| tokio::spawn(put_new(vfs.clone(), "many.bin", b.clone())))
        .collect();
    let mut inodes = std::collections::HashSet::new();
    for p in puts {
        inodes.insert(p.await.unwrap().unwrap());
    }
    assert_eq!(inodes.len(), 1, "one file");
    let got = e.server_content("/many.bin").await.unwrap();
    assert!(bodies.contains(&got), "one PUT's bytes, whole");
    let names: Vec<_> = vfs
        .readdir(ROOT_INO)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert_eq!(names, ["many.bin"], "no conflict copies");
    assert!(vfs.pending().is_empty());
}

/// A PUT whose file is deleted while its body arrives fails at the
/// commit (before, it answered 201 or 204 for a file that was gone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_whose_file_is_deleted_meanwhile_fails() {
    let e = env().await;
    let vfs = e.vfs().await;
    // A new file.
    let (a, fh) = vfs
        .create_replacing(ROOT_INO, "new.bin", 0o644, W)
        .await
        .unwrap();
    vfs.write(fh, a.ino, 0, b"half").await.unwrap();
    vfs.unlink(ROOT_INO, "new.bin").await.unwrap();
    let err = vfs.commit_replace(fh, a.ino).await.unwrap_err();
    assert!(matches!(err, VfsError::NotFound(_)), "{err}");
    vfs.release(fh, a.ino).await.unwrap();
    // A replacement of a document.
    let f = write_file(&vfs, ROOT_INO, "old.bin", b"old").await;
    vfs.fsync(f).await.unwrap();
    let put = vfs.open_replacing(f).await.unwrap();
    vfs.write(put, f, 0, b"new").await.unwrap();
    vfs.unlink(ROOT_INO, "old.bin").await.unwrap();
    let err = vfs.commit_replace(put, f).await.unwrap_err();
    assert!(matches!(err, VfsError::NotFound(_)), "{err}");
    vfs.release(put, f).await.unwrap();
    assert!(e.server_content("/new.bin").await.is_none());
    assert!(e.server_content("/old.bin").await.is_none());
    assert!(vfs.pending().is_empty());
}

/// `upload_chunk_size` on the embedded repository: a new file and a
/// second version go up in pieces (the first with createDocument /
/// setContentStream or checkIn's PWC, the rest appended), byte-exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_files_upload_in_chunks() {
    let e = env().await;
    let mut cfg = VfsConfig::new(e.cache.path().to_path_buf());
    cfg.write_back_delay = Duration::from_millis(100);
    cfg.user = Some("admin".into());
    cfg.upload_chunk_size = Some(64 * 1024);
    let vfs = Vfs::new(e.binding.clone(), cfg).await.unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let ino = write_file(&vfs, ROOT_INO, "big.bin", &data).await;
    vfs.fsync(ino).await.unwrap();
    assert_eq!(e.server_content("/big.bin").await.unwrap(), data);
    // A second upload of the same document (setContentStream / checkIn).
    let fh = vfs.open(ino, W).await.unwrap();
    vfs.write(fh, ino, 0, &[9u8; 200_000]).await.unwrap();
    vfs.fsync(ino).await.unwrap();
    vfs.release(fh, ino).await.unwrap();
    let mut want = data.clone();
    want[..200_000].fill(9);
    assert_eq!(e.server_content("/big.bin").await.unwrap(), want);
    assert_eq!(vfs.chunked_uploads(), 2);
}

/// A WebDAV PUT over an existing document streams its upload while the
/// body arrives (a replacement written by appends): committed, it is one
/// new version; dropped half-way, the document is as it was and not left
/// checked out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replacements_stream_their_upload() {
    let e = env().await;
    let vfs = e.vfs().await;
    let mib = 1usize << 20;
    let new: Vec<u8> = (0..20 * mib).map(|i| (i * 11 % 239) as u8).collect();
    let doc = e
        .put_doc("report.bin", "cmis:document", b"v1".to_vec())
        .await;
    let ino = vfs.lookup(ROOT_INO, "report.bin").await.unwrap().ino;
    let checked_out = async || {
        let o = e.binding.object(doc.id(), &ReadOptions::default()).await;
        o.unwrap().is_version_series_checked_out() == Some(true)
    };

    // Dropped half-way, once its upload is under way (checked out).
    let before = vfs.streamed_uploads();
    let put = vfs.open_replacing(ino).await.unwrap();
    for (k, chunk) in new[..18 * mib].chunks(mib).enumerate() {
        vfs.write(put, ino, (k * mib) as u64, chunk).await.unwrap();
    }
    let mut started = false;
    for _ in 0..100 {
        if checked_out().await {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started, "the upload started before the body was complete");
    vfs.abandon(put, ino).await.unwrap();
    vfs.release(put, ino).await.unwrap();
    for _ in 0..100 {
        if !checked_out().await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!checked_out().await, "the checkout was cancelled");
    assert_eq!(e.server_content("/report.bin").await.unwrap(), b"v1");
    assert_eq!(e.binding.all_versions(doc.id()).await.unwrap().len(), 1);

    // Committed: one streamed upload, one new version.
    let put = vfs.open_replacing(ino).await.unwrap();
    for (k, chunk) in new.chunks(mib).enumerate() {
        vfs.write(put, ino, (k * mib) as u64, chunk).await.unwrap();
    }
    assert!(vfs.commit_replace(put, ino).await.unwrap());
    vfs.fsync(ino).await.unwrap();
    vfs.release(put, ino).await.unwrap();
    assert_eq!(vfs.streamed_uploads(), before + 1, "streamed");
    assert_eq!(e.server_content("/report.bin").await.unwrap(), new);
    assert_eq!(e.binding.all_versions(doc.id()).await.unwrap().len(), 2);
    assert!(vfs.pending().is_empty());
}
