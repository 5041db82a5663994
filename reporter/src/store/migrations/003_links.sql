-- Indicators found in evidence (phones, IBANs, cards, wallets, Telegram handles) and a SimHash
-- fingerprint of the latest evidence text: what links cases into "related cases".
CREATE TABLE case_indicators (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    kind    TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (case_id, kind, value)
);
CREATE INDEX case_indicators_value ON case_indicators (kind, value);

ALTER TABLE cases ADD COLUMN simhash INTEGER;
