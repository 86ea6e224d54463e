//! People, qualifications and contractors (人员资质与外包单位): registers, the role question,
//! expiry warnings, import and ledgers.

mod contractors;
mod import;
mod persons;

use gridsafe_app::people::{Manage, Reach, View};
use gridsafe_domain::access::perm;

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::routes::Routes;

pub use contractors::api as contractor_api;
pub use import::{api as import_api, problem_line, upload_form};
pub use persons::{api as person_api, xlsx_file};

pub fn routes() -> Routes {
    persons::routes().merge(contractors::routes()).merge(import::routes())
}

/// The people a request reaches: staff by their units (`people.view`), a contractor's
/// administrator their own company only. Refusals are audited.
pub async fn view_reach(state: &AppState, auth: &Auth) -> Result<Reach<View>, AppError> {
    let p = &auth.user.principal;
    if let Ok(cap) = p.authorize::<perm::PeopleView>() {
        return Ok(Reach::units(&cap));
    }
    if let Ok(cap) = p.authorize::<perm::OwnContractor>() {
        return auth.checked(state, Reach::own_contractor(state.app(), &cap).await).await;
    }
    Err(auth.require::<perm::PeopleView>(state).await.err().unwrap_or_else(crate::auth::not_found))
}

/// As [`view_reach`], to change people, qualifications and agreements.
pub async fn manage_reach(state: &AppState, auth: &Auth) -> Result<Reach<Manage>, AppError> {
    let p = &auth.user.principal;
    if let Ok(cap) = p.authorize::<perm::PeopleManage>() {
        return Ok(Reach::units(&cap));
    }
    if let Ok(cap) = p.authorize::<perm::OwnContractor>() {
        return auth.checked(state, Reach::own_contractor(state.app(), &cap).await).await;
    }
    Err(auth.require::<perm::PeopleManage>(state).await.err().unwrap_or_else(crate::auth::not_found))
}

/// The contractors a request reaches.
pub async fn contractor_view_reach(state: &AppState, auth: &Auth) -> Result<Reach<View>, AppError> {
    let p = &auth.user.principal;
    if let Ok(cap) = p.authorize::<perm::ContractorsView>() {
        return Ok(Reach::units(&cap));
    }
    if let Ok(cap) = p.authorize::<perm::OwnContractor>() {
        return auth.checked(state, Reach::own_contractor(state.app(), &cap).await).await;
    }
    Err(auth.require::<perm::ContractorsView>(state).await.err().unwrap_or_else(crate::auth::not_found))
}

/// To record a contractor's documents (agreements): staff managing contractors, or the
/// contractor's own administrator.
pub async fn documents_reach(state: &AppState, auth: &Auth) -> Result<Reach<Manage>, AppError> {
    let p = &auth.user.principal;
    if let Ok(cap) = p.authorize::<perm::ContractorsManage>() {
        return Ok(Reach::units(&cap));
    }
    if let Ok(cap) = p.authorize::<perm::OwnContractor>() {
        return auth.checked(state, Reach::own_contractor(state.app(), &cap).await).await;
    }
    Err(auth.require::<perm::ContractorsManage>(state).await.err().unwrap_or_else(crate::auth::not_found))
}

pub use crate::error::{Refusal, refusal};

/// A name for a qualification kind.
pub fn kind_name(lang: Lang, code: &str) -> String {
    lang.t(&format!("qual-kind-{code}"))
}
