//! `cmisfs mount`: connect (or start the embedded repository), mount with
//! FUSE, serve until SIGINT/SIGTERM or an external `fusermount3 -u`, then
//! upload what is still dirty (with a progress line) and unmount.
//!
//! `--daemon` re-executes this program without the flag, in its own process
//! group, with stdout as a readiness pipe: the child writes `ready` once
//! the mount is up (or `error: ...`), and the parent returns then. Logs of
//! the daemon go to `cmisfs.log` in the cache directory. Nothing forks a
//! running tokio runtime.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::cli::{ConnectArgs, MountArgs};
use cmisfs::cmis::{self, Auth, BindingChoice, ConnectOptions, HttpOptions};
use cmisfs::fuse::CmisFs;
use cmisfs::repo::{self, RepoConfig, RunningRepo};
use cmisfs::vfs::{Vfs, VfsConfig};

const CHILD_ENV: &str = "CMISFS_DAEMON_CHILD";

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

fn default_data_dir() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".local/share"))
        .join("cmisfs/repo")
}

/// The default cache dir: one per (repository, mountpoint), so that a
/// remount after a crash finds its journal.
fn default_cache_dir(args: &MountArgs, mountpoint: &Path) -> PathBuf {
    let source = match &args.connect.url {
        Some(u) => format!("{u}|{}", args.connect.repository.as_deref().unwrap_or("")),
        None => format!(
            "embedded|{}",
            args.vfs
                .data
                .clone()
                .unwrap_or_else(default_data_dir)
                .display()
        ),
    };
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{source}|{}", mountpoint.display()).as_bytes(),
    );
    let hex: String = d
        .as_ref()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| home().join(".cache"))
        .join("cmisfs")
        .join(hex)
}

pub async fn run(args: MountArgs) -> anyhow::Result<()> {
    let mountpoint = check_mountpoint(&args.mountpoint, &args.options)?;
    if let Some(listen) = args.webdav {
        let auth = crate::dav::auth_config(&args.webdav_auth, false, listen)?;
        if matches!(auth, cmisfs::webdav::AuthConfig::Passthrough) {
            bail!("mount --webdav serves the mount's own VFS: use --webdav-auth fixed or none");
        }
    }
    let cache_dir = args
        .vfs
        .cache_dir
        .clone()
        .unwrap_or_else(|| default_cache_dir(&args, &mountpoint));
    if args.daemon && std::env::var_os(CHILD_ENV).is_none() {
        return spawn_daemon(&cache_dir);
    }
    let child = std::env::var_os(CHILD_ENV).is_some();
    match serve(args, mountpoint, cache_dir, child).await {
        Ok(()) => Ok(()),
        Err(e) => {
            if child {
                let mut line = format!("error: {e}");
                for c in e.chain().skip(1) {
                    line.push_str(&format!(": {c}"));
                }
                println!("{line}");
                let _ = std::io::stdout().flush();
            }
            Err(e)
        }
    }
}

/// The mount point, canonical: an existing directory, empty unless
/// `-o nonempty` (mounting over files hides them, as rclone and
/// mountpoint-s3 also refuse), and not a dead mount.
fn check_mountpoint(path: &Path, options: &[String]) -> anyhow::Result<PathBuf> {
    const ENOTCONN: i32 = 107;
    let check = |r: std::io::Error, what: &str| -> anyhow::Error {
        if r.raw_os_error() == Some(ENOTCONN) {
            anyhow::anyhow!(
                "mount point {} is a dead FUSE mount (its daemon is gone): unmount it with `fusermount3 -u {}` first",
                path.display(),
                path.display()
            )
        } else {
            anyhow::Error::new(r).context(format!("mount point {}: {what}", path.display()))
        }
    };
    let mountpoint = std::fs::canonicalize(path).map_err(|e| check(e, "does not exist"))?;
    let meta = std::fs::metadata(&mountpoint).map_err(|e| check(e, "cannot read it"))?;
    if !meta.is_dir() {
        bail!("mount point {} is not a directory", mountpoint.display());
    }
    let mut entries = std::fs::read_dir(&mountpoint).map_err(|e| check(e, "cannot read it"))?;
    if entries.next().is_some() && !options.iter().any(|o| o == "nonempty") {
        bail!(
            "mount point {} is not empty: the mount would hide its files; choose an empty directory, or give -o nonempty",
            mountpoint.display()
        );
    }
    Ok(mountpoint)
}

fn spawn_daemon(cache_dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    std::fs::create_dir_all(cache_dir)
        .with_context(|| format!("cannot create {}", cache_dir.display()))?;
    let log_path = cache_dir.join("cmisfs.log");
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("cannot open {}", log_path.display()))?;
    let exe = std::env::current_exe().context("cannot find this program")?;
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--daemon")
        .collect();
    let mut child = std::process::Command::new(exe)
        .args(args)
        .env(CHILD_ENV, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .process_group(0)
        .spawn()
        .context("cannot start the daemon")?;
    let Some(out) = child.stdout.take() else {
        bail!("cannot read the daemon's readiness pipe");
    };
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).ok();
    let line = line.trim();
    if line == "ready" {
        println!(
            "cmisfs: mounted (daemon pid {}, log {})",
            child.id(),
            log_path.display()
        );
        return Ok(());
    }
    let _ = child.wait();
    match line.strip_prefix("error: ") {
        Some(msg) => bail!("{msg}"),
        None => bail!(
            "the daemon exited before the mount was ready; see {}",
            log_path.display()
        ),
    }
}

async fn serve(
    args: MountArgs,
    mountpoint: PathBuf,
    cache_dir: PathBuf,
    child: bool,
) -> anyhow::Result<()> {
    let opened = open_vfs(VfsSource {
        connect: &args.connect,
        data: args.vfs.data.clone(),
        cache_dir: cache_dir.clone(),
        cache_size: args.vfs.cache_size,
        write_back_delay: args.vfs.write_back_delay,
        metadata_ttl: args.vfs.metadata_ttl,
        read_only: args.vfs.read_only || args.options.iter().any(|o| o == "ro"),
        major_versions: args.vfs.major_versions,
        upload_chunk_size: args.vfs.upload_chunk_size,
        local_only: args.vfs.local_only.clone(),
    })
    .await?;
    let (vfs, embedded, options) = (opened.vfs, opened.embedded, opened.options);

    let mut config = fuser::Config::default();
    config.mount_options = vec![
        fuser::MountOption::FSName("cmisfs".into()),
        fuser::MountOption::Subtype("cmisfs".into()),
        fuser::MountOption::DefaultPermissions,
        fuser::MountOption::NoDev,
        fuser::MountOption::NoSuid,
    ];
    for o in &args.options {
        match o.as_str() {
            "allow_other" => config.acl = fuser::SessionACL::All,
            "allow_root" => config.acl = fuser::SessionACL::RootAndOwner,
            "ro" => config.mount_options.push(fuser::MountOption::RO),
            // nonempty: checked above; fusermount3 allows it anyway.
            "" | "rw" | "default_permissions" | "nonempty" => {}
            other => config
                .mount_options
                .push(fuser::MountOption::CUSTOM(other.into())),
        }
    }
    if vfs.config().read_only && !config.mount_options.contains(&fuser::MountOption::RO) {
        config.mount_options.push(fuser::MountOption::RO);
    }
    config.n_threads = Some(2);
    let fs = CmisFs::new(vfs.clone(), tokio::runtime::Handle::current());
    let mp = mountpoint.clone();
    let session = tokio::task::spawn_blocking(move || fuser::Session::new(fs, &mp, &config))
        .await?
        .with_context(|| format!("cannot mount on {}", mountpoint.display()))?;
    let bg = session.spawn().context("cannot start the FUSE session")?;
    // WebDAV requests and the change log invalidate the kernel's caches.
    cmisfs::fuse::spawn_invalidator(&vfs, bg.notifier())
        .context("cannot start the FUSE invalidation thread")?;
    let mp = mountpoint.clone();
    let _ = tokio::task::spawn_blocking(move || raise_read_ahead(&mp)).await;
    // The same VFS over WebDAV (--webdav ADDR).
    let dav = match args.webdav {
        Some(listen) => {
            // Checked in run() already, before mounting.
            let auth = crate::dav::auth_config(&args.webdav_auth, false, listen)?;
            let b = crate::dav::backend(vfs.clone(), args.webdav_auth.lock_checkout());
            let r = cmisfs::webdav::serve(
                cmisfs::webdav::WebdavOptions {
                    listen,
                    auth,
                    state_dir: Some(cache_dir.join("webdav")),
                },
                cmisfs::webdav::Backends::Shared(b),
            )
            .await?;
            eprintln!("cmisfs: WebDAV endpoint on {}", r.url());
            Some(r)
        }
        None => None,
    };
    tracing::info!("mounted {} on {}", options.url, mountpoint.display());
    if child {
        println!("ready");
        let _ = std::io::stdout().flush();
    } else {
        eprintln!(
            "cmisfs: mounted on {} (Ctrl-C to unmount)",
            mountpoint.display()
        );
    }

    // Wait for a signal or an external unmount.
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    let external = loop {
        tokio::select! {
            _ = int.recv() => break false,
            _ = term.recv() => break false,
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                if bg.guard.is_finished() {
                    break true;
                }
            }
        }
    };
    if external {
        tracing::info!("unmounted from outside; uploading what is left");
    } else {
        tracing::info!("stopping: uploading what is left, then unmounting");
    }
    if let Some(d) = dav {
        d.shutdown().await;
    }
    flush(&vfs, &mut int, &mut term).await;
    if !external {
        let mp = mountpoint.clone();
        let r = tokio::task::spawn_blocking(move || bg.umount_and_join()).await;
        if !matches!(r, Ok(Ok(()))) {
            // Busy: detach it lazily so no dead mount is left behind.
            let _ = std::process::Command::new("fusermount3")
                .arg("-uz")
                .arg(&mp)
                .status();
        }
    } else {
        let _ = tokio::task::spawn_blocking(move || bg.join()).await;
    }
    drop(vfs);
    if let Some(r) = embedded {
        r.shutdown().await;
    }
    tracing::info!("unmounted {}", mountpoint.display());
    Ok(())
}

/// The kernel's read-ahead for a FUSE mount is the smaller of the
/// device default (128 KiB) and what the file system asked for at init
/// (`fuse::READ_AHEAD`), so sequential reads would reach us as 128 KiB
/// requests. Raising the mount's bdi read-ahead makes them 1 MiB: fewer
/// round trips through the kernel. Needs root (or a writable sysfs);
/// without it reads just stay smaller.
fn raise_read_ahead(mountpoint: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(mountpoint) else {
        return;
    };
    let dev = meta.dev();
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    let knob = format!("/sys/class/bdi/{major}:{minor}/read_ahead_kb");
    let kib = cmisfs::fuse::READ_AHEAD / 1024;
    match std::fs::write(&knob, format!("{kib}\n")) {
        Ok(()) => tracing::debug!("read-ahead of the mount set to {kib} KiB ({knob})"),
        Err(e) => tracing::debug!("cannot raise the read-ahead ({knob}): {e}"),
    }
}

/// Uploads everything dirty; a second signal stops waiting (the journal
/// keeps the rest for the next mount).
pub async fn flush(
    vfs: &Arc<Vfs>,
    int: &mut tokio::signal::unix::Signal,
    term: &mut tokio::signal::unix::Signal,
) {
    if vfs.pending().is_empty() {
        let _ = vfs.shutdown(Some(Duration::from_secs(1))).await;
        return;
    }
    tokio::select! {
        left = vfs.shutdown(None) => {
            if left.is_empty() {
                tracing::info!("all changes uploaded");
            }
        }
        _ = int.recv() => {
            tracing::warn!("{} file(s) not uploaded yet; they are kept in the journal for the next mount", vfs.pending().len());
        }
        _ = term.recv() => {
            tracing::warn!("{} file(s) not uploaded yet; they are kept in the journal for the next mount", vfs.pending().len());
        }
    }
}

/// What opening the VFS needs: shared by `mount` and `webdav`.
pub struct VfsSource<'a> {
    pub connect: &'a ConnectArgs,
    pub data: Option<PathBuf>,
    pub cache_dir: PathBuf,
    pub cache_size: u64,
    pub write_back_delay: Duration,
    pub metadata_ttl: Duration,
    pub read_only: bool,
    pub major_versions: bool,
    pub upload_chunk_size: Option<u64>,
    /// Name patterns kept local, never uploaded (None: the VFS's list).
    pub local_only: Option<Vec<String>>,
}

pub struct OpenedVfs {
    pub vfs: Arc<Vfs>,
    /// The embedded repository, when no --url was given.
    pub embedded: Option<RunningRepo>,
    /// How the repository was reached (its URL, and our credentials).
    pub options: ConnectOptions,
}

/// The VFS configuration of `src` for a cache directory and a user.
pub fn vfs_config(src: &VfsSource<'_>, cache_dir: PathBuf, user: Option<String>) -> VfsConfig {
    let mut cfg = VfsConfig::new(cache_dir);
    cfg.cache_size = src.cache_size;
    cfg.write_back_delay = src.write_back_delay;
    cfg.metadata_ttl = src.metadata_ttl;
    cfg.negative_ttl = src.metadata_ttl;
    cfg.read_only = src.read_only;
    cfg.major_versions = src.major_versions;
    cfg.upload_chunk_size = src.upload_chunk_size.filter(|n| *n > 0);
    cfg.user = user;
    // A caller waits at most this long for metadata (then EIO).
    cfg.request_timeout = Duration::from_secs(src.connect.timeout.clamp(1, 30));
    if let Some(list) = &src.local_only {
        cfg.local_only = list.iter().filter(|p| !p.is_empty()).cloned().collect();
    }
    cfg
}

/// Connects to the repository (or starts the embedded one in this
/// process) and opens the VFS over it.
pub async fn open_vfs(src: VfsSource<'_>) -> anyhow::Result<OpenedVfs> {
    let args = &src;
    // The repository: a server, or the embedded one in this process.
    let mut embedded = None;
    let (options, user) = match &args.connect.url {
        Some(_) => {
            let o = args.connect.to_options()?;
            (o, args.connect.user.clone())
        }
        None => {
            let data = args.data.clone().unwrap_or_else(default_data_dir);
            std::fs::create_dir_all(&data)
                .with_context(|| format!("cannot create {}", data.display()))?;
            let running = repo::start(RepoConfig {
                data_dir: data,
                listen: "127.0.0.1:0".parse()?,
                users_file: None,
            })
            .await?;
            let o = ConnectOptions {
                url: running.service_url(),
                binding: BindingChoice::Browser,
                repository: Some(running.repository_id.clone()),
                http: HttpOptions {
                    auth: Auth::Basic {
                        user: "admin".into(),
                        password: "admin".into(),
                    },
                    connect_timeout: Duration::from_secs(10),
                    timeout: Duration::from_secs(120),
                    ..Default::default()
                },
            };
            embedded = Some(running);
            (o, Some("admin".to_string()))
        }
    };
    let binding = cmis::connect(&options)
        .await
        .with_context(|| format!("cannot reach the repository at {}", options.url))?;
    let cfg = vfs_config(&src, src.cache_dir.clone(), user);
    let vfs = Vfs::new(binding, cfg)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", options.url))?;

    Ok(OpenedVfs {
        vfs,
        embedded,
        options,
    })
}
