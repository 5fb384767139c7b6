//! Tests of the JSON parsers, over the recorded OpenCMIS replies in
//! `../testdata` (shared fixtures; several tests cover every parser).

use serde_json::Value;

use super::*;
use crate::cmis::error::CmisError;
use crate::cmis::model::*;

fn json(s: &str) -> Value {
    serde_json::from_str(s).expect("test JSON")
}

const REPOSITORIES: &str = include_str!("../testdata/repositories.json");
const OBJECT: &str = include_str!("../testdata/object.json");
const CHILDREN: &str = include_str!("../testdata/children.json");
const CHANGES: &str = include_str!("../testdata/changes.json");
const QUERY: &str = include_str!("../testdata/query.json");
const TYPEDEF: &str = include_str!("../testdata/typedef.json");
const PARENTS: &str = include_str!("../testdata/parents.json");

#[test]
fn repository_info_of_opencmis() {
    let repos = parse_repositories(&json(REPOSITORIES)).unwrap();
    assert_eq!(repos.len(), 1);
    let r = &repos[0];
    assert_eq!(r.info.id, "A1");
    assert_eq!(r.info.root_folder_id, "100");
    assert_eq!(r.info.cmis_version_supported, "1.1");
    assert_eq!(r.info.latest_change_log_token.as_deref(), Some("token-24"));
    assert_eq!(r.info.product_version, "1.1.0");
    assert_eq!(r.info.principal_anyone.as_deref(), Some("anyone"));
    let c = &r.info.capabilities;
    assert_eq!(c.content_stream_updatability, ContentStreamUpdates::Anytime);
    assert_eq!(c.changes, ChangesCapability::ObjectIdsOnly);
    assert!(c.multifiling && c.unfiling && c.pwc_updatable && !c.pwc_searchable);
    assert_eq!(c.query, QueryCapability::BothCombined);
    assert_eq!(c.acl, AclCapability::Manage);
    assert_eq!(c.order_by.as_deref(), Some("common"));
    assert_eq!(
        r.root_folder_url.as_deref(),
        Some("http://127.0.0.1:39025/inmemory/browser/A1/root")
    );
    let again = find_repository_info(&json(REPOSITORIES), "A1").unwrap();
    assert_eq!(&again, r);
    assert!(find_repository_info(&json(REPOSITORIES), "B2").is_err());
}

#[test]
fn object_with_every_property_type() {
    let o = parse_object(&json(OBJECT)).unwrap();
    assert_eq!(o.id(), "133");
    assert_eq!(o.name(), "My_Document-0-0");
    assert!(o.is_document());
    assert_eq!(o.content_length(), Some(33374));
    assert_eq!(o.content_mime_type(), Some("text/plain"));
    assert_eq!(o.change_token(), Some("1795504949704"));
    assert_eq!(
        o.creation_date().map(|d| d.timestamp_millis()),
        Some(1795504949704)
    );
    assert_eq!(o.is_latest_version(), Some(true));
    let p = &o.properties;
    // Not set: an empty list of the declared type.
    assert_eq!(
        p.get("cmis:versionLabel"),
        Some(&PropertyValue::String(vec![]))
    );
    assert_eq!(p.get("IntProp"), Some(&PropertyValue::Integer(vec![42])));
    assert_eq!(
        p.get("DecimalProp"),
        Some(&PropertyValue::Decimal(vec![2.5]))
    );
    assert_eq!(
        p.get("BooleanProp"),
        Some(&PropertyValue::Boolean(vec![true]))
    );
    assert_eq!(
        p.get("UriProp"),
        Some(&PropertyValue::Uri(vec!["http://example.com/".into()]))
    );
    assert_eq!(
        p.get("HtmlProp"),
        Some(&PropertyValue::Html(vec!["<b>x</b>".into()]))
    );
    assert_eq!(
        p.get("StringPropMV"),
        Some(&PropertyValue::String(vec!["a".into(), "b".into()]))
    );
    assert_eq!(
        p.get("IntPropMV"),
        Some(&PropertyValue::Integer(vec![1, 2, 3]))
    );
    let dates = p.get("DateTimePropMV").unwrap();
    assert_eq!(dates.len(), 2);
    assert_eq!(
        dates.first_datetime().map(|d| d.to_rfc3339()),
        Some("1970-01-01T00:00:01+00:00".into())
    );
    assert_eq!(
        p.get("IdPropMV"),
        Some(&PropertyValue::Id(vec!["x;1.0".into()]))
    );
    let actions = o.allowable_actions.as_ref().unwrap();
    assert!(actions.allows(Action::SetContentStream));
    assert!(!actions.allows(Action::CheckOut));
    assert!(actions.allows(Action::GetAcl));
}

#[test]
fn succinct_properties_are_typed_by_inference() {
    let o = parse_object(&json(
        r#"{"succinctProperties":{"cmis:objectId":"5;1.0","cmis:name":"a",
                "cmis:baseTypeId":"cmis:folder","cmis:creationDate":1000,
                "cmis:contentStreamFileName":null,"n":3,"d":1.5,"b":false,
                "m":["x","y"],"cmis:secondaryObjectTypeIds":[]}}"#,
    ))
    .unwrap();
    let p = &o.properties;
    assert_eq!(o.id(), "5;1.0");
    assert!(o.is_folder());
    assert_eq!(
        p.get("cmis:objectId"),
        Some(&PropertyValue::Id(vec!["5;1.0".into()]))
    );
    assert_eq!(o.creation_date().map(|d| d.timestamp_millis()), Some(1000));
    assert_eq!(o.content_file_name(), None);
    assert_eq!(p.int("n"), Some(3));
    assert_eq!(p.get("d"), Some(&PropertyValue::Decimal(vec![1.5])));
    assert_eq!(p.bool("b"), Some(false));
    assert_eq!(p.get("m").map(PropertyValue::len), Some(2));
    assert_eq!(
        p.get("cmis:secondaryObjectTypeIds"),
        Some(&PropertyValue::Id(vec![]))
    );
}

#[test]
fn odd_values_are_dropped_not_fatal() {
    let o = parse_object(&json(
            r#"{"properties":{
                "i":{"id":"i","type":"integer","cardinality":"single","value":"12"},
                "j":{"id":"j","type":"integer","cardinality":"single","value":{"x":1}},
                "t":{"id":"t","type":"datetime","cardinality":"single","value":"2024-01-02T03:04:05.678Z"},
                "q":{"id":"q","type":"integer","cardinality":"single","value":7.0}}}"#,
        ))
        .unwrap();
    assert_eq!(o.properties.int("i"), Some(12));
    assert_eq!(o.properties.get("j"), Some(&PropertyValue::Integer(vec![])));
    assert_eq!(
        o.properties.datetime("t").map(|d| d.timestamp_millis()),
        Some(1704164645678)
    );
    assert_eq!(o.properties.int("q"), Some(7));
}

#[test]
fn children_page() {
    let list = parse_children(&json(CHILDREN)).unwrap();
    assert_eq!(list.objects.len(), 2);
    assert!(list.has_more_items);
    assert_eq!(list.num_items, Some(5));
    assert_eq!(
        list.objects[0].path_segment.as_deref(),
        Some("My_Document-0-0")
    );
    assert_eq!(list.objects[1].name(), "My_Document-0-1");
    assert!(list.objects[1].is_document());
    // An empty folder.
    let empty =
        parse_children(&json(r#"{"objects":[],"hasMoreItems":false,"numItems":0}"#)).unwrap();
    assert!(empty.objects.is_empty() && !empty.has_more_items);
}

#[test]
fn parents_query_changes_and_types() {
    let parents = parse_parents(&json(PARENTS)).unwrap();
    assert_eq!(parents.len(), 1);
    assert_eq!(parents[0].folder.id(), "100");
    assert_eq!(parents[0].folder.path(), Some("/"));
    assert_eq!(
        parents[0].relative_path_segment.as_deref(),
        Some("My_Document-0-0")
    );

    let q = parse_query_results(&json(QUERY)).unwrap();
    assert_eq!(q.objects.len(), 1);
    assert_eq!(q.objects[0].id(), "133");
    assert!(q.has_more_items);

    let ch = parse_content_changes(&json(CHANGES)).unwrap();
    assert_eq!(ch.events.len(), 2);
    assert_eq!(ch.events[0].object_id, "cl-0");
    assert_eq!(ch.events[0].change_type, ChangeType::Deleted);
    assert_eq!(ch.events[1].change_type, ChangeType::Created);
    assert_eq!(
        ch.events[0].change_time.map(|d| d.timestamp_millis()),
        Some(1795504896269)
    );
    assert_eq!(ch.latest_change_log_token.as_deref(), Some("token-1"));

    let t = parse_type_definition(&json(TYPEDEF)).unwrap();
    assert_eq!(t.id, "VersionableType");
    assert_eq!(t.base_type, Some(BaseType::Document));
    assert_eq!(t.versionable, Some(true));
    assert_eq!(t.content_stream_allowed.as_deref(), Some("allowed"));
    let name = &t.property_definitions["cmis:name"];
    assert_eq!(name.property_type, PropertyType::String);
    assert!(!name.multi_valued && name.required);
    assert_eq!(name.updatability, "readwrite");
    assert!(t.property_definitions["cmis:secondaryObjectTypeIds"].multi_valued);
}

#[test]
fn exception_bodies() {
    let e = parse_exception(&json(
        r#"{"exception":"objectNotFound","message":"Unknown object id: x"}"#,
    ));
    assert_eq!(
        e,
        Some(CmisError::ObjectNotFound("Unknown object id: x".into()))
    );
    let e = parse_exception(&json(r#"{"exception":"updateConflict","message":"stale"}"#));
    assert!(matches!(e, Some(CmisError::UpdateConflict(_))));
    let e = parse_exception(&json(r#"{"exception":"nameConstraintViolation"}"#));
    assert!(matches!(e, Some(CmisError::NameConstraintViolation(_))));
    let e = parse_exception(&json(r#"{"exception":"somethingNew","message":"m"}"#));
    assert_eq!(e, Some(CmisError::Runtime("m".into())));
    assert_eq!(parse_exception(&json(r#"{"properties":{}}"#)), None);
    assert_eq!(parse_exception(&json("[1]")), None);
}

#[test]
fn malformed_replies_are_protocol_errors() {
    let bad = [
        "null",
        "[]",
        "42",
        r#"{"A1": 5}"#,
        r#"{"A1": {"repositoryName": "no id"}}"#,
        r#"{"objects": 7}"#,
        r#"{"objects": [{"pathSegment": "x"}]}"#,
        r#"{"objects": [{"object": {"properties": []}}]}"#,
        r#"{"objects": [{"object": {"properties": {"a": 1}}}]}"#,
    ];
    for text in bad {
        let v = json(text);
        let results = [
            parse_repositories(&v).map(|_| ()),
            parse_children(&v).map(|_| ()),
        ];
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(CmisError::Protocol { .. }))),
            "{text} was accepted"
        );
    }
    assert!(matches!(
        parse_object(&json(r#"{"status":"ok"}"#)),
        Err(CmisError::Protocol { .. })
    ));
    assert!(matches!(
        parse_object_array(&json(r#"{"a":1}"#)),
        Err(CmisError::Protocol { .. })
    ));
    assert!(matches!(
        parse_content_changes(&json(r#"{"objects":[{"succinctProperties":{}}]}"#)),
        Err(CmisError::Protocol { .. })
    ));
    assert!(matches!(
        parse_type_definition(&json(r#"{"baseId":"cmis:document"}"#)),
        Err(CmisError::Protocol { .. })
    ));
    assert!(matches!(
        parse_parents(&json(r#"[{"object": 1}]"#)),
        Err(CmisError::Protocol { .. })
    ));
}

/// Every sample with each value in turn replaced by every JSON kind:
/// the parsers answer Ok or Err, and never panic.
#[test]
fn no_panic_on_any_shape() {
    fn paths(v: &Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let mut p = at.clone();
                    p.push(k.clone());
                    paths(child, p, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate().take(3) {
                    let mut p = at.clone();
                    p.push(i.to_string());
                    paths(child, p, out);
                }
            }
            _ => {}
        }
    }
    fn replace(v: &mut Value, path: &[String], with: Value) {
        match path.split_first() {
            None => *v = with,
            Some((k, rest)) => {
                let child = match v {
                    Value::Object(m) => m.get_mut(k),
                    Value::Array(items) => k.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
                    _ => None,
                };
                if let Some(c) = child {
                    replace(c, rest, with);
                }
            }
        }
    }
    let kinds = [
        Value::Null,
        json("true"),
        json("-1.5e300"),
        json("18446744073709551615"),
        json(r#""x""#),
        json("[null, 1, \"a\"]"),
        json(r#"{"value": {}}"#),
    ];
    for sample in [
        REPOSITORIES,
        OBJECT,
        CHILDREN,
        CHANGES,
        QUERY,
        TYPEDEF,
        PARENTS,
    ] {
        let original = json(sample);
        let mut all = Vec::new();
        paths(&original, Vec::new(), &mut all);
        for path in all {
            for kind in &kinds {
                let mut v = original.clone();
                replace(&mut v, &path, kind.clone());
                let _ = parse_repositories(&v);
                let _ = find_repository_info(&v, "A1");
                let _ = parse_object(&v);
                let _ = parse_children(&v);
                let _ = parse_query_results(&v);
                let _ = parse_object_array(&v);
                let _ = parse_parents(&v);
                let _ = parse_content_changes(&v);
                let _ = parse_type_definition(&v);
                let _ = parse_failed_ids(&v);
                let _ = parse_exception(&v);
            }
        }
    }
}

#[test]
fn delete_tree_failures() {
    assert!(parse_failed_ids(&Value::Null).unwrap().is_empty());
    assert_eq!(
        parse_failed_ids(&json(r#"{"ids":["a","b"]}"#)).unwrap(),
        vec!["a", "b"]
    );
    assert_eq!(parse_failed_ids(&json(r#"["c"]"#)).unwrap(), vec!["c"]);
    assert!(parse_failed_ids(&json("5")).is_err());
}
