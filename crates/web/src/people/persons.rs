//! People pages and API: list, detail, qualifications, the role question, expiry, ledger.

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::form::Form;
use chrono::NaiveDate;
use gridsafe_app::people::{self, Expiring, PersonInput, PersonRow, QualificationInput, QualificationRow};
use gridsafe_app::xlsx::{self, Value};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::people::{FieldRole, QualificationKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{Refusal, kind_name, manage_reach, refusal, view_reach};
use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::{AppError, ErrorEnvelope};
use crate::i18n::Lang;
use crate::json::{ApiJson, ApiPath, ApiQuery};
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/people", list_page)
        .post("/people", create)
        .get("/people/export.xlsx", export)
        .get("/people/expiring", expiring_page)
        .get("/people/pick", pick)
        .get("/people/expiring.xlsx", expiring_export)
        .get("/people/{id}", detail_page)
        .post("/people/{id}", update)
        .post("/people/{id}/qualifications", add_qualification)
        .post("/people/{id}/qualifications/{qid}/delete", delete_qualification)
        .post("/people/{id}/qualifications/{qid}/confirm", confirm_qualification)
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
    /// Where the page starts: the last row of the one before (unit path and 工号, separated by
    /// U+001F).
    #[serde(default)]
    after: String,
}

/// Rows per page of the people list.
const PAGE: u32 = 100;

#[derive(Debug, Deserialize)]
struct PickQuery {
    #[serde(default)]
    q: String,
    /// The field role the person is picked for (`work_leader`…), to say whether he may act today.
    #[serde(default)]
    role: String,
}

/// One answer of the person picker: the 工号 it fills in, and who that is in words.
#[derive(Debug, Serialize)]
struct Picked {
    value: String,
    label: String,
    /// May act in the role today (absent when no role was asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    may_act: Option<bool>,
}

/// The person picker (the page script lists its answers under a field that names a person): up
/// to eight people in reach found by 工号, name or pinyin initials, each with his unit and, when
/// a role is asked, whether he holds it today and if not why.
async fn pick(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<PickQuery>,
) -> Result<Response, AppError> {
    let reach = view_reach(&state, &auth).await?;
    let role = FieldRole::ticket_role(q.role.trim());
    let found = people::pick(state.app(), &reach, &q.q, role, state.app().today(), 8).await?;
    let lang = ctx.lang;
    let picked: Vec<Picked> = found
        .into_iter()
        .map(|(p, answer)| {
            let mut label = format!("{} · {}", p.name, p.unit_name);
            if let Some(c) = &p.contractor_name {
                label.push_str(&format!(" · {c}"));
            }
            let may_act = match (role, &answer) {
                (Some(role), Some(refusals)) => {
                    let role_words = lang.t(&format!("field-role-{}", role.code()));
                    match refusals.first() {
                        None => label
                            .push_str(&format!(" · ✓ {}", lang.t_args("pick-may-act", &[("role", role_words.into())]))),
                        Some(v) => label.push_str(&format!(" · ✗ {}", refusal(lang, v).message)),
                    }
                    Some(refusals.is_empty())
                }
                _ => None,
            };
            Picked { value: p.code, label, may_act }
        })
        .collect();
    Ok(Json(picked).into_response())
}

#[derive(Template)]
#[template(path = "people/list.html")]
struct ListPage {
    chrome: Chrome,
    people: Vec<PersonRow>,
    q: String,
    total: i64,
    next: Option<String>,
    first_page: bool,
    /// The filter's part of a page link.
    first: String,
    can_manage: bool,
    own_contractor: bool,
    units: Vec<crate::admin::UnitOption>,
    contractors: Vec<(i64, String)>,
}

async fn list_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    let reach = view_reach(&state, &auth).await?;
    let q = query.q.unwrap_or_default();
    let after = query.after.split_once('\u{1f}');
    let (people, total) = people::people_page(state.app(), &reach, Some(&q), after, PAGE).await?;
    let first = format!("q={}", crate::auth::url_encode(&q));
    let next = crate::layout::next_page(&people, PAGE as usize, &first, |p| format!("{}\u{1f}{}", p.unit_path, p.code));
    let manage = manage_reach_quiet(&state, &auth).await;
    let (units, contractors) = form_choices(&state, &auth).await?;
    Ok(render(&ListPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        people,
        total,
        next,
        first_page: query.after.is_empty(),
        first,
        q,
        can_manage: manage.is_some(),
        own_contractor: reach.contractor().is_some(),
        units,
        contractors,
    }))
}

/// The manage reach when the user has it, without auditing its absence (for showing forms).
async fn manage_reach_quiet(
    state: &AppState,
    auth: &Auth,
) -> Option<gridsafe_app::people::Reach<gridsafe_app::people::Manage>> {
    use gridsafe_domain::access::perm;
    let p = &auth.user.principal;
    if let Ok(cap) = p.authorize::<perm::PeopleManage>() {
        return Some(gridsafe_app::people::Reach::units(&cap));
    }
    let cap = p.authorize::<perm::OwnContractor>().ok()?;
    gridsafe_app::people::Reach::own_contractor(state.app(), &cap).await.ok()
}

/// Units and contractors to choose from in the person form.
async fn form_choices(
    state: &AppState,
    auth: &Auth,
) -> Result<(Vec<crate::admin::UnitOption>, Vec<(i64, String)>), AppError> {
    use gridsafe_domain::access::perm;
    let p = &auth.user.principal;
    let Ok(cap) = p.authorize::<perm::PeopleManage>() else { return Ok((Vec::new(), Vec::new())) };
    let units = gridsafe_app::identity::list_units(state.app(), cap.scope()).await?;
    let reach = gridsafe_app::people::Reach::<gridsafe_app::people::Manage>::units(&cap);
    let contractors = people::list_contractors(state.app(), &reach)
        .await?
        .into_iter()
        .map(|c| (c.id, format!("{} {}", c.code, c.name)))
        .collect();
    Ok((crate::admin::unit_options(&units), contractors))
}

#[derive(Debug, Deserialize)]
struct PersonForm {
    code: String,
    name: String,
    #[serde(default)]
    unit_id: Option<UnitId>,
    #[serde(default)]
    contractor_id: Option<String>,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    post: String,
    #[serde(default)]
    active: Option<String>,
}

impl PersonForm {
    fn input(self) -> PersonInput {
        PersonInput {
            code: self.code,
            name: self.name,
            unit_id: self.unit_id.unwrap_or_default(),
            contractor_id: self.contractor_id.as_deref().and_then(|c| c.parse().ok()),
            phone: self.phone,
            post: self.post,
            active: self.active.is_some(),
        }
    }
}

async fn create(State(state): State<AppState>, auth: Auth, Form(form): Form<PersonForm>) -> Result<Response, AppError> {
    let reach = manage_reach(&state, &auth).await?;
    let id =
        auth.checked(&state, people::save_person(state.app(), &reach, &auth.meta, None, form.input()).await).await?;
    Ok(Redirect::to(&format!("/people/{id}")).into_response())
}

async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<PersonId>,
    Form(form): Form<PersonForm>,
) -> Result<Response, AppError> {
    let reach = manage_reach(&state, &auth).await?;
    auth.checked(&state, people::save_person(state.app(), &reach, &auth.meta, Some(id), form.input()).await).await?;
    Ok(Redirect::to(&format!("/people/{id}")).into_response())
}

/// One line of the role table on a person's page.
struct RoleLine {
    role: String,
    refusals: Vec<Refusal>,
}

#[derive(Template)]
#[template(path = "people/detail.html")]
struct DetailPage {
    chrome: Chrome,
    person: PersonRow,
    qualifications: Vec<QualificationRow>,
    roles: Vec<RoleLine>,
    day: String,
    can_manage: bool,
    /// Staff of the supply company, who confirm a contractor's drafts.
    can_confirm: bool,
    kinds: Vec<&'static str>,
    units: Vec<crate::admin::UnitOption>,
    contractors: Vec<(i64, String)>,
}

impl DetailPage {
    fn is_contractor(&self, id: &i64) -> bool {
        self.person.contractor_id == Some(*id)
    }
}

#[derive(Debug, Deserialize)]
struct DayQuery {
    day: Option<String>,
}

/// The roles the person page answers the question for.
fn roles_to_check() -> [FieldRole; 6] {
    [
        FieldRole::CrewMember,
        FieldRole::WorkLeader,
        FieldRole::TicketIssuer,
        FieldRole::WorkPermitter,
        FieldRole::Inspector { voltage_kv: 0.4 },
        FieldRole::Inspector { voltage_kv: 10.0 },
    ]
}

fn role_label(lang: Lang, role: FieldRole) -> String {
    match role {
        FieldRole::Inspector { voltage_kv } => {
            lang.t_args("field-role-inspector", &[("kv", crate::i18n::Arg::from(voltage_kv.to_string()))])
        }
        other => lang.t(&format!("field-role-{}", other.code())),
    }
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<PersonId>,
    Query(q): Query<DayQuery>,
) -> Result<Response, AppError> {
    let reach = view_reach(&state, &auth).await?;
    let person = auth.checked(&state, people::person(state.app(), &reach, id).await).await?;
    let day = q
        .day
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or_else(|| state.app().today());
    let lang = ctx.lang;
    let mut roles = Vec::new();
    for role in roles_to_check() {
        let refusals = people::may_act(state.app(), &reach, id, role, day).await?;
        roles.push(RoleLine {
            role: role_label(lang, role),
            refusals: refusals.iter().map(|v| refusal(lang, v)).collect(),
        });
    }
    let can_manage = manage_reach_quiet(&state, &auth).await.is_some();
    let (units, contractors) = form_choices(&state, &auth).await?;
    Ok(render(&DetailPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        qualifications: people::qualifications_of(state.app(), id).await?,
        person,
        roles,
        day: day.to_string(),
        can_manage,
        can_confirm: auth.user.principal.authorize::<perm::PeopleManage>().is_ok(),
        kinds: QualificationKind::ALL.iter().map(|k| k.code()).collect(),
        units,
        contractors,
    }))
}

#[derive(Debug, Deserialize)]
struct QualificationForm {
    kind: String,
    #[serde(default)]
    title: String,
    valid_from: String,
    valid_to: String,
    #[serde(default)]
    level: String,
    #[serde(default)]
    score: String,
    #[serde(default)]
    passed: Option<String>,
    #[serde(default)]
    list_year: String,
    #[serde(default)]
    certificate_no: String,
    #[serde(default)]
    hours: String,
}

fn number(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

async fn add_qualification(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<PersonId>,
    Form(f): Form<QualificationForm>,
) -> Result<Response, AppError> {
    let reach = manage_reach(&state, &auth).await?;
    let input = QualificationInput {
        kind: f.kind,
        title: f.title,
        valid_from: f.valid_from,
        valid_to: f.valid_to,
        level: number(&f.level),
        score: number(&f.score),
        passed: f.passed.is_some(),
        list_year: number(&f.list_year),
        certificate_no: f.certificate_no,
        hours: number(&f.hours),
    };
    auth.checked(&state, people::add_qualification(state.app(), &reach, &auth.meta, id, input).await).await?;
    Ok(Redirect::to(&format!("/people/{id}")).into_response())
}

/// The supply company confirms a contractor's draft qualification (after checking the certificate).
async fn confirm_qualification(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, qid)): Path<(PersonId, i64)>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PeopleManage>(&state).await?;
    auth.checked(&state, people::confirm_qualification(state.app(), &cap, &auth.meta, id, qid).await).await?;
    Ok(Redirect::to(&format!("/people/{id}")).into_response())
}

async fn delete_qualification(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, qid)): Path<(PersonId, i64)>,
    Form(f): Form<crate::form::ReasonForm>,
) -> Result<Response, AppError> {
    let reach = manage_reach(&state, &auth).await?;
    let deleted = people::delete_qualification(state.app(), &reach, &auth.meta, id, qid, &f.reason).await;
    auth.checked(&state, deleted).await?;
    Ok(Redirect::to(&format!("/people/{id}")).into_response())
}

pub fn xlsx_file(name: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    let mut response = bytes.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The people ledger (人员台账) as `.xlsx`.
async fn export(State(state): State<AppState>, auth: Auth) -> Result<Response, AppError> {
    let reach = view_reach(&state, &auth).await?;
    let rows = people::list_people(state.app(), &reach, None, 200_000).await?;
    let lang = Lang::ZhCn;
    let headers: Vec<String> = [
        "people-code",
        "people-name",
        "people-unit",
        "people-contractor",
        "people-post",
        "people-phone",
        "people-status",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect();
    let data: Vec<Vec<Value>> = rows
        .into_iter()
        .map(|p| {
            vec![
                p.code.into(),
                p.name.into(),
                p.unit_name.into(),
                p.contractor_name.into(),
                p.post.into(),
                p.phone.into(),
                lang.t(if p.active { "people-active" } else { "people-inactive" }).into(),
            ]
        })
        .collect();
    Ok(xlsx_file("people.xlsx", xlsx::ledger(&lang.t("people-title"), &headers, &data)?))
}

#[derive(Template)]
#[template(path = "people/expiring.html")]
struct ExpiringPage {
    chrome: Chrome,
    items: Vec<Expiring>,
    days: u32,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysQuery {
    /// Within this many days (default: the configured warning period, 30).
    #[param(minimum = 1, maximum = 366)]
    pub days: Option<u32>,
}

async fn expiring_items(state: &AppState, auth: &Auth, days: Option<u32>) -> Result<(Vec<Expiring>, u32), AppError> {
    let reach = view_reach(state, auth).await?;
    let days = match days {
        None => state.app().people_config().expiry_warning_days,
        Some(d @ 1..=366) => d,
        Some(_) => return Err(gridsafe_app::AppError::invalid("days", "field-days").into()),
    };
    Ok((people::expiring(state.app(), &reach, state.app().today(), days).await?, days))
}

async fn expiring_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<DaysQuery>,
) -> Result<Response, AppError> {
    let (items, days) = expiring_items(&state, &auth, q.days).await?;
    Ok(render(&ExpiringPage { chrome: Chrome::for_user(ctx, &auth.user), items, days }))
}

async fn expiring_export(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<DaysQuery>,
) -> Result<Response, AppError> {
    let (items, _) = expiring_items(&state, &auth, q.days).await?;
    let lang = Lang::ZhCn;
    let headers: Vec<String> = [
        "expiring-kind",
        "expiring-subject",
        "expiring-detail",
        "expiring-valid-to",
        "expiring-days-left",
        "people-unit",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect();
    let data: Vec<Vec<Value>> = items
        .into_iter()
        .map(|e| {
            let detail = if e.kind == "qualification" { kind_name(lang, &e.detail) } else { e.detail };
            vec![
                lang.t(&format!("expiring-kind-{}", e.kind)).into(),
                e.subject.into(),
                detail.into(),
                e.valid_to.into(),
                e.days_left.into(),
                e.unit_name.into(),
            ]
        })
        .collect();
    Ok(xlsx_file("expiring.xlsx", xlsx::ledger(&lang.t("expiring-title"), &headers, &data)?))
}

/// The JSON API of people.
pub mod api {
    use super::*;

    #[derive(Debug, Serialize, ToSchema)]
    pub struct PersonOut {
        pub id: i64,
        /// 工号
        pub code: String,
        pub name: String,
        pub unit_id: i64,
        pub unit_name: String,
        pub contractor_id: Option<i64>,
        pub contractor_name: Option<String>,
        pub post: Option<String>,
        pub active: bool,
    }

    impl From<PersonRow> for PersonOut {
        fn from(p: PersonRow) -> Self {
            Self {
                id: p.id.get(),
                code: p.code,
                name: p.name,
                unit_id: p.unit_id.get(),
                unit_name: p.unit_name,
                contractor_id: p.contractor_id,
                contractor_name: p.contractor_name,
                post: p.post,
                active: p.active,
            }
        }
    }

    #[derive(Debug, Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct PeopleQuery {
        /// Part of the 工号 or name.
        pub q: Option<String>,
        /// People a page holds at most (the default and the most: 5000).
        #[param(minimum = 1, maximum = 5000)]
        pub limit: Option<u32>,
        /// Where the page starts: the cursor in the `Link` header of the page before.
        #[param(pattern = "^([0-9a-f]{2})*~([0-9a-f]{2})*$")]
        pub after: Option<String>,
    }

    /// People a page of the API holds at most.
    const MAX_PAGE: u32 = 5000;

    /// People in the caller's reach, a page at a time.
    ///
    /// By unit and 工号; when more follow, the `Link` header names the next page.
    #[utoipa::path(get, path = "/api/v1/people", tag = "people", security(("bearer" = [])), params(PeopleQuery),
        responses((status = 200, body = Vec<PersonOut>, headers(("Link" = String, description = "`<…>; rel=\"next\"`: the next page, when more people follow"))),
            (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
    pub async fn list(
        State(state): State<AppState>,
        auth: Auth,
        ApiQuery(q): ApiQuery<PeopleQuery>,
    ) -> Result<crate::api::paging::Page<PersonOut>, AppError> {
        use crate::api::paging::{self, Page};
        let reach = view_reach(&state, &auth).await?;
        let limit = paging::limit(q.limit, MAX_PAGE)?;
        // The cursor: the last person shown, (unit path, 工号).
        let after = match q.after.as_deref() {
            None => None,
            Some(text) => Some(paging::read_text_cursor::<2>(text).ok_or_else(paging::bad_cursor)?),
        };
        let after = after.as_ref().map(|[path, code]| (path.as_str(), code.as_str()));
        let (rows, _) = people::people_page(state.app(), &reach, q.q.as_deref(), after, limit + 1).await?;
        let query = paging::kept(&[("q", q.q.as_deref())]);
        let page = Page::of(rows, limit, "/api/v1/people", &query, |p| paging::text_cursor(&[&p.unit_path, &p.code]));
        Ok(Page { rows: page.rows.into_iter().map(PersonOut::from).collect(), next: page.next })
    }

    #[derive(Debug, Serialize, ToSchema)]
    pub struct QualificationOut {
        pub id: i64,
        /// `safety_exam`, `work_leader`, `ticket_issuer`, `work_permitter`, `inspector`, …
        pub kind: String,
        pub title: Option<String>,
        pub valid_from: String,
        pub valid_to: String,
        pub level: Option<i64>,
        pub passed: bool,
        /// Recorded by the contractor and not yet confirmed by the supply company: satisfies no rule.
        pub draft: bool,
    }

    #[derive(Debug, Serialize, ToSchema)]
    pub struct PersonDetail {
        #[serde(flatten)]
        pub person: PersonOut,
        pub qualifications: Vec<QualificationOut>,
    }

    /// One person with their qualifications.
    #[utoipa::path(get, path = "/api/v1/people/{id}", tag = "people", security(("bearer" = [])),
        params(("id" = i64, Path, description = "Person id")),
        responses((status = 200, body = PersonDetail), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
    pub async fn get(
        State(state): State<AppState>,
        auth: Auth,
        ApiPath(id): ApiPath<PersonId>,
    ) -> Result<Json<PersonDetail>, AppError> {
        let reach = view_reach(&state, &auth).await?;
        let person = auth.checked(&state, people::person(state.app(), &reach, id).await).await?;
        let qualifications = people::qualifications_of(state.app(), id)
            .await?
            .into_iter()
            .map(|q| QualificationOut {
                id: q.id,
                kind: q.kind,
                title: q.title,
                valid_from: q.valid_from,
                valid_to: q.valid_to,
                level: q.level,
                passed: q.passed,
                draft: q.confirmed_at.is_none(),
            })
            .collect();
        Ok(Json(PersonDetail { person: person.into(), qualifications }))
    }

    #[derive(Debug, Deserialize, ToSchema)]
    pub struct PersonIn {
        /// 工号
        #[schema(pattern = "^[A-Za-z0-9._-]{1,40}$", example = "P001")]
        pub code: String,
        #[schema(pattern = "\\S", max_length = 100, example = "张伟")]
        pub name: String,
        #[schema(minimum = 1)]
        #[serde(deserialize_with = "crate::json::whole::i64")]
        pub unit_id: i64,
        #[schema(minimum = 1)]
        #[serde(default, deserialize_with = "crate::json::whole::opt_i64")]
        pub contractor_id: Option<i64>,
        #[schema(pattern = "^[0-9+ -]{0,20}$")]
        #[serde(default)]
        pub phone: String,
        #[schema(max_length = 50)]
        #[serde(default)]
        pub post: String,
    }

    /// Registers a person (a contractor's administrator: a worker of their own company).
    #[utoipa::path(post, path = "/api/v1/people", tag = "people", security(("bearer" = [])), request_body = PersonIn,
        responses((status = 201, body = PersonOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
            (status = 404, description = "No such unit or contractor", body = ErrorEnvelope), (status = 409, description = "工号 taken", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
    pub async fn create(
        State(state): State<AppState>,
        auth: Auth,
        ApiJson(input): ApiJson<PersonIn>,
    ) -> Result<Response, AppError> {
        let reach = manage_reach(&state, &auth).await?;
        let input = PersonInput {
            code: input.code,
            name: input.name,
            unit_id: UnitId::new(input.unit_id),
            contractor_id: input.contractor_id,
            phone: input.phone,
            post: input.post,
            active: true,
        };
        let id = auth.checked(&state, people::save_person(state.app(), &reach, &auth.meta, None, input).await).await?;
        let person = people::person(state.app(), &reach, id).await?;
        Ok((axum::http::StatusCode::CREATED, Json(PersonOut::from(person))).into_response())
    }

    #[derive(Debug, Deserialize, ToSchema)]
    pub struct QualificationIn {
        #[schema(schema_with = qualification_kinds)]
        pub kind: String,
        /// Required for `training` and `other`: the course or the certificate's name.
        #[serde(default)]
        #[schema(max_length = 100)]
        pub title: String,
        #[schema(format = Date, example = "2026-01-01")]
        pub valid_from: String,
        #[schema(format = Date, example = "2026-12-31")]
        pub valid_to: String,
        /// For `inspector`: 1, 2 or 3.
        #[schema(minimum = 1, maximum = 3)]
        #[serde(default, deserialize_with = "crate::json::whole::opt_i64")]
        pub level: Option<i64>,
        /// For `safety_exam`: the score (0–100) and whether it was passed.
        #[schema(minimum = 0, maximum = 100)]
        #[serde(default, deserialize_with = "crate::json::whole::opt_i64")]
        pub score: Option<i64>,
        #[serde(default = "yes")]
        pub passed: bool,
    }

    fn yes() -> bool {
        true
    }

    fn qualification_kinds() -> utoipa::openapi::schema::Object {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(QualificationKind::ALL.iter().map(|k| k.code())))
            .build()
    }

    #[derive(Debug, Serialize, ToSchema)]
    pub struct Created {
        pub id: i64,
    }

    /// Records a qualification of a person.
    #[utoipa::path(post, path = "/api/v1/people/{id}/qualifications", tag = "people", security(("bearer" = [])), request_body = QualificationIn,
        params(("id" = i64, Path, description = "Person id")),
        responses((status = 201, body = Created), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
    pub async fn add_qualification(
        State(state): State<AppState>,
        auth: Auth,
        ApiPath(id): ApiPath<PersonId>,
        ApiJson(q): ApiJson<QualificationIn>,
    ) -> Result<Response, AppError> {
        let reach = manage_reach(&state, &auth).await?;
        let input = QualificationInput {
            kind: q.kind,
            title: q.title,
            valid_from: q.valid_from,
            valid_to: q.valid_to,
            level: q.level,
            score: q.score,
            passed: q.passed,
            ..QualificationInput::default()
        };
        let qid =
            auth.checked(&state, people::add_qualification(state.app(), &reach, &auth.meta, id, input).await).await?;
        Ok((axum::http::StatusCode::CREATED, Json(Created { id: qid })).into_response())
    }

    /// Confirms a contractor's draft qualification on the supply company's side: only confirmed
    /// qualifications satisfy the rules.
    #[utoipa::path(post, path = "/api/v1/people/{id}/qualifications/{qid}/confirm", tag = "people", security(("bearer" = [])),
        params(("id" = i64, Path, description = "Person id"), ("qid" = i64, Path, description = "Qualification id")),
        responses((status = 204, description = "Confirmed"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope),
            (status = 409, description = "Already confirmed", body = ErrorEnvelope)))]
    pub async fn confirm_qualification(
        State(state): State<AppState>,
        auth: Auth,
        ApiPath((id, qid)): ApiPath<(PersonId, i64)>,
    ) -> Result<Response, AppError> {
        let cap = auth.require::<perm::PeopleManage>(&state).await?;
        auth.checked(&state, people::confirm_qualification(state.app(), &cap, &auth.meta, id, qid).await).await?;
        Ok(axum::http::StatusCode::NO_CONTENT.into_response())
    }

    #[derive(Debug, Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct MayActQuery {
        #[param(inline)]
        pub role: RoleParam,
        /// The day, `YYYY-MM-DD` (default today, China time).
        #[param(format = Date)]
        pub day: Option<String>,
        /// For `inspector`: the customer's voltage in kV (default 0.4, which every level covers).
        #[param(exclusive_minimum = 0.0)]
        pub voltage_kv: Option<f64>,
    }

    /// The role asked about.
    #[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum RoleParam {
        CrewMember,
        WorkLeader,
        TicketIssuer,
        WorkPermitter,
        Inspector,
    }

    #[derive(Debug, Serialize, ToSchema)]
    pub struct MayActOut {
        pub allowed: bool,
        pub day: String,
        /// Every rule that says no, with its source and what would make it right.
        pub refusals: Vec<Refusal>,
    }

    /// May this person act in this role on this day? If not, why.
    #[utoipa::path(get, path = "/api/v1/people/{id}/may-act", tag = "people", security(("bearer" = [])),
        params(("id" = i64, Path, description = "Person id"), MayActQuery),
        responses((status = 200, body = MayActOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
    pub async fn may_act(
        State(state): State<AppState>,
        ctx: PageContext,
        auth: Auth,
        ApiPath(id): ApiPath<PersonId>,
        ApiQuery(q): ApiQuery<MayActQuery>,
    ) -> Result<Json<MayActOut>, AppError> {
        let reach = view_reach(&state, &auth).await?;
        let invalid = |field: &'static str| AppError::from(gridsafe_app::AppError::invalid(field, "field-invalid"));
        // A voltage, when given, is a real one whatever the role (it is only used for inspectors).
        if q.voltage_kv.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
            return Err(invalid("voltage_kv"));
        }
        let role = match q.role {
            RoleParam::CrewMember => FieldRole::CrewMember,
            RoleParam::WorkLeader => FieldRole::WorkLeader,
            RoleParam::TicketIssuer => FieldRole::TicketIssuer,
            RoleParam::WorkPermitter => FieldRole::WorkPermitter,
            RoleParam::Inspector => FieldRole::Inspector { voltage_kv: q.voltage_kv.unwrap_or(0.4) },
        };
        let day = match q.day.as_deref() {
            Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| invalid("day"))?,
            None => state.app().today(),
        };
        let refusals = auth.checked(&state, people::may_act(state.app(), &reach, id, role, day).await).await?;
        Ok(Json(MayActOut {
            allowed: refusals.is_empty(),
            day: day.to_string(),
            refusals: refusals.iter().map(|v| refusal(ctx.lang, v)).collect(),
        }))
    }

    #[derive(Debug, Serialize, ToSchema)]
    pub struct ExpiringOut {
        /// `qualification`, `license` or `agreement`.
        pub kind: String,
        pub subject: String,
        pub detail: String,
        pub valid_to: String,
        pub days_left: i64,
        pub unit_id: i64,
    }

    /// Qualifications, licences and agreements in reach that expire within the period.
    #[utoipa::path(get, path = "/api/v1/expiring", tag = "people", security(("bearer" = [])), params(DaysQuery),
        responses((status = 200, body = Vec<ExpiringOut>), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
    pub async fn expiring(
        State(state): State<AppState>,
        auth: Auth,
        ApiQuery(q): ApiQuery<DaysQuery>,
    ) -> Result<Json<Vec<ExpiringOut>>, AppError> {
        let (items, _) = expiring_items(&state, &auth, q.days).await?;
        Ok(Json(
            items
                .into_iter()
                .map(|e| ExpiringOut {
                    kind: e.kind.to_owned(),
                    subject: e.subject,
                    detail: e.detail,
                    valid_to: e.valid_to,
                    days_left: e.days_left,
                    unit_id: e.unit_id.get(),
                })
                .collect(),
        ))
    }

    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PersonUpdateIn {
        /// 工号
        #[schema(pattern = "^[A-Za-z0-9._-]{1,40}$", example = "P001")]
        pub code: String,
        #[schema(pattern = "\\S", max_length = 100, example = "张伟")]
        pub name: String,
        #[schema(minimum = 1)]
        #[serde(deserialize_with = "crate::json::whole::i64")]
        pub unit_id: i64,
        #[schema(minimum = 1)]
        #[serde(default, deserialize_with = "crate::json::whole::opt_i64")]
        pub contractor_id: Option<i64>,
        #[schema(pattern = "^[0-9+ -]{0,20}$")]
        #[serde(default)]
        pub phone: String,
        #[schema(max_length = 50)]
        #[serde(default)]
        pub post: String,
        /// Still working (a retired person stays on record, on no new ticket).
        pub active: bool,
    }

    /// Changes a person's record, under the same rules as the page.
    #[utoipa::path(put, path = "/api/v1/people/{id}", tag = "people", security(("bearer" = [])), request_body = PersonUpdateIn,
        params(("id" = i64, Path, description = "Person id")),
        responses((status = 200, body = PersonOut), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
            (status = 404, body = ErrorEnvelope), (status = 409, description = "工号 taken", body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
    pub async fn update(
        State(state): State<AppState>,
        auth: Auth,
        ApiPath(id): ApiPath<PersonId>,
        ApiJson(input): ApiJson<PersonUpdateIn>,
    ) -> Result<Json<PersonOut>, AppError> {
        let reach = manage_reach(&state, &auth).await?;
        let input = PersonInput {
            code: input.code,
            name: input.name,
            unit_id: UnitId::new(input.unit_id),
            contractor_id: input.contractor_id,
            phone: input.phone,
            post: input.post,
            active: input.active,
        };
        let id =
            auth.checked(&state, people::save_person(state.app(), &reach, &auth.meta, Some(id), input).await).await?;
        Ok(Json(PersonOut::from(people::person(state.app(), &reach, id).await?)))
    }

    #[derive(Debug, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    pub struct RemovalIn {
        /// Why it is removed (entered in error, a duplicate …).
        #[schema(max_length = 500)]
        pub reason: String,
    }

    /// Removes a qualification entered in error, with the reason (audited; the record of what the
    /// rules decided with it stays).
    #[utoipa::path(post, path = "/api/v1/people/{id}/qualifications/{qid}/remove", tag = "people", security(("bearer" = [])),
        params(("id" = i64, Path, description = "Person id"), ("qid" = i64, Path, description = "Qualification id")), request_body = RemovalIn,
        responses((status = 204, description = "Removed"), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
            (status = 404, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
    pub async fn remove_qualification(
        State(state): State<AppState>,
        auth: Auth,
        ApiPath((id, qid)): ApiPath<(PersonId, i64)>,
        ApiJson(r): ApiJson<RemovalIn>,
    ) -> Result<axum::http::StatusCode, AppError> {
        let reach = manage_reach(&state, &auth).await?;
        auth.checked(&state, people::delete_qualification(state.app(), &reach, &auth.meta, id, qid, &r.reason).await)
            .await?;
        Ok(axum::http::StatusCode::NO_CONTENT)
    }
}
