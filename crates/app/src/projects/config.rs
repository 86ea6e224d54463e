//! What projects are timed by: the working-day calendar (holidays and 调休 working weekends,
//! imported a year at a time) and the versioned limits table.

use chrono::{Datelike, NaiveDate};
use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::projects::{self, Limit, MAX_LIMIT_DAYS};
use gridsafe_domain::text::trim_blank;
use gridsafe_store::projects::{self as store, CalendarDay, LimitsVersion};
use serde::Serialize;

use crate::audit::NewEvent;
use crate::customers::RowProblem;
use crate::{App, AppError, FieldProblem, RequestMeta};

/// The version of `versions` in force on `on` (the newest valid from that day or earlier), with
/// its rows; version 0 (the brief's defaults) before any.
pub(crate) fn in_force(versions: &[LimitsVersion], on: NaiveDate) -> (i64, &[Limit]) {
    versions
        .iter()
        .filter(|v| v.valid_from <= on)
        .max_by_key(|v| (v.valid_from, v.version))
        .map_or((0, &[][..]), |v| (v.version, v.rows.as_slice()))
}

pub async fn limit_versions(app: &App) -> Result<Vec<LimitsVersion>, AppError> {
    Ok(store::limit_versions(&mut *app.db().read().await?).await?)
}

/// The limits in force on `on`: every stage and class with its days and origin, and the version.
pub async fn limits_in_force(app: &App, on: NaiveDate) -> Result<(i64, Vec<Limit>), AppError> {
    let versions = limit_versions(app).await?;
    let (version, rows) = in_force(&versions, on);
    let mut out = projects::default_limits();
    for l in &mut out {
        if let Some(own) = rows.iter().find(|r| r.stage == l.stage && r.class == l.class) {
            *l = own.clone();
        }
    }
    Ok((version, out))
}

/// A new version of the limits table as entered: the day it applies from and the days of each
/// stage and class (`stage:class` → days).
#[derive(Debug, Clone, Default)]
pub struct LimitsInput {
    pub valid_from: String,
    pub days: Vec<(String, String)>,
    /// Where the new values come from (a document, a notice): kept as each row's origin.
    pub origin: String,
}

/// Stores a new version of the limits table; stages already running keep the limit they started with.
pub async fn set_limits(
    app: &App,
    cap: &Capability<perm::ProjectsConfigure>,
    meta: &RequestMeta,
    input: LimitsInput,
) -> Result<i64, AppError> {
    let mut problems = Vec::new();
    let valid_from = NaiveDate::parse_from_str(input.valid_from.trim(), "%Y-%m-%d").ok();
    if valid_from.is_none() {
        problems.push(FieldProblem::new("valid_from", "field-date").with("value", input.valid_from.trim()));
    }
    let origin = trim_blank(&input.origin).to_owned();
    if origin.is_empty() || origin.chars().count() > 200 {
        problems.push(FieldProblem::new("origin", "field-name-length").with("max", 200));
    }
    let (_, current) = limits_in_force(app, app.today()).await?;
    let mut rows = Vec::new();
    for l in current {
        let key = format!("{}:{}", l.stage.code(), l.class.code());
        let entered = input.days.iter().find(|(k, _)| *k == key).map(|(_, v)| v.trim());
        let days = match entered {
            None | Some("") => l.days,
            Some(text) => match text.parse::<u32>() {
                Ok(d) if (1..=MAX_LIMIT_DAYS).contains(&d) => d,
                _ => {
                    problems.push(
                        FieldProblem::new("days", "field-project-limit")
                            .with("value", text)
                            .with("max", MAX_LIMIT_DAYS),
                    );
                    l.days
                }
            },
        };
        let origin = if days == l.days { l.origin.clone() } else { origin.clone() };
        rows.push(Limit { days, origin, ..l });
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let Some(valid_from) = valid_from else { return Err(AppError::Invalid(problems)) };
    let mut work = app.begin(cap.actor(), meta).await?;
    let version = store::limit_versions(work.conn()).await?.first().map_or(1, |v| v.version + 1);
    let v = LimitsVersion { version, valid_from, created_by: cap.actor().name.clone(), rows };
    store::insert_limits(work.conn(), &v).await?;
    let changed: Vec<String> =
        v.rows.iter().map(|l| format!("{}:{}={}", l.stage.code(), l.class.code(), l.days)).collect();
    work.audit(NewEvent::new("project_limits.versioned", "project_limits", version).summary(serde_json::json!({
        "version": version, "valid_from": valid_from.to_string(), "origin": origin, "rows": changed,
    })))
    .await?;
    work.commit().await?;
    Ok(version)
}

/// Every recorded day of the calendar.
pub async fn calendar_days(app: &App) -> Result<Vec<CalendarDay>, AppError> {
    Ok(store::calendar_days(&mut *app.db().read().await?).await?)
}

/// What a calendar import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CalendarImport {
    pub year: i32,
    pub holidays: usize,
    pub workdays: usize,
    pub replaced: u64,
}

/// Reads `日期`/`类型`/`名称` (date, kind, name); kind 休/假/节假日/holiday or 班/上班/调休上班/workday.
fn read_kind(text: &str) -> Option<&'static str> {
    let t = text.trim();
    match t {
        "holiday" => Some("holiday"),
        "workday" => Some("workday"),
        _ if t.contains('班') || t.contains("工作") => Some("workday"),
        _ if t.contains('休') || t.contains('假') || t.contains('节') => Some("holiday"),
        _ => None,
    }
}

/// The most days one year's calendar lists.
const MAX_CALENDAR_ROWS: usize = 366;

/// Imports one year's calendar (法定节假日 and 调休上班) from CSV or `.xlsx`, replacing that year's
/// days: all of it or every problem named (file, line, column) and nothing changed. Every date
/// must fall in `year`.
pub async fn import_calendar(
    app: &App,
    cap: &Capability<perm::ProjectsConfigure>,
    meta: &RequestMeta,
    year: i32,
    files: &[(String, Vec<u8>)],
) -> Result<Result<CalendarImport, Vec<RowProblem>>, AppError> {
    use gridsafe_sheet::Cell;
    if !(2000..=2100).contains(&year) {
        return Err(AppError::Invalid(vec![FieldProblem::new("year", "field-project-year").with("value", year)]));
    }
    let tables = match crate::customers::read_files(files) {
        Ok(t) => t,
        Err(p) => return Ok(Err(p)),
    };
    const COLUMNS: [(&str, &str); 3] = [("date", "日期"), ("kind", "类型"), ("name", "名称")];
    let problem = |file: &str, line: usize, column: String, value: String, message: &'static str| RowProblem {
        file: file.to_owned(),
        line,
        column,
        value,
        message,
        args: Vec::new(),
    };
    let mut problems = Vec::new();
    let mut days: Vec<CalendarDay> = Vec::new();
    for t in &tables {
        let at: Vec<Option<usize>> =
            COLUMNS.iter().map(|(en, zh)| gridsafe_sheet::column(&t.headers, en, zh)).collect();
        if let Some((en, zh)) = COLUMNS.iter().zip(&at).take(2).find(|(_, p)| p.is_none()).map(|(c, _)| c) {
            problems.push(problem(&t.source, 1, format!("{zh} / {en}"), String::new(), "input-problem-missing-column"));
            continue;
        }
        for row in &t.rows {
            if row.cells.iter().all(Cell::is_empty) {
                continue;
            }
            if days.len() >= MAX_CALENDAR_ROWS {
                problems.push(problem(
                    &t.source,
                    row.line,
                    String::new(),
                    MAX_CALENDAR_ROWS.to_string(),
                    "input-problem-too-many-rows",
                ));
                break;
            }
            let cell = |i: usize| at[i].and_then(|p| row.cells.get(p));
            let header = |i: usize| at[i].and_then(|p| t.headers.get(p).cloned()).unwrap_or_default();
            let day = cell(0).map(gridsafe_sheet::parse_date);
            let kind_text = cell(1).map(Cell::shown).unwrap_or_default();
            let name = cell(2).map(Cell::shown).unwrap_or_default();
            let shown = cell(0).map(Cell::shown).unwrap_or_default();
            let day = match day {
                Some(Ok(d)) if d.year() == year => Some(d),
                Some(Ok(_)) => {
                    problems.push(problem(
                        &t.source,
                        row.line,
                        header(0),
                        gridsafe_sheet::quoted(&shown),
                        "field-project-calendar-year",
                    ));
                    None
                }
                _ => {
                    problems.push(problem(
                        &t.source,
                        row.line,
                        header(0),
                        gridsafe_sheet::quoted(&shown),
                        "input-problem-bad-date",
                    ));
                    None
                }
            };
            let kind = read_kind(&kind_text);
            if kind.is_none() {
                problems.push(problem(
                    &t.source,
                    row.line,
                    header(1),
                    gridsafe_sheet::quoted(&kind_text),
                    "field-project-calendar-kind",
                ));
            }
            if let (Some(day), Some(kind)) = (day, kind) {
                if days.iter().any(|d| d.day == day) {
                    problems.push(problem(
                        &t.source,
                        row.line,
                        header(0),
                        day.to_string(),
                        "field-project-calendar-twice",
                    ));
                    continue;
                }
                let name: String = trim_blank(&name).chars().take(50).collect();
                days.push(CalendarDay { day, kind: kind.to_owned(), name, origin: format!("导入：{}", t.source) });
            }
        }
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    days.sort_by_key(|d| d.day);
    let mut work = app.begin(cap.actor(), meta).await?;
    let replaced = store::replace_year(work.conn(), year, &days).await?;
    let holidays = days.iter().filter(|d| d.kind == "holiday").count();
    let done = CalendarImport { year, holidays, workdays: days.len() - holidays, replaced };
    let names: Vec<&str> = tables.iter().map(|t| t.source.as_str()).collect();
    work.audit(NewEvent::new("work_calendar.imported", "work_calendar", year).summary(serde_json::json!({
        "files": names, "year": year, "holidays": done.holidays, "workdays": done.workdays, "replaced": replaced,
    })))
    .await?;
    work.commit().await?;
    Ok(Ok(done))
}
