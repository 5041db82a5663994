//! The hash-chained audit log on PostgreSQL (see [`crate::store::audit`] for the chain itself).
//!
//! Each entry names its predecessor's hash, so appends must be serial even with many writers: an
//! append takes `LOCK TABLE audit_log IN EXCLUSIVE MODE` (readers go on; other appends wait until
//! the appending transaction ends). Appends come last in their transactions, after any case row
//! locks, so waiting for the log never closes a lock cycle with case updates.

use chrono::{DateTime, Utc};
use model::StoreError;
use sqlx_core::query::query;
use sqlx_core::query_as::query_as;
use sqlx_core::query_scalar::query_scalar;
use sqlx_postgres::PgConnection;

use super::{PgCaseStore, TxError, db_err, retry_tx};
use crate::store::audit::{AuditEntry, AuditReport, next_entry, verify_chain};
use crate::store::sqlite::ts;

type EntryRow = (i64, String, String, String, String, String, String, String);

fn entry((seq, at, actor, action, object, detail, prev_hash, hash): EntryRow) -> AuditEntry {
    AuditEntry {
        seq,
        at,
        actor,
        action,
        object,
        detail,
        prev_hash,
        hash,
    }
}

/// Appends an entry inside the caller's transaction.
pub(super) async fn append(
    c: &mut PgConnection,
    actor: &str,
    action: &str,
    object: &str,
    detail: &str,
) -> Result<(), TxError> {
    query("LOCK TABLE audit_log IN EXCLUSIVE MODE")
        .execute(&mut *c)
        .await?;
    let last: Option<(i64, String)> =
        query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *c)
            .await?;
    // The same text form as the SQLite store: the hash covers it byte for byte.
    let e = next_entry(last, ts(Utc::now()), actor, action, object, detail);
    query(
        "INSERT INTO audit_log (seq, at, actor, action, object, detail, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.seq)
    .bind(&e.at)
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.object)
    .bind(&e.detail)
    .bind(&e.prev_hash)
    .bind(&e.hash)
    .execute(&mut *c)
    .await?;
    Ok(())
}

impl PgCaseStore {
    /// Appends an audit entry.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        object: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            append(&mut tx, actor, action, object, detail).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The latest `limit` entries, optionally only those about `object`, newest first.
    pub async fn audit_entries(
        &self,
        object: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<EntryRow> = query_as(
            "SELECT seq, at, actor, action, object, detail, prev_hash, hash
             FROM audit_log WHERE ($1::text IS NULL OR object = $1)
             ORDER BY seq DESC LIMIT $2",
        )
        .bind(object)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(entry).collect())
    }

    /// How many `action` entries about `object` were appended since `since`.
    pub async fn audit_count_since(
        &self,
        action: &str,
        object: &str,
        since: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let n: i64 = query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND object = $2 AND at >= $3",
        )
        .bind(action)
        .bind(object)
        .bind(ts(since))
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Walks the whole chain.
    pub async fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        let rows: Vec<EntryRow> = query_as(
            "SELECT seq, at, actor, action, object, detail, prev_hash, hash
             FROM audit_log ORDER BY seq",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        verify_chain(rows.into_iter().map(|r| Ok(entry(r))))
    }
}

#[cfg(test)]
mod tests {
    use crate::store::conformance::PgFixture;

    #[tokio::test]
    async fn tampering_is_found() {
        let f = PgFixture::new().await;
        let s = &f.store;
        for i in 0..5 {
            s.audit("aigul", "case.view", &format!("case:{i}"), "{}")
                .await
                .unwrap();
        }
        assert_eq!(s.verify_audit().await.unwrap().broken, None);
        let tamper = |sql: &'static str| async move {
            sqlx_core::query::query(sql)
                .execute(s.pool())
                .await
                .unwrap();
            s.verify_audit().await.unwrap().broken.map(|b| b.0)
        };
        assert_eq!(
            tamper("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3").await,
            Some(3)
        );
        assert_eq!(
            tamper("UPDATE audit_log SET actor = 'aigul' WHERE seq = 3").await,
            None
        );
        assert_eq!(tamper("DELETE FROM audit_log WHERE seq = 2").await, Some(3));
        let since = chrono::Utc::now() - chrono::Duration::minutes(1);
        assert_eq!(
            s.audit_count_since("case.view", "case:4", since)
                .await
                .unwrap(),
            1
        );
    }
}
