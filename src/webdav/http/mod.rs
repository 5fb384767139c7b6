//! The HTTP side of the endpoint: authentication, the checks every request
//! passes before dav-server sees it, and the few WebDAV behaviours that
//! dav-server lacks, done around its handler:
//!
//! - bad input is answered here with a 4xx and a log line: path traversal
//!   (`..`, `%2e%2e`, backslashes, NUL), invalid UTF-8, XML bodies that are
//!   too large, too deep or carry a DOCTYPE (entity expansion), PROPFIND of
//!   depth infinity (403 `propfind-finite-depth`), a Destination on another
//!   host (502, as RFC 4918 says);
//! - PROPPATCH of `DAV:getlastmodified`, `DAV:lastmodified` and
//!   `Win32LastModifiedTime` sets the file's mtime: the properties are
//!   renamed into [`MTIME_NS`](super::fs::MTIME_NS) on the way in, which
//!   the file system layer turns into a VFS setattr;
//! - `X-OC-Mtime` on PUT/COPY/MOVE (ownCloud/Nextcloud clients, rclone)
//!   sets the mtime of the result and answers `X-OC-Mtime: accepted`;
//! - LOCK on a document asks the VFS to check it out (and UNLOCK, or the
//!   lock's timeout, to check it in or cancel the checkout), so that the
//!   lock is visible in the repository;
//! - OPTIONS carries `MS-Author-Via: DAV` (Microsoft Office wants it).
//!
//! Submodules: `auth` (Basic authentication), `checks` (input checks),
//! `mtime` (mtime properties and headers), `dispatch` (one request),
//! `expiry` (lock timeouts and ending checkouts).

mod auth;
mod checks;
mod dispatch;
mod expiry;
mod mtime;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode};
use dav_server::ls::DavLock;
use dav_server::DavHandler;

use super::backend::Backend;
use super::fs::DavFs;
use super::locks::PersistentLs;
use super::store::StateStore;
use crate::repo::auth::Users;
use dispatch::handle;
pub(crate) use mtime::{element_text, mtime_prop_origin, parse_http_date};

/// How WebDAV users are authenticated.
#[derive(Debug, Clone)]
pub enum AuthConfig {
    /// Nobody is asked; only allowed on a loopback address.
    None,
    /// HTTP Basic against a users file (the `cmisfs repo` format); the
    /// gateway's own CMIS session serves everyone.
    Fixed { users_file: PathBuf },
    /// HTTP Basic; each user's credentials open their own CMIS session.
    Passthrough,
}

/// Why a user's VFS could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the repository refused the credentials")]
    Unauthorized,
    #[error("{0}")]
    Other(String),
}

/// Opens one VFS view per user (passthrough authentication).
#[async_trait]
pub trait UserBackends: Send + Sync + 'static {
    async fn open(&self, user: &str, password: &str) -> Result<Arc<dyn Backend>, OpenError>;
}

/// What the endpoint serves.
#[derive(Clone)]
pub enum Backends {
    /// One VFS for every request (auth none or fixed).
    Shared(Arc<dyn Backend>),
    /// One VFS per user (passthrough).
    PerUser(Arc<dyn UserBackends>),
}

pub struct WebdavOptions {
    pub listen: SocketAddr,
    pub auth: AuthConfig,
    /// Where `webdav.redb` (dead properties, locks) lives; `None`: memory.
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum WebdavError {
    #[error("refusing to serve WebDAV on {0} without authentication: listen on a loopback address, or give --webdav-auth fixed --webdav-users FILE (or passthrough with --url)")]
    NoAuthOnPublicAddress(SocketAddr),
    #[error("--webdav-auth passthrough needs a repository URL (--url): the embedded repository's users are served with --webdav-auth fixed")]
    PassthroughWithoutUsers,
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error(transparent)]
    Users(#[from] crate::repo::auth::UsersFileError),
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
    #[error("cannot create the state directory {0}: {1}")]
    StateDir(PathBuf, std::io::Error),
}

/// A per-user (or shared) file system with its dav-server handler.
#[derive(Clone)]
struct View {
    handler: DavHandler,
    fs: DavFs,
}

enum Auth {
    None,
    Fixed(Arc<Users>),
    Passthrough(Arc<dyn UserBackends>),
}

pub struct Server {
    auth: Auth,
    shared: Option<View>,
    /// Passthrough: user → (credential digest, view).
    views: Mutex<HashMap<String, (Vec<u8>, View)>>,
    ls: PersistentLs,
    store: StateStore,
    digest_key: [u8; 32],
    /// Locks that timed out, for [`Server::spawn_expiry`].
    expired_rx: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<DavLock>>>,
    /// Expired locks of passthrough users whose view is not open yet (after
    /// a restart): their checkouts end when the user comes back.
    pending_ends: Mutex<Vec<DavLock>>,
}

/// How long a stopping endpoint waits for requests in progress.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running endpoint.
pub struct RunningWebdav {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningWebdav {
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops accepting requests and lets the requests in progress finish,
    /// for at most [`SHUTDOWN_GRACE`]: a client that stalls mid-request (a
    /// PUT whose body never comes) must not keep the gateway, and the
    /// upload of everything else, from stopping. What such a request wrote
    /// is journaled like any write.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut self.task)
            .await
            .is_err()
        {
            tracing::warn!(
                "webdav: requests still running after {SHUTDOWN_GRACE:?}; closing their connections"
            );
            self.task.abort();
            let _ = (&mut self.task).await;
        }
    }

    /// Waits until the server stops (it only stops on error).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

fn view(fs: DavFs, ls: &PersistentLs) -> View {
    let handler = DavHandler::builder()
        .filesystem(Box::new(fs.clone()))
        .locksystem(Box::new(ls.clone()))
        .autoindex(true)
        // GET reads the VFS in large pieces (dav-server's default is 16 KiB).
        .read_buf_size(1 << 20)
        .build_handler();
    View { handler, fs }
}

impl Server {
    pub fn new(opts: &WebdavOptions, backends: Backends) -> Result<Arc<Server>, WebdavError> {
        let store = match &opts.state_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| WebdavError::StateDir(dir.clone(), e))?;
                StateStore::open(&dir.join("webdav.redb"))?
            }
            None => StateStore::temporary()?,
        };
        let mut ls = PersistentLs::new(Some(store.clone()));
        let (expired_tx, expired_rx) = tokio::sync::mpsc::unbounded_channel();
        ls.on_expiry(expired_tx);
        let (auth, shared) = match (&opts.auth, backends) {
            (AuthConfig::Passthrough, Backends::PerUser(p)) => (Auth::Passthrough(p), None),
            (AuthConfig::Passthrough, Backends::Shared(_)) => {
                return Err(WebdavError::PassthroughWithoutUsers)
            }
            (a, Backends::Shared(b)) => {
                let auth = match a {
                    AuthConfig::Fixed { users_file } => {
                        Auth::Fixed(Arc::new(Users::load(users_file)?))
                    }
                    _ => Auth::None,
                };
                (auth, Some(view(DavFs::new(b, store.clone()), &ls)))
            }
            (_, Backends::PerUser(p)) => (Auth::Passthrough(p), None),
        };
        if matches!(auth, Auth::None) && !opts.listen.ip().is_loopback() {
            return Err(WebdavError::NoAuthOnPublicAddress(opts.listen));
        }
        let mut digest_key = [0u8; 32];
        use ring::rand::SecureRandom;
        let _ = ring::rand::SystemRandom::new().fill(&mut digest_key);
        Ok(Arc::new(Server {
            auth,
            shared,
            views: Mutex::new(HashMap::new()),
            ls,
            store,
            digest_key,
            expired_rx: Mutex::new(Some(expired_rx)),
            pending_ends: Mutex::new(Vec::new()),
        }))
    }

    /// The axum router that serves every path.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        axum::Router::new()
            .fallback(handle)
            .with_state(self.clone())
    }
}

/// Binds `opts.listen` and serves until [`RunningWebdav::shutdown`].
pub async fn serve(opts: WebdavOptions, backends: Backends) -> Result<RunningWebdav, WebdavError> {
    let server = Server::new(&opts, backends)?;
    server.spawn_expiry();
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| WebdavError::Bind(opts.listen, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| WebdavError::Bind(opts.listen, e))?;
    let app = server
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let r = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = r {
            tracing::error!("webdav server stopped: {e}");
        }
    });
    tracing::info!("WebDAV endpoint on http://{addr}/");
    Ok(RunningWebdav {
        addr,
        stop: Some(tx),
        task,
    })
}

fn status(s: StatusCode) -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = s;
    r
}

fn xml_error(s: StatusCode, condition: &str) -> Response<Body> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:error xmlns:D=\"DAV:\"><D:{condition}/></D:error>\n"
    );
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = s;
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    r
}
