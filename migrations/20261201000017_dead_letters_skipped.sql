-- A replay passes over the events operators skipped, one by one: find them by position.
CREATE INDEX dead_letters_skipped ON dead_letters (projector, position) WHERE status = 'skipped';
