//! Plan items from a spreadsheet (CSV or `.xlsx`, Chinese or English headers): every row is
//! checked as a typed-in item is, every problem is named by file, line and column, and the
//! items are written all together or not at all.

use std::collections::HashMap;

use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::text::trim_blank;
use gridsafe_sheet::Cell;

use super::{ItemInput, check_item, editable, insert_checked};
use crate::audit::NewEvent;
use crate::customers::RowProblem;
use crate::{App, AppError, RequestMeta};

/// A column of the import: its key (the item's field), its Chinese header, whether required.
pub struct Column {
    pub key: &'static str,
    pub zh: &'static str,
    pub required: bool,
}

pub const COLUMNS: [Column; 9] = [
    Column { key: "start", zh: "开始时间", required: true },
    Column { key: "end", zh: "结束时间", required: true },
    Column { key: "site", zh: "作业地点", required: true },
    Column { key: "work_kind", zh: "作业类型", required: true },
    Column { key: "team", zh: "班组", required: true },
    Column { key: "leader", zh: "工作负责人", required: false },
    Column { key: "crew", zh: "工作班成员", required: false },
    Column { key: "outage", zh: "是否停电", required: false },
    Column { key: "note", zh: "备注", required: false },
];

/// Most items one import adds.
pub const MAX_ROWS: usize = 500;

fn text(cell: &Cell) -> String {
    match cell {
        Cell::DateTime(dt) => dt.format("%Y-%m-%d %H:%M").to_string(),
        other => other.shown(),
    }
}

/// Adds the items of `files` to plan `plan_id` (in a published plan with `reason`, each a
/// change): how many, or every problem and nothing written.
pub async fn import_items(
    app: &App,
    cap: &Capability<perm::PlansWrite>,
    meta: &RequestMeta,
    plan_id: i64,
    files: &[(String, Vec<u8>)],
    reason: &str,
) -> Result<Result<usize, Vec<RowProblem>>, AppError> {
    let tables = match crate::customers::read_files(files) {
        Ok(t) => t,
        Err(p) => return Ok(Err(p)),
    };
    // Teams by code or name, among the units in reach.
    let mut teams = HashMap::new();
    for u in crate::identity::list_units(app, cap.scope()).await? {
        teams.insert(u.code.clone(), u.clone());
        teams.insert(u.name.clone(), u);
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let d = editable(&mut work, cap, plan_id, reason).await?;
    let mut problems = Vec::new();
    let mut items = Vec::new();
    let problem = |file: &str, line: usize, column: String, value: String, message| RowProblem {
        file: file.to_owned(),
        line,
        column,
        value,
        message,
        args: Vec::new(),
    };
    for t in &tables {
        let positions: Vec<Option<usize>> =
            COLUMNS.iter().map(|c| gridsafe_sheet::column(&t.headers, c.key, c.zh)).collect();
        if let Some(c) = COLUMNS.iter().zip(&positions).find(|(c, p)| c.required && p.is_none()).map(|(c, _)| c) {
            problems.push(problem(
                &t.source,
                1,
                format!("{} / {}", c.zh, c.key),
                String::new(),
                "input-problem-missing-column",
            ));
            continue;
        }
        for row in &t.rows {
            if row.cells.iter().all(Cell::is_empty) {
                continue;
            }
            if items.len() >= MAX_ROWS {
                problems.push(problem(
                    &t.source,
                    row.line,
                    String::new(),
                    MAX_ROWS.to_string(),
                    "input-problem-too-many-rows",
                ));
                break;
            }
            let cell = |key: &str| {
                COLUMNS
                    .iter()
                    .position(|c| c.key == key)
                    .and_then(|i| positions[i])
                    .and_then(|p| row.cells.get(p))
                    .map(text)
                    .unwrap_or_default()
            };
            let header = |key: &str| {
                COLUMNS
                    .iter()
                    .position(|c| c.key == key)
                    .and_then(|i| positions[i])
                    .and_then(|p| t.headers.get(p).cloned())
                    .unwrap_or_else(|| key.to_owned())
            };
            let team_text = trim_blank(&cell("team")).to_owned();
            let team = teams.get(&team_text).cloned();
            let input = ItemInput {
                start: cell("start"),
                end: cell("end"),
                site: cell("site"),
                work_kind: cell("work_kind"),
                team_id: team.as_ref().map(|u| u.id).unwrap_or_default(),
                leader: cell("leader"),
                crew: cell("crew"),
                outage: matches!(cell("outage").trim(), "是" | "Y" | "y" | "yes" | "true" | "1" | "需停电"),
                note: cell("note"),
                reason: reason.to_owned(),
            };
            match check_item(work.conn(), &d, &input, team).await? {
                Ok(item) => items.push(item),
                Err(found) => {
                    for f in found {
                        let key = if f.field == "team_id" { "team" } else { f.field };
                        let value = f
                            .args
                            .iter()
                            .find(|(k, _)| *k == "value")
                            .map(|(_, v)| v.clone())
                            .unwrap_or_else(|| cell(key));
                        let value = gridsafe_sheet::quoted(&value);
                        let args = f.args.into_iter().filter(|(k, _)| *k != "value").collect();
                        problems
                            .push(RowProblem { args, ..problem(&t.source, row.line, header(key), value, f.message) });
                    }
                }
            }
        }
    }
    if items.is_empty() && problems.is_empty() {
        problems.push(problem(
            &files.first().map(|(n, _)| n.clone()).unwrap_or_default(),
            0,
            String::new(),
            String::new(),
            "input-problem-no-rows",
        ));
    }
    if !problems.is_empty() {
        // Nothing written: the unit of work is dropped, its transaction rolled back.
        return Ok(Err(problems));
    }
    for item in &items {
        insert_checked(&mut work, &d, item, reason).await?;
    }
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    work.audit(NewEvent::new("plan.items_imported", "work_plan", plan_id).unit(d.plan.unit_id).summary(
        serde_json::json!({ "items": items.len(), "files": names, "reason": (!reason.trim().is_empty()).then(|| trim_blank(reason)) }),
    ))
    .await?;
    work.commit().await?;
    Ok(Ok(items.len()))
}
