//! The customer register (客户档案): one record as a form or an imported row gives it, read
//! from text, every problem named by its column.

use chrono::NaiveDate;
use serde::Serialize;

use crate::inspections::{CustomerFacts, EmergencyPower, Importance};

/// A column of the register: key, Chinese header, required.
pub struct Column {
    pub key: &'static str,
    pub zh: &'static str,
    pub required: bool,
}

const fn col(key: &'static str, zh: &'static str, required: bool) -> Column {
    Column { key, zh, required }
}

/// The register's columns, in the order of the ledger (台账) and of the import template.
pub const COLUMNS: [Column; 19] = [
    col("account_no", "户号", true),
    col("name", "户名", true),
    col("address", "用电地址", true),
    col("unit", "供电单位", true),
    col("voltage_kv", "电压等级", true),
    col("importance", "重要等级", false),
    col("importance_document", "认定文件", false),
    col("importance_date", "认定日期", false),
    col("industry", "行业", true),
    col("supply_sources", "电源数量", false),
    col("supply_kind", "供电方式", false),
    col("emergency_power", "自备应急电源", false),
    col("emergency_kind", "自备电源类型", false),
    col("emergency_capacity_kw", "自备电源容量(kW)", false),
    col("emergency_last_test", "自备电源最近试验", false),
    col("electrician_name", "客户电工", false),
    col("electrician_phone", "电工电话", false),
    col("preventive_test_due", "预防性试验到期", false),
    col("registered_on", "建档日期", false),
];

/// Industries the article and the brief name; the register accepts others too.
pub const INDUSTRIES: [&str; 12] = [
    "移动基站",
    "养殖场",
    "银行",
    "医院",
    "化工",
    "矿山",
    "学校",
    "政府机关",
    "商业综合体",
    "工业制造",
    "居民小区",
    "其他",
];

/// One customer as read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerRecord {
    pub account_no: String,
    pub name: String,
    pub address: String,
    /// The supply unit by name or code; the application resolves it.
    pub unit: String,
    pub voltage_kv: f64,
    pub importance: Importance,
    pub importance_document: Option<String>,
    pub importance_date: Option<NaiveDate>,
    pub industry: String,
    pub supply_sources: u32,
    pub supply_kind: Option<String>,
    pub emergency_power: EmergencyPower,
    pub emergency_kind: Option<String>,
    pub emergency_capacity_kw: Option<f64>,
    pub emergency_last_test: Option<NaiveDate>,
    pub electrician_name: Option<String>,
    pub electrician_phone: Option<String>,
    pub preventive_test_due: Option<NaiveDate>,
    pub registered_on: Option<NaiveDate>,
}

impl CustomerRecord {
    /// The facts its cycles depend on; `suspect_industries` is the configured list of industries
    /// likely to run unregistered emergency power.
    pub fn facts(&self, suspect_industries: &[String]) -> CustomerFacts {
        CustomerFacts {
            voltage_kv: self.voltage_kv,
            importance: self.importance,
            emergency_power: self.emergency_power,
            suspect_industry: suspect_industries.iter().any(|i| i.trim() == self.industry.trim()),
        }
    }
}

/// What is wrong with one value: the column's key and a message key (`customer-problem-…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnProblem {
    pub column: &'static str,
    pub problem: &'static str,
}

pub fn importance_code(i: Importance) -> &'static str {
    match i {
        Importance::Special => "special",
        Importance::First => "first",
        Importance::Second => "second",
        Importance::Temporary => "temporary",
        Importance::None => "none",
    }
}

pub fn importance_from(text: &str) -> Option<Importance> {
    Some(match text.trim() {
        "" | "none" | "无" | "非重要用户" | "否" => Importance::None,
        "special" | "特级" => Importance::Special,
        "first" | "一级" => Importance::First,
        "second" | "二级" => Importance::Second,
        "temporary" | "临时性" | "临时" => Importance::Temporary,
        _ => return None,
    })
}

pub fn emergency_code(e: EmergencyPower) -> &'static str {
    match e {
        EmergencyPower::None => "none",
        EmergencyPower::Registered => "registered",
        EmergencyPower::Suspected => "suspected",
    }
}

pub fn emergency_from(text: &str) -> Option<EmergencyPower> {
    Some(match text.trim() {
        "" | "none" | "无" => EmergencyPower::None,
        "registered" | "已备案" | "有" => EmergencyPower::Registered,
        "suspected" | "疑似未备案" | "疑似" | "未备案" => EmergencyPower::Suspected,
        _ => return None,
    })
}

/// A voltage as the marketing system writes it: `10`, `10kV`, `0.4 kV`, `380V`, `220 V`.
pub fn parse_voltage(text: &str) -> Option<f64> {
    let t = text.trim().replace(' ', "");
    let lower = t.to_ascii_lowercase();
    let (number, factor) = if let Some(n) = lower.strip_suffix("kv") {
        (n, 1.0)
    } else if let Some(n) = lower.strip_suffix('v') {
        (n, 0.001)
    } else {
        (lower.as_str(), 1.0)
    };
    let v: f64 = number.parse().ok()?;
    let kv = v * factor;
    (kv.is_finite() && kv > 0.0 && kv <= 1000.0).then_some(kv)
}

/// A day as `2026-11-26`, `2026/11/26`, `2026.11.26` or `20261126`, optionally followed by a
/// midnight time (a workbook's date cell).
pub fn parse_day(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let t = t.strip_suffix(" 00:00:00").unwrap_or(t);
    ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d"].iter().find_map(|f| NaiveDate::parse_from_str(t, f).ok())
}

/// Reads one record from its columns (`get(key)` gives the raw text, `None` when absent).
/// Lengths are counted on what was sent. Every problem is reported, not just the first.
pub fn parse_record<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<CustomerRecord, Vec<ColumnProblem>> {
    let mut problems = Vec::new();
    let mut bad = |column: &'static str, problem: &'static str| problems.push(ColumnProblem { column, problem });
    let raw = |key: &str| get(key).unwrap_or("");
    let text = |key: &'static str, max: usize, required: bool, bad: &mut dyn FnMut(&'static str, &'static str)| {
        let r = raw(key);
        if r.chars().count() > max {
            bad(key, "customer-problem-too-long");
            return None;
        }
        let t = r.trim();
        if t.is_empty() {
            if required {
                bad(key, "customer-problem-empty");
            }
            return None;
        }
        Some(t.to_owned())
    };
    let account_no = text("account_no", 30, true, &mut bad).unwrap_or_default();
    if !account_no.is_empty() && !account_no.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        bad("account_no", "customer-problem-account-no");
    }
    let name = text("name", 100, true, &mut bad).unwrap_or_default();
    let address = text("address", 200, true, &mut bad).unwrap_or_default();
    let unit = text("unit", 100, true, &mut bad).unwrap_or_default();
    let voltage_kv = match text("voltage_kv", 20, true, &mut bad) {
        Some(v) => parse_voltage(&v).unwrap_or_else(|| {
            bad("voltage_kv", "customer-problem-voltage");
            0.0
        }),
        None => 0.0,
    };
    let importance = importance_from(raw("importance")).unwrap_or_else(|| {
        bad("importance", "customer-problem-unknown-value");
        Importance::None
    });
    let importance_document = text("importance_document", 100, false, &mut bad);
    let day = |key: &'static str, bad: &mut dyn FnMut(&'static str, &'static str)| {
        let r = raw(key);
        if r.trim().is_empty() {
            return None;
        }
        let d = parse_day(r);
        if d.is_none() {
            bad(key, "customer-problem-date");
        }
        d
    };
    let importance_date = day("importance_date", &mut bad);
    if importance != Importance::None && importance != Importance::Temporary && importance_document.is_none() {
        bad("importance_document", "customer-problem-designation");
    }
    let industry = text("industry", 50, true, &mut bad).unwrap_or_default();
    let supply_sources = match raw("supply_sources").trim() {
        "" => 1,
        t => match t.parse::<u32>() {
            Ok(n @ 1..=10) => n,
            _ => {
                bad("supply_sources", "customer-problem-sources");
                1
            }
        },
    };
    let supply_kind = text("supply_kind", 50, false, &mut bad);
    let emergency_power = emergency_from(raw("emergency_power")).unwrap_or_else(|| {
        bad("emergency_power", "customer-problem-unknown-value");
        EmergencyPower::None
    });
    let emergency_kind = text("emergency_kind", 50, false, &mut bad);
    let emergency_capacity_kw = match raw("emergency_capacity_kw").trim() {
        "" => None,
        t => match t.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 && v <= 1_000_000.0 => Some(v),
            _ => {
                bad("emergency_capacity_kw", "customer-problem-capacity");
                None
            }
        },
    };
    let emergency_last_test = day("emergency_last_test", &mut bad);
    let electrician_name = text("electrician_name", 50, false, &mut bad);
    let electrician_phone = text("electrician_phone", 20, false, &mut bad);
    if electrician_phone.as_deref().is_some_and(|p| !p.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c))) {
        bad("electrician_phone", "customer-problem-phone");
    }
    let preventive_test_due = day("preventive_test_due", &mut bad);
    let registered_on = day("registered_on", &mut bad);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(CustomerRecord {
        account_no,
        name,
        address,
        unit,
        voltage_kv,
        importance,
        importance_document,
        importance_date,
        industry,
        supply_sources,
        supply_kind,
        emergency_power,
        emergency_kind,
        emergency_capacity_kw,
        emergency_last_test,
        electrician_name,
        electrician_phone,
        preventive_test_due,
        registered_on,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use proptest::prelude::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<CustomerRecord, Vec<ColumnProblem>> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        parse_record(|k| map.get(k).map(String::as_str))
    }

    const BASE: [(&str, &str); 6] = [
        ("account_no", "0701000123"),
        ("name", "孝感市第一人民医院"),
        ("address", "孝南区书院街1号"),
        ("unit", "孝南供电中心"),
        ("voltage_kv", "10kV"),
        ("industry", "医院"),
    ];

    #[test]
    fn a_row_as_the_marketing_system_writes_it() {
        let mut row = BASE.to_vec();
        row.extend([
            ("importance", "一级"),
            ("importance_document", "孝政电〔2025〕3号"),
            ("emergency_power", "已备案"),
            ("emergency_capacity_kw", "800"),
            ("preventive_test_due", "2027/03/31"),
            ("supply_sources", "2"),
        ]);
        let r = parse(&row).expect("valid");
        assert_eq!(r.voltage_kv, 10.0);
        assert_eq!(r.importance, Importance::First);
        assert_eq!(r.emergency_power, EmergencyPower::Registered);
        assert_eq!(r.preventive_test_due, NaiveDate::from_ymd_opt(2027, 3, 31));
        assert_eq!(r.supply_sources, 2);
    }

    #[test]
    fn every_problem_is_named_by_its_column() {
        let mut row = BASE.to_vec();
        row.retain(|(k, _)| *k != "name");
        row.extend([
            ("voltage_kv", "十千伏"),
            ("importance", "一级"),
            ("preventive_test_due", "明年"),
            ("supply_sources", "0"),
        ]);
        let problems = parse(&row).expect_err("invalid");
        let got: Vec<(&str, &str)> = problems.iter().map(|p| (p.column, p.problem)).collect();
        assert_eq!(
            got,
            [
                ("name", "customer-problem-empty"),
                ("voltage_kv", "customer-problem-voltage"),
                ("importance_document", "customer-problem-designation"),
                ("supply_sources", "customer-problem-sources"),
                ("preventive_test_due", "customer-problem-date"),
            ]
        );
    }

    #[test]
    fn voltages_in_the_ways_they_are_written() {
        assert_eq!(parse_voltage("0.4"), Some(0.4));
        assert_eq!(parse_voltage("380V"), Some(0.38));
        assert_eq!(parse_voltage(" 35 kV "), Some(35.0));
        assert_eq!(parse_voltage("110KV"), Some(110.0));
        assert_eq!(parse_voltage("-10"), None);
        assert_eq!(parse_voltage("NaN"), None);
    }

    proptest! {
        /// Any text in any column gives a record or named problems; never a panic, and a
        /// problem always names a known column.
        #[test]
        fn any_text_is_read_or_refused_by_column(values in proptest::collection::vec(".{0,40}", COLUMNS.len())) {
            let map: HashMap<&str, &str> = COLUMNS.iter().map(|c| c.key).zip(values.iter().map(String::as_str)).collect();
            match parse_record(|k| map.get(k).copied()) {
                Ok(r) => {
                    prop_assert!(!r.account_no.is_empty() && r.voltage_kv > 0.0);
                    prop_assert!(r.name.chars().count() <= 100);
                }
                Err(problems) => {
                    prop_assert!(!problems.is_empty());
                    prop_assert!(problems.iter().all(|p| COLUMNS.iter().any(|c| c.key == p.column)));
                }
            }
        }

        /// A written date is read back as the same day, in each accepted form.
        #[test]
        fn days_read_back(days in 0i64..40_000, form in 0usize..4) {
            let day = NaiveDate::from_ymd_opt(1980, 1, 1).expect("day") + chrono::Duration::days(days);
            let text = day.format(["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d"][form]).to_string();
            prop_assert_eq!(parse_day(&text), Some(day));
            prop_assert_eq!(parse_day(&format!("{text} 00:00:00")), Some(day));
        }

        /// Voltages written in kV or V are the same value.
        #[test]
        fn volts_and_kilovolts_agree(v in 1u32..500_000) {
            let kv = parse_voltage(&format!("{v}V")).expect("volts");
            prop_assert!((kv * 1000.0 - f64::from(v)).abs() < 1e-6);
        }
    }
}
