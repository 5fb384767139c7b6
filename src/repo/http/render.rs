//! JSON rendering: the repository info, objects as a request asks for them, lists and trees.

use serde_json::{json, Value};

use super::{blocking, Params, Result, St};
use crate::repo::json::{self, Filter};
use crate::repo::service::{Page, Service, TreeNode, User};
use crate::repo::store::{ObjRec, Read};

pub(super) async fn repo_info(st: &St, base: &str) -> Result<Value> {
    let svc = st.svc.clone();
    let base = base.to_string();
    blocking(move || {
        let r = svc.read()?;
        let token = svc.latest_change_token(&r)?;
        let repo_url = format!("{base}/browser/{}", svc.repo_id);
        let mut settable = serde_json::Map::new();
        for k in [
            "id",
            "localName",
            "localNamespace",
            "displayName",
            "queryName",
            "description",
            "creatable",
            "fileable",
            "queryable",
            "fulltextIndexed",
            "includedInSupertypeQuery",
            "controllablePolicy",
            "controllableACL",
        ] {
            settable.insert(k.to_string(), json!(false));
        }
        let caps = json!({
            "capabilityContentStreamUpdatability": "anytime",
            "capabilityChanges": "properties",
            "capabilityRenditions": "none",
            "capabilityGetDescendants": true,
            "capabilityGetFolderTree": true,
            "capabilityMultifiling": true,
            "capabilityUnfiling": true,
            "capabilityVersionSpecificFiling": false,
            "capabilityPWCSearchable": false,
            "capabilityPWCUpdatable": true,
            "capabilityAllVersionsSearchable": true,
            "capabilityOrderBy": "common",
            "capabilityQuery": "metadataonly",
            "capabilityJoin": "none",
            "capabilityACL": "manage",
            "capabilityCreatablePropertyTypes": {"canCreate": []},
            "capabilityNewTypeSettableAttributes": settable,
        });
        Ok(json!({
            "repositoryId": svc.repo_id,
            "repositoryName": "cmisfs",
            "repositoryDescription": "cmisfs embedded repository",
            "vendorName": "cmisfs",
            "productName": "cmisfs repo",
            "productVersion": env!("CARGO_PKG_VERSION"),
            "rootFolderId": svc.root_id,
            "latestChangeLogToken": token,
            "cmisVersionSupported": "1.1",
            "thinClientURI": "",
            "changesIncomplete": false,
            "changesOnType": ["cmis:document", "cmis:folder"],
            "principalIdAnonymous": "anonymous",
            "principalIdAnyone": "cmis:anyone",
            "capabilities": caps,
            "aclCapabilities": {
                "supportedPermissions": "basic",
                "propagation": "propagate",
                "permissions": [
                    {"permission": "cmis:read", "description": "Read"},
                    {"permission": "cmis:write", "description": "Write"},
                    {"permission": "cmis:all", "description": "All"}
                ],
                "permissionMapping": []
            },
            "extendedFeatures": [],
            "repositoryUrl": repo_url,
            "rootFolderUrl": format!("{repo_url}/root"),
        }))
    })
    .await
}

/// How to render objects for one request.
#[derive(Clone)]
pub(super) struct Render {
    pub(super) succinct: bool,
    filter: Filter,
    actions: bool,
    acl: bool,
    pub(super) path_segment: bool,
}

impl Render {
    pub(super) fn from(p: &Params) -> Result<Render> {
        Ok(Render {
            succinct: p.flag("succinct", false)?,
            filter: Filter::parse(p.get("filter"))?,
            actions: p.flag("includeAllowableActions", false)?,
            acl: p.flag("includeACL", false)?,
            path_segment: p.flag("includePathSegment", true)?,
        })
    }

    pub(super) fn object<R: Read>(
        &self,
        svc: &Service,
        r: &R,
        user: &User,
        rec: &ObjRec,
    ) -> Result<Value> {
        let obj = svc.view(r, user, rec, self.actions)?;
        let acl = if self.acl {
            Some(json::acl(&crate::repo::acl::effective(r, rec)?))
        } else {
            None
        };
        Ok(json::object(&obj, self.succinct, &self.filter, acl))
    }
}

pub(super) fn list_json<R: Read>(
    svc: &Service,
    r: &R,
    user: &User,
    render: &Render,
    list: Vec<ObjRec>,
    page: Page,
) -> Result<Value> {
    let num = list.len() as u64;
    let mut objects = Vec::new();
    for o in list
        .iter()
        .skip(page.skip.min(num) as usize)
        .take(page.max as usize)
    {
        objects.push(render.object(svc, r, user, o)?);
    }
    Ok(json!({
        "objects": objects,
        "hasMoreItems": page.skip.saturating_add(page.max) < num,
        "numItems": num,
    }))
}

pub(super) fn tree_json<R: Read>(
    svc: &Service,
    r: &R,
    user: &User,
    render: &Render,
    nodes: &[TreeNode],
) -> Result<Value> {
    let mut out = Vec::new();
    for n in nodes {
        let mut o = json!({"object": render.object(svc, r, user, &n.object)?});
        if render.path_segment {
            o["pathSegment"] = json!(n.object.name);
        }
        let mut node = json!({"object": o});
        if !n.children.is_empty() {
            node["children"] = tree_json(svc, r, user, render, &n.children)?;
        }
        out.push(node);
    }
    Ok(Value::Array(out))
}
