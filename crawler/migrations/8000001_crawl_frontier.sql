-- Shared crawl frontier (distributed mode). Every table is prefixed `crawl_` so the frontier can
-- share a database (and the `_sqlx_migrations` table) with the reporter's tables; the crawler's
-- migration versions live in the 8_000_000 range for the same reason.
-- Times that drive politeness (`next_fetch_at`, `parked_until`, `hold_until`, `next_visit_at`)
-- are milliseconds since the Unix epoch, as in the embedded SQLite frontier; lease and
-- heartbeat times are the database server's `now()`, so worker clocks never decide who owns a
-- host.

CREATE TABLE crawl_urls (
    id            BIGSERIAL PRIMARY KEY,
    url           TEXT NOT NULL UNIQUE,
    host          TEXT NOT NULL,
    depth         INTEGER NOT NULL,
    page_seq      INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL DEFAULT 'queued',
    attempts      INTEGER NOT NULL DEFAULT 0,
    claimed_by    TEXT,
    discovered_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ,
    last_error    TEXT,
    next_fetch_at BIGINT NOT NULL DEFAULT 0,
    etag          TEXT,
    last_modified TEXT,
    simhash       BIGINT,
    revisit_ms    BIGINT,
    next_visit_at BIGINT
);
CREATE INDEX crawl_urls_host_state ON crawl_urls (host, state, id);
CREATE INDEX crawl_urls_revisit ON crawl_urls (next_visit_at)
    WHERE state = 'done' AND next_visit_at IS NOT NULL;

-- One row per politeness key. `owner`/`lease_until`: the worker that alone may fetch the host,
-- and until when its lease holds unless renewed. The rest is politeness state that must follow
-- the host to its next owner.
CREATE TABLE crawl_hosts (
    host               TEXT PRIMARY KEY,
    owner              TEXT,
    lease_until        TIMESTAMPTZ,
    parked_until       BIGINT NOT NULL DEFAULT 0,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    reason             TEXT,
    hold_until         BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX crawl_hosts_owner ON crawl_hosts (owner);

-- Live crawler workers: a worker is alive while `heartbeat_at + ttl_ms` is in the future.
CREATE TABLE crawl_workers (
    id           TEXT PRIMARY KEY,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    ttl_ms       BIGINT NOT NULL
);

-- The fetch log (the embedded mode's `captures` table): one row per fetch attempt.
CREATE TABLE crawl_fetches (
    id            BIGSERIAL PRIMARY KEY,
    url           TEXT NOT NULL,
    final_url     TEXT NOT NULL,
    host          TEXT NOT NULL,
    status        INTEGER,
    error_kind    TEXT,
    error_message TEXT,
    bytes         BIGINT NOT NULL DEFAULT 0,
    captures      BIGINT NOT NULL DEFAULT 0,
    fetched_at    TEXT NOT NULL,
    retried       BOOLEAN NOT NULL DEFAULT false,
    simhash       BIGINT,
    worker        TEXT NOT NULL
);
