//! The customer register's rows (the rest of the area's SQL moves here next).

use sqlx::Row;

use crate::{Conn, StoreError};

/// What a ticket takes from the register for its customer.
#[derive(Debug, Clone)]
pub struct RegisteredCustomer {
    pub id: i64,
    pub name: String,
    pub voltage_kv: f64,
}

/// The customer registered under 户号 `account_no`, if any.
pub async fn registered(conn: &mut Conn, account_no: &str) -> Result<Option<RegisteredCustomer>, StoreError> {
    let row = sqlx::query("SELECT id, name, voltage_kv FROM customers WHERE account_no = $1")
        .bind(account_no.trim())
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(r) => Some(RegisteredCustomer {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            voltage_kv: r.try_get("voltage_kv")?,
        }),
        None => None,
    })
}
