//! Rural safety pilots (农村用电安全试点): the pilot units and their period, their working
//! standards and good practices as a versioned library every unit reads, and the pilots'
//! indicators side by side with the other units'.

use chrono::NaiveDate;
use gridsafe_domain::access::{Capability, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::text::trim_blank;
use gridsafe_store::emergency as store;
use serde::Serialize;

use super::{day_field, text_field};
use crate::audit::NewEvent;
use crate::{App, AppError, FieldProblem, RequestMeta};

/// Every pilot: every unit reads them and their library.
pub async fn pilots(app: &App) -> Result<Vec<store::PilotRow>, AppError> {
    Ok(store::pilots(&mut *app.db().read().await?).await?)
}

#[derive(Debug, Clone, Default)]
pub struct PilotInput {
    pub unit_id: UnitId,
    pub name: String,
    pub starts_on: String,
    /// Empty while it runs.
    pub ends_on: String,
}

pub async fn create_pilot(
    app: &App,
    cap: &Capability<perm::EmergencyManage>,
    meta: &RequestMeta,
    input: PilotInput,
) -> Result<i64, AppError> {
    let mut problems = Vec::new();
    let name = text_field("name", &input.name, 100, true, &mut problems);
    let starts_on = day_field("starts_on", &input.starts_on, &mut problems);
    let ends_on =
        if input.ends_on.trim().is_empty() { None } else { day_field("ends_on", &input.ends_on, &mut problems) };
    if let (Some(s), Some(e)) = (starts_on, ends_on)
        && e < s
    {
        problems.push(FieldProblem::new("ends_on", "field-end-before-start"));
    }
    let unit = crate::identity::unit_by_id(app, input.unit_id).await?;
    match &unit {
        Some(u) => cap.check(&u.path)?,
        None => problems.push(FieldProblem::new("unit_id", "field-unit")),
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let (Some(starts_on), Some(unit)) = (starts_on, unit) else { return Err(AppError::Invalid(problems)) };
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let id = store::insert_pilot(work.conn(), unit.id, &name, (starts_on, ends_on), &cap.actor().name, now).await?;
    work.audit(NewEvent::new("pilot.created", "pilot", id).unit(unit.id).summary(serde_json::json!({
        "name": name, "starts_on": starts_on.to_string(), "ends_on": ends_on.map(|d| d.to_string()),
    })))
    .await?;
    work.commit().await?;
    Ok(id)
}

/// The library: documents whose title or tags contain `query` (every version, the newest of each
/// title first).
pub async fn library(app: &App, query: Option<&str>) -> Result<Vec<store::DocumentRow>, AppError> {
    let pattern = crate::search::contains("q", query)?;
    Ok(store::documents(&mut *app.db().read().await?, pattern.as_deref(), 500).await?)
}

#[derive(Debug, Clone, Default)]
pub struct DocumentInput {
    pub pilot_id: i64,
    /// `standard` (工作标准) or `practice` (典型做法).
    pub kind: String,
    pub title: String,
    /// Separated by blanks, commas or 、.
    pub tags: String,
    pub summary: String,
    pub file: Option<(String, Vec<u8>)>,
}

/// Publishes a pilot's document: the next version of its title. Answers (id, version).
pub async fn publish_document(
    app: &App,
    cap: &Capability<perm::EmergencyManage>,
    meta: &RequestMeta,
    input: DocumentInput,
) -> Result<(i64, i64), AppError> {
    let mut problems = Vec::new();
    let kind = input.kind.trim();
    if !matches!(kind, "standard" | "practice") {
        problems.push(FieldProblem::new("kind", "field-invalid"));
    }
    let title = text_field("title", &input.title, 200, true, &mut problems);
    let summary = text_field("summary", &input.summary, 4000, true, &mut problems);
    let tags: Vec<String> =
        crate::tickets::split_items(&input.tags).map(|t| t.chars().take(20).collect()).take(10).collect();
    let file = match &input.file {
        Some((_, bytes)) => Some(crate::customers::files::check_upload(app, "file", bytes, true)?),
        None => None,
    };
    let pilot = pilots(app).await?.into_iter().find(|p| p.id == input.pilot_id);
    let Some(pilot) = pilot else { return Err(AppError::NotFound) };
    crate::identity::check_stored_path(cap, &pilot.unit_path)?;
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let now = work.now();
    let by = cap.actor().name.clone();
    let (id, version) = store::insert_document(work.conn(), pilot.id, kind, &title, &tags, &summary, &by, now).await?;
    let mut stored = None;
    if let (Some((name, bytes)), Some(t)) = (&input.file, file) {
        stored = Some(
            crate::customers::files::store(work.conn(), "pilot_document", id, pilot.unit_id, name, t, bytes, &by, now)
                .await?,
        );
    }
    work.audit(NewEvent::new("pilot_document.published", "pilot_document", id).unit(pilot.unit_id).summary(
        serde_json::json!({ "pilot": pilot.name, "title": title, "version": version, "tags": tags, "file": stored }),
    ))
    .await?;
    work.commit().await?;
    Ok((id, version))
}

/// One unit's measures, and whether it is a pilot today.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IndicatorRow {
    pub unit_name: String,
    pub pilot: bool,
    pub inspections: u64,
    pub inspections_on_time: u64,
    pub hazards: u64,
    pub hazards_closed: u64,
    pub findings: i64,
    pub orders: i64,
}

impl IndicatorRow {
    fn rate(part: u64, whole: u64) -> Option<f64> {
        (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
    }

    pub fn on_time_rate(&self) -> Option<f64> {
        Self::rate(self.inspections_on_time, self.inspections)
    }

    pub fn closed_rate(&self) -> Option<f64> {
        Self::rate(self.hazards_closed, self.hazards)
    }

    /// Cross-audit findings per 1,000 imported field orders.
    pub fn findings_per_thousand(&self) -> Option<f64> {
        (self.orders > 0).then(|| (self.findings as f64 * 10_000.0 / self.orders as f64).round() / 10.0)
    }

    fn add(&mut self, o: &IndicatorRow) {
        self.inspections += o.inspections;
        self.inspections_on_time += o.inspections_on_time;
        self.hazards += o.hazards;
        self.hazards_closed += o.hazards_closed;
        self.findings += o.findings;
        self.orders += o.orders;
    }
}

/// The units' measures, and the pilots' and the others' together.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Indicators {
    pub units: Vec<IndicatorRow>,
    pub pilots: IndicatorRow,
    pub others: IndicatorRow,
}

/// Inspections on time (the last twelve months), hazards closed and findings per 1,000 orders,
/// per unit in reach, pilots (today within their period) beside the others.
pub async fn indicators(
    app: &App,
    cap: &Capability<perm::CustomersView>,
    today: NaiveDate,
) -> Result<Indicators, AppError> {
    let active: Vec<String> = pilots(app)
        .await?
        .into_iter()
        .filter(|p| p.starts_on <= today && p.ends_on.is_none_or(|e| e >= today))
        .map(|p| p.unit_path)
        .collect();
    let units = crate::identity::list_units(app, cap.scope()).await?;
    let counts = store::findings_and_orders(&mut *app.db().read().await?).await?;
    let mut out = Indicators::default();
    for d in crate::customers::dashboard(app, cap).await? {
        let Some(unit) = units.iter().find(|u| u.id == d.unit_id) else { continue };
        let path = unit.path.as_str();
        let mut row = IndicatorRow {
            unit_name: trim_blank(&d.unit_name).to_owned(),
            pilot: active.iter().any(|p| path.starts_with(p.as_str())),
            inspections: d.inspections,
            inspections_on_time: d.on_time,
            ..IndicatorRow::default()
        };
        for c in d.hazards.values() {
            row.hazards += c.open + c.closed;
            row.hazards_closed += c.closed;
        }
        // Findings and orders are kept at the unit the order was worked in: this unit's own.
        if let Some((_, findings, orders)) = counts.iter().find(|(p, _, _)| p == path) {
            row.findings = *findings;
            row.orders = *orders;
        }
        if row.pilot {
            out.pilots.add(&row);
        } else {
            out.others.add(&row);
        }
        out.units.push(row);
    }
    out.units.sort_by(|a, b| b.pilot.cmp(&a.pilot).then(a.unit_name.cmp(&b.unit_name)));
    Ok(out)
}
