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

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::auth::Users;
use super::faults::{FaultConfig, Faults};
use super::json::{self, Filter};
use super::service::{Page, PropInput, Service, Staged, TreeNode, User};
use super::store::{Ace, Kind, ObjRec, Read};
use super::types;
use crate::cmis::error::CmisError;
use crate::cmis::model::{UnfileObjects, VersioningState};

type Result<T> = std::result::Result<T, CmisError>;

/// Characters escaped in a Content-Disposition filename*.
const FILENAME_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_');

/// Largest urlencoded form / text field accepted.
const MAX_FORM: usize = 4 * 1024 * 1024;
/// Most objects one page may hold.
const MAX_PAGE: u64 = 10_000;

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

/// Request parameters (query string or form), names case-insensitive.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, name: &str, default: bool) -> Result<bool> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(CmisError::InvalidArgument(format!(
                "{name} must be true or false, not '{v}'"
            ))),
        }
    }

    fn int(&self, name: &str) -> Result<Option<i64>> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                CmisError::InvalidArgument(format!("{name} must be an integer, not '{v}'"))
            }),
        }
    }

    fn page(&self, default_max: u64) -> Result<Page> {
        let max = self.int("maxItems")?;
        let skip = self.int("skipCount")?;
        if max.is_some_and(|m| m < 0) || skip.is_some_and(|s| s < 0) {
            return Err(CmisError::InvalidArgument(
                "maxItems and skipCount must not be negative".into(),
            ));
        }
        Ok(Page {
            skip: skip.unwrap_or(0) as u64,
            max: max.map_or(default_max, |m| (m as u64).min(MAX_PAGE)),
        })
    }

    fn push(&mut self, k: String, v: String) {
        self.0.push((k, v));
    }

    /// `propertyId[i]` / `propertyValue[i]` or `propertyValue[i][j]`.
    fn properties(&self) -> Result<PropInput> {
        let mut ids: Vec<(usize, String)> = Vec::new();
        for (k, v) in &self.0 {
            if let Some(i) = index1(k, "propertyId") {
                ids.push((i, v.clone()));
            }
        }
        let mut out = PropInput::new();
        for (i, id) in ids {
            let single = format!("propertyValue[{i}]");
            let mut values: Vec<(usize, String)> = Vec::new();
            let mut present = false;
            for (k, v) in &self.0 {
                if k.eq_ignore_ascii_case(&single) {
                    values.push((0, v.clone()));
                    present = true;
                } else if let Some((a, b)) = index2(k, "propertyValue") {
                    if a == i {
                        values.push((b, v.clone()));
                        present = true;
                    }
                }
            }
            values.sort_by_key(|(j, _)| *j);
            let _ = present;
            out.insert(id, values.into_iter().map(|(_, v)| v).collect());
        }
        Ok(out)
    }

    /// `addACEPrincipal[i]` + `addACEPermission[i][j]` (prefix `addACE` or
    /// `removeACE`).
    fn aces(&self, prefix: &str) -> Vec<Ace> {
        let mut out = Vec::new();
        for (k, principal) in &self.0 {
            if let Some(i) = index1(k, &format!("{prefix}Principal")) {
                for (k2, perm) in &self.0 {
                    if let Some((a, _)) = index2(k2, &format!("{prefix}Permission")) {
                        if a == i {
                            out.push(Ace {
                                principal: principal.clone(),
                                permission: perm.clone(),
                            });
                        }
                    }
                }
            }
        }
        out
    }
}

/// `name[3]` → 3.
fn index1(k: &str, name: &str) -> Option<usize> {
    let rest = strip_prefix_ci(k, name)?.strip_prefix('[')?;
    let (n, tail) = rest.split_once(']')?;
    if !tail.is_empty() {
        return None;
    }
    n.parse().ok().filter(|n| *n < 100_000)
}

/// `name[3][1]` → (3, 1).
fn index2(k: &str, name: &str) -> Option<(usize, usize)> {
    let rest = strip_prefix_ci(k, name)?.strip_prefix('[')?;
    let (a, tail) = rest.split_once(']')?;
    let tail = tail.strip_prefix('[')?;
    let (b, end) = tail.split_once(']')?;
    if !end.is_empty() {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

fn decode(s: &str, plus_is_space: bool) -> Result<String> {
    let replaced;
    let s = if plus_is_space && s.contains('+') {
        replaced = s.replace('+', " ");
        replaced.as_str()
    } else {
        s
    };
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| CmisError::InvalidArgument("request is not valid UTF-8".into()))
}

pub fn parse_urlencoded(s: &str) -> Result<Params> {
    let mut p = Params::default();
    for pair in s.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        p.push(decode(k, true)?, decode(v, true)?);
    }
    Ok(p)
}

fn decode_path(path: &str) -> Result<Vec<String>> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| decode(s, false))
        .collect()
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

async fn repo_info(st: &St, base: &str) -> Result<Value> {
    let svc = st.svc.clone();
    let base = base.to_string();
    blocking(move || {
        let r = svc.read()?;
        let token = svc.latest_change_token(&r)?;
        let repo_url = format!("{base}/browser/{}", svc.repo_id);
        let mut settable = serde_json::Map::new();
        for k in [
            "id",
            "localName",
            "localNamespace",
            "displayName",
            "queryName",
            "description",
            "creatable",
            "fileable",
            "queryable",
            "fulltextIndexed",
            "includedInSupertypeQuery",
            "controllablePolicy",
            "controllableACL",
        ] {
            settable.insert(k.to_string(), json!(false));
        }
        let caps = json!({
            "capabilityContentStreamUpdatability": "anytime",
            "capabilityChanges": "properties",
            "capabilityRenditions": "none",
            "capabilityGetDescendants": true,
            "capabilityGetFolderTree": true,
            "capabilityMultifiling": true,
            "capabilityUnfiling": true,
            "capabilityVersionSpecificFiling": false,
            "capabilityPWCSearchable": false,
            "capabilityPWCUpdatable": true,
            "capabilityAllVersionsSearchable": true,
            "capabilityOrderBy": "common",
            "capabilityQuery": "metadataonly",
            "capabilityJoin": "none",
            "capabilityACL": "manage",
            "capabilityCreatablePropertyTypes": {"canCreate": []},
            "capabilityNewTypeSettableAttributes": settable,
        });
        Ok(json!({
            "repositoryId": svc.repo_id,
            "repositoryName": "cmisfs",
            "repositoryDescription": "cmisfs embedded repository",
            "vendorName": "cmisfs",
            "productName": "cmisfs repo",
            "productVersion": env!("CARGO_PKG_VERSION"),
            "rootFolderId": svc.root_id,
            "latestChangeLogToken": token,
            "cmisVersionSupported": "1.1",
            "thinClientURI": "",
            "changesIncomplete": false,
            "changesOnType": ["cmis:document", "cmis:folder"],
            "principalIdAnonymous": "anonymous",
            "principalIdAnyone": "cmis:anyone",
            "capabilities": caps,
            "aclCapabilities": {
                "supportedPermissions": "basic",
                "propagation": "propagate",
                "permissions": [
                    {"permission": "cmis:read", "description": "Read"},
                    {"permission": "cmis:write", "description": "Write"},
                    {"permission": "cmis:all", "description": "All"}
                ],
                "permissionMapping": []
            },
            "extendedFeatures": [],
            "repositoryUrl": repo_url,
            "rootFolderUrl": format!("{repo_url}/root"),
        }))
    })
    .await
}

/// How to render objects for one request.
#[derive(Clone)]
struct Render {
    succinct: bool,
    filter: Filter,
    actions: bool,
    acl: bool,
    path_segment: bool,
}

impl Render {
    fn from(p: &Params) -> Result<Render> {
        Ok(Render {
            succinct: p.flag("succinct", false)?,
            filter: Filter::parse(p.get("filter"))?,
            actions: p.flag("includeAllowableActions", false)?,
            acl: p.flag("includeACL", false)?,
            path_segment: p.flag("includePathSegment", true)?,
        })
    }

    fn object<R: Read>(&self, svc: &Service, r: &R, user: &User, rec: &ObjRec) -> Result<Value> {
        let obj = svc.view(r, user, rec, self.actions)?;
        let acl = if self.acl {
            Some(json::acl(&super::acl::effective(r, rec)?))
        } else {
            None
        };
        Ok(json::object(&obj, self.succinct, &self.filter, acl))
    }
}

struct Ctx {
    st: St,
    user: User,
    base: String,
}

impl Ctx {
    /// Renders one object fresh from a new snapshot.
    async fn render(&self, id: String, render: Render, status: StatusCode) -> Result<Response> {
        let created_id = id.clone();
        let svc = self.st.svc.clone();
        let user = self.user.clone();
        let v = blocking(move || {
            let r = svc.read()?;
            let rec = svc.get(&r, &user, &id)?;
            render.object(&svc, &r, &user, &rec)
        })
        .await?;
        let mut resp = json_response(status, v);
        if status == StatusCode::CREATED {
            if let Ok(h) = HeaderValue::from_str(&format!(
                "{}/browser/{}/root?objectId={}",
                self.base,
                self.st.svc.repo_id,
                percent_encoding::utf8_percent_encode(&created_id, FILENAME_SET)
            )) {
                resp.headers_mut().insert(header::LOCATION, h);
            }
        }
        Ok(resp)
    }

    async fn repo_get(self, p: Params) -> Result<Response> {
        let selector = p
            .get("cmisselector")
            .unwrap_or("repositoryInfo")
            .to_ascii_lowercase();
        let svc = self.st.svc.clone();
        let user = self.user.clone();
        match selector.as_str() {
            "repositoryinfo" => {
                let info = repo_info(&self.st, &self.base).await?;
                Ok(json_response(
                    StatusCode::OK,
                    json!({ svc.repo_id.clone(): info }),
                ))
            }
            "typechildren" => {
                let page = p.page(100)?;
                let parent = p.get("typeId").filter(|s| !s.is_empty());
                if let Some(t) = parent {
                    types::type_def(t)
                        .ok_or_else(|| CmisError::ObjectNotFound(format!("no type '{t}'")))?;
                }
                let all = types::children_of(parent);
                let num = all.len() as u64;
                let list: Vec<Value> = all
                    .iter()
                    .skip(page.skip.min(num) as usize)
                    .take(page.max as usize)
                    .map(|t| json::type_def(t))
                    .collect();
                let more = page.skip.saturating_add(page.max) < num;
                Ok(json_response(
                    StatusCode::OK,
                    json!({"types": list, "hasMoreItems": more, "numItems": num}),
                ))
            }
            "typedescendants" => {
                let parent = p.get("typeId").filter(|s| !s.is_empty());
                if let Some(t) = parent {
                    types::type_def(t)
                        .ok_or_else(|| CmisError::ObjectNotFound(format!("no type '{t}'")))?;
                }
                let depth = p.int("depth")?.unwrap_or(-1);
                if depth == 0 || depth < -1 {
                    return Err(CmisError::InvalidArgument("depth must be -1 or > 0".into()));
                }
                fn tree(parent: Option<&str>, depth: i64) -> Vec<Value> {
                    types::children_of(parent)
                        .into_iter()
                        .map(|t| {
                            let children = if depth == -1 || depth > 1 {
                                tree(Some(t.id), if depth == -1 { -1 } else { depth - 1 })
                            } else {
                                Vec::new()
                            };
                            json!({"type": json::type_def(t), "children": children})
                        })
                        .collect()
                }
                Ok(json_response(
                    StatusCode::OK,
                    Value::Array(tree(parent, depth)),
                ))
            }
            "typedefinition" => {
                let t = p.get("typeId").unwrap_or("");
                let def = types::type_def(t)
                    .ok_or_else(|| CmisError::ObjectNotFound(format!("no type '{t}'")))?;
                Ok(json_response(StatusCode::OK, json::type_def(def)))
            }
            "query" => self.query(p).await,
            "contentchanges" => {
                let succinct = p.flag("succinct", false)?;
                let max = p.page(1000)?.max;
                let token = p.get("changeLogToken").map(str::to_string);
                let (events, more, latest) =
                    blocking(move || svc.changes(token.as_deref(), max)).await?;
                let objects: Vec<Value> = events
                    .into_iter()
                    .map(|(_, ev)| {
                        let mut props = crate::cmis::model::Properties::new();
                        for (k, v) in &ev.properties {
                            let pv = match types::prop_def(k).map(|d| d.property_type) {
                                Some(crate::cmis::model::PropertyType::Id) => {
                                    crate::cmis::model::PropertyValue::Id(vec![v.clone()])
                                }
                                _ => crate::cmis::model::PropertyValue::String(vec![v.clone()]),
                            };
                            props.set(k.clone(), pv);
                        }
                        let (key, pv) = json::properties(&props, succinct, &Filter::default());
                        json!({
                            key: pv,
                            "changeEventInfo": {
                                "changeType": ev.change_type,
                                "changeTime": ev.time,
                            }
                        })
                    })
                    .collect();
                Ok(json_response(
                    StatusCode::OK,
                    json!({"objects": objects, "hasMoreItems": more, "changeLogToken": latest}),
                ))
            }
            "checkedout" => {
                let render = Render::from(&p)?;
                let page = p.page(100)?;
                let v = blocking(move || {
                    let r = svc.read()?;
                    let list = svc.checked_out(&r, &user, None)?;
                    list_json(&svc, &r, &user, &render, list, page)
                })
                .await?;
                Ok(json_response(StatusCode::OK, v))
            }
            other => Err(CmisError::InvalidArgument(format!(
                "unknown repository selector '{other}'"
            ))),
        }
    }

    async fn query(self, p: Params) -> Result<Response> {
        let statement = p
            .get("q")
            .or_else(|| p.get("statement"))
            .ok_or_else(|| CmisError::InvalidArgument("no query statement (q)".into()))?
            .to_string();
        let succinct = p.flag("succinct", false)?;
        let all_versions = p.flag("searchAllVersions", false)?;
        let page = p.page(100)?;
        let svc = self.st.svc.clone();
        let user = self.user.clone();
        let (rows, more, num) =
            blocking(move || svc.query(&user, &statement, all_versions, page)).await?;
        let results: Vec<Value> = rows
            .iter()
            .map(|props| {
                let (key, v) = json::properties(props, succinct, &Filter::default());
                json!({ key: v })
            })
            .collect();
        Ok(json_response(
            StatusCode::OK,
            json!({"results": results, "hasMoreItems": more, "numItems": num}),
        ))
    }

    async fn object_get(self, p: Params, path: String, headers: HeaderMap) -> Result<Response> {
        let svc = self.st.svc.clone();
        let user = self.user.clone();
        let object_id = p.get("objectId").map(str::to_string);
        let return_version = p.get("returnVersion").map(str::to_ascii_lowercase);
        let rec = {
            let svc = svc.clone();
            let user = user.clone();
            blocking(move || {
                let r = svc.read()?;
                let rec = match &object_id {
                    Some(id) => svc.get(&r, &user, id)?,
                    None => svc.by_path(&r, &user, &path)?,
                };
                match return_version.as_deref() {
                    None | Some("") | Some("this") => Ok(rec),
                    Some("latest") => svc.latest_version(&r, &user, &rec.id, false),
                    Some("latestmajor") => svc.latest_version(&r, &user, &rec.id, true),
                    Some(o) => Err(CmisError::InvalidArgument(format!(
                        "bad returnVersion '{o}'"
                    ))),
                }
            })
            .await?
        };
        let default = if rec.kind == Kind::Folder {
            "children"
        } else {
            "content"
        };
        let selector = p
            .get("cmisselector")
            .unwrap_or(default)
            .to_ascii_lowercase();
        if selector == "content" {
            return self.content(rec, &p, &headers).await;
        }
        let render = Render::from(&p)?;
        let id = rec.id.clone();
        let v = match selector.as_str() {
            "object" | "properties" => {
                let only_props = selector == "properties";
                blocking(move || {
                    let r = svc.read()?;
                    let rec = svc.get(&r, &user, &id)?;
                    let v = render.object(&svc, &r, &user, &rec)?;
                    if only_props {
                        let key = if render.succinct {
                            "succinctProperties"
                        } else {
                            "properties"
                        };
                        Ok(v.get(key).cloned().unwrap_or(Value::Null))
                    } else {
                        Ok(v)
                    }
                })
                .await?
            }
            "children" => {
                let page = p.page(100)?;
                let order = p.get("orderBy").map(str::to_string);
                blocking(move || {
                    let r = svc.read()?;
                    let l = svc.children(&r, &user, &id, order.as_deref(), page, false)?;
                    let mut objects = Vec::new();
                    for c in &l.objects {
                        let mut o = json!({"object": render.object(&svc, &r, &user, c)?});
                        if render.path_segment {
                            o["pathSegment"] = json!(c.name);
                        }
                        objects.push(o);
                    }
                    Ok(json!({"objects": objects, "hasMoreItems": l.has_more, "numItems": l.num_items}))
                })
                .await?
            }
            "descendants" | "foldertree" => {
                let folders_only = selector == "foldertree";
                let depth = p.int("depth")?.unwrap_or(if folders_only { -1 } else { 2 });
                blocking(move || {
                    let r = svc.read()?;
                    let tree = svc.tree(&r, &user, &id, depth, folders_only)?;
                    tree_json(&svc, &r, &user, &render, &tree)
                })
                .await?
            }
            "parent" => {
                blocking(move || {
                    let r = svc.read()?;
                    let rec = svc.get(&r, &user, &id)?;
                    if rec.kind != Kind::Folder || rec.parents.is_empty() {
                        return Err(CmisError::InvalidArgument(
                            "only a folder other than the root has a folder parent".into(),
                        ));
                    }
                    let parent = svc.get(&r, &user, &rec.parents[0])?;
                    render.object(&svc, &r, &user, &parent)
                })
                .await?
            }
            "parents" => {
                blocking(move || {
                    let r = svc.read()?;
                    let mut out = Vec::new();
                    for (f, name) in svc.parents(&r, &user, &id)? {
                        let mut o = json!({"object": render.object(&svc, &r, &user, &f)?});
                        if p.flag("includeRelativePathSegment", true)? {
                            o["relativePathSegment"] = json!(name);
                        }
                        out.push(o);
                    }
                    Ok(Value::Array(out))
                })
                .await?
            }
            "versions" => {
                blocking(move || {
                    let r = svc.read()?;
                    let mut out = Vec::new();
                    for v in svc.all_versions(&r, &user, &id)? {
                        out.push(render.object(&svc, &r, &user, &v)?);
                    }
                    Ok(Value::Array(out))
                })
                .await?
            }
            "allowableactions" => {
                blocking(move || {
                    let r = svc.read()?;
                    let rec = svc.get(&r, &user, &id)?;
                    Ok(json::actions(&svc.actions(&r, &user, &rec)?))
                })
                .await?
            }
            "acl" => {
                blocking(move || {
                    let r = svc.read()?;
                    Ok(json::acl(&svc.acl(&r, &user, &id)?))
                })
                .await?
            }
            "checkedout" => {
                let page = p.page(100)?;
                blocking(move || {
                    let r = svc.read()?;
                    let list = svc.checked_out(&r, &user, Some(&id))?;
                    list_json(&svc, &r, &user, &render, list, page)
                })
                .await?
            }
            "policies" | "renditions" => json!([]),
            "relationships" => json!({"objects": [], "hasMoreItems": false, "numItems": 0}),
            other => {
                return Err(CmisError::InvalidArgument(format!(
                    "unknown object selector '{other}'"
                )))
            }
        };
        Ok(json_response(StatusCode::OK, v))
    }

    async fn content(self, rec: ObjRec, p: &Params, headers: &HeaderMap) -> Result<Response> {
        if rec.kind != Kind::Document {
            return Err(CmisError::Constraint(format!(
                "'{}' is a folder and has no content",
                rec.id
            )));
        }
        let Some(c) = rec.content.clone() else {
            return Err(CmisError::Constraint(format!(
                "'{}' has no content stream",
                rec.id
            )));
        };
        let path = self.st.svc.store.content_path(&c.id);
        let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
            None => None,
            Some(h) => match parse_range(h, c.length) {
                Ok(r) => r,
                Err(()) => {
                    return Ok(Response::builder()
                        .status(StatusCode::RANGE_NOT_SATISFIABLE)
                        .header(header::CONTENT_RANGE, format!("bytes */{}", c.length))
                        .body(Body::empty())
                        .unwrap_or_default())
                }
            },
        };
        let (start, len) = range.unwrap_or((0, c.length));
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| CmisError::Storage(format!("cannot open content: {e}")))?;
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| CmisError::Storage(e.to_string()))?;
        let drop_after = self.st.faults.as_ref().and_then(|f| f.drop_after());
        let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), 256 * 1024);
        let body = match drop_after {
            None => Body::from_stream(stream),
            Some(limit) => {
                let mut sent = 0u64;
                let cut = stream.map(move |chunk| {
                    let chunk = chunk?;
                    if sent >= limit {
                        return Err(std::io::Error::other("injected fault: connection dropped"));
                    }
                    let keep = (limit - sent).min(chunk.len() as u64) as usize;
                    sent += keep as u64;
                    if keep < chunk.len() {
                        // Send what fits; the next poll fails.
                        return Ok::<Bytes, std::io::Error>(chunk.slice(..keep));
                    }
                    Ok(chunk)
                });
                // Force a failure even when the limit falls on the end.
                let tail = futures_util::stream::once(async {
                    // Let what was sent reach the client before the cut.
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    Err::<Bytes, std::io::Error>(std::io::Error::other(
                        "injected fault: connection dropped",
                    ))
                });
                Body::from_stream(cut.chain(tail))
            }
        };
        let disposition = match p.get("download") {
            Some(d) if d.eq_ignore_ascii_case("attachment") => "attachment",
            _ => "inline",
        };
        let fname: String =
            percent_encoding::utf8_percent_encode(&c.file_name, FILENAME_SET).to_string();
        let mut b = Response::builder()
            .status(if range.is_some() {
                StatusCode::PARTIAL_CONTENT
            } else {
                StatusCode::OK
            })
            .header(header::CONTENT_LENGTH, len)
            .header(header::ACCEPT_RANGES, "bytes")
            .header(
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename*=UTF-8''{fname}"),
            );
        b = b.header(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&c.mime_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        );
        if range.is_some() {
            let end = (start + len).saturating_sub(1);
            b = b.header(
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{}", c.length),
            );
        }
        b.body(body).map_err(|e| CmisError::Runtime(e.to_string()))
    }

    async fn post(
        self,
        p: Params,
        content: Option<Staged>,
        path: Option<String>,
    ) -> Result<Response> {
        let action = p
            .get("cmisaction")
            .ok_or_else(|| CmisError::InvalidArgument("no cmisaction".into()))?
            .to_ascii_lowercase();
        let render = Render::from(&p)?;
        let svc = self.st.svc.clone();
        let user = self.user.clone();
        // The target object: objectId, else the URL path.
        let target = {
            let svc = svc.clone();
            let user = user.clone();
            let id = p.get("objectId").map(str::to_string);
            let path = path.clone();
            blocking(move || {
                let r = svc.read()?;
                match (id, path) {
                    (Some(id), _) => Ok(Some(svc.get(&r, &user, &id)?.id)),
                    (None, Some(path)) => Ok(Some(svc.by_path(&r, &user, &path)?.id)),
                    (None, None) => Ok(None),
                }
            })
            .await?
        };
        let need = |t: &Option<String>| {
            t.clone()
                .ok_or_else(|| CmisError::InvalidArgument("no objectId".into()))
        };
        let token = p.get("changeToken").map(str::to_string);
        let props = p.properties()?;
        let created = StatusCode::CREATED;
        let ok = StatusCode::OK;
        match action.as_str() {
            "createdocument" => {
                // Unfiled when posted to the repository URL without objectId.
                let folder = target.clone();
                let state = match p
                    .get("versioningState")
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    None | Some("") => None,
                    Some("none") => Some(VersioningState::None),
                    Some("major") => Some(VersioningState::Major),
                    Some("minor") => Some(VersioningState::Minor),
                    Some("checkedout") => Some(VersioningState::CheckedOut),
                    Some(o) => {
                        return Err(CmisError::InvalidArgument(format!(
                            "bad versioningState '{o}'"
                        )))
                    }
                };
                let id = blocking(move || {
                    svc.create_document(&user, folder.as_deref(), &props, content, state)
                })
                .await?;
                self.render(id, render, created).await
            }
            "createfolder" => {
                let folder = need(&target)?;
                let id = blocking(move || svc.create_folder(&user, &folder, &props)).await?;
                self.render(id, render, created).await
            }
            "setcontent" => {
                let id = need(&target)?;
                let staged =
                    content.ok_or_else(|| CmisError::InvalidArgument("no content part".into()))?;
                let overwrite = p.flag("overwriteFlag", true)?;
                let id = blocking(move || {
                    svc.set_content(&user, &id, token.as_deref(), overwrite, staged)
                })
                .await?;
                self.render(id, render, created).await
            }
            "appendcontent" => {
                let id = need(&target)?;
                let staged =
                    content.ok_or_else(|| CmisError::InvalidArgument("no content part".into()))?;
                let id = blocking(move || svc.append_content(&user, &id, token.as_deref(), staged))
                    .await?;
                self.render(id, render, ok).await
            }
            "deletecontent" => {
                let id = need(&target)?;
                let id = blocking(move || svc.delete_content(&user, &id, token.as_deref())).await?;
                self.render(id, render, ok).await
            }
            "update" => {
                let id = need(&target)?;
                let id =
                    blocking(move || svc.update_properties(&user, &id, token.as_deref(), &props))
                        .await?;
                self.render(id, render, ok).await
            }
            "move" => {
                let id = need(&target)?;
                let to = p.get("targetFolderId").unwrap_or("").to_string();
                let from = p.get("sourceFolderId").map(str::to_string);
                let id =
                    blocking(move || svc.move_object(&user, &id, from.as_deref(), &to)).await?;
                self.render(id, render, created).await
            }
            "delete" => {
                let id = need(&target)?;
                let all = p.flag("allVersions", true)?;
                blocking(move || svc.delete_object(&user, &id, all)).await?;
                Ok(StatusCode::OK.into_response())
            }
            "deletetree" => {
                let id = need(&target)?;
                let all = p.flag("allVersions", true)?;
                let cont = p.flag("continueOnFailure", false)?;
                let unfile = match p
                    .get("unfileObjects")
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    None | Some("") | Some("delete") => UnfileObjects::Delete,
                    Some("unfile") => UnfileObjects::Unfile,
                    Some("deletesinglefiled") => UnfileObjects::DeleteSingleFiled,
                    Some(o) => {
                        return Err(CmisError::InvalidArgument(format!(
                            "bad unfileObjects '{o}'"
                        )))
                    }
                };
                let failed =
                    blocking(move || svc.delete_tree(&user, &id, all, unfile, cont)).await?;
                if failed.is_empty() {
                    Ok(StatusCode::OK.into_response())
                } else {
                    Ok(json_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        json!({"ids": failed}),
                    ))
                }
            }
            "addobjecttofolder" => {
                let id = need(&target)?;
                let folder = p.get("folderId").unwrap_or("").to_string();
                let id = blocking(move || svc.add_to_folder(&user, &id, &folder)).await?;
                self.render(id, render, created).await
            }
            "removeobjectfromfolder" => {
                let id = need(&target)?;
                let folder = p.get("folderId").map(str::to_string);
                let id =
                    blocking(move || svc.remove_from_folder(&user, &id, folder.as_deref())).await?;
                self.render(id, render, created).await
            }
            "checkout" => {
                let id = need(&target)?;
                let id = blocking(move || svc.check_out(&user, &id)).await?;
                self.render(id, render, created).await
            }
            "cancelcheckout" => {
                let id = need(&target)?;
                blocking(move || svc.cancel_check_out(&user, &id)).await?;
                Ok(StatusCode::OK.into_response())
            }
            "checkin" => {
                let id = need(&target)?;
                let major = p.flag("major", true)?;
                let comment = p.get("checkinComment").map(str::to_string);
                let id = blocking(move || {
                    svc.check_in(&user, &id, major, &props, content, comment.as_deref())
                })
                .await?;
                self.render(id, render, created).await
            }
            "applyacl" => {
                let id = need(&target)?;
                let add = p.aces("addACE");
                let remove = p.aces("removeACE");
                let v = blocking(move || {
                    svc.apply_acl(&user, &id, &add, &remove)?;
                    let r = svc.read()?;
                    Ok(json::acl(&svc.acl(&r, &user, &id)?))
                })
                .await?;
                Ok(json_response(StatusCode::OK, v))
            }
            "bulkupdate" => {
                let mut targets = Vec::new();
                for (k, v) in &p.0 {
                    if let Some(i) = index1(k, "objectId") {
                        let token = p.get(&format!("changeToken[{i}]")).map(str::to_string);
                        targets.push((v.clone(), token));
                    }
                }
                let v = blocking(move || {
                    let mut out = Vec::new();
                    for (id, token) in targets {
                        // Objects that cannot be updated are left out (spec).
                        if let Ok(new_id) =
                            svc.update_properties(&user, &id, token.as_deref(), &props)
                        {
                            let r = svc.read()?;
                            let rec = svc.get(&r, &user, &new_id)?;
                            out.push(json!({
                                "id": id,
                                "newId": new_id,
                                "changeToken": rec.change_token.to_string(),
                            }));
                        }
                    }
                    Ok(Value::Array(out))
                })
                .await?;
                Ok(json_response(StatusCode::OK, v))
            }
            "query" => self.query(p).await,
            other => Err(CmisError::NotSupported(format!(
                "action '{other}' is not supported"
            ))),
        }
    }
}

fn list_json<R: Read>(
    svc: &Service,
    r: &R,
    user: &User,
    render: &Render,
    list: Vec<ObjRec>,
    page: Page,
) -> Result<Value> {
    let num = list.len() as u64;
    let mut objects = Vec::new();
    for o in list
        .iter()
        .skip(page.skip.min(num) as usize)
        .take(page.max as usize)
    {
        objects.push(render.object(svc, r, user, o)?);
    }
    Ok(json!({
        "objects": objects,
        "hasMoreItems": page.skip.saturating_add(page.max) < num,
        "numItems": num,
    }))
}

fn tree_json<R: Read>(
    svc: &Service,
    r: &R,
    user: &User,
    render: &Render,
    nodes: &[TreeNode],
) -> Result<Value> {
    let mut out = Vec::new();
    for n in nodes {
        let mut o = json!({"object": render.object(svc, r, user, &n.object)?});
        if render.path_segment {
            o["pathSegment"] = json!(n.object.name);
        }
        let mut node = json!({"object": o});
        if !n.children.is_empty() {
            node["children"] = tree_json(svc, r, user, render, &n.children)?;
        }
        out.push(node);
    }
    Ok(Value::Array(out))
}

/// `bytes=a-b` / `bytes=a-` / `bytes=-n` → (start, length); `Ok(None)` for
/// headers we ignore (several ranges, other units), `Err` when
/// unsatisfiable.
fn parse_range(h: &str, total: u64) -> std::result::Result<Option<(u64, u64)>, ()> {
    let Some(spec) = h.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let Ok(n) = b.parse::<u64>() else {
            return Ok(None);
        };
        if n == 0 || total == 0 {
            return Err(());
        }
        let n = n.min(total);
        return Ok(Some((total - n, n)));
    }
    let Ok(start) = a.parse::<u64>() else {
        return Ok(None);
    };
    if start >= total {
        return Err(());
    }
    let end = if b.is_empty() {
        total - 1
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e.min(total - 1),
            Ok(_) => return Ok(None),
            Err(_) => return Ok(None),
        }
    };
    if start == 0 && end == total - 1 {
        // The whole stream: answer 200, not a "partial" 206.
        return Ok(None);
    }
    Ok(Some((start, end - start + 1)))
}

/// Reads a POST body: urlencoded or multipart. Query string parameters
/// count too (form fields win). A file part is streamed to the store's
/// tmp dir and synced.
async fn read_form(st: &St, query: Params, req: Request) -> Result<(Params, Option<Staged>)> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut params = Params::default();
    let mut staged = None;
    if ctype.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| CmisError::InvalidArgument(format!("bad multipart body: {e}")))?;
        let mut fields = 0;
        let mut text_bytes = 0usize;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    return Err(CmisError::InvalidArgument(format!(
                        "bad multipart body: {e}"
                    )))
                }
            };
            fields += 1;
            if fields > 10_000 {
                return Err(CmisError::InvalidArgument("too many form fields".into()));
            }
            let name = field.name().unwrap_or("").to_string();
            if field.file_name().is_some() || name == "content" {
                if staged.is_some() {
                    return Err(CmisError::InvalidArgument(
                        "more than one content part".into(),
                    ));
                }
                let file_name = extended_file_name(field.headers())
                    .or_else(|| field.file_name().map(str::to_string))
                    .unwrap_or_default();
                let mime = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                staged = Some(stage(st, field, file_name, mime).await?);
            } else {
                let mut field = field;
                let mut buf = Vec::new();
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| CmisError::InvalidArgument(format!("bad multipart body: {e}")))?
                {
                    text_bytes += chunk.len();
                    if text_bytes > MAX_FORM {
                        return Err(CmisError::Constraint("form fields too large".into()));
                    }
                    buf.extend_from_slice(&chunk);
                }
                let text = String::from_utf8(buf).map_err(|_| {
                    CmisError::InvalidArgument(format!("field '{name}' is not valid UTF-8"))
                })?;
                params.push(name, text);
            }
        }
    } else {
        let mut body = req.into_body().into_data_stream();
        let mut buf = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk =
                chunk.map_err(|e| CmisError::InvalidArgument(format!("cannot read body: {e}")))?;
            if buf.len() + chunk.len() > MAX_FORM {
                return Err(CmisError::Constraint(
                    "form too large (use multipart for content)".into(),
                ));
            }
            buf.extend_from_slice(&chunk);
        }
        let text = std::str::from_utf8(&buf)
            .map_err(|_| CmisError::InvalidArgument("form is not valid UTF-8".into()))?;
        params = parse_urlencoded(text.trim())?;
    }
    for (k, v) in query.0 {
        if params.get(&k).is_none() {
            params.push(k, v);
        }
    }
    Ok((params, staged))
}

/// The RFC 2231 / 5987 `filename*=UTF-8''...` of a part, which clients
/// use for non-ASCII names and multer does not decode.
fn extended_file_name(h: &HeaderMap) -> Option<String> {
    let cd = h.get(header::CONTENT_DISPOSITION)?.to_str().ok()?;
    for param in cd.split(';') {
        let Some((k, v)) = param.trim().split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("filename*") {
            let v = v.trim().trim_matches('"');
            let (charset, rest) = v.split_once('\'')?;
            let (_, encoded) = rest.split_once('\'')?;
            if !charset.eq_ignore_ascii_case("utf-8") {
                return None;
            }
            return percent_encoding::percent_decode_str(encoded)
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned());
        }
    }
    None
}

/// Streams one multipart file part to a synced temporary file.
async fn stage(
    st: &St,
    mut field: axum::extract::multipart::Field<'_>,
    file_name: String,
    mime: String,
) -> Result<Staged> {
    let path: PathBuf = st.svc.store.tmp_dir().join(format!(
        "up-{:08x}{:08x}",
        super::service::rand_u32(),
        super::service::rand_u32()
    ));
    // From here on, Drop removes the file if anything fails.
    let mut staged = Staged {
        path: path.clone(),
        length: 0,
        mime_type: mime,
        file_name,
    };
    let mut f = tokio::fs::File::create(&path)
        .await
        .map_err(|e| CmisError::Storage(format!("cannot create upload file: {e}")))?;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| CmisError::InvalidArgument(format!("upload broke off: {e}")))?
    {
        f.write_all(&chunk)
            .await
            .map_err(|e| CmisError::Storage(format!("cannot write upload: {e}")))?;
        staged.length += chunk.len() as u64;
    }
    f.flush()
        .await
        .map_err(|e| CmisError::Storage(e.to_string()))?;
    f.sync_all()
        .await
        .map_err(|e| CmisError::Storage(e.to_string()))?;
    Ok(staged)
}

async fn admin(st: St, user: User, what: &str, params: Params, req: Request) -> Result<Response> {
    let Some(faults) = &st.faults else {
        return Err(CmisError::ObjectNotFound(
            "no admin endpoint (faults are off)".into(),
        ));
    };
    if !user.admin {
        return Err(CmisError::PermissionDenied("admin only".into()));
    }
    match (what, req.method().clone()) {
        ("faults", Method::GET) => Ok(json_response(StatusCode::OK, json!(faults.get()))),
        ("faults", Method::POST) => {
            let body = axum::body::to_bytes(req.into_body(), MAX_FORM)
                .await
                .map_err(|e| CmisError::InvalidArgument(e.to_string()))?;
            let c: FaultConfig = serde_json::from_slice(&body)
                .map_err(|e| CmisError::InvalidArgument(format!("bad fault settings: {e}")))?;
            if !(0.0..=1.0).contains(&c.error_rate) || !(0.0..=1.0).contains(&c.drop_rate) {
                return Err(CmisError::InvalidArgument(
                    "rates must be within 0..=1".into(),
                ));
            }
            faults.set(c.clone());
            tracing::warn!(?c, "fault injection settings changed");
            Ok(json_response(StatusCode::OK, json!(c)))
        }
        ("tamper", Method::POST) => {
            let id = params
                .get("objectId")
                .ok_or_else(|| CmisError::InvalidArgument("no objectId".into()))?
                .to_string();
            let path = st
                .svc
                .store
                .tmp_dir()
                .join(format!("tamper-{:08x}", super::service::rand_u32()));
            let mut staged = Staged {
                path: path.clone(),
                length: 0,
                mime_type: String::new(),
                file_name: String::new(),
            };
            let mut f = tokio::fs::File::create(&path)
                .await
                .map_err(|e| CmisError::Storage(e.to_string()))?;
            let mut body = req.into_body().into_data_stream();
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| CmisError::InvalidArgument(e.to_string()))?;
                f.write_all(&chunk)
                    .await
                    .map_err(|e| CmisError::Storage(e.to_string()))?;
                staged.length += chunk.len() as u64;
            }
            f.sync_all()
                .await
                .map_err(|e| CmisError::Storage(e.to_string()))?;
            let svc = st.svc.clone();
            let id = blocking(move || svc.tamper(&id, staged)).await?;
            Ok(json_response(StatusCode::OK, json!({"objectId": id})))
        }
        _ => Err(CmisError::ObjectNotFound(format!(
            "no admin resource '{what}'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-0", 10), Ok(Some((0, 1))));
        assert_eq!(parse_range("bytes=0-", 10), Ok(None));
        assert_eq!(parse_range("bytes=5-", 10), Ok(Some((5, 5))));
        assert_eq!(parse_range("bytes=-3", 10), Ok(Some((7, 3))));
        assert_eq!(parse_range("bytes=2-100", 10), Ok(Some((2, 8))));
        assert_eq!(parse_range("bytes=10-", 10), Err(()));
        assert_eq!(parse_range("bytes=0-1,3-4", 10), Ok(None));
        assert_eq!(parse_range("items=0-1", 10), Ok(None));
    }

    #[test]
    fn form_properties() {
        let p = parse_urlencoded(
            "propertyId[0]=cmis%3Aname&propertyValue[0]=a+b&propertyId[1]=cmis:secondaryObjectTypeIds&propertyValue[1][1]=y&propertyValue[1][0]=x",
        )
        .unwrap();
        let props = p.properties().unwrap();
        assert_eq!(props["cmis:name"], vec!["a b"]);
        assert_eq!(props["cmis:secondaryObjectTypeIds"], vec!["x", "y"]);
        assert!(parse_urlencoded("a=%FF").is_err());
        let p =
            parse_urlencoded("addACEPrincipal[0]=bob&addACEPermission[0][0]=cmis:read").unwrap();
        assert_eq!(p.aces("addACE").len(), 1);
    }
}
