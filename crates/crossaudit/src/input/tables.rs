//! The typed tables of the export, read from raw tables by their English or Chinese headers.

use chrono::NaiveDate;
pub use gridsafe_domain::orders::{ORDER_TYPES, OrderType};

use super::{Cell, InputError, Problem, RawRow, RawTable};
use gridsafe_domain::people::QualificationKind;
use gridsafe_sheet::parse_date;

/// Which table a file or sheet holds, from its name (English or Chinese, without extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableKind {
    Persons,
    Qualifications,
    Contractors,
    SafetyAgreements,
    WorkOrders,
    Tickets,
    MeterEvents,
}

impl TableKind {
    pub const ALL: [TableKind; 7] = [
        TableKind::Persons,
        TableKind::Qualifications,
        TableKind::Contractors,
        TableKind::SafetyAgreements,
        TableKind::WorkOrders,
        TableKind::Tickets,
        TableKind::MeterEvents,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TableKind::Persons => "persons",
            TableKind::Qualifications => "qualifications",
            TableKind::Contractors => "contractors",
            TableKind::SafetyAgreements => "safety_agreements",
            TableKind::WorkOrders => "work_orders",
            TableKind::Tickets => "tickets",
            TableKind::MeterEvents => "meter_events",
        }
    }

    pub fn chinese(self) -> &'static str {
        match self {
            TableKind::Persons => "人员",
            TableKind::Qualifications => "资格",
            TableKind::Contractors => "外包单位",
            TableKind::SafetyAgreements => "安全协议",
            TableKind::WorkOrders => "营销工单",
            TableKind::Tickets => "工作票",
            TableKind::MeterEvents => "电能表事件",
        }
    }

    /// The table a file stem or sheet name stands for.
    pub fn from_name(name: &str) -> Option<Self> {
        let name = name.trim();
        TableKind::ALL.into_iter().find(|k| k.name().eq_ignore_ascii_case(name) || k.chinese() == name)
    }
}

/// A column: its English and Chinese header, and whether the column must be present.
pub(crate) struct Column {
    pub(crate) en: &'static str,
    pub(crate) zh: &'static str,
    pub(crate) required: bool,
}

const fn col(en: &'static str, zh: &'static str) -> Column {
    Column { en, zh, required: true }
}

const fn opt(en: &'static str, zh: &'static str) -> Column {
    Column { en, zh, required: false }
}

/// Where each known column is in a raw table.
struct Layout<'a> {
    table: &'a RawTable,
    positions: Vec<Option<usize>>,
    columns: &'static [Column],
}

impl<'a> Layout<'a> {
    fn new(table: &'a RawTable, columns: &'static [Column]) -> Result<Self, InputError> {
        let positions: Vec<Option<usize>> =
            columns.iter().map(|c| gridsafe_sheet::column(&table.headers, c.en, c.zh)).collect();
        if let Some((c, _)) = columns.iter().zip(&positions).find(|(c, p)| c.required && p.is_none()) {
            return Err(InputError {
                column: Some(format!("{} / {}", c.en, c.zh)),
                ..InputError::file(&table.source, Problem::MissingColumn)
            });
        }
        Ok(Self { table, positions, columns })
    }

    fn cell<'r>(&self, row: &'r RawRow, index: usize) -> &'r Cell {
        self.positions[index].and_then(|p| row.cells.get(p)).unwrap_or(&Cell::Empty)
    }

    fn error(&self, row: &RawRow, index: usize, problem: Problem) -> InputError {
        let header = self.positions[index].and_then(|p| self.table.headers.get(p)).cloned();
        InputError {
            file: self.table.source.clone(),
            line: Some(row.line),
            column: header.or_else(|| Some(self.columns[index].en.to_owned())),
            value: Some(super::quoted(&self.cell(row, index).shown())),
            problem,
        }
    }

    /// A required text value.
    fn text(&self, row: &RawRow, index: usize) -> Result<String, InputError> {
        let cell = self.cell(row, index);
        if cell.is_empty() { Err(self.error(row, index, Problem::Empty)) } else { Ok(cell.text()) }
    }

    /// An optional text value: `None` when empty.
    fn opt_text(&self, row: &RawRow, index: usize) -> Option<String> {
        let cell = self.cell(row, index);
        (!cell.is_empty()).then(|| cell.text())
    }

    fn date(&self, row: &RawRow, index: usize) -> Result<NaiveDate, InputError> {
        parse_date(self.cell(row, index)).map_err(|p| self.error(row, index, p))
    }

    fn datetime(&self, row: &RawRow, index: usize) -> Result<chrono::NaiveDateTime, InputError> {
        gridsafe_sheet::parse_datetime(self.cell(row, index)).map_err(|p| self.error(row, index, p))
    }

    fn opt_datetime(&self, row: &RawRow, index: usize) -> Result<Option<chrono::NaiveDateTime>, InputError> {
        if self.cell(row, index).is_empty() { Ok(None) } else { self.datetime(row, index).map(Some) }
    }

    fn list(&self, row: &RawRow, index: usize) -> Vec<String> {
        gridsafe_sheet::parse_list(&self.cell(row, index).text())
    }

    fn enumerated<T: Copy>(&self, row: &RawRow, index: usize, values: &[(&str, &str, T)]) -> Result<T, InputError> {
        let text = self.text(row, index)?;
        enum_value(&text, values).ok_or_else(|| self.error(row, index, Problem::UnknownValue))
    }
}

/// An enumerated value by its English code (any case) or Chinese alias.
pub(crate) fn enum_value<T: Copy>(text: &str, values: &[(&str, &str, T)]) -> Option<T> {
    values.iter().find(|(en, zh, _)| en.eq_ignore_ascii_case(text) || *zh == text).map(|(_, _, v)| *v)
}

/// A row of `persons` (人员).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub line: usize,
    pub person_id: String,
    pub name: String,
    pub org_unit: String,
    pub contractor_id: Option<String>,
    /// Columns GridSafe keeps besides the export's own: phone (电话) and post (岗位).
    pub phone: Option<String>,
    pub post: Option<String>,
}

/// A row of `qualifications` (资格).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualification {
    pub line: usize,
    pub person_id: String,
    /// The kind, one of the register's ([`QualificationKind::Other`] when the file names
    /// another; the audit rules use only the exam and the three annual lists).
    pub kind: QualificationKind,
    /// The kind as the file writes it, kept for an `Other` kind.
    pub written: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
}

/// A row of `contractors` (外包单位).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contractor {
    pub line: usize,
    pub contractor_id: String,
    pub name: String,
    pub license_valid_to: NaiveDate,
    /// 承装(修、试)电力设施许可证 level 1–5, when the file has the column 资质等级 / license_level.
    pub license_level: Option<u8>,
}

/// A row of `safety_agreements` (安全协议).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyAgreement {
    pub line: usize,
    pub agreement_id: String,
    pub contractor_id: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    /// The project the agreement covers, when the file has the column 项目 / project.
    pub project: Option<String>,
    /// GridSafe's own: the only customer (户号) whose work a confirmed agreement covers. Not in the
    /// export (always `None` when read from a file).
    pub customer_id: Option<String>,
}

/// A row of `work_orders` (营销工单).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkOrder {
    pub line: usize,
    pub order_id: String,
    pub order_type: OrderType,
    pub customer_id: String,
    pub org_unit: String,
    pub started_at: chrono::NaiveDateTime,
    pub finished_at: chrono::NaiveDateTime,
    pub workers: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketStatus {
    Ended,
    Open,
    Void,
    NotExecuted,
}

impl TicketStatus {
    /// `ended` and `open` tickets authorise work; `void` and `not_executed` never do.
    pub fn is_live(self) -> bool {
        matches!(self, TicketStatus::Ended | TicketStatus::Open)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Evaluation {
    Pass,
    Fail,
}

/// A row of `tickets` (工作票 / 工作卡 / 抢修单).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub line: usize,
    pub ticket_id: String,
    pub kind: String,
    pub customer_id: String,
    pub order_ids: Vec<String>,
    pub issuer: String,
    pub co_issuer: String,
    pub leader: String,
    pub permitter: String,
    pub crew: Vec<String>,
    pub permitted_at: Option<chrono::NaiveDateTime>,
    pub ended_at: Option<chrono::NaiveDateTime>,
    pub status: TicketStatus,
    pub evaluation: Option<Evaluation>,
    /// GridSafe's own: the kind of work the ticket is for. Not in the export (always `None` when
    /// read from a file: there, only the linked orders tell).
    pub work_kind: Option<OrderType>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    CoverOpen,
    TerminalCoverOpen,
    PowerDown,
    PowerUp,
    /// Kept, not audited.
    Other,
}

/// The audited event kinds: code, Chinese name, kind. Any other kind is [`EventKind::Other`].
pub(crate) const EVENT_KINDS: &[(&str, &str, EventKind)] = &[
    ("cover_open", "开表盖", EventKind::CoverOpen),
    ("terminal_cover_open", "开端钮盒", EventKind::TerminalCoverOpen),
    ("power_down", "停电", EventKind::PowerDown),
    ("power_up", "上电", EventKind::PowerUp),
];

impl EventKind {
    /// The code it is stored under (`other` for the kinds not audited).
    pub fn code(self) -> &'static str {
        EVENT_KINDS.iter().find(|(_, _, k)| *k == self).map_or("other", |(c, _, _)| c)
    }

    /// The kind of a stored code; anything unknown is [`EventKind::Other`].
    pub fn from_code(code: &str) -> Self {
        EVENT_KINDS.iter().find(|(c, _, _)| *c == code).map_or(EventKind::Other, |(_, _, k)| *k)
    }
}

/// A ticket's status by its code (any case) or Chinese name.
pub(crate) const STATUSES: &[(&str, &str, TicketStatus)] = &[
    ("ended", "已终结", TicketStatus::Ended),
    ("ended", "已执行", TicketStatus::Ended),
    ("open", "执行中", TicketStatus::Open),
    ("void", "作废", TicketStatus::Void),
    ("not_executed", "未执行", TicketStatus::NotExecuted),
];

/// A ticket's evaluation by its code or Chinese name (`未评价` is none).
pub(crate) const EVALUATIONS: &[(&str, &str, Evaluation)] =
    &[("pass", "合格", Evaluation::Pass), ("fail", "不合格", Evaluation::Fail)];

// The columns of the three large tables, read here and by the fast engine (`crate::fast`).
pub(crate) static ORDER_COLUMNS: [Column; 7] = [
    col("order_id", "工单编号"),
    col("order_type", "业务类型"),
    col("customer_id", "户号"),
    col("org_unit", "供电单位"),
    col("started_at", "开始时间"),
    col("finished_at", "结束时间"),
    col("workers", "作业人员"),
];

pub(crate) static TICKET_COLUMNS: [Column; 13] = [
    col("ticket_id", "票号"),
    col("kind", "票种"),
    col("customer_id", "户号"),
    col("order_ids", "关联工单"),
    col("issuer", "签发人"),
    col("co_issuer", "会签人"),
    col("leader", "工作负责人"),
    col("permitter", "许可人"),
    col("crew", "工作班成员"),
    col("permitted_at", "许可开工时间"),
    col("ended_at", "终结时间"),
    col("status", "状态"),
    col("evaluation", "评价"),
];

pub(crate) static EVENT_COLUMNS: [Column; 5] = [
    col("event_id", "事件编号"),
    col("meter_id", "电能表编号"),
    col("customer_id", "户号"),
    col("kind", "事件类型"),
    col("occurred_at", "发生时间"),
];

/// A row of `meter_events` (电能表事件).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterEvent {
    pub line: usize,
    pub event_id: String,
    pub meter_id: String,
    pub customer_id: String,
    pub kind: EventKind,
    pub occurred_at: chrono::NaiveDateTime,
}

/// The tables read so far, and every problem found, each with its place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tables {
    pub persons: Vec<Person>,
    pub qualifications: Vec<Qualification>,
    pub contractors: Vec<Contractor>,
    pub agreements: Vec<SafetyAgreement>,
    pub work_orders: Vec<WorkOrder>,
    pub tickets: Vec<Ticket>,
    pub meter_events: Vec<MeterEvent>,
    pub errors: Vec<InputError>,
    /// Rows that had a problem (each counted once).
    pub bad_rows: usize,
    /// The file (or sheet) each table was read from, for problems found later.
    pub sources: Vec<(TableKind, String)>,
}

impl Tables {
    /// The file `kind` was read from, or its table name.
    pub fn source(&self, kind: TableKind) -> String {
        self.sources.iter().rev().find(|(k, _)| *k == kind).map_or_else(|| kind.name().to_owned(), |(_, s)| s.clone())
    }
}

/// Checks ids are unique within one table: each repeat is an error pointing at the first.
fn check_unique<'a>(
    layout: &Layout<'_>,
    rows: impl Iterator<Item = (&'a RawRow, &'a str)>,
    errors: &mut Vec<InputError>,
) -> Vec<usize> {
    // A fast hash (foldhash, seeded per process), as the engine's join indexes: SipHash was a
    // tenth of reading a 200,000-order export.
    let mut seen: foldhash::HashMap<&str, usize> = foldhash::HashMapExt::with_capacity(rows.size_hint().0);
    let mut bad = Vec::new();
    for (row, id) in rows {
        match seen.get(id) {
            Some(first) => {
                errors.push(layout.error(row, 0, Problem::Duplicate { first_line: *first }));
                bad.push(row.line);
            }
            None => {
                seen.insert(id, row.line);
            }
        }
    }
    bad
}

/// Reads one raw table as the table `kind` into `into`, collecting every problem.
pub fn read_table(kind: TableKind, table: &RawTable, into: &mut Tables) {
    into.sources.push((kind, table.source.clone()));
    match read_rows(kind, table, into) {
        Ok(()) => {}
        Err(error) => {
            into.errors.push(error);
            into.bad_rows += table.rows.len();
        }
    }
}

fn read_rows(kind: TableKind, table: &RawTable, into: &mut Tables) -> Result<(), InputError> {
    macro_rules! rows {
        ($layout:expr, |$row:ident| $body:block) => {{
            let mut out = Vec::new();
            for $row in &table.rows {
                let result: Result<_, InputError> = (|| $body)();
                match result {
                    Ok(item) => out.push(($row, item)),
                    Err(e) => {
                        into.errors.push(e);
                        into.bad_rows += 1;
                    }
                }
            }
            out
        }};
    }
    match kind {
        TableKind::Persons => {
            static COLUMNS: [Column; 6] = [
                col("person_id", "工号"),
                col("name", "姓名"),
                col("org_unit", "单位"),
                col("contractor_id", "外包单位编号"),
                opt("phone", "电话"),
                opt("post", "岗位"),
            ];
            let l = Layout::new(table, &COLUMNS)?;
            let rows = rows!(l, |row| {
                Ok(Person {
                    line: row.line,
                    person_id: l.text(row, 0)?,
                    name: l.text(row, 1)?,
                    org_unit: l.text(row, 2)?,
                    contractor_id: l.opt_text(row, 3),
                    phone: l.opt_text(row, 4),
                    post: l.opt_text(row, 5),
                })
            });
            let dupes = check_unique(&l, rows.iter().map(|(r, p)| (*r, p.person_id.as_str())), &mut into.errors);
            into.bad_rows += dupes.len();
            into.persons.extend(rows.into_iter().map(|(_, p)| p).filter(|p| !dupes.contains(&p.line)));
        }
        TableKind::Qualifications => {
            static COLUMNS: [Column; 4] = [
                col("person_id", "工号"),
                col("kind", "资格类型"),
                col("valid_from", "有效期起"),
                col("valid_to", "有效期止"),
            ];
            let l = Layout::new(table, &COLUMNS)?;
            let rows = rows!(l, |row| {
                let (valid_from, valid_to) = (l.date(row, 2)?, l.date(row, 3)?);
                if valid_to < valid_from {
                    return Err(l.error(row, 3, Problem::EndBeforeStart));
                }
                let written = l.text(row, 1)?;
                Ok(Qualification {
                    line: row.line,
                    person_id: l.text(row, 0)?,
                    kind: QualificationKind::read(&written).unwrap_or(QualificationKind::Other),
                    written,
                    valid_from,
                    valid_to,
                })
            });
            into.qualifications.extend(rows.into_iter().map(|(_, q)| q));
        }
        TableKind::Contractors => {
            static COLUMNS: [Column; 4] = [
                col("contractor_id", "外包单位编号"),
                col("name", "名称"),
                col("license_valid_to", "资质有效期止"),
                opt("license_level", "资质等级"),
            ];
            let l = Layout::new(table, &COLUMNS)?;
            let rows = rows!(l, |row| {
                let license_level = match l.opt_text(row, 3) {
                    None => None,
                    Some(text) => Some(
                        text.trim_start_matches(['一', '级'])
                            .parse::<u8>()
                            .ok()
                            .or_else(|| {
                                ["一级", "二级", "三级", "四级", "五级"]
                                    .iter()
                                    .position(|z| *z == text)
                                    .and_then(|p| u8::try_from(p + 1).ok())
                            })
                            .filter(|n| (1..=5).contains(n))
                            .ok_or_else(|| l.error(row, 3, Problem::UnknownValue))?,
                    ),
                };
                Ok(Contractor {
                    line: row.line,
                    contractor_id: l.text(row, 0)?,
                    name: l.text(row, 1)?,
                    license_valid_to: l.date(row, 2)?,
                    license_level,
                })
            });
            let dupes = check_unique(&l, rows.iter().map(|(r, c)| (*r, c.contractor_id.as_str())), &mut into.errors);
            into.bad_rows += dupes.len();
            into.contractors.extend(rows.into_iter().map(|(_, c)| c).filter(|c| !dupes.contains(&c.line)));
        }
        TableKind::SafetyAgreements => {
            static COLUMNS: [Column; 5] = [
                col("agreement_id", "协议编号"),
                col("contractor_id", "外包单位编号"),
                col("valid_from", "有效期起"),
                col("valid_to", "有效期止"),
                opt("project", "项目"),
            ];
            let l = Layout::new(table, &COLUMNS)?;
            let rows = rows!(l, |row| {
                let (valid_from, valid_to) = (l.date(row, 2)?, l.date(row, 3)?);
                if valid_to < valid_from {
                    return Err(l.error(row, 3, Problem::EndBeforeStart));
                }
                Ok(SafetyAgreement {
                    line: row.line,
                    agreement_id: l.text(row, 0)?,
                    contractor_id: l.text(row, 1)?,
                    valid_from,
                    valid_to,
                    project: l.opt_text(row, 4),
                    customer_id: None,
                })
            });
            let dupes = check_unique(&l, rows.iter().map(|(r, a)| (*r, a.agreement_id.as_str())), &mut into.errors);
            into.bad_rows += dupes.len();
            into.agreements.extend(rows.into_iter().map(|(_, a)| a).filter(|a| !dupes.contains(&a.line)));
        }
        TableKind::WorkOrders => {
            let l = Layout::new(table, &ORDER_COLUMNS)?;
            let rows = rows!(l, |row| {
                Ok(WorkOrder {
                    line: row.line,
                    order_id: l.text(row, 0)?,
                    order_type: l.enumerated(row, 1, ORDER_TYPES)?,
                    customer_id: l.text(row, 2)?,
                    org_unit: l.opt_text(row, 3).unwrap_or_default(),
                    started_at: l.datetime(row, 4)?,
                    finished_at: l.datetime(row, 5)?,
                    workers: l.list(row, 6),
                })
            });
            let dupes = check_unique(&l, rows.iter().map(|(r, o)| (*r, o.order_id.as_str())), &mut into.errors);
            into.bad_rows += dupes.len();
            into.work_orders.extend(rows.into_iter().map(|(_, o)| o).filter(|o| !dupes.contains(&o.line)));
        }
        TableKind::Tickets => {
            let l = Layout::new(table, &TICKET_COLUMNS)?;
            let rows = rows!(l, |row| {
                let evaluation = match l.opt_text(row, 12) {
                    None => None,
                    Some(text) if text == "未评价" => None,
                    Some(_) => Some(l.enumerated(row, 12, EVALUATIONS)?),
                };
                Ok(Ticket {
                    line: row.line,
                    ticket_id: l.text(row, 0)?,
                    kind: l.opt_text(row, 1).unwrap_or_default(),
                    customer_id: l.opt_text(row, 2).unwrap_or_default(),
                    order_ids: l.list(row, 3),
                    issuer: l.opt_text(row, 4).unwrap_or_default(),
                    co_issuer: l.opt_text(row, 5).unwrap_or_default(),
                    leader: l.opt_text(row, 6).unwrap_or_default(),
                    permitter: l.opt_text(row, 7).unwrap_or_default(),
                    crew: l.list(row, 8),
                    permitted_at: l.opt_datetime(row, 9)?,
                    ended_at: l.opt_datetime(row, 10)?,
                    status: l.enumerated(row, 11, STATUSES)?,
                    evaluation,
                    work_kind: None,
                })
            });
            let dupes = check_unique(&l, rows.iter().map(|(r, t)| (*r, t.ticket_id.as_str())), &mut into.errors);
            into.bad_rows += dupes.len();
            into.tickets.extend(rows.into_iter().map(|(_, t)| t).filter(|t| !dupes.contains(&t.line)));
        }
        TableKind::MeterEvents => {
            let l = Layout::new(table, &EVENT_COLUMNS)?;
            let rows = rows!(l, |row| {
                let kind = enum_value(&l.text(row, 3)?, EVENT_KINDS).unwrap_or(EventKind::Other);
                Ok(MeterEvent {
                    line: row.line,
                    event_id: l.text(row, 0)?,
                    meter_id: l.opt_text(row, 1).unwrap_or_default(),
                    customer_id: l.text(row, 2)?,
                    kind,
                    occurred_at: l.datetime(row, 4)?,
                })
            });
            let dupes = check_unique(&l, rows.iter().map(|(r, e)| (*r, e.event_id.as_str())), &mut into.errors);
            into.bad_rows += dupes.len();
            into.meter_events.extend(rows.into_iter().map(|(_, e)| e).filter(|e| !dupes.contains(&e.line)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Limits, read_csv};
    use super::*;

    fn read(kind: TableKind, name: &str, text: &str) -> Tables {
        let mut t = Tables::default();
        read_table(kind, &read_csv(name, text.as_bytes(), &Limits::default()).expect("csv"), &mut t);
        t
    }

    #[test]
    fn the_worked_example_reads_without_problems() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small");
        let mut t = Tables::default();
        for kind in [TableKind::Persons, TableKind::Qualifications, TableKind::Contractors, TableKind::SafetyAgreements]
        {
            let path = dir.join(format!("{}.csv", kind.name()));
            let bytes = std::fs::read(&path).expect("the worked example's copy");
            read_table(kind, &read_csv(kind.name(), &bytes, &Limits::default()).expect("csv"), &mut t);
        }
        assert!(t.errors.is_empty(), "{:?}", t.errors);
        assert_eq!((t.persons.len(), t.qualifications.len(), t.contractors.len(), t.agreements.len()), (10, 17, 2, 2));
        // A kind the audit does not use is kept: here the register's electrician certificate,
        // under the name the export wrote.
        let last = t.qualifications.last().expect("rows");
        assert_eq!(
            (last.kind, last.written.as_str()),
            (QualificationKind::ElectricianCertificate, "电工进网作业许可证")
        );
    }

    #[test]
    fn chinese_headers_any_order_and_unknown_columns() {
        let t = read(TableKind::Persons, "人员.csv", "备注,姓名,工号,外包单位编号,单位\nx,张伟,P001,,孝南供电中心\n");
        assert!(t.errors.is_empty(), "{:?}", t.errors);
        assert_eq!(t.persons[0].person_id, "P001");
        assert_eq!(t.persons[0].contractor_id, None);
    }

    #[test]
    fn each_problem_names_file_line_column_and_value() {
        let t = read(
            TableKind::Qualifications,
            "qualifications.csv",
            "person_id,kind,valid_from,valid_to\nP1,安规考试,2025-01-01,2025-13-01\nP2,work_leader,2025/1/1,2024-12-31\n",
        );
        assert_eq!(t.errors.len(), 2);
        let e = &t.errors[0];
        assert_eq!(
            (e.file.as_str(), e.line, e.column.as_deref(), e.value.as_deref()),
            ("qualifications.csv", Some(2), Some("valid_to"), Some("2025-13-01"))
        );
        assert_eq!(e.problem, Problem::BadDate);
        assert_eq!(t.errors[1].problem, Problem::EndBeforeStart);
        assert_eq!(t.bad_rows, 2);

        let t = read(TableKind::Persons, "persons.csv", "person_id,name,org_unit,contractor_id\nP1,a,u,\nP1,b,u,\n");
        assert_eq!(t.errors[0].problem, Problem::Duplicate { first_line: 2 });
        assert_eq!(t.errors[0].line, Some(3));
        assert_eq!(t.persons.len(), 1, "the repeat is not kept");

        let t = read(TableKind::Contractors, "contractors.csv", "contractor_id,name\nC1,x\n");
        assert_eq!(t.errors[0].problem, Problem::MissingColumn);
        assert_eq!(t.errors[0].column.as_deref(), Some("license_valid_to / 资质有效期止"));
    }

    #[test]
    fn table_names_in_both_languages() {
        assert_eq!(TableKind::from_name("安全协议"), Some(TableKind::SafetyAgreements));
        assert_eq!(TableKind::from_name("Persons"), Some(TableKind::Persons));
        assert_eq!(TableKind::from_name("people"), None);
    }
}
