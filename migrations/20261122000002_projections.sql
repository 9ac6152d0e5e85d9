-- Where each projector (and, later, each process) has got to in the ordered event feed, and
-- what went wrong last. A projector's row is locked while a batch is applied, so that two
-- runners can never apply the same event twice.
CREATE TABLE projector_checkpoints
(
    name           text        NOT NULL PRIMARY KEY,
    transaction_id xid8        NOT NULL DEFAULT '0',
    position       bigint      NOT NULL DEFAULT 0,
    events_applied bigint      NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    failures       integer     NOT NULL DEFAULT 0,
    last_error     text,
    last_error_at  timestamptz,
    -- the event the last failure happened on
    failed_position bigint
);

-- Read model: a task's current state (seed table `Task`).
CREATE TABLE tasks
(
    id                  uuid        NOT NULL PRIMARY KEY,
    status              text        NOT NULL,
    task_type           text        NOT NULL,
    hub_id              uuid        NOT NULL,
    robot_id            uuid,
    trip_id             uuid,
    pilot_id            uuid,
    assignment_id       uuid,
    scheduled_at        timestamptz,
    external_ref        text,
    pause_reason        text,
    cancellation_reason text,
    cancellation_note   text,
    version             bigint      NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);

-- History: one row per status change of a task (seed table `TaskHistory`), append-only.
CREATE TABLE task_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    task_id         uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    from_status     text,
    to_status       text        NOT NULL,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    reason          text,
    note            text,
    correlation_id  text,
    UNIQUE (task_id, sequence)
);
