//! `cmisfs mount --webdav`: one process, one VFS, two front ends. What is
//! written through one is visible through the other at once (no upload or
//! cache expiry in between).

mod common_webdav;

use common_webdav::*;

/// `cmisfs mount MNT --webdav 127.0.0.1:0` on the embedded repository,
/// data and cache in a temp dir, with `extra` options: the endpoint and
/// the mount point.
fn mount_with_webdav(extra: &[&str]) -> (DavServer, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let mut args: Vec<String> = vec![
        "mount".into(),
        mnt.display().to_string(),
        "--data".into(),
        dir.path().join("data").display().to_string(),
        "--cache-dir".into(),
        dir.path().join("cache").display().to_string(),
        "--webdav".into(),
        "127.0.0.1:0".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    (DavServer::spawn(dir, &args, "WebDAV endpoint on "), mnt)
}

#[test]
fn fuse_and_webdav_share_one_vfs() {
    require("fusermount3");
    let (s, mnt) = mount_with_webdav(&[]);

    // WebDAV → FUSE.
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("f");
    let data = bytes(300_000, 5);
    std::fs::write(&f, &data).unwrap();
    assert_eq!(
        curl(&["-T", f.to_str().unwrap(), &s.at("from-dav.bin")]).status,
        201
    );
    assert!(std::fs::read(mnt.join("from-dav.bin")).unwrap() == data);
    assert_eq!(curl(&["-X", "MKCOL", &s.at("dav-dir/")]).status, 201);
    assert!(mnt.join("dav-dir").is_dir());

    // FUSE → WebDAV, before any upload could have happened.
    std::fs::write(mnt.join("from-fuse.txt"), b"written through FUSE\n").unwrap();
    let r = curl(&[&s.at("from-fuse.txt")]);
    assert_eq!(r.status, 200, "{}", s.log());
    assert_eq!(r.body, b"written through FUSE\n");
    std::fs::create_dir(mnt.join("fuse-dir")).unwrap();
    let r = curl(&["-X", "PROPFIND", "-H", "Depth: 1", &s.at("")]);
    assert!(r.text().contains("fuse-dir"), "{}", r.text());

    // A rename on one side is seen on the other.
    std::fs::rename(mnt.join("from-fuse.txt"), mnt.join("renamed.txt")).unwrap();
    assert_eq!(
        curl(&[&s.at("renamed.txt")]).body,
        b"written through FUSE\n"
    );
    assert_eq!(curl(&[&s.at("from-fuse.txt")]).status, 404);
    let dest = format!("Destination: {}", s.at("dav-dir/moved.bin"));
    assert_eq!(
        curl(&["-X", "MOVE", "-H", &dest, &s.at("from-dav.bin")]).status,
        201
    );
    assert!(std::fs::read(mnt.join("dav-dir/moved.bin")).unwrap() == data);
    // The kernel's entry for the old name is invalidated at once.
    assert!(
        soon(|| !mnt.join("from-dav.bin").exists()),
        "the moved file's old name is still in the mount"
    );
}

/// Polls `ok` for at most 200 ms: the kernel is told by a thread of its
/// own, a moment after the WebDAV reply.
fn soon(ok: impl Fn() -> bool) -> bool {
    (0..20).any(|_| {
        if ok() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        false
    })
}

/// With a 60 s metadata TTL (the kernel's entry and attribute TTL too),
/// what WebDAV changes must reach the mount through invalidations: a
/// MOVE, a PUT over a file the mount has read, a DELETE.
#[test]
fn webdav_changes_invalidate_the_mount_at_once() {
    require("fusermount3");
    let (s, mnt) = mount_with_webdav(&["--metadata-ttl", "60s"]);
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("f");
    std::fs::write(&f, b"first").unwrap();
    assert_eq!(
        curl(&["-T", f.to_str().unwrap(), &s.at("a.txt")]).status,
        201
    );
    assert_eq!(curl(&["-X", "MKCOL", &s.at("sub/")]).status, 201);
    // The mount caches the entry, the attributes and the pages.
    assert_eq!(std::fs::read(mnt.join("a.txt")).unwrap(), b"first");
    assert!(mnt.join("sub").is_dir());
    assert!(!mnt.join("b.txt").exists());

    // Rename: the old name goes, the new one comes.
    let dest = format!("Destination: {}", s.at("b.txt"));
    assert_eq!(
        curl(&["-X", "MOVE", "-H", &dest, &s.at("a.txt")]).status,
        201
    );
    assert!(
        soon(|| !mnt.join("a.txt").exists()),
        "old name still shown:\n{}",
        s.log()
    );
    assert_eq!(std::fs::read(mnt.join("b.txt")).unwrap(), b"first");

    // New, longer content: size and pages are not the cached ones.
    std::fs::write(&f, b"second, and longer").unwrap();
    assert_eq!(
        curl(&["-T", f.to_str().unwrap(), &s.at("b.txt")]).status,
        204
    );
    assert!(
        soon(|| std::fs::read(mnt.join("b.txt")).unwrap() == b"second, and longer"),
        "old content still shown: {:?}",
        String::from_utf8_lossy(&std::fs::read(mnt.join("b.txt")).unwrap())
    );

    // Move into a folder, and delete.
    let dest = format!("Destination: {}", s.at("sub/c.txt"));
    assert_eq!(
        curl(&["-X", "MOVE", "-H", &dest, &s.at("b.txt")]).status,
        201
    );
    assert!(soon(|| !mnt.join("b.txt").exists()));
    assert!(mnt.join("sub/c.txt").exists());
    assert_eq!(curl(&["-X", "DELETE", &s.at("sub/c.txt")]).status, 204);
    assert!(soon(|| !mnt.join("sub/c.txt").exists()));
    assert_eq!(curl(&["-X", "DELETE", &s.at("sub/")]).status, 204);
    assert!(soon(|| !mnt.join("sub").exists()));
}

fn xattr(path: &std::path::Path, name: &str) -> String {
    let out = std::process::Command::new("getfattr")
        .args(["--only-values", "-n", name])
        .arg(path)
        .output()
        .expect("getfattr (package attr)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A WebDAV LOCK checks the document out; a write through the mount goes
/// into the working copy (the checkout stays); UNLOCK checks it in: one
/// new version with what the mount wrote.
#[test]
fn fuse_writes_under_a_webdav_lock_go_into_the_checkout() {
    require("fusermount3");
    require("getfattr");
    let (s, mnt) = mount_with_webdav(&[]);
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("f");
    std::fs::write(&f, b"one").unwrap();
    assert_eq!(
        curl(&["-T", f.to_str().unwrap(), &s.at("doc.txt")]).status,
        201
    );
    let doc = mnt.join("doc.txt");
    let label = xattr(&doc, "user.cmis.versionLabel");
    let lockinfo = r#"<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>t</D:owner></D:lockinfo>"#;
    let r = curl(&[
        "-X",
        "LOCK",
        "-H",
        "Timeout: Second-600",
        "--data",
        lockinfo,
        &s.at("doc.txt"),
    ]);
    assert_eq!(r.status, 200, "{}", s.log());
    let token = r.header("lock-token").expect("Lock-Token").to_string();
    assert_eq!(xattr(&doc, "user.cmis.isVersionSeriesCheckedOut"), "true");
    assert_eq!(xattr(&doc, "user.cmis.versionSeriesCheckedOutBy"), "admin");

    std::fs::write(&doc, b"two, written through the mount").unwrap();
    assert_eq!(
        curl(&[
            "-X",
            "UNLOCK",
            "-H",
            &format!("Lock-Token: {token}"),
            &s.at("doc.txt")
        ])
        .status,
        204,
        "{}",
        s.log()
    );
    assert_eq!(xattr(&doc, "user.cmis.isVersionSeriesCheckedOut"), "false");
    let next = xattr(&doc, "user.cmis.versionLabel");
    let minor = |l: &str| -> (u32, u32) {
        let (a, b) = l.split_once('.').expect("major.minor");
        (a.parse().unwrap(), b.parse().unwrap())
    };
    let (ma, mi) = minor(&label);
    assert_eq!(
        minor(&next),
        (ma, mi + 1),
        "{label} -> {next}: one new version"
    );
    assert_eq!(
        curl(&[&s.at("doc.txt")]).body,
        b"two, written through the mount"
    );
    assert_eq!(
        std::fs::read(&doc).unwrap(),
        b"two, written through the mount"
    );
}

/// What the repository's change log reports (a rename and a deletion made
/// by another CMIS client) reaches the kernel at the next poll (3 s), not
/// after the 60 s entry TTL.
#[test]
fn server_side_changes_reach_the_mount_through_the_change_log() {
    require("fusermount3");
    let repo_dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = vec![
        "repo".into(),
        "--data".into(),
        repo_dir.path().join("data").display().to_string(),
        "--listen".into(),
        "127.0.0.1:0".into(),
    ];
    let repo = DavServer::spawn(repo_dir, &args, "service URL: ");
    let info = curl(&["-u", "admin:admin", &repo.url]);
    let v: serde_json::Value = serde_json::from_slice(&info.body).unwrap();
    let root = v
        .as_object()
        .and_then(|m| m.values().next())
        .and_then(|r| r["rootFolderUrl"].as_str())
        .unwrap()
        .to_string();

    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "admin\n").unwrap();
    let args: Vec<String> = vec![
        "mount".into(),
        mnt.display().to_string(),
        "--url".into(),
        repo.url.clone(),
        "--user".into(),
        "admin".into(),
        "--password-file".into(),
        pw.display().to_string(),
        "--cache-dir".into(),
        dir.path().join("cache").display().to_string(),
        "--metadata-ttl".into(),
        "60s".into(),
    ];
    let m = DavServer::spawn(dir, &args, "mounted on ");
    for (name, data) in [("a.txt", "a"), ("b.txt", "b")] {
        let p = mnt.join(name);
        std::fs::write(&p, data).unwrap();
        std::fs::File::open(&p).unwrap().sync_all().unwrap();
        assert!(p.exists());
    }
    let r = curl(&[
        "-u",
        "admin:admin",
        "--data",
        "cmisaction=update&propertyId[0]=cmis:name&propertyValue[0]=c.txt",
        &format!("{root}/a.txt"),
    ]);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = curl(&[
        "-u",
        "admin:admin",
        "--data",
        "cmisaction=delete",
        &format!("{root}/b.txt"),
    ]);
    assert!(r.status < 300, "{} {}", r.status, r.text());
    let seen = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        !mnt.join("a.txt").exists() && !mnt.join("b.txt").exists()
    });
    assert!(seen, "old names still in the mount:\n{}", m.log());
    assert_eq!(std::fs::read(mnt.join("c.txt")).unwrap(), b"a");
}
