//! A person's home page is their to-do list: rectification assigned to them (a person of the
//! register, not typed words), their own qualifications running out, executed tickets to
//! evaluate, findings to review, locked accounts; late ones first and marked. And the person
//! picker, which finds people by 工号, name or pinyin initials and says whether they may act.

mod support;

use support::tickets::{create, crew, draft, ok, step};

/// The `<li>` of the home page's to-do list whose text has `needle`, if any.
fn todo_line<'a>(home: &'a str, needle: &str) -> Option<&'a str> {
    home.split("<li")
        .filter(|li| li.contains("data-todo="))
        .find(|li| li.contains(needle))
        .map(|li| li.split("</li>").next().unwrap_or(li))
}

backend_tests! {
    async fn rectification_is_a_persons_and_waits_on_his_home_page_until_closed(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        sqlx::query("UPDATE people SET name = '张伟' WHERE code = 'L1'").execute(app.state.db().pool()).await.expect("name");
        let inspector = app.session_for(f.user("inspector")).await;
        let r = app.post_form("/hazards", &format!("unit_id={}&title=%E8%A1%A8%E7%AE%B1%E9%97%A8%E9%94%81&grade=general&responsibility=grid", f.unit_a), &[("cookie", &inspector)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let hazard: i64 = r.header("location").trim_start_matches("/hazards/").parse().expect("id");
        let steps = format!("/hazards/{hazard}/steps");
        // Words are not a person; the 工号 the picker fills in is.
        let typed = app.post_form(&steps, "step=plan&owner=%E8%A3%85%E8%A1%A8%E7%8F%AD&tasks=t&deadline=2026-11-28", &[("cookie", &inspector)]).await;
        assert_eq!(typed.status, 422, "{}", typed.body);
        assert!(typed.body.contains("“装表班”不在名册中"), "{}", typed.body);
        let planned = app.post_form(&steps, "step=plan&owner=L1&tasks=%E6%8D%A2%E9%94%81&deadline=2026-11-28", &[("cookie", &inspector)]).await;
        assert_eq!(planned.status, 303, "{}", planned.body);
        let page = app.get_with(&format!("/hazards/{hazard}"), &[("cookie", &c.cookie_leader)]).await;
        assert_eq!(page.status, 200, "the work leader reads what is assigned to him");
        assert!(page.body.contains("L1 张伟"), "the owner by 工号 and name");

        let home = app.get_with("/", &[("cookie", &c.cookie_leader)]).await.body;
        let line = todo_line(&home, "表箱门锁").unwrap_or_else(|| panic!("assigned rectification on the leader's home page: {home}"));
        assert!(line.contains("整改任务（您是责任人）") && line.contains("2026-11-28") && !line.contains("data-late"), "{line}");
        let other = app.get_with("/", &[("cookie", &c.cookie_issuer)]).await.body;
        assert!(todo_line(&other, "表箱门锁").is_none(), "nobody else's");

        // Past its deadline it is late, and first.
        app.clock.advance(chrono::Duration::days(3));
        let leader = app.session_for(f.user("work_leader")).await;
        let home = app.get_with("/", &[("cookie", &leader)]).await.body;
        let line = todo_line(&home, "表箱门锁").expect("still listed");
        assert!(line.contains("data-late"), "late: {line}");
        let first = home.split("<li").find(|li| li.contains("data-todo=")).expect("a to-do");
        assert!(first.contains("data-late"), "late ones first: {first}");

        // Rectified, reviewed and closed: gone.
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let inspector = app.session_for(f.user("inspector")).await;
        for s in ["rectify", "submit_for_review"] {
            assert_eq!(app.post_form(&steps, &format!("step={s}"), &[("cookie", &inspector)]).await.status, 303, "{s}");
        }
        let r = app.post_form(&steps, "step=review&passed=1&evidence=%E5%B7%B2%E6%8D%A2%E9%94%81", &[("cookie", &auditor)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let home = app.get_with("/", &[("cookie", &leader)]).await.body;
        assert!(todo_line(&home, "表箱门锁").is_none(), "closed: off the list");
    }

    async fn the_picker_finds_people_by_code_name_or_pinyin_initials_and_says_who_may_act(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        sqlx::query("UPDATE people SET name = '张伟' WHERE code = 'L1'").execute(app.state.db().pool()).await.expect("name");
        sqlx::query("UPDATE people SET name = '赵文' WHERE code = 'C1'").execute(app.state.db().pool()).await.expect("name");
        let pick = |q: &str| {
            let path = format!("/people/pick?q={}&role=work_leader", support::urlencode(q));
            let cookie = c.cookie_issuer.clone();
            let app = &app;
            async move { app.get_with(&path, &[("cookie", &cookie)]).await.json() }
        };
        let by_initials = pick("zw").await;
        let values: Vec<&str> = by_initials.as_array().expect("list").iter().filter_map(|p| p["value"].as_str()).collect();
        assert_eq!(values, ["C1", "L1"], "赵文 and 张伟 both start zw: {by_initials}");
        let l1 = by_initials.as_array().and_then(|a| a.iter().find(|p| p["value"] == "L1")).expect("L1");
        assert_eq!(l1["may_act"], true, "{l1}");
        assert!(l1["label"].as_str().is_some_and(|l| l.contains("张伟") && l.contains("今日可担任工作负责人")), "{l1}");
        let c1 = by_initials.as_array().and_then(|a| a.iter().find(|p| p["value"] == "C1")).expect("C1");
        assert_eq!(c1["may_act"], false, "C1 holds no work leader qualification: {c1}");
        assert!(c1["label"].as_str().is_some_and(|l| l.contains('✗')), "says why not: {c1}");
        assert_eq!(pick("张").await.as_array().map(Vec::len), Some(1), "by name");
        assert_eq!(pick("W1").await[0]["value"], "W1", "by 工号");
        assert_eq!(pick("").await.as_array().map(Vec::len), Some(0));
        // Only people in reach: city B's reader finds none of city A's.
        let outsider = app.user("reader_b", f.unit_b, &[("leader", f.unit_b)]).await;
        let cookie = app.session_for(outsider).await;
        let far = app.get_with("/people/pick?q=zw", &[("cookie", &cookie)]).await.json();
        assert_eq!(far.as_array().map(Vec::len), Some(0), "{far}");
    }

    async fn reviews_and_own_expiries_wait_on_the_home_pages_of_those_concerned(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        // An executed ticket waits for the safety auditor's evaluation.
        let id = create(&app, &c, draft(&f, "L1", &["C1"], "2026-11-26 09:00", "2026-11-26 17:00")).await;
        for (cookie, s) in [(&c.cookie_issuer, "issue"), (&c.cookie_leader, "receive"), (&c.cookie_permitter, "permit"),
            (&c.cookie_crew, "acknowledge"), (&c.cookie_leader, "start"), (&c.cookie_leader, "end_work")] {
            ok(&app, cookie, id, s).await;
        }
        let closed = step(&app, &c.cookie_permitter, id, serde_json::json!({"step": "close", "measures_restored": true})).await;
        assert_eq!(closed.status, 200, "{}", closed.body);
        let number = closed.json()["number"].as_str().expect("number").to_owned();
        let home = app.get_with("/", &[("cookie", &c.cookie_auditor)]).await.body;
        let line = todo_line(&home, &number).unwrap_or_else(|| panic!("the ticket to evaluate: {home}"));
        assert!(line.contains("已执行工作票待评价") && line.contains("#evaluation"), "{line}");

        // Open cross-audit findings wait for review.
        sqlx::query(
            "INSERT INTO findings (rule, entity_kind, entity_id, subject, detail, unit_id, month, state, first_seen_at, last_seen_at) \
             VALUES ('NO_TICKET', 'order', 'WO-77', '', '换表工单无票作业', $1, '2026-11', 'open', '2026-11-26T00:00:00.000000Z', '2026-11-26T00:00:00.000000Z')",
        ).bind(f.unit_a.get()).execute(app.state.db().pool()).await.expect("finding");
        let home = app.get_with("/", &[("cookie", &c.cookie_auditor)]).await.body;
        let line = todo_line(&home, "待复核的倒查疑点").unwrap_or_else(|| panic!("findings to review: {home}"));
        assert!(line.contains("· 1"), "{line}");

        // A leader sees his units' month: the executed ticket, the open finding, and (a graded
        // ticket having started: the attendance sum, which PostgreSQL once answered as NUMERIC)
        // managers on site.
        let home = app.get_with("/", &[("cookie", &c.cookie_manager)]).await.body;
        assert!(home.contains("本月本单位指标"), "{home}");
        assert!(home.contains("data-kpi=\"home-kpi-executed\">1<"), "{home}");
        assert!(home.contains("data-kpi=\"home-kpi-findings-open\">1<"), "{home}");
        assert!(home.contains("data-kpi=\"home-kpi-violations\">0 / 0<"), "{home}");
        assert!(home.contains("data-kpi=\"home-kpi-attendance\">1 / 1<"), "the started ticket counted: {home}");
        let crew_home = app.get_with("/", &[("cookie", &c.cookie_crew)]).await.body;
        assert!(!crew_home.contains("id=\"kpis\""), "a leader's card only");

        // A locked account waits for the security administrator.
        for _ in 0..5 {
            app.login("plain_a1", "wrong-Password-1").await;
        }
        let security = app.session_for(f.user("security_admin")).await;
        let home = app.get_with("/", &[("cookie", &security)]).await.body;
        assert!(todo_line(&home, "plain_a1").is_some_and(|l| l.contains("账号已锁定")), "{home}");

        // His own qualifications running out: the fixture's end 2026-12-31, within the 30 days'
        // warning from 2026-12-06 on.
        let crew_cookie = app.session_for(f.user("crew_member")).await;
        let home = app.get_with("/", &[("cookie", &crew_cookie)]).await.body;
        assert!(todo_line(&home, "本人资格到期").is_none(), "35 days ahead: not yet");
        app.clock.advance(chrono::Duration::days(10));
        let crew_cookie = app.session_for(f.user("crew_member")).await;
        let home = app.get_with("/", &[("cookie", &crew_cookie)]).await.body;
        let line = todo_line(&home, "本人资格到期").unwrap_or_else(|| panic!("own expiry: {home}"));
        assert!(line.contains("安规考试") && line.contains("2026-12-31") && !line.contains("data-late"), "{line}");
    }
}
