//! The contract suite of `src/cmis/`: the same cases against every target
//! (a server reached over one binding). Adding a target is one line next to
//! the others: `contract_suite!(name, || async_fn_returning_a_target());`
//! (targets are built in `common/mod.rs`).
//!
//! Each case works in its own fresh folder under the root, so cases run in
//! parallel. Where a server deviates from the spec in a documented way,
//! the case asserts that documented behaviour (see `common::Quirks`)
//! instead of skipping.

mod common;

use std::collections::BTreeSet;

use futures_util::StreamExt;

use cmisfs::cmis::{
    self, prop, BindingChoice, ByteRange, ChangesCapability, ChildrenOptions, CmisError,
    ConnectOptions, Properties, PropertyType, PropertyValue, QueryCapability, ReadOptions,
    UnfileObjects, VersioningState,
};
use common::*;

/// One `#[tokio::test]` per case for a target.
macro_rules! contract_suite {
    ($target:ident, $make:expr) => {
        mod $target {
            #[allow(unused_imports)]
            use super::*;
            contract_suite!(@cases $make;
                repository_and_root,
                connect_auto_detects_binding,
                folder_tree,
                documents_of_several_sizes,
                read_by_id_and_by_path,
                ranged_reads,
                paging_over_250_children,
                rename_and_move,
                multifiling,
                delete_and_delete_tree,
                check_out_and_check_in_make_versions,
                cancel_check_out_restores,
                stale_change_token_is_update_conflict,
                content_changes,
                awkward_names_round_trip,
                error_kinds,
                append_and_delete_content,
                query_in_folder,
                typed_properties_round_trip
            );
        }
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let target = ($make)().await;
                super::cases::$case(&target).await;
            }
        )*
    };
}

// The targets. A case's test is `<target>::<case>`, e.g.
// `cargo test --test contract opencmis_browser::ranged_reads`.
contract_suite!(opencmis_browser, || opencmis("browser"));
contract_suite!(opencmis_atompub11, || opencmis("atom11"));
contract_suite!(opencmis_atompub10, || opencmis("atom"));
// The embedded repository over the Browser binding.
contract_suite!(embedded_browser, embedded);

mod cases {
    use super::*;

    fn all() -> ReadOptions {
        ReadOptions::default()
    }

    pub async fn repository_and_root(t: &Target) {
        let b = &*t.binding;
        assert_eq!(b.kind(), t.expected_kind);
        assert!(!t.info.root_folder_id.is_empty());
        let root = b.object(&t.info.root_folder_id, &all()).await.unwrap();
        assert!(root.is_folder());
        assert_eq!(root.id(), t.info.root_folder_id);
        let by_path = b.object_by_path("/", &all()).await.unwrap();
        assert_eq!(by_path.id(), t.info.root_folder_id);
        let folder_type = b.type_definition("cmis:folder").await.unwrap();
        assert_eq!(folder_type.base_type, Some(cmis::BaseType::Folder));
        let v = b.type_definition(&t.versionable_type).await.unwrap();
        assert_eq!(
            v.versionable,
            Some(true),
            "{} is versionable",
            t.versionable_type
        );
    }

    pub async fn connect_auto_detects_binding(t: &Target) {
        let options = ConnectOptions {
            binding: BindingChoice::Auto,
            ..t.options.clone()
        };
        let discovery = cmis::discover(&options).await.unwrap();
        assert_eq!(discovery.kind, t.expected_kind);
        assert!(discovery.repositories.iter().any(|r| r.id == t.info.id));
        let b = cmis::connect(&options).await.unwrap();
        assert_eq!(b.kind(), t.expected_kind);
        assert_eq!(b.repository_id(), t.info.id);
    }

    pub async fn folder_tree(t: &Target) {
        let fx = Fixture::new(t, "tree").await;
        let b = &*t.binding;
        let a = b.create_folder(fx.id(), &folder_props("a")).await.unwrap();
        assert!(a.is_folder());
        assert_eq!(a.name(), "a");
        let ab = b.create_folder(a.id(), &folder_props("b")).await.unwrap();
        let abc = b.create_folder(ab.id(), &folder_props("c")).await.unwrap();
        let a2 = b.create_folder(fx.id(), &folder_props("a2")).await.unwrap();

        let deep = b
            .object_by_path(&format!("{}/a/b/c", fx.path), &all())
            .await
            .unwrap();
        assert_eq!(deep.id(), abc.id());
        assert_eq!(deep.path(), Some(format!("{}/a/b/c", fx.path).as_str()));
        assert_eq!(deep.parent_id(), Some(ab.id()));

        let page = b
            .children(fx.id(), &ChildrenOptions::default())
            .await
            .unwrap();
        let names: BTreeSet<&str> = page.objects.iter().map(|o| o.name()).collect();
        assert_eq!(names, BTreeSet::from(["a", "a2"]));
        assert!(!page.has_more_items);
        for o in &page.objects {
            assert_eq!(o.path_segment.as_deref(), Some(o.name()));
        }

        let parents = b.parents(abc.id(), &all()).await.unwrap();
        assert_eq!(parents.len(), 1);
        assert_eq!(parents[0].folder.id(), ab.id());
        let _ = a2;
        fx.finish().await;
    }

    pub async fn documents_of_several_sizes(t: &Target) {
        let fx = Fixture::new(t, "sizes").await;
        let b = &*t.binding;
        for (name, len) in [("zero", 0usize), ("one", 1), ("five-mib", 5 << 20)] {
            let data = pattern(len, 7);
            let doc = create_doc(b, fx.id(), name, &data).await;
            assert!(doc.is_document());
            assert_eq!(doc.name(), name);
            // A 0-byte document may or may not count as having content.
            if len > 0 {
                assert_eq!(doc.content_length(), Some(len as u64), "{name}");
            } else {
                assert!(matches!(doc.content_length(), None | Some(0)));
            }
            let back = read_all(b, doc.id()).await;
            assert_eq!(back.len(), len, "{name}: length read back");
            assert!(back == data, "{name}: content read back differs");
            let again = b.object(doc.id(), &all()).await.unwrap();
            assert_eq!(again.id(), doc.id());
        }
        fx.finish().await;
    }

    pub async fn read_by_id_and_by_path(t: &Target) {
        let fx = Fixture::new(t, "byidpath").await;
        let b = &*t.binding;
        let sub = b
            .create_folder(fx.id(), &folder_props("sub"))
            .await
            .unwrap();
        let doc = create_doc(b, sub.id(), "doc.txt", b"hello").await;
        let by_id = b
            .object(
                doc.id(),
                &ReadOptions {
                    include_allowable_actions: true,
                    ..all()
                },
            )
            .await
            .unwrap();
        let by_path = b
            .object_by_path(&format!("{}/sub/doc.txt", fx.path), &all())
            .await
            .unwrap();
        assert_eq!(by_id.id(), doc.id());
        assert_eq!(by_path.id(), doc.id());
        assert_eq!(by_path.name(), "doc.txt");
        assert_eq!(by_id.content_length(), Some(5));
        assert!(by_id.created_by().is_some());
        assert!(by_id.creation_date().is_some());
        assert!(by_id.last_modification_date().is_some());
        assert!(by_id.change_token().is_some());
        assert_eq!(by_id.allows(cmis::Action::GetContentStream), Some(true));
        // A property filter is honoured at least for what we asked for.
        let filtered = b
            .object(
                doc.id(),
                &ReadOptions {
                    filter: Some("cmis:name,cmis:objectId".into()),
                    ..all()
                },
            )
            .await
            .unwrap();
        assert_eq!(filtered.name(), "doc.txt");
        fx.finish().await;
    }

    pub async fn ranged_reads(t: &Target) {
        let fx = Fixture::new(t, "ranges").await;
        let b = &*t.binding;
        let data = pattern(100_000, 3);
        let doc = create_doc(b, fx.id(), "ranged.bin", &data).await;
        let n = data.len() as u64;
        let ranges = [
            (0, Some(1)),         // first byte
            (40_000, Some(1000)), // middle
            (n - 1, Some(1)),     // last byte
            (99_000, None),       // to the end
        ];
        for (offset, length) in ranges {
            let stream = b
                .content(doc.id(), Some(ByteRange { offset, length }))
                .await
                .unwrap();
            let start = stream.range_start;
            let body = stream.into_bytes().await.unwrap();
            let end = length.map_or(n, |l| offset + l) as usize;
            match start {
                Some(s) => {
                    assert_eq!(s, offset);
                    assert!(
                        body == data[offset as usize..end],
                        "range {offset}+{length:?}"
                    );
                }
                // The server ignored Range: the whole stream from byte 0.
                None => assert!(body == data, "full body when Range is ignored"),
            }
        }
        fx.finish().await;
    }

    pub async fn paging_over_250_children(t: &Target) {
        let fx = Fixture::new(t, "paging").await;
        let b = t.binding.clone();
        let folder = fx.id().to_string();
        let created: Vec<String> = futures_util::stream::iter(0..250)
            .map(|i| {
                let b = b.clone();
                let folder = folder.clone();
                async move {
                    let name = format!("child-{i:03}");
                    create_doc(&*b, &folder, &name, &[]).await;
                    name
                }
            })
            .buffer_unordered(8)
            .collect()
            .await;
        assert_eq!(created.len(), 250);

        // Stable paging wants an order; where the repository offers one,
        // the pages come sorted by name.
        let ordered = t
            .info
            .capabilities
            .order_by
            .as_deref()
            .is_some_and(|o| o != "none");
        let mut seen = Vec::new();
        let mut skip = 0;
        let mut pages = 0;
        loop {
            let page = b
                .children(
                    &folder,
                    &ChildrenOptions {
                        max_items: Some(100),
                        skip_count: skip,
                        order_by: ordered.then(|| "cmis:name ASC".to_string()),
                        ..ChildrenOptions::default()
                    },
                )
                .await
                .unwrap();
            pages += 1;
            assert!(page.objects.len() <= 100, "a page exceeds maxItems");
            assert!(!page.objects.is_empty() || !page.has_more_items);
            if let Some(total) = page.num_items {
                assert_eq!(total, 250);
            }
            skip += page.objects.len() as u64;
            seen.extend(page.objects.into_iter().map(|o| o.name().to_string()));
            if !page.has_more_items {
                break;
            }
            assert!(pages < 50, "paging does not end");
        }
        assert!(
            pages >= 3,
            "250 children in pages of 100 take 3 pages, took {pages}"
        );
        if ordered {
            let mut sorted = seen.clone();
            sorted.sort();
            assert_eq!(seen, sorted, "pages ordered by cmis:name");
        }
        let unique: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(seen.len(), 250, "children listed");
        assert_eq!(unique.len(), 250, "duplicates in the pages");
        let expected: BTreeSet<&String> = created.iter().collect();
        assert_eq!(unique, expected);
        fx.finish().await;
    }

    pub async fn rename_and_move(t: &Target) {
        let fx = Fixture::new(t, "renmove").await;
        let b = &*t.binding;
        let src = b
            .create_folder(fx.id(), &folder_props("src"))
            .await
            .unwrap();
        let dst = b
            .create_folder(fx.id(), &folder_props("dst"))
            .await
            .unwrap();
        let doc = create_doc(b, src.id(), "old.txt", b"data").await;

        let renamed = b
            .update_properties(
                doc.id(),
                &Properties::new().with_string(prop::NAME, "new.txt"),
                doc.change_token(),
            )
            .await
            .unwrap();
        assert_eq!(renamed.name(), "new.txt");
        let by_path = b
            .object_by_path(&format!("{}/src/new.txt", fx.path), &all())
            .await
            .unwrap();
        assert_eq!(by_path.id(), renamed.id());
        expect_err(
            b.object_by_path(&format!("{}/src/old.txt", fx.path), &all())
                .await,
            "old name after rename",
            |e| matches!(e, CmisError::ObjectNotFound(_)),
        );

        // A folder renames too.
        let src2 = b
            .update_properties(
                src.id(),
                &Properties::new().with_string(prop::NAME, "src2"),
                src.change_token(),
            )
            .await
            .unwrap();
        assert_eq!(src2.name(), "src2");

        let moved = b
            .move_object(renamed.id(), dst.id(), src.id())
            .await
            .unwrap();
        assert_eq!(moved.name(), "new.txt");
        let parents = b.parents(moved.id(), &all()).await.unwrap();
        assert_eq!(parents.len(), 1);
        assert_eq!(parents[0].folder.id(), dst.id());
        let at = b
            .object_by_path(&format!("{}/dst/new.txt", fx.path), &all())
            .await
            .unwrap();
        assert_eq!(at.id(), moved.id());
        assert_eq!(read_all(b, moved.id()).await, b"data");
        let left = b
            .children(src.id(), &ChildrenOptions::default())
            .await
            .unwrap();
        assert!(left.objects.is_empty());
        fx.finish().await;
    }

    pub async fn multifiling(t: &Target) {
        let fx = Fixture::new(t, "multifile").await;
        let b = &*t.binding;
        let one = b
            .create_folder(fx.id(), &folder_props("one"))
            .await
            .unwrap();
        let two = b
            .create_folder(fx.id(), &folder_props("two"))
            .await
            .unwrap();
        let doc = create_doc(b, one.id(), "shared.txt", b"x").await;
        if !t.info.capabilities.multifiling {
            // The documented alternative: the service is refused.
            expect_err(
                b.add_object_to_folder(doc.id(), two.id(), true).await,
                "addObjectToFolder without multifiling",
                |e| matches!(e, CmisError::NotSupported(_) | CmisError::Constraint(_)),
            );
            fx.finish().await;
            return;
        }
        b.add_object_to_folder(doc.id(), two.id(), true)
            .await
            .unwrap();
        let parents = b.parents(doc.id(), &all()).await.unwrap();
        let ids: BTreeSet<&str> = parents.iter().map(|p| p.folder.id()).collect();
        assert_eq!(ids, BTreeSet::from([one.id(), two.id()]));
        for p in &parents {
            assert_eq!(p.relative_path_segment.as_deref(), Some("shared.txt"));
        }
        let in_two = b
            .children(two.id(), &ChildrenOptions::default())
            .await
            .unwrap();
        assert_eq!(in_two.objects.len(), 1);
        assert_eq!(in_two.objects[0].id(), doc.id());
        let by_path = b
            .object_by_path(&format!("{}/two/shared.txt", fx.path), &all())
            .await
            .unwrap();
        assert_eq!(by_path.id(), doc.id());

        b.remove_object_from_folder(doc.id(), Some(two.id()))
            .await
            .unwrap();
        let parents = b.parents(doc.id(), &all()).await.unwrap();
        assert_eq!(parents.len(), 1);
        assert_eq!(parents[0].folder.id(), one.id());
        let in_two = b
            .children(two.id(), &ChildrenOptions::default())
            .await
            .unwrap();
        assert!(in_two.objects.is_empty());
        fx.finish().await;
    }

    pub async fn delete_and_delete_tree(t: &Target) {
        let fx = Fixture::new(t, "delete").await;
        let b = &*t.binding;
        let doc = create_doc(b, fx.id(), "gone.txt", b"x").await;
        b.delete(doc.id(), true).await.unwrap();
        expect_err(b.object(doc.id(), &all()).await, "deleted document", |e| {
            matches!(e, CmisError::ObjectNotFound(_))
        });

        let top = b
            .create_folder(fx.id(), &folder_props("top"))
            .await
            .unwrap();
        let mid = b
            .create_folder(top.id(), &folder_props("mid"))
            .await
            .unwrap();
        let d1 = create_doc(b, top.id(), "d1", b"1").await;
        let d2 = create_doc(b, mid.id(), "d2", b"2").await;
        let failed = b
            .delete_tree(top.id(), true, UnfileObjects::Delete, true)
            .await
            .unwrap();
        assert!(failed.is_empty(), "{failed:?}");
        for id in [top.id(), mid.id(), d1.id(), d2.id()] {
            expect_err(
                b.object(id, &all()).await,
                "object of a deleted tree",
                |e| matches!(e, CmisError::ObjectNotFound(_)),
            );
        }
        // An empty folder is deleted with deleteObject.
        let empty = b
            .create_folder(fx.id(), &folder_props("empty"))
            .await
            .unwrap();
        b.delete(empty.id(), true).await.unwrap();
        let left = b
            .children(fx.id(), &ChildrenOptions::default())
            .await
            .unwrap();
        assert!(left.objects.is_empty());
        fx.finish().await;
    }

    /// Creates a major-versioned document of the versionable type: 1.0.
    async fn versioned_doc(t: &Target, folder: &str, name: &str, data: &[u8]) -> cmis::CmisObject {
        let doc = t
            .binding
            .create_document(
                Some(folder),
                &doc_props(name, &t.versionable_type),
                Some(upload(name, data.to_vec())),
                Some(VersioningState::Major),
            )
            .await
            .unwrap();
        assert_eq!(doc.version_label(), Some("1.0"));
        assert_eq!(doc.is_major_version(), Some(true));
        assert_eq!(doc.is_latest_version(), Some(true));
        doc
    }

    pub async fn check_out_and_check_in_make_versions(t: &Target) {
        let fx = Fixture::new(t, "versions").await;
        let b = &*t.binding;
        let v1 = versioned_doc(t, fx.id(), "versioned.txt", b"one").await;

        // 1.0 -> checkOut -> setContentStream on the PWC -> minor checkIn = 1.1
        let pwc = b.check_out(v1.id()).await.unwrap();
        assert_eq!(pwc.is_private_working_copy(), Some(true));
        assert_ne!(pwc.id(), v1.id());
        let doc = b.object(v1.id(), &all()).await.unwrap();
        assert_eq!(doc.is_version_series_checked_out(), Some(true));
        assert_eq!(doc.version_series_checked_out_id(), Some(pwc.id()));
        let pwc = b
            .set_content(
                pwc.id(),
                upload("versioned.txt", &b"two"[..]),
                true,
                pwc.change_token(),
            )
            .await
            .unwrap();
        let v11 = b
            .check_in(pwc.id(), false, None, None, Some("minor change"))
            .await
            .unwrap();
        assert_eq!(v11.version_label(), Some("1.1"));
        assert_eq!(v11.is_major_version(), Some(false));
        assert_eq!(v11.is_latest_version(), Some(true));
        assert_eq!(v11.checkin_comment(), Some("minor change"));
        assert_eq!(read_all(b, v11.id()).await, b"two");

        // -> checkOut -> checkIn major with new content = 2.0
        let pwc = b.check_out(v11.id()).await.unwrap();
        let v2 = b
            .check_in(
                pwc.id(),
                true,
                None,
                Some(upload("versioned.txt", &b"three"[..])),
                Some("major change"),
            )
            .await
            .unwrap();
        assert_eq!(v2.version_label(), Some("2.0"));
        assert_eq!(v2.is_major_version(), Some(true));
        assert_eq!(read_all(b, v2.id()).await, b"three");

        let versions = b.all_versions(v2.id()).await.unwrap();
        let labels: Vec<&str> = versions.iter().filter_map(|v| v.version_label()).collect();
        assert_eq!(labels, ["2.0", "1.1", "1.0"], "newest first");
        let series: BTreeSet<Option<&str>> =
            versions.iter().map(|v| v.version_series_id()).collect();
        assert_eq!(series.len(), 1, "one version series");
        // Older versions keep their content.
        let old = versions
            .iter()
            .find(|v| v.version_label() == Some("1.0"))
            .unwrap();
        assert_eq!(read_all(b, old.id()).await, b"one");
        fx.finish().await;
    }

    pub async fn cancel_check_out_restores(t: &Target) {
        let fx = Fixture::new(t, "cancel").await;
        let b = &*t.binding;
        let doc = versioned_doc(t, fx.id(), "keep.txt", b"original").await;
        let pwc = b.check_out(doc.id()).await.unwrap();
        b.set_content(
            pwc.id(),
            upload("keep.txt", &b"draft"[..]),
            true,
            pwc.change_token(),
        )
        .await
        .unwrap();
        b.cancel_check_out(pwc.id()).await.unwrap();
        let after = b.object(doc.id(), &all()).await.unwrap();
        assert_eq!(after.is_version_series_checked_out(), Some(false));
        assert_eq!(after.version_label(), Some("1.0"));
        assert_eq!(read_all(b, doc.id()).await, b"original");
        expect_err(b.object(pwc.id(), &all()).await, "PWC after cancel", |e| {
            matches!(e, CmisError::ObjectNotFound(_))
        });
        assert_eq!(b.all_versions(doc.id()).await.unwrap().len(), 1);
        fx.finish().await;
    }

    pub async fn stale_change_token_is_update_conflict(t: &Target) {
        let fx = Fixture::new(t, "token").await;
        let b = &*t.binding;
        let doc = create_doc(b, fx.id(), "t1.txt", b"x").await;
        let stale = doc
            .change_token()
            .expect("documents carry a change token")
            .to_string();
        let changed = b
            .update_properties(
                doc.id(),
                &Properties::new().with_string(prop::NAME, "t2.txt"),
                Some(&stale),
            )
            .await
            .unwrap();
        assert_ne!(changed.change_token(), Some(stale.as_str()));
        expect_err(
            b.update_properties(
                changed.id(),
                &Properties::new().with_string(prop::NAME, "t3.txt"),
                Some(&stale),
            )
            .await,
            "updateProperties with a stale change token",
            |e| matches!(e, CmisError::UpdateConflict(_)),
        );
        // The fresh token works.
        let again = b
            .update_properties(
                changed.id(),
                &Properties::new().with_string(prop::NAME, "t3.txt"),
                changed.change_token(),
            )
            .await
            .unwrap();
        assert_eq!(again.name(), "t3.txt");
        fx.finish().await;
    }

    pub async fn content_changes(t: &Target) {
        let b = &*t.binding;
        let caps = &t.info.capabilities;
        if caps.changes == ChangesCapability::None {
            // The documented alternative: no change log to read.
            expect_err(
                b.content_changes(None, false, Some(10)).await,
                "getContentChanges",
                |e| matches!(e, CmisError::NotSupported(_) | CmisError::Constraint(_)),
            );
            return;
        }
        let before = b.repository_info().await.unwrap().latest_change_log_token;
        let fx = Fixture::new(t, "changes").await;
        let doc = create_doc(b, fx.id(), "changed.txt", b"1").await;
        let doc = b
            .update_properties(
                doc.id(),
                &Properties::new().with_string(prop::NAME, "changed2.txt"),
                doc.change_token(),
            )
            .await
            .unwrap();
        b.delete(doc.id(), true).await.unwrap();

        if t.quirks.dummy_change_log {
            // The log is made up; it must still page: a token resumes
            // where the previous page ended.
            let first = b.content_changes(None, false, Some(5)).await.unwrap();
            assert_eq!(first.events.len(), 5);
            let token = first
                .latest_change_log_token
                .clone()
                .expect("a change log token");
            let next = b
                .content_changes(Some(&token), false, Some(5))
                .await
                .unwrap();
            assert!(!next.events.is_empty());
            assert_ne!(next.latest_change_log_token, first.latest_change_log_token);
            assert!(before.is_some(), "the repository names its latest token");
            fx.finish().await;
            return;
        }

        let mut seen = Vec::new();
        let mut token = before;
        for _ in 0..100 {
            let page = b
                .content_changes(token.as_deref(), true, Some(100))
                .await
                .unwrap();
            seen.extend(
                page.events
                    .iter()
                    .map(|e| (e.object_id.clone(), e.change_type)),
            );
            if !page.has_more_items || page.latest_change_log_token == token {
                break;
            }
            token = page.latest_change_log_token;
        }
        let ours: Vec<cmis::ChangeType> = seen
            .iter()
            .filter(|(id, _)| id == doc.id())
            .map(|(_, ty)| *ty)
            .collect();
        assert!(ours.contains(&cmis::ChangeType::Created), "{seen:?}");
        assert!(ours.contains(&cmis::ChangeType::Deleted), "{seen:?}");
        fx.finish().await;
    }

    /// Names every binding must carry intact: URL and form delimiters,
    /// percent signs, quotes, non-ASCII.
    const AWKWARD: &[&str] = &[
        "with space",
        "ünïcödé 日本語 ✓",
        "single ' quote",
        "double \" quote",
        "per%cent %41",
        "hash#tag",
        "question?mark",
        "plus+sign",
        "amp&ersand=x",
        "semi;colon,comma",
        "mixed %2F+&#?'\"",
    ];

    pub async fn awkward_names_round_trip(t: &Target) {
        let fx = Fixture::new(t, "names").await;
        let b = &*t.binding;
        let mut accepted = Vec::new();
        for &name in AWKWARD {
            let refused = name
                .chars()
                .any(|c| t.quirks.refused_name_chars.contains(c));
            let content = format!("content of {name}");
            let folder = b.create_folder(fx.id(), &folder_props(name)).await;
            let doc = b
                .create_document(
                    Some(fx.id()),
                    &doc_props(&format!("{name}.txt"), "cmis:document"),
                    Some(upload(&format!("{name}.txt"), content.clone().into_bytes())),
                    None,
                )
                .await;
            if refused {
                // Documented refusal: an error, not a mangled name.
                for e in [folder.err(), doc.err()] {
                    let e = e.unwrap_or_else(|| panic!("{name:?} should be refused"));
                    assert!(
                        matches!(
                            e,
                            CmisError::NameConstraintViolation(_)
                                | CmisError::InvalidArgument(_)
                                | CmisError::Constraint(_)
                        ),
                        "{name:?}: {e:?}"
                    );
                }
                continue;
            }
            let folder = folder.unwrap_or_else(|e| panic!("folder {name:?}: {e}"));
            let doc = doc.unwrap_or_else(|e| panic!("document {name:?}: {e}"));
            assert_eq!(folder.name(), name);
            assert_eq!(doc.name(), format!("{name}.txt"));
            let by_path = b
                .object_by_path(&format!("{}/{name}", fx.path), &all())
                .await
                .unwrap_or_else(|e| panic!("folder {name:?} by path: {e}"));
            assert_eq!(by_path.id(), folder.id());
            let doc_path = b
                .object_by_path(&format!("{}/{name}.txt", fx.path), &all())
                .await
                .unwrap_or_else(|e| panic!("document {name:?} by path: {e}"));
            assert_eq!(doc_path.id(), doc.id());
            if let Some(file_name) = doc_path.content_file_name() {
                assert_eq!(file_name, format!("{name}.txt"), "contentStreamFileName");
            }
            assert_eq!(read_all(b, doc.id()).await, content.as_bytes());
            // A document inside the awkward folder, by path.
            let inner = create_doc(b, folder.id(), name, b"inner").await;
            let inner_path = b
                .object_by_path(&format!("{}/{name}/{name}", fx.path), &all())
                .await
                .unwrap_or_else(|e| panic!("{name:?}/{name:?} by path: {e}"));
            assert_eq!(inner_path.id(), inner.id());
            accepted.push(name.to_string());
            accepted.push(format!("{name}.txt"));
        }
        assert!(accepted.len() >= 10, "most awkward names are accepted");
        let listed: BTreeSet<String> = b
            .children(fx.id(), &ChildrenOptions::default())
            .await
            .unwrap()
            .objects
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        let expected: BTreeSet<String> = accepted.into_iter().collect();
        assert_eq!(listed, expected);
        fx.finish().await;
    }

    pub async fn error_kinds(t: &Target) {
        let fx = Fixture::new(t, "errors").await;
        let b = &*t.binding;

        // objectNotFound: by id and by path.
        expect_err(
            b.object("no-such-object-id", &all()).await,
            "unknown id",
            |e| matches!(e, CmisError::ObjectNotFound(_)),
        );
        expect_err(
            b.object_by_path(&format!("{}/nothing here", fx.path), &all())
                .await,
            "unknown path",
            |e| matches!(e, CmisError::ObjectNotFound(_)),
        );
        expect_err(
            b.content("no-such-object-id", None).await,
            "content of unknown id",
            |e| matches!(e, CmisError::ObjectNotFound(_)),
        );

        // invalidArgument: a query that does not parse; a document created
        // "in" a document.
        if t.info.capabilities.query != QueryCapability::None {
            expect_err(
                b.query("SELEKT nonsense", false, None, 0).await,
                "malformed query",
                |e| matches!(e, CmisError::InvalidArgument(_)),
            );
        }
        let doc = create_doc(b, fx.id(), "doc", b"content").await;
        expect_err(
            b.create_document(Some(doc.id()), &doc_props("x", "cmis:document"), None, None)
                .await,
            "createDocument in a document",
            |e| matches!(e, CmisError::InvalidArgument(_) | CmisError::Constraint(_)),
        );

        // constraint: deleting a folder that is not empty.
        let full = b
            .create_folder(fx.id(), &folder_props("full"))
            .await
            .unwrap();
        create_doc(b, full.id(), "inside", b"x").await;
        expect_err(
            b.delete(full.id(), true).await,
            "delete a non-empty folder",
            |e| matches!(e, CmisError::Constraint(_)),
        );

        // contentAlreadyExists: setContentStream without overwrite.
        expect_err(
            b.set_content(doc.id(), upload("doc", &b"new"[..]), false, None)
                .await,
            "setContentStream without overwrite",
            |e| matches!(e, CmisError::ContentAlreadyExists(_)),
        );
        // nameConstraintViolation (or contentAlreadyExists): a duplicate name.
        expect_err(
            b.create_folder(fx.id(), &folder_props("full")).await,
            "duplicate folder name",
            |e| {
                matches!(
                    e,
                    CmisError::NameConstraintViolation(_) | CmisError::ContentAlreadyExists(_)
                )
            },
        );
        expect_err(
            b.create_document(
                Some(fx.id()),
                &doc_props("doc", "cmis:document"),
                Some(upload("doc", &b"dup"[..])),
                None,
            )
            .await,
            "duplicate document name",
            |e| {
                matches!(
                    e,
                    CmisError::NameConstraintViolation(_) | CmisError::ContentAlreadyExists(_)
                )
            },
        );

        // updateConflict: a stale change token.
        let token = doc.change_token().map(str::to_string);
        let doc2 = b
            .update_properties(
                doc.id(),
                &Properties::new().with_string(prop::NAME, "doc2"),
                token.as_deref(),
            )
            .await
            .unwrap();
        expect_err(
            b.update_properties(
                doc2.id(),
                &Properties::new().with_string(prop::NAME, "doc3"),
                token.as_deref(),
            )
            .await,
            "stale change token",
            |e| matches!(e, CmisError::UpdateConflict(_)),
        );

        // versioning. The spec's case: changing the content of a version
        // that is no longer the current one.
        let versioned = versioned_doc(t, fx.id(), "versioned", b"v").await;
        let versioning = |e: &CmisError| {
            matches!(e, CmisError::Versioning(_))
                || (t.quirks.versioning_as_update_conflict
                    && matches!(e, CmisError::UpdateConflict(_)))
        };
        let pwc = b.check_out(versioned.id()).await.unwrap();
        let current = b.check_in(pwc.id(), false, None, None, None).await.unwrap();
        assert_ne!(current.id(), versioned.id(), "a new version has its own id");
        expect_err(
            b.set_content(versioned.id(), upload("versioned", &b"old"[..]), true, None)
                .await,
            "setContentStream on a non-current version",
            versioning,
        );
        // Versioning services on a document that is not checked out.
        let not_pwc = |e: &CmisError| versioning(e) || matches!(e, CmisError::Constraint(_));
        expect_err(
            b.check_in(current.id(), false, None, None, None).await,
            "checkIn of a checked-in document",
            not_pwc,
        );
        expect_err(
            b.cancel_check_out(current.id()).await,
            "cancelCheckOut of a checked-in document",
            not_pwc,
        );
        // Checking out twice.
        let pwc = b.check_out(current.id()).await.unwrap();
        expect_err(b.check_out(current.id()).await, "second checkOut", |e| {
            not_pwc(e) || matches!(e, CmisError::UpdateConflict(_))
        });
        b.cancel_check_out(pwc.id()).await.unwrap();
        fx.finish().await;
    }

    pub async fn append_and_delete_content(t: &Target) {
        let fx = Fixture::new(t, "append").await;
        let b = &*t.binding;
        let parts = [pattern(70_000, 1), pattern(1, 2), pattern(300_000, 3)];
        let doc = b
            .create_document(
                Some(fx.id()),
                &doc_props("chunks.bin", "cmis:document"),
                Some(upload("chunks.bin", parts[0].clone())),
                None,
            )
            .await
            .unwrap();
        let mut current = doc;
        if t.info.cmis_version_supported == "1.0" {
            // appendContentStream is new in CMIS 1.1.
            expect_err(
                b.append_content(current.id(), upload("x", pattern(1, 9)), true, None)
                    .await,
                "appendContentStream over CMIS 1.0",
                |e| matches!(e, CmisError::NotSupported(_)),
            );
            let emptied = b
                .delete_content(current.id(), current.change_token())
                .await
                .unwrap();
            assert!(matches!(emptied.content_length(), None | Some(0)));
            fx.finish().await;
            return;
        }
        for (i, part) in parts.iter().enumerate().skip(1) {
            let last = i == parts.len() - 1;
            current = b
                .append_content(
                    current.id(),
                    upload("chunks.bin", part.clone()),
                    last,
                    current.change_token(),
                )
                .await
                .unwrap_or_else(|e| panic!("appendContentStream chunk {i}: {e}"));
        }
        let whole: Vec<u8> = parts.concat();
        assert_eq!(current.content_length(), Some(whole.len() as u64));
        assert!(read_all(b, current.id()).await == whole, "appended content");

        let emptied = b
            .delete_content(current.id(), current.change_token())
            .await
            .unwrap();
        assert!(matches!(emptied.content_length(), None | Some(0)));
        // No content left: an error, or an empty stream.
        match b.content(emptied.id(), None).await {
            Ok(s) => assert!(s.into_bytes().await.unwrap().is_empty()),
            Err(e) => assert!(
                matches!(e, CmisError::Constraint(_) | CmisError::ObjectNotFound(_)),
                "{e:?}"
            ),
        }
        // And content can be set again.
        let refilled = b
            .set_content(
                emptied.id(),
                upload("chunks.bin", &b"again"[..]),
                false,
                emptied.change_token(),
            )
            .await
            .unwrap();
        assert_eq!(read_all(b, refilled.id()).await, b"again");
        fx.finish().await;
    }

    pub async fn query_in_folder(t: &Target) {
        let b = &*t.binding;
        if t.info.capabilities.query == QueryCapability::None {
            expect_err(
                b.query("SELECT * FROM cmis:document", false, None, 0).await,
                "query without the capability",
                |e| matches!(e, CmisError::NotSupported(_)),
            );
            return;
        }
        let fx = Fixture::new(t, "query").await;
        let mut names = BTreeSet::new();
        for i in 0..3 {
            let name = format!("q{i}.txt");
            create_doc(b, fx.id(), &name, b"q").await;
            names.insert(name);
        }
        b.create_folder(fx.id(), &folder_props("not-a-document"))
            .await
            .unwrap();
        let statement = format!("SELECT * FROM cmis:document WHERE IN_FOLDER('{}')", fx.id());
        let result = b.query(&statement, false, Some(100), 0).await.unwrap();
        let found: BTreeSet<String> = result
            .objects
            .iter()
            .map(|o| o.name().to_string())
            .collect();
        assert_eq!(found, names);
        for o in &result.objects {
            assert!(!o.id().is_empty());
            assert!(matches!(
                o.properties.get(prop::CONTENT_STREAM_LENGTH),
                Some(PropertyValue::Integer(_))
            ));
        }
        // Paging a query.
        let first = b.query(&statement, false, Some(2), 0).await.unwrap();
        assert_eq!(first.objects.len(), 2);
        assert!(first.has_more_items);
        let rest = b.query(&statement, false, Some(2), 2).await.unwrap();
        assert_eq!(rest.objects.len(), 1);
        fx.finish().await;
    }

    /// A value of `ty` for writing: `n` values (distinct per `seed`).
    fn sample_value(ty: PropertyType, n: usize, seed: i64) -> PropertyValue {
        let strs = |prefix: &str| -> Vec<String> {
            (0..n).map(|i| format!("{prefix}{seed}-{i} ü&+%")).collect()
        };
        match ty {
            PropertyType::String => PropertyValue::String(strs("s")),
            PropertyType::Id => PropertyValue::Id(strs("id;")),
            PropertyType::Html => PropertyValue::Html(strs("<b>h</b>")),
            PropertyType::Uri => PropertyValue::Uri(
                (0..n)
                    .map(|i| format!("http://example.com/{seed}/{i}?a=b&c"))
                    .collect(),
            ),
            PropertyType::Integer => {
                PropertyValue::Integer((0..n as i64).map(|i| seed * 1000 - i).collect())
            }
            PropertyType::Decimal => {
                PropertyValue::Decimal((0..n).map(|i| seed as f64 + 0.25 * i as f64).collect())
            }
            PropertyType::Boolean => PropertyValue::Boolean((0..n).map(|i| i % 2 == 0).collect()),
            PropertyType::DateTime => PropertyValue::DateTime(
                (0..n as i64)
                    .filter_map(|i| {
                        chrono::DateTime::from_timestamp_millis(
                            1_600_000_000_123 + seed * 86_400_000 + i,
                        )
                    })
                    .collect(),
            ),
        }
    }

    pub async fn typed_properties_round_trip(t: &Target) {
        let fx = Fixture::new(t, "typed").await;
        let b = &*t.binding;
        let type_id = t
            .typed_document_type
            .clone()
            .unwrap_or("cmis:document".into());
        let def = b.type_definition(&type_id).await.unwrap();
        // Writable properties: the custom ones of the typed type, plus
        // cmis:description where the type has it.
        let writable: Vec<(String, PropertyType, bool)> = def
            .property_definitions
            .values()
            .filter(|d| d.updatability == "readwrite")
            .filter(|d| !d.id.starts_with("cmis:") || d.id == prop::DESCRIPTION)
            .filter(|d| d.id != "PickListProp") // a choice list: only its own values
            .map(|d| (d.id.clone(), d.property_type, d.multi_valued))
            .collect();
        assert!(
            writable.iter().any(|(id, _, _)| id == prop::DESCRIPTION),
            "{type_id} has a writable cmis:description"
        );
        if t.typed_document_type.is_some() {
            let kinds: BTreeSet<&str> = writable.iter().map(|(_, ty, _)| ty.as_str()).collect();
            assert_eq!(
                kinds.len(),
                8,
                "{type_id} has writable properties of every type"
            );
        }

        let check = |o: &cmis::CmisObject, props: &Properties| {
            for (id, want) in props.iter() {
                let got = o.properties.get(id);
                assert_eq!(got, Some(want), "{id} read back");
            }
        };
        let mut props = doc_props("typed.txt", &type_id);
        for (id, ty, multi) in &writable {
            props.set(id.clone(), sample_value(*ty, if *multi { 3 } else { 1 }, 1));
        }
        let doc = b
            .create_document(Some(fx.id()), &props, None, None)
            .await
            .unwrap();
        let doc = b.object(doc.id(), &all()).await.unwrap();
        check(&doc, &props);
        eprintln!(
            "{}: {} writable properties round-tripped",
            type_id,
            writable.len()
        );

        // Update: new values, a multi-valued property down to one value,
        // and one property unset.
        let mut update = Properties::new();
        for (i, (id, ty, _multi)) in writable.iter().enumerate() {
            let value = if i == 0 {
                sample_value(*ty, 0, 2)
            } else {
                sample_value(*ty, 1, 2)
            };
            update.set(id.clone(), value);
        }
        let updated = b
            .update_properties(doc.id(), &update, doc.change_token())
            .await
            .unwrap();
        let updated = b.object(updated.id(), &all()).await.unwrap();
        check(&updated, &update);
        fx.finish().await;
    }
}
