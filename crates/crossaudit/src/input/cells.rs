//! Files to cells: CSV in UTF-8 (with or without BOM) or GBK/GB18030, and `.xlsx` workbooks.

use super::{InputError, Problem};

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

/// Reads a CSV file (RFC 4180, header row first).
pub fn read_csv(source: &str, bytes: &[u8]) -> Result<RawTable, InputError> {
    let text = decode(source, bytes)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records = reader.records();
    let headers: Vec<String> = match records.next() {
        Some(Ok(record)) => record.iter().map(|h| h.trim().to_owned()).collect(),
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
        let cells = record.iter().map(|c| if c.is_empty() { Cell::Empty } else { Cell::Text(c.to_owned()) }).collect();
        rows.push(RawRow { line, cells });
    }
    Ok(RawTable { source: source.to_owned(), headers, rows })
}

/// Reads every sheet of an `.xlsx` (or `.xls`, `.ods`) workbook, each as a table named by its sheet.
pub fn read_xlsx(source: &str, bytes: &[u8]) -> Result<Vec<(String, RawTable)>, InputError> {
    use calamine::{Data, Reader};
    let mut workbook = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec()))
        .map_err(|e| InputError::file(source, Problem::Unreadable(e.to_string())))?;
    let mut tables = Vec::new();
    for name in workbook.sheet_names() {
        let range = workbook
            .worksheet_range(&name)
            .map_err(|e| InputError::file(source, Problem::Unreadable(e.to_string())))?;
        let first_row = range.start().map_or(0, |(r, _)| r as usize);
        let mut rows_iter = range.rows();
        let Some(header) = rows_iter.next() else { continue };
        let headers = header.iter().map(|c| c.to_string().trim().to_owned()).collect();
        let mut rows = Vec::new();
        for (i, row) in rows_iter.enumerate() {
            let cells: Vec<Cell> = row
                .iter()
                .map(|c| match c {
                    Data::Empty | Data::Error(_) => Cell::Empty,
                    Data::String(s) => Cell::Text(s.clone()),
                    Data::Int(n) => Cell::Number(*n as f64),
                    Data::Float(f) => Cell::Number(*f),
                    Data::Bool(b) => Cell::Text(b.to_string()),
                    Data::DateTime(dt) => dt.as_datetime().map_or(Cell::Number(dt.as_f64()), Cell::DateTime),
                    Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
                })
                .collect();
            if cells.iter().all(Cell::is_empty) {
                continue;
            }
            rows.push(RawRow { line: first_row + i + 2, cells });
        }
        tables.push((name.clone(), RawTable { source: format!("{source}#{name}"), headers, rows }));
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
        let a = read_csv("a.csv", &with_bom).expect("bom");
        let b = read_csv("b.csv", &gbk).expect("gbk");
        assert_eq!(a.headers, ["工号", "姓名"]);
        assert_eq!(a.headers, b.headers);
        assert_eq!(a.rows[0].cells, b.rows[0].cells);
        assert_eq!(a.rows[0].line, 2);
    }

    #[test]
    fn quoted_fields_blank_lines_and_lines_are_kept_right() {
        let t = read_csv("x.csv", b"a,b\n\"1,2\",\"x\"\"y\"\n\n3,\n").expect("csv");
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].cells[0], Cell::Text("1,2".into()));
        assert_eq!(t.rows[0].cells[1], Cell::Text("x\"y".into()));
        assert_eq!(t.rows[1].line, 4, "the blank line still counts");
        assert_eq!(t.rows[1].cells[1], Cell::Empty);
    }

    #[test]
    fn bytes_that_are_no_text_are_refused() {
        let err = read_csv("bad.csv", &[0x81, 0x20, 0xff, 0xfe, 0x00, 0x81]).expect_err("not text");
        assert_eq!(err.problem, Problem::Encoding);
    }
}
