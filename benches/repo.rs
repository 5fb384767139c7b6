//! Benchmark of the embedded repository (`cmisfs repo`), over its Browser
//! binding on loopback, as a client sees it. Not a test: it prints numbers.
//!
//!     cargo bench --bench repo            # full size (1 GiB document, 10,000 children)
//!     CMISFS_BENCH_SCALE=0.1 cargo bench --bench repo   # a quick look
//!
//! Measures, in one run against a fresh data directory:
//! 1. documents created per second (small content, 4 concurrent clients);
//! 2. getChildren page latency in a 10,000-child folder (first, middle and
//!    last page of 100, and one page of 1,000);
//! 3. content GET throughput of a 1 GiB document with `curl`, as a ratio of
//!    `curl` reading a local file of the same size served over the same
//!    loopback by `python3 -m http.server`.
//!
//! It starts the `cmisfs` binary built with the bench profile as a child
//! process and stops it (by PID) at the end, also on failure.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures_util::stream;
use serde_json::Value;

const USER: &str = "admin";
const PASSWORD: &str = "admin";

/// Kills the child process when dropped, so a failed run leaves no server.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn scale() -> f64 {
    std::env::var("CMISFS_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|s: &f64| *s > 0.0 && *s <= 1.0)
        .unwrap_or(1.0)
}

struct Repo {
    http: reqwest::Client,
    repo_url: String,
    root_id: String,
}

impl Repo {
    async fn connect(base: &str) -> Result<Repo> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let repos: Value = loop {
            match http
                .get(format!("{base}/browser"))
                .basic_auth(USER, Some(PASSWORD))
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => {
                    break serde_json::from_slice(&r.bytes().await?)?
                }
                _ if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Ok(r) => bail!("cmisfs repo answered {}", r.status()),
                Err(e) => bail!("cmisfs repo did not start: {e}"),
            }
        };
        let info = repos
            .as_object()
            .and_then(|m| m.values().next())
            .context("no repository listed")?;
        Ok(Repo {
            http,
            repo_url: info["repositoryUrl"]
                .as_str()
                .context("no repositoryUrl")?
                .to_string(),
            root_id: info["rootFolderId"]
                .as_str()
                .context("no rootFolderId")?
                .to_string(),
        })
    }

    async fn post(&self, form: reqwest::multipart::Form) -> Result<Value> {
        let response = self
            .http
            .post(&self.repo_url)
            .basic_auth(USER, Some(PASSWORD))
            .multipart(form)
            .send()
            .await?;
        let status = response.status();
        let body: Value = serde_json::from_slice(&response.bytes().await?)?;
        if !status.is_success() {
            bail!("HTTP {status}: {body}");
        }
        Ok(body)
    }

    fn object_id(object: &Value) -> Result<String> {
        let props = &object["properties"]["cmis:objectId"];
        let id = props["value"]
            .as_str()
            .or_else(|| object["succinctProperties"]["cmis:objectId"].as_str())
            .context("reply has no cmis:objectId")?;
        Ok(id.to_string())
    }

    async fn create_folder(&self, parent: &str, name: &str) -> Result<String> {
        let form = reqwest::multipart::Form::new()
            .text("cmisaction", "createFolder")
            .text("objectId", parent.to_string())
            .text("propertyId[0]", "cmis:name")
            .text("propertyValue[0]", name.to_string())
            .text("propertyId[1]", "cmis:objectTypeId")
            .text("propertyValue[1]", "cmis:folder");
        Self::object_id(&self.post(form).await?)
    }

    async fn create_document(
        &self,
        parent: &str,
        name: &str,
        body: reqwest::Body,
        len: u64,
    ) -> Result<String> {
        let part = reqwest::multipart::Part::stream_with_length(body, len)
            .file_name(name.to_string())
            .mime_str("application/octet-stream")?;
        let form = reqwest::multipart::Form::new()
            .text("cmisaction", "createDocument")
            .text("objectId", parent.to_string())
            .text("propertyId[0]", "cmis:name")
            .text("propertyValue[0]", name.to_string())
            .text("propertyId[1]", "cmis:objectTypeId")
            .text("propertyValue[1]", "cmis:document")
            .part("content", part);
        Self::object_id(&self.post(form).await?)
    }

    fn content_url(&self, id: &str) -> String {
        format!(
            "{}?cmisselector=content&objectId={}",
            self.repo_url,
            urlencode(id)
        )
    }

    async fn children_page(&self, folder: &str, max: u64, skip: u64) -> Result<usize> {
        let url = format!(
            "{}?cmisselector=children&objectId={}&maxItems={max}&skipCount={skip}",
            self.repo_url,
            urlencode(folder)
        );
        let v = self
            .http
            .get(url)
            .basic_auth(USER, Some(PASSWORD))
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let v: Value = serde_json::from_slice(&v)?;
        Ok(v["objects"].as_array().map(Vec::len).unwrap_or(0))
    }
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Creates `count` small documents in `folder` with `concurrency` clients;
/// returns the elapsed time.
async fn create_many(
    repo: &Repo,
    folder: &str,
    prefix: &str,
    count: usize,
    concurrency: usize,
) -> Result<Duration> {
    use futures_util::StreamExt;
    let start = Instant::now();
    let results: Vec<Result<String>> = stream::iter(0..count)
        .map(|i| async move {
            let data = format!("document {i}\n");
            let len = data.len() as u64;
            repo.create_document(folder, &format!("{prefix}-{i:05}.txt"), data.into(), len)
                .await
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for r in results {
        r?;
    }
    Ok(start.elapsed())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Times `curl -o /dev/null URL`, returning (seconds, bytes).
fn curl_time(url: &str, auth: bool) -> Result<(f64, u64)> {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-fsS",
        "-o",
        "/dev/null",
        "-w",
        "%{time_total} %{size_download}",
    ]);
    if auth {
        cmd.args(["-u", &format!("{USER}:{PASSWORD}")]);
    }
    let out = cmd
        .arg(url)
        .output()
        .context("running curl (apt-get install curl)")?;
    if !out.status.success() {
        bail!(
            "curl {url} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut parts = text.split_whitespace();
    let secs: f64 = parts.next().context("curl output")?.parse()?;
    let bytes: u64 = parts.next().context("curl output")?.parse()?;
    Ok((secs, bytes))
}

/// Writes a file of `len` pseudo-random bytes without holding it in memory.
fn write_big_file(path: &Path, len: u64) -> Result<()> {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut left = len;
    while left > 0 {
        for b in block.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n])?;
        left -= n as u64;
    }
    f.flush()?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let scale = scale();
    let n_create = ((2000.0 * scale) as usize).max(50);
    let n_children = ((10000.0 * scale) as usize).max(200);
    let big_len: u64 = ((1024.0 * scale) as u64).max(16) << 20;

    let work = tempfile::tempdir()?;
    let data = work.path().join("data");
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let server = Command::new(env!("CARGO_BIN_EXE_cmisfs"))
        .args(["repo", "--data"])
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting cmisfs repo")?;
    let _server = ChildGuard(server);
    let repo = Repo::connect(&base).await?;
    println!("cmisfs repo benchmark (scale {scale}), server {base}");

    // 1. Creation rate.
    let folder = repo.create_folder(&repo.root_id, "create-rate").await?;
    let elapsed = create_many(&repo, &folder, "doc", n_create, 4).await?;
    let create_rate = n_create as f64 / elapsed.as_secs_f64();

    // 2. getChildren latency on a big folder.
    let big = repo.create_folder(&repo.root_id, "big-folder").await?;
    create_many(&repo, &big, "child", n_children, 4).await?;
    let mut page_rows = Vec::new();
    for (label, max, skip) in [
        ("first page of 100", 100u64, 0u64),
        ("middle page of 100", 100, n_children as u64 / 2),
        ("last page of 100", 100, n_children as u64 - 100),
        ("first page of 1000", 1000, 0),
    ] {
        let mut times = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            let got = repo.children_page(&big, max, skip).await?;
            times.push(t.elapsed());
            if got as u64 != max {
                bail!("{label}: expected {max} children, got {got}");
            }
        }
        page_rows.push((label, median(times)));
    }

    // 3. Content GET throughput vs a static file over the same loopback.
    let big_file = work.path().join("static").join("big.bin");
    std::fs::create_dir_all(big_file.parent().unwrap_or(work.path()))?;
    write_big_file(&big_file, big_len)?;
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
        tokio::fs::File::open(&big_file).await?,
        256 * 1024,
    ));
    let doc = repo
        .create_document(&repo.root_id, "big.bin", body, big_len)
        .await?;
    let static_port = free_port()?;
    let http_server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &static_port.to_string(),
        ])
        .current_dir(big_file.parent().unwrap_or(work.path()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting python3 -m http.server")?;
    let _http_server = ChildGuard(http_server);
    let static_url = format!("http://127.0.0.1:{static_port}/big.bin");
    let deadline = Instant::now() + Duration::from_secs(10);
    while curl_time(&static_url, false).is_err() {
        if Instant::now() > deadline {
            bail!("python3 -m http.server did not start");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut cmis_best = f64::MAX;
    let mut static_best = f64::MAX;
    for _ in 0..3 {
        let (t, n) = curl_time(&repo.content_url(&doc), true)?;
        if n != big_len {
            bail!("content GET returned {n} bytes, expected {big_len}");
        }
        cmis_best = cmis_best.min(t);
        let (t, n) = curl_time(&static_url, false)?;
        if n != big_len {
            bail!("static GET returned {n} bytes, expected {big_len}");
        }
        static_best = static_best.min(t);
    }
    let mib = big_len as f64 / (1 << 20) as f64;

    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| documents created per second ({n_create} docs, 4 clients) | {create_rate:.0} |");
    for (label, t) in &page_rows {
        println!(
            "| getChildren {label}, {n_children}-child folder (median of 10) | {:.1} ms |",
            t.as_secs_f64() * 1000.0
        );
    }
    println!(
        "| content GET {mib:.0} MiB, curl, best of 3 | {:.0} MiB/s |",
        mib / cmis_best
    );
    println!(
        "| static file GET {mib:.0} MiB (python3 -m http.server), curl, best of 3 | {:.0} MiB/s |",
        mib / static_best
    );
    println!(
        "| content GET as a ratio of the static file | {:.2}x |",
        static_best / cmis_best
    );
    Ok(())
}
