//! What is kept in memory between requests (a signed-in session, a rendered ticket list) is kept
//! under the data's version and never served after a commit: not one this server made, not one
//! written into the database by anything else. What depends on the clock is judged anew on every
//! request.

mod support;

use chrono::Duration;
use support::TestResponse;
use support::tickets::{create_unapproved, crew, draft};

/// The nonce in the page's script tag and the one its Content-Security-Policy allows.
fn nonces(r: &TestResponse) -> (String, String) {
    let in_page = r.body.split("nonce=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default();
    let in_policy = r.header("content-security-policy").split("'nonce-").nth(1).and_then(|s| s.split('\'').next());
    (in_page.to_owned(), in_policy.unwrap_or_default().to_owned())
}

/// The page with its nonce left out.
fn without_nonce(r: &TestResponse) -> String {
    r.body.replace(&nonces(r).0, "")
}

fn total(r: &TestResponse) -> &str {
    r.body.split("data-total=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default()
}

backend_tests! {
    async fn the_data_version_moves_with_every_commit_and_never_with_a_read(app: TestApp) {
        let f = app.fixture().await;
        let db = app.state.db();
        let cookie = app.session_for(f.user("safety_auditor")).await;
        let before = db.version().await.expect("version");
        for path in ["/", "/tickets", "/tickets", "/customers", "/api/v1/tickets"] {
            assert_eq!(app.get_with(path, &[("cookie", &cookie)]).await.status, 200, "{path}");
        }
        if app.backend() == support::Backend::Sqlite {
            // (PostgreSQL's is the whole server's, where other tests' databases commit meanwhile.)
            assert_eq!(db.version().await.expect("version"), before, "reads leave the version where it was");
        }
        // A commit on a pooled connection (not the one the version is read on).
        sqlx::query("UPDATE org_units SET name = name || '一' WHERE id = $1")
            .bind(f.unit_a.get())
            .execute(db.pool())
            .await
            .expect("write");
        let after_pool = db.version().await.expect("version");
        assert_ne!(after_pool, before);
        // A commit by another connection pool altogether, as another process writing the file or
        // the server would make.
        let other = gridsafe_store::Database::connect(&app.settings.database).await.expect("connect");
        sqlx::query("UPDATE org_units SET name = name || '二' WHERE id = $1")
            .bind(f.unit_b.get())
            .execute(other.pool())
            .await
            .expect("write");
        other.close().await;
        assert_ne!(db.version().await.expect("version"), after_pool);
    }

    async fn a_version_asked_after_a_commit_differs_from_one_asked_before_it_under_a_race(app: TestApp) {
        // Calls that arrive together share one read of the version (SQLite): one that began
        // before a caller's commit must never be handed to that caller afterwards.
        let f = app.fixture().await;
        let units = [f.root, f.unit_a, f.unit_a1, f.unit_b];
        let db = app.state.db().clone();
        let outcomes = support::race(50, |i| {
            let db = db.clone();
            let unit = units[i % units.len()];
            async move {
                let before = db.version().await.expect("version");
                sqlx::query("UPDATE org_units SET name = $1 WHERE id = $2")
                    .bind(format!("单位{i}"))
                    .bind(unit.get())
                    .execute(db.pool())
                    .await
                    .expect("write");
                let after = db.version().await.expect("version");
                before != after
            }
        })
        .await;
        assert!(outcomes.iter().all(|moved| *moved), "{outcomes:?}");
    }

    async fn a_kept_ticket_list_is_never_served_after_a_commit(app: TestApp) {
        let f = app.fixture().await;
        let c = crew(&app, &f).await;
        create_unapproved(&app, &c, draft(&f, "L1", &["C1"], "2026-12-01 09:00", "2026-12-01 17:00")).await;
        let leader = [("cookie", c.cookie_leader.as_str())];
        let first = app.get_with("/tickets", &leader).await;
        assert_eq!((first.status.as_u16(), total(&first)), (200, "1"), "{}", first.body);
        let second = app.get_with("/tickets", &leader).await;
        assert_eq!(app.state.pages().len(), 1, "the list was kept");
        if app.backend() == support::Backend::Sqlite {
            // (On PostgreSQL other tests' commits may move the version in between.)
            assert_eq!(app.state.pages().served(), 1, "and served kept");
        }
        // Served kept, it is the same page, with this request's own nonce in it and in its policy.
        let ((page1, policy1), (page2, policy2)) = (nonces(&first), nonces(&second));
        assert_eq!(page1.len(), 32);
        assert_eq!((&page1, &page2), (&policy1, &policy2));
        assert_ne!(page1, page2);
        assert_eq!(without_nonce(&first), without_nonce(&second));

        // A ticket created through the API.
        let id = create_unapproved(&app, &c, draft(&f, "L1", &["C1"], "2026-12-02 09:00", "2026-12-02 17:00")).await;
        assert_eq!(total(&app.get_with("/tickets", &leader).await), "2");
        // A change written into the database by nothing of this server (another process, a repair).
        sqlx::query("UPDATE tickets SET location = '变电站东侧 3 号表箱' WHERE id = $1")
            .bind(id)
            .execute(app.state.db().pool())
            .await
            .expect("write");
        assert!(app.get_with("/tickets", &leader).await.body.contains("变电站东侧 3 号表箱"));

        // Another language, another address, another user: each their own page.
        let english = format!("{}; gs_lang=en", c.cookie_leader);
        let en = app.get_with("/tickets", &[("cookie", &english)]).await;
        assert!(en.body.contains("<html lang=\"en\"") && en.body.contains("Work tickets"), "{}", en.body);
        let zh = app.get_with("/tickets", &leader).await;
        assert!(zh.body.contains("<html lang=\"zh-CN\""));
        assert_eq!(total(&app.get_with("/tickets?state=issued", &leader).await), "0");
        let mut county = draft(&f, "L1", &["C1"], "2026-12-03 09:00", "2026-12-03 17:00");
        county["unit_id"] = serde_json::json!(f.unit_a1);
        create_unapproved(&app, &c, county).await;
        let auditor_a1 = app.user("auditor_a1", f.unit_a1, &[("safety_auditor", f.unit_a1)]).await;
        let a1_cookie = app.session_for(auditor_a1).await;
        let a1 = [("cookie", a1_cookie.as_str())];
        assert_eq!(total(&app.get_with("/tickets", &leader).await), "3");
        assert_eq!(total(&app.get_with("/tickets", &a1).await), "1", "the county's auditor sees the county");
        assert_eq!(total(&app.get_with("/tickets", &leader).await), "3");
        assert_eq!(total(&app.get_with("/tickets", &a1).await), "1");

        // The role taken away in the database: refused at once, not served from a kept session.
        sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
            .bind(f.user("work_leader"))
            .execute(app.state.db().pool())
            .await
            .expect("write");
        assert_eq!(app.get_with("/tickets", &leader).await.status, 403);
        // Signed out elsewhere (the session is gone): sent to sign in.
        let auditor_page = app.get_with("/tickets", &a1).await;
        assert_eq!(auditor_page.status, 200);
        sqlx::query("DELETE FROM sessions").execute(app.state.db().pool()).await.expect("write");
        let gone = app.get_with("/tickets", &a1).await;
        assert_eq!(gone.status, 303);
        assert!(gone.header("location").starts_with("/login"));
    }

    async fn a_kept_session_still_ends_when_it_has_been_idle_too_long(app: TestApp) {
        let f = app.fixture().await;
        let cookie = app.session_for(f.user("safety_auditor")).await;
        for _ in 0..2 {
            assert_eq!(app.get_with("/tickets", &[("cookie", &cookie)]).await.status, 200);
        }
        // Nothing committed since: the session and the page are kept, and the clock alone ends it.
        app.clock.advance(Duration::minutes(30));
        let r = app.get_with("/tickets", &[("cookie", &cookie)]).await;
        assert_eq!(r.status, 303, "30 idle minutes end a kept session too");
        assert!(r.header("location").starts_with("/login"));
    }
}
