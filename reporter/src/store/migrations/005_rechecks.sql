-- Re-checks of sent resources: is the page still reachable, blocked, changed, or moved?
CREATE TABLE rechecks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    checked_at   TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    http_status  INTEGER,
    final_url    TEXT,
    body_sha256  TEXT,
    mirror_url   TEXT,
    detail       TEXT NOT NULL
);
CREATE INDEX rechecks_case ON rechecks (case_id, checked_at);
