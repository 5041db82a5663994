-- Who is re-checking a sent case right now: a re-check pass claims the cases it will fetch until
-- `claimed_until`, so several `serve --db` desks (or `baqylau notify recheck --db`) on one
-- database do not fetch the same URL twice. A pass that dies leaves its claims to expire.
CREATE TABLE recheck_claims (
    case_id       BIGINT PRIMARY KEY REFERENCES cases (id),
    claimed_until TIMESTAMPTZ NOT NULL
);
