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
