//! Where requests go: the bounded id → links cache, URI templates, collections, object links.

use std::collections::{HashMap, VecDeque};

use percent_encoding::utf8_percent_encode;

use super::parse::{protocol, Entry, ObjectLinks};
use super::request::read_params;
use super::{AtomPubBinding, TEMPLATE_VALUE};
use crate::cmis::error::{CmisError, Result};
use crate::cmis::model::*;

/// Objects whose links are remembered.
pub(super) const LINK_CACHE_SIZE: usize = 4096;

/// Object id → links, bounded, oldest out first.
#[derive(Default)]
pub(super) struct LinkCache {
    pub(super) map: HashMap<String, ObjectLinks>,
    pub(super) order: VecDeque<String>,
}

impl LinkCache {
    pub(super) fn get(&self, id: &str) -> Option<ObjectLinks> {
        self.map.get(id).cloned()
    }

    pub(super) fn put(&mut self, id: &str, links: ObjectLinks) {
        if self.map.insert(id.to_string(), links).is_none() {
            self.order.push_back(id.to_string());
            while self.order.len() > LINK_CACHE_SIZE {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }

    pub(super) fn remove(&mut self, id: &str) {
        if self.map.remove(id).is_some() {
            self.order.retain(|k| k != id);
        }
    }
}

/// Fills a URI template; variables without a value become empty (3.7.1.1).
pub(super) fn fill_template(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &rest[open + 1..open + close];
        let value = vars
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .unwrap_or("");
        out.extend(utf8_percent_encode(value, TEMPLATE_VALUE));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

impl AtomPubBinding {
    pub(super) fn template(&self, kind: &str) -> Result<&str> {
        self.workspace
            .templates
            .get(kind)
            .map(String::as_str)
            .ok_or_else(|| {
                CmisError::NotSupported(format!(
                    "the service document has no '{kind}' URI template"
                ))
            })
    }

    pub(super) fn collection(&self, kind: &str) -> Result<&str> {
        self.workspace
            .collections
            .get(kind)
            .map(String::as_str)
            .ok_or_else(|| {
                CmisError::NotSupported(format!("the service document has no '{kind}' collection"))
            })
    }

    pub(super) fn remember(&self, entry: &Entry) {
        let id = entry.object.id();
        if !id.is_empty() {
            if let Ok(mut cache) = self.links.lock() {
                cache.put(id, entry.links.clone());
            }
        }
    }

    pub(super) fn forget(&self, id: &str) {
        if let Ok(mut cache) = self.links.lock() {
            cache.remove(id);
        }
    }

    /// getObject through the objectbyid template.
    pub(super) async fn fetch_object(
        &self,
        id: &str,
        options: &ReadOptions,
        return_version: &str,
    ) -> Result<Entry> {
        let params = read_params(options);
        let mut vars: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        vars.push(("id", id));
        vars.push(("returnVersion", return_version));
        let url = self.url(&fill_template(self.template("objectbyid")?, &vars), &[])?;
        let entry = self.get_entry(&url).await?;
        if entry.object.id() != id {
            if let Ok(mut cache) = self.links.lock() {
                cache.put(id, entry.links.clone());
            }
        }
        Ok(entry)
    }

    /// A link of an object: from the cache, else (or when the cached
    /// entry lacks it) from a fresh read.
    pub(super) async fn link(
        &self,
        id: &str,
        pick: impl Fn(&ObjectLinks) -> Option<&String>,
    ) -> Result<Option<String>> {
        let cached = self.links.lock().ok().and_then(|c| c.get(id));
        if let Some(href) = cached.as_ref().and_then(&pick) {
            return Ok(Some(href.clone()));
        }
        let options = ReadOptions {
            filter: Some("cmis:objectId,cmis:baseTypeId".into()),
            include_allowable_actions: false,
        };
        let entry = self.fetch_object(id, &options, "").await?;
        Ok(pick(&entry.links).cloned())
    }

    pub(super) async fn self_link(&self, id: &str) -> Result<String> {
        self.link(id, |l| l.self_.as_ref().or(l.edit.as_ref()))
            .await?
            .ok_or_else(|| protocol(format!("the entry of {id} has no self link")))
    }

    pub(super) async fn edit_link(&self, id: &str) -> Result<String> {
        self.link(id, |l| l.edit.as_ref().or(l.self_.as_ref()))
            .await?
            .ok_or_else(|| protocol(format!("the entry of {id} has no edit link")))
    }

    pub(super) async fn children_link(&self, folder_id: &str) -> Result<String> {
        self.link(folder_id, |l| l.children.as_ref())
            .await?
            .ok_or_else(|| CmisError::InvalidArgument(format!("{folder_id} is not a folder")))
    }
}
