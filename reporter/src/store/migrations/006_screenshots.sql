-- A capture is documented on a desktop and on a phone: one screenshot row per viewport (the same
-- table as the PostgreSQL store). `evidence.screenshot_*` keeps the desktop shot as before.
CREATE TABLE screenshots (
    evidence_id INTEGER NOT NULL REFERENCES evidence (id),
    viewport    TEXT NOT NULL CHECK (viewport IN ('desktop', 'mobile')),
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    taken_at    TEXT NOT NULL,
    PRIMARY KEY (evidence_id, viewport)
);
INSERT INTO screenshots (evidence_id, viewport, path, sha256, width, height, taken_at)
    SELECT id, 'desktop', screenshot_path, screenshot_sha256, screenshot_width,
        screenshot_height, screenshot_taken_at
    FROM evidence WHERE screenshot_path IS NOT NULL;
