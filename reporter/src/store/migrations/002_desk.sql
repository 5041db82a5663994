-- People, sessions, the audit chain, and the work on a case after the first decision:
-- assignment, comments, merges, indicators, Form 2 notifications, the outbox and receipts.

-- Users of the analyst desk (DESIGN §7 roles). `email`, `mobile`, `full_name`, `position` are the
-- Form 1 columns; `last_active_at` feeds the half-yearly inactive-accounts list.
CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    password_hash  TEXT,
    totp_secret    TEXT,
    totp_last_step INTEGER,
    full_name      TEXT NOT NULL DEFAULT '',
    position       TEXT NOT NULL DEFAULT '',
    email          TEXT NOT NULL DEFAULT '',
    mobile         TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    last_active_at TEXT,
    disabled       INTEGER NOT NULL DEFAULT 0
);

-- Browser sessions: only the SHA-256 of the cookie value is stored.
CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);

-- API bearer tokens: only the SHA-256 is stored.
CREATE TABLE api_tokens (
    token_sha256 TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);

-- Hash-chained audit log: hash = SHA-256 over the row and the previous row's hash.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    object    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);

ALTER TABLE cases ADD COLUMN assignee TEXT;
ALTER TABLE cases ADD COLUMN status_since TEXT;
ALTER TABLE cases ADD COLUMN merged_into INTEGER REFERENCES cases (id);
UPDATE cases SET status_since = COALESCE(decided_at, first_seen);

CREATE TABLE case_comments (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    author  TEXT NOT NULL,
    body    TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX case_comments_case ON case_comments (case_id);

-- Form 2 notifications. The content (JSON) and its SHA-256 are fixed at drafting; an approval
-- names the hash it approved, so any later edit (new hash) voids it.
CREATE TABLE notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL,
    drafted_by      TEXT NOT NULL,
    drafted_at      TEXT NOT NULL,
    content_json    TEXT NOT NULL,
    content_sha256  TEXT NOT NULL,
    approved_by     TEXT,
    approved_at     TEXT,
    approved_sha256 TEXT,
    sent_at         TEXT
);

CREATE TABLE notification_cases (
    notification_id INTEGER NOT NULL REFERENCES notifications (id),
    case_id         INTEGER NOT NULL REFERENCES cases (id),
    PRIMARY KEY (notification_id, case_id)
);

-- Transactional outbox: written in the approval transaction, published (and marked) afterwards.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER NOT NULL UNIQUE REFERENCES notifications (id),
    message_id      TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    published_at    TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
);

-- The authority's answer, per line of a notification.
CREATE TABLE receipts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id INTEGER NOT NULL REFERENCES notifications (id),
    line            INTEGER NOT NULL,
    case_id         INTEGER NOT NULL REFERENCES cases (id),
    verdict         TEXT NOT NULL,
    justification   TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    at              TEXT NOT NULL,
    UNIQUE (notification_id, line)
);
