-- A client has one key, or two while it is being rotated: the new one works at once, the current
-- one until it retires. Each key has its own id, so every session records which key it
-- authenticated with, and a retirement or an expiry closes exactly that key's sessions.
CREATE TABLE client_keys (
    id               TEXT PRIMARY KEY,
    client_id        TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL,
    key_hash         TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    -- When the key stops verifying (NULL: never); `retiring` 1 when that is a rotation's end
    -- rather than an expiry.
    ends_at          BIGINT,
    retiring         BIGINT NOT NULL DEFAULT 0,
    -- When its end was applied (its sessions revoked). A retired key's row is deleted instead.
    ended_at         BIGINT,
    last_used_at     BIGINT,
    last_address     TEXT
);
CREATE INDEX client_keys_client ON client_keys(client_id, created_at);
-- The keys whose end is still to be applied, soonest first.
CREATE INDEX client_keys_due ON client_keys(ends_at) WHERE ended_at IS NULL;

INSERT INTO client_keys (id, client_id, organization_id, key_hash, created_at)
SELECT lower(hex(randomblob(16))), client_id, organization_id, key_hash, updated_at FROM clients;

ALTER TABLE clients DROP COLUMN key_hash;

-- The key a session authenticated with (NULL for sessions recorded before keys had ids).
ALTER TABLE device_sessions ADD COLUMN key_id TEXT;
CREATE INDEX device_sessions_key ON device_sessions(key_id);
-- A revocation of one key (retired, expired) closes only that key's sessions.
ALTER TABLE revocation_outbox ADD COLUMN key_id TEXT;

-- How many days a new key works for by default in this organization (NULL: never expires).
ALTER TABLE organizations ADD COLUMN default_key_days BIGINT;
