//! Schema migrations of the SQLite case store.
//!
//! The schema is a list of numbered SQL files (`migrations/NNN_name.sql`) compiled into the binary,
//! applied in order, each in its own transaction, with the applied version recorded in
//! `reporter_migrations`. A database file thus upgrades itself when a newer binary opens it, and an
//! older binary refuses a database it does not understand instead of corrupting it. The table names
//! are the reporter's own, so the file may be shared with other stages' tables.

use chrono::Utc;
use model::StoreError;
use rusqlite::Connection;

use super::sqlite::db_err;

/// One schema step.
struct Migration {
    version: u32,
    name: &'static str,
    sql: &'static str,
}

/// All migrations, in order. Append only: never edit a released file.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "cases",
        sql: include_str!("migrations/001_cases.sql"),
    },
    Migration {
        version: 2,
        name: "desk",
        sql: include_str!("migrations/002_desk.sql"),
    },
    Migration {
        version: 3,
        name: "links",
        sql: include_str!("migrations/003_links.sql"),
    },
    Migration {
        version: 4,
        name: "signatory",
        sql: include_str!("migrations/004_signatory.sql"),
    },
    Migration {
        version: 5,
        name: "rechecks",
        sql: include_str!("migrations/005_rechecks.sql"),
    },
    Migration {
        version: 6,
        name: "screenshots",
        sql: include_str!("migrations/006_screenshots.sql"),
    },
    Migration {
        version: 7,
        name: "recheck claims",
        sql: include_str!("migrations/007_recheck_claims.sql"),
    },
];

/// Latest schema version this binary knows.
pub(crate) fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Brings the schema up to [`latest_version`]; returns the number of migrations applied.
pub(crate) fn migrate(conn: &mut Connection) -> Result<usize, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS reporter_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at TEXT NOT NULL
        )",
    )
    .map_err(db_err)?;
    let current: u32 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM reporter_migrations",
            [],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    if current > latest_version() {
        return Err(StoreError::Backend(format!(
            "case database schema version {current} is newer than this program supports ({}); \
             upgrade baqylau",
            latest_version()
        )));
    }
    let mut applied = 0;
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        let tx = conn.transaction().map_err(db_err)?;
        tx.execute_batch(m.sql).map_err(|e| {
            StoreError::Backend(format!("migration {:03}_{} failed: {e}", m.version, m.name))
        })?;
        tx.execute(
            "INSERT INTO reporter_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![m.version, m.name, Utc::now().to_rfc3339()],
        )
        .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        tracing::info!(version = m.version, name = m.name, "case store migrated");
        applied += 1;
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_increasing() {
        for w in MIGRATIONS.windows(2) {
            assert!(w[0].version < w[1].version);
        }
        assert_eq!(MIGRATIONS[0].version, 1);
    }

    #[test]
    fn migrate_is_idempotent_and_recorded() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), MIGRATIONS.len());
        assert_eq!(migrate(&mut conn).unwrap(), 0);
        let v: u32 = conn
            .query_row("SELECT MAX(version) FROM reporter_migrations", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(v, latest_version());
    }

    #[test]
    fn newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.execute(
            "INSERT INTO reporter_migrations VALUES (?1, 'future', 'now')",
            [latest_version() + 1],
        )
        .unwrap();
        let err = migrate(&mut conn).unwrap_err().to_string();
        assert!(err.contains("newer"), "{err}");
    }
}
