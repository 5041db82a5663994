//! Form 2 notifications in the case database: drafting, revising, four-eyes approval, the
//! transactional outbox, and the authority's receipts.
//!
//! Four eyes: the approver must hold the `approver` role and must not be the person who last
//! authored the content; the approval names the content hash the approver saw, and is refused if
//! the content changed in between. Any later revision replaces the content and voids the approval
//! (the notification goes back to draft). Approval and the outbox row are written in one
//! transaction: the message exists exactly when the approval does, and a relay publishes it
//! afterwards — a crash between commit and publish only delays it (at-least-once; consumers
//! deduplicate by the stable `message_id`).

use chrono::{DateTime, Utc};
use model::{CaseStatus, Route, StoreError, Taxonomy};
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::{Deserialize, Serialize};

use super::audit;
use super::sqlite::{
    Event, SqliteCaseStore, current_status, db_err, insert_event, load_case, parse_ts, ts,
};
use crate::auth::Role;
use crate::notification::{Content, Signatory};
use crate::workflow::{self, check_actor};

/// Where a notification is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationStatus {
    /// Being prepared; may be revised.
    Draft,
    /// Approved by an approver; in the outbox.
    Approved,
    /// Published onward.
    Sent,
}

impl NotificationStatus {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Draft => "draft",
            NotificationStatus::Approved => "approved",
            NotificationStatus::Sent => "sent",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::Approved, Self::Sent]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// The authority's answer to one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Accepted: access will be restricted.
    Accepted,
    /// Rejected as unconfirmed, with a justification (Order 409, para 11).
    Rejected,
}

impl Verdict {
    /// The verdict stored as `s` (anything but `accepted` is a rejection).
    pub(crate) fn from_stored(s: &str) -> Self {
        if s == "accepted" {
            Verdict::Accepted
        } else {
            Verdict::Rejected
        }
    }

    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::Rejected => "rejected",
        }
    }
}

/// A recorded receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// Line of the notification.
    pub line: u32,
    /// Case of that line.
    pub case_id: i64,
    /// Verdict.
    pub verdict: Verdict,
    /// The authority's justification.
    pub justification: String,
    /// Who recorded it.
    pub recorded_by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A notification with its content and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// Row id.
    pub id: i64,
    /// Stable message id (the outbox and consumers deduplicate by it).
    pub message_id: String,
    /// Status.
    pub status: NotificationStatus,
    /// Who last authored the content (may not approve it).
    pub drafted_by: String,
    /// When the content was last authored.
    pub drafted_at: DateTime<Utc>,
    /// The content.
    pub content: Content,
    /// Its SHA-256.
    pub content_sha256: String,
    /// The approving official, once approved.
    pub signatory: Option<Signatory>,
    /// The hash the approval was given for; equals `content_sha256` while the approval holds.
    pub approved_sha256: Option<String>,
    /// When published onward.
    pub sent_at: Option<DateTime<Utc>>,
    /// Receipts per line.
    pub receipts: Vec<Receipt>,
}

impl Notification {
    /// Cases of the notification, in line order.
    pub fn case_ids(&self) -> Vec<i64> {
        self.content.facts.iter().map(|f| f.case_id).collect()
    }

    /// Whether an approval exists and is bound to the current content.
    pub fn approval_holds(&self) -> bool {
        self.signatory.is_some() && self.approved_sha256.as_deref() == Some(&self.content_sha256)
    }
}

/// A message waiting in (or already through) the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Outbox row.
    pub outbox_id: i64,
    /// Notification.
    pub notification_id: i64,
    /// Stable id: the AMQP `message_id` and the file name in the outbox directory.
    pub message_id: String,
    /// JSON payload.
    pub payload: String,
    /// Publish attempts so far.
    pub attempts: u32,
}

/// The JSON published for an approved notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// Stable message id.
    pub message_id: String,
    /// Notification id in the sending desk.
    pub notification_id: i64,
    /// Form 2 content.
    pub content: Content,
    /// Its SHA-256 (what the approver approved).
    pub content_sha256: String,
    /// The approving official.
    pub signatory: Signatory,
}

// The rules below hold whatever the backend: both stores call them inside their transactions, so
// they refuse the same things with the same messages.

/// The cases a notification over `case_ids` covers: each once, in id order.
pub(crate) fn unique_ids(case_ids: &[i64]) -> Vec<i64> {
    let mut ids = case_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Checks that `case` may go into a notification: confirmed on the blocking route, not merged,
/// and not in another notification (`in_other`, the notification it is already in, if any).
pub(crate) fn check_notifiable(
    case: &model::Case,
    in_other: Option<i64>,
) -> Result<(), StoreError> {
    let id = case.id;
    if case.route != Some(Route::Blocking) {
        return Err(StoreError::Invalid(format!(
            "case {id} is not confirmed on the blocking route"
        )));
    }
    if case.merged_into.is_some() {
        return Err(StoreError::Invalid(format!(
            "case {id} is merged into another case"
        )));
    }
    if let Some(n) = in_other {
        return Err(StoreError::Conflict(format!(
            "case {id} is already in notification {n}"
        )));
    }
    Ok(())
}

/// The Form 2 content over checked `cases`.
pub(crate) fn content_of(
    cases: &[model::Case],
    taxonomy: &Taxonomy,
) -> Result<Content, StoreError> {
    Content::build(cases, taxonomy).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// What the audit chain records for a new draft.
pub(crate) fn draft_detail(content: &Content) -> String {
    format!(
        "sha256 {} cases {:?}",
        content.sha256(),
        content.facts.iter().map(|f| f.case_id).collect::<Vec<_>>()
    )
}

/// Checks that notification `old` may still be revised (it was not sent).
pub(crate) fn check_revisable(old: &Notification) -> Result<(), StoreError> {
    if old.status == NotificationStatus::Sent {
        return Err(StoreError::Conflict(format!(
            "notification {} was sent and can no longer change",
            old.id
        )));
    }
    Ok(())
}

/// The approver as the store found them: role, full name, position, disabled.
pub(crate) type ApproverRow = (String, String, String, bool);

/// Checks an approval of `n` by `approver` (found as `user`) bound to `expected` (the content
/// hash the approver saw) — four eyes, draft, unchanged content — and returns the signature.
pub(crate) fn signatory_for(
    n: &Notification,
    approver: &str,
    user: Option<ApproverRow>,
    expected: &str,
    now: DateTime<Utc>,
) -> Result<Signatory, StoreError> {
    let id = n.id;
    let Some((role, full_name, position, disabled)) = user else {
        return Err(StoreError::Invalid(format!("no user {approver:?}")));
    };
    if Role::parse(&role) != Some(Role::Approver) || disabled {
        return Err(StoreError::Conflict(format!(
            "{approver} is not an enabled approver"
        )));
    }
    if n.drafted_by == approver {
        return Err(StoreError::Conflict(format!(
            "four eyes: {approver} authored notification {id} and cannot approve it"
        )));
    }
    if n.status != NotificationStatus::Draft {
        return Err(StoreError::Conflict(format!(
            "notification {id} is {}, not a draft",
            n.status.as_str()
        )));
    }
    if n.content_sha256 != expected {
        return Err(StoreError::Conflict(format!(
            "notification {id} changed since it was shown (content {} ≠ {expected}); review it again",
            n.content_sha256
        )));
    }
    Ok(Signatory {
        user: approver.to_string(),
        full_name: if full_name.is_empty() {
            approver.to_string()
        } else {
            full_name
        },
        position,
        approved_at: now,
    })
}

impl Payload {
    /// The outbox message of approved notification `n` signed by `signatory`, as JSON.
    pub(crate) fn json_of(n: &Notification, signatory: Signatory) -> Result<String, StoreError> {
        let payload = Payload {
            message_id: n.message_id.clone(),
            notification_id: n.id,
            content: n.content.clone(),
            content_sha256: n.content_sha256.clone(),
            signatory,
        };
        serde_json::to_string(&payload).map_err(|e| StoreError::Backend(e.to_string()))
    }
}

/// Checks a receipt's justification (a rejection needs one); returns it trimmed.
pub(crate) fn receipt_justification(
    verdict: Verdict,
    justification: &str,
) -> Result<&str, StoreError> {
    let justification = justification.trim();
    if verdict == Verdict::Rejected && justification.is_empty() {
        return Err(StoreError::Invalid(
            "a rejection needs the authority's justification".into(),
        ));
    }
    Ok(justification)
}

/// The case a receipt for line `line` of `n` is about, and the status it moves to; refused unless
/// `n` was sent and has that line.
pub(crate) fn receipt_case(
    n: &Notification,
    line: u32,
    verdict: Verdict,
) -> Result<(i64, CaseStatus), StoreError> {
    let id = n.id;
    if n.status != NotificationStatus::Sent {
        return Err(StoreError::Conflict(format!(
            "notification {id} has not been sent"
        )));
    }
    let fact = n
        .content
        .facts
        .iter()
        .find(|f| f.line == line)
        .ok_or_else(|| StoreError::Invalid(format!("notification {id} has no line {line}")))?;
    let to = match verdict {
        Verdict::Accepted => CaseStatus::Acknowledged,
        Verdict::Rejected => CaseStatus::Rejected,
    };
    Ok((fact.case_id, to))
}

/// The refusal when a receipt for line `line` of notification `id` exists already.
pub(crate) fn receipt_exists(id: i64, line: u32) -> StoreError {
    StoreError::Conflict(format!(
        "line {line} of notification {id} already has a receipt"
    ))
}

/// What the audit chain records for a receipt.
pub(crate) fn receipt_detail(line: u32, verdict: Verdict, justification: &str) -> String {
    format!("line {line}: {} {justification}", verdict.as_str())
}

const COLUMNS: &str = "id, message_id, status, drafted_by, drafted_at, content_json,
    content_sha256, approved_sha256, signatory_json, sent_at";

fn row(r: &Row<'_>) -> rusqlite::Result<Notification> {
    let conv = |e: String| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    };
    let status: String = r.get(2)?;
    let drafted_at: String = r.get(4)?;
    let content: String = r.get(5)?;
    let signatory: Option<String> = r.get(8)?;
    let sent_at: Option<String> = r.get(9)?;
    Ok(Notification {
        id: r.get(0)?,
        message_id: r.get(1)?,
        status: NotificationStatus::parse(&status)
            .ok_or_else(|| conv(format!("bad status {status:?}")))?,
        drafted_by: r.get(3)?,
        drafted_at: parse_ts(&drafted_at)?,
        content: serde_json::from_str(&content).map_err(|e| conv(e.to_string()))?,
        content_sha256: r.get(6)?,
        approved_sha256: r.get(7)?,
        signatory: signatory
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| conv(e.to_string()))?,
        sent_at: sent_at.as_deref().map(parse_ts).transpose()?,
        receipts: Vec::new(),
    })
}

fn load(conn: &rusqlite::Connection, id: i64) -> Result<Notification, StoreError> {
    let mut n = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM notifications WHERE id = ?1"),
            [id],
            row,
        )
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::Invalid(format!("no notification {id}")))?;
    let mut stmt = conn
        .prepare(
            "SELECT line, case_id, verdict, justification, recorded_by, at FROM receipts
             WHERE notification_id = ?1 ORDER BY line",
        )
        .map_err(db_err)?;
    n.receipts = stmt
        .query_map([id], |r| {
            let verdict: String = r.get(2)?;
            let at: String = r.get(5)?;
            Ok(Receipt {
                line: r.get(0)?,
                case_id: r.get(1)?,
                verdict: Verdict::from_stored(&verdict),
                justification: r.get(3)?,
                recorded_by: r.get(4)?,
                at: parse_ts(&at)?,
            })
        })
        .and_then(|r| r.collect())
        .map_err(db_err)?;
    Ok(n)
}

/// Moves case `id` to `to` (recording the event) if it is in one of `from`.
fn move_case(
    tx: &Transaction<'_>,
    id: i64,
    from: &[CaseStatus],
    to: CaseStatus,
    action: &str,
    actor: &str,
    note: Option<&str>,
) -> Result<(), StoreError> {
    let cur = current_status(tx, id)?;
    workflow::check_in(id, cur, from)?;
    if cur == to {
        return Ok(());
    }
    let at = ts(Utc::now());
    tx.execute(
        "UPDATE cases SET status = ?2, status_since = ?3 WHERE id = ?1",
        params![id, to.as_str(), at],
    )
    .map_err(db_err)?;
    insert_event(
        tx,
        &Event {
            case_id: id,
            action,
            from: cur,
            to,
            route: None,
            note,
            actor,
            at: &at,
        },
    )
}

/// Loads the cases and builds the content, checking each may go into a notification: confirmed
/// on the blocking route, not merged, not in another notification (other than `except`).
fn build(
    tx: &Transaction<'_>,
    case_ids: &[i64],
    taxonomy: &Taxonomy,
    except: Option<i64>,
) -> Result<Content, StoreError> {
    let mut cases = Vec::new();
    for id in unique_ids(case_ids) {
        let case = load_case(tx, id)?.ok_or(StoreError::NotFound(id))?;
        let other: Option<i64> = tx
            .query_row(
                "SELECT nc.notification_id FROM notification_cases nc
                 WHERE nc.case_id = ?1 AND nc.notification_id IS NOT ?2",
                params![id, except],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        check_notifiable(&case, other)?;
        cases.push(case);
    }
    content_of(&cases, taxonomy)
}

fn set_cases(tx: &Transaction<'_>, id: i64, content: &Content) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM notification_cases WHERE notification_id = ?1",
        [id],
    )
    .map_err(db_err)?;
    for f in &content.facts {
        tx.execute(
            "INSERT INTO notification_cases (notification_id, case_id) VALUES (?1, ?2)",
            params![id, f.case_id],
        )
        .map_err(db_err)?;
    }
    Ok(())
}

impl SqliteCaseStore {
    /// Drafts a Form 2 notification over `case_ids` (confirmed, blocking route, one category).
    pub async fn draft_notification(
        &self,
        case_ids: &[i64],
        taxonomy: &Taxonomy,
        actor: &str,
    ) -> Result<Notification, StoreError> {
        let actor = check_actor(actor)?.to_string();
        let (case_ids, taxonomy) = (case_ids.to_vec(), taxonomy.clone());
        self.call(move |conn| {
            let tx = conn.transaction().map_err(db_err)?;
            let content = build(&tx, &case_ids, &taxonomy, None)?;
            for f in &content.facts {
                move_case(
                    &tx,
                    f.case_id,
                    &[CaseStatus::Confirmed],
                    CaseStatus::NotificationDrafted,
                    "notification.draft",
                    &actor,
                    None,
                )?;
            }
            let message_id = format!("baqylau-n-{}", crate::auth::random_hex(16));
            tx.execute(
                "INSERT INTO notifications (message_id, status, drafted_by, drafted_at,
                    content_json, content_sha256) VALUES (?1, 'draft', ?2, ?3, ?4, ?5)",
                params![
                    message_id,
                    actor,
                    ts(Utc::now()),
                    content.canonical_json(),
                    content.sha256()
                ],
            )
            .map_err(db_err)?;
            let id = tx.last_insert_rowid();
            set_cases(&tx, id, &content)?;
            audit::append(
                &tx,
                &actor,
                "notification.draft",
                &format!("notification:{id}"),
                &draft_detail(&content),
            )?;
            tx.commit().map_err(db_err)?;
            tracing::info!(notification = id, actor = %actor, "notification drafted");
            load(conn, id)
        })
        .await
    }

    /// Replaces the notification's cases (and so its content). Allowed until it is sent; an
    /// approval of the old content is void and the notification is a draft again.
    pub async fn revise_notification(
        &self,
        id: i64,
        case_ids: &[i64],
        taxonomy: &Taxonomy,
        actor: &str,
    ) -> Result<Notification, StoreError> {
        let actor = check_actor(actor)?.to_string();
        let (case_ids, taxonomy) = (case_ids.to_vec(), taxonomy.clone());
        self.call(move |conn| {
            let tx = conn.transaction().map_err(db_err)?;
            let old = load(&tx, id)?;
            check_revisable(&old)?;
            let content = build(&tx, &case_ids, &taxonomy, Some(id))?;
            let old_ids = old.case_ids();
            let new_ids: Vec<i64> = content.facts.iter().map(|f| f.case_id).collect();
            for c in old_ids.iter().filter(|c| !new_ids.contains(c)) {
                move_case(
                    &tx,
                    *c,
                    &[CaseStatus::NotificationDrafted, CaseStatus::Approved],
                    CaseStatus::Confirmed,
                    "notification.remove",
                    &actor,
                    None,
                )?;
            }
            for c in &new_ids {
                move_case(
                    &tx,
                    *c,
                    &[
                        CaseStatus::Confirmed,
                        CaseStatus::NotificationDrafted,
                        CaseStatus::Approved,
                    ],
                    CaseStatus::NotificationDrafted,
                    "notification.revise",
                    &actor,
                    None,
                )?;
            }
            tx.execute(
                "UPDATE notifications SET status = 'draft', drafted_by = ?2, drafted_at = ?3,
                    content_json = ?4, content_sha256 = ?5, approved_by = NULL, approved_at = NULL,
                    approved_sha256 = NULL, signatory_json = NULL WHERE id = ?1",
                params![
                    id,
                    actor,
                    ts(Utc::now()),
                    content.canonical_json(),
                    content.sha256()
                ],
            )
            .map_err(db_err)?;
            // An approved notification may already sit in the outbox: take it out.
            tx.execute(
                "DELETE FROM outbox WHERE notification_id = ?1 AND published_at IS NULL",
                [id],
            )
            .map_err(db_err)?;
            set_cases(&tx, id, &content)?;
            let object = format!("notification:{id}");
            if old.status == NotificationStatus::Approved {
                audit::append(
                    &tx,
                    &actor,
                    "notification.approval_voided",
                    &object,
                    &old.content_sha256,
                )?;
            }
            audit::append(
                &tx,
                &actor,
                "notification.revise",
                &object,
                &content.sha256(),
            )?;
            tx.commit().map_err(db_err)?;
            load(conn, id)
        })
        .await
    }

    /// Approves notification `id` as `approver`, bound to `expected_sha256` (the content the
    /// approver saw). Refused unless the approver is an enabled `approver` who did not author the
    /// content and the content is unchanged. Writes the outbox message in the same transaction.
    pub async fn approve_notification(
        &self,
        id: i64,
        expected_sha256: &str,
        approver: &str,
    ) -> Result<Notification, StoreError> {
        let approver = check_actor(approver)?.to_string();
        let expected = expected_sha256.trim().to_string();
        self.call(move |conn| {
            let tx = conn.transaction().map_err(db_err)?;
            let n = load(&tx, id)?;
            let user: Option<ApproverRow> = tx
                .query_row(
                    "SELECT role, full_name, position, disabled FROM users WHERE name = ?1",
                    [&approver],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
                .map_err(db_err)?;
            let now = Utc::now();
            let signatory = signatory_for(&n, &approver, user, &expected, now)?;
            let sig_json = serde_json::to_string(&signatory)
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            tx.execute(
                "UPDATE notifications SET status = 'approved', approved_by = ?2, approved_at = ?3,
                    approved_sha256 = ?4, signatory_json = ?5 WHERE id = ?1",
                params![id, approver, ts(now), n.content_sha256, sig_json],
            )
            .map_err(db_err)?;
            for c in n.case_ids() {
                move_case(
                    &tx,
                    c,
                    &[CaseStatus::NotificationDrafted],
                    CaseStatus::Approved,
                    "notification.approve",
                    &approver,
                    None,
                )?;
            }
            let payload = Payload::json_of(&n, signatory)?;
            tx.execute(
                "INSERT INTO outbox (notification_id, message_id, payload, created_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (notification_id) DO UPDATE SET payload = excluded.payload,
                    published_at = NULL, attempts = 0, last_error = NULL",
                params![id, n.message_id, payload, ts(now)],
            )
            .map_err(db_err)?;
            audit::append(
                &tx,
                &approver,
                "notification.approve",
                &format!("notification:{id}"),
                &n.content_sha256,
            )?;
            tx.commit().map_err(db_err)?;
            tracing::info!(notification = id, approver = %approver, "notification approved");
            load(conn, id)
        })
        .await
    }

    /// One notification.
    pub async fn notification(&self, id: i64) -> Result<Option<Notification>, StoreError> {
        self.call(move |conn| match load(conn, id) {
            Ok(n) => Ok(Some(n)),
            Err(StoreError::Invalid(_)) => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    /// All notifications, newest first (optionally only those containing `case_id`).
    pub async fn notifications(
        &self,
        case_id: Option<i64>,
    ) -> Result<Vec<Notification>, StoreError> {
        self.call(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT id FROM notifications n WHERE ?1 IS NULL OR EXISTS
                     (SELECT 1 FROM notification_cases c WHERE c.notification_id = n.id AND c.case_id = ?1)
                     ORDER BY id DESC",
                )
                .map_err(db_err)?;
            let ids: Vec<i64> = stmt
                .query_map([case_id], |r| r.get(0))
                .and_then(|r| r.collect())
                .map_err(db_err)?;
            ids.into_iter().map(|id| load(conn, id)).collect()
        })
        .await
    }

    /// Confirmed blocking-route cases not yet in any notification: what can be drafted.
    pub async fn notifiable_cases(&self) -> Result<Vec<model::CaseSummary>, StoreError> {
        let all = model::CaseStore::list_cases(
            self,
            &model::CaseFilter {
                status: Some(CaseStatus::Confirmed),
                sort: model::CaseSort::Oldest,
                ..Default::default()
            },
        )
        .await?;
        let taken: Vec<i64> = self
            .call(|conn| {
                let mut stmt = conn
                    .prepare("SELECT case_id FROM notification_cases")
                    .map_err(db_err)?;
                stmt.query_map([], |r| r.get(0))
                    .and_then(|r| r.collect())
                    .map_err(db_err)
            })
            .await?;
        Ok(all
            .into_iter()
            .filter(|c| c.route == Some(Route::Blocking) && !taken.contains(&c.id))
            .collect())
    }

    /// Outbox messages not yet published, oldest first.
    pub async fn pending_outbox(&self) -> Result<Vec<OutboxMessage>, StoreError> {
        self.call(|conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT id, notification_id, message_id, payload, attempts FROM outbox
                     WHERE published_at IS NULL ORDER BY id",
                )
                .map_err(db_err)?;
            stmt.query_map([], |r| {
                Ok(OutboxMessage {
                    outbox_id: r.get(0)?,
                    notification_id: r.get(1)?,
                    message_id: r.get(2)?,
                    payload: r.get(3)?,
                    attempts: r.get(4)?,
                })
            })
            .and_then(|r| r.collect())
            .map_err(db_err)
        })
        .await
    }

    /// Records a failed publish attempt.
    pub async fn outbox_failed(&self, outbox_id: i64, error: &str) -> Result<(), StoreError> {
        let error = error.to_string();
        self.call(move |conn| {
            conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                params![outbox_id, error],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    /// Marks an outbox message published (the broker confirmed it): the notification and its
    /// cases become `sent`.
    pub async fn outbox_published(&self, outbox_id: i64, via: &str) -> Result<(), StoreError> {
        let via = via.to_string();
        self.call(move |conn| {
            let tx = conn.transaction().map_err(db_err)?;
            let nid: Option<i64> = tx
                .query_row(
                    "SELECT notification_id FROM outbox WHERE id = ?1 AND published_at IS NULL",
                    [outbox_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            let Some(nid) = nid else {
                return Ok(());
            };
            let now = ts(Utc::now());
            tx.execute(
                "UPDATE outbox SET published_at = ?2, attempts = attempts + 1, last_error = NULL
                 WHERE id = ?1",
                params![outbox_id, now],
            )
            .map_err(db_err)?;
            tx.execute(
                "UPDATE notifications SET status = 'sent', sent_at = ?2 WHERE id = ?1",
                params![nid, now],
            )
            .map_err(db_err)?;
            let n = load(&tx, nid)?;
            for c in n.case_ids() {
                move_case(
                    &tx,
                    c,
                    &[CaseStatus::Approved],
                    CaseStatus::Sent,
                    "notification.sent",
                    "system",
                    Some(&via),
                )?;
            }
            audit::append(
                &tx,
                "system",
                "notification.sent",
                &format!("notification:{nid}"),
                &via,
            )?;
            tx.commit().map_err(db_err)
        })
        .await
    }

    /// Records the authority's answer to line `line` of a sent notification: the case becomes
    /// `acknowledged` or `rejected`. A rejection needs the authority's justification.
    pub async fn record_receipt(
        &self,
        id: i64,
        line: u32,
        verdict: Verdict,
        justification: &str,
        actor: &str,
    ) -> Result<Notification, StoreError> {
        let actor = check_actor(actor)?.to_string();
        let justification = receipt_justification(verdict, justification)?.to_string();
        self.call(move |conn| {
            let tx = conn.transaction().map_err(db_err)?;
            let n = load(&tx, id)?;
            let (case_id, to) = receipt_case(&n, line, verdict)?;
            let inserted = tx
                .execute(
                    "INSERT OR IGNORE INTO receipts (notification_id, line, case_id, verdict,
                        justification, recorded_by, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        id,
                        line,
                        case_id,
                        verdict.as_str(),
                        justification,
                        actor,
                        ts(Utc::now())
                    ],
                )
                .map_err(db_err)?;
            if inserted == 0 {
                return Err(receipt_exists(id, line));
            }
            move_case(
                &tx,
                case_id,
                &[CaseStatus::Sent],
                to,
                "notification.receipt",
                &actor,
                Some(&justification),
            )?;
            audit::append(
                &tx,
                &actor,
                "notification.receipt",
                &format!("notification:{id}"),
                &receipt_detail(line, verdict, &justification),
            )?;
            tx.commit().map_err(db_err)?;
            load(conn, id)
        })
        .await
    }
}
