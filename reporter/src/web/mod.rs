//! The analyst web UI and JSON API (axum).
//!
//! Server-rendered HTML in Kazakh, Russian and English — no JavaScript framework, nothing loaded
//! from outside the server, because the UI runs in a closed network. Routes:
//!
//! | route | what |
//! |---|---|
//! | `GET /` | redirect to `/cases` |
//! | `GET /cases?status=&category=&source=&host=` | case list, newest activity first |
//! | `GET /cases/{id}` | case detail with evidence, marked text, rule explanations, decision forms; opening a `new` case puts it `in_review` |
//! | `POST /cases/{id}/decision` | form decision (`action=confirm&route=…&justification=…` or `action=dismiss&reason=…`), redirects back |
//! | `GET /blobs/{*path}` | evidence files (screenshots) from the blobs directory |
//! | `GET /api/cases`, `GET /api/cases/{id}`, `POST /api/cases/{id}/decision` | JSON API |
//! | `GET /healthz` | liveness |
//!
//! The state holds the store as `Arc<dyn CaseStore>` so the same router serves SQLite or
//! PostgreSQL, and tests drive [`router`] with `tower::ServiceExt::oneshot`, without a socket.

mod api;
mod blobs;
mod error;
mod highlight;
mod html;
mod i18n;
mod pages;

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Redirect;
use axum::routing::{get, post};
use model::{CaseStore, RuleInfo, Taxonomy};

use error::AppError;
use i18n::Lang;

/// What every handler needs.
#[derive(Clone)]
pub struct AppState {
    /// Case storage.
    pub store: Arc<dyn CaseStore>,
    /// Directory that screenshot and WARC paths are relative to.
    pub blobs_dir: PathBuf,
    /// Categories: titles, legal norms, default routes.
    pub taxonomy: Arc<Taxonomy>,
    /// Loaded rules by id, to explain hits.
    pub rules: Arc<HashMap<String, RuleInfo>>,
}

/// The application: every route of the UI and the API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/cases") }))
        .route("/cases", get(pages::list))
        .route("/cases/{id}", get(pages::detail))
        .route("/cases/{id}/decision", post(pages::decide))
        .route("/blobs/{*path}", get(blobs::serve_blob))
        .route("/api/cases", get(api::list))
        .route("/api/cases/{id}", get(api::get))
        .route("/api/cases/{id}/decision", post(api::decide))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

/// Serves [`router`] on `listener` until the server fails.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "analyst ui listening");
    }
    axum::serve(listener, router(state)).await
}

/// Header naming the person acting.
pub const USER_HEADER: &str = "x-baqylau-user";

/// Actor recorded when the request names nobody.
pub const DEFAULT_ACTOR: &str = "analyst";

/// The person acting on a request, recorded with every decision.
///
/// Taken from the `X-Baqylau-User` header, else [`DEFAULT_ACTOR`]. This trusts the client: there
/// is no authentication or RBAC yet (DESIGN §7 roles, sessions, TOTP, API tokens are a later
/// issue); until then the UI must only be reachable from the analysts' network or behind a proxy
/// that sets this header.
pub(crate) struct Actor(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(v) = parts.headers.get(USER_HEADER) else {
            return Ok(Actor(DEFAULT_ACTOR.into()));
        };
        let name = v.to_str().map(str::trim).unwrap_or("");
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b));
        if valid {
            Ok(Actor(name.to_string()))
        } else {
            Err(AppError::BadRequest(format!(
                "{USER_HEADER} must be 1-64 characters of a-z, 0-9, '.', '_', '@', '-'"
            )))
        }
    }
}

/// The UI language of a request: `?lang=` (then remembered in a cookie), else the `lang` cookie,
/// else Kazakh.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UiLang {
    /// Chosen language.
    pub(crate) lang: Lang,
    /// True when chosen by `?lang=` — the response sets the cookie.
    pub(crate) from_query: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for UiLang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let from_query = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "lang")
            .and_then(|(_, v)| Lang::parse(v));
        if let Some(lang) = from_query {
            return Ok(UiLang {
                lang,
                from_query: true,
            });
        }
        let from_cookie = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == "lang")
            .and_then(|(_, v)| Lang::parse(v));
        Ok(UiLang {
            lang: from_cookie.unwrap_or_default(),
            from_query: false,
        })
    }
}

#[cfg(test)]
mod tests;
