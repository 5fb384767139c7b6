//! Authentication: HTTP Basic credentials, checked against the users file or
//! opening a per-user view (passthrough), and the 401 answer.

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode};
use base64::Engine;
use dav_server::ls::DavLock;

use super::expiry::end_checkout;
use super::{status, view, Auth, OpenError, Server, View};
use crate::webdav::fs::DavFs;

impl Server {
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
    pub(super) async fn authenticate(
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

fn unauthorized() -> Response<Body> {
    let mut r = status(StatusCode::UNAUTHORIZED);
    r.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Basic realm=\"cmisfs\", charset=\"UTF-8\""),
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
