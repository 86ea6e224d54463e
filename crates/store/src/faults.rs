//! The fault database's rows. The rules are the domain's (`gridsafe_domain::faults`).

use gridsafe_domain::access::UnitPath;
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{id, opt_id, opt_stamp, stamp};
use crate::{Conn, StoreError, bound, like, scope_clause};

const T: &str = "faults";

#[derive(Debug, Clone, Serialize)]
pub struct CauseRow {
    pub code: String,
    pub name: String,
    pub origin: String,
}

pub async fn causes(conn: &mut Conn) -> Result<Vec<CauseRow>, StoreError> {
    sqlx::query("SELECT code, name, origin FROM fault_causes ORDER BY sort_order, code")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(CauseRow { code: r.try_get("code")?, name: r.try_get("name")?, origin: r.try_get("origin")? }))
        .collect()
}

/// A fault.
#[derive(Debug, Clone, Serialize)]
pub struct FaultRow {
    pub id: i64,
    /// `GZK-YYYYMM-NNNN`
    pub number: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub system: String,
    pub module: String,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub customers_affected: i64,
    pub orders_affected: i64,
    pub cause: String,
    pub cause_name: String,
    pub root_cause: String,
    pub countermeasure: String,
    pub accountable: Option<PersonId>,
    /// `工号 姓名`
    pub accountable_label: Option<String>,
    pub assessment: Option<String>,
    pub import_file: Option<String>,
    pub recorded_by: String,
}

const COLUMNS: &str = "f.id, f.number, f.unit_id, u.name AS unit_name, u.path AS unit_path, f.system, f.module, \
    f.started_at, f.ended_at, f.customers_affected, f.orders_affected, f.cause, c.name AS cause_name, f.root_cause, \
    f.countermeasure, f.accountable_person_id, p.code AS p_code, p.name AS p_name, f.assessment, f.import_file, f.recorded_by";
const FROM: &str = "faults f JOIN org_units u ON u.id = f.unit_id JOIN fault_causes c ON c.code = f.cause \
    LEFT JOIN people p ON p.id = f.accountable_person_id";

fn row_from(r: &AnyRow) -> Result<FaultRow, StoreError> {
    let label = match (r.try_get::<Option<String>, _>("p_code")?, r.try_get::<Option<String>, _>("p_name")?) {
        (Some(c), Some(n)) => Some(format!("{c} {n}")),
        _ => None,
    };
    Ok(FaultRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        system: r.try_get("system")?,
        module: r.try_get("module")?,
        started_at: stamp(T, "started_at", r.try_get("started_at")?)?,
        ended_at: opt_stamp(T, "ended_at", r.try_get("ended_at")?)?,
        customers_affected: r.try_get("customers_affected")?,
        orders_affected: r.try_get("orders_affected")?,
        cause: r.try_get("cause")?,
        cause_name: r.try_get("cause_name")?,
        root_cause: r.try_get("root_cause")?,
        countermeasure: r.try_get("countermeasure")?,
        accountable: opt_id(r, "accountable_person_id")?,
        accountable_label: label,
        assessment: r.try_get("assessment")?,
        import_file: r.try_get("import_file")?,
        recorded_by: r.try_get("recorded_by")?,
    })
}

/// Faults of the units in `scope` (whose system, module or root cause contains `pattern`, of
/// `cause` when given), the latest first.
pub async fn list(
    conn: &mut Conn,
    scope: &[UnitPath],
    pattern: Option<&str>,
    cause: Option<&str>,
    limit: u32,
) -> Result<Vec<FaultRow>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    let mut sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE {clause}");
    if let Some(p) = pattern {
        binds.push(p.to_owned());
        let n = binds.len();
        sql.push_str(&format!(
            " AND ({} OR {} OR {})",
            like("f.system", n),
            like("f.module", n),
            like("f.root_cause", n)
        ));
    }
    if let Some(c) = cause {
        binds.push(c.to_owned());
        sql.push_str(&format!(" AND f.cause = ${}", binds.len()));
    }
    sql.push_str(&format!(" ORDER BY f.started_at DESC, f.id DESC LIMIT {}", limit.clamp(1, 5000)));
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(row_from).collect()
}

pub async fn get(conn: &mut Conn, fault: i64) -> Result<Option<FaultRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM {FROM} WHERE f.id = $1")))
        .bind(fault)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(row_from)
        .transpose()
}

/// A fault as checked by the use case.
#[derive(Debug, Clone)]
pub struct NewFault<'a> {
    pub number: &'a str,
    pub unit: UnitId,
    pub system: &'a str,
    pub module: &'a str,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub customers_affected: i64,
    pub orders_affected: i64,
    pub cause: &'a str,
    pub root_cause: &'a str,
    pub countermeasure: &'a str,
    pub accountable: Option<PersonId>,
    pub assessment: Option<&'a str>,
    pub import_file: Option<&'a str>,
    pub by: &'a str,
}

pub async fn insert(conn: &mut Conn, f: &NewFault<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO faults (number, unit_id, system, module, started_at, ended_at, customers_affected, orders_affected, \
         cause, root_cause, countermeasure, accountable_person_id, assessment, import_file, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
    )
    .bind(f.number)
    .bind(f.unit.get())
    .bind(f.system)
    .bind(f.module)
    .bind(f.started_at.to_db())
    .bind(f.ended_at.map(|e| e.to_db()))
    .bind(f.customers_affected)
    .bind(f.orders_affected)
    .bind(f.cause)
    .bind(f.root_cause)
    .bind(f.countermeasure)
    .bind(f.accountable.map(|p| p.get()))
    .bind(f.assessment)
    .bind(f.import_file)
    .bind(f.by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

// ---- compliance checks ---------------------------------------------------------------------

/// A kind of compliance check with its cycle and checklist.
#[derive(Debug, Clone, Serialize)]
pub struct CheckKindRow {
    pub code: String,
    pub name: String,
    pub months: Option<u32>,
    pub origin: String,
    /// (position, text)
    pub items: Vec<(i64, String)>,
}

pub async fn check_kinds(conn: &mut Conn) -> Result<Vec<CheckKindRow>, StoreError> {
    let mut kinds: Vec<CheckKindRow> =
        sqlx::query("SELECT code, name, months, origin FROM compliance_kinds ORDER BY sort_order, code")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| {
                Ok(CheckKindRow {
                    code: r.try_get("code")?,
                    name: r.try_get("name")?,
                    months: r.try_get::<Option<i64>, _>("months")?.map(|m| m.clamp(1, 120) as u32),
                    origin: r.try_get("origin")?,
                    items: Vec::new(),
                })
            })
            .collect::<Result<_, StoreError>>()?;
    for r in sqlx::query("SELECT kind, position, text FROM compliance_items ORDER BY kind, position")
        .fetch_all(&mut *conn)
        .await?
    {
        let kind: String = r.try_get("kind")?;
        if let Some(k) = kinds.iter_mut().find(|k| k.code == kind) {
            k.items.push((r.try_get("position")?, r.try_get("text")?));
        }
    }
    Ok(kinds)
}

/// A check made.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    pub id: i64,
    /// `HG-YYYYMM-NNNN`
    pub number: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub kind: String,
    pub checked_on: chrono::NaiveDate,
    pub checker: String,
    pub note: String,
    /// (position, text, result, note)
    pub answers: Vec<(i64, String, String, String)>,
}

/// Checks of the units in `scope`, the latest first; or check `only`, with its answers.
pub async fn checks(
    conn: &mut Conn,
    scope: &[UnitPath],
    only: Option<i64>,
    limit: u32,
) -> Result<Vec<CheckRow>, StoreError> {
    // One check by id is read whatever the scope (the use case checks its unit); a list is scoped.
    let (clause, binds) = match only {
        Some(id) => (format!("k.id = {id}"), Vec::new()),
        None => scope_clause("u.path", scope, 1),
    };
    let sql = format!(
        "SELECT k.id, k.number, k.unit_id, u.name AS unit_name, u.path AS unit_path, k.kind, k.checked_on, k.checker, k.note \
         FROM compliance_checks k JOIN org_units u ON u.id = k.unit_id WHERE {clause} \
         ORDER BY k.checked_on DESC, k.id DESC LIMIT {}",
        limit.clamp(1, 5000)
    );
    let mut rows: Vec<CheckRow> = bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(CheckRow {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                unit_id: id(r, "unit_id")?,
                unit_name: r.try_get("unit_name")?,
                unit_path: r.try_get("unit_path")?,
                kind: r.try_get("kind")?,
                checked_on: crate::decode::day("compliance_checks", "checked_on", r.try_get("checked_on")?)?,
                checker: r.try_get("checker")?,
                note: r.try_get("note")?,
                answers: Vec::new(),
            })
        })
        .collect::<Result<_, StoreError>>()?;
    if let Some(id) = only
        && let Some(row) = rows.first_mut()
    {
        for r in sqlx::query(
            "SELECT position, text, result, note FROM compliance_answers WHERE check_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        {
            row.answers.push((r.try_get("position")?, r.try_get("text")?, r.try_get("result")?, r.try_get("note")?));
        }
    }
    Ok(rows)
}

/// A check as checked by the use case.
#[derive(Debug, Clone)]
pub struct NewCheck<'a> {
    pub number: &'a str,
    pub unit: UnitId,
    pub kind: &'a str,
    pub checked_on: chrono::NaiveDate,
    pub checker: &'a str,
    pub note: &'a str,
    pub answers: &'a [(i64, String, &'a str, String)],
    pub by: &'a str,
}

pub async fn insert_check(conn: &mut Conn, c: &NewCheck<'_>, at: Timestamp) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO compliance_checks (number, unit_id, kind, checked_on, checker, note, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(c.number)
    .bind(c.unit.get())
    .bind(c.kind)
    .bind(c.checked_on.to_string())
    .bind(c.checker)
    .bind(c.note)
    .bind(c.by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?;
    for (position, text, result, note) in c.answers {
        sqlx::query(
            "INSERT INTO compliance_answers (check_id, position, text, result, note) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(*position)
        .bind(text)
        .bind(*result)
        .bind(note)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// The last time the accounts were reviewed outside the checks: a permission review recorded by
/// the security administrator (an account's last review) or the daily dormant-account job.
pub async fn last_account_review(conn: &mut Conn) -> Result<Option<Timestamp>, StoreError> {
    let review: Option<String> =
        sqlx::query_scalar("SELECT MAX(last_review_at) FROM users").fetch_one(&mut *conn).await?;
    let job: Option<String> =
        sqlx::query_scalar("SELECT MAX(last_run_at) FROM job_runs WHERE name = 'dormant-accounts'")
            .fetch_one(&mut *conn)
            .await?;
    let times: Vec<Timestamp> = [review, job].into_iter().flatten().filter_map(|t| Timestamp::from_db(&t)).collect();
    Ok(times.into_iter().max())
}
