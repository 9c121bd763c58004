-- The `Idempotency-Key` of a REST create, written in the same transaction as the client it made:
-- a retried request (the same key from the same caller) answers with that client instead of
-- making a second one, even when the first answer was lost or the process died before sending
-- it. `request_hash` tells a retry from a different request reusing the key. Rows older than a
-- day are deleted as new ones are written.
CREATE TABLE idempotency_keys (
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    caller           TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (organization_id, caller, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);
