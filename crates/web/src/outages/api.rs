//! The JSON API of outages: a month's outages with their measures, one outage with its
//! customers' notices and tickets, the request, a notice (a signed scan travels as base64), and
//! the steps.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use gridsafe_app::outages::{self, NoticeInput, OutageDetail, OutageInput, OutageRow, OutageStats};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::{TicketId, UnitId};
use gridsafe_domain::time::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, ApiPath, ApiQuery};

fn kind_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["planned", "temporary", "fault"])
}

fn step_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["approve", "cut", "restore", "cancel"])
}

fn purpose_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["outage", "overrun"])
}

fn channel_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(outages::CHANNELS)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutageOut {
    pub id: i64,
    /// `TD-YYYYMM-NNNN`
    pub number: String,
    pub unit_id: i64,
    pub unit_name: String,
    /// `planned`, `temporary` or `fault`.
    pub kind: String,
    /// `pending`, `scheduled`, `cut`, `restored` or `cancelled`.
    pub state: String,
    pub equipment: String,
    /// Local time, `YYYY-MM-DD HH:MM`.
    pub start: String,
    pub end: String,
    pub reason: String,
    pub late_reason: Option<String>,
    pub requested_by: String,
    pub requested_at: String,
    pub approved_by: Option<String>,
    pub cut_at: Option<String>,
    pub restored_at: Option<String>,
    pub restored_by: Option<String>,
    pub cancel_reason: Option<String>,
    /// Early restorations refused (约时送电 prevented).
    pub restore_refusals: i64,
}

impl From<OutageRow> for OutageOut {
    fn from(o: OutageRow) -> Self {
        Self {
            id: o.id,
            number: o.number,
            unit_id: o.unit_id.get(),
            unit_name: o.unit_name,
            kind: o.kind.code().to_owned(),
            state: o.state.code().to_owned(),
            equipment: o.equipment,
            start: o.start.local_display(),
            end: o.end.local_display(),
            reason: o.reason,
            late_reason: o.late_reason,
            requested_by: o.requested_by,
            requested_at: o.requested_at.local_display(),
            approved_by: o.approved_by,
            cut_at: o.cut_at.map(|t| t.local_display()),
            restored_at: o.restored_at.map(|t| t.local_display()),
            restored_by: o.restored_by,
            cancel_reason: o.cancel_reason,
            restore_refusals: o.restore_refusals,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeOut {
    /// `outage` or `overrun`.
    pub purpose: String,
    /// `signed`, `phone`, `sms` or `announcement`.
    pub channel: String,
    pub signed_by: Option<String>,
    pub notified_at: String,
    pub recorded_by: String,
    /// The scan of a signed notice (`/attachments/{id}`).
    pub scan_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutageCustomerOut {
    pub id: i64,
    /// 户号
    pub account_no: String,
    pub name: String,
    /// An important customer signs the written notice.
    pub important: bool,
    /// Its notice is all the cut needs.
    pub ready: bool,
    pub notices: Vec<NoticeOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutageTicketOut {
    pub id: i64,
    pub number: Option<String>,
    pub state: String,
    pub location: String,
    pub leader: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutageDetailOut {
    #[serde(flatten)]
    pub outage: OutageOut,
    pub customers: Vec<OutageCustomerOut>,
    pub tickets: Vec<OutageTicketOut>,
    /// Ids of the plan items the outage serves.
    pub plan_items: Vec<i64>,
    /// Minutes supply stayed (or has so far stayed) off beyond the announced end.
    pub overrun_minutes: Option<i64>,
}

impl From<OutageDetail> for OutageDetailOut {
    fn from(d: OutageDetail) -> Self {
        let scans = &d.scans;
        Self {
            customers: d
                .customers
                .iter()
                .map(|c| OutageCustomerOut {
                    id: c.customer.id,
                    account_no: c.customer.account_no.clone(),
                    name: c.customer.name.clone(),
                    important: c.important,
                    ready: c.ready(),
                    notices: c
                        .notices
                        .iter()
                        .map(|n| NoticeOut {
                            purpose: n.purpose.clone(),
                            channel: n.channel.clone(),
                            signed_by: n.signed_by.clone(),
                            notified_at: n.notified_at.local_display(),
                            recorded_by: n.recorded_by.clone(),
                            scan_id: scans.get(&n.id).map(|a| a.id),
                        })
                        .collect(),
                })
                .collect(),
            tickets: d
                .tickets
                .iter()
                .map(|t| OutageTicketOut {
                    id: t.id.get(),
                    number: t.number.clone(),
                    state: t.state.code().to_owned(),
                    location: t.location.clone(),
                    leader: t.leader.clone(),
                })
                .collect(),
            plan_items: d.plan_items.iter().map(|i| i.id).collect(),
            overrun_minutes: d.overrun_minutes,
            outage: d.outage.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutageMonthOut {
    #[schema(example = "2026-12")]
    pub month: String,
    pub outages: Vec<OutageOut>,
    pub outages_count: usize,
    /// Requests that needed notice (planned and temporary), and those made in time.
    pub notice_needed: usize,
    pub notice_on_time: usize,
    /// Restored later than announced.
    pub overruns: usize,
    /// Early restorations refused (约时送电 prevented).
    pub timed_refused: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthQuery {
    /// `YYYY-MM`; this month when absent.
    #[param(example = "2026-12", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: Option<String>,
}

/// A month's outages in the caller's units, by start, with the month's measures.
#[utoipa::path(get, path = "/api/v1/outages", tag = "outages", security(("bearer" = [])), params(MonthQuery),
    responses((status = 200, body = OutageMonthOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<MonthQuery>,
) -> Result<Json<OutageMonthOut>, AppError> {
    let cap = auth.require::<perm::OutagesView>(&state).await?;
    let first = match q.month.as_deref() {
        None => super::month_of("", state.app().today()),
        Some(m) => chrono::NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d")
            .map_err(|_| AppError::from(gridsafe_app::AppError::invalid("month", "field-month")))?,
    };
    let next = super::next_month(first);
    let rows = outages::list_outages(
        state.app(),
        &cap,
        Timestamp::start_of_local_day(first),
        Timestamp::start_of_local_day(next),
    )
    .await?;
    let OutageStats { outages: outages_count, notice_needed, notice_on_time, overruns, timed_refused } =
        outages::stats(&rows, state.app().plans_config().notice_rule());
    Ok(Json(OutageMonthOut {
        month: first.format("%Y-%m").to_string(),
        outages: rows.into_iter().map(OutageOut::from).collect(),
        outages_count,
        notice_needed,
        notice_on_time,
        overruns,
        timed_refused,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutageIn {
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    #[schema(schema_with = kind_values)]
    pub kind: String,
    /// The feeder or transformer (线路、台区).
    pub equipment: String,
    /// Local time, `YYYY-MM-DD HH:MM`.
    pub start: String,
    pub end: String,
    pub reason: String,
    /// Why the request is later than the notice allows (then the unit's manager approves it).
    #[serde(default)]
    pub late_reason: String,
    /// 户号 of the customers.
    pub customers: Vec<String>,
    /// Ids of the tickets worked during the outage.
    #[serde(default, deserialize_with = "crate::json::whole::vec_i64")]
    pub tickets: Vec<i64>,
    /// Ids of the plan items the outage serves.
    #[serde(default, deserialize_with = "crate::json::whole::vec_i64")]
    pub plan_items: Vec<i64>,
}

/// Requests an outage (the customer manager): scheduled, or pending the manager's approval when
/// later than the notice allows.
#[utoipa::path(post, path = "/api/v1/outages", tag = "outages", security(("bearer" = [])), request_body = OutageIn,
    responses((status = 201, body = OutageDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, description = "Too late for the notice and no reason given", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(o): ApiJson<OutageIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::OutagesRequest>(&state).await?;
    if o.customers.len() > outages::MAX_CUSTOMERS
        || o.tickets.len() > outages::MAX_TICKETS
        || o.plan_items.len() > outages::MAX_TICKETS
    {
        let problem =
            gridsafe_app::FieldProblem::new("customers", "field-outage-customers").with("max", outages::MAX_CUSTOMERS);
        return Err(gridsafe_app::AppError::Invalid(vec![problem]).into());
    }
    let input = OutageInput {
        unit_id: UnitId::new(o.unit_id),
        kind: o.kind,
        equipment: o.equipment,
        start: o.start,
        end: o.end,
        reason: o.reason,
        late_reason: o.late_reason,
        customers: o.customers.join(" "),
        tickets: o.tickets.into_iter().map(TicketId::new).collect(),
        plan_items: o.plan_items,
    };
    let (id, _) = auth.checked(&state, outages::request_outage(state.app(), &cap, &auth.meta, input).await).await?;
    let d = outages::outage(state.app(), &cap, id).await?;
    Ok((StatusCode::CREATED, Json(OutageDetailOut::from(d))).into_response())
}

/// One outage with its customers' notices, its tickets and any overrun.
#[utoipa::path(get, path = "/api/v1/outages/{id}", tag = "outages", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Outage id")),
    responses((status = 200, body = OutageDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<OutageDetailOut>, AppError> {
    let cap = auth.require::<perm::OutagesView>(&state).await?;
    Ok(Json(auth.checked(&state, outages::outage(state.app(), &cap, id).await).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeIn {
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub customer_id: i64,
    #[schema(schema_with = purpose_values)]
    pub purpose: String,
    #[schema(schema_with = channel_values)]
    pub channel: String,
    /// Who signed for the written notice (required when `signed`).
    #[serde(default)]
    pub signed_by: String,
    /// Local time the customer was told; now when empty.
    #[serde(default)]
    pub notified_at: String,
    /// The scan of the signed notice, base64 (JPEG, PNG, WebP or PDF; required when `signed`).
    #[serde(default)]
    pub scan_base64: Option<String>,
    #[serde(default)]
    pub scan_name: Option<String>,
}

/// Records how one customer of the outage was told.
#[utoipa::path(post, path = "/api/v1/outages/{id}/notices", tag = "outages", security(("bearer" = [])), request_body = NoticeIn,
    params(("id" = i64, Path, description = "Outage id")),
    responses((status = 200, body = OutageDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn notice(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(n): ApiJson<NoticeIn>,
) -> Result<Json<OutageDetailOut>, AppError> {
    let cap = auth.require::<perm::OutagesRequest>(&state).await?;
    let scan = match n.scan_base64 {
        None => None,
        Some(text) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| AppError::from(gridsafe_app::AppError::invalid("scan_base64", "field-base64")))?;
            Some((n.scan_name.unwrap_or_else(|| "scan".to_owned()), bytes))
        }
    };
    let input = NoticeInput {
        customer_id: n.customer_id,
        purpose: n.purpose,
        channel: n.channel,
        signed_by: n.signed_by,
        notified_at: n.notified_at,
        scan,
    };
    auth.checked(&state, outages::record_notice(state.app(), &cap, &auth.meta, id, input).await).await?;
    Ok(Json(outages::outage(state.app(), &cap, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutageStepIn {
    /// `approve` (the unit's manager), `cut` and `restore` (the permit giver), `cancel` (the
    /// customer manager, with the reason).
    #[schema(schema_with = step_values)]
    pub step: String,
    #[serde(default)]
    pub reason: String,
}

/// Takes a step: restoration is refused (and counted) while a crew has not reported work ended.
#[utoipa::path(post, path = "/api/v1/outages/{id}/steps", tag = "outages", security(("bearer" = [])), request_body = OutageStepIn,
    params(("id" = i64, Path, description = "Outage id")),
    responses((status = 200, body = OutageDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Refused by a rule, each named", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn step(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(s): ApiJson<OutageStepIn>,
) -> Result<Json<OutageDetailOut>, AppError> {
    let view = auth.require::<perm::OutagesView>(&state).await?;
    super::take_step(&state, &auth, id, &s.step, &s.reason).await?;
    Ok(Json(outages::outage(state.app(), &view, id).await?.into()))
}
