//! `cmisfs mount --webdav`: one process, one VFS, two front ends. What is
//! written through one is visible through the other at once (no upload or
//! cache expiry in between).

mod common_webdav;

use common_webdav::*;

#[test]
fn fuse_and_webdav_share_one_vfs() {
    require("fusermount3");
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let args: Vec<String> = vec![
        "mount".into(),
        mnt.display().to_string(),
        "--data".into(),
        dir.path().join("data").display().to_string(),
        "--cache-dir".into(),
        dir.path().join("cache").display().to_string(),
        "--webdav".into(),
        "127.0.0.1:0".into(),
    ];
    let s = DavServer::spawn(dir, &args, "WebDAV endpoint on ");

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
    // The kernel may keep the old name for its entry TTL (the VFS's
    // metadata TTL, 2 s by default): the FUSE adapter does not yet
    // invalidate kernel entries for changes made through WebDAV.
    let gone = (0..40).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        !mnt.join("from-dav.bin").exists()
    });
    assert!(gone, "the moved file's old name is still in the mount");
}
