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
    let d = supervision::dashboard(state.app(), &cap, &month).await?;
    let filter = match q.person {
        Some(p) => ViolationFilter { person: Some(PersonId::new(p)), ..ViolationFilter::default() },
        None => ViolationFilter {
            from: Some(Timestamp::start_of_local_day(first)),
            to: Some(Timestamp::start_of_local_day(next)),
            ..ViolationFilter::default()
        },
    };
    let violations = supervision::list(state.app(), &cap, &filter, 500).await?;
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
}

impl NewPage {
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
}

async fn new_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<NewQuery>,
) -> Result<Response, AppError> {
    auth.require::<perm::ViolationsRecord>(&state).await?;
    let rules = state.app().people_config().points_rules();
    Ok(render(&NewPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        catalogue: supervision::catalogue(state.app()).await?,
        offenders: Offender::ALL,
        classes: Class::ALL,
        severities: Severity::ALL,
        points: Severity::ALL.iter().map(|s| (s.code(), i64::from(rules.points_of(*s)))).collect(),
        ticket: q.ticket.chars().take(40).collect(),
        now: state.app().now().local_input(),
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
