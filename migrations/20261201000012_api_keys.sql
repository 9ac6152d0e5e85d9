-- API keys issued by the service (`operations keys create`). Only a SHA-256 hash of the secret
-- is kept: the secret is 256 random bits, so a fast hash is enough (there is nothing to guess),
-- and it is compared in constant time. A key is found by its public id, which the credential
-- carries (`ops_<key_id>_<secret>`).
CREATE TABLE api_keys
(
    name         text        NOT NULL PRIMARY KEY,
    key_id       text        NOT NULL UNIQUE,
    secret_hash  bytea       NOT NULL,
    role         text        NOT NULL CHECK (role IN ('service', 'analyst', 'auditor', 'admin')),
    -- The collections a service key may send commands to; NULL: every collection.
    collections  text[],
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
