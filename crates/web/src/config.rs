//! Web settings, as they appear in `gridsafe.toml` under `[server]`.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// Address and port to listen on. Loopback by default: put a reverse proxy in front to
    /// serve other machines.
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes (uploads included).
    pub max_body_bytes: usize,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_proxy_headers: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: 20 * 1024 * 1024,
            trust_proxy_headers: false,
        }
    }
}

impl WebConfig {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.max_body_bytes < 1024 {
            problems.push(("server.max_body_bytes", "must be at least 1024".to_owned()));
        }
        problems
    }
}
