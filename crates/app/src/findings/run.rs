//! Running the cross-audit inside the application: GridSafe's own people, qualifications,
//! contractors and tickets, with the imported work orders and meter events, through the same
//! engine as `gridsafe audit`; the findings kept, refreshed and resolved.

use std::collections::HashMap;
use std::time::Instant;

use chrono::NaiveDateTime;
use gridsafe_crossaudit::engine;
use gridsafe_crossaudit::input::{
    Contractor, Evaluation, EventKind, MeterEvent, ORDER_TYPES, Person, QualKind, Qualification, SafetyAgreement,
    Tables, Ticket, TicketStatus, WorkOrder,
};
use gridsafe_domain::access::Actor;
use gridsafe_domain::orders::OrderType;
use gridsafe_domain::tickets::{State, Times};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;

use crate::audit::{NewEvent, append};
use crate::{App, AppError, RequestMeta};

fn local(text: &str) -> Result<NaiveDateTime, AppError> {
    Timestamp::from_db(text)
        .map(|t| t.as_utc().with_timezone(&gridsafe_domain::time::CHINA).naive_local())
        .ok_or_else(|| AppError::internal("stored time"))
}

fn day(text: &str) -> Result<chrono::NaiveDate, AppError> {
    crate::people::stored_day(text).ok_or_else(|| AppError::internal("stored day"))
}

/// Everything the rules read, from the database, as the export format's tables.
pub async fn tables(app: &App) -> Result<Tables, AppError> {
    let pool = app.db().pool();
    let mut t = Tables::default();
    for r in sqlx::query(
        "SELECT p.code, p.name, u.name, c.code FROM people p JOIN org_units u ON u.id = p.unit_id \
         LEFT JOIN contractors c ON c.id = p.contractor_id",
    )
    .fetch_all(pool)
    .await?
    {
        t.persons.push(Person {
            line: 0,
            person_id: r.try_get(0)?,
            name: r.try_get(1)?,
            org_unit: r.try_get(2)?,
            contractor_id: r.try_get(3)?,
            phone: None,
            post: None,
        });
    }
    for r in sqlx::query(
        "SELECT p.code, q.kind, q.valid_from, q.valid_to FROM qualifications q JOIN people p ON p.id = q.person_id \
         WHERE q.passed = 1 AND q.confirmed_at IS NOT NULL AND q.kind IN ('safety_exam', 'work_leader', 'ticket_issuer', 'work_permitter')",
    )
    .fetch_all(pool)
    .await?
    {
        let kind = match r.try_get::<String, _>(1)?.as_str() {
            "safety_exam" => QualKind::SafetyExam,
            "work_leader" => QualKind::WorkLeader,
            "ticket_issuer" => QualKind::TicketIssuer,
            _ => QualKind::WorkPermitter,
        };
        t.qualifications.push(Qualification {
            line: 0,
            person_id: r.try_get(0)?,
            kind,
            valid_from: day(&r.try_get::<String, _>(2)?)?,
            valid_to: day(&r.try_get::<String, _>(3)?)?,
        });
    }
    for r in sqlx::query("SELECT code, name, license_valid_to, license_level FROM contractors").fetch_all(pool).await? {
        // No licence recorded: valid on no day.
        let valid_to = match r.try_get::<Option<String>, _>(2)? {
            Some(d) => day(&d)?,
            None => chrono::NaiveDate::MIN,
        };
        t.contractors.push(Contractor {
            line: 0,
            contractor_id: r.try_get(0)?,
            name: r.try_get(1)?,
            license_valid_to: valid_to,
            license_level: r.try_get::<Option<i64>, _>(3)?.and_then(|l| u8::try_from(l).ok()),
        });
    }
    // Only confirmed agreements count; one limited to a customer covers only that customer's work.
    for r in sqlx::query(
        "SELECT a.code, c.code, a.valid_from, a.valid_to, a.customer_no FROM safety_agreements a \
         JOIN contractors c ON c.id = a.contractor_id WHERE a.confirmed_at IS NOT NULL",
    )
    .fetch_all(pool)
    .await?
    {
        t.agreements.push(SafetyAgreement {
            line: 0,
            agreement_id: r.try_get(0)?,
            contractor_id: r.try_get(1)?,
            valid_from: day(&r.try_get::<String, _>(2)?)?,
            valid_to: day(&r.try_get::<String, _>(3)?)?,
            project: None,
            customer_id: r.try_get(4)?,
        });
    }
    for r in sqlx::query(
        "SELECT order_id, order_type, customer_id, org_unit, started_at, finished_at, workers FROM marketing_orders",
    )
    .fetch_all(pool)
    .await?
    {
        let code: String = r.try_get(1)?;
        let Some((_, _, order_type)) = ORDER_TYPES.iter().find(|(c, _, _)| *c == code) else { continue };
        let workers: String = r.try_get(6)?;
        t.work_orders.push(WorkOrder {
            line: 0,
            order_id: r.try_get(0)?,
            order_type: *order_type,
            customer_id: r.try_get(2)?,
            org_unit: r.try_get(3)?,
            started_at: local(&r.try_get::<String, _>(4)?)?,
            finished_at: local(&r.try_get::<String, _>(5)?)?,
            workers: workers.split(';').filter(|w| !w.is_empty()).map(str::to_owned).collect(),
        });
    }
    for r in sqlx::query("SELECT event_id, meter_id, customer_id, kind, occurred_at FROM meter_events")
        .fetch_all(pool)
        .await?
    {
        let kind = match r.try_get::<String, _>(3)?.as_str() {
            "cover_open" => EventKind::CoverOpen,
            "terminal_cover_open" => EventKind::TerminalCoverOpen,
            "power_down" => EventKind::PowerDown,
            "power_up" => EventKind::PowerUp,
            _ => EventKind::Other,
        };
        t.meter_events.push(MeterEvent {
            line: 0,
            event_id: r.try_get(0)?,
            meter_id: r.try_get(1)?,
            customer_id: r.try_get(2)?,
            kind,
            occurred_at: local(&r.try_get::<String, _>(4)?)?,
        });
    }
    tickets(app, &mut t).await?;
    Ok(t)
}

/// GridSafe's tickets as the export writes them, each with the window it authorises
/// ([`Times::authorised`]: from its 许可 to its 工作终结, open while work goes on); tickets that
/// never authorised work (never permitted) are left out, 作废 and 未执行 ones kept as such.
async fn tickets(app: &App, t: &mut Tables) -> Result<(), AppError> {
    let pool = app.db().pool();
    let code_of = |col: &str| format!("(SELECT code FROM people WHERE id = t.{col}) AS {col}_code");
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT t.id, t.number, tt.name AS type_name, t.customer_id, {}, {}, {}, {}, t.state, t.planned_start, t.planned_end, \
         t.extended_to, t.permitted_at, t.work_ended_at, t.finished_at, t.verdict, t.work_kind \
         FROM tickets t JOIN ticket_types tt ON tt.code = t.type_code WHERE t.permitted_at IS NOT NULL",
        code_of("issuer_id"),
        code_of("co_issuer_id"),
        code_of("leader_id"),
        code_of("permitter_id"),
    )))
    .fetch_all(pool)
    .await?;
    let mut crews: HashMap<i64, Vec<String>> = HashMap::new();
    for r in
        sqlx::query("SELECT k.ticket_id, p.code FROM ticket_crew k JOIN people p ON p.id = k.person_id ORDER BY p.code")
            .fetch_all(pool)
            .await?
    {
        crews.entry(r.try_get(0)?).or_default().push(r.try_get(1)?);
    }
    let mut orders: HashMap<i64, Vec<String>> = HashMap::new();
    for r in sqlx::query("SELECT ticket_id, order_id FROM ticket_orders").fetch_all(pool).await? {
        orders.entry(r.try_get(0)?).or_default().push(r.try_get(1)?);
    }
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let stamp = |c: &str| -> Result<Option<Timestamp>, AppError> {
            r.try_get::<Option<String>, _>(c)?
                .map(|s| Timestamp::from_db(&s).ok_or_else(|| AppError::internal("stored time")))
                .transpose()
        };
        let state =
            State::from_code(&r.try_get::<String, _>("state")?).ok_or_else(|| AppError::internal("ticket state"))?;
        let times = Times {
            state,
            planned_start: stamp("planned_start")?.ok_or_else(|| AppError::internal("stored time"))?,
            planned_end: stamp("planned_end")?.ok_or_else(|| AppError::internal("stored time"))?,
            extended_to: stamp("extended_to")?,
            permitted_at: stamp("permitted_at")?,
            work_ended_at: stamp("work_ended_at")?,
            finished_at: stamp("finished_at")?,
        };
        let china = |ts: Timestamp| ts.as_utc().with_timezone(&gridsafe_domain::time::CHINA).naive_local();
        let (status, permitted_at, ended_at) = match (state, times.authorised()) {
            (_, Some(span)) => (
                if span.until.is_some() { TicketStatus::Ended } else { TicketStatus::Open },
                Some(china(span.from)),
                span.until.map(china),
            ),
            (State::NotExecuted, None) => (TicketStatus::NotExecuted, times.permitted_at.map(china), None),
            (_, None) => (TicketStatus::Void, times.permitted_at.map(china), None),
        };
        let opt = |c: &str| -> Result<String, AppError> { Ok(r.try_get::<Option<String>, _>(c)?.unwrap_or_default()) };
        t.tickets.push(Ticket {
            line: 0,
            ticket_id: r.try_get("number")?,
            kind: r.try_get("type_name")?,
            customer_id: opt("customer_id")?,
            order_ids: orders.remove(&id).unwrap_or_default(),
            issuer: opt("issuer_id_code")?,
            co_issuer: opt("co_issuer_id_code")?,
            leader: opt("leader_id_code")?,
            permitter: opt("permitter_id_code")?,
            crew: crews.remove(&id).unwrap_or_default(),
            permitted_at,
            ended_at,
            status,
            evaluation: match r.try_get::<Option<String>, _>("verdict")?.as_deref() {
                Some("pass") => Some(Evaluation::Pass),
                Some("fail") => Some(Evaluation::Fail),
                _ => None,
            },
            work_kind: OrderType::parse(&r.try_get::<String, _>("work_kind")?),
        });
    }
    Ok(())
}

/// What one run found.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct RunSummary {
    /// Findings the rules produce now.
    pub findings: u64,
    /// Of those, first seen in this run.
    pub new: u64,
    /// Open findings the rules no longer produce, now resolved.
    pub resolved: u64,
    pub millis: u64,
}

/// The unit and month (`YYYY-MM`, China time) a finding belongs to.
struct Placement {
    orders: HashMap<String, (i64, String)>,
    tickets: HashMap<String, (i64, String)>,
    events: HashMap<String, (i64, String)>,
    fallback: i64,
}

fn month_of(stored: &str) -> String {
    Timestamp::from_db(stored).map(|t| t.local_date().format("%Y-%m").to_string()).unwrap_or_default()
}

async fn placement(app: &App) -> Result<Placement, AppError> {
    let pool = app.db().pool();
    let mut p = Placement { orders: HashMap::new(), tickets: HashMap::new(), events: HashMap::new(), fallback: 0 };
    for r in sqlx::query("SELECT order_id, unit_id, started_at FROM marketing_orders").fetch_all(pool).await? {
        p.orders.insert(r.try_get(0)?, (r.try_get(1)?, month_of(&r.try_get::<String, _>(2)?)));
    }
    for r in sqlx::query("SELECT number, unit_id, planned_start FROM tickets").fetch_all(pool).await? {
        p.tickets.insert(r.try_get(0)?, (r.try_get(1)?, month_of(&r.try_get::<String, _>(2)?)));
    }
    for r in sqlx::query("SELECT event_id, unit_id, occurred_at FROM meter_events").fetch_all(pool).await? {
        p.events.insert(r.try_get(0)?, (r.try_get(1)?, month_of(&r.try_get::<String, _>(2)?)));
    }
    p.fallback = sqlx::query_scalar("SELECT MIN(id) FROM org_units WHERE parent_id IS NULL")
        .fetch_one(pool)
        .await
        .map(|v: Option<i64>| v.unwrap_or(0))?;
    Ok(p)
}

impl Placement {
    fn of(&self, kind: &str, id: &str, today: &str) -> (i64, String) {
        let found = match kind {
            "order" => self.orders.get(id),
            "ticket" => self.tickets.get(id),
            _ => self.events.get(id),
        };
        found.cloned().unwrap_or_else(|| (self.fallback, today.to_owned()))
    }
}

/// Runs every rule now and brings the findings up to date, in one transaction: new ones open,
/// seen ones refreshed (a resolved one that comes back opens again), open ones no longer found
/// resolved. Reviewed findings keep their review.
pub async fn run_audit(app: &App, actor: &Actor, meta: &RequestMeta, cause: &str) -> Result<RunSummary, AppError> {
    let started = Instant::now();
    let tables = tables(app).await?;
    let today = app.today();
    let mut thresholds = app.crossaudit_config().thresholds();
    // GridSafe's tickets know their work kind: the set to evaluate is the deployment's.
    thresholds.must_evaluate = app.tickets_config().must_evaluate_set();
    let found = engine::audit(&tables, today, &thresholds);
    let place = placement(app).await?;
    let now = app.now();
    let at = now.to_db();
    let this_month = today.format("%Y-%m").to_string();
    let mut known: HashMap<(String, String, String, String), (i64, String)> = HashMap::new();
    for r in sqlx::query("SELECT id, rule, entity_kind, entity_id, subject, state FROM findings")
        .fetch_all(app.db().pool())
        .await?
    {
        known.insert((r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?), (r.try_get(0)?, r.try_get(5)?));
    }
    let mut summary = RunSummary { findings: found.len() as u64, ..RunSummary::default() };
    let mut tx = app.db().begin_write().await?;
    for f in &found {
        let key = (f.rule.to_owned(), f.entity_kind.to_owned(), f.entity_id.clone(), f.subject.clone());
        match known.remove(&key) {
            Some((id, state)) => {
                let reopened = if state == "resolved" { "open" } else { state.as_str() };
                sqlx::query(
                    "UPDATE findings SET last_seen_at = $1, detail = $2, state = $3, resolved_at = NULL WHERE id = $4",
                )
                .bind(&at)
                .bind(&f.detail)
                .bind(reopened)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                let (unit, month) = place.of(f.entity_kind, &f.entity_id, &this_month);
                sqlx::query(
                    "INSERT INTO findings (rule, entity_kind, entity_id, subject, detail, unit_id, month, state, first_seen_at, last_seen_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $8)",
                )
                .bind(f.rule)
                .bind(f.entity_kind)
                .bind(&f.entity_id)
                .bind(&f.subject)
                .bind(&f.detail)
                .bind(unit)
                .bind(&month)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
                summary.new += 1;
            }
        }
    }
    for (_, (id, state)) in known {
        if state == "open" {
            sqlx::query("UPDATE findings SET state = 'resolved', resolved_at = $1 WHERE id = $2")
                .bind(&at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            summary.resolved += 1;
        }
    }
    summary.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    sqlx::query(
        "INSERT INTO crossaudit_runs (cause, as_of, findings, new_findings, resolved, millis, ran_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(cause)
    .bind(today.to_string())
    .bind(i64::try_from(summary.findings).unwrap_or(i64::MAX))
    .bind(i64::try_from(summary.new).unwrap_or(i64::MAX))
    .bind(i64::try_from(summary.resolved).unwrap_or(i64::MAX))
    .bind(i64::try_from(summary.millis).unwrap_or(i64::MAX))
    .bind(&at)
    .execute(&mut *tx)
    .await?;
    let event =
        NewEvent::new("crossaudit.ran", "crossaudit", cause).summary(serde_json::to_value(summary).unwrap_or_default());
    append(&mut tx, actor, meta, now, event).await?;
    tx.commit().await?;
    Ok(summary)
}
