//! Outages' rows: the request, its customers and tickets, the notices given and the refused
//! early restorations. The rules are the domain's (`gridsafe_domain::outages`).

use gridsafe_domain::access::UnitPath;
use gridsafe_domain::ids::{TicketId, UnitId};
use gridsafe_domain::inspections::Importance;
use gridsafe_domain::outages::{OutageKind, OutageState};
use gridsafe_domain::tickets::State as TicketState;
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{code, id, opt_stamp, stamp};
pub use crate::plans::PlanItemRef;
use crate::plans::{ITEM_REF, item_ref};
use crate::{Conn, StoreError, backend_of, bound, for_update, scope_clause};

const T: &str = "outages";

/// An outage in a list or on its page.
#[derive(Debug, Clone, Serialize)]
pub struct OutageRow {
    pub id: i64,
    pub number: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub kind: OutageKind,
    pub state: OutageState,
    /// The feeder or transformer (线路、台区).
    pub equipment: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub reason: String,
    pub late_reason: Option<String>,
    pub requested_by: String,
    #[serde(skip)]
    pub requested_by_user: Option<i64>,
    pub requested_at: Timestamp,
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
    pub cut_by: Option<String>,
    pub cut_at: Option<Timestamp>,
    pub restored_by: Option<String>,
    pub restored_at: Option<Timestamp>,
    pub cancelled_by: Option<String>,
    pub cancel_reason: Option<String>,
    /// Restorations refused because a crew had not reported work ended.
    pub restore_refusals: i64,
}

const COLUMNS: &str = "o.id, o.number, o.unit_id, u.name AS unit_name, u.path AS unit_path, o.kind, o.state, \
    o.equipment, o.starts_at, o.ends_at, o.reason, o.late_reason, o.requested_by, o.requested_by_user, o.requested_at, \
    o.approved_by, o.approved_at, o.cut_by, o.cut_at, o.restored_by, o.restored_at, o.cancelled_by, o.cancel_reason, \
    o.restore_refusals";

fn row_from(r: &AnyRow) -> Result<OutageRow, StoreError> {
    Ok(OutageRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        kind: code(T, "kind", r.try_get("kind")?, OutageKind::from_code)?,
        state: code(T, "state", r.try_get("state")?, OutageState::from_code)?,
        equipment: r.try_get("equipment")?,
        start: stamp(T, "starts_at", r.try_get("starts_at")?)?,
        end: stamp(T, "ends_at", r.try_get("ends_at")?)?,
        reason: r.try_get("reason")?,
        late_reason: r.try_get("late_reason")?,
        requested_by: r.try_get("requested_by")?,
        requested_by_user: r.try_get("requested_by_user")?,
        requested_at: stamp(T, "requested_at", r.try_get("requested_at")?)?,
        approved_by: r.try_get("approved_by")?,
        approved_at: opt_stamp(T, "approved_at", r.try_get("approved_at")?)?,
        cut_by: r.try_get("cut_by")?,
        cut_at: opt_stamp(T, "cut_at", r.try_get("cut_at")?)?,
        restored_by: r.try_get("restored_by")?,
        restored_at: opt_stamp(T, "restored_at", r.try_get("restored_at")?)?,
        cancelled_by: r.try_get("cancelled_by")?,
        cancel_reason: r.try_get("cancel_reason")?,
        restore_refusals: r.try_get("restore_refusals")?,
    })
}

/// Outages of the units in `scope` whose window starts in `[from, to)`, by start, at most `limit`.
pub async fn list(
    conn: &mut Conn,
    scope: &[UnitPath],
    from: Timestamp,
    to: Timestamp,
    limit: u32,
) -> Result<Vec<OutageRow>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    binds.push(from.to_db());
    binds.push(to.to_db());
    let n = binds.len();
    let sql = format!(
        "SELECT {COLUMNS} FROM outages o JOIN org_units u ON u.id = o.unit_id WHERE {clause} \
         AND o.starts_at >= ${} AND o.starts_at < ${n} ORDER BY o.starts_at, o.id LIMIT {}",
        n - 1,
        limit.clamp(1, 10_000)
    );
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(row_from).collect()
}

/// Outages of the units in `scope` not yet restored or cancelled, by start, at most `limit`,
/// each with how many of its customers still miss the notice the cut needs (an important
/// customer's signed notice, any notice for the others).
pub async fn open(conn: &mut Conn, scope: &[UnitPath], limit: u32) -> Result<Vec<(OutageRow, i64)>, StoreError> {
    let (clause, binds) = scope_clause("u.path", scope, 1);
    let sql = format!(
        "SELECT {COLUMNS}, (SELECT COUNT(*) FROM outage_customers x JOIN customers c ON c.id = x.customer_id \
         WHERE x.outage_id = o.id AND NOT EXISTS (SELECT 1 FROM outage_notices n WHERE n.outage_id = o.id \
         AND n.customer_id = c.id AND n.purpose = 'outage' AND (c.importance = 'none' OR n.channel = 'signed'))) AS unready \
         FROM outages o JOIN org_units u ON u.id = o.unit_id WHERE {clause} AND o.state IN ('pending', 'scheduled', 'cut') \
         ORDER BY o.starts_at, o.id LIMIT {}",
        limit.clamp(1, 1000)
    );
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(|r| Ok((row_from(r)?, r.try_get("unready")?))).collect()
}

/// Outage `id`; with `hold`, its row is held until the transaction ends.
pub async fn get(conn: &mut Conn, outage: i64, hold: bool) -> Result<Option<OutageRow>, StoreError> {
    if hold {
        let lock = for_update(backend_of(conn));
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id FROM outages WHERE id = $1{lock}")))
            .bind(outage)
            .fetch_optional(&mut *conn)
            .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM outages o JOIN org_units u ON u.id = o.unit_id WHERE o.id = $1"
    )))
    .bind(outage)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(row_from)
    .transpose()
}

/// A request as checked by the use case.
#[derive(Debug, Clone)]
pub struct NewOutage<'a> {
    pub number: &'a str,
    pub unit: UnitId,
    pub kind: OutageKind,
    pub state: OutageState,
    pub equipment: &'a str,
    pub start: Timestamp,
    pub end: Timestamp,
    pub reason: &'a str,
    pub late_reason: Option<&'a str>,
    pub by: &'a str,
    pub by_user: Option<i64>,
    pub customers: &'a [i64],
    pub tickets: &'a [TicketId],
    pub plan_items: &'a [i64],
}

/// Stores a request with its customers and tickets; its id.
pub async fn insert(conn: &mut Conn, o: &NewOutage<'_>, at: Timestamp) -> Result<i64, StoreError> {
    let outage: i64 = sqlx::query_scalar(
        "INSERT INTO outages (number, unit_id, kind, state, equipment, starts_at, ends_at, reason, late_reason, \
         requested_by, requested_by_user, requested_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
    )
    .bind(o.number)
    .bind(o.unit.get())
    .bind(o.kind.code())
    .bind(o.state.code())
    .bind(o.equipment)
    .bind(o.start.to_db())
    .bind(o.end.to_db())
    .bind(o.reason)
    .bind(o.late_reason)
    .bind(o.by)
    .bind(o.by_user)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?;
    for c in o.customers {
        sqlx::query("INSERT INTO outage_customers (outage_id, customer_id) VALUES ($1, $2)")
            .bind(outage)
            .bind(*c)
            .execute(&mut *conn)
            .await?;
    }
    for t in o.tickets {
        sqlx::query("INSERT INTO outage_tickets (outage_id, ticket_id) VALUES ($1, $2)")
            .bind(outage)
            .bind(t.get())
            .execute(&mut *conn)
            .await?;
    }
    for i in o.plan_items {
        sqlx::query("INSERT INTO outage_plan_items (outage_id, item_id) VALUES ($1, $2)")
            .bind(outage)
            .bind(*i)
            .execute(&mut *conn)
            .await?;
    }
    Ok(outage)
}

/// A customer on an outage.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerOn {
    pub id: i64,
    pub account_no: String,
    pub name: String,
    pub address: String,
    pub importance: Importance,
    pub electrician_phone: Option<String>,
}

pub async fn customers(conn: &mut Conn, outage: i64) -> Result<Vec<CustomerOn>, StoreError> {
    sqlx::query(
        "SELECT c.id, c.account_no, c.name, c.address, c.importance, c.electrician_phone FROM outage_customers x \
         JOIN customers c ON c.id = x.customer_id WHERE x.outage_id = $1 ORDER BY c.account_no",
    )
    .bind(outage)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(CustomerOn {
            id: r.try_get("id")?,
            account_no: r.try_get("account_no")?,
            name: r.try_get("name")?,
            address: r.try_get("address")?,
            importance: code("customers", "importance", r.try_get("importance")?, |s| {
                gridsafe_domain::customers::importance_from(s)
            })?,
            electrician_phone: r.try_get("electrician_phone")?,
        })
    })
    .collect()
}

/// A ticket worked during an outage.
#[derive(Debug, Clone, Serialize)]
pub struct TicketOn {
    pub id: TicketId,
    pub number: Option<String>,
    pub state: TicketState,
    pub location: String,
    /// `工号 姓名` of its work leader.
    pub leader: Option<String>,
    pub unit_path: String,
}

impl TicketOn {
    /// Its number, or its draft id until issued.
    pub fn label(&self) -> String {
        self.number.clone().unwrap_or_else(|| format!("#{}", self.id))
    }
}

const TICKET_ON: &str = "SELECT t.id, t.number, t.state, t.location, u.path AS unit_path, \
    lp.code AS leader_code, lp.name AS leader_name FROM tickets t JOIN org_units u ON u.id = t.unit_id \
    LEFT JOIN people lp ON lp.id = t.leader_id";

fn ticket_from(r: &AnyRow) -> Result<TicketOn, StoreError> {
    let leader = match (r.try_get::<Option<String>, _>("leader_code")?, r.try_get::<Option<String>, _>("leader_name")?)
    {
        (Some(c), Some(n)) => Some(format!("{c} {n}")),
        _ => None,
    };
    Ok(TicketOn {
        id: id(r, "id")?,
        number: r.try_get("number")?,
        state: code("tickets", "state", r.try_get("state")?, TicketState::from_code)?,
        location: r.try_get("location")?,
        leader,
        unit_path: r.try_get("unit_path")?,
    })
}

pub async fn tickets(conn: &mut Conn, outage: i64) -> Result<Vec<TicketOn>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{TICKET_ON} JOIN outage_tickets x ON x.ticket_id = t.id WHERE x.outage_id = $1 ORDER BY t.id"
    )))
    .bind(outage)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(ticket_from)
    .collect()
}

/// Tickets of the units in `scope` not yet finished whose window ends after `after`: the ones an
/// outage may name, the latest first, at most `limit`.
pub async fn open_tickets(
    conn: &mut Conn,
    scope: &[UnitPath],
    after: Timestamp,
    limit: u32,
) -> Result<Vec<TicketOn>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    binds.push(after.to_db());
    let sql = format!(
        "{TICKET_ON} WHERE {clause} AND t.state NOT IN ('closed', 'not_executed', 'void') AND t.planned_end > ${} \
         ORDER BY t.planned_start DESC, t.id DESC LIMIT {}",
        binds.len(),
        limit.clamp(1, 1000)
    );
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(ticket_from).collect()
}

/// A ticket by id, with its unit's path, for a request naming it.
pub async fn ticket(conn: &mut Conn, ticket: TicketId) -> Result<Option<TicketOn>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("{TICKET_ON} WHERE t.id = $1")))
        .bind(ticket.get())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(ticket_from)
        .transpose()
}

/// A customer by 户号, with its unit (id and path), for a request naming it.
pub async fn customer_by_account(
    conn: &mut Conn,
    account_no: &str,
) -> Result<Option<(i64, UnitId, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT c.id, c.unit_id, u.path FROM customers c JOIN org_units u ON u.id = c.unit_id WHERE c.account_no = $1",
    )
    .bind(account_no)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(r) => Some((r.try_get("id")?, id(&r, "unit_id")?, r.try_get("path")?)),
        None => None,
    })
}

/// A notice given to one customer.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeRow {
    pub id: i64,
    pub customer_id: i64,
    /// `outage` (before the cut) or `overrun` (supply comes back late).
    pub purpose: String,
    /// `signed`, `phone`, `sms` or `announcement`.
    pub channel: String,
    pub signed_by: Option<String>,
    pub notified_at: Timestamp,
    pub recorded_by: String,
}

pub async fn notices(conn: &mut Conn, outage: i64) -> Result<Vec<NoticeRow>, StoreError> {
    let t = "outage_notices";
    sqlx::query(
        "SELECT id, customer_id, purpose, channel, signed_by, notified_at, recorded_by FROM outage_notices \
         WHERE outage_id = $1 ORDER BY id",
    )
    .bind(outage)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(NoticeRow {
            id: r.try_get("id")?,
            customer_id: r.try_get("customer_id")?,
            purpose: r.try_get("purpose")?,
            channel: r.try_get("channel")?,
            signed_by: r.try_get("signed_by")?,
            notified_at: stamp(t, "notified_at", r.try_get("notified_at")?)?,
            recorded_by: r.try_get("recorded_by")?,
        })
    })
    .collect()
}

/// A notice as checked by the use case.
#[derive(Debug, Clone)]
pub struct NewNotice<'a> {
    pub customer: i64,
    pub purpose: &'a str,
    pub channel: &'a str,
    pub signed_by: Option<&'a str>,
    pub notified_at: Timestamp,
    pub by: &'a str,
}

pub async fn insert_notice(conn: &mut Conn, outage: i64, n: &NewNotice<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO outage_notices (outage_id, customer_id, purpose, channel, signed_by, notified_at, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(outage)
    .bind(n.customer)
    .bind(n.purpose)
    .bind(n.channel)
    .bind(n.signed_by)
    .bind(n.notified_at.to_db())
    .bind(n.by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

/// Moves outage `outage` from `from` to `to`, stamping who took the step (and `reason` for a
/// cancellation); false when it was no longer in `from`.
pub async fn set_state(
    conn: &mut Conn,
    outage: i64,
    from: OutageState,
    to: OutageState,
    by: &str,
    reason: Option<&str>,
    at: Timestamp,
) -> Result<bool, StoreError> {
    let stamp = match to {
        OutageState::Scheduled => "approved_by = $3, approved_at = $2",
        OutageState::Cut => "cut_by = $3, cut_at = $2",
        OutageState::Restored => "restored_by = $3, restored_at = $2",
        OutageState::Cancelled => "cancelled_by = $3, cancel_reason = $6",
        // A request enters pending when stored; no step leads back to it.
        OutageState::Pending => return Ok(false),
    };
    let sql = format!("UPDATE outages SET state = $1, updated_at = $2, {stamp} WHERE id = $4 AND state = $5");
    let mut q =
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(to.code()).bind(at.to_db()).bind(by).bind(outage).bind(from.code());
    if to == OutageState::Cancelled {
        q = q.bind(reason.unwrap_or_default().to_owned());
    }
    Ok(q.execute(&mut *conn).await?.rows_affected() == 1)
}

/// Counts one refused early restoration (约时送电 prevented).
pub async fn count_refusal(conn: &mut Conn, outage: i64, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE outages SET restore_refusals = restore_refusals + 1, updated_at = $1 WHERE id = $2")
        .bind(at.to_db())
        .bind(outage)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The scans of the outage's signed notices (attachments of kind `outage_notice`, owned by the
/// notice).
pub async fn scans(conn: &mut Conn, outage: i64) -> Result<Vec<crate::customers::AttachmentMeta>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {} FROM attachments WHERE owner_kind = 'outage_notice' \
         AND owner_id IN (SELECT id FROM outage_notices WHERE outage_id = $1) ORDER BY id",
        crate::customers::ATTACHMENT_COLUMNS
    )))
    .bind(outage)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(crate::customers::attachment_from)
    .collect()
}

/// The plan items outage `outage` serves, by start.
pub async fn plan_items(conn: &mut Conn, outage: i64) -> Result<Vec<PlanItemRef>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ITEM_REF} JOIN outage_plan_items x ON x.item_id = i.id WHERE x.outage_id = $1 ORDER BY i.starts_at, i.id"
    )))
    .bind(outage)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(item_ref)
    .collect()
}
