//! The distributed case store: PostgreSQL behind [`model::CaseStore`], for several reporter
//! workers (and desks) sharing one database.
//!
//! It follows the SQLite store's semantics exactly — the same [`crate::workflow`] and
//! [`crate::evidence`] rules — but where SQLite serializes every write behind one connection,
//! PostgreSQL has many concurrent writers, so correctness rests on the database:
//!
//! - one case per dedup key: `cases.dedup_key` is unique and a new case is opened with
//!   `INSERT … ON CONFLICT DO NOTHING`; the loser of a race reads the winner's row `FOR UPDATE`.
//!   Evidence and hits have unique keys too, so a re-delivered capture adds nothing;
//! - every case update is one transaction that first locks the case row (`SELECT … FOR UPDATE`),
//!   so two decisions on one case serialize and the second sees the first;
//! - a transaction that loses a deadlock or serialization check is retried a few times;
//! - the audit chain is appended under a transaction-level advisory lock, so concurrent writers
//!   never fork it;
//! - the outbox is drained by relays that claim rows with `FOR UPDATE SKIP LOCKED` and a lease
//!   (see [`PgCaseStore::claim_outbox`] and the `notifications` module for what that guarantees).
//!
//! The schema is numbered SQL files embedded in the binary, applied by sqlx's [`Migrator`] on
//! connect (it holds an advisory lock, so workers starting together do not race). The
//! `_sqlx_migrations` table is shared with other components (the crawler's frontier uses
//! 8_000_000+), so the reporter's versions live in the 6_000_000 range and others' are ignored.

mod audit;
mod cases;
mod notifications;
mod rechecks;
mod triage;
mod users;

use std::borrow::Cow;
use std::time::Duration;

use model::StoreError;
use sqlx_core::connection::Connection;
use sqlx_core::executor::Executor;
use sqlx_core::migrate::{Migration, MigrationType, Migrator};
use sqlx_postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};

/// Migrations of the reporter's tables, in order. Append only.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        6_000_001,
        "reporter cases",
        include_str!("migrations/6000001_cases.sql"),
    ),
    (
        6_000_002,
        "reporter desk",
        include_str!("migrations/6000002_desk.sql"),
    ),
    (
        6_000_003,
        "reporter recheck claims",
        include_str!("migrations/6000003_recheck_claims.sql"),
    ),
];

/// Environment variable naming the PostgreSQL server the tests use.
pub const TEST_URL_ENV: &str = "BAQYLAU_TEST_PG";

/// The tests' server when [`TEST_URL_ENV`] is not set.
pub const DEFAULT_TEST_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// How to reach the case database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// `postgres://user@host:port/db` connection URL.
    pub url: String,
    /// Schema holding the reporter's tables (created when missing); `None`: the server's default
    /// `search_path`. Every pooled connection sets `search_path` to it.
    pub schema: Option<String>,
    /// Most pooled connections.
    pub max_connections: u32,
    /// How long a call waits for a free connection before failing.
    pub acquire_timeout: Duration,
}

impl PgOptions {
    /// Options for `url`: default schema, at most 8 connections, 10 s acquire timeout.
    pub fn new(url: impl Into<String>) -> PgOptions {
        PgOptions {
            url: url.into(),
            schema: None,
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// Case store on PostgreSQL. Cheap to clone (the pool is shared).
#[derive(Debug, Clone)]
pub struct PgCaseStore {
    pool: PgPool,
}

/// Whether `schema` is a plain lowercase identifier (it is spliced into `SET search_path`).
fn valid_schema(schema: &str) -> bool {
    let mut chars = schema.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && schema.len() <= 63
}

fn check_schema(schema: &str) -> Result<(), StoreError> {
    if valid_schema(schema) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "schema {schema:?}: use 1-63 lowercase letters, digits and '_', not starting with a digit"
        )))
    }
}

fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    let opts: PgConnectOptions = url
        .parse()
        .map_err(|e| StoreError::Invalid(format!("PostgreSQL URL: {e}")))?;
    Ok(opts.application_name("baqylau-reporter"))
}

/// One connection outside any pool (schema creation and removal).
async fn single_connection(url: &str) -> Result<PgConnection, StoreError> {
    PgConnection::connect_with(&connect_options(url)?)
        .await
        .map_err(|e| StoreError::Backend(format!("cannot connect to PostgreSQL: {e}")))
}

/// Creates `schema` unless it exists. Two workers creating it at once can both pass `IF NOT
/// EXISTS` and one then fails on the catalog's unique index: that loser is fine too.
async fn create_schema(url: &str, schema: &str) -> Result<(), StoreError> {
    check_schema(schema)?;
    let mut conn = single_connection(url).await?;
    let res = conn
        .execute(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"").as_str())
        .await;
    let _ = conn.close().await;
    match res {
        Ok(_) => Ok(()),
        Err(e) if matches!(sql_state(&e).as_deref(), Some("23505" | "42P06")) => Ok(()),
        Err(e) => Err(db_err(e)),
    }
}

fn migrator() -> Migrator {
    Migrator {
        migrations: Cow::Owned(
            MIGRATIONS
                .iter()
                .map(|(version, name, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*name),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect(),
        ),
        // Other components' migrations share the table.
        ignore_missing: true,
        locking: true,
        no_tx: false,
    }
}

impl PgCaseStore {
    /// Connects to `url` (default schema) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<PgCaseStore, StoreError> {
        PgCaseStore::connect_with(&PgOptions::new(url)).await
    }

    /// Connects with the reporter's tables in `schema` (created when missing): isolated
    /// deployments on one server, and tests that run in parallel.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<PgCaseStore, StoreError> {
        PgCaseStore::connect_with(&PgOptions {
            schema: Some(schema.to_string()),
            ..PgOptions::new(url)
        })
        .await
    }

    /// Connects with explicit options and applies pending migrations.
    pub async fn connect_with(opts: &PgOptions) -> Result<PgCaseStore, StoreError> {
        let connect = connect_options(&opts.url)?;
        let mut pool = PgPoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(opts.acquire_timeout);
        if let Some(schema) = &opts.schema {
            create_schema(&opts.url, schema).await?;
            let set = format!("SET search_path TO \"{schema}\"");
            pool = pool.after_connect(move |conn, _meta| {
                let set = set.clone();
                Box::pin(async move {
                    conn.execute(set.as_str()).await?;
                    Ok(())
                })
            });
        }
        let pool = pool
            .connect_with(connect)
            .await
            .map_err(|e| StoreError::Backend(format!("cannot connect to PostgreSQL: {e}")))?;
        migrator()
            .run(&pool)
            .await
            .map_err(|e| StoreError::Backend(format!("case store migration failed: {e}")))?;
        Ok(PgCaseStore { pool })
    }

    /// The connection pool (for components sharing the database, and tests).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool, waiting for connections in use to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A pooled connection.
    async fn conn(
        &self,
    ) -> Result<sqlx_core::pool::PoolConnection<sqlx_postgres::Postgres>, TxError> {
        Ok(self.pool.acquire().await?)
    }
}

/// A uniquely named schema that is dropped (with everything in it) when this value is dropped:
/// each test — and each end-to-end run — gets its own tables on a shared server.
#[derive(Debug)]
pub struct ScratchSchema {
    url: String,
    name: String,
}

impl ScratchSchema {
    /// The test server: `$BAQYLAU_TEST_PG`, else [`DEFAULT_TEST_URL`].
    pub fn test_url() -> String {
        std::env::var(TEST_URL_ENV).unwrap_or_else(|_| DEFAULT_TEST_URL.to_string())
    }

    /// Creates a fresh schema `baqylau_t_<random>` on `url`.
    pub async fn create(url: &str) -> Result<ScratchSchema, StoreError> {
        let name = format!("baqylau_t_{}", crate::auth::random_hex(8));
        create_schema(url, &name).await?;
        Ok(ScratchSchema {
            url: url.to_string(),
            name,
        })
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A case store with its tables in this schema.
    pub async fn store(&self) -> Result<PgCaseStore, StoreError> {
        PgCaseStore::connect_in_schema(&self.url, &self.name).await
    }
}

impl Drop for ScratchSchema {
    /// Drops the schema from a helper thread with its own runtime: `drop` cannot await, and it
    /// may run inside (or outside) the caller's runtime.
    fn drop(&mut self) {
        let (url, name) = (self.url.clone(), self.name.clone());
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async move {
                let mut conn = single_connection(&url).await.map_err(|e| e.to_string())?;
                conn.execute("SET lock_timeout = '10s'")
                    .await
                    .map_err(|e| e.to_string())?;
                conn.execute(format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE").as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = conn.close().await;
                Ok::<(), String>(())
            })
        })
        .join();
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(schema = %self.name, error = %e, "scratch schema left behind")
            }
            Err(_) => tracing::warn!(schema = %self.name, "scratch schema cleanup panicked"),
        }
    }
}

/// A failure inside a transaction: a store-level refusal, or a database error that may be worth
/// retrying (deadlock, serialization failure).
#[derive(Debug)]
pub(crate) enum TxError {
    /// Refused by the workflow (not found, conflict, invalid input).
    Store(StoreError),
    /// The database failed.
    Sql(sqlx_core::Error),
}

impl From<StoreError> for TxError {
    fn from(e: StoreError) -> Self {
        TxError::Store(e)
    }
}

impl From<sqlx_core::Error> for TxError {
    fn from(e: sqlx_core::Error) -> Self {
        TxError::Sql(e)
    }
}

impl From<TxError> for StoreError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Store(e) => e,
            TxError::Sql(e) => db_err(e),
        }
    }
}

impl TxError {
    /// Deadlock or serialization failure: the transaction rolled back and may be run again.
    fn retryable(&self) -> bool {
        match self {
            TxError::Sql(e) => matches!(sql_state(e).as_deref(), Some("40001" | "40P01")),
            TxError::Store(_) => false,
        }
    }
}

/// SQLSTATE of a database error.
fn sql_state(e: &sqlx_core::Error) -> Option<String> {
    e.as_database_error()
        .and_then(|d| d.code().map(|c| c.into_owned()))
}

/// Maps a database error to the store's backend error.
pub(crate) fn db_err(e: sqlx_core::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// How often a transaction that lost a deadlock or serialization check is run again.
const RETRIES: u32 = 5;

/// Pause before retry `attempt` (1-based): a few milliseconds, growing, so that the transactions
/// that collided do not collide again in lockstep.
fn backoff(attempt: u32) -> Duration {
    let mut b = [0u8; 1];
    let jitter = getrandom::fill(&mut b).map_or(0, |()| u64::from(b[0] % 8));
    Duration::from_millis(5 * u64::from(attempt) + jitter)
}

/// Runs the async block `$body` (returning `Result<T, TxError>`), again when it lost a deadlock
/// or serialization check; evaluates to `Result<T, StoreError>`. A macro rather than a function
/// taking a closure: the block borrows the caller's arguments, which a closure returning a boxed
/// future over a borrowed connection cannot express without cloning everything.
macro_rules! retry_tx {
    ($body:expr) => {{
        let mut attempt = 0u32;
        loop {
            let res: Result<_, $crate::store::postgres::TxError> = $body.await;
            match res {
                Ok(v) => break Ok(v),
                Err(e) if e.retryable() && attempt < $crate::store::postgres::RETRIES => {
                    attempt += 1;
                    tracing::debug!(attempt, error = ?e, "transaction conflict; retrying");
                    tokio::time::sleep($crate::store::postgres::backoff(attempt)).await;
                }
                Err(e) => break Err(model::StoreError::from(e)),
            }
        }
    }};
}
pub(crate) use retry_tx;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names() {
        for ok in ["baqylau", "_x", "baqylau_t_0a1b", &"a".repeat(63)] {
            assert!(valid_schema(ok), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            "Baqylau",
            "a-b",
            "a\"b",
            "a;drop",
            &"a".repeat(64),
        ] {
            assert!(!valid_schema(bad), "{bad}");
        }
    }

    #[test]
    fn versions_are_increasing_and_in_the_reporter_range() {
        for w in MIGRATIONS.windows(2) {
            assert!(w[0].0 < w[1].0);
        }
        assert!(
            MIGRATIONS
                .iter()
                .all(|m| (6_000_000..7_000_000).contains(&m.0))
        );
    }

    #[tokio::test]
    async fn migrations_apply_once_and_concurrent_starts_do_not_race() {
        let schema = ScratchSchema::create(&ScratchSchema::test_url())
            .await
            .expect("PostgreSQL must be reachable ($BAQYLAU_TEST_PG or the default URL)");
        let (a, b, c) = tokio::join!(schema.store(), schema.store(), schema.store());
        let (a, _b, _c) = (a.unwrap(), b.unwrap(), c.unwrap());
        let applied: Vec<i64> = sqlx_core::query_scalar::query_scalar(
            "SELECT version FROM _sqlx_migrations ORDER BY version",
        )
        .fetch_all(a.pool())
        .await
        .unwrap();
        assert_eq!(
            applied,
            MIGRATIONS.iter().map(|m| m.0).collect::<Vec<_>>(),
            "each migration exactly once"
        );
        let in_schema: i64 = sqlx_core::query_scalar::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1",
        )
        .bind(schema.name())
        .fetch_one(a.pool())
        .await
        .unwrap();
        assert!(
            in_schema >= 15,
            "tables live in the scratch schema: {in_schema}"
        );
        a.close().await;
        let name = schema.name().to_string();
        let url = schema.url().to_string();
        drop(schema);
        let mut conn = single_connection(&url).await.unwrap();
        let left: i64 = sqlx_core::query_scalar::query_scalar(
            "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = $1",
        )
        .bind(&name)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(left, 0, "scratch schema dropped");
    }
}
