-- Read models of field-operations tasks (seed tables `FoTaskModel`, `FoSubtaskModel`,
-- `FoAssignmentModel`), kept by the `fo_tasks` projector, and their status timeline, kept by
-- `fo_task_history`. Every row is projected from the events; any table can be emptied and
-- rebuilt with `operations replay`.
--
-- Ids chosen by clients inside a task (subtask_id, assignment_id) are unique within their task
-- only (that is all the aggregate can check), so they are keyed together with the task: a
-- client reusing one on another task must not stop the projector.

CREATE TABLE fo_tasks
(
    id                  uuid        NOT NULL PRIMARY KEY,
    hub_id              uuid        NOT NULL,
    kind                text        NOT NULL,
    status              text        NOT NULL,
    robot_id            uuid,
    trip_id             uuid,
    cancellation_reason text,
    version             bigint      NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX fo_tasks_hub ON fo_tasks (hub_id, status);
CREATE INDEX fo_tasks_robot ON fo_tasks (robot_id);
CREATE INDEX fo_tasks_trip ON fo_tasks (trip_id);

-- A task's subtasks in the order the operator works through them (position, from 0). A TRAVEL
-- subtask has from_* and to_*; an ACTION subtask has action and location_*.
CREATE TABLE fo_subtasks
(
    subtask_id       uuid        NOT NULL,
    fo_task_id       uuid        NOT NULL,
    position         integer     NOT NULL,
    kind             text        NOT NULL CHECK (kind IN ('TRAVEL', 'ACTION')),
    status           text        NOT NULL,
    from_lat         double precision,
    from_lng         double precision,
    from_name        text,
    from_location_id uuid,
    to_lat           double precision,
    to_lng           double precision,
    to_name          text,
    to_location_id   uuid,
    action           text,
    location_lat     double precision,
    location_lng     double precision,
    location_name    text,
    location_id      uuid,
    skip_reason      text,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (fo_task_id, subtask_id),
    UNIQUE (fo_task_id, position)
);

-- Every operator ever put on a task; active until unassigned. sequence is the stream version
-- of the assignment, the order they were made in.
CREATE TABLE fo_assignments
(
    assignment_id   uuid        NOT NULL,
    fo_task_id      uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    fo_id           uuid        NOT NULL,
    active          boolean     NOT NULL,
    assigned_at     timestamptz NOT NULL,
    unassigned_at   timestamptz,
    unassign_reason text,
    PRIMARY KEY (fo_task_id, assignment_id)
);
CREATE INDEX fo_assignments_operator ON fo_assignments (fo_id) WHERE active;

-- History: one row per status change of the task (subject TASK, subject_id = the task) or of one
-- of its subtasks (subject SUBTASK, subject_id = the subtask), append-only.
CREATE TABLE fo_task_history
(
    global_position bigint      NOT NULL,
    subject         text        NOT NULL CHECK (subject IN ('TASK', 'SUBTASK')),
    subject_id      uuid        NOT NULL,
    fo_task_id      uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    from_status     text,
    to_status       text        NOT NULL,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    reason          text,
    correlation_id  text,
    PRIMARY KEY (global_position, subject, subject_id)
);
CREATE INDEX fo_task_history_task ON fo_task_history (fo_task_id, sequence);
