//! Type definitions (getTypeDefinition).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{as_object, bool_field, protocol, str_field};
use crate::cmis::error::Result;
use crate::cmis::model::*;

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
