//! Work tickets' rows: lists, one ticket with its lists, the lifecycle's writes and the other
//! tickets that hold a person. The use cases (`gridsafe_app::tickets`) decide; this module
//! reads and writes.

use std::collections::BTreeMap;

use gridsafe_domain::access::UnitPath;
use gridsafe_domain::ids::{PersonId, TicketId, UnitId};
use gridsafe_domain::orders::OrderType;
use gridsafe_domain::tickets::{Busy, DocumentType, State, Times};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{Fields, code, id, opt_id, opt_stamp, stamp};
use crate::{Conn, StoreError, backend_of, bound, for_update, id_list, like, packed, scope_clause};

const T: &str = "tickets";

/// A person named on a ticket.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRef {
    pub id: PersonId,
    /// 工号
    pub code: String,
    pub name: String,
    pub contractor: Option<String>,
}

impl PersonRef {
    pub fn label(&self) -> String {
        format!("{} {}", self.code, self.name)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CrewMember {
    pub person: PersonRef,
    pub acknowledged_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hazard {
    pub id: i64,
    pub hazard: String,
    pub measure: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrderLink {
    pub order_id: String,
    pub order_type: String,
}

/// A signed step, as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    pub step: String,
    pub from_state: String,
    pub to_state: String,
    pub person: Option<String>,
    pub username: Option<String>,
    pub channel: String,
    /// Local time, `YYYY-MM-DD HH:MM`.
    pub at: String,
    pub detail: Option<String>,
}

/// A ticket in a list.
#[derive(Debug, Clone, Serialize)]
pub struct TicketRow {
    pub id: TicketId,
    pub number: String,
    pub type_code: String,
    pub type_name: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub state: State,
    pub work_kind: OrderType,
    pub customer_id: Option<String>,
    pub customer_name: Option<String>,
    pub location: String,
    pub planned_start: Timestamp,
    pub planned_end: Timestamp,
    pub extended_to: Option<Timestamp>,
    pub leader: Option<String>,
    pub verdict: Option<String>,
    /// The signed 许可, 工作终结 and 终结/未执行/作废.
    #[serde(skip)]
    pub permitted: Option<Timestamp>,
    #[serde(skip)]
    pub work_ended: Option<Timestamp>,
    #[serde(skip)]
    pub finished: Option<Timestamp>,
    #[serde(skip)]
    pub unit_path: String,
}

impl TicketRow {
    pub fn end(&self) -> Timestamp {
        self.times().end()
    }

    pub fn times(&self) -> Times {
        Times {
            state: self.state,
            planned_start: self.planned_start,
            planned_end: self.planned_end,
            extended_to: self.extended_to,
            permitted_at: self.permitted,
            work_ended_at: self.work_ended,
            finished_at: self.finished,
        }
    }

    /// Left at 工作终结 past its validity: its permit giver has yet to close it.
    pub fn close_overdue(&self, now: Timestamp) -> bool {
        self.times().close_overdue(now)
    }
}

const ROW_COLUMNS: &str = "t.id, t.number, t.type_code, tt.name AS type_name, t.unit_id, u.name AS unit_name, \
    u.path AS unit_path, t.state, t.work_kind, t.customer_id, t.customer_name, t.location, t.planned_start, \
    t.planned_end, t.extended_to, lp.code AS leader_code, lp.name AS leader_name, t.verdict, t.permitted_at, \
    t.work_ended_at, t.finished_at";
const ROW_FROM: &str = "tickets t JOIN ticket_types tt ON tt.code = t.type_code JOIN org_units u ON u.id = t.unit_id \
    LEFT JOIN people lp ON lp.id = t.leader_id";

fn row_from(r: &impl Fields) -> Result<TicketRow, StoreError> {
    let leader = match (r.field::<Option<String>>("leader_code")?, r.field::<Option<String>>("leader_name")?) {
        (Some(code), Some(name)) => Some(format!("{code} {name}")),
        _ => None,
    };
    Ok(TicketRow {
        id: id(r, "id")?,
        number: r.field("number")?,
        type_code: r.field("type_code")?,
        type_name: r.field("type_name")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.field("unit_name")?,
        unit_path: r.field("unit_path")?,
        state: code(T, "state", r.field("state")?, State::from_code)?,
        work_kind: code(T, "work_kind", r.field("work_kind")?, OrderType::parse)?,
        customer_id: r.field("customer_id")?,
        customer_name: r.field("customer_name")?,
        location: r.field("location")?,
        planned_start: stamp(T, "planned_start", r.field("planned_start")?)?,
        planned_end: stamp(T, "planned_end", r.field("planned_end")?)?,
        extended_to: opt_stamp(T, "extended_to", r.field("extended_to")?)?,
        leader,
        verdict: r.field("verdict")?,
        permitted: opt_stamp(T, "permitted_at", r.field("permitted_at")?)?,
        work_ended: opt_stamp(T, "work_ended_at", r.field("work_ended_at")?)?,
        finished: opt_stamp(T, "finished_at", r.field("finished_at")?)?,
    })
}

fn local(table: &'static str, column: &'static str, text: Option<String>) -> Result<Option<String>, StoreError> {
    Ok(opt_stamp(table, column, text)?.map(|t| t.local_display()))
}

/// Which tickets a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub state: Option<State>,
    /// A `LIKE` pattern over the number, customer, location and leader.
    pub pattern: Option<String>,
    /// Executed tickets without a verdict (the evaluation backlog).
    pub unevaluated: bool,
    /// Only tickets naming this person.
    pub person: Option<PersonId>,
    /// Only tickets planned to start in `[from, to)`.
    pub starting: Option<(Timestamp, Timestamp)>,
    /// Only drafts of unplanned work whose reason waits for the manager's approval.
    pub awaiting_unplanned: bool,
    /// Oldest planned start first (the default is newest first).
    pub oldest_first: bool,
    /// Where a page starts: after this ticket (its planned start and id) in the list's order.
    pub after: Option<(Timestamp, TicketId)>,
}

/// The `WHERE` of a list of `scope`'s tickets that `filter` selects (all but its page), and the
/// values it binds.
fn selection(scope: &[UnitPath], filter: &Filter) -> (String, Vec<String>) {
    let (clause, binds) = scope_clause("u.path", scope, 1);
    refinement(clause, binds, filter)
}

/// [`selection`] with the scope as the set of its units' ids (`t.unit_id IN (…)`), for a
/// statement that needs nothing else of the unit: counting then reads the ticket index by unit
/// instead of looking up every ticket's unit.
fn selection_by_unit_id(scope: &[UnitPath], filter: &Filter) -> (String, Vec<String>) {
    let (clause, binds) = scope_clause("s.path", scope, 1);
    refinement(format!("t.unit_id IN (SELECT s.id FROM org_units s WHERE {clause})"), binds, filter)
}

/// The filter's conditions after the scope's `clause`.
fn refinement(clause: String, mut binds: Vec<String>, filter: &Filter) -> (String, Vec<String>) {
    let mut sql = clause;
    if let Some(state) = filter.state {
        binds.push(state.code().to_owned());
        sql.push_str(&format!(" AND t.state = ${}", binds.len()));
    }
    if filter.unevaluated {
        sql.push_str(" AND t.state = 'closed' AND t.verdict IS NULL");
    }
    if filter.awaiting_unplanned {
        sql.push_str(
            " AND t.state = 'draft' AND t.plan_item_id IS NULL AND t.unplanned_reason IS NOT NULL \
             AND t.unplanned_approved_at IS NULL",
        );
    }
    if let Some(pattern) = &filter.pattern {
        binds.push(pattern.clone());
        let n = binds.len();
        let terms: Vec<String> = ["t.number", "t.customer_id", "t.customer_name", "t.location", "lp.name"]
            .into_iter()
            .map(|column| like(column, n))
            .collect();
        sql.push_str(&format!(" AND ({})", terms.join(" OR ")));
    }
    if let Some((from, to)) = filter.starting {
        binds.push(from.to_db());
        binds.push(to.to_db());
        sql.push_str(&format!(" AND t.planned_start >= ${} AND t.planned_start < ${}", binds.len() - 1, binds.len()));
    }
    if let Some(person) = filter.person {
        // An integer from the database, not user input.
        sql.push_str(&format!(
            " AND (t.issuer_id = {person} OR t.co_issuer_id = {person} OR t.leader_id = {person} OR t.permitter_id = {person} \
             OR EXISTS (SELECT 1 FROM ticket_crew c WHERE c.ticket_id = t.id AND c.person_id = {person}))"
        ));
    }
    (sql, binds)
}

/// Tickets of the units in `scope`, newest first (or oldest), at most `limit`, from after
/// `filter.after` (keyset: a page costs the same however deep).
pub async fn list(
    conn: &mut Conn,
    scope: &[UnitPath],
    filter: &Filter,
    limit: u32,
) -> Result<Vec<TicketRow>, StoreError> {
    let (clause, mut binds) = selection(scope, filter);
    let mut sql = format!("FROM {ROW_FROM} WHERE {clause}");
    let (cmp, dir) = if filter.oldest_first { (">", "ASC") } else { ("<", "DESC") };
    if let Some((start, id)) = filter.after {
        binds.push(start.to_db());
        let n = binds.len();
        // The id is an integer from the database (the page link), not text.
        let id = id.get();
        sql.push_str(&format!(" AND (t.planned_start {cmp} ${n} OR (t.planned_start = ${n} AND t.id {cmp} {id}))"));
    }
    sql.push_str(&format!(" ORDER BY t.planned_start {dir}, t.id {dir} LIMIT {}", limit.clamp(1, 100_000)));
    let mut rows = packed(conn, T, ROW_COLUMNS, &sql, &binds, |r| row_from(r)).await?;
    // The stored text of an instant sorts as the instant does, so this is the statement's order.
    rows.sort_unstable_by_key(|t| (t.planned_start, t.id));
    if !filter.oldest_first {
        rows.reverse();
    }
    Ok(rows)
}

/// How many tickets of `scope` the filter selects (all pages).
pub async fn count(conn: &mut Conn, scope: &[UnitPath], filter: &Filter) -> Result<i64, StoreError> {
    let (clause, binds) = selection_by_unit_id(scope, filter);
    // Counting needs the leader only when the search reads its name; every ticket has its type
    // and its unit (foreign keys), so those joins would count nothing more.
    let from =
        if filter.pattern.is_some() { "tickets t LEFT JOIN people lp ON lp.id = t.leader_id" } else { "tickets t" };
    let sql = format!("SELECT COUNT(*) AS n FROM {from} WHERE {clause}");
    Ok(bound(sql, &binds).fetch_one(&mut *conn).await?.try_get("n")?)
}

/// A ticket's own row with the fields of its detail page; its lists come from [`lists`].
#[derive(Debug, Clone)]
pub struct Stored {
    pub row: TicketRow,
    pub content: String,
    pub voltage_kv: Option<f64>,
    pub issuer_id: Option<PersonId>,
    pub co_issuer_id: Option<PersonId>,
    pub co_signed_at: Option<String>,
    pub leader_id: Option<PersonId>,
    pub permitter_id: Option<PersonId>,
    pub survey: Option<String>,
    pub survey_at: Option<String>,
    pub survey_by: Option<String>,
    pub finished_at: Option<String>,
    pub finish_reason: Option<String>,
    pub evaluated_by: Option<String>,
    pub evaluated_at: Option<String>,
    pub evaluation_note: Option<String>,
    pub plan: TicketPlan,
}

pub use crate::plans::PlanItemRef;

/// Where a ticket stands against the work plan: the item it names, or the reason it is
/// unplanned (计划外作业) and who approved that.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TicketPlan {
    pub item: Option<PlanItemRef>,
    pub unplanned_reason: Option<String>,
    pub unplanned_by: Option<String>,
    #[serde(skip)]
    pub unplanned_by_user: Option<i64>,
    pub unplanned_at: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
}

/// Ticket `id`. With `hold`, its row is held until the transaction ends (PostgreSQL's
/// `FOR UPDATE`; SQLite's write transaction holds everything), so a step decides on a ticket
/// no one else is changing.
pub async fn get(conn: &mut Conn, ticket: TicketId, hold: bool) -> Result<Option<Stored>, StoreError> {
    if hold {
        let lock = for_update(backend_of(conn));
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id FROM tickets WHERE id = $1{lock}")))
            .bind(ticket.get())
            .fetch_optional(&mut *conn)
            .await?;
    }
    let Some(r) = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ROW_COLUMNS}, t.content, t.voltage_kv, t.issuer_id, t.co_issuer_id, t.co_signed_at, t.leader_id, \
         t.permitter_id, t.survey, t.survey_at, t.survey_by, t.finish_reason, t.evaluated_by, \
         t.evaluated_at, t.evaluation_note, t.plan_item_id, t.unplanned_reason, t.unplanned_by, t.unplanned_by_user, \
         t.unplanned_at, t.unplanned_approved_by, t.unplanned_approved_at FROM {ROW_FROM} WHERE t.id = $1"
    )))
    .bind(ticket.get())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(Stored {
        row: row_from(&r)?,
        content: r.try_get("content")?,
        voltage_kv: r.try_get("voltage_kv")?,
        issuer_id: opt_id(&r, "issuer_id")?,
        co_issuer_id: opt_id(&r, "co_issuer_id")?,
        co_signed_at: local(T, "co_signed_at", r.try_get("co_signed_at")?)?,
        leader_id: opt_id(&r, "leader_id")?,
        permitter_id: opt_id(&r, "permitter_id")?,
        survey: r.try_get("survey")?,
        survey_at: local(T, "survey_at", r.try_get("survey_at")?)?,
        survey_by: r.try_get("survey_by")?,
        finished_at: local(T, "finished_at", r.try_get("finished_at")?)?,
        finish_reason: r.try_get("finish_reason")?,
        evaluated_by: r.try_get("evaluated_by")?,
        evaluated_at: local(T, "evaluated_at", r.try_get("evaluated_at")?)?,
        evaluation_note: r.try_get("evaluation_note")?,
        plan: TicketPlan {
            item: match r.try_get::<Option<i64>, _>("plan_item_id")? {
                Some(item) => crate::plans::item(conn, item).await?,
                None => None,
            },
            unplanned_reason: r.try_get("unplanned_reason")?,
            unplanned_by: r.try_get("unplanned_by")?,
            unplanned_by_user: r.try_get("unplanned_by_user")?,
            unplanned_at: local(T, "unplanned_at", r.try_get("unplanned_at")?)?,
            approved_by: r.try_get("unplanned_approved_by")?,
            approved_at: local(T, "unplanned_approved_at", r.try_get("unplanned_approved_at")?)?,
        },
    }))
}

/// What hangs off a ticket: crew, hazard points, orders, signed steps, evaluation marks.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    pub crew: Vec<CrewMember>,
    pub hazards: Vec<Hazard>,
    pub orders: Vec<OrderLink>,
    pub steps: Vec<StepRecord>,
    pub verdict_reasons: Vec<String>,
}

/// The lists of ticket `id`: five statements however long they are.
pub async fn lists(conn: &mut Conn, ticket: TicketId) -> Result<Lists, StoreError> {
    let ticket = ticket.get();
    let crew = sqlx::query(
        "SELECT p.id, p.code, p.name, c.name AS contractor, k.acknowledged_at FROM ticket_crew k \
         JOIN people p ON p.id = k.person_id LEFT JOIN contractors c ON c.id = p.contractor_id \
         WHERE k.ticket_id = $1 ORDER BY p.code",
    )
    .bind(ticket)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(CrewMember {
            person: PersonRef {
                id: id(r, "id")?,
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                contractor: r.try_get("contractor")?,
            },
            acknowledged_at: local("ticket_crew", "acknowledged_at", r.try_get("acknowledged_at")?)?,
        })
    })
    .collect::<Result<_, StoreError>>()?;
    let hazards =
        sqlx::query("SELECT id, hazard, measure FROM ticket_hazards WHERE ticket_id = $1 ORDER BY sort_order, id")
            .bind(ticket)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok(Hazard { id: r.try_get("id")?, hazard: r.try_get("hazard")?, measure: r.try_get("measure")? }))
            .collect::<Result<_, StoreError>>()?;
    let orders = sqlx::query("SELECT order_id, order_type FROM ticket_orders WHERE ticket_id = $1 ORDER BY order_id")
        .bind(ticket)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(OrderLink { order_id: r.try_get("order_id")?, order_type: r.try_get("order_type")? }))
        .collect::<Result<_, StoreError>>()?;
    let steps = sqlx::query(
        "SELECT s.step, s.from_state, s.to_state, p.code, p.name, s.username, s.channel, s.at, s.detail \
         FROM ticket_steps s LEFT JOIN people p ON p.id = s.person_id WHERE s.ticket_id = $1 ORDER BY s.id",
    )
    .bind(ticket)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        let person = match (r.try_get::<Option<String>, _>("code")?, r.try_get::<Option<String>, _>("name")?) {
            (Some(c), Some(n)) => Some(format!("{c} {n}")),
            _ => None,
        };
        Ok(StepRecord {
            step: r.try_get("step")?,
            from_state: r.try_get("from_state")?,
            to_state: r.try_get("to_state")?,
            person,
            username: r.try_get("username")?,
            channel: r.try_get("channel")?,
            at: stamp("ticket_steps", "at", r.try_get("at")?)?.local_display(),
            detail: r.try_get("detail")?,
        })
    })
    .collect::<Result<_, StoreError>>()?;
    let verdict_reasons =
        sqlx::query_scalar("SELECT reason_code FROM ticket_eval_marks WHERE ticket_id = $1 ORDER BY reason_code")
            .bind(ticket)
            .fetch_all(&mut *conn)
            .await?;
    Ok(Lists { crew, hazards, orders, steps, verdict_reasons })
}

/// The people of `ids` as tickets name them, by id: one statement.
pub async fn people(conn: &mut Conn, ids: &[PersonId]) -> Result<BTreeMap<PersonId, PersonRef>, StoreError> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT p.id, p.code, p.name, c.name AS contractor FROM people p LEFT JOIN contractors c ON c.id = p.contractor_id \
         WHERE p.id IN ({})",
        id_list(ids)
    )))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        let p = PersonRef {
            id: id(r, "id")?,
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            contractor: r.try_get("contractor")?,
        };
        Ok((p.id, p))
    })
    .collect()
}

/// The other tickets that hold any of `people` from `since` on, each for the span
/// [`Times::holds`] gives (one definition for the lifecycle and the cross-audit): two
/// statements however many tickets and crews.
pub async fn busy(
    conn: &mut Conn,
    ticket: TicketId,
    people: &[PersonId],
    since: Timestamp,
) -> Result<Vec<Busy>, StoreError> {
    if people.is_empty() {
        return Ok(Vec::new());
    }
    let list = id_list(people);
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT t.id, t.number, t.state, t.planned_start, t.planned_end, t.extended_to, t.permitted_at, t.work_ended_at, \
         t.finished_at, t.leader_id FROM tickets t \
         WHERE t.id <> $1 AND t.state IN ('issued', 'received', 'permitted', 'started', 'interrupted', 'work_ended', 'closed') \
         AND COALESCE(t.work_ended_at, t.extended_to, t.planned_end) > $2 \
         AND (t.leader_id IN ({list}) OR EXISTS (SELECT 1 FROM ticket_crew c WHERE c.ticket_id = t.id AND c.person_id IN ({list})))"
    )))
    .bind(ticket.get())
    .bind(since.to_db())
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
    let mut held: BTreeMap<i64, Vec<PersonId>> = BTreeMap::new();
    for r in sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT ticket_id, person_id FROM ticket_crew WHERE ticket_id IN ({})",
        id_list(&ids)
    )))
    .fetch_all(&mut *conn)
    .await?
    {
        held.entry(r.try_get("ticket_id")?).or_default().push(id(&r, "person_id")?);
    }
    let mut out = Vec::new();
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let mut people = held.remove(&id).unwrap_or_default();
        people.extend(opt_id::<PersonId>(&r, "leader_id")?);
        let times = Times {
            state: code(T, "state", r.try_get("state")?, State::from_code)?,
            planned_start: stamp(T, "planned_start", r.try_get("planned_start")?)?,
            planned_end: stamp(T, "planned_end", r.try_get("planned_end")?)?,
            extended_to: opt_stamp(T, "extended_to", r.try_get("extended_to")?)?,
            permitted_at: opt_stamp(T, "permitted_at", r.try_get("permitted_at")?)?,
            work_ended_at: opt_stamp(T, "work_ended_at", r.try_get("work_ended_at")?)?,
            finished_at: opt_stamp(T, "finished_at", r.try_get("finished_at")?)?,
        };
        out.extend(Busy::of(r.try_get("number")?, people, &times));
    }
    Ok(out)
}

/// Moves ticket `id` from `from` to `to`; false when it was no longer in `from`.
pub async fn set_state(
    conn: &mut Conn,
    id: TicketId,
    from: State,
    to: State,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let id = id.get();
    let changed = sqlx::query("UPDATE tickets SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4")
        .bind(to.code())
        .bind(at.to_db())
        .bind(id)
        .bind(from.code())
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(changed == 1)
}

/// A stamp a lifecycle step leaves on the ticket besides its state.
#[derive(Debug, Clone, Copy)]
pub enum Stamp<'a> {
    CoSigned,
    Permitted,
    WorkEnded,
    Extended {
        to: Timestamp,
    },
    /// 终结, 未执行 or 作废, with the reason given.
    Finished {
        reason: Option<&'a str>,
    },
    Acknowledged {
        person: Option<PersonId>,
    },
    LeaderChanged {
        to: PersonId,
    },
    CrewAdded {
        person: PersonId,
    },
    CrewRemoved {
        person: PersonId,
    },
}

/// Writes what a step leaves on ticket `id` at `at`.
pub async fn stamp_step(conn: &mut Conn, id: TicketId, what: Stamp<'_>, at: Timestamp) -> Result<(), StoreError> {
    let id = id.get();
    let at = at.to_db();
    let q = match what {
        Stamp::CoSigned => sqlx::query("UPDATE tickets SET co_signed_at = $1 WHERE id = $2").bind(at).bind(id),
        Stamp::Permitted => sqlx::query("UPDATE tickets SET permitted_at = $1 WHERE id = $2").bind(at).bind(id),
        Stamp::WorkEnded => sqlx::query("UPDATE tickets SET work_ended_at = $1 WHERE id = $2").bind(at).bind(id),
        Stamp::Extended { to } => {
            sqlx::query("UPDATE tickets SET extended_to = $1 WHERE id = $2").bind(to.to_db()).bind(id)
        }
        Stamp::Finished { reason } => {
            sqlx::query("UPDATE tickets SET finished_at = $1, finish_reason = $2 WHERE id = $3")
                .bind(at)
                .bind(reason)
                .bind(id)
        }
        Stamp::Acknowledged { person } => {
            sqlx::query("UPDATE ticket_crew SET acknowledged_at = $1 WHERE ticket_id = $2 AND person_id = $3")
                .bind(at)
                .bind(id)
                .bind(person.map(PersonId::get))
        }
        Stamp::LeaderChanged { to } => {
            sqlx::query("DELETE FROM ticket_crew WHERE ticket_id = $1 AND person_id = $2")
                .bind(id)
                .bind(to.get())
                .execute(&mut *conn)
                .await?;
            sqlx::query("UPDATE tickets SET leader_id = $1 WHERE id = $2").bind(to.get()).bind(id)
        }
        Stamp::CrewAdded { person } => {
            sqlx::query("INSERT INTO ticket_crew (ticket_id, person_id) VALUES ($1, $2)").bind(id).bind(person.get())
        }
        Stamp::CrewRemoved { person } => {
            sqlx::query("DELETE FROM ticket_crew WHERE ticket_id = $1 AND person_id = $2").bind(id).bind(person.get())
        }
    };
    q.execute(&mut *conn).await?;
    Ok(())
}

/// A signature in `ticket_steps`: who, when, from which channel.
#[derive(Debug, Clone)]
pub struct Signature<'a> {
    pub ticket_id: TicketId,
    pub step: &'a str,
    pub from: State,
    pub to: State,
    pub person: Option<PersonId>,
    /// The account, unless a job signed.
    pub username: Option<&'a str>,
    pub channel: &'a str,
    pub at: Timestamp,
    pub detail: Option<&'a serde_json::Value>,
}

pub async fn sign(conn: &mut Conn, s: &Signature<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO ticket_steps (ticket_id, step, from_state, to_state, person_id, username, channel, at, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(s.ticket_id.get())
    .bind(s.step)
    .bind(s.from.code())
    .bind(s.to.code())
    .bind(s.person.map(PersonId::get))
    .bind(s.username)
    .bind(s.channel)
    .bind(s.at.to_db())
    .bind(s.detail.map(serde_json::Value::to_string))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A ticket still open past its validity.
#[derive(Debug, Clone)]
pub struct Overdue {
    pub id: TicketId,
    pub number: String,
    pub unit_id: UnitId,
    pub state: State,
    pub end: Timestamp,
}

/// Open tickets whose validity (extension included) ended before `now`.
pub async fn overdue(conn: &mut Conn, now: Timestamp) -> Result<Vec<Overdue>, StoreError> {
    sqlx::query(
        "SELECT t.id, t.number, t.unit_id, t.state, COALESCE(t.extended_to, t.planned_end) AS ends FROM tickets t \
         WHERE t.state IN ('draft', 'issued', 'received', 'permitted', 'started', 'interrupted') \
         AND COALESCE(t.extended_to, t.planned_end) < $1",
    )
    .bind(now.to_db())
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(Overdue {
            id: id(r, "id")?,
            number: r.try_get("number")?,
            unit_id: id(r, "unit_id")?,
            state: code(T, "state", r.try_get("state")?, State::from_code)?,
            end: stamp(T, "planned_end", r.try_get("ends")?)?,
        })
    })
    .collect()
}

/// Stamps a lapsed ticket 未执行 or 作废; false when its state changed meanwhile.
pub async fn lapse(conn: &mut Conn, id: TicketId, from: State, to: State, at: Timestamp) -> Result<bool, StoreError> {
    let id = id.get();
    let changed = sqlx::query(
        "UPDATE tickets SET state = $1, finished_at = $2, finish_reason = 'lapsed', updated_at = $2 WHERE id = $3 AND state = $4",
    )
    .bind(to.code())
    .bind(at.to_db())
    .bind(id)
    .bind(from.code())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// A draft's fields, as checked by the use case.
#[derive(Debug, Clone)]
pub struct DraftFields<'a> {
    pub unit_id: UnitId,
    pub work_kind: OrderType,
    pub customer_id: Option<&'a str>,
    pub customer_name: Option<&'a str>,
    pub location: &'a str,
    pub content: &'a str,
    pub voltage_kv: Option<f64>,
    pub start: Timestamp,
    pub end: Timestamp,
    pub issuer: Option<PersonId>,
    pub co_issuer: Option<PersonId>,
    pub leader: Option<PersonId>,
    pub permitter: Option<PersonId>,
    /// The crew besides the leader.
    pub crew: &'a [PersonId],
    pub orders: &'a [(String, OrderType)],
    /// The plan item the ticket carries out.
    pub plan_item: Option<i64>,
    /// Why the work is not in the plan (计划外作业), and who wrote that.
    pub unplanned: Option<Unplanned<'a>>,
}

/// The reason of unplanned work as written, with its writer.
#[derive(Debug, Clone, Copy)]
pub struct Unplanned<'a> {
    pub reason: &'a str,
    pub by: &'a str,
    pub by_user: Option<i64>,
}

/// A new draft numbered `number` of document type `type_code`, by `created_by`; its id.
pub async fn insert_draft(
    conn: &mut Conn,
    number: &str,
    type_code: &str,
    created_by: &str,
    d: &DraftFields<'_>,
    at: Timestamp,
) -> Result<TicketId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tickets (number, type_code, unit_id, state, work_kind, location, content, planned_start, planned_end, \
         created_by, created_at, updated_at) VALUES ($1, $2, $3, 'draft', $4, '', '', $5, $5, $6, $5, $5) RETURNING id",
    )
    .bind(number)
    .bind(type_code)
    .bind(d.unit_id.get())
    .bind(d.work_kind.code())
    .bind(at.to_db())
    .bind(created_by)
    .fetch_one(&mut *conn)
    .await?;
    let id = TicketId::new(id);
    update_draft(conn, id, d, at).await?;
    Ok(id)
}

/// Writes a draft's fields, crew and orders (only while it is a draft); false when it no
/// longer is.
pub async fn update_draft(
    conn: &mut Conn,
    id: TicketId,
    d: &DraftFields<'_>,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let id = id.get();
    let changed = sqlx::query(
        "UPDATE tickets SET unit_id = $1, work_kind = $2, customer_id = $3, customer_name = $4, location = $5, content = $6, \
         voltage_kv = CAST($7 AS DOUBLE PRECISION), planned_start = $8, planned_end = $9, issuer_id = $10, co_issuer_id = $11, leader_id = $12, \
         permitter_id = $13, co_signed_at = NULL, updated_at = $14 WHERE id = $15 AND state = 'draft'",
    )
    .bind(d.unit_id.get())
    .bind(d.work_kind.code())
    .bind(d.customer_id)
    .bind(d.customer_name)
    .bind(d.location)
    .bind(d.content)
    .bind(crate::real_text(d.voltage_kv))
    .bind(d.start.to_db())
    .bind(d.end.to_db())
    .bind(d.issuer.map(PersonId::get))
    .bind(d.co_issuer.map(PersonId::get))
    .bind(d.leader.map(PersonId::get))
    .bind(d.permitter.map(PersonId::get))
    .bind(at.to_db())
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if changed == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE tickets SET plan_item_id = $1 WHERE id = $2")
        .bind(d.plan_item)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    // A reason written anew (or removed) needs the manager's approval anew.
    let (reason, by, by_user) = d.unplanned.map_or((None, None, None), |u| (Some(u.reason), Some(u.by), u.by_user));
    sqlx::query(
        "UPDATE tickets SET unplanned_reason = $1, unplanned_by = $2, unplanned_by_user = $3, unplanned_at = $4, \
         unplanned_approved_by = NULL, unplanned_approved_at = NULL \
         WHERE id = $5 AND COALESCE(unplanned_reason, '') <> COALESCE(CAST($1 AS TEXT), '')",
    )
    .bind(reason)
    .bind(by)
    .bind(by_user)
    .bind(reason.map(|_| at.to_db()))
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM ticket_crew WHERE ticket_id = $1").bind(id).execute(&mut *conn).await?;
    for p in d.crew.iter().filter(|p| Some(**p) != d.leader) {
        sqlx::query("INSERT INTO ticket_crew (ticket_id, person_id) VALUES ($1, $2)")
            .bind(id)
            .bind(p.get())
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("DELETE FROM ticket_orders WHERE ticket_id = $1").bind(id).execute(&mut *conn).await?;
    for (order, kind) in d.orders {
        sqlx::query("INSERT INTO ticket_orders (ticket_id, order_id, order_type) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(order)
            .bind(kind.code())
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

/// What grading reads of ticket `id` beyond its own row: whether its customer (户号
/// `customer_no`) is registered as important, and whether an outage names it.
pub async fn risk_facts(conn: &mut Conn, id: TicketId, customer_no: Option<&str>) -> Result<(bool, bool), StoreError> {
    let r = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM customers WHERE account_no = $1 AND importance <> 'none') AS important, \
         (SELECT COUNT(*) FROM outage_tickets WHERE ticket_id = $2) AS outages",
    )
    .bind(customer_no.unwrap_or(""))
    .bind(id.get())
    .fetch_one(&mut *conn)
    .await?;
    Ok((r.try_get::<i64, _>("important")? > 0, r.try_get::<i64, _>("outages")? > 0))
}

/// Records the unit manager's approval of a draft's unplanned work; false when the draft is no
/// longer waiting for it (issued, planned, without a reason, or approved already).
pub async fn approve_unplanned(conn: &mut Conn, id: TicketId, by: &str, at: Timestamp) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE tickets SET unplanned_approved_by = $1, unplanned_approved_at = $2, updated_at = $2 \
         WHERE id = $3 AND state = 'draft' AND plan_item_id IS NULL AND unplanned_reason IS NOT NULL \
         AND unplanned_approved_at IS NULL",
    )
    .bind(by)
    .bind(at.to_db())
    .bind(id.get())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Appends a hazard point with its measure after the ticket's last one; its id.
pub async fn add_hazard(conn: &mut Conn, id: TicketId, hazard: &str, measure: &str) -> Result<i64, StoreError> {
    let id = id.get();
    Ok(sqlx::query_scalar(
        "INSERT INTO ticket_hazards (ticket_id, hazard, measure, sort_order) \
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(sort_order), 0) + 10 FROM ticket_hazards WHERE ticket_id = $1)) RETURNING id",
    )
    .bind(id)
    .bind(hazard)
    .bind(measure)
    .fetch_one(&mut *conn)
    .await?)
}

/// Removes hazard point `hazard_id` of ticket `id`; false when it has no such point.
pub async fn delete_hazard(conn: &mut Conn, id: TicketId, hazard_id: i64) -> Result<bool, StoreError> {
    let id = id.get();
    let gone = sqlx::query("DELETE FROM ticket_hazards WHERE id = $1 AND ticket_id = $2")
        .bind(hazard_id)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(gone == 1)
}

/// Records the site survey (现场勘察记录) of ticket `id`.
pub async fn record_survey(
    conn: &mut Conn,
    id: TicketId,
    record: &str,
    by: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    let id = id.get();
    sqlx::query("UPDATE tickets SET survey = $1, survey_at = $2, survey_by = $3, updated_at = $2 WHERE id = $4")
        .bind(record)
        .bind(at.to_db())
        .bind(by)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

// ---- The catalogue: document types, hazard templates, evaluation reasons ------------------

/// A catalogue entry as shown: the type and where its defaults come from.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentTypeRow {
    #[serde(flatten)]
    pub doc: DocumentType,
    pub origin: String,
    pub active: bool,
}

const TYPE_COLUMNS: &str =
    "code, name, covers, extendable, needs_survey, live_work, prefix, min_people, origin, active";

fn type_from(r: &AnyRow) -> Result<DocumentTypeRow, StoreError> {
    let covers: String = r.try_get("covers")?;
    let min_people: i64 = r.try_get("min_people")?;
    Ok(DocumentTypeRow {
        doc: DocumentType {
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            covers: covers.split(',').filter(|c| !c.is_empty()).map(str::to_owned).collect(),
            extendable: r.try_get::<i64, _>("extendable")? != 0,
            needs_survey: r.try_get::<i64, _>("needs_survey")? != 0,
            live_work: r.try_get::<i64, _>("live_work")? != 0,
            prefix: r.try_get("prefix")?,
            min_people: u32::try_from(min_people).map_err(|_| StoreError::Corrupt {
                table: "ticket_types",
                column: "min_people",
                value: min_people.to_string(),
            })?,
        },
        origin: r.try_get("origin")?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

/// The whole catalogue, in its order.
pub async fn document_types(conn: &mut Conn) -> Result<Vec<DocumentTypeRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TYPE_COLUMNS} FROM ticket_types ORDER BY sort_order, code")))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(type_from)
        .collect()
}

pub async fn document_type(conn: &mut Conn, code: &str) -> Result<Option<DocumentTypeRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {TYPE_COLUMNS} FROM ticket_types WHERE code = $1")))
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(type_from)
        .transpose()
}

/// Writes a catalogue entry's settings; a prefix another type has is the database's unique
/// violation.
pub async fn update_document_type(
    conn: &mut Conn,
    doc: &DocumentType,
    active: bool,
    origin: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE ticket_types SET name = $1, covers = $2, extendable = $3, needs_survey = $4, live_work = $5, \
         min_people = $6, active = $7, origin = $8, prefix = $9 WHERE code = $10",
    )
    .bind(&doc.name)
    .bind(doc.covers.join(","))
    .bind(i64::from(doc.extendable))
    .bind(i64::from(doc.needs_survey))
    .bind(i64::from(doc.live_work))
    .bind(i64::from(doc.min_people))
    .bind(i64::from(active))
    .bind(origin)
    .bind(&doc.prefix)
    .bind(&doc.code)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds a document type at the end of the catalogue: not extendable, no survey, covering
/// nothing and needing two people. A taken code or prefix is the database's unique violation.
pub async fn insert_document_type(
    conn: &mut Conn,
    code: &str,
    name: &str,
    prefix: &str,
    origin: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO ticket_types (code, name, covers, extendable, needs_survey, live_work, prefix, min_people, origin, active, sort_order) \
         VALUES ($1, $2, '', 0, 0, 0, $3, 2, $4, 1, (SELECT COALESCE(MAX(sort_order), 0) + 10 FROM ticket_types))",
    )
    .bind(code)
    .bind(name)
    .bind(prefix)
    .bind(origin)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct HazardTemplate {
    pub id: i64,
    pub work_kind: String,
    pub hazard: String,
    pub measure: String,
}

/// Templates for one kind of work, or all.
pub async fn hazard_templates(conn: &mut Conn, work_kind: Option<&str>) -> Result<Vec<HazardTemplate>, StoreError> {
    let rows = match work_kind {
        Some(kind) => sqlx::query(
            "SELECT id, work_kind, hazard, measure FROM hazard_templates WHERE work_kind = $1 ORDER BY sort_order, id",
        )
        .bind(kind)
        .fetch_all(&mut *conn)
        .await?,
        None => {
            sqlx::query(
                "SELECT id, work_kind, hazard, measure FROM hazard_templates ORDER BY work_kind, sort_order, id",
            )
            .fetch_all(&mut *conn)
            .await?
        }
    };
    rows.iter()
        .map(|r| {
            Ok(HazardTemplate {
                id: r.try_get("id")?,
                work_kind: r.try_get("work_kind")?,
                hazard: r.try_get("hazard")?,
                measure: r.try_get("measure")?,
            })
        })
        .collect()
}

pub async fn insert_hazard_template(
    conn: &mut Conn,
    work_kind: &str,
    hazard: &str,
    measure: &str,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO hazard_templates (work_kind, hazard, measure, sort_order) \
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(sort_order), 0) + 10 FROM hazard_templates WHERE work_kind = $1)) RETURNING id",
    )
    .bind(work_kind)
    .bind(hazard)
    .bind(measure)
    .fetch_one(&mut *conn)
    .await?)
}

/// False when there was no such template.
pub async fn delete_hazard_template(conn: &mut Conn, id: i64) -> Result<bool, StoreError> {
    let gone =
        sqlx::query("DELETE FROM hazard_templates WHERE id = $1").bind(id).execute(&mut *conn).await?.rows_affected();
    Ok(gone == 1)
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReason {
    pub code: String,
    pub text: String,
    pub active: bool,
}

/// The reasons a ticket may be 不合格, in their order.
pub async fn eval_reasons(conn: &mut Conn) -> Result<Vec<EvalReason>, StoreError> {
    sqlx::query("SELECT code, text, active FROM ticket_eval_reasons ORDER BY sort_order, code")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(EvalReason {
                code: r.try_get("code")?,
                text: r.try_get("text")?,
                active: r.try_get::<i64, _>("active")? != 0,
            })
        })
        .collect()
}

/// Adds a reason at the end, or changes an existing one's text and whether it is offered.
pub async fn save_eval_reason(conn: &mut Conn, code: &str, text: &str, active: bool) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO ticket_eval_reasons (code, text, active, sort_order) \
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(sort_order), 0) + 1 FROM ticket_eval_reasons)) \
         ON CONFLICT (code) DO UPDATE SET text = excluded.text, active = excluded.active",
    )
    .bind(code)
    .bind(text)
    .bind(i64::from(active))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// ---- Evaluation ---------------------------------------------------------------------------

/// Records a verdict with its reasons (replacing an earlier one).
pub async fn set_verdict(
    conn: &mut Conn,
    id: TicketId,
    verdict: &str,
    reasons: &[String],
    by: &str,
    note: Option<&str>,
    at: Timestamp,
) -> Result<(), StoreError> {
    let id = id.get();
    sqlx::query(
        "UPDATE tickets SET verdict = $1, evaluated_at = $2, evaluated_by = $3, evaluation_note = $4 WHERE id = $5",
    )
    .bind(verdict)
    .bind(at.to_db())
    .bind(by)
    .bind(note)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM ticket_eval_marks WHERE ticket_id = $1").bind(id).execute(&mut *conn).await?;
    for r in reasons {
        sqlx::query("INSERT INTO ticket_eval_marks (ticket_id, reason_code) VALUES ($1, $2)")
            .bind(id)
            .bind(r)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A ticket that ended in a month, as the statistics count it.
#[derive(Debug, Clone)]
pub struct Ended {
    pub unit_id: UnitId,
    pub unit_name: String,
    pub state: State,
    pub verdict: Option<String>,
    pub work_kind: OrderType,
    /// How many of its linked orders are of the kinds in `must`.
    pub must_orders: i64,
    /// It named a plan item.
    pub planned: bool,
}

/// Tickets of `scope` that ended (终结, 未执行, 作废) in `[from, to)`, by unit.
pub async fn ended(
    conn: &mut Conn,
    scope: &[UnitPath],
    from: Timestamp,
    to: Timestamp,
    must: &[OrderType],
) -> Result<Vec<Ended>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    binds.push(from.to_db());
    binds.push(to.to_db());
    let n = binds.len();
    // The codes of the set, from the domain's own list: no user text reaches the SQL.
    let must_list = must
        .iter()
        .map(|t| format!("'{}'", t.code()))
        .chain(std::iter::once("''".to_owned()))
        .collect::<Vec<_>>()
        .join(",");
    let sql = format!(
        "SELECT t.unit_id, u.name AS unit_name, t.state, t.verdict, t.work_kind, t.plan_item_id, \
         (SELECT COUNT(*) FROM ticket_orders o WHERE o.ticket_id = t.id AND o.order_type IN ({must_list})) AS must_orders \
         FROM tickets t JOIN org_units u ON u.id = t.unit_id \
         WHERE {clause} AND t.state IN ('closed', 'not_executed', 'void') AND t.finished_at >= ${} AND t.finished_at < ${n} \
         ORDER BY u.path",
        n - 1
    );
    bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Ended {
                unit_id: id(r, "unit_id")?,
                unit_name: r.try_get("unit_name")?,
                state: code(T, "state", r.try_get("state")?, State::from_code)?,
                verdict: r.try_get("verdict")?,
                work_kind: code(T, "work_kind", r.try_get("work_kind")?, OrderType::parse)?,
                must_orders: r.try_get("must_orders")?,
                planned: r.try_get::<Option<i64>, _>("plan_item_id")?.is_some(),
            })
        })
        .collect()
}

/// Per unit of `scope`: `(unit, name, count)` of tickets left at 工作终结 past their validity at `now`.
pub async fn left_unclosed(
    conn: &mut Conn,
    scope: &[UnitPath],
    now: Timestamp,
) -> Result<Vec<(UnitId, String, i64)>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    binds.push(now.to_db());
    let sql = format!(
        "SELECT t.unit_id, u.name AS unit_name, COUNT(*) AS n FROM tickets t JOIN org_units u ON u.id = t.unit_id \
         WHERE {clause} AND t.state = 'work_ended' AND COALESCE(t.extended_to, t.planned_end) < ${} GROUP BY t.unit_id, u.name",
        binds.len()
    );
    bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((id(r, "unit_id")?, r.try_get("unit_name")?, r.try_get("n")?)))
        .collect()
}
