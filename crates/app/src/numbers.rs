//! Numbers of documents: `PREFIX-YYYYMM-NNNN`, counted per prefix and month (China time) in
//! the same transaction as the document, so that two at once never get the same number.

use chrono::NaiveDate;
use sqlx::Row;

use crate::AppError;

/// The next number for `prefix` in the month of `day` (工作票 `DY-202611-0001`, 检查通知书 `JC-…`,
/// 隐患 `YH-…`).
pub(crate) async fn next(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    prefix: &str,
    day: NaiveDate,
) -> Result<String, AppError> {
    let month = day.format("%Y%m").to_string();
    let seq: i64 = sqlx::query(
        "INSERT INTO ticket_numbers (prefix, month, last) VALUES ($1, $2, 1) \
         ON CONFLICT (prefix, month) DO UPDATE SET last = ticket_numbers.last + 1 RETURNING last",
    )
    .bind(prefix)
    .bind(&month)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    Ok(format!("{prefix}-{month}-{seq:04}"))
}
