//! What every handler can reach: the database, the settings and the clock.

use std::sync::Arc;

use gridsafe_domain::time::Clock;
use gridsafe_store::Database;

use crate::WebConfig;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    config: WebConfig,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.inner.db)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(db: Database, config: WebConfig, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner { db, config, clock }),
        }
    }

    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    pub fn config(&self) -> &WebConfig {
        &self.inner.config
    }

    pub fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }
}
