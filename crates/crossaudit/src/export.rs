//! Reading a whole export: a folder of `NAME.csv` / `NAME.xlsx` files, or one workbook with a
//! sheet per table.

use std::path::Path;

use crate::input::{self, InputError, Problem, TableKind, Tables};

/// Reads every table of the export at `path`. Problems are collected in `Tables::errors`; a
/// required table that is missing is one of them (`meter_events` is optional). A folder that
/// holds no table files but one workbook is read as that workbook (a sheet per table); with
/// several workbooks, the problem names them so the user can pass the one to audit.
pub fn read_export(path: &Path) -> Tables {
    if path.is_dir() && !has_table_files(path) {
        let workbooks = workbooks_in(path);
        match workbooks.as_slice() {
            [one] => return read_export(one),
            [] => {}
            several => {
                let names: Vec<String> =
                    several.iter().filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
                let mut tables = Tables::default();
                tables.errors.push(InputError {
                    value: Some(names.join("、")),
                    ..InputError::file(&path.display().to_string(), Problem::SeveralWorkbooks)
                });
                return tables;
            }
        }
    }
    let mut tables = Tables::default();
    let shown = path.display().to_string();
    let mut found = Vec::new();
    if path.is_file() {
        match std::fs::read(path) {
            Ok(bytes) => match input::read_xlsx(&shown, &bytes, &input::Limits::batch()) {
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
                        input::read_csv(&source, &bytes, &input::Limits::batch()).map(|t| vec![t])
                    } else {
                        input::read_xlsx(&source, &bytes, &input::Limits::batch())
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

/// Whether the folder holds any file named like a table (`work_orders.csv`, `营销工单.xlsx` …).
fn has_table_files(dir: &Path) -> bool {
    TableKind::ALL.into_iter().any(|kind| {
        [kind.name(), kind.chinese()]
            .into_iter()
            .any(|name| ["csv", "xlsx"].into_iter().any(|ext| dir.join(format!("{name}.{ext}")).is_file()))
    })
}

/// The `.xlsx` workbooks directly in the folder, by name.
fn workbooks_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}
