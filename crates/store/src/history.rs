//! The registers kept before GridSafe, moved in with their real dates: each import on record, each
//! record pointing at its import. The rules are the domain's (`gridsafe_domain::history`).

use chrono::NaiveDate;
use gridsafe_domain::access::UnitPath;
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{id, stamp};
use crate::{Conn, StoreError, bound, scope_clause};

/// What the channel column of an imported step says: the register, not a signature.
pub const CHANNEL: &str = "import";

/// One import as the history page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ImportRow {
    pub id: i64,
    pub kind: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub file_name: String,
    pub sha256: String,
    pub records: i64,
    pub imported_by: String,
    pub imported_at: Timestamp,
}

const IMPORT_COLUMNS: &str = "h.id, h.kind, h.unit_id, u.name AS unit_name, h.file_name, h.sha256, h.records, \
    h.imported_by, h.imported_at";

fn import_from(r: &AnyRow) -> Result<ImportRow, StoreError> {
    Ok(ImportRow {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        file_name: r.try_get("file_name")?,
        sha256: r.try_get("sha256")?,
        records: r.try_get("records")?,
        imported_by: r.try_get("imported_by")?,
        imported_at: stamp("history_imports", "imported_at", r.try_get("imported_at")?)?,
    })
}

pub async fn imports(conn: &mut Conn, scope: &[UnitPath], limit: u32) -> Result<Vec<ImportRow>, StoreError> {
    let (clause, binds) = scope_clause("u.path", scope, 1);
    let sql = format!(
        "SELECT {IMPORT_COLUMNS} FROM history_imports h JOIN org_units u ON u.id = h.unit_id WHERE {clause} \
         ORDER BY h.id DESC LIMIT {}",
        limit.clamp(1, 1000)
    );
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(import_from).collect()
}

/// Opens an import's record; its count is set when every line is written.
pub async fn insert_import(
    conn: &mut Conn,
    kind: &str,
    unit: UnitId,
    files: &str,
    sha256: &str,
    by: &str,
    at: Timestamp,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO history_imports (kind, unit_id, file_name, sha256, records, imported_by, imported_at) \
         VALUES ($1, $2, $3, $4, 0, $5, $6) RETURNING id",
    )
    .bind(kind)
    .bind(unit.get())
    .bind(files)
    .bind(sha256)
    .bind(by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn set_records(conn: &mut Conn, import: i64, records: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE history_imports SET records = $1 WHERE id = $2")
        .bind(records)
        .bind(import)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The import a record came in with, if it did: (file, who, when).
pub async fn origin(conn: &mut Conn, table: Record, record: i64) -> Result<Option<ImportRow>, StoreError> {
    let sql = format!(
        "SELECT {IMPORT_COLUMNS} FROM {} r JOIN history_imports h ON h.id = r.history_import_id \
         JOIN org_units u ON u.id = h.unit_id WHERE r.id = $1",
        table.table()
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(record).fetch_optional(&mut *conn).await?;
    row.as_ref().map(import_from).transpose()
}

/// The tables an import writes to.
#[derive(Debug, Clone, Copy)]
pub enum Record {
    Ticket,
    Hazard,
    Inspection,
}

impl Record {
    fn table(self) -> &'static str {
        match self {
            Record::Ticket => "tickets",
            Record::Hazard => "hazards",
            Record::Inspection => "inspections",
        }
    }
}

/// Whether `number` is already a ticket's or a hazard's.
pub async fn number_taken(conn: &mut Conn, table: Record, number: &str) -> Result<bool, StoreError> {
    let sql = format!("SELECT COUNT(*) FROM {} WHERE number = $1", table.table());
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(number).fetch_one(&mut *conn).await?;
    Ok(n > 0)
}

/// A ticket of the register, checked.
#[derive(Debug, Clone)]
pub struct OldTicket<'a> {
    pub import: i64,
    pub number: &'a str,
    pub type_code: &'a str,
    pub unit: UnitId,
    pub work_kind: &'a str,
    pub location: &'a str,
    pub content: &'a str,
    pub planned_start: Timestamp,
    pub planned_end: Timestamp,
    pub issuer: Option<PersonId>,
    pub leader: PersonId,
    pub permitter: Option<PersonId>,
    pub crew: &'a [PersonId],
    /// (order id, order type)
    pub orders: &'a [(String, &'a str)],
    pub issued_at: Option<Timestamp>,
    pub permitted_at: Option<Timestamp>,
    pub finished_at: Timestamp,
    pub verdict: Option<&'a str>,
    pub evaluated_by: Option<&'a str>,
    pub note: Option<&'a str>,
    pub by: &'a str,
    pub at: Timestamp,
}

/// Writes a closed ticket with its crew, orders and the steps the register records (on the
/// register's days, channel `import`, no signature).
pub async fn insert_ticket(conn: &mut Conn, t: &OldTicket<'_>) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tickets (number, type_code, unit_id, state, work_kind, location, content, planned_start, planned_end, \
         issuer_id, leader_id, permitter_id, permitted_at, work_ended_at, finished_at, verdict, evaluated_at, evaluated_by, \
         evaluation_note, created_by, created_at, updated_at, history_import_id) \
         VALUES ($1, $2, $3, 'closed', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16, $17, $18, $19, $19, $20) \
         RETURNING id",
    )
    .bind(t.number)
    .bind(t.type_code)
    .bind(t.unit.get())
    .bind(t.work_kind)
    .bind(t.location)
    .bind(t.content)
    .bind(t.planned_start.to_db())
    .bind(t.planned_end.to_db())
    .bind(t.issuer.map(|p| p.get()))
    .bind(t.leader.get())
    .bind(t.permitter.map(|p| p.get()))
    .bind(t.permitted_at.map(|p| p.to_db()))
    .bind(t.finished_at.to_db())
    .bind(t.verdict)
    .bind(t.verdict.map(|_| t.finished_at.to_db()))
    .bind(t.evaluated_by)
    .bind(t.note)
    .bind(t.by)
    .bind(t.at.to_db())
    .bind(t.import)
    .fetch_one(&mut *conn)
    .await?;
    for p in t.crew {
        sqlx::query("INSERT INTO ticket_crew (ticket_id, person_id) VALUES ($1, $2)")
            .bind(id)
            .bind(p.get())
            .execute(&mut *conn)
            .await?;
    }
    for (order, kind) in t.orders {
        sqlx::query("INSERT INTO ticket_orders (ticket_id, order_id, order_type) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(order)
            .bind(*kind)
            .execute(&mut *conn)
            .await?;
    }
    let steps = [
        ("issue", "draft", "issued", t.issuer, t.issued_at),
        ("permit", "received", "permitted", t.permitter, t.permitted_at),
        ("close", "work_ended", "closed", Some(t.leader), Some(t.finished_at)),
    ];
    for (step, from, to, person, at) in steps {
        let Some(at) = at else { continue };
        sqlx::query(
            "INSERT INTO ticket_steps (ticket_id, step, from_state, to_state, person_id, username, channel, at, detail) \
             VALUES ($1, $2, $3, $4, $5, NULL, $6, $7, $8)",
        )
        .bind(id)
        .bind(step)
        .bind(from)
        .bind(to)
        .bind(person.map(|p| p.get()))
        .bind(CHANNEL)
        .bind(at.to_db())
        .bind("历史台账导入")
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// A hazard of the ledger, checked.
#[derive(Debug, Clone)]
pub struct OldHazard<'a> {
    pub import: i64,
    pub number: &'a str,
    pub customer: Option<i64>,
    pub unit: UnitId,
    pub title: &'a str,
    pub description: &'a str,
    pub grade: &'a str,
    pub responsibility: &'a str,
    pub state: &'a str,
    pub registered_on: NaiveDate,
    pub deadline: NaiveDate,
    pub owner: Option<&'a str>,
    pub receipt_by: Option<&'a str>,
    pub filed_on: Option<NaiveDate>,
    /// The ledger's steps: (step code, what, day).
    pub steps: &'a [(&'a str, String, NaiveDate)],
    pub closed_at: Option<Timestamp>,
    pub by: &'a str,
}

pub async fn insert_hazard(conn: &mut Conn, h: &OldHazard<'_>) -> Result<i64, StoreError> {
    let created_at = Timestamp::from_local(h.registered_on.and_hms_opt(9, 0, 0).unwrap_or_default());
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO hazards (number, customer_id, unit_id, title, description, grade, responsibility, state, deadline, owner, \
         receipt_by, filed_on, escalation, created_by, created_at, closed_at, source_kind, registered_on, history_import_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $14, $15, 'history', $16, $17) RETURNING id",
    )
    .bind(h.number)
    .bind(h.customer)
    .bind(h.unit.get())
    .bind(h.title)
    .bind(h.description)
    .bind(h.grade)
    .bind(h.responsibility)
    .bind(h.state)
    .bind(h.deadline.to_string())
    .bind(h.owner)
    .bind(h.receipt_by)
    .bind(h.filed_on.map(|d| d.to_string()))
    .bind(h.by)
    .bind(created_at.to_db())
    .bind(h.closed_at.map(|c| c.to_db()))
    .bind(h.registered_on.to_string())
    .bind(h.import)
    .fetch_one(&mut *conn)
    .await?;
    for (step, detail, day) in h.steps {
        sqlx::query("INSERT INTO hazard_steps (hazard_id, step, detail, by_name, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(*step)
            .bind(detail)
            .bind(h.by)
            .bind(Timestamp::from_local(day.and_hms_opt(12, 0, 0).unwrap_or_default()).to_db())
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}

/// Whether an inspection notice number is taken.
pub async fn notice_taken(conn: &mut Conn, number: &str) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inspections WHERE notice_number = $1")
        .bind(number)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

/// A customer by 户号 with its unit's path (for the importer's reach).
pub async fn customer(conn: &mut Conn, account_no: &str) -> Result<Option<(i64, UnitId, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT c.id, c.unit_id, u.path FROM customers c JOIN org_units u ON u.id = c.unit_id WHERE c.account_no = $1",
    )
    .bind(account_no.trim())
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| Ok((r.try_get("id")?, id(&r, "unit_id")?, r.try_get("path")?))).transpose()
}
