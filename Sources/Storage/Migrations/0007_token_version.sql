-- Access tokens carry the account's token version (`ver`). Disabling an account or changing
-- its role bumps the version, so tokens issued before stop working when `serve` next checks
-- the account (on a token's first use and at least once a minute after).
ALTER TABLE users
    ADD COLUMN token_version integer NOT NULL DEFAULT 0,
    ADD COLUMN disabled_at   timestamptz;
