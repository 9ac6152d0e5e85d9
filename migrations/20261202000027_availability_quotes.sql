-- Read models of availability quotes (seed table AvailabilityQuoteModel), kept by the
-- `availability_quotes` and `availability_quote_history` projectors; rebuilt from the events by
-- `operations replay`. A quote is recorded once and never changes.
CREATE TABLE availability_quotes
(
    id              uuid        NOT NULL PRIMARY KEY,
    hub_id          uuid        NOT NULL,
    -- the window quoted (`from` and `until` in the API)
    window_from     timestamptz NOT NULL,
    window_until    timestamptz NOT NULL,
    -- when the read models were read
    quoted_at       timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    -- the answer, as the event recorded it
    robots          jsonb       NOT NULL,
    pilots          jsonb       NOT NULL,
    field_operators jsonb       NOT NULL,
    capacity        jsonb       NOT NULL,
    as_of           jsonb       NOT NULL,
    version         bigint      NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX availability_quotes_list ON availability_quotes (created_at, id);
CREATE INDEX availability_quotes_list_hub ON availability_quotes (hub_id, created_at, id);
CREATE INDEX availability_quotes_updated ON availability_quotes (updated_at);

-- A quote's timeline: its one event, with who asked and when.
CREATE TABLE availability_quote_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    quote_id        uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    hub_id          uuid        NOT NULL,
    trips           integer     NOT NULL,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    correlation_id  text,
    UNIQUE (quote_id, sequence)
);

-- What a quote reads: the robots in service at a hub, the operators of a hub (pilots and field
-- operators, by operator_hubs_hub) and each pilot's current shift (by its key).
CREATE INDEX robots_in_service_at ON robots (deployment_hub_id, id)
    WHERE status IN ('DEPLOYED', 'PARKED');
