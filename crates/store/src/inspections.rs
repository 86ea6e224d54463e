//! Inspections' rows: the checklist template, inspections with their inspectors, accompanying
//! staff and answers, and the result notice's signature.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use gridsafe_domain::access::UnitPath;
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::inspections::InspectionKind;
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::id;
use crate::{Conn, StoreError, bound, id_list, scope_clause};

/// One item of the checklist template.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistItem {
    pub id: i64,
    pub section: String,
    pub position: i64,
    pub text: String,
    pub origin: String,
    pub changed_by: Option<String>,
}

/// The active checklist items, by position.
pub async fn checklist(conn: &mut Conn) -> Result<Vec<ChecklistItem>, StoreError> {
    sqlx::query("SELECT id, section, position, text, origin, changed_by FROM checklist_items WHERE active = 1 ORDER BY position, id")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(ChecklistItem {
                id: r.try_get("id")?,
                section: r.try_get("section")?,
                position: r.try_get("position")?,
                text: r.try_get("text")?,
                origin: r.try_get("origin")?,
                changed_by: r.try_get("changed_by")?,
            })
        })
        .collect()
}

/// Replaces one section's active items with `items` as `(text, origin)`.
pub async fn replace_section(
    conn: &mut Conn,
    section: &str,
    items: &[(&str, String)],
    by: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE checklist_items SET active = 0 WHERE section = $1").bind(section).execute(&mut *conn).await?;
    for (i, (text, origin)) in items.iter().enumerate() {
        sqlx::query("INSERT INTO checklist_items (section, position, text, origin, active, changed_by) VALUES ($1, $2, $3, $4, 1, $5)")
            .bind(section)
            .bind(i64::try_from(i + 1).unwrap_or(0))
            .bind(*text)
            .bind(origin)
            .bind(by)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// An inspection as recorded.
#[derive(Debug, Clone)]
pub struct NewInspection<'a> {
    pub customer_id: i64,
    pub unit_id: UnitId,
    pub day: NaiveDate,
    pub kind: InspectionKind,
    pub conclusion: &'a str,
    pub notice_number: &'a str,
    pub by: &'a str,
    pub emergency_checked: bool,
    pub inspectors: &'a [PersonId],
    /// Accompanying staff: (name, department).
    pub participants: &'a [(String, String)],
    /// Answers: (section, item text, outcome code, note).
    pub results: &'a [(&'a str, &'a str, &'a str, &'a str)],
    /// The history import it came in with (`history_imports`), for an inspection of an old record.
    pub history_import: Option<i64>,
}

pub async fn insert_inspection(conn: &mut Conn, i: &NewInspection<'_>, at: Timestamp) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO inspections (customer_id, unit_id, inspected_on, kind, conclusion, notice_number, created_by, created_at, \
         emergency_checked, history_import_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(i.customer_id)
    .bind(i.unit_id.get())
    .bind(i.day.to_string())
    .bind(i.kind.code())
    .bind(i.conclusion)
    .bind(i.notice_number)
    .bind(i.by)
    .bind(at.to_db())
    .bind(i64::from(i.emergency_checked))
    .bind(i.history_import)
    .fetch_one(&mut *conn)
    .await?;
    for (n, (name, department)) in i.participants.iter().enumerate() {
        sqlx::query(
            "INSERT INTO inspection_participants (inspection_id, position, name, department) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(i64::try_from(n + 1).unwrap_or(0))
        .bind(name)
        .bind(department)
        .execute(&mut *conn)
        .await?;
    }
    for p in i.inspectors {
        sqlx::query("INSERT INTO inspection_inspectors (inspection_id, person_id) VALUES ($1, $2)")
            .bind(id)
            .bind(p.get())
            .execute(&mut *conn)
            .await?;
    }
    for (n, (section, text, outcome, note)) in i.results.iter().enumerate() {
        sqlx::query(
            "INSERT INTO inspection_results (inspection_id, position, section, text, outcome, note) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(i64::try_from(n + 1).unwrap_or(0))
        .bind(*section)
        .bind(*text)
        .bind(*outcome)
        .bind((!note.is_empty()).then_some(*note))
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

#[derive(Debug, Clone, Serialize)]
pub struct InspectionRow {
    pub id: i64,
    pub customer_id: i64,
    pub unit_id: UnitId,
    pub inspected_on: String,
    pub kind: String,
    pub conclusion: String,
    pub notice_number: String,
    pub notice_signed_by: Option<String>,
    pub notice_signed_on: Option<String>,
    pub created_by: String,
    /// (工号, name)
    pub inspectors: Vec<(String, String)>,
    /// Accompanying staff of a joint inspection: (name, department).
    pub participants: Vec<(String, String)>,
    /// The emergency-power section was checked (some item answered other than 不适用).
    pub emergency_checked: bool,
    pub defects: i64,
}

const INSPECTION_COLUMNS: &str = "i.id, i.customer_id, i.unit_id, i.inspected_on, i.kind, i.conclusion, i.notice_number, \
    i.notice_signed_by, i.notice_signed_on, i.created_by, i.emergency_checked, \
    (SELECT COUNT(*) FROM inspection_results r WHERE r.inspection_id = i.id AND r.outcome = 'defect') AS defects";

fn inspection_from(r: &AnyRow) -> Result<InspectionRow, StoreError> {
    Ok(InspectionRow {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        unit_id: id(r, "unit_id")?,
        inspected_on: r.try_get("inspected_on")?,
        kind: r.try_get("kind")?,
        conclusion: r.try_get("conclusion")?,
        notice_number: r.try_get("notice_number")?,
        notice_signed_by: r.try_get("notice_signed_by")?,
        notice_signed_on: r.try_get("notice_signed_on")?,
        created_by: r.try_get("created_by")?,
        emergency_checked: r.try_get::<i64, _>("emergency_checked")? != 0,
        inspectors: Vec::new(),
        participants: Vec::new(),
        defects: r.try_get("defects")?,
    })
}

/// Fills in the inspectors and accompanying staff of `rows`: two statements however many.
async fn attach_people(conn: &mut Conn, rows: &mut [InspectionRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let list = id_list(&rows.iter().map(|r| r.id).collect::<Vec<_>>());
    let mut inspectors: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
    for r in sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT x.inspection_id, p.code, p.name FROM inspection_inspectors x JOIN people p ON p.id = x.person_id \
         WHERE x.inspection_id IN ({list}) ORDER BY p.code"
    )))
    .fetch_all(&mut *conn)
    .await?
    {
        inspectors.entry(r.try_get("inspection_id")?).or_default().push((r.try_get("code")?, r.try_get("name")?));
    }
    let mut participants: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
    for r in sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT inspection_id, name, department FROM inspection_participants WHERE inspection_id IN ({list}) ORDER BY position"
    )))
    .fetch_all(&mut *conn)
    .await?
    {
        participants.entry(r.try_get("inspection_id")?).or_default().push((r.try_get("name")?, r.try_get("department")?));
    }
    for row in rows {
        row.inspectors = inspectors.remove(&row.id).unwrap_or_default();
        row.participants = participants.remove(&row.id).unwrap_or_default();
    }
    Ok(())
}

/// A customer's inspections, newest first.
pub async fn inspections_of(conn: &mut Conn, customer_id: i64) -> Result<Vec<InspectionRow>, StoreError> {
    let mut rows: Vec<InspectionRow> = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {INSPECTION_COLUMNS} FROM inspections i WHERE i.customer_id = $1 ORDER BY i.inspected_on DESC, i.id DESC"
    )))
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(inspection_from)
    .collect::<Result<_, _>>()?;
    attach_people(conn, &mut rows).await?;
    Ok(rows)
}

pub async fn inspection(conn: &mut Conn, id: i64) -> Result<Option<InspectionRow>, StoreError> {
    let Some(r) =
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {INSPECTION_COLUMNS} FROM inspections i WHERE i.id = $1")))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let mut row = inspection_from(&r)?;
    attach_people(conn, std::slice::from_mut(&mut row)).await?;
    Ok(Some(row))
}

/// One answer of an inspection.
#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    pub section: String,
    pub text: String,
    pub outcome: String,
    pub note: Option<String>,
}

pub async fn results(conn: &mut Conn, id: i64) -> Result<Vec<ResultRow>, StoreError> {
    sqlx::query(
        "SELECT section, text, outcome, note FROM inspection_results WHERE inspection_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(ResultRow {
            section: r.try_get("section")?,
            text: r.try_get("text")?,
            outcome: r.try_get("outcome")?,
            note: r.try_get("note")?,
        })
    })
    .collect()
}

/// The hazards an inspection found: (id, number, title, state).
pub async fn hazards_found(conn: &mut Conn, id: i64) -> Result<Vec<(i64, String, String, String, String)>, StoreError> {
    sqlx::query("SELECT id, number, title, state, deadline FROM hazards WHERE inspection_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("number")?,
                r.try_get("title")?,
                r.try_get("state")?,
                r.try_get("deadline")?,
            ))
        })
        .collect()
}

/// Records who signed the result notice, and on which day.
pub async fn sign_notice(conn: &mut Conn, id: i64, signer: &str, on: Option<NaiveDate>) -> Result<(), StoreError> {
    sqlx::query("UPDATE inspections SET notice_signed_by = $1, notice_signed_on = $2 WHERE id = $3")
        .bind(signer)
        .bind(on.map(|d| d.to_string()))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Active people of `scope` holding a confirmed inspector qualification: (id, 工号, name).
pub async fn inspector_candidates(
    conn: &mut Conn,
    scope: &[UnitPath],
) -> Result<Vec<(PersonId, String, String)>, StoreError> {
    let (clause, binds) = scope_clause("u.path", scope, 1);
    let sql = format!(
        "SELECT DISTINCT p.id, p.code, p.name FROM people p JOIN org_units u ON u.id = p.unit_id \
         JOIN qualifications q ON q.person_id = p.id WHERE q.kind = 'inspector' AND q.confirmed_at IS NOT NULL AND p.active = 1 \
         AND {clause} ORDER BY p.code"
    );
    bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((id(r, "id")?, r.try_get("code")?, r.try_get("name")?)))
        .collect()
}
