-- Indexes for the customers' listings (docs/contract.md, "HTTP API"): each page is one range scan of an
-- index in the listing's own order, however many rows come before the cursor.

-- GET /v1/me/entries: a customer's entries, newest first. The primary key leads with the drop,
-- so without this a customer's entries are a scan of every entry. (One more index per entry
-- row: the group commit pays for it; docs/benchmarks.md has the intake figures.)
CREATE INDEX entries_by_user ON entries (user_id, created_at DESC, drop_id DESC);

-- GET /v1/me/orders: a customer's orders, newest (largest id) first.
CREATE INDEX orders_by_user ON orders (user_id, id DESC);

-- GET /v1/drops?status=: the drops in one status, in id order.
CREATE INDEX drops_by_status ON drops (status, id);
