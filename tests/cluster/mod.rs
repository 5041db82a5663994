//! Harness for distributed-mode tests: a private deployment on the real RabbitMQ
//! (127.0.0.1:5672, guest/guest) and PostgreSQL (127.0.0.1:5432, db `test`) this machine type
//! runs, driven through the real binary.
//!
//! Each [`Cluster`] gets its own queue prefix and its own PostgreSQL schema, so tests (and
//! concurrent test runs) never see each other's messages or rows; both are removed on drop.
//! Nothing is skipped: an absent broker or database fails the test with a clear message.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use lapin::options::{BasicGetOptions, BasicPublishOptions, QueueDeleteOptions};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use serde_json::Value;

use crate::util::{Dir, baqylau, run, stderr, stdout};

/// The broker every test uses (`BAQYLAU_TEST_AMQP` overrides).
pub fn broker_url() -> String {
    std::env::var("BAQYLAU_TEST_AMQP")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_string())
}

/// The database every test uses (`BAQYLAU_TEST_PG` overrides).
pub fn db_url() -> String {
    reporter::store::postgres::ScratchSchema::test_url()
}

/// Queue suffixes of the topology (`baqylau/cmd/worker/topology.rs`).
pub const QUEUES: [&str; 5] = [
    "seeds",
    "captures.index",
    "captures.classify",
    "flagged",
    "screenshots",
];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The fixture web of `baqylau demo-web`, killed on drop.
pub struct Web {
    child: Child,
    /// `HOST=127.0.0.1:PORT` mappings.
    pub resolve: Vec<String>,
    /// Seed URLs.
    pub seeds: Vec<String>,
}

impl Drop for Web {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One private deployment.
pub struct Cluster {
    /// Queue prefix (ends with `.`).
    pub prefix: String,
    /// Scratch PostgreSQL schema, dropped with the cluster.
    pub schema: reporter::store::postgres::ScratchSchema,
    /// Temporary directory: per-worker data directories and logs.
    pub dir: Dir,
}

impl Cluster {
    /// A fresh prefix and schema; fails loudly when RabbitMQ or PostgreSQL is absent.
    pub fn new(name: &str) -> Cluster {
        static N: AtomicU32 = AtomicU32::new(0);
        let prefix = format!(
            "t-{name}-{}-{}.",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let rt = runtime();
        rt.block_on(async {
            Connection::connect(&broker_url(), ConnectionProperties::default())
                .await
                .unwrap_or_else(|e| {
                    panic!("RabbitMQ must run at {} for this test: {e}", broker_url())
                })
        });
        let schema = rt
            .block_on(reporter::store::postgres::ScratchSchema::create(&db_url()))
            .unwrap_or_else(|e| panic!("PostgreSQL must run at {} for this test: {e}", db_url()));
        Cluster {
            prefix,
            schema,
            dir: Dir::new(&format!("cluster-{name}")),
        }
    }

    /// Full name of a queue (`suffix` as in [`QUEUES`]).
    pub fn queue(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    /// The binary with this cluster's broker, database, schema and prefix in its environment.
    pub fn command(&self) -> Command {
        let mut c = baqylau();
        c.env("BAQYLAU_BROKER", broker_url())
            .env("BAQYLAU_DB", db_url())
            .env("BAQYLAU_DB_SCHEMA", self.schema.name())
            .env("BAQYLAU_QUEUE_PREFIX", &self.prefix);
        c
    }

    /// Starts `baqylau demo-web` and reads its banner.
    pub fn start_web(&self) -> Web {
        let mut child = baqylau()
            .arg("demo-web")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start baqylau demo-web");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("demo-web banner");
        let banner: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("demo-web banner is not JSON ({e}): {line:?}"));
        let strings = |k: &str| -> Vec<String> {
            banner[k]
                .as_array()
                .unwrap_or_else(|| panic!("no {k} in {banner}"))
                .iter()
                .map(|v| v.as_str().expect("string").to_string())
                .collect()
        };
        Web {
            resolve: strings("resolve"),
            seeds: strings("seeds"),
            child,
        }
    }

    /// Starts `baqylau worker --role ROLE` (data in `DIR/ROLE`, metrics on a free port, log in
    /// `DIR/ROLE.log`) and waits for its `ready` line.
    pub fn worker(&self, role: &str, extra: &[String]) -> Worker {
        self.worker_named(role, role, extra)
    }

    /// Like [`Cluster::worker`], with the data directory and log named `name` (several workers
    /// of one role).
    pub fn worker_named(&self, role: &str, name: &str, extra: &[String]) -> Worker {
        let log = self.dir.path().join(format!("{name}.log"));
        self.spawn_worker(role, name, log, extra)
    }

    /// Starts worker `name` again after it died or stopped: the same data directory, the log in
    /// `DIR/NAME.N.log` (the first free `N` from 2), so the earlier runs' logs stay readable.
    pub fn restart_worker(&self, role: &str, name: &str, extra: &[String]) -> Worker {
        let log = (2..)
            .map(|n| self.dir.path().join(format!("{name}.{n}.log")))
            .find(|p| !p.exists())
            .expect("a free log name");
        self.spawn_worker(role, name, log, extra)
    }

    fn spawn_worker(&self, role: &str, name: &str, log: PathBuf, extra: &[String]) -> Worker {
        let mut child = self
            .command()
            .env("BAQYLAU_LOG", "info,sqlx=warn")
            .args([
                "worker",
                "--role",
                role,
                "--metrics",
                "127.0.0.1:0",
                "--data",
            ])
            .arg(self.dir.path().join(name))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start baqylau worker");
        let out = child.stdout.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(out);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the worker never blocks on a full pipe.
            let mut rest = String::new();
            while reader.read_line(&mut rest).map(|n| n > 0).unwrap_or(false) {
                rest.clear();
            }
        });
        let line = match rx.recv_timeout(Duration::from_secs(180)) {
            Ok(l) => l,
            Err(_) => {
                let _ = child.kill();
                panic!("worker {name} not ready within 180 s; log:\n{}", tail(&log));
            }
        };
        let Some(metrics) = line
            .trim()
            .strip_prefix(&format!("ready role={role} metrics="))
            .map(str::to_string)
        else {
            let _ = child.wait();
            panic!(
                "worker {name} did not start ({line:?}); log:\n{}",
                tail(&log)
            );
        };
        Worker {
            name: name.to_string(),
            child,
            metrics_url: metrics,
            log,
        }
    }

    /// `baqylau seed --broker --db URLS…` (waits until the crawler workers have them).
    pub fn seed(&self, urls: &[String]) -> Output {
        let out = run(self.command().args(["seed", "--wait", "120s"]).args(urls));
        assert!(
            out.status.success(),
            "seed failed: {}{}",
            stdout(&out),
            stderr(&out)
        );
        out
    }

    /// `baqylau stats --broker --db --json`.
    pub fn stats(&self) -> Value {
        let out = run(self.command().args([
            "stats",
            "--json",
            "--broker",
            &broker_url(),
            "--db",
            &db_url(),
        ]));
        assert!(
            out.status.success(),
            "stats failed: {}{}",
            stdout(&out),
            stderr(&out)
        );
        serde_json::from_str(stdout(&out).trim())
            .unwrap_or_else(|e| panic!("stats is not JSON ({e}): {}", stdout(&out)))
    }

    /// The `queues` entry of [`Cluster::stats`] for a queue suffix.
    pub fn queue_stats(stats: &Value, cluster_queue: &str) -> Value {
        stats["queues"]
            .as_array()
            .expect("queues")
            .iter()
            .find(|q| q["queue"] == cluster_queue)
            .cloned()
            .unwrap_or_else(|| panic!("no queue {cluster_queue} in {stats}"))
    }

    /// Every case in the cluster's schema.
    pub fn cases(&self) -> Vec<model::CaseSummary> {
        use model::CaseStore;
        runtime().block_on(async {
            let store = self.schema.store().await.expect("case store");
            let cases = store
                .list_cases(&model::CaseFilter::default())
                .await
                .expect("list cases");
            store.close().await;
            cases
        })
    }

    /// Publishes raw bytes to a queue (persistent, confirmed), as a foreign or broken producer
    /// would. The queue must exist (a worker declared it).
    pub fn publish_raw(&self, suffix: &str, body: &[u8]) {
        let queue = self.queue(suffix);
        runtime().block_on(async {
            let conn = Connection::connect(&broker_url(), ConnectionProperties::default())
                .await
                .expect("broker");
            let ch = conn.create_channel().await.expect("channel");
            ch.confirm_select(Default::default())
                .await
                .expect("confirms");
            let confirm = ch
                .basic_publish(
                    "".into(),
                    queue.as_str().into(),
                    BasicPublishOptions::default(),
                    body,
                    BasicProperties::default().with_delivery_mode(2),
                )
                .await
                .expect("publish")
                .await
                .expect("confirm");
            assert!(confirm.is_ack(), "broker refused the message");
            let _ = conn.close(200, "done".into()).await;
        });
    }

    /// Takes one message out of a queue (`basic.get`, acknowledged), if there is one.
    pub fn get_one(&self, queue: &str) -> Option<Vec<u8>> {
        runtime().block_on(async {
            let conn = Connection::connect(&broker_url(), ConnectionProperties::default())
                .await
                .expect("broker");
            let ch = conn.create_channel().await.expect("channel");
            let got = ch
                .basic_get(queue.into(), BasicGetOptions { no_ack: true })
                .await
                .expect("basic.get");
            let _ = conn.close(200, "done".into()).await;
            got.map(|m| m.delivery.data.clone())
        })
    }

    /// Closes the broker connections of this cluster whose name is `baqylau:QUEUE`
    /// (`rabbitmqctl close_connection`); returns how many were closed.
    pub fn close_connections_of(&self, suffix: &str) -> usize {
        let marker = format!("\"baqylau:{}\"", self.queue(suffix));
        let out = Command::new("rabbitmqctl")
            .args(["-q", "list_connections", "pid", "client_properties"])
            .output()
            .expect("rabbitmqctl must be installed for this test");
        assert!(out.status.success(), "rabbitmqctl list_connections failed");
        let text = String::from_utf8_lossy(&out.stdout);
        let pids: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(&marker))
            .filter_map(|l| l.split('\t').next())
            .collect();
        for pid in &pids {
            let st = Command::new("rabbitmqctl")
                .args(["-q", "close_connection", pid, "test: dropped connection"])
                .status()
                .expect("rabbitmqctl close_connection");
            assert!(st.success(), "closing {pid} failed");
        }
        pids.len()
    }
}

impl Drop for Cluster {
    /// Deletes the cluster's queues (the schema drops itself).
    fn drop(&mut self) {
        let names: Vec<String> = QUEUES
            .iter()
            .flat_map(|q| [self.queue(q), format!("{}.dead", self.queue(q))])
            .collect();
        runtime().block_on(async {
            let Ok(conn) =
                Connection::connect(&broker_url(), ConnectionProperties::default()).await
            else {
                return;
            };
            for n in names {
                if let Ok(ch) = conn.create_channel().await {
                    let _ = ch
                        .queue_delete(n.as_str().into(), QueueDeleteOptions::default())
                        .await;
                }
            }
            let _ = conn.close(200, "done".into()).await;
        });
    }
}

/// A running worker process; SIGKILLed on drop if still running.
pub struct Worker {
    /// Name (role, or the name given).
    pub name: String,
    child: Child,
    /// `http://127.0.0.1:PORT/metrics`.
    pub metrics_url: String,
    /// Its log file.
    pub log: PathBuf,
}

impl Worker {
    /// Process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The worker's `/metrics` text.
    pub fn metrics(&self) -> String {
        let rest = self
            .metrics_url
            .strip_prefix("http://")
            .expect("metrics URL");
        let (addr, path) = rest.split_once('/').expect("path");
        let resp = crate::util::http(
            "GET",
            addr.parse().expect("addr"),
            &format!("/{path}"),
            None,
        );
        assert_eq!(resp.status, 200, "metrics of {}", self.name);
        resp.body
    }

    /// True while the process runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGTERM, then waits up to `limit` for the exit.
    pub fn stop(&mut self, limit: Duration) -> ExitStatus {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(st.success());
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "worker {} still running {limit:?} after SIGTERM; log:\n{}",
                self.name,
                tail(&self.log)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL (a crash: nothing finished, nothing acknowledged) and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last lines of the worker's log.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }
}

impl Drop for Worker {
    /// SIGTERM first, so the worker closes its Chromium; SIGKILL after 10 s.
    fn drop(&mut self) {
        if self.running() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            for _ in 0..100 {
                if !self.running() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn tail(log: &std::path::Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// The value of one sample in a Prometheus text exposition: `series` is the name with its
/// labels exactly as exposed, e.g. `baqylau_up` or `x_total{queue="q"}`.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok())?
    })
}

/// Polls `check` every 500 ms until it returns `Some`, failing with `what` after `limit`.
pub fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

impl Worker {
    /// SIGKILL the worker (a crash), then its descendants (the Chromium it started, which a real
    /// crash would orphan; the test machine should not collect them), and reap it.
    pub fn kill9_tree(&mut self) {
        let descendants = descendants(self.child.id());
        self.kill9();
        for pid in descendants {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Every process below `pid`, read from `/proc` (children before grandchildren).
fn descendants(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| {
                let child: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
                let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
                // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
                let ppid = stat
                    .rsplit_once(')')?
                    .1
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()?;
                Some((child, ppid))
            })
            .collect()
        })
        .unwrap_or_default();
    let mut out = vec![];
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for &(child, ppid) in &parents {
            if ppid == p && !out.contains(&child) {
                out.push(child);
                frontier.push(child);
            }
        }
    }
    out
}

/// `rabbitmqctl -q ARGS`; the test fails when it is not installed or the command fails.
pub fn rabbitmqctl(args: &[&str]) -> String {
    let out = Command::new("rabbitmqctl")
        .arg("-q")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("rabbitmqctl must be installed for this test: {e}"));
    assert!(
        out.status.success(),
        "rabbitmqctl {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// True when the broker accepts a connection and declares (passively) `queue` within 10 s — a
/// quorum queue answers only once the broker has started it again after an outage.
pub fn broker_answers(queue: &str) -> bool {
    runtime().block_on(async {
        let attempt = async {
            let conn = Connection::connect(&broker_url(), ConnectionProperties::default()).await?;
            let ch = conn.create_channel().await?;
            ch.queue_declare(
                queue.into(),
                lapin::options::QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                Default::default(),
            )
            .await?;
            let _ = conn.close(200, "probe".into()).await;
            Ok::<(), lapin::Error>(())
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(10), attempt).await,
            Ok(Ok(()))
        )
    })
}

/// The broker's AMQP application stopped (`rabbitmqctl stop_app`) — for every client of this
/// machine's broker, so callers must make sure nothing else is using it. Started again by
/// [`BrokerAppStopped::start`] or, whatever happens to the test, on drop.
pub struct BrokerAppStopped {
    started: bool,
}

/// `rabbitmqctl stop_app`.
pub fn stop_broker_app() -> BrokerAppStopped {
    // Armed before the command: a stop_app that fails half-way is undone as well.
    let guard = BrokerAppStopped { started: false };
    rabbitmqctl(&["stop_app"]);
    guard
}

impl BrokerAppStopped {
    /// `rabbitmqctl start_app`, then waits until `queue` answers (at most `limit`).
    pub fn start(mut self, queue: &str, limit: Duration) {
        self.started = true;
        rabbitmqctl(&["start_app"]);
        wait_for(limit, "the broker answers again after start_app", || {
            broker_answers(queue).then_some(())
        });
    }
}

impl Drop for BrokerAppStopped {
    fn drop(&mut self) {
        if self.started {
            return;
        }
        // A test failed while the broker was down: bring it back for everyone else.
        let ok = Command::new("rabbitmqctl")
            .args(["-q", "start_app"])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("rabbitmqctl start_app failed: the broker may still be stopped");
            return;
        }
        // Give the cleanup that follows (queue deletions) a broker to talk to.
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            let up = runtime().block_on(async {
                Connection::connect(&broker_url(), ConnectionProperties::default())
                    .await
                    .is_ok()
            });
            if up {
                return;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// The exchange the reporter's outbox relay publishes approved notifications to
/// (`baqylau/cmd/notify.rs`).
pub const NOTIFICATIONS_EXCHANGE: &str = "baqylau.notifications";

/// A durable queue bound to every routing key of the notifications exchange, as a consumer
/// would bind it before the first publish; deleted on drop. The exchange is shared by every
/// deployment on the broker, so callers filter what they read by message id.
pub struct NotificationTap {
    /// Queue name.
    pub queue: String,
    /// Every message read so far, in order: `(message_id, body)`.
    pub got: Vec<(String, Vec<u8>)>,
}

impl Cluster {
    /// Declares the exchange (as the relay does) and a tap queue bound to it.
    pub fn tap_notifications(&self) -> NotificationTap {
        let queue = format!("{}notifications.tap", self.prefix);
        runtime().block_on(async {
            let conn = Connection::connect(&broker_url(), ConnectionProperties::default())
                .await
                .expect("broker");
            let ch = conn.create_channel().await.expect("channel");
            ch.exchange_declare(
                NOTIFICATIONS_EXCHANGE.into(),
                lapin::ExchangeKind::Topic,
                lapin::options::ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .expect("declare the notifications exchange");
            ch.queue_declare(
                queue.as_str().into(),
                lapin::options::QueueDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                Default::default(),
            )
            .await
            .expect("declare the tap queue");
            ch.queue_bind(
                queue.as_str().into(),
                NOTIFICATIONS_EXCHANGE.into(),
                "#".into(),
                Default::default(),
                Default::default(),
            )
            .await
            .expect("bind the tap queue");
            let _ = conn.close(200, "done".into()).await;
        });
        NotificationTap { queue, got: vec![] }
    }

    /// `url → state` of every URL in the shared frontier.
    pub fn frontier_states(&self) -> std::collections::BTreeMap<String, String> {
        self.query_pairs("SELECT url, state FROM crawl_urls")
            .into_iter()
            .collect()
    }

    /// The dedup key of every case row.
    pub fn dedup_keys(&self) -> Vec<String> {
        self.query_pairs("SELECT dedup_key, category FROM cases")
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    /// Rows of a two-text-column query in the cluster's schema.
    pub fn query_pairs(&self, sql: &str) -> Vec<(String, String)> {
        runtime().block_on(async {
            let store = self.schema.store().await.expect("case store");
            let rows: Vec<(String, String)> = sqlx_core::query_as::query_as(sql)
                .fetch_all(store.pool())
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            store.close().await;
            rows
        })
    }
}

impl NotificationTap {
    /// Reads every message waiting in the tap (acknowledging each); returns how many were new,
    /// or the broker's error (it may be down: read again later). A message the broker hands out
    /// again because the tap's own acknowledgement was lost (flagged `redelivered`, same id and
    /// body as one already read) is the tap's artefact, not a second publish, and is skipped.
    pub fn drain(&mut self) -> Result<usize, String> {
        let queue = self.queue.clone();
        let before = self.got.len();
        let got = &mut self.got;
        runtime().block_on(async {
            let read = async {
                let conn =
                    Connection::connect(&broker_url(), ConnectionProperties::default()).await?;
                let ch = conn.create_channel().await?;
                while let Some(m) = ch
                    .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: false })
                    .await?
                {
                    let d = &m.delivery;
                    let id = d
                        .properties
                        .message_id()
                        .as_ref()
                        .map(|s| s.to_string())
                        .unwrap_or_default();
                    let artefact =
                        d.redelivered && got.iter().any(|(i, body)| *i == id && *body == d.data);
                    d.ack(lapin::options::BasicAckOptions::default()).await?;
                    if !artefact {
                        got.push((id, d.data.clone()));
                    }
                }
                let _ = conn.close(200, "done".into()).await;
                Ok::<_, lapin::Error>(())
            };
            match tokio::time::timeout(Duration::from_secs(10), read).await {
                Ok(r) => r.map_err(|e| e.to_string()),
                Err(_) => Err("the broker did not answer within 10 s".into()),
            }
        })?;
        Ok(self.got.len() - before)
    }

    /// How many times `message_id` was read.
    pub fn count(&self, message_id: &str) -> usize {
        self.got.iter().filter(|(id, _)| id == message_id).count()
    }
}

impl Drop for NotificationTap {
    fn drop(&mut self) {
        let queue = self.queue.clone();
        runtime().block_on(async {
            let Ok(conn) =
                Connection::connect(&broker_url(), ConnectionProperties::default()).await
            else {
                return;
            };
            if let Ok(ch) = conn.create_channel().await {
                let _ = ch
                    .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                    .await;
            }
            let _ = conn.close(200, "done".into()).await;
        });
    }
}
