//! The fast engine gives exactly the exact engine's findings (details included), on generated
//! exports in the plain form and in the messy forms the spec allows; what it cannot read with
//! certainty it leaves to the exact reader (`None`), which names the problem.

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;

use gridsafe_crossaudit::engine::{Finding, Thresholds, audit};
use gridsafe_crossaudit::export::read_export;
use gridsafe_crossaudit::fast::{audit_export, audit_export_each};
use gridsafe_crossaudit::generate::write_export;

fn exact(dir: &std::path::Path, as_of: NaiveDate) -> Vec<Finding> {
    let tables = read_export(dir);
    assert!(tables.errors.is_empty(), "{:?}", tables.errors);
    audit(&tables, as_of, &Thresholds::default())
}

/// Rows out of id order, Chinese headers (and values), a byte-order mark, CRLF, quoted cells (a list with commas
/// inside quotes), blank lines, and dates as an office writes them (`2025/3/7 9:05`).
fn make_messy(dir: &std::path::Path, seed: u64) {
    let headers: &[(&str, &str)] = &[
        ("order_id", "工单编号"),
        ("order_type", "业务类型"),
        ("customer_id", "户号"),
        ("org_unit", "供电单位"),
        ("started_at", "开始时间"),
        ("finished_at", "结束时间"),
        ("workers", "作业人员"),
        ("ticket_id", "票号"),
        ("kind", "票种"),
        ("order_ids", "关联工单"),
        ("issuer", "签发人"),
        ("co_issuer", "会签人"),
        ("leader", "工作负责人"),
        ("permitter", "许可人"),
        ("crew", "工作班成员"),
        ("permitted_at", "许可开工时间"),
        ("ended_at", "终结时间"),
        ("status", "状态"),
        ("evaluation", "评价"),
        ("event_id", "事件编号"),
        ("meter_id", "电能表编号"),
        ("occurred_at", "发生时间"),
    ];
    let values: &[(&str, &str)] = &[
        ("new_connection", "新装"),
        ("meter_install", "装表接电"),
        ("ended", "已终结"),
        ("open", "执行中"),
        ("void", "作废"),
        ("pass", "合格"),
        ("cover_open", "开表盖"),
    ];
    for name in ["work_orders", "tickets", "meter_events"] {
        let path = dir.join(format!("{name}.csv"));
        let text = std::fs::read_to_string(&path).expect("read");
        let mut out = String::from("\u{feff}");
        // Rows in any order, not only by id.
        let mut lines: Vec<&str> = text.lines().collect();
        if seed % 2 == 1 && lines.len() > 2 {
            lines[1..].reverse();
        }
        for (n, line) in lines.into_iter().enumerate() {
            let cells: Vec<String> = line
                .split(',')
                .enumerate()
                .map(|(c, cell)| {
                    let mut cell = cell.to_owned();
                    if n == 0 && name == "meter_events" && cell == "kind" {
                        cell = "事件类型".to_owned();
                    } else if n == 0 {
                        if let Some((_, zh)) = headers.iter().find(|(en, _)| *en == cell) {
                            cell = (*zh).to_owned();
                        }
                    } else if let Some((_, zh)) = values.iter().find(|(en, _)| *en == cell).filter(|_| n % 2 == 0) {
                        cell = (*zh).to_owned();
                    } else if n % 3 == 0 && cell.len() == 16 && cell.as_bytes()[4] == b'-' {
                        // 2025-03-07 09:05 -> 2025/3/7 9:05
                        let (y, m, d, h, min) = (&cell[0..4], &cell[5..7], &cell[8..10], &cell[11..13], &cell[14..16]);
                        let strip = |s: &str| s.trim_start_matches('0').to_owned();
                        let (m, d, h) = (strip(m), strip(d), strip(h));
                        cell = format!("{y}/{m}/{d} {}:{min}", if h.is_empty() { "0" } else { &h });
                    }
                    if (n + c + seed as usize).is_multiple_of(4) { format!("\"{cell}\"") } else { cell }
                })
                .collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
            if n % 50 == 7 {
                out.push_str("\r\n");
            }
        }
        std::fs::write(&path, out).expect("write");
    }
    // A list of workers with a comma inside its quotes, and a crew separated by 、-free
    // Chinese semicolons: both read as lists.
    let orders = dir.join("work_orders.csv");
    let mut text = std::fs::read_to_string(&orders).expect("orders");
    text.push_str("W-EXTRA,meter_install,CU-EXTRA,供电中心1,2025-05-05 09:00,2025-05-05 10:00,\"P0000001, P0000004；P0000001\"\r\n");
    std::fs::write(&orders, text).expect("write");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_fast_engine_gives_exactly_the_findings_of_the_exact_one(
        seed in any::<u64>(),
        orders in 20usize..400,
        as_of_day in 0i64..400,
        messy in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().expect("dir");
        write_export(dir.path(), orders, seed).expect("export");
        if messy {
            make_messy(dir.path(), seed);
        }
        let as_of = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date") + Duration::days(as_of_day);
        let fast = audit_export(dir.path(), as_of, &Thresholds::default());
        prop_assert!(fast.is_some(), "the fast reader gave up on a readable export");
        prop_assert_eq!(fast.unwrap_or_default(), exact(dir.path(), as_of));
    }
}

#[test]
fn the_worked_example_is_audited_fast_with_the_same_findings() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small");
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
    let fast = audit_export(&dir, as_of, &Thresholds::default()).expect("read fast");
    assert_eq!(fast, exact(&dir, as_of));
    assert!(!fast.is_empty());
}

/// What spoils an export for the fast reader.
type Spoil = fn(&std::path::Path);

/// Each of these needs the exact reader: to decode, or to name the problem.
#[test]
fn what_it_is_not_certain_of_is_left_to_the_exact_reader() {
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
    let cases: &[(&str, Spoil)] = &[
        ("a GBK file", |d| {
            let path = d.join("tickets.csv");
            let text = std::fs::read_to_string(&path).expect("read");
            let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
            assert!(!unmappable);
            std::fs::write(&path, bytes).expect("write");
        }),
        ("a repeated ticket", |d| append(d, "tickets", 1)),
        ("a repeated order", |d| append(d, "work_orders", 1)),
        ("a repeated event", |d| append(d, "meter_events", 1)),
        ("a date no one writes", |d| {
            let path = d.join("work_orders.csv");
            let text = std::fs::read_to_string(&path).expect("read");
            std::fs::write(&path, text.replacen("2025-", "2025.", 1).replacen("2025-", "2025.", 1)).expect("write");
        }),
        ("a doubled quote", |d| {
            let path = d.join("meter_events.csv");
            let mut text = std::fs::read_to_string(&path).expect("read");
            text.push_str("E-Q,\"M\"\"1\",CU00000001,cover_open,2025-05-05 09:00\n");
            std::fs::write(&path, text).expect("write");
        }),
        ("an unknown status", |d| {
            let path = d.join("tickets.csv");
            let text = std::fs::read_to_string(&path).expect("read");
            std::fs::write(&path, text.replacen(",ended,", ",finished,", 1)).expect("write");
        }),
        ("a missing column", |d| {
            let path = d.join("tickets.csv");
            let text = std::fs::read_to_string(&path).expect("read");
            std::fs::write(&path, text.replacen("permitter", "allower", 1)).expect("write");
        }),
        ("a workbook beside", |d| {
            std::fs::write(d.join("工作票.xlsx"), b"PK").expect("write");
        }),
    ];
    for (what, spoil) in cases {
        let dir = tempfile::tempdir().expect("dir");
        write_export(dir.path(), 200, 7).expect("export");
        assert!(audit_export(dir.path(), as_of, &Thresholds::default()).is_some(), "{what}: clean first");
        spoil(dir.path());
        assert!(audit_export(dir.path(), as_of, &Thresholds::default()).is_none(), "{what}");
        // A GBK file and a doubled quote are read by the exact reader; the others it names.
        let named = !read_export(dir.path()).errors.is_empty();
        assert_eq!(named, !["a GBK file", "a doubled quote"].contains(what), "{what}: the exact reader's answer");
    }
}

/// Appends a copy of data row `n` of `table`.
fn append(dir: &std::path::Path, table: &str, n: usize) {
    let path = dir.join(format!("{table}.csv"));
    let mut text = std::fs::read_to_string(&path).expect("read");
    let row = text.lines().nth(n).expect("row").to_owned();
    text.push_str(&row);
    text.push('\n');
    std::fs::write(&path, text).expect("write");
}

#[test]
fn findings_are_handed_out_in_order_and_a_failing_taker_stops_the_audit() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small");
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
    let all = exact(&dir, as_of);
    assert!(all.len() > 3);
    let mut taken = Vec::new();
    let stopped = audit_export_each(&dir, as_of, &Thresholds::default(), |f| {
        if taken.len() == 3 {
            return Err("disk full");
        }
        taken.push(f.to_owned());
        Ok(())
    });
    assert_eq!(stopped, Some(Err("disk full")));
    assert_eq!(taken, all[..3]);
}
