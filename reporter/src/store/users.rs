//! Users, browser sessions and API tokens in the case database.
//!
//! Secrets are never stored in the clear: passwords as argon2id PHC strings, session cookies and
//! API tokens as SHA-256 digests (a stolen database cannot be replayed as a login). Password
//! checks run on the blocking pool *outside* the connection lock — argon2 takes ~100 ms on purpose
//! and must not stall every other request.

use chrono::{DateTime, Duration, Utc};
use model::StoreError;
use rusqlite::{OptionalExtension, Row, params};

use super::sqlite::{SqliteCaseStore, db_err, parse_ts, ts};
use crate::auth::credentials::{self, invalid};
use crate::auth::{self, NewUser, Role, User};

/// Why a login was refused. The UI shows one message for all of them (no account enumeration);
/// the audit log keeps the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// Unknown name or wrong password.
    BadCredentials,
    /// The role needs a TOTP code and none (or a wrong or replayed one) was given.
    BadTotp,
    /// The account is disabled.
    Disabled,
}

impl LoginFailure {
    /// Stable name for the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginFailure::BadCredentials => "bad_credentials",
            LoginFailure::BadTotp => "bad_totp",
            LoginFailure::Disabled => "disabled",
        }
    }
}

/// An authenticated browser session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who.
    pub user: User,
    /// The session's CSRF token (forms carry it in a hidden field, API calls in a header).
    pub csrf: String,
}

const USER_COLUMNS: &str = "id, name, role, full_name, position, email, mobile,
    totp_secret IS NOT NULL, created_at, last_active_at, disabled";

fn user_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(2)?;
    let created: String = r.get(8)?;
    let active: Option<String> = r.get(9)?;
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::parse(&role).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("bad role {role:?}").into(),
            )
        })?,
        full_name: r.get(3)?,
        position: r.get(4)?,
        email: r.get(5)?,
        mobile: r.get(6)?,
        has_totp: r.get(7)?,
        created_at: parse_ts(&created)?,
        last_active_at: active.as_deref().map(parse_ts).transpose()?,
        disabled: r.get(10)?,
    })
}

impl SqliteCaseStore {
    /// Creates a user; returns it and, when `totp` was asked, the new TOTP secret (shown once).
    pub async fn add_user(&self, new: NewUser) -> Result<(User, Option<String>), StoreError> {
        let credentials::Prepared {
            role,
            password_hash: hash,
            totp_secret: secret,
        } = credentials::prepare(&new).await?;
        let secret2 = secret.clone();
        let user = self
            .call(move |conn| {
                let exists: bool = conn
                    .query_row(
                        "SELECT EXISTS (SELECT 1 FROM users WHERE name = ?1)",
                        [&new.name],
                        |r| r.get(0),
                    )
                    .map_err(db_err)?;
                if exists {
                    return Err(StoreError::Conflict(format!(
                        "user {:?} already exists",
                        new.name
                    )));
                }
                conn.execute(
                    "INSERT INTO users (name, role, password_hash, totp_secret, full_name, position,
                        email, mobile, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        new.name,
                        role.as_str(),
                        hash,
                        secret2,
                        new.full_name.trim(),
                        new.position.trim(),
                        new.email.trim(),
                        new.mobile.trim(),
                        ts(Utc::now())
                    ],
                )
                .map_err(db_err)?;
                let id = conn.last_insert_rowid();
                conn.query_row(
                    &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
                    [id],
                    user_row,
                )
                .map_err(db_err)
            })
            .await?;
        tracing::info!(user = %user.name, role = user.role.as_str(), "user added");
        Ok((user, secret))
    }

    /// The user called `name`.
    pub async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let name = name.to_string();
        self.call(move |conn| {
            conn.query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
                [name],
                user_row,
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.call(|conn| {
            let mut stmt = conn
                .prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))
                .map_err(db_err)?;
            stmt.query_map([], user_row)
                .and_then(|r| r.collect())
                .map_err(db_err)
        })
        .await
    }

    /// Enabled users with no authenticated request since `since` (never active counts as
    /// inactive when created before `since`): the half-yearly list for removal.
    pub async fn inactive_users(&self, since: DateTime<Utc>) -> Result<Vec<User>, StoreError> {
        let since = ts(since);
        self.call(move |conn| {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE disabled = 0
                     AND COALESCE(last_active_at, created_at) < ?1 ORDER BY name"
                ))
                .map_err(db_err)?;
            stmt.query_map([since], user_row)
                .and_then(|r| r.collect())
                .map_err(db_err)
        })
        .await
    }

    /// Enables or disables an account; disabling also ends its sessions and revokes its tokens.
    pub async fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), StoreError> {
        let name = name.to_string();
        self.call(move |conn| {
            let tx = conn.transaction().map_err(db_err)?;
            let n = tx
                .execute(
                    "UPDATE users SET disabled = ?2 WHERE name = ?1",
                    params![name, disabled],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(invalid(format!("no user {name:?}")));
            }
            if disabled {
                for table in ["sessions", "api_tokens"] {
                    tx.execute(
                        &format!(
                            "DELETE FROM {table} WHERE user_id = (SELECT id FROM users WHERE name = ?1)"
                        ),
                        [&name],
                    )
                    .map_err(db_err)?;
                }
            }
            tx.commit().map_err(db_err)
        })
        .await
    }

    /// Checks a login: password, then (for roles that need it) a fresh TOTP code. On success the
    /// TOTP step is consumed, so the same code cannot log in twice.
    pub async fn check_login(
        &self,
        name: &str,
        password_given: &str,
        totp_code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Result<User, LoginFailure>, StoreError> {
        let n = name.to_string();
        let found: Option<credentials::Stored> = self
            .call(move |conn| {
                conn.query_row(
                    &format!(
                        "SELECT {USER_COLUMNS}, password_hash, totp_secret, totp_last_step
                         FROM users WHERE name = ?1"
                    ),
                    [n],
                    |r| Ok((user_row(r)?, r.get(11)?, r.get(12)?, r.get(13)?)),
                )
                .optional()
                .map_err(db_err)
            })
            .await?;
        let (user, step) = match credentials::check(found, password_given, totp_code, now).await? {
            Ok(v) => v,
            Err(why) => return Ok(Err(why)),
        };
        if let Some(step) = step {
            let id = user.id;
            // Compare-and-set: a concurrent login with the same code loses.
            let won = self
                .call(move |conn| {
                    conn.execute(
                        "UPDATE users SET totp_last_step = ?2
                         WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
                        params![id, step],
                    )
                    .map_err(db_err)
                })
                .await?;
            if won == 0 {
                return Ok(Err(LoginFailure::BadTotp));
            }
        }
        Ok(Ok(user))
    }

    /// Opens a session for `user_id` lasting `ttl`; returns the cookie value and the CSRF token.
    pub async fn create_session(
        &self,
        user_id: i64,
        ttl: Duration,
    ) -> Result<(String, String), StoreError> {
        let token = auth::random_hex(32);
        let csrf = auth::random_hex(32);
        let (digest, c) = (auth::token_digest(&token), csrf.clone());
        self.call(move |conn| {
            let now = Utc::now();
            conn.execute("DELETE FROM sessions WHERE expires_at < ?1", [ts(now)])
                .map_err(db_err)?;
            conn.execute(
                "INSERT INTO sessions (token_sha256, user_id, csrf, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![digest, user_id, c, ts(now), ts(now + ttl)],
            )
            .map_err(db_err)?;
            conn.execute(
                "UPDATE users SET last_active_at = ?2 WHERE id = ?1",
                params![user_id, ts(now)],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await?;
        Ok((token, csrf))
    }

    /// The live session of cookie value `token` (not expired, user enabled).
    pub async fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let digest = auth::token_digest(token);
        self.call(move |conn| {
            let now = ts(Utc::now());
            let found = conn
                .query_row(
                    &format!(
                        "SELECT {}, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id
                         WHERE s.token_sha256 = ?1 AND s.expires_at > ?2 AND u.disabled = 0",
                        prefixed_user_columns()
                    ),
                    params![digest, now],
                    |r| {
                        Ok(Session {
                            user: user_row(r)?,
                            csrf: r.get(11)?,
                        })
                    },
                )
                .optional()
                .map_err(db_err)?;
            if let Some(s) = &found {
                touch(conn, s.user.id, &now)?;
            }
            Ok(found)
        })
        .await
    }

    /// Ends the session of cookie value `token`.
    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        let digest = auth::token_digest(token);
        self.call(move |conn| {
            conn.execute("DELETE FROM sessions WHERE token_sha256 = ?1", [digest])
                .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    /// Creates an API token for user `name`; the token is returned once and stored as a digest.
    pub async fn create_token(&self, name: &str) -> Result<String, StoreError> {
        let token = format!("bq_{}", auth::random_hex(32));
        let digest = auth::token_digest(&token);
        let name = name.to_string();
        self.call(move |conn| {
            let id: Option<i64> = conn
                .query_row(
                    "SELECT id FROM users WHERE name = ?1 AND disabled = 0",
                    [&name],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            let id = id.ok_or_else(|| invalid(format!("no enabled user {name:?}")))?;
            conn.execute(
                "INSERT INTO api_tokens (token_sha256, user_id, created_at) VALUES (?1, ?2, ?3)",
                params![digest, id, ts(Utc::now())],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await?;
        Ok(token)
    }

    /// The user of API token `token`, if valid.
    pub async fn token_user(&self, token: &str) -> Result<Option<User>, StoreError> {
        let digest = auth::token_digest(token);
        self.call(move |conn| {
            let found = conn
                .query_row(
                    &format!(
                        "SELECT {} FROM api_tokens t JOIN users u ON u.id = t.user_id
                         WHERE t.token_sha256 = ?1 AND u.disabled = 0",
                        prefixed_user_columns()
                    ),
                    [&digest],
                    user_row,
                )
                .optional()
                .map_err(db_err)?;
            if let Some(u) = &found {
                let now = ts(Utc::now());
                touch(conn, u.id, &now)?;
                conn.execute(
                    "UPDATE api_tokens SET last_used_at = ?2 WHERE token_sha256 = ?1",
                    params![digest, now],
                )
                .map_err(db_err)?;
            }
            Ok(found)
        })
        .await
    }
}

/// [`USER_COLUMNS`] qualified with the `u.` alias.
fn prefixed_user_columns() -> String {
    "u.id, u.name, u.role, u.full_name, u.position, u.email, u.mobile,
     u.totp_secret IS NOT NULL, u.created_at, u.last_active_at, u.disabled"
        .to_string()
}

/// Records activity, at most once a minute per user (activity is for the half-yearly list; a
/// write per request would only contend with the pipeline).
fn touch(conn: &rusqlite::Connection, id: i64, now: &str) -> Result<(), StoreError> {
    let minute_ago = ts(Utc::now() - Duration::minutes(1));
    conn.execute(
        "UPDATE users SET last_active_at = ?2
         WHERE id = ?1 AND (last_active_at IS NULL OR last_active_at < ?3)",
        params![id, now, minute_ago],
    )
    .map_err(db_err)?;
    Ok(())
}
