//! The embedded case store: one SQLite file (WAL mode) behind [`model::CaseStore`].
//!
//! rusqlite is synchronous, so every call runs on tokio's blocking pool with the connection behind
//! a `std::sync::Mutex` that is taken and released inside that blocking closure — never across an
//! `.await`. Each write is one transaction, which is what makes `record_flagged` idempotent under
//! at-least-once delivery: the unique keys (case dedup key, evidence per case and capture, hit per
//! case, capture, rule and version) turn a re-delivery into no change.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use model::{
    Case, CaseFilter, CaseHit, CaseStatus, CaseStore, CaseSummary, CaseUpsert, Decision, Evidence,
    Flagged, Route, Screenshot, Severity, Source, Span, StoreError, Viewport, WarcRef,
};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::listing;
use crate::{evidence, workflow};

/// Case store on SQLite. Cheap to share: wrap it in an `Arc`.
pub struct SqliteCaseStore {
    conn: Arc<Mutex<Connection>>,
}

/// Maps a SQLite error to the store's backend error.
pub(crate) fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteCaseStore {
    /// Opens (creating if needed) the case database at `path`, in WAL mode, and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Backend(format!("open {}: {e}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        Self::setup(conn)
    }

    /// A private in-memory database, for tests and `demo --once`.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory().map_err(db_err)?)
    }

    fn setup(mut conn: Connection) -> Result<Self, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_err)?;
        super::migrate::migrate(&mut conn)?;
        Ok(SqliteCaseStore {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    pub(crate) async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic in another call leaves no half-done work: its transaction rolled back on drop.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("case store task failed: {e}")))?
    }
}

/// RFC 3339 UTC with microseconds: fixed width, so text order is time order.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub(crate) fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| conversion(format!("bad time {s:?}: {e}")))
}

fn conversion(msg: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, msg.into())
}

fn parse_severity(s: &str) -> rusqlite::Result<Severity> {
    evidence::parse_severity(s).ok_or_else(|| conversion(format!("bad severity {s:?}")))
}

fn parse_status(s: &str) -> rusqlite::Result<CaseStatus> {
    CaseStatus::parse(s).ok_or_else(|| conversion(format!("bad status {s:?}")))
}

fn parse_route(s: Option<String>) -> rusqlite::Result<Option<Route>> {
    s.map(|s| Route::parse(&s).ok_or_else(|| conversion(format!("bad route {s:?}"))))
        .transpose()
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s).map_err(|e| conversion(format!("bad json {s:?}: {e}")))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("encode: {e}")))
}

pub(crate) fn current_status(tx: &Transaction<'_>, id: i64) -> Result<CaseStatus, StoreError> {
    let s: Option<String> = tx
        .query_row("SELECT status FROM cases WHERE id = ?1", [id], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    let s = s.ok_or(StoreError::NotFound(id))?;
    parse_status(&s).map_err(db_err)
}

use crate::workflow::check_actor;

/// Records one flagged capture inside `tx`; see [`SqliteCaseStore::record_flagged`].
fn record(tx: &Transaction<'_>, flagged: &Flagged) -> Result<Vec<CaseUpsert>, StoreError> {
    let capture = &flagged.capture;
    let seen = ts(capture.fetched_at);
    let now = ts(Utc::now());
    let source_json = to_json(&capture.source)?;
    let warc_json = capture.warc.as_ref().map(to_json).transpose()?;
    let mut out = Vec::new();
    for (category, hits) in evidence::hits_by_category(&flagged.hits) {
        let key = evidence::dedup_key(category, capture);
        let severity = evidence::max_severity(hits.iter().copied());
        let existing: Option<(i64, String)> = tx
            .query_row(
                "SELECT id, severity FROM cases WHERE dedup_key = ?1",
                [&key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)?;
        let (case_id, created, old_severity) = match existing {
            Some((id, sev)) => (id, false, parse_severity(&sev).map_err(db_err)?),
            None => {
                tx.execute(
                    "INSERT INTO cases (dedup_key, category, url, host, source_kind, source_json,
                        status, first_seen, last_seen, severity, status_since)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?8)",
                    params![
                        key,
                        category,
                        evidence::canonical_resource(capture),
                        capture.host,
                        capture.source.kind(),
                        source_json,
                        CaseStatus::New.as_str(),
                        seen,
                        evidence::severity_str(severity),
                    ],
                )
                .map_err(db_err)?;
                (tx.last_insert_rowid(), true, severity)
            }
        };
        let evidence_added = tx
            .execute(
                "INSERT OR IGNORE INTO evidence (case_id, capture_id, captured_at, url, final_url,
                    ip, http_status, protocol, body_sha256, warc_json, title, text)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    case_id,
                    capture.id,
                    seen,
                    capture.url,
                    capture.final_url,
                    capture.ip,
                    capture.status,
                    capture.protocol,
                    capture.body_sha256,
                    warc_json,
                    capture.title,
                    capture.text,
                ],
            )
            .map_err(db_err)?
            == 1;
        let mut hits_added = 0;
        for h in &hits {
            hits_added += tx
                .execute(
                    "INSERT OR IGNORE INTO case_hits (case_id, capture_id, rule, rule_version,
                        severity, score, spans_json, matched, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        case_id,
                        capture.id,
                        h.rule,
                        h.rule_version,
                        evidence::severity_str(h.severity),
                        f64::from(h.score),
                        to_json(&h.spans)?,
                        h.matched,
                        now,
                    ],
                )
                .map_err(db_err)?;
        }
        if evidence_added {
            super::triage::index_evidence(tx, case_id, capture)?;
        }
        if !created && (evidence_added || hits_added > 0) {
            tx.execute(
                "UPDATE cases SET severity = ?2, last_seen = MAX(last_seen, ?3) WHERE id = ?1",
                params![
                    case_id,
                    evidence::severity_str(old_severity.max(severity)),
                    seen
                ],
            )
            .map_err(db_err)?;
        }
        // `evidence.screenshot_*` holds the desktop shot.
        let needs_screenshot = evidence_added
            || tx
                .query_row(
                    "SELECT screenshot_path IS NULL FROM evidence
                     WHERE case_id = ?1 AND capture_id = ?2",
                    params![case_id, capture.id],
                    |r| r.get::<_, bool>(0),
                )
                .map_err(db_err)?;
        if created || evidence_added || needs_screenshot {
            out.push(CaseUpsert {
                case_id,
                category: category.to_string(),
                created,
                evidence_added,
                needs_screenshot,
            });
        }
    }
    Ok(out)
}

const CASE_COLUMNS: &str = "id, dedup_key, category, url, host, source_json, status, route,
    decision_note, decided_by, decided_at, first_seen, last_seen, severity, assignee, status_since,
    merged_into";

fn case_row(r: &Row<'_>) -> rusqlite::Result<Case> {
    let source: String = r.get(5)?;
    let status: String = r.get(6)?;
    let decided_at: Option<String> = r.get(10)?;
    let first_seen: String = r.get(11)?;
    let last_seen: String = r.get(12)?;
    let severity: String = r.get(13)?;
    Ok(Case {
        id: r.get(0)?,
        dedup_key: r.get(1)?,
        category: r.get(2)?,
        url: r.get(3)?,
        host: r.get(4)?,
        source: from_json::<Source>(&source)?,
        status: parse_status(&status)?,
        route: parse_route(r.get(7)?)?,
        decision_note: r.get(8)?,
        decided_by: r.get(9)?,
        decided_at: decided_at.as_deref().map(parse_ts).transpose()?,
        first_seen: parse_ts(&first_seen)?,
        last_seen: parse_ts(&last_seen)?,
        severity: parse_severity(&severity)?,
        assignee: r.get(14)?,
        status_since: r
            .get::<_, Option<String>>(15)?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
        merged_into: r.get(16)?,
        hits: Vec::new(),
        evidence: Vec::new(),
    })
}

fn hit_row(r: &Row<'_>) -> rusqlite::Result<CaseHit> {
    let severity: String = r.get(3)?;
    let spans: String = r.get(5)?;
    let at: String = r.get(7)?;
    Ok(CaseHit {
        capture_id: r.get(0)?,
        rule: r.get(1)?,
        rule_version: r.get(2)?,
        severity: parse_severity(&severity)?,
        score: r.get::<_, f64>(4)? as f32,
        spans: from_json::<Vec<Span>>(&spans)?,
        matched: r.get(6)?,
        at: parse_ts(&at)?,
    })
}

fn evidence_row(r: &Row<'_>) -> rusqlite::Result<Evidence> {
    let captured_at: String = r.get(1)?;
    let warc: Option<String> = r.get(8)?;
    let shot_path: Option<String> = r.get(11)?;
    let screenshot = match shot_path {
        Some(path) => {
            let taken_at: String = r.get(15)?;
            Some(Screenshot {
                path,
                sha256: r.get(12)?,
                width: r.get(13)?,
                height: r.get(14)?,
                taken_at: parse_ts(&taken_at)?,
            })
        }
        None => None,
    };
    Ok(Evidence {
        capture_id: r.get(0)?,
        captured_at: parse_ts(&captured_at)?,
        url: r.get(2)?,
        final_url: r.get(3)?,
        ip: r.get(4)?,
        http_status: r.get(5)?,
        protocol: r.get(6)?,
        body_sha256: r.get(7)?,
        warc: warc.as_deref().map(from_json::<WarcRef>).transpose()?,
        title: r.get(9)?,
        text: r.get(10)?,
        screenshot,
    })
}

pub(crate) fn load_case(conn: &Connection, id: i64) -> Result<Option<Case>, StoreError> {
    let case = conn
        .query_row(
            &format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = ?1"),
            [id],
            case_row,
        )
        .optional()
        .map_err(db_err)?;
    let Some(mut case) = case else {
        return Ok(None);
    };
    let mut stmt = conn
        .prepare_cached(
            "SELECT capture_id, rule, rule_version, severity, score, spans_json, matched, at
             FROM case_hits WHERE case_id = ?1 ORDER BY id",
        )
        .map_err(db_err)?;
    case.hits = stmt
        .query_map([id], hit_row)
        .and_then(|rows| rows.collect())
        .map_err(db_err)?;
    let mut stmt = conn
        .prepare_cached(
            // The evidence's screenshot: the desktop one when there is one, else the mobile one
            // (all of them: `CaseStore::screenshots`).
            "SELECT e.capture_id, e.captured_at, e.url, e.final_url, e.ip, e.http_status,
                e.protocol, e.body_sha256, e.warc_json, e.title, e.text,
                s.path, s.sha256, s.width, s.height, s.taken_at
             FROM evidence e
             LEFT JOIN screenshots s ON s.evidence_id = e.id AND s.viewport = (
                SELECT viewport FROM screenshots WHERE evidence_id = e.id
                ORDER BY viewport = 'desktop' DESC LIMIT 1)
             WHERE e.case_id = ?1 ORDER BY e.captured_at, e.id",
        )
        .map_err(db_err)?;
    case.evidence = stmt
        .query_map([id], evidence_row)
        .and_then(|rows| rows.collect())
        .map_err(db_err)?;
    Ok(Some(case))
}

fn summary_row(r: &Row<'_>) -> rusqlite::Result<CaseSummary> {
    let status: String = r.get(5)?;
    let severity: String = r.get(7)?;
    let first_seen: String = r.get(8)?;
    let last_seen: String = r.get(9)?;
    Ok(CaseSummary {
        id: r.get(0)?,
        category: r.get(1)?,
        url: r.get(2)?,
        host: r.get(3)?,
        source: r.get(4)?,
        status: parse_status(&status)?,
        route: parse_route(r.get(6)?)?,
        severity: parse_severity(&severity)?,
        first_seen: parse_ts(&first_seen)?,
        last_seen: parse_ts(&last_seen)?,
        hit_count: r.get(10)?,
        has_screenshot: r.get(11)?,
        assignee: r.get(12)?,
        status_since: r
            .get::<_, Option<String>>(13)?
            .as_deref()
            .map(parse_ts)
            .transpose()?,
        merged_into: r.get(14)?,
    })
}

fn list(conn: &Connection, filter: &CaseFilter) -> Result<Vec<CaseSummary>, StoreError> {
    let mut conditions = Vec::new();
    let mut args: Vec<String> = Vec::new();
    for (column, value) in listing::equal_columns(filter) {
        args.push(value);
        conditions.push(format!("c.{column} = ?{}", args.len()));
    }
    if let Some(t) = filter.detected_before {
        args.push(ts(t));
        conditions.push(format!(
            "c.first_seen < ?{}{}",
            args.len(),
            listing::STILL_OPEN
        ));
    }
    if !filter.include_merged {
        conditions.push(listing::NOT_MERGED.to_string());
    }
    let mut sql = String::from(listing::SELECT);
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(listing::order_by(filter.sort));
    if let Some(limit) = filter.limit {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    let mut stmt = conn.prepare(&sql).map_err(db_err)?;
    stmt.query_map(rusqlite::params_from_iter(args), summary_row)
        .and_then(|rows| rows.collect())
        .map_err(db_err)
}

/// One row of the decision audit trail.
pub(crate) struct Event<'a> {
    pub(crate) case_id: i64,
    pub(crate) action: &'a str,
    pub(crate) from: CaseStatus,
    pub(crate) to: CaseStatus,
    pub(crate) route: Option<Route>,
    pub(crate) note: Option<&'a str>,
    pub(crate) actor: &'a str,
    pub(crate) at: &'a str,
}

pub(crate) fn insert_event(tx: &Transaction<'_>, e: &Event<'_>) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO case_events (case_id, action, from_status, to_status, route, note, actor, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            e.case_id,
            e.action,
            e.from.as_str(),
            e.to.as_str(),
            e.route.map(|r| r.as_str()),
            e.note,
            e.actor,
            e.at
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl CaseStore for SqliteCaseStore {
    /// Returns one entry per case that this call opened or added evidence to: a re-delivery of an
    /// already recorded capture returns an empty list (nothing new to screenshot).
    async fn record_flagged(&self, flagged: &Flagged) -> Result<Vec<CaseUpsert>, StoreError> {
        if flagged.hits.is_empty() {
            return Err(StoreError::Invalid(format!(
                "flagged capture {} has no hits",
                flagged.capture.id
            )));
        }
        let flagged = flagged.clone();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let out = record(&tx, &flagged)?;
            tx.commit().map_err(db_err)?;
            Ok(out)
        })
        .await
    }

    async fn attach_screenshot_on(
        &self,
        case_id: i64,
        capture_id: &str,
        viewport: Viewport,
        shot: &Screenshot,
    ) -> Result<(), StoreError> {
        evidence::check_screenshot(shot)?;
        let capture_id = capture_id.to_string();
        let shot = shot.clone();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            current_status(&tx, case_id)?;
            let evidence: Option<i64> = tx
                .query_row(
                    "SELECT id FROM evidence WHERE case_id = ?1 AND capture_id = ?2",
                    params![case_id, capture_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            let Some(evidence) = evidence else {
                return Err(StoreError::Invalid(format!(
                    "capture {capture_id} is not evidence of case {case_id}"
                )));
            };
            tx.execute(
                "INSERT INTO screenshots (evidence_id, viewport, path, sha256, width, height,
                    taken_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (evidence_id, viewport) DO UPDATE SET path = excluded.path,
                    sha256 = excluded.sha256, width = excluded.width, height = excluded.height,
                    taken_at = excluded.taken_at",
                params![
                    evidence,
                    viewport.as_str(),
                    shot.path,
                    shot.sha256,
                    shot.width,
                    shot.height,
                    ts(shot.taken_at)
                ],
            )
            .map_err(db_err)?;
            if viewport == Viewport::Desktop {
                // The evidence row keeps its desktop shot too (schema 1 readers).
                tx.execute(
                    "UPDATE evidence SET screenshot_path = ?2, screenshot_sha256 = ?3,
                        screenshot_width = ?4, screenshot_height = ?5, screenshot_taken_at = ?6
                     WHERE id = ?1",
                    params![
                        evidence,
                        shot.path,
                        shot.sha256,
                        shot.width,
                        shot.height,
                        ts(shot.taken_at)
                    ],
                )
                .map_err(db_err)?;
            }
            tx.commit().map_err(db_err)
        })
        .await
    }

    async fn screenshots(
        &self,
        case_id: i64,
        capture_id: &str,
    ) -> Result<Vec<(Viewport, Screenshot)>, StoreError> {
        let capture_id = capture_id.to_string();
        self.call(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT s.viewport, s.path, s.sha256, s.width, s.height, s.taken_at
                     FROM screenshots s JOIN evidence e ON e.id = s.evidence_id
                     WHERE e.case_id = ?1 AND e.capture_id = ?2
                     ORDER BY s.viewport = 'desktop' DESC",
                )
                .map_err(db_err)?;
            stmt.query_map(params![case_id, capture_id], |r| {
                let viewport: String = r.get(0)?;
                let taken_at: String = r.get(5)?;
                let viewport = match viewport.as_str() {
                    "desktop" => Viewport::Desktop,
                    "mobile" => Viewport::Mobile,
                    other => {
                        return Err(rusqlite::Error::FromSqlConversionFailure(
                            0,
                            rusqlite::types::Type::Text,
                            format!("unknown viewport {other:?}").into(),
                        ));
                    }
                };
                Ok((
                    viewport,
                    Screenshot {
                        path: r.get(1)?,
                        sha256: r.get(2)?,
                        width: r.get(3)?,
                        height: r.get(4)?,
                        taken_at: parse_ts(&taken_at)?,
                    },
                ))
            })
            .and_then(|rows| rows.collect())
            .map_err(db_err)
        })
        .await
    }

    async fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<CaseSummary>, StoreError> {
        let filter = filter.clone();
        self.call(move |conn| list(conn, &filter)).await
    }

    async fn get_case(&self, id: i64) -> Result<Option<Case>, StoreError> {
        self.call(move |conn| load_case(conn, id)).await
    }

    async fn decide(&self, id: i64, decision: &Decision, actor: &str) -> Result<Case, StoreError> {
        let valid = workflow::validate(decision)?;
        let actor = check_actor(actor)?.to_string();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let from = current_status(&tx, id)?;
            workflow::check_decidable(id, from)?;
            let at = ts(Utc::now());
            tx.execute(
                "UPDATE cases SET status = ?2, route = ?3, decision_note = ?4, decided_by = ?5,
                    decided_at = ?6, status_since = ?6 WHERE id = ?1",
                params![
                    id,
                    valid.status.as_str(),
                    valid.route.map(|r| r.as_str()),
                    valid.note,
                    actor,
                    at
                ],
            )
            .map_err(db_err)?;
            insert_event(
                &tx,
                &Event {
                    case_id: id,
                    action: valid.action,
                    from,
                    to: valid.status,
                    route: valid.route,
                    note: Some(&valid.note),
                    actor: &actor,
                    at: &at,
                },
            )?;
            tx.commit().map_err(db_err)?;
            tracing::info!(case = id, action = valid.action, actor = %actor, "case decided");
            load_case(conn, id)?.ok_or(StoreError::NotFound(id))
        })
        .await
    }

    async fn start_review(&self, id: i64, actor: &str) -> Result<(), StoreError> {
        let actor = check_actor(actor)?.to_string();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(db_err)?;
            let from = current_status(&tx, id)?;
            if let Some(to) = workflow::review_transition(id, from)? {
                let at = ts(Utc::now());
                tx.execute(
                    "UPDATE cases SET status = ?2, status_since = ?3,
                        assignee = COALESCE(assignee, ?4) WHERE id = ?1",
                    params![id, to.as_str(), at, actor],
                )
                .map_err(db_err)?;
                let event = Event {
                    case_id: id,
                    action: "start_review",
                    from,
                    to,
                    route: None,
                    note: None,
                    actor: &actor,
                    at: &at,
                };
                insert_event(&tx, &event)?;
            }
            tx.commit().map_err(db_err)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    //! Checks not (yet) in `store::conformance`, which runs the behaviour shared with PostgreSQL
    //! on both backends: migrations of old files, reopening a file, filters over a Telegram
    //! case.
    use super::*;
    use crate::store::conformance::{flagged, shot};

    #[tokio::test]
    async fn filters_select_rows() {
        let store = SqliteCaseStore::open_in_memory().unwrap();
        store
            .record_flagged(&flagged("http://casino.kz/", 1_700_000_000))
            .await
            .unwrap();
        let mut tg = flagged("http://t.me/drop_kz/7", 1_700_000_500);
        tg.capture.host = "t.me".into();
        tg.capture.source = Source::Telegram {
            channel: "drop_kz".into(),
            post_id: 7,
            views: Some("1.2K".into()),
        };
        store.record_flagged(&tg).await.unwrap();
        let f =
            |status: Option<CaseStatus>, category: Option<&str>, source: Option<&str>| CaseFilter {
                status,
                category: category.map(str::to_string),
                source: source.map(str::to_string),
                ..CaseFilter::default()
            };
        let table: Vec<(CaseFilter, usize)> = vec![
            (CaseFilter::default(), 4),
            (f(None, Some("illegal_gambling"), None), 2),
            (f(None, None, Some("telegram")), 2),
            (f(None, Some("fraud_investment"), Some("web")), 1),
            (f(Some(CaseStatus::Dismissed), None, None), 0),
            (f(Some(CaseStatus::New), None, None), 4),
            (
                CaseFilter {
                    host: Some("t.me".into()),
                    ..CaseFilter::default()
                },
                2,
            ),
            (
                CaseFilter {
                    limit: Some(3),
                    ..CaseFilter::default()
                },
                3,
            ),
        ];
        for (filter, want) in table {
            let got = store.list_cases(&filter).await.unwrap();
            assert_eq!(got.len(), want, "{filter:?}");
        }
        let tg_case = store
            .list_cases(&f(None, None, Some("telegram")))
            .await
            .unwrap();
        let full = store.get_case(tg_case[0].id).await.unwrap().unwrap();
        assert!(matches!(full.source, Source::Telegram { post_id: 7, .. }));
    }

    /// A database written before schema 6 keeps its (desktop) screenshots after the upgrade.
    #[tokio::test]
    async fn schema_6_moves_existing_screenshots_into_the_viewport_table() {
        let path = std::env::temp_dir().join(format!(
            "baqylau-reporter-schema6-{}.sqlite",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        let f = flagged("http://casino.kz/", 1_700_000_000);
        let id = {
            let store = SqliteCaseStore::open(&path).unwrap();
            let id = store.record_flagged(&f).await.unwrap()[0].case_id;
            store
                .attach_screenshot(id, &f.capture.id, &shot("shots/old.png"))
                .await
                .unwrap();
            id
        };
        {
            // Back to schema 5, as an older binary left it.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "DROP TABLE screenshots; DROP TABLE recheck_claims;
                 DELETE FROM reporter_migrations WHERE version >= 6;",
            )
            .unwrap();
        }
        let store = SqliteCaseStore::open(&path).unwrap();
        assert_eq!(
            store.screenshots(id, &f.capture.id).await.unwrap(),
            vec![(Viewport::Desktop, shot("shots/old.png"))]
        );
        let case = store.get_case(id).await.unwrap().unwrap();
        assert_eq!(case.evidence[0].screenshot, Some(shot("shots/old.png")));
        drop(store);
        let _ = std::fs::remove_file(&path);
    }

    #[tokio::test]
    async fn file_database_survives_reopen() {
        let dir = std::env::temp_dir().join(format!("baqylau-reporter-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cases.sqlite");
        let _ = std::fs::remove_file(&path);
        {
            let store = SqliteCaseStore::open(&path).unwrap();
            store
                .record_flagged(&flagged("http://casino.kz/", 1_700_000_000))
                .await
                .unwrap();
        }
        let store = SqliteCaseStore::open(&path).unwrap();
        assert_eq!(
            store
                .list_cases(&CaseFilter::default())
                .await
                .unwrap()
                .len(),
            2
        );
        let mode: String = store
            .conn
            .lock()
            .unwrap()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
