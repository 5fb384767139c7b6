//! The Browser binding's JSON shapes (CMIS 1.1, chapter 5), built from the
//! typed model: objects (succinct and full property form), lists, trees,
//! type definitions, ACLs, allowable actions, change events and errors.
//!
//! Full ("non-succinct") properties repeat their definition next to the
//! value (`id`, `localName`, `displayName`, `queryName`, `type`,
//! `cardinality`, `value`), as OpenCMIS does; succinct ones are just
//! `id: value`. Dates are milliseconds since the epoch; multi-valued
//! properties are arrays; a property without a value is `null`.

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::acl::EffectiveAce;
use super::types::{self, PropDef, TypeDef};
use crate::cmis::error::CmisError;
use crate::cmis::model::{AllowableActions, CmisObject, Properties, PropertyValue};

/// A property filter: `None` = all.
#[derive(Debug, Clone, Default)]
pub struct Filter(Option<HashSet<String>>);

impl Filter {
    pub fn parse(s: Option<&str>) -> Result<Filter, CmisError> {
        let Some(s) = s.map(str::trim).filter(|s| !s.is_empty() && *s != "*") else {
            return Ok(Filter(None));
        };
        let mut set = HashSet::new();
        for id in s.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            if id == "*" {
                return Ok(Filter(None));
            }
            if id.len() > 256 || id.contains(char::is_whitespace) {
                return Err(CmisError::FilterNotValid(format!(
                    "bad filter entry '{id}'"
                )));
            }
            set.insert(id.to_string());
        }
        // These identify the object: always sent.
        for id in ["cmis:objectId", "cmis:objectTypeId", "cmis:baseTypeId"] {
            set.insert(id.to_string());
        }
        Ok(Filter(Some(set)))
    }

    fn keeps(&self, id: &str) -> bool {
        self.0.as_ref().is_none_or(|s| s.contains(id))
    }
}

fn values(v: &PropertyValue) -> Vec<Value> {
    match v {
        PropertyValue::String(x)
        | PropertyValue::Id(x)
        | PropertyValue::Uri(x)
        | PropertyValue::Html(x) => x.iter().map(|s| json!(s)).collect(),
        PropertyValue::Integer(x) => x.iter().map(|n| json!(n)).collect(),
        PropertyValue::Decimal(x) => x.iter().map(|n| json!(n)).collect(),
        PropertyValue::Boolean(x) => x.iter().map(|b| json!(b)).collect(),
        PropertyValue::DateTime(x) => x.iter().map(|d| json!(d.timestamp_millis())).collect(),
    }
}

fn value(v: &PropertyValue, multi: bool) -> Value {
    let mut vals = values(v);
    if vals.is_empty() {
        // OpenCMIS sends null for "no value", single or multi.
        Value::Null
    } else if multi {
        Value::Array(vals)
    } else if vals.is_empty() {
        Value::Null
    } else {
        vals.swap_remove(0)
    }
}

fn full_property(id: &str, def: Option<&PropDef>, v: &PropertyValue) -> Value {
    let multi = def.is_some_and(|d| d.multi);
    json!({
        "id": id,
        "localName": id,
        "displayName": def.map_or(id, |d| d.display_name),
        "queryName": id,
        "type": v.property_type().as_str(),
        "cardinality": if multi { "multi" } else { "single" },
        "value": value(v, multi),
    })
}

/// The `properties` / `succinctProperties` member of an object.
pub fn properties(props: &Properties, succinct: bool, filter: &Filter) -> (&'static str, Value) {
    let mut map = Map::new();
    for (id, v) in props.iter() {
        if !filter.keeps(id) {
            continue;
        }
        let def = types::prop_def(id);
        let multi = def.is_some_and(|d| d.multi);
        map.insert(
            id.clone(),
            if succinct {
                value(v, multi)
            } else {
                full_property(id, def, v)
            },
        );
    }
    (
        if succinct {
            "succinctProperties"
        } else {
            "properties"
        },
        Value::Object(map),
    )
}

pub fn actions(a: &AllowableActions) -> Value {
    let mut map = Map::new();
    for act in crate::cmis::model::Action::ALL {
        map.insert(act.as_str().to_string(), json!(a.allows(act)));
    }
    Value::Object(map)
}

pub fn acl(aces: &[EffectiveAce]) -> Value {
    json!({
        "aces": aces.iter().map(|a| json!({
            "principal": {"principalId": a.principal},
            "permissions": a.permissions,
            "isDirect": a.direct,
        })).collect::<Vec<_>>(),
        "isExact": true,
    })
}

/// One object. `acl` is included when requested.
pub fn object(obj: &CmisObject, succinct: bool, filter: &Filter, acl: Option<Value>) -> Value {
    let mut map = Map::new();
    let (key, props) = properties(&obj.properties, succinct, filter);
    map.insert(key.into(), props);
    if let Some(a) = &obj.allowable_actions {
        map.insert("allowableActions".into(), actions(a));
    }
    if let Some(acl) = acl {
        map.insert("acl".into(), acl);
        map.insert("exactACL".into(), json!(true));
    }
    Value::Object(map)
}

pub fn error(e: &CmisError) -> Value {
    json!({
        "exception": e.exception_name(),
        "message": e.to_string(),
    })
}

fn prop_def_json(p: &PropDef) -> Value {
    json!({
        "id": p.id,
        "localName": p.id,
        "localNamespace": "",
        "displayName": p.display_name,
        "queryName": p.id,
        "description": p.display_name,
        "propertyType": p.property_type.as_str(),
        "cardinality": if p.multi { "multi" } else { "single" },
        "updatability": p.updatability.as_str(),
        "inherited": false,
        "required": p.required,
        "queryable": true,
        "orderable": p.orderable,
        "openChoice": false,
    })
}

pub fn type_def(t: &TypeDef) -> Value {
    let mut props = Map::new();
    for p in types::props_of(t) {
        props.insert(p.id.to_string(), prop_def_json(p));
    }
    let mut v = json!({
        "id": t.id,
        "localName": t.id,
        "localNamespace": "",
        "displayName": t.display_name,
        "queryName": t.id,
        "description": t.description,
        "baseId": t.base.as_str(),
        "creatable": t.creatable,
        "fileable": t.fileable,
        "queryable": t.queryable,
        "fulltextIndexed": false,
        "includedInSupertypeQuery": true,
        "controllablePolicy": false,
        "controllableACL": t.fileable,
        "typeMutability": {"create": false, "update": false, "delete": false},
        "propertyDefinitions": props,
    });
    if let Some(m) = v.as_object_mut() {
        if let Some(p) = t.parent {
            m.insert("parentId".into(), json!(p));
        }
        if t.base == crate::cmis::model::BaseType::Document {
            m.insert("versionable".into(), json!(t.versionable));
            m.insert("contentStreamAllowed".into(), json!("allowed"));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn succinct_and_full_properties() {
        let p = Properties::new()
            .with_string("cmis:name", "a")
            .with_id("cmis:objectId", "d1");
        let (k, v) = properties(&p, true, &Filter::default());
        assert_eq!(k, "succinctProperties");
        assert_eq!(v["cmis:name"], "a");
        let (k, v) = properties(&p, false, &Filter::default());
        assert_eq!(k, "properties");
        assert_eq!(v["cmis:name"]["value"], "a");
        assert_eq!(v["cmis:objectId"]["type"], "id");
        let f = Filter::parse(Some("cmis:name")).unwrap();
        let (_, v) = properties(
            &Properties::new().with_string("cmis:description", "x"),
            true,
            &f,
        );
        assert!(v.get("cmis:description").is_none());
    }
}
