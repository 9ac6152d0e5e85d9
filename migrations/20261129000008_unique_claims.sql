-- Values that must be unique across streams, like the seed's unique `pilots.user_id`. One
-- stream cannot see another's events, so the statement that appends an event naming such a
-- value also claims it here: the primary key refuses a second claim, and the whole append
-- with it. A claim is kept for good (an archived pilot keeps its user, as in the seed).
CREATE TABLE unique_claims
(
    aggregate_type text        NOT NULL,
    field          text        NOT NULL,
    value          text        NOT NULL,
    aggregate_id   text        NOT NULL,
    claimed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (aggregate_type, field, value)
);

-- Claims for what was stored before this table existed: the first registration of a user wins.
INSERT INTO unique_claims (aggregate_type, field, value, aggregate_id, claimed_at)
SELECT DISTINCT ON (user_id) aggregate_type, 'user_id', user_id, aggregate_id, recorded_at
  FROM (SELECT aggregate_type, aggregate_id, recorded_at, global_position,
               payload -> 'PilotRegistered' ->> 'user_id' AS user_id
          FROM events
         WHERE aggregate_type = 'Pilot' AND event_type = 'PilotRegistered') registered
 WHERE user_id IS NOT NULL
 ORDER BY user_id, global_position;
