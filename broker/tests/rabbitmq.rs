//! Tests against the real RabbitMQ this machine type runs at 127.0.0.1:5672 (guest/guest).
//! They fail — not skip — when the broker is absent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
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

/// A TCP proxy in front of the broker that can hold back what the broker sends (its publisher
/// confirms among it) and cut every connection, to see what publishers do meanwhile.
struct Proxy {
    addr: std::net::SocketAddr,
    stall: tokio::sync::watch::Sender<bool>,
    refuse: Arc<AtomicBool>,
    links: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start() -> Proxy {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stall, _) = tokio::sync::watch::channel(false);
        let refuse = Arc::new(AtomicBool::new(false));
        let links: Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (stall_tx, refuse_flag, all) = (stall.clone(), Arc::clone(&refuse), Arc::clone(&links));
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if refuse_flag.load(Ordering::SeqCst) {
                    continue; // dropped: the handshake fails
                }
                let upstream = tokio::net::TcpStream::connect("127.0.0.1:5672")
                    .await
                    .expect("RabbitMQ must run at 127.0.0.1:5672");
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_broker, mut to_broker) = upstream.into_split();
                let up = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut from_client, &mut to_broker).await;
                });
                let mut stalled = stall_tx.subscribe();
                let down = tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match from_broker.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        if stalled.wait_for(|s| !*s).await.is_err() {
                            return;
                        }
                        if to_client.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
                all.lock().unwrap().extend([up, down]);
            }
        });
        Proxy {
            addr,
            stall,
            refuse,
            links,
        }
    }

    fn url(&self) -> String {
        format!("amqp://guest:guest@{}/%2f", self.addr)
    }

    /// Holds back (or releases) everything the broker sends.
    fn hold_broker_replies(&self, hold: bool) {
        self.stall.send_replace(hold);
    }

    /// Closes every proxied connection and refuses new ones until [`Proxy::restore`].
    fn cut(&self) {
        self.refuse.store(true, Ordering::SeqCst);
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.refuse.store(false, Ordering::SeqCst);
    }
}

async fn wait_depth(q: &AmqpQueue<Job>, ready: u32) {
    let mut depth = (0, 0);
    for _ in 0..100 {
        depth = q.depth().await.unwrap();
        if depth.0 == ready {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("queue depth {depth:?}, expected {ready} ready");
}

fn job(n: u32) -> Job {
    Job {
        n,
        url: format!("http://g.kz/{n}"),
    }
}

/// Tasks sharing one handle have their messages in flight together: all of them reach the
/// broker while it has confirmed none (its replies are held back), and each publish returns Ok
/// only once the broker's confirm of its own message arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_through_one_handle_are_pipelined() {
    let proxy = Proxy::start().await;
    let name = unique("pipelined");
    let q = Arc::new(
        AmqpQueue::<Job>::connect(AmqpConfig::new(proxy.url()), name.clone())
            .await
            .unwrap(),
    );
    let direct = queue(&name, 5).await;
    proxy.hold_broker_replies(true);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..50 {
        let q = Arc::clone(&q);
        tasks.spawn(async move { q.publish(job(n)).await });
    }
    wait_depth(&direct, 50).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        tasks.try_join_next().is_none(),
        "a publish returned before its confirm"
    );
    proxy.hold_broker_replies(false);
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    let mut got = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let d = next(&direct).await;
        got.insert(d.message.n);
        d.ack().await.unwrap();
    }
    assert_eq!(got, (0..50).collect());
    direct.delete().await.unwrap();
}

/// The connection is lost with publishes sent but unconfirmed: every one of them returns an
/// error (the caller retries; the copies that reached the broker are deduplicated downstream by
/// message id), none is reported as published; the handle reconnects for the next publish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_unconfirmed_when_the_connection_drops_fail() {
    let proxy = Proxy::start().await;
    let name = unique("unconfirmed");
    let mut cfg = AmqpConfig::new(proxy.url());
    cfg.reconnect_for = Duration::from_millis(200);
    let q = Arc::new(AmqpQueue::<Job>::connect(cfg, name.clone()).await.unwrap());
    let direct = queue(&name, 5).await;
    q.publish(job(100)).await.unwrap();
    proxy.hold_broker_replies(true);
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..20 {
        let q = Arc::clone(&q);
        tasks.spawn(async move { q.publish(job(n)).await });
    }
    wait_depth(&direct, 21).await;
    proxy.cut();
    let mut failed = 0;
    while let Some(r) = tasks.join_next().await {
        let err = r
            .unwrap()
            .expect_err("an unconfirmed publish must not succeed");
        assert!(err.to_string().contains(&name), "{err}");
        failed += 1;
    }
    assert_eq!(failed, 20);
    proxy.hold_broker_replies(false);
    proxy.restore();
    q.publish(job(101)).await.expect("the handle reconnects");
    wait_depth(&direct, 22).await;
    direct.delete().await.unwrap();
}
