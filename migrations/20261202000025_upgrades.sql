-- Upgrade steps done (see src/upgrade.rs): what a new version records once about what an older
-- one stored, through the event store. `serve` runs a step not listed here; `migrate` runs every
-- step again (each records nothing new the second time) and moves `done_at`.
CREATE TABLE upgrades
(
    name    text        NOT NULL PRIMARY KEY,
    done_at timestamptz NOT NULL DEFAULT now()
);
