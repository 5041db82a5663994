//! Authentication at the HTTP edge: the login page, session cookies, bearer tokens, CSRF, and the
//! [`Identity`] every handler receives.
//!
//! One middleware (`guard`) runs before every route except `/login` and `/healthz`: it finds the
//! caller (an `Authorization: Bearer` API token, else the session cookie), answers 401 (API) or a
//! redirect to the login page when there is none, and refuses (403) any state-changing request of
//! a cookie session that does not carry the session's CSRF token — in the `csrf` form field or the
//! `X-CSRF-Token` header. Bearer clients are exempt: a browser never attaches that header by
//! itself, so a forged cross-site request cannot carry it. Cookies are `HttpOnly`,
//! `SameSite=Strict`, and `Secure` when the deployment is behind TLS (`--secure-cookies`).

use axum::Form;
use axum::body::Body;
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::error::AppError;
use super::html::{Page, escape};
use super::i18n::Msg;
use super::{AppState, UiLang};
use crate::auth::{Perm, User};

/// Session cookie name.
pub const SESSION_COOKIE: &str = "baqylau_session";
/// Double-submit cookie protecting the login form itself.
const LOGIN_COOKIE: &str = "baqylau_login";
/// Header carrying the CSRF token on API writes made with a session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Failed logins of one account within [`LOGIN_WINDOW_MINUTES`] after which logins are refused.
pub const MAX_FAILED_LOGINS: u32 = 5;
/// Window of the login throttle, in minutes.
pub const LOGIN_WINDOW_MINUTES: i64 = 15;
/// Largest form body the CSRF check buffers.
const MAX_FORM_BYTES: usize = 1 << 20;

/// How the caller authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    /// Browser session; forms must carry this CSRF token.
    Session {
        /// The session's CSRF token.
        csrf: String,
    },
    /// `Authorization: Bearer` API token.
    Token,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Who.
    pub user: User,
    /// How.
    pub via: Via,
}

impl Identity {
    /// Refuses (403) unless the caller's role holds `perm`.
    pub fn require(&self, perm: Perm) -> Result<(), AppError> {
        if self.user.role.allows(perm) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "role {} may not do this ({perm:?})",
                self.user.role.as_str()
            )))
        }
    }

    /// The CSRF token to embed in forms (empty for token clients, which do not use forms).
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf } => csrf,
            Via::Token => "",
        }
    }

    /// Name recorded as the actor.
    pub fn name(&self) -> &str {
        &self.user.name
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Identity>()
            .cloned()
            .ok_or_else(|| AppError::Unauthorized("login required".into()))
    }
}

/// Value of cookie `name`.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Compares secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && !a.is_empty()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Option<Identity>, AppError> {
    if let Some(token) = bearer(headers) {
        return Ok(state.desk.token_user(token).await?.map(|user| Identity {
            user,
            via: Via::Token,
        }));
    }
    let Some(cookie) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(state.desk.session(cookie).await?.map(|s| Identity {
        user: s.user,
        via: Via::Session { csrf: s.csrf },
    }))
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// The authentication and CSRF middleware (see the module docs).
pub(crate) async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if matches!(path.as_str(), "/login" | "/healthz") {
        return next.run(req).await;
    }
    let ident = match identify(&state, req.headers()).await {
        Ok(i) => i,
        Err(e) => return e.into_response(),
    };
    let Some(ident) = ident else {
        if is_api(&path) || req.headers().contains_key(header::AUTHORIZATION) {
            return AppError::Unauthorized("login required: session cookie or bearer token".into())
                .into_response();
        }
        let next_url = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        return Redirect::to(&format!(
            "/login?next={}",
            super::html::url_encode(&next_url)
        ))
        .into_response();
    };
    let mut req = req;
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if let (false, Via::Session { csrf }) = (safe, &ident.via) {
        let (ok, rebuilt) = check_csrf(req, csrf).await;
        req = rebuilt;
        if !ok {
            let _ = state
                .desk
                .audit(ident.name(), "csrf.refused", &path, "")
                .await;
            tracing::warn!(user = %ident.name(), %path, "request without a valid CSRF token refused");
            return AppError::Forbidden("missing or wrong CSRF token".into()).into_response();
        }
    }
    req.extensions_mut().insert(ident);
    next.run(req).await
}

/// Looks for the CSRF token in the header, else in a url-encoded form body (buffered and put
/// back). Returns whether it matched and the request to pass on.
async fn check_csrf(req: Request, csrf: &str) -> (bool, Request) {
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return (same_secret(v, csrf), req);
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (false, req);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return (false, Request::from_parts(parts, Body::empty()));
    };
    let found = form_field(&bytes, "csrf");
    let ok = found.as_deref().is_some_and(|v| same_secret(v, csrf));
    (ok, Request::from_parts(parts, Body::from(bytes)))
}

/// Value of field `name` in a url-encoded form body (percent-decoded, `+` as space).
fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_values(body, name).into_iter().next()
}

/// Every value of field `name` in a url-encoded form body (repeated checkboxes).
pub(crate) fn form_values(body: &[u8], name: &str) -> Vec<String> {
    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
                (b'+', _) => out.push(b' '),
                (b'%', Some(v)) => {
                    out.push(v);
                    i += 2;
                }
                (c, _) => out.push(c),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| decode(k) == name)
        .map(|(_, v)| decode(v))
        .collect()
}

/// Sets a cookie on `res`.
fn set_cookie(res: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn session_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    )
}

/// Query of the login page.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct LoginQuery {
    #[serde(default)]
    next: String,
}

/// Only local paths are followed after login (no open redirect).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/cases"
    }
}

fn login_page(
    state: &AppState,
    ui: UiLang,
    headers: &HeaderMap,
    next: &str,
    failed: bool,
) -> Response {
    let lang = ui.lang;
    let t = |m: Msg| m.get(lang);
    // Reuse the browser's login token when it has one: a page loaded twice (prefetch, a second
    // tab) must not invalidate the form already on screen.
    let token = cookie(headers, LOGIN_COOKIE)
        .filter(|c| c.len() == 32 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
        .unwrap_or_else(|| crate::auth::random_hex(16));
    let error = if failed {
        format!(
            "<p class=\"error\" id=\"login-error\">{}</p>",
            t(Msg::LoginFailed)
        )
    } else {
        String::new()
    };
    let body = format!(
        "<h1>{title}</h1>{error}<form method=\"post\" action=\"/login\" class=\"login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label>{user}<input name=\"name\" autocomplete=\"username\" required></label>\
         <label>{pass}<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <label>{code}<input name=\"totp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"6\"></label>\
         <button type=\"submit\" id=\"login\">{title}</button></form>",
        title = t(Msg::Login),
        next = escape(safe_next(next)),
        user = t(Msg::UserName),
        pass = t(Msg::Password),
        code = t(Msg::TotpCode),
    );
    let mut res = Page {
        status: if failed {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        },
        lang,
        remember_lang: ui.from_query,
        title: t(Msg::Login).to_string(),
        body,
        path: "/login".into(),
        user: None,
    }
    .into_response();
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    set_cookie(
        &mut res,
        &format!(
            "{LOGIN_COOKIE}={token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
        ),
    );
    res
}

/// `GET /login`.
pub(crate) async fn login_form(
    State(state): State<AppState>,
    ui: UiLang,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    login_page(&state, ui, &headers, &q.next, false)
}

/// Fields of the login form.
#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    name: String,
    password: String,
    #[serde(default)]
    totp: String,
}

/// `POST /login`: checks the double-submit token, the password and (for approvers and admins)
/// the TOTP code; opens a session.
pub(crate) async fn login(
    State(state): State<AppState>,
    ui: UiLang,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if !same_secret(expected, &form.csrf) {
        return AppError::Forbidden("missing or wrong CSRF token".into()).into_response();
    }
    let name = form.name.trim().to_string();
    let code = Some(form.totp.trim()).filter(|c| !c.is_empty());
    // Throttle guessing: after MAX_FAILED_LOGINS failures in the window, refuse without checking
    // (the password check is not even run, so guessing gains nothing).
    let since = Utc::now() - chrono::Duration::minutes(LOGIN_WINDOW_MINUTES);
    match state
        .desk
        .audit_count_since("login.failed", &format!("user:{name}"), since)
        .await
    {
        Ok(n) if n >= MAX_FAILED_LOGINS => {
            let _ = state
                .desk
                .audit(&name, "login.throttled", &format!("user:{name}"), "")
                .await;
            tracing::warn!(user = %name, "login throttled after repeated failures");
            return login_page(&state, ui, &headers, &form.next, true);
        }
        Ok(_) => {}
        Err(e) => return AppError::from(e).into_response(),
    }
    let result = match state
        .desk
        .check_login(&name, &form.password, code, Utc::now())
        .await
    {
        Ok(r) => r,
        Err(e) => return AppError::from(e).into_response(),
    };
    let user = match result {
        Ok(u) => u,
        Err(why) => {
            let _ = state
                .desk
                .audit(&name, "login.failed", &format!("user:{name}"), why.as_str())
                .await;
            tracing::warn!(user = %name, reason = why.as_str(), "login refused");
            return login_page(&state, ui, &headers, &form.next, true);
        }
    };
    let ttl = chrono::Duration::hours(state.settings.session_hours);
    let (token, _csrf) = match state.desk.create_session(user.id, ttl).await {
        Ok(t) => t,
        Err(e) => return AppError::from(e).into_response(),
    };
    let _ = state
        .desk
        .audit(&user.name, "login", &format!("user:{}", user.name), "")
        .await;
    tracing::info!(user = %user.name, role = user.role.as_str(), "login");
    let mut res = Redirect::to(safe_next(&form.next)).into_response();
    set_cookie(&mut res, &session_cookie(&state, &token, ttl.num_seconds()));
    res
}

/// `POST /logout`.
pub(crate) async fn logout(
    State(state): State<AppState>,
    ident: Identity,
    headers: HeaderMap,
) -> Response {
    if let Some(c) = cookie(&headers, SESSION_COOKIE) {
        let _ = state.desk.end_session(c).await;
    }
    let _ = state
        .desk
        .audit(
            ident.name(),
            "logout",
            &format!("user:{}", ident.name()),
            "",
        )
        .await;
    let mut res = Redirect::to("/login").into_response();
    set_cookie(&mut res, &session_cookie(&state, "", 0));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_and_forms_decode() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("", ""));
        assert!(!same_secret("abc", "abcd"));
        let body = b"action=confirm&csrf=a%2Bb+c&justification=%D3%99";
        assert_eq!(form_field(body, "csrf").as_deref(), Some("a+b c"));
        assert_eq!(form_field(body, "justification").as_deref(), Some("ә"));
        assert_eq!(form_field(b"x=%", "x").as_deref(), Some("%"));
        assert_eq!(form_field(body, "nope"), None);
    }

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next("/cases/3"), "/cases/3");
        assert_eq!(safe_next("//evil.example/"), "/cases");
        assert_eq!(safe_next("https://evil.example/"), "/cases");
        assert_eq!(safe_next(""), "/cases");
    }
}
