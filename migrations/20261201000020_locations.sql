-- Read models of locations (seed tables Location, LocationModel), kept by the `locations` and
-- `location_history` projectors; rebuilt from the events by `operations replay`.

CREATE TABLE locations
(
    id         uuid             NOT NULL PRIMARY KEY,
    name       text             NOT NULL,
    lat        double precision NOT NULL,
    lng        double precision NOT NULL,
    kind       text             NOT NULL,
    address    text,
    hub_id     uuid,
    status     text             NOT NULL,
    version    bigint           NOT NULL,
    created_at timestamptz      NOT NULL,
    updated_at timestamptz      NOT NULL
);
CREATE INDEX locations_list ON locations (created_at, id);
CREATE INDEX locations_list_hub ON locations (hub_id, created_at, id);
CREATE INDEX locations_list_kind ON locations (kind, created_at, id);
CREATE INDEX locations_list_status ON locations (status, created_at, id);
CREATE INDEX locations_updated ON locations (updated_at);

-- Each change of a location: registered, updated (what changed), retired.
CREATE TABLE location_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    location_id     uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    from_status     text,
    to_status       text        NOT NULL,
    name            text,
    address         text,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    correlation_id  text,
    UNIQUE (location_id, sequence)
);
