//! The platform as a user, an operator and a load balancer meet it, on both backends.

mod support;

use support::Backend;

backend_tests! {
    async fn home_page_is_chinese_by_default_and_needs_sign_in(app: TestApp) {
        let response = app.get("/").await;
        assert_eq!(response.status, 303);
        assert_eq!(response.header("location"), "/login?next=/");
        let page = app.get("/login").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains(r#"<html lang="zh-CN">"#));
        assert!(page.body.contains("营销安全管控平台"));
        let f = app.fixture().await;
        let cookie = app.session_for(f.user("crew_member")).await;
        let page = app.get_with("/", &[("cookie", &cookie)]).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("首页") && page.body.contains("测试u_crew_member"), "{}", page.body);
    }

    async fn browser_language_and_choice_are_honoured(app: TestApp) {
        let page = app.get_with("/login", &[("accept-language", "en-GB,en;q=0.9")]).await;
        assert!(page.body.contains(r#"<html lang="en">"#), "Accept-Language: en");
        // The user's choice beats the browser's.
        let page = app.get_with("/login", &[("accept-language", "en"), ("cookie", "gs_lang=zh-CN")]).await;
        assert!(page.body.contains(r#"<html lang="zh-CN">"#));
    }

    async fn language_switch_sets_cookie_and_returns(app: TestApp) {
        let response = app.post_form("/lang", "lang=en&back=%2Fsome%2Fpage", &[]).await;
        assert_eq!(response.status, 303);
        assert_eq!(response.header("location"), "/some/page");
        let cookie = response.header("set-cookie");
        assert!(cookie.starts_with("gs_lang=en;") && cookie.contains("SameSite=Lax"), "{cookie}");
        // Never back to another site.
        let response = app.post_form("/lang", "lang=en&back=%2F%2Fevil.example%2F", &[]).await;
        assert_eq!(response.header("location"), "/");
    }

    async fn cross_site_post_is_refused_in_the_users_language(app: TestApp) {
        let response = app
            .post_form("/lang", "lang=en&back=/", &[("sec-fetch-site", "cross-site"), ("cookie", "gs_lang=en")])
            .await;
        assert_eq!(response.status, 403);
        assert!(response.body.contains("came from another site"), "{}", response.body);
        assert!(response.header("set-cookie").is_empty(), "nothing changed");
    }

    async fn unknown_page_gets_a_localized_page_with_a_way_back(app: TestApp) {
        let page = app.get("/no/such/page").await;
        assert_eq!(page.status, 404);
        assert!(page.header("content-type").starts_with("text/html"));
        assert!(page.body.contains("找不到您要的页面"));
        assert!(page.body.contains(r#"href="/""#));
        assert!(page.body.contains(page.header("x-request-id")), "the page shows the request id");
    }

    async fn api_errors_share_one_envelope(app: TestApp) {
        let response = app.get_with("/api/v1/nothing-here", &[("accept-language", "en")]).await;
        assert_eq!(response.status, 404);
        let body = response.json();
        assert_eq!(body["error"]["code"], "not_found");
        assert_eq!(body["error"]["request_id"], response.header("x-request-id"));
        assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("does not exist")));

        let response = app.post_form("/api/v1/meta", "", &[]).await;
        assert_eq!(response.status, 405);
        assert_eq!(response.json()["error"]["code"], "method_not_allowed");
    }

    async fn every_response_carries_security_headers(app: TestApp) {
        for path in ["/", "/login", "/healthz", "/api/v1/meta", "/missing"] {
            let response = app.get(path).await;
            let csp = response.header("content-security-policy");
            assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'nonce-"), "{path}: {csp}");
            assert_eq!(response.header("x-content-type-options"), "nosniff", "{path}");
            assert_eq!(response.header("referrer-policy"), "same-origin", "{path}");
            assert_eq!(response.header("cache-control"), "no-store", "{path}");
            assert!(!response.header("x-request-id").is_empty(), "{path}");
        }
        // The page's script carries this response's nonce.
        let page = app.get("/login").await;
        let csp = page.header("content-security-policy").to_owned();
        let nonce = csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).expect("nonce");
        assert!(page.body.contains(&format!(r#"nonce="{nonce}""#)));
    }

    async fn static_assets_are_embedded_and_cacheable(app: TestApp) {
        let page = app.get("/login").await;
        let css = page.body.split("href=\"").find_map(|s| s.split('"').next().filter(|h| h.ends_with("style.css"))).expect("css link");
        let response = app.get(css).await;
        assert_eq!(response.status, 200);
        assert!(response.header("content-type").starts_with("text/css"));
        assert!(response.header("cache-control").contains("immutable"));
        assert!(response.body.contains("@media (max-width: 640px)"), "phone layout");
    }

    async fn health_and_readiness(app: TestApp) {
        assert_eq!(app.get("/healthz").await.json()["status"], "ok");
        assert_eq!(app.get("/readyz").await.json()["status"], "ok");
    }

    async fn migrations_are_idempotent_and_recorded(app: TestApp) {
        let db = app.state.db();
        let again = db.migrate(support::start_of_test_time()).await.expect("migrate again");
        assert!(again.is_empty(), "nothing left to apply");
        let latest = gridsafe_store::MIGRATIONS.last().expect("one").version;
        assert_eq!(db.schema_status().await.expect("status"), gridsafe_store::SchemaStatus::UpToDate { version: latest });
        assert!(db.check_durability().await.expect("check").is_safe());
    }

    async fn write_transactions_commit_and_roll_back(app: TestApp) {
        let db = app.state.db();
        let now = support::start_of_test_time().to_db();
        let mut tx = db.begin_write().await.expect("begin");
        sqlx::query("INSERT INTO app_meta (key, value, updated_at) VALUES ($1, $2, $3)")
            .bind("k").bind("rolled back").bind(&now).execute(&mut *tx).await.expect("insert");
        tx.rollback().await.expect("rollback");
        let mut tx = db.begin_write().await.expect("begin");
        sqlx::query("INSERT INTO app_meta (key, value, updated_at) VALUES ($1, $2, $3)")
            .bind("k").bind("kept").bind(&now).execute(&mut *tx).await.expect("insert");
        tx.commit().await.expect("commit");
        let value: (String, String) = sqlx::query_as("SELECT value, updated_at FROM app_meta WHERE key = $1")
            .bind("k").fetch_one(db.pool()).await.expect("select");
        assert_eq!(value, ("kept".to_owned(), now), "timestamps come back exactly as Rust wrote them");
    }
}

/// On PostgreSQL `serve` does not migrate: it refuses a schema that is behind and says what to run.
#[tokio::test]
async fn postgres_schema_behind_is_refused_with_the_command_to_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(url) = support::fresh_database(Backend::Postgres, dir.path()).await else {
        return;
    };
    let mut settings = gridsafe::Settings::default();
    settings.database.url = gridsafe_store::DatabaseUrl::new(url);
    settings.audit.signing_key_path = dir.path().join("audit.key");
    let clock = std::sync::Arc::new(gridsafe_domain::time::ManualClock::new(support::start_of_test_time()));
    let error = gridsafe::prepare(&settings, clock.clone(), Default::default()).await.expect_err("behind");
    let message = error.message(gridsafe_web::i18n::Lang::ZhCn);
    assert!(message.contains("gridsafe migrate --database-url"), "{message}");
    assert!(matches!(error, gridsafe::StartError::SchemaBehind { current: 0, .. }));

    let db = gridsafe::startup::connect(&settings).await.expect("connect");
    assert_eq!(
        db.migrate(support::start_of_test_time()).await.expect("migrate").len(),
        gridsafe_store::MIGRATIONS.len()
    );
    gridsafe::prepare(&settings, clock, Default::default()).await.expect("starts once migrated");
}

/// SQLite that would lose committed work on a power cut is refused unless told otherwise.
#[tokio::test]
async fn sqlite_without_full_sync_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = gridsafe::Settings::default();
    settings.database.url = gridsafe_store::DatabaseUrl::new(format!("sqlite://{}", dir.path().join("x.db").display()));
    settings.database.max_connections = 1;
    let db = gridsafe::startup::connect(&settings).await.expect("connect");
    sqlx::query("PRAGMA synchronous = OFF").execute(db.pool()).await.expect("pragma");
    let durability = db.check_durability().await.expect("check");
    assert_eq!(durability.unsafe_settings, ["synchronous=0"]);
    sqlx::query("PRAGMA journal_mode = DELETE").execute(db.pool()).await.expect("pragma");
    let durability = db.check_durability().await.expect("check");
    assert_eq!(durability.unsafe_settings, ["journal_mode=delete", "synchronous=0"]);
}

/// A TCP relay to PostgreSQL that the test can cut and restore, to play an unreachable database.
struct Relay {
    addr: std::net::SocketAddr,
    tasks: tokio::task::JoinSet<()>,
}

impl Relay {
    async fn start(addr: std::net::SocketAddr, target: String) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind relay");
        let addr = listener.local_addr().expect("addr");
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(async move {
            let mut links = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                links.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Self { addr, tasks }
    }

    /// Drops the listener and every relayed connection.
    async fn cut(mut self) -> std::net::SocketAddr {
        self.tasks.shutdown().await;
        self.addr
    }
}

/// `/readyz` answers 503 within 2 s while the database is unreachable, and recovers by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(url) = support::fresh_database(Backend::Postgres, dir.path()).await else {
        return;
    };
    let (prefix, rest) = url.split_once('@').expect("user@host");
    let (host, db_path) = rest.split_once('/').expect("host/db");
    let relay = Relay::start("127.0.0.1:0".parse().expect("addr"), host.to_owned()).await;
    let mut settings = gridsafe::Settings::default();
    settings.database.url = gridsafe_store::DatabaseUrl::new(format!("{prefix}@{}/{db_path}", relay.addr));
    settings.audit.signing_key_path = dir.path().join("audit.key");
    let app = support::TestApp::with_settings(settings, dir).await;
    assert_eq!(app.get("/readyz").await.status, 200);

    let addr = relay.cut().await;
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let response = app.get("/readyz").await;
        assert_eq!(response.status, 503);
        assert_eq!(response.json()["status"], "unavailable");
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "answered in {:?}", started.elapsed());
    }
    assert_eq!(app.get("/healthz").await.status, 200, "the process itself is fine");

    let _relay = Relay::start(addr, host.to_owned()).await;
    let mut ready = false;
    for _ in 0..20 {
        if app.get("/readyz").await.status == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(ready, "readiness recovers without a restart");
}

/// Bodies above `server.max_body_bytes` are refused before any handler reads them.
#[tokio::test]
async fn oversized_bodies_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = gridsafe::Settings::default();
    settings.database.url =
        gridsafe_store::DatabaseUrl::new(format!("sqlite://{}", dir.path().join("gs.db").display()));
    settings.audit.signing_key_path = dir.path().join("audit.key");
    settings.server.max_body_bytes = 64 * 1024;
    let app = support::TestApp::with_settings(settings, dir).await;
    let big = format!("username=x&password={}", "a".repeat(70 * 1024));
    let response = app.post_form("/login", &big, &[]).await;
    assert_eq!(response.status, 413);
    assert!(response.body.contains("超过了系统允许的上限"), "{}", response.body);
    let json = app
        .json(
            axum::http::Method::POST,
            "/api/v1/units",
            Some(serde_json::json!({ "name": "x".repeat(70 * 1024) })),
            &[],
        )
        .await;
    assert!(json.status == 413 || json.status == 401, "{}", json.status);
}

/// `gridsafe demo --listen ADDR` fills the demo company and then serves on ADDR (the flag was
/// ignored once, always 8080).
#[test]
fn demo_listens_where_it_is_told() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
    let addr = format!("127.0.0.1:{port}");
    let database = format!("sqlite://{}", dir.path().join("demo.db").display());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gridsafe"))
        .args(["--database-url", &database, "demo", "--listen", &addr])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    let mut answer = String::new();
    for _ in 0..600 {
        if let Ok(mut stream) = std::net::TcpStream::connect(&addr) {
            stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("request");
            stream.read_to_string(&mut answer).expect("answer");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    child.kill().expect("stopped");
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "no answer on {addr}: {answer}");
}
