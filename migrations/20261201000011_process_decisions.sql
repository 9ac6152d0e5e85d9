-- What a process decided under a key when the decision stored no event: a command that the
-- aggregate refused, or one that changed nothing. With the idempotency records (the decisions
-- that stored events), each causing event is decided once, refusals included: a batch
-- redelivered after a crash finds every one of its decisions here or there, never decides again.
CREATE TABLE process_decisions
(
    decision_key text        NOT NULL PRIMARY KEY,
    outcome      text        NOT NULL CHECK (outcome IN ('refused', 'unchanged')),
    -- The refusal's text, as the aggregate gave it.
    detail       text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX process_decisions_created_at ON process_decisions (created_at);
