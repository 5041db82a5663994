//! Distributed mode end to end: the real binary's workers over the real RabbitMQ and PostgreSQL
//! (see `cluster/`), on the bundled fixture web served on loopback. Each test has its own queue
//! prefix and database schema. RabbitMQ, PostgreSQL and Chromium must be present; nothing is
//! skipped.

mod cluster;
#[allow(dead_code)]
mod util;

use std::collections::BTreeSet;
use std::time::Duration;

use cluster::{Cluster, metric, wait_for};
use model::CaseStore;
use util::{Dir, baqylau, demo_once, run, stderr, stdout};

/// `(category, url)` of every case of an embedded `baqylau demo --once` run.
fn embedded_cases() -> BTreeSet<(String, String)> {
    let dir = Dir::new("embedded-reference");
    let data = dir.path().join("data");
    demo_once(&data);
    let store = reporter::SqliteCaseStore::open(&data.join("cases.sqlite")).expect("cases.sqlite");
    let cases = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(store.list_cases(&model::CaseFilter::default()))
        .expect("list cases");
    cases.into_iter().map(|c| (c.category, c.url)).collect()
}

fn resolve_args(web: &cluster::Web) -> Vec<String> {
    web.resolve
        .iter()
        .flat_map(|r| ["--resolve".to_string(), r.clone()])
        .collect()
}

#[test]
fn workers_over_rabbitmq_and_postgres_open_the_cases_of_the_embedded_run() {
    let expected = embedded_cases();
    assert!(expected.len() > 10, "the embedded run found {expected:?}");

    let c = Cluster::new("e2e");
    let web = c.start_web();
    let resolve = resolve_args(&web);
    // Consumers first, the crawler last: nothing depends on the order, but this way every
    // queue already has its consumer when the first capture arrives.
    let mut workers = vec![
        c.worker("indexer", &[]),
        c.worker("classifier", &[]),
        c.worker("reporter", &[]),
        c.worker("screenshot", &resolve),
        c.worker("crawler", &resolve),
    ];
    let seeded = c.seed(&web.seeds);
    assert!(
        stdout(&seeded).contains(&format!(
            "{n} of {n} seeds in the frontier",
            n = web.seeds.len()
        )),
        "{}",
        stdout(&seeded)
    );

    let cases = wait_for(
        Duration::from_secs(300),
        "every case of the embedded run, each with its screenshot",
        || {
            let cases = c.cases();
            (cases.len() >= expected.len() && cases.iter().all(|c| c.has_screenshot))
                .then_some(cases)
        },
    );
    let got: BTreeSet<(String, String)> = cases
        .iter()
        .map(|c| (c.category.clone(), c.url.clone()))
        .collect();
    assert_eq!(got.len(), cases.len(), "a case was opened twice: {cases:?}");
    assert_eq!(got, expected, "distributed and embedded runs disagree");

    // Every queue drained, nothing parked.
    let stats = wait_for(Duration::from_secs(60), "queues drained", || {
        let s = c.stats();
        let drained = s["queues"]
            .as_array()
            .expect("queues")
            .iter()
            .all(|q| q["ready"] == 0);
        drained.then_some(s)
    });
    assert_eq!(stats["dead_letters"], 0, "{stats}");
    assert_eq!(stats["cases"], expected.len(), "{stats}");
    assert_eq!(stats["frontier"]["queued"], 0, "{stats}");
    assert!(
        stats["crawl"]["pages_fetched"].as_u64().unwrap() > 50,
        "{stats}"
    );

    // The metrics of each worker tell the same story.
    let by_name = |n: &str| workers.iter().find(|w| w.name == n).expect("worker");
    let crawler = by_name("crawler").metrics();
    assert!(metric(&crawler, "baqylau_fetches_total").unwrap() > 50.0);
    let published = metric(
        &crawler,
        &format!(
            "baqylau_messages_published_total{{queue=\"{}\"}}",
            c.queue("captures.index")
        ),
    )
    .unwrap();
    assert!(published > 50.0, "{crawler}");
    assert_eq!(
        metric(
            &crawler,
            &format!(
                "baqylau_messages_published_total{{queue=\"{}\"}}",
                c.queue("captures.classify")
            )
        ),
        Some(published),
        "every capture goes to both the indexer and the classifier"
    );
    assert_eq!(
        metric(
            &crawler,
            &format!(
                "baqylau_queue_dead_letter_messages{{queue=\"{}\"}}",
                c.queue("flagged")
            )
        ),
        Some(0.0)
    );
    assert_eq!(metric(&crawler, "baqylau_broker_up"), Some(1.0));
    let shots = by_name("screenshot").metrics();
    let taken = metric(&shots, "baqylau_screenshots_total{result=\"ok\"}").unwrap();
    assert!(taken >= expected.len() as f64, "{shots}");
    assert!(metric(&shots, "baqylau_screenshot_seconds_count").unwrap() >= 2.0 * taken);
    assert!(metric(&shots, "baqylau_screenshot_seconds_bucket{le=\"+Inf\"}").is_some());
    let classifier = by_name("classifier").metrics();
    assert!(metric(&classifier, "baqylau_rule_hits_total").unwrap() > 0.0);

    // SIGTERM: every worker finishes what it holds and exits 0.
    for w in &mut workers {
        let status = w.stop(Duration::from_secs(60));
        assert!(
            status.success(),
            "{} exited with {status}:\n{}",
            w.name,
            w.log_tail()
        );
    }
}

#[test]
fn poison_messages_are_parked_in_the_dead_letter_queue_and_shown_by_stats() {
    let c = Cluster::new("poison");
    let web = c.start_web();
    let mut worker = c.worker("screenshot", &resolve_args(&web));
    // Undecodable: parked at once.
    c.publish_raw(
        "screenshots",
        b"{\"this is\": \"not a screenshot request\"}",
    );
    // Decodes, renders, but can never be attached (no such case): fails on every delivery
    // until the broker's delivery limit parks it.
    let always_failing = serde_json::json!({
        "case_id": 424242,
        "capture_id": "0000000000000000000000000000dead",
        "url": "http://kaznews.kz/",
        "highlight": [],
    });
    c.publish_raw("screenshots", always_failing.to_string().as_bytes());

    let stats = wait_for(Duration::from_secs(240), "both messages parked", || {
        let s = c.stats();
        (Cluster::queue_stats(&s, &c.queue("screenshots"))["dead"] == 2).then_some(s)
    });
    let q = Cluster::queue_stats(&stats, &c.queue("screenshots"));
    assert_eq!(q["ready"], 0, "{stats}");
    assert_eq!(stats["dead_letters"], 2, "{stats}");

    let m = worker.metrics();
    let failures = metric(
        &m,
        "baqylau_stage_errors_total{role=\"screenshot\",kind=\"store\"}",
    )
    .unwrap_or(0.0);
    assert!(
        failures >= 4.0,
        "the failing request was retried up to the delivery limit, not parked at once: {m}"
    );
    assert_eq!(
        metric(
            &m,
            &format!(
                "baqylau_queue_dead_letter_messages{{queue=\"{}\"}}",
                c.queue("screenshots")
            )
        ),
        Some(2.0)
    );
    assert!(
        worker.running(),
        "a poison message must not take the worker down"
    );

    // Parked, not lost: both bodies are intact in the dead-letter queue.
    let dead = c.queue("screenshots") + ".dead";
    let bodies: Vec<String> = (0..2)
        .map(|_| String::from_utf8(c.get_one(&dead).expect("a parked message")).expect("utf-8"))
        .collect();
    assert!(
        bodies
            .iter()
            .any(|b| b.contains("not a screenshot request")),
        "{bodies:?}"
    );
    assert!(bodies.iter().any(|b| b.contains("424242")), "{bodies:?}");

    let status = worker.stop(Duration::from_secs(60));
    assert!(status.success(), "{status}:\n{}", worker.log_tail());
}

#[test]
fn a_worker_resumes_consuming_after_its_broker_connection_is_dropped() {
    let c = Cluster::new("reconnect");
    let mut worker = c.worker("classifier", &[]);
    let capture = |n: u32| {
        let fetched_at = chrono::Utc::now();
        let url = format!("http://lucky-spin.kz/page{n}");
        let mut cap = model::Capture::failed(&url, "lucky-spin.kz", model::FailureKind::Other, "");
        cap.id = model::capture_id(&url, fetched_at);
        cap.error = None;
        cap.fetched_at = fetched_at;
        cap.final_url = url.clone();
        cap.status = Some(200);
        cap.title = "Казино".into();
        cap.text = "Онлайн казино без лицензии! Бонус 200% на первый депозит, вывод выигрыша \
                    за 5 минут. Ставки на спорт, слоты, рулетка."
            .into();
        serde_json::to_vec(&cap).unwrap()
    };
    let flagged_ready = || {
        Cluster::queue_stats(&c.stats(), &c.queue("flagged"))["ready"]
            .as_u64()
            .unwrap_or(0)
    };
    c.publish_raw("captures.classify", &capture(1));
    wait_for(Duration::from_secs(60), "first capture flagged", || {
        (flagged_ready() == 1).then_some(())
    });

    // Both of its connections: the consumer's and the publisher's.
    let closed = c.close_connections_of("captures.classify");
    assert!(
        closed >= 1,
        "the worker's consumer connection was not found"
    );
    assert!(
        c.close_connections_of("flagged") >= 1,
        "no publisher connection"
    );
    c.publish_raw("captures.classify", &capture(2));
    wait_for(
        Duration::from_secs(90),
        "second capture flagged after the connection was dropped",
        || (flagged_ready() == 2).then_some(()),
    );
    assert!(worker.running());
    let m = worker.metrics();
    assert_eq!(
        metric(
            &m,
            &format!(
                "baqylau_messages_consumed_total{{queue=\"{}\"}}",
                c.queue("captures.classify")
            )
        ),
        Some(2.0),
        "{m}"
    );
    let status = worker.stop(Duration::from_secs(30));
    assert!(status.success(), "{status}:\n{}", worker.log_tail());
}

#[test]
fn seed_refuses_a_url_no_crawler_would_fetch_and_a_missing_destination() {
    let out = run(baqylau().args([
        "seed",
        "--broker",
        "amqp://guest:guest@127.0.0.1:5672/%2f",
        "not a url",
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a crawlable URL"),
        "{}",
        stderr(&out)
    );
    let out = run(baqylau()
        .env_remove("BAQYLAU_BROKER")
        .env_remove("BAQYLAU_DB")
        .args(["seed", "http://a.kz/"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--broker"), "{}", stderr(&out));
}
