//! The JSON API: the same cases and decisions as the UI, for scripts and the downstream pipeline.
//!
//! Every error is `{"error": "..."}` with 400 (bad input), 404 (no such case), 409 (the case can
//! no longer be decided) or 500. Malformed JSON or query strings are answered the same way, not
//! with axum's plain-text rejections, so clients parse one shape.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use model::{Case, CaseFilter, CaseStatus, CaseSummary, Decision};
use serde::Deserialize;

use super::AppState;
use super::auth::Identity;
use super::error::AppError;
use crate::auth::Perm;

/// Query of `GET /api/cases` (and of the UI list): every filter optional, empty means any.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListQuery {
    pub(crate) status: Option<String>,
    pub(crate) category: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) host: Option<String>,
    pub(crate) limit: Option<u32>,
}

impl ListQuery {
    /// The store filter; an unknown status is refused rather than silently matching everything.
    pub(crate) fn to_filter(&self) -> Result<CaseFilter, AppError> {
        let nonempty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let status = match nonempty(&self.status) {
            None => None,
            Some(s) => Some(
                CaseStatus::parse(&s)
                    .ok_or_else(|| AppError::BadRequest(format!("unknown status {s:?}")))?,
            ),
        };
        Ok(CaseFilter {
            status,
            category: nonempty(&self.category),
            host: nonempty(&self.host),
            source: nonempty(&self.source),
            limit: self.limit,
        })
    }
}

/// Case id from the URL; anything but an integer is a case that does not exist.
pub(crate) fn case_id(raw: &str) -> Result<i64, AppError> {
    raw.parse()
        .map_err(|_| AppError::NotFound(format!("case {raw:?} not found")))
}

/// `GET /api/cases`.
pub(crate) async fn list(
    State(state): State<AppState>,
    ident: Identity,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<CaseSummary>>, AppError> {
    ident.require(Perm::ViewCases)?;
    let Query(q) = query.map_err(|e| AppError::BadRequest(e.body_text()))?;
    Ok(Json(state.store.list_cases(&q.to_filter()?).await?))
}

/// `GET /api/cases/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    ident: Identity,
    Path(id): Path<String>,
) -> Result<Json<Case>, AppError> {
    ident.require(Perm::ViewCases)?;
    let id = case_id(&id)?;
    match state.store.get_case(id).await? {
        Some(case) => {
            state
                .desk
                .audit(ident.name(), "case.view", &format!("case:{id}"), "api")
                .await?;
            Ok(Json(case))
        }
        None => Err(AppError::NotFound(format!("case {id} not found"))),
    }
}

/// `POST /api/cases/{id}/decision` with a [`Decision`] body; answers the updated case.
pub(crate) async fn decide(
    State(state): State<AppState>,
    ident: Identity,
    Path(id): Path<String>,
    body: Result<Json<Decision>, JsonRejection>,
) -> Result<Json<Case>, AppError> {
    let id = case_id(&id)?;
    let Json(decision) = body.map_err(|e| AppError::BadRequest(e.body_text()))?;
    Ok(Json(
        super::pages::record_decision(&state, &ident, id, &decision).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_query_to_filter() {
        let q = ListQuery {
            status: Some("in_review".into()),
            category: Some(" ".into()),
            source: Some("telegram".into()),
            ..ListQuery::default()
        };
        let f = q.to_filter().unwrap();
        assert_eq!(f.status, Some(CaseStatus::InReview));
        assert_eq!(f.category, None);
        assert_eq!(f.source.as_deref(), Some("telegram"));
        let bad = ListQuery {
            status: Some("closed".into()),
            ..ListQuery::default()
        };
        assert!(matches!(bad.to_filter(), Err(AppError::BadRequest(_))));
    }
}
