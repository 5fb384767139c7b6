//! Unit tests of the AtomPub binding on XML captured from OpenCMIS
//! InMemory 1.1.0 (tests/data/atompub/) and on hand-made edge cases.

use base64::Engine;
use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, CONTENT_RANGE};

use super::links::{fill_template, LinkCache, LINK_CACHE_SIZE};
use super::parse::{self, rel, ObjectLinks};
use super::request::{content_range_start, disposition_file_name, parse_xml};
use super::upload::content_disposition;
use super::write;
use super::xml::{self, Element};
use crate::cmis::error::CmisError;
use crate::cmis::model::*;

const SERVICE11: &str = include_str!("../../../tests/data/atompub/service11.xml");
const SERVICE10: &str = include_str!("../../../tests/data/atompub/service10.xml");
const ENTRY_TYPED: &str = include_str!("../../../tests/data/atompub/entry_typed.xml");
const CHILDREN_PAGE: &str = include_str!("../../../tests/data/atompub/children_page.xml");
const CHANGES: &str = include_str!("../../../tests/data/atompub/changes.xml");
const TYPE_VERSIONABLE: &str = include_str!("../../../tests/data/atompub/type_versionable.xml");
const ERROR_404: &str = include_str!("../../../tests/data/atompub/error_404.html");

fn root(doc: &str) -> Element {
    xml::parse(doc.as_bytes()).expect("fixture parses")
}

#[test]
fn service_document_cmis11() {
    let ws = parse::service_document(&root(SERVICE11)).unwrap();
    assert_eq!(ws.len(), 1);
    let ws = &ws[0];
    let info = &ws.info;
    assert_eq!(info.id, "A1");
    assert_eq!(info.cmis_version_supported, "1.1");
    assert_eq!(info.root_folder_id, "100");
    assert!(info.product_name.contains("OpenCMIS"));
    assert!(info.latest_change_log_token.is_some());
    let caps = &info.capabilities;
    assert!(caps.multifiling && caps.unfiling && caps.get_descendants);
    assert_eq!(
        caps.content_stream_updatability,
        ContentStreamUpdates::Anytime
    );
    assert_eq!(caps.query, QueryCapability::BothCombined);
    assert_eq!(caps.changes, ChangesCapability::ObjectIdsOnly);
    assert_eq!(caps.acl, AclCapability::Manage);
    assert_eq!(caps.order_by.as_deref(), Some("common"));
    for c in ["root", "types", "query", "checkedout", "unfiled"] {
        assert!(ws.collections.contains_key(c), "{c}");
    }
    for t in ["objectbyid", "objectbypath", "typebyid", "query"] {
        assert!(ws.templates.contains_key(t), "{t}");
    }
    assert!(ws.templates["objectbyid"].contains("{id}"));
    assert!(ws.link(rel::CHANGES).is_some());
    assert!(ws.link(rel::FOLDER_TREE).is_some());
}

#[test]
fn service_document_cmis10() {
    let ws = parse::service_document(&root(SERVICE10)).unwrap();
    assert_eq!(ws[0].info.cmis_version_supported, "1.0");
    assert_eq!(ws[0].info.id, "A1");
    assert!(ws[0].templates.contains_key("objectbypath"));
}

#[test]
fn service_document_without_cmis_is_a_protocol_error() {
    let atom_only = r#"<service xmlns="http://www.w3.org/2007/app"><workspace><collection href="x"/></workspace></service>"#;
    let err = parse::service_document(&root(atom_only)).unwrap_err();
    assert!(matches!(err, CmisError::Protocol { .. }), "{err:?}");
    let html = "<html><body><p>hello</p></body></html>";
    let err = parse::service_document(&root(html)).unwrap_err();
    assert!(matches!(err, CmisError::Protocol { .. }), "{err:?}");
    let empty = r#"<app:service xmlns:app="http://www.w3.org/2007/app"/>"#;
    assert!(parse::service_document(&root(empty)).is_err());
}

#[test]
fn entry_with_every_property_type() {
    let entry = parse::entry(&root(ENTRY_TYPED)).unwrap();
    let p = &entry.object.properties;
    assert_eq!(p.str(prop::NAME), Some("fixture-typed"));
    assert_eq!(
        p.get("StringProp"),
        Some(&PropertyValue::String(vec!["a < b & c".into()]))
    );
    assert_eq!(
        p.get("IdPropMV"),
        Some(&PropertyValue::Id(vec!["x".into(), "y".into()]))
    );
    assert_eq!(p.get("IntProp"), Some(&PropertyValue::Integer(vec![-42])));
    assert_eq!(
        p.get("IntPropMV"),
        Some(&PropertyValue::Integer(vec![1, 2]))
    );
    assert_eq!(
        p.get("BooleanProp"),
        Some(&PropertyValue::Boolean(vec![true]))
    );
    assert_eq!(
        p.get("DecimalProp"),
        Some(&PropertyValue::Decimal(vec![1.5]))
    );
    let when = parse::parse_datetime("2024-02-29T23:59:58Z").unwrap();
    assert_eq!(
        p.get("DateTimeProp"),
        Some(&PropertyValue::DateTime(vec![when]))
    );
    assert_eq!(
        p.get("UriProp"),
        Some(&PropertyValue::Uri(vec![
            "http://example.com/?a=1&b=2".into()
        ]))
    );
    assert_eq!(
        p.get("HtmlProp"),
        Some(&PropertyValue::Html(vec!["<p>hi</p>".into()]))
    );
    // Unset properties come as empty lists.
    assert_eq!(
        p.get("BooleanPropMV"),
        Some(&PropertyValue::Boolean(vec![]))
    );
    assert_eq!(entry.object.content_length(), Some(5));
    assert!(entry.object.is_document());
    let actions = entry.object.allowable_actions.as_ref().unwrap();
    assert!(actions.allows(Action::GetContentStream));
    assert!(actions.allows(Action::SetContentStream));
    let links = &entry.links;
    assert!(links.self_.is_some() && links.edit.is_some() && links.edit_media.is_some());
    assert!(links
        .content_src
        .as_deref()
        .unwrap_or("")
        .contains("content"));
    assert!(links.up.is_some());
    assert!(links.children.is_none());
}

#[test]
fn children_feed_with_paging() {
    let feed = parse::feed(&root(CHILDREN_PAGE)).unwrap();
    assert_eq!(feed.entries.len(), 2);
    assert!(feed.has_more_items, "a next link means more items");
    assert!(feed.num_items.unwrap_or(0) > 2);
    for e in &feed.entries {
        assert_eq!(e.object.path_segment.as_deref(), Some(e.object.name()));
        assert!(!e.object.id().is_empty());
    }
    // The last page: no next link.
    let last = CHILDREN_PAGE.replace("rel=\"next\"", "rel=\"previous\"");
    assert!(!parse::feed(&root(&last)).unwrap().has_more_items);
    // ... unless the feed says so itself.
    let flagged = last.replacen(
        "<atom:entry>",
        "<cmisra:hasMoreItems>true</cmisra:hasMoreItems><atom:entry>",
        1,
    );
    assert!(parse::feed(&root(&flagged)).unwrap().has_more_items);
}

#[test]
fn folder_links_tell_children_from_descendants() {
    let xml = r#"<entry xmlns="http://www.w3.org/2005/Atom" xmlns:cmisra="http://docs.oasis-open.org/ns/cmis/restatom/200908/">
        <link rel="down" href="http://h/desc" type="application/cmistree+xml"/>
        <link rel="down" href="http://h/children" type="application/atom+xml;type=feed"/>
        <link rel="http://docs.oasis-open.org/ns/cmis/link/200908/foldertree" href="http://h/tree"/>
        <cmisra:object/></entry>"#;
    let entry = parse::entry(&root(xml)).unwrap();
    assert_eq!(entry.links.children.as_deref(), Some("http://h/children"));
    assert_eq!(entry.links.descendants.as_deref(), Some("http://h/desc"));
    assert_eq!(entry.links.folder_tree.as_deref(), Some("http://h/tree"));
}

#[test]
fn changes_feed() {
    let feed = parse::feed(&root(CHANGES)).unwrap();
    assert_eq!(feed.entries.len(), 2);
    assert!(feed.change_log_token.is_some());
    for e in &feed.entries {
        let change = e.change.as_ref().unwrap();
        assert!(change.change_time.is_some());
        assert!(!e.object.id().is_empty());
    }
}

#[test]
fn type_definition_entry() {
    let t = parse::type_definition(&root(TYPE_VERSIONABLE)).unwrap();
    assert_eq!(t.id, "VersionableType");
    assert_eq!(t.base_type, Some(BaseType::Document));
    assert_eq!(t.versionable, Some(true));
    assert!(t.creatable && t.fileable);
    let name = &t.property_definitions[prop::NAME];
    assert_eq!(name.property_type, PropertyType::String);
    assert!(!name.multi_valued);
    assert!(t.property_definitions[prop::SECONDARY_OBJECT_TYPE_IDS].multi_valued);
}

#[test]
fn error_bodies() {
    assert_eq!(
        parse::error_body(ERROR_404),
        Some(("objectNotFound", "Unknown object id: nope".to_string()))
    );
    let conflict = "<html><head><title>Apache Chemistry OpenCMIS - updateConflict error</title></head><body><h1>HTTP Status 409 - <!--exception-->updateConflict<!--/exception--></h1><p><!--message-->ChangeToken does not match &amp; more.<!--/message--></p></body></html>";
    let (name, message) = parse::error_body(conflict).unwrap();
    assert_eq!(name, "updateConflict");
    assert_eq!(message, "ChangeToken does not match & more.");
    assert_eq!(
        CmisError::from_exception(name, message.clone()),
        CmisError::UpdateConflict(message)
    );
    // Without markers: the heading names it.
    let plain = "<html><body><h1>nameConstraintViolation</h1><p>taken</p></body></html>";
    assert_eq!(
        parse::error_body(plain),
        Some(("nameConstraintViolation", "taken".to_string()))
    );
    // A container's own page names no CMIS exception.
    let jetty = "<html><head><title>Error 404 Not Found</title></head><body><h2>HTTP ERROR 404</h2></body></html>";
    assert_eq!(parse::error_body(jetty), None);
    assert_eq!(parse::error_body(""), None);
    assert_eq!(parse::error_body("<h1>"), None);
    assert!(parse::error_excerpt(jetty).contains("HTTP ERROR 404"));
}

#[test]
fn malformed_replies_are_protocol_errors_not_panics() {
    let not_entry = root(CHILDREN_PAGE);
    assert!(matches!(
        parse::entry(&not_entry),
        Err(CmisError::Protocol { .. })
    ));
    assert!(matches!(
        parse::feed(&root(ENTRY_TYPED)),
        Err(CmisError::Protocol { .. })
    ));
    let bad_int = ENTRY_TYPED.replace(
        "<cmis:value>-42</cmis:value>",
        "<cmis:value>forty</cmis:value>",
    );
    let err = parse::entry(&root(&bad_int)).unwrap_err();
    assert!(err.to_string().contains("IntProp"), "{err}");
    let bad_date = ENTRY_TYPED.replace("2024-02-29T23:59:58", "yesterday");
    assert!(parse::entry(&root(&bad_date)).is_err());
    assert!(parse_xml(b"{\"json\": true}", "http://x/").is_err());
    // Every truncation of real documents: an error or a value, never a panic.
    for doc in [SERVICE11, ENTRY_TYPED, CHILDREN_PAGE, TYPE_VERSIONABLE] {
        let bytes = doc.as_bytes();
        for cut in (0..bytes.len()).step_by(97) {
            if let Ok(el) = xml::parse(&bytes[..cut]) {
                let _ = parse::service_document(&el);
                let _ = parse::entry(&el);
                let _ = parse::feed(&el);
                let _ = parse::type_definition(&el);
            }
        }
    }
}

fn every_type() -> Properties {
    let when = parse::parse_datetime("2021-03-04T05:06:07.089Z").unwrap();
    let mut p = Properties::new();
    p.set(
        prop::NAME,
        PropertyValue::String(vec!["n <&> \"q\" 'a'".into()]),
    )
    .set(
        prop::OBJECT_TYPE_ID,
        PropertyValue::Id(vec!["cmis:document".into()]),
    )
    .set("i", PropertyValue::Integer(vec![i64::MIN, 0, i64::MAX]))
    .set("d", PropertyValue::Decimal(vec![-0.25, 1e10]))
    .set("b", PropertyValue::Boolean(vec![true, false]))
    .set("t", PropertyValue::DateTime(vec![when]))
    .set("u", PropertyValue::Uri(vec!["http://x/?a&b".into()]))
    .set("h", PropertyValue::Html(vec!["<b>bold</b>".into()]))
    .set("empty", PropertyValue::String(vec![]));
    p
}

#[test]
fn written_entries_read_back_with_the_same_typed_properties() {
    let props = every_type();
    let doc = write::entry(&props);
    let el = root(&doc);
    assert!(el.is(xml::ATOM, "entry"));
    assert_eq!(el.child_text(xml::ATOM, "title"), Some("n <&> \"q\" 'a'"));
    let back = parse::properties(
        el.child(xml::CMISRA, "object")
            .and_then(|o| o.child(xml::CMIS, "properties"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(back, props);
    // Each variant under its own element.
    for tag in [
        "propertyString",
        "propertyId",
        "propertyInteger",
        "propertyDecimal",
        "propertyBoolean",
        "propertyDateTime",
        "propertyUri",
        "propertyHtml",
    ] {
        assert!(doc.contains(&format!("<cmis:{tag} ")), "{tag}");
    }
    // No name, no atom:title (it would rename the object).
    let mut unnamed = Properties::new();
    unnamed.set("x", PropertyValue::Id(vec!["1".into()]));
    assert!(!write::entry(&unnamed).contains("atom:title"));
}

fn stream_of(chunks: Vec<Vec<u8>>) -> ByteStream {
    Box::pin(futures_util::stream::iter(
        chunks.into_iter().map(|c| Ok(Bytes::from(c))),
    ))
}

async fn collect(
    mut s: impl futures_util::Stream<Item = std::io::Result<Bytes>> + Unpin,
) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

#[tokio::test]
async fn base64_streaming_matches_one_shot_encoding() {
    let data: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
    for sizes in [
        vec![1usize],
        vec![2],
        vec![3],
        vec![1, 1, 1, 5, 8, 13],
        vec![4096],
        vec![10_000],
    ] {
        let mut chunks = Vec::new();
        let mut rest = &data[..];
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].min(rest.len());
            chunks.push(rest[..n].to_vec());
            rest = &rest[n..];
            i += 1;
            if i % 3 == 0 {
                chunks.push(Vec::new()); // empty chunks happen too
            }
        }
        let got = collect(Box::pin(write::base64_stream(stream_of(chunks)))).await;
        let want = base64::engine::general_purpose::STANDARD.encode(&data);
        assert_eq!(String::from_utf8(got).unwrap(), want, "{sizes:?}");
    }
    for len in 0..7 {
        let data = vec![0xA5u8; len];
        let got = collect(Box::pin(write::base64_stream(stream_of(
            vec![data.clone()],
        ))))
        .await;
        assert_eq!(got.len() as u64, write::base64_len(len as u64));
        assert_eq!(
            got,
            base64::engine::general_purpose::STANDARD
                .encode(&data)
                .into_bytes()
        );
    }
    let empty = collect(Box::pin(write::base64_stream(stream_of(vec![])))).await;
    assert!(empty.is_empty());
}

#[tokio::test]
async fn streamed_entry_is_a_valid_entry_of_the_announced_length() {
    let props = every_type();
    let content = b"hello, streamed world".to_vec();
    let (head, tail) = write::entry_with_content(&props, "text/plain", Some("a&b.txt"));
    let announced = head.len() as u64 + write::base64_len(content.len() as u64) + tail.len() as u64;
    let body = collect(Box::pin(write::entry_stream(
        head,
        stream_of(vec![content[..5].to_vec(), content[5..].to_vec()]),
        tail,
    )))
    .await;
    assert_eq!(body.len() as u64, announced);
    let el = xml::parse(&body).unwrap();
    let c = el.child(xml::CMISRA, "content").unwrap();
    assert_eq!(c.child_text(xml::CMISRA, "mediatype"), Some("text/plain"));
    assert_eq!(c.child_text(xml::CMISRA, "filename"), Some("a&b.txt"));
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(c.child_text(xml::CMISRA, "base64").unwrap())
        .unwrap();
    assert_eq!(decoded, content);
}

#[test]
fn uri_templates_escape_values_and_blank_the_rest() {
    let t = "http://h/r/path?path={path}&filter={filter}&x={unknown}";
    assert_eq!(
        fill_template(t, &[("path", "/a b/ü&?#+%"), ("filter", "*")]),
        "http://h/r/path?path=%2Fa%20b%2F%C3%BC%26%3F%23%2B%25&filter=%2A&x="
    );
    assert_eq!(fill_template("no vars", &[]), "no vars");
    assert_eq!(fill_template("broken {id", &[("id", "1")]), "broken {id");
    assert_eq!(
        fill_template("{a}{b}", &[("a", "1"), ("b", "-._~")]),
        "1-._~"
    );
}

#[test]
fn content_headers() {
    let v = content_disposition("résumé \"final\".txt");
    assert!(v.starts_with("attachment; filename=\"r_sum_ _final_.txt\""));
    assert_eq!(
        disposition_file_name(&v).as_deref(),
        Some("résumé \"final\".txt")
    );
    assert_eq!(
        disposition_file_name("attachment; filename=\"plain.txt\"").as_deref(),
        Some("plain.txt")
    );
    assert_eq!(disposition_file_name("inline"), None);
    let mut h = HeaderMap::new();
    h.insert(CONTENT_RANGE, "bytes 100-199/5000".parse().unwrap());
    assert_eq!(content_range_start(&h), Some(100));
    h.insert(CONTENT_RANGE, "bytes */5000".parse().unwrap());
    assert_eq!(content_range_start(&h), None);
    assert_eq!(content_range_start(&HeaderMap::new()), None);
}

#[test]
fn link_cache_is_bounded_and_forgets() {
    let mut cache = LinkCache::default();
    let links = ObjectLinks {
        self_: Some("s".into()),
        ..ObjectLinks::default()
    };
    for i in 0..LINK_CACHE_SIZE + 10 {
        cache.put(&i.to_string(), links.clone());
    }
    assert_eq!(cache.map.len(), LINK_CACHE_SIZE);
    assert!(cache.get("0").is_none(), "oldest evicted");
    assert!(cache.get(&(LINK_CACHE_SIZE + 9).to_string()).is_some());
    cache.put("20", links.clone()); // refresh does not duplicate
    assert_eq!(cache.order.len(), LINK_CACHE_SIZE);
    cache.remove("20");
    assert!(cache.get("20").is_none());
    assert_eq!(cache.order.len(), LINK_CACHE_SIZE - 1);
}

#[test]
fn query_document() {
    let q = write::query(
        "SELECT * FROM cmis:document WHERE cmis:name = 'a<b'",
        true,
        Some(5),
        10,
    );
    let el = root(&q);
    assert!(el.is(xml::CMIS, "query"));
    assert_eq!(
        el.child_text(xml::CMIS, "statement"),
        Some("SELECT * FROM cmis:document WHERE cmis:name = 'a<b'")
    );
    assert_eq!(el.child_text(xml::CMIS, "searchAllVersions"), Some("true"));
    assert_eq!(el.child_text(xml::CMIS, "maxItems"), Some("5"));
    assert_eq!(el.child_text(xml::CMIS, "skipCount"), Some("10"));
}
