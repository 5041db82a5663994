//! The case-store seam. The reporter owns case storage; SQLite is the embedded backend and
//! PostgreSQL the distributed one, both behind [`CaseStore`].

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Case, CaseFilter, CaseSummary, Decision, Flagged, Screenshot, Viewport};

/// Case-store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such case.
    #[error("case {0} not found")]
    NotFound(i64),
    /// The operation is not allowed in the case's current state.
    #[error("invalid transition: {0}")]
    Conflict(String),
    /// The request is malformed (e.g. empty dismissal reason).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Database error.
    #[error("storage: {0}")]
    Backend(String),
}

/// Result of recording a flagged capture: which case each category landed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseUpsert {
    /// Case id.
    pub case_id: i64,
    /// Category of the case.
    pub category: String,
    /// True when the case was opened by this call (false: evidence added to an existing case).
    pub created: bool,
    /// True when this call added the capture as evidence of the case.
    pub evidence_added: bool,
    /// True when the capture's evidence in this case has no (desktop) screenshot yet: newly
    /// added, or recorded earlier by a delivery whose screenshot request may have been lost (a
    /// worker that died between committing the case rows and publishing the request).
    pub needs_screenshot: bool,
}

/// Request to take evidence screenshots of a flagged capture for a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenshotRequest {
    /// Case the screenshot belongs to.
    pub case_id: i64,
    /// Capture being documented.
    pub capture_id: String,
    /// URL to open (the capture's final URL; for Telegram, the post's embed URL).
    pub url: String,
    /// Text fragments to highlight on the page before the shot.
    pub highlight: Vec<String>,
}

/// Storage of cases and their evidence.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Records a flagged capture: one case per category (deduplicated by category + resource);
    /// hits and evidence are appended. Idempotent per capture id. Reports every category whose
    /// case this call opened, whose evidence it added, or whose evidence of this capture still
    /// lacks a screenshot (so a re-delivery can ask for it again).
    async fn record_flagged(&self, flagged: &Flagged) -> Result<Vec<CaseUpsert>, StoreError>;
    /// Attaches a desktop screenshot to the evidence of `capture_id` in case `case_id`.
    async fn attach_screenshot(
        &self,
        case_id: i64,
        capture_id: &str,
        shot: &Screenshot,
    ) -> Result<(), StoreError> {
        self.attach_screenshot_on(case_id, capture_id, Viewport::Desktop, shot)
            .await
    }
    /// Attaches the screenshot taken on `viewport` (an evidence has one per viewport; a second
    /// one of the same viewport replaces the first).
    async fn attach_screenshot_on(
        &self,
        case_id: i64,
        capture_id: &str,
        viewport: Viewport,
        shot: &Screenshot,
    ) -> Result<(), StoreError>;
    /// Every screenshot of the evidence of `capture_id` in case `case_id`, desktop first.
    async fn screenshots(
        &self,
        case_id: i64,
        capture_id: &str,
    ) -> Result<Vec<(Viewport, Screenshot)>, StoreError>;
    /// Case list, newest first.
    async fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<CaseSummary>, StoreError>;
    /// One case with hits and evidence.
    async fn get_case(&self, id: i64) -> Result<Option<Case>, StoreError>;
    /// Applies an analyst's decision; only open cases can be decided.
    async fn decide(&self, id: i64, decision: &Decision, actor: &str) -> Result<Case, StoreError>;
    /// Marks a new case as being reviewed (opened by an analyst).
    async fn start_review(&self, id: i64, actor: &str) -> Result<(), StoreError>;
}
