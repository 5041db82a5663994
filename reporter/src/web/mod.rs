//! The analyst web UI and JSON API (axum).
//!
//! Server-rendered HTML in Kazakh, Russian and English — no JavaScript framework, nothing loaded
//! from outside the server, because the UI runs in a closed network. Routes:
//!
//! Every route but `/login` and `/healthz` needs a logged-in user (session cookie) or an API
//! token (`Authorization: Bearer`), see [`auth`]; every handler checks the caller's role.
//!
//! | route | what |
//! |---|---|
//! | `GET /login`, `POST /login`, `POST /logout` | sign in (password + TOTP for approvers/admins), sign out |
//! | `GET /` | redirect to `/cases` |
//! | `GET /cases?status=&category=&source=&host=` | case list, newest activity first |
//! | `GET /cases/{id}` | case detail with evidence, marked text, rule explanations, decision forms; opening a `new` case puts it `in_review` |
//! | `POST /cases/{id}/assign`, `/comments`, `/merge` | assignment (`assignee=`), comment (`body=`), merge as duplicate (`into=`) |
//! | `GET /cases/{id}/bundle.zip` | evidence bundle: Form 2 PDFs, screenshots, WARC records, capture metadata, SHA-256 manifest |
//! | `POST /cases/{id}/decision` | form decision (`action=confirm&route=…&justification=…` or `action=dismiss&reason=…`), redirects back |
//! | `GET /blobs/{*path}` | evidence files (screenshots) from the blobs directory |
//! | `GET /api/cases`, `GET /api/cases/{id}`, `POST /api/cases/{id}/decision` | JSON API |
//! | `GET /search?q=&category=&source=&language=&host=&since=&until=` | full-text search over all captures (module `search`) |
//! | `GET /healthz` | liveness |
//! | `GET /notifications`, `POST /notifications` (`case=ID&case=ID…`) | notifications; draft a Form 2 over confirmed blocking cases |
//! | `GET /notifications/{id}`, `POST …/approve` (`sha256=`), `POST …/cases` | a notification; four-eyes approval bound to the content hash; revision (voids approval) |
//! | `GET /notifications/{id}/form2?lang=kk\|ru`, `GET …/form2.pdf?lang=` | the Form 2 document, HTML and PDF |
//! | `GET/POST /api/notifications`, `GET /api/notifications/{id}`, `POST …/approve`, `POST …/receipts` | the same as JSON; receipts `{"line","verdict":"accepted"\|"rejected","justification"}` |
//! | `GET /admin/users`, `POST /admin/users`, `POST /admin/users/{name}/disabled` | user management (admin) |
//! | `GET /admin/form1`, `GET /admin/form1.csv` | Form 1: staff authorized to enter data (admin) |
//! | `GET /admin/inactive?days=182` | accounts without activity, for the half-yearly review (admin) |
//! | `GET /admin/audit` | the audit chain's latest entries and its verification (admin) |
//!
//! The state holds the store as `Arc<dyn CaseStore>` and the desk as `Arc<dyn Desk>` (the same
//! store) so the same router serves SQLite or PostgreSQL, and tests drive [`router`] with
//! `tower::ServiceExt::oneshot`, without a socket.

mod admin;
mod api;
pub mod auth;
mod blobs;
mod casework;
mod error;
mod highlight;
pub(crate) mod html;
mod i18n;
mod notifications;
mod pages;
mod search;

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

use crate::Desk;
use i18n::Lang;

/// Deployment settings of the desk.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Mark cookies `Secure` (the UI is served over TLS, directly or by a proxy).
    pub secure_cookies: bool,
    /// Session lifetime in hours.
    pub session_hours: i64,
    /// A case open longer than this many hours since detection is flagged overdue.
    pub overdue_hours: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secure_cookies: false,
            session_hours: 8,
            overdue_hours: 24,
        }
    }
}

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
    /// The desk's own tables (users, sessions, audit, comments, notifications): the same store
    /// as `store` (SQLite embedded, PostgreSQL distributed).
    pub desk: Arc<dyn Desk>,
    /// Deployment settings.
    pub settings: Settings,
    /// Prints Form 2 to PDF; `None` when no Chromium is configured (PDF links answer 503).
    pub pdf: Option<Arc<dyn crate::outbox::PdfPrinter>>,
    /// Woken after an approval so the outbox relay publishes at once.
    pub outbox_wake: Arc<tokio::sync::Notify>,
    /// Full-text search over captures (`GET /search`); `None` without an index.
    pub search: Option<Arc<dyn model::SearchBackend>>,
}

impl AppState {
    /// State over one store (cases and desk: an `Arc<SqliteCaseStore>`, an `Arc<PgCaseStore>`
    /// or an `Arc<dyn Desk>`), with default [`Settings`].
    pub fn new(
        desk: Arc<dyn Desk>,
        blobs_dir: PathBuf,
        taxonomy: Arc<Taxonomy>,
        rules: Arc<HashMap<String, RuleInfo>>,
    ) -> AppState {
        AppState {
            store: desk.clone(),
            blobs_dir,
            taxonomy,
            rules,
            desk,
            settings: Settings::default(),
            pdf: None,
            outbox_wake: Arc::new(tokio::sync::Notify::new()),
            search: None,
        }
    }
}

/// The application: every route of the UI and the API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/cases") }))
        .route("/cases", get(pages::list))
        .route("/cases/{id}", get(pages::detail))
        .route("/cases/{id}/decision", post(pages::decide))
        .route("/cases/{id}/assign", post(casework::assign))
        .route("/cases/{id}/comments", post(casework::comment))
        .route("/cases/{id}/merge", post(casework::merge))
        .route("/cases/{id}/bundle.zip", get(notifications::bundle))
        .route("/blobs/{*path}", get(blobs::serve_blob))
        .route("/api/cases", get(api::list))
        .route("/api/cases/{id}", get(api::get))
        .route("/api/cases/{id}/decision", post(api::decide))
        .route("/healthz", get(|| async { "ok" }))
        .route("/search", get(search::page))
        .route(
            "/notifications",
            get(notifications::list).post(notifications::draft),
        )
        .route("/notifications/{id}", get(notifications::show))
        .route("/notifications/{id}/approve", post(notifications::approve))
        .route("/notifications/{id}/cases", post(notifications::revise))
        .route("/notifications/{id}/form2", get(notifications::document))
        .route("/notifications/{id}/form2.pdf", get(notifications::pdf))
        .route(
            "/api/notifications",
            get(notifications::api_list).post(notifications::api_draft),
        )
        .route("/api/notifications/{id}", get(notifications::api_get))
        .route(
            "/api/notifications/{id}/approve",
            post(notifications::api_approve),
        )
        .route(
            "/api/notifications/{id}/receipts",
            post(notifications::api_receipt),
        )
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/admin/users", get(admin::users).post(admin::add_user))
        .route("/admin/users/{name}/disabled", post(admin::set_disabled))
        .route("/admin/form1", get(admin::form1))
        .route("/admin/form1.csv", get(admin::form1_csv))
        .route("/admin/inactive", get(admin::inactive))
        .route("/admin/audit", get(admin::audit))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard,
        ))
        .with_state(state)
}

/// Serves [`router`] on `listener` until the server fails or the process is asked to stop
/// (Ctrl-C, SIGTERM): then in-flight requests finish and the state is dropped, which closes the
/// PDF printer's Chromium instead of leaving it orphaned.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "analyst ui listening");
    }
    axum::serve(listener, router(state))
        .with_graceful_shutdown(stop_requested())
        .await
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stop_requested() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("stopping the analyst ui");
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
