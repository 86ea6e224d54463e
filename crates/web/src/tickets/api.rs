//! The JSON API of tickets: every lifecycle step, so that a field app or another system can
//! drive tickets. Same service functions as the pages.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridsafe_app::tickets::{self, StepInput, TicketDetail, TicketFilter, TicketInput, TicketRow};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::{TicketId, UnitId};
use gridsafe_domain::tickets::State as TicketState;
use gridsafe_domain::tickets::StepKind;
use gridsafe_domain::tickets::evaluation::Verdict;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::paging::{self, Page};
use crate::auth::Auth;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, ApiPath, ApiQuery};
use crate::people::person_api::Created;

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketTypeOut {
    pub code: String,
    pub name: String,
    /// Order types (the marketing export's codes) the document may cover.
    pub covers: Vec<String>,
    pub extendable: bool,
    pub needs_survey: bool,
    pub live_work: bool,
    /// Numbers are `PREFIX-YYYYMM-NNNN`.
    pub prefix: String,
    /// Fewest people on the work, the leader included.
    pub min_people: u32,
    /// Where the defaults come from.
    pub origin: String,
    pub active: bool,
}

/// The document catalogue (票种目录).
#[utoipa::path(get, path = "/api/v1/ticket-types", tag = "tickets", security(("bearer" = [])),
    responses((status = 200, body = Vec<TicketTypeOut>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn types(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<TicketTypeOut>>, AppError> {
    auth.require::<perm::TicketsView>(&state).await?;
    Ok(Json(
        tickets::document_types(state.app())
            .await?
            .into_iter()
            .map(|t| TicketTypeOut {
                code: t.doc.code,
                name: t.doc.name,
                covers: t.doc.covers,
                extendable: t.doc.extendable,
                needs_survey: t.doc.needs_survey,
                live_work: t.doc.live_work,
                prefix: t.doc.prefix,
                min_people: t.doc.min_people,
                origin: t.origin,
                active: t.active,
            })
            .collect(),
    ))
}

/// A ticket in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketOut {
    pub id: i64,
    pub number: String,
    pub type_code: String,
    pub type_name: String,
    pub unit_id: i64,
    pub unit_name: String,
    #[schema(schema_with = states)]
    pub state: String,
    /// The kind of work: an order type.
    pub work_kind: String,
    pub customer_id: Option<String>,
    pub customer_name: Option<String>,
    pub location: String,
    /// China time with offset.
    pub planned_start: String,
    pub planned_end: String,
    pub extended_to: Option<String>,
    pub leader: Option<String>,
    /// `pass`, `fail`, or none yet.
    pub verdict: Option<String>,
}

fn states() -> utoipa::openapi::schema::Object {
    crate::json::one_of(TicketState::ALL.iter().map(|s| s.code()))
}

impl From<TicketRow> for TicketOut {
    fn from(t: TicketRow) -> Self {
        Self {
            id: t.id.get(),
            number: t.number,
            type_code: t.type_code,
            type_name: t.type_name,
            unit_id: t.unit_id.get(),
            unit_name: t.unit_name,
            state: t.state.code().to_owned(),
            work_kind: t.work_kind.code().to_owned(),
            customer_id: t.customer_id,
            customer_name: t.customer_name,
            location: t.location,
            planned_start: t.planned_start.local_iso(),
            planned_end: t.planned_end.local_iso(),
            extended_to: t.extended_to.map(|e| e.local_iso()),
            leader: t.leader,
            verdict: t.verdict,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketPersonOut {
    pub id: i64,
    /// 工号
    pub code: String,
    pub name: String,
    pub contractor: Option<String>,
}

impl From<&tickets::PersonRef> for TicketPersonOut {
    fn from(p: &tickets::PersonRef) -> Self {
        Self { id: p.id.get(), code: p.code.clone(), name: p.name.clone(), contractor: p.contractor.clone() }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CrewOut {
    #[serde(flatten)]
    pub person: TicketPersonOut,
    /// When the member acknowledged the briefing (交底), China time.
    pub acknowledged_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HazardOut {
    pub id: i64,
    pub hazard: String,
    pub measure: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderOut {
    pub order_id: String,
    pub order_type: String,
}

/// A signed step: who, when, from which channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepOut {
    pub step: String,
    pub from_state: String,
    pub to_state: String,
    pub person: Option<String>,
    pub username: Option<String>,
    /// `web`, `api`, `cli` or `job`.
    pub channel: String,
    pub at: String,
    pub detail: Option<String>,
}

/// A ticket with everything on it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketDetailOut {
    #[serde(flatten)]
    pub ticket: TicketOut,
    pub content: String,
    pub voltage_kv: Option<f64>,
    pub issuer: Option<TicketPersonOut>,
    pub co_issuer: Option<TicketPersonOut>,
    pub co_signed_at: Option<String>,
    pub permitter: Option<TicketPersonOut>,
    pub work_leader: Option<TicketPersonOut>,
    pub crew: Vec<CrewOut>,
    pub hazards: Vec<HazardOut>,
    pub orders: Vec<OrderOut>,
    pub survey: Option<String>,
    pub finished_at: Option<String>,
    pub finish_reason: Option<String>,
    pub steps: Vec<StepOut>,
    /// Reason codes of a 不合格 verdict.
    pub verdict_reasons: Vec<String>,
    pub evaluated_by: Option<String>,
    pub evaluated_at: Option<String>,
    /// It covers 业扩 or 装表接电 work and must be evaluated.
    pub must_evaluate: bool,
    pub plan: TicketPlanOut,
    pub risk: RiskOut,
    /// Who must be on site at its grade (到岗到位) and the managers' stays.
    pub on_site: OnSiteOut,
}

/// A ticket's on-site supervision.
#[derive(Debug, Serialize, ToSchema)]
pub struct OnSiteOut {
    /// Role codes one holder of which must be on site before 开工; empty when none.
    pub required_roles: Vec<String>,
    /// Whether 开工 waits for one (the setting).
    pub start_waits: bool,
    pub stays: Vec<StayOut>,
}

/// A manager's stay at the site.
#[derive(Debug, Serialize, ToSchema)]
pub struct StayOut {
    pub id: i64,
    pub who: String,
    /// The roles his account held for the ticket's unit when he arrived.
    pub roles: Vec<String>,
    #[schema(format = DateTime)]
    pub arrived_at: String,
    #[schema(format = DateTime)]
    pub departed_at: Option<String>,
    /// Whether the phone gave its position at arrival.
    pub with_position: bool,
}

/// A risk grade (作业风险等级): 1 is the highest risk, 5 the lowest.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskOut {
    #[schema(minimum = 1, maximum = 5)]
    pub level: u8,
    /// The conditions that raised it: `high_voltage`, `live_work`, `contractor_crew`,
    /// `important_customer`, `several_teams`, `outage`.
    pub raised_by: Vec<String>,
}

impl From<&gridsafe_domain::risk::Grade> for RiskOut {
    fn from(g: &gridsafe_domain::risk::Grade) -> Self {
        Self { level: g.level, raised_by: g.raised_by.iter().map(|c| c.code().to_owned()).collect() }
    }
}

/// Where a ticket stands against the work plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketPlanOut {
    /// The plan item it carries out; none for unplanned work (计划外作业).
    pub item: Option<TicketPlanItemOut>,
    /// Why the work is unplanned, who wrote that and when.
    pub unplanned_reason: Option<String>,
    pub unplanned_by: Option<String>,
    pub unplanned_at: Option<String>,
    /// The unit's manager who approved the unplanned work, and when.
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    /// Whether, naming no plan item, it needs that approval before issue.
    pub needs_approval: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketPlanItemOut {
    pub id: i64,
    pub plan_id: i64,
    /// The plan's state: `draft`, `approved` or `published`.
    pub plan_state: String,
    /// China time with offset.
    pub start: String,
    pub end: String,
    pub site: String,
}

impl From<TicketDetail> for TicketDetailOut {
    fn from(t: TicketDetail) -> Self {
        Self {
            content: t.content,
            voltage_kv: t.voltage_kv,
            issuer: t.issuer.as_ref().map(TicketPersonOut::from),
            co_issuer: t.co_issuer.as_ref().map(TicketPersonOut::from),
            co_signed_at: t.co_signed_at,
            permitter: t.permitter.as_ref().map(TicketPersonOut::from),
            work_leader: t.leader.as_ref().map(TicketPersonOut::from),
            crew: t
                .crew
                .iter()
                .map(|c| CrewOut {
                    person: TicketPersonOut::from(&c.person),
                    acknowledged_at: c.acknowledged_at.clone(),
                })
                .collect(),
            hazards: t
                .hazards
                .into_iter()
                .map(|h| HazardOut { id: h.id, hazard: h.hazard, measure: h.measure })
                .collect(),
            orders: t.orders.into_iter().map(|o| OrderOut { order_id: o.order_id, order_type: o.order_type }).collect(),
            survey: t.survey,
            finished_at: t.finished_at,
            finish_reason: t.finish_reason,
            steps: t
                .steps
                .into_iter()
                .map(|s| StepOut {
                    step: s.step,
                    from_state: s.from_state,
                    to_state: s.to_state,
                    person: s.person,
                    username: s.username,
                    channel: s.channel,
                    at: s.at,
                    detail: s.detail,
                })
                .collect(),
            verdict_reasons: t.verdict_reasons,
            evaluated_by: t.evaluated_by,
            evaluated_at: t.evaluated_at,
            must_evaluate: t.must_evaluate,
            plan: TicketPlanOut {
                item: t.plan.item.map(|i| TicketPlanItemOut {
                    id: i.id,
                    plan_id: i.plan_id,
                    plan_state: i.plan_state.code().to_owned(),
                    start: i.start.local_iso(),
                    end: i.end.local_iso(),
                    site: i.site,
                }),
                unplanned_reason: t.plan.unplanned_reason,
                unplanned_by: t.plan.unplanned_by,
                unplanned_at: t.plan.unplanned_at,
                approved_by: t.plan.approved_by,
                approved_at: t.plan.approved_at,
                needs_approval: t.unplanned_needs_approval,
            },
            risk: RiskOut::from(&t.risk),
            on_site: OnSiteOut {
                required_roles: t.on_site.required.clone(),
                start_waits: t.on_site.start_waits,
                stays: t
                    .on_site
                    .stays
                    .iter()
                    .map(|s| StayOut {
                        id: s.id,
                        who: s.who.clone(),
                        roles: s.roles.clone(),
                        arrived_at: s.arrived_at.local_iso(),
                        departed_at: s.departed_at.map(|d| d.local_iso()),
                        with_position: s.arrived_lat.is_some(),
                    })
                    .collect(),
            },
            ticket: TicketOut::from(t.row),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TicketsQuery {
    /// Only tickets in this state.
    #[param(schema_with = states)]
    pub state: Option<String>,
    /// Part of the number, customer, location or leader's name.
    pub q: Option<String>,
    /// Executed tickets not yet evaluated.
    pub unevaluated: Option<bool>,
    /// Tickets a page holds at most (the default and the most: 5000).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<u32>,
    /// Where the page starts: the cursor in the `Link` header of the page before.
    #[param(pattern = "^-?[0-9]{1,18}~[0-9]{1,18}$")]
    pub after: Option<String>,
}

/// Tickets a page of the API holds at most.
const MAX_PAGE: u32 = 5000;

/// Tickets in the caller's units, newest first, a page at a time.
///
/// By planned start, then id, both newest first; when more follow, the `Link` header names the
/// next page.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", security(("bearer" = [])), params(TicketsQuery),
    responses((status = 200, body = Vec<TicketOut>, headers(("Link" = String, description = "`<…>; rel=\"next\"`: the next page, when more tickets follow"))),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<TicketsQuery>,
) -> Result<Page<TicketOut>, AppError> {
    let cap = auth.require::<perm::TicketsView>(&state).await?;
    let state_filter = match q.state.as_deref() {
        None => None,
        Some(code) => Some(
            TicketState::from_code(code)
                .ok_or_else(|| AppError::from(gridsafe_app::AppError::invalid("state", "field-invalid")))?,
        ),
    };
    let limit = paging::limit(q.limit, MAX_PAGE)?;
    let after = match q.after.as_deref() {
        None => None,
        Some(text) => Some(
            paging::read_time_cursor(text).map(|(at, id)| (at, TicketId::new(id))).ok_or_else(paging::bad_cursor)?,
        ),
    };
    let filter = TicketFilter {
        state: state_filter,
        query: q.q.clone(),
        unevaluated: q.unevaluated.unwrap_or(false),
        after,
        ..TicketFilter::default()
    };
    let rows = tickets::list_tickets(state.app(), &cap, &filter, limit + 1).await?;
    let unevaluated = q.unevaluated.map(|u| u.to_string());
    let query =
        paging::kept(&[("state", q.state.as_deref()), ("q", q.q.as_deref()), ("unevaluated", unevaluated.as_deref())]);
    let page = Page::of(rows, limit, "/api/v1/tickets", &query, |t| paging::time_cursor(t.planned_start, t.id.get()));
    Ok(Page { rows: page.rows.into_iter().map(TicketOut::from).collect(), next: page.next })
}

/// A draft as sent: people by 工号, times in China time (`YYYY-MM-DD HH:MM` or ISO without offset).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TicketIn {
    #[schema(example = "low_voltage")]
    pub type_code: String,
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    /// The kind of work, an order type; picks the hazard templates.
    #[schema(example = "meter_install")]
    pub work_kind: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub customer_id: String,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub customer_name: String,
    #[schema(min_length = 1, max_length = 200)]
    pub location: String,
    #[schema(min_length = 1, max_length = 1000)]
    pub content: String,
    /// kV, e.g. "0.4" or "10".
    #[serde(default)]
    pub voltage_kv: String,
    #[schema(example = "2026-11-26 09:00")]
    pub planned_start: String,
    #[schema(example = "2026-11-26 17:00")]
    pub planned_end: String,
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub co_issuer: String,
    #[serde(default)]
    pub work_leader: String,
    #[serde(default)]
    pub permitter: String,
    /// 工号 of the crew, not counting the leader.
    #[serde(default)]
    pub crew: Vec<String>,
    /// Work orders as `ID:order_type`.
    #[serde(default)]
    #[schema(example = json!(["WO20261126001:meter_install"]))]
    pub orders: Vec<String>,
    /// The id of the plan item (作业计划项目) the ticket carries out; none for unplanned work.
    #[serde(default, deserialize_with = "crate::json::whole::opt_i64")]
    #[schema(minimum = 1)]
    pub plan_item: Option<i64>,
    /// Why the work is not in the plan (计划外作业); the unit's manager approves it before issue.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub unplanned_reason: String,
}

impl TicketIn {
    fn input(self) -> TicketInput {
        TicketInput {
            type_code: self.type_code,
            unit_id: UnitId::new(self.unit_id),
            work_kind: self.work_kind,
            customer_id: self.customer_id,
            customer_name: self.customer_name,
            location: self.location,
            content: self.content,
            voltage_kv: self.voltage_kv,
            planned_start: self.planned_start,
            planned_end: self.planned_end,
            issuer: self.issuer,
            co_issuer: self.co_issuer,
            leader: self.work_leader,
            permitter: self.permitter,
            crew: self.crew.join(";"),
            orders: self.orders.join(";"),
            plan_item: self.plan_item.map(|i| i.to_string()).unwrap_or_default(),
            unplanned_reason: self.unplanned_reason,
        }
    }
}

/// Opens a draft (填写) with hazard points from the templates of its kind of work.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets", security(("bearer" = [])), request_body = TicketIn,
    responses((status = 201, body = TicketDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(t): ApiJson<TicketIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsWrite>(&state).await?;
    let id = auth.checked(&state, tickets::create_ticket(state.app(), &cap, &auth.meta, t.input()).await).await?;
    let t = tickets::ticket(state.app(), &cap, id).await?;
    Ok((StatusCode::CREATED, Json(TicketDetailOut::from(t))).into_response())
}

/// One ticket with its people, hazards, orders, signed steps and evaluation.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<TicketId>,
) -> Result<Json<TicketDetailOut>, AppError> {
    let cap = auth.require::<perm::TicketsView>(&state).await?;
    let t = auth.checked(&state, tickets::ticket(state.app(), &cap, id).await).await?;
    Ok(Json(t.into()))
}

/// Changes a draft; after issue a ticket changes only by steps.
#[utoipa::path(put, path = "/api/v1/tickets/{id}", tag = "tickets", security(("bearer" = [])), request_body = TicketIn,
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Not a draft any more", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<TicketId>,
    ApiJson(t): ApiJson<TicketIn>,
) -> Result<Json<TicketDetailOut>, AppError> {
    let cap = auth.require::<perm::TicketsWrite>(&state).await?;
    auth.checked(&state, tickets::update_draft(state.app(), &cap, &auth.meta, id, t.input()).await).await?;
    Ok(Json(tickets::ticket(state.app(), &cap, id).await?.into()))
}

/// The step to take: the domain's [`StepKind`], read straight from the request. Its schema
/// lists the domain's codes, so the API never spells them again.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(transparent)]
pub struct StepCode(StepKind);

impl utoipa::ToSchema for StepCode {}

impl utoipa::PartialSchema for StepCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(StepKind::ALL.iter().map(|k| k.code())))
            .description(Some("The step to take."))
            .into()
    }
}

/// A lifecycle step, taken by the person linked to the caller's account, now.
#[derive(Debug, Deserialize, ToSchema)]
pub struct StepIn {
    pub step: StepCode,
    /// For `extend`: the new end, China time.
    #[serde(default)]
    pub to: String,
    /// For `change_leader`, `add_crew`, `remove_crew`: the person's 工号.
    #[serde(default)]
    pub person: String,
    /// For `close`: every safety measure restored (接地线已拆除).
    #[serde(default)]
    pub measures_restored: bool,
    /// The reason of `void` and `not_executed` (required there), a remark elsewhere.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
    /// The signer's password, for `issue`, `co_sign`, `permit`, `end_work` and `close` taken in a
    /// browser session that proved it longer ago than `[security] signature_window_minutes`. An
    /// API token never needs it.
    #[serde(default)]
    #[schema(max_length = 200, write_only, format = Password)]
    pub password: String,
}

/// Takes a step. A refusal (409 `rule_violation`) lists in `refusals` every rule that says no,
/// with its source and what would make it right.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/steps", tag = "tickets", security(("bearer" = [])), request_body = StepIn,
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Refused by the rules named in `refusals`", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn step(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<TicketId>,
    ApiJson(s): ApiJson<StepIn>,
) -> Result<Json<TicketDetailOut>, AppError> {
    let cap = auth.require::<perm::TicketsSign>(&state).await?;
    let input = StepInput { step: s.step.0, to: s.to, person: s.person, measures_restored: s.measures_restored };
    let step = tickets::parse_step(state.app(), &input).await?;
    auth.confirm_signature(&state, step.kind().grants_work(), &s.password).await?;
    auth.checked(&state, tickets::take_step(state.app(), &cap, &auth.meta, id, step, &s.note).await).await?;
    Ok(Json(tickets::ticket(state.app(), &cap, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HazardIn {
    #[schema(min_length = 1, max_length = 300)]
    pub hazard: String,
    #[schema(min_length = 1, max_length = 300)]
    pub measure: String,
}

/// Adds a hazard point (危险点) and its pre-control measure to a draft.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/hazards", tag = "tickets", security(("bearer" = [])), request_body = HazardIn,
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 201, body = Created), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn add_hazard(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<TicketId>,
    ApiJson(h): ApiJson<HazardIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::TicketsWrite>(&state).await?;
    let hid = auth
        .checked(&state, tickets::add_hazard(state.app(), &cap, &auth.meta, id, &h.hazard, &h.measure).await)
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id: hid })).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SurveyIn {
    /// The site survey record (现场勘察记录).
    #[schema(min_length = 1, max_length = 2000)]
    pub survey: String,
}

/// Records the site survey of a draft.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/survey", tag = "tickets", security(("bearer" = [])), request_body = SurveyIn,
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn survey(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<TicketId>,
    ApiJson(s): ApiJson<SurveyIn>,
) -> Result<Json<TicketDetailOut>, AppError> {
    let cap = auth.require::<perm::TicketsWrite>(&state).await?;
    auth.checked(&state, tickets::record_survey(state.app(), &cap, &auth.meta, id, &s.survey).await).await?;
    Ok(Json(tickets::ticket(state.app(), &cap, id).await?.into()))
}

/// Approves the unplanned work (计划外作业) of a draft: the unit's manager, once, not whoever
/// wrote its reason.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/unplanned-approval", tag = "tickets", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Refused by a rule, or approved meanwhile", body = ErrorEnvelope)))]
pub async fn approve_unplanned(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<TicketId>,
) -> Result<Json<TicketDetailOut>, AppError> {
    let cap = auth.require::<perm::PlansApprove>(&state).await?;
    auth.checked(&state, tickets::approve_unplanned(state.app(), &cap, &auth.meta, id).await).await?;
    Ok(Json(tickets::ticket(state.app(), &cap, id).await?.into()))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictIn {
    Pass,
    Fail,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EvaluationIn {
    pub verdict: VerdictIn,
    /// Reason codes (see the catalogue) of a `fail`; none for a `pass`.
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
}

/// Evaluates an executed ticket (合格/不合格).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/evaluation", tag = "tickets", security(("bearer" = [])), request_body = EvaluationIn,
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn evaluate(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<TicketId>,
    ApiJson(e): ApiJson<EvaluationIn>,
) -> Result<Json<TicketDetailOut>, AppError> {
    let cap = auth.require::<perm::TicketsEvaluate>(&state).await?;
    let verdict = match e.verdict {
        VerdictIn::Pass => Verdict::Pass,
        VerdictIn::Fail => Verdict::Fail,
    };
    auth.checked(&state, tickets::evaluate(state.app(), &cap, &auth.meta, id, verdict, &e.reasons, &e.note).await)
        .await?;
    Ok(Json(tickets::ticket(state.app(), &cap, id).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthParam {
    /// `YYYY-MM` (default: this month, China time).
    #[param(pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitMonthOut {
    /// 0 on the total line.
    pub unit_id: i64,
    pub unit_name: String,
    pub executed: u64,
    pub passed: u64,
    pub failed: u64,
    pub unevaluated: u64,
    /// Unevaluated tickets of 业扩 and 装表接电 work, which must all be evaluated.
    pub must_unevaluated: u64,
    pub not_executed: u64,
    pub void: u64,
    /// 合格率 = passed ÷ executed, in percent.
    pub pass_rate: Option<f64>,
    /// Tickets left at 工作终结 past their validity now, not yet closed by their permit giver.
    pub left_unclosed: u64,
    /// Executed tickets that named no plan item (计划外作业).
    pub unplanned: u64,
    /// Share of executed tickets that carried out a plan item, in percent.
    pub planned_share: Option<f64>,
}

/// The month's pass rate (合格率) per unit, with the total last.
#[utoipa::path(get, path = "/api/v1/ticket-stats", tag = "tickets", security(("bearer" = [])), params(MonthParam),
    responses((status = 200, body = Vec<UnitMonthOut>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn stats(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<MonthParam>,
) -> Result<Json<Vec<UnitMonthOut>>, AppError> {
    let cap = auth.require::<perm::TicketsView>(&state).await?;
    let month = match q.month.as_deref() {
        None => super::month_of("", state.app().today()),
        Some(m) => chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
            .map_err(|_| AppError::from(gridsafe_app::AppError::invalid("month", "field-month")))?,
    };
    let rows = tickets::month_stats(state.app(), &cap, month).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| UnitMonthOut {
                unit_id: r.unit_id.get(),
                unit_name: r.unit_name,
                executed: r.stats.executed,
                passed: r.stats.passed,
                failed: r.stats.failed,
                unevaluated: r.stats.unevaluated,
                must_unevaluated: r.stats.must_unevaluated,
                not_executed: r.stats.not_executed,
                void: r.stats.void,
                pass_rate: r.pass_rate,
                left_unclosed: r.left_unclosed,
                unplanned: r.stats.unplanned,
                planned_share: r.stats.planned_share(),
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HazardRemovalIn {
    /// Why the hazard no longer belongs on the draft.
    #[schema(max_length = 500)]
    pub reason: String,
}

/// Removes a hazard and its measure from a draft ticket, with the reason.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/hazards/{hid}/remove", tag = "tickets", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id"), ("hid" = i64, Path, description = "The hazard line's id")), request_body = HazardRemovalIn,
    responses((status = 204, description = "Removed"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn remove_hazard(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, hid)): ApiPath<(TicketId, i64)>,
    ApiJson(r): ApiJson<HazardRemovalIn>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::TicketsWrite>(&state).await?;
    auth.checked(&state, tickets::delete_hazard(state.app(), &cap, &auth.meta, id, hid, &r.reason).await).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentTypeNew {
    #[schema(max_length = 40)]
    pub code: String,
    #[schema(max_length = 100)]
    pub name: String,
    /// The numbers' prefix (`DY` makes `DY-202611-0001`).
    #[schema(max_length = 10)]
    pub prefix: String,
}

/// Adds a document type to the catalogue (票种目录); its rules are then set with `PUT`.
#[utoipa::path(post, path = "/api/v1/tickets/catalogue/types", tag = "tickets", security(("bearer" = [])), request_body = DocumentTypeNew,
    responses((status = 204, description = "Added"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn add_document_type(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(t): ApiJson<DocumentTypeNew>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::TicketsConfigure>(&state).await?;
    tickets::add_document_type(state.app(), &cap, &auth.meta, &t.code, &t.name, &t.prefix).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentTypeIn {
    #[schema(max_length = 100)]
    pub name: String,
    #[schema(max_length = 10)]
    pub prefix: String,
    /// The marketing order types it may cover (`meter_replacement`, …).
    #[schema(max_items = 20)]
    pub covers: Vec<String>,
    pub extendable: bool,
    pub needs_survey: bool,
    pub live_work: bool,
    #[schema(minimum = 0, maximum = 50)]
    pub min_people: u32,
    pub active: bool,
}

/// Sets a document type's rules: what it covers, extension, survey, live work, the least crew.
#[utoipa::path(put, path = "/api/v1/tickets/catalogue/types/{code}", tag = "tickets", security(("bearer" = [])),
    params(("code" = String, Path, description = "Document type code")), request_body = DocumentTypeIn,
    responses((status = 204, description = "Saved"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn save_document_type(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(code): ApiPath<String>,
    ApiJson(t): ApiJson<DocumentTypeIn>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::TicketsConfigure>(&state).await?;
    let input = tickets::DocumentTypeInput {
        name: t.name,
        prefix: t.prefix,
        covers: t.covers.into_iter().take(20).collect(),
        extendable: t.extendable,
        needs_survey: t.needs_survey,
        live_work: t.live_work,
        min_people: i64::from(t.min_people.min(50)),
        active: t.active,
    };
    tickets::save_document_type(state.app(), &cap, &auth.meta, &code, input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HazardTemplateIn {
    /// The work kind it is offered for (an order type code).
    #[schema(max_length = 40)]
    pub work_kind: String,
    #[schema(max_length = 200)]
    pub hazard: String,
    #[schema(max_length = 500)]
    pub measure: String,
}

/// Adds a hazard and its measure to the templates offered on drafts of a work kind.
#[utoipa::path(post, path = "/api/v1/tickets/catalogue/templates", tag = "tickets", security(("bearer" = [])), request_body = HazardTemplateIn,
    responses((status = 204, description = "Added"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn add_hazard_template(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(t): ApiJson<HazardTemplateIn>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::TicketsConfigure>(&state).await?;
    tickets::add_hazard_template(state.app(), &cap, &auth.meta, &t.work_kind, &t.hazard, &t.measure).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a hazard template (drafts that used it keep their copy).
#[utoipa::path(delete, path = "/api/v1/tickets/catalogue/templates/{id}", tag = "tickets", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Template id")),
    responses((status = 204, description = "Deleted"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn delete_hazard_template(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::TicketsConfigure>(&state).await?;
    tickets::delete_hazard_template(state.app(), &cap, &auth.meta, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvalReasonIn {
    #[schema(max_length = 40)]
    pub code: String,
    #[schema(max_length = 200)]
    pub text: String,
    pub active: bool,
}

/// Adds or changes a reason a ticket may be judged 不合格 for.
#[utoipa::path(post, path = "/api/v1/tickets/catalogue/reasons", tag = "tickets", security(("bearer" = [])), request_body = EvalReasonIn,
    responses((status = 204, description = "Saved"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn save_eval_reason(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(r): ApiJson<EvalReasonIn>,
) -> Result<StatusCode, AppError> {
    let cap = auth.require::<perm::TicketsConfigure>(&state).await?;
    tickets::save_eval_reason(state.app(), &cap, &auth.meta, &r.code, &r.text, r.active).await?;
    Ok(StatusCode::NO_CONTENT)
}
