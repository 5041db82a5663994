//! Users, browser sessions and API tokens on PostgreSQL, with the SQLite store's rules (see
//! [`crate::store::users`]): argon2id password hashes checked on the blocking pool, cookie and
//! token digests only, TOTP steps consumed by compare-and-set so a code logs in once even when
//! two desks race.

use chrono::{DateTime, Duration, Utc};
use model::StoreError;
use sqlx_core::query::query;
use sqlx_core::query_scalar::query_scalar;
use sqlx_core::row::Row;
use sqlx_postgres::{PgConnection, PgRow};

use super::{PgCaseStore, TxError, db_err, retry_tx};
use crate::auth::credentials::{self, invalid};
use crate::auth::{self, NewUser, Role, User};
use crate::store::users::{LoginFailure, Session};

const USER_COLUMNS: &str = "u.id, u.name, u.role, u.full_name, u.position, u.email, u.mobile,
    u.totp_secret IS NOT NULL, u.created_at, u.last_active_at, u.disabled";

fn user_row(r: &PgRow) -> Result<User, TxError> {
    let role: String = r.try_get(2)?;
    Ok(User {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Backend(format!("bad role {role:?} in the database")))?,
        full_name: r.try_get(3)?,
        position: r.try_get(4)?,
        email: r.try_get(5)?,
        mobile: r.try_get(6)?,
        has_totp: r.try_get(7)?,
        created_at: r.try_get(8)?,
        last_active_at: r.try_get(9)?,
        disabled: r.try_get(10)?,
    })
}

/// Records activity, at most once a minute per user.
async fn touch(c: &mut PgConnection, id: i64, now: DateTime<Utc>) -> Result<(), TxError> {
    query(
        "UPDATE users SET last_active_at = $2
         WHERE id = $1 AND (last_active_at IS NULL OR last_active_at < $3)",
    )
    .bind(id)
    .bind(now)
    .bind(now - Duration::minutes(1))
    .execute(&mut *c)
    .await?;
    Ok(())
}

impl PgCaseStore {
    /// Creates a user; returns it and, when `totp` was asked (or the role needs it), the new TOTP
    /// secret (shown once).
    pub async fn add_user(&self, new: NewUser) -> Result<(User, Option<String>), StoreError> {
        let credentials::Prepared {
            role,
            password_hash: hash,
            totp_secret: secret,
        } = credentials::prepare(&new).await?;
        let row = query(&format!(
            "WITH u AS (
                INSERT INTO users (name, role, password_hash, totp_secret, full_name, position,
                    email, mobile, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (name) DO NOTHING
                RETURNING *)
             SELECT {USER_COLUMNS} FROM u"
        ))
        .bind(&new.name)
        .bind(role.as_str())
        .bind(&hash)
        .bind(&secret)
        .bind(new.full_name.trim())
        .bind(new.position.trim())
        .bind(new.email.trim())
        .bind(new.mobile.trim())
        .bind(Utc::now())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Err(StoreError::Conflict(format!(
                "user {:?} already exists",
                new.name
            )));
        };
        let user = user_row(&row)?;
        tracing::info!(user = %user.name, role = user.role.as_str(), "user added");
        Ok((user, secret))
    }

    /// The user called `name`.
    pub async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let row = query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE u.name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.as_ref().map(user_row).transpose()?)
    }

    /// Every user, by name.
    pub async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows = query(&format!(
            "SELECT {USER_COLUMNS} FROM users u ORDER BY u.name"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.iter().map(user_row).collect::<Result<_, _>>()?)
    }

    /// Enabled users with no authenticated request since `since` (never active counts as
    /// inactive when created before `since`).
    pub async fn inactive_users(&self, since: DateTime<Utc>) -> Result<Vec<User>, StoreError> {
        let rows = query(&format!(
            "SELECT {USER_COLUMNS} FROM users u WHERE NOT u.disabled
             AND COALESCE(u.last_active_at, u.created_at) < $1 ORDER BY u.name"
        ))
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.iter().map(user_row).collect::<Result<_, _>>()?)
    }

    /// Enables or disables an account; disabling also ends its sessions and revokes its tokens.
    pub async fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), StoreError> {
        retry_tx!(async {
            let mut tx = self.pool.begin().await?;
            let id: Option<i64> =
                query_scalar("UPDATE users SET disabled = $2 WHERE name = $1 RETURNING id")
                    .bind(name)
                    .bind(disabled)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(id) = id else {
                return Err(TxError::Store(invalid(format!("no user {name:?}"))));
            };
            if disabled {
                for table in ["sessions", "api_tokens"] {
                    query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
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
        let row = query(&format!(
            "SELECT {USER_COLUMNS}, u.password_hash, u.totp_secret, u.totp_last_step
             FROM users u WHERE u.name = $1"
        ))
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let found: Option<credentials::Stored> = match &row {
            Some(r) => Some((
                user_row(r)?,
                r.try_get(11).map_err(db_err)?,
                r.try_get(12).map_err(db_err)?,
                r.try_get(13).map_err(db_err)?,
            )),
            None => None,
        };
        let (user, step) = match credentials::check(found, password_given, totp_code, now).await? {
            Ok(v) => v,
            Err(why) => return Ok(Err(why)),
        };
        if let Some(step) = step {
            // Compare-and-set: a concurrent login with the same code loses.
            let won = query(
                "UPDATE users SET totp_last_step = $2
                 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
            )
            .bind(user.id)
            .bind(step)
            .execute(&self.pool)
            .await
            .map_err(db_err)?
            .rows_affected();
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
        let digest = auth::token_digest(&token);
        retry_tx!(async {
            let now = Utc::now();
            let mut tx = self.pool.begin().await?;
            query("DELETE FROM sessions WHERE expires_at < $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            query(
                "INSERT INTO sessions (token_sha256, user_id, csrf, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&digest)
            .bind(user_id)
            .bind(&csrf)
            .bind(now)
            .bind(now + ttl)
            .execute(&mut *tx)
            .await?;
            query("UPDATE users SET last_active_at = $2 WHERE id = $1")
                .bind(user_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })?;
        Ok((token, csrf))
    }

    /// The live session of cookie value `token` (not expired, user enabled).
    pub async fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let digest = auth::token_digest(token);
        let now = Utc::now();
        let mut c = self.conn().await?;
        let row = query(&format!(
            "SELECT {USER_COLUMNS}, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND NOT u.disabled"
        ))
        .bind(&digest)
        .bind(now)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let session = Session {
            user: user_row(&row)?,
            csrf: row.try_get(11).map_err(db_err)?,
        };
        touch(&mut c, session.user.id, now).await?;
        Ok(Some(session))
    }

    /// Ends the session of cookie value `token`.
    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        query("DELETE FROM sessions WHERE token_sha256 = $1")
            .bind(auth::token_digest(token))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Creates an API token for user `name`; the token is returned once and stored as a digest.
    pub async fn create_token(&self, name: &str) -> Result<String, StoreError> {
        let token = format!("bq_{}", auth::random_hex(32));
        let inserted = query(
            "INSERT INTO api_tokens (token_sha256, user_id, created_at)
             SELECT $1, id, $3 FROM users WHERE name = $2 AND NOT disabled",
        )
        .bind(auth::token_digest(&token))
        .bind(name)
        .bind(Utc::now())
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        if inserted == 0 {
            return Err(invalid(format!("no enabled user {name:?}")));
        }
        Ok(token)
    }

    /// The user of API token `token`, if valid.
    pub async fn token_user(&self, token: &str) -> Result<Option<User>, StoreError> {
        let digest = auth::token_digest(token);
        let mut c = self.conn().await?;
        let row = query(&format!(
            "SELECT {USER_COLUMNS} FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_sha256 = $1 AND NOT u.disabled"
        ))
        .bind(&digest)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let user = user_row(&row)?;
        let now = Utc::now();
        touch(&mut c, user.id, now).await?;
        query("UPDATE api_tokens SET last_used_at = $2 WHERE token_sha256 = $1")
            .bind(&digest)
            .bind(now)
            .execute(&mut *c)
            .await
            .map_err(db_err)?;
        Ok(Some(user))
    }
}
