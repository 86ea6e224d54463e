//! Customers, inspections and the hazard closed loop over the pages: a register imported (a bad
//! row refuses the whole file), an inspection refused for too few or unqualified inspectors and
//! recorded by two, photos checked for size and type, the notice signed, a customer hazard taken
//! from notice to 销号 with filing required first, sealing held until the hazard is closed,
//! overdue escalation by moving time, another city refused, the demo company filled.

mod support;

use axum::http::Method;
use support::{Fixture, TestApp};

fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(format!("--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").into_bytes());
    }
    if let Some((field, filename, bytes)) = file {
        body.extend(
            format!("--B\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .into_bytes(),
        );
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(b"--B--\r\n");
    body
}

async fn post_multipart(app: &TestApp, cookie: &str, path: &str, body: Vec<u8>) -> support::TestResponse {
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("cookie", cookie)
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "multipart/form-data; boundary=B")
        .body(axum::body::Body::from(body))
        .expect("request");
    app.request(request).await
}

const REGISTER: &str = "户号,户名,用电地址,供电单位,电压等级,重要等级,认定文件,行业,自备应急电源,建档日期\n\
0701000001,孝感市第一医院,书院街1号,孝南供电中心,10kV,一级,孝政电〔2025〕3号,医院,已备案,2025-11-01\n\
0701000002,移动书院基站,书院街18号,孝南供电中心,0.4kV,,,移动基站,疑似未备案,2026-01-10\n";

/// Inspectors of levels 1 and 2 and one of level 3 (0.4 kV only), in county A1.
async fn inspectors(app: &TestApp, f: &Fixture) -> (i64, i64, i64) {
    use gridsafe_domain::access::perm;
    let cap = support::operator().authorize::<perm::PeopleManage>().expect("op");
    let reach = gridsafe_app::people::Reach::units(&cap);
    let mut ids = Vec::new();
    for (code, level) in [("J1", 1i64), ("J2", 2), ("J3", 3)] {
        let id = app.person(f.unit_a1, code, &[]).await;
        let q = gridsafe_app::people::QualificationInput {
            kind: "inspector".into(),
            valid_from: "2026-01-01".into(),
            valid_to: "2026-12-31".into(),
            level: Some(level),
            passed: true,
            ..Default::default()
        };
        gridsafe_app::people::add_qualification(app.app(), &reach, &support::meta(), id, q)
            .await
            .expect("qualification");
        ids.push(id);
    }
    (ids[0].get(), ids[1].get(), ids[2].get())
}

async fn customer_id(app: &TestApp, no: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM customers WHERE account_no = $1")
        .bind(no)
        .fetch_one(app.state.db().pool())
        .await
        .expect("customer")
}

async fn checklist_form(app: &TestApp, inspectors: &[i64], defect: bool) -> String {
    let items = gridsafe_app::customers::checklist(app.app()).await.expect("checklist");
    let mut body = String::from("inspected_on=2026-11-26&kind=periodic&conclusion=ok");
    for i in inspectors {
        body.push_str(&format!("&inspector={i}"));
    }
    for (n, item) in items.iter().enumerate() {
        if defect && n == 0 {
            body.push_str(&format!("&result_{}=defect&note_{}=%E5%BE%85%E6%95%B4%E6%94%B9", item.id, item.id));
        } else {
            body.push_str(&format!("&result_{}=ok", item.id));
        }
    }
    body
}

async fn hazard_state(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("SELECT state FROM hazards WHERE id = $1")
        .bind(id)
        .fetch_one(app.state.db().pool())
        .await
        .expect("state")
}

/// The safety auditor of city A (customers.view there) and county A1's line of the safety
/// dashboard he reads.
async fn county_dashboard(
    app: &TestApp,
    f: &Fixture,
) -> (
    gridsafe_domain::access::Capability<gridsafe_domain::access::perm::CustomersView>,
    gridsafe_app::customers::UnitDashboard,
) {
    use gridsafe_domain::access::{Permission, perm};
    let path = gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path;
    let p = support::principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::CustomersView], &path);
    let cap = support::cap::<perm::CustomersView>(&p);
    let dashboard = gridsafe_app::customers::dashboard(app.app(), &cap).await.expect("dashboard");
    let county = dashboard.into_iter().find(|u| u.unit_id == f.unit_a1).expect("county");
    (cap, county)
}

backend_tests! {
    async fn from_the_register_through_an_inspection_to_a_closed_hazard(app: TestApp) {
        let f = app.fixture().await;
        let (j1, j2, j3) = inspectors(&app, &f).await;
        let inspector = app.session_for(f.user("inspector")).await;
        let auditor = app.session_for(f.user("safety_auditor")).await;

        // A register with a bad voltage on line 3: nothing written, the place named.
        let bad = REGISTER.replace("0.4kV", "四百伏");
        let r = post_multipart(&app, &inspector, "/customers/import", multipart(&[], Some(("files", "客户.csv", bad.as_bytes())))).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("客户.csv") && r.body.contains("第 3 行") && r.body.contains("四百伏"), "{}", r.body);
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(count, 0, "all or nothing");
        // A good one is previewed first; nothing is written until it is confirmed.
        let r = post_multipart(&app, &inspector, "/customers/import", multipart(&[], Some(("files", "客户.csv", REGISTER.as_bytes())))).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains("data-preview") && r.body.contains("新建 2 户"), "{}", r.body);
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(count, 0, "a preview writes nothing");
        let confirm = r.body.split("action=\"").map(|a| a.split('"').next().unwrap_or("")).find(|a| a.starts_with("/customers/import/")).expect("confirm form").to_owned();
        let r = app.post_form(&confirm, "", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains("data-imported"), "{}", r.body);
        let again = app.post_form(&confirm, "", &[("cookie", &inspector)]).await;
        assert_eq!(again.status, 404, "a preview is imported once");
        let hospital = customer_id(&app, "0701000001").await;
        let station = customer_id(&app, "0701000002").await;

        // The cycles: a class 1 customer every 3 months from its registration (2025-11-01), the
        // base station every 6 months from 2026-01-10; never inspected, both are overdue.
        let page = app.get_with(&format!("/customers/{hospital}"), &[("cookie", &inspector)]).await;
        assert!(page.body.contains("data-due=\"overdue\"") && page.body.contains("每 3 个月"), "{}", page.body);
        let home = app.get_with("/", &[("cookie", &inspector)]).await;
        assert!(home.body.contains("data-count=\"home-inspections-overdue\">2<"), "both overdue on the home page: {}", home.body);
        let plan = app.get_with("/inspections/plan?month=2026-11", &[("cookie", &inspector)]).await;
        assert!(plan.body.contains("0701000001") && plan.body.contains("0701000002"), "{}", plan.body);

        // One inspector, or one not qualified for 10 kV: refused, naming the rules.
        let path = format!("/customers/{hospital}/inspections");
        let r = app.post_form(&path, &checklist_form(&app, &[j1], true).await, &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body.contains("INSPECTION_INSPECTORS"), "{}", r.body);
        let r = app.post_form(&path, &checklist_form(&app, &[j1, j3], true).await, &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body.contains("INSPECTOR_LEVEL") && r.body.contains("J3"), "{}", r.body);
        let r = app.post_form(&path, &checklist_form(&app, &[j1, j2], true).await, &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let inspection: i64 = r.header("location").rsplit('/').next().and_then(|i| i.parse().ok()).expect("inspection id");
        let page = app.get_with(&format!("/customers/{hospital}"), &[("cookie", &inspector)]).await;
        assert!(page.body.contains("data-due=\"not_due\"") && page.body.contains("2027-02-26"), "due three months on");

        // Photos: too large, not an image, then a PNG.
        let big = vec![0xFF_u8; 5 * 1024 * 1024 + 1];
        let photos = format!("/inspections/{inspection}/photos");
        let r = post_multipart(&app, &inspector, &photos, multipart(&[], Some(("photo", "big.jpg", &big)))).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("超过上限 5.0 MB"), "{}", r.body);
        let r = post_multipart(&app, &inspector, &photos, multipart(&[], Some(("photo", "x.jpg", b"<html>not a photo</html>")))).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("JPEG、PNG 或 WebP"), "{}", r.body);
        let png = b"\x89PNG\r\n\x1a\n0000";
        let r = post_multipart(&app, &inspector, &photos, multipart(&[], Some(("photo", "ok.png", png)))).await;
        assert_eq!(r.status, 303, "{}", r.body);
        // The notice in duplicate, signed by the customer with a scanned copy.
        let notice = app.get_with(&format!("/inspections/{inspection}/notice"), &[("cookie", &inspector)]).await;
        assert_eq!(notice.body.matches("用电检查结果通知书</h1>").count(), 2, "two copies");
        // A notice, numbered as one; the problem found in the inspector's words, with the item it
        // fails; a deadline line to fill while no hazard is registered; the inspectors' signatures.
        assert!(notice.body.contains("通知书编号：") && !notice.body.contains("票号"), "labelled as a notice");
        let problem = notice.body.split("data-problem").nth(1).expect("the problem").split("</tr>").next().unwrap_or_default();
        assert!(problem.contains("<strong>待整改</strong>") && problem.contains("检查项目："), "{problem}");
        assert!(notice.body.contains("年＿＿月＿＿日前整改完毕"), "a deadline to fill in");
        assert!(notice.body.contains("检查人员（签名）") && notice.body.contains("data-inspectors-sign"), "signature lines");
        let signed = format!("/inspections/{inspection}/signed");
        let unconfirmed = post_multipart(&app, &inspector, &signed, multipart(&[("signed_by", "陈建华"), ("signed_on", "2026-11-26")], None)).await;
        assert!(unconfirmed.status == 422 && unconfirmed.body.contains(r#"data-field="confirm""#), "the box is ticked first: {}", unconfirmed.body);
        let r = post_multipart(&app, &inspector, &signed,
            multipart(&[("signed_by", "陈建华"), ("signed_on", "2026-11-26"), ("confirm", "1")], Some(("copy", "signed.pdf", b"%PDF-1.4 x")))).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let page = app.get_with(&format!("/inspections/{inspection}"), &[("cookie", &inspector)]).await;
        assert!(page.body.contains("data-signed") && page.body.contains("signed.pdf"), "{}", page.body);

        // A customer-side hazard from the inspection: rectification before filing is refused.
        let r = app.post_form("/hazards", &format!("inspection_id={inspection}&title=%E4%B8%BB%E5%8F%98%E8%AF%95%E9%AA%8C%E8%B6%85%E6%9C%9F&grade=serious&responsibility=customer"), &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let hazard: i64 = r.header("location").rsplit('/').next().and_then(|i| i.parse().ok()).expect("hazard id");
        // Registered from the inspection, its deadline is the notice's.
        let notice = app.get_with(&format!("/inspections/{inspection}/notice"), &[("cookie", &inspector)]).await.body;
        let deadline = notice.split("data-deadline>").nth(1).expect("the deadline").split("</td>").next().unwrap_or_default();
        assert!(deadline.contains("主变试验超期") && deadline.contains("：20") && !deadline.contains("＿"), "{deadline}");
        let step = |body: &'static str| format!("step={body}");
        let steps = format!("/hazards/{hazard}/steps");
        let r = app.post_form(&steps, "step=notify&deadline=2026-12-10", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let r = app.post_form(&steps, "step=sign_receipt&receipt_by=%E9%99%88", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 422, "unconfirmed: {}", r.body);
        let r = app.post_form(&steps, "step=sign_receipt&receipt_by=%E9%99%88&confirm=1", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let r = app.post_form(&steps, &step("rectify"), &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body.contains("HAZARD_FILING"), "{}", r.body);
        assert_eq!(hazard_state(&app, hazard).await, "receipt_signed", "nothing changed");
        // The notice printed before filing does not claim a filing; printed after, it names its day.
        let notice = app.get_with(&format!("/hazards/{hazard}/notice"), &[("cookie", &inspector)]).await.body;
        assert!(notice.contains("data-not-filed") && !notice.contains("已于") && !notice.contains("data-filed"), "{notice}");
        let r = app.post_form(&steps, "step=file&filed_on=2026-11-26&reference=%E5%AD%9D45", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let notice = app.get_with(&format!("/hazards/{hazard}/notice"), &[("cookie", &inspector)]).await.body;
        assert!(notice.contains("本隐患已于 2026-11-26 报县级以上政府电力管理部门备案") && notice.contains("孝45"), "{notice}");

        // Sealing the customer's generator; unsealing refused while the hazard is open.
        let r = app.post_form(&format!("/hazards/{hazard}/seals"), "equipment=gen&seal_number=FC1&sealed_on=2026-11-26", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let seal: i64 = sqlx::query_scalar("SELECT id FROM seals WHERE hazard_id = $1").bind(hazard).fetch_one(app.state.db().pool()).await.expect("seal");
        // Taking it off names the day, why and the witness: each missing one is named.
        let unseal = format!("/seals/{seal}/unseal");
        let r = app.post_form(&unseal, "", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 422, "{}", r.body);
        for field in ["on", "reason", "witness"] {
            assert!(r.body.contains(&format!(r#"<li data-field="{field}">"#)), "{field}: {}", r.body);
        }
        let r = app.post_form(&unseal, "on=2026-11-25&reason=x&witness=y", &[("cookie", &inspector)]).await;
        assert!(r.status == 422 && r.body.contains("不能早于加封日期（2026-11-26）"), "{}", r.body);
        let long = format!("on=2026-11-26&reason={}&witness={}", "x".repeat(501), "y".repeat(101));
        let r = app.post_form(&unseal, &long, &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 422, "{}", r.body);
        for field in ["reason", "witness"] {
            assert!(r.body.contains(&format!(r#"<li data-field="{field}">"#)), "{field} over its limit: {}", r.body);
        }
        let r = app.post_form(&unseal, "on=2099-01-01&reason=x&witness=y", &[("cookie", &inspector)]).await;
        assert!(r.status == 422 && r.body.contains("不能晚于今天"), "{}", r.body);
        let form = "on=2026-11-26&reason=%E6%95%B4%E6%94%B9%E5%AE%8C%E6%88%90&witness=%E5%AE%A2%E6%88%B7%E7%94%B5%E5%B7%A5%E7%8E%8B%E5%B8%88%E5%82%85";
        let r = app.post_form(&unseal, form, &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body.contains("SEAL_HAZARD_OPEN"), "{}", r.body);

        for s in ["rectify", "submit_for_review"] {
            let r = app.post_form(&steps, &format!("step={s}"), &[("cookie", &inspector)]).await;
            assert_eq!(r.status, 303, "{s}: {}", r.body);
        }
        // The review is the safety auditor's; a failed one returns it, with a reason.
        let r = app.post_form(&steps, "step=review&passed=1&evidence=x", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 403, "an inspector does not review");
        let r = app.post_form(&steps, "step=review&passed=0&evidence=", &[("cookie", &auditor)]).await;
        assert_eq!(r.status, 422, "{}", r.body);
        let r = app.post_form(&steps, "step=review&passed=0&evidence=%E6%9C%AA%E5%AE%8C%E6%88%90", &[("cookie", &auditor)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(hazard_state(&app, hazard).await, "rectifying");
        let r = app.post_form(&steps, "step=submit_for_review", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let r = app.post_form(&steps, "step=review&passed=1&evidence=%E8%AF%95%E9%AA%8C%E5%90%88%E6%A0%BC", &[("cookie", &auditor)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(hazard_state(&app, hazard).await, "closed");
        let r = app.post_form(&unseal, form, &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "unsealed once closed: {}", r.body);
        let seals = app.get_with("/seals", &[("cookie", &inspector)]).await.body;
        assert!(seals.contains("整改完成") && seals.contains("见证人 客户电工王师傅"), "{seals}");
        let actions = app.audit_actions().await;
        for a in ["customer.imported", "inspection.recorded", "inspection.notice_signed", "hazard.registered", "hazard.step", "seal.sealed", "seal.unseal_refused", "seal.unsealed"] {
            assert!(actions.iter().any(|x| x == a), "{a} audited");
        }

        // A grid-side hazard of the base station, planned; overdue from the day after its
        // deadline and escalated one unit up, then another after seven more days.
        let r = app.post_form("/hazards", &format!("customer_id={station}&title=t&grade=general&responsibility=grid"), &[("cookie", &inspector)]).await;
        let grid: i64 = r.header("location").rsplit('/').next().and_then(|i| i.parse().ok()).expect("hazard id");
        let r = app.post_form(&format!("/hazards/{grid}/steps"), "step=notify&deadline=2026-12-10", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 409, "a grid hazard takes a plan, not a notice");
        assert!(r.body.contains("HAZARD_STATE"), "{}", r.body);
        let r = app.post_form(&format!("/hazards/{grid}/steps"), "step=plan&deadline=2026-11-30&owner=J1&tasks=a%0Ab", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        // A major grid-side hazard (an ad hoc one of the county) is filed before rectification too.
        let r = app.post_form("/hazards", &format!("unit_id={}&title=m&grade=major&responsibility=grid", f.unit_a1), &[("cookie", &inspector)]).await;
        let major: i64 = r.header("location").rsplit('/').next().and_then(|i| i.parse().ok()).expect("hazard id");
        let r = app.post_form(&format!("/hazards/{major}/steps"), "step=plan&deadline=2026-12-20&owner=J1&tasks=t", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let r = app.post_form(&format!("/hazards/{major}/steps"), "step=rectify", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body.contains("HAZARD_FILING"), "{}", r.body);
        let r = app.post_form(&format!("/hazards/{major}/steps"), "step=file&filed_on=2026-11-26&reference=r", &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(hazard_state(&app, major).await, "filed");
        let escalation = |app: &TestApp| {
            let pool = app.state.db().pool().clone();
            async move { sqlx::query_scalar::<_, i64>("SELECT escalation FROM hazards WHERE id = $1").bind(grid).fetch_one(&pool).await.expect("level") }
        };
        app.clock.advance(chrono::Duration::days(4));
        gridsafe_app::jobs::run(app.app(), gridsafe_app::jobs::Job::HazardEscalation).await.expect("job");
        assert_eq!(escalation(&app).await, 0, "on the deadline day");
        app.clock.advance(chrono::Duration::days(1));
        gridsafe_app::jobs::run(app.app(), gridsafe_app::jobs::Job::HazardEscalation).await.expect("job");
        assert_eq!(escalation(&app).await, 1, "the day after");
        // Sessions lapse while days pass; sign in again.
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let page = app.get_with(&format!("/hazards/{grid}"), &[("cookie", &auditor)]).await;
        assert!(page.body.contains("data-escalated") && page.body.contains("孝感供电公司"), "{}", page.body);
        app.clock.advance(chrono::Duration::days(7));
        gridsafe_app::jobs::run(app.app(), gridsafe_app::jobs::Job::HazardEscalation).await.expect("job");
        assert_eq!(escalation(&app).await, 2);

        // The dashboard and the ledgers; another city's auditor is refused the records.
        let auditor = app.session_for(f.user("safety_auditor")).await;
        // The same through the API: the overdue hazard, and a refused step naming its rule.
        let r = app.json(Method::GET, "/api/v1/hazards?overdue=true", None, &[("cookie", &auditor)]).await;
        let overdue = r.json();
        assert_eq!(overdue.as_array().map(Vec::len), Some(1), "{}", r.body);
        assert_eq!(overdue[0]["id"].as_i64(), Some(grid));
        assert_eq!(overdue[0]["escalation"].as_i64(), Some(2));
        // The filters' values are enumerated; anything else, an empty one too, is refused.
        assert_eq!(app.json(Method::GET, "/api/v1/customers?q=&due=overdue", None, &[("cookie", &auditor)]).await.status, 200);
        for refused in ["/api/v1/customers?due=soon", "/api/v1/customers?due=", "/api/v1/hazards?state="] {
            assert_eq!(app.json(Method::GET, refused, None, &[("cookie", &auditor)]).await.status, 422, "{refused}");
        }
        let inspector = app.session_for(f.user("inspector")).await;
        let r = app.json(Method::POST, &format!("/api/v1/hazards/{grid}/steps"), Some(serde_json::json!({"step": "file", "filed_on": "2026-12-01", "reference": "x"})), &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert_eq!(r.json()["error"]["refusals"][0]["rule"].as_str(), Some("HAZARD_STATE"), "{}", r.body);
        let r = app.json(Method::POST, &format!("/api/v1/hazards/{grid}/steps"), Some(serde_json::json!({"step": "rectify"})), &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["state"].as_str(), Some("rectifying"));
        let dash = app.get_with("/safety", &[("cookie", &auditor)]).await;
        assert_eq!(dash.status, 200);
        assert!(dash.body.contains("<svg") && dash.body.contains("孝南供电中心"), "{}", dash.body);
        for path in ["/safety.xlsx", "/hazards.xlsx", "/customers.xlsx"] {
            let r = app.get_with(path, &[("cookie", &auditor)]).await;
            assert_eq!(r.status, 200, "{path}");
            assert!(r.header("content-type").contains("spreadsheetml"), "{path}");
        }
        let other = app.user("auditor_b", f.unit_b, &[("safety_auditor", f.unit_b)]).await;
        let other = app.session_for(other).await;
        assert_eq!(app.get_with(&format!("/hazards/{hazard}"), &[("cookie", &other)]).await.status, 403);
        assert_eq!(app.get_with(&format!("/customers/{hospital}"), &[("cookie", &other)]).await.status, 403);
        let list = app.get_with("/customers", &[("cookie", &other)]).await;
        assert!(!list.body.contains("0701000001"), "out of scope");
    }

    async fn a_register_larger_than_a_batch_is_judged_whole(app: TestApp) {
        // A province's register: 20,050 customers with no fixed cycle, then (by 户号, after them)
        // 30 first-class important customers registered in 2025 and never inspected, overdue.
        // The register used to be read up to its first 20,000 by 户号: the 30 were in no count.
        let f = app.fixture().await;
        let insert = format!(
            "INSERT INTO customers (account_no, name, address, unit_id, voltage_kv, importance, industry, supply_sources, \
             emergency_power, registered_on, updated_at, updated_by) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20080) \
             SELECT CAST(1000000000 + i AS TEXT), '客户' || CAST(i AS TEXT), '书院街', {unit}, \
             CASE WHEN i > 20050 THEN 10 ELSE 0.4 END, CASE WHEN i > 20050 THEN 'first' ELSE 'none' END, '商业', 1, 'none', \
             CASE WHEN i > 20050 THEN '2025-01-01' ELSE '2026-01-01' END, '2026-01-01T00:00:00Z', 'test' FROM n",
            unit = f.unit_a1.get()
        );
        sqlx::query(sqlx::AssertSqlSafe(insert)).execute(app.state.db().pool()).await.expect("register");
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let cookie = [("cookie", auditor.as_str())];

        let home = app.get_with("/", &cookie).await;
        assert!(home.body.contains(r#"data-count="home-inspections-overdue">30<"#), "{}", home.body);
        let overdue = app.get_with("/customers?due=overdue", &cookie).await;
        assert!(overdue.body.contains(r#"data-total="30""#) && overdue.body.contains("1000020080"), "{}", overdue.body);
        let all = app.get_with("/customers", &cookie).await;
        assert!(all.body.contains(r#"data-total="20080""#), "{}", all.body);
        // The last page of the register, after the 20,000th 户号, in the database's order.
        let last = app.get_with("/customers?after=1000020000", &cookie).await;
        assert!(last.body.contains("1000020001") && last.body.contains("1000020080"), "{}", last.body);
        assert!(!last.body.contains("1000020000<"), "{}", last.body);

        let api = app.json(Method::GET, "/api/v1/customers?due=overdue", None, &cookie).await;
        assert_eq!(api.json().as_array().map(Vec::len), Some(30), "{}", api.body);
        let pages = app.api_pages(&cookie, "/api/v1/customers?limit=5000").await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [5000, 5000, 5000, 5000, 80]);
        let ids: std::collections::BTreeSet<i64> = pages.iter().flatten().copied().collect();
        assert_eq!(ids.len(), 20080, "every customer once");
        let due = app.api_pages(&cookie, "/api/v1/customers?due=overdue&limit=20").await;
        assert_eq!(due.iter().map(Vec::len).collect::<Vec<_>>(), [20, 10], "the filter kept on the next page");
        for refused in ["/api/v1/customers?limit=0", "/api/v1/customers?limit=20001", "/api/v1/customers?after=x"] {
            assert_eq!(app.json(Method::GET, refused, None, &cookie).await.status, 422, "{refused}");
        }

        let (cap, county) = county_dashboard(&app, &f).await;
        assert_eq!((county.customers, county.with_cycle, county.overdue_now), (20080, 30, 30));
        let month = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("day");
        let plan = gridsafe_app::customers::plan(app.app(), &cap, month, None).await.expect("plan");
        assert_eq!(plan.overdue.len(), 30);
    }

    async fn a_hazard_ledger_larger_than_a_batch_is_counted_and_escalated_whole(app: TestApp) {
        // 5,010 open hazards registered in January, overdue since April, then 20 closed ones.
        // The ledger used to be read up to 5,000 rows, open ones first: the closed ones were in
        // no count, the last ten open ones never escalated.
        let f = app.fixture().await;
        let insert = format!(
            "INSERT INTO hazards (number, unit_id, title, description, grade, responsibility, state, escalation, \
             created_by, created_at, closed_at, registered_on) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5030) \
             SELECT 'YH' || CAST(i AS TEXT), {unit}, '隐患', '说明', 'general', 'customer', \
             CASE WHEN i > 5010 THEN 'closed' ELSE 'registered' END, 0, 'test', '2026-01-01T00:00:00Z', \
             CASE WHEN i > 5010 THEN '2026-02-01T00:00:00Z' END, '2026-01-01' FROM n",
            unit = f.unit_a1.get()
        );
        sqlx::query(sqlx::AssertSqlSafe(insert)).execute(app.state.db().pool()).await.expect("ledger");
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let cookie = [("cookie", auditor.as_str())];

        let home = app.get_with("/", &cookie).await;
        for (key, count) in [("home-hazards-open", 5010), ("home-hazards-overdue", 5010)] {
            assert!(home.body.contains(&format!(r#"data-count="{key}">{count}<"#)), "{key}: {}", home.body);
        }
        let list = app.get_with("/hazards", &cookie).await;
        assert!(list.body.contains(r#"data-total="5030""#), "{}", list.body);
        // The last page in the ledger's order (open first, by deadline, then by id) holds the
        // closed ones, after the last open one.
        let last = app.get_with("/hazards?after=0_2026-04-01_5010", &cookie).await;
        assert!(last.body.contains("YH5011") && last.body.contains("YH5030") && !last.body.contains("YH5010<"), "{}", last.body);
        // The API pages the ledger in the same order; a filter stays on every page.
        let pages = app.api_pages(&cookie, "/api/v1/hazards?limit=2000").await;
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2000, 2000, 1030]);
        let ids: Vec<i64> = pages.concat();
        assert_eq!(ids, (1..=5030).collect::<Vec<i64>>(), "open first by deadline, then by id; each once");
        let overdue = app.api_pages(&cookie, "/api/v1/hazards?overdue=true&limit=3000").await;
        assert_eq!(overdue.iter().map(Vec::len).collect::<Vec<_>>(), [3000, 2010]);
        for refused in ["/api/v1/hazards?limit=0", "/api/v1/hazards?limit=5001", "/api/v1/hazards?after=0~1"] {
            assert_eq!(app.json(Method::GET, refused, None, &cookie).await.status, 422, "{refused}");
        }

        let (_, county) = county_dashboard(&app, &f).await;
        let counts = county.hazards.values().fold((0, 0, 0), |s, c| (s.0 + c.open, s.1 + c.overdue, s.2 + c.closed));
        assert_eq!(counts, (5010, 5010, 20), "open, overdue, closed");

        let risen = gridsafe_app::customers::escalate_overdue(app.app(), &support::meta()).await.expect("job");
        assert_eq!(risen, 5010, "every overdue hazard escalated");
        let escalated: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM hazards WHERE escalation > 0")
            .fetch_one(app.state.db().pool())
            .await
            .expect("count");
        assert_eq!(escalated, 5010);
    }

    async fn the_demo_company_has_every_part(app: TestApp) {
        let report = gridsafe_app::demo::fill(app.app(), &support::meta()).await.expect("demo").expect("filled");
        let pool = app.state.db().pool();
        let count = |sql: &'static str| async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.expect(sql) };
        // Seven of the register's, six brought in by the customer projects.
        assert_eq!(count("SELECT COUNT(*) FROM customers").await, 13);
        // What `gridsafe demo` prints is what it made.
        assert_eq!(i64::try_from(report.customers).ok(), Some(13));
        assert_eq!(i64::try_from(report.hazards).ok(), Some(count("SELECT COUNT(*) FROM hazards").await));
        assert_eq!(count("SELECT COUNT(*) FROM hazards WHERE state = 'closed' AND source_kind <> 'history'").await, 1, "a full history to 销号");
        // The past year's hazard ledger, for the supervision report's trends.
        assert_eq!(count("SELECT COUNT(*) FROM hazards WHERE source_kind = 'history' AND state = 'closed'").await, 3 * 13 * 3);
        assert_eq!(count("SELECT COUNT(*) FROM seals WHERE unsealed_on IS NULL").await, 1);
        assert_eq!(count("SELECT COUNT(*) FROM hazards WHERE escalation > 0 AND source_kind = 'inspection'").await, 0);
        assert_eq!(count("SELECT COUNT(*) FROM hazards WHERE escalation > 0").await, 2, "a grid hazard and a finding's");
        assert_eq!(count("SELECT COUNT(*) FROM hazards WHERE escalation > 0 AND source_kind = 'finding'").await, 1, "an overdue finding escalated");
        assert_eq!(count("SELECT COUNT(*) FROM hazards WHERE state = 'filed' AND refused_on IS NOT NULL AND receipt_by IS NULL").await, 1, "a refused notice filed anyway");
        assert!(count("SELECT COUNT(*) FROM inspections").await >= 5);
        // A base station due for its six-month emergency-power check, though visited a month ago.
        let auditor = gridsafe_domain::access::Principal::operator("t", gridsafe_domain::access::Channel::Cli);
        let cap = auditor.authorize::<gridsafe_domain::access::perm::CustomersView>().expect("op");
        let list = gridsafe_app::customers::list_customers(app.app(), &cap, &Default::default()).await.expect("list");
        let tower = list.iter().find(|c| c.record.account_no == "0701000106").expect("base station");
        assert_eq!(tower.emergency.rule.as_deref(), Some("emergency_power_industry"));
        assert_eq!(tower.emergency.due_state, Some(gridsafe_domain::inspections::DueState::Overdue));
        assert!(tower.emergency.last.is_none(), "its visit answered the emergency items 不适用");
    }
}

/// `gridsafe import customers`: a bad row refuses the file (exit 2, the place named); a good one
/// registers the customers.
#[tokio::test]
async fn the_register_imports_from_the_command_line() {
    let app = TestApp::new(support::Backend::Sqlite).await.expect("sqlite");
    app.fixture().await;
    let dir = tempfile::tempdir().expect("dir");
    let run = |content: &str| {
        let path = dir.path().join("客户台账.csv");
        std::fs::write(&path, content).expect("write");
        std::process::Command::new(env!("CARGO_BIN_EXE_gridsafe"))
            .args(["import", "customers"])
            .arg(&path)
            .env("GRIDSAFE_DATABASE__URL", app.settings.database.url.expose())
            .env("GRIDSAFE_AUDIT__SIGNING_KEY_PATH", &app.settings.audit.signing_key_path)
            .env("GRIDSAFE_LANG", "zh-CN")
            .output()
            .expect("runs")
    };
    let bad = run(&REGISTER.replace("2026-01-10", "2026-02-30"));
    assert_eq!(bad.status.code(), Some(2), "{}", String::from_utf8_lossy(&bad.stderr));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("第 3 行") && err.contains("建档日期") && err.contains("2026-02-30"), "{err}");
    let good = run(REGISTER);
    assert_eq!(good.status.code(), Some(0), "{}", String::from_utf8_lossy(&good.stderr));
    assert!(String::from_utf8_lossy(&good.stdout).contains("新建 2 户"));
}
