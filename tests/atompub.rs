//! The AtomPub binding against a real OpenCMIS InMemory server, over CMIS
//! 1.1 (`/atom11`) and CMIS 1.0 (`/atom`). Needs `CMISFS_OPENCMIS_URL`
//! (start the server with `tests/opencmis-server.sh start`); without it
//! every test fails, saying so.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use cmisfs::cmis::*;

fn server_url() -> String {
    std::env::var("CMISFS_OPENCMIS_URL").unwrap_or_else(|_| {
        panic!(
            "CMISFS_OPENCMIS_URL is not set: run `tests/opencmis-server.sh start` \
             (needs Java 17, mvn and jetty9) and export the URL it prints"
        )
    })
}

fn options(endpoint: &str, binding: BindingChoice) -> ConnectOptions {
    ConnectOptions {
        url: format!("{}/{endpoint}", server_url()),
        binding,
        repository: Some("A1".into()),
        http: HttpOptions {
            auth: Auth::Basic {
                user: "test".into(),
                password: "test".into(),
            },
            ..HttpOptions::default()
        },
    }
}

async fn binding(endpoint: &str) -> Arc<dyn Binding> {
    connect(&options(endpoint, BindingChoice::AtomPub))
        .await
        .expect("connect")
}

fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}-{nanos}-{}", N.fetch_add(1, Ordering::Relaxed))
}

fn named(name: &str, type_id: &str) -> Properties {
    Properties::new()
        .with_string(prop::NAME, name)
        .with_id(prop::OBJECT_TYPE_ID, type_id)
}

async fn scratch_folder(b: &dyn Binding) -> CmisObject {
    let info = b.repository_info().await.unwrap();
    b.create_folder(
        &info.root_folder_id,
        &named(&unique("atompub"), "cmis:folder"),
    )
    .await
    .unwrap()
}

/// A byte pattern in odd-sized chunks (exercises the base64 carry).
fn chunked(name: &str, data: &[u8]) -> ContentUpload {
    let mut chunks = Vec::new();
    let mut rest = data;
    let sizes = [1usize, 2, 7, 65_537, 4, 100_000];
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].min(rest.len());
        chunks.push(Ok(Bytes::copy_from_slice(&rest[..n])));
        rest = &rest[n..];
        i += 1;
    }
    ContentUpload {
        file_name: name.into(),
        mime_type: "application/octet-stream".into(),
        length: Some(data.len() as u64),
        body: Box::pin(futures_util::stream::iter(chunks)),
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

async fn read_all(b: &dyn Binding, id: &str, range: Option<ByteRange>) -> (Vec<u8>, Option<u64>) {
    let stream = b.content(id, range).await.unwrap();
    let start = stream.range_start;
    (stream.into_bytes().await.unwrap(), start)
}

async fn create_doc(b: &dyn Binding, folder: &str, name: &str, data: &[u8]) -> CmisObject {
    b.create_document(
        Some(folder),
        &named(name, "cmis:document"),
        Some(chunked(name, data)),
        None,
    )
    .await
    .unwrap()
}

// ----- the cases -----------------------------------------------------------

async fn discovery(endpoint: &str) {
    let d = discover(&options(endpoint, BindingChoice::AtomPub))
        .await
        .unwrap();
    assert_eq!(d.kind, BindingKind::AtomPub);
    let repo = select_repository(&d.repositories, Some("A1")).unwrap();
    assert!(!repo.root_folder_id.is_empty());
    let expected = if endpoint == "atom" { "1.0" } else { "1.1" };
    assert_eq!(repo.cmis_version_supported, expected);
    // Auto: the Browser binding does not answer on an AtomPub URL.
    let b = connect(&options(endpoint, BindingChoice::Auto))
        .await
        .unwrap();
    assert_eq!(b.kind(), BindingKind::AtomPub);
    let info = b.repository_info().await.unwrap();
    assert_eq!(info.id, "A1");
    assert!(info.capabilities.multifiling);
    let t = b.type_definition("cmis:document").await.unwrap();
    assert_eq!(t.base_type, Some(BaseType::Document));
    assert!(t.property_definitions.contains_key(prop::NAME));
    // Not a CMIS URL at all.
    let mut bad = options(endpoint, BindingChoice::AtomPub);
    bad.url = format!("{}/nothing-here", server_url());
    match discover(&bad).await {
        Err(CmisError::Protocol { .. }) => {}
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

async fn documents_and_reads(endpoint: &str) {
    let b = binding(endpoint).await;
    let b = &*b;
    let folder = scratch_folder(b).await;
    let sub = b
        .create_folder(folder.id(), &named("sub", "cmis:folder"))
        .await
        .unwrap();
    assert!(sub.is_folder());
    let big = pattern(5 << 20);
    for (name, data) in [
        ("empty.bin", Vec::new()),
        ("one.bin", vec![42u8]),
        ("big.bin", big.clone()),
    ] {
        let doc = create_doc(b, sub.id(), name, &data).await;
        assert_eq!(doc.name(), name);
        assert_eq!(doc.content_length(), Some(data.len() as u64));
        let (got, _) = read_all(b, doc.id(), None).await;
        assert_eq!(got, data, "{name}");
        let path = format!("{}/sub/{name}", folder.path().unwrap());
        let by_path = b
            .object_by_path(&path, &ReadOptions::default())
            .await
            .unwrap();
        assert_eq!(by_path.id(), doc.id());
        let parents = b.parents(doc.id(), &ReadOptions::default()).await.unwrap();
        assert_eq!(parents.len(), 1);
        assert_eq!(parents[0].folder.id(), sub.id());
        assert_eq!(parents[0].relative_path_segment.as_deref(), Some(name));
    }
    // A document without content at all.
    let bare = b
        .create_document(Some(sub.id()), &named("bare", "cmis:document"), None, None)
        .await
        .unwrap();
    assert_eq!(bare.name(), "bare");
    let list = b
        .children(
            sub.id(),
            &ChildrenOptions {
                read: ReadOptions {
                    filter: None,
                    include_allowable_actions: true,
                },
                ..ChildrenOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(list.objects.len(), 4);
    assert!(!list.has_more_items);
    for o in &list.objects {
        assert_eq!(o.path_segment.as_deref(), Some(o.name()));
        assert!(o.allowable_actions.is_some());
    }
    let parents = b.parents(sub.id(), &ReadOptions::default()).await.unwrap();
    assert_eq!(parents[0].folder.id(), folder.id());
    assert_eq!(parents[0].relative_path_segment.as_deref(), Some("sub"));
    let info = b.repository_info().await.unwrap();
    assert!(b
        .parents(&info.root_folder_id, &ReadOptions::default())
        .await
        .unwrap()
        .is_empty());

    // Ranged reads of the big one.
    let doc = b
        .object_by_path(
            &format!("{}/sub/big.bin", folder.path().unwrap()),
            &ReadOptions::default(),
        )
        .await
        .unwrap();
    let len = big.len() as u64;
    for (offset, length) in [(0u64, Some(1u64)), (len / 2, Some(1000)), (len - 1, None)] {
        let (got, start) = read_all(b, doc.id(), Some(ByteRange { offset, length })).await;
        let from = start.unwrap_or(0) as usize;
        let slice = &got[(offset as usize - from)..];
        let want_end = length.map_or(len, |l| offset + l) as usize;
        assert_eq!(
            &slice[..want_end - offset as usize],
            &big[offset as usize..want_end]
        );
    }
    b.delete_tree(folder.id(), true, UnfileObjects::Delete, true)
        .await
        .unwrap();
}

async fn paging(endpoint: &str) {
    let b = binding(endpoint).await;
    let b = &*b;
    let folder = scratch_folder(b).await;
    for i in 0..250 {
        b.create_folder(folder.id(), &named(&format!("f{i:03}"), "cmis:folder"))
            .await
            .unwrap();
    }
    let mut names = Vec::new();
    let mut skip = 0;
    loop {
        let page = b
            .children(
                folder.id(),
                &ChildrenOptions {
                    max_items: Some(100),
                    skip_count: skip,
                    order_by: Some("cmis:name ASC".into()),
                    ..ChildrenOptions::default()
                },
            )
            .await
            .unwrap();
        assert!(page.objects.len() <= 100);
        skip += page.objects.len() as u64;
        names.extend(page.objects.iter().map(|o| o.name().to_string()));
        if !page.has_more_items {
            break;
        }
    }
    let want: Vec<String> = (0..250).map(|i| format!("f{i:03}")).collect();
    assert_eq!(names, want);
    b.delete_tree(folder.id(), true, UnfileObjects::Delete, false)
        .await
        .unwrap();
}

async fn rename_move_multifile(endpoint: &str) {
    let b = binding(endpoint).await;
    let b = &*b;
    let folder = scratch_folder(b).await;
    let a = b
        .create_folder(folder.id(), &named("a", "cmis:folder"))
        .await
        .unwrap();
    let c = b
        .create_folder(folder.id(), &named("c", "cmis:folder"))
        .await
        .unwrap();
    let doc = create_doc(b, a.id(), "doc.txt", b"hello").await;
    let token = doc.change_token().map(str::to_string);
    let renamed = b
        .update_properties(
            doc.id(),
            &Properties::new().with_string(prop::NAME, "renamed.txt"),
            token.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(renamed.name(), "renamed.txt");
    // The old token is stale now.
    if token.is_some() && token.as_deref() != renamed.change_token() {
        let err = b
            .update_properties(
                doc.id(),
                &Properties::new().with_string(prop::NAME, "again.txt"),
                token.as_deref(),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, CmisError::UpdateConflict(_)), "{err:?}");
    }
    // A property update without a rename keeps the name.
    let described = b
        .update_properties(
            doc.id(),
            &Properties::new().with_string(prop::DESCRIPTION, "words"),
            renamed.change_token(),
        )
        .await;
    if let Ok(d) = described {
        assert_eq!(d.name(), "renamed.txt");
    }
    let moved = b.move_object(doc.id(), c.id(), a.id()).await.unwrap();
    assert_eq!(moved.name(), "renamed.txt");
    let parents = b
        .parents(moved.id(), &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(parents.len(), 1);
    assert_eq!(parents[0].folder.id(), c.id());
    // Multi-filing.
    b.add_object_to_folder(moved.id(), a.id(), false)
        .await
        .unwrap();
    let parents = b
        .parents(moved.id(), &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(parents.len(), 2);
    b.remove_object_from_folder(moved.id(), Some(a.id()))
        .await
        .unwrap();
    let parents = b
        .parents(moved.id(), &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(parents.len(), 1);
    assert_eq!(parents[0].folder.id(), c.id());
    // Delete, then it is gone.
    b.delete(moved.id(), true).await.unwrap();
    let err = b
        .object(moved.id(), &ReadOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CmisError::ObjectNotFound(_)), "{err:?}");
    let failed = b
        .delete_tree(folder.id(), true, UnfileObjects::Delete, true)
        .await
        .unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    let err = b.object(a.id(), &ReadOptions::default()).await.unwrap_err();
    assert!(matches!(err, CmisError::ObjectNotFound(_)), "{err:?}");
}

async fn content_updates(endpoint: &str) {
    let b = binding(endpoint).await;
    let b = &*b;
    let folder = scratch_folder(b).await;
    let doc = create_doc(b, folder.id(), "c.txt", b"one").await;
    let doc = b
        .set_content(
            doc.id(),
            ContentUpload::from_bytes("c.txt", "text/plain", &b"two!"[..]),
            true,
            doc.change_token(),
        )
        .await
        .unwrap();
    assert_eq!(read_all(b, doc.id(), None).await.0, b"two!");
    let err = b
        .set_content(
            doc.id(),
            ContentUpload::from_bytes("c.txt", "text/plain", &b"x"[..]),
            false,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CmisError::ContentAlreadyExists(_)), "{err:?}");
    let appended = b
        .append_content(
            doc.id(),
            ContentUpload::from_bytes("c.txt", "text/plain", &b"three"[..]),
            true,
            None,
        )
        .await;
    if endpoint == "atom" {
        assert!(
            matches!(appended, Err(CmisError::NotSupported(_))),
            "{appended:?}"
        );
    } else {
        let doc = appended.unwrap();
        assert_eq!(read_all(b, doc.id(), None).await.0, b"two!three");
    }
    let doc = b.delete_content(doc.id(), None).await.unwrap();
    assert_eq!(doc.content_length().unwrap_or(0), 0);
    b.delete_tree(folder.id(), true, UnfileObjects::Delete, true)
        .await
        .unwrap();
}

async fn versioning(endpoint: &str) {
    let b = binding(endpoint).await;
    let b = &*b;
    let folder = scratch_folder(b).await;
    let doc = b
        .create_document(
            Some(folder.id()),
            &named("v.txt", "VersionableType"),
            Some(ContentUpload::from_bytes("v.txt", "text/plain", &b"v1"[..])),
            Some(VersioningState::Major),
        )
        .await
        .unwrap();
    assert_eq!(doc.version_label(), Some("1.0"));
    let pwc = b.check_out(doc.id()).await.unwrap();
    assert_eq!(pwc.is_private_working_copy(), Some(true));
    let err = b.check_out(doc.id()).await.unwrap_err();
    assert!(
        matches!(
            err,
            CmisError::Versioning(_) | CmisError::Constraint(_) | CmisError::UpdateConflict(_)
        ),
        "{err:?}"
    );
    let pwc = b
        .set_content(
            pwc.id(),
            ContentUpload::from_bytes("v.txt", "text/plain", &b"v1.1"[..]),
            true,
            None,
        )
        .await
        .unwrap();
    let v11 = b
        .check_in(pwc.id(), false, None, None, Some("minor"))
        .await
        .unwrap();
    assert_eq!(v11.version_label(), Some("1.1"));
    assert_eq!(read_all(b, v11.id(), None).await.0, b"v1.1");
    let pwc = b.check_out(v11.id()).await.unwrap();
    let v20 = b
        .check_in(
            pwc.id(),
            true,
            Some(&Properties::new().with_string(prop::DESCRIPTION, "two")),
            Some(chunked("v.txt", b"version two")),
            Some("major"),
        )
        .await
        .unwrap();
    assert_eq!(v20.version_label(), Some("2.0"));
    assert_eq!(read_all(b, v20.id(), None).await.0, b"version two");
    let versions = b.all_versions(v20.id()).await.unwrap();
    let labels: Vec<_> = versions.iter().filter_map(|v| v.version_label()).collect();
    assert_eq!(labels, ["2.0", "1.1", "1.0"]);
    // cancelCheckOut restores.
    let pwc = b.check_out(v20.id()).await.unwrap();
    b.cancel_check_out(pwc.id()).await.unwrap();
    let latest = b.object(v20.id(), &ReadOptions::default()).await.unwrap();
    assert_eq!(latest.is_version_series_checked_out(), Some(false));
    // Checking in something that is not a PWC.
    let err = b
        .check_in(v20.id(), true, None, None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CmisError::Versioning(_)
                | CmisError::Constraint(_)
                | CmisError::InvalidArgument(_)
                | CmisError::UpdateConflict(_)
        ),
        "{err:?}"
    );
    b.delete_tree(folder.id(), true, UnfileObjects::Delete, true)
        .await
        .unwrap();
}

async fn changes_and_query(endpoint: &str) {
    let b = binding(endpoint).await;
    let b = &*b;
    let start = b.repository_info().await.unwrap().latest_change_log_token;
    let folder = scratch_folder(b).await;
    let doc = create_doc(b, folder.id(), "q.txt", b"query me").await;
    let changes = b
        .content_changes(start.as_deref(), false, None)
        .await
        .unwrap();
    // OpenCMIS InMemory's change log is simulated (a fixed set of
    // events): only the call and its token can be checked there.
    assert!(!changes.events.is_empty());
    assert!(changes.latest_change_log_token.is_some());
    let page = b.content_changes(None, true, Some(2)).await.unwrap();
    assert!(page.events.len() <= 2);
    let q = format!(
        "SELECT * FROM cmis:document WHERE cmis:name = 'q.txt' AND IN_FOLDER('{}')",
        folder.id()
    );
    let found = b.query(&q, false, Some(10), 0).await.unwrap();
    assert_eq!(found.objects.len(), 1);
    assert_eq!(found.objects[0].id(), doc.id());
    b.delete_tree(folder.id(), true, UnfileObjects::Delete, true)
        .await
        .unwrap();
}

async fn special_names(endpoint: &str) {
    let b = binding(endpoint).await;
    let b = &*b;
    let folder = scratch_folder(b).await;
    let path = folder.path().unwrap().to_string();
    for name in [
        "with space",
        "ünïcødé ✓",
        "quote's",
        "per%cent",
        "hash#tag",
        "plus+sign",
        "a&b;c=d",
        "semi;colon (1) [2] {3} ~",
    ] {
        let doc = create_doc(b, folder.id(), name, name.as_bytes()).await;
        assert_eq!(doc.name(), name);
        let by_path = b
            .object_by_path(&format!("{path}/{name}"), &ReadOptions::default())
            .await
            .unwrap();
        assert_eq!(by_path.id(), doc.id(), "{name}");
        assert_eq!(read_all(b, doc.id(), None).await.0, name.as_bytes());
        let sub = b
            .create_folder(folder.id(), &named(&format!("d {name}"), "cmis:folder"))
            .await
            .unwrap();
        assert_eq!(sub.name(), format!("d {name}"));
    }
    b.delete_tree(folder.id(), true, UnfileObjects::Delete, true)
        .await
        .unwrap();
}

async fn errors(endpoint: &str) {
    let b = binding(endpoint).await;
    let b = &*b;
    let folder = scratch_folder(b).await;
    let err = b
        .object("no-such-object", &ReadOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CmisError::ObjectNotFound(_)), "{err:?}");
    let doc = create_doc(b, folder.id(), "dup.txt", b"x").await;
    let err = b
        .create_document(
            Some(folder.id()),
            &named("dup.txt", "cmis:document"),
            None,
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CmisError::NameConstraintViolation(_)
                | CmisError::ContentAlreadyExists(_)
                | CmisError::Constraint(_)
        ),
        "{err:?}"
    );
    let err = b
        .children(doc.id(), &ChildrenOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, CmisError::InvalidArgument(_)), "{err:?}");
    let err = b
        .create_folder(folder.id(), &named("bad", "no:such:type"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CmisError::InvalidArgument(_) | CmisError::ObjectNotFound(_) | CmisError::Constraint(_)
        ),
        "{err:?}"
    );
    // cmis:document is not versionable there.
    let err = b.check_out(doc.id()).await.unwrap_err();
    assert!(
        matches!(
            err,
            CmisError::Versioning(_) | CmisError::Constraint(_) | CmisError::NotSupported(_)
        ),
        "{err:?}"
    );
    // Deleting a non-empty folder is a constraint violation.
    let err = b.delete(folder.id(), true).await.unwrap_err();
    assert!(matches!(err, CmisError::Constraint(_)), "{err:?}");
    b.delete_tree(folder.id(), true, UnfileObjects::Delete, true)
        .await
        .unwrap();
}

async fn typed_properties(endpoint: &str) {
    use chrono::TimeZone;
    let b = binding(endpoint).await;
    let b = &*b;
    let folder = scratch_folder(b).await;
    let when = chrono::Utc
        .with_ymd_and_hms(2024, 2, 29, 23, 59, 58)
        .single()
        .unwrap();
    let mut props = named("typed &amp; odd", "ComplexType");
    props
        .set(
            "StringProp",
            PropertyValue::String(vec!["a < b & c".into()]),
        )
        .set("IdProp", PropertyValue::Id(vec!["id-1".into()]))
        .set("IdPropMV", PropertyValue::Id(vec!["x".into(), "y".into()]))
        .set("IntProp", PropertyValue::Integer(vec![-42]))
        .set("IntPropMV", PropertyValue::Integer(vec![1, 2, 3]))
        .set("BooleanProp", PropertyValue::Boolean(vec![true]))
        .set("DecimalProp", PropertyValue::Decimal(vec![1.5]))
        .set("DateTimeProp", PropertyValue::DateTime(vec![when]))
        .set(
            "UriProp",
            PropertyValue::Uri(vec!["http://example.com/?a=1&b=2".into()]),
        )
        .set("HtmlProp", PropertyValue::Html(vec!["<p>hi</p>".into()]));
    let doc = b
        .create_document(Some(folder.id()), &props, None, None)
        .await
        .unwrap();
    let got = b.object(doc.id(), &ReadOptions::default()).await.unwrap();
    for (id, value) in props.iter() {
        assert_eq!(got.properties.get(id), Some(value), "{id}");
    }
    // Clearing a value and changing another.
    let mut change = Properties::new();
    change
        .set("StringProp", PropertyValue::String(vec![]))
        .set("IntPropMV", PropertyValue::Integer(vec![7]));
    let got = b
        .update_properties(doc.id(), &change, got.change_token())
        .await
        .unwrap();
    assert_eq!(got.name(), "typed &amp; odd");
    assert!(got
        .properties
        .get("StringProp")
        .is_none_or(|v| v.is_empty()));
    assert_eq!(
        got.properties.get("IntPropMV"),
        Some(&PropertyValue::Integer(vec![7]))
    );
    b.delete_tree(folder.id(), true, UnfileObjects::Delete, true)
        .await
        .unwrap();
}

async fn unfiled_documents(endpoint: &str) {
    let b = binding(endpoint).await;
    let b = &*b;
    let folder = scratch_folder(b).await;
    let doc = b
        .create_document(
            None,
            &named(&unique("unfiled"), "cmis:document"),
            Some(ContentUpload::from_bytes("u", "text/plain", &b"u"[..])),
            None,
        )
        .await
        .unwrap();
    assert!(b
        .parents(doc.id(), &ReadOptions::default())
        .await
        .unwrap()
        .is_empty());
    b.add_object_to_folder(doc.id(), folder.id(), true)
        .await
        .unwrap();
    let parents = b.parents(doc.id(), &ReadOptions::default()).await.unwrap();
    assert_eq!(parents.len(), 1);
    assert_eq!(parents[0].folder.id(), folder.id());
    // Removed from every folder: unfiled again.
    b.remove_object_from_folder(doc.id(), None).await.unwrap();
    assert!(b
        .parents(doc.id(), &ReadOptions::default())
        .await
        .unwrap()
        .is_empty());
    assert_eq!(read_all(b, doc.id(), None).await.0, b"u");
    b.delete(doc.id(), true).await.unwrap();
    b.delete_tree(folder.id(), true, UnfileObjects::Delete, true)
        .await
        .unwrap();
}

macro_rules! endpoint_tests {
    ($($module:ident => $endpoint:literal),*) => {$(
        mod $module {
            #[tokio::test]
            async fn discovery() { super::discovery($endpoint).await }
            #[tokio::test]
            async fn documents_and_reads() { super::documents_and_reads($endpoint).await }
            #[tokio::test]
            async fn paging() { super::paging($endpoint).await }
            #[tokio::test]
            async fn rename_move_multifile() { super::rename_move_multifile($endpoint).await }
            #[tokio::test]
            async fn content_updates() { super::content_updates($endpoint).await }
            #[tokio::test]
            async fn versioning() { super::versioning($endpoint).await }
            #[tokio::test]
            async fn changes_and_query() { super::changes_and_query($endpoint).await }
            #[tokio::test]
            async fn special_names() { super::special_names($endpoint).await }
            #[tokio::test]
            async fn typed_properties() { super::typed_properties($endpoint).await }
            #[tokio::test]
            async fn unfiled_documents() { super::unfiled_documents($endpoint).await }
            #[tokio::test]
            async fn errors() { super::errors($endpoint).await }
        }
    )*};
}

endpoint_tests!(atom11 => "atom11", atom10 => "atom");
