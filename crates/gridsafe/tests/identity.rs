//! Identity and access: sign-in, lockout, sessions, tokens, scope, separation of the three
//! administrators, dormant accounts, and the first start. Time moves on a manual clock.

mod support;

use axum::http::Method;
use chrono::Duration;
use support::{PASSWORD, meta};

backend_tests! {
    async fn first_start_creates_one_admin_who_must_change_the_password(app: TestApp) {
        let (username, password) = gridsafe_app::identity::bootstrap_admin(app.app(), &meta(), "本单位")
            .await.expect("bootstrap").expect("first start creates the admin");
        assert_eq!(username, "admin");
        assert!(gridsafe_app::identity::bootstrap_admin(app.app(), &meta(), "x").await.expect("again").is_none(), "only once");

        let response = app.login("admin", &password).await;
        assert_eq!(response.status, 303);
        assert_eq!(response.header("location"), "/account/password", "forced to change first");
        let cookie = response.session_cookie().expect("session");
        let page = app.get_with("/admin/users", &[("cookie", &cookie)]).await;
        assert_eq!((page.status.as_u16(), page.header("location")), (303, "/account/password"), "nothing else until changed");
        let api = app.json(Method::GET, "/api/v1/me", None, &[("cookie", &cookie)]).await;
        assert_eq!(api.json()["error"]["code"], "password_change_required");

        let weak = app.post_form("/account/password", &format!("current={password}&new=password1&confirm=password1"), &[("cookie", &cookie)]).await;
        assert_eq!(weak.status, 422);
        assert!(weak.body.contains("至少三类"), "policy named: {}", weak.body);

        let done = app.post_form("/account/password", &format!("current={password}&new=Gs-Strong-9x&confirm=Gs-Strong-9x"), &[("cookie", &cookie)]).await;
        assert_eq!(done.status, 303);
        let renewed = done.session_cookie().expect("a fresh session for this browser");
        assert_ne!(renewed, cookie);
        assert_eq!(app.get_with("/", &[("cookie", &cookie)]).await.status, 303, "the old session ended");
        assert_eq!(app.get_with("/admin/users", &[("cookie", &renewed)]).await.status, 200);
        let actions = app.audit_actions().await;
        assert!(actions.contains(&"login".to_owned()) && actions.contains(&"user.password_changed".to_owned()), "{actions:?}");
    }

    async fn five_failures_lock_the_account_for_fifteen_minutes(app: TestApp) {
        app.fixture().await;
        for attempt in 1..=5 {
            let r = app.login("u_inspector", "wrong-password").await;
            assert_eq!(r.status, 401, "attempt {attempt}");
        }
        let locked = app.login("u_inspector", PASSWORD).await;
        assert_eq!(locked.status, 403, "the right password is refused while locked");
        assert!(locked.body.contains("锁定"), "{}", locked.body);
        let actions = app.audit_actions().await;
        assert_eq!(actions.iter().filter(|a| *a == "login.failed").count(), 5);
        assert_eq!(actions.iter().filter(|a| *a == "login.locked_out").count(), 1);
        assert!(actions.contains(&"login.refused_locked".to_owned()));

        app.clock.advance(Duration::minutes(14) + Duration::seconds(59));
        assert_eq!(app.login("u_inspector", PASSWORD).await.status, 403, "still locked at 14:59");
        app.clock.advance(Duration::seconds(1));
        assert_eq!(app.login("u_inspector", PASSWORD).await.status, 303, "unlocked at 15:00");
    }

    async fn unknown_users_and_wrong_passwords_get_the_same_answer(app: TestApp) {
        app.fixture().await;
        let unknown = app.login("nobody", "whatever-1A").await;
        let wrong = app.login("u_leader", "whatever-1A").await;
        assert_eq!(unknown.status, wrong.status);
        assert!(unknown.body.contains("用户名或密码不正确") && wrong.body.contains("用户名或密码不正确"));
    }

    async fn sessions_end_after_idle_and_absolute_timeouts_and_at_logout(app: TestApp) {
        let f = app.fixture().await;
        let cookie = app.login("u_leader", PASSWORD).await.session_cookie().expect("signed in");
        app.clock.advance(Duration::minutes(29));
        assert_eq!(app.get_with("/", &[("cookie", &cookie)]).await.status, 200);
        app.clock.advance(Duration::minutes(29));
        assert_eq!(app.get_with("/", &[("cookie", &cookie)]).await.status, 200, "activity keeps it alive");
        app.clock.advance(Duration::minutes(30));
        assert_eq!(app.get_with("/", &[("cookie", &cookie)]).await.status, 303, "30 idle minutes end it");

        let cookie = app.login("u_leader", PASSWORD).await.session_cookie().expect("signed in");
        for _ in 0..24 {
            app.clock.advance(Duration::minutes(29));
            let _ = app.get_with("/", &[("cookie", &cookie)]).await;
        }
        app.clock.advance(Duration::minutes(25));
        assert_eq!(app.get_with("/", &[("cookie", &cookie)]).await.status, 303, "12 hours end it however busy");

        let cookie = app.login("u_leader", PASSWORD).await.session_cookie().expect("signed in");
        let out = app.post_form("/logout", "", &[("cookie", &cookie)]).await;
        assert_eq!(out.status, 303);
        assert!(out.header("set-cookie").contains("Max-Age=0"));
        assert_eq!(app.get_with("/", &[("cookie", &cookie)]).await.status, 303, "logout ends it");

        // Disabling a user ends their sessions at once.
        let cookie = app.session_for(f.plain_a1).await;
        assert_eq!(app.get_with("/", &[("cookie", &cookie)]).await.status, 200);
        let admin = app.session_for(f.user("system_admin")).await;
        let r = app.post_form(&format!("/admin/users/{}/disable", f.plain_a1), "reason=%E7%A6%BB%E8%81%8C", &[("cookie", &admin)]).await;
        assert_eq!(r.status, 303);
        assert_eq!(app.get_with("/", &[("cookie", &cookie)]).await.status, 303);
        assert_eq!(app.login("plain_a1", PASSWORD).await.status, 401, "disabled accounts cannot sign in, and are not told apart");
        let actions = app.audit_actions().await;
        assert!(actions.contains(&"logout".to_owned()) && actions.contains(&"user.disabled".to_owned()));
    }

    async fn the_three_administrators_are_never_one_account(app: TestApp) {
        let f = app.fixture().await;
        let admin = app.session_for(f.user("system_admin")).await;
        // Administrators' accounts are the security administrator's to grant on.
        let security = app.session_for(f.user("security_admin")).await;
        let target = f.user("log_auditor");
        let r = app.json(Method::POST, &format!("/api/v1/users/{target}/roles"),
            Some(serde_json::json!({"role": "system_admin", "unit_id": f.unit_a})), &[("cookie", &security)]).await;
        assert_eq!(r.status, 409);
        let body = r.json();
        assert_eq!(body["error"]["code"], "rule_violation");
        assert_eq!(body["error"]["rule"]["code"], "ADMIN_SEPARATION");
        assert!(body["error"]["rule"]["source"].as_str().is_some_and(|s| s.contains("GB/T 22239")), "{body}");
        assert!(body["error"]["rule"]["fix"].as_str().is_some_and(|s| !s.is_empty()));
        // An administrator holds no business permission either (三权分立 on permissions).
        let business = app.json(Method::POST, &format!("/api/v1/users/{target}/roles"),
            Some(serde_json::json!({"role": "leader", "unit_id": f.unit_a})), &[("cookie", &security)]).await;
        assert_eq!(business.status, 409);
        assert_eq!(business.json()["error"]["rule"]["code"], "ADMIN_SEPARATION");
        // Nor can the roles be made to merge by editing what they grant: the system administrator
        // giving his own role the auditor's permission, or a business one, is refused.
        let roles_cookie = admin.clone();
        for extra in ["audit.read", "people.view"] {
            let body = format!("permission=units.manage&permission=users.view&permission=users.manage&permission=roles.manage&permission={extra}");
            let r = app.post_form("/admin/roles/system_admin", &body, &[("cookie", &roles_cookie)]).await;
            assert_eq!(r.status, 409, "{extra}: {}", r.body);
            assert!(r.body.contains("三权分立") || r.body.contains("ADMIN_SEPARATION"), "{extra}");
        }
        // A business role that would give its holders an administrator's permission is refused
        // too: the leader role granted users.view.
        let r = app.post_form("/admin/roles/leader", "permission=people.view&permission=users.view", &[("cookie", &roles_cookie)]).await;
        assert_eq!(r.status, 409, "{}", r.body);
        let held: Vec<String> = sqlx::query_scalar("SELECT permission FROM role_permissions WHERE role_code = 'system_admin' ORDER BY permission")
            .fetch_all(app.state.db().pool()).await.expect("held");
        assert_eq!(held, ["roles.manage", "units.manage", "users.manage", "users.view"], "nothing changed");
        // A business role next to another business role is fine.
        let plain = f.plain_a1;
        let ok = app.json(Method::POST, &format!("/api/v1/users/{plain}/roles"),
            Some(serde_json::json!({"role": "leader", "unit_id": f.unit_a1})), &[("cookie", &admin)]).await;
        assert_eq!(ok.status, 204);
        let ok = app.json(Method::POST, &format!("/api/v1/users/{plain}/roles"),
            Some(serde_json::json!({"role": "inspector", "unit_id": f.unit_a1})), &[("cookie", &admin)]).await;
        assert_eq!(ok.status, 204);
    }

    async fn users_see_and_change_only_their_units(app: TestApp) {
        let f = app.fixture().await;
        let admin = app.session_for(f.user("system_admin")).await;
        let list = app.json(Method::GET, "/api/v1/users", None, &[("cookie", &admin)]).await.json();
        let names: Vec<&str> = list.as_array().expect("list").iter().filter_map(|u| u["username"].as_str()).collect();
        assert!(names.contains(&"plain_a1"), "the county below is in reach");
        assert!(!names.contains(&"plain_b"), "another city is not: {names:?}");

        let before = app.audit_count().await;
        let other = app.json(Method::GET, &format!("/api/v1/users/{}", f.plain_b), None, &[("cookie", &admin)]).await;
        assert_eq!(other.status, 403);
        assert_eq!(other.json()["error"]["code"], "forbidden");
        assert_eq!(app.audit_count().await, before + 1, "the denial is audited");
        assert_eq!(app.audit_actions().await.last().map(String::as_str), Some("access.denied"));

        let page = app.get_with(&format!("/admin/users/{}", f.plain_b), &[("cookie", &admin)]).await;
        assert_eq!(page.status, 403);
        assert!(page.body.contains("管辖范围以外"), "{}", page.body);
        let move_b = app.post_form(&format!("/admin/users/{}/disable", f.plain_b), "reason=x", &[("cookie", &admin)]).await;
        assert_eq!(move_b.status, 403);
        let new_unit = app.post_form("/admin/units", &format!("code=WH-1&name=x&kind=team&parent_id={}", f.unit_b), &[("cookie", &admin)]).await;
        assert_eq!(new_unit.status, 403, "no units under another city");
    }

    async fn api_tokens_carry_a_subset_expire_and_revoke(app: TestApp) {
        let f = app.fixture().await;
        let admin = app.session_for(f.user("system_admin")).await;
        let created = app.json(Method::POST, "/api/v1/tokens",
            Some(serde_json::json!({"name": "营销系统对接", "permissions": ["users.view"], "valid_days": 30})), &[("cookie", &admin)]).await;
        assert_eq!(created.status, 201);
        let secret = created.json()["secret"].as_str().expect("secret").to_owned();
        assert!(secret.starts_with("gst_"));
        let bearer = format!("Bearer {secret}");

        let me = app.json(Method::GET, "/api/v1/me", None, &[("authorization", &bearer)]).await.json();
        assert_eq!(me["permissions"], serde_json::json!(["users.view"]), "only what the token was given");
        assert_eq!(app.json(Method::GET, "/api/v1/users", None, &[("authorization", &bearer)]).await.status, 200);
        let create = app.json(Method::POST, "/api/v1/users",
            Some(serde_json::json!({"username": "viatoken", "display_name": "x", "unit_id": f.unit_a})), &[("authorization", &bearer)]).await;
        assert_eq!(create.status, 403, "users.manage was not given to the token");
        assert_eq!(app.json(Method::GET, "/api/v1/tokens", None, &[("authorization", &bearer)]).await.status, 403, "tokens cannot manage tokens");

        // A permission the creator does not hold cannot be given.
        let leader = app.session_for(f.user("leader")).await;
        let refused = app.json(Method::POST, "/api/v1/tokens",
            Some(serde_json::json!({"name": "x", "permissions": ["audit.read"], "valid_days": 30})), &[("cookie", &leader)]).await;
        assert_eq!(refused.status, 403, "nobody hands on a permission they do not hold");
        assert_eq!(refused.json()["error"]["code"], "forbidden");

        // Last use is recorded; the list never shows the secret.
        let list = app.json(Method::GET, "/api/v1/tokens", None, &[("cookie", &admin)]).await;
        assert!(list.json()[0]["last_used_at"].is_string());
        assert!(!list.body.contains(&secret));

        app.clock.advance(Duration::days(30));
        assert_eq!(app.json(Method::GET, "/api/v1/me", None, &[("authorization", &bearer)]).await.status, 401, "expired");

        let second = app.json(Method::POST, "/api/v1/tokens",
            Some(serde_json::json!({"name": "b", "permissions": ["users.view"], "valid_days": 30})), &[("cookie", &app.session_for(f.user("system_admin")).await)]).await.json();
        let bearer = format!("Bearer {}", second["secret"].as_str().expect("secret"));
        let id = second["token"]["id"].as_i64().expect("id");
        let admin = app.session_for(f.user("system_admin")).await;
        assert_eq!(app.json(Method::DELETE, &format!("/api/v1/tokens/{id}"), None, &[("cookie", &admin)]).await.status, 204);
        assert_eq!(app.json(Method::GET, "/api/v1/me", None, &[("authorization", &bearer)]).await.status, 401, "revoked");
        let actions = app.audit_actions().await;
        assert!(actions.contains(&"api_token.created".to_owned()) && actions.contains(&"api_token.revoked".to_owned()));
    }

    async fn a_role_change_in_data_takes_effect_without_a_deploy(app: TestApp) {
        let f = app.fixture().await;
        let leader = app.session_for(f.user("leader")).await;
        assert_eq!(app.get_with("/audit", &[("cookie", &leader)]).await.status, 403);
        let admin = app.session_for(f.user("system_admin")).await;
        assert_eq!(app.post_form("/admin/roles/leader", "permission=audit.read", &[("cookie", &admin)]).await.status, 303);
        assert_eq!(app.get_with("/audit", &[("cookie", &leader)]).await.status, 200);
        assert!(app.audit_actions().await.contains(&"role.permissions_changed".to_owned()));
    }

    async fn dormant_accounts_are_flagged_then_disabled_by_the_daily_job(app: TestApp) {
        use gridsafe_app::jobs::{self, Job};
        let f = app.fixture().await;
        assert_eq!(app.login("u_leader", PASSWORD).await.status, 303);
        app.clock.advance(Duration::days(179));
        let period = jobs::claim(app.app(), Job::DormantAccounts, app.clock_now()).await.expect("claim").expect("free");
        jobs::finish(app.app(), Job::DormantAccounts, &period, true).await.expect("finish");
        assert!(jobs::claim(app.app(), Job::DormantAccounts, app.clock_now()).await.expect("claim").is_none(), "once per day per deployment");
        let report = gridsafe_app::identity::run_dormancy(app.app(), &meta()).await.expect("run");
        assert!(report.flagged.is_empty(), "179 days is not yet dormant: {report:?}");

        app.clock.advance(Duration::days(1));
        let report = gridsafe_app::identity::run_dormancy(app.app(), &meta()).await.expect("run");
        assert!(report.flagged.contains(&"u_leader".to_owned()) && report.flagged.contains(&"plain_b".to_owned()));
        let reviewer = app.session_for(f.user("security_admin")).await;
        let page = app.get_with("/security/accounts", &[("cookie", &reviewer)]).await;
        assert!(page.body.contains("长期未登录"), "the review page lists it");

        // Signing in during the notice period clears the flag.
        assert_eq!(app.login("u_inspector", PASSWORD).await.status, 303);
        assert_eq!(app.login("u_security_admin", PASSWORD).await.status, 303);
        app.clock.advance(Duration::days(14));
        let report = gridsafe_app::identity::run_dormancy(app.app(), &meta()).await.expect("run");
        assert!(report.disabled.contains(&"u_leader".to_owned()));
        assert!(!report.disabled.contains(&"u_inspector".to_owned()), "{report:?}");
        assert_eq!(app.login("u_leader", PASSWORD).await.status, 401);
        let actions = app.audit_actions().await;
        assert!(actions.contains(&"user.dormant_flagged".to_owned()) && actions.contains(&"user.disabled".to_owned()));

        // Recording a permission review is an audited action that shows on the page.
        let reviewer = app.session_for(f.user("security_admin")).await;
        let id = f.user("crew_member");
        assert_eq!(app.post_form(&format!("/security/accounts/{id}/review"), "note=ok", &[("cookie", &reviewer)]).await.status, 303);
        assert_eq!(app.audit_actions().await.last().map(String::as_str), Some("user.permissions_reviewed"));
    }

    async fn sign_in_attempts_per_client_are_limited(app: TestApp) {
        app.fixture().await;
        let limit = app.app().security().login_attempts_per_window;
        for _ in 0..limit {
            assert_eq!(app.login("u_leader", "wrong").await.status.as_u16() / 100, 4);
            sqlx::query("DELETE FROM login_guard").execute(app.state.db().pool()).await.expect("reset");
        }
        let limited = app.login("u_leader", PASSWORD).await;
        assert_eq!(limited.status, 429);
        assert!(!limited.header("retry-after").is_empty());
        app.clock.advance(Duration::seconds(i64::from(app.app().security().login_window_seconds)));
        assert_eq!(app.login("u_leader", PASSWORD).await.status, 303, "the next window is open");
    }
}

/// With a maximum password age configured, an expired password must be changed before
/// anything else.
#[tokio::test]
async fn an_expired_password_must_be_changed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = gridsafe::Settings::default();
    settings.database.url =
        gridsafe_store::DatabaseUrl::new(format!("sqlite://{}", dir.path().join("gs.db").display()));
    settings.audit.signing_key_path = dir.path().join("audit.key");
    settings.security.password_max_age_days = 90;
    let app = support::TestApp::with_settings(settings, dir).await;
    let f = app.fixture().await;
    let cookie = app.session_for(f.user("leader")).await;
    assert_eq!(app.get_with("/", &[("cookie", &cookie)]).await.status, 200);
    app.clock.advance(Duration::days(90));
    let cookie = app.session_for(f.user("leader")).await;
    let r = app.get_with("/", &[("cookie", &cookie)]).await;
    assert_eq!((r.status.as_u16(), r.header("location")), (303, "/account/password"));
}
