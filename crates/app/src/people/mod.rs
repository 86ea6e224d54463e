//! People, qualifications and contractors (人员资质与外包单位): the registers every later module
//! asks before it puts someone on work.
//!
//! Access has two shapes. Staff with `people.view` / `people.manage` (or the contractor
//! permissions) reach the people and contractors of their units; a contractor's own
//! administrator (`contractor.own`) reaches only their company's workers and documents. Both
//! become a [`Reach`], which every query here is filtered by.

mod contractors;
mod expiry;
mod import;
mod persons;

pub use contractors::{
    AgreementInput, AgreementRow, ContractorInput, ContractorRow, RATINGS, RatingRow, add_agreement, add_rating,
    agreements_of, confirm_agreement, contractor, contractor_facts, list_contractors, ratings_of, save_contractor,
    set_blacklist,
};
pub use expiry::{Expiring, expiring, record_expiry_warnings};
pub(crate) use import::read_file;
pub use import::{
    Counts, ImportOptions, ImportPlan, ImportReport, Progress, apply_import, apply_import_with_progress, forget_upload,
    load_upload, plan_import, read_upload, store_upload,
};
pub use persons::{
    PersonInput, PersonRow, QualificationInput, QualificationRow, add_qualification, confirm_qualification,
    delete_qualification, link_account, list_people, may_act, people_page, person, person_facts, pick,
    qualifications_of, save_person,
};

use std::marker::PhantomData;

use gridsafe_domain::access::{Actor, Capability, PermissionMarker, UnitPath, perm};

use crate::{App, AppError};

/// Reading people, qualifications, contractors and agreements.
#[derive(Debug, Clone, Copy)]
pub struct View;
/// Changing people, qualifications and agreements.
#[derive(Debug, Clone, Copy)]
pub struct Manage;

/// The permissions that give a [`Reach`] over units, and what they allow.
pub trait UnitReach: PermissionMarker {
    type Mode;
}
impl UnitReach for perm::PeopleView {
    type Mode = View;
}
impl UnitReach for perm::PeopleManage {
    type Mode = Manage;
}
impl UnitReach for perm::ContractorsView {
    type Mode = View;
}
impl UnitReach for perm::ContractorsManage {
    type Mode = Manage;
}

/// Which people and contractors a caller reaches, and whether to read (`Reach<View>`) or to
/// change (`Reach<Manage>`), proven by a capability.
#[derive(Debug, Clone)]
pub struct Reach<M> {
    actor: Actor,
    units: Vec<UnitPath>,
    /// Set for a contractor's own administrator: only this contractor.
    contractor: Option<i64>,
    mode: PhantomData<M>,
}

impl<M> Reach<M> {
    /// The units of a capability, and everything below them.
    pub fn units<P: UnitReach<Mode = M>>(cap: &Capability<P>) -> Self {
        Self { actor: cap.actor().clone(), units: cap.scope().to_vec(), contractor: None, mode: PhantomData }
    }

    /// A contractor administrator's own company (to read, or to maintain its workers and
    /// documents): the contractor of the person linked to their account.
    pub async fn own_contractor(app: &App, cap: &Capability<perm::OwnContractor>) -> Result<Self, AppError> {
        let user = cap.actor().user_id.ok_or(AppError::NotFound)?;
        let contractor = gridsafe_store::people::contractor_of_account(&mut *app.db().read().await?, user)
            .await?
            .ok_or(AppError::Denied(gridsafe_domain::access::Denied::OutsideScope(cap.permission())))?;
        Ok(Self { actor: cap.actor().clone(), units: Vec::new(), contractor: Some(contractor), mode: PhantomData })
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn contractor(&self) -> Option<i64> {
        self.contractor
    }

    /// What the store's queries are filtered by.
    pub(crate) fn scope(&self) -> gridsafe_store::people::Scope<'_> {
        match self.contractor {
            Some(id) => gridsafe_store::people::Scope::Contractor(id),
            None => gridsafe_store::people::Scope::Units(&self.units),
        }
    }

    /// Whether a record of this unit and contractor is in reach.
    pub(crate) fn covers(&self, unit: &UnitPath, contractor: Option<i64>) -> bool {
        match self.contractor {
            Some(own) => contractor == Some(own),
            None => self.units.iter().any(|s| unit.is_within(s)),
        }
    }
}

/// The outside-reach refusal, to be audited by the caller.
pub(crate) fn outside() -> AppError {
    AppError::Denied(gridsafe_domain::access::Denied::OutsideScope(gridsafe_domain::access::Permission::PeopleView))
}

/// A date field of a form or request.
pub(crate) fn parse_day(
    field: &'static str,
    text: &str,
    problems: &mut Vec<crate::FieldProblem>,
) -> Option<chrono::NaiveDate> {
    let parsed = gridsafe_sheet::parse_date(&gridsafe_sheet::Cell::Text(text.to_owned())).ok();
    if parsed.is_none() {
        problems.push(crate::FieldProblem::new(field, "field-date"));
    }
    parsed
}

/// A date as the store keeps it (`YYYY-MM-DD`).
pub(crate) fn stored_day(text: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// A 工号 or a contractor's number: 1–40 letters, digits, `-`, `_` or `.`.
pub(crate) fn check_code(code: &str, problems: &mut Vec<crate::FieldProblem>) {
    let ok = (1..=40).contains(&code.chars().count())
        && code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        problems.push(crate::FieldProblem::new("code", "field-record-code-format"));
    }
}

/// A unit path as the store keeps it; one that does not parse is a corrupt row.
pub(crate) fn stored_path(text: &str) -> Result<UnitPath, AppError> {
    Ok(UnitPath::parse(text).ok_or(gridsafe_store::StoreError::Corrupt {
        table: "org_units",
        column: "path",
        value: text.to_owned(),
    })?)
}

/// A correction assigned as a form gives it (整改责任人 and 期限): the register's person named in
/// `responsible` and a deadline (`YYYY-MM-DD`) not before `today`; each problem is added to
/// `problems` on the fields `responsible` and `deadline`, and none is then returned.
pub(crate) async fn assignment(
    conn: &mut gridsafe_store::Conn,
    responsible: &str,
    deadline: &str,
    today: chrono::NaiveDate,
    problems: &mut Vec<crate::FieldProblem>,
) -> Result<Option<(gridsafe_domain::ids::PersonId, String, chrono::NaiveDate)>, crate::AppError> {
    let owner = match self::responsible(conn, "responsible", responsible).await {
        Ok(o) => Some(o),
        Err(crate::AppError::Invalid(list)) => {
            problems.extend(list);
            None
        }
        Err(e) => return Err(e),
    };
    let day = chrono::NaiveDate::parse_from_str(deadline.trim(), "%Y-%m-%d").ok().filter(|d| *d >= today);
    if day.is_none() {
        problems.push(crate::FieldProblem::new("deadline", "field-emergency-deadline").with("value", deadline.trim()));
    }
    Ok(owner.zip(day).map(|((person, label), day)| (person, label, day)))
}

/// The register's person a form names as responsible (整改责任人): by 工号, the first word of what
/// the person picker fills in (`XG1004 张伟`). Anyone else is refused on `field`, naming what was
/// typed: rectification is a person's, whose home page then lists it.
pub(crate) async fn responsible(
    conn: &mut gridsafe_store::Conn,
    field: &'static str,
    text: &str,
) -> Result<(gridsafe_domain::ids::PersonId, String), crate::AppError> {
    let code = text.split_whitespace().next().unwrap_or_default();
    let found = if code.is_empty() { None } else { gridsafe_store::people::named(conn, code).await? };
    found.ok_or_else(|| {
        if text.trim().is_empty() {
            crate::AppError::invalid(field, "field-required")
        } else {
            crate::AppError::Invalid(vec![
                crate::FieldProblem::new(field, "field-responsible-person").with("value", text.trim()),
            ])
        }
    })
}
