//! The AtomPub binding against a small fake server that behaves like the
//! odd real ones: relative links, ids with version suffixes, a create that
//! answers neither entry nor Location, a setContentStream that moves the
//! document to a new id (named by Location), a server that ignores Range,
//! error pages of several shapes, and replies that are not XML at all. It
//! also reads back what the client sent: the streamed base64 entry and the
//! raw content PUT.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;

use cmisfs::cmis::{
    self, prop, Auth, BindingChoice, BindingKind, ByteRange, CmisError, ConnectOptions,
    ContentUpload, HttpOptions, Properties, ReadOptions,
};

const NS: &str = r#"xmlns:atom="http://www.w3.org/2005/Atom" xmlns:app="http://www.w3.org/2007/app" xmlns:cmis="http://docs.oasis-open.org/ns/cmis/core/200908/" xmlns:cmisra="http://docs.oasis-open.org/ns/cmis/restatom/200908/""#;

#[derive(Default)]
struct Seen {
    posted: Option<String>,
    put: Option<(Option<String>, Option<String>, Vec<u8>)>,
    created: bool,
}

type Shared = Arc<Mutex<Seen>>;

fn xml(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/atom+xml;type=entry")],
        body,
    )
        .into_response()
}

fn entry(id: &str, name: &str, folder: bool, path: Option<&str>) -> String {
    let name = name.replace('&', "&amp;");
    let path = path.map(|p| p.replace('&', "&amp;"));
    let base = if folder {
        "cmis:folder"
    } else {
        "cmis:document"
    };
    let path = path
        .as_deref()
        .map(|p| {
            format!(r#"<cmis:propertyString propertyDefinitionId="cmis:path"><cmis:value>{p}</cmis:value></cmis:propertyString>"#)
        })
        .unwrap_or_default();
    // Relative links: resolved against the service URL.
    let enc = id.replace(';', "%3B");
    let down = if folder {
        format!(
            r#"<atom:link rel="down" type="application/atom+xml;type=feed" href="children?id={enc}"/>"#
        )
    } else {
        format!(r#"<atom:link rel="edit-media" href="content?id={enc}"/>"#)
    };
    format!(
        r#"<?xml version="1.0"?><atom:entry {NS}><atom:title>{name}</atom:title>
<atom:link rel="self" href="entry?id={enc}"/>{down}
<cmisra:object><cmis:properties>
<cmis:propertyId propertyDefinitionId="cmis:objectId"><cmis:value>{id}</cmis:value></cmis:propertyId>
<cmis:propertyId propertyDefinitionId="cmis:baseTypeId"><cmis:value>{base}</cmis:value></cmis:propertyId>
<cmis:propertyString propertyDefinitionId="cmis:name"><cmis:value>{name}</cmis:value></cmis:propertyString>
<cmis:propertyString propertyDefinitionId="cmis:contentStreamFileName"/>
{path}</cmis:properties></cmisra:object></atom:entry>"#
    )
}

async fn service(State(_): State<Shared>) -> Response {
    let t = |kind: &str, template: &str| {
        format!("<cmisra:uritemplate><cmisra:template>{template}</cmisra:template><cmisra:type>{kind}</cmisra:type><cmisra:mediatype>application/atom+xml;type=entry</cmisra:mediatype></cmisra:uritemplate>")
    };
    let body = format!(
        r#"<?xml version="1.0"?><app:service {NS}><app:workspace><atom:title>R</atom:title>
<app:collection href="children?id=root"><cmisra:collectionType>root</cmisra:collectionType></app:collection>
<cmisra:repositoryInfo><cmis:repositoryId>R</cmis:repositoryId><cmis:repositoryName>fake</cmis:repositoryName>
<cmis:rootFolderId>root</cmis:rootFolderId><cmis:cmisVersionSupported>1.1</cmis:cmisVersionSupported></cmisra:repositoryInfo>
{}{}</app:workspace></app:service>"#,
        t(
            "objectbyid",
            "id?id={id}&amp;filter={filter}&amp;includeAllowableActions={includeAllowableActions}"
        ),
        t("objectbypath", "path?path={path}&amp;filter={filter}")
    );
    ([(header::CONTENT_TYPE, "application/atomsvc+xml")], body).into_response()
}

async fn by_id(Query(q): Query<HashMap<String, String>>) -> Response {
    let id = q.get("id").map(String::as_str).unwrap_or("");
    match id {
        "root" => xml(StatusCode::OK, entry("root", "", true, Some("/"))),
        "doc;1.0" | "doc;1.1" => xml(StatusCode::OK, entry(id, "doc.txt", false, None)),
        "conflict" => (StatusCode::CONFLICT, "Conflict").into_response(),
        "named-conflict" => (
            StatusCode::CONFLICT,
            "<html><body><h1>nameConstraintViolation</h1><p>taken</p></body></html>",
        )
            .into_response(),
        "not-xml" => (StatusCode::OK, "<html><body>hello").into_response(),
        "json" => (StatusCode::OK, r#"{"a": 1}"#).into_response(),
        "gone" => (StatusCode::GONE, "").into_response(),
        _ => (
            StatusCode::NOT_FOUND,
            "<html><head><title>x</title></head><body><h1>HTTP Status 404 - <!--exception-->objectNotFound<!--/exception--></h1><p><!--message-->no such thing<!--/message--></p></body></html>",
        )
            .into_response(),
    }
}

async fn by_path(State(seen): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let path = q.get("path").map(String::as_str).unwrap_or("");
    let created = seen.lock().map(|s| s.created).unwrap_or(false);
    if path == "/new folder & more" && created {
        return xml(
            StatusCode::OK,
            entry("nf", "new folder & more", true, Some(path)),
        );
    }
    (StatusCode::NOT_FOUND, "").into_response()
}

/// A create that answers 201 with nothing at all.
async fn create(State(seen): State<Shared>, body: Bytes) -> Response {
    if let Ok(mut s) = seen.lock() {
        s.posted = Some(String::from_utf8_lossy(&body).into_owned());
        s.created = true;
    }
    StatusCode::CREATED.into_response()
}

async fn children(Query(_): Query<HashMap<String, String>>) -> Response {
    xml(
        StatusCode::OK,
        format!(r#"<atom:feed {NS}><atom:link rel="self" href="children?id=root"/></atom:feed>"#),
    )
}

/// Ignores Range.
async fn content_get() -> Response {
    ([(header::CONTENT_TYPE, "text/plain")], "0123456789").into_response()
}

/// setContentStream makes a new version: 204, Location names its entry.
async fn content_put(State(seen): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let h = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    if let Ok(mut s) = seen.lock() {
        s.put = Some((
            h(header::CONTENT_TYPE),
            h(header::CONTENT_DISPOSITION),
            body.to_vec(),
        ));
    }
    (
        StatusCode::NO_CONTENT,
        [
            (header::LOCATION, "id?id=doc%3B1.1"),
            (header::CONTENT_LOCATION, "content?id=doc%3B1.1"),
        ],
    )
        .into_response()
}

async fn fake() -> (String, Shared) {
    let seen: Shared = Arc::default();
    let app = Router::new()
        .route("/svc", get(service))
        .route("/id", get(by_id))
        .route("/path", get(by_path))
        .route("/children", get(children).post(create))
        .route("/content", get(content_get).put(content_put))
        .route(
            "/html",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/html")],
                    "<html><body>hi</body></html>",
                )
            }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), seen)
}

fn options(url: String) -> ConnectOptions {
    ConnectOptions {
        url,
        binding: BindingChoice::AtomPub,
        repository: None,
        http: HttpOptions {
            auth: Auth::Basic {
                user: "u".into(),
                password: "p".into(),
            },
            ..HttpOptions::default()
        },
    }
}

#[tokio::test]
async fn odd_server_behaviour() {
    let (base, seen) = fake().await;
    let b = cmis::connect(&options(format!("{base}/svc")))
        .await
        .unwrap();
    assert_eq!(b.kind(), BindingKind::AtomPub);
    let all = ReadOptions::default();

    // Version-suffixed ids pass through templates escaped and come back as sent.
    let doc = b.object("doc;1.0", &all).await.unwrap();
    assert_eq!(doc.id(), "doc;1.0");
    assert_eq!(doc.content_file_name(), None, "a null file name");

    // Range ignored: the whole stream, from byte 0.
    let stream = b
        .content(
            "doc;1.0",
            Some(ByteRange {
                offset: 4,
                length: Some(2),
            }),
        )
        .await
        .unwrap();
    assert_eq!(stream.range_start, None);
    assert_eq!(stream.into_bytes().await.unwrap(), b"0123456789");

    // setContentStream: the raw bytes, and the new id from Location.
    let upload = ContentUpload::from_bytes("naïve.txt", "text/plain", &b"new bytes"[..]);
    let newer = b.set_content("doc;1.0", upload, true, None).await.unwrap();
    assert_eq!(newer.id(), "doc;1.1");
    let (ct, cd, body) = seen.lock().unwrap().put.take().unwrap();
    assert_eq!(ct.as_deref(), Some("text/plain"));
    assert!(cd.unwrap().contains("filename*=UTF-8''na%C3%AFve.txt"));
    assert_eq!(body, b"new bytes");

    // A create answered by nothing: found by the parent's path and name.
    let props = Properties::new()
        .with_string(prop::NAME, "new folder & more")
        .with_id(prop::OBJECT_TYPE_ID, "cmis:folder");
    let folder = b.create_folder("root", &props).await.unwrap();
    assert_eq!(folder.id(), "nf");
    let posted = seen.lock().unwrap().posted.take().unwrap();
    assert!(posted.contains("<atom:title>new folder &amp; more</atom:title>"));

    // A document with content: the entry carries it base64-encoded.
    let props = Properties::new()
        .with_string(prop::NAME, "x.bin")
        .with_id(prop::OBJECT_TYPE_ID, "cmis:document");
    let data: Vec<u8> = (0..=255u8).cycle().take(10_001).collect();
    let _ = b
        .create_document(
            Some("root"),
            &props,
            Some(ContentUpload::from_bytes(
                "x.bin",
                "application/x-thing",
                data.clone(),
            )),
            None,
        )
        .await;
    let posted = seen.lock().unwrap().posted.take().unwrap();
    let b64 = posted
        .split("<cmisra:base64>")
        .nth(1)
        .and_then(|s| s.split("</cmisra:base64>").next())
        .unwrap();
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
        data
    );
    assert!(posted.contains("<cmisra:mediatype>application/x-thing</cmisra:mediatype>"));

    // Errors of every shape.
    let err = b.object("missing", &all).await.unwrap_err();
    assert_eq!(err, CmisError::ObjectNotFound("no such thing".into()));
    let err = b.object("conflict", &all).await.unwrap_err();
    assert!(matches!(err, CmisError::Constraint(_)), "{err:?}");
    let err = b.object("named-conflict", &all).await.unwrap_err();
    assert_eq!(err, CmisError::NameConstraintViolation("taken".into()));
    for id in ["not-xml", "json"] {
        let err = b.object(id, &all).await.unwrap_err();
        assert!(matches!(err, CmisError::Protocol { .. }), "{id}: {err:?}");
    }
    let err = b.object("gone", &all).await.unwrap_err();
    assert!(
        matches!(err, CmisError::Http { status: 410, .. }),
        "{err:?}"
    );
    // No query collection, no change log in this workspace.
    let err = b.query("SELECT * FROM cmis:document", false, None, 0).await;
    assert!(matches!(err, Err(CmisError::NotSupported(_))), "{err:?}");
    let err = b.content_changes(None, false, None).await;
    assert!(matches!(err, Err(CmisError::NotSupported(_))), "{err:?}");
}

#[tokio::test]
async fn not_an_atompub_service() {
    let (base, _) = fake().await;
    for path in ["/html", "/nothing"] {
        let err = cmis::discover(&options(format!("{base}{path}")))
            .await
            .unwrap_err();
        assert!(matches!(err, CmisError::Protocol { .. }), "{path}: {err:?}");
    }
    // A service document of another repository id.
    let mut o = options(format!("{base}/svc"));
    o.repository = Some("other".into());
    assert!(matches!(
        cmis::connect(&o).await.err(),
        Some(CmisError::NoRepository(_))
    ));
}
