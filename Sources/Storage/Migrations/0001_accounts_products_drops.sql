-- Accounts, products and drops. Stock figures live on the drop row and are guarded by CHECKs so that no
-- code path can store an impossible state (docs/contract.md, "Invariants": stock = available + held +
-- sold).

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    email         text        NOT NULL,
    password_hash text        NOT NULL,
    role          text        NOT NULL CHECK (role IN ('customer', 'operator')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- Emails are stored normalised (trimmed, lower case), so uniqueness is case-insensitive.
    CONSTRAINT users_email_normalised CHECK (email = lower(btrim(email)) AND email LIKE '_%@_%')
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE products (
    id          bigserial PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    price_cents bigint      NOT NULL CHECK (price_cents >= 0),
    currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE drops (
    id             bigserial PRIMARY KEY,
    product_id     bigint      NOT NULL REFERENCES products (id),
    kind           text        NOT NULL CHECK (kind IN ('draw', 'raffle', 'open_run')),
    status         text        NOT NULL DEFAULT 'scheduled'
                               CHECK (status IN ('scheduled', 'open', 'closing', 'drawn', 'closed', 'settled')),
    stock          integer     NOT NULL CHECK (stock >= 1),
    available      integer     NOT NULL CHECK (available >= 0),
    held           integer     NOT NULL DEFAULT 0 CHECK (held >= 0),
    sold           integer     NOT NULL DEFAULT 0 CHECK (sold >= 0),
    opens_at       timestamptz NOT NULL,
    closes_at      timestamptz,
    max_tickets    integer     NOT NULL DEFAULT 1 CHECK (max_tickets BETWEEN 1 AND 1000000),
    waitlist_depth integer     NOT NULL DEFAULT 0 CHECK (waitlist_depth BETWEEN 0 AND 1000000),
    -- Draw protocol v1: the seed is secret until the draw; its SHA-256 is published at creation.
    seed           bytea,
    commitment     text,
    beacon         text        NOT NULL DEFAULT '',
    entries_digest text,
    drawn_at       timestamptz,
    created_by     bigint      REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT drops_stock_balance CHECK (available + held + sold = stock),
    CONSTRAINT drops_window CHECK (closes_at IS NULL OR closes_at > opens_at),
    CONSTRAINT drops_draws_close CHECK (kind = 'open_run' OR closes_at IS NOT NULL),
    CONSTRAINT drops_tickets_only_raffles CHECK (kind = 'raffle' OR max_tickets = 1),
    CONSTRAINT drops_seed_for_draws CHECK ((kind = 'open_run') = (seed IS NULL)),
    CONSTRAINT drops_seed_length CHECK (seed IS NULL OR length(seed) = 32),
    CONSTRAINT drops_commitment CHECK ((seed IS NULL) = (commitment IS NULL)),
    CONSTRAINT drops_drawn_result CHECK (status NOT IN ('drawn') OR kind = 'open_run' OR entries_digest IS NOT NULL)
);
-- The scheduler looks for drops to open and to close.
CREATE INDEX drops_due_open ON drops (opens_at) WHERE status = 'scheduled';
CREATE INDEX drops_due_close ON drops (closes_at) WHERE status = 'open';
CREATE INDEX drops_closing ON drops (id) WHERE status = 'closing';
