//! Database settings, as they appear in `gridsafe.toml` under `[database]`.

use serde::{Deserialize, Serialize};

use crate::{Backend, StoreError};

/// Where the data lives. A PostgreSQL URL may carry a password, so this type never shows it:
/// `Debug` and [`DatabaseUrl::redacted`] replace it with `***`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub const DEFAULT: &'static str = "sqlite://gridsafe-data/gridsafe.db";

    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The URL with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn backend(&self) -> Result<Backend, StoreError> {
        if self.0.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if self.0.starts_with("postgres://") || self.0.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    /// The file of an SQLite database (`None` for PostgreSQL and for `:memory:`).
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        let rest = self.0.strip_prefix("sqlite://").or_else(|| self.0.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or(rest);
        (path != ":memory:" && !path.is_empty()).then(|| std::path::PathBuf::from(path))
    }

    /// The URL safe to print or log: the password, if any, replaced by `***`.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return self.0.clone();
        };
        let (authority, tail) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
                let hidden = if userinfo.contains(':') { ":***" } else { "" };
                format!("{scheme}://{user}{hidden}@{host}{tail}")
            }
            None => self.0.clone(),
        }
    }
}

impl Default for DatabaseUrl {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path/to/file.db` (embedded, the default) or `postgres://user@host/db`.
    pub url: DatabaseUrl,
    /// Upper bound of the connection pool.
    pub max_connections: u32,
    /// How long a request waits for a pooled connection, in milliseconds.
    pub acquire_timeout_ms: u64,
    /// How long SQLite waits for the write lock, in milliseconds.
    pub busy_timeout_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: DatabaseUrl::default(), max_connections: 8, acquire_timeout_ms: 1_500, busy_timeout_ms: 10_000 }
    }
}

impl DatabaseConfig {
    /// Every problem with these settings, each as `(key, what is wrong)`.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.url.backend().is_err() {
            problems.push(("database.url", format!("'{}' is neither sqlite:// nor postgres://", self.url.redacted())));
        }
        if self.max_connections == 0 {
            problems.push(("database.max_connections", "must be at least 1".to_owned()));
        }
        if self.acquire_timeout_ms == 0 {
            problems.push(("database.acquire_timeout_ms", "must be at least 1".to_owned()));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_never_shown() {
        let url = DatabaseUrl::new("postgres://gs:s3cret@db.example:5432/gridsafe?sslmode=disable");
        assert_eq!(url.redacted(), "postgres://gs:***@db.example:5432/gridsafe?sslmode=disable");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(DatabaseUrl::new("postgres://gs@h/db").redacted(), "postgres://gs@h/db");
        assert_eq!(DatabaseUrl::default().redacted(), DatabaseUrl::DEFAULT);
    }

    #[test]
    fn backend_from_scheme() {
        assert_eq!(DatabaseUrl::default().backend().ok(), Some(Backend::Sqlite));
        assert_eq!(DatabaseUrl::new("postgresql://x/y").backend().ok(), Some(Backend::Postgres));
        assert!(DatabaseUrl::new("mysql://x/y").backend().is_err());
    }
}
