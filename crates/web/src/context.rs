//! What a page needs to know about the request it answers: language, CSP nonce, path.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::headers::CspNonce;
use crate::i18n::{LANG_COOKIE, Lang};

/// The request as seen by a page.
#[derive(Debug, Clone)]
pub struct PageContext {
    pub lang: Lang,
    pub nonce: String,
    /// The path (without query) of this page, for the language switch to come back to.
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for PageContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self {
            lang: request_lang(&parts.headers),
            nonce: parts.extensions.get::<CspNonce>().map(|n| n.0.clone()).unwrap_or_default(),
            path: parts.uri.path().to_owned(),
        })
    }
}

/// The request's language: the user's choice (cookie), else the browser's, else zh-CN.
pub fn request_lang(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(|v| Lang::from_tag(&v))
        .or_else(|| {
            headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}
