-- Read models of pilot centers (seed table PilotCenter), kept by the `pilot_centers` and
-- `pilot_center_history` projectors; rebuilt from the events by `operations replay`.

CREATE TABLE pilot_centers
(
    id             uuid        NOT NULL PRIMARY KEY,
    name           text        NOT NULL,
    pilot_location text        NOT NULL,
    status         text        NOT NULL,
    close_reason   text,
    version        bigint      NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX pilot_centers_list ON pilot_centers (created_at, id);
CREATE INDEX pilot_centers_list_location ON pilot_centers (pilot_location, created_at, id);
CREATE INDEX pilot_centers_list_status ON pilot_centers (status, created_at, id);
CREATE INDEX pilot_centers_updated ON pilot_centers (updated_at);

-- Each change of a pilot center: registered, renamed (from_name -> name), closed.
CREATE TABLE pilot_center_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    pilot_center_id uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    from_status     text,
    to_status       text        NOT NULL,
    from_name       text,
    name            text,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    reason          text,
    correlation_id  text,
    UNIQUE (pilot_center_id, sequence)
);
