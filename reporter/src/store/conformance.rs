//! The storage test suite every backend must pass: the same checks, run against SQLite (a file in
//! a temporary directory) and PostgreSQL (a fresh schema per test on the test server,
//! `$BAQYLAU_TEST_PG`, else `postgres://postgres@127.0.0.1:5432/test`).
//!
//! Each check is an async function over a [`Backend`]; the `suite!` macro instantiates every one
//! of them once per backend, so a failure names both the check and the backend. PostgreSQL being
//! unreachable fails the PostgreSQL tests (it is not skipped).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use model::{
    CaseFilter, CaseSort, CaseStatus, Decision, Flagged, Route, Screenshot, Severity, Source,
    StoreError, Taxonomy, Viewport, WarcRef,
};

use super::notifications::{Notification, NotificationStatus, OutboxMessage, Payload, Verdict};
use super::postgres::ScratchSchema;
use super::rechecks::Target;
use super::triage::Link;
use super::users::LoginFailure;
use super::{Desk, PgCaseStore, SqliteCaseStore};
use crate::auth::{NewUser, Role, totp};
use crate::evidence::{self, tests::capture, tests::hit};
use crate::indicators::Kind;
use crate::outbox::{NotificationSink, OutboxStore, Relay};
use crate::recheck::{Observation, Outcome};

/// What the checks run on: the [`Desk`] (the desk operations the web UI and the CLI call, which
/// include [`model::CaseStore`] and [`OutboxStore`]) plus a way to look at the decision trail.
pub(crate) trait Backend: Desk + Trail + 'static {}

impl<T: Desk + Trail + 'static> Backend for T {}

/// The decision trail, which [`model::CaseStore`] does not expose.
#[async_trait]
pub(crate) trait Trail {
    /// Decision events of a case, oldest first: `(action, from, to, actor)`.
    async fn events(&self, case_id: i64) -> Vec<(String, String, String, String)>;
}

#[async_trait]
impl Trail for SqliteCaseStore {
    async fn events(&self, case_id: i64) -> Vec<(String, String, String, String)> {
        self.call(move |conn| {
            let mut stmt = conn
                .prepare(
                    "SELECT action, from_status, to_status, actor FROM case_events
                     WHERE case_id = ?1 ORDER BY id",
                )
                .map_err(super::sqlite::db_err)?;
            stmt.query_map([case_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(super::sqlite::db_err)
        })
        .await
        .unwrap()
    }
}

#[async_trait]
impl Trail for PgCaseStore {
    async fn events(&self, case_id: i64) -> Vec<(String, String, String, String)> {
        self.case_events(case_id).await.unwrap()
    }
}

/// A SQLite store in a file of its own temporary directory (removed on drop): the deployed
/// configuration (WAL), not the in-memory one.
pub(crate) struct SqliteFixture {
    pub(crate) store: Arc<SqliteCaseStore>,
    dir: PathBuf,
}

impl SqliteFixture {
    pub(crate) fn new() -> SqliteFixture {
        let dir = std::env::temp_dir().join(format!(
            "baqylau-conformance-{}-{}",
            std::process::id(),
            crate::auth::random_hex(6)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Arc::new(SqliteCaseStore::open(&dir.join("cases.sqlite")).unwrap());
        SqliteFixture { store, dir }
    }
}

impl Drop for SqliteFixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A PostgreSQL store in a fresh schema (dropped with the fixture). Field order matters: the
/// store's pool goes before the schema is dropped.
pub(crate) struct PgFixture {
    pub(crate) store: Arc<PgCaseStore>,
    _schema: ScratchSchema,
}

impl PgFixture {
    pub(crate) async fn new() -> PgFixture {
        let url = ScratchSchema::test_url();
        let schema = ScratchSchema::create(&url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL test server unreachable at {url} ({e}); start it or set {}",
                super::postgres::TEST_URL_ENV
            )
        });
        let store = Arc::new(schema.store().await.unwrap());
        PgFixture {
            store,
            _schema: schema,
        }
    }
}

/// A casino page flagged in two categories (three hits).
pub(crate) fn flagged(url: &str, secs: i64) -> Flagged {
    let c = capture(url, secs);
    let hits = vec![
        hit(
            &c,
            "gambling.casino",
            "illegal_gambling",
            "Онлайн казино",
            Severity::Medium,
        ),
        hit(
            &c,
            "gambling.bonus",
            "illegal_gambling",
            "бонус",
            Severity::Low,
        ),
        hit(
            &c,
            "fraud.guarantee",
            "fraud_investment",
            "выигрыш гарантирован",
            Severity::High,
        ),
    ];
    Flagged { capture: c, hits }
}

/// A Telegram post flagged once.
fn telegram(channel: &str, post: u64, secs: i64) -> Flagged {
    let mut f = flagged(&format!("http://t.me/{channel}/{post}"), secs);
    f.capture.host = "t.me".into();
    f.capture.source = Source::Telegram {
        channel: channel.into(),
        post_id: post,
        views: Some("1.2K".into()),
    };
    f.hits.retain(|h| h.category == "illegal_gambling");
    f
}

pub(crate) fn shot(path: &str) -> Screenshot {
    Screenshot {
        path: path.into(),
        sha256: model::sha256_hex(path.as_bytes()),
        width: 1280,
        height: 4000,
        taken_at: DateTime::from_timestamp(1_700_000_100, 0).unwrap(),
    }
}

fn id_of(up: &[model::CaseUpsert], category: &str) -> i64 {
    up.iter()
        .find(|u| u.category == category)
        .unwrap_or_else(|| panic!("no {category} in {up:?}"))
        .case_id
}

async fn record_one_case_per_category_and_redelivery_adds_nothing<S: Backend>(s: Arc<S>) {
    let f = flagged("http://casino.kz/", 1_700_000_000);
    let first = s.record_flagged(&f).await.unwrap();
    assert_eq!(first.len(), 2);
    assert!(first.iter().all(|u| u.created));
    assert_eq!(first[0].category, "fraud_investment", "categories in order");
    assert!(first.iter().all(|u| u.evidence_added && u.needs_screenshot));
    let again = s.record_flagged(&f).await.unwrap();
    assert_eq!(
        again
            .iter()
            .map(|u| (u.case_id, u.created, u.evidence_added))
            .collect::<Vec<_>>(),
        first
            .iter()
            .map(|u| (u.case_id, false, false))
            .collect::<Vec<_>>(),
        "a re-delivery adds nothing, and reports the evidence still without a screenshot"
    );
    assert!(again.iter().all(|u| u.needs_screenshot));

    let cases = s.list_cases(&CaseFilter::default()).await.unwrap();
    assert_eq!(cases.len(), 2);
    let gambling = cases
        .iter()
        .find(|c| c.category == "illegal_gambling")
        .unwrap();
    assert_eq!(
        (gambling.hit_count, gambling.severity),
        (2, Severity::Medium)
    );
    assert!(!gambling.has_screenshot);
    assert_eq!(gambling.source, "web");
    let case = s.get_case(gambling.id).await.unwrap().unwrap();
    assert_eq!(case.dedup_key, "illegal_gambling|http://casino.kz/");
    assert_eq!(case.status, CaseStatus::New);
    assert_eq!(case.status_since, Some(f.capture.fetched_at));
    assert_eq!(
        (case.first_seen, case.last_seen),
        (f.capture.fetched_at, f.capture.fetched_at)
    );
    assert_eq!(case.evidence, vec![evidence::evidence_of(&f.capture)]);
    assert_eq!(case.hits.len(), 2);
    assert_eq!(case.hits[0].rule, "gambling.casino");
    assert_eq!(case.hits[0].spans, f.hits[0].spans);
    assert_eq!(case.hits[0].score, f.hits[0].score);
    assert_eq!(case.hits[1].severity, Severity::Low);
    assert!(s.get_case(9_999).await.unwrap().is_none());
}

/// A reporter that died after committing a capture's cases and before its screenshot requests
/// were confirmed: the re-delivery reports the evidence still without a (desktop) screenshot —
/// only that capture's, only until its screenshot is attached.
async fn redelivery_reports_evidence_without_a_screenshot<S: Backend>(s: Arc<S>) {
    let f = flagged("http://casino.kz/", 1_700_000_000);
    let first = s.record_flagged(&f).await.unwrap();
    let (fraud, gambling) = (
        id_of(&first, "fraud_investment"),
        id_of(&first, "illegal_gambling"),
    );
    // A later capture of the same resource, with its screenshot attached at once.
    let mut later = flagged("http://casino.kz/", 1_700_086_400);
    later.hits.retain(|h| h.category == "illegal_gambling");
    s.record_flagged(&later).await.unwrap();
    s.attach_screenshot(gambling, &later.capture.id, &shot("shots/later.png"))
        .await
        .unwrap();
    assert_eq!(
        s.record_flagged(&later).await.unwrap(),
        vec![],
        "shot taken"
    );

    s.attach_screenshot(gambling, &f.capture.id, &shot("shots/g.png"))
        .await
        .unwrap();
    let again = s.record_flagged(&f).await.unwrap();
    assert_eq!(
        again,
        vec![model::CaseUpsert {
            case_id: fraud,
            category: "fraud_investment".into(),
            created: false,
            evidence_added: false,
            needs_screenshot: true,
        }],
        "only the evidence without a screenshot"
    );
    s.attach_screenshot(fraud, &f.capture.id, &shot("shots/f.png"))
        .await
        .unwrap();
    assert_eq!(
        s.record_flagged(&f).await.unwrap(),
        vec![],
        "all shots taken"
    );
    // A capture recorded again with a category it did not have before: new evidence there.
    let mut more = later.clone();
    more.hits = f.hits.clone();
    for h in &mut more.hits {
        h.capture_id = later.capture.id.clone();
    }
    let up = s.record_flagged(&more).await.unwrap();
    assert_eq!(
        up.iter()
            .map(|u| (u.case_id, u.created, u.evidence_added, u.needs_screenshot))
            .collect::<Vec<_>>(),
        vec![(fraud, false, true, true)]
    );
}

async fn evidence_round_trips_every_field<S: Backend>(s: Arc<S>) {
    let mut f = telegram("drop_kz", 7, 1_700_000_000);
    f.capture.ip = None;
    f.capture.status = None;
    f.capture.body_sha256 = None;
    f.capture.warc = Some(WarcRef {
        file: "warc/2023-11-14.warc.gz".into(),
        offset: 123_456_789_012,
        record_id: "<urn:uuid:0f2b>".into(),
    });
    f.capture.fetched_at = DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap();
    f.capture.title = "«Казино» — 'кавычки' \"и\" \\ слэш".into();
    let id = s.record_flagged(&f).await.unwrap()[0].case_id;
    let case = s.get_case(id).await.unwrap().unwrap();
    assert_eq!(case.source, f.capture.source);
    assert_eq!(case.host, "t.me");
    assert_eq!(case.url, "http://t.me/drop_kz/7");
    assert_eq!(case.evidence, vec![evidence::evidence_of(&f.capture)]);
    let summary = &s.list_cases(&CaseFilter::default()).await.unwrap()[0];
    assert_eq!(summary.source, "telegram");
    assert_eq!(summary.first_seen, f.capture.fetched_at);
}

async fn revisit_adds_evidence_bumps_last_seen_and_severity<S: Backend>(s: Arc<S>) {
    let first = flagged("http://casino.kz/", 1_700_000_000);
    let up = s.record_flagged(&first).await.unwrap();
    let id = id_of(&up, "illegal_gambling");
    let mut again = flagged("http://casino.kz/", 1_700_086_400);
    again.hits.retain(|h| h.category == "illegal_gambling");
    again.hits[0].severity = Severity::High;
    let up2 = s.record_flagged(&again).await.unwrap();
    assert_eq!(up2.len(), 1);
    assert_eq!((up2[0].case_id, up2[0].created), (id, false));
    // An older capture arriving late adds evidence but does not move last_seen back.
    let mut late = flagged("http://casino.kz/", 1_699_990_000);
    late.hits.retain(|h| h.category == "illegal_gambling");
    assert_eq!(s.record_flagged(&late).await.unwrap().len(), 1);

    let case = s.get_case(id).await.unwrap().unwrap();
    assert_eq!(case.evidence.len(), 3);
    assert_eq!(case.hits.len(), 6);
    assert_eq!(case.severity, Severity::High);
    assert_eq!(case.first_seen, first.capture.fetched_at);
    assert_eq!(case.last_seen, again.capture.fetched_at);
    let times: Vec<_> = case.evidence.iter().map(|e| e.captured_at).collect();
    assert_eq!(
        times,
        [
            late.capture.fetched_at,
            first.capture.fetched_at,
            again.capture.fetched_at
        ],
        "evidence oldest first"
    );
    let list = s.list_cases(&CaseFilter::default()).await.unwrap();
    assert_eq!(list[0].id, id, "newest activity first");
}

async fn hitless_flagged_is_invalid<S: Backend>(s: Arc<S>) {
    let mut f = flagged("http://casino.kz/", 1_700_000_000);
    f.hits.clear();
    assert!(matches!(
        s.record_flagged(&f).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(
        s.list_cases(&CaseFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn filters_and_sorting<S: Backend>(s: Arc<S>) {
    let web = s
        .record_flagged(&flagged("http://casino.kz/", 1_700_000_000))
        .await
        .unwrap();
    let tg = s
        .record_flagged(&telegram("drop_kz", 7, 1_700_000_500))
        .await
        .unwrap();
    let mut low = flagged("http://bonus.kz/", 1_700_001_000);
    low.hits.retain(|h| h.rule == "gambling.bonus");
    let low = s.record_flagged(&low).await.unwrap();
    let (fraud, gambling, tg, low) = (
        id_of(&web, "fraud_investment"),
        id_of(&web, "illegal_gambling"),
        tg[0].case_id,
        low[0].case_id,
    );
    s.start_review(gambling, "aigul").await.unwrap();
    let f = |status: Option<CaseStatus>, category: Option<&str>, source: Option<&str>| CaseFilter {
        status,
        category: category.map(str::to_string),
        source: source.map(str::to_string),
        ..CaseFilter::default()
    };
    let ids = |v: Vec<model::CaseSummary>| v.into_iter().map(|c| c.id).collect::<Vec<_>>();
    let table: Vec<(CaseFilter, Vec<i64>)> = vec![
        (CaseFilter::default(), vec![low, tg, gambling, fraud]),
        (
            f(None, Some("illegal_gambling"), None),
            vec![low, tg, gambling],
        ),
        (f(None, None, Some("telegram")), vec![tg]),
        (f(None, Some("fraud_investment"), Some("web")), vec![fraud]),
        (f(Some(CaseStatus::Dismissed), None, None), vec![]),
        (f(Some(CaseStatus::New), None, None), vec![low, tg, fraud]),
        (f(Some(CaseStatus::InReview), None, None), vec![gambling]),
        (
            CaseFilter {
                host: Some("t.me".into()),
                ..CaseFilter::default()
            },
            vec![tg],
        ),
        (
            CaseFilter {
                assignee: Some("aigul".into()),
                ..CaseFilter::default()
            },
            vec![gambling],
        ),
        (
            CaseFilter {
                limit: Some(3),
                ..CaseFilter::default()
            },
            vec![low, tg, gambling],
        ),
        (
            CaseFilter {
                sort: CaseSort::Oldest,
                ..CaseFilter::default()
            },
            vec![fraud, gambling, tg, low],
        ),
        (
            CaseFilter {
                sort: CaseSort::Severity,
                ..CaseFilter::default()
            },
            vec![fraud, tg, gambling, low],
        ),
        (
            CaseFilter {
                detected_before: Some(DateTime::from_timestamp(1_700_000_600, 0).unwrap()),
                ..CaseFilter::default()
            },
            vec![tg, gambling, fraud],
        ),
    ];
    for (filter, want) in table {
        let got = ids(s.list_cases(&filter).await.unwrap());
        assert_eq!(got, want, "{filter:?}");
    }
    // Decided-and-closed cases leave the overdue queue.
    s.decide(
        fraud,
        &Decision::Dismiss {
            reason: "сатира".into(),
        },
        "aigul",
    )
    .await
    .unwrap();
    let overdue = CaseFilter {
        detected_before: Some(Utc::now() + Duration::days(1)),
        ..CaseFilter::default()
    };
    assert_eq!(
        ids(s.list_cases(&overdue).await.unwrap()),
        vec![low, tg, gambling]
    );
}

async fn decisions_follow_the_workflow<S: Backend>(s: Arc<S>) {
    let up = s
        .record_flagged(&flagged("http://casino.kz/", 1_700_000_000))
        .await
        .unwrap();
    let (a, b) = (up[0].case_id, up[1].case_id);
    let confirm = Decision::Confirm {
        route: Route::Blocking,
        justification: "  лицензиясыз казино  ".into(),
    };
    let empty = Decision::Dismiss { reason: " ".into() };
    assert!(matches!(
        s.decide(a, &empty, "aigul").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.decide(a, &confirm, " ").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.decide(999, &confirm, "aigul").await,
        Err(StoreError::NotFound(999))
    ));
    assert!(matches!(
        s.start_review(999, "aigul").await,
        Err(StoreError::NotFound(999))
    ));
    assert!(s.events(a).await.is_empty(), "refusals change nothing");

    s.start_review(a, "aigul").await.unwrap();
    s.start_review(a, "bolat").await.unwrap(); // already in review: no change
    let c = s.get_case(a).await.unwrap().unwrap();
    assert_eq!(
        (c.status, c.assignee.as_deref()),
        (CaseStatus::InReview, Some("aigul"))
    );
    let case = s.decide(a, &confirm, "aigul").await.unwrap();
    assert_eq!(case.status, CaseStatus::Confirmed);
    assert_eq!(case.route, Some(Route::Blocking));
    assert_eq!(case.decision_note.as_deref(), Some("лицензиясыз казино"));
    assert_eq!(case.decided_by.as_deref(), Some("aigul"));
    assert_eq!(case.decided_at, case.status_since);
    assert!(case.decided_at.is_some());
    assert_eq!(case, s.get_case(a).await.unwrap().unwrap());
    assert!(matches!(
        s.decide(a, &confirm, "aigul").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.start_review(a, "aigul").await,
        Err(StoreError::Conflict(_))
    ));

    let case = s
        .decide(
            b,
            &Decision::Dismiss {
                reason: "сатира".into(),
            },
            "bolat",
        )
        .await
        .unwrap();
    assert_eq!((case.status, case.route), (CaseStatus::Dismissed, None));
    assert!(matches!(
        s.decide(b, &confirm, "bolat").await,
        Err(StoreError::Conflict(_))
    ));

    let tuple = |a: &str, f: &str, t: &str, who: &str| {
        (a.to_string(), f.to_string(), t.to_string(), who.to_string())
    };
    assert_eq!(
        s.events(a).await,
        vec![
            tuple("start_review", "new", "in_review", "aigul"),
            tuple("confirm", "in_review", "confirmed", "aigul"),
        ]
    );
    assert_eq!(
        s.events(b).await,
        vec![tuple("dismiss", "new", "dismissed", "bolat")]
    );
}

async fn screenshots_land_on_their_evidence<S: Backend>(s: Arc<S>) {
    let f = flagged("http://casino.kz/", 1_700_000_000);
    let up = s.record_flagged(&f).await.unwrap();
    let id = up[0].case_id;
    s.attach_screenshot(id, &f.capture.id, &shot("shots/a.png"))
        .await
        .unwrap();
    let case = s.get_case(id).await.unwrap().unwrap();
    assert_eq!(case.evidence[0].screenshot, Some(shot("shots/a.png")));
    // Taken again (a re-delivered request): the newer shot replaces it.
    s.attach_screenshot(id, &f.capture.id, &shot("shots/b.png"))
        .await
        .unwrap();
    let case = s.get_case(id).await.unwrap().unwrap();
    assert_eq!(case.evidence[0].screenshot, Some(shot("shots/b.png")));
    let list = s.list_cases(&CaseFilter::default()).await.unwrap();
    assert!(list.iter().find(|c| c.id == id).unwrap().has_screenshot);
    assert!(!list.iter().find(|c| c.id != id).unwrap().has_screenshot);

    let table: Vec<(i64, &str, Screenshot)> = vec![
        (999, f.capture.id.as_str(), shot("a.png")),
        (id, "no-such-capture", shot("a.png")),
        (up[1].case_id, "no-such-capture", shot("a.png")),
        (id, f.capture.id.as_str(), shot("../etc/passwd")),
        (id, f.capture.id.as_str(), shot("/abs.png")),
        (id, f.capture.id.as_str(), shot("")),
        (
            id,
            f.capture.id.as_str(),
            Screenshot {
                sha256: "XYZ".into(),
                ..shot("a.png")
            },
        ),
    ];
    for (case_id, capture_id, sh) in table {
        let err = s
            .attach_screenshot(case_id, capture_id, &sh)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound(_) | StoreError::Invalid(_)),
            "{case_id} {capture_id} {sh:?}: {err}"
        );
    }
    let case = s.get_case(id).await.unwrap().unwrap();
    assert_eq!(
        case.evidence[0].screenshot,
        Some(shot("shots/b.png")),
        "refusals change nothing"
    );
}

/// Workers receiving the same capture at once (at-least-once delivery, a redelivery racing the
/// original): one case per category, one evidence, each hit once, and exactly one of the
/// workers is told it opened each case (all of them that its evidence has no screenshot).
async fn concurrent_redeliveries_open_one_case<S: Backend>(s: Arc<S>) {
    let f = Arc::new(flagged("http://casino.kz/", 1_700_000_000));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (s, f) = (Arc::clone(&s), Arc::clone(&f));
            tokio::spawn(async move { s.record_flagged(&f).await })
        })
        .collect();
    let mut created: BTreeMap<String, u32> = BTreeMap::new();
    let mut ids = BTreeSet::new();
    for t in tasks {
        for u in t.await.unwrap().unwrap() {
            assert_eq!(
                u.created, u.evidence_added,
                "a re-delivery adds nothing: {u:?}"
            );
            assert!(u.needs_screenshot, "no screenshot yet: {u:?}");
            ids.insert(u.case_id);
            if u.created {
                *created.entry(u.category).or_default() += 1;
            }
        }
    }
    assert_eq!(
        created,
        BTreeMap::from([
            ("fraud_investment".to_string(), 1),
            ("illegal_gambling".to_string(), 1)
        ])
    );
    let list = s.list_cases(&CaseFilter::default()).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().map(|c| c.id).collect::<BTreeSet<_>>(), ids);
    for c in &list {
        let case = s.get_case(c.id).await.unwrap().unwrap();
        assert_eq!(case.evidence.len(), 1);
        let want = f.hits.iter().filter(|h| h.category == c.category).count();
        assert_eq!(case.hits.len(), want);
    }
}

/// Workers recording different captures of the same resources at once (overlapping categories):
/// still one case per category and resource, with every capture's evidence.
async fn concurrent_overlapping_captures_share_cases<S: Backend>(s: Arc<S>) {
    let mut batch = Vec::new();
    for i in 0..12 {
        let url = if i % 2 == 0 {
            "http://casino.kz/"
        } else {
            "http://mirror.kz/"
        };
        let mut f = flagged(url, 1_700_000_000 + i * 60);
        if i % 3 == 0 {
            f.hits.retain(|h| h.category == "illegal_gambling");
        }
        batch.push(f);
    }
    // Each capture twice, so redeliveries race too.
    let tasks: Vec<_> = batch
        .iter()
        .chain(batch.iter())
        .cloned()
        .map(|f| {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.record_flagged(&f).await })
        })
        .collect();
    let mut opened = 0;
    for t in tasks {
        opened += t
            .await
            .unwrap()
            .unwrap()
            .iter()
            .filter(|u| u.created)
            .count();
    }
    assert_eq!(opened, 4, "two categories on two resources");
    let list = s.list_cases(&CaseFilter::default()).await.unwrap();
    assert_eq!(list.len(), 4);
    for c in &list {
        let case = s.get_case(c.id).await.unwrap().unwrap();
        let want: Vec<&Flagged> = batch
            .iter()
            .filter(|f| f.capture.url == case.url)
            .filter(|f| f.hits.iter().any(|h| h.category == case.category))
            .collect();
        assert_eq!(case.evidence.len(), want.len(), "{}", case.dedup_key);
        let hits: usize = want
            .iter()
            .map(|f| {
                f.hits
                    .iter()
                    .filter(|h| h.category == case.category)
                    .count()
            })
            .sum();
        assert_eq!(case.hits.len(), hits, "{}", case.dedup_key);
        let last = want.iter().map(|f| f.capture.fetched_at).max().unwrap();
        assert_eq!(case.last_seen, last);
    }
}

/// Two analysts deciding one case at once: one wins, the other is told it was decided.
async fn concurrent_decisions_one_wins<S: Backend>(s: Arc<S>) {
    let up = s
        .record_flagged(&flagged("http://casino.kz/", 1_700_000_000))
        .await
        .unwrap();
    let id = up[0].case_id;
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                let d = if i % 2 == 0 {
                    Decision::Confirm {
                        route: Route::Criminal,
                        justification: format!("пирамида {i}"),
                    }
                } else {
                    Decision::Dismiss {
                        reason: format!("жарнама емес {i}"),
                    }
                };
                s.decide(id, &d, &format!("analyst{i}")).await
            })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => wins += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(wins, 1);
    let events = s.events(id).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let case = s.get_case(id).await.unwrap().unwrap();
    assert_eq!(case.decided_by.as_deref(), Some(events[0].3.as_str()));
}

/// Users `aigul` (analyst), `bolat` and `dana` (approvers).
pub(crate) async fn desk_users<S: Backend>(s: &S) {
    for (name, role) in [
        ("aigul", Role::Analyst),
        ("bolat", Role::Approver),
        ("dana", Role::Approver),
    ] {
        s.add_user(NewUser {
            name: name.into(),
            role: Some(role),
            full_name: format!("{name} full"),
            position: "директор".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    }
}

/// A case confirmed on `route`, with a screenshot.
pub(crate) async fn confirmed_case<S: Backend>(s: &S, url: &str, route: Route) -> i64 {
    let c = capture(url, 1_700_000_000);
    let h = hit(
        &c,
        "gambling.casino",
        "illegal_gambling",
        "казино",
        Severity::High,
    );
    let capture_id = c.id.clone();
    let id = s
        .record_flagged(&Flagged {
            capture: c,
            hits: vec![h],
        })
        .await
        .unwrap()[0]
        .case_id;
    s.attach_screenshot(id, &capture_id, &shot(&format!("screenshots/{id}.png")))
        .await
        .unwrap();
    s.decide(
        id,
        &Decision::Confirm {
            route,
            justification: "казино".into(),
        },
        "aigul",
    )
    .await
    .unwrap();
    id
}

fn taxonomy() -> Taxonomy {
    crate::notification::tests::taxonomy()
}

async fn status<S: Backend>(s: &S, id: i64) -> CaseStatus {
    s.get_case(id).await.unwrap().unwrap().status
}

async fn four_eyes_hash_binding_outbox_and_receipts<S: Backend>(s: Arc<S>) {
    desk_users(&*s).await;
    let tax = taxonomy();
    let a = confirmed_case(&*s, "http://casino.kz/", Route::Blocking).await;
    let b = confirmed_case(&*s, "http://casino-mirror.kz/", Route::Blocking).await;
    let crim = confirmed_case(&*s, "http://pyramid.kz/", Route::Criminal).await;
    let notifiable: Vec<i64> = s
        .notifiable_cases()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(notifiable, [a, b]);
    assert!(matches!(
        s.draft_notification(&[crim], &tax, "aigul").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.draft_notification(&[a, 999], &tax, "aigul").await,
        Err(StoreError::NotFound(999))
    ));
    assert_eq!(status(&*s, a).await, CaseStatus::Confirmed, "rolled back");

    // Drafted by an approver: that approver may not approve it.
    let n = s.draft_notification(&[a], &tax, "bolat").await.unwrap();
    assert_eq!(n.status, NotificationStatus::Draft);
    assert!(n.message_id.starts_with("baqylau-n-"));
    assert_eq!(n.case_ids(), [a]);
    assert_eq!(status(&*s, a).await, CaseStatus::NotificationDrafted);
    assert!(
        matches!(
            s.draft_notification(&[a], &tax, "aigul").await,
            Err(StoreError::Conflict(_))
        ),
        "a case goes into one notification"
    );
    let refused = s
        .approve_notification(n.id, &n.content_sha256, "bolat")
        .await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("four eyes")),
        "{refused:?}"
    );
    assert!(
        matches!(
            s.approve_notification(n.id, &n.content_sha256, "aigul")
                .await,
            Err(StoreError::Conflict(_))
        ),
        "analysts cannot approve"
    );
    assert!(matches!(
        s.approve_notification(n.id, &n.content_sha256, "nobody")
            .await,
        Err(StoreError::Invalid(_))
    ));

    // Revised in between: the approval of the old hash is refused.
    let old_hash = n.content_sha256.clone();
    let n = s
        .revise_notification(n.id, &[a, b], &tax, "aigul")
        .await
        .unwrap();
    assert_ne!(n.content_sha256, old_hash);
    assert_eq!(n.drafted_by, "aigul");
    assert!(matches!(
        s.approve_notification(n.id, &old_hash, "dana").await,
        Err(StoreError::Conflict(_))
    ));
    let n = s
        .approve_notification(n.id, &n.content_sha256, "bolat")
        .await
        .unwrap();
    assert!(n.approval_holds());
    assert_eq!(n.status, NotificationStatus::Approved);
    assert_eq!(n.signatory.as_ref().unwrap().full_name, "bolat full");
    assert_eq!(status(&*s, b).await, CaseStatus::Approved);
    assert_eq!(s.pending_outbox().await.unwrap().len(), 1);
    assert!(matches!(
        s.approve_notification(n.id, &n.content_sha256, "dana")
            .await,
        Err(StoreError::Conflict(_))
    ));

    // Any later edit voids the approval and takes the message out of the outbox.
    let n = s
        .revise_notification(n.id, &[a], &tax, "aigul")
        .await
        .unwrap();
    assert_eq!(n.status, NotificationStatus::Draft);
    assert!(!n.approval_holds() && n.signatory.is_none());
    assert!(s.pending_outbox().await.unwrap().is_empty());
    assert_eq!(status(&*s, b).await, CaseStatus::Confirmed);
    assert_eq!(status(&*s, a).await, CaseStatus::NotificationDrafted);
    let n = s
        .approve_notification(n.id, &n.content_sha256, "dana")
        .await
        .unwrap();
    let out = s.pending(std::time::Duration::from_secs(60)).await.unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].message_id, n.message_id,
        "message id = notification's"
    );
    assert_eq!(out[0].notification_id, n.id);
    let payload: Payload = serde_json::from_str(&out[0].payload).unwrap();
    assert_eq!(payload.content_sha256, n.content_sha256);
    assert_eq!(payload.content, n.content);
    assert_eq!(payload.signatory.user, "dana");

    assert!(
        s.record_receipt(n.id, 1, Verdict::Accepted, "", "aigul")
            .await
            .is_err(),
        "not sent yet"
    );
    s.published(out[0].outbox_id, "test").await.unwrap();
    s.published(out[0].outbox_id, "test").await.unwrap(); // idempotent
    assert!(s.pending_outbox().await.unwrap().is_empty());
    let sent = s.notification(n.id).await.unwrap().unwrap();
    assert_eq!(sent.status, NotificationStatus::Sent);
    assert!(sent.sent_at.is_some());
    assert!(matches!(
        s.revise_notification(n.id, &[a, b], &tax, "aigul").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(status(&*s, a).await, CaseStatus::Sent);
    assert!(
        s.record_receipt(n.id, 1, Verdict::Rejected, " ", "aigul")
            .await
            .is_err()
    );
    assert!(matches!(
        s.record_receipt(n.id, 2, Verdict::Accepted, "", "aigul")
            .await,
        Err(StoreError::Invalid(_))
    ));
    let n = s
        .record_receipt(n.id, 1, Verdict::Rejected, "ресурс недоступен", "aigul")
        .await
        .unwrap();
    assert_eq!(n.receipts.len(), 1);
    assert_eq!(n.receipts[0].verdict, Verdict::Rejected);
    assert_eq!(n.receipts[0].case_id, a);
    assert_eq!(status(&*s, a).await, CaseStatus::Rejected);
    assert!(matches!(
        s.record_receipt(n.id, 1, Verdict::Accepted, "", "aigul")
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(s.notifications(Some(a)).await.unwrap().len(), 1);
    assert!(s.notifications(Some(b)).await.unwrap().is_empty());
    assert_eq!(s.notifications(None).await.unwrap().len(), 1);
    assert!(s.notification(999).await.unwrap().is_none());

    let trail: Vec<String> = s
        .events(a)
        .await
        .into_iter()
        .map(|(action, _, to, _)| format!("{action}>{to}"))
        .collect();
    assert_eq!(
        trail,
        [
            "confirm>confirmed",
            "notification.draft>notification_drafted",
            "notification.approve>approved",
            "notification.revise>notification_drafted",
            "notification.approve>approved",
            "notification.sent>sent",
            "notification.receipt>rejected",
        ]
    );
    let audit = s.verify_audit().await.unwrap();
    assert_eq!(audit.broken, None);
    let actions: Vec<String> = s
        .audit_entries(Some(&format!("notification:{}", n.id)), 100)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "notification.draft",
            "notification.revise",
            "notification.approve",
            "notification.approval_voided",
            "notification.revise",
            "notification.approve",
            "notification.sent",
            "notification.receipt",
        ]
    );
}

/// A sink that fails the first `fail` calls, then records what it got.
struct Flaky {
    fail: std::sync::Mutex<u32>,
    got: std::sync::Mutex<Vec<String>>,
}

#[async_trait]
impl NotificationSink for Flaky {
    fn describe(&self) -> String {
        "flaky".into()
    }
    async fn publish(&self, msg: &OutboxMessage, _: &Payload) -> Result<(), String> {
        {
            let mut f = self.fail.lock().unwrap();
            if *f > 0 {
                *f -= 1;
                return Err("broker down".into());
            }
        }
        self.got.lock().unwrap().push(msg.message_id.clone());
        Ok(())
    }
}

/// An approved notification over one case (by `aigul`, approved by `bolat`).
pub(crate) async fn approved_notification<S: Backend>(s: &S, url: &str) -> Notification {
    let a = confirmed_case(s, url, Route::Blocking).await;
    let n = s
        .draft_notification(&[a], &taxonomy(), "aigul")
        .await
        .unwrap();
    s.approve_notification(n.id, &n.content_sha256, "bolat")
        .await
        .unwrap()
}

async fn relay_retries_then_publishes_once<S: Backend>(s: Arc<S>) {
    desk_users(&*s).await;
    let n1 = approved_notification(&*s, "http://casino.kz/").await;
    let n2 = approved_notification(&*s, "http://casino-mirror.kz/").await;
    let sink = Arc::new(Flaky {
        fail: std::sync::Mutex::new(1),
        got: std::sync::Mutex::new(vec![]),
    });
    let relay = Relay::new(
        Arc::clone(&s) as Arc<dyn OutboxStore>,
        sink.clone(),
        Arc::new(tokio::sync::Notify::new()),
    );
    assert_eq!(
        relay.run_once().await.unwrap(),
        1,
        "the first attempt fails"
    );
    let left = s.pending_outbox().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0].message_id.as_str(), left[0].attempts),
        (n1.message_id.as_str(), 1)
    );
    assert_eq!(relay.run_once().await.unwrap(), 1);
    assert_eq!(relay.run_once().await.unwrap(), 0, "nothing left");
    assert_eq!(
        *sink.got.lock().unwrap(),
        vec![n2.message_id.clone(), n1.message_id.clone()]
    );
    for n in [n1, n2] {
        let n = s.notification(n.id).await.unwrap().unwrap();
        assert_eq!(n.status, NotificationStatus::Sent);
        assert_eq!(status(&*s, n.case_ids()[0]).await, CaseStatus::Sent);
    }
}

/// More messages than one claim holds are all published by one pass, in order.
async fn relay_pass_takes_claim_after_claim<S: Backend>(s: Arc<S>) {
    desk_users(&*s).await;
    let mut ids = Vec::new();
    for i in 0..11 {
        let n = approved_notification(&*s, &format!("http://casino{i}.kz/")).await;
        ids.push(n.message_id);
    }
    let sink = Arc::new(Flaky {
        fail: std::sync::Mutex::new(0),
        got: std::sync::Mutex::new(vec![]),
    });
    let relay = Relay::new(
        Arc::clone(&s) as Arc<dyn OutboxStore>,
        sink.clone(),
        Arc::new(tokio::sync::Notify::new()),
    );
    assert_eq!(relay.run_once().await.unwrap(), 11);
    assert_eq!(*sink.got.lock().unwrap(), ids);
    assert!(s.pending_outbox().await.unwrap().is_empty());
}

/// Two approvers approving one draft at once: one approval, one outbox message.
async fn concurrent_approvals_one_wins<S: Backend>(s: Arc<S>) {
    desk_users(&*s).await;
    let a = confirmed_case(&*s, "http://casino.kz/", Route::Blocking).await;
    let n = s
        .draft_notification(&[a], &taxonomy(), "aigul")
        .await
        .unwrap();
    let tasks: Vec<_> = ["bolat", "dana", "bolat", "dana"]
        .into_iter()
        .map(|who| {
            let (s, hash) = (Arc::clone(&s), n.content_sha256.clone());
            tokio::spawn(async move { s.approve_notification(n.id, &hash, who).await })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => wins += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(s.pending_outbox().await.unwrap().len(), 1);
    assert_eq!(s.verify_audit().await.unwrap().broken, None);
}

/// Two desks drafting over the same case at once: it lands in one notification.
async fn concurrent_drafts_take_a_case_once<S: Backend>(s: Arc<S>) {
    desk_users(&*s).await;
    let a = confirmed_case(&*s, "http://casino.kz/", Route::Blocking).await;
    let b = confirmed_case(&*s, "http://casino-mirror.kz/", Route::Blocking).await;
    let tasks: Vec<_> = [vec![a], vec![a, b], vec![b, a], vec![b]]
        .into_iter()
        .map(|ids| {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.draft_notification(&ids, &taxonomy(), "aigul").await })
        })
        .collect();
    let mut taken = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(n) => taken.extend(n.case_ids()),
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    taken.sort_unstable();
    assert_eq!(taken, [a, b], "each case in exactly one notification");
    let mut in_notifications: Vec<i64> = s
        .notifications(None)
        .await
        .unwrap()
        .iter()
        .flat_map(|n| n.case_ids())
        .collect();
    in_notifications.sort_unstable();
    assert_eq!(in_notifications, [a, b]);
}

/// Writers appending to the audit log at once never fork the chain.
async fn concurrent_audit_appends_keep_one_chain<S: Backend>(s: Arc<S>) {
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                s.audit("aigul", "case.view", &format!("case:{i}"), "{}")
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let report = s.verify_audit().await.unwrap();
    assert_eq!((report.entries, report.broken), (16, None));
    let head = s.audit_entries(None, 1).await.unwrap();
    assert_eq!(head[0].hash, report.head);
    assert_eq!(head[0].seq, 16);
    assert_eq!(s.audit_entries(Some("case:3"), 10).await.unwrap().len(), 1);
}

fn person(name: &str, role: Role) -> NewUser {
    NewUser {
        name: name.into(),
        role: Some(role),
        password: Some("correct horse battery".into()),
        full_name: "Сейтқали Айгүл".into(),
        email: format!("{name}@afm.gov.kz"),
        ..NewUser::default()
    }
}

async fn users_logins_sessions_and_tokens<S: Backend>(s: Arc<S>) {
    let (a, secret) = s.add_user(person("aigul", Role::Analyst)).await.unwrap();
    assert!(secret.is_none() && !a.has_totp && !a.disabled);
    assert_eq!(a.full_name, "Сейтқали Айгүл");
    let (b, secret) = s.add_user(person("bolat", Role::Approver)).await.unwrap();
    let secret = secret.expect("approvers get a TOTP secret");
    assert!(b.has_totp);
    assert!(matches!(
        s.add_user(person("aigul", Role::Admin)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.add_user(person("a b", Role::Admin)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.add_user(NewUser {
            role: None,
            ..person("nobody", Role::Admin)
        })
        .await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(s.user("aigul").await.unwrap(), Some(a.clone()));
    assert!(s.user("nobody").await.unwrap().is_none());
    let names: Vec<String> = s
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["aigul", "bolat"]);

    let now = Utc::now();
    let login = |n: &'static str, p: &'static str, c: Option<String>| {
        let s = Arc::clone(&s);
        async move { s.check_login(n, p, c.as_deref(), now).await.unwrap() }
    };
    assert_eq!(
        login("aigul", "correct horse battery", None)
            .await
            .unwrap()
            .id,
        a.id
    );
    assert_eq!(
        login("aigul", "wrong", None).await,
        Err(LoginFailure::BadCredentials)
    );
    assert_eq!(
        login("nobody", "correct horse battery", None).await,
        Err(LoginFailure::BadCredentials)
    );
    assert_eq!(
        login("bolat", "correct horse battery", None).await,
        Err(LoginFailure::BadTotp)
    );
    let code = totp::code_at(&secret, now.timestamp()).unwrap();
    assert_eq!(
        login("bolat", "correct horse battery", Some(code.clone()))
            .await
            .unwrap()
            .id,
        b.id
    );
    assert_eq!(
        login("bolat", "correct horse battery", Some(code)).await,
        Err(LoginFailure::BadTotp),
        "a code logs in once"
    );

    let (cookie, csrf) = s.create_session(a.id, Duration::hours(8)).await.unwrap();
    let sess = s.session(&cookie).await.unwrap().unwrap();
    assert_eq!((sess.user.id, sess.csrf.as_str()), (a.id, csrf.as_str()));
    assert!(sess.user.last_active_at.is_some());
    assert!(s.session("forged").await.unwrap().is_none());
    let (expired, _) = s.create_session(a.id, Duration::seconds(-1)).await.unwrap();
    assert!(s.session(&expired).await.unwrap().is_none(), "expired");
    s.end_session(&cookie).await.unwrap();
    assert!(s.session(&cookie).await.unwrap().is_none(), "logged out");

    let token = s.create_token("aigul").await.unwrap();
    assert!(token.starts_with("bq_"));
    assert_eq!(s.token_user(&token).await.unwrap().unwrap().id, a.id);
    assert!(s.token_user("bq_forged").await.unwrap().is_none());
    assert!(matches!(
        s.create_token("nobody").await,
        Err(StoreError::Invalid(_))
    ));
    // Active before `since` counts as inactive as much as never active.
    let active_before: Vec<String> = s
        .inactive_users(Utc::now() + Duration::days(1))
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(active_before, ["aigul", "bolat"]);
    let (cookie, _) = s.create_session(a.id, Duration::hours(8)).await.unwrap();
    s.set_disabled("aigul", true).await.unwrap();
    assert!(s.session(&cookie).await.unwrap().is_none());
    assert!(s.token_user(&token).await.unwrap().is_none());
    assert_eq!(
        login("aigul", "correct horse battery", None).await,
        Err(LoginFailure::Disabled)
    );
    assert!(matches!(
        s.set_disabled("nobody", true).await,
        Err(StoreError::Invalid(_))
    ));
    // Disabled accounts are not listed as inactive; never-active enabled ones are.
    let later = Utc::now() + Duration::days(1);
    let inactive: Vec<String> = s
        .inactive_users(later)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(inactive, ["bolat"]);
    assert!(
        s.inactive_users(now - Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );
}

const CASINO: &str = "Лучшее онлайн казино Казахстана без верификации. Бонус 200% на первый \
    депозит, фриспины каждый день, вывод на карту 4111 1111 1111 1111 за 5 минут. Играйте в \
    слоты, рулетку и покер, зеркало работает всегда, пишите @casino_support";

/// A case on `url` whose capture carries the indicators the classifier would have found in
/// `text`.
async fn linked_case<S: Backend>(s: &S, url: &str, text: &str) -> i64 {
    let mut c = capture(url, 1_700_000_000);
    c.text = text.into();
    let known = [
        ("card", "4111 1111 1111 1111", "4111111111111111"),
        ("telegram", "@casino_support", "casino_support"),
        ("percent_per_period", "200% на первый", "200% на первый"),
    ];
    c.indicators = known
        .iter()
        .filter(|(_, written, _)| text.contains(written))
        .map(|(kind, written, value)| {
            let start = text.find(written).unwrap();
            model::Indicator {
                kind: (*kind).into(),
                value: (*value).into(),
                field: model::Field::Text,
                start,
                end: start + written.len(),
            }
        })
        .collect();
    let h = hit(
        &c,
        "gambling.casino",
        "illegal_gambling",
        "казино",
        Severity::High,
    );
    s.record_flagged(&Flagged {
        capture: c,
        hits: vec![h],
    })
    .await
    .unwrap()[0]
        .case_id
}

async fn mirrors_and_shared_indicators_are_related<S: Backend>(s: Arc<S>) {
    let a = linked_case(&*s, "http://casino.kz/", CASINO).await;
    let mirror = linked_case(
        &*s,
        "http://casino-mirror.kz/",
        &CASINO.replace("всегда", "круглосуточно"),
    )
    .await;
    let other = linked_case(
        &*s,
        "http://t.me/drops/1",
        "Аренда карт для казино, пишите @casino_support, оплата каждый день",
    )
    .await;
    let unrelated = linked_case(&*s, "http://news.kz/", "Бір жолдық жаңалық: казино жабылды").await;
    let rel = s.related(a).await.unwrap();
    let ids: Vec<i64> = rel.iter().map(|r| r.case_id).collect();
    assert_eq!(ids, [mirror, other]);
    assert!(
        rel[0]
            .links
            .iter()
            .any(|l| matches!(l, Link::NearDuplicate { .. }))
    );
    assert!(rel[0].links.contains(&Link::Shared {
        indicator: Kind::Card,
        value: "4111111111111111".into()
    }));
    assert_eq!(
        rel[1].links,
        [Link::Shared {
            indicator: Kind::Telegram,
            value: "casino_support".into()
        }]
    );
    assert_eq!(
        (rel[1].status.as_str(), rel[1].category.as_str()),
        ("new", "illegal_gambling")
    );
    assert!(s.related(unrelated).await.unwrap().is_empty());
    assert_eq!(
        s.case_indicators(a).await.unwrap(),
        [
            (Kind::Card, "4111111111111111".to_string()),
            (Kind::Telegram, "casino_support".to_string())
        ]
    );
    assert!(matches!(
        s.related(999).await,
        Err(StoreError::NotFound(999))
    ));
}

async fn assign_comment_merge<S: Backend>(s: Arc<S>) {
    for (name, role) in [("aigul", Role::Analyst), ("dana", Role::Admin)] {
        s.add_user(NewUser {
            name: name.into(),
            role: Some(role),
            ..NewUser::default()
        })
        .await
        .unwrap();
    }
    let a = linked_case(&*s, "http://casino.kz/", CASINO).await;
    let b = linked_case(&*s, "http://casino.kz/?ref=1", CASINO).await;
    s.assign(a, Some("aigul"), "aigul").await.unwrap();
    assert!(matches!(
        s.assign(a, Some("dana"), "aigul").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.assign(a, Some("nobody"), "aigul").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.assign(999, None, "aigul").await,
        Err(StoreError::NotFound(999))
    ));
    assert_eq!(
        s.get_case(a).await.unwrap().unwrap().assignee.as_deref(),
        Some("aigul")
    );
    let mine = CaseFilter {
        assignee: Some("aigul".into()),
        ..Default::default()
    };
    assert_eq!(s.list_cases(&mine).await.unwrap().len(), 1);

    s.add_comment(a, "aigul", "  айна сайт  ").await.unwrap();
    assert!(matches!(
        s.add_comment(a, "aigul", " ").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.add_comment(999, "aigul", "x").await,
        Err(StoreError::NotFound(999))
    ));
    let cs = s.comments(a).await.unwrap();
    assert_eq!(cs.len(), 1);
    assert_eq!(
        (cs[0].author.as_str(), cs[0].body.as_str()),
        ("aigul", "айна сайт")
    );

    assert!(matches!(
        s.merge(a, a, "aigul").await,
        Err(StoreError::Invalid(_))
    ));
    s.merge(b, a, "aigul").await.unwrap();
    assert!(matches!(
        s.merge(a, b, "aigul").await,
        Err(StoreError::Conflict(_))
    ));
    let list = s.list_cases(&CaseFilter::default()).await.unwrap();
    assert_eq!(
        list.iter().map(|c| c.id).collect::<Vec<_>>(),
        [a],
        "merged cases leave the queue"
    );
    let all = CaseFilter {
        include_merged: true,
        ..Default::default()
    };
    assert_eq!(s.list_cases(&all).await.unwrap().len(), 2);
    assert_eq!(s.get_case(b).await.unwrap().unwrap().merged_into, Some(a));
    assert!(
        s.related(a)
            .await
            .unwrap()
            .iter()
            .any(|r| r.case_id == b && r.links.contains(&Link::Merged))
    );
    let actions: Vec<String> = s
        .audit_entries(None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["case.merge", "case.comment", "case.assign"]);
}

async fn sent_cases_come_due_for_rechecks<S: Backend>(s: Arc<S>) {
    desk_users(&*s).await;
    let n = approved_notification(&*s, "http://casino.kz/").await;
    assert!(
        s.rechecks_due(Duration::zero()).await.unwrap().is_empty(),
        "not sent yet"
    );
    let out = s.pending(std::time::Duration::from_secs(60)).await.unwrap();
    s.published(out[0].outbox_id, "test").await.unwrap();
    let due = s.rechecks_due(Duration::seconds(-1)).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].case_id, n.case_ids()[0]);
    assert_eq!(
        due[0].url, "http://casino.kz/?r=1",
        "the evidence's final URL"
    );
    assert!(due[0].evidence_sha256.is_some());
    assert!(
        s.rechecks_due(Duration::hours(1)).await.unwrap().is_empty(),
        "just sent"
    );
    let t = &due[0];
    let moved = Observation::Answer {
        status: 200,
        final_url: "http://casino-new.kz/".into(),
        body_sha256: "x".into(),
        body_start: String::new(),
    };
    let r = s.record_recheck(t, &moved).await.unwrap();
    assert_eq!(r.outcome, Outcome::Moved);
    assert_eq!(r.mirror_url.as_deref(), Some("http://casino-new.kz/"));
    let r = s
        .record_recheck(
            t,
            &Observation::Failed {
                error: "connection refused".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(r.outcome, Outcome::Unreachable);
    let all = s.rechecks(t.case_id).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].outcome, Outcome::Unreachable);
    assert_eq!(all[1].http_status, Some(200));
    assert_eq!(all[1].final_url.as_deref(), Some("http://casino-new.kz/"));
    assert!(s.rechecks_due(Duration::hours(1)).await.unwrap().is_empty());
    assert_eq!(s.verify_audit().await.unwrap().broken, None);
}

/// Two re-check passes on one desk split the due cases between them; a claim expires.
async fn recheck_claims_split_due_cases<S: Backend>(s: Arc<S>) {
    desk_users(&*s).await;
    let mut sent = Vec::new();
    for url in [
        "http://casino.kz/",
        "http://casino-2.kz/",
        "http://casino-3.kz/",
    ] {
        sent.push(approved_notification(&*s, url).await.case_ids()[0]);
    }
    for m in s.pending(std::time::Duration::from_secs(60)).await.unwrap() {
        s.published(m.outbox_id, "test").await.unwrap();
    }
    let ids = |t: Vec<Target>| t.into_iter().map(|t| t.case_id).collect::<Vec<_>>();
    let (due, hour) = (Duration::seconds(-1), Duration::hours(1));
    assert!(
        s.claim_rechecks(hour, hour, 8).await.unwrap().is_empty(),
        "just sent: not due"
    );
    // Two passes at once: each case goes to exactly one of them.
    let (a, b) = tokio::join!(
        s.claim_rechecks(due, hour, 2),
        s.claim_rechecks(due, hour, 2)
    );
    let (a, b) = (ids(a.unwrap()), ids(b.unwrap()));
    assert!(a.len() <= 2 && b.len() <= 2, "{a:?} {b:?}");
    let mut both: Vec<i64> = a.iter().chain(&b).copied().collect();
    both.sort_unstable();
    assert_eq!(both, sent, "disjoint, and together every due case");
    assert!(
        s.claim_rechecks(due, hour, 8).await.unwrap().is_empty(),
        "all claimed"
    );
    assert_eq!(
        ids(s.rechecks_due(due).await.unwrap()),
        sent,
        "claims do not hide due cases from the listing"
    );

    // A claim that expired (its pass died) is taken again.
    let mut fresh = Vec::new();
    for url in ["http://casino-4.kz/", "http://casino-5.kz/"] {
        fresh.push(approved_notification(&*s, url).await.case_ids()[0]);
    }
    for m in s.pending(std::time::Duration::from_secs(60)).await.unwrap() {
        s.published(m.outbox_id, "test").await.unwrap();
    }
    assert_eq!(
        ids(s.claim_rechecks(due, due, 1).await.unwrap()),
        [fresh[0]]
    );
    assert_eq!(ids(s.claim_rechecks(due, hour, 8).await.unwrap()), fresh);
}

/// Mobile first, then desktop: both kept, the desktop one shown; a new shot replaces its
/// viewport only.
async fn desktop_and_mobile_screenshots_are_both_kept<S: Backend>(store: Arc<S>) {
    let f = flagged("http://casino.kz/", 1_700_000_000);
    let id = store.record_flagged(&f).await.unwrap()[0].case_id;
    let cap = f.capture.id.as_str();
    let mobile = Screenshot {
        sha256: model::sha256_hex(b"mobile png"),
        width: 780,
        height: 9000,
        ..shot("shots/m.png")
    };
    // Mobile first: the evidence shows it until a desktop shot arrives.
    store
        .attach_screenshot_on(id, cap, Viewport::Mobile, &mobile)
        .await
        .unwrap();
    let case = store.get_case(id).await.unwrap().unwrap();
    assert_eq!(case.evidence[0].screenshot.as_ref(), Some(&mobile));
    let list = store.list_cases(&CaseFilter::default()).await.unwrap();
    assert!(list.iter().find(|c| c.id == id).unwrap().has_screenshot);
    store
        .attach_screenshot(id, cap, &shot("shots/d.png"))
        .await
        .unwrap();
    let case = store.get_case(id).await.unwrap().unwrap();
    assert_eq!(case.evidence[0].screenshot, Some(shot("shots/d.png")));
    assert_eq!(
        store.screenshots(id, cap).await.unwrap(),
        vec![
            (Viewport::Desktop, shot("shots/d.png")),
            (Viewport::Mobile, mobile.clone())
        ]
    );
    // A second shot of a viewport replaces the first; the other viewport is untouched.
    store
        .attach_screenshot_on(id, cap, Viewport::Desktop, &shot("shots/d2.png"))
        .await
        .unwrap();
    assert_eq!(
        store.screenshots(id, cap).await.unwrap(),
        vec![
            (Viewport::Desktop, shot("shots/d2.png")),
            (Viewport::Mobile, mobile)
        ]
    );
    assert!(
        store
            .screenshots(id, "no-such-capture")
            .await
            .unwrap()
            .is_empty()
    );
    let err = store
        .attach_screenshot_on(id, "no-such-capture", Viewport::Mobile, &shot("a.png"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
}

/// Two captures of one case keep their screenshots apart.
async fn each_capture_keeps_its_desktop_and_mobile_screenshots<S: Backend>(s: Arc<S>) {
    let first = flagged("http://casino.kz/", 1_700_000_000);
    let id = s.record_flagged(&first).await.unwrap()[0].case_id;
    let mut again = flagged("http://casino.kz/", 1_700_000_600);
    again.hits.retain(|h| h.category == "fraud_investment");
    assert_eq!(s.record_flagged(&again).await.unwrap()[0].case_id, id);

    let (desk, phone) = (shot("shots/desk.png"), shot("shots/phone.png"));
    s.attach_screenshot_on(id, &first.capture.id, Viewport::Mobile, &phone)
        .await
        .unwrap();
    s.attach_screenshot(id, &first.capture.id, &desk)
        .await
        .unwrap();
    s.attach_screenshot_on(id, &again.capture.id, Viewport::Mobile, &phone)
        .await
        .unwrap();
    assert_eq!(
        s.screenshots(id, &first.capture.id).await.unwrap(),
        vec![
            (Viewport::Desktop, desk.clone()),
            (Viewport::Mobile, phone.clone())
        ]
    );
    assert_eq!(
        s.screenshots(id, &again.capture.id).await.unwrap(),
        vec![(Viewport::Mobile, phone.clone())]
    );
    assert!(s.screenshots(id, "other").await.unwrap().is_empty());
    let case = s.get_case(id).await.unwrap().unwrap();
    assert_eq!(case.evidence[0].screenshot, Some(desk), "desktop first");
    assert_eq!(
        case.evidence[1].screenshot,
        Some(phone),
        "mobile when it is the only one"
    );
}

/// Instantiates each check for SQLite and PostgreSQL.
macro_rules! suite {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let f = super::SqliteFixture::new();
                    super::$check(Arc::clone(&f.store)).await;
                }
            )*
            use std::sync::Arc;
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let f = super::PgFixture::new().await;
                    super::$check(Arc::clone(&f.store)).await;
                }
            )*
            use std::sync::Arc;
        }
    };
}

suite!(
    record_one_case_per_category_and_redelivery_adds_nothing,
    redelivery_reports_evidence_without_a_screenshot,
    evidence_round_trips_every_field,
    revisit_adds_evidence_bumps_last_seen_and_severity,
    hitless_flagged_is_invalid,
    filters_and_sorting,
    decisions_follow_the_workflow,
    screenshots_land_on_their_evidence,
    desktop_and_mobile_screenshots_are_both_kept,
    each_capture_keeps_its_desktop_and_mobile_screenshots,
    concurrent_redeliveries_open_one_case,
    concurrent_overlapping_captures_share_cases,
    concurrent_decisions_one_wins,
    four_eyes_hash_binding_outbox_and_receipts,
    relay_retries_then_publishes_once,
    relay_pass_takes_claim_after_claim,
    concurrent_approvals_one_wins,
    concurrent_drafts_take_a_case_once,
    concurrent_audit_appends_keep_one_chain,
    users_logins_sessions_and_tokens,
    mirrors_and_shared_indicators_are_related,
    assign_comment_merge,
    sent_cases_come_due_for_rechecks,
    recheck_claims_split_due_cases,
);
