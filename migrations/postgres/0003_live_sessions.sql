-- The MQTT connections each client has right now, written by the embedded broker's connection
-- tracker (in batches) on connect and disconnect. `node` names the Keygate process whose broker
-- holds the connection: a restarted node deletes the rows it left behind.
CREATE TABLE live_sessions (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES clients(client_id) ON DELETE CASCADE,
    node            TEXT NOT NULL,
    mqtt_client_id  TEXT NOT NULL,
    source          TEXT NOT NULL,
    connected_at    BIGINT NOT NULL
);
CREATE INDEX live_sessions_client ON live_sessions(client_id, connected_at);
CREATE INDEX live_sessions_node ON live_sessions(node);
