//! Signing like a signature: a ticket step opens a panel saying what is signed, a step the rules
//! refuse is not offered but explained, steps that grant or end work ask for the password once
//! the session proved it too long ago (a wrong one counts towards the lockout), and a form the
//! page script sends gets its refusal beside it.

mod support;

use axum::http::Method;
use serde_json::json;
use support::tickets::{create, crew, draft, ok, rules, step};
use support::{PASSWORD, urlencode};

backend_tests! {
    async fn the_ticket_page_offers_what_the_rules_allow_and_says_why_not_the_rest(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let id = create(&app, &c, draft(&f, "L1", &["C1"], "2026-11-26 09:00", "2026-11-26 17:00")).await;
        let page = app.get_with(&format!("/tickets/{id}"), &[("cookie", &c.cookie_issuer)]).await;
        assert_eq!(page.status, 200);
        // 签发 opens a panel: who signs, what, the state it leads to, and the confirmation.
        assert!(page.body.contains(r#"<summary class="button primary" data-step="issue">签发</summary>"#), "{}", page.body);
        assert!(page.body.contains("您将以 I1 测试I1 的名义签名"), "the signer by name");
        assert!(page.body.contains("书院街 18 号表箱") && page.body.contains("新装低压电能表并接电"));
        assert!(page.body.contains("已签发"), "the state it leads to");
        assert!(page.body.contains("确认签发"));
        // Signed in a moment ago: no password asked.
        assert!(!page.body.contains(r#"name="password""#));

        ok(&app, &c.cookie_issuer, id, "issue").await;
        ok(&app, &c.cookie_leader, id, "receive").await;
        ok(&app, &c.cookie_permitter, id, "permit").await;
        // 开工 before the crew acknowledged: not offered; the refusal in words, the code folded.
        let page = app.get_with(&format!("/tickets/{id}"), &[("cookie", &c.cookie_leader)]).await;
        let unavailable = page.body.split(r#"data-unavailable="start""#).nth(1).expect("开工 shown as not available");
        let unavailable = unavailable.split("</div>").next().unwrap_or_default();
        assert!(unavailable.contains("现在还不能开工"), "{unavailable}");
        assert!(unavailable.contains("C1 测试C1"), "names who has not acknowledged: {unavailable}");
        assert!(unavailable.contains("<details class=\"for-admins\"><summary>"), "{unavailable}");
        assert!(!page.body.contains(r#"data-step="start""#), "no 开工 to press");
        // The crew member's panel puts the briefing before his acknowledgement.
        let page = app.get_with(&format!("/tickets/{id}"), &[("cookie", &c.cookie_crew)]).await;
        let panel = page.body.split(r#"data-sign="acknowledge""#).nth(1).expect("acknowledge panel");
        let briefing = panel.find("data-briefing-text").expect("the briefing in the panel");
        let button = panel.find("确认确认交底").expect("the confirmation");
        assert!(briefing < button, "the briefing comes before its acknowledgement");
        assert!(!app.audit_actions().await.iter().any(|a| a == "ticket.step_refused"), "a page view records no refusal");
    }

    async fn granting_work_asks_for_the_password_once_the_window_has_passed(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let id = create(&app, &c, draft(&f, "L1", &["C1"], "2026-11-26 09:00", "2026-11-26 17:00")).await;
        let token_body = json!({"name": "许可接口", "permissions": ["tickets.view", "tickets.sign"], "valid_days": 30});
        let token = app.json(Method::POST, "/api/v1/tokens", Some(token_body), &[("cookie", &c.cookie_permitter)]).await;
        assert_eq!(token.status, 201, "{}", token.body);
        let bearer = format!("Bearer {}", token.json()["secret"].as_str().expect("secret"));
        // Sixteen minutes on (the sessions stay alive: a request every few minutes).
        for _ in 0..4 {
            app.clock.advance(chrono::Duration::minutes(4));
            for cookie in [&c.cookie_issuer, &c.cookie_leader] {
                assert_eq!(app.get_with("/", &[("cookie", cookie)]).await.status, 200);
            }
        }
        let page = app.get_with(&format!("/tickets/{id}"), &[("cookie", &c.cookie_issuer)]).await;
        assert!(page.body.contains(r#"<input type="password" name="password" required"#), "the panel asks for it");
        assert!(page.body.contains("15 分钟"), "and says why");

        // Without it, or with a wrong one: refused, naming the field, nothing signed.
        let form = |extra: &str| format!("step=issue{extra}");
        let bare = app.post_form(&format!("/tickets/{id}/steps"), &form(""), &[("cookie", &c.cookie_issuer)]).await;
        assert_eq!(bare.status, 422, "{}", bare.body);
        assert!(bare.body.contains(r#"<li data-field="password">"#), "{}", bare.body);
        // Over 200 characters is refused unread: no hash computed, no attempt counted.
        let long = step(&app, &c.cookie_issuer, id, json!({"step": "issue", "password": "x".repeat(201)})).await;
        assert_eq!(long.status, 422, "{}", long.body);
        assert_eq!(long.json()["error"]["details"][0]["field"], "password");
        let wrong = step(&app, &c.cookie_issuer, id, json!({"step": "issue", "password": "not-it-2026!"})).await;
        assert_eq!(wrong.status, 422, "{}", wrong.body);
        assert_eq!(wrong.json()["error"]["details"][0]["field"], "password");
        assert!(wrong.body.contains("再输错 4 次"), "the attempts left: {}", wrong.body);
        assert_eq!(support::tickets::state_of(&app, id).await, "draft");
        assert!(app.audit_actions().await.iter().any(|a| a == "signature.password_refused"));

        // The right one signs, and counts for the next fifteen minutes.
        let pw = format!("&password={}", urlencode(PASSWORD));
        let signed = app.post_form(&format!("/tickets/{id}/steps"), &form(&pw), &[("cookie", &c.cookie_issuer)]).await;
        assert_eq!(signed.status, 303, "{}", signed.body);
        assert_eq!(support::tickets::state_of(&app, id).await, "issued");
        assert!(app.audit_actions().await.iter().any(|a| a == "signature.password_proved"));
        let page = app.get_with(&format!("/tickets/{id}"), &[("cookie", &c.cookie_issuer)]).await;
        assert!(!page.body.contains(r#"name="password""#), "proved a moment ago");
        // A step that grants nothing never asks; an API token is its own proof.
        ok(&app, &c.cookie_leader, id, "receive").await;
        let permit = app
            .json(Method::POST, &format!("/api/v1/tickets/{id}/steps"), Some(json!({"step": "permit"})), &[("authorization", &bearer)])
            .await;
        assert_eq!(permit.status, 200, "{}", permit.body);
    }

    async fn wrong_passwords_at_a_signature_lock_the_account_and_end_the_session(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let id = create(&app, &c, draft(&f, "L1", &["C1"], "2026-11-26 11:00", "2026-11-26 17:00")).await;
        app.clock.advance(chrono::Duration::minutes(16));
        let c = support::tickets::sessions(&app, &f).await;
        // A session made now proved nothing yet in this test's terms: make it old.
        app.clock.advance(chrono::Duration::minutes(16));
        let _ = app.get_with("/", &[("cookie", &c.cookie_issuer)]).await;
        let mut answers = Vec::new();
        for _ in 0..5 {
            let r = step(&app, &c.cookie_issuer, id, json!({"step": "issue", "password": "guess-2026-A!"})).await;
            answers.push(r.status.as_u16());
        }
        assert_eq!(answers, [422, 422, 422, 422, 422]);
        let after = step(&app, &c.cookie_issuer, id, json!({"step": "issue", "password": PASSWORD})).await;
        assert_eq!(after.status, 401, "the fifth wrong password ended the session: {}", after.body);
        let login = app.login("u_ticket_issuer", PASSWORD).await;
        assert_ne!(login.status, 303, "the account is locked like after failed sign-ins");
        assert_eq!(rules(&after), Vec::<String>::new());
    }

    async fn a_form_sent_by_the_page_script_is_answered_where_it_was_sent(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let id = create(&app, &c, draft(&f, "L1", &["C1"], "2026-11-26 09:00", "2026-11-26 17:00")).await;
        let inline = [("cookie", c.cookie_issuer.as_str()), ("x-gridsafe-inline", "1")];
        // Success: no redirect to follow, the target (with its fragment) named instead.
        let r = app.post_form(&format!("/tickets/{id}/steps"), "step=issue", &inline).await;
        assert_eq!(r.status, 204, "{}", r.body);
        assert_eq!(r.header("x-gridsafe-location"), format!("/tickets/{id}"));
        assert_eq!(r.header("location"), "");
        // A refusal is the error page the script shows beside the form: field problems name their field.
        let r = app.post_form(&format!("/tickets/{id}/steps"), "step=void", &inline).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains(r#"<li data-field="note">"#), "{}", r.body);
        // Without the script's header, a redirect as before.
        let r = app.post_form(&format!("/tickets/{id}/steps"), "step=bogus", &[("cookie", &c.cookie_leader)]).await;
        assert_eq!(r.status, 422);
        let r = app.post_form(&format!("/tickets/{id}/steps"), "step=receive", &[("cookie", &c.cookie_leader)]).await;
        assert_eq!((r.status.as_u16(), r.header("location")), (303, format!("/tickets/{id}").as_str()));
    }

    async fn a_deletion_says_why_and_the_reason_is_kept(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        let id = create(&app, &c, draft(&f, "L1", &["C1"], "2026-11-26 09:00", "2026-11-26 17:00")).await;
        let t = app.json(Method::GET, &format!("/api/v1/tickets/{id}"), None, &[("cookie", &c.cookie_leader)]).await.json();
        let hazard = t["hazards"][0]["id"].as_i64().expect("a hazard line");
        let page = app.get_with(&format!("/tickets/{id}"), &[("cookie", &c.cookie_leader)]).await.body;
        assert!(page.contains("data-delete") && page.contains("确认删除"), "a panel, not a bare button");
        // A reason of 500 characters is taken, one of 501 refused naming the field.
        let second = t["hazards"][1]["id"].as_i64().expect("a second line");
        let second = format!("/tickets/{id}/hazards/{second}/delete");
        let over = app.post_form(&second, &format!("reason={}", "x".repeat(501)), &[("cookie", &c.cookie_leader)]).await;
        assert!(over.status == 422 && over.body.contains(r#"<li data-field="reason">"#), "{}", over.body);
        let at = app.post_form(&second, &format!("reason={}", "x".repeat(500)), &[("cookie", &c.cookie_leader)]).await;
        assert_eq!(at.status, 303, "{}", at.body);
        let path = format!("/tickets/{id}/hazards/{hazard}/delete");
        let bare = app.post_form(&path, "", &[("cookie", &c.cookie_leader)]).await;
        assert_eq!(bare.status, 422, "{}", bare.body);
        assert!(bare.body.contains(r#"<li data-field="reason">"#), "{}", bare.body);
        let done = app.post_form(&path, "reason=%E4%B8%8E%E7%8E%B0%E5%9C%BA%E4%B8%8D%E7%AC%A6", &[("cookie", &c.cookie_leader)]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        let summaries: Vec<String> =
            sqlx::query_scalar("SELECT summary FROM audit_events WHERE action = 'ticket.hazard_removed' ORDER BY seq")
                .fetch_all(app.state.db().pool())
                .await
                .expect("audited");
        assert_eq!(summaries.len(), 2);
        assert!(summaries[1].contains("与现场不符"), "{summaries:?}");
    }
}
