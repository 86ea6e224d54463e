//! Customer projects (业扩报装) through their use cases, on SQLite and PostgreSQL: a high-voltage
//! project through every stage, its completion failing with two defects under 首检负责制 (the
//! notice, the wait on the customer, the recheck that must answer each defect, the miss counted
//! against the first inspector); the energising gate refusing the 装表接电 ticket until the
//! defects close; working days with the imported calendar and waits left out; the limits table
//! versioned; the marketing system's list imported all or nothing; the in-app cross-audit's
//! finding for energising before acceptance; fifty replies at once taken once.

mod support;

use gridsafe_app::AppError;
use gridsafe_app::projects::{self, InspectionInput, LimitsInput, ProjectInput, StepInput};
use gridsafe_domain::access::{Permission, Principal, UnitPath, perm};
use gridsafe_domain::ids::{PersonId, ProjectId, UnitId};
use gridsafe_domain::projects::{ProjectStep, Recheck, Stage, Timing};
use gridsafe_domain::time::Timestamp;
use support::tickets::{create, crew, draft, ok, rules, step};
use support::{Fixture, TestApp, cap, meta, principal, race, rule_codes};

struct Desk {
    manager: Principal,
    inspector: Principal,
    auditor: Principal,
    /// Level-1 and level-2 inspectors (both cover 10 kV), in city A.
    first: PersonId,
    second: PersonId,
}

async fn desk(app: &TestApp, f: &Fixture) -> Desk {
    let path: UnitPath =
        gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path;
    let manager = principal(
        f.user("customer_manager"),
        "u_customer_manager",
        &[Permission::ProjectsView, Permission::ProjectsManage],
        &path,
    );
    let inspector =
        principal(f.user("inspector"), "u_inspector", &[Permission::ProjectsView, Permission::ProjectsInspect], &path);
    let auditor = principal(
        f.user("safety_auditor"),
        "u_safety_auditor",
        &[Permission::ProjectsView, Permission::ProjectsConfigure],
        &path,
    );
    let cap_people = support::operator().authorize::<perm::PeopleManage>().expect("op");
    let reach = gridsafe_app::people::Reach::units(&cap_people);
    let mut ids = Vec::new();
    for (code, level) in [("J1", 1i64), ("J2", 2)] {
        let id = app.person(f.unit_a, code, &[]).await;
        let q = gridsafe_app::people::QualificationInput {
            kind: "inspector".into(),
            valid_from: "2026-01-01".into(),
            valid_to: "2026-12-31".into(),
            level: Some(level),
            passed: true,
            ..Default::default()
        };
        gridsafe_app::people::add_qualification(app.app(), &reach, &meta(), id, q).await.expect("qualification");
        ids.push(id);
    }
    app.person(f.unit_a, "M1", &[]).await;
    Desk { manager, inspector, auditor, first: ids[0], second: ids[1] }
}

/// A customer of city A in the register, at 0.4 kV (the ticket's work is low voltage).
async fn customer(app: &TestApp, unit: UnitId, account: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO customers (account_no, name, address, unit_id, voltage_kv, importance, industry, supply_sources, emergency_power, registered_on, updated_at, updated_by) \
         VALUES ($1, '测试超市', '书院街 18 号', $2, 0.4, 'none', '商业', 1, 'none', '2026-01-01', '2026-01-01T00:00:00.000000Z', 'test') RETURNING id",
    )
    .bind(account)
    .bind(unit.get())
    .fetch_one(app.state.db().pool())
    .await
    .expect("customer")
}

fn hv(account: &str, accepted_on: &str) -> ProjectInput {
    ProjectInput {
        account_no: account.into(),
        kind: "change".into(),
        voltage_kv: "10".into(),
        capacity_kva: "630".into(),
        manager: "M1".into(),
        order_id: format!("SQ-{account}"),
        accepted_on: accepted_on.into(),
        ..ProjectInput::default()
    }
}

fn on(day: &str) -> StepInput {
    StepInput { on: day.into(), ..StepInput::default() }
}

async fn take(app: &TestApp, d: &Desk, id: ProjectId, s: ProjectStep, input: StepInput) -> Result<Stage, AppError> {
    projects::take_step(app.app(), &cap::<perm::ProjectsManage>(&d.manager), &meta(), id, s, input).await
}

async fn inspect(
    app: &TestApp,
    d: &Desk,
    id: ProjectId,
    input: InspectionInput,
) -> Result<projects::Inspected, AppError> {
    projects::inspect(app.app(), &cap::<perm::ProjectsInspect>(&d.inspector), &meta(), id, input).await
}

fn inspection(by: PersonId, day: &str, rechecks: &[(i64, bool)], new: &str) -> InspectionInput {
    InspectionInput {
        inspector: by,
        on: day.into(),
        rechecks: rechecks
            .iter()
            .map(|(defect, rectified)| Recheck { defect: *defect, rectified: *rectified })
            .collect(),
        new_defects: new.into(),
        ..InspectionInput::default()
    }
}

async fn detail(app: &TestApp, d: &Desk, id: ProjectId) -> projects::ProjectDetail {
    projects::project(app.app(), &cap::<perm::ProjectsView>(&d.manager), id).await.expect("project")
}

fn at_day(day: &str, hour: u32) -> Timestamp {
    let local = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").expect("day").and_hms_opt(hour, 0, 0).expect("time");
    Timestamp::from_local(local)
}

async fn multipart_post(
    app: &TestApp,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
    file: (&str, &[u8]),
) -> support::TestResponse {
    let boundary = "gsboundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{}\"\r\nContent-Type: text/csv\r\n\r\n", file.0)
            .as_bytes(),
    );
    body.extend(file.1);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = axum::http::Request::post(path)
        .header("cookie", cookie)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .header("sec-fetch-site", "same-origin")
        .body(axum::body::Body::from(body))
        .expect("request");
    app.request(request).await
}

backend_tests! {
    async fn every_open_project_is_on_the_to_do_list_and_in_the_figures_however_many(app: TestApp) {
        // One project accepted on 1 September, its reply long overdue, then 10,010 accepted on
        // 25 November, not yet due. The to-do list read the newest 500 open projects and the
        // figures the newest 10,000: the one overdue was on neither.
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        customer(&app, f.unit_a, "4300009").await;
        let manage = cap::<perm::ProjectsManage>(&d.manager);
        let id = projects::register(app.app(), &manage, &meta(), hv("4300009", "2026-09-01"), None).await.expect("register");
        let copies = format!(
            "INSERT INTO projects (number, unit_id, customer_id, kind, class, voltage_kv, capacity_kva, dual_source, residential, \
             manager_person_id, stage, accepted_on, registered_at, created_by, updated_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10010) \
             SELECT 'CP' || CAST(i AS TEXT), p.unit_id, p.customer_id, p.kind, p.class, p.voltage_kv, p.capacity_kva, \
             p.dual_source, p.residential, p.manager_person_id, p.stage, '2026-11-25', p.registered_at, p.created_by, p.updated_at \
             FROM projects p, n WHERE p.id = {id}"
        );
        let stages = format!(
            "INSERT INTO project_stages (project_id, stage, entered_on, clock_from, limit_days, limits_version) \
             SELECT q.id, s.stage, '2026-11-25', '2026-11-25', s.limit_days, s.limits_version \
             FROM projects q, project_stages s WHERE s.project_id = {id} AND q.id <> {id}"
        );
        for sql in [copies, stages] {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(app.state.db().pool()).await.expect("copies");
        }
        let todo = projects::todo(app.app(), &d.manager).await.expect("todo");
        assert_eq!(todo.iter().map(|t| (t.what, t.late, t.link.clone())).collect::<Vec<_>>(), [("home-todo-project-stage", true, format!("/projects/{id}"))]);
        let board = projects::dashboard(app.app(), &cap::<perm::ProjectsView>(&d.manager), chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("day")).await.expect("dashboard");
        let total = board.stages.last().expect("total");
        assert_eq!((total.open, total.overdue, board.registered), (10011, 1, 10010));
    }

    async fn a_failed_acceptance_holds_the_meter_install_ticket_until_its_defects_close(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let d = desk(&app, &f).await;
        customer(&app, f.unit_a, "4300001").await;
        let manage = cap::<perm::ProjectsManage>(&d.manager);
        let id = projects::register(app.app(), &manage, &meta(), hv("4300001", "2026-11-02"), None).await.expect("register");
        let p = detail(&app, &d, id).await;
        assert_eq!((p.project.stage, p.project.class.code()), (Stage::PlanReply, "hv_single"));
        assert_eq!(p.stages[0].row.limit_days, Some(15), "the brief's 方案答复 limit for high voltage, single source");

        // The reply waits for the survey; then design review waits for the customer's drawings.
        assert_eq!(rule_codes(take(&app, &d, id, ProjectStep::Reply, on("2026-11-03")).await.expect_err("no survey")), ["PROJECT_SURVEY"]);
        take(&app, &d, id, ProjectStep::Survey, on("2026-11-03")).await.expect("survey");
        assert_eq!(take(&app, &d, id, ProjectStep::Reply, on("2026-11-05")).await.expect("reply"), Stage::DesignReview);
        let early = inspect(&app, &d, id, inspection(d.first, "2026-11-06", &[], "")).await;
        assert_eq!(rule_codes(early.expect_err("no drawings yet")), ["PROJECT_SUBMISSION"]);
        for (stage, submitted, inspected) in [(Stage::DesignReview, "2026-11-06", "2026-11-09"), (Stage::MidCheck, "2026-11-12", "2026-11-13")] {
            assert_eq!(detail(&app, &d, id).await.project.stage, stage);
            take(&app, &d, id, ProjectStep::Submit, on(submitted)).await.expect("submitted");
            assert!(inspect(&app, &d, id, inspection(d.first, inspected, &[], "")).await.expect("inspect").passed);
        }

        // Completion: the first inspection finds two defects: one written notice, the project
        // waits on the customer.
        take(&app, &d, id, ProjectStep::Submit, on("2026-11-16")).await.expect("completion report");
        let failed = inspect(&app, &d, id, inspection(d.first, "2026-11-17", &[], "接地电阻 6Ω，大于 4Ω\n配电室未设挡鼠板")).await.expect("inspect");
        assert!(!failed.passed);
        let notice = failed.notice.clone().expect("a written notice");
        assert!(notice.starts_with("GZ-"), "{notice}");
        let p = detail(&app, &d, id).await;
        assert!(p.paused(), "returned to the customer");
        let defects: Vec<i64> = p.open_defects().iter().map(|x| x.id).collect();
        assert_eq!(defects.len(), 2);

        // The 装表接电 ticket on this customer: refused at 许可, naming the project and a defect.
        let t = create(&app, &c, draft(&f, "L1", &["C1"], "2026-11-26 11:00", "2026-11-26 13:00")).await;
        ok(&app, &c.cookie_issuer, t, "issue").await;
        ok(&app, &c.cookie_leader, t, "receive").await;
        app.clock.set(at_day("2026-11-26", 11));
        let c = support::tickets::sessions(&app, &f).await;
        let refused = step(&app, &c.cookie_permitter, t, serde_json::json!({"step": "permit"})).await;
        assert_eq!(refused.status, 409, "{}", refused.body);
        assert_eq!(rules(&refused), ["PROJECT_NOT_ACCEPTED", "PROJECT_DEFECTS_OPEN"]);
        assert!(refused.body.contains("接地电阻 6Ω，大于 4Ω") && refused.body.contains(&p.project.number), "{}", refused.body);
        assert!(refused.body.contains("竣工检验合格"), "names its source: {}", refused.body);

        // The printed notice lists both defects; the customer signs for it.
        let cookie = app.session_for(f.user("customer_manager")).await;
        let page = app.get_with(&format!("/projects/{id}/notices/{}", failed.inspection), &[("cookie", &cookie)]).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains(&notice) && page.body.contains("接地电阻 6Ω，大于 4Ω") && page.body.contains("配电室未设挡鼠板"), "{}", page.body);
        let shown = app.get_with(&format!("/projects/{id}"), &[("cookie", &cookie)]).await;
        assert!(shown.body.contains("data-open-defects") && shown.body.contains("data-paused"), "{}", shown.body);

        let manage = cap::<perm::ProjectsManage>(&d.manager);
        projects::sign_notice(app.app(), &manage, &meta(), id, failed.inspection, "王经理", "2026-11-18").await.expect("signed for");
        let twice = projects::sign_notice(app.app(), &manage, &meta(), id, failed.inspection, "王经理", "2026-11-18").await;
        assert!(matches!(twice, Err(AppError::Conflict("conflict-project-notice"))), "{twice:?}");

        // While waiting, no inspection; the customer reports rectification, the clock runs again.
        let waiting = inspect(&app, &d, id, inspection(d.second, "2026-11-20", &[(defects[0], true), (defects[1], true)], "")).await;
        assert_eq!(rule_codes(waiting.expect_err("paused")), ["PROJECT_PAUSED"]);
        take(&app, &d, id, ProjectStep::Resume, on("2026-11-20")).await.expect("resume");

        // A recheck answers each defect of the first list, or is refused.
        let partial = inspect(&app, &d, id, inspection(d.second, "2026-11-23", &[(defects[0], true)], "")).await;
        assert_eq!(rule_codes(partial.expect_err("one unanswered")), ["PROJECT_RECHECK"]);
        // One rectified, one not, and a new one: the new one is J1's miss.
        let again = inspect(&app, &d, id, inspection(d.second, "2026-11-23", &[(defects[0], true), (defects[1], false)], "电缆沟未封堵")).await.expect("recheck");
        assert!(!again.passed);
        assert_eq!(again.missed, 1);
        let p = detail(&app, &d, id).await;
        let missed: Vec<_> = p.defects.iter().filter(|x| x.missed.is_some()).collect();
        assert_eq!((missed.len(), missed[0].missed), (1, Some(d.first)), "首检负责制: counted against the first inspector");
        assert_eq!(p.inspections_of(Stage::Completion).iter().map(|i| i.accountable).collect::<Vec<_>>(), [d.first, d.first]);
        take(&app, &d, id, ProjectStep::Resume, on("2026-11-24")).await.expect("resume");
        let open: Vec<(i64, bool)> = p.open_defects().iter().map(|x| (x.id, true)).collect();
        let passed = inspect(&app, &d, id, inspection(d.second, "2026-11-25", &open, "")).await.expect("passed");
        assert!(passed.passed);
        assert_eq!(passed.stage, Stage::Energise);
        let p = detail(&app, &d, id).await;
        assert!(p.open_defects().is_empty() && p.project.cleared_at.is_some());

        // The gate is open: the ticket is permitted.
        ok(&app, &c.cookie_permitter, t, "permit").await;
        assert_eq!(take(&app, &d, id, ProjectStep::Energise, on("2026-11-26")).await.expect("energised"), Stage::Energised);
        let p = detail(&app, &d, id).await;
        assert_eq!(p.project.energised_on.map(|d| d.to_string()).as_deref(), Some("2026-11-26"));
        let energise = p.stages.iter().find(|s| s.row.stage == Stage::Energise).expect("stage");
        assert!(matches!(energise.timing, Timing::OnTime { .. }), "{:?}", energise.timing);

        // The dashboard counts J1's miss and the month's first inspections.
        let board = projects::dashboard(app.app(), &cap::<perm::ProjectsView>(&d.manager), chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("day")).await.expect("dashboard");
        let j1 = board.inspectors.iter().find(|m| m.inspector.starts_with("J1")).expect("J1");
        assert_eq!((j1.first_inspections, j1.missed), (3, 1));
        assert_eq!((board.first_inspections, board.first_defects, board.failed_inspections), (3, 2, 2));
        assert_eq!(board.energised, 1);
        for action in ["project.registered", "project.surveyed", "project.replied", "project.submitted", "project.inspected", "project.notice_signed", "project.resumed", "project.energised"] {
            assert!(app.audit_actions().await.contains(&action.to_owned()), "{action} in the trail");
        }
    }

    async fn limits_count_working_days_with_the_imported_calendar_and_waits_left_out(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        customer(&app, f.unit_a, "4300002").await;
        let configure = cap::<perm::ProjectsConfigure>(&d.auditor);
        // A bad row is named by file, line and column, and nothing changes.
        let bad = "日期,类型,名称\n2026-10-01,节假日,国庆节\n2026-10-02,放鞭炮,国庆节\n2025-10-10,调休上班,国庆节\n";
        let refused = projects::import_calendar(app.app(), &configure, &meta(), 2026, &[("2026.csv".into(), bad.as_bytes().to_vec())]).await.expect("read");
        let problems = refused.expect_err("two bad rows");
        assert_eq!(problems.iter().map(|p| (p.line, p.column.as_str(), p.message)).collect::<Vec<_>>(), [
            (3, "类型", "field-project-calendar-kind"),
            (4, "日期", "field-project-calendar-year"),
        ]);
        assert!(projects::calendar_days(app.app()).await.expect("days").is_empty(), "nothing written");
        let good = "日期,类型,名称\n".to_owned()
            + &(1..=7).map(|d| format!("2026-10-{d:02},节假日,国庆节\n")).collect::<String>()
            + "2026-10-10,调休上班,国庆节\n";
        let done = projects::import_calendar(app.app(), &configure, &meta(), 2026, &[("2026.csv".into(), good.into_bytes())]).await.expect("read").expect("imported");
        assert_eq!((done.holidays, done.workdays), (7, 1));

        // Accepted on Friday 25 September with a 15-day limit: 28–30 September count, the
        // holiday week does not, the 调休 Saturday does: 3 + 2 + 1 + 5 + 4 ends on Thursday 22 October.
        let manage = cap::<perm::ProjectsManage>(&d.manager);
        let id = projects::register(app.app(), &manage, &meta(), hv("4300002", "2026-09-25"), None).await.expect("register");
        let due = |p: &projects::ProjectDetail| p.stages.last().and_then(|s| s.timing.due()).map(|d| d.to_string());
        assert_eq!(due(&detail(&app, &d, id).await).as_deref(), Some("2026-10-22"));
        // A wait on the customer from Monday 12 to Friday 16 October: five working days more.
        take(&app, &d, id, ProjectStep::Pause, StepInput { on: "2026-10-12".into(), note: "客户资料不全".into(), ..StepInput::default() }).await.expect("pause");
        assert!(matches!(detail(&app, &d, id).await.stages[0].timing, Timing::Paused));
        let reasonless = take(&app, &d, id, ProjectStep::Pause, on("2026-10-12")).await;
        assert!(matches!(reasonless, Err(AppError::Invalid(ref p)) if p[0].field == "note"), "{reasonless:?}");
        take(&app, &d, id, ProjectStep::Resume, on("2026-10-19")).await.expect("resume");
        assert_eq!(due(&detail(&app, &d, id).await).as_deref(), Some("2026-10-29"));
        // Now (26 November) the reply is a month late: overdue, on the manager's home page, late.
        let p = detail(&app, &d, id).await;
        assert!(matches!(p.stages[0].timing, Timing::Overdue { .. }));
        let todo = projects::todo(app.app(), &d.manager).await.expect("todo");
        assert_eq!(todo.iter().map(|t| (t.what, t.late)).collect::<Vec<_>>(), [("home-todo-project-stage", true)]);
        let list = projects::list_projects(app.app(), &cap::<perm::ProjectsView>(&d.manager), projects::ListFilter { stage: None, overdue_only: true }).await.expect("list");
        assert_eq!(list.len(), 1);

        // A new version of the limits table applies to clocks started from its day; the running
        // stage keeps the 15 days it started with.
        let input = LimitsInput {
            valid_from: "2026-11-01".into(),
            days: vec![("plan_reply:hv_single".into(), "10".into()), ("energise:lv".into(), "0".into())],
            origin: "孝感公司压减办电时限通知".into(),
        };
        let zero = projects::set_limits(app.app(), &configure, &meta(), input.clone()).await;
        assert!(matches!(zero, Err(AppError::Invalid(ref p)) if p[0].field == "days"), "{zero:?}");
        let input = LimitsInput { days: vec![("plan_reply:hv_single".into(), "10".into())], ..input };
        assert_eq!(projects::set_limits(app.app(), &configure, &meta(), input).await.expect("version"), 1);
        let (version, rows) = projects::limits_in_force(app.app(), chrono::NaiveDate::from_ymd_opt(2026, 11, 2).expect("day")).await.expect("limits");
        let row = rows.iter().find(|l| l.stage == Stage::PlanReply && l.class.code() == "hv_single").expect("row");
        assert_eq!((version, row.days, row.origin.as_str()), (1, 10, "孝感公司压减办电时限通知"));
        assert_eq!(detail(&app, &d, id).await.stages[0].row.limit_days, Some(15));
        customer(&app, f.unit_a, "4300003").await;
        let newer = projects::register(app.app(), &manage, &meta(), hv("4300003", "2026-11-02"), None).await.expect("register");
        assert_eq!(detail(&app, &d, newer).await.stages[0].row.limit_days, Some(10));
    }

    async fn the_marketing_systems_list_is_imported_all_or_nothing(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        let cookie = app.session_for(f.user("customer_manager")).await;
        // The fixture's customer manager with the module's permissions, as the migration grants them.
        let header = "申请编号,户号,户名,用电地址,业务类型,电压等级,合同容量,电源,用户分类,受理日期,客户经理\n";
        let bad = format!("{header}SQ1,5100001,孝感新城小区,槐荫大道 8 号,高压新装,10kV,1260,双电源,非居民,2026-11-20,M1\nSQ2,5100002,刘家村,刘家村 3 组,销户,0.4kV,8,,居民,2026-11-21,M1\nSQ3,5100003,农商银行,城站路 2 号,低压新装,0.4,40,,非居民,2026-11-22,ZZ9\n");
        let unit = f.unit_a.get().to_string();
        let r = multipart_post(&app, &cookie, "/projects/import", &[("unit_id", &unit)], ("申请清单.csv", bad.as_bytes())).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains("申请清单.csv") && r.body.contains("第 3 行") && r.body.contains("业务类型"), "{}", r.body);
        assert!(r.body.contains("第 4 行") && r.body.contains("ZZ9"), "{}", r.body);
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM projects").fetch_one(app.state.db().pool()).await.expect("count");
        let customers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers WHERE account_no LIKE '51%'").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!((count, customers), (0, 0), "nothing half-written");

        let good = bad.replace(",销户,", ",低压新装,").replace(",ZZ9\n", ",M1\n");
        let r = multipart_post(&app, &cookie, "/projects/import", &[("unit_id", &unit)], ("申请清单.csv", good.as_bytes())).await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(r.header("location"), "/projects/import?registered=3&known=0");
        let again = multipart_post(&app, &cookie, "/projects/import", &[("unit_id", &unit)], ("申请清单.csv", good.as_bytes())).await;
        assert_eq!(again.header("location"), "/projects/import?registered=0&known=3", "the same list twice changes nothing");
        let list = projects::list_projects(app.app(), &cap::<perm::ProjectsView>(&d.manager), projects::ListFilter::default()).await.expect("list");
        let classes: Vec<(String, &str, bool)> = list.iter().map(|s| (s.project.account_no.clone(), s.project.class.code(), s.project.imported_from.is_some())).collect();
        assert!(classes.contains(&("5100001".into(), "hv_dual", true)), "{classes:?}");
        assert!(classes.contains(&("5100002".into(), "residential", true)), "{classes:?}");
        // The ledger is a real workbook with a row per project.
        let x = app.get_with("/projects.xlsx", &[("cookie", &cookie)]).await;
        assert_eq!(x.status, 200);
        assert!(x.header("content-type").contains("spreadsheetml"), "{}", x.header("content-type"));
    }

    async fn energising_before_acceptance_is_a_finding_of_its_own_rule(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        customer(&app, f.unit_a, "4300004").await;
        let manage = cap::<perm::ProjectsManage>(&d.manager);
        let mut input = hv("4300004", "2026-11-02");
        input.kind = "new".into();
        projects::register(app.app(), &manage, &meta(), input, None).await.expect("register");
        let pool = app.state.db().pool();
        let import: i64 = sqlx::query_scalar("INSERT INTO marketing_imports (unit_id, files, orders, events, imported_by, imported_at) VALUES ($1, 'x', 1, 1, 'test', '2026-11-20T00:00:00.000000Z') RETURNING id")
            .bind(f.unit_a.get()).fetch_one(pool).await.expect("import");
        sqlx::query("INSERT INTO marketing_orders (order_id, order_type, customer_id, org_unit, unit_id, started_at, finished_at, workers, import_id) VALUES ('WO-9', 'meter_install', '4300004', 'A', $1, '2026-11-20T01:00:00.000000Z', '2026-11-20T03:00:00.000000Z', '', $2)")
            .bind(f.unit_a.get()).bind(import).execute(pool).await.expect("order");
        sqlx::query("INSERT INTO meter_events (event_id, meter_id, customer_id, kind, occurred_at, unit_id, import_id) VALUES ('EV-9', 'M9', '4300004', 'power_up', '2026-11-20T02:00:00.000000Z', $1, $2)")
            .bind(f.unit_a.get()).bind(import).execute(pool).await.expect("event");
        let actor = support::operator().actor().clone();
        gridsafe_app::findings::run_audit(app.app(), &actor, &meta(), "test").await.expect("audit");
        let found: Vec<(String, String)> = sqlx::query_as("SELECT entity_kind, entity_id FROM findings WHERE rule = 'PROJECT_ENERGISED_EARLY' ORDER BY entity_id")
            .fetch_all(pool).await.expect("findings");
        assert_eq!(found, [("event".to_owned(), "EV-9".to_owned()), ("order".to_owned(), "WO-9".to_owned())]);
    }

    async fn fifty_replies_at_once_move_the_project_once(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        customer(&app, f.unit_a, "4300005").await;
        let manage = cap::<perm::ProjectsManage>(&d.manager);
        let id = projects::register(app.app(), &manage, &meta(), hv("4300005", "2026-11-02"), None).await.expect("register");
        take(&app, &d, id, ProjectStep::Survey, on("2026-11-03")).await.expect("survey");
        let app = std::sync::Arc::new(app);
        let manager = std::sync::Arc::new(d.manager.clone());
        let results = race(50, move |_| {
            let (app, manager) = (app.clone(), manager.clone());
            async move {
                let manage = cap::<perm::ProjectsManage>(&manager);
                projects::take_step(app.app(), &manage, &meta(), id, ProjectStep::Reply, on("2026-11-05")).await
            }
        })
        .await;
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "{results:?}");
        assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| matches!(e, AppError::Rule(v) if v.rule.code == "PROJECT_STATE")), "{results:?}");
    }

    async fn a_builder_licensed_below_the_voltage_is_refused_and_other_units_see_nothing(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        customer(&app, f.unit_a, "4300006").await;
        sqlx::query("INSERT INTO contractors (code, name, unit_id, license_no, license_level, license_valid_to, created_at, updated_at) VALUES ('CB5', '五级承装公司', $1, 'L-5', 5, '2027-12-31', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')")
            .bind(f.unit_a.get()).execute(app.state.db().pool()).await.expect("contractor");
        let manage = cap::<perm::ProjectsManage>(&d.manager);
        let mut input = hv("4300006", "2026-11-02");
        input.voltage_kv = "35".into();
        input.builder = "CB5".into();
        let refused = projects::register(app.app(), &manage, &meta(), input.clone(), None).await;
        assert_eq!(rule_codes(refused.expect_err("level 5 is 10 kV at most")), ["CONTRACTOR_LICENSE"]);
        input.voltage_kv = "10".into();
        let id = projects::register(app.app(), &manage, &meta(), input, None).await.expect("10 kV is covered");
        let path_b = gridsafe_app::identity::unit_by_id(app.app(), f.unit_b).await.expect("read").expect("unit").path;
        let other = principal(f.plain_b, "u_b", &[Permission::ProjectsView], &path_b);
        let seen = projects::project(app.app(), &cap::<perm::ProjectsView>(&other), id).await;
        assert!(matches!(seen, Err(AppError::Denied(_)) | Err(AppError::NotFound)), "{seen:?}");
        assert!(projects::list_projects(app.app(), &cap::<perm::ProjectsView>(&other), projects::ListFilter::default()).await.expect("list").is_empty());
    }

    async fn a_reason_of_500_characters_is_taken_and_one_of_501_refused(app: TestApp) {
        let f = app.fixture().await;
        let d = desk(&app, &f).await;
        customer(&app, f.unit_a, "4300007").await;
        let manage = cap::<perm::ProjectsManage>(&d.manager);
        let id = projects::register(app.app(), &manage, &meta(), hv("4300007", "2026-11-02"), None).await.expect("register");
        let wait = |n: usize| StepInput { on: "2026-11-10".into(), note: "等".repeat(n), ..StepInput::default() };
        let long = take(&app, &d, id, ProjectStep::Pause, wait(501)).await;
        assert!(matches!(long, Err(AppError::Invalid(ref p)) if p[0].field == "note"), "{long:?}");
        take(&app, &d, id, ProjectStep::Pause, wait(500)).await.expect("500 characters are taken");
        let inspection = InspectionInput { new_defects: "缺".repeat(501), ..inspection(d.first, "2026-11-10", &[], "") };
        let defect = projects::inspect(app.app(), &cap::<perm::ProjectsInspect>(&d.inspector), &meta(), id, inspection).await;
        assert!(matches!(defect, Err(AppError::Invalid(ref p)) if p[0].field == "new_defects"), "{defect:?}");
    }
}
