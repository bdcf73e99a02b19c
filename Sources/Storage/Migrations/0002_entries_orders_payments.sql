-- Entries, draw rankings, orders and payment events.

-- One entry per customer per drop: the primary key is the rule.
CREATE TABLE entries (
    drop_id    bigint      NOT NULL REFERENCES drops (id),
    user_id    bigint      NOT NULL REFERENCES users (id),
    tickets    integer     NOT NULL DEFAULT 1 CHECK (tickets >= 1),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (drop_id, user_id)
);

-- Entry counts per drop, one row per group-commit writer so that writers never wait on each
-- other's counter row; the count of a drop is the sum of its rows.
CREATE TABLE drop_entry_counts (
    drop_id bigint  NOT NULL REFERENCES drops (id),
    writer  integer NOT NULL,
    entries bigint  NOT NULL CHECK (entries >= 0),
    PRIMARY KEY (drop_id, writer)
);

-- The ranking of a drawn drop: winners at positions 0..stock-1, then the waitlist in order.
-- Entries that are not ranked lost. `order_id` is set when the position is offered a unit.
CREATE TABLE drop_rankings (
    drop_id  bigint  NOT NULL,
    position integer NOT NULL CHECK (position >= 0),
    user_id  bigint  NOT NULL,
    order_id bigint,
    PRIMARY KEY (drop_id, position),
    UNIQUE (drop_id, user_id),
    FOREIGN KEY (drop_id, user_id) REFERENCES entries (drop_id, user_id)
);

CREATE TABLE orders (
    id            bigserial PRIMARY KEY,
    drop_id       bigint      NOT NULL REFERENCES drops (id),
    user_id       bigint      NOT NULL REFERENCES users (id),
    status        text        NOT NULL DEFAULT 'pending_payment'
                              CHECK (status IN ('pending_payment', 'paid', 'failed', 'expired')),
    -- While pending: 'queued' = the charge job must (re)send the charge; 'awaiting_callback' =
    -- the provider answered pending and a callback or the expiry job will settle it.
    charge_state  text        NOT NULL DEFAULT 'queued' CHECK (charge_state IN ('queued', 'awaiting_callback', 'done')),
    amount_cents  bigint      NOT NULL CHECK (amount_cents >= 0),
    currency      text        NOT NULL,
    -- Stable across every retry of this order's charge (webhook-id and Idempotency-Key).
    webhook_id    text        NOT NULL UNIQUE,
    payment_id    text,
    failure       text,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- One order per customer per drop, whatever its state: a customer is offered or sold at most
    -- one unit of a drop, ever.
    CONSTRAINT orders_one_per_customer UNIQUE (drop_id, user_id),
    CONSTRAINT orders_final_charge_done CHECK (status = 'pending_payment' OR charge_state = 'done'),
    CONSTRAINT orders_paid_has_payment CHECK (status <> 'paid' OR payment_id IS NOT NULL)
);
CREATE INDEX orders_pending ON orders (drop_id) WHERE status = 'pending_payment';
CREATE INDEX orders_awaiting_expiry ON orders (expires_at) WHERE status = 'pending_payment';

ALTER TABLE drop_rankings
    ADD CONSTRAINT drop_rankings_order FOREIGN KEY (order_id) REFERENCES orders (id);

-- Every inbound callback we accepted, by webhook-id: a repeated id is acknowledged and ignored.
CREATE TABLE payment_events (
    webhook_id  text        PRIMARY KEY,
    order_id    bigint      NOT NULL REFERENCES orders (id),
    type        text        NOT NULL CHECK (type IN ('charge.succeeded', 'charge.failed')),
    payment_id  text,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- Every answer the provider gave to a charge request (for audit: one success per order).
CREATE TABLE charge_attempts (
    id          bigserial   PRIMARY KEY,
    order_id    bigint      NOT NULL REFERENCES orders (id),
    attempt     integer     NOT NULL,
    outcome     text        NOT NULL CHECK (outcome IN ('succeeded', 'declined', 'pending', 'retryable', 'failed')),
    http_status integer,
    payment_id  text,
    detail      text,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX charge_attempts_order ON charge_attempts (order_id);

-- The scheduler's leadership term: incremented by every new leader, used as a fencing token.
CREATE TABLE scheduler_leadership (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    term       bigint      NOT NULL,
    holder     text        NOT NULL,
    elected_at timestamptz NOT NULL DEFAULT now()
);
