-- Read model: pilots, exactly the seed's columns (`pilots`, mapped from PilotModel).
-- locked_until is the active reservation's `until`; version is the stream version.
CREATE TABLE pilots
(
    id                    uuid        NOT NULL PRIMARY KEY,
    user_id               uuid,
    locked_until          timestamptz,
    archived_at           timestamptz,
    version               bigint      NOT NULL,
    pilot_location        text,
    pilot_center_id       uuid,
    active_assignment_id  uuid,
    active_shift_id       uuid,
    active_reservation_id uuid,
    updated_at            timestamptz NOT NULL,
    created_at            timestamptz NOT NULL
);
-- The seed's indexes. user_id is unique in the seed; one pilot's stream cannot see another's,
-- so the service does not enforce it and the read model only indexes it.
CREATE INDEX pilots_version ON pilots (version);
CREATE INDEX pilots_locked_until ON pilots (locked_until);
CREATE INDEX pilots_archived_at ON pilots (archived_at);
CREATE INDEX pilots_user_id ON pilots (user_id);

-- Read model: shifts (seed PilotShiftModel). Shift and assignment ids are the caller's and
-- unique per pilot only, so the pilot is part of the key.
CREATE TABLE pilot_shifts
(
    pilot_id   uuid        NOT NULL,
    shift_id   uuid        NOT NULL,
    state      text        NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at   timestamptz,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (pilot_id, shift_id)
);
CREATE INDEX pilot_shifts_pilot ON pilot_shifts (pilot_id, started_at);

-- Read model: assignments (seed PilotAssignmentModel).
CREATE TABLE pilot_assignments
(
    pilot_id      uuid        NOT NULL,
    assignment_id uuid        NOT NULL,
    task_id       uuid        NOT NULL,
    shift_id      uuid        NOT NULL,
    status        text        NOT NULL,
    requested_at  timestamptz NOT NULL,
    accepted_at   timestamptz,
    ended_at      timestamptz,
    end_reason    text,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (pilot_id, assignment_id)
);
CREATE INDEX pilot_assignments_pilot ON pilot_assignments (pilot_id, requested_at);
CREATE INDEX pilot_assignments_task ON pilot_assignments (task_id);
-- The stale-assignment deadline looks for old REQUESTED assignments every tick.
CREATE INDEX pilot_assignments_requested ON pilot_assignments (requested_at)
    WHERE status = 'REQUESTED';

-- History (append-only, one row per change, keyed by the event's global position).
CREATE TABLE pilot_shift_state_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    pilot_id        uuid        NOT NULL,
    shift_id        uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    from_state      text,
    to_state        text        NOT NULL,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    correlation_id  text
);
CREATE INDEX pilot_shift_state_history_pilot ON pilot_shift_state_history (pilot_id, sequence);

CREATE TABLE pilot_assignment_status_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    pilot_id        uuid        NOT NULL,
    assignment_id   uuid        NOT NULL,
    task_id         uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    from_status     text,
    to_status       text        NOT NULL,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    reason          text,
    correlation_id  text
);
CREATE INDEX pilot_assignment_status_history_pilot
    ON pilot_assignment_status_history (pilot_id, sequence);
CREATE INDEX pilot_assignment_status_history_assignment
    ON pilot_assignment_status_history (assignment_id);

CREATE TABLE pilot_reservation_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    pilot_id        uuid        NOT NULL,
    reservation_id  uuid        NOT NULL,
    task_id         uuid,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    from_status     text,
    to_status       text        NOT NULL,
    until           timestamptz,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    reason          text,
    correlation_id  text
);
CREATE INDEX pilot_reservation_history_pilot ON pilot_reservation_history (pilot_id, sequence);
