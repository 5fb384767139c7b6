//! Helpers for the tool-level FUSE tests (tests/mount_tools.rs).
//!
//! - [`Mount`]: a guard around `cmisfs mount MOUNTPOINT` started as a child
//!   process with its own `--data` and `--cache-dir`. It waits until the
//!   kernel shows the mount, and on drop unmounts (`fusermount3 -u`, then
//!   `-uz`) and kills the child by PID, so a failed test never leaves a dead
//!   mount behind.
//! - [`Repo`]: a guard around `cmisfs repo` as a separate process (for
//!   fault injection and for mounting with `--url`).
//! - [`tool`]: finds an external program or fails loudly (the tests never
//!   pass because a tool is missing; tests/setup-fuse-tools.sh installs them).
//!
//! Local mode: with `CMISFS_MOUNT_TEST_LOCAL=1` a [`Mount`] is a plain
//! directory (under its data dir, so a "remount" with the same data sees the
//! same tree). It exists only to prove the suite itself before the mount is
//! ready; it is refused under CI.

#![allow(dead_code)]

use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The cmisfs binary under test. `CMISFS_MOUNT_TEST_BIN` replaces it for
/// `mount` (a stand-in, to prove the guard against another FUSE file
/// system while developing the suite; refused under CI).
pub const CMISFS: &str = env!("CARGO_BIN_EXE_cmisfs");

fn mount_binary() -> String {
    match std::env::var("CMISFS_MOUNT_TEST_BIN") {
        Ok(b) if !b.is_empty() => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CMISFS_MOUNT_TEST_BIN is for developing the suite; CI must test cmisfs");
            }
            b
        }
        _ => CMISFS.to_string(),
    }
}

/// True when the suite runs against plain directories (self-test only).
pub fn local_mode() -> bool {
    let local = std::env::var("CMISFS_MOUNT_TEST_LOCAL").is_ok_and(|v| v == "1");
    if local && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "CMISFS_MOUNT_TEST_LOCAL=1 is for developing the suite; CI must test the real mount"
        );
    }
    local
}

/// The path of an external program: PATH, then ~/.cargo/bin. Panics with a
/// hint when it is missing.
pub fn tool(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(c) = cargo_home {
        dirs.push(c.join("bin"));
    }
    for d in dirs {
        let p = d.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("required tool `{name}` not found (run tests/setup-fuse-tools.sh)");
}

/// Runs a command, panics with its output unless it succeeds; returns stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        panic!(
            "{cmd:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            tail(&stdout, 4000),
            tail(&String::from_utf8_lossy(&out.stderr), 4000)
        );
    }
    stdout
}

/// Shorthand: `sh -c SCRIPT` in `dir`, must succeed.
pub fn sh(dir: &Path, script: &str) -> String {
    run(Command::new("sh").arg("-c").arg(script).current_dir(dir))
}

pub fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// A free TCP port on loopback (a small race with other binders; fine here).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on loopback")
}

fn read_log(path: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    tail(&s, 6000).to_string()
}

fn send_signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// Is `path` a mount point in this mount namespace (per /proc/self/mountinfo)?
pub fn is_mounted(path: &Path) -> bool {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    let want = path.to_string_lossy();
    // Field 5 is the mount point, with spaces etc. octal-escaped.
    info.lines().any(|l| {
        l.split(' ')
            .nth(4)
            .is_some_and(|mp| unescape_mountinfo(mp) == want)
    })
}

fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 4 <= b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = u32::from(b[i + 1] - b'0') * 64
                + u32::from(b[i + 2] - b'0') * 8
                + u32::from(b[i + 3] - b'0');
            out.push(v as u8);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where a mount gets its content from.
#[derive(Clone, Debug)]
pub enum Backend {
    /// The repository embedded in the mount process (data under `--data`).
    Embedded,
    /// A separately running server.
    Url {
        url: String,
        user: String,
        password_file: PathBuf,
    },
}

/// Settings for one mount.
#[derive(Clone, Debug)]
pub struct MountOptions {
    pub backend: Backend,
    /// `--data` (the embedded repository's data; in local mode the tree).
    pub data: PathBuf,
    pub cache_dir: PathBuf,
    /// Extra arguments, e.g. `["-o", "allow_other"]`.
    pub extra: Vec<String>,
}

impl MountOptions {
    /// An embedded-repository mount with data and cache under `base`.
    pub fn embedded(base: &Path) -> MountOptions {
        MountOptions {
            backend: Backend::Embedded,
            data: base.join("data"),
            cache_dir: base.join("cache"),
            extra: Vec::new(),
        }
    }

    pub fn arg(mut self, a: &str) -> MountOptions {
        self.extra.push(a.to_string());
        self
    }
}

/// A running `cmisfs mount`; unmounted and killed on drop.
pub struct Mount {
    mountpoint: PathBuf,
    child: Option<Child>,
    log: PathBuf,
    pub opts: MountOptions,
}

impl Mount {
    /// Mounts on a fresh directory `mnt-N` beside `opts.data` and waits until
    /// the mount is ready (30 s at most).
    pub fn start(opts: MountOptions) -> Mount {
        fs::create_dir_all(&opts.data).expect("create data dir");
        fs::create_dir_all(&opts.cache_dir).expect("create cache dir");
        let base = opts
            .data
            .parent()
            .unwrap_or(Path::new("/tmp"))
            .to_path_buf();
        let mut n = 0;
        let (mountpoint, log) = loop {
            // Never reuse a number: each mount keeps its own log.
            let mp = base.join(format!("mnt-{n}"));
            let log = base.join(format!("mount-{n}.log"));
            if !mp.exists() && !log.exists() {
                break (mp, log);
            }
            n += 1;
        };
        if local_mode() {
            let tree = opts.data.join("local-tree");
            fs::create_dir_all(&tree).expect("create local tree");
            return Mount {
                mountpoint: tree,
                child: None,
                log,
                opts,
            };
        }
        tool("fusermount3");
        fs::create_dir_all(&mountpoint).expect("create mount point");
        let mut cmd = Command::new(mount_binary());
        cmd.arg("mount").arg(&mountpoint);
        if let Backend::Url {
            url,
            user,
            password_file,
        } = &opts.backend
        {
            cmd.arg("--url")
                .arg(url)
                .arg("--user")
                .arg(user)
                .arg("--password-file")
                .arg(password_file);
        }
        if let Backend::Embedded = opts.backend {
            cmd.arg("--data").arg(&opts.data);
        }
        cmd.arg("--cache-dir")
            .arg(&opts.cache_dir)
            .args(&opts.extra);
        let logf = fs::File::create(&log).expect("create mount log");
        let logf2 = logf.try_clone().expect("dup mount log");
        cmd.stdin(Stdio::null())
            .env("NO_COLOR", "1")
            .stdout(Stdio::from(logf))
            .stderr(Stdio::from(logf2))
            .env(
                "CMISFS_LOG",
                std::env::var("CMISFS_LOG").unwrap_or_else(|_| "info".into()),
            );
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CMISFS} mount: {e}"));
        let mut m = Mount {
            mountpoint,
            child: Some(child),
            log,
            opts,
        };
        m.wait_ready();
        m
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    panic!(
                        "cmisfs mount exited before the mount was ready ({status}); log:\n{}",
                        read_log(&self.log)
                    );
                }
            }
            if is_mounted(&self.mountpoint) && fs::metadata(&self.mountpoint).is_ok() {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "mount at {} not ready after 30 s; log:\n{}",
                    self.mountpoint.display(),
                    read_log(&self.log)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The root of the mounted tree.
    pub fn path(&self) -> &Path {
        &self.mountpoint
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The tail of the daemon's log (for failure messages).
    pub fn log(&self) -> String {
        read_log(&self.log)
    }

    /// Clean unmount: `fusermount3 -u` (the daemon flushes and exits), waits
    /// up to `timeout` for the daemon and returns its exit status.
    pub fn unmount(mut self, timeout: Duration) -> Option<ExitStatus> {
        let child = self.child.take()?;
        let status = unmount_and_wait(&self.mountpoint, child, timeout, &self.log);
        let _ = fs::remove_dir(&self.mountpoint);
        Some(status)
    }

    /// SIGKILL the daemon (no flush), then detach the dead mount.
    pub fn kill9(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            force_unmount(&self.mountpoint);
            let _ = fs::remove_dir(&self.mountpoint);
        }
    }
}

fn force_unmount(mp: &Path) {
    if !is_mounted(mp) {
        return;
    }
    let fm = tool("fusermount3");
    let _ = Command::new(&fm)
        .arg("-u")
        .arg(mp)
        .stderr(Stdio::null())
        .status();
    if is_mounted(mp) {
        let _ = Command::new(&fm)
            .arg("-uz")
            .arg(mp)
            .stderr(Stdio::null())
            .status();
    }
}

fn unmount_and_wait(mp: &Path, mut child: Child, timeout: Duration, log: &Path) -> ExitStatus {
    let fm = tool("fusermount3");
    let out = Command::new(&fm).arg("-u").arg(mp).output();
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                force_unmount(mp);
                return status;
            }
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            _ => {
                let _ = child.kill();
                let status = child.wait();
                force_unmount(mp);
                panic!(
                    "cmisfs mount did not exit within {timeout:?} after fusermount3 -u ({:?}); \
                     killed ({status:?}); log:\n{}",
                    out.map(|o| String::from_utf8_lossy(&o.stderr).into_owned()),
                    read_log(log)
                );
            }
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // Graceful first (the daemon flushes), then force.
        let fm = tool("fusermount3");
        let _ = Command::new(&fm)
            .arg("-u")
            .arg(&self.mountpoint)
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Ok(None) = child.try_wait() {
            send_signal(child.id(), "TERM");
            std::thread::sleep(Duration::from_millis(500));
        }
        let _ = child.kill();
        let _ = child.wait();
        force_unmount(&self.mountpoint);
        let _ = fs::remove_dir(&self.mountpoint);
        if std::thread::panicking() {
            eprintln!(
                "--- cmisfs mount log ({}):\n{}",
                self.log.display(),
                read_log(&self.log)
            );
        }
    }
}

/// A `cmisfs repo` server process; killed on drop.
pub struct Repo {
    child: Child,
    pub url: String,
    pub base: String,
    pub user: String,
    pub password_file: PathBuf,
    log: PathBuf,
}

impl Repo {
    /// Starts `cmisfs repo --data DATA --listen 127.0.0.1:PORT [extra...]`
    /// and waits until its Browser binding answers.
    pub fn start(dir: &Path, extra: &[&str]) -> Repo {
        let data = dir.join("repo-data");
        fs::create_dir_all(&data).expect("create repo data");
        let password_file = dir.join("repo-password");
        fs::write(&password_file, "admin\n").expect("write password file");
        let log = dir.join("repo.log");
        let port = free_port();
        let logf = fs::File::create(&log).expect("create repo log");
        let logf2 = logf.try_clone().expect("dup repo log");
        let child = Command::new(CMISFS)
            .arg("repo")
            .arg("--data")
            .arg(&data)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::from(logf))
            .stderr(Stdio::from(logf2))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start cmisfs repo: {e}"));
        let base = format!("http://127.0.0.1:{port}");
        let mut repo = Repo {
            child,
            url: format!("{base}/browser"),
            base,
            user: "admin".into(),
            password_file,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(s)) = repo.child.try_wait() {
                panic!("cmisfs repo exited ({s}); log:\n{}", read_log(&repo.log));
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return repo;
            }
            if Instant::now() > deadline {
                panic!("cmisfs repo not listening after 30 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn backend(&self) -> Backend {
        Backend::Url {
            url: self.url.clone(),
            user: self.user.clone(),
            password_file: self.password_file.clone(),
        }
    }

    /// `curl` against the server as admin; returns the body, panics on failure.
    pub fn curl(&self, args: &[&str]) -> String {
        run(Command::new(tool("curl"))
            .args(["-sS", "--fail-with-body", "-u", "admin:admin"])
            .args(args))
    }

    /// Changes the fault settings (`POST /admin/faults`, JSON).
    pub fn set_faults(&self, json: &str) {
        let url = format!("{}/admin/faults", self.base);
        self.curl(&[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "--data",
            json,
            &url,
        ]);
    }

    pub fn log(&self) -> String {
        read_log(&self.log)
    }
}

impl Drop for Repo {
    fn drop(&mut self) {
        send_signal(self.child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small deterministic pseudo-random byte source (xorshift), so generated
/// trees are reproducible without a dependency.
pub struct Bytes(u64);

impl Bytes {
    pub fn new(seed: u64) -> Bytes {
        Bytes(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn fill(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

/// Recursively compares two trees: same names, same kinds, same bytes.
/// Panics with the first difference (uses `diff -r` for the message).
pub fn assert_trees_equal(a: &Path, b: &Path) {
    let out = Command::new(tool("diff"))
        .arg("-r")
        .arg("-q")
        .arg(a)
        .arg(b)
        .output()
        .expect("run diff");
    assert!(
        out.status.success(),
        "diff -r {} {} found differences:\n{}{}",
        a.display(),
        b.display(),
        tail(&String::from_utf8_lossy(&out.stdout), 4000),
        tail(&String::from_utf8_lossy(&out.stderr), 2000)
    );
}

/// `getfattr -n NAME --only-values PATH`, or None when the attribute is absent.
pub fn xattr(path: &Path, name: &str) -> Option<String> {
    let out = Command::new(tool("getfattr"))
        .args(["--absolute-names", "--only-values", "-n", name])
        .arg(path)
        .output()
        .expect("run getfattr");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}
