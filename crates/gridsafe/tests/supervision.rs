//! On-site supervision on SQLite and PostgreSQL: work graded to need a manager on site does not
//! start until one has arrived (到岗到位), arrivals are checked against the ticket's window and
//! taken once at a time (raced), missing attendance is a finding where the gate is off; the
//! violation register counts points that suspend a person's field roles until his serious
//! violations are explained (说清楚) and he is re-admitted after an exam (raced); a customer's
//! violation opens his hazard; the month's figures and ledger.

mod support;

use std::sync::Arc;

use axum::http::Method;
use gridsafe_app::supervision::{self, ArrivalInput, Position};
use gridsafe_domain::access::{Permission, perm};
use gridsafe_domain::ids::TicketId;
use serde_json::{Value, json};
use support::tickets::{Crew, create, crew, draft, ok, rules, step};
use support::{Fixture, TestApp, cap, meta, principal, race, rule_codes};

/// Registers customer `no` (0.4 kV), important when `important`: an important customer raises
/// the grade of work at his site one level (四级 → 三级 for a low-voltage meter install).
async fn register(app: &TestApp, f: &Fixture, no: &str, important: bool) {
    sqlx::query(
        "INSERT INTO customers (account_no, name, address, unit_id, voltage_kv, importance, industry, supply_sources, emergency_power, registered_on, updated_at, updated_by) \
         VALUES ($1, '测试客户', '书院街 18 号', $2, 0.4, $3, '医院', 1, 'none', '2026-01-01', '2026-01-01T00:00:00.000000Z', 'test')",
    )
    .bind(no)
    .bind(f.unit_a.get())
    .bind(if important { "second" } else { "none" })
    .execute(app.state.db().pool())
    .await
    .expect("customer");
}

/// A permitted grade-3 ticket (an important customer's meter install) for L1 and `crew`, on
/// 26 November 09:00–17:00, briefing acknowledged: ready to start.
async fn permitted(app: &TestApp, f: &Fixture, c: &Crew, leader: &str, crew_code: &str, cookie_crew: &str) -> i64 {
    let mut body = draft(f, leader, &[crew_code], "2026-11-26 09:00", "2026-11-26 17:00");
    body["customer_id"] = json!("4300001");
    let id = create(app, c, body).await;
    ok(app, &c.cookie_issuer, id, "issue").await;
    ok(app, &c.cookie_leader, id, "receive").await;
    ok(app, &c.cookie_permitter, id, "permit").await;
    ok(app, cookie_crew, id, "acknowledge").await;
    id
}

async fn city_a(app: &TestApp, f: &Fixture) -> gridsafe_domain::access::UnitPath {
    gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path
}

fn arrival() -> Value {
    json!({"position": {"lat": 30.9245, "lon": 113.9166, "accuracy_m": 15.0}, "note": "到现场核对安措"})
}

async fn arrive(app: &TestApp, cookie: &str, id: i64, body: Value) -> support::TestResponse {
    app.json(Method::POST, &format!("/api/v1/tickets/{id}/arrivals"), Some(body), &[("cookie", cookie)]).await
}

fn violation(offender: &str, who: &str, severity: &str) -> Value {
    let mut v = json!({
        "offender": offender, "place": "书院街 18 号表箱", "class": "behaviour", "severity": severity,
        "rule_broken": "《国家电网公司电力安全工作规程》工作票制度", "description": "现场检查发现", "responsible": "L1",
    });
    v[offender] = json!(who);
    v
}

async fn record(app: &TestApp, cookie: &str, body: Value) -> support::TestResponse {
    app.json(Method::POST, "/api/v1/violations", Some(body), &[("cookie", cookie)]).await
}

backend_tests! {
    async fn a_month_of_more_violations_than_a_batch_is_counted_whole(app: TestApp) {
        // A province's month: two serious violations by P1 on the 1st (12 points: suspended),
        // then 10,040 general ones by a team. The month and the points period were read up to
        // their latest 10,000: P1's were in no figure, and he was not on the to-do list.
        let f = app.fixture().await;
        let p1 = app.person(f.unit_a, "P1", &["work_leader"]).await;
        let insert = format!(
            "INSERT INTO violations (number, unit_id, offender_kind, person_id, team, occurred_at, place, class, severity, \
             points, rule_broken, description, recorded_by, recorded_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10042) \
             SELECT 'WZ' || CAST(i AS TEXT), {unit}, CASE WHEN i <= 2 THEN 'person' ELSE 'team' END, \
             CASE WHEN i <= 2 THEN {p1} END, CASE WHEN i <= 2 THEN NULL ELSE '装表一班' END, \
             CASE WHEN i <= 2 THEN '2026-11-01T02:00:00.000000Z' ELSE '2026-11-20T02:00:00.000000Z' END, '现场', \
             CASE WHEN i <= 2 THEN 'behaviour' ELSE 'management' END, CASE WHEN i <= 2 THEN 'serious' ELSE 'general' END, \
             CASE WHEN i <= 2 THEN 6 ELSE 1 END, '规程', '说明', 'test', '2026-11-20T02:00:00.000000Z' FROM n",
            unit = f.unit_a.get(),
            p1 = p1.get()
        );
        sqlx::query(sqlx::AssertSqlSafe(insert)).execute(app.state.db().pool()).await.expect("violations");
        let auditor = principal(
            f.user("safety_auditor"),
            "u_safety_auditor",
            &[Permission::ViolationsView, Permission::ViolationsReview],
            &city_a(&app, &f).await,
        );
        let d = supervision::dashboard(app.app(), &cap::<perm::ViolationsView>(&auditor), "2026-11").await.expect("dashboard");
        assert_eq!((d.total, d.points, d.awaiting_review), (10042, 12 + 10040, 2));
        use gridsafe_domain::supervision::{Class, Severity};
        assert_eq!(d.by_class, [(Class::Management, 10040), (Class::Behaviour, 2)]);
        assert_eq!(d.by_severity, [(Severity::Serious, 2), (Severity::General, 10040)]);
        assert_eq!(d.by_team, [("装表一班".to_owned(), 10040)]);
        assert_eq!(d.violations.len(), supervision::LISTED, "the latest listed");
        assert_eq!(d.violations[0].number, "WZ10042");
        // The API pages the month, latest first, each violation once.
        let cookie = app.session_for(f.user("safety_auditor")).await;
        let pages = app.api_pages(&[("cookie", &cookie)], "/api/v1/violations?month=2026-11").await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2000, 2000, 2000, 2000, 2000, 42]);
        assert_eq!(pages.concat(), (1..=10042).rev().collect::<Vec<i64>>());
        let r = app.json(Method::GET, "/api/v1/violations?month=2026-11&after=1~1", None, &[("cookie", &cookie)]).await;
        assert_eq!((r.status.as_u16(), r.json().as_array().map(Vec::len)), (200, Some(0)), "nothing before 1970");
        for refused in ["/api/v1/violations?limit=0", "/api/v1/violations?limit=2001", "/api/v1/violations?after=x"] {
            assert_eq!(app.json(Method::GET, refused, None, &[("cookie", &cookie)]).await.status, 422, "{refused}");
        }
        let todo = supervision::todo(app.app(), &auditor).await.expect("todo");
        assert!(todo.iter().any(|t| t.what == "home-todo-person-suspended" && t.subject.starts_with("P1")), "{:?}", todo.iter().map(|t| (t.what, &t.subject)).collect::<Vec<_>>());
    }

    async fn graded_work_starts_only_once_a_manager_has_arrived(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        register(&app, &f, "4300001", true).await;
        let id = permitted(&app, &f, &c, "L1", "C1", &c.cookie_crew).await;
        let t = app.json(Method::GET, &format!("/api/v1/tickets/{id}"), None, &[("cookie", &c.cookie_leader)]).await.json();
        assert_eq!(t["risk"]["level"], 3);
        assert_eq!(t["on_site"]["required_roles"], json!(["leader", "safety_auditor"]));
        // 开工 is refused, naming the rule and who must come.
        let r = step(&app, &c.cookie_leader, id, json!({"step": "start"})).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(rules(&r), ["SUPERVISION_ONSITE"]);
        assert!(r.body.contains("领导") && r.body.contains("营销安全稽查员"), "{}", r.body);
        // The leader's home page asks him to go there (late: the work was due at 09:00).
        let leader = principal(f.user("leader"), "u_leader", &[Permission::SupervisionAttend], &city_a(&app, &f).await);
        let todo = |who: gridsafe_domain::access::Principal| {
            let app = &app;
            async move { supervision::todo(app.app(), &who).await.expect("todo").into_iter().map(|t| (t.what, t.late)).collect::<Vec<_>>() }
        };
        assert_eq!(todo(leader.clone()).await, [("home-todo-onsite-arrive", true)]);
        // Only a manager records an arrival; a crew member may not.
        assert_eq!(arrive(&app, &c.cookie_crew, id, arrival()).await.status, 403);
        // A position outside the earth is bad input, named.
        let bad = arrive(&app, &c.cookie_manager, id, json!({"position": {"lat": 91.0, "lon": 0.0}})).await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.body.contains("position"));
        // A remark is at most 500 characters: one more is refused, naming it.
        let long = arrive(&app, &c.cookie_manager, id, json!({"note": "备".repeat(501)})).await;
        assert_eq!(long.status, 422, "{}", long.body);
        assert!(long.body.contains("\"note\""), "{}", long.body);
        let mut at_the_limit = arrival();
        at_the_limit["note"] = json!("备".repeat(500));
        let r = arrive(&app, &c.cookie_manager, id, at_the_limit).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let stays = r.json()["on_site"]["stays"].clone();
        assert_eq!(todo(leader.clone()).await, [("home-todo-onsite-depart", false)], "there now: leave when done");
        assert_eq!(stays[0]["roles"], json!(["leader"]));
        assert_eq!(stays[0]["with_position"], true);
        // Twice at once is refused until he leaves.
        let again = arrive(&app, &c.cookie_manager, id, arrival()).await;
        assert_eq!((again.status.as_u16(), rules(&again)), (409, vec!["SUPERVISION_ARRIVAL".to_owned()]));
        ok(&app, &c.cookie_leader, id, "start").await;
        let (grade, attended): (i64, i64) = sqlx::query_as("SELECT start_grade, start_attended FROM tickets WHERE id = $1")
            .bind(id).fetch_one(app.state.db().pool()).await.expect("row");
        assert_eq!((grade, attended), (3, 1));
        // He leaves; leaving twice is refused; both are in the audit trail.
        let left = app.json(Method::POST, &format!("/api/v1/tickets/{id}/departure"), Some(json!({})), &[("cookie", &c.cookie_manager)]).await;
        assert_eq!(left.status, 200, "{}", left.body);
        assert!(left.json()["on_site"]["stays"][0]["departed_at"].is_string());
        assert!(todo(leader).await.is_empty(), "the work started with him there: nothing left to do");
        let twice = app.json(Method::POST, &format!("/api/v1/tickets/{id}/departure"), Some(json!({})), &[("cookie", &c.cookie_manager)]).await;
        assert_eq!(twice.status, 409);
        let actions = app.audit_actions().await;
        for a in ["supervision.arrived", "supervision.departed", "supervision.departure_refused", "ticket.step_refused"] {
            assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
        }
        // The page shows who came, on a phone-sized form.
        let page = app.get_with(&format!("/tickets/{id}"), &[("cookie", &c.cookie_manager)]).await;
        assert!(page.body.contains("data-stay") && page.body.contains("u_leader"), "{}", page.body);
        // Started with a manager on site: no attendance finding.
        gridsafe_app::findings::run_audit(app.app(), &support::operator().actor().clone(), &meta(), "test").await.expect("run");
        let absent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM findings WHERE rule = 'ONSITE_ABSENT'")
            .fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(absent, 0);
    }

    async fn arrivals_are_checked_against_the_window(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        register(&app, &f, "4300001", true).await;
        let mut body = draft(&f, "L1", &["C1"], "2026-11-27 09:00", "2026-11-27 17:00");
        body["customer_id"] = json!("4300001");
        let id = create(&app, &c, body).await;
        let auditor = principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::SupervisionAttend], &city_a(&app, &f).await);
        let attend = |at: &str| {
            let app = &app;
            let auditor = &auditor;
            let at = at.to_owned();
            async move {
                let local = chrono::NaiveDateTime::parse_from_str(&at, "%Y-%m-%d %H:%M").expect("time");
                app.clock.set(gridsafe_domain::time::Timestamp::from_local(local));
                supervision::arrive(app.app(), &cap::<perm::SupervisionAttend>(auditor), &meta(), TicketId::new(id), ArrivalInput::default()).await
            }
        };
        // A draft is not a site yet.
        assert_eq!(rule_codes(attend("2026-11-27 09:00").await.expect_err("draft")), ["SUPERVISION_ARRIVAL"]);
        app.clock.set(support::start_of_test_time());
        ok(&app, &c.cookie_issuer, id, "issue").await;
        // Sixty minutes before the start is the first minute; the end is the last.
        assert_eq!(rule_codes(attend("2026-11-27 07:59").await.expect_err("early")), ["SUPERVISION_ARRIVAL"]);
        let stay = attend("2026-11-27 08:00").await.expect("first minute");
        let by = principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::SupervisionAttend], &city_a(&app, &f).await);
        supervision::depart(app.app(), &cap::<perm::SupervisionAttend>(&by), &meta(), TicketId::new(id), Some(Position { lat: 30.0, lon: 114.0, accuracy_m: None })).await.expect("left");
        assert!(stay > 0);
        attend("2026-11-27 17:00").await.expect("last minute");
        supervision::depart(app.app(), &cap::<perm::SupervisionAttend>(&by), &meta(), TicketId::new(id), None).await.expect("left");
        assert_eq!(rule_codes(attend("2026-11-27 17:01").await.expect_err("late")), ["SUPERVISION_ARRIVAL"]);
    }

    async fn fifty_arrivals_at_once_record_one_stay(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        register(&app, &f, "4300001", true).await;
        let first = permitted(&app, &f, &c, "L1", "C1", &c.cookie_crew).await;
        let second = {
            let mut body = draft(&f, "L2", &["C2"], "2026-11-26 09:00", "2026-11-26 17:00");
            body["customer_id"] = json!("4300001");
            create(&app, &c, body).await
        };
        ok(&app, &c.cookie_issuer, second, "issue").await;
        let manager = Arc::new(principal(f.user("leader"), "u_leader", &[Permission::SupervisionAttend], &city_a(&app, &f).await));
        let app = Arc::new(app);
        // Half at one site, half at the other: one manager is at one site at a time.
        let answers = race(50, |i| {
            let (app, manager) = (app.clone(), manager.clone());
            let id = TicketId::new(if i % 2 == 0 { first } else { second });
            async move {
                match supervision::arrive(app.app(), &cap::<perm::SupervisionAttend>(&manager), &meta(), id, ArrivalInput::default()).await {
                    Ok(_) => true,
                    Err(e) => {
                        assert_eq!(rule_codes(e), ["SUPERVISION_ARRIVAL"]);
                        false
                    }
                }
            }
        })
        .await;
        assert_eq!(answers.iter().filter(|ok| **ok).count(), 1, "exactly one arrival");
        let stays: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM site_attendance").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(stays, 1);
        assert_eq!(app.audit_actions().await.iter().filter(|a| *a == "supervision.arrived").count(), 1);
    }

    async fn without_the_gate_missing_attendance_is_a_finding(app: TestApp) {
        let app = TestApp::new_with(app.backend(), |s| s.plans.start_needs_onsite = false).await.expect("app");
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        register(&app, &f, "4300001", true).await;
        let id = permitted(&app, &f, &c, "L1", "C1", &c.cookie_crew).await;
        ok(&app, &c.cookie_leader, id, "start").await;
        gridsafe_app::findings::run_audit(app.app(), &support::operator().actor().clone(), &meta(), "test").await.expect("run");
        let number: String = sqlx::query_scalar("SELECT number FROM tickets WHERE id = $1").bind(id).fetch_one(app.state.db().pool()).await.expect("number");
        let found: Vec<String> = sqlx::query_scalar("SELECT entity_id FROM findings WHERE rule = 'ONSITE_ABSENT'")
            .fetch_all(app.state.db().pool()).await.expect("findings");
        assert_eq!(found, [number]);
        // The findings page names it in words, with its regulation.
        let page = app.get_with("/findings", &[("cookie", &c.cookie_auditor)]).await;
        assert!(page.body.contains("风险作业无人到岗到位"), "{}", page.body);
    }

    async fn points_suspend_field_roles_until_review_and_readmission(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let p1 = app.person(f.unit_a, "P1", &["work_leader"]).await;
        // Bad input names the field.
        let r = record(&app, &c.cookie_auditor, violation("person", "NOBODY", "serious")).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("\"person\""), "{}", r.body);
        let mut long = violation("person", "P1", "serious");
        long["description"] = json!("情".repeat(2001));
        let r = record(&app, &c.cookie_auditor, long).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("\"description\""), "{}", r.body);
        let mut wrong = violation("person", "P1", "serious");
        wrong["class"] = json!("careless");
        assert!(record(&app, &c.cookie_auditor, wrong).await.body.contains("\"class\""));
        // 6 + 6 = 12 points: suspended exactly at the threshold.
        let first = record(&app, &c.cookie_auditor, violation("person", "P1", "serious")).await;
        assert_eq!(first.status, 201, "{}", first.body);
        assert_eq!((first.json()["standing"]["points"].as_i64(), first.json()["standing"]["suspended"].as_bool()), (Some(6), Some(false)));
        let second = record(&app, &c.cookie_auditor, violation("person", "P1", "serious")).await;
        assert_eq!((second.json()["standing"]["points"].as_i64(), second.json()["standing"]["suspended"].as_bool()), (Some(12), Some(true)));
        // Each violation's correction is a hazard in the closed loop.
        let hazard = second.json()["violation"]["hazard_id"].as_i64().expect("hazard");
        let kind: String = sqlx::query_scalar("SELECT source_kind FROM hazards WHERE id = $1").bind(hazard).fetch_one(app.state.db().pool()).await.expect("hazard");
        assert_eq!(kind, "violation");
        // The safety auditor's home page: two review meetings to hold, one person to re-admit.
        let auditor = principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::ViolationsReview], &city_a(&app, &f).await);
        let todo: Vec<&str> = supervision::todo(app.app(), &auditor).await.expect("todo").into_iter().map(|t| t.what).collect();
        assert_eq!(todo, ["home-todo-violation-review", "home-todo-violation-review", "home-todo-person-suspended"]);
        // The people module's question answers no: he cannot lead work.
        let id = create(&app, &c, draft(&f, "P1", &["C2"], "2026-11-26 09:00", "2026-11-26 17:00")).await;
        let refused = step(&app, &c.cookie_issuer, id, json!({"step": "issue"})).await;
        assert_eq!(refused.status, 409);
        assert!(rules(&refused).contains(&"PERSON_SUSPENDED".to_owned()), "{}", refused.body);
        let numbers = [first.json()["violation"]["number"].as_str().expect("n").to_owned(), second.json()["violation"]["number"].as_str().expect("n").to_owned()];
        assert!(refused.body.contains(&numbers[0]) && refused.body.contains(&numbers[1]), "the refusal names the violations");
        // Re-admission waits for the review meetings, then for a passed exam.
        let readmit = |passed: bool| json!({"trained_on": "2026-11-20", "exam_on": "2026-11-25", "score": if passed { 90 } else { 40 }, "passed": passed});
        let url = format!("/api/v1/people/{p1}/readmission");
        let r = app.json(Method::POST, &url, Some(readmit(true)), &[("cookie", &c.cookie_auditor)]).await;
        assert_eq!((r.status.as_u16(), rules(&r)), (409, vec!["VIOLATION_REVIEW".to_owned()]));
        for v in [&first, &second] {
            let vid = v.json()["violation"]["id"].as_i64().expect("id");
            let r = app.json(Method::POST, &format!("/api/v1/violations/{vid}/review"), Some(json!({"note": "本人到安监部说清楚"})), &[("cookie", &c.cookie_auditor)]).await;
            assert_eq!(r.status, 200, "{}", r.body);
        }
        let r = app.json(Method::POST, &url, Some(readmit(false)), &[("cookie", &c.cookie_auditor)]).await;
        assert_eq!((r.status.as_u16(), rules(&r)), (409, vec!["PERSON_READMISSION".to_owned()]));
        // Only the safety auditor's role re-admits.
        assert_eq!(app.json(Method::POST, &url, Some(readmit(true)), &[("cookie", &c.cookie_manager)]).await.status, 403);
        let r = app.json(Method::POST, &url, Some(readmit(true)), &[("cookie", &c.cookie_auditor)]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!((r.json()["points"].as_i64(), r.json()["suspended"].as_bool()), (Some(0), Some(false)));
        ok(&app, &c.cookie_issuer, id, "issue").await;
        assert!(supervision::todo(app.app(), &auditor).await.expect("todo").is_empty(), "all dealt with");
        let actions = app.audit_actions().await;
        for a in ["violation.recorded", "violation.reviewed", "person.readmission_refused", "person.readmitted"] {
            assert!(actions.iter().any(|x| x == a), "{a}");
        }
    }

    async fn fifty_reviews_at_once_record_one_meeting(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        app.person(f.unit_a, "P1", &[]).await;
        let r = record(&app, &c.cookie_auditor, violation("person", "P1", "grave")).await;
        let vid = r.json()["violation"]["id"].as_i64().expect("id");
        let auditor = Arc::new(principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::ViolationsReview], &city_a(&app, &f).await));
        let app = Arc::new(app);
        let answers = race(50, |_| {
            let (app, auditor) = (app.clone(), auditor.clone());
            async move {
                match supervision::record_review(app.app(), &cap::<perm::ViolationsReview>(&auditor), &meta(), vid, "说清楚").await {
                    Ok(()) => true,
                    Err(e) => {
                        assert_eq!(rule_codes(e), ["VIOLATION_REVIEW"]);
                        false
                    }
                }
            }
        })
        .await;
        assert_eq!(answers.iter().filter(|ok| **ok).count(), 1, "exactly one review meeting");
    }

    async fn a_customers_violation_opens_his_hazard_and_the_month_adds_up(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        register(&app, &f, "4300009", false).await;
        app.person(f.unit_a, "P1", &[]).await;
        let mut body = violation("customer", "4300009", "serious");
        body["responsible"] = json!("");
        let r = record(&app, &c.cookie_auditor, body).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let hazard = r.json()["violation"]["hazard_id"].as_i64().expect("hazard");
        let (responsibility, customer): (String, Option<i64>) = sqlx::query_as("SELECT responsibility, customer_id FROM hazards WHERE id = $1")
            .bind(hazard).fetch_one(app.state.db().pool()).await.expect("hazard");
        assert_eq!(responsibility, "customer");
        assert_eq!(customer, r.json()["violation"]["customer_id"].as_i64());
        record(&app, &c.cookie_auditor, violation("person", "P1", "general")).await;
        let mut team = violation("team", "孝南装表接电班", "major");
        team["class"] = json!("equipment");
        record(&app, &c.cookie_auditor, team).await;
        let d = app.json(Method::GET, "/api/v1/supervision/dashboard?month=2026-11", None, &[("cookie", &c.cookie_manager)]).await;
        assert_eq!(d.status, 200, "{}", d.body);
        let d = d.json();
        assert_eq!((d["total"].as_i64(), d["points"].as_i64()), (Some(3), Some(6 + 1 + 3)));
        assert_eq!(d["by_class"], json!([{"key": "behaviour", "count": 2}, {"key": "equipment", "count": 1}]));
        assert_eq!(d["by_team"], json!([{"key": "孝南装表接电班", "count": 1}]));
        assert_eq!(d["awaiting_review"], 1);
        // Another month is empty; another unit sees nothing.
        let before = app.json(Method::GET, "/api/v1/supervision/dashboard?month=2026-10", None, &[("cookie", &c.cookie_manager)]).await.json();
        assert_eq!(before["total"], 0);
        let wuhan = app.user("wuhan_leader", f.unit_b, &[("leader", f.unit_b)]).await;
        let cookie = app.session_for(wuhan).await;
        let theirs = app.json(Method::GET, "/api/v1/violations?month=2026-11", None, &[("cookie", &cookie)]).await.json();
        assert_eq!(theirs, json!([]));
        // The page and its ledger.
        let page = app.get_with("/violations?month=2026-11", &[("cookie", &c.cookie_manager)]).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("data-chart=\"class\"") && page.body.contains("行为违章"), "{}", page.body);
        let xlsx = app.get_with("/violations.xlsx?month=2026-11", &[("cookie", &c.cookie_manager)]).await;
        assert_eq!(xlsx.status, 200);
        assert!(xlsx.body.starts_with("PK"), "a real workbook");
    }

    async fn a_live_site_is_checked_and_a_failed_item_becomes_a_violation(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        register(&app, &f, "4300001", true).await;
        let draft_id = create(&app, &c, draft(&f, "L2", &["C2"], "2026-11-27 09:00", "2026-11-27 17:00")).await;
        let id = permitted(&app, &f, &c, "L1", "C1", &c.cookie_crew).await;
        // The checklist for a meter install is the metering one, as data.
        let templates = app.json(Method::GET, "/api/v1/check-templates", None, &[("cookie", &c.cookie_auditor)]).await.json();
        let metering = templates.as_array().expect("list").iter().find(|t| t["code"] == "metering").expect("metering").clone();
        assert_eq!(metering["work_kinds"], json!(["meter_install", "meter_replacement", "meter_removal"]));
        let items = metering["items"].as_array().expect("items").len();
        let answers = |fail: i64, skip: Option<i64>| {
            let list: Vec<Value> = (1..=items as i64)
                .filter(|p| Some(*p) != skip)
                .map(|p| json!({"position": p, "result": if p == fail { "fail" } else { "pass" }, "note": if p == fail { "一名作业人员未戴安全帽" } else { "" }}))
                .collect();
            json!({"template": "metering", "answers": list, "note": "开工前检查"})
        };
        let url = format!("/api/v1/tickets/{id}/checks");
        // Every item must be answered; the missing one is named.
        let r = app.json(Method::POST, &url, Some(answers(7, Some(3))), &[("cookie", &c.cookie_auditor)]).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("未填写检查结果") && r.body.contains("验电"), "{}", r.body);
        // A draft is no live site.
        let r = app.json(Method::POST, &format!("/api/v1/tickets/{draft_id}/checks"), Some(answers(7, None)), &[("cookie", &c.cookie_auditor)]).await;
        assert_eq!((r.status.as_u16(), rules(&r)), (409, vec!["SUPERVISION_CHECK".to_owned()]));
        let r = app.json(Method::POST, &url, Some(answers(7, None)), &[("cookie", &c.cookie_auditor)]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let check = r.json();
        assert_eq!((check["failed"].as_i64(), check["ticket_state"].as_str()), (Some(1), Some("permitted")));
        let check_id = check["id"].as_i64().expect("id");
        // Only a failed item becomes a violation; it takes the ticket, list entry and words.
        let mut v = violation("person", "C1", "general");
        v["rule_broken"] = json!("");
        v["check_id"] = json!(check_id);
        v["check_item"] = json!(1);
        assert_eq!(record(&app, &c.cookie_auditor, v.clone()).await.status, 422, "item 1 passed");
        v["check_item"] = json!(7);
        let r = record(&app, &c.cookie_auditor, v).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let recorded = r.json()["violation"].clone();
        assert_eq!(recorded["catalogue_code"], "YZ-10");
        assert_eq!(recorded["ticket_id"].as_i64(), Some(id));
        assert!(recorded["rule_broken"].as_str().expect("rule").contains("安全帽"));
        let after = app.json(Method::GET, &format!("/api/v1/checks/{check_id}"), None, &[("cookie", &c.cookie_manager)]).await.json();
        assert_eq!(after["answers"][6]["violations"], json!([recorded["number"]]));
        // The ticket's page lists the check; the month counts it.
        let page = app.get_with(&format!("/tickets/{id}"), &[("cookie", &c.cookie_auditor)]).await;
        assert!(page.body.contains(&format!("/checks/{check_id}")));
        let d = app.json(Method::GET, "/api/v1/supervision/dashboard?month=2026-11", None, &[("cookie", &c.cookie_manager)]).await.json();
        assert_eq!(d["checks"], 1);
        assert!(app.audit_actions().await.iter().any(|a| a == "supervision.checked"));
    }

    async fn the_demo_shows_supervision_at_work(app: TestApp) {
        let report = gridsafe_app::demo::fill(app.app(), &meta()).await.expect("demo").expect("filled");
        let pool = app.state.db().pool();
        let count = |sql: &'static str| async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.expect(sql) };
        assert_eq!(i64::try_from(report.violations).ok(), Some(count("SELECT COUNT(*) FROM violations").await));
        // Graded work waited for its manager: one start refused first, then arrivals before each start.
        assert!(count("SELECT COUNT(*) FROM site_attendance").await >= 2);
        assert_eq!(count("SELECT COUNT(*) FROM tickets WHERE start_grade IS NOT NULL AND start_attended = 0").await, 0);
        let refusals: Vec<String> = sqlx::query_scalar("SELECT summary FROM audit_events WHERE action = 'ticket.step_refused'")
            .fetch_all(pool).await.expect("events");
        assert!(refusals.iter().any(|s| s.contains("SUPERVISION_ONSITE")), "{refusals:?}");
        // A check whose failed item became a violation; a contractor worker's; a customer's hazard.
        assert_eq!(count("SELECT COUNT(*) FROM violations WHERE check_id IS NOT NULL").await, 1);
        assert_eq!(count("SELECT COUNT(*) FROM violations v JOIN people p ON p.id = v.person_id WHERE p.contractor_id IS NOT NULL").await, 1);
        assert_eq!(count("SELECT COUNT(*) FROM hazards WHERE source_kind = 'violation' AND responsibility = 'customer'").await, 1);
        // One person re-admitted after his exam; one suspended, waiting for his review meeting.
        assert_eq!(count("SELECT COUNT(*) FROM readmissions").await, 1);
        let user: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'demo.safety'").fetch_one(pool).await.expect("user");
        let city: String = sqlx::query_scalar("SELECT path FROM org_units WHERE code = 'XG'").fetch_one(pool).await.expect("city");
        let path = gridsafe_domain::access::UnitPath::parse(&city).expect("path");
        let auditor = principal(user, "demo.safety", &[Permission::ViolationsReview], &path);
        let todo: Vec<(&str, String)> = supervision::todo(app.app(), &auditor).await.expect("todo").into_iter().map(|t| (t.what, t.subject)).collect();
        assert!(todo.iter().any(|(w, s)| *w == "home-todo-person-suspended" && s.starts_with("XG1034")), "{todo:?}");
        assert!(!todo.iter().any(|(_, s)| s.starts_with("XG1033")), "re-admitted");
    }

    async fn the_violation_list_is_loaded_as_data_whole_or_not_at_all(app: TestApp) {
        let f = app.fixture().await;
        let auditor = principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::ViolationsReview], &city_a(&app, &f).await);
        let review = cap::<perm::ViolationsReview>(&auditor);
        let before = supervision::catalogue(app.app()).await.expect("list").len();
        // A bad severity on line 3 refuses the file, naming file, line and column; nothing changes.
        let bad = "\u{feff}编号,违章内容,违章性质,严重程度,来源\nYZ-01,无票作业（新版）,行为,Ⅰ类,2024 版清单\nNEW-1,新条目,行为,很严重,\n".as_bytes().to_vec();
        let refused = supervision::import_catalogue(app.app(), &review, &meta(), &[("清单.csv".into(), bad)]).await.expect("read");
        let problems = refused.expect_err("refused");
        assert_eq!(problems.len(), 1);
        assert_eq!((problems[0].file.as_str(), problems[0].line, problems[0].column.as_str()), ("清单.csv", 3, "严重程度"));
        let list = supervision::catalogue(app.app()).await.expect("list");
        assert_eq!(list.len(), before);
        assert!(list.iter().any(|e| e.code == "YZ-01" && e.title.starts_with("无票（单）作业")), "unchanged");
        // A real workbook: one entry updated, one added.
        use gridsafe_app::xlsx::{Value, ledger};
        let headers: Vec<String> = ["编号", "违章内容", "违章性质", "严重程度", "来源"].map(String::from).to_vec();
        let rows = vec![
            vec![Value::from("YZ-01".to_owned()), Value::from("无票作业（新版）".to_owned()), Value::from("行为违章".to_owned()), Value::from("Ⅰ类".to_owned()), Value::from("2024 版清单".to_owned())],
            vec![Value::from("NEW-1".to_owned()), Value::from("作业现场吸烟".to_owned()), Value::from("行为".to_owned()), Value::from("一般".to_owned()), Value::Empty],
        ];
        let workbook = ledger("清单", &headers, &rows).expect("xlsx");
        let done = supervision::import_catalogue(app.app(), &review, &meta(), &[("清单.xlsx".into(), workbook)]).await.expect("read");
        assert_eq!(done.expect("imported"), (1, 1));
        let list = supervision::catalogue(app.app()).await.expect("list");
        assert_eq!(list.len(), before + 1);
        let updated = list.iter().find(|e| e.code == "YZ-01").expect("YZ-01");
        assert_eq!((updated.title.as_str(), updated.origin.as_str()), ("无票作业（新版）", "2024 版清单"));
        let added = list.iter().find(|e| e.code == "NEW-1").expect("NEW-1");
        assert_eq!((added.severity, added.origin.as_str()), (gridsafe_domain::supervision::Severity::General, "导入：清单.xlsx#清单"), "the file and sheet it came from");
        assert!(app.audit_actions().await.iter().any(|a| a == "violation_list.imported"));
    }

    async fn fifty_readmissions_at_once_readmit_once(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let p1 = app.person(f.unit_a, "P1", &[]).await;
        let r = record(&app, &c.cookie_auditor, violation("person", "P1", "grave")).await;
        let vid = r.json()["violation"]["id"].as_i64().expect("id");
        let auditor = Arc::new(principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::ViolationsReview], &city_a(&app, &f).await));
        supervision::record_review(app.app(), &cap::<perm::ViolationsReview>(&auditor), &meta(), vid, "说清楚").await.expect("review");
        let app = Arc::new(app);
        let answers = race(50, |_| {
            let (app, auditor) = (app.clone(), auditor.clone());
            async move {
                let input = supervision::ReadmissionInput {
                    trained_on: "2026-11-20".into(),
                    exam_on: "2026-11-25".into(),
                    score: "90".into(),
                    passed: true,
                    note: String::new(),
                };
                match supervision::readmit(app.app(), &cap::<perm::ViolationsReview>(&auditor), &meta(), p1, input).await {
                    Ok(()) => true,
                    Err(e) => {
                        assert_eq!(rule_codes(e), ["PERSON_READMISSION"], "the others find him no longer suspended");
                        false
                    }
                }
            }
        })
        .await;
        assert_eq!(answers.iter().filter(|ok| **ok).count(), 1, "exactly one re-admission");
        let recorded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM readmissions").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(recorded, 1);
    }
}
