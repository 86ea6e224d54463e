//! Customer projects' rows: the project, its stages and their clocks, the waits on the customer,
//! the inspections and their defects, the working-day calendar and the limits table. The rules
//! are the domain's (`gridsafe_domain::projects`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use gridsafe_domain::access::UnitPath;
use gridsafe_domain::ids::{PersonId, ProjectId, UnitId};
use gridsafe_domain::projects::{Calendar, Class, Energising, Gate, Limit, Pause, ProjectKind, Stage};
use gridsafe_domain::time::Timestamp;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::decode::{code, day, id, opt_day, opt_id, opt_stamp, stamp};
use crate::{Conn, StoreError, backend_of, bound, for_update, id_list, scope_clause};

const T: &str = "projects";

/// A project in a list or on its page.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectRow {
    pub id: ProjectId,
    /// `YK-YYYYMM-NNNN`
    pub number: String,
    pub unit_id: UnitId,
    pub unit_name: String,
    #[serde(skip)]
    pub unit_path: String,
    pub customer_id: i64,
    /// 户号
    pub account_no: String,
    pub customer_name: String,
    pub address: String,
    pub kind: ProjectKind,
    pub class: Class,
    pub voltage_kv: f64,
    pub capacity_kva: f64,
    pub dual_source: bool,
    pub residential: bool,
    pub designer: Option<(i64, String)>,
    pub builder: Option<(i64, String)>,
    pub manager: PersonId,
    /// `工号 姓名` of the customer manager.
    pub manager_label: String,
    pub order_id: Option<String>,
    pub stage: Stage,
    /// 受理日期
    pub accepted_on: NaiveDate,
    pub registered_at: Timestamp,
    pub surveyed_on: Option<NaiveDate>,
    pub cleared_at: Option<Timestamp>,
    pub energised_on: Option<NaiveDate>,
    pub cancel_reason: Option<String>,
    pub imported_from: Option<String>,
    pub created_by: String,
}

const COLUMNS: &str = "p.id, p.number, p.unit_id, u.name AS unit_name, u.path AS unit_path, p.customer_id, \
    c.account_no, c.name AS customer_name, c.address, p.kind, p.class, p.voltage_kv, p.capacity_kva, p.dual_source, \
    p.residential, p.designer_id, d.name AS designer_name, p.builder_id, b.name AS builder_name, p.manager_person_id, \
    m.code AS manager_code, m.name AS manager_name, p.order_id, p.stage, p.accepted_on, p.registered_at, p.surveyed_on, \
    p.cleared_at, p.energised_on, p.cancel_reason, p.imported_from, p.created_by";

const FROM: &str = "projects p JOIN org_units u ON u.id = p.unit_id JOIN customers c ON c.id = p.customer_id \
    JOIN people m ON m.id = p.manager_person_id LEFT JOIN contractors d ON d.id = p.designer_id \
    LEFT JOIN contractors b ON b.id = p.builder_id";

fn row_from(r: &AnyRow) -> Result<ProjectRow, StoreError> {
    let contractor = |idc: &str, name: &str| -> Result<Option<(i64, String)>, StoreError> {
        Ok(match r.try_get::<Option<i64>, _>(idc)? {
            Some(i) => Some((i, r.try_get::<Option<String>, _>(name)?.unwrap_or_default())),
            None => None,
        })
    };
    Ok(ProjectRow {
        id: id(r, "id")?,
        number: r.try_get("number")?,
        unit_id: id(r, "unit_id")?,
        unit_name: r.try_get("unit_name")?,
        unit_path: r.try_get("unit_path")?,
        customer_id: r.try_get("customer_id")?,
        account_no: r.try_get("account_no")?,
        customer_name: r.try_get("customer_name")?,
        address: r.try_get("address")?,
        kind: code(T, "kind", r.try_get("kind")?, ProjectKind::from_code)?,
        class: code(T, "class", r.try_get("class")?, Class::from_code)?,
        voltage_kv: r.try_get("voltage_kv")?,
        capacity_kva: r.try_get("capacity_kva")?,
        dual_source: r.try_get::<i64, _>("dual_source")? != 0,
        residential: r.try_get::<i64, _>("residential")? != 0,
        designer: contractor("designer_id", "designer_name")?,
        builder: contractor("builder_id", "builder_name")?,
        manager: id(r, "manager_person_id")?,
        manager_label: format!(
            "{} {}",
            r.try_get::<String, _>("manager_code")?,
            r.try_get::<String, _>("manager_name")?
        ),
        order_id: r.try_get("order_id")?,
        stage: code(T, "stage", r.try_get("stage")?, Stage::from_code)?,
        accepted_on: day(T, "accepted_on", r.try_get("accepted_on")?)?,
        registered_at: stamp(T, "registered_at", r.try_get("registered_at")?)?,
        surveyed_on: opt_day(T, "surveyed_on", r.try_get("surveyed_on")?)?,
        cleared_at: opt_stamp(T, "cleared_at", r.try_get("cleared_at")?)?,
        energised_on: opt_day(T, "energised_on", r.try_get("energised_on")?)?,
        cancel_reason: r.try_get("cancel_reason")?,
        imported_from: r.try_get("imported_from")?,
        created_by: r.try_get("created_by")?,
    })
}

/// Projects of the units in `scope`, at `stage` when given (open ones when `open_only`), the
/// newest first, at most `limit`.
pub async fn list(
    conn: &mut Conn,
    scope: &[UnitPath],
    stage: Option<Stage>,
    open_only: bool,
    limit: u32,
) -> Result<Vec<ProjectRow>, StoreError> {
    let (clause, mut binds) = scope_clause("u.path", scope, 1);
    let mut sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE {clause}");
    if let Some(s) = stage {
        binds.push(s.code().to_owned());
        sql.push_str(&format!(" AND p.stage = ${}", binds.len()));
    }
    if open_only {
        sql.push_str(" AND p.stage NOT IN ('energised', 'cancelled')");
    }
    sql.push_str(&format!(" ORDER BY p.accepted_on DESC, p.id DESC LIMIT {}", limit.clamp(1, 10_000)));
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(row_from).collect()
}

/// At most `limit` projects of the units in `scope` (open ones when `open_only`), by id after
/// `after`.
pub async fn by_id(
    conn: &mut Conn,
    scope: &[UnitPath],
    open_only: bool,
    after: Option<ProjectId>,
    limit: u32,
) -> Result<Vec<ProjectRow>, StoreError> {
    let (clause, binds) = scope_clause("u.path", scope, 1);
    let mut sql = format!("SELECT {COLUMNS} FROM {FROM} WHERE {clause}");
    if open_only {
        sql.push_str(" AND p.stage NOT IN ('energised', 'cancelled')");
    }
    // Integers, not user text.
    if let Some(after) = after {
        sql.push_str(&format!(" AND p.id > {after}"));
    }
    sql.push_str(&format!(" ORDER BY p.id LIMIT {limit}"));
    bound(sql, &binds).fetch_all(&mut *conn).await?.iter().map(row_from).collect()
}

/// Project `id`; with `hold`, its row is held until the transaction ends.
pub async fn get(conn: &mut Conn, project: ProjectId, hold: bool) -> Result<Option<ProjectRow>, StoreError> {
    if hold {
        let lock = for_update(backend_of(conn));
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT id FROM projects WHERE id = $1{lock}")))
            .bind(project.get())
            .fetch_optional(&mut *conn)
            .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM {FROM} WHERE p.id = $1")))
        .bind(project.get())
        .fetch_optional(&mut *conn)
        .await?
        .as_ref()
        .map(row_from)
        .transpose()
}

/// The project registered under the marketing system's application id, if any.
pub async fn by_order(conn: &mut Conn, order_id: &str) -> Result<Option<ProjectId>, StoreError> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM projects WHERE order_id = $1")
        .bind(order_id)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(id.map(ProjectId::new))
}

/// A customer of the register by 户号: id, unit path, voltage and supply sources.
pub async fn customer(conn: &mut Conn, account_no: &str) -> Result<Option<(i64, String, f64, i64)>, StoreError> {
    sqlx::query(
        "SELECT c.id, u.path, c.voltage_kv, c.supply_sources FROM customers c JOIN org_units u ON u.id = c.unit_id \
         WHERE c.account_no = $1",
    )
    .bind(account_no)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| Ok((r.try_get("id")?, r.try_get("path")?, r.try_get("voltage_kv")?, r.try_get("supply_sources")?)))
    .transpose()
}

/// A project as checked by the use case.
#[derive(Debug, Clone)]
pub struct NewProject<'a> {
    pub number: &'a str,
    pub unit: UnitId,
    pub customer_id: i64,
    pub kind: ProjectKind,
    pub class: Class,
    pub voltage_kv: f64,
    pub capacity_kva: f64,
    pub dual_source: bool,
    pub residential: bool,
    pub designer: Option<i64>,
    pub builder: Option<i64>,
    pub manager: PersonId,
    pub order_id: Option<&'a str>,
    pub accepted_on: NaiveDate,
    pub imported_from: Option<&'a str>,
    pub by: &'a str,
}

/// Stores a project at its first stage; its id.
pub async fn insert(conn: &mut Conn, p: &NewProject<'_>, at: Timestamp) -> Result<ProjectId, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO projects (number, unit_id, customer_id, kind, class, voltage_kv, capacity_kva, dual_source, residential, \
         designer_id, builder_id, manager_person_id, order_id, stage, accepted_on, registered_at, imported_from, created_by, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $16) RETURNING id",
    )
    .bind(p.number)
    .bind(p.unit.get())
    .bind(p.customer_id)
    .bind(p.kind.code())
    .bind(p.class.code())
    .bind(p.voltage_kv)
    .bind(p.capacity_kva)
    .bind(i64::from(p.dual_source))
    .bind(i64::from(p.residential))
    .bind(p.designer)
    .bind(p.builder)
    .bind(p.manager.get())
    .bind(p.order_id)
    .bind(Stage::PlanReply.code())
    .bind(p.accepted_on.to_string())
    .bind(at.to_db())
    .bind(p.imported_from)
    .bind(p.by)
    .fetch_one(&mut *conn)
    .await?;
    Ok(ProjectId::new(id))
}

/// Moves the project to `stage`.
pub async fn set_stage(conn: &mut Conn, project: ProjectId, stage: Stage, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE projects SET stage = $1, updated_at = $2 WHERE id = $3")
        .bind(stage.code())
        .bind(at.to_db())
        .bind(project.get())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sets one of the project's dated facts: `surveyed_on`, `energised_on`, `cleared_at` or
/// `cancel_reason` (the column is ours, never user text).
pub async fn set_fact(conn: &mut Conn, project: ProjectId, column: Fact, value: &str) -> Result<(), StoreError> {
    let column = match column {
        Fact::Surveyed => "surveyed_on",
        Fact::Energised => "energised_on",
        Fact::Cleared => "cleared_at",
        Fact::CancelReason => "cancel_reason",
    };
    sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE projects SET {column} = $1 WHERE id = $2")))
        .bind(value)
        .bind(project.get())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub enum Fact {
    Surveyed,
    Energised,
    Cleared,
    CancelReason,
}

// ---- stages and pauses ---------------------------------------------------------------------

/// A stage a project entered, with its clock.
#[derive(Debug, Clone, Serialize)]
pub struct StageRow {
    pub id: i64,
    pub project_id: ProjectId,
    pub stage: Stage,
    pub entered_on: NaiveDate,
    pub clock_from: Option<NaiveDate>,
    pub limit_days: Option<u32>,
    pub limits_version: Option<i64>,
    pub finished_on: Option<NaiveDate>,
    pub outcome: Option<String>,
    pub note: Option<String>,
    pub finished_by: Option<String>,
}

/// A wait on the customer.
#[derive(Debug, Clone, Serialize)]
pub struct PauseRow {
    pub id: i64,
    pub project_id: ProjectId,
    pub stage: Stage,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
    pub reason: String,
    pub recorded_by: String,
}

impl PauseRow {
    pub fn pause(&self) -> Pause {
        Pause { from: self.from, until: self.until }
    }
}

/// An inspection of a stage.
#[derive(Debug, Clone, Serialize)]
pub struct InspectionRow {
    pub id: i64,
    pub project_id: ProjectId,
    pub stage: Stage,
    pub round: i64,
    pub inspector: PersonId,
    pub inspector_label: String,
    pub accountable: PersonId,
    pub accountable_label: String,
    pub on: NaiveDate,
    pub passed: bool,
    pub conclusion: String,
    pub notice_number: Option<String>,
    pub notice_signed_by: Option<String>,
    pub notice_signed_on: Option<NaiveDate>,
    pub recorded_by: String,
}

/// A defect of an inspection.
#[derive(Debug, Clone, Serialize)]
pub struct DefectRow {
    pub id: i64,
    pub project_id: ProjectId,
    pub inspection_id: i64,
    pub stage: Stage,
    pub text: String,
    /// The first inspector who missed it, when a later inspection found it.
    pub missed: Option<PersonId>,
    pub closed_by_inspection: Option<i64>,
    pub closed_on: Option<NaiveDate>,
}

/// Everything recorded under some projects, loaded in four statements.
#[derive(Debug, Clone, Default)]
pub struct Children {
    pub stages: BTreeMap<ProjectId, Vec<StageRow>>,
    pub pauses: BTreeMap<ProjectId, Vec<PauseRow>>,
    pub inspections: BTreeMap<ProjectId, Vec<InspectionRow>>,
    pub defects: BTreeMap<ProjectId, Vec<DefectRow>>,
}

/// The stages, pauses, inspections and defects of `projects`, each in the order recorded.
pub async fn children(conn: &mut Conn, projects: &[ProjectId]) -> Result<Children, StoreError> {
    let mut out = Children::default();
    if projects.is_empty() {
        return Ok(out);
    }
    let ids = id_list(projects);
    let sql = format!(
        "SELECT id, project_id, stage, entered_on, clock_from, limit_days, limits_version, finished_on, outcome, note, \
         finished_by FROM project_stages WHERE project_id IN ({ids}) ORDER BY id"
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await? {
        let s = StageRow {
            id: r.try_get("id")?,
            project_id: id(&r, "project_id")?,
            stage: code("project_stages", "stage", r.try_get("stage")?, Stage::from_code)?,
            entered_on: day("project_stages", "entered_on", r.try_get("entered_on")?)?,
            clock_from: opt_day("project_stages", "clock_from", r.try_get("clock_from")?)?,
            limit_days: r.try_get::<Option<i64>, _>("limit_days")?.map(|d| d.clamp(0, 10_000) as u32),
            limits_version: r.try_get("limits_version")?,
            finished_on: opt_day("project_stages", "finished_on", r.try_get("finished_on")?)?,
            outcome: r.try_get("outcome")?,
            note: r.try_get("note")?,
            finished_by: r.try_get("finished_by")?,
        };
        out.stages.entry(s.project_id).or_default().push(s);
    }
    let sql = format!(
        "SELECT id, project_id, stage, from_on, until_on, reason, recorded_by FROM project_pauses \
         WHERE project_id IN ({ids}) ORDER BY id"
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await? {
        let p = PauseRow {
            id: r.try_get("id")?,
            project_id: id(&r, "project_id")?,
            stage: code("project_pauses", "stage", r.try_get("stage")?, Stage::from_code)?,
            from: day("project_pauses", "from_on", r.try_get("from_on")?)?,
            until: opt_day("project_pauses", "until_on", r.try_get("until_on")?)?,
            reason: r.try_get("reason")?,
            recorded_by: r.try_get("recorded_by")?,
        };
        out.pauses.entry(p.project_id).or_default().push(p);
    }
    let sql = format!(
        "SELECT i.id, i.project_id, i.stage, i.round, i.inspector_person_id, pi.code AS i_code, pi.name AS i_name, \
         i.accountable_person_id, pa.code AS a_code, pa.name AS a_name, i.inspected_on, i.passed, i.conclusion, \
         i.notice_number, i.notice_signed_by, i.notice_signed_on, i.recorded_by FROM project_inspections i \
         JOIN people pi ON pi.id = i.inspector_person_id JOIN people pa ON pa.id = i.accountable_person_id \
         WHERE i.project_id IN ({ids}) ORDER BY i.id"
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await? {
        let label = |c: &str, n: &str| -> Result<String, StoreError> {
            Ok(format!("{} {}", r.try_get::<String, _>(c)?, r.try_get::<String, _>(n)?))
        };
        let i = InspectionRow {
            id: r.try_get("id")?,
            project_id: id(&r, "project_id")?,
            stage: code("project_inspections", "stage", r.try_get("stage")?, Stage::from_code)?,
            round: r.try_get("round")?,
            inspector: id(&r, "inspector_person_id")?,
            inspector_label: label("i_code", "i_name")?,
            accountable: id(&r, "accountable_person_id")?,
            accountable_label: label("a_code", "a_name")?,
            on: day("project_inspections", "inspected_on", r.try_get("inspected_on")?)?,
            passed: r.try_get::<i64, _>("passed")? != 0,
            conclusion: r.try_get("conclusion")?,
            notice_number: r.try_get("notice_number")?,
            notice_signed_by: r.try_get("notice_signed_by")?,
            notice_signed_on: opt_day("project_inspections", "notice_signed_on", r.try_get("notice_signed_on")?)?,
            recorded_by: r.try_get("recorded_by")?,
        };
        out.inspections.entry(i.project_id).or_default().push(i);
    }
    let sql = format!(
        "SELECT id, project_id, inspection_id, stage, text, missed_person_id, closed_by_inspection, closed_on \
         FROM project_defects WHERE project_id IN ({ids}) ORDER BY id"
    );
    for r in sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await? {
        let d = DefectRow {
            id: r.try_get("id")?,
            project_id: id(&r, "project_id")?,
            inspection_id: r.try_get("inspection_id")?,
            stage: code("project_defects", "stage", r.try_get("stage")?, Stage::from_code)?,
            text: r.try_get("text")?,
            missed: opt_id(&r, "missed_person_id")?,
            closed_by_inspection: r.try_get("closed_by_inspection")?,
            closed_on: opt_day("project_defects", "closed_on", r.try_get("closed_on")?)?,
        };
        out.defects.entry(d.project_id).or_default().push(d);
    }
    Ok(out)
}

/// Enters `stage`, its clock started on `clock_from` (with its limit) or waiting for the customer.
pub async fn enter_stage(
    conn: &mut Conn,
    project: ProjectId,
    stage: Stage,
    on: NaiveDate,
    clock: Option<(NaiveDate, u32, i64)>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO project_stages (project_id, stage, entered_on, clock_from, limit_days, limits_version) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(project.get())
    .bind(stage.code())
    .bind(on.to_string())
    .bind(clock.map(|c| c.0.to_string()))
    .bind(clock.map(|c| i64::from(c.1)))
    .bind(clock.map(|c| c.2))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Starts the clock of the project's `stage` on `from` (the customer's submission).
pub async fn start_clock(
    conn: &mut Conn,
    project: ProjectId,
    stage: Stage,
    (from, limit, version): (NaiveDate, u32, i64),
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE project_stages SET clock_from = $1, limit_days = $2, limits_version = $3 \
         WHERE project_id = $4 AND stage = $5",
    )
    .bind(from.to_string())
    .bind(i64::from(limit))
    .bind(version)
    .bind(project.get())
    .bind(stage.code())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Finishes the project's `stage` on `on` with its outcome.
pub async fn finish_stage(
    conn: &mut Conn,
    project: ProjectId,
    stage: Stage,
    on: NaiveDate,
    outcome: &str,
    note: Option<&str>,
    by: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE project_stages SET finished_on = $1, outcome = $2, note = $3, finished_by = $4 \
         WHERE project_id = $5 AND stage = $6",
    )
    .bind(on.to_string())
    .bind(outcome)
    .bind(note)
    .bind(by)
    .bind(project.get())
    .bind(stage.code())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Opens a wait on the customer.
pub async fn open_pause(
    conn: &mut Conn,
    project: ProjectId,
    stage: Stage,
    from: NaiveDate,
    reason: &str,
    by: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO project_pauses (project_id, stage, from_on, reason, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(project.get())
    .bind(stage.code())
    .bind(from.to_string())
    .bind(reason)
    .bind(by)
    .bind(at.to_db())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends the project's open wait on `until`; how many it ended.
pub async fn close_pause(conn: &mut Conn, project: ProjectId, until: NaiveDate) -> Result<u64, StoreError> {
    Ok(sqlx::query("UPDATE project_pauses SET until_on = $1 WHERE project_id = $2 AND until_on IS NULL")
        .bind(until.to_string())
        .bind(project.get())
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

// ---- inspections ---------------------------------------------------------------------------

/// An inspection as checked by the use case.
#[derive(Debug, Clone)]
pub struct NewInspection<'a> {
    pub project: ProjectId,
    pub stage: Stage,
    pub round: i64,
    pub inspector: PersonId,
    pub accountable: PersonId,
    pub on: NaiveDate,
    pub passed: bool,
    pub conclusion: &'a str,
    pub notice_number: Option<&'a str>,
    pub by: &'a str,
}

pub async fn insert_inspection(conn: &mut Conn, i: &NewInspection<'_>, at: Timestamp) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO project_inspections (project_id, stage, round, inspector_person_id, accountable_person_id, \
         inspected_on, passed, conclusion, notice_number, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(i.project.get())
    .bind(i.stage.code())
    .bind(i.round)
    .bind(i.inspector.get())
    .bind(i.accountable.get())
    .bind(i.on.to_string())
    .bind(i64::from(i.passed))
    .bind(i.conclusion)
    .bind(i.notice_number)
    .bind(i.by)
    .bind(at.to_db())
    .fetch_one(&mut *conn)
    .await?)
}

/// Adds a defect found by `inspection` (`missed`: the first inspector, when a later one found it).
pub async fn insert_defect(
    conn: &mut Conn,
    project: ProjectId,
    inspection: i64,
    stage: Stage,
    text: &str,
    missed: Option<PersonId>,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO project_defects (project_id, inspection_id, stage, text, missed_person_id) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(project.get())
    .bind(inspection)
    .bind(stage.code())
    .bind(text)
    .bind(missed.map(|p| p.get()))
    .fetch_one(&mut *conn)
    .await?)
}

/// Closes defect `defect` of `project`: found rectified by `inspection` on `on`.
pub async fn close_defect(
    conn: &mut Conn,
    project: ProjectId,
    defect: i64,
    inspection: i64,
    on: NaiveDate,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE project_defects SET closed_by_inspection = $1, closed_on = $2 \
         WHERE id = $3 AND project_id = $4 AND closed_on IS NULL",
    )
    .bind(inspection)
    .bind(on.to_string())
    .bind(defect)
    .bind(project.get())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records who signed for a failed inspection's written notice, and when; false when it was
/// already signed for (or is not a notice of this project).
pub async fn sign_notice(
    conn: &mut Conn,
    project: ProjectId,
    inspection: i64,
    signed_by: &str,
    on: NaiveDate,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE project_inspections SET notice_signed_by = $1, notice_signed_on = $2 \
         WHERE id = $3 AND project_id = $4 AND notice_number IS NOT NULL AND notice_signed_by IS NULL",
    )
    .bind(signed_by)
    .bind(on.to_string())
    .bind(inspection)
    .bind(project.get())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

// ---- the energising gate and the audit -----------------------------------------------------

/// The open projects of the customer `account_no`, as the energising gate reads them (one
/// statement: each project with its open defects, if any).
pub async fn gates(conn: &mut Conn, account_no: &str) -> Result<Vec<Gate>, StoreError> {
    let rows = sqlx::query(
        "SELECT p.id, p.number, p.cleared_at, d.text FROM projects p JOIN customers c ON c.id = p.customer_id \
         LEFT JOIN project_defects d ON d.project_id = p.id AND d.closed_on IS NULL \
         WHERE c.account_no = $1 AND p.stage NOT IN ('energised', 'cancelled') ORDER BY p.id, d.id",
    )
    .bind(account_no)
    .fetch_all(&mut *conn)
    .await?;
    let mut gates: Vec<(i64, Gate)> = Vec::new();
    for r in rows {
        let project: i64 = r.try_get("id")?;
        let defect: Option<String> = r.try_get("text")?;
        if gates.last().is_none_or(|(id, _)| *id != project) {
            let gate = Gate {
                number: r.try_get("number")?,
                accepted: r.try_get::<Option<String>, _>("cleared_at")?.is_some(),
                open_defects: Vec::new(),
            };
            gates.push((project, gate));
        }
        if let (Some(text), Some((_, gate))) = (defect, gates.last_mut()) {
            gate.open_defects.push(text);
        }
    }
    Ok(gates.into_iter().map(|(_, g)| g).collect())
}

/// Every imported meter install order and power-up event on a project's customer, with the
/// start of the project's 受理 day and its clearance (UTC text as stored), for the audit to judge.
pub async fn energising(conn: &mut Conn) -> Result<Vec<Energising>, StoreError> {
    let mut out = Vec::new();
    let orders = sqlx::query(
        "SELECT o.order_id AS entity, p.number, p.kind, p.accepted_on, p.cleared_at, o.started_at AS at \
         FROM projects p JOIN customers c ON c.id = p.customer_id JOIN marketing_orders o ON o.customer_id = c.account_no \
         WHERE p.stage <> 'cancelled' AND o.order_type = 'meter_install' ORDER BY o.order_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let events = sqlx::query(
        "SELECT e.event_id AS entity, p.number, p.kind, p.accepted_on, p.cleared_at, e.occurred_at AS at \
         FROM projects p JOIN customers c ON c.id = p.customer_id JOIN meter_events e ON e.customer_id = c.account_no \
         WHERE p.stage <> 'cancelled' AND p.kind = 'new' AND e.kind = 'power_up' ORDER BY e.event_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    for (rows, install) in [(orders, true), (events, false)] {
        for r in rows {
            out.push(Energising {
                entity_kind: if install { "order" } else { "event" },
                entity_id: r.try_get("entity")?,
                project: r.try_get("number")?,
                kind: code(T, "kind", r.try_get("kind")?, ProjectKind::from_code)?,
                registered: Timestamp::start_of_local_day(day(T, "accepted_on", r.try_get("accepted_on")?)?).to_db(),
                cleared: r.try_get("cleared_at")?,
                at: r.try_get("at")?,
                install,
            });
        }
    }
    Ok(out)
}

// ---- calendar and limits -------------------------------------------------------------------

/// A day that differs from Monday-to-Friday.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CalendarDay {
    pub day: NaiveDate,
    /// `holiday` or `workday`.
    pub kind: String,
    pub name: String,
    pub origin: String,
}

/// Every recorded day, in order.
pub async fn calendar_days(conn: &mut Conn) -> Result<Vec<CalendarDay>, StoreError> {
    sqlx::query("SELECT day, kind, name, origin FROM work_calendar ORDER BY day")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(CalendarDay {
                day: day("work_calendar", "day", r.try_get("day")?)?,
                kind: r.try_get("kind")?,
                name: r.try_get("name")?,
                origin: r.try_get("origin")?,
            })
        })
        .collect()
}

/// The working-day calendar.
pub async fn calendar(conn: &mut Conn) -> Result<Calendar, StoreError> {
    let mut cal = Calendar::default();
    for d in calendar_days(conn).await? {
        if d.kind == "workday" {
            cal.workdays.insert(d.day);
        } else {
            cal.holidays.insert(d.day);
        }
    }
    Ok(cal)
}

/// Replaces the days of `year` with `days`; how many were there before.
pub async fn replace_year(conn: &mut Conn, year: i32, days: &[CalendarDay]) -> Result<u64, StoreError> {
    let removed = sqlx::query("DELETE FROM work_calendar WHERE day >= $1 AND day <= $2")
        .bind(format!("{year:04}-01-01"))
        .bind(format!("{year:04}-12-31"))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    for d in days {
        sqlx::query("INSERT INTO work_calendar (day, kind, name, origin) VALUES ($1, $2, $3, $4)")
            .bind(d.day.to_string())
            .bind(&d.kind)
            .bind(&d.name)
            .bind(&d.origin)
            .execute(&mut *conn)
            .await?;
    }
    Ok(removed)
}

/// One version of the limits table.
#[derive(Debug, Clone, Serialize)]
pub struct LimitsVersion {
    pub version: i64,
    pub valid_from: NaiveDate,
    pub created_by: String,
    pub rows: Vec<Limit>,
}

/// Every stored version, the newest first.
pub async fn limit_versions(conn: &mut Conn) -> Result<Vec<LimitsVersion>, StoreError> {
    let rows = sqlx::query(
        "SELECT version, valid_from, stage, class, days, origin, created_by FROM project_limits \
         ORDER BY version DESC, stage, class",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<LimitsVersion> = Vec::new();
    for r in rows {
        let version: i64 = r.try_get("version")?;
        let limit = Limit {
            stage: code("project_limits", "stage", r.try_get("stage")?, Stage::from_code)?,
            class: code("project_limits", "class", r.try_get("class")?, Class::from_code)?,
            days: r.try_get::<i64, _>("days")?.clamp(1, 10_000) as u32,
            origin: r.try_get("origin")?,
        };
        match out.last_mut() {
            Some(v) if v.version == version => v.rows.push(limit),
            _ => out.push(LimitsVersion {
                version,
                valid_from: day("project_limits", "valid_from", r.try_get("valid_from")?)?,
                created_by: r.try_get("created_by")?,
                rows: vec![limit],
            }),
        }
    }
    Ok(out)
}

/// Stores a new version of the limits table.
pub async fn insert_limits(conn: &mut Conn, v: &LimitsVersion) -> Result<(), StoreError> {
    for l in &v.rows {
        sqlx::query(
            "INSERT INTO project_limits (version, valid_from, stage, class, days, origin, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(v.version)
        .bind(v.valid_from.to_string())
        .bind(l.stage.code())
        .bind(l.class.code())
        .bind(i64::from(l.days))
        .bind(&l.origin)
        .bind(&v.created_by)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The unit of customer `customer`.
pub async fn customer_unit(conn: &mut Conn, customer: i64) -> Result<UnitId, StoreError> {
    let unit: i64 =
        sqlx::query_scalar("SELECT unit_id FROM customers WHERE id = $1").bind(customer).fetch_one(&mut *conn).await?;
    Ok(UnitId::new(unit))
}

/// The documents of a project: its stages' (`project_<stage>`) and its inspections'.
pub async fn documents(
    conn: &mut Conn,
    project: ProjectId,
    inspections: &[i64],
) -> Result<Vec<crate::customers::AttachmentMeta>, StoreError> {
    let kinds: Vec<String> = Stage::ALL.iter().map(|s| format!("'project_{}'", s.code())).collect();
    let mut sql = format!(
        "SELECT {} FROM attachments WHERE (owner_kind IN ({}) AND owner_id = $1)",
        crate::customers::ATTACHMENT_COLUMNS,
        kinds.join(", ")
    );
    if !inspections.is_empty() {
        sql.push_str(&format!(" OR (owner_kind = 'project_inspection' AND owner_id IN ({}))", id_list(inspections)));
    }
    sql.push_str(" ORDER BY id");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(project.get())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(crate::customers::attachment_from)
        .collect()
}
