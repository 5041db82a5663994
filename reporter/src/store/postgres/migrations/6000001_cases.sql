-- Cases, their hits and evidence (with one screenshot per viewport), and the decisions taken on
-- them. The PostgreSQL twin of the SQLite schema (reporter/src/store/migrations/001..005), with
-- native types: times are timestamptz, structured values jsonb.

CREATE TABLE cases (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- `category|resource`: the unique key is what keeps concurrent workers from opening the same
    -- case twice (INSERT ... ON CONFLICT in record_flagged).
    dedup_key     TEXT NOT NULL UNIQUE,
    category      TEXT NOT NULL,
    url           TEXT NOT NULL,
    host          TEXT NOT NULL,
    source_kind   TEXT NOT NULL,
    source_json   JSONB NOT NULL,
    status        TEXT NOT NULL,
    route         TEXT,
    decision_note TEXT,
    decided_by    TEXT,
    decided_at    TIMESTAMPTZ,
    first_seen    TIMESTAMPTZ NOT NULL,
    last_seen     TIMESTAMPTZ NOT NULL,
    severity      TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high')),
    assignee      TEXT,
    status_since  TIMESTAMPTZ,
    merged_into   BIGINT REFERENCES cases (id),
    simhash       BIGINT
);
CREATE INDEX cases_last_seen ON cases (last_seen DESC, id DESC);
CREATE INDEX cases_status ON cases (status);

CREATE TABLE case_hits (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       BIGINT NOT NULL REFERENCES cases (id),
    capture_id    TEXT NOT NULL,
    rule          TEXT NOT NULL,
    rule_version  BIGINT NOT NULL,
    severity      TEXT NOT NULL,
    score         DOUBLE PRECISION NOT NULL,
    spans         JSONB NOT NULL,
    matched       TEXT NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    UNIQUE (case_id, capture_id, rule, rule_version)
);

CREATE TABLE evidence (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      BIGINT NOT NULL REFERENCES cases (id),
    capture_id   TEXT NOT NULL,
    captured_at  TIMESTAMPTZ NOT NULL,
    url          TEXT NOT NULL,
    final_url    TEXT NOT NULL,
    ip           TEXT,
    http_status  INTEGER,
    protocol     TEXT NOT NULL,
    body_sha256  TEXT,
    warc         JSONB,
    title        TEXT NOT NULL,
    text         TEXT NOT NULL,
    UNIQUE (case_id, capture_id)
);

-- A capture may be documented on a desktop and on a phone: one row per viewport.
CREATE TABLE screenshots (
    evidence_id BIGINT NOT NULL REFERENCES evidence (id),
    viewport    TEXT NOT NULL CHECK (viewport IN ('desktop', 'mobile')),
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    width       BIGINT NOT NULL,
    height      BIGINT NOT NULL,
    taken_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (evidence_id, viewport)
);

-- Every status change made by a person or the relay: who, when, why.
CREATE TABLE case_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    action      TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    route       TEXT,
    note        TEXT,
    actor       TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id);

-- Indicators found in evidence: what links cases into "related cases".
CREATE TABLE case_indicators (
    case_id BIGINT NOT NULL REFERENCES cases (id),
    kind    TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (case_id, kind, value)
);
CREATE INDEX case_indicators_value ON case_indicators (kind, value);
