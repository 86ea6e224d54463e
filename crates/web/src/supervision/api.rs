//! The JSON API of on-site supervision: managers' arrivals and departures (到岗到位), the
//! violation register, review meetings, re-admissions and the month's figures.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gridsafe_app::supervision::{
    self, ArrivalInput, Position, ReadmissionInput, ViolationFilter, ViolationInput, ViolationRow,
};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::{PersonId, TicketId};
use gridsafe_domain::time::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::paging::{self, Page};
use crate::auth::Auth;
use crate::error::{AppError, ErrorEnvelope};
use crate::json::{ApiJson, ApiPath, ApiQuery};
use crate::tickets::api::TicketDetailOut;

fn offender_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["person", "team", "contractor", "customer"])
}

fn class_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["management", "behaviour", "equipment"])
}

fn severity_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["grave", "serious", "major", "general"])
}

/// Where the phone was, as the browser gave it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionIn {
    #[schema(minimum = -90.0, maximum = 90.0)]
    pub lat: f64,
    #[schema(minimum = -180.0, maximum = 180.0)]
    pub lon: f64,
    /// Metres.
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 100000.0)]
    pub accuracy_m: Option<f64>,
}

impl From<PositionIn> for Position {
    fn from(p: PositionIn) -> Self {
        Position { lat: p.lat, lon: p.lon, accuracy_m: p.accuracy_m }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArrivalIn {
    #[serde(default)]
    pub position: Option<PositionIn>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
}

/// Records the caller's arrival at the ticket's site now (到岗): within its window, once at a
/// time; the roles his account holds for the ticket's unit are what the start rule counts.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/arrivals", tag = "supervision", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")), request_body = ArrivalIn,
    responses((status = 201, body = TicketDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Outside the ticket's window, or on a site already", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn arrive(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<TicketId>,
    ApiJson(a): ApiJson<ArrivalIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::SupervisionAttend>(&state).await?;
    let input = ArrivalInput { position: a.position.map(Position::from), note: a.note, photo: None };
    auth.checked(&state, supervision::arrive(state.app(), &cap, &auth.meta, id, input).await).await?;
    let t = gridsafe_app::tickets::ticket(state.app(), &cap, id).await?;
    Ok((StatusCode::CREATED, Json(TicketDetailOut::from(t))).into_response())
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DepartureIn {
    #[serde(default)]
    pub position: Option<PositionIn>,
}

/// Records the caller's departure from the ticket's site now (离岗).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/departure", tag = "supervision", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")), request_body = DepartureIn,
    responses((status = 200, body = TicketDetailOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Not on this site", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn depart(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<TicketId>,
    ApiJson(d): ApiJson<DepartureIn>,
) -> Result<Json<TicketDetailOut>, AppError> {
    let cap = auth.require::<perm::SupervisionAttend>(&state).await?;
    let at = d.position.map(Position::from);
    auth.checked(&state, supervision::depart(state.app(), &cap, &auth.meta, id, at).await).await?;
    Ok(Json(gridsafe_app::tickets::ticket(state.app(), &cap, id).await?.into()))
}

/// A violation in the register.
#[derive(Debug, Serialize, ToSchema)]
pub struct ViolationOut {
    pub id: i64,
    pub number: String,
    pub unit_id: i64,
    pub unit_name: String,
    #[schema(schema_with = offender_values)]
    pub offender: String,
    pub person_id: Option<i64>,
    pub person: Option<String>,
    pub contractor_id: Option<i64>,
    pub contractor: Option<String>,
    pub customer_id: Option<i64>,
    pub customer: Option<String>,
    pub team: Option<String>,
    pub ticket_id: Option<i64>,
    pub ticket_number: Option<String>,
    #[schema(format = DateTime)]
    pub occurred_at: String,
    pub place: String,
    #[schema(schema_with = class_values)]
    pub class: String,
    #[schema(schema_with = severity_values)]
    pub severity: String,
    pub points: i64,
    pub catalogue_code: Option<String>,
    pub rule_broken: String,
    pub description: String,
    /// The hazard its correction is tracked in (the closed loop).
    pub hazard_id: Option<i64>,
    pub recorded_by: String,
    #[schema(format = DateTime)]
    pub recorded_at: String,
    /// When its review meeting (说清楚) was recorded; serious ones only.
    #[schema(format = DateTime)]
    pub reviewed_at: Option<String>,
    pub review_note: Option<String>,
}

impl From<ViolationRow> for ViolationOut {
    fn from(v: ViolationRow) -> Self {
        Self {
            id: v.id,
            number: v.number,
            unit_id: v.unit_id.get(),
            unit_name: v.unit_name,
            offender: v.offender.code().to_owned(),
            person_id: v.person_id.map(PersonId::get),
            person: v.person,
            contractor_id: v.contractor_id,
            contractor: v.contractor,
            customer_id: v.customer_id,
            customer: v.customer,
            team: v.team,
            ticket_id: v.ticket_id.map(TicketId::get),
            ticket_number: v.ticket_number,
            occurred_at: v.occurred_at.local_iso(),
            place: v.place,
            class: v.class.code().to_owned(),
            severity: v.severity.code().to_owned(),
            points: v.points,
            catalogue_code: v.catalogue_code,
            rule_broken: v.rule_broken,
            description: v.description,
            hazard_id: v.hazard_id,
            recorded_by: v.recorded_by,
            recorded_at: v.recorded_at.local_iso(),
            reviewed_at: v.reviewed_at.map(|t| t.local_iso()),
            review_note: v.review_note,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ViolationsQuery {
    /// `YYYY-MM`; this month when absent (ignored with `person_id`).
    #[param(example = "2026-12", pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: Option<String>,
    /// Every violation of this person.
    pub person_id: Option<i64>,
    /// Violations a page holds at most (the default and the most: 2000).
    #[param(minimum = 1, maximum = 2000)]
    pub limit: Option<u32>,
    /// Where the page starts: the cursor in the `Link` header of the page before.
    #[param(pattern = "^-?[0-9]{1,18}~[0-9]{1,18}$")]
    pub after: Option<String>,
}

/// Violations a page of the API holds at most.
const MAX_PAGE: u32 = 2000;

fn month(text: Option<&str>, today: chrono::NaiveDate) -> Result<chrono::NaiveDate, gridsafe_app::AppError> {
    match text {
        None => Ok(crate::outages::month_of("", today)),
        Some(m) => chrono::NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d")
            .map_err(|_| gridsafe_app::AppError::invalid("month", "field-month")),
    }
}

/// A month's violations in the caller's units (or every one of a person), latest first, a page
/// at a time.
///
/// When more follow, the `Link` header names the next page.
#[utoipa::path(get, path = "/api/v1/violations", tag = "supervision", security(("bearer" = [])), params(ViolationsQuery),
    responses((status = 200, body = Vec<ViolationOut>, headers(("Link" = String, description = "`<…>; rel=\"next\"`: the next page, when more violations follow"))),
        (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<ViolationsQuery>,
) -> Result<Page<ViolationOut>, AppError> {
    let cap = auth.require::<perm::ViolationsView>(&state).await?;
    let limit = paging::limit(q.limit, MAX_PAGE)?;
    let before = match q.after.as_deref() {
        None => None,
        Some(text) => Some(paging::read_time_cursor(text).ok_or_else(paging::bad_cursor)?),
    };
    let person = q.person_id.map(|p| p.to_string());
    let query = paging::kept(&[("month", q.month.as_deref()), ("person_id", person.as_deref())]);
    let filter = match q.person_id {
        Some(p) => ViolationFilter { person: Some(PersonId::new(p)), ..ViolationFilter::default() },
        None => {
            let first = month(q.month.as_deref(), state.app().today())?;
            ViolationFilter {
                from: Some(Timestamp::start_of_local_day(first)),
                to: Some(Timestamp::start_of_local_day(crate::outages::next_month(first))),
                ..ViolationFilter::default()
            }
        }
    };
    let filter = ViolationFilter { before, ..filter };
    let rows = supervision::list(state.app(), &cap, &filter, i64::from(limit) + 1).await?;
    let page = Page::of(rows, limit, "/api/v1/violations", &query, |v| paging::time_cursor(v.occurred_at, v.id));
    Ok(Page { rows: page.rows.into_iter().map(ViolationOut::from).collect(), next: page.next })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViolationIn {
    #[schema(schema_with = offender_values)]
    pub offender: String,
    /// 工号 of the person (offender `person`).
    #[serde(default)]
    pub person: String,
    /// Number of the contractor (offender `contractor`).
    #[serde(default)]
    pub contractor: String,
    /// 户号 of the customer (offender `customer`).
    #[serde(default)]
    pub customer: String,
    /// The team (offender `team`).
    #[serde(default)]
    pub team: String,
    /// Number of the ticket whose work it was at.
    #[serde(default)]
    pub ticket: String,
    /// Local time `YYYY-MM-DD HH:MM`; now when empty.
    #[serde(default)]
    pub occurred_at: String,
    pub place: String,
    #[schema(schema_with = class_values)]
    pub class: String,
    #[schema(schema_with = severity_values)]
    pub severity: String,
    /// Code of a catalogue entry (严重违章清单); its title is the rule broken when none is given.
    #[serde(default)]
    pub catalogue: String,
    #[serde(default)]
    pub rule_broken: String,
    pub description: String,
    /// Who corrects it (required unless a customer committed it) and by when (`YYYY-MM-DD`).
    #[serde(default)]
    pub responsible: String,
    #[serde(default)]
    pub deadline: String,
    /// The on-site check and its failed item (position) the violation was found at: its
    /// ticket, list entry and words are taken from there when not given.
    #[serde(default)]
    pub check_id: Option<i64>,
    #[serde(default)]
    pub check_item: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedOut {
    pub violation: ViolationOut,
    /// The person's points in the period and whether they suspend his field roles.
    pub standing: Option<StandingOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StandingOut {
    pub points: u32,
    pub threshold: u32,
    pub suspended: bool,
    /// The violations counted, by number.
    pub counted: Vec<String>,
}

impl From<gridsafe_domain::supervision::Standing> for StandingOut {
    fn from(s: gridsafe_domain::supervision::Standing) -> Self {
        Self { suspended: s.suspended(), points: s.points, threshold: s.threshold, counted: s.counted }
    }
}

/// Records a violation: its points count at once (a person reaching the threshold is suspended
/// from field roles), and its correction opens as a hazard in the closed loop.
#[utoipa::path(post, path = "/api/v1/violations", tag = "supervision", security(("bearer" = [])), request_body = ViolationIn,
    responses((status = 201, body = RecordedOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(v): ApiJson<ViolationIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ViolationsRecord>(&state).await?;
    let input = ViolationInput {
        offender: v.offender,
        person: v.person,
        contractor: v.contractor,
        customer: v.customer,
        team: v.team,
        ticket: v.ticket,
        occurred_at: v.occurred_at,
        place: v.place,
        class: v.class,
        severity: v.severity,
        catalogue: v.catalogue,
        rule_broken: v.rule_broken,
        description: v.description,
        responsible: v.responsible,
        deadline: v.deadline,
        photo: None,
        check: v.check_id.zip(v.check_item),
    };
    let done = auth.checked(&state, supervision::record(state.app(), &cap, &auth.meta, input).await).await?;
    let row = supervision::violation(state.app(), &cap, done.id).await?.row;
    let out = RecordedOut { violation: row.into(), standing: done.standing.map(StandingOut::from) };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// One violation.
#[utoipa::path(get, path = "/api/v1/violations/{id}", tag = "supervision", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Violation id")),
    responses((status = 200, body = ViolationOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ViolationOut>, AppError> {
    let cap = auth.require::<perm::ViolationsView>(&state).await?;
    Ok(Json(auth.checked(&state, supervision::violation(state.app(), &cap, id).await).await?.row.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ViolationReviewIn {
    /// What was said and decided at the meeting.
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    pub note: String,
}

/// Records the review meeting (说清楚) of a serious violation.
#[utoipa::path(post, path = "/api/v1/violations/{id}/review", tag = "supervision", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Violation id")), request_body = ViolationReviewIn,
    responses((status = 200, body = ViolationOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Not a serious violation, or reviewed already", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn review(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(r): ApiJson<ViolationReviewIn>,
) -> Result<Json<ViolationOut>, AppError> {
    let cap = auth.require::<perm::ViolationsReview>(&state).await?;
    auth.checked(&state, supervision::record_review(state.app(), &cap, &auth.meta, id, &r.note).await).await?;
    Ok(Json(supervision::violation(state.app(), &cap, id).await?.row.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadmissionIn {
    #[schema(format = Date)]
    pub trained_on: String,
    #[schema(format = Date)]
    pub exam_on: String,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub score: Option<i64>,
    pub passed: bool,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: String,
}

/// Re-admits a suspended person (再准入) after retraining and a passed exam; his points before it
/// no longer count.
#[utoipa::path(post, path = "/api/v1/people/{id}/readmission", tag = "supervision", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Person id")), request_body = ReadmissionIn,
    responses((status = 200, body = StandingOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "Not suspended, review meetings missing, or the exam not passed", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn readmit(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<PersonId>,
    ApiJson(r): ApiJson<ReadmissionIn>,
) -> Result<Json<StandingOut>, AppError> {
    let cap = auth.require::<perm::ViolationsReview>(&state).await?;
    let input = ReadmissionInput {
        trained_on: r.trained_on,
        exam_on: r.exam_on,
        score: r.score.map(|s| s.to_string()).unwrap_or_default(),
        passed: r.passed,
        note: r.note,
    };
    auth.checked(&state, supervision::readmit(state.app(), &cap, &auth.meta, id, input).await).await?;
    let (standing, _) = supervision::person_points(state.app(), id).await?;
    let standing = standing.ok_or(AppError::from(gridsafe_app::AppError::NotFound))?;
    Ok(Json(standing.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountOut {
    pub key: String,
    pub count: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceOut {
    pub grade: u8,
    pub started: i64,
    pub attended: i64,
    /// Percent; absent when nothing started.
    pub rate: Option<f64>,
    /// Of those started, how many sites were checked on site.
    pub checked: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WatchOut {
    pub contractor: String,
    pub points: i64,
    /// `watch` (观察名单) or `blacklist_proposal` (建议列入黑名单).
    pub watch: String,
}

/// A month's supervision figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardOut {
    pub month: String,
    pub total: usize,
    pub points: i64,
    pub by_class: Vec<CountOut>,
    pub by_severity: Vec<CountOut>,
    pub by_unit: Vec<CountOut>,
    pub by_team: Vec<CountOut>,
    pub by_contractor: Vec<CountOut>,
    pub attendance: Vec<AttendanceOut>,
    /// On-site checks recorded in the month.
    pub checks: i64,
    pub watch: Vec<WatchOut>,
    pub awaiting_review: usize,
}

/// The month's violations by class, severity, unit, team and contractor; attendance by grade;
/// contractors on the watch list; serious violations waiting for their review meeting.
#[utoipa::path(get, path = "/api/v1/supervision/dashboard", tag = "supervision", security(("bearer" = [])), params(crate::outages::api::MonthQuery),
    responses((status = 200, body = DashboardOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn dashboard(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<crate::outages::api::MonthQuery>,
) -> Result<Json<DashboardOut>, AppError> {
    let cap = auth.require::<perm::ViolationsView>(&state).await?;
    let first = month(q.month.as_deref(), state.app().today())?;
    let d = supervision::dashboard(state.app(), &cap, &first.format("%Y-%m").to_string()).await?;
    let counts = |rows: Vec<(String, usize)>| rows.into_iter().map(|(key, count)| CountOut { key, count }).collect();
    Ok(Json(DashboardOut {
        month: d.month,
        total: d.total,
        points: d.points,
        by_class: counts(d.by_class.iter().map(|(c, n)| (c.code().to_owned(), *n)).collect()),
        by_severity: counts(d.by_severity.iter().map(|(s, n)| (s.code().to_owned(), *n)).collect()),
        by_unit: counts(d.by_unit),
        by_team: counts(d.by_team),
        by_contractor: counts(d.by_contractor),
        attendance: d
            .attendance
            .into_iter()
            .map(|a| AttendanceOut {
                grade: a.grade,
                started: a.started,
                attended: a.attended,
                rate: a.rate,
                checked: a.checked,
            })
            .collect(),
        checks: d.checks,
        watch: d
            .watch
            .into_iter()
            .map(|w| WatchOut {
                contractor: w.contractor,
                points: w.points,
                watch: serde_json::to_value(w.watch)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            })
            .collect(),
        awaiting_review: d.awaiting_review,
    }))
}

fn finding_values() -> utoipa::openapi::schema::Object {
    crate::json::one_of(["pass", "fail", "na"])
}

/// An item as answered.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerIn {
    pub position: i64,
    #[schema(schema_with = finding_values)]
    pub result: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    /// A template code (see `GET /api/v1/check-templates`).
    pub template: String,
    /// Every item of the template, answered.
    pub answers: Vec<AnswerIn>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckItemOut {
    pub position: i64,
    pub text: String,
    /// The violation list entry a failure usually is.
    pub catalogue_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckTemplateOut {
    pub code: String,
    pub name: String,
    /// Order types it is for; empty: every kind of work.
    pub work_kinds: Vec<String>,
    pub origin: String,
    pub items: Vec<CheckItemOut>,
}

/// The on-site checklists (templates as data), with their items.
#[utoipa::path(get, path = "/api/v1/check-templates", tag = "supervision", security(("bearer" = [])),
    responses((status = 200, body = Vec<CheckTemplateOut>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope)))]
pub async fn templates(State(state): State<AppState>, auth: Auth) -> Result<Json<Vec<CheckTemplateOut>>, AppError> {
    auth.require::<perm::ViolationsView>(&state).await?;
    let all = supervision::templates(state.app()).await?;
    Ok(Json(
        all.into_iter()
            .map(|t| CheckTemplateOut {
                code: t.code,
                name: t.name,
                work_kinds: t.work_kinds,
                origin: t.origin,
                items: t
                    .items
                    .into_iter()
                    .map(|i| CheckItemOut { position: i.position, text: i.text, catalogue_code: i.catalogue_code })
                    .collect(),
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerOut {
    pub position: i64,
    pub text: String,
    #[schema(schema_with = finding_values)]
    pub result: String,
    pub note: Option<String>,
    /// Violations recorded from this item, by number.
    pub violations: Vec<String>,
}

/// An on-site check (现场检查).
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckOut {
    pub id: i64,
    pub ticket_id: i64,
    pub ticket_number: String,
    pub template: String,
    /// The ticket's state when checked.
    pub ticket_state: String,
    pub failed: i64,
    pub note: Option<String>,
    pub checked_by: String,
    #[schema(format = DateTime)]
    pub checked_at: String,
    pub answers: Vec<AnswerOut>,
}

impl From<gridsafe_app::supervision::CheckDetail> for CheckOut {
    fn from(d: gridsafe_app::supervision::CheckDetail) -> Self {
        let violations = d.violations;
        Self {
            id: d.row.id,
            ticket_id: d.row.ticket_id.get(),
            ticket_number: d.row.ticket_number,
            template: d.row.template_code,
            ticket_state: d.row.ticket_state,
            failed: d.row.failed,
            note: d.row.note,
            checked_by: d.row.checked_by,
            checked_at: d.row.checked_at.local_iso(),
            answers: d
                .results
                .into_iter()
                .map(|r| AnswerOut {
                    violations: violations
                        .iter()
                        .filter(|(p, _, _)| *p == r.position)
                        .map(|(_, _, n)| n.clone())
                        .collect(),
                    position: r.position,
                    text: r.text,
                    result: r.result.code().to_owned(),
                    note: r.note,
                })
                .collect(),
        }
    }
}

/// Records an on-site check of the ticket's live site (permitted, at work or interrupted):
/// every item of the template answered.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/checks", tag = "supervision", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Ticket id")), request_body = CheckIn,
    responses((status = 201, body = CheckOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
        (status = 409, description = "The site is not live", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
pub async fn record_check(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<TicketId>,
    ApiJson(c): ApiJson<CheckIn>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ViolationsRecord>(&state).await?;
    let input = gridsafe_app::supervision::CheckInput {
        template: c.template,
        answers: c.answers.into_iter().map(|a| (a.position, a.result, a.note)).collect(),
        note: c.note,
        photo: None,
    };
    let check = auth.checked(&state, supervision::record_check(state.app(), &cap, &auth.meta, id, input).await).await?;
    let d = supervision::check(state.app(), &cap, check).await?;
    Ok((StatusCode::CREATED, Json(CheckOut::from(d))).into_response())
}

/// One on-site check with its answers and the violations recorded from them.
#[utoipa::path(get, path = "/api/v1/checks/{id}", tag = "supervision", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Check id")),
    responses((status = 200, body = CheckOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
pub async fn get_check(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CheckOut>, AppError> {
    let cap = auth.require::<perm::ViolationsView>(&state).await?;
    Ok(Json(auth.checked(&state, supervision::check(state.app(), &cap, id).await).await?.into()))
}
