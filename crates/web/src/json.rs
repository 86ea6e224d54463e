//! Our own JSON body extractor, so that every malformed body is answered in the API's one
//! error envelope with status 422, whatever axum's rejection was.

use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::{AppError, ErrorCode, ErrorInfo};

#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let bytes = match axum::body::Bytes::from_request(Request::from_parts(parts.clone(), body), state).await {
            Ok(bytes) => bytes,
            // Over `server.max_body_bytes`: too large, whatever it holds.
            Err(rejection) if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AppError::code(ErrorCode::PayloadTooLarge));
            }
            Err(rejection) => return Err(invalid(rejection.body_text())),
        };
        // No one types a NUL character, and PostgreSQL's text cannot store it.
        if has_nul_escape(&bytes) {
            return Err(crate::form::nul_character());
        }
        let request = Request::from_parts(parts, axum::body::Body::from(bytes));
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            // Over `server.max_body_bytes`: too large, whatever it holds.
            Err(rejection) if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::code(ErrorCode::PayloadTooLarge))
            }
            Err(rejection) => Err(invalid(rejection.body_text())),
        }
    }
}

fn invalid(cause: String) -> AppError {
    AppError::Client(
        ErrorInfo::new(ErrorCode::InvalidRequest)
            .detail("error-invalid-json", vec![("cause", crate::i18n::Arg::from(cause))]),
    )
}

/// Whether JSON text holds the escape of a NUL character (`\u0000`, its backslash not itself
/// escaped). A raw NUL byte is invalid JSON already.
fn has_nul_escape(json: &[u8]) -> bool {
    json.windows(6).enumerate().any(|(at, w)| {
        w.eq_ignore_ascii_case(b"\\u0000") && json[..at].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 0
    })
}

/// A multipart upload for the API: a request that is not `multipart/form-data` (or has no
/// boundary) is 415 in the error envelope, one over the body limit 413, as the document says.
#[derive(Debug)]
pub struct ApiMultipart(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for ApiMultipart {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Multipart::from_request(request, state).await {
            Ok(multipart) => Ok(Self(multipart)),
            Err(rejection) if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::code(ErrorCode::PayloadTooLarge))
            }
            Err(_) => Err(AppError::code(ErrorCode::UnsupportedMediaType)),
        }
    }
}

/// Path parameters; one that does not parse (say an id beyond i64) names no record: 404.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(_) => Err(AppError::code(ErrorCode::NotFound)),
        }
    }
}

/// JSON Schema counts `1.0` as an integer; so do we, for integer fields of request bodies.
pub mod whole {
    use serde::{Deserialize, Deserializer, de::Error};

    fn to_i64(n: &serde_json::Number) -> Option<i64> {
        n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= -9_007_199_254_740_992.0 && *f <= 9_007_199_254_740_992.0)
                .map(|f| f as i64)
        })
    }

    pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let n = serde_json::Number::deserialize(d)?;
        to_i64(&n).ok_or_else(|| D::Error::custom(format!("{n} is not a whole number")))
    }

    pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Option::<serde_json::Number>::deserialize(d)?
            .map(|n| to_i64(&n).ok_or_else(|| D::Error::custom(format!("{n} is not a whole number"))))
            .transpose()
    }

    pub fn vec_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<i64>, D::Error> {
        Vec::<serde_json::Number>::deserialize(d)?
            .iter()
            .map(|n| to_i64(n).ok_or_else(|| D::Error::custom(format!("{n} is not a whole number"))))
            .collect()
    }

    pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let n = i64(d)?;
        u32::try_from(n).map_err(|_| D::Error::custom(format!("{n} is out of range")))
    }
}

/// Query parameters; a malformed or incomplete query is answered 422 in the envelope.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(AppError::Client(
                ErrorInfo::new(ErrorCode::InvalidRequest)
                    .detail("error-invalid-query", vec![("cause", crate::i18n::Arg::from(rejection.body_text()))]),
            )),
        }
    }
}

/// A whole number as a query string writes it: `12`, or `12.0`.
pub fn whole(text: &str) -> Option<i64> {
    let t = text.trim();
    t.parse::<i64>().ok().or_else(|| {
        t.parse::<f64>().ok().filter(|f| f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0).map(|f| f as i64)
    })
}

/// A string schema that takes only `values` (for a parameter's or field's `schema_with`).
pub fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(values)).build()
}

#[cfg(test)]
mod tests {
    use super::has_nul_escape;

    #[test]
    fn a_nul_escape_is_found_and_an_escaped_backslash_before_u0000_is_not_one() {
        assert!(has_nul_escape(br#"{"id":"P\u00001"}"#));
        assert!(has_nul_escape(br#"{"id":"\\\u0000"}"#), "an escaped backslash, then the escape");
        assert!(!has_nul_escape(br#"{"id":"\\u0000"}"#), "a backslash, then the text u0000");
        assert!(!has_nul_escape(br#"{"id":"u0000"}"#));
    }
}
