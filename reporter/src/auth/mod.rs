//! Who may use the desk and what each role may do (DESIGN §7).
//!
//! Authentication is password (argon2id) plus, for approvers and admins, a TOTP second factor —
//! the Law on Informatization asks for multi-factor authentication on restricted data, and the
//! approver's signature is what sends a notification onward. Authorization is a fixed table from
//! [`Role`] to [`Perm`]: every handler asks for the permission it needs, on the server, for every
//! request, so hiding a button in the UI is never the only guard.

pub mod credentials;
pub mod password;
pub mod totp;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A role of a desk user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Triages cases, confirms or dismisses, drafts notifications.
    Analyst,
    /// Writes rules; reads cases to judge rule quality, comments.
    RuleAuthor,
    /// The authorized official: approves (signs) notifications drafted by someone else.
    Approver,
    /// Manages users and reads the audit trail.
    Admin,
}

impl Role {
    /// All roles.
    pub const ALL: [Role; 4] = [Role::Analyst, Role::RuleAuthor, Role::Approver, Role::Admin];

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Analyst => "analyst",
            Role::RuleAuthor => "rule_author",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s.trim())
    }

    /// Whether logging in needs a TOTP code besides the password.
    pub fn needs_totp(self) -> bool {
        matches!(self, Role::Approver | Role::Admin)
    }

    /// Whether this role holds `perm`.
    pub fn allows(self, perm: Perm) -> bool {
        use Perm::*;
        match self {
            Role::Analyst => matches!(perm, ViewCases | Triage | Comment | Draft | Export),
            Role::RuleAuthor => matches!(perm, ViewCases | Comment),
            Role::Approver => matches!(perm, ViewCases | Comment | Draft | Approve | Export),
            Role::Admin => matches!(perm, ViewCases | Admin | Export),
        }
    }
}

/// Something a request may want to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    /// Read cases and their evidence (every view is audited).
    ViewCases,
    /// Decide, assign, merge cases.
    Triage,
    /// Comment on cases.
    Comment,
    /// Draft or edit Form 2 notifications.
    Draft,
    /// Approve notifications (four eyes: never one's own draft).
    Approve,
    /// Evidence bundles.
    Export,
    /// Users, Form 1, inactive accounts, audit.
    Admin,
}

/// A desk user as shown in admin pages and Form 1 (no secrets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Surname, name, patronymic (Form 1).
    pub full_name: String,
    /// Position (printed under the approver's signature on Form 2).
    pub position: String,
    /// Work e-mail (Form 1).
    pub email: String,
    /// Mobile phone (Form 1).
    pub mobile: String,
    /// Whether a TOTP secret is enrolled.
    pub has_totp: bool,
    /// Account creation.
    pub created_at: DateTime<Utc>,
    /// Last authenticated request.
    pub last_active_at: Option<DateTime<Utc>>,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
}

/// Fields of a new user.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// Login name: 1–64 of `a-z 0-9 . _ @ -`.
    pub name: String,
    /// Role.
    pub role: Option<Role>,
    /// Password (hashed before storing); `None` for API-only accounts.
    pub password: Option<String>,
    /// Enroll a TOTP secret.
    pub totp: bool,
    /// Full name.
    pub full_name: String,
    /// Position.
    pub position: String,
    /// Work e-mail.
    pub email: String,
    /// Mobile phone.
    pub mobile: String,
}

/// Whether `name` is a valid login name.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b))
}

/// `n` random bytes from the operating system, hex-encoded (tokens, session ids, CSRF tokens).
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    // The OS generator failing means no secure token can be made at all; nothing to fall back to.
    getrandom::fill(&mut buf).expect("operating system random generator");
    hex::encode(buf)
}

/// SHA-256 of a secret token, as stored (the token itself never is).
pub fn token_digest(token: &str) -> String {
    model::sha256_hex(token.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_table() {
        assert!(Role::Analyst.allows(Perm::Triage));
        assert!(!Role::Analyst.allows(Perm::Approve));
        assert!(!Role::Analyst.allows(Perm::Admin));
        assert!(Role::Approver.allows(Perm::Approve));
        assert!(!Role::Approver.allows(Perm::Triage));
        assert!(!Role::RuleAuthor.allows(Perm::Draft));
        assert!(Role::Admin.allows(Perm::Admin));
        assert!(!Role::Admin.allows(Perm::Approve));
        for r in Role::ALL {
            assert!(r.allows(Perm::ViewCases));
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert!(Role::Approver.needs_totp() && Role::Admin.needs_totp());
        assert!(!Role::Analyst.needs_totp());
    }

    #[test]
    fn names_and_tokens() {
        assert!(valid_name("aigul.s@afm"));
        assert!(!valid_name(""));
        assert!(!valid_name("a b"));
        assert!(!valid_name("әйгүл"));
        let a = random_hex(32);
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_hex(32));
        assert_eq!(token_digest("x").len(), 64);
    }
}
