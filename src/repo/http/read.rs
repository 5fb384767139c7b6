//! GET: the repository selectors (info, types, query, changes, checkedout) and object selectors.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::render::{list_json, repo_info, tree_json, Render};
use super::{blocking, json_response, Ctx, Params, Result};
use crate::cmis::error::CmisError;
use crate::repo::json::{self, Filter};
use crate::repo::store::Kind;
use crate::repo::types;

impl Ctx {
    pub(super) async fn repo_get(self, p: Params) -> Result<Response> {
        let selector = p
            .get("cmisselector")
            .unwrap_or("repositoryInfo")
            .to_ascii_lowercase();
        let svc = self.st.svc.clone();
        let user = self.user.clone();
        match selector.as_str() {
            "repositoryinfo" => {
                let info = repo_info(&self.st, &self.base).await?;
                Ok(json_response(
                    StatusCode::OK,
                    json!({ svc.repo_id.clone(): info }),
                ))
            }
            "typechildren" => {
                let page = p.page(100)?;
                let parent = p.get("typeId").filter(|s| !s.is_empty());
                if let Some(t) = parent {
                    types::type_def(t)
                        .ok_or_else(|| CmisError::ObjectNotFound(format!("no type '{t}'")))?;
                }
                let all = types::children_of(parent);
                let num = all.len() as u64;
                let list: Vec<Value> = all
                    .iter()
                    .skip(page.skip.min(num) as usize)
                    .take(page.max as usize)
                    .map(|t| json::type_def(t))
                    .collect();
                let more = page.skip.saturating_add(page.max) < num;
                Ok(json_response(
                    StatusCode::OK,
                    json!({"types": list, "hasMoreItems": more, "numItems": num}),
                ))
            }
            "typedescendants" => {
                let parent = p.get("typeId").filter(|s| !s.is_empty());
                if let Some(t) = parent {
                    types::type_def(t)
                        .ok_or_else(|| CmisError::ObjectNotFound(format!("no type '{t}'")))?;
                }
                let depth = p.int("depth")?.unwrap_or(-1);
                if depth == 0 || depth < -1 {
                    return Err(CmisError::InvalidArgument("depth must be -1 or > 0".into()));
                }
                fn tree(parent: Option<&str>, depth: i64) -> Vec<Value> {
                    types::children_of(parent)
                        .into_iter()
                        .map(|t| {
                            let children = if depth == -1 || depth > 1 {
                                tree(Some(t.id), if depth == -1 { -1 } else { depth - 1 })
                            } else {
                                Vec::new()
                            };
                            json!({"type": json::type_def(t), "children": children})
                        })
                        .collect()
                }
                Ok(json_response(
                    StatusCode::OK,
                    Value::Array(tree(parent, depth)),
                ))
            }
            "typedefinition" => {
                let t = p.get("typeId").unwrap_or("");
                let def = types::type_def(t)
                    .ok_or_else(|| CmisError::ObjectNotFound(format!("no type '{t}'")))?;
                Ok(json_response(StatusCode::OK, json::type_def(def)))
            }
            "query" => self.query(p).await,
            "contentchanges" => {
                let succinct = p.flag("succinct", false)?;
                let max = p.page(1000)?.max;
                let token = p.get("changeLogToken").map(str::to_string);
                let (events, more, latest) =
                    blocking(move || svc.changes(token.as_deref(), max)).await?;
                let objects: Vec<Value> = events
                    .into_iter()
                    .map(|(_, ev)| {
                        let mut props = crate::cmis::model::Properties::new();
                        for (k, v) in &ev.properties {
                            let pv = match types::prop_def(k).map(|d| d.property_type) {
                                Some(crate::cmis::model::PropertyType::Id) => {
                                    crate::cmis::model::PropertyValue::Id(vec![v.clone()])
                                }
                                _ => crate::cmis::model::PropertyValue::String(vec![v.clone()]),
                            };
                            props.set(k.clone(), pv);
                        }
                        let (key, pv) = json::properties(&props, succinct, &Filter::default());
                        json!({
                            key: pv,
                            "changeEventInfo": {
                                "changeType": ev.change_type,
                                "changeTime": ev.time,
                            }
                        })
                    })
                    .collect();
                Ok(json_response(
                    StatusCode::OK,
                    json!({"objects": objects, "hasMoreItems": more, "changeLogToken": latest}),
                ))
            }
            "checkedout" => {
                let render = Render::from(&p)?;
                let page = p.page(100)?;
                let v = blocking(move || {
                    let r = svc.read()?;
                    let list = svc.checked_out(&r, &user, None)?;
                    list_json(&svc, &r, &user, &render, list, page)
                })
                .await?;
                Ok(json_response(StatusCode::OK, v))
            }
            other => Err(CmisError::InvalidArgument(format!(
                "unknown repository selector '{other}'"
            ))),
        }
    }

    pub(super) async fn query(self, p: Params) -> Result<Response> {
        let statement = p
            .get("q")
            .or_else(|| p.get("statement"))
            .ok_or_else(|| CmisError::InvalidArgument("no query statement (q)".into()))?
            .to_string();
        let succinct = p.flag("succinct", false)?;
        let all_versions = p.flag("searchAllVersions", false)?;
        let page = p.page(100)?;
        let svc = self.st.svc.clone();
        let user = self.user.clone();
        let (rows, more, num) =
            blocking(move || svc.query(&user, &statement, all_versions, page)).await?;
        let results: Vec<Value> = rows
            .iter()
            .map(|props| {
                let (key, v) = json::properties(props, succinct, &Filter::default());
                json!({ key: v })
            })
            .collect();
        Ok(json_response(
            StatusCode::OK,
            json!({"results": results, "hasMoreItems": more, "numItems": num}),
        ))
    }

    pub(super) async fn object_get(
        self,
        p: Params,
        path: String,
        headers: HeaderMap,
    ) -> Result<Response> {
        let svc = self.st.svc.clone();
        let user = self.user.clone();
        let object_id = p.get("objectId").map(str::to_string);
        let return_version = p.get("returnVersion").map(str::to_ascii_lowercase);
        let rec = {
            let svc = svc.clone();
            let user = user.clone();
            blocking(move || {
                let r = svc.read()?;
                let rec = match &object_id {
                    Some(id) => svc.get(&r, &user, id)?,
                    None => svc.by_path(&r, &user, &path)?,
                };
                match return_version.as_deref() {
                    None | Some("") | Some("this") => Ok(rec),
                    Some("latest") => svc.latest_version(&r, &user, &rec.id, false),
                    Some("latestmajor") => svc.latest_version(&r, &user, &rec.id, true),
                    Some(o) => Err(CmisError::InvalidArgument(format!(
                        "bad returnVersion '{o}'"
                    ))),
                }
            })
            .await?
        };
        let default = if rec.kind == Kind::Folder {
            "children"
        } else {
            "content"
        };
        let selector = p
            .get("cmisselector")
            .unwrap_or(default)
            .to_ascii_lowercase();
        if selector == "content" {
            return self.content(rec, &p, &headers).await;
        }
        let render = Render::from(&p)?;
        let id = rec.id.clone();
        let v = match selector.as_str() {
            "object" | "properties" => {
                let only_props = selector == "properties";
                blocking(move || {
                    let r = svc.read()?;
                    let rec = svc.get(&r, &user, &id)?;
                    let v = render.object(&svc, &r, &user, &rec)?;
                    if only_props {
                        let key = if render.succinct {
                            "succinctProperties"
                        } else {
                            "properties"
                        };
                        Ok(v.get(key).cloned().unwrap_or(Value::Null))
                    } else {
                        Ok(v)
                    }
                })
                .await?
            }
            "children" => {
                let page = p.page(100)?;
                let order = p.get("orderBy").map(str::to_string);
                blocking(move || {
                    let r = svc.read()?;
                    let l = svc.children(&r, &user, &id, order.as_deref(), page, false)?;
                    let mut objects = Vec::new();
                    for c in &l.objects {
                        let mut o = json!({"object": render.object(&svc, &r, &user, c)?});
                        if render.path_segment {
                            o["pathSegment"] = json!(c.name);
                        }
                        objects.push(o);
                    }
                    Ok(json!({"objects": objects, "hasMoreItems": l.has_more, "numItems": l.num_items}))
                })
                .await?
            }
            "descendants" | "foldertree" => {
                let folders_only = selector == "foldertree";
                let depth = p.int("depth")?.unwrap_or(if folders_only { -1 } else { 2 });
                blocking(move || {
                    let r = svc.read()?;
                    let tree = svc.tree(&r, &user, &id, depth, folders_only)?;
                    tree_json(&svc, &r, &user, &render, &tree)
                })
                .await?
            }
            "parent" => {
                blocking(move || {
                    let r = svc.read()?;
                    let rec = svc.get(&r, &user, &id)?;
                    if rec.kind != Kind::Folder || rec.parents.is_empty() {
                        return Err(CmisError::InvalidArgument(
                            "only a folder other than the root has a folder parent".into(),
                        ));
                    }
                    let parent = svc.get(&r, &user, &rec.parents[0])?;
                    render.object(&svc, &r, &user, &parent)
                })
                .await?
            }
            "parents" => {
                blocking(move || {
                    let r = svc.read()?;
                    let mut out = Vec::new();
                    for (f, name) in svc.parents(&r, &user, &id)? {
                        let mut o = json!({"object": render.object(&svc, &r, &user, &f)?});
                        if p.flag("includeRelativePathSegment", true)? {
                            o["relativePathSegment"] = json!(name);
                        }
                        out.push(o);
                    }
                    Ok(Value::Array(out))
                })
                .await?
            }
            "versions" => {
                blocking(move || {
                    let r = svc.read()?;
                    let mut out = Vec::new();
                    for v in svc.all_versions(&r, &user, &id)? {
                        out.push(render.object(&svc, &r, &user, &v)?);
                    }
                    Ok(Value::Array(out))
                })
                .await?
            }
            "allowableactions" => {
                blocking(move || {
                    let r = svc.read()?;
                    let rec = svc.get(&r, &user, &id)?;
                    Ok(json::actions(&svc.actions(&r, &user, &rec)?))
                })
                .await?
            }
            "acl" => {
                blocking(move || {
                    let r = svc.read()?;
                    Ok(json::acl(&svc.acl(&r, &user, &id)?))
                })
                .await?
            }
            "checkedout" => {
                let page = p.page(100)?;
                blocking(move || {
                    let r = svc.read()?;
                    let list = svc.checked_out(&r, &user, Some(&id))?;
                    list_json(&svc, &r, &user, &render, list, page)
                })
                .await?
            }
            "policies" | "renditions" => json!([]),
            "relationships" => json!({"objects": [], "hasMoreItems": false, "numItems": 0}),
            other => {
                return Err(CmisError::InvalidArgument(format!(
                    "unknown object selector '{other}'"
                )))
            }
        };
        Ok(json_response(StatusCode::OK, v))
    }
}
