-- Read models of robots (seed tables Robot, RobotDeployment, RobotStateHistory,
-- RobotCheckInHistory), kept by the `robots` and `robot_history` projectors. Every row is
-- projected from the events; any table can be emptied and rebuilt with `operations replay`.

-- A robot's current state. deployment_* is its open deployment (DEPLOYED, ON_TRIP, PARKED);
-- trip_id the trip it is on or last parked for; checked_in_hub_id the hub it is checked in at.
CREATE TABLE robots
(
    id                  uuid        NOT NULL PRIMARY KEY,
    serial_number       text        NOT NULL,
    hub_id              uuid        NOT NULL,
    model               text,
    status              text        NOT NULL,
    deployment_id       uuid,
    deployment_hub_id   uuid,
    trip_id             uuid,
    checked_in_hub_id   uuid,
    grounding_reason    text,
    version             bigint      NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX robots_list ON robots (created_at, id);
CREATE INDEX robots_list_hub ON robots (hub_id, created_at, id);
CREATE INDEX robots_list_status ON robots (status, created_at, id);
CREATE INDEX robots_updated ON robots (updated_at);

-- Each deployment of a robot: opened by RobotDeployed, closed by RobotDeploymentEnded or by
-- grounding (ended_by names the event).
CREATE TABLE robot_deployments
(
    robot_id      uuid        NOT NULL,
    deployment_id uuid        NOT NULL,
    hub_id        uuid        NOT NULL,
    started_at    timestamptz NOT NULL,
    ended_at      timestamptz,
    ended_by      text,
    end_reason    text,
    PRIMARY KEY (robot_id, deployment_id)
);

-- A robot's state changes: one row per event that changes its state.
CREATE TABLE robot_state_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    robot_id        uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    from_status     text,
    to_status       text        NOT NULL,
    -- the deployment opened or ended, or the trip gone on or parked for
    subject_id      uuid,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    reason          text,
    note            text,
    correlation_id  text,
    UNIQUE (robot_id, sequence)
);

-- A robot's check-ins and check-outs at hubs (a retirement checks it out).
CREATE TABLE robot_check_in_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    robot_id        uuid        NOT NULL,
    hub_id          uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    action          text        NOT NULL CHECK (action IN ('CHECKED_IN', 'CHECKED_OUT')),
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    correlation_id  text,
    UNIQUE (robot_id, sequence)
);
CREATE INDEX robot_check_in_history_hub ON robot_check_in_history (hub_id, changed_at);
