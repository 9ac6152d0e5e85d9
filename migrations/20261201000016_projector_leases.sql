-- Who runs each projector: a lease renewed by heartbeat, not a session lock. A session lock is
-- held for as long as its TCP connection lives, so an instance that hangs (SIGSTOP, a long
-- pause, a partition) would keep its projectors, unprojected, for hours. A lease not renewed
-- within its time is taken over; a holder whose session has ended (the process died) is taken
-- over at once. Each takeover raises the epoch, and a batch moves its checkpoint only under the
-- epoch it started with (the fencing token): a paused leader that wakes up cannot apply a batch
-- once another instance has taken over.
CREATE TABLE projector_leases
(
    name                 text        NOT NULL PRIMARY KEY,
    -- the holding instance: `host:pid:id`
    holder               text        NOT NULL,
    epoch                bigint      NOT NULL,
    expires_at           timestamptz NOT NULL,
    renewed_at           timestamptz NOT NULL,
    -- the holder's heartbeat session, to tell a dead holder from a slow one
    holder_pid           integer     NOT NULL,
    holder_backend_start timestamptz NOT NULL
);
