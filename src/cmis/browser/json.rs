//! The JSON of the CMIS Browser binding (CMIS 1.1, chapter 5), read into
//! the binding-neutral model.
//!
//! Two property forms exist. The default ("non-succinct") sends each
//! property as an object with its `type`, `cardinality` and `value`; the
//! succinct form sends `id: value` only, so a value's type is inferred
//! from the well-known `cmis:` ids and from the JSON type. We ask for the
//! non-succinct form and accept both. Datetimes are epoch milliseconds
//! (some servers send ISO 8601 strings; those are read too).
//!
//! Parsing is strict about structure (a reply that is not the expected
//! shape is a [`CmisError::Protocol`]) and lenient about single values (a
//! value that does not fit its declared type is dropped and logged), so
//! that one odd vendor property cannot make an object unreadable. Nothing
//! here panics on bad input.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::cmis::error::{CmisError, Result};
use crate::cmis::model::*;

/// A repository as listed by the service URL: its info plus the two URLs
/// the Browser binding addresses it by.
#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryEntry {
    pub info: RepositoryInfo,
    pub repository_url: Option<String>,
    pub root_folder_url: Option<String>,
}

fn protocol(message: impl Into<String>) -> CmisError {
    CmisError::Protocol {
        message: message.into(),
    }
}

fn as_object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    v.as_object().ok_or_else(|| {
        protocol(format!(
            "expected a JSON object for {what}, got {}",
            kind(v)
        ))
    })
}

fn as_array<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>> {
    v.as_array()
        .ok_or_else(|| protocol(format!("expected a JSON array for {what}, got {}", kind(v))))
}

/// The JSON type of a value, for error messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn str_field(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).and_then(Value::as_str).map(str::to_string)
}

fn bool_field(m: &Map<String, Value>, key: &str) -> Option<bool> {
    match m.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn u64_field(m: &Map<String, Value>, key: &str) -> Option<u64> {
    match m.get(key)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The Browser binding's error object (`{"exception": ..., "message": ...}`),
/// if `v` is one.
pub fn parse_exception(v: &Value) -> Option<CmisError> {
    let m = v.as_object()?;
    let name = m.get("exception")?.as_str()?;
    let message = m
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or(name)
        .to_string();
    Some(CmisError::from_exception(name, message))
}

// --- Repositories ---

/// The service URL's reply: a map from repository id to repository info.
pub fn parse_repositories(v: &Value) -> Result<Vec<RepositoryEntry>> {
    let m = v
        .as_object()
        .ok_or_else(|| protocol(format!("expected a map of repositories, got {}", kind(v))))?;
    m.values().map(parse_repository_info).collect()
}

/// One repository info (`cmisselector=repositoryInfo` answers the same map
/// as the service URL; [`find_repository_info`] picks from it).
pub fn parse_repository_info(v: &Value) -> Result<RepositoryEntry> {
    let m = as_object(v, "a repository info")?;
    let id = str_field(m, "repositoryId")
        .ok_or_else(|| protocol("a repository info without repositoryId"))?;
    let caps = match m.get("capabilities") {
        Some(c @ Value::Object(_)) => parse_capabilities(as_object(c, "capabilities")?),
        _ => Capabilities::default(),
    };
    let info = RepositoryInfo {
        id,
        name: str_field(m, "repositoryName").unwrap_or_default(),
        description: str_field(m, "repositoryDescription").unwrap_or_default(),
        vendor_name: str_field(m, "vendorName").unwrap_or_default(),
        product_name: str_field(m, "productName").unwrap_or_default(),
        product_version: str_field(m, "productVersion").unwrap_or_default(),
        cmis_version_supported: str_field(m, "cmisVersionSupported").unwrap_or_default(),
        root_folder_id: str_field(m, "rootFolderId").unwrap_or_default(),
        latest_change_log_token: str_field(m, "latestChangeLogToken"),
        changes_incomplete: bool_field(m, "changesIncomplete"),
        principal_anonymous: str_field(m, "principalIdAnonymous"),
        principal_anyone: str_field(m, "principalIdAnyone"),
        capabilities: caps,
    };
    Ok(RepositoryEntry {
        info,
        repository_url: str_field(m, "repositoryUrl"),
        root_folder_url: str_field(m, "rootFolderUrl"),
    })
}

/// The info of repository `id` from a repositoryInfo reply (a map keyed by
/// id, or a bare repository info).
pub fn find_repository_info(v: &Value, id: &str) -> Result<RepositoryEntry> {
    if v.get("repositoryId").is_some() {
        return parse_repository_info(v);
    }
    let m = as_object(v, "the repository info")?;
    match m.get(id) {
        Some(info) => parse_repository_info(info),
        None => Err(protocol(format!(
            "the repository info reply does not mention repository '{id}'"
        ))),
    }
}

fn parse_capabilities(m: &Map<String, Value>) -> Capabilities {
    let s = |k: &str| str_field(m, k).map(|s| s.to_ascii_lowercase());
    let b = |k: &str| bool_field(m, k).unwrap_or(false);
    Capabilities {
        content_stream_updatability: match s("capabilityContentStreamUpdatability").as_deref() {
            Some("anytime") => ContentStreamUpdates::Anytime,
            Some("pwconly") => ContentStreamUpdates::PwcOnly,
            _ => ContentStreamUpdates::None,
        },
        changes: match s("capabilityChanges").as_deref() {
            Some("objectidsonly") => ChangesCapability::ObjectIdsOnly,
            Some("properties") => ChangesCapability::Properties,
            Some("all") => ChangesCapability::All,
            _ => ChangesCapability::None,
        },
        get_descendants: b("capabilityGetDescendants"),
        get_folder_tree: b("capabilityGetFolderTree"),
        multifiling: b("capabilityMultifiling"),
        unfiling: b("capabilityUnfiling"),
        version_specific_filing: b("capabilityVersionSpecificFiling"),
        pwc_updatable: b("capabilityPWCUpdatable"),
        pwc_searchable: b("capabilityPWCSearchable"),
        all_versions_searchable: b("capabilityAllVersionsSearchable"),
        query: match s("capabilityQuery").as_deref() {
            Some("metadataonly") => QueryCapability::MetadataOnly,
            Some("fulltextonly") => QueryCapability::FullTextOnly,
            Some("bothseparate") => QueryCapability::BothSeparate,
            Some("bothcombined") => QueryCapability::BothCombined,
            _ => QueryCapability::None,
        },
        acl: match s("capabilityACL").as_deref() {
            Some("discover") => AclCapability::Discover,
            Some("manage") => AclCapability::Manage,
            _ => AclCapability::None,
        },
        order_by: s("capabilityOrderBy"),
        renditions: s("capabilityRenditions"),
        join: s("capabilityJoin"),
    }
}

// --- Properties ---

/// `cmis:` properties whose succinct values are ids or datetimes (the JSON
/// type alone says "string" or "number").
const ID_PROPERTIES: &[&str] = &[
    prop::OBJECT_ID,
    prop::OBJECT_TYPE_ID,
    prop::BASE_TYPE_ID,
    prop::SECONDARY_OBJECT_TYPE_IDS,
    prop::VERSION_SERIES_ID,
    prop::VERSION_SERIES_CHECKED_OUT_ID,
    prop::CONTENT_STREAM_ID,
    prop::PARENT_ID,
    prop::ALLOWED_CHILD_OBJECT_TYPE_IDS,
    "cmis:sourceId",
    "cmis:targetId",
    "cmis:policyIds",
];
const DATETIME_PROPERTIES: &[&str] = &[prop::CREATION_DATE, prop::LAST_MODIFICATION_DATE];

/// An object's properties, whichever form the server used.
fn parse_properties(obj: &Map<String, Value>) -> Result<Properties> {
    if let Some(p) = obj.get("properties").filter(|p| !p.is_null()) {
        parse_full_properties(as_object(p, "properties")?)
    } else if let Some(p) = obj.get("succinctProperties").filter(|p| !p.is_null()) {
        Ok(parse_succinct_properties(as_object(
            p,
            "succinctProperties",
        )?))
    } else {
        Ok(Properties::new())
    }
}

/// Non-succinct properties: `{id: {"id", "type", "cardinality", "value"}}`.
/// The map key is the query name in query results; the `id` field wins.
fn parse_full_properties(m: &Map<String, Value>) -> Result<Properties> {
    let mut props = Properties::new();
    for (key, entry) in m {
        let e = as_object(entry, "a property")?;
        let id = str_field(e, "id").unwrap_or_else(|| key.clone());
        let value = e.get("value").unwrap_or(&Value::Null);
        let ty = e
            .get("type")
            .and_then(Value::as_str)
            .and_then(PropertyType::parse)
            .unwrap_or_else(|| infer_type(&id, value));
        props.set(id.clone(), convert_values(&id, ty, value));
    }
    Ok(props)
}

fn parse_succinct_properties(m: &Map<String, Value>) -> Properties {
    let mut props = Properties::new();
    for (id, value) in m {
        let ty = infer_type(id, value);
        props.set(id.clone(), convert_values(id, ty, value));
    }
    props
}

/// The type of a property known only by id and JSON value.
fn infer_type(id: &str, value: &Value) -> PropertyType {
    if ID_PROPERTIES.contains(&id) {
        return PropertyType::Id;
    }
    if DATETIME_PROPERTIES.contains(&id) {
        return PropertyType::DateTime;
    }
    let sample = match value {
        Value::Array(items) => items.iter().find(|v| !v.is_null()).unwrap_or(&Value::Null),
        v => v,
    };
    match sample {
        Value::Bool(_) => PropertyType::Boolean,
        Value::Number(n) if n.is_i64() || n.is_u64() => PropertyType::Integer,
        Value::Number(_) => PropertyType::Decimal,
        _ => PropertyType::String,
    }
}

/// Converts a JSON value (scalar, array or null) to a typed list.
fn convert_values(id: &str, ty: PropertyType, value: &Value) -> PropertyValue {
    let items: Vec<&Value> = match value {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().filter(|v| !v.is_null()).collect(),
        v => vec![v],
    };
    fn collect<T>(id: &str, items: &[&Value], f: impl Fn(&Value) -> Option<T>) -> Vec<T> {
        items
            .iter()
            .filter_map(|v| {
                let out = f(v);
                if out.is_none() {
                    tracing::debug!(property = id, "dropping a value that does not fit its type");
                }
                out
            })
            .collect()
    }
    let string = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match ty {
        PropertyType::String => PropertyValue::String(collect(id, &items, string)),
        PropertyType::Id => PropertyValue::Id(collect(id, &items, string)),
        PropertyType::Uri => PropertyValue::Uri(collect(id, &items, string)),
        PropertyType::Html => PropertyValue::Html(collect(id, &items, string)),
        PropertyType::Integer => PropertyValue::Integer(collect(id, &items, json_i64)),
        PropertyType::Decimal => PropertyValue::Decimal(collect(id, &items, |v| match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })),
        PropertyType::Boolean => PropertyValue::Boolean(collect(id, &items, |v| match v {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })),
        PropertyType::DateTime => PropertyValue::DateTime(collect(id, &items, json_datetime)),
    }
}

fn json_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            // 12.0 from a server that writes integers as doubles.
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Epoch milliseconds, or an ISO 8601 string (the "extended" datetime
/// format some servers offer).
pub fn json_datetime(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(_) => json_i64(v).and_then(DateTime::from_timestamp_millis),
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(ms) => DateTime::from_timestamp_millis(ms),
            Err(_) => DateTime::parse_from_rfc3339(s.trim())
                .ok()
                .map(|d| d.with_timezone(&Utc)),
        },
        _ => None,
    }
}

// --- Objects ---

fn parse_allowable_actions(v: &Value) -> Option<AllowableActions> {
    let m = v.as_object()?;
    let set: BTreeSet<Action> = m
        .iter()
        .filter(|(_, allowed)| allowed.as_bool() == Some(true))
        .filter_map(|(name, _)| Action::parse(name))
        .collect();
    Some(AllowableActions(set))
}

/// One object (getObject, createDocument, checkOut, ... and query results).
pub fn parse_object(v: &Value) -> Result<CmisObject> {
    let m = as_object(v, "an object")?;
    if !m.contains_key("properties") && !m.contains_key("succinctProperties") {
        return Err(protocol(
            "expected a CMIS object, got JSON without properties",
        ));
    }
    Ok(CmisObject {
        properties: parse_properties(m)?,
        allowable_actions: m.get("allowableActions").and_then(parse_allowable_actions),
        path_segment: None,
    })
}

/// getChildren's reply: `{"objects": [{"object": {...}, "pathSegment": ...}],
/// "hasMoreItems", "numItems"}`.
pub fn parse_children(v: &Value) -> Result<ObjectList> {
    let m = as_object(v, "a children list")?;
    let mut objects = Vec::new();
    if let Some(list) = m.get("objects").filter(|l| !l.is_null()) {
        for entry in as_array(list, "objects")? {
            let e = as_object(entry, "a child entry")?;
            let inner = e
                .get("object")
                .ok_or_else(|| protocol("a child entry without 'object'"))?;
            let mut object = parse_object(inner)?;
            object.path_segment = str_field(e, "pathSegment");
            objects.push(object);
        }
    }
    Ok(ObjectList {
        objects,
        has_more_items: bool_field(m, "hasMoreItems").unwrap_or(false),
        num_items: u64_field(m, "numItems"),
    })
}

/// The query reply: `{"results": [object...], "hasMoreItems", "numItems"}`.
pub fn parse_query_results(v: &Value) -> Result<ObjectList> {
    let m = as_object(v, "query results")?;
    let mut objects = Vec::new();
    if let Some(list) = m.get("results").filter(|l| !l.is_null()) {
        for entry in as_array(list, "results")? {
            objects.push(parse_object(entry)?);
        }
    }
    Ok(ObjectList {
        objects,
        has_more_items: bool_field(m, "hasMoreItems").unwrap_or(false),
        num_items: u64_field(m, "numItems"),
    })
}

/// An array of objects (getAllVersions).
pub fn parse_object_array(v: &Value) -> Result<Vec<CmisObject>> {
    as_array(v, "a list of objects")?
        .iter()
        .map(parse_object)
        .collect()
}

/// getObjectParents: `[{"object": {...}, "relativePathSegment": ...}]`.
pub fn parse_parents(v: &Value) -> Result<Vec<ObjectParent>> {
    as_array(v, "a list of parents")?
        .iter()
        .map(|entry| {
            let e = as_object(entry, "a parent entry")?;
            let inner = e
                .get("object")
                .ok_or_else(|| protocol("a parent entry without 'object'"))?;
            Ok(ObjectParent {
                folder: parse_object(inner)?,
                relative_path_segment: str_field(e, "relativePathSegment"),
            })
        })
        .collect()
}

/// getContentChanges: objects that carry `changeEventInfo`, plus the token
/// to continue from.
pub fn parse_content_changes(v: &Value) -> Result<ContentChanges> {
    let m = as_object(v, "content changes")?;
    let mut events = Vec::new();
    if let Some(list) = m.get("objects").filter(|l| !l.is_null()) {
        for entry in as_array(list, "objects")? {
            let e = as_object(entry, "a change entry")?;
            let properties = parse_properties(e)?;
            let info = e
                .get("changeEventInfo")
                .and_then(Value::as_object)
                .ok_or_else(|| protocol("a change entry without changeEventInfo"))?;
            let change_type = info
                .get("changeType")
                .and_then(Value::as_str)
                .and_then(|t| ChangeType::parse(&t.to_ascii_lowercase()))
                .ok_or_else(|| protocol("a change entry without a known changeType"))?;
            let object_id = properties
                .str(prop::OBJECT_ID)
                .ok_or_else(|| protocol("a change entry without cmis:objectId"))?
                .to_string();
            events.push(ChangeEvent {
                object_id,
                change_type,
                change_time: info.get("changeTime").and_then(json_datetime),
                properties,
            });
        }
    }
    Ok(ContentChanges {
        events,
        has_more_items: bool_field(m, "hasMoreItems").unwrap_or(false),
        latest_change_log_token: str_field(m, "changeLogToken"),
    })
}

/// The ids deleteTree could not delete: empty body, `[...]` or `{"ids": [...]}`.
pub fn parse_failed_ids(v: &Value) -> Result<Vec<String>> {
    let list = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Object(m) if m.is_empty() => return Ok(Vec::new()),
        Value::Object(m) => m
            .get("ids")
            .ok_or_else(|| protocol("a deleteTree reply without 'ids'"))?,
        v => v,
    };
    Ok(as_array(list, "ids")?
        .iter()
        .filter_map(|id| id.as_str().map(str::to_string))
        .collect())
}

// --- Types ---

/// getTypeDefinition.
pub fn parse_type_definition(v: &Value) -> Result<TypeDefinition> {
    let m = as_object(v, "a type definition")?;
    let id = str_field(m, "id").ok_or_else(|| protocol("a type definition without id"))?;
    let mut property_definitions = BTreeMap::new();
    if let Some(Value::Object(defs)) = m.get("propertyDefinitions") {
        for (key, def) in defs {
            let d = as_object(def, "a property definition")?;
            let pid = str_field(d, "id").unwrap_or_else(|| key.clone());
            let Some(property_type) = d
                .get("propertyType")
                .and_then(Value::as_str)
                .and_then(PropertyType::parse)
            else {
                tracing::debug!(property = %pid, "property definition without a known type");
                continue;
            };
            property_definitions.insert(
                pid.clone(),
                PropertyDefinition {
                    id: pid,
                    property_type,
                    multi_valued: str_field(d, "cardinality").as_deref() == Some("multi"),
                    updatability: str_field(d, "updatability").unwrap_or_default(),
                    required: bool_field(d, "required").unwrap_or(false),
                },
            );
        }
    }
    Ok(TypeDefinition {
        id,
        base_type: str_field(m, "baseId").as_deref().and_then(BaseType::parse),
        parent_id: str_field(m, "parentId"),
        display_name: str_field(m, "displayName"),
        creatable: bool_field(m, "creatable").unwrap_or(false),
        fileable: bool_field(m, "fileable").unwrap_or(false),
        queryable: bool_field(m, "queryable").unwrap_or(false),
        versionable: bool_field(m, "versionable"),
        content_stream_allowed: str_field(m, "contentStreamAllowed"),
        property_definitions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> Value {
        serde_json::from_str(s).expect("test JSON")
    }

    const REPOSITORIES: &str = include_str!("testdata/repositories.json");
    const OBJECT: &str = include_str!("testdata/object.json");
    const CHILDREN: &str = include_str!("testdata/children.json");
    const CHANGES: &str = include_str!("testdata/changes.json");
    const QUERY: &str = include_str!("testdata/query.json");
    const TYPEDEF: &str = include_str!("testdata/typedef.json");
    const PARENTS: &str = include_str!("testdata/parents.json");

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
                        Value::Array(items) => {
                            k.parse::<usize>().ok().and_then(|i| items.get_mut(i))
                        }
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
}
