//! The [`Desk`] trait: everything the analysts' desk (web UI, JSON API, admin CLI) asks of a
//! store beyond [`CaseStore`] — users, sessions, API tokens, the audit chain, assignment,
//! comments, merges, related cases, Form 2 notifications and re-checks.
//!
//! Why a trait: the same desk runs embedded (SQLite) and distributed (PostgreSQL), chosen at run
//! time (`baqylau serve --db`), so the web state holds an `Arc<dyn Desk>`. Each store keeps its
//! logic in its inherent methods (same names and signatures on both); the implementations here
//! only delegate, so there is one place per backend where a rule lives. The storage conformance
//! suite runs its checks through this trait, so it exercises exactly what the desk calls.
//!
//! `Desk` extends [`CaseStore`] and [`OutboxStore`]: an `Arc<dyn Desk>` converts (upcasts) into
//! the `Arc<dyn CaseStore>` the case pages use and the `Arc<dyn OutboxStore>` the outbox relay
//! drains.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use model::{CaseStore, CaseSummary, StoreError, Taxonomy};

use super::audit::{AuditEntry, AuditReport};
use super::notifications::{Notification, OutboxMessage, Verdict};
use super::rechecks::{Recheck, Target};
use super::triage::{Comment, Related};
use super::users::{LoginFailure, Session};
use super::{PgCaseStore, SqliteCaseStore};
use crate::auth::{NewUser, User};
use crate::indicators::Kind;
use crate::outbox::OutboxStore;
use crate::recheck::Observation;

/// The desk's operations on one store (see the module docs). Object safe: use `Arc<dyn Desk>`.
#[async_trait]
pub trait Desk: CaseStore + OutboxStore {
    // --- users, sessions, tokens ---

    /// Creates a user; returns it and, when a TOTP factor was enrolled, its secret (shown once).
    async fn add_user(&self, new: NewUser) -> Result<(User, Option<String>), StoreError>;
    /// The user called `name`.
    async fn user(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// Every user, by name.
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
    /// Enabled users with no authenticated request since `since` (the half-yearly review).
    async fn inactive_users(&self, since: DateTime<Utc>) -> Result<Vec<User>, StoreError>;
    /// Enables or disables an account; disabling ends its sessions and revokes its tokens.
    async fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), StoreError>;
    /// Checks a login: password, then (for roles that need it) a fresh TOTP code, consumed on
    /// success so a replayed code fails. The outer error is a storage failure, the inner one a
    /// refused login.
    async fn check_login(
        &self,
        name: &str,
        password_given: &str,
        totp_code: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Result<User, LoginFailure>, StoreError>;
    /// Opens a session for `ttl`; returns `(session token, CSRF token)`.
    async fn create_session(
        &self,
        user_id: i64,
        ttl: Duration,
    ) -> Result<(String, String), StoreError>;
    /// The live session of cookie value `token` (not expired, user enabled).
    async fn session(&self, token: &str) -> Result<Option<Session>, StoreError>;
    /// Ends a session.
    async fn end_session(&self, token: &str) -> Result<(), StoreError>;
    /// Creates an API token acting as user `name`; returned once, stored as a digest.
    async fn create_token(&self, name: &str) -> Result<String, StoreError>;
    /// The enabled user of an API token.
    async fn token_user(&self, token: &str) -> Result<Option<User>, StoreError>;

    // --- audit chain ---

    /// Appends an entry to the hash-chained audit log.
    async fn audit(
        &self,
        actor: &str,
        action: &str,
        object: &str,
        detail: &str,
    ) -> Result<(), StoreError>;
    /// The latest `limit` entries, newest first, optionally only those about `object`.
    async fn audit_entries(
        &self,
        object: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError>;
    /// How many `action` entries on `object` were appended since `since` (login throttle).
    async fn audit_count_since(
        &self,
        action: &str,
        object: &str,
        since: DateTime<Utc>,
    ) -> Result<u32, StoreError>;
    /// Walks the chain and reports the first entry edited, deleted or reordered.
    async fn verify_audit(&self) -> Result<AuditReport, StoreError>;

    // --- triage ---

    /// Assigns a case to an enabled user whose role may triage (`None`: unassigns).
    async fn assign(
        &self,
        case_id: i64,
        assignee: Option<&str>,
        actor: &str,
    ) -> Result<(), StoreError>;
    /// Adds a comment to a case.
    async fn add_comment(&self, case_id: i64, author: &str, body: &str) -> Result<(), StoreError>;
    /// Comments of a case, oldest first.
    async fn comments(&self, case_id: i64) -> Result<Vec<Comment>, StoreError>;
    /// Merges `duplicate` into `primary` (both undecided; `primary` not itself merged).
    async fn merge(&self, duplicate: i64, primary: i64, actor: &str) -> Result<(), StoreError>;
    /// Indicators (wallets, phones, cards, …) found in a case's evidence.
    async fn case_indicators(&self, case_id: i64) -> Result<Vec<(Kind, String)>, StoreError>;
    /// Cases related to a case: sharing an indicator, near-duplicate text, or merged with it.
    async fn related(&self, case_id: i64) -> Result<Vec<Related>, StoreError>;

    // --- notifications (Form 2) ---

    /// Drafts a Form 2 notification over confirmed blocking-route cases of one category.
    async fn draft_notification(
        &self,
        case_ids: &[i64],
        taxonomy: &Taxonomy,
        actor: &str,
    ) -> Result<Notification, StoreError>;
    /// Replaces a notification's cases until it is sent (an approval of the old content is void).
    async fn revise_notification(
        &self,
        id: i64,
        case_ids: &[i64],
        taxonomy: &Taxonomy,
        actor: &str,
    ) -> Result<Notification, StoreError>;
    /// Four-eyes approval bound to the content hash the approver saw; writes the outbox message.
    async fn approve_notification(
        &self,
        id: i64,
        expected_sha256: &str,
        approver: &str,
    ) -> Result<Notification, StoreError>;
    /// One notification.
    async fn notification(&self, id: i64) -> Result<Option<Notification>, StoreError>;
    /// Notifications, newest first, optionally only those holding a case.
    async fn notifications(&self, case_id: Option<i64>) -> Result<Vec<Notification>, StoreError>;
    /// Confirmed blocking-route cases not yet in any notification.
    async fn notifiable_cases(&self) -> Result<Vec<CaseSummary>, StoreError>;
    /// Unpublished outbox messages, oldest first (without claiming them).
    async fn pending_outbox(&self) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Records the authority's answer to one line of a sent notification.
    async fn record_receipt(
        &self,
        id: i64,
        line: u32,
        verdict: Verdict,
        justification: &str,
        actor: &str,
    ) -> Result<Notification, StoreError>;

    // --- re-checks ---

    /// Sent or acknowledged cases whose last re-check (or sending) is older than `every`.
    async fn rechecks_due(&self, every: Duration) -> Result<Vec<Target>, StoreError>;
    /// Up to `limit` of the cases [`Desk::rechecks_due`] lists that nobody has claimed, claimed
    /// for `lease`: a concurrent pass on the same database gets none of them until the lease
    /// ends, so each due URL is fetched once.
    async fn claim_rechecks(
        &self,
        every: Duration,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Target>, StoreError>;
    /// Records what a re-check of `target` observed; returns the judged outcome.
    async fn record_recheck(
        &self,
        target: &Target,
        obs: &Observation,
    ) -> Result<Recheck, StoreError>;
    /// Re-checks of a case, newest first.
    async fn rechecks(&self, case_id: i64) -> Result<Vec<Recheck>, StoreError>;
}

/// Implements [`Desk`] by calling the store's inherent methods of the same names.
macro_rules! delegate_desk {
    ($t:ty) => {
        #[async_trait]
        impl Desk for $t {
            async fn add_user(&self, new: NewUser) -> Result<(User, Option<String>), StoreError> {
                <$t>::add_user(self, new).await
            }
            async fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
                <$t>::user(self, name).await
            }
            async fn list_users(&self) -> Result<Vec<User>, StoreError> {
                <$t>::list_users(self).await
            }
            async fn inactive_users(&self, since: DateTime<Utc>) -> Result<Vec<User>, StoreError> {
                <$t>::inactive_users(self, since).await
            }
            async fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), StoreError> {
                <$t>::set_disabled(self, name, disabled).await
            }
            async fn check_login(
                &self,
                name: &str,
                password_given: &str,
                totp_code: Option<&str>,
                now: DateTime<Utc>,
            ) -> Result<Result<User, LoginFailure>, StoreError> {
                <$t>::check_login(self, name, password_given, totp_code, now).await
            }
            async fn create_session(
                &self,
                user_id: i64,
                ttl: Duration,
            ) -> Result<(String, String), StoreError> {
                <$t>::create_session(self, user_id, ttl).await
            }
            async fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
                <$t>::session(self, token).await
            }
            async fn end_session(&self, token: &str) -> Result<(), StoreError> {
                <$t>::end_session(self, token).await
            }
            async fn create_token(&self, name: &str) -> Result<String, StoreError> {
                <$t>::create_token(self, name).await
            }
            async fn token_user(&self, token: &str) -> Result<Option<User>, StoreError> {
                <$t>::token_user(self, token).await
            }
            async fn audit(
                &self,
                actor: &str,
                action: &str,
                object: &str,
                detail: &str,
            ) -> Result<(), StoreError> {
                <$t>::audit(self, actor, action, object, detail).await
            }
            async fn audit_entries(
                &self,
                object: Option<&str>,
                limit: u32,
            ) -> Result<Vec<AuditEntry>, StoreError> {
                <$t>::audit_entries(self, object, limit).await
            }
            async fn audit_count_since(
                &self,
                action: &str,
                object: &str,
                since: DateTime<Utc>,
            ) -> Result<u32, StoreError> {
                <$t>::audit_count_since(self, action, object, since).await
            }
            async fn verify_audit(&self) -> Result<AuditReport, StoreError> {
                <$t>::verify_audit(self).await
            }
            async fn assign(
                &self,
                case_id: i64,
                assignee: Option<&str>,
                actor: &str,
            ) -> Result<(), StoreError> {
                <$t>::assign(self, case_id, assignee, actor).await
            }
            async fn add_comment(
                &self,
                case_id: i64,
                author: &str,
                body: &str,
            ) -> Result<(), StoreError> {
                <$t>::add_comment(self, case_id, author, body).await
            }
            async fn comments(&self, case_id: i64) -> Result<Vec<Comment>, StoreError> {
                <$t>::comments(self, case_id).await
            }
            async fn merge(
                &self,
                duplicate: i64,
                primary: i64,
                actor: &str,
            ) -> Result<(), StoreError> {
                <$t>::merge(self, duplicate, primary, actor).await
            }
            async fn case_indicators(
                &self,
                case_id: i64,
            ) -> Result<Vec<(Kind, String)>, StoreError> {
                <$t>::case_indicators(self, case_id).await
            }
            async fn related(&self, case_id: i64) -> Result<Vec<Related>, StoreError> {
                <$t>::related(self, case_id).await
            }
            async fn draft_notification(
                &self,
                case_ids: &[i64],
                taxonomy: &Taxonomy,
                actor: &str,
            ) -> Result<Notification, StoreError> {
                <$t>::draft_notification(self, case_ids, taxonomy, actor).await
            }
            async fn revise_notification(
                &self,
                id: i64,
                case_ids: &[i64],
                taxonomy: &Taxonomy,
                actor: &str,
            ) -> Result<Notification, StoreError> {
                <$t>::revise_notification(self, id, case_ids, taxonomy, actor).await
            }
            async fn approve_notification(
                &self,
                id: i64,
                expected_sha256: &str,
                approver: &str,
            ) -> Result<Notification, StoreError> {
                <$t>::approve_notification(self, id, expected_sha256, approver).await
            }
            async fn notification(&self, id: i64) -> Result<Option<Notification>, StoreError> {
                <$t>::notification(self, id).await
            }
            async fn notifications(
                &self,
                case_id: Option<i64>,
            ) -> Result<Vec<Notification>, StoreError> {
                <$t>::notifications(self, case_id).await
            }
            async fn notifiable_cases(&self) -> Result<Vec<CaseSummary>, StoreError> {
                <$t>::notifiable_cases(self).await
            }
            async fn pending_outbox(&self) -> Result<Vec<OutboxMessage>, StoreError> {
                <$t>::pending_outbox(self).await
            }
            async fn record_receipt(
                &self,
                id: i64,
                line: u32,
                verdict: Verdict,
                justification: &str,
                actor: &str,
            ) -> Result<Notification, StoreError> {
                <$t>::record_receipt(self, id, line, verdict, justification, actor).await
            }
            async fn rechecks_due(&self, every: Duration) -> Result<Vec<Target>, StoreError> {
                <$t>::rechecks_due(self, every).await
            }
            async fn claim_rechecks(
                &self,
                every: Duration,
                lease: Duration,
                limit: u32,
            ) -> Result<Vec<Target>, StoreError> {
                <$t>::claim_rechecks(self, every, lease, limit).await
            }
            async fn record_recheck(
                &self,
                target: &Target,
                obs: &Observation,
            ) -> Result<Recheck, StoreError> {
                <$t>::record_recheck(self, target, obs).await
            }
            async fn rechecks(&self, case_id: i64) -> Result<Vec<Recheck>, StoreError> {
                <$t>::rechecks(self, case_id).await
            }
        }
    };
}

delegate_desk!(SqliteCaseStore);
delegate_desk!(PgCaseStore);
