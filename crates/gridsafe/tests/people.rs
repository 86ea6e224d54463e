//! People, qualifications and contractors: the role question on boundary days, blocking by
//! blacklist and expiry, imports (GBK, Excel, malformed files), reach by unit and contractor,
//! expiry warnings.

mod support;

use axum::http::Method;
use support::{Fixture, TestApp, meta, operator};

/// A multipart upload of one file to /people/import.
fn multipart(name: &str, content: &[u8]) -> Vec<u8> {
    let mut body = format!("--B\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(b"\r\n--B--\r\n");
    body
}

impl TestApp {
    async fn upload(&self, cookie: &str, name: &str, content: &[u8]) -> support::TestResponse {
        let request = axum::http::Request::builder()
            .method(Method::POST)
            .uri("/people/import")
            .header("cookie", cookie)
            .header("content-type", "multipart/form-data; boundary=B")
            .body(axum::body::Body::from(multipart(name, content)))
            .expect("request");
        self.request(request).await
    }

    async fn people_count(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM people").fetch_one(self.state.db().pool()).await.expect("count")
    }
}

fn token_of(page: &str) -> String {
    page.split("action=\"/people/import/").nth(1).and_then(|s| s.split('"').next()).expect("confirm form").to_owned()
}

async fn auditor(app: &TestApp, f: &Fixture) -> String {
    app.session_for(f.user("safety_auditor")).await
}

backend_tests! {
    async fn the_role_question_on_boundary_days_names_the_rule(app: TestApp) {
        let f = app.fixture().await;
        let cookie = auditor(&app, &f).await;
        let person = app.json(Method::POST, "/api/v1/people", Some(serde_json::json!({"code": "P001", "name": "张伟", "unit_id": f.unit_a1})), &[("cookie", &cookie)]).await;
        assert_eq!(person.status, 201, "{}", person.body);
        let id = person.json()["id"].as_i64().expect("id");
        for (kind, from, to) in [("safety_exam", "2026-01-01", "2026-12-31"), ("work_leader", "2026-01-01", "2026-06-30")] {
            let r = app.json(Method::POST, &format!("/api/v1/people/{id}/qualifications"), Some(serde_json::json!({"kind": kind, "valid_from": from, "valid_to": to})), &[("cookie", &cookie)]).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        let ask = |role: &str, day: &str| format!("/api/v1/people/{id}/may-act?role={role}&day={day}");
        let yes = app.json(Method::GET, &ask("work_leader", "2026-06-30"), None, &[("cookie", &cookie)]).await.json();
        assert_eq!(yes["allowed"], true, "the last day is still valid: {yes}");
        let no = app.json(Method::GET, &ask("work_leader", "2026-07-01"), None, &[("cookie", &cookie), ("accept-language", "en")]).await.json();
        assert_eq!(no["allowed"], false);
        assert_eq!(no["refusals"][0]["rule"], "LIST_WORK_LEADER");
        assert!(no["refusals"][0]["message"].as_str().is_some_and(|m| m.contains("expired 2026-06-30")), "{no}");
        assert!(no["refusals"][0]["source"].as_str().is_some_and(|s| s.contains("安全工作规程")), "{no}");
        assert_eq!(app.json(Method::GET, &ask("crew_member", "2026-07-01"), None, &[("cookie", &cookie)]).await.json()["allowed"], true);
        let before = app.json(Method::GET, &ask("crew_member", "2025-12-31"), None, &[("cookie", &cookie)]).await.json();
        assert_eq!(before["refusals"][0]["rule"], "SAFETY_EXAM");
        // The person page answers the same question.
        let page = app.get_with(&format!("/people/{id}?day=2026-07-01"), &[("cookie", &cookie)]).await;
        assert!(page.body.contains("LIST_WORK_LEADER") && page.body.contains("data-may-act=\"yes\""), "{}", page.body);
    }

    async fn blacklist_and_expired_documents_block_contractor_workers(app: TestApp) {
        use gridsafe_app::people::{self, ContractorInput, Manage, PersonInput, QualificationInput, Reach};
        use gridsafe_domain::access::perm;
        use gridsafe_domain::people::FieldRole;
        let f = app.fixture().await;
        let op = operator();
        let ccap = op.authorize::<perm::ContractorsManage>().expect("op");
        let pcap = op.authorize::<perm::PeopleManage>().expect("op");
        let reach = Reach::<Manage>::units(&pcap);
        let c = people::save_contractor(app.app(), &ccap, &meta(), None, ContractorInput {
            code: "C01".into(), name: "孝感承装一公司".into(), unit_id: f.unit_a, license_level: Some(5), license_valid_to: "2026-06-30".into(), ..Default::default()
        }).await.expect("contractor");
        people::add_agreement(app.app(), &reach, &meta(), c, gridsafe_app::people::AgreementInput {
            code: "A01".into(), project: "业扩".into(), valid_from: "2026-01-01".into(), valid_to: "2026-03-31".into(), ..Default::default()
        }).await.expect("agreement");
        let w = people::save_person(app.app(), &reach, &meta(), None, PersonInput { code: "P101".into(), name: "周杰".into(), unit_id: f.unit_a, contractor_id: Some(c), active: true, ..Default::default() }).await.expect("worker");
        people::add_qualification(app.app(), &reach, &meta(), w, QualificationInput { kind: "safety_exam".into(), valid_from: "2026-01-01".into(), valid_to: "2026-12-31".into(), passed: true, ..Default::default() }).await.expect("exam");
        let ask = |day: &str| {
            let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("day");
            let app = app.app().clone();
            let reach = reach.clone();
            async move { people::may_act(&app, &reach, w, FieldRole::CrewMember, day).await.expect("asked").iter().map(|v| v.rule.code).collect::<Vec<_>>() }
        };
        assert!(ask("2026-03-31").await.is_empty(), "agreement's last day");
        assert_eq!(ask("2026-04-01").await, ["CONTRACTOR_AGREEMENT"]);
        assert_eq!(ask("2026-07-01").await, ["CONTRACTOR_LICENSE", "CONTRACTOR_AGREEMENT"]);
        people::set_blacklist(app.app(), &ccap, &meta(), c, Some("2026-02-01"), "违章作业").await.expect("blacklist");
        assert_eq!(ask("2026-01-31").await, Vec::<&str>::new(), "not yet blacklisted");
        assert_eq!(ask("2026-02-01").await, ["CONTRACTOR_BLACKLIST"]);
        let actions = app.audit_actions().await;
        assert!(actions.contains(&"contractor.blacklisted".to_owned()) && actions.contains(&"agreement.added".to_owned()));
    }

    async fn a_gbk_csv_imports_after_a_preview(app: TestApp) {
        let f = app.fixture().await;
        let cookie = auditor(&app, &f).await;
        let csv = "工号,姓名,单位,外包单位编号,岗位\nP001,张伟,孝南供电中心,,装表接电\nP002,李娜,XG-XN,,客户经理\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(csv);
        let before = app.people_count().await;
        let preview = app.upload(&cookie, "人员.csv", &gbk).await;
        assert_eq!(preview.status, 200, "{}", preview.body);
        assert!(preview.body.contains("data-count=\"persons-new\">2<"), "{}", preview.body);
        assert_eq!(app.people_count().await, before, "a preview writes nothing");
        let token = token_of(&preview.body);
        let done = app.post_form(&format!("/people/import/{token}"), &format!("contractor_unit={}", f.unit_a), &[("cookie", &cookie)]).await;
        assert_eq!(done.status, 200, "{}", done.body);
        assert_eq!(app.people_count().await, before + 2);
        let list = app.get_with("/people?q=%E6%9D%8E%E5%A8%9C", &[("cookie", &cookie)]).await;
        assert!(list.body.contains("李娜") && list.body.contains("孝南供电中心"), "{}", list.body);
        assert_eq!(app.audit_actions().await.last().map(String::as_str), Some("people.imported"));
    }

    async fn an_excel_workbook_imports_every_table(app: TestApp) {
        let f = app.fixture().await;
        let cookie = auditor(&app, &f).await;
        let mut wb = rust_xlsxwriter::Workbook::new();
        let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        let sheets: [(&str, &[&str]); 4] = [
            ("外包单位", &["外包单位编号", "名称", "资质有效期止"]),
            ("人员", &["工号", "姓名", "单位", "外包单位编号"]),
            ("资格", &["工号", "资格类型", "有效期起", "有效期止"]),
            ("安全协议", &["协议编号", "外包单位编号", "有效期起", "有效期止"]),
        ];
        for (name, headers) in sheets {
            let ws = wb.add_worksheet();
            ws.set_name(name).expect("name");
            for (c, h) in headers.iter().enumerate() {
                ws.write_string(0, u16::try_from(c).expect("col"), *h).expect("header");
            }
        }
        let d = |s: &str| rust_xlsxwriter::ExcelDateTime::parse_from_str(s).expect("date");
        {
            let ws = wb.worksheet_from_name("外包单位").expect("sheet");
            ws.write_string(1, 0, "C01").expect("w");
            ws.write_string(1, 1, "孝感承装一公司").expect("w");
            ws.write_datetime_with_format(1, 2, d("2026-12-31"), &date).expect("w");
        }
        {
            let ws = wb.worksheet_from_name("人员").expect("sheet");
            for (r, row) in [["P101", "周杰", "孝感供电公司", "C01"], ["P001", "张伟", "孝南供电中心", ""]].iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    ws.write_string(u32::try_from(r + 1).expect("row"), u16::try_from(c).expect("col"), *v).expect("w");
                }
            }
        }
        {
            let ws = wb.worksheet_from_name("资格").expect("sheet");
            ws.write_string(1, 0, "P101").expect("w");
            ws.write_string(1, 1, "安规考试").expect("w");
            ws.write_datetime_with_format(1, 2, d("2026-01-01"), &date).expect("w");
            ws.write_datetime_with_format(1, 3, d("2026-12-31"), &date).expect("w");
        }
        {
            let ws = wb.worksheet_from_name("安全协议").expect("sheet");
            ws.write_string(1, 0, "A01").expect("w");
            ws.write_string(1, 1, "C01").expect("w");
            ws.write_datetime_with_format(1, 2, d("2026-01-01"), &date).expect("w");
            ws.write_datetime_with_format(1, 3, d("2026-12-31"), &date).expect("w");
        }
        let bytes = wb.save_to_buffer().expect("xlsx");
        let preview = app.upload(&cookie, "台账.xlsx", &bytes).await;
        assert!(!preview.body.contains("role=\"alert\""), "no problems: {}", preview.body);
        let token = token_of(&preview.body);
        assert_eq!(app.post_form(&format!("/people/import/{token}"), &format!("contractor_unit={}", f.unit_a), &[("cookie", &cookie)]).await.status, 200);
        let c: (String, String) = sqlx::query_as("SELECT name, license_valid_to FROM contractors WHERE code = 'C01'").fetch_one(app.state.db().pool()).await.expect("contractor");
        assert_eq!(c, ("孝感承装一公司".to_owned(), "2026-12-31".to_owned()), "Excel date cells read as dates");
        let q: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM qualifications q JOIN people p ON p.id = q.person_id WHERE p.code = 'P101' AND q.kind = 'safety_exam'").fetch_one(app.state.db().pool()).await.expect("q");
        assert_eq!(q, 1);
    }

    async fn a_malformed_file_is_refused_whole_with_every_problem_named(app: TestApp) {
        let f = app.fixture().await;
        let cookie = auditor(&app, &f).await;
        let csv = "person_id,kind,valid_from,valid_to,备注\nP001,安规考试,2026-01-01,2026-13-01,x\nP001,work_leader,2026/1/1,2026/12/31,y\nP999,work_leader,2026-01-01,2026-12-31,z\n";
        app.json(Method::POST, "/api/v1/people", Some(serde_json::json!({"code": "P001", "name": "张伟", "unit_id": f.unit_a1})), &[("cookie", &cookie)]).await;
        let preview = app.upload(&cookie, "qualifications.csv", csv.as_bytes()).await;
        assert!(preview.body.contains("qualifications.csv第 2 行「valid_to」列：日期「2026-13-01」无法识别"), "{}", preview.body);
        assert!(preview.body.contains("qualifications.csv第 4 行「person_id」列：「P999」在文件和系统中都找不到"), "{}", preview.body);
        let token = token_of(&preview.body);
        let refused = app.post_form(&format!("/people/import/{token}"), &format!("contractor_unit={}", f.unit_a), &[("cookie", &cookie)]).await;
        assert_eq!(refused.status, 422, "all or nothing");
        let count = || async { sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM qualifications").fetch_one(app.state.db().pool()).await.expect("count") };
        assert_eq!(count().await, 0, "nothing half-written");
        // Skipping bad rows imports the good one and reports the rest.
        let skipped = app.post_form(&format!("/people/import/{token}"), &format!("contractor_unit={}&skip_invalid=1", f.unit_a), &[("cookie", &cookie)]).await;
        assert_eq!(skipped.status, 200, "{}", skipped.body);
        assert_eq!(count().await, 1);
        assert!(skipped.body.contains("有问题的行：2"), "{}", skipped.body);

        // Duplicate ids, a missing column, a wrong file type.
        let dup = app.upload(&cookie, "persons.csv", "person_id,name,org_unit,contractor_id\nP7,a,XG-XN,\nP7,b,XG-XN,\n".as_bytes()).await;
        assert!(dup.body.contains("第 3 行「person_id」列：编号「P7」与第 2 行重复"), "{}", dup.body);
        let missing = app.upload(&cookie, "contractors.csv", "contractor_id,name\nC9,x\n".as_bytes()).await;
        assert!(missing.body.contains("license_valid_to / 资质有效期止"), "{}", missing.body);
        let wrong = app.upload(&cookie, "people.pdf", b"%PDF-1.4").await;
        assert_eq!(wrong.status, 415);
    }

    async fn a_contractor_administrator_sees_only_his_company(app: TestApp) {
        use gridsafe_app::people::{self, ContractorInput, Manage, PersonInput, Reach};
        use gridsafe_domain::access::perm;
        let f = app.fixture().await;
        let op = operator();
        let ccap = op.authorize::<perm::ContractorsManage>().expect("op");
        let reach = Reach::<Manage>::units(&op.authorize::<perm::PeopleManage>().expect("op"));
        let mine = people::save_contractor(app.app(), &ccap, &meta(), None, ContractorInput { code: "C01".into(), name: "一公司".into(), unit_id: f.unit_a, ..Default::default() }).await.expect("c");
        let other = people::save_contractor(app.app(), &ccap, &meta(), None, ContractorInput { code: "C02".into(), name: "二公司".into(), unit_id: f.unit_a, ..Default::default() }).await.expect("c");
        people::save_person(app.app(), &reach, &meta(), None, PersonInput { code: "W1".into(), name: "管理员".into(), unit_id: f.unit_a, contractor_id: Some(mine), active: true, ..Default::default() }).await.expect("p");
        people::link_account(app.app(), &op.authorize::<perm::UsersManage>().expect("op"), &meta(), f.user("contractor_admin"), Some("W1")).await.expect("link");
        let theirs = people::save_person(app.app(), &reach, &meta(), None, PersonInput { code: "W2".into(), name: "别家".into(), unit_id: f.unit_a, contractor_id: Some(other), active: true, ..Default::default() }).await.expect("p");
        let cookie = app.session_for(f.user("contractor_admin")).await;
        let list = app.json(Method::GET, "/api/v1/people", None, &[("cookie", &cookie)]).await.json();
        let codes: Vec<&str> = list.as_array().expect("list").iter().filter_map(|p| p["code"].as_str()).collect();
        assert_eq!(codes, ["W1"], "only his company's workers");
        assert_eq!(app.get_with(&format!("/people/{theirs}"), &[("cookie", &cookie)]).await.status, 403);
        assert_eq!(app.get_with(&format!("/contractors/{other}"), &[("cookie", &cookie)]).await.status, 403);
        // A worker he adds belongs to his company, whatever the form says.
        let added = app.json(Method::POST, "/api/v1/people", Some(serde_json::json!({"code": "W3", "name": "新工人", "unit_id": f.unit_b, "contractor_id": other})), &[("cookie", &cookie)]).await;
        assert_eq!(added.status, 201, "{}", added.body);
        assert_eq!(added.json()["contractor_id"], mine);
        // Staff of another city see nothing of city A.
        let b_user = app.user("reader_b", f.unit_b, &[("safety_auditor", f.unit_b)]).await;
        let cookie_b = app.session_for(b_user).await;
        assert_eq!(app.json(Method::GET, "/api/v1/people", None, &[("cookie", &cookie_b)]).await.json().as_array().map(Vec::len), Some(0));
        assert_eq!(app.get_with(&format!("/contractors/{mine}"), &[("cookie", &cookie_b)]).await.status, 403);
    }

    async fn expiring_documents_are_listed_and_recorded_daily(app: TestApp) {
        use gridsafe_app::people::{self, ContractorInput, Manage, PersonInput, QualificationInput, Reach};
        use gridsafe_domain::access::perm;
        let f = app.fixture().await;
        let op = operator();
        let reach = Reach::<Manage>::units(&op.authorize::<perm::PeopleManage>().expect("op"));
        let p = people::save_person(app.app(), &reach, &meta(), None, PersonInput { code: "P1".into(), name: "甲".into(), unit_id: f.unit_a1, active: true, ..Default::default() }).await.expect("p");
        // Test time starts 2026-11-26: one ends in 20 days, one in 40, one is renewed.
        for (kind, to) in [("safety_exam", "2026-12-16"), ("work_leader", "2027-01-05"), ("ticket_issuer", "2026-12-01"), ("ticket_issuer", "2027-12-31")] {
            people::add_qualification(app.app(), &reach, &meta(), p, QualificationInput { kind: kind.into(), valid_from: "2026-01-01".into(), valid_to: to.into(), passed: true, ..Default::default() }).await.expect("q");
        }
        people::save_contractor(app.app(), &op.authorize::<perm::ContractorsManage>().expect("op"), &meta(), None,
            ContractorInput { code: "C1".into(), name: "承装".into(), unit_id: f.unit_a, license_valid_to: "2026-12-20".into(), ..Default::default() }).await.expect("c");
        let cookie = app.session_for(f.user("safety_auditor")).await;
        let items = app.json(Method::GET, "/api/v1/expiring", None, &[("cookie", &cookie)]).await.json();
        let seen: Vec<(String, i64)> = items.as_array().expect("list").iter().map(|e| (e["kind"].as_str().unwrap_or("").to_owned(), e["days_left"].as_i64().unwrap_or(-1))).collect();
        assert_eq!(seen, [("qualification".to_owned(), 20), ("license".to_owned(), 24)], "the renewed one and the one beyond 30 days are not listed");
        let wider = app.json(Method::GET, "/api/v1/expiring?days=45", None, &[("cookie", &cookie)]).await.json();
        assert_eq!(wider.as_array().map(Vec::len), Some(3));
        let recorded = people::record_expiry_warnings(app.app(), &meta()).await.expect("job");
        assert_eq!(recorded, 2);
        assert_eq!(people::record_expiry_warnings(app.app(), &meta()).await.expect("again"), 0, "once per record and day");
        let xlsx = app.get_with("/people/expiring.xlsx", &[("cookie", &cookie)]).await;
        assert_eq!(xlsx.status, 200);
        assert!(xlsx.header("content-type").contains("spreadsheetml"));
    }

    async fn expired_documents_stay_listed_first_until_renewed_or_retired(app: TestApp) {
        use gridsafe_app::people::{self, ContractorInput, Manage, PersonInput, QualificationInput, Reach};
        use gridsafe_domain::access::perm;
        let f = app.fixture().await;
        let op = operator();
        let reach = Reach::<Manage>::units(&op.authorize::<perm::PeopleManage>().expect("op"));
        let input = |code: &str| PersonInput { code: code.into(), name: "甲".into(), unit_id: f.unit_a1, active: true, ..Default::default() };
        let p1 = people::save_person(app.app(), &reach, &meta(), None, input("P1")).await.expect("p1");
        let p2 = people::save_person(app.app(), &reach, &meta(), None, input("P2")).await.expect("p2");
        let q = |kind: &str, to: &str| QualificationInput { kind: kind.into(), valid_from: "2026-01-01".into(), valid_to: to.into(), passed: true, ..Default::default() };
        people::add_qualification(app.app(), &reach, &meta(), p1, q("safety_exam", "2026-12-06")).await.expect("exam");
        people::add_qualification(app.app(), &reach, &meta(), p2, q("work_leader", "2026-12-16")).await.expect("list");
        let ccap = op.authorize::<perm::ContractorsManage>().expect("op");
        people::save_contractor(app.app(), &ccap, &meta(), None,
            ContractorInput { code: "C1".into(), name: "承装".into(), unit_id: f.unit_a, license_valid_to: "2026-12-01".into(), ..Default::default() }).await.expect("c");
        // A month later all three have run out: nothing renewed them.
        app.clock.advance(chrono::Duration::days(30));
        let cookie = app.session_for(f.user("safety_auditor")).await;
        let listed = |items: serde_json::Value| -> Vec<(String, i64)> {
            items.as_array().expect("list").iter().map(|e| (e["subject"].as_str().unwrap_or("").to_owned(), e["days_left"].as_i64().unwrap_or(0))).collect()
        };
        let items = listed(app.json(Method::GET, "/api/v1/expiring", None, &[("cookie", &cookie)]).await.json());
        assert_eq!(items, [("C1 承装".to_owned(), -25), ("P1 甲".to_owned(), -20), ("P2 甲".to_owned(), -10)], "expired, the oldest first");
        let page = app.get_with("/people/expiring", &[("cookie", &cookie)]).await;
        assert!(page.body.contains("已过期 25 天") && page.body.contains("class=\"expired\""), "shown as expired: {}", page.body);
        let contractors = app.get_with("/contractors", &[("cookie", &cookie)]).await;
        assert!(contractors.body.contains("资质已过期") && !contractors.body.contains("在岗"), "not shown as at work");
        let home = app.get_with("/", &[("cookie", &cookie)]).await;
        assert!(home.body.contains("已过期 20 天"), "on the home page");
        // Renewed (the exam passed again) or retired (the leader left): off the list.
        people::add_qualification(app.app(), &reach, &meta(), p1, q("safety_exam", "2027-12-31")).await.expect("renewed");
        people::save_person(app.app(), &reach, &meta(), Some(p2), PersonInput { active: false, ..input("P2") }).await.expect("retired");
        let items = listed(app.json(Method::GET, "/api/v1/expiring", None, &[("cookie", &cookie)]).await.json());
        assert_eq!(items, [("C1 承装".to_owned(), -25)]);
    }

    async fn references_and_bounds_found_by_fuzzing_are_refused_cleanly(app: TestApp) {
        // schemathesis found these: an unknown contractor was a database error (500), and a
        // level or title out of bounds was stored for kinds that do not use them.
        let f = app.fixture().await;
        let cookie = auditor(&app, &f).await;
        let r = app.json(Method::POST, "/api/v1/people", Some(serde_json::json!({"code": "P9", "name": "张伟", "unit_id": f.unit_a1, "contractor_id": 999})), &[("cookie", &cookie)]).await;
        assert_eq!(r.status, 404, "{}", r.body);
        let p = app.json(Method::POST, "/api/v1/people", Some(serde_json::json!({"code": "P9", "name": "张伟", "unit_id": f.unit_a1})), &[("cookie", &cookie)]).await;
        let id = p.json()["id"].as_i64().expect("id");
        let long = "0".repeat(101);
        for (body, field) in [
            (serde_json::json!({"kind": "safety_exam", "level": 0, "valid_from": "2026-01-01", "valid_to": "2026-12-31"}), "level"),
            (serde_json::json!({"kind": "safety_exam", "title": long, "valid_from": "2026-01-01", "valid_to": "2026-12-31"}), "title"),
        ] {
            let r = app.json(Method::POST, &format!("/api/v1/people/{id}/qualifications"), Some(body), &[("cookie", &cookie)]).await;
            assert_eq!(r.status, 422, "{}", r.body);
            assert_eq!(r.json()["error"]["details"][0]["field"], field);
        }
        let days = app.json(Method::GET, "/api/v1/expiring?days=0", None, &[("cookie", &cookie)]).await;
        assert_eq!(days.status, 422, "{}", days.body);
    }
}
