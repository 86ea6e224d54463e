//! The fault database (故障库) of the marketing information systems (article §6.3): faults recorded
//! by hand or imported from a spreadsheet, searched, flagged when the same system fails again for
//! the same cause, each countermeasure tracked as a hazard in the closed loop when it is assigned.

use gridsafe_domain::access::{Capability, PermissionMarker, perm};
use gridsafe_domain::faults::{self, FaultFacts, Occurrence};
use gridsafe_domain::hazards::Responsibility;
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::time::Timestamp;
use gridsafe_sheet::Cell;
use gridsafe_store::Conn;
use gridsafe_store::faults as store;
use serde::Serialize;

pub use gridsafe_store::faults::{CauseRow, FaultRow};

use crate::audit::NewEvent;
use crate::customers::RowProblem;
use crate::identity::check_stored_path;
use crate::{App, AppError, FieldProblem, RequestMeta, Work};

/// The units a fault capability reaches.
pub trait FaultsReach: PermissionMarker {}
impl FaultsReach for perm::FaultsView {}
impl FaultsReach for perm::FaultsRecord {}

/// The most rows one fault spreadsheet brings.
pub const MAX_ROWS: usize = 2000;

pub async fn causes(app: &App) -> Result<Vec<CauseRow>, AppError> {
    Ok(store::causes(&mut *app.db().read().await?).await?)
}

/// A fault with what is worked out from it.
#[derive(Debug, Clone, Serialize)]
pub struct FaultView {
    pub fault: FaultRow,
    /// The earlier fault of the same system and cause within the recurrence window.
    pub recurs: Option<(i64, String)>,
    pub minutes_to_restore: Option<i64>,
    /// The hazards tracking its countermeasure: (id, number, title, state code).
    pub hazards: Vec<(i64, String, String, String)>,
}

pub(crate) async fn views(conn: &mut Conn, all: Vec<FaultRow>) -> Result<Vec<FaultView>, AppError> {
    let occurrences: Vec<Occurrence> = all
        .iter()
        .map(|f| Occurrence {
            id: f.id,
            system: f.system.clone(),
            cause: f.cause.clone(),
            day: f.started_at.local_date(),
        })
        .collect();
    let pairs = faults::recurrences(&occurrences, faults::RECURRENCE_DAYS);
    let ids: Vec<i64> = all.iter().map(|f| f.id).collect();
    let hazards = gridsafe_store::emergency::hazards_of(conn, "fault", &ids).await?;
    Ok(all
        .iter()
        .map(|f| FaultView {
            recurs: pairs
                .iter()
                .find(|(late, _)| *late == f.id)
                .and_then(|(_, early)| all.iter().find(|e| e.id == *early))
                .map(|e| (e.id, e.number.clone())),
            minutes_to_restore: faults::minutes_to_restore(f.started_at, f.ended_at),
            hazards: hazards
                .iter()
                .filter(|h| h.0 == f.id)
                .map(|h| (h.1, h.2.clone(), h.3.clone(), h.4.clone()))
                .collect(),
            fault: f.clone(),
        })
        .collect())
}

/// Faults in reach (whose system, module or root cause contains `query`, of `cause`), the latest
/// first, each with its recurrence.
pub async fn list_faults<P: FaultsReach>(
    app: &App,
    cap: &Capability<P>,
    query: Option<&str>,
    cause: Option<&str>,
) -> Result<Vec<FaultView>, AppError> {
    let pattern = crate::search::contains("q", query)?;
    // A cause is a code of the causes table, never longer.
    if cause.is_some_and(|c| c.chars().count() > 40) {
        return Err(AppError::invalid("cause", "field-invalid"));
    }
    let mut conn = app.db().read().await?;
    // Recurrences are judged against every fault in reach, whatever the search shows.
    let all = store::list(&mut conn, cap.scope(), None, None, 5000).await?;
    let shown: Vec<i64> =
        store::list(&mut conn, cap.scope(), pattern.as_deref(), cause, 5000).await?.iter().map(|f| f.id).collect();
    Ok(views(&mut conn, all).await?.into_iter().filter(|v| shown.contains(&v.fault.id)).collect())
}

pub async fn fault<P: FaultsReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<FaultView, AppError> {
    let mut conn = app.db().read().await?;
    let f = store::get(&mut conn, id).await?.ok_or(AppError::NotFound)?;
    check_stored_path(cap, &f.unit_path)?;
    let all = store::list(&mut conn, cap.scope(), None, None, 5000).await?;
    views(&mut conn, all).await?.into_iter().find(|v| v.fault.id == id).ok_or(AppError::NotFound)
}

/// A fault as entered.
#[derive(Debug, Clone, Default)]
pub struct FaultInput {
    pub unit_id: UnitId,
    pub system: String,
    pub module: String,
    /// Local times `YYYY-MM-DD HH:MM`; the end empty while it lasts.
    pub started_at: String,
    pub ended_at: String,
    pub customers_affected: String,
    pub orders_affected: String,
    /// A cause category's code or name.
    pub cause: String,
    pub root_cause: String,
    pub countermeasure: String,
    /// 工号 of the accountable person (required for human factors).
    pub accountable: String,
    pub assessment: String,
    /// Track the countermeasure in the closed loop: the responsible person's 工号 and the deadline.
    pub responsible: String,
    pub deadline: String,
}

struct Checked {
    system: String,
    module: String,
    started: Timestamp,
    ended: Option<Timestamp>,
    customers: i64,
    orders: i64,
    cause: String,
    root_cause: String,
    countermeasure: String,
    accountable: Option<PersonId>,
    assessment: Option<String>,
    track: Option<(PersonId, String, chrono::NaiveDate)>,
}

fn count(field: &'static str, text: &str, problems: &mut Vec<FieldProblem>) -> i64 {
    let t = text.trim();
    if t.is_empty() {
        return 0;
    }
    match t.parse::<i64>() {
        Ok(n) if (0..=100_000_000).contains(&n) => n,
        _ => {
            problems.push(FieldProblem::new(field, "field-fault-count").with("value", t));
            0
        }
    }
}

/// Checks a fault as entered against the register, inside `work`.
async fn check_input(
    work: &mut Work<'_>,
    causes: &[CauseRow],
    input: &FaultInput,
    today: chrono::NaiveDate,
) -> Result<Checked, AppError> {
    let mut problems = Vec::new();
    let text = |field: &'static str, value: &str, max: usize, required: bool, problems: &mut Vec<FieldProblem>| {
        let t = trim_blank(value).to_owned();
        if (required && t.is_empty()) || t.chars().count() > max {
            problems.push(FieldProblem::new(field, "field-name-length").with("max", max));
        }
        t
    };
    let system = text("system", &input.system, 100, true, &mut problems);
    let module = text("module", &input.module, 100, false, &mut problems);
    let root_cause = text("root_cause", &input.root_cause, 2000, true, &mut problems);
    let countermeasure = text("countermeasure", &input.countermeasure, 2000, true, &mut problems);
    let assessment = text("assessment", &input.assessment, 1000, false, &mut problems);
    let started = crate::tickets::local_time("started_at", &input.started_at.replace('T', " "), &mut problems);
    let ended = if input.ended_at.trim().is_empty() {
        None
    } else {
        crate::tickets::local_time("ended_at", &input.ended_at.replace('T', " "), &mut problems)
    };
    if started.is_some_and(|s| s.local_date() > today) {
        problems.push(FieldProblem::new("started_at", "field-outage-told-future"));
    }
    let customers = count("customers_affected", &input.customers_affected, &mut problems);
    let orders = count("orders_affected", &input.orders_affected, &mut problems);
    let cause_text = input.cause.trim();
    let cause = causes.iter().find(|c| c.code == cause_text || c.name == cause_text).map(|c| c.code.clone());
    if cause.is_none() {
        problems.push(FieldProblem::new("cause", "field-fault-cause").with("value", cause_text));
    }
    let accountable = if input.accountable.trim().is_empty() {
        None
    } else {
        match gridsafe_store::people::id_by_code(work.conn(), input.accountable.trim()).await? {
            Some(p) => Some(p),
            None => {
                problems.push(
                    FieldProblem::new("accountable", "field-person-code").with("value", input.accountable.trim()),
                );
                None
            }
        }
    };
    let track = if input.responsible.trim().is_empty() {
        None
    } else {
        crate::people::assignment(work.conn(), &input.responsible, &input.deadline, today, &mut problems).await?
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let (Some(started), Some(cause)) = (started, cause) else { return Err(AppError::Invalid(problems)) };
    let assessment = Some(assessment).filter(|a| !a.is_empty());
    let facts = FaultFacts {
        started,
        ended,
        cause: cause.clone(),
        accountable: accountable.is_some(),
        assessment: assessment.is_some(),
    };
    let refusals = faults::check(&facts);
    if !refusals.is_empty() {
        return Err(AppError::Rules(refusals));
    }
    Ok(Checked {
        system,
        module,
        started,
        ended,
        customers,
        orders,
        cause,
        root_cause,
        countermeasure,
        accountable,
        assessment,
        track,
    })
}

async fn write(
    app: &App,
    work: &mut Work<'_>,
    cap: &Capability<perm::FaultsRecord>,
    unit: UnitId,
    c: &Checked,
    import_file: Option<&str>,
) -> Result<(i64, String), AppError> {
    let now = work.now();
    let number = gridsafe_store::numbers::next(work.conn(), "GZK", c.started.local_date()).await?;
    let new = store::NewFault {
        number: &number,
        unit,
        system: &c.system,
        module: &c.module,
        started_at: c.started,
        ended_at: c.ended,
        customers_affected: c.customers,
        orders_affected: c.orders,
        cause: &c.cause,
        root_cause: &c.root_cause,
        countermeasure: &c.countermeasure,
        accountable: c.accountable,
        assessment: c.assessment.as_deref(),
        import_file,
        by: &cap.actor().name,
    };
    let id = store::insert(work.conn(), &new, now).await?;
    if let Some((owner, owner_label, deadline)) = &c.track {
        let hazard = crate::customers::NewHazard {
            customer_id: None,
            inspection_id: None,
            source_kind: "fault",
            source_id: Some(id),
            unit_id: unit,
            title: format!("{number} {}", c.countermeasure).chars().take(200).collect(),
            description: format!("{} {} · {}", c.system, c.module, c.root_cause).chars().take(2000).collect(),
            grade: app.crossaudit_config().finding_grade.clone(),
            responsibility: Responsibility::Grid,
            plan: Some(crate::customers::HazardPlan {
                owner: *owner,
                owner_label: owner_label.clone(),
                deadline: *deadline,
                task: c.countermeasure.clone(),
            }),
        };
        crate::customers::insert_hazard(work.conn(), cap.actor(), &hazard, now).await?;
    }
    Ok((id, number))
}

/// Records a fault; its countermeasure is tracked in the closed loop when a responsible person is named.
pub async fn record_fault(
    app: &App,
    cap: &Capability<perm::FaultsRecord>,
    meta: &RequestMeta,
    input: FaultInput,
) -> Result<i64, AppError> {
    let causes = causes(app).await?;
    let unit = crate::identity::unit_by_id(app, input.unit_id).await?;
    let Some(unit) = unit else { return Err(AppError::invalid("unit_id", "field-unit")) };
    cap.check(&unit.path)?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let today = work.now().local_date();
    let checked = check_input(&mut work, &causes, &input, today).await?;
    let (id, number) = write(app, &mut work, cap, unit.id, &checked, None).await?;
    work.audit(NewEvent::new("fault.recorded", "fault", id).unit(unit.id).summary(serde_json::json!({
        "number": number, "system": checked.system, "cause": checked.cause,
        "started_at": checked.started.to_db(), "tracked": checked.track.is_some(),
    })))
    .await?;
    work.commit().await?;
    Ok(id)
}

const COLUMNS: [(&str, &str, bool); 11] = [
    ("system", "系统", true),
    ("module", "模块", false),
    ("started_at", "开始时间", true),
    ("ended_at", "结束时间", false),
    ("customers_affected", "影响客户数", false),
    ("orders_affected", "影响工单数", false),
    ("cause", "原因类别", true),
    ("root_cause", "根本原因", true),
    ("countermeasure", "防范措施", true),
    ("accountable", "责任人", false),
    ("assessment", "考核", false),
];

/// Imports faults of `unit` from a spreadsheet (CSV or `.xlsx`, Chinese or English headers): all of
/// them, or every problem named by file, line and column and nothing written.
pub async fn import_faults(
    app: &App,
    cap: &Capability<perm::FaultsRecord>,
    meta: &RequestMeta,
    unit: UnitId,
    files: &[(String, Vec<u8>)],
) -> Result<Result<usize, Vec<RowProblem>>, AppError> {
    let tables = match crate::customers::read_files(files) {
        Ok(t) => t,
        Err(p) => return Ok(Err(p)),
    };
    let Some(u) = crate::identity::unit_by_id(app, unit).await? else {
        return Err(AppError::invalid("unit_id", "field-unit"));
    };
    cap.check(&u.path)?;
    let causes = causes(app).await?;
    let mut problems = Vec::new();
    let mut work = app.begin(cap.actor(), meta).await?;
    let today = work.now().local_date();
    let mut imported = 0;
    for t in &tables {
        let at = match crate::customers::locate_columns(t, &COLUMNS) {
            Ok(at) => at,
            Err(missing) => {
                problems.push(missing);
                continue;
            }
        };
        for row in &t.rows {
            if row.cells.iter().all(Cell::is_empty) {
                continue;
            }
            if imported + problems.len() >= MAX_ROWS {
                problems.push(RowProblem::too_many_rows(t, row.line, MAX_ROWS));
                break;
            }
            let value = |i: usize| at[i].and_then(|p| row.cells.get(p)).map(Cell::shown).unwrap_or_default();
            let time = |i: usize| match at[i].and_then(|p| row.cells.get(p)) {
                Some(c) if !c.is_empty() => gridsafe_sheet::parse_datetime(c)
                    .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                    .unwrap_or_else(|_| c.shown()),
                _ => String::new(),
            };
            let input = FaultInput {
                unit_id: unit,
                system: value(0),
                module: value(1),
                started_at: time(2),
                ended_at: time(3),
                customers_affected: value(4),
                orders_affected: value(5),
                cause: value(6),
                root_cause: value(7),
                countermeasure: value(8),
                accountable: value(9),
                assessment: value(10),
                ..FaultInput::default()
            };
            let header = |field: &str| {
                COLUMNS
                    .iter()
                    .position(|c| c.0 == field)
                    .and_then(|i| at[i])
                    .and_then(|p| t.headers.get(p).cloned())
                    .unwrap_or_else(|| field.to_owned())
            };
            match check_input(&mut work, &causes, &input, today).await {
                Ok(c) => {
                    write(app, &mut work, cap, unit, &c, Some(&t.source)).await?;
                    imported += 1;
                }
                Err(AppError::Invalid(list)) => {
                    for p in list {
                        let value =
                            p.args.iter().find(|(k, _)| *k == "value").map(|(_, v)| v.clone()).unwrap_or_default();
                        problems.push(RowProblem {
                            file: t.source.clone(),
                            line: row.line,
                            column: header(p.field),
                            value: gridsafe_sheet::quoted(&value),
                            message: p.message,
                            args: p.args.into_iter().filter(|(k, _)| *k != "value").collect(),
                        });
                    }
                }
                Err(AppError::Rules(list)) => {
                    for v in list {
                        problems.push(RowProblem {
                            file: t.source.clone(),
                            line: row.line,
                            column: header(if v.rule.code == "FAULT_TIMES" { "ended_at" } else { "assessment" }),
                            value: String::new(),
                            message: "field-fault-rule",
                            args: vec![("rule", v.rule.code.to_owned())],
                        });
                    }
                }
                Err(other) => return Err(other),
            }
        }
    }
    if !problems.is_empty() {
        // Nothing is written: the unit of work is dropped, and rolled back with it.
        return Ok(Err(problems));
    }
    let names: Vec<&str> = tables.iter().map(|t| t.source.as_str()).collect();
    work.audit(NewEvent::new("faults.imported", "fault", "import").unit(unit).summary(serde_json::json!({
        "files": names, "imported": imported,
    })))
    .await?;
    work.commit().await?;
    Ok(Ok(imported))
}

// ---- compliance checks (合规检查) ------------------------------------------------------------

pub use gridsafe_store::faults::{CheckKindRow, CheckRow};

/// A kind of check with its last one and when the next is due.
#[derive(Debug, Clone, Serialize)]
pub struct CheckDue {
    pub kind: CheckKindRow,
    /// The last check of this kind in reach (for accounts, a permission review or the dormant-account
    /// job count too).
    pub last: Option<chrono::NaiveDate>,
    pub due: Option<chrono::NaiveDate>,
    pub overdue: bool,
}

/// The kinds of check with their schedule, and the checks made in reach (latest first).
pub async fn checks<P: FaultsReach>(
    app: &App,
    cap: &Capability<P>,
) -> Result<(Vec<CheckDue>, Vec<CheckRow>), AppError> {
    let mut conn = app.db().read().await?;
    let kinds = store::check_kinds(&mut conn).await?;
    let made = store::checks(&mut conn, cap.scope(), None, 500).await?;
    let reviewed = store::last_account_review(&mut conn).await?.map(|t| t.local_date());
    let today = app.today();
    // Before any check, the cycle counts from the first day of this year.
    let since = chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 1, 1).unwrap_or(today);
    let due = kinds
        .into_iter()
        .map(|kind| {
            let mut last = made.iter().filter(|c| c.kind == kind.code).map(|c| c.checked_on).max();
            if kind.code == "accounts" {
                last = last.max(reviewed);
            }
            let due = faults::check_due(last, since, kind.months);
            CheckDue { overdue: due.is_some_and(|d| today > d), last, due, kind }
        })
        .collect();
    Ok((due, made))
}

pub async fn check<P: FaultsReach>(
    app: &App,
    cap: &Capability<P>,
    id: i64,
) -> Result<(CheckRow, Vec<(i64, String, String, String)>), AppError> {
    let mut conn = app.db().read().await?;
    let c = store::checks(&mut conn, cap.scope(), Some(id), 1).await?.into_iter().next().ok_or(AppError::NotFound)?;
    check_stored_path(cap, &c.unit_path)?;
    let hazards = gridsafe_store::emergency::hazards_of(&mut conn, "compliance", &[id])
        .await?
        .into_iter()
        .map(|h| (h.1, h.2, h.3, h.4))
        .collect();
    Ok((c, hazards))
}

/// A check as entered: each item's result (`pass`, `fail`, `not_applicable`) and note, by position.
#[derive(Debug, Clone, Default)]
pub struct CheckInput {
    pub unit_id: UnitId,
    pub kind: String,
    pub checked_on: String,
    pub checker: String,
    pub note: String,
    pub answers: Vec<(i64, String, String)>,
    /// Who corrects the failed items (工号), and by when: each failed item becomes a hazard.
    pub responsible: String,
    pub deadline: String,
}

/// Records a check with every item of its kind's checklist answered; each failed item's
/// correction is a hazard in the closed loop.
pub async fn record_check(
    app: &App,
    cap: &Capability<perm::FaultsRecord>,
    meta: &RequestMeta,
    input: CheckInput,
) -> Result<i64, AppError> {
    let Some(unit) = crate::identity::unit_by_id(app, input.unit_id).await? else {
        return Err(AppError::invalid("unit_id", "field-unit"));
    };
    cap.check(&unit.path)?;
    let mut problems = Vec::new();
    let kinds = {
        let mut conn = app.db().read().await?;
        store::check_kinds(&mut conn).await?
    };
    let Some(kind) = kinds.into_iter().find(|k| k.code == input.kind.trim()) else {
        return Err(AppError::invalid("kind", "field-invalid"));
    };
    let today = app.today();
    let checked_on =
        chrono::NaiveDate::parse_from_str(input.checked_on.trim(), "%Y-%m-%d").ok().filter(|d| *d <= today);
    if checked_on.is_none() {
        problems.push(FieldProblem::new("checked_on", "field-date").with("value", input.checked_on.trim()));
    }
    let checker = trim_blank(&input.checker).to_owned();
    if checker.is_empty() || checker.chars().count() > 100 {
        problems.push(FieldProblem::new("checker", "field-name-length").with("max", 100));
    }
    let note: String = trim_blank(&input.note).chars().take(2000).collect();
    let mut answers: Vec<(i64, String, &str, String)> = Vec::new();
    for (position, text) in &kind.items {
        match input
            .answers
            .iter()
            .find(|a| a.0 == *position)
            .and_then(|a| faults::read_result(&a.1).map(|r| (r, a.2.clone())))
        {
            Some((result, note)) => {
                answers.push((*position, text.clone(), result, trim_blank(&note).chars().take(500).collect()))
            }
            None => problems.push(FieldProblem::new("answers", "field-checklist-answer").with("item", text)),
        }
    }
    let failed: Vec<&(i64, String, &str, String)> = answers.iter().filter(|a| a.2 == "fail").collect();
    let mut work = app.begin(cap.actor(), meta).await?;
    let assigned = if failed.is_empty() {
        None
    } else {
        crate::people::assignment(work.conn(), &input.responsible, &input.deadline, today, &mut problems).await?
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let Some(checked_on) = checked_on else { return Err(AppError::Invalid(problems)) };
    let now = work.now();
    let number = gridsafe_store::numbers::next(work.conn(), "HG", checked_on).await?;
    let new = store::NewCheck {
        number: &number,
        unit: unit.id,
        kind: &kind.code,
        checked_on,
        checker: &checker,
        note: &note,
        answers: &answers,
        by: &cap.actor().name,
    };
    let id = store::insert_check(work.conn(), &new, now).await?;
    let mut hazards = Vec::new();
    if let Some((owner, owner_label, deadline)) = &assigned {
        let deadline = *deadline;
        for (_, text, _, item_note) in &failed {
            let hazard = crate::customers::NewHazard {
                customer_id: None,
                inspection_id: None,
                source_kind: "compliance",
                source_id: Some(id),
                unit_id: unit.id,
                title: format!("{number} {}：{text}", kind.name).chars().take(200).collect(),
                description: item_note.clone(),
                grade: app.crossaudit_config().finding_grade.clone(),
                responsibility: Responsibility::Grid,
                plan: Some(crate::customers::HazardPlan {
                    owner: *owner,
                    owner_label: owner_label.clone(),
                    deadline,
                    task: text.clone(),
                }),
            };
            hazards.push(crate::customers::insert_hazard(work.conn(), cap.actor(), &hazard, now).await?.1);
        }
    }
    work.audit(NewEvent::new("compliance_check.recorded", "compliance_check", id).unit(unit.id).summary(
        serde_json::json!({
            "number": number, "kind": kind.code, "checked_on": checked_on.to_string(),
            "failed": failed.len(), "hazards": hazards,
        }),
    ))
    .await?;
    work.commit().await?;
    Ok(id)
}
