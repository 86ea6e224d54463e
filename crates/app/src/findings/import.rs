//! Import of the marketing system's work orders and the metering system's meter events.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use gridsafe_crossaudit::input::{self, InputError, Limits, MeterEvent, TableKind, Tables, WorkOrder};
use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_store::findings as store;
use serde::Serialize;

use crate::audit::NewEvent;
use crate::identity::unit_by_id;
use crate::{App, AppError, RequestMeta};

/// What an import brought in, and what the cross-audit run after it found.
#[derive(Debug, Clone, Serialize)]
pub struct MarketingImport {
    pub id: i64,
    pub orders: usize,
    pub events: usize,
    /// Tables in the files that this import does not take (people and tickets come from GridSafe).
    pub ignored: Vec<String>,
    pub run: super::RunSummary,
}

/// Imports the work orders and meter events of `tables` for `unit` (orders whose 供电单位 names a
/// unit below it, by name or code, go to that unit), all or nothing, then runs the cross-audit.
/// Problems in the files come back as `Err` with file, line, column and value; nothing is written.
pub async fn import_marketing(
    app: &App,
    cap: &Capability<perm::MarketingImport>,
    meta: &RequestMeta,
    unit_id: UnitId,
    files: &[String],
    tables: Tables,
) -> Result<Result<MarketingImport, Vec<InputError>>, AppError> {
    let unit = unit_by_id(app, unit_id).await?.ok_or(AppError::NotFound)?;
    cap.check(&unit.path)?;
    let mut errors = tables.errors.clone();
    if errors.is_empty() && tables.work_orders.is_empty() && tables.meter_events.is_empty() {
        let file = files.first().cloned().unwrap_or_default();
        errors.push(InputError::file(
            &file,
            gridsafe_crossaudit::input::Problem::Unreadable("no work_orders or meter_events".into()),
        ));
    }
    if !errors.is_empty() {
        // The refused attempt is on record too; nothing else was written.
        let event = NewEvent::new("marketing.import_refused", "marketing_import", 0)
            .unit(unit.id)
            .summary(serde_json::json!({ "files": files, "problems": errors.len() }));
        app.record(cap.actor(), meta, event).await?;
        return Ok(Err(errors));
    }
    let ignored = ignored(&tables);
    // Units below the chosen one, by name and by code, for the orders' 供电单位 (units are never
    // deleted).
    let below = store::units_below(&mut *app.db().read().await?, &unit.path).await?;
    let unit_of = |text: &str| below.iter().find(|(_, n, c)| n == text || c == text).map_or(unit.id, |(id, _, _)| *id);
    let (orders, events) = (tables.work_orders.len(), tables.meter_events.len());
    let imported = |id| imported(id, unit.id, files, orders, events, &ignored);
    let by = &cap.actor().name;
    // On PostgreSQL the rows go in with its bulk load, on its own driver's connection.
    let id = match app.begin_bulk(cap.actor(), meta).await? {
        Some(mut work) => {
            let now = work.now();
            let id = store::import_bulk(work.conn(), unit.id, files, &tables, &unit_of, by, now).await?;
            work.audit(imported(id)).await?;
            work.commit().await?;
            id
        }
        None => {
            let mut work = app.begin(cap.actor(), meta).await?;
            let now = work.now();
            let id = store::import(work.conn(), unit.id, files, &tables, &unit_of, by, now).await?;
            work.audit(imported(id)).await?;
            work.commit().await?;
            id
        }
    };
    let brought = super::run::Brought::new(id, tables, &unit_of, unit.id);
    let run = super::run::run_after_import(app, cap.actor(), meta, "import", brought).await?;
    Ok(Ok(MarketingImport { id, orders, events, ignored, run }))
}

/// The tables of an export that a marketing import does not take (people and tickets come from
/// GridSafe).
fn ignored(tables: &Tables) -> Vec<String> {
    [
        ("persons", tables.persons.is_empty()),
        ("qualifications", tables.qualifications.is_empty()),
        ("contractors", tables.contractors.is_empty()),
        ("safety_agreements", tables.agreements.is_empty()),
        ("tickets", tables.tickets.is_empty()),
    ]
    .into_iter()
    .filter(|(_, empty)| !empty)
    .map(|(name, _)| name.to_owned())
    .collect()
}

/// The audit event of import `id`.
fn imported(id: i64, unit: UnitId, files: &[String], orders: usize, events: usize, ignored: &[String]) -> NewEvent {
    NewEvent::new("marketing.imported", "marketing_import", id).unit(unit).summary(serde_json::json!({
        "files": files, "orders": orders, "events": events, "ignored": ignored,
    }))
}

/// Reads uploaded `files` (CSV files named after their table, or workbooks with a sheet a table)
/// and imports them as [`import_marketing`] does. On PostgreSQL the rows are stored while the
/// files are still being read ([`import_while_reading`]); a problem found there undoes them, and
/// the files are read again whole for the refusal, so that it says exactly what
/// [`crate::people::read_upload`] says.
pub async fn import_marketing_files(
    app: &App,
    cap: &Capability<perm::MarketingImport>,
    meta: &RequestMeta,
    unit_id: UnitId,
    files: Vec<(String, Vec<u8>)>,
) -> Result<Result<MarketingImport, Vec<InputError>>, AppError> {
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let files = Arc::new(files);
    if let Some(done) = import_while_reading(app, cap, meta, unit_id, &names, files.clone()).await? {
        return Ok(Ok(done));
    }
    let tables = crate::people::read_upload(&files);
    import_marketing(app, cap, meta, unit_id, &names, tables).await
}

/// On PostgreSQL, [`import_marketing`] with the reading of `files` and the storing of their rows
/// at once: a thread reads a piece at a time while the server stores the piece before
/// ([`read_in_pieces`]; a piece of 2 MB, about 20,000 orders, took 25 ms to read and 40–60 ms to
/// store).
/// `None`, with nothing written, on SQLite, when the files have a problem, or when they hold no
/// orders or events.
async fn import_while_reading(
    app: &App,
    cap: &Capability<perm::MarketingImport>,
    meta: &RequestMeta,
    unit_id: UnitId,
    names: &[String],
    files: Arc<Vec<(String, Vec<u8>)>>,
) -> Result<Option<MarketingImport>, AppError> {
    // On SQLite, before anything is looked up: `import_marketing` does it all.
    let Some(mut work) = app.begin_bulk(cap.actor(), meta).await? else { return Ok(None) };
    let unit = unit_by_id(app, unit_id).await?.ok_or(AppError::NotFound)?;
    cap.check(&unit.path)?;
    let below = store::units_below(&mut *app.db().read().await?, &unit.path).await?;
    let unit_of = |text: &str| below.iter().find(|(_, n, c)| n == text || c == text).map_or(unit.id, |(id, _, _)| *id);
    let now = work.now();
    let id = store::begin_import_bulk(work.conn(), unit.id, names, &cap.actor().name, now).await?;
    // Two pieces wait at most: what is read ahead stays small whatever the file's size.
    let (send, mut pieces) = tokio::sync::mpsc::channel(2);
    let reading = tokio::task::spawn_blocking(move || {
        read_in_pieces(&files, PIECE_BYTES, |piece| send.blocking_send(piece).is_ok())
    });
    let (mut orders, mut events) = (Vec::new(), Vec::new());
    // A store error ends this here; the reader then finds no one to send to, and stops.
    while let Some(piece) = pieces.recv().await {
        match piece {
            Piece::Orders(rows) => {
                store::import_orders_bulk(work.conn(), id, &rows, &unit_of).await?;
                orders.extend(rows);
            }
            Piece::Events(rows) => {
                store::import_events_bulk(work.conn(), id, &rows, unit.id).await?;
                events.extend(rows);
            }
        }
    }
    let read = reading.await.map_err(|e| AppError::internal(format!("reading the upload: {e}")))?;
    // Returning drops the transaction uncommitted: nothing of it stays.
    let Some(mut tables) = read else { return Ok(None) };
    if orders.is_empty() && events.is_empty() {
        return Ok(None);
    }
    let (n_orders, n_events, ignored) = (orders.len(), events.len(), ignored(&tables));
    store::end_import_bulk(work.conn(), id, n_orders, n_events).await?;
    work.audit(imported(id, unit.id, names, n_orders, n_events, &ignored)).await?;
    work.commit().await?;
    (tables.work_orders, tables.meter_events) = (orders, events);
    let brought = super::run::Brought::new(id, tables, &unit_of, unit.id);
    let run = super::run::run_after_import(app, cap.actor(), meta, "import", brought).await?;
    Ok(Some(MarketingImport { id, orders: n_orders, events: n_events, ignored, run }))
}

/// Rows of an upload, read a piece at a time.
#[derive(Debug)]
enum Piece {
    Orders(Vec<WorkOrder>),
    Events(Vec<MeterEvent>),
}

/// Bytes of a CSV file read as one piece: about 20,000 orders.
const PIECE_BYTES: usize = 2 << 20;

/// Reads `files` as [`crate::people::read_upload`] does, handing each piece of work orders and
/// meter events to `send` as soon as it is read: a CSV file of them in pieces of about
/// `piece_bytes` ([`csv_pieces`]), a workbook's whole. What is left (the other tables) when every
/// file read without a problem; `None` at the first problem (a bad row, an id twice, too many
/// rows), or when `send` says the rows are no longer wanted.
fn read_in_pieces(
    files: &[(String, Vec<u8>)],
    piece_bytes: usize,
    mut send: impl FnMut(Piece) -> bool,
) -> Option<Tables> {
    let limits = Limits::default();
    let mut rest = Tables::default();
    for (name, bytes) in files {
        let stem = name.rsplit('/').next().unwrap_or(name);
        let (stem, ext) = stem.rsplit_once('.').unwrap_or((stem, ""));
        let kind = TableKind::from_name(stem).filter(|k| matches!(k, TableKind::WorkOrders | TableKind::MeterEvents));
        let Some(kind) = kind.filter(|_| ext.eq_ignore_ascii_case("csv")) else {
            let mut read = Tables::default();
            crate::people::read_file(name, bytes, &mut read);
            if !read.errors.is_empty() {
                return None;
            }
            let (orders, events) = (std::mem::take(&mut read.work_orders), std::mem::take(&mut read.meter_events));
            if (!orders.is_empty() && !send(Piece::Orders(orders)))
                || (!events.is_empty() && !send(Piece::Events(events)))
            {
                return None;
            }
            rest.persons.append(&mut read.persons);
            rest.qualifications.append(&mut read.qualifications);
            rest.contractors.append(&mut read.contractors);
            rest.agreements.append(&mut read.agreements);
            rest.tickets.append(&mut read.tickets);
            rest.sources.append(&mut read.sources);
            continue;
        };
        // The reader refuses an id twice in a file, and a file of more rows than the limit.
        let (mut ids, mut rows) = (HashSet::new(), 0);
        for (piece, offset) in csv_pieces(bytes, piece_bytes) {
            let raw = input::read_csv(name, &piece, &limits).ok()?;
            rows += raw.rows.len();
            let mut read = Tables::default();
            input::read_table(kind, &raw, &mut read);
            if rows > limits.rows || !read.errors.is_empty() {
                return None;
            }
            let piece = match kind {
                TableKind::WorkOrders => {
                    for o in &mut read.work_orders {
                        o.line += offset;
                        if !ids.insert(o.order_id.clone()) {
                            return None;
                        }
                    }
                    Piece::Orders(read.work_orders)
                }
                _ => {
                    for e in &mut read.meter_events {
                        e.line += offset;
                        if !ids.insert(e.event_id.clone()) {
                            return None;
                        }
                    }
                    Piece::Events(read.meter_events)
                }
            };
            if !send(piece) {
                return None;
            }
        }
        rest.sources.push((kind, name.clone()));
    }
    Some(rest)
}

/// A CSV file's bytes in pieces of about `size` bytes ending at a line end, each after the first
/// beginning with the file's header line, with how many lines its own numbering is behind the
/// file's. The file whole when a line end may fall inside a quoted value (it has a quote), or
/// when it is not UTF-8 (its encoding is decided on the whole file).
fn csv_pieces(bytes: &[u8], size: usize) -> impl Iterator<Item = (Cow<'_, [u8]>, usize)> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let whole = bytes.len() <= size || bytes.contains(&b'"') || std::str::from_utf8(body).is_err();
    let header = bytes.iter().position(|&b| b == b'\n').filter(|_| !whole).map(|end| &bytes[..=end]);
    let (mut start, mut lines) = (0, 0);
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let Some(header) = header else {
            start = bytes.len();
            return Some((Cow::Borrowed(bytes), 0));
        };
        let end = (start + size).min(bytes.len());
        let end = bytes[end..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |at| end + at + 1);
        // After the header (the piece's line 1), the piece's line 2 is the file's `lines + 1`.
        let piece = if start == 0 {
            (Cow::Borrowed(&bytes[..end]), 0)
        } else {
            (Cow::Owned([header, &bytes[start..end]].concat()), lines - 1)
        };
        lines += bytes[start..end].iter().filter(|&&b| b == b'\n').count();
        start = end;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `read_in_pieces` hands over and keeps, as one `Tables` (`None` at a problem).
    fn in_pieces(files: &[(String, Vec<u8>)], piece_bytes: usize) -> Option<Tables> {
        let (mut orders, mut events) = (Vec::new(), Vec::new());
        let mut rest = read_in_pieces(files, piece_bytes, |piece| {
            match piece {
                Piece::Orders(rows) => orders.extend(rows),
                Piece::Events(rows) => events.extend(rows),
            }
            true
        })?;
        (rest.work_orders, rest.meter_events) = (orders, events);
        Some(rest)
    }

    fn file(name: &str, text: impl Into<Vec<u8>>) -> (String, Vec<u8>) {
        (name.to_owned(), text.into())
    }

    /// A generated export of 3,000 orders, its orders and events as the marketing system
    /// writes them, and a copy of each in messier form: a BOM, Chinese headers in another
    /// order, Windows line ends and blank lines.
    fn export() -> Vec<(String, Vec<u8>)> {
        let dir = tempfile::tempdir().expect("dir");
        gridsafe_crossaudit::generate::write_export(dir.path(), 3_000, 7).expect("export");
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect("file");
        let events = read("meter_events.csv");
        let mut messy = String::from("\u{feff}事件类型,事件编号,电能表编号,户号,发生时间\r\n");
        for (n, line) in events.lines().skip(1).enumerate() {
            let c: Vec<&str> = line.split(',').collect();
            messy.push_str(&format!("{},{},{},{},{}\r\n", c[3], c[0].replacen('E', "X", 1), c[1], c[2], c[4]));
            if n % 97 == 0 {
                messy.push_str("\r\n,,,,\r\n");
            }
        }
        vec![
            file("work_orders.csv", read("work_orders.csv")),
            file("persons.csv", read("persons.csv")),
            file("meter_events.csv", events),
            file("电能表事件.csv", messy),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        #[test]
        fn pieces_of_any_size_read_as_the_whole_files_do(piece_bytes in 1usize..40_000) {
            let files = export();
            let whole = crate::people::read_upload(&files);
            proptest::prop_assert!(whole.errors.is_empty(), "{:?}", whole.errors.first());
            let pieces = in_pieces(&files, piece_bytes).expect("read without a problem");
            proptest::prop_assert_eq!(&pieces.work_orders, &whole.work_orders);
            proptest::prop_assert_eq!(&pieces.meter_events, &whole.meter_events);
            proptest::prop_assert_eq!(pieces.persons.len(), whole.persons.len());
        }
    }

    #[test]
    fn a_problem_in_any_piece_stops_the_reading() {
        let files = export();
        let orders = String::from_utf8(files[0].1.clone()).expect("text");
        let lines: Vec<&str> = orders.lines().collect();
        // A bad time near the end, an order twice far apart, and the same with a quote in the
        // file (read whole): each is a problem the whole file's reading reports too.
        let bad_time = orders.replace(lines[2_900], &lines[2_900].replacen(",2025-", ",2025/13/", 1));
        let twice = format!("{orders}{}\n", lines[3]);
        let quoted =
            format!("{orders}\"WO-Q\",meter_install,CU1,中心,2025-01-01 09:00,2025-01-01 10:00,P1\n{}\n", lines[5]);
        for text in [bad_time, twice, quoted] {
            let files = vec![file("work_orders.csv", text)];
            assert!(!crate::people::read_upload(&files).errors.is_empty());
            assert!(in_pieces(&files, 4_096).is_none());
        }
        // A piece no longer wanted ends the reading.
        let mut sent = 0;
        assert!(
            read_in_pieces(&files, 4_096, |_| {
                sent += 1;
                sent < 3
            })
            .is_none()
        );
        assert_eq!(sent, 3);
    }

    #[test]
    fn a_file_with_quotes_or_in_gbk_is_one_piece() {
        let gbk = encoding_rs::GB18030.encode("order_id,order_type\nWO1,换表\n").0.into_owned();
        for bytes in [b"a,b\n\"x\ny\",1\n2,3\n".to_vec(), gbk] {
            let pieces: Vec<_> = csv_pieces(&bytes, 4).collect();
            assert_eq!(pieces.len(), 1);
            assert_eq!((pieces[0].0.as_ref(), pieces[0].1), (bytes.as_slice(), 0));
        }
        let pieces: Vec<_> = csv_pieces(b"h1,h2\n1,2\n3,4\n\n5,6", 4).collect();
        let texts: Vec<(&[u8], usize)> = pieces.iter().map(|(p, n)| (p.as_ref(), *n)).collect();
        // The first piece's size counts its header; each piece ends at a line end past the size.
        assert_eq!(texts, [(&b"h1,h2\n"[..], 0), (b"h1,h2\n1,2\n3,4\n", 0), (b"h1,h2\n\n5,6", 2)]);
    }
}
