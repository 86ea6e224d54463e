use chrono::{Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::orders::OrderType;
use crate::people::{Agreement, ContractorFacts, Held, QualificationKind};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// China local time `YYYY-MM-DD HH:MM`.
fn at(s: &str) -> Timestamp {
    let local = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("time");
    Timestamp::from_utc(Utc.from_utc_datetime(&(local - Duration::hours(8))))
}

fn held(kind: QualificationKind, from: &str, to: &str) -> Held {
    Held { kind, valid_from: d(from), valid_to: d(to), level: None }
}

/// A person holding the exam and `lists` for 2026.
fn person(label: &str, lists: &[QualificationKind]) -> Member {
    let mut h = vec![held(QualificationKind::SafetyExam, "2026-01-01", "2026-12-31")];
    h.extend(lists.iter().map(|k| held(*k, "2026-01-01", "2026-12-31")));
    Member {
        label: label.into(),
        facts: PersonFacts { active: true, held: h, contractor: None, strikes: vec![], readmitted: None },
        contractor_id: None,
    }
}

const ISSUER: PersonId = PersonId::new(1);
const PERMITTER: PersonId = PersonId::new(2);
const LEADER: PersonId = PersonId::new(3);
const CREW: PersonId = PersonId::new(4);
const CREW2: PersonId = PersonId::new(5);
const WORKER: PersonId = PersonId::new(6);
const CO_ISSUER: PersonId = PersonId::new(7);

fn contractor(ok_until: &str) -> ContractorFacts {
    ContractorFacts {
        name: "孝感承装一公司".into(),
        blacklisted_on: None,
        license_level: Some(4),
        license_valid_to: Some(d(ok_until)),
        agreements: vec![Agreement { valid_from: d("2026-01-01"), valid_to: d(ok_until), customer: None }],
    }
}

fn roster() -> Roster {
    let mut r = Roster::new();
    r.insert(ISSUER, person("1 签发", &[QualificationKind::TicketIssuer]));
    r.insert(PERMITTER, person("2 许可", &[QualificationKind::WorkPermitter]));
    r.insert(LEADER, person("3 负责", &[QualificationKind::WorkLeader]));
    r.insert(CREW, person("4 成员", &[]));
    r.insert(CREW2, person("5 成员", &[QualificationKind::WorkLeader]));
    let mut w = person("6 外包", &[]);
    w.facts.contractor = Some(contractor("2026-12-31"));
    w.contractor_id = Some(9);
    r.insert(WORKER, w);
    let mut co = person("7 外包签发", &[QualificationKind::TicketIssuer]);
    co.facts.contractor = Some(contractor("2026-12-31"));
    co.contractor_id = Some(9);
    r.insert(CO_ISSUER, co);
    r
}

fn doc() -> DocumentType {
    DocumentType {
        code: "lv".into(),
        name: "低压工作票".into(),
        covers: vec!["meter_install".into(), "meter_replacement".into()],
        extendable: true,
        needs_survey: false,
        live_work: false,
        prefix: "DY".into(),
        min_people: 2,
    }
}

fn ticket() -> Ticket {
    Ticket {
        state: State::Draft,
        doc: doc(),
        issuer: Some(ISSUER),
        co_issuer: None,
        co_signed: false,
        leader: Some(LEADER),
        permitter: Some(PERMITTER),
        crew: vec![CREW],
        acknowledged: vec![],
        planned_start: at("2026-11-26 09:00"),
        planned_end: at("2026-11-26 17:00"),
        extended_to: None,
        permitted_at: None,
        work_ended_at: None,
        finished_at: None,
        hazards: 2,
        survey_done: false,
        work_kind: OrderType::MeterInstall,
        order_types: vec![OrderType::MeterInstall],
        voltage_kv: Some(0.4),
        customer: Some("4300001".into()),
        planning: Planning::Item { day: d("2026-11-26"), published: true },
        on_site: Default::default(),
        projects: Vec::new(),
    }
}

fn codes(r: Result<State, Vec<Violation>>) -> Vec<&'static str> {
    r.err().unwrap_or_default().iter().map(|v| v.rule.code).collect()
}

fn step(t: &mut Ticket, s: Step, by: PersonId, when: &str) {
    let next = check(t, &s, Some(by), at(when), &roster(), &[], &RoleRules::default())
        .unwrap_or_else(|e| panic!("{} refused: {e:?}", s.code()));
    if let Step::Acknowledge = s {
        t.acknowledged.push(by);
    }
    if let Step::Extend { to } = s {
        t.extended_to = Some(to);
    }
    t.state = next;
}

#[test]
fn a_ticket_walks_its_whole_life() {
    let mut t = ticket();
    step(&mut t, Step::Issue, ISSUER, "2026-11-25 16:00");
    step(&mut t, Step::Receive, LEADER, "2026-11-25 17:00");
    step(&mut t, Step::Permit, PERMITTER, "2026-11-26 09:00");
    step(&mut t, Step::Acknowledge, CREW, "2026-11-26 09:05");
    step(&mut t, Step::Start, LEADER, "2026-11-26 09:10");
    step(&mut t, Step::Interrupt, LEADER, "2026-11-26 12:00");
    step(&mut t, Step::Resume, LEADER, "2026-11-26 13:00");
    step(&mut t, Step::Extend { to: at("2026-11-26 19:00") }, LEADER, "2026-11-26 16:30");
    step(&mut t, Step::EndWork, LEADER, "2026-11-26 18:30");
    step(&mut t, Step::Close { measures_restored: true }, PERMITTER, "2026-11-26 18:45");
    assert_eq!(t.state, State::Closed);
}

#[test]
fn steps_are_taken_from_their_states_only_and_by_their_signer() {
    let t = ticket();
    let r = roster();
    let rules = RoleRules::default();
    assert_eq!(
        codes(check(&t, &Step::Permit, Some(PERMITTER), at("2026-11-26 09:00"), &r, &[], &rules)),
        ["TICKET_STATE"]
    );
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(LEADER), at("2026-11-26 08:00"), &r, &[], &rules)),
        ["TICKET_SIGNER"]
    );
    assert_eq!(codes(check(&t, &Step::Issue, None, at("2026-11-26 08:00"), &r, &[], &rules)), ["TICKET_SIGNER"]);
    let mut closed = t.clone();
    closed.state = State::Closed;
    for s in [Step::Void, Step::NotExecuted, Step::Issue, Step::Acknowledge] {
        assert_eq!(codes(check(&closed, &s, Some(ISSUER), at("2026-11-26 10:00"), &r, &[], &rules)), ["TICKET_STATE"]);
    }
}

#[test]
fn three_persons_are_three_people_and_not_on_the_crew() {
    let rules = RoleRules::default();
    let mut r = roster();
    r.insert(ISSUER, person("1 全能", &[QualificationKind::TicketIssuer, QualificationKind::WorkLeader]));
    let mut t = ticket();
    t.leader = Some(ISSUER);
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &r, &[], &rules)),
        ["TICKET_THREE_PERSONS"]
    );
    let mut t = ticket();
    t.crew = vec![CREW, PERMITTER];
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &r, &[], &rules)),
        ["TICKET_THREE_PERSONS"]
    );
}

#[test]
fn single_person_work_is_refused_and_the_minimum_is_per_document() {
    let rules = RoleRules::default();
    let mut t = ticket();
    t.crew.clear();
    let refused =
        check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &roster(), &[], &rules).expect_err("alone");
    assert_eq!(refused[0].rule.code, "TICKET_MIN_CREW");
    assert!(refused[0].args.contains(&("needed", "2".into())) && refused[0].args.contains(&("have", "1".into())));
    t.doc.min_people = 1;
    assert!(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &roster(), &[], &rules).is_ok());
    let mut t = ticket();
    t.doc.min_people = 3;
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &roster(), &[], &rules)),
        ["TICKET_MIN_CREW"]
    );
    t.crew.push(CREW2);
    assert!(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &roster(), &[], &rules).is_ok());
}

#[test]
fn qualifications_must_cover_the_first_and_the_last_day() {
    let rules = RoleRules::default();
    let mut r = roster();
    let mut leader = person("3 负责", &[]);
    leader.facts.held.push(held(QualificationKind::WorkLeader, "2026-01-01", "2026-11-26"));
    r.insert(LEADER, leader);
    let mut t = ticket();
    assert!(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-25 08:00"), &r, &[], &rules).is_ok(), "last valid day");
    t.planned_end = at("2026-11-27 09:00");
    let refused = check(&t, &Step::Issue, Some(ISSUER), at("2026-11-25 08:00"), &r, &[], &rules).expect_err("lapses");
    assert_eq!(refused.iter().map(|v| v.rule.code).collect::<Vec<_>>(), ["LIST_WORK_LEADER"]);
    assert!(refused[0].args.contains(&("person", "3 负责".into())), "{refused:?}");
    assert!(refused[0].args.contains(&("day", "2026-11-27".into())), "{refused:?}");
}

#[test]
fn contractor_workers_need_dual_issue_by_their_own_contractor_and_a_valid_licence() {
    let rules = RoleRules::default();
    let r = roster();
    let mut t = ticket();
    t.crew = vec![WORKER];
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &r, &[], &rules)),
        ["TICKET_DUAL_ISSUE"]
    );
    t.co_issuer = Some(CO_ISSUER);
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &r, &[], &rules)),
        ["TICKET_DUAL_ISSUE"],
        "not co-signed yet"
    );
    t.state = check(&t, &Step::CoSign, Some(CO_ISSUER), at("2026-11-26 07:00"), &r, &[], &rules).expect("co-sign");
    t.co_signed = true;
    assert!(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &r, &[], &rules).is_ok());
    // An issuer of another contractor is no second issuer for these workers.
    let mut r2 = r.clone();
    if let Some(m) = r2.get_mut(&CO_ISSUER) {
        m.contractor_id = Some(10);
    }
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &r2, &[], &rules)),
        ["TICKET_DUAL_ISSUE"]
    );
    // The licence ends the day before: refused with the contractor's rule.
    let mut r3 = r.clone();
    if let Some(m) = r3.get_mut(&WORKER) {
        m.facts.contractor = Some(contractor("2026-11-25"));
    }
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &r3, &[], &rules)),
        ["CONTRACTOR_LICENSE", "CONTRACTOR_AGREEMENT"]
    );
    // A level-4 licence covers 35 kV at most.
    t.voltage_kv = Some(110.0);
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &r, &[], &rules)),
        ["CONTRACTOR_LICENSE", "CONTRACTOR_LICENSE"],
        "the worker and the contractor's issuer"
    );
}

#[test]
fn workers_of_two_contractors_do_not_share_a_ticket() {
    let rules = RoleRules::default();
    let mut r = roster();
    let mut other = r[&WORKER].clone();
    other.contractor_id = Some(10);
    r.insert(CREW2, other);
    let mut t = ticket();
    t.crew = vec![WORKER, CREW2];
    t.co_issuer = Some(CO_ISSUER);
    t.co_signed = true;
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &r, &[], &rules)),
        ["TICKET_ONE_CONTRACTOR"]
    );
}

#[test]
fn windows_that_touch_do_not_overlap() {
    let rules = RoleRules::default();
    let t = ticket();
    let busy = |start: &str, end: &str| Busy {
        number: "DY-202611-0001".into(),
        people: vec![CREW],
        start: at(start),
        end: at(end),
    };
    let r = roster();
    assert!(
        check(
            &t,
            &Step::Issue,
            Some(ISSUER),
            at("2026-11-26 08:00"),
            &r,
            &[busy("2026-11-26 07:00", "2026-11-26 09:00")],
            &rules
        )
        .is_ok()
    );
    assert!(
        check(
            &t,
            &Step::Issue,
            Some(ISSUER),
            at("2026-11-26 08:00"),
            &r,
            &[busy("2026-11-26 17:00", "2026-11-26 18:00")],
            &rules
        )
        .is_ok()
    );
    let refused = check(
        &t,
        &Step::Issue,
        Some(ISSUER),
        at("2026-11-26 08:00"),
        &r,
        &[busy("2026-11-26 07:00", "2026-11-26 09:01")],
        &rules,
    )
    .expect_err("one minute");
    assert_eq!(refused[0].rule.code, "TICKET_OVERLAP");
    assert!(refused[0].args.contains(&("ticket", "DY-202611-0001".into())));
}

#[test]
fn unplanned_work_is_issued_only_once_its_reason_is_approved() {
    let issue = |planning: Planning| {
        let t = Ticket { planning, ..ticket() };
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-25 16:00"), &roster(), &[], &RoleRules::default()))
    };
    assert_eq!(issue(Planning::Unplanned { approved: false, required: true }), vec!["TICKET_UNPLANNED"]);
    assert!(issue(Planning::Unplanned { approved: true, required: true }).is_empty());
    // Where the deployment (or the document, e.g. emergency repair) does not ask for approval.
    assert!(issue(Planning::Unplanned { approved: false, required: false }).is_empty());
    // A plan item: published, and on the ticket's own day (any hour of it).
    assert!(issue(Planning::Item { day: d("2026-11-26"), published: true }).is_empty());
    assert_eq!(issue(Planning::Item { day: d("2026-11-26"), published: false }), vec!["TICKET_PLAN_ITEM"]);
    assert_eq!(issue(Planning::Item { day: d("2026-11-27"), published: true }), vec!["TICKET_PLAN_ITEM"]);
    assert_eq!(issue(Planning::Item { day: d("2026-11-25"), published: true }), vec!["TICKET_PLAN_ITEM"]);
    // Only issuing asks: a ticket already issued goes on whatever its planning.
    let mut t = Ticket { planning: Planning::Unplanned { approved: false, required: true }, ..ticket() };
    t.state = State::Issued;
    assert!(
        check(&t, &Step::Receive, Some(LEADER), at("2026-11-25 17:00"), &roster(), &[], &RoleRules::default()).is_ok()
    );
}

#[test]
fn unplanned_work_is_approved_once_before_issue_and_not_by_its_writer() {
    let unplanned = Ticket { planning: Planning::Unplanned { approved: false, required: true }, ..ticket() };
    let rule = |r: Result<(), Violation>| r.err().map(|v| (v.rule.code, v.args.first().map(|a| a.0)));
    assert_eq!(check_unplanned_approval(&unplanned, Some("客户报修，当天处理"), None, false), Ok(()));
    assert_eq!(
        rule(check_unplanned_approval(&unplanned, Some("  "), None, false)),
        Some(("TICKET_UNPLANNED_APPROVAL", Some("missing")))
    );
    assert_eq!(
        rule(check_unplanned_approval(&unplanned, Some("原因"), None, true)),
        Some(("TICKET_UNPLANNED_APPROVAL", Some("missing")))
    );
    assert_eq!(
        rule(check_unplanned_approval(&unplanned, Some("原因"), Some("王经理"), false)),
        Some(("TICKET_UNPLANNED_APPROVAL", Some("approved")))
    );
    assert_eq!(
        rule(check_unplanned_approval(&ticket(), Some("原因"), None, false)),
        Some(("TICKET_UNPLANNED_APPROVAL", Some("plan_day")))
    );
    let issued = Ticket { state: State::Issued, ..unplanned };
    assert_eq!(
        rule(check_unplanned_approval(&issued, Some("原因"), None, false)),
        Some(("TICKET_UNPLANNED_APPROVAL", Some("state")))
    );
}

#[test]
fn survey_hazards_and_document_coverage_are_checked_at_issue() {
    let rules = RoleRules::default();
    let mut t = ticket();
    t.doc.needs_survey = true;
    t.hazards = 0;
    t.order_types.push(OrderType::FaultRepair);
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &roster(), &[], &rules)),
        ["TICKET_SURVEY", "TICKET_HAZARDS", "TICKET_TYPE_COVERS"]
    );
}

#[test]
fn the_document_covers_the_work_kind_itself_and_its_fewest_people() {
    let rules = RoleRules::default();
    // A 派工单 covers no field work and needs one person: 装表接电 by one person on it is refused.
    let mut t = ticket();
    t.doc = DocumentType {
        code: "dispatch".into(),
        name: "派工单".into(),
        covers: vec!["meter_reading".into(), "fee_collection".into(), "customer_visit".into()],
        min_people: 1,
        ..doc()
    };
    t.crew = vec![];
    t.order_types = vec![];
    let refused =
        check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &roster(), &[], &rules).expect_err("not covered");
    assert_eq!(refused.iter().map(|v| v.rule.code).collect::<Vec<_>>(), ["TICKET_TYPE_COVERS"]);
    assert!(refused[0].args.contains(&("order_type", "meter_install".into())), "{refused:?}");
    // The same document for what it covers is fine with one person.
    t.work_kind = OrderType::MeterReading;
    assert!(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &roster(), &[], &rules).is_ok());
    // A linked order of another kind is still checked, once per kind.
    t.order_types = vec![OrderType::MeterInstall, OrderType::MeterInstall];
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &roster(), &[], &rules)),
        ["TICKET_TYPE_COVERS"]
    );
}

#[test]
fn field_work_and_contractor_work_state_their_voltage() {
    let rules = RoleRules::default();
    let mut t = ticket();
    t.voltage_kv = None;
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &roster(), &[], &rules)),
        ["TICKET_VOLTAGE"]
    );
    // Not field work and own staff only: no licence to judge.
    t.work_kind = OrderType::CustomerVisit;
    t.order_types = vec![];
    t.doc.covers.push("customer_visit".into());
    assert!(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &roster(), &[], &rules).is_ok());
    // A contractor worker on it: the licence is judged at a stated voltage, never skipped.
    t.crew = vec![WORKER];
    t.co_issuer = Some(CO_ISSUER);
    t.co_signed = true;
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &roster(), &[], &rules)),
        ["TICKET_VOLTAGE"]
    );
}

#[test]
fn an_agreement_for_another_customer_does_not_cover_the_ticket() {
    let rules = RoleRules::default();
    let mut r = roster();
    for id in [WORKER, CO_ISSUER] {
        if let Some(c) = r.get_mut(&id).and_then(|m| m.facts.contractor.as_mut()) {
            c.agreements[0].customer = Some("4300009".into());
        }
    }
    let mut t = ticket();
    t.crew = vec![WORKER];
    t.co_issuer = Some(CO_ISSUER);
    t.co_signed = true;
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &r, &[], &rules)),
        ["CONTRACTOR_AGREEMENT", "CONTRACTOR_AGREEMENT"]
    );
    t.customer = Some("4300009".into());
    assert!(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &r, &[], &rules).is_ok());
}

#[test]
fn a_ticket_at_work_ended_holds_its_people_until_the_work_ended_only() {
    let rules = RoleRules::default();
    let other = Times {
        state: State::WorkEnded,
        planned_start: at("2026-11-26 07:00"),
        planned_end: at("2026-11-26 18:00"),
        extended_to: None,
        permitted_at: Some(at("2026-11-26 07:10")),
        work_ended_at: Some(at("2026-11-26 08:30")),
        finished_at: None,
    };
    let busy = Busy::of("DY-202611-0009".into(), vec![CREW], &other).expect("held");
    let mut t = ticket();
    t.planned_start = at("2026-11-26 08:30");
    assert!(
        check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &roster(), std::slice::from_ref(&busy), &rules)
            .is_ok()
    );
    t.planned_start = at("2026-11-26 08:29");
    assert_eq!(
        codes(check(&t, &Step::Issue, Some(ISSUER), at("2026-11-26 08:00"), &roster(), &[busy], &rules)),
        ["TICKET_OVERLAP"]
    );
    assert!(Busy::of("x".into(), vec![CREW], &Times { state: State::Void, ..other }).is_none());
}

#[test]
fn work_starts_only_after_every_crew_member_acknowledged_the_briefing() {
    let rules = RoleRules::default();
    let mut t = ticket();
    t.state = State::Permitted;
    t.crew = vec![CREW, CREW2];
    t.acknowledged = vec![CREW];
    let refused =
        check(&t, &Step::Start, Some(LEADER), at("2026-11-26 09:10"), &roster(), &[], &rules).expect_err("briefing");
    assert_eq!(refused[0].rule.code, "TICKET_BRIEFING");
    assert!(refused[0].args.contains(&("people", "5 成员".into())));
    assert_eq!(
        codes(check(&t, &Step::Acknowledge, Some(LEADER), at("2026-11-26 09:10"), &roster(), &[], &rules)),
        ["TICKET_SIGNER"],
        "only the crew acknowledge"
    );
    t.acknowledged.push(CREW2);
    assert!(check(&t, &Step::Start, Some(LEADER), at("2026-11-26 09:10"), &roster(), &[], &rules).is_ok());
    assert_eq!(
        codes(check(&t, &Step::Start, Some(LEADER), at("2026-11-26 08:59"), &roster(), &[], &rules)),
        ["TICKET_WINDOW"]
    );
}

#[test]
fn extension_once_before_expiry_never_for_live_work() {
    let rules = RoleRules::default();
    let mut t = ticket();
    t.state = State::Started;
    let to = Step::Extend { to: at("2026-11-26 20:00") };
    assert!(check(&t, &to, Some(LEADER), at("2026-11-26 17:00"), &roster(), &[], &rules).is_ok(), "at the last minute");
    assert_eq!(
        codes(check(&t, &to, Some(LEADER), at("2026-11-26 17:01"), &roster(), &[], &rules)),
        ["TICKET_VALIDITY"]
    );
    t.extended_to = Some(at("2026-11-26 18:00"));
    assert_eq!(
        codes(check(&t, &to, Some(LEADER), at("2026-11-26 17:30"), &roster(), &[], &rules)),
        ["TICKET_EXTENSION"]
    );
    let mut live = ticket();
    live.state = State::Started;
    live.doc.live_work = true;
    assert_eq!(
        codes(check(&live, &to, Some(LEADER), at("2026-11-26 12:00"), &roster(), &[], &rules)),
        ["TICKET_EXTENSION"]
    );
}

#[test]
fn the_leader_changes_only_by_the_issuer_and_the_crew_is_kept_whole() {
    let rules = RoleRules::default();
    let mut t = ticket();
    t.state = State::Started;
    t.crew = vec![CREW, CREW2];
    let change = Step::ChangeLeader { to: CREW2 };
    assert_eq!(
        codes(check(&t, &change, Some(LEADER), at("2026-11-26 12:00"), &roster(), &[], &rules)),
        ["TICKET_LEADER_CHANGE"]
    );
    assert!(check(&t, &change, Some(ISSUER), at("2026-11-26 12:00"), &roster(), &[], &rules).is_ok());
    // CREW holds no leader list.
    assert_eq!(
        codes(check(
            &t,
            &Step::ChangeLeader { to: CREW },
            Some(ISSUER),
            at("2026-11-26 12:00"),
            &roster(),
            &[],
            &rules
        )),
        ["LIST_WORK_LEADER"]
    );
    let remove = Step::RemoveCrew { person: CREW2 };
    assert!(check(&t, &remove, Some(LEADER), at("2026-11-26 12:00"), &roster(), &[], &rules).is_ok());
    t.crew = vec![CREW];
    assert_eq!(
        codes(check(
            &t,
            &Step::RemoveCrew { person: CREW },
            Some(LEADER),
            at("2026-11-26 12:00"),
            &roster(),
            &[],
            &rules
        )),
        ["TICKET_MIN_CREW"]
    );
    let mut r = roster();
    r.get_mut(&CREW2).expect("crew2").facts.active = false;
    assert_eq!(
        codes(check(&t, &Step::AddCrew { person: CREW2 }, Some(LEADER), at("2026-11-26 12:00"), &r, &[], &rules)),
        ["PERSON_ACTIVE"]
    );
}

#[test]
fn closing_needs_every_safety_measure_restored() {
    let mut t = ticket();
    t.state = State::WorkEnded;
    let rules = RoleRules::default();
    let late = at("2026-11-27 10:00");
    assert_eq!(
        codes(check(&t, &Step::Close { measures_restored: false }, Some(PERMITTER), late, &roster(), &[], &rules)),
        ["TICKET_MEASURES"]
    );
    assert!(
        check(&t, &Step::Close { measures_restored: true }, Some(PERMITTER), late, &roster(), &[], &rules).is_ok(),
        "ended in time"
    );
}

#[test]
fn a_lapsed_ticket_is_void_once_permitted_and_not_executed_before() {
    let mut t = ticket();
    let end = t.end();
    let after = Timestamp::from_utc(end.as_utc() + Duration::minutes(1));
    for (state, stamp) in [
        (State::Draft, Some(State::NotExecuted)),
        (State::Issued, Some(State::NotExecuted)),
        (State::Received, Some(State::NotExecuted)),
        (State::Permitted, Some(State::Void)),
        (State::Started, Some(State::Void)),
        (State::Interrupted, Some(State::Void)),
        (State::WorkEnded, None),
        (State::Closed, None),
    ] {
        t.state = state;
        assert_eq!(lapse(&t, end), None, "{state:?} at its last minute");
        assert_eq!(lapse(&t, after), stamp, "{state:?}");
    }
    t.state = State::Started;
    t.extended_to = Some(after);
    assert_eq!(lapse(&t, after), None, "the extension holds it");
}

fn arb_held() -> impl Strategy<Value = (i64, i64)> {
    (0i64..60, 0i64..60).prop_map(|(a, b)| (a.min(b), a.max(b)))
}

proptest! {
    /// Issue is allowed exactly when enough people are named, all different, and everyone's
    /// qualifications cover the first and the last day of the window.
    #[test]
    fn issue_allowed_exactly_when_the_crew_is_whole_and_qualified(
        crew_size in 0usize..4,
        min_people in 1u32..5,
        leader_list in arb_held(),
        crew_exam in proptest::collection::vec(arb_held(), 4),
        start_day in 0i64..60,
        days in 0i64..5,
    ) {
        let base = d("2026-01-01");
        let day = |n: i64| base + Duration::days(n);
        let mut r = roster();
        let mut leader = person("3 负责", &[]);
        leader.facts.held.retain(|_| false);
        leader.facts.held.push(Held { kind: QualificationKind::SafetyExam, valid_from: day(0), valid_to: day(400), level: None });
        leader.facts.held.push(Held { kind: QualificationKind::WorkLeader, valid_from: day(leader_list.0), valid_to: day(leader_list.1), level: None });
        r.insert(LEADER, leader);
        let ids: Vec<PersonId> = (100..100 + crew_size as i64).map(PersonId::new).collect();
        for (i, id) in ids.iter().enumerate() {
            let (a, b) = crew_exam[i];
            r.insert(*id, Member {
                label: format!("{id}"),
                facts: PersonFacts { active: true, held: vec![Held { kind: QualificationKind::SafetyExam, valid_from: day(a), valid_to: day(b), level: None }], contractor: None, strikes: vec![], readmitted: None },
                contractor_id: None,
            });
        }
        let mut t = ticket();
        t.crew = ids.clone();
        t.doc.min_people = min_people;
        let local = |n: i64, h: u32| Timestamp::from_utc(Utc.from_utc_datetime(&(day(n).and_hms_opt(h, 0, 0).expect("time") - Duration::hours(8))));
        t.planned_start = local(start_day, 9);
        t.planned_end = local(start_day + days, 17);
        t.planning = Planning::Item { day: day(start_day), published: true };
        let (first, last) = (start_day, start_day + days);
        let covers = |(a, b): (i64, i64)| a <= first && last <= b;
        let expected = 1 + crew_size >= min_people as usize
            && covers(leader_list)
            && (0..crew_size).all(|i| covers(crew_exam[i]));
        let got = check(&t, &Step::Issue, Some(ISSUER), at("2026-01-01 08:00"), &r, &[], &RoleRules::default());
        prop_assert_eq!(got.is_ok(), expected, "{:?}", got);
    }

    /// A busy person is refused exactly when the two windows share a moment.
    #[test]
    fn overlap_refused_exactly_when_windows_intersect(a in 0i64..1000, len_a in 1i64..500, b in 0i64..1000, len_b in 1i64..500) {
        let base = at("2026-11-26 00:00").as_utc();
        let ts = |m: i64| Timestamp::from_utc(base + Duration::minutes(m));
        let mut t = ticket();
        t.planned_start = ts(a);
        t.planned_end = ts(a + len_a);
        let busy = Busy { number: "X".into(), people: vec![LEADER], start: ts(b), end: ts(b + len_b) };
        let got = check(&t, &Step::Issue, Some(ISSUER), at("2026-11-25 08:00"), &roster(), &[busy], &RoleRules::default());
        let intersect = a < b + len_b && b < a + len_a;
        prop_assert_eq!(got.is_err(), intersect);
    }
}

/// 到岗到位: a grade-3 ticket starts only while a leader or safety auditor is on site; the
/// window's boundaries are exact (arrived at the very minute counts, left at that minute does not).
#[test]
fn work_needing_a_manager_starts_only_while_one_is_on_site() {
    use crate::supervision::{OnSite, Presence};
    let rules = RoleRules::default();
    let mut t = ticket();
    t.state = State::Permitted;
    t.acknowledged = vec![CREW];
    t.on_site = OnSite { grade: 3, required: vec!["leader".into(), "safety_auditor".into()], present: vec![] };
    let start = |t: &Ticket, when: &str| codes(check(t, &Step::Start, Some(LEADER), at(when), &roster(), &[], &rules));
    assert_eq!(start(&t, "2026-11-26 09:10"), ["SUPERVISION_ONSITE"]);
    let refused =
        check(&t, &Step::Start, Some(LEADER), at("2026-11-26 09:10"), &roster(), &[], &rules).expect_err("refused");
    assert!(refused[0].args.contains(&("onsite_roles", "leader+safety_auditor".into())));
    assert!(refused[0].args.contains(&("grade", "3".into())));
    // Someone on site whose role is not on the table does not count.
    let stay = |roles: &[&str], from: &str, to: Option<&str>| Presence {
        who: "王主任".into(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        arrived: at(from),
        departed: to.map(at),
    };
    t.on_site.present = vec![stay(&["work_leader"], "2026-11-26 08:30", None)];
    assert_eq!(start(&t, "2026-11-26 09:10"), ["SUPERVISION_ONSITE"]);
    t.on_site.present.push(stay(&["safety_auditor"], "2026-11-26 09:10", Some("2026-11-26 10:00")));
    assert_eq!(start(&t, "2026-11-26 09:09"), ["SUPERVISION_ONSITE"], "not yet arrived");
    assert!(start(&t, "2026-11-26 09:10").is_empty(), "arrived that minute");
    assert!(start(&t, "2026-11-26 09:59").is_empty());
    assert_eq!(start(&t, "2026-11-26 10:00"), ["SUPERVISION_ONSITE"], "left that minute");
    // A grade that needs no one starts as before.
    t.on_site = OnSite { grade: 4, required: vec![], present: vec![] };
    assert!(start(&t, "2026-11-26 09:10").is_empty());
}

#[test]
fn supply_waits_for_the_customers_project_acceptance_and_its_defects() {
    use crate::projects::Gate;
    let rules = RoleRules::default();
    let mut t = ticket();
    t.state = State::Received;
    let gate = |accepted: bool, defects: &[&str]| Gate {
        number: "YK-202611-0001".into(),
        accepted,
        open_defects: defects.iter().map(|d| (*d).to_owned()).collect(),
    };
    let permit =
        |t: &Ticket| codes(check(t, &Step::Permit, Some(PERMITTER), at("2026-11-26 09:00"), &roster(), &[], &rules));
    t.projects = vec![gate(false, &["接地电阻不合格"])];
    assert_eq!(permit(&t), ["PROJECT_NOT_ACCEPTED", "PROJECT_DEFECTS_OPEN"]);
    t.projects = vec![gate(true, &["接地电阻不合格"])];
    assert_eq!(permit(&t), ["PROJECT_DEFECTS_OPEN"]);
    t.projects = vec![gate(true, &[])];
    assert!(permit(&t).is_empty());
    // Work that gives no supply (a meter replacement) is not held by the project.
    t.projects = vec![gate(false, &["接地电阻不合格"])];
    t.work_kind = OrderType::MeterReplacement;
    t.order_types = vec![OrderType::MeterReplacement];
    assert!(permit(&t).is_empty());
    t.order_types = vec![OrderType::Reconnect];
    assert_eq!(permit(&t), ["PROJECT_NOT_ACCEPTED", "PROJECT_DEFECTS_OPEN"], "送电 is held too");
}
