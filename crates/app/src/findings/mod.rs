//! Cross-audit in the application (营销倒查): imported work orders and meter events checked by the
//! rules of `cross-audit.md` against GridSafe's own tickets, people, qualifications and
//! contractors; the findings reviewed by the safety auditor; confirmed ones become rectification
//! tasks (整改任务) of the responsible unit; monthly counts per unit.

mod import;
mod run;

pub use import::{MarketingImport, import_marketing};
pub use run::{RunSummary, run_audit, tables};

use std::collections::BTreeMap;

use chrono::NaiveDate;
use gridsafe_domain::access::{Capability, PermissionMarker, perm};
use gridsafe_domain::findings::{FindingState, Review, check_close, check_review, overdue};
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;

use crate::audit::{NewEvent, append};
use crate::{App, AppError, FieldProblem, RequestMeta};

/// The capabilities that read findings and tasks.
pub trait FindingsReach: PermissionMarker {}
impl FindingsReach for perm::FindingsView {}
impl FindingsReach for perm::FindingsReview {}

#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    pub id: i64,
    pub rule: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub subject: String,
    pub detail: String,
    pub unit_id: i64,
    pub unit_name: String,
    /// `YYYY-MM` of the work.
    pub month: String,
    pub state: FindingState,
    pub review_reason: Option<String>,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    /// The hazard its confirmation opened in the closed loop.
    pub hazard_id: Option<i64>,
    #[serde(skip)]
    pub unit_path: String,
}

const FINDING_COLUMNS: &str = "f.id, f.rule, f.entity_kind, f.entity_id, f.subject, f.detail, f.unit_id, u.name, u.path, \
    f.month, f.state, f.review_reason, f.reviewed_by, f.reviewed_at, \
    (SELECT MIN(h.id) FROM hazards h WHERE h.source_kind = 'finding' AND h.source_id = f.id)";

fn finding_from(r: &sqlx::any::AnyRow) -> Result<FindingRow, sqlx::Error> {
    let state: String = r.try_get(10)?;
    Ok(FindingRow {
        id: r.try_get(0)?,
        rule: r.try_get(1)?,
        entity_kind: r.try_get(2)?,
        entity_id: r.try_get(3)?,
        subject: r.try_get(4)?,
        detail: r.try_get(5)?,
        unit_id: r.try_get(6)?,
        unit_name: r.try_get(7)?,
        unit_path: r.try_get(8)?,
        month: r.try_get(9)?,
        state: FindingState::from_code(&state).ok_or_else(|| sqlx::Error::Decode("finding state".into()))?,
        review_reason: r.try_get(11)?,
        reviewed_by: r.try_get(12)?,
        reviewed_at: r
            .try_get::<Option<String>, _>(13)?
            .and_then(|t| Timestamp::from_db(&t))
            .map(|t| t.local_display()),
        hazard_id: r.try_get(14)?,
    })
}

/// Which findings a list shows.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub rule: Option<String>,
    pub state: Option<FindingState>,
    /// `YYYY-MM`
    pub month: Option<String>,
    pub unit_id: Option<i64>,
}

/// Findings in reach, newest month first.
pub async fn list_findings<P: FindingsReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &FindingFilter,
    limit: u32,
) -> Result<Vec<FindingRow>, AppError> {
    let (clause, mut binds) = crate::identity::scope_clause("u.path", cap.scope(), 1);
    let mut sql =
        format!("SELECT {FINDING_COLUMNS} FROM findings f JOIN org_units u ON u.id = f.unit_id WHERE {clause}");
    for (column, value) in [("f.rule", filter.rule.clone()), ("f.month", filter.month.clone())] {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            binds.push(v.trim().to_owned());
            sql.push_str(&format!(" AND {column} = ${}", binds.len()));
        }
    }
    if let Some(state) = filter.state {
        binds.push(state.code().to_owned());
        sql.push_str(&format!(" AND f.state = ${}", binds.len()));
    }
    if let Some(unit) = filter.unit_id {
        // An integer; the unit's subtree.
        sql.push_str(&format!(" AND u.path LIKE (SELECT path FROM org_units WHERE id = {unit}) || '%'"));
    }
    sql.push_str(&format!(" ORDER BY f.month DESC, f.rule, f.entity_id, f.subject LIMIT {}", limit.clamp(1, 100_000)));
    let rows = gridsafe_store::bound(sql, &binds).fetch_all(app.db().pool()).await?;
    Ok(rows.iter().map(finding_from).collect::<Result<_, _>>()?)
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

#[derive(Debug, Clone, Serialize)]
pub struct OrderEvidence {
    pub order_id: String,
    pub order_type: String,
    pub customer_id: String,
    pub org_unit: String,
    pub started_at: String,
    pub finished_at: String,
    pub workers: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventEvidence {
    pub event_id: String,
    pub meter_id: String,
    pub customer_id: String,
    pub kind: String,
    pub occurred_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TicketEvidence {
    pub id: i64,
    pub number: String,
    pub type_name: String,
    pub state: String,
    pub customer_id: Option<String>,
    pub permitted_at: Option<String>,
    pub finished_at: Option<String>,
    pub orders: Vec<String>,
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

fn display(stored: &str) -> String {
    Timestamp::from_db(stored).map(|t| t.local_display()).unwrap_or_default()
}

async fn tickets_where(app: &App, condition: &str, value: &str) -> Result<Vec<TicketEvidence>, AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT t.id, t.number, tt.name, t.state, t.customer_id, \
         (SELECT MAX(s.at) FROM ticket_steps s WHERE s.ticket_id = t.id AND s.step = 'permit'), t.finished_at \
         FROM tickets t JOIN ticket_types tt ON tt.code = t.type_code WHERE {condition} ORDER BY t.planned_start LIMIT 20"
    )))
    .bind(value)
    .fetch_all(app.db().pool())
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let id: i64 = r.try_get(0)?;
        let orders = sqlx::query_scalar("SELECT order_id FROM ticket_orders WHERE ticket_id = $1 ORDER BY order_id")
            .bind(id)
            .fetch_all(app.db().pool())
            .await?;
        out.push(TicketEvidence {
            id,
            number: r.try_get(1)?,
            type_name: r.try_get(2)?,
            state: r.try_get(3)?,
            customer_id: r.try_get(4)?,
            permitted_at: r.try_get::<Option<String>, _>(5)?.map(|t| display(&t)),
            finished_at: r.try_get::<Option<String>, _>(6)?.map(|t| display(&t)),
            orders,
        });
    }
    Ok(out)
}

async fn person_evidence(app: &App, code: &str, day: Option<NaiveDate>) -> Result<PersonEvidence, AppError> {
    let row = sqlx::query(
        "SELECT p.id, p.name, c.name FROM people p LEFT JOIN contractors c ON c.id = p.contractor_id WHERE p.code = $1",
    )
    .bind(code)
    .fetch_optional(app.db().pool())
    .await?;
    let Some(row) = row else {
        return Ok(PersonEvidence {
            code: code.to_owned(),
            name: String::new(),
            contractor: None,
            qualifications: Vec::new(),
        });
    };
    let id: i64 = row.try_get(0)?;
    let qualifications = crate::people::qualifications_of(app, id)
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
    Ok(PersonEvidence { code: code.to_owned(), name: row.try_get(1)?, contractor: row.try_get(2)?, qualifications })
}

/// One finding in reach with its evidence: the order, the ticket(s), the people and their
/// qualifications on the day of the work, the meter event.
pub async fn finding<P: FindingsReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<FindingDetail, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {FINDING_COLUMNS} FROM findings f JOIN org_units u ON u.id = f.unit_id WHERE f.id = $1"
    )))
    .bind(id)
    .fetch_optional(app.db().pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let finding = finding_from(&row)?;
    crate::identity::check_stored_path(cap, &finding.unit_path)?;
    let pool = app.db().pool();
    let mut detail =
        FindingDetail { finding, day: None, order: None, event: None, tickets: Vec::new(), people: Vec::new() };
    let mut codes: Vec<String> = Vec::new();
    match detail.finding.entity_kind.as_str() {
        "order" => {
            if let Some(r) = sqlx::query(
                "SELECT order_id, order_type, customer_id, org_unit, started_at, finished_at, workers FROM marketing_orders WHERE order_id = $1",
            )
            .bind(&detail.finding.entity_id)
            .fetch_optional(pool)
            .await?
            {
                let started: String = r.try_get(4)?;
                detail.day = Timestamp::from_db(&started).map(|t| t.local_date());
                let workers: String = r.try_get(6)?;
                let order = OrderEvidence {
                    order_id: r.try_get(0)?,
                    order_type: r.try_get(1)?,
                    customer_id: r.try_get(2)?,
                    org_unit: r.try_get(3)?,
                    started_at: display(&started),
                    finished_at: display(&r.try_get::<String, _>(5)?),
                    workers: workers.split(';').filter(|w| !w.is_empty()).map(str::to_owned).collect(),
                };
                codes.extend(order.workers.iter().cloned());
                let mut tickets = tickets_where(
                    app,
                    "t.id IN (SELECT ticket_id FROM ticket_orders WHERE order_id = $1)",
                    &order.order_id,
                )
                .await?;
                for t in tickets_where(app, "t.customer_id = $1", &order.customer_id).await? {
                    if !tickets.iter().any(|k| k.id == t.id) {
                        tickets.push(t);
                    }
                }
                detail.tickets = tickets;
                detail.order = Some(order);
            }
        }
        "ticket" => {
            detail.tickets = tickets_where(app, "t.number = $1", &detail.finding.entity_id).await?;
            if let Some(t) = detail.tickets.first() {
                let permitted = t.permitted_at.clone();
                let ticket_id = t.id;
                detail.day = match permitted {
                    Some(_) => sqlx::query_scalar::<_, Option<String>>(
                        "SELECT MAX(at) FROM ticket_steps WHERE ticket_id = $1 AND step = 'permit'",
                    )
                    .bind(ticket_id)
                    .fetch_one(pool)
                    .await?
                    .and_then(|s| Timestamp::from_db(&s))
                    .map(|t| t.local_date()),
                    None => None,
                };
                let people: Vec<String> = sqlx::query_scalar(
                    "SELECT p.code FROM people p WHERE p.id IN (SELECT issuer_id FROM tickets WHERE id = $1 UNION \
                     SELECT co_issuer_id FROM tickets WHERE id = $1 UNION SELECT leader_id FROM tickets WHERE id = $1 UNION \
                     SELECT permitter_id FROM tickets WHERE id = $1 UNION SELECT person_id FROM ticket_crew WHERE ticket_id = $1) \
                     ORDER BY p.code",
                )
                .bind(ticket_id)
                .fetch_all(pool)
                .await?;
                codes.extend(people);
            }
        }
        _ => {
            if let Some(r) =
                sqlx::query("SELECT event_id, meter_id, customer_id, kind, occurred_at FROM meter_events WHERE event_id = $1")
                    .bind(&detail.finding.entity_id)
                    .fetch_optional(pool)
                    .await?
            {
                let at: String = r.try_get(4)?;
                detail.day = Timestamp::from_db(&at).map(|t| t.local_date());
                let event = EventEvidence {
                    event_id: r.try_get(0)?,
                    meter_id: r.try_get(1)?,
                    customer_id: r.try_get(2)?,
                    kind: r.try_get(3)?,
                    occurred_at: display(&at),
                };
                detail.tickets = tickets_where(app, "t.customer_id = $1", &event.customer_id).await?;
                detail.event = Some(event);
            }
        }
    }
    let subject = detail.finding.subject.clone();
    if !subject.is_empty() && !codes.contains(&subject) && detail.finding.rule != "EVENT_WITHOUT_TICKET" {
        let is_person: Option<i64> =
            sqlx::query_scalar("SELECT id FROM people WHERE code = $1").bind(&subject).fetch_optional(pool).await?;
        if is_person.is_some() {
            codes.push(subject);
        }
    }
    for code in codes {
        if !detail.people.iter().any(|p| p.code == code) {
            detail.people.push(person_evidence(app, &code, detail.day).await?);
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
    let f = finding(app, cap, id).await?.finding;
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
    let now = app.now();
    let at = now.to_db();
    let mut tx = app.db().begin_write().await?;
    let changed = sqlx::query(
        "UPDATE findings SET state = $1, review_reason = $2, reviewed_by = $3, reviewed_at = $4 WHERE id = $5 AND state = 'open'",
    )
    .bind(next.code())
    .bind((!trim_blank(reason).is_empty()).then(|| trim_blank(reason)))
    .bind(&cap.actor().name)
    .bind(&at)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::Conflict("conflict-finding-changed"));
    }
    let mut hazard_id = None;
    if let Some(deadline) = deadline {
        let rule = gridsafe_crossaudit::engine::Rule::from_code(&f.rule).map_or(f.rule.as_str(), |r| r.chinese());
        let title = format!("{rule} {} {}", f.entity_id, f.subject).trim().to_owned();
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
            plan: Some((trim_blank(&task.responsible).to_owned(), deadline, title)),
        };
        let (hid, _) = crate::customers::insert_hazard(&mut tx, cap.actor(), &new, now).await?;
        hazard_id = Some(hid);
    }
    let event = NewEvent::new(
        if decision == Review::Confirm { "finding.confirmed" } else { "finding.dismissed" },
        "finding",
        id,
    )
    .unit(f.unit_id)
    .summary(serde_json::json!({
        "rule": f.rule, "entity": format!("{}:{}", f.entity_kind, f.entity_id), "subject": f.subject,
        "reason": trim_blank(reason), "hazard": hazard_id, "deadline": deadline.map(|d| d.to_string()),
    }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(hazard_id)
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskRow {
    pub id: i64,
    pub source_kind: String,
    pub source_id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub title: String,
    pub responsible: String,
    pub deadline: String,
    pub open: bool,
    pub overdue: bool,
    pub evidence: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    #[serde(skip)]
    pub unit_path: String,
}

/// Rectification tasks in reach: open ones first, by deadline. `overdue` is judged on today.
pub async fn list_tasks<P: FindingsReach>(
    app: &App,
    cap: &Capability<P>,
    only_open: bool,
) -> Result<Vec<TaskRow>, AppError> {
    let (clause, binds) = crate::identity::scope_clause("u.path", cap.scope(), 1);
    let open = if only_open { " AND k.state = 'open'" } else { "" };
    let sql = format!(
        "SELECT k.id, k.source_kind, k.source_id, k.unit_id, u.name, u.path, k.title, k.responsible, k.deadline, k.state, \
         k.evidence, k.closed_at, k.closed_by FROM rectification_tasks k JOIN org_units u ON u.id = k.unit_id \
         WHERE {clause}{open} ORDER BY CASE WHEN k.state = 'open' THEN 0 ELSE 1 END, k.deadline, k.id LIMIT 2000"
    );
    let today = app.today();
    let rows = gridsafe_store::bound(sql, &binds).fetch_all(app.db().pool()).await?;
    rows.iter()
        .map(|r| {
            let deadline: String = r.try_get(8)?;
            let open = r.try_get::<String, _>(9)? == "open";
            Ok(TaskRow {
                id: r.try_get(0)?,
                source_kind: r.try_get(1)?,
                source_id: r.try_get(2)?,
                unit_id: r.try_get(3)?,
                unit_name: r.try_get(4)?,
                unit_path: r.try_get(5)?,
                title: r.try_get(6)?,
                responsible: r.try_get(7)?,
                overdue: crate::people::stored_day(&deadline).is_some_and(|d| overdue(open, d, today)),
                deadline,
                open,
                evidence: r.try_get(10)?,
                closed_at: r.try_get::<Option<String>, _>(11)?.map(|t| display(&t)),
                closed_by: r.try_get(12)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

/// Closes a task with the evidence of its rectification (销号).
pub async fn close_task(
    app: &App,
    cap: &Capability<perm::FindingsReview>,
    meta: &RequestMeta,
    id: i64,
    evidence: &str,
) -> Result<(), AppError> {
    let row = sqlx::query(
        "SELECT k.state, u.path, k.unit_id FROM rectification_tasks k JOIN org_units u ON u.id = k.unit_id WHERE k.id = $1",
    )
    .bind(id)
    .fetch_optional(app.db().pool())
    .await?
    .ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &row.try_get::<String, _>(1)?)?;
    if evidence.chars().count() > 2000 {
        return Err(AppError::Invalid(vec![FieldProblem::new("evidence", "field-name-length").with("max", 2000)]));
    }
    check_close(row.try_get::<String, _>(0)? == "open", evidence)?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let changed = sqlx::query(
        "UPDATE rectification_tasks SET state = 'closed', evidence = $1, closed_at = $2, closed_by = $3 WHERE id = $4 AND state = 'open'",
    )
    .bind(trim_blank(evidence))
    .bind(now.to_db())
    .bind(&cap.actor().name)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::Conflict("conflict-finding-changed"));
    }
    let event = NewEvent::new("task.closed", "rectification_task", id)
        .unit(row.try_get(2)?)
        .summary(serde_json::json!({ "evidence_characters": trim_blank(evidence).chars().count() }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// Counts of one unit's month, by rule (dismissed findings not counted).
#[derive(Debug, Clone, Serialize)]
pub struct UnitMonthKpi {
    pub unit_id: i64,
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
    let (clause, mut binds) = crate::identity::scope_clause("u.path", cap.scope(), 1);
    binds.push(first);
    let sql = format!(
        "SELECT f.unit_id, u.name, f.month, f.rule, COUNT(*) FROM findings f JOIN org_units u ON u.id = f.unit_id \
         WHERE {clause} AND f.state <> 'dismissed' AND f.month >= ${} GROUP BY f.unit_id, u.name, f.month, f.rule \
         ORDER BY f.unit_id, f.month",
        binds.len()
    );
    let mut out: Vec<UnitMonthKpi> = Vec::new();
    for r in gridsafe_store::bound(sql, &binds).fetch_all(app.db().pool()).await? {
        let unit_id: i64 = r.try_get(0)?;
        let month: String = r.try_get(2)?;
        let count = u64::try_from(r.try_get::<i64, _>(4)?).unwrap_or(0);
        if !out.last().is_some_and(|k| k.unit_id == unit_id && k.month == month) {
            out.push(UnitMonthKpi { unit_id, unit_name: r.try_get(1)?, month, by_rule: BTreeMap::new() });
        }
        if let Some(k) = out.last_mut() {
            k.by_rule.insert(r.try_get(3)?, count);
        }
    }
    Ok(out)
}

/// The last runs of the cross-audit: (when, cause, findings, new, resolved, milliseconds).
pub async fn recent_runs(app: &App) -> Result<Vec<(String, String, i64, i64, i64, i64)>, AppError> {
    let rows = sqlx::query(
        "SELECT ran_at, cause, findings, new_findings, resolved, millis FROM crossaudit_runs ORDER BY id DESC LIMIT 5",
    )
    .fetch_all(app.db().pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                display(&r.try_get::<String, _>(0)?),
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}
