//! Reading a whole export: a folder of `NAME.csv` / `NAME.xlsx` files, or one workbook with a
//! sheet per table.

use std::path::Path;

use crate::input::{self, InputError, Problem, TableKind, Tables};

/// Reads every table of the export at `path`. Problems are collected in `Tables::errors`; a
/// required table that is missing is one of them (`meter_events` is optional).
pub fn read_export(path: &Path) -> Tables {
    let mut tables = Tables::default();
    let shown = path.display().to_string();
    let mut found = Vec::new();
    if path.is_file() {
        match std::fs::read(path) {
            Ok(bytes) => match input::read_xlsx(&shown, &bytes) {
                Ok(sheets) => {
                    for (sheet, raw) in sheets {
                        if let Some(kind) = TableKind::from_name(&sheet) {
                            input::read_table(kind, &raw, &mut tables);
                            found.push(kind);
                        }
                    }
                }
                Err(e) => tables.errors.push(e),
            },
            Err(e) => tables.errors.push(InputError::file(&shown, Problem::Unreadable(e.to_string()))),
        }
    } else {
        for kind in TableKind::ALL {
            for name in [kind.name(), kind.chinese()] {
                for ext in ["csv", "xlsx"] {
                    let file = path.join(format!("{name}.{ext}"));
                    let Ok(bytes) = std::fs::read(&file) else { continue };
                    let source = file.display().to_string();
                    let raw = if ext == "csv" {
                        input::read_csv(&source, &bytes).map(|t| vec![t])
                    } else {
                        input::read_xlsx(&source, &bytes)
                            .map(|sheets| sheets.into_iter().map(|(_, t)| t).take(1).collect())
                    };
                    match raw {
                        Ok(raws) => {
                            for raw in raws {
                                input::read_table(kind, &raw, &mut tables);
                            }
                            found.push(kind);
                        }
                        Err(e) => tables.errors.push(e),
                    }
                }
            }
        }
    }
    for kind in TableKind::ALL.into_iter().filter(|k| *k != TableKind::MeterEvents) {
        if !found.contains(&kind) {
            tables.errors.push(InputError {
                column: None,
                ..InputError::file(&format!("{shown}/{}.csv", kind.name()), Problem::MissingTable)
            });
        }
    }
    tables
}
