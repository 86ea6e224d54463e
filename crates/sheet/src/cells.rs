//! Files to cells: CSV in UTF-8 (with or without BOM) or GBK/GB18030, and `.xlsx` workbooks.

use std::collections::BTreeMap;
use std::io::Read;

use crate::{Bound, InputError, Problem};

/// What a file may hold before it is refused, enforced while reading: a small upload that
/// unpacks to gigabytes, or a sheet with a cell in its last row and column, is refused before
/// it takes the memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes a workbook may unpack to, all its parts together.
    pub unpacked_bytes: u64,
    /// Parts (files) in a workbook.
    pub parts: usize,
    /// Data rows of one table.
    pub rows: usize,
    /// Columns of one table.
    pub columns: usize,
    /// Characters of one cell: Excel's own limit.
    pub cell_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { unpacked_bytes: 100 * 1024 * 1024, parts: 10_000, rows: 1_000_000, columns: 500, cell_chars: 32_767 }
    }
}

impl Limits {
    /// For the batch cross-audit of the operator's own files on disk (`gridsafe audit`): a
    /// province's export holds tens of millions of orders; cells and columns stay bounded.
    pub fn batch() -> Self {
        Self { rows: 100_000_000, ..Self::default() }
    }

    fn refuse(source: &str, bound: Bound, max: impl ToString) -> InputError {
        InputError { value: Some(max.to_string()), ..InputError::file(source, Problem::TooLarge(bound)) }
    }

    fn check_cell(&self, source: &str, line: usize, column: usize, text: &str) -> Result<(), InputError> {
        // Bytes bound characters from above: count only when the bytes could be too many.
        if text.len() > self.cell_chars && text.chars().count() > self.cell_chars {
            return Err(InputError {
                line: Some(line),
                column: Some(column_name(column)),
                ..Self::refuse(source, Bound::Cell, self.cell_chars)
            });
        }
        if text.contains('\0') {
            return Err(InputError {
                line: Some(line),
                column: Some(column_name(column)),
                value: Some(crate::quoted(&text.replace('\0', "␀"))),
                ..InputError::file(source, Problem::NulCharacter)
            });
        }
        Ok(())
    }
}

/// The spreadsheet name of a 0-based column: A, B, …, Z, AA, ….
fn column_name(index: usize) -> String {
    let mut n = index + 1;
    let mut name = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        name.push(b'A' + u8::try_from(rem).unwrap_or(0));
        n = (n - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// One cell as read, before the column's type is applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A date or date-time cell of a workbook.
    DateTime(chrono::NaiveDateTime),
}

impl Cell {
    /// The cell as the user sees it, for error messages.
    pub fn shown(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.clone(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::DateTime(dt) => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
        }
    }

    /// The cell as text, trimmed; numbers as written (an id typed as a number stays `1001`).
    pub fn text(&self) -> String {
        match self {
            // The common case, with one copy instead of two.
            Cell::Text(t) => t.trim().to_owned(),
            Cell::Empty => String::new(),
            other => other.shown().trim().to_owned(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    /// Line in the CSV file (header = 1) or row in the sheet (header = 1).
    pub line: usize,
    pub cells: Vec<Cell>,
}

/// A table as read from one file or sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTable {
    /// The file name, or `workbook.xlsx#sheet`.
    pub source: String,
    pub headers: Vec<String>,
    pub rows: Vec<RawRow>,
}

/// Decodes CSV bytes: a UTF-8 BOM is dropped; valid UTF-8 is taken as is; anything else is read
/// as GB18030 (a superset of GBK, what Chinese Excel writes as "CSV"), and refused if that fails.
fn decode<'a>(source: &str, bytes: &'a [u8]) -> Result<std::borrow::Cow<'a, str>, InputError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // UTF-8 is read in place; only GB18030 is decoded into a new buffer.
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(std::borrow::Cow::Borrowed(text));
    }
    let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    if had_errors {
        return Err(InputError::file(source, Problem::Encoding));
    }
    Ok(std::borrow::Cow::Owned(text.into_owned()))
}

/// Reads a CSV file (RFC 4180, header row first), within `limits`.
pub fn read_csv(source: &str, bytes: &[u8], limits: &Limits) -> Result<RawTable, InputError> {
    let text = decode(source, bytes)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records = reader.records();
    let headers: Vec<String> = match records.next() {
        Some(Ok(record)) => {
            if record.len() > limits.columns {
                return Err(Limits::refuse(source, Bound::Columns, limits.columns));
            }
            for (column, h) in record.iter().enumerate() {
                limits.check_cell(source, 1, column, h)?;
            }
            record.iter().map(|h| h.trim().to_owned()).collect()
        }
        Some(Err(e)) => return Err(InputError::file(source, Problem::Unreadable(e.to_string()))),
        None => return Err(InputError::file(source, Problem::NoHeader)),
    };
    // The csv crate does not count the blank lines it skips, so lines are counted from the
    // byte offset of each record instead.
    // A record's position may point at blank lines skipped before it; step over them. Positions
    // only grow, so newlines are counted once, from where the last record left off.
    let bytes = text.as_bytes();
    let mut counted = (0_usize, 1_usize);
    let mut line_of = |byte: u64| {
        let mut at = usize::try_from(byte).unwrap_or(0).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
            at += 1;
        }
        let (from, line) = counted;
        let line = if at >= from {
            line + bytes[from..at].iter().filter(|b| **b == b'\n').count()
        } else {
            bytes[..at].iter().filter(|b| **b == b'\n').count() + 1
        };
        counted = (at, line);
        line
    };
    drop(records);
    let mut rows = Vec::new();
    // One record reused for every row: no allocation per row, one per non-empty cell.
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| line_of(p.byte()));
                return Err(InputError { line, ..InputError::file(source, Problem::Unreadable(e.to_string())) });
            }
        }
        let line = record.position().map_or(rows.len() + 2, |p| line_of(p.byte()));
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() > limits.columns {
            return Err(InputError { line: Some(line), ..Limits::refuse(source, Bound::Columns, limits.columns) });
        }
        for (column, c) in record.iter().enumerate() {
            limits.check_cell(source, line, column, c)?;
        }
        if rows.len() == limits.rows {
            return Err(InputError { line: Some(line), ..Limits::refuse(source, Bound::Rows, limits.rows) });
        }
        let cells = record.iter().map(|c| if c.is_empty() { Cell::Empty } else { Cell::Text(c.to_owned()) }).collect();
        rows.push(RawRow { line, cells });
    }
    Ok(RawTable { source: source.to_owned(), headers, rows })
}

/// Refuses a workbook whose parts unpack to more than the limits allow, by unpacking each part
/// (without keeping it) and counting: a part's declared size can lie.
fn check_unpacked(source: &str, bytes: &[u8], limits: &Limits) -> Result<(), InputError> {
    let unreadable = |e: &dyn std::fmt::Display| InputError::file(source, Problem::Unreadable(e.to_string()));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    if archive.len() > limits.parts {
        return Err(Limits::refuse(source, Bound::Uncompressed, limits.unpacked_bytes / (1024 * 1024)));
    }
    let mut left = limits.unpacked_bytes;
    for i in 0..archive.len() {
        let part = archive.by_index(i).map_err(|e| unreadable(&e))?;
        let read = std::io::copy(&mut part.take(left + 1), &mut std::io::sink()).map_err(|e| unreadable(&e))?;
        if read > left {
            return Err(Limits::refuse(source, Bound::Uncompressed, limits.unpacked_bytes / (1024 * 1024)));
        }
        left -= read;
    }
    Ok(())
}

fn cell_of(data: &calamine::DataRef<'_>) -> Cell {
    use calamine::DataRef;
    match data {
        DataRef::Empty | DataRef::Error(_) => Cell::Empty,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Text(s.clone()),
        DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
        DataRef::Int(n) => Cell::Number(*n as f64),
        DataRef::Float(f) => Cell::Number(*f),
        DataRef::Bool(b) => Cell::Text(b.to_string()),
        DataRef::DateTime(dt) => dt.as_datetime().map_or(Cell::Number(dt.as_f64()), Cell::DateTime),
    }
}

/// Reads every sheet of an `.xlsx` workbook, each as a table named by its sheet, within
/// `limits`. Cells are streamed: a sheet is never laid out as the dense rectangle its farthest
/// cell spans.
pub fn read_xlsx(source: &str, bytes: &[u8], limits: &Limits) -> Result<Vec<(String, RawTable)>, InputError> {
    use calamine::Reader;
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(InputError::file(source, Problem::Unreadable("not an .xlsx workbook".into())));
    }
    check_unpacked(source, bytes, limits)?;
    let unreadable = |e: calamine::XlsxError| InputError::file(source, Problem::Unreadable(e.to_string()));
    let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes)).map_err(unreadable)?;
    let mut tables = Vec::new();
    for name in workbook.sheet_names() {
        let shown = format!("{source}#{name}");
        // Row → its cells by column, as they come (rows are usually, not always, in order).
        let mut sheet: BTreeMap<u32, Vec<(u32, Cell)>> = BTreeMap::new();
        let mut reader = match workbook.worksheet_cells_reader(&name) {
            Ok(reader) => reader,
            Err(calamine::XlsxError::NotAWorksheet(_)) => continue,
            Err(e) => return Err(unreadable(e)),
        };
        while let Some(cell) = reader.next_cell().map_err(unreadable)? {
            let (row, column) = cell.get_position();
            let value = cell_of(cell.get_value());
            if matches!(value, Cell::Empty) {
                continue;
            }
            let line = row as usize + 1;
            if column as usize >= limits.columns {
                return Err(InputError { line: Some(line), ..Limits::refuse(&shown, Bound::Columns, limits.columns) });
            }
            if let Cell::Text(text) = &value {
                limits.check_cell(&shown, line, column as usize, text)?;
            }
            if !sheet.contains_key(&row) && sheet.len() > limits.rows {
                return Err(InputError { line: Some(line), ..Limits::refuse(&shown, Bound::Rows, limits.rows) });
            }
            sheet.entry(row).or_default().push((column, value));
        }
        drop(reader);
        let mut rows_iter = sheet.into_iter();
        let Some((_, header)) = rows_iter.next() else { continue };
        let dense = |cells: Vec<(u32, Cell)>| {
            let width = cells.iter().map(|(c, _)| *c as usize + 1).max().unwrap_or(0);
            let mut row = vec![Cell::Empty; width];
            for (c, value) in cells {
                row[c as usize] = value;
            }
            row
        };
        let headers = dense(header).iter().map(|c| c.shown().trim().to_owned()).collect();
        let mut rows = Vec::new();
        for (row, cells) in rows_iter {
            let cells = dense(cells);
            if cells.iter().all(Cell::is_empty) {
                continue;
            }
            rows.push(RawRow { line: row as usize + 1, cells });
        }
        tables.push((name.clone(), RawTable { source: shown, headers, rows }));
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_bom_and_gbk_read_alike() {
        let text = "工号,姓名\nP001,张伟\n";
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let a = read_csv("a.csv", &with_bom, &Limits::default()).expect("bom");
        let b = read_csv("b.csv", &gbk, &Limits::default()).expect("gbk");
        assert_eq!(a.headers, ["工号", "姓名"]);
        assert_eq!(a.headers, b.headers);
        assert_eq!(a.rows[0].cells, b.rows[0].cells);
        assert_eq!(a.rows[0].line, 2);
    }

    #[test]
    fn quoted_fields_blank_lines_and_lines_are_kept_right() {
        let t = read_csv("x.csv", b"a,b\n\"1,2\",\"x\"\"y\"\n\n3,\n", &Limits::default()).expect("csv");
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].cells[0], Cell::Text("1,2".into()));
        assert_eq!(t.rows[0].cells[1], Cell::Text("x\"y".into()));
        assert_eq!(t.rows[1].line, 4, "the blank line still counts");
        assert_eq!(t.rows[1].cells[1], Cell::Empty);
    }

    #[test]
    fn bytes_that_are_no_text_are_refused() {
        let err = read_csv("bad.csv", &[0x81, 0x20, 0xff, 0xfe, 0x00, 0x81], &Limits::default()).expect_err("not text");
        assert_eq!(err.problem, Problem::Encoding);
    }

    fn workbook(fill: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("work_orders").expect("name");
        fill(sheet);
        book.save_to_buffer().expect("xlsx")
    }

    #[test]
    fn a_workbook_read_by_streaming_keeps_lines_and_types() {
        let bytes = workbook(|s| {
            s.write_string(0, 0, "order_id").expect("w");
            s.write_string(0, 1, "amount").expect("w");
            s.write_string(1, 0, "GD1").expect("w");
            s.write_number(1, 1, 12.5).expect("w");
            s.write_string(4, 0, "GD2").expect("w");
        });
        let sheets = read_xlsx("x.xlsx", &bytes, &Limits::default()).expect("read");
        let (name, t) = &sheets[0];
        assert_eq!(name, "work_orders");
        assert_eq!(t.headers, ["order_id", "amount"]);
        assert_eq!(t.rows.len(), 2);
        assert_eq!((t.rows[0].line, t.rows[1].line), (2, 5), "rows keep the sheet's line numbers");
        assert_eq!(t.rows[0].cells, [Cell::Text("GD1".into()), Cell::Number(12.5)]);
    }

    #[test]
    fn a_decompression_bomb_is_refused_before_it_is_unpacked() {
        use std::io::Write;
        // A real workbook with one extra part of 8 MiB of zeros: a few kilobytes packed.
        let plain = workbook(|s| {
            s.write_string(0, 0, "order_id").expect("w");
        });
        let mut source = zip::ZipArchive::new(std::io::Cursor::new(plain)).expect("zip");
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for i in 0..source.len() {
            out.raw_copy_file(source.by_index(i).expect("part")).expect("copy");
        }
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        out.start_file("xl/media/bomb.bin", options).expect("start");
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..8 {
            out.write_all(&zeros).expect("write");
        }
        let bomb = out.finish().expect("finish").into_inner();
        assert!(bomb.len() < 200 * 1024, "small on the wire: {}", bomb.len());
        let limits = Limits { unpacked_bytes: 4 * 1024 * 1024, ..Limits::default() };
        let err = read_xlsx("bomb.xlsx", &bomb, &limits).expect_err("refused");
        assert_eq!(err.problem, Problem::TooLarge(Bound::Uncompressed));
        assert_eq!(err.value.as_deref(), Some("4"), "the bound, in MiB");
        assert!(read_xlsx("bomb.xlsx", &bomb, &Limits::default()).is_ok(), "within the default bound");
    }

    #[test]
    fn a_sheet_spanning_every_row_and_column_is_refused_without_laying_it_out() {
        // Two cells: calamine's dense range would be 1,048,576 × 16,384 cells.
        let bytes = workbook(|s| {
            s.write_string(0, 0, "order_id").expect("w");
            s.write_string(1_048_575, 16_383, "x").expect("w");
        });
        let err = read_xlsx("wide.xlsx", &bytes, &Limits::default()).expect_err("refused");
        assert_eq!(err.problem, Problem::TooLarge(Bound::Columns));
        assert_eq!(err.line, Some(1_048_576));
        let tall = workbook(|s| {
            s.write_string(0, 0, "order_id").expect("w");
            s.write_string(1_048_575, 0, "GD9").expect("w");
        });
        let sheets = read_xlsx("tall.xlsx", &tall, &Limits::default()).expect("two rows are two rows");
        assert_eq!(sheets[0].1.rows[0].line, 1_048_576);
    }

    #[test]
    fn rows_columns_and_cells_are_bounded_and_errors_quote_no_oversized_value() {
        let limits = Limits { rows: 3, columns: 4, cell_chars: 10, ..Limits::default() };
        let rows = read_csv("r.csv", b"a\n1\n2\n3\n4\n", &limits).expect_err("rows");
        assert_eq!((rows.problem, rows.line), (Problem::TooLarge(Bound::Rows), Some(5)));
        assert!(read_csv("r.csv", b"a\n1\n2\n3\n", &limits).is_ok(), "three rows are fine");
        let wide = read_csv("w.csv", b"a,b,c,d,e\n", &limits).expect_err("columns");
        assert_eq!(wide.problem, Problem::TooLarge(Bound::Columns));
        let long = read_csv("l.csv", "a,b\n1,一二三四五六七八九十十一\n".as_bytes(), &limits).expect_err("cell");
        assert_eq!(long.problem, Problem::TooLarge(Bound::Cell));
        assert_eq!((long.line, long.column.as_deref(), long.value.as_deref()), (Some(2), Some("B"), Some("10")));
        assert!(read_csv("l.csv", "a,b\n1,一二三四五六七八九十\n".as_bytes(), &limits).is_ok(), "ten characters fit");
        assert_eq!(crate::quoted(&"长".repeat(1000)).chars().count(), crate::QUOTED_CHARS + 1);
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(27), "AB");
    }

    #[test]
    fn a_nul_character_in_a_cell_is_refused_where_it_is() {
        // A damaged export: PostgreSQL's text cannot hold NUL, and no person typed it.
        let err = read_csv(
            "w.csv",
            b"order_id,customer_id
WO1,CU\x001\n",
            &Limits::default(),
        )
        .expect_err("NUL");
        assert_eq!(
            (err.problem, err.line, err.column.as_deref(), err.value.as_deref()),
            (Problem::NulCharacter, Some(2), Some("B"), Some("CU␀1"))
        );
        let header = read_csv("w.csv", b"order\x00_id\nWO1\n", &Limits::default()).expect_err("NUL");
        assert_eq!((err.file.as_str(), header.line), ("w.csv", Some(1)));
    }
}
