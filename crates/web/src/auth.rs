//! Who is asking: the session cookie (pages) or an API token (`Authorization: Bearer`), and the
//! one call that turns a permission into a capability, auditing every refusal.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::identity::{CurrentUser, SESSION_COOKIE, authenticate_session, authenticate_token};
use gridsafe_app::{AppError as UseCaseError, RequestMeta};
use gridsafe_domain::access::{Capability, Denied, PermissionMarker};

use crate::context::cookie;
use crate::error::{AppError, ErrorCode, ErrorInfo};
use crate::{AppState, REQUEST_ID};

/// The signed-in user of a request, with what the audit trail needs to know of the request.
#[derive(Debug, Clone)]
pub struct Auth {
    pub user: CurrentUser,
    pub meta: RequestMeta,
    /// The session token, when the request came from a browser session.
    pub session: Option<String>,
    /// Where the data stood before the session was read (browser sessions): what a page keeps
    /// in [`crate::layout::kept`] is kept under it.
    pub version: Option<gridsafe_app::cache::Version>,
}

/// Paths a user who must change their password may still reach.
const PASSWORD_CHANGE_PATHS: &[&str] = &["/account/password", "/logout"];

/// Why a request is not authenticated, answered per channel.
#[derive(Debug)]
pub enum AuthRejection {
    /// A page: go and sign in, then come back.
    SignIn {
        next: String,
    },
    /// A page while a new password is due.
    ChangePassword,
    Api(AppError),
    Internal(AppError),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::SignIn { next } => {
                let target = format!("/login?next={}", url_encode(&next));
                Redirect::to(&target).into_response()
            }
            AuthRejection::ChangePassword => Redirect::to("/account/password").into_response(),
            AuthRejection::Api(error) | AuthRejection::Internal(error) => error.into_response(),
        }
    }
}

/// Percent-encodes a path for a query parameter.
pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn request_meta(parts: &Parts) -> RequestMeta {
    RequestMeta {
        request_id: parts.headers.get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned(),
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let api = parts.uri.path().starts_with("/api/");
        let meta = request_meta(parts);
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let fail = |error: UseCaseError| match error {
            UseCaseError::Unauthenticated if api => AuthRejection::Api(AppError::code(ErrorCode::Unauthenticated)),
            UseCaseError::Unauthenticated => {
                AuthRejection::SignIn { next: parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned() }
            }
            other => AuthRejection::Internal(other.into()),
        };
        let (user, session, version) = match bearer {
            Some(token) => (authenticate_token(state.app(), token).await.map_err(fail)?, None, None),
            None => {
                let token =
                    cookie(&parts.headers, SESSION_COOKIE).ok_or_else(|| fail(UseCaseError::Unauthenticated))?;
                let version = state.app().version().await.map_err(fail)?;
                (authenticate_session(state.app(), &token, &version).await.map_err(fail)?, Some(token), Some(version))
            }
        };
        if user.must_change_password && !PASSWORD_CHANGE_PATHS.contains(&parts.uri.path()) {
            return Err(if api {
                AuthRejection::Api(AppError::code(ErrorCode::PasswordChangeRequired))
            } else {
                AuthRejection::ChangePassword
            });
        }
        Ok(Self { user, meta, session, version })
    }
}

impl Auth {
    /// Before a signature that grants or ends work: the password typed again when the browser
    /// session proved it too long ago (see `gridsafe_app::identity::confirm_signature`).
    pub async fn confirm_signature(&self, state: &AppState, grants_work: bool, password: &str) -> Result<(), AppError> {
        if !grants_work {
            return Ok(());
        }
        let confirmed = gridsafe_app::identity::confirm_signature(
            state.app(),
            &self.meta,
            &self.user,
            self.session.as_deref(),
            password,
        )
        .await;
        Ok(confirmed?)
    }

    /// Refuses requests made with an API token: a token may not change the password, manage
    /// tokens or sign out, so a leaked token cannot make itself permanent.
    pub async fn require_session(&self, state: &AppState) -> Result<(), AppError> {
        if self.session.is_some() {
            return Ok(());
        }
        gridsafe_app::identity::session_only(state.app(), &self.user, &self.meta).await?;
        Err(AppError::Client(ErrorInfo::new(ErrorCode::Forbidden).detail("error-session-only", Vec::new())))
    }

    /// The capability for permission `P`, or a 403 (written to the audit trail by the use-case
    /// layer).
    pub async fn require<P: PermissionMarker>(&self, state: &AppState) -> Result<Capability<P>, AppError> {
        Ok(gridsafe_app::identity::authorize::<P>(state.app(), &self.user, &self.meta).await?)
    }

    /// The caller as an administrator of accounts: the system administrator (ordinary accounts)
    /// or the security administrator (administrators' accounts); refused (and audited) otherwise.
    pub async fn account_admin(&self, state: &AppState) -> Result<gridsafe_app::identity::AccountAdmin, AppError> {
        let p = &self.user.principal;
        if let Ok(cap) = p.authorize::<gridsafe_domain::access::perm::AccountsReview>() {
            return Ok((&cap).into());
        }
        Ok((&self.require::<gridsafe_domain::access::perm::UsersManage>(state).await?).into())
    }

    /// Whether the caller administers accounts at all (for showing the forms).
    pub fn is_account_admin(&self) -> Option<gridsafe_app::identity::AccountAdmin> {
        let p = &self.user.principal;
        p.authorize::<gridsafe_domain::access::perm::AccountsReview>()
            .map(|c| (&c).into())
            .or_else(|_| p.authorize::<gridsafe_domain::access::perm::UsersManage>().map(|c| (&c).into()))
            .ok()
    }

    /// Records an access denial (through the use-case layer) and returns the error to answer with.
    pub async fn denied(&self, state: &AppState, denied: Denied, record: &str) -> AppError {
        gridsafe_app::identity::deny(state.app(), &self.user, &self.meta, denied, record).await.into()
    }

    /// Passes `result` through; a denial found inside a use case (a record outside the user's
    /// units) is recorded by the use-case layer.
    pub async fn checked<T>(&self, state: &AppState, result: Result<T, UseCaseError>) -> Result<T, AppError> {
        Ok(gridsafe_app::identity::checked(state.app(), &self.user, &self.meta, result).await?)
    }
}

/// The `Set-Cookie` value for a session (or for clearing it, with `None`).
pub fn session_cookie(state: &AppState, token: Option<&str>) -> HeaderValue {
    let secure = if state.app().security().secure_cookies { "; Secure" } else { "" };
    let value = match token {
        Some(token) => format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax{secure}"),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("gs_session=; Path=/; Max-Age=0"))
}

/// An error for a request that needs no capability but a valid record.
pub fn not_found() -> AppError {
    AppError::Client(ErrorInfo::new(ErrorCode::NotFound))
}
