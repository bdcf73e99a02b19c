-- Entries partitioned by drop (issue 20): a draw reads one partition, each drop has its own
-- primary key and indexes, and a settled drop's entries can be detached and archived whole
-- (`fastest-shop admin archive-drop`). The audit bundle of a draw is stored once, when the draw
-- commits, so an archived drop still publishes and verifies its draw.

-- The ranking's link to `entries` goes: a partition cannot be detached while rows of another
-- table reference it. What the link guarded (every ranked customer entered) the audit checks
-- more strongly: the stored ranking must equal the recomputation from the entries.
ALTER TABLE drop_rankings DROP CONSTRAINT drop_rankings_drop_id_user_id_fkey;

ALTER TABLE entries RENAME TO entries_unpartitioned;
ALTER INDEX entries_pkey RENAME TO entries_unpartitioned_pkey;
ALTER INDEX entries_by_user RENAME TO entries_unpartitioned_by_user;

-- No foreign key to drops: a partition exists only for a drop (created with it, below), and
-- attaching a partition under a key to drops would lock `drops` against updates from the
-- transaction creating the drop, which two concurrent creations would deadlock on.
CREATE TABLE entries (
    drop_id    bigint      NOT NULL,
    user_id    bigint      NOT NULL REFERENCES users (id),
    tickets    integer     NOT NULL DEFAULT 1 CHECK (tickets >= 1),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (drop_id, user_id)
) PARTITION BY LIST (drop_id);
-- GET /v1/me/entries (0005): now one index per partition, merged in order.
CREATE INDEX entries_by_user ON entries (user_id, created_at DESC, drop_id DESC);

-- A drop's partition: created empty and attached, which locks `entries` only against other
-- attaches and detaches (SHARE UPDATE EXCLUSIVE), never against the intake's writes and reads
-- (CREATE TABLE … PARTITION OF would take ACCESS EXCLUSIVE on `entries` until commit). The
-- attach builds the partition's primary key, its index and its key to users.
CREATE FUNCTION entries_create_partition(drop bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    name text := 'entries_drop_' || drop;
BEGIN
    EXECUTE format('CREATE TABLE %I (LIKE entries INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    EXECUTE format('ALTER TABLE entries ATTACH PARTITION %I FOR VALUES IN (%s)', name, drop);
END
$$;

-- In the transaction that creates the drop, whichever code path inserts it. Open-runs take no
-- entries, so they get no partition (an entry routed to one would fail; intake refuses them first).
CREATE FUNCTION drops_create_entries_partition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM entries_create_partition(NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER drops_entries_partition
    AFTER INSERT ON drops
    FOR EACH ROW
    WHEN (NEW.kind <> 'open_run')
    EXECUTE FUNCTION drops_create_entries_partition();

-- Existing entries move into their drops' partitions.
SELECT entries_create_partition(id) FROM drops
WHERE kind <> 'open_run' OR EXISTS (SELECT 1 FROM entries_unpartitioned e WHERE e.drop_id = drops.id)
ORDER BY id;
INSERT INTO entries (drop_id, user_id, tickets, created_at)
SELECT drop_id, user_id, tickets, created_at FROM entries_unpartitioned;
DROP TABLE entries_unpartitioned;

-- Archived partitions live on, detached, in their own schema.
CREATE SCHEMA entries_archive;
ALTER TABLE drops ADD COLUMN entries_archived_at timestamptz;

-- The audit bundle of a draw (docs/contract.md, "Draw protocol v1"), written once in the draw's
-- transaction, in chunks of about a megabyte of JSON text (each chunk ends between two values, so each
-- is valid UTF-8). `sha256` is over the whole document and names it (the ETag); `byte_count` is its
-- length.
CREATE TABLE audit_bundles (
    drop_id     bigint  PRIMARY KEY REFERENCES drops (id),
    byte_count  bigint  NOT NULL CHECK (byte_count > 0),
    chunk_count integer NOT NULL CHECK (chunk_count > 0),
    sha256      text    NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE audit_bundle_chunks (
    drop_id bigint  NOT NULL REFERENCES audit_bundles (drop_id) DEFERRABLE INITIALLY DEFERRED,
    seq     integer NOT NULL CHECK (seq >= 0),
    bytes   text    NOT NULL,
    PRIMARY KEY (drop_id, seq)
);
