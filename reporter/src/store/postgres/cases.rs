//! Cases, hits, evidence and screenshots on PostgreSQL: the [`CaseStore`] implementation.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use model::{
    Case, CaseFilter, CaseHit, CaseStatus, CaseStore, CaseSummary, CaseUpsert, Decision, Evidence,
    Flagged, Route, Screenshot, Severity, Source, Span, StoreError, Viewport, WarcRef,
};
use sqlx_core::query::query;
use sqlx_core::query_as::query_as;
use sqlx_core::query_builder::QueryBuilder;
use sqlx_core::query_scalar::query_scalar;
use sqlx_core::row::Row;
use sqlx_core::types::Json;
use sqlx_postgres::{PgConnection, PgRow, Postgres};

use super::{PgCaseStore, TxError, retry_tx};
use crate::indicators;
use crate::store::listing;
use crate::workflow::check_actor;
use crate::{evidence, workflow};

fn bad(what: &str, v: &str) -> TxError {
    TxError::Store(StoreError::Backend(format!(
        "bad {what} {v:?} in the database"
    )))
}

fn parse_severity(s: &str) -> Result<Severity, TxError> {
    evidence::parse_severity(s).ok_or_else(|| bad("severity", s))
}

pub(super) fn parse_status(s: &str) -> Result<CaseStatus, TxError> {
    CaseStatus::parse(s).ok_or_else(|| bad("status", s))
}

fn parse_route(s: Option<String>) -> Result<Option<Route>, TxError> {
    s.map(|s| Route::parse(&s).ok_or_else(|| bad("route", &s)))
        .transpose()
}

fn viewport_str(v: Viewport) -> &'static str {
    v.as_str()
}

fn parse_viewport(s: &str) -> Result<Viewport, TxError> {
    Viewport::ALL
        .into_iter()
        .find(|v| v.as_str() == s)
        .ok_or_else(|| bad("viewport", s))
}

fn u32_of(v: i64, what: &str) -> Result<u32, TxError> {
    u32::try_from(v).map_err(|_| bad(what, &v.to_string()))
}

/// The status of case `id`, locking its row until the transaction ends: every case update takes
/// this lock first, so updates of one case serialize across workers.
pub(super) async fn lock_case(c: &mut PgConnection, id: i64) -> Result<CaseStatus, TxError> {
    let s: Option<String> = query_scalar("SELECT status FROM cases WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    parse_status(&s.ok_or(StoreError::NotFound(id))?)
}

/// One row of the decision trail.
pub(super) struct Event<'a> {
    pub(super) case_id: i64,
    pub(super) action: &'a str,
    pub(super) from: CaseStatus,
    pub(super) to: CaseStatus,
    pub(super) route: Option<Route>,
    pub(super) note: Option<&'a str>,
    pub(super) actor: &'a str,
    pub(super) at: DateTime<Utc>,
}

pub(super) async fn insert_event(c: &mut PgConnection, e: &Event<'_>) -> Result<(), TxError> {
    query(
        "INSERT INTO case_events (case_id, action, from_status, to_status, route, note, actor, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(e.case_id)
    .bind(e.action)
    .bind(e.from.as_str())
    .bind(e.to.as_str())
    .bind(e.route.map(|r| r.as_str()))
    .bind(e.note)
    .bind(e.actor)
    .bind(e.at)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// Indexes the indicators (carried on the capture, see [`indicators::links`]) and the text
/// fingerprint of one new piece of evidence, as the SQLite store does.
async fn index_evidence(
    c: &mut PgConnection,
    case_id: i64,
    capture: &model::Capture,
) -> Result<(), TxError> {
    for (kind, value) in indicators::links(&capture.indicators) {
        query(
            "INSERT INTO case_indicators (case_id, kind, value) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(case_id)
        .bind(kind.as_str())
        .bind(value)
        .execute(&mut *c)
        .await?;
    }
    if let Some(h) = indicators::simhash(&capture.text) {
        query("UPDATE cases SET simhash = $2 WHERE id = $1")
            .bind(case_id)
            .bind(h as i64)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

/// Records one flagged capture inside a transaction; see [`PgCaseStore::record_flagged`].
///
/// Categories come sorted (so do the dedup keys of one capture), hence concurrent recordings lock
/// case rows in one order.
async fn record(c: &mut PgConnection, flagged: &Flagged) -> Result<Vec<CaseUpsert>, TxError> {
    let capture = &flagged.capture;
    let seen = capture.fetched_at;
    let now = Utc::now();
    let mut out = Vec::new();
    for (category, hits) in evidence::hits_by_category(&flagged.hits) {
        let key = evidence::dedup_key(category, capture);
        let severity = evidence::max_severity(hits.iter().copied());
        // A concurrent insert of the same key makes this wait for that transaction and then do
        // nothing; the row is then read (and locked) below.
        let inserted: Option<i64> = query_scalar(
            "INSERT INTO cases (dedup_key, category, url, host, source_kind, source_json, status,
                first_seen, last_seen, severity, status_since)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $8)
             ON CONFLICT (dedup_key) DO NOTHING
             RETURNING id",
        )
        .bind(&key)
        .bind(category)
        .bind(evidence::canonical_resource(capture))
        .bind(&capture.host)
        .bind(capture.source.kind())
        .bind(Json(&capture.source))
        .bind(CaseStatus::New.as_str())
        .bind(seen)
        .bind(evidence::severity_str(severity))
        .fetch_optional(&mut *c)
        .await?;
        let (case_id, created, old_severity) = match inserted {
            Some(id) => (id, true, severity),
            None => {
                let (id, sev): (i64, String) =
                    query_as("SELECT id, severity FROM cases WHERE dedup_key = $1 FOR UPDATE")
                        .bind(&key)
                        .fetch_one(&mut *c)
                        .await?;
                (id, false, parse_severity(&sev)?)
            }
        };
        let evidence_added = query_scalar::<_, i64>(
            "INSERT INTO evidence (case_id, capture_id, captured_at, url, final_url, ip,
                http_status, protocol, body_sha256, warc, title, text)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (case_id, capture_id) DO NOTHING
             RETURNING id",
        )
        .bind(case_id)
        .bind(&capture.id)
        .bind(seen)
        .bind(&capture.url)
        .bind(&capture.final_url)
        .bind(&capture.ip)
        .bind(capture.status.map(i32::from))
        .bind(&capture.protocol)
        .bind(&capture.body_sha256)
        .bind(capture.warc.as_ref().map(Json))
        .bind(&capture.title)
        .bind(&capture.text)
        .fetch_optional(&mut *c)
        .await?
        .is_some();
        let mut hits_added = 0;
        for h in &hits {
            hits_added += query(
                "INSERT INTO case_hits (case_id, capture_id, rule, rule_version, severity, score,
                    spans, matched, at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (case_id, capture_id, rule, rule_version) DO NOTHING",
            )
            .bind(case_id)
            .bind(&capture.id)
            .bind(&h.rule)
            .bind(i64::from(h.rule_version))
            .bind(evidence::severity_str(h.severity))
            .bind(f64::from(h.score))
            .bind(Json(&h.spans))
            .bind(&h.matched)
            .bind(now)
            .execute(&mut *c)
            .await?
            .rows_affected();
        }
        if evidence_added {
            index_evidence(c, case_id, capture).await?;
        }
        if !created && (evidence_added || hits_added > 0) {
            query(
                "UPDATE cases SET severity = $2, last_seen = GREATEST(last_seen, $3) WHERE id = $1",
            )
            .bind(case_id)
            .bind(evidence::severity_str(old_severity.max(severity)))
            .bind(seen)
            .execute(&mut *c)
            .await?;
        }
        let needs_screenshot = evidence_added
            || query_scalar::<_, bool>(
                "SELECT NOT EXISTS (SELECT 1 FROM evidence e
                    JOIN screenshots s ON s.evidence_id = e.id AND s.viewport = 'desktop'
                    WHERE e.case_id = $1 AND e.capture_id = $2)",
            )
            .bind(case_id)
            .bind(&capture.id)
            .fetch_one(&mut *c)
            .await?;
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

fn case_row(r: &PgRow) -> Result<Case, TxError> {
    let Json(source): Json<Source> = r.try_get(5)?;
    Ok(Case {
        id: r.try_get(0)?,
        dedup_key: r.try_get(1)?,
        category: r.try_get(2)?,
        url: r.try_get(3)?,
        host: r.try_get(4)?,
        source,
        status: parse_status(r.try_get(6)?)?,
        route: parse_route(r.try_get(7)?)?,
        decision_note: r.try_get(8)?,
        decided_by: r.try_get(9)?,
        decided_at: r.try_get(10)?,
        first_seen: r.try_get(11)?,
        last_seen: r.try_get(12)?,
        severity: parse_severity(r.try_get(13)?)?,
        assignee: r.try_get(14)?,
        status_since: r.try_get(15)?,
        merged_into: r.try_get(16)?,
        hits: Vec::new(),
        evidence: Vec::new(),
    })
}

fn hit_row(r: &PgRow) -> Result<CaseHit, TxError> {
    let Json(spans): Json<Vec<Span>> = r.try_get(5)?;
    Ok(CaseHit {
        capture_id: r.try_get(0)?,
        rule: r.try_get(1)?,
        rule_version: u32_of(r.try_get(2)?, "rule version")?,
        severity: parse_severity(r.try_get(3)?)?,
        score: r.try_get::<f64, _>(4)? as f32,
        spans,
        matched: r.try_get(6)?,
        at: r.try_get(7)?,
    })
}

fn shot_row(r: &PgRow, base: usize) -> Result<Option<Screenshot>, TxError> {
    let Some(path) = r.try_get::<Option<String>, _>(base)? else {
        return Ok(None);
    };
    let width: i64 = r.try_get(base + 2)?;
    let height: i64 = r.try_get(base + 3)?;
    Ok(Some(Screenshot {
        path,
        sha256: r.try_get(base + 1)?,
        width: u32_of(width, "width")?,
        height: u32_of(height, "height")?,
        taken_at: r.try_get(base + 4)?,
    }))
}

fn evidence_row(r: &PgRow) -> Result<Evidence, TxError> {
    let warc: Option<Json<WarcRef>> = r.try_get(8)?;
    let status: Option<i32> = r.try_get(5)?;
    Ok(Evidence {
        capture_id: r.try_get(0)?,
        captured_at: r.try_get(1)?,
        url: r.try_get(2)?,
        final_url: r.try_get(3)?,
        ip: r.try_get(4)?,
        http_status: status
            .map(|s| u16::try_from(s).map_err(|_| bad("http status", &s.to_string())))
            .transpose()?,
        protocol: r.try_get(6)?,
        body_sha256: r.try_get(7)?,
        warc: warc.map(|Json(w)| w),
        title: r.try_get(9)?,
        text: r.try_get(10)?,
        screenshot: shot_row(r, 11)?,
    })
}

/// One case with hits and evidence. Evidence carries one screenshot: the desktop one when there
/// is one, else the mobile one (both are kept; see [`PgCaseStore::screenshots`]).
pub(super) async fn load_case(c: &mut PgConnection, id: i64) -> Result<Option<Case>, TxError> {
    let row = query(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut case = case_row(&row)?;
    case.hits = query(
        "SELECT capture_id, rule, rule_version, severity, score, spans, matched, at
         FROM case_hits WHERE case_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(hit_row)
    .collect::<Result<_, _>>()?;
    case.evidence = query(
        "SELECT e.capture_id, e.captured_at, e.url, e.final_url, e.ip, e.http_status, e.protocol,
            e.body_sha256, e.warc, e.title, e.text,
            s.path, s.sha256, s.width, s.height, s.taken_at
         FROM evidence e
         LEFT JOIN LATERAL (
            SELECT path, sha256, width, height, taken_at FROM screenshots
            WHERE evidence_id = e.id ORDER BY viewport = 'desktop' DESC LIMIT 1
         ) s ON TRUE
         WHERE e.case_id = $1 ORDER BY e.captured_at, e.id",
    )
    .bind(id)
    .fetch_all(&mut *c)
    .await?
    .iter()
    .map(evidence_row)
    .collect::<Result<_, _>>()?;
    Ok(Some(case))
}

fn summary_row(r: &PgRow) -> Result<CaseSummary, TxError> {
    Ok(CaseSummary {
        id: r.try_get(0)?,
        category: r.try_get(1)?,
        url: r.try_get(2)?,
        host: r.try_get(3)?,
        source: r.try_get(4)?,
        status: parse_status(r.try_get(5)?)?,
        route: parse_route(r.try_get(6)?)?,
        severity: parse_severity(r.try_get(7)?)?,
        first_seen: r.try_get(8)?,
        last_seen: r.try_get(9)?,
        hit_count: u32_of(r.try_get(10)?, "hit count")?,
        has_screenshot: r.try_get(11)?,
        assignee: r.try_get(12)?,
        status_since: r.try_get(13)?,
        merged_into: r.try_get(14)?,
    })
}

pub(super) async fn list(
    c: &mut PgConnection,
    filter: &CaseFilter,
) -> Result<Vec<CaseSummary>, TxError> {
    let mut q: QueryBuilder<'_, Postgres> = QueryBuilder::new(listing::SELECT);
    q.push(" WHERE TRUE");
    for (column, value) in listing::equal_columns(filter) {
        q.push(format!(" AND c.{column} = ")).push_bind(value);
    }
    if let Some(t) = filter.detected_before {
        q.push(" AND c.first_seen < ")
            .push_bind(t)
            .push(listing::STILL_OPEN);
    }
    if !filter.include_merged {
        q.push(" AND ").push(listing::NOT_MERGED);
    }
    q.push(listing::order_by(filter.sort));
    if let Some(limit) = filter.limit {
        q.push(" LIMIT ").push_bind(i64::from(limit));
    }
    q.build()
        .fetch_all(&mut *c)
        .await?
        .iter()
        .map(summary_row)
        .collect()
}

impl PgCaseStore {
    /// Decision events of a case, oldest first: `(action, from, to, actor)`.
    pub async fn case_events(
        &self,
        case_id: i64,
    ) -> Result<Vec<(String, String, String, String)>, StoreError> {
        let mut c = self.conn().await?;
        query_as(
            "SELECT action, from_status, to_status, actor FROM case_events
             WHERE case_id = $1 ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&mut *c)
        .await
        .map_err(super::db_err)
    }
}

#[async_trait]
impl CaseStore for PgCaseStore {
    /// Returns one entry per case that this call opened or added evidence to: a re-delivery of an
    /// already recorded capture returns an empty list, also when two workers record the same
    /// capture at once (one of them gets the entries, the other an empty list).
    async fn record_flagged(&self, flagged: &Flagged) -> Result<Vec<CaseUpsert>, StoreError> {
        if flagged.hits.is_empty() {
            return Err(StoreError::Invalid(format!(
                "flagged capture {} has no hits",
                flagged.capture.id
            )));
        }
        retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            let out = record(&mut tx, flagged).await?;
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Attaches the screenshot taken on `viewport` to the evidence of `capture_id` in case
    /// `case_id` (replacing an earlier one of that viewport). [`CaseStore::attach_screenshot`]
    /// attaches a desktop screenshot.
    async fn attach_screenshot_on(
        &self,
        case_id: i64,
        capture_id: &str,
        viewport: Viewport,
        shot: &Screenshot,
    ) -> Result<(), StoreError> {
        evidence::check_screenshot(shot)?;
        retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            lock_case(&mut tx, case_id).await?;
            let evidence: Option<i64> =
                query_scalar("SELECT id FROM evidence WHERE case_id = $1 AND capture_id = $2")
                    .bind(case_id)
                    .bind(capture_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(evidence) = evidence else {
                return Err(TxError::Store(StoreError::Invalid(format!(
                    "capture {capture_id} is not evidence of case {case_id}"
                ))));
            };
            query(
                "INSERT INTO screenshots (evidence_id, viewport, path, sha256, width, height,
                    taken_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (evidence_id, viewport) DO UPDATE SET path = EXCLUDED.path,
                    sha256 = EXCLUDED.sha256, width = EXCLUDED.width, height = EXCLUDED.height,
                    taken_at = EXCLUDED.taken_at",
            )
            .bind(evidence)
            .bind(viewport_str(viewport))
            .bind(&shot.path)
            .bind(&shot.sha256)
            .bind(i64::from(shot.width))
            .bind(i64::from(shot.height))
            .bind(shot.taken_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Every screenshot of the evidence of `capture_id` in case `case_id`, desktop first.
    async fn screenshots(
        &self,
        case_id: i64,
        capture_id: &str,
    ) -> Result<Vec<(Viewport, Screenshot)>, StoreError> {
        let mut c = self.conn().await?;
        let rows = query(
            "SELECT s.path, s.sha256, s.width, s.height, s.taken_at, s.viewport
             FROM screenshots s JOIN evidence e ON e.id = s.evidence_id
             WHERE e.case_id = $1 AND e.capture_id = $2
             ORDER BY s.viewport = 'desktop' DESC",
        )
        .bind(case_id)
        .bind(capture_id)
        .fetch_all(&mut *c)
        .await
        .map_err(super::db_err)?;
        let mut out = Vec::new();
        for r in &rows {
            let vp: String = r.try_get(5).map_err(super::db_err)?;
            if let Some(shot) = shot_row(r, 0)? {
                out.push((parse_viewport(&vp)?, shot));
            }
        }
        Ok(out)
    }

    async fn list_cases(&self, filter: &CaseFilter) -> Result<Vec<CaseSummary>, StoreError> {
        let mut c = self.conn().await?;
        Ok(list(&mut c, filter).await?)
    }

    async fn get_case(&self, id: i64) -> Result<Option<Case>, StoreError> {
        let mut c = self.conn().await?;
        Ok(load_case(&mut c, id).await?)
    }

    async fn decide(&self, id: i64, decision: &Decision, actor: &str) -> Result<Case, StoreError> {
        let valid = workflow::validate(decision)?;
        let actor = check_actor(actor)?;
        let case = retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            let from = lock_case(&mut tx, id).await?;
            workflow::check_decidable(id, from)?;
            let at = Utc::now();
            query(
                "UPDATE cases SET status = $2, route = $3, decision_note = $4, decided_by = $5,
                    decided_at = $6, status_since = $6 WHERE id = $1",
            )
            .bind(id)
            .bind(valid.status.as_str())
            .bind(valid.route.map(|r| r.as_str()))
            .bind(&valid.note)
            .bind(actor)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            insert_event(
                &mut tx,
                &Event {
                    case_id: id,
                    action: valid.action,
                    from,
                    to: valid.status,
                    route: valid.route,
                    note: Some(&valid.note),
                    actor,
                    at,
                },
            )
            .await?;
            let case = load_case(&mut tx, id).await?;
            tx.commit().await?;
            Ok(case)
        })?;
        tracing::info!(case = id, action = valid.action, actor = %actor, "case decided");
        case.ok_or(StoreError::NotFound(id))
    }

    async fn start_review(&self, id: i64, actor: &str) -> Result<(), StoreError> {
        let actor = check_actor(actor)?;
        retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            let from = lock_case(&mut tx, id).await?;
            if let Some(to) = workflow::review_transition(id, from)? {
                let at = Utc::now();
                query(
                    "UPDATE cases SET status = $2, status_since = $3,
                        assignee = COALESCE(assignee, $4) WHERE id = $1",
                )
                .bind(id)
                .bind(to.as_str())
                .bind(at)
                .bind(actor)
                .execute(&mut *tx)
                .await?;
                insert_event(
                    &mut tx,
                    &Event {
                        case_id: id,
                        action: "start_review",
                        from,
                        to,
                        route: None,
                        note: None,
                        actor,
                        at,
                    },
                )
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
