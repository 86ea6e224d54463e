//! The quality indicators' definitions, the counts their measures are taken from, and the monthly
//! reports. What a count means is the domain's (`gridsafe_domain::quality::MEASURES`) and the
//! app's; here are only the statements.

use chrono::NaiveDate;
use gridsafe_domain::access::UnitPath;
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::time::Timestamp;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{day, id, opt_stamp, stamp};
use crate::{Conn, StoreError, bound, scope_clause};

const T: &str = "quality_reports";

/// An indicator as stored.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorRow {
    pub code: String,
    pub name: String,
    pub formula: String,
    pub unit_label: String,
    pub target: Option<f64>,
    pub direction: String,
    pub origin: String,
    pub updated_by: Option<String>,
}

pub async fn indicators(conn: &mut Conn) -> Result<Vec<IndicatorRow>, StoreError> {
    sqlx::query(
        "SELECT code, name, formula, unit_label, CAST(target AS TEXT) AS target, direction, origin, updated_by \
         FROM quality_indicators ORDER BY sort_order, code",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(IndicatorRow {
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            formula: r.try_get("formula")?,
            unit_label: r.try_get("unit_label")?,
            target: r.try_get::<Option<String>, _>("target")?.and_then(|t| t.parse().ok()),
            direction: r.try_get("direction")?,
            origin: r.try_get("origin")?,
            updated_by: r.try_get("updated_by")?,
        })
    })
    .collect()
}

/// Changes an indicator's formula, target and direction; false when there is no such code.
pub async fn set_indicator(
    conn: &mut Conn,
    code: &str,
    formula: &str,
    target: Option<f64>,
    direction: &str,
    by: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE quality_indicators SET formula = $1, target = CAST($2 AS DOUBLE PRECISION), direction = $3, \
         updated_by = $4, updated_at = $5 WHERE code = $6",
    )
    .bind(formula)
    .bind(crate::real_text(target))
    .bind(direction)
    .bind(by)
    .bind(at.to_db())
    .bind(code)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// One month of a scope: its instants (China time) and days.
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
    pub first: NaiveDate,
    pub next: NaiveDate,
}

impl Period {
    fn month(&self) -> String {
        self.first.format("%Y-%m").to_string()
    }
}

/// Counts per unit: (unit, measure, count).
pub type Counts = Vec<(UnitId, &'static str, i64)>;

/// Runs `select` (selecting `unit_id` and the named integer columns) and adds each column as a
/// measure. `{scope}` in the statement stands for the unit clause on `u.path`; the period's
/// values follow the scope's binds in the order `extra` gives them.
async fn grouped(
    conn: &mut Conn,
    scope: &[UnitPath],
    select: &str,
    extra: &[String],
    columns: &[&'static str],
    out: &mut Counts,
) -> Result<(), StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    let first = binds.len() + 1;
    binds.extend(extra.iter().cloned());
    let mut sql = select.replace("{scope}", &clause);
    for i in (0..extra.len()).rev() {
        sql = sql.replace(&format!("{{{i}}}"), &format!("${}", first + i));
    }
    for r in bound(sql, &binds).fetch_all(&mut *conn).await? {
        let unit: UnitId = id(&r, "unit_id")?;
        for c in columns {
            let n: i64 = r.try_get::<Option<i64>, _>(*c)?.unwrap_or(0);
            if n != 0 {
                out.push((unit, c, n));
            }
        }
    }
    Ok(())
}

/// The order types that are not field work, as an SQL list of the domain's codes (no user text).
fn not_field_work() -> String {
    gridsafe_domain::orders::ORDER_TYPES
        .iter()
        .filter(|(_, _, t)| !t.is_field_work())
        .map(|(code, _, _)| format!("'{code}'"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The counts of the measures SQL can take directly, per unit in `scope`, for `p`.
pub async fn counts(conn: &mut Conn, scope: &[UnitPath], p: &Period) -> Result<Counts, StoreError> {
    let mut out = Counts::new();
    let (from, to) = (p.from.to_db(), p.to.to_db());
    let (first, next) = (p.first.to_string(), p.next.to_string());
    grouped(
        conn,
        scope,
        "SELECT t.unit_id, \
           SUM(CASE WHEN t.state = 'closed' THEN 1 ELSE 0 END) AS tickets_executed, \
           SUM(CASE WHEN t.state = 'closed' AND t.verdict IS NOT NULL THEN 1 ELSE 0 END) AS tickets_evaluated, \
           SUM(CASE WHEN t.state = 'closed' AND t.verdict = 'pass' THEN 1 ELSE 0 END) AS tickets_passed \
         FROM tickets t JOIN org_units u ON u.id = t.unit_id \
         WHERE {scope} AND t.finished_at >= {0} AND t.finished_at < {1} GROUP BY t.unit_id",
        &[from.clone(), to.clone()],
        &["tickets_executed", "tickets_evaluated", "tickets_passed"],
        &mut out,
    )
    .await?;
    grouped(
        conn,
        scope,
        &format!(
            "SELECT o.unit_id, COUNT(*) AS field_orders FROM marketing_orders o JOIN org_units u ON u.id = o.unit_id \
             WHERE {{scope}} AND o.started_at >= {{0}} AND o.started_at < {{1}} AND o.order_type NOT IN ({}) GROUP BY o.unit_id",
            not_field_work()
        ),
        &[from.clone(), to.clone()],
        &["field_orders"],
        &mut out,
    )
    .await?;
    grouped(
        conn,
        scope,
        "SELECT f.unit_id, COUNT(*) AS findings_total, \
           SUM(CASE WHEN f.rule = 'NO_TICKET' THEN 1 ELSE 0 END) AS findings_no_ticket, \
           SUM(CASE WHEN f.rule IN ('SINGLE_PERSON_ORDER', 'SINGLE_PERSON_TICKET') THEN 1 ELSE 0 END) AS findings_single_person, \
           SUM(CASE WHEN f.state = 'confirmed' THEN 1 ELSE 0 END) AS findings_confirmed, \
           SUM(CASE WHEN f.state = 'confirmed' AND EXISTS (SELECT 1 FROM hazards h WHERE h.source_kind = 'finding' \
               AND h.source_id = f.id AND h.state = 'closed') THEN 1 ELSE 0 END) AS findings_rectified \
         FROM findings f JOIN org_units u ON u.id = f.unit_id \
         WHERE {scope} AND f.month = {0} AND f.state <> 'dismissed' GROUP BY f.unit_id",
        &[p.month()],
        &["findings_total", "findings_no_ticket", "findings_single_person", "findings_confirmed", "findings_rectified"],
        &mut out,
    )
    .await?;
    // A person counts once however many of his qualifications of a kind ran out unrenewed.
    grouped(
        conn,
        scope,
        "SELECT p.unit_id, COUNT(DISTINCT p.id) AS qualifications_expired \
         FROM qualifications q JOIN people p ON p.id = q.person_id JOIN org_units u ON u.id = p.unit_id \
         WHERE {scope} AND p.active = 1 AND q.valid_to >= {0} AND q.valid_to < {1} \
           AND NOT EXISTS (SELECT 1 FROM qualifications r WHERE r.person_id = q.person_id AND r.kind = q.kind \
               AND r.valid_to > q.valid_to) \
         GROUP BY p.unit_id",
        &[first.clone(), next.clone()],
        &["qualifications_expired"],
        &mut out,
    )
    .await?;
    grouped(
        conn,
        scope,
        "SELECT a.unit_id, COUNT(*) AS accounts_dormant FROM users a JOIN org_units u ON u.id = a.unit_id \
         WHERE {scope} AND a.dormant_flagged_at >= {0} AND a.dormant_flagged_at < {1} GROUP BY a.unit_id",
        &[from.clone(), to.clone()],
        &["accounts_dormant"],
        &mut out,
    )
    .await?;
    grouped(
        conn,
        scope,
        "SELECT d.unit_id, COUNT(*) AS drills_held FROM drills d JOIN org_units u ON u.id = d.unit_id \
         WHERE {scope} AND d.held_on >= {0} AND d.held_on < {1} GROUP BY d.unit_id",
        &[first.clone(), next.clone()],
        &["drills_held"],
        &mut out,
    )
    .await?;
    // Violations (违章) that happened in the month, and the grave and serious among them.
    grouped(
        conn,
        scope,
        "SELECT v.unit_id, COUNT(*) AS violations, \
           SUM(CASE WHEN v.severity IN ('grave', 'serious') THEN 1 ELSE 0 END) AS violations_serious \
         FROM violations v JOIN org_units u ON u.id = v.unit_id \
         WHERE {scope} AND v.occurred_at >= {0} AND v.occurred_at < {1} GROUP BY v.unit_id",
        &[from.clone(), to.clone()],
        &["violations", "violations_serious"],
        &mut out,
    )
    .await?;
    // Work started in the month (开工), and starts whose grade needed a manager on site who was not.
    grouped(
        conn,
        scope,
        "SELECT t.unit_id, COUNT(*) AS starts, \
           SUM(CASE WHEN t.start_attended = 0 THEN 1 ELSE 0 END) AS starts_unattended \
         FROM tickets t JOIN org_units u ON u.id = t.unit_id \
         WHERE {scope} AND t.start_grade IS NOT NULL AND EXISTS (SELECT 1 FROM ticket_steps s \
           WHERE s.ticket_id = t.id AND s.step = 'start' AND s.at >= {0} AND s.at < {1}) GROUP BY t.unit_id",
        &[from, to],
        &["starts", "starts_unattended"],
        &mut out,
    )
    .await?;
    Ok(out)
}

/// A fault as its measures read it: unit, cause, start, restoration.
pub async fn faults(
    conn: &mut Conn,
    scope: &[UnitPath],
    p: &Period,
) -> Result<Vec<(UnitId, String, Timestamp, Option<Timestamp>)>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    binds.extend([p.from.to_db(), p.to.to_db()]);
    let n = binds.len();
    let sql = format!(
        "SELECT f.unit_id, f.cause, f.started_at, f.ended_at FROM faults f JOIN org_units u ON u.id = f.unit_id \
         WHERE {clause} AND f.started_at >= ${} AND f.started_at < ${n}",
        n - 1
    );
    bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                id(r, "unit_id")?,
                r.try_get("cause")?,
                stamp("faults", "started_at", r.try_get("started_at")?)?,
                opt_stamp("faults", "ended_at", r.try_get("ended_at")?)?,
            ))
        })
        .collect()
}

/// Hazards whose deadline fell in the period: unit, deadline, when closed.
pub async fn hazards_due(
    conn: &mut Conn,
    scope: &[UnitPath],
    p: &Period,
) -> Result<Vec<(UnitId, NaiveDate, Option<Timestamp>)>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    binds.extend([p.first.to_string(), p.next.to_string()]);
    let n = binds.len();
    let sql = format!(
        "SELECT h.unit_id, h.deadline, h.closed_at FROM hazards h JOIN org_units u ON u.id = h.unit_id \
         WHERE {clause} AND h.deadline >= ${} AND h.deadline < ${n}",
        n - 1
    );
    bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                id(r, "unit_id")?,
                day("hazards", "deadline", r.try_get("deadline")?)?,
                opt_stamp("hazards", "closed_at", r.try_get("closed_at")?)?,
            ))
        })
        .collect()
}

/// A report as stored.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    pub id: i64,
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub month: String,
    pub version: i64,
    pub state: String,
    pub texts: String,
    #[serde(skip)]
    pub snapshot: Option<String>,
    pub hash: Option<String>,
    pub reason: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub issued_by: Option<String>,
    pub issued_at: Option<Timestamp>,
}

const COLUMNS: &str = "r.id, r.unit_id, u.name AS unit_name, u.path AS unit_path, r.month, r.version, r.state, \
    r.texts, r.snapshot, r.hash, r.reason, r.created_by, r.created_at, r.issued_by, r.issued_at";

fn report_from(r: &AnyRow) -> Result<ReportRow, StoreError> {
    Ok(ReportRow {
        id: r.try_get("id")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        month: r.try_get("month")?,
        version: r.try_get("version")?,
        state: r.try_get("state")?,
        texts: r.try_get("texts")?,
        snapshot: r.try_get("snapshot")?,
        hash: r.try_get("hash")?,
        reason: r.try_get("reason")?,
        created_by: r.try_get("created_by")?,
        created_at: stamp(T, "created_at", r.try_get("created_at")?)?,
        issued_by: r.try_get("issued_by")?,
        issued_at: opt_stamp(T, "issued_at", r.try_get("issued_at")?)?,
    })
}

/// Reports in scope, newest month first, each version (the latest first).
pub async fn reports(conn: &mut Conn, scope: &[UnitPath], limit: u32) -> Result<Vec<ReportRow>, StoreError> {
    let (clause, binds) = scope_clause("u.path", scope, 1);
    let sql = format!(
        "SELECT {COLUMNS} FROM quality_reports r JOIN org_units u ON u.id = r.unit_id WHERE {clause} \
         ORDER BY r.month DESC, u.path, r.version DESC LIMIT {}",
        limit.min(10_000)
    );
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(report_from).collect()
}

/// One report; `hold` locks it for the write transaction.
pub async fn report(conn: &mut Conn, id: i64, hold: bool) -> Result<Option<ReportRow>, StoreError> {
    let lock = if hold { crate::for_update(crate::backend_of(conn)) } else { "" };
    let sql =
        format!("SELECT {COLUMNS} FROM quality_reports r JOIN org_units u ON u.id = r.unit_id WHERE r.id = $1{lock}");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(report_from)
        .transpose()
}

/// Every version of a unit's report for a month, the latest first.
pub async fn versions(conn: &mut Conn, unit: UnitId, month: &str) -> Result<Vec<ReportRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM quality_reports r JOIN org_units u ON u.id = r.unit_id \
         WHERE r.unit_id = $1 AND r.month = $2 ORDER BY r.version DESC"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(unit.get())
        .bind(month)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(report_from)
        .collect()
}

/// The latest version of a unit's report for a month.
pub async fn latest(conn: &mut Conn, unit: UnitId, month: &str) -> Result<Option<ReportRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM quality_reports r JOIN org_units u ON u.id = r.unit_id \
         WHERE r.unit_id = $1 AND r.month = $2 ORDER BY r.version DESC LIMIT 1"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(unit.get())
        .bind(month)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(report_from)
        .transpose()
}

/// A draft to insert: the first version, or a reissue's with its reason.
#[derive(Debug, Clone, Copy)]
pub struct NewDraft<'a> {
    pub unit: UnitId,
    pub month: &'a str,
    pub version: i64,
    pub texts: &'a str,
    pub reason: Option<&'a str>,
    pub by: &'a str,
}

/// A new draft; its id.
pub async fn insert_draft(conn: &mut Conn, d: &NewDraft<'_>, at: Timestamp) -> Result<i64, StoreError> {
    let NewDraft { unit, month, version, texts, reason, by } = *d;
    Ok(sqlx::query(
        "INSERT INTO quality_reports (unit_id, month, version, state, texts, reason, created_by, created_at) \
         VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7) RETURNING id",
    )
    .bind(unit.get())
    .bind(month)
    .bind(version)
    .bind(texts)
    .bind(reason)
    .bind(by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?
    .try_get("id")?)
}

/// A draft's texts; false when the report is no longer a draft.
pub async fn set_texts(conn: &mut Conn, id: i64, texts: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query("UPDATE quality_reports SET texts = $1 WHERE id = $2 AND state = 'draft'")
        .bind(texts)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1)
}

/// Freezes a draft; false when it is no longer a draft.
pub async fn issue(
    conn: &mut Conn,
    id: i64,
    snapshot: &str,
    hash: &str,
    by: &str,
    at: Timestamp,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE quality_reports SET state = 'issued', snapshot = $1, hash = $2, issued_by = $3, issued_at = $4 \
         WHERE id = $5 AND state = 'draft'",
    )
    .bind(snapshot)
    .bind(hash)
    .bind(by)
    .bind(at.to_db())
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Marks an issued version replaced by a reissue; false when it was not the issued one.
pub async fn replace(conn: &mut Conn, id: i64) -> Result<bool, StoreError> {
    Ok(sqlx::query("UPDATE quality_reports SET state = 'replaced' WHERE id = $1 AND state = 'issued'")
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
        == 1)
}

/// The hashes the audit trail recorded when a report was issued (`quality_report.issued`).
pub async fn audited_hashes(conn: &mut Conn, id: i64) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    for r in sqlx::query(
        "SELECT summary FROM audit_events WHERE action = 'quality_report.issued' AND record_kind = 'quality_report' \
         AND record_id = $1 ORDER BY seq",
    )
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?
    {
        let summary: String = r.try_get("summary")?;
        if let Some(h) = serde_json::from_str::<serde_json::Value>(&summary)
            .ok()
            .and_then(|v| v.get("hash").and_then(|h| h.as_str()).map(str::to_owned))
        {
            out.push(h);
        }
    }
    Ok(out)
}

/// Units of `kinds` in scope that have no report for `month` yet: (unit, name).
pub async fn units_without_report(conn: &mut Conn, kinds: &[&str], month: &str) -> Result<Vec<UnitId>, StoreError> {
    let list = kinds.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(",");
    let sql = format!(
        "SELECT u.id FROM org_units u WHERE u.kind IN ({list}) \
         AND NOT EXISTS (SELECT 1 FROM quality_reports r WHERE r.unit_id = u.id AND r.month = $1) ORDER BY u.path"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(month).fetch_all(&mut *conn).await?.iter().map(|r| id(r, "id")).collect()
}

/// A finding as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingLine {
    pub id: i64,
    pub rule: String,
    pub subject: String,
    pub detail: String,
    pub unit_name: String,
    pub state: String,
}

/// The month's findings, the gravest first: ticketless work, then single-person work, then the
/// other rules; confirmed before open; at most `limit`. Dismissed ones are not listed.
pub async fn worst_findings(
    conn: &mut Conn,
    scope: &[UnitPath],
    month: &str,
    limit: u32,
) -> Result<Vec<FindingLine>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    binds.push(month.to_owned());
    let n = binds.len();
    let sql = format!(
        "SELECT f.id, f.rule, f.subject, f.detail, u.name AS unit_name, f.state FROM findings f \
         JOIN org_units u ON u.id = f.unit_id WHERE {clause} AND f.month = ${n} AND f.state <> 'dismissed' \
         ORDER BY CASE f.rule WHEN 'NO_TICKET' THEN 0 WHEN 'SINGLE_PERSON_ORDER' THEN 1 WHEN 'SINGLE_PERSON_TICKET' THEN 1 ELSE 2 END, \
         CASE f.state WHEN 'confirmed' THEN 0 ELSE 1 END, f.id LIMIT {}",
        limit.min(1000)
    );
    bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(FindingLine {
                id: r.try_get("id")?,
                rule: r.try_get("rule")?,
                subject: r.try_get("subject")?,
                detail: r.try_get("detail")?,
                unit_name: r.try_get("unit_name")?,
                state: r.try_get("state")?,
            })
        })
        .collect()
}

/// A hazard past its deadline, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueLine {
    pub id: i64,
    pub number: String,
    pub title: String,
    pub unit_name: String,
    pub deadline: NaiveDate,
    pub escalation: i64,
}

/// Hazards still open whose deadline is before `day`, the oldest deadline first.
pub async fn overdue_hazards(
    conn: &mut Conn,
    scope: &[UnitPath],
    day_: NaiveDate,
    limit: u32,
) -> Result<Vec<OverdueLine>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    binds.push(day_.to_string());
    let n = binds.len();
    let sql = format!(
        "SELECT h.id, h.number, h.title, u.name AS unit_name, h.deadline, h.escalation FROM hazards h \
         JOIN org_units u ON u.id = h.unit_id WHERE {clause} AND h.state <> 'closed' AND h.deadline IS NOT NULL \
         AND h.deadline < ${n} ORDER BY h.deadline, h.id LIMIT {}",
        limit.min(1000)
    );
    bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(OverdueLine {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                title: r.try_get("title")?,
                unit_name: r.try_get("unit_name")?,
                deadline: day("hazards", "deadline", r.try_get("deadline")?)?,
                escalation: r.try_get("escalation")?,
            })
        })
        .collect()
}
