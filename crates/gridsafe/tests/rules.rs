//! Rules that once gave the wrong verdict, each tested on its boundary on both backends: the
//! document must cover the ticket's own work kind; the contractor licence is judged at a voltage
//! (the register's for a registered customer) and only confirmed agreements count, limited to
//! their customer; the evaluation set includes the work kind; a ticket at 工作终结 authorises no
//! later work and is flagged to its permit giver; the emergency-power special check is its own
//! cycle; every hazard has a deadline (a later one approved by a manager), a grid-side hazard
//! without its plan escalates, a refused notice is recorded and filed, only a customer's
//! equipment is sealed, a confirmed finding enters the one closed loop; joint inspections count
//! inspectors only. Check-then-write races: 50 of them, exactly one wins.

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::Method;
use gridsafe_domain::access::perm;
use gridsafe_domain::ids::PersonId;
use serde_json::json;
use support::tickets::{Crew, create, crew, ok, rules, sessions, step};
use support::{Fixture, TestApp, meta, operator};

fn body(
    f: &Fixture,
    doc: &str,
    kind: &str,
    leader: &str,
    crew: &[&str],
    customer: &str,
    voltage: &str,
) -> serde_json::Value {
    json!({
        "type_code": doc, "unit_id": f.unit_a, "work_kind": kind, "customer_id": customer,
        "location": "表箱", "content": "作业", "voltage_kv": voltage,
        "planned_start": "2026-11-26 09:00", "planned_end": "2026-11-26 12:00",
        "issuer": "I1", "work_leader": leader, "permitter": "W1", "crew": crew,
    })
}

async fn register_customer(
    app: &TestApp,
    unit: i64,
    no: &str,
    kv: &str,
    industry: &str,
    power: &str,
    since: &str,
) -> i64 {
    let cap = operator().authorize::<perm::CustomersManage>().expect("op");
    let fields: HashMap<String, String> = [
        ("account_no", no),
        ("name", "测试客户"),
        ("address", "书院街"),
        ("voltage_kv", kv),
        ("importance", "none"),
        ("industry", industry),
        ("emergency_power", power),
        ("registered_on", since),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain(std::iter::once(("unit_id".to_owned(), unit.to_string())))
    .collect();
    gridsafe_app::customers::save_customer(app.app(), &cap, &meta(), None, &fields).await.expect("customer")
}

/// Walks a draft from issue to the start of work (the crew acknowledged).
async fn start(app: &TestApp, c: &Crew, id: i64) {
    for (cookie, s) in [
        (&c.cookie_issuer, "issue"),
        (&c.cookie_leader, "receive"),
        (&c.cookie_permitter, "permit"),
        (&c.cookie_crew, "acknowledge"),
        (&c.cookie_leader, "start"),
    ] {
        ok(app, cookie, id, s).await;
    }
}

fn at(hour: i64, minute: i64) -> gridsafe_domain::time::Timestamp {
    gridsafe_domain::time::Timestamp::from_utc(
        support::start_of_test_time().as_utc() + chrono::Duration::hours(hour - 9) + chrono::Duration::minutes(minute),
    )
}

/// 09:00 `days` after the test's first day.
fn on_day(days: i64) -> gridsafe_domain::time::Timestamp {
    gridsafe_domain::time::Timestamp::from_utc(support::start_of_test_time().as_utc() + chrono::Duration::days(days))
}

async fn scalar<T>(app: &TestApp, sql: &'static str, id: i64) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + Unpin,
{
    sqlx::query_scalar(sql).bind(id).fetch_one(app.state.db().pool()).await.expect(sql)
}

backend_tests! {
    async fn the_document_covers_the_work_kind_and_a_registered_customer_gives_the_voltage(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        // A 派工单 covers no field work and needs one person: 装表接电 by one person is refused.
        let alone = create(&app, &c, body(&f, "dispatch", "meter_install", "L1", &[], "4300001", "0.4")).await;
        let r = step(&app, &c.cookie_issuer, alone, json!({"step": "issue"})).await;
        assert_eq!(rules(&r), ["TICKET_TYPE_COVERS"], "{}", r.body);
        assert!(r.body.contains("装表接电"), "the work kind in words: {}", r.body);
        // The same document for what it covers (抄表) is issued with one person.
        let reading = create(&app, &c, body(&f, "dispatch", "meter_reading", "L1", &[], "4300001", "")).await;
        let hazard = app.json(Method::POST, &format!("/api/v1/tickets/{reading}/hazards"),
            Some(json!({"hazard": "犬只咬伤", "measure": "进院前确认犬只拴好"})), &[("cookie", &c.cookie_leader)]).await;
        assert_eq!(hazard.status, 201, "{}", hazard.body);
        ok(&app, &c.cookie_issuer, reading, "issue").await;

        // A registered customer's voltage is the register's: blank takes it, a different one is refused.
        register_customer(&app, f.unit_a.get(), "0701000009", "35kV", "化工", "none", "2026-01-01").await;
        let blank = create(&app, &c, body(&f, "low_voltage", "meter_install", "L2", &["C2"], "0701000009", "")).await;
        let t = app.json(Method::GET, &format!("/api/v1/tickets/{blank}"), None, &[("cookie", &c.cookie_leader)]).await.json();
        assert_eq!(t["voltage_kv"], 35.0, "{t}");
        assert_eq!(t["customer_name"], "测试客户", "named from the register too");
        let wrong = app.json(Method::POST, "/api/v1/tickets",
            Some(body(&f, "low_voltage", "meter_install", "L2", &["C2"], "0701000009", "0.4")), &[("cookie", &c.cookie_leader)]).await;
        assert_eq!(wrong.status, 422, "{}", wrong.body);
        assert!(wrong.body.contains("35 kV") && wrong.body.contains("客户档案"), "{}", wrong.body);
        // Field work at an unregistered customer states its voltage, or issuing is refused.
        let unstated = create(&app, &c, body(&f, "low_voltage", "meter_install", "L2", &["C2"], "4300077", "")).await;
        let r = step(&app, &c.cookie_issuer, unstated, json!({"step": "issue"})).await;
        assert_eq!(rules(&r), ["TICKET_VOLTAGE"], "{}", r.body);
    }

    async fn contractor_work_is_judged_at_a_voltage_and_on_confirmed_agreements(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let op = operator();
        let ccap = op.authorize::<perm::ContractorsManage>().expect("op");
        let pcap = op.authorize::<perm::PeopleManage>().expect("op");
        let staff = gridsafe_app::people::Reach::units(&pcap);
        let firm = gridsafe_app::people::save_contractor(app.app(), &ccap, &meta(), None, gridsafe_app::people::ContractorInput {
            code: "K1".into(), name: "孝感承装五公司".into(), unit_id: f.unit_a, license_level: Some(5),
            license_valid_to: "2026-12-31".into(), ..Default::default()
        }).await.expect("contractor");
        for code in ["KW1", "KI1"] {
            gridsafe_app::people::save_person(app.app(), &staff, &meta(), None, gridsafe_app::people::PersonInput {
                code: code.into(), name: format!("外包{code}"), unit_id: f.unit_a, contractor_id: Some(firm), active: true, ..Default::default()
            }).await.expect("worker");
        }
        for (code, kind) in [("KW1", "safety_exam"), ("KI1", "safety_exam"), ("KI1", "ticket_issuer")] {
            let id = PersonId::new(sqlx::query_scalar("SELECT id FROM people WHERE code = $1").bind(code).fetch_one(app.state.db().pool()).await.expect("id"));
            gridsafe_app::people::add_qualification(app.app(), &staff, &meta(), id, gridsafe_app::people::QualificationInput {
                kind: kind.into(), valid_from: "2026-01-01".into(), valid_to: "2026-12-31".into(), passed: true, ..Default::default()
            }).await.expect("qualification");
        }
        // The contractor's administrator records the agreement himself: a draft.
        let worker = PersonId::new(sqlx::query_scalar("SELECT id FROM people WHERE code = 'KW1'").fetch_one(app.state.db().pool()).await.expect("worker"));
        support::tickets::link(&app, worker, f.user("contractor_admin")).await;
        let own = app.session_for(f.user("contractor_admin")).await;
        let r = app.post_form(&format!("/contractors/{firm}/agreements"), "code=XY-K1&valid_from=2026-01-01&valid_to=2026-12-31", &[("cookie", &own)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let with_worker = |customer: &str, voltage: &str| {
            let mut b = body(&f, "low_voltage", "meter_replacement", "L1", &["KW1"], customer, voltage);
            b["co_issuer"] = json!("KI1");
            b
        };
        let ticket = create(&app, &c, with_worker("4300001", "0.4")).await;
        let refusals = rules(&step(&app, &c.cookie_issuer, ticket, json!({"step": "issue"})).await);
        assert!(refusals.contains(&"CONTRACTOR_AGREEMENT".to_owned()), "a draft satisfies nothing: {refusals:?}");
        // Confirmed by the supply company (the safety auditor), it counts.
        let agreement: i64 = sqlx::query_scalar("SELECT id FROM safety_agreements WHERE code = 'XY-K1'").fetch_one(app.state.db().pool()).await.expect("agreement");
        let by_own = app.post_form(&format!("/contractors/{firm}/agreements/{agreement}/confirm"), "", &[("cookie", &own)]).await;
        assert_eq!(by_own.status, 403, "the contractor cannot confirm his own");
        let r = app.post_form(&format!("/contractors/{firm}/agreements/{agreement}/confirm"), "", &[("cookie", &c.cookie_auditor)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert!(app.audit_actions().await.contains(&"agreement.confirmed".to_owned()));
        let refusals = rules(&step(&app, &c.cookie_issuer, ticket, json!({"step": "issue"})).await);
        assert_eq!(refusals, ["TICKET_DUAL_ISSUE"], "only the co-signature is missing now");

        // An agreement limited to one customer covers only that customer's work.
        sqlx::query("UPDATE safety_agreements SET customer_no = '4300999' WHERE id = $1").bind(agreement).execute(app.state.db().pool()).await.expect("limit");
        let refusals = rules(&step(&app, &c.cookie_issuer, ticket, json!({"step": "issue"})).await);
        assert!(refusals.contains(&"CONTRACTOR_AGREEMENT".to_owned()), "{refusals:?}");
        let there = create(&app, &c, with_worker("4300999", "0.4")).await;
        let refusals = rules(&step(&app, &c.cookie_issuer, there, json!({"step": "issue"})).await);
        assert_eq!(refusals, ["TICKET_DUAL_ISSUE"], "{refusals:?}");

        // The licence (level 5: ≤ 10 kV) is judged at the register's voltage, never skipped.
        sqlx::query("UPDATE safety_agreements SET customer_no = NULL WHERE id = $1").bind(agreement).execute(app.state.db().pool()).await.expect("unlimit");
        register_customer(&app, f.unit_a.get(), "0701000035", "35kV", "化工", "none", "2026-01-01").await;
        let high = create(&app, &c, with_worker("0701000035", "")).await;
        let r = step(&app, &c.cookie_issuer, high, json!({"step": "issue"})).await;
        assert!(rules(&r).contains(&"CONTRACTOR_LICENSE".to_owned()), "{}", r.body);
        assert!(r.body.contains("35"), "{}", r.body);
        let unstated = create(&app, &c, with_worker("4300001", "")).await;
        assert!(rules(&step(&app, &c.cookie_issuer, unstated, json!({"step": "issue"})).await).contains(&"TICKET_VOLTAGE".to_owned()));
    }

    async fn a_ticket_of_a_kind_to_evaluate_counts_without_linked_orders(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        // 装表接电 work, no marketing order linked.
        let id = create(&app, &c, body(&f, "low_voltage", "meter_install", "L1", &["C1"], "4300001", "0.4")).await;
        start(&app, &c, id).await;
        ok(&app, &c.cookie_leader, id, "end_work").await;
        assert_eq!(step(&app, &c.cookie_permitter, id, json!({"step": "close", "measures_restored": true})).await.status, 200);
        let t = app.json(Method::GET, &format!("/api/v1/tickets/{id}"), None, &[("cookie", &c.cookie_auditor)]).await.json();
        assert_eq!(t["must_evaluate"], true, "{t}");
        let stats = app.json(Method::GET, "/api/v1/ticket-stats?month=2026-11", None, &[("cookie", &c.cookie_auditor)]).await.json();
        assert_eq!(stats[0]["must_unevaluated"], 1, "{stats}");
        // Eight days on, the in-app cross-audit finds it unevaluated.
        app.clock.advance(chrono::Duration::days(8));
        let actor = operator();
        let run = gridsafe_app::findings::run_audit(app.app(), actor.actor(), &meta(), "test").await.expect("audit");
        assert!(run.findings >= 1);
        let number: String = scalar(&app, "SELECT number FROM tickets WHERE id = $1", id).await;
        let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM findings WHERE rule = 'UNEVALUATED' AND entity_id = $1")
            .bind(&number).fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(found, 1, "GridSafe's own ticket, known by its work kind");
    }

    async fn work_ended_authorises_nothing_later_and_is_flagged_to_the_permit_giver(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let mut b = body(&f, "low_voltage", "meter_install", "L1", &["C1"], "4300001", "0.4");
        b["planned_end"] = json!("2026-11-26 12:00");
        let first = create(&app, &c, b).await;
        start(&app, &c, first).await;
        app.clock.set(at(10, 0));
        let c = sessions(&app, &f).await;
        ok(&app, &c.cookie_leader, first, "end_work").await;
        // The same leader is free from the moment the work ended, not at the end of the validity.
        let mut b = body(&f, "low_voltage", "meter_install", "L1", &["C2"], "4300002", "0.4");
        b["planned_start"] = json!("2026-11-26 10:00");
        b["planned_end"] = json!("2026-11-26 11:30");
        let second = create(&app, &c, b.clone()).await;
        ok(&app, &c.cookie_issuer, second, "issue").await;
        b["planned_start"] = json!("2026-11-26 09:59");
        let overlapping = create(&app, &c, b).await;
        let r = step(&app, &c.cookie_issuer, overlapping, json!({"step": "issue"})).await;
        assert!(rules(&r).iter().all(|v| v == "TICKET_OVERLAP"), "{}", r.body);
        assert!(r.body.contains("DY-202611-0001"), "a minute before the first ticket's work ended: {}", r.body);

        // Orders at the customer after the work ended are not covered by it; those during it are.
        let import = operator().authorize::<perm::MarketingImport>().expect("op");
        let local = |h: u32, m: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, 26).and_then(|d| d.and_hms_opt(h, m, 0)).expect("time");
        let mut tables = gridsafe_crossaudit::input::Tables::default();
        for (id, from, to) in [("WO-IN", local(9, 20), local(9, 50)), ("WO-AFTER", local(10, 30), local(10, 50))] {
            tables.work_orders.push(gridsafe_crossaudit::input::WorkOrder {
                line: 0, order_id: id.into(), order_type: gridsafe_domain::orders::OrderType::MeterInstall,
                customer_id: "4300001".into(), org_unit: "孝感供电公司".into(), started_at: from, finished_at: to,
                workers: vec!["L1".into(), "C1".into()],
            });
        }
        let imported = gridsafe_app::findings::import_marketing(app.app(), &import, &meta(), f.unit_a, &["orders.csv".into()], tables).await.expect("import");
        assert!(imported.is_ok(), "{imported:?}");
        let no_ticket: Vec<String> = sqlx::query_scalar("SELECT entity_id FROM findings WHERE rule = 'NO_TICKET' ORDER BY entity_id")
            .fetch_all(app.state.db().pool()).await.expect("findings");
        assert_eq!(no_ticket, ["WO-AFTER"], "covered only while the work went on");

        // Past its validity and still not closed: on the permit giver's home page, late, and counted.
        app.clock.set(at(12, 1));
        let c = sessions(&app, &f).await;
        let home = app.get_with("/", &[("cookie", &c.cookie_permitter)]).await;
        assert!(home.body.contains("data-late"), "{}", home.body);
        let stats = app.json(Method::GET, "/api/v1/ticket-stats?month=2026-11", None, &[("cookie", &c.cookie_auditor)]).await.json();
        assert_eq!(stats.as_array().and_then(|a| a.last()).map(|t| t["left_unclosed"].clone()), Some(json!(1)), "{stats}");
        gridsafe_app::tickets::lapse_overdue(app.app(), &meta()).await.expect("lapse");
        let state: String = scalar(&app, "SELECT state FROM tickets WHERE id = $1", first).await;
        assert_eq!(state, "work_ended", "closing it stays the permit giver's duty: no automatic stamp");
        assert_eq!(step(&app, &c.cookie_permitter, first, json!({"step": "close", "measures_restored": true})).await.status, 200);
        let stats = app.json(Method::GET, "/api/v1/ticket-stats?month=2026-11", None, &[("cookie", &c.cookie_auditor)]).await.json();
        assert_eq!(stats.as_array().and_then(|a| a.last()).map(|t| t["left_unclosed"].clone()), Some(json!(0)));
    }

    async fn the_emergency_power_check_is_a_cycle_of_its_own(app: TestApp) {
        let f = app.fixture().await;
        let (j1, j2) = (app.person(f.unit_a1, "J1", &[]).await, app.person(f.unit_a1, "J2", &[]).await);
        let pcap = operator().authorize::<perm::PeopleManage>().expect("op");
        let reach = gridsafe_app::people::Reach::units(&pcap);
        for id in [j1, j2] {
            gridsafe_app::people::add_qualification(app.app(), &reach, &meta(), id, gridsafe_app::people::QualificationInput {
                kind: "inspector".into(), valid_from: "2026-01-01".into(), valid_to: "2026-12-31".into(), level: Some(1), passed: true, ..Default::default()
            }).await.expect("inspector");
        }
        // A bank without registered emergency power: on the six-month special check by its industry.
        let bank = register_customer(&app, f.unit_a1.get(), "0701000201", "0.4kV", "银行", "none", "2026-04-01").await;
        let inspector = app.session_for(f.user("inspector")).await;
        let tracks = |page: &str| -> Vec<(String, String)> {
            page.split("data-track=\"").skip(1).filter_map(|s| {
                let track = s.split('"').next()?.to_owned();
                let due = s.split("data-due=\"").nth(1)?.split('"').next()?.to_owned();
                Some((track, due))
            }).collect()
        };
        let page = app.get_with(&format!("/customers/{bank}"), &[("cookie", &inspector)]).await.body;
        assert!(tracks(&page).contains(&("emergency_power".into(), "overdue".into())), "{page}");
        let items = gridsafe_app::customers::checklist(app.app()).await.expect("checklist");
        let form = |kind: &str, emergency: &str| {
            let mut body = format!("inspected_on=2026-11-26&kind={kind}&inspector={j1}&inspector={j2}");
            for i in &items {
                let outcome = if i.section == "emergency_power" { emergency } else { "ok" };
                body.push_str(&format!("&result_{}={outcome}", i.id));
            }
            body
        };
        // A periodic visit that answered the emergency items 不适用 does not complete the check.
        assert_eq!(app.post_form(&format!("/customers/{bank}/inspections"), &form("periodic", "na"), &[("cookie", &inspector)]).await.status, 303);
        let page = app.get_with(&format!("/customers/{bank}"), &[("cookie", &inspector)]).await.body;
        assert!(tracks(&page).contains(&("emergency_power".into(), "overdue".into())), "still overdue: {page}");
        let plan = app.get_with("/inspections/plan?month=2026-11", &[("cookie", &inspector)]).await.body;
        assert!(plan.contains("data-track=\"emergency_power\"><a href=\"/customers/") , "{plan}");
        // One that actually checked the section does; so does an emergency-power check.
        assert_eq!(app.post_form(&format!("/customers/{bank}/inspections"), &form("periodic", "ok"), &[("cookie", &inspector)]).await.status, 303);
        let page = app.get_with(&format!("/customers/{bank}"), &[("cookie", &inspector)]).await.body;
        assert!(tracks(&page).contains(&("emergency_power".into(), "not_due".into())), "{page}");
        let other = register_customer(&app, f.unit_a1.get(), "0701000202", "0.4kV", "养殖场", "none", "2026-04-01").await;
        assert_eq!(app.post_form(&format!("/customers/{other}/inspections"), &form("emergency_power", "na"), &[("cookie", &inspector)]).await.status, 303);
        let cap = operator().authorize::<perm::CustomersView>().expect("op");
        let farm = gridsafe_app::customers::customer(app.app(), &cap, other).await.expect("farm");
        assert_eq!(farm.emergency.last.map(|d| d.to_string()).as_deref(), Some("2026-11-26"));
        assert_eq!(farm.emergency.due.map(|d| d.to_string()).as_deref(), Some("2027-05-26"));
        assert_eq!(farm.periodic.last, None, "an emergency-power check is not a periodic inspection");
        // Registered emergency power: the yearly check, whatever the industry.
        let registered = register_customer(&app, f.unit_a1.get(), "0701000203", "0.4kV", "银行", "registered", "2026-04-01").await;
        let r = gridsafe_app::customers::customer(app.app(), &cap, registered).await.expect("customer");
        assert_eq!((r.emergency.rule.as_deref(), r.emergency.months), (Some("emergency_power_registered"), Some(12)));
    }

    async fn every_hazard_has_a_deadline_and_a_later_one_needs_a_managers_approval(app: TestApp) {
        let f = app.fixture().await;
        let inspector = app.session_for(f.user("inspector")).await;
        let leader = app.session_for(f.user("leader")).await;
        let r = app.post_form("/hazards", &format!("unit_id={}&title=%E8%A1%A8%E7%AE%B1%E9%97%A8%E9%94%81&grade=general&responsibility=grid", f.unit_a1), &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let id: i64 = r.header("location").trim_start_matches("/hazards/").parse().expect("id");
        let h = app.json(Method::GET, &format!("/api/v1/hazards/{id}"), None, &[("cookie", &inspector)]).await.json();
        assert_eq!((h["deadline"].as_str(), h["deadline_limit"].as_str(), h["due"].as_str()), (Some("2027-02-24"), Some("2027-02-24"), Some("2026-11-29")), "{h}");
        // No plan within three days: escalated the day after.
        app.clock.set(on_day(3));
        assert_eq!(gridsafe_app::customers::escalate_overdue(app.app(), &meta()).await.expect("job"), 0);
        app.clock.set(on_day(4));
        assert_eq!(gridsafe_app::customers::escalate_overdue(app.app(), &meta()).await.expect("job"), 1, "waiting for its plan");
        let inspector = app.session_for(f.user("inspector")).await;
        let leader_cookie = app.session_for(f.user("leader")).await;
        let _ = leader;
        // A plan's deadline stays within the grade's days.
        app.person(f.unit_a1, "B1", &[]).await;
        // Typed words are not a person: the plan names one of the register.
        let typed = app.post_form(&format!("/hazards/{id}/steps"), "step=plan&owner=%E7%8F%AD%E9%95%BF&tasks=t&deadline=2027-02-24", &[("cookie", &inspector)]).await;
        assert!(typed.status == 422 && typed.body.contains("不在名册中") && typed.body.contains(r#"data-field="owner""#), "{}", typed.body);
        let plan = |deadline: &str| format!("step=plan&owner=B1&tasks=%E6%8D%A2%E9%94%81&deadline={deadline}");
        let late = app.post_form(&format!("/hazards/{id}/steps"), &plan("2027-02-25"), &[("cookie", &inspector)]).await;
        assert_eq!(late.status, 409, "{}", late.body);
        assert!(late.body.contains("HAZARD_DEADLINE_LIMIT") || late.body.contains("最长期限"), "{}", late.body);
        assert_eq!(app.post_form(&format!("/hazards/{id}/steps"), &plan("2027-02-24"), &[("cookie", &inspector)]).await.status, 303);
        // A later one: asked for with a reason, approved by a manager, then it is the deadline.
        let ask = app.post_form(&format!("/hazards/{id}/extension"), "to=2027-04-30&reason=%E9%85%8D%E4%BB%B6%E5%88%B0%E8%B4%A7", &[("cookie", &inspector)]).await;
        assert_eq!(ask.status, 303, "{}", ask.body);
        let h = app.json(Method::GET, &format!("/api/v1/hazards/{id}"), None, &[("cookie", &inspector)]).await.json();
        assert_eq!(h["deadline"], "2027-02-24", "nothing changes before the approval");
        assert_eq!(app.post_form(&format!("/hazards/{id}/extension/decision"), "approve=1", &[("cookie", &inspector)]).await.status, 403);
        assert_eq!(app.post_form(&format!("/hazards/{id}/extension/decision"), "approve=1", &[("cookie", &leader_cookie)]).await.status, 303);
        let h = app.json(Method::GET, &format!("/api/v1/hazards/{id}"), None, &[("cookie", &inspector)]).await.json();
        assert_eq!((h["deadline"].as_str(), h["deadline_limit"].as_str()), (Some("2027-04-30"), Some("2027-04-30")), "{h}");
        // Nobody approves his own request.
        let both = app.user("both", f.unit_a, &[("inspector", f.unit_a), ("leader", f.unit_a)]).await;
        let both = app.session_for(both).await;
        assert_eq!(app.post_form(&format!("/hazards/{id}/extension"), "to=2027-05-31&reason=r", &[("cookie", &both)]).await.status, 303);
        let own = app.post_form(&format!("/hazards/{id}/extension/decision"), "approve=1", &[("cookie", &both)]).await;
        assert_eq!(own.status, 409, "{}", own.body);
        for a in ["hazard.extension_requested", "hazard.extension_approved", "hazard.escalated"] {
            assert!(app.audit_actions().await.iter().any(|x| x == a), "{a}");
        }
    }

    async fn a_refused_notice_is_recorded_and_filed_and_only_a_customers_equipment_is_sealed(app: TestApp) {
        let f = app.fixture().await;
        let inspector = app.session_for(f.user("inspector")).await;
        let customer = register_customer(&app, f.unit_a1.get(), "0701000301", "10kV", "化工", "none", "2026-01-01").await;
        let r = app.post_form("/hazards", &format!("customer_id={customer}&title=t&grade=general&responsibility=customer"), &[("cookie", &inspector)]).await;
        let id: i64 = r.header("location").trim_start_matches("/hazards/").parse().expect("id");
        assert_eq!(app.post_form(&format!("/hazards/{id}/steps"), "step=notify&deadline=2026-12-26", &[("cookie", &inspector)]).await.status, 303);
        // Without a photo of the delivery the refusal is not recorded.
        let r = app.json(Method::POST, &format!("/api/v1/hazards/{id}/steps"),
            Some(json!({"step": "refuse_receipt", "refused_on": "2026-11-26", "delivery": "留置送达", "witness": "网格员 李敏"})), &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.json()["error"]["rule"]["code"], "HAZARD_RECEIPT_REFUSED");
        assert!(r.body.contains("现场照片"), "{}", r.body);
        // With the photo (the page's form), it is; filing follows, and rectification after it.
        let png: &[u8] = b"\x89PNG\r\n\x1a\n0000";
        let mut form = Vec::new();
        for (name, value) in [("refused_on", "2026-11-26"), ("delivery", "留置送达"), ("witness", "网格员 李敏")] {
            form.extend(format!("--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").into_bytes());
        }
        form.extend(b"--B\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"door.png\"\r\nContent-Type: image/png\r\n\r\n");
        form.extend(png);
        form.extend(b"\r\n--B--\r\n");
        let request = axum::http::Request::builder().method(Method::POST).uri(format!("/hazards/{id}/refusal"))
            .header("cookie", &inspector).header("sec-fetch-site", "same-origin").header("content-type", "multipart/form-data; boundary=B")
            .body(axum::body::Body::from(form)).expect("request");
        let r = app.request(request).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let h = app.json(Method::GET, &format!("/api/v1/hazards/{id}"), None, &[("cookie", &inspector)]).await.json();
        assert_eq!(h["state"], "receipt_refused");
        let early = app.post_form(&format!("/hazards/{id}/steps"), "step=rectify", &[("cookie", &inspector)]).await;
        assert_eq!(early.status, 409);
        assert_eq!(app.post_form(&format!("/hazards/{id}/steps"), "step=file&filed_on=2026-11-26&reference=%E5%AD%9D%E7%94%B5%E5%8A%9B47", &[("cookie", &inspector)]).await.status, 303);
        assert_eq!(app.post_form(&format!("/hazards/{id}/steps"), "step=rectify", &[("cookie", &inspector)]).await.status, 303);
        let page = app.get_with(&format!("/hazards/{id}"), &[("cookie", &inspector)]).await.body;
        assert!(page.contains("data-refused") && page.contains("网格员 李敏"), "{page}");

        // 封存 is for a violating customer's equipment only: a grid-side hazard's is refused.
        let r = app.post_form("/hazards", &format!("customer_id={customer}&title=g&grade=general&responsibility=grid"), &[("cookie", &inspector)]).await;
        let grid: i64 = r.header("location").trim_start_matches("/hazards/").parse().expect("id");
        let seal = app.post_form(&format!("/hazards/{grid}/seals"), "equipment=%E5%8F%98%E5%8E%8B%E5%99%A8&seal_number=F1&sealed_on=2026-11-26", &[("cookie", &inspector)]).await;
        assert_eq!(seal.status, 409, "{}", seal.body);
        assert!(seal.body.contains("SEAL_CUSTOMER_ONLY") || seal.body.contains("只有客户违约用电的设备"), "{}", seal.body);
        assert_eq!(app.post_form(&format!("/hazards/{id}/seals"), "equipment=%E5%8F%91%E7%94%B5%E6%9C%BA&seal_number=F2&sealed_on=2026-11-26", &[("cookie", &inspector)]).await.status, 303);
    }

    async fn a_confirmed_finding_goes_round_the_one_closed_loop(app: TestApp) {
        let f = app.fixture().await;
        app.person(f.unit_a1, "B1", &[]).await;
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let finding: i64 = sqlx::query_scalar(
            "INSERT INTO findings (rule, entity_kind, entity_id, subject, detail, unit_id, month, state, first_seen_at, last_seen_at) \
             VALUES ('NO_TICKET', 'order', 'WO-77', '', '换表工单无票作业', $1, '2026-11', 'open', '2026-11-26T00:00:00.000000Z', '2026-11-26T00:00:00.000000Z') RETURNING id",
        ).bind(f.unit_a1.get()).fetch_one(app.state.db().pool()).await.expect("finding");
        let r = app.json(Method::POST, &format!("/api/v1/findings/{finding}/review"),
            Some(json!({"decision": "confirm", "responsible": "B1 测试B1", "deadline": "2026-12-10"})), &[("cookie", &auditor)]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let f_out = app.json(Method::GET, &format!("/api/v1/findings/{finding}"), None, &[("cookie", &auditor)]).await.json();
        let hazard = f_out["hazard_id"].as_i64().expect("a hazard in the loop");
        let h = app.json(Method::GET, &format!("/api/v1/hazards/{hazard}"), None, &[("cookie", &auditor)]).await.json();
        assert_eq!((h["source"].as_str(), h["state"].as_str(), h["deadline"].as_str(), h["responsibility"].as_str()),
            (Some("finding"), Some("planned"), Some("2026-12-10"), Some("grid")), "{h}");
        // Overdue: escalated like any hazard.
        app.clock.set(on_day(15));
        assert_eq!(gridsafe_app::customers::escalate_overdue(app.app(), &meta()).await.expect("job"), 1);
        let auditor = app.session_for(f.user("safety_auditor")).await;
        // The safety auditor follows it up: rectified, reviewed (复查) and closed (销号).
        for s in ["rectify", "submit_for_review"] {
            assert_eq!(app.post_form(&format!("/hazards/{hazard}/steps"), &format!("step={s}"), &[("cookie", &auditor)]).await.status, 303, "{s}");
        }
        let done = app.post_form(&format!("/hazards/{hazard}/steps"), "step=review&passed=1&evidence=%E5%B7%B2%E8%A1%A5%E5%8A%9E", &[("cookie", &auditor)]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        let h = app.json(Method::GET, &format!("/api/v1/hazards/{hazard}"), None, &[("cookie", &auditor)]).await.json();
        assert_eq!((h["state"].as_str(), h["escalation"].as_i64()), (Some("closed"), Some(1)));
        // The auditor's field steps reach only a finding's hazards.
        let inspector = app.session_for(f.user("inspector")).await;
        let r = app.post_form("/hazards", &format!("unit_id={}&title=x&grade=general&responsibility=grid", f.unit_a1), &[("cookie", &inspector)]).await;
        let other: i64 = r.header("location").trim_start_matches("/hazards/").parse().expect("id");
        let r = app.post_form(&format!("/hazards/{other}/steps"), "step=plan&owner=o&tasks=t&deadline=2026-12-31", &[("cookie", &auditor)]).await;
        assert_eq!(r.status, 403);
    }

    async fn joint_inspections_count_inspectors_only(app: TestApp) {
        let f = app.fixture().await;
        let pcap = operator().authorize::<perm::PeopleManage>().expect("op");
        let reach = gridsafe_app::people::Reach::units(&pcap);
        let (j1, j2) = (app.person(f.unit_a1, "J1", &[]).await, app.person(f.unit_a1, "J2", &[]).await);
        for id in [j1, j2] {
            gridsafe_app::people::add_qualification(app.app(), &reach, &meta(), id, gridsafe_app::people::QualificationInput {
                kind: "inspector".into(), valid_from: "2026-01-01".into(), valid_to: "2026-12-31".into(), level: Some(1), passed: true, ..Default::default()
            }).await.expect("inspector");
        }
        let customer = register_customer(&app, f.unit_a1.get(), "0701000401", "35kV", "化工", "registered", "2026-01-01").await;
        let inspector = app.session_for(f.user("inspector")).await;
        let items = gridsafe_app::customers::checklist(app.app()).await.expect("checklist");
        let form = |inspectors: &[i64]| {
            let mut body = String::from("inspected_on=2026-11-26&kind=periodic&participant_name=%E7%8E%8B%E5%B7%A5&participant_department=%E7%94%9F%E6%8A%80&participant_name=%E8%B5%B5%E5%B7%A5&participant_department=%E6%A3%80%E4%BF%AE&participant_name=&participant_department=%E8%BF%90%E8%A1%8C");
            for i in inspectors {
                body.push_str(&format!("&inspector={i}"));
            }
            for i in &items {
                body.push_str(&format!("&result_{}=ok", i.id));
            }
            body
        };
        let one = app.post_form(&format!("/customers/{customer}/inspections"), &form(&[j1.get()]), &[("cookie", &inspector)]).await;
        assert_eq!(one.status, 409, "two accompanying staff do not make up the second inspector: {}", one.body);
        assert!(one.body.contains("INSPECTION_INSPECTORS") || one.body.contains("不得少于两人"), "{}", one.body);
        let two = app.post_form(&format!("/customers/{customer}/inspections"), &form(&[j1.get(), j2.get()]), &[("cookie", &inspector)]).await;
        assert_eq!(two.status, 303, "{}", two.body);
        let page = app.get_with(two.header("location"), &[("cookie", &inspector)]).await.body;
        assert!(page.contains("data-participants") && page.contains("王工（生技）") && page.contains("赵工（检修）"), "{page}");
        let notice = app.get_with(&format!("{}/notice", two.header("location")), &[("cookie", &inspector)]).await.body;
        assert!(notice.contains("王工（生技）"), "on the notice too");
        let manager = app.session_for(f.user("customer_manager")).await;
        assert_eq!(app.post_form(&format!("/customers/{customer}/inspections"), &form(&[j1.get(), j2.get()]), &[("cookie", &manager)]).await.status, 403,
            "inspections are the inspector's work");
    }

    async fn two_managers_deciding_one_extension_at_once_decide_it_once(app: TestApp) {
        let f = app.fixture().await;
        let record = operator().authorize::<perm::InspectionsRecord>().expect("op");
        let input = gridsafe_app::customers::HazardInput {
            unit_id: Some(f.unit_a1), title: "t".into(), grade: "general".into(), responsibility: "grid".into(), ..Default::default()
        };
        let id = gridsafe_app::customers::register_hazard(app.app(), &record, &meta(), input).await.expect("hazard");
        let managers: Vec<_> = ["m1", "m2"].iter().map(|n| {
            gridsafe_domain::access::Principal::new(
                gridsafe_domain::access::Actor { user_id: None, name: (*n).into(), channel: gridsafe_domain::access::Channel::Web },
                vec![(gridsafe_domain::access::Permission::HazardsApprove, gridsafe_domain::access::UnitPath::parse("/1/").expect("root"))],
            ).authorize::<perm::HazardsApprove>().expect("approver")
        }).collect();
        let mut won = Vec::new();
        for round in 0..50 {
            let to = format!("2027-03-{:02}", 1 + round % 28);
            let to = if round >= 28 { format!("2027-04-{:02}", 1 + round % 28) } else { to };
            gridsafe_app::customers::request_extension(app.app(), &record, &meta(), id, &to, "配件到货").await.expect("asked");
            let barrier = Arc::new(tokio::sync::Barrier::new(2));
            let mut tasks = Vec::new();
            for m in &managers {
                let (app, cap, barrier) = (app.app().clone(), m.clone(), barrier.clone());
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    gridsafe_app::customers::decide_extension(&app, &cap, &meta(), id, true).await.is_ok()
                }));
            }
            let mut wins = 0;
            for t in tasks {
                wins += usize::from(t.await.expect("task"));
            }
            won.push(wins);
        }
        assert!(won.iter().all(|w| *w == 1), "exactly one approval per request: {won:?}");
        let approvals: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hazard_steps WHERE hazard_id = $1 AND step = 'extension_approved'")
            .bind(id).fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(approvals, 50);
    }

    async fn two_confirmations_of_one_draft_agreement_confirm_it_once(app: TestApp) {
        let f = app.fixture().await;
        let ccap = operator().authorize::<perm::ContractorsManage>().expect("op");
        let firm = gridsafe_app::people::save_contractor(app.app(), &ccap, &meta(), None, gridsafe_app::people::ContractorInput {
            code: "K9".into(), name: "承装九公司".into(), unit_id: f.unit_a, ..Default::default()
        }).await.expect("contractor");
        let mut won = Vec::new();
        for round in 0..50 {
            let id: i64 = sqlx::query_scalar("INSERT INTO safety_agreements (code, contractor_id, valid_from, valid_to, created_at, recorded_by) VALUES ($1, $2, '2026-01-01', '2026-12-31', '2026-11-26T00:00:00.000000Z', 'k') RETURNING id")
                .bind(format!("D{round}")).bind(firm).fetch_one(app.state.db().pool()).await.expect("draft");
            let barrier = Arc::new(tokio::sync::Barrier::new(2));
            let mut tasks = Vec::new();
            for _ in 0..2 {
                let (app, cap, barrier) = (app.app().clone(), ccap.clone(), barrier.clone());
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    gridsafe_app::people::confirm_agreement(&app, &cap, &meta(), id).await.is_ok()
                }));
            }
            let mut wins = 0;
            for t in tasks {
                wins += usize::from(t.await.expect("task"));
            }
            won.push(wins);
        }
        assert!(won.iter().all(|w| *w == 1), "{won:?}");
        let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'agreement.confirmed'")
            .fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(events, 50);
    }

    async fn two_administrator_roles_granted_at_once_end_with_one(app: TestApp) {
        let f = app.fixture().await;
        let cap = operator().authorize::<perm::UsersManage>().expect("op");
        let mut won = Vec::new();
        for round in 0..50 {
            let user = app.user(&format!("admin{round}"), f.unit_a, &[]).await;
            let barrier = Arc::new(tokio::sync::Barrier::new(2));
            let mut tasks = Vec::new();
            for role in ["security_admin", "log_auditor"] {
                let (app, cap, barrier) = (app.app().clone(), cap.clone(), barrier.clone());
                tasks.push(tokio::spawn(async move {
                    barrier.wait().await;
                    gridsafe_app::identity::grant_role(&app, &cap, &meta(), user, role, f.unit_a).await.is_ok()
                }));
            }
            let mut wins = 0;
            for t in tasks {
                wins += usize::from(t.await.expect("task"));
            }
            let held: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user_roles WHERE user_id = $1").bind(user).fetch_one(app.state.db().pool()).await.expect("held");
            won.push((wins, held));
        }
        assert!(won.iter().all(|w| *w == (1, 1)), "{won:?}");
    }
}

/// A ticket saved without a voltage, then one with a voltage, on the same database connection:
/// both are written (sqlx's `Any` driver once typed the first NULL as `float4` in the cached
/// statement, and PostgreSQL then refused the second).
async fn a_missing_voltage_does_not_spoil_the_next(backend: support::Backend) {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(url) = support::fresh_database(backend, dir.path()).await else { return };
    let mut settings = gridsafe::Settings::default();
    settings.database.url = gridsafe_store::DatabaseUrl::new(url);
    settings.database.max_connections = 1;
    settings.audit.signing_key_path = dir.path().join("audit.key");
    let app = TestApp::with_settings(settings, dir).await;
    let f = app.fixture().await;
    let c = crew(&app, &f).await;
    for voltage in ["", "0.4", "", "10"] {
        create(&app, &c, body(&f, "low_voltage", "meter_install", "L1", &["C1"], "4300001", voltage)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_missing_voltage_does_not_spoil_the_next() {
    a_missing_voltage_does_not_spoil_the_next(support::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_missing_voltage_does_not_spoil_the_next() {
    a_missing_voltage_does_not_spoil_the_next(support::Backend::Postgres).await;
}
