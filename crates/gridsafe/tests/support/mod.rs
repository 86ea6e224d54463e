//! The test harness every integration test uses: the real application, built in process, on a
//! database of its own.
//!
//! [`backend_tests!`] writes each test twice, once on a fresh SQLite file and once on a fresh
//! PostgreSQL database on 127.0.0.1:5432 (or `GRIDSAFE_TEST_POSTGRES_URL`). Without a reachable
//! PostgreSQL the second run is skipped with a printed notice, unless `GRIDSAFE_TEST_POSTGRES`
//! is set (as in CI), when it fails instead.

#![allow(dead_code, reason = "each test binary uses a different part of the harness")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::TimeZone;
use gridsafe::Settings;
use gridsafe::startup::StartOptions;
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
    _dir: tempfile::TempDir,
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
            let name = format!("gs_test_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
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

/// Drops test databases left by test processes that are gone (each name carries its pid).
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
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&mut *conn)
                .await;
        }
    }
}

impl TestApp {
    pub async fn new(backend: Backend) -> Option<Self> {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = fresh_database(backend, dir.path()).await?;
        let mut settings = Settings::default();
        settings.database.url = DatabaseUrl::new(url);
        Some(Self::with_settings(settings, dir).await)
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
        Self { state, router, clock, settings, _dir: dir }
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
