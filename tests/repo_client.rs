//! The embedded repository driven through the crate's own Browser binding
//! client: every service the file system uses, end to end over HTTP.

use std::sync::Arc;

use cmisfs::cmis::{
    self, Auth, Binding, BindingChoice, ByteRange, ChildrenOptions, CmisError, ConnectOptions,
    ContentUpload, HttpOptions, Properties, PropertyValue, ReadOptions, UnfileObjects,
    VersioningState,
};
use cmisfs::repo::{self, RepoConfig, RunningRepo};

async fn start(dir: &std::path::Path) -> RunningRepo {
    repo::start(RepoConfig {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        users_file: None,
    })
    .await
    .unwrap()
}

async fn client(r: &RunningRepo, user: &str, password: &str) -> Arc<dyn Binding> {
    cmis::connect(&ConnectOptions {
        url: r.service_url(),
        binding: BindingChoice::Browser,
        repository: None,
        http: HttpOptions {
            auth: Auth::Basic {
                user: user.into(),
                password: password.into(),
            },
            ..HttpOptions::default()
        },
    })
    .await
    .unwrap()
}

fn folder(name: &str) -> Properties {
    Properties::new()
        .with_string("cmis:name", name)
        .with_id("cmis:objectTypeId", "cmis:folder")
}

fn doc(name: &str, type_id: &str) -> Properties {
    Properties::new()
        .with_string("cmis:name", name)
        .with_id("cmis:objectTypeId", type_id)
}

fn bytes(name: &str, data: &[u8]) -> ContentUpload {
    ContentUpload::from_bytes(name, "text/plain", data.to_vec())
}

#[tokio::test]
async fn crud_paging_and_content() {
    let dir = tempfile::tempdir().unwrap();
    let r = start(dir.path()).await;
    let b = client(&r, "admin", "admin").await;
    let info = b.repository_info().await.unwrap();
    assert_eq!(info.id, r.repository_id);
    let root = info.root_folder_id.clone();
    let f = b.create_folder(&root, &folder("docs")).await.unwrap();
    assert_eq!(f.path(), Some("/docs"));
    for i in 0..7 {
        b.create_document(
            Some(f.id()),
            &doc(&format!("n{i}.txt"), "cmis:document"),
            Some(bytes("n.txt", format!("content {i}").as_bytes())),
            None,
        )
        .await
        .unwrap();
    }
    let page = b
        .children(
            f.id(),
            &ChildrenOptions {
                max_items: Some(3),
                skip_count: 3,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.objects.len(), 3);
    assert!(page.has_more_items);
    assert_eq!(page.num_items, Some(7));
    assert_eq!(page.objects[0].name(), "n3.txt");
    assert_eq!(page.objects[0].path_segment.as_deref(), Some("n3.txt"));

    let d = b
        .object_by_path("/docs/n2.txt", &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(d.content_length(), Some(9));
    let c = b
        .content(
            d.id(),
            Some(ByteRange {
                offset: 2,
                length: Some(4),
            }),
        )
        .await
        .unwrap();
    assert_eq!(c.range_start, Some(2));
    assert_eq!(c.into_bytes().await.unwrap(), b"nten");

    // Stale change token → updateConflict; fresh one works.
    let renamed = b
        .update_properties(
            d.id(),
            &Properties::new().with_string("cmis:name", "renamed.txt"),
            d.change_token(),
        )
        .await
        .unwrap();
    let e = b
        .update_properties(
            d.id(),
            &Properties::new().with_string("cmis:name", "again.txt"),
            d.change_token(),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, CmisError::UpdateConflict(_)), "{e:?}");
    // Duplicate names and '/' are refused.
    let e = b
        .update_properties(
            renamed.id(),
            &Properties::new().with_string("cmis:name", "n3.txt"),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, CmisError::NameConstraintViolation(_)), "{e:?}");
    let e = b.create_folder(f.id(), &folder("a/b")).await.unwrap_err();
    assert!(matches!(e, CmisError::NameConstraintViolation(_)), "{e:?}");

    // set / append / delete content
    let p = doc("plain.bin", "cmisfs:plainDocument");
    let plain = b
        .create_document(Some(f.id()), &p, None, None)
        .await
        .unwrap();
    let plain = b
        .set_content(plain.id(), bytes("plain.bin", b"abc"), true, None)
        .await
        .unwrap();
    let plain = b
        .append_content(plain.id(), bytes("plain.bin", b"def"), true, None)
        .await
        .unwrap();
    assert_eq!(plain.content_length(), Some(6));
    let e = b
        .set_content(plain.id(), bytes("x", b"x"), false, None)
        .await
        .unwrap_err();
    assert!(matches!(e, CmisError::ContentAlreadyExists(_)), "{e:?}");
    let got = b
        .content(plain.id(), None)
        .await
        .unwrap()
        .into_bytes()
        .await
        .unwrap();
    assert_eq!(got, b"abcdef");
    let plain = b.delete_content(plain.id(), None).await.unwrap();
    assert_eq!(plain.content_length(), None);

    // move, parents, delete, delete tree
    let g = b.create_folder(&root, &folder("other")).await.unwrap();
    let moved = b.move_object(renamed.id(), g.id(), f.id()).await.unwrap();
    assert_eq!(moved.id(), renamed.id());
    let parents = b
        .parents(moved.id(), &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(parents.len(), 1);
    assert_eq!(parents[0].folder.id(), g.id());
    assert_eq!(
        parents[0].relative_path_segment.as_deref(),
        Some("renamed.txt")
    );
    b.delete(moved.id(), true).await.unwrap();
    let e = b
        .object(moved.id(), &ReadOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, CmisError::ObjectNotFound(_)));
    let failed = b
        .delete_tree(f.id(), true, UnfileObjects::Delete, true)
        .await
        .unwrap();
    assert!(failed.is_empty());
    let e = b
        .object_by_path("/docs", &ReadOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, CmisError::ObjectNotFound(_)));
    r.shutdown().await;
}

#[tokio::test]
async fn versioning_multifiling_changes_query() {
    let dir = tempfile::tempdir().unwrap();
    let r = start(dir.path()).await;
    let b = client(&r, "admin", "admin").await;
    let info = b.repository_info().await.unwrap();
    let root = info.root_folder_id.clone();
    let token0 = info.latest_change_log_token.clone();
    let d = b
        .create_document(
            Some(&root),
            &doc("v.txt", "cmis:document"),
            Some(bytes("v.txt", b"one")),
            Some(VersioningState::Major),
        )
        .await
        .unwrap();
    assert_eq!(d.version_label(), Some("1.0"));
    let pwc = b.check_out(d.id()).await.unwrap();
    assert_eq!(pwc.is_private_working_copy(), Some(true));
    let e = b
        .set_content(d.id(), bytes("v.txt", b"x"), true, None)
        .await
        .unwrap_err();
    assert!(matches!(e, CmisError::Versioning(_)), "{e:?}");
    let v2 = b
        .check_in(
            pwc.id(),
            false,
            None,
            Some(bytes("v.txt", b"two")),
            Some("minor"),
        )
        .await
        .unwrap();
    assert_eq!(v2.version_label(), Some("1.1"));
    assert_eq!(v2.checkin_comment(), Some("minor"));
    let pwc = b.check_out(v2.id()).await.unwrap();
    b.cancel_check_out(pwc.id()).await.unwrap();
    let pwc = b.check_out(v2.id()).await.unwrap();
    let v3 = b.check_in(pwc.id(), true, None, None, None).await.unwrap();
    assert_eq!(v3.version_label(), Some("2.0"));
    let all = b.all_versions(d.id()).await.unwrap();
    let labels: Vec<_> = all
        .iter()
        .map(|o| o.version_label().unwrap_or(""))
        .collect();
    assert_eq!(labels, ["2.0", "1.1", "1.0"]);
    let latest = b
        .object_by_path("/v.txt", &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(latest.id(), v3.id());
    let old = b
        .content(d.id(), None)
        .await
        .unwrap()
        .into_bytes()
        .await
        .unwrap();
    assert_eq!(old, b"one");
    // Non-versionable type refuses checkout.
    let plain = b
        .create_document(Some(&root), &doc("p", "cmisfs:plainDocument"), None, None)
        .await
        .unwrap();
    assert!(b.check_out(plain.id()).await.is_err());

    // Multi-filing.
    let a = b.create_folder(&root, &folder("a")).await.unwrap();
    b.add_object_to_folder(v3.id(), a.id(), true).await.unwrap();
    let parents = b.parents(v3.id(), &ReadOptions::default()).await.unwrap();
    assert_eq!(parents.len(), 2);
    let via_a = b
        .object_by_path("/a/v.txt", &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(via_a.id(), v3.id());
    b.remove_object_from_folder(v3.id(), Some(a.id()))
        .await
        .unwrap();
    assert_eq!(
        b.parents(v3.id(), &ReadOptions::default())
            .await
            .unwrap()
            .len(),
        1
    );

    // Change log.
    let changes = b
        .content_changes(token0.as_deref(), true, Some(1000))
        .await
        .unwrap();
    assert!(changes.events.len() >= 8, "{}", changes.events.len());
    assert!(changes.events.iter().any(|e| e.object_id == d.id()));
    let info2 = b.repository_info().await.unwrap();
    assert_ne!(info2.latest_change_log_token, token0);

    // Query.
    let q = b
        .query(
            &format!(
                "SELECT * FROM cmis:document WHERE IN_FOLDER('{root}') AND cmis:name LIKE 'v%'"
            ),
            false,
            Some(10),
            0,
        )
        .await
        .unwrap();
    assert_eq!(q.objects.len(), 1);
    assert_eq!(q.objects[0].id(), v3.id());
    let q = b
        .query(
            "SELECT cmis:name FROM cmis:folder ORDER BY cmis:name",
            false,
            None,
            0,
        )
        .await
        .unwrap();
    assert_eq!(q.objects.len(), 2); // root ("") and a
    let e = b
        .query("SELECT * FROM nothing", false, None, 0)
        .await
        .unwrap_err();
    assert!(matches!(e, CmisError::InvalidArgument(_)), "{e:?}");
    let _ = PropertyValue::String(vec![]);
    r.shutdown().await;
}

/// A checkout gives the PWC the version's content file as a hard link,
/// not a copy (checking out a large document cost a full copy and an
/// fsync of it); an append to the PWC copies first, so the version keeps
/// its bytes, and cancelling the checkout leaves the version's file.
#[tokio::test]
async fn a_checkout_shares_the_content_until_it_changes() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let r = start(dir.path()).await;
    let b = client(&r, "admin", "admin").await;
    let root = b.repository_info().await.unwrap().root_folder_id;
    let links = || -> Vec<u64> {
        let mut n: Vec<u64> = std::fs::read_dir(dir.path().join("content"))
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().nlink())
            .collect();
        n.sort();
        n
    };
    let read = |id: String| {
        let b = b.clone();
        async move {
            b.content(&id, None)
                .await
                .unwrap()
                .into_bytes()
                .await
                .unwrap()
        }
    };
    let d = b
        .create_document(
            Some(&root),
            &doc("s.txt", "cmis:document"),
            Some(bytes("s.txt", b"one")),
            Some(VersioningState::Major),
        )
        .await
        .unwrap();
    assert_eq!(links(), [1]);
    let pwc = b.check_out(d.id()).await.unwrap();
    assert_eq!(links(), [2, 2], "one file under two ids");
    assert_eq!(read(pwc.id().to_string()).await, b"one");
    b.append_content(pwc.id(), bytes("s.txt", b" two"), true, None)
        .await
        .unwrap();
    assert_eq!(links(), [1, 1], "the PWC has its own copy now");
    assert_eq!(read(pwc.id().to_string()).await, b"one two");
    assert_eq!(read(d.id().to_string()).await, b"one");
    b.cancel_check_out(pwc.id()).await.unwrap();
    assert_eq!(links(), [1]);
    let pwc = b.check_out(d.id()).await.unwrap();
    b.cancel_check_out(pwc.id()).await.unwrap();
    assert_eq!(links(), [1]);
    assert_eq!(read(d.id().to_string()).await, b"one");
    let v2 = b.check_out(d.id()).await.unwrap();
    let v2 = b.check_in(v2.id(), true, None, None, None).await.unwrap();
    assert_eq!(read(v2.id().to_string()).await, b"one");
    assert_eq!(read(d.id().to_string()).await, b"one");
}

#[tokio::test]
async fn restart_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (root, doc_id, v2_id, token) = {
        let r = start(dir.path()).await;
        let b = client(&r, "admin", "admin").await;
        let root = b.repository_info().await.unwrap().root_folder_id;
        let f = b.create_folder(&root, &folder("kept")).await.unwrap();
        let d = b
            .create_document(
                Some(f.id()),
                &doc("d.txt", "cmis:document"),
                Some(bytes("d", b"v1")),
                None,
            )
            .await
            .unwrap();
        let pwc = b.check_out(d.id()).await.unwrap();
        let v2 = b
            .check_in(
                pwc.id(),
                true,
                None,
                Some(bytes("d", b"v2")),
                Some("second"),
            )
            .await
            .unwrap();
        let token = b.repository_info().await.unwrap().latest_change_log_token;
        drop(b);
        r.shutdown().await;
        (root, d.id().to_string(), v2.id().to_string(), token)
    };
    let r = start(dir.path()).await;
    let b = client(&r, "admin", "admin").await;
    let info = b.repository_info().await.unwrap();
    assert_eq!(info.root_folder_id, root);
    assert_eq!(info.latest_change_log_token, token);
    let latest = b
        .object_by_path("/kept/d.txt", &ReadOptions::default())
        .await
        .unwrap();
    assert_eq!(latest.id(), v2_id);
    assert_eq!(latest.version_label(), Some("2.0"));
    let all = b.all_versions(&doc_id).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        b.content(&doc_id, None)
            .await
            .unwrap()
            .into_bytes()
            .await
            .unwrap(),
        b"v1"
    );
    assert_eq!(
        b.content(&v2_id, None)
            .await
            .unwrap()
            .into_bytes()
            .await
            .unwrap(),
        b"v2"
    );
    let changes = b.content_changes(None, false, Some(1000)).await.unwrap();
    assert!(changes.events.len() >= 5);
    // New ids never collide with old ones after a restart.
    let again = b.create_folder(&root, &folder("new")).await.unwrap();
    assert_ne!(again.id(), doc_id);
    r.shutdown().await;
}
