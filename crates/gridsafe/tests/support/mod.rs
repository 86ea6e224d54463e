//! The test harness every integration test uses: the real application, built in process, on a
//! database of its own.
//!
//! [`backend_tests!`] writes each test twice, once on a fresh SQLite file and once on a fresh
//! PostgreSQL database on 127.0.0.1:5432 (or `GRIDSAFE_TEST_POSTGRES_URL`). Without a reachable
//! PostgreSQL the second run is skipped with a printed notice, unless `GRIDSAFE_TEST_POSTGRES`
//! is set (as in CI), when it fails instead.

#![allow(dead_code, reason = "each test binary uses a different part of the harness")]

pub mod tickets;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::TimeZone;
use gridsafe::Settings;
use gridsafe::startup::StartOptions;
use gridsafe_domain::ids::{PersonId, UnitId};
use gridsafe_domain::time::{ManualClock, Timestamp};
use gridsafe_store::DatabaseUrl;
use gridsafe_web::AppState;
use http_body_util::BodyExt;
use sqlx::Connection;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One test's application and database.
pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub clock: Arc<ManualClock>,
    pub settings: Settings,
    pub dir: tempfile::TempDir,
}

/// Writes each `async fn name(app: TestApp) { … }` as a test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($app:ident: TestApp) $body:block)*) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $app = $crate::support::TestApp::new($crate::support::Backend::Sqlite).await.expect("sqlite always runs");
                    $body
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some($app) = $crate::support::TestApp::new($crate::support::Backend::Postgres).await else { return };
                    $body
                }
            )*
        }
    };
}

pub fn start_of_test_time() -> Timestamp {
    Timestamp::from_utc(chrono::Utc.with_ymd_and_hms(2026, 11, 26, 1, 0, 0).single().expect("valid"))
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn postgres_admin_url() -> String {
    std::env::var("GRIDSAFE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh, empty database URL for `backend`, or `None` when PostgreSQL is not there and not required.
pub async fn fresh_database(backend: Backend, dir: &std::path::Path) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(format!("sqlite://{}", dir.join("gridsafe.db").display())),
        Backend::Postgres => {
            sqlx::any::install_default_drivers();
            let admin = postgres_admin_url();
            let mut conn = match sqlx::AnyConnection::connect(&admin).await {
                Ok(conn) => conn,
                Err(error) => {
                    if std::env::var_os("GRIDSAFE_TEST_POSTGRES").is_some() {
                        panic!("GRIDSAFE_TEST_POSTGRES is set but PostgreSQL is not reachable at {admin}: {error}");
                    }
                    eprintln!(
                        "NOTICE: PostgreSQL not reachable ({error}); skipping the PostgreSQL run of this test. Set GRIDSAFE_TEST_POSTGRES=1 to make this a failure."
                    );
                    return None;
                }
            };
            drop_stale_databases(&mut conn).await;
            let name = format!(
                "gs_test_{}_{}_{}",
                std::process::id(),
                process_nonce(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            );
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let _ = conn.close().await;
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base).to_owned();
            Some(format!("{base}/{name}"))
        }
    }
}

/// A random number fixed for this test process: with the pid it names the process's databases, so
/// a database left by an earlier process that had the same pid is told apart (and dropped).
fn process_nonce() -> u32 {
    static NONCE: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *NONCE.get_or_init(|| {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).expect("random");
        u32::from_le_bytes(bytes)
    })
}

/// Drops test databases left by test processes that are gone (each name carries the pid and the
/// nonce of its process): another pid no longer running, or this pid with another nonce.
async fn drop_stale_databases(conn: &mut sqlx::AnyConnection) {
    use sqlx::Row;
    let rows = sqlx::query("SELECT datname FROM pg_database WHERE datname LIKE 'gs_test_%'")
        .fetch_all(&mut *conn)
        .await
        .unwrap_or_default();
    for row in rows {
        let Ok(name) = row.try_get::<String, _>(0) else {
            continue;
        };
        let mut parts = name.split('_').skip(2);
        let pid = parts.next().and_then(|p| p.parse::<u32>().ok());
        let nonce = parts.next().and_then(|n| n.parse::<u32>().ok());
        let alive = match pid {
            Some(pid) if pid == std::process::id() => nonce == Some(process_nonce()),
            Some(pid) => std::path::Path::new(&format!("/proc/{pid}")).exists(),
            None => false,
        };
        if !alive {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&mut *conn)
                .await;
        }
    }
}

impl TestApp {
    pub async fn new(backend: Backend) -> Option<Self> {
        Self::new_with(backend, |_| {}).await
    }

    /// A fresh application on `backend` whose settings `tweak` changed first.
    pub async fn new_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Option<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = fresh_database(backend, dir.path()).await?;
        let mut settings = Settings::default();
        settings.database.url = DatabaseUrl::new(url);
        settings.audit.signing_key_path = dir.path().join("audit-signing.key");
        tweak(&mut settings);
        Some(Self::with_settings(settings, dir).await)
    }

    /// The backend this application runs on.
    pub fn backend(&self) -> Backend {
        if self.settings.database.url.expose().starts_with("postgres") { Backend::Postgres } else { Backend::Sqlite }
    }

    pub async fn with_settings(settings: Settings, dir: tempfile::TempDir) -> Self {
        let clock = Arc::new(ManualClock::new(start_of_test_time()));
        // PostgreSQL needs the explicit migrate step, as in production.
        let db = gridsafe::startup::connect(&settings).await.expect("connect");
        db.migrate(start_of_test_time()).await.expect("migrate");
        db.close().await;
        let state =
            gridsafe::prepare(&settings, clock.clone(), StartOptions::default()).await.expect("application starts");
        let router = gridsafe_web::router(state.clone());
        Self { state, router, clock, settings, dir }
    }

    pub async fn request(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.get_with(path, &[]).await
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut builder = Request::builder().method(Method::GET).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.request(builder.body(Body::empty()).expect("request")).await
    }

    /// A form post as a browser on this site sends it.
    pub async fn post_form(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("sec-fetch-site")) {
            builder = builder.header("sec-fetch-site", "same-origin");
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.request(builder.body(Body::from(body.to_owned())).expect("request")).await
    }
}

#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// The password every fixture user has.
pub const PASSWORD: &str = "Gs-Test-2026!";

/// Organisation units and users every identity test can rely on:
/// root (省公司) → city A → county A1; root → city B.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub root: UnitId,
    pub unit_a: UnitId,
    pub unit_a1: UnitId,
    pub unit_b: UnitId,
    /// One user per role, each holding that role at city A: (role, user id).
    pub by_role: Vec<(String, i64)>,
    /// A user with no roles, in county A1.
    pub plain_a1: i64,
    /// A user with no roles, in city B.
    pub plain_b: i64,
}

impl Fixture {
    pub fn user(&self, role: &str) -> i64 {
        self.by_role.iter().find(|(r, _)| r == role).map(|(_, id)| *id).expect("role in fixture")
    }
}

pub const ROLES: [&str; 12] = [
    "system_admin",
    "security_admin",
    "log_auditor",
    "safety_auditor",
    "customer_manager",
    "inspector",
    "ticket_issuer",
    "work_leader",
    "work_permitter",
    "crew_member",
    "contractor_admin",
    "leader",
];

/// `n` copies of `work` started together behind a barrier; their results in order.
pub async fn race<T, F, Fut>(n: usize, work: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let barrier = barrier.clone();
        let fut = work(i);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            fut.await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

pub fn operator() -> gridsafe_domain::access::Principal {
    gridsafe_domain::access::Principal::operator("test", gridsafe_domain::access::Channel::Cli)
}

pub fn meta() -> gridsafe_app::RequestMeta {
    gridsafe_app::RequestMeta { request_id: "test".into() }
}

impl TestApp {
    pub fn app(&self) -> &gridsafe_app::App {
        self.state.app()
    }

    /// Creates a unit through the real use case.
    pub async fn unit(&self, code: &str, name: &str, kind: &str, parent: Option<UnitId>) -> UnitId {
        use gridsafe_domain::access::perm;
        let cap = operator().authorize::<perm::UnitsManage>().expect("operator");
        let input = gridsafe_app::identity::NewUnit {
            code: code.into(),
            name: name.into(),
            kind: kind.into(),
            parent_id: parent,
        };
        gridsafe_app::identity::create_unit(self.app(), &cap, &meta(), input).await.expect("unit").id
    }

    /// Creates a user with [`PASSWORD`] (already changed, so no forced change) and `roles` at units.
    pub async fn user(&self, username: &str, unit: UnitId, roles: &[(&str, UnitId)]) -> i64 {
        use gridsafe_domain::access::perm;
        let cap = operator().authorize::<perm::UsersManage>().expect("operator");
        let input = gridsafe_app::identity::NewUser {
            username: username.into(),
            display_name: format!("测试{username}"),
            unit_id: unit,
            password: Some(PASSWORD.into()),
        };
        let (id, _) = gridsafe_app::identity::create_user(self.app(), &cap, &meta(), input).await.expect("user");
        for (role, at) in roles {
            gridsafe_app::identity::grant_role(self.app(), &cap, &meta(), id, role, *at).await.expect("role");
        }
        sqlx::query("UPDATE users SET must_change_password = 0 WHERE id = $1")
            .bind(id)
            .execute(self.state.db().pool())
            .await
            .expect("clear forced change");
        id
    }

    /// A person of `unit` holding the 安规 exam and `lists` (qualification kinds) for 2026.
    pub async fn person(&self, unit: UnitId, code: &str, lists: &[&str]) -> PersonId {
        use gridsafe_domain::access::perm;
        let cap = operator().authorize::<perm::PeopleManage>().expect("operator");
        let reach = gridsafe_app::people::Reach::units(&cap);
        let input = gridsafe_app::people::PersonInput {
            code: code.into(),
            name: format!("测试{code}"),
            unit_id: unit,
            active: true,
            ..Default::default()
        };
        let id = gridsafe_app::people::save_person(self.app(), &reach, &meta(), None, input).await.expect("person");
        for kind in std::iter::once(&"safety_exam").chain(lists) {
            let q = gridsafe_app::people::QualificationInput {
                kind: (*kind).into(),
                valid_from: "2026-01-01".into(),
                valid_to: "2026-12-31".into(),
                passed: true,
                ..Default::default()
            };
            gridsafe_app::people::add_qualification(self.app(), &reach, &meta(), id, q).await.expect("qualification");
        }
        id
    }

    pub async fn fixture(&self) -> Fixture {
        let root = self.unit("HB", "湖北省电力公司", "province", None).await;
        let unit_a = self.unit("XG", "孝感供电公司", "city", Some(root)).await;
        let unit_a1 = self.unit("XG-XN", "孝南供电中心", "county", Some(unit_a)).await;
        let unit_b = self.unit("WH", "武汉供电公司", "city", Some(root)).await;
        let mut by_role = Vec::new();
        for role in ROLES {
            let id = self.user(&format!("u_{role}"), unit_a, &[(role, unit_a)]).await;
            by_role.push((role.to_owned(), id));
        }
        let plain_a1 = self.user("plain_a1", unit_a1, &[]).await;
        let plain_b = self.user("plain_b", unit_b, &[]).await;
        Fixture { root, unit_a, unit_a1, unit_b, by_role, plain_a1, plain_b }
    }

    /// A `Cookie` header value of a fresh session for `user_id`, made without signing in
    /// (tests of sign-in itself use the real form).
    pub async fn session_for(&self, user_id: i64) -> String {
        use sha2::Digest;
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("random");
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let hash: String = sha2::Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        let now = self.clock_now().to_db();
        sqlx::query("INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3)")
            .bind(hash)
            .bind(user_id)
            .bind(now)
            .execute(self.state.db().pool())
            .await
            .expect("session");
        format!("gs_session={token}")
    }

    pub fn clock_now(&self) -> Timestamp {
        use gridsafe_domain::time::Clock;
        self.clock.now()
    }

    pub async fn audit_count(&self) -> i64 {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) FROM audit_events")
            .fetch_one(self.state.db().pool())
            .await
            .expect("count")
            .try_get(0)
            .expect("count")
    }

    /// The actions of the audit trail, oldest first.
    pub async fn audit_actions(&self) -> Vec<String> {
        sqlx::query_as::<_, (String,)>("SELECT action FROM audit_events ORDER BY seq")
            .fetch_all(self.state.db().pool())
            .await
            .expect("actions")
            .into_iter()
            .map(|(a,)| a)
            .collect()
    }

    /// Signs in through the real form; returns the response.
    pub async fn login(&self, username: &str, password: &str) -> TestResponse {
        let body = format!("username={username}&password={}", urlencode(password));
        self.post_form("/login", &body, &[]).await
    }

    pub async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if body.is_some() {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
        self.request(builder.body(body).expect("request")).await
    }

    /// Each page's ids of an API list from `first` on, following its `Link: <…>; rel="next"`
    /// headers.
    pub async fn api_pages(&self, auth: &[(&str, &str)], first: &str) -> Vec<Vec<i64>> {
        let (mut pages, mut url) = (Vec::new(), first.to_owned());
        loop {
            let r = self.json(Method::GET, &url, None, auth).await;
            assert_eq!(r.status, 200, "{url}: {}", r.body);
            pages.push(
                r.json().as_array().expect("a list").iter().map(|row| row["id"].as_i64().expect("an id")).collect(),
            );
            let Some(link) = r.headers.get("link") else { break };
            let link = link.to_str().expect("ASCII");
            assert!(link.ends_with(">; rel=\"next\"") && pages.len() < 20, "{link}");
            url = link.trim_start_matches('<').split('>').next().expect("a link").to_owned();
        }
        pages
    }
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl TestResponse {
    /// The session cookie this response sets, as a `Cookie` header value.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("gs_session=") && !c.contains("Max-Age=0"))
            .and_then(|c| c.split(';').next())
            .map(str::to_owned)
    }
}

/// A signed-in user's principal holding `permissions` at `path` (use cases called directly).
pub fn principal(
    user_id: i64,
    name: &str,
    permissions: &[gridsafe_domain::access::Permission],
    path: &gridsafe_domain::access::UnitPath,
) -> gridsafe_domain::access::Principal {
    use gridsafe_domain::access::{Actor, Channel, Principal};
    let actor = Actor { user_id: Some(user_id), name: name.into(), channel: Channel::Api };
    Principal::new(actor, permissions.iter().map(|p| (*p, path.clone())).collect())
}

/// The capability `p` holds (the test granted it).
pub fn cap<P: gridsafe_domain::access::PermissionMarker>(
    p: &gridsafe_domain::access::Principal,
) -> gridsafe_domain::access::Capability<P> {
    p.authorize::<P>().expect("granted")
}

/// The rule codes of a refusal; anything else fails the test.
pub fn rule_codes(error: gridsafe_app::AppError) -> Vec<&'static str> {
    match error {
        gridsafe_app::AppError::Rule(v) => vec![v.rule.code],
        gridsafe_app::AppError::Rules(vs) => vs.into_iter().map(|v| v.rule.code).collect(),
        other => panic!("not a refusal: {other:?}"),
    }
}
