//! Working a case beyond the first decision on PostgreSQL: assignment, comments, merging
//! duplicates, and related cases — the rules of [`crate::store::triage`]. Each change is one
//! transaction that locks the case row(s) first and appends to the audit chain last.

use chrono::{DateTime, Utc};
use model::StoreError;
use sqlx_core::query::query;
use sqlx_core::query_as::query_as;
use sqlx_core::query_scalar::query_scalar;

use super::cases::lock_case;
use super::{PgCaseStore, audit, db_err, retry_tx};
use crate::indicators::Kind;
use crate::store::triage::{
    Comment, Links, Related, check_assignee, check_merge_pair, check_mergeable,
};
use crate::workflow::{check_actor, note_text as note};

impl PgCaseStore {
    /// Assigns the case to `assignee` (`None`: unassigns). The assignee must be an enabled user
    /// whose role may triage.
    pub async fn assign(
        &self,
        case_id: i64,
        assignee: Option<&str>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let actor = check_actor(actor)?;
        let assignee = assignee.map(str::trim);
        retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            lock_case(&mut tx, case_id).await?;
            if let Some(a) = assignee {
                let role: Option<String> =
                    query_scalar("SELECT role FROM users WHERE name = $1 AND NOT disabled")
                        .bind(a)
                        .fetch_optional(&mut *tx)
                        .await?;
                check_assignee(a, role.as_deref())?;
            }
            query("UPDATE cases SET assignee = $2 WHERE id = $1")
                .bind(case_id)
                .bind(assignee)
                .execute(&mut *tx)
                .await?;
            audit::append(
                &mut tx,
                actor,
                "case.assign",
                &format!("case:{case_id}"),
                assignee.unwrap_or(""),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Adds a comment.
    pub async fn add_comment(
        &self,
        case_id: i64,
        author: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        let author = check_actor(author)?;
        let body = note("comment", body)?;
        retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            lock_case(&mut tx, case_id).await?;
            query("INSERT INTO case_comments (case_id, author, body, at) VALUES ($1, $2, $3, $4)")
                .bind(case_id)
                .bind(author)
                .bind(&body)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await?;
            audit::append(
                &mut tx,
                author,
                "case.comment",
                &format!("case:{case_id}"),
                &body,
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Comments of a case, oldest first.
    pub async fn comments(&self, case_id: i64) -> Result<Vec<Comment>, StoreError> {
        let rows: Vec<(String, String, DateTime<Utc>)> =
            query_as("SELECT author, body, at FROM case_comments WHERE case_id = $1 ORDER BY id")
                .bind(case_id)
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(author, body, at)| Comment { author, body, at })
            .collect())
    }

    /// Merges `duplicate` into `primary`: the duplicate leaves the queues (it stays readable and
    /// points to the primary). Only cases not yet confirmed or dismissed can be merged, into a
    /// case that is not itself merged.
    pub async fn merge(&self, duplicate: i64, primary: i64, actor: &str) -> Result<(), StoreError> {
        let actor = check_actor(actor)?;
        check_merge_pair(duplicate, primary)?;
        retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            // Both rows locked in id order: two opposite merges cannot cross.
            let (status, _) = if duplicate < primary {
                let s = lock_case(&mut tx, duplicate).await?;
                (s, lock_case(&mut tx, primary).await?)
            } else {
                let p = lock_case(&mut tx, primary).await?;
                (lock_case(&mut tx, duplicate).await?, p)
            };
            let merged: Option<i64> = query_scalar("SELECT merged_into FROM cases WHERE id = $1")
                .bind(primary)
                .fetch_one(&mut *tx)
                .await?;
            check_mergeable(duplicate, status, primary, merged)?;
            query("UPDATE cases SET merged_into = $2 WHERE id = $1 AND merged_into IS NULL")
                .bind(duplicate)
                .bind(primary)
                .execute(&mut *tx)
                .await?;
            audit::append(
                &mut tx,
                actor,
                "case.merge",
                &format!("case:{duplicate}"),
                &format!("into case:{primary}"),
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Indicators found in a case's evidence.
    pub async fn case_indicators(&self, case_id: i64) -> Result<Vec<(Kind, String)>, StoreError> {
        let rows: Vec<(String, String)> = query_as(
            "SELECT kind, value FROM case_indicators WHERE case_id = $1 ORDER BY kind, value",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, v)| Kind::parse(&k).map(|k| (k, v)))
            .collect())
    }

    /// Cases related to `case_id`: sharing an indicator, near-duplicate text, or merged with it.
    pub async fn related(&self, case_id: i64) -> Result<Vec<Related>, StoreError> {
        let mut c = self.conn().await?;
        let mut links = Links::default();
        let shared: Vec<(i64, String, String)> = query_as(
            "SELECT o.case_id, o.kind, o.value FROM case_indicators m
             JOIN case_indicators o ON o.kind = m.kind AND o.value = m.value
             WHERE m.case_id = $1 AND o.case_id <> $1 ORDER BY o.case_id, o.kind, o.value",
        )
        .bind(case_id)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
        links.shared(shared);
        let (mine, merged_into): (Option<i64>, Option<i64>) =
            query_as("SELECT simhash, merged_into FROM cases WHERE id = $1")
                .bind(case_id)
                .fetch_optional(&mut *c)
                .await
                .map_err(db_err)?
                .ok_or(StoreError::NotFound(case_id))?;
        if let Some(mine) = mine {
            let all: Vec<(i64, i64)> = query_as(
                "SELECT id, simhash FROM cases WHERE simhash IS NOT NULL AND id <> $1 ORDER BY id",
            )
            .bind(case_id)
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?;
            links.near(mine, all);
        }
        links.merged(merged_into);
        let dups: Vec<i64> = query_scalar("SELECT id FROM cases WHERE merged_into = $1")
            .bind(case_id)
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?;
        links.merged(dups);
        let mut related = Vec::new();
        for (id, links) in links.0 {
            let row: Option<(String, String, String)> =
                query_as("SELECT category, url, status FROM cases WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *c)
                    .await
                    .map_err(db_err)?;
            if let Some((category, url, status)) = row {
                related.push(Related {
                    case_id: id,
                    category,
                    url,
                    status,
                    links,
                });
            }
        }
        Ok(related)
    }
}
