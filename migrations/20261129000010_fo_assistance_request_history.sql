-- Each status change of a trip's field-operator assistance requests (requested, acknowledged,
-- resolved), with who and why: the trip's /history merges it with the trip's own statuses.
-- Kept by the `trip_assistance_history` projector, which, being new, projects the requests
-- stored before it from the events on its first run.
CREATE TABLE fo_assistance_request_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    trip_id         uuid        NOT NULL,
    request_id      uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    from_status     text,
    to_status       text        NOT NULL,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    -- The request's kind (STUCK...) when requested, the outcome when resolved.
    reason          text,
    note            text,
    correlation_id  text
);
CREATE INDEX fo_assistance_request_history_trip
    ON fo_assistance_request_history (trip_id, sequence);
