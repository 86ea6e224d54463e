//! Cross-audit in the application: an export's work orders and meter events uploaded, checked
//! against GridSafe's own ticket and people; findings with their evidence, review, a
//! rectification task that goes overdue when time moves on, KPIs; a bad file writes nothing.

mod support;

use axum::http::Method;
use serde_json::json;
use support::{Fixture, TestApp};

fn multipart(unit: i64, files: &[(&str, &str)]) -> Vec<u8> {
    let mut body = format!("--B\r\nContent-Disposition: form-data; name=\"unit_id\"\r\n\r\n{unit}\r\n").into_bytes();
    for (name, content) in files {
        body.extend(
            format!("--B\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n{content}\r\n")
                .into_bytes(),
        );
    }
    body.extend(b"--B--\r\n");
    body
}

/// Every kept finding (rule, entity kind and id, subject, state, words), in key order.
async fn kept_findings(app: &TestApp) -> Vec<(String, String, String, String, String, String)> {
    sqlx::query_as(
        "SELECT rule, entity_kind, entity_id, subject, state, detail FROM findings ORDER BY rule, entity_kind, entity_id, subject",
    )
    .fetch_all(app.state.db().pool())
    .await
    .expect("findings")
}

/// The demo company filled and two hours on (its tickets at work have windows to hold their
/// orders), with its own export of work orders and meter events.
async fn demo_export(app: &TestApp) -> gridsafe_app::demo::CompanyExport {
    gridsafe_app::demo::fill(app.app(), &support::meta()).await.expect("demo").expect("filled");
    app.clock.advance(chrono::Duration::hours(2));
    gridsafe_app::demo::company_export(app.app()).await.expect("export")
}

/// The demo company's city (XG), which its exports are imported into.
async fn city(app: &TestApp) -> gridsafe_domain::ids::UnitId {
    let id: i64 = sqlx::query_scalar("SELECT id FROM org_units WHERE code = 'XG'")
        .fetch_one(app.state.db().pool())
        .await
        .expect("city");
    gridsafe_domain::ids::UnitId::new(id)
}

type Imported = Result<
    Result<gridsafe_app::findings::MarketingImport, Vec<gridsafe_crossaudit::input::InputError>>,
    gridsafe_app::AppError,
>;

/// `files` (name, text) read as an upload and imported into `unit` by the operator.
async fn import_files(
    app: &gridsafe_app::App,
    unit: gridsafe_domain::ids::UnitId,
    files: Vec<(&str, String)>,
) -> Imported {
    use gridsafe_domain::access::perm;
    let files: Vec<(String, Vec<u8>)> =
        files.into_iter().map(|(name, text)| (name.to_owned(), text.into_bytes())).collect();
    let cap = support::operator().authorize::<perm::MarketingImport>().expect("operator");
    gridsafe_app::findings::import_marketing_files(app, &cap, &support::meta(), unit, files).await
}

/// [`import_files`] of a file of work orders and one of meter events, which must land whole.
async fn import_whole(
    app: &gridsafe_app::App,
    unit: gridsafe_domain::ids::UnitId,
    orders: String,
    events: String,
) -> gridsafe_app::findings::MarketingImport {
    import_files(app, unit, vec![("work_orders.csv", orders), ("meter_events.csv", events)])
        .await
        .expect("import")
        .expect("imported whole")
}

/// `tables` stored as one import into `unit`, as the application stores them (on PostgreSQL
/// with `COPY`), without the cross-audit run after it.
async fn store_import(
    db: &gridsafe_store::Database,
    unit: gridsafe_domain::ids::UnitId,
    tables: &gridsafe_crossaudit::input::Tables,
    at: gridsafe_domain::time::Timestamp,
) -> Result<(), gridsafe_store::StoreError> {
    let files = ["orders.csv".to_owned()];
    if let Some(mut tx) = db.begin_bulk().await? {
        gridsafe_store::findings::import_bulk(&mut tx, unit, &files, tables, &|_| unit, "test", at).await?;
        return tx.commit().await;
    }
    let mut tx = db.begin_write().await?;
    gridsafe_store::findings::import(&mut tx, unit, &files, tables, &|_| unit, "test", at).await?;
    tx.commit().await
}

async fn upload(app: &TestApp, cookie: &str, unit: i64, files: &[(&str, &str)]) -> support::TestResponse {
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/findings/import")
        .header("cookie", cookie)
        .header("content-type", "multipart/form-data; boundary=B")
        .body(axum::body::Body::from(multipart(unit, files)))
        .expect("request");
    app.request(request).await
}

/// The item of county A1's published plan for 2026-11-26 that the covering ticket carries out
/// (so that the plan audit has nothing to say about it).
async fn planned_item(app: &TestApp, f: &Fixture) -> i64 {
    use gridsafe_app::plans::{self, ItemInput, PlanInput};
    use gridsafe_domain::access::{Channel, Principal, perm};
    let op = Principal::operator("test", Channel::Cli);
    let write = op.authorize::<perm::PlansWrite>().expect("operator");
    let approve = op.authorize::<perm::PlansApprove>().expect("operator");
    let input = PlanInput { unit_id: f.unit_a1, kind: "daily".into(), first_day: "2026-11-26".into() };
    let plan = plans::create_plan(app.app(), &write, &support::meta(), input).await.expect("plan");
    let item = ItemInput {
        start: "2026-11-26 09:00".into(),
        end: "2026-11-26 17:00".into(),
        site: "表箱".into(),
        work_kind: "meter_install".into(),
        team_id: f.unit_a1,
        leader: "L1".into(),
        crew: "C1".into(),
        ..ItemInput::default()
    };
    let id = plans::add_item(app.app(), &write, &support::meta(), plan, item).await.expect("item");
    for step in [gridsafe_domain::plans::PlanStep::Approve, gridsafe_domain::plans::PlanStep::Publish] {
        plans::take_step(app.app(), &approve, &support::meta(), plan, step, "").await.expect("published");
    }
    id
}

/// Issuer I1, leader L1, permitter W1, crew C1; a ticket for customer CUST1 covering order WO1,
/// permitted at 09:00 and closed at 11:00 (China time) on 2026-11-26.
async fn covered_work(app: &TestApp, f: &Fixture) {
    for (code, lists) in
        [("I1", &["ticket_issuer"][..]), ("L1", &["work_leader"][..]), ("W1", &["work_permitter"][..]), ("C1", &[][..])]
    {
        let id = app.person(f.unit_a1, code, lists).await;
        let user = app
            .user(
                &format!("p_{code}"),
                f.unit_a,
                &[
                    ("ticket_issuer", f.unit_a),
                    ("work_leader", f.unit_a),
                    ("work_permitter", f.unit_a),
                    ("crew_member", f.unit_a),
                ],
            )
            .await;
        sqlx::query("UPDATE people SET user_id = $1 WHERE id = $2")
            .bind(user)
            .bind(id.get())
            .execute(app.state.db().pool())
            .await
            .expect("link");
    }
    let cookie = |code: &str| {
        let code = code.to_owned();
        async move {
            let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
                .bind(format!("p_{}", code.to_lowercase()))
                .fetch_one(app.state.db().pool())
                .await
                .expect("user");
            app.session_for(id).await
        }
    };
    let body = json!({
        "type_code": "low_voltage", "unit_id": f.unit_a1, "work_kind": "meter_install", "customer_id": "CUST1", "voltage_kv": "0.4",
        "location": "表箱", "content": "装表", "planned_start": "2026-11-26 09:00", "planned_end": "2026-11-26 17:00",
        "issuer": "I1", "work_leader": "L1", "permitter": "W1", "crew": ["C1"], "orders": ["WO1:meter_install"],
        "plan_item": planned_item(app, f).await,
    });
    let r = app.json(Method::POST, "/api/v1/tickets", Some(body), &[("cookie", &cookie("L1").await)]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_i64().expect("id");
    for (who, step) in [("I1", "issue"), ("L1", "receive"), ("W1", "permit"), ("C1", "acknowledge"), ("L1", "start")] {
        let r = app
            .json(
                Method::POST,
                &format!("/api/v1/tickets/{id}/steps"),
                Some(json!({"step": step})),
                &[("cookie", &cookie(who).await)],
            )
            .await;
        assert_eq!(r.status, 200, "{step}: {}", r.body);
    }
    app.clock.advance(chrono::Duration::hours(2));
    for (who, body) in
        [("L1", json!({"step": "end_work"})), ("W1", json!({"step": "close", "measures_restored": true}))]
    {
        let r = app
            .json(Method::POST, &format!("/api/v1/tickets/{id}/steps"), Some(body), &[("cookie", &cookie(who).await)])
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

const ORDERS: &str = "order_id,order_type,customer_id,org_unit,started_at,finished_at,workers\n\
WO1,meter_install,CUST1,孝南供电中心,2026-11-26 09:30,2026-11-26 10:30,L1;C1\n\
WO2,换表,CUST2,孝南供电中心,2026-11-26 09:30,2026-11-26 10:30,L1\n";
const EVENTS: &str = "事件编号,电能表编号,户号,事件类型,发生时间\nEV1,M1,CUST1,开表盖,2026-11-26 10:00\nEV2,M3,CUST3,cover_open,2026-11-26 10:00\n";

async fn keys(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as::<_, (String, String, String)>(
        "SELECT rule, entity_id, state FROM findings ORDER BY rule, entity_id",
    )
    .fetch_all(app.state.db().pool())
    .await
    .expect("findings")
}

backend_tests! {
    async fn the_findings_list_pages_through_every_finding_and_says_how_many(app: TestApp) {
        let f = app.fixture().await;
        // 450 findings over three months and two rules, some sharing an entity.
        for i in 0..450 {
            let (rule, month) = (["NO_TICKET", "SINGLE_PERSON_ORDER"][i % 2], ["2026-09", "2026-10", "2026-11"][i % 3]);
            sqlx::query(
                "INSERT INTO findings (rule, entity_kind, entity_id, subject, detail, unit_id, month, state, first_seen_at, last_seen_at) \
                 VALUES ($1, 'order', $2, $3, 'd', $4, $5, 'open', '2026-11-26T00:00:00.000000Z', '2026-11-26T00:00:00.000000Z')",
            )
            .bind(rule)
            .bind(format!("WO{:03}", i / 4))
            .bind(format!("P{}", i % 4))
            .bind(f.unit_a1.get())
            .bind(month)
            .execute(app.state.db().pool())
            .await
            .expect("finding");
        }
        let cookie = app.session_for(f.user("safety_auditor")).await;
        let mut url = "/findings?rule=&state=&month=&unit=".to_owned();
        let mut seen = Vec::new();
        // Three pages, and a bound should the links ever loop.
        for page in 0..5 {
            let r = app.get_with(&url, &[("cookie", &cookie)]).await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert!(r.body.contains("data-total=\"450\""), "the count is the filter's, not the page's");
            let rows: Vec<String> = r.body.split("<a href=\"/findings/").skip(1).filter_map(|p| p.split('"').next().map(str::to_owned)).collect();
            assert!(rows.len() <= 200 && !rows.is_empty(), "page {page}: {} rows", rows.len());
            seen.extend(rows);
            match r.body.split("href=\"/findings?").find(|p| p.contains("data-next")) {
                Some(next) => url = format!("/findings?{}", next.split('"').next().expect("link").replace("&#38;", "&").replace("&amp;", "&")),
                None => break,
            }
        }
        let distinct: std::collections::BTreeSet<&String> = seen.iter().collect();
        assert_eq!((seen.len(), distinct.len()), (450, 450), "every finding once, over three pages");

        // The API pages too: every finding once, in the page's order, by following the Link
        // headers; a filter kept across pages.
        let auth = [("cookie", cookie.as_str())];
        let all_ids = app.api_pages(&auth, "/api/v1/findings?limit=100").await;
        assert_eq!(all_ids.len(), 5, "100 + 100 + 100 + 100 + 50");
        let all: Vec<String> = all_ids.concat().iter().map(|id| id.to_string()).collect();
        assert_eq!(all, seen, "the API's order is the page's");
        let october = app.api_pages(&auth, "/api/v1/findings?month=2026-10&limit=40").await;
        assert_eq!(october.iter().map(Vec::len).collect::<Vec<_>>(), vec![40, 40, 40, 30], "150 of October");
        let whole = app.json(Method::GET, "/api/v1/findings", None, &auth).await;
        assert_eq!((whole.json().as_array().map(Vec::len), whole.headers.get("link")), (Some(450), None), "one page");
        // Any character of a key survives the cursor.
        for id in ["WO\u{1f}X", "工单\"9\"", "WO,&after=1"] {
            sqlx::query(
                "INSERT INTO findings (rule, entity_kind, entity_id, subject, detail, unit_id, month, state, first_seen_at, last_seen_at) \
                 VALUES ('NO_TICKET', 'order', $1, '', 'd', $2, '2026-12', 'open', '2026-11-26T00:00:00.000000Z', '2026-11-26T00:00:00.000000Z')",
            )
            .bind(id)
            .bind(f.unit_a1.get())
            .execute(app.state.db().pool())
            .await
            .expect("finding");
        }
        let december = app.api_pages(&auth, "/api/v1/findings?month=2026-12&limit=1").await;
        assert_eq!(december.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 1, 1], "one a page, each once");
        for bad in ["limit=0", "limit=10001", "limit=-1", "after=%5B%22x%22%5D", "after=garbage"] {
            let r = app.json(Method::GET, &format!("/api/v1/findings?{bad}"), None, &auth).await;
            assert_eq!(r.status, 422, "{bad}: {}", r.body);
        }
        let r = app.json(Method::GET, "/api/v1/findings?limit=0", None, &auth).await;
        assert!(r.body.contains("limit") && r.body.contains("10000"), "names the field and the bound: {}", r.body);
    }
    async fn an_uploaded_export_is_audited_against_gridsafes_own_tickets_and_people(app: TestApp) {
        let f = app.fixture().await;
        covered_work(&app, &f).await;
        let auditor = app.session_for(f.user("safety_auditor")).await;

        // A bad date: nothing is written, and the page names file, line, column and value.
        let bad = ORDERS.replace("2026-11-26 09:30,2026-11-26 10:30,L1\n", "2026-13-45,2026-11-26 10:30,L1\n");
        let r = upload(&app, &auditor, f.unit_a1.get(), &[("work_orders.csv", &bad)]).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("work_orders.csv") && r.body.contains("2026-13-45"), "{}", r.body);
        // A NUL character (a damaged export; PostgreSQL's text cannot hold it) is named where it
        // is, in the user's words, on both backends, not a storage failure.
        let nul = ORDERS.replacen(",L1\n", ",L\u{0}1\n", 1);
        let r = upload(&app, &auditor, f.unit_a1.get(), &[("work_orders.csv", &nul)]).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("空字符") && r.body.contains("L␀1"), "{}", r.body);
        let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM marketing_orders").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(orders, 0, "all or nothing");

        let r = upload(&app, &auditor, f.unit_a1.get(), &[("work_orders.csv", ORDERS), ("meter_events.csv", EVENTS)]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains("data-count=\"orders\">2<") && r.body.contains("data-count=\"events\">2<"), "{}", r.body);
        let open = |rule: &str, id: &str| (rule.to_owned(), id.to_owned(), "open".to_owned());
        assert_eq!(
            keys(&app).await,
            [open("EVENT_WITHOUT_TICKET", "EV2"), open("NO_TICKET", "WO2"), open("SINGLE_PERSON_ORDER", "WO2")],
            "the covered order and the event inside the ticket's window raise nothing"
        );

        // The evidence of the ticketless order, side by side, with the rule's source.
        let id: i64 = sqlx::query_scalar("SELECT id FROM findings WHERE rule = 'NO_TICKET'").fetch_one(app.state.db().pool()).await.expect("id");
        let page = app.get_with(&format!("/findings/{id}"), &[("cookie", &auditor)]).await;
        assert_eq!(page.status, 200);
        for expected in ["无票作业", "WO2", "CUST2", "data-no-ticket", "测试L1", "安规考试", "研究简报 §1.1"] {
            assert!(page.body.contains(expected), "{expected} on the finding page");
        }

        // Dismissing needs a reason; confirming makes a task, overdue once its deadline passed.
        let r = app.post_form(&format!("/findings/{id}/review"), "decision=dismiss&reason=", &[("cookie", &auditor)]).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.body.contains("FINDING_REVIEW"));
        let r = app.post_form(&format!("/findings/{id}/review"), "decision=confirm&responsible=L1&deadline=2026-12-01", &[("cookie", &auditor)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let again = app.post_form(&format!("/findings/{id}/review"), "decision=confirm&responsible=x", &[("cookie", &auditor)]).await;
        assert_eq!(again.status, 409, "reviewed once");
        let tasks = app.get_with("/tasks", &[("cookie", &auditor)]).await;
        assert!(tasks.body.contains("无票作业 WO2") && !tasks.body.contains("data-overdue"), "{}", tasks.body);
        app.clock.advance(chrono::Duration::days(6));
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let tasks = app.get_with("/tasks", &[("cookie", &auditor)]).await;
        assert!(tasks.body.contains("data-overdue"), "overdue after 2026-12-01: {}", tasks.body);
        let task: i64 = sqlx::query_scalar("SELECT id FROM rectification_tasks").fetch_one(app.state.db().pool()).await.expect("task");
        assert_eq!(app.post_form(&format!("/tasks/{task}/close"), "evidence=", &[("cookie", &auditor)]).await.status, 409);
        assert_eq!(app.post_form(&format!("/tasks/{task}/close"), "evidence=%E5%B7%B2%E8%A1%A5%E7%A5%A8", &[("cookie", &auditor)]).await.status, 303);

        // The records corrected upstream: a second import resolves the single-person finding.
        let fixed = ORDERS.replace("2026-11-26 10:30,L1\n", "2026-11-26 10:30,L1;C1\n");
        assert_eq!(upload(&app, &auditor, f.unit_a1.get(), &[("work_orders.csv", &fixed)]).await.status, 200);
        let now: Vec<_> = keys(&app).await;
        assert!(now.contains(&("SINGLE_PERSON_ORDER".into(), "WO2".into(), "resolved".into())), "{now:?}");
        assert!(now.contains(&("NO_TICKET".into(), "WO2".into(), "confirmed".into())), "{now:?}");

        // KPIs: this month's ticketless work in county A1.
        let kpi = app.get_with("/findings/kpi", &[("cookie", &auditor)]).await;
        assert!(kpi.body.contains("<polyline") && kpi.body.contains("孝南供电中心"), "{}", kpi.body);
        // The chart's unit and period are chosen; the axis names the year where it starts.
        let six = app.get_with(&format!("/findings/kpi?months=6&unit={}", f.unit_b), &[("cookie", &auditor)]).await.body;
        let ticks: Vec<&str> = six
            .split("text-anchor=\"middle\">")
            .skip(1)
            .filter_map(|t| t.split("</text>").next())
            .collect();
        assert_eq!(ticks.len(), 6, "six months: {ticks:?}");
        assert!(ticks[0].len() == 7 && ticks[0].starts_with("20"), "the year where the chart starts: {ticks:?}");
        assert!(ticks[1..].iter().all(|t| t.len() == 2 || t.ends_with("-01")), "months by number, a new year written: {ticks:?}");
        assert!(!six.contains("<td data-label=\"单位\">孝南供电中心</td>"), "another unit's rows only");
        let list = app.get_with("/findings", &[("cookie", &auditor)]).await.body;
        assert!(list.contains("其中新增") && list.contains("用时"), "the last run says what each number is");
        let xlsx = app.get_with("/findings.xlsx?state=confirmed", &[("cookie", &auditor)]).await;
        assert!(xlsx.header("content-type").contains("spreadsheetml"));
        let by_unit = app.get_with(&format!("/findings?unit={}", f.unit_a1), &[("cookie", &auditor)]).await;
        assert!(by_unit.body.contains("WO2"));
        let other_unit = app.get_with(&format!("/findings?unit={}", f.unit_b), &[("cookie", &auditor)]).await;
        assert!(!other_unit.body.contains("WO2"), "a unit outside reach filters to nothing");
        // The same through the API.
        let api = app.json(Method::GET, "/api/v1/findings?state=open", None, &[("cookie", &auditor)]).await.json();
        let open_ids: Vec<String> = api.as_array().expect("list").iter().map(|f| format!("{}:{}", f["rule"], f["entity_id"])).collect();
        assert_eq!(open_ids, ["\"EVENT_WITHOUT_TICKET\":\"EV2\""], "{api}");
        let event_id = api[0]["id"].as_i64().expect("id");
        let by_unit = app.json(Method::GET, &format!("/api/v1/findings?unit_id={}.0&state=open", f.unit_a1), None, &[("cookie", &auditor)]).await;
        assert_eq!(by_unit.json().as_array().map(Vec::len), Some(1), "a whole number written 12.0 is a unit id too: {}", by_unit.body);
        let bad = app.json(Method::GET, "/api/v1/findings?unit_id=1.5", None, &[("cookie", &auditor)]).await;
        assert_eq!(bad.status, 422);
        let r = app.json(Method::POST, &format!("/api/v1/findings/{event_id}/review"), Some(json!({"decision": "dismiss", "reason": "表计故障误报"})), &[("cookie", &auditor)]).await;
        assert_eq!(r.json()["state"], "dismissed", "{}", r.body);
        let tasks = app.json(Method::GET, "/api/v1/tasks", None, &[("cookie", &auditor)]).await.json();
        assert_eq!((tasks[0]["open"].clone(), tasks[0]["evidence"].clone()), (json!(false), json!("已补票")));
        // Another city's auditor sees none of it.
        let outsider = app.user("wh_auditor", f.unit_b, &[("safety_auditor", f.unit_b)]).await;
        let cookie = app.session_for(outsider).await;
        assert_eq!(app.get_with(&format!("/findings/{id}"), &[("cookie", &cookie)]).await.status, 403);
        let list = app.get_with("/findings", &[("cookie", &cookie)]).await;
        assert!(!list.body.contains("WO2"));
        let actions = app.audit_actions().await;
        for a in ["marketing.import_refused", "marketing.imported", "crossaudit.ran", "finding.confirmed", "task.closed"] {
            assert!(actions.iter().any(|x| x == a), "{a} audited");
        }
    }

    async fn the_nightly_job_runs_the_rules_once_a_day(app: TestApp) {
        let f = app.fixture().await;
        let _ = f;
        let first = gridsafe_app::jobs::run_due(app.app()).await;
        assert!(first.iter().any(|(job, r)| *job == gridsafe_app::jobs::Job::CrossAudit && r.is_ok()), "{first:?}");
        let again = gridsafe_app::jobs::run_due(app.app()).await;
        assert!(!again.iter().any(|(job, _)| *job == gridsafe_app::jobs::Job::CrossAudit), "once per day");
        app.clock.advance(chrono::Duration::days(1));
        let next = gridsafe_app::jobs::run_due(app.app()).await;
        assert!(next.iter().any(|(job, _)| *job == gridsafe_app::jobs::Job::CrossAudit));
        let runs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM crossaudit_runs WHERE cause = 'nightly'").fetch_one(app.state.db().pool()).await.expect("runs");
        assert_eq!(runs, 2);
    }

    async fn the_demo_companys_own_export_imports_into_a_handful_of_findings(app: TestApp) {
        let export = demo_export(&app).await;
        assert!(export.orders > 6 && export.events == 3, "its tickets' orders and six more: {}", export.orders);
        assert!(export.work_orders.starts_with("order_id,order_type,customer_id,org_unit,started_at,finished_at,workers\n"));
        // Its tickets' orders are the demo's own, done by the demo's people.
        assert!(export.work_orders.contains("WO-DEMO-") && export.work_orders.contains("XG1007"), "{}", export.work_orders);
        let ticket_orders: Vec<String> = export
            .work_orders
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').next())
            .filter(|o| !o.starts_with("WO-EXP-"))
            .map(str::to_owned)
            .collect();
        import_whole(app.app(), city(&app).await, export.work_orders, export.meter_events).await;
        let found: Vec<(String, String)> = sqlx::query_as("SELECT rule, entity_id FROM findings WHERE entity_id LIKE 'WO-EXP-%' OR entity_id LIKE 'EV-EXP-%' ORDER BY rule, entity_id")
            .fetch_all(app.state.db().pool()).await.expect("findings");
        let found: Vec<(&str, &str)> = found.iter().map(|(r, e)| (r.as_str(), e.as_str())).collect();
        assert_eq!(found, [
            ("EVENT_WITHOUT_TICKET", "EV-EXP-0001"),
            ("NO_TICKET", "WO-EXP-0001"),
            ("NO_TICKET", "WO-EXP-0002"),
            ("NO_TICKET", "WO-EXP-0003"),
            ("SINGLE_PERSON_ORDER", "WO-EXP-0003"),
        ], "a realistic handful");
        // The orders of its tickets are covered, inside their windows: no finding names them.
        let named: Vec<String> = sqlx::query_scalar("SELECT entity_id FROM findings WHERE entity_kind = 'order'")
            .fetch_all(app.state.db().pool()).await.expect("findings");
        assert!(!ticket_orders.is_empty() && ticket_orders.iter().all(|o| !named.contains(o)), "{ticket_orders:?} vs {named:?}");
    }

    async fn an_imports_run_writes_only_its_own_rows_findings_and_ends_where_a_whole_run_ends(app: TestApp) {
        let export = demo_export(&app).await;
        // The export in two days' files: every other order and event in each.
        let half = |csv: &str, odd: bool| -> String {
            let mut lines = csv.lines();
            let header = lines.next().expect("header");
            let rows: Vec<&str> = lines.enumerate().filter(|(n, _)| (n % 2 == 1) == odd).map(|(_, l)| l).collect();
            format!("{header}\n{}\n", rows.join("\n"))
        };
        let city = city(&app).await;
        let import = |orders: String, events: String| import_whole(app.app(), city, orders, events);
        let kept = || kept_findings(&app);
        let first = import(half(&export.work_orders, false), half(&export.meter_events, false)).await;
        let second = import(half(&export.work_orders, true), half(&export.meter_events, true)).await;
        assert!(first.orders > 0 && second.orders > 0 && first.run.new > 0 && second.run.new > 0, "{first:?} {second:?}");
        let after_imports = kept().await;
        assert_eq!(second.run.findings as usize, after_imports.iter().filter(|k| k.4 != "resolved").count(), "findings now counts those kept");
        // A whole run finds nothing the two imports' runs had not: same findings, nothing new, nothing resolved.
        let whole = gridsafe_app::findings::run_audit(app.app(), support::operator().actor(), &support::meta(), "test").await.expect("run");
        assert_eq!((whole.new, whole.resolved), (0, 0), "{whole:?}");
        assert_eq!(kept().await, after_imports);
        assert!(after_imports.iter().any(|k| k.1 == "order") && after_imports.iter().any(|k| k.1 == "event"), "{after_imports:?}");

        // The next day one order of the first file comes again with one worker: its run writes
        // that order's new finding and nothing about the rows it did not bring.
        app.clock.advance(chrono::Duration::days(1));
        // (GridSafe's own records are judged whole by every run: a day on, plan items may be due.)
        let imported_rows = "SELECT entity_id, last_seen_at, state FROM findings WHERE entity_kind IN ('order', 'event') ORDER BY id";
        let wrote_before: Vec<(String, String, String)> =
            sqlx::query_as(imported_rows).fetch_all(app.state.db().pool()).await.expect("stamps");
        let orders = half(&export.work_orders, false);
        let again = orders.lines().skip(1).find(|l| l.rsplit(',').next().is_some_and(|w| w.contains(';'))).expect("an order of two");
        let mut fields: Vec<&str> = again.split(',').collect();
        let workers = fields.last_mut().expect("workers");
        let one = workers.split(';').next().expect("a worker").to_owned();
        let order_id = fields[0].to_owned();
        let line = format!("{},{one}", fields[..fields.len() - 1].join(","));
        let header = export.work_orders.lines().next().expect("header");
        let event_header = export.meter_events.lines().next().expect("header");
        let third = import(format!("{header}\n{line}\n"), format!("{event_header}\n")).await;
        assert!(third.orders == 1 && third.run.new >= 1, "{third:?}");
        let wrote_after: Vec<(String, String, String)> =
            sqlx::query_as(imported_rows).fetch_all(app.state.db().pool()).await.expect("stamps");
        let rewritten: Vec<&String> = wrote_after.iter().filter(|w| !wrote_before.contains(w)).map(|(e, _, _)| e).collect();
        assert!(!rewritten.is_empty() && rewritten.iter().all(|e| **e == order_id), "only the order brought again was written: {rewritten:?}");
        let single: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM findings WHERE rule = 'SINGLE_PERSON_ORDER' AND entity_id = $1 AND state = 'open'")
            .bind(&order_id).fetch_one(app.state.db().pool()).await.expect("single");
        assert_eq!(single, 1);
        // And a whole run agrees again.
        let whole = gridsafe_app::findings::run_audit(app.app(), support::operator().actor(), &support::meta(), "test").await.expect("run");
        assert_eq!((whole.new, whole.resolved), (0, 0), "{whole:?}");
    }

    async fn imported_values_are_stored_exactly_as_written_across_many_statements(app: TestApp) {
        // Rows travel to the database many to a statement: quotes, backslashes, control
        // characters and characters outside the BMP come back as they were, in every statement,
        // in the rows and in the findings' words that quote them.
        let f = app.fixture().await;
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let odd = ["WO\"引号\"", "WO\\反斜杠\\n", "WO\t制表\u{1}", "WO😀/'单引号'"];
        let quoted = |v: &str| format!("\"{}\"", v.replace('"', "\"\""));
        let mut orders = String::from("order_id,order_type,customer_id,org_unit,started_at,finished_at,workers\n");
        // Each order's id, customer and workers as written.
        let mut expected: Vec<(String, String, String)> = (0..1_200)
            .map(|n| (format!("{}{n}", odd[n % odd.len()]), format!("户{}\\{n}", odd[(n + 1) % odd.len()]), "L1".to_owned()))
            .collect();
        for (id, customer, _) in &expected {
            orders.push_str(&format!("{},换表,{},孝南供电中心,2026-11-26 09:30,2026-11-26 10:30,L1\n", quoted(id), quoted(customer)));
        }
        let r = upload(&app, &auditor, f.unit_a1.get(), &[("work_orders.csv", &orders)]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let pool = app.state.db().pool();
        // Sorted here, not by the database, whose collation may differ.
        let mut stored: Vec<(String, String, String)> =
            sqlx::query_as("SELECT order_id, customer_id, workers FROM marketing_orders").fetch_all(pool).await.expect("orders");
        stored.sort();
        expected.sort();
        assert_eq!(stored.len(), 1_200);
        assert!(stored == expected, "the first that differs: {:?}", stored.iter().zip(&expected).find(|(a, b)| a != b));
        // Every ticketless order has its finding, its id and words as the order wrote them.
        let mut found: Vec<(String, String)> = sqlx::query_as("SELECT entity_id, detail FROM findings WHERE rule = 'NO_TICKET'")
            .fetch_all(pool)
            .await
            .expect("findings");
        found.sort();
        assert_eq!(found.len(), 1_200);
        assert!(found.iter().zip(&expected).all(|((id, detail), (order, ..))| id == order && detail.contains(order.as_str())), "{:?}", &found[..2]);
    }

    async fn a_problem_late_in_a_large_file_refuses_it_whole_with_what_the_reader_says(app: TestApp) {
        // 30,000 orders (on PostgreSQL read and stored a piece at a time): a bad time in the
        // last of them, or an order twice far apart, refuses the import with the very problems
        // the file read whole gives, on record, and nothing of it is kept.
        let f = app.fixture().await;
        let dir = tempfile::tempdir().expect("dir");
        gridsafe_crossaudit::generate::write_export(dir.path(), 30_000, 3).expect("export");
        let orders = std::fs::read_to_string(dir.path().join("work_orders.csv")).expect("orders");
        let last = orders.lines().last().expect("rows").to_owned();
        let bad_time = orders.replace(&last, &last.replacen(",2025-", ",2025/13/", 1));
        let twice = format!("{orders}{}\n", orders.lines().nth(2).expect("row"));
        for text in [bad_time, twice] {
            let files = vec![("work_orders.csv".to_owned(), text.clone().into_bytes())];
            let expected = gridsafe_app::people::read_upload(&files).errors;
            assert_eq!(expected.len(), 1);
            let refused = import_files(app.app(), f.unit_a1, vec![("work_orders.csv", text)]).await.expect("import");
            assert_eq!(refused.expect_err("refused"), expected);
        }
        let pool = app.state.db().pool();
        let count = |table: &'static str| async move {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(pool)
                .await
                .expect("count")
        };
        assert_eq!((count("marketing_orders").await, count("marketing_imports").await), (0, 0));
        let refusals: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'marketing.import_refused'")
                .fetch_one(pool)
                .await
                .expect("events");
        assert_eq!(refusals, 2);
    }

    async fn a_large_import_is_stored_exactly_in_many_pieces(app: TestApp) {
        // 20,000 orders, 3 MB of rows: on PostgreSQL `COPY` sends them a megabyte at a time,
        // each piece ending inside a row; ids, customers and workers with backslashes, tabs,
        // line breaks and `\N` (COPY's NULL) come back as written, once each, on both backends.
        let f = app.fixture().await;
        let at = support::start_of_test_time();
        let odd = ["\\N", "a\tb", "行\n换", "回\r车", "\\", "普通"];
        let time = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).and_then(|d| d.and_hms_opt(9, 30, 0)).expect("time");
        let orders: Vec<_> = (0..20_000)
            .map(|n| gridsafe_crossaudit::input::WorkOrder {
                line: n + 2,
                order_id: format!("WO{}{n:06}", odd[n % odd.len()]),
                order_type: gridsafe_domain::orders::OrderType::MeterInstall,
                customer_id: format!("{}户{n}{}", odd[(n + 1) % odd.len()], "长".repeat(n % 90)),
                org_unit: "孝南供电中心".into(),
                started_at: time,
                finished_at: time,
                workers: vec![odd[(n + 2) % odd.len()].to_owned(), "L1".into()],
            })
            .collect();
        let mut expected: Vec<(String, String, String)> =
            orders.iter().map(|o| (o.order_id.clone(), o.customer_id.clone(), o.workers.join(";"))).collect();
        let tables = gridsafe_crossaudit::input::Tables { work_orders: orders, ..Default::default() };
        let db = app.state.db();
        store_import(db, f.unit_a1, &tables, at).await.expect("import");
        let mut stored: Vec<(String, String, String)> =
            sqlx::query_as("SELECT order_id, customer_id, workers FROM marketing_orders").fetch_all(db.pool()).await.expect("orders");
        stored.sort();
        expected.sort();
        assert_eq!(stored.len(), 20_000);
        assert!(stored == expected, "the first that differs: {:?}", stored.iter().zip(&expected).find(|(a, b)| a != b));
    }

    async fn an_import_that_sends_stored_orders_again_replaces_them_and_adds_the_new_ones(app: TestApp) {
        // A file of new orders goes in as it is; one that names stored orders again (on
        // PostgreSQL, where `COPY` only inserts, the slower way: through a temporary table)
        // replaces them, changed or not, beside the new ones it brings: nothing twice, nothing
        // lost.
        let f = app.fixture().await;
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let file = |ids: std::ops::Range<usize>, customer: &dyn Fn(usize) -> String| {
            let mut orders = String::from("order_id,order_type,customer_id,org_unit,started_at,finished_at,workers\n");
            for n in ids {
                orders.push_str(&format!("WO-{n:05},换表,{},孝南供电中心,2026-11-26 09:30,2026-11-26 10:30,L1\n", customer(n)));
            }
            orders
        };
        let r = upload(&app, &auditor, f.unit_a1.get(), &[("work_orders.csv", &file(0..1_200, &|n| format!("户{n}")))]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        // Orders 600..1,200 again, every third with another customer, and 600 new ones.
        let again = |n: usize| if n.is_multiple_of(3) { format!("新户{n}") } else { format!("户{n}") };
        let r = upload(&app, &auditor, f.unit_a1.get(), &[("work_orders.csv", &file(600..1_800, &again))]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let pool = app.state.db().pool();
        let imports: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM marketing_imports ORDER BY id").fetch_all(pool).await.expect("imports");
        let second = *imports.last().expect("two imports");
        let mut stored: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT order_id, customer_id, import_id FROM marketing_orders").fetch_all(pool).await.expect("orders");
        stored.sort();
        let expected: Vec<(String, String, i64)> = (0..1_800)
            .map(|n| {
                let (customer, import) = if n < 600 { (format!("户{n}"), imports[imports.len() - 2]) } else { (again(n), second) };
                (format!("WO-{n:05}"), customer, import)
            })
            .collect();
        assert_eq!(stored.len(), 1_800);
        assert!(stored == expected, "the first that differs: {:?}", stored.iter().zip(&expected).find(|(a, b)| a != b));
    }

    async fn imports_that_race_over_the_same_orders_all_land_and_each_order_is_stored_once(app: TestApp) {
        // Fifty imports' rows written at once, each naming the same twenty orders, ten of them
        // stored (on PostgreSQL the way that finds `COPY` refused, then inserts and updates
        // through a temporary table), and two orders of its own: every one commits, every
        // order is stored once, as one whole import wrote it.
        let f = app.fixture().await;
        let at = support::start_of_test_time();
        let order = |id: String, customer: String| gridsafe_crossaudit::input::WorkOrder {
            line: 0,
            order_id: id,
            order_type: gridsafe_domain::orders::OrderType::MeterInstall,
            customer_id: customer,
            org_unit: "孝南供电中心".into(),
            started_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 26).and_then(|d| d.and_hms_opt(9, 30, 0)).expect("time"),
            finished_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 26).and_then(|d| d.and_hms_opt(10, 30, 0)).expect("time"),
            workers: vec!["L1".into()],
        };
        let import = |orders: Vec<gridsafe_crossaudit::input::WorkOrder>| {
            let db = app.state.db().clone();
            let unit = f.unit_a1;
            async move {
                let tables = gridsafe_crossaudit::input::Tables { work_orders: orders, ..Default::default() };
                store_import(&db, unit, &tables, at).await
            }
        };
        import((0..10).map(|n| order(format!("WO-S{n:02}"), "户0".into())).collect()).await.expect("first");
        let outcomes = support::race(50, |i| {
            let mut orders: Vec<_> = (0..20).map(|n| order(format!("WO-S{n:02}"), format!("户{i}"))).collect();
            orders.extend((0..2).map(|n| order(format!("WO-R{i:02}-{n}"), format!("户{i}"))));
            import(orders)
        })
        .await;
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        let stored: Vec<(String, String, i64)> = sqlx::query_as("SELECT order_id, customer_id, import_id FROM marketing_orders")
            .fetch_all(app.state.db().pool())
            .await
            .expect("orders");
        assert_eq!(stored.len(), 20 + 50 * 2);
        // Each racer's own orders name its import; the twenty shared ones are all as the last
        // import to write them left them.
        let imports: std::collections::HashMap<i64, String> = stored
            .iter()
            .filter(|(id, ..)| id.starts_with("WO-R"))
            .map(|(_, customer, import)| (*import, customer.clone()))
            .collect();
        assert_eq!(imports.len(), 50, "one import a racer");
        let shared: Vec<&(String, String, i64)> = stored.iter().filter(|(id, ..)| id.starts_with("WO-S")).collect();
        assert!(shared.iter().all(|(_, customer, import)| imports.get(import) == Some(customer)), "{shared:?}");
        assert!(shared.iter().all(|(.., import)| *import == shared[0].2), "{shared:?}");
    }

    async fn imports_and_runs_that_race_over_the_same_export_all_succeed_and_leave_what_a_whole_run_finds(app: TestApp) {
        // Forty imports of the demo company's export, each with one order of its own, and ten
        // whole runs, all at once: every import, the run after it and every whole run succeed,
        // though each import's orders are sent again by the others before its run reads them
        // and rows change under the whole runs; the findings they leave are those a whole run
        // finds.
        let export = demo_export(&app).await;
        let single = export.work_orders.lines().find(|l| l.starts_with("WO-EXP-0003,")).expect("an order of one worker").to_owned();
        let city = city(&app).await;
        let outcomes = support::race(50, |i| {
            let orders = format!("{}{}\n", export.work_orders, single.replacen("WO-EXP-0003", &format!("WO-RACE-{i:02}"), 1));
            let events = export.meter_events.clone();
            let app = app.app().clone();
            async move {
                if i % 5 == 4 {
                    // Spread over the imports, so that whole runs read rows that imports' runs
                    // are judging.
                    tokio::time::sleep(std::time::Duration::from_millis(60 * i as u64)).await;
                    return gridsafe_app::findings::run_audit(&app, support::operator().actor(), &support::meta(), "test").await.map(Ok);
                }
                import_files(&app, city, vec![("work_orders.csv", orders), ("meter_events.csv", events)])
                    .await
                    .map(|r| r.map(|imported| imported.run).map_err(|e| format!("{e:?}")))
            }
        })
        .await;
        let failed: Vec<String> = outcomes.iter().filter(|o| !matches!(o, Ok(Ok(_)))).map(|o| format!("{o:?}")).collect();
        assert!(failed.is_empty(), "{} of 50 failed, the first: {:?}", failed.len(), failed.first());
        let pool = app.state.db().pool();
        let racers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM findings WHERE entity_id LIKE 'WO-RACE-%' AND rule = 'SINGLE_PERSON_ORDER' AND state = 'open'")
            .fetch_one(pool).await.expect("findings");
        assert_eq!(racers, 40, "each importer's own order found once");
        let kept = || kept_findings(&app);
        let after_imports = kept().await;
        let whole = gridsafe_app::findings::run_audit(app.app(), support::operator().actor(), &support::meta(), "test").await.expect("run");
        assert_eq!((whole.new, whole.resolved), (0, 0), "{whole:?}");
        assert_eq!(kept().await, after_imports);
    }

    async fn the_findings_table_rebuilt_by_its_migration_keeps_every_finding_and_its_ids(app: TestApp) {
        // Migration 29 rebuilds the findings table without its key to the unit. Applied again
        // to a database holding findings: every finding comes back as it was, under its id, and
        // the next finding written takes an id after the highest.
        let export = demo_export(&app).await;
        let city = city(&app).await;
        let import = |orders: String| {
            let app = app.app();
            async move { import_files(app, city, vec![("work_orders.csv", orders)]).await.expect("import").expect("imported whole") }
        };
        import(export.work_orders.clone()).await;
        type Row = (i64, String, String, String, String, String, i64, String, String, String, String, Option<String>);
        let pool = app.state.db().pool();
        let rows = || async {
            sqlx::query_as::<_, Row>(
                "SELECT id, rule, entity_kind, entity_id, subject, detail, unit_id, month, state, first_seen_at, last_seen_at, resolved_at FROM findings ORDER BY id",
            )
            .fetch_all(pool)
            .await
            .expect("findings")
        };
        let before = rows().await;
        assert!(before.len() > 5, "{before:?}");
        sqlx::query("DELETE FROM gridsafe_migrations WHERE version = 29").execute(pool).await.expect("forget 29");
        let applied = app.state.db().migrate(support::start_of_test_time()).await.expect("migrate");
        assert_eq!(applied.iter().map(|m| m.version).collect::<Vec<_>>(), [29]);
        assert_eq!(rows().await, before, "every finding as it was");
        let keys: i64 = match app.backend() {
            support::Backend::Sqlite => sqlx::query_scalar("SELECT COUNT(*) FROM pragma_foreign_key_list('findings')"),
            support::Backend::Postgres => sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.table_constraints WHERE table_name = 'findings' AND constraint_type = 'FOREIGN KEY'",
            ),
        }
        .fetch_one(pool)
        .await
        .expect("keys");
        assert_eq!(keys, 0);
        // A new order of one worker: its findings take ids after every kept one.
        let header = export.work_orders.lines().next().expect("header");
        let single = export.work_orders.lines().find(|l| l.starts_with("WO-EXP-0003,")).expect("an order of one worker");
        import(format!("{header}\n{}\n", single.replacen("WO-EXP-0003", "WO-AFTER-29", 1))).await;
        let highest = before.iter().map(|r| r.0).max().expect("some");
        let new: Vec<i64> = sqlx::query_scalar("SELECT id FROM findings WHERE entity_id = 'WO-AFTER-29'").fetch_all(pool).await.expect("new");
        assert!(!new.is_empty() && new.iter().all(|id| *id > highest), "{new:?} after {highest}");
    }

    async fn a_large_stores_findings_table_is_rebuilt_by_its_migration(app: TestApp) {
        // Migration 29 on a store of 300,000 findings: one transaction copies the table, drops
        // the old one and builds the indexes in the pages it freed, so one statement changes
        // far more pages than SQLite keeps in memory to undo it. Built to keep 16 MiB of them in
        // memory, SQLite 3.51 refused such a statement ("database or disk is full") here; a
        // county centre with such a store could not have upgraded.
        let pool = app.state.db().pool();
        sqlx::query(
            "WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 300000) \
             INSERT INTO findings (rule, entity_kind, entity_id, subject, detail, unit_id, month, state, first_seen_at, last_seen_at) \
             SELECT 'NO_TICKET', 'order', 'WO-BULK-' || CAST(v AS TEXT), '', '工单 WO-BULK-' || CAST(v AS TEXT) || ' 没有对应的工作票', 1, '2026-11', 'open', \
             '2026-11-26T02:00:00Z', '2026-11-26T02:00:00Z' FROM n",
        )
        .execute(pool)
        .await
        .expect("findings");
        let before: (i64, i64, i64) = sqlx::query_as("SELECT COUNT(*), MIN(id), MAX(id) FROM findings").fetch_one(pool).await.expect("count");
        assert!(before.0 >= 300_000, "{before:?}");
        sqlx::query("DELETE FROM gridsafe_migrations WHERE version = 29").execute(pool).await.expect("forget 29");
        let applied = app.state.db().migrate(support::start_of_test_time()).await.expect("migration 29 on a large store");
        assert_eq!(applied.iter().map(|m| m.version).collect::<Vec<_>>(), [29]);
        let after: (i64, i64, i64) = sqlx::query_as("SELECT COUNT(*), MIN(id), MAX(id) FROM findings").fetch_one(pool).await.expect("count");
        assert_eq!(after, before, "every finding kept under its id");
    }

    async fn the_same_batch_pushed_fifty_times_at_once_is_written_once(app: TestApp) {
        // Each push reads which of its orders are stored, then writes: of fifty identical
        // batches at once, exactly one finds them new and writes them; the others change nothing.
        let f = app.fixture().await;
        let cap = support::operator().authorize::<gridsafe_domain::access::perm::MarketingPush>().expect("operator");
        let order = |n: usize| gridsafe_app::findings::PushedOrder {
            order_id: format!("P-RACE-{n}"),
            order_type: "meter_replacement".into(),
            customer_id: "C1".into(),
            org_unit: "孝南供电中心".into(),
            started_at: "2026-11-20 09:00".into(),
            finished_at: "2026-11-20 10:00".into(),
            workers: vec!["W1".into(), "W2".into()],
        };
        let batch: Vec<_> = (0..3).map(order).collect();
        let outcomes = support::race(50, |_| {
            let (app, cap, batch) = (app.app().clone(), cap.clone(), batch.clone());
            async move {
                gridsafe_app::findings::push_orders(&app, &cap, &support::meta(), f.unit_a1, &batch)
                    .await
                    .map(|o| (o.new, o.changed, o.unchanged))
                    .map_err(|e| format!("{e:?}"))
            }
        })
        .await;
        let wrote: Vec<_> = outcomes.iter().filter(|o| matches!(o, Ok((3, 0, 0)))).collect();
        let unchanged = outcomes.iter().filter(|o| matches!(o, Ok((0, 0, 3)))).count();
        assert_eq!((wrote.len(), unchanged), (1, 49), "{outcomes:?}");
        let pool = app.state.db().pool();
        let pushed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'marketing.pushed'").fetch_one(pool).await.expect("events");
        let imports: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM marketing_imports").fetch_one(pool).await.expect("imports");
        assert_eq!((pushed, imports), (1, 1));
    }

    async fn a_pushed_batch_is_checked_whole_idempotent_by_id_and_audited(app: TestApp) {
        let f = app.fixture().await;
        let cookie = app.session_for(f.user("safety_auditor")).await;
        let headers = [("cookie", cookie.as_str())];
        let pool = app.state.db().pool();
        let count = |sql: &'static str| async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.expect(sql) };
        let order = |id: &str, kind: &str, start: &str, end: &str| json!({
            "order_id": id, "order_type": kind, "customer_id": "C1", "org_unit": "孝南供电中心",
            "started_at": start, "finished_at": end, "workers": ["W1", "W2"],
        });
        // Three problems in one batch, each by index and field; nothing written.
        let bad = json!({"unit_id": f.unit_a1.get(), "orders": [
            order("P-1", "换表", "2026-11-20 09:00", "2026-11-20 10:00"),
            order("P-2", "换灯泡", "2026-11-20 09:00", "2026-11-20 10:00"),
            order("P-3", "meter_replacement", "2026-11-20 09:00", "2026-11-20 08:00"),
            order("P-1", "meter_replacement", "2026-11-20 09:00", "2026-11-20 10:00"),
        ]});
        let r = app.json(Method::POST, "/api/v1/work-orders", Some(bad), &headers).await;
        assert_eq!(r.status, 422, "{}", r.body);
        for words in ["第 1 条", "换灯泡", "第 2 条", "finished_at", "第 3 条", "重复"] {
            assert!(r.body.contains(words), "{words} in {}", r.body);
        }
        assert_eq!(count("SELECT COUNT(*) FROM marketing_orders").await, 0);
        assert_eq!(count("SELECT COUNT(*) FROM audit_events WHERE action = 'marketing.push_refused'").await, 1);
        // A NUL character in an id is refused as such, not a storage failure (PostgreSQL's text
        // cannot hold it).
        let nul = json!({"unit_id": f.unit_a1.get(), "orders": [order("P\u{0}1", "换表", "2026-11-20 09:00", "2026-11-20 10:00")]});
        let r = app.json(Method::POST, "/api/v1/work-orders", Some(nul), &headers).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("空字符"), "{}", r.body);
        assert_eq!(count("SELECT COUNT(*) FROM marketing_orders").await, 0);

        // A good batch: a ticketless meter replacement among them is found at once.
        let batch = json!({"unit_id": f.unit_a1.get(), "orders": [
            order("P-1", "换表", "2026-11-20 09:00", "2026-11-20 10:00"),
            order("P-2", "meter_reading", "2026-11-20 09:00", "2026-11-20 10:00"),
            order("P-3", "customer_visit", "2026-11-21 09:00", "2026-11-21 09:30:15"),
        ]});
        let r = app.json(Method::POST, "/api/v1/work-orders", Some(batch.clone()), &headers).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let first = r.json();
        assert_eq!((first["new"].as_u64(), first["changed"].as_u64(), first["unchanged"].as_u64()), (Some(3), Some(0), Some(0)));
        assert!(first["new_findings"].as_u64().is_some_and(|n| n >= 1), "{first}");
        let findings = count("SELECT COUNT(*) FROM findings WHERE rule = 'NO_TICKET' AND entity_id = 'P-1'").await;
        assert_eq!(findings, 1, "the ticketless field order is a finding on the auditor's list");
        let (imports, events, runs) = (
            count("SELECT COUNT(*) FROM marketing_imports").await,
            count("SELECT COUNT(*) FROM audit_events").await,
            count("SELECT COUNT(*) FROM crossaudit_runs").await,
        );

        // The same batch again changes nothing: no row, no audit event, no audit run.
        let r = app.json(Method::POST, "/api/v1/work-orders", Some(batch), &headers).await;
        let again = r.json();
        assert_eq!((again["new"].as_u64(), again["changed"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(0), Some(3)));
        assert!(again["findings"].is_null());
        assert_eq!(count("SELECT COUNT(*) FROM marketing_imports").await, imports);
        assert_eq!(count("SELECT COUNT(*) FROM audit_events").await, events);
        assert_eq!(count("SELECT COUNT(*) FROM crossaudit_runs").await, runs);

        // A changed order is an update, on record by its id.
        let changed = json!({"unit_id": f.unit_a1.get(), "orders": [
            order("P-1", "换表", "2026-11-20 09:00", "2026-11-20 11:00"),
            order("P-2", "meter_reading", "2026-11-20 09:00", "2026-11-20 10:00"),
        ]});
        let r = app.json(Method::POST, "/api/v1/work-orders", Some(changed), &headers).await.json();
        assert_eq!((r["new"].as_u64(), r["changed"].as_u64(), r["unchanged"].as_u64()), (Some(0), Some(1), Some(1)));
        let summary: String = sqlx::query_scalar("SELECT summary FROM audit_events WHERE action = 'marketing.pushed' ORDER BY seq DESC LIMIT 1")
            .fetch_one(pool).await.expect("summary");
        assert!(summary.contains("P-1") && !summary.contains("P-2"), "{summary}");
        let stored: String = sqlx::query_scalar("SELECT finished_at FROM marketing_orders WHERE order_id = 'P-1'").fetch_one(pool).await.expect("order");
        assert!(stored.starts_with("2026-11-20T03:00"), "11:00 China time: {stored}");

        // Meter events the same way; a batch over the bound is refused whole.
        let events = json!({"unit_id": f.unit_a1.get(), "events": [
            {"event_id": "EV-1", "meter_id": "M1", "customer_id": "C9", "kind": "cover_open", "occurred_at": "2026-11-22 14:00"},
        ]});
        let r = app.json(Method::POST, "/api/v1/meter-events", Some(events.clone()), &headers).await.json();
        assert_eq!(r["new"].as_u64(), Some(1));
        let r = app.json(Method::POST, "/api/v1/meter-events", Some(events), &headers).await.json();
        assert_eq!(r["unchanged"].as_u64(), Some(1));
        let many: Vec<serde_json::Value> = (0..1001).map(|n| order(&format!("Q-{n}"), "换表", "2026-11-20 09:00", "2026-11-20 10:00")).collect();
        let r = app.json(Method::POST, "/api/v1/work-orders", Some(json!({"unit_id": f.unit_a1.get(), "orders": many})), &headers).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("1000"), "{}", r.body);

        // A token limited to pushing pushes, and reads nothing.
        let t = app.json(Method::POST, "/api/v1/tokens", Some(json!({"name": "营销系统推送", "permissions": ["marketing.push"], "valid_days": 30})), &headers).await;
        assert_eq!(t.status, 201, "{}", t.body);
        let bearer = format!("Bearer {}", t.json()["secret"].as_str().expect("secret"));
        let auth = [("authorization", bearer.as_str())];
        let push = json!({"unit_id": f.unit_a1.get(), "orders": [order("P-9", "换表", "2026-11-23 09:00", "2026-11-23 10:00")]});
        assert_eq!(app.json(Method::POST, "/api/v1/work-orders", Some(push), &auth).await.status, 200);
        assert_eq!(app.json(Method::GET, "/api/v1/findings", None, &auth).await.status, 403);
    }
}
