//! GridSafe's ground floor for spreadsheets: CSV (UTF-8 with or without BOM, or GBK/GB18030)
//! and `.xlsx` read into raw tables within [`Limits`], values parsed the way Chinese offices
//! write them, header aliases (English or Chinese), and problems that name file, line, column
//! and value. Every import (people, customers, the marketing export, and any later one) and the
//! cross-audit read through it.

mod cells;
mod values;

pub use cells::{Cell, Limits, RawRow, RawTable, read_csv, read_xlsx};
pub use values::{parse_date, parse_datetime, parse_list};

/// The position of the column headed `en` (any case) or `zh` among `headers`, blanks trimmed.
pub fn column(headers: &[String], en: &str, zh: &str) -> Option<usize> {
    headers.iter().position(|h| h.trim().eq_ignore_ascii_case(en) || h.trim() == zh)
}

/// What is wrong with one value or with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The file is neither UTF-8 nor GBK/GB18030 text.
    Encoding,
    /// The workbook cannot be opened.
    Unreadable(String),
    /// The table has no header row.
    NoHeader,
    /// A required column is absent.
    MissingColumn,
    /// A required value is empty.
    Empty,
    BadDate,
    BadDateTime,
    /// A value outside the enumeration of the column.
    UnknownValue,
    /// The id appeared on an earlier line.
    Duplicate {
        first_line: usize,
    },
    /// `valid_to` is before `valid_from`.
    EndBeforeStart,
    /// Named in the file but absent from the file and the database (e.g. an organisation unit).
    UnknownReference,
    /// The record exists but belongs to a unit outside the importer's reach.
    NotPermitted,
    /// A table the export must have is absent.
    MissingTable,
    /// A folder with no table files but several workbooks: which one is the export?
    SeveralWorkbooks,
    /// Beyond a bound of [`Limits`]; the error's value is the bound.
    TooLarge(Bound),
    /// A cell holds a NUL character: not text anyone typed (a damaged export), and what
    /// PostgreSQL's text cannot store.
    NulCharacter,
}

/// Which bound of [`Limits`] a file broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The workbook unpacks to more than this many MiB (or holds too many parts).
    Uncompressed,
    Rows,
    Columns,
    /// A cell longer than this many characters.
    Cell,
}

impl Problem {
    /// The message key (`input-problem-…`) describing it.
    pub fn message_key(&self) -> &'static str {
        match self {
            Problem::Encoding => "input-problem-encoding",
            Problem::Unreadable(_) => "input-problem-unreadable",
            Problem::NoHeader => "input-problem-no-header",
            Problem::MissingColumn => "input-problem-missing-column",
            Problem::Empty => "input-problem-empty",
            Problem::BadDate => "input-problem-bad-date",
            Problem::BadDateTime => "input-problem-bad-datetime",
            Problem::UnknownValue => "input-problem-unknown-value",
            Problem::Duplicate { .. } => "input-problem-duplicate",
            Problem::EndBeforeStart => "input-problem-end-before-start",
            Problem::UnknownReference => "input-problem-unknown-reference",
            Problem::NotPermitted => "input-problem-not-permitted",
            Problem::MissingTable => "input-problem-missing-table",
            Problem::SeveralWorkbooks => "input-problem-several-workbooks",
            Problem::TooLarge(Bound::Uncompressed) => "input-problem-too-large-unpacked",
            Problem::TooLarge(Bound::Rows) => "input-problem-too-many-rows",
            Problem::TooLarge(Bound::Columns) => "input-problem-too-many-columns",
            Problem::TooLarge(Bound::Cell) => "input-problem-cell-too-long",
            Problem::NulCharacter => "input-problem-nul-character",
        }
    }
}

/// One problem and where it is: file (or sheet), line (the header is line 1), column, value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<String>,
    pub value: Option<String>,
    pub problem: Problem,
}

impl InputError {
    pub fn file(file: &str, problem: Problem) -> Self {
        Self { file: file.to_owned(), line: None, column: None, value: None, problem }
    }
}

/// How much of a value an error quotes: enough to find it, never a whole oversized cell.
pub const QUOTED_CHARS: usize = 60;

/// `value` as an error quotes it: its first [`QUOTED_CHARS`] characters, then `…` when cut.
pub fn quoted(value: &str) -> String {
    match value.char_indices().nth(QUOTED_CHARS) {
        Some((at, _)) => format!("{}…", &value[..at]),
        None => value.to_owned(),
    }
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &self.column {
            write!(f, " [{column}]")?;
        }
        if let Some(value) = &self.value {
            write!(f, " '{value}'")?;
        }
        write!(f, ": {:?}", self.problem)
    }
}
