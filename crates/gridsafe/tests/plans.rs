//! Work plans through their use cases, on SQLite and PostgreSQL: a team leader drafts a week,
//! two teams at one site on one day hold the plan back until merged under a qualified organiser,
//! the author cannot approve his own plan, a published plan changes only with a reason (kept as
//! a change), and fifty publications at once publish it once.

mod support;

use std::sync::Arc;

use gridsafe_app::AppError;
use gridsafe_app::plans::{self, ItemInput, MergeInput, PlanInput};
use gridsafe_domain::access::{Permission, Principal, UnitPath, perm};
use gridsafe_domain::plans::{Conflict, PlanState, PlanStep};
use support::{Fixture, TestApp, cap, meta, principal, race, rule_codes};

struct Team {
    /// City A's place in the tree, where both hold their grants.
    path: UnitPath,
    author: Principal,
    manager: Principal,
    plan: i64,
}

/// A draft weekly plan of city A by its work leader, and the unit's manager. People: L1 and L2
/// (work leaders), C1 and C2 (crew), all of city A.
async fn drafted(app: &TestApp, f: &Fixture) -> Team {
    let path = gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path;
    let author =
        principal(f.user("work_leader"), "u_work_leader", &[Permission::PlansView, Permission::PlansWrite], &path);
    let manager = principal(f.user("leader"), "u_leader", &[Permission::PlansView, Permission::PlansApprove], &path);
    for (code, lists) in [("L1", &["work_leader"][..]), ("L2", &["work_leader"][..]), ("C1", &[][..]), ("C2", &[][..])]
    {
        app.person(f.unit_a, code, lists).await;
    }
    // Test time is 2026-11-26 (a Thursday); the week after starts on Monday 2026-11-30.
    let input = PlanInput { unit_id: f.unit_a, kind: "weekly".into(), first_day: "2026-11-30".into() };
    let plan = plans::create_plan(app.app(), &cap(&author), &meta(), input).await.expect("plan");
    Team { path, author, manager, plan }
}

fn item(
    site: &str,
    day: u32,
    from: &str,
    to: &str,
    team: gridsafe_domain::ids::UnitId,
    leader: &str,
    crew: &[&str],
) -> ItemInput {
    ItemInput {
        start: format!("2026-12-{day:02} {from}"),
        end: format!("2026-12-{day:02} {to}"),
        site: site.into(),
        work_kind: "meter_replacement".into(),
        team_id: team,
        leader: leader.into(),
        crew: crew.join(" "),
        ..Default::default()
    }
}

fn merge(day: &str, site: &str, organiser: &str, measures: &str) -> MergeInput {
    MergeInput { day: day.into(), site: site.into(), organiser: organiser.into(), measures: measures.into() }
}

backend_tests! {
    async fn a_plan_waiting_for_publication_stays_on_the_to_do_list_however_many_came_after(app: TestApp) {
        // A plan approved for the week of 1 June and never published, then 250 weeks of plans
        // published. The approver's to-do list read the newest 200 plans of any state: the one
        // waiting fell off it once 200 newer ones existed.
        let f = app.fixture().await;
        let t = drafted(&app, &f).await;
        let monday = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("day");
        let rows: Vec<String> = (0..=250)
            .map(|i| {
                let day = monday + chrono::Duration::weeks(i64::from(i) + 100);
                let (day, state) = if i == 0 { (monday, "approved") } else { (day, "published") };
                format!("({}, 'weekly', '{day}', '{state}', 'test', '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')", f.unit_a1.get())
            })
            .collect();
        let insert = format!(
            "INSERT INTO work_plans (unit_id, kind, first_day, state, created_by, created_at, updated_at) VALUES {}",
            rows.join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(insert)).execute(app.state.db().pool()).await.expect("plans");
        let waiting: i64 = sqlx::query_scalar("SELECT id FROM work_plans WHERE state = 'approved'")
            .fetch_one(app.state.db().pool())
            .await
            .expect("id");
        let todo = gridsafe_app::home::todo(app.app(), &t.manager).await.expect("todo");
        let plans: Vec<(&str, bool, &str)> = todo.iter().filter(|t| t.what.starts_with("home-todo-plan")).map(|t| (t.what, t.late, t.link.as_str())).collect();
        assert_eq!(plans, [("home-todo-plan-publish", true, format!("/plans/{waiting}").as_str())]);
    }

    async fn two_teams_at_one_site_hold_the_plan_until_merged_under_a_qualified_organiser(app: TestApp) {
        let f = app.fixture().await;
        let t = drafted(&app, &f).await;
        let write = cap::<perm::PlansWrite>(&t.author);
        // Two teams at 书院街 18 号 on 2 December; C1 is on both at overlapping times.
        plans::add_item(app.app(), &write, &meta(), t.plan, item("书院街 18 号", 2, "09:00", "12:00", f.unit_a, "L1", &["C1"])).await.expect("item");
        plans::add_item(app.app(), &write, &meta(), t.plan, item("书院街18号", 2, "10:00", "15:00", f.unit_a1, "L2", &["C1", "C2"])).await.expect("item");
        let d = plans::plan(app.app(), &cap::<perm::PlansView>(&t.author), t.plan).await.expect("plan");
        assert!(matches!(&d.conflicts[..], [Conflict::SharedSite { merged: false, .. }, Conflict::PersonTwice { .. }]), "{:?}", d.conflicts);
        // Both items share the site: each graded one level up (meter work 四级 → 三级), saying why.
        let grades: Vec<(u8, Vec<&str>)> = d.risks.iter().map(|g| (g.level, g.raised_by.iter().map(|c| c.code()).collect())).collect();
        assert_eq!(grades, [(3, vec!["several_teams"]), (3, vec!["several_teams"])]);

        // The author does not approve his own plan; the manager does.
        let author_approves = principal(f.user("work_leader"), "u_work_leader", &[Permission::PlansApprove], &t.path);
        let refused = plans::take_step(app.app(), &cap(&author_approves), &meta(), t.plan, PlanStep::Approve, "").await.expect_err("own plan");
        assert_eq!(rule_codes(refused), ["PLAN_APPROVER"]);
        let approve = cap::<perm::PlansApprove>(&t.manager);
        assert_eq!(plans::take_step(app.app(), &approve, &meta(), t.plan, PlanStep::Approve, "").await.expect("approved"), PlanState::Approved);
        // Not published while the shared site has no organiser.
        let refused = plans::take_step(app.app(), &approve, &meta(), t.plan, PlanStep::Publish, "").await.expect_err("not merged");
        assert_eq!(rule_codes(refused), ["PLAN_SHARED_SITE"]);

        // C1 holds no work-leader list: not an organiser; nor is a merge without measures.
        let refused = plans::merge_site(app.app(), &write, &meta(), t.plan, &merge("2026-12-02", "书院街18号", "C1", "统一验电、挂接地线")).await.expect_err("unqualified");
        assert_eq!(rule_codes(refused), ["LIST_WORK_LEADER"]);
        let refused = plans::merge_site(app.app(), &write, &meta(), t.plan, &merge("2026-12-02", "书院街18号", "L1", "  ")).await.expect_err("no measures");
        assert_eq!(rule_codes(refused), ["PLAN_SHARED_SITE"]);
        plans::merge_site(app.app(), &write, &meta(), t.plan, &merge("2026-12-02", "书院街 18号", "L1", "统一验电、挂接地线")).await.expect("merged");
        assert_eq!(plans::take_step(app.app(), &approve, &meta(), t.plan, PlanStep::Publish, "").await.expect("published"), PlanState::Published);

        // Published: frozen, unless the change says why; the change is kept.
        let late = item("车站路 3 号", 3, "09:00", "11:00", f.unit_a, "L2", &["C2"]);
        let refused = plans::add_item(app.app(), &write, &meta(), t.plan, late.clone()).await.expect_err("frozen");
        assert_eq!(rule_codes(refused), ["PLAN_FROZEN"]);
        plans::add_item(app.app(), &write, &meta(), t.plan, ItemInput { reason: "客户要求提前换表".into(), ..late }).await.expect("changed with a reason");
        let d = plans::plan(app.app(), &cap::<perm::PlansView>(&t.author), t.plan).await.expect("plan");
        assert_eq!((d.items.len(), d.changes.len(), d.changes[0].reason.as_str()), (3, 1, "客户要求提前换表"));
        let actions = app.audit_actions().await;
        for action in ["plan.created", "plan.item_added", "plan.site_merged", "plan.approved", "plan.published"] {
            assert!(actions.contains(&action.to_owned()), "{action} audited: {actions:?}");
        }
    }

    async fn items_outside_the_period_or_the_unit_and_unknown_people_are_refused(app: TestApp) {
        let f = app.fixture().await;
        let t = drafted(&app, &f).await;
        let write = cap::<perm::PlansWrite>(&t.author);
        let fields = |e: AppError| match e {
            AppError::Invalid(problems) => problems.into_iter().map(|p| p.field).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        let r = plans::add_item(app.app(), &write, &meta(), t.plan, item("甲", 7, "09:00", "10:00", f.unit_a, "L1", &[])).await;
        assert_eq!(fields(r.expect_err("next week")), ["start"]);
        let r = plans::add_item(app.app(), &write, &meta(), t.plan, item("甲", 2, "09:00", "08:00", f.unit_a, "NOBODY", &[])).await;
        assert_eq!(fields(r.expect_err("bad")), ["end", "leader"]);
        let r = plans::add_item(app.app(), &write, &meta(), t.plan, item("甲", 2, "09:00", "10:00", f.unit_b, "L1", &[])).await;
        assert_eq!(fields(r.expect_err("other city")), ["team_id"]);
        // A second weekly plan of the unit for the same week is refused.
        let again = PlanInput { unit_id: f.unit_a, kind: "weekly".into(), first_day: "2026-11-30".into() };
        assert!(matches!(plans::create_plan(app.app(), &write, &meta(), again).await, Err(AppError::Conflict(_))));
        let tuesday = PlanInput { unit_id: f.unit_a, kind: "weekly".into(), first_day: "2026-12-01".into() };
        assert_eq!(fields(plans::create_plan(app.app(), &write, &meta(), tuesday).await.expect_err("weeks start on Monday")), ["first_day"]);
    }

    async fn fifty_publications_at_once_publish_the_plan_once(app: TestApp) {
        let f = app.fixture().await;
        let t = drafted(&app, &f).await;
        let write = cap::<perm::PlansWrite>(&t.author);
        plans::add_item(app.app(), &write, &meta(), t.plan, item("甲", 2, "09:00", "12:00", f.unit_a, "L1", &["C1"])).await.expect("item");
        let approve = cap::<perm::PlansApprove>(&t.manager);
        plans::take_step(app.app(), &approve, &meta(), t.plan, PlanStep::Approve, "").await.expect("approved");
        let app = Arc::new(app);
        let manager = Arc::new(t.manager);
        let answers = race(50, |_| {
            let (app, manager) = (app.clone(), manager.clone());
            async move {
                let approve = cap::<perm::PlansApprove>(&manager);
                plans::take_step(app.app(), &approve, &meta(), t.plan, PlanStep::Publish, "").await.is_ok()
            }
        })
        .await;
        assert_eq!(answers.iter().filter(|ok| **ok).count(), 1, "exactly one publication");
        let published = app.audit_actions().await.iter().filter(|a| *a == "plan.published").count();
        assert_eq!(published, 1);
    }

    async fn a_return_and_a_publication_at_once_leave_one_of_them(app: TestApp) {
        let f = app.fixture().await;
        let t = drafted(&app, &f).await;
        let write = cap::<perm::PlansWrite>(&t.author);
        plans::add_item(app.app(), &write, &meta(), t.plan, item("甲", 2, "09:00", "12:00", f.unit_a, "L1", &["C1"])).await.expect("item");
        plans::take_step(app.app(), &cap::<perm::PlansApprove>(&t.manager), &meta(), t.plan, PlanStep::Approve, "").await.expect("approved");
        let app = Arc::new(app);
        let manager = Arc::new(t.manager);
        let answers = race(50, |n| {
            let (app, manager) = (app.clone(), manager.clone());
            async move {
                let step = if n % 2 == 0 { PlanStep::Publish } else { PlanStep::Return };
                let approve = cap::<perm::PlansApprove>(&manager);
                plans::take_step(app.app(), &approve, &meta(), t.plan, step, "退回重排").await.ok()
            }
        })
        .await;
        let won: Vec<PlanState> = answers.into_iter().flatten().collect();
        assert_eq!(won.len(), 1, "exactly one step: {won:?}");
        let now = plans::plan(app.app(), &cap::<perm::PlansView>(&t.author), t.plan).await.expect("plan").plan.state;
        assert_eq!(now, won[0], "the plan is where the one step left it");
        let steps = app.audit_actions().await.iter().filter(|a| *a == "plan.published" || *a == "plan.returned").count();
        assert_eq!(steps, 1);
    }

    async fn a_spreadsheet_of_items_is_imported_whole_or_not_at_all(app: TestApp) {
        let f = app.fixture().await;
        let t = drafted(&app, &f).await;
        let write = cap::<perm::PlansWrite>(&t.author);
        let header = "开始时间,结束时间,作业地点,作业类型,班组,工作负责人,工作班成员,是否停电,备注\n";
        // Every problem of every row, by file, line and column: nothing is written.
        let bad = format!(
            "{header}2026-12-01 09:00,2026-12-01 12:00,书院街 18 号,换表,XG,L1,C1,否,\n\
             明天上午,2026-12-01 12:00,槐荫大道,更换电能表,XG,L9,C1,是,\n\
             2026-12-09 09:00,2026-12-09 11:00,车站路,meter_install,武汉供电公司,L2,,否,\n"
        );
        let refused = plans::import_items(app.app(), &write, &meta(), t.plan, &[("周计划.csv".into(), bad.into_bytes())], "")
            .await
            .expect("read")
            .expect_err("problems");
        let named: Vec<(usize, String, &str)> = refused.iter().map(|p| (p.line, p.column.clone(), p.message)).collect();
        assert_eq!(named, [
            (3, "开始时间".to_owned(), "field-datetime"),
            (3, "作业类型".to_owned(), "field-order-type"),
            (3, "工作负责人".to_owned(), "field-person-code"),
            (4, "班组".to_owned(), "field-unit"),
            (4, "开始时间".to_owned(), "field-plan-period"),
        ]);
        assert!(refused.iter().all(|p| p.file == "周计划.csv"));
        let d = plans::plan(app.app(), &cap::<perm::PlansView>(&t.author), t.plan).await.expect("plan");
        assert!(d.items.is_empty(), "nothing half-written");

        // A real workbook, Chinese headers: both rows are added, with their people and outage.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let rows = [
            ["开始时间", "结束时间", "作业地点", "作业类型", "班组", "工作负责人", "工作班成员", "是否停电", "备注"],
            ["2026-12-01 09:00", "2026-12-01 12:00", "书院街 18 号", "换表", "XG", "L1", "C1", "是", "停电换表"],
            ["2026-12-02 14:00", "2026-12-02 16:00", "槐荫大道 66 号", "meter_install", "孝南供电中心", "L2", "C2", "否", ""],
        ];
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, *v).expect("cell");
            }
        }
        let bytes = book.save_to_buffer().expect("xlsx");
        let n = plans::import_items(app.app(), &write, &meta(), t.plan, &[("周计划.xlsx".into(), bytes.clone())], "")
            .await
            .expect("read")
            .expect("imported");
        assert_eq!(n, 2);
        let d = plans::plan(app.app(), &cap::<perm::PlansView>(&t.author), t.plan).await.expect("plan");
        assert_eq!(d.items.len(), 2);
        assert!(d.items[0].outage && d.items[0].names.len() == 2 && d.items[0].team_name == "孝感供电公司", "{:?}", d.items[0]);
        assert_eq!(d.items[1].team_name, "孝南供电中心");
        assert!(app.audit_actions().await.iter().any(|a| a == "plan.items_imported"));

        // A published plan takes an import only with the reason, each item a change.
        let approve = cap::<perm::PlansApprove>(&t.manager);
        plans::take_step(app.app(), &approve, &meta(), t.plan, PlanStep::Approve, "").await.expect("approve");
        plans::take_step(app.app(), &approve, &meta(), t.plan, PlanStep::Publish, "").await.expect("publish");
        let frozen = plans::import_items(app.app(), &write, &meta(), t.plan, &[("周计划.xlsx".into(), bytes.clone())], "").await;
        assert_eq!(rule_codes(frozen.expect_err("frozen")), ["PLAN_FROZEN"]);
        let n = plans::import_items(app.app(), &write, &meta(), t.plan, &[("周计划.xlsx".into(), bytes)], "客户要求增加作业")
            .await
            .expect("read")
            .expect("imported");
        assert_eq!(n, 2);
        let d = plans::plan(app.app(), &cap::<perm::PlansView>(&t.author), t.plan).await.expect("plan");
        assert_eq!(d.changes.len(), 2);
    }
}
