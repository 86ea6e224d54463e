//! The customers' voice (article §4.4): safety-related 95598 complaints, imported from the
//! customer-service system's export or recorded by hand, and third-party / 行风 / visit
//! evaluations of a unit's service; each linked to its customer and unit and, when it shows a
//! hazard, to a new hazard in the closed loop.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::emergency::{EvaluationKind, safety_related};
use gridsafe_domain::hazards::Responsibility;
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::time::Timestamp;
use gridsafe_sheet::Cell;
use gridsafe_store::emergency::{self as store, ComplaintRow, EvaluationRow, Linked};
use serde::Serialize;

use super::{EmergencyReach, day_field, text_field};
use crate::audit::NewEvent;
use crate::batches::{Batches, Least};
use crate::customers::RowProblem;
use crate::{App, AppError, FieldProblem, RequestMeta};

/// One unit's month.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UnitFeedback {
    pub unit_name: String,
    pub complaints: usize,
    /// Complaints that opened a hazard.
    pub with_hazard: usize,
    pub evaluations: usize,
    pub average_score: Option<f64>,
}

/// A month of complaints and evaluations, per unit, with the six months' trend.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Feedback {
    pub month: String,
    /// The month's latest complaints and evaluations, at most [`SHOWN`] of each, and how many
    /// the month holds (the counts below are of all of them).
    pub complaints: Vec<ComplaintRow>,
    pub evaluations: Vec<EvaluationRow>,
    pub complaints_total: usize,
    pub evaluations_total: usize,
    pub units: Vec<UnitFeedback>,
    /// (`YYYY-MM`, complaints) for the month and the five before it.
    pub trend: Vec<(String, usize)>,
}

fn month_start(first: NaiveDate, back: u32) -> NaiveDate {
    first.checked_sub_months(chrono::Months::new(back)).unwrap_or(first)
}

/// The most complaints, and evaluations, a month's page lists (the latest); its counts are of all.
pub const SHOWN: usize = 200;

/// The month starting on `first` in reach: every complaint of its six months and every
/// evaluation of it counted, a batch at a time from one snapshot, however many there are.
pub async fn feedback<P: EmergencyReach>(
    app: &App,
    cap: &Capability<P>,
    first: NaiveDate,
) -> Result<Feedback, AppError> {
    let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
    let since = month_start(first, 5);
    let month = first.format("%Y-%m").to_string();
    let mut conn = app.db().snapshot().await?;
    let mut trend: BTreeMap<String, usize> =
        (0..6).map(|i| (month_start(first, i).format("%Y-%m").to_string(), 0)).collect();
    let mut units: BTreeMap<String, (UnitFeedback, f64)> = BTreeMap::new();
    let (mut complaints, mut complaints_total) = (Least::new(SHOWN), 0);
    let (from, to) = (Timestamp::start_of_local_day(since), Timestamp::start_of_local_day(next));
    let mut batches = Batches::new(None, crate::batches::BATCH);
    while let Some(after) = batches.next() {
        let rows = store::complaints(&mut conn, cap.scope(), from, to, after, crate::batches::BATCH).await?;
        batches.read(&rows, |c| c.id);
        for c in rows {
            let day = c.received_at.local_date();
            *trend.entry(day.format("%Y-%m").to_string()).or_default() += 1;
            if day >= first {
                let u = &mut units.entry(c.unit_name.clone()).or_default().0;
                u.complaints += 1;
                u.with_hazard += usize::from(c.hazard_id.is_some());
                complaints_total += 1;
                complaints.offer(Reverse((c.received_at, c.id)), c);
            }
        }
    }
    let (mut evaluations, mut evaluations_total) = (Least::new(SHOWN), 0);
    let mut batches = Batches::new(None, crate::batches::BATCH);
    while let Some(after) = batches.next() {
        let rows = store::evaluations(&mut conn, cap.scope(), &month, &month, after, crate::batches::BATCH).await?;
        batches.read(&rows, |e| e.id);
        for e in rows {
            let (u, sum) = units.entry(e.unit_name.clone()).or_default();
            u.evaluations += 1;
            *sum += e.score;
            evaluations_total += 1;
            evaluations.offer(Reverse(e.id), e);
        }
    }
    Ok(Feedback {
        month,
        units: units
            .into_iter()
            .map(|(name, (mut u, sum))| {
                u.unit_name = name;
                u.average_score = (u.evaluations > 0).then(|| (sum * 10.0 / u.evaluations as f64).round() / 10.0);
                u
            })
            .collect(),
        trend: trend.into_iter().collect(),
        complaints: complaints.into_sorted(),
        evaluations: evaluations.into_sorted(),
        complaints_total,
        evaluations_total,
    })
}

/// A complaint as entered by hand.
#[derive(Debug, Clone, Default)]
pub struct ComplaintInput {
    /// 工单编号
    pub ticket_no: String,
    /// Local time `YYYY-MM-DD HH:MM`.
    pub received_at: String,
    /// 户号 (a customer of the register, or one not in it)
    pub account_no: String,
    pub category: String,
    pub content: String,
    /// The unit when the customer is not in the register.
    pub unit_id: UnitId,
}

/// The most rows one complaint export brings.
pub const MAX_COMPLAINT_ROWS: usize = 5000;

/// Records one complaint; its unit is its customer's, else the one given.
pub async fn record_complaint(
    app: &App,
    cap: &Capability<perm::FeedbackRecord>,
    meta: &RequestMeta,
    input: ComplaintInput,
) -> Result<i64, AppError> {
    let mut problems = Vec::new();
    let ticket_no = text_field("ticket_no", &input.ticket_no, 40, true, &mut problems);
    let account = text_field("account_no", &input.account_no, 40, false, &mut problems);
    let category = text_field("category", &input.category, 40, true, &mut problems);
    let content = text_field("content", &input.content, 2000, true, &mut problems);
    let received = crate::tickets::local_time("received_at", &input.received_at.replace('T', " "), &mut problems);
    if received.is_some_and(|r| r > app.now()) {
        problems.push(FieldProblem::new("received_at", "field-outage-told-future"));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let known = if account.is_empty() { None } else { store::customer_by_account(work.conn(), &account).await? };
    let unit = known.map_or(input.unit_id, |k| k.1);
    match gridsafe_store::identity::unit_by_id(work.conn(), unit).await? {
        Some(u) => cap.check(&u.path)?,
        None => problems.push(FieldProblem::new("unit_id", "field-unit")),
    }
    if store::complaint_known(work.conn(), &ticket_no).await? {
        problems.push(FieldProblem::new("ticket_no", "field-complaint-known").with("value", &ticket_no));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let Some(received_at) = received else { return Err(AppError::Invalid(problems)) };
    let now = work.now();
    let new = store::NewComplaint {
        ticket_no: &ticket_no,
        received_at,
        account_no: &account,
        customer: known.map(|k| k.0),
        category: &category,
        content: &content,
        unit,
        import_file: None,
        by: &cap.actor().name,
    };
    let id = store::insert_complaint(work.conn(), &new, now).await?;
    work.audit(NewEvent::new("complaint.recorded", "complaint", id).unit(unit).summary(serde_json::json!({
        "ticket_no": ticket_no, "category": category, "customer": known.map(|k| k.0),
    })))
    .await?;
    work.commit().await?;
    Ok(id)
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ComplaintImport {
    pub imported: usize,
    /// 工单编号 already kept, left as they were.
    pub known: usize,
    /// Rows of other categories (电费咨询…), left out.
    pub not_safety: usize,
}

const COLUMNS: [(&str, &str, bool); 6] = [
    ("ticket_no", "工单编号", true),
    ("received_at", "受理时间", true),
    ("account_no", "户号", false),
    ("category", "类别", true),
    ("content", "内容", true),
    ("unit", "供电单位", false),
];

/// Imports the customer-service system's export of complaints (CSV or `.xlsx`, Chinese or English
/// headers): the safety-related rows, all of them or every problem named by file, line and column
/// and nothing written. A 工单编号 already kept is left as it is.
pub async fn import_complaints(
    app: &App,
    cap: &Capability<perm::FeedbackRecord>,
    meta: &RequestMeta,
    files: &[(String, Vec<u8>)],
) -> Result<Result<ComplaintImport, Vec<RowProblem>>, AppError> {
    let tables = match crate::customers::read_files(files) {
        Ok(t) => t,
        Err(p) => return Ok(Err(p)),
    };
    let units = crate::customers::unit_names(app, cap).await?;
    let problem = |file: &str, line: usize, column: String, value: String, message: &'static str| RowProblem {
        file: file.to_owned(),
        line,
        column,
        value,
        message,
        args: Vec::new(),
    };
    let mut problems = Vec::new();
    let mut done = ComplaintImport::default();
    #[allow(clippy::type_complexity)]
    let mut rows: Vec<(String, String, Timestamp, String, String, String, Option<UnitId>)> = Vec::new();
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
            if rows.len() + done.not_safety >= MAX_COMPLAINT_ROWS {
                problems.push(RowProblem::too_many_rows(t, row.line, MAX_COMPLAINT_ROWS));
                break;
            }
            let cell = |i: usize| at[i].and_then(|p| row.cells.get(p));
            let value = |i: usize| cell(i).map(Cell::shown).map(|v| trim_blank(&v).to_owned()).unwrap_or_default();
            let header = |i: usize| at[i].and_then(|p| t.headers.get(p).cloned()).unwrap_or_default();
            let category = value(3);
            if !category.is_empty() && !safety_related(&category) {
                done.not_safety += 1;
                continue;
            }
            let mut bad = |i: usize, v: &str, message: &'static str| {
                problems.push(problem(&t.source, row.line, header(i), gridsafe_sheet::quoted(v), message));
            };
            let ticket_no = value(0);
            if ticket_no.is_empty() || ticket_no.chars().count() > 40 {
                bad(0, &ticket_no, "input-problem-empty");
            } else if rows.iter().any(|r| r.0 == ticket_no) {
                bad(0, &ticket_no, "field-complaint-twice");
            }
            let received = match cell(1).map(gridsafe_sheet::parse_datetime) {
                Some(Ok(at)) => Some(Timestamp::from_local(at)),
                _ => {
                    bad(1, &value(1), "input-problem-bad-datetime");
                    None
                }
            };
            if category.is_empty() {
                bad(3, "", "input-problem-empty");
            }
            let content = value(4);
            if content.is_empty() {
                bad(4, "", "input-problem-empty");
            }
            let unit_text = value(5);
            let unit = if unit_text.is_empty() {
                None
            } else {
                let found = units.get(&unit_text).copied();
                if found.is_none() {
                    bad(5, &unit_text, "input-problem-unknown-reference");
                }
                found
            };
            if let Some(received) = received {
                let content: String = content.chars().take(2000).collect();
                rows.push((
                    ticket_no,
                    value(2),
                    received,
                    category.chars().take(40).collect(),
                    content,
                    row.line.to_string(),
                    unit,
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let file = tables.iter().map(|t| t.source.as_str()).collect::<Vec<_>>().join("、");
    for (ticket_no, account, received_at, category, content, line, unit) in &rows {
        if store::complaint_known(work.conn(), ticket_no).await? {
            done.known += 1;
            continue;
        }
        let known = if account.is_empty() { None } else { store::customer_by_account(work.conn(), account).await? };
        let Some(unit) = known.map(|k| k.1).or(*unit) else {
            let column = COLUMNS[5].1.to_owned();
            problems.push(problem(&file, line.parse().unwrap_or(0), column, account.clone(), "field-complaint-unit"));
            continue;
        };
        let new = store::NewComplaint {
            ticket_no,
            received_at: *received_at,
            account_no: account,
            customer: known.map(|k| k.0),
            category,
            content,
            unit,
            import_file: Some(&file),
            by: &cap.actor().name,
        };
        store::insert_complaint(work.conn(), &new, now).await?;
        done.imported += 1;
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    work.audit(NewEvent::new("complaints.imported", "complaint", "import").summary(serde_json::json!({
        "files": file, "imported": done.imported, "known": done.known, "not_safety": done.not_safety,
    })))
    .await?;
    work.commit().await?;
    Ok(Ok(done))
}

/// What opens a hazard from a complaint or an evaluation: the person of the register who answers
/// for it, by when, and what is to be done.
#[derive(Debug, Clone, Default)]
pub struct HazardInput {
    pub title: String,
    pub responsible: String,
    pub deadline: String,
}

async fn open_hazard(
    app: &App,
    work: &mut crate::Work<'_>,
    cap: &Capability<perm::FeedbackRecord>,
    (source_kind, source_id): (&'static str, i64),
    (unit, customer): (UnitId, Option<i64>),
    description: String,
    input: &HazardInput,
) -> Result<(i64, String), AppError> {
    let mut problems = Vec::new();
    let title = text_field("title", &input.title, 200, true, &mut problems);
    let deadline = day_field("deadline", &input.deadline, &mut problems);
    if deadline.is_some_and(|d| d < app.today()) {
        problems.push(FieldProblem::new("deadline", "field-emergency-deadline").with("value", input.deadline.trim()));
    }
    let owner = match crate::people::responsible(work.conn(), "responsible", &input.responsible).await {
        Ok(o) => Some(o),
        Err(AppError::Invalid(list)) => {
            problems.extend(list);
            None
        }
        Err(e) => return Err(e),
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let (Some(deadline), Some((owner, owner_label))) = (deadline, owner) else {
        return Err(AppError::Invalid(problems));
    };
    let hazard = crate::customers::NewHazard {
        customer_id: customer,
        inspection_id: None,
        source_kind,
        source_id: Some(source_id),
        unit_id: unit,
        title: title.clone(),
        description,
        grade: app.crossaudit_config().finding_grade.clone(),
        responsibility: Responsibility::Grid,
        plan: Some(crate::customers::HazardPlan { owner, owner_label, deadline, task: title }),
    };
    let now = work.now();
    crate::customers::insert_hazard(work.conn(), cap.actor(), &hazard, now).await
}

/// Opens a hazard in the closed loop from a complaint that shows one; once per complaint.
pub async fn complaint_hazard(
    app: &App,
    cap: &Capability<perm::FeedbackRecord>,
    meta: &RequestMeta,
    id: i64,
    input: HazardInput,
) -> Result<i64, AppError> {
    let mut work = app.begin(cap.actor(), meta).await?;
    let c = store::complaint(work.conn(), id, true).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &c.unit_path)?;
    if c.hazard_id.is_some() {
        return Err(AppError::Conflict("conflict-complaint-hazard"));
    }
    let description = format!("95598 {} · {} · {}", c.ticket_no, c.category, c.content).chars().take(2000).collect();
    let (hazard, number) =
        open_hazard(app, &mut work, cap, ("complaint", id), (c.unit_id, c.customer_id), description, &input).await?;
    store::set_hazard(work.conn(), Linked::Complaint, id, hazard).await?;
    work.audit(NewEvent::new("complaint.hazard_opened", "complaint", id).unit(c.unit_id).summary(serde_json::json!({
        "ticket_no": c.ticket_no, "hazard": number,
    })))
    .await?;
    work.commit().await?;
    Ok(hazard)
}

/// An evaluation as entered; with `hazard`, it opens one at once.
#[derive(Debug, Clone, Default)]
pub struct EvaluationInput {
    pub unit_id: UnitId,
    /// `YYYY-MM`
    pub period: String,
    /// `third_party`, `conduct` or `visit`.
    pub kind: String,
    pub score: String,
    pub remarks: String,
    pub evaluator: String,
    pub hazard: Option<HazardInput>,
}

/// Records an evaluation of a unit's service for a month (score 0–100).
pub async fn record_evaluation(
    app: &App,
    cap: &Capability<perm::FeedbackRecord>,
    meta: &RequestMeta,
    input: EvaluationInput,
) -> Result<i64, AppError> {
    let mut problems = Vec::new();
    let kind = EvaluationKind::from_code(input.kind.trim());
    if kind.is_none() {
        problems.push(FieldProblem::new("kind", "field-invalid"));
    }
    let period = input.period.trim().to_owned();
    let period_ok = NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d")
        .is_ok_and(|d| d <= app.today() && d.year() >= 2000);
    if !period_ok {
        problems.push(FieldProblem::new("period", "field-month").with("value", &period));
    }
    let score = input.score.trim().parse::<f64>().ok().filter(|s| s.is_finite() && (0.0..=100.0).contains(s));
    if score.is_none() {
        problems.push(FieldProblem::new("score", "field-evaluation-score").with("value", input.score.trim()));
    }
    let remarks = text_field("remarks", &input.remarks, 2000, false, &mut problems);
    let evaluator = text_field("evaluator", &input.evaluator, 100, true, &mut problems);
    let mut work = app.begin(cap.actor(), meta).await?;
    match gridsafe_store::identity::unit_by_id(work.conn(), input.unit_id).await? {
        Some(u) => cap.check(&u.path)?,
        None => problems.push(FieldProblem::new("unit_id", "field-unit")),
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let (Some(kind), Some(score)) = (kind, score) else { return Err(AppError::Invalid(problems)) };
    let now = work.now();
    let new = store::NewEvaluation {
        unit: input.unit_id,
        period: &period,
        kind,
        score,
        remarks: &remarks,
        evaluator: &evaluator,
        by: &cap.actor().name,
    };
    let id = store::insert_evaluation(work.conn(), &new, now).await?;
    let mut hazard_number = None;
    if let Some(h) = &input.hazard {
        let description = format!("{} {} · {}", period, evaluator, remarks).chars().take(2000).collect();
        let (hazard, number) =
            open_hazard(app, &mut work, cap, ("evaluation", id), (input.unit_id, None), description, h).await?;
        store::set_hazard(work.conn(), Linked::Evaluation, id, hazard).await?;
        hazard_number = Some(number);
    }
    work.audit(NewEvent::new("evaluation.recorded", "evaluation", id).unit(input.unit_id).summary(serde_json::json!({
        "period": period, "kind": kind.code(), "score": score, "evaluator": evaluator, "hazard": hazard_number,
    })))
    .await?;
    work.commit().await?;
    Ok(id)
}

/// Opens a hazard from an evaluation recorded earlier; once per evaluation.
pub async fn evaluation_hazard(
    app: &App,
    cap: &Capability<perm::FeedbackRecord>,
    meta: &RequestMeta,
    id: i64,
    input: HazardInput,
) -> Result<i64, AppError> {
    let mut work = app.begin(cap.actor(), meta).await?;
    let e = store::evaluation(work.conn(), id).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &e.unit_path)?;
    if e.hazard_id.is_some() {
        return Err(AppError::Conflict("conflict-complaint-hazard"));
    }
    let description = format!("{} {} · {}", e.period, e.evaluator, e.remarks).chars().take(2000).collect();
    let (hazard, number) =
        open_hazard(app, &mut work, cap, ("evaluation", id), (e.unit_id, None), description, &input).await?;
    if !store::set_hazard(work.conn(), Linked::Evaluation, id, hazard).await? {
        return Err(AppError::Conflict("conflict-complaint-hazard"));
    }
    work.audit(NewEvent::new("evaluation.hazard_opened", "evaluation", id).unit(e.unit_id).summary(
        serde_json::json!({
            "hazard": number,
        }),
    ))
    .await?;
    work.commit().await?;
    Ok(hazard)
}
