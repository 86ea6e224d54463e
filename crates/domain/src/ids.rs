//! The ids of the records other records point at. Each is its own type, so a person's id cannot
//! be passed where a ticket's is expected; on the wire and in the database they are plain
//! integers (`serde(transparent)`, and the store binds `get()`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            pub const fn new(id: i64) -> Self {
                Self(id)
            }

            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map(Self)
            }
        }
    };
}

id!(
    /// A work ticket (工作票).
    TicketId
);
id!(
    /// A person in the people register (人员).
    PersonId
);
id!(
    /// An organisation unit (单位: province, city, county, team).
    UnitId
);
id!(
    /// A customer project (业扩报装工程).
    ProjectId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_integers_on_the_wire() {
        assert_eq!(serde_json::to_string(&TicketId::new(42)).expect("json"), "42");
        assert_eq!(serde_json::from_str::<PersonId>("7").expect("json"), PersonId::new(7));
        assert_eq!("23".parse::<UnitId>().expect("number").get(), 23);
        assert!("x".parse::<UnitId>().is_err());
        assert_eq!(UnitId::new(5).to_string(), "5");
    }
}
