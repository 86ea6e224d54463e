//! Cross-audit in the application (营销倒查): import of the marketing system's work orders and
//! meter events, the findings with their evidence, review, rectification tasks, KPIs.

pub mod api;

use crate::form::Form;
use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::findings::{self, FindingDetail, FindingFilter, FindingRow, TaskInput, TaskRow, UnitMonthKpi};
use gridsafe_app::xlsx::{self, Value};
use gridsafe_crossaudit::engine::Rule;
use gridsafe_domain::access::perm;
use gridsafe_domain::findings::{FindingState, Review};
use gridsafe_domain::plans::PlanAudit;
use gridsafe_domain::projects::audit as project;
use gridsafe_domain::supervision::audit as onsite;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/findings", list_page)
        .get("/findings.xlsx", export)
        .get("/findings/import", import_page)
        .post("/findings/import", import)
        .post("/findings/run", run_now)
        .get("/findings/kpi", kpi_page)
        .get("/findings/{id}", detail_page)
        .post("/findings/{id}/review", review)
        .get("/tasks", tasks_page)
        .post("/tasks/{id}/close", close_task)
}

/// A rule's Chinese name (as the spec gives it) and its source.
pub fn rule_name(code: &str) -> String {
    match (Rule::from_code(code), PlanAudit::from_code(code)) {
        (Some(r), _) => r.chinese().to_owned(),
        (None, Some(r)) => r.chinese().to_owned(),
        (None, None) if code == onsite::CODE => onsite::CHINESE.to_owned(),
        (None, None) if code == project::CODE => project::CHINESE.to_owned(),
        (None, None) => code.to_owned(),
    }
}

/// The rule's regulation (for everyone) and origin (for administrators).
fn rule_source(code: &str) -> (&'static str, &'static str) {
    match (Rule::from_code(code), PlanAudit::from_code(code)) {
        (Some(r), _) => (r.regulation(), r.origin()),
        (None, Some(r)) => (r.regulation(), r.origin()),
        (None, None) if code == onsite::CODE => (onsite::REGULATION, onsite::ORIGIN),
        (None, None) if code == project::CODE => (project::REGULATION, project::ORIGIN),
        (None, None) => ("", ""),
    }
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    rule: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    unit: String,
    /// Where the page starts: the last row of the one before (month, rule, entity, subject,
    /// separated by U+001F).
    #[serde(default)]
    after: String,
}

/// Rows per page of the findings list.
const PAGE: u32 = 200;

impl ListQuery {
    fn after(&self) -> Option<findings::After> {
        let mut parts = self.after.split('\u{1f}');
        let (Some(month), Some(rule), Some(entity_id), Some(subject)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        Some(findings::After {
            month: month.into(),
            rule: rule.into(),
            entity_id: entity_id.into(),
            subject: subject.into(),
        })
    }

    fn filter(&self) -> FindingFilter {
        FindingFilter {
            rule: Some(self.rule.clone()).filter(|r| !r.is_empty()),
            state: FindingState::from_code(&self.state),
            month: Some(self.month.clone()).filter(|m| !m.is_empty()),
            unit_id: self.unit.trim().parse().ok(),
        }
    }
}

#[derive(Template)]
#[template(path = "findings/list.html")]
struct ListPage {
    chrome: Chrome,
    findings: Vec<FindingRow>,
    q: ListQuery,
    rules: Vec<(&'static str, &'static str)>,
    states: Vec<&'static str>,
    can_import: bool,
    can_review: bool,
    runs: Vec<(String, String, i64, i64, i64, i64)>,
    query_string: String,
    units: Vec<crate::admin::UnitOption>,
    /// How many the filter selects, and the link to the page after this one.
    total: i64,
    next: Option<String>,
    first_page: bool,
}

impl ListPage {
    /// The last cross-audit run in words: when, why, and what each number is.
    fn last_run(&self, r: &(String, String, i64, i64, i64, i64)) -> String {
        let cause = format!("run-cause-{}", r.1);
        let cause = if self.chrome.knows(&cause) { self.chrome.t(&cause).into_owned() } else { r.1.clone() };
        self.chrome.t_args(
            "findings-last-run-words",
            &[
                ("at", r.0.as_str().into()),
                ("cause", cause.into()),
                ("findings", r.2.into()),
                ("new", r.3.into()),
                ("resolved", r.4.into()),
                ("ms", r.5.into()),
            ],
        )
    }
}

async fn list_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FindingsView>(&state).await?;
    let rows = findings::list_findings(state.app(), &cap, &q.filter(), q.after().as_ref(), PAGE).await?;
    let total = findings::count_findings(state.app(), &cap, &q.filter()).await?;
    let p = &auth.user.principal;
    let query_string = format!("rule={}&state={}&month={}&unit={}", q.rule, q.state, q.month, q.unit);
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let next = crate::layout::next_page(&rows, PAGE as usize, &query_string, |r| {
        let a = r.after();
        [a.month, a.rule, a.entity_id, a.subject].join("\u{1f}")
    });
    Ok(render(&ListPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        findings: rows,
        rules: Rule::ALL
            .iter()
            .map(|r| (r.code(), r.chinese()))
            .chain(PlanAudit::ALL.iter().map(|r| (r.code(), r.chinese())))
            .chain([(onsite::CODE, onsite::CHINESE), (project::CODE, project::CHINESE)])
            .collect(),
        states: FindingState::ALL.iter().map(|s| s.code()).collect(),
        can_import: p.authorize::<perm::MarketingImport>().is_ok(),
        can_review: p.authorize::<perm::FindingsReview>().is_ok(),
        runs: findings::recent_runs(state.app()).await?,
        next,
        first_page: q.after.is_empty(),
        total,
        query_string,
        units,
        q,
    }))
}

async fn export(State(state): State<AppState>, auth: Auth, Query(q): Query<ListQuery>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FindingsView>(&state).await?;
    let rows = findings::list_findings(state.app(), &cap, &q.filter(), None, 100_000).await?;
    let lang = Lang::ZhCn;
    let headers: Vec<String> = [
        "finding-rule",
        "finding-rule-name",
        "finding-entity",
        "finding-subject",
        "finding-detail",
        "finding-unit",
        "finding-month",
        "finding-state",
        "finding-review-reason",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect();
    let data: Vec<Vec<Value>> = rows
        .into_iter()
        .map(|f| {
            vec![
                f.rule.clone().into(),
                rule_name(&f.rule).into(),
                format!("{} {}", lang.t(&format!("finding-kind-{}", f.entity_kind)), f.entity_id).into(),
                f.subject.into(),
                f.detail.into(),
                f.unit_name.into(),
                f.month.into(),
                lang.t(&format!("finding-state-{}", f.state.code())).into(),
                f.review_reason.into(),
            ]
        })
        .collect();
    Ok(crate::people::xlsx_file("findings.xlsx", xlsx::ledger(&lang.t("findings-title"), &headers, &data)?))
}

#[derive(Template)]
#[template(path = "findings/detail.html")]
struct DetailPage {
    chrome: Chrome,
    d: FindingDetail,
    rule_name: String,
    source: (&'static str, &'static str),
    can_review: bool,
    default_deadline: String,
}

async fn detail_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FindingsView>(&state).await?;
    let d = auth.checked(&state, findings::finding(state.app(), &cap, id).await).await?;
    let can_review =
        auth.user.principal.authorize::<perm::FindingsReview>().is_ok() && d.finding.state == FindingState::Open;
    let days = i64::from(state.app().crossaudit_config().task_days);
    Ok(render(&DetailPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        rule_name: rule_name(&d.finding.rule),
        source: rule_source(&d.finding.rule),
        can_review,
        default_deadline: (state.app().today() + chrono::Duration::days(days)).to_string(),
        d,
    }))
}

#[derive(Debug, Deserialize)]
struct ReviewForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    responsible: String,
    #[serde(default)]
    deadline: String,
}

async fn review(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<ReviewForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FindingsReview>(&state).await?;
    let decision = match f.decision.as_str() {
        "confirm" => Review::Confirm,
        "dismiss" => Review::Dismiss,
        _ => return Err(gridsafe_app::AppError::invalid("decision", "field-decision").into()),
    };
    let task = TaskInput { responsible: f.responsible, deadline: f.deadline };
    auth.checked(&state, findings::review(state.app(), &cap, &auth.meta, id, decision, &f.reason, task).await).await?;
    Ok(Redirect::to(&format!("/findings/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "findings/import.html")]
struct ImportPage {
    chrome: Chrome,
    units: Vec<crate::admin::UnitOption>,
}

async fn import_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::MarketingImport>(&state).await?;
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    Ok(render(&ImportPage { chrome: Chrome::for_user(ctx, &auth.user), units }))
}

#[derive(Template)]
#[template(path = "findings/imported.html")]
struct ImportedPage {
    chrome: Chrome,
    result: Option<findings::MarketingImport>,
    problems: Vec<String>,
    more_problems: usize,
}

/// Receives an export (CSV files or a workbook), imports its orders and events, runs the rules.
async fn import(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::MarketingImport>(&state).await?;
    let (files, unit) = crate::people::upload_form(&mut multipart, "unit_id").await?;
    let unit = unit.and_then(|u| u.trim().parse().ok()).unwrap_or(auth.user.unit_id);
    let outcome = auth
        .checked(&state, findings::import_marketing_files(state.app(), &cap, &auth.meta, unit, files).await)
        .await?;
    let lang = ctx.lang;
    let page = match outcome {
        Ok(result) => ImportedPage {
            chrome: Chrome::for_user(ctx, &auth.user),
            result: Some(result),
            problems: Vec::new(),
            more_problems: 0,
        },
        Err(errors) => ImportedPage {
            problems: errors.iter().take(200).map(|e| crate::people::problem_line(lang, e)).collect(),
            more_problems: errors.len().saturating_sub(200),
            chrome: Chrome::for_user(ctx, &auth.user),
            result: None,
        },
    };
    let mut response = render(&page);
    if page.result.is_none() {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

/// Runs the rules now (they also run after each import and nightly).
async fn run_now(State(state): State<AppState>, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FindingsReview>(&state).await?;
    findings::run_audit(state.app(), cap.actor(), &auth.meta, "manual").await?;
    Ok(Redirect::to("/findings").into_response())
}

/// One line of the trend chart: its name and the points, with the polyline's coordinates.
struct Series {
    key: &'static str,
    class: &'static str,
    points: String,
    values: Vec<u64>,
}

#[derive(Template)]
#[template(path = "findings/kpi.html")]
struct KpiPage {
    chrome: Chrome,
    q: KpiQuery,
    units: Vec<crate::admin::UnitOption>,
    rows: Vec<UnitMonthKpi>,
    months: Vec<String>,
    series: Vec<Series>,
    max: u64,
    /// Where each month's label sits on the x axis.
    xs: Vec<(String, u32)>,
}

impl KpiPage {
    /// `2025-12 – 2026-11`
    fn span(&self) -> String {
        format!(
            "{} – {}",
            self.months.first().map_or("", String::as_str),
            self.months.last().map_or("", String::as_str)
        )
    }
}

/// The last `count` months up to today's, oldest first, `YYYY-MM`.
fn month_range(today: chrono::NaiveDate, count: u32) -> Vec<String> {
    use chrono::Datelike;
    let mut out = Vec::new();
    let (mut y, mut m) = (today.year(), today.month());
    for _ in 0..count {
        out.push(format!("{y:04}-{m:02}"));
        if m == 1 {
            m = 12;
            y -= 1;
        } else {
            m -= 1;
        }
    }
    out.reverse();
    out
}

/// The chart's choices: a unit (all in reach when empty) and how many months back.
#[derive(Debug, Default, Deserialize)]
struct KpiQuery {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    months: String,
}

/// The periods the chart offers, in months.
const KPI_PERIODS: [u32; 3] = [6, 12, 24];

async fn kpi_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<KpiQuery>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FindingsView>(&state).await?;
    let span = q.months.trim().parse().ok().filter(|m| KPI_PERIODS.contains(m)).unwrap_or(12);
    let unit: Option<gridsafe_domain::ids::UnitId> = q.unit.trim().parse().ok();
    let rows: Vec<UnitMonthKpi> = findings::kpis(state.app(), &cap, span)
        .await?
        .into_iter()
        .filter(|r| unit.is_none_or(|u| r.unit_id == u))
        .collect();
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let months = month_range(state.app().today(), span);
    let lines = [("kpi-no-ticket", "line-a"), ("kpi-single-person", "line-b"), ("kpi-other", "line-c")];
    let values: Vec<Vec<u64>> = (0..lines.len())
        .map(|i| months.iter().map(|m| rows.iter().filter(|r| &r.month == m).map(|r| r.series()[i]).sum()).collect())
        .collect();
    let max = values.iter().flatten().copied().max().unwrap_or(0).max(1);
    // Plot area 40..600 × 20..220.
    let x = |i: usize| 40 + (i as u32) * 560 / (months.len().max(2) as u32 - 1);
    let y = |v: u64| 220 - (v * 200 / max) as u32;
    let series = lines
        .iter()
        .zip(values)
        .map(|((key, class), vals)| Series {
            key,
            class,
            points: vals.iter().enumerate().map(|(i, v)| format!("{},{}", x(i), y(*v))).collect::<Vec<_>>().join(" "),
            values: vals,
        })
        .collect();
    // Months by number; the year written where the chart starts and where a year begins.
    let xs = months
        .iter()
        .enumerate()
        .map(|(i, m)| (if i == 0 || m.ends_with("-01") { m.clone() } else { m[5..].to_owned() }, x(i)))
        .collect();
    Ok(render(&KpiPage { chrome: Chrome::for_user(ctx, &auth.user), q, units, rows, months, series, max, xs }))
}

#[derive(Template)]
#[template(path = "findings/tasks.html")]
struct TasksPage {
    chrome: Chrome,
    tasks: Vec<TaskRow>,
    can_close: bool,
}

async fn tasks_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FindingsView>(&state).await?;
    let tasks = findings::list_tasks(state.app(), &cap, false).await?;
    let can_close = auth.user.principal.authorize::<perm::FindingsReview>().is_ok();
    Ok(render(&TasksPage { chrome: Chrome::for_user(ctx, &auth.user), tasks, can_close }))
}

#[derive(Debug, Deserialize)]
struct CloseForm {
    #[serde(default)]
    evidence: String,
}

async fn close_task(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<CloseForm>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::FindingsReview>(&state).await?;
    auth.checked(&state, findings::close_task(state.app(), &cap, &auth.meta, id, &f.evidence).await).await?;
    Ok(Redirect::to("/tasks").into_response())
}
