//! The /admin endpoint (only when faults are on): fault settings, tampering with content.

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use futures_util::StreamExt;
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::{blocking, json_response, Params, Result, St, MAX_FORM};
use crate::cmis::error::CmisError;
use crate::repo::faults::FaultConfig;
use crate::repo::service::{Staged, User};

pub(super) async fn admin(
    st: St,
    user: User,
    what: &str,
    params: Params,
    req: Request,
) -> Result<Response> {
    let Some(faults) = &st.faults else {
        return Err(CmisError::ObjectNotFound(
            "no admin endpoint (faults are off)".into(),
        ));
    };
    if !user.admin {
        return Err(CmisError::PermissionDenied("admin only".into()));
    }
    match (what, req.method().clone()) {
        ("faults", Method::GET) => Ok(json_response(StatusCode::OK, json!(faults.get()))),
        ("faults", Method::POST) => {
            let body = axum::body::to_bytes(req.into_body(), MAX_FORM)
                .await
                .map_err(|e| CmisError::InvalidArgument(e.to_string()))?;
            let c: FaultConfig = serde_json::from_slice(&body)
                .map_err(|e| CmisError::InvalidArgument(format!("bad fault settings: {e}")))?;
            if !(0.0..=1.0).contains(&c.error_rate) || !(0.0..=1.0).contains(&c.drop_rate) {
                return Err(CmisError::InvalidArgument(
                    "rates must be within 0..=1".into(),
                ));
            }
            faults.set(c.clone());
            tracing::warn!(?c, "fault injection settings changed");
            Ok(json_response(StatusCode::OK, json!(c)))
        }
        ("tamper", Method::POST) => {
            let id = params
                .get("objectId")
                .ok_or_else(|| CmisError::InvalidArgument("no objectId".into()))?
                .to_string();
            let path = st
                .svc
                .store
                .tmp_dir()
                .join(format!("tamper-{:08x}", crate::repo::service::rand_u32()));
            let mut staged = Staged {
                path: path.clone(),
                length: 0,
                mime_type: String::new(),
                file_name: String::new(),
            };
            let mut f = tokio::fs::File::create(&path)
                .await
                .map_err(|e| CmisError::Storage(e.to_string()))?;
            let mut body = req.into_body().into_data_stream();
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| CmisError::InvalidArgument(e.to_string()))?;
                f.write_all(&chunk)
                    .await
                    .map_err(|e| CmisError::Storage(e.to_string()))?;
                staged.length += chunk.len() as u64;
            }
            f.sync_all()
                .await
                .map_err(|e| CmisError::Storage(e.to_string()))?;
            let svc = st.svc.clone();
            let id = blocking(move || svc.tamper(&id, staged)).await?;
            Ok(json_response(StatusCode::OK, json!({"objectId": id})))
        }
        _ => Err(CmisError::ObjectNotFound(format!(
            "no admin resource '{what}'"
        ))),
    }
}
