-- One name space for MQTT usernames: a device's username is either a workspace namespace (form 1)
-- or a Client ID (form 3), so no namespace may equal a Client ID and no Client ID a namespace.
-- Every client and every workspace reserves its name here, in the transaction that creates it.
CREATE TABLE mqtt_usernames (
    name  TEXT PRIMARY KEY,
    -- `namespace` or `client`.
    kind  TEXT NOT NULL
);
-- Names that already collide keep their older owner: the other keeps working in the dashboard but
-- is never what a username resolves to.
INSERT INTO mqtt_usernames (name, kind)
SELECT name, kind FROM (
    SELECT namespace AS name, 'namespace' AS kind, created_at FROM workspaces
    UNION ALL
    SELECT client_id AS name, 'client' AS kind, created_at FROM clients
) AS names WHERE true ORDER BY created_at, kind
ON CONFLICT (name) DO NOTHING;

-- Every session a device holds on a broker, whichever way it was authenticated: by the embedded
-- broker (written by its connection tracker) or through a webhook for an external broker (written
-- when the webhook allows the CONNECT). `broker` is the broker target's name (`embedded:NODE`, or
-- the external target's name), and a broker holds one session per MQTT client identifier, so the
-- row says who owns that identifier there: the client row (organization and Client ID), never the
-- bare string, which another organization may take up once the client is deleted.
--
-- No foreign key to clients: a deleted client's sessions must stay known until its revocation has
-- closed them on their broker. `disconnected_at` is set when an external broker reports that the
-- device went offline (its session may persist); the embedded broker deletes the row instead.
CREATE TABLE device_sessions (
    id               TEXT PRIMARY KEY,
    broker           TEXT NOT NULL,
    mqtt_client_id   TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    organization_id  TEXT NOT NULL,
    source           TEXT NOT NULL,
    connected_at     BIGINT NOT NULL,
    disconnected_at  BIGINT
);
CREATE UNIQUE INDEX device_sessions_identifier ON device_sessions(broker, mqtt_client_id);
CREATE INDEX device_sessions_client ON device_sessions(client_id, broker, connected_at);

INSERT INTO device_sessions (id, broker, mqtt_client_id, client_id, organization_id, source, connected_at)
SELECT s.id, 'embedded:' || s.node, s.mqtt_client_id, s.client_id, c.organization_id, s.source, s.connected_at
FROM live_sessions s JOIN clients c ON c.client_id = s.client_id
WHERE true ORDER BY s.connected_at DESC
ON CONFLICT (broker, mqtt_client_id) DO NOTHING;

-- What the webhooks remembered becomes a session on every external broker, state unknown
-- (offline), so the next revocation still closes it there.
INSERT INTO device_sessions (id, broker, mqtt_client_id, client_id, organization_id, source, connected_at, disconnected_at)
SELECT lower(hex(randomblob(16))), t.name, w.mqtt_client_id, w.client_id,
       COALESCE((SELECT c.organization_id FROM clients c WHERE c.client_id = w.client_id),
                (SELECT o.organization_id FROM revocation_outbox o WHERE o.client_id = w.client_id ORDER BY o.id DESC LIMIT 1)),
       '', w.last_seen_at, w.last_seen_at
FROM webhook_identifiers w CROSS JOIN broker_targets t
WHERE t.kind <> 'embedded'
  AND (EXISTS (SELECT 1 FROM clients c WHERE c.client_id = w.client_id)
       OR EXISTS (SELECT 1 FROM revocation_outbox o WHERE o.client_id = w.client_id))
ON CONFLICT (broker, mqtt_client_id) DO NOTHING;

DROP TABLE live_sessions;
DROP TABLE webhook_identifiers;

-- A delivery a broker refused in a way retrying cannot fix (a 4xx other than 404, 408 or 429) is
-- set aside, with its error, so the revocations behind it go on; Settings → Brokers and the
-- client show it until someone retries it.
ALTER TABLE revocation_deliveries ADD COLUMN needs_attention_at BIGINT;

-- Every change of a client bumps its revision, and a revocation records the revision it made (a
-- deletion: the largest number there is). A CONNECT remembers the revision it authenticated
-- against, so a session authenticated against the client as it was before a revocation is told
-- from one authenticated against it as it is after, however close in time the two are.
ALTER TABLE clients ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE revocation_outbox ADD COLUMN revision BIGINT NOT NULL DEFAULT 0;
