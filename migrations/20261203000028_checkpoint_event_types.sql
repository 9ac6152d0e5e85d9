-- The event types each projector reads, written by the runner at its start: a projector passes
-- over the events it does not read without moving its checkpoint each time (about once a
-- `--checkpoint-interval`), so how far it has got is its checkpoint or, past it, the absence
-- of any event of its types (`consistent_with`, `lag_events`). NULL until a runner wrote them
-- (then only the checkpoint counts).
ALTER TABLE projector_checkpoints ADD COLUMN event_types text[];
