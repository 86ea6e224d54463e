//! Work plans (作业计划) pages: a unit's plans, one plan with its items, shared sites and people
//! planned twice, the merge of a shared site, approval and publication, and changes after
//! publication with their reason.

pub mod api;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::plans::{self, ItemInput, MergeInput, PlanDetail, PlanInput, PlanRow};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::plans::{Conflict, PlanState, PlanStep};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::form::Form;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/plans", list_page)
        .get("/plans/week", week_page)
        .post("/plans", create)
        .get("/plans/{id}", detail_page)
        .get("/plans/{id}/print", print_page)
        .get("/plans/{id}/export.xlsx", export)
        .post("/plans/{id}/items", add_item)
        .post("/plans/{id}/import", import)
        .post("/plans/{id}/items/{item}/remove", remove_item)
        .post("/plans/{id}/merge", merge)
        .post("/plans/{id}/steps", step)
}

#[derive(Template)]
#[template(path = "plans/list.html")]
struct ListPage {
    chrome: Chrome,
    plans: Vec<PlanRow>,
    can_write: bool,
    units: Vec<crate::admin::UnitOption>,
    next_monday: String,
}

async fn list_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansView>(&state).await?;
    let rows = plans::list_plans(state.app(), &cap, 200).await?;
    let today = state.app().today();
    let next_monday =
        today + chrono::Duration::days(7 - i64::from(chrono::Datelike::weekday(&today).num_days_from_monday()));
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    Ok(render(&ListPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        plans: rows,
        can_write: auth.user.principal.authorize::<perm::PlansWrite>().is_ok(),
        units,
        next_monday: next_monday.to_string(),
    }))
}

#[derive(Debug, Default, Deserialize)]
struct WeekQuery {
    /// Any day of the week to show (`YYYY-MM-DD`); this week when absent or unreadable.
    #[serde(default)]
    day: String,
}

#[derive(Template)]
#[template(path = "plans/week.html")]
struct WeekPage {
    chrome: Chrome,
    monday: chrono::NaiveDate,
    days: Vec<plans::Day>,
    today: chrono::NaiveDate,
    shows_outages: bool,
    shows_tickets: bool,
}

impl WeekPage {
    fn previous(&self) -> String {
        (self.monday - chrono::Duration::days(7)).to_string()
    }

    fn next(&self) -> String {
        (self.monday + chrono::Duration::days(7)).to_string()
    }

    fn weekday(&self, day: &chrono::NaiveDate) -> String {
        let n = chrono::Datelike::weekday(day).number_from_monday();
        self.chrome.t(&format!("weekday-{n}")).into_owned()
    }

    /// `HH:MM` of a time on its day.
    fn clock(&self, at: &gridsafe_domain::time::Timestamp) -> String {
        at.local_display().rsplit(' ').next().unwrap_or_default().to_owned()
    }
}

/// A unit's week on one screen: each day's plan items, outages and tickets.
async fn week_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    axum::extract::Query(q): axum::extract::Query<WeekQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansView>(&state).await?;
    let today = state.app().today();
    let day = chrono::NaiveDate::parse_from_str(q.day.trim(), "%Y-%m-%d").unwrap_or(today);
    let monday = day - chrono::Duration::days(i64::from(chrono::Datelike::weekday(&day).num_days_from_monday()));
    let p = &auth.user.principal;
    let outages = p.authorize::<perm::OutagesView>().ok();
    let tickets = p.authorize::<perm::TicketsView>().ok();
    let days = plans::week(state.app(), &cap, outages.as_ref(), tickets.as_ref(), monday).await?;
    Ok(render(&WeekPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        monday,
        days,
        today,
        shows_outages: outages.is_some(),
        shows_tickets: tickets.is_some(),
    }))
}

#[derive(Debug, Deserialize)]
struct PlanForm {
    unit_id: UnitId,
    kind: String,
    first_day: String,
}

async fn create(State(state): State<AppState>, auth: Auth, Form(f): Form<PlanForm>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansWrite>(&state).await?;
    let input = PlanInput { unit_id: f.unit_id, kind: f.kind, first_day: f.first_day };
    let id = auth.checked(&state, plans::create_plan(state.app(), &cap, &auth.meta, input).await).await?;
    Ok(Redirect::to(&format!("/plans/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "plans/detail.html")]
struct DetailPage {
    chrome: Chrome,
    d: PlanDetail,
    can_write: bool,
    can_approve: bool,
    units: Vec<crate::admin::UnitOption>,
    /// Items just imported, or the problems of a refused import.
    imported: Option<usize>,
    problems: Vec<String>,
    columns: Vec<(&'static str, &'static str, bool)>,
}

impl DetailPage {
    fn risk(&self, n: &usize) -> String {
        risk_of(&self.d, self.chrome.lang, *n)
    }

    fn risk_level(&self, n: &usize) -> u8 {
        self.d.risks.get(*n).map_or(0, |g| g.level)
    }

    fn unmerged(&self) -> Vec<(String, String, usize)> {
        self.d
            .conflicts
            .iter()
            .filter_map(|c| match c {
                Conflict::SharedSite { day, items, merged: false, .. } => {
                    Some((day.to_string(), self.site_text(items), items.len()))
                }
                _ => None,
            })
            .collect()
    }

    /// A site as its first item writes it.
    fn site_text(&self, items: &[i64]) -> String {
        self.d.items.iter().find(|i| items.contains(&i.item.id)).map(|i| i.item.site.clone()).unwrap_or_default()
    }

    fn name_of(&self, person: &gridsafe_domain::ids::PersonId) -> String {
        name_of(&self.d, person)
    }

    /// `工号 姓名` of each person planned twice at once, with the two items' sites.
    fn twice(&self) -> Vec<(String, String, String)> {
        let name = |p: gridsafe_domain::ids::PersonId| self.name_of(&p);
        self.d
            .conflicts
            .iter()
            .filter_map(|c| match c {
                Conflict::PersonTwice { person, items: (a, b) } => {
                    Some((name(*person), self.site_text(&[*a]), self.site_text(&[*b])))
                }
                _ => None,
            })
            .collect()
    }

    fn editable(&self) -> bool {
        self.can_write && self.d.plan.state != PlanState::Approved
    }

    /// A shared site is merged while the plan is not yet published.
    fn can_merge(&self) -> bool {
        self.can_write && !self.published()
    }

    fn published(&self) -> bool {
        self.d.plan.state == PlanState::Published
    }

    fn offers(&self, step: &str) -> bool {
        self.can_approve
            && matches!(
                (self.d.plan.state, step),
                (PlanState::Draft, "approve") | (PlanState::Approved, "publish" | "return")
            )
    }
}

#[derive(Debug, Default, Deserialize)]
struct DetailQuery {
    #[serde(default)]
    imported: Option<usize>,
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<DetailQuery>,
) -> Result<Response, AppError> {
    detail(&state, ctx, &auth, id, q.imported, Vec::new()).await
}

async fn detail(
    state: &AppState,
    ctx: PageContext,
    auth: &Auth,
    id: i64,
    imported: Option<usize>,
    problems: Vec<String>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansView>(state).await?;
    let d = auth.checked(state, plans::plan(state.app(), &cap, id).await).await?;
    let p = &auth.user.principal;
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let refused = !problems.is_empty();
    let mut response = render(&DetailPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        can_write: p.authorize::<perm::PlansWrite>().is_ok(),
        can_approve: p.authorize::<perm::PlansApprove>().is_ok(),
        units,
        d,
        imported,
        problems,
        columns: plans::IMPORT_COLUMNS.iter().map(|c| (c.zh, c.key, c.required)).collect(),
    });
    if refused {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// Items from a spreadsheet: all added, or every problem shown and nothing added.
async fn import(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
    mut multipart: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansWrite>(&state).await?;
    let (files, fields) = crate::people::upload_form(&mut multipart, "reason").await?;
    let reason = fields.unwrap_or_default();
    let result = plans::import_items(state.app(), &cap, &auth.meta, id, &files, &reason).await;
    match auth.checked(&state, result).await? {
        Ok(n) => Ok(Redirect::to(&format!("/plans/{id}?imported={n}")).into_response()),
        Err(problems) => {
            let lang = ctx.lang;
            let words = problems.iter().take(200).map(|p| crate::customers::row_problem(lang, p)).collect();
            detail(&state, ctx, &auth, id, None, words).await
        }
    }
}

/// `工号 姓名` of a person on the plan's items (the organiser of a merge may not be on any).
fn name_of(d: &PlanDetail, person: &gridsafe_domain::ids::PersonId) -> String {
    d.items
        .iter()
        .find_map(|i| i.item.people.iter().position(|q| q == person).and_then(|n| i.names.get(n).cloned()))
        .unwrap_or_else(|| format!("#{person}"))
}

#[derive(Template)]
#[template(path = "plans/print.html")]
struct PrintPage {
    chrome: Chrome,
    d: PlanDetail,
}

impl PrintPage {
    fn name_of(&self, person: &gridsafe_domain::ids::PersonId) -> String {
        name_of(&self.d, person)
    }

    fn risk(&self, n: &usize) -> String {
        risk_of(&self.d, self.chrome.lang, *n)
    }
}

/// The risk grade of the plan's `n`th item, in words.
fn risk_of(d: &PlanDetail, lang: crate::i18n::Lang, n: usize) -> String {
    d.risks.get(n).map(|g| crate::tickets::risk_label(lang, g)).unwrap_or_default()
}

/// The plan as printed for the notice board and the file: items, merged sites with their
/// organisers and measures, changes after publication, and the lines for signatures.
async fn print_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansView>(&state).await?;
    let d = auth.checked(&state, plans::plan(state.app(), &cap, id).await).await?;
    Ok(render(&PrintPage { chrome: Chrome::for_user(ctx, &auth.user), d }))
}

/// The plan's items as `.xlsx`.
async fn export(State(state): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Response, AppError> {
    use gridsafe_app::xlsx::{self, Value};
    let cap = auth.require::<perm::PlansView>(&state).await?;
    let d = auth.checked(&state, plans::plan(state.app(), &cap, id).await).await?;
    let lang = crate::i18n::Lang::ZhCn;
    let headers: Vec<String> = [
        "plans-start",
        "plans-end",
        "plans-site",
        "ticket-work-kind",
        "plans-team",
        "plans-people",
        "plans-outage",
        "plans-note",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect();
    let data: Vec<Vec<Value>> = d
        .items
        .into_iter()
        .map(|i| {
            vec![
                i.item.start.local_display().into(),
                i.item.end.local_display().into(),
                i.item.site.into(),
                lang.t(&format!("order-type-{}", i.item.work_kind.code())).into(),
                i.team_name.into(),
                i.names.join("、").into(),
                if i.outage { lang.t("plans-outage").into() } else { Value::Empty },
                i.note.into(),
            ]
        })
        .collect();
    let sheet = format!("{} {}", lang.t(&format!("plan-kind-{}", d.plan.kind.code())), d.plan.first_day);
    let name = format!("plan-{}-{}.xlsx", d.plan.unit_id, d.plan.first_day);
    Ok(crate::people::xlsx_file(&name, xlsx::ledger(&sheet, &headers, &data)?))
}

#[derive(Debug, Deserialize)]
struct ItemForm {
    start: String,
    end: String,
    site: String,
    work_kind: String,
    team_id: UnitId,
    #[serde(default)]
    leader: String,
    #[serde(default)]
    crew: String,
    #[serde(default)]
    outage: Option<String>,
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
}

async fn add_item(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<ItemForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansWrite>(&state).await?;
    let input = ItemInput {
        start: f.start.replace('T', " "),
        end: f.end.replace('T', " "),
        site: f.site,
        work_kind: f.work_kind,
        team_id: f.team_id,
        leader: f.leader,
        crew: f.crew,
        outage: f.outage.is_some(),
        note: f.note,
        reason: f.reason,
    };
    auth.checked(&state, plans::add_item(state.app(), &cap, &auth.meta, id, input).await).await?;
    Ok(Redirect::to(&format!("/plans/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn remove_item(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, item)): Path<(i64, i64)>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansWrite>(&state).await?;
    auth.checked(&state, plans::remove_item(state.app(), &cap, &auth.meta, id, item, &f.reason).await).await?;
    Ok(Redirect::to(&format!("/plans/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
struct MergeForm {
    day: String,
    site: String,
    organiser: String,
    #[serde(default)]
    measures: String,
}

async fn merge(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<MergeForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansWrite>(&state).await?;
    let input = MergeInput { day: f.day, site: f.site, organiser: f.organiser, measures: f.measures };
    auth.checked(&state, plans::merge_site(state.app(), &cap, &auth.meta, id, &input).await).await?;
    Ok(Redirect::to(&format!("/plans/{id}")).into_response())
}

#[derive(Debug, Deserialize)]
struct StepForm {
    step: String,
    #[serde(default)]
    reason: String,
}

async fn step(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<StepForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::PlansApprove>(&state).await?;
    let step = PlanStep::from_code(f.step.trim())
        .ok_or_else(|| AppError::from(gridsafe_app::AppError::invalid("step", "field-plan-step")))?;
    auth.checked(&state, plans::take_step(state.app(), &cap, &auth.meta, id, step, &f.reason).await).await?;
    Ok(Redirect::to(&format!("/plans/{id}")).into_response())
}
