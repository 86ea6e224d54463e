//! Inspections (用电检查): at least two inspectors qualified for the customer's voltage on the
//! day, the checklist from the templates, photos, the result notice and its signed copy.

use std::collections::HashMap;

use chrono::NaiveDate;
use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::ids::PersonId;
use gridsafe_domain::inspections::{InspectionKind, Outcome, SECTIONS, check_inspection, emergency_checked};
use gridsafe_domain::people::FieldRole;
use gridsafe_domain::text::trim_blank;
use gridsafe_store::inspections as store;
use serde::Serialize;

use super::files::{self, AttachmentMeta};
use super::{CustomerRow, CustomersReach, customer};
use crate::audit::NewEvent;
use crate::{App, AppError, FieldProblem, RequestMeta};

pub use gridsafe_store::inspections::{ChecklistItem, InspectionRow, ResultRow};

/// The active checklist, by section in the order of [`SECTIONS`].
pub async fn checklist(app: &App) -> Result<Vec<ChecklistItem>, AppError> {
    let mut items = store::checklist(&mut *app.db().read().await?).await?;
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
    // An unchanged line keeps its origin; a new one says it is this deployment's.
    let rows: Vec<(&str, String)> = items
        .iter()
        .map(|text| {
            let origin = current
                .iter()
                .find(|c| c.section == *section && c.text == *text)
                .map_or_else(|| "本单位增补".to_owned(), |c| c.origin.clone());
            (*text, origin)
        })
        .collect();
    let mut work = app.begin(cap.actor(), meta).await?;
    store::replace_section(work.conn(), section, &rows, &cap.actor().name).await?;
    work.audit(
        NewEvent::new("inspection.checklist_changed", "checklist", *section)
            .summary(serde_json::json!({ "items": items.len() })),
    )
    .await?;
    work.commit().await
}

/// What an inspection form sends.
#[derive(Debug, Clone, Default)]
pub struct InspectionInput {
    pub customer_id: i64,
    /// `YYYY-MM-DD`
    pub inspected_on: String,
    /// periodic | special | campaign
    pub kind: String,
    pub inspectors: Vec<PersonId>,
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
pub struct InspectionDetail {
    pub inspection: InspectionRow,
    pub customer: CustomerRow,
    pub results: Vec<ResultRow>,
    pub photos: Vec<AttachmentMeta>,
    pub signed_copies: Vec<AttachmentMeta>,
    /// The hazards it found: id, number, title, state, deadline.
    pub hazards: Vec<(i64, String, String, String, String)>,
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
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let today = now.local_date();
    let mut refusals =
        check_inspection(&input.inspectors, app.inspections_config().min_inspectors as usize, day, today);
    let rules = app.people_config().role_rules();
    let mut inspectors = input.inspectors.clone();
    inspectors.sort_unstable();
    inspectors.dedup();
    // Load: every inspector with what they hold, in one go.
    let people = gridsafe_store::people::facts(work.conn(), &inspectors).await?;
    let mut names = Vec::new();
    for id in &inspectors {
        let p = people.get(id).ok_or_else(|| {
            AppError::Invalid(vec![FieldProblem::new("inspectors", "field-person-code").with("value", id)])
        })?;
        if let Err(list) = gridsafe_domain::people::may_act(
            &p.facts,
            FieldRole::Inspector { voltage_kv: c.record.voltage_kv },
            day,
            &rules,
        ) {
            refusals.extend(list.into_iter().map(|v| v.with("person", format!("{}（{}）", p.name, p.code))));
        }
        names.push(p.code.clone());
    }
    if !refusals.is_empty() {
        return Err(AppError::Rules(refusals));
    }
    let number = gridsafe_store::numbers::next(work.conn(), "JC", today).await?;
    let answers: Vec<(&str, &str, &str, &str)> =
        results.iter().map(|(item, o, note)| (item.section.as_str(), item.text.as_str(), o.as_str(), *note)).collect();
    let record = store::NewInspection {
        customer_id: c.id,
        unit_id: c.unit_id,
        day,
        kind,
        conclusion: trim_blank(&input.conclusion),
        notice_number: &number,
        by: &cap.actor().name,
        emergency_checked,
        inspectors: &inspectors,
        participants: &participants,
        results: &answers,
        history_import: None,
    };
    let id = store::insert_inspection(work.conn(), &record, now).await?;
    let defects = results.iter().filter(|(_, o, _)| o == "defect").count();
    work.audit(NewEvent::new("inspection.recorded", "inspection", id).unit(c.unit_id).summary(serde_json::json!({
        "customer": c.record.account_no, "day": day.to_string(), "kind": kind.code(), "inspectors": names,
        "participants": participants.len(), "notice": number, "defects": defects, "emergency_checked": emergency_checked,
    })))
    .await?;
    work.commit().await?;
    Ok(id)
}

/// A customer's inspections, newest first.
pub async fn inspections_of<P: CustomersReach>(
    app: &App,
    cap: &Capability<P>,
    customer_id: i64,
) -> Result<Vec<InspectionRow>, AppError> {
    customer(app, cap, customer_id).await?;
    Ok(store::inspections_of(&mut *app.db().read().await?, customer_id).await?)
}

/// One inspection in reach, with its customer, answers, files and the hazards it found.
pub async fn inspection<P: CustomersReach>(
    app: &App,
    cap: &Capability<P>,
    id: i64,
) -> Result<InspectionDetail, AppError> {
    let mut conn = app.db().read().await?;
    let inspection = store::inspection(&mut conn, id).await?.ok_or(AppError::NotFound)?;
    let results = store::results(&mut conn, id).await?;
    let hazards = store::hazards_found(&mut conn, id).await?;
    drop(conn);
    let customer = customer(app, cap, inspection.customer_id).await?;
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
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let id =
        files::store(work.conn(), owner_kind, owner_id, unit_id, name, content_type, bytes, &cap.actor().name, now)
            .await?;
    work.audit(
        NewEvent::new("attachment.added", owner_kind, owner_id)
            .unit(unit_id)
            .summary(serde_json::json!({ "attachment": id, "type": content_type, "bytes": bytes.len() })),
    )
    .await?;
    work.commit().await?;
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
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    store::sign_notice(work.conn(), id, signer, day).await?;
    let mut file = None;
    if let (Some((name, bytes)), Some(t)) = (copy, content_type) {
        file = Some(
            files::store(work.conn(), "notice", id, d.inspection.unit_id, name, t, bytes, &cap.actor().name, now)
                .await?,
        );
    }
    work.audit(
        NewEvent::new("inspection.notice_signed", "inspection", id)
            .unit(d.inspection.unit_id)
            .summary(serde_json::json!({ "notice": d.inspection.notice_number, "signed_on": day.map(|d| d.to_string()), "copy": file })),
    )
    .await?;
    work.commit().await
}

/// People who hold an inspector qualification, in reach: (id, code, name, level, qualified for
/// `voltage_kv` on `day`).
pub async fn inspector_choices<P: CustomersReach>(
    app: &App,
    cap: &Capability<P>,
    voltage_kv: f64,
    day: NaiveDate,
) -> Result<Vec<(PersonId, String, String, bool)>, AppError> {
    let mut conn = app.db().read().await?;
    let candidates = store::inspector_candidates(&mut conn, cap.scope()).await?;
    let ids: Vec<PersonId> = candidates.iter().map(|c| c.0).collect();
    let facts = gridsafe_store::people::facts(&mut conn, &ids).await?;
    let rules = app.people_config().role_rules();
    Ok(candidates
        .into_iter()
        .map(|(id, code, name)| {
            let ok = facts.get(&id).is_some_and(|p| {
                gridsafe_domain::people::may_act(&p.facts, FieldRole::Inspector { voltage_kv }, day, &rules).is_ok()
            });
            (id, code, name, ok)
        })
        .collect())
}
