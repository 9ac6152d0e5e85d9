-- A pilot's own status, next to its shift, assignment and reservation timelines: ACTIVE from
-- its registration, ARCHIVED when it is deactivated, with who and why. The seed keeps only
-- `archivedAt`; an auditor asking who archived a pilot, and why, reads it here (and in the
-- pilot's /history). Kept by the `pilot_status_history` projector, which, being new, projects
-- every pilot stored before it from the events on its first run.
CREATE TABLE pilot_status_history
(
    global_position bigint      NOT NULL PRIMARY KEY,
    pilot_id        uuid        NOT NULL,
    sequence        bigint      NOT NULL,
    event_type      text        NOT NULL,
    from_status     text,
    to_status       text        NOT NULL,
    changed_at      timestamptz NOT NULL,
    actor           text        NOT NULL,
    reason          text,
    correlation_id  text
);
CREATE INDEX pilot_status_history_pilot ON pilot_status_history (pilot_id, sequence);
