-- Read models of cities and hubs (seed tables City, Hub, HubPartner), kept by the `cities`,
-- `city_history`, `hubs` (with `hub_partners`) and `hub_history` projectors; rebuilt from the
-- events by `operations replay`.

CREATE TABLE cities
(
    id           uuid        NOT NULL PRIMARY KEY,
    name         text        NOT NULL,
    country_code text        NOT NULL,
    timezone     text        NOT NULL,
    version      bigint      NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX cities_list ON cities (created_at, id);
CREATE INDEX cities_list_country ON cities (country_code, created_at, id);
CREATE INDEX cities_updated ON cities (updated_at);

-- Each change of a city: registered, renamed.
CREATE TABLE city_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    city_id         uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    name            text        NOT NULL,
    from_name       text,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    correlation_id  text,
    UNIQUE (city_id, sequence)
);

CREATE TABLE hubs
(
    id            uuid             NOT NULL PRIMARY KEY,
    name          text             NOT NULL,
    city_id       uuid             NOT NULL,
    lat           double precision NOT NULL,
    lng           double precision NOT NULL,
    location_name text,
    location_id   uuid,
    timezone      text,
    status        text             NOT NULL,
    close_reason  text,
    partner_count bigint           NOT NULL,
    version       bigint           NOT NULL,
    created_at    timestamptz      NOT NULL,
    updated_at    timestamptz      NOT NULL
);
CREATE INDEX hubs_list ON hubs (created_at, id);
CREATE INDEX hubs_list_city ON hubs (city_id, created_at, id);
CREATE INDEX hubs_list_status ON hubs (status, created_at, id);
CREATE INDEX hubs_updated ON hubs (updated_at);

-- The partners each hub serves; a removed partner keeps its row with removed_at.
CREATE TABLE hub_partners
(
    hub_id     uuid        NOT NULL,
    partner_id uuid        NOT NULL,
    name       text        NOT NULL,
    kind       text        NOT NULL,
    added_at   timestamptz NOT NULL,
    removed_at timestamptz,
    PRIMARY KEY (hub_id, partner_id)
);

-- Each change of a hub: registered, updated, partners added and removed, closed, reopened.
CREATE TABLE hub_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    hub_id          uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    from_status     text,
    to_status       text,
    name            text,
    partner_id      uuid,
    partner_name    text,
    partner_kind    text,
    reason          text,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    correlation_id  text,
    UNIQUE (hub_id, sequence)
);
