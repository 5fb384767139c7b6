//! The HTTP face of the repository: CMIS 1.1 Browser binding URLs,
//! selectors and actions, on axum.
//!
//! URLs: `/browser` (getRepositories), `/browser/<repo>` (repository
//! services: repositoryInfo, types, query, contentChanges, checkedout and
//! unfiled creates), `/browser/<repo>/root[/path]` (object services; the
//! object is `objectId=` or the path). Reads are GET with `cmisselector`,
//! changes are POST with `cmisaction` as an HTML form, urlencoded or
//! multipart; a multipart `content` part is streamed to a temporary file in
//! the store (never held in memory) and handed to the service, which
//! renames it into place.
//!
//! One fallback handler parses everything by hand so that any bad input
//! (invalid UTF-8, bad percent-encoding, unknown selector, malformed form)
//! becomes a CMIS exception in the Browser binding's JSON error format.
//!
//! Here: the router, fault injection, authentication and dispatch; the
//! handlers are in the submodules.

mod admin;
mod content;
mod form;
mod params;
mod read;
mod render;
mod write;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use super::auth::Users;
use super::faults::Faults;
use super::json;
use super::service::{Service, User};
use crate::cmis::error::CmisError;
use admin::admin;
use form::read_form;
use params::decode_path;
pub use params::{parse_urlencoded, Params};
use render::repo_info;

type Result<T> = std::result::Result<T, CmisError>;

/// Characters escaped in a Content-Disposition filename*.
const FILENAME_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_');

/// Largest urlencoded form / text field accepted.
const MAX_FORM: usize = 4 * 1024 * 1024;

pub struct AppState {
    pub svc: Arc<Service>,
    pub users: Users,
    /// Present when fault injection and the admin endpoint are allowed.
    pub faults: Option<Faults>,
}

pub type St = Arc<AppState>;

pub fn router(state: St) -> Router {
    Router::new()
        .fallback(handle)
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

fn error_response(e: &CmisError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(json::error(e))).into_response()
}

fn json_response(status: StatusCode, v: Value) -> Response {
    (status, axum::Json(v)).into_response()
}

async fn handle(State(st): State<St>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let response = match dispatch(st, req).await {
        Ok(r) => r,
        Err(e) => {
            if e.http_status() >= 500 {
                tracing::warn!(%method, %path, "request failed: {e}");
            }
            error_response(&e)
        }
    };
    tracing::debug!(%method, %path, status = response.status().as_u16(), "request");
    response
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| CmisError::Runtime(format!("internal task failed: {e}")))?
}

async fn dispatch(st: St, req: Request) -> Result<Response> {
    let path = req.uri().path().to_string();
    let is_admin_path = path.starts_with("/admin");
    if let (Some(f), false) = (&st.faults, is_admin_path) {
        if let Some(d) = f.latency() {
            tokio::time::sleep(d).await;
        }
        if let Some(status) = f.error() {
            let e = CmisError::Runtime(format!("injected fault (HTTP {status})"));
            let mut r = error_response(&e);
            *r.status_mut() =
                StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return Ok(r);
        }
    }
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let users_check = {
        let st = st.clone();
        blocking(move || Ok(st.users.check_header(auth.as_deref()))).await?
    };
    let Some(user) = users_check else {
        let mut r = error_response(&CmisError::PermissionDenied(
            "authentication required".into(),
        ));
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"cmisfs\""),
        );
        return Ok(r);
    };
    let segs = decode_path(&path)?;
    if segs
        .iter()
        .any(|s| s == "." || s == ".." || s.contains('\0'))
    {
        return Err(CmisError::InvalidArgument(
            "paths must not contain '.', '..' or NUL".into(),
        ));
    }
    let params = parse_urlencoded(req.uri().query().unwrap_or(""))?;
    let base = base_url(req.headers());
    let seg: Vec<&str> = segs.iter().map(String::as_str).collect();
    match seg.as_slice() {
        ["admin", what] => admin(st, user, what, params, req).await,
        ["browser"] => {
            if req.method() != Method::GET {
                return Err(CmisError::NotSupported("use GET on the service URL".into()));
            }
            let info = repo_info(&st, &base).await?;
            Ok(json_response(
                StatusCode::OK,
                json!({ st.svc.repo_id.clone(): info }),
            ))
        }
        ["browser", repo, rest @ ..] => {
            if *repo != st.svc.repo_id {
                return Err(CmisError::ObjectNotFound(format!("no repository '{repo}'")));
            }
            let (object_level, obj_path) = match rest {
                [] => (false, String::new()),
                ["root", tail @ ..] => (true, format!("/{}", tail.join("/"))),
                _ => {
                    return Err(CmisError::ObjectNotFound(format!(
                        "no such resource '{path}'"
                    )))
                }
            };
            let ctx = Ctx {
                st: st.clone(),
                user,
                base,
            };
            if req.method() == Method::GET || req.method() == Method::HEAD {
                // objectId on the repository URL: an object read too (lenient,
                // some clients do this).
                if object_level || params.get("objectId").is_some() {
                    ctx.object_get(params, obj_path, req.headers().clone())
                        .await
                } else {
                    ctx.repo_get(params).await
                }
            } else if req.method() == Method::POST {
                let (form, content) = read_form(&st, params, req).await?;
                ctx.post(form, content, object_level.then_some(obj_path))
                    .await
            } else {
                Err(CmisError::NotSupported(format!(
                    "method {} is not supported",
                    req.method()
                )))
            }
        }
        _ => Err(CmisError::ObjectNotFound(format!(
            "no such resource '{path}'"
        ))),
    }
}

/// `http://host` as the client addressed us.
fn base_url(h: &HeaderMap) -> String {
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// One request on `/browser/<repo>`; its handlers are in `read`, `content`
/// and `write`.
struct Ctx {
    st: St,
    user: User,
    base: String,
}
