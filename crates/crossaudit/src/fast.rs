//! The cross-audit at the speed of the hardware (倒查引擎 v2), for the export as the marketing
//! system writes it: a folder of UTF-8 CSV files.
//!
//! The three large tables (work orders, tickets, meter events) are parsed in place: each file's
//! bytes are read once, cells stay slices of them (no `String` per cell), ids are interned to
//! `u32`, times packed to seconds, enumerations to bytes, the two largest files on two cores.
//! The rules then run as passes over those columns, joined through arrays indexed by the
//! interned ids (per order, per customer, per person) instead of hash maps of strings.
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

use crate::engine::{Finding, Rule, Thresholds};
use crate::input::tables::{
    Column, EVALUATIONS, EVENT_COLUMNS, EVENT_KINDS, ORDER_COLUMNS, STATUSES, TICKET_COLUMNS, enum_value,
};
use crate::input::{self, Cell, EventKind, Limits, ORDER_TYPES, TableKind, Tables, TicketStatus};

/// No id: a customer or person the tables never name.
const NONE: u32 = u32::MAX;

/// Audits the export at `path`, or `None` when it is not a folder of CSV files this reader
/// takes with certainty (the caller then reads it with [`crate::export::read_export`]).
pub fn audit_export(path: &Path, as_of: NaiveDate, th: &Thresholds) -> Option<Vec<Finding>> {
    let files = Files::find(path)?;
    let small = small_tables(&files)?;
    let orders_text = read_text(&files.orders)?;
    let tickets_text = read_text(&files.tickets)?;
    let events_text = match &files.events {
        Some(p) => Some(read_text(p)?),
        None => None,
    };
    // The two largest files on the two cores.
    let (orders, tickets, events) = std::thread::scope(|s| {
        let orders = s.spawn(|| Orders::parse(&orders_text));
        let tickets = Tickets::parse(&tickets_text);
        let events = events_text.as_deref().map_or_else(|| Some(Events::default()), Events::parse);
        (orders.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), tickets, events)
    });
    let (orders, tickets, events) = (orders?, tickets?, events?);
    if !distinct(&tickets.id) || !distinct(&events.all_ids) {
        return None;
    }
    Some(Audit::new(&small, &orders, &tickets, &events, as_of, th)?.run())
}

/// The files of one export, each table from exactly one CSV file.
struct Files {
    small: Vec<(TableKind, PathBuf)>,
    orders: PathBuf,
    tickets: PathBuf,
    events: Option<PathBuf>,
}

impl Files {
    fn find(dir: &Path) -> Option<Self> {
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
fn small_tables(files: &Files) -> Option<Tables> {
    let mut tables = Tables::default();
    for (kind, file) in &files.small {
        let bytes = std::fs::read(file).ok()?;
        let raw = input::read_csv(&file.display().to_string(), &bytes, &Limits::batch()).ok()?;
        input::read_table(*kind, &raw, &mut tables);
    }
    tables.errors.is_empty().then_some(tables)
}

/// A file's text, without a UTF-8 byte-order mark, if it is UTF-8 (checked once).
fn read_text(path: &Path) -> Option<String> {
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
struct Records<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Records<'a> {
    /// The next record's cells into `cells`; `Some(false)` at the end.
    fn next(&mut self, cells: &mut Vec<&'a str>) -> Option<bool> {
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
fn layout(records: &mut Records<'_>, columns: &[Column]) -> Option<Vec<usize>> {
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
fn list<'a>(cell: &'a str, into: &mut Vec<&'a str>) {
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
    co_issuer: Vec<&'a str>,
    leader: Vec<&'a str>,
    permitter: Vec<&'a str>,
    crew: Lists<&'a str>,
    permitted: Vec<Option<i64>>,
    ended: Vec<Option<i64>>,
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
            co_issuer: Vec::with_capacity(n),
            leader: Vec::with_capacity(n),
            permitter: Vec::with_capacity(n),
            crew: Lists::with_capacity(n, n * 2),
            permitted: Vec::with_capacity(n),
            ended: Vec::with_capacity(n),
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
            t.co_issuer.push(r[5]);
            t.leader.push(r[6]);
            t.permitter.push(r[7]);
            list(r[8], &mut t.crew.items);
            t.crew.close();
            t.permitted.push(opt_seconds(r[9])?);
            t.ended.push(opt_seconds(r[10])?);
            t.status.push(enum_value(r[11], STATUSES)?);
            t.evaluated.push(evaluated);
            Some(())
        })?;
        Some(t)
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

/// `%Y-%m-%d %H:%M`, without parsing a format string each time.
fn fmt(seconds: i64) -> String {
    let t = when(seconds);
    format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute())
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
struct Audit<'s, 'a> {
    orders: &'s Orders<'a>,
    tickets: &'s Tickets<'a>,
    events: &'s Events<'a>,
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
    customers: Interner<'a>,
}

impl<'s, 'a> Audit<'s, 'a>
where
    's: 'a,
{
    fn new(
        small: &'s Tables,
        orders: &'s Orders<'a>,
        tickets: &'s Tickets<'a>,
        events: &'s Events<'a>,
        as_of: NaiveDate,
        th: &'s Thresholds,
    ) -> Option<Self> {
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

        // Two cores: customers and people interned on this one, orders by id on the other.
        let order_side = || {
            let order_index: HashMap<&str, u32> =
                orders.id.iter().enumerate().map(|(i, id)| (*id, u32::try_from(i).unwrap_or(NONE))).collect();
            // A repeated order id: the exact reader names it.
            if order_index.len() != orders.id.len() {
                return None;
            }
            let mut ticket_orders = Lists::with_capacity(tickets.id.len(), tickets.orders.items.len());
            for k in 0..tickets.id.len() {
                ticket_orders.items.extend(tickets.orders.get(k).iter().filter_map(|o| order_index.get(o).copied()));
                ticket_orders.close();
            }
            Some(ticket_orders)
        };
        let (ticket_orders, (customers, order_customer, ticket_customer, workers, ticket_people)) =
            std::thread::scope(|s| {
                let order_side = s.spawn(order_side);
                let mut customers = Interner::with_capacity(orders.id.len() / 2);
                let order_customer: Vec<u32> = orders.customer.iter().map(|c| customers.id(c)).collect();
                let ticket_customer: Vec<u32> = tickets.customer.iter().map(|c| customers.id(c)).collect();
                let mut workers = Lists::with_capacity(orders.id.len(), orders.workers.items.len());
                for i in 0..orders.id.len() {
                    for w in orders.workers.get(i) {
                        let id = people.id(w);
                        workers.items.push(id);
                    }
                    workers.close();
                }
                let mut ticket_people =
                    Lists::with_capacity(tickets.id.len(), tickets.crew.items.len() + tickets.id.len());
                for k in 0..tickets.id.len() {
                    let first = ticket_people.items.len();
                    let leader = tickets.leader[k];
                    if !leader.is_empty() {
                        ticket_people.items.push(people.id(leader));
                    }
                    for c in tickets.crew.get(k) {
                        let id = people.id(c);
                        if !ticket_people.items[first..].contains(&id) {
                            ticket_people.items.push(id);
                        }
                    }
                    ticket_people.close();
                }
                let joined = order_side.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (joined, (customers, order_customer, ticket_customer, workers, ticket_people))
            });
        let ticket_orders = ticket_orders?;
        let live: Vec<bool> = tickets.status.iter().map(|s| s.is_live()).collect();
        let live_tickets = || (0..tickets.id.len()).filter(|k| live[*k]).map(|k| u32::try_from(k).unwrap_or(NONE));
        let by_order = Index::build(
            orders.id.len(),
            live_tickets().flat_map(|k| ticket_orders.get(k as usize).iter().map(move |o| (*o, k))),
        );
        let by_customer = Index::build(customers.names.len(), live_tickets().map(|k| (ticket_customer[k as usize], k)));
        Some(Self {
            orders,
            tickets,
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
            customers,
        })
    }

    fn holds(&self, person: u32, kind: QualificationKind, day: i32) -> bool {
        self.quals
            .get(person as usize)
            .is_some_and(|qs| qs.iter().any(|(k, from, to)| *k == kind && *from <= day && day <= *to))
    }

    fn holds_name(&self, person: &str, kind: QualificationKind, day: i32) -> bool {
        self.people.get(person).is_some_and(|p| self.holds(p, kind, day))
    }

    fn run(&self) -> Vec<Finding> {
        // Each core sorts the findings it made; one pass merges them.
        let (a, b) = std::thread::scope(|s| {
            let orders = s.spawn(|| {
                let mut found = self.order_rules();
                found.sort_unstable();
                found
            });
            let mut found = self.ticket_rules();
            self.double_booking(&mut found);
            self.event_rules(&mut found);
            found.sort_unstable();
            (found, orders.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        });
        let mut sorted = Vec::with_capacity(a.len() + b.len());
        let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x <= y => a.next(),
                (Some(_), Some(_)) | (None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => break,
            };
            sorted.extend(next);
        }
        sorted.dedup_by(|b, a| {
            a.rule == b.rule && a.entity_kind == b.entity_kind && a.entity_id == b.entity_id && a.subject == b.subject
        });
        sorted
    }

    fn order_rules(&self) -> Vec<Finding> {
        let (o, k) = (self.orders, self.tickets);
        let mut out = Vec::new();
        for i in 0..o.id.len() {
            let id = o.id[i];
            let (start, finish) = (o.start[i], o.finish[i]);
            let day = day_of(start);
            let by_order = self.by_order.of(u32::try_from(i).unwrap_or(NONE));
            let workers = self.workers.get(i);
            if o.kind[i].is_field_work() {
                let covered = !by_order.is_empty()
                    || self.by_customer.of(self.order_customer[i]).iter().any(|t| {
                        let t = *t as usize;
                        k.permitted[t].is_some_and(|p| p <= start) && k.ended[t].is_none_or(|e| finish <= e)
                    });
                if !covered {
                    out.push(Finding::new(
                        Rule::NoTicket,
                        "order",
                        id,
                        "",
                        format!(
                            "{}工单 {}（户号 {}，{} 至 {}）没有有效的工作票或工作卡覆盖",
                            o.kind[i].chinese(),
                            id,
                            o.customer[i],
                            fmt(start),
                            fmt(finish)
                        ),
                    ));
                }
                if workers.len() < self.th.min_people {
                    out.push(Finding::new(
                        Rule::SinglePersonOrder,
                        "order",
                        id,
                        "",
                        format!(
                            "工单 {} 作业人员只有 {} 人（{}），少于 {} 人",
                            id,
                            workers.len(),
                            o.workers.get(i).join("、"),
                            self.th.min_people
                        ),
                    ));
                }
            }
            for (w, name) in workers.iter().zip(o.workers.get(i)) {
                if !self.holds(*w, QualificationKind::SafetyExam, day) {
                    out.push(Finding::new(
                        Rule::NoSafetyExam,
                        "order",
                        id,
                        name,
                        format!("工单 {} 的作业人员 {} 在 {} 没有有效的安规考试合格记录", id, name, date_of(start)),
                    ));
                }
            }
            for t in by_order {
                let t = *t as usize;
                let early = k.permitted[t].is_some_and(|p| start < p);
                let late = k.ended[t].is_some_and(|e| finish > e);
                if early || late {
                    out.push(Finding::new(
                        Rule::OutsideWindow,
                        "order",
                        id,
                        k.id[t],
                        format!(
                            "工单 {}（{} 至 {}）超出工作票 {} 的许可时间（{} 至 {}）",
                            id,
                            fmt(start),
                            fmt(finish),
                            k.id[t],
                            k.permitted[t].map(fmt).unwrap_or_default(),
                            k.ended[t].map_or_else(|| "未终结".to_owned(), fmt)
                        ),
                    ));
                }
            }
        }
        out
    }

    fn ticket_rules(&self) -> Vec<Finding> {
        let k = self.tickets;
        let th = self.th;
        let mut out = Vec::new();
        let cutoff = (self.as_of - chrono::Duration::days(th.evaluation_days))
            .and_hms_opt(0, 0, 0)
            .map(|c| c.and_utc().timestamp());
        let mut contractors: Vec<&str> = Vec::new();
        for t in (0..k.id.len()).filter(|t| self.live[*t]) {
            let id = k.id[t];
            let ps = self.ticket_people.get(t);
            if ps.len() < th.min_people {
                out.push(Finding::new(
                    Rule::SinglePersonTicket,
                    "ticket",
                    id,
                    "",
                    format!("工作票 {id} 工作人员只有 {} 人，少于 {} 人", ps.len(), th.min_people),
                ));
            }
            contractors.clear();
            contractors.extend(ps.iter().filter_map(|p| self.contractor_of.get(*p as usize).copied().flatten()));
            contractors.sort_unstable();
            contractors.dedup();
            if !contractors.is_empty() && k.co_issuer[t].is_empty() {
                out.push(Finding::new(
                    Rule::ContractorNoCosign,
                    "ticket",
                    id,
                    "",
                    format!(
                        "工作票 {id} 有外包单位人员（{}），但没有外包单位签发人会签（双签发）",
                        contractors.join("、")
                    ),
                ));
            }
            if let Some(permitted) = k.permitted[t] {
                let day = day_of(permitted);
                let shown_day = date_of(permitted);
                for p in ps {
                    if !self.holds(*p, QualificationKind::SafetyExam, day) {
                        let name = self.people.names[*p as usize];
                        out.push(Finding::new(
                            Rule::NoSafetyExam,
                            "ticket",
                            id,
                            name,
                            format!("工作票 {id} 的人员 {name} 在 {shown_day} 没有有效的安规考试合格记录"),
                        ));
                    }
                }
                let roles = [
                    (Rule::NotAuthorizedLeader, k.leader[t], QualificationKind::WorkLeader, "工作负责人"),
                    (Rule::NotAuthorizedIssuer, k.issuer[t], QualificationKind::TicketIssuer, "工作票签发人"),
                    (Rule::NotAuthorizedPermitter, k.permitter[t], QualificationKind::WorkPermitter, "工作许可人"),
                ];
                for (rule, who, kind, name) in roles {
                    if !self.holds_name(who, kind, day) {
                        let who_shown = if who.is_empty() { "（空）" } else { who };
                        out.push(Finding::new(
                            rule,
                            "ticket",
                            id,
                            who,
                            format!("工作票 {id} 的{name} {who_shown} 在 {shown_day} 不在有效的{name}名单内"),
                        ));
                    }
                }
                for c in &contractors {
                    let agreed = self.agreements.get(c).is_some_and(|v| {
                        v.iter().any(|(from, to, only)| {
                            *from <= day && day <= *to && only.is_none_or(|only| only == k.customer[t])
                        })
                    });
                    if !agreed {
                        out.push(Finding::new(
                            Rule::ContractorNoAgreement,
                            "ticket",
                            id,
                            c,
                            format!("工作票 {id} 的外包单位 {c} 在 {shown_day} 没有有效的安全协议"),
                        ));
                    }
                    match self.licence.get(c) {
                        Some(end) if shown_day <= *end => {}
                        Some(end) => out.push(Finding::new(
                            Rule::ContractorLicenseExpired,
                            "ticket",
                            id,
                            c,
                            format!("工作票 {id} 的外包单位 {c} 资质已于 {end} 到期（作业日 {shown_day}）"),
                        )),
                        None => out.push(Finding::new(
                            Rule::ContractorLicenseExpired,
                            "ticket",
                            id,
                            c,
                            format!("工作票 {id} 的外包单位 {c} 不在外包单位表中，资质无从核实"),
                        )),
                    }
                }
            }
            let pairs = [
                (Rule::IssuerIsLeader, k.issuer[t], k.leader[t], "签发人兼任工作负责人"),
                (Rule::PermitterIsLeader, k.permitter[t], k.leader[t], "许可人兼任工作负责人"),
                (Rule::PermitterIsIssuer, k.permitter[t], k.issuer[t], "许可人兼任签发人"),
            ];
            for (rule, a, b, what) in pairs {
                if !a.is_empty() && a == b {
                    out.push(Finding::new(rule, "ticket", id, a, format!("工作票 {id}：{a} {what}")));
                }
            }
            if k.status[t] == TicketStatus::Ended && !k.evaluated[t] {
                let old = k.ended[t].zip(cutoff).is_some_and(|(e, c)| e < c);
                let full =
                    self.ticket_orders.get(t).iter().any(|o| th.must_evaluate.contains(self.orders.kind[*o as usize]));
                if old && full {
                    out.push(Finding::new(
                        Rule::Unevaluated,
                        "ticket",
                        id,
                        "",
                        format!(
                            "业扩/装表接电工作票 {id} 已于 {} 终结，超过 {} 天仍未评价",
                            k.ended[t].map(fmt).unwrap_or_default(),
                            th.evaluation_days
                        ),
                    ));
                }
            }
        }
        out
    }

    /// PERSON_DOUBLE_BOOKED: per person, live permitted tickets by (permitted_at, ticket_id);
    /// a ticket clashes when an earlier one ends after it is permitted (an open one never ends).
    fn double_booking(&self, out: &mut Vec<Finding>) {
        let k = self.tickets;
        let permitted = (0..k.id.len())
            .filter(|t| self.live[*t] && k.permitted[*t].is_some())
            .map(|t| u32::try_from(t).unwrap_or(NONE));
        let by_person = Index::build(
            self.people.names.len(),
            permitted.flat_map(|t| self.ticket_people.get(t as usize).iter().map(move |p| (*p, t))),
        );
        let mut ks: Vec<u32> = Vec::new();
        for p in 0..self.people.names.len() {
            let p = u32::try_from(p).unwrap_or(NONE);
            let of = by_person.of(p);
            if of.len() < 2 {
                continue;
            }
            ks.clear();
            ks.extend_from_slice(of);
            ks.sort_unstable_by(|a, b| {
                (k.permitted[*a as usize], k.id[*a as usize]).cmp(&(k.permitted[*b as usize], k.id[*b as usize]))
            });
            let name = self.people.names[p as usize];
            let mut latest: Option<Option<i64>> = None;
            let mut latest_id = "";
            for t in &ks {
                let t = *t as usize;
                let Some(start) = k.permitted[t] else { continue };
                let clash = match latest {
                    Some(None) => true,
                    Some(Some(end)) => end > start,
                    None => false,
                };
                if clash {
                    out.push(Finding::new(
                        Rule::PersonDoubleBooked,
                        "ticket",
                        k.id[t],
                        name,
                        format!("{name} 在工作票 {} 许可开工（{}）时仍在工作票 {latest_id} 中", k.id[t], fmt(start)),
                    ));
                }
                let end = if k.status[t] == TicketStatus::Open { None } else { k.ended[t] };
                let later = match (latest, end) {
                    (None, _) | (Some(Some(_)), None) => true,
                    (Some(Some(a)), Some(b)) => b > a,
                    (Some(None), _) => false,
                };
                if later {
                    latest = Some(end);
                    latest_id = k.id[t];
                }
            }
        }
    }

    fn event_rules(&self, out: &mut Vec<Finding>) {
        let (e, k) = (self.events, self.tickets);
        let margin = self.th.event_margin_minutes * 60;
        for i in 0..e.id.len() {
            let at = e.at[i];
            let customer = self.customers.get(e.customer[i]).unwrap_or(NONE);
            let explained = self.by_customer.of(customer).iter().any(|t| {
                let t = *t as usize;
                k.permitted[t].is_some_and(|p| p - margin <= at) && k.ended[t].is_none_or(|end| at <= end + margin)
            });
            if !explained {
                let kind = if e.terminal[i] { "开端钮盒" } else { "开表盖" };
                out.push(Finding::new(
                    Rule::EventWithoutTicket,
                    "event",
                    e.id[i],
                    e.customer[i],
                    format!(
                        "电能表 {}（户号 {}）于 {} {}，前后 {} 分钟内没有该户的有效工作票",
                        e.meter[i],
                        e.customer[i],
                        fmt(at),
                        kind,
                        self.th.event_margin_minutes
                    ),
                ));
            }
        }
    }
}
