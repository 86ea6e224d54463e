//! The JSON API of work plans: a unit's plans, one plan with its items, shared sites and changes,
//! new plans and items, the merge of a shared site, and the steps.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridsafe_app::plans::{self, ItemInput, MergeInput, PlanDetail, PlanInput, PlanRow};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::plans::{Conflict, PlanStep};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Auth;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, ApiPath, ApiQuery};

fn step_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["approve", "publish", "return"])
}

fn kind_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["weekly", "daily"])
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanOut {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    /// `weekly` or `daily`.
    pub kind: String,
    #[schema(format = Date)]
    pub first_day: String,
    /// `draft`, `approved` or `published`.
    pub state: String,
    pub created_by: String,
    pub approved_by: Option<String>,
    pub published_by: Option<String>,
    pub items: i64,
}

impl From<PlanRow> for PlanOut {
    fn from(p: PlanRow) -> Self {
        Self {
            id: p.id,
            unit_id: p.unit_id.get(),
            unit_name: p.unit_name,
            kind: p.kind.code().to_owned(),
            first_day: p.first_day.to_string(),
            state: p.state.code().to_owned(),
            created_by: p.created_by,
            approved_by: p.approved_by,
            published_by: p.published_by,
            items: p.items,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanItemOut {
    pub id: i64,
    /// Local time, `YYYY-MM-DD HH:MM`.
    pub start: String,
    pub end: String,
    pub site: String,
    /// An order type of the marketing export (`meter_install`, …).
    pub work_kind: String,
    pub team_id: i64,
    pub team_name: String,
    pub leader_id: Option<i64>,
    /// `工号 姓名` of everyone on the item, the leader first.
    pub people: Vec<String>,
    pub outage: bool,
    pub note: Option<String>,
    /// Its risk grade (作业风险等级) and what raised it.
    pub risk: Option<crate::tickets::api::RiskOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MergeOut {
    #[schema(format = Date)]
    pub day: String,
    pub site: String,
    pub organiser_id: i64,
    pub measures: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConflictOut {
    /// `shared_site` (several teams at one site on one day) or `person_twice`.
    pub kind: String,
    pub day: Option<String>,
    pub site: Option<String>,
    pub items: Vec<i64>,
    /// A shared site merged under an organiser.
    pub merged: Option<bool>,
    pub person_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOut {
    pub item_id: Option<i64>,
    /// `item_added` or `item_removed`.
    pub action: String,
    pub reason: String,
    pub changed_by: String,
    pub changed_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanDetailOut {
    #[serde(flatten)]
    pub plan: PlanOut,
    pub plan_items: Vec<PlanItemOut>,
    pub merges: Vec<MergeOut>,
    pub conflicts: Vec<ConflictOut>,
    pub changes: Vec<ChangeOut>,
}

impl From<PlanDetail> for PlanDetailOut {
    fn from(d: PlanDetail) -> Self {
        Self {
            plan: d.plan.into(),
            plan_items: d
                .items
                .into_iter()
                .enumerate()
                .map(|(n, i)| PlanItemOut {
                    risk: d.risks.get(n).map(crate::tickets::api::RiskOut::from),
                    id: i.item.id,
                    start: i.item.start.local_display(),
                    end: i.item.end.local_display(),
                    site: i.item.site,
                    work_kind: i.item.work_kind.code().to_owned(),
                    team_id: i.item.team.get(),
                    team_name: i.team_name,
                    leader_id: i.item.leader.map(|p| p.get()),
                    people: i.names,
                    outage: i.outage,
                    note: i.note,
                })
                .collect(),
            merges: d
                .merges
                .into_iter()
                .map(|m| MergeOut {
                    day: m.day.to_string(),
                    site: m.site,
                    organiser_id: m.organiser.get(),
                    measures: m.measures,
                })
                .collect(),
            conflicts: d
                .conflicts
                .into_iter()
                .map(|c| match c {
                    Conflict::SharedSite { day, site, items, merged } => ConflictOut {
                        kind: "shared_site".into(),
                        day: Some(day.to_string()),
                        site: Some(site),
                        items,
                        merged: Some(merged),
                        person_id: None,
                    },
                    Conflict::PersonTwice { person, items: (a, b) } => ConflictOut {
                        kind: "person_twice".into(),
                        day: None,
                        site: None,
                        items: vec![a, b],
                        merged: None,
                        person_id: Some(person.get()),
                    },
                })
                .collect(),
            changes: d
                .changes
                .into_iter()
                .map(|c| ChangeOut {
                    item_id: c.item_id,
                    action: c.action,
                    reason: c.reason,
                    changed_by: c.changed_by,
                    changed_at: c.changed_at.local_display(),
                })
                .collect(),
        }
    }
}

/// Plans in the caller's units, the latest period first.
#[utoipa::path(get, path = "/api/v1/plans", tag = "plans", security(("bearer" = [])),
    responses((status = 200, body = Vec<PlanOut>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<PlanOut>>, AppError> {
    let cap = auth.require::<perm::PlansView>(&state).await?;
    Ok(Json(plans::list_plans(state.app(), &cap, 500).await?.into_iter().map(PlanOut::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanIn {
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub unit_id: i64,
    /// `weekly` (starting on a Monday) or `daily`.
    #[schema(schema_with = kind_values)]
    pub kind: String,
    #[schema(format = Date)]
    pub first_day: String,
}

/// Opens a draft plan for a unit.
#[utoipa::path(post, path = "/api/v1/plans", tag = "plans", security(("bearer" = [])), request_body = PlanIn,
    responses((status = 201, body = PlanDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 409, description = "The unit already has a plan of this kind for this period", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(p): ApiJson<PlanIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansWrite>(&state).await?;
    let input = PlanInput { unit_id: UnitId::new(p.unit_id), kind: p.kind, first_day: p.first_day };
    let id = auth.checked(&state, plans::create_plan(state.app(), &cap, &auth.meta, input).await).await?;
    let d = plans::plan(state.app(), &cap, id).await?;
    Ok((StatusCode::CREATED, Json(PlanDetailOut::from(d))).into_response())
}

/// One plan with its items, shared sites (merged or not), people planned twice and changes.
#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "plans", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Plan id")),
    responses((status = 200, body = PlanDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PlanDetailOut>, AppError> {
    let cap = auth.require::<perm::PlansView>(&state).await?;
    Ok(Json(auth.checked(&state, plans::plan(state.app(), &cap, id).await).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanItemIn {
    /// Local time, `YYYY-MM-DD HH:MM`, within the plan's period.
    pub start: String,
    pub end: String,
    pub site: String,
    /// An order type of the marketing export (`meter_install`, …).
    pub work_kind: String,
    /// The plan's unit or a team below it.
    #[serde(deserialize_with = "crate::json::whole::i64")]
    pub team_id: i64,
    /// 工号 of the work leader.
    #[serde(default)]
    pub leader: String,
    /// 工号 of the crew besides the leader.
    #[serde(default)]
    pub crew: Vec<String>,
    #[serde(default)]
    pub outage: bool,
    #[serde(default)]
    pub note: String,
    /// Why a published plan changes (required then).
    #[serde(default)]
    pub reason: String,
}

/// Adds an item; in a published plan with its reason, recorded as a change.
#[utoipa::path(post, path = "/api/v1/plans/{id}/items", tag = "plans", security(("bearer" = [])), request_body = PlanItemIn,
    params(("id" = i64, Path, description = "Plan id")),
    responses((status = 201, body = PlanDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Refused by a rule (waiting for publication, frozen without a reason)", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn add_item(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(i): ApiJson<PlanItemIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansWrite>(&state).await?;
    if i.crew.len() > 50 {
        let problem = gridsafe_app::FieldProblem::new("crew", "field-plan-crew").with("max", 50);
        return Err(gridsafe_app::AppError::Invalid(vec![problem]).into());
    }
    let input = ItemInput {
        start: i.start,
        end: i.end,
        site: i.site,
        work_kind: i.work_kind,
        team_id: UnitId::new(i.team_id),
        leader: i.leader,
        crew: i.crew.join(";"),
        outage: i.outage,
        note: i.note,
        reason: i.reason,
    };
    auth.checked(&state, plans::add_item(state.app(), &cap, &auth.meta, id, input).await).await?;
    let d = plans::plan(state.app(), &cap, id).await?;
    Ok((StatusCode::CREATED, Json(PlanDetailOut::from(d))).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReasonQuery {
    /// Why a published plan changes (required then).
    pub reason: Option<String>,
}

/// Removes an item; in a published plan with its reason, recorded as a change.
#[utoipa::path(delete, path = "/api/v1/plans/{id}/items/{item}", tag = "plans", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Plan id"), ("item" = i64, Path, description = "Item id"), ReasonQuery),
    responses((status = 200, body = PlanDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn remove_item(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, item)): ApiPath<(i64, i64)>,
    ApiQuery(q): ApiQuery<ReasonQuery>,
) -> Result<Json<PlanDetailOut>, AppError> {
    let cap = auth.require::<perm::PlansWrite>(&state).await?;
    let reason = q.reason.unwrap_or_default();
    auth.checked(&state, plans::remove_item(state.app(), &cap, &auth.meta, id, item, &reason).await).await?;
    Ok(Json(plans::plan(state.app(), &cap, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeIn {
    #[schema(format = Date)]
    pub day: String,
    /// The shared site as any of its items writes it.
    pub site: String,
    /// 工号 of the organiser (协调人), a qualified work leader on the day.
    pub organiser: String,
    /// The teams' shared safety measures.
    pub measures: String,
}

/// Merges a shared site under an organiser with the teams' shared safety measures.
#[utoipa::path(post, path = "/api/v1/plans/{id}/merges", tag = "plans", security(("bearer" = [])), request_body = MergeIn,
    params(("id" = i64, Path, description = "Plan id")),
    responses((status = 200, body = PlanDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn merge(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(m): ApiJson<MergeIn>,
) -> Result<Json<PlanDetailOut>, AppError> {
    let cap = auth.require::<perm::PlansWrite>(&state).await?;
    let input = MergeInput { day: m.day, site: m.site, organiser: m.organiser, measures: m.measures };
    auth.checked(&state, plans::merge_site(state.app(), &cap, &auth.meta, id, &input).await).await?;
    Ok(Json(plans::plan(state.app(), &cap, id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanStepIn {
    #[schema(schema_with = step_values)]
    pub step: String,
    /// Why a plan is returned (required then).
    #[serde(default)]
    pub reason: String,
}

/// Approves, publishes or returns a plan (the unit's manager).
#[utoipa::path(post, path = "/api/v1/plans/{id}/steps", tag = "plans", security(("bearer" = [])), request_body = PlanStepIn,
    params(("id" = i64, Path, description = "Plan id")),
    responses((status = 200, body = PlanDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Refused by a rule, each named", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn step(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(s): ApiJson<PlanStepIn>,
) -> Result<Json<PlanDetailOut>, AppError> {
    let cap = auth.require::<perm::PlansApprove>(&state).await?;
    let step = PlanStep::from_code(s.step.trim())
        .ok_or_else(|| AppError::from(gridsafe_app::AppError::invalid("step", "field-plan-step")))?;
    auth.checked(&state, plans::take_step(state.app(), &cap, &auth.meta, id, step, &s.reason).await).await?;
    Ok(Json(plans::plan(state.app(), &cap, id).await?.into()))
}
