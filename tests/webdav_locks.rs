//! WebDAV LOCK as a CMIS checkout (the default), against
//! `cmisfs repo` (where cmis:document is versionable): the lock is visible
//! to every CMIS client, survives a gateway restart, and UNLOCK ends it.

mod common_webdav;

use common_webdav::*;

const LOCKINFO: &str = r#"<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>tester</D:owner></D:lockinfo>"#;

struct Setup {
    repo: DavServer,
    root: String,
    cache: tempfile::TempDir,
    pwfile: std::path::PathBuf,
}

fn setup() -> Setup {
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
    let cache = tempfile::tempdir().unwrap();
    let pwfile = cache.path().join("pw");
    std::fs::write(&pwfile, "admin\n").unwrap();
    Setup {
        repo,
        root,
        cache,
        pwfile,
    }
}

fn gateway(s: &Setup) -> DavServer {
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = vec![
        "webdav".into(),
        "--url".into(),
        s.repo.url.clone(),
        "--user".into(),
        "admin".into(),
        "--password-file".into(),
        s.pwfile.display().to_string(),
        "--webdav-auth".into(),
        "none".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--cache-dir".into(),
        s.cache.path().join("cache").display().to_string(),
    ];
    DavServer::spawn(dir, &args, "WebDAV endpoint: ")
}

/// The document's properties as CMIS clients see them.
fn cmis_props(s: &Setup, name: &str) -> serde_json::Value {
    let r = curl(&[
        "-u",
        "admin:admin",
        &format!("{}/{name}?cmisselector=object&succinct=true", s.root),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v["succinctProperties"].clone()
}

fn version_count(s: &Setup, name: &str) -> usize {
    let r = curl(&[
        "-u",
        "admin:admin",
        &format!("{}/{name}?cmisselector=versions&succinct=true", s.root),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    v.as_array().map(|a| a.len()).unwrap_or(0)
}

fn lock(g: &DavServer, name: &str) -> String {
    lock_for(g, name, 600)
}

fn lock_for(g: &DavServer, name: &str, secs: u32) -> String {
    let timeout = format!("Timeout: Second-{secs}");
    let r = curl(&[
        "-X",
        "LOCK",
        "-H",
        &timeout,
        "-H",
        "Content-Type: application/xml",
        "--data",
        LOCKINFO,
        &g.at(name),
    ]);
    assert_eq!(r.status, 200, "{}\n{}", r.text(), g.log());
    r.header("lock-token").expect("Lock-Token").to_string()
}

/// UNLOCKs `name` with `token`: 204.
fn unlock(g: &DavServer, name: &str, token: &str) {
    let r = curl(&[
        "-X",
        "UNLOCK",
        "-H",
        &format!("Lock-Token: {token}"),
        &g.at(name),
    ]);
    assert_eq!(r.status, 204, "{}", g.log());
}

/// PUTs `body` as `name` with extra `headers` (an If with a lock token,
/// an If-Match); the status.
fn put(g: &DavServer, name: &str, body: &[u8], headers: &[String]) -> u16 {
    let f = g.dir.path().join(format!("put-{}", name.replace('/', "_")));
    std::fs::write(&f, body).unwrap();
    let mut args = vec!["-T".to_string(), f.display().to_string()];
    for h in headers {
        args.extend(["-H".to_string(), h.clone()]);
    }
    args.push(g.at(name));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    curl(&args).status
}

/// PUTs doc.txt ("version one") and LOCKs it: the document is then
/// checked out by admin. Returns the temp dir holding doc.txt, the version
/// count before the lock and the lock token.
fn put_and_lock(s: &Setup, g: &DavServer) -> (tempfile::TempDir, usize, String) {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("doc.txt");
    std::fs::write(&f, b"version one").unwrap();
    assert_eq!(
        curl(&["-T", f.to_str().unwrap(), &g.at("doc.txt")]).status,
        201
    );
    let versions = version_count(s, "doc.txt");
    let token = lock(g, "doc.txt");
    let p = cmis_props(s, "doc.txt");
    assert_eq!(
        p["cmis:isVersionSeriesCheckedOut"],
        true,
        "{p}\n{}",
        g.log()
    );
    assert_eq!(p["cmis:versionSeriesCheckedOutBy"], "admin");
    (tmp, versions, token)
}

#[test]
fn lock_is_a_checkout_that_survives_a_restart() {
    let s = setup();
    let g = gateway(&s);
    let (_tmp, versions, token) = put_and_lock(&s, &g);
    // A second LOCK is refused.
    let r = curl(&["-X", "LOCK", "--data", LOCKINFO, &g.at("doc.txt")]);
    assert_eq!(r.status, 423);

    // Restart the gateway: the lock and the checkout are still there.
    drop(g);
    let g = gateway(&s);
    let r = curl(&["-X", "PROPFIND", "-H", "Depth: 0", &g.at("doc.txt")]);
    let inner = token.trim_matches(|c| c == '<' || c == '>');
    assert!(r.text().contains(inner), "{}", r.text());
    assert_eq!(
        cmis_props(&s, "doc.txt")["cmis:isVersionSeriesCheckedOut"],
        true
    );

    // UNLOCK without a write cancels the checkout: no new version.
    unlock(&g, "doc.txt", &token);
    assert_eq!(
        cmis_props(&s, "doc.txt")["cmis:isVersionSeriesCheckedOut"],
        false
    );
    assert_eq!(version_count(&s, "doc.txt"), versions);
    assert_eq!(curl(&[&g.at("doc.txt")]).body, b"version one");
}

#[test]
fn put_under_lock_then_unlock_makes_one_new_version() {
    let s = setup();
    let g = gateway(&s);
    let (tmp, versions, token) = put_and_lock(&s, &g);
    let f = tmp.path().join("doc.txt");
    std::fs::write(&f, b"version two").unwrap();
    let r = curl(&[
        "-T",
        f.to_str().unwrap(),
        "-H",
        &format!("If: ({token})"),
        &g.at("doc.txt"),
    ]);
    assert_eq!(r.status, 204, "{}", g.log());
    // Still checked out (the PUT went into the PWC: the versions are the
    // old ones plus the PWC), and the new content is what the endpoint
    // serves.
    let p = cmis_props(&s, "doc.txt");
    assert_eq!(p["cmis:isVersionSeriesCheckedOut"], true, "{p}");
    assert_eq!(p["cmis:versionSeriesCheckedOutBy"], "admin");
    assert_eq!(version_count(&s, "doc.txt"), versions + 1);
    assert_eq!(curl(&[&g.at("doc.txt")]).body, b"version two");
    unlock(&g, "doc.txt", &token);
    assert_eq!(
        cmis_props(&s, "doc.txt")["cmis:isVersionSeriesCheckedOut"],
        false
    );
    assert_eq!(version_count(&s, "doc.txt"), versions + 1);
    assert_eq!(curl(&[&g.at("doc.txt")]).body, b"version two");
}

/// A PUT under the lock, then a gateway restart: the PWC's content is
/// what the endpoint serves, and UNLOCK still knows the PWC was written
/// (one new version, not a cancel).
#[test]
fn put_under_lock_survives_a_restart() {
    let s = setup();
    let g = gateway(&s);
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("doc.txt");
    std::fs::write(&f, b"version one").unwrap();
    assert_eq!(
        curl(&["-T", f.to_str().unwrap(), &g.at("doc.txt")]).status,
        201
    );
    let versions = version_count(&s, "doc.txt");
    let token = lock(&g, "doc.txt");
    std::fs::write(&f, b"version two, before the restart").unwrap();
    let r = curl(&[
        "-T",
        f.to_str().unwrap(),
        "-H",
        &format!("If: ({token})"),
        &g.at("doc.txt"),
    ]);
    assert_eq!(r.status, 204, "{}", g.log());
    drop(g);
    let g = gateway(&s);
    assert_eq!(
        curl(&[&g.at("doc.txt")]).body,
        b"version two, before the restart"
    );
    unlock(&g, "doc.txt", &token);
    assert_eq!(
        cmis_props(&s, "doc.txt")["cmis:isVersionSeriesCheckedOut"],
        false
    );
    assert_eq!(version_count(&s, "doc.txt"), versions + 1);
    assert_eq!(
        curl(&[&g.at("doc.txt")]).body,
        b"version two, before the restart"
    );
}

/// A lock that times out ends its checkout like an UNLOCK: checked in
/// when something was written under it (one new version), else
/// cancelled; without any request coming in.
#[test]
fn lock_timeout_ends_the_checkout() {
    let s = setup();
    let g = gateway(&s);
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("doc.txt");
    std::fs::write(&f, b"version one").unwrap();
    for name in ["written.txt", "untouched.txt"] {
        assert_eq!(curl(&["-T", f.to_str().unwrap(), &g.at(name)]).status, 201);
    }
    let versions = version_count(&s, "written.txt");
    let t1 = lock_for(&g, "written.txt", 2);
    lock_for(&g, "untouched.txt", 2);
    for name in ["written.txt", "untouched.txt"] {
        assert_eq!(cmis_props(&s, name)["cmis:isVersionSeriesCheckedOut"], true);
    }
    std::fs::write(&f, b"written under the lock").unwrap();
    let r = curl(&[
        "-T",
        f.to_str().unwrap(),
        "-H",
        &format!("If: ({t1})"),
        &g.at("written.txt"),
    ]);
    assert_eq!(r.status, 204, "{}", g.log());
    let ended = |name: &str| {
        (0..50).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(200));
            cmis_props(&s, name)["cmis:isVersionSeriesCheckedOut"] == false
        })
    };
    assert!(ended("written.txt"), "{}", g.log());
    assert!(ended("untouched.txt"), "{}", g.log());
    assert_eq!(version_count(&s, "written.txt"), versions + 1);
    assert_eq!(version_count(&s, "untouched.txt"), versions);
    assert_eq!(
        curl(&[&g.at("written.txt")]).body,
        b"written under the lock"
    );
    assert_eq!(curl(&[&g.at("untouched.txt")]).body, b"version one");
}

/// MOVE of a new file onto an existing document (a save by temp file and
/// rename, as editors do over WebDAV) keeps the document: same version
/// series, the moved content as its latest version.
#[test]
fn move_onto_a_document_keeps_it() {
    let s = setup();
    let g = gateway(&s);
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("f");
    std::fs::write(&f, b"first").unwrap();
    assert_eq!(
        curl(&["-T", f.to_str().unwrap(), &g.at("report.txt")]).status,
        201
    );
    let before = cmis_props(&s, "report.txt");
    std::fs::write(&f, b"second, saved by rename").unwrap();
    assert_eq!(
        curl(&["-T", f.to_str().unwrap(), &g.at(".~report.tmp")]).status,
        201
    );
    let dest = format!("Destination: {}", g.at("report.txt"));
    let r = curl(&["-X", "MOVE", "-H", &dest, &g.at(".~report.tmp")]);
    assert_eq!(r.status, 204, "{}", g.log());
    assert_eq!(
        curl(&[&g.at("report.txt")]).body,
        b"second, saved by rename"
    );
    assert_eq!(curl(&[&g.at(".~report.tmp")]).status, 404);
    // Uploaded by the time a sync point passes: PUT/fsync of another file.
    let after = (0..50)
        .map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(200));
            cmis_props(&s, "report.txt")
        })
        .find(|p| p["cmis:contentStreamLength"] == 23)
        .expect("the new content reaches the repository");
    assert_eq!(
        after["cmis:versionSeriesId"],
        before["cmis:versionSeriesId"]
    );
}

/// The ETag and date a client holds stay good across a LOCK (a checkout)
/// and an UNLOCK with no write (its cancel): they change the document's
/// change token, not its content. davfs2 LOCKs, then PUTs with If-Match of
/// the ETag it had: that PUT was refused (412), and davfs2 downloaded the
/// file again after every LOCK and UNLOCK. A write still changes the ETag,
/// once: the checkIn at the UNLOCK keeps it.
#[test]
fn lock_and_unlock_keep_the_etag() {
    let s = setup();
    let g = gateway(&s);
    assert_eq!(put(&g, "doc.txt", b"version one", &[]), 201);
    let head = || {
        let r = curl(&["-I", &g.at("doc.txt")]);
        let h = |n: &str| r.header(n).map(str::to_string).unwrap_or_default();
        (h("etag"), h("last-modified"))
    };
    let before = head();
    assert!(!before.0.is_empty());
    let token = lock(&g, "doc.txt");
    assert_eq!(
        cmis_props(&s, "doc.txt")["cmis:isVersionSeriesCheckedOut"],
        true
    );
    assert_eq!(head(), before, "a LOCK changes no ETag");
    unlock(&g, "doc.txt", &token);
    assert_eq!(head(), before, "nor does an UNLOCK without a write");
    // davfs2's save: LOCK, then PUT If-Match the ETag it had.
    let token = lock(&g, "doc.txt");
    let ifs = [format!("If-Match: {}", before.0), format!("If: ({token})")];
    assert_eq!(put(&g, "doc.txt", b"version two", &ifs), 204, "{}", g.log());
    let written = head();
    assert_ne!(written.0, before.0, "a write changes the ETag");
    // The checkIn makes a new version of that content: same ETag, same date.
    unlock(&g, "doc.txt", &token);
    assert_eq!(
        cmis_props(&s, "doc.txt")["cmis:isVersionSeriesCheckedOut"],
        false
    );
    assert_eq!(
        head(),
        written,
        "the checkIn keeps the written content's ETag"
    );
    // And the next lock cycle too (its checkout changes the token again).
    let token = lock(&g, "doc.txt");
    assert_eq!(head(), written, "a second LOCK");
    unlock(&g, "doc.txt", &token);
    assert_eq!(head(), written, "a second UNLOCK");
    assert_eq!(curl(&[&g.at("doc.txt")]).body, b"version two");
}

/// A date the client set (X-OC-Mtime, as rclone sends it) survives a
/// LOCK and UNLOCK without a write: the checkout changed the document's
/// change token, and the date kept for the old token was lost, so the
/// next `rclone sync` (or rsync on the mount) saw a changed file.
#[test]
fn a_set_date_survives_a_lock() {
    let s = setup();
    let g = gateway(&s);
    let oc = ["X-OC-Mtime: 1000000000".to_string()];
    assert_eq!(put(&g, "doc.txt", b"dated", &oc), 201, "{}", g.log());
    let date = || {
        let r = curl(&["-I", &g.at("doc.txt")]);
        r.header("last-modified").unwrap_or_default().to_string()
    };
    assert_eq!(date(), "Sun, 09 Sep 2001 01:46:40 GMT");
    let token = lock(&g, "doc.txt");
    assert_eq!(date(), "Sun, 09 Sep 2001 01:46:40 GMT", "locked");
    unlock(&g, "doc.txt", &token);
    assert_eq!(date(), "Sun, 09 Sep 2001 01:46:40 GMT", "unlocked");
}

/// A save by MOVE over the document (LibreOffice through davfs2 writes a
/// temp file and moves it over) is uploaded before the MOVE answers, as a
/// PUT is: the ETag a client reads next is final, and davfs2's LOCK + PUT
/// If-Match with it works. Before, the upload came after the answer and
/// changed the ETag, and that PUT got 412.
#[test]
fn a_move_over_a_document_answers_with_its_final_etag() {
    let s = setup();
    let g = gateway(&s);
    assert_eq!(put(&g, "doc.txt", b"version one", &[]), 201);
    assert_eq!(put(&g, "lu123.tmp", b"saved", &[]), 201);
    let dest = format!("Destination: {}", g.at("doc.txt"));
    let r = curl(&["-X", "MOVE", "-H", &dest, &g.at("lu123.tmp")]);
    assert_eq!(r.status, 204, "{}", g.log());
    let etag = || {
        let r = curl(&["-I", &g.at("doc.txt")]);
        r.header("etag").unwrap_or_default().to_string()
    };
    let moved = etag();
    let token = lock(&g, "doc.txt");
    assert_eq!(etag(), moved, "the LOCK found the save uploaded already");
    let ifs = [format!("If-Match: {moved}"), format!("If: ({token})")];
    assert_eq!(put(&g, "doc.txt", b"saved again", &ifs), 204, "{}", g.log());
    unlock(&g, "doc.txt", &token);
    assert_eq!(curl(&[&g.at("doc.txt")]).body, b"saved again");
}

/// davfs2's second LibreOffice save: a save under a lock (checkIn at the
/// UNLOCK), then a save by MOVE over the document, then a LOCK. The date
/// kept for the first checkIn's version was keyed by (series, change
/// token), and the MOVE's new version had the same token string (the
/// embedded repository counts tokens per object): the LOCK brought the old
/// date back and changed the ETag, and davfs2's PUT got 412.
#[test]
fn a_save_by_move_after_a_locked_save_keeps_its_etag() {
    let s = setup();
    let g = gateway(&s);
    assert_eq!(put(&g, "report.odt", b"one", &[]), 201);
    let t = lock(&g, "report.odt");
    let under = [format!("If: ({t})")];
    assert_eq!(put(&g, "report.odt", b"two-two", &under), 204);
    unlock(&g, "report.odt", &t);
    assert_eq!(put(&g, "lu1.tmp", b"three-three-three", &[]), 201);
    let dest = format!("Destination: {}", g.at("report.odt"));
    let r = curl(&["-X", "MOVE", "-H", &dest, &g.at("lu1.tmp")]);
    assert_eq!(r.status, 204, "{}", g.log());
    let etag = || {
        let r = curl(&["-I", &g.at("report.odt")]);
        r.header("etag").unwrap_or_default().to_string()
    };
    let moved = etag();
    let t = lock(&g, "report.odt");
    assert_eq!(etag(), moved, "the LOCK changed the ETag");
    unlock(&g, "report.odt", &t);
    assert_eq!(etag(), moved, "the UNLOCK changed the ETag");
}
