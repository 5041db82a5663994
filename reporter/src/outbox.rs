//! Publishing approved notifications onward: the relay that drains the transactional outbox into
//! a [`NotificationSink`], and the seams it needs from the binary ([`PdfPrinter`]).
//!
//! The approval transaction wrote the outbox row; the relay publishes it and only then marks it
//! published. If the process dies in between, the row is still pending at the next start and is
//! published again with the same `message_id` — at-least-once delivery, made exactly-once for
//! consumers that deduplicate by id (the AMQP `message_id` property; the file name in the outbox
//! directory). The reporter does not depend on the crawler's Chromium code or on an AMQP client:
//! the binary supplies both through these traits.
//!
//! The relay reads the outbox through [`OutboxStore`], implemented by both case stores: on
//! SQLite (one process) every pending row; on PostgreSQL only rows this relay claimed with a
//! lease, so relays on several hosts never publish one message at the same time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use model::StoreError;

use crate::notification::render_document;
use crate::store::notifications::{OutboxMessage, Payload};
use crate::store::{PgCaseStore, SqliteCaseStore};

/// Prints an HTML document to PDF (blocking; the binary implements it with one reused headless
/// Chromium).
pub trait PdfPrinter: Send + Sync {
    /// The PDF bytes of `html`.
    fn print(&self, html: &str) -> Result<Vec<u8>, String>;
}

/// The Form 2 PDFs of a payload: `(lang, bytes)` for Kazakh and Russian.
pub async fn payload_pdfs(
    printer: &Arc<dyn PdfPrinter>,
    payload: &Payload,
) -> Result<Vec<(&'static str, Vec<u8>)>, String> {
    let mut out = Vec::new();
    for lang in ["kk", "ru"] {
        let html = render_document(
            &payload.content,
            lang,
            &payload.message_id,
            &payload.content_sha256,
            Some(&payload.signatory),
        );
        let p = Arc::clone(printer);
        let pdf = tokio::task::spawn_blocking(move || p.print(&html))
            .await
            .map_err(|e| e.to_string())??;
        out.push((lang, pdf));
    }
    Ok(out)
}

/// Where approved notifications go.
#[async_trait]
pub trait NotificationSink: Send + Sync {
    /// Short description for logs and the audit trail (`amqp://…/baqylau.notifications`).
    fn describe(&self) -> String;
    /// Publishes one message; returns once the destination has durably accepted it (publisher
    /// confirm, file synced). Must be safe to call again with the same message.
    async fn publish(&self, msg: &OutboxMessage, payload: &Payload) -> Result<(), String>;
}

/// The embedded default: one `MESSAGE_ID.json` per notification (plus `MESSAGE_ID.kk.pdf` and
/// `MESSAGE_ID.ru.pdf` when a printer is available) in a directory an operator or a file
/// transfer picks up. Files are written to a temporary name, synced and renamed, so a reader
/// never sees half a file; republishing overwrites with identical content.
pub struct DirectorySink {
    dir: PathBuf,
    printer: Option<Arc<dyn PdfPrinter>>,
}

impl DirectorySink {
    /// A sink writing into `dir` (created if missing).
    pub fn new(dir: &Path, printer: Option<Arc<dyn PdfPrinter>>) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(DirectorySink {
            dir: dir.to_path_buf(),
            printer,
        })
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("partial");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Only the characters of our own message ids may become file names.
fn safe_file_stem(id: &str) -> Result<&str, String> {
    if !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(id)
    } else {
        Err(format!("message id {id:?} is not a safe file name"))
    }
}

#[async_trait]
impl NotificationSink for DirectorySink {
    fn describe(&self) -> String {
        format!("dir:{}", self.dir.display())
    }

    async fn publish(&self, msg: &OutboxMessage, payload: &Payload) -> Result<(), String> {
        let stem = safe_file_stem(&msg.message_id)?.to_string();
        if let Some(p) = &self.printer {
            for (lang, pdf) in payload_pdfs(p, payload).await? {
                let path = self.dir.join(format!("{stem}.{lang}.pdf"));
                tokio::task::spawn_blocking(move || write_atomic(&path, &pdf))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?;
            }
        }
        // The JSON last: its presence means the message is complete.
        let path = self.dir.join(format!("{stem}.json"));
        let bytes = msg.payload.clone().into_bytes();
        tokio::task::spawn_blocking(move || write_atomic(&path, &bytes))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())
    }
}

/// The outbox as the relay sees it. Marking is idempotent: a message marked published stays so.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Unpublished messages this relay may publish now, oldest first. A store shared by several
    /// relays claims them for `lease`: no other relay gets them until the lease runs out or they
    /// are marked (so the lease must outlast a publish).
    async fn pending(&self, lease: Duration) -> Result<Vec<OutboxMessage>, StoreError>;
    /// The sink confirmed the message: the notification and its cases become `sent`.
    async fn published(&self, outbox_id: i64, via: &str) -> Result<(), StoreError>;
    /// A publish attempt failed: record the error; the message stays pending.
    async fn failed(&self, outbox_id: i64, error: &str) -> Result<(), StoreError>;
}

/// One process drains a SQLite outbox: every pending row is this relay's, no lease needed.
#[async_trait]
impl OutboxStore for SqliteCaseStore {
    async fn pending(&self, _lease: Duration) -> Result<Vec<OutboxMessage>, StoreError> {
        self.pending_outbox().await
    }
    async fn published(&self, outbox_id: i64, via: &str) -> Result<(), StoreError> {
        self.outbox_published(outbox_id, via).await
    }
    async fn failed(&self, outbox_id: i64, error: &str) -> Result<(), StoreError> {
        self.outbox_failed(outbox_id, error).await
    }
}

/// Relays on several hosts share a PostgreSQL outbox: rows are claimed with a lease.
#[async_trait]
impl OutboxStore for PgCaseStore {
    async fn pending(&self, lease: Duration) -> Result<Vec<OutboxMessage>, StoreError> {
        self.claim_outbox(lease).await
    }
    async fn published(&self, outbox_id: i64, via: &str) -> Result<(), StoreError> {
        self.outbox_published(outbox_id, via).await
    }
    async fn failed(&self, outbox_id: i64, error: &str) -> Result<(), StoreError> {
        self.outbox_failed(outbox_id, error).await
    }
}

/// What [`Relay::new`] takes: a shared concrete store or a shared `dyn OutboxStore`.
pub trait IntoOutboxStore {
    /// The store as a trait object.
    fn into_outbox_store(self) -> Arc<dyn OutboxStore>;
}

impl<S: OutboxStore + 'static> IntoOutboxStore for Arc<S> {
    fn into_outbox_store(self) -> Arc<dyn OutboxStore> {
        self
    }
}

impl IntoOutboxStore for Arc<dyn OutboxStore> {
    fn into_outbox_store(self) -> Arc<dyn OutboxStore> {
        self
    }
}

/// How long a relay holds the messages it claimed: far longer than printing two PDFs and waiting
/// for a broker's confirm, so a live relay never loses a message to another one mid-publish.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(300);

/// Drains the outbox into a sink.
pub struct Relay {
    store: Arc<dyn OutboxStore>,
    sink: Arc<dyn NotificationSink>,
    wake: Arc<Notify>,
    lease: Duration,
}

impl Relay {
    /// A relay from `store` (a concrete store, or `Arc<dyn OutboxStore>` chosen at run time) to
    /// `sink`; `wake` lets an approval start a pass at once. Claims last [`DEFAULT_LEASE`].
    pub fn new(
        store: impl IntoOutboxStore,
        sink: Arc<dyn NotificationSink>,
        wake: Arc<Notify>,
    ) -> Self {
        Relay {
            store: store.into_outbox_store(),
            sink,
            wake,
            lease: DEFAULT_LEASE,
        }
    }

    /// The same relay with claims lasting `lease`.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Publishes every pending message once; returns how many were published. A failed message
    /// stays pending (its error recorded) and does not block the others. A shared store hands out
    /// small claims (so a relay killed mid-pass holds back only a few messages until their lease
    /// runs out): claims are taken until one comes back empty or has a failure — the failed
    /// message waits for the next pass rather than being retried at once against a failing sink.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let mut published = 0;
        loop {
            let (round, failures) = self.publish_claimed().await?;
            published += round;
            if round == 0 || failures > 0 {
                return Ok(published);
            }
        }
    }

    /// One claim's worth of [`Relay::run_once`]: (published, failed).
    async fn publish_claimed(&self) -> Result<(usize, usize), StoreError> {
        let (mut published, mut failures) = (0, 0);
        for msg in self.store.pending(self.lease).await? {
            let payload: Payload = match serde_json::from_str(&msg.payload) {
                Ok(p) => p,
                Err(e) => {
                    self.store
                        .failed(msg.outbox_id, &format!("bad payload: {e}"))
                        .await?;
                    failures += 1;
                    continue;
                }
            };
            match self.sink.publish(&msg, &payload).await {
                Ok(()) => {
                    self.store
                        .published(msg.outbox_id, &self.sink.describe())
                        .await?;
                    tracing::info!(message_id = %msg.message_id, sink = %self.sink.describe(), "notification published");
                    published += 1;
                }
                Err(e) => {
                    tracing::warn!(message_id = %msg.message_id, error = %e, "publishing failed; will retry");
                    self.store.failed(msg.outbox_id, &e).await?;
                    failures += 1;
                }
            }
        }
        Ok((published, failures))
    }

    /// Runs passes forever: at start (re-sending what a crash left pending), on every wake-up and
    /// every `interval`.
    pub async fn run(self, interval: Duration) {
        loop {
            if let Err(e) = self.run_once().await {
                tracing::error!(error = %e, "outbox relay pass failed");
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    use crate::store::conformance::{approved_notification, desk_users};

    /// A sink that fails the first `fail` calls, then records what it got.
    struct Flaky {
        fail: Mutex<u32>,
        got: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl NotificationSink for Flaky {
        fn describe(&self) -> String {
            "flaky".into()
        }
        async fn publish(&self, msg: &OutboxMessage, _: &Payload) -> Result<(), String> {
            let mut f = self.fail.lock().unwrap();
            if *f > 0 {
                *f -= 1;
                return Err("broker down".into());
            }
            self.got.lock().unwrap().push(msg.message_id.clone());
            Ok(())
        }
    }

    struct FakePrinter;
    impl PdfPrinter for FakePrinter {
        fn print(&self, html: &str) -> Result<Vec<u8>, String> {
            Ok(format!("%PDF-1.4 {}", html.len()).into_bytes())
        }
    }

    #[tokio::test]
    async fn relay_retries_and_directory_sink_writes_json_and_pdfs() {
        let store = Arc::new(SqliteCaseStore::open_in_memory().unwrap());
        desk_users(&*store).await;
        let id = approved_notification(&*store, "http://casino.kz/").await.id;
        let sink = Arc::new(Flaky {
            fail: Mutex::new(1),
            got: Mutex::new(vec![]),
        });
        let relay = Relay::new(store.clone(), sink.clone(), Arc::new(Notify::new()));
        assert_eq!(relay.run_once().await.unwrap(), 0, "first attempt fails");
        assert_eq!(store.pending_outbox().await.unwrap()[0].attempts, 1);
        assert_eq!(relay.run_once().await.unwrap(), 1);
        assert_eq!(relay.run_once().await.unwrap(), 0, "nothing left");
        let n = store.notification(id).await.unwrap().unwrap();
        assert_eq!(
            n.status,
            crate::store::notifications::NotificationStatus::Sent
        );
        assert_eq!(*sink.got.lock().unwrap(), vec![n.message_id.clone()]);

        let dir = std::env::temp_dir().join(format!("baqylau-outbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let ds = DirectorySink::new(&dir, Some(Arc::new(FakePrinter))).unwrap();
        let store2 = Arc::new(SqliteCaseStore::open_in_memory().unwrap());
        desk_users(&*store2).await;
        approved_notification(&*store2, "http://casino.kz/").await;
        let msg = store2.pending_outbox().await.unwrap().remove(0);
        let payload: Payload = serde_json::from_str(&msg.payload).unwrap();
        ds.publish(&msg, &payload).await.unwrap();
        ds.publish(&msg, &payload).await.unwrap(); // idempotent
        let json = std::fs::read_to_string(dir.join(format!("{}.json", msg.message_id))).unwrap();
        assert_eq!(json, msg.payload);
        for lang in ["kk", "ru"] {
            let pdf = std::fs::read(dir.join(format!("{}.{lang}.pdf", msg.message_id))).unwrap();
            assert!(pdf.starts_with(b"%PDF"));
        }
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
        assert!(safe_file_stem("../x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
