//! Inspections (用电检查): at least two inspectors qualified for the customer's voltage on the
//! day, the checklist from the templates, photos, the result notice and its signed copy.

use std::collections::HashMap;

use chrono::NaiveDate;
use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::inspections::{InspectionKind, Outcome, SECTIONS, check_inspection, emergency_checked};
use gridsafe_domain::people::FieldRole;
use gridsafe_domain::text::trim_blank;
use serde::Serialize;
use sqlx::Row;

use super::files::{self, AttachmentMeta};
use super::{CustomerRow, CustomersReach, customer};
use crate::audit::{NewEvent, append};
use crate::{App, AppError, FieldProblem, RequestMeta};

/// One item of the checklist template.
#[derive(Debug, Clone, Serialize)]
pub struct ChecklistItem {
    pub id: i64,
    pub section: String,
    pub position: i64,
    pub text: String,
    pub origin: String,
    pub changed_by: Option<String>,
}

/// The active checklist, by section in the order of [`SECTIONS`].
pub async fn checklist(app: &App) -> Result<Vec<ChecklistItem>, AppError> {
    let rows = sqlx::query(
        "SELECT id, section, position, text, origin, changed_by FROM checklist_items WHERE active = 1 ORDER BY position, id",
    )
    .fetch_all(app.db().pool())
    .await?;
    let mut items: Vec<ChecklistItem> = rows
        .iter()
        .map(|r| {
            Ok(ChecklistItem {
                id: r.try_get(0)?,
                section: r.try_get(1)?,
                position: r.try_get(2)?,
                text: r.try_get(3)?,
                origin: r.try_get(4)?,
                changed_by: r.try_get(5)?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    items.sort_by_key(|i| (SECTIONS.iter().position(|s| *s == i.section).unwrap_or(99), i.position, i.id));
    Ok(items)
}

/// Replaces one section's items with `lines` (one item per line); earlier answers keep their text.
pub async fn set_checklist(
    app: &App,
    cap: &Capability<perm::InspectionsConfigure>,
    meta: &RequestMeta,
    section: &str,
    lines: &str,
) -> Result<(), AppError> {
    let Some(section) = SECTIONS.iter().find(|s| **s == section) else {
        return Err(AppError::invalid("section", "field-invalid"));
    };
    let items: Vec<&str> = lines.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if items.is_empty() || items.len() > 30 || items.iter().any(|l| l.chars().count() > 200) {
        return Err(AppError::Invalid(vec![FieldProblem::new("lines", "field-checklist-lines")]));
    }
    let current = checklist(app).await?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    sqlx::query("UPDATE checklist_items SET active = 0 WHERE section = $1").bind(*section).execute(&mut *tx).await?;
    for (i, text) in items.iter().enumerate() {
        // An unchanged line keeps its origin; a new one says it is this deployment's.
        let origin = current
            .iter()
            .find(|c| c.section == *section && c.text == *text)
            .map_or_else(|| "本单位增补".to_owned(), |c| c.origin.clone());
        sqlx::query(
            "INSERT INTO checklist_items (section, position, text, origin, active, changed_by) VALUES ($1, $2, $3, $4, 1, $5)",
        )
        .bind(*section)
        .bind(i64::try_from(i + 1).unwrap_or(0))
        .bind(*text)
        .bind(origin)
        .bind(&cap.actor().name)
        .execute(&mut *tx)
        .await?;
    }
    let event = NewEvent::new("inspection.checklist_changed", "checklist", *section)
        .summary(serde_json::json!({ "items": items.len() }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// What an inspection form sends.
#[derive(Debug, Clone, Default)]
pub struct InspectionInput {
    pub customer_id: i64,
    /// `YYYY-MM-DD`
    pub inspected_on: String,
    /// periodic | special | campaign
    pub kind: String,
    pub inspectors: Vec<i64>,
    /// Joint inspections (联合检查, article §3.4): staff of 生技/检修/运行 who accompany the
    /// inspectors, as (name, department). They are not counted as inspectors.
    pub participants: Vec<(String, String)>,
    /// Checklist item id → (outcome code, note).
    pub results: HashMap<i64, (String, String)>,
    pub conclusion: String,
}

/// The inspection kinds' codes: periodic, emergency_power, special, campaign.
pub const KINDS: [&str; 4] = ["periodic", "emergency_power", "special", "campaign"];

/// Most people accompanying one inspection.
pub const MAX_PARTICIPANTS: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct InspectionRow {
    pub id: i64,
    pub customer_id: i64,
    pub unit_id: i64,
    pub inspected_on: String,
    pub kind: String,
    pub conclusion: String,
    pub notice_number: String,
    pub notice_signed_by: Option<String>,
    pub notice_signed_on: Option<String>,
    pub created_by: String,
    pub inspectors: Vec<(String, String)>,
    /// Accompanying staff of a joint inspection: (name, department).
    pub participants: Vec<(String, String)>,
    /// The emergency-power section was checked (some item answered other than 不适用).
    pub emergency_checked: bool,
    pub defects: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResultRow {
    pub section: String,
    pub text: String,
    pub outcome: String,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InspectionDetail {
    pub inspection: InspectionRow,
    pub customer: CustomerRow,
    pub results: Vec<ResultRow>,
    pub photos: Vec<AttachmentMeta>,
    pub signed_copies: Vec<AttachmentMeta>,
    pub hazards: Vec<(i64, String, String, String)>,
}

/// Records an inspection: refused with every rule that says no (fewer than two inspectors, an
/// inspector not qualified for the voltage on the day, a day ahead), or with the fields wrong.
pub async fn record_inspection(
    app: &App,
    cap: &Capability<perm::InspectionsRecord>,
    meta: &RequestMeta,
    input: InspectionInput,
) -> Result<i64, AppError> {
    let c = customer(app, cap, input.customer_id).await?;
    let mut problems = Vec::new();
    let day = crate::people::parse_day("inspected_on", &input.inspected_on, &mut problems);
    let kind = InspectionKind::from_code(&input.kind);
    if kind.is_none() {
        problems.push(FieldProblem::new("kind", "field-invalid"));
    }
    let mut participants = Vec::new();
    if input.participants.len() > MAX_PARTICIPANTS {
        problems.push(FieldProblem::new("participants", "field-participants-count").with("max", MAX_PARTICIPANTS));
    }
    for (name, department) in input.participants.iter().take(MAX_PARTICIPANTS) {
        let (name, department) = (trim_blank(name), trim_blank(department));
        // An empty row of the form (its department chosen by default) is no participant.
        if name.is_empty() {
            continue;
        }
        if name.is_empty() || name.chars().count() > 50 || department.is_empty() || department.chars().count() > 50 {
            problems.push(FieldProblem::new("participants", "field-participant").with("value", name));
        } else {
            participants.push((name.to_owned(), department.to_owned()));
        }
    }
    if input.conclusion.chars().count() > 2000 {
        problems.push(FieldProblem::new("conclusion", "field-name-length").with("max", 2000));
    }
    let items = checklist(app).await?;
    let mut results = Vec::new();
    for item in &items {
        match input.results.get(&item.id) {
            Some((o, note)) if Outcome::from_code(o).is_some() && note.chars().count() <= 500 => {
                if o == "defect" && trim_blank(note).is_empty() {
                    problems.push(FieldProblem::new("results", "field-defect-note").with("item", &item.text));
                }
                results.push((item, o.clone(), trim_blank(note)));
            }
            _ => problems.push(FieldProblem::new("results", "field-checklist-answer").with("item", &item.text)),
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let (Some(day), Some(kind)) = (day, kind) else { return Err(AppError::Invalid(problems)) };
    let emergency_checked = emergency_checked(
        results.iter().filter_map(|(item, o, _)| Some((item.section.as_str(), Outcome::from_code(o)?))),
    );
    let today = app.today();
    let mut refusals =
        check_inspection(&input.inspectors, app.inspections_config().min_inspectors as usize, day, today);
    let rules = app.people_config().role_rules();
    let mut inspectors = input.inspectors.clone();
    inspectors.sort_unstable();
    inspectors.dedup();
    let mut names = Vec::new();
    for id in &inspectors {
        let row = sqlx::query("SELECT code, name FROM people WHERE id = $1")
            .bind(id)
            .fetch_optional(app.db().pool())
            .await?
            .ok_or_else(|| {
                AppError::Invalid(vec![FieldProblem::new("inspectors", "field-person-code").with("value", id)])
            })?;
        let (code, name): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        let facts = crate::people::person_facts(app, *id).await?;
        if let Err(list) = gridsafe_domain::people::may_act(
            &facts,
            FieldRole::Inspector { voltage_kv: c.record.voltage_kv },
            day,
            &rules,
        ) {
            refusals.extend(list.into_iter().map(|v| v.with("person", format!("{name}（{code}）"))));
        }
        names.push(code);
    }
    if !refusals.is_empty() {
        return Err(AppError::Rules(refusals));
    }
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let number = crate::numbers::next(&mut tx, "JC", today).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO inspections (customer_id, unit_id, inspected_on, kind, conclusion, notice_number, created_by, created_at, \
         emergency_checked) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(c.id)
    .bind(c.unit_id)
    .bind(day.to_string())
    .bind(kind.code())
    .bind(trim_blank(&input.conclusion))
    .bind(&number)
    .bind(&cap.actor().name)
    .bind(now.to_db())
    .bind(i64::from(emergency_checked))
    .fetch_one(&mut *tx)
    .await?
    .try_get(0)?;
    for (i, (name, department)) in participants.iter().enumerate() {
        sqlx::query(
            "INSERT INTO inspection_participants (inspection_id, position, name, department) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(i64::try_from(i + 1).unwrap_or(0))
        .bind(name)
        .bind(department)
        .execute(&mut *tx)
        .await?;
    }
    for p in &inspectors {
        sqlx::query("INSERT INTO inspection_inspectors (inspection_id, person_id) VALUES ($1, $2)")
            .bind(id)
            .bind(p)
            .execute(&mut *tx)
            .await?;
    }
    for (i, (item, outcome, note)) in results.iter().enumerate() {
        sqlx::query(
            "INSERT INTO inspection_results (inspection_id, position, section, text, outcome, note) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(i64::try_from(i + 1).unwrap_or(0))
        .bind(&item.section)
        .bind(&item.text)
        .bind(outcome)
        .bind((!note.is_empty()).then_some(note))
        .execute(&mut *tx)
        .await?;
    }
    let defects = results.iter().filter(|(_, o, _)| o == "defect").count();
    let event = NewEvent::new("inspection.recorded", "inspection", id).unit(c.unit_id).summary(serde_json::json!({
        "customer": c.record.account_no, "day": day.to_string(), "kind": kind.code(), "inspectors": names,
        "participants": participants.len(), "notice": number, "defects": defects, "emergency_checked": emergency_checked,
    }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(id)
}

const INSPECTION_COLUMNS: &str = "i.id, i.customer_id, i.unit_id, i.inspected_on, i.kind, i.conclusion, i.notice_number, \
    i.notice_signed_by, i.notice_signed_on, i.created_by, i.emergency_checked, \
    (SELECT COUNT(*) FROM inspection_results r WHERE r.inspection_id = i.id AND r.outcome = 'defect')";

async fn inspection_from(app: &App, r: &sqlx::any::AnyRow) -> Result<InspectionRow, AppError> {
    let id: i64 = r.try_get(0)?;
    let inspectors = sqlx::query(
        "SELECT p.code, p.name FROM inspection_inspectors x JOIN people p ON p.id = x.person_id WHERE x.inspection_id = $1 ORDER BY p.code",
    )
    .bind(id)
    .fetch_all(app.db().pool())
    .await?
    .iter()
    .map(|p| Ok((p.try_get(0)?, p.try_get(1)?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let participants =
        sqlx::query("SELECT name, department FROM inspection_participants WHERE inspection_id = $1 ORDER BY position")
            .bind(id)
            .fetch_all(app.db().pool())
            .await?
            .iter()
            .map(|p| Ok((p.try_get("name")?, p.try_get("department")?)))
            .collect::<Result<_, sqlx::Error>>()?;
    Ok(InspectionRow {
        id,
        customer_id: r.try_get(1)?,
        unit_id: r.try_get(2)?,
        inspected_on: r.try_get(3)?,
        kind: r.try_get(4)?,
        conclusion: r.try_get(5)?,
        notice_number: r.try_get(6)?,
        notice_signed_by: r.try_get(7)?,
        notice_signed_on: r.try_get(8)?,
        created_by: r.try_get(9)?,
        emergency_checked: r.try_get::<i64, _>(10)? != 0,
        inspectors,
        participants,
        defects: r.try_get(11)?,
    })
}

/// A customer's inspections, newest first.
pub async fn inspections_of<P: CustomersReach>(
    app: &App,
    cap: &Capability<P>,
    customer_id: i64,
) -> Result<Vec<InspectionRow>, AppError> {
    customer(app, cap, customer_id).await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {INSPECTION_COLUMNS} FROM inspections i WHERE i.customer_id = $1 ORDER BY i.inspected_on DESC, i.id DESC"
    )))
    .bind(customer_id)
    .fetch_all(app.db().pool())
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        out.push(inspection_from(app, r).await?);
    }
    Ok(out)
}

/// One inspection in reach, with its customer, answers, files and the hazards it found.
pub async fn inspection<P: CustomersReach>(
    app: &App,
    cap: &Capability<P>,
    id: i64,
) -> Result<InspectionDetail, AppError> {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {INSPECTION_COLUMNS} FROM inspections i WHERE i.id = $1")))
        .bind(id)
        .fetch_optional(app.db().pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let inspection = inspection_from(app, &r).await?;
    let customer = customer(app, cap, inspection.customer_id).await?;
    let results = sqlx::query(
        "SELECT section, text, outcome, note FROM inspection_results WHERE inspection_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(app.db().pool())
    .await?
    .iter()
    .map(|r| Ok(ResultRow { section: r.try_get(0)?, text: r.try_get(1)?, outcome: r.try_get(2)?, note: r.try_get(3)? }))
    .collect::<Result<_, sqlx::Error>>()?;
    let hazards = sqlx::query("SELECT id, number, title, state FROM hazards WHERE inspection_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(app.db().pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(InspectionDetail {
        photos: files::attachments_of(app, "inspection", id).await?,
        signed_copies: files::attachments_of(app, "notice", id).await?,
        inspection,
        customer,
        results,
        hazards,
    })
}

/// Adds a photo to an inspection (JPEG, PNG or WebP, up to the configured size).
pub async fn attach_photo(
    app: &App,
    cap: &Capability<perm::InspectionsRecord>,
    meta: &RequestMeta,
    owner_kind: &'static str,
    owner_id: i64,
    name: &str,
    bytes: &[u8],
) -> Result<i64, AppError> {
    let unit_id = match owner_kind {
        "inspection" => inspection(app, cap, owner_id).await?.inspection.unit_id,
        _ => super::hazard(app, cap, owner_id).await?.hazard.unit_id,
    };
    let content_type = files::check_upload(app, "photo", bytes, false)?;
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    let id = files::store(
        &mut tx,
        owner_kind,
        owner_id,
        unit_id,
        name,
        content_type,
        bytes,
        &cap.actor().name,
        &now.to_db(),
    )
    .await?;
    let event = NewEvent::new("attachment.added", owner_kind, owner_id)
        .unit(unit_id)
        .summary(serde_json::json!({ "attachment": id, "type": content_type, "bytes": bytes.len() }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(id)
}

/// Records the customer's signature on the result notice: who signed and when, and the signed
/// copy's scan or photo when there is one.
pub async fn sign_notice(
    app: &App,
    cap: &Capability<perm::InspectionsRecord>,
    meta: &RequestMeta,
    id: i64,
    signed_by: &str,
    signed_on: &str,
    copy: Option<(&str, &[u8])>,
) -> Result<(), AppError> {
    let d = inspection(app, cap, id).await?;
    let mut problems = Vec::new();
    let signer = trim_blank(signed_by);
    if signer.is_empty() || signed_by.chars().count() > 50 {
        problems.push(FieldProblem::new("signed_by", "field-name-length").with("max", 50));
    }
    let day = crate::people::parse_day("signed_on", signed_on, &mut problems);
    if let Some(day) = day
        && (day > app.today() || crate::people::stored_day(&d.inspection.inspected_on).is_some_and(|i| day < i))
    {
        problems.push(FieldProblem::new("signed_on", "field-signed-on"));
    }
    let content_type = match copy {
        Some((_, bytes)) => Some(files::check_upload(app, "copy", bytes, true)?),
        None => None,
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let now = app.now();
    let mut tx = app.db().begin_write().await?;
    sqlx::query("UPDATE inspections SET notice_signed_by = $1, notice_signed_on = $2 WHERE id = $3")
        .bind(signer)
        .bind(day.map(|d| d.to_string()))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let mut file = None;
    if let (Some((name, bytes)), Some(t)) = (copy, content_type) {
        file = Some(
            files::store(&mut tx, "notice", id, d.inspection.unit_id, name, t, bytes, &cap.actor().name, &now.to_db())
                .await?,
        );
    }
    let event = NewEvent::new("inspection.notice_signed", "inspection", id)
        .unit(d.inspection.unit_id)
        .summary(serde_json::json!({ "notice": d.inspection.notice_number, "signed_on": day.map(|d| d.to_string()), "copy": file }));
    append(&mut tx, cap.actor(), meta, now, event).await?;
    tx.commit().await?;
    Ok(())
}

/// People who hold an inspector qualification, in reach: (id, code, name, level, qualified for
/// `voltage_kv` on `day`).
pub async fn inspector_choices<P: CustomersReach>(
    app: &App,
    cap: &Capability<P>,
    voltage_kv: f64,
    day: NaiveDate,
) -> Result<Vec<(i64, String, String, bool)>, AppError> {
    let (clause, binds) = crate::identity::scope_clause("u.path", cap.scope(), 1);
    let sql = format!(
        "SELECT DISTINCT p.id, p.code, p.name FROM people p JOIN org_units u ON u.id = p.unit_id \
         JOIN qualifications q ON q.person_id = p.id WHERE q.kind = 'inspector' AND q.confirmed_at IS NOT NULL AND p.active = 1 AND {clause} ORDER BY p.code"
    );
    let rules = app.people_config().role_rules();
    let mut out = Vec::new();
    for r in gridsafe_store::bound(sql, &binds).fetch_all(app.db().pool()).await? {
        let id: i64 = r.try_get(0)?;
        let facts = crate::people::person_facts(app, id).await?;
        let ok = gridsafe_domain::people::may_act(&facts, FieldRole::Inspector { voltage_kv }, day, &rules).is_ok();
        out.push((id, r.try_get(1)?, r.try_get(2)?, ok));
    }
    Ok(out)
}
