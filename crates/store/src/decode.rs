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
pub(crate) struct Packed<'a> {
    pub(crate) table: &'static str,
    pub(crate) columns: &'a [&'static str],
    pub(crate) values: Vec<Cell<'a>>,
}

impl Fields for Packed<'_> {
    fn field<T: Value>(&self, column: &str) -> Result<T, StoreError> {
        let i = self
            .columns
            .iter()
            .position(|c| *c == column)
            .ok_or_else(|| StoreError::Sql(sqlx::Error::ColumnNotFound(column.to_owned())))?;
        let value = self.values.get(i).unwrap_or(&Cell::Null);
        T::deserialize(value).map_err(|_: serde::de::value::Error| StoreError::Corrupt {
            table: self.table,
            column: self.columns[i],
            value: value.to_string(),
        })
    }
}

/// One value of a packed row. Text without escapes is borrowed from the packed JSON, so a
/// decoded row copies each text once (through `serde_json::Value` it was copied twice, and
/// reading the packed rows was a sixth of the ticket list's CPU).
#[derive(Debug, Clone)]
pub(crate) enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(std::borrow::Cow<'a, str>),
}

impl std::fmt::Display for Cell<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Null => f.write_str("null"),
            Cell::Bool(b) => write!(f, "{b}"),
            Cell::Int(n) => write!(f, "{n}"),
            Cell::Real(x) => write!(f, "{x}"),
            Cell::Text(t) => f.write_str(t),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Cell<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CellVisitor;
        impl<'de> serde::de::Visitor<'de> for CellVisitor {
            type Value = Cell<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON scalar")
            }
            fn visit_unit<E>(self) -> Result<Cell<'de>, E> {
                Ok(Cell::Null)
            }
            fn visit_none<E>(self) -> Result<Cell<'de>, E> {
                Ok(Cell::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Cell<'de>, E> {
                Ok(Cell::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Cell<'de>, E> {
                Ok(Cell::Int(n))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Cell<'de>, E> {
                Ok(i64::try_from(n).map_or(Cell::Real(n as f64), Cell::Int))
            }
            fn visit_f64<E>(self, x: f64) -> Result<Cell<'de>, E> {
                Ok(Cell::Real(x))
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Cell<'de>, E> {
                Ok(Cell::Text(std::borrow::Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Cell<'de>, E> {
                Ok(Cell::Text(std::borrow::Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Cell<'de>, E> {
                Ok(Cell::Text(std::borrow::Cow::Owned(s)))
            }
        }
        deserializer.deserialize_any(CellVisitor)
    }
}

/// A cell read as the type a decoder asks for: absent is `None`, anything else `Some`.
impl<'de> serde::Deserializer<'de> for &Cell<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Cell::Null => visitor.visit_unit(),
            Cell::Bool(b) => visitor.visit_bool(*b),
            Cell::Int(n) => visitor.visit_i64(*n),
            Cell::Real(x) => visitor.visit_f64(*x),
            Cell::Text(t) => visitor.visit_str(t),
        }
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Cell::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::{Cell, Fields, Packed};
    use crate::StoreError;

    /// A packed row reads as the driver's would: numbers, text with and without escapes, absent
    /// values; a value of the wrong kind is `Corrupt`, naming table, column and value.
    #[test]
    fn packed_cells_decode_as_the_drivers_rows() {
        let text = r#"[[1, "书院街\"18\"号 \\表箱\\ 𠀋", null, -5, 2.5, "plain", 18446744073709551615]]"#;
        let rows: Vec<Vec<Cell<'_>>> = serde_json::from_str(text).expect("packed rows");
        assert!(matches!(rows[0][5], Cell::Text(Cow::Borrowed("plain"))), "text without escapes is borrowed");
        assert!(matches!(rows[0][1], Cell::Text(Cow::Owned(_))), "text with escapes is unescaped");
        let columns = ["id", "name", "leader", "n", "x", "p", "big"];
        let row = Packed { table: "t", columns: &columns, values: rows[0].clone() };
        assert_eq!(row.field::<i64>("id").expect("id"), 1);
        assert_eq!(row.field::<String>("name").expect("name"), "书院街\"18\"号 \\表箱\\ 𠀋");
        assert_eq!(row.field::<Option<String>>("leader").expect("leader"), None);
        assert_eq!(row.field::<Option<i64>>("n").expect("n"), Some(-5));
        assert_eq!(row.field::<Option<f64>>("x").expect("x"), Some(2.5));
        assert_eq!(row.field::<Option<String>>("p").expect("p"), Some("plain".to_owned()));
        match row.field::<i64>("p") {
            Err(StoreError::Corrupt { table: "t", column: "p", value }) => assert_eq!(value, "plain"),
            other => panic!("{other:?}"),
        }
        assert!(row.field::<String>("leader").is_err(), "absent is not text");
        assert!(row.field::<i64>("big").is_err(), "beyond i64 is not an id");
        assert!(row.field::<i64>("nope").is_err(), "an unknown column");
    }
}
