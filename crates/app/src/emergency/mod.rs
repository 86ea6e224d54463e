//! Emergency plans (应急预案) and drills (应急演练): the plans of each unit and of important
//! customers, the drill schedule they give, a drill's record and its problems as hazards in the
//! one closed loop; with the rural pilots (`pilots`) and the customers' voice (`feedback`). The
//! rules are the domain's (`gridsafe_domain::emergency`).

mod feedback;
mod pilots;

use chrono::{Duration, NaiveDate};
use gridsafe_domain::access::{Capability, PermissionMarker, Principal, perm};
use gridsafe_domain::emergency::{self, DrillRating, Due, PlanKind};
use gridsafe_domain::hazards::Responsibility;
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::text::trim_blank;
use gridsafe_store::emergency as store;
use serde::Serialize;

pub use feedback::{
    ComplaintImport, ComplaintInput, EvaluationInput, Feedback, HazardInput, SHOWN, UnitFeedback, complaint_hazard,
    evaluation_hazard, feedback, import_complaints, record_complaint, record_evaluation,
};
pub use gridsafe_store::emergency::{ComplaintRow, DocumentRow, DrillRow, EvaluationRow, PilotRow, PlanRow, RiskRow};
pub use pilots::{DocumentInput, Indicators, PilotInput, create_pilot, indicators, library, pilots, publish_document};

use crate::audit::NewEvent;
use crate::customers::AttachmentMeta;
use crate::home::Todo;
use crate::identity::check_stored_path;
use crate::{App, AppError, FieldProblem, RequestMeta};

/// The most people one drill names, and problems it records.
pub const MAX_PEOPLE: usize = 200;
pub const MAX_PROBLEMS: usize = 50;

/// The units an emergency capability reaches.
pub trait EmergencyReach: PermissionMarker {}
impl EmergencyReach for perm::EmergencyView {}
impl EmergencyReach for perm::EmergencyManage {}
impl EmergencyReach for perm::FeedbackRecord {}

pub async fn risks(app: &App) -> Result<Vec<RiskRow>, AppError> {
    Ok(store::risks(&mut *app.db().read().await?).await?)
}

/// A drill due, with the words it is shown with.
#[derive(Debug, Clone, Serialize)]
pub struct DueDrill {
    pub due: Due,
    pub unit_name: String,
    /// The plan whose drill is due (a unit's yearly drill names none).
    pub plan: Option<PlanRow>,
}

/// The drills due in reach on today, soonest first.
pub async fn schedule<P: EmergencyReach>(app: &App, cap: &Capability<P>) -> Result<Vec<DueDrill>, AppError> {
    let mut conn = app.db().read().await?;
    let (plans, drills) = store::schedule_facts(&mut conn, cap.scope()).await?;
    let rows = store::plans(&mut conn, cap.scope()).await?;
    let units: std::collections::BTreeMap<i64, String> =
        rows.iter().map(|p| (p.unit_id.get(), p.unit_name.clone())).collect();
    Ok(emergency::schedule(&plans, &drills, app.emergency_config().cycles(), app.today())
        .into_iter()
        .map(|due| DueDrill {
            unit_name: units.get(&due.unit_id).cloned().unwrap_or_default(),
            plan: due.plan_id.and_then(|id| rows.iter().find(|p| p.id == id).cloned()),
            due,
        })
        .collect())
}

/// The plans in reach, by unit and kind.
pub async fn plans<P: EmergencyReach>(app: &App, cap: &Capability<P>) -> Result<Vec<PlanRow>, AppError> {
    Ok(store::plans(&mut *app.db().read().await?, cap.scope()).await?)
}

/// A plan with its drills and its document.
#[derive(Debug, Clone, Serialize)]
pub struct PlanDetail {
    pub plan: PlanRow,
    pub drills: Vec<DrillRow>,
    pub documents: Vec<AttachmentMeta>,
    /// Its next drill.
    pub due: Option<Due>,
}

pub async fn plan<P: EmergencyReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<PlanDetail, AppError> {
    let mut conn = app.db().read().await?;
    let plan = store::plan(&mut conn, id, false).await?.ok_or(AppError::NotFound)?;
    check_stored_path(cap, &plan.unit_path)?;
    let drills = store::drills(&mut conn, cap.scope(), Some(id), 500).await?;
    let documents = gridsafe_store::customers::attachments_of(&mut conn, "emergency_plan", id).await?;
    drop(conn);
    let due = schedule(app, cap).await?.into_iter().find(|d| d.due.plan_id == Some(id)).map(|d| d.due);
    Ok(PlanDetail { plan, drills, documents, due })
}

/// A plan as entered.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    pub unit_id: UnitId,
    /// `comprehensive`, `special`, `onsite` or `customer`.
    pub kind: String,
    /// An important customer's 户号 (its own plan).
    pub customer: String,
    pub title: String,
    /// Codes of the risks it covers.
    pub risks: Vec<String>,
    pub version: String,
    pub approved_by: String,
    pub approved_on: String,
    pub review_due: String,
    pub document: Option<(String, Vec<u8>)>,
}

fn day_field(field: &'static str, text: &str, problems: &mut Vec<FieldProblem>) -> Option<NaiveDate> {
    let t = text.trim();
    match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            problems.push(FieldProblem::new(field, "field-date").with("value", t));
            None
        }
    }
}

fn text_field(field: &'static str, text: &str, max: usize, required: bool, problems: &mut Vec<FieldProblem>) -> String {
    let t = trim_blank(text).to_owned();
    if (required && t.is_empty()) || t.chars().count() > max {
        problems.push(FieldProblem::new(field, "field-name-length").with("max", max));
    }
    t
}

/// Records an approved plan of a unit (or an important customer's own plan) with its document.
pub async fn create_plan(
    app: &App,
    cap: &Capability<perm::EmergencyManage>,
    meta: &RequestMeta,
    input: PlanInput,
) -> Result<i64, AppError> {
    let mut problems = Vec::new();
    let kind = PlanKind::from_code(input.kind.trim());
    if kind.is_none() {
        problems.push(FieldProblem::new("kind", "field-emergency-kind").with("value", input.kind.trim()));
    }
    let title = text_field("title", &input.title, 200, true, &mut problems);
    let version = text_field("version", &input.version, 40, true, &mut problems);
    let approved_by = text_field("approved_by", &input.approved_by, 100, true, &mut problems);
    let approved_on = day_field("approved_on", &input.approved_on, &mut problems);
    let review_due = day_field("review_due", &input.review_due, &mut problems);
    if approved_on.is_some_and(|d| d > app.today()) {
        problems
            .push(FieldProblem::new("approved_on", "field-project-day-future").with("value", input.approved_on.trim()));
    }
    let known = risks(app).await?;
    let mut codes: Vec<String> = input.risks.iter().map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()).collect();
    codes.sort();
    codes.dedup();
    if codes.is_empty() || codes.iter().any(|c| !known.iter().any(|k| k.code == *c)) {
        problems.push(FieldProblem::new("risks", "field-emergency-risks"));
    }
    let customer = trim_blank(&input.customer).to_owned();
    let file = match &input.document {
        Some((_, bytes)) => Some(crate::customers::files::check_upload(app, "document", bytes, true)?),
        None => None,
    };
    let mut work = app.begin(cap.actor(), meta).await?;
    let (unit, customer_id) = if kind == Some(PlanKind::Customer) {
        match store::customer_by_account(work.conn(), &customer).await? {
            Some((id, unit)) => (Some(unit), Some(id)),
            None => {
                problems.push(FieldProblem::new("customer", "field-outage-customer").with("value", &customer));
                (None, None)
            }
        }
    } else {
        (Some(input.unit_id), None)
    };
    let path = match unit {
        Some(u) => gridsafe_store::identity::unit_by_id(work.conn(), u).await?.map(|u| u.path),
        None => None,
    };
    match &path {
        Some(p) => cap.check(p)?,
        None if unit.is_some() => problems.push(FieldProblem::new("unit_id", "field-unit")),
        None => {}
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let (Some(kind), Some(approved_on), Some(review_due), Some(unit)) = (kind, approved_on, review_due, unit) else {
        return Err(AppError::Invalid(problems));
    };
    emergency::check_review(approved_on, review_due, app.emergency_config().plan_review_years)?;
    let now = work.now();
    let number = gridsafe_store::numbers::next(work.conn(), "YA", now.local_date()).await?;
    let new = store::NewPlan {
        number: &number,
        unit,
        customer: customer_id,
        kind,
        title: &title,
        risks: &codes,
        version: &version,
        approved_by: &approved_by,
        approved_on,
        review_due,
        by: &cap.actor().name,
    };
    let id = store::insert_plan(work.conn(), &new, now).await?;
    let mut document = None;
    if let (Some((name, bytes)), Some(t)) = (&input.document, file) {
        document = Some(
            crate::customers::files::store(
                work.conn(),
                "emergency_plan",
                id,
                unit,
                name,
                t,
                bytes,
                &cap.actor().name,
                now,
            )
            .await?,
        );
    }
    work.audit(NewEvent::new("emergency_plan.created", "emergency_plan", id).unit(unit).summary(serde_json::json!({
        "number": number, "kind": kind.code(), "title": title, "risks": codes, "version": version,
        "approved_by": approved_by, "approved_on": approved_on.to_string(), "review_due": review_due.to_string(),
        "customer": customer_id, "document": document,
    })))
    .await?;
    work.commit().await?;
    Ok(id)
}

/// A drill as entered.
#[derive(Debug, Clone, Default)]
pub struct DrillInput {
    pub held_on: String,
    pub scenario: String,
    /// 工号 of the participants, separated by blanks, commas or 、.
    pub people: String,
    /// `good`, `adequate` or `poor`.
    pub rating: String,
    pub evaluation: String,
    /// Problems found, one per line: each becomes a hazard in the closed loop.
    pub problems: String,
    /// The person of the register who answers for the problems (工号), and by when.
    pub responsible: String,
    pub deadline: String,
    pub photo: Option<(String, Vec<u8>)>,
}

/// Records a drill of plan `plan` (held between the plan's approval and today): its participants
/// from the register, its rating and evaluation, a photo; each problem found becomes a hazard in
/// the closed loop, assigned to the responsible person with its deadline. Answers the drill's id.
pub async fn record_drill(
    app: &App,
    cap: &Capability<perm::EmergencyManage>,
    meta: &RequestMeta,
    plan_id: i64,
    input: DrillInput,
) -> Result<i64, AppError> {
    let mut problems = Vec::new();
    let held_on = day_field("held_on", &input.held_on, &mut problems);
    let scenario = text_field("scenario", &input.scenario, 500, true, &mut problems);
    let evaluation = text_field("evaluation", &input.evaluation, 2000, false, &mut problems);
    let rating = DrillRating::from_code(input.rating.trim());
    if rating.is_none() {
        problems.push(FieldProblem::new("rating", "field-emergency-rating").with("value", input.rating.trim()));
    }
    let found: Vec<String> =
        input.problems.lines().map(|l| trim_blank(l).to_owned()).filter(|l| !l.is_empty()).collect();
    if found.len() > MAX_PROBLEMS || found.iter().any(|p| p.chars().count() > 500) {
        problems.push(FieldProblem::new("problems", "field-emergency-problems").with("max", MAX_PROBLEMS));
    }
    let codes: Vec<&str> = crate::tickets::split_items(&input.people).collect();
    if codes.is_empty() || codes.len() > MAX_PEOPLE {
        problems.push(FieldProblem::new("people", "field-emergency-people").with("max", MAX_PEOPLE));
    }
    let photo = match &input.photo {
        Some((_, bytes)) => Some(crate::customers::files::check_upload(app, "photo", bytes, false)?),
        None => None,
    };
    let mut work = app.begin(cap.actor(), meta).await?;
    let p = store::plan(work.conn(), plan_id, true).await?.ok_or(AppError::NotFound)?;
    // Out of reach is said before the form's problems.
    check_stored_path(cap, &p.unit_path)?;
    let mut people: Vec<PersonId> = Vec::new();
    for code in codes.iter().take(MAX_PEOPLE) {
        match gridsafe_store::people::id_by_code(work.conn(), code).await? {
            Some(id) if !people.contains(&id) => people.push(id),
            Some(_) => {}
            None => problems.push(FieldProblem::new("people", "field-person-code").with("value", *code)),
        }
    }
    // Problems found are assigned: who corrects them, by when.
    let assigned = if found.is_empty() {
        None
    } else {
        let today = app.today();
        crate::people::assignment(work.conn(), &input.responsible, &input.deadline, today, &mut problems).await?
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let (Some(held_on), Some(rating)) = (held_on, rating) else { return Err(AppError::Invalid(problems)) };
    let now = work.now();
    emergency::check_drill(held_on, p.approved_on, now.local_date())?;
    if p.retired_on.is_some() {
        return Err(AppError::Conflict("conflict-emergency-retired"));
    }
    let number = gridsafe_store::numbers::next(work.conn(), "YL", held_on).await?;
    let new = store::NewDrill {
        number: &number,
        plan: plan_id,
        unit: p.unit_id,
        held_on,
        scenario: &scenario,
        rating,
        evaluation: &evaluation,
        people: &people,
        by: &cap.actor().name,
    };
    let drill = store::insert_drill(work.conn(), &new, now).await?;
    let mut hazards = Vec::new();
    for text in &found {
        let hazard = crate::customers::NewHazard {
            customer_id: p.customer.as_ref().map(|c| c.0),
            inspection_id: None,
            source_kind: "drill",
            source_id: Some(drill),
            unit_id: p.unit_id,
            title: format!("{number} {text}").chars().take(200).collect(),
            description: format!("{} · {}", p.title, scenario).chars().take(2000).collect(),
            grade: app.crossaudit_config().finding_grade.clone(),
            responsibility: Responsibility::Grid,
            plan: assigned.as_ref().map(|(owner, owner_label, deadline)| crate::customers::HazardPlan {
                owner: *owner,
                owner_label: owner_label.clone(),
                deadline: *deadline,
                task: text.clone(),
            }),
        };
        hazards.push(crate::customers::insert_hazard(work.conn(), cap.actor(), &hazard, now).await?.1);
    }
    let mut file = None;
    if let (Some((name, bytes)), Some(t)) = (&input.photo, photo) {
        file = Some(
            crate::customers::files::store(
                work.conn(),
                "drill",
                drill,
                p.unit_id,
                name,
                t,
                bytes,
                &cap.actor().name,
                now,
            )
            .await?,
        );
    }
    work.audit(NewEvent::new("drill.recorded", "drill", drill).unit(p.unit_id).summary(serde_json::json!({
        "number": number, "plan": p.number, "held_on": held_on.to_string(), "rating": rating.code(),
        "people": people.len(), "hazards": hazards, "photo": file,
    })))
    .await?;
    work.commit().await?;
    Ok(drill)
}

/// A drill with its photos and the hazards its problems opened.
#[derive(Debug, Clone, Serialize)]
pub struct DrillDetail {
    pub drill: DrillRow,
    pub photos: Vec<AttachmentMeta>,
    /// (hazard id, number, title, state code)
    pub hazards: Vec<(i64, String, String, String)>,
}

pub async fn drill<P: EmergencyReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<DrillDetail, AppError> {
    let mut conn = app.db().read().await?;
    let drill = store::drill(&mut conn, id).await?.ok_or(AppError::NotFound)?;
    check_stored_path(cap, &drill.unit_path)?;
    let photos = gridsafe_store::customers::attachments_of(&mut conn, "drill", id).await?;
    let hazards =
        store::hazards_of(&mut conn, "drill", &[id]).await?.into_iter().map(|h| (h.1, h.2, h.3, h.4)).collect();
    Ok(DrillDetail { drill, photos, hazards })
}

/// What the safety auditor must do: drills overdue (late) or due within the warning days, plans
/// past their review.
pub async fn todo(app: &App, principal: &Principal) -> Result<Vec<Todo>, AppError> {
    let Ok(cap) = principal.authorize::<perm::EmergencyManage>() else { return Ok(Vec::new()) };
    let today = app.today();
    let warn = today + Duration::days(i64::from(app.emergency_config().drill_warning_days));
    let mut out = Vec::new();
    for d in schedule(app, &cap).await? {
        if d.due.due > warn {
            continue;
        }
        let (link, subject) = match &d.plan {
            Some(p) => (format!("/emergency/plans/{}", p.id), format!("{} · {}", p.number, p.title)),
            None => ("/emergency/plans".to_owned(), d.unit_name.clone()),
        };
        out.push(Todo {
            what: "home-todo-drill",
            link,
            subject,
            word: Some(format!("emergency-kind-{}", d.due.kind.code())),
            due: d.due.due.to_string(),
            late: d.due.overdue,
        });
    }
    for p in plans(app, &cap).await?.into_iter().filter(|p| p.retired_on.is_none()) {
        if emergency::review_overdue(p.review_due, today) {
            out.push(Todo {
                what: "home-todo-plan-review",
                link: format!("/emergency/plans/{}", p.id),
                subject: format!("{} · {}", p.number, p.title),
                word: None,
                due: p.review_due.to_string(),
                late: true,
            });
        }
    }
    Ok(out)
}
