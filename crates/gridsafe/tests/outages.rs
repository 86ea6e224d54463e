//! Outages through their use cases, on SQLite and PostgreSQL: the customer manager's late
//! request waits for the unit's manager (not himself); supply is cut only once the important
//! customer has signed the notice and the other has been told; restoration is refused (and
//! counted) while one crew is still working, then restored and the overrun measured; customers
//! and tickets out of reach are refused; fifty restorations at once restore once.

mod support;

use gridsafe_app::AppError;
use gridsafe_app::outages::{self, NoticeInput, OutageInput};
use gridsafe_domain::access::{Permission, Principal, UnitPath, perm};
use gridsafe_domain::ids::{TicketId, UnitId};
use gridsafe_domain::outages::{OutageState, OutageStep};
use support::tickets::{create, crew, draft, link, ok, sessions};
use support::{Fixture, TestApp, cap, meta, principal, race, rule_codes};

async fn customer(app: &TestApp, unit: UnitId, account: &str, importance: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO customers (account_no, name, address, unit_id, voltage_kv, importance, industry, supply_sources, emergency_power, registered_on, updated_at, updated_by) \
         VALUES ($1, $2, '书院街 18 号', $3, 10.0, $4, '商业', 1, 'none', '2026-01-01', '2026-01-01T00:00:00.000000Z', 'test') RETURNING id",
    )
    .bind(account)
    .bind(format!("客户{account}"))
    .bind(unit.get())
    .bind(importance)
    .fetch_one(app.state.db().pool())
    .await
    .expect("customer")
}

struct Desk {
    path: UnitPath,
    manager: Principal,
    leader: Principal,
    permitter: Principal,
    important: i64,
    ordinary: i64,
}

/// City A's customer manager, unit manager and permit giver, and two customers of city A: one
/// important (一级), one not.
async fn desk(app: &TestApp, f: &Fixture) -> Desk {
    let path = gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path;
    let manager = principal(
        f.user("customer_manager"),
        "u_customer_manager",
        &[Permission::OutagesView, Permission::OutagesRequest],
        &path,
    );
    let leader = principal(f.user("leader"), "u_leader", &[Permission::OutagesView, Permission::OutagesApprove], &path);
    let permitter = principal(
        f.user("work_permitter"),
        "u_work_permitter",
        &[Permission::OutagesView, Permission::OutagesOperate],
        &path,
    );
    let important = customer(app, f.unit_a, "4300001", "first").await;
    let ordinary = customer(app, f.unit_a, "4300002", "none").await;
    Desk { path, manager, leader, permitter, important, ordinary }
}

fn request(f: &Fixture, kind: &str, start: &str, end: &str, tickets: &[i64], late: &str) -> OutageInput {
    OutageInput {
        unit_id: f.unit_a,
        kind: kind.into(),
        equipment: "10kV 槐荫线 12 号杆".into(),
        start: start.into(),
        end: end.into(),
        reason: "更换计量装置".into(),
        late_reason: late.into(),
        customers: "4300001、4300002".into(),
        tickets: tickets.iter().map(|t| TicketId::new(*t)).collect(),
        plan_items: Vec::new(),
    }
}

fn notice(customer: i64, purpose: &str, channel: &str, signed_by: &str, scan: bool) -> NoticeInput {
    NoticeInput {
        customer_id: customer,
        purpose: purpose.into(),
        channel: channel.into(),
        signed_by: signed_by.into(),
        notified_at: String::new(),
        scan: scan.then(|| ("signed.png".to_owned(), b"\x89PNG\r\n\x1a\n0000".to_vec())),
    }
}

/// The first sheet of the workbook at `path`, read back as an import would read it.
async fn workbook(app: &TestApp, path: &str, cookie: &str) -> gridsafe_sheet::RawTable {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request =
        axum::http::Request::get(path).header("cookie", cookie).body(axum::body::Body::empty()).expect("request");
    let response = app.router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), 200);
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let limits =
        gridsafe_sheet::Limits { unpacked_bytes: 10 << 20, parts: 100, rows: 1000, columns: 50, cell_chars: 32_767 };
    gridsafe_sheet::read_xlsx("outages.xlsx", &bytes, &limits).expect("a real workbook").remove(0).1
}

/// What the home page asks `who` to do: (what, late).
async fn todo(app: &TestApp, who: &Principal) -> Vec<(&'static str, bool)> {
    outages::todo(app.app(), who).await.expect("todo").into_iter().map(|t| (t.what, t.late)).collect()
}

const PRE_WORK: [(usize, &str); 5] = [(0, "issue"), (1, "receive"), (2, "permit"), (3, "acknowledge"), (1, "start")];

backend_tests! {
    async fn an_outage_is_cut_after_its_notices_and_restored_only_after_every_crew(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        // A second crew member with an account, so that both tickets can start.
        let c2: i64 = sqlx::query_scalar("SELECT id FROM people WHERE code = 'C2'").fetch_one(app.state.db().pool()).await.expect("C2");
        let crew2 = app.user("u_crew2", f.unit_a, &[("crew_member", f.unit_a)]).await;
        link(&app, gridsafe_domain::ids::PersonId::new(c2), crew2).await;
        let t1 = create(&app, &c, draft(&f, "L1", &["C1"], "2026-11-26 11:00", "2026-11-26 13:00")).await;
        let t2 = create(&app, &c, draft(&f, "L2", &["C2"], "2026-11-26 11:00", "2026-11-26 15:00")).await;
        let d = desk(&app, &f).await;
        let req = cap::<perm::OutagesRequest>(&d.manager);

        // Test time is 09:00: a temporary outage at 11:00 is two hours' notice, not twenty-four.
        let late = outages::request_outage(app.app(), &req, &meta(), request(&f, "temporary", "2026-11-26 11:00", "2026-11-26 13:00", &[t1, t2], "")).await;
        assert_eq!(rule_codes(late.expect_err("late")), ["OUTAGE_NOTICE_LATE"]);
        let (id, state) = outages::request_outage(app.app(), &req, &meta(), request(&f, "temporary", "2026-11-26 11:00", "2026-11-26 13:00", &[t1, t2], "变压器渗油须当日处理"))
            .await
            .expect("late, with its reason");
        assert_eq!(state, OutageState::Pending);
        assert_eq!(todo(&app, &d.leader).await, [("home-todo-outage-approve", false)], "the manager's home page");

        // The requester cannot approve his own late request; the unit's manager can.
        let own = principal(f.user("customer_manager"), "u_customer_manager", &[Permission::OutagesApprove], &d.path);
        let refused = outages::approve(app.app(), &cap::<perm::OutagesApprove>(&own), &meta(), id).await;
        assert_eq!(rule_codes(refused.expect_err("own request")), ["OUTAGE_APPROVER"]);
        let approved = outages::approve(app.app(), &cap::<perm::OutagesApprove>(&d.leader), &meta(), id).await.expect("approve");
        assert_eq!(approved, OutageState::Scheduled);
        assert_eq!(todo(&app, &d.manager).await, [("home-todo-outage-notices", false)]);
        assert!(todo(&app, &d.permitter).await.is_empty(), "nothing to cut before the notices are in");

        // Supply is cut only when the important customer has signed and the other was told.
        let operate = cap::<perm::OutagesOperate>(&d.permitter);
        let early = outages::operate(app.app(), &operate, &meta(), id, OutageStep::Cut).await;
        assert_eq!(rule_codes(early.expect_err("no notices")), ["OUTAGE_NOTICE_SIGNED", "OUTAGE_NOTICE_TOLD"]);
        outages::record_notice(app.app(), &req, &meta(), id, notice(d.important, "outage", "phone", "", false)).await.expect("phoned");
        let unscanned = outages::record_notice(app.app(), &req, &meta(), id, notice(d.important, "outage", "signed", "王经理", false)).await;
        assert!(matches!(unscanned, Err(AppError::Invalid(ref p)) if p.iter().any(|p| p.field == "scan")), "{unscanned:?}");
        outages::record_notice(app.app(), &req, &meta(), id, notice(d.ordinary, "outage", "sms", "", false)).await.expect("sms");
        let phoned_only = outages::operate(app.app(), &operate, &meta(), id, OutageStep::Cut).await;
        assert_eq!(rule_codes(phoned_only.expect_err("a call is no signature")), ["OUTAGE_NOTICE_SIGNED"]);
        outages::record_notice(app.app(), &req, &meta(), id, notice(d.important, "outage", "signed", "王经理", true)).await.expect("signed");
        assert_eq!(todo(&app, &d.permitter).await, [("home-todo-outage-cut", false)]);
        assert_eq!(outages::operate(app.app(), &operate, &meta(), id, OutageStep::Cut).await.expect("cut"), OutageState::Cut);
        assert_eq!(todo(&app, &d.permitter).await, [("home-todo-outage-restore", false)]);

        // At 11:00 both crews start; one reports work ended, the other has not. L2 and C2 sign
        // with accounts of their own.
        let l2: i64 = sqlx::query_scalar("SELECT id FROM people WHERE code = 'L2'").fetch_one(app.state.db().pool()).await.expect("L2");
        let leader2 = app.user("u_leader2", f.unit_a, &[("work_leader", f.unit_a)]).await;
        link(&app, gridsafe_domain::ids::PersonId::new(l2), leader2).await;
        app.clock.set(gridsafe_domain::time::Timestamp::from_utc(support::start_of_test_time().as_utc() + chrono::Duration::hours(2)));
        let c = sessions(&app, &f).await;
        let t1_cookies = [c.cookie_issuer.clone(), c.cookie_leader.clone(), c.cookie_permitter.clone(), c.cookie_crew.clone()];
        let t2_cookies = [c.cookie_issuer.clone(), app.session_for(leader2).await, c.cookie_permitter.clone(), app.session_for(crew2).await];
        // Work at an important customer's site under an outage is graded 二级: the unit leader
        // goes to each crew before it starts (到岗到位).
        let onsite = principal(f.user("leader"), "u_leader", &[Permission::SupervisionAttend], &d.path);
        let attend = cap::<perm::SupervisionAttend>(&onsite);
        for (who, s) in PRE_WORK {
            for (t, cookies) in [(t1, &t1_cookies), (t2, &t2_cookies)] {
                if s == "start" {
                    gridsafe_app::supervision::arrive(app.app(), &attend, &meta(), TicketId::new(t), Default::default()).await.expect("arrive");
                }
                ok(&app, &cookies[who], t, s).await;
                if s == "start" {
                    gridsafe_app::supervision::depart(app.app(), &attend, &meta(), TicketId::new(t), None).await.expect("depart");
                }
            }
        }
        ok(&app, &t1_cookies[1], t1, "end_work").await;
        let t2_number: String = sqlx::query_scalar("SELECT number FROM tickets WHERE id = $1").bind(t2).fetch_one(app.state.db().pool()).await.expect("number");

        let timed = outages::operate(app.app(), &operate, &meta(), id, OutageStep::Restore).await.expect_err("t2 still working");
        match &timed {
            AppError::Rules(v) => assert_eq!(v.iter().map(|v| (v.rule.code, v.args.clone())).collect::<Vec<_>>(), [("OUTAGE_TIMED", vec![("open_ticket", t2_number.clone())])]),
            other => panic!("{other:?}"),
        }
        let d1 = outages::outage(app.app(), &req, id).await.expect("detail");
        assert_eq!((d1.outage.state, d1.outage.restore_refusals), (OutageState::Cut, 1), "refused and counted");
        assert!(app.audit_actions().await.contains(&"outage.restore_refused".to_owned()));

        // The second crew reports work ended half an hour after the announced end.
        app.clock.set(gridsafe_domain::time::Timestamp::from_utc(support::start_of_test_time().as_utc() + chrono::Duration::minutes(4 * 60 + 30)));
        assert_eq!(todo(&app, &d.permitter).await, [("home-todo-outage-restore", true)], "past the announced end: late");
        assert_eq!(todo(&app, &d.manager).await, [("home-todo-outage-overrun", true)], "tell the customers");
        let late_leader = app.session_for(leader2).await;
        ok(&app, &late_leader, t2, "end_work").await;
        assert_eq!(outages::operate(app.app(), &operate, &meta(), id, OutageStep::Restore).await.expect("restore"), OutageState::Restored);
        let d2 = outages::outage(app.app(), &req, id).await.expect("detail");
        assert_eq!(d2.overrun_minutes, Some(30), "restored at 13:30 against 13:00 announced");
        assert_eq!(d2.outage.restored_by.as_deref(), Some("u_work_permitter"));
        outages::record_notice(app.app(), &req, &meta(), id, notice(d.important, "overrun", "phone", "", false)).await.expect("told of the overrun");
        let again = outages::cancel(app.app(), &req, &meta(), id, "不需要了").await;
        assert_eq!(rule_codes(again.expect_err("restored")), ["OUTAGE_STATE"]);

        let rows = outages::list_outages(app.app(), &req, support::start_of_test_time(), d2.outage.end).await.expect("list");
        let s = outages::stats(&rows, app.app().plans_config().notice_rule());
        assert_eq!((s.outages, s.notice_needed, s.notice_on_time, s.overruns, s.timed_refused), (1, 1, 0, 1, 1));

        // The page shows the overrun and the signature; the trail has every step.
        let page_cookie = app.session_for(f.user("customer_manager")).await;
        let page = app.get_with(&format!("/outages/{id}"), &[("cookie", &page_cookie)]).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("data-overrun") && page.body.contains("王经理"), "{}", page.body);
        // The dashboard's chart: the unit's notice was late (0%), no ticket executed yet (—).
        let dashboard = app.get_with("/outages?month=2026-11", &[("cookie", &app.session_for(f.user("leader")).await)]).await;
        let chart = dashboard.body.split("data-chart=\"outages\"").nth(1).and_then(|c| c.split("</svg>").next()).unwrap_or_default();
        assert!(chart.contains("data-bar=\"notice\">0.0%") && chart.contains("data-bar=\"planned\">—"), "{}", dashboard.body);
        assert!(dashboard.body.contains("data-kpi=\"planned\""), "the leader sees tickets: the share planned is a KPI");
        // The unit's week shows the outage and both tickets on their day.
        let week = app.get_with("/plans/week?day=2026-11-27", &[("cookie", &page_cookie)]).await;
        assert_eq!(week.status, 200);
        let thursday = week.body.split("data-day=\"2026-11-26\"").nth(1).and_then(|b| b.split("data-day=").next()).unwrap_or_default();
        assert!(thursday.contains(&d2.outage.number) && thursday.contains(&t2_number), "{}", week.body);

        // The month's ledger is a real workbook: the outage with its overrun and the refusal.
        let ledger = workbook(&app, "/outages.xlsx?month=2026-11", &page_cookie).await;
        assert_eq!(ledger.headers[0], "停电编号");
        let row: Vec<String> = ledger.rows[0].cells.iter().map(|c| c.text()).collect();
        assert_eq!((row[0].as_str(), row[13].as_str(), row[14].as_str()), (d2.outage.number.as_str(), "30", "1"), "{row:?}");
        let actions = app.audit_actions().await;
        for a in ["outage.requested", "outage.approved", "outage.notice_recorded", "outage.cut", "outage.restored"] {
            assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
        }
    }

    async fn customers_and_tickets_out_of_reach_are_refused_by_name(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        customer(&app, f.unit_b, "5100001", "none").await;
        let req = cap::<perm::OutagesRequest>(&d.manager);
        // A plan item of city A (in reach) and one of city B (not).
        let item_of = |unit: UnitId, first: &str| {
            let (app, first) = (app.app().clone(), first.to_owned());
            async move {
                let op = support::operator();
                let write = op.authorize::<perm::PlansWrite>().expect("op");
                let plan = gridsafe_app::plans::PlanInput { unit_id: unit, kind: "daily".into(), first_day: first.clone() };
                let plan = gridsafe_app::plans::create_plan(&app, &write, &meta(), plan).await.expect("plan");
                let item = gridsafe_app::plans::ItemInput {
                    start: format!("{first} 09:00"),
                    end: format!("{first} 12:00"),
                    site: "槐荫线 12 号杆".into(),
                    work_kind: "meter_install".into(),
                    team_id: unit,
                    outage: true,
                    ..Default::default()
                };
                gridsafe_app::plans::add_item(&app, &write, &meta(), plan, item).await.expect("item")
            }
        };
        let ours = item_of(f.unit_a, "2026-12-10").await;
        let theirs = item_of(f.unit_b, "2026-12-10").await;
        let mut input = request(&f, "planned", "2026-12-10 09:00", "2026-12-10 12:00", &[999_999], "");
        input.customers = "4300001 5100001 9999999".into();
        input.plan_items = vec![ours, theirs];
        let refused = outages::request_outage(app.app(), &req, &meta(), input).await.expect_err("out of reach");
        let AppError::Invalid(problems) = refused else { panic!("{refused:?}") };
        let named: Vec<(String, String)> = problems.iter().map(|p| (p.field.to_owned(), p.args.iter().map(|(_, v)| v.clone()).collect())).collect();
        assert_eq!(named, [
            ("customers".to_owned(), "5100001".to_owned()),
            ("customers".to_owned(), "9999999".to_owned()),
            ("tickets".to_owned(), "999999".to_owned()),
            ("plan_items".to_owned(), theirs.to_string()),
        ]);
        // The plan item in reach is offered to the customer manager and linked when named.
        let offered: Vec<i64> = outages::plan_item_choices(app.app(), &req).await.expect("choices").iter().map(|i| i.id).collect();
        assert_eq!(offered, [ours]);
        let linked = OutageInput { plan_items: vec![ours], ..request(&f, "planned", "2026-12-10 09:00", "2026-12-10 12:00", &[], "") };
        let (id, _) = outages::request_outage(app.app(), &req, &meta(), linked).await.expect("linked");
        let d1 = outages::outage(app.app(), &req, id).await.expect("detail");
        assert_eq!(d1.plan_items.iter().map(|i| i.id).collect::<Vec<_>>(), [ours]);
        // A window over the bound, or ending before it starts, is named too; nothing was stored.
        let long = outages::request_outage(app.app(), &req, &meta(), request(&f, "planned", "2026-12-10 09:00", "2026-12-14 09:00", &[], "")).await;
        assert!(matches!(long, Err(AppError::Invalid(ref p)) if p[0].field == "end"), "{long:?}");
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outages").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(count, 1, "only the linked one: nothing of the refused requests was stored");
        // Seven days ahead exactly is in time for a planned outage.
        let (_, state) = outages::request_outage(app.app(), &req, &meta(), request(&f, "planned", "2026-12-03 09:00", "2026-12-03 12:00", &[], "")).await.expect("in time");
        assert_eq!(state, OutageState::Scheduled);
        let (_, state) = outages::request_outage(app.app(), &req, &meta(), request(&f, "planned", "2026-12-03 08:59", "2026-12-03 12:00", &[], "计划调整")).await.expect("late");
        assert_eq!(state, OutageState::Pending);
    }

    async fn fifty_restorations_at_once_restore_once(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        let req = cap::<perm::OutagesRequest>(&d.manager);
        let (id, _) = outages::request_outage(app.app(), &req, &meta(), request(&f, "fault", "2026-11-26 09:00", "2026-11-26 12:00", &[], "")).await.expect("fault");
        outages::operate(app.app(), &cap::<perm::OutagesOperate>(&d.permitter), &meta(), id, OutageStep::Cut).await.expect("a fault does not wait");
        let before = app.audit_count().await;
        let results = race(50, |_| {
            let app = app.app().clone();
            let permitter = d.permitter.clone();
            async move { outages::operate(&app, &cap::<perm::OutagesOperate>(&permitter), &meta(), id, OutageStep::Restore).await }
        })
        .await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(e, AppError::Rules(v) if v[0].rule.code == "OUTAGE_STATE") || matches!(e, AppError::Conflict(_))), "{results:?}");
        assert_eq!(app.audit_count().await, before + 1, "one restoration recorded");
    }

    async fn a_cut_and_a_cancellation_at_once_leave_one_of_them_and_approvals_approve_once(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        let req = cap::<perm::OutagesRequest>(&d.manager);
        let (late, _) = outages::request_outage(app.app(), &req, &meta(), request(&f, "temporary", "2026-11-26 12:00", "2026-11-26 14:00", &[], "抢修")).await.expect("late");
        let leader = d.leader.clone();
        let approvals = race(50, |_| {
            let (app, leader) = (app.app().clone(), leader.clone());
            async move { outages::approve(&app, &cap::<perm::OutagesApprove>(&leader), &meta(), late).await.is_ok() }
        })
        .await;
        assert_eq!(approvals.iter().filter(|ok| **ok).count(), 1, "approved once");
        for (customer, channel, signer, scan) in [(d.important, "signed", "王经理", true), (d.ordinary, "sms", "", false)] {
            outages::record_notice(app.app(), &req, &meta(), late, notice(customer, "outage", channel, signer, scan)).await.expect("notice");
        }
        let (manager, permitter) = (d.manager.clone(), d.permitter.clone());
        let answers = race(50, |n| {
            let (app, manager, permitter) = (app.app().clone(), manager.clone(), permitter.clone());
            async move {
                if n % 2 == 0 {
                    outages::operate(&app, &cap::<perm::OutagesOperate>(&permitter), &meta(), late, OutageStep::Cut).await.ok()
                } else {
                    outages::cancel(&app, &cap::<perm::OutagesRequest>(&manager), &meta(), late, "客户改期").await.ok()
                }
            }
        })
        .await;
        let won: Vec<OutageState> = answers.into_iter().flatten().collect();
        assert_eq!(won.len(), 1, "exactly one: {won:?}");
        assert_eq!(outages::outage(app.app(), &req, late).await.expect("detail").outage.state, won[0]);
    }

    async fn every_field_is_bounded_and_named_at_its_limit(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        let req = cap::<perm::OutagesRequest>(&d.manager);
        let fields = |r: Result<(i64, OutageState), AppError>| match r {
            Err(AppError::Invalid(p)) => p.iter().map(|p| p.field).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let base = || request(&f, "planned", "2026-12-10 09:00", "2026-12-13 09:00", &[], "");
        // At the limits: 100 characters of equipment, 500 of reason, a window of exactly 72 hours.
        let at_limit = OutageInput { equipment: "线".repeat(100), reason: "修".repeat(500), ..base() };
        outages::request_outage(app.app(), &req, &meta(), at_limit).await.expect("at the limits");
        let over = OutageInput {
            equipment: "线".repeat(101),
            reason: "修".repeat(501),
            late_reason: "迟".repeat(501),
            end: "2026-12-13 09:01".into(),
            ..base()
        };
        assert_eq!(fields(outages::request_outage(app.app(), &req, &meta(), over).await), ["equipment", "reason", "late_reason", "end"]);
        let many = OutageInput { customers: (0..201).map(|n| format!("43{n:05}")).collect::<Vec<_>>().join(" "), ..base() };
        assert_eq!(fields(outages::request_outage(app.app(), &req, &meta(), many).await), ["customers"]);
        let tickets = OutageInput { tickets: (1..=51).map(TicketId::new).collect(), ..base() };
        assert_eq!(fields(outages::request_outage(app.app(), &req, &meta(), tickets).await), ["tickets"]);
        let blank = OutageInput { equipment: "  ".into(), reason: String::new(), start: "明天".into(), ..base() };
        assert_eq!(fields(outages::request_outage(app.app(), &req, &meta(), blank).await), ["equipment", "reason", "start"]);
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outages").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(count, 1, "nothing half-written");
    }
}
