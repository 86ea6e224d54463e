//! What only the demo writes: a fictional history that no use case would (deadlines in the
//! past, accounts already in use).

use gridsafe_domain::time::Timestamp;

use crate::{Conn, StoreError};

/// Moves a hazard's deadline (and its plan's tasks') to `deadline`, and its registration to
/// `registered_on` when given: the demo's hazards look weeks old.
pub async fn backdate_hazard(
    conn: &mut Conn,
    hazard_id: i64,
    deadline: &str,
    registered_on: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE hazards SET deadline = $1, registered_on = COALESCE($2, registered_on) WHERE id = $3")
        .bind(deadline)
        .bind(registered_on)
        .bind(hazard_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE rectification_tasks SET deadline = $1 WHERE source_kind = 'hazard' AND source_id = $2")
        .bind(deadline)
        .bind(hazard_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A demo account that has chosen its password and signed in at `at`.
pub async fn settle_account(conn: &mut Conn, user_id: i64, at: Timestamp) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET must_change_password = 0, last_login_at = $1 WHERE id = $2")
        .bind(at.to_db())
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
