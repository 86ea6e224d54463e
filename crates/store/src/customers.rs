//! Customers' rows: the register, the inspection cycle table and the files kept with
//! inspections, notices and hazards.

use std::collections::HashMap;

use chrono::NaiveDate;
use gridsafe_domain::access::UnitPath;
use gridsafe_domain::customers::{self as register, CustomerRecord};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::inspections::InspectionKind;
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{code, day, id, opt_day, stamp};
use crate::{Conn, StoreError, bound, like, scope_clause};

/// What a ticket takes from the register for its customer.
#[derive(Debug, Clone)]
pub struct RegisteredCustomer {
    pub id: i64,
    pub name: String,
    pub voltage_kv: f64,
}

/// The customer registered under 户号 `account_no`, if any.
pub async fn registered(conn: &mut Conn, account_no: &str) -> Result<Option<RegisteredCustomer>, StoreError> {
    let row = sqlx::query("SELECT id, name, voltage_kv FROM customers WHERE account_no = $1")
        .bind(account_no.trim())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => Some(RegisteredCustomer {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            voltage_kv: r.try_get("voltage_kv")?,
        }),
        None => None,
    })
}

// ---- The register -------------------------------------------------------------------------

/// A customer as stored, with the dates and counts its tracks are judged on; the use cases
/// work out where each track stands.
#[derive(Debug, Clone)]
pub struct StoredCustomer {
    pub id: i64,
    pub record: CustomerRecord,
    pub unit_id: UnitId,
    pub unit_name: String,
    pub unit_path: String,
    /// The last inspection completing the periodic cycle, and the emergency-power check.
    pub last_periodic: Option<NaiveDate>,
    pub last_emergency: Option<NaiveDate>,
    pub open_hazards: i64,
    pub sealed: i64,
    pub updated_by: String,
}

// The last inspection completing each track, as `InspectionKind::completes` says: any kind but
// the emergency-power check completes the periodic cycle; only that kind, or an inspection that
// actually checked the emergency-power section, completes the special check.
const CUSTOMER_COLUMNS: &str = "c.id, c.account_no, c.name, c.address, c.unit_id, u.name AS unit_name, u.path AS unit_path, \
    c.voltage_kv, c.importance, c.importance_document, c.importance_date, c.industry, c.supply_sources, c.supply_kind, \
    c.emergency_power, c.emergency_kind, c.emergency_capacity_kw, c.emergency_last_test, c.electrician_name, \
    c.electrician_phone, c.preventive_test_due, c.registered_on, c.updated_by, \
    (SELECT MAX(i.inspected_on) FROM inspections i WHERE i.customer_id = c.id AND i.kind <> 'emergency_power') AS last_periodic, \
    (SELECT COUNT(*) FROM hazards h WHERE h.customer_id = c.id AND h.state <> 'closed') AS open_hazards, \
    (SELECT COUNT(*) FROM seals s WHERE s.customer_id = c.id AND s.unsealed_on IS NULL) AS sealed, \
    (SELECT MAX(i.inspected_on) FROM inspections i WHERE i.customer_id = c.id \
     AND (i.kind = 'emergency_power' OR i.emergency_checked = 1)) AS last_emergency";

fn customer_from(r: &AnyRow) -> Result<StoredCustomer, StoreError> {
    let t = "customers";
    let sources: i64 = r.try_get("supply_sources")?;
    let record = CustomerRecord {
        account_no: r.try_get("account_no")?,
        name: r.try_get("name")?,
        address: r.try_get("address")?,
        unit: r.try_get("unit_name")?,
        voltage_kv: r.try_get("voltage_kv")?,
        importance: code(t, "importance", r.try_get("importance")?, register::importance_from)?,
        importance_document: r.try_get("importance_document")?,
        importance_date: opt_day(t, "importance_date", r.try_get("importance_date")?)?,
        industry: r.try_get("industry")?,
        supply_sources: u32::try_from(sources).map_err(|_| StoreError::Corrupt {
            table: t,
            column: "supply_sources",
            value: sources.to_string(),
        })?,
        supply_kind: r.try_get("supply_kind")?,
        emergency_power: code(t, "emergency_power", r.try_get("emergency_power")?, register::emergency_from)?,
        emergency_kind: r.try_get("emergency_kind")?,
        emergency_capacity_kw: r.try_get("emergency_capacity_kw")?,
        emergency_last_test: opt_day(t, "emergency_last_test", r.try_get("emergency_last_test")?)?,
        electrician_name: r.try_get("electrician_name")?,
        electrician_phone: r.try_get("electrician_phone")?,
        preventive_test_due: opt_day(t, "preventive_test_due", r.try_get("preventive_test_due")?)?,
        registered_on: opt_day(t, "registered_on", r.try_get("registered_on")?)?,
    };
    Ok(StoredCustomer {
        id: r.try_get("id")?,
        record,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        last_periodic: opt_day("inspections", "inspected_on", r.try_get("last_periodic")?)?,
        last_emergency: opt_day("inspections", "inspected_on", r.try_get("last_emergency")?)?,
        open_hazards: r.try_get("open_hazards")?,
        sealed: r.try_get("sealed")?,
        updated_by: r.try_get("updated_by")?,
    })
}

/// Which customers a list reads.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A `LIKE` pattern over 户号, name and address.
    pub pattern: Option<String>,
    pub importance: Option<String>,
    /// Only this unit and those below it.
    pub unit_id: Option<UnitId>,
}

/// The condition of `filter` within `scope` over `customers c JOIN org_units u`, and its binds.
fn condition(scope: &[UnitPath], filter: &Filter) -> (String, Vec<String>) {
    let (mut sql, mut binds) = scope_clause("u.path", scope, 1);
    if let Some(pattern) = &filter.pattern {
        binds.push(pattern.clone());
        let n = binds.len();
        sql.push_str(&format!(
            " AND ({} OR {} OR {})",
            like("c.account_no", n),
            like("c.name", n),
            like("c.address", n)
        ));
    }
    if let Some(i) = filter.importance.as_deref().filter(|i| !i.is_empty()) {
        binds.push(i.to_owned());
        sql.push_str(&format!(" AND c.importance = ${}", binds.len()));
    }
    if let Some(unit) = filter.unit_id {
        // An integer, not user text.
        sql.push_str(&format!(" AND u.path LIKE (SELECT path FROM org_units WHERE id = {unit}) || '%'"));
    }
    (sql, binds)
}

/// At most `limit` customers of `scope` that `filter` takes, by 户号, after 户号 `after`.
pub async fn customers(
    conn: &mut Conn,
    scope: &[UnitPath],
    filter: &Filter,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<StoredCustomer>, StoreError> {
    let (condition, mut binds) = condition(scope, filter);
    let mut sql =
        format!("SELECT {CUSTOMER_COLUMNS} FROM customers c JOIN org_units u ON u.id = c.unit_id WHERE {condition}");
    if let Some(after) = after {
        binds.push(after.to_owned());
        sql.push_str(&format!(" AND c.account_no > ${}", binds.len()));
    }
    // An integer, not user text.
    sql.push_str(&format!(" ORDER BY c.account_no LIMIT {limit}"));
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(customer_from).collect()
}

/// How many customers of `scope` `filter` takes.
pub async fn count(conn: &mut Conn, scope: &[UnitPath], filter: &Filter) -> Result<i64, StoreError> {
    let (condition, binds) = condition(scope, filter);
    let sql = format!("SELECT COUNT(*) FROM customers c JOIN org_units u ON u.id = c.unit_id WHERE {condition}");
    Ok(bound(sql, &binds).fetch_one(&mut *conn).await?.try_get(0)?)
}

pub async fn customer(conn: &mut Conn, id: i64) -> Result<Option<StoredCustomer>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CUSTOMER_COLUMNS} FROM customers c JOIN org_units u ON u.id = c.unit_id WHERE c.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(customer_from)
    .transpose()
}

/// Every 户号 with the customer's id and unit path: what a register import matches against.
pub async fn accounts(conn: &mut Conn) -> Result<HashMap<String, (i64, String)>, StoreError> {
    sqlx::query("SELECT c.account_no, c.id, u.path FROM customers c JOIN org_units u ON u.id = c.unit_id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("account_no")?, (r.try_get("id")?, r.try_get("path")?))))
        .collect()
}

/// Stores a new customer (`existing` = `None`) or changes one; its id. A taken 户号 is the
/// database's unique violation.
pub async fn save_customer(
    conn: &mut Conn,
    existing: Option<i64>,
    r: &CustomerRecord,
    unit_id: UnitId,
    registered_on: NaiveDate,
    by: &str,
    at: Timestamp,
) -> Result<i64, StoreError> {
    let sql = match existing {
        Some(_) => {
            "UPDATE customers SET account_no = $1, name = $2, address = $3, unit_id = $4, voltage_kv = $5, importance = $6, \
             importance_document = $7, importance_date = $8, industry = $9, supply_sources = $10, supply_kind = $11, \
             emergency_power = $12, emergency_kind = $13, emergency_capacity_kw = CAST($14 AS DOUBLE PRECISION), emergency_last_test = $15, \
             electrician_name = $16, electrician_phone = $17, preventive_test_due = $18, registered_on = $19, \
             updated_at = $20, updated_by = $21 WHERE id = $22 RETURNING id"
        }
        None => {
            "INSERT INTO customers (account_no, name, address, unit_id, voltage_kv, importance, importance_document, \
             importance_date, industry, supply_sources, supply_kind, emergency_power, emergency_kind, emergency_capacity_kw, \
             emergency_last_test, electrician_name, electrician_phone, preventive_test_due, registered_on, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, CAST($14 AS DOUBLE PRECISION), $15, $16, $17, $18, $19, $20, $21) RETURNING id"
        }
    };
    let day = |d: Option<NaiveDate>| d.map(|d| d.to_string());
    let query = sqlx::query_scalar(sql)
        .bind(&r.account_no)
        .bind(&r.name)
        .bind(&r.address)
        .bind(unit_id.get())
        .bind(r.voltage_kv)
        .bind(register::importance_code(r.importance))
        .bind(&r.importance_document)
        .bind(day(r.importance_date))
        .bind(&r.industry)
        .bind(i64::from(r.supply_sources))
        .bind(&r.supply_kind)
        .bind(register::emergency_code(r.emergency_power))
        .bind(&r.emergency_kind)
        .bind(crate::real_text(r.emergency_capacity_kw))
        .bind(day(r.emergency_last_test))
        .bind(&r.electrician_name)
        .bind(&r.electrician_phone)
        .bind(day(r.preventive_test_due))
        .bind(registered_on.to_string())
        .bind(at.to_db())
        .bind(by);
    Ok(match existing {
        Some(id) => query.bind(id).fetch_one(&mut *conn).await?,
        None => query.fetch_one(&mut *conn).await?,
    })
}

// ---- Inspection cycles --------------------------------------------------------------------

/// This deployment's changes to the cycle table: `code → (months, changed by)`.
pub async fn cycle_changes(conn: &mut Conn) -> Result<HashMap<String, (Option<i64>, String)>, StoreError> {
    sqlx::query("SELECT code, months, changed_by FROM inspection_cycles")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("code")?, (r.try_get("months")?, r.try_get("changed_by")?))))
        .collect()
}

pub async fn set_cycle(
    conn: &mut Conn,
    code: &str,
    months: Option<u32>,
    by: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM inspection_cycles WHERE code = $1").bind(code).execute(&mut *conn).await?;
    sqlx::query("INSERT INTO inspection_cycles (code, months, changed_by, changed_at) VALUES ($1, $2, $3, $4)")
        .bind(code)
        .bind(months.map(i64::from))
        .bind(by)
        .bind(at.to_db())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Every inspection as the dashboard counts it: `(customer, day, notice signed, kind,
/// emergency section checked)`, oldest first.
pub async fn inspection_dates(
    conn: &mut Conn,
) -> Result<Vec<(i64, NaiveDate, bool, InspectionKind, bool)>, StoreError> {
    let t = "inspections";
    sqlx::query("SELECT customer_id, inspected_on, notice_signed_on, kind, emergency_checked FROM inspections ORDER BY inspected_on")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("customer_id")?,
                day(t, "inspected_on", r.try_get("inspected_on")?)?,
                r.try_get::<Option<String>, _>("notice_signed_on")?.is_some(),
                code(t, "kind", r.try_get("kind")?, InspectionKind::from_code)?,
                r.try_get::<i64, _>("emergency_checked")? != 0,
            ))
        })
        .collect()
}

// ---- Files --------------------------------------------------------------------------------

/// A file as stored with its record.
#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    pub owner_kind: &'a str,
    pub owner_id: i64,
    pub unit_id: UnitId,
    pub name: &'a str,
    pub content_type: &'a str,
    pub sha256: &'a str,
    pub bytes: &'a [u8],
    pub by: &'a str,
}

pub async fn insert_attachment(conn: &mut Conn, a: &NewAttachment<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO attachments (owner_kind, owner_id, unit_id, name, content_type, size, sha256, content, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(a.owner_kind)
    .bind(a.owner_id)
    .bind(a.unit_id.get())
    .bind(a.name)
    .bind(a.content_type)
    .bind(i64::try_from(a.bytes.len()).unwrap_or(i64::MAX))
    .bind(a.sha256)
    .bind(a.bytes)
    .bind(a.by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

/// A file's description, without its content.
#[derive(Debug, Clone, Serialize)]
pub struct AttachmentMeta {
    pub id: i64,
    pub owner_kind: String,
    /// The record it belongs to.
    pub owner_id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    /// Local time.
    pub uploaded_at: String,
}

impl AttachmentMeta {
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }
}

/// The files of one record (`owner_kind` inspection, notice or hazard).
pub async fn attachments_of(
    conn: &mut Conn,
    owner_kind: &str,
    owner_id: i64,
) -> Result<Vec<AttachmentMeta>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE owner_kind = $1 AND owner_id = $2 ORDER BY id"
    )))
    .bind(owner_kind)
    .bind(owner_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(attachment_from)
    .collect()
}

/// The columns [`attachment_from`] reads.
pub(crate) const ATTACHMENT_COLUMNS: &str =
    "id, owner_kind, owner_id, name, content_type, size, sha256, uploaded_by, uploaded_at";

pub(crate) fn attachment_from(r: &sqlx::any::AnyRow) -> Result<AttachmentMeta, StoreError> {
    Ok(AttachmentMeta {
        id: r.try_get("id")?,
        owner_kind: r.try_get("owner_kind")?,
        owner_id: r.try_get("owner_id")?,
        name: r.try_get("name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: stamp("attachments", "uploaded_at", r.try_get("uploaded_at")?)?.local_display(),
    })
}

/// A file with its content.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// File `id` and its unit's path.
pub async fn attachment(conn: &mut Conn, id: i64) -> Result<Option<(Attachment, String)>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT a.name, a.content_type, a.content, u.path FROM attachments a JOIN org_units u ON u.id = a.unit_id WHERE a.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let file = Attachment {
        name: r.try_get("name")?,
        content_type: r.try_get("content_type")?,
        content: r.try_get("content")?,
    };
    Ok(Some((file, r.try_get("path")?)))
}
