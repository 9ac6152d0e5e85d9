-- Tamper evidence: each event carries a SHA-256 that chains it to its stream's previous event,
-- written by the append itself (the service's append statement, and a trigger for any other
-- writer's insert, so every event is chained). `operations verify` recomputes the chains; `operations digest`
-- signs every stream's head, so that a rewrite which recomputed the hashes is caught too.
--
-- The canonical encoding, which the verifier (`chain_hash` in src/audit/mod.rs) repeats:
--   sha256( previous hash (32 bytes; none for the stream's first event)
--        || int8(sequence) || int8(recorded_at as microseconds since 1970)   (big-endian)
--        || field(aggregate_type) || field(aggregate_id) || field(event_type)
--        || field(event_version) || field(payload) || field(metadata) )
-- where field(t) = int4(length of t in UTF-8 bytes) || t in UTF-8, and payload and metadata
-- are their stored JSON text.

-- PL/pgSQL rather than SQL: the trigger below calls it once per event, and PL/pgSQL keeps its
-- plan where a non-inlined SQL function is planned again on every call (20 times the cost).
CREATE FUNCTION events_chain_hash(previous bytea, aggregate_type text, aggregate_id text,
                                  sequence bigint, event_type text, event_version text,
                                  payload text, metadata text, recorded_at timestamptz)
    RETURNS bytea
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS
$$
BEGIN
    RETURN sha256(coalesce(previous, ''::bytea)
        || int8send(sequence)
        || int8send((extract(epoch FROM recorded_at) * 1000000)::bigint)
        || int4send(octet_length(convert_to(aggregate_type, 'UTF8')))
        || convert_to(aggregate_type, 'UTF8')
        || int4send(octet_length(convert_to(aggregate_id, 'UTF8'))) || convert_to(aggregate_id, 'UTF8')
        || int4send(octet_length(convert_to(event_type, 'UTF8'))) || convert_to(event_type, 'UTF8')
        || int4send(octet_length(convert_to(event_version, 'UTF8')))
        || convert_to(event_version, 'UTF8')
        || int4send(octet_length(convert_to(payload, 'UTF8'))) || convert_to(payload, 'UTF8')
        || int4send(octet_length(convert_to(metadata, 'UTF8'))) || convert_to(metadata, 'UTF8'));
END;
$$;

ALTER TABLE events ADD COLUMN hash bytea;

-- A row-level BEFORE trigger sees the rows the same statement inserted before it, so a
-- command's several events chain to each other too.
CREATE FUNCTION events_chain() RETURNS trigger
    LANGUAGE plpgsql AS
$$
DECLARE
    previous bytea;
BEGIN
    IF NEW.sequence > 1 THEN
        SELECT e.hash INTO previous FROM events e
         WHERE e.aggregate_type = NEW.aggregate_type AND e.aggregate_id = NEW.aggregate_id
           AND e.sequence = NEW.sequence - 1;
    END IF;
    NEW.hash := events_chain_hash(previous, NEW.aggregate_type, NEW.aggregate_id, NEW.sequence,
                                  NEW.event_type, NEW.event_version, NEW.payload::text,
                                  NEW.metadata::text, NEW.recorded_at);
    RETURN NEW;
END;
$$;

-- The events stored before this migration are chained now, stream by stream, in order (the
-- append-only trigger steps aside for it, inside this migration's transaction).
ALTER TABLE events DISABLE TRIGGER events_append_only;
DO $$
DECLARE
    event    record;
    previous bytea;
    stream   text := NULL;
BEGIN
    FOR event IN
        SELECT aggregate_type, aggregate_id, sequence, event_type, event_version,
               payload::text AS payload, metadata::text AS metadata, recorded_at
          FROM events ORDER BY aggregate_type, aggregate_id, sequence
    LOOP
        IF stream IS DISTINCT FROM event.aggregate_type || '/' || event.aggregate_id THEN
            stream := event.aggregate_type || '/' || event.aggregate_id;
            previous := NULL;
        END IF;
        previous := events_chain_hash(previous, event.aggregate_type, event.aggregate_id,
                                      event.sequence, event.event_type, event.event_version,
                                      event.payload, event.metadata, event.recorded_at);
        UPDATE events SET hash = previous
         WHERE aggregate_type = event.aggregate_type AND aggregate_id = event.aggregate_id
           AND sequence = event.sequence;
    END LOOP;
END;
$$;
ALTER TABLE events ENABLE TRIGGER events_append_only;

-- The service's append computes the hash itself (on its own cores: SHA-256 here cost the
-- database a tenth of an append) and stores it with the event; the trigger chains what other
-- writers insert without one.
CREATE TRIGGER events_chain
    BEFORE INSERT ON events
    FOR EACH ROW WHEN (NEW.hash IS NULL) EXECUTE FUNCTION events_chain();
