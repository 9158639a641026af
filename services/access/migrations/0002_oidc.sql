-- Sign-ins through the identity provider under way: the state sent to the provider, with the nonce and PKCE
-- verifier that must match what comes back. Each row lives for one sign-in (ten minutes at most).
CREATE TABLE oidc_logins (
    state         TEXT PRIMARY KEY,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path     TEXT NOT NULL,
    -- Unix seconds.
    created_at    BIGINT NOT NULL
);
