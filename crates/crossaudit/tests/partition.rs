//! The cross-audit within a memory budget: an export split on disk by customer and by person
//! gives exactly the exact engine's findings (details included), whatever the number of
//! partitions, with tickets naming other customers' orders; its problems are named with the
//! export's own file and line, and the scratch folder is gone afterwards.

use std::path::Path;

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;

use gridsafe_crossaudit::engine::{Finding, Thresholds, audit};
use gridsafe_crossaudit::export::read_export;
use gridsafe_crossaudit::generate::write_export;
use gridsafe_crossaudit::partition::{Budget, Within, audit_export_within, parts_for};

mod common;
use common::make_messy;

fn exact(dir: &Path, as_of: NaiveDate) -> Vec<Finding> {
    let tables = read_export(dir);
    assert!(tables.errors.is_empty(), "{:?}", tables.errors);
    audit(&tables, as_of, &Thresholds::default())
}

fn within(dir: &Path, as_of: NaiveDate, budget: u64, scratch: &Path) -> Within<std::convert::Infallible> {
    let budget = Budget { bytes: budget, scratch: scratch.to_owned() };
    let mut all = Vec::new();
    let out = audit_export_within(dir, as_of, &Thresholds::default(), &budget, &|_, _| {}, |f| {
        all.push(f.to_owned());
        Ok(())
    });
    FOUND.with(|found| *found.borrow_mut() = all);
    out
}

thread_local! {
    static FOUND: std::cell::RefCell<Vec<Finding>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn found() -> Vec<Finding> {
    FOUND.with(|found| found.borrow().clone())
}

/// Makes every `every`-th ticket also name an order of another customer (and one no export
/// holds): the pairs that cross partitions.
fn cross_link(dir: &Path, every: usize) {
    let path = dir.join("tickets.csv");
    let text = std::fs::read_to_string(&path).expect("tickets");
    let orders = std::fs::read_to_string(dir.join("work_orders.csv")).expect("orders");
    let ids: Vec<&str> = orders.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
    let mut out = String::new();
    for (n, line) in text.lines().enumerate() {
        let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
        if n > 0 && n % every == 0 {
            let other = ids[(n * 7919) % ids.len()];
            cells[3] = format!("{};{other};WO-NOWHERE", cells[3]);
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    std::fs::write(&path, out).expect("write");
}

fn budget_of(dir: &Path, parts: usize) -> u64 {
    let size: u64 = ["work_orders", "tickets", "meter_events"]
        .iter()
        .map(|t| std::fs::metadata(dir.join(format!("{t}.csv"))).map_or(0, |m| m.len()))
        .sum();
    // The least budget that needs no more than `parts` partitions.
    let (mut low, mut high) = (1, size * 10);
    while low < high {
        let mid = low + (high - low) / 2;
        if parts_for(size, mid) <= parts { high = mid } else { low = mid + 1 }
    }
    assert_eq!(parts_for(size, low), parts.clamp(1, 64));
    low
}

fn scratch_is_empty(scratch: &Path) -> bool {
    std::fs::read_dir(scratch).expect("scratch").next().is_none()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn partitioned_the_findings_are_exactly_those_of_the_exact_engine(
        seed in any::<u64>(),
        orders in 20usize..400,
        as_of_day in 0i64..400,
        parts in 2usize..40,
        every in 2usize..30,
        messy in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().expect("dir");
        let scratch = tempfile::tempdir().expect("scratch");
        write_export(dir.path(), orders, seed).expect("export");
        cross_link(dir.path(), every);
        if messy {
            make_messy(dir.path(), seed);
        }
        let as_of = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date") + Duration::days(as_of_day);
        let out = within(dir.path(), as_of, budget_of(dir.path(), parts), scratch.path());
        prop_assert!(matches!(out, Within::Done(Ok(()))), "{out:?}");
        prop_assert_eq!(found(), exact(dir.path(), as_of));
        prop_assert!(scratch_is_empty(scratch.path()), "the partitions are removed");
    }
}

#[test]
fn an_export_within_the_budget_is_audited_in_memory_with_the_same_findings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small");
    let scratch = tempfile::tempdir().expect("scratch");
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
    assert!(matches!(within(&dir, as_of, Budget::DEFAULT_BYTES, scratch.path()), Within::Done(Ok(()))));
    assert_eq!(found(), exact(&dir, as_of));
    for parts in [2, 5] {
        assert!(matches!(within(&dir, as_of, budget_of(&dir, parts), scratch.path()), Within::Done(Ok(()))));
        assert_eq!(found(), exact(&dir, as_of), "{parts} partitions");
    }
}

/// Rewrites a table's text.
fn edit(dir: &Path, table: &str, edit: impl FnOnce(String) -> String) {
    let path = dir.join(format!("{table}.csv"));
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, edit(text)).expect("write");
}

/// The exact reader's problems, for comparing with the partitioned ones.
fn named(errors: &[gridsafe_crossaudit::input::InputError]) -> Vec<String> {
    let mut all: Vec<String> = errors.iter().map(|e| format!("{e:?}")).collect();
    all.sort();
    all
}

#[test]
fn problems_are_named_with_the_exports_file_and_line_as_the_exact_reader_names_them() {
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
    type Spoil = fn(&Path);
    let cases: &[(&str, Spoil)] = &[
        ("a date no one writes, twice", |d| {
            edit(d, "work_orders", |t| t.replacen("2025-", "2025.", 1).replacen(":00,2025-", ":00,2025.", 1));
            edit(d, "tickets", |t| {
                let mut lines: Vec<String> = t.lines().map(str::to_owned).collect();
                lines[40] = lines[40].replacen("2025-", "2025.", 1);
                lines.join("\n") + "\n"
            });
        }),
        ("an unknown status", |d| edit(d, "tickets", |t| t.replacen(",ended,", ",finished,", 3))),
        ("an event without a customer, after blank lines", |d| {
            edit(d, "meter_events", |t| {
                let mut lines: Vec<String> = t.lines().map(str::to_owned).collect();
                lines.insert(5, String::new());
                lines.insert(5, String::new());
                let cells: Vec<&str> = lines[30].split(',').collect();
                lines[30] = format!("{},{},,{},{}", cells[0], cells[1], cells[3], cells[4]);
                lines.join("\n") + "\n"
            });
        }),
        ("an order repeated for another customer", |d| {
            edit(d, "work_orders", |t| {
                let row = t.lines().nth(3).expect("row").replacen(",CU", ",CU9", 1);
                format!("{t}{row}\n")
            });
        }),
        ("a ticket repeated", |d| {
            edit(d, "tickets", |t| {
                let row = t.lines().nth(10).expect("row").to_owned();
                format!("{t}{row}\n")
            });
        }),
    ];
    for (what, spoil) in cases {
        let dir = tempfile::tempdir().expect("dir");
        let scratch = tempfile::tempdir().expect("scratch");
        write_export(dir.path(), 300, 11).expect("export");
        spoil(dir.path());
        let expected = read_export(dir.path()).errors;
        assert!(!expected.is_empty(), "{what}: the exact reader names it");
        for parts in [3, 17] {
            match within(dir.path(), as_of, budget_of(dir.path(), parts), scratch.path()) {
                Within::Refused(errors) => assert_eq!(named(&errors), named(&expected), "{what}, {parts} partitions"),
                other => panic!("{what}: {other:?}"),
            }
            assert!(found().is_empty(), "{what}: no finding handed out");
            assert!(scratch_is_empty(scratch.path()), "{what}: the partitions are removed");
        }
    }
}

#[test]
fn what_the_fast_reader_does_not_take_is_left_to_the_exact_reader_and_a_failing_taker_stops() {
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
    let dir = tempfile::tempdir().expect("dir");
    let scratch = tempfile::tempdir().expect("scratch");
    write_export(dir.path(), 300, 5).expect("export");
    let budget = Budget { bytes: budget_of(dir.path(), 4), scratch: scratch.path().to_owned() };
    let all = exact(dir.path(), as_of);
    let mut taken = Vec::new();
    let stopped = audit_export_within(dir.path(), as_of, &Thresholds::default(), &budget, &|_, _| {}, |f| {
        if taken.len() == 5 {
            return Err("disk full");
        }
        taken.push(f.to_owned());
        Ok(())
    });
    assert!(matches!(stopped, Within::Done(Err("disk full"))), "{stopped:?}");
    assert_eq!(taken, all[..5]);

    // A file that is not UTF-8 (GBK, say): the exact reader decodes it.
    let mut bytes = std::fs::read(dir.path().join("tickets.csv")).expect("read");
    bytes.extend_from_slice(&encoding_rs::GBK.encode("T-GBK,低压工作票,CU1,,,,,,,,,void,\n").0);
    std::fs::write(dir.path().join("tickets.csv"), bytes).expect("write");
    assert!(matches!(within(dir.path(), as_of, budget.bytes, scratch.path()), Within::NotTaken));
    assert!(scratch_is_empty(scratch.path()));
}
