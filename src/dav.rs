//! `cmisfs webdav` (the command; the endpoint is `cmisfs::webdav`): the VFS served over WebDAV, until SIGINT or SIGTERM;
//! then what is still dirty is uploaded. With `--webdav-auth passthrough`
//! each user gets a VFS of their own, opened with their credentials on
//! their first request (cache under `<cache dir>/users/<hash>`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use async_trait::async_trait;

use crate::cli::{DavAuthArg, DavAuthArgs, WebdavArgs};
use crate::mount::{flush, open_vfs, vfs_config, VfsSource};
use cmisfs::cmis::{self, Auth, CmisError, ConnectOptions};
use cmisfs::vfs::{Vfs, VfsConfig};
use cmisfs::webdav::vfs_backend::CheckoutLocks;
use cmisfs::webdav::{self, AuthConfig, Backend, Backends, OpenError, UserBackends, WebdavOptions};

/// The authentication mode the flags ask for.
/// The WebDAV authentication the flags ask for, refused at once (before
/// any repository is started or mounted) when it would leave an address
/// reachable from other machines open to anyone.
pub fn auth_config(
    a: &DavAuthArgs,
    have_url: bool,
    listen: std::net::SocketAddr,
) -> anyhow::Result<AuthConfig> {
    let mode = a.webdav_auth.unwrap_or(if have_url {
        DavAuthArg::Passthrough
    } else if a.webdav_users.is_some() {
        DavAuthArg::Fixed
    } else {
        DavAuthArg::None
    });
    if matches!(mode, DavAuthArg::None) && !listen.ip().is_loopback() {
        return Err(cmisfs::webdav::http::WebdavError::NoAuthOnPublicAddress(listen).into());
    }
    Ok(match mode {
        DavAuthArg::None => AuthConfig::None,
        DavAuthArg::Passthrough => AuthConfig::Passthrough,
        DavAuthArg::Fixed => match &a.webdav_users {
            Some(f) => AuthConfig::Fixed {
                users_file: f.clone(),
            },
            None => bail!("--webdav-auth fixed needs --webdav-users FILE"),
        },
    })
}

fn default_cache_dir(args: &WebdavArgs) -> PathBuf {
    let source = format!(
        "webdav|{}|{}|{}",
        args.connect.url.as_deref().unwrap_or("embedded"),
        args.connect.repository.as_deref().unwrap_or(""),
        args.listen
    );
    let d = ring::digest::digest(&ring::digest::SHA256, source.as_bytes());
    let hex: String = d
        .as_ref()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/tmp"))
        .join("cmisfs")
        .join(hex)
}

/// The backend of a VFS, with LOCK = checkOut when asked for.
pub fn backend(vfs: Arc<Vfs>, lock_checkout: bool) -> Arc<dyn Backend> {
    if lock_checkout {
        Arc::new(CheckoutLocks(vfs))
    } else {
        Arc::new(vfs)
    }
}

/// One VFS per user, opened with that user's credentials.
struct PerUserVfs {
    lock_checkout: bool,
    base: ConnectOptions,
    template: VfsConfig,
    root: PathBuf,
    open: tokio::sync::Mutex<HashMap<String, Arc<Vfs>>>,
}

#[async_trait]
impl UserBackends for PerUserVfs {
    async fn open(&self, user: &str, password: &str) -> Result<Arc<dyn Backend>, OpenError> {
        let mut options = self.base.clone();
        options.http.auth = Auth::Basic {
            user: user.to_string(),
            password: password.to_string(),
        };
        // Connecting checks the credentials, also for a user already open.
        let binding = cmis::connect(&options).await.map_err(|e| match e {
            CmisError::Unauthorized { .. } | CmisError::PermissionDenied(_) => {
                OpenError::Unauthorized
            }
            e => OpenError::Other(e.to_string()),
        })?;
        let mut open = self.open.lock().await;
        if let Some(v) = open.get(user) {
            return Ok(backend(v.clone(), self.lock_checkout));
        }
        let d = ring::digest::digest(&ring::digest::SHA256, user.as_bytes());
        let hex: String = d
            .as_ref()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut cfg = self.template.clone();
        cfg.cache_dir = self.root.join(hex);
        cfg.user = Some(user.to_string());
        let vfs = Vfs::new(binding, cfg)
            .await
            .map_err(|e| OpenError::Other(e.to_string()))?;
        open.insert(user.to_string(), vfs.clone());
        Ok(backend(vfs, self.lock_checkout))
    }
}

pub async fn run(args: WebdavArgs) -> anyhow::Result<()> {
    let cache_dir = args
        .vfs
        .cache_dir
        .clone()
        .unwrap_or_else(|| default_cache_dir(&args));
    let auth = auth_config(&args.auth, args.connect.url.is_some(), args.listen)?;
    let src = VfsSource {
        connect: &args.connect,
        data: args.vfs.data.clone(),
        cache_dir: cache_dir.clone(),
        cache_size: args.vfs.cache_size,
        write_back_delay: args.vfs.write_back_delay,
        metadata_ttl: args.vfs.metadata_ttl,
        read_only: args.vfs.read_only,
        major_versions: args.vfs.major_versions,
        upload_chunk_size: args.vfs.upload_chunk_size,
        local_only: args.vfs.local_only.clone(),
    };
    let mut per_user = None;
    let (backends, embedded, shared) = if matches!(auth, AuthConfig::Passthrough) {
        if args.connect.url.is_none() {
            bail!("--webdav-auth passthrough needs --url (the embedded repository started here has one user; use --webdav-auth fixed)");
        }
        let base = args.connect.to_options()?;
        let p = Arc::new(PerUserVfs {
            lock_checkout: args.auth.lock_checkout(),
            base,
            template: vfs_config(&src, cache_dir.clone(), None),
            root: cache_dir.join("users"),
            open: tokio::sync::Mutex::new(HashMap::new()),
        });
        per_user = Some(p.clone());
        (Backends::PerUser(p), None, None)
    } else {
        let opened = open_vfs(src).await?;
        let b = backend(opened.vfs.clone(), args.auth.lock_checkout());
        (Backends::Shared(b), opened.embedded, Some(opened.vfs))
    };
    let running = webdav::serve(
        WebdavOptions {
            listen: args.listen,
            auth,
            state_dir: Some(cache_dir.join("webdav")),
        },
        backends,
    )
    .await?;
    println!("WebDAV endpoint: {}", running.url());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch SIGINT")?;
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    tracing::info!("stopping: uploading what is left");
    running.shutdown().await;
    // A second signal stops waiting for uploads (the journal keeps them).
    if let Some(v) = shared {
        flush(&v, &mut int, &mut term).await;
    }
    if let Some(p) = per_user {
        let all: Vec<Arc<Vfs>> = p.open.lock().await.values().cloned().collect();
        for v in all {
            flush(&v, &mut int, &mut term).await;
        }
    }
    if let Some(r) = embedded {
        r.shutdown().await;
    }
    Ok(())
}
