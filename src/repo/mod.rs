//! The embedded CMIS repository server (CMIS 1.1 Browser binding, data on
//! disk), `cmisfs repo`.
//!
//! Layers, top to bottom: [`http`] (axum: URLs, selectors, actions, forms,
//! Range) → [`service`] (the CMIS services, synchronous, unit-tested) →
//! [`store`] (redb tables + content files). [`json`] renders the model as
//! Browser binding JSON, [`types`] is the fixed type system, [`acl`] the
//! permission model, [`auth`] HTTP Basic against a users file, [`query`] the
//! CMIS-QL subset and [`faults`] test-only fault injection.
//!
//! [`start`] binds, serves in the background and returns a
//! [`RunningRepo`] with the bound address (port 0 is fine), the
//! repository id and a shutdown handle, so tests run the server in-process.
//! This module depends on `crate::cmis::{model, error}` only.

pub mod acl;
pub mod auth;
pub mod faults;
pub mod http;
pub mod json;
pub mod query;
pub mod service;
pub mod store;
pub mod types;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::FaultConfig;

/// How to run the embedded repository.
#[derive(Debug, Clone)]
pub struct RepoConfig {
    /// Where the repository keeps its metadata and content.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Users file (see [`auth`] for the format); `None`: one user
    /// admin/admin, loopback only.
    pub users_file: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("without a users file (--users) the repository only listens on loopback, not {0}")]
    NotLoopback(SocketAddr),
    #[error("fault injection is only allowed on loopback, not {0}")]
    FaultsNotLoopback(SocketAddr),
    #[error(transparent)]
    Users(#[from] auth::UsersFileError),
    #[error("cannot open the repository data in {dir}: {message}")]
    Open { dir: String, message: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A repository serving in the background.
pub struct RunningRepo {
    /// The bound address (the real port when 0 was asked for).
    pub addr: SocketAddr,
    pub repository_id: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningRepo {
    /// `http://ADDR/browser`.
    pub fn service_url(&self) -> String {
        format!("http://{}/browser", self.addr)
    }

    /// `http://ADDR/browser/<repositoryId>`.
    pub fn repository_url(&self) -> String {
        format!("{}/{}", self.service_url(), self.repository_id)
    }

    /// Stops accepting, lets running requests finish, and waits until the
    /// data store is closed (so the same data dir can be opened again).
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for RunningRepo {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Starts the repository without fault injection.
pub async fn start(config: RepoConfig) -> Result<RunningRepo, RepoError> {
    start_inner(config, None).await
}

/// Starts the repository with fault injection allowed (loopback only):
/// the initial settings, changeable at run time via `/admin/faults`.
pub async fn start_with_faults(
    config: RepoConfig,
    faults: FaultConfig,
) -> Result<RunningRepo, RepoError> {
    start_inner(config, Some(faults)).await
}

async fn start_inner(
    config: RepoConfig,
    faults: Option<FaultConfig>,
) -> Result<RunningRepo, RepoError> {
    let loopback = config.listen.ip().is_loopback();
    let users = match &config.users_file {
        Some(path) => auth::Users::load(path)?,
        None if loopback => auth::Users::default_admin(),
        None => return Err(RepoError::NotLoopback(config.listen)),
    };
    if faults.is_some() && !loopback {
        return Err(RepoError::FaultsNotLoopback(config.listen));
    }
    let dir = config.data_dir.clone();
    let svc = tokio::task::spawn_blocking(move || service::Service::open(&dir))
        .await
        .map_err(|e| RepoError::Open {
            dir: config.data_dir.display().to_string(),
            message: e.to_string(),
        })?
        .map_err(|e| RepoError::Open {
            dir: config.data_dir.display().to_string(),
            message: e.to_string(),
        })?;
    let repository_id = svc.repo_id.clone();
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| RepoError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| RepoError::Bind {
        addr: config.listen,
        source,
    })?;
    let state = Arc::new(http::AppState {
        svc: Arc::new(svc),
        users,
        faults: faults.map(faults::Faults::new),
    });
    let app = http::router(state);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stop_rx.await;
        });
        if let Err(e) = serve.await {
            tracing::error!("repository server stopped: {e}");
        }
    });
    tracing::info!(%addr, repository = %repository_id, "CMIS repository listening");
    Ok(RunningRepo {
        addr,
        repository_id,
        stop: Some(stop_tx),
        task: Some(task),
    })
}
