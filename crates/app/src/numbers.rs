//! Numbers of documents, counted in the transaction that stores the document.

use chrono::NaiveDate;

use crate::AppError;

/// The next number for `prefix` in the month of `day` (see [`gridsafe_store::numbers::next`]).
pub(crate) async fn next(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    prefix: &str,
    day: NaiveDate,
) -> Result<String, AppError> {
    Ok(gridsafe_store::numbers::next(tx, prefix, day).await?)
}
