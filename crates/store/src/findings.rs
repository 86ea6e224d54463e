//! The cross-audit's rows: imported work orders and meter events, GridSafe's own records read as
//! the engine's tables, findings with their evidence and review, rectification tasks, runs.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use gridsafe_crossaudit::input::{
    Contractor, Evaluation, EventKind, MeterEvent, ORDER_TYPES, Person, Qualification, SafetyAgreement, Tables, Ticket,
    TicketStatus, WorkOrder,
};
use gridsafe_domain::access::UnitPath;
use gridsafe_domain::findings::FindingState;
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::orders::OrderType;
use gridsafe_domain::people::QualificationKind;
use gridsafe_domain::tickets::{State, Times};
use gridsafe_domain::time::{CHINA, Timestamp};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{code, day, id, opt_day, opt_stamp, stamp};
use crate::{
    Backend, Cell, Conn, StoreError, analyze_after_bulk, backend_of, bound, copy_upsert, id_list, insert_many,
    scope_clause, upsert_many,
};

fn local(table: &'static str, column: &'static str, text: String) -> Result<NaiveDateTime, StoreError> {
    Ok(stamp(table, column, text)?.as_utc().with_timezone(&CHINA).naive_local())
}

// ---- Import -------------------------------------------------------------------------------

/// Units at or below `path`: (id, name, code).
pub async fn units_below(conn: &mut Conn, path: &UnitPath) -> Result<Vec<(UnitId, String, String)>, StoreError> {
    sqlx::query("SELECT id, name, code FROM org_units WHERE path LIKE $1")
        .bind(format!("{}%", path.as_str()))
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((id(r, "id")?, r.try_get("name")?, r.try_get("code")?)))
        .collect()
}

/// The stored form of the known ones among `ids` (work orders), by id: type, customer, 供电单位,
/// start, end, workers; what a pushed order is compared with.
pub async fn stored_orders(conn: &mut Conn, ids: &[&str]) -> Result<HashMap<String, [String; 6]>, StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT order_id, order_type, customer_id, org_unit, started_at, finished_at, workers FROM marketing_orders \
             WHERE order_id IN ({})",
            marks.join(",")
        );
        let values: Vec<String> = chunk.iter().map(|s| (*s).to_owned()).collect();
        for r in bound(sql, &values).fetch_all(&mut *conn).await? {
            out.insert(
                r.try_get("order_id")?,
                [
                    r.try_get("order_type")?,
                    r.try_get("customer_id")?,
                    r.try_get("org_unit")?,
                    r.try_get("started_at")?,
                    r.try_get("finished_at")?,
                    r.try_get("workers")?,
                ],
            );
        }
    }
    Ok(out)
}

/// The stored form of the known ones among `ids` (meter events), by id: meter, customer, kind,
/// time.
pub async fn stored_events(conn: &mut Conn, ids: &[&str]) -> Result<HashMap<String, [String; 4]>, StoreError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT event_id, meter_id, customer_id, kind, occurred_at FROM meter_events WHERE event_id IN ({})",
            marks.join(",")
        );
        let values: Vec<String> = chunk.iter().map(|s| (*s).to_owned()).collect();
        for r in bound(sql, &values).fetch_all(&mut *conn).await? {
            out.insert(
                r.try_get("event_id")?,
                [r.try_get("meter_id")?, r.try_get("customer_id")?, r.try_get("kind")?, r.try_get("occurred_at")?],
            );
        }
    }
    Ok(out)
}

const NEW_IMPORT: &str = "INSERT INTO marketing_imports (unit_id, files, orders, events, imported_by, imported_at) \
                          VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

/// [`NEW_IMPORT`]'s values.
macro_rules! bind_import {
    ($query:expr, $unit_id:expr, $files:expr, $orders:expr, $events:expr, $by:expr, $at:expr) => {
        $query
            .bind($unit_id.get())
            .bind($files.join(", "))
            .bind(i64::try_from($orders).unwrap_or(i64::MAX))
            .bind(i64::try_from($events).unwrap_or(i64::MAX))
            .bind($by)
            .bind($at.to_db())
    };
}

const ORDER_COLUMNS: &str =
    "order_id, order_type, customer_id, org_unit, unit_id, started_at, finished_at, workers, import_id";
const EVENT_COLUMNS: &str = "event_id, meter_id, customer_id, kind, occurred_at, unit_id, import_id";
/// The columns the cross-audit run after an import reads its rows by.
const ORDERS_READ_BY: &str = "marketing_orders (import_id, order_type, customer_id)";
const EVENTS_READ_BY: &str = "meter_events (import_id, kind, customer_id)";

/// An imported order as stored by import `import`, in [`ORDER_COLUMNS`].
fn order_row(o: &WorkOrder, unit_of: &(dyn Fn(&str) -> UnitId + Sync), import: i64) -> Vec<Cell> {
    vec![
        Cell::Text(o.order_id.clone()),
        Cell::Text(o.order_type.code().to_owned()),
        Cell::Text(o.customer_id.clone()),
        Cell::Text(o.org_unit.clone()),
        Cell::Int(unit_of(&o.org_unit).get()),
        Cell::Text(Timestamp::from_local(o.started_at).to_db()),
        Cell::Text(Timestamp::from_local(o.finished_at).to_db()),
        Cell::Text(o.workers.join(";")),
        Cell::Int(import),
    ]
}

/// An imported meter event as stored under `unit` by import `import`, in [`EVENT_COLUMNS`].
fn event_row(e: &MeterEvent, unit: UnitId, import: i64) -> Vec<Cell> {
    vec![
        Cell::Text(e.event_id.clone()),
        Cell::Text(e.meter_id.clone()),
        Cell::Text(e.customer_id.clone()),
        Cell::Text(e.kind.code().to_owned()),
        Cell::Text(Timestamp::from_local(e.occurred_at).to_db()),
        Cell::Int(unit.get()),
        Cell::Int(import),
    ]
}

/// Stores an import of work orders and meter events, each order under the unit `unit_of` its
/// 供电单位 names, the events under `unit_id`; the import's id. Orders and events already known
/// by their ids are updated.
pub async fn import(
    conn: &mut Conn,
    unit_id: UnitId,
    files: &[String],
    tables: &Tables,
    unit_of: &(dyn Fn(&str) -> UnitId + Sync),
    by: &str,
    at: Timestamp,
) -> Result<i64, StoreError> {
    // Taken before the import gets its id, so that imports' ids follow the order they commit
    // in (what a cross-audit run's `written_after` relies on).
    hold_imported_rows(conn).await?;
    let id: i64 = bind_import!(
        sqlx::query_scalar(NEW_IMPORT),
        unit_id,
        files,
        tables.work_orders.len(),
        tables.meter_events.len(),
        by,
        at
    )
    .fetch_one(&mut *conn)
    .await?;
    // The reader refuses a file whose ids repeat, so no statement names the same row twice.
    upsert_many(conn, "marketing_orders", ORDER_COLUMNS, &tables.work_orders, |o| order_row(o, unit_of, id)).await?;
    upsert_many(conn, "meter_events", EVENT_COLUMNS, &tables.meter_events, |e| event_row(e, unit_id, id)).await?;
    // The columns the cross-audit run after it reads these rows by.
    analyze_after_bulk(conn, &[ORDERS_READ_BY], tables.work_orders.len()).await?;
    analyze_after_bulk(conn, &[EVENTS_READ_BY], tables.meter_events.len()).await?;
    Ok(id)
}

/// [`import`] on PostgreSQL's own driver ([`crate::BulkTx`]): the rows go in with `COPY`.
pub async fn import_bulk(
    conn: &mut sqlx::PgConnection,
    unit_id: UnitId,
    files: &[String],
    tables: &Tables,
    unit_of: &(dyn Fn(&str) -> UnitId + Sync),
    by: &str,
    at: Timestamp,
) -> Result<i64, StoreError> {
    let id = begin_import_bulk(conn, unit_id, files, by, at).await?;
    import_orders_bulk(conn, id, &tables.work_orders, unit_of).await?;
    import_events_bulk(conn, id, &tables.meter_events, unit_id).await?;
    end_import_bulk(conn, id, tables.work_orders.len(), tables.meter_events.len()).await?;
    Ok(id)
}

/// [`import_bulk`] in steps, for rows that arrive a piece at a time: this records the import
/// (its counts 0 until [`end_import_bulk`]) and gives its id; [`import_orders_bulk`] and
/// [`import_events_bulk`] store each piece.
pub async fn begin_import_bulk(
    conn: &mut sqlx::PgConnection,
    unit_id: UnitId,
    files: &[String],
    by: &str,
    at: Timestamp,
) -> Result<i64, StoreError> {
    sqlx::query(HOLD_IMPORTED_ROWS).execute(&mut *conn).await?;
    Ok(bind_import!(sqlx::query_scalar(NEW_IMPORT), unit_id, files, 0_usize, 0_usize, by, at)
        .fetch_one(&mut *conn)
        .await?)
}

/// Stores `orders` for import `id`, each under the unit `unit_of` its 供电单位 names.
pub async fn import_orders_bulk(
    conn: &mut sqlx::PgConnection,
    id: i64,
    orders: &[WorkOrder],
    unit_of: &(dyn Fn(&str) -> UnitId + Sync),
) -> Result<(), StoreError> {
    copy_upsert(conn, "marketing_orders", ORDER_COLUMNS, orders, |o| order_row(o, unit_of, id)).await
}

/// Stores `events` for import `id`, under `unit`.
pub async fn import_events_bulk(
    conn: &mut sqlx::PgConnection,
    id: i64,
    events: &[MeterEvent],
    unit: UnitId,
) -> Result<(), StoreError> {
    copy_upsert(conn, "meter_events", EVENT_COLUMNS, events, |e| event_row(e, unit, id)).await
}

/// Ends import `id`: its counts, and the statistics of what it wrote.
pub async fn end_import_bulk(
    conn: &mut sqlx::PgConnection,
    id: i64,
    orders: usize,
    events: usize,
) -> Result<(), StoreError> {
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    sqlx::query("UPDATE marketing_imports SET orders = $1, events = $2 WHERE id = $3")
        .bind(count(orders))
        .bind(count(events))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    // The run after the import plans its reads with these statistics: what it needs of them is
    // how many rows the tables now hold and how many each import brought, which a sample of
    // 9,000 rows tells (a third of the default's, and a third of its time: 0.05 s for the
    // three columns of 200,000 orders and 61,885 events instead of 0.11 s). Autovacuum's later
    // ANALYZE samples with the default again.
    if orders.max(events) >= crate::ANALYZE_AFTER {
        sqlx::query("SET LOCAL default_statistics_target = 30").execute(&mut *conn).await?;
    }
    for (read_by, rows) in [(ORDERS_READ_BY, orders), (EVENTS_READ_BY, events)] {
        if rows >= crate::ANALYZE_AFTER {
            sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {read_by}"))).execute(&mut *conn).await?;
        }
    }
    Ok(())
}

// ---- GridSafe's records as the engine's tables --------------------------------------------

/// The imported rows a cross-audit run reads and brings findings up to date for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Every stored order and meter event (the nightly and the manual run).
    All,
    /// The orders and meter events one import wrote, with the orders any ticket lists (a
    /// ticket's findings read the orders it lists): the run after an import. An order's or an
    /// event's findings read only itself, the tickets and the people, so the store's other
    /// orders and events keep what the last run found until the next whole run.
    Import(i64),
}

impl Reach {
    /// The condition on `marketing_orders` (its columns unqualified) of the orders in reach
    /// that the import did not bring: what a run reads from the store besides the rows the
    /// import has in hand.
    fn stored_orders(self) -> String {
        match self {
            Reach::All => String::new(),
            // The import's id is an integer from the database, not text.
            Reach::Import(id) => {
                format!(" WHERE import_id <> {id} AND order_id IN (SELECT order_id FROM ticket_orders)")
            }
        }
    }

    /// The condition on `meter_events` of those in reach the import did not bring: none.
    fn stored_events(self) -> &'static str {
        match self {
            Reach::All => "",
            Reach::Import(_) => " WHERE 1 = 0",
        }
    }
}

/// What the rules read, as the export format's tables: GridSafe's people, qualifications,
/// contractors, agreements and tickets, with the stored orders and meter events of `reach`
/// (of an import's reach, those it did not bring: it has its own rows in hand).
pub async fn tables(conn: &mut Conn, reach: Reach) -> Result<Tables, StoreError> {
    let mut t = Tables::default();
    for r in sqlx::query(
        "SELECT p.code, p.name, u.name AS unit_name, c.code AS contractor FROM people p JOIN org_units u ON u.id = p.unit_id \
         LEFT JOIN contractors c ON c.id = p.contractor_id",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        t.persons.push(Person {
            line: 0,
            person_id: r.try_get("code")?,
            name: r.try_get("name")?,
            org_unit: r.try_get("unit_name")?,
            contractor_id: r.try_get("contractor")?,
            phone: None,
            post: None,
        });
    }
    let q = "qualifications";
    for r in sqlx::query(
        "SELECT p.code, q.kind, q.valid_from, q.valid_to FROM qualifications q JOIN people p ON p.id = q.person_id \
         WHERE q.passed = 1 AND q.confirmed_at IS NOT NULL AND q.kind IN ('safety_exam', 'work_leader', 'ticket_issuer', 'work_permitter')",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        // The export's kinds are the register's codes (the query takes only those four).
        let written: String = r.try_get("kind")?;
        let kind = code(q, "kind", written.clone(), QualificationKind::from_code)?;
        t.qualifications.push(Qualification {
            line: 0,
            person_id: r.try_get("code")?,
            kind,
            written,
            valid_from: day(q, "valid_from", r.try_get("valid_from")?)?,
            valid_to: day(q, "valid_to", r.try_get("valid_to")?)?,
        });
    }
    for r in
        sqlx::query("SELECT code, name, license_valid_to, license_level FROM contractors").fetch_all(&mut *conn).await?
    {
        t.contractors.push(Contractor {
            line: 0,
            contractor_id: r.try_get("code")?,
            name: r.try_get("name")?,
            // No licence recorded: valid on no day.
            license_valid_to: opt_day("contractors", "license_valid_to", r.try_get("license_valid_to")?)?
                .unwrap_or(NaiveDate::MIN),
            license_level: crate::decode::small("contractors", "license_level", r.try_get("license_level")?)?,
        });
    }
    // Only confirmed agreements count; one limited to a customer covers only that customer's work.
    let a = "safety_agreements";
    for r in sqlx::query(
        "SELECT a.code, c.code AS contractor, a.valid_from, a.valid_to, a.customer_no FROM safety_agreements a \
         JOIN contractors c ON c.id = a.contractor_id WHERE a.confirmed_at IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        t.agreements.push(SafetyAgreement {
            line: 0,
            agreement_id: r.try_get("code")?,
            contractor_id: r.try_get("contractor")?,
            valid_from: day(a, "valid_from", r.try_get("valid_from")?)?,
            valid_to: day(a, "valid_to", r.try_get("valid_to")?)?,
            project: None,
            customer_id: r.try_get("customer_no")?,
        });
    }
    let m = "marketing_orders";
    for r in sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT order_id, order_type, customer_id, org_unit, started_at, finished_at, workers FROM marketing_orders{}",
        reach.stored_orders()
    )))
    .fetch_all(&mut *conn)
    .await?
    {
        let order_type = code(m, "order_type", r.try_get("order_type")?, |c| {
            ORDER_TYPES.iter().find(|(code, _, _)| *code == c).map(|(_, _, t)| *t)
        })?;
        let workers: String = r.try_get("workers")?;
        t.work_orders.push(WorkOrder {
            line: 0,
            order_id: r.try_get("order_id")?,
            order_type,
            customer_id: r.try_get("customer_id")?,
            org_unit: r.try_get("org_unit")?,
            started_at: local(m, "started_at", r.try_get("started_at")?)?,
            finished_at: local(m, "finished_at", r.try_get("finished_at")?)?,
            workers: workers.split(';').filter(|w| !w.is_empty()).map(str::to_owned).collect(),
        });
    }
    for r in sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT event_id, meter_id, customer_id, kind, occurred_at FROM meter_events{}",
        reach.stored_events()
    )))
    .fetch_all(&mut *conn)
    .await?
    {
        let kind = EventKind::from_code(&r.try_get::<String, _>("kind")?);
        t.meter_events.push(MeterEvent {
            line: 0,
            event_id: r.try_get("event_id")?,
            meter_id: r.try_get("meter_id")?,
            customer_id: r.try_get("customer_id")?,
            kind,
            occurred_at: local("meter_events", "occurred_at", r.try_get("occurred_at")?)?,
        });
    }
    tickets(conn, &mut t).await?;
    Ok(t)
}

/// GridSafe's tickets as the export writes them, each with the window it authorises
/// ([`Times::authorised`]: from its 许可 to its 工作终结, open while work goes on); tickets that
/// never authorised work (never permitted) are left out, 作废 and 未执行 ones kept as such.
async fn tickets(conn: &mut Conn, t: &mut Tables) -> Result<(), StoreError> {
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
    .fetch_all(&mut *conn)
    .await?;
    let mut crews: HashMap<i64, Vec<String>> = HashMap::new();
    for r in
        sqlx::query("SELECT k.ticket_id, p.code FROM ticket_crew k JOIN people p ON p.id = k.person_id ORDER BY p.code")
            .fetch_all(&mut *conn)
            .await?
    {
        crews.entry(r.try_get("ticket_id")?).or_default().push(r.try_get("code")?);
    }
    let mut orders: HashMap<i64, Vec<String>> = HashMap::new();
    for r in sqlx::query("SELECT ticket_id, order_id FROM ticket_orders").fetch_all(&mut *conn).await? {
        orders.entry(r.try_get("ticket_id")?).or_default().push(r.try_get("order_id")?);
    }
    let tk = "tickets";
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let state = code(tk, "state", r.try_get("state")?, State::from_code)?;
        let times = Times {
            state,
            planned_start: stamp(tk, "planned_start", r.try_get("planned_start")?)?,
            planned_end: stamp(tk, "planned_end", r.try_get("planned_end")?)?,
            extended_to: opt_stamp(tk, "extended_to", r.try_get("extended_to")?)?,
            permitted_at: opt_stamp(tk, "permitted_at", r.try_get("permitted_at")?)?,
            work_ended_at: opt_stamp(tk, "work_ended_at", r.try_get("work_ended_at")?)?,
            finished_at: opt_stamp(tk, "finished_at", r.try_get("finished_at")?)?,
        };
        let china = |ts: Timestamp| ts.as_utc().with_timezone(&CHINA).naive_local();
        let (status, permitted_at, ended_at) = match (state, times.authorised()) {
            (_, Some(span)) => (
                if span.until.is_some() { TicketStatus::Ended } else { TicketStatus::Open },
                Some(china(span.from)),
                span.until.map(china),
            ),
            (State::NotExecuted, None) => (TicketStatus::NotExecuted, times.permitted_at.map(china), None),
            (_, None) => (TicketStatus::Void, times.permitted_at.map(china), None),
        };
        let opt =
            |c: &str| -> Result<String, StoreError> { Ok(r.try_get::<Option<String>, _>(c)?.unwrap_or_default()) };
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

// ---- Placing and keeping findings ---------------------------------------------------------

/// The unit and month (`YYYY-MM`, China time) of every order, ticket and meter event, and the
/// root unit for findings about nothing placed.
#[derive(Debug, Clone, Default)]
pub struct Placement {
    pub orders: HashMap<String, (UnitId, String)>,
    pub tickets: HashMap<String, (UnitId, String)>,
    pub events: HashMap<String, (UnitId, String)>,
    /// Plan items by id (as text): their plan's unit and their month.
    pub plan_items: HashMap<String, (UnitId, String)>,
    pub fallback: UnitId,
}

impl Placement {
    /// Where a finding about entity `id` of `kind` belongs; the root and `this_month` for
    /// anything unknown.
    pub fn of(&self, kind: &str, id: &str, this_month: &str) -> (UnitId, String) {
        let found = match kind {
            "order" => self.orders.get(id),
            "ticket" => self.tickets.get(id),
            "plan_item" => self.plan_items.get(id),
            _ => self.events.get(id),
        };
        found.cloned().unwrap_or_else(|| (self.fallback, this_month.to_owned()))
    }
}

/// Where the findings of `reach` belong (of an import's reach, but for the rows it brought).
pub async fn placement(conn: &mut Conn, reach: Reach) -> Result<Placement, StoreError> {
    let month = |table: &'static str, column: &'static str, text: String| -> Result<String, StoreError> {
        Ok(stamp(table, column, text)?.local_date().format("%Y-%m").to_string())
    };
    let mut p = Placement::default();
    let orders = format!("SELECT order_id, unit_id, started_at FROM marketing_orders{}", reach.stored_orders());
    for r in sqlx::query(sqlx::AssertSqlSafe(orders)).fetch_all(&mut *conn).await? {
        p.orders.insert(
            r.try_get("order_id")?,
            (id(&r, "unit_id")?, month("marketing_orders", "started_at", r.try_get("started_at")?)?),
        );
    }
    for r in sqlx::query("SELECT number, unit_id, planned_start FROM tickets").fetch_all(&mut *conn).await? {
        p.tickets.insert(
            r.try_get("number")?,
            (id(&r, "unit_id")?, month("tickets", "planned_start", r.try_get("planned_start")?)?),
        );
    }
    let events = format!("SELECT event_id, unit_id, occurred_at FROM meter_events{}", reach.stored_events());
    for r in sqlx::query(sqlx::AssertSqlSafe(events)).fetch_all(&mut *conn).await? {
        p.events.insert(
            r.try_get("event_id")?,
            (id(&r, "unit_id")?, month("meter_events", "occurred_at", r.try_get("occurred_at")?)?),
        );
    }
    for r in sqlx::query("SELECT i.id, w.unit_id, i.starts_at FROM plan_items i JOIN work_plans w ON w.id = i.plan_id")
        .fetch_all(&mut *conn)
        .await?
    {
        p.plan_items.insert(
            r.try_get::<i64, _>("id")?.to_string(),
            (id(&r, "unit_id")?, month("plan_items", "starts_at", r.try_get("starts_at")?)?),
        );
    }
    let root: Option<i64> =
        sqlx::query_scalar("SELECT MIN(id) FROM org_units WHERE parent_id IS NULL").fetch_one(&mut *conn).await?;
    p.fallback = UnitId::new(root.unwrap_or(0));
    Ok(p)
}

/// The kept findings a run of `reach` brings up to date, by (rule, entity kind, entity id,
/// subject): their id, state and detail.
pub async fn known(conn: &mut Conn, reach: Reach, every_row: &[&str]) -> Result<Known, StoreError> {
    let columns = "SELECT id, rule, entity_kind, entity_id, subject, state, detail FROM findings";
    let mut values = Vec::new();
    let sql = match reach {
        Reach::All => columns.to_owned(),
        // Each part found through an index (`findings_entity`, or the key's for the rule), so
        // that a day's import does not walk every kept finding.
        Reach::Import(id) => {
            // The import's id is an integer from the database, not text.
            let mut parts = vec![
                // Findings about anything but orders and events, as ranges of the index.
                format!(
                    "{columns} WHERE entity_kind < 'event' OR (entity_kind > 'event' AND entity_kind < 'order') \
                     OR entity_kind > 'order'"
                ),
                format!(
                    "{columns} WHERE entity_kind = 'order' AND entity_id IN (SELECT order_id FROM marketing_orders WHERE import_id = {id})"
                ),
                format!("{columns} WHERE entity_kind = 'order' AND entity_id IN (SELECT order_id FROM ticket_orders)"),
                format!(
                    "{columns} WHERE entity_kind = 'event' AND entity_id IN (SELECT event_id FROM meter_events WHERE import_id = {id})"
                ),
            ];
            if !every_row.is_empty() {
                let marks: Vec<String> = (1..=every_row.len()).map(|n| format!("${n}")).collect();
                values.extend(every_row.iter().map(|r| (*r).to_owned()));
                parts.push(format!("{columns} WHERE rule IN ({})", marks.join(", ")));
            }
            parts.join(" UNION ")
        }
    };
    bound(sql, &values)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                (r.try_get("rule")?, r.try_get("entity_kind")?, r.try_get("entity_id")?, r.try_get("subject")?),
                Kept { id: r.try_get("id")?, state: r.try_get("state")?, detail: r.try_get("detail")? },
            ))
        })
        .collect()
}

const HOLD_IMPORTED_ROWS: &str = "SELECT pg_advisory_xact_lock(7243003)";

/// Until the transaction ends, no other transaction writes imported orders and meter events,
/// nor runs the cross-audit over them: on PostgreSQL the lock every writer of them takes
/// (`pg_advisory_xact_lock(7243003)`, taken again harmlessly); SQLite has one writer at a time.
pub async fn hold_imported_rows(conn: &mut Conn) -> Result<(), StoreError> {
    if backend_of(conn) == Backend::Postgres {
        sqlx::query(HOLD_IMPORTED_ROWS).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The last import stored: a whole run that notes it before reading the rows can tell which
/// rows were written after its reading (`written_after`).
pub async fn last_import(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM marketing_imports")
        .fetch_one(&mut *conn)
        .await?
        .unwrap_or(0))
}

/// The orders and meter events (their ids) that imports after import `since` wrote last. Imports'
/// ids follow the order they commit in (each takes [`hold_imported_rows`] before its
/// id), so, read while holding that lock, these are all the rows that changed since `since`
/// committed.
pub async fn written_after(conn: &mut Conn, since: i64) -> Result<(HashSet<String>, HashSet<String>), StoreError> {
    let orders = sqlx::query_scalar("SELECT order_id FROM marketing_orders WHERE import_id > $1")
        .bind(since)
        .fetch_all(&mut *conn)
        .await?;
    let events = sqlx::query_scalar("SELECT event_id FROM meter_events WHERE import_id > $1")
        .bind(since)
        .fetch_all(&mut *conn)
        .await?;
    Ok((orders.into_iter().collect(), events.into_iter().collect()))
}

/// How many kept findings are not resolved.
pub async fn unresolved(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM findings) - (SELECT COUNT(*) FROM findings WHERE state = 'resolved')",
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// Kept findings by key (rule, entity kind, entity id, subject).
pub type Known = HashMap<(String, String, String, String), Kept>;

/// A kept finding as a run compares it.
#[derive(Debug, Clone)]
pub struct Kept {
    pub id: i64,
    pub state: String,
    pub detail: String,
}

/// A finding seen again with a different detail, or resolved and back: written in `state`.
/// One seen again as it was is not written (a run records itself in `crossaudit_runs`), so a
/// run writes only what changed; `last_seen_at` is when a finding was last written.
pub async fn seen_again(conn: &mut Conn, id: i64, detail: &str, state: &str, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE findings SET last_seen_at = $1, detail = $2, state = $3, resolved_at = NULL WHERE id = $4")
        .bind(at.to_db())
        .bind(detail)
        .bind(state)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A finding first seen.
#[derive(Debug, Clone)]
pub struct NewFinding<'a> {
    pub rule: &'a str,
    pub entity_kind: &'a str,
    pub entity_id: &'a str,
    pub subject: &'a str,
    pub detail: &'a str,
    pub unit_id: UnitId,
    pub month: &'a str,
}

/// Findings first seen, many a statement.
pub async fn insert_findings(conn: &mut Conn, found: &[NewFinding<'_>], at: Timestamp) -> Result<(), StoreError> {
    let at = at.to_db();
    insert_many(
        conn,
        "findings",
        "rule, entity_kind, entity_id, subject, detail, unit_id, month, state, first_seen_at, last_seen_at",
        "",
        found,
        |f| {
            let text = |s: &str| Cell::Text(s.to_owned());
            vec![
                text(f.rule),
                text(f.entity_kind),
                text(f.entity_id),
                text(f.subject),
                text(f.detail),
                Cell::Int(f.unit_id.get()),
                text(f.month),
                text("open"),
                text(&at),
                text(&at),
            ]
        },
    )
    .await
}

/// The id of the finding keyed (rule, entity kind, entity id, subject), if kept.
pub async fn finding_id(conn: &mut Conn, key: [&str; 4]) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM findings WHERE rule = $1 AND entity_kind = $2 AND entity_id = $3 AND subject = $4",
    )
    .bind(key[0])
    .bind(key[1])
    .bind(key[2])
    .bind(key[3])
    .fetch_optional(&mut *conn)
    .await?)
}

/// Open findings the rules no longer produce.
pub async fn resolve(conn: &mut Conn, ids: &[i64], at: Timestamp) -> Result<(), StoreError> {
    for chunk in ids.chunks(500) {
        // Ids are integers from the database, not text.
        let sql = format!("UPDATE findings SET state = 'resolved', resolved_at = $1 WHERE id IN ({})", id_list(chunk));
        bound(sql, &[at.to_db()]).execute(&mut *conn).await?;
    }
    Ok(())
}

/// One run of the cross-audit, as recorded: (cause, as of, findings, new, resolved, ms).
pub async fn record_run(
    conn: &mut Conn,
    cause: &str,
    as_of: NaiveDate,
    counts: [u64; 4],
    at: Timestamp,
) -> Result<(), StoreError> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO crossaudit_runs (cause, as_of, findings, new_findings, resolved, millis, ran_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(cause)
    .bind(as_of.to_string())
    .bind(n(counts[0]))
    .bind(n(counts[1]))
    .bind(n(counts[2]))
    .bind(n(counts[3]))
    .bind(at.to_db())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The last runs: (when, cause, findings, new, resolved, milliseconds).
pub async fn recent_runs(conn: &mut Conn) -> Result<Vec<(String, String, i64, i64, i64, i64)>, StoreError> {
    sqlx::query(
        "SELECT ran_at, cause, findings, new_findings, resolved, millis FROM crossaudit_runs ORDER BY id DESC LIMIT 5",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok((
            stamp("crossaudit_runs", "ran_at", r.try_get("ran_at")?)?.local_display(),
            r.try_get("cause")?,
            r.try_get("findings")?,
            r.try_get("new_findings")?,
            r.try_get("resolved")?,
            r.try_get("millis")?,
        ))
    })
    .collect()
}

// ---- Findings -----------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    pub id: i64,
    pub rule: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub subject: String,
    pub detail: String,
    pub unit_id: UnitId,
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

const FINDING_COLUMNS: &str = "f.id, f.rule, f.entity_kind, f.entity_id, f.subject, f.detail, f.unit_id, u.name AS unit_name, \
    u.path AS unit_path, f.month, f.state, f.review_reason, f.reviewed_by, f.reviewed_at, \
    (SELECT MIN(h.id) FROM hazards h WHERE h.source_kind = 'finding' AND h.source_id = f.id) AS hazard_id";

fn finding_from(r: &AnyRow) -> Result<FindingRow, StoreError> {
    Ok(FindingRow {
        id: r.try_get("id")?,
        rule: r.try_get("rule")?,
        entity_kind: r.try_get("entity_kind")?,
        entity_id: r.try_get("entity_id")?,
        subject: r.try_get("subject")?,
        detail: r.try_get("detail")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        month: r.try_get("month")?,
        state: code("findings", "state", r.try_get("state")?, FindingState::from_code)?,
        review_reason: r.try_get("review_reason")?,
        reviewed_by: r.try_get("reviewed_by")?,
        reviewed_at: opt_stamp("findings", "reviewed_at", r.try_get("reviewed_at")?)?.map(|t| t.local_display()),
        hazard_id: r.try_get("hazard_id")?,
    })
}

/// Which findings a list reads.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub rule: Option<String>,
    pub state: Option<FindingState>,
    /// `YYYY-MM`
    pub month: Option<String>,
    pub unit_id: Option<UnitId>,
}

/// A place in the list's order (month newest first, then rule, entity and subject): the next
/// page starts after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub month: String,
    pub rule: String,
    pub entity_id: String,
    pub subject: String,
}

impl FindingRow {
    /// Where the next page starts when this row is the last shown.
    pub fn after(&self) -> After {
        After {
            month: self.month.clone(),
            rule: self.rule.clone(),
            entity_id: self.entity_id.clone(),
            subject: self.subject.clone(),
        }
    }
}

/// The query of [`findings`] and [`count`]: the scope and the filter's conditions.
fn filtered(scope: &[UnitPath], filter: &Filter, columns: &str) -> (String, Vec<String>) {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    let mut sql = format!("SELECT {columns} FROM findings f JOIN org_units u ON u.id = f.unit_id WHERE {clause}");
    for (column, value) in [("f.rule", &filter.rule), ("f.month", &filter.month)] {
        if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            binds.push(v.to_owned());
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
    (sql, binds)
}

/// How many findings of `scope` the filter selects.
pub async fn count(conn: &mut Conn, scope: &[UnitPath], filter: &Filter) -> Result<i64, StoreError> {
    let (sql, binds) = filtered(scope, filter, "COUNT(*) AS n");
    Ok(bound(sql, &binds).fetch_one(&mut *conn).await?.try_get("n")?)
}

/// Findings of `scope`, newest month first, at most `limit`, starting after `after` (keyset
/// pagination: each page costs the same however deep).
pub async fn findings(
    conn: &mut Conn,
    scope: &[UnitPath],
    filter: &Filter,
    after: Option<&After>,
    limit: u32,
) -> Result<Vec<FindingRow>, StoreError> {
    let (mut sql, mut binds) = filtered(scope, filter, FINDING_COLUMNS);
    if let Some(a) = after {
        let n = binds.len();
        binds.extend([a.month.clone(), a.rule.clone(), a.entity_id.clone(), a.subject.clone()]);
        let (m, r, e, s) = (n + 1, n + 2, n + 3, n + 4);
        sql.push_str(&format!(
            " AND (f.month < ${m} OR (f.month = ${m} AND (f.rule > ${r} OR (f.rule = ${r} AND (f.entity_id > ${e} \
             OR (f.entity_id = ${e} AND f.subject > ${s}))))))"
        ));
    }
    sql.push_str(&format!(" ORDER BY f.month DESC, f.rule, f.entity_id, f.subject LIMIT {}", limit.clamp(1, 100_000)));
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(finding_from).collect()
}

/// Finding `id`; with `hold`, held until the transaction ends.
pub async fn finding(conn: &mut Conn, id: i64, hold: bool) -> Result<Option<FindingRow>, StoreError> {
    if hold {
        let lock = crate::for_update(crate::backend_of(conn));
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id FROM findings WHERE id = $1{lock}")))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {FINDING_COLUMNS} FROM findings f JOIN org_units u ON u.id = f.unit_id WHERE f.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(finding_from)
    .transpose()
}

/// Records the review of an open finding; false when it is no longer open.
pub async fn review(
    conn: &mut Conn,
    id: i64,
    state: FindingState,
    reason: Option<&str>,
    by: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let changed = sqlx::query(
        "UPDATE findings SET state = $1, review_reason = $2, reviewed_by = $3, reviewed_at = $4 WHERE id = $5 AND state = 'open'",
    )
    .bind(state.code())
    .bind(reason)
    .bind(by)
    .bind(at.to_db())
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

// ---- Evidence -----------------------------------------------------------------------------

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

/// Work order `order_id` and the day it started.
pub async fn order(conn: &mut Conn, order_id: &str) -> Result<Option<(OrderEvidence, NaiveDate)>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT order_id, order_type, customer_id, org_unit, started_at, finished_at, workers FROM marketing_orders WHERE order_id = $1",
    )
    .bind(order_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let m = "marketing_orders";
    let started = stamp(m, "started_at", r.try_get("started_at")?)?;
    let workers: String = r.try_get("workers")?;
    let order = OrderEvidence {
        order_id: r.try_get("order_id")?,
        order_type: r.try_get("order_type")?,
        customer_id: r.try_get("customer_id")?,
        org_unit: r.try_get("org_unit")?,
        started_at: started.local_display(),
        finished_at: stamp(m, "finished_at", r.try_get("finished_at")?)?.local_display(),
        workers: workers.split(';').filter(|w| !w.is_empty()).map(str::to_owned).collect(),
    };
    Ok(Some((order, started.local_date())))
}

#[derive(Debug, Clone, Serialize)]
pub struct EventEvidence {
    pub event_id: String,
    pub meter_id: String,
    pub customer_id: String,
    pub kind: String,
    pub occurred_at: String,
}

/// Meter event `event_id` and its day.
pub async fn event(conn: &mut Conn, event_id: &str) -> Result<Option<(EventEvidence, NaiveDate)>, StoreError> {
    let Some(r) =
        sqlx::query("SELECT event_id, meter_id, customer_id, kind, occurred_at FROM meter_events WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let at = stamp("meter_events", "occurred_at", r.try_get("occurred_at")?)?;
    let event = EventEvidence {
        event_id: r.try_get("event_id")?,
        meter_id: r.try_get("meter_id")?,
        customer_id: r.try_get("customer_id")?,
        kind: r.try_get("kind")?,
        occurred_at: at.local_display(),
    };
    Ok(Some((event, at.local_date())))
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
    /// The day of its 许可.
    #[serde(skip)]
    pub permitted_on: Option<NaiveDate>,
}

/// Which tickets to show beside a finding.
#[derive(Debug, Clone, Copy)]
pub enum TicketsOf<'a> {
    Order(&'a str),
    Customer(&'a str),
    Number(&'a str),
}

/// Up to 20 tickets, with their orders: two statements.
pub async fn tickets_of(conn: &mut Conn, of: TicketsOf<'_>) -> Result<Vec<TicketEvidence>, StoreError> {
    let (condition, value) = match of {
        TicketsOf::Order(v) => ("t.id IN (SELECT ticket_id FROM ticket_orders WHERE order_id = $1)", v),
        TicketsOf::Customer(v) => ("t.customer_id = $1", v),
        TicketsOf::Number(v) => ("t.number = $1", v),
    };
    let mut out: Vec<TicketEvidence> = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT t.id, t.number, tt.name AS type_name, t.state, t.customer_id, \
         (SELECT MAX(s.at) FROM ticket_steps s WHERE s.ticket_id = t.id AND s.step = 'permit') AS permitted, t.finished_at \
         FROM tickets t JOIN ticket_types tt ON tt.code = t.type_code WHERE {condition} ORDER BY t.planned_start LIMIT 20"
    )))
    .bind(value)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        let permitted = opt_stamp("ticket_steps", "at", r.try_get("permitted")?)?;
        Ok(TicketEvidence {
            id: r.try_get("id")?,
            number: r.try_get("number")?,
            type_name: r.try_get("type_name")?,
            state: r.try_get("state")?,
            customer_id: r.try_get("customer_id")?,
            permitted_at: permitted.map(|t| t.local_display()),
            permitted_on: permitted.map(|t| t.local_date()),
            finished_at: opt_stamp("tickets", "finished_at", r.try_get("finished_at")?)?.map(|t| t.local_display()),
            orders: Vec::new(),
        })
    })
    .collect::<Result<_, StoreError>>()?;
    if out.is_empty() {
        return Ok(out);
    }
    let ids: Vec<i64> = out.iter().map(|t| t.id).collect();
    let mut orders: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for r in sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT ticket_id, order_id FROM ticket_orders WHERE ticket_id IN ({}) ORDER BY order_id",
        id_list(&ids)
    )))
    .fetch_all(&mut *conn)
    .await?
    {
        orders.entry(r.try_get("ticket_id")?).or_default().push(r.try_get("order_id")?);
    }
    for t in &mut out {
        t.orders = orders.remove(&t.id).unwrap_or_default();
    }
    Ok(out)
}

/// The 工号 of everyone ticket `id` names, in order.
pub async fn ticket_people(conn: &mut Conn, id: i64) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT p.code FROM people p WHERE p.id IN (SELECT issuer_id FROM tickets WHERE id = $1 UNION \
         SELECT co_issuer_id FROM tickets WHERE id = $1 UNION SELECT leader_id FROM tickets WHERE id = $1 UNION \
         SELECT permitter_id FROM tickets WHERE id = $1 UNION SELECT person_id FROM ticket_crew WHERE ticket_id = $1) \
         ORDER BY p.code",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?)
}

/// The person of 工号 `code` as evidence shows them: (id, name, contractor).
pub async fn person_by_code(
    conn: &mut Conn,
    code: &str,
) -> Result<Option<(PersonId, String, Option<String>)>, StoreError> {
    let Some(r) = sqlx::query("SELECT p.id, p.name, c.name AS contractor FROM people p LEFT JOIN contractors c ON c.id = p.contractor_id WHERE p.code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(Some((id(&r, "id")?, r.try_get("name")?, r.try_get("contractor")?)))
}

// ---- Rectification tasks ------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct TaskRow {
    pub id: i64,
    pub source_kind: String,
    pub source_id: i64,
    pub unit_id: UnitId,
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

/// Tasks of `scope`, open ones first by deadline, at most 2,000; `overdue` left false for the
/// use case to judge.
pub async fn tasks(conn: &mut Conn, scope: &[UnitPath], only_open: bool) -> Result<Vec<TaskRow>, StoreError> {
    let (clause, binds) = scope_clause("u.path", scope, 1);
    let open = if only_open { " AND k.state = 'open'" } else { "" };
    let sql = format!(
        "SELECT k.id, k.source_kind, k.source_id, k.unit_id, u.name AS unit_name, u.path AS unit_path, k.title, k.responsible, \
         k.deadline, k.state, k.evidence, k.closed_at, k.closed_by FROM rectification_tasks k JOIN org_units u ON u.id = k.unit_id \
         WHERE {clause}{open} ORDER BY CASE WHEN k.state = 'open' THEN 0 ELSE 1 END, k.deadline, k.id LIMIT 2000"
    );
    bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(TaskRow {
                id: r.try_get("id")?,
                source_kind: r.try_get("source_kind")?,
                source_id: r.try_get("source_id")?,
                unit_id: id(r, "unit_id")?,
                unit_name: r.try_get("unit_name")?,
                unit_path: r.try_get("unit_path")?,
                title: r.try_get("title")?,
                responsible: r.try_get("responsible")?,
                deadline: r.try_get("deadline")?,
                open: r.try_get::<String, _>("state")? == "open",
                overdue: false,
                evidence: r.try_get("evidence")?,
                closed_at: opt_stamp("rectification_tasks", "closed_at", r.try_get("closed_at")?)?
                    .map(|t| t.local_display()),
                closed_by: r.try_get("closed_by")?,
            })
        })
        .collect()
}

/// Task `id`: whether it is open, its unit's path and its unit.
pub async fn task(conn: &mut Conn, id: i64) -> Result<Option<(bool, String, UnitId)>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT k.state, u.path, k.unit_id FROM rectification_tasks k JOIN org_units u ON u.id = k.unit_id WHERE k.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    Ok(Some((r.try_get::<String, _>("state")? == "open", r.try_get("path")?, crate::decode::id(&r, "unit_id")?)))
}

/// Closes an open task with its evidence; false when it was no longer open.
pub async fn close_task(conn: &mut Conn, id: i64, evidence: &str, by: &str, at: Timestamp) -> Result<bool, StoreError> {
    let changed = sqlx::query(
        "UPDATE rectification_tasks SET state = 'closed', evidence = $1, closed_at = $2, closed_by = $3 WHERE id = $4 AND state = 'open'",
    )
    .bind(evidence)
    .bind(at.to_db())
    .bind(by)
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// Per unit of `scope` and month from `first` (`YYYY-MM`): (unit, name, month, rule, count) of
/// findings not dismissed.
pub async fn counts(
    conn: &mut Conn,
    scope: &[UnitPath],
    first: &str,
) -> Result<Vec<(UnitId, String, String, String, i64)>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    binds.push(first.to_owned());
    let sql = format!(
        "SELECT f.unit_id, u.name AS unit_name, f.month, f.rule, COUNT(*) AS n FROM findings f JOIN org_units u ON u.id = f.unit_id \
         WHERE {clause} AND f.state <> 'dismissed' AND f.month >= ${} GROUP BY f.unit_id, u.name, f.month, f.rule \
         ORDER BY f.unit_id, f.month",
        binds.len()
    );
    bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((id(r, "unit_id")?, r.try_get("unit_name")?, r.try_get("month")?, r.try_get("rule")?, r.try_get("n")?))
        })
        .collect()
}
