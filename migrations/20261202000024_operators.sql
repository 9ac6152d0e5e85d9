-- Read models of operators (seed tables Operator, OperatorModel, OperatorHub,
-- OperatorMobileDevice, OperatorStatusHistory, and FoModel as the view field_operators), kept
-- by the `operators` and `operator_history` projectors. Every row is projected from the
-- events; any table can be emptied and rebuilt with `operations replay`.

-- An operator's current state; active is false once deactivated (for good).
CREATE TABLE operators
(
    id                  uuid        NOT NULL PRIMARY KEY,
    role                text        NOT NULL,
    user_id             uuid,
    display_name        text,
    status              text        NOT NULL,
    active              boolean     NOT NULL,
    deactivation_reason text,
    version             bigint      NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX operators_list ON operators (created_at, id);
CREATE INDEX operators_list_role ON operators (role, created_at, id);
CREATE INDEX operators_list_status ON operators (status, created_at, id);
CREATE INDEX operators_user ON operators (user_id);

-- The hubs an operator is or was assigned to (seed OperatorHub): removed_at is set when it
-- left (a later assignment clears it again).
CREATE TABLE operator_hubs
(
    operator_id uuid        NOT NULL,
    hub_id      uuid        NOT NULL,
    assigned_at timestamptz NOT NULL,
    removed_at  timestamptz,
    PRIMARY KEY (operator_id, hub_id)
);
CREATE INDEX operator_hubs_hub ON operator_hubs (hub_id, operator_id);

-- The mobile devices an operator works or worked from (seed OperatorMobileDevice): removed_at
-- is set when it was removed.
CREATE TABLE operator_mobile_devices
(
    operator_id   uuid        NOT NULL,
    device_id     text        NOT NULL,
    platform      text        NOT NULL,
    app_version   text,
    registered_at timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    removed_at    timestamptz,
    PRIMARY KEY (operator_id, device_id)
);

-- An operator's timeline: one row per event. Status changes (registration OFFLINE, changes,
-- deactivation) carry from_status and to_status; hub and device changes leave them null and
-- name the hub or the device.
CREATE TABLE operator_status_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    operator_id     uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    from_status     text,
    to_status       text,
    hub_id          uuid,
    device_id       text,
    platform        text,
    reason          text,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    correlation_id  text,
    UNIQUE (operator_id, sequence)
);

-- Field operators (the seed's FoModel): the operators with role FIELD.
CREATE VIEW field_operators AS
SELECT * FROM operators WHERE role = 'FIELD';
