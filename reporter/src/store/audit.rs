//! The hash-chained audit log: every view of a case and every action, in order, tamper-evident.
//!
//! Each entry's `hash` is SHA-256 over the previous entry's hash and the entry's own fields
//! (length-prefixed, so no two field lists encode alike). Editing, deleting or reordering any
//! entry breaks every later link, which [`SqliteCaseStore::verify_audit`] (and
//! `baqylau audit verify`) reports with the first bad sequence number. Cutting entries off the end
//! leaves a valid shorter chain: the report's head hash is what an operator anchors outside (e.g.
//! prints into the half-yearly report) to detect that too.

use chrono::Utc;
use model::StoreError;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::sqlite::{SqliteCaseStore, db_err, ts};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (RFC 3339 UTC).
    pub at: String,
    /// Who (user name, or `system`/`cli`).
    pub actor: String,
    /// What, e.g. `case.view`, `case.confirm`, `login.failed`.
    pub action: String,
    /// On what, e.g. `case:12`, `notification:3`, `user:bolat`.
    pub object: String,
    /// Free detail (JSON or text).
    pub detail: String,
    /// Hash of the previous entry.
    pub prev_hash: String,
    /// Hash of this entry.
    pub hash: String,
}

/// Result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Entries checked.
    pub entries: u64,
    /// Hash of the last entry (the value to anchor elsewhere).
    pub head: String,
    /// First broken entry and why, if any.
    pub broken: Option<(i64, String)>,
}

/// The hash of an entry with these fields after `prev_hash`.
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    object: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    let seq = seq.to_string();
    for part in [prev_hash, &seq, at, actor, action, object, detail] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The entry that follows `last` (the chain's last `(seq, hash)`, `None` when empty), written at
/// `at` (RFC 3339 text: the hash covers it byte for byte, so every backend stores the same form).
pub(crate) fn next_entry(
    last: Option<(i64, String)>,
    at: String,
    actor: &str,
    action: &str,
    object: &str,
    detail: &str,
) -> AuditEntry {
    let (seq, prev_hash) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_string()),
    };
    let hash = entry_hash(&prev_hash, seq, &at, actor, action, object, detail);
    AuditEntry {
        seq,
        at,
        actor: actor.to_string(),
        action: action.to_string(),
        object: object.to_string(),
        detail: detail.to_string(),
        prev_hash,
        hash,
    }
}

/// Walks `entries` (in `seq` order, from the first) and reports the first broken link; stops
/// reading there.
pub(crate) fn verify_chain<E>(
    entries: impl IntoIterator<Item = Result<AuditEntry, E>>,
) -> Result<AuditReport, E> {
    let mut prev = GENESIS.to_string();
    let mut count = 0;
    for (expect_seq, e) in (1..).zip(entries) {
        let e = e?;
        let broken = if e.seq != expect_seq {
            Some(format!("sequence gap: expected {expect_seq}"))
        } else if e.prev_hash != prev {
            Some("prev_hash does not match the previous entry".to_string())
        } else if e.hash
            != entry_hash(
                &prev, e.seq, &e.at, &e.actor, &e.action, &e.object, &e.detail,
            )
        {
            Some("hash does not match the entry's content".to_string())
        } else {
            None
        };
        if let Some(why) = broken {
            return Ok(AuditReport {
                entries: count,
                head: prev,
                broken: Some((e.seq, why)),
            });
        }
        prev = e.hash;
        count += 1;
    }
    Ok(AuditReport {
        entries: count,
        head: prev,
        broken: None,
    })
}

/// Appends an entry using `conn` (inside the caller's transaction when there is one).
pub(crate) fn append(
    conn: &Connection,
    actor: &str,
    action: &str,
    object: &str,
    detail: &str,
) -> Result<(), StoreError> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    let e = next_entry(last, ts(Utc::now()), actor, action, object, detail);
    conn.execute(
        "INSERT INTO audit_log (seq, at, actor, action, object, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            e.seq,
            e.at,
            e.actor,
            e.action,
            e.object,
            e.detail,
            e.prev_hash,
            e.hash
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

fn verify(conn: &Connection) -> Result<AuditReport, StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT seq, at, actor, action, object, detail, prev_hash, hash
             FROM audit_log ORDER BY seq",
        )
        .map_err(db_err)?;
    let rows = stmt.query([]).map_err(db_err)?;
    let entries = rows.mapped(entry_row).map(|r| r.map_err(db_err));
    verify_chain(entries)
}

fn entry_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        object: r.get(4)?,
        detail: r.get(5)?,
        prev_hash: r.get(6)?,
        hash: r.get(7)?,
    })
}

impl SqliteCaseStore {
    /// Appends an audit entry.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        object: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let (a, b, c, d) = (
            actor.to_string(),
            action.to_string(),
            object.to_string(),
            detail.to_string(),
        );
        self.call(move |conn| {
            let tx = conn.transaction().map_err(db_err)?;
            append(&tx, &a, &b, &c, &d)?;
            tx.commit().map_err(db_err)
        })
        .await
    }

    /// The latest `limit` entries, optionally only those about `object`, newest first.
    pub async fn audit_entries(
        &self,
        object: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let object = object.map(str::to_string);
        self.call(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT seq, at, actor, action, object, detail, prev_hash, hash
                     FROM audit_log WHERE (?1 IS NULL OR object = ?1)
                     ORDER BY seq DESC LIMIT ?2",
                )
                .map_err(db_err)?;
            stmt.query_map(params![object, limit], entry_row)
                .and_then(|r| r.collect())
                .map_err(db_err)
        })
        .await
    }

    /// How many `action` entries about `object` were appended since `since` (e.g. failed logins
    /// of one account, for throttling).
    pub async fn audit_count_since(
        &self,
        action: &str,
        object: &str,
        since: chrono::DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let (a, o, t) = (action.to_string(), object.to_string(), ts(since));
        self.call(move |conn| {
            conn.query_row(
                "SELECT COUNT(*) FROM audit_log WHERE action = ?1 AND object = ?2 AND at >= ?3",
                params![a, o, t],
                |r| r.get(0),
            )
            .map_err(db_err)
        })
        .await
    }

    /// Walks the whole chain.
    pub async fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        self.call(|conn| verify(conn)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chain_verifies_and_tampering_is_found() {
        let store = SqliteCaseStore::open_in_memory().unwrap();
        assert_eq!(store.verify_audit().await.unwrap().entries, 0);
        for i in 0..5 {
            store
                .audit("aigul", "case.view", &format!("case:{i}"), "{}")
                .await
                .unwrap();
        }
        let ok = store.verify_audit().await.unwrap();
        assert_eq!((ok.entries, ok.broken.clone()), (5, None));
        assert_eq!(
            store.audit_entries(Some("case:3"), 10).await.unwrap().len(),
            1
        );
        let head = store.audit_entries(None, 1).await.unwrap();
        assert_eq!(head[0].hash, ok.head);

        let tamper = |sql: &'static str| {
            let store = &store;
            async move {
                store
                    .call(move |c| c.execute_batch(sql).map_err(db_err))
                    .await
                    .unwrap();
                store.verify_audit().await.unwrap().broken
            }
        };
        let b = tamper("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3").await;
        assert_eq!(b.map(|b| b.0), Some(3));
        let b = tamper("UPDATE audit_log SET actor = 'aigul' WHERE seq = 3").await;
        assert_eq!(b, None, "restored");
        let b = tamper("DELETE FROM audit_log WHERE seq = 2").await;
        assert_eq!(b.map(|b| b.0), Some(3));
    }

    #[test]
    fn fields_do_not_run_into_each_other() {
        let a = entry_hash(GENESIS, 1, "t", "ab", "c", "o", "d");
        let b = entry_hash(GENESIS, 1, "t", "a", "bc", "o", "d");
        assert_ne!(a, b);
    }
}
