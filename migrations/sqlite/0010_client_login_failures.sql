-- Refused logins of each client, one row per client and hour: how many, and the latest one (when,
-- from which address, why). The back-off tallies failures in memory and adds each tally here once
-- per audit window, so a flood of failures costs one upsert per client per window, never a row per
-- attempt. Rows older than 30 days are deleted; a deleted client's go with it.
CREATE TABLE client_login_failures (
    client_id        TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL,
    -- The hour's start, Unix milliseconds.
    hour             BIGINT NOT NULL,
    failures         BIGINT NOT NULL,
    last_at          BIGINT NOT NULL,
    last_address     TEXT NOT NULL,
    -- A LoginFailureReason's text (`wrong_key`, `inactive`, `locked_out`, …).
    last_reason      TEXT NOT NULL,
    PRIMARY KEY (client_id, hour)
);
CREATE INDEX client_login_failures_hour ON client_login_failures(hour);
