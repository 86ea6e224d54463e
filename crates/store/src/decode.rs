//! Stored values back into the domain's types. A value that does not decode is
//! [`StoreError::Corrupt`], naming the table, the column and the value, never a bare string.

use chrono::NaiveDate;
use gridsafe_domain::time::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::StoreError;

/// A typed id (`TicketId`, `PersonId`, `UnitId`…) from its integer column.
pub(crate) fn id<T: From<i64>>(r: &AnyRow, column: &str) -> Result<T, StoreError> {
    Ok(T::from(r.try_get::<i64, _>(column)?))
}

pub(crate) fn opt_id<T: From<i64>>(r: &AnyRow, column: &str) -> Result<Option<T>, StoreError> {
    Ok(r.try_get::<Option<i64>, _>(column)?.map(T::from))
}

/// A stored code through the domain's parser.
pub(crate) fn code<T>(
    table: &'static str,
    column: &'static str,
    text: String,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, StoreError> {
    parse(&text).ok_or(StoreError::Corrupt { table, column, value: text })
}

/// A stored instant (`Timestamp::to_db`).
pub(crate) fn stamp(table: &'static str, column: &'static str, text: String) -> Result<Timestamp, StoreError> {
    code(table, column, text, Timestamp::from_db)
}

pub(crate) fn opt_stamp(
    table: &'static str,
    column: &'static str,
    text: Option<String>,
) -> Result<Option<Timestamp>, StoreError> {
    text.map(|t| stamp(table, column, t)).transpose()
}

/// A stored day (`YYYY-MM-DD`).
pub(crate) fn day(table: &'static str, column: &'static str, text: String) -> Result<NaiveDate, StoreError> {
    code(table, column, text, |t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
}

pub(crate) fn opt_day(
    table: &'static str,
    column: &'static str,
    text: Option<String>,
) -> Result<Option<NaiveDate>, StoreError> {
    text.map(|t| day(table, column, t)).transpose()
}

/// A small stored number (a level) that must fit in a byte.
pub(crate) fn small(table: &'static str, column: &'static str, value: Option<i64>) -> Result<Option<u8>, StoreError> {
    value.map(|v| u8::try_from(v).map_err(|_| StoreError::Corrupt { table, column, value: v.to_string() })).transpose()
}
