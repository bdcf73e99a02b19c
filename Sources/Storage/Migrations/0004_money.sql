-- Money is never lost (issue 15): the drop's locked price, charge keys that cannot collide, and
-- one *live* order per customer per drop.

-- The price and currency are copied onto the drop when it is created and never change after: a
-- PATCH of the product during a drop must not make later buyers pay another price.
ALTER TABLE drops ADD COLUMN price_cents bigint, ADD COLUMN currency text;
UPDATE drops d SET price_cents = p.price_cents, currency = p.currency FROM products p WHERE p.id = d.product_id;
ALTER TABLE drops
    ALTER COLUMN price_cents SET NOT NULL,
    ALTER COLUMN currency SET NOT NULL,
    ADD CONSTRAINT drops_price_cents CHECK (price_cents >= 0),
    ADD CONSTRAINT drops_currency CHECK (currency ~ '^[A-Z]{3}$');

-- Whoever inserts a drop (the API, a benchmark, a fixture) gets the product's price locked on it;
-- a missing product is reported as the foreign-key violation it is.
CREATE FUNCTION drops_lock_price() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.price_cents IS NULL OR NEW.currency IS NULL THEN
        SELECT p.price_cents, p.currency INTO NEW.price_cents, NEW.currency FROM products p WHERE p.id = NEW.product_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'drop refers to product %, which does not exist', NEW.product_id
                USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'drops_product_id_fkey';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER drops_lock_price BEFORE INSERT ON drops FOR EACH ROW EXECUTE FUNCTION drops_lock_price();

CREATE FUNCTION drops_price_is_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the price of drop % is locked', OLD.id USING ERRCODE = 'check_violation';
END
$$;
CREATE TRIGGER drops_price_is_locked
    BEFORE UPDATE OF price_cents, currency ON drops
    FOR EACH ROW
    WHEN (OLD.price_cents IS DISTINCT FROM NEW.price_cents OR OLD.currency IS DISTINCT FROM NEW.currency)
    EXECUTE FUNCTION drops_price_is_locked();

-- The charge's webhook-id / Idempotency-Key: random (122 bits), drawn once when the order is
-- created and stable across every retry. Built from drop and customer it repeated after a
-- database reset or restore, or across two environments on one merchant account, and the
-- provider replayed an old success for a charge it never made.
ALTER TABLE orders ALTER COLUMN webhook_id SET DEFAULT 'wh_' || replace(gen_random_uuid()::text, '-', '');

-- A free order (price 0) is paid at once and has no payment at the provider.
ALTER TABLE orders DROP CONSTRAINT orders_paid_has_payment;
ALTER TABLE orders ADD CONSTRAINT orders_paid_has_payment CHECK (status <> 'paid' OR payment_id IS NOT NULL OR amount_cents = 0);

-- One *live* order (pending or paid) per customer per drop: a customer whose payment was declined
-- or expired may buy again while units remain.
ALTER TABLE orders DROP CONSTRAINT orders_one_per_customer;
CREATE UNIQUE INDEX orders_one_live_per_customer ON orders (drop_id, user_id) WHERE status IN ('pending_payment', 'paid');

-- Refunds, cancelled drops (docs/payments.md): order states `cancelled`, `refund_pending`, `refunded`.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (
    status IN ('pending_payment', 'paid', 'failed', 'expired', 'cancelled', 'refund_pending', 'refunded'));

-- A drop may be cancelled by an operator from any state but `settled` (final): entries and
-- purchases stop, unpaid orders are voided, paid ones refunded. Who and when are kept.
ALTER TABLE drops DROP CONSTRAINT drops_status_check;
ALTER TABLE drops ADD CONSTRAINT drops_status_check CHECK (
    status IN ('scheduled', 'open', 'closing', 'drawn', 'closed', 'settled', 'cancelled'));
ALTER TABLE drops ADD COLUMN cancelled_at timestamptz, ADD COLUMN cancelled_by bigint REFERENCES users (id);
INSERT INTO drop_status_moves (kind, from_status, to_status)
SELECT kind, from_status, 'cancelled'
FROM (VALUES ('draw'), ('raffle')) AS k(kind), (VALUES ('scheduled'), ('open'), ('closing'), ('drawn')) AS m(from_status)
UNION ALL
SELECT 'open_run', from_status, 'cancelled' FROM (VALUES ('scheduled'), ('open'), ('closed')) AS m(from_status);

-- Refund callbacks are recorded by webhook-id like charge callbacks (payment_id holds the refund id).
ALTER TABLE payment_events DROP CONSTRAINT payment_events_type_check;
ALTER TABLE payment_events ADD CONSTRAINT payment_events_type_check CHECK (
    type IN ('charge.succeeded', 'charge.failed', 'refund.succeeded', 'refund.failed'));

-- One refund per order (an order is charged once): money taken for a unit the customer does not
-- hold goes back. `webhook_id` is the refund's own webhook-id / Idempotency-Key, derived from the
-- order's random charge key, so stable across retries and never repeated across databases.
CREATE TABLE refunds (
    order_id     bigint      PRIMARY KEY REFERENCES orders (id),
    webhook_id   text        NOT NULL UNIQUE,
    payment_id   text        NOT NULL,
    amount_cents bigint      NOT NULL CHECK (amount_cents > 0),
    currency     text        NOT NULL,
    -- late_success: a charge succeeded for an order already expired, failed or cancelled;
    -- operator: POST /v1/orders/{id}/refund; drop_cancelled: POST /v1/drops/{id}/cancel.
    reason       text        NOT NULL CHECK (reason IN ('late_success', 'operator', 'drop_cancelled')),
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    -- While pending: 'queued' = the refund job must (re)send it; 'awaiting_callback' = the
    -- provider answered pending.
    refund_state text        NOT NULL DEFAULT 'queued' CHECK (refund_state IN ('queued', 'awaiting_callback', 'done')),
    refund_id    text,
    failure      text,
    requested_by bigint      REFERENCES users (id),
    requested_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    CONSTRAINT refunds_done CHECK (status = 'pending' OR refund_state = 'done')
);
CREATE INDEX refunds_queued ON refunds (requested_at) WHERE status = 'pending';
