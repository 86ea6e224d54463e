//! Importing people, qualifications, contractors and agreements from the marketing system's
//! tables (CSV or `.xlsx`), all-or-nothing, or skipping bad rows on request.
//!
//! [`read_upload`] parses, [`plan_import`] resolves every reference against the database and
//! says what would change (the preview), [`apply_import`] writes it in one transaction with one
//! audit event.

use std::collections::{HashMap, HashSet};

use gridsafe_crossaudit::input::{self, InputError, Limits, Problem, TableKind, Tables};
use gridsafe_domain::access::{Capability, UnitPath, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::people::QualificationKind;
use gridsafe_store::people::{self as store, Register};
use serde::Serialize;

use super::{Manage, Reach};
use crate::audit::NewEvent;
use crate::{App, AppError, RequestMeta};

/// Reads uploaded files: CSV files named after their table (`persons.csv`, `人员.csv`, …) or
/// workbooks with one sheet per table. Unknown files or sheets are reported, not guessed.
pub fn read_upload(files: &[(String, Vec<u8>)]) -> Tables {
    let mut tables = Tables::default();
    for (name, bytes) in files {
        read_file(name, bytes, &mut tables);
    }
    tables
}

/// One file of an upload into `into`, as [`read_upload`] reads each.
pub(crate) fn read_file(name: &str, bytes: &[u8], into: &mut Tables) {
    let stem = name.rsplit('/').next().unwrap_or(name);
    let (stem, ext) = stem.rsplit_once('.').unwrap_or((stem, ""));
    match ext.to_ascii_lowercase().as_str() {
        "csv" => match TableKind::from_name(stem) {
            Some(kind) => match input::read_csv(name, bytes, &Limits::default()) {
                Ok(raw) => input::read_table(kind, &raw, into),
                Err(e) => into.errors.push(e),
            },
            None => into.errors.push(InputError::file(name, Problem::Unreadable("unknown table".into()))),
        },
        "xlsx" => match input::read_xlsx(name, bytes, &Limits::default()) {
            Ok(sheets) => {
                for (sheet, raw) in sheets {
                    match TableKind::from_name(&sheet) {
                        Some(kind) => input::read_table(kind, &raw, into),
                        None => {
                            into.errors.push(InputError::file(&raw.source, Problem::Unreadable("unknown table".into())))
                        }
                    }
                }
            }
            Err(e) => into.errors.push(e),
        },
        _ => into.errors.push(InputError::file(name, Problem::Unreadable("not .csv or .xlsx".into()))),
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Import the good rows and report the bad ones, instead of refusing the whole file.
    pub skip_invalid: bool,
    /// The unit new contractors are registered under.
    pub contractor_unit: UnitId,
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
    units: HashMap<String, UnitId>,
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
    let mut conn = app.db().read().await?;
    let people = store::codes(&mut conn, Register::People).await?;
    let contractors = store::codes(&mut conn, Register::Contractors).await?;
    let agreements = store::codes(&mut conn, Register::Agreements).await?;
    drop(conn);
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
    let t = &plan.tables;
    let total = plan.rows();
    let mut done = 0;
    let mut report = |n: usize| {
        done += n;
        progress(done.min(total), total);
    };
    let mut work = app.begin(reach.actor(), meta).await?;
    let now = work.now();
    let by = reach.actor().name.as_str();

    let contractors: Vec<store::ImportedContractor<'_>> = t
        .contractors
        .iter()
        .map(|c| store::ImportedContractor {
            code: &c.contractor_id,
            name: &c.name,
            license_level: c.license_level.map(i64::from),
            license_valid_to: c.license_valid_to,
        })
        .collect();
    store::upsert_contractors(work.conn(), &contractors, unit.id, now, &mut report).await?;
    let contractor_ids = store::ids_by_code(work.conn(), Register::Contractors).await?;

    let people: Vec<store::ImportedPerson<'_>> = t
        .persons
        .iter()
        .map(|p| store::ImportedPerson {
            code: &p.person_id,
            name: &p.name,
            unit_id: plan.units.get(&p.org_unit).copied().unwrap_or(unit.id),
            contractor_id: p.contractor_id.as_ref().and_then(|c| contractor_ids.get(c).copied()),
            phone: p.phone.as_deref(),
            post: p.post.as_deref(),
        })
        .collect();
    store::upsert_people(work.conn(), &people, now, &mut report).await?;

    let mut qual_new = 0;
    if !t.qualifications.is_empty() {
        let person_ids = store::ids_by_code(work.conn(), Register::People).await?;
        let existing = store::qualification_keys(work.conn()).await?;
        let mut fresh = Vec::new();
        let mut seen = HashSet::new();
        for q in &t.qualifications {
            let Some(&pid) = person_ids.get(&q.person_id) else { continue };
            let kind = q.kind.code();
            let title = (q.kind == QualificationKind::Other).then(|| q.written.clone());
            let key = (
                pid,
                title.clone().unwrap_or_else(|| kind.to_owned()),
                q.valid_from.to_string(),
                q.valid_to.to_string(),
            );
            if !existing.contains(&key) && seen.insert(key) {
                fresh.push((pid, kind.to_owned(), title, q.valid_from.to_string(), q.valid_to.to_string()));
            }
        }
        qual_new = fresh.len();
        // Imported by staff of the supply company from its own register: confirmed by the importer.
        store::insert_imported_qualifications(work.conn(), &fresh, by, now, &mut report).await?;
    }

    let agreements = t
        .agreements
        .iter()
        .map(|a| {
            Ok(store::ImportedAgreement {
                code: &a.agreement_id,
                contractor_id: contractor_ids
                    .get(&a.contractor_id)
                    .copied()
                    .ok_or_else(|| AppError::internal("contractor vanished"))?,
                project: a.project.as_deref(),
                valid_from: a.valid_from,
                valid_to: a.valid_to,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    // Imported by staff of the supply company: confirmed by the importer.
    store::upsert_agreements(work.conn(), &agreements, by, now, &mut report).await?;

    let mut counts = plan.counts.clone();
    counts.qualifications = (qual_new, t.qualifications.len() - qual_new.min(t.qualifications.len()));
    work.audit(NewEvent::new("people.imported", "import", meta.request_id.clone()).unit(unit.id).summary(
        serde_json::json!({ "counts": counts, "skipped_rows": plan.bad_rows, "problems": plan.errors.len() }),
    ))
    .await?;
    work.commit().await?;
    Ok(ImportReport { counts, skipped_rows: plan.bad_rows })
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
    let mut work = app.begin(actor, meta).await?;
    let now = work.now();
    for (name, content) in files {
        store::keep_upload(work.conn(), &token, user_id, name, content, now).await?;
    }
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let bytes: usize = files.iter().map(|(_, c)| c.len()).sum();
    work.audit(
        NewEvent::new("import.uploaded", "upload", &token)
            .summary(serde_json::json!({ "files": names, "bytes": bytes })),
    )
    .await?;
    work.commit().await?;
    Ok(token)
}

/// The files stored under `token` by this user.
pub async fn load_upload(app: &App, user_id: i64, token: &str) -> Result<Vec<(String, Vec<u8>)>, AppError> {
    let files = store::upload(&mut *app.db().read().await?, token, user_id).await?;
    if files.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(files)
}

pub async fn forget_upload(app: &App, token: &str) -> Result<(), AppError> {
    let mut tx = app.db().begin_write().await?;
    store::forget_upload(&mut tx, token).await?;
    tx.commit().await?;
    Ok(())
}
