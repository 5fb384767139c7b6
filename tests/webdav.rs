//! `cmisfs webdav` on the embedded repository, driven by real clients:
//! curl (PUT/GET/Range/conditionals, mtime properties, X-OC-Mtime, bad
//! input), a headless browser (the HTML listing), rclone, davfs2 and
//! cadaver. The tools come from tests/setup-webdav-tools.sh; a missing
//! tool fails its test.

mod common_webdav;

use std::path::Path;
use std::process::Command;

use common_webdav::*;

const PROPFIND_MTIME: &str = r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getlastmodified/></D:prop></D:propfind>"#;

#[test]
fn curl_put_get_range_conditionals_and_mtimes() {
    require("curl");
    let s = DavServer::embedded(&[]);
    let dir = tempfile::tempdir().unwrap();
    let data = bytes(3 << 20, 1);
    let local = dir.path().join("in.bin");
    std::fs::write(&local, &data).unwrap();

    let r = curl(&["-X", "MKCOL", &s.at("docs/")]);
    assert_eq!(r.status, 201);
    let r = curl(&["-T", local.to_str().unwrap(), &s.at("docs/big.bin")]);
    assert_eq!(r.status, 201, "{}", s.log());
    let etag = r.header("etag").expect("PUT answers an ETag").to_string();
    assert!(r.header("last-modified").is_some());

    let r = curl(&[&s.at("docs/big.bin")]);
    assert_eq!(r.status, 200);
    assert!(r.body == data, "GET returns what PUT stored");
    assert_eq!(r.header("etag"), Some(etag.as_str()));

    let r = curl(&["-r", "1000-1999", &s.at("docs/big.bin")]);
    assert_eq!(r.status, 206);
    assert!(r.body == data[1000..2000]);
    let r = curl(&["-r", "-100", &s.at("docs/big.bin")]);
    assert_eq!(r.status, 206);
    assert!(r.body == data[data.len() - 100..]);

    let r = curl(&["-I", &s.at("docs/big.bin")]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("3145728"));
    let inm = format!("If-None-Match: {etag}");
    assert_eq!(curl(&["-H", &inm, &s.at("docs/big.bin")]).status, 304);
    let im = "If-Match: \"not-the-etag\"";
    assert_eq!(
        curl(&[
            "-T",
            local.to_str().unwrap(),
            "-H",
            im,
            &s.at("docs/big.bin")
        ])
        .status,
        412
    );

    // Overwrite: 204, and the new content is served.
    let small = dir.path().join("small.txt");
    std::fs::write(&small, b"hello\n").unwrap();
    let r = curl(&["-T", small.to_str().unwrap(), &s.at("docs/big.bin")]);
    assert_eq!(r.status, 204);
    assert_eq!(curl(&[&s.at("docs/big.bin")]).body, b"hello\n");

    // X-OC-Mtime on PUT sets the modification time.
    let r = curl(&[
        "-T",
        small.to_str().unwrap(),
        "-H",
        "X-OC-Mtime: 1600000000",
        &s.at("docs/mtime.txt"),
    ]);
    assert_eq!(r.status, 201);
    assert_eq!(r.header("x-oc-mtime"), Some("accepted"));
    let r = curl(&[
        "-X",
        "PROPFIND",
        "-H",
        "Depth: 0",
        "--data",
        PROPFIND_MTIME,
        &s.at("docs/mtime.txt"),
    ]);
    assert_eq!(r.status, 207);
    assert!(
        r.text().contains("Sun, 13 Sep 2020 12:26:40 GMT"),
        "{}",
        r.text()
    );

    // PROPPATCH of DAV:getlastmodified sets it too.
    let patch = r#"<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:getlastmodified>Mon, 01 Jan 2024 10:00:00 GMT</D:getlastmodified></D:prop></D:set></D:propertyupdate>"#;
    let r = curl(&["-X", "PROPPATCH", "--data", patch, &s.at("docs/mtime.txt")]);
    assert_eq!(r.status, 207);
    assert!(r.text().contains("200 OK"), "{}", r.text());
    let r = curl(&[
        "-X",
        "PROPFIND",
        "-H",
        "Depth: 0",
        "--data",
        PROPFIND_MTIME,
        &s.at("docs/mtime.txt"),
    ]);
    assert!(
        r.text().contains("Mon, 01 Jan 2024 10:00:00 GMT"),
        "{}",
        r.text()
    );

    // COPY with X-OC-Mtime; MOVE keeps the content.
    let dest = format!("Destination: {}", s.at("docs/copy.txt"));
    let r = curl(&[
        "-X",
        "COPY",
        "-H",
        &dest,
        "-H",
        "X-OC-Mtime: 1500000000",
        &s.at("docs/mtime.txt"),
    ]);
    assert_eq!(r.status, 201);
    assert_eq!(r.header("x-oc-mtime"), Some("accepted"));
    let dest = format!("Destination: {}", s.at("moved.txt"));
    assert_eq!(
        curl(&["-X", "MOVE", "-H", &dest, &s.at("docs/copy.txt")]).status,
        201
    );
    assert_eq!(curl(&[&s.at("moved.txt")]).body, b"hello\n");
    assert_eq!(curl(&[&s.at("docs/copy.txt")]).status, 404);

    // Dead properties survive a restart (state store), OPTIONS says DAV.
    let pp = r#"<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://example.com/ns"><D:set><D:prop><Z:colour>blue</Z:colour></D:prop></D:set></D:propertyupdate>"#;
    assert_eq!(
        curl(&["-X", "PROPPATCH", "--data", pp, &s.at("moved.txt")]).status,
        207
    );
    let r = curl(&["-X", "OPTIONS", &s.at("")]);
    assert_eq!(r.header("ms-author-via"), Some("DAV"));
    assert!(r.header("dav").is_some_and(|d| d.contains('2')));
}

#[test]
fn bad_input_gets_a_4xx_and_a_log_line() {
    require("curl");
    let s = DavServer::embedded(&[]);
    let at = |p: &str| format!("{}{}", s.url.trim_end_matches('/'), p);
    for (path, why) in [
        ("/a/../../etc/passwd", "dot-dot"),
        ("/a/%2e%2e/%2e%2e/etc/passwd", "encoded dot-dot"),
        ("/a%5c..%5c..%5cetc", "encoded backslash"),
        ("/bad%ff%fe", "invalid UTF-8"),
        ("/nul%00x", "NUL"),
    ] {
        let r = curl(&["--path-as-is", &at(path)]);
        assert_eq!(r.status, 400, "{why}: {path}");
    }
    // Entity expansion, deep nesting, oversized and malformed XML.
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><D:propfind xmlns:D="DAV:"><D:prop><D:x>&b;</D:x></D:prop></D:propfind>"#;
    let r = curl(&["-X", "PROPFIND", "--data", bomb, &at("/")]);
    assert_eq!(r.status, 400);
    let deep = "<a>".repeat(10_000) + &"</a>".repeat(10_000);
    let r = curl(&["-X", "PROPFIND", "--data-binary", &deep, &at("/")]);
    assert_eq!(r.status, 400);
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.xml");
    std::fs::write(
        &huge,
        format!(
            "<D:propfind xmlns:D=\"DAV:\"><D:prop>{}</D:prop></D:propfind>",
            "<D:x/>".repeat(400_000)
        ),
    )
    .unwrap();
    let arg = format!("@{}", huge.display());
    let r = curl(&["-X", "PROPFIND", "--data-binary", &arg, &at("/")]);
    assert_eq!(r.status, 413);
    let r = curl(&["-X", "PROPPATCH", "--data", "<not xml", &at("/")]);
    assert_eq!(r.status, 400);
    // Depth infinity is refused.
    let r = curl(&["-X", "PROPFIND", "-H", "Depth: infinity", &at("/")]);
    assert_eq!(r.status, 403);
    assert!(r.text().contains("propfind-finite-depth"));
    // A Destination on another host.
    std::fs::write(dir.path().join("f"), b"x").unwrap();
    let f = dir.path().join("f");
    assert_eq!(curl(&["-T", f.to_str().unwrap(), &at("/f")]).status, 201);
    let r = curl(&[
        "-X",
        "COPY",
        "-H",
        "Destination: http://elsewhere.example/f2",
        &at("/f"),
    ]);
    assert_eq!(r.status, 502);
    let r = curl(&[
        "-X",
        "MOVE",
        "-H",
        &format!("Destination: {}", at("/x/%2e%2e/%2e%2e/f2")),
        &at("/f"),
    ]);
    assert_eq!(r.status, 400);
    // DELETE of the root is refused before anything goes (dav-server
    // deleted every member first).
    assert_eq!(curl(&["-X", "DELETE", &at("/")]).status, 403);
    assert_eq!(
        curl(&["-X", "DELETE", "--path-as-is", &at("//")]).status,
        403
    );
    assert_eq!(curl(&[&at("/f")]).body, b"x", "DELETE / deleted nothing");
    // A collection moved into itself (the repository's constraint error
    // was a 500).
    for p in ["/m/", "/m/n/"] {
        assert_eq!(curl(&["-X", "MKCOL", &at(p)]).status, 201);
    }
    let into = format!("Destination: {}", at("/m/n/o/"));
    for m in ["MOVE", "COPY"] {
        assert_eq!(curl(&["-X", m, "-H", &into, &at("/m/")]).status, 403);
    }
    assert_eq!(
        curl(&["-X", "PROPFIND", "-H", "Depth: 1", &at("/m/n/")])
            .text()
            .matches("<D:response>")
            .count(),
        1,
        "nothing in /m/n/"
    );
    // Still serving, and every refusal was logged.
    assert_eq!(curl(&[&at("/f")]).body, b"x");
    let log = s.log();
    for why in [
        "path traversal",
        "not UTF-8",
        "DOCTYPE",
        "nested too deep",
        "too large",
        "Depth: infinity",
        "Destination not on this server",
        "the root collection cannot be deleted",
        "destination inside the source",
    ] {
        assert!(log.contains(why), "no log line for {why}:\n{log}");
    }
    assert!(!log.contains("panicked"));
}

#[test]
fn a_browser_sees_an_html_listing() {
    require("chromium");
    let s = DavServer::embedded(&[]);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("report.txt");
    std::fs::write(&f, b"some text").unwrap();
    assert_eq!(curl(&["-X", "MKCOL", &s.at("Folder%20One/")]).status, 201);
    assert_eq!(
        curl(&["-T", f.to_str().unwrap(), &s.at("Folder%20One/report.txt")]).status,
        201
    );
    let r = curl(&["-H", "Accept: text/html", &s.at("Folder%20One/")]);
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/html"));
    assert!(r.text().contains("report.txt"), "{}", r.text());

    let shot = dir.path().join("listing.png");
    let chromium = |extra: &[&str]| {
        Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-dev-shm-usage",
            ])
            .arg(format!(
                "--user-data-dir={}",
                dir.path().join("profile").display()
            ))
            .args(extra)
            .arg(s.at("Folder%20One/"))
            .output()
            .expect("chromium")
    };
    let dom = chromium(&["--dump-dom"]);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("report.txt"), "rendered DOM: {dom}");
    assert!(dom.contains("<table"), "rendered DOM: {dom}");
    chromium(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=800,600",
    ]);
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.len() > 1000 && png.starts_with(b"\x89PNG"));
    // Keep the screenshot where a human can look at it.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("webdav-listing.png");
    let _ = std::fs::write(keep, &png);
}

/// A client that stalls mid-request (litmus's expect100 case: headers of a
/// PUT, then no body) must not keep the gateway from stopping: SIGTERM
/// ends it within the shutdown grace, not never.
#[test]
fn a_stalled_put_does_not_block_shutdown() {
    use std::io::{Read, Write};
    let mut server = DavServer::embedded(&[]);
    let addr = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut conn = std::net::TcpStream::connect(&addr).expect("connect");
    write!(
        conn,
        "PUT /stalled.bin HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\nonly part of the body"
    )
    .unwrap();
    conn.flush().unwrap();
    // A complete request on another connection still works meanwhile.
    let r = curl(&["-T", "/etc/hostname", &format!("{}ok.txt", server.url)]);
    assert!(r.status == 201 || r.status == 204, "PUT: {}", r.status);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let started = std::time::Instant::now();
    server.stop();
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(15),
        "the gateway took {took:?} to stop with a stalled request open"
    );
    // The stalled connection was closed by the server.
    conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut buf = Vec::new();
    let _ = conn.read_to_end(&mut buf);
}

/// A PUT whose body breaks off (the client goes away after 100 of 1000
/// bytes) leaves nothing behind: a new file is not created, an existing
/// document keeps its content. Nothing truncated is uploaded.
#[test]
fn a_put_cut_short_changes_nothing() {
    use std::io::Write;
    let server = DavServer::embedded(&[]);
    let addr = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let src = server.dir.path().join("original.txt");
    std::fs::write(&src, b"the original content").unwrap();
    let r = curl(&[
        "-T",
        src.to_str().unwrap(),
        &format!("{}keep.txt", server.url),
    ]);
    assert!(r.status == 201 || r.status == 204, "PUT: {}", r.status);
    for name in ["keep.txt", "new.bin"] {
        let mut conn = std::net::TcpStream::connect(&addr).expect("connect");
        write!(
            conn,
            "PUT /{name} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 1000\r\n\r\n"
        )
        .unwrap();
        conn.write_all(&[b'x'; 100]).unwrap();
        conn.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        if name == "keep.txt" {
            // While the body arrives, readers see the whole old content.
            let r = curl(&[&format!("{}keep.txt", server.url)]);
            assert_eq!(r.text(), "the original content");
        }
        drop(conn);
    }
    // Past the write-back delay: anything kept would have been uploaded.
    std::thread::sleep(std::time::Duration::from_secs(4));
    let r = curl(&[&format!("{}keep.txt", server.url)]);
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "the original content");
    let r = curl(&[&format!("{}new.bin", server.url)]);
    assert_eq!(r.status, 404, "the cut-short new file exists: {}", r.text());
}

/// Older versions under the hidden `.versions` directory, over WebDAV:
/// listed by PROPFIND, readable by GET, refused for PUT and DELETE, and
/// not listed in the folder itself.
#[test]
fn older_versions_are_served_read_only() {
    require("curl");
    let s = DavServer::embedded(&[]);
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(curl(&["-X", "MKCOL", &s.at("docs/")]).status, 201);
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    std::fs::write(&one, b"first\n").unwrap();
    std::fs::write(&two, b"second\n").unwrap();
    assert_eq!(
        curl(&["-T", one.to_str().unwrap(), &s.at("docs/v.txt")]).status,
        201
    );
    assert_eq!(
        curl(&["-T", two.to_str().unwrap(), &s.at("docs/v.txt")]).status,
        204
    );

    let hrefs = |path: &str| -> Vec<String> {
        let r = curl(&["-X", "PROPFIND", "-H", "Depth: 1", &s.at(path)]);
        assert_eq!(r.status, 207, "PROPFIND {path}: {}", s.log());
        let body = String::from_utf8_lossy(&r.body).into_owned();
        body.split("href>")
            .skip(1)
            .step_by(2)
            .map(|h| {
                h.trim_end_matches("</D:")
                    .trim_end_matches("</d:")
                    .to_string()
            })
            .collect()
    };
    let folder = hrefs("docs/");
    assert!(
        folder.iter().all(|h| !h.contains(".versions")),
        "{folder:?}"
    );
    let versions: Vec<String> = hrefs("docs/.versions/v.txt/")
        .into_iter()
        .filter(|h| !h.ends_with('/'))
        .collect();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert!(versions[0].ends_with("/v%20%28v1.0%29.txt"), "{versions:?}");
    let url = |href: &str| {
        let file = href.rsplit('/').next().unwrap();
        s.at(&format!("docs/.versions/v.txt/{file}"))
    };
    let oldest = curl(&[&url(&versions[0])]);
    assert_eq!(oldest.status, 200, "{}", versions[0]);
    assert_eq!(oldest.body, b"first\n");
    assert_eq!(curl(&[&url(&versions[1])]).body, b"second\n");
    assert_eq!(
        curl(&["-T", one.to_str().unwrap(), &url(&versions[0])]).status,
        403
    );
    assert_eq!(curl(&["-X", "DELETE", &url(&versions[0])]).status, 403);
    assert_eq!(curl(&[&s.at("docs/v.txt")]).body, b"second\n");
}

/// Microsoft Word saves by writing ~WRDnnnn.tmp, moving the document to
/// ~WRLnnnn.tmp, moving the temp file to the document's name and deleting
/// ~WRLnnnn.tmp. Over WebDAV that is one new version of the same document
/// (the temp names stay local), not a new document that loses the history.
#[test]
fn a_word_save_is_a_new_version_of_the_document() {
    require("curl");
    let s = DavServer::embedded(&[]);
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(curl(&["-X", "MKCOL", &s.at("docs/")]).status, 201);
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    std::fs::write(&one, b"draft\n").unwrap();
    std::fs::write(&two, b"final\n").unwrap();
    let put = |file: &Path, path: &str| curl(&["-T", file.to_str().unwrap(), &s.at(path)]);
    let mv = |from: &str, to: &str| {
        let dest = format!("Destination: {}", s.at(to));
        curl(&["-X", "MOVE", "-H", &dest, &s.at(from)]).status
    };
    assert_eq!(put(&one, "docs/report.docx").status, 201);
    assert_eq!(put(&two, "docs/~WRD0001.tmp").status, 201);
    assert_eq!(mv("docs/report.docx", "docs/~WRL0001.tmp"), 201);
    assert_eq!(
        mv("docs/~WRD0001.tmp", "docs/report.docx"),
        201,
        "{}",
        s.log()
    );
    assert_eq!(
        curl(&["-X", "DELETE", &s.at("docs/~WRL0001.tmp")]).status,
        204
    );
    assert_eq!(curl(&[&s.at("docs/report.docx")]).body, b"final\n");
    let r = curl(&["-X", "PROPFIND", "-H", "Depth: 1", &s.at("docs/")]);
    let listing = r.text();
    assert!(!listing.contains(".tmp"), "{listing}");
    // The save is uploaded after the write-back delay.
    let mut listed = String::new();
    for _ in 0..100 {
        let r = curl(&[
            "-X",
            "PROPFIND",
            "-H",
            "Depth: 1",
            &s.at("docs/.versions/report.docx/"),
        ]);
        assert_eq!(r.status, 207, "{}", s.log());
        listed = r.text();
        if listed.matches("report%20%28v").count() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let versions = listed.matches("report%20%28v").count();
    assert_eq!(versions, 2, "two versions of one document: {listed}");
}

/// A PUT over a versionable document streams its upload through checkOut
/// and checkIn. cmisfs killed in the middle leaves the document checked
/// out in the repository; the next start cancels that checkout (the PUT
/// never completed, so its content is not the document's). With
/// passthrough authentication a user's files open at their first request.
#[test]
fn a_put_killed_mid_stream_leaves_no_checkout() {
    require("curl");
    let repo_dir = tempfile::tempdir().unwrap();
    let data = repo_dir.path().join("data").display().to_string();
    let args = ["repo", "--data", &data, "--listen", "127.0.0.1:0"].map(String::from);
    let repo = DavServer::spawn(repo_dir, &args, "service URL: ");
    let svc = repo.url.clone();
    let info = curl(&["-u", "admin:admin", &svc]);
    let info: serde_json::Value = serde_json::from_slice(&info.body).unwrap();
    let root = info.as_object().unwrap().values().next().unwrap()["rootFolderUrl"]
        .as_str()
        .unwrap()
        .to_string();
    let checked_out = || {
        let url = format!("{root}/big.bin?cmisselector=object&succinct=true");
        let r = curl(&["-u", "admin:admin", &url]);
        let o: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        o["succinctProperties"]["cmis:isVersionSeriesCheckedOut"] == serde_json::json!(true)
    };

    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "admin\n").unwrap();
    let cache = dir.path().join("cache").display().to_string();
    let args: Vec<String> = [
        "webdav",
        "--listen",
        "127.0.0.1:0",
        "--url",
        &svc,
        "--user",
        "admin",
        "--password-file",
        pw.to_str().unwrap(),
        "--cache-dir",
        &cache,
    ]
    .map(String::from)
    .to_vec();
    let spawn = |d: tempfile::TempDir| DavServer::spawn(d, &args, "WebDAV endpoint: ");
    let mut dav = spawn(tempfile::tempdir().unwrap());
    let small = dir.path().join("small");
    std::fs::write(&small, b"version one\n").unwrap();
    let big = dir.path().join("big");
    std::fs::write(&big, bytes(40 << 20, 7)).unwrap();
    let put = curl(&[
        "-u",
        "admin:admin",
        "-T",
        small.to_str().unwrap(),
        &dav.at("big.bin"),
    ]);
    assert_eq!(put.status, 201, "{}", dav.log());

    // A slow PUT of 40 MiB: past 16 MiB its upload starts (checkOut).
    let mut slow = Command::new("curl")
        .args([
            "-s",
            "-u",
            "admin:admin",
            "-o",
            "/dev/null",
            "--limit-rate",
            "4M",
            "-T",
        ])
        .arg(&big)
        .arg(dav.at("big.bin"))
        .spawn()
        .unwrap();
    let mut started = false;
    for _ in 0..150 {
        if checked_out() {
            started = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(started, "the upload started during the PUT: {}", dav.log());
    dav.kill9();
    let _ = slow.kill();
    let _ = slow.wait();
    assert!(checked_out(), "the crash left the checkout");

    let dav = spawn(tempfile::tempdir().unwrap());
    let got = curl(&["-u", "admin:admin", &dav.at("big.bin")]);
    assert_eq!(got.body, b"version one\n");
    let mut cancelled = false;
    for _ in 0..100 {
        if !checked_out() {
            cancelled = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        cancelled,
        "the restart cancelled the checkout: {}",
        dav.log()
    );
}

/// Six clients PUT one new name at once, each body at 4 MB/s (so they
/// overlap for a second and a half), three times: every PUT succeeds, the
/// document holds one body whole, and no conflict copy appears. Before,
/// the bodies mixed in one cache file, a second createDocument met the
/// first, and a PUT could answer 403.
#[test]
fn puts_of_one_new_name_at_once_leave_one_whole_body() {
    let s = DavServer::embedded(&[]);
    let bodies: Vec<_> = (0..6u64)
        .map(|k| {
            let p = s.dir.path().join(format!("body{k}"));
            std::fs::write(&p, bytes(6_000_000, k + 40)).unwrap();
            p
        })
        .collect();
    for round in 0..3 {
        let name = format!("same{round}.bin");
        let puts: Vec<_> = bodies
            .iter()
            .map(|p| {
                let (p, url) = (p.to_str().unwrap().to_string(), s.at(&name));
                std::thread::spawn(move || curl(&["--limit-rate", "4M", "-T", &p, &url]).status)
            })
            .collect();
        for t in puts {
            let status = t.join().unwrap();
            assert!(status == 201 || status == 204, "PUT: {status}\n{}", s.log());
        }
        let got = curl(&[&s.at(&name)]).body;
        assert!(
            bodies.iter().any(|p| std::fs::read(p).unwrap() == got),
            "{name}: one PUT's body, whole"
        );
    }
    let listing = curl(&["-X", "PROPFIND", "-H", "Depth: 1", &s.url]).text();
    let copies: Vec<_> = listing
        .split("<D:href>")
        .filter(|h| h.contains("conflict"))
        .map(|h| h.split('<').next().unwrap_or(""))
        .collect();
    assert!(copies.is_empty(), "conflict copies: {copies:?}");
    assert!(!s.log().contains("exists on the server"), "{}", s.log());
}
