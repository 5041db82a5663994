//! Fault injection in distributed mode, against the real RabbitMQ and PostgreSQL: workers killed
//! with SIGKILL and restarted, every broker connection dropped, the broker's application stopped
//! and started, while the bundled fixture web is crawled and notifications are relayed.
//!
//! Each test runs a full deployment (crawler, indexer, classifier, reporter, screenshot) in its
//! own queue prefix and schema, injects its faults mid-run, and then holds the run to what the
//! design promises — at-least-once delivery made exactly-once by idempotent consumers:
//!
//! - every URL the embedded run (`baqylau demo --once`) crawled ends in the same state in the
//!   shared frontier (fetched, or denied by robots.txt), nothing left queued or in flight;
//! - the `(category, resource)` cases are exactly the embedded run's, none opened twice (no
//!   dedup key twice), each with its screenshot; every queue drained, nothing dead-lettered;
//! - every approved notification reaches a consumer bound before the first publish, and is sent
//!   once in PostgreSQL (status, one `notification.sent` audit entry). A message id read twice
//!   must carry identical bytes and belong to a publish the test knows was cut off between the
//!   broker's confirm and the relay's commit (the one window the outbox design leaves open);
//!   anything else is a failure.
//!
//! Stopping the broker's application takes it away from every client on the machine, and
//! closing all connections closes everyone's: the tests of this binary run one at a time (a
//! global lock), and a stopped broker is started again by a drop guard even when a test fails.
//! RabbitMQ, `rabbitmqctl`, PostgreSQL and Chromium must be present; nothing is skipped.

mod cluster;
#[allow(dead_code)]
mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use cluster::{Cluster, NotificationTap, Web, Worker, metric, rabbitmqctl, stop_broker_app};
use model::CaseStore;
use reporter::PgCaseStore;
use reporter::store::notifications::{Notification, NotificationStatus, Payload};
use util::{Dir, baqylau, run, stderr, stdout};

/// Outbox claim lease of the reporters here: a killed relay's claimed notifications go out this
/// long after the kill instead of the production default's five minutes.
const OUTBOX_LEASE: &str = "8s";

/// One test at a time: the broker faults hit every client of the broker.
fn exclusive() -> MutexGuard<'static, ()> {
    static ONE: Mutex<()> = Mutex::new(());
    ONE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Polls `check` every 500 ms until it returns `Ok`; after `limit` fails with `what` and the
/// last reason `check` gave.
fn wait_until<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
    let started = Instant::now();
    loop {
        match check() {
            Ok(v) => return v,
            Err(why) => assert!(
                started.elapsed() < limit,
                "timed out after {limit:?}: {what}; last: {why}"
            ),
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// What the embedded run over the same fixture web produced.
struct Reference {
    /// `(category, url)` of every case.
    cases: BTreeSet<(String, String)>,
    /// `url → state` of every URL of its frontier.
    urls: BTreeMap<String, String>,
}

/// The embedded run, once per test binary (with Chromium: it also renders the fixture's
/// script-only pages, as the crawler workers do).
fn reference() -> &'static Reference {
    static REFERENCE: OnceLock<Reference> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let dir = Dir::new("faults-reference");
        let data = dir.path().join("data");
        let out = run(baqylau()
            .args(["demo", "--once", "--json", "--data"])
            .arg(&data));
        assert!(
            out.status.success(),
            "embedded demo failed: {}{}",
            stdout(&out),
            stderr(&out)
        );
        let store =
            reporter::SqliteCaseStore::open(&data.join("cases.sqlite")).expect("cases.sqlite");
        let cases = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(store.list_cases(&model::CaseFilter::default()))
            .expect("list cases");
        let db = rusqlite::Connection::open(data.join(crawler::DB_FILE)).expect("crawler.sqlite");
        let urls = db
            .prepare("SELECT url, state FROM urls")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<BTreeMap<String, String>, _>>()
            .unwrap();
        let r = Reference {
            cases: cases.into_iter().map(|c| (c.category, c.url)).collect(),
            urls,
        };
        assert!(r.cases.len() > 10, "the embedded run found {:?}", r.cases);
        assert!(r.urls.len() > 50, "the embedded run crawled {:?}", r.urls);
        r
    })
}

/// A full deployment on the fixture web. Fields drop in order: the workers go before the
/// cluster deletes its queues (a live worker would declare them again).
struct Deployment {
    crawler: Worker,
    reporter: Worker,
    /// Indexer, classifier, screenshot.
    others: Vec<Worker>,
    web: Web,
    c: Cluster,
    started: Instant,
}

impl Deployment {
    /// Every role running (the crawler last, under `crawler_id`), nothing seeded yet.
    fn start(name: &str, crawler_id: &str) -> Deployment {
        let started = Instant::now();
        let c = Cluster::new(name);
        let web = c.start_web();
        let others = vec![
            c.worker("indexer", &[]),
            c.worker("classifier", &[]),
            c.worker("screenshot", &resolve_args(&web)),
        ];
        let reporter = c.worker("reporter", &reporter_args());
        let crawler = c.worker("crawler", &crawler_args(&web, crawler_id));
        let d = Deployment {
            c,
            web,
            crawler,
            reporter,
            others,
            started,
        };
        d.note("workers ready");
        d
    }

    /// Progress lines on stderr (`--nocapture` shows the timeline of a run).
    fn note(&self, what: &str) {
        eprintln!(
            "[{} {:6.1}s] {what}",
            self.c.prefix,
            self.started.elapsed().as_secs_f64()
        );
    }

    fn seed(&self) {
        self.c.seed(&self.web.seeds);
        self.note("seeded");
    }

    fn restart_crawler(&mut self, id: &str) {
        self.crawler = self
            .c
            .restart_worker("crawler", "crawler", &crawler_args(&self.web, id));
        self.note(&format!("crawler restarted as {id}"));
    }

    /// SIGKILL for the indexer, classifier or screenshot worker, then a restart.
    fn kill_and_restart(&mut self, role: &str) {
        let i = self
            .others
            .iter()
            .position(|w| w.name == role)
            .expect("a worker of that role");
        self.others[i].kill9_tree();
        let args = if role == "screenshot" {
            resolve_args(&self.web)
        } else {
            vec![]
        };
        self.others[i] = self.c.restart_worker(role, role, &args);
        self.note(&format!("{role} killed and restarted"));
    }

    fn restart_reporter(&mut self) {
        self.reporter = self
            .c
            .restart_worker("reporter", "reporter", &reporter_args());
        self.note("reporter restarted");
    }

    /// URLs fetched so far (the shared frontier's `done` count, as the crawler exposes it).
    fn fetched(&self) -> Result<u64, String> {
        let m = self.crawler.metrics();
        metric(&m, "baqylau_frontier_urls{state=\"done\"}")
            .map(|v| v as u64)
            .ok_or_else(|| "no frontier counts yet".to_string())
    }

    /// Fails unless the crawl was still under way after a fault (`what`) was injected.
    fn assert_mid_crawl(&self, r: &Reference, fetched: u64, what: &str) {
        let total = r.urls.values().filter(|s| *s == "done").count() as u64;
        assert!(
            fetched < total,
            "{what} after the crawl ended ({fetched} of {total} pages): the fault missed the run"
        );
        self.note(&format!("{what} with {fetched} of {total} pages fetched"));
    }

    /// Ids of cases that have their screenshot, at least `n` of them.
    fn cases_with_screenshots(&self, n: usize) -> Result<Vec<i64>, String> {
        let cases = self.c.cases();
        let ids: Vec<i64> = cases
            .iter()
            .filter(|c| c.has_screenshot)
            .map(|c| c.id)
            .collect();
        if ids.len() >= n {
            Ok(ids)
        } else {
            Err(format!(
                "{} cases, {} with a screenshot",
                cases.len(),
                ids.len()
            ))
        }
    }

    /// Waits for the run to complete and holds it to the embedded run.
    fn assert_complete(&mut self, r: &Reference) {
        let expected = &r.cases;
        let cases = wait_until(
            Duration::from_secs(300),
            "every case of the embedded run, each with its screenshot",
            || {
                let cases = self.c.cases();
                let shot = cases.iter().filter(|c| c.has_screenshot).count();
                if cases.len() >= expected.len() && shot == cases.len() {
                    Ok(cases)
                } else {
                    let missing: Vec<_> = cases
                        .iter()
                        .filter(|c| !c.has_screenshot)
                        .map(|c| (c.id, c.url.as_str()))
                        .take(5)
                        .collect();
                    Err(format!(
                        "{} of {} cases, {shot} with a screenshot; without: {missing:?}",
                        cases.len(),
                        expected.len()
                    ))
                }
            },
        );
        self.note("every case opened, each with its screenshot");
        let got: BTreeSet<(String, String)> = cases
            .iter()
            .map(|c| (c.category.clone(), c.url.clone()))
            .collect();
        assert_eq!(got.len(), cases.len(), "a case was opened twice: {cases:?}");
        assert!(
            &got == expected,
            "distributed and embedded runs disagree: only distributed {:?}, only embedded {:?}",
            got.difference(expected).collect::<Vec<_>>(),
            expected.difference(&got).collect::<Vec<_>>()
        );
        let keys = self.c.dedup_keys();
        let distinct: BTreeSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "a dedup key twice: {keys:?}");

        wait_until(
            Duration::from_secs(120),
            "every URL of the embedded run in the same state",
            || {
                let got = self.c.frontier_states();
                if got == r.urls {
                    return Ok(());
                }
                let differ: Vec<_> = r
                    .urls
                    .iter()
                    .filter(|(u, s)| got.get(*u) != Some(*s))
                    .map(|(u, s)| format!("{u}: {s} → {:?}", got.get(u)))
                    .chain(
                        got.keys()
                            .filter(|u| !r.urls.contains_key(*u))
                            .map(|u| format!("{u}: not in the embedded run")),
                    )
                    .take(10)
                    .collect();
                Err(format!("{differ:?}"))
            },
        );
        self.note(&format!("all {} URLs as in the embedded run", r.urls.len()));

        // The index holds every capture a case documents and every web page fetched, each capture
        // once (a redelivered capture replaces its document).
        let evidence: BTreeSet<String> = self
            .c
            .query_pairs("SELECT capture_id, url FROM evidence")
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let index_dir = self.c.dir.path().join("indexer").join("index");
        // The indexer commits the last captures when its input goes idle: wait for them too.
        let docs = wait_until(
            Duration::from_secs(60),
            "every capture of a case and every fetched web page in the index",
            || {
                let index = indexer::Indexer::open_read_only(&index_dir)
                    .map_err(|e| format!("open the index: {e}"))?;
                let mut docs = vec![];
                index
                    .for_each_stored(|d| docs.push((d.capture_id, d.url)))
                    .map_err(|e| e.to_string())?;
                let ids: BTreeSet<&String> = docs.iter().map(|(id, _)| id).collect();
                let missing = evidence.iter().filter(|e| !ids.contains(e)).count();
                let urls: BTreeSet<&String> = docs.iter().map(|(_, url)| url).collect();
                let unindexed: Vec<&String> = r
                    .urls
                    .iter()
                    // A Telegram preview page is published as one capture per post.
                    .filter(|(u, s)| {
                        *s == "done" && !u.starts_with("http://t.me/") && !urls.contains(u)
                    })
                    .map(|(u, _)| u)
                    .collect();
                if missing == 0 && unindexed.is_empty() {
                    Ok(docs)
                } else {
                    Err(format!(
                        "{missing} of {} case captures not indexed; fetched, not indexed: \
                         {unindexed:?}",
                        evidence.len()
                    ))
                }
            },
        );
        let ids: BTreeSet<&String> = docs.iter().map(|(id, _)| id).collect();
        assert_eq!(ids.len(), docs.len(), "a capture indexed twice");
        self.note(&format!(
            "{} captures indexed once each, every web page and case capture among them",
            docs.len()
        ));

        let stats = wait_until(Duration::from_secs(120), "every queue drained", || {
            let s = self.c.stats();
            let busy: Vec<String> = s["queues"]
                .as_array()
                .expect("queues")
                .iter()
                .filter(|q| q["ready"] != 0)
                .map(|q| format!("{} ready {}", q["queue"], q["ready"]))
                .collect();
            if busy.is_empty() {
                Ok(s)
            } else {
                Err(busy.join(", "))
            }
        });
        assert_eq!(stats["dead_letters"], 0, "a message was parked: {stats}");
        assert_eq!(stats["cases"], expected.len(), "{stats}");
        assert_eq!(stats["frontier"]["queued"], 0, "{stats}");
        assert_eq!(stats["frontier"]["in_flight"], 0, "{stats}");
        self.note("queues drained, nothing dead-lettered");

        for w in self.workers() {
            assert!(
                w.running(),
                "worker {} died (a fault must not take a worker down):\n{}",
                w.name,
                w.log_tail()
            );
        }
    }

    fn workers(&mut self) -> impl Iterator<Item = &mut Worker> {
        [&mut self.crawler, &mut self.reporter]
            .into_iter()
            .chain(self.others.iter_mut())
    }

    /// SIGTERM to every worker: each finishes what it holds and exits 0.
    fn stop_all(&mut self) {
        for w in self.workers() {
            let status = w.stop(Duration::from_secs(60));
            assert!(
                status.success(),
                "{} exited with {status}:\n{}",
                w.name,
                w.log_tail()
            );
        }
        self.note("every worker stopped cleanly");
    }
}

fn resolve_args(web: &Web) -> Vec<String> {
    web.resolve
        .iter()
        .flat_map(|r| ["--resolve".to_string(), r.clone()])
        .collect()
}

/// A crawler under `id`. Telegram previews are not revisited within a test, so the run ends;
/// two seconds between two fetches of a host make the crawl last at least half a minute (the
/// fixture's largest host has 16 pages), so that a fault injected through `rabbitmqctl`, which
/// takes seconds to start, still lands mid-crawl.
fn crawler_args(web: &Web, id: &str) -> Vec<String> {
    let mut a = resolve_args(web);
    a.extend(["--worker-id", id, "--revisit", "1h", "--host-delay", "2s"].map(String::from));
    a
}

fn reporter_args() -> Vec<String> {
    vec!["--outbox-lease".into(), OUTBOX_LEASE.into()]
}

/// The analysts' desk on the deployment's schema: confirms cases and drafts and approves Form 2
/// notifications as the web UI would (analyst `aigul` drafts; approvers `bolat` and `dana` take
/// turns approving — never the author: four eyes).
struct Desk {
    rt: tokio::runtime::Runtime,
    store: PgCaseStore,
    taxonomy: model::Taxonomy,
    approvals: usize,
}

/// A row lock held in an open transaction of the desk's pool.
struct RowLock {
    tx: Option<sqlx_core::transaction::Transaction<'static, sqlx_postgres::Postgres>>,
    rt: tokio::runtime::Handle,
}

impl Drop for RowLock {
    /// A test that fails while holding the lock: the rollback and the connection's return are
    /// queued on the desk's runtime (they need one), which runs them when the desk closes.
    fn drop(&mut self) {
        let _in = self.rt.enter();
        drop(self.tx.take());
    }
}

impl Desk {
    fn open(c: &Cluster) -> Desk {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let store = rt.block_on(c.schema.store()).expect("case store");
        for (name, role) in [
            ("aigul", reporter::auth::Role::Analyst),
            ("bolat", reporter::auth::Role::Approver),
            ("dana", reporter::auth::Role::Approver),
        ] {
            rt.block_on(store.add_user(reporter::auth::NewUser {
                name: name.into(),
                role: Some(role),
                full_name: format!("{name} full name"),
                position: "директор".into(),
                ..Default::default()
            }))
            .expect("add user");
        }
        let taxonomy = model::Taxonomy::from_toml(include_str!("../rules/taxonomy.toml"))
            .expect("bundled taxonomy");
        Desk {
            rt,
            store,
            taxonomy,
            approvals: 0,
        }
    }

    /// Confirms each case on the blocking route and sends it in a notification of its own,
    /// approved; returns the approved notifications in approval (= outbox) order.
    fn notify(&mut self, case_ids: &[i64]) -> Vec<Notification> {
        let mut out = vec![];
        for &id in case_ids {
            let s = &self.store;
            self.rt
                .block_on(s.decide(
                    id,
                    &model::Decision::Confirm {
                        route: model::Route::Blocking,
                        justification: "fault test".into(),
                    },
                    "aigul",
                ))
                .unwrap_or_else(|e| panic!("confirm case {id}: {e}"));
            let n = self
                .rt
                .block_on(s.draft_notification(&[id], &self.taxonomy, "aigul"))
                .unwrap_or_else(|e| panic!("draft over case {id}: {e}"));
            let approver = ["bolat", "dana"][self.approvals % 2];
            self.approvals += 1;
            let n = self
                .rt
                .block_on(s.approve_notification(n.id, &n.content_sha256, approver))
                .unwrap_or_else(|e| panic!("approve notification {}: {e}", n.id));
            assert_eq!(n.status, NotificationStatus::Approved);
            out.push(n);
        }
        out
    }

    fn notification(&self, id: i64) -> Notification {
        self.rt
            .block_on(self.store.notification(id))
            .expect("notification")
            .expect("exists")
    }

    /// Message ids of outbox rows not yet published; with `claimed`, only those a relay holds
    /// a live claim on.
    fn unpublished(&self, claimed: bool) -> BTreeSet<String> {
        let sql = if claimed {
            "SELECT message_id FROM outbox WHERE published_at IS NULL AND claimed_until > now()"
        } else {
            "SELECT message_id FROM outbox WHERE published_at IS NULL"
        };
        self.rt
            .block_on(sqlx_core::query_scalar::query_scalar(sql).fetch_all(self.store.pool()))
            .expect("outbox")
            .into_iter()
            .collect()
    }

    /// Locks notification `id`'s row: a relay that publishes it then blocks when it marks it
    /// sent — between the broker's confirm and its commit. Fails if it is already sent.
    fn lock(&self, id: i64) -> RowLock {
        self.rt.block_on(async {
            let mut tx = self.store.pool().begin().await.expect("begin");
            let status: String = sqlx_core::query_scalar::query_scalar(
                "SELECT status FROM notifications WHERE id = $1 FOR UPDATE",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .expect("lock the notification");
            assert_eq!(
                status, "approved",
                "notification {id} left before it was locked"
            );
            RowLock {
                tx: Some(tx),
                rt: self.rt.handle().clone(),
            }
        })
    }

    fn unlock(&self, mut lock: RowLock) {
        let tx = lock.tx.take().expect("held");
        self.rt.block_on(tx.rollback()).expect("rollback");
    }

    /// `notification.sent` audit entries of notification `id`.
    fn sent_entries(&self, id: i64) -> usize {
        self.rt
            .block_on(
                self.store
                    .audit_entries(Some(&format!("notification:{id}")), 100),
            )
            .expect("audit")
            .iter()
            .filter(|e| e.action == "notification.sent")
            .count()
    }
}

impl Drop for Desk {
    /// Closes the pool on its own runtime, before the schema is dropped.
    fn drop(&mut self) {
        self.rt.block_on(self.store.close());
    }
}

/// The notifications approved in a test and the windows in which a duplicate is legitimate.
#[derive(Default)]
struct Ledger {
    /// `message_id → notification id`.
    approved: BTreeMap<String, i64>,
    /// `message_id → why` a second copy may have been published, one entry per window.
    windows: BTreeMap<String, Vec<String>>,
}

impl Ledger {
    fn approved(&mut self, ns: &[Notification]) {
        for n in ns {
            self.approved.insert(n.message_id.clone(), n.id);
        }
    }

    /// A relay may have published each of `ids` without committing.
    fn window(&mut self, ids: &BTreeSet<String>, why: &str) {
        for id in ids {
            self.windows
                .entry(id.clone())
                .or_default()
                .push(why.to_string());
        }
    }

    /// Waits until every approved notification was read from the tap and is sent in
    /// PostgreSQL, then checks the copies: `twice` must have been read exactly twice (the test
    /// cut their relay off between confirm and commit); any other id once — or once more per
    /// window it was caught in, with identical bytes.
    fn verify(&self, d: &Deployment, desk: &Desk, tap: &mut NotificationTap, twice: &[&str]) {
        wait_until(
            Duration::from_secs(180),
            "every approved notification read from the exchange and sent in PostgreSQL",
            || {
                tap.drain()?;
                let unread: Vec<&String> = self
                    .approved
                    .keys()
                    .filter(|id| tap.count(id) < if twice.contains(&id.as_str()) { 2 } else { 1 })
                    .collect();
                let unsent: Vec<i64> = self
                    .approved
                    .values()
                    .copied()
                    .filter(|&n| desk.notification(n).status != NotificationStatus::Sent)
                    .collect();
                if unread.is_empty() && unsent.is_empty() {
                    Ok(())
                } else {
                    Err(format!("not read: {unread:?}; not sent: {unsent:?}"))
                }
            },
        );
        // Everything committed was confirmed first, so it is in the tap by now.
        tap.drain().expect("final read of the tap");
        let foreign = tap
            .got
            .iter()
            .filter(|(id, _)| !self.approved.contains_key(id))
            .count();
        let mut duplicates = vec![];
        for (id, &nid) in &self.approved {
            let copies: Vec<&Vec<u8>> = tap
                .got
                .iter()
                .filter(|(i, _)| i == id)
                .map(|(_, body)| body)
                .collect();
            let windows = self.windows.get(id).map(Vec::as_slice).unwrap_or(&[]);
            if twice.contains(&id.as_str()) {
                assert_eq!(
                    copies.len(),
                    2,
                    "{id} was cut off before its commit: {windows:?}"
                );
            }
            assert!(
                copies.len() <= 1 + windows.len(),
                "{id} read {} times; windows it was caught in: {windows:?}",
                copies.len()
            );
            assert!(
                copies.iter().all(|c| *c == copies[0]),
                "copies of {id} differ"
            );
            if copies.len() > 1 {
                duplicates.push(format!("{id} ×{} ({})", copies.len(), windows.join("; ")));
            }
            let payload: Payload = serde_json::from_slice(copies[0]).expect("a Form 2 payload");
            assert_eq!(payload.message_id, *id);
            assert_eq!(payload.notification_id, nid);
            let n = desk.notification(nid);
            assert_eq!(n.status, NotificationStatus::Sent);
            assert!(n.sent_at.is_some());
            assert_eq!(desk.sent_entries(nid), 1, "{id} marked sent more than once");
            for case in n.case_ids() {
                let c = desk
                    .rt
                    .block_on(desk.store.get_case(case))
                    .expect("case")
                    .expect("exists");
                assert_eq!(c.status, model::CaseStatus::Sent, "case {case} of {id}");
            }
        }
        assert!(
            desk.unpublished(false).is_empty(),
            "outbox rows left unpublished"
        );
        d.note(&format!(
            "{} notifications all read, each sent once in PostgreSQL; duplicates read: {duplicates:?}; \
             messages of other deployments ignored: {foreign}",
            self.approved.len()
        ));
    }
}

#[test]
fn crawler_and_reporter_killed_mid_run_and_restarted() {
    let _one = exclusive();
    let r = reference();
    let mut d = Deployment::start("kill", "crawler-a");
    let mut tap = d.c.tap_notifications();
    let mut desk = Desk::open(&d.c);
    let mut ledger = Ledger::default();
    d.seed();

    // The crawler dies mid-crawl and comes back under its id: what it had in flight is
    // requeued at once, its leases renewed.
    let fetched = wait_until(Duration::from_secs(120), "10 pages fetched", || {
        d.fetched().and_then(|n| {
            if n >= 10 {
                Ok(n)
            } else {
                Err(format!("{n} fetched"))
            }
        })
    });
    d.crawler.kill9_tree();
    d.assert_mid_crawl(r, fetched, "crawler killed");
    d.restart_crawler("crawler-a");
    // The indexer too, with captures coming in (a batch may be half-committed).
    d.kill_and_restart("indexer");

    // The reporter dies once cases exist, with flagged captures on their way.
    let shot = wait_until(
        Duration::from_secs(180),
        "4 cases with their screenshot",
        || d.cases_with_screenshots(4),
    );
    d.reporter.kill9_tree();
    d.note(&format!(
        "reporter killed with {} cases screenshotted",
        shot.len()
    ));
    // And the screenshot worker, mid-shot.
    d.kill_and_restart("screenshot");

    // While it is down, four notifications are approved; the second one's row is locked, so
    // the next relay publishes the first (and commits), publishes the second, and then blocks
    // before its commit.
    let ns = desk.notify(&shot[..4]);
    ledger.approved(&ns);
    let lock = desk.lock(ns[1].id);
    d.restart_reporter();
    wait_until(
        Duration::from_secs(60),
        "the relay published two notifications and committed the first",
        || {
            tap.drain()?;
            let first = desk.notification(ns[0].id).status;
            match (first, tap.count(&ns[1].message_id)) {
                (NotificationStatus::Sent, 1) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    );
    // Killed between the broker's confirm and the commit of the second.
    d.reporter.kill9_tree();
    let claimed = desk.unpublished(true);
    assert!(
        claimed.contains(&ns[1].message_id),
        "the killed relay held its claim: {claimed:?}"
    );
    ledger.window(&claimed, "claimed by a relay killed before its commit");
    d.note(&format!(
        "reporter killed mid-relay; claimed and unpublished: {}",
        claimed.len()
    ));
    desk.unlock(lock);
    d.restart_reporter();

    d.assert_complete(r);
    ledger.verify(&d, &desk, &mut tap, &[ns[1].message_id.as_str()]);
    d.stop_all();
}

#[test]
fn broker_connections_dropped_mid_run() {
    let _one = exclusive();
    let r = reference();
    let mut d = Deployment::start("drop", "crawler-a");
    d.seed();

    // Dropped while pages are fetched and captures classified…
    wait_until(
        Duration::from_secs(120),
        "5 pages fetched and a case opened",
        || {
            let n = d.fetched()?;
            let cases = d.c.cases().len();
            if n >= 5 && cases >= 1 {
                Ok(())
            } else {
                Err(format!("{n} fetched, {cases} cases"))
            }
        },
    );
    rabbitmqctl(&["close_all_connections", "fault test"]);
    let fetched = d.fetched().expect("crawler metrics");
    d.assert_mid_crawl(r, fetched, "all broker connections closed");
    // … and again while evidence screenshots are being taken.
    wait_until(
        Duration::from_secs(180),
        "2 cases with their screenshot",
        || d.cases_with_screenshots(2),
    );
    rabbitmqctl(&["close_all_connections", "fault test"]);
    d.note("closed all broker connections while taking screenshots");

    d.assert_complete(r);
    d.stop_all();
}

#[test]
fn rabbitmq_app_stopped_and_started_mid_run() {
    let _one = exclusive();
    let r = reference();
    let mut d = Deployment::start("appstop", "crawler-a");
    let mut tap = d.c.tap_notifications();
    let mut desk = Desk::open(&d.c);
    let mut ledger = Ledger::default();
    d.seed();

    let shot = wait_until(
        Duration::from_secs(180),
        "3 cases with their screenshot",
        || d.cases_with_screenshots(3),
    );
    // Two notifications approved, the second one's row locked: the relay publishes the first
    // and commits, publishes the second and blocks before its commit. Nothing is read from the
    // tap yet: both confirmed messages must outlive the broker's restart.
    let before = desk.notify(&shot[..2]);
    ledger.approved(&before);
    let lock = desk.lock(before[1].id);
    wait_until(
        Duration::from_secs(60),
        "the relay published two notifications and committed the first",
        || {
            let first = desk.notification(before[0].id).status;
            // Counted once the broker confirmed, before the commit.
            let published = metric(
                &d.reporter.metrics(),
                "baqylau_notifications_published_total",
            );
            match (first, published) {
                (NotificationStatus::Sent, Some(2.0)) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    );
    let pending = desk.unpublished(false);
    ledger.window(&pending, "unpublished when the broker was stopped");
    let outage = stop_broker_app();
    let fetched = d.fetched().expect("crawler metrics");
    d.assert_mid_crawl(r, fetched, "broker app stopped");

    // During the outage the reporter (still blocked before its commit) and the crawler die;
    // more notifications are approved (PostgreSQL is up) and wait in the outbox.
    d.reporter.kill9_tree();
    d.crawler.kill9_tree();
    let claimed = desk.unpublished(true);
    assert!(
        claimed.contains(&before[1].message_id),
        "the killed relay held its claim: {claimed:?}"
    );
    ledger.window(&claimed, "claimed by a relay killed during the outage");
    desk.unlock(lock);
    // Cases screenshotted by now (the screenshot worker may have finished some after the
    // first look), at most two.
    let more: Vec<i64> = d
        .cases_with_screenshots(3)
        .expect("still screenshotted")
        .into_iter()
        .filter(|id| !shot[..2].contains(id))
        .take(2)
        .collect();
    let during = desk.notify(&more);
    ledger.approved(&during);
    d.note(&format!(
        "reporter (mid-relay) and crawler killed; {} notifications approved during the outage",
        during.len()
    ));
    std::thread::sleep(Duration::from_secs(5));
    outage.start(&d.c.queue("seeds"), Duration::from_secs(180));
    d.note("broker app started and answering");
    d.restart_reporter();
    // A new id: the dead crawler's hosts move over once its leases run out.
    d.restart_crawler("crawler-b");

    d.assert_complete(r);
    ledger.verify(&d, &desk, &mut tap, &[before[1].message_id.as_str()]);
    d.stop_all();
}
