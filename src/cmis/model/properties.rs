//! Properties: data types, values and the bag of properties of an object.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// The data type of a property (CMIS 1.1, 2.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PropertyType {
    String,
    Id,
    Integer,
    Decimal,
    Boolean,
    DateTime,
    Uri,
    Html,
}

impl PropertyType {
    /// The name used by both bindings (`"string"`, `"datetime"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            PropertyType::String => "string",
            PropertyType::Id => "id",
            PropertyType::Integer => "integer",
            PropertyType::Decimal => "decimal",
            PropertyType::Boolean => "boolean",
            PropertyType::DateTime => "datetime",
            PropertyType::Uri => "uri",
            PropertyType::Html => "html",
        }
    }

    pub fn parse(s: &str) -> Option<PropertyType> {
        Some(match s {
            "string" => PropertyType::String,
            "id" => PropertyType::Id,
            "integer" => PropertyType::Integer,
            "decimal" => PropertyType::Decimal,
            "boolean" => PropertyType::Boolean,
            "datetime" => PropertyType::DateTime,
            "uri" => PropertyType::Uri,
            "html" => PropertyType::Html,
            _ => return None,
        })
    }
}

/// A property value. Every CMIS property is a list; single-valued properties
/// hold zero (not set) or one element.
#[derive(Debug, Clone, PartialEq)]
pub enum PropertyValue {
    String(Vec<String>),
    Id(Vec<String>),
    Integer(Vec<i64>),
    Decimal(Vec<f64>),
    Boolean(Vec<bool>),
    DateTime(Vec<DateTime<Utc>>),
    Uri(Vec<String>),
    Html(Vec<String>),
}

impl PropertyValue {
    pub fn property_type(&self) -> PropertyType {
        match self {
            PropertyValue::String(_) => PropertyType::String,
            PropertyValue::Id(_) => PropertyType::Id,
            PropertyValue::Integer(_) => PropertyType::Integer,
            PropertyValue::Decimal(_) => PropertyType::Decimal,
            PropertyValue::Boolean(_) => PropertyType::Boolean,
            PropertyValue::DateTime(_) => PropertyType::DateTime,
            PropertyValue::Uri(_) => PropertyType::Uri,
            PropertyValue::Html(_) => PropertyType::Html,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            PropertyValue::String(v)
            | PropertyValue::Id(v)
            | PropertyValue::Uri(v)
            | PropertyValue::Html(v) => v.len(),
            PropertyValue::Integer(v) => v.len(),
            PropertyValue::Decimal(v) => v.len(),
            PropertyValue::Boolean(v) => v.len(),
            PropertyValue::DateTime(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first value of a string-like property (string, id, uri, html).
    pub fn first_str(&self) -> Option<&str> {
        match self {
            PropertyValue::String(v)
            | PropertyValue::Id(v)
            | PropertyValue::Uri(v)
            | PropertyValue::Html(v) => v.first().map(String::as_str),
            _ => None,
        }
    }

    /// All values of a string-like property.
    pub fn strs(&self) -> &[String] {
        match self {
            PropertyValue::String(v)
            | PropertyValue::Id(v)
            | PropertyValue::Uri(v)
            | PropertyValue::Html(v) => v,
            _ => &[],
        }
    }

    pub fn first_int(&self) -> Option<i64> {
        match self {
            PropertyValue::Integer(v) => v.first().copied(),
            _ => None,
        }
    }

    pub fn first_bool(&self) -> Option<bool> {
        match self {
            PropertyValue::Boolean(v) => v.first().copied(),
            _ => None,
        }
    }

    pub fn first_datetime(&self) -> Option<DateTime<Utc>> {
        match self {
            PropertyValue::DateTime(v) => v.first().copied(),
            _ => None,
        }
    }
}

/// A bag of properties keyed by property id (in a stable order, so that the
/// bindings serialise them deterministically).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Properties(pub BTreeMap<String, PropertyValue>);

impl Properties {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, id: &str) -> Option<&PropertyValue> {
        self.0.get(id)
    }

    pub fn set(&mut self, id: impl Into<String>, value: PropertyValue) -> &mut Self {
        self.0.insert(id.into(), value);
        self
    }

    pub fn remove(&mut self, id: &str) -> Option<PropertyValue> {
        self.0.remove(id)
    }

    /// Builder-style setter for a single string value.
    pub fn with_string(mut self, id: impl Into<String>, value: impl Into<String>) -> Self {
        self.0
            .insert(id.into(), PropertyValue::String(vec![value.into()]));
        self
    }

    /// Builder-style setter for a single id value.
    pub fn with_id(mut self, id: impl Into<String>, value: impl Into<String>) -> Self {
        self.0
            .insert(id.into(), PropertyValue::Id(vec![value.into()]));
        self
    }

    pub fn str(&self, id: &str) -> Option<&str> {
        self.get(id).and_then(PropertyValue::first_str)
    }

    pub fn int(&self, id: &str) -> Option<i64> {
        self.get(id).and_then(PropertyValue::first_int)
    }

    pub fn bool(&self, id: &str) -> Option<bool> {
        self.get(id).and_then(PropertyValue::first_bool)
    }

    pub fn datetime(&self, id: &str) -> Option<DateTime<Utc>> {
        self.get(id).and_then(PropertyValue::first_datetime)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &PropertyValue)> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
