//! Identity and access (账号与权限): organisation units, users and their roles, sign-in and
//! sessions, API tokens, and account hygiene (dormant accounts, permission reviews).

mod auth;
mod hashing;
mod hygiene;
mod roles;
mod tokens;
mod units;
mod users;

pub use auth::{
    CurrentUser, LoginRefusal, SESSION_COOKIE, authenticate_session, authenticate_token, change_password, login, logout,
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

use gridsafe_domain::access::{Capability, PermissionMarker, UnitPath};

use crate::AppError;

/// The capability reaches the unit whose stored path is `path` (the refusal otherwise).
pub(crate) fn check_stored_path<P: PermissionMarker>(cap: &Capability<P>, path: &str) -> Result<(), AppError> {
    let path = UnitPath::parse(path).ok_or_else(|| AppError::internal("unit path"))?;
    Ok(cap.check(&path)?)
}

/// `column LIKE 'path%' OR …` for every path of a scope, with the bind values to add.
pub(crate) fn scope_clause(column: &str, scope: &[UnitPath], first_bind: usize) -> (String, Vec<String>) {
    if scope.is_empty() {
        return ("1 = 0".to_owned(), Vec::new());
    }
    let terms: Vec<String> = (0..scope.len()).map(|i| format!("{column} LIKE ${}", first_bind + i)).collect();
    (format!("({})", terms.join(" OR ")), scope.iter().map(|p| format!("{}%", p.as_str())).collect())
}
