//! The quality indicators and the monthly supervision report (运行质量监督报告): the list of
//! reports, a report (its draft with the auditor's texts, issue and reissue, the A4 print view and
//! the workbook), and the indicators' definitions.

pub mod api;

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::quality::{self, Indicator, Line, Report, ReportView, SECTIONS, Verification};
use gridsafe_app::xlsx::{self, Sheet, Value};
use gridsafe_domain::access::perm;
use gridsafe_domain::quality::{Direction, MEASURES};
use gridsafe_store::quality::ReportRow;

use crate::AppState;
use crate::auth::Auth;
use crate::context::PageContext;
use crate::error::AppError;
use crate::form::Form;
use crate::i18n::Lang;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/quality", list_page)
        .post("/quality/reports", create)
        .get("/quality/reports/{id}", report_page)
        .get("/quality/reports/{id}/xlsx", report_xlsx)
        .post("/quality/reports/{id}/texts", save_texts)
        .post("/quality/reports/{id}/issue", issue)
        .post("/quality/reports/{id}/reissue", reissue)
        .get("/quality/indicators", indicators_page)
        .post("/quality/indicators/{code}", set_indicator)
}

/// A figure as the pages write it: at most one decimal, none when it is whole.
pub(crate) fn number(v: Option<f64>) -> String {
    match v {
        None => "—".to_owned(),
        Some(v) => {
            let text = format!("{v:.1}");
            text.strip_suffix(".0").map_or(text.clone(), str::to_owned)
        }
    }
}

#[derive(Template)]
#[template(path = "quality/list.html")]
struct ListPage {
    chrome: Chrome,
    reports: Vec<ReportRow>,
    units: Vec<crate::admin::UnitOption>,
    can_write: bool,
    last_month: String,
    issue_day: u32,
}

async fn list_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    let cap = auth.require::<perm::QualityView>(&state).await?;
    let reports = quality::reports(state.app(), &cap).await?;
    let units = crate::admin::unit_options(&gridsafe_app::identity::list_units(state.app(), cap.scope()).await?);
    let last_month = gridsafe_domain::quality::Month::of(state.app().today()).plus(-1).code();
    Ok(render(&ListPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        reports,
        units,
        can_write: auth.user.principal.authorize::<perm::QualityWrite>().is_ok(),
        last_month,
        issue_day: state.app().quality_config().issue_day,
    }))
}

async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::QualityWrite>(&state).await?;
    let field = |name: &str| f.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str()).to_owned();
    let unit = field("unit_id").trim().parse().unwrap_or_default();
    let id = auth.checked(&state, quality::create(state.app(), &cap, &auth.meta, unit, &field("month")).await).await?;
    Ok(Redirect::to(&format!("/quality/reports/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "quality/report.html")]
struct ReportPage {
    chrome: Chrome,
    row: ReportRow,
    versions: Vec<ReportRow>,
    r: Report,
    can_write: bool,
    verification: Option<Verification>,
}

impl ReportPage {
    fn number(&self, v: &Option<f64>) -> String {
        number(*v)
    }

    fn text(&self, section: &str) -> &str {
        self.r.texts.get(section).map_or("", String::as_str)
    }

    fn section_title(&self, section: &str) -> String {
        self.chrome.t(&format!("quality-section-{section}")).into_owned()
    }

    fn target(&self, l: &Line) -> String {
        match l.target {
            None => "—".to_owned(),
            Some(t) => {
                let sign = if l.direction == Direction::Higher { "≥" } else { "≤" };
                format!("{sign} {}", number(Some(t)))
            }
        }
    }

    /// The trend's months with a figure, as points in a 200 × 40 box.
    fn points(&self, l: &Line) -> Vec<(usize, f64, f64)> {
        let known: Vec<f64> = l.trend.iter().filter_map(|v| *v).collect();
        let (lo, hi) = known.iter().fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        let span = if hi > lo { hi - lo } else { 1.0 };
        let n = l.trend.len().max(2) - 1;
        l.trend
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i, 4.0 + i as f64 * 192.0 / n as f64, 36.0 - (v - lo) / span * 32.0)))
            .collect()
    }

    /// The trend as polyline points (months without a figure left out).
    fn spark(&self, l: &Line) -> String {
        self.points(l).iter().map(|(_, x, y)| format!("{x:.1},{y:.1}")).collect::<Vec<_>>().join(" ")
    }

    /// This month's point, marked on the trend (alone when the months before have no figure).
    fn this_month(&self, l: &Line) -> Option<(String, String)> {
        self.points(l)
            .last()
            .filter(|(i, _, _)| *i + 1 == l.trend.len())
            .map(|(_, x, y)| (format!("{x:.1}"), format!("{y:.1}")))
    }

    fn unit_figure(&self, unit: &i64, index: usize) -> String {
        number(self.r.unit_figures.get(unit).and_then(|f| f.get(index)).copied().flatten())
    }

    fn rule(&self, code: &str) -> String {
        crate::findings::rule_name(code)
    }

    fn versions_line(&self, row: &ReportRow) -> String {
        self.chrome.t_args(
            "quality-version-line",
            &[
                ("version", row.version.to_string().into()),
                ("state", self.chrome.t(&format!("quality-state-{}", row.state)).into()),
                ("by", row.issued_by.clone().unwrap_or_else(|| row.created_by.clone()).into()),
                ("at", row.issued_at.unwrap_or(row.created_at).local_display().into()),
            ],
        )
    }
}

async fn report_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::QualityView>(&state).await?;
    let ReportView { row, report, versions, verification } =
        auth.checked(&state, quality::report(state.app(), &cap, id).await).await?;
    Ok(render(&ReportPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        row,
        versions,
        r: report,
        can_write: auth.user.principal.authorize::<perm::QualityWrite>().is_ok(),
        verification,
    }))
}

/// The report as a workbook: indicators, ranking, findings, overdue hazards, faults, texts.
pub(crate) fn workbook(lang: Lang, r: &Report) -> Result<Vec<u8>, gridsafe_app::AppError> {
    let t = |k: &str| lang.t(k);
    let mut sheets = Vec::new();
    let mut headers: Vec<String> = [
        "quality-indicator",
        "quality-value",
        "quality-target",
        "quality-last-month",
        "quality-last-year",
        "quality-met",
        "quality-formula",
    ]
    .iter()
    .map(|k| t(k))
    .collect();
    headers.extend(r.months.iter().cloned());
    let rows = r
        .lines
        .iter()
        .map(|l| {
            let mut row: Vec<Value> = vec![
                format!("{}（{}）", l.name, l.unit_label).into(),
                l.figure.value.into(),
                l.target.into(),
                l.figure.last_month.into(),
                l.figure.last_year.into(),
                match l.figure.met {
                    Some(true) => t("quality-met-yes").into(),
                    Some(false) => t("quality-met-no").into(),
                    None => Value::Empty,
                },
                l.formula.as_str().into(),
            ];
            row.extend(l.trend.iter().map(|v| Value::from(*v)));
            row
        })
        .collect();
    sheets.push(Sheet { name: t("quality-section-overview"), headers, rows });
    let mut headers = vec![t("quality-rank"), t("quality-unit"), t("quality-targets-met"), t("quality-targets-missed")];
    headers.extend(r.lines.iter().map(|l| l.name.clone()));
    let rows = r
        .ranking
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let mut row: Vec<Value> = vec![
                (i as i64 + 1).into(),
                u.unit_name.as_str().into(),
                (u.met as i64).into(),
                (u.missed as i64).into(),
            ];
            row.extend(r.unit_figures.get(&u.unit_id).into_iter().flatten().map(|v| Value::from(*v)));
            row
        })
        .collect();
    sheets.push(Sheet { name: t("quality-section-ranking"), headers, rows });
    let headers =
        vec![t("finding-rule"), t("finding-subject"), t("finding-detail"), t("finding-unit"), t("finding-state")];
    let rows = r
        .findings
        .iter()
        .map(|f| {
            vec![
                crate::findings::rule_name(&f.rule).into(),
                f.subject.as_str().into(),
                f.detail.as_str().into(),
                f.unit_name.as_str().into(),
                t(&format!("finding-state-{}", f.state)).into(),
            ]
        })
        .collect();
    sheets.push(Sheet { name: t("quality-findings"), headers, rows });
    let headers = vec![t("quality-hazard"), t("quality-unit"), t("quality-deadline"), t("quality-escalation")];
    let rows = r
        .overdue
        .iter()
        .map(|h| {
            vec![
                format!("{} {}", h.number, h.title).into(),
                h.unit_name.as_str().into(),
                h.deadline.to_string().into(),
                h.escalation.into(),
            ]
        })
        .collect();
    sheets.push(Sheet { name: t("quality-overdue"), headers, rows });
    let headers = vec![
        t("faults-fault"),
        t("quality-unit"),
        t("faults-started"),
        t("faults-cause"),
        t("quality-minutes"),
        t("quality-recurs"),
    ];
    let rows = r
        .faults
        .iter()
        .map(|f| {
            vec![
                format!("{} {} {}", f.number, f.system, f.module).into(),
                f.unit_name.as_str().into(),
                f.started.as_str().into(),
                f.cause_name.as_str().into(),
                f.minutes_to_restore.map_or(Value::Empty, Value::from),
                f.recurs.clone().into(),
            ]
        })
        .collect();
    sheets.push(Sheet { name: t("quality-section-faults"), headers, rows });
    let headers = vec![t("quality-section"), t("quality-text")];
    let rows = SECTIONS
        .iter()
        .map(|s| vec![t(&format!("quality-section-{s}")).into(), r.texts.get(*s).cloned().into()])
        .collect();
    sheets.push(Sheet { name: t("quality-texts"), headers, rows });
    xlsx::workbook(&sheets)
}

async fn report_xlsx(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::QualityView>(&state).await?;
    let v = auth.checked(&state, quality::report(state.app(), &cap, id).await).await?;
    let bytes = workbook(ctx.lang, &v.report)?;
    let name = format!("quality-{}-{}-v{}.xlsx", v.row.unit_id.get(), v.row.month, v.row.version);
    Ok(crate::people::xlsx_file(&name, bytes))
}

async fn save_texts(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::QualityWrite>(&state).await?;
    let texts: BTreeMap<String, String> = f.into_iter().filter(|(k, _)| SECTIONS.contains(&k.as_str())).collect();
    auth.checked(&state, quality::save_texts(state.app(), &cap, &auth.meta, id, &texts).await).await?;
    Ok(Redirect::to(&format!("/quality/reports/{id}#texts")).into_response())
}

async fn issue(State(state): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Response, AppError> {
    let cap = auth.require::<perm::QualityWrite>(&state).await?;
    auth.checked(&state, quality::issue(state.app(), &cap, &auth.meta, id).await).await?;
    Ok(Redirect::to(&format!("/quality/reports/{id}")).into_response())
}

async fn reissue(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::QualityWrite>(&state).await?;
    let reason = f.iter().find(|(k, _)| k == "reason").map_or("", |(_, v)| v.as_str()).to_owned();
    let new = auth.checked(&state, quality::reissue(state.app(), &cap, &auth.meta, id, &reason).await).await?;
    Ok(Redirect::to(&format!("/quality/reports/{new}")).into_response())
}

#[derive(Template)]
#[template(path = "quality/indicators.html")]
struct IndicatorsPage {
    chrome: Chrome,
    indicators: Vec<Indicator>,
    measures: &'static [&'static str],
    can_write: bool,
}

impl IndicatorsPage {
    fn target(&self, i: &Indicator) -> String {
        i.row.target.map(|t| number(Some(t))).unwrap_or_default()
    }
}

async fn indicators_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    auth.require::<perm::QualityView>(&state).await?;
    Ok(render(&IndicatorsPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        indicators: quality::indicators(state.app()).await?,
        measures: &MEASURES,
        can_write: auth.user.principal.authorize::<perm::QualityWrite>().is_ok(),
    }))
}

async fn set_indicator(
    State(state): State<AppState>,
    auth: Auth,
    Path(code): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let cap = auth.require::<perm::QualityWrite>(&state).await?;
    let field = |name: &str| f.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str()).to_owned();
    let result = quality::set_indicator(
        state.app(),
        &cap,
        &auth.meta,
        &code,
        &field("formula"),
        &field("target"),
        &field("direction"),
    )
    .await;
    auth.checked(&state, result).await?;
    Ok(Redirect::to("/quality/indicators").into_response())
}
