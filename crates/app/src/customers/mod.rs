//! Customers' safe use of electricity (客户用电安全): the customer register, inspection cycles
//! and the plan, inspections with their checklist, files and result notice, hazards and their
//! closed loop with escalation, sealed equipment, and the dashboards.

mod dashboard;
mod files;
mod hazards;
mod inspections;

pub use dashboard::{UnitDashboard, dashboard};
pub use files::{Attachment, AttachmentMeta, attachment, attachments_of};
pub use hazards::{
    GradeRow, HazardDetail, HazardFilter, HazardInput, HazardRow, HazardWorker, SOURCES, SealRow, StepInput,
    decide_extension, escalate_overdue, grades, hazard, list_hazards, list_seals, register_hazard, request_extension,
    review_hazard, seal, set_grade, take_step, unseal,
};
pub(crate) use hazards::{NewHazard, insert_hazard};
pub use inspections::{
    ChecklistItem, InspectionDetail, InspectionInput, InspectionRow, KINDS, attach_photo, checklist, inspection,
    inspections_of, inspector_choices, record_inspection, set_checklist, sign_notice,
};

use std::collections::HashMap;

use chrono::NaiveDate;
use gridsafe_domain::access::{Capability, PermissionMarker, perm};
use gridsafe_domain::customers::{self as register, COLUMNS, CustomerRecord};
use gridsafe_domain::inspections::{self as cycles, CustomerFacts, CycleRule, DueState, Track};
use gridsafe_sheet::{Cell, Limits, RawTable};
use serde::Serialize;
use sqlx::Row;

use crate::audit::{NewEvent, append};
use crate::{App, AppError, FieldProblem, RequestMeta};

/// The capabilities that read customers, inspections, hazards and seals.
pub trait CustomersReach: PermissionMarker {}
impl CustomersReach for perm::CustomersView {}
impl CustomersReach for perm::CustomersManage {}
impl CustomersReach for perm::InspectionsRecord {}
impl CustomersReach for perm::HazardsReview {}

/// The capabilities that read hazards: those that read customers see every hazard; those of the
/// cross-audit (and the manager who approves deadlines) the hazards that came from findings, or
/// every one for the approver.
pub trait HazardsReach: PermissionMarker {
    /// Only the hazards that came from confirmed cross-audit findings.
    const FINDINGS_ONLY: bool;
}
impl HazardsReach for perm::CustomersView {
    const FINDINGS_ONLY: bool = false;
}
impl HazardsReach for perm::CustomersManage {
    const FINDINGS_ONLY: bool = false;
}
impl HazardsReach for perm::InspectionsRecord {
    const FINDINGS_ONLY: bool = false;
}
impl HazardsReach for perm::HazardsReview {
    const FINDINGS_ONLY: bool = false;
}
impl HazardsReach for perm::HazardsApprove {
    const FINDINGS_ONLY: bool = false;
}
impl HazardsReach for perm::FindingsView {
    const FINDINGS_ONLY: bool = true;
}
impl HazardsReach for perm::FindingsReview {
    const FINDINGS_ONLY: bool = true;
}

/// Where a customer stands on one track of its inspections.
#[derive(Debug, Clone, Serialize)]
pub struct Cycle {
    pub track: Track,
    /// The deciding rule of the cycle table, its months and the default's origin.
    pub rule: Option<String>,
    pub months: Option<u32>,
    pub origin: Option<String>,
    /// The last inspection that completed this track.
    pub last: Option<NaiveDate>,
    pub due: Option<NaiveDate>,
    pub due_state: Option<DueState>,
}

impl Cycle {
    fn of(
        facts: &CustomerFacts,
        rules: &[CycleRule],
        track: Track,
        last: Option<NaiveDate>,
        since: NaiveDate,
        today: NaiveDate,
    ) -> Self {
        let rule = cycles::cycle(facts, rules, track);
        let due = rule.and_then(|r| r.months).map(|m| cycles::next_due(last, since, m));
        Cycle {
            track,
            rule: rule.map(|r| r.code.clone()),
            months: rule.and_then(|r| r.months),
            origin: rule.map(|r| r.origin.clone()),
            last,
            due,
            due_state: due.map(|d| cycles::due_state(d, today)),
        }
    }
}

/// A customer with where it stands on its two inspection tracks: the periodic cycle and the
/// special check of self-provided emergency power.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerRow {
    pub id: i64,
    #[serde(flatten)]
    pub record: CustomerRecord,
    pub unit_id: i64,
    pub unit_name: String,
    /// 周期检查
    pub periodic: Cycle,
    /// 自备应急电源专项检查
    pub emergency: Cycle,
    pub open_hazards: i64,
    pub sealed: i64,
    pub updated_by: String,
    #[serde(skip)]
    pub unit_path: String,
}

impl CustomerRow {
    pub fn cycles(&self) -> [&Cycle; 2] {
        [&self.periodic, &self.emergency]
    }

    /// The more urgent of the two tracks (overdue before due this month).
    pub fn due_state(&self) -> Option<DueState> {
        let rank = |s: Option<DueState>| match s {
            Some(DueState::Overdue) => 3,
            Some(DueState::DueThisMonth) => 2,
            Some(DueState::NotDue) => 1,
            None => 0,
        };
        let (a, b) = (self.periodic.due_state, self.emergency.due_state);
        if rank(b) > rank(a) { b } else { a }
    }
}

// The last inspection completing each track, as `InspectionKind::completes` says: any kind but
// the emergency-power check completes the periodic cycle; only that kind, or an inspection that
// actually checked the emergency-power section, completes the special check.
const CUSTOMER_COLUMNS: &str = "c.id, c.account_no, c.name, c.address, c.unit_id, u.name, u.path, c.voltage_kv, \
    c.importance, c.importance_document, c.importance_date, c.industry, c.supply_sources, c.supply_kind, \
    c.emergency_power, c.emergency_kind, c.emergency_capacity_kw, c.emergency_last_test, c.electrician_name, \
    c.electrician_phone, c.preventive_test_due, c.registered_on, c.updated_by, \
    (SELECT MAX(i.inspected_on) FROM inspections i WHERE i.customer_id = c.id AND i.kind <> 'emergency_power') AS last_periodic, \
    (SELECT COUNT(*) FROM hazards h WHERE h.customer_id = c.id AND h.state <> 'closed'), \
    (SELECT COUNT(*) FROM seals s WHERE s.customer_id = c.id AND s.unsealed_on IS NULL), \
    (SELECT MAX(i.inspected_on) FROM inspections i WHERE i.customer_id = c.id \
     AND (i.kind = 'emergency_power' OR i.emergency_checked = 1)) AS last_emergency";

fn day(v: Option<String>) -> Option<NaiveDate> {
    v.as_deref().and_then(crate::people::stored_day)
}

fn customer_from(
    r: &sqlx::any::AnyRow,
    rules: &[CycleRule],
    industries: &[String],
    today: NaiveDate,
) -> Result<CustomerRow, sqlx::Error> {
    let decode = |what: &str| sqlx::Error::Decode(format!("customer {what}").into());
    let record = CustomerRecord {
        account_no: r.try_get(1)?,
        name: r.try_get(2)?,
        address: r.try_get(3)?,
        unit: r.try_get(5)?,
        voltage_kv: r.try_get(7)?,
        importance: register::importance_from(&r.try_get::<String, _>(8)?).ok_or_else(|| decode("importance"))?,
        importance_document: r.try_get(9)?,
        importance_date: day(r.try_get(10)?),
        industry: r.try_get(11)?,
        supply_sources: u32::try_from(r.try_get::<i64, _>(12)?).unwrap_or(1),
        supply_kind: r.try_get(13)?,
        emergency_power: register::emergency_from(&r.try_get::<String, _>(14)?)
            .ok_or_else(|| decode("emergency power"))?,
        emergency_kind: r.try_get(15)?,
        emergency_capacity_kw: r.try_get(16)?,
        emergency_last_test: day(r.try_get(17)?),
        electrician_name: r.try_get(18)?,
        electrician_phone: r.try_get(19)?,
        preventive_test_due: day(r.try_get(20)?),
        registered_on: day(r.try_get(21)?),
    };
    let facts = record.facts(industries);
    let since = record.registered_on.unwrap_or(today);
    let periodic = Cycle::of(&facts, rules, Track::Periodic, day(r.try_get("last_periodic")?), since, today);
    let emergency = Cycle::of(&facts, rules, Track::EmergencyPower, day(r.try_get("last_emergency")?), since, today);
    Ok(CustomerRow {
        id: r.try_get(0)?,
        unit_id: r.try_get(4)?,
        unit_name: r.try_get(5)?,
        unit_path: r.try_get(6)?,
        periodic,
        emergency,
        open_hazards: r.try_get(24)?,
        sealed: r.try_get(25)?,
        updated_by: r.try_get(22)?,
        record,
    })
}

pub use gridsafe_store::customers::RegisteredCustomer;

/// The customer registered under 户号 `account_no`, if any (whoever asks: a ticket names its
/// customer by 户号 and takes the voltage from the register).
pub async fn registered_customer(app: &App, account_no: &str) -> Result<Option<RegisteredCustomer>, AppError> {
    Ok(gridsafe_store::customers::registered(&mut *app.db().pool().acquire().await?, account_no).await?)
}

/// Which customers a list shows.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Part of the 户号, name or address.
    pub text: Option<String>,
    pub unit_id: Option<i64>,
    pub importance: Option<String>,
    pub due: Option<DueState>,
}

/// Customers in reach, by 户号.
pub async fn list_customers<P: CustomersReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &CustomerFilter,
) -> Result<Vec<CustomerRow>, AppError> {
    let (clause, mut binds) = crate::identity::scope_clause("u.path", cap.scope(), 1);
    let mut sql =
        format!("SELECT {CUSTOMER_COLUMNS} FROM customers c JOIN org_units u ON u.id = c.unit_id WHERE {clause}");
    if let Some(pattern) = crate::search::contains("q", filter.text.as_deref())? {
        binds.push(pattern);
        let like = |column| crate::search::like(column, binds.len());
        sql.push_str(&format!(" AND ({} OR {} OR {})", like("c.account_no"), like("c.name"), like("c.address")));
    }
    if let Some(i) = filter.importance.as_deref().filter(|i| !i.is_empty()) {
        binds.push(i.to_owned());
        sql.push_str(&format!(" AND c.importance = ${}", binds.len()));
    }
    if let Some(unit) = filter.unit_id {
        sql.push_str(&format!(" AND u.path LIKE (SELECT path FROM org_units WHERE id = {unit}) || '%'"));
    }
    sql.push_str(" ORDER BY c.account_no LIMIT 20000");
    let rules = cycle_rules(app).await?;
    let industries = &app.inspections_config().emergency_power_industries;
    let today = app.today();
    let rows = gridsafe_store::bound(sql, &binds).fetch_all(app.db().pool()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let c = customer_from(r, &rules, industries, today)?;
        if filter.due.is_none_or(|d| c.cycles().iter().any(|k| k.due_state == Some(d))) {
            out.push(c);
        }
    }
    Ok(out)
}

/// One customer in reach.
pub async fn customer<P: CustomersReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<CustomerRow, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CUSTOMER_COLUMNS} FROM customers c JOIN org_units u ON u.id = c.unit_id WHERE c.id = $1"
    )))
    .bind(id)
    .fetch_optional(app.db().pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let c = customer_from(
        &row,
        &cycle_rules(app).await?,
        &app.inspections_config().emergency_power_industries,
        app.today(),
    )?;
    crate::identity::check_stored_path(cap, &c.unit_path)?;
    Ok(c)
}

/// Units in reach by name and by code.
async fn unit_names<P: PermissionMarker>(app: &App, cap: &Capability<P>) -> Result<HashMap<String, i64>, AppError> {
    let mut units = HashMap::new();
    for u in crate::identity::list_units(app, cap.scope()).await? {
        units.insert(u.name.clone(), u.id);
        units.insert(u.code.clone(), u.id);
    }
    Ok(units)
}

fn opt_day(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

async fn write_customer(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    existing: Option<i64>,
    r: &CustomerRecord,
    unit_id: i64,
    registered_on: NaiveDate,
    at: &str,
    by: &str,
) -> Result<i64, AppError> {
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
    let query = sqlx::query(sql)
        .bind(&r.account_no)
        .bind(&r.name)
        .bind(&r.address)
        .bind(unit_id)
        .bind(r.voltage_kv)
        .bind(register::importance_code(r.importance))
        .bind(&r.importance_document)
        .bind(opt_day(r.importance_date))
        .bind(&r.industry)
        .bind(i64::from(r.supply_sources))
        .bind(&r.supply_kind)
        .bind(register::emergency_code(r.emergency_power))
        .bind(&r.emergency_kind)
        .bind(gridsafe_store::real_text(r.emergency_capacity_kw))
        .bind(opt_day(r.emergency_last_test))
        .bind(&r.electrician_name)
        .bind(&r.electrician_phone)
        .bind(opt_day(r.preventive_test_due))
        .bind(registered_on.to_string())
        .bind(at)
        .bind(by);
    let query = match existing {
        Some(id) => query.bind(id),
        None => query,
    };
    let row = query.fetch_one(&mut **tx).await.map_err(|e| AppError::from_insert(e, "conflict-customer-account"))?;
    Ok(row.try_get(0)?)
}

/// The audit summary of a customer: no names or phone numbers of people.
fn summary(r: &CustomerRecord) -> serde_json::Value {
    serde_json::json!({
        "account_no": r.account_no, "voltage_kv": r.voltage_kv, "importance": register::importance_code(r.importance),
        "emergency_power": register::emergency_code(r.emergency_power), "industry": r.industry,
    })
}

/// Creates (`id` none) or changes a customer from a form's fields (keys as [`COLUMNS`], the
/// unit as `unit_id`).
pub async fn save_customer(
    app: &App,
    cap: &Capability<perm::CustomersManage>,
    meta: &RequestMeta,
    id: Option<i64>,
    fields: &HashMap<String, String>,
) -> Result<i64, AppError> {
    if let Some(id) = id {
        customer(app, cap, id).await?;
    }
    let unit_id: Option<i64> = fields.get("unit_id").and_then(|u| u.trim().parse::<f64>().ok()).map(|u| u as i64);
    let unit = match unit_id {
        Some(u) => crate::identity::unit_by_id(app, u).await?,
        None => None,
    };
    let unit_field = unit.as_ref().map(|u| u.name.clone()).unwrap_or_default();
    let parsed =
        register::parse_record(
            |k| if k == "unit" { Some(unit_field.as_str()) } else { fields.get(k).map(String::as_str) },
        );
    let mut problems: Vec<FieldProblem> = match &parsed {
        Ok(_) => Vec::new(),
        Err(list) => list
            .iter()
            .map(|p| FieldProblem::new(if p.column == "unit" { "unit_id" } else { p.column }, p.problem))
            .collect(),
    };
    let Some(unit) = unit else {
        if !problems.iter().any(|p| p.field == "unit_id") {
            problems.push(FieldProblem::new("unit_id", "field-unit"));
        }
        return Err(AppError::Invalid(problems));
    };
    cap.check(&unit.path)?;
    let record = parsed.map_err(|_| AppError::Invalid(problems))?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let registered_on = record.registered_on.unwrap_or_else(|| app.today());
    let new_id = write_customer(&mut tx, id, &record, unit.id, registered_on, &now.to_db(), &cap.actor().name).await?;
    let event = NewEvent::new(if id.is_some() { "customer.updated" } else { "customer.created" }, "customer", new_id)
        .unit(unit.id)
        .summary(summary(&record));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(new_id)
}

/// One problem of an imported register: file, line, column (as headed in the file), value and
/// the message key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    pub file: String,
    pub line: usize,
    pub column: String,
    pub value: String,
    pub message: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RegisterImport {
    pub created: usize,
    pub updated: usize,
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::DateTime(dt) => dt.date().to_string(),
        other => other.shown(),
    }
}

/// A file's problem as a row problem: where it is, and the bound when one was broken (never
/// the oversized value itself).
fn bound_problem(e: gridsafe_sheet::InputError) -> RowProblem {
    RowProblem {
        file: e.file,
        line: e.line.unwrap_or(0),
        column: e.column.unwrap_or_default(),
        value: e.value.as_deref().map(gridsafe_sheet::quoted).unwrap_or_default(),
        message: e.problem.message_key(),
    }
}

/// Reads the register's tables (CSV or `.xlsx`, Chinese or English headers).
fn read_files(files: &[(String, Vec<u8>)]) -> Result<Vec<RawTable>, Vec<RowProblem>> {
    let mut tables = Vec::new();
    let mut problems = Vec::new();
    let file_problem = |file: &str, message| RowProblem {
        file: file.to_owned(),
        line: 0,
        column: String::new(),
        value: String::new(),
        message,
    };
    for (name, bytes) in files {
        let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        match ext.as_str() {
            "csv" => match gridsafe_sheet::read_csv(name, bytes, &Limits::default()) {
                Ok(t) => tables.push(t),
                Err(e) => problems.push(bound_problem(e)),
            },
            "xlsx" => match gridsafe_sheet::read_xlsx(name, bytes, &Limits::default()) {
                Ok(sheets) => tables.extend(sheets.into_iter().map(|(_, t)| t)),
                Err(e) => problems.push(bound_problem(e)),
            },
            _ => problems.push(file_problem(name, "input-problem-unreadable")),
        }
    }
    if problems.is_empty() { Ok(tables) } else { Err(problems) }
}

/// A register read and checked against the database, ready to write: each record with its unit
/// and, when the 户号 is known, the customer it updates.
#[derive(Debug, Clone)]
pub struct CheckedRegister {
    records: Vec<(CustomerRecord, i64, Option<i64>)>,
}

impl CheckedRegister {
    /// (户号, 户名, new) of every row, for the preview.
    pub fn rows(&self) -> impl Iterator<Item = (&str, &str, bool)> {
        self.records.iter().map(|(r, _, known)| (r.account_no.as_str(), r.name.as_str(), known.is_none()))
    }

    pub fn counts(&self) -> RegisterImport {
        let created = self.records.iter().filter(|(_, _, known)| known.is_none()).count();
        RegisterImport { created, updated: self.records.len() - created }
    }
}

/// Reads and checks a customer register (the preview): every problem (`Ok(Err(problems))`), or
/// what would be created and updated. Rows are matched by 户号; known ones must be in reach.
pub async fn check_register(
    app: &App,
    cap: &Capability<perm::CustomersManage>,
    files: &[(String, Vec<u8>)],
) -> Result<Result<CheckedRegister, Vec<RowProblem>>, AppError> {
    let tables = match read_files(files) {
        Ok(t) => t,
        Err(p) => return Ok(Err(p)),
    };
    let units = unit_names(app, cap).await?;
    let mut existing: HashMap<String, (i64, String)> = HashMap::new();
    for r in sqlx::query("SELECT c.account_no, c.id, u.path FROM customers c JOIN org_units u ON u.id = c.unit_id")
        .fetch_all(app.db().pool())
        .await?
    {
        existing.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
    }
    let mut problems = Vec::new();
    let mut records: Vec<(CustomerRecord, i64)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for t in &tables {
        let positions: Vec<Option<usize>> =
            COLUMNS.iter().map(|c| gridsafe_sheet::column(&t.headers, c.key, c.zh)).collect();
        if let Some(c) = COLUMNS.iter().zip(&positions).find(|(c, p)| c.required && p.is_none()).map(|(c, _)| c) {
            problems.push(RowProblem {
                file: t.source.clone(),
                line: 1,
                column: format!("{} / {}", c.zh, c.key),
                value: String::new(),
                message: "input-problem-missing-column",
            });
            continue;
        }
        for row in &t.rows {
            let texts: HashMap<&str, String> = COLUMNS
                .iter()
                .zip(&positions)
                .filter_map(|(c, p)| p.and_then(|p| row.cells.get(p)).map(|cell| (c.key, cell_text(cell))))
                .collect();
            let header = |key: &str| {
                COLUMNS
                    .iter()
                    .position(|c| c.key == key)
                    .and_then(|i| positions[i])
                    .and_then(|p| t.headers.get(p).cloned())
                    .unwrap_or_else(|| key.to_owned())
            };
            let mut report = |key: &str, message| {
                problems.push(RowProblem {
                    file: t.source.clone(),
                    line: row.line,
                    column: header(key),
                    value: texts.get(key).cloned().unwrap_or_default(),
                    message,
                })
            };
            match register::parse_record(|k| texts.get(k).map(String::as_str)) {
                Err(list) => list.iter().for_each(|p| report(p.column, p.problem)),
                Ok(r) => {
                    let Some(unit) = units.get(&r.unit).copied() else {
                        report("unit", "input-problem-unknown-reference");
                        continue;
                    };
                    if let Some((_, path)) = existing.get(&r.account_no)
                        && gridsafe_domain::access::UnitPath::parse(path).is_none_or(|p| cap.check(&p).is_err())
                    {
                        report("account_no", "input-problem-not-permitted");
                        continue;
                    }
                    if seen.insert(r.account_no.clone(), row.line).is_some() {
                        report("account_no", "input-problem-duplicate");
                        continue;
                    }
                    records.push((r, unit));
                }
            }
        }
    }
    if tables.iter().all(|t| t.rows.is_empty()) && problems.is_empty() {
        problems.push(RowProblem {
            file: files.first().map(|(n, _)| n.clone()).unwrap_or_default(),
            line: 0,
            column: String::new(),
            value: String::new(),
            message: "input-problem-empty",
        });
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    Ok(Ok(CheckedRegister {
        records: records
            .into_iter()
            .map(|(r, unit)| {
                let known = existing.get(&r.account_no).map(|(id, _)| *id);
                (r, unit, known)
            })
            .collect(),
    }))
}

/// Writes a checked register in one transaction with one audit event.
pub async fn apply_register(
    app: &App,
    cap: &Capability<perm::CustomersManage>,
    meta: &RequestMeta,
    names: &[&str],
    checked: CheckedRegister,
) -> Result<RegisterImport, AppError> {
    let now = app.now();
    let at = now.to_db();
    let result = checked.counts();
    let mut tx = app.db().begin_write().await?;
    for (r, unit, known) in &checked.records {
        let registered_on = r.registered_on.unwrap_or_else(|| app.today());
        write_customer(&mut tx, *known, r, *unit, registered_on, &at, &cap.actor().name).await?;
    }
    let mut event = NewEvent::new("customer.imported", "customer", "register")
        .summary(serde_json::json!({ "files": names, "created": result.created, "updated": result.updated }));
    if let Some((_, unit, _)) = checked.records.first() {
        event = event.unit(*unit);
    }
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(result)
}

/// Checks and imports a customer register at once (the command line): all or nothing.
pub async fn import_customers(
    app: &App,
    cap: &Capability<perm::CustomersManage>,
    meta: &RequestMeta,
    files: &[(String, Vec<u8>)],
) -> Result<Result<RegisterImport, Vec<RowProblem>>, AppError> {
    match check_register(app, cap, files).await? {
        Err(problems) => Ok(Err(problems)),
        Ok(checked) => {
            let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
            Ok(Ok(apply_register(app, cap, meta, &names, checked).await?))
        }
    }
}

/// A row of the cycle table as in force here: the default's origin, and who changed it.
#[derive(Debug, Clone, Serialize)]
pub struct CycleRow {
    pub rule: CycleRule,
    pub default_months: Option<u32>,
    pub changed_by: Option<String>,
}

/// The cycle table: the defaults with this deployment's changes.
pub async fn cycle_table(app: &App) -> Result<Vec<CycleRow>, AppError> {
    let mut changes: HashMap<String, (Option<i64>, String)> = HashMap::new();
    for r in sqlx::query("SELECT code, months, changed_by FROM inspection_cycles").fetch_all(app.db().pool()).await? {
        changes.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
    }
    Ok(cycles::default_rules()
        .into_iter()
        .map(|rule| {
            let default_months = rule.months;
            match changes.get(&rule.code) {
                Some((months, by)) => CycleRow {
                    rule: CycleRule { months: months.and_then(|m| u32::try_from(m).ok()), ..rule },
                    default_months,
                    changed_by: Some(by.clone()),
                },
                None => CycleRow { rule, default_months, changed_by: None },
            }
        })
        .collect())
}

pub async fn cycle_rules(app: &App) -> Result<Vec<CycleRule>, AppError> {
    Ok(cycle_table(app).await?.into_iter().map(|r| r.rule).collect())
}

/// Changes one row's months (`None`: no fixed cycle).
pub async fn set_cycle(
    app: &App,
    cap: &Capability<perm::InspectionsConfigure>,
    meta: &RequestMeta,
    code: &str,
    months: Option<u32>,
) -> Result<(), AppError> {
    if !cycles::default_rules().iter().any(|r| r.code == code) {
        return Err(AppError::NotFound);
    }
    if months.is_some_and(|m| !(1..=60).contains(&m)) {
        return Err(AppError::invalid("months", "field-cycle-months"));
    }
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    sqlx::query("DELETE FROM inspection_cycles WHERE code = $1").bind(code).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO inspection_cycles (code, months, changed_by, changed_at) VALUES ($1, $2, $3, $4)")
        .bind(code)
        .bind(months.map(i64::from))
        .bind(&cap.actor().name)
        .bind(now.to_db())
        .execute(&mut *tx)
        .await?;
    let event = NewEvent::new("inspection.cycle_changed", "inspection_cycle", code)
        .summary(serde_json::json!({ "months": months }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// One line of the plan: a customer on one track, with its due day (or the day it was done).
#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    pub customer: CustomerRow,
    pub track: Track,
    pub day: NaiveDate,
}

/// The plan of a unit and month, per track: customers due that month or overdue, and those whose
/// inspection on that track was done in it.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// `YYYY-MM`
    pub month: String,
    pub overdue: Vec<PlanEntry>,
    pub due: Vec<PlanEntry>,
    pub done: Vec<PlanEntry>,
}

/// Customers in reach (optionally one unit's subtree) as the plan of `month` shows them.
pub async fn plan<P: CustomersReach>(
    app: &App,
    cap: &Capability<P>,
    month: NaiveDate,
    unit_id: Option<i64>,
) -> Result<Plan, AppError> {
    use chrono::Datelike;
    let filter = CustomerFilter { unit_id, ..CustomerFilter::default() };
    let customers = list_customers(app, cap, &filter).await?;
    let key = format!("{:04}-{:02}", month.year(), month.month());
    let in_month = |d: NaiveDate| d.format("%Y-%m").to_string() == key;
    let today = app.today();
    let month_end = month
        .with_day(1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .map_or(month, |d| d.pred_opt().unwrap_or(d));
    let mut plan = Plan { month: key.clone(), overdue: Vec::new(), due: Vec::new(), done: Vec::new() };
    for c in customers {
        for cycle in c.cycles() {
            let entry = |day| PlanEntry { customer: c.clone(), track: cycle.track, day };
            match (cycle.last, cycle.due) {
                (Some(last), _) if in_month(last) && cycle.months.is_some() => plan.done.push(entry(last)),
                (_, Some(due)) if due < today && due <= month_end => plan.overdue.push(entry(due)),
                (_, Some(due)) if in_month(due) => plan.due.push(entry(due)),
                _ => {}
            }
        }
    }
    plan.overdue.sort_by_key(|e| e.day);
    plan.due.sort_by_key(|e| e.day);
    plan.done.sort_by_key(|e| e.day);
    Ok(plan)
}
