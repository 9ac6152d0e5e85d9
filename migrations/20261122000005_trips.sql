-- Read models of trips (seed table `Trip`), kept by the `trips` projector, and the trip status
-- timeline, kept by `trip_history`. Every row is projected from the events; any table can be
-- emptied and rebuilt with `operations replay`.
--
-- Ids chosen by clients inside a trip (route_id, request_id) are unique within their trip only
-- (that is all the aggregate can check), so they are keyed together with the trip: a client
-- reusing one on another trip must not stop the projector.

-- A trip's current state. current_* is the location reported by the latest ArriveAtStop (NULL
-- before the first arrival, or when the latest arrival reported none); stops counts arrivals.
CREATE TABLE trips
(
    id                  uuid        NOT NULL PRIMARY KEY,
    task_id             uuid        NOT NULL,
    robot_id            uuid        NOT NULL,
    trip_type           text        NOT NULL,
    status              text        NOT NULL,
    stops               integer     NOT NULL,
    current_lat         double precision,
    current_lng         double precision,
    current_name        text,
    current_location_id uuid,
    cancellation_reason text,
    cancellation_note   text,
    version             bigint      NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX trips_task ON trips (task_id);
CREATE INDEX trips_robot ON trips (robot_id, status);

-- The places of a trip: its ORIGIN and DESTINATION (ordinal 0), and each STOP whose arrival
-- reported a location (ordinal = the arrival's number, from 1).
CREATE TABLE trip_locations
(
    trip_id     uuid             NOT NULL,
    role        text             NOT NULL CHECK (role IN ('ORIGIN', 'DESTINATION', 'STOP')),
    ordinal     integer          NOT NULL,
    lat         double precision NOT NULL,
    lng         double precision NOT NULL,
    name        text,
    location_id uuid,
    recorded_at timestamptz      NOT NULL,
    PRIMARY KEY (trip_id, role, ordinal)
);

-- Routes computed for a trip; sequence is the stream version that recorded the route, the
-- order they were recorded in.
CREATE TABLE routes
(
    route_id    uuid             NOT NULL,
    trip_id     uuid             NOT NULL,
    sequence    bigint           NOT NULL,
    distance_m  double precision NOT NULL,
    duration_s  double precision NOT NULL,
    polyline    text,
    recorded_at timestamptz      NOT NULL,
    PRIMARY KEY (trip_id, route_id)
);

-- Requests for a field operator's help: REQUESTED, ACKNOWLEDGED, RESOLVED. sequence is the
-- stream version of the request, the order they were made in.
CREATE TABLE fo_assistance_requests
(
    request_id      uuid        NOT NULL,
    trip_id         uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    kind            text        NOT NULL,
    status          text        NOT NULL,
    note            text,
    fo_id           uuid,
    outcome         text,
    resolution_note text,
    requested_at    timestamptz NOT NULL,
    acknowledged_at timestamptz,
    resolved_at     timestamptz,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (trip_id, request_id)
);
CREATE INDEX fo_assistance_requests_open ON fo_assistance_requests (status, requested_at)
    WHERE status <> 'RESOLVED';

-- History: one row per status change of a trip, append-only, keyed by the event's position.
CREATE TABLE trip_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    trip_id         uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    from_status     text,
    to_status       text        NOT NULL,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    reason          text,
    note            text,
    correlation_id  text,
    UNIQUE (trip_id, sequence)
);
