//! The case workflow rules (DESIGN §7), kept apart from storage.
//!
//! Every backend must refuse the same things — an empty justification, a decision on a case that
//! was already decided — so the checks live here as pure functions that the SQLite store (and any
//! later backend) calls inside its transaction, and that the tests exercise without a database.

use model::{CaseStatus, Decision, Route, StoreError};

/// Longest free-text note (justification or reason) accepted, in characters.
pub const MAX_NOTE_CHARS: usize = 4000;

/// A decision after validation: what the case becomes and the note to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDecision {
    /// Name recorded in the audit trail (`confirm`, `dismiss`).
    pub action: &'static str,
    /// Status after the decision.
    pub status: CaseStatus,
    /// Route, for a confirmation.
    pub route: Option<Route>,
    /// Justification or reason, trimmed.
    pub note: String,
}

/// Checks a decision's input (not the case's state): a confirmation needs a justification, a
/// dismissal a reason. The route of a confirmation is already typed, so it cannot be missing.
pub fn validate(decision: &Decision) -> Result<ValidDecision, StoreError> {
    let (action, status, route, note, what) = match decision {
        Decision::Confirm {
            route,
            justification,
        } => (
            "confirm",
            CaseStatus::Confirmed,
            Some(*route),
            justification,
            "justification",
        ),
        Decision::Dismiss { reason } => ("dismiss", CaseStatus::Dismissed, None, reason, "reason"),
    };
    Ok(ValidDecision {
        action,
        status,
        route,
        note: note_text(what, note)?,
    })
}

/// Checks a free-text note (justification, reason, comment) called `what` in messages: not empty
/// once trimmed and at most [`MAX_NOTE_CHARS`] characters. Returns it trimmed.
pub fn note_text(what: &str, text: &str) -> Result<String, StoreError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(StoreError::Invalid(format!("{what} must not be empty")));
    }
    if t.chars().count() > MAX_NOTE_CHARS {
        return Err(StoreError::Invalid(format!(
            "{what} is longer than {MAX_NOTE_CHARS} characters"
        )));
    }
    Ok(t.to_string())
}

/// Checks the name an action is recorded under: not empty once trimmed. Returns it trimmed.
pub fn check_actor(actor: &str) -> Result<&str, StoreError> {
    let actor = actor.trim();
    if actor.is_empty() {
        Err(StoreError::Invalid("actor must not be empty".into()))
    } else {
        Ok(actor)
    }
}

/// Checks that a case in `current` status may be decided.
pub fn check_decidable(id: i64, current: CaseStatus) -> Result<(), StoreError> {
    if current.is_open() {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "case {id} is {} and can no longer be confirmed or dismissed",
            current.as_str()
        )))
    }
}

/// Status after an analyst opens a case: `new → in_review`. `None` means nothing changes (already
/// in review); decided cases refuse.
pub fn review_transition(id: i64, current: CaseStatus) -> Result<Option<CaseStatus>, StoreError> {
    match current {
        CaseStatus::New => Ok(Some(CaseStatus::InReview)),
        CaseStatus::InReview => Ok(None),
        other => Err(StoreError::Conflict(format!(
            "case {id} is {} and cannot go back to review",
            other.as_str()
        ))),
    }
}

/// Checks that case `id`, now `current`, is in one of the statuses `from` a notification step
/// moves it out of.
pub fn check_in(id: i64, current: CaseStatus, from: &[CaseStatus]) -> Result<(), StoreError> {
    if from.contains(&current) {
        return Ok(());
    }
    Err(StoreError::Conflict(format!(
        "case {id} is {} (expected {})",
        current.as_str(),
        from.iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" or ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_table() {
        let confirm = |j: &str| Decision::Confirm {
            route: Route::Blocking,
            justification: j.into(),
        };
        let dismiss = |r: &str| Decision::Dismiss { reason: r.into() };
        let long = "ә".repeat(MAX_NOTE_CHARS + 1);
        let cases: Vec<(Decision, Option<CaseStatus>)> = vec![
            (confirm("казино айнасы"), Some(CaseStatus::Confirmed)),
            (confirm("   "), None),
            (confirm(""), None),
            (confirm(&long), None),
            (dismiss("жарнама емес"), Some(CaseStatus::Dismissed)),
            (dismiss("\n\t"), None),
        ];
        for (d, want) in cases {
            let got = validate(&d).map(|v| v.status).ok();
            assert_eq!(got, want, "{d:?}");
        }
        let v = validate(&confirm("  себебі  ")).unwrap();
        assert_eq!(v.note, "себебі");
        assert_eq!(v.route, Some(Route::Blocking));
    }

    #[test]
    fn only_open_cases_are_decidable() {
        for s in CaseStatus::ALL {
            assert_eq!(check_decidable(1, s).is_ok(), s.is_open(), "{s:?}");
        }
    }

    #[test]
    fn review_starts_only_from_new() {
        assert_eq!(
            review_transition(1, CaseStatus::New).unwrap(),
            Some(CaseStatus::InReview)
        );
        assert_eq!(review_transition(1, CaseStatus::InReview).unwrap(), None);
        assert!(matches!(
            review_transition(1, CaseStatus::Dismissed),
            Err(StoreError::Conflict(_))
        ));
    }
}
