//! The JSON API of the cross-audit: findings, their review, rectification tasks.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridsafe_app::findings::{self, FindingFilter, FindingRow, TaskInput, TaskRow};
use gridsafe_domain::access::perm;
use gridsafe_domain::findings::{FindingState, Review};
use gridsafe_domain::ids::UnitId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::paging::{self, Page};
use crate::auth::Auth;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, ApiPath, ApiQuery};

#[derive(Debug, Serialize, ToSchema)]
pub struct FindingOut {
    pub id: i64,
    /// The cross-audit rule's code, e.g. `NO_TICKET`.
    pub rule: String,
    /// `order`, `ticket` or `event`.
    pub entity_kind: String,
    pub entity_id: String,
    pub subject: String,
    pub detail: String,
    pub unit_id: i64,
    pub unit_name: String,
    /// `YYYY-MM` of the work.
    pub month: String,
    #[schema(schema_with = states)]
    pub state: String,
    pub review_reason: Option<String>,
    pub reviewed_by: Option<String>,
    /// The hazard its confirmation opened in the closed loop.
    pub hazard_id: Option<i64>,
}

fn states() -> utoipa::openapi::schema::Object {
    crate::json::one_of(FindingState::ALL.iter().map(|s| s.code()))
}

impl From<FindingRow> for FindingOut {
    fn from(f: FindingRow) -> Self {
        Self {
            id: f.id,
            rule: f.rule,
            entity_kind: f.entity_kind,
            entity_id: f.entity_id,
            subject: f.subject,
            detail: f.detail,
            unit_id: f.unit_id.get(),
            unit_name: f.unit_name,
            month: f.month,
            state: f.state.code().to_owned(),
            review_reason: f.review_reason,
            reviewed_by: f.reviewed_by,
            hazard_id: f.hazard_id,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingsQuery {
    pub rule: Option<String>,
    #[param(schema_with = states)]
    pub state: Option<String>,
    /// `YYYY-MM`
    pub month: Option<String>,
    /// A unit and the units below it.
    #[param(value_type = Option<i64>)]
    pub unit_id: Option<String>,
    /// Findings a page holds at most (the default and the most: 10000).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<u32>,
    /// Where the page starts: the cursor in the `Link` header of the page before.
    #[param(pattern = "^([0-9a-f]{2})*(~([0-9a-f]{2})*){3}$")]
    pub after: Option<String>,
}

/// Findings a page of the API holds at most.
const MAX_PAGE: u32 = 10_000;

/// Where a page starts after `row`: its key (month, rule, entity, subject).
fn cursor_of(row: &FindingRow) -> String {
    let a = row.after();
    paging::text_cursor(&[&a.month, &a.rule, &a.entity_id, &a.subject])
}

/// The key a cursor names, if it is one.
fn cursor(text: &str) -> Option<findings::After> {
    let [month, rule, entity_id, subject] = paging::read_text_cursor(text)?;
    Some(findings::After { month, rule, entity_id, subject })
}

/// Findings in the caller's units, a page at a time.
///
/// In the list's order (month, newest first, then rule, entity and subject); when more follow,
/// the `Link` header names the next page.
#[utoipa::path(get, path = "/api/v1/findings", tag = "findings", security(("bearer" = [])), params(FindingsQuery),
    responses((status = 200, body = Vec<FindingOut>, headers(("Link" = String, description = "`<…>; rel=\"next\"`: the next page, when more findings follow"))),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<FindingsQuery>,
) -> Result<Page<FindingOut>, AppError> {
    let cap = auth.require::<perm::FindingsView>(&state).await?;
    let state_filter = match q.state.as_deref() {
        None => None,
        Some(code) => Some(
            FindingState::from_code(code)
                .ok_or_else(|| AppError::from(gridsafe_app::AppError::invalid("state", "field-invalid")))?,
        ),
    };
    let unit_id = match q.unit_id.as_deref() {
        None => None,
        Some(text) => Some(
            crate::json::whole(text)
                .ok_or_else(|| AppError::from(gridsafe_app::AppError::invalid("unit_id", "field-invalid")))?,
        ),
    };
    let limit = paging::limit(q.limit, MAX_PAGE)?;
    let after = match q.after.as_deref() {
        None => None,
        Some(text) => Some(cursor(text).ok_or_else(paging::bad_cursor)?),
    };
    let filter = FindingFilter {
        rule: q.rule.clone(),
        state: state_filter,
        month: q.month.clone(),
        unit_id: unit_id.map(UnitId::new),
    };
    let rows = findings::list_findings(state.app(), &cap, &filter, after.as_ref(), limit + 1).await?;
    let query = paging::kept(&[
        ("rule", q.rule.as_deref()),
        ("state", q.state.as_deref()),
        ("month", q.month.as_deref()),
        ("unit_id", q.unit_id.as_deref()),
    ]);
    let page = Page::of(rows, limit, "/api/v1/findings", &query, cursor_of);
    Ok(Page { rows: page.rows.into_iter().map(FindingOut::from).collect(), next: page.next })
}

/// One finding.
#[utoipa::path(get, path = "/api/v1/findings/{id}", tag = "findings", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Finding id")),
    responses((status = 200, body = FindingOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<FindingOut>, AppError> {
    let cap = auth.require::<perm::FindingsView>(&state).await?;
    let d = auth.checked(&state, findings::finding(state.app(), &cap, id).await).await?;
    Ok(Json(d.finding.into()))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Confirm,
    Dismiss,
}

/// The safety auditor's review: confirm (with the task's responsible person and deadline) or
/// dismiss (with a reason).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReviewIn {
    pub decision: Decision,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: String,
    /// For `confirm`: who rectifies.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub responsible: String,
    /// For `confirm`: `YYYY-MM-DD`, today or later (default: today plus `crossaudit.task_days`).
    #[serde(default)]
    #[schema(format = Date)]
    pub deadline: String,
}

/// Reviews an open finding; a confirmation creates its rectification task.
#[utoipa::path(post, path = "/api/v1/findings/{id}/review", tag = "findings", security(("bearer" = [])), request_body = ReviewIn,
    params(("id" = i64, Path, description = "Finding id")),
    responses((status = 200, body = FindingOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Not open any more (FINDING_REVIEW)", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn review(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<ReviewIn>,
) -> Result<Json<FindingOut>, AppError> {
    let cap = auth.require::<perm::FindingsReview>(&state).await?;
    let decision = match r.decision {
        Decision::Confirm => Review::Confirm,
        Decision::Dismiss => Review::Dismiss,
    };
    let task = TaskInput { responsible: r.responsible, deadline: r.deadline };
    auth.checked(&state, findings::review(state.app(), &cap, &auth.meta, id, decision, &r.reason, task).await).await?;
    Ok(Json(findings::finding(state.app(), &cap, id).await?.finding.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOut {
    pub id: i64,
    /// `finding` (hazards later).
    pub source_kind: String,
    pub source_id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub title: String,
    pub responsible: String,
    pub deadline: String,
    pub open: bool,
    /// Open after its deadline.
    pub overdue: bool,
    pub evidence: Option<String>,
}

impl From<TaskRow> for TaskOut {
    fn from(t: TaskRow) -> Self {
        Self {
            id: t.id,
            source_kind: t.source_kind,
            source_id: t.source_id,
            unit_id: t.unit_id.get(),
            unit_name: t.unit_name,
            title: t.title,
            responsible: t.responsible,
            deadline: t.deadline,
            open: t.open,
            overdue: t.overdue,
            evidence: t.evidence,
        }
    }
}

/// Rectification tasks in the caller's units, open ones first.
#[utoipa::path(get, path = "/api/v1/tasks", tag = "findings", security(("bearer" = [])),
    responses((status = 200, body = Vec<TaskOut>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn tasks(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<TaskOut>>, AppError> {
    let cap = auth.require::<perm::FindingsView>(&state).await?;
    Ok(Json(findings::list_tasks(state.app(), &cap, false).await?.into_iter().map(TaskOut::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CloseIn {
    /// What was done (补办手续、考核、复查结论 …).
    #[schema(max_length = 2000)]
    pub evidence: String,
}

/// Closes a task with its evidence (销号).
#[utoipa::path(post, path = "/api/v1/tasks/{id}/close", tag = "findings", security(("bearer" = [])), request_body = CloseIn,
    params(("id" = i64, Path, description = "Task id")),
    responses((status = 204, description = "Closed"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Closed already, or no evidence (TASK_CLOSE)", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn close(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<CloseIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FindingsReview>(&state).await?;
    auth.checked(&state, findings::close_task(state.app(), &cap, &auth.meta, id, &c.evidence).await).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A work order as the marketing system pushes it (the export's `work_orders` columns).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkOrderIn {
    /// 工单编号: the source's id; a known one is compared and updated when it changed.
    #[schema(max_length = 64)]
    pub order_id: String,
    /// 业务类型: a code (`meter_replacement`) or its Chinese name (换表).
    #[schema(max_length = 40)]
    pub order_type: String,
    /// 户号
    #[schema(max_length = 64)]
    pub customer_id: String,
    /// 供电单位: a unit below the batch's, by name or code; the batch's unit otherwise.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub org_unit: String,
    /// Local time `YYYY-MM-DD HH:MM[:SS]`.
    #[schema(max_length = 25)]
    pub started_at: String,
    #[schema(max_length = 25)]
    pub finished_at: String,
    /// 工号 of the workers.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub workers: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkOrderBatch {
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    /// Up to `crossaudit.push_batch_max` orders (default 1,000).
    #[schema(max_items = 10000)]
    pub orders: Vec<WorkOrderIn>,
}

/// A meter event as the metering system pushes it (the export's `meter_events` columns).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeterEventIn {
    #[schema(max_length = 64)]
    pub event_id: String,
    #[schema(max_length = 64)]
    pub meter_id: String,
    #[schema(max_length = 64)]
    pub customer_id: String,
    /// `cover_open`, `terminal_cover_open`, `power_down`, `power_up`; anything else is kept as `other`.
    #[schema(max_length = 64)]
    pub kind: String,
    /// Local time `YYYY-MM-DD HH:MM[:SS]`.
    #[schema(max_length = 25)]
    pub occurred_at: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeterEventBatch {
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    /// Up to `crossaudit.push_batch_max` events (default 1,000).
    #[schema(max_items = 10000)]
    pub events: Vec<MeterEventIn>,
}

/// What a pushed batch changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PushOut {
    pub received: usize,
    /// Ids not known before.
    pub new: usize,
    /// Known ids whose record differed: updated, and on record in the audit trail.
    pub changed: usize,
    /// Known ids sent again as they were: nothing written.
    pub unchanged: usize,
    /// Findings after the cross-audit run the batch triggered (none when nothing changed).
    pub findings: Option<u64>,
    pub new_findings: Option<u64>,
}

impl From<findings::PushOutcome> for PushOut {
    fn from(o: findings::PushOutcome) -> Self {
        Self {
            received: o.received,
            new: o.new,
            changed: o.changed,
            unchanged: o.unchanged,
            findings: o.run.as_ref().map(|r| r.findings),
            new_findings: o.run.as_ref().map(|r| r.new),
        }
    }
}

/// Pushes a batch of work orders: all or nothing, idempotent by `order_id`, then the cross-audit.
#[utoipa::path(post, path = "/api/v1/work-orders", tag = "findings", security(("bearer" = [])), request_body = WorkOrderBatch,
    responses((status = 200, body = PushOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 422, description = "Every problem of the batch, by index and field; nothing written", body = ErrorEnvelope)))]
pub async fn push_orders(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<WorkOrderBatch>,
) -> Result<Json<PushOut>, AppError> {
    let cap = auth.require::<perm::MarketingPush>(&state).await?;
    let orders: Vec<findings::PushedOrder> = b
        .orders
        .into_iter()
        .map(|o| findings::PushedOrder {
            order_id: o.order_id,
            order_type: o.order_type,
            customer_id: o.customer_id,
            org_unit: o.org_unit,
            started_at: o.started_at,
            finished_at: o.finished_at,
            workers: o.workers,
        })
        .collect();
    let result = findings::push_orders(state.app(), &cap, &auth.meta, UnitId::new(b.unit_id), &orders).await;
    Ok(Json(auth.checked(&state, result).await?.into()))
}

/// Pushes a batch of meter events: all or nothing, idempotent by `event_id`, then the cross-audit.
#[utoipa::path(post, path = "/api/v1/meter-events", tag = "findings", security(("bearer" = [])), request_body = MeterEventBatch,
    responses((status = 200, body = PushOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 422, description = "Every problem of the batch, by index and field; nothing written", body = ErrorEnvelope)))]
pub async fn push_events(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<MeterEventBatch>,
) -> Result<Json<PushOut>, AppError> {
    let cap = auth.require::<perm::MarketingPush>(&state).await?;
    let events: Vec<findings::PushedEvent> = b
        .events
        .into_iter()
        .map(|e| findings::PushedEvent {
            event_id: e.event_id,
            meter_id: e.meter_id,
            customer_id: e.customer_id,
            kind: e.kind,
            occurred_at: e.occurred_at,
        })
        .collect();
    let result = findings::push_events(state.app(), &cap, &auth.meta, UnitId::new(b.unit_id), &events).await;
    Ok(Json(auth.checked(&state, result).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditRunOut {
    /// Findings the rules produce now.
    pub findings: u64,
    /// Of those, first seen in this run.
    pub new: u64,
    /// Open findings the rules no longer produce, now resolved.
    pub resolved: u64,
    pub millis: u64,
}

/// Runs the cross-audit now over everything imported and pushed (as the nightly job does).
#[utoipa::path(post, path = "/api/v1/findings/run", tag = "findings", security(("bearer" = [])),
    responses((status = 200, body = AuditRunOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn run(State(state): State<AppState>, auth: Auth) -> Result<Json<AuditRunOut>, AppError> {
    let cap = auth.require::<perm::FindingsReview>(&state).await?;
    let s = findings::run_audit(state.app(), cap.actor(), &auth.meta, "manual").await?;
    Ok(Json(AuditRunOut { findings: s.findings, new: s.new, resolved: s.resolved, millis: s.millis }))
}
