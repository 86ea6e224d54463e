//! The engine against a second, deliberately literal reading of `shared/spec/cross-audit.md`:
//! nested loops, no indexes, on generated exports of many seeds. They must agree on every key.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use gridsafe_crossaudit::engine::{Thresholds, audit};
use gridsafe_crossaudit::export::read_export;
use gridsafe_crossaudit::generate::write_export;
use gridsafe_crossaudit::input::{EventKind, Tables, Ticket, TicketStatus};
use gridsafe_domain::people::QualificationKind as QualKind;
use proptest::prelude::*;

type Key = (String, String, String, String);

fn key(rule: &str, kind: &str, id: &str, subject: &str) -> Key {
    (rule.to_owned(), kind.to_owned(), id.to_owned(), subject.to_owned())
}

fn people(t: &Ticket) -> BTreeSet<String> {
    let mut s: BTreeSet<String> = t.crew.iter().cloned().collect();
    if !t.leader.is_empty() {
        s.insert(t.leader.clone());
    }
    s
}

fn reference(tb: &Tables, as_of: NaiveDate) -> BTreeSet<Key> {
    let holds = |p: &str, kind: QualKind, d: NaiveDate| {
        tb.qualifications.iter().any(|q| q.person_id == p && q.kind == kind && q.valid_from <= d && d <= q.valid_to)
    };
    let contractor = |p: &str| tb.persons.iter().find(|x| x.person_id == p).and_then(|x| x.contractor_id.clone());
    let live: Vec<&Ticket> =
        tb.tickets.iter().filter(|t| matches!(t.status, TicketStatus::Ended | TicketStatus::Open)).collect();
    let mut out = BTreeSet::new();
    for o in &tb.work_orders {
        let d = o.started_at.date();
        if o.order_type.is_field_work() {
            let covered = live.iter().any(|t| {
                t.order_ids.contains(&o.order_id)
                    || (t.customer_id == o.customer_id
                        && t.permitted_at.is_some_and(|p| p <= o.started_at)
                        && t.ended_at.is_none_or(|e| o.finished_at <= e))
            });
            if !covered {
                out.insert(key("NO_TICKET", "order", &o.order_id, ""));
            }
            if o.workers.len() < 2 {
                out.insert(key("SINGLE_PERSON_ORDER", "order", &o.order_id, ""));
            }
        }
        for w in &o.workers {
            if !holds(w, QualKind::SafetyExam, d) {
                out.insert(key("NO_SAFETY_EXAM", "order", &o.order_id, w));
            }
        }
        for t in live.iter().filter(|t| t.order_ids.contains(&o.order_id)) {
            if t.permitted_at.is_some_and(|p| o.started_at < p) || t.ended_at.is_some_and(|e| o.finished_at > e) {
                out.insert(key("OUTSIDE_WINDOW", "order", &o.order_id, &t.ticket_id));
            }
        }
    }
    for t in &live {
        let ps = people(t);
        if ps.len() < 2 {
            out.insert(key("SINGLE_PERSON_TICKET", "ticket", &t.ticket_id, ""));
        }
        for (a, b, rule) in [
            (&t.issuer, &t.leader, "ISSUER_IS_LEADER"),
            (&t.permitter, &t.leader, "PERMITTER_IS_LEADER"),
            (&t.permitter, &t.issuer, "PERMITTER_IS_ISSUER"),
        ] {
            if !a.is_empty() && a == b {
                out.insert(key(rule, "ticket", &t.ticket_id, a));
            }
        }
        if ps.iter().any(|x| contractor(x).is_some()) && t.co_issuer.is_empty() {
            out.insert(key("CONTRACTOR_NO_COSIGN", "ticket", &t.ticket_id, ""));
        }
        let Some(p) = t.permitted_at else { continue };
        let d = p.date();
        for x in &ps {
            if !holds(x, QualKind::SafetyExam, d) {
                out.insert(key("NO_SAFETY_EXAM", "ticket", &t.ticket_id, x));
            }
        }
        for (who, kind, rule) in [
            (&t.leader, QualKind::WorkLeader, "NOT_AUTHORIZED_LEADER"),
            (&t.issuer, QualKind::TicketIssuer, "NOT_AUTHORIZED_ISSUER"),
            (&t.permitter, QualKind::WorkPermitter, "NOT_AUTHORIZED_PERMITTER"),
        ] {
            if !holds(who, kind, d) {
                out.insert(key(rule, "ticket", &t.ticket_id, who));
            }
        }
        let cs: BTreeSet<String> = ps.iter().filter_map(|x| contractor(x)).collect();
        for c in &cs {
            if !tb.agreements.iter().any(|a| &a.contractor_id == c && a.valid_from <= d && d <= a.valid_to) {
                out.insert(key("CONTRACTOR_NO_AGREEMENT", "ticket", &t.ticket_id, c));
            }
            if !tb.contractors.iter().any(|k| &k.contractor_id == c && d <= k.license_valid_to) {
                out.insert(key("CONTRACTOR_LICENSE_EXPIRED", "ticket", &t.ticket_id, c));
            }
        }
        // Some earlier ticket of the same person (by permitted_at, then id) ends after this one starts.
        for x in &ps {
            let clash = live.iter().any(|u| {
                u.ticket_id != t.ticket_id
                    && people(u).contains(x)
                    && u.permitted_at.is_some_and(|up| (up, &u.ticket_id) < (p, &t.ticket_id))
                    && match (u.status, u.ended_at) {
                        (TicketStatus::Open, _) | (_, None) => true,
                        (_, Some(e)) => e > p,
                    }
            });
            if clash {
                out.insert(key("PERSON_DOUBLE_BOOKED", "ticket", &t.ticket_id, x));
            }
        }
        let cutoff: NaiveDateTime = (as_of - Duration::days(7)).and_hms_opt(0, 0, 0).expect("midnight");
        let full = t.order_ids.iter().any(|id| {
            tb.work_orders.iter().any(|o| {
                &o.order_id == id
                    && matches!(o.order_type.code(), "new_connection" | "capacity_change" | "meter_install")
            })
        });
        if t.status == TicketStatus::Ended && t.evaluation.is_none() && t.ended_at.is_some_and(|e| e < cutoff) && full {
            out.insert(key("UNEVALUATED", "ticket", &t.ticket_id, ""));
        }
    }
    for e in tb.meter_events.iter().filter(|e| matches!(e.kind, EventKind::CoverOpen | EventKind::TerminalCoverOpen)) {
        let m = Duration::minutes(30);
        if !live.iter().any(|t| {
            t.customer_id == e.customer_id
                && t.permitted_at.is_some_and(|p| p - m <= e.occurred_at)
                && t.ended_at.is_none_or(|x| e.occurred_at <= x + m)
        }) {
            out.insert(key("EVENT_WITHOUT_TICKET", "event", &e.event_id, &e.customer_id));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_engine_agrees_with_the_literal_reading(seed in any::<u64>(), orders in 20usize..160, as_of_day in 0i64..400) {
        let dir = tempfile::tempdir().expect("dir");
        write_export(dir.path(), orders, seed).expect("export");
        let tables = read_export(dir.path());
        prop_assert!(tables.errors.is_empty(), "{:?}", tables.errors);
        let as_of = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date") + Duration::days(as_of_day);
        let got: BTreeSet<Key> = audit(&tables, as_of, &Thresholds::default())
            .into_iter()
            .map(|f| (f.rule.to_owned(), f.entity_kind.to_owned(), f.entity_id, f.subject))
            .collect();
        let want = reference(&tables, as_of);
        let only_engine: Vec<_> = got.difference(&want).collect();
        let only_reference: Vec<_> = want.difference(&got).collect();
        prop_assert!(only_engine.is_empty() && only_reference.is_empty(), "engine only: {only_engine:?}\nreference only: {only_reference:?}");
    }
}

#[test]
fn generated_exports_exercise_every_rule() {
    let dir = tempfile::tempdir().expect("dir");
    write_export(dir.path(), 3000, 42).expect("export");
    let tables = read_export(dir.path());
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
    let findings = audit(&tables, as_of, &Thresholds::default());
    for rule in gridsafe_crossaudit::engine::Rule::ALL {
        assert!(findings.iter().any(|f| f.rule == rule.code()), "no finding for {}", rule.code());
    }
}

/// A live ticket never permitted (no `permitted_at`) still needs double signing when contractor
/// workers are on it; the rules that need the ticket's day cannot apply to it.
#[test]
fn double_signing_needs_no_day() {
    let dir = tempfile::tempdir().expect("dir");
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small");
    for entry in std::fs::read_dir(&fixture).expect("fixture") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, dir.path().join(path.file_name().expect("name"))).expect("copy");
    }
    let tickets = dir.path().join("tickets.csv");
    let mut text = std::fs::read_to_string(&tickets).expect("tickets");
    text.push_str("T99,低压工作票,CU99,,P006,,P101,P007,P102,,,open,\n");
    std::fs::write(&tickets, text).expect("write");
    let tables = read_export(dir.path());
    assert!(tables.errors.is_empty(), "{:?}", tables.errors);
    let as_of = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
    let findings = audit(&tables, as_of, &Thresholds::default());
    let t99: Vec<&str> = findings.iter().filter(|f| f.entity_id == "T99").map(|f| f.rule).collect();
    assert_eq!(t99, ["CONTRACTOR_NO_COSIGN"]);
    let reference_t99: Vec<String> =
        reference(&tables, as_of).into_iter().filter(|k| k.2 == "T99").map(|k| k.0).collect();
    assert_eq!(reference_t99, ["CONTRACTOR_NO_COSIGN"]);
}
