//! Projects from the marketing system's list of applications (业扩报装申请清单, CSV or `.xlsx`,
//! Chinese or English headers): all of it or every problem named by file, line and column, and
//! nothing written. An application already registered (its 申请编号 known) is left as it is.

use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_sheet::Cell;
use serde::Serialize;

use super::ProjectInput;
use crate::audit::NewEvent;
use crate::customers::RowProblem;
use crate::{App, AppError, RequestMeta};

/// The list's columns: (English, Chinese, the form's field it fills, required).
const COLUMNS: [(&str, &str, &str, bool); 13] = [
    ("order_id", "申请编号", "order_id", true),
    ("account_no", "户号", "account_no", true),
    ("customer_name", "户名", "customer_name", false),
    ("address", "用电地址", "address", false),
    ("kind", "业务类型", "kind", true),
    ("voltage", "电压等级", "voltage_kv", true),
    ("capacity", "合同容量", "capacity_kva", true),
    ("supply", "电源", "dual_source", false),
    ("category", "用户分类", "residential", false),
    ("accepted_on", "受理日期", "accepted_on", true),
    ("manager", "客户经理", "manager", true),
    ("designer", "设计单位", "designer", false),
    ("builder", "施工单位", "builder", false),
];

/// The most applications one import takes.
pub const MAX_ROWS: usize = 5000;

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ProjectImport {
    pub registered: usize,
    /// Applications already registered, left as they were.
    pub known: usize,
}

/// The first number in a cell (`10kV`, `交流10kV`, `0.4`, `630 kVA`).
fn first_number(text: &str) -> String {
    let start = text.find(|c: char| c.is_ascii_digit());
    start.map_or_else(String::new, |s| text[s..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect())
}

/// Registers every new application of the list in one unit of work (customers new to the
/// register join `unit`).
pub async fn import_projects(
    app: &App,
    cap: &Capability<perm::ProjectsManage>,
    meta: &RequestMeta,
    unit: UnitId,
    files: &[(String, Vec<u8>)],
) -> Result<Result<ProjectImport, Vec<RowProblem>>, AppError> {
    let tables = match crate::customers::read_files(files) {
        Ok(t) => t,
        Err(p) => return Ok(Err(p)),
    };
    let problem = |file: &str, line: usize, column: String, value: String, message: &'static str| RowProblem {
        file: file.to_owned(),
        line,
        column,
        value,
        message,
        args: Vec::new(),
    };
    let mut problems = Vec::new();
    let mut rows: Vec<(String, usize, Vec<String>, ProjectInput)> = Vec::new();
    for t in &tables {
        let at: Vec<Option<usize>> = COLUMNS
            .iter()
            .map(|(en, zh, _, _)| {
                gridsafe_sheet::column(&t.headers, en, zh).or_else(|| match *en {
                    "capacity" => gridsafe_sheet::column(&t.headers, "capacity_kva", "容量"),
                    "voltage" => gridsafe_sheet::column(&t.headers, "voltage_kv", "供电电压"),
                    _ => None,
                })
            })
            .collect();
        let missing: Vec<String> = COLUMNS
            .iter()
            .zip(&at)
            .filter(|(c, p)| c.3 && p.is_none())
            .map(|((en, zh, _, _), _)| format!("{zh} / {en}"))
            .collect();
        if !missing.is_empty() {
            for m in missing {
                problems.push(problem(&t.source, 1, m, String::new(), "input-problem-missing-column"));
            }
            continue;
        }
        for row in &t.rows {
            if row.cells.iter().all(Cell::is_empty) {
                continue;
            }
            if rows.len() >= MAX_ROWS {
                problems.push(problem(
                    &t.source,
                    row.line,
                    String::new(),
                    MAX_ROWS.to_string(),
                    "input-problem-too-many-rows",
                ));
                break;
            }
            let value = |i: usize| at[i].and_then(|p| row.cells.get(p)).map(Cell::shown).unwrap_or_default();
            let accepted = match at[9].and_then(|p| row.cells.get(p)) {
                Some(c) if !c.is_empty() => match gridsafe_sheet::parse_date(c) {
                    Ok(d) => d.to_string(),
                    Err(_) => {
                        let header = at[9].and_then(|p| t.headers.get(p).cloned()).unwrap_or_default();
                        problems.push(problem(
                            &t.source,
                            row.line,
                            header,
                            gridsafe_sheet::quoted(&c.shown()),
                            "input-problem-bad-date",
                        ));
                        continue;
                    }
                },
                _ => String::new(),
            };
            let headers: Vec<String> =
                at.iter().map(|p| p.and_then(|p| t.headers.get(p).cloned()).unwrap_or_default()).collect();
            let input = ProjectInput {
                order_id: value(0),
                account_no: value(1),
                customer_name: value(2),
                address: value(3),
                unit_id: unit,
                kind: value(4),
                voltage_kv: first_number(&value(5)),
                capacity_kva: first_number(&value(6)),
                dual_source: value(7).contains('双') || value(7).contains('多'),
                residential: value(8).contains("居民") && !value(8).contains("非居民"),
                accepted_on: accepted,
                manager: value(10),
                designer: value(11),
                builder: value(12),
            };
            if input.order_id.trim().is_empty() {
                problems.push(problem(&t.source, row.line, headers[0].clone(), String::new(), "input-problem-empty"));
                continue;
            }
            if let Some((file, line, _, _)) = rows.iter().find(|r| r.3.order_id.trim() == input.order_id.trim()) {
                let mut p = problem(
                    &t.source,
                    row.line,
                    headers[0].clone(),
                    input.order_id.clone(),
                    "field-project-order-twice",
                );
                p.args = vec![("file", file.clone()), ("line", line.to_string())];
                problems.push(p);
                continue;
            }
            rows.push((t.source.clone(), row.line, headers, input));
        }
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let mut done = ProjectImport::default();
    let mut numbers = Vec::new();
    for (file, line, headers, input) in &rows {
        if gridsafe_store::projects::by_order(work.conn(), input.order_id.trim()).await?.is_some() {
            done.known += 1;
            continue;
        }
        let header_of = |field: &str| {
            COLUMNS.iter().position(|c| c.2 == field).map(|i| headers[i].clone()).unwrap_or_else(|| field.to_owned())
        };
        match super::register_in(app, work.conn(), cap, input, Some(file)).await {
            Ok(id) => {
                done.registered += 1;
                numbers.push(id.get());
            }
            Err(AppError::Invalid(list)) => {
                for f in list {
                    let field = if f.field == "unit_id" { "account_no" } else { f.field };
                    let value = f.args.iter().find(|(k, _)| *k == "value").map(|(_, v)| v.clone()).unwrap_or_default();
                    let mut p = problem(file, *line, header_of(field), gridsafe_sheet::quoted(&value), f.message);
                    p.args = f.args.into_iter().filter(|(k, _)| *k != "value").collect();
                    problems.push(p);
                }
            }
            Err(AppError::Rules(list)) => {
                for v in list {
                    let contractor = v.args.iter().find(|(k, _)| *k == "contractor").map(|(_, c)| c.clone());
                    let column = if input.designer.trim().is_empty() { "builder" } else { "designer" };
                    let mut p = problem(
                        file,
                        *line,
                        header_of(column),
                        contractor.unwrap_or_default(),
                        "field-project-contractor-refused",
                    );
                    p.args = vec![("rule", v.rule.code.to_owned())];
                    problems.push(p);
                }
            }
            Err(AppError::Denied(_)) => {
                problems.push(problem(
                    file,
                    *line,
                    header_of("account_no"),
                    input.account_no.clone(),
                    "field-project-out-of-reach",
                ));
            }
            Err(other) => return Err(other),
        }
    }
    if !problems.is_empty() {
        // Nothing is written: the unit of work is dropped, and rolled back with it.
        return Ok(Err(problems));
    }
    let names: Vec<&str> = tables.iter().map(|t| t.source.as_str()).collect();
    work.audit(NewEvent::new("projects.imported", "project", "import").summary(serde_json::json!({
        "files": names, "registered": done.registered, "known": done.known, "projects": numbers,
    })))
    .await?;
    work.commit().await?;
    Ok(Ok(done))
}
