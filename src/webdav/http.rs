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
//!   renamed into [`MTIME_NS`] on the way in, which the file system layer
//!   turns into a VFS setattr;
//! - `X-OC-Mtime` on PUT/COPY/MOVE (ownCloud/Nextcloud clients, rclone)
//!   sets the mtime of the result and answers `X-OC-Mtime: accepted`;
//! - LOCK on a document asks the VFS to check it out (and UNLOCK, or the
//!   lock's timeout, to check it in or cancel the checkout), so that the
//!   lock is visible in the repository;
//! - OPTIONS carries `MS-Author-Via: DAV` (Microsoft Office wants it).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use base64::Engine;
use dav_server::davpath::DavPath;
use dav_server::ls::DavLock;
use dav_server::{DavConfig, DavHandler};
use quick_xml::events::{BytesEnd, BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};

use super::backend::Backend;
use super::fs::{DavFs, MTIME_NS};
use super::locks::PersistentLs;
use super::store::StateStore;
use crate::repo::auth::Users;
use crate::vfs::{FileKind, VfsError};

/// Largest XML request body (PROPFIND, PROPPATCH, LOCK).
const MAX_XML_BODY: usize = 1 << 20;
/// Deepest element nesting accepted in an XML body.
const MAX_XML_DEPTH: usize = 32;

const NS_DAV: &str = "DAV:";
const NS_MS: &str = "urn:schemas-microsoft-com:";

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

    /// Ends the checkouts of locks that time out: a task that receives
    /// them, and drops timed-out locks every second even when no request
    /// comes. Needs a tokio runtime.
    pub fn spawn_expiry(self: &Arc<Self>) {
        let rx = match self.expired_rx.lock() {
            Ok(mut r) => r.take(),
            Err(_) => None,
        };
        let Some(mut rx) = rx else { return };
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    l = rx.recv() => {
                        let (Some(l), Some(s)) = (l, weak.upgrade()) else { return };
                        s.lock_expired(l).await;
                    }
                    _ = tick.tick() => {
                        let Some(s) = weak.upgrade() else { return };
                        s.ls.expire_now();
                    }
                }
            }
        });
    }

    /// A lock timed out: end the checkout it made, unless another lock
    /// still covers the document.
    async fn lock_expired(&self, l: DavLock) {
        if !self.ls.locks_on(&l.path).is_empty() {
            return;
        }
        let view = match &self.auth {
            Auth::Passthrough(_) => {
                let v = l.principal.as_ref().and_then(|u| {
                    self.views
                        .lock()
                        .ok()
                        .and_then(|views| views.get(u).map(|(_, v)| v.clone()))
                });
                match v {
                    Some(v) => v,
                    None => {
                        if let Ok(mut p) = self.pending_ends.lock() {
                            p.push(l);
                        }
                        return;
                    }
                }
            }
            _ => match &self.shared {
                Some(v) => v.clone(),
                None => return,
            },
        };
        tracing::info!("webdav: the lock on {} timed out", l.path.as_url_string());
        end_checkout(&view, &l.path).await;
    }

    /// The axum router that serves every path.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        axum::Router::new()
            .fallback(handle)
            .with_state(self.clone())
    }

    fn digest(&self, user: &str, password: &str) -> Vec<u8> {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(&self.digest_key);
        ctx.update(user.as_bytes());
        ctx.update(&[0]);
        ctx.update(password.as_bytes());
        ctx.finish().as_ref().to_vec()
    }

    /// The view this request is served from, and its principal; or the
    /// error response (401, 502).
    async fn authenticate(
        &self,
        headers: &HeaderMap,
        peer: SocketAddr,
    ) -> Result<(View, Option<String>), Response<Body>> {
        let creds = basic_credentials(headers);
        match &self.auth {
            Auth::None => match &self.shared {
                Some(v) => Ok((v.clone(), creds.map(|(u, _)| u))),
                None => Err(status(StatusCode::INTERNAL_SERVER_ERROR)),
            },
            Auth::Fixed(users) => {
                let Some((user, password)) = creds else {
                    return Err(unauthorized());
                };
                if !users.check(&user, &password) {
                    tracing::warn!("webdav: authentication failed for user '{user}' from {peer}");
                    return Err(unauthorized());
                }
                match &self.shared {
                    Some(v) => Ok((v.clone(), Some(user))),
                    None => Err(status(StatusCode::INTERNAL_SERVER_ERROR)),
                }
            }
            Auth::Passthrough(provider) => {
                let Some((user, password)) = creds else {
                    return Err(unauthorized());
                };
                let digest = self.digest(&user, &password);
                if let Ok(views) = self.views.lock() {
                    if let Some((d, v)) = views.get(&user) {
                        if *d == digest {
                            return Ok((v.clone(), Some(user)));
                        }
                    }
                }
                match provider.open(&user, &password).await {
                    Ok(backend) => {
                        let v = view(DavFs::new(backend, self.store.clone()), &self.ls);
                        if let Ok(mut views) = self.views.lock() {
                            views.insert(user.clone(), (digest, v.clone()));
                        }
                        // Locks of this user that timed out while nobody
                        // could act for them.
                        let mine: Vec<DavLock> = match self.pending_ends.lock() {
                            Ok(mut p) => {
                                let (mine, rest) = std::mem::take(&mut *p)
                                    .into_iter()
                                    .partition(|l| l.principal.as_deref() == Some(user.as_str()));
                                *p = rest;
                                mine
                            }
                            Err(_) => Vec::new(),
                        };
                        for l in mine {
                            if self.ls.locks_on(&l.path).is_empty() {
                                end_checkout(&v, &l.path).await;
                            }
                        }
                        Ok((v, Some(user)))
                    }
                    Err(OpenError::Unauthorized) => {
                        tracing::warn!("webdav: the repository refused user '{user}' from {peer}");
                        Err(unauthorized())
                    }
                    Err(OpenError::Other(e)) => {
                        tracing::warn!("webdav: cannot open a session for '{user}': {e}");
                        Err(status(StatusCode::BAD_GATEWAY))
                    }
                }
            }
        }
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

fn unauthorized() -> Response<Body> {
    let mut r = status(StatusCode::UNAUTHORIZED);
    r.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Basic realm=\"cmisfs\", charset=\"UTF-8\""),
    );
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

/// User and password of an HTTP Basic Authorization header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Why a request path is refused, if it is: every segment, once
/// percent-decoded, must be UTF-8 without NUL or backslash, and not `.`
/// or `..`.
fn bad_path(raw: &str) -> Option<&'static str> {
    let path = raw.split(['?', '#']).next().unwrap_or("");
    if path.contains('\\') {
        return Some("backslash in path");
    }
    for seg in path.split('/') {
        let bytes: Vec<u8> = percent_encoding::percent_decode_str(seg).collect();
        if bytes == b"." || bytes == b".." {
            return Some("path traversal");
        }
        if bytes.contains(&0) || bytes.contains(&b'\\') {
            return Some("NUL or backslash in path");
        }
        if std::str::from_utf8(&bytes).is_err() {
            return Some("path is not UTF-8");
        }
    }
    None
}

/// The path of a Destination header, if it names this server (same host
/// and port as the request's Host header, or no host at all).
fn destination_path(dest: &str, host: Option<&str>) -> Result<String, StatusCode> {
    if dest.starts_with('/') {
        return Ok(dest.to_string());
    }
    let url = url::Url::parse(dest).map_err(|_| StatusCode::BAD_REQUEST)?;
    let dest_host = match (url.host_str(), url.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => return Err(StatusCode::BAD_REQUEST),
    };
    let req_host = host.map(|h| {
        if h.contains(':') && !h.ends_with(']') {
            h.to_ascii_lowercase()
        } else {
            format!(
                "{}:{}",
                h.to_ascii_lowercase(),
                url.port_or_known_default().unwrap_or(80)
            )
        }
    });
    if req_host.as_deref() != Some(dest_host.to_ascii_lowercase().as_str()) {
        return Err(StatusCode::BAD_GATEWAY);
    }
    // The path as sent: the URL parser would already have resolved `..`.
    let after_scheme = dest.split_once("://").map(|(_, r)| r).unwrap_or(dest);
    Ok(match after_scheme.find('/') {
        Some(i) => after_scheme[i..].to_string(),
        None => "/".to_string(),
    })
}

/// The mtime-setting properties, as (namespace, name, stand-in name).
const MTIME_PROPS: [(&str, &str, &str); 3] = [
    (NS_DAV, "getlastmodified", "dav-getlastmodified"),
    (NS_DAV, "lastmodified", "dav-lastmodified"),
    (NS_MS, "Win32LastModifiedTime", "ms-Win32LastModifiedTime"),
];

/// The real namespace and name behind a stand-in name in [`MTIME_NS`].
pub(crate) fn mtime_prop_origin(standin: &str) -> (&'static str, &'static str) {
    MTIME_PROPS
        .iter()
        .find(|(_, _, s)| *s == standin)
        .map(|(ns, n, _)| (*ns, *n))
        .unwrap_or((NS_DAV, "getlastmodified"))
}

/// The text content of an XML element (the value of a property).
pub(crate) fn element_text(xml: &[u8]) -> Option<String> {
    let mut r = quick_xml::Reader::from_reader(xml);
    let mut out = String::new();
    loop {
        match r.read_event() {
            Ok(Event::Text(t)) => out.push_str(&t.unescape().ok()?),
            Ok(Event::CData(t)) => out.push_str(std::str::from_utf8(&t).ok()?),
            Ok(Event::Eof) => break,
            Err(_) => return None,
            _ => {}
        }
    }
    Some(out.trim().to_string())
}

/// An HTTP date (RFC 1123, as getlastmodified holds), or RFC 3339.
pub(crate) fn parse_http_date(s: &str) -> Option<SystemTime> {
    let t = chrono::DateTime::parse_from_rfc2822(s.trim())
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(s.trim()))
        .ok()?;
    let secs = t.timestamp();
    let nanos = t.timestamp_subsec_nanos();
    if secs < 0 {
        return None;
    }
    Some(UNIX_EPOCH + Duration::new(secs as u64, nanos))
}

/// `X-OC-Mtime`: seconds since the epoch, maybe with a fraction.
fn parse_oc_mtime(v: &str) -> Option<SystemTime> {
    let v = v.trim();
    let (secs, frac) = v.split_once('.').unwrap_or((v, ""));
    let secs: u64 = secs.parse().ok()?;
    let nanos = if frac.is_empty() {
        0
    } else {
        let digits: String = frac.chars().take(9).collect();
        let n: u32 = digits.parse().ok()?;
        n * 10u32.pow(9 - digits.len() as u32)
    };
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

/// Checks an XML body (size is checked by the caller): no DOCTYPE (so no
/// entity expansion), bounded depth, well formed. For a PROPPATCH, renames
/// the mtime properties under `set` into [`MTIME_NS`].
fn vet_xml(body: &[u8], proppatch: bool) -> Result<Option<Vec<u8>>, &'static str> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut reader = quick_xml::NsReader::from_reader(body);
    let mut writer = quick_xml::Writer::new(Vec::with_capacity(body.len() + 128));
    // Local names of the open elements, and whether each was renamed.
    let mut stack: Vec<(Vec<u8>, Option<String>)> = Vec::new();
    let mut renamed = false;
    loop {
        let (ns, ev) = reader
            .read_resolved_event()
            .map_err(|_| "malformed XML body")?;
        let ns_str = match ns {
            ResolveResult::Bound(Namespace(n)) => std::str::from_utf8(n).ok(),
            _ => None,
        };
        match ev {
            Event::DocType(_) => return Err("DOCTYPE in XML body"),
            Event::Eof => break,
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(ev, Event::Empty(_));
                let local = e.local_name().as_ref().to_vec();
                let in_set =
                    proppatch && stack.len() == 3 && stack[1].0 == b"set" && stack[2].0 == b"prop";
                let standin = if in_set {
                    MTIME_PROPS
                        .iter()
                        .find(|(pns, n, _)| Some(*pns) == ns_str && n.as_bytes() == local)
                        .map(|(_, _, s)| format!("cmisfs-mtime:{s}"))
                } else {
                    None
                };
                let out = match &standin {
                    Some(name) => {
                        renamed = true;
                        let mut s = BytesStart::new(name.clone());
                        s.push_attribute(("xmlns:cmisfs-mtime", MTIME_NS));
                        if is_empty {
                            Event::Empty(s)
                        } else {
                            Event::Start(s)
                        }
                    }
                    None => ev.clone(),
                };
                writer.write_event(out).map_err(|_| "malformed XML body")?;
                if !is_empty {
                    stack.push((local, standin));
                    if stack.len() > MAX_XML_DEPTH {
                        return Err("XML body nested too deep");
                    }
                }
            }
            Event::End(_) => {
                let Some((_, standin)) = stack.pop() else {
                    return Err("malformed XML body");
                };
                let out = match standin {
                    Some(name) => Event::End(BytesEnd::new(name)),
                    None => ev,
                };
                writer.write_event(out).map_err(|_| "malformed XML body")?;
            }
            other => writer
                .write_event(other)
                .map_err(|_| "malformed XML body")?,
        }
    }
    if !stack.is_empty() {
        return Err("malformed XML body");
    }
    Ok(if renamed {
        Some(writer.into_inner())
    } else {
        None
    })
}

fn log_refusal(peer: SocketAddr, method: &Method, path: &str, s: StatusCode, why: &str) {
    tracing::warn!("webdav: {} {method} {path} from {peer}: {why}", s.as_u16());
}

async fn handle(
    State(server): State<Arc<Server>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response<Body> {
    let method = req.method().clone();
    let raw_path = req.uri().path().to_string();
    if let Some(why) = bad_path(&raw_path) {
        log_refusal(peer, &method, &raw_path, StatusCode::BAD_REQUEST, why);
        return status(StatusCode::BAD_REQUEST);
    }
    let (view, principal) = match server.authenticate(req.headers(), peer).await {
        Ok(v) => v,
        Err(r) => {
            if r.status() != StatusCode::UNAUTHORIZED || req.headers().contains_key("authorization")
            {
                log_refusal(peer, &method, &raw_path, r.status(), "not authenticated");
            }
            return r;
        }
    };
    let resp = match dispatch(&server, &view, principal, req, peer).await {
        Ok(r) => r,
        Err(r) => r,
    };
    let s = resp.status();
    if s.is_client_error() || s.is_server_error() {
        tracing::info!("webdav: {method} {raw_path} from {peer}: {}", s.as_u16());
    } else {
        tracing::debug!("webdav: {method} {raw_path}: {}", s.as_u16());
    }
    resp
}

/// The DavPath of a request path (already vetted).
fn dav_path(raw: &str) -> Option<DavPath> {
    DavPath::new(raw).ok()
}

async fn dispatch(
    server: &Arc<Server>,
    view: &View,
    principal: Option<String>,
    req: Request<Body>,
    peer: SocketAddr,
) -> Result<Response<Body>, Response<Body>> {
    let method = req.method().clone();
    let raw_path = req.uri().path().to_string();
    let m = method.as_str();

    // Destination: same host, vetted path.
    let mut dest: Option<DavPath> = None;
    if m == "COPY" || m == "MOVE" {
        if let Some(d) = req.headers().get("destination") {
            let host = req.headers().get("host").and_then(|h| h.to_str().ok());
            let d = d.to_str().map_err(|_| status(StatusCode::BAD_REQUEST))?;
            let p = destination_path(d, host).inspect_err(|s| {
                log_refusal(
                    peer,
                    &method,
                    &raw_path,
                    *s,
                    "Destination not on this server",
                );
            });
            let p = p.map_err(status)?;
            if let Some(why) = bad_path(&p) {
                log_refusal(peer, &method, &raw_path, StatusCode::BAD_REQUEST, why);
                return Err(status(StatusCode::BAD_REQUEST));
            }
            dest = dav_path(&p);
        }
    }

    if m == "PROPFIND" {
        let infinite = req
            .headers()
            .get("depth")
            .and_then(|d| d.to_str().ok())
            .is_some_and(|d| d.trim().eq_ignore_ascii_case("infinity"));
        if infinite {
            log_refusal(
                peer,
                &method,
                &raw_path,
                StatusCode::FORBIDDEN,
                "Depth: infinity",
            );
            return Err(xml_error(StatusCode::FORBIDDEN, "propfind-finite-depth"));
        }
    }

    // XML bodies are read whole (bounded) and vetted.
    let (mut parts, body) = req.into_parts();
    let body = if m == "PROPFIND" || m == "PROPPATCH" || m == "LOCK" {
        let bytes = axum::body::to_bytes(body, MAX_XML_BODY)
            .await
            .map_err(|_| {
                log_refusal(
                    peer,
                    &method,
                    &raw_path,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "XML body too large",
                );
                status(StatusCode::PAYLOAD_TOO_LARGE)
            })?;
        match vet_xml(&bytes, m == "PROPPATCH") {
            Ok(Some(rewritten)) => {
                parts.headers.remove("content-length");
                Body::from(rewritten)
            }
            Ok(None) => Body::from(bytes),
            Err(why) => {
                log_refusal(peer, &method, &raw_path, StatusCode::BAD_REQUEST, why);
                return Err(status(StatusCode::BAD_REQUEST));
            }
        }
    } else {
        body
    };
    // Only dav-server's own litmus shortcut reads this; we never want it.
    parts.headers.remove("x-litmus");
    let oc_mtime = parts
        .headers
        .get("x-oc-mtime")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_oc_mtime);
    let req = Request::from_parts(parts, body);
    let path = dav_path(&raw_path);

    // LOCK of an existing document (not a refresh): check it out first.
    let mut checked_out = None;
    if m == "LOCK" && req.headers().get("if").is_none() {
        if let Some(p) = &path {
            if let Ok(a) = view.fs.resolve(p).await {
                if a.kind == FileKind::RegularFile {
                    let owner = principal.clone().unwrap_or_else(|| "webdav".into());
                    match view.fs.backend().lock_document(a.ino, &owner).await {
                        Ok(true) => checked_out = Some(a.ino),
                        Ok(false) => {}
                        Err(e @ (VfsError::Locked(_) | VfsError::AccessDenied(_))) => {
                            tracing::info!("webdav: LOCK {raw_path}: {e}");
                            return Err(status(StatusCode::LOCKED));
                        }
                        Err(e) => {
                            tracing::warn!("webdav: LOCK {raw_path}: checkout failed: {e}");
                            return Err(status(
                                StatusCode::from_u16(e.http_status())
                                    .unwrap_or(StatusCode::BAD_GATEWAY),
                            ));
                        }
                    }
                }
            }
        }
    }

    let overwrite = req
        .headers()
        .get("overwrite")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| !v.trim().eq_ignore_ascii_case("F"));
    let plain_move = m == "MOVE" && overwrite && !req.headers().contains_key("if");
    let fast = if plain_move {
        move_over_file(server, view, path.as_ref(), dest.as_ref()).await
    } else {
        None
    };
    let mut resp = match fast {
        Some(r) => r,
        None => {
            let resp = match &principal {
                Some(p) => {
                    view.handler
                        .handle_with(DavConfig::new().principal(p.clone()), req)
                        .await
                }
                None => view.handler.handle(req).await,
            };
            resp.map(Body::new)
        }
    };
    let ok = resp.status().is_success();

    if let Some(ino) = checked_out {
        if !ok {
            if let Err(e) = view.fs.backend().unlock_document(ino).await {
                tracing::warn!("webdav: undoing the checkout of {raw_path}: {e}");
            }
        }
    }
    if m == "UNLOCK" && ok {
        if let Some(p) = &path {
            if server.ls.locks_on(p).is_empty() {
                end_checkout(view, p).await;
            }
        }
    }

    if let Some(t) = oc_mtime {
        let target = match m {
            "PUT" => path.as_ref(),
            "COPY" | "MOVE" => dest.as_ref(),
            _ => None,
        };
        if let (Some(target), true) = (target, ok) {
            match view.fs.set_mtime(target, t).await {
                Ok(()) => {
                    resp.headers_mut()
                        .insert("x-oc-mtime", HeaderValue::from_static("accepted"));
                }
                Err(e) => tracing::info!("webdav: X-OC-Mtime on {raw_path}: {e:?}"),
            }
        }
    }
    if m == "OPTIONS" {
        resp.headers_mut()
            .insert("ms-author-via", HeaderValue::from_static("DAV"));
    }
    Ok(resp)
}

/// The last lock on `path` is gone (UNLOCK, timeout): end the checkout
/// the VFS made for it, if any (checkIn when written, else cancel).
async fn end_checkout(view: &View, path: &DavPath) {
    if let Ok(a) = view.fs.resolve(path).await {
        if a.kind == FileKind::RegularFile {
            if let Err(e) = view.fs.backend().unlock_document(a.ino).await {
                tracing::warn!(
                    "webdav: ending the checkout of {}: {e}",
                    path.as_url_string()
                );
            }
        }
    }
}

/// MOVE of a file onto an existing file: one VFS rename, so that the VFS
/// can keep the target document (its id, versions and other filings) and
/// store the moved content as its new version, as a save by rename does
/// over FUSE. dav-server would delete the target first. Only taken when no
/// lock and no If header is involved (dav-server checks those otherwise).
async fn move_over_file(
    server: &Server,
    view: &View,
    src: Option<&DavPath>,
    dest: Option<&DavPath>,
) -> Option<Response<Body>> {
    use dav_server::fs::DavFileSystem;
    let (src, dest) = (src?, dest?);
    if src == dest {
        return None;
    }
    if !server.ls.locks_on(src).is_empty() || !server.ls.locks_on(dest).is_empty() {
        return None;
    }
    let (a, b) = (
        view.fs.resolve(src).await.ok()?,
        view.fs.resolve(dest).await.ok()?,
    );
    if a.kind != FileKind::RegularFile || b.kind != FileKind::RegularFile || a.ino == b.ino {
        return None;
    }
    Some(match DavFileSystem::rename(&view.fs, src, dest).await {
        Ok(()) => status(StatusCode::NO_CONTENT),
        Err(e) => {
            tracing::info!("webdav: MOVE onto an existing file: {e:?}");
            status(match e {
                dav_server::fs::FsError::NotFound => StatusCode::NOT_FOUND,
                dav_server::fs::FsError::Forbidden => StatusCode::FORBIDDEN,
                dav_server::fs::FsError::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(bad_path("/a/b.txt").is_none());
        assert!(bad_path("/a/%C3%A9t%C3%A9/").is_none());
        assert!(bad_path("/a/../b").is_some());
        assert!(bad_path("/a/%2e%2e/b").is_some());
        assert!(bad_path("/a/%2E%2E").is_some());
        assert!(bad_path("/a\\..\\b").is_some());
        assert!(bad_path("/a/%5c..%5cb").is_some());
        assert!(bad_path("/a/%ff").is_some());
        assert!(bad_path("/a/%00").is_some());
    }

    #[test]
    fn destinations() {
        assert_eq!(
            destination_path("http://127.0.0.1:8080/x/y", Some("127.0.0.1:8080")),
            Ok("/x/y".into())
        );
        assert_eq!(
            destination_path("http://evil.example:8080/x", Some("127.0.0.1:8080")),
            Err(StatusCode::BAD_GATEWAY)
        );
        assert_eq!(destination_path("/x", None), Ok("/x".into()));
        assert_eq!(
            destination_path("http://h:1/a/%2e%2e/b", Some("h:1")),
            Ok("/a/%2e%2e/b".into())
        );
        assert_eq!(
            destination_path("http://localhost/x", Some("localhost")),
            Ok("/x".into())
        );
    }

    #[test]
    fn xml_vetting() {
        let bomb = b"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">]><D:propfind xmlns:D=\"DAV:\">&lol;</D:propfind>";
        assert!(vet_xml(bomb, false).is_err());
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(vet_xml(deep.as_bytes(), false).is_err());
        assert!(vet_xml(b"<a><b></a>", false).is_err());
        let pp = br#"<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="http://ex/"><D:set><D:prop><D:getlastmodified>Tue, 24 Nov 2026 07:55:19 GMT</D:getlastmodified><Z:x>1</Z:x></D:prop></D:set></D:propertyupdate>"#;
        let out = String::from_utf8(vet_xml(pp, true).unwrap().unwrap()).unwrap();
        assert!(out.contains("cmisfs-mtime:dav-getlastmodified"), "{out}");
        assert!(out.contains("<Z:x>1</Z:x>"));
        assert!(vet_xml(pp, false).unwrap().is_none());
    }

    #[test]
    fn times() {
        let t = parse_http_date("Tue, 24 Nov 2026 07:55:19 GMT").unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1795506919);
        let t = parse_oc_mtime("1700000000.5").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap(),
            Duration::new(1_700_000_000, 500_000_000)
        );
        assert!(parse_oc_mtime("abc").is_none());
        assert_eq!(
            element_text(b"<a:x xmlns:a=\"u\"> 12 </a:x>").as_deref(),
            Some("12")
        );
    }
}
