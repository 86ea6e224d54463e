//! Tickets and the work plan, on SQLite and PostgreSQL: a ticket carries out an item of a
//! published plan on its own day, or is unplanned work (计划外作业) whose reason the unit's
//! manager approves before issue, once, and not the one who wrote it; a reason written anew needs
//! approval anew; emergency repair is unplanned by nature.

mod support;

use std::sync::Arc;

use axum::http::Method;
use gridsafe_app::plans::{self, ItemInput, PlanInput};
use gridsafe_domain::access::{Permission, perm};
use gridsafe_domain::ids::TicketId;
use gridsafe_domain::plans::PlanStep;
use serde_json::{Value, json};
use support::tickets::{Crew, approve_unplanned, create, create_unapproved, crew, draft, ok, rules, sessions, step};
use support::{Fixture, TestApp, cap, meta, principal, race, rule_codes};

/// A daily plan of city A for `day` (in November 2026) with one item for L1 and C1 at 09:00–17:00;
/// published when asked. Its id and its item's.
async fn plan_item(app: &TestApp, f: &Fixture, day: u32, publish: bool) -> (i64, i64) {
    let author = principal(f.user("work_leader"), "u_work_leader", &[Permission::PlansWrite], &city_a(app, f).await);
    let input = PlanInput { unit_id: f.unit_a, kind: "daily".into(), first_day: format!("2026-11-{day:02}") };
    let plan = plans::create_plan(app.app(), &cap(&author), &meta(), input).await.expect("plan");
    let item = ItemInput {
        start: format!("2026-11-{day:02} 09:00"),
        end: format!("2026-11-{day:02} 17:00"),
        site: "书院街 18 号表箱".into(),
        work_kind: "meter_install".into(),
        team_id: f.unit_a,
        leader: "L1".into(),
        crew: "C1".into(),
        ..Default::default()
    };
    let id = plans::add_item(app.app(), &cap(&author), &meta(), plan, item).await.expect("item");
    if publish {
        publish_plan(app, f, plan).await;
    }
    (plan, id)
}

async fn city_a(app: &TestApp, f: &Fixture) -> gridsafe_domain::access::UnitPath {
    gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path
}

/// The unit's manager approves and publishes `plan`.
async fn publish_plan(app: &TestApp, f: &Fixture, plan: i64) {
    let manager = principal(f.user("leader"), "u_leader", &[Permission::PlansApprove], &city_a(app, f).await);
    for s in [PlanStep::Approve, PlanStep::Publish] {
        plans::take_step(app.app(), &cap(&manager), &meta(), plan, s, "").await.expect("step");
    }
}

fn naming(f: &Fixture, item: Option<i64>, reason: &str) -> Value {
    let mut body = draft(f, "L1", &["C1"], "2026-11-26 09:00", "2026-11-26 17:00");
    body["plan_item"] = json!(item);
    body["unplanned_reason"] = json!(reason);
    body
}

async fn issue(app: &TestApp, c: &Crew, id: i64) -> support::TestResponse {
    step(app, &c.cookie_issuer, id, json!({"step": "issue"})).await
}

backend_tests! {
    async fn a_ticket_carries_out_a_published_item_of_its_own_day(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let (plan, item) = plan_item(&app, &f, 26, false).await;
        let id = create_unapproved(&app, &c, naming(&f, Some(item), "")).await;
        let t = app.json(Method::GET, &format!("/api/v1/tickets/{id}"), None, &[("cookie", &c.cookie_leader)]).await.json();
        assert_eq!(t["plan"]["item"]["id"], item);
        // The item a ticket names stays in its plan.
        let author = principal(f.user("work_leader"), "u_work_leader", &[Permission::PlansWrite], &city_a(&app, &f).await);
        let removed = plans::remove_item(app.app(), &cap(&author), &meta(), plan, item, "").await;
        assert!(matches!(removed, Err(gridsafe_app::AppError::Conflict("conflict-plan-item-in-use"))), "{removed:?}");
        assert_eq!(t["plan"]["item"]["plan_state"], "draft");
        // Its risk grade: low-voltage meter work, nothing raising it (四级).
        assert_eq!((t["risk"]["level"].as_u64(), t["risk"]["raised_by"].as_array().map(Vec::len)), (Some(4), Some(0)), "{t}");
        let page = app.get_with(&format!("/plans/{plan}"), &[("cookie", &c.cookie_manager)]).await;
        assert!(page.body.contains(&format!("data-item=\"{item}\"")) && page.body.contains("data-risk=\"4\">四级"), "{}", page.body);
        let api = app.json(Method::GET, &format!("/api/v1/plans/{plan}"), None, &[("cookie", &c.cookie_manager)]).await.json();
        assert_eq!(api["plan_items"][0]["risk"], json!({"level": 4, "raised_by": []}), "{api}");
        // Live work raises it one grade, named on the page and the print.
        let mut live = naming(&f, None, "带电换表");
        live["type_code"] = json!("live_work");
        live["work_leader"] = json!("L2");
        live["crew"] = json!(["C2"]);
        let live = create_unapproved(&app, &c, live).await;
        let t = app.json(Method::GET, &format!("/api/v1/tickets/{live}"), None, &[("cookie", &c.cookie_leader)]).await.json();
        assert_eq!(t["risk"], json!({"level": 3, "raised_by": ["live_work"]}));
        let print = app.get_with(&format!("/tickets/{live}/print"), &[("cookie", &c.cookie_leader)]).await;
        assert!(print.body.contains("作业风险等级：三级（带电作业）"), "{}", print.body);
        let r = issue(&app, &c, id).await;
        assert_eq!((r.status.as_u16(), rules(&r)), (409, vec!["TICKET_PLAN_ITEM".to_owned()]), "{}", r.body);
        assert!(r.json()["error"]["refusals"][0]["message"].as_str().expect("message").contains("已发布的作业计划"), "{}", r.body);

        // Another day's item: refused, naming both days.
        let (_, tomorrow) = plan_item(&app, &f, 27, true).await;
        let r = app.json(Method::PUT, &format!("/api/v1/tickets/{id}"), Some(naming(&f, Some(tomorrow), "")), &[("cookie", &c.cookie_leader)]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = issue(&app, &c, id).await;
        assert_eq!(rules(&r), ["TICKET_PLAN_ITEM"]);
        let message = r.json()["error"]["refusals"][0]["message"].as_str().expect("message").to_owned();
        assert!(message.contains("2026-11-27") && message.contains("2026-11-26"), "{message}");

        // The day's item, its plan published: issued, no approval asked.
        publish_plan(&app, &f, plan).await;
        let r = app.json(Method::PUT, &format!("/api/v1/tickets/{id}"), Some(naming(&f, Some(item), "")), &[("cookie", &c.cookie_leader)]).await;
        assert_eq!(r.status, 200);
        let r = issue(&app, &c, id).await;
        assert_eq!(r.status, 200, "{}", r.body);

        // Unknown items, and a reason beside an item, are input errors naming the field.
        for (item, reason, field) in [(json!(999_999), "", "plan_item"), (json!("abc"), "", "plan_item"), (json!(tomorrow), "临时", "unplanned_reason")] {
            let mut body = naming(&f, None, reason);
            body["plan_item"] = item;
            let r = app.json(Method::POST, "/api/v1/tickets", Some(body), &[("cookie", &c.cookie_leader)]).await;
            assert_eq!(r.status, 422, "{}", r.body);
            assert!(r.body.contains(field), "{field}: {}", r.body);
        }
    }

    async fn unplanned_work_waits_for_the_managers_approval_of_its_reason(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        // No reason: not issued, and nothing to approve.
        let id = create_unapproved(&app, &c, naming(&f, None, "")).await;
        let r = issue(&app, &c, id).await;
        assert_eq!((r.status.as_u16(), rules(&r)), (409, vec!["TICKET_UNPLANNED".to_owned()]), "{}", r.body);
        let r = approve_unplanned(&app, &c.cookie_manager, id).await;
        assert_eq!((r.status.as_u16(), rules(&r)), (409, vec!["TICKET_UNPLANNED_APPROVAL".to_owned()]), "{}", r.body);
        // The crew's leader may not approve (the permission is the manager's).
        assert_eq!(approve_unplanned(&app, &c.cookie_leader, id).await.status, 403);
        // A reason, approved: issued.
        let r = app.json(Method::PUT, &format!("/api/v1/tickets/{id}"), Some(naming(&f, None, "客户报修，当天处理")), &[("cookie", &c.cookie_leader)]).await;
        assert_eq!(r.status, 200);
        // It waits on the manager's home page, gone once approved.
        let home = app.get_with("/", &[("cookie", &c.cookie_manager)]).await;
        assert!(home.body.contains("批准计划外作业") && home.body.contains(&format!("/tickets/{id}#plan")), "{}", home.body);
        let r = approve_unplanned(&app, &c.cookie_manager, id).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let home = app.get_with("/", &[("cookie", &c.cookie_manager)]).await;
        assert!(!home.body.contains(&format!("/tickets/{id}#plan")), "{}", home.body);
        assert_eq!(r.json()["plan"]["approved_by"], "u_leader");
        // Approved once: a second approval is refused, naming the first.
        let again = approve_unplanned(&app, &c.cookie_manager, id).await;
        assert_eq!(rules(&again), ["TICKET_UNPLANNED_APPROVAL"]);
        // The reason rewritten: approval needed anew.
        let r = app.json(Method::PUT, &format!("/api/v1/tickets/{id}"), Some(naming(&f, None, "客户要求提前")), &[("cookie", &c.cookie_leader)]).await;
        assert_eq!(r.json()["plan"]["approved_by"], Value::Null);
        assert_eq!(rules(&issue(&app, &c, id).await), ["TICKET_UNPLANNED"]);
        // The same reason saved again keeps it.
        assert_eq!(approve_unplanned(&app, &c.cookie_manager, id).await.status, 200);
        let r = app.json(Method::PUT, &format!("/api/v1/tickets/{id}"), Some(naming(&f, None, "客户要求提前")), &[("cookie", &c.cookie_leader)]).await;
        assert_eq!(r.json()["plan"]["approved_by"], "u_leader");
        assert_eq!(issue(&app, &c, id).await.status, 200);
        // After issue there is nothing left to approve.
        assert_eq!(rules(&approve_unplanned(&app, &c.cookie_manager, id).await), ["TICKET_UNPLANNED_APPROVAL"]);
        let actions = app.audit_actions().await;
        assert_eq!(actions.iter().filter(|a| *a == "ticket.unplanned_approved").count(), 2);

        // Emergency repair is unplanned by nature: issued without approval.
        let mut repair = naming(&f, None, "");
        repair["type_code"] = json!("emergency_repair");
        repair["work_kind"] = json!("fault_repair");
        repair["orders"] = json!([]);
        repair["work_leader"] = json!("L2");
        repair["crew"] = json!(["C2"]);
        let id = create_unapproved(&app, &c, repair).await;
        let t = app.json(Method::GET, &format!("/api/v1/tickets/{id}"), None, &[("cookie", &c.cookie_leader)]).await.json();
        assert_eq!(t["plan"]["needs_approval"], false);
        let r = issue(&app, &c, id).await;
        assert!(!rules(&r).contains(&"TICKET_UNPLANNED".to_owned()), "{}", r.body);
    }

    async fn whoever_wrote_the_reason_does_not_approve_it(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let both = app.user("both", f.unit_a, &[("work_leader", f.unit_a), ("leader", f.unit_a)]).await;
        let cookie = app.session_for(both).await;
        let r = app.json(Method::POST, "/api/v1/tickets", Some(naming(&f, None, "客户报修")), &[("cookie", &cookie)]).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.json()["id"].as_i64().expect("id");
        let own = approve_unplanned(&app, &cookie, id).await;
        assert_eq!(rules(&own), ["TICKET_UNPLANNED_APPROVAL"]);
        assert!(own.json()["error"]["refusals"][0]["message"].as_str().expect("message").contains("写原因者以外的审批人"), "{}", own.body);
        assert_eq!(approve_unplanned(&app, &c.cookie_manager, id).await.status, 200);
    }

    async fn unplanned_work_is_counted_per_unit_and_month(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let (_, item) = plan_item(&app, &f, 26, true).await;
        for (hour, plan_item) in [(9_i64, Some(item)), (11, None)] {
            let mut body = naming(&f, plan_item, "");
            body["planned_start"] = json!(format!("2026-11-26 {hour:02}:00"));
            body["planned_end"] = json!(format!("2026-11-26 {:02}:00", hour + 2));
            body.as_object_mut().expect("object").remove("unplanned_reason");
            let id = create(&app, &c, body).await;
            app.clock.set(gridsafe_domain::time::Timestamp::from_utc(
                support::start_of_test_time().as_utc() + chrono::Duration::hours(hour - 9),
            ));
            let c = sessions(&app, &f).await;
            for (cookie, s) in [(&c.cookie_issuer, "issue"), (&c.cookie_leader, "receive"), (&c.cookie_permitter, "permit"), (&c.cookie_crew, "acknowledge"), (&c.cookie_leader, "start"), (&c.cookie_leader, "end_work")] {
                ok(&app, cookie, id, s).await;
            }
            assert_eq!(step(&app, &c.cookie_permitter, id, json!({"step": "close", "measures_restored": true})).await.status, 200);
        }
        let c = sessions(&app, &f).await;
        let stats = app.json(Method::GET, "/api/v1/ticket-stats?month=2026-11", None, &[("cookie", &c.cookie_auditor)]).await.json();
        let unit = &stats[0];
        assert_eq!((unit["executed"].as_u64(), unit["unplanned"].as_u64()), (Some(2), Some(1)), "{stats}");
        assert_eq!(unit["planned_share"], 50.0);
        let page = app.get_with("/tickets/evaluation?month=2026-11", &[("cookie", &c.cookie_auditor)]).await;
        assert!(page.body.contains("计划外作业") && page.body.contains("data-planned-share>50.0%"), "{}", page.body);

        // The in-app cross-audit: the unplanned ticket, and yesterday's published item nobody
        // executed a ticket for (the 26th's item has its ticket).
        let (_, missed) = plan_item(&app, &f, 25, true).await;
        let actor = gridsafe_domain::access::Actor { user_id: None, name: "test".into(), channel: gridsafe_domain::access::Channel::Job };
        gridsafe_app::findings::run_audit(app.app(), &actor, &meta(), "test").await.expect("audit");
        let found: Vec<(String, String, String)> = sqlx::query_as("SELECT rule, entity_kind, entity_id FROM findings WHERE rule IN ('UNPLANNED_WORK', 'PLAN_ITEM_NO_TICKET') ORDER BY rule")
            .fetch_all(app.state.db().pool()).await.expect("findings");
        let unplanned: String = sqlx::query_scalar("SELECT number FROM tickets WHERE plan_item_id IS NULL").fetch_one(app.state.db().pool()).await.expect("number");
        assert_eq!(found, [
            ("PLAN_ITEM_NO_TICKET".to_owned(), "plan_item".to_owned(), missed.to_string()),
            ("UNPLANNED_WORK".to_owned(), "ticket".to_owned(), unplanned),
        ]);
        let list = app.get_with("/findings?rule=UNPLANNED_WORK", &[("cookie", &c.cookie_auditor)]).await;
        assert!(list.body.contains("计划外作业") && list.body.contains("客户报修"), "{}", list.body);
        let list = app.get_with("/findings?rule=PLAN_ITEM_NO_TICKET", &[("cookie", &c.cookie_auditor)]).await;
        assert!(list.body.contains("作业计划项目") && list.body.contains("计划作业时间已过"), "{}", list.body);
    }

    async fn fifty_approvals_at_once_approve_once(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let id = TicketId::new(create_unapproved(&app, &c, naming(&f, None, "客户报修")).await);
        let manager = Arc::new(principal(f.user("leader"), "u_leader", &[Permission::PlansApprove], &city_a(&app, &f).await));
        let app = Arc::new(app);
        let answers = race(50, |_| {
            let (app, manager) = (app.clone(), manager.clone());
            async move {
                match gridsafe_app::tickets::approve_unplanned(app.app(), &cap::<perm::PlansApprove>(&manager), &meta(), id).await {
                    Ok(()) => true,
                    Err(e) => {
                        assert_eq!(rule_codes(e), ["TICKET_UNPLANNED_APPROVAL"]);
                        false
                    }
                }
            }
        })
        .await;
        assert_eq!(answers.iter().filter(|ok| **ok).count(), 1, "exactly one approval");
        let approved = app.audit_actions().await.iter().filter(|a| *a == "ticket.unplanned_approved").count();
        assert_eq!(approved, 1);
    }
}
