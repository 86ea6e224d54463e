//! Static assets, embedded in the binary: nothing to install or build besides Cargo.
//!
//! Each is served under a URL carrying a hash of its content, so browsers may cache it forever
//! and still see a new version at once.

use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

pub struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
    url: LazyLock<String>,
}

impl Asset {
    pub fn url(&'static self) -> &'static str {
        &self.url
    }
}

const fn fnv(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

macro_rules! asset {
    ($ident:ident, $name:literal, $content_type:literal) => {
        pub static $ident: Asset = Asset {
            name: $name,
            content_type: $content_type,
            body: include_str!(concat!("../static/", $name)),
            url: LazyLock::new(|| {
                format!("/static/{:08x}/{}", fnv(include_bytes!(concat!("../static/", $name))) as u32, $name)
            }),
        };
    };
}

asset!(CSS, "style.css", "text/css; charset=utf-8");
asset!(JS, "app.js", "text/javascript; charset=utf-8");
asset!(ICON, "favicon.svg", "image/svg+xml");

static ALL: [&Asset; 3] = [&CSS, &JS, &ICON];

/// The asset routes, for the route table.
pub const ROUTES: &[(&str, &str)] = &[("GET", "/static/{version}/{name}"), ("GET", "/favicon.ico")];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/{version}/{name}", get(serve))
        // Browsers ask for this path on their own.
        .route("/favicon.ico", get(|| async { axum::response::Redirect::permanent(ICON.url()) }))
}

async fn serve(Path((_version, name)): Path<(String, String)>) -> Response {
    match ALL.iter().find(|a| a.name == name) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
            ],
            asset.body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
