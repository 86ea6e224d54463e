//! The cross-audit within a memory budget: an export too large to audit in memory is split on
//! disk by customer, and its live tickets again by person, and audited partition by partition
//! with the fast engine, the findings of all partitions merged in key order.
//!
//! Every rule joins through a customer (an order and the tickets and meter events of its
//! customer) or a person (double booking), except that a ticket may name an order of another
//! customer. Such a pair is copied as context into both partitions: the order into the
//! ticket's, the ticket into the order's, where it is joined through but not audited
//! ([`Scope`]). Each order, ticket and event is audited in its own customer's partition only,
//! each person's double booking in its own person partition, so every finding is found once and
//! the findings are exactly the in-memory engine's.
//!
//! The files are read as a stream, a chunk at a time, never whole. What the fast reader cannot
//! take with certainty is named the exact way, partition by partition, with the file and line
//! of the export (a repeated id across partitions is found by the ids' hashes while splitting).

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::engine::{FindingRef, Rule, Thresholds};
use crate::fast::{
    self, Files, MAX_RECORD, People, Records, Scope, Source, audit_sources, chunks, id_hash as hash, layout, list,
    part_of, small_tables,
};
use crate::input::tables::{Column, EVENT_COLUMNS, ORDER_COLUMNS, STATUSES, TICKET_COLUMNS, enum_value};
use crate::input::{self, InputError, Limits, Problem, TableKind, TicketStatus};

/// What an audit may use.
#[derive(Debug, Clone)]
pub struct Budget {
    /// Peak memory the audit aims to stay within, in bytes.
    pub bytes: u64,
    /// Where the partitions are written (removed afterwards); it needs about the export's size.
    pub scratch: PathBuf,
}

impl Budget {
    /// The default budget: 4 GiB.
    pub const DEFAULT_BYTES: u64 = 4 << 30;
}

/// Peak memory of the fast engine per byte of the three large files, in eighths (measured:
/// 1.41 at 1M orders, 1.10 at 10M; both read a chunk at a time, a partition's audit too),
/// rounded up.
const MEMORY_EIGHTHS_PER_BYTE: u64 = 12;

/// Of the budget, what one partition's audit may take (the rest: the merge, the allocator).
const PARTITION_SHARE: f64 = 0.6;

/// At most this many partitions of each kind (each holds a few open files while splitting).
const MAX_PARTS: u64 = 64;

/// A file is read this much at a time.
const CHUNK: usize = 8 << 20;

/// The outcome of [`audit_export_within`].
#[derive(Debug)]
pub enum Within<E> {
    /// Every finding handed out (or the first error of the taker, which stopped the audit).
    Done(Result<(), E>),
    /// The export has problems, named by file, line, column and value; no finding was handed out.
    Refused(Vec<InputError>),
    /// Not a folder of UTF-8 CSV files the fast reader takes: read it the exact way.
    NotTaken,
    /// The scratch folder could not be written.
    Scratch(std::io::Error),
}

/// Audits the export at `path` within `budget`: in memory when its estimated peak fits (as
/// [`fast::audit_export_each`]), otherwise partitioned on disk. Findings are handed to `each`
/// in key order, only once all partitions are audited (a refused export hands out none).
/// `progress(done, of)` is told the steps of a partitioned audit: the split, each partition,
/// the merge.
pub fn audit_export_within<E>(
    path: &Path,
    as_of: NaiveDate,
    th: &Thresholds,
    budget: &Budget,
    progress: &dyn Fn(usize, usize),
    mut each: impl FnMut(FindingRef<'_>) -> Result<(), E>,
) -> Within<E> {
    let Some(files) = Files::find(path) else { return Within::NotTaken };
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let bytes = size(&files.orders) + size(&files.tickets) + files.events.as_deref().map_or(0, size);
    let parts = parts_for(bytes, budget.bytes);
    if parts == 1 {
        return match fast::audit_export_each(path, as_of, th, each) {
            Some(done) => Within::Done(done),
            None => Within::NotTaken,
        };
    }
    let Some(small) = small_tables(&files) else { return Within::NotTaken };
    let scratch = match Scratch::create(&budget.scratch) {
        Ok(s) => s,
        Err(e) => return Within::Scratch(e),
    };
    let steps = parts + 2;
    progress(0, steps);
    let split = match split(&files, parts, &scratch.0) {
        Ok(Some(split)) => split,
        Ok(None) => return Within::NotTaken,
        Err(e) => return Within::Scratch(e),
    };
    progress(1, steps);
    let mut errors = split.duplicates.clone();
    let mut refused = !errors.is_empty();
    // Each partition's findings, in key order, to a file of its own.
    let mut sources = Vec::new();
    for p in 0..parts {
        let customers = split.dir(Kind::Customers, p);
        let people = split.dir(Kind::People, p);
        let audited = (|| -> std::io::Result<Option<()>> {
            let (orders, tickets, events) = (customers.join(ORDERS), customers.join(TICKETS), customers.join(EVENTS));
            // The context tickets after the own ones, all read a chunk at a time from one file.
            std::io::copy(
                &mut File::open(customers.join(CONTEXT_TICKETS))?,
                &mut std::fs::OpenOptions::new().append(true).open(&tickets)?,
            )?;
            let scope = Scope { own_orders: split.own[p].0, own_tickets: split.own[p].1, people: People::Nobody };
            let mut out = FindingsFile::create(&customers.join(FINDINGS))?;
            let (orders, tickets, events) =
                (Source::File(&orders), Source::File(&tickets), Some(Source::File(&events)));
            let done = audit_sources(&small, orders, tickets, events, as_of, th, scope, |f| out.write(f));
            let Some(done) = done else { return Ok(None) };
            done?;
            out.finish()?;
            sources.push(customers.join(FINDINGS));
            let header = split.order_header();
            let scope = Scope {
                own_orders: 0,
                own_tickets: 0,
                people: People::Part { part: u32::try_from(p).unwrap_or(0), parts: u32::try_from(parts).unwrap_or(1) },
            };
            let mut out = FindingsFile::create(&people.join(FINDINGS))?;
            let (orders, booked) = (Source::Text(&header), Source::File(&people.join(TICKETS)));
            let done = audit_sources(&small, orders, booked, None, as_of, th, scope, |f| out.write(f));
            let Some(done) = done else { return Ok(None) };
            done?;
            out.finish()?;
            sources.push(people.join(FINDINGS));
            Ok(Some(()))
        })();
        match audited {
            Ok(Some(())) => {}
            Ok(None) => {
                refused = true;
                match split.problems(&files, p) {
                    Ok(found) => errors.extend(found),
                    Err(e) => return Within::Scratch(e),
                }
            }
            Err(e) => return Within::Scratch(e),
        }
        progress(p + 2, steps);
    }
    if refused {
        // Not refused by the exact reader either (a form only it reads): read it that way.
        return if errors.is_empty() { Within::NotTaken } else { Within::Refused(errors) };
    }
    let merged = merge(&sources, &mut each);
    progress(steps, steps);
    match merged {
        Ok(done) => Within::Done(done),
        Err(e) => Within::Scratch(e),
    }
}

/// How many partitions an export of `bytes` needs within `budget` bytes: 1 when it fits whole.
pub fn parts_for(bytes: u64, budget: u64) -> usize {
    let need = bytes.saturating_mul(MEMORY_EIGHTHS_PER_BYTE) / 8;
    if need <= budget {
        return 1;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let per_part = ((budget as f64) * PARTITION_SHARE).max(1.0) as u64;
    usize::try_from(need.div_ceil(per_part).clamp(2, MAX_PARTS)).unwrap_or(2)
}

/// The scratch folder of one audit, removed with everything in it when the audit ends.
struct Scratch(PathBuf);

impl Scratch {
    fn create(parent: &Path) -> std::io::Result<Self> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let dir = parent.join(format!(".gridsafe-audit-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const ORDERS: &str = "work_orders.csv";
const TICKETS: &str = "tickets.csv";
const EVENTS: &str = "meter_events.csv";
/// Tickets of other partitions naming an order of this one.
const CONTEXT_TICKETS: &str = "tickets.context";
const FINDINGS: &str = "findings.bin";

/// The line in the export each audited row of a partition file starts on (`u32`s, in order).
fn lines_of(file: &str) -> String {
    format!("{file}.lines")
}

#[derive(Clone, Copy)]
enum Kind {
    Customers,
    People,
}

/// What splitting left on disk.
struct Split {
    root: PathBuf,
    /// Per customer partition: its own orders and tickets (those audited there).
    own: Vec<(usize, usize)>,
    /// The header records of the three files, and the line each is on.
    headers: [(String, u32); 3],
    /// Ids repeated in a table, found across partitions.
    duplicates: Vec<InputError>,
}

impl Split {
    fn dir(&self, kind: Kind, p: usize) -> PathBuf {
        self.root.join(match kind {
            Kind::Customers => format!("c{p}"),
            Kind::People => format!("p{p}"),
        })
    }

    fn order_header(&self) -> String {
        format!("{}\n", self.headers[0].0)
    }

    /// The problems the exact reader names in partition `p`'s own rows, with the file and line
    /// of the export. Repeated ids are left to the check across partitions.
    fn problems(&self, files: &Files, p: usize) -> std::io::Result<Vec<InputError>> {
        let dir = self.dir(Kind::Customers, p);
        let mut found = Vec::new();
        let tables = [
            (TableKind::WorkOrders, ORDERS, Some(&files.orders), &self.headers[0]),
            (TableKind::Tickets, TICKETS, Some(&files.tickets), &self.headers[1]),
            (TableKind::MeterEvents, EVENTS, files.events.as_ref(), &self.headers[2]),
        ];
        for (kind, name, original, header) in tables {
            let Some(original) = original else { continue };
            let bytes = std::fs::read(dir.join(name))?;
            let starts = read_lines(&dir.join(lines_of(name)))?;
            let shown = original.display().to_string();
            let raw = match input::read_csv(&shown, &bytes, &Limits::batch()) {
                Ok(raw) => raw,
                Err(e) => {
                    found.push(e);
                    continue;
                }
            };
            let mut tables = input::Tables::default();
            input::read_table(kind, &raw, &mut tables);
            let text = String::from_utf8_lossy(&bytes);
            let at = record_lines(&text);
            for mut e in tables.errors {
                if matches!(e.problem, Problem::Duplicate { .. }) {
                    continue;
                }
                e.file.clone_from(&shown);
                match e.line {
                    None => {}
                    Some(line) if line < at.first().copied().unwrap_or(usize::MAX) => e.line = Some(header.1 as usize),
                    Some(line) => {
                        // The record the line is in; rows past the own ones are context.
                        let r = at.partition_point(|start| *start <= line) - 1;
                        let Some(start) = starts.get(r) else { continue };
                        e.line = Some(*start as usize + (line - at[r]));
                    }
                }
                found.push(e);
            }
        }
        Ok(found)
    }
}

/// The line each data record of a partition file starts on (its header on line 1).
fn record_lines(text: &str) -> Vec<usize> {
    let mut records = Records::new(text);
    let mut cells = Vec::new();
    let (mut starts, mut line, mut counted) = (Vec::new(), 1, 0);
    let mut first = true;
    loop {
        let before = records.at;
        let start = before + text[before..].bytes().take_while(|b| matches!(b, b'\n' | b'\r')).count();
        match records.next(&mut cells) {
            Some(true) => {}
            _ => return starts,
        }
        line += memchr::memchr_iter(b'\n', &text.as_bytes()[counted..start]).count();
        counted = start;
        if !first {
            starts.push(line);
        }
        first = false;
    }
}

fn read_lines(path: &Path) -> std::io::Result<Vec<u32>> {
    let bytes = std::fs::read(path)?;
    Ok(bytes.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

/// One partition's files being written.
struct Writers {
    orders: Out,
    tickets: Out,
    context: BufWriter<File>,
    events: Out,
    booked: BufWriter<File>,
}

/// A partition file of own rows and the lines they came from.
struct Out {
    rows: BufWriter<File>,
    lines: BufWriter<File>,
    count: usize,
}

impl Out {
    fn create(dir: &Path, name: &str, header: &str) -> std::io::Result<Self> {
        let mut rows = BufWriter::with_capacity(1 << 16, File::create(dir.join(name))?);
        writeln!(rows, "{header}")?;
        Ok(Self { rows, lines: BufWriter::with_capacity(1 << 13, File::create(dir.join(lines_of(name)))?), count: 0 })
    }

    fn row(&mut self, raw: &str, line: u32) -> std::io::Result<()> {
        self.rows.write_all(raw.as_bytes())?;
        self.rows.write_all(b"\n")?;
        self.lines.write_all(&line.to_le_bytes())?;
        self.count += 1;
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<usize> {
        self.rows.flush()?;
        self.lines.flush()?;
        Ok(self.count)
    }
}

/// Each order's id hash with its partition, sorted, behind a directory by the hash's top bits:
/// the hashes are uniform, so a lookup reads one directory entry and the few pairs it points to,
/// where a binary search over ten million pairs missed the cache a dozen times a ticket.
struct ByHash {
    pairs: Vec<(u64, u32)>,
    /// `pairs[starts[b]..starts[b + 1]]` are those whose hash's top bits are `b`.
    starts: Vec<u32>,
    shift: u32,
}

impl ByHash {
    fn new(mut pairs: Vec<(u64, u32)>) -> Self {
        pairs.sort_unstable();
        // One or two pairs a bucket: a directory of half as many entries as there are pairs.
        let bits = pairs.len().max(4).next_power_of_two().trailing_zeros().saturating_sub(1).min(32);
        let shift = 64 - bits;
        let mut starts = vec![0_u32; (1 << bits) + 1];
        for (k, _) in &pairs {
            starts[usize::try_from(k >> shift).unwrap_or(0) + 1] += 1;
        }
        for b in 0..1 << bits {
            starts[b + 1] += starts[b];
        }
        Self { pairs, starts, shift }
    }

    /// The partitions of the orders whose id hashes to `h`.
    fn get(&self, h: u64) -> impl Iterator<Item = u32> + '_ {
        let b = usize::try_from(h >> self.shift).unwrap_or(0);
        let bucket = &self.pairs[self.starts[b] as usize..self.starts[b + 1] as usize];
        bucket.iter().filter(move |(k, _)| *k == h).map(|(_, p)| *p)
    }
}

/// Splits the three large files into `parts` customer partitions and `parts` person
/// partitions (live permitted tickets, only what double booking reads) under `root`; `None`
/// when a file is not one the fast reader takes.
fn split(files: &Files, parts: usize, root: &Path) -> std::io::Result<Option<Split>> {
    let n = u32::try_from(parts).unwrap_or(1);
    // The headers first: every partition file starts with its table's.
    let mut headers =
        [(String::new(), 1), (String::new(), 1), (EVENT_COLUMNS.iter().map(|c| c.en).collect::<Vec<_>>().join(","), 1)];
    for (at, path) in [(0, Some(&files.orders)), (1, Some(&files.tickets)), (2, files.events.as_ref())] {
        let Some(path) = path else { continue };
        match header(path)? {
            Some(found) => headers[at] = found,
            None => return Ok(None),
        }
    }
    let mut writers = Vec::with_capacity(parts);
    for p in 0..parts {
        let (c, b) = (root.join(format!("c{p}")), root.join(format!("p{p}")));
        std::fs::create_dir_all(&c)?;
        std::fs::create_dir_all(&b)?;
        let mut booked = BufWriter::with_capacity(1 << 16, File::create(b.join(TICKETS))?);
        writeln!(booked, "{}", TICKET_COLUMNS.iter().map(|c| c.en).collect::<Vec<_>>().join(","))?;
        writers.push(Writers {
            orders: Out::create(&c, ORDERS, &headers[0].0)?,
            tickets: Out::create(&c, TICKETS, &headers[1].0)?,
            context: BufWriter::with_capacity(1 << 14, File::create(c.join(CONTEXT_TICKETS))?),
            events: Out::create(&c, EVENTS, &headers[2].0)?,
            booked,
        });
    }
    // A write that failed stops the stream; the error is kept here.
    let mut failed: Option<std::io::Error> = None;

    // Orders by their customer; each order's id (hashed) and partition kept to route tickets.
    let mut orders: Vec<(u64, u32)> = Vec::new();
    let read = stream(&files.orders, &ORDER_COLUMNS, |r, raw, line| {
        let p = part_of(r[2], n);
        orders.push((hash(r[0]), p));
        kept(writers[p as usize].orders.row(raw, line), &mut failed)
    })?;
    if read.is_none() {
        return failed.map_or(Ok(None), Err);
    }
    let orders = ByHash::new(orders);

    // Tickets by their customer; a ticket naming an order of another partition also goes
    // there as context, and that order comes here (`wanted`). Live permitted tickets also go
    // to the partition of each of their people.
    let mut tickets: Vec<u64> = Vec::new();
    let mut wanted: Vec<(u64, u32)> = Vec::new();
    let (mut elsewhere, mut persons) = (Vec::new(), Vec::new());
    let read = stream(&files.tickets, &TICKET_COLUMNS, |r, raw, line| {
        let p = part_of(r[2], n);
        tickets.push(hash(r[0]));
        let w = &mut writers[p as usize];
        kept(w.tickets.row(raw, line), &mut failed)?;
        let mut items = Vec::new();
        list(r[3], &mut items);
        elsewhere.clear();
        for o in &items {
            let h = hash(o);
            for q in orders.get(h) {
                if q != p {
                    wanted.push((h, p));
                    if !elsewhere.contains(&q) {
                        elsewhere.push(q);
                    }
                }
            }
        }
        for q in &elsewhere {
            let c = &mut writers[*q as usize].context;
            kept(c.write_all(raw.as_bytes()).and_then(|()| c.write_all(b"\n")), &mut failed)?;
        }
        let live = enum_value::<TicketStatus>(r[11], STATUSES).is_some_and(TicketStatus::is_live);
        if live && !r[9].is_empty() {
            persons.clear();
            items.clear();
            list(r[8], &mut items);
            for person in std::iter::once(r[6]).filter(|l| !l.is_empty()).chain(items.iter().copied()) {
                let q = part_of(person, n);
                if !persons.contains(&q) {
                    persons.push(q);
                }
            }
            let row = booking(r);
            for q in &persons {
                let b = &mut writers[*q as usize].booked;
                kept(b.write_all(row.as_bytes()), &mut failed)?;
            }
        }
        Some(())
    })?;
    if read.is_none() {
        return failed.map_or(Ok(None), Err);
    }

    let mut events: Vec<u64> = Vec::new();
    if let Some(path) = &files.events {
        let read = stream(path, &EVENT_COLUMNS, |r, raw, line| {
            events.push(hash(r[0]));
            kept(writers[part_of(r[2], n) as usize].events.row(raw, line), &mut failed)
        })?;
        if read.is_none() {
            return failed.map_or(Ok(None), Err);
        }
    }

    // The own rows are all written: the orders wanted elsewhere follow them as context.
    let mut own = Vec::with_capacity(parts);
    let mut order_files = Vec::with_capacity(parts);
    for w in writers {
        let (orders, tickets) = (w.orders.finish()?, w.tickets.finish()?);
        own.push((orders, tickets));
        w.events.finish()?;
        w.context.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        w.booked.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        let path = root.join(format!("c{}", order_files.len())).join(ORDERS);
        order_files.push(BufWriter::with_capacity(1 << 14, File::options().append(true).open(path)?));
    }
    wanted.sort_unstable();
    wanted.dedup();
    if !wanted.is_empty() {
        let read = stream(&files.orders, &ORDER_COLUMNS, |r, raw, _| {
            let h = hash(r[0]);
            let home = part_of(r[2], n);
            let from = wanted.partition_point(|(k, _)| *k < h);
            for (_, p) in wanted[from..].iter().take_while(|(k, _)| *k == h) {
                // Another order of the same hash may be this partition's own already.
                if *p != home {
                    let f = &mut order_files[*p as usize];
                    kept(f.write_all(raw.as_bytes()).and_then(|()| f.write_all(b"\n")), &mut failed)?;
                }
            }
            Some(())
        })?;
        if read.is_none() {
            return failed.map_or(Ok(None), Err);
        }
    }
    for mut f in order_files {
        f.flush()?;
    }

    // Repeated ids: equal hashes, confirmed by the ids themselves.
    let mut duplicates = Vec::new();
    let order_hashes: Vec<u64> = orders.pairs.iter().map(|(h, _)| *h).collect();
    drop(orders);
    for ((hashes, path, columns), (header, _)) in [
        (order_hashes, Some(&files.orders), &ORDER_COLUMNS[..]),
        (tickets, Some(&files.tickets), &TICKET_COLUMNS[..]),
        (events, files.events.as_ref(), &EVENT_COLUMNS[..]),
    ]
    .into_iter()
    .zip(&headers)
    {
        let Some(path) = path else { continue };
        let Some(found) = repeated(hashes, path, header, columns)? else { return Ok(None) };
        duplicates.extend(found);
    }
    Ok(Some(Split { root: root.to_owned(), own, headers, duplicates }))
}

/// What double booking reads of a ticket (id, leader, crew, times, status; the other cells
/// blank), as a `tickets` record in the English layout, its line end included.
fn booking(r: &[&str]) -> String {
    let mut row = String::with_capacity(96);
    for (at, cell) in r.iter().enumerate() {
        if at > 0 {
            row.push(',');
        }
        if matches!(at, 0 | 6 | 8..=11) {
            // A list may hold commas. A quote inside a cell is doubled, which the fast reader
            // leaves to the exact one (no such cell is seen in practice).
            if cell.contains([',', '\n', '\r', '"']) {
                row.push('"');
                row.push_str(&cell.replace('"', "\"\""));
                row.push('"');
            } else {
                row.push_str(cell);
            }
        }
    }
    row.push('\n');
    row
}

/// `Some` when written; otherwise the error is kept in `failed`.
fn kept(written: std::io::Result<()>, failed: &mut Option<std::io::Error>) -> Option<()> {
    written.map_err(|e| *failed = Some(e)).ok()
}

/// The ids of a table whose hashes repeat, read again to name each real repeat as the exact
/// reader does (the line of the repeat, the line of the first).
fn repeated(
    mut hashes: Vec<u64>,
    path: &Path,
    header: &str,
    columns: &[Column],
) -> std::io::Result<Option<Vec<InputError>>> {
    hashes.sort_unstable();
    let mut suspects: Vec<u64> = hashes.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0]).collect();
    drop(hashes);
    suspects.dedup();
    if suspects.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let mut first: foldhash::HashMap<String, u32> = foldhash::HashMap::default();
    let mut found = Vec::new();
    // The id column as the header names it.
    let mut cells = Vec::new();
    Records::new(header).next(&mut cells);
    let column = layout(&mut Records::new(header), columns)
        .and_then(|positions| cells.get(positions[0]))
        .map_or_else(|| columns[0].en.to_owned(), |c| c.trim().to_owned());
    let shown = path.display().to_string();
    let read = stream(path, columns, |r, _, line| {
        if suspects.binary_search(&hash(r[0])).is_ok() {
            match first.get(r[0]) {
                Some(at) => found.push(InputError {
                    file: shown.clone(),
                    line: Some(line as usize),
                    column: Some(column.clone()),
                    value: Some(input::quoted(r[0])),
                    problem: Problem::Duplicate { first_line: *at as usize },
                }),
                None => {
                    first.insert(r[0].to_owned(), line);
                }
            }
        }
        Some(())
    })?;
    Ok(read.map(|()| found))
}

/// A file's header record (without its line end, and without a byte-order mark) and its line.
fn header(path: &Path) -> std::io::Result<Option<(String, u32)>> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut line = 0;
    let mut text = String::new();
    loop {
        text.clear();
        line += 1;
        if reader.read_line(&mut text).map_or(0, |n| n) == 0 {
            return Ok(None);
        }
        let t = text.trim_start_matches('\u{feff}').trim_end_matches(['\n', '\r']);
        if !t.is_empty() {
            // A header cell spanning lines is left to the exact reader.
            return Ok((t.bytes().filter(|b| *b == b'"').count() % 2 == 0).then(|| (t.to_owned(), line)));
        }
    }
}

/// Streams the data records of a CSV file a chunk at a time: each record's trimmed cells in the
/// layout of `columns`, its text as written (without its line end) and the line it starts on.
/// Blank records are skipped. `Ok(None)` for what the fast reader does not take (not UTF-8, a
/// quote it does not read, a missing column, a record over the limits) or when `each` stops.
fn stream(
    path: &Path,
    columns: &[Column],
    mut each: impl FnMut(&[&str], &str, u32) -> Option<()>,
) -> std::io::Result<Option<()>> {
    let limits = Limits::batch();
    // The line the chunk starts on.
    let mut line: u64 = 1;
    let mut positions: Option<Vec<usize>> = None;
    let mut count = 0_usize;
    chunks(path, CHUNK, |text, eof| {
        let mut records = Records::new(text);
        let mut counted = 0;
        let mut cells: Vec<&str> = Vec::with_capacity(16);
        let mut row: Vec<&str> = vec![""; positions.as_ref().map_or(0, Vec::len)];
        let consumed = loop {
            let before = records.at;
            let start = before + text[before..].bytes().take_while(|b| matches!(b, b'\n' | b'\r')).count();
            match records.next(&mut cells) {
                Some(false) => break text.len(),
                Some(true) => {}
                None => {
                    // A quoted cell going on in the next chunk (an open quote left), or a quote
                    // the fast reader does not read.
                    let open = text[start..].bytes().filter(|b| *b == b'"').count() % 2 == 1;
                    if eof || !open || text.len() - start > MAX_RECORD {
                        return None;
                    }
                    break before;
                }
            }
            line += memchr::memchr_iter(b'\n', &text.as_bytes()[counted..start]).count() as u64;
            counted = start;
            let raw = text[start..records.at].trim_end_matches(['\n', '\r']);
            let Some(at) = &positions else {
                let found = layout(&mut Records::new(raw), columns)?;
                row = vec![""; found.len()];
                positions = Some(found);
                continue;
            };
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            count += 1;
            if cells.len() > limits.columns || count > limits.rows || cells.iter().any(|c| c.len() > limits.cell_chars)
            {
                return None;
            }
            for (slot, p) in row.iter_mut().zip(at) {
                *slot = cells.get(*p).map_or("", |c| c.trim());
            }
            each(&row, raw, u32::try_from(line).unwrap_or(u32::MAX))?;
        };
        line += memchr::memchr_iter(b'\n', &text.as_bytes()[counted..consumed]).count() as u64;
        Some(consumed)
    })
}

/// A partition's findings, in order, as length-prefixed fields.
struct FindingsFile(BufWriter<File>);

const KINDS: [&str; 3] = ["order", "ticket", "event"];

impl FindingsFile {
    fn create(path: &Path) -> std::io::Result<Self> {
        Ok(Self(BufWriter::with_capacity(1 << 16, File::create(path)?)))
    }

    fn write(&mut self, f: FindingRef<'_>) -> std::io::Result<()> {
        let rule = Rule::ALL.iter().position(|r| r.code() == f.rule).unwrap_or(0);
        let kind = KINDS.iter().position(|k| *k == f.entity_kind).unwrap_or(0);
        self.0.write_all(&[u8::try_from(rule).unwrap_or(0), u8::try_from(kind).unwrap_or(0)])?;
        for text in [f.entity_id, f.subject, f.detail] {
            self.0.write_all(&u32::try_from(text.len()).unwrap_or(u32::MAX).to_le_bytes())?;
            self.0.write_all(text.as_bytes())?;
        }
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// One finding read back.
#[derive(PartialEq, Eq)]
struct Head {
    rule: &'static str,
    kind: &'static str,
    id: String,
    subject: String,
    detail: String,
    source: usize,
}

impl Head {
    fn read(from: &mut BufReader<File>, source: usize) -> std::io::Result<Option<Self>> {
        let mut tag = [0_u8; 2];
        match from.read_exact(&mut tag) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let mut text = || -> std::io::Result<String> {
            let mut len = [0_u8; 4];
            from.read_exact(&mut len)?;
            let mut bytes = vec![0; u32::from_le_bytes(len) as usize];
            from.read_exact(&mut bytes)?;
            String::from_utf8(bytes).map_err(std::io::Error::other)
        };
        let (id, subject, detail) = (text()?, text()?, text()?);
        let rule = Rule::ALL.get(usize::from(tag[0])).map_or("", |r| r.code());
        let kind = KINDS.get(usize::from(tag[1])).copied().unwrap_or("");
        Ok(Some(Self { rule, kind, id, subject, detail, source }))
    }

    fn key(&self) -> (&str, &str, &str, &str) {
        (self.rule, self.kind, &self.id, &self.subject)
    }
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Reversed: the heap hands out the least first.
        (other.key(), &other.detail, other.source).cmp(&(self.key(), &self.detail, self.source))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Hands the partitions' findings to `each` merged in key order, each key once.
fn merge<E>(
    sources: &[PathBuf],
    each: &mut impl FnMut(FindingRef<'_>) -> Result<(), E>,
) -> std::io::Result<Result<(), E>> {
    let mut readers = Vec::with_capacity(sources.len());
    let mut heap = BinaryHeap::new();
    for (s, path) in sources.iter().enumerate() {
        let mut reader = BufReader::with_capacity(1 << 16, File::open(path)?);
        if let Some(head) = Head::read(&mut reader, s)? {
            heap.push(head);
        }
        readers.push(reader);
    }
    let mut last: Option<(&'static str, &'static str, String, String)> = None;
    while let Some(head) = heap.pop() {
        let repeat = last.as_ref().is_some_and(|(r, k, i, s)| (*r, *k, i.as_str(), s.as_str()) == head.key());
        if !repeat {
            let f = FindingRef {
                rule: head.rule,
                entity_kind: head.kind,
                entity_id: &head.id,
                subject: &head.subject,
                detail: &head.detail,
                record: "",
            };
            if let Err(e) = each(f) {
                return Ok(Err(e));
            }
        }
        if let Some(next) = Head::read(&mut readers[head.source], head.source)? {
            heap.push(next);
        }
        last = Some((head.rule, head.kind, head.id, head.subject));
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::ByHash;

    #[test]
    fn an_order_hash_finds_every_partition_it_was_given_and_nothing_else() {
        // Hashes at both ends of the range, repeated ones (a repeated id, or two ids of one
        // hash) and many in one bucket; each looked up against a plain scan.
        let mut pairs: Vec<(u64, u32)> =
            (0..5_000_u64).map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15), (i % 7) as u32)).collect();
        pairs.extend([(0, 1), (0, 2), (u64::MAX, 3), (u64::MAX, 3), (1, 4), (2, 5)]);
        let index = ByHash::new(pairs.clone());
        let mut probes: Vec<u64> = pairs.iter().map(|(h, _)| *h).collect();
        probes.extend([3, u64::MAX - 1, 1 << 63, 12_345]);
        for h in probes {
            let mut found: Vec<u32> = index.get(h).collect();
            let mut expected: Vec<u32> = pairs.iter().filter(|(k, _)| *k == h).map(|(_, p)| *p).collect();
            found.sort_unstable();
            expected.sort_unstable();
            assert_eq!(found, expected, "hash {h:#x}");
        }
        assert_eq!(ByHash::new(Vec::new()).get(7).count(), 0);
    }
}
