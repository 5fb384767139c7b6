//! Helpers shared by the WebDAV tests: starting endpoints, running litmus
//! and parsing its summary lines.
#![allow(dead_code)]

use std::process::Command;
use std::sync::Arc;

use cmisfs::webdav::mem::MemBackend;
use cmisfs::webdav::{serve, AuthConfig, Backends, RunningWebdav, WebdavOptions};

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub fn init_log() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_test_writer()
        .try_init();
}

/// The endpoint over the in-memory backend, on a free loopback port.
pub async fn serve_memory() -> RunningWebdav {
    init_log();
    let opts = WebdavOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        auth: AuthConfig::None,
        state_dir: None,
    };
    serve(opts, Backends::Shared(Arc::new(MemBackend::new())))
        .await
        .expect("webdav endpoint")
}

/// Expected number of tests in each litmus 0.13 group.
pub const LITMUS_GROUPS: [(&str, u32); 5] = [
    ("basic", 16),
    ("copymove", 13),
    ("props", 30),
    ("locks", 41),
    ("http", 4),
];

/// Runs every litmus group against `url`; returns its output.
pub fn run_litmus(url: &str) -> String {
    let out = Command::new("litmus")
        .arg("-k")
        .arg(url)
        .env("TESTS", "basic copymove props locks http")
        .output()
        .expect("litmus is not installed: run tests/setup-webdav-tools.sh");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    println!("{text}");
    text
}

/// (group, tests run, passed, failed) from litmus's summary lines, e.g.
/// "<- summary for `basic': of 16 tests run: 16 passed, 0 failed. 100.0%".
pub fn litmus_summary(out: &str) -> Vec<(String, u32, u32, u32)> {
    let mut v = Vec::new();
    for line in out.lines() {
        let Some(rest) = line.split("summary for `").nth(1) else {
            continue;
        };
        let Some((group, rest)) = rest.split_once('\'') else {
            continue;
        };
        let nums: Vec<u32> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect();
        if nums.len() >= 3 {
            v.push((group.to_string(), nums[0], nums[1], nums[2]));
        }
    }
    v
}

pub fn assert_litmus_all_passed(out: &str) {
    let summary = litmus_summary(out);
    let mut total = 0;
    for (group, expected) in LITMUS_GROUPS {
        let Some((_, run, passed, failed)) = summary.iter().find(|(g, ..)| g == group) else {
            panic!("litmus group {group} did not report a summary:\n{out}");
        };
        assert_eq!(
            (*run, *passed, *failed),
            (expected, expected, 0),
            "litmus group {group}: {run} run, {passed} passed, {failed} failed (expected {expected} of {expected})"
        );
        total += passed;
    }
    assert_eq!(total, 104);
}

/// `cmisfs webdav` (or another cmisfs command that serves WebDAV) running
/// as a child process, on a free loopback port, with its files in a
/// temporary directory. Dropping it sends SIGTERM (then SIGKILL after 25 s).
pub struct DavServer {
    child: std::process::Child,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl DavServer {
    /// `cmisfs webdav` on the embedded repository (data and cache in a
    /// fresh temporary directory), plus `extra` arguments.
    pub fn embedded(extra: &[&str]) -> DavServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let cache = dir.path().join("cache");
        let mut args: Vec<String> = vec![
            "webdav".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--data".into(),
            data.display().to_string(),
            "--cache-dir".into(),
            cache.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        DavServer::spawn(dir, &args, "WebDAV endpoint: ")
    }

    /// Runs cmisfs with `args` and waits for a line (stdout or stderr)
    /// containing `marker` followed by the endpoint's URL.
    pub fn spawn(dir: tempfile::TempDir, args: &[String], marker: &str) -> DavServer {
        use std::io::BufRead;
        let log = dir.path().join("cmisfs.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_cmisfs"))
            .args(args)
            .env("CMISFS_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start cmisfs");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let url = loop {
            // The marker may come on stderr (mount prints there).
            if let Ok(text) = std::fs::read_to_string(&log) {
                if let Some(l) = text.lines().find(|l| l.contains(marker)) {
                    break l.split(marker).nth(1).unwrap_or("").trim().to_string();
                }
            }
            if let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(100)) {
                if line.contains(marker) {
                    break line.split(marker).nth(1).unwrap_or("").trim().to_string();
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "cmisfs exited ({status}) before serving:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "cmisfs did not start serving in time:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        DavServer { child, url, dir }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("cmisfs.log")).unwrap_or_default()
    }

    /// `path` (no leading slash) under the endpoint.
    pub fn at(&self, path: &str) -> String {
        format!("{}/{}", self.url.trim_end_matches('/'), path)
    }

    /// SIGKILL (a crash): nothing is flushed.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait (uploads finish; files the repository refuses
    /// stay in the journal and do not hold it up), SIGKILL after 25 s.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_secs(25) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        eprintln!("cmisfs did not stop in 25 s; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for DavServer {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// A curl reply: status, headers (lower-case names), body.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).to_string()
    }
}

/// Runs curl with `args` (plus -s and the bits to capture the reply).
pub fn curl(args: &[&str]) -> Reply {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = dir.path().join("body");
    let heads = dir.path().join("headers");
    let out = Command::new("curl")
        .arg("-s")
        .arg("-o")
        .arg(&body)
        .arg("-D")
        .arg(&heads)
        .arg("-w")
        .arg("%{http_code}")
        .args(args)
        .output()
        .expect("curl is not installed");
    let status = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    let headers = std::fs::read_to_string(&heads)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: std::fs::read(&body).unwrap_or_default(),
    }
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Whether `tool` is on PATH (the tests fail, not skip, when it is not).
pub fn require(tool: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{tool} is not installed: run tests/setup-webdav-tools.sh"
    );
}
