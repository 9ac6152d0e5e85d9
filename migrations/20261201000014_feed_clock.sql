-- The feed's clock. The feed is ordered by the writing transaction's id, and a cluster's
-- transaction ids are its own: after pg_dump/pg_restore into another cluster, or a cut-over by
-- logical replication, new transactions get ids below the stored ones and would sort behind
-- every checkpoint and token. So events do not store the raw id but the raw id plus an offset,
-- and readers compare with the visibility horizon plus the same offset. The offset is 0 until a
-- move is detected (see `operations migrate`: a new system identifier, or stored ids at or above
-- the current one); then it is raised so that the new cluster's ids come after every stored one.
CREATE TABLE feed_clock
(
    singleton         boolean     NOT NULL PRIMARY KEY DEFAULT true CHECK (singleton),
    xid_offset        bigint      NOT NULL DEFAULT 0 CHECK (xid_offset >= 0),
    -- The cluster this database was last seen on (pg_control_system()), as text.
    system_identifier text,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
INSERT INTO feed_clock DEFAULT VALUES;

-- Every move detected, for the operator: when, from what to what, and the offset chosen.
CREATE TABLE feed_clock_moves
(
    id                         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    detected_at                timestamptz NOT NULL DEFAULT now(),
    reason                     text        NOT NULL,
    previous_system_identifier text,
    system_identifier          text,
    -- the highest transaction id stored (events, checkpoints) and the cluster's own, raw
    stored_max                 bigint      NOT NULL,
    raw_current                bigint      NOT NULL,
    previous_offset            bigint      NOT NULL,
    new_offset                 bigint      NOT NULL
);

-- The writing transaction's id as the feed orders it.
CREATE FUNCTION feed_xact_id() RETURNS xid8
    LANGUAGE sql VOLATILE PARALLEL UNSAFE AS
$$
SELECT (pg_current_xact_id()::text::bigint + (SELECT xid_offset FROM feed_clock))::text::xid8
$$;

-- The visibility horizon in the feed's ids: every transaction below it has ended.
CREATE FUNCTION feed_horizon() RETURNS xid8
    LANGUAGE sql STABLE PARALLEL SAFE AS
$$
SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::bigint
            + (SELECT xid_offset FROM feed_clock))::text::xid8
$$;

ALTER TABLE events ALTER COLUMN transaction_id SET DEFAULT feed_xact_id();
