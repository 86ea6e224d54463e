//! Customers' safe use of electricity (客户用电安全): the customer register, inspection cycles
//! and the plan, inspections with their checklist, files and result notice, hazards and their
//! closed loop with escalation, sealed equipment, and the dashboards.

mod dashboard;
pub(crate) mod files;
mod hazards;
mod inspections;

pub use dashboard::{UnitDashboard, dashboard};
pub use files::{Attachment, AttachmentMeta, attachment, attachments_of};
pub use hazards::{
    GradeRow, HazardDetail, HazardFilter, HazardInput, HazardKey, HazardRow, HazardWorker, SOURCES, SealRow, StepInput,
    UnsealInput, decide_extension, each_hazard, escalate_overdue, grades, hazard, hazard_assigned, hazards_page,
    list_hazards, list_seals, register_hazard, request_extension, review_hazard, seal, set_grade, step_kind, take_step,
    unseal,
};
pub(crate) use hazards::{HazardPlan, NewHazard, insert_hazard};
pub use inspections::{
    ChecklistItem, InspectionDetail, InspectionInput, InspectionRow, KINDS, attach_photo, checklist, inspection,
    inspections_of, inspector_choices, record_inspection, set_checklist, sign_notice,
};

use std::collections::HashMap;
use std::ops::ControlFlow;

use chrono::NaiveDate;
use gridsafe_domain::access::{Capability, PermissionMarker, perm};
use gridsafe_domain::customers::{self as register, COLUMNS, CustomerRecord};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::inspections::{self as cycles, CustomerFacts, CycleRule, DueState, Track};
use gridsafe_sheet::{Cell, Limits, RawTable};
use gridsafe_store::customers::{self as store, StoredCustomer};
use serde::Serialize;

use crate::audit::NewEvent;
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
    pub unit_id: UnitId,
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

/// Where a stored customer stands on its two tracks `today`.
fn customer_row(c: StoredCustomer, rules: &[CycleRule], industries: &[String], today: NaiveDate) -> CustomerRow {
    let facts = c.record.facts(industries);
    let since = c.record.registered_on.unwrap_or(today);
    CustomerRow {
        periodic: Cycle::of(&facts, rules, Track::Periodic, c.last_periodic, since, today),
        emergency: Cycle::of(&facts, rules, Track::EmergencyPower, c.last_emergency, since, today),
        id: c.id,
        unit_id: c.unit_id,
        unit_name: c.unit_name,
        unit_path: c.unit_path,
        open_hazards: c.open_hazards,
        sealed: c.sealed,
        updated_by: c.updated_by,
        record: c.record,
    }
}

pub use gridsafe_store::customers::RegisteredCustomer;

/// The customer registered under 户号 `account_no`, if any (whoever asks: a ticket names its
/// customer by 户号 and takes the voltage from the register).
pub async fn registered_customer(app: &App, account_no: &str) -> Result<Option<RegisteredCustomer>, AppError> {
    Ok(gridsafe_store::customers::registered(&mut *app.db().read().await?, account_no).await?)
}

/// Which customers a list shows.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Part of the 户号, name or address.
    pub text: Option<String>,
    pub unit_id: Option<UnitId>,
    pub importance: Option<String>,
    pub due: Option<DueState>,
}

impl CustomerFilter {
    fn stored(&self) -> Result<store::Filter, AppError> {
        Ok(store::Filter {
            pattern: crate::search::contains("q", self.text.as_deref())?,
            importance: self.importance.clone(),
            unit_id: self.unit_id,
        })
    }

    fn takes(&self, c: &CustomerRow) -> bool {
        self.due.is_none_or(|d| c.cycles().iter().any(|k| k.due_state == Some(d)))
    }
}

/// Calls `each` with every stored customer of `scope` that `filter` takes, by 户号 after
/// `after`, until it breaks, reading the register on `conn` `batch` rows at a time: memory does not
/// grow with the register, and nothing past a first batch is left out (a province's register
/// holds hundreds of thousands).
pub(crate) async fn each_stored(
    conn: &mut gridsafe_store::Conn,
    scope: &[gridsafe_domain::access::UnitPath],
    filter: &store::Filter,
    after: Option<&str>,
    batch: u32,
    mut each: impl FnMut(StoredCustomer) -> ControlFlow<()>,
) -> Result<(), AppError> {
    let mut batches = crate::batches::Batches::new(after.map(str::to_owned), batch);
    while let Some(after) = batches.next() {
        let rows = store::customers(conn, scope, filter, after.as_deref(), batch).await?;
        batches.read(&rows, |c| c.record.account_no.clone());
        for c in rows {
            if each(c).is_break() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// The register as the use cases read it: the filter for the store, the rules the rows are
/// judged by, and one snapshot, so that counts and pages add up while others write.
struct Register<'a> {
    filter: &'a CustomerFilter,
    stored: store::Filter,
    rules: Vec<CycleRule>,
    today: NaiveDate,
    snapshot: gridsafe_store::Snapshot,
}

impl<'a> Register<'a> {
    async fn open(app: &App, filter: &'a CustomerFilter) -> Result<Self, AppError> {
        Ok(Self {
            filter,
            stored: filter.stored()?,
            rules: cycle_rules(app).await?,
            today: app.today(),
            snapshot: app.db().snapshot().await?,
        })
    }

    /// Calls `each` with every customer of `scope` the filter takes (its due state too), by 户号
    /// after `after`, until it breaks, reading `batch` rows at a time.
    async fn each(
        &mut self,
        app: &App,
        scope: &[gridsafe_domain::access::UnitPath],
        after: Option<&str>,
        batch: u32,
        mut each: impl FnMut(CustomerRow) -> ControlFlow<()>,
    ) -> Result<(), AppError> {
        let industries = &app.inspections_config().emergency_power_industries;
        let (rules, today, filter) = (&self.rules, self.today, self.filter);
        each_stored(&mut self.snapshot, scope, &self.stored, after, batch, |c| {
            let row = customer_row(c, rules, industries, today);
            if filter.takes(&row) { each(row) } else { ControlFlow::Continue(()) }
        })
        .await
    }
}

/// Calls `each` with every customer in reach that `filter` takes, by 户号, judged by the
/// inspection rules, from one snapshot of the register.
pub async fn each_customer<P: CustomersReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &CustomerFilter,
    mut each: impl FnMut(CustomerRow),
) -> Result<(), AppError> {
    Register::open(app, filter)
        .await?
        .each(app, cap.scope(), None, crate::batches::BATCH, |c| {
            each(c);
            ControlFlow::Continue(())
        })
        .await
}

/// Every customer in reach that `filter` takes, by 户号 (what an export writes).
pub async fn list_customers<P: CustomersReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &CustomerFilter,
) -> Result<Vec<CustomerRow>, AppError> {
    let mut rows = Vec::new();
    each_customer(app, cap, filter, |c| rows.push(c)).await?;
    Ok(rows)
}

/// At most `limit` customers in reach that `filter` takes, after 户号 `after` in the register's
/// order, and how many it takes in all. Without a due filter the database counts; with one, each
/// customer's cycles are judged, so the whole register in reach is gone through.
pub async fn customers_page<P: CustomersReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &CustomerFilter,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<CustomerRow>, u64), AppError> {
    let room = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut register = Register::open(app, filter).await?;
    // Without a due filter every row read is shown: read no more than the page.
    let batch = if filter.due.is_none() { limit.clamp(1, crate::batches::BATCH) } else { crate::batches::BATCH };
    let mut rows = Vec::new();
    register
        .each(app, cap.scope(), after, batch, |c| {
            rows.push(c);
            if rows.len() < room { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
        })
        .await?;
    let total = if filter.due.is_none() {
        u64::try_from(store::count(&mut register.snapshot, cap.scope(), &register.stored).await?).unwrap_or(0)
    } else {
        let mut total = 0;
        register
            .each(app, cap.scope(), None, crate::batches::BATCH, |_| {
                total += 1;
                ControlFlow::Continue(())
            })
            .await?;
        total
    };
    Ok((rows, total))
}

/// One customer in reach.
pub async fn customer<P: CustomersReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<CustomerRow, AppError> {
    let stored = store::customer(&mut *app.db().read().await?, id).await?.ok_or(AppError::NotFound)?;
    let c = customer_row(
        stored,
        &cycle_rules(app).await?,
        &app.inspections_config().emergency_power_industries,
        app.today(),
    );
    crate::identity::check_stored_path(cap, &c.unit_path)?;
    Ok(c)
}

/// Units in reach by name and by code.
pub(crate) async fn unit_names<P: PermissionMarker>(
    app: &App,
    cap: &Capability<P>,
) -> Result<HashMap<String, UnitId>, AppError> {
    let mut units = HashMap::new();
    for u in crate::identity::list_units(app, cap.scope()).await? {
        units.insert(u.name.clone(), u.id);
        units.insert(u.code.clone(), u.id);
    }
    Ok(units)
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
    let unit_id: Option<UnitId> =
        fields.get("unit_id").and_then(|u| u.trim().parse::<f64>().ok()).map(|u| UnitId::new(u as i64));
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
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let registered_on = record.registered_on.unwrap_or_else(|| now.local_date());
    let new_id = store::save_customer(work.conn(), id, &record, unit.id, registered_on, &cap.actor().name, now)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-customer-account"))?;
    work.audit(
        NewEvent::new(if id.is_some() { "customer.updated" } else { "customer.created" }, "customer", new_id)
            .unit(unit.id)
            .summary(summary(&record)),
    )
    .await?;
    work.commit().await?;
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
    /// The message's other arguments (a bound such as `max`).
    pub args: Vec<(&'static str, String)>,
}

impl RowProblem {
    /// A required column `table` lacks, named by both its headers.
    pub fn missing_column(table: &RawTable, en: &str, zh: &str) -> Self {
        Self {
            file: table.source.clone(),
            line: 1,
            column: format!("{zh} / {en}"),
            value: String::new(),
            message: "input-problem-missing-column",
            args: Vec::new(),
        }
    }

    /// The line of `table` past an import's bound of `max` rows.
    pub fn too_many_rows(table: &RawTable, line: usize, max: usize) -> Self {
        Self {
            file: table.source.clone(),
            line,
            column: String::new(),
            value: max.to_string(),
            message: "input-problem-too-many-rows",
            args: Vec::new(),
        }
    }
}

/// Where each of `columns` (English header, Chinese header, required) stands among `table`'s
/// headers, or the first required one it lacks.
pub fn locate_columns(table: &RawTable, columns: &[(&str, &str, bool)]) -> Result<Vec<Option<usize>>, RowProblem> {
    let at: Vec<Option<usize>> =
        columns.iter().map(|(en, zh, _)| gridsafe_sheet::column(&table.headers, en, zh)).collect();
    match columns.iter().zip(&at).find(|(c, p)| c.2 && p.is_none()) {
        Some(((en, zh, _), _)) => Err(RowProblem::missing_column(table, en, zh)),
        None => Ok(at),
    }
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
pub(crate) fn bound_problem(e: gridsafe_sheet::InputError) -> RowProblem {
    RowProblem {
        file: e.file,
        line: e.line.unwrap_or(0),
        column: e.column.unwrap_or_default(),
        value: e.value.as_deref().map(gridsafe_sheet::quoted).unwrap_or_default(),
        message: e.problem.message_key(),
        args: Vec::new(),
    }
}

/// Reads the register's tables (CSV or `.xlsx`, Chinese or English headers).
pub(crate) fn read_files(files: &[(String, Vec<u8>)]) -> Result<Vec<RawTable>, Vec<RowProblem>> {
    let mut tables = Vec::new();
    let mut problems = Vec::new();
    let file_problem = |file: &str, message| RowProblem {
        file: file.to_owned(),
        line: 0,
        column: String::new(),
        value: String::new(),
        message,
        args: Vec::new(),
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
    records: Vec<(CustomerRecord, UnitId, Option<i64>)>,
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
    let existing = store::accounts(&mut *app.db().read().await?).await?;
    let mut problems = Vec::new();
    let mut records: Vec<(CustomerRecord, UnitId)> = Vec::new();
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
                args: Vec::new(),
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
                    args: Vec::new(),
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
            args: Vec::new(),
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
    let result = checked.counts();
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    for (r, unit, known) in &checked.records {
        let registered_on = r.registered_on.unwrap_or_else(|| now.local_date());
        store::save_customer(work.conn(), *known, r, *unit, registered_on, &cap.actor().name, now)
            .await
            .map_err(|e| AppError::from_insert(e, "conflict-customer-account"))?;
    }
    let mut event = NewEvent::new("customer.imported", "customer", "register")
        .summary(serde_json::json!({ "files": names, "created": result.created, "updated": result.updated }));
    if let Some((_, unit, _)) = checked.records.first() {
        event = event.unit(*unit);
    }
    work.audit(event).await?;
    work.commit().await?;
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
    let changes = store::cycle_changes(&mut *app.db().read().await?).await?;
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
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    store::set_cycle(work.conn(), code, months, &cap.actor().name, now).await?;
    work.audit(
        NewEvent::new("inspection.cycle_changed", "inspection_cycle", code)
            .summary(serde_json::json!({ "months": months })),
    )
    .await?;
    work.commit().await
}

/// The daily look for periodic inspections past their due day: each customer and track announced
/// once per due day (`inspection.overdue`) to the subscriptions that hear of it; nothing is
/// searched when none does. Returns the number of events written.
pub async fn announce_overdue(app: &App, meta: &RequestMeta) -> Result<usize, AppError> {
    use gridsafe_domain::webhooks::EventKind;
    let kind = EventKind::InspectionOverdue;
    if !gridsafe_store::webhooks::anyone_listens(&mut *app.db().read().await?, kind.code()).await? {
        return Ok(0);
    }
    let operator =
        gridsafe_domain::access::Principal::operator("job:inspections-overdue", gridsafe_domain::access::Channel::Job);
    let cap = operator.authorize::<perm::CustomersView>()?;
    let today = app.today();
    let overdue = plan(app, &cap, today, None).await?.overdue;
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let mut written = 0;
    for e in &overdue {
        let key = format!("inspection.overdue:{}:{}:{}", e.customer.id, e.track.code(), e.day);
        let data = serde_json::json!({
            "customer": e.customer.id, "account_no": e.customer.record.account_no, "name": e.customer.record.name,
            "track": e.track.code(), "due": e.day.to_string(), "days_overdue": (today - e.day).num_days(),
        });
        written +=
            usize::from(crate::webhooks::enqueue(work.conn(), kind, e.customer.unit_id, &key, data, now).await? > 0);
    }
    work.commit().await?;
    Ok(written)
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
    unit_id: Option<UnitId>,
) -> Result<Plan, AppError> {
    use chrono::Datelike;
    let filter = CustomerFilter { unit_id, ..CustomerFilter::default() };
    let key = format!("{:04}-{:02}", month.year(), month.month());
    let in_month = |d: NaiveDate| d.format("%Y-%m").to_string() == key;
    let today = app.today();
    let month_end = month
        .with_day(1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
        .map_or(month, |d| d.pred_opt().unwrap_or(d));
    let mut plan = Plan { month: key.clone(), overdue: Vec::new(), due: Vec::new(), done: Vec::new() };
    each_customer(app, cap, &filter, |c| {
        for cycle in c.cycles() {
            let entry = |day| PlanEntry { customer: c.clone(), track: cycle.track, day };
            match (cycle.last, cycle.due) {
                (Some(last), _) if in_month(last) && cycle.months.is_some() => plan.done.push(entry(last)),
                (_, Some(due)) if due < today && due <= month_end => plan.overdue.push(entry(due)),
                (_, Some(due)) if in_month(due) => plan.due.push(entry(due)),
                _ => {}
            }
        }
    })
    .await?;
    plan.overdue.sort_by_key(|e| e.day);
    plan.due.sort_by_key(|e| e.day);
    plan.done.sort_by_key(|e| e.day);
    Ok(plan)
}
