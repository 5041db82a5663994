//! Form 2 notifications on PostgreSQL: drafting, revising, four-eyes approval, the transactional
//! outbox and the authority's receipts — the rules of [`crate::store::notifications`], made safe
//! for several desks and relays on one database.
//!
//! Locks, always in this order: the notification row, then case rows (sorted by id), then the
//! audit log. A revision and an approval of one notification therefore serialize, and an
//! approval can never bind to content that a concurrent revision just replaced.
//!
//! The outbox is drained by relays on several hosts. [`PgCaseStore::claim_outbox`] claims pending
//! rows with `FOR UPDATE SKIP LOCKED` and stamps a lease (`claimed_until`, database clock), so two
//! relays never publish one message at the same time; the lease outlives a crashed relay, after
//! which another one takes the row over. What remains is the window between the broker's confirm
//! and the commit of [`PgCaseStore::outbox_published`]: a crash there republishes the
//! message after the lease. It carries the same `message_id` (fixed when the notification was
//! drafted), so consumers deduplicate it; delivery is at-least-once, not exactly-once. A lease
//! shorter than a publish (PDF printing plus the broker's confirm) would allow a concurrent
//! duplicate too, hence the generous default of [`crate::outbox::DEFAULT_LEASE`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use model::{CaseFilter, CaseSort, CaseStatus, CaseSummary, Route, StoreError, Taxonomy};
use sqlx_core::query::query;
use sqlx_core::query_as::query_as;
use sqlx_core::query_scalar::query_scalar;
use sqlx_core::row::Row;
use sqlx_postgres::{PgConnection, PgRow};

use super::cases::{Event, insert_event, list, load_case, lock_case};
use super::{PgCaseStore, TxError, audit, db_err, retry_tx};
use crate::notification::Content;
use crate::store::notifications::{
    ApproverRow, Notification, NotificationStatus, OutboxMessage, Payload, Receipt, Verdict,
    check_notifiable, check_revisable, content_of, draft_detail, receipt_case, receipt_detail,
    receipt_exists, receipt_justification, signatory_for, unique_ids,
};
use crate::workflow::{self, check_actor};

fn backend(e: impl std::fmt::Display) -> TxError {
    TxError::Store(StoreError::Backend(e.to_string()))
}

fn parse_status(s: &str) -> Result<NotificationStatus, TxError> {
    NotificationStatus::parse(s).ok_or_else(|| backend(format!("bad notification status {s:?}")))
}

const COLUMNS: &str = "id, message_id, status, drafted_by, drafted_at, content_json,
    content_sha256, approved_sha256, signatory_json, sent_at";

fn row(r: &PgRow) -> Result<Notification, TxError> {
    let content: String = r.try_get(5)?;
    let signatory: Option<String> = r.try_get(8)?;
    Ok(Notification {
        id: r.try_get(0)?,
        message_id: r.try_get(1)?,
        status: parse_status(r.try_get(2)?)?,
        drafted_by: r.try_get(3)?,
        drafted_at: r.try_get(4)?,
        content: serde_json::from_str(&content).map_err(backend)?,
        content_sha256: r.try_get(6)?,
        approved_sha256: r.try_get(7)?,
        signatory: signatory
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(backend)?,
        sent_at: r.try_get(9)?,
        receipts: Vec::new(),
    })
}

/// Notification `id` with its receipts; `lock` holds its row until the transaction ends.
async fn load(c: &mut PgConnection, id: i64, lock: bool) -> Result<Notification, TxError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let r = query(&sql)
        .bind(id)
        .fetch_optional(&mut *c)
        .await?
        .ok_or_else(|| StoreError::Invalid(format!("no notification {id}")))?;
    let mut n = row(&r)?;
    let receipts: Vec<(i64, i64, String, String, String, DateTime<Utc>)> = query_as(
        "SELECT line, case_id, verdict, justification, recorded_by, at FROM receipts
         WHERE notification_id = $1 ORDER BY line",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?;
    n.receipts = receipts
        .into_iter()
        .map(|(line, case_id, verdict, justification, recorded_by, at)| {
            Ok(Receipt {
                line: u32::try_from(line).map_err(backend)?,
                case_id,
                verdict: Verdict::from_stored(&verdict),
                justification,
                recorded_by,
                at,
            })
        })
        .collect::<Result<_, TxError>>()?;
    Ok(n)
}

/// Moves case `id` to `to` (recording the event) if it is in one of `from`.
async fn move_case(
    c: &mut PgConnection,
    id: i64,
    from: &[CaseStatus],
    to: CaseStatus,
    action: &str,
    actor: &str,
    note: Option<&str>,
) -> Result<(), TxError> {
    let cur = lock_case(c, id).await?;
    workflow::check_in(id, cur, from)?;
    if cur == to {
        return Ok(());
    }
    let at = Utc::now();
    query("UPDATE cases SET status = $2, status_since = $3 WHERE id = $1")
        .bind(id)
        .bind(to.as_str())
        .bind(at)
        .execute(&mut *c)
        .await?;
    insert_event(
        c,
        &Event {
            case_id: id,
            action,
            from: cur,
            to,
            route: None,
            note,
            actor,
            at,
        },
    )
    .await
}

/// Locks and loads the cases and builds the content, checking each may go into a notification:
/// confirmed on the blocking route, not merged, not in another notification (other than
/// `except`).
async fn build(
    c: &mut PgConnection,
    case_ids: &[i64],
    taxonomy: &Taxonomy,
    except: Option<i64>,
) -> Result<Content, TxError> {
    let mut cases = Vec::new();
    for id in unique_ids(case_ids) {
        lock_case(c, id).await?;
        let case = load_case(c, id).await?.ok_or(StoreError::NotFound(id))?;
        let other: Option<i64> = query_scalar(
            "SELECT notification_id FROM notification_cases
             WHERE case_id = $1 AND notification_id IS DISTINCT FROM $2",
        )
        .bind(id)
        .bind(except)
        .fetch_optional(&mut *c)
        .await?;
        check_notifiable(&case, other)?;
        cases.push(case);
    }
    Ok(content_of(&cases, taxonomy)?)
}

async fn set_cases(c: &mut PgConnection, id: i64, content: &Content) -> Result<(), TxError> {
    query("DELETE FROM notification_cases WHERE notification_id = $1")
        .bind(id)
        .execute(&mut *c)
        .await?;
    for f in &content.facts {
        query("INSERT INTO notification_cases (notification_id, case_id) VALUES ($1, $2)")
            .bind(id)
            .bind(f.case_id)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

fn outbox_message(
    (outbox_id, notification_id, message_id, payload, attempts): (i64, i64, String, String, i64),
) -> OutboxMessage {
    OutboxMessage {
        outbox_id,
        notification_id,
        message_id,
        payload,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
    }
}

/// Most messages one claim takes: small, because a relay killed mid-pass holds its whole claim
/// back until the lease runs out ([`crate::outbox::Relay::run_once`] takes claim after claim).
const CLAIM_BATCH: i64 = 8;

impl PgCaseStore {
    /// Drafts a Form 2 notification over `case_ids` (confirmed, blocking route, one category).
    pub async fn draft_notification(
        &self,
        case_ids: &[i64],
        taxonomy: &Taxonomy,
        actor: &str,
    ) -> Result<Notification, StoreError> {
        let actor = check_actor(actor)?;
        let n = retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            let content = build(&mut tx, case_ids, taxonomy, None).await?;
            for f in &content.facts {
                move_case(
                    &mut tx,
                    f.case_id,
                    &[CaseStatus::Confirmed],
                    CaseStatus::NotificationDrafted,
                    "notification.draft",
                    actor,
                    None,
                )
                .await?;
            }
            let message_id = format!("baqylau-n-{}", crate::auth::random_hex(16));
            let id: i64 = query_scalar(
                "INSERT INTO notifications (message_id, status, drafted_by, drafted_at,
                    content_json, content_sha256) VALUES ($1, 'draft', $2, $3, $4, $5)
                 RETURNING id",
            )
            .bind(&message_id)
            .bind(actor)
            .bind(Utc::now())
            .bind(content.canonical_json())
            .bind(content.sha256())
            .fetch_one(&mut *tx)
            .await?;
            set_cases(&mut tx, id, &content).await?;
            audit::append(
                &mut tx,
                actor,
                "notification.draft",
                &format!("notification:{id}"),
                &draft_detail(&content),
            )
            .await?;
            let n = load(&mut tx, id, false).await?;
            tx.commit().await?;
            Ok(n)
        })?;
        tracing::info!(notification = n.id, actor = %actor, "notification drafted");
        Ok(n)
    }

    /// Replaces the notification's cases (and so its content). Allowed until it is sent; an
    /// approval of the old content is void and the notification is a draft again. Refused while
    /// a relay is publishing the approved version (its outbox claim is live).
    pub async fn revise_notification(
        &self,
        id: i64,
        case_ids: &[i64],
        taxonomy: &Taxonomy,
        actor: &str,
    ) -> Result<Notification, StoreError> {
        let actor = check_actor(actor)?;
        retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            let old = load(&mut tx, id, true).await?;
            check_revisable(&old)?;
            // An approved notification may sit in the outbox: take it out, unless a relay is
            // publishing it right now.
            let publishing: Option<i64> = query_scalar(
                "SELECT id FROM outbox WHERE notification_id = $1 AND published_at IS NULL
                    AND claimed_until > now() FOR UPDATE",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            if publishing.is_some() {
                return Err(TxError::Store(StoreError::Conflict(format!(
                    "notification {id} is being published; it can no longer change"
                ))));
            }
            query("DELETE FROM outbox WHERE notification_id = $1 AND published_at IS NULL")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            // Every case this touches, locked in id order before any is changed.
            let mut touched: Vec<i64> = old.case_ids();
            touched.extend_from_slice(case_ids);
            touched.sort_unstable();
            touched.dedup();
            for c in &touched {
                lock_case(&mut tx, *c).await?;
            }
            let content = build(&mut tx, case_ids, taxonomy, Some(id)).await?;
            let new_ids: Vec<i64> = content.facts.iter().map(|f| f.case_id).collect();
            for c in touched {
                if new_ids.contains(&c) {
                    move_case(
                        &mut tx,
                        c,
                        &[
                            CaseStatus::Confirmed,
                            CaseStatus::NotificationDrafted,
                            CaseStatus::Approved,
                        ],
                        CaseStatus::NotificationDrafted,
                        "notification.revise",
                        actor,
                        None,
                    )
                    .await?;
                } else {
                    move_case(
                        &mut tx,
                        c,
                        &[CaseStatus::NotificationDrafted, CaseStatus::Approved],
                        CaseStatus::Confirmed,
                        "notification.remove",
                        actor,
                        None,
                    )
                    .await?;
                }
            }
            query(
                "UPDATE notifications SET status = 'draft', drafted_by = $2, drafted_at = $3,
                    content_json = $4, content_sha256 = $5, approved_by = NULL,
                    approved_at = NULL, approved_sha256 = NULL, signatory_json = NULL
                 WHERE id = $1",
            )
            .bind(id)
            .bind(actor)
            .bind(Utc::now())
            .bind(content.canonical_json())
            .bind(content.sha256())
            .execute(&mut *tx)
            .await?;
            set_cases(&mut tx, id, &content).await?;
            let object = format!("notification:{id}");
            if old.status == NotificationStatus::Approved {
                audit::append(
                    &mut tx,
                    actor,
                    "notification.approval_voided",
                    &object,
                    &old.content_sha256,
                )
                .await?;
            }
            audit::append(
                &mut tx,
                actor,
                "notification.revise",
                &object,
                &content.sha256(),
            )
            .await?;
            let n = load(&mut tx, id, false).await?;
            tx.commit().await?;
            Ok(n)
        })
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
        let approver = check_actor(approver)?;
        let expected = expected_sha256.trim();
        let n = retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            let n = load(&mut tx, id, true).await?;
            let user: Option<ApproverRow> =
                query_as("SELECT role, full_name, position, disabled FROM users WHERE name = $1")
                    .bind(approver)
                    .fetch_optional(&mut *tx)
                    .await?;
            let now = Utc::now();
            let signatory = signatory_for(&n, approver, user, expected, now)?;
            query(
                "UPDATE notifications SET status = 'approved', approved_by = $2, approved_at = $3,
                    approved_sha256 = $4, signatory_json = $5 WHERE id = $1",
            )
            .bind(id)
            .bind(approver)
            .bind(now)
            .bind(&n.content_sha256)
            .bind(serde_json::to_string(&signatory).map_err(backend)?)
            .execute(&mut *tx)
            .await?;
            let mut cases = n.case_ids();
            cases.sort_unstable();
            for c in cases {
                move_case(
                    &mut tx,
                    c,
                    &[CaseStatus::NotificationDrafted],
                    CaseStatus::Approved,
                    "notification.approve",
                    approver,
                    None,
                )
                .await?;
            }
            let payload = Payload::json_of(&n, signatory)?;
            query(
                "INSERT INTO outbox (notification_id, message_id, payload, created_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (notification_id) DO UPDATE SET payload = EXCLUDED.payload,
                    published_at = NULL, attempts = 0, last_error = NULL, claimed_until = NULL",
            )
            .bind(id)
            .bind(&n.message_id)
            .bind(payload)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            audit::append(
                &mut tx,
                approver,
                "notification.approve",
                &format!("notification:{id}"),
                &n.content_sha256,
            )
            .await?;
            let n = load(&mut tx, id, false).await?;
            tx.commit().await?;
            Ok(n)
        })?;
        tracing::info!(notification = id, approver = %approver, "notification approved");
        Ok(n)
    }

    /// One notification.
    pub async fn notification(&self, id: i64) -> Result<Option<Notification>, StoreError> {
        let mut c = self.conn().await?;
        match load(&mut c, id, false).await {
            Ok(n) => Ok(Some(n)),
            Err(TxError::Store(StoreError::Invalid(_))) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// All notifications, newest first (optionally only those containing `case_id`).
    pub async fn notifications(
        &self,
        case_id: Option<i64>,
    ) -> Result<Vec<Notification>, StoreError> {
        let mut c = self.conn().await?;
        let ids: Vec<i64> = query_scalar(
            "SELECT id FROM notifications n WHERE $1::bigint IS NULL OR EXISTS
             (SELECT 1 FROM notification_cases c WHERE c.notification_id = n.id AND c.case_id = $1)
             ORDER BY id DESC",
        )
        .bind(case_id)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(load(&mut c, id, false).await?);
        }
        Ok(out)
    }

    /// Confirmed blocking-route cases not yet in any notification: what can be drafted.
    pub async fn notifiable_cases(&self) -> Result<Vec<CaseSummary>, StoreError> {
        let mut c = self.conn().await?;
        let all = list(
            &mut c,
            &CaseFilter {
                status: Some(CaseStatus::Confirmed),
                sort: CaseSort::Oldest,
                ..Default::default()
            },
        )
        .await?;
        let taken: Vec<i64> = query_scalar("SELECT case_id FROM notification_cases")
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?;
        Ok(all
            .into_iter()
            .filter(|c| c.route == Some(Route::Blocking) && !taken.contains(&c.id))
            .collect())
    }

    /// Claims up to 8 unpublished outbox messages, oldest first, for `lease`: rows another
    /// relay holds (locked, or under a live lease) are skipped, and no other relay claims these
    /// until the lease runs out or they are marked published or failed.
    pub async fn claim_outbox(&self, lease: Duration) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows: Vec<(i64, i64, String, String, i64)> = query_as(
            "UPDATE outbox SET claimed_until = now() + make_interval(secs => $1)
             WHERE id IN (
                SELECT id FROM outbox
                WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until <= now())
                ORDER BY id LIMIT $2
                FOR UPDATE SKIP LOCKED)
             RETURNING id, notification_id, message_id, payload, attempts",
        )
        .bind(lease.as_secs_f64())
        .bind(CLAIM_BATCH)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out: Vec<OutboxMessage> = rows.into_iter().map(outbox_message).collect();
        out.sort_by_key(|m| m.outbox_id);
        Ok(out)
    }

    /// Unpublished outbox messages, oldest first, claimed or not (for operators and tests).
    pub async fn pending_outbox(&self) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows: Vec<(i64, i64, String, String, i64)> = query_as(
            "SELECT id, notification_id, message_id, payload, attempts FROM outbox
             WHERE published_at IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(outbox_message).collect())
    }

    /// Records a failed publish attempt and releases the claim, so the next pass retries.
    pub async fn outbox_failed(&self, outbox_id: i64, error: &str) -> Result<(), StoreError> {
        query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $2, claimed_until = NULL
             WHERE id = $1 AND published_at IS NULL",
        )
        .bind(outbox_id)
        .bind(error)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    /// Marks an outbox message published (the sink confirmed it): the notification and its cases
    /// become `sent`. Marking it again is a no-op.
    pub async fn outbox_published(&self, outbox_id: i64, via: &str) -> Result<(), StoreError> {
        retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            let nid: Option<i64> = query_scalar(
                "SELECT notification_id FROM outbox WHERE id = $1 AND published_at IS NULL
                 FOR UPDATE",
            )
            .bind(outbox_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(nid) = nid else {
                return Ok(());
            };
            let n = load(&mut tx, nid, true).await?;
            let now = Utc::now();
            query(
                "UPDATE outbox SET published_at = $2, attempts = attempts + 1, last_error = NULL,
                    claimed_until = NULL WHERE id = $1",
            )
            .bind(outbox_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            query("UPDATE notifications SET status = 'sent', sent_at = $2 WHERE id = $1")
                .bind(nid)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let mut cases = n.case_ids();
            cases.sort_unstable();
            for c in cases {
                move_case(
                    &mut tx,
                    c,
                    &[CaseStatus::Approved],
                    CaseStatus::Sent,
                    "notification.sent",
                    "system",
                    Some(via),
                )
                .await?;
            }
            audit::append(
                &mut tx,
                "system",
                "notification.sent",
                &format!("notification:{nid}"),
                via,
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
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
        let actor = check_actor(actor)?;
        let justification = receipt_justification(verdict, justification)?;
        retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            let n = load(&mut tx, id, true).await?;
            let (case_id, to) = receipt_case(&n, line, verdict)?;
            let inserted = query(
                "INSERT INTO receipts (notification_id, line, case_id, verdict, justification,
                    recorded_by, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (notification_id, line) DO NOTHING",
            )
            .bind(id)
            .bind(i64::from(line))
            .bind(case_id)
            .bind(verdict.as_str())
            .bind(justification)
            .bind(actor)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Err(TxError::Store(receipt_exists(id, line)));
            }
            move_case(
                &mut tx,
                case_id,
                &[CaseStatus::Sent],
                to,
                "notification.receipt",
                actor,
                Some(justification),
            )
            .await?;
            audit::append(
                &mut tx,
                actor,
                "notification.receipt",
                &format!("notification:{id}"),
                &receipt_detail(line, verdict, justification),
            )
            .await?;
            let n = load(&mut tx, id, false).await?;
            tx.commit().await?;
            Ok(n)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;

    use super::*;
    use crate::outbox::{NotificationSink, Relay};
    use crate::store::conformance::{PgFixture, approved_notification, desk_users};

    /// A sink that takes a while to confirm and records every publish.
    struct Slow(Mutex<Vec<String>>);

    #[async_trait]
    impl NotificationSink for Slow {
        fn describe(&self) -> String {
            "slow".into()
        }
        async fn publish(&self, msg: &OutboxMessage, _: &Payload) -> Result<(), String> {
            tokio::time::sleep(Duration::from_millis(30)).await;
            self.0.lock().unwrap().push(msg.message_id.clone());
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn relays_on_several_hosts_publish_each_message_once() {
        let f = PgFixture::new().await;
        let s = &f.store;
        desk_users(&**s).await;
        let mut ids = Vec::new();
        for i in 0..6 {
            ids.push(
                approved_notification(&**s, &format!("http://casino{i}.kz/"))
                    .await
                    .message_id,
            );
        }
        let sink = Arc::new(Slow(Mutex::new(Vec::new())));
        let relays: Vec<_> = (0..3)
            .map(|_| {
                let relay = Relay::new(
                    Arc::clone(s),
                    sink.clone(),
                    Arc::new(tokio::sync::Notify::new()),
                );
                tokio::spawn(async move { relay.run_once().await.unwrap() })
            })
            .collect();
        let mut total = 0;
        for r in relays {
            total += r.await.unwrap();
        }
        assert_eq!(total, 6);
        let mut got = sink.0.lock().unwrap().clone();
        got.sort();
        ids.sort();
        assert_eq!(got, ids, "every message once, none twice");
        assert!(s.pending_outbox().await.unwrap().is_empty());
        assert_eq!(s.verify_audit().await.unwrap().broken, None);
    }

    #[tokio::test]
    async fn claims_lease_release_and_take_over() {
        let f = PgFixture::new().await;
        let s = &f.store;
        desk_users(&**s).await;
        let n = approved_notification(&**s, "http://casino.kz/").await;
        let lease = Duration::from_millis(400);

        let mine = s.claim_outbox(lease).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert!(
            s.claim_outbox(lease).await.unwrap().is_empty(),
            "claimed by another relay"
        );
        let tax = crate::notification::tests::taxonomy();
        let refused = s
            .revise_notification(n.id, &n.case_ids(), &tax, "aigul")
            .await;
        assert!(
            matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("being published")),
            "{refused:?}"
        );

        // A failure releases the claim at once.
        s.outbox_failed(mine[0].outbox_id, "broker down")
            .await
            .unwrap();
        let again = s.claim_outbox(lease).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempts, 1);

        // The relay holding it dies: after the lease another one takes it over.
        tokio::time::sleep(lease + Duration::from_millis(100)).await;
        let taken = s.claim_outbox(lease).await.unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].message_id, n.message_id);
        s.outbox_published(taken[0].outbox_id, "test")
            .await
            .unwrap();
        // The crashed relay coming back late changes nothing.
        s.outbox_published(again[0].outbox_id, "late")
            .await
            .unwrap();
        s.outbox_failed(again[0].outbox_id, "late").await.unwrap();
        assert!(s.claim_outbox(lease).await.unwrap().is_empty());
        let n = s.notification(n.id).await.unwrap().unwrap();
        assert_eq!(n.status, NotificationStatus::Sent);
        let sent: Vec<String> = s
            .audit_entries(Some(&format!("notification:{}", n.id)), 10)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "notification.sent")
            .map(|e| e.detail)
            .collect();
        assert_eq!(sent, ["test"], "sent once");
    }

    /// The window the design leaves open, shown: the sink confirmed but the relay died before
    /// marking the row. After the lease the message is published again — with the same message id
    /// and payload, so the consumer can tell it is a duplicate.
    #[tokio::test]
    async fn crash_between_confirm_and_commit_republishes_the_same_message() {
        let f = PgFixture::new().await;
        let s = &f.store;
        desk_users(&**s).await;
        approved_notification(&**s, "http://casino.kz/").await;
        let lease = Duration::from_millis(200);
        let sink = Arc::new(Slow(Mutex::new(Vec::new())));
        let first = s.claim_outbox(lease).await.unwrap().remove(0);
        let payload: Payload = serde_json::from_str(&first.payload).unwrap();
        sink.publish(&first, &payload).await.unwrap();
        // … and the process dies here, before outbox_published.
        tokio::time::sleep(lease + Duration::from_millis(100)).await;
        let relay = Relay::new(
            Arc::clone(s),
            sink.clone(),
            Arc::new(tokio::sync::Notify::new()),
        )
        .with_lease(lease);
        assert_eq!(relay.run_once().await.unwrap(), 1);
        let got = sink.0.lock().unwrap().clone();
        assert_eq!(got, [first.message_id.clone(), first.message_id.clone()]);
        assert!(s.pending_outbox().await.unwrap().is_empty());
    }
}
