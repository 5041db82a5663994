-- The desk: users, sessions, tokens, the audit chain, comments, Form 2 notifications, the
-- transactional outbox, the authority's receipts and re-checks.

CREATE TABLE users (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    role           TEXT NOT NULL,
    password_hash  TEXT,
    totp_secret    TEXT,
    totp_last_step BIGINT,
    full_name      TEXT NOT NULL DEFAULT '',
    position       TEXT NOT NULL DEFAULT '',
    email          TEXT NOT NULL DEFAULT '',
    mobile         TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    last_active_at TIMESTAMPTZ,
    disabled       BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    csrf         TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    token_sha256 TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ
);

-- Hash-chained audit log. `at` stays the RFC 3339 text the hash was computed over.
CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    object    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_log_object ON audit_log (object, seq);

CREATE TABLE case_comments (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    author  TEXT NOT NULL,
    body    TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_comments_case ON case_comments (case_id);

CREATE TABLE notifications (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    status          TEXT NOT NULL,
    drafted_by      TEXT NOT NULL,
    drafted_at      TIMESTAMPTZ NOT NULL,
    -- The canonical JSON text, byte for byte what content_sha256 was computed over.
    content_json    TEXT NOT NULL,
    content_sha256  TEXT NOT NULL,
    approved_by     TEXT,
    approved_at     TIMESTAMPTZ,
    approved_sha256 TEXT,
    signatory_json  TEXT,
    sent_at         TIMESTAMPTZ
);

-- A case is in at most one notification: the primary key on case_id enforces it even when two
-- desks draft at once.
CREATE TABLE notification_cases (
    case_id         BIGINT PRIMARY KEY REFERENCES cases (id),
    notification_id BIGINT NOT NULL REFERENCES notifications (id)
);
CREATE INDEX notification_cases_notification ON notification_cases (notification_id);

-- Transactional outbox. `claimed_until` is the lease of the relay publishing the row: relays
-- claim with FOR UPDATE SKIP LOCKED and skip rows under a live lease.
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id BIGINT NOT NULL UNIQUE REFERENCES notifications (id),
    message_id      TEXT NOT NULL UNIQUE,
    payload         TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    published_at    TIMESTAMPTZ,
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    claimed_until   TIMESTAMPTZ
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;

CREATE TABLE receipts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id BIGINT NOT NULL REFERENCES notifications (id),
    line            BIGINT NOT NULL,
    case_id         BIGINT NOT NULL REFERENCES cases (id),
    verdict         TEXT NOT NULL,
    justification   TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    UNIQUE (notification_id, line)
);

CREATE TABLE rechecks (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      BIGINT NOT NULL REFERENCES cases (id),
    checked_at   TIMESTAMPTZ NOT NULL,
    outcome      TEXT NOT NULL,
    http_status  INTEGER,
    final_url    TEXT,
    body_sha256  TEXT,
    mirror_url   TEXT,
    detail       TEXT NOT NULL
);
CREATE INDEX rechecks_case ON rechecks (case_id, checked_at);
