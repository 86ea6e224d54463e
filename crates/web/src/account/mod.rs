//! The user's own account: sign-in, sign-out, password change, API tokens.

use std::net::SocketAddr;

use crate::form::Form;
use askama::Template;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use gridsafe_app::AppError as UseCaseError;
use gridsafe_app::identity::{self, LoginRefusal, NewToken, TokenInfo};
use gridsafe_domain::access::Permission;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Auth, request_meta, session_cookie};
use crate::context::PageContext;
use crate::error::{AppError, field_message};
use crate::i18n::Arg;
use crate::layout::{Chrome, render};
use crate::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .get("/login", login_page)
        .post("/login", login_submit)
        .post("/logout", logout)
        .get("/account/password", password_page)
        .post("/account/password", password_submit)
        .get("/account/tokens", tokens_page)
        .post("/account/tokens", tokens_create)
        .post("/account/tokens/{id}/revoke", tokens_revoke)
}

/// The client a sign-in attempt is counted against: its IP address.
pub struct ClientKey(pub String);

impl FromRequestParts<AppState> for ClientKey {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .config()
            .trust_proxy_headers
            .then(|| parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()))
            .flatten()
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_owned());
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(Self(forwarded.or(peer).unwrap_or_else(|| "local".to_owned())))
    }
}

/// Only a local path: never send a user to another site after sign-in.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.starts_with("/login") => {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[derive(Template)]
#[template(path = "account/login.html")]
struct LoginPage {
    chrome: Chrome,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(ctx: PageContext, Query(q): Query<NextQuery>) -> Response {
    let next = local_path(q.next.as_deref());
    render(&LoginPage { chrome: Chrome::from_context(ctx), next, username: String::new(), error: None })
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    ClientKey(client): ClientKey,
    parts: RequestParts,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let meta = parts.0;
    let next = local_path(form.next.as_deref());
    let lang = ctx.lang;
    let refused = |status: StatusCode, message: String| {
        let mut response = render(&LoginPage {
            chrome: Chrome::from_context(ctx.clone()),
            next: next.clone(),
            username: form.username.clone(),
            error: Some(message),
        });
        *response.status_mut() = status;
        response
    };
    match identity::login(state.app(), &meta, &client, &form.username, &form.password).await {
        Ok((token, user)) => {
            let target = if user.must_change_password { "/account/password".to_owned() } else { next.clone() };
            let mut response = Redirect::to(&target).into_response();
            response.headers_mut().insert(header::SET_COOKIE, session_cookie(&state, Some(&token)));
            Ok(response)
        }
        Err(UseCaseError::Login(LoginRefusal::BadCredentials { attempts_left })) => Ok(refused(
            StatusCode::UNAUTHORIZED,
            lang.t_args("login-bad-credentials", &[("left", Arg::Number(i64::from(attempts_left)))]),
        )),
        Err(UseCaseError::Login(LoginRefusal::Locked { until })) => Ok(refused(
            StatusCode::FORBIDDEN,
            lang.t_args("login-locked", &[("until", Arg::from(until.local_display()))]),
        )),
        Err(UseCaseError::RateLimited { retry_after_seconds }) => {
            let minutes = i64::try_from(retry_after_seconds.div_ceil(60)).unwrap_or(1);
            let mut response = refused(
                StatusCode::TOO_MANY_REQUESTS,
                lang.t_args("login-rate-limited", &[("minutes", Arg::Number(minutes))]),
            );
            if let Ok(value) = retry_after_seconds.to_string().parse() {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(other) => Err(other.into()),
    }
}

/// The request's audit metadata, for handlers without a signed-in user.
pub struct RequestParts(pub gridsafe_app::RequestMeta);

impl<S: Send + Sync> FromRequestParts<S> for RequestParts {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(request_meta(parts)))
    }
}

async fn logout(State(state): State<AppState>, auth: Auth) -> Result<Response, AppError> {
    auth.require_session(&state).await?;
    if let Some(token) = &auth.session {
        identity::logout(state.app(), &auth.meta, &auth.user, token).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(header::SET_COOKIE, session_cookie(&state, None));
    Ok(response)
}

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    chrome: Chrome,
    forced: bool,
    errors: Vec<String>,
    done: bool,
}

#[derive(Debug, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn password_page(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    auth.require_session(&state).await?;
    Ok(render(&PasswordPage {
        forced: auth.user.must_change_password,
        chrome: Chrome::for_user(ctx, &auth.user),
        errors: Vec::new(),
        done: q.done.is_some(),
    }))
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

async fn password_submit(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    auth.require_session(&state).await?;
    let lang = ctx.lang;
    let errors = if form.new != form.confirm {
        vec![lang.t("password-confirm-mismatch")]
    } else {
        match identity::change_password(state.app(), &auth.meta, &auth.user, &form.current, &form.new).await {
            Ok(token) => {
                let mut response = Redirect::to("/account/password?done=1").into_response();
                response.headers_mut().insert(header::SET_COOKIE, session_cookie(&state, Some(&token)));
                return Ok(response);
            }
            Err(UseCaseError::Invalid(problems)) => problems.iter().map(|p| field_message(lang, p)).collect(),
            Err(other) => return Err(other.into()),
        }
    };
    let mut response = render(&PasswordPage {
        forced: auth.user.must_change_password,
        chrome: Chrome::for_user(ctx, &auth.user),
        errors,
        done: false,
    });
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

#[derive(Template)]
#[template(path = "account/tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<TokenInfo>,
    held: Vec<&'static str>,
    created: Option<String>,
    errors: Vec<String>,
    max_days: u32,
}

async fn tokens_page(State(state): State<AppState>, ctx: PageContext, auth: Auth) -> Result<Response, AppError> {
    auth.require_session(&state).await?;
    tokens_view(&state, ctx, &auth, None, Vec::new()).await
}

async fn tokens_view(
    state: &AppState,
    ctx: PageContext,
    auth: &Auth,
    created: Option<String>,
    errors: Vec<String>,
) -> Result<Response, AppError> {
    let tokens = identity::list_tokens(state.app(), &auth.user).await?;
    let held = auth.user.principal.permissions().into_iter().map(Permission::code).collect();
    Ok(render(&TokensPage {
        chrome: Chrome::for_user(ctx, &auth.user),
        tokens,
        held,
        created,
        errors,
        max_days: state.app().security().api_token_max_days,
    }))
}

async fn tokens_create(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Auth,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    auth.require_session(&state).await?;
    let value = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let input = NewToken {
        name: value("name"),
        permissions: fields.iter().filter(|(k, _)| k == "permission").map(|(_, v)| v.clone()).collect(),
        valid_days: value("valid_days").trim().parse().unwrap_or(0),
    };
    let lang = ctx.lang;
    let result = identity::create_token(state.app(), &auth.meta, &auth.user, input).await;
    if let Err(UseCaseError::Denied(denied)) = &result {
        return Err(auth.denied(&state, *denied, "api_token").await);
    }
    match result {
        Ok((_, secret)) => tokens_view(&state, ctx, &auth, Some(secret), Vec::new()).await,
        Err(UseCaseError::Invalid(problems)) => {
            let errors = problems.iter().map(|p| field_message(lang, p)).collect();
            let mut response = tokens_view(&state, ctx, &auth, None, errors).await?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(other) => Err(other.into()),
    }
}

async fn tokens_revoke(State(state): State<AppState>, auth: Auth, Path(id): Path<i64>) -> Result<Response, AppError> {
    auth.require_session(&state).await?;
    identity::revoke_token(state.app(), &auth.meta, &auth.user, id).await?;
    Ok(Redirect::to("/account/tokens").into_response())
}
