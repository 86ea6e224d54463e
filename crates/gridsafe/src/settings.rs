//! Typed, layered settings: built-in defaults → `gridsafe.toml` → `GRIDSAFE_<SECTION>__<KEY>`
//! environment variables → command-line flags. Validated at start; secrets never printed.

use std::path::Path;

use gridsafe_app::{
    AuditConfig, CrossAuditConfig, EmergencyConfig, InspectionsConfig, PeopleConfig, PlansConfig, QualityConfig,
    SecurityConfig, TicketsConfig, WebhooksConfig,
};
use gridsafe_store::DatabaseConfig;
use gridsafe_web::WebConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub server: WebConfig,
    pub database: DatabaseConfig,
    pub security: SecurityConfig,
    pub audit: AuditConfig,
    pub people: PeopleConfig,
    pub tickets: TicketsConfig,
    pub crossaudit: CrossAuditConfig,
    pub inspections: InspectionsConfig,
    pub plans: PlansConfig,
    pub emergency: EmergencyConfig,
    pub quality: QualityConfig,
    pub webhooks: WebhooksConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` (readable, for a terminal) or `json` (one object per line, for collectors).
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `info,gridsafe_web=debug`.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Pretty, filter: "info,sqlx=warn".to_owned() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Why the settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Load(#[from] config::ConfigError),
    #[error("invalid settings")]
    Invalid(Vec<(&'static str, String)>),
}

impl Settings {
    /// Loads the layers. `file` is `--config`; without it `./gridsafe.toml` is read if present.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let env = std::env::vars().collect::<Vec<_>>();
        Self::load_from(file, &env)
    }

    /// [`Self::load`] with the environment given, for tests.
    pub fn load_from(file: Option<&Path>, env: &[(String, String)]) -> Result<Self, SettingsError> {
        use config::{Config, File, FileFormat};
        let mut builder = Config::builder().add_source(Config::try_from(&Settings::default())?);
        builder = match file {
            Some(path) => builder.add_source(File::from(path).format(FileFormat::Toml).required(true)),
            None => builder.add_source(File::new("gridsafe.toml", FileFormat::Toml).required(false)),
        };
        // Only `GRIDSAFE_<SECTION>__<KEY>`: other GRIDSAFE_* variables (GRIDSAFE_DATABASE_URL,
        // GRIDSAFE_LANG, test switches) belong to the command line and are not settings.
        for (name, value) in env {
            if let Some((section, key)) = name.strip_prefix("GRIDSAFE_").and_then(|rest| rest.split_once("__")) {
                let key = format!("{}.{}", section.to_ascii_lowercase(), key.to_ascii_lowercase());
                builder = builder.set_override(key, value.as_str())?;
            }
        }
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        let mut problems = self.server.problems();
        problems.extend(self.database.problems());
        problems.extend(self.security.problems());
        problems.extend(self.audit.problems());
        problems.extend(self.people.problems());
        problems.extend(self.tickets.problems());
        problems.extend(self.crossaudit.problems());
        problems.extend(self.inspections.problems());
        problems.extend(self.plans.problems());
        problems.extend(self.emergency.problems());
        problems.extend(self.quality.problems());
        problems.extend(self.webhooks.problems());
        if self.log.filter.parse::<tracing_subscriber::EnvFilter>().is_err() {
            problems.push(("log.filter", format!("'{}' is not a valid filter", self.log.filter)));
        }
        if problems.is_empty() { Ok(()) } else { Err(SettingsError::Invalid(problems)) }
    }

    /// The defaults as a commented `gridsafe.toml`.
    pub fn default_toml() -> String {
        let body = toml::to_string_pretty(&Settings::default()).unwrap_or_default();
        format!(
            "# GridSafe settings: the built-in defaults. Copy to gridsafe.toml and change what you need.\n\
             # Each key can also be set as GRIDSAFE_<SECTION>__<KEY>, e.g. GRIDSAFE_SERVER__LISTEN.\n\n{body}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("gridsafe.toml");
        std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:9000\"\n[database]\nmax_connections = 3\n")
            .expect("write");
        let s = Settings::load_from(
            Some(&file),
            &env(&[("GRIDSAFE_DATABASE__MAX_CONNECTIONS", "5"), ("GRIDSAFE_DATABASE_URL", "ignored")]),
        )
        .expect("loads");
        assert_eq!(s.server.listen.port(), 9000);
        assert_eq!(s.database.max_connections, 5, "environment overrides the file");
        assert_eq!(s.database.url, gridsafe_store::DatabaseUrl::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("gridsafe.toml");
        std::fs::write(&file, "[server]\nlisten_on = \"x\"\n").expect("write");
        let err = Settings::load_from(Some(&file), &[]).expect_err("unknown key");
        assert!(err.to_string().contains("listen_on"), "{err}");

        let err = Settings::load_from(
            None,
            &env(&[("GRIDSAFE_DATABASE__URL", "mysql://x"), ("GRIDSAFE_DATABASE__MAX_CONNECTIONS", "0")]),
        )
        .expect_err("invalid");
        let SettingsError::Invalid(problems) = err else { panic!("expected validation problems") };
        let keys: Vec<_> = problems.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["database.url", "database.max_connections"]);
    }

    #[test]
    fn default_toml_round_trips() {
        let parsed: Settings = toml::from_str(&Settings::default_toml()).expect("parses");
        assert_eq!(parsed, Settings::default());
    }
}
