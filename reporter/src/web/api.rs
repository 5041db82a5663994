//! The JSON API: the same cases and decisions as the UI, for scripts and the downstream pipeline.
//!
//! Every error is `{"error": "..."}` with 400 (bad input), 404 (no such case), 409 (the case can
//! no longer be decided) or 500. Malformed JSON or query strings are answered the same way, not
//! with axum's plain-text rejections, so clients parse one shape.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use model::{Case, CaseFilter, CaseSort, CaseStatus, CaseSummary, Decision};
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
    /// `me` (the caller) or a user name.
    pub(crate) assignee: Option<String>,
    /// Non-empty: only overdue cases.
    pub(crate) overdue: Option<String>,
    /// `newest`, `oldest`, `severity`.
    pub(crate) sort: Option<String>,
    /// Non-empty: include merged duplicates.
    pub(crate) merged: Option<String>,
}

impl ListQuery {
    /// The store filter for caller `me` with the overdue deadline `overdue_hours`; an unknown
    /// status or sort is refused rather than silently matching everything.
    pub(crate) fn to_filter(&self, me: &str, overdue_hours: i64) -> Result<CaseFilter, AppError> {
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
        let sort = match nonempty(&self.sort).as_deref() {
            None | Some("newest") => CaseSort::Newest,
            Some("oldest") => CaseSort::Oldest,
            Some("severity") => CaseSort::Severity,
            Some(other) => return Err(AppError::BadRequest(format!("unknown sort {other:?}"))),
        };
        Ok(CaseFilter {
            status,
            category: nonempty(&self.category),
            host: nonempty(&self.host),
            source: nonempty(&self.source),
            limit: self.limit,
            assignee: nonempty(&self.assignee).map(|a| if a == "me" { me.to_string() } else { a }),
            detected_before: nonempty(&self.overdue)
                .map(|_| chrono::Utc::now() - chrono::Duration::hours(overdue_hours)),
            include_merged: nonempty(&self.merged).is_some(),
            sort,
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
    let filter = q.to_filter(ident.name(), state.settings.overdue_hours)?;
    Ok(Json(state.store.list_cases(&filter).await?))
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
        let f = q.to_filter("aigul", 24).unwrap();
        assert_eq!(f.status, Some(CaseStatus::InReview));
        assert_eq!(f.category, None);
        assert_eq!(f.source.as_deref(), Some("telegram"));
        let bad = ListQuery {
            status: Some("closed".into()),
            ..ListQuery::default()
        };
        assert!(matches!(
            bad.to_filter("aigul", 24),
            Err(AppError::BadRequest(_))
        ));
        let mine = ListQuery {
            assignee: Some("me".into()),
            overdue: Some("1".into()),
            sort: Some("oldest".into()),
            ..ListQuery::default()
        }
        .to_filter("aigul", 24)
        .unwrap();
        assert_eq!(mine.assignee.as_deref(), Some("aigul"));
        assert_eq!(mine.sort, CaseSort::Oldest);
        assert!(mine.detected_before.unwrap() < chrono::Utc::now() - chrono::Duration::hours(23));
        let bad = ListQuery {
            sort: Some("random".into()),
            ..ListQuery::default()
        };
        assert!(bad.to_filter("aigul", 24).is_err());
    }
}
