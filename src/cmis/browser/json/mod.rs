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

//!
//! Files: `repository` the repository list and info, `properties` the two
//! property forms, `objects` objects and their lists, `types` type
//! definitions; the helpers below serve them all.

use serde_json::{Map, Value};

use crate::cmis::error::{CmisError, Result};

mod objects;
mod properties;
mod repository;
mod types;

pub use objects::{
    parse_children, parse_content_changes, parse_failed_ids, parse_object, parse_object_array,
    parse_parents, parse_query_results,
};
pub use properties::json_datetime;
pub use repository::{
    find_repository_info, parse_repositories, parse_repository_info, RepositoryEntry,
};
pub use types::parse_type_definition;

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

#[cfg(test)]
mod tests;
