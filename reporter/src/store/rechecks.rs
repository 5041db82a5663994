//! Re-check records of sent cases (see [`crate::recheck`]).

use chrono::{DateTime, Duration, Utc};
use model::StoreError;
use rusqlite::params;
use serde::Serialize;

use super::audit;
use super::sqlite::{SqliteCaseStore, db_err, parse_ts, ts};
use crate::recheck::{Observation, Outcome, judge};

/// A sent resource due for a re-check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// Case.
    pub case_id: i64,
    /// URL to fetch (the evidence's final URL).
    pub url: String,
    /// Body hash of that evidence.
    pub evidence_sha256: Option<String>,
}

impl From<(i64, Option<String>, Option<String>)> for Target {
    /// A row `(case id, newest evidence's final URL, its body hash)`.
    fn from((case_id, url, evidence_sha256): (i64, Option<String>, Option<String>)) -> Self {
        Target {
            case_id,
            url: url.unwrap_or_default(),
            evidence_sha256,
        }
    }
}

/// A recorded re-check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recheck {
    /// When.
    pub checked_at: DateTime<Utc>,
    /// Outcome.
    pub outcome: Outcome,
    /// HTTP status, if any answer.
    pub http_status: Option<u16>,
    /// URL after redirects.
    pub final_url: Option<String>,
    /// Proposed mirror (when moved).
    pub mirror_url: Option<String>,
    /// Error or note.
    pub detail: String,
}

impl Recheck {
    /// The re-check of `target` that observed `obs` at `now` (judged by [`judge`]), and the body
    /// hash to store with it.
    pub(crate) fn judged(
        target: &Target,
        obs: &Observation,
        now: DateTime<Utc>,
    ) -> (Recheck, Option<String>) {
        let (outcome, mirror_url) = judge(&target.url, target.evidence_sha256.as_deref(), obs);
        let (http_status, final_url, body_sha, detail) = match obs {
            Observation::Answer {
                status,
                final_url,
                body_sha256,
                ..
            } => (
                Some(*status),
                Some(final_url.clone()),
                Some(body_sha256.clone()),
                String::new(),
            ),
            Observation::Failed { error } => (None, None, None, error.clone()),
        };
        let rec = Recheck {
            checked_at: now,
            outcome,
            http_status,
            final_url,
            mirror_url,
            detail,
        };
        (rec, body_sha)
    }

    /// What the audit chain records for this re-check: the outcome, and the mirror when moved.
    pub(crate) fn audit_detail(&self) -> String {
        match &self.mirror_url {
            Some(m) => format!("{} → {m}", self.outcome.as_str()),
            None => self.outcome.as_str().to_string(),
        }
    }
}

/// Sent or acknowledged cases last re-checked (or sent) before `?1`, with their newest
/// evidence's URL and body hash: the one definition of "due" both listing and claiming use.
const DUE: &str = "SELECT c.id,
        (SELECT e.final_url FROM evidence e WHERE e.case_id = c.id
         ORDER BY e.captured_at DESC, e.id DESC LIMIT 1),
        (SELECT e.body_sha256 FROM evidence e WHERE e.case_id = c.id
         ORDER BY e.captured_at DESC, e.id DESC LIMIT 1)
     FROM cases c
     WHERE c.status IN ('sent', 'acknowledged')
       AND COALESCE((SELECT MAX(r.checked_at) FROM rechecks r WHERE r.case_id = c.id),
                    c.status_since) < ?1";

/// A row of [`DUE`].
fn target_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Target> {
    Ok(Target::from((r.get(0)?, r.get(1)?, r.get(2)?)))
}

impl SqliteCaseStore {
    /// Sent or acknowledged cases whose last re-check (or sending) is older than `every`.
    pub async fn rechecks_due(&self, every: Duration) -> Result<Vec<Target>, StoreError> {
        let before = ts(Utc::now() - every);
        self.call(move |conn| {
            let mut stmt = conn
                .prepare(&format!("{DUE} ORDER BY c.id"))
                .map_err(db_err)?;
            stmt.query_map([before], target_row)
                .and_then(|r| r.collect())
                .map_err(db_err)
        })
        .await
    }

    /// Up to `limit` due cases nobody has claimed, claimed for `lease` (see
    /// [`crate::Desk::claim_rechecks`]). One immediate transaction: SQLite's single writer makes
    /// the select-and-claim atomic against another process on the same file.
    pub async fn claim_rechecks(
        &self,
        every: Duration,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Target>, StoreError> {
        let now = Utc::now();
        let (before, now_s, until) = (ts(now - every), ts(now), ts(now + lease));
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let targets = {
                let mut stmt = tx
                    .prepare(&format!(
                        "{DUE} AND NOT EXISTS (SELECT 1 FROM recheck_claims k
                                               WHERE k.case_id = c.id AND k.claimed_until > ?2)
                         ORDER BY c.id LIMIT ?3"
                    ))
                    .map_err(db_err)?;
                stmt.query_map(params![before, now_s, limit], target_row)
                    .and_then(|r| r.collect::<Result<Vec<_>, _>>())
                    .map_err(db_err)?
            };
            for t in &targets {
                tx.execute(
                    "INSERT INTO recheck_claims (case_id, claimed_until) VALUES (?1, ?2)
                     ON CONFLICT (case_id) DO UPDATE SET claimed_until = excluded.claimed_until",
                    params![t.case_id, until],
                )
                .map_err(db_err)?;
            }
            tx.commit().map_err(db_err)?;
            Ok(targets)
        })
        .await
    }

    /// Records what a re-check of `target` observed; returns the judged outcome.
    pub async fn record_recheck(
        &self,
        target: &Target,
        obs: &Observation,
    ) -> Result<Recheck, StoreError> {
        let (rec, body_sha) = Recheck::judged(target, obs, Utc::now());
        let (r, id) = (rec.clone(), target.case_id);
        self.call(move |conn| {
            let tx = conn.transaction().map_err(db_err)?;
            tx.execute(
                "INSERT INTO rechecks (case_id, checked_at, outcome, http_status, final_url,
                    body_sha256, mirror_url, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    id,
                    ts(r.checked_at),
                    r.outcome.as_str(),
                    r.http_status,
                    r.final_url,
                    body_sha,
                    r.mirror_url,
                    r.detail
                ],
            )
            .map_err(db_err)?;
            audit::append(
                &tx,
                "system",
                "case.recheck",
                &format!("case:{id}"),
                &r.audit_detail(),
            )?;
            tx.commit().map_err(db_err)
        })
        .await?;
        Ok(rec)
    }

    /// Re-checks of a case, newest first.
    pub async fn rechecks(&self, case_id: i64) -> Result<Vec<Recheck>, StoreError> {
        self.call(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT checked_at, outcome, http_status, final_url, mirror_url, detail
                     FROM rechecks WHERE case_id = ?1 ORDER BY id DESC",
                )
                .map_err(db_err)?;
            stmt.query_map([case_id], |r| {
                let at: String = r.get(0)?;
                let outcome: String = r.get(1)?;
                Ok(Recheck {
                    checked_at: parse_ts(&at)?,
                    outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Unreachable),
                    http_status: r.get(2)?,
                    final_url: r.get(3)?,
                    mirror_url: r.get(4)?,
                    detail: r.get(5)?,
                })
            })
            .and_then(|r| r.collect())
            .map_err(db_err)
        })
        .await
    }
}
