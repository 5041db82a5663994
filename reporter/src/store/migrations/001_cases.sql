-- Cases, their hits and evidence, and the decisions taken on them.
-- Times are RFC 3339 UTC text with microseconds and a `Z`, so that they sort as text.

CREATE TABLE cases (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key     TEXT NOT NULL UNIQUE,
    category      TEXT NOT NULL,
    url           TEXT NOT NULL,
    host          TEXT NOT NULL,
    source_kind   TEXT NOT NULL,
    source_json   TEXT NOT NULL,
    status        TEXT NOT NULL,
    route         TEXT,
    decision_note TEXT,
    decided_by    TEXT,
    decided_at    TEXT,
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    severity      TEXT NOT NULL
);
CREATE INDEX cases_last_seen ON cases (last_seen DESC, id DESC);
CREATE INDEX cases_status ON cases (status);

CREATE TABLE case_hits (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    capture_id    TEXT NOT NULL,
    rule          TEXT NOT NULL,
    rule_version  INTEGER NOT NULL,
    severity      TEXT NOT NULL,
    score         REAL NOT NULL,
    spans_json    TEXT NOT NULL,
    matched       TEXT NOT NULL,
    at            TEXT NOT NULL,
    UNIQUE (case_id, capture_id, rule, rule_version)
);

CREATE TABLE evidence (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id             INTEGER NOT NULL REFERENCES cases (id),
    capture_id          TEXT NOT NULL,
    captured_at         TEXT NOT NULL,
    url                 TEXT NOT NULL,
    final_url           TEXT NOT NULL,
    ip                  TEXT,
    http_status         INTEGER,
    protocol            TEXT NOT NULL,
    body_sha256         TEXT,
    warc_json           TEXT,
    title               TEXT NOT NULL,
    text                TEXT NOT NULL,
    screenshot_path     TEXT,
    screenshot_sha256   TEXT,
    screenshot_width    INTEGER,
    screenshot_height   INTEGER,
    screenshot_taken_at TEXT,
    UNIQUE (case_id, capture_id)
);

-- Every status change made by a person (review start, confirmation, dismissal): who, when, why.
CREATE TABLE case_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    action      TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    route       TEXT,
    note        TEXT,
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id);
