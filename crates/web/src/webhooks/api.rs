//! The JSON API of webhook subscriptions and their deliveries, and the documented body of a
//! delivery (`WebhookDelivery`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridsafe_app::webhooks::{self, DeliveryRow, SubscriptionInput, SubscriptionRow};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::UnitId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, ApiPath};

/// How many deliveries a subscription's detail lists, the latest first.
pub const DELIVERIES_SHOWN: u32 = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub name: String,
    /// The address, its query (a 企业微信 robot's key) masked as `?…`.
    pub url: String,
    /// `json` (GridSafe's envelope, signed) or `wecom` (a 企业微信 robot's text message).
    pub format: String,
    /// `finding.opened`, `hazard.escalated`, `ticket.step_refused`, `qualification.expired`,
    /// `inspection.overdue`, `report.issued`.
    pub events: Vec<String>,
    pub enabled: bool,
    pub created_by: String,
    /// Local time `YYYY-MM-DD HH:MM`.
    pub created_at: String,
    /// The latest attempt: `delivered`, `pending` (a retry is due) or `failed` (every retry used).
    pub last_state: Option<String>,
    /// The receiver's HTTP status at the latest attempt (none when it could not be reached).
    pub last_status: Option<i64>,
    pub last_at: Option<String>,
    /// Deliveries waiting for a retry.
    pub retrying: i64,
    /// Deliveries that used every retry, waiting for a redelivery by hand.
    pub failed: i64,
}

impl From<SubscriptionRow> for WebhookOut {
    fn from(s: SubscriptionRow) -> Self {
        Self {
            id: s.id,
            unit_id: s.unit_id.get(),
            unit_name: s.unit_name,
            name: s.name,
            url: s.url,
            format: s.format,
            events: s.events,
            enabled: s.disabled_at.is_none(),
            created_by: s.created_by,
            created_at: s.created_at.local_display(),
            last_state: s.last_state,
            last_status: s.last_status,
            last_at: s.last_at.map(|t| t.local_display()),
            retrying: s.pending,
            failed: s.failed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    pub id: i64,
    /// The event's id (`id` in the delivered body).
    pub event_id: i64,
    pub event: String,
    pub occurred_at: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i64,
    /// When the next attempt is due (pending deliveries).
    pub next_at: Option<String>,
    pub last_at: Option<String>,
    pub last_status: Option<i64>,
    /// Why the latest attempt failed, in a few words.
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
}

impl From<DeliveryRow> for DeliveryOut {
    fn from(d: DeliveryRow) -> Self {
        Self {
            id: d.id,
            event_id: d.event_id,
            event: d.kind,
            occurred_at: d.occurred_at.local_display(),
            next_at: (d.state == "pending").then(|| d.next_at.local_display()),
            state: d.state,
            attempts: d.attempts,
            last_at: d.last_at.map(|t| t.local_display()),
            last_status: d.last_status,
            last_error: d.last_error,
            delivered_at: d.delivered_at.map(|t| t.local_display()),
        }
    }
}

/// The subscriptions of the caller's units.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = [WebhookOut]), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<WebhookOut>>, AppError> {
    let cap = auth.require::<perm::WebhooksManage>(&state).await?;
    Ok(Json(webhooks::list(state.app(), &cap).await?.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookIn {
    /// The unit whose events (and its subtree's) the subscription hears of.
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    #[schema(max_length = 60)]
    pub name: String,
    /// `http://` or `https://`; never this machine itself or a link-local address.
    #[schema(max_length = 2000)]
    pub url: String,
    /// `json` or `wecom`.
    #[schema(max_length = 10)]
    pub format: String,
    /// Event codes (see `WebhookOut.events`).
    #[schema(schema_with = event_codes)]
    pub events: Vec<String>,
}

fn too_many_events() -> AppError {
    let max = gridsafe_domain::webhooks::EventKind::ALL.len();
    gridsafe_app::AppError::Invalid(vec![
        gridsafe_app::FieldProblem::new("events", "webhook-events-too-many").with("max", max),
    ])
    .into()
}

/// The schema of a list of event codes, from the domain's one enum: at least one.
fn event_codes() -> utoipa::openapi::schema::Array {
    use gridsafe_domain::webhooks::EventKind;
    utoipa::openapi::schema::ArrayBuilder::new()
        .items(crate::json::one_of(EventKind::ALL.iter().map(|k| k.code())))
        .min_items(Some(1))
        .max_items(Some(EventKind::ALL.len()))
        .build()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookCreated {
    #[serde(flatten)]
    pub webhook: WebhookOut,
    /// The key of the HMAC-SHA256 signature (`X-GridSafe-Signature`): shown this once, never again.
    pub secret: String,
}

/// Subscribes a unit's events. The answer holds the signing secret, shown this once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])), request_body = WebhookIn,
    responses((status = 201, body = WebhookCreated), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 422, description = "The address, format or events, named", body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(f): ApiJson<WebhookIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::WebhooksManage>(&state).await?;
    if f.events.len() > gridsafe_domain::webhooks::EventKind::ALL.len() {
        return Err(too_many_events());
    }
    let input = SubscriptionInput {
        unit_id: UnitId::new(f.unit_id),
        name: f.name,
        url: f.url,
        format: f.format,
        events: f.events,
    };
    let created = auth.checked(&state, webhooks::create(state.app(), &cap, &auth.meta, input).await).await?;
    let (row, _) = webhooks::get(state.app(), &cap, created.id, 1).await?;
    Ok((StatusCode::CREATED, Json(WebhookCreated { webhook: row.into(), secret: created.secret })).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDetail {
    #[serde(flatten)]
    pub webhook: WebhookOut,
    /// The latest deliveries (up to 100), the latest first.
    pub deliveries: Vec<DeliveryOut>,
}

/// A subscription and its delivery log.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Subscription id")),
    responses((status = 200, body = WebhookDetail), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WebhookDetail>, AppError> {
    let cap = auth.require::<perm::WebhooksManage>(&state).await?;
    let (row, deliveries) = auth.checked(&state, webhooks::get(state.app(), &cap, id, DELIVERIES_SHOWN).await).await?;
    Ok(Json(WebhookDetail { webhook: row.into(), deliveries: deliveries.into_iter().map(Into::into).collect() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    #[schema(schema_with = event_codes)]
    pub events: Vec<String>,
    pub enabled: bool,
}

/// Changes what a subscription hears of, or switches it off and on.
#[utoipa::path(put, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Subscription id")), request_body = WebhookChange,
    responses((status = 204, description = "Changed"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(f): ApiJson<WebhookChange>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::WebhooksManage>(&state).await?;
    if f.events.len() > gridsafe_domain::webhooks::EventKind::ALL.len() {
        return Err(too_many_events());
    }
    let result = webhooks::update(state.app(), &cap, &auth.meta, id, &f.events, f.enabled).await;
    auth.checked(&state, result).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a delivery again now, its retries counted afresh.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Subscription id"), ("delivery" = i64, Path, description = "Delivery id")),
    responses((status = 204, description = "Queued"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn redeliver(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, delivery)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::WebhooksManage>(&state).await?;
    let result = webhooks::redeliver(state.app(), &cap, &auth.meta, id, delivery).await;
    auth.checked(&state, result).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The body GridSafe posts to a `json` subscription. Headers: `X-GridSafe-Event` (the event
/// code), `X-GridSafe-Delivery` (the delivery's id: the same on a retry or a redelivery),
/// `X-GridSafe-Timestamp` (Unix seconds when sent) and `X-GridSafe-Signature`: `sha256=` and the
/// hex HMAC-SHA256, under the subscription's secret, of the timestamp, a full stop and the raw
/// body. A receiver checks the signature (in constant time) and refuses a timestamp more than
/// five minutes from its own clock; it answers 2xx when it took the delivery, anything else is
/// tried again (1, 5, 15 minutes, 1, 3, 6, 12 hours by default).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookDelivery {
    /// The event's id: a receiver that sees it twice (a retry after a lost answer) skips it.
    pub id: i64,
    /// The delivery's id (as `X-GridSafe-Delivery`).
    pub delivery: i64,
    /// The event code.
    pub event: String,
    /// When it happened, RFC 3339 in UTC.
    pub occurred_at: String,
    /// The unit it happened in.
    pub unit: Option<String>,
    /// 1 for the first attempt.
    pub attempt: i64,
    /// What happened. `finding.opened`: `count` and up to 20 `findings` (`id`, `rule`,
    /// `entity_kind`, `entity_id`, `subject`, `detail`). `hazard.escalated`: `id`, `number`,
    /// `level`, `to` (the unit escalated to), `due`. `ticket.step_refused`: `id`, `number`,
    /// `step`, `state`, `person`, `rules` (rule codes). `qualification.expired`: `kind`
    /// (`qualification`, `license`, `agreement`), `record`, `subject`, `detail`, `title`,
    /// `valid_to`. `inspection.overdue`: `customer`, `account_no`, `name`, `track`, `due`,
    /// `days_overdue`. `report.issued`: `id`, `month`, `version`, `hash` (SHA-256 of the frozen
    /// report), `replaces_version`, `reason`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}
