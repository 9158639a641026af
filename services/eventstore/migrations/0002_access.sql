-- Accounts of the people who use Casetrack. Not events: a password hash must be replaceable and an account's
-- details are not case history. What accounts did is in the audit trail (ADR 0007).
CREATE TABLE accounts (
    account_id           TEXT PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE,
    display_name         TEXT NOT NULL,
    -- A role code (hub_officer, caseworker, ...) and, for per-service roles, the service code.
    role                 TEXT NOT NULL,
    service              TEXT,
    -- argon2id in PHC string form; NULL for an account that signs in only through the identity provider.
    password_hash        TEXT,
    -- The subject the identity provider gives this person (OpenID Connect `sub`), when linked.
    oidc_subject         TEXT UNIQUE,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    disabled             BIGINT NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL
);

-- Server-side sessions, shared by every process. Only a hash of the cookie's token is stored.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    csrf_token  TEXT NOT NULL,
    -- Unix seconds.
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

-- Failed sign-ins in the recent window, for the per-account and per-address limits.
CREATE TABLE sign_in_failures (
    at        BIGINT NOT NULL,
    username  TEXT NOT NULL,
    address   TEXT NOT NULL
);
CREATE INDEX sign_in_failures_username ON sign_in_failures (username, at);
CREATE INDEX sign_in_failures_address ON sign_in_failures (address, at);

-- Break-glass grants: a user opened a record outside their scope, giving a reason, for a short time.
CREATE TABLE break_glass (
    grant_id    TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    username    TEXT NOT NULL,
    -- hub, or the specialist service code whose record it is.
    area        TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX break_glass_lookup ON break_glass (account_id, record_id, expires_at);
CREATE INDEX break_glass_area ON break_glass (area, granted_at);
