-- What distributed crawler workers remember of Telegram posts: the embedded crawler's
-- `telegram_posts` table (crawler/src/watch.rs), shared so that any worker revisiting a channel
-- page publishes only new and edited posts. One row per post seen (post id 0: the channel
-- header), with the SHA-256 of its title and text; `versions` counts the texts seen (an edit is a
-- new capture version, the old capture stays in its case); `deleted_at` is when a worker noticed
-- the post missing from a page whose id range covers it.

CREATE TABLE crawl_telegram_posts (
    channel     TEXT NOT NULL,
    post_id     BIGINT NOT NULL,
    url         TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    versions    INTEGER NOT NULL DEFAULT 1,
    capture_id  TEXT NOT NULL,
    first_seen  TIMESTAMPTZ NOT NULL,
    last_seen   TIMESTAMPTZ NOT NULL,
    edited_at   TIMESTAMPTZ,
    deleted_at  TIMESTAMPTZ,
    PRIMARY KEY (channel, post_id)
);
