-- Times are Unix milliseconds (BIGINT) and ids are TEXT on both engines, so one set of queries
-- serves SQLite and PostgreSQL.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email            TEXT NOT NULL UNIQUE,
    password_hash    TEXT NOT NULL,
    view_mode        TEXT NOT NULL DEFAULT 'list',
    created_at       BIGINT NOT NULL
);
CREATE INDEX users_organization ON users(organization_id);

CREATE TABLE workspaces (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    namespace        TEXT NOT NULL UNIQUE,
    created_at       BIGINT NOT NULL
);
CREATE INDEX workspaces_organization ON workspaces(organization_id);

CREATE TABLE clients (
    client_id        TEXT PRIMARY KEY,
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    active           BIGINT NOT NULL DEFAULT 1,
    key_hash         TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    last_seen_at     BIGINT
);
CREATE INDEX clients_workspace_created ON clients(workspace_id, created_at);
CREATE INDEX clients_workspace_client_id ON clients(workspace_id, client_id);
CREATE INDEX clients_workspace_name ON clients(workspace_id, name);
CREATE INDEX clients_workspace_last_seen ON clients(workspace_id, last_seen_at);

CREATE TABLE audit_events (
    id               BIGSERIAL PRIMARY KEY,
    organization_id  TEXT NOT NULL,
    workspace_id     TEXT,
    actor            TEXT NOT NULL,
    action           TEXT NOT NULL,
    target           TEXT NOT NULL,
    detail           TEXT NOT NULL DEFAULT '',
    address          TEXT NOT NULL,
    at               BIGINT NOT NULL
);
CREATE INDEX audit_events_organization_at ON audit_events(organization_id, at);

-- Written in the same transaction as the change that revokes a credential; drained by the
-- revocation worker, which keeps per-target delivery state.
CREATE TABLE revocation_outbox (
    id               BIGSERIAL PRIMARY KEY,
    client_id        TEXT NOT NULL,
    organization_id  TEXT NOT NULL,
    reason           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    done_at          BIGINT
);
CREATE INDEX revocation_outbox_pending ON revocation_outbox(done_at, id);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    record       TEXT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires_at);
