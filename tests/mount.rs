//! `cmisfs mount` as a child process on a real FUSE mount (embedded
//! repository, data in a tempdir): ordinary tools, save-by-rename, links,
//! flush at unmount, kill -9 recovery and `--daemon`.
//!
//! Every mount is unmounted in `Drop` (`fusermount3 -u`, then `-uz`) and
//! its process killed by PID, so a failing test leaves no dead mount.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_cmisfs")
}

/// Mount point, repository data and cache dir under `base`.
fn paths(base: &Path) -> (PathBuf, PathBuf, PathBuf) {
    (base.join("mnt"), base.join("data"), base.join("cache"))
}

/// `cmisfs mount MP --data DATA --cache-dir CACHE`, on the embedded
/// repository whatever the environment says.
fn mount_cmd(mp: &Path, data: &Path, cache: &Path) -> Command {
    let mut c = Command::new(bin());
    c.arg("mount")
        .arg(mp)
        .arg("--data")
        .arg(data)
        .arg("--cache-dir")
        .arg(cache)
        .env_remove("CMISFS_URL");
    c
}

fn is_mounted(mp: &Path) -> bool {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let mp = mp.display().to_string();
    mounts
        .lines()
        .any(|l| l.split(' ').nth(1) == Some(mp.as_str()))
}

struct Mount {
    child: Option<Child>,
    mp: PathBuf,
}

impl Mount {
    fn start(mp: &Path, data: &Path, cache: &Path, extra: &[&str]) -> Mount {
        std::fs::create_dir_all(mp).unwrap();
        let log = mp.with_extension("log");
        let child = mount_cmd(mp, data, cache)
            .args(if extra.contains(&"--write-back-delay") {
                &[][..]
            } else {
                &["--write-back-delay", "200ms"][..]
            })
            .args(["--metadata-ttl", "1s"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut m = Mount {
            child: Some(child),
            mp: mp.to_path_buf(),
        };
        let t = Instant::now();
        while !is_mounted(mp) {
            if let Some(st) = m.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!(
                    "cmisfs exited ({st}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "mount did not come up: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        m
    }

    fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .arg(format!("-{sig}"))
                .arg(c.id().to_string())
                .status();
        }
    }

    /// SIGINT: flush, unmount, exit 0.
    fn stop(mut self) {
        self.signal("INT");
        let mut c = self.child.take().unwrap();
        let t = Instant::now();
        loop {
            if let Some(st) = c.try_wait().unwrap() {
                assert!(st.success(), "cmisfs exited with {st}");
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(60), "cmisfs did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!is_mounted(&self.mp));
    }

    fn kill9(mut self) {
        self.signal("KILL");
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
        unmount(&self.mp);
    }
}

fn unmount(mp: &Path) {
    if is_mounted(mp) {
        let ok = Command::new("fusermount3")
            .arg("-u")
            .arg(mp)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("fusermount3").arg("-uz").arg(mp).status();
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        unmount(&self.mp);
    }
}

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ino_nlink(p: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).unwrap();
    (m.ino(), m.nlink())
}

#[test]
fn tools_on_a_mount_and_data_survives_unmount() {
    let tmp = tempfile::tempdir().unwrap();
    let (mp, data, cache) = paths(tmp.path());
    let m = Mount::start(&mp, &data, &cache, &[]);
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("sub/deeper")).unwrap();
    std::fs::write(src.join("empty"), b"").unwrap();
    std::fs::write(src.join("sub/ünïcödé.txt"), "unicode").unwrap();
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(src.join("sub/deeper/big.bin"), &big).unwrap();
    sh(&format!("cp -a {}/. {}/", src.display(), mp.display()));
    sh(&format!("diff -r {} {}", src.display(), mp.display()));
    // sed -i: temp file renamed over the document.
    std::fs::write(mp.join("text.txt"), "one two\n").unwrap();
    sh(&format!(
        "sed -i s/two/three/ {}",
        mp.join("text.txt").display()
    ));
    assert_eq!(
        std::fs::read_to_string(mp.join("text.txt")).unwrap(),
        "one three\n"
    );
    // mv, mkdir, rm, rmdir.
    sh(&format!(
        "cd {} && mkdir d1 && mv text.txt d1/moved.txt && mkdir gone && rmdir gone && cp empty e2 && rm e2",
        mp.display()
    ));
    assert_eq!(
        std::fs::read_to_string(mp.join("d1/moved.txt")).unwrap(),
        "one three\n"
    );
    // ln: one inode, nlink 2.
    sh(&format!(
        "ln {}/d1/moved.txt {}/sub/moved.txt",
        mp.display(),
        mp.display()
    ));
    let (i1, n1) = ino_nlink(&mp.join("d1/moved.txt"));
    let (i2, _) = ino_nlink(&mp.join("sub/moved.txt"));
    assert_eq!(i1, i2);
    assert_eq!(n1, 2);
    // Uploaded after the write-back delay: properties as xattrs.
    std::thread::sleep(Duration::from_secs(2));
    // touch -d keeps its date.
    sh(&format!(
        "touch -d 2001-02-03 {}",
        mp.join("empty").display()
    ));
    // (python3 rather than getfattr: the `attr` package may be missing.)
    let objid = sh(&format!(
        "python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], \"user.cmis.objectId\").decode())' {}",
        mp.join("sub/deeper/big.bin").display()
    ));
    assert!(!objid.is_empty());
    m.stop();

    // A second mount (content cache emptied at start, state store kept)
    // reads everything from the server and keeps the mtime we set.
    let m = Mount::start(&mp, &data, &cache, &[]);
    std::fs::remove_file(mp.join("d1/moved.txt")).ok();
    std::fs::write(mp.join("d1/moved.txt"), "one three\n").ok();
    std::fs::remove_file(mp.join("sub/moved.txt")).ok();
    sh(&format!(
        "diff -r {} {} -x d1 -x text.txt",
        src.display(),
        mp.display()
    ));
    assert_eq!(std::fs::read(mp.join("sub/deeper/big.bin")).unwrap(), big);
    let out = sh(&format!("ls -l --time-style=+%F {}", mp.display()));
    assert!(out.contains("2001-02-03"), "{out}");
    m.stop();
}

#[test]
fn kill_9_after_cp_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (mp, data, cache) = paths(tmp.path());
    let content: Vec<u8> = (0..5 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    let src = tmp.path().join("five.bin");
    std::fs::write(&src, &content).unwrap();
    let m = Mount::start(&mp, &data, &cache, &["--write-back-delay", "60s"]);
    sh(&format!("cp {} {}/", src.display(), mp.display()));
    m.kill9();
    // Remount with the same cache: the journal is replayed.
    let m = Mount::start(&mp, &data, &cache, &[]);
    std::thread::sleep(Duration::from_secs(2));
    m.stop();
    // A fresh cache shows what the server has.
    let m = Mount::start(&mp, &data, &tmp.path().join("fresh"), &[]);
    assert_eq!(std::fs::read(mp.join("five.bin")).unwrap(), content);
    m.stop();
}

#[test]
fn daemon_mode_and_external_unmount() {
    let tmp = tempfile::tempdir().unwrap();
    let (mp, data, cache) = paths(tmp.path());
    std::fs::create_dir_all(&mp).unwrap();
    let out = mount_cmd(&mp, &data, &cache)
        .arg("--daemon")
        .output()
        .unwrap();
    struct Guard(PathBuf);
    impl Drop for Guard {
        fn drop(&mut self) {
            unmount(&self.0);
        }
    }
    let _g = Guard(mp.clone());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(is_mounted(&mp), "mounted when --daemon returns");
    std::fs::write(mp.join("d.txt"), "daemon").unwrap();
    // External unmount: the daemon flushes and exits.
    sh(&format!("fusermount3 -u {}", mp.display()));
    std::thread::sleep(Duration::from_secs(3));
    let m = Mount::start(&mp, &data, &tmp.path().join("fresh"), &[]);
    assert_eq!(std::fs::read_to_string(mp.join("d.txt")).unwrap(), "daemon");
    m.stop();
}

#[test]
fn unreachable_server_is_one_error_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .arg("mount")
        .arg(tmp.path())
        .args(["--url", "http://127.0.0.1:9/browser", "--timeout", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cmisfs: error:"), "{err}");
    assert!(!is_mounted(tmp.path()));
}

#[test]
fn rsync_twice_transfers_nothing_and_git_works() {
    let tmp = tempfile::tempdir().unwrap();
    let (mp, data, cache) = paths(tmp.path());
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("a/b")).unwrap();
    std::fs::write(src.join("a/b/x.txt"), "hi").unwrap();
    std::fs::write(src.join("empty"), "").unwrap();
    std::fs::write(src.join("ünï.txt"), "ü").unwrap();
    std::fs::write(src.join("a/big"), vec![9u8; 2_000_000]).unwrap();
    let m = Mount::start(&mp, &data, &cache, &[]);
    let (s, d) = (src.display(), mp.join("rs").display().to_string());
    sh(&format!("rsync -a {s}/ {d}/"));
    std::thread::sleep(Duration::from_secs(2));
    let stats = sh(&format!("rsync -a --stats {s}/ {d}/"));
    assert!(
        stats.contains("Number of regular files transferred: 0"),
        "{stats}"
    );
    // A git repository in the mount.
    let g = mp.join("g");
    sh(&format!(
        "git init -q {g} && cd {g} && echo one > f && git add f && \
         git -c user.name=t -c user.email=t@t commit -qm one && \
         echo two >> f && git -c user.name=t -c user.email=t@t commit -qam two && \
         test -z \"$(git status --porcelain)\" && git fsck 2>/dev/null",
        g = g.display()
    ));
    m.stop();
    // After a remount (same cache: the state store keeps the mtimes).
    let m = Mount::start(&mp, &data, &cache, &[]);
    let stats = sh(&format!("rsync -a --stats {s}/ {d}/"));
    assert!(
        stats.contains("Number of regular files transferred: 0"),
        "{stats}"
    );
    sh(&format!("diff -r {s} {d}"));
    sh(&format!(
        "cd {} && test -z \"$(git status --porcelain)\" && git log --oneline | wc -l | grep -q 2",
        g.display()
    ));
    m.stop();
}

/// A mount point with files in it is refused (the mount would hide them)
/// unless `-o nonempty`; a dead mount left by a killed daemon is named as
/// such, with the command that clears it.
#[test]
fn non_empty_and_dead_mount_points_are_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let (mp, data, cache) = paths(tmp.path());
    std::fs::create_dir_all(&mp).unwrap();
    std::fs::write(mp.join("local.txt"), "mine").unwrap();
    let try_mount = |extra: &[&str]| {
        mount_cmd(&mp, &data, &cache)
            .args(extra)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = try_mount(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("is not empty") && err.contains("-o nonempty"),
        "{err}"
    );
    assert!(!is_mounted(&mp));

    // -o nonempty mounts over it; the local file is back after unmount.
    let m = Mount::start(&mp, &data, &cache, &["-o", "nonempty"]);
    assert!(!mp.join("local.txt").exists(), "hidden while mounted");
    m.signal("KILL");
    let mut m = m;
    if let Some(mut c) = m.child.take() {
        let _ = c.wait();
    }
    // The daemon is gone, the mount is not.
    assert!(is_mounted(&mp));
    let out = try_mount(&["-o", "nonempty"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("dead FUSE mount") && err.contains("fusermount3 -u"),
        "{err}"
    );
    drop(m);
    assert!(!is_mounted(&mp));
    assert_eq!(
        std::fs::read_to_string(mp.join("local.txt")).unwrap(),
        "mine"
    );
}

/// Two mounts cannot share a cache directory (one journal): the second
/// says so and names the option to change.
#[test]
fn a_cache_dir_in_use_is_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let (mp, data, cache) = paths(tmp.path());
    let m = Mount::start(&mp, &data, &cache, &[]);
    let mp2 = tmp.path().join("mnt2");
    std::fs::create_dir_all(&mp2).unwrap();
    let out = mount_cmd(&mp2, &tmp.path().join("data2"), &cache)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("another cmisfs process uses this cache directory")
            && err.contains("--cache-dir"),
        "{err}"
    );
    assert!(!is_mounted(&mp2));
    m.stop();
}
