//! Crash safety of `cmisfs repo` as a real process: kill -9 in the middle
//! of an upload leaves no half document, and everything committed before
//! survives.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn spawn(data: &std::path::Path, port: u16) -> (Server, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_cmisfs"))
        .args(["repo", "--data"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("CMISFS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/browser"))
            .basic_auth("admin", Some("admin"))
            .send()
            .await
        {
            if r.status().is_success() {
                let v: serde_json::Value =
                    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
                let info = v.as_object().unwrap().values().next().unwrap();
                return (server, info["rootFolderUrl"].as_str().unwrap().to_string());
            }
        }
        assert!(Instant::now() < deadline, "cmisfs repo did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn kill_mid_upload_leaves_no_half_document() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let (mut server, root_url) = spawn(&data, port).await;
    let http = reqwest::Client::new();
    // A committed document.
    let form = Form::new()
        .text("cmisaction", "createDocument")
        .text("propertyId[0]", "cmis:name")
        .text("propertyValue[0]", "kept.txt")
        .part(
            "content",
            Part::bytes(b"kept".to_vec()).file_name("kept.txt"),
        );
    let r = http
        .post(&root_url)
        .basic_auth("admin", Some("admin"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    // An upload whose body never ends: 1 MiB sent, then the server dies.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
    let form = Form::new()
        .text("cmisaction", "createDocument")
        .text("propertyId[0]", "cmis:name")
        .text("propertyValue[0]", "half.bin")
        .part("content", Part::stream(body).file_name("half.bin"));
    let req = http
        .post(&root_url)
        .basic_auth("admin", Some("admin"))
        .multipart(form)
        .send();
    let pending = tokio::spawn(req);
    for _ in 0..16 {
        tx.send(Ok(vec![1u8; 64 * 1024])).await.unwrap();
    }
    // Let the server write part of it to its temp file.
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    drop(tx);
    // The client sees an error or nothing; either way no document.
    let _ = pending.await;
    drop(server);

    let (_server, root_url) = spawn(&data, port).await;
    let get = |path: &str| {
        http.get(format!("{root_url}{path}"))
            .basic_auth("admin", Some("admin"))
            .send()
    };
    let r = get("/half.bin").await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let r = get("/kept.txt").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(&r.bytes().await.unwrap()[..], b"kept");
    // The partial upload's temp file is gone.
    let leftovers: Vec<_> = std::fs::read_dir(data.join("tmp")).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// An mpsc receiver as a stream (no tokio-stream dependency).
fn tokio_stream_from(
    rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
}

/// A second server on a data directory in use fails with one line that
/// says so, and leaves the first one's data alone.
#[tokio::test]
async fn a_data_dir_in_use_is_refused_clearly() {
    let data = tempfile::tempdir().unwrap();
    let (_first, root) = spawn(data.path(), free_port()).await;
    let out = Command::new(env!("CARGO_BIN_EXE_cmisfs"))
        .args(["repo", "--data"])
        .arg(data.path())
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("another cmisfs process serves this data directory") && err.contains("--data"),
        "{err}"
    );
    // The first server still answers.
    let r = reqwest::Client::new()
        .get(&root)
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}
