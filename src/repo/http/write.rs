//! POST actions: create, content, properties, move, filing, delete, versioning, ACLs, bulk update.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::params::index1;
use super::render::Render;
use super::{blocking, json_response, Ctx, Params, Result, FILENAME_SET};
use crate::cmis::error::CmisError;
use crate::cmis::model::{UnfileObjects, VersioningState};
use crate::repo::json;
use crate::repo::service::Staged;

impl Ctx {
    /// Renders one object fresh from a new snapshot.
    async fn render(&self, id: String, render: Render, status: StatusCode) -> Result<Response> {
        let created_id = id.clone();
        let svc = self.st.svc.clone();
        let user = self.user.clone();
        let v = blocking(move || {
            let r = svc.read()?;
            let rec = svc.get(&r, &user, &id)?;
            render.object(&svc, &r, &user, &rec)
        })
        .await?;
        let mut resp = json_response(status, v);
        if status == StatusCode::CREATED {
            if let Ok(h) = HeaderValue::from_str(&format!(
                "{}/browser/{}/root?objectId={}",
                self.base,
                self.st.svc.repo_id,
                percent_encoding::utf8_percent_encode(&created_id, FILENAME_SET)
            )) {
                resp.headers_mut().insert(header::LOCATION, h);
            }
        }
        Ok(resp)
    }

    pub(super) async fn post(
        self,
        p: Params,
        content: Option<Staged>,
        path: Option<String>,
    ) -> Result<Response> {
        let action = p
            .get("cmisaction")
            .ok_or_else(|| CmisError::InvalidArgument("no cmisaction".into()))?
            .to_ascii_lowercase();
        let render = Render::from(&p)?;
        let svc = self.st.svc.clone();
        let user = self.user.clone();
        // The target object: objectId, else the URL path.
        let target = {
            let svc = svc.clone();
            let user = user.clone();
            let id = p.get("objectId").map(str::to_string);
            let path = path.clone();
            blocking(move || {
                let r = svc.read()?;
                match (id, path) {
                    (Some(id), _) => Ok(Some(svc.get(&r, &user, &id)?.id)),
                    (None, Some(path)) => Ok(Some(svc.by_path(&r, &user, &path)?.id)),
                    (None, None) => Ok(None),
                }
            })
            .await?
        };
        let need = |t: &Option<String>| {
            t.clone()
                .ok_or_else(|| CmisError::InvalidArgument("no objectId".into()))
        };
        let token = p.get("changeToken").map(str::to_string);
        let props = p.properties()?;
        let created = StatusCode::CREATED;
        let ok = StatusCode::OK;
        match action.as_str() {
            "createdocument" => {
                // Unfiled when posted to the repository URL without objectId.
                let folder = target.clone();
                let state = match p
                    .get("versioningState")
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    None | Some("") => None,
                    Some("none") => Some(VersioningState::None),
                    Some("major") => Some(VersioningState::Major),
                    Some("minor") => Some(VersioningState::Minor),
                    Some("checkedout") => Some(VersioningState::CheckedOut),
                    Some(o) => {
                        return Err(CmisError::InvalidArgument(format!(
                            "bad versioningState '{o}'"
                        )))
                    }
                };
                let id = blocking(move || {
                    svc.create_document(&user, folder.as_deref(), &props, content, state)
                })
                .await?;
                self.render(id, render, created).await
            }
            "createfolder" => {
                let folder = need(&target)?;
                let id = blocking(move || svc.create_folder(&user, &folder, &props)).await?;
                self.render(id, render, created).await
            }
            "setcontent" => {
                let id = need(&target)?;
                let staged =
                    content.ok_or_else(|| CmisError::InvalidArgument("no content part".into()))?;
                let overwrite = p.flag("overwriteFlag", true)?;
                let id = blocking(move || {
                    svc.set_content(&user, &id, token.as_deref(), overwrite, staged)
                })
                .await?;
                self.render(id, render, created).await
            }
            "appendcontent" => {
                let id = need(&target)?;
                let staged =
                    content.ok_or_else(|| CmisError::InvalidArgument("no content part".into()))?;
                let id = blocking(move || svc.append_content(&user, &id, token.as_deref(), staged))
                    .await?;
                self.render(id, render, ok).await
            }
            "deletecontent" => {
                let id = need(&target)?;
                let id = blocking(move || svc.delete_content(&user, &id, token.as_deref())).await?;
                self.render(id, render, ok).await
            }
            "update" => {
                let id = need(&target)?;
                let id =
                    blocking(move || svc.update_properties(&user, &id, token.as_deref(), &props))
                        .await?;
                self.render(id, render, ok).await
            }
            "move" => {
                let id = need(&target)?;
                let to = p.get("targetFolderId").unwrap_or("").to_string();
                let from = p.get("sourceFolderId").map(str::to_string);
                let id =
                    blocking(move || svc.move_object(&user, &id, from.as_deref(), &to)).await?;
                self.render(id, render, created).await
            }
            "delete" => {
                let id = need(&target)?;
                let all = p.flag("allVersions", true)?;
                blocking(move || svc.delete_object(&user, &id, all)).await?;
                Ok(StatusCode::OK.into_response())
            }
            "deletetree" => {
                let id = need(&target)?;
                let all = p.flag("allVersions", true)?;
                let cont = p.flag("continueOnFailure", false)?;
                let unfile = match p
                    .get("unfileObjects")
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                {
                    None | Some("") | Some("delete") => UnfileObjects::Delete,
                    Some("unfile") => UnfileObjects::Unfile,
                    Some("deletesinglefiled") => UnfileObjects::DeleteSingleFiled,
                    Some(o) => {
                        return Err(CmisError::InvalidArgument(format!(
                            "bad unfileObjects '{o}'"
                        )))
                    }
                };
                let failed =
                    blocking(move || svc.delete_tree(&user, &id, all, unfile, cont)).await?;
                if failed.is_empty() {
                    Ok(StatusCode::OK.into_response())
                } else {
                    Ok(json_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        json!({"ids": failed}),
                    ))
                }
            }
            "addobjecttofolder" => {
                let id = need(&target)?;
                let folder = p.get("folderId").unwrap_or("").to_string();
                let id = blocking(move || svc.add_to_folder(&user, &id, &folder)).await?;
                self.render(id, render, created).await
            }
            "removeobjectfromfolder" => {
                let id = need(&target)?;
                let folder = p.get("folderId").map(str::to_string);
                let id =
                    blocking(move || svc.remove_from_folder(&user, &id, folder.as_deref())).await?;
                self.render(id, render, created).await
            }
            "checkout" => {
                let id = need(&target)?;
                let id = blocking(move || svc.check_out(&user, &id)).await?;
                self.render(id, render, created).await
            }
            "cancelcheckout" => {
                let id = need(&target)?;
                blocking(move || svc.cancel_check_out(&user, &id)).await?;
                Ok(StatusCode::OK.into_response())
            }
            "checkin" => {
                let id = need(&target)?;
                let major = p.flag("major", true)?;
                let comment = p.get("checkinComment").map(str::to_string);
                let id = blocking(move || {
                    svc.check_in(&user, &id, major, &props, content, comment.as_deref())
                })
                .await?;
                self.render(id, render, created).await
            }
            "applyacl" => {
                let id = need(&target)?;
                let add = p.aces("addACE");
                let remove = p.aces("removeACE");
                let v = blocking(move || {
                    svc.apply_acl(&user, &id, &add, &remove)?;
                    let r = svc.read()?;
                    Ok(json::acl(&svc.acl(&r, &user, &id)?))
                })
                .await?;
                Ok(json_response(StatusCode::OK, v))
            }
            "bulkupdate" => {
                let mut targets = Vec::new();
                for (k, v) in &p.0 {
                    if let Some(i) = index1(k, "objectId") {
                        let token = p.get(&format!("changeToken[{i}]")).map(str::to_string);
                        targets.push((v.clone(), token));
                    }
                }
                let v = blocking(move || {
                    let mut out = Vec::new();
                    for (id, token) in targets {
                        // Objects that cannot be updated are left out (spec).
                        if let Ok(new_id) =
                            svc.update_properties(&user, &id, token.as_deref(), &props)
                        {
                            let r = svc.read()?;
                            let rec = svc.get(&r, &user, &new_id)?;
                            out.push(json!({
                                "id": id,
                                "newId": new_id,
                                "changeToken": rec.change_token.to_string(),
                            }));
                        }
                    }
                    Ok(Value::Array(out))
                })
                .await?;
                Ok(json_response(StatusCode::OK, v))
            }
            "query" => self.query(p).await,
            other => Err(CmisError::NotSupported(format!(
                "action '{other}' is not supported"
            ))),
        }
    }
}
