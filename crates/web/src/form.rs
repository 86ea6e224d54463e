//! Form bodies and query strings that must be UTF-8: axum's `Form` (through
//! `serde_urlencoded`) replaces invalid bytes with U+FFFD and carries on, so a name typed in a
//! GBK page would be stored garbled without a word. Here such input is refused (422) naming the
//! problem; an oversized body is 413 as before. So is a NUL character (`%00`): no one types
//! one, and PostgreSQL's text cannot store it (the write would fail as a server error).

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::error::{AppError, ErrorCode, ErrorInfo};

/// Whether every key and value of `application/x-www-form-urlencoded` text decodes to UTF-8
/// without a NUL character.
pub fn is_utf8_urlencoded(input: &[u8]) -> bool {
    let mut decoded = Vec::new();
    for pair in input.split(|b| *b == b'&') {
        decoded.clear();
        let mut i = 0;
        while i < pair.len() {
            match pair[i] {
                b'%' if i + 2 < pair.len() => match (hex(pair[i + 1]), hex(pair[i + 2])) {
                    (Some(h), Some(l)) => {
                        decoded.push(h * 16 + l);
                        i += 3;
                        continue;
                    }
                    _ => decoded.push(b'%'),
                },
                b'+' => decoded.push(b' '),
                b => decoded.push(b),
            }
            i += 1;
        }
        if decoded.contains(&0) || std::str::from_utf8(&decoded).is_err() {
            return false;
        }
    }
    true
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

fn not_utf8() -> AppError {
    AppError::Client(ErrorInfo::new(ErrorCode::InvalidRequest).detail("error-not-utf8", Vec::new()))
}

/// A body or query holding a NUL character.
pub(crate) fn nul_character() -> AppError {
    AppError::Client(ErrorInfo::new(ErrorCode::InvalidRequest).detail("error-nul-character", Vec::new()))
}

/// Whether a urlencoded text holds an escaped NUL character (`%00`).
fn has_nul(input: &[u8]) -> bool {
    input.windows(3).any(|w| w == b"%00") || input.contains(&0)
}

/// A form body, refused unless it is UTF-8.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !is_utf8_urlencoded(&bytes) {
            return Err(if has_nul(&bytes) { nul_character() } else { not_utf8() }.into_response());
        }
        let request = Request::from_parts(parts, Body::from(bytes));
        axum::Form::<T>::from_request(request, state).await.map(|f| Self(f.0)).map_err(IntoResponse::into_response)
    }
}

/// Refuses a request whose query string is not UTF-8, before any handler reads it.
pub async fn utf8_query(request: Request, next: Next) -> Response {
    if let Some(query) = request.uri().query().filter(|q| !is_utf8_urlencoded(q.as_bytes())) {
        let refusal = if has_nul(query.as_bytes()) { nul_character() } else { not_utf8() };
        let mut response = refusal.into_response();
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return response;
    }
    next.run(request).await
}

/// A form that only states why (a deletion).
#[derive(Debug, Default, serde::Deserialize)]
pub struct ReasonForm {
    #[serde(default)]
    pub reason: String,
}

/// A page form that signs (an evaluation) or records a signature (a notice receipt) carries the
/// box its signer ticks after reading the summary above it: `confirm=1`. The API has no box.
pub fn confirmed(value: &str) -> Result<(), gridsafe_app::AppError> {
    if value == "1" { Ok(()) } else { Err(gridsafe_app::AppError::invalid("confirm", "field-confirm-signature")) }
}

/// The header the page script sends when it submits a form itself, to show a refusal beside the
/// form instead of on a page of its own.
pub const INLINE_SUBMIT: &str = "x-gridsafe-inline";
/// Where the script goes next after a form it submitted succeeded.
pub const INLINE_LOCATION: &str = "x-gridsafe-location";

/// A form the page script submitted: a redirect becomes `204` naming its target in
/// [`INLINE_LOCATION`], so the script navigates there itself (a followed redirect would lose the
/// target's `#fragment`). Everything else passes unchanged; forms work the same without script.
pub async fn inline_redirects(request: Request, next: Next) -> Response {
    let inline = request.headers().contains_key(INLINE_SUBMIT);
    let response = next.run(request).await;
    if !inline || !response.status().is_redirection() {
        return response;
    }
    let Some(location) = response.headers().get(axum::http::header::LOCATION).cloned() else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    parts.status = StatusCode::NO_CONTENT;
    parts.headers.remove(axum::http::header::LOCATION);
    parts.headers.insert(INLINE_LOCATION, location);
    Response::from_parts(parts, Body::empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn utf8_and_its_escapes_pass_and_other_bytes_do_not() {
        assert!(is_utf8_urlencoded(b"name=%E5%BC%A0%E4%BC%9F&q=a+b"));
        assert!(is_utf8_urlencoded("name=张伟".as_bytes()));
        assert!(is_utf8_urlencoded(b"q=100%&x=%"), "a stray percent sign is kept as is");
        assert!(!is_utf8_urlencoded(b"name=%D5%C5%CE%B0"), "GBK for 张伟");
        assert!(!is_utf8_urlencoded(b"a=1&name=%FF"));
        assert!(!is_utf8_urlencoded(b"%C3=1"), "keys too");
        assert!(!is_utf8_urlencoded(b"name=a%00b") && has_nul(b"name=a%00b"), "a NUL character");
        assert!(!has_nul(b"name=%FF"));
    }

    proptest! {
        #[test]
        fn any_text_encoded_as_a_form_passes(text in "\\PC{0,40}") {
            let encoded = format!("k={}", text.bytes().map(|b| format!("%{b:02X}")).collect::<String>());
            prop_assert!(is_utf8_urlencoded(encoded.as_bytes()));
        }

        #[test]
        fn never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = is_utf8_urlencoded(&bytes);
        }
    }
}
