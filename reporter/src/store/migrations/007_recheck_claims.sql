-- Who is re-checking a sent case right now: a re-check pass claims the cases it will fetch until
-- `claimed_until`, so two desks (or a desk and `baqylau notify recheck`) on one database do not
-- fetch the same URL twice. A pass that dies leaves its claims to expire.
CREATE TABLE recheck_claims (
    case_id       INTEGER PRIMARY KEY REFERENCES cases (id),
    claimed_until TEXT NOT NULL
);
