//! Authentication of the WebDAV endpoint: passthrough (each user's own
//! CMIS session, so the repository's ACLs apply per person), fixed (a users
//! file, the gateway's own session), and the refusal to serve a public
//! address without authentication.

mod common_webdav;

use std::io::Write;
use std::process::{Command, Stdio};

use common_webdav::*;

fn hash(password: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cmisfs"))
        .args(["repo", "--hash-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn users_file(dir: &std::path::Path) -> std::path::PathBuf {
    let f = dir.join("users");
    let mut text = String::new();
    for (u, p) in [
        ("admin", "pw-admin"),
        ("alice", "pw-alice"),
        ("bob", "pw-bob"),
    ] {
        text.push_str(&format!("{u}:{}\n", hash(p)));
    }
    std::fs::write(&f, text).unwrap();
    f
}

#[test]
fn passthrough_applies_each_users_own_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let users = users_file(dir.path());
    let repo_dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = vec![
        "repo".into(),
        "--data".into(),
        repo_dir.path().join("data").display().to_string(),
        "--users".into(),
        users.display().to_string(),
        "--listen".into(),
        "127.0.0.1:0".into(),
    ];
    let repo = DavServer::spawn(repo_dir, &args, "service URL: ");
    let service = repo.url.clone();
    // Root: alice may do everything, bob may read; nobody else anything.
    let info = curl(&["-u", "admin:pw-admin", &service]);
    let v: serde_json::Value = serde_json::from_slice(&info.body).unwrap();
    let root = v
        .as_object()
        .and_then(|m| m.values().next())
        .and_then(|r| r["rootFolderUrl"].as_str())
        .unwrap()
        .to_string();
    let r = curl(&[
        "-u",
        "admin:pw-admin",
        "-F",
        "cmisaction=applyACL",
        "-F",
        "addACEPrincipal[0]=alice",
        "-F",
        "addACEPermission[0][0]=cmis:all",
        "-F",
        "addACEPrincipal[1]=bob",
        "-F",
        "addACEPermission[1][0]=cmis:read",
        "-F",
        "removeACEPrincipal[0]=cmis:anyone",
        "-F",
        "removeACEPermission[0][0]=cmis:all",
        &root,
    ]);
    assert_eq!(r.status, 200, "{}", r.text());

    let dav_dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = vec![
        "webdav".into(),
        "--url".into(),
        service.clone(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--cache-dir".into(),
        dav_dir.path().join("cache").display().to_string(),
    ];
    let s = DavServer::spawn(dav_dir, &args, "WebDAV endpoint: ");
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("f.txt");
    std::fs::write(&f, b"alice's text").unwrap();
    let f = f.to_str().unwrap();

    // No credentials, wrong password: 401 with a Basic challenge.
    let r = curl(&[&s.at("")]);
    assert_eq!(r.status, 401);
    assert!(r
        .header("www-authenticate")
        .unwrap_or("")
        .starts_with("Basic"));
    assert_eq!(curl(&["-u", "alice:wrong", &s.at("")]).status, 401);
    assert!(s.log().contains("refused user 'alice'"), "{}", s.log());

    // alice writes; bob reads but cannot write.
    assert_eq!(
        curl(&["-u", "alice:pw-alice", "-X", "MKCOL", &s.at("team/")]).status,
        201
    );
    assert_eq!(
        curl(&["-u", "alice:pw-alice", "-T", f, &s.at("team/a.txt")]).status,
        201
    );
    let r = curl(&["-u", "bob:pw-bob", &s.at("team/a.txt")]);
    assert_eq!((r.status, r.body.as_slice()), (200, &b"alice's text"[..]));
    assert_eq!(
        curl(&["-u", "bob:pw-bob", "-T", f, &s.at("team/b.txt")]).status,
        403
    );
    assert_eq!(
        curl(&["-u", "bob:pw-bob", "-X", "MKCOL", &s.at("team/sub/")]).status,
        403
    );
    assert_eq!(
        curl(&["-u", "bob:pw-bob", "-X", "DELETE", &s.at("team/a.txt")]).status,
        403
    );
    assert_eq!(
        curl(&["-u", "bob:pw-bob", "-T", f, &s.at("team/a.txt")]).status,
        403
    );
    // The refused writes changed nothing.
    assert_eq!(
        curl(&["-u", "alice:pw-alice", &s.at("team/a.txt")]).body,
        b"alice's text"
    );
    assert_eq!(
        curl(&["-u", "alice:pw-alice", &s.at("team/b.txt")]).status,
        404
    );
}

#[test]
fn fixed_users_file_and_public_address_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let users = users_file(dir.path());
    let users_s = users.display().to_string();
    let s = DavServer::embedded(&["--webdav-auth", "fixed", "--webdav-users", &users_s]);
    assert_eq!(curl(&[&s.at("")]).status, 401);
    assert_eq!(curl(&["-u", "bob:nope", &s.at("")]).status, 401);
    assert!(s.log().contains("authentication failed for user 'bob'"));
    assert_eq!(
        curl(&["-u", "bob:pw-bob", "-X", "PROPFIND", &s.at("")]).status,
        207
    );

    // No authentication on a non-loopback address: refused, clear message.
    let out = Command::new(env!("CARGO_BIN_EXE_cmisfs"))
        .args([
            "webdav",
            "--listen",
            "0.0.0.0:0",
            "--webdav-auth",
            "none",
            "--data",
        ])
        .arg(dir.path().join("data"))
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without authentication"), "{err}");
    // Refused before anything started: no repository data, no cache.
    assert!(!dir.path().join("data").exists(), "{err}");
    assert!(!dir.path().join("cache").exists(), "{err}");
}
