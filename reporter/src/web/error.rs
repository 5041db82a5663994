//! Errors at the HTTP edge: a store error becomes a status code and a message the client can act
//! on — JSON `{"error": "..."}` for the API, a small page for the UI.
//!
//! Bad input (400), missing cases (404) and workflow conflicts (409) are the client's to fix and
//! are answered in detail, without logging. Internal failures are logged and answered with a bare
//! "internal error": database messages must not leak to the browser.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use model::StoreError;

use super::html::{Page, escape};
use super::i18n::{Lang, Msg};

/// An error answered to an HTTP client.
#[derive(Debug)]
pub enum AppError {
    /// The request is malformed (400).
    BadRequest(String),
    /// Not logged in (401).
    Unauthorized(String),
    /// Logged in, but the role may not do this (403).
    Forbidden(String),
    /// No such case or file (404).
    NotFound(String),
    /// Not allowed in the current state (409).
    Conflict(String),
    /// Our fault (500); the detail is logged, not sent.
    Internal(String),
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message for the client; logs internal errors.
    fn public_message(&self) -> String {
        match self {
            AppError::BadRequest(m)
            | AppError::Unauthorized(m)
            | AppError::Forbidden(m)
            | AppError::NotFound(m)
            | AppError::Conflict(m) => m.clone(),
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                "internal error".to_string()
            }
        }
    }

    /// The same error, rendered as an HTML page in `lang`.
    pub fn page(self, lang: Lang) -> PageError {
        PageError { error: self, lang }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => AppError::NotFound(e.to_string()),
            StoreError::Conflict(_) => AppError::Conflict(e.to_string()),
            StoreError::Invalid(_) => AppError::BadRequest(e.to_string()),
            StoreError::Backend(_) => AppError::Internal(e.to_string()),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::json!({ "error": self.public_message() });
        (status, Json(body)).into_response()
    }
}

/// An error of a UI page.
#[derive(Debug)]
pub struct PageError {
    error: AppError,
    lang: Lang,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let lang = self.lang;
        let status = self.error.status();
        let title = match status {
            StatusCode::NOT_FOUND => Msg::NotFound.get(lang),
            StatusCode::FORBIDDEN => Msg::Forbidden.get(lang),
            StatusCode::CONFLICT => Msg::Conflict.get(lang),
            _ => Msg::Error.get(lang),
        };
        let body = format!(
            "<h1>{title}</h1><p class=\"error\">{}</p><p><a href=\"/cases\">{}</a></p>",
            escape(&self.error.public_message()),
            Msg::BackToList.get(lang)
        );
        Page {
            status,
            lang,
            remember_lang: false,
            title: title.to_string(),
            body,
            path: "/cases".into(),
            user: None,
        }
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_statuses_and_hide_internals() {
        let table = [
            (
                StoreError::NotFound(3),
                StatusCode::NOT_FOUND,
                "case 3 not found",
            ),
            (
                StoreError::Conflict("x".into()),
                StatusCode::CONFLICT,
                "invalid transition: x",
            ),
            (
                StoreError::Invalid("y".into()),
                StatusCode::BAD_REQUEST,
                "invalid input: y",
            ),
            (
                StoreError::Backend("disk I/O error at /var/db".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
            ),
        ];
        for (e, status, msg) in table {
            let e = AppError::from(e);
            assert_eq!(e.status(), status);
            assert_eq!(e.public_message(), msg);
        }
    }
}
