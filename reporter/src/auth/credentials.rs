//! The steps of adding a user and checking a login that touch no database.
//!
//! Both stores (SQLite and PostgreSQL) call these, so they validate, hash and refuse alike: the
//! same messages, the same TOTP rule, and the same time spent on an unknown name as on a wrong
//! password. Argon2 runs on the blocking pool — it takes ~100 ms on purpose and must not stall
//! the async workers. What stays in each store is the SQL: the insert, the lookup and the
//! compare-and-set that consumes a TOTP step.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use model::StoreError;

use super::{NewUser, Role, User, password, totp};
use crate::store::users::LoginFailure;

/// What a store writes for a new user besides the given fields.
#[derive(Debug)]
pub struct Prepared {
    /// The role (required).
    pub role: Role,
    /// Argon2id PHC string of the password, if one was given.
    pub password_hash: Option<String>,
    /// New TOTP secret when asked for or when the role needs one (shown once).
    pub totp_secret: Option<String>,
}

/// A user as found for a login: the user, the password's PHC string, the TOTP secret and the
/// last TOTP step used.
pub type Stored = (User, Option<String>, Option<String>, Option<i64>);

pub(crate) fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

/// A valid PHC hash of a random password, verified against when the name is unknown, so that a
/// missing account takes as long to refuse as a wrong password.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| password::hash(&super::random_hex(16)).unwrap_or_default())
}

/// Checks a new user's name and role, hashes the password and draws a TOTP secret.
pub async fn prepare(new: &NewUser) -> Result<Prepared, StoreError> {
    if !super::valid_name(&new.name) {
        return Err(invalid(format!(
            "user name {:?} must be 1-64 characters of a-z, 0-9, '.', '_', '@', '-'",
            new.name
        )));
    }
    let role = new.role.ok_or_else(|| invalid("a role is required"))?;
    let password_hash = match &new.password {
        Some(p) => {
            let p = p.clone();
            Some(
                tokio::task::spawn_blocking(move || password::hash(&p))
                    .await
                    .map_err(|e| StoreError::Backend(e.to_string()))?
                    .map_err(invalid)?,
            )
        }
        None => None,
    };
    let totp_secret = (new.totp || role.needs_totp()).then(totp::generate_secret);
    Ok(Prepared {
        role,
        password_hash,
        totp_secret,
    })
}

/// Checks a login against what the store found under the name: password, enabled, then (for
/// roles that need it, or users who enrolled) a fresh TOTP code. On success returns the user and
/// the TOTP step the store must consume by compare-and-set (refusing with
/// [`LoginFailure::BadTotp`] when another login consumed it first).
pub async fn check(
    found: Option<Stored>,
    password_given: &str,
    totp_code: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Result<(User, Option<i64>), LoginFailure>, StoreError> {
    let phc = found
        .as_ref()
        .and_then(|f| f.1.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let given = password_given.to_string();
    let ok = tokio::task::spawn_blocking(move || password::verify(&given, &phc))
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?;
    let Some((user, Some(_), secret, last_step)) = found else {
        return Ok(Err(LoginFailure::BadCredentials));
    };
    if !ok {
        return Ok(Err(LoginFailure::BadCredentials));
    }
    if user.disabled {
        return Ok(Err(LoginFailure::Disabled));
    }
    if !(user.role.needs_totp() || secret.is_some()) {
        return Ok(Ok((user, None)));
    }
    let step = match (secret, totp_code) {
        (Some(s), Some(code)) => totp::verify(&s, code, now.timestamp(), last_step),
        _ => None,
    };
    match step {
        Some(step) => Ok(Ok((user, Some(step)))),
        None => Ok(Err(LoginFailure::BadTotp)),
    }
}
