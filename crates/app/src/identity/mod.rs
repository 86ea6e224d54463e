//! Identity and access (账号与权限): organisation units, users and their roles, sign-in and
//! sessions, API tokens, and account hygiene (dormant accounts, permission reviews).

mod access;
mod auth;
mod hashing;
mod hygiene;
mod roles;
mod tokens;
mod units;
mod users;

pub use access::{authorize, checked, deny, session_only};
pub(crate) use auth::SignedIn;
pub use auth::{
    CurrentUser, LoginRefusal, SESSION_COOKIE, authenticate_session, authenticate_token, change_password,
    confirm_signature, login, logout, signature_asks_password,
};
pub use hashing::HashGate;
pub use hygiene::{DormancyReport, accounts_for_review, bootstrap_admin, record_review, run_dormancy, unlock};
pub use roles::{RoleInfo, list_roles, set_role_permissions};
pub use tokens::{NewToken, TokenInfo, TokenRevocation, create_token, list_tokens, revoke_token};
pub(crate) use units::check_name;
pub use units::{NewUnit, Unit, UnitKind, create_unit, list_units, rename_unit, unit_by_code, unit_by_id};
pub use users::{
    AccountAdmin, AccountAuthority, NewUser, RoleGrant, UserStatus, UserSummary, create_user, get_user, grant_role,
    list_users, reset_password, revoke_role, set_disabled,
};

use gridsafe_domain::access::{Capability, PermissionMarker};

use crate::AppError;

/// The capability reaches the unit whose stored path is `path` (the refusal otherwise).
pub(crate) fn check_stored_path<P: PermissionMarker>(cap: &Capability<P>, path: &str) -> Result<(), AppError> {
    Ok(cap.check(&crate::people::stored_path(path)?)?)
}
