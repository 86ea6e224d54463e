//! `/api/v1/audit`: the audit trail for the log auditor.

use axum::Json;
use axum::extract::State;

use crate::json::ApiQuery;
use gridsafe_app::audit::{self, EventRecord};
use gridsafe_domain::access::perm;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::audit::{AuditQuery, problem_text};
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::{AppError, ErrorEnvelope};

#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    pub seq: i64,
    /// UTC, `2026-11-26T06:43:13.590000Z`.
    pub at: String,
    pub actor_user_id: Option<i64>,
    pub actor_name: String,
    /// `web`, `api`, `cli` or `job`.
    pub channel: String,
    pub action: String,
    pub record_kind: String,
    pub record_id: String,
    pub unit_id: Option<i64>,
    /// What changed, as JSON text.
    pub summary: String,
    pub request_id: String,
    pub algo: String,
    pub prev_hash: String,
    pub hash: String,
}

impl From<EventRecord> for EventOut {
    fn from(e: EventRecord) -> Self {
        Self {
            seq: e.seq,
            at: e.at,
            actor_user_id: e.actor_user_id,
            actor_name: e.actor_name,
            channel: e.channel,
            action: e.action,
            record_kind: e.record_kind,
            record_id: e.record_id,
            unit_id: e.unit_id,
            summary: e.summary,
            request_id: e.request_id,
            algo: e.algo,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// Audit events of the caller's units, newest first, 100 at a time.
#[utoipa::path(get, path = "/api/v1/audit/events", tag = "audit", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Vec<EventOut>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn events(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<EventOut>>, AppError> {
    let cap = auth.require::<perm::AuditRead>(&state).await?;
    Ok(Json(audit::search(state.app(), &cap, &q.filter()).await?.into_iter().map(EventOut::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyOut {
    pub intact: bool,
    pub events: u64,
    pub checkpoints: u64,
    pub first_seq: Option<i64>,
    pub last_seq: Option<i64>,
    /// The first event (or checkpoint) where the chain is broken.
    pub broken_at: Option<i64>,
    pub problem: Option<String>,
}

/// Verifies the whole chain and its signed checkpoints.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = VerifyOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn verify(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Json<VerifyOut>, AppError> {
    auth.require::<perm::AuditRead>(&state).await?;
    let report = audit::verify(state.app()).await?;
    Ok(Json(VerifyOut {
        intact: report.is_intact(),
        events: report.events,
        checkpoints: report.checkpoints,
        first_seq: report.first_seq,
        last_seq: report.last_seq,
        broken_at: report.problem.as_ref().map(audit::ChainProblem::seq),
        problem: problem_text(ctx.lang, &report),
    }))
}
