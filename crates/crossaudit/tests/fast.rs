//! The fast engine gives exactly the exact engine's findings (details included), on generated
//! exports in the plain form and in the messy forms the spec allows; what it cannot read with
//! certainty it leaves to the exact reader (`None`), which names the problem.

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;

use gridsafe_crossaudit::engine::{Finding, Thresholds, audit, csv_record};
use gridsafe_crossaudit::export::read_export;
use gridsafe_crossaudit::fast::{audit_export, audit_export_each};
use gridsafe_crossaudit::generate::write_export;

mod common;
use common::make_messy;

fn exact(dir: &std::path::Path, as_of: NaiveDate) -> Vec<Finding> {
    let tables = read_export(dir);
    assert!(tables.errors.is_empty(), "{:?}", tables.errors);
    audit(&tables, as_of, &Thresholds::default())
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
        // Each finding also comes as the CSV record `gridsafe audit` writes of it.
        let mut fast = Vec::new();
        let done = audit_export_each(dir.path(), as_of, &Thresholds::default(), |f| {
            let mut record = String::new();
            csv_record(&mut record, [f.rule, f.entity_kind, f.entity_id, f.subject, f.detail]);
            if f.record != record {
                return Err(format!("{:?} written as {:?}", record, f.record));
            }
            fast.push(f.to_owned());
            Ok(())
        });
        prop_assert!(done.is_some(), "the fast reader gave up on a readable export");
        prop_assert_eq!(done, Some(Ok(())));
        prop_assert_eq!(fast, exact(dir.path(), as_of));
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

/// People the small tables do not name are numbered by whichever core reads them first and
/// then given one number each: the same person unknown to the people table, named in orders
/// and in tickets, as worker, crew, leader, issuer and permitter, is one person to every rule.
#[test]
fn people_the_small_tables_do_not_name_are_one_person_each_across_tables() {
    let dir = tempfile::tempdir().expect("dir");
    write_export(dir.path(), 300, 7).expect("export");
    let rewrite = |table: &str, edit: &dyn Fn(usize, &str) -> String| {
        let path = dir.path().join(format!("{table}.csv"));
        let text = std::fs::read_to_string(&path).expect("read");
        let lines: Vec<String> = text.lines().enumerate().map(|(n, line)| edit(n, line)).collect();
        std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    };
    // Every fifth order's workers and every fourth ticket's people become strangers, some of
    // them the same strangers on both sides, one of them with an id longer than 15 bytes.
    let stranger = |n: usize| match n % 3 {
        0 => format!("X{n:03}"),
        1 => "外来人员-甲".to_owned(),
        _ => "STRANGER-WITH-A-LONG-ID".to_owned(),
    };
    rewrite("work_orders", &|n, line| {
        let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
        if n > 0 && n % 5 == 0 {
            cells[6] = format!("{};{}", stranger(n), stranger(n + 1));
        }
        cells.join(",")
    });
    rewrite("tickets", &|n, line| {
        let mut cells: Vec<String> = line.split(',').map(str::to_owned).collect();
        if n > 0 && n % 4 == 0 {
            cells[4] = stranger(n + 2);
            cells[6] = stranger(n);
            cells[7] = stranger(n);
            cells[8] = format!("{};{}", stranger(n + 1), cells[8]);
        }
        cells.join(",")
    });
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
    let fast = audit_export(dir.path(), as_of, &Thresholds::default()).expect("read fast");
    let exact = exact(dir.path(), as_of);
    assert_eq!(fast, exact);
    let about = |who: &str, rule: &str| exact.iter().filter(|f| f.subject == who && f.rule == rule).count();
    assert!(about("外来人员-甲", "PERSON_DOUBLE_BOOKED") > 0, "a stranger on two tickets at once is found");
    assert!(about("STRANGER-WITH-A-LONG-ID", "NO_SAFETY_EXAM") > 0);
}

/// A meter event's customer may be named by tickets and no order: the events' customers are
/// numbered beside the orders', before the tickets', and must still meet their tickets.
#[test]
fn an_event_of_a_customer_only_tickets_name_meets_their_tickets() {
    let dir = tempfile::tempdir().expect("dir");
    write_export(dir.path(), 300, 11).expect("export");
    let add = |table: &str, rows: &str| {
        let path = dir.path().join(format!("{table}.csv"));
        let mut text = std::fs::read_to_string(&path).expect("read");
        text.push_str(rows);
        std::fs::write(&path, text).expect("write");
    };
    // A ticket for a customer no order names, and meter events: one of that customer's within
    // the ticket, one of that customer's long after it, one of a customer nobody names.
    add(
        "tickets",
        "T99999999,低压工作票,CU-ONLY-TICKETS,,P0000001,,P0000002,P0000003,P0000004,2025-09-20 10:10,2025-09-20 12:53,ended,pass\n",
    );
    add(
        "meter_events",
        "E99999997,M99999997,CU-ONLY-TICKETS,cover_open,2025-09-20 11:00\n\
         E99999998,M99999998,CU-ONLY-TICKETS,cover_open,2025-10-20 11:00\n\
         E99999999,M99999999,CU-NOBODY,terminal_cover_open,2025-09-20 11:00\n",
    );
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
    let fast = audit_export(dir.path(), as_of, &Thresholds::default()).expect("read fast");
    let exact = exact(dir.path(), as_of);
    assert_eq!(fast, exact);
    let unexplained = |event: &str| exact.iter().any(|f| f.rule == "EVENT_WITHOUT_TICKET" && f.entity_id == event);
    assert!(!unexplained("E99999997"), "the customer's ticket explains the event");
    assert!(unexplained("E99999998"));
    assert!(unexplained("E99999999"));
}
