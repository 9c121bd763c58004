-- Teams: an organization has members with roles, people are invited by one-time links, the
-- install has operators, and dashboard sessions know their user.
--
-- `users.organization_id` stays as the organization a user joined first (the one they signed up
-- with or were invited to); what a user may see is `memberships`, one row per organization.
CREATE TABLE memberships (
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role             TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);
INSERT INTO memberships (organization_id, user_id, role, created_at)
SELECT organization_id, id, 'owner', created_at FROM users;

-- An invitation's link carries a random token; only its SHA-256 is kept. It is used once
-- (accepted_at), can be revoked (revoked_at), and stops at expires_at.
CREATE TABLE invitations (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    role             TEXT NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,
    invited_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    accepted_at      BIGINT,
    revoked_at       BIGINT
);
CREATE INDEX invitations_organization ON invitations(organization_id, created_at);

-- The install itself: one row, written by the first sign-up in its own transaction (so two
-- sign-ups racing for an empty install cannot both claim it). `signup_open` is the dashboard's
-- choice; NULL leaves it to --open-signup.
CREATE TABLE install (
    id           BIGINT PRIMARY KEY CHECK (id = 1),
    claimed_by   TEXT NOT NULL,
    claimed_at   BIGINT NOT NULL,
    signup_open  BIGINT
);
INSERT INTO install (id, claimed_by, claimed_at)
SELECT 1, id, created_at FROM users ORDER BY created_at, id LIMIT 1;

-- Who sees the install's broker targets and opens or closes sign-up: whoever claimed the install,
-- and whoever an operator names.
CREATE TABLE operators (
    user_id     TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    named_by    TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
INSERT INTO operators (user_id, named_by, created_at)
SELECT claimed_by, 'install', claimed_at FROM install;

-- A session's user, so that a password change or "sign out everywhere" can end them, and the
-- account page can list them. Sessions from before have none until their next write.
ALTER TABLE sessions ADD COLUMN user_id TEXT;
ALTER TABLE sessions ADD COLUMN last_active_at BIGINT;
CREATE INDEX sessions_user ON sessions(user_id);
