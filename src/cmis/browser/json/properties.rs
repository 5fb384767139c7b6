//! Properties: the non-succinct and succinct forms, typed by declaration or
//! by inference, and lenient value conversion.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{as_object, str_field};
use crate::cmis::error::Result;
use crate::cmis::model::*;

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
pub(super) fn parse_properties(obj: &Map<String, Value>) -> Result<Properties> {
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
