//! The kinds of marketing work order (营销工单业务类型) of `marketing-export.md`: the vocabulary
//! tickets, imports and the cross-audit share. A ticket's work kind is one of them too.

use serde::{Deserialize, Serialize};

/// The kinds of marketing work order (营销工单).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    NewConnection,
    CapacityChange,
    MeterInstall,
    MeterReplacement,
    MeterRemoval,
    FaultRepair,
    Disconnect,
    Reconnect,
    MeterReading,
    FeeCollection,
    CustomerVisit,
}

/// Every order type: code, Chinese name, kind.
pub const ORDER_TYPES: &[(&str, &str, OrderType)] = &[
    ("new_connection", "新装", OrderType::NewConnection),
    ("capacity_change", "增容", OrderType::CapacityChange),
    ("meter_install", "装表接电", OrderType::MeterInstall),
    ("meter_replacement", "换表", OrderType::MeterReplacement),
    ("meter_removal", "拆表", OrderType::MeterRemoval),
    ("fault_repair", "故障报修", OrderType::FaultRepair),
    ("disconnect", "停电", OrderType::Disconnect),
    ("reconnect", "复电", OrderType::Reconnect),
    ("meter_reading", "抄表", OrderType::MeterReading),
    ("fee_collection", "催费", OrderType::FeeCollection),
    ("customer_visit", "客户走访", OrderType::CustomerVisit),
];

impl OrderType {
    /// Work at the customer's site that needs a ticket, card or other covering document.
    pub fn is_field_work(self) -> bool {
        !matches!(self, OrderType::MeterReading | OrderType::FeeCollection | OrderType::CustomerVisit)
    }

    /// 装表接电 and 送电 (复电): work that gives a customer's installation supply, which the
    /// energising gate of a customer project (业扩) holds until its acceptance has passed.
    pub fn energises(self) -> bool {
        matches!(self, OrderType::MeterInstall | OrderType::Reconnect)
    }

    /// 业扩 and 装表接电: the default set whose tickets are evaluated 100 % (article §1.1).
    pub fn needs_full_evaluation(self) -> bool {
        OrderTypeSet::FULL_EVALUATION.contains(self)
    }

    pub fn code(self) -> &'static str {
        ORDER_TYPES.iter().find(|(_, _, t)| *t == self).map_or("", |(c, _, _)| c)
    }

    pub fn chinese(self) -> &'static str {
        ORDER_TYPES.iter().find(|(_, _, t)| *t == self).map_or("", |(_, z, _)| z)
    }

    /// The order type by its code (any case) or Chinese name, as exports and forms write it.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        ORDER_TYPES.iter().find(|(code, zh, _)| code.eq_ignore_ascii_case(t) || *zh == t).map(|(_, _, k)| *k)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of order types, such as those whose tickets must all be evaluated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct OrderTypeSet(u16);

impl OrderTypeSet {
    /// 新装, 增容 (业扩) and 装表接电: the article's 100 % evaluation (§1.1, `cross-audit.md`).
    pub const FULL_EVALUATION: OrderTypeSet = OrderTypeSet(
        (1 << OrderType::NewConnection as u16)
            | (1 << OrderType::CapacityChange as u16)
            | (1 << OrderType::MeterInstall as u16),
    );

    pub fn contains(self, t: OrderType) -> bool {
        self.0 & t.bit() != 0
    }

    pub fn insert(&mut self, t: OrderType) {
        self.0 |= t.bit();
    }
}

impl FromIterator<OrderType> for OrderTypeSet {
    fn from_iter<I: IntoIterator<Item = OrderType>>(iter: I) -> Self {
        let mut set = OrderTypeSet::default();
        for t in iter {
            set.insert(t);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_read_back() {
        for (code, zh, t) in ORDER_TYPES {
            assert_eq!(OrderType::parse(code), Some(*t));
            assert_eq!(OrderType::parse(zh), Some(*t));
            assert_eq!(t.code(), *code);
        }
        assert_eq!(OrderType::parse(" METER_INSTALL "), Some(OrderType::MeterInstall));
        assert_eq!(OrderType::parse("装表"), None);
    }

    #[test]
    fn the_full_evaluation_set_is_the_articles() {
        let full: Vec<&str> =
            ORDER_TYPES.iter().filter(|(_, _, t)| t.needs_full_evaluation()).map(|(c, _, _)| *c).collect();
        assert_eq!(full, ["new_connection", "capacity_change", "meter_install"]);
        let set: OrderTypeSet = [OrderType::FaultRepair].into_iter().collect();
        assert!(set.contains(OrderType::FaultRepair) && !set.contains(OrderType::MeterInstall));
    }
}
