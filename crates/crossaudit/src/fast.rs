//! The cross-audit at the speed of the hardware (倒查引擎 v2), for the export as the marketing
//! system writes it: a folder of UTF-8 CSV files.
//!
//! The three large tables (work orders, tickets, meter events) are parsed in place: each file's
//! bytes are read once, cells stay slices of them (no `String` per cell), ids are interned to
//! `u32`, times packed to seconds, enumerations to bytes, the two largest files on two cores.
//! The rules then run as passes over those columns, joined through arrays indexed by the
//! interned ids (per order, per customer, per person) instead of hash maps of strings.
//! A rule's finding is a 48-byte hit (its key borrowed from the text, its words as indexes
//! into the columns), kept apart by rule and sorted there; the words are written on both cores
//! only as the findings are handed out, in order, to be written ([`audit_export_each`]).
//!
//! It gives exactly the findings of [`crate::engine::audit`] (a property test and the
//! benchmark compare them). It does not name problems: anything it does not read with certainty
//! (another encoding, a workbook, a doubled quote, a value outside the usual forms that the
//! exact reader refuses, a repeated id) makes it answer `None`, and the caller reads the export
//! the exact way, which names every problem by file, line, column and value.

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use gridsafe_domain::orders::OrderType;
use gridsafe_domain::people::QualificationKind;

use crate::engine::{Finding, FindingRef, Rule, Thresholds};
use crate::input::tables::{
    Column, EVALUATIONS, EVENT_COLUMNS, EVENT_KINDS, ORDER_COLUMNS, STATUSES, TICKET_COLUMNS, enum_value,
};
use crate::input::{self, Cell, EventKind, Limits, ORDER_TYPES, TableKind, Tables, TicketStatus};

/// No id: a customer or person the tables never name.
const NONE: u32 = u32::MAX;

/// No time: a ticket not (yet) permitted or ended. No date a cell can hold is this far back.
const NO_TIME: i64 = i64::MIN;

/// Audits the export at `path`, or `None` when it is not a folder of CSV files this reader
/// takes with certainty (the caller then reads it with [`crate::export::read_export`]).
pub fn audit_export(path: &Path, as_of: NaiveDate, th: &Thresholds) -> Option<Vec<Finding>> {
    let mut all = Vec::new();
    let done: Result<(), std::convert::Infallible> = audit_export_each(path, as_of, th, |f| {
        all.push(f.to_owned());
        Ok(())
    })?;
    let Ok(()) = done;
    Some(all)
}

/// Audits the export at `path`, handing each finding to `each` in the order of their keys
/// (as [`crate::engine::audit`] returns them), none kept: a finding's words are written only
/// when it is handed out. `None` as [`audit_export`], and then before the first finding;
/// otherwise the first error `each` returned, which stops the audit.
pub fn audit_export_each<E>(
    path: &Path,
    as_of: NaiveDate,
    th: &Thresholds,
    each: impl FnMut(FindingRef<'_>) -> Result<(), E>,
) -> Option<Result<(), E>> {
    let files = Files::find(path)?;
    let small = small_tables(&files)?;
    // The two largest files read and parsed on the two cores.
    let (orders_text, tickets_text, events_text) = std::thread::scope(|s| {
        let orders = s.spawn(|| read_text(&files.orders));
        let tickets = read_text(&files.tickets);
        let events = files.events.as_deref().map(read_text);
        (orders.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), tickets, events)
    });
    let (orders_text, tickets_text) = (orders_text?, tickets_text?);
    let events_text = events_text.map_or(Some(None), |e| e.map(Some))?;
    audit_texts(&small, &orders_text, &tickets_text, events_text.as_deref(), as_of, th, Scope::ALL, each)
}

/// Which rows a run audits: all of them, or one partition's ([`crate::partition`]).
#[derive(Clone, Copy)]
pub(crate) struct Scope {
    /// The orders and tickets before these counts are audited; those after are context, only
    /// joined through (an order a ticket of this partition names, a ticket naming an order of
    /// this partition, each audited in its own customer's partition).
    pub own_orders: usize,
    pub own_tickets: usize,
    /// Whose double booking is looked for.
    pub people: People,
}

#[derive(Clone, Copy)]
pub(crate) enum People {
    Everyone,
    Nobody,
    /// Those whose id falls in partition `part` of `parts` ([`part_of`]).
    Part {
        part: u32,
        parts: u32,
    },
}

impl Scope {
    pub const ALL: Scope = Scope { own_orders: usize::MAX, own_tickets: usize::MAX, people: People::Everyone };
}

/// An id's 64-bit hash, the same in every run.
pub(crate) fn id_hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x6772_6964_7361_6665).hash_one(id)
}

/// The partition of `parts` a customer's or person's id falls in, the same in every run.
pub(crate) fn part_of(id: &str, parts: u32) -> u32 {
    u32::try_from(id_hash(id) % u64::from(parts.max(1))).unwrap_or(0)
}

/// Audits the three large tables' texts (each with its header) against the small tables,
/// within `scope`, as [`audit_export_each`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn audit_texts<E>(
    small: &Tables,
    orders_text: &str,
    tickets_text: &str,
    events_text: Option<&str>,
    as_of: NaiveDate,
    th: &Thresholds,
    scope: Scope,
    each: impl FnMut(FindingRef<'_>) -> Result<(), E>,
) -> Option<Result<(), E>> {
    let (orders, tickets, events) = std::thread::scope(|s| {
        let orders = s.spawn(|| Orders::parse(orders_text));
        let tickets = Tickets::parse(tickets_text);
        let events = events_text.map_or_else(|| Some(Events::default()), Events::parse);
        (orders.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), tickets, events)
    });
    let (orders, tickets, events) = (orders?, tickets?, events?);
    if !distinct(&events.all_ids) {
        return None;
    }
    let audit = Audit::new(small, orders, tickets, events, as_of, th, scope)?;
    Some(audit.write(audit.run(), each))
}

/// The files of one export, each table from exactly one CSV file.
pub(crate) struct Files {
    pub small: Vec<(TableKind, PathBuf)>,
    pub orders: PathBuf,
    pub tickets: PathBuf,
    pub events: Option<PathBuf>,
}

impl Files {
    pub fn find(dir: &Path) -> Option<Self> {
        if !dir.is_dir() {
            return None;
        }
        let one = |kind: TableKind| -> Option<Option<PathBuf>> {
            let found: Vec<PathBuf> = [kind.name(), kind.chinese()]
                .into_iter()
                .flat_map(|name| ["csv", "xlsx"].map(|ext| dir.join(format!("{name}.{ext}"))))
                .filter(|p| p.is_file())
                .collect();
            match found.as_slice() {
                [] => Some(None),
                [one] if one.extension().is_some_and(|e| e == "csv") => Some(Some(one.clone())),
                _ => None,
            }
        };
        let mut small = Vec::new();
        for kind in [TableKind::Persons, TableKind::Qualifications, TableKind::Contractors, TableKind::SafetyAgreements]
        {
            small.push((kind, one(kind)??));
        }
        Some(Self {
            small,
            orders: one(TableKind::WorkOrders)??,
            tickets: one(TableKind::Tickets)??,
            events: one(TableKind::MeterEvents)?,
        })
    }
}

/// The four small tables (people, their qualifications, contractors, agreements), read the
/// exact way: they are small, and their rows carry what the rules look up.
pub(crate) fn small_tables(files: &Files) -> Option<Tables> {
    let mut tables = Tables::default();
    for (kind, file) in &files.small {
        let bytes = std::fs::read(file).ok()?;
        let raw = input::read_csv(&file.display().to_string(), &bytes, &Limits::batch()).ok()?;
        input::read_table(*kind, &raw, &mut tables);
    }
    tables.errors.is_empty().then_some(tables)
}

/// A file's text, without a UTF-8 byte-order mark, if it is UTF-8 (checked once).
pub(crate) fn read_text(path: &Path) -> Option<String> {
    let mut bytes = std::fs::read(path).ok()?;
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    String::from_utf8(bytes).ok()
}

/// Data rows a table's text can hold at most (its lines), to size its columns once.
fn lines(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1
}

/// RFC 4180 records over text, cells as slices of it. `None` for what only the exact reader
/// may judge (a doubled quote inside a quoted cell, text after a closing quote).
pub(crate) struct Records<'a> {
    pub text: &'a str,
    pub at: usize,
}

impl<'a> Records<'a> {
    /// The next record's cells into `cells`; `Some(false)` at the end.
    pub fn next(&mut self, cells: &mut Vec<&'a str>) -> Option<bool> {
        cells.clear();
        let bytes = self.text.as_bytes();
        // Empty lines are no records.
        while self.at < bytes.len() && matches!(bytes[self.at], b'\n' | b'\r') {
            self.at += 1;
        }
        if self.at >= bytes.len() {
            return Some(false);
        }
        loop {
            let start = self.at;
            let end_of_cell;
            if bytes.get(start) == Some(&b'"') {
                let close = start + 1 + memchr::memchr(b'"', &bytes[start + 1..])?;
                cells.push(&self.text[start + 1..close]);
                end_of_cell = close + 1;
                if end_of_cell < bytes.len() && !matches!(bytes[end_of_cell], b',' | b'\n' | b'\r') {
                    return None;
                }
            } else {
                end_of_cell = memchr::memchr3(b',', b'\n', b'\r', &bytes[start..]).map_or(bytes.len(), |i| start + i);
                cells.push(&self.text[start..end_of_cell]);
            }
            match bytes.get(end_of_cell) {
                Some(b',') => self.at = end_of_cell + 1,
                Some(_) => {
                    self.at = end_of_cell + 1;
                    return Some(true);
                }
                None => {
                    self.at = bytes.len();
                    return Some(true);
                }
            }
        }
    }
}

/// Where each column of `columns` is, from the header record; `None` when a required one is
/// missing.
pub(crate) fn layout(records: &mut Records<'_>, columns: &[Column]) -> Option<Vec<usize>> {
    let mut cells = Vec::new();
    if !records.next(&mut cells)? {
        return None;
    }
    let headers: Vec<String> = cells.iter().map(|h| h.trim().to_owned()).collect();
    if headers.len() > Limits::batch().columns || headers.iter().any(|h| h.len() > Limits::batch().cell_chars) {
        return None;
    }
    columns
        .iter()
        .map(|c| gridsafe_sheet::column(&headers, c.en, c.zh).or((!c.required).then_some(usize::MAX)))
        .collect()
}

/// The rows of a table: each record's trimmed cells in the layout's order, blank records
/// skipped; `None` for a record the exact reader would refuse as too large.
fn rows<'a>(text: &'a str, columns: &[Column], mut each: impl FnMut(&[&'a str]) -> Option<()>) -> Option<()> {
    let limits = Limits::batch();
    let mut records = Records { text, at: 0 };
    let positions = layout(&mut records, columns)?;
    let mut cells = Vec::with_capacity(16);
    let mut row: Vec<&'a str> = vec![""; positions.len()];
    let mut count = 0_usize;
    while records.next(&mut cells)? {
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        count += 1;
        if cells.len() > limits.columns || count > limits.rows || cells.iter().any(|c| c.len() > limits.cell_chars) {
            return None;
        }
        for (slot, p) in row.iter_mut().zip(&positions) {
            *slot = cells.get(*p).map_or("", |c| c.trim());
        }
        each(&row)?;
    }
    Some(())
}

/// Two ASCII digits.
fn digits(b: &[u8]) -> Option<u32> {
    let (a, c) = (b.first()?.wrapping_sub(b'0'), b.get(1)?.wrapping_sub(b'0'));
    (a < 10 && c < 10).then(|| u32::from(a) * 10 + u32::from(c))
}

/// A date-time cell as seconds since 1970: `YYYY-MM-DD HH:MM[:SS]` read directly, any other
/// form the exact reader's way.
fn seconds(cell: &str) -> Option<i64> {
    let b = cell.as_bytes();
    let quick = (b.len() == 16 || b.len() == 19) && b[4] == b'-' && b[7] == b'-' && b[10] == b' ' && b[13] == b':';
    let at = if quick {
        let year = digits(&b[0..2])? * 100 + digits(&b[2..4])?;
        let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, digits(&b[5..7])?, digits(&b[8..10])?)?;
        let s = if b.len() == 19 {
            if b[16] != b':' {
                return None;
            }
            digits(&b[17..19])?
        } else {
            0
        };
        date.and_hms_opt(digits(&b[11..13])?, digits(&b[14..16])?, s)?
    } else {
        gridsafe_sheet::parse_datetime(&Cell::Text(cell.to_owned())).ok()?
    };
    Some(at.and_utc().timestamp())
}

fn opt_seconds(cell: &str) -> Option<Option<i64>> {
    if cell.is_empty() { Some(None) } else { seconds(cell).map(Some) }
}

/// A list cell's items, split, trimmed, blanks dropped, repeats collapsed (as
/// [`gridsafe_sheet::parse_list`]), appended to `into`.
pub(crate) fn list<'a>(cell: &'a str, into: &mut Vec<&'a str>) {
    let first = into.len();
    for item in cell.split([';', '；', ',', '，']).map(str::trim).filter(|i| !i.is_empty()) {
        if !into[first..].contains(&item) {
            into.push(item);
        }
    }
}

/// Items of many lists, flattened: list `i` is `items[starts[i]..starts[i + 1]]`.
struct Lists<T> {
    starts: Vec<u32>,
    items: Vec<T>,
}

/// No lists at all (what is left where lists were taken away).
impl<T> Default for Lists<T> {
    fn default() -> Self {
        Self { starts: Vec::new(), items: Vec::new() }
    }
}

impl<T> Lists<T> {
    fn with_capacity(lists: usize, items: usize) -> Self {
        let mut starts = Vec::with_capacity(lists + 1);
        starts.push(0);
        Self { starts, items: Vec::with_capacity(items) }
    }

    fn close(&mut self) {
        self.starts.push(u32::try_from(self.items.len()).unwrap_or(u32::MAX));
    }

    fn get(&self, i: usize) -> &[T] {
        &self.items[self.starts[i] as usize..self.starts[i + 1] as usize]
    }
}

/// `work_orders`, by column.
struct Orders<'a> {
    id: Vec<&'a str>,
    kind: Vec<OrderType>,
    customer: Vec<&'a str>,
    start: Vec<i64>,
    finish: Vec<i64>,
    workers: Lists<&'a str>,
}

impl<'a> Orders<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let n = lines(text);
        let mut o = Orders {
            id: Vec::with_capacity(n),
            kind: Vec::with_capacity(n),
            customer: Vec::with_capacity(n),
            start: Vec::with_capacity(n),
            finish: Vec::with_capacity(n),
            workers: Lists::with_capacity(n, n * 3),
        };
        rows(text, &ORDER_COLUMNS, |r| {
            let kind = enum_value(r[1], ORDER_TYPES)?;
            if r[0].is_empty() || r[2].is_empty() {
                return None;
            }
            o.id.push(r[0]);
            o.kind.push(kind);
            o.customer.push(r[2]);
            o.start.push(seconds(r[4])?);
            o.finish.push(seconds(r[5])?);
            list(r[6], &mut o.workers.items);
            o.workers.close();
            Some(())
        })?;
        Some(o)
    }
}

/// `tickets`, by column.
struct Tickets<'a> {
    id: Vec<&'a str>,
    customer: Vec<&'a str>,
    orders: Lists<&'a str>,
    issuer: Vec<&'a str>,
    /// Whether a contractor's issuer co-signed (会签人 not empty).
    cosigned: Vec<bool>,
    leader: Vec<&'a str>,
    permitter: Vec<&'a str>,
    crew: Lists<&'a str>,
    /// Seconds, or `NO_TIME` (8 bytes a ticket each instead of an `Option`'s 16).
    permitted_at: Vec<i64>,
    ended_at: Vec<i64>,
    status: Vec<TicketStatus>,
    evaluated: Vec<bool>,
}

impl<'a> Tickets<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let n = lines(text);
        let mut t = Tickets {
            id: Vec::with_capacity(n),
            customer: Vec::with_capacity(n),
            orders: Lists::with_capacity(n, n),
            issuer: Vec::with_capacity(n),
            cosigned: Vec::with_capacity(n),
            leader: Vec::with_capacity(n),
            permitter: Vec::with_capacity(n),
            crew: Lists::with_capacity(n, n * 2),
            permitted_at: Vec::with_capacity(n),
            ended_at: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
            evaluated: Vec::with_capacity(n),
        };
        rows(text, &TICKET_COLUMNS, |r| {
            if r[0].is_empty() {
                return None;
            }
            let evaluated = match r[12] {
                "" | "未评价" => false,
                other => {
                    enum_value(other, EVALUATIONS)?;
                    true
                }
            };
            t.id.push(r[0]);
            t.customer.push(r[2]);
            list(r[3], &mut t.orders.items);
            t.orders.close();
            t.issuer.push(r[4]);
            t.cosigned.push(!r[5].is_empty());
            t.leader.push(r[6]);
            t.permitter.push(r[7]);
            list(r[8], &mut t.crew.items);
            t.crew.close();
            t.permitted_at.push(opt_seconds(r[9])?.unwrap_or(NO_TIME));
            t.ended_at.push(opt_seconds(r[10])?.unwrap_or(NO_TIME));
            t.status.push(enum_value(r[11], STATUSES)?);
            t.evaluated.push(evaluated);
            Some(())
        })?;
        Some(t)
    }
}

impl Tickets<'_> {
    fn permitted(&self, t: usize) -> Option<i64> {
        Some(self.permitted_at[t]).filter(|at| *at != NO_TIME)
    }

    fn ended(&self, t: usize) -> Option<i64> {
        Some(self.ended_at[t]).filter(|at| *at != NO_TIME)
    }
}

/// `meter_events`, by column: only the audited kinds are kept; every row is still checked.
#[derive(Default)]
struct Events<'a> {
    id: Vec<&'a str>,
    meter: Vec<&'a str>,
    customer: Vec<&'a str>,
    terminal: Vec<bool>,
    at: Vec<i64>,
    /// Every event id, audited or not, to refuse a repeated one.
    all_ids: Vec<&'a str>,
}

impl<'a> Events<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let mut e = Events::default();
        rows(text, &EVENT_COLUMNS, |r| {
            if r[0].is_empty() || r[2].is_empty() || r[3].is_empty() {
                return None;
            }
            let at = seconds(r[4])?;
            e.all_ids.push(r[0]);
            let kind = enum_value(r[3], EVENT_KINDS).unwrap_or(EventKind::Other);
            if matches!(kind, EventKind::CoverOpen | EventKind::TerminalCoverOpen) {
                e.id.push(r[0]);
                e.meter.push(r[1]);
                e.customer.push(r[2]);
                e.terminal.push(kind == EventKind::TerminalCoverOpen);
                e.at.push(at);
            }
            Some(())
        })?;
        Some(e)
    }
}

/// Strings to dense numbers, in first-seen order.
struct Interner<'a> {
    index: HashMap<&'a str, u32>,
    names: Vec<&'a str>,
}

impl<'a> Interner<'a> {
    fn with_capacity(n: usize) -> Self {
        Self { index: HashMap::with_capacity(n), names: Vec::with_capacity(n) }
    }

    fn id(&mut self, name: &'a str) -> u32 {
        let next = u32::try_from(self.names.len()).unwrap_or(NONE);
        let id = *self.index.entry(name).or_insert(next);
        if id == next {
            self.names.push(name);
        }
        id
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }
}

/// Whether every id is distinct.
fn distinct(ids: &[&str]) -> bool {
    let mut seen: HashSet<&str> = HashSet::with_capacity(ids.len());
    ids.iter().all(|id| seen.insert(id))
}

/// Days since 1970 of a time in seconds.
fn day_of(seconds: i64) -> i32 {
    i32::try_from(seconds.div_euclid(86_400)).unwrap_or(i32::MAX)
}

fn days(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - 719_163
}

fn date_of(seconds: i64) -> NaiveDate {
    when(seconds).date()
}

fn when(seconds: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(seconds, 0).map(|t| t.naive_utc()).unwrap_or_default()
}

/// A time in seconds shown as `%Y-%m-%d %H:%M`, without parsing a format string each time.
#[derive(Clone, Copy)]
struct Minute(i64);

impl std::fmt::Display for Minute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let t = when(self.0);
        write!(f, "{:04}-{:02}-{:02} {:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute())
    }
}

/// A finding as a rule makes it: its key borrowed from the export, and what its words are
/// made of as indexes into the columns. 48 bytes, no allocation; the words are written only
/// when the finding is (`Audit::detail`).
#[derive(Clone, Copy)]
struct Hit<'a> {
    rule: Rule,
    what: What,
    entity_id: &'a str,
    subject: &'a str,
}

const _: () = assert!(std::mem::size_of::<Hit<'static>>() == 48);

/// The words of a chunk of hits, one after another: per finding, its hit's place in the
/// chunk and where its words end.
struct Words {
    text: String,
    ends: Vec<(u32, u32)>,
}

/// What a finding's words are made of.
#[derive(Clone, Copy)]
enum What {
    /// An order's rule (the order's index); for OUTSIDE_WINDOW the ticket's too.
    Order(u32),
    Window(u32, u32),
    /// A ticket's rule (the ticket's index); for PERSON_DOUBLE_BOOKED the earlier ticket's too.
    Ticket(u32),
    Booked(u32, u32),
    /// A meter event's rule (the event's index).
    Event(u32),
}

impl What {
    fn entity_kind(self) -> &'static str {
        match self {
            What::Order(_) | What::Window(..) => "order",
            What::Ticket(_) | What::Booked(..) => "ticket",
            What::Event(_) => "event",
        }
    }
}

impl Hit<'_> {
    /// Whether two hits are of one finding's key (rule, entity kind, entity id, subject).
    fn same_key(&self, other: &Self) -> bool {
        self.rule == other.rule
            && self.what.entity_kind() == other.what.entity_kind()
            && self.entity_id == other.entity_id
            && self.subject == other.subject
    }

    /// The order within one part (one rule, one entity kind): by entity id, then subject.
    fn by_entity(a: &Self, b: &Self) -> std::cmp::Ordering {
        a.entity_id.cmp(b.entity_id).then_with(|| a.subject.cmp(b.subject))
    }
}

/// Hits kept apart by rule and entity kind (NO_SAFETY_EXAM is found on orders and on
/// tickets), so that each part is sorted by entity id and subject alone: a rule finds in the
/// order of its table, and the marketing system writes its tables in the order of their ids,
/// so a part is then mostly one sorted run, which a stable sort checks in one pass.
struct Found<'a>([Vec<Hit<'a>>; Found::PARTS]);

impl<'a> Found<'a> {
    const PARTS: usize = Rule::ALL.len() + 1;

    fn new() -> Self {
        Self(std::array::from_fn(|_| Vec::new()))
    }

    fn part(rule: Rule, entity_kind: &str) -> usize {
        if rule == Rule::NoSafetyExam && entity_kind == "ticket" { Rule::ALL.len() } else { rule as usize }
    }

    fn push(&mut self, hit: Hit<'a>) {
        self.0[Self::part(hit.rule, hit.what.entity_kind())].push(hit);
    }

    fn sort(&mut self) {
        for part in &mut self.0 {
            part.sort_by(Hit::by_entity);
        }
    }

    /// The parts of both, in the order of findings' keys (rule code, entity kind, then the
    /// entity id and subject each part is sorted by).
    fn merge(mut self, mut other: Self) -> Vec<Vec<Hit<'a>>> {
        let mut parts: Vec<(&str, &str, usize)> = Rule::ALL
            .iter()
            .flat_map(|r| {
                let kinds: &[&str] = if *r == Rule::NoSafetyExam { &["order", "ticket"] } else { &[""] };
                kinds.iter().map(|kind| (r.code(), *kind, Self::part(*r, kind)))
            })
            .collect();
        parts.sort_unstable();
        parts
            .into_iter()
            .map(|(_, _, part)| {
                let (mut one, two) = (std::mem::take(&mut self.0[part]), std::mem::take(&mut other.0[part]));
                if !two.is_empty() {
                    one.extend(two);
                    one.sort_by(Hit::by_entity);
                }
                one
            })
            .collect()
    }
}

/// Item lists indexed by a dense id (compressed rows: `at[id]..at[id + 1]`).
struct Index {
    at: Vec<u32>,
    items: Vec<u32>,
}

impl Index {
    /// From `(key, item)` pairs with keys below `keys`, items of a key in the pairs' order.
    fn build(keys: usize, pairs: impl Iterator<Item = (u32, u32)> + Clone) -> Self {
        let mut at = vec![0_u32; keys + 1];
        for (k, _) in pairs.clone() {
            at[k as usize + 1] += 1;
        }
        for i in 0..keys {
            at[i + 1] += at[i];
        }
        let mut fill = at.clone();
        let mut items = vec![0_u32; at[keys] as usize];
        for (k, v) in pairs {
            items[fill[k as usize] as usize] = v;
            fill[k as usize] += 1;
        }
        Self { at, items }
    }

    fn of(&self, key: u32) -> &[u32] {
        if key == NONE {
            return &[];
        }
        &self.items[self.at[key as usize] as usize..self.at[key as usize + 1] as usize]
    }
}

/// Per contractor: each agreement's first and last day and the only customer it covers, if limited.
type Agreements<'s> = HashMap<&'s str, Vec<(i32, i32, Option<&'s str>)>>;

/// Everything the rules join through, by interned id.
///
/// The columns it takes are its own: the lists of names in them (an order's workers, a ticket's
/// crew and orders) are dropped once they are ids, the names being the people's.
struct Audit<'s, 'a> {
    orders: Orders<'a>,
    tickets: Tickets<'a>,
    events: Events<'a>,
    as_of: NaiveDate,
    th: &'s Thresholds,
    /// Per person: qualifications (kind, first day, last day).
    quals: Vec<Vec<(QualificationKind, i32, i32)>>,
    people: Interner<'a>,
    /// Per person: the contractor they work for.
    contractor_of: Vec<Option<&'s str>>,
    licence: HashMap<&'s str, NaiveDate>,
    agreements: Agreements<'s>,
    /// Per order: its customer.
    order_customer: Vec<u32>,
    /// Per ticket: whether it is live (ended or open).
    live: Vec<bool>,
    /// Per order: live tickets naming it. Per customer: its live tickets.
    by_order: Index,
    by_customer: Index,
    /// Per ticket: the orders it names that are in the export.
    ticket_orders: Lists<u32>,
    /// Per order: its workers; per ticket: its people (leader, then crew), issuer, permitter.
    workers: Lists<u32>,
    ticket_people: Lists<u32>,
    /// Per ticket: its leader, issuer and permitter (`NONE` where the cell is blank).
    roles: Vec<[u32; 3]>,
    customers: Interner<'a>,
    scope: Scope,
}

impl<'s, 'a> Audit<'s, 'a>
where
    's: 'a,
{
    fn new(
        small: &'s Tables,
        mut orders: Orders<'a>,
        mut tickets: Tickets<'a>,
        mut events: Events<'a>,
        as_of: NaiveDate,
        th: &'s Thresholds,
        scope: Scope,
    ) -> Option<Self> {
        events.all_ids = Vec::new();
        let (order_names, crews, worker_names) = (
            std::mem::take(&mut tickets.orders),
            std::mem::take(&mut tickets.crew),
            std::mem::take(&mut orders.workers),
        );
        let (leaders, issuers, permitters) = (
            std::mem::take(&mut tickets.leader),
            std::mem::take(&mut tickets.issuer),
            std::mem::take(&mut tickets.permitter),
        );
        let (owned_orders, owned_tickets) = (orders, tickets);
        let (orders, tickets) = (&owned_orders, &owned_tickets);
        let mut people = Interner::with_capacity(small.persons.len() * 2);
        let mut quals: Vec<Vec<(QualificationKind, i32, i32)>> = Vec::new();
        for q in &small.qualifications {
            let p = people.id(&q.person_id) as usize;
            if quals.len() <= p {
                quals.resize_with(p + 1, Vec::new);
            }
            quals[p].push((q.kind, days(q.valid_from), days(q.valid_to)));
        }
        let mut contractor_of: Vec<Option<&str>> = Vec::new();
        for p in &small.persons {
            if let Some(c) = &p.contractor_id {
                let i = people.id(&p.person_id) as usize;
                if contractor_of.len() <= i {
                    contractor_of.resize(i + 1, None);
                }
                contractor_of[i] = Some(c.as_str());
            }
        }
        let licence = small.contractors.iter().map(|c| (c.contractor_id.as_str(), c.license_valid_to)).collect();
        let mut agreements: Agreements<'_> = HashMap::new();
        for a in &small.agreements {
            agreements.entry(a.contractor_id.as_str()).or_default().push((
                days(a.valid_from),
                days(a.valid_to),
                a.customer_id.as_deref(),
            ));
        }

        // Two cores: people interned on this one; orders by id, the tickets' ids checked and
        // customers interned on the other.
        let order_side = move || {
            let order_index: HashMap<&str, u32> =
                orders.id.iter().enumerate().map(|(i, id)| (*id, u32::try_from(i).unwrap_or(NONE))).collect();
            // A repeated order or ticket id: the exact reader names it.
            if order_index.len() != orders.id.len() || !distinct(&tickets.id) {
                return None;
            }
            let mut ticket_orders = Lists::with_capacity(tickets.id.len(), order_names.items.len());
            for k in 0..tickets.id.len() {
                ticket_orders.items.extend(order_names.get(k).iter().filter_map(|o| order_index.get(o).copied()));
                ticket_orders.close();
            }
            drop((order_index, order_names));
            let mut customers = Interner::with_capacity(orders.id.len() / 2);
            let order_customer: Vec<u32> = orders.customer.iter().map(|c| customers.id(c)).collect();
            let ticket_customer: Vec<u32> = tickets.customer.iter().map(|c| customers.id(c)).collect();
            Some((ticket_orders, customers, order_customer, ticket_customer))
        };
        let (order_side, (workers, ticket_people, roles)) = std::thread::scope(|s| {
            let order_side = s.spawn(order_side);
            let mut workers = Lists::with_capacity(orders.id.len(), worker_names.items.len());
            for i in 0..orders.id.len() {
                for w in worker_names.get(i) {
                    let id = people.id(w);
                    workers.items.push(id);
                }
                workers.close();
            }
            drop(worker_names);
            let mut ticket_people = Lists::with_capacity(tickets.id.len(), crews.items.len() + tickets.id.len());
            for (k, leader) in leaders.iter().enumerate() {
                let first = ticket_people.items.len();
                if !leader.is_empty() {
                    ticket_people.items.push(people.id(leader));
                }
                for c in crews.get(k) {
                    let id = people.id(c);
                    if !ticket_people.items[first..].contains(&id) {
                        ticket_people.items.push(id);
                    }
                }
                ticket_people.close();
            }
            drop(crews);
            let mut id = |name: &'a str| if name.is_empty() { NONE } else { people.id(name) };
            let roles: Vec<[u32; 3]> =
                (0..tickets.id.len()).map(|k| [id(leaders[k]), id(issuers[k]), id(permitters[k])]).collect();
            drop((leaders, issuers, permitters));
            let joined = order_side.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (joined, (workers, ticket_people, roles))
        });
        let (ticket_orders, customers, order_customer, ticket_customer) = order_side?;
        let live: Vec<bool> = tickets.status.iter().map(|s| s.is_live()).collect();
        let live_tickets = || (0..tickets.id.len()).filter(|k| live[*k]).map(|k| u32::try_from(k).unwrap_or(NONE));
        let by_order = Index::build(
            orders.id.len(),
            live_tickets().flat_map(|k| ticket_orders.get(k as usize).iter().map(move |o| (*o, k))),
        );
        let by_customer = Index::build(customers.names.len(), live_tickets().map(|k| (ticket_customer[k as usize], k)));
        drop(ticket_customer);
        Some(Self {
            orders: owned_orders,
            tickets: owned_tickets,
            events,
            as_of,
            th,
            quals,
            people,
            contractor_of,
            licence,
            agreements,
            order_customer,
            live,
            by_order,
            by_customer,
            ticket_orders,
            workers,
            ticket_people,
            roles,
            customers,
            scope,
        })
    }

    fn holds(&self, person: u32, kind: QualificationKind, day: i32) -> bool {
        self.quals
            .get(person as usize)
            .is_some_and(|qs| qs.iter().any(|(k, from, to)| *k == kind && *from <= day && day <= *to))
    }

    /// A person's name as the export wrote it; blank for `NONE`.
    fn name(&self, person: u32) -> &'a str {
        self.people.names.get(person as usize).copied().unwrap_or("")
    }

    /// Every rule's hits, each core's sorted.
    fn run(&self) -> [Found<'a>; 2] {
        std::thread::scope(|s| {
            // About half the work on each: the orders' rules and the people's double booking
            // on one, the tickets' and the meter events' rules on the other.
            let orders = s.spawn(|| {
                let mut found = Found::new();
                self.order_rules(&mut found);
                self.double_booking(&mut found);
                found.sort();
                found
            });
            let mut found = Found::new();
            self.ticket_rules(&mut found);
            self.event_rules(&mut found);
            found.sort();
            [found, orders.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))]
        })
    }

    /// Hands the hits of both cores to `each` merged in key order, each key once (when two
    /// hits share a key, the one whose words come first, as the exact engine keeps). The words
    /// are written on both cores, a chunk of hits each in turn, while `each` takes the chunk
    /// before.
    fn write<E>(&self, [a, b]: [Found<'a>; 2], mut each: impl FnMut(FindingRef<'_>) -> Result<(), E>) -> Result<(), E> {
        const CHUNK: usize = 8192;
        let parts = a.merge(b);
        // Chunks never part hits that share a key.
        let mut chunks: Vec<&[Hit<'a>]> = Vec::new();
        for part in &parts {
            let mut rest = part.as_slice();
            while !rest.is_empty() {
                let mut end = CHUNK.min(rest.len());
                while end < rest.len() && rest[end - 1].same_key(&rest[end]) {
                    end += 1;
                }
                let (chunk, after) = rest.split_at(end);
                chunks.push(chunk);
                rest = after;
            }
        }
        let chunks = &chunks;
        std::thread::scope(|s| {
            let receivers: Vec<_> = (0..2)
                .map(|core| {
                    let (send, receive) = std::sync::mpsc::sync_channel::<Words>(1);
                    s.spawn(move || {
                        for c in (core..chunks.len()).step_by(2) {
                            // The receiver gone: `each` failed, nothing more is wanted.
                            if send.send(self.words(chunks[c])).is_err() {
                                break;
                            }
                        }
                    });
                    receive
                })
                .collect();
            for c in 0..chunks.len() {
                // A sender gone early only if its thread panicked, which the scope carries on.
                let Ok(words) = receivers[c % 2].recv() else { break };
                let mut from = 0;
                for (at, end) in &words.ends {
                    let hit = &chunks[c][*at as usize];
                    each(FindingRef {
                        rule: hit.rule.code(),
                        entity_kind: hit.what.entity_kind(),
                        entity_id: hit.entity_id,
                        subject: hit.subject,
                        detail: &words.text[from..*end as usize],
                    })?;
                    from = *end as usize;
                }
            }
            Ok(())
        })
    }

    /// The words of a chunk of sorted hits: of each key, those of the hit whose words come first.
    fn words(&self, hits: &[Hit<'a>]) -> Words {
        let mut words = Words { text: String::with_capacity(hits.len() * 160), ends: Vec::with_capacity(hits.len()) };
        let mut other = String::new();
        let mut at = 0;
        while at < hits.len() {
            let start = words.text.len();
            self.detail(&hits[at], &mut words.text);
            let mut kept = at;
            at += 1;
            while at < hits.len() && hits[at].same_key(&hits[kept]) {
                other.clear();
                self.detail(&hits[at], &mut other);
                if other.as_str() < &words.text[start..] {
                    words.text.truncate(start);
                    words.text.push_str(&other);
                    kept = at;
                }
                at += 1;
            }
            let end = u32::try_from(words.text.len()).unwrap_or(u32::MAX);
            words.ends.push((u32::try_from(kept).unwrap_or(u32::MAX), end));
        }
        words
    }

    /// A ticket's contractors (of its leader and crew), each once, in order.
    fn contractors_of(&self, t: usize, into: &mut Vec<&'s str>) {
        into.clear();
        into.extend(
            self.ticket_people.get(t).iter().filter_map(|p| self.contractor_of.get(*p as usize).copied().flatten()),
        );
        into.sort_unstable();
        into.dedup();
    }

    /// A hit's words, in Chinese, as the exact engine writes them.
    fn detail(&self, hit: &Hit<'a>, out: &mut String) {
        use std::fmt::Write;
        let (o, k, e) = (&self.orders, &self.tickets, &self.events);
        let who = hit.subject;
        // Writing to a String cannot fail.
        let _ = match (hit.rule, hit.what) {
            (Rule::NoTicket, What::Order(i)) => {
                let i = i as usize;
                write!(
                    out,
                    "{}工单 {}（户号 {}，{} 至 {}）没有有效的工作票或工作卡覆盖",
                    o.kind[i].chinese(),
                    o.id[i],
                    o.customer[i],
                    Minute(o.start[i]),
                    Minute(o.finish[i])
                )
            }
            (Rule::SinglePersonOrder, What::Order(i)) => {
                let i = i as usize;
                let workers = self.workers.get(i);
                write!(out, "工单 {} 作业人员只有 {} 人（", o.id[i], workers.len())
                    .and_then(|()| {
                        for (n, w) in workers.iter().enumerate() {
                            write!(out, "{}{}", if n == 0 { "" } else { "、" }, self.people.names[*w as usize])?;
                        }
                        Ok(())
                    })
                    .and_then(|()| write!(out, "），少于 {} 人", self.th.min_people))
            }
            (Rule::NoSafetyExam, What::Order(i)) => {
                let i = i as usize;
                write!(out, "工单 {} 的作业人员 {who} 在 {} 没有有效的安规考试合格记录", o.id[i], date_of(o.start[i]))
            }
            (Rule::OutsideWindow, What::Window(i, t)) => {
                let (i, t) = (i as usize, t as usize);
                write!(
                    out,
                    "工单 {}（{} 至 {}）超出工作票 {} 的许可时间（",
                    o.id[i],
                    Minute(o.start[i]),
                    Minute(o.finish[i]),
                    k.id[t]
                )
                .and_then(|()| match k.permitted(t) {
                    Some(p) => write!(out, "{}", Minute(p)),
                    None => Ok(()),
                })
                .and_then(|()| match k.ended(t) {
                    Some(end) => write!(out, " 至 {}）", Minute(end)),
                    None => write!(out, " 至 未终结）"),
                })
            }
            (Rule::SinglePersonTicket, What::Ticket(t)) => {
                let t = t as usize;
                write!(
                    out,
                    "工作票 {} 工作人员只有 {} 人，少于 {} 人",
                    k.id[t],
                    self.ticket_people.get(t).len(),
                    self.th.min_people
                )
            }
            (Rule::ContractorNoCosign, What::Ticket(t)) => {
                let t = t as usize;
                let mut contractors = Vec::new();
                self.contractors_of(t, &mut contractors);
                write!(
                    out,
                    "工作票 {} 有外包单位人员（{}），但没有外包单位签发人会签（双签发）",
                    k.id[t],
                    contractors.join("、")
                )
            }
            (Rule::NoSafetyExam, What::Ticket(t)) => {
                let t = t as usize;
                let day = k.permitted(t).map(date_of).unwrap_or_default();
                write!(out, "工作票 {} 的人员 {who} 在 {day} 没有有效的安规考试合格记录", k.id[t])
            }
            (Rule::NotAuthorizedLeader | Rule::NotAuthorizedIssuer | Rule::NotAuthorizedPermitter, What::Ticket(t)) => {
                let t = t as usize;
                let day = k.permitted(t).map(date_of).unwrap_or_default();
                let name = match hit.rule {
                    Rule::NotAuthorizedLeader => "工作负责人",
                    Rule::NotAuthorizedIssuer => "工作票签发人",
                    _ => "工作许可人",
                };
                let who_shown = if who.is_empty() { "（空）" } else { who };
                write!(out, "工作票 {} 的{name} {who_shown} 在 {day} 不在有效的{name}名单内", k.id[t])
            }
            (Rule::ContractorNoAgreement, What::Ticket(t)) => {
                let t = t as usize;
                let day = k.permitted(t).map(date_of).unwrap_or_default();
                write!(out, "工作票 {} 的外包单位 {who} 在 {day} 没有有效的安全协议", k.id[t])
            }
            (Rule::ContractorLicenseExpired, What::Ticket(t)) => {
                let t = t as usize;
                let day = k.permitted(t).map(date_of).unwrap_or_default();
                match self.licence.get(who) {
                    Some(end) => write!(out, "工作票 {} 的外包单位 {who} 资质已于 {end} 到期（作业日 {day}）", k.id[t]),
                    None => write!(out, "工作票 {} 的外包单位 {who} 不在外包单位表中，资质无从核实", k.id[t]),
                }
            }
            (Rule::IssuerIsLeader | Rule::PermitterIsLeader | Rule::PermitterIsIssuer, What::Ticket(t)) => {
                let what = match hit.rule {
                    Rule::IssuerIsLeader => "签发人兼任工作负责人",
                    Rule::PermitterIsLeader => "许可人兼任工作负责人",
                    _ => "许可人兼任签发人",
                };
                write!(out, "工作票 {}：{who} {what}", k.id[t as usize])
            }
            (Rule::Unevaluated, What::Ticket(t)) => {
                let t = t as usize;
                write!(out, "业扩/装表接电工作票 {} 已于 ", k.id[t])
                    .and_then(|()| match k.ended(t) {
                        Some(end) => write!(out, "{}", Minute(end)),
                        None => Ok(()),
                    })
                    .and_then(|()| write!(out, " 终结，超过 {} 天仍未评价", self.th.evaluation_days))
            }
            (Rule::PersonDoubleBooked, What::Booked(t, earlier)) => {
                let (t, earlier) = (t as usize, earlier as usize);
                let start = k.permitted(t).unwrap_or_default();
                write!(out, "{who} 在工作票 {} 许可开工（{}）时仍在工作票 {} 中", k.id[t], Minute(start), k.id[earlier])
            }
            (Rule::EventWithoutTicket, What::Event(i)) => {
                let i = i as usize;
                let kind = if e.terminal[i] { "开端钮盒" } else { "开表盖" };
                write!(
                    out,
                    "电能表 {}（户号 {}）于 {} {}，前后 {} 分钟内没有该户的有效工作票",
                    e.meter[i],
                    e.customer[i],
                    Minute(e.at[i]),
                    kind,
                    self.th.event_margin_minutes
                )
            }
            // Every rule above makes its hits with the shape it is matched with here.
            _ => Ok(()),
        };
    }

    fn order_rules(&self, out: &mut Found<'a>) {
        let (o, k) = (&self.orders, &self.tickets);
        for i in 0..o.id.len().min(self.scope.own_orders) {
            let id = o.id[i];
            let at = u32::try_from(i).unwrap_or(NONE);
            let (start, finish) = (o.start[i], o.finish[i]);
            let day = day_of(start);
            let by_order = self.by_order.of(at);
            let workers = self.workers.get(i);
            let hit = |rule, subject| Hit { rule, what: What::Order(at), entity_id: id, subject };
            if o.kind[i].is_field_work() {
                let covered = !by_order.is_empty()
                    || self.by_customer.of(self.order_customer[i]).iter().any(|t| {
                        let t = *t as usize;
                        k.permitted(t).is_some_and(|p| p <= start) && k.ended(t).is_none_or(|e| finish <= e)
                    });
                if !covered {
                    out.push(hit(Rule::NoTicket, ""));
                }
                if workers.len() < self.th.min_people {
                    out.push(hit(Rule::SinglePersonOrder, ""));
                }
            }
            for w in workers {
                if !self.holds(*w, QualificationKind::SafetyExam, day) {
                    out.push(hit(Rule::NoSafetyExam, self.people.names[*w as usize]));
                }
            }
            for t in by_order {
                let early = k.permitted(*t as usize).is_some_and(|p| start < p);
                let late = k.ended(*t as usize).is_some_and(|e| finish > e);
                if early || late {
                    out.push(Hit {
                        rule: Rule::OutsideWindow,
                        what: What::Window(at, *t),
                        entity_id: id,
                        subject: k.id[*t as usize],
                    });
                }
            }
        }
    }

    fn ticket_rules(&self, out: &mut Found<'a>) {
        let k = &self.tickets;
        let th = self.th;
        let cutoff = (self.as_of - chrono::Duration::days(th.evaluation_days))
            .and_hms_opt(0, 0, 0)
            .map(|c| c.and_utc().timestamp());
        let mut contractors: Vec<&'s str> = Vec::new();
        for t in (0..k.id.len().min(self.scope.own_tickets)).filter(|t| self.live[*t]) {
            let id = k.id[t];
            let at = u32::try_from(t).unwrap_or(NONE);
            let hit = |rule, subject| Hit { rule, what: What::Ticket(at), entity_id: id, subject };
            let ps = self.ticket_people.get(t);
            let [leader, issuer, permitter] = self.roles[t];
            if ps.len() < th.min_people {
                out.push(hit(Rule::SinglePersonTicket, ""));
            }
            self.contractors_of(t, &mut contractors);
            if !contractors.is_empty() && !k.cosigned[t] {
                out.push(hit(Rule::ContractorNoCosign, ""));
            }
            if let Some(permitted) = k.permitted(t) {
                let day = day_of(permitted);
                let shown_day = date_of(permitted);
                for p in ps {
                    if !self.holds(*p, QualificationKind::SafetyExam, day) {
                        out.push(hit(Rule::NoSafetyExam, self.people.names[*p as usize]));
                    }
                }
                let roles = [
                    (Rule::NotAuthorizedLeader, leader, QualificationKind::WorkLeader),
                    (Rule::NotAuthorizedIssuer, issuer, QualificationKind::TicketIssuer),
                    (Rule::NotAuthorizedPermitter, permitter, QualificationKind::WorkPermitter),
                ];
                for (rule, who, kind) in roles {
                    if !self.holds(who, kind, day) {
                        out.push(hit(rule, self.name(who)));
                    }
                }
                for c in &contractors {
                    let agreed = self.agreements.get(c).is_some_and(|v| {
                        v.iter().any(|(from, to, only)| {
                            *from <= day && day <= *to && only.is_none_or(|only| only == k.customer[t])
                        })
                    });
                    if !agreed {
                        out.push(hit(Rule::ContractorNoAgreement, *c));
                    }
                    if self.licence.get(c).is_none_or(|end| shown_day > *end) {
                        out.push(hit(Rule::ContractorLicenseExpired, *c));
                    }
                }
            }
            let pairs = [
                (Rule::IssuerIsLeader, issuer, leader),
                (Rule::PermitterIsLeader, permitter, leader),
                (Rule::PermitterIsIssuer, permitter, issuer),
            ];
            for (rule, a, b) in pairs {
                if a != NONE && a == b {
                    out.push(hit(rule, self.name(a)));
                }
            }
            if k.status[t] == TicketStatus::Ended && !k.evaluated[t] {
                let old = k.ended(t).zip(cutoff).is_some_and(|(e, c)| e < c);
                let full =
                    self.ticket_orders.get(t).iter().any(|o| th.must_evaluate.contains(self.orders.kind[*o as usize]));
                if old && full {
                    out.push(hit(Rule::Unevaluated, ""));
                }
            }
        }
    }

    /// PERSON_DOUBLE_BOOKED: per person, live permitted tickets by (permitted_at, ticket_id);
    /// a ticket clashes when an earlier one ends after it is permitted (an open one never ends).
    fn double_booking(&self, out: &mut Found<'a>) {
        let k = &self.tickets;
        let whose = |name: &str| match self.scope.people {
            People::Everyone => true,
            People::Nobody => false,
            People::Part { part, parts } => part_of(name, parts) == part,
        };
        if matches!(self.scope.people, People::Nobody) {
            return;
        }
        let permitted = (0..k.id.len())
            .filter(|t| self.live[*t] && k.permitted(*t).is_some())
            .map(|t| u32::try_from(t).unwrap_or(NONE));
        let by_person = Index::build(
            self.people.names.len(),
            permitted.flat_map(|t| self.ticket_people.get(t as usize).iter().map(move |p| (*p, t))),
        );
        let mut ks: Vec<u32> = Vec::new();
        let mut booked = Vec::new();
        for p in 0..self.people.names.len() {
            let p = u32::try_from(p).unwrap_or(NONE);
            let of = by_person.of(p);
            if of.len() < 2 || !whose(self.people.names[p as usize]) {
                continue;
            }
            ks.clear();
            ks.extend_from_slice(of);
            ks.sort_unstable_by(|a, b| {
                (k.permitted(*a as usize), k.id[*a as usize]).cmp(&(k.permitted(*b as usize), k.id[*b as usize]))
            });
            let name = self.people.names[p as usize];
            let mut latest: Option<Option<i64>> = None;
            let mut latest_at = NONE;
            for t in &ks {
                let Some(start) = k.permitted(*t as usize) else { continue };
                let clash = match latest {
                    Some(None) => true,
                    Some(Some(end)) => end > start,
                    None => false,
                };
                if clash {
                    booked.push(Hit {
                        rule: Rule::PersonDoubleBooked,
                        what: What::Booked(*t, latest_at),
                        entity_id: k.id[*t as usize],
                        subject: name,
                    });
                }
                let end = if k.status[*t as usize] == TicketStatus::Open { None } else { k.ended(*t as usize) };
                let later = match (latest, end) {
                    (None, _) | (Some(Some(_)), None) => true,
                    (Some(Some(a)), Some(b)) => b > a,
                    (Some(None), _) => false,
                };
                if later {
                    latest = Some(end);
                    latest_at = *t;
                }
            }
        }
        // Found person by person: in the tickets' order (as their ids, mostly) before sorting.
        booked.sort_by_key(|hit| match hit.what {
            What::Booked(t, _) => t,
            _ => NONE,
        });
        for hit in booked {
            out.push(hit);
        }
    }

    fn event_rules(&self, out: &mut Found<'a>) {
        let (e, k) = (&self.events, &self.tickets);
        let margin = self.th.event_margin_minutes * 60;
        for i in 0..e.id.len() {
            let at = e.at[i];
            let customer = self.customers.get(e.customer[i]).unwrap_or(NONE);
            let explained = self.by_customer.of(customer).iter().any(|t| {
                let t = *t as usize;
                k.permitted(t).is_some_and(|p| p - margin <= at) && k.ended(t).is_none_or(|end| at <= end + margin)
            });
            if !explained {
                out.push(Hit {
                    rule: Rule::EventWithoutTicket,
                    what: What::Event(u32::try_from(i).unwrap_or(NONE)),
                    entity_id: e.id[i],
                    subject: e.customer[i],
                });
            }
        }
    }
}
