//! Re-check records of sent cases on PostgreSQL (see [`crate::recheck`] and
//! [`crate::store::rechecks`]).

use chrono::{DateTime, Duration, Utc};
use model::StoreError;
use sqlx_core::query::query;
use sqlx_core::query_as::query_as;

use super::{PgCaseStore, audit, db_err, retry_tx};
use crate::recheck::{Observation, Outcome};
use crate::store::rechecks::{Recheck, Target};

/// Sent or acknowledged cases last re-checked (or sent) before `$1`, with their newest
/// evidence's URL and body hash: the one definition of "due" both listing and claiming use.
const DUE: &str = "SELECT c.id, e.final_url, e.body_sha256
     FROM cases c
     LEFT JOIN LATERAL (
        SELECT final_url, body_sha256 FROM evidence WHERE case_id = c.id
        ORDER BY captured_at DESC, id DESC LIMIT 1
     ) e ON TRUE
     WHERE c.status IN ('sent', 'acknowledged')
       AND COALESCE((SELECT MAX(r.checked_at) FROM rechecks r WHERE r.case_id = c.id),
                    c.status_since) < $1";

impl PgCaseStore {
    /// Sent or acknowledged cases whose last re-check (or sending) is older than `every`.
    pub async fn rechecks_due(&self, every: Duration) -> Result<Vec<Target>, StoreError> {
        let rows: Vec<(i64, Option<String>, Option<String>)> =
            query_as(&format!("{DUE} ORDER BY c.id"))
                .bind(Utc::now() - every)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(rows.into_iter().map(Target::from).collect())
    }

    /// Up to `limit` due cases nobody has claimed, claimed for `lease` (see
    /// [`crate::Desk::claim_rechecks`]). The case rows are locked `SKIP LOCKED` while claimed,
    /// so a concurrent pass skips what this one is claiming and then sees the committed claim.
    pub async fn claim_rechecks(
        &self,
        every: Duration,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Target>, StoreError> {
        let now = Utc::now();
        let sql = format!(
            "{DUE} AND NOT EXISTS (SELECT 1 FROM recheck_claims k
                                   WHERE k.case_id = c.id AND k.claimed_until > $2)
             ORDER BY c.id LIMIT $3
             FOR UPDATE OF c SKIP LOCKED"
        );
        let rows: Vec<(i64, Option<String>, Option<String>)> = retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            let rows: Vec<(i64, Option<String>, Option<String>)> = query_as(&sql)
                .bind(now - every)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
            for (id, _, _) in &rows {
                query(
                    "INSERT INTO recheck_claims (case_id, claimed_until) VALUES ($1, $2)
                     ON CONFLICT (case_id) DO UPDATE SET claimed_until = EXCLUDED.claimed_until",
                )
                .bind(id)
                .bind(now + lease)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(rows)
        })?;
        Ok(rows.into_iter().map(Target::from).collect())
    }

    /// Records what a re-check of `target` observed; returns the judged outcome.
    pub async fn record_recheck(
        &self,
        target: &Target,
        obs: &Observation,
    ) -> Result<Recheck, StoreError> {
        let (rec, body_sha) = Recheck::judged(target, obs, Utc::now());
        let id = target.case_id;
        retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            query(
                "INSERT INTO rechecks (case_id, checked_at, outcome, http_status, final_url,
                    body_sha256, mirror_url, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(rec.checked_at)
            .bind(rec.outcome.as_str())
            .bind(rec.http_status.map(i32::from))
            .bind(&rec.final_url)
            .bind(&body_sha)
            .bind(&rec.mirror_url)
            .bind(&rec.detail)
            .execute(&mut *tx)
            .await?;
            audit::append(
                &mut tx,
                "system",
                "case.recheck",
                &format!("case:{id}"),
                &rec.audit_detail(),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })?;
        Ok(rec)
    }

    /// Re-checks of a case, newest first.
    pub async fn rechecks(&self, case_id: i64) -> Result<Vec<Recheck>, StoreError> {
        type Row = (
            DateTime<Utc>,
            String,
            Option<i32>,
            Option<String>,
            Option<String>,
            String,
        );
        let rows: Vec<Row> = query_as(
            "SELECT checked_at, outcome, http_status, final_url, mirror_url, detail
             FROM rechecks WHERE case_id = $1 ORDER BY id DESC",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(
                |(checked_at, outcome, status, final_url, mirror_url, detail)| Recheck {
                    checked_at,
                    outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Unreachable),
                    http_status: status.and_then(|s| u16::try_from(s).ok()),
                    final_url,
                    mirror_url,
                    detail,
                },
            )
            .collect())
    }
}
