//! Stored values back into the domain's types. A value that does not decode is
//! [`StoreError::Corrupt`], naming the table, the column and the value, never a bare string.

use chrono::NaiveDate;
use gridsafe_domain::time::Timestamp;
use serde::de::DeserializeOwned;
use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use crate::StoreError;

/// A value a row hands over: text or a whole number, maybe absent.
pub(crate) trait Value: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + DeserializeOwned {}

impl<T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + DeserializeOwned> Value for T {}

/// What a row decoder reads from: a row as the driver hands it over, or one row of a list the
/// database packed into one value ([`crate::packed`]). A decoder written once reads both.
pub(crate) trait Fields {
    fn field<T: Value>(&self, column: &str) -> Result<T, StoreError>;
}

impl Fields for AnyRow {
    fn field<T: Value>(&self, column: &str) -> Result<T, StoreError> {
        Ok(self.try_get(column)?)
    }
}

/// One row of a packed list: its values in the order of `columns`.
pub(crate) struct Packed {
    pub(crate) table: &'static str,
    pub(crate) columns: std::sync::Arc<[&'static str]>,
    pub(crate) values: Vec<serde_json::Value>,
}

impl Fields for Packed {
    fn field<T: Value>(&self, column: &str) -> Result<T, StoreError> {
        let i = self
            .columns
            .iter()
            .position(|c| *c == column)
            .ok_or_else(|| StoreError::Sql(sqlx::Error::ColumnNotFound(column.to_owned())))?;
        let value = self.values.get(i).unwrap_or(&serde_json::Value::Null);
        T::deserialize(value).map_err(|_| StoreError::Corrupt {
            table: self.table,
            column: self.columns[i],
            value: value.to_string(),
        })
    }
}

/// A typed id (`TicketId`, `PersonId`, `UnitId`…) from its integer column.
pub(crate) fn id<T: From<i64>>(r: &impl Fields, column: &str) -> Result<T, StoreError> {
    Ok(T::from(r.field::<i64>(column)?))
}

pub(crate) fn opt_id<T: From<i64>>(r: &impl Fields, column: &str) -> Result<Option<T>, StoreError> {
    Ok(r.field::<Option<i64>>(column)?.map(T::from))
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
