//! Importing people, qualifications, contractors and agreements from the marketing system's
//! tables (CSV or `.xlsx`), all-or-nothing, or skipping bad rows on request.
//!
//! [`read_upload`] parses, [`plan_import`] resolves every reference against the database and
//! says what would change (the preview), [`apply_import`] writes it in one transaction with one
//! audit event.

use std::collections::{HashMap, HashSet};

use gridsafe_crossaudit::input::{self, InputError, Limits, Problem, QualKind, TableKind, Tables};
use gridsafe_domain::access::{Capability, UnitPath, perm};
use serde::Serialize;
use sqlx::Row;

use super::{Manage, Reach};
use crate::audit::{NewEvent, append};
use crate::{App, AppError, RequestMeta};

/// Reads uploaded files: CSV files named after their table (`persons.csv`, `人员.csv`, …) or
/// workbooks with one sheet per table. Unknown files or sheets are reported, not guessed.
pub fn read_upload(files: &[(String, Vec<u8>)]) -> Tables {
    let mut tables = Tables::default();
    for (name, bytes) in files {
        let stem = name.rsplit('/').next().unwrap_or(name);
        let (stem, ext) = stem.rsplit_once('.').unwrap_or((stem, ""));
        match ext.to_ascii_lowercase().as_str() {
            "csv" => match TableKind::from_name(stem) {
                Some(kind) => match input::read_csv(name, bytes, &Limits::default()) {
                    Ok(raw) => input::read_table(kind, &raw, &mut tables),
                    Err(e) => tables.errors.push(e),
                },
                None => tables.errors.push(InputError::file(name, Problem::Unreadable("unknown table".into()))),
            },
            "xlsx" => match input::read_xlsx(name, bytes, &Limits::default()) {
                Ok(sheets) => {
                    for (sheet, raw) in sheets {
                        match TableKind::from_name(&sheet) {
                            Some(kind) => input::read_table(kind, &raw, &mut tables),
                            None => tables
                                .errors
                                .push(InputError::file(&raw.source, Problem::Unreadable("unknown table".into()))),
                        }
                    }
                }
                Err(e) => tables.errors.push(e),
            },
            _ => tables.errors.push(InputError::file(name, Problem::Unreadable("not .csv or .xlsx".into()))),
        }
    }
    tables
}

#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Import the good rows and report the bad ones, instead of refusing the whole file.
    pub skip_invalid: bool,
    /// The unit new contractors are registered under.
    pub contractor_unit: i64,
}

/// What an import would do, per table: (new, existing).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub persons: (usize, usize),
    pub qualifications: (usize, usize),
    pub contractors: (usize, usize),
    pub agreements: (usize, usize),
}

/// The preview: the parsed tables, every problem, and the counts.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    tables: Tables,
    pub errors: Vec<InputError>,
    pub bad_rows: usize,
    pub counts: Counts,
    units: HashMap<String, i64>,
}

impl ImportPlan {
    pub fn rows(&self) -> usize {
        self.tables.persons.len()
            + self.tables.qualifications.len()
            + self.tables.contractors.len()
            + self.tables.agreements.len()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub counts: Counts,
    pub skipped_rows: usize,
}

fn reference_error(file: &str, line: usize, column: &str, value: &str, problem: Problem) -> InputError {
    InputError {
        file: file.to_owned(),
        line: Some(line),
        column: Some(column.to_owned()),
        value: Some(input::quoted(value)),
        problem,
    }
}

async fn code_map(app: &App, table: &str) -> Result<HashMap<String, (i64, String)>, AppError> {
    let sql = match table {
        "people" => "SELECT p.code, p.id, u.path FROM people p JOIN org_units u ON u.id = p.unit_id",
        "contractors" => "SELECT c.code, c.id, u.path FROM contractors c JOIN org_units u ON u.id = c.unit_id",
        _ => {
            "SELECT a.code, a.id, u.path FROM safety_agreements a JOIN contractors c ON c.id = a.contractor_id JOIN org_units u ON u.id = c.unit_id"
        }
    };
    let rows = sqlx::query(sql).fetch_all(app.db().pool()).await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?))))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(AppError::from)
}

fn in_reach(reach: &Reach<Manage>, path: &str) -> bool {
    UnitPath::parse(path).is_some_and(|p| reach.covers(&p, None))
}

/// Resolves references and counts what would change. Nothing is written.
pub async fn plan_import(
    app: &App,
    reach: &Reach<Manage>,
    contractors_cap: Option<&Capability<perm::ContractorsManage>>,
    tables: Tables,
) -> Result<ImportPlan, AppError> {
    let mut errors = tables.errors.clone();
    let mut bad_rows = tables.bad_rows;
    // Units by name or code, among those in reach.
    let mut units = HashMap::new();
    for u in crate::identity::list_units(app, &reach.units).await? {
        units.insert(u.name.clone(), u.id);
        units.insert(u.code.clone(), u.id);
    }
    let people = code_map(app, "people").await?;
    let contractors = code_map(app, "contractors").await?;
    let agreements = code_map(app, "agreements").await?;
    let file_contractors: HashSet<&str> = tables.contractors.iter().map(|c| c.contractor_id.as_str()).collect();
    let file_people: HashSet<&str> = tables.persons.iter().map(|p| p.person_id.as_str()).collect();
    let mut counts = Counts::default();
    let source = |kind: TableKind| tables.source(kind);

    if contractors_cap.is_none() && (!tables.contractors.is_empty() || !tables.agreements.is_empty()) {
        errors.push(InputError::file(TableKind::Contractors.name(), Problem::NotPermitted));
        bad_rows += tables.contractors.len() + tables.agreements.len();
    }
    let mut bad: HashSet<(TableKind, usize)> = HashSet::new();
    for c in &tables.contractors {
        match contractors.get(&c.contractor_id) {
            Some((_, path)) if !in_reach(reach, path) => {
                errors.push(reference_error(
                    &source(TableKind::Contractors),
                    c.line,
                    "contractor_id",
                    &c.contractor_id,
                    Problem::NotPermitted,
                ));
                bad.insert((TableKind::Contractors, c.line));
            }
            Some(_) => counts.contractors.1 += 1,
            None => counts.contractors.0 += 1,
        }
    }
    for p in &tables.persons {
        let mut ok = true;
        if !units.contains_key(&p.org_unit) {
            errors.push(reference_error(
                &source(TableKind::Persons),
                p.line,
                "org_unit",
                &p.org_unit,
                Problem::UnknownReference,
            ));
            ok = false;
        }
        if let Some(c) = &p.contractor_id
            && !file_contractors.contains(c.as_str())
            && !contractors.contains_key(c)
        {
            errors.push(reference_error(
                &source(TableKind::Persons),
                p.line,
                "contractor_id",
                c,
                Problem::UnknownReference,
            ));
            ok = false;
        }
        match people.get(&p.person_id) {
            Some((_, path)) if !in_reach(reach, path) => {
                errors.push(reference_error(
                    &source(TableKind::Persons),
                    p.line,
                    "person_id",
                    &p.person_id,
                    Problem::NotPermitted,
                ));
                ok = false;
            }
            Some(_) if ok => counts.persons.1 += 1,
            None if ok => counts.persons.0 += 1,
            _ => {}
        }
        if !ok {
            bad.insert((TableKind::Persons, p.line));
        }
    }
    for q in &tables.qualifications {
        let known = file_people.contains(q.person_id.as_str())
            || people.get(&q.person_id).is_some_and(|(_, path)| in_reach(reach, path));
        if known {
            counts.qualifications.0 += 1;
        } else {
            errors.push(reference_error(
                &source(TableKind::Qualifications),
                q.line,
                "person_id",
                &q.person_id,
                Problem::UnknownReference,
            ));
            bad.insert((TableKind::Qualifications, q.line));
        }
    }
    for a in &tables.agreements {
        if !file_contractors.contains(a.contractor_id.as_str()) && !contractors.contains_key(&a.contractor_id) {
            errors.push(reference_error(
                &source(TableKind::SafetyAgreements),
                a.line,
                "contractor_id",
                &a.contractor_id,
                Problem::UnknownReference,
            ));
            bad.insert((TableKind::SafetyAgreements, a.line));
        } else if agreements.contains_key(&a.agreement_id) {
            counts.agreements.1 += 1;
        } else {
            counts.agreements.0 += 1;
        }
    }
    bad_rows += bad.len();
    let mut tables = tables;
    tables.persons.retain(|p| !bad.contains(&(TableKind::Persons, p.line)));
    tables.qualifications.retain(|q| !bad.contains(&(TableKind::Qualifications, q.line)));
    tables.contractors.retain(|c| !bad.contains(&(TableKind::Contractors, c.line)));
    tables.agreements.retain(|a| !bad.contains(&(TableKind::SafetyAgreements, a.line)));
    if contractors_cap.is_none() {
        tables.contractors.clear();
        tables.agreements.clear();
    }
    Ok(ImportPlan { tables, errors, bad_rows, counts, units })
}

/// Rows per multi-row INSERT: well inside both backends' limits on bound values.
const BATCH: usize = 400;

/// Told how many of the rows are written so far, and of how many.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// Writes the plan in one transaction. Refused when it has problems, unless `skip_invalid`.
pub async fn apply_import(
    app: &App,
    reach: &Reach<Manage>,
    meta: &RequestMeta,
    plan: ImportPlan,
    options: ImportOptions,
) -> Result<ImportReport, AppError> {
    apply_import_with_progress(app, reach, meta, plan, options, &|_, _| {}).await
}

/// [`apply_import`], reporting progress as it writes.
pub async fn apply_import_with_progress(
    app: &App,
    reach: &Reach<Manage>,
    meta: &RequestMeta,
    plan: ImportPlan,
    options: ImportOptions,
    progress: Progress<'_>,
) -> Result<ImportReport, AppError> {
    if !plan.errors.is_empty() && !options.skip_invalid {
        return Err(AppError::Invalid(vec![
            crate::FieldProblem::new("file", "import-has-errors").with("count", plan.errors.len()),
        ]));
    }
    let unit = crate::identity::unit_by_id(app, options.contractor_unit).await?.ok_or(AppError::NotFound)?;
    if !reach.covers(&unit.path, None) {
        return Err(super::outside());
    }
    let now = app.now().to_db();
    let t = &plan.tables;
    let total = plan.rows();
    let mut done = 0;
    let mut tx = app.db().begin_write().await?;

    for chunk in t.contractors.chunks(BATCH) {
        let mut sql = String::from(
            "INSERT INTO contractors (code, name, unit_id, license_level, license_valid_to, created_at, updated_at) VALUES ",
        );
        sql.push_str(&values(chunk.len(), 7));
        sql.push_str(
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, license_valid_to = excluded.license_valid_to, \
             license_level = COALESCE(excluded.license_level, contractors.license_level), updated_at = excluded.updated_at",
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for c in chunk {
            q = q
                .bind(&c.contractor_id)
                .bind(&c.name)
                .bind(unit.id)
                .bind(c.license_level.map(i64::from))
                .bind(c.license_valid_to.to_string())
                .bind(&now)
                .bind(&now);
        }
        q.execute(&mut *tx).await?;
        done += chunk.len();
        progress(done.min(total), total);
    }
    let contractor_ids: HashMap<String, i64> = sqlx::query("SELECT code, id FROM contractors")
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;

    for chunk in t.persons.chunks(BATCH) {
        let mut sql = String::from(
            "INSERT INTO people (code, name, unit_id, contractor_id, phone, post, active, created_at, updated_at) VALUES ",
        );
        sql.push_str(&values(chunk.len(), 9));
        sql.push_str(
            " ON CONFLICT (code) DO UPDATE SET name = excluded.name, unit_id = excluded.unit_id, contractor_id = excluded.contractor_id, \
             phone = COALESCE(excluded.phone, people.phone), post = COALESCE(excluded.post, people.post), updated_at = excluded.updated_at",
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in chunk {
            let unit_id = plan.units.get(&p.org_unit).copied().unwrap_or(unit.id);
            let contractor = p.contractor_id.as_ref().and_then(|c| contractor_ids.get(c).copied());
            q = q
                .bind(&p.person_id)
                .bind(&p.name)
                .bind(unit_id)
                .bind(contractor)
                .bind(&p.phone)
                .bind(&p.post)
                .bind(1_i64)
                .bind(&now)
                .bind(&now);
        }
        q.execute(&mut *tx).await?;
        done += chunk.len();
        progress(done.min(total), total);
    }

    let mut qual_new = 0;
    if !t.qualifications.is_empty() {
        let person_ids: HashMap<String, i64> = sqlx::query("SELECT code, id FROM people")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
        let existing: HashSet<(i64, String, String, String)> =
            sqlx::query("SELECT person_id, COALESCE(title, kind), valid_from, valid_to FROM qualifications")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
                .collect::<Result<_, sqlx::Error>>()?;
        let mut fresh = Vec::new();
        let mut seen = HashSet::new();
        for q in &t.qualifications {
            let Some(&pid) = person_ids.get(&q.person_id) else { continue };
            let (kind, title) = match &q.kind {
                QualKind::Other(text) => ("other", Some(text.clone())),
                known => (known.code(), None),
            };
            let key = (
                pid,
                title.clone().unwrap_or_else(|| kind.to_owned()),
                q.valid_from.to_string(),
                q.valid_to.to_string(),
            );
            if !existing.contains(&key) && seen.insert(key) {
                fresh.push((pid, kind, title, q.valid_from.to_string(), q.valid_to.to_string()));
            }
        }
        qual_new = fresh.len();
        for chunk in fresh.chunks(BATCH) {
            let mut sql = String::from(
                "INSERT INTO qualifications (person_id, kind, title, valid_from, valid_to, passed, created_at, recorded_by, \
                 confirmed_at, confirmed_by) VALUES ",
            );
            sql.push_str(&values(chunk.len(), 10));
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            // Imported by staff of the supply company from its own register: confirmed by the importer.
            let by = &reach.actor().name;
            for (pid, kind, title, from, to) in chunk {
                q = q.bind(*pid).bind(*kind).bind(title).bind(from).bind(to).bind(1_i64).bind(&now);
                q = q.bind(by).bind(&now).bind(by);
            }
            q.execute(&mut *tx).await?;
            done += chunk.len();
            progress(done.min(total), total);
        }
    }

    for chunk in t.agreements.chunks(BATCH) {
        let mut sql = String::from(
            "INSERT INTO safety_agreements (code, contractor_id, project, valid_from, valid_to, created_at, recorded_by, \
             confirmed_at, confirmed_by) VALUES ",
        );
        sql.push_str(&values(chunk.len(), 9));
        // Imported by staff of the supply company: confirmed by the importer.
        sql.push_str(
            " ON CONFLICT (code) DO UPDATE SET contractor_id = excluded.contractor_id, project = COALESCE(excluded.project, safety_agreements.project), \
             valid_from = excluded.valid_from, valid_to = excluded.valid_to, confirmed_at = excluded.confirmed_at, \
             confirmed_by = excluded.confirmed_by",
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in chunk {
            let contractor = contractor_ids
                .get(&a.contractor_id)
                .copied()
                .ok_or_else(|| AppError::internal("contractor vanished"))?;
            q = q
                .bind(&a.agreement_id)
                .bind(contractor)
                .bind(&a.project)
                .bind(a.valid_from.to_string())
                .bind(a.valid_to.to_string())
                .bind(&now)
                .bind(&reach.actor().name)
                .bind(&now)
                .bind(&reach.actor().name);
        }
        q.execute(&mut *tx).await?;
        done += chunk.len();
        progress(done.min(total), total);
    }

    let mut counts = plan.counts.clone();
    counts.qualifications = (qual_new, t.qualifications.len() - qual_new.min(t.qualifications.len()));
    let event = NewEvent::new("people.imported", "import", meta.request_id.clone())
        .unit(unit.id)
        .summary(serde_json::json!({ "counts": counts, "skipped_rows": plan.bad_rows, "problems": plan.errors.len() }));
    append(&mut tx, reach.actor(), meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(ImportReport { counts, skipped_rows: plan.bad_rows })
}

/// `($1, …, $cols), (…)` for `rows` rows.
fn values(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", (1..=cols).map(|c| format!("${}", r * cols + c)).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Keeps uploaded files between the preview and the confirmation; returns the token to confirm with.
pub async fn store_upload(
    app: &App,
    actor: &gridsafe_domain::access::Actor,
    meta: &RequestMeta,
    files: &[(String, Vec<u8>)],
) -> Result<String, AppError> {
    let user_id = actor.user_id.ok_or(AppError::Unauthenticated)?;
    let token = crate::secret::random_hex(16)?;
    let mut tx = app.db().begin_write().await?;
    for (name, content) in files {
        sqlx::query("INSERT INTO uploads (token, user_id, name, content, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&token)
            .bind(user_id)
            .bind(name)
            .bind(content.as_slice())
            .bind(app.now().to_db())
            .execute(&mut *tx)
            .await?;
    }
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let bytes: usize = files.iter().map(|(_, c)| c.len()).sum();
    let event = NewEvent::new("import.uploaded", "upload", &token)
        .summary(serde_json::json!({ "files": names, "bytes": bytes }));
    append(&mut tx, actor, meta, app.now(), event).await?;
    tx.commit().await?;
    Ok(token)
}

/// The files stored under `token` by this user.
pub async fn load_upload(app: &App, user_id: i64, token: &str) -> Result<Vec<(String, Vec<u8>)>, AppError> {
    let rows = sqlx::query("SELECT name, content FROM uploads WHERE token = $1 AND user_id = $2 ORDER BY id")
        .bind(token)
        .bind(user_id)
        .fetch_all(app.db().pool())
        .await?;
    if rows.is_empty() {
        return Err(AppError::NotFound);
    }
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<_, sqlx::Error>>().map_err(AppError::from)
}

pub async fn forget_upload(app: &App, token: &str) -> Result<(), AppError> {
    let mut tx = app.db().begin_write().await?;
    sqlx::query("DELETE FROM uploads WHERE token = $1").bind(token).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
