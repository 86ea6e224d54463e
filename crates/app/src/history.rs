//! History moves in: the ticket register, the hazard ledger and the inspection history kept before
//! GridSafe, imported with their real dates (CSV or `.xlsx`, Chinese or English headers), all of a
//! file or nothing with every problem named by file, line and column. Each import is on record
//! (who, when, which files and their SHA-256) and audited; its records count in the ticket
//! statistics, the inspection cycles, the cross-audit and the hazards' closed loop as native ones
//! do, and are never signed again.

use chrono::{NaiveDate, NaiveDateTime};
use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::history::{self as rules, DateProblem, HazardDays, Register, TicketTimes};
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::inspections::InspectionKind;
use gridsafe_domain::orders::ORDER_TYPES;
use gridsafe_domain::time::Timestamp;
use gridsafe_sheet::{Cell, RawRow, RawTable};
use gridsafe_store::history::{self as store, OldHazard, OldTicket};
use sha2::{Digest, Sha256};

pub use gridsafe_store::history::{ImportRow, Record};

use crate::audit::NewEvent;
use crate::customers::RowProblem;
use crate::{App, AppError, RequestMeta, Work};

/// Lines one import takes at most (a county's registers of several years).
pub const MAX_ROWS: usize = 20_000;

/// The columns of each register: (English header, Chinese header, required).
pub const TICKET_COLUMNS: [(&str, &str, bool); 19] = [
    ("number", "票号", true),
    ("type", "票种", true),
    ("work_kind", "业务类型", true),
    ("location", "工作地点", true),
    ("content", "工作内容", true),
    ("planned_start", "计划开始", true),
    ("planned_end", "计划结束", true),
    ("issuer", "签发人", false),
    ("leader", "工作负责人", true),
    ("permitter", "许可人", false),
    ("crew", "工作班成员", false),
    ("orders", "关联工单", false),
    ("issued_at", "签发时间", false),
    ("permitted_at", "许可时间", false),
    ("finished_at", "终结时间", true),
    ("verdict", "评价", false),
    ("evaluated_by", "评价人", false),
    ("note", "评价说明", false),
    ("unit", "单位", false),
];

pub const HAZARD_COLUMNS: [(&str, &str, bool); 14] = [
    ("number", "隐患编号", false),
    ("account_no", "户号", false),
    ("title", "隐患内容", true),
    ("grade", "隐患等级", true),
    ("responsibility", "责任方", true),
    ("registered_on", "发现日期", true),
    ("deadline", "整改期限", true),
    ("owner", "整改责任人", false),
    ("notified_on", "通知书送达日期", false),
    ("receipt_on", "签收日期", false),
    ("receipt_by", "签收人", false),
    ("filed_on", "报备日期", false),
    ("closed_on", "销号日期", false),
    ("description", "整改情况", false),
];

pub const INSPECTION_COLUMNS: [(&str, &str, bool); 7] = [
    ("account_no", "户号", true),
    ("inspected_on", "检查日期", true),
    ("kind", "检查类型", false),
    ("inspectors", "检查人员", false),
    ("conclusion", "检查结论", true),
    ("notice_number", "通知书编号", false),
    ("emergency_checked", "含应急电源检查", false),
];

fn columns(register: Register) -> &'static [(&'static str, &'static str, bool)] {
    match register {
        Register::Tickets => &TICKET_COLUMNS,
        Register::Hazards => &HAZARD_COLUMNS,
        Register::Inspections => &INSPECTION_COLUMNS,
    }
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    pub id: i64,
    pub records: usize,
}

/// The imports of the units in reach, the latest first.
pub async fn imports(app: &App, cap: &Capability<perm::HistoryImport>) -> Result<Vec<ImportRow>, AppError> {
    Ok(store::imports(&mut *app.db().read().await?, cap.scope(), 200).await?)
}

/// The import a record came in with, if it did (the caller has already shown it may read the
/// record).
pub async fn origin(app: &App, record: Record, id: i64) -> Result<Option<ImportRow>, AppError> {
    Ok(store::origin(&mut *app.db().read().await?, record, id).await?)
}

/// One line being read: its table, its cells by column, and the problems found so far.
struct Line<'a> {
    table: &'a RawTable,
    row: &'a RawRow,
    at: &'a [Option<usize>],
    cols: &'static [(&'static str, &'static str, bool)],
    problems: Vec<RowProblem>,
}

impl Line<'_> {
    fn cell(&self, field: &str) -> Option<&Cell> {
        let i = self.cols.iter().position(|c| c.0 == field)?;
        self.at[i].and_then(|p| self.row.cells.get(p)).filter(|c| !c.is_empty())
    }

    fn header(&self, field: &str) -> String {
        let i = self.cols.iter().position(|c| c.0 == field);
        i.and_then(|i| self.at[i]).and_then(|p| self.table.headers.get(p).cloned()).unwrap_or_else(|| field.to_owned())
    }

    fn problem(&mut self, field: &str, value: &str, message: &'static str, args: Vec<(&'static str, String)>) {
        self.problems.push(RowProblem {
            file: self.table.source.clone(),
            line: self.row.line,
            column: self.header(field),
            value: gridsafe_sheet::quoted(value),
            message,
            args,
        });
    }

    /// The text of `field`, trimmed; a required one that is empty is a problem.
    fn text(&mut self, field: &str, required: bool, max: usize) -> String {
        let value = self.cell(field).map(Cell::shown).unwrap_or_default().trim().to_owned();
        if value.is_empty() && required {
            self.problem(field, "", "input-problem-empty", Vec::new());
        } else if value.chars().count() > max {
            self.problem(field, &value, "history-too-long", vec![("max", max.to_string())]);
        }
        value
    }

    fn day(&mut self, field: &str, required: bool) -> Option<NaiveDate> {
        match self.cell(field).cloned() {
            None if required => {
                self.problem(field, "", "input-problem-empty", Vec::new());
                None
            }
            None => None,
            Some(c) => gridsafe_sheet::parse_date(&c)
                .map_err(|_| self.problem(field, &c.shown(), "input-problem-bad-date", Vec::new()))
                .ok(),
        }
    }

    fn time(&mut self, field: &str, required: bool) -> Option<NaiveDateTime> {
        match self.cell(field).cloned() {
            None if required => {
                self.problem(field, "", "input-problem-empty", Vec::new());
                None
            }
            None => None,
            Some(c) => gridsafe_sheet::parse_datetime(&c)
                .map_err(|_| self.problem(field, &c.shown(), "input-problem-bad-datetime", Vec::new()))
                .ok(),
        }
    }

    fn dates(&mut self, found: Vec<(&'static str, DateProblem)>) {
        for (field, problem) in found {
            let value = self.cell(field).map(Cell::shown).unwrap_or_default();
            match problem {
                DateProblem::Future => self.problem(field, &value, "history-future", Vec::new()),
                DateProblem::Before { earlier } => {
                    let earlier = self.header(earlier);
                    self.problem(field, &value, "history-before", vec![("earlier", earlier)])
                }
            }
        }
    }

    /// A person of the register by 工号.
    async fn person(&mut self, work: &mut Work<'_>, field: &str, code: &str) -> Result<Option<PersonId>, AppError> {
        if code.is_empty() {
            return Ok(None);
        }
        let found = gridsafe_store::people::id_by_code(work.conn(), code).await?;
        if found.is_none() {
            self.problem(field, code, "input-problem-unknown-reference", Vec::new());
        }
        Ok(found)
    }
}

/// Imports `files` as `register` of `unit` (and the units below it): all of them, or every
/// problem named and nothing written. Numbers are checked inside the write transaction; an import
/// of the same numbers committed meanwhile (PostgreSQL lets two check at once) makes this one a
/// conflict, nothing written.
pub async fn import(
    app: &App,
    cap: &Capability<perm::HistoryImport>,
    meta: &RequestMeta,
    register: Register,
    unit: UnitId,
    files: &[(String, Vec<u8>)],
) -> Result<Result<Imported, Vec<RowProblem>>, AppError> {
    let tables = match crate::customers::read_files(files) {
        Ok(t) => t,
        Err(p) => return Ok(Err(p)),
    };
    let Some(u) = crate::identity::unit_by_id(app, unit).await? else {
        return Err(AppError::invalid("unit_id", "field-unit"));
    };
    cap.check(&u.path)?;
    let mut digest = Sha256::new();
    for (_, bytes) in files {
        digest.update(bytes);
    }
    let sha256: String = digest.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let names: Vec<&str> = tables.iter().map(|t| t.source.as_str()).collect();
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let by = cap.actor().name.clone();
    let import = store::insert_import(work.conn(), register.code(), unit, &names.join("、"), &sha256, &by, now).await?;
    let cols = columns(register);
    let mut problems = Vec::new();
    let mut written = 0;
    let mut seen: Vec<String> = Vec::new();
    // The vocabulary a register's lines are read against: only the one it needs.
    let grades = match register {
        Register::Hazards => gridsafe_store::hazards::grades(work.conn()).await?,
        _ => Vec::new(),
    };
    let types = match register {
        Register::Tickets => gridsafe_store::tickets::document_types(work.conn()).await?,
        _ => Vec::new(),
    };
    for t in &tables {
        let at = match crate::customers::locate_columns(t, cols) {
            Ok(at) => at,
            Err(missing) => {
                problems.push(missing);
                continue;
            }
        };
        for row in &t.rows {
            if row.cells.iter().all(Cell::is_empty) {
                continue;
            }
            if written + problems.len() >= MAX_ROWS {
                problems.push(RowProblem::too_many_rows(t, row.line, MAX_ROWS));
                break;
            }
            let mut line = Line { table: t, row, at: &at, cols, problems: Vec::new() };
            let ctx =
                Context { import, unit, unit_path: u.path.as_str(), by: &by, now, grades: &grades, types: &types };
            let wrote = match register {
                Register::Tickets => ticket(&mut work, &mut line, &ctx, &mut seen).await?,
                Register::Hazards => hazard(&mut work, &mut line, &ctx, &mut seen).await?,
                Register::Inspections => inspection(&mut work, &mut line, &ctx, &mut seen).await?,
            };
            written += usize::from(wrote && line.problems.is_empty());
            problems.extend(line.problems);
        }
    }
    if written == 0 && problems.is_empty() {
        problems.push(RowProblem {
            file: names.join("、"),
            line: 0,
            column: String::new(),
            value: String::new(),
            message: "input-problem-no-rows",
            args: Vec::new(),
        });
    }
    if !problems.is_empty() {
        // Nothing is written: the unit of work is dropped, and rolled back with it.
        return Ok(Err(problems));
    }
    let records = i64::try_from(written).unwrap_or(i64::MAX);
    store::set_records(work.conn(), import, records).await?;
    work.audit(NewEvent::new("history.imported", "history_import", import).unit(unit).summary(serde_json::json!({
        "register": register.code(), "files": names, "sha256": sha256, "records": written,
    })))
    .await?;
    work.commit().await?;
    Ok(Ok(Imported { id: import, records: written }))
}

/// What every line of one import shares.
struct Context<'a> {
    import: i64,
    unit: UnitId,
    unit_path: &'a str,
    by: &'a str,
    now: Timestamp,
    grades: &'a [gridsafe_store::hazards::GradeRow],
    types: &'a [gridsafe_store::tickets::DocumentTypeRow],
}

/// A line of the ticket register; whether it was written (with no problem on it).
async fn ticket(
    work: &mut Work<'_>,
    line: &mut Line<'_>,
    ctx: &Context<'_>,
    seen: &mut Vec<String>,
) -> Result<bool, AppError> {
    let number = line.text("number", true, 40);
    let type_text = line.text("type", true, 40);
    let type_code =
        ctx.types.iter().find(|d| d.doc.code == type_text || d.doc.name == type_text).map(|d| d.doc.code.clone());
    if type_code.is_none() && !type_text.is_empty() {
        line.problem("type", &type_text, "input-problem-unknown-value", Vec::new());
    }
    let kind_text = line.text("work_kind", true, 20);
    let work_kind = ORDER_TYPES.iter().find(|(c, z, _)| *c == kind_text || *z == kind_text).map(|(c, _, _)| *c);
    if work_kind.is_none() && !kind_text.is_empty() {
        line.problem("work_kind", &kind_text, "input-problem-unknown-value", Vec::new());
    }
    let location = line.text("location", true, 200);
    let content = line.text("content", true, 1000);
    let planned_start = line.time("planned_start", true);
    let planned_end = line.time("planned_end", true);
    let issued = line.time("issued_at", false);
    let permitted = line.time("permitted_at", false);
    let finished = line.time("finished_at", true);
    let verdict_text = line.text("verdict", false, 10);
    let verdict = rules::read_verdict(&verdict_text)
        .map_err(|_| line.problem("verdict", &verdict_text, "history-verdict", Vec::new()))
        .ok()
        .flatten();
    let evaluated_by = line.text("evaluated_by", false, 40);
    let note = line.text("note", false, 1000);
    let issuer_code = line.text("issuer", false, 40);
    let leader_code = line.text("leader", true, 40);
    let permitter_code = line.text("permitter", false, 40);
    let issuer = line.person(work, "issuer", &issuer_code).await?;
    let leader = line.person(work, "leader", &leader_code).await?;
    let permitter = line.person(work, "permitter", &permitter_code).await?;
    let mut crew = Vec::new();
    for code in gridsafe_sheet::parse_list(&line.text("crew", false, 1000)).iter().take(50) {
        if let Some(p) = line.person(work, "crew", code).await? {
            crew.push(p);
        }
    }
    let orders: Vec<(String, &str)> = gridsafe_sheet::parse_list(&line.text("orders", false, 2000))
        .into_iter()
        .take(100)
        .map(|o| (o, work_kind.unwrap_or("")))
        .collect();
    let unit = sub_unit(work, line, ctx).await?;
    if !number.is_empty() {
        if seen.contains(&number) || store::number_taken(work.conn(), Record::Ticket, &number).await? {
            line.problem("number", &number, "history-number-taken", Vec::new());
        }
        seen.push(number.clone());
    }
    let (Some(planned_start), Some(planned_end), Some(finished)) = (planned_start, planned_end, finished) else {
        return Ok(false);
    };
    let times = TicketTimes { planned_start, planned_end, issued, permitted, finished };
    line.dates(rules::check_ticket_times(
        &times,
        ctx.now.as_utc().with_timezone(&gridsafe_domain::time::CHINA).naive_local(),
    ));
    let (Some(type_code), Some(work_kind), Some(leader), Some(unit), true) =
        (type_code, work_kind, leader, unit, line.problems.is_empty())
    else {
        return Ok(false);
    };
    let old = OldTicket {
        import: ctx.import,
        number: &number,
        type_code: &type_code,
        unit,
        work_kind,
        location: &location,
        content: &content,
        planned_start: Timestamp::from_local(planned_start),
        planned_end: Timestamp::from_local(planned_end),
        issuer,
        leader,
        permitter,
        crew: &crew,
        orders: &orders,
        issued_at: issued.map(Timestamp::from_local),
        permitted_at: permitted.map(Timestamp::from_local),
        finished_at: Timestamp::from_local(finished),
        verdict: verdict.map(|v| v.code()),
        evaluated_by: Some(evaluated_by.as_str()).filter(|e| !e.is_empty()),
        note: Some(note.as_str()).filter(|n| !n.is_empty()),
        by: ctx.by,
        at: ctx.now,
    };
    store::insert_ticket(work.conn(), &old).await.map_err(|e| AppError::from_insert(e, "conflict-history-number"))?;
    Ok(true)
}

/// The unit a line names (a unit below the import's, by name or code), or the import's own.
async fn sub_unit(work: &mut Work<'_>, line: &mut Line<'_>, ctx: &Context<'_>) -> Result<Option<UnitId>, AppError> {
    let named = line.text("unit", false, 60);
    if named.is_empty() {
        return Ok(Some(ctx.unit));
    }
    let found = gridsafe_store::identity::unit_by_name_or_code(work.conn(), &named).await?;
    match found {
        Some(u) if u.path.as_str().starts_with(ctx.unit_path) => Ok(Some(u.id)),
        Some(_) => {
            line.problem("unit", &named, "input-problem-not-permitted", Vec::new());
            Ok(None)
        }
        None => {
            line.problem("unit", &named, "input-problem-unknown-reference", Vec::new());
            Ok(None)
        }
    }
}

/// A line of the hazard ledger.
async fn hazard(
    work: &mut Work<'_>,
    line: &mut Line<'_>,
    ctx: &Context<'_>,
    seen: &mut Vec<String>,
) -> Result<bool, AppError> {
    let number = line.text("number", false, 40);
    let account = line.text("account_no", false, 40);
    let title = line.text("title", true, 200);
    let description = line.text("description", false, 2000);
    let grade_text = line.text("grade", true, 20);
    // 重大隐患 or 重大 (ledgers write both), or the code.
    let grade = ctx
        .grades
        .iter()
        .find(|g| g.code == grade_text || g.name == grade_text || g.name.trim_end_matches("隐患") == grade_text)
        .map(|g| g.code.clone());
    if grade.is_none() && !grade_text.is_empty() {
        line.problem("grade", &grade_text, "input-problem-unknown-value", Vec::new());
    }
    let side_text = line.text("responsibility", true, 10);
    let grid_side = match side_text.as_str() {
        "电网" | "供电企业" | "grid" => Some(true),
        "客户" | "customer" => Some(false),
        "" => None,
        other => {
            line.problem("responsibility", other, "history-responsibility", Vec::new());
            None
        }
    };
    let registered = line.day("registered_on", true);
    let deadline = line.day("deadline", true);
    let notified = line.day("notified_on", false);
    let receipt = line.day("receipt_on", false);
    let filed = line.day("filed_on", false);
    let closed = line.day("closed_on", false);
    let owner = line.text("owner", false, 60);
    let receipt_by = line.text("receipt_by", false, 60);
    // A customer's hazard is its customer's unit's; an ad hoc one the import's.
    let (customer, unit) = if account.is_empty() {
        (None, sub_unit(work, line, ctx).await?)
    } else {
        match store::customer(work.conn(), &account).await? {
            Some((id, unit, path)) if path.starts_with(ctx.unit_path) => (Some(id), Some(unit)),
            Some(_) => {
                line.problem("account_no", &account, "input-problem-not-permitted", Vec::new());
                (None, None)
            }
            None => {
                line.problem("account_no", &account, "input-problem-unknown-reference", Vec::new());
                (None, None)
            }
        }
    };
    if !number.is_empty() {
        if seen.contains(&number) || store::number_taken(work.conn(), Record::Hazard, &number).await? {
            line.problem("number", &number, "history-number-taken", Vec::new());
        }
        seen.push(number.clone());
    }
    let (Some(registered), Some(deadline)) = (registered, deadline) else { return Ok(false) };
    let days = HazardDays { registered, deadline, notified, receipt, filed, closed };
    line.dates(rules::check_hazard_days(&days, ctx.now.local_date()));
    let (Some(grade), Some(grid_side), Some(unit), true) = (grade, grid_side, unit, line.problems.is_empty()) else {
        return Ok(false);
    };
    let state = rules::hazard_state(grid_side, &days);
    let number = if number.is_empty() { format!("LS-{}-{}", ctx.import, line.row.line) } else { number };
    let mut steps = vec![("register", "历史台账导入".to_owned(), registered)];
    let notice = if grid_side { "plan" } else { "notify" };
    steps.extend(notified.map(|d| (notice, format!("整改期限 {deadline}"), d)));
    steps.extend(receipt.map(|d| ("receipt", receipt_by.clone(), d)));
    steps.extend(filed.map(|d| ("file", String::new(), d)));
    steps.extend(closed.map(|d| ("close", description.clone(), d)));
    let old = OldHazard {
        import: ctx.import,
        number: &number,
        customer,
        unit,
        title: &title,
        description: if description.is_empty() { "历史隐患台账导入" } else { &description },
        grade: &grade,
        responsibility: if grid_side { "grid" } else { "customer" },
        state: state.code(),
        registered_on: registered,
        deadline,
        owner: Some(owner.as_str()).filter(|o| !o.is_empty()),
        receipt_by: Some(receipt_by.as_str()).filter(|r| !r.is_empty()),
        filed_on: filed,
        steps: &steps,
        closed_at: closed.map(|d| Timestamp::from_local(d.and_hms_opt(16, 0, 0).unwrap_or_default())),
        by: ctx.by,
    };
    store::insert_hazard(work.conn(), &old).await.map_err(|e| AppError::from_insert(e, "conflict-history-number"))?;
    Ok(true)
}

/// A line of the inspection history.
async fn inspection(
    work: &mut Work<'_>,
    line: &mut Line<'_>,
    ctx: &Context<'_>,
    seen: &mut Vec<String>,
) -> Result<bool, AppError> {
    let account = line.text("account_no", true, 40);
    let day = line.day("inspected_on", true);
    let kind_text = line.text("kind", false, 20);
    let kind = match kind_text.as_str() {
        "" | "周期检查" | "periodic" => Some(InspectionKind::Periodic),
        "专项检查" | "special" => Some(InspectionKind::Special),
        "专项活动" | "campaign" => Some(InspectionKind::Campaign),
        other => {
            line.problem("kind", other, "input-problem-unknown-value", Vec::new());
            None
        }
    };
    let conclusion = line.text("conclusion", true, 2000);
    let notice = line.text("notice_number", false, 40);
    let emergency_text = line.text("emergency_checked", false, 4);
    let emergency = matches!(emergency_text.as_str(), "是" | "yes" | "1" | "Y" | "y");
    let mut inspectors = Vec::new();
    for code in gridsafe_sheet::parse_list(&line.text("inspectors", false, 500)).iter().take(20) {
        if let Some(p) = line.person(work, "inspectors", code).await? {
            inspectors.push(p);
        }
    }
    let customer = match store::customer(work.conn(), &account).await? {
        Some((id, unit, path)) if path.starts_with(ctx.unit_path) => Some((id, unit)),
        Some(_) => {
            line.problem("account_no", &account, "input-problem-not-permitted", Vec::new());
            None
        }
        None if account.is_empty() => None,
        None => {
            line.problem("account_no", &account, "input-problem-unknown-reference", Vec::new());
            None
        }
    };
    if let Some(d) = day
        && d > ctx.now.local_date()
    {
        line.problem("inspected_on", &d.to_string(), "history-future", Vec::new());
    }
    if !notice.is_empty() {
        if seen.contains(&notice) || store::notice_taken(work.conn(), &notice).await? {
            line.problem("notice_number", &notice, "history-number-taken", Vec::new());
        }
        seen.push(notice.clone());
    }
    let (Some(day), Some(kind), Some((customer, unit)), true) = (day, kind, customer, line.problems.is_empty()) else {
        return Ok(false);
    };
    let notice = if notice.is_empty() { format!("LS-{}-{}", ctx.import, line.row.line) } else { notice };
    // An imported inspection is recorded as a native one, pointing at its import; the register
    // kept no checklist answers and no accompanying staff.
    let old = gridsafe_store::inspections::NewInspection {
        customer_id: customer,
        unit_id: unit,
        day,
        kind,
        conclusion: &conclusion,
        notice_number: &notice,
        by: ctx.by,
        emergency_checked: emergency,
        inspectors: &inspectors,
        participants: &[],
        results: &[],
        history_import: Some(ctx.import),
    };
    gridsafe_store::inspections::insert_inspection(work.conn(), &old, ctx.now)
        .await
        .map_err(|e| AppError::from_insert(e, "conflict-history-number"))?;
    Ok(true)
}
