-- The ten-million-entry raffle, continued (issue 20).

-- The stored audit bundle's chunks are kept uncompressed (STORAGE EXTERNAL: out of line in
-- TOAST, no pglz). pglz on 1 MiB chunks of JSON digits was the largest part of the close's
-- commit at ten million entries (docs/benchmarks.md); the bundle is compressed on the wire when
-- a client accepts gzip, and served from here chunk by chunk, so its size at rest costs disk
-- only (about 12 bytes per entry). Applies to chunks written from now on.
ALTER TABLE audit_bundle_chunks ALTER COLUMN bytes SET STORAGE EXTERNAL;

-- GET /v1/me/entries across every drop (issue 20): a customer's entries, one compact row each
-- in a table of its own, kept in step with `entries` by a statement-level trigger (every insert
-- path: the intake's batches, fixtures, benchmarks). The listing reads this table alone, one
-- index range, however many drops (partitions) there are; an index on the partitioned
-- `entries` would be probed once per partition and planned over all of them.
-- Rows are never removed: a drop archived later (`admin archive-drop`) keeps its entries in the
-- customers' listings, with their results (the ranking and the orders stay too).
CREATE TABLE customer_entries (
    user_id    bigint      NOT NULL,
    created_at timestamptz NOT NULL,
    drop_id    bigint      NOT NULL,
    tickets    integer     NOT NULL,
    -- The listing's order, newest first, is a backward scan of this key.
    PRIMARY KEY (user_id, created_at, drop_id)
);

CREATE FUNCTION entries_list_for_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_entries (user_id, created_at, drop_id, tickets)
    SELECT user_id, created_at, drop_id, tickets FROM inserted_entries;
    RETURN NULL;
END
$$;
-- Once per statement, not per row: an intake batch pays one insert of its rows.
CREATE TRIGGER entries_customer_listing
    AFTER INSERT ON entries
    REFERENCING NEW TABLE AS inserted_entries
    FOR EACH STATEMENT
    EXECUTE FUNCTION entries_list_for_customers();

-- The listing no longer reads `entries` by customer: one index fewer per entry written.
DROP INDEX entries_by_user;

-- Entries so far, archived drops' included.
INSERT INTO customer_entries (user_id, created_at, drop_id, tickets)
SELECT user_id, created_at, drop_id, tickets FROM entries;
DO $$
DECLARE
    archived regclass;
BEGIN
    FOR archived IN
        SELECT to_regclass('entries_archive.entries_drop_' || id) FROM drops
        WHERE entries_archived_at IS NOT NULL AND to_regclass('entries_archive.entries_drop_' || id) IS NOT NULL
    LOOP
        EXECUTE format('INSERT INTO customer_entries (user_id, created_at, drop_id, tickets)
                        SELECT user_id, created_at, drop_id, tickets FROM %s', archived);
    END LOOP;
END
$$;
