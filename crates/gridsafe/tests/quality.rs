//! Quality indicators and the monthly supervision report through their use cases, on SQLite and
//! PostgreSQL: every default indicator on hand-made records, the demo's report against the pages
//! it draws from, an issued report frozen against later changes and verified against the audit
//! trail (and caught when tampered with), reissue with a reason, the monthly job and the to-do,
//! formulas refused with where they are wrong, and 50 racing issues of which one wins.

mod support;

use std::collections::BTreeMap;

use gridsafe_app::AppError;
use gridsafe_app::quality;
use gridsafe_domain::access::{Permission, perm};
use gridsafe_domain::ids::UnitId;
use gridsafe_domain::quality::Month;
use gridsafe_domain::time::Timestamp;
use gridsafe_store::demo::{HistoryTicket, history_hazard, history_ticket};
use support::{cap, meta, operator, principal};

fn local(text: &str) -> Timestamp {
    Timestamp::from_local(chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("time"))
}

fn day(text: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("day")
}

async fn ticket(app: &support::TestApp, number: &str, unit: UnitId, finished: &str, verdict: Option<&str>) {
    let mut tx = app.app().db().begin_write().await.expect("tx");
    let t = HistoryTicket {
        number,
        type_code: "low_voltage",
        unit,
        work_kind: "meter_replacement",
        location: "测试现场",
        finished_at: local(finished),
        verdict,
        by: "test",
    };
    history_ticket(&mut tx, &t).await.expect("ticket");
    tx.commit().await.expect("commit");
}

async fn exec(app: &support::TestApp, sql: &str, binds: &[&str]) {
    let q = binds.iter().fold(sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())), |q, b| q.bind(*b));
    q.execute(app.state.db().pool()).await.expect(sql);
}

fn value(r: &quality::Report, code: &str) -> Option<f64> {
    r.lines.iter().find(|l| l.code == code).unwrap_or_else(|| panic!("{code}")).figure.value
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    }
}

backend_tests! {
    async fn every_default_indicator_on_hand_made_records(app: TestApp) {
        let f = app.fixture().await;
        let (a, a1, b) = (f.unit_a, f.unit_a1, f.unit_b);
        // Tickets ended in October in the county: two good, one failed, one not evaluated; one in
        // September, one in another city.
        ticket(&app, "T-1", a1, "2026-10-03 15:00", Some("pass")).await;
        ticket(&app, "T-2", a1, "2026-10-31 23:30", Some("pass")).await;
        ticket(&app, "T-3", a1, "2026-10-15 10:00", Some("fail")).await;
        ticket(&app, "T-4", a1, "2026-10-01 00:10", None).await;
        ticket(&app, "T-5", a1, "2026-09-30 23:50", Some("pass")).await;
        ticket(&app, "T-6", b, "2026-10-10 10:00", Some("fail")).await;
        // Eight field orders and two meter readings started in October.
        exec(&app, "INSERT INTO marketing_imports (unit_id, files, orders, events, imported_by, imported_at) VALUES (CAST($1 AS BIGINT), 'x.csv', 10, 0, 't', $2)",
            &[&a1.get().to_string(), &local("2026-10-31 20:00").to_db()]).await;
        for n in 0..10 {
            let kind = if n < 8 { "meter_replacement" } else { "meter_reading" };
            let at = local(&format!("2026-10-{:02} 09:00", n + 1)).to_db();
            exec(&app, "INSERT INTO marketing_orders (order_id, order_type, customer_id, org_unit, unit_id, started_at, finished_at, workers, import_id) \
                VALUES ($1, $2, 'C1', '孝南', CAST($3 AS BIGINT), $4, $4, 'W1;W2', (SELECT MAX(id) FROM marketing_imports))",
                &[&format!("WO-{n}"), kind, &a1.get().to_string(), &at]).await;
        }
        // Findings of October: ticketless twice (one confirmed), single-person once (confirmed),
        // one dismissed that never counts.
        let now = local("2026-11-01 02:00").to_db();
        for (n, (rule, state)) in [("NO_TICKET", "open"), ("NO_TICKET", "confirmed"), ("SINGLE_PERSON_ORDER", "confirmed"), ("NO_SAFETY_EXAM", "dismissed")].iter().enumerate() {
            exec(&app, "INSERT INTO findings (rule, entity_kind, entity_id, subject, detail, unit_id, month, state, first_seen_at, last_seen_at) \
                VALUES ($1, 'order', $2, '', 'd', CAST($3 AS BIGINT), '2026-10', $4, $5, $5)",
                &[rule, &format!("WO-{n}"), &a1.get().to_string(), state, &now]).await;
        }
        // The confirmed ticketless work's hazard is closed (rectified); its deadline is November's.
        exec(&app, "INSERT INTO hazards (number, unit_id, title, description, grade, responsibility, state, deadline, escalation, created_by, created_at, closed_at, source_kind, source_id) \
            VALUES ('YH-F1', CAST($1 AS BIGINT), 't', 'd', 'general', 'grid', 'closed', '2026-11-20', 0, 't', $2, $2, 'finding', (SELECT id FROM findings WHERE entity_id = 'WO-1'))",
            &[&a1.get().to_string(), &now]).await;
        // Hazards due in October: one closed two days early, one a week late.
        let mut tx = app.app().db().begin_write().await.expect("tx");
        history_hazard(&mut tx, "YH-1", a1, "门锁", day("2026-10-10"), day("2026-10-08"), "t").await.expect("hazard");
        history_hazard(&mut tx, "YH-2", a1, "端子", day("2026-10-20"), day("2026-10-27"), "t").await.expect("hazard");
        tx.commit().await.expect("commit");
        // A work-leader qualification ran out on 15 October unrenewed; another was renewed.
        let p1 = app.person(a1, "P1", &[]).await;
        let p2 = app.person(a1, "P2", &[]).await;
        for (person, to) in [(p1, "2026-10-15"), (p2, "2026-10-20"), (p2, "2027-10-20")] {
            exec(&app, "INSERT INTO qualifications (person_id, kind, valid_from, valid_to, passed, created_at) VALUES (CAST($1 AS BIGINT), 'work_leader', '2025-01-01', $2, 1, $3)",
                &[&person.get().to_string(), to, &now]).await;
        }
        // Violations: a serious and a general one in October, a grave one in September.
        for (n, severity, at) in [(1, "serious", "2026-10-05 10:00"), (2, "general", "2026-10-20 10:00"), (3, "grave", "2026-09-20 10:00")] {
            exec(&app, "INSERT INTO violations (number, unit_id, offender_kind, occurred_at, place, class, severity, points, rule_broken, description, recorded_by, recorded_at) \
                VALUES ($1, CAST($2 AS BIGINT), 'team', $3, 'P', 'behaviour', $4, 3, 'R', 'D', 't', $3)",
                &[&format!("WZ-{n}"), &a1.get().to_string(), &local(at).to_db(), severity]).await;
        }
        // Work started in October: T-1 with the manager its grade required on site, T-3 without.
        for (number, attended) in [("T-1", "1"), ("T-3", "0")] {
            exec(&app, "UPDATE tickets SET start_grade = 3, start_attended = CAST($1 AS BIGINT) WHERE number = $2", &[attended, number]).await;
            exec(&app, "INSERT INTO ticket_steps (ticket_id, step, from_state, to_state, channel, at) \
                VALUES ((SELECT id FROM tickets WHERE number = $1), 'start', 'permitted', 'started', 'web', $2)",
                &[number, &local("2026-10-02 09:00").to_db()]).await;
        }
        // An account flagged dormant in October.
        exec(&app, "UPDATE users SET dormant_flagged_at = $1 WHERE id = CAST($2 AS BIGINT)", &[&local("2026-10-05 03:00").to_db(), &f.plain_a1.to_string()]).await;
        // Two faults started in October: one restored after 90 minutes, one still open.
        let record = operator().authorize::<perm::FaultsRecord>().expect("op");
        for (start, end) in [("2026-10-09 08:00", "2026-10-09 09:30"), ("2026-10-30 22:00", "")] {
            let input = gridsafe_app::faults::FaultInput {
                unit_id: a1,
                system: "营销业务应用".into(),
                started_at: start.into(),
                ended_at: end.into(),
                customers_affected: "0".into(),
                orders_affected: "0".into(),
                cause: "network".into(),
                root_cause: "专线中断".into(),
                countermeasure: "备用链路".into(),
                ..Default::default()
            };
            gridsafe_app::faults::record_fault(app.app(), &record, &meta(), input).await.expect("fault");
        }

        let path = gridsafe_app::identity::unit_by_id(app.app(), a).await.expect("read").expect("unit").path;
        let auditor = principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::QualityView, Permission::QualityWrite], &path);
        let view = cap::<perm::QualityView>(&auditor);
        let october = Month::read("2026-10").expect("month");
        let m = quality::measures(app.app(), &view, a, october).await.expect("measures");
        let expected: BTreeMap<&str, i64> = [
            ("tickets_executed", 4), ("tickets_evaluated", 3), ("tickets_passed", 2),
            ("field_orders", 8), ("findings_total", 3), ("findings_no_ticket", 2), ("findings_single_person", 1),
            ("findings_confirmed", 2), ("findings_rectified", 1), ("hazards_due", 2), ("hazards_closed_on_time", 1),
            ("qualifications_expired", 1), ("accounts_dormant", 1), ("faults", 2), ("faults_restored", 1),
            ("fault_restore_minutes", 90), ("faults_human", 0), ("drills_held", 0), ("inspections_done", 0),
            ("violations", 2), ("violations_serious", 1), ("starts", 2), ("starts_unattended", 1),
        ]
        .into_iter()
        .collect();
        for (k, v) in &expected {
            assert_eq!(m.get(k), *v, "{k}: {m:?}");
        }
        // Months are China time: T-4 (00:10 on 1 October, still 30 September in UTC) and T-2
        // (23:30 on 31 October) are October's; T-5 (23:50 on 30 September) is not.
        let r = quality::build(app.app(), &view, a, october, BTreeMap::new()).await.expect("report");
        let want: [(&str, Option<f64>); 17] = [
            ("ticket_pass_rate", Some(50.0)),
            ("ticket_evaluation_coverage", Some(75.0)),
            ("no_ticket_per_1000", Some(250.0)),
            ("single_person_per_1000", Some(125.0)),
            ("findings_confirmed_rate", Some(200.0 / 3.0)),
            ("findings_rectified_rate", Some(50.0)),
            ("inspections_on_time_rate", None),
            ("hazards_on_time_rate", Some(50.0)),
            ("qualifications_expired", Some(1.0)),
            ("accounts_dormant", Some(1.0)),
            ("faults", Some(2.0)),
            ("fault_restore_minutes", Some(90.0)),
            ("project_on_time_rate", None),
            ("drills_held", Some(0.0)),
            ("violations", Some(2.0)),
            ("violations_serious", Some(1.0)),
            ("starts_unattended", Some(1.0)),
        ];
        for (code, v) in want {
            assert!(close(value(&r, code), v), "{code}: {:?} against {v:?}", value(&r, code));
        }
        let pass = r.lines.iter().find(|l| l.code == "ticket_pass_rate").expect("line");
        assert_eq!(pass.figure.last_month, Some(100.0), "September: T-5 alone");
        assert_eq!(pass.figure.met, Some(false));
        assert_eq!(pass.trend.len(), 13);
        // The city's one county is ranked; the other city is nowhere.
        assert_eq!(r.ranking.iter().map(|u| u.unit_id).collect::<Vec<_>>(), vec![a1.get()]);
        assert_eq!(r.findings.len(), 3, "dismissed findings are not listed");
        assert_eq!(r.findings[0].rule, "NO_TICKET");
        assert_eq!(r.faults.len(), 2);
        // The other city's auditor may not read this one's figures.
        let b_path = gridsafe_app::identity::unit_by_id(app.app(), b).await.expect("read").expect("unit").path;
        let other = principal(f.plain_b, "plain_b", &[Permission::QualityView], &b_path);
        let denied = quality::measures(app.app(), &cap::<perm::QualityView>(&other), a, october).await;
        assert!(matches!(denied, Err(AppError::Denied(_))), "{denied:?}");
    }

    async fn the_demo_report_shows_what_the_pages_it_draws_from_show(app: TestApp) {
        gridsafe_app::demo::fill(app.app(), &meta()).await.expect("demo").expect("filled");
        let op = operator();
        let city = gridsafe_app::identity::unit_by_code(app.app(), "XG").await.expect("read").expect("city");
        let october = Month::read("2026-10").expect("month");
        let view = op.authorize::<perm::QualityView>().expect("op");
        // The city's report for last month: issued, reissued with its reason, the first replaced.
        let rows: Vec<_> = quality::reports(app.app(), &view).await.expect("reports").into_iter().filter(|r| r.unit_id == city.id && r.month == "2026-10").collect();
        assert_eq!(rows.iter().map(|r| (r.version, r.state.as_str())).collect::<Vec<_>>(), vec![(2, "issued"), (1, "replaced")]);
        assert!(rows[0].reason.as_deref().is_some_and(|r| r.contains("补录")));
        let issued = quality::report(app.app(), &view, rows[0].id).await.expect("report").report;
        assert!(quality::verify(app.app(), &view, rows[0].id).await.expect("verify").intact());
        assert!(quality::verify(app.app(), &view, rows[1].id).await.expect("verify").intact(), "the replaced version is kept, intact");
        assert_eq!(issued.texts.len(), 5, "a text per section");
        // 合格率 and 评价覆盖率 as the tickets' monthly statistics page shows them for the city.
        let tickets = op.authorize::<perm::TicketsView>().expect("op");
        let stats = gridsafe_app::tickets::month_stats(app.app(), &tickets, october.first_day()).await.expect("stats");
        let mut executed = 0;
        let mut passed = 0;
        let mut evaluated = 0;
        for u in stats.iter().filter(|u| !u.is_total()) {
            let path = gridsafe_app::identity::unit_by_id(app.app(), u.unit_id).await.expect("read").expect("unit").path;
            if path.is_within(&city.path) {
                executed += u.stats.executed;
                passed += u.stats.passed;
                evaluated += u.stats.passed + u.stats.failed;
            }
        }
        assert!(executed > 40, "a month of history: {executed}");
        assert!(close(value(&issued, "ticket_pass_rate"), Some(passed as f64 * 100.0 / executed as f64)));
        assert!(close(value(&issued, "ticket_evaluation_coverage"), Some(evaluated as f64 * 100.0 / executed as f64)));
        // Each county's 合格率 in the ranking is the page's per-unit figure.
        for u in stats.iter().filter(|u| !u.is_total() && issued.ranking.iter().any(|r| r.unit_id == u.unit_id.get())) {
            let ranked = issued.ranking.iter().find(|r| r.unit_id == u.unit_id.get()).expect("ranked");
            assert!(close(ranked.headline, u.pass_rate), "{}: {:?} against {:?}", u.unit_name, ranked.headline, u.pass_rate);
        }
        // The faults of October as the fault database lists them.
        let faults = gridsafe_app::faults::list_faults(app.app(), &op.authorize::<perm::FaultsView>().expect("op"), None, None).await.expect("faults");
        let oct: Vec<_> = faults.iter().filter(|f| Month::of(f.fault.started_at.local_date()) == october).collect();
        assert!(close(value(&issued, "faults"), Some(oct.len() as f64)));
        let restored: Vec<i64> = oct.iter().filter_map(|f| f.minutes_to_restore).collect();
        let mean = (!restored.is_empty()).then(|| restored.iter().sum::<i64>() as f64 / restored.len() as f64);
        assert!(close(value(&issued, "fault_restore_minutes"), mean));
        assert_eq!(issued.faults.len(), oct.len());
        // Findings of October as the cross-audit's monthly counts show them.
        let kpis = gridsafe_app::findings::kpis(app.app(), &op.authorize::<perm::FindingsView>().expect("op"), 2).await.expect("kpis");
        let no_ticket: u64 = kpis.iter().filter(|k| k.month == "2026-10").map(|k| k.count("NO_TICKET")).sum();
        let m = quality::measures(app.app(), &view, city.id, october).await.expect("measures");
        assert_eq!(m.get("findings_no_ticket"), i64::try_from(no_ticket).expect("count"));
        // Project stages on time as the projects' dashboard shows them.
        let dash = gridsafe_app::projects::dashboard(app.app(), &op.authorize::<perm::ProjectsView>().expect("op"), october.first_day()).await.expect("dashboard");
        let total = dash.stages.last().expect("total");
        assert!(close(value(&issued, "project_on_time_rate"), total.on_time_rate()));
        // Twelve months of history: the trend of the 合格率 has a figure in every month.
        let pass = issued.lines.iter().find(|l| l.code == "ticket_pass_rate").expect("line");
        assert!(pass.trend.iter().all(Option::is_some), "{:?}", pass.trend);
        assert!(pass.figure.last_year.is_some());
        // The safety auditor's to-do holds the county report still a draft.
        let safety = gridsafe_store::identity::account_by_username(&mut app.app().db().read().await.expect("conn"), "demo.safety").await.expect("read").expect("account");
        let grants = gridsafe_store::identity::grants(&mut app.app().db().read().await.expect("conn"), safety.id).await.expect("grants");
        let who = gridsafe_domain::access::Principal::new(gridsafe_domain::access::Actor { user_id: Some(safety.id), name: safety.username, channel: gridsafe_domain::access::Channel::Web }, grants);
        let todo = gridsafe_app::home::todo(app.app(), &who).await.expect("todo");
        // Due by the tenth of November; on the 26th it is late, and stays on the list until issued.
        assert!(todo.iter().any(|t| t.what == "home-todo-quality-report" && t.subject.contains("汉川") && t.due == "2026-11-10" && t.late), "{todo:?}");
    }

    async fn an_issued_report_is_frozen_verified_and_reissued_only_with_a_reason(app: TestApp) {
        let f = app.fixture().await;
        ticket(&app, "T-1", f.unit_a1, "2026-10-03 15:00", Some("pass")).await;
        let path = gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path;
        let auditor = principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::QualityView, Permission::QualityWrite], &path);
        let write = cap::<perm::QualityWrite>(&auditor);
        let view = cap::<perm::QualityView>(&auditor);
        // Not a month that has not begun; the same report when asked twice.
        assert!(matches!(quality::create(app.app(), &write, &meta(), f.unit_a, "2026-12").await, Err(AppError::Invalid(_))));
        let id = quality::create(app.app(), &write, &meta(), f.unit_a, "2026-10").await.expect("create");
        assert_eq!(quality::create(app.app(), &write, &meta(), f.unit_a, "2026-10").await.expect("again"), id);
        // This month's report cannot be issued before the month is over.
        let november = quality::create(app.app(), &write, &meta(), f.unit_a, "2026-11").await.expect("create");
        let early = quality::issue(app.app(), &write, &meta(), november).await;
        assert!(matches!(early, Err(AppError::Invalid(ref p)) if p[0].message == "quality-month-not-over"), "{early:?}");
        let long = BTreeMap::from([("overview".to_owned(), "字".repeat(2001))]);
        assert!(matches!(quality::save_texts(app.app(), &write, &meta(), id, &long).await, Err(AppError::Invalid(_))));
        let texts = BTreeMap::from([("overview".to_owned(), "字".repeat(2000)), ("faults".to_owned(), "无故障".to_owned())]);
        quality::save_texts(app.app(), &write, &meta(), id, &texts).await.expect("texts");
        let hash = quality::issue(app.app(), &write, &meta(), id).await.expect("issue");
        let frozen = quality::report(app.app(), &view, id).await.expect("report");
        assert_eq!(frozen.row.hash.as_deref(), Some(hash.as_str()));
        assert_eq!(value(&frozen.report, "ticket_pass_rate"), Some(100.0));
        // Later changes to October's records do not alter the issued report.
        ticket(&app, "T-2", f.unit_a1, "2026-10-20 15:00", Some("fail")).await;
        let after = quality::report(app.app(), &view, id).await.expect("report");
        assert_eq!(after.report, frozen.report);
        assert!(quality::verify(app.app(), &view, id).await.expect("verify").intact());
        let live = quality::build(app.app(), &view, f.unit_a, Month::read("2026-10").expect("m"), BTreeMap::new()).await.expect("live");
        assert_eq!(value(&live, "ticket_pass_rate"), Some(50.0), "the records did change");
        // Issued means issued: no more texts, no second issue.
        assert!(matches!(quality::save_texts(app.app(), &write, &meta(), id, &texts).await, Err(AppError::Conflict(_))));
        assert!(matches!(quality::issue(app.app(), &write, &meta(), id).await, Err(AppError::Conflict(_))));
        // A reissue needs its reason; the issued version stays in force until the new one is issued.
        assert!(matches!(quality::reissue(app.app(), &write, &meta(), id, "  ").await, Err(AppError::Invalid(_))));
        let second = quality::reissue(app.app(), &write, &meta(), id, "补录 T-2 的评价").await.expect("reissue");
        assert!(matches!(quality::reissue(app.app(), &write, &meta(), id, "再来").await, Err(AppError::Conflict(_))), "a newer version is open");
        assert_eq!(quality::report(app.app(), &view, id).await.expect("report").row.state, "issued");
        let hash2 = quality::issue(app.app(), &write, &meta(), second).await.expect("issue");
        assert_ne!(hash, hash2);
        let v2 = quality::report(app.app(), &view, second).await.expect("report");
        assert_eq!(v2.row.reason.as_deref(), Some("补录 T-2 的评价"));
        assert_eq!(value(&v2.report, "ticket_pass_rate"), Some(50.0));
        assert_eq!(v2.report.texts, texts, "the texts carry over to the new version");
        assert_eq!(quality::report(app.app(), &view, id).await.expect("report").row.state, "replaced");
        let actions = app.audit_actions().await;
        for a in ["quality_report.created", "quality_report.texts_saved", "quality_report.issued", "quality_report.reopened"] {
            assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
        }
        // Tampering with the stored report is caught: the snapshot no longer hashes to its hash,
        // and a hash recomputed to match is not the one the audit trail recorded.
        let pool = app.state.db().pool();
        let snapshot: String = sqlx::query_scalar("SELECT snapshot FROM quality_reports WHERE id = $1").bind(id).fetch_one(pool).await.expect("read");
        let forged = snapshot.replacen("100.0", "99.0", 1);
        assert_ne!(forged, snapshot);
        sqlx::query("UPDATE quality_reports SET snapshot = $1 WHERE id = $2").bind(&forged).bind(id).execute(pool).await.expect("tamper");
        let check = quality::verify(app.app(), &view, id).await.expect("verify");
        assert!(!check.snapshot_matches && !check.intact());
        sqlx::query("UPDATE quality_reports SET hash = $1 WHERE id = $2").bind(quality::hash(&forged)).bind(id).execute(pool).await.expect("tamper");
        let check = quality::verify(app.app(), &view, id).await.expect("verify");
        assert!(check.snapshot_matches && !check.audit_matches && !check.intact());
    }

    async fn fifty_racing_issues_freeze_the_report_once(app: TestApp) {
        let f = app.fixture().await;
        let path = gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path;
        let auditor = principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::QualityView, Permission::QualityWrite], &path);
        let write = cap::<perm::QualityWrite>(&auditor);
        // Fifty starts of the same report: one report.
        let outcomes = support::race(50, |_| {
            let (app, write, unit) = (app.app().clone(), write.clone(), f.unit_a);
            async move { quality::create(&app, &write, &meta(), unit, "2026-10").await }
        })
        .await;
        let ids: std::collections::BTreeSet<i64> = outcomes.iter().filter_map(|o| o.as_ref().ok().copied()).collect();
        assert_eq!(ids.len(), 1, "{outcomes:?}");
        assert!(outcomes.iter().all(|o| matches!(o, Ok(_) | Err(AppError::Conflict(_)))), "{outcomes:?}");
        let id = *ids.iter().next().expect("id");
        let outcomes = support::race(50, |_| {
            let (app, write) = (app.app().clone(), write.clone());
            async move { quality::issue(&app, &write, &meta(), id).await }
        })
        .await;
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
        assert!(outcomes.iter().all(|o| matches!(o, Ok(_) | Err(AppError::Conflict(_)))), "{outcomes:?}");
        let pool = app.state.db().pool();
        let count = |sql: &'static str| async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await.expect(sql) };
        assert_eq!(count("SELECT COUNT(*) FROM quality_reports").await, 1);
        assert_eq!(count("SELECT COUNT(*) FROM audit_events WHERE action = 'quality_report.issued'").await, 1);
    }

    async fn the_monthly_job_starts_last_months_reports_once(app: TestApp) {
        let f = app.fixture().await;
        let first = gridsafe_app::jobs::run(app.app(), gridsafe_app::jobs::Job::QualityReports).await.expect("job");
        // Two cities and a county; the province is not reported on.
        assert_eq!(first["drafts"], 3);
        let again = gridsafe_app::jobs::run(app.app(), gridsafe_app::jobs::Job::QualityReports).await.expect("job");
        assert_eq!(again["drafts"], 0);
        let months: Vec<String> = sqlx::query_scalar("SELECT DISTINCT month FROM quality_reports").fetch_all(app.state.db().pool()).await.expect("read");
        assert_eq!(months, ["2026-10"]);
        // The auditor's to-do shows the city's draft, due by the tenth; after it, late.
        let auditor = principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::QualityView, Permission::QualityWrite], &gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path);
        let todo = gridsafe_app::quality::todo(app.app(), &auditor).await.expect("todo");
        assert_eq!(todo.len(), 2, "the city and its county: {todo:?}");
        assert!(todo.iter().all(|t| t.due == "2026-11-10" && t.late), "26 November is past the tenth: {todo:?}");
        let reader = principal(f.user("leader"), "u_leader", &[Permission::QualityView], &gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path);
        assert!(gridsafe_app::quality::todo(app.app(), &reader).await.expect("todo").is_empty(), "reading is not writing");
    }

    async fn a_formula_is_refused_where_it_is_wrong_and_changes_the_figure_when_right(app: TestApp) {
        let f = app.fixture().await;
        ticket(&app, "T-1", f.unit_a1, "2026-10-03 15:00", Some("pass")).await;
        ticket(&app, "T-2", f.unit_a1, "2026-10-04 15:00", None).await;
        let path = gridsafe_app::identity::unit_by_id(app.app(), f.unit_a).await.expect("read").expect("unit").path;
        let auditor = principal(f.user("safety_auditor"), "u_safety_auditor", &[Permission::QualityView, Permission::QualityWrite], &path);
        let write = cap::<perm::QualityWrite>(&auditor);
        let wrong = quality::set_indicator(app.app(), &write, &meta(), "ticket_pass_rate", "100 * ticket_passed / tickets_evaluated", "98", "higher").await;
        match wrong {
            Err(AppError::Invalid(p)) => {
                assert_eq!(p[0].message, "quality-formula-unknown");
                assert!(p[0].args.contains(&("position", "7".to_owned())) && p[0].args.contains(&("name", "ticket_passed".to_owned())), "{p:?}");
            }
            other => panic!("{other:?}"),
        }
        let target = quality::set_indicator(app.app(), &write, &meta(), "ticket_pass_rate", "100 * tickets_passed / tickets_evaluated", "九十八", "higher").await;
        assert!(matches!(target, Err(AppError::Invalid(ref p)) if p[0].field == "target"), "{target:?}");
        assert!(matches!(quality::set_indicator(app.app(), &write, &meta(), "no_such", "faults", "", "lower").await, Err(AppError::NotFound)));
        let view = cap::<perm::QualityView>(&auditor);
        let october = Month::read("2026-10").expect("m");
        let before = quality::build(app.app(), &view, f.unit_a, october, BTreeMap::new()).await.expect("report");
        assert_eq!(value(&before, "ticket_pass_rate"), Some(50.0));
        quality::set_indicator(app.app(), &write, &meta(), "ticket_pass_rate", "100 * tickets_passed / tickets_evaluated", "98", "higher").await.expect("set");
        let after = quality::build(app.app(), &view, f.unit_a, october, BTreeMap::new()).await.expect("report");
        let line = after.lines.iter().find(|l| l.code == "ticket_pass_rate").expect("line");
        assert_eq!((line.figure.value, line.target, line.figure.met), (Some(100.0), Some(98.0), Some(true)));
        assert!(app.audit_actions().await.iter().any(|a| a == "quality_indicator.changed"));
    }
}
