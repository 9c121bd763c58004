-- Where each revocation must be delivered, and how far it got.
--
-- A broker target is one broker the revocation worker kicks clients on: the embedded broker of a
-- Keygate node (`embedded:NODE`) or an external broker's admin API. A process registers the
-- targets it serves at start, and takes a lease on each before delivering, so two processes never
-- deliver to one target at once and each target sees its revocations in outbox order.
CREATE TABLE broker_targets (
    name             TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    -- Where it is, without credentials (shown on Settings → Brokers).
    endpoint         TEXT NOT NULL,
    registered_at    BIGINT NOT NULL,
    lease_holder     TEXT,
    lease_until      BIGINT NOT NULL DEFAULT 0,
    -- Consecutive failed attempts; 0 when the last attempt succeeded.
    failures         BIGINT NOT NULL DEFAULT 0,
    last_success_at  BIGINT,
    last_error       TEXT,
    last_error_at    BIGINT
);

-- One row per revocation and target, written with the outbox row (or, for a target registered
-- later, when it registers). The outbox row is done when every one of its deliveries is.
CREATE TABLE revocation_deliveries (
    outbox_id        BIGINT NOT NULL REFERENCES revocation_outbox(id) ON DELETE CASCADE,
    target           TEXT NOT NULL REFERENCES broker_targets(name) ON DELETE CASCADE,
    attempts         BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  BIGINT,
    done_at          BIGINT,
    PRIMARY KEY (target, outbox_id)
);
CREATE INDEX revocation_deliveries_outbox ON revocation_deliveries(outbox_id);
CREATE INDEX revocation_outbox_client ON revocation_outbox(client_id, id);

-- The MQTT client identifiers external brokers asked the webhooks about, per client: an admin API
-- disconnects by client identifier, and devices of forms 2 and 3 choose their own.
CREATE TABLE webhook_identifiers (
    client_id        TEXT NOT NULL,
    mqtt_client_id   TEXT NOT NULL,
    last_seen_at     BIGINT NOT NULL,
    PRIMARY KEY (client_id, mqtt_client_id)
);
