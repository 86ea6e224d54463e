//! Cross-audit in the application (营销倒查): imported work orders and meter events checked by the
//! rules of `cross-audit.md` against GridSafe's own tickets, people, qualifications and
//! contractors; the findings reviewed by the safety auditor; confirmed ones become rectification
//! tasks (整改任务) of the responsible unit; monthly counts per unit.

mod import;
mod push;
mod run;

pub use import::{MarketingImport, import_marketing, import_marketing_files};
pub use push::{PushOutcome, PushedEvent, PushedOrder, push_events, push_orders};
pub use run::{RunSummary, run_audit, tables};

use std::collections::BTreeMap;

use chrono::NaiveDate;
use gridsafe_domain::access::{Capability, PermissionMarker, perm};
use gridsafe_domain::findings::{FindingState, Review, check_close, check_review, overdue};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::text::trim_blank;
use gridsafe_store::Conn;
use gridsafe_store::findings::{self as store, TicketsOf};
use serde::Serialize;

use crate::audit::NewEvent;
use crate::{App, AppError, FieldProblem, RequestMeta};

/// The capabilities that read findings and tasks.
pub trait FindingsReach: PermissionMarker {}
impl FindingsReach for perm::FindingsView {}
impl FindingsReach for perm::FindingsReview {}

pub use gridsafe_store::findings::{After, EventEvidence, FindingRow, OrderEvidence, TaskRow, TicketEvidence};

/// Which findings a list shows.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub rule: Option<String>,
    pub state: Option<FindingState>,
    /// `YYYY-MM`
    pub month: Option<String>,
    pub unit_id: Option<UnitId>,
}

/// Findings in reach, newest month first.
pub async fn list_findings<P: FindingsReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &FindingFilter,
    after: Option<&store::After>,
    limit: u32,
) -> Result<Vec<FindingRow>, AppError> {
    Ok(store::findings(&mut *app.db().read().await?, cap.scope(), &filter.stored(), after, limit).await?)
}

/// How many findings in reach the filter selects.
pub async fn count_findings<P: FindingsReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &FindingFilter,
) -> Result<i64, AppError> {
    Ok(store::count(&mut *app.db().read().await?, cap.scope(), &filter.stored()).await?)
}

impl FindingFilter {
    fn stored(&self) -> store::Filter {
        store::Filter { rule: self.rule.clone(), state: self.state, month: self.month.clone(), unit_id: self.unit_id }
    }
}

/// A qualification as evidence: valid on the day of the work or not.
#[derive(Debug, Clone, Serialize)]
pub struct QualificationOnDay {
    pub kind: String,
    pub valid_from: String,
    pub valid_to: String,
    pub valid: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PersonEvidence {
    pub code: String,
    /// Empty when GridSafe's register does not know the person.
    pub name: String,
    pub contractor: Option<String>,
    pub qualifications: Vec<QualificationOnDay>,
}

/// A finding with what it is about, side by side.
#[derive(Debug, Clone, Serialize)]
pub struct FindingDetail {
    pub finding: FindingRow,
    /// The day qualifications are judged on.
    pub day: Option<NaiveDate>,
    pub order: Option<OrderEvidence>,
    pub event: Option<EventEvidence>,
    pub tickets: Vec<TicketEvidence>,
    pub people: Vec<PersonEvidence>,
}

async fn person_evidence(conn: &mut Conn, code: &str, day: Option<NaiveDate>) -> Result<PersonEvidence, AppError> {
    let Some((id, name, contractor)) = store::person_by_code(conn, code).await? else {
        return Ok(PersonEvidence {
            code: code.to_owned(),
            name: String::new(),
            contractor: None,
            qualifications: Vec::new(),
        });
    };
    let qualifications = gridsafe_store::people::qualifications_of(conn, id)
        .await?
        .into_iter()
        .filter(|q| q.passed && !q.is_draft())
        .map(|q| {
            let valid = match (day, crate::people::stored_day(&q.valid_from), crate::people::stored_day(&q.valid_to)) {
                (Some(d), Some(from), Some(to)) => from <= d && d <= to,
                _ => false,
            };
            QualificationOnDay { kind: q.kind, valid_from: q.valid_from, valid_to: q.valid_to, valid }
        })
        .collect();
    Ok(PersonEvidence { code: code.to_owned(), name, contractor, qualifications })
}

/// One finding in reach with its evidence: the order, the ticket(s), the people and their
/// qualifications on the day of the work, the meter event.
pub async fn finding<P: FindingsReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<FindingDetail, AppError> {
    let mut conn = app.db().read().await?;
    let finding = store::finding(&mut conn, id, false).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &finding.unit_path)?;
    let mut detail =
        FindingDetail { finding, day: None, order: None, event: None, tickets: Vec::new(), people: Vec::new() };
    let mut codes: Vec<String> = Vec::new();
    match detail.finding.entity_kind.as_str() {
        "order" => {
            if let Some((order, day)) = store::order(&mut conn, &detail.finding.entity_id).await? {
                detail.day = Some(day);
                codes.extend(order.workers.iter().cloned());
                let mut tickets = store::tickets_of(&mut conn, TicketsOf::Order(&order.order_id)).await?;
                for t in store::tickets_of(&mut conn, TicketsOf::Customer(&order.customer_id)).await? {
                    if !tickets.iter().any(|k| k.id == t.id) {
                        tickets.push(t);
                    }
                }
                detail.tickets = tickets;
                detail.order = Some(order);
            }
        }
        "ticket" => {
            detail.tickets = store::tickets_of(&mut conn, TicketsOf::Number(&detail.finding.entity_id)).await?;
            if let Some(t) = detail.tickets.first() {
                detail.day = t.permitted_on;
                let ticket_id = t.id;
                codes.extend(store::ticket_people(&mut conn, ticket_id).await?);
            }
        }
        _ => {
            if let Some((event, day)) = store::event(&mut conn, &detail.finding.entity_id).await? {
                detail.day = Some(day);
                detail.tickets = store::tickets_of(&mut conn, TicketsOf::Customer(&event.customer_id)).await?;
                detail.event = Some(event);
            }
        }
    }
    let subject = detail.finding.subject.clone();
    if !subject.is_empty() && !codes.contains(&subject) && detail.finding.rule != "EVENT_WITHOUT_TICKET" {
        let is_person = store::person_by_code(&mut conn, &subject).await?;
        if is_person.is_some() {
            codes.push(subject);
        }
    }
    for code in codes {
        if !detail.people.iter().any(|p| p.code == code) {
            let evidence = person_evidence(&mut conn, &code, detail.day).await?;
            detail.people.push(evidence);
        }
    }
    Ok(detail)
}

/// A rectification task as the confirmation creates it.
#[derive(Debug, Clone, Default)]
pub struct TaskInput {
    /// The person or post responsible (free text, e.g. `孝南装表接电班 张伟`).
    pub responsible: String,
    /// `YYYY-MM-DD`; default today plus `crossaudit.task_days`.
    pub deadline: String,
}

/// The safety auditor's review of an open finding: confirm or dismiss with a reason. A
/// confirmed finding opens a grid-side hazard of the finding's unit in the one closed loop, in
/// the same transaction: planned with its responsible person, deadline and task, then rectified,
/// reviewed (复查) and closed (销号), escalated (督办) when overdue. Answers the hazard's id.
pub async fn review(
    app: &App,
    cap: &Capability<perm::FindingsReview>,
    meta: &RequestMeta,
    id: i64,
    decision: Review,
    reason: &str,
    task: TaskInput,
) -> Result<Option<i64>, AppError> {
    let mut work = app.begin(cap.actor(), meta).await?;
    // Load: the finding, held, so that two reviews at once cannot both open a hazard.
    let f = store::finding(work.conn(), id, true).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &f.unit_path)?;
    let mut problems = Vec::new();
    if reason.chars().count() > 500 {
        problems.push(FieldProblem::new("reason", "field-name-length").with("max", 500));
    }
    let deadline = match (decision, task.deadline.trim()) {
        (Review::Confirm, "") => {
            Some(app.today() + chrono::Duration::days(i64::from(app.crossaudit_config().task_days)))
        }
        (Review::Confirm, text) => crate::people::parse_day("deadline", text, &mut problems),
        (Review::Dismiss, _) => None,
    };
    if decision == Review::Confirm {
        if trim_blank(&task.responsible).is_empty() || task.responsible.chars().count() > 100 {
            problems.push(FieldProblem::new("responsible", "field-name-length").with("max", 100));
        }
        if deadline.is_some_and(|d| d < app.today()) {
            problems.push(FieldProblem::new("deadline", "field-deadline-past"));
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let next = check_review(f.state, decision, reason)?;
    let now = work.now();
    let why = Some(trim_blank(reason)).filter(|r| !r.is_empty());
    if !store::review(work.conn(), id, next, why, &cap.actor().name, now).await? {
        return Err(AppError::Conflict("conflict-finding-changed"));
    }
    let mut hazard_id = None;
    if let Some(deadline) = deadline {
        let rule = gridsafe_crossaudit::engine::Rule::from_code(&f.rule)
            .map(|r| r.chinese())
            .or_else(|| gridsafe_domain::plans::PlanAudit::from_code(&f.rule).map(|r| r.chinese()))
            .or_else(|| {
                (f.rule == gridsafe_domain::supervision::audit::CODE)
                    .then_some(gridsafe_domain::supervision::audit::CHINESE)
            })
            .or_else(|| {
                (f.rule == gridsafe_domain::projects::audit::CODE).then_some(gridsafe_domain::projects::audit::CHINESE)
            })
            .unwrap_or(f.rule.as_str());
        let title = format!("{rule} {} {}", f.entity_id, f.subject).trim().to_owned();
        let (owner, owner_label) = crate::people::responsible(work.conn(), "responsible", &task.responsible).await?;
        let new = crate::customers::NewHazard {
            customer_id: None,
            inspection_id: None,
            source_kind: "finding",
            source_id: Some(id),
            unit_id: f.unit_id,
            title: title.chars().take(100).collect(),
            description: f.detail.clone(),
            grade: app.crossaudit_config().finding_grade.clone(),
            responsibility: gridsafe_domain::hazards::Responsibility::Grid,
            plan: Some(crate::customers::HazardPlan { owner, owner_label, deadline, task: title }),
        };
        let (hid, _) = crate::customers::insert_hazard(work.conn(), cap.actor(), &new, now).await?;
        hazard_id = Some(hid);
    }
    let action = if decision == Review::Confirm { "finding.confirmed" } else { "finding.dismissed" };
    work.audit(NewEvent::new(action, "finding", id).unit(f.unit_id).summary(serde_json::json!({
        "rule": f.rule, "entity": format!("{}:{}", f.entity_kind, f.entity_id), "subject": f.subject,
        "reason": trim_blank(reason), "hazard": hazard_id, "deadline": deadline.map(|d| d.to_string()),
    })))
    .await?;
    work.commit().await?;
    Ok(hazard_id)
}

/// Rectification tasks in reach: open ones first, by deadline. `overdue` is judged on today.
pub async fn list_tasks<P: FindingsReach>(
    app: &App,
    cap: &Capability<P>,
    only_open: bool,
) -> Result<Vec<TaskRow>, AppError> {
    let today = app.today();
    let mut tasks = store::tasks(&mut *app.db().read().await?, cap.scope(), only_open).await?;
    for t in &mut tasks {
        t.overdue = crate::people::stored_day(&t.deadline).is_some_and(|d| overdue(t.open, d, today));
    }
    Ok(tasks)
}

/// Closes a task with the evidence of its rectification (销号).
pub async fn close_task(
    app: &App,
    cap: &Capability<perm::FindingsReview>,
    meta: &RequestMeta,
    id: i64,
    evidence: &str,
) -> Result<(), AppError> {
    let mut work = app.begin(cap.actor(), meta).await?;
    let (open, path, unit_id) = store::task(work.conn(), id).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &path)?;
    if evidence.chars().count() > 2000 {
        return Err(AppError::Invalid(vec![FieldProblem::new("evidence", "field-name-length").with("max", 2000)]));
    }
    check_close(open, evidence)?;
    let now = work.now();
    if !store::close_task(work.conn(), id, trim_blank(evidence), &cap.actor().name, now).await? {
        return Err(AppError::Conflict("conflict-finding-changed"));
    }
    work.audit(
        NewEvent::new("task.closed", "rectification_task", id)
            .unit(unit_id)
            .summary(serde_json::json!({ "evidence_characters": trim_blank(evidence).chars().count() })),
    )
    .await?;
    work.commit().await
}

/// Counts of one unit's month, by rule (dismissed findings not counted).
#[derive(Debug, Clone, Serialize)]
pub struct UnitMonthKpi {
    pub unit_id: UnitId,
    pub unit_name: String,
    pub month: String,
    pub by_rule: BTreeMap<String, u64>,
}

impl UnitMonthKpi {
    pub fn count(&self, rule: &str) -> u64 {
        self.by_rule.get(rule).copied().unwrap_or(0)
    }

    /// 单人作业: by order and by ticket together.
    pub fn single_person(&self) -> u64 {
        self.count("SINGLE_PERSON_ORDER") + self.count("SINGLE_PERSON_TICKET")
    }

    pub fn total(&self) -> u64 {
        self.by_rule.values().sum()
    }

    /// The three lines of the trend chart: 无票作业, 单人作业, the other rules.
    pub fn series(&self) -> [u64; 3] {
        let no_ticket = self.count("NO_TICKET");
        let single = self.single_person();
        [no_ticket, single, self.total() - no_ticket - single]
    }
}

/// Per unit in reach and month (the last `months`, ending with the current one), the findings
/// by rule, dismissed ones excluded.
pub async fn kpis<P: FindingsReach>(
    app: &App,
    cap: &Capability<P>,
    months: u32,
) -> Result<Vec<UnitMonthKpi>, AppError> {
    let today = app.today();
    let first = {
        use chrono::Datelike;
        let mut y = today.year();
        let mut m = i64::from(today.month()) - i64::from(months.clamp(1, 60)) + 1;
        while m < 1 {
            m += 12;
            y -= 1;
        }
        format!("{y:04}-{m:02}")
    };
    let mut out: Vec<UnitMonthKpi> = Vec::new();
    for (unit_id, unit_name, month, rule, count) in
        store::counts(&mut *app.db().read().await?, cap.scope(), &first).await?
    {
        let count = u64::try_from(count).unwrap_or(0);
        if !out.last().is_some_and(|k| k.unit_id == unit_id && k.month == month) {
            out.push(UnitMonthKpi { unit_id, unit_name, month, by_rule: BTreeMap::new() });
        }
        if let Some(k) = out.last_mut() {
            k.by_rule.insert(rule, count);
        }
    }
    Ok(out)
}

/// The last runs of the cross-audit: (when, cause, findings, new, resolved, milliseconds).
pub async fn recent_runs(app: &App) -> Result<Vec<(String, String, i64, i64, i64, i64)>, AppError> {
    Ok(store::recent_runs(&mut *app.db().read().await?).await?)
}
