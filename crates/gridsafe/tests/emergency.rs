//! Emergency plans and drills, rural pilots, complaints and evaluations through their use cases,
//! on SQLite and PostgreSQL: the drill schedule from the plans (overdue on the auditor's home
//! page, moved on by a drill), a drill's problems as hazards assigned in the closed loop, a drill
//! before its plan's approval refused; the complaint export imported all or nothing with the bad
//! row named, again changing nothing; a complaint or evaluation opening a hazard once, fifty
//! attempts at once opening one; the pilots' library versioned and searched, their indicators
//! beside the others'; another unit sees nothing.

mod support;

use gridsafe_app::AppError;
use gridsafe_app::emergency::{
    self, ComplaintInput, DocumentInput, DrillInput, EvaluationInput, HazardInput, PilotInput, PlanInput,
};
use gridsafe_domain::access::{Permission, Principal, UnitPath, perm};
use support::{Fixture, TestApp, cap, meta, principal, race, rule_codes};

struct Desk {
    auditor: Principal,
    path: UnitPath,
}

async fn desk(app: &TestApp, f: &Fixture) -> Desk {
    let path = gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path;
    let auditor = principal(
        f.user("safety_auditor"),
        "u_safety_auditor",
        &[
            Permission::EmergencyView,
            Permission::EmergencyManage,
            Permission::FeedbackRecord,
            Permission::CustomersView,
            Permission::HazardsReview,
        ],
        &path,
    );
    app.person(f.unit_a, "R1", &[]).await;
    app.person(f.unit_a, "R2", &[]).await;
    Desk { auditor, path }
}

fn plan(f: &Fixture, kind: &str, approved: &str, review: &str) -> PlanInput {
    PlanInput {
        unit_id: f.unit_a,
        kind: kind.into(),
        title: format!("{kind} 预案"),
        risks: vec!["field_work".into(), "service".into()],
        version: "2026 版".into(),
        approved_by: "孝感供电公司 王总".into(),
        approved_on: approved.into(),
        review_due: review.into(),
        ..PlanInput::default()
    }
}

fn drill(day: &str, problems: &str) -> DrillInput {
    DrillInput {
        held_on: day.into(),
        scenario: "配电室火灾，客户侧停电抢修".into(),
        people: "R1 R2".into(),
        rating: "adequate".into(),
        evaluation: "响应及时，照明不足".into(),
        problems: problems.into(),
        responsible: "R1".into(),
        deadline: "2026-12-10".into(),
        photo: None,
    }
}

async fn hazards_from(app: &TestApp, kind: &str) -> Vec<(String, Option<i64>, String)> {
    sqlx::query_as("SELECT title, owner_person_id, state FROM hazards WHERE source_kind = $1 ORDER BY id")
        .bind(kind)
        .fetch_all(app.state.db().pool())
        .await
        .expect("hazards")
}

const EXPORT: &str = "工单编号,受理时间,户号,类别,内容,供电单位\n\
95598-001,2026-11-20 09:30,,用电安全,小区配电箱门未锁，儿童可触及,{unit}\n\
95598-002,2026-11-21 14:00,,电费咨询,询问电费账单,{unit}\n\
95598-003,2026-11-22 08:15,,频繁停电,近一周停电三次,{unit}\n";

backend_tests! {
    async fn drills_follow_the_plans_and_their_problems_go_into_the_closed_loop(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        let manage = cap::<perm::EmergencyManage>(&d.auditor);
        let refused = emergency::create_plan(app.app(), &manage, &meta(), plan(&f, "comprehensive", "2025-10-01", "2030-01-01")).await;
        assert_eq!(rule_codes(refused.expect_err("beyond three years")), ["EMERGENCY_PLAN_REVIEW"]);
        let unknown = emergency::create_plan(app.app(), &manage, &meta(), PlanInput { customer: "9999".into(), ..plan(&f, "customer", "2025-10-01", "2028-10-01") }).await;
        assert!(matches!(unknown, Err(AppError::Invalid(ref p)) if p[0].field == "customer"), "{unknown:?}");
        let comprehensive = emergency::create_plan(app.app(), &manage, &meta(), plan(&f, "comprehensive", "2025-10-01", "2028-10-01")).await.expect("plan");
        let onsite = emergency::create_plan(app.app(), &manage, &meta(), plan(&f, "onsite", "2026-04-01", "2029-04-01")).await.expect("plan");
        let view = cap::<perm::EmergencyView>(&d.auditor);

        // Today (26 November 2026) the unit's yearly drill and the on-site plan's are both overdue.
        let due = emergency::schedule(app.app(), &view).await.expect("schedule");
        let lines: Vec<(Option<i64>, String, bool)> = due.iter().map(|x| (x.due.plan_id, x.due.due.to_string(), x.due.overdue)).collect();
        assert_eq!(lines, [(None, "2026-10-01".to_owned(), true), (Some(onsite), "2026-10-01".to_owned(), true)]);
        let todo = emergency::todo(app.app(), &d.auditor).await.expect("todo");
        assert_eq!(todo.iter().map(|t| (t.what, t.late)).collect::<Vec<_>>(), [("home-todo-drill", true), ("home-todo-drill", true)]);

        // A drill before its plan's approval is refused; the on-site drill with two problems.
        let early = emergency::record_drill(app.app(), &manage, &meta(), onsite, drill("2026-03-01", "")).await;
        assert_eq!(rule_codes(early.expect_err("before approval")), ["DRILL_DAY"]);
        let nobody = emergency::record_drill(app.app(), &manage, &meta(), onsite, DrillInput { responsible: "ZZ".into(), ..drill("2026-11-20", "应急照明不足") }).await;
        assert!(matches!(nobody, Err(AppError::Invalid(ref p)) if p.iter().any(|p| p.field == "responsible")), "{nobody:?}");
        let id = emergency::record_drill(app.app(), &manage, &meta(), onsite, drill("2026-11-20", "应急照明不足\n抢修车辆到场超时")).await.expect("drill");
        let detail = emergency::drill(app.app(), &view, id).await.expect("drill");
        assert_eq!(detail.hazards.len(), 2);
        assert_eq!(detail.drill.people, ["R1 测试R1", "R2 测试R2"]);
        let r1: i64 = sqlx::query_scalar("SELECT id FROM people WHERE code = 'R1'").fetch_one(app.state.db().pool()).await.expect("R1");
        let hazards = hazards_from(&app, "drill").await;
        assert!(hazards.iter().all(|h| h.1 == Some(r1) && h.2 == "planned"), "assigned with their plan: {hazards:?}");
        assert!(hazards[0].0.contains("应急照明不足"));

        // The on-site plan's next drill is six months on; the unit's yearly one still waits for a
        // comprehensive or special drill.
        let due = emergency::schedule(app.app(), &view).await.expect("schedule");
        let onsite_due = due.iter().find(|x| x.due.plan_id == Some(onsite)).expect("onsite");
        assert_eq!((onsite_due.due.due.to_string().as_str(), onsite_due.due.overdue), ("2027-05-20", false));
        emergency::record_drill(app.app(), &manage, &meta(), comprehensive, drill("2026-11-25", "")).await.expect("drill");
        assert!(emergency::todo(app.app(), &d.auditor).await.expect("todo").is_empty(), "nothing due within 30 days");
        // Moving time: 30 days before the on-site drill is due it is on the home page, not late.
        app.clock.set(gridsafe_domain::time::Timestamp::from_utc(support::start_of_test_time().as_utc() + chrono::Duration::days(160)));
        let todo = emergency::todo(app.app(), &d.auditor).await.expect("todo");
        assert_eq!(todo.iter().map(|t| (t.what, t.late)).collect::<Vec<_>>(), [("home-todo-drill", false)]);

        // Another unit sees none of it.
        let path_b = gridsafe_app::identity::unit_by_id(app.app(), f.unit_b).await.expect("read").expect("unit").path;
        let other = principal(f.plain_b, "u_b", &[Permission::EmergencyView], &path_b);
        assert!(emergency::plan(app.app(), &cap::<perm::EmergencyView>(&other), onsite).await.is_err());
        assert!(emergency::schedule(app.app(), &cap::<perm::EmergencyView>(&other)).await.expect("schedule").is_empty());
        let _ = d.path;
    }

    async fn complaints_are_imported_all_or_nothing_and_open_hazards_once(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        let record = cap::<perm::FeedbackRecord>(&d.auditor);
        let unit_name: String = sqlx::query_scalar("SELECT name FROM org_units WHERE id = $1").bind(f.unit_a.get()).fetch_one(app.state.db().pool()).await.expect("unit");
        let good = EXPORT.replace("{unit}", &unit_name);
        let bad = good.replace("2026-11-22 08:15", "昨天上午").replace("95598-001,2026-11-20 09:30,,用电安全,小区配电箱门未锁，儿童可触及,", "95598-001,2026-11-20 09:30,,用电安全,,");
        let problems = emergency::import_complaints(app.app(), &record, &meta(), &[("投诉.csv".into(), bad.into_bytes())]).await.expect("read").expect_err("two bad rows");
        assert_eq!(problems.iter().map(|p| (p.line, p.column.as_str(), p.message)).collect::<Vec<_>>(), [
            (2, "内容", "input-problem-empty"),
            (4, "受理时间", "input-problem-bad-datetime"),
        ]);
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM complaints").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(count, 0, "nothing half-written");
        let done = emergency::import_complaints(app.app(), &record, &meta(), &[("投诉.csv".into(), good.clone().into_bytes())]).await.expect("read").expect("imported");
        assert_eq!((done.imported, done.known, done.not_safety), (2, 0, 1), "电费咨询 is left out");
        let again = emergency::import_complaints(app.app(), &record, &meta(), &[("投诉.csv".into(), good.into_bytes())]).await.expect("read").expect("imported");
        assert_eq!((again.imported, again.known), (0, 2), "the same export twice changes nothing");

        // By hand: a work order already kept is refused, naming it.
        let by_hand = |ticket: &str| ComplaintInput {
            ticket_no: ticket.into(),
            received_at: "2026-11-25 10:00".into(),
            category: "触电隐患".into(),
            content: "路灯杆漏电".into(),
            unit_id: f.unit_a,
            ..ComplaintInput::default()
        };
        let twice = emergency::record_complaint(app.app(), &record, &meta(), by_hand("95598-003")).await;
        assert!(matches!(twice, Err(AppError::Invalid(ref p)) if p[0].message == "field-complaint-known"), "{twice:?}");
        emergency::record_complaint(app.app(), &record, &meta(), by_hand("95598-004")).await.expect("recorded");
        let view = cap::<perm::EmergencyView>(&d.auditor);
        let month = emergency::feedback(app.app(), &view, chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("day")).await.expect("feedback");
        assert_eq!(month.complaints.len(), 3);
        assert_eq!(month.trend.last().map(|t| t.1), Some(3));
        let complaint = month.complaints.iter().find(|c| c.ticket_no == "95598-001").expect("complaint").id;
        let input = || HazardInput { title: "小区配电箱门锁损坏".into(), responsible: "R2".into(), deadline: "2026-12-05".into() };
        // Fifty at once: one hazard.
        let app = std::sync::Arc::new(app);
        let auditor = std::sync::Arc::new(d.auditor.clone());
        let results = race(50, {
            let app = app.clone();
            move |_| {
                let (app, auditor) = (app.clone(), auditor.clone());
                async move { emergency::complaint_hazard(app.app(), &cap::<perm::FeedbackRecord>(&auditor), &meta(), complaint, input()).await }
            }
        })
        .await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(e, AppError::Conflict("conflict-complaint-hazard"))));
        assert_eq!(hazards_from(&app, "complaint").await.len(), 1);

        // An evaluation whose remarks show a hazard opens one at once; a score over 100 is refused.
        let evaluation = |score: &str, hazard: Option<HazardInput>| EvaluationInput {
            unit_id: f.unit_a,
            period: "2026-11".into(),
            kind: "conduct".into(),
            score: score.into(),
            remarks: "走访发现农村台区表箱锈蚀".into(),
            evaluator: "孝感市行风评议代表".into(),
            hazard,
        };
        let high = emergency::record_evaluation(app.app(), &record, &meta(), evaluation("101", None)).await;
        assert!(matches!(high, Err(AppError::Invalid(ref p)) if p[0].field == "score"), "{high:?}");
        emergency::record_evaluation(app.app(), &record, &meta(), evaluation("86.5", Some(input()))).await.expect("evaluation");
        assert_eq!(hazards_from(&app, "evaluation").await.len(), 1);
        let month = emergency::feedback(app.app(), &view, chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("day")).await.expect("feedback");
        let unit = month.units.iter().find(|u| u.unit_name == unit_name).expect("unit");
        assert_eq!((unit.complaints, unit.with_hazard, unit.evaluations, unit.average_score), (3, 1, 1, Some(86.5)));
    }

    async fn a_month_of_more_complaints_and_evaluations_than_a_batch_is_counted_whole(app: TestApp) {
        // A province's month: 5,030 complaints and 5,010 evaluations in county A1 (the first ten
        // scored 0, the rest 100). Both used to be read up to 5,000, the latest first: the
        // oldest complaints and the lowest evaluations were in no count or average.
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        let unit = f.unit_a1.get();
        let complaints = format!(
            "INSERT INTO complaints (ticket_no, received_at, account_no, category, content, unit_id, recorded_by, recorded_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5030) \
             SELECT 'TS' || CAST(i AS TEXT), CASE WHEN i > 5000 THEN '2026-11-20T02:00:00.000000Z' ELSE '2026-11-10T02:00:00.000000Z' END, \
             '', '用电安全', '投诉', {unit}, 'test', '2026-11-20T02:00:00.000000Z' FROM n"
        );
        let evaluations = format!(
            "INSERT INTO evaluations (unit_id, period, kind, score, remarks, evaluator, recorded_by, recorded_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5010) \
             SELECT {unit}, '2026-11', 'visit', CASE WHEN i <= 10 THEN 0 ELSE 100 END, '', '评议代表', 'test', \
             '2026-11-20T02:00:00.000000Z' FROM n"
        );
        for sql in [complaints, evaluations] {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(app.state.db().pool()).await.expect("rows");
        }
        let view = cap::<perm::EmergencyView>(&d.auditor);
        let month = emergency::feedback(app.app(), &view, chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("day")).await.expect("feedback");
        let county = month.units.iter().find(|u| u.unit_name == "孝南供电中心").expect("county");
        assert_eq!((county.complaints, county.evaluations, county.average_score), (5030, 5010, Some(99.8)));
        assert_eq!(month.trend.last(), Some(&("2026-11".to_owned(), 5030)));
        // The page lists the latest of each, and says how many the month holds.
        assert_eq!((month.complaints.len(), month.complaints_total), (emergency::SHOWN, 5030));
        assert_eq!(month.complaints[0].ticket_no, "TS5030", "the latest first");
        assert!(month.complaints[..30].iter().all(|c| c.received_at.local_date().to_string() == "2026-11-20"));
        assert_eq!((month.evaluations.len(), month.evaluations_total), (emergency::SHOWN, 5010));
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let page = app.get_with("/feedback?month=2026-11", &[("cookie", &auditor)]).await;
        assert!(page.body.contains("本月共 5030 条，此处列出最近的 200 条"), "{}", page.body);
    }

    async fn the_pilots_library_is_versioned_searched_and_their_indicators_set_beside_the_others(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        let manage = cap::<perm::EmergencyManage>(&d.auditor);
        let pilot = emergency::create_pilot(app.app(), &manage, &meta(), PilotInput {
            unit_id: f.unit_a1,
            name: "乡村用电安全共建试点".into(),
            starts_on: "2026-01-01".into(),
            ends_on: String::new(),
        })
        .await
        .expect("pilot");
        let doc = |summary: &str| DocumentInput {
            pilot_id: pilot,
            kind: "standard".into(),
            title: "农村低压台区安全巡视工作标准".into(),
            tags: "台区、巡视".into(),
            summary: summary.into(),
            file: None,
        };
        assert_eq!(emergency::publish_document(app.app(), &manage, &meta(), doc("第一版")).await.expect("doc").1, 1);
        assert_eq!(emergency::publish_document(app.app(), &manage, &meta(), doc("增加雷雨季节特巡")).await.expect("doc").1, 2);
        let found = emergency::library(app.app(), Some("巡视")).await.expect("library");
        assert_eq!(found.iter().map(|x| x.version).collect::<Vec<_>>(), [2, 1], "newest first");
        assert!(emergency::library(app.app(), Some("电费")).await.expect("library").is_empty());
        // Every unit reads the library, whatever its scope.
        assert_eq!(emergency::pilots(app.app()).await.expect("pilots").len(), 1);
        // Indicators: county A1 is a pilot; its hazard counts against the others'.
        sqlx::query("INSERT INTO customers (account_no, name, address, unit_id, voltage_kv, importance, industry, supply_sources, emergency_power, registered_on, updated_at, updated_by) VALUES ('P1', '试点客户', '村', $1, 0.4, 'none', '农业', 1, 'none', '2026-01-01', '2026-01-01T00:00:00.000000Z', 'test')")
            .bind(f.unit_a1.get()).execute(app.state.db().pool()).await.expect("customer");
        sqlx::query("INSERT INTO customers (account_no, name, address, unit_id, voltage_kv, importance, industry, supply_sources, emergency_power, registered_on, updated_at, updated_by) VALUES ('P2', '非试点客户', '城区', $1, 0.4, 'none', '商业', 1, 'none', '2026-01-01', '2026-01-01T00:00:00.000000Z', 'test')")
            .bind(f.unit_a.get()).execute(app.state.db().pool()).await.expect("customer");
        let a1: String = sqlx::query_scalar("SELECT name FROM org_units WHERE id = $1").bind(f.unit_a1.get()).fetch_one(app.state.db().pool()).await.expect("unit");
        let ind = emergency::indicators(app.app(), &cap::<perm::CustomersView>(&d.auditor), app.app().today()).await.expect("indicators");
        let pilots: Vec<&str> = ind.units.iter().filter(|u| u.pilot).map(|u| u.unit_name.as_str()).collect();
        assert_eq!(pilots, [a1.as_str()], "{ind:?}");
        assert_eq!(ind.units.iter().filter(|u| !u.pilot).count(), 1, "city A's own customers are the others");
    }

    async fn a_scenario_of_500_characters_is_taken_and_one_of_501_refused(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        let manage = cap::<perm::EmergencyManage>(&d.auditor);
        let onsite = emergency::create_plan(app.app(), &manage, &meta(), plan(&f, "onsite", "2026-04-01", "2029-04-01")).await.expect("plan");
        let long = emergency::record_drill(app.app(), &manage, &meta(), onsite, DrillInput { scenario: "演".repeat(501), ..drill("2026-11-20", "") }).await;
        assert!(matches!(long, Err(AppError::Invalid(ref p)) if p[0].field == "scenario"), "{long:?}");
        emergency::record_drill(app.app(), &manage, &meta(), onsite, DrillInput { scenario: "演".repeat(500), ..drill("2026-11-20", "") }).await.expect("500 characters are taken");
        let record = cap::<perm::FeedbackRecord>(&d.auditor);
        let complaint = |n: usize| ComplaintInput {
            ticket_no: format!("95598-L{n}"),
            received_at: "2026-11-25 10:00".into(),
            category: "用电安全".into(),
            content: "诉".repeat(n),
            unit_id: f.unit_a,
            ..ComplaintInput::default()
        };
        let long = emergency::record_complaint(app.app(), &record, &meta(), complaint(2001)).await;
        assert!(matches!(long, Err(AppError::Invalid(ref p)) if p[0].field == "content"), "{long:?}");
        emergency::record_complaint(app.app(), &record, &meta(), complaint(2000)).await.expect("2,000 characters are taken");
    }
}
