//! Security hardening: what an attacker or a careless administrator could do, each shown refused
//! on SQLite and PostgreSQL. The sign-in flood and the load are measured in `bench/`.

mod support;

use std::sync::Arc;

use axum::http::Method;
use chrono::Duration;
use support::{PASSWORD, TestApp, meta, operator, race};

async fn token_for(app: &TestApp, cookie: &str, permission: &str) -> String {
    let r = app
        .json(
            Method::POST,
            "/api/v1/tokens",
            Some(serde_json::json!({"name": "集成", "permissions": [permission], "valid_days": 30})),
            &[("cookie", cookie)],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    format!("Bearer {}", r.json()["secret"].as_str().expect("secret"))
}

/// A multipart upload of one file in the field `files`.
async fn upload(app: &TestApp, cookie: &str, path: &str, name: &str, bytes: &[u8]) -> support::TestResponse {
    let mut body = format!("--B\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").into_bytes();
    body.extend(bytes);
    body.extend(b"\r\n--B--\r\n");
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("cookie", cookie)
        .header("content-type", "multipart/form-data; boundary=B")
        .body(axum::body::Body::from(body))
        .expect("request");
    app.request(request).await
}

/// A real customer-register workbook with one more part: `megabytes` MiB of zeros, a few hundred
/// kilobytes packed.
fn bomb(megabytes: usize) -> Vec<u8> {
    use std::io::Write;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "户号").expect("w");
    let plain = book.save_to_buffer().expect("xlsx");
    let mut source = zip::ZipArchive::new(std::io::Cursor::new(plain)).expect("zip");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..source.len() {
        out.raw_copy_file(source.by_index(i).expect("part")).expect("copy");
    }
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    out.start_file("xl/media/image1.bin", options).expect("start");
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..megabytes {
        out.write_all(&zeros).expect("write");
    }
    out.finish().expect("finish").into_inner()
}

async fn me_with(app: &TestApp, bearer: &str) -> u16 {
    app.json(Method::GET, "/api/v1/me", None, &[("authorization", bearer)]).await.status.as_u16()
}

backend_tests! {
    async fn tokens_end_with_their_accounts_security_events(app: TestApp) {
        let f = app.fixture().await;
        let leader = f.user("leader");
        let admin = app.session_for(f.user("system_admin")).await;
        let cookie = app.session_for(leader).await;

        // The owner changes the password.
        let token = token_for(&app, &cookie, "people.view").await;
        assert_eq!(me_with(&app, &token).await, 200);
        let body = format!("current={}&new=Gs-Neu-2026%23x&confirm=Gs-Neu-2026%23x", support::urlencode(PASSWORD));
        let changed = app.post_form("/account/password", &body, &[("cookie", &cookie)]).await;
        assert_eq!(changed.status, 303, "{}", changed.body);
        assert_eq!(me_with(&app, &token).await, 401, "a password change ends the tokens");
        let cookie = changed.session_cookie().expect("fresh session");

        // An administrator resets it.
        let token = token_for(&app, &cookie, "people.view").await;
        let reset = app.post_form(&format!("/admin/users/{leader}/reset-password"), "", &[("cookie", &admin)]).await;
        assert_eq!(reset.status, 200);
        assert!(reset.body.contains("API 令牌已全部失效"), "the page says so");
        assert_eq!(me_with(&app, &token).await, 401, "a reset ends the tokens");

        // Disabled, then enabled again: the token does not come back.
        sqlx::query("UPDATE users SET must_change_password = 0 WHERE id = $1").bind(leader).execute(app.state.db().pool()).await.expect("clear");
        let cookie = app.session_for(leader).await;
        let token = token_for(&app, &cookie, "people.view").await;
        assert_eq!(app.post_form(&format!("/admin/users/{leader}/disable"), "reason=%E8%B0%83%E5%B2%97", &[("cookie", &admin)]).await.status, 303);
        assert_eq!(app.post_form(&format!("/admin/users/{leader}/enable"), "", &[("cookie", &admin)]).await.status, 303);
        assert_eq!(me_with(&app, &token).await, 401, "re-enabling brings no token back");

        // Losing a role.
        let cookie = app.session_for(leader).await;
        let token = token_for(&app, &cookie, "people.view").await;
        let revoke = format!("role=leader&unit_id={}", f.unit_a);
        assert_eq!(app.post_form(&format!("/admin/users/{leader}/roles/revoke"), &revoke, &[("cookie", &admin)]).await.status, 303);
        assert_eq!(me_with(&app, &token).await, 401, "a revoked role ends the tokens");

        // Each revocation is in the trail with its count, and the token page gives the reason.
        let summaries: Vec<String> = sqlx::query_scalar("SELECT summary FROM audit_events WHERE action IN ('user.password_changed', 'user.password_reset', 'user.disabled', 'user.role_revoked') ORDER BY seq")
            .fetch_all(app.state.db().pool()).await.expect("events");
        assert_eq!(summaries.len(), 4, "{summaries:?}");
        assert!(summaries.iter().all(|s| s.contains("\"tokens_revoked\":1")), "{summaries:?}");
        let page = app.get_with("/account/tokens", &[("cookie", &cookie)]).await;
        for why in ["password_changed", "password_reset", "account_disabled", "role_revoked"] {
            assert!(page.body.contains(&format!("data-revoked-reason=\"{why}\"")), "{why}");
        }
        assert!(page.body.contains("因角色被收回"));
    }

    async fn administrators_never_act_on_their_own_account_nor_across_classes(app: TestApp) {
        let f = app.fixture().await;
        let (system, security, auditor) = (f.user("system_admin"), f.user("security_admin"), f.user("log_auditor"));
        let sys = app.session_for(system).await;
        let sec = app.session_for(security).await;

        // The system administrator cannot reset the auditor's password and read it.
        let r = app.post_form(&format!("/admin/users/{auditor}/reset-password"), "", &[("cookie", &sys)]).await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(!r.body.contains("data-initial-password"), "no password shown");
        assert!(r.body.contains("安全管理员"), "says who may");
        let hash_before: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(auditor).fetch_one(app.state.db().pool()).await.expect("hash");
        assert_eq!(app.login("u_log_auditor", PASSWORD).await.status, 303, "the auditor's password is unchanged");
        for (path, body) in [
            (format!("/admin/users/{auditor}/disable"), "reason=x".to_owned()),
            (format!("/admin/users/{auditor}/roles/revoke"), format!("role=log_auditor&unit_id={}", f.unit_a)),
            (format!("/admin/users/{security}/reset-password"), String::new()),
        ] {
            assert_eq!(app.post_form(&path, &body, &[("cookie", &sys)]).await.status, 409, "{path}");
        }
        // Nor grant himself anything: a business role, or his own class at the root.
        for role in ["safety_auditor", "system_admin"] {
            let r = app.json(Method::POST, &format!("/api/v1/users/{system}/roles"), Some(serde_json::json!({"role": role, "unit_id": f.root})), &[("cookie", &sys)]).await;
            assert_eq!(r.status, 403, "{role}: the root is outside his units");
            let r = app.json(Method::POST, &format!("/api/v1/users/{system}/roles"), Some(serde_json::json!({"role": role, "unit_id": f.unit_a})), &[("cookie", &sys)]).await;
            assert_eq!(r.status, 409, "{role}");
            assert_eq!(r.json()["error"]["rule"]["code"], "ACCOUNT_SELF");
        }
        // Nor make a new administrator account of his own choosing.
        let r = app.json(Method::POST, &format!("/api/v1/users/{}/roles", f.plain_a1), Some(serde_json::json!({"role": "log_auditor", "unit_id": f.unit_a1})), &[("cookie", &sys)]).await;
        assert_eq!(r.json()["error"]["rule"]["code"], "ADMIN_ACCOUNTS");
        let refused: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'account.act_refused'").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(refused, 7, "every refusal is in the trail");

        // The security administrator handles the auditor's account; the one-time password is
        // shown to him, a different class, once.
        let r = app.post_form(&format!("/admin/users/{auditor}/reset-password"), "", &[("cookie", &sec)]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains("data-initial-password"));
        let hash_after: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1").bind(auditor).fetch_one(app.state.db().pool()).await.expect("hash");
        assert_ne!(hash_before, hash_after);
        // But not his own account, nor another security administrator's: those are the console's.
        let second = app.user("u_security_2", f.unit_a, &[("security_admin", f.unit_a)]).await;
        for target in [security, second] {
            let r = app.post_form(&format!("/admin/users/{target}/reset-password"), "", &[("cookie", &sec)]).await;
            assert_eq!(r.status, 409, "{target}");
        }
        let console = operator().authorize::<gridsafe_domain::access::perm::UsersManage>().expect("op");
        gridsafe_app::identity::reset_password(app.app(), &console, &meta(), second).await.expect("the console may");
        // Ordinary accounts stay the system administrator's to reset.
        assert_eq!(app.post_form(&format!("/admin/users/{}/reset-password", f.plain_a1), "", &[("cookie", &sys)]).await.status, 200);
    }

    async fn linking_a_person_to_an_account_is_an_account_administrators_audited_act(app: TestApp) {
        use gridsafe_app::people::{self, ContractorInput, Manage, PersonInput, Reach};
        use gridsafe_domain::access::perm;
        let f = app.fixture().await;
        let op = operator();
        let ccap = op.authorize::<perm::ContractorsManage>().expect("op");
        let reach = Reach::<Manage>::units(&op.authorize::<perm::PeopleManage>().expect("op"));
        let ucap = op.authorize::<perm::UsersManage>().expect("op");
        let mine = people::save_contractor(app.app(), &ccap, &meta(), None, ContractorInput { code: "C01".into(), name: "一公司".into(), unit_id: f.unit_a, ..Default::default() }).await.expect("c");
        let person = |code: &str| PersonInput { code: code.into(), name: format!("工人{code}"), unit_id: f.unit_a, contractor_id: Some(mine), active: true, ..Default::default() };
        people::save_person(app.app(), &reach, &meta(), None, person("W1")).await.expect("p");
        let worker = people::save_person(app.app(), &reach, &meta(), None, person("W2")).await.expect("p");
        people::link_account(app.app(), &ucap, &meta(), f.user("contractor_admin"), Some("W1")).await.expect("link");

        // The contractor's administrator edits his worker with a username in the form: ignored.
        let contractor = app.session_for(f.user("contractor_admin")).await;
        let r = app.post_form(&format!("/people/{worker}"), "code=W2&name=%E5%B7%A5%E4%BA%BA&active=1&username=u_leader", &[("cookie", &contractor)]).await;
        assert_eq!(r.status, 303);
        let linked: Option<i64> = sqlx::query_scalar("SELECT user_id FROM people WHERE id = $1").bind(worker.get()).fetch_one(app.state.db().pool()).await.expect("user");
        assert_eq!(linked, None);
        // Nor may he link through the administrators' route.
        assert_eq!(app.post_form(&format!("/admin/users/{}/person", f.user("leader")), "person_code=W2", &[("cookie", &contractor)]).await.status, 403);

        // The system administrator links an ordinary account, audited with both names.
        let sys = app.session_for(f.user("system_admin")).await;
        let leader = f.user("leader");
        assert_eq!(app.post_form(&format!("/admin/users/{leader}/person"), "person_code=W2", &[("cookie", &sys)]).await.status, 303);
        let summary: String = sqlx::query_scalar("SELECT summary FROM audit_events WHERE action = 'person.account_linked' ORDER BY seq DESC").fetch_one(app.state.db().pool()).await.expect("event");
        assert!(summary.contains("u_leader") && summary.contains("W2 工人"), "{summary}");
        let page = app.get_with(&format!("/admin/users/{leader}"), &[("cookie", &sys)]).await;
        assert!(page.body.contains("W2 工人"));
        // One person per account, one account per person.
        let again = app.json(Method::POST, &format!("/api/v1/users/{leader}/person"), Some(serde_json::json!({"person_code": "W1"})), &[("cookie", &sys)]).await;
        assert_eq!(again.status, 409, "{}", again.body);
        assert!(again.json()["error"]["message"].as_str().is_some_and(|m| m.contains("其他账号")), "{}", again.body);
        people::save_person(app.app(), &reach, &meta(), None, person("W3")).await.expect("p");
        let second = app.json(Method::POST, &format!("/api/v1/users/{leader}/person"), Some(serde_json::json!({"person_code": "W3"})), &[("cookie", &sys)]).await;
        assert_eq!(second.status, 409);
        assert!(second.json()["error"]["message"].as_str().is_some_and(|m| m.contains("其他人员")), "{}", second.body);
        let unknown = app.json(Method::POST, &format!("/api/v1/users/{leader}/person"), Some(serde_json::json!({"person_code": "NOBODY"})), &[("cookie", &sys)]).await;
        assert_eq!(unknown.status, 404);
        // Unlinking is audited too.
        assert_eq!(app.json(Method::POST, &format!("/api/v1/users/{leader}/person"), Some(serde_json::json!({"person_code": null})), &[("cookie", &sys)]).await.status, 204);
        assert!(app.audit_actions().await.contains(&"person.account_unlinked".to_owned()));

        // Fifty administrators' requests at once link one person to fifty accounts: one wins.
        let mut accounts = Vec::new();
        for i in 0..50 {
            accounts.push(app.user(&format!("racer{i}"), f.unit_a, &[]).await);
        }
        let shared = Arc::new(app.app().clone());
        let outcomes = race(50, |i| {
            let (app, cap, account) = (shared.clone(), ucap.clone(), accounts[i]);
            async move { people::link_account(&app, &cap, &meta(), account, Some("W3")).await }
        })
        .await;
        assert_eq!(outcomes.iter().filter(|o| o.is_ok()).count(), 1, "{outcomes:?}");
        let holders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM people WHERE code = 'W3' AND user_id IS NOT NULL").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(holders, 1);
    }

    async fn what_a_contractor_records_of_his_workers_counts_only_once_confirmed(app: TestApp) {
        use gridsafe_app::people::{self, ContractorInput, Manage, PersonInput, Reach};
        use gridsafe_domain::access::perm;
        use gridsafe_domain::people::FieldRole;
        let f = app.fixture().await;
        let op = operator();
        let ccap = op.authorize::<perm::ContractorsManage>().expect("op");
        let reach = Reach::<Manage>::units(&op.authorize::<perm::PeopleManage>().expect("op"));
        let mine = people::save_contractor(app.app(), &ccap, &meta(), None, ContractorInput { code: "C01".into(), name: "一公司".into(), unit_id: f.unit_a, license_level: Some(4), license_valid_to: "2027-12-31".into(), ..Default::default() }).await.expect("c");
        people::save_person(app.app(), &reach, &meta(), None, PersonInput { code: "W1".into(), name: "管理员".into(), unit_id: f.unit_a, contractor_id: Some(mine), active: true, ..Default::default() }).await.expect("p");
        let worker = people::save_person(app.app(), &reach, &meta(), None, PersonInput { code: "W2".into(), name: "工人".into(), unit_id: f.unit_a, contractor_id: Some(mine), active: true, ..Default::default() }).await.expect("p");
        people::link_account(app.app(), &op.authorize::<perm::UsersManage>().expect("op"), &meta(), f.user("contractor_admin"), Some("W1")).await.expect("link");
        let agreement = people::AgreementInput { code: "AG1".into(), valid_from: "2026-01-01".into(), valid_to: "2027-12-31".into(), ..Default::default() };
        people::add_agreement(app.app(), &Reach::<Manage>::units(&ccap), &meta(), mine, agreement).await.expect("agreement");
        let contractor = app.session_for(f.user("contractor_admin")).await;
        for q in [
            serde_json::json!({"kind": "safety_exam", "valid_from": "2026-01-01", "valid_to": "2030-12-31", "score": 100}),
            serde_json::json!({"kind": "ticket_issuer", "valid_from": "2026-01-01", "valid_to": "2030-12-31"}),
            serde_json::json!({"kind": "inspector", "valid_from": "2026-01-01", "valid_to": "2030-12-31", "level": 1}),
        ] {
            let r = app.json(Method::POST, &format!("/api/v1/people/{worker}/qualifications"), Some(q), &[("cookie", &contractor)]).await;
            assert_eq!(r.status, 201, "{}", r.body);
        }
        let day = app.app().today();
        let rules = app.app().people_config().role_rules();
        let may = |facts: &gridsafe_domain::people::PersonFacts, role| gridsafe_domain::people::may_act(facts, role, day, &rules);
        let facts = people::person_facts(app.app(), worker).await.expect("facts");
        assert!(may(&facts, FieldRole::TicketIssuer).is_err(), "drafts satisfy no rule");
        assert!(may(&facts, FieldRole::Inspector { voltage_kv: 10.0 }).is_err());
        let detail = app.json(Method::GET, &format!("/api/v1/people/{worker}"), None, &[("cookie", &contractor)]).await.json();
        let drafts: Vec<bool> = detail["qualifications"].as_array().expect("list").iter().map(|q| q["draft"].as_bool().expect("draft")).collect();
        assert_eq!(drafts, [true, true, true]);

        // The contractor cannot confirm his own; the supply company's auditor does.
        let ids: Vec<i64> = detail["qualifications"].as_array().expect("list").iter().filter_map(|q| q["id"].as_i64()).collect();
        assert_eq!(app.json(Method::POST, &format!("/api/v1/people/{worker}/qualifications/{}/confirm", ids[0]), None, &[("cookie", &contractor)]).await.status, 403);
        let auditor = app.session_for(f.user("safety_auditor")).await;
        for id in &ids {
            assert_eq!(app.json(Method::POST, &format!("/api/v1/people/{worker}/qualifications/{id}/confirm"), None, &[("cookie", &auditor)]).await.status, 204);
        }
        assert_eq!(app.json(Method::POST, &format!("/api/v1/people/{worker}/qualifications/{}/confirm", ids[0]), None, &[("cookie", &auditor)]).await.status, 409);
        let facts = people::person_facts(app.app(), worker).await.expect("facts");
        assert_eq!(may(&facts, FieldRole::TicketIssuer).map_err(|v| v.iter().map(|v| v.rule.code).collect::<Vec<_>>()), Ok(()));
        let confirmed = app.audit_actions().await.iter().filter(|a| *a == "qualification.confirmed").count();
        assert_eq!(confirmed, 3);
        let page = app.get_with(&format!("/people/{worker}"), &[("cookie", &auditor)]).await;
        assert!(!page.body.contains("data-draft"), "no draft left on the page");
    }

    async fn unknown_disabled_and_wrong_get_one_answer_and_unknown_names_lock_too(app: TestApp) {
        let f = app.fixture().await;
        let admin = app.session_for(f.user("system_admin")).await;
        assert_eq!(app.post_form(&format!("/admin/users/{}/disable", f.user("leader")), "reason=x", &[("cookie", &admin)]).await.status, 303);
        let unknown = app.login("nobody", PASSWORD).await;
        let disabled = app.login("u_leader", PASSWORD).await;
        let wrong = app.login("u_inspector", "Wrong-2026!").await;
        assert_eq!([unknown.status.as_u16(), disabled.status.as_u16(), wrong.status.as_u16()], [401; 3]);
        let message = |body: &str, name: &str| {
            let alert = body.split("role=\"alert\">").nth(1).and_then(|a| a.split("</p>").next()).unwrap_or_default();
            alert.replace(name, "NAME")
        };
        assert_eq!(message(&unknown.body, "nobody"), message(&disabled.body, "u_leader"), "the same page");
        assert_eq!(message(&wrong.body, "u_inspector"), message(&disabled.body, "u_leader"));
        assert!(wrong.body.contains("还可再试 4 次"), "{}", wrong.body);
        // An unknown name locks after as many attempts as a real one.
        for _ in 0..4 {
            app.login("nobody", "x").await;
            app.login("u_inspector", "x").await;
        }
        let unknown = app.login("nobody", PASSWORD).await;
        let known = app.login("u_inspector", PASSWORD).await;
        assert_eq!(unknown.status, 403);
        assert_eq!(known.status, 403);
        assert_eq!(message(&unknown.body, "nobody"), message(&known.body, "u_inspector"));
    }

    async fn a_burst_of_wrong_passwords_checks_no_more_than_the_policy_allows(app: TestApp) {
        app.fixture().await;
        let limit = app.app().security().lockout_failures as usize;
        let app = Arc::new(app);
        let statuses = race(50, |_| {
            let app = app.clone();
            async move { app.login("u_inspector", "Wrong-2026!").await.status.as_u16() }
        })
        .await;
        assert_eq!(statuses.iter().filter(|s| **s == 401).count(), limit, "{statuses:?}");
        assert!(statuses.iter().all(|s| matches!(s, 401 | 403 | 429 | 503)), "{statuses:?}");
        let failed = app.audit_actions().await.iter().filter(|a| *a == "login.failed").count();
        assert_eq!(failed, limit, "no more passwords checked than the policy allows");
        assert_eq!(app.login("u_inspector", PASSWORD).await.status, 403, "locked");
    }

    async fn a_failed_job_is_retried_and_a_crashed_one_after_its_lease(app: TestApp) {
        use gridsafe_app::jobs::{self, Job};
        let now = app.clock_now();
        // Fifty instances claim the same period at once: one does.
        let shared = Arc::new(app.app().clone());
        let claims = race(50, |_| {
            let app = shared.clone();
            async move { jobs::claim(&app, Job::ExpiryWarnings, now).await.expect("claim") }
        })
        .await;
        assert_eq!(claims.iter().filter(|c| c.is_some()).count(), 1);
        // That instance crashed mid-run: nobody else runs it until the lease has passed.
        app.clock.advance(Duration::minutes(14));
        assert!(jobs::claim(app.app(), Job::ExpiryWarnings, app.clock_now()).await.expect("claim").is_none());
        app.clock.advance(Duration::minutes(2));
        let period = jobs::claim(app.app(), Job::ExpiryWarnings, app.clock_now()).await.expect("claim").expect("taken up again");
        // This run fails: released, and the next tick tries again.
        jobs::finish(app.app(), Job::ExpiryWarnings, &period, false).await.expect("finish");
        let period = jobs::claim(app.app(), Job::ExpiryWarnings, app.clock_now()).await.expect("claim").expect("retried");
        jobs::finish(app.app(), Job::ExpiryWarnings, &period, true).await.expect("finish");
        assert!(jobs::claim(app.app(), Job::ExpiryWarnings, app.clock_now()).await.expect("claim").is_none(), "done for the day");
        app.clock.advance(Duration::days(1));
        assert!(jobs::claim(app.app(), Job::ExpiryWarnings, app.clock_now()).await.expect("claim").is_some(), "the next day's");
    }

    async fn a_signed_in_read_writes_at_most_once_a_minute(app: TestApp) {
        let f = app.fixture().await;
        let cookie = app.session_for(f.user("safety_auditor")).await;
        let token = token_for(&app, &cookie, "people.view").await;
        app.clock.advance(Duration::seconds(61));
        let seen = || async {
            let s: String = sqlx::query_scalar("SELECT MAX(last_seen_at) FROM sessions").fetch_one(app.state.db().pool()).await.expect("seen");
            let t: Option<String> = sqlx::query_scalar("SELECT last_used_at FROM api_tokens").fetch_one(app.state.db().pool()).await.expect("used");
            (s, t)
        };
        assert_eq!(app.get_with("/people", &[("cookie", &cookie)]).await.status, 200);
        assert_eq!(app.json(Method::GET, "/api/v1/people", None, &[("authorization", &token)]).await.status, 200);
        let first = seen().await;
        app.clock.advance(Duration::seconds(30));
        for _ in 0..5 {
            app.get_with("/people", &[("cookie", &cookie)]).await;
            app.json(Method::GET, "/api/v1/people", None, &[("authorization", &token)]).await;
        }
        assert_eq!(seen().await, first, "no write within the minute");
        app.clock.advance(Duration::seconds(31));
        app.get_with("/people", &[("cookie", &cookie)]).await;
        app.json(Method::GET, "/api/v1/people", None, &[("authorization", &token)]).await;
        let later = seen().await;
        assert!(later.0 > first.0 && later.1 > first.1, "touched again after a minute");
    }

    async fn imports_are_bounded_while_they_are_read_and_oversized_bodies_are_413(app: TestApp) {
        let f = app.fixture().await;
        let manager = app.session_for(f.user("customer_manager")).await;
        // 1 GiB of zeros in a workbook of about a megabyte: refused before it is unpacked.
        let bomb = bomb(1024);
        assert!(bomb.len() < 2 * 1024 * 1024, "{}", bomb.len());
        let r = upload(&app, &manager, "/customers/import", "客户.xlsx", &bomb).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("解压后超过 100 MB"), "names the bound");
        assert!(r.body.len() < 64 * 1024, "the answer quotes nothing big: {} bytes", r.body.len());
        let customers: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(customers, 0, "nothing written");
        // A cell longer than Excel allows, in a CSV: named by line and column, not quoted.
        let long = format!("户号,户名\n0701000001,{}\n", "长".repeat(40_000));
        let r = upload(&app, &manager, "/customers/import", "客户.csv", long.as_bytes()).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("第 2 行") && r.body.contains("32767"), "{}", &r.body[..r.body.len().min(2000)]);
        assert!(!r.body.contains(&"长".repeat(100)));
        // Bodies beyond server.max_body_bytes (20 MiB): 413, JSON and uploads alike.
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let big = serde_json::json!({"code": "P1", "name": "x".repeat(25 * 1024 * 1024), "unit_id": f.unit_a});
        let r = app.json(Method::POST, "/api/v1/people", Some(big), &[("cookie", &auditor)]).await;
        assert_eq!(r.status, 413);
        assert_eq!(r.json()["error"]["code"], "payload_too_large");
        let r = upload(&app, &manager, "/customers/import", "客户.csv", &vec![b'a'; 21 * 1024 * 1024]).await;
        assert_eq!(r.status, 413);
    }

    async fn searches_are_bounded_literal_and_forms_must_be_utf8(app: TestApp) {
        let f = app.fixture().await;
        app.person(f.unit_a, "P100", &[]).await;
        app.person(f.unit_a, "P1000", &[]).await;
        sqlx::query("UPDATE people SET name = '百分之100%' WHERE code = 'P100'").execute(app.state.db().pool()).await.expect("name");
        let auditor = app.session_for(f.user("safety_auditor")).await;
        let found = app.json(Method::GET, "/api/v1/people?q=0%25", None, &[("cookie", &auditor)]).await;
        assert_eq!(found.status, 200);
        let codes: Vec<String> = found.json().as_array().expect("list").iter().filter_map(|p| p["code"].as_str().map(str::to_owned)).collect();
        assert_eq!(codes, ["P100"], "% matches itself");
        let underscore = app.json(Method::GET, "/api/v1/people?q=P_00", None, &[("cookie", &auditor)]).await;
        assert_eq!(underscore.json().as_array().map(Vec::len), Some(0), "_ matches itself");
        // 50,000 characters: a clear refusal, not a database error.
        let long = "a".repeat(50_000);
        for path in [format!("/api/v1/people?q={long}"), format!("/people?q={long}"), format!("/tickets?q={long}"), format!("/customers?q={long}")] {
            let r = app.get_with(&path, &[("cookie", &auditor)]).await;
            assert_eq!(r.status, 422, "{}", &path[..20]);
        }
        // Text that is not UTF-8 (GBK for 张伟) is refused, not stored garbled.
        let r = app.post_form("/people", &format!("code=P9&name=%D5%C5%CE%B0&unit_id={}&active=1", f.unit_a), &[("cookie", &auditor)]).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("UTF-8"));
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM people WHERE code = 'P9'").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(stored, 0);
        assert_eq!(app.get_with("/people?q=%D5%C5", &[("cookie", &auditor)]).await.status, 422);
        // A NUL character (which PostgreSQL's text cannot store) is refused as such, in a form
        // and a query (a JSON body: `findings.rs`, the push API), not failed as a server error.
        let r = app.post_form("/people", &format!("code=P9&name=a%00b&unit_id={}&active=1", f.unit_a), &[("cookie", &auditor)]).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("空字符"), "{}", r.body);
        assert_eq!(app.get_with("/people?q=a%00", &[("cookie", &auditor)]).await.status, 422);
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM people WHERE code = 'P9'").fetch_one(app.state.db().pool()).await.expect("count");
        assert_eq!(stored, 0);
    }
}
