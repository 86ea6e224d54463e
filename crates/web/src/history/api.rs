//! The JSON API twin of the history import: the same files, rules and audit as the page.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridsafe_app::history;
use gridsafe_domain::access::perm;
use gridsafe_domain::history::Register;
use gridsafe_domain::ids::UnitId;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::ApiPath;

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryImported {
    /// The import's id (on the history page, with its files' SHA-256).
    pub id: i64,
    pub records: i64,
}

/// The upload: `unit_id` and one or more `files` (CSV or `.xlsx`), as the page sends them.
#[derive(Debug, ToSchema)]
#[allow(dead_code, reason = "documents the multipart form for the OpenAPI document")]
pub struct HistoryUpload {
    pub unit_id: i64,
    #[schema(value_type = Vec<String>, format = Binary)]
    pub files: Vec<Vec<u8>>,
}

/// Imports a register kept before GridSafe with its real dates: `tickets` (the ticket register),
/// `hazards` (the hazard ledger) or `inspections` (the inspection history). All of the files or
/// nothing; every problem named by file, line and column.
#[utoipa::path(post, path = "/api/v1/history/{register}", tag = "history", security(("bearer" = [])),
    params(("register" = String, Path, description = "`tickets`, `hazards` or `inspections`")),
    request_body(content = HistoryUpload, content_type = "multipart/form-data"),
    responses((status = 201, body = HistoryImported), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, description = "No such register", body = ErrorEnvelope), (status = 413, body = ErrorEnvelope), (status = 415, body = ErrorEnvelope),
        (status = 422, description = "Every problem of the files, by file, line and column; nothing written", body = ErrorEnvelope)))]
pub async fn import(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    ApiPath(register): ApiPath<String>,
    crate::json::ApiMultipart(mut multipart): crate::json::ApiMultipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::HistoryImport>(&state).await?;
    let register = Register::parse(&register).ok_or(gridsafe_app::AppError::NotFound)?;
    let (files, unit) = crate::people::upload_form(&mut multipart, "unit_id").await?;
    let unit = UnitId::new(unit.and_then(|u| u.trim().parse().ok()).unwrap_or_default());
    let result = history::import(state.app(), &cap, &auth.meta, register, unit, &files).await;
    match auth.checked(&state, result).await? {
        Ok(done) => {
            let out = HistoryImported { id: done.id, records: i64::try_from(done.records).unwrap_or(i64::MAX) };
            Ok((StatusCode::CREATED, Json(out)).into_response())
        }
        Err(problems) => Err(crate::api::imports::refused(ctx.lang, &problems)),
    }
}
