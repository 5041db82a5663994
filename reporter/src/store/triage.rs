//! Working a case beyond the first decision: assignment, comments, merging duplicates, and the
//! links between cases (shared indicators, near-duplicate pages).
//!
//! Every change here is one transaction that also appends to the audit chain, so the trail
//! cannot miss an action that happened.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use model::StoreError;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use super::audit;
use super::sqlite::{SqliteCaseStore, current_status, db_err, parse_ts, ts};
use crate::indicators::{self, Kind};
use crate::workflow::{check_actor, note_text as note};

/// A comment on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    /// Author.
    pub author: String,
    /// Text.
    pub body: String,
    /// When (UTC).
    pub at: DateTime<Utc>,
}

/// Why two cases are related.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Link {
    /// Both cases' evidence carries this indicator.
    Shared {
        /// Indicator kind.
        indicator: Kind,
        /// Normalized value.
        value: String,
    },
    /// The pages' texts are near-duplicates (a mirror, or the same text elsewhere).
    NearDuplicate {
        /// Hamming distance of the SimHash fingerprints (0 = same shingles).
        distance: u32,
    },
    /// Merged into this case, or this case was merged into it.
    Merged,
}

/// A case related to another one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    /// The other case.
    pub case_id: i64,
    /// Its category.
    pub category: String,
    /// Its URL.
    pub url: String,
    /// Its status.
    pub status: String,
    /// Why it is related (one entry per shared indicator).
    pub links: Vec<Link>,
}

// The triage rules and the gathering of related cases hold whatever the backend: both stores
// call these with what they read.

/// Checks that `assignee`, found with `role` (`None`: no enabled user of that name), may be
/// assigned cases.
pub(crate) fn check_assignee(assignee: &str, role: Option<&str>) -> Result<(), StoreError> {
    let can = role
        .and_then(crate::auth::Role::parse)
        .is_some_and(|r| r.allows(crate::auth::Perm::Triage));
    if can {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "{assignee:?} is not an enabled user who may triage cases"
        )))
    }
}

/// Checks a merge's input: a case is not merged into itself.
pub(crate) fn check_merge_pair(duplicate: i64, primary: i64) -> Result<(), StoreError> {
    if duplicate == primary {
        return Err(StoreError::Invalid(
            "a case cannot be merged into itself".into(),
        ));
    }
    Ok(())
}

/// Checks a merge against the cases' state: the duplicate (now `status`) is still open and the
/// primary is not itself merged (`primary_merged_into`).
pub(crate) fn check_mergeable(
    duplicate: i64,
    status: model::CaseStatus,
    primary: i64,
    primary_merged_into: Option<i64>,
) -> Result<(), StoreError> {
    if !status.is_open() {
        return Err(StoreError::Conflict(format!(
            "case {duplicate} is {} and can no longer be merged",
            status.as_str()
        )));
    }
    if let Some(m) = primary_merged_into {
        return Err(StoreError::Conflict(format!(
            "case {primary} is itself merged; merge into #{m} instead"
        )));
    }
    Ok(())
}

/// The links from one case to the cases related to it, by case id, gathered from what a store
/// reads.
#[derive(Debug, Default)]
pub(crate) struct Links(pub(crate) BTreeMap<i64, Vec<Link>>);

impl Links {
    /// Adds the indicators the case shares: `(other case, kind, value)` rows (unknown kinds are
    /// skipped).
    pub(crate) fn shared(&mut self, rows: impl IntoIterator<Item = (i64, String, String)>) {
        for (id, kind, value) in rows {
            if let Some(indicator) = Kind::parse(&kind) {
                self.0
                    .entry(id)
                    .or_default()
                    .push(Link::Shared { indicator, value });
            }
        }
    }

    /// Adds the cases whose text fingerprint is near `mine`: `(other case, simhash)` rows.
    pub(crate) fn near(&mut self, mine: i64, others: impl IntoIterator<Item = (i64, i64)>) {
        for (id, h) in others {
            if indicators::near_duplicate(mine as u64, h as u64) {
                let distance = ((mine ^ h) as u64).count_ones();
                self.0
                    .entry(id)
                    .or_default()
                    .push(Link::NearDuplicate { distance });
            }
        }
    }

    /// Adds cases linked by a merge (the primary, or duplicates merged into this one).
    pub(crate) fn merged(&mut self, ids: impl IntoIterator<Item = i64>) {
        for id in ids {
            self.0.entry(id).or_default().push(Link::Merged);
        }
    }
}

/// Indexes the indicators (carried on the capture, see [`indicators::links`]) and the text
/// fingerprint of one new piece of evidence (inside `record`).
pub(crate) fn index_evidence(
    tx: &Transaction<'_>,
    case_id: i64,
    capture: &model::Capture,
) -> Result<(), StoreError> {
    for (kind, value) in indicators::links(&capture.indicators) {
        tx.execute(
            "INSERT OR IGNORE INTO case_indicators (case_id, kind, value) VALUES (?1, ?2, ?3)",
            params![case_id, kind.as_str(), value],
        )
        .map_err(db_err)?;
    }
    if let Some(h) = indicators::simhash(&capture.text) {
        tx.execute(
            "UPDATE cases SET simhash = ?2 WHERE id = ?1",
            params![case_id, h as i64],
        )
        .map_err(db_err)?;
    }
    Ok(())
}

impl SqliteCaseStore {
    /// Assigns the case to `assignee` (`None`: unassigns). The assignee must be an enabled user
    /// whose role may triage.
    pub async fn assign(
        &self,
        case_id: i64,
        assignee: Option<&str>,
        actor: &str,
    ) -> Result<(), StoreError> {
        let actor = check_actor(actor)?.to_string();
        let assignee = assignee.map(|a| a.trim().to_string());
        self.call(move |conn| {
            let tx = conn.transaction().map_err(db_err)?;
            current_status(&tx, case_id)?;
            if let Some(a) = &assignee {
                let role: Option<String> = tx
                    .query_row(
                        "SELECT role FROM users WHERE name = ?1 AND disabled = 0",
                        [a],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(db_err)?;
                check_assignee(a, role.as_deref())?;
            }
            tx.execute(
                "UPDATE cases SET assignee = ?2 WHERE id = ?1",
                params![case_id, assignee],
            )
            .map_err(db_err)?;
            audit::append(
                &tx,
                &actor,
                "case.assign",
                &format!("case:{case_id}"),
                assignee.as_deref().unwrap_or(""),
            )?;
            tx.commit().map_err(db_err)
        })
        .await
    }

    /// Adds a comment.
    pub async fn add_comment(
        &self,
        case_id: i64,
        author: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        let author = check_actor(author)?.to_string();
        let body = note("comment", body)?;
        self.call(move |conn| {
            let tx = conn.transaction().map_err(db_err)?;
            current_status(&tx, case_id)?;
            tx.execute(
                "INSERT INTO case_comments (case_id, author, body, at) VALUES (?1, ?2, ?3, ?4)",
                params![case_id, author, body, ts(Utc::now())],
            )
            .map_err(db_err)?;
            audit::append(
                &tx,
                &author,
                "case.comment",
                &format!("case:{case_id}"),
                &body,
            )?;
            tx.commit().map_err(db_err)
        })
        .await
    }

    /// Comments of a case, oldest first.
    pub async fn comments(&self, case_id: i64) -> Result<Vec<Comment>, StoreError> {
        self.call(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT author, body, at FROM case_comments WHERE case_id = ?1 ORDER BY id",
                )
                .map_err(db_err)?;
            stmt.query_map([case_id], |r| {
                let at: String = r.get(2)?;
                Ok(Comment {
                    author: r.get(0)?,
                    body: r.get(1)?,
                    at: parse_ts(&at)?,
                })
            })
            .and_then(|r| r.collect())
            .map_err(db_err)
        })
        .await
    }

    /// Merges `duplicate` into `primary`: the duplicate leaves the queues (it stays readable and
    /// points to the primary). Only cases not yet confirmed or dismissed can be merged, into a
    /// case that is not itself merged.
    pub async fn merge(&self, duplicate: i64, primary: i64, actor: &str) -> Result<(), StoreError> {
        let actor = check_actor(actor)?.to_string();
        check_merge_pair(duplicate, primary)?;
        self.call(move |conn| {
            let tx = conn.transaction().map_err(db_err)?;
            let status = current_status(&tx, duplicate)?;
            current_status(&tx, primary)?;
            let merged: Option<i64> = tx
                .query_row(
                    "SELECT merged_into FROM cases WHERE id = ?1",
                    [primary],
                    |r| r.get(0),
                )
                .map_err(db_err)?;
            check_mergeable(duplicate, status, primary, merged)?;
            tx.execute(
                "UPDATE cases SET merged_into = ?2 WHERE id = ?1 AND merged_into IS NULL",
                params![duplicate, primary],
            )
            .map_err(db_err)?;
            audit::append(
                &tx,
                &actor,
                "case.merge",
                &format!("case:{duplicate}"),
                &format!("into case:{primary}"),
            )?;
            tx.commit().map_err(db_err)
        })
        .await
    }

    /// Indicators found in a case's evidence.
    pub async fn case_indicators(&self, case_id: i64) -> Result<Vec<(Kind, String)>, StoreError> {
        self.call(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT kind, value FROM case_indicators WHERE case_id = ?1 ORDER BY kind, value",
                )
                .map_err(db_err)?;
            let rows: Vec<(String, String)> = stmt
                .query_map([case_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|r| r.collect())
                .map_err(db_err)?;
            Ok(rows
                .into_iter()
                .filter_map(|(k, v)| Kind::parse(&k).map(|k| (k, v)))
                .collect())
        })
        .await
    }

    /// Cases related to `case_id`: sharing an indicator, near-duplicate text, or merged with it.
    pub async fn related(&self, case_id: i64) -> Result<Vec<Related>, StoreError> {
        self.call(move |conn| {
            let mut links = Links::default();
            let mut stmt = conn
                .prepare(
                    "SELECT o.case_id, o.kind, o.value FROM case_indicators m
                     JOIN case_indicators o ON o.kind = m.kind AND o.value = m.value
                     WHERE m.case_id = ?1 AND o.case_id != ?1 ORDER BY o.case_id, o.kind, o.value",
                )
                .map_err(db_err)?;
            let shared: Vec<(i64, String, String)> = stmt
                .query_map([case_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .and_then(|r| r.collect())
                .map_err(db_err)?;
            links.shared(shared);
            let (mine, merged_into): (Option<i64>, Option<i64>) = conn
                .query_row(
                    "SELECT simhash, merged_into FROM cases WHERE id = ?1",
                    [case_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db_err)?
                .ok_or(StoreError::NotFound(case_id))?;
            if let Some(mine) = mine {
                let mut stmt = conn
                    .prepare("SELECT id, simhash FROM cases WHERE simhash IS NOT NULL AND id != ?1")
                    .map_err(db_err)?;
                let all: Vec<(i64, i64)> = stmt
                    .query_map([case_id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .and_then(|r| r.collect())
                    .map_err(db_err)?;
                links.near(mine, all);
            }
            links.merged(merged_into);
            let mut stmt = conn
                .prepare("SELECT id FROM cases WHERE merged_into = ?1")
                .map_err(db_err)?;
            let dups: Vec<i64> = stmt
                .query_map([case_id], |r| r.get(0))
                .and_then(|r| r.collect())
                .map_err(db_err)?;
            links.merged(dups);
            let mut related = Vec::new();
            for (id, links) in links.0 {
                let row: Option<(String, String, String)> = conn
                    .query_row(
                        "SELECT category, url, status FROM cases WHERE id = ?1",
                        [id],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .optional()
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
        })
        .await
    }
}
