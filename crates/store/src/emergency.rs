//! Emergency plans and drills, rural pilots and their library, complaints and evaluations: their
//! rows. The rules are the domain's (`gridsafe_domain::emergency`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use gridsafe_domain::access::UnitPath;
use gridsafe_domain::emergency::{DrillFacts, DrillRating, EvaluationKind, PlanFacts, PlanKind};
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{code, day, id, opt_day, stamp};
use crate::{Conn, StoreError, backend_of, bound, for_update, id_list, like, scope_clause};

const T: &str = "emergency_plans";

/// A class of risk plans cover.
#[derive(Debug, Clone, Serialize)]
pub struct RiskRow {
    pub code: String,
    pub name: String,
    pub origin: String,
}

pub async fn risks(conn: &mut Conn) -> Result<Vec<RiskRow>, StoreError> {
    sqlx::query("SELECT code, name, origin FROM emergency_risks ORDER BY sort_order, code")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(RiskRow { code: r.try_get("code")?, name: r.try_get("name")?, origin: r.try_get("origin")? }))
        .collect()
}

/// An emergency plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlanRow {
    pub id: i64,
    /// `YA-YYYYMM-NNNN`
    pub number: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub customer: Option<(i64, String, String)>,
    pub kind: PlanKind,
    pub title: String,
    pub risks: Vec<String>,
    pub version: String,
    pub approved_by: String,
    pub approved_on: NaiveDate,
    pub review_due: NaiveDate,
    pub retired_on: Option<NaiveDate>,
    pub created_by: String,
}

const PLAN_COLUMNS: &str = "p.id, p.number, p.unit_id, u.name AS unit_name, u.path AS unit_path, p.customer_id, \
    c.account_no, c.name AS customer_name, p.kind, p.title, p.risks, p.version, p.approved_by, p.approved_on, \
    p.review_due, p.retired_on, p.created_by";
const PLAN_FROM: &str =
    "emergency_plans p JOIN org_units u ON u.id = p.unit_id LEFT JOIN customers c ON c.id = p.customer_id";

fn plan_from(r: &AnyRow) -> Result<PlanRow, StoreError> {
    let customer = match r.try_get::<Option<i64>, _>("customer_id")? {
        Some(cid) => Some((
            cid,
            r.try_get::<Option<String>, _>("account_no")?.unwrap_or_default(),
            r.try_get::<Option<String>, _>("customer_name")?.unwrap_or_default(),
        )),
        None => None,
    };
    let risks: String = r.try_get("risks")?;
    Ok(PlanRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        customer,
        kind: code(T, "kind", r.try_get("kind")?, PlanKind::from_code)?,
        title: r.try_get("title")?,
        risks: risks.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        version: r.try_get("version")?,
        approved_by: r.try_get("approved_by")?,
        approved_on: day(T, "approved_on", r.try_get("approved_on")?)?,
        review_due: day(T, "review_due", r.try_get("review_due")?)?,
        retired_on: opt_day(T, "retired_on", r.try_get("retired_on")?)?,
        created_by: r.try_get("created_by")?,
    })
}

/// The plans of the units in `scope`, by unit and kind.
pub async fn plans(conn: &mut Conn, scope: &[UnitPath]) -> Result<Vec<PlanRow>, StoreError> {
    let (clause, binds) = scope_clause("u.path", scope, 1);
    let sql = format!("SELECT {PLAN_COLUMNS} FROM {PLAN_FROM} WHERE {clause} ORDER BY u.path, p.kind, p.id LIMIT 5000");
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(plan_from).collect()
}

/// Plan `plan`; with `hold`, its row is held until the transaction ends.
pub async fn plan(conn: &mut Conn, plan: i64, hold: bool) -> Result<Option<PlanRow>, StoreError> {
    if hold {
        let lock = for_update(backend_of(conn));
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id FROM emergency_plans WHERE id = $1{lock}")))
            .bind(plan)
            .fetch_optional(&mut *conn)
            .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {PLAN_COLUMNS} FROM {PLAN_FROM} WHERE p.id = $1")))
        .bind(plan)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(plan_from)
        .transpose()
}

/// A plan as checked by the use case.
#[derive(Debug, Clone)]
pub struct NewPlan<'a> {
    pub number: &'a str,
    pub unit: UnitId,
    pub customer: Option<i64>,
    pub kind: PlanKind,
    pub title: &'a str,
    pub risks: &'a [String],
    pub version: &'a str,
    pub approved_by: &'a str,
    pub approved_on: NaiveDate,
    pub review_due: NaiveDate,
    pub by: &'a str,
}

pub async fn insert_plan(conn: &mut Conn, p: &NewPlan<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO emergency_plans (number, unit_id, customer_id, kind, title, risks, version, approved_by, approved_on, \
         review_due, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(p.number)
    .bind(p.unit.get())
    .bind(p.customer)
    .bind(p.kind.code())
    .bind(p.title)
    .bind(p.risks.join(","))
    .bind(p.version)
    .bind(p.approved_by)
    .bind(p.approved_on.to_string())
    .bind(p.review_due.to_string())
    .bind(p.by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

/// A drill held.
#[derive(Debug, Clone, Serialize)]
pub struct DrillRow {
    pub id: i64,
    /// `YL-YYYYMM-NNNN`
    pub number: String,
    pub plan_id: i64,
    pub plan_title: String,
    pub kind: PlanKind,
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub held_on: NaiveDate,
    pub scenario: String,
    pub rating: DrillRating,
    pub evaluation: String,
    pub recorded_by: String,
    /// `工号 姓名` of each participant.
    pub people: Vec<String>,
}

const DRILL_COLUMNS: &str = "d.id, d.number, d.plan_id, p.title AS plan_title, p.kind, d.unit_id, u.name AS unit_name, \
    u.path AS unit_path, d.held_on, d.scenario, d.rating, d.evaluation, d.recorded_by";
const DRILL_FROM: &str = "drills d JOIN emergency_plans p ON p.id = d.plan_id JOIN org_units u ON u.id = d.unit_id";

fn drill_from(r: &AnyRow) -> Result<DrillRow, StoreError> {
    Ok(DrillRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        plan_id: r.try_get("plan_id")?,
        plan_title: r.try_get("plan_title")?,
        kind: code("drills", "kind", r.try_get("kind")?, PlanKind::from_code)?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        held_on: day("drills", "held_on", r.try_get("held_on")?)?,
        scenario: r.try_get("scenario")?,
        rating: code("drills", "rating", r.try_get("rating")?, DrillRating::from_code)?,
        evaluation: r.try_get("evaluation")?,
        recorded_by: r.try_get("recorded_by")?,
        people: Vec::new(),
    })
}

/// Drills of the units in `scope` (of plan `plan` when given), the latest first, with their
/// participants (two statements).
pub async fn drills(
    conn: &mut Conn,
    scope: &[UnitPath],
    plan: Option<i64>,
    limit: u32,
) -> Result<Vec<DrillRow>, StoreError> {
    let (clause, binds) = scope_clause("u.path", scope, 1);
    let only = plan.map(|p| format!(" AND d.plan_id = {p}")).unwrap_or_default();
    let sql = format!(
        "SELECT {DRILL_COLUMNS} FROM {DRILL_FROM} WHERE {clause}{only} ORDER BY d.held_on DESC, d.id DESC LIMIT {}",
        limit.clamp(1, 5000)
    );
    let mut rows: Vec<DrillRow> =
        bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(drill_from).collect::<Result<_, _>>()?;
    attach_people(conn, &mut rows).await?;
    Ok(rows)
}

pub async fn drill(conn: &mut Conn, drill: i64) -> Result<Option<DrillRow>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {DRILL_COLUMNS} FROM {DRILL_FROM} WHERE d.id = $1")))
        .bind(drill)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row.as_ref().map(drill_from).transpose()? else { return Ok(None) };
    let mut rows = vec![row];
    attach_people(conn, &mut rows).await?;
    Ok(rows.pop())
}

async fn attach_people(conn: &mut Conn, rows: &mut [DrillRow]) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
    let sql = format!(
        "SELECT x.drill_id, p.code, p.name FROM drill_people x JOIN people p ON p.id = x.person_id \
         WHERE x.drill_id IN ({}) ORDER BY p.code",
        id_list(&ids)
    );
    let mut people: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await? {
        let code: String = r.try_get("code")?;
        let name: String = r.try_get("name")?;
        people.entry(r.try_get("drill_id")?).or_default().push(format!("{code} {name}"));
    }
    for d in rows {
        d.people = people.remove(&d.id).unwrap_or_default();
    }
    Ok(())
}

/// A drill as checked by the use case.
#[derive(Debug, Clone)]
pub struct NewDrill<'a> {
    pub number: &'a str,
    pub plan: i64,
    pub unit: UnitId,
    pub held_on: NaiveDate,
    pub scenario: &'a str,
    pub rating: DrillRating,
    pub evaluation: &'a str,
    pub people: &'a [PersonId],
    pub by: &'a str,
}

pub async fn insert_drill(conn: &mut Conn, d: &NewDrill<'_>, at: Timestamp) -> Result<i64, StoreError> {
    let drill: i64 = sqlx::query_scalar(
        "INSERT INTO drills (number, plan_id, unit_id, held_on, scenario, rating, evaluation, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(d.number)
    .bind(d.plan)
    .bind(d.unit.get())
    .bind(d.held_on.to_string())
    .bind(d.scenario)
    .bind(d.rating.code())
    .bind(d.evaluation)
    .bind(d.by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?;
    for p in d.people {
        sqlx::query("INSERT INTO drill_people (drill_id, person_id) VALUES ($1, $2)")
            .bind(drill)
            .bind(p.get())
            .execute(&mut *conn)
            .await?;
    }
    Ok(drill)
}

/// What the drill schedule decides on, for the units in `scope`: the plans in force and every
/// drill of them.
pub async fn schedule_facts(
    conn: &mut Conn,
    scope: &[UnitPath],
) -> Result<(Vec<PlanFacts>, Vec<DrillFacts>), StoreError> {
    let (clause, binds) = scope_clause("u.path", scope, 1);
    let sql = format!(
        "SELECT p.id, p.unit_id, p.kind, p.approved_on FROM emergency_plans p JOIN org_units u ON u.id = p.unit_id \
         WHERE {clause} AND p.retired_on IS NULL"
    );
    let plans = bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(PlanFacts {
                id: r.try_get("id")?,
                unit_id: r.try_get("unit_id")?,
                kind: code(T, "kind", r.try_get("kind")?, PlanKind::from_code)?,
                approved_on: day(T, "approved_on", r.try_get("approved_on")?)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let sql = format!(
        "SELECT d.plan_id, d.unit_id, p.kind, d.held_on FROM drills d JOIN emergency_plans p ON p.id = d.plan_id \
         JOIN org_units u ON u.id = d.unit_id WHERE {clause}"
    );
    let drills = bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(DrillFacts {
                plan_id: r.try_get("plan_id")?,
                unit_id: r.try_get("unit_id")?,
                kind: code("drills", "kind", r.try_get("kind")?, PlanKind::from_code)?,
                held_on: day("drills", "held_on", r.try_get("held_on")?)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok((plans, drills))
}

/// The hazards a record opened (`source_kind` drill, complaint or evaluation): (source id,
/// hazard id, number, title, state).
pub async fn hazards_of(
    conn: &mut Conn,
    source_kind: &str,
    sources: &[i64],
) -> Result<Vec<(i64, i64, String, String, String)>, StoreError> {
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT source_id, id, number, title, state FROM hazards WHERE source_kind = $1 AND source_id IN ({}) ORDER BY id",
        id_list(sources)
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(source_kind)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.try_get("source_id")?,
                r.try_get("id")?,
                r.try_get("number")?,
                r.try_get("title")?,
                r.try_get("state")?,
            ))
        })
        .collect()
}

// ---- rural pilots and their library --------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct PilotRow {
    pub id: i64,
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub name: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

/// Every pilot (every unit reads them), the newest first.
pub async fn pilots(conn: &mut Conn) -> Result<Vec<PilotRow>, StoreError> {
    sqlx::query(
        "SELECT p.id, p.unit_id, u.name AS unit_name, u.path AS unit_path, p.name, p.starts_on, p.ends_on \
         FROM pilots p JOIN org_units u ON u.id = p.unit_id ORDER BY p.starts_on DESC, p.id DESC LIMIT 1000",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(PilotRow {
            id: r.try_get("id")?,
            unit_id: id(r, "unit_id")?,
            unit_name: r.try_get("unit_name")?,
            unit_path: r.try_get("unit_path")?,
            name: r.try_get("name")?,
            starts_on: day("pilots", "starts_on", r.try_get("starts_on")?)?,
            ends_on: opt_day("pilots", "ends_on", r.try_get("ends_on")?)?,
        })
    })
    .collect()
}

pub async fn insert_pilot(
    conn: &mut Conn,
    unit: UnitId,
    name: &str,
    (starts_on, ends_on): (NaiveDate, Option<NaiveDate>),
    by: &str,
    at: Timestamp,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO pilots (unit_id, name, starts_on, ends_on, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(unit.get())
    .bind(name)
    .bind(starts_on.to_string())
    .bind(ends_on.map(|d| d.to_string()))
    .bind(by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

/// A document of the pilots' library.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentRow {
    pub id: i64,
    pub pilot_id: i64,
    pub pilot_name: String,
    pub unit_name: String,
    /// `standard` (工作标准) or `practice` (典型做法).
    pub kind: String,
    pub title: String,
    pub tags: Vec<String>,
    pub version: i64,
    pub summary: String,
    pub published_by: String,
    pub published_at: Timestamp,
}

/// The library's documents whose title or tags contain `text` (every version), the newest first.
pub async fn documents(conn: &mut Conn, pattern: Option<&str>, limit: u32) -> Result<Vec<DocumentRow>, StoreError> {
    let mut binds = Vec::new();
    let mut filter = String::new();
    if let Some(p) = pattern {
        binds.push(p.to_owned());
        filter = format!(" WHERE ({} OR {})", like("d.title", 1), like("d.tags", 1));
    }
    let sql = format!(
        "SELECT d.id, d.pilot_id, p.name AS pilot_name, u.name AS unit_name, d.kind, d.title, d.tags, d.version, d.summary, \
         d.published_by, d.published_at FROM pilot_documents d JOIN pilots p ON p.id = d.pilot_id \
         JOIN org_units u ON u.id = p.unit_id{filter} ORDER BY d.title, d.version DESC LIMIT {}",
        limit.clamp(1, 2000)
    );
    bound(sql, &binds)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            let tags: String = r.try_get("tags")?;
            Ok(DocumentRow {
                id: r.try_get("id")?,
                pilot_id: r.try_get("pilot_id")?,
                pilot_name: r.try_get("pilot_name")?,
                unit_name: r.try_get("unit_name")?,
                kind: r.try_get("kind")?,
                title: r.try_get("title")?,
                tags: tags.split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect(),
                version: r.try_get("version")?,
                summary: r.try_get("summary")?,
                published_by: r.try_get("published_by")?,
                published_at: stamp("pilot_documents", "published_at", r.try_get("published_at")?)?,
            })
        })
        .collect()
}

/// Publishes a document: the next version of its title in its pilot. Answers (id, version).
#[allow(clippy::too_many_arguments)]
pub async fn insert_document(
    conn: &mut Conn,
    pilot: i64,
    kind: &str,
    title: &str,
    tags: &[String],
    summary: &str,
    by: &str,
    at: Timestamp,
) -> Result<(i64, i64), StoreError> {
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM pilot_documents WHERE pilot_id = $1 AND title = $2")
            .bind(pilot)
            .bind(title)
            .fetch_one(&mut *conn)
            .await?;
    let version = last.unwrap_or(0) + 1;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO pilot_documents (pilot_id, kind, title, tags, version, summary, published_by, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(pilot)
    .bind(kind)
    .bind(title)
    .bind(tags.join(","))
    .bind(version)
    .bind(summary)
    .bind(by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?;
    Ok((id, version))
}

/// Per unit path (the unit an order was worked in): cross-audit findings not dismissed and
/// imported field orders (for findings per 1,000 orders).
pub async fn findings_and_orders(conn: &mut Conn) -> Result<Vec<(String, i64, i64)>, StoreError> {
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for r in sqlx::query(
        "SELECT u.path, COUNT(*) AS n FROM findings f JOIN org_units u ON u.id = f.unit_id WHERE f.state <> 'dismissed' GROUP BY u.path",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        out.entry(r.try_get("path")?).or_default().0 = r.try_get("n")?;
    }
    for r in sqlx::query(
        "SELECT u.path, COUNT(*) AS n FROM marketing_orders o JOIN org_units u ON u.id = o.unit_id GROUP BY u.path",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        out.entry(r.try_get("path")?).or_default().1 = r.try_get("n")?;
    }
    Ok(out.into_iter().map(|(p, (f, o))| (p, f, o)).collect())
}

// ---- complaints and evaluations ------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct ComplaintRow {
    pub id: i64,
    /// 工单编号
    pub ticket_no: String,
    pub received_at: Timestamp,
    pub account_no: String,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub category: String,
    pub content: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub hazard_id: Option<i64>,
    pub import_file: Option<String>,
    pub recorded_by: String,
}

const COMPLAINT_COLUMNS: &str = "k.id, k.ticket_no, k.received_at, k.account_no, k.customer_id, c.name AS customer_name, \
    k.category, k.content, k.unit_id, u.name AS unit_name, u.path AS unit_path, k.hazard_id, k.import_file, k.recorded_by";
const COMPLAINT_FROM: &str =
    "complaints k JOIN org_units u ON u.id = k.unit_id LEFT JOIN customers c ON c.id = k.customer_id";

fn complaint_from(r: &AnyRow) -> Result<ComplaintRow, StoreError> {
    Ok(ComplaintRow {
        id: r.try_get("id")?,
        ticket_no: r.try_get("ticket_no")?,
        received_at: stamp("complaints", "received_at", r.try_get("received_at")?)?,
        account_no: r.try_get("account_no")?,
        customer_id: r.try_get("customer_id")?,
        customer_name: r.try_get("customer_name")?,
        category: r.try_get("category")?,
        content: r.try_get("content")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        hazard_id: r.try_get("hazard_id")?,
        import_file: r.try_get("import_file")?,
        recorded_by: r.try_get("recorded_by")?,
    })
}

/// `AND <table>.id > after` for a read by id after `after` (an integer, not user text).
fn after_id(table: &str, after: Option<i64>) -> String {
    after.map(|a| format!("AND {table}.id > {a}")).unwrap_or_default()
}

/// At most `limit` complaints of the units in `scope` received in `[from, to)`, by id after
/// `after`.
pub async fn complaints(
    conn: &mut Conn,
    scope: &[UnitPath],
    from: Timestamp,
    to: Timestamp,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<ComplaintRow>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    binds.push(from.to_db());
    binds.push(to.to_db());
    let n = binds.len();
    let sql = format!(
        "SELECT {COMPLAINT_COLUMNS} FROM {COMPLAINT_FROM} WHERE {clause} AND k.received_at >= ${} AND k.received_at < ${n} \
         {} ORDER BY k.id LIMIT {limit}",
        n - 1,
        after_id("k", after)
    );
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(complaint_from).collect()
}

/// Complaint `id`; with `hold`, held.
pub async fn complaint(conn: &mut Conn, complaint: i64, hold: bool) -> Result<Option<ComplaintRow>, StoreError> {
    if hold {
        let lock = for_update(backend_of(conn));
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id FROM complaints WHERE id = $1{lock}")))
            .bind(complaint)
            .fetch_optional(&mut *conn)
            .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COMPLAINT_COLUMNS} FROM {COMPLAINT_FROM} WHERE k.id = $1")))
        .bind(complaint)
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(complaint_from)
        .transpose()
}

/// Whether a complaint with this 工单编号 is already kept.
pub async fn complaint_known(conn: &mut Conn, ticket_no: &str) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM complaints WHERE ticket_no = $1")
        .bind(ticket_no)
        .fetch_one(&mut *conn)
        .await?;
    Ok(n > 0)
}

/// A complaint as checked by the use case.
#[derive(Debug, Clone)]
pub struct NewComplaint<'a> {
    pub ticket_no: &'a str,
    pub received_at: Timestamp,
    pub account_no: &'a str,
    pub customer: Option<i64>,
    pub category: &'a str,
    pub content: &'a str,
    pub unit: UnitId,
    pub import_file: Option<&'a str>,
    pub by: &'a str,
}

pub async fn insert_complaint(conn: &mut Conn, k: &NewComplaint<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO complaints (ticket_no, received_at, account_no, customer_id, category, content, unit_id, import_file, \
         recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(k.ticket_no)
    .bind(k.received_at.to_db())
    .bind(k.account_no)
    .bind(k.customer)
    .bind(k.category)
    .bind(k.content)
    .bind(k.unit.get())
    .bind(k.import_file)
    .bind(k.by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

/// Links the hazard a complaint or an evaluation opened; false when it already had one.
pub async fn set_hazard(conn: &mut Conn, table: Linked, record: i64, hazard: i64) -> Result<bool, StoreError> {
    let table = match table {
        Linked::Complaint => "complaints",
        Linked::Evaluation => "evaluations",
    };
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET hazard_id = $1 WHERE id = $2 AND hazard_id IS NULL"
    )))
    .bind(hazard)
    .bind(record)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

#[derive(Debug, Clone, Copy)]
pub enum Linked {
    Complaint,
    Evaluation,
}

/// A customer of the register by 户号: id and unit.
pub async fn customer_by_account(conn: &mut Conn, account_no: &str) -> Result<Option<(i64, UnitId)>, StoreError> {
    sqlx::query("SELECT id, unit_id FROM customers WHERE account_no = $1")
        .bind(account_no)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| Ok((r.try_get("id")?, id(&r, "unit_id")?)))
        .transpose()
}

#[derive(Debug, Clone, Serialize)]
pub struct EvaluationRow {
    pub id: i64,
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    /// `YYYY-MM`
    pub period: String,
    pub kind: EvaluationKind,
    pub score: f64,
    pub remarks: String,
    pub evaluator: String,
    pub hazard_id: Option<i64>,
    pub recorded_by: String,
}

const EVALUATION_COLUMNS: &str = "e.id, e.unit_id, u.name AS unit_name, u.path AS unit_path, e.period, e.kind, e.score, \
    e.remarks, e.evaluator, e.hazard_id, e.recorded_by";

fn evaluation_from(r: &AnyRow) -> Result<EvaluationRow, StoreError> {
    Ok(EvaluationRow {
        id: r.try_get("id")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        period: r.try_get("period")?,
        kind: code("evaluations", "kind", r.try_get("kind")?, EvaluationKind::from_code)?,
        score: r.try_get("score")?,
        remarks: r.try_get("remarks")?,
        evaluator: r.try_get("evaluator")?,
        hazard_id: r.try_get("hazard_id")?,
        recorded_by: r.try_get("recorded_by")?,
    })
}

/// At most `limit` evaluations of the units in `scope` for periods `from..=to` (`YYYY-MM`), by
/// id after `after`.
pub async fn evaluations(
    conn: &mut Conn,
    scope: &[UnitPath],
    from: &str,
    to: &str,
    after: Option<i64>,
    limit: u32,
) -> Result<Vec<EvaluationRow>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    binds.push(from.to_owned());
    binds.push(to.to_owned());
    let n = binds.len();
    let sql = format!(
        "SELECT {EVALUATION_COLUMNS} FROM evaluations e JOIN org_units u ON u.id = e.unit_id WHERE {clause} \
         AND e.period >= ${} AND e.period <= ${n} {} ORDER BY e.id LIMIT {limit}",
        n - 1,
        after_id("e", after)
    );
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(evaluation_from).collect()
}

pub async fn evaluation(conn: &mut Conn, evaluation: i64) -> Result<Option<EvaluationRow>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {EVALUATION_COLUMNS} FROM evaluations e JOIN org_units u ON u.id = e.unit_id WHERE e.id = $1"
    )))
    .bind(evaluation)
    .fetch_optional(&mut *conn)
    .await?
    .as_ref()
    .map(evaluation_from)
    .transpose()
}

/// An evaluation as checked by the use case.
#[derive(Debug, Clone)]
pub struct NewEvaluation<'a> {
    pub unit: UnitId,
    pub period: &'a str,
    pub kind: EvaluationKind,
    pub score: f64,
    pub remarks: &'a str,
    pub evaluator: &'a str,
    pub by: &'a str,
}

pub async fn insert_evaluation(conn: &mut Conn, e: &NewEvaluation<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO evaluations (unit_id, period, kind, score, remarks, evaluator, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, CAST($4 AS DOUBLE PRECISION), $5, $6, $7, $8) RETURNING id",
    )
    .bind(e.unit.get())
    .bind(e.period)
    .bind(e.kind.code())
    .bind(e.score.to_string())
    .bind(e.remarks)
    .bind(e.evaluator)
    .bind(e.by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}
