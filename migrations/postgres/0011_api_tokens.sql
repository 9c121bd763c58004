-- API tokens: what scripts and CI authenticate with. The token (`kgt_…`) is shown once; only its
-- SHA-256 is kept (it is 256 random bits, so a fast hash is enough, as for generated keys). A token
-- acts in one organization, with a scope (`read`, `manage_clients`), in all of its workspaces or
-- the one named, until it expires or is revoked, and only while its creator (`created_by_user`) is
-- a member whose role allows its scope. `last_used_at` is written at most once a minute.
CREATE TABLE api_tokens (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    workspace_id     TEXT REFERENCES workspaces(id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    scope            TEXT NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,
    created_by       TEXT NOT NULL,
    created_by_user  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT,
    last_used_at     BIGINT,
    revoked_at       BIGINT
);
CREATE INDEX api_tokens_organization ON api_tokens(organization_id, created_at);
