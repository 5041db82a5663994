//! Cases: what analysts triage. A case groups the hits of one category on one resource.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Field, Severity, Source, Span, WarcRef};

/// Legal route of a confirmed case (DESIGN §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// Signs of a criminal offence: criminal-procedure measures.
    Criminal,
    /// No criminal signs: materials go to administrative bodies.
    Administrative,
    /// Prohibited content: a Form 2 notification to the mass-media authority for blocking.
    Blocking,
}

impl Route {
    /// All routes, in display order.
    pub const ALL: [Route; 3] = [Route::Criminal, Route::Administrative, Route::Blocking];

    /// Stable snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Route::Criminal => "criminal",
            Route::Administrative => "administrative",
            Route::Blocking => "blocking",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Case status (DESIGN §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Opened by the pipeline, nobody looked yet.
    New,
    /// An analyst is looking at it.
    InReview,
    /// An analyst confirmed the violation and chose a route.
    Confirmed,
    /// A Form 2 notification is drafted.
    NotificationDrafted,
    /// An approver approved the notification.
    Approved,
    /// The notification was published onward.
    Sent,
    /// The authority accepted it.
    Acknowledged,
    /// The authority rejected it (with justification).
    Rejected,
    /// False positive, with a reason (feeds rule precision).
    Dismissed,
}

impl CaseStatus {
    /// All statuses in workflow order.
    pub const ALL: [CaseStatus; 9] = [
        CaseStatus::New,
        CaseStatus::InReview,
        CaseStatus::Confirmed,
        CaseStatus::NotificationDrafted,
        CaseStatus::Approved,
        CaseStatus::Sent,
        CaseStatus::Acknowledged,
        CaseStatus::Rejected,
        CaseStatus::Dismissed,
    ];

    /// Stable snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            CaseStatus::New => "new",
            CaseStatus::InReview => "in_review",
            CaseStatus::Confirmed => "confirmed",
            CaseStatus::NotificationDrafted => "notification_drafted",
            CaseStatus::Approved => "approved",
            CaseStatus::Sent => "sent",
            CaseStatus::Acknowledged => "acknowledged",
            CaseStatus::Rejected => "rejected",
            CaseStatus::Dismissed => "dismissed",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<CaseStatus> {
        CaseStatus::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether an analyst may still confirm or dismiss the case.
    pub fn is_open(&self) -> bool {
        matches!(self, CaseStatus::New | CaseStatus::InReview)
    }

    /// Whether work on the case is finished (no deadline runs any more).
    pub fn is_closed(&self) -> bool {
        matches!(
            self,
            CaseStatus::Sent
                | CaseStatus::Acknowledged
                | CaseStatus::Rejected
                | CaseStatus::Dismissed
        )
    }
}

/// An analyst's decision on a case. A machine never decides: this always carries a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Decision {
    /// The violation is real; the case goes the chosen route.
    Confirm {
        /// Legal route.
        route: Route,
        /// Why (free text); required, may be short.
        justification: String,
    },
    /// False positive.
    Dismiss {
        /// Why it is not a violation; required.
        reason: String,
    },
}

/// Device a screenshot emulates: analysts need both the desktop page and what a phone user (most
/// Telegram and casino traffic) sees, which can differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Viewport {
    /// 1280 CSS pixels wide, desktop user agent.
    #[default]
    Desktop,
    /// 390 CSS pixels wide at device scale factor 2, mobile user agent.
    Mobile,
}

impl Viewport {
    /// Both viewports, desktop first.
    pub const ALL: [Viewport; 2] = [Viewport::Desktop, Viewport::Mobile];

    /// Stable snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Viewport::Desktop => "desktop",
            Viewport::Mobile => "mobile",
        }
    }
}

/// Full-page screenshot kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screenshot {
    /// PNG path relative to the blobs directory.
    pub path: String,
    /// SHA-256 of the PNG file.
    pub sha256: String,
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// When the screenshot was taken (UTC).
    pub taken_at: DateTime<Utc>,
}

/// Evidence of one capture attached to a case (DESIGN §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Capture id.
    pub capture_id: String,
    /// Capture time (UTC).
    pub captured_at: DateTime<Utc>,
    /// Requested URL.
    pub url: String,
    /// URL after redirects.
    pub final_url: String,
    /// IP address connected to.
    pub ip: Option<String>,
    /// HTTP status.
    pub http_status: Option<u16>,
    /// Protocol, e.g. `HTTP/1.1`.
    pub protocol: String,
    /// SHA-256 of the raw body.
    pub body_sha256: Option<String>,
    /// WARC record of the exchange.
    pub warc: Option<WarcRef>,
    /// Title of the page at capture time.
    pub title: String,
    /// Text the rules ran on (spans of hits point into it).
    pub text: String,
    /// Screenshot, once taken.
    pub screenshot: Option<Screenshot>,
}

/// A hit as recorded on a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseHit {
    /// Capture the rule fired on.
    pub capture_id: String,
    /// Rule id.
    pub rule: String,
    /// Rule version.
    pub rule_version: u32,
    /// Severity.
    pub severity: Severity,
    /// Score.
    pub score: f32,
    /// Byte spans in the evidence text/title.
    pub spans: Vec<Span>,
    /// Matched fragments.
    pub matched: String,
    /// When the hit was recorded.
    pub at: DateTime<Utc>,
}

impl CaseHit {
    /// Spans of one field, sorted by start.
    pub fn spans_in(&self, field: Field) -> Vec<Span> {
        let mut v: Vec<Span> = self
            .spans
            .iter()
            .copied()
            .filter(|s| s.field == field)
            .collect();
        v.sort_by_key(|s| (s.start, s.end));
        v
    }
}

/// One suspected violation with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Numeric id.
    pub id: i64,
    /// `category|canonical URL` — repeats on the same resource add evidence, not cases.
    pub dedup_key: String,
    /// Taxonomy category id.
    pub category: String,
    /// Resource URL.
    pub url: String,
    /// Host name.
    pub host: String,
    /// Web or Telegram.
    pub source: Source,
    /// Workflow status.
    pub status: CaseStatus,
    /// Chosen route, once confirmed.
    pub route: Option<Route>,
    /// Justification of the confirmation or reason for the dismissal.
    pub decision_note: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// First detection.
    pub first_seen: DateTime<Utc>,
    /// Latest detection.
    pub last_seen: DateTime<Utc>,
    /// Highest severity among hits.
    pub severity: Severity,
    /// Analyst the case is assigned to.
    #[serde(default)]
    pub assignee: Option<String>,
    /// When the current status began (age clock of the status).
    #[serde(default)]
    pub status_since: Option<DateTime<Utc>>,
    /// The case this one was merged into as a duplicate.
    #[serde(default)]
    pub merged_into: Option<i64>,
    /// Hits, oldest first.
    pub hits: Vec<CaseHit>,
    /// Evidence per capture, oldest first.
    pub evidence: Vec<Evidence>,
}

/// A row of the case list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSummary {
    /// Numeric id.
    pub id: i64,
    /// Category id.
    pub category: String,
    /// Resource URL.
    pub url: String,
    /// Host name.
    pub host: String,
    /// `web` or `telegram`.
    pub source: String,
    /// Status.
    pub status: CaseStatus,
    /// Route, once confirmed.
    pub route: Option<Route>,
    /// Highest severity.
    pub severity: Severity,
    /// First detection.
    pub first_seen: DateTime<Utc>,
    /// Latest detection.
    pub last_seen: DateTime<Utc>,
    /// Number of hits.
    pub hit_count: u32,
    /// Whether at least one screenshot is attached.
    pub has_screenshot: bool,
    /// Analyst the case is assigned to.
    #[serde(default)]
    pub assignee: Option<String>,
    /// When the current status began.
    #[serde(default)]
    pub status_since: Option<DateTime<Utc>>,
    /// The case this one was merged into as a duplicate.
    #[serde(default)]
    pub merged_into: Option<i64>,
}

/// Order of the case list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseSort {
    /// Latest activity first (the default).
    #[default]
    Newest,
    /// Oldest detection first (work the queue in order).
    Oldest,
    /// Highest severity first, then newest.
    Severity,
}

/// Filters of the case list; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFilter {
    /// Only this status.
    #[serde(default)]
    pub status: Option<CaseStatus>,
    /// Only this category.
    #[serde(default)]
    pub category: Option<String>,
    /// Only this host.
    #[serde(default)]
    pub host: Option<String>,
    /// Only this source kind (`web`, `telegram`).
    #[serde(default)]
    pub source: Option<String>,
    /// At most this many rows (default: all).
    #[serde(default)]
    pub limit: Option<u32>,
    /// Only cases assigned to this analyst.
    #[serde(default)]
    pub assignee: Option<String>,
    /// Only cases first detected before this time (overdue queue) and still being worked.
    #[serde(default)]
    pub detected_before: Option<DateTime<Utc>>,
    /// Also list cases merged into another one (hidden by default).
    #[serde(default)]
    pub include_merged: bool,
    /// Order.
    #[serde(default)]
    pub sort: CaseSort,
}
