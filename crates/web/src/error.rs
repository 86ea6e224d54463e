//! Errors as users see them: a page in their language with a way back, or the API's one
//! JSON envelope with a stable code. Internal causes are logged once and never shown.
//!
//! Handlers return [`AppError`]; it becomes a bare response carrying [`ErrorInfo`], and
//! [`localize_rejections`] renders every bare error response (ours, and axum's or tower's own
//! rejections: 404, 405, 413, 415, cross-site) in the request's language, as HTML for pages and
//! as the envelope under `/api/`.

use std::any::Any;

use askama::Template;
use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::REQUEST_ID;
use crate::context::request_lang;
use crate::headers::CspNonce;
use crate::i18n::{Arg, Lang};
use crate::layout::Chrome;

/// The stable, machine-readable error codes of the API. Never renamed once published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    PasswordChangeRequired,
    Conflict,
    RuleViolation,
    TooManyRequests,
    NotFound,
    MethodNotAllowed,
    InvalidRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    CrossSiteRequest,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::PasswordChangeRequired => "password_change_required",
            ErrorCode::Conflict => "conflict",
            ErrorCode::RuleViolation => "rule_violation",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::CrossSiteRequest => "cross_site_request",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden | ErrorCode::PasswordChangeRequired => StatusCode::FORBIDDEN,
            ErrorCode::Conflict | ErrorCode::RuleViolation => StatusCode::CONFLICT,
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::InvalidRequest => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::CrossSiteRequest => StatusCode::FORBIDDEN,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code for a bare error status produced outside our handlers.
    fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
            StatusCode::CONFLICT => ErrorCode::Conflict,
            StatusCode::TOO_MANY_REQUESTS => ErrorCode::TooManyRequests,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::FORBIDDEN => ErrorCode::CrossSiteRequest,
            StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
            s if s.is_client_error() => ErrorCode::InvalidRequest,
            _ => ErrorCode::Internal,
        }
    }

    fn message_key(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "error-unauthenticated",
            ErrorCode::Forbidden => "error-forbidden",
            ErrorCode::PasswordChangeRequired => "error-password-change-required",
            ErrorCode::Conflict => "error-conflict",
            ErrorCode::RuleViolation => "error-rule-violation",
            ErrorCode::TooManyRequests => "error-too-many-requests",
            ErrorCode::NotFound => "error-not-found",
            ErrorCode::MethodNotAllowed => "error-method-not-allowed",
            ErrorCode::InvalidRequest => "error-invalid-request",
            ErrorCode::PayloadTooLarge => "error-payload-too-large",
            ErrorCode::UnsupportedMediaType => "error-unsupported-media-type",
            ErrorCode::CrossSiteRequest => "error-cross-site",
            ErrorCode::Unavailable => "error-unavailable",
            ErrorCode::Internal => "error-internal",
        }
    }
}

/// A multipart form that could not be read: 413 when it is over the body limit (the upload was
/// too large, not malformed), else `otherwise`.
pub fn upload_error(error: &axum::extract::multipart::MultipartError, otherwise: fn() -> AppError) -> AppError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::code(ErrorCode::PayloadTooLarge)
    } else {
        otherwise()
    }
}

/// The API's error envelope: `{"error": {"code": …, "message": …, "request_id": …}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code.
    #[schema(example = "not_found")]
    pub code: ErrorCode,
    /// What went wrong, in the request's language.
    pub message: String,
    /// Quote this id when reporting a problem; it is in the server's log.
    pub request_id: String,
    /// What is wrong with which field, when the input was refused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldDetail>,
    /// The rule that refused the action, where it comes from, and what would make it right.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleBody>,
    /// Every rule that refused the action, with the facts that broke it (a ticket step may break
    /// several at once; the first is also `rule`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<Refusal>,
}

/// A refusal in words: the rule, its facts, its source, what would make it right.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Refusal {
    #[schema(example = "TICKET_MIN_CREW")]
    pub rule: String,
    /// What the rule says, with the facts that broke it.
    pub message: String,
    /// The regulation the rule comes from, by its title, in words.
    pub source: String,
    pub fix: String,
    /// Where GridSafe took the rule and its defaults from (for administrators).
    pub origin: String,
}

pub fn refusal(lang: Lang, v: &gridsafe_domain::rules::Violation) -> Refusal {
    let mut message = lang.t(&format!("rule-{}", v.rule.code));
    if !v.args.is_empty() {
        let facts: Vec<String> = v
            .args
            .iter()
            .map(|(name, value)| lang.t_args(&format!("rule-arg-{name}"), &[("value", fact(lang, name, value))]))
            .collect();
        message.push_str(&lang.t_args("rule-facts", &[("facts", Arg::from(facts.join(&lang.t("list-separator"))))]));
    }
    Refusal {
        rule: v.rule.code.to_owned(),
        message,
        source: v.rule.regulation.to_owned(),
        fix: lang.t(&format!("rule-{}-fix", v.rule.code)),
        origin: v.rule.origin.to_owned(),
    }
}

/// A fact as users read it: codes of steps, states and roles in words.
fn fact(lang: Lang, name: &str, value: &str) -> Arg {
    let key = match name {
        "step" => format!("ticket-step-{value}"),
        "state" => format!("ticket-state-{value}"),
        "role" => format!("field-role-{value}"),
        "order_type" => format!("order-type-{value}"),
        "hazard_step" => format!("hazard-step-{value}"),
        "hazard_state" => format!("hazard-state-{value}"),
        "finding_state" => format!("finding-state-{value}"),
        "task_state" => format!("task-{value}"),
        "class" => format!("admin-class-{value}"),
        "plan_step" => format!("plan-step-{value}"),
        "plan_state" => format!("plan-state-{value}"),
        "outage_step" => format!("outage-step-{value}"),
        "outage_state" => format!("outage-state-{value}"),
        "project_step" => format!("project-step-{value}"),
        "project_stage" => format!("project-stage-{value}"),
        "missing" => {
            let words: Vec<String> = value.split(',').map(|m| lang.t(&format!("refusal-missing-{m}"))).collect();
            return Arg::from(words.join(&lang.t("list-separator")));
        }
        "classes" => {
            let words: Vec<String> = value.split('+').map(|c| lang.t(&format!("separation-{c}"))).collect();
            return Arg::from(words.join(" + "));
        }
        "review" => format!("violation-review-state-{value}"),
        "onsite_roles" => {
            let words: Vec<String> = value.split('+').map(|r| lang.t(&format!("role-{r}"))).collect();
            return Arg::from(words.join(&lang.t("list-separator")));
        }
        "roles" => {
            let words: Vec<String> = value.split('+').map(|r| lang.t(&format!("ticket-role-{r}"))).collect();
            return Arg::from(words.join(" + "));
        }
        _ => return Arg::from(value),
    };
    Arg::from(lang.t(&key))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldDetail {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleBody {
    #[schema(example = "ADMIN_SEPARATION")]
    pub code: String,
    /// The regulation the rule comes from, by its title, in words.
    pub source: String,
    /// What the rule says.
    pub description: String,
    /// What would make the action acceptable.
    pub fix: String,
    /// Where GridSafe took the rule and its defaults from (for administrators).
    pub origin: String,
}

/// What an error response is about, attached to the bare response until it is rendered.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub code: ErrorCode,
    /// A more precise message than the code's default, as a message key and its arguments.
    pub detail: Option<(&'static str, Vec<(&'static str, Arg)>)>,
    pub fields: Vec<gridsafe_app::FieldProblem>,
    pub rule: Option<gridsafe_domain::rules::Rule>,
    pub violations: Vec<gridsafe_domain::rules::Violation>,
    pub retry_after: Option<u64>,
}

impl ErrorInfo {
    pub fn new(code: ErrorCode) -> Self {
        Self { code, detail: None, fields: Vec::new(), rule: None, violations: Vec::new(), retry_after: None }
    }

    pub fn detail(mut self, key: &'static str, args: Vec<(&'static str, Arg)>) -> Self {
        self.detail = Some((key, args));
        self
    }
}

/// One field problem in the request's language.
pub fn field_message(lang: Lang, problem: &gridsafe_app::FieldProblem) -> String {
    let args: Vec<(&'static str, Arg)> = problem.args.iter().map(|(k, v)| (*k, Arg::from(v.as_str()))).collect();
    lang.t_args(problem.message, &args)
}

/// A rule in the request's language.
pub fn rule_body(lang: Lang, rule: &gridsafe_domain::rules::Rule) -> RuleBody {
    RuleBody {
        code: rule.code.to_owned(),
        source: rule.regulation.to_owned(),
        description: lang.t(&format!("rule-{}", rule.code)),
        fix: lang.t(&format!("rule-{}-fix", rule.code)),
        origin: rule.origin.to_owned(),
    }
}

/// An error a handler returns.
#[derive(Debug)]
pub enum AppError {
    /// An expected failure the user can act on.
    Client(ErrorInfo),
    /// A fault of ours: logged with its cause chain, shown as an opaque 500.
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    pub fn code(code: ErrorCode) -> Self {
        AppError::Client(ErrorInfo::new(code))
    }

    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        AppError::Internal(Box::new(error))
    }
}

impl From<gridsafe_store::StoreError> for AppError {
    fn from(error: gridsafe_store::StoreError) -> Self {
        AppError::internal(error)
    }
}

impl From<gridsafe_app::AppError> for AppError {
    fn from(error: gridsafe_app::AppError) -> Self {
        use gridsafe_app::AppError as E;
        let info = match error {
            E::Unauthenticated | E::Login(_) => ErrorInfo::new(ErrorCode::Unauthenticated),
            E::Denied(denied) => {
                let (key, permission) = match denied {
                    gridsafe_domain::access::Denied::NotGranted(p) => ("error-denied-permission", p),
                    gridsafe_domain::access::Denied::OutsideScope(p) => ("error-denied-scope", p),
                };
                ErrorInfo::new(ErrorCode::Forbidden).detail(key, vec![("permission", Arg::from(permission.code()))])
            }
            E::Rule(violation) => ErrorInfo {
                rule: Some(violation.rule),
                violations: vec![violation],
                ..ErrorInfo::new(ErrorCode::RuleViolation)
            },
            E::Rules(violations) => ErrorInfo {
                rule: violations.first().map(|v| v.rule),
                violations,
                ..ErrorInfo::new(ErrorCode::RuleViolation)
            },
            E::Invalid(fields) => ErrorInfo { fields, ..ErrorInfo::new(ErrorCode::InvalidRequest) },
            E::NotFound => ErrorInfo::new(ErrorCode::NotFound),
            E::Conflict(key) => ErrorInfo::new(ErrorCode::Conflict).detail(key, Vec::new()),
            E::RateLimited { retry_after_seconds } => {
                ErrorInfo { retry_after: Some(retry_after_seconds), ..ErrorInfo::new(ErrorCode::TooManyRequests) }
            }
            E::Busy { retry_after_seconds } => ErrorInfo {
                retry_after: Some(retry_after_seconds),
                ..ErrorInfo::new(ErrorCode::Unavailable).detail("error-busy", Vec::new())
            },
            other @ (E::Store(_) | E::Internal(_)) => return AppError::internal(other),
        };
        AppError::Client(info)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let info = match self {
            AppError::Client(info) => info,
            AppError::Internal(error) => {
                let mut chain = error.to_string();
                let mut source = error.source();
                while let Some(cause) = source {
                    chain.push_str(": ");
                    chain.push_str(&cause.to_string());
                    source = cause.source();
                }
                tracing::error!(error = %chain, "internal error");
                ErrorInfo::new(ErrorCode::Internal)
            }
        };
        let mut response = info.code.status().into_response();
        if let Some(seconds) = info.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response.extensions_mut().insert(info);
        response
    }
}

/// Requests no route matched.
pub async fn fallback() -> AppError {
    AppError::code(ErrorCode::NotFound)
}

#[derive(Template)]
#[template(path = "layout/error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    message: String,
    request_id: String,
    /// Each field problem: the form field it names, and the words.
    fields: Vec<(String, String)>,
    rule: Option<RuleBody>,
    refusals: Vec<Refusal>,
    signed_in: bool,
}

impl ErrorPage {
    /// The page's heading in words (不予办理, 没有权限…); the status number only in the request line.
    fn title(&self) -> String {
        let key = match self.status {
            400 | 405 | 415 => "error-title-request",
            401 => "error-title-sign-in",
            403 => "error-title-forbidden",
            404 => "error-title-not-found",
            409 => "error-title-refused",
            413 => "error-title-too-large",
            422 => "error-title-invalid",
            429 | 503 => "error-title-busy",
            _ => "error-title-failed",
        };
        self.chrome.t(key).into_owned()
    }
}

/// Renders every bare error response in the request's language.
pub async fn localize_rejections(request: Request, next: Next) -> Response {
    let lang = request_lang(request.headers());
    let api = request.uri().path().starts_with("/api/");
    let request_id = request.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let nonce = request.extensions().get::<CspNonce>().map(|n| n.0.clone()).unwrap_or_default();
    let path = request.uri().path().to_owned();
    let has_session = crate::context::cookie(request.headers(), gridsafe_app::identity::SESSION_COOKIE).is_some();

    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || already_rendered(&response) {
        return response;
    }
    let info = response
        .extensions()
        .get::<ErrorInfo>()
        .cloned()
        .unwrap_or_else(|| ErrorInfo::new(ErrorCode::from_status(status)));
    let message = match &info.detail {
        Some((key, args)) => lang.t_args(key, args),
        None => lang.t(info.code.message_key()),
    };
    let rule = info.rule.as_ref().map(|r| rule_body(lang, r));
    let refusals: Vec<Refusal> = info.violations.iter().map(|v| refusal(lang, v)).collect();
    let (mut parts, _) = response.into_parts();
    let mut rendered = if api {
        let details = info
            .fields
            .iter()
            .map(|f| FieldDetail { field: f.field.to_owned(), message: field_message(lang, f) })
            .collect();
        Json(ErrorEnvelope { error: ErrorBody { code: info.code, message, request_id, details, rule, refusals } })
            .into_response()
    } else {
        let chrome = Chrome::new(lang, nonce, path);
        let fields = info.fields.iter().map(|f| (f.field.to_owned(), field_message(lang, f))).collect();
        let signed_in = has_session && info.code != ErrorCode::Unauthenticated;
        crate::layout::render(&ErrorPage {
            chrome,
            status: status.as_u16(),
            message,
            request_id,
            fields,
            rule,
            refusals,
            signed_in,
        })
    };
    // Keep the status and headers such as `Allow` and `Retry-After`; replace the body.
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    for (name, value) in rendered.headers_mut().drain() {
        if let Some(name) = name {
            parts.headers.insert(name, value);
        }
    }
    *rendered.status_mut() = status;
    let (_, body) = rendered.into_parts();
    Response::from_parts(parts, body)
}

fn already_rendered(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"))
}

/// A panic in a handler: logged by the trace layer as a 500; the user gets a bilingual page,
/// since the request (and its language) is gone by now.
pub fn panic_response(_panic: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>500</title><p>{}</p><p>{}</p><p><a href=\"/\">{}</a></p>",
        Lang::ZhCn.t("error-internal"),
        Lang::En.t("error-internal"),
        Lang::ZhCn.t("error-back-home"),
    );
    let mut response = (StatusCode::INTERNAL_SERVER_ERROR, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}
