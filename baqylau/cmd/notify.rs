//! Notification plumbing of the binary: the Chromium PDF printer, the RabbitMQ sink of the outbox
//! relay, and `baqylau notify …` (run the relay; a reference consumer that deduplicates by
//! message id).
//!
//! The reporter crate defines the seams ([`reporter::outbox::PdfPrinter`],
//! [`reporter::outbox::NotificationSink`]) and stays free of browser and AMQP code; they are
//! implemented here. Messages go to the durable topic exchange `baqylau.notifications` with
//! routing key `form2.<category>`, persistent, with the notification's stable `message_id`, and
//! count as sent only once the broker confirms them (publisher confirms).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use futures_util::StreamExt;
use headless_chrome::types::PrintToPdfOptions;
use headless_chrome::{Browser, LaunchOptions};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::{FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use reporter::outbox::{NotificationSink, PdfPrinter};
use reporter::store::notifications::{OutboxMessage, Payload};

use super::serve::DeskDb;

/// The exchange approved notifications are published to.
pub const EXCHANGE: &str = "baqylau.notifications";

/// Default broker of this deployment.
pub const DEFAULT_AMQP: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Prints HTML to PDF with one long-lived headless Chromium and one reused tab (started on
/// first use, restarted once if it died). Loading waits for `document.readyState`, not for
/// `wait_until_navigated`, which adds most of a second per document.
pub struct ChromePdfPrinter {
    chromium: PathBuf,
    browser: Mutex<Option<(Browser, Arc<headless_chrome::Tab>)>>,
}

impl ChromePdfPrinter {
    /// A printer using the Chromium binary at `chromium`.
    pub fn new(chromium: &Path) -> Self {
        ChromePdfPrinter {
            chromium: chromium.to_path_buf(),
            browser: Mutex::new(None),
        }
    }

    fn launch(&self) -> Result<(Browser, Arc<headless_chrome::Tab>), String> {
        let browser = Browser::new(LaunchOptions {
            headless: true,
            sandbox: false,
            path: Some(self.chromium.clone()),
            idle_browser_timeout: Duration::from_secs(7 * 24 * 3600),
            args: vec![
                std::ffi::OsStr::new("--disable-gpu"),
                std::ffi::OsStr::new("--no-first-run"),
                std::ffi::OsStr::new("--disable-background-networking"),
            ],
            ..LaunchOptions::default()
        })
        .map_err(|e| format!("start chromium {}: {e}", self.chromium.display()))?;
        let tab = browser.new_tab().map_err(|e| e.to_string())?;
        tab.set_default_timeout(Duration::from_secs(20));
        Ok((browser, tab))
    }
}

fn print_with(tab: &headless_chrome::Tab, html: &str) -> Result<Vec<u8>, String> {
    let file = std::env::temp_dir().join(format!(
        "baqylau-form2-{}.html",
        reporter::auth::random_hex(8)
    ));
    std::fs::write(&file, html).map_err(|e| e.to_string())?;
    let result = (|| {
        tab.navigate_to(&format!("file://{}", file.display()))
            .map_err(|e| e.to_string())?;
        let started = std::time::Instant::now();
        loop {
            let ready = tab
                .evaluate(
                    &format!(
                        "document.readyState === 'complete' && location.href.endsWith({:?})",
                        file.file_name().and_then(|n| n.to_str()).unwrap_or("")
                    ),
                    false,
                )
                .ok()
                .and_then(|r| r.value)
                .and_then(|v| v.as_bool())
                == Some(true);
            if ready {
                break;
            }
            if started.elapsed() > Duration::from_secs(20) {
                return Err("document did not load in 20 s".to_string());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        tab.print_to_pdf(Some(PrintToPdfOptions {
            print_background: Some(true),
            paper_width: Some(8.27),
            paper_height: Some(11.69),
            ..PrintToPdfOptions::default()
        }))
        .map_err(|e| e.to_string())
    })();
    let _ = std::fs::remove_file(&file);
    result
}

impl PdfPrinter for ChromePdfPrinter {
    fn print(&self, html: &str) -> Result<Vec<u8>, String> {
        let mut guard = self.browser.lock().unwrap_or_else(|p| p.into_inner());
        let mut last = String::new();
        for _ in 0..2 {
            if guard.is_none() {
                *guard = Some(self.launch()?);
            }
            let Some((_, tab)) = guard.as_ref() else {
                continue;
            };
            match print_with(tab, html) {
                Ok(pdf) => return Ok(pdf),
                Err(e) => {
                    tracing::warn!(error = %e, "pdf printing failed; restarting chromium");
                    last = e;
                    *guard = None;
                }
            }
        }
        Err(last)
    }
}

/// `amqp://user:***@host` for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

async fn channel(url: &str, name: &str) -> anyhow::Result<(Connection, Channel)> {
    let conn = Connection::connect(
        url,
        ConnectionProperties::default().with_connection_name(format!("baqylau:{name}").into()),
    )
    .await
    .with_context(|| format!("connect to RabbitMQ at {}", redact(url)))?;
    let ch = conn.create_channel().await?;
    ch.exchange_declare(
        EXCHANGE.into(),
        lapin::ExchangeKind::Topic,
        ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        },
        FieldTable::default(),
    )
    .await?;
    Ok((conn, ch))
}

/// Publishes outbox messages to RabbitMQ with publisher confirms.
pub struct AmqpSink {
    url: String,
    link: tokio::sync::Mutex<Option<(Connection, Channel)>>,
}

impl AmqpSink {
    /// Connects to `url` and declares the exchange (fails loudly when the broker is absent).
    pub async fn connect(url: &str) -> anyhow::Result<AmqpSink> {
        let (conn, ch) = channel(url, "outbox").await?;
        ch.confirm_select(ConfirmSelectOptions::default()).await?;
        Ok(AmqpSink {
            url: url.to_string(),
            link: tokio::sync::Mutex::new(Some((conn, ch))),
        })
    }

    async fn publish_once(&self, msg: &OutboxMessage, payload: &Payload) -> Result<(), String> {
        let mut guard = self.link.lock().await;
        if guard.is_none() {
            let (conn, ch) = channel(&self.url, "outbox")
                .await
                .map_err(|e| format!("{e:#}"))?;
            ch.confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(|e| e.to_string())?;
            *guard = Some((conn, ch));
        }
        let Some((_, ch)) = guard.as_ref() else {
            return Err("no channel".into());
        };
        let props = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_delivery_mode(2)
            .with_message_id(ShortString::from(msg.message_id.clone()))
            .with_type("baqylau.form2".into())
            .with_timestamp(chrono::Utc::now().timestamp().max(0) as u64);
        let routing = format!("form2.{}", payload.content.category);
        let confirm = async {
            ch.basic_publish(
                EXCHANGE.into(),
                routing.as_str().into(),
                BasicPublishOptions::default(),
                msg.payload.as_bytes(),
                props,
            )
            .await?
            .await
        }
        .await;
        match confirm {
            Ok(Confirmation::Ack(_)) => Ok(()),
            Ok(other) => Err(format!("broker did not confirm: {other:?}")),
            Err(e) => {
                *guard = None;
                Err(e.to_string())
            }
        }
    }
}

#[async_trait]
impl NotificationSink for AmqpSink {
    fn describe(&self) -> String {
        format!("{}/{EXCHANGE}", redact(&self.url))
    }

    async fn publish(&self, msg: &OutboxMessage, payload: &Payload) -> Result<(), String> {
        match self.publish_once(msg, payload).await {
            Ok(()) => Ok(()),
            // A connection that died while idle: one reconnect. A duplicate is harmless.
            Err(_) => self.publish_once(msg, payload).await,
        }
    }
}

/// The outbox sink of a deployment: RabbitMQ when `amqp` is set, else `DATA/outbox/` (created
/// when missing) under the data directory `data`.
pub async fn sink(
    data: &Path,
    amqp: Option<&str>,
    printer: Option<Arc<dyn PdfPrinter>>,
) -> anyhow::Result<Arc<dyn NotificationSink>> {
    Ok(match amqp {
        Some(url) => Arc::new(AmqpSink::connect(url).await?),
        None => Arc::new(reporter::outbox::DirectorySink::new(
            &data.join("outbox"),
            printer,
        )?),
    })
}

/// `baqylau notify …`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Publish pending approved notifications from the outbox (also runs inside `serve`).
    Relay(RelayArgs),
    /// Reference consumer: bind a queue to the exchange and print new messages as JSON lines,
    /// skipping duplicates by message id.
    Consume(ConsumeArgs),
    /// Re-check sent URLs that are due: still reachable, blocked, changed, or moved (mirror).
    Recheck(RecheckArgs),
}

/// Arguments of `baqylau notify recheck`.
#[derive(Debug, clap::Args)]
pub struct RecheckArgs {
    /// Data directory (its cases.sqlite holds the sent cases unless `--db` is given).
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    #[command(flatten)]
    pub desk: DeskDb,
    /// Re-check a sent case when its last check is older than this many hours (0: all now).
    #[arg(long, default_value_t = 24)]
    pub every_hours: i64,
    /// Connect to HOST at IP:PORT instead of resolving it (plain-HTTP URLs), like `crawl`.
    #[arg(long, value_name = "HOST=IP:PORT")]
    pub resolve: Vec<crawler::ResolveRule>,
    /// Print one JSON object per re-check.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `baqylau notify relay`.
#[derive(Debug, clap::Args)]
pub struct RelayArgs {
    /// Data directory: its `outbox/` without `--amqp`, and its cases.sqlite unless `--db` is given.
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    #[command(flatten)]
    pub desk: DeskDb,
    /// RabbitMQ URL (default: write to DATA/outbox/ instead).
    #[arg(long, env = "BAQYLAU_AMQP")]
    pub amqp: Option<String>,
    /// One pass, then exit.
    #[arg(long)]
    pub once: bool,
    /// Chromium for the PDFs of the outbox directory.
    #[arg(long, default_value = "/usr/bin/chromium")]
    pub chromium: PathBuf,
}

/// Arguments of `baqylau notify consume`.
#[derive(Debug, clap::Args)]
pub struct ConsumeArgs {
    /// RabbitMQ URL.
    #[arg(long, env = "BAQYLAU_AMQP", default_value = DEFAULT_AMQP)]
    pub amqp: String,
    /// Durable queue to declare, bind (`#`) and read.
    #[arg(long)]
    pub queue: String,
    /// Stop after this many new messages (0: only declare and bind).
    #[arg(long, default_value_t = 1)]
    pub max: usize,
    /// Give up after this many seconds without reaching `--max` (exit 1).
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// File of message ids already processed (one per line), kept across runs.
    #[arg(long)]
    pub seen: Option<PathBuf>,
}

/// Runs `baqylau notify …`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let rt = super::runtime()?;
    match cmd {
        Command::Relay(a) => rt.block_on(relay(a)),
        Command::Consume(a) => rt.block_on(consume(a)),
        Command::Recheck(a) => rt.block_on(recheck_cmd(a)),
    }
}

/// Largest body read by a re-check.
const RECHECK_MAX_BODY: usize = 10 << 20;

/// A client for re-checks: no automatic redirects (each hop is checked), bounded time.
pub fn recheck_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .user_agent(concat!("baqylau-recheck/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// Fetches `url` following up to 5 redirects by hand, with the same SSRF guard as the crawler:
/// a host resolving to a loopback, private or link-local address is refused unless mapped by
/// `resolve`.
pub async fn observe(
    client: &reqwest::Client,
    url: &str,
    resolve: &[crawler::ResolveRule],
) -> reporter::recheck::Observation {
    use reporter::recheck::Observation;
    let failed = |e: String| Observation::Failed { error: e };
    let mut current = match url::Url::parse(url) {
        Ok(u) => u,
        Err(e) => return failed(format!("bad url: {e}")),
    };
    for _ in 0..6 {
        let host = current.host_str().unwrap_or("").to_ascii_lowercase();
        let mapped = resolve.iter().find(|r| r.host.eq_ignore_ascii_case(&host));
        let mut target = current.clone();
        match mapped {
            Some(rule) if current.scheme() == "http" => {
                let _ = target.set_ip_host(rule.addr.ip());
                let _ = target.set_port(Some(rule.addr.port()));
            }
            Some(_) => return failed("--resolve mappings apply to http:// URLs only".into()),
            None => {
                let port = current.port_or_known_default().unwrap_or(80);
                match tokio::net::lookup_host((host.as_str(), port)).await {
                    Ok(addrs) => {
                        let addrs: Vec<_> = addrs.collect();
                        if addrs.is_empty() || addrs.iter().any(|a| crawler::is_non_public(a.ip()))
                        {
                            return failed(format!(
                                "{host} resolves to a non-public address; refused"
                            ));
                        }
                    }
                    Err(e) => return failed(format!("dns {host}: {e}")),
                }
            }
        }
        let mut req = client.get(target.as_str());
        if mapped.is_some() {
            let host_header = match current.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.clone(),
            };
            req = req.header(reqwest::header::HOST, host_header);
        }
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return failed(e.to_string()),
        };
        let status = resp.status();
        if status.is_redirection() {
            let next = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| current.join(l).ok());
            match next {
                Some(n) => {
                    current = n;
                    continue;
                }
                None => return failed(format!("redirect {status} without a usable Location")),
            }
        }
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    body.extend_from_slice(&c);
                    if body.len() > RECHECK_MAX_BODY {
                        body.truncate(RECHECK_MAX_BODY);
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => return failed(e.to_string()),
            }
        }
        let start = &body[..body.len().min(64 * 1024)];
        return Observation::Answer {
            status: status.as_u16(),
            final_url: current.to_string(),
            body_sha256: model::sha256_hex(&body),
            body_start: String::from_utf8_lossy(start).into_owned(),
        };
    }
    failed("more than 5 redirects".into())
}

/// How long a re-check pass holds the cases it claimed: longer than fetching a whole batch at
/// worst (each hop of the ≤ 6 per URL is bounded by the client's 20 s timeout: 8 × 2 min).
const RECHECK_LEASE: chrono::Duration = chrono::Duration::minutes(30);

/// Cases claimed per round of a re-check pass.
const RECHECK_BATCH: u32 = 8;

/// Re-checks every due sent case once, claiming each so that concurrent passes on the same desk
/// do not fetch it too; returns `(case, outcome)` records.
pub async fn recheck_pass(
    store: &dyn reporter::Desk,
    every: chrono::Duration,
    resolve: &[crawler::ResolveRule],
) -> anyhow::Result<
    Vec<(
        reporter::store::rechecks::Target,
        reporter::store::rechecks::Recheck,
    )>,
> {
    let client = recheck_client()?;
    let mut out = Vec::new();
    let mut done = HashSet::new();
    // Claimed a few at a time, so a long pass never holds claims it will not reach before they
    // expire; another desk's pass on the same database takes the rest.
    loop {
        let batch = store
            .claim_rechecks(every, RECHECK_LEASE, RECHECK_BATCH)
            .await?;
        if batch.is_empty() {
            break;
        }
        let mut fresh = false;
        for t in batch {
            if !done.insert(t.case_id) {
                // Due again within this pass (a negative `every`): once per pass is enough.
                continue;
            }
            fresh = true;
            let obs = observe(&client, &t.url, resolve).await;
            let r = store.record_recheck(&t, &obs).await?;
            tracing::info!(case = t.case_id, url = %t.url, outcome = r.outcome.as_str(), "re-checked");
            out.push((t, r));
        }
        if !fresh {
            break;
        }
    }
    Ok(out)
}

async fn recheck_cmd(a: RecheckArgs) -> anyhow::Result<ExitCode> {
    let store = a.desk.open(&a.data, false, 2).await?;
    let every = chrono::Duration::hours(a.every_hours) - chrono::Duration::seconds(1);
    for (t, r) in recheck_pass(store.as_ref(), every, &a.resolve).await? {
        if a.json {
            println!(
                "{}",
                serde_json::json!({"case_id": t.case_id, "url": t.url, "outcome": r.outcome.as_str(),
                    "http_status": r.http_status, "mirror_url": r.mirror_url, "detail": r.detail})
            );
        } else {
            println!(
                "case {}\t{}\t{}{}",
                t.case_id,
                r.outcome.as_str(),
                t.url,
                r.mirror_url.map(|m| format!(" → {m}")).unwrap_or_default()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn relay(a: RelayArgs) -> anyhow::Result<ExitCode> {
    // Without `--db` this also checks that the data directory exists.
    let store = a.desk.open(&a.data, false, 2).await?;
    let printer: Arc<dyn PdfPrinter> = Arc::new(ChromePdfPrinter::new(&a.chromium));
    let sink = sink(&a.data, a.amqp.as_deref(), Some(printer)).await?;
    let relay = reporter::outbox::Relay::new(
        store as Arc<dyn reporter::outbox::OutboxStore>,
        sink,
        Arc::new(tokio::sync::Notify::new()),
    );
    if a.once {
        let n = relay.run_once().await?;
        println!("published {n}");
        return Ok(ExitCode::SUCCESS);
    }
    relay.run(Duration::from_secs(2)).await;
    Ok(ExitCode::SUCCESS)
}

/// Declares the queue, binds it to every routing key of the exchange.
async fn bind(ch: &Channel, queue: &str) -> anyhow::Result<()> {
    ch.queue_declare(
        queue.into(),
        QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        },
        FieldTable::default(),
    )
    .await?;
    ch.queue_bind(
        queue.into(),
        EXCHANGE.into(),
        "#".into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await?;
    Ok(())
}

async fn consume(a: ConsumeArgs) -> anyhow::Result<ExitCode> {
    let (_conn, ch) = channel(&a.amqp, "consumer").await?;
    bind(&ch, &a.queue).await?;
    if a.max == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    let mut seen: HashSet<String> = match &a.seen {
        Some(p) if p.exists() => std::fs::read_to_string(p)?
            .lines()
            .map(str::to_string)
            .collect(),
        _ => HashSet::new(),
    };
    ch.basic_qos(16, BasicQosOptions::default()).await?;
    let mut consumer = ch
        .basic_consume(
            a.queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(a.timeout);
    let mut printed = 0;
    let mut duplicates = 0;
    while printed < a.max {
        let next = tokio::time::timeout_at(deadline, consumer.next()).await;
        let Ok(Some(delivery)) = next else {
            eprintln!(
                "consumed {printed} of {} (duplicates skipped: {duplicates})",
                a.max
            );
            return Ok(ExitCode::from(1));
        };
        let delivery = delivery?;
        let id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(|s| s.to_string())
            .unwrap_or_default();
        if !seen.insert(id.clone()) {
            duplicates += 1;
            delivery.acker.ack(BasicAckOptions::default()).await?;
            continue;
        }
        let payload: serde_json::Value = serde_json::from_slice(&delivery.data)?;
        println!(
            "{}",
            serde_json::json!({
                "message_id": id,
                "routing_key": delivery.routing_key.to_string(),
                "payload": payload,
            })
        );
        if let Some(p) = &a.seen {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)?;
            writeln!(f, "{id}")?;
        }
        delivery.acker.ack(BasicAckOptions::default()).await?;
        printed += 1;
    }
    eprintln!("duplicates skipped: {duplicates}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The broker tests bind queues to every routing key of the shared exchange: run them one at
    /// a time so that one test's queue does not receive the other's messages.
    static BROKER: Mutex<()> = Mutex::new(());

    #[test]
    fn recheck_outcomes_against_a_local_site() {
        use axum::http::{StatusCode, header};
        use axum::routing::get;
        use reporter::recheck::{Outcome, judge};
        let rt = super::super::runtime().unwrap();
        rt.block_on(async {
            let app = axum::Router::new()
                .route("/same", get(|| async { "онлайн казино" }))
                .route(
                    "/moved",
                    get(|| async {
                        (StatusCode::FOUND, [(header::LOCATION, "http://casino-mirror.kz/same")])
                    }),
                )
                .route(
                    "/blocked",
                    get(|| async { (StatusCode::OK, "<h1>Доступ к ресурсу ограничен</h1>") }),
                );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move { axum::serve(listener, app).await });
            let map = |h: &str| crawler::ResolveRule {
                host: h.into(),
                addr,
            };
            let rules = [map("casino.kz"), map("casino-mirror.kz")];
            let client = recheck_client().unwrap();
            let same_sha = model::sha256_hex("онлайн казино".as_bytes());
            let same_sha = same_sha.as_str();
            let check = |path: &'static str| {
                let (client, rules) = (&client, &rules);
                async move {
                    let url = format!("http://casino.kz{path}");
                    let obs = observe(client, &url, rules).await;
                    judge(&url, Some(same_sha), &obs)
                }
            };
            assert_eq!(check("/same").await, (Outcome::Reachable, None));
            assert_eq!(
                check("/moved").await,
                (Outcome::Moved, Some("http://casino-mirror.kz/same".into()))
            );
            assert_eq!(check("/blocked").await.0, Outcome::Blocked);
            // Unmapped loopback: refused by the SSRF guard, never fetched.
            let obs = observe(&client, &format!("http://{addr}/same"), &[]).await;
            assert!(
                matches!(&obs, reporter::recheck::Observation::Failed { error } if error.contains("non-public")),
                "{obs:?}"
            );
        });
    }

    /// One browser, one tab, two documents: real PDFs, and the second reuses the browser.
    #[test]
    fn chromium_prints_form2_pdfs() {
        let p = ChromePdfPrinter::new(Path::new("/usr/bin/chromium"));
        let started = std::time::Instant::now();
        let a = p
            .print("<!doctype html><html lang=\"kk\"><meta charset=\"utf-8\"><p>Хабарлама: ә ғ қ ң ө ұ ү һ і</p></html>")
            .expect("chromium prints (apt-get install -y chromium)");
        let cold = started.elapsed();
        let started = std::time::Instant::now();
        let b = p
            .print("<!doctype html><meta charset=\"utf-8\"><p>Уведомление</p>")
            .unwrap();
        let warm = started.elapsed();
        for pdf in [&a, &b] {
            assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
            assert!(pdf.len() > 1000);
        }
        eprintln!("pdf: cold {cold:?}, warm {warm:?}");
    }

    #[test]
    fn credentials_are_redacted() {
        assert_eq!(redact(DEFAULT_AMQP), "amqp://guest:***@127.0.0.1:5672/%2f");
        assert_eq!(redact("amqp://127.0.0.1"), "amqp://127.0.0.1");
    }

    /// Against the real broker (127.0.0.1:5672): the same outbox message published twice — a
    /// crash between the broker's confirm and the outbox commit — reaches the consumer's queue
    /// twice with one message id, and the consumer prints it once.
    #[test]
    fn publishing_twice_is_deduplicated_by_message_id() {
        let _serial = BROKER.lock().unwrap_or_else(|p| p.into_inner());
        let rt = super::super::runtime().unwrap();
        rt.block_on(async {
            let queue = format!("baqylau-test-{}", reporter::auth::random_hex(6));
            let (_c, ch) = channel(DEFAULT_AMQP, "test")
                .await
                .expect("RabbitMQ must be running on 127.0.0.1:5672 (guest/guest)");
            bind(&ch, &queue).await.unwrap();
            let sink = AmqpSink::connect(DEFAULT_AMQP).await.unwrap();
            let content = reporter::notification::Content {
                category: "illegal_gambling".into(),
                violation: Default::default(),
                norm: Default::default(),
                facts: vec![],
            };
            let payload = Payload {
                message_id: format!("baqylau-n-{}", reporter::auth::random_hex(8)),
                notification_id: 1,
                content_sha256: content.sha256(),
                content,
                signatory: reporter::notification::Signatory {
                    user: "dana".into(),
                    full_name: "Дана".into(),
                    position: "директор".into(),
                    approved_at: chrono::Utc::now(),
                },
            };
            let msg = OutboxMessage {
                outbox_id: 1,
                notification_id: 1,
                message_id: payload.message_id.clone(),
                payload: serde_json::to_string(&payload).unwrap(),
                attempts: 0,
            };
            sink.publish(&msg, &payload).await.unwrap();
            sink.publish(&msg, &payload).await.unwrap();
            let seen = std::env::temp_dir().join(format!("{queue}.seen"));
            let code = consume(ConsumeArgs {
                amqp: DEFAULT_AMQP.into(),
                queue: queue.clone(),
                max: 2,
                timeout: 3,
                seen: Some(seen.clone()),
            })
            .await
            .unwrap();
            assert_eq!(code, ExitCode::from(1), "only one distinct message arrives");
            let ids = std::fs::read_to_string(&seen).unwrap();
            assert_eq!(
                ids.lines().collect::<Vec<_>>(),
                [payload.message_id.as_str()]
            );
            ch.queue_delete(queue.as_str().into(), Default::default())
                .await
                .unwrap();
            let _ = std::fs::remove_file(seen);
        });
    }

    /// Publishes through the real sink, then "crashes" before the outbox is marked: the broker
    /// has the message, the database says it is pending.
    struct CrashAfterPublish(AmqpSink);

    #[async_trait]
    impl NotificationSink for CrashAfterPublish {
        fn describe(&self) -> String {
            "crashing".into()
        }
        async fn publish(&self, msg: &OutboxMessage, payload: &Payload) -> Result<(), String> {
            self.0.publish(msg, payload).await?;
            Err("process died before marking the message sent".into())
        }
    }

    /// An approved notification in a fresh store: analyst `aigul` drafted, approver `bolat`
    /// approved.
    async fn approved(store: &reporter::SqliteCaseStore) -> i64 {
        use model::{CaseStore, Decision, Flagged, Hit, Route, Screenshot, Severity};
        use reporter::auth::{NewUser, Role};
        for (name, role) in [("aigul", Role::Analyst), ("bolat", Role::Approver)] {
            store
                .add_user(NewUser {
                    name: name.into(),
                    role: Some(role),
                    ..NewUser::default()
                })
                .await
                .unwrap();
        }
        let mut c = model::Capture::failed(
            "http://casino.kz/",
            "casino.kz",
            model::FailureKind::Connect,
            "",
        );
        c.error = None;
        c.status = Some(200);
        c.protocol = "HTTP/1.1".into();
        c.ip = Some("127.0.0.1".into());
        c.text = "Онлайн казино без лицензии".into();
        let hit = Hit {
            capture_id: c.id.clone(),
            rule: "gambling.casino".into(),
            rule_version: 1,
            category: "illegal_gambling".into(),
            severity: Severity::High,
            score: 1.0,
            spans: vec![],
            matched: "казино".into(),
        };
        let capture_id = c.id.clone();
        let id = store
            .record_flagged(&Flagged {
                capture: c,
                hits: vec![hit],
            })
            .await
            .unwrap()[0]
            .case_id;
        store
            .attach_screenshot(
                id,
                &capture_id,
                &Screenshot {
                    path: "screenshots/a.png".into(),
                    sha256: model::sha256_hex(b"png"),
                    width: 1280,
                    height: 900,
                    taken_at: chrono::Utc::now(),
                },
            )
            .await
            .unwrap();
        store
            .decide(
                id,
                &Decision::Confirm {
                    route: Route::Blocking,
                    justification: "казино".into(),
                },
                "aigul",
            )
            .await
            .unwrap();
        let rules = crate::embedded::load_rules(None).unwrap();
        let taxonomy = rules.taxonomy().cloned().unwrap();
        let n = store
            .draft_notification(&[id], &taxonomy, "aigul")
            .await
            .unwrap();
        store
            .approve_notification(n.id, &n.content_sha256, "bolat")
            .await
            .unwrap()
            .id
    }

    /// Against the real broker: a crash between the broker's confirm and the outbox commit
    /// leaves the message pending; the relay of the restarted process publishes it again, and
    /// the consumer sees one message (the duplicate is skipped by message id).
    #[test]
    fn crash_between_publish_and_commit_resends_and_consumers_dedup() {
        let _serial = BROKER.lock().unwrap_or_else(|p| p.into_inner());
        let rt = super::super::runtime().unwrap();
        rt.block_on(async {
            let store = Arc::new(reporter::SqliteCaseStore::open_in_memory().unwrap());
            let nid = approved(&store).await;
            let queue = format!("baqylau-test-{}", reporter::auth::random_hex(6));
            let (_c, ch) = channel(DEFAULT_AMQP, "test")
                .await
                .expect("RabbitMQ must be running on 127.0.0.1:5672 (guest/guest)");
            bind(&ch, &queue).await.unwrap();
            let wake = Arc::new(tokio::sync::Notify::new());
            let crashing = reporter::outbox::Relay::new(
                store.clone(),
                Arc::new(CrashAfterPublish(
                    AmqpSink::connect(DEFAULT_AMQP).await.unwrap(),
                )),
                wake.clone(),
            );
            assert_eq!(crashing.run_once().await.unwrap(), 0);
            assert_eq!(
                store.pending_outbox().await.unwrap().len(),
                1,
                "still pending"
            );
            let restarted = reporter::outbox::Relay::new(
                store.clone(),
                Arc::new(AmqpSink::connect(DEFAULT_AMQP).await.unwrap()),
                wake,
            );
            assert_eq!(restarted.run_once().await.unwrap(), 1);
            let n = store.notification(nid).await.unwrap().unwrap();
            assert_eq!(n.status.as_str(), "sent");
            let seen = std::env::temp_dir().join(format!("{queue}.seen"));
            let code = consume(ConsumeArgs {
                amqp: DEFAULT_AMQP.into(),
                queue: queue.clone(),
                max: 2,
                timeout: 3,
                seen: Some(seen.clone()),
            })
            .await
            .unwrap();
            assert_eq!(code, ExitCode::from(1), "two deliveries, one message");
            let ids = std::fs::read_to_string(&seen).unwrap();
            assert_eq!(ids.lines().collect::<Vec<_>>(), [n.message_id.as_str()]);
            ch.queue_delete(queue.as_str().into(), Default::default())
                .await
                .unwrap();
            let _ = std::fs::remove_file(seen);
        });
    }
}
