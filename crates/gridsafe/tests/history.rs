//! History moving in: the ticket register, the hazard ledger and the inspection history imported
//! with their real dates count in the monthly evaluation, the inspection plan and the hazard
//! escalation as native records do; a file with a problem writes nothing and names each problem.

mod support;

use chrono::NaiveDate;
use gridsafe_domain::access::perm;
use support::TestApp;

fn multipart(unit: i64, name: &str, content: &str) -> Vec<u8> {
    let mut body = format!("--X\r\nContent-Disposition: form-data; name=\"unit_id\"\r\n\r\n{unit}\r\n").into_bytes();
    body.extend(format!("--X\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
    body.extend(content.as_bytes());
    body.extend(b"\r\n--X--\r\n");
    body
}

async fn upload(
    app: &TestApp,
    cookie: &str,
    path: &str,
    unit: i64,
    name: &str,
    content: &str,
) -> support::TestResponse {
    let request = axum::http::Request::builder()
        .method("POST")
        .uri(path)
        .header("cookie", cookie)
        .header("content-type", "multipart/form-data; boundary=X")
        .header("sec-fetch-site", "same-origin")
        .body(axum::body::Body::from(multipart(unit, name, content)))
        .expect("request");
    app.request(request).await
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(app.state.db().pool()).await.expect(sql)
}

const TICKETS: &str = "票号,票种,业务类型,工作地点,工作内容,计划开始,计划结束,签发人,工作负责人,许可人,工作班成员,关联工单,签发时间,许可时间,终结时间,评价,评价人,评价说明\n\
DY-2025-0901,低压工作票,换表,书院街 18 号,更换电能表,2026-09-03 08:00,2026-09-03 17:00,H01,H02,H03,H04,WO-OLD-1,2026-09-02 16:00,2026-09-03 08:20,2026-09-03 15:40,合格,张审核,\n\
DY-2025-0902,dist_second,meter_replacement,书院街 20 号,更换互感器,2026-09-10 08:00,2026-09-10 17:00,H01,H02,,H04；H05,,2026-09-09 16:00,,2026-09-10 12:00,不合格,张审核,安全措施未填写\n\
DY-2025-0815,低压工作票,装表接电,孝南区新村,新装表计,2026-08-15 08:00,2026-08-15 17:00,H01,H02,H03,H04,,2026-08-14 10:00,2026-08-15 08:30,2026-08-15 11:00,,,\n";

backend_tests! {
    async fn fifty_imports_of_one_register_at_once_import_it_once(app: TestApp) {
        let f = app.fixture().await;
        for code in ["H01", "H02", "H03", "H04", "H05"] {
            app.person(f.unit_a1, code, &[]).await;
        }
        let cap = support::operator().authorize::<perm::HistoryImport>().expect("op");
        let files = vec![("登记簿.csv".to_owned(), TICKETS.as_bytes().to_vec())];
        let outcomes = support::race(50, |_| {
            let (app, cap, files, unit) = (app.app().clone(), cap.clone(), files.clone(), f.unit_a1);
            async move {
                let register = gridsafe_domain::history::Register::Tickets;
                gridsafe_app::history::import(&app, &cap, &support::meta(), register, unit, &files).await
            }
        })
        .await;
        let imported: Vec<_> = outcomes.iter().filter(|o| matches!(o, Ok(Ok(_)))).collect();
        assert_eq!(imported.len(), 1, "{outcomes:?}");
        // The others saw the numbers taken (refused, named) or lost the race to the index (a conflict).
        assert!(
            outcomes.iter().all(|o| matches!(o, Ok(_) | Err(gridsafe_app::AppError::Conflict("conflict-history-number")))),
            "{outcomes:?}"
        );
        assert_eq!(count(&app, "SELECT COUNT(*) FROM tickets").await, 3);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM history_imports").await, 1);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_events WHERE action = 'history.imported'").await, 1);
    }

    async fn an_old_ticket_register_counts_in_the_monthly_evaluation_with_its_real_dates(app: TestApp) {
        let f = app.fixture().await;
        for code in ["H01", "H02", "H03", "H04", "H05"] {
            app.person(f.unit_a1, code, &[]).await;
        }
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let before = count(&app, "SELECT COUNT(*) FROM tickets").await;

        // A register with problems: each named by file, line and column, and nothing written.
        let bad = "票号,票种,业务类型,工作地点,工作内容,计划开始,计划结束,工作负责人,签发时间,许可时间,终结时间,评价\n\
            X-1,低压工作票,换表,地点,内容,2026-09-03 08:00,2026-09-03 17:00,NOBODY,2026-09-02 16:00,2026-09-01 08:00,2026-09-03 15:40,良好\n\
            X-2,工作票,换表,地点,内容,2026-09-03 08:00,2026-09-03 17:00,H02,,,2027-01-01 10:00,\n";
        let r = upload(&app, &auditor, "/history/tickets", f.unit_a1.get(), "登记簿.csv", bad).await;
        assert_eq!(r.status, 422, "{}", r.body);
        for words in ["登记簿.csv", "第 2 行", "工作负责人", "NOBODY", "许可时间", "早于「签发时间」", "评价「良好」",
                      "第 3 行", "票种", "取值「工作票」", "终结时间", "晚于现在"] {
            assert!(r.body.contains(words), "{words} in {}", r.body);
        }
        assert_eq!(count(&app, "SELECT COUNT(*) FROM tickets").await, before);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM history_imports").await, 0);

        // The register as it is: three closed tickets on their own days.
        let r = upload(&app, &auditor, "/history/tickets", f.unit_a1.get(), "2026年工作票登记簿.csv", TICKETS).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert!(r.header("location").starts_with("/history?imported="));
        let page = app.get_with(r.header("location"), &[("cookie", &auditor)]).await;
        assert!(page.body.contains("已导入 3 条记录") && page.body.contains("2026年工作票登记簿.csv"), "{}", page.body);
        // The same register again: every number is taken, nothing doubles.
        let again = upload(&app, &auditor, "/history/tickets", f.unit_a1.get(), "again.csv", TICKETS).await;
        assert_eq!(again.status, 422);
        assert!(again.body.contains("DY-2025-0901") && again.body.contains("已在系统中"), "{}", again.body);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM tickets").await, before + 3);

        // September's evaluation: two executed, one passed; August's one executed, not evaluated.
        let cap = support::operator().authorize::<perm::TicketsEvaluate>().expect("op");
        let september = gridsafe_app::tickets::month_stats(app.app(), &cap, NaiveDate::from_ymd_opt(2026, 9, 1).expect("day")).await.expect("stats");
        let county = september.iter().find(|u| u.unit_id == f.unit_a1).expect("county A1 in September");
        assert_eq!((county.stats.executed, county.stats.passed, county.stats.failed), (2, 1, 1), "{county:?}");
        let august = gridsafe_app::tickets::month_stats(app.app(), &cap, NaiveDate::from_ymd_opt(2026, 8, 1).expect("day")).await.expect("stats");
        let county = august.iter().find(|u| u.unit_id == f.unit_a1).expect("county A1 in August");
        assert_eq!((county.stats.executed, county.stats.passed), (1, 0), "{county:?}");

        // Its steps are the register's, on its days, never signatures; the import is on record.
        let steps: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT s.step, s.channel, s.at FROM ticket_steps s JOIN tickets t ON t.id = s.ticket_id WHERE t.number = 'DY-2025-0901' ORDER BY s.at")
            .fetch_all(app.state.db().pool()).await.expect("steps");
        let steps: Vec<(&str, &str, &str)> = steps.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), &c[..16])).collect();
        assert_eq!(steps, vec![("issue", "import", "2026-09-02T08:00"), ("permit", "import", "2026-09-03T00:20"), ("close", "import", "2026-09-03T07:40")]);
        let signatures: i64 = count(&app, "SELECT COUNT(*) FROM ticket_steps WHERE username IS NOT NULL AND channel = 'import'").await;
        assert_eq!(signatures, 0);
        let crew = count(&app, "SELECT COUNT(*) FROM ticket_crew c JOIN tickets t ON t.id = c.ticket_id WHERE t.number = 'DY-2025-0902'").await;
        assert_eq!(crew, 2);
        assert!(app.audit_actions().await.iter().any(|a| a == "history.imported"));
        let id: i64 = sqlx::query_scalar("SELECT id FROM tickets WHERE number = 'DY-2025-0901'").fetch_one(app.state.db().pool()).await.expect("ticket");
        let page = app.get_with(&format!("/tickets/{id}"), &[("cookie", &auditor)]).await;
        assert!(page.body.contains("data-imported-from") && page.body.contains("从历史台账「2026年工作票登记簿.csv」导入"), "{}", page.body);

        // The API twin takes the same files under the same rules.
        let r = upload(&app, &auditor, "/api/v1/history/tickets", f.unit_a1.get(), "again.csv", TICKETS).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.json()["error"]["details"].as_array().is_some_and(|d| d.len() == 3), "{}", r.body);
        let one = TICKETS.lines().next().expect("header").to_owned() + "\nDY-2025-1001,低压工作票,换表,地点,内容,2026-10-03 08:00,2026-10-03 17:00,H01,H02,H03,H04,,2026-10-02 16:00,2026-10-03 08:20,2026-10-03 15:40,合格,张审核,\n";
        let r = upload(&app, &auditor, "/api/v1/history/tickets", f.unit_a1.get(), "one.csv", &one).await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(r.json()["records"].as_i64(), Some(1));
        // Another city's auditor cannot bring history into city A.
        let auditor_b = app.user("auditor_b", f.unit_b, &[("safety_auditor", f.unit_b)]).await;
        let cookie_b = app.session_for(auditor_b).await;
        let r = upload(&app, &cookie_b, "/api/v1/history/tickets", f.unit_a1.get(), "x.csv", &one).await;
        assert_eq!(r.status, 403, "{}", r.body);
    }

    async fn an_old_hazard_ledger_is_escalated_and_an_old_inspection_sets_the_next_one(app: TestApp) {
        let f = app.fixture().await;
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let customer: i64 = sqlx::query_scalar(
            "INSERT INTO customers (account_no, name, address, unit_id, voltage_kv, importance, industry, supply_sources, emergency_power, registered_on, updated_at, updated_by) \
             VALUES ('0701009001', '孝南纺织厂', '孝南大道 1 号', $1, 10.0, 'first', '工业', 1, 'none', '2024-01-01', '2026-01-01T00:00:00.000000Z', 'test') RETURNING id")
            .bind(f.unit_a1.get()).fetch_one(app.state.db().pool()).await.expect("customer");

        // The ledger: an open grid-side hazard past its deadline of 2026-10-31, a customer's one
        // closed on time, and a line whose days are out of order.
        let ledger = "隐患编号,户号,隐患内容,隐患等级,责任方,发现日期,整改期限,整改责任人,通知书送达日期,签收日期,签收人,报备日期,销号日期,整改情况\n\
            YH-2026-031,,配电房门锁损坏,一般,电网,2026-09-01,2026-10-31,王工,2026-09-02,,,,,\n\
            YH-2026-032,0701009001,电缆沟积水,一般,客户,2026-08-01,2026-08-31,,2026-08-02,2026-08-03,李电工,,2026-08-25,已排水并加装盖板\n\
            YH-2026-033,,标识缺失,一般,电网,2026-09-01,2026-08-01,,,,,,,\n";
        let r = upload(&app, &auditor, "/history/hazards", f.unit_a1.get(), "隐患台账.csv", ledger).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("第 4 行") && r.body.contains("整改期限") && r.body.contains("早于「发现日期」"), "{}", r.body);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM hazards").await, 0);
        let ledger: String = ledger.lines().take(3).map(|l| format!("{l}\n")).collect();
        let r = upload(&app, &auditor, "/history/hazards", f.unit_a1.get(), "隐患台账.csv", &ledger).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let states: Vec<(String, String, Option<String>)> = sqlx::query_as("SELECT number, state, closed_at FROM hazards ORDER BY number")
            .fetch_all(app.state.db().pool()).await.expect("hazards");
        assert_eq!((states[0].0.as_str(), states[0].1.as_str(), states[0].2.is_none()), ("YH-2026-031", "planned", true));
        assert_eq!((states[1].0.as_str(), states[1].1.as_str()), ("YH-2026-032", "closed"));
        assert!(states[1].2.as_deref().is_some_and(|c| c.starts_with("2026-08-25")), "{states:?}");

        let id: i64 = sqlx::query_scalar("SELECT id FROM hazards WHERE number = 'YH-2026-031'").fetch_one(app.state.db().pool()).await.expect("hazard");
        let page = app.get_with(&format!("/hazards/{id}"), &[("cookie", &auditor)]).await;
        assert!(page.body.contains("从历史台账「隐患台账.csv」导入"), "{}", page.body);
        // The escalation job takes the open one on its original deadline: 26 days late today.
        gridsafe_app::jobs::run(app.app(), gridsafe_app::jobs::Job::HazardEscalation).await.expect("job");
        let (level, due): (i64, String) = sqlx::query_as(
            "SELECT h.escalation, e.summary FROM hazards h JOIN audit_events e ON e.record_id = CAST(h.id AS TEXT) AND e.action = 'hazard.escalated' WHERE h.number = 'YH-2026-031'")
            .fetch_one(app.state.db().pool()).await.expect("escalated");
        assert!(level >= 1, "escalated");
        assert!(due.contains("\"due\":\"2026-10-31\""), "{due}");
        let cap = support::operator().authorize::<perm::CustomersView>().expect("op");

        // The inspection history: an inspection of 2025-03-10 sets the next periodic one from it, long
        // past for a class 1 customer: overdue on the plan since its own due day.
        let history = "户号,检查日期,检查类型,检查人员,检查结论,通知书编号\n0701009001,2025-03-10,周期检查,,合格，无隐患,JC-2025-0310\n";
        let r = upload(&app, &auditor, "/history/inspections", f.unit_a1.get(), "检查记录.csv", history).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let filter = gridsafe_app::customers::CustomerFilter::default();
        let list = gridsafe_app::customers::list_customers(app.app(), &cap, &filter).await.expect("customers");
        let c = list.iter().find(|c| c.id == customer).expect("the customer");
        let last = NaiveDate::from_ymd_opt(2025, 3, 10).expect("day");
        assert_eq!(c.periodic.last, Some(last));
        let months = c.periodic.months.expect("a periodic cycle");
        let due = last.checked_add_months(chrono::Months::new(months)).expect("due");
        assert_eq!(c.periodic.due, Some(due));
        let plan = gridsafe_app::customers::plan(app.app(), &cap, app.clock_now().local_date(), None).await.expect("plan");
        assert!(due < app.clock_now().local_date(), "a class 1 customer is inspected every few months: {due}");
        assert!(plan.overdue.iter().any(|e| e.customer.id == customer && e.day == due), "{:?}", plan.overdue);
        // Not a customer of the register: named, nothing written.
        let unknown = "户号,检查日期,检查结论\n0799999999,2025-03-10,合格\n";
        let r = upload(&app, &auditor, "/history/inspections", f.unit_a1.get(), "检查记录.csv", unknown).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("0799999999") && r.body.contains("找不到"), "{}", r.body);
    }
}
