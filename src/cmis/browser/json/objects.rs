//! Objects: single objects, children pages, query results, parents, the
//! change log and deleteTree failures.

use std::collections::BTreeSet;

use serde_json::Value;

use super::properties::parse_properties;
use super::{as_array, as_object, bool_field, json_datetime, protocol, str_field, u64_field};
use crate::cmis::error::Result;
use crate::cmis::model::*;

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
