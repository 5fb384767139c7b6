//! Writes the repository refuses for good (permissionDenied and the like),
//! against the embedded repository with a users file and ACLs: refused up
//! front where the allowable actions already say so; otherwise kept in the
//! journal without holding up shutdown, and uploaded by a later VFS once
//! the right is back.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cmisfs::cmis::{self, Auth, Binding, BindingChoice, ConnectOptions, HttpOptions, ReadOptions};
use cmisfs::repo::{self, auth, RepoConfig, RunningRepo};
use cmisfs::vfs::{OpenFlags, Vfs, VfsConfig, VfsError, ROOT_INO};
use reqwest::multipart::Form;

const W: OpenFlags = OpenFlags {
    read: true,
    write: true,
    truncate: false,
    append: false,
    exclusive: false,
};

struct Env {
    repo: RunningRepo,
    _dir: tempfile::TempDir,
    alice: Arc<dyn Binding>,
}

impl Env {
    /// admin changes an ACL (`path` relative to the root, "" = root).
    async fn acl(&self, path: &str, form: Form) {
        let url = format!("{}/root{path}", self.repo.repository_url());
        let resp = reqwest::Client::new()
            .post(url)
            .basic_auth("admin", Some("pw-admin"))
            .multipart(form.text("cmisaction", "applyACL"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
    }

    async fn vfs(&self, cache: &std::path::Path) -> Arc<Vfs> {
        let mut cfg = VfsConfig::new(cache.to_path_buf());
        // The upload happens at shutdown (or fsync), not before.
        cfg.write_back_delay = Duration::from_secs(600);
        cfg.metadata_ttl = Duration::from_millis(500);
        cfg.user = Some("alice".into());
        Vfs::new(self.alice.clone(), cfg).await.unwrap()
    }
}

/// Root: alice may read; /shared: alice may write.
async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users");
    let mut f = std::fs::File::create(&users).unwrap();
    for (u, p) in [("admin", "pw-admin"), ("alice", "pw-alice")] {
        writeln!(f, "{u}:{}", auth::hash_password(p)).unwrap();
    }
    drop(f);
    let repo = repo::start(RepoConfig {
        data_dir: dir.path().join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        users_file: Some(users),
    })
    .await
    .unwrap();
    let connect = |user: &str, password: &str| ConnectOptions {
        url: repo.service_url(),
        binding: BindingChoice::Browser,
        repository: None,
        http: HttpOptions {
            auth: Auth::Basic {
                user: user.into(),
                password: password.into(),
            },
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            ..Default::default()
        },
    };
    let admin = cmis::connect(&connect("admin", "pw-admin")).await.unwrap();
    let alice = cmis::connect(&connect("alice", "pw-alice")).await.unwrap();
    let env = Env {
        repo,
        _dir: dir,
        alice,
    };
    env.acl(
        "",
        Form::new()
            .text("addACEPrincipal[0]", "alice")
            .text("addACEPermission[0][0]", "cmis:read")
            .text("removeACEPrincipal[0]", "cmis:anyone")
            .text("removeACEPermission[0][0]", "cmis:all"),
    )
    .await;
    let root = admin
        .object_by_path("/", &ReadOptions::default())
        .await
        .unwrap();
    admin
        .create_folder(
            root.id(),
            &cmis::Properties::new()
                .with_string(cmis::prop::NAME, "shared")
                .with_id(cmis::prop::OBJECT_TYPE_ID, "cmis:folder"),
        )
        .await
        .unwrap();
    env.acl("/shared", grant_alice_write()).await;
    env
}

fn grant_alice_write() -> Form {
    Form::new()
        .text("addACEPrincipal[0]", "alice")
        .text("addACEPermission[0][0]", "cmis:write")
}

async fn server_content(b: &dyn Binding, path: &str) -> Option<Vec<u8>> {
    let o = b.object_by_path(path, &ReadOptions::default()).await.ok()?;
    Some(
        b.content(o.id(), None)
            .await
            .unwrap()
            .into_bytes()
            .await
            .unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_in_a_folder_without_write_right_is_refused_at_once() {
    let e = env().await;
    let cache = tempfile::tempdir().unwrap();
    let vfs = e.vfs(cache.path()).await;
    let r = vfs.create(ROOT_INO, "nope.txt", 0o644, W).await;
    assert!(matches!(r, Err(VfsError::AccessDenied(_))), "{r:?}");
    let r = vfs.mkdir(ROOT_INO, "nodir", 0o755).await;
    assert!(matches!(r, Err(VfsError::AccessDenied(_))), "{r:?}");
    // Nothing journaled: nothing pending, now or for the next VFS.
    assert!(vfs.pending().is_empty());
    let started = Instant::now();
    assert!(vfs.shutdown(None).await.is_empty());
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(vfs);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let vfs = e.vfs(cache.path()).await;
    assert!(vfs.pending().is_empty());
    // Where alice may write, create works.
    let shared = vfs.lookup(ROOT_INO, "shared").await.unwrap();
    let (a, fh) = vfs.create(shared.ino, "ok.txt", 0o644, W).await.unwrap();
    vfs.write(fh, a.ino, 0, b"ok").await.unwrap();
    vfs.fsync(a.ino).await.unwrap();
    vfs.release(fh, a.ino).await.unwrap();
    assert_eq!(
        server_content(e.alice.as_ref(), "/shared/ok.txt")
            .await
            .unwrap(),
        b"ok"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_upload_does_not_hold_up_shutdown_and_stays_journaled() {
    let e = env().await;
    let cache = tempfile::tempdir().unwrap();
    {
        let vfs = e.vfs(cache.path()).await;
        let shared = vfs.lookup(ROOT_INO, "shared").await.unwrap();
        let (a, fh) = vfs.create(shared.ino, "late.txt", 0o644, W).await.unwrap();
        vfs.write(fh, a.ino, 0, b"keep me").await.unwrap();
        // The right goes away before the upload.
        e.acl(
            "/shared",
            Form::new()
                .text("removeACEPrincipal[0]", "alice")
                .text("removeACEPermission[0][0]", "cmis:write"),
        )
        .await;
        let started = Instant::now();
        let left = vfs.shutdown(None).await;
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "shutdown took {:?}",
            started.elapsed()
        );
        assert_eq!(left.len(), 1, "{left:?}");
        assert!(left[0].name.ends_with("late.txt"), "{left:?}");
        assert!(left[0].last_error.is_some());
        // Still visible as pending; close and fsync report the refusal.
        let x = vfs
            .getxattr(ROOT_INO, cmisfs::vfs::PENDING_XATTR)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&x).contains("late.txt"));
        let r = vfs.flush(fh, a.ino).await;
        assert!(matches!(r, Err(VfsError::AccessDenied(_))), "{r:?}");
        let r = vfs.fsync(a.ino).await;
        assert!(matches!(r, Err(VfsError::AccessDenied(_))), "{r:?}");
        vfs.release(fh, a.ino).await.unwrap();
        assert!(server_content(e.alice.as_ref(), "/shared/late.txt")
            .await
            .is_none());
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    // The right is back: the next VFS on the same cache uploads it.
    e.acl("/shared", grant_alice_write()).await;
    let vfs = e.vfs(cache.path()).await;
    for _ in 0..200 {
        if vfs.pending().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(vfs.pending().is_empty(), "{:?}", vfs.pending());
    assert_eq!(
        server_content(e.alice.as_ref(), "/shared/late.txt")
            .await
            .unwrap(),
        b"keep me"
    );
}
