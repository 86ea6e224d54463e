use chrono::{Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn at(s: &str) -> Timestamp {
    let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
    Timestamp::from_utc(Utc.from_utc_datetime(&(local - Duration::hours(8))))
}

fn arrival() -> Arrival {
    Arrival {
        state: State::Permitted,
        from: at("2026-11-26 09:00"),
        until: at("2026-11-26 17:00"),
        early_minutes: 60,
        here_already: false,
        elsewhere: None,
    }
}

#[test]
fn arrivals_are_accepted_within_the_window_from_the_early_minutes_on() {
    let a = arrival();
    assert!(check_arrival(&a, at("2026-11-26 07:59")).is_err());
    assert!(check_arrival(&a, at("2026-11-26 08:00")).is_ok(), "60 minutes early is the first minute");
    assert!(check_arrival(&a, at("2026-11-26 17:00")).is_ok(), "the last minute of the window");
    let late = check_arrival(&a, at("2026-11-26 17:01")).expect_err("refused");
    assert_eq!(late.rule.code, "SUPERVISION_ARRIVAL");
    assert!(late.args.contains(&("until", "2026-11-26 17:00".into())));
    assert!(check_arrival(&Arrival { state: State::Draft, ..arrival() }, at("2026-11-26 09:00")).is_err());
    assert!(check_arrival(&Arrival { state: State::Closed, ..arrival() }, at("2026-11-26 09:00")).is_err());
    let twice =
        check_arrival(&Arrival { here_already: true, ..arrival() }, at("2026-11-26 09:00")).expect_err("refused");
    assert!(twice.args.contains(&("missing", "departure".into())));
    let elsewhere = check_arrival(&Arrival { elsewhere: Some("GS-2".into()), ..arrival() }, at("2026-11-26 09:00"))
        .expect_err("refused");
    assert!(elsewhere.args.contains(&("ticket", "GS-2".into())));
}

#[test]
fn the_default_table_needs_a_leader_at_grades_one_and_two_and_a_manager_at_three() {
    let t = OnSiteTable::default();
    assert_eq!(t.required(1), ["leader"]);
    assert_eq!(t.required(2), ["leader"]);
    assert_eq!(t.required(3), ["leader", "safety_auditor"]);
    assert!(t.required(4).is_empty() && t.required(5).is_empty());
}

#[test]
fn only_tickets_started_without_a_manager_are_absent() {
    let started = [
        StartedTicket { number: "A".into(), grade: 3, attended: true },
        StartedTicket { number: "B".into(), grade: 2, attended: false },
    ];
    assert_eq!(absent(&started).iter().map(|t| t.number.as_str()).collect::<Vec<_>>(), ["B"]);
}

#[test]
fn periods_start_on_the_first_of_their_month() {
    let mut r = PointsRules::default();
    assert_eq!(r.period_start(d("2026-11-30")), d("2026-01-01"));
    r.period_months = 3;
    assert_eq!(r.period_start(d("2026-11-30")), d("2026-10-01"));
    r.period_months = 1;
    assert_eq!(r.period_start(d("2026-02-28")), d("2026-02-01"));
    r.period_months = 5;
    assert_eq!(r.period_start(d("2026-11-30")), d("2026-01-01"), "a length that does not divide the year is a year");
}

fn strike(n: &str, when: &str, points: u32) -> Strike {
    Strike { number: n.into(), at: at(when), points }
}

#[test]
fn points_of_the_period_since_the_last_readmission_count() {
    let rules = PointsRules::default();
    let strikes = [
        strike("W-1", "2025-12-31 10:00", 6),
        strike("W-2", "2026-03-01 10:00", 6),
        strike("W-3", "2026-06-01 10:00", 6),
    ];
    let s = standing(&strikes, None, d("2026-06-01"), &rules);
    assert_eq!((s.points, s.counted.clone()), (12, vec!["W-2".to_owned(), "W-3".to_owned()]), "last year's falls out");
    assert!(s.suspended());
    let v = suspension(&s).expect("suspended");
    assert_eq!(v.rule.code, "PERSON_SUSPENDED");
    assert!(v.args.contains(&("violations", "W-2、W-3".into())));
    // Re-admitted after W-3: nothing counts until the next violation.
    let after = standing(&strikes, Some(at("2026-06-02 09:00")), d("2026-06-10"), &rules);
    assert_eq!(after.points, 0);
    assert!(suspension(&after).is_none());
    // A strike later than the day asked about does not count yet.
    assert_eq!(standing(&strikes, None, d("2026-05-31"), &rules).points, 6);
}

#[test]
fn readmission_needs_a_suspension_reviews_and_a_passed_exam() {
    let rules = PointsRules::default();
    let s = standing(&[strike("W-1", "2026-03-01 10:00", 12)], None, d("2026-03-05"), &rules);
    let today = d("2026-03-05");
    assert!(check_readmission(&s, &[], d("2026-03-02"), d("2026-03-04"), true, today).is_ok());
    let code = |r: Result<(), Violation>| r.expect_err("refused").rule.code;
    assert_eq!(
        code(check_readmission(&s, &["W-1".into()], d("2026-03-02"), d("2026-03-04"), true, today)),
        "VIOLATION_REVIEW"
    );
    assert_eq!(code(check_readmission(&s, &[], d("2026-03-02"), d("2026-03-04"), false, today)), "PERSON_READMISSION");
    assert_eq!(code(check_readmission(&s, &[], d("2026-03-04"), d("2026-03-02"), true, today)), "PERSON_READMISSION");
    assert_eq!(code(check_readmission(&s, &[], d("2026-03-02"), d("2026-03-06"), true, today)), "PERSON_READMISSION");
    let clear = standing(&[], None, today, &rules);
    assert_eq!(
        code(check_readmission(&clear, &[], d("2026-03-02"), d("2026-03-04"), true, today)),
        "PERSON_READMISSION"
    );
}

#[test]
fn contractors_go_on_the_watch_list_then_are_proposed_for_the_blacklist() {
    let r = PointsRules::default();
    assert_eq!(contractor_watch(11, &r), Watch::Clear);
    assert_eq!(contractor_watch(12, &r), Watch::Watch);
    assert_eq!(contractor_watch(24, &r), Watch::BlacklistProposal);
}

#[test]
fn codes_round_trip() {
    for c in Class::ALL {
        assert_eq!(Class::from_code(c.code()), Some(*c));
    }
    for s in Severity::ALL {
        assert_eq!(Severity::from_code(s.code()), Some(*s));
    }
    for o in Offender::ALL {
        assert_eq!(Offender::from_code(o.code()), Some(*o));
    }
    assert!(Severity::Serious.needs_review() && !Severity::Major.needs_review());
}

fn arb_strikes() -> impl Strategy<Value = Vec<Strike>> {
    proptest::collection::vec((0i64..365, 0u32..13), 0..20).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (day, points))| Strike {
                number: format!("W-{i}"),
                at: Timestamp::start_of_local_day(d("2026-01-01") + Duration::days(day)),
                points,
            })
            .collect()
    })
}

proptest! {
    /// Within a period, with no re-admission, points never decrease from one day to the next.
    #[test]
    fn points_never_decrease_within_the_period(strikes in arb_strikes(), a in 0i64..365, b in 0i64..365) {
        let rules = PointsRules::default();
        let (a, b) = (a.min(b), a.max(b));
        let first = standing(&strikes, None, d("2026-01-01") + Duration::days(a), &rules);
        let later = standing(&strikes, None, d("2026-01-01") + Duration::days(b), &rules);
        prop_assert!(first.points <= later.points);
    }

    /// Suspended exactly when the points reach the threshold.
    #[test]
    fn suspension_exactly_at_the_threshold(strikes in arb_strikes(), threshold in 1u32..40, day in 0i64..365) {
        let rules = PointsRules { threshold, ..PointsRules::default() };
        let s = standing(&strikes, None, d("2026-01-01") + Duration::days(day), &rules);
        prop_assert_eq!(suspension(&s).is_some(), s.points >= threshold);
        let p = crate::people::PersonFacts {
            active: true,
            held: vec![crate::people::Held {
                kind: crate::people::QualificationKind::SafetyExam,
                valid_from: d("2026-01-01"),
                valid_to: d("2026-12-31"),
                level: None,
            }],
            contractor: None,
            strikes: strikes.clone(),
            readmitted: None,
        };
        let role_rules = crate::people::RoleRules { points: rules, ..Default::default() };
        let asked = crate::people::may_act(&p, crate::people::FieldRole::CrewMember, d("2026-01-01") + Duration::days(day), &role_rules);
        prop_assert_eq!(asked.is_err(), s.points >= threshold, "the people module's question answers no exactly then");
    }
}

#[test]
fn a_site_is_checked_while_live_from_the_checklist_of_its_kind() {
    assert!(
        check_site(State::Permitted).is_ok()
            && check_site(State::Started).is_ok()
            && check_site(State::Interrupted).is_ok()
    );
    for s in [State::Draft, State::Issued, State::Received, State::WorkEnded, State::Closed] {
        assert_eq!(check_site(s).expect_err("not live").rule.code, "SUPERVISION_CHECK");
    }
    let templates = vec![
        ("general".to_owned(), vec![]),
        ("metering".to_owned(), vec!["meter_install".to_owned(), "meter_replacement".to_owned()]),
    ];
    assert_eq!(template_for("meter_install", &templates), Some("metering"));
    assert_eq!(template_for("disconnect", &templates), Some("general"));
    assert_eq!(template_for("disconnect", &templates[1..]), None);
    for f in Finding::ALL {
        assert_eq!(Finding::from_code(f.code()), Some(*f));
    }
}

#[test]
fn published_lists_are_read_in_their_own_words() {
    assert_eq!(Class::read("行为违章"), Some(Class::Behaviour));
    assert_eq!(Class::read("装置"), Some(Class::Equipment));
    assert_eq!(Class::read("management"), Some(Class::Management));
    assert_eq!(Class::read("其他"), None);
    assert_eq!(Severity::read("Ⅰ类"), Some(Severity::Grave));
    assert_eq!(Severity::read("严重违章"), Some(Severity::Serious));
    assert_eq!(Severity::read("较严重"), Some(Severity::Major));
    assert_eq!(Severity::read(" 一般 "), Some(Severity::General));
    assert_eq!(Severity::read("很严重"), None);
}

proptest! {
    /// Whatever a cell holds, reading it never panics.
    #[test]
    fn reading_any_text_never_panics(text in ".{0,20}") {
        let _ = (Class::read(&text), Severity::read(&text));
    }
}
