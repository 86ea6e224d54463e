//! Ledgers (台账) as `.xlsx`: one sheet, Chinese headers, text kept as text.

use rust_xlsxwriter::{Format, Workbook};

use crate::AppError;

/// One cell of a ledger.
#[derive(Debug, Clone)]
pub enum Value {
    Text(String),
    Number(f64),
    Empty,
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Self {
        s.map_or(Value::Empty, Value::Text)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n as f64)
    }
}

impl From<Option<f64>> for Value {
    fn from(n: Option<f64>) -> Self {
        n.map_or(Value::Empty, Value::Number)
    }
}

/// One sheet of a workbook: its name, header row and rows.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// A workbook with one sheet: a bold, frozen header row and the rows. Text is written as text,
/// so a value such as `=HYPERLINK(…)` can never become a formula.
pub fn ledger(sheet: &str, headers: &[String], rows: &[Vec<Value>]) -> Result<Vec<u8>, AppError> {
    workbook(&[Sheet { name: sheet.to_owned(), headers: headers.to_vec(), rows: rows.to_vec() }])
}

/// A workbook of several sheets, each as [`ledger`] writes its one.
pub fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>, AppError> {
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::internal(format!("xlsx: {e}"));
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    for Sheet { name, headers, rows } in sheets {
        let ws = workbook.add_worksheet();
        ws.set_name(name).map_err(fail)?;
        for (c, header) in headers.iter().enumerate() {
            let c = u16::try_from(c).map_err(|_| AppError::internal("too many columns"))?;
            ws.write_string_with_format(0, c, header, &bold).map_err(fail)?;
            ws.set_column_width(c, 16).map_err(fail)?;
        }
        for (r, row) in rows.iter().enumerate() {
            let r = u32::try_from(r + 1).map_err(|_| AppError::internal("too many rows"))?;
            for (c, value) in row.iter().enumerate() {
                let c = u16::try_from(c).map_err(|_| AppError::internal("too many columns"))?;
                match value {
                    Value::Text(t) => ws.write_string(r, c, t).map(|_| ()).map_err(fail)?,
                    Value::Number(n) => ws.write_number(r, c, *n).map(|_| ()).map_err(fail)?,
                    Value::Empty => {}
                }
            }
        }
        ws.set_freeze_panes(1, 0).map_err(fail)?;
    }
    workbook.save_to_buffer().map_err(fail)
}
