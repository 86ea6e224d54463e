//! The cross-audit at the speed of the hardware (倒查引擎 v2), for the export as the marketing
//! system writes it: a folder of UTF-8 CSV files.
//!
//! The three large tables (work orders, tickets, meter events) are read a chunk at a time
//! into one reused buffer and parsed there (`Source`, `chunks`); only what the rules need is
//! kept, in columns: ids in `Strings` (one buffer and 4-byte bounds a column), times packed to
//! seconds, enumerations to bytes. The meter events are parsed while the small tables are read,
//! then the orders and the tickets on the two cores. People are numbered as they are read, from
//! the numbers the small tables gave them, a batch at a time; the orders' and the meter events'
//! customers while the tickets are still read. Ids are kept in open-addressing tables packed
//! into words (no probe reads an id's bytes), and where the marketing system wrote a table in the
//! order of its ids (it does), ids are proven distinct and orders found by a search from the last
//! one found, with no table at all.
//! The rules then run as passes over those columns, joined through arrays indexed by the
//! numbers (per order, per customer, per person), in shares both cores take. A rule's finding is
//! a 48-byte hit (its key borrowed from the columns, its words as indexes into them), kept apart
//! by rule and sorted there; the words, and each finding as the CSV record `gridsafe audit`
//! writes, are written on both cores, piece by piece, only as the findings are handed out, in
//! order, to be written ([`audit_export_each`]).
//!
//! It gives exactly the findings of [`crate::engine::audit`] (a property test and the
//! benchmark compare them). It does not name problems: anything it does not read with certainty
//! (another encoding, a workbook, a doubled quote, a value outside the usual forms that the
//! exact reader refuses, a repeated id) makes it answer `None`, and the caller reads the export
//! the exact way, which names every problem by file, line, column and value.

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use foldhash::{HashMap, HashMapExt};

use gridsafe_domain::orders::OrderType;
use gridsafe_domain::people::QualificationKind;

use crate::engine::{Finding, FindingRef, Rule, Thresholds, csv_record};
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
    // The meter events (which name no one) parsed while the small tables are read: the other
    // large tables are numbered from the people those name.
    let events = files.events.as_deref().map(Source::File);
    let (events, small) = beside(|| Events::parse(events), || small_tables(&files));
    let small = small?;
    let (people, facts) = Facts::of(&small);
    let parsed = Parsed::parse(Source::File(&files.orders), Source::File(&files.tickets), events?, &people)?;
    parsed.audit(&small, people, facts, as_of, th, Scope::ALL, each)
}

/// What `other` returned on a thread of its own and what `here` returned meanwhile.
fn beside<A: Send, B>(other: impl FnOnce() -> A + Send, here: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|s| {
        let other = s.spawn(other);
        let here = here();
        (joined(other), here)
    })
}

/// What a scoped thread returned (its panic carried on).
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
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

/// Audits the three large tables (each with its header) against the small tables, within
/// `scope`, as [`audit_export_each`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn audit_sources<E>(
    small: &Tables,
    orders: Source<'_>,
    tickets: Source<'_>,
    events: Option<Source<'_>>,
    as_of: NaiveDate,
    th: &Thresholds,
    scope: Scope,
    each: impl FnMut(FindingRef<'_>) -> Result<(), E>,
) -> Option<Result<(), E>> {
    let (events, (people, facts)) = beside(|| Events::parse(events), || Facts::of(small));
    let parsed = Parsed::parse(orders, tickets, events?, &people)?;
    parsed.audit(small, people, facts, as_of, th, scope, each)
}

/// A qualification: its kind, first day and last day.
type Qualification = (QualificationKind, i32, i32);

/// What the small tables say of people, by their numbers ([`Facts::of`]).
struct Facts<'s> {
    /// Per person, what the rules look up for every order and ticket the person is on.
    persons: Vec<Person>,
    /// Per person: all their qualifications, looked at for one who holds more than two.
    quals: Lists<Qualification>,
    /// The contractors people work for ([`Person::contractor`]).
    contractors: Vec<&'s str>,
    /// Per person, what holds of them on every day the audit checks ([`Facts::always_within`]),
    /// a byte each (400 KB for 400,000 people, where their records take 13 MB): the rules ask
    /// about the people of every order and ticket, and at ten million orders the records are
    /// past the caches (the checks of the tickets' issuers and permitters were two thirds of
    /// the tickets' rules, the check of the orders' workers two thirds of the orders').
    always: Vec<u8>,
    /// The first and last day the audit checks; `always` says nothing of other days.
    within: (i32, i32),
}

/// The bit of [`Facts::always`] for a person who holds `kind` on every day checked.
fn always_bit(kind: QualificationKind) -> u8 {
    match kind {
        QualificationKind::SafetyExam => 1,
        QualificationKind::WorkLeader => 2,
        QualificationKind::TicketIssuer => 4,
        QualificationKind::WorkPermitter => 8,
        _ => 0,
    }
}

/// The bit of [`Facts::always`] for a person who works for no contractor.
const NO_CONTRACTOR: u8 = 16;

/// What the small tables say of one person, in one place (32 bytes): the rules look a person
/// up for every order and ticket they are on, and at ten million orders, each lookup in a
/// table of its own (qualifications, their starts, contractors) was a trip to memory.
#[derive(Clone, Copy)]
struct Person {
    /// Their first two qualifications (the others in [`Facts::quals`]).
    held: [Qualification; 2],
    /// How many qualifications they hold.
    count: u32,
    /// The contractor they work for (its place in [`Facts::contractors`]), or `NONE`.
    contractor: u32,
}

const _: () = assert!(std::mem::size_of::<Person>() == 32);

impl Person {
    /// No qualification, no contractor (an interval no day is in fills the unused places).
    const NOBODY: Person = Person { held: [(QualificationKind::SafetyExam, 1, 0); 2], count: 0, contractor: NONE };
}

impl<'s> Facts<'s> {
    /// The people the small tables name, numbered, and what they say of them.
    fn of(small: &'s Tables) -> (Interner<'s>, Self) {
        let mut people = Interner::with_capacity(small.persons.len());
        let held: Vec<(u32, Qualification)> = small
            .qualifications
            .iter()
            .map(|q| (people.id(&q.person_id), (q.kind, days(q.valid_from), days(q.valid_to))))
            .collect();
        let with_contractor: Vec<(u32, &str)> =
            small.persons.iter().filter_map(|p| Some((people.id(&p.person_id), p.contractor_id.as_deref()?))).collect();
        let quals = Lists::build(people.names.len(), held.into_iter());
        let mut persons: Vec<Person> = (0..people.names.len())
            .map(|p| {
                let of = quals.get(p);
                let mut person = Person::NOBODY;
                person.held.iter_mut().zip(of).for_each(|(slot, q)| *slot = *q);
                person.count = u32::try_from(of.len()).unwrap_or(u32::MAX);
                person
            })
            .collect();
        let mut contractors = Vec::with_capacity(with_contractor.len());
        for (p, c) in with_contractor {
            persons[p as usize].contractor = u32::try_from(contractors.len()).unwrap_or(NONE);
            contractors.push(c);
        }
        (people, Self { persons, quals, contractors, always: Vec::new(), within: (1, 0) })
    }

    /// Notes, for each person, what holds of them on every day from `first` to `last`: the
    /// kinds of qualification one of theirs covers all of it, and whether they work for no
    /// contractor. The rules then read a person's record only where this does not answer.
    fn always_within(&mut self, first: i32, last: i32) {
        let kinds = [
            QualificationKind::SafetyExam,
            QualificationKind::WorkLeader,
            QualificationKind::TicketIssuer,
            QualificationKind::WorkPermitter,
        ];
        self.always = (0..self.persons.len())
            .map(|p| {
                let person = u32::try_from(p).unwrap_or(NONE);
                let held = |kind| self.held(person).any(|(k, from, to)| *k == kind && *from <= first && last <= *to);
                let contractor = if self.persons[p].contractor == NONE { NO_CONTRACTOR } else { 0 };
                kinds.into_iter().filter(|kind| held(*kind)).fold(contractor, |bits, kind| bits | always_bit(kind))
            })
            .collect();
        self.within = (first, last);
    }

    /// A person's qualifications.
    fn held(&self, person: u32) -> impl Iterator<Item = &Qualification> {
        let held = match self.persons.get(person as usize) {
            Some(p) if p.count > 2 => self.quals.of(person),
            Some(p) => &p.held[..p.count as usize],
            None => &[],
        };
        held.iter()
    }

    /// Whether `person` holds a valid qualification of `kind` on `day`.
    fn holds(&self, person: u32, kind: QualificationKind, day: i32) -> bool {
        let (first, last) = self.within;
        let always = self.always.get(person as usize).is_some_and(|bits| bits & always_bit(kind) != 0);
        (always && first <= day && day <= last)
            || self.held(person).any(|(k, from, to)| *k == kind && *from <= day && day <= *to)
    }

    /// The contractor a person works for.
    fn contractor(&self, person: u32) -> Option<&'s str> {
        if self.always.get(person as usize).is_some_and(|bits| bits & NO_CONTRACTOR != 0) {
            return None;
        }
        let c = self.persons.get(person as usize)?.contractor;
        self.contractors.get(c as usize).copied()
    }
}

/// The three large tables, parsed, and the people they name that the small tables do not.
struct Parsed {
    orders: Orders,
    tickets: Tickets,
    events: Events,
    /// People the small tables do not name, by their numbers after those the small tables give.
    others: Strings,
    customers: Customers,
}

/// The orders' and the meter events' customers, numbered while the tickets are still being
/// parsed (the tickets' are numbered on, from the same table, when they are joined).
#[derive(Default)]
struct Customers {
    numbers: Numbers,
    /// Per order and per audited meter event: its customer.
    per_order: Vec<u32>,
    per_event: Vec<u32>,
}

impl Parsed {
    /// The orders and tickets parsed on the two cores, people numbered from those the small
    /// tables name (`known`), beside the `events` parsed before; `None` for what only the exact
    /// reader may judge.
    fn parse(orders: Source<'_>, tickets: Source<'_>, mut events: Events, known: &Interner<'_>) -> Option<Self> {
        let (orders, tickets) = beside(
            || {
                let mut numbering = Numbering::new(known, ORDERS_TAG);
                let orders = Orders::parse(orders, &mut numbering)?;
                let mut numbers = Numbers::with_capacity(orders.id.len() / 2);
                let per_order = orders.customer.iter().map(|c| numbers.id(c)).collect();
                // A customer no order names is numbered too: their tickets, numbered later
                // from the same table, are then found by that number.
                let per_event = events.customer.iter().map(|c| numbers.id(c)).collect();
                Some((orders, numbering, Customers { numbers, per_order, per_event }))
            },
            || {
                let mut numbering = Numbering::new(known, TICKETS_TAG);
                Tickets::parse(tickets, &mut numbering).map(|t| (t, numbering))
            },
        );
        let ((mut orders, of_orders, customers), (mut tickets, of_tickets)) = (orders?, tickets?);
        if !distinct(&events.all_ids) {
            return None;
        }
        events.all_ids = Strings::default();
        // People the small tables do not name, numbered after those they do: those of the
        // orders first, then those only the tickets name.
        let base = u32::try_from(known.names.len()).ok()?;
        let Numbering { names: mut others, own: of_orders, .. } = of_orders;
        if !others.is_empty() || !of_tickets.names.is_empty() {
            let by_orders: Vec<u32> = (base..).take(others.len()).collect();
            let mut by_tickets = Vec::with_capacity(of_tickets.names.len());
            for name in of_tickets.names.iter() {
                let number = match of_orders.get(name) {
                    Some(at) => base + at,
                    None => {
                        others.push(name)?;
                        base + u32::try_from(others.len() - 1).ok()?
                    }
                };
                by_tickets.push(number);
            }
            let renumber = |id: &mut u32| {
                if *id == NONE {
                } else if *id & ORDERS_TAG != 0 {
                    *id = by_orders[(*id & !ORDERS_TAG) as usize];
                } else if *id & TICKETS_TAG != 0 {
                    *id = by_tickets[(*id & !TICKETS_TAG) as usize];
                }
            };
            orders.workers.items.iter_mut().for_each(renumber);
            tickets.people.items.iter_mut().for_each(renumber);
            tickets.roles.iter_mut().flatten().for_each(renumber);
        }
        Some(Self { orders, tickets, events, others, customers })
    }

    #[allow(clippy::too_many_arguments)]
    fn audit<'s, E>(
        mut self,
        small: &'s Tables,
        people: Interner<'s>,
        facts: Facts<'s>,
        as_of: NaiveDate,
        th: &'s Thresholds,
        scope: Scope,
        each: impl FnMut(FindingRef<'_>) -> Result<(), E>,
    ) -> Option<Result<(), E>> {
        // A ticket's order ids are needed only until its orders are found; the customers are
        // numbered on.
        let order_ids = std::mem::take(&mut self.tickets.orders);
        let customers = std::mem::take(&mut self.customers);
        let audit = Audit::new(small, people, facts, &self, order_ids, customers, as_of, th, scope)?;
        Some(audit.write(audit.run(), each))
    }
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

/// Bytes a file is read by at a time: small enough to be parsed while still in the cache it was
/// read into, and reused, so that the export's text is never held whole (a few in the unit
/// tests, for records to go on from one chunk to the next).
#[cfg(not(test))]
const CHUNK: usize = 1 << 19;
#[cfg(test)]
const CHUNK: usize = 97;

/// A record longer than this (a quoted cell going on for ever) is left to the exact reader.
pub(crate) const MAX_RECORD: usize = 64 << 20;

/// Where a large table's text comes from.
#[derive(Clone, Copy)]
pub(crate) enum Source<'t> {
    /// A file, read a chunk at a time; what the rules need is copied out of each chunk.
    File(&'t Path),
    /// A text in memory, its header first (a partition's).
    Text(&'t str),
}

impl Source<'_> {
    /// Data rows it holds, about, to size columns once: from the length of its first lines, a
    /// quarter over (capacity never written to is never given memory by the system; a column
    /// that still fills up grows).
    fn rows_about(self) -> usize {
        const SAMPLE: usize = 1 << 16;
        let mut read = Vec::new();
        let (sample, size): (&[u8], u64) = match self {
            Source::Text(text) => (&text.as_bytes()[..text.len().min(SAMPLE)], text.len() as u64),
            Source::File(path) => {
                use std::io::Read;
                let _ = std::fs::File::open(path).and_then(|f| f.take(SAMPLE as u64).read_to_end(&mut read));
                (&read, std::fs::metadata(path).map_or(0, |m| m.len()))
            }
        };
        let lines = memchr::memchr_iter(b'\n', sample).count() + 1;
        let rows = size / (sample.len() as u64).max(1) * lines as u64 * 5 / 4 + 1024;
        usize::try_from(rows).unwrap_or(usize::MAX)
    }

    /// The rows of a table: each record's trimmed cells in the order of `columns`, blank
    /// records skipped. `None` for what only the exact reader may judge (not UTF-8, a missing
    /// column, a quote the fast reader does not read, a record over the limits) or when `each`
    /// answers `None`.
    fn rows(self, columns: &[Column], mut each: impl FnMut(&[&str]) -> Option<()>) -> Option<()> {
        let mut rows = Rows { columns, positions: None, count: 0 };
        let path = match self {
            Source::Text(text) => return rows.feed(text, true, &mut each).map(drop),
            Source::File(path) => path,
        };
        chunks(path, CHUNK, |text, eof| rows.feed(text, eof, &mut each)).ok().flatten()
    }
}

/// Reads a file a chunk of whole lines at a time (about `chunk` bytes), without its UTF-8
/// byte-order mark: `each` is handed each chunk's text and whether it is the last, and answers
/// how much of it it read (the rest comes again at the start of the next chunk; the last is
/// read whole). `Ok(None)` when the file is not UTF-8, a line is longer than [`MAX_RECORD`],
/// or `each` answers `None`.
pub(crate) fn chunks(
    path: &Path,
    chunk: usize,
    mut each: impl FnMut(&str, bool) -> Option<usize>,
) -> std::io::Result<Option<()>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buf: Vec<u8> = Vec::with_capacity(chunk * 2);
    let (mut eof, mut first) = (false, true);
    loop {
        if !eof {
            let got = Read::by_ref(&mut file).take(chunk as u64).read_to_end(&mut buf)?;
            eof = got == 0;
        }
        if first && (eof || buf.len() >= 3) {
            if buf.starts_with(b"\xEF\xBB\xBF") {
                buf.drain(..3);
            }
            first = false;
        }
        // Whole lines only, until the end.
        let end = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                None if buf.len() > MAX_RECORD => return Ok(None),
                None => continue,
            }
        };
        let Ok(text) = simdutf8::basic::from_utf8(&buf[..end]) else { return Ok(None) };
        let Some(used) = each(text, eof) else { return Ok(None) };
        if eof {
            return Ok(Some(()));
        }
        buf.drain(..used);
    }
}

/// A table's rows read from its text a chunk at a time ([`Source::rows`]).
struct Rows<'c> {
    columns: &'c [Column],
    /// Where each column is, once the header is read.
    positions: Option<Vec<usize>>,
    count: usize,
}

impl Rows<'_> {
    /// Hands the rows of the records of `text` to `each`; how much of it was read (a record
    /// going on after it is left for the next chunk), all of it at the end (`eof`).
    fn feed(&mut self, text: &str, eof: bool, each: &mut impl FnMut(&[&str]) -> Option<()>) -> Option<usize> {
        let limits = Limits::batch();
        let mut records = Records::new(text);
        let mut cells = Vec::with_capacity(16);
        let mut row: Vec<&str> = vec![""; self.columns.len()];
        loop {
            let before = records.at;
            match records.next(&mut cells) {
                Some(false) if eof && self.positions.is_none() => return None,
                Some(false) => return Some(text.len()),
                Some(true) => {}
                None => {
                    // A quoted cell going on in the next chunk (a quote left open), or a quote
                    // the fast reader does not read.
                    let open = memchr::memchr_iter(b'"', &text.as_bytes()[before..]).count() % 2 == 1;
                    return (!eof && open && text.len() - before <= MAX_RECORD).then_some(before);
                }
            }
            let Some(positions) = &self.positions else {
                self.positions = Some(layout_of(&cells, self.columns)?);
                continue;
            };
            if cells.iter().all(|c| trim(c).is_empty()) {
                continue;
            }
            self.count += 1;
            if cells.len() > limits.columns
                || self.count > limits.rows
                || cells.iter().any(|c| c.len() > limits.cell_chars)
            {
                return None;
            }
            for (slot, p) in row.iter_mut().zip(positions) {
                *slot = cells.get(*p).map_or("", |c| trim(c));
            }
            each(&row)?;
        }
    }
}

/// Texts one after another in one buffer: 4 bytes a text beside its bytes, where a slice of
/// the export's text was 16 and kept all of the text.
pub(crate) struct Strings {
    text: String,
    /// Text `i` is `text[bounds[i]..bounds[i + 1]]`.
    bounds: Vec<u32>,
}

impl Default for Strings {
    fn default() -> Self {
        Self::with_capacity(0, 0)
    }
}

impl Strings {
    fn with_capacity(texts: usize, bytes: usize) -> Self {
        let mut bounds = Vec::with_capacity(texts + 1);
        bounds.push(0);
        Self { text: String::with_capacity(bytes), bounds }
    }

    /// Adds a text; `None` once the texts reach 4 GB (a table far beyond any memory budget).
    fn push(&mut self, text: &str) -> Option<()> {
        self.text.push_str(text);
        self.bounds.push(u32::try_from(self.text.len()).ok()?);
        Some(())
    }

    fn len(&self) -> usize {
        self.bounds.len() - 1
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn get(&self, i: usize) -> &str {
        &self.text[self.bounds[i] as usize..self.bounds[i + 1] as usize]
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        self.bounds.windows(2).map(|b| &self.text[b[0] as usize..b[1] as usize])
    }
}

/// RFC 4180 records over text, cells as slices of it. `None` for what only the exact reader
/// may judge (a doubled quote inside a quoted cell, text after a closing quote).
pub(crate) struct Records<'a> {
    pub text: &'a str,
    pub at: usize,
    /// The first quote at or after `at` (the text's length when there is none): a record
    /// before it is split at its commas and its end in one pass.
    quote: usize,
}

impl<'a> Records<'a> {
    pub fn new(text: &'a str) -> Self {
        Self { text, at: 0, quote: memchr::memchr(b'"', text.as_bytes()).unwrap_or(text.len()) }
    }

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
        // Most records have no quote: their line is split at its commas, up to its end.
        if self.quote < self.at {
            self.quote = memchr::memchr(b'"', &bytes[self.at..]).map_or(bytes.len(), |i| self.at + i);
        }
        let mut start = self.at;
        for i in memchr::memchr3_iter(b',', b'\n', b'\r', &bytes[self.at..self.quote]) {
            let at = self.at + i;
            cells.push(&self.text[start..at]);
            if bytes[at] != b',' {
                self.at = at + 1;
                return Some(true);
            }
            start = at + 1;
        }
        if self.quote == bytes.len() {
            cells.push(&self.text[start..]);
            self.at = bytes.len();
            return Some(true);
        }
        // A quote in the record: cell by cell.
        cells.clear();
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
    layout_of(&cells, columns)
}

/// Where each column of `columns` is among the header's `cells`.
fn layout_of(cells: &[&str], columns: &[Column]) -> Option<Vec<usize>> {
    let headers: Vec<String> = cells.iter().map(|h| h.trim().to_owned()).collect();
    if headers.len() > Limits::batch().columns || headers.iter().any(|h| h.len() > Limits::batch().cell_chars) {
        return None;
    }
    columns
        .iter()
        .map(|c| gridsafe_sheet::column(&headers, c.en, c.zh).or((!c.required).then_some(usize::MAX)))
        .collect()
}

/// A cell without the white space around it, as `str::trim`: at once when it neither starts
/// nor ends with a space or a character beyond ASCII.
fn trim(cell: &str) -> &str {
    let b = cell.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) if !(first.is_ascii_graphic() && last.is_ascii_graphic()) => cell.trim(),
        _ => cell,
    }
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
    if !quick {
        return Some(gridsafe_sheet::parse_datetime(&Cell::Text(cell.to_owned())).ok()?.and_utc().timestamp());
    }
    let year = digits(&b[0..2])? * 100 + digits(&b[2..4])?;
    let (month, day) = (digits(&b[5..7])?, digits(&b[8..10])?);
    let (hour, minute) = (digits(&b[11..13])?, digits(&b[14..16])?);
    let second = match b.get(16..19) {
        Some([b':', s @ ..]) => digits(s)?,
        Some(_) => return None,
        None => 0,
    };
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let time = i64::from(hour * 3600 + minute * 60 + second);
    Some(days_from_civil(i64::from(year), month, day) * 86_400 + time)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date of the proleptic Gregorian calendar (H. Hinnant's
/// `days_from_civil`), without a calendar library's checks, made already.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = i64::from((153 * ((month + 9) % 12) + 2) / 5 + day - 1);
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn opt_seconds(cell: &str) -> Option<Option<i64>> {
    if cell.is_empty() { Some(None) } else { seconds(cell).map(Some) }
}

/// A list cell's items, split, trimmed, blanks dropped, repeats collapsed (as
/// [`gridsafe_sheet::parse_list`]), appended to `into`.
pub(crate) fn list<'a>(cell: &'a str, into: &mut Vec<&'a str>) {
    let first = into.len();
    items(cell, |item| {
        if !into[first..].contains(&item) {
            into.push(item);
        }
    });
}

/// A list cell's items, split, trimmed, blanks dropped, repeats not (yet) collapsed.
fn items<'a>(cell: &'a str, mut each: impl FnMut(&'a str)) {
    let mut add = |item: &'a str| {
        let item = trim(item);
        if !item.is_empty() {
            each(item);
        }
    };
    if cell.is_ascii() {
        let mut start = 0;
        for at in memchr::memchr2_iter(b';', b',', cell.as_bytes()) {
            add(&cell[start..at]);
            start = at + 1;
        }
        add(&cell[start..]);
    } else {
        cell.split([';', '；', ',', '，']).for_each(add);
    }
}

/// A list cell's items as [`list`] gives them, repeats collapsed, and `but` left out, each
/// handed to `each` (without a vector to keep them in: a repeat is looked for among the 16
/// before it, or, in a longer list, among all).
fn distinct_items<'c>(cell: &'c str, but: &'c str, mut each: impl FnMut(&'c str)) {
    let (mut seen, mut n, mut more) = ([""; 16], 0, Vec::new());
    items(cell, |item| {
        if item == but || seen[..n].contains(&item) || more.contains(&item) {
            return;
        }
        if n < seen.len() {
            seen[n] = item;
            n += 1;
        } else {
            more.push(item);
        }
        each(item);
    });
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

    /// The list of a number; none for `NONE` or beyond the lists.
    fn of(&self, key: u32) -> &[T] {
        if key as usize + 1 >= self.starts.len() {
            return &[];
        }
        self.get(key as usize)
    }
}

impl<T: Copy> Lists<T> {
    /// Lists of the numbers below `keys` from `(key, item)` pairs, a key's items in the pairs'
    /// order (compressed rows, counted and then filled).
    fn build(keys: usize, pairs: impl Iterator<Item = (u32, T)> + Clone) -> Self {
        let mut starts = vec![0_u32; keys + 1];
        for (k, _) in pairs.clone() {
            starts[k as usize + 1] += 1;
        }
        for i in 0..keys {
            starts[i + 1] += starts[i];
        }
        let mut fill = starts.clone();
        let mut items = pairs.clone().next().map_or_else(Vec::new, |(_, v)| vec![v; starts[keys] as usize]);
        for (k, v) in pairs {
            items[fill[k as usize] as usize] = v;
            fill[k as usize] += 1;
        }
        Self { starts, items }
    }
}

/// `work_orders`, by column.
struct Orders {
    id: Strings,
    kind: Vec<OrderType>,
    customer: Strings,
    start: Vec<i64>,
    finish: Vec<i64>,
    /// Its workers, by number ([`Numbering`]), each once.
    workers: Lists<u32>,
}

/// Bytes an id takes, about, to size the columns of ids.
const ID_BYTES: usize = 16;

impl Orders {
    fn parse(source: Source<'_>, people: &mut Numbering<'_, '_>) -> Option<Self> {
        let n = source.rows_about();
        let mut o = Orders {
            id: Strings::with_capacity(n, n * ID_BYTES),
            kind: Vec::with_capacity(n),
            customer: Strings::with_capacity(n, n * ID_BYTES),
            start: Vec::with_capacity(n),
            finish: Vec::with_capacity(n),
            workers: Lists::with_capacity(n, n * 3),
        };
        source.rows(&ORDER_COLUMNS, |r| {
            let kind = enum_value(r[1], ORDER_TYPES)?;
            if r[0].is_empty() || r[2].is_empty() {
                return None;
            }
            o.id.push(r[0])?;
            o.kind.push(kind);
            o.customer.push(r[2])?;
            o.start.push(seconds(r[4])?);
            o.finish.push(seconds(r[5])?);
            let mut numbered = Some(());
            distinct_items(r[6], "", |w| {
                let at = o.workers.items.len();
                match people.number(w, Target::Items, at) {
                    Some(w) => o.workers.items.push(w),
                    None => numbered = None,
                }
            });
            numbered?;
            o.workers.close();
            people.settle_some(&mut o.workers.items, &mut [])
        })?;
        people.settle(&mut o.workers.items, &mut [])?;
        Some(o)
    }
}

/// `tickets`, by column.
struct Tickets {
    id: Strings,
    customer: Strings,
    /// The ids of the orders it names, each once: those of ticket `k` are
    /// `orders[order_lists[k]..order_lists[k + 1]]`.
    orders: Strings,
    order_lists: Vec<u32>,
    /// Whether a contractor's issuer co-signed (会签人 not empty).
    cosigned: Vec<bool>,
    /// Its people by number ([`Numbering`]): the leader, then the crew, each once.
    people: Lists<u32>,
    /// Its leader, issuer and permitter (`NONE` where the cell is blank).
    roles: Vec<[u32; 3]>,
    /// Seconds, or `NO_TIME` (8 bytes a ticket each instead of an `Option`'s 16).
    permitted_at: Vec<i64>,
    ended_at: Vec<i64>,
    status: Vec<TicketStatus>,
    evaluated: Vec<bool>,
}

impl Tickets {
    fn parse(source: Source<'_>, people: &mut Numbering<'_, '_>) -> Option<Self> {
        let n = source.rows_about();
        let mut t = Tickets {
            id: Strings::with_capacity(n, n * ID_BYTES),
            customer: Strings::with_capacity(n, n * ID_BYTES),
            orders: Strings::with_capacity(n, n * ID_BYTES),
            order_lists: Vec::with_capacity(n + 1),
            cosigned: Vec::with_capacity(n),
            people: Lists::with_capacity(n, n * 3),
            roles: Vec::with_capacity(n),
            permitted_at: Vec::with_capacity(n),
            ended_at: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
            evaluated: Vec::with_capacity(n),
        };
        t.order_lists.push(0);
        source.rows(&TICKET_COLUMNS, |r| {
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
            t.id.push(r[0])?;
            t.customer.push(r[2])?;
            let mut kept = Some(());
            distinct_items(r[3], "", |o| {
                if t.orders.push(o).is_none() {
                    kept = None;
                }
            });
            kept?;
            t.order_lists.push(u32::try_from(t.orders.len()).ok()?);
            t.cosigned.push(!r[5].is_empty());
            // The leader (numbered once, for both places), the issuer and the permitter.
            let mut roles = [NONE; 3];
            if !r[6].is_empty() {
                let item = u32::try_from(t.people.items.len()).ok()?;
                roles[0] = people.number(r[6], Target::Leader(item), t.roles.len() * 3)?;
                t.people.items.push(roles[0]);
            }
            for (j, name) in [(1, r[4]), (2, r[7])] {
                if !name.is_empty() {
                    roles[j] = people.number(name, Target::Roles, t.roles.len() * 3 + j)?;
                }
            }
            t.roles.push(roles);
            let mut numbered = Some(());
            // The crew but the leader, after the leader.
            let mut add = |c| {
                let at = t.people.items.len();
                match people.number(c, Target::Items, at) {
                    Some(c) => t.people.items.push(c),
                    None => numbered = None,
                }
            };
            distinct_items(r[8], r[6], &mut add);
            numbered?;
            t.people.close();
            t.permitted_at.push(opt_seconds(r[9])?.unwrap_or(NO_TIME));
            t.ended_at.push(opt_seconds(r[10])?.unwrap_or(NO_TIME));
            t.status.push(enum_value(r[11], STATUSES)?);
            t.evaluated.push(evaluated);
            people.settle_some(&mut t.people.items, t.roles.as_flattened_mut())
        })?;
        people.settle(&mut t.people.items, t.roles.as_flattened_mut())?;
        Some(t)
    }
}

impl Tickets {
    /// Its end as double booking counts it: none while it is open or not ended.
    fn booked_until(&self, t: usize) -> Option<i64> {
        if self.status[t] == TicketStatus::Open { None } else { self.ended(t) }
    }

    fn permitted(&self, t: usize) -> Option<i64> {
        Some(self.permitted_at[t]).filter(|at| *at != NO_TIME)
    }

    fn ended(&self, t: usize) -> Option<i64> {
        Some(self.ended_at[t]).filter(|at| *at != NO_TIME)
    }
}

/// `meter_events`, by column: only the audited kinds are kept; every row is still checked.
#[derive(Default)]
struct Events {
    id: Strings,
    meter: Strings,
    customer: Strings,
    terminal: Vec<bool>,
    at: Vec<i64>,
    /// Every event id, audited or not, to refuse a repeated one.
    all_ids: Strings,
}

impl Events {
    /// The table's events; none without a table.
    fn parse(source: Option<Source<'_>>) -> Option<Self> {
        let Some(source) = source else { return Some(Self::default()) };
        let n = source.rows_about();
        let mut e = Events { all_ids: Strings::with_capacity(n, n * ID_BYTES), ..Events::default() };
        source.rows(&EVENT_COLUMNS, |r| {
            if r[0].is_empty() || r[2].is_empty() || r[3].is_empty() {
                return None;
            }
            let at = seconds(r[4])?;
            e.all_ids.push(r[0])?;
            let kind = enum_value(r[3], EVENT_KINDS).unwrap_or(EventKind::Other);
            if matches!(kind, EventKind::CoverOpen | EventKind::TerminalCoverOpen) {
                e.id.push(r[0])?;
                e.meter.push(r[1])?;
                e.customer.push(r[2])?;
                e.terminal.push(kind == EventKind::TerminalCoverOpen);
                e.at.push(at);
            }
            Some(())
        })?;
        Some(e)
    }
}

/// A short text as two big-endian words, zeros after its end: two texts of up to 16 bytes are
/// then compared as numbers (and by length when equal), without a call to the C library's
/// `memcmp` for every comparison of ids.
fn as_words(text: &str) -> Option<(u64, u64)> {
    let b = text.as_bytes();
    let n = b.len();
    let word = |at: usize| b.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()).map_or(0, u64::from_be_bytes);
    match n {
        0..8 => Some((b.iter().enumerate().fold(0, |w, (i, byte)| w | u64::from(*byte) << (56 - 8 * i)), 0)),
        8 => Some((word(0), 0)),
        9..=16 => Some((word(0), word(n - 8) << (8 * (16 - n)))),
        _ => None,
    }
}

/// Texts in the order of `str::cmp`.
#[inline]
fn order(a: &str, b: &str) -> std::cmp::Ordering {
    match (as_words(a), as_words(b)) {
        (Some(x), Some(y)) => x.cmp(&y).then(a.len().cmp(&b.len())),
        _ => a.cmp(b),
    }
}

/// Texts equal, as `==`.
#[inline]
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && order(a, b).is_eq()
}

/// An id of up to 15 bytes packed in two words with its length, so that a probe of a join's
/// table compares numbers where the entry is instead of reading the id's bytes from far away
/// in the export's text (that read was a fifth of the audit's time).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
struct Packed(u64, u64);

impl Packed {
    /// The id's two words ([`as_words`]), its length in the last byte, which they leave zero.
    fn of(id: &str) -> Option<Self> {
        let (first, second) = as_words(id).filter(|_| id.len() <= 15)?;
        Some(Packed(first, second | id.len() as u64))
    }
}

/// Ids to numbers: those of up to 8 bytes (without a NUL) as one word, up to 15 packed in two,
/// longer ones (rare) by a copy of their text.
#[derive(Default)]
struct IdMap {
    /// How many ids to make room for in the table of their kind, when it takes its first.
    room: usize,
    short: Table<u64>,
    packed: Table<Packed>,
    long: HashMap<Box<str>, u32>,
}

/// What a [`Table`] is keyed by: a packed id, hashed by multiplying (Fibonacci hashing: the
/// table takes the top bits of the product).
trait TableKey: Copy + Eq + Default {
    fn hash(self) -> u64;
}

const FIBONACCI: u64 = 0x9E37_79B9_7F4A_7C15;

impl TableKey for u64 {
    #[inline]
    fn hash(self) -> u64 {
        (self ^ (self >> 32)).wrapping_mul(FIBONACCI)
    }
}

impl TableKey for Packed {
    #[inline]
    fn hash(self) -> u64 {
        (self.0.wrapping_mul(FIBONACCI) ^ self.1).wrapping_mul(FIBONACCI)
    }
}

/// Packed ids to numbers in one array, each key beside its number, found by linear probing:
/// a probe reads one place in memory, where a general-purpose table reads its control bytes
/// and then its entry (two cache misses once the table outgrows the cache: at ten million
/// orders, a fifth of the audit's time was such probes). Slots are packed (12 bytes for a
/// one-word key instead of 16) and as many as the keys need, not a power of two: the smaller
/// the table, the more of it stays in the cache.
struct Table<K> {
    slots: Vec<Slot<K>>,
    len: usize,
}

/// A key and its number; no number (`NONE`) where the slot is free.
#[derive(Clone, Copy)]
#[repr(C, packed(4))]
struct Slot<K> {
    key: K,
    number: u32,
}

impl<K: TableKey> Default for Table<K> {
    fn default() -> Self {
        Self { slots: Vec::new(), len: 0 }
    }
}

impl<K: TableKey> Table<K> {
    /// Room for `n` keys at most 70% full.
    fn with_capacity(n: usize) -> Self {
        let slots = (n.saturating_mul(10) / 7 + 1).max(16);
        Self { slots: vec![Slot { key: K::default(), number: NONE }; slots], len: 0 }
    }

    /// The slot `key` is in, or the free one where it would go (its hash's top bits scaled to
    /// the table's length).
    #[inline]
    fn slot(&self, key: K) -> usize {
        let len = self.slots.len();
        let mut at = usize::try_from((u128::from(key.hash()) * len as u128) >> 64).unwrap_or(0);
        loop {
            let slot = self.slots[at];
            let (k, number) = (slot.key, slot.number);
            if number == NONE || k == key {
                return at;
            }
            at += 1;
            if at == len {
                at = 0;
            }
        }
    }

    fn get(&self, key: K) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        Some(self.slots[self.slot(key)].number).filter(|n| *n != NONE)
    }

    /// The number of `key`, given `next` if it had none (a table without slots first makes
    /// room for `room` keys).
    fn get_or_insert(&mut self, key: K, next: u32, room: usize) -> u32 {
        if (self.len + 1) * 10 > self.slots.len() * 7 {
            let mut bigger = Self::with_capacity(room.max(self.len * 2));
            for slot in std::mem::take(&mut self.slots).into_iter().filter(|s| s.number != NONE) {
                let at = bigger.slot(slot.key);
                bigger.slots[at] = slot;
                bigger.len += 1;
            }
            *self = bigger;
        }
        let at = self.slot(key);
        if self.slots[at].number == NONE {
            self.slots[at] = Slot { key, number: next };
            self.len += 1;
        }
        self.slots[at].number
    }
}

/// How an id is kept in an [`IdMap`].
enum IdKey<'a> {
    Short(u64),
    Packed(Packed),
    Long(&'a str),
}

impl<'a> IdKey<'a> {
    fn of(id: &'a str) -> Self {
        // Without a NUL, the zeros after the id tell where it ends.
        if id.len() <= 8 && !id.as_bytes().contains(&0) {
            return Self::Short(as_words(id).map_or(0, |(first, _)| first));
        }
        Packed::of(id).map_or(Self::Long(id), Self::Packed)
    }
}

impl IdMap {
    fn with_capacity(n: usize) -> Self {
        Self { room: n, short: Table::default(), packed: Table::default(), long: HashMap::new() }
    }

    /// The number of `id`, given `next` if it had none.
    fn get_or_insert(&mut self, id: &str, next: u32) -> u32 {
        match IdKey::of(id) {
            IdKey::Short(key) => self.short.get_or_insert(key, next, self.room),
            IdKey::Packed(key) => self.packed.get_or_insert(key, next, self.room),
            IdKey::Long(id) => match self.long.get(id) {
                Some(at) => *at,
                None => {
                    self.long.insert(id.into(), next);
                    next
                }
            },
        }
    }

    fn get(&self, id: &str) -> Option<u32> {
        match IdKey::of(id) {
            IdKey::Short(key) => self.short.get(key),
            IdKey::Packed(key) => self.packed.get(key),
            IdKey::Long(id) => self.long.get(id).copied(),
        }
    }
}

/// Ids to dense numbers, in the order they are first met.
#[derive(Default)]
struct Numbers {
    index: IdMap,
    count: u32,
}

impl Numbers {
    fn with_capacity(n: usize) -> Self {
        Self { index: IdMap::with_capacity(n), count: 0 }
    }

    fn id(&mut self, id: &str) -> u32 {
        let next = self.count;
        let number = self.index.get_or_insert(id, next);
        if number == next {
            self.count += 1;
        }
        number
    }

    fn get(&self, id: &str) -> Option<u32> {
        self.index.get(id)
    }
}

/// Strings to dense numbers, in first-seen order, and back.
struct Interner<'a> {
    numbers: Numbers,
    names: Vec<&'a str>,
}

impl<'a> Interner<'a> {
    fn with_capacity(n: usize) -> Self {
        Self { numbers: Numbers::with_capacity(n), names: Vec::with_capacity(n) }
    }

    fn id(&mut self, name: &'a str) -> u32 {
        let id = self.numbers.id(name);
        if id as usize == self.names.len() {
            self.names.push(name);
        }
        id
    }

    fn get(&self, name: &str) -> Option<u32> {
        self.numbers.get(name)
    }
}

/// People numbered as the large tables are parsed, on both cores at once: those the small
/// tables name have their numbers already (`known`, shared); one the small tables do not name
/// gets a number of this parser's own, marked with its `tag`, and its place among all people
/// once both parsers are done ([`Parsed::parse`]).
///
/// A person named in a row waits for their number, which is found for a batch of them at a
/// time ([`Numbering::settle`]): lookups one after another in a tight loop overlap in the
/// memory system, where one in each row's parsing waited for the memory alone (at ten million
/// orders the people's table is past the caches, and those lookups were a fifth of the time).
struct Numbering<'k, 's> {
    known: &'k Interner<'s>,
    /// The people of this parser's own numbers, and their names.
    own: Numbers,
    names: Strings,
    tag: u32,
    /// People waiting for their numbers: where the number goes and their id's key.
    waiting: Vec<(Target, u32, Waiting)>,
}

/// Where a waiting person's number goes: into a table's lists of people, its roles, or both
/// (a ticket's leader: its role and this place in its list of people).
#[derive(Clone, Copy)]
enum Target {
    Items,
    Roles,
    Leader(u32),
}

/// A waiting person's id, packed ([`IdKey`]; a longer id is numbered at once).
#[derive(Clone, Copy)]
enum Waiting {
    Short(u64),
    Packed(Packed),
}

impl Waiting {
    /// The id's text again, from its words.
    fn id(self) -> Option<String> {
        let (first, second, len) = match self {
            Waiting::Short(word) => (word, 0, word.to_be_bytes().iter().position(|b| *b == 0).unwrap_or(8)),
            Waiting::Packed(Packed(first, second)) => (first, second, (second & 0xff) as usize),
        };
        let mut bytes = [first.to_be_bytes(), second.to_be_bytes()].concat();
        bytes.truncate(len);
        String::from_utf8(bytes).ok()
    }
}

/// People waiting beyond which their numbers are found.
const WAITING: usize = 4096;

/// The marks of numbers a parser gave people the small tables do not name (no person's
/// number reaches them: a table holds far fewer rows).
const ORDERS_TAG: u32 = 1 << 31;
const TICKETS_TAG: u32 = 1 << 30;

impl<'k, 's> Numbering<'k, 's> {
    fn new(known: &'k Interner<'s>, tag: u32) -> Self {
        Self {
            known,
            own: Numbers::with_capacity(0),
            names: Strings::default(),
            tag,
            waiting: Vec::with_capacity(WAITING + 16),
        }
    }

    /// The number of `name`, whose place is `at` in `target`: `NONE` for now when it waits for
    /// it ([`Numbering::settle`]); `None` once the names reach 4 GB.
    fn number(&mut self, name: &str, target: Target, at: usize) -> Option<u32> {
        let waiting = match IdKey::of(name) {
            IdKey::Short(key) => Waiting::Short(key),
            IdKey::Packed(key) => Waiting::Packed(key),
            IdKey::Long(_) => return self.known.get(name).map_or_else(|| self.own(name), Some),
        };
        self.waiting.push((target, u32::try_from(at).ok()?, waiting));
        Some(NONE)
    }

    /// The number this parser gives a person the small tables do not name.
    fn own(&mut self, name: &str) -> Option<u32> {
        let at = self.own.id(name);
        if at as usize == self.names.len() {
            self.names.push(name)?;
        }
        Some(self.tag | at)
    }

    /// Numbers the waiting people once there are enough of them.
    fn settle_some(&mut self, items: &mut [u32], roles: &mut [u32]) -> Option<()> {
        if self.waiting.len() < WAITING {
            return Some(());
        }
        self.settle(items, roles)
    }

    /// Numbers the waiting people, into their places in `items` and `roles`.
    fn settle(&mut self, items: &mut [u32], roles: &mut [u32]) -> Option<()> {
        let mut waiting = std::mem::take(&mut self.waiting);
        for (target, at, key) in waiting.drain(..) {
            let known = match key {
                Waiting::Short(key) => self.known.numbers.index.short.get(key),
                Waiting::Packed(key) => self.known.numbers.index.packed.get(key),
            };
            let number = match known {
                Some(number) => number,
                None => self.own(&key.id()?)?,
            };
            match target {
                Target::Items => *items.get_mut(at as usize)? = number,
                Target::Roles => *roles.get_mut(at as usize)? = number,
                Target::Leader(item) => {
                    *roles.get_mut(at as usize)? = number;
                    *items.get_mut(item as usize)? = number;
                }
            }
        }
        self.waiting = waiting;
        Some(())
    }
}

/// Whether ids are in strictly ascending order, as the marketing system writes its tables:
/// then they are distinct, and found by search instead of through a table.
fn ascending(ids: &Strings) -> bool {
    ids.iter().zip(ids.iter().skip(1)).all(|(a, b)| order(a, b).is_lt())
}

/// Whether every id is distinct.
fn distinct(ids: &Strings) -> bool {
    IdFinder::new(ids).is_some()
}

/// Rows by id: in ascending ids, a search from where the last id was found (a ticket names
/// orders near those the ticket before it named), in any other order a table.
enum IdFinder<'a> {
    Ascending { ids: &'a Strings, at: usize },
    Table(IdMap),
}

impl<'a> IdFinder<'a> {
    /// `None` when two rows share an id.
    fn new(ids: &'a Strings) -> Option<Self> {
        if ascending(ids) {
            return Some(Self::Ascending { ids, at: 0 });
        }
        let mut table = IdMap::with_capacity(ids.len());
        (0..).zip(ids.iter()).all(|(i, id)| table.get_or_insert(id, i) == i).then_some(Self::Table(table))
    }

    fn find(&mut self, id: &str) -> Option<u32> {
        let (ids, at) = match self {
            Self::Table(table) => return table.get(id),
            Self::Ascending { ids, at } => (*ids, at),
        };
        let last = ids.len().checked_sub(1)?;
        let from = (*at).min(last);
        // The range [lo, hi) the id would be in, found by steps doubling away from `from`.
        let (mut lo, mut hi) = (from, from + 1);
        if order(ids.get(from), id).is_lt() {
            let mut step = 1;
            loop {
                lo = hi;
                hi = from + step + 1;
                if hi > last || order(ids.get(hi - 1), id).is_ge() {
                    hi = hi.min(ids.len());
                    break;
                }
                step *= 2;
            }
        } else if order(ids.get(from), id).is_gt() {
            let mut step = 1;
            loop {
                hi = lo;
                let Some(probe) = from.checked_sub(step) else {
                    lo = 0;
                    break;
                };
                lo = probe;
                if order(ids.get(probe), id).is_le() {
                    break;
                }
                step *= 2;
            }
        }
        // The first in [lo, hi) not before the id.
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if order(ids.get(mid), id).is_lt() { lo = mid + 1 } else { hi = mid }
        }
        *at = lo;
        (lo < ids.len() && same(ids.get(lo), id)).then(|| u32::try_from(lo).unwrap_or(NONE))
    }
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

/// A time in seconds shown as `%Y-%m-%d %H:%M`.
#[derive(Clone, Copy)]
struct Minute(i64);

/// A date shown as `%Y-%m-%d`.
#[derive(Clone, Copy)]
struct Day(NaiveDate);

/// A piece of a finding's words, written straight into them: the formatting machinery was
/// most of the time the words took.
trait Piece {
    fn put(&self, out: &mut String);
}

impl Piece for &str {
    fn put(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for usize {
    fn put(&self, out: &mut String) {
        put_number(out, u64::try_from(*self).unwrap_or(u64::MAX), 1);
    }
}

impl Piece for i64 {
    fn put(&self, out: &mut String) {
        if *self < 0 {
            out.push('-');
        }
        put_number(out, self.unsigned_abs(), 1);
    }
}

/// `n` in decimal, with leading zeros to `width` digits.
fn put_number(out: &mut String, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    while n > 0 || at > digits.len() - width.max(1) {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    digits[at..].iter().for_each(|d| out.push(char::from(*d)));
}

impl Piece for Day {
    fn put(&self, out: &mut String) {
        let d = self.0;
        if (0..=9999).contains(&d.year()) {
            put_number(out, u64::try_from(d.year()).unwrap_or(0), 4);
            out.push('-');
            put_number(out, u64::from(d.month()), 2);
            out.push('-');
            put_number(out, u64::from(d.day()), 2);
        } else {
            use std::fmt::Write;
            let _ = write!(out, "{d}");
        }
    }
}

impl Piece for Minute {
    fn put(&self, out: &mut String) {
        let t = when(self.0);
        if (0..=9999).contains(&t.year()) {
            Day(t.date()).put(out);
            out.push(' ');
            put_number(out, u64::from(t.hour()), 2);
            out.push(':');
            put_number(out, u64::from(t.minute()), 2);
        } else {
            use std::fmt::Write;
            let _ = write!(out, "{:04}-{:02}-{:02} {:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute());
        }
    }
}

/// Writes pieces one after another into a `String`.
macro_rules! put {
    ($out:expr; $($piece:expr),+ $(,)?) => {{
        $( Piece::put(&$piece, $out); )+
    }};
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

/// The words of a chunk of hits, one after another, and the findings as CSV records: per
/// finding, its hit's place in the chunk and where its words and its record end.
struct Words {
    text: String,
    records: String,
    ends: Vec<(u32, u32, u32)>,
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
            && same(self.entity_id, other.entity_id)
            && same(self.subject, other.subject)
    }

    /// The order within one part (one rule, one entity kind): by entity id, then subject.
    fn by_entity(a: &Self, b: &Self) -> std::cmp::Ordering {
        order(a.entity_id, b.entity_id).then_with(|| order(a.subject, b.subject))
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

/// A share of the rules' work ([`Audit::run`]): double booking, or a range of rows.
#[derive(Clone, Copy)]
enum Share {
    DoubleBooking,
    Tickets(usize, usize),
    Orders(usize, usize),
    Events(usize, usize),
}

/// Bookings beyond which double booking gathers them a range of people at a time (fewer in the
/// unit tests, to go through more than one range).
#[cfg(not(test))]
const BOOKINGS_AT_ONCE: usize = 1 << 20;
#[cfg(test)]
const BOOKINGS_AT_ONCE: usize = 64;

/// A live permitted ticket, as one of its people's double booking sees it: 16 bytes, for a
/// person's tickets are gathered side by side, 2.4 million of them at a million orders.
#[derive(Clone, Copy)]
struct Booking {
    start: i64,
    ticket: u32,
    /// Seconds from start to end; `LASTS` while the ticket is open or not ended, or when it
    /// ends too far on to count here (then its end is looked up).
    lasts: u32,
}

impl Booking {
    const LASTS: u32 = u32::MAX;

    fn new(start: i64, end: Option<i64>, ticket: u32) -> Self {
        let lasts = end.and_then(|end| u32::try_from(end - start).ok()).filter(|s| *s != Self::LASTS);
        Self { start, ticket, lasts: lasts.unwrap_or(Self::LASTS) }
    }

    /// Its end: `i64::MAX` while it is open or not ended.
    fn end(&self, tickets: &Tickets) -> i64 {
        if self.lasts != Self::LASTS {
            return self.start + i64::from(self.lasts);
        }
        tickets.booked_until(self.ticket as usize).unwrap_or(i64::MAX)
    }
}

/// Per contractor: each agreement's first and last day and the only customer it covers, if limited.
type Agreements<'s> = HashMap<&'s str, Vec<(i32, i32, Option<&'s str>)>>;

/// Everything the rules join through, by number, over the parsed tables (`'a`) and the small
/// ones (`'s`).
struct Audit<'s, 'a> {
    orders: &'a Orders,
    tickets: &'a Tickets,
    events: &'a Events,
    as_of: NaiveDate,
    th: &'s Thresholds,
    /// What the small tables say of people.
    facts: Facts<'s>,
    /// Per person: their id as the export wrote it.
    people: Vec<&'a str>,
    licence: HashMap<&'s str, NaiveDate>,
    agreements: Agreements<'s>,
    /// Per order: its customer.
    order_customer: Vec<u32>,
    /// Per ticket: whether it is live (ended or open).
    live: Vec<bool>,
    /// Per order: live tickets naming it. Per customer: its live tickets.
    by_order: Lists<u32>,
    by_customer: Lists<u32>,
    /// Per ticket: the orders it names that are in the export.
    ticket_orders: Lists<u32>,
    /// Per audited meter event: its customer.
    event_customer: Vec<u32>,
    /// Whether the tickets' ids are ascending, so that a ticket's place stands for its id.
    tickets_ascending: bool,
    scope: Scope,
}

impl<'s, 'a> Audit<'s, 'a>
where
    's: 'a,
{
    /// Joins the `parsed` tables; `order_ids`, the ticket's order ids taken from them, are
    /// dropped once the orders are found.
    #[allow(clippy::too_many_arguments)]
    fn new(
        small: &'s Tables,
        people: Interner<'s>,
        mut facts: Facts<'s>,
        parsed: &'a Parsed,
        order_ids: Strings,
        customers: Customers,
        as_of: NaiveDate,
        th: &'s Thresholds,
        scope: Scope,
    ) -> Option<Self> {
        let Parsed { orders, tickets, events, others, .. } = parsed;
        let Customers { numbers: mut customers, per_order: order_customer, per_event: event_customer } = customers;
        let licence = small.contractors.iter().map(|c| (c.contractor_id.as_str(), c.license_valid_to)).collect();
        let mut agreements: Agreements<'_> = HashMap::new();
        for a in &small.agreements {
            agreements.entry(a.contractor_id.as_str()).or_default().push((
                days(a.valid_from),
                days(a.valid_to),
                a.customer_id.as_deref(),
            ));
        }
        // The days people's qualifications are checked on: the orders' starts and the tickets'
        // permits.
        let permits = tickets.permitted_at.iter().filter(|at| **at != NO_TIME);
        let (first, last) =
            orders.start.iter().chain(permits).fold((i64::MAX, i64::MIN), |(lo, hi), at| (lo.min(*at), hi.max(*at)));
        if first <= last {
            facts.always_within(day_of(first), day_of(last));
        }
        let mut names: Vec<&'a str> = people.names;
        names.extend(others.iter());
        // The tickets' customers, most numbered already (for their orders), looked up half on
        // each core, while the tickets' ids are checked and their orders found; those not yet
        // numbered are numbered after, in the tickets' order. (Numbered on one core while the
        // other found the orders, the other waited for it a second at ten million orders.)
        let (tickets_ascending, ticket_orders, mut ticket_customer) = std::thread::scope(|s| {
            let numbers = &customers;
            let half = tickets.customer.len() / 2;
            let numbered = |rows: std::ops::Range<usize>| {
                s.spawn(move || {
                    rows.map(|k| numbers.get(tickets.customer.get(k)).unwrap_or(NONE)).collect::<Vec<u32>>()
                })
            };
            let (first, second) = (numbered(0..half), numbered(half..tickets.customer.len()));
            // A repeated order or ticket id: the exact reader names it.
            let tickets_ascending = ascending(&tickets.id);
            let ticket_orders = (tickets_ascending || distinct(&tickets.id))
                .then(|| IdFinder::new(&orders.id))
                .flatten()
                .map(|mut find| {
                    let mut ticket_orders = Lists::with_capacity(tickets.id.len(), order_ids.len());
                    for k in 0..tickets.id.len() {
                        let named = tickets.order_lists[k] as usize..tickets.order_lists[k + 1] as usize;
                        ticket_orders.items.extend(named.filter_map(|o| find.find(order_ids.get(o))));
                        ticket_orders.close();
                    }
                    ticket_orders
                });
            let mut ticket_customer = joined(first);
            ticket_customer.extend(joined(second));
            (tickets_ascending, ticket_orders, ticket_customer)
        });
        let ticket_orders = ticket_orders?;
        drop(order_ids);
        for (k, c) in ticket_customer.iter_mut().enumerate().filter(|(_, c)| **c == NONE) {
            *c = customers.id(tickets.customer.get(k));
        }
        let live: Vec<bool> = tickets.status.iter().map(|s| s.is_live()).collect();
        let live_tickets = || (0..tickets.id.len()).filter(|k| live[*k]).map(|k| u32::try_from(k).unwrap_or(NONE));
        let (by_order, by_customer) = beside(
            || {
                let named = |k: u32| ticket_orders.get(k as usize).iter().map(move |o| (*o, k));
                Lists::build(orders.id.len(), live_tickets().flat_map(named))
            },
            || Lists::build(customers.count as usize, live_tickets().map(|k| (ticket_customer[k as usize], k))),
        );
        drop(ticket_customer);
        Some(Self {
            orders,
            tickets,
            events,
            as_of,
            th,
            facts,
            people: names,
            licence,
            agreements,
            order_customer,
            live,
            by_order,
            by_customer,
            ticket_orders,
            event_customer,
            tickets_ascending,
            scope,
        })
    }

    fn holds(&self, person: u32, kind: QualificationKind, day: i32) -> bool {
        self.facts.holds(person, kind, day)
    }

    /// A person's name as the export wrote it; blank for `NONE`.
    fn name(&self, person: u32) -> &'a str {
        self.people.get(person as usize).copied().unwrap_or("")
    }

    /// Every rule's hits, each core's sorted. The work is cut in shares that both cores take
    /// one after another, the largest first, so that neither waits for the other at any size.
    fn run(&self) -> [Found<'a>; 2] {
        const ROWS: usize = 1 << 16;
        let shares = |rows: usize, share: fn(usize, usize) -> Share| {
            (0..rows.div_ceil(ROWS)).map(move |p| share(p * ROWS, ((p + 1) * ROWS).min(rows)))
        };
        let own_orders = self.orders.id.len().min(self.scope.own_orders);
        let own_tickets = self.tickets.id.len().min(self.scope.own_tickets);
        let all: Vec<Share> = std::iter::once(Share::DoubleBooking)
            .chain(shares(own_tickets, Share::Tickets))
            .chain(shares(own_orders, Share::Orders))
            .chain(shares(self.events.id.len(), Share::Events))
            .collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let work = || {
            let mut found = Found::new();
            while let Some(share) = all.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                match *share {
                    Share::DoubleBooking => self.double_booking(&mut found),
                    Share::Tickets(from, to) => self.ticket_rules(from..to, &mut found),
                    Share::Orders(from, to) => self.order_rules(from..to, &mut found),
                    Share::Events(from, to) => self.event_rules(from..to, &mut found),
                }
            }
            found.sort();
            found
        };
        let (other, mine) = beside(work, work);
        [mine, other]
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
                let (mut from, mut record_from) = (0, 0);
                for (at, end, record_end) in &words.ends {
                    let hit = &chunks[c][*at as usize];
                    each(FindingRef {
                        rule: hit.rule.code(),
                        entity_kind: hit.what.entity_kind(),
                        entity_id: hit.entity_id,
                        subject: hit.subject,
                        detail: &words.text[from..*end as usize],
                        record: &words.records[record_from..*record_end as usize],
                    })?;
                    (from, record_from) = (*end as usize, *record_end as usize);
                }
            }
            Ok(())
        })
    }

    /// The words of a chunk of sorted hits: of each key, those of the hit whose words come
    /// first; and each finding as a CSV record, written here on the two cores instead of by the
    /// one that hands the findings out (at ten million orders, its reads of the people's names,
    /// from all over memory, were a fifth of its time).
    fn words(&self, hits: &[Hit<'a>]) -> Words {
        let mut words = Words {
            text: String::with_capacity(hits.len() * 160),
            records: String::with_capacity(hits.len() * 200),
            ends: Vec::with_capacity(hits.len()),
        };
        // The earlier tickets of double bookings (most findings) are anywhere in the tickets:
        // their ids looked up for the whole chunk first, one after another, so that the trips
        // to memory overlap instead of each waiting between the words of two findings.
        let earlier: Vec<&'a str> = hits
            .iter()
            .map(|hit| match hit.what {
                What::Booked(_, earlier) => self.tickets.id.get(earlier as usize),
                _ => "",
            })
            .collect();
        let mut other = String::new();
        let mut at = 0;
        while at < hits.len() {
            let start = words.text.len();
            self.detail(&hits[at], earlier[at], &mut words.text);
            let mut kept = at;
            at += 1;
            while at < hits.len() && hits[at].same_key(&hits[kept]) {
                other.clear();
                self.detail(&hits[at], earlier[at], &mut other);
                if other.as_str() < &words.text[start..] {
                    words.text.truncate(start);
                    words.text.push_str(&other);
                    kept = at;
                }
                at += 1;
            }
            let hit = &hits[kept];
            let fields = [hit.rule.code(), hit.what.entity_kind(), hit.entity_id, hit.subject, &words.text[start..]];
            csv_record(&mut words.records, fields);
            let ends = [kept, words.text.len(), words.records.len()].map(|n| u32::try_from(n).unwrap_or(u32::MAX));
            words.ends.push(ends.into());
        }
        words
    }

    /// A ticket's contractors (of its leader and crew), each once, in order.
    fn contractors_of(&self, t: usize, into: &mut Vec<&'s str>) {
        into.clear();
        into.extend(self.tickets.people.get(t).iter().filter_map(|p| self.facts.contractor(*p)));
        into.sort_unstable();
        into.dedup();
    }

    /// A hit's words, in Chinese, as the exact engine writes them.
    /// `earlier` is the id of a double booking's earlier ticket, looked up ahead ([`Audit::words`]).
    fn detail(&self, hit: &Hit<'a>, earlier: &str, out: &mut String) {
        let (o, k, e) = (&self.orders, &self.tickets, &self.events);
        let who = hit.subject;
        let ticket_day = |t: usize| Day(k.permitted(t).map(date_of).unwrap_or_default());
        match (hit.rule, hit.what) {
            (Rule::NoTicket, What::Order(i)) => {
                let i = i as usize;
                put!(out; o.kind[i].chinese(), "工单 ", o.id.get(i), "（户号 ", o.customer.get(i), "，", Minute(o.start[i]), " 至 ",
                    Minute(o.finish[i]), "）没有有效的工作票或工作卡覆盖");
            }
            (Rule::SinglePersonOrder, What::Order(i)) => {
                let i = i as usize;
                let workers = self.orders.workers.get(i);
                put!(out; "工单 ", o.id.get(i), " 作业人员只有 ", workers.len(), " 人（");
                for (n, w) in workers.iter().enumerate() {
                    put!(out; if n == 0 { "" } else { "、" }, self.people[*w as usize]);
                }
                put!(out; "），少于 ", self.th.min_people, " 人");
            }
            (Rule::NoSafetyExam, What::Order(i)) => {
                let i = i as usize;
                put!(out; "工单 ", o.id.get(i), " 的作业人员 ", who, " 在 ", Day(date_of(o.start[i])), " 没有有效的安规考试合格记录");
            }
            (Rule::OutsideWindow, What::Window(i, t)) => {
                let (i, t) = (i as usize, t as usize);
                put!(out; "工单 ", o.id.get(i), "（", Minute(o.start[i]), " 至 ", Minute(o.finish[i]), "）超出工作票 ", k.id.get(t),
                    " 的许可时间（");
                if let Some(p) = k.permitted(t) {
                    Minute(p).put(out);
                }
                match k.ended(t) {
                    Some(end) => put!(out; " 至 ", Minute(end), "）"),
                    None => out.push_str(" 至 未终结）"),
                }
            }
            (Rule::SinglePersonTicket, What::Ticket(t)) => {
                let t = t as usize;
                put!(out; "工作票 ", k.id.get(t), " 工作人员只有 ", self.tickets.people.get(t).len(), " 人，少于 ",
                    self.th.min_people, " 人");
            }
            (Rule::ContractorNoCosign, What::Ticket(t)) => {
                let t = t as usize;
                let mut contractors = Vec::new();
                self.contractors_of(t, &mut contractors);
                put!(out; "工作票 ", k.id.get(t), " 有外包单位人员（", contractors.join("、").as_str(),
                    "），但没有外包单位签发人会签（双签发）");
            }
            (Rule::NoSafetyExam, What::Ticket(t)) => {
                let t = t as usize;
                put!(out; "工作票 ", k.id.get(t), " 的人员 ", who, " 在 ", ticket_day(t), " 没有有效的安规考试合格记录");
            }
            (Rule::NotAuthorizedLeader | Rule::NotAuthorizedIssuer | Rule::NotAuthorizedPermitter, What::Ticket(t)) => {
                let t = t as usize;
                let name = match hit.rule {
                    Rule::NotAuthorizedLeader => "工作负责人",
                    Rule::NotAuthorizedIssuer => "工作票签发人",
                    _ => "工作许可人",
                };
                let who_shown = if who.is_empty() { "（空）" } else { who };
                put!(out; "工作票 ", k.id.get(t), " 的", name, " ", who_shown, " 在 ", ticket_day(t), " 不在有效的", name, "名单内");
            }
            (Rule::ContractorNoAgreement, What::Ticket(t)) => {
                let t = t as usize;
                put!(out; "工作票 ", k.id.get(t), " 的外包单位 ", who, " 在 ", ticket_day(t), " 没有有效的安全协议");
            }
            (Rule::ContractorLicenseExpired, What::Ticket(t)) => {
                let t = t as usize;
                match self.licence.get(who) {
                    Some(end) => {
                        put!(out; "工作票 ", k.id.get(t), " 的外包单位 ", who, " 资质已于 ", Day(*end), " 到期（作业日 ",
                        ticket_day(t), "）")
                    }
                    None => put!(out; "工作票 ", k.id.get(t), " 的外包单位 ", who, " 不在外包单位表中，资质无从核实"),
                }
            }
            (Rule::IssuerIsLeader | Rule::PermitterIsLeader | Rule::PermitterIsIssuer, What::Ticket(t)) => {
                let what = match hit.rule {
                    Rule::IssuerIsLeader => "签发人兼任工作负责人",
                    Rule::PermitterIsLeader => "许可人兼任工作负责人",
                    _ => "许可人兼任签发人",
                };
                put!(out; "工作票 ", k.id.get(t as usize), "：", who, " ", what);
            }
            (Rule::Unevaluated, What::Ticket(t)) => {
                let t = t as usize;
                put!(out; "业扩/装表接电工作票 ", k.id.get(t), " 已于 ");
                if let Some(end) = k.ended(t) {
                    Minute(end).put(out);
                }
                put!(out; " 终结，超过 ", self.th.evaluation_days, " 天仍未评价");
            }
            (Rule::PersonDoubleBooked, What::Booked(t, _)) => {
                let t = t as usize;
                let start = k.permitted(t).unwrap_or_default();
                put!(out; who, " 在工作票 ", hit.entity_id, " 许可开工（", Minute(start), "）时仍在工作票 ", earlier, " 中");
            }
            (Rule::EventWithoutTicket, What::Event(i)) => {
                let i = i as usize;
                let kind = if e.terminal[i] { "开端钮盒" } else { "开表盖" };
                put!(out; "电能表 ", e.meter.get(i), "（户号 ", e.customer.get(i), "）于 ", Minute(e.at[i]), " ", kind, "，前后 ",
                    self.th.event_margin_minutes, " 分钟内没有该户的有效工作票");
            }
            // Every rule above makes its hits with the shape it is matched with here.
            _ => {}
        }
    }

    fn order_rules(&self, orders: std::ops::Range<usize>, out: &mut Found<'a>) {
        let (o, k) = (&self.orders, &self.tickets);
        for i in orders {
            let id = o.id.get(i);
            let at = u32::try_from(i).unwrap_or(NONE);
            let (start, finish) = (o.start[i], o.finish[i]);
            let day = day_of(start);
            let by_order = self.by_order.of(at);
            let workers = self.orders.workers.get(i);
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
                    out.push(hit(Rule::NoSafetyExam, self.people[*w as usize]));
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
                        subject: k.id.get(*t as usize),
                    });
                }
            }
        }
    }

    fn ticket_rules(&self, tickets: std::ops::Range<usize>, out: &mut Found<'a>) {
        let k = &self.tickets;
        let th = self.th;
        let cutoff = (self.as_of - chrono::Duration::days(th.evaluation_days))
            .and_hms_opt(0, 0, 0)
            .map(|c| c.and_utc().timestamp());
        let mut contractors: Vec<&'s str> = Vec::new();
        for t in tickets.filter(|t| self.live[*t]) {
            let id = k.id.get(t);
            let at = u32::try_from(t).unwrap_or(NONE);
            let hit = |rule, subject| Hit { rule, what: What::Ticket(at), entity_id: id, subject };
            let ps = self.tickets.people.get(t);
            let [leader, issuer, permitter] = self.tickets.roles[t];
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
                        out.push(hit(Rule::NoSafetyExam, self.people[*p as usize]));
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
                            *from <= day && day <= *to && only.is_none_or(|only| only == k.customer.get(t))
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
        // Each person's live permitted tickets, side by side with their times: gathered in
        // the tickets' order, then sorted person by person by (permitted_at, ticket_id). In
        // ascending ids a ticket's place stands for its id.
        let booked_ticket = |t: usize| self.live[t] && k.permitted(t).is_some();
        let people = self.people.len();
        let mut at = vec![0_u32; people + 1];
        for t in (0..k.id.len()).filter(|t| booked_ticket(*t)) {
            for p in self.tickets.people.get(t) {
                at[*p as usize + 1] += 1;
            }
        }
        for p in 1..at.len() {
            at[p] += at[p - 1];
        }
        // A range of people at a time, so that beyond a million bookings (16 MB) no more than
        // about a quarter of them are held at once, each range read from the tickets again.
        let total = at[people] as usize;
        let ranges = (total / BOOKINGS_AT_ONCE).clamp(1, 4);
        let mut booked = Vec::new();
        let mut bookings = Vec::new();
        let mut first = 0;
        for range in 0..ranges {
            let goal = total * (range + 1) / ranges;
            let last =
                if range + 1 == ranges { people } else { at.partition_point(|n| (*n as usize) < goal).min(people) };
            let from = std::mem::replace(&mut first, last);
            let base = at[from];
            let of_range = |p: u32| (from..last).contains(&(p as usize));
            let mut fill: Vec<u32> = at[from..last].iter().map(|n| n - base).collect();
            bookings.clear();
            bookings.resize((at[last] - base) as usize, Booking { start: 0, ticket: 0, lasts: 0 });
            for t in (0..k.id.len()).filter(|t| booked_ticket(*t)) {
                let booking = Booking::new(k.permitted_at[t], k.booked_until(t), u32::try_from(t).unwrap_or(NONE));
                for p in self.tickets.people.get(t).iter().filter(|p| of_range(**p)) {
                    let slot = &mut fill[*p as usize - from];
                    bookings[*slot as usize] = booking;
                    *slot += 1;
                }
            }
            drop(fill);
            for p in from..last {
                let of = &mut bookings[(at[p] - base) as usize..(at[p + 1] - base) as usize];
                if of.len() < 2 || !whose(self.people[p]) {
                    continue;
                }
                if self.tickets_ascending {
                    of.sort_unstable_by_key(|b| (b.start, b.ticket));
                } else {
                    of.sort_unstable_by(|a, b| {
                        a.start.cmp(&b.start).then_with(|| k.id.get(a.ticket as usize).cmp(k.id.get(b.ticket as usize)))
                    });
                }
                // The latest end so far (none yet before the first ticket) and its ticket.
                let (mut latest, mut latest_at) = (i64::MIN, NONE);
                for b in of.iter() {
                    if latest > b.start {
                        booked.push((b.ticket, u32::try_from(p).unwrap_or(NONE), latest_at));
                    }
                    let end = b.end(k);
                    if end > latest {
                        (latest, latest_at) = (end, b.ticket);
                    }
                }
            }
        }
        drop(bookings);
        // Found person by person: put in the tickets' order (as their ids, mostly) before
        // their ids are looked up, one after another.
        booked.sort_unstable();
        out.0[Found::part(Rule::PersonDoubleBooked, "ticket")].reserve(booked.len());
        for (t, p, earlier) in booked {
            out.push(Hit {
                rule: Rule::PersonDoubleBooked,
                what: What::Booked(t, earlier),
                entity_id: k.id.get(t as usize),
                subject: self.people[p as usize],
            });
        }
    }

    fn event_rules(&self, events: std::ops::Range<usize>, out: &mut Found<'a>) {
        let (e, k) = (&self.events, &self.tickets);
        let margin = self.th.event_margin_minutes * 60;
        for i in events {
            let at = e.at[i];
            let customer = self.event_customer[i];
            let explained = self.by_customer.of(customer).iter().any(|t| {
                let t = *t as usize;
                k.permitted(t).is_some_and(|p| p - margin <= at) && k.ended(t).is_none_or(|end| at <= end + margin)
            });
            if !explained {
                out.push(Hit {
                    rule: Rule::EventWithoutTicket,
                    what: What::Event(u32::try_from(i).unwrap_or(NONE)),
                    entity_id: e.id.get(i),
                    subject: e.customer.get(i),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Ids as an export may hold them: short and long, ASCII and Chinese, with NULs and spaces.
    fn an_id() -> impl Strategy<Value = String> {
        prop_oneof!["[A-Z]{0,3}[0-9]{0,14}", "[\\x00-\\x7f]{0,20}", "[a\\x00户号 ]{0,18}",]
    }

    /// Read a few bytes at a time, records and quoted cells going on from one chunk to the
    /// next, quoted line breaks, a byte-order mark and CRLF give the exact engine's findings.
    #[test]
    fn an_export_read_a_few_bytes_at_a_time_gives_the_exact_engines_findings() {
        let dir = tempfile::tempdir().expect("dir");
        crate::generate::write_export(dir.path(), 400, 5).expect("export");
        // A quoted cell with a line break in it: the orders' supply unit, the tickets' crew.
        for (file, column, from, to) in [("work_orders.csv", 3, "", "\r\n第二行"), ("tickets.csv", 8, ";", ";\r\n")]
        {
            let path = dir.path().join(file);
            let text = std::fs::read_to_string(&path).expect("read");
            let mut out = String::from("\u{feff}");
            for (n, line) in text.lines().enumerate() {
                let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
                if n > 0 && n % 3 == 0 {
                    let cell = if from.is_empty() {
                        format!("{}{to}", cells[column])
                    } else {
                        cells[column].replace(from, to)
                    };
                    cells[column] = format!("\"{cell}\"");
                }
                out.push_str(&cells.join(","));
                out.push_str("\r\n");
            }
            std::fs::write(&path, out).expect("write");
        }
        let as_of = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
        let exact = crate::engine::audit(&crate::export::read_export(dir.path()), as_of, &Thresholds::default());
        let fast = audit_export(dir.path(), as_of, &Thresholds::default()).expect("read fast");
        assert!(exact.len() > 100);
        assert_eq!(fast, exact);
    }

    /// Texts as a column of them.
    fn strings<'t>(texts: impl Iterator<Item = &'t str>) -> Strings {
        let mut column = Strings::default();
        texts.for_each(|t| column.push(t).expect("small"));
        column
    }

    /// Double booking gathered over four ranges of people finds what the exact engine finds.
    #[test]
    fn double_booking_in_ranges_of_people_finds_what_the_exact_engine_finds() {
        let dir = tempfile::tempdir().expect("dir");
        crate::generate::write_export(dir.path(), 3000, 11).expect("export");
        let as_of = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
        let tables = crate::export::read_export(dir.path());
        let exact = crate::engine::audit(&tables, as_of, &Thresholds::default());
        let fast = audit_export(dir.path(), as_of, &Thresholds::default()).expect("read fast");
        assert!(fast.iter().filter(|f| f.rule == "PERSON_DOUBLE_BOOKED").count() > 100);
        assert_eq!(fast, exact);
    }

    proptest! {
        /// What the rules ask of a person (whether they hold a kind of qualification on a day,
        /// whom they work for) is what the small tables say, whether they hold none, one or
        /// several of a kind (lapsed and renewed), on days inside and outside those the audit
        /// checks, whose answers are noted ahead.
        #[test]
        fn what_the_rules_ask_of_a_person_is_what_the_small_tables_say(
            held in prop::collection::vec((0_u8..4, 0_usize..5, 0_i64..60, 0_i64..60), 0..16),
            contractors in prop::collection::vec(prop::option::of("C[0-2]"), 4),
            checked in (0_i64..60, 0_i64..60),
            day in -5_i64..130,
        ) {
            let kinds = [
                QualificationKind::SafetyExam,
                QualificationKind::WorkLeader,
                QualificationKind::TicketIssuer,
                QualificationKind::WorkPermitter,
                QualificationKind::Inspector,
            ];
            let first = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
            let mut small = Tables::default();
            for (person, contractor) in contractors.iter().enumerate() {
                small.persons.push(input::Person {
                    line: 0,
                    person_id: format!("P{person}"),
                    name: String::new(),
                    org_unit: String::new(),
                    contractor_id: contractor.clone(),
                    phone: None,
                    post: None,
                });
            }
            for (person, kind, from, lasts) in &held {
                small.qualifications.push(input::Qualification {
                    line: 0,
                    person_id: format!("P{person}"),
                    kind: kinds[*kind],
                    written: String::new(),
                    valid_from: first + chrono::Duration::days(*from),
                    valid_to: first + chrono::Duration::days(from + lasts),
                });
            }
            let (people, mut facts) = Facts::of(&small);
            let (from, lasts) = checked;
            facts.always_within(days(first) + i32::try_from(from).expect("small"), days(first) + i32::try_from(from + lasts).expect("small"));
            let on = first + chrono::Duration::days(day);
            for person in 0..5 {
                let id = format!("P{person}");
                let number = people.get(&id).unwrap_or(NONE);
                for kind in kinds {
                    let holds = small.qualifications.iter().any(|q| {
                        q.person_id == id && q.kind == kind && q.valid_from <= on && on <= q.valid_to
                    });
                    prop_assert_eq!(facts.holds(number, kind, days(on)), holds, "{} {:?}", id, kind);
                }
                let contractor = small.persons.iter().find(|p| p.person_id == id).and_then(|p| p.contractor_id.as_deref());
                prop_assert_eq!(facts.contractor(number), contractor, "{}", id);
            }
            prop_assert!(!facts.holds(NONE, QualificationKind::SafetyExam, days(on)));
        }

        #[test]
        fn texts_are_ordered_and_compared_as_str_does(a in an_id(), b in an_id()) {
            prop_assert_eq!(order(&a, &b), a.as_str().cmp(b.as_str()));
            prop_assert_eq!(order(&a, &a), std::cmp::Ordering::Equal);
            prop_assert_eq!(same(&a, &b), a == b);
        }

        #[test]
        fn a_waiting_persons_id_is_rebuilt_from_its_words(id in an_id()) {
            let waiting = match IdKey::of(&id) {
                IdKey::Short(key) => Some(Waiting::Short(key)),
                IdKey::Packed(key) => Some(Waiting::Packed(key)),
                IdKey::Long(_) => None,
            };
            if let Some(waiting) = waiting {
                prop_assert_eq!(waiting.id(), Some(id));
            }
        }

        #[test]
        fn an_id_map_tells_every_two_ids_apart(ids in proptest::collection::vec(an_id(), 1..40)) {
            let mut map = IdMap::with_capacity(4);
            let mut first: Vec<(&str, u32)> = Vec::new();
            for (n, id) in (0..).zip(&ids) {
                let expected = first.iter().find(|(seen, _)| *seen == id.as_str()).map_or(n, |(_, at)| *at);
                prop_assert_eq!(map.get_or_insert(id, n), expected);
                if expected == n {
                    first.push((id, n));
                }
            }
            for (id, at) in &first {
                prop_assert_eq!(map.get(id), Some(*at));
            }
            prop_assert_eq!(distinct(&strings(ids.iter().map(String::as_str))), first.len() == ids.len());
        }

        #[test]
        fn orders_in_ascending_ids_are_found_as_a_scan_finds_them(
            ids in proptest::collection::btree_set(an_id(), 0..300),
            asked in proptest::collection::vec(an_id(), 0..100),
            known in proptest::collection::vec(any::<prop::sample::Index>(), 0..100),
        ) {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            let mut asked: Vec<&str> = asked.iter().map(String::as_str).collect();
            if !ids.is_empty() {
                asked.extend(known.iter().map(|i| ids[i.index(ids.len())]));
            }
            let column = strings(ids.iter().copied());
            let mut finder = IdFinder::new(&column).expect("distinct");
            prop_assert!(matches!(finder, IdFinder::Ascending { .. }), "ascending ids are searched");
            for id in asked {
                let scan = ids.iter().position(|x| *x == id).map(|i| u32::try_from(i).unwrap_or(NONE));
                prop_assert_eq!(finder.find(id), scan, "{:?}", id);
            }
        }

        #[test]
        fn times_are_read_as_the_calendar_library_reads_them(
            year in 0u32..10_000, month in 0u32..14, day in 0u32..33, hour in 0u32..26, minute in 0u32..62,
            second in proptest::option::of(0u32..62),
        ) {
            let mut cell = format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}");
            if let Some(s) = second {
                cell.push_str(&format!(":{s:02}"));
            }
            let expected = NaiveDate::from_ymd_opt(i32::try_from(year).unwrap_or(0), month, day)
                .and_then(|d| d.and_hms_opt(hour, minute, second.unwrap_or(0)))
                .map(|t| t.and_utc().timestamp());
            prop_assert_eq!(seconds(&cell), expected);
        }

        #[test]
        fn times_and_dates_are_written_as_the_calendar_library_writes_them(at in -80_000_000_000i64..300_000_000_000) {
            let mut out = String::new();
            Minute(at).put(&mut out);
            let t = when(at);
            let expected = format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute());
            prop_assert_eq!(&out, &expected);
            out.clear();
            Day(t.date()).put(&mut out);
            prop_assert_eq!(out, t.date().to_string());
        }

        #[test]
        fn numbers_are_written_as_display_writes_them(n in any::<i64>(), u in any::<usize>()) {
            let mut out = String::new();
            put!(&mut out; n, " ", u);
            prop_assert_eq!(out, format!("{n} {u}"));
        }

        #[test]
        fn cells_are_trimmed_and_lists_split_as_the_exact_reader_does(cell in "[a-c;；,， \\t\\u{3000}户]{0,16}") {
            prop_assert_eq!(trim(&cell), cell.trim());
            let mut items = Vec::new();
            list(&cell, &mut items);
            let mut expected: Vec<&str> = Vec::new();
            for item in cell.split([';', '；', ',', '，']).map(str::trim).filter(|i| !i.is_empty()) {
                if !expected.contains(&item) {
                    expected.push(item);
                }
            }
            prop_assert_eq!(items, expected);
        }
    }
}
