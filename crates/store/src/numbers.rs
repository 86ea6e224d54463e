//! Numbers of documents: `PREFIX-YYYYMM-NNNN`, counted per prefix and month (China time) in
//! the same transaction as the document, so that two at once never get the same number.

use chrono::NaiveDate;

use crate::{Conn, StoreError};

/// The next number for `prefix` in the month of `day` (工作票 `DY-202611-0001`, 检查通知书 `JC-…`,
/// 隐患 `YH-…`). Call it inside the write transaction that stores the document.
pub async fn next(conn: &mut Conn, prefix: &str, day: NaiveDate) -> Result<String, StoreError> {
    let month = day.format("%Y%m").to_string();
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO ticket_numbers (prefix, month, last) VALUES ($1, $2, 1) \
         ON CONFLICT (prefix, month) DO UPDATE SET last = ticket_numbers.last + 1 RETURNING last",
    )
    .bind(prefix)
    .bind(&month)
    .fetch_one(&mut *conn)
    .await?;
    Ok(format!("{prefix}-{month}-{seq:04}"))
}
