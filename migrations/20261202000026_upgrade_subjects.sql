-- What an upgrade step has finished, one row per thing it upgrades (a pilot, for the step
-- `pilot-operators`): a later run, or one after a stop in the middle, takes up only the rest.
-- Kept for good (unlike `process_decisions`, which are pruned with the idempotency keys).
CREATE TABLE upgrade_subjects
(
    step    text        NOT NULL,
    subject text        NOT NULL,
    done_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (step, subject)
);
