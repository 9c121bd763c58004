-- Devices, restricted clients and topic rules.
--
-- A device is what a restricted client's scope selects: by its id (the MQTT client identifier it
-- connects with in connection form 3) or by one of its `key=value` tags. Each workspace has its own
-- device ids. `tags` is the device's tag list as shown (`a=1, b=2`); `device_tags` holds the same
-- tags one per row, so a scope's devices are one indexed query. The store writes both together.
CREATE TABLE devices (
    id               TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    device_id        TEXT NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    name_folded      TEXT NOT NULL DEFAULT '',
    tags             TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    last_seen_at     BIGINT,
    -- The Client ID of the client the device last connected with (no foreign key: the client may
    -- be deleted since).
    last_client_id   TEXT
);
CREATE UNIQUE INDEX devices_workspace_device ON devices(workspace_id, device_id);
CREATE INDEX devices_workspace_created ON devices(workspace_id, created_at);
CREATE INDEX devices_workspace_name ON devices(workspace_id, name_folded);
CREATE INDEX devices_workspace_last_seen ON devices(workspace_id, last_seen_at);

CREATE TABLE device_tags (
    device_row    TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    workspace_id  TEXT NOT NULL,
    tag           TEXT NOT NULL,
    PRIMARY KEY (device_row, tag)
);
CREATE INDEX device_tags_workspace_tag ON device_tags(workspace_id, tag);

-- A restricted client's scope, as its canonical list (`d-1, env=prod`); NULL: any device in the
-- workspace. Its topic rules, as a JSON array, in order; `[]`: everything inside the namespace.
ALTER TABLE clients ADD COLUMN scope TEXT;
ALTER TABLE clients ADD COLUMN topic_rules TEXT NOT NULL DEFAULT '[]';

