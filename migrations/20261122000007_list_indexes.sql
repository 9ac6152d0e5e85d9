-- Lists page through each read model in (created_at, id) order, optionally filtered: one index
-- per filter, ending with the order, so a filtered page is an index range scan.
CREATE INDEX tasks_list ON tasks (created_at, id);
CREATE INDEX tasks_list_status ON tasks (status, created_at, id);
CREATE INDEX tasks_list_type ON tasks (task_type, created_at, id);
CREATE INDEX tasks_list_hub ON tasks (hub_id, created_at, id);
CREATE INDEX tasks_list_robot ON tasks (robot_id, created_at, id);
CREATE INDEX tasks_list_pilot ON tasks (pilot_id, created_at, id);
CREATE INDEX tasks_updated ON tasks (updated_at);

CREATE INDEX trips_list ON trips (created_at, id);
CREATE INDEX trips_list_status ON trips (status, created_at, id);
CREATE INDEX trips_list_type ON trips (trip_type, created_at, id);
CREATE INDEX trips_list_task ON trips (task_id, created_at, id);
CREATE INDEX trips_list_robot ON trips (robot_id, created_at, id);
CREATE INDEX trips_updated ON trips (updated_at);

CREATE INDEX pilots_list ON pilots (created_at, id);
CREATE INDEX pilots_list_location ON pilots (pilot_location, created_at, id);
CREATE INDEX pilots_list_center ON pilots (pilot_center_id, created_at, id);
CREATE INDEX pilots_updated ON pilots (updated_at);
CREATE INDEX pilots_list_archived ON pilots (created_at, id) WHERE archived_at IS NOT NULL;
CREATE INDEX pilots_list_on_shift ON pilots (created_at, id) WHERE active_shift_id IS NOT NULL;
CREATE INDEX pilots_list_assigned ON pilots (created_at, id) WHERE active_assignment_id IS NOT NULL;

CREATE INDEX fo_tasks_list ON fo_tasks (created_at, id);
CREATE INDEX fo_tasks_list_status ON fo_tasks (status, created_at, id);
CREATE INDEX fo_tasks_list_kind ON fo_tasks (kind, created_at, id);
CREATE INDEX fo_tasks_list_hub ON fo_tasks (hub_id, created_at, id);
CREATE INDEX fo_tasks_list_robot ON fo_tasks (robot_id, created_at, id);
CREATE INDEX fo_tasks_list_trip ON fo_tasks (trip_id, created_at, id);
CREATE INDEX fo_tasks_updated ON fo_tasks (updated_at);
