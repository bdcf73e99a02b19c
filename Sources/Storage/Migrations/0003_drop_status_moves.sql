-- The drop state machine, enforced by the database for every status change, whichever code
-- path makes it (guarded single-row moves, set-wise scheduler moves, settlement). The rows are
-- the moves `DropStatus.canMove(to:kind:)` allows; an integration test keeps both equal.

CREATE TABLE drop_status_moves (
    kind        text NOT NULL CHECK (kind IN ('draw', 'raffle', 'open_run')),
    from_status text NOT NULL,
    to_status   text NOT NULL,
    PRIMARY KEY (kind, from_status, to_status)
);

INSERT INTO drop_status_moves (kind, from_status, to_status)
SELECT kind, from_status, to_status
FROM (VALUES ('draw'), ('raffle')) AS k(kind),
     (VALUES ('scheduled', 'open'), ('open', 'closing'), ('closing', 'drawn'), ('closing', 'settled'),
             ('drawn', 'settled')) AS m(from_status, to_status)
UNION ALL
SELECT 'open_run', from_status, to_status
FROM (VALUES ('scheduled', 'open'), ('open', 'closed'), ('open', 'settled'), ('closed', 'settled'))
     AS m(from_status, to_status);

CREATE FUNCTION drops_enforce_status_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind IS DISTINCT FROM OLD.kind THEN
        RAISE EXCEPTION 'drop % cannot change its kind', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM drop_status_moves
        WHERE kind = OLD.kind AND from_status = OLD.status AND to_status = NEW.status
    ) THEN
        RAISE EXCEPTION 'a % drop cannot move from % to %', OLD.kind, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER drops_status_move
    BEFORE UPDATE OF status, kind ON drops
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.kind IS DISTINCT FROM NEW.kind)
    EXECUTE FUNCTION drops_enforce_status_move();
