-- Credential events: HTTPS endpoints an organization registers, and every event queued for them.
--
-- An endpoint receives the event types it lists (`event_types`, space-separated texts such as
-- `client.created`), signed per Standard Webhooks with its `secret` (`whsec_…`). The secret is
-- kept as it is: signing needs it, as every Standard Webhooks sender does; it is shown once, when
-- the endpoint is made, and never again. A process takes a lease on an endpoint before it
-- delivers to it, so two processes never deliver to one endpoint at once and each endpoint gets
-- its events in order.
CREATE TABLE event_endpoints (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    url              TEXT NOT NULL,
    event_types      TEXT NOT NULL,
    secret           TEXT NOT NULL,
    enabled          BIGINT NOT NULL DEFAULT 1,
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    lease_holder     TEXT,
    lease_until      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX event_endpoints_organization ON event_endpoints(organization_id, created_at);

-- One row per event and endpoint, written in the transaction of the change the event describes.
-- An endpoint's rows are delivered in `id` order, each only once the one before it was: a later
-- event waits for an earlier one that fails. `message_id` is the `webhook-id` the receiver
-- deduplicates by; a resend is a new row with the same message.
CREATE TABLE event_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id      TEXT NOT NULL REFERENCES event_endpoints(id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_attempt_at  BIGINT,
    response_status  BIGINT,
    last_error       TEXT,
    delivered_at     BIGINT
);
CREATE INDEX event_deliveries_queue ON event_deliveries(endpoint_id, delivered_at, id);
