//! Real WebDAV clients against `cmisfs webdav` on the embedded repository:
//! rclone (webdav backend, vendor owncloud: mtimes via X-OC-Mtime), davfs2
//! (a kernel mount with locks on) and cadaver. Tools come from
//! tests/setup-webdav-tools.sh; a missing tool fails its test.

mod common_webdav;

use std::path::Path;
use std::process::Command;

use common_webdav::*;

/// A tree with nested folders, empty files, unicode names and a 5 MiB file.
fn make_tree(root: &Path) {
    let files: [(&str, usize); 7] = [
        ("a.txt", 1000),
        ("empty", 0),
        ("sub/b.bin", 70_000),
        ("sub/deeper/c.txt", 10),
        ("sub/deeper/empty2", 0),
        ("ünïcødé ñame/日本語.txt", 4321),
        ("big.bin", 5 << 20),
    ];
    for (i, (name, len)) in files.iter().enumerate() {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes(*len, i as u64 + 7)).unwrap();
    }
    std::fs::create_dir_all(root.join("empty dir")).unwrap();
}

fn diff_trees(a: &Path, b: &Path) {
    let out = Command::new("diff")
        .arg("-r")
        .arg(a)
        .arg(b)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "trees differ:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn rclone(s: &DavServer, args: &[&str]) -> String {
    let out = Command::new("rclone")
        .args(args)
        .env("RCLONE_CONFIG", "/dev/null")
        .env("RCLONE_CONFIG_DAV_TYPE", "webdav")
        .env("RCLONE_CONFIG_DAV_URL", &s.url)
        .env("RCLONE_CONFIG_DAV_VENDOR", "owncloud")
        .output()
        .expect("rclone");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "rclone {args:?} failed:\n{text}\n{}",
        s.log()
    );
    text
}

#[test]
fn rclone_copy_check_copy_back_and_idempotent_sync() {
    require("rclone");
    let s = DavServer::embedded(&[]);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    make_tree(&src);
    let src_s = src.to_str().unwrap();
    rclone(&s, &["copy", src_s, "dav:tree", "--create-empty-src-dirs"]);
    rclone(&s, &["check", src_s, "dav:tree", "--download"]);
    let back = dir.path().join("back");
    rclone(
        &s,
        &[
            "copy",
            "dav:tree",
            back.to_str().unwrap(),
            "--create-empty-src-dirs",
        ],
    );
    diff_trees(&src, &back);
    // Second sync: sizes and mtimes match, nothing moves.
    let out = rclone(
        &s,
        &[
            "sync",
            src_s,
            "dav:tree",
            "-v",
            "--stats-log-level",
            "NOTICE",
        ],
    );
    assert!(
        !out.contains("Copied") && !out.contains("Updated modification time"),
        "a second sync transferred something:\n{out}"
    );
}

#[test]
fn cadaver_put_and_get() {
    require("cadaver");
    let s = DavServer::embedded(&[]);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("up.bin");
    let data = bytes(200_000, 3);
    std::fs::write(&local, &data).unwrap();
    let got = dir.path().join("down.bin");
    let script = format!(
        "mkcol cad\ncd cad\nput {} up.bin\nget up.bin {}\nls\nquit\n",
        local.display(),
        got.display()
    );
    let mut child = Command::new("cadaver")
        .arg(&s.url)
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cadaver");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("up.bin"), "{text}");
    assert!(std::fs::read(&got).unwrap() == data, "{text}");
    assert!(curl(&[&s.at("cad/up.bin")]).body == data);
}

#[test]
fn davfs2_mount_with_locks_copies_byte_identical() {
    require("mount.davfs");
    let s = DavServer::embedded(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let conf = dir.path().join("davfs2.conf");
    std::fs::write(&conf, "use_locks 1\nask_auth 0\ndelay_upload 0\n").unwrap();
    let out = Command::new("mount")
        .args(["-t", "davfs", &s.url])
        .arg(&mnt)
        .arg("-o")
        .arg(format!("conf={}", conf.display()))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("mount.davfs");
    assert!(
        out.status.success(),
        "mount -t davfs failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let data = bytes(3 << 20, 11);
    let src = dir.path().join("file.bin");
    std::fs::write(&src, &data).unwrap();
    let copied = std::fs::copy(&src, mnt.join("file.bin"));
    // Reading it back through davfs2 (by name: davfs2 1.6.1 here fails
    // readdir with EINVAL against any server, rclone serve webdav too).
    let read_back = std::fs::read(mnt.join("file.bin"));
    // Unmounting makes davfs2 upload what it holds.
    let um = Command::new("umount").arg(&mnt).output().unwrap();
    copied.expect("cp into the davfs2 mount");
    assert!(read_back.expect("read back through davfs2") == data);
    assert!(
        um.status.success(),
        "{}",
        String::from_utf8_lossy(&um.stderr)
    );
    let r = curl(&[&s.at("file.bin")]);
    assert_eq!(r.status, 200, "{}", s.log());
    assert!(r.body == data, "davfs2 upload is not byte-identical");
    // davfs2 locks files it writes (use_locks 1): no lock conflict left.
    assert!(!s.log().contains(": 423"), "{}", s.log());
}
