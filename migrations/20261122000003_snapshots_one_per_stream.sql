-- One snapshot per stream: the newest replaces the older one.
CREATE UNIQUE INDEX snapshots_one_per_stream ON snapshots (aggregate_type, aggregate_id);
