//! The Browser binding client against a small fake server that behaves
//! like the odd real ones: endpoints that are not CMIS, repository infos
//! without URLs, ids with version suffixes, a null content file name, a
//! server that ignores Range, error bodies that are not JSON, errors sent
//! with status 200, and a setContent that answers nothing. It also checks
//! the multipart form as a different parser (multer, via axum) reads it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use cmisfs::cmis::browser::BrowserBinding;
use cmisfs::cmis::http::HttpClient;
use cmisfs::cmis::{
    self, Binding, BindingChoice, ByteRange, CmisError, ConnectOptions, ContentUpload, HttpOptions,
    ReadOptions,
};

/// What the fake server saw of the last POST.
#[derive(Default, Debug)]
struct Seen {
    fields: Vec<(String, String)>,
    content: Option<(String, Option<String>, Vec<u8>)>,
}

type Shared = Arc<Mutex<Seen>>;

fn doc(id: &str, label: &str) -> Value {
    // Succinct form, as some servers send regardless of what was asked.
    json!({"succinctProperties": {
        "cmis:objectId": id,
        "cmis:name": "doc.txt",
        "cmis:baseTypeId": "cmis:document",
        "cmis:objectTypeId": "cmis:document",
        "cmis:versionLabel": label,
        // doc;1.1 is the newest version.
        "cmis:isLatestVersion": label == "1.1",
        "cmis:isPrivateWorkingCopy": false,
        "cmis:contentStreamFileName": null,
        "cmis:contentStreamLength": 10,
        "cmis:lastModificationDate": 1700000000000i64,
    }})
}

async fn service() -> Json<Value> {
    // No repositoryUrl / rootFolderUrl: the client derives them.
    Json(json!({"R": {"repositoryId": "R", "repositoryName": "fake",
        "rootFolderId": "root;1.0", "cmisVersionSupported": "1.1",
        "capabilities": {"capabilityContentStreamUpdatability": "pwconly"}}}))
}

fn folder(id: &str, name: &str, path: &str) -> Value {
    json!({"succinctProperties": {
        "cmis:objectId": id,
        "cmis:name": name,
        "cmis:path": path,
        "cmis:baseTypeId": "cmis:folder",
        "cmis:objectTypeId": "cmis:folder",
    }})
}

/// Objects by path under the root folder URL.
async fn by_path(Path(name): Path<String>) -> Response {
    match name.as_str() {
        "new folder & more" => Json(folder("nf;1", &name, "/new folder & more")).into_response(),
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({"exception": "objectNotFound", "message": name})),
        )
            .into_response(),
    }
}

async fn root_get(Query(q): Query<HashMap<String, String>>) -> Response {
    let id = q.get("objectId").map(String::as_str).unwrap_or("");
    let selector = q.get("cmisselector").map(String::as_str).unwrap_or("");
    match (id, selector) {
        ("doc;1.0", "object") => Json(doc("doc;1.0", "1.0")).into_response(),
        ("doc;1.1", "object") => Json(doc("doc;1.1", "1.1")).into_response(),
        ("root;1.0", "object") => Json(folder("root;1.0", "", "/")).into_response(),
        // Ignores Range: 200 and the whole stream.
        ("doc;1.0", "content") => {
            ([(header::CONTENT_TYPE, "text/plain")], "0123456789").into_response()
        }
        ("html404", _) => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Not Found</body></html>",
        )
            .into_response(),
        ("boom", _) => (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        ("suppressed", _) => {
            Json(json!({"exception": "objectNotFound", "message": "gone"})).into_response()
        }
        ("garbage", _) => {
            ([(header::CONTENT_TYPE, "application/json")], "{not json").into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({"exception": "objectNotFound", "message": format!("no {id}")})),
        )
            .into_response(),
    }
}

async fn root_get_latest(q: Query<HashMap<String, String>>) -> Response {
    // returnVersion=latest on the old id answers the new version.
    if q.get("returnVersion").map(String::as_str) == Some("latest") {
        return Json(doc("doc;1.1", "1.1")).into_response();
    }
    root_get(q).await
}

async fn root_post(State(seen): State<Shared>, mut form: Multipart) -> Response {
    let mut s = Seen::default();
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or("").to_string();
        if name == "content" {
            let file_name = field.file_name().unwrap_or("").to_string();
            let ctype = field.content_type().map(str::to_string);
            let data = field.bytes().await.unwrap_or_default().to_vec();
            s.content = Some((file_name, ctype, data));
        } else {
            assert!(s.content.is_none(), "control {name} after the content");
            s.fields
                .push((name, field.text().await.unwrap_or_default()));
        }
    }
    let action = s
        .fields
        .iter()
        .find(|(n, _)| n == "cmisaction")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    *seen.lock().unwrap() = s;
    match action.as_str() {
        // A new version, and no body at all.
        "setContent" => StatusCode::CREATED.into_response(),
        "delete" => StatusCode::OK.into_response(),
        // Created, but no object in the reply.
        "createFolder" => StatusCode::CREATED.into_response(),
        _ => (
            StatusCode::BAD_REQUEST,
            Json(json!({"exception": "invalidArgument", "message": action})),
        )
            .into_response(),
    }
}

async fn html() -> Response {
    ([(header::CONTENT_TYPE, "text/html")], "<html>hello</html>").into_response()
}

async fn not_cmis() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn teapot(_h: HeaderMap) -> Response {
    Response::builder()
        .status(418)
        .body(Body::from("short and stout"))
        .unwrap()
}

async fn start() -> (String, Shared) {
    let seen = Shared::default();
    let app = Router::new()
        .route("/svc", get(service))
        .route("/svc/R/root", get(root_get_latest).post(root_post))
        .route("/svc/R/root/{name}", get(by_path))
        .route("/html", get(html))
        .route("/notcmis", get(not_cmis))
        .route("/teapot", get(teapot))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), seen)
}

fn client() -> HttpClient {
    HttpClient::new(&HttpOptions::default()).unwrap()
}

#[tokio::test]
async fn discovery_says_what_came_back_instead_of_cmis() {
    let (base, _) = start().await;
    let c = client();
    let e = BrowserBinding::discover(&c, &format!("{base}/html"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CmisError::Protocol { message } if message.contains("got text/html, not a CMIS Browser binding reply")),
        "{e:?}"
    );
    let e = BrowserBinding::discover(&c, &format!("{base}/notcmis"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CmisError::Protocol { message } if message.contains("not a repository list")),
        "{e:?}"
    );
    let e = BrowserBinding::discover(&c, &format!("{base}/teapot"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, CmisError::Protocol { message } if message.contains("HTTP 418")),
        "{e:?}"
    );
    let e = BrowserBinding::discover(&c, &format!("{base}/nothing"))
        .await
        .unwrap_err();
    assert!(matches!(&e, CmisError::Protocol { .. }), "{e:?}");
    let e = BrowserBinding::discover(&c, "not a url").await.unwrap_err();
    assert!(matches!(&e, CmisError::InvalidArgument(_)), "{e:?}");

    let repos = BrowserBinding::discover(&c, &format!("{base}/svc"))
        .await
        .unwrap();
    assert_eq!(repos.len(), 1);
    assert_eq!(repos[0].root_folder_id, "root;1.0");
    assert_eq!(
        repos[0].capabilities.content_stream_updatability,
        cmis::ContentStreamUpdates::PwcOnly
    );
    // Auto on the fake service finds the Browser binding.
    let d = cmis::discover(&ConnectOptions {
        url: format!("{base}/svc"),
        binding: BindingChoice::Auto,
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(d.kind, cmis::BindingKind::Browser);
}

#[tokio::test]
async fn odd_but_valid_replies() {
    let (base, seen) = start().await;
    let b = BrowserBinding::open(client(), &format!("{base}/svc"), "R")
        .await
        .unwrap();
    // Derived URLs work; the id with its version suffix goes back intact.
    let o = b.object("doc;1.0", &ReadOptions::default()).await.unwrap();
    assert_eq!(o.id(), "doc;1.0");
    assert_eq!(o.content_file_name(), None);
    assert_eq!(o.content_length(), Some(10));
    assert_eq!(
        o.last_modification_date().map(|d| d.timestamp_millis()),
        Some(1_700_000_000_000)
    );

    // A server that ignores Range: the whole body, range_start None.
    let s = b
        .content(
            "doc;1.0",
            Some(ByteRange {
                offset: 3,
                length: Some(2),
            }),
        )
        .await
        .unwrap();
    assert_eq!(s.range_start, None);
    assert_eq!(s.into_bytes().await.unwrap(), b"0123456789");

    // setContent answers nothing, and the old id now names an old version:
    // the new version is found and returned.
    let upload = ContentUpload::from_bytes("ü \"x\".txt", "text/plain", &b"new content"[..]);
    let new = b
        .set_content("doc;1.0", upload, true, Some("tok;1"))
        .await
        .unwrap();
    assert_eq!(new.id(), "doc;1.1");
    let s = std::mem::take(&mut *seen.lock().unwrap());
    let field = |n: &str| {
        s.fields
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("cmisaction"), Some("setContent"));
    assert_eq!(field("objectId"), Some("doc;1.0"));
    assert_eq!(field("changeToken"), Some("tok;1"));
    assert_eq!(field("overwriteFlag"), Some("true"));
    let (file_name, ctype, data) = s.content.expect("content part");
    assert_eq!(data, b"new content");
    assert_eq!(ctype.as_deref(), Some("text/plain"));
    // multer ignores filename* and reads the browser-style filename.
    assert_eq!(file_name, "ü %22x%22.txt");

    b.delete("doc;1.0", true).await.unwrap();

    // A create that answers no object: found by the parent's path + name.
    let created = b
        .create_folder(
            "root;1.0",
            &cmis::Properties::new()
                .with_string("cmis:name", "new folder & more")
                .with_id("cmis:objectTypeId", "cmis:folder"),
        )
        .await
        .unwrap();
    assert_eq!(created.id(), "nf;1");
}

#[tokio::test]
async fn error_bodies_map_to_variants() {
    let (base, _) = start().await;
    let b = BrowserBinding::open(client(), &format!("{base}/svc"), "R")
        .await
        .unwrap();
    let r = ReadOptions::default();
    assert!(matches!(
        b.object("missing", &r).await,
        Err(CmisError::ObjectNotFound(m)) if m == "no missing"
    ));
    // Not JSON: by HTTP status.
    assert!(matches!(
        b.object("html404", &r).await,
        Err(CmisError::ObjectNotFound(_))
    ));
    assert!(matches!(b.object("boom", &r).await, Err(CmisError::Runtime(m)) if m == "boom"));
    // suppressResponseCodes style: an exception with 200.
    assert!(matches!(
        b.object("suppressed", &r).await,
        Err(CmisError::ObjectNotFound(_))
    ));
    // Broken JSON: a protocol error, no panic.
    assert!(matches!(
        b.object("garbage", &r).await,
        Err(CmisError::Protocol { .. })
    ));
    // The server's exception for an action it refuses.
    assert!(matches!(
        b.check_out("doc;1.0").await,
        Err(CmisError::InvalidArgument(m)) if m == "checkOut"
    ));
}
