//! One request: the handler axum calls, its checks, and the behaviours done
//! around dav-server (LOCK = checkout, MOVE over a file, X-OC-Mtime, OPTIONS).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, Request, Response, StatusCode};
use dav_server::davpath::DavPath;
use dav_server::DavConfig;

use super::checks::{bad_path, destination_path, log_refusal, vet_xml, MAX_XML_BODY};
use super::expiry::end_checkout;
use super::mtime::parse_oc_mtime;
use super::{status, xml_error, Server, View};
use crate::vfs::{FileKind, VfsError};

pub(super) async fn handle(
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

    // A collection copied or moved into itself: dav-server would walk the
    // tree it is adding to.
    if let (Some(src), Some(dst)) = (dav_path(&raw_path), &dest) {
        let mut inside = src.as_bytes().to_vec();
        if inside.last() != Some(&b'/') {
            inside.push(b'/');
        }
        if dst.as_bytes().starts_with(&inside) {
            log_refusal(
                peer,
                &method,
                &raw_path,
                StatusCode::FORBIDDEN,
                "destination inside the source",
            );
            return Err(status(StatusCode::FORBIDDEN));
        }
    }

    // dav-server deletes a collection's members before the collection
    // itself: the root would be emptied, then refused.
    if m == "DELETE" && dav_path(&raw_path).is_some_and(|p| p.as_bytes().iter().all(|&b| b == b'/'))
    {
        log_refusal(
            peer,
            &method,
            &raw_path,
            StatusCode::FORBIDDEN,
            "the root collection cannot be deleted",
        );
        return Err(status(StatusCode::FORBIDDEN));
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
