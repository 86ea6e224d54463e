//! On-site supervision (现场安全管控): managers' arrivals and departures at graded work
//! (到岗到位), the violation register (违章) with its points, review meetings (说清楚) and
//! re-admissions (再准入), and the figures a leader reads. Each violation's correction is a hazard
//! in the one closed loop.

use std::collections::BTreeMap;

use gridsafe_domain::access::{Capability, PermissionMarker, perm};
use gridsafe_domain::ids::{PersonId, TicketId, UnitId};
use gridsafe_domain::supervision::{self as rules, Class, Offender, Severity, Standing};
use gridsafe_domain::text::trim_blank;
use gridsafe_domain::time::Timestamp;
use gridsafe_store::supervision as store;
pub use gridsafe_store::supervision::{
    CatalogueEntry, CheckResult, CheckRow, CheckTemplate, Position, Readmission, Stay, ViolationFilter, ViolationRow,
};
use serde::Serialize;

use crate::audit::NewEvent;
use crate::customers::AttachmentMeta;
use crate::{App, AppError, FieldProblem, RequestMeta};

/// The capabilities that read the violation register.
pub trait ViolationsReach: PermissionMarker {}
impl ViolationsReach for perm::ViolationsView {}
impl ViolationsReach for perm::ViolationsRecord {}
impl ViolationsReach for perm::ViolationsReview {}

// ---- 到岗到位 ------------------------------------------------------------------------------

/// An arrival as a phone sends it: where the browser says it is (when it gives the position),
/// a remark, and a photo of the site.
#[derive(Debug, Clone, Default)]
pub struct ArrivalInput {
    pub position: Option<Position>,
    pub note: String,
    pub photo: Option<(String, Vec<u8>)>,
}

fn check_position(p: Option<Position>, problems: &mut Vec<FieldProblem>) {
    if let Some(p) = p
        && !(p.lat.is_finite()
            && p.lon.is_finite()
            && (-90.0..=90.0).contains(&p.lat)
            && (-180.0..=180.0).contains(&p.lon)
            && p.accuracy_m.is_none_or(|a| a.is_finite() && (0.0..=100_000.0).contains(&a)))
    {
        problems.push(FieldProblem::new("position", "field-position"));
    }
}

/// A photo sent with a record, checked (size, what it is) before the unit of work begins.
struct Photo<'a> {
    name: &'a str,
    bytes: &'a [u8],
    kind: &'static str,
}

fn checked_photo<'a>(app: &App, photo: &'a Option<(String, Vec<u8>)>) -> Result<Option<Photo<'a>>, AppError> {
    photo
        .as_ref()
        .map(|(name, bytes)| {
            let kind = crate::customers::files::check_upload(app, "photo", bytes, false)?;
            Ok(Photo { name, bytes, kind })
        })
        .transpose()
}

/// Keeps `photo`, if any, as evidence of record `owner_kind` `owner_id`, in the unit of work.
async fn keep_photo(
    work: &mut crate::Work<'_>,
    photo: Option<Photo<'_>>,
    owner_kind: &str,
    owner_id: i64,
    unit: UnitId,
) -> Result<(), AppError> {
    if let Some(p) = photo {
        let (by, now) = (work.actor().name.clone(), work.now());
        crate::customers::files::store(work.conn(), owner_kind, owner_id, unit, p.name, p.kind, p.bytes, &by, now)
            .await?;
    }
    Ok(())
}

/// Records the caller's arrival at ticket `id`'s site, now: within the ticket's window (from the
/// setting's minutes before its start), once at a time, with the roles his account holds for
/// the ticket's unit (what the start rule counts). A refusal is audited. Answers the stay's id.
pub async fn arrive(
    app: &App,
    cap: &Capability<perm::SupervisionAttend>,
    meta: &RequestMeta,
    id: TicketId,
    input: ArrivalInput,
) -> Result<i64, AppError> {
    let mut problems = Vec::new();
    check_position(input.position, &mut problems);
    if input.note.chars().count() > 500 {
        problems.push(FieldProblem::new("note", "field-name-length").with("max", 500));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let photo = checked_photo(app, &input.photo)?;
    let user_id = cap.actor().user_id.ok_or_else(|| AppError::invalid("user", "field-account-needed"))?;
    let mut work = app.begin(cap.actor(), meta).await?;
    // Load, held: the ticket, then the manager's account, so that two arrivals of his wait on
    // each other and the second sees the first.
    let t = crate::tickets::load(app, work.conn(), cap, id, true).await?;
    store::hold_user(work.conn(), user_id).await?;
    let open = store::open_stay(work.conn(), user_id).await?;
    let unit = crate::people::stored_path(&t.row.unit_path)?;
    let roles = store::roles_for(work.conn(), user_id, &unit).await?;
    let now = work.now();
    let facts = t.facts();
    let arrival = rules::Arrival {
        state: facts.state,
        from: facts.planned_start,
        until: facts.end(),
        early_minutes: app.plans_config().arrive_early_minutes,
        here_already: open.as_ref().is_some_and(|s| s.ticket_id == id),
        elsewhere: open
            .as_ref()
            .filter(|s| s.ticket_id != id)
            .map(|s| s.ticket_number.clone().unwrap_or_else(|| format!("#{}", s.ticket_id))),
    };
    let number = t.row.number.clone();
    if let Err(v) = rules::check_arrival(&arrival, now) {
        let event = NewEvent::new("supervision.arrival_refused", "ticket", id)
            .unit(t.row.unit_id)
            .summary(serde_json::json!({ "number": number, "rule": v.rule.code }));
        return Err(work.refused(event, AppError::Rule(v)).await);
    }
    let note = trim_blank(&input.note);
    let new = store::NewArrival {
        ticket: id,
        user_id,
        who: &cap.actor().name,
        roles: &roles,
        position: input.position,
        note: (!note.is_empty()).then_some(note),
    };
    let stay = store::insert_arrival(work.conn(), &new, now).await?;
    keep_photo(&mut work, photo, "attendance", stay, t.row.unit_id).await?;
    work.audit(NewEvent::new("supervision.arrived", "ticket", id).unit(t.row.unit_id).summary(serde_json::json!({
        "number": number, "stay": stay, "roles": roles, "grade": t.risk.level,
        "position": input.position.is_some(), "photo": input.photo.is_some(),
    })))
    .await?;
    work.commit().await?;
    Ok(stay)
}

/// Records the caller's departure from ticket `id`'s site, now; refused when he has not
/// arrived there (or left already).
pub async fn depart(
    app: &App,
    cap: &Capability<perm::SupervisionAttend>,
    meta: &RequestMeta,
    id: TicketId,
    position: Option<Position>,
) -> Result<(), AppError> {
    let mut problems = Vec::new();
    check_position(position, &mut problems);
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let user_id = cap.actor().user_id.ok_or_else(|| AppError::invalid("user", "field-account-needed"))?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let t = crate::tickets::load(app, work.conn(), cap, id, true).await?;
    store::hold_user(work.conn(), user_id).await?;
    let Some(stay) = store::open_stay(work.conn(), user_id).await?.filter(|s| s.ticket_id == id) else {
        let v = gridsafe_domain::rules::Violation::of(gridsafe_domain::rules::SUPERVISION_ARRIVAL)
            .with("missing", "arrival");
        let event = NewEvent::new("supervision.departure_refused", "ticket", id)
            .unit(t.row.unit_id)
            .summary(serde_json::json!({ "number": t.row.number, "rule": v.rule.code }));
        return Err(work.refused(event, AppError::Rule(v)).await);
    };
    let now = work.now();
    if !store::depart(work.conn(), stay.id, position, now).await? {
        return Err(AppError::Conflict("conflict-ticket-changed"));
    }
    work.audit(NewEvent::new("supervision.departed", "ticket", id).unit(t.row.unit_id).summary(serde_json::json!({
        "number": t.row.number, "stay": stay.id, "minutes": (now.as_utc() - stay.arrived_at.as_utc()).num_minutes(),
    })))
    .await?;
    work.commit().await?;
    Ok(())
}

/// Whether the caller may record his arrival at `t` now (to offer the button): he holds the
/// permission there and is not on this site already.
pub fn may_arrive(t: &crate::tickets::TicketDetail, principal: &gridsafe_domain::access::Principal) -> bool {
    use gridsafe_domain::tickets::State::*;
    let reaches = principal
        .authorize::<perm::SupervisionAttend>()
        .is_ok_and(|cap| crate::people::stored_path(&t.row.unit_path).is_ok_and(|u| cap.covers(&u)));
    reaches && matches!(t.row.state, Issued | Received | Permitted | Started | Interrupted)
}

/// The caller's stay at `t` not yet ended, if any.
pub fn own_open_stay<'a>(
    t: &'a crate::tickets::TicketDetail,
    principal: &gridsafe_domain::access::Principal,
) -> Option<&'a Stay> {
    let me = principal.user_id()?;
    t.on_site.open().find(|s| s.user_id == me)
}

// ---- 现场检查 ------------------------------------------------------------------------------

/// Every checklist template with its items.
pub async fn templates(app: &App) -> Result<Vec<CheckTemplate>, AppError> {
    Ok(store::templates(&mut *app.db().read().await?).await?)
}

/// The template for work of `kind`: the one made for it, else the one for every kind.
pub fn template_for<'a>(templates: &'a [CheckTemplate], kind: &str) -> Option<&'a CheckTemplate> {
    let index: Vec<(String, Vec<String>)> = templates.iter().map(|t| (t.code.clone(), t.work_kinds.clone())).collect();
    let code = rules::template_for(kind, &index)?;
    templates.iter().find(|t| t.code == code)
}

/// An on-site check as recorded: the template, each item's answer (position, `pass`/`fail`/`na`,
/// remark), a remark on the whole and a photo.
#[derive(Debug, Clone, Default)]
pub struct CheckInput {
    pub template: String,
    pub answers: Vec<(i64, String, String)>,
    pub note: String,
    pub photo: Option<(String, Vec<u8>)>,
}

/// Records an on-site check (现场检查) of ticket `id`'s live site from a checklist: every item
/// answered, each answer named where it is wrong. Failed items may then be recorded as
/// violations. Answers the check's id.
pub async fn record_check(
    app: &App,
    cap: &Capability<perm::ViolationsRecord>,
    meta: &RequestMeta,
    id: TicketId,
    input: CheckInput,
) -> Result<i64, AppError> {
    let mut problems = Vec::new();
    let note = text_field("note", &input.note, 1000, false, &mut problems);
    if input.answers.len() > 200 {
        problems.push(FieldProblem::new("answers", "field-invalid"));
    }
    let photo = checked_photo(app, &input.photo)?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let t = crate::tickets::load(app, work.conn(), cap, id, true).await?;
    let templates = store::templates(work.conn()).await?;
    let Some(template) = templates.iter().find(|t| t.code == trim_blank(&input.template)) else {
        return Err(AppError::invalid("template", "field-invalid"));
    };
    let mut results = Vec::new();
    for item in &template.items {
        let answer = input.answers.iter().find(|(p, _, _)| *p == item.position);
        let finding = answer.and_then(|(_, r, _)| rules::Finding::from_code(r.trim()));
        let remark = answer.map(|(_, _, n)| trim_blank(n).to_owned()).unwrap_or_default();
        match finding {
            None => problems.push(
                FieldProblem::new("answers", "field-check-item").with("item", item.position).with("text", &item.text),
            ),
            Some(_) if remark.chars().count() > 500 => {
                problems.push(FieldProblem::new("answers", "field-name-length").with("max", 500));
            }
            Some(result) => results.push(CheckResult {
                position: item.position,
                text: item.text.clone(),
                catalogue_code: item.catalogue_code.clone(),
                result,
                note: (!remark.is_empty()).then_some(remark),
            }),
        }
    }
    if input.answers.iter().any(|(p, _, _)| !template.items.iter().any(|i| i.position == *p)) {
        problems.push(FieldProblem::new("answers", "field-invalid"));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    if let Err(v) = rules::check_site(t.row.state) {
        let event = NewEvent::new("supervision.check_refused", "ticket", id)
            .unit(t.row.unit_id)
            .summary(serde_json::json!({ "number": t.row.number, "rule": v.rule.code }));
        return Err(work.refused(event, AppError::Rule(v)).await);
    }
    let now = work.now();
    let new = store::NewCheck {
        ticket: id,
        unit_id: t.row.unit_id,
        template: &template.code,
        ticket_state: t.row.state.code(),
        results: &results,
        note: (!note.is_empty()).then_some(note.as_str()),
        checked_by: &cap.actor().name,
    };
    let check = store::insert_check(work.conn(), &new, now).await?;
    keep_photo(&mut work, photo, "onsite_check", check, t.row.unit_id).await?;
    let failed: Vec<i64> = results.iter().filter(|r| r.result == rules::Finding::Fail).map(|r| r.position).collect();
    work.audit(NewEvent::new("supervision.checked", "ticket", id).unit(t.row.unit_id).summary(serde_json::json!({
        "number": t.row.number, "check": check, "template": template.code, "failed": failed,
    })))
    .await?;
    work.commit().await?;
    Ok(check)
}

/// A check with its answers, photos and the violations recorded from it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckDetail {
    pub row: CheckRow,
    pub results: Vec<CheckResult>,
    pub photos: Vec<AttachmentMeta>,
    /// (item position, violation id, number).
    pub violations: Vec<(i64, i64, String)>,
}

pub async fn check<P: ViolationsReach>(app: &App, cap: &Capability<P>, id: i64) -> Result<CheckDetail, AppError> {
    let mut conn = app.db().read().await?;
    let (row, results) = store::check(&mut conn, id).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &row.unit_path)?;
    let photos = gridsafe_store::customers::attachments_of(&mut conn, "onsite_check", id).await?;
    let violations = store::violations_of_check(&mut conn, id).await?;
    Ok(CheckDetail { row, results, photos, violations })
}

// ---- 违章 ----------------------------------------------------------------------------------

/// A violation as recorded on site.
#[derive(Debug, Clone, Default)]
pub struct ViolationInput {
    /// `person`, `team`, `contractor` or `customer`.
    pub offender: String,
    /// 工号 of the person.
    pub person: String,
    /// Code (编号) of the contractor.
    pub contractor: String,
    /// 户号 of the customer.
    pub customer: String,
    /// The team's name.
    pub team: String,
    /// The ticket's number, when the violation was at a ticket's work.
    pub ticket: String,
    /// Local `YYYY-MM-DDTHH:MM`; empty is now.
    pub occurred_at: String,
    pub place: String,
    pub class: String,
    pub severity: String,
    /// A catalogue entry (严重违章清单), whose title is the rule broken when none is written.
    pub catalogue: String,
    pub rule_broken: String,
    pub description: String,
    /// Who corrects it and by when (the hazard's plan); empty deadline: the grade's days.
    pub responsible: String,
    pub deadline: String,
    pub photo: Option<(String, Vec<u8>)>,
    /// The on-site check and its failed item (position) this violation was found at, if any.
    pub check: Option<(i64, i64)>,
}

/// What recording a violation did.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub id: i64,
    pub number: String,
    pub hazard_id: i64,
    /// The person's standing after it, when a person committed it.
    pub standing: Option<Standing>,
}

fn text_field(field: &'static str, text: &str, max: usize, required: bool, problems: &mut Vec<FieldProblem>) -> String {
    let t = trim_blank(text).to_owned();
    if (required && t.is_empty()) || t.chars().count() > max {
        problems.push(FieldProblem::new(field, "field-name-length").with("max", max));
    }
    t
}

/// Records a violation found on site: who (a person, a team, a contractor or a customer),
/// when and where, the ticket, class, severity and the rule broken, with its evidence; its
/// points count against the person (and the contractor of a contractor's worker) at once, so
/// a person whose points reach the threshold is suspended from field roles from then on. Its
/// correction is opened as a hazard in the one closed loop (a customer's: for the customer to
/// rectify, noticed by the customer manager), in the same transaction.
pub async fn record(
    app: &App,
    cap: &Capability<perm::ViolationsRecord>,
    meta: &RequestMeta,
    input: ViolationInput,
) -> Result<Recorded, AppError> {
    let mut problems = Vec::new();
    let offender = Offender::from_code(input.offender.trim());
    if offender.is_none() {
        problems.push(FieldProblem::new("offender", "field-invalid"));
    }
    let class = Class::from_code(input.class.trim());
    if class.is_none() {
        problems.push(FieldProblem::new("class", "field-invalid"));
    }
    let severity = Severity::from_code(input.severity.trim());
    if severity.is_none() {
        problems.push(FieldProblem::new("severity", "field-invalid"));
    }
    let place = text_field("place", &input.place, 200, true, &mut problems);
    let description = text_field("description", &input.description, 2000, true, &mut problems);
    let mut rule_broken = text_field("rule_broken", &input.rule_broken, 500, false, &mut problems);
    let team = text_field("team", &input.team, 100, offender == Some(Offender::Team), &mut problems);
    let responsible =
        text_field("responsible", &input.responsible, 100, offender != Some(Offender::Customer), &mut problems);
    let occurred_at = match trim_blank(&input.occurred_at) {
        "" => None,
        text => match crate::tickets::parse_local("occurred_at", text) {
            Ok(at) => Some(at),
            Err(AppError::Invalid(p)) => {
                problems.extend(p);
                None
            }
            Err(e) => return Err(e),
        },
    };
    let deadline = match trim_blank(&input.deadline) {
        "" => None,
        text => crate::people::parse_day("deadline", text, &mut problems),
    };
    if deadline.is_some_and(|d| d < app.today()) {
        problems.push(FieldProblem::new("deadline", "field-deadline-past"));
    }
    if occurred_at.is_some_and(|at| at > app.now()) {
        problems.push(FieldProblem::new("occurred_at", "field-future"));
    }
    let (Some(offender), Some(class), Some(severity)) = (offender, class, severity) else {
        return Err(AppError::Invalid(problems));
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let photo = checked_photo(app, &input.photo)?;
    let mut work = app.begin(cap.actor(), meta).await?;
    let conn = work.conn();
    // Who: looked up inside the transaction; each must exist and be in reach.
    let mut person_id = None;
    let mut contractor_id = None;
    let mut customer_id = None;
    let mut unit: Option<(UnitId, String)> = None;
    match offender {
        Offender::Person => {
            let Some(id) = gridsafe_store::people::id_by_code(conn, trim_blank(&input.person)).await? else {
                return Err(AppError::Invalid(vec![
                    FieldProblem::new("person", "field-person-code").with("value", trim_blank(&input.person)),
                ]));
            };
            gridsafe_store::people::lock(conn, &[id]).await?;
            let (path, unit_id, contractor) =
                gridsafe_store::supervision::person_place(conn, id).await?.ok_or(AppError::NotFound)?;
            person_id = Some(id);
            contractor_id = contractor;
            unit = Some((unit_id, path));
        }
        Offender::Contractor => {
            let found = gridsafe_store::people::contractor_id_by_code(conn, trim_blank(&input.contractor)).await?;
            let Some(id) = found else {
                return Err(AppError::invalid("contractor", "field-invalid"));
            };
            contractor_id = Some(id);
        }
        Offender::Customer => {
            let found = gridsafe_store::outages::customer_by_account(conn, trim_blank(&input.customer)).await?;
            let Some((id, unit_id, path)) = found else {
                return Err(AppError::invalid("customer", "field-invalid"));
            };
            customer_id = Some(id);
            unit = Some((unit_id, path));
        }
        Offender::Team => {}
    }
    // Found at a failed item of an on-site check: its ticket, its list entry and its words.
    let mut ticket_number = trim_blank(&input.ticket).to_owned();
    let mut from_check: Option<CheckResult> = None;
    if let Some((check, position)) = input.check {
        // A check named by the form that does not exist is a problem of the form, not a missing page.
        let (row, results) =
            store::check(conn, check).await?.ok_or_else(|| AppError::invalid("check_id", "field-invalid"))?;
        crate::identity::check_stored_path(cap, &row.unit_path)?;
        let item = results
            .into_iter()
            .find(|r| r.position == position && r.result == rules::Finding::Fail)
            .ok_or_else(|| AppError::invalid("check_item", "field-invalid"))?;
        ticket_number = row.ticket_number;
        from_check = Some(item);
    }
    let mut ticket_id = None;
    let mut plan_item_id = None;
    if !ticket_number.is_empty() {
        let found = gridsafe_store::supervision::ticket_by_number(conn, &ticket_number).await?;
        let Some((id, unit_id, path, item)) = found else {
            return Err(AppError::Invalid(vec![
                FieldProblem::new("ticket", "field-ticket-number").with("value", trim_blank(&input.ticket)),
            ]));
        };
        ticket_id = Some(id);
        plan_item_id = item;
        // The ticket's unit is where it happened, unless the offender has a unit of its own.
        if unit.is_none() || offender == Offender::Person {
            unit = Some((unit_id, path));
        }
    }
    let (unit_id, path) = match unit {
        Some(u) => u,
        None => {
            let own = cap.actor().user_id.ok_or_else(|| AppError::invalid("ticket", "field-required"))?;
            let account = gridsafe_store::identity::account_by_id(conn, own).await?.ok_or(AppError::NotFound)?;
            let home = gridsafe_store::identity::unit_by_id(conn, account.unit_id).await?.ok_or(AppError::NotFound)?;
            (home.id, home.path.as_str().to_owned())
        }
    };
    crate::identity::check_stored_path(cap, &path)?;
    let catalogue = match (trim_blank(&input.catalogue), &from_check) {
        ("", Some(item)) => item.catalogue_code.clone().unwrap_or_default(),
        (code, _) => code.to_owned(),
    };
    let catalogue = catalogue.as_str();
    if rule_broken.is_empty()
        && let Some(item) = &from_check
    {
        rule_broken = format!("现场检查不合格：{}", item.text);
    }
    let entry = if catalogue.is_empty() {
        None
    } else {
        let all = store::catalogue(conn).await?;
        Some(
            all.into_iter()
                .find(|e| e.code == catalogue)
                .ok_or_else(|| AppError::invalid("catalogue", "field-invalid"))?,
        )
    };
    if rule_broken.is_empty() {
        match &entry {
            Some(e) => rule_broken = e.title.clone(),
            None => return Err(AppError::Invalid(vec![FieldProblem::new("rule_broken", "field-required")])),
        }
    }
    // The correction of anyone's but a customer's violation is a person's of the register.
    let owner = match offender {
        Offender::Customer => None,
        _ => Some(crate::people::responsible(work.conn(), "responsible", &responsible).await?),
    };
    let now = work.now();
    let today = now.local_date();
    let number = gridsafe_store::numbers::next(work.conn(), "WZ", today).await?;
    let points = app.people_config().points_rules().points_of(severity);
    let new = store::NewViolation {
        number: &number,
        unit_id,
        offender,
        person_id,
        contractor_id,
        customer_id,
        team: (!team.is_empty()).then_some(team.as_str()),
        ticket_id,
        plan_item_id,
        occurred_at: occurred_at.unwrap_or(now),
        place: &place,
        class,
        severity,
        points,
        catalogue_code: entry.as_ref().map(|e| e.code.as_str()),
        rule_broken: &rule_broken,
        description: &description,
        recorded_by: &cap.actor().name,
    };
    let id = store::insert(work.conn(), &new, now).await?;
    if let (Some((check, position)), Some(_)) = (input.check, &from_check) {
        store::link_check(work.conn(), id, check, position).await?;
    }
    keep_photo(&mut work, photo, "violation", id, unit_id).await?;
    // Its correction, in the one closed loop.
    let title: String = format!("违章 {number} {rule_broken}").chars().take(100).collect();
    let customer = offender == Offender::Customer;
    let hazard = crate::customers::NewHazard {
        customer_id,
        inspection_id: None,
        source_kind: "violation",
        source_id: Some(id),
        unit_id,
        title: title.clone(),
        description: description.clone(),
        grade: app.crossaudit_config().finding_grade.clone(),
        responsibility: if customer {
            gridsafe_domain::hazards::Responsibility::Customer
        } else {
            gridsafe_domain::hazards::Responsibility::Grid
        },
        plan: owner.map(|(owner, owner_label)| crate::customers::HazardPlan {
            owner,
            owner_label,
            deadline: deadline
                .unwrap_or_else(|| today + chrono::Duration::days(i64::from(app.crossaudit_config().task_days))),
            task: title.clone(),
        }),
    };
    let (hazard_id, hazard_number) = crate::customers::insert_hazard(work.conn(), cap.actor(), &hazard, now).await?;
    store::set_hazard(work.conn(), id, hazard_id).await?;
    // The person's standing now, to say at once whether this suspended him.
    let standing = match person_id {
        Some(p) => {
            let facts = gridsafe_store::people::facts(work.conn(), &[p]).await?;
            facts.get(&p).map(|person| person.facts.standing(today, &app.people_config().role_rules()))
        }
        None => None,
    };
    work.audit(NewEvent::new("violation.recorded", "violation", id).unit(unit_id).summary(serde_json::json!({
        "number": number, "offender": offender.code(), "person": person_id, "contractor": contractor_id,
        "customer": customer_id, "ticket": ticket_id, "class": class.code(), "severity": severity.code(),
        "points": points, "hazard": hazard_number, "suspended": standing.as_ref().is_some_and(Standing::suspended),
    })))
    .await?;
    work.commit().await?;
    Ok(Recorded { id, number, hazard_id, standing })
}

/// Records the review meeting (说清楚) of a serious violation; refused for a lesser one or one
/// reviewed already.
pub async fn record_review(
    app: &App,
    cap: &Capability<perm::ViolationsReview>,
    meta: &RequestMeta,
    id: i64,
    note: &str,
) -> Result<(), AppError> {
    let note = trim_blank(note);
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(AppError::Invalid(vec![FieldProblem::new("note", "field-name-length").with("max", 2000)]));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let v = store::get(work.conn(), id, true).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &v.unit_path)?;
    if !v.severity.needs_review() || v.reviewed_at.is_some() {
        let refusal = gridsafe_domain::rules::Violation::of(gridsafe_domain::rules::VIOLATION_REVIEW)
            .with("violations", &v.number)
            .with("review", if v.reviewed_at.is_some() { "done" } else { "not_serious" });
        let event = NewEvent::new("violation.review_refused", "violation", id)
            .unit(v.unit_id)
            .summary(serde_json::json!({ "number": v.number }));
        return Err(work.refused(event, AppError::Rule(refusal)).await);
    }
    let now = work.now();
    if !store::record_review(work.conn(), id, note, &cap.actor().name, now).await? {
        return Err(AppError::Conflict("conflict-ticket-changed"));
    }
    work.audit(
        NewEvent::new("violation.reviewed", "violation", id)
            .unit(v.unit_id)
            .summary(serde_json::json!({ "number": v.number })),
    )
    .await?;
    work.commit().await?;
    Ok(())
}

/// A re-admission as recorded: the retraining's and the exam's days, the score and whether it
/// passed, a remark.
#[derive(Debug, Clone, Default)]
pub struct ReadmissionInput {
    pub trained_on: String,
    pub exam_on: String,
    pub score: String,
    pub passed: bool,
    pub note: String,
}

/// Re-admits a suspended person (再准入) after retraining and a passed exam, once the review
/// meetings of his serious violations are recorded: his points before it no longer count.
pub async fn readmit(
    app: &App,
    cap: &Capability<perm::ViolationsReview>,
    meta: &RequestMeta,
    person: PersonId,
    input: ReadmissionInput,
) -> Result<(), AppError> {
    let mut problems = Vec::new();
    let trained_on = crate::people::parse_day("trained_on", &input.trained_on, &mut problems);
    let exam_on = crate::people::parse_day("exam_on", &input.exam_on, &mut problems);
    let score = match trim_blank(&input.score) {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(s) if (0..=100).contains(&s) => Some(s),
            _ => {
                problems.push(FieldProblem::new("score", "field-score"));
                None
            }
        },
    };
    let note = text_field("note", &input.note, 500, false, &mut problems);
    let (Some(trained_on), Some(exam_on)) = (trained_on, exam_on) else {
        return Err(AppError::Invalid(problems));
    };
    if !problems.is_empty() {
        return Err(AppError::Invalid(problems));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    gridsafe_store::people::lock(work.conn(), &[person]).await?;
    let (path, unit_id, _) =
        gridsafe_store::supervision::person_place(work.conn(), person).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &path)?;
    let facts = gridsafe_store::people::facts(work.conn(), &[person]).await?;
    let p = facts.get(&person).ok_or(AppError::NotFound)?;
    let now = work.now();
    let standing = p.facts.standing(now.local_date(), &app.people_config().role_rules());
    let unreviewed = store::unreviewed_of(work.conn(), person).await?;
    let unreviewed: Vec<String> = unreviewed.into_iter().filter(|n| standing.counted.contains(n)).collect();
    if let Err(v) =
        rules::check_readmission(&standing, &unreviewed, trained_on, exam_on, input.passed, now.local_date())
    {
        let event = NewEvent::new("person.readmission_refused", "person", person)
            .unit(unit_id)
            .summary(serde_json::json!({ "person": p.label(), "rule": v.rule.code, "points": standing.points }));
        return Err(work.refused(event, AppError::Rule(v)).await);
    }
    let new = store::NewReadmission { person, trained_on, exam_on, score, note: &note, recorded_by: &cap.actor().name };
    store::insert_readmission(work.conn(), &new, now).await?;
    work.audit(NewEvent::new("person.readmitted", "person", person).unit(unit_id).summary(serde_json::json!({
        "person": p.label(), "points": standing.points, "violations": standing.counted, "exam_on": exam_on.to_string(),
        "score": score,
    })))
    .await?;
    work.commit().await?;
    Ok(())
}

/// Violations in reach, latest first.
pub async fn list<P: ViolationsReach>(
    app: &App,
    cap: &Capability<P>,
    filter: &ViolationFilter,
    limit: i64,
) -> Result<Vec<ViolationRow>, AppError> {
    Ok(store::list(&mut *app.db().read().await?, cap.scope(), filter, limit).await?)
}

/// A violation with its evidence.
#[derive(Debug, Clone, Serialize)]
pub struct ViolationDetail {
    #[serde(flatten)]
    pub row: ViolationRow,
    pub photos: Vec<AttachmentMeta>,
    /// The person's standing today, when a person committed it.
    pub standing: Option<Standing>,
}

pub async fn violation<P: ViolationsReach>(
    app: &App,
    cap: &Capability<P>,
    id: i64,
) -> Result<ViolationDetail, AppError> {
    let mut conn = app.db().read().await?;
    let row = store::get(&mut conn, id, false).await?.ok_or(AppError::NotFound)?;
    crate::identity::check_stored_path(cap, &row.unit_path)?;
    let photos = gridsafe_store::customers::attachments_of(&mut conn, "violation", id).await?;
    let standing = match row.person_id {
        Some(p) => standing_in(app, &mut conn, p).await?,
        None => None,
    };
    Ok(ViolationDetail { row, photos, standing })
}

async fn standing_in(
    app: &App,
    conn: &mut gridsafe_store::Conn,
    person: PersonId,
) -> Result<Option<Standing>, AppError> {
    let facts = gridsafe_store::people::facts(conn, &[person]).await?;
    Ok(facts.get(&person).map(|p| p.facts.standing(app.today(), &app.people_config().role_rules())))
}

/// A person's points today and re-admissions (the person's page shows them).
pub async fn person_points(app: &App, person: PersonId) -> Result<(Option<Standing>, Vec<Readmission>), AppError> {
    let mut conn = app.db().read().await?;
    let standing = standing_in(app, &mut conn, person).await?;
    let readmissions = store::readmissions_of(&mut conn, person).await?;
    Ok((standing, readmissions))
}

pub async fn catalogue(app: &App) -> Result<Vec<CatalogueEntry>, AppError> {
    Ok(store::catalogue(&mut *app.db().read().await?).await?)
}

// ---- 看板 ----------------------------------------------------------------------------------

/// One month's supervision figures for the units in reach.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Dashboard {
    pub month: String,
    pub total: usize,
    pub points: i64,
    /// Counts by class and by severity, in the domain's order.
    pub by_class: Vec<(Class, usize)>,
    pub by_severity: Vec<(Severity, usize)>,
    /// Counts by unit, by team and by contractor, largest first.
    pub by_unit: Vec<(String, usize)>,
    pub by_team: Vec<(String, usize)>,
    pub by_contractor: Vec<(String, usize)>,
    /// Started tickets needing a manager on site, and those that had one, by grade.
    pub attendance: Vec<AttendanceRate>,
    /// On-site checks recorded this month.
    pub checks: i64,
    /// Contractors on the watch list or proposed for the blacklist this period.
    pub watch: Vec<WatchRow>,
    /// Serious violations still waiting for their review meeting.
    pub awaiting_review: usize,
    /// The month's latest violations, at most [`LISTED`], latest first (the figures count all).
    #[serde(skip)]
    pub violations: Vec<ViolationRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttendanceRate {
    pub grade: u8,
    pub started: i64,
    pub attended: i64,
    /// Percent, one decimal; `None` when nothing started.
    pub rate: Option<f64>,
    /// Of those started, how many sites were checked on site (现场检查).
    pub checked: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WatchRow {
    pub contractor: String,
    pub points: i64,
    pub watch: rules::Watch,
}

/// Counts by key, largest first (ties by key).
fn ranked<K: Ord>(map: BTreeMap<K, usize>) -> Vec<(K, usize)> {
    let mut v: Vec<(K, usize)> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// The most of a month's violations its dashboard lists (the latest); its figures count all.
pub const LISTED: usize = 500;

/// Calls `each` with every violation in reach that `filter` takes, a batch at a time on `conn`.
async fn each_violation(
    conn: &mut gridsafe_store::Conn,
    scope: &[gridsafe_domain::access::UnitPath],
    filter: &ViolationFilter,
    mut each: impl FnMut(store::ViolationRow),
) -> Result<(), AppError> {
    let mut batches = crate::batches::Batches::new(None, crate::batches::BATCH);
    while let Some(after) = batches.next() {
        let rows = store::by_id(conn, scope, filter, after, crate::batches::BATCH).await?;
        batches.read(&rows, |v| v.id);
        rows.into_iter().for_each(&mut each);
    }
    Ok(())
}

/// The figures of `month` (`YYYY-MM`) in reach.
pub async fn dashboard<P: ViolationsReach>(app: &App, cap: &Capability<P>, month: &str) -> Result<Dashboard, AppError> {
    let first = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("month", "field-month"))?;
    let next =
        first.checked_add_months(chrono::Months::new(1)).ok_or_else(|| AppError::invalid("month", "field-month"))?;
    let (from, to) = (Timestamp::start_of_local_day(first), Timestamp::start_of_local_day(next));
    let mut conn = app.db().snapshot().await?;
    let filter = ViolationFilter { from: Some(from), to: Some(to), ..ViolationFilter::default() };
    // Every violation of the month counted, a batch at a time; the latest listed.
    let (mut total, mut points) = (0, 0);
    let (mut classes, mut severities) = (BTreeMap::new(), BTreeMap::new());
    let (mut units, mut teams, mut contractors) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut latest = crate::batches::Least::new(LISTED);
    each_violation(&mut conn, cap.scope(), &filter, |v| {
        total += 1;
        points += v.points;
        *classes.entry(v.class).or_insert(0) += 1;
        *severities.entry(v.severity).or_insert(0) += 1;
        *units.entry(v.unit_name.clone()).or_insert(0) += 1;
        if let Some(team) = &v.team {
            *teams.entry(team.clone()).or_insert(0) += 1;
        }
        if let Some(contractor) = &v.contractor {
            *contractors.entry(contractor.clone()).or_insert(0) += 1;
        }
        latest.offer(std::cmp::Reverse((v.occurred_at, v.id)), v);
    })
    .await?;
    // In the domain's order, only those that occurred.
    let by_class: Vec<(Class, usize)> = Class::ALL.iter().filter_map(|c| Some((*c, *classes.get(c)?))).collect();
    let by_severity: Vec<(Severity, usize)> =
        Severity::ALL.iter().filter_map(|s| Some((*s, *severities.get(s)?))).collect();
    let (checks, checked) = store::check_counts(&mut conn, cap.scope(), from, to).await?;
    let attendance = store::attendance_by_grade(&mut conn, cap.scope(), from, to)
        .await?
        .into_iter()
        .map(|(grade, (started, attended))| AttendanceRate {
            grade,
            started,
            attended,
            rate: (started > 0).then(|| (attended as f64 * 1000.0 / started as f64).round() / 10.0),
            checked: checked.get(&grade).copied().unwrap_or(0),
        })
        .collect();
    // Contractors' points over the points period (not only the month).
    let points_rules = app.people_config().points_rules();
    let period = Timestamp::start_of_local_day(points_rules.period_start(next.pred_opt().unwrap_or(first)));
    let watch = store::contractor_points(&mut conn, period, to)
        .await?
        .into_values()
        .map(|(contractor, points)| WatchRow {
            contractor,
            points,
            watch: rules::contractor_watch(u32::try_from(points).unwrap_or(u32::MAX), &points_rules),
        })
        .filter(|w| w.watch != rules::Watch::Clear)
        .collect();
    let awaiting = ViolationFilter { awaiting_review: true, ..ViolationFilter::default() };
    let mut awaiting_review = 0;
    each_violation(&mut conn, cap.scope(), &awaiting, |_| awaiting_review += 1).await?;
    Ok(Dashboard {
        month: month.to_owned(),
        total,
        points,
        by_class,
        by_severity,
        by_unit: ranked(units),
        by_team: ranked(teams),
        by_contractor: ranked(contractors),
        attendance,
        checks,
        watch,
        awaiting_review,
        violations: latest.into_sorted(),
    })
}

// ---- 待办 ----------------------------------------------------------------------------------

/// What `principal` must do about on-site supervision now, late first: go to graded work that
/// starts within a day and still waits for a manager of his roles (到岗), record his departure
/// from a site he is still at, hold the review meetings of serious violations (说清楚) and
/// re-admit suspended people.
pub async fn todo(
    app: &App,
    principal: &gridsafe_domain::access::Principal,
) -> Result<Vec<crate::home::Todo>, AppError> {
    use gridsafe_domain::tickets::State::*;
    let now = app.now();
    let mut out = Vec::new();
    if let (Ok(cap), Some(user)) = (principal.authorize::<perm::SupervisionAttend>(), principal.user_id()) {
        let soon = Timestamp::from_utc(now.as_utc() + chrono::Duration::hours(24));
        let filter = crate::tickets::TicketFilter {
            starting: Some((Timestamp::from_utc(now.as_utc() - chrono::Duration::days(2)), soon)),
            ..Default::default()
        };
        // A site he has not left, wherever and whenever it was.
        if let Some(stay) = store::open_stay(&mut *app.db().read().await?, user).await?
            && let Ok(t) = crate::tickets::ticket(app, &cap, stay.ticket_id).await
        {
            out.push(crate::home::Todo {
                what: "home-todo-onsite-depart",
                link: format!("/tickets/{}#onsite", t.row.id),
                subject: format!("{} · {}", t.row.number, t.row.location),
                word: None,
                due: t.row.end().local_display(),
                late: t.row.end() < now,
            });
        }
        // His roles, asked once per unit the tickets are in.
        let mut roles_at: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
        for row in crate::tickets::list_tickets(app, &cap, &filter, 50).await? {
            if !matches!(row.state, Issued | Received | Permitted) {
                continue;
            }
            let t = crate::tickets::ticket(app, &cap, row.id).await?;
            let subject = format!("{} · {}", t.row.number, t.row.location);
            if !roles_at.contains_key(&t.row.unit_path) {
                let unit = crate::people::stored_path(&t.row.unit_path)?;
                let held = store::roles_for(&mut *app.db().read().await?, user, &unit).await?;
                roles_at.insert(t.row.unit_path.clone(), held);
            }
            let roles = &roles_at[&t.row.unit_path];
            let mine_to_do = t.on_site.required.iter().any(|r| roles.contains(r));
            let someone_there = t.on_site.facts(t.risk.level, true).satisfied_at(now);
            if mine_to_do && !someone_there {
                out.push(crate::home::Todo {
                    what: "home-todo-onsite-arrive",
                    link: format!("/tickets/{}#onsite", row.id),
                    subject,
                    word: None,
                    due: t.row.planned_start.local_display(),
                    late: t.row.planned_start <= now,
                });
            }
        }
    }
    if let Ok(cap) = principal.authorize::<perm::ViolationsReview>() {
        let mut conn = app.db().read().await?;
        let awaiting = ViolationFilter { awaiting_review: true, ..ViolationFilter::default() };
        for v in store::list(&mut conn, cap.scope(), &awaiting, 100).await? {
            out.push(crate::home::Todo {
                what: "home-todo-violation-review",
                link: format!("/violations/{}#review", v.id),
                subject: format!("{} · {}", v.number, v.person.clone().or(v.contractor.clone()).unwrap_or(v.place)),
                word: None,
                due: v.occurred_at.local_display(),
                late: false,
            });
        }
        // People whose points this period suspend them.
        let rules = app.people_config().role_rules();
        let from = Timestamp::start_of_local_day(rules.points.period_start(now.local_date()));
        let recent = ViolationFilter { from: Some(from), ..ViolationFilter::default() };
        // Each person with a violation this period, with their first; however many the period holds.
        let mut first: BTreeMap<PersonId, i64> = BTreeMap::new();
        each_violation(&mut conn, cap.scope(), &recent, |v| {
            if let Some(p) = v.person_id {
                first.entry(p).or_insert(v.id);
            }
        })
        .await?;
        let people: Vec<(PersonId, i64)> = first.into_iter().collect();
        let ids: Vec<PersonId> = people.iter().map(|(p, _)| *p).collect();
        let facts = gridsafe_store::people::facts(&mut conn, &ids).await?;
        for (p, violation) in people {
            if let Some(person) = facts.get(&p)
                && person.facts.standing(now.local_date(), &rules).suspended()
            {
                out.push(crate::home::Todo {
                    what: "home-todo-person-suspended",
                    link: format!("/violations/{violation}#standing"),
                    subject: person.label(),
                    word: None,
                    due: now.local_display(),
                    late: false,
                });
            }
        }
    }
    out.sort_by_key(|t| !t.late);
    Ok(out)
}

// ---- 违章清单 ------------------------------------------------------------------------------

/// The columns of a violation list: key, Chinese header, required.
const LIST_COLUMNS: [(&str, &str, bool); 5] = [
    ("code", "编号", true),
    ("title", "违章内容", true),
    ("class", "违章性质", true),
    ("severity", "严重程度", true),
    ("origin", "来源", false),
];

/// Most entries one list holds.
pub const MAX_LIST_ROWS: usize = 2000;

/// Loads a violation list (严重违章清单, CSV or `.xlsx`, Chinese or English headers): entries
/// added, those whose code is known updated; every problem named by file, line and column, and
/// nothing written when there is one. Answers (added, updated).
pub async fn import_catalogue(
    app: &App,
    cap: &Capability<perm::ViolationsReview>,
    meta: &RequestMeta,
    files: &[(String, Vec<u8>)],
) -> Result<Result<(usize, usize), Vec<crate::customers::RowProblem>>, AppError> {
    use gridsafe_sheet::Cell;
    let tables = match crate::customers::read_files(files) {
        Ok(t) => t,
        Err(p) => return Ok(Err(p)),
    };
    let problem = |file: &str, line: usize, column: String, value: String, message: &'static str| {
        crate::customers::RowProblem { file: file.to_owned(), line, column, value, message, args: Vec::new() }
    };
    let mut problems = Vec::new();
    let mut entries: Vec<CatalogueEntry> = Vec::new();
    for t in &tables {
        let positions = match crate::customers::locate_columns(t, &LIST_COLUMNS) {
            Ok(at) => at,
            Err(missing) => {
                problems.push(missing);
                continue;
            }
        };
        for row in &t.rows {
            if row.cells.iter().all(Cell::is_empty) {
                continue;
            }
            if entries.len() >= MAX_LIST_ROWS {
                problems.push(crate::customers::RowProblem::too_many_rows(t, row.line, MAX_LIST_ROWS));
                break;
            }
            let at = |i: usize| positions[i].and_then(|p| row.cells.get(p)).map(Cell::shown).unwrap_or_default();
            let header = |i: usize| positions[i].and_then(|p| t.headers.get(p).cloned()).unwrap_or_default();
            let (code, title, class, severity, origin) = (at(0), at(1), at(2), at(3), at(4));
            let code = trim_blank(&code).to_owned();
            let title = trim_blank(&title).to_owned();
            let mut bad = |i: usize, value: &str, message: &'static str| {
                problems.push(problem(&t.source, row.line, header(i), gridsafe_sheet::quoted(value), message));
            };
            if code.is_empty() || code.chars().count() > 40 {
                bad(0, &code, "field-violation-code");
            } else if entries.iter().any(|e| e.code == code) {
                bad(0, &code, "field-violation-code-twice");
            }
            if title.is_empty() || title.chars().count() > 500 {
                bad(1, &title, "field-violation-title");
            }
            let (read_class, read_severity) = (Class::read(&class), Severity::read(&severity));
            if read_class.is_none() {
                bad(2, &class, "field-violation-class");
            }
            if read_severity.is_none() {
                bad(3, &severity, "field-violation-severity");
            }
            if let (Some(class), Some(severity)) = (read_class, read_severity) {
                let origin = trim_blank(&origin).chars().take(500).collect::<String>();
                let origin = if origin.is_empty() { format!("导入：{}", t.source) } else { origin };
                entries.push(CatalogueEntry { code, title, class, severity, origin });
            }
        }
    }
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let mut work = app.begin(cap.actor(), meta).await?;
    let (added, updated) = store::upsert_catalogue(work.conn(), &entries).await?;
    let names: Vec<&str> = tables.iter().map(|t| t.source.as_str()).collect();
    work.audit(NewEvent::new("violation_list.imported", "violation_catalogue", "list").summary(serde_json::json!({
        "files": names, "added": added, "updated": updated,
    })))
    .await?;
    work.commit().await?;
    Ok(Ok((added, updated)))
}
