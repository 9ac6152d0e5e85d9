-- Poison events park their stream, not the projector. An event a projector (or a process) still
-- cannot apply after its retries becomes a dead letter: the projector passes over that stream's
-- later events, which stay parked behind it in order, and goes on with every other stream. An
-- operator retries it (after deploying a fix: the stream's parked events are applied in order)
-- or skips it (with a reason: the event is never applied, the later ones are).
CREATE TABLE dead_letters
(
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the projector or process that could not apply it (`deadlines` for a deadline)
    projector         text        NOT NULL,
    aggregate_type    text        NOT NULL,
    aggregate_id      text        NOT NULL,
    -- the failing event's place in the feed, its stream sequence and type (a deadline has none)
    transaction_id    xid8,
    position          bigint,
    sequence          bigint,
    event_type        text,
    -- a deadline's idempotency key (deadlines only)
    deadline_key      text,
    error             text        NOT NULL,
    attempts          integer     NOT NULL,
    first_failed_at   timestamptz NOT NULL,
    last_failed_at    timestamptz NOT NULL,
    -- parked: its stream waits behind it; retried, skipped: resolved by an operator;
    -- replaced: a replay of the projector no longer fails there
    status            text        NOT NULL DEFAULT 'parked'
        CHECK (status IN ('parked', 'retried', 'skipped', 'replaced')),
    -- what an operator asked for and the running projector has not done yet
    requested         text CHECK (requested IN ('retry', 'skip')),
    requested_by      text,
    requested_at      timestamptz,
    -- why it was skipped (required for a skip)
    reason            text,
    -- the error of the last retry that failed
    last_retry_error  text,
    resolved_by       text,
    resolved_at       timestamptz,
    CHECK ((position IS NULL) = (transaction_id IS NULL))
);

-- One open dead letter per stream and projector: later failures of the stream wait behind it.
CREATE UNIQUE INDEX dead_letters_parked_stream
    ON dead_letters (projector, aggregate_type, aggregate_id) WHERE status = 'parked';
-- Reads of an entity ask whether any projector holds it back.
CREATE INDEX dead_letters_parked_entity
    ON dead_letters (aggregate_type, aggregate_id) WHERE status = 'parked';
CREATE INDEX dead_letters_stream ON dead_letters (aggregate_type, aggregate_id);
