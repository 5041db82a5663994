//! Tests against the real RabbitMQ this machine type runs at 127.0.0.1:5672 (guest/guest).
//! They fail — not skip — when the broker is absent.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use broker::{AmqpConfig, AmqpQueue};
use model::Queue;
use serde::{Deserialize, Serialize};

const URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Job {
    n: u32,
    url: String,
}

fn unique(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "baqylau.test.{name}.{}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

async fn queue(name: &str, limit: u32) -> AmqpQueue<Job> {
    let mut cfg = AmqpConfig::new(URL);
    cfg.delivery_limit = limit;
    cfg.prefetch = 4;
    AmqpQueue::connect(cfg, name)
        .await
        .expect("RabbitMQ must run at 127.0.0.1:5672 (guest/guest) for these tests")
}

async fn next(q: &AmqpQueue<Job>) -> model::Delivery<Job> {
    tokio::time::timeout(Duration::from_secs(10), q.consume())
        .await
        .expect("a delivery within 10 s")
        .expect("consume")
        .expect("open queue")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_with_confirms_and_delivers_in_order() {
    let name = unique("order");
    let q = queue(&name, 5).await;
    for n in 0..3 {
        q.publish(Job {
            n,
            url: format!("http://a.kz/{n}"),
        })
        .await
        .unwrap();
    }
    for n in 0..3 {
        let d = next(&q).await;
        assert_eq!(d.message.n, n);
        d.ack().await.unwrap();
    }
    assert_eq!(q.depth().await.unwrap(), (0, 0));
    q.delete().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_message_is_redelivered_to_the_next_consumer() {
    let name = unique("redeliver");
    let first = queue(&name, 5).await;
    first
        .publish(Job {
            n: 7,
            url: "http://b.kz/".into(),
        })
        .await
        .unwrap();
    let d = next(&first).await;
    assert_eq!(d.message.n, 7);
    // The worker "crashes" before acknowledging: its connection goes away.
    drop(d);
    drop(first);
    let second = queue(&name, 5).await;
    let again = next(&second).await;
    assert_eq!(again.message.n, 7, "the message survived the crash");
    again.ack().await.unwrap();
    second.delete().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_message_is_parked_after_the_delivery_limit() {
    let name = unique("poison");
    let q = queue(&name, 2).await;
    q.publish(Job {
        n: 1,
        url: "http://c.kz/".into(),
    })
    .await
    .unwrap();
    // Processing fails every time; each failure asks for redelivery.
    for _ in 0..3 {
        match tokio::time::timeout(Duration::from_secs(3), q.consume()).await {
            Ok(Ok(Some(d))) => d.nack(true).await.unwrap(),
            _ => break,
        }
    }
    let mut parked = (0, 0);
    for _ in 0..50 {
        parked = q.depth().await.unwrap();
        if parked.1 == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        parked,
        (0, 1),
        "the message is parked in {}, not lost",
        q.dead_letter_queue()
    );
    q.delete().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_message_is_parked_not_dropped() {
    let name = unique("garbage");
    let raw: AmqpQueue<serde_json::Value> = AmqpQueue::connect(AmqpConfig::new(URL), name.clone())
        .await
        .unwrap();
    raw.publish(serde_json::json!({"not": "a job"}))
        .await
        .unwrap();
    raw.publish(serde_json::json!({"n": 2, "url": "http://d.kz/"}))
        .await
        .unwrap();
    let typed = queue(&name, 5).await;
    let d = next(&typed).await;
    assert_eq!(d.message.n, 2, "the bad message was skipped");
    d.ack().await.unwrap();
    let mut depth = (0, 0);
    for _ in 0..50 {
        depth = typed.depth().await.unwrap();
        if depth.1 == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(depth, (0, 1));
    typed.delete().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_broker_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = AmqpQueue::<Job>::connect(
        AmqpConfig::new(format!("amqp://guest:secret@127.0.0.1:{port}/%2f")),
        "nowhere",
    )
    .await
    .err()
    .expect("connect must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("nowhere") && msg.contains("127.0.0.1"),
        "{msg}"
    );
    assert!(!msg.contains("secret"), "credentials leaked: {msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_dropped_unanswered_comes_back_on_the_same_connection() {
    let name = unique("dropped");
    let q = queue(&name, 5).await;
    q.publish(Job {
        n: 9,
        url: "http://e.kz/".into(),
    })
    .await
    .unwrap();
    let d = next(&q).await;
    // A stage failed mid-message: it neither acked nor nacked. The connection stays open.
    drop(d);
    let again = next(&q).await;
    assert_eq!(again.message.n, 9, "returned without a reconnect");
    again.ack().await.unwrap();
    q.delete().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_reads_depths_passively_and_reports_missing_queues() {
    let name = unique("probe");
    let q = queue(&name, 5).await;
    for n in 0..2 {
        q.publish(Job {
            n,
            url: "http://f.kz/".into(),
        })
        .await
        .unwrap();
    }
    let probe = broker::QueueProbe::connect(URL).await.unwrap();
    let missing = unique("never-declared");
    let names = [name.clone(), missing.clone(), q.dead_letter_queue()];
    let depths = probe.depths(&names).await.unwrap();
    assert_eq!(depths[0].ready, Some(2));
    assert_eq!(depths[1].ready, None, "probing must not create {missing}");
    assert_eq!(
        depths[2].ready,
        Some(0),
        "the queue after a missing one is read too"
    );
    let again = probe.depths(&names[..1]).await.unwrap();
    assert_eq!(again[0].ready, Some(2));
    q.delete().await.unwrap();
}
