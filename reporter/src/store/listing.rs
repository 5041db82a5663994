//! The case list's query, the same in both SQL dialects: its columns, the filter columns, the
//! "still open" condition and the orders. Each store binds the values its own way (`?N` or
//! `$N`); keeping the text in one place keeps the two lists alike row for row.

use model::{CaseFilter, CaseSort};

/// The columns of a case summary, from `cases c` (no `WHERE` yet).
pub(crate) const SELECT: &str =
    "SELECT c.id, c.category, c.url, c.host, c.source_kind, c.status, c.route, c.severity,
        c.first_seen, c.last_seen,
        (SELECT COUNT(*) FROM case_hits h WHERE h.case_id = c.id),
        EXISTS (SELECT 1 FROM evidence e JOIN screenshots s ON s.evidence_id = e.id
                WHERE e.case_id = c.id),
        c.assignee, c.status_since, c.merged_into
     FROM cases c";

/// Appended after `c.first_seen < <value>` of a `detected_before` filter: only cases not yet
/// closed count as overdue.
pub(crate) const STILL_OPEN: &str =
    " AND c.status NOT IN ('sent', 'acknowledged', 'rejected', 'dismissed')";

/// Condition that leaves merged duplicates out.
pub(crate) const NOT_MERGED: &str = "c.merged_into IS NULL";

/// The equality filters that `filter` sets: `(column of c, value)`.
pub(crate) fn equal_columns(filter: &CaseFilter) -> Vec<(&'static str, String)> {
    [
        ("status", filter.status.map(|s| s.as_str().to_string())),
        ("category", filter.category.clone()),
        ("host", filter.host.clone()),
        ("source_kind", filter.source.clone()),
        ("assignee", filter.assignee.clone()),
    ]
    .into_iter()
    .filter_map(|(column, value)| value.map(|v| (column, v)))
    .collect()
}

/// The `ORDER BY` clause of `sort`.
pub(crate) fn order_by(sort: CaseSort) -> &'static str {
    match sort {
        CaseSort::Newest => " ORDER BY c.last_seen DESC, c.id DESC",
        CaseSort::Oldest => " ORDER BY c.first_seen ASC, c.id ASC",
        CaseSort::Severity => {
            " ORDER BY CASE c.severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END,
                c.last_seen DESC, c.id DESC"
        }
    }
}
