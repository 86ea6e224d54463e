//! What every handler can reach: the use cases (with the database and the clock) and the web
//! settings.

use std::sync::Arc;

use gridsafe_app::App;
use gridsafe_store::Database;

use crate::WebConfig;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    app: App,
    config: WebConfig,
    pages: crate::layout::kept::Pages,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("app", &self.inner.app).finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(app: App, config: WebConfig) -> Self {
        Self { inner: Arc::new(Inner { app, config, pages: Default::default() }) }
    }

    pub fn app(&self) -> &App {
        &self.inner.app
    }

    pub fn db(&self) -> &Database {
        self.inner.app.db()
    }

    pub fn config(&self) -> &WebConfig {
        &self.inner.config
    }

    /// Rendered pages kept while the data stays the same (the ticket list).
    pub fn pages(&self) -> &crate::layout::kept::Pages {
        &self.inner.pages
    }
}
