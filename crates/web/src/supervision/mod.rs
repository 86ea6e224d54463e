//! On-site supervision pages (现场安全管控): a manager's arrival and departure at a ticket's site
//! (到岗到位, from the ticket's page on a phone), the violation register with its month's
//! figures (看板) and `.xlsx`, recording a violation with its photo, one violation with its
//! review meeting (说清楚), and a suspended person's re-admission (再准入).

pub mod api;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use gridsafe_app::supervision::{
    self, ArrivalInput, CatalogueEntry, Dashboard, Position, ReadmissionInput, ViolationDetail, ViolationFilter,
    ViolationInput, ViolationRow,
};
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::{PersonId, TicketId};
use gridsafe_domain::supervision::{Class, Offender, Severity};
use gridsafe_domain::time::Timestamp;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::form::Form;
use crate::layout::{Chrome, render};
use crate::outages::{month_of, next_month};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/violations", list_page)
        .get("/violations.xlsx", export)
        .get("/violations/new", new_page)
        .post("/violations", create)
        .get("/violations/{id}", detail_page)
        .post("/violations/{id}/review", review)
        .post("/tickets/{id}/arrival", arrive)
        .post("/tickets/{id}/departure", depart)
        .post("/people/{id}/readmission", readmit)
        .get("/tickets/{id}/checks/new", new_check_page)
        .post("/tickets/{id}/checks", create_check)
        .get("/checks/{id}", check_page)
        .get("/violations/catalogue", catalogue_page)
        .post("/violations/catalogue", import_catalogue)
}

/// A position from a form's hidden fields (filled by the page's script when the phone gives one).
fn position(lat: &str, lon: &str, accuracy: &str) -> Option<Position> {
    let lat = lat.trim().parse::<f64>().ok()?;
    let lon = lon.trim().parse::<f64>().ok()?;
    Some(Position { lat, lon, accuracy_m: accuracy.trim().parse::<f64>().ok() })
}

async fn arrive(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<TicketId>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::SupervisionAttend>(&state).await?;
    let (fields, photo) = crate::customers::file_form(&mut multipart, "photo").await?;
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    let input = ArrivalInput {
        position: position(field("lat"), field("lon"), field("accuracy")),
        note: field("note").to_owned(),
        photo,
    };
    auth.checked(&state, supervision::arrive(state.app(), &cap, &auth.meta, id, input).await).await?;
    Ok(Redirect::to(&format!("/tickets/{id}#onsite")).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct DepartForm {
    #[serde(default)]
    lat: String,
    #[serde(default)]
    lon: String,
}

async fn depart(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<TicketId>,
    Form(f): Form<DepartForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::SupervisionAttend>(&state).await?;
    let at = position(&f.lat, &f.lon, "");
    auth.checked(&state, supervision::depart(state.app(), &cap, &auth.meta, id, at).await).await?;
    Ok(Redirect::to(&format!("/tickets/{id}#onsite")).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    month: String,
    #[serde(default)]
    person: Option<i64>,
}

/// A bar of the dashboard: its label, count, and width (px) against the largest.
struct Bar {
    label: String,
    count: usize,
    width: usize,
}

fn bars(rows: Vec<(String, usize)>) -> Vec<Bar> {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    rows.into_iter().map(|(label, count)| Bar { label, count, width: count * 240 / max }).collect()
}

#[derive(Template)]
#[template(path = "supervision/list.html")]
struct ListPage {
    chrome: Chrome,
    month: String,
    previous: String,
    next: String,
    d: Dashboard,
    /// `(title key, data key, bars)` of each breakdown with something in it.
    charts: Vec<(&'static str, &'static str, Vec<Bar>)>,
    violations: Vec<ViolationRow>,
    can_record: bool,
}

async fn list_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ViolationsView>(&state).await?;
    let first = month_of(&q.month, state.app().today());
    let next = next_month(first);
    let previous = (first - Duration::days(1)).format("%Y-%m").to_string();
    let month = first.format("%Y-%m").to_string();
    let mut d = supervision::dashboard(state.app(), &cap, &month).await?;
    // The month's own violations are the dashboard's; one person's are asked for.
    let violations = match q.person {
        Some(p) => {
            let filter = ViolationFilter { person: Some(PersonId::new(p)), ..ViolationFilter::default() };
            supervision::list(state.app(), &cap, &filter, 500).await?
        }
        None => std::mem::take(&mut d.violations).into_iter().take(500).collect(),
    };
    let lang = ctx.lang;
    let by_class =
        bars(d.by_class.iter().map(|(c, n)| (lang.t(&format!("violation-class-{}", c.code())), *n)).collect());
    let by_severity =
        bars(d.by_severity.iter().map(|(s, n)| (lang.t(&format!("violation-severity-{}", s.code())), *n)).collect());
    Ok(render(&ListPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        month,
        previous,
        next: next.format("%Y-%m").to_string(),
        charts: [
            ("violations-by-class", "class", by_class),
            ("violations-by-severity", "severity", by_severity),
            ("violations-by-unit", "unit", bars(d.by_unit.clone())),
            ("violations-by-team", "team", bars(d.by_team.clone())),
            ("violations-by-contractor", "contractor", bars(d.by_contractor.clone())),
        ]
        .into_iter()
        .filter(|c| !c.2.is_empty())
        .collect(),
        d,
        violations,
        can_record: auth.user.principal.authorize::<perm::ViolationsRecord>().is_ok(),
    }))
}

async fn export(State(state): State<AppState>, auth: Auth, Query(q): Query<ListQuery>) -> Result<Response, AppError> {
    use gridsafe_app::xlsx::{self, Value};
    let cap = auth.require::<perm::ViolationsView>(&state).await?;
    let first = month_of(&q.month, state.app().today());
    let filter = ViolationFilter {
        from: Some(Timestamp::start_of_local_day(first)),
        to: Some(Timestamp::start_of_local_day(next_month(first))),
        ..ViolationFilter::default()
    };
    let rows = supervision::list(state.app(), &cap, &filter, 10_000).await?;
    let lang = crate::i18n::Lang::ZhCn;
    let headers: Vec<String> = [
        "violation-number",
        "people-unit",
        "violation-occurred",
        "violation-place",
        "violation-offender",
        "violation-who",
        "violation-contractor",
        "violation-ticket",
        "violation-class",
        "violation-severity",
        "violation-points",
        "violation-rule",
        "violation-description",
        "violation-recorded-by",
        "violation-review",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect();
    let data: Vec<Vec<Value>> = rows
        .into_iter()
        .map(|v| {
            let who = v.person.clone().or(v.customer.clone()).or(v.team.clone());
            vec![
                v.number.into(),
                v.unit_name.into(),
                v.occurred_at.local_display().into(),
                v.place.into(),
                lang.t(&format!("violation-offender-{}", v.offender.code())).into(),
                who.into(),
                v.contractor.into(),
                v.ticket_number.into(),
                lang.t(&format!("violation-class-{}", v.class.code())).into(),
                lang.t(&format!("violation-severity-{}", v.severity.code())).into(),
                Value::from(v.points),
                v.rule_broken.into(),
                v.description.into(),
                format!("{} {}", v.recorded_by, v.recorded_at.local_display()).into(),
                v.reviewed_at.map(|t| t.local_display()).into(),
            ]
        })
        .collect();
    let name = format!("violations-{}.xlsx", first.format("%Y-%m"));
    Ok(crate::people::xlsx_file(&name, xlsx::ledger(&lang.t("violations-title"), &headers, &data)?))
}

#[derive(Template)]
#[template(path = "supervision/new.html")]
struct NewPage {
    chrome: Chrome,
    catalogue: Vec<CatalogueEntry>,
    offenders: &'static [Offender],
    classes: &'static [Class],
    severities: &'static [Severity],
    /// `(severity code, points)` of the deployment.
    points: Vec<(&'static str, i64)>,
    ticket: String,
    now: String,
    /// Found at a failed item of an on-site check: the check, the item, its list entry and words.
    check: Option<(i64, gridsafe_app::supervision::CheckResult)>,
}

impl NewPage {
    /// Whether list entry `code` is the one of the failed check item.
    fn preselected(&self, code: &str) -> bool {
        self.check.as_ref().is_some_and(|(_, item)| item.catalogue_code.as_deref() == Some(code))
    }

    /// "（n 分）" of a severity.
    fn points_of(&self, code: &str) -> String {
        self.points
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, p)| format!("（{}）", self.chrome.t1("violations-points-of", "points", *p)))
            .unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
struct NewQuery {
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    check: Option<i64>,
    #[serde(default)]
    item: Option<i64>,
}

async fn new_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ViolationsRecord>(&state).await?;
    let rules = state.app().people_config().points_rules();
    let mut ticket: String = q.ticket.chars().take(40).collect();
    let check = match (q.check, q.item) {
        (Some(check), Some(item)) => {
            let d = auth.checked(&state, supervision::check(state.app(), &cap, check).await).await?;
            ticket = d.row.ticket_number.clone();
            d.results.into_iter().find(|r| r.position == item).map(|r| (check, r))
        }
        _ => None,
    };
    Ok(render(&NewPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        catalogue: supervision::catalogue(state.app()).await?,
        offenders: Offender::ALL,
        classes: Class::ALL,
        severities: Severity::ALL,
        points: Severity::ALL.iter().map(|s| (s.code(), i64::from(rules.points_of(*s)))).collect(),
        ticket,
        now: state.app().now().local_input(),
        check,
    }))
}

async fn create(State(state): State<AppState>, auth: Auth, mut multipart: Multipart) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ViolationsRecord>(&state).await?;
    let (fields, photo) = crate::customers::file_form(&mut multipart, "photo").await?;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let input = ViolationInput {
        offender: field("offender"),
        person: field("person"),
        contractor: field("contractor"),
        customer: field("customer"),
        team: field("team"),
        ticket: field("ticket"),
        occurred_at: field("occurred_at"),
        place: field("place"),
        class: field("class"),
        severity: field("severity"),
        catalogue: field("catalogue"),
        rule_broken: field("rule_broken"),
        description: field("description"),
        responsible: field("responsible"),
        deadline: field("deadline"),
        photo,
        check: field("check").trim().parse::<i64>().ok().zip(field("check_item").trim().parse::<i64>().ok()),
    };
    let done = auth.checked(&state, supervision::record(state.app(), &cap, &auth.meta, input).await).await?;
    Ok(Redirect::to(&format!("/violations/{}", done.id)).into_response())
}

#[derive(Template)]
#[template(path = "supervision/detail.html")]
struct DetailPage {
    chrome: Chrome,
    item: ViolationDetail,
    can_review: bool,
    can_readmit: bool,
    today: String,
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ViolationsView>(&state).await?;
    let v = auth.checked(&state, supervision::violation(state.app(), &cap, id).await).await?;
    let reviewer = auth.user.principal.authorize::<perm::ViolationsReview>().is_ok();
    Ok(render(&DetailPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        can_review: reviewer && v.row.severity.needs_review() && v.row.reviewed_at.is_none(),
        can_readmit: reviewer && v.standing.as_ref().is_some_and(|s| s.suspended()),
        today: state.app().today().to_string(),
        item: v,
    }))
}

impl DetailPage {
    /// "points in the period of threshold", in words.
    fn standing_text(&self) -> String {
        self.item.standing.as_ref().map_or_else(String::new, |s| {
            self.chrome.t2(
                "violation-standing-points",
                "points",
                i64::from(s.points),
                "threshold",
                i64::from(s.threshold),
            )
        })
    }
}

#[derive(Debug, Default, Deserialize)]
struct ReviewForm {
    #[serde(default)]
    note: String,
}

async fn review(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<ReviewForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ViolationsReview>(&state).await?;
    auth.checked(&state, supervision::record_review(state.app(), &cap, &auth.meta, id, &f.note).await).await?;
    Ok(Redirect::to(&format!("/violations/{id}#review")).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct ReadmitForm {
    #[serde(default)]
    trained_on: String,
    #[serde(default)]
    exam_on: String,
    #[serde(default)]
    score: String,
    #[serde(default)]
    passed: Option<String>,
    #[serde(default)]
    note: String,
    /// Where to return: a violation's page, else the person's.
    #[serde(default)]
    back: Option<i64>,
}

async fn readmit(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<PersonId>,
    Form(f): Form<ReadmitForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ViolationsReview>(&state).await?;
    let input = ReadmissionInput {
        trained_on: f.trained_on,
        exam_on: f.exam_on,
        score: f.score,
        passed: f.passed.is_some(),
        note: f.note,
    };
    auth.checked(&state, supervision::readmit(state.app(), &cap, &auth.meta, id, input).await).await?;
    let to = match f.back {
        Some(v) => format!("/violations/{v}#standing"),
        None => format!("/people/{id}"),
    };
    Ok(Redirect::to(&to).into_response())
}

#[derive(Template)]
#[template(path = "supervision/check_new.html")]
struct NewCheckPage {
    chrome: Chrome,
    ticket: gridsafe_app::tickets::TicketDetail,
    templates: Vec<gridsafe_app::supervision::CheckTemplate>,
    /// The template to fill: asked for, else the one for the ticket's work.
    template: gridsafe_app::supervision::CheckTemplate,
}

#[derive(Debug, Default, Deserialize)]
struct TemplateQuery {
    #[serde(default)]
    template: String,
}

async fn new_check_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<TicketId>,
    Query(q): Query<TemplateQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ViolationsRecord>(&state).await?;
    let ticket = auth.checked(&state, gridsafe_app::tickets::ticket(state.app(), &cap, id).await).await?;
    let templates = supervision::templates(state.app()).await?;
    let template = templates
        .iter()
        .find(|t| t.code == q.template)
        .or_else(|| supervision::template_for(&templates, ticket.row.work_kind.code()))
        .or(templates.first())
        .cloned()
        .ok_or(AppError::from(gridsafe_app::AppError::NotFound))?;
    Ok(render(&NewCheckPage { chrome: Chrome::for_user(ctx, &auth.user), ticket, templates, template }))
}

async fn create_check(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<TicketId>,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ViolationsRecord>(&state).await?;
    let (fields, photo) = crate::customers::file_form(&mut multipart, "photo").await?;
    let mut answers: Vec<(i64, String, String)> = fields
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("item-").and_then(|p| p.parse::<i64>().ok()).map(|p| (p, v.clone(), String::new()))
        })
        .collect();
    for (position, _, note) in &mut answers {
        *note = fields.get(&format!("note-{position}")).cloned().unwrap_or_default();
    }
    let input = gridsafe_app::supervision::CheckInput {
        template: fields.get("template").cloned().unwrap_or_default(),
        answers,
        note: fields.get("note").cloned().unwrap_or_default(),
        photo,
    };
    let check = auth.checked(&state, supervision::record_check(state.app(), &cap, &auth.meta, id, input).await).await?;
    Ok(Redirect::to(&format!("/checks/{check}")).into_response())
}

#[derive(Template)]
#[template(path = "supervision/check.html")]
struct CheckPage {
    chrome: Chrome,
    d: gridsafe_app::supervision::CheckDetail,
    can_record: bool,
}

impl CheckPage {
    /// The violations recorded from item `position`: (id, number).
    fn violations_at(&self, position: &i64) -> Vec<(i64, String)> {
        self.d.violations.iter().filter(|(p, _, _)| p == position).map(|(_, id, n)| (*id, n.clone())).collect()
    }
}

async fn check_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ViolationsView>(&state).await?;
    let d = auth.checked(&state, supervision::check(state.app(), &cap, id).await).await?;
    Ok(render(&CheckPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        d,
        can_record: auth.user.principal.authorize::<perm::ViolationsRecord>().is_ok(),
    }))
}

#[derive(Template)]
#[template(path = "supervision/catalogue.html")]
struct CataloguePage {
    chrome: Chrome,
    entries: Vec<CatalogueEntry>,
    can_import: bool,
    /// What the last import did, in words.
    imported: Option<String>,
    problems: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ImportedQuery {
    #[serde(default)]
    added: Option<i64>,
    #[serde(default)]
    updated: Option<i64>,
}

async fn catalogue_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<ImportedQuery>,
) -> Result<Response, AppError> {
    auth.require::<perm::ViolationsView>(&state).await?;
    let imported = match (q.added, q.updated) {
        (Some(added), Some(updated)) => {
            Some(ctx.lang.t_args("vlist-imported", &[("added", added.into()), ("updated", updated.into())]))
        }
        _ => None,
    };
    catalogue(&state, ctx, &auth, imported, Vec::new()).await
}

async fn catalogue(
    state: &AppState,
    ctx: PageContext,
    auth: &Auth,
    imported: Option<String>,
    problems: Vec<String>,
) -> Result<Response, AppError> {
    let refused = !problems.is_empty();
    let mut response = render(&CataloguePage {
        entries: supervision::catalogue(state.app()).await?,
        can_import: auth.user.principal.authorize::<perm::ViolationsReview>().is_ok(),
        imported,
        problems,
        chrome: Chrome::for_user(ctx, &auth.user),
    });
    if refused {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// A violation list from a spreadsheet: all of it, or every problem shown and nothing changed.
async fn import_catalogue(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::ViolationsReview>(&state).await?;
    let (files, _) = crate::people::upload_form(&mut multipart, "note").await?;
    let result = supervision::import_catalogue(state.app(), &cap, &auth.meta, &files).await;
    match auth.checked(&state, result).await? {
        Ok((added, updated)) => {
            Ok(Redirect::to(&format!("/violations/catalogue?added={added}&updated={updated}")).into_response())
        }
        Err(problems) => {
            let lang = ctx.lang;
            let words = problems.iter().take(200).map(|p| crate::customers::row_problem(lang, p)).collect();
            catalogue(&state, ctx, &auth, None, words).await
        }
    }
}
