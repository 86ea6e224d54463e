//! The fault database through its use cases, on SQLite and PostgreSQL: a human-factors fault
//! without its assessment refused, a countermeasure tracked as a hazard, the same system failing
//! again for the same cause flagged, the ledger imported all or nothing with its bad row named,
//! the search, and another unit seeing nothing.

mod support;

use gridsafe_app::AppError;
use gridsafe_app::faults::{self, CheckInput, FaultInput};
use gridsafe_domain::access::{Permission, perm};
use support::{cap, meta, principal, rule_codes};

backend_tests! {
    async fn faults_are_recorded_assessed_tracked_and_their_recurrences_flagged(app: TestApp) {
        let f = app.fixture().await;
        let path = gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path;
        let auditor = principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::FaultsView, Permission::FaultsRecord], &path);
        app.person(f.unit_a, "IT1", &[]).await;
        let record = cap::<perm::FaultsRecord>(&auditor);
        let fault = |started: &str, cause: &str| FaultInput {
            unit_id: f.unit_a,
            system: "营销业务应用".into(),
            module: "业扩报装".into(),
            started_at: started.into(),
            ended_at: "2026-11-20 11:30".into(),
            customers_affected: "120".into(),
            orders_affected: "35".into(),
            cause: cause.into(),
            root_cause: "运维人员误删数据库索引".into(),
            countermeasure: "后台数据修改实行双人复核".into(),
            ..FaultInput::default()
        };
        let human = faults::record_fault(app.app(), &record, &meta(), fault("2026-11-20 09:00", "人为因素")).await;
        assert_eq!(rule_codes(human.expect_err("no assessment")), ["FAULT_ASSESSMENT"]);
        let backwards = faults::record_fault(app.app(), &record, &meta(), FaultInput { ended_at: "2026-11-20 08:00".into(), ..fault("2026-11-20 09:00", "network") }).await;
        assert_eq!(rule_codes(backwards.expect_err("restored before it started")), ["FAULT_TIMES"]);
        let unknown = faults::record_fault(app.app(), &record, &meta(), fault("2026-11-20 09:00", "天灾")).await;
        assert!(matches!(unknown, Err(AppError::Invalid(ref p)) if p[0].field == "cause"), "{unknown:?}");
        let first = faults::record_fault(app.app(), &record, &meta(), FaultInput {
            accountable: "IT1".into(),
            assessment: "通报批评，扣绩效 2 分".into(),
            responsible: "IT1".into(),
            deadline: "2026-12-15".into(),
            ..fault("2026-06-01 09:00", "human")
        })
        .await
        .expect("fault");
        let again = faults::record_fault(app.app(), &record, &meta(), FaultInput {
            accountable: "IT1".into(),
            assessment: "约谈".into(),
            ..fault("2026-11-20 09:00", "human")
        })
        .await
        .expect("fault");
        let view = cap::<perm::FaultsView>(&auditor);
        let v = faults::fault(app.app(), &view, again).await.expect("fault");
        assert_eq!(v.recurs.map(|r| r.0), Some(first), "the same system, the same cause, 172 days later");
        assert_eq!(v.minutes_to_restore, Some(150));
        let tracked = faults::fault(app.app(), &view, first).await.expect("fault");
        assert_eq!(tracked.hazards.len(), 1, "the countermeasure is a hazard in the loop");
        assert!(tracked.recurs.is_none());
        let found = faults::list_faults(app.app(), &view, Some("索引"), Some("human")).await.expect("list");
        assert_eq!(found.len(), 2);
        assert!(faults::list_faults(app.app(), &view, Some("索引"), Some("network")).await.expect("list").is_empty());

        // The ledger: all or nothing, the bad row named.
        let ledger = "系统,模块,开始时间,结束时间,影响客户数,影响工单数,原因类别,根本原因,防范措施,责任人,考核\n\
            用电信息采集,主站,2026-10-01 08:00,2026-10-01 09:00,0,12,网络与通信,专线中断,双链路,,\n\
            用电信息采集,主站,2026-10-02 08:00,2026-10-02 07:00,0,3,硬件故障,服务器宕机,更换电源,,\n";
        let problems = faults::import_faults(app.app(), &record, &meta(), f.unit_a, &[("故障.csv".into(), ledger.as_bytes().to_vec())]).await.expect("read").expect_err("one bad row");
        assert_eq!(problems.iter().map(|p| (p.line, p.column.as_str())).collect::<Vec<_>>(), [(3, "结束时间")]);
        assert_eq!(faults::list_faults(app.app(), &view, None, None).await.expect("list").len(), 2, "nothing written");
        let fixed = ledger.replace("2026-10-02 07:00", "2026-10-02 10:00");
        let n = faults::import_faults(app.app(), &record, &meta(), f.unit_a, &[("故障.csv".into(), fixed.into_bytes())]).await.expect("read").expect("imported");
        assert_eq!(n, 2);

        // Another unit sees none of them.
        let path_b = gridsafe_app::identity::unit_by_id(app.app(), f.unit_b).await.expect("read").expect("unit").path;
        let other = principal(f.plain_b, "u_b", &[Permission::FaultsView], &path_b);
        assert!(faults::list_faults(app.app(), &cap::<perm::FaultsView>(&other), None, None).await.expect("list").is_empty());
        assert!(faults::fault(app.app(), &cap::<perm::FaultsView>(&other), first).await.is_err());
    }

    async fn compliance_checks_answer_every_item_count_reviews_and_put_failures_in_the_loop(app: TestApp) {
        let f = app.fixture().await;
        let path = gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path;
        let auditor = principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::FaultsView, Permission::FaultsRecord], &path);
        app.person(f.unit_a, "IT2", &[]).await;
        let record = cap::<perm::FaultsRecord>(&auditor);
        let view = cap::<perm::FaultsView>(&auditor);
        // Nothing checked yet this year: the monthly rounds are overdue (due 1 February), the
        // releases are checked at each release.
        let (due, _) = faults::checks(app.app(), &view).await.expect("checks");
        let line = |code: &str| due.iter().find(|d| d.kind.code == code).map(|d| (d.due.map(|x| x.to_string()), d.overdue)).expect("kind");
        assert_eq!(line("rounds"), (Some("2026-02-01".to_owned()), true));
        assert_eq!(line("release"), (None, false));
        // A permission review by the security administrator counts as the accounts check.
        sqlx::query("UPDATE users SET last_review_at = '2026-11-01T02:00:00.000000Z' WHERE id = $1").bind(f.plain_a1).execute(app.state.db().pool()).await.expect("review");
        let (due, _) = faults::checks(app.app(), &view).await.expect("checks");
        assert_eq!(due.iter().find(|d| d.kind.code == "accounts").map(|d| (d.last.map(|x| x.to_string()), d.overdue)), Some((Some("2026-11-01".to_owned()), false)));

        let answers = |second: &str| vec![(1, "pass".to_owned(), String::new()), (2, second.to_owned(), "UPS 电池告警".to_owned()), (3, "pass".to_owned(), String::new())];
        let input = |second: &str| CheckInput {
            unit_id: f.unit_a,
            kind: "rounds".into(),
            checked_on: "2026-11-25".into(),
            checker: "信通运维 刘工".into(),
            answers: answers(second),
            ..CheckInput::default()
        };
        let missing = faults::record_check(app.app(), &record, &meta(), CheckInput { answers: answers("pass")[..2].to_vec(), ..input("pass") }).await;
        assert!(matches!(missing, Err(AppError::Invalid(ref p)) if p[0].field == "answers"), "every item answered: {missing:?}");
        let nobody = faults::record_check(app.app(), &record, &meta(), input("fail")).await;
        assert!(matches!(nobody, Err(AppError::Invalid(ref p)) if p.iter().any(|p| p.field == "responsible")), "a failure needs its responsible person: {nobody:?}");
        let id = faults::record_check(app.app(), &record, &meta(), CheckInput { responsible: "IT2".into(), deadline: "2026-12-10".into(), ..input("fail") }).await.expect("check");
        let (c, hazards) = faults::check(app.app(), &view, id).await.expect("check");
        assert_eq!(c.answers.iter().filter(|a| a.2 == "fail").count(), 1);
        assert_eq!(hazards.len(), 1, "the failed item is a hazard in the loop");
        let (due, made) = faults::checks(app.app(), &view).await.expect("checks");
        assert_eq!(made.len(), 1);
        assert_eq!(due.iter().find(|d| d.kind.code == "rounds").map(|d| (d.due.map(|x| x.to_string()), d.overdue)), Some((Some("2026-12-25".to_owned()), false)));
    }

    async fn compliance_checks_through_the_api(app: TestApp) {
        let f = app.fixture().await;
        app.person(f.unit_a, "IT2", &[]).await;
        let cookie = app.session_for(f.user("safety_auditor")).await;
        let headers = [("cookie", cookie.as_str())];
        let body = |second: &str| serde_json::json!({
            "unit_id": f.unit_a.get(), "kind": "rounds", "checked_on": "2026-11-25", "checker": "信通运维 刘工",
            "answers": [{"position": 1, "result": "pass"}, {"position": 2, "result": second, "note": "UPS 电池告警"}, {"position": 3, "result": "pass"}],
            "responsible": "IT2", "deadline": "2026-12-10",
        });
        let unanswered = app.json(axum::http::Method::POST, "/api/v1/compliance-checks", Some(serde_json::json!({
            "unit_id": f.unit_a.get(), "kind": "rounds", "checked_on": "2026-11-25", "checker": "C", "answers": [{"position": 1, "result": "pass"}],
        })), &headers).await;
        assert_eq!(unanswered.status, 422, "every item answered");
        let r = app.json(axum::http::Method::POST, "/api/v1/compliance-checks", Some(body("fail")), &headers).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let made = r.json();
        assert_eq!(made["answers"].as_array().map(Vec::len), Some(3));
        assert_eq!(made["hazards"].as_array().map(Vec::len), Some(1), "the failed item is a hazard in the loop");
        let list = app.json(axum::http::Method::GET, "/api/v1/compliance-checks", None, &headers).await.json();
        let rounds = list["kinds"].as_array().and_then(|k| k.iter().find(|k| k["code"] == "rounds").cloned()).expect("rounds");
        assert_eq!((rounds["last"].as_str(), rounds["due"].as_str(), rounds["overdue"].as_bool()), (Some("2026-11-25"), Some("2026-12-25"), Some(false)));
        assert_eq!(list["checks"][0]["number"], made["number"]);
        let one = app.json(axum::http::Method::GET, &format!("/api/v1/compliance-checks/{}", made["id"]), None, &headers).await;
        assert_eq!(one.json()["hazards"], made["hazards"]);
    }
}
