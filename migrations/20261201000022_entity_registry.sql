-- The write side's registry of the entities commands name (hubs, cities, robots, pilot centers,
-- locations), each with the state references check: written by the append that registers an
-- entity or changes its state, in the same statement, and read (FOR SHARE) by the append of a
-- command that names one. Not a read model: `operations replay` leaves it alone.
CREATE TABLE entity_registry
(
    aggregate_type text NOT NULL,
    aggregate_id   text NOT NULL,
    state          text NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);

-- The entities registered before this table: each one's state from its last event that set it.
INSERT INTO entity_registry (aggregate_type, aggregate_id, state)
SELECT DISTINCT ON (aggregate_type, aggregate_id) aggregate_type, aggregate_id,
       CASE event_type
           WHEN 'RobotRegistered' THEN 'OFF_DUTY'
           WHEN 'RobotDeployed' THEN 'DEPLOYED'
           WHEN 'RobotDeploymentEnded' THEN 'OFF_DUTY'
           WHEN 'RobotWentOnTrip' THEN 'ON_TRIP'
           WHEN 'RobotParked' THEN 'PARKED'
           WHEN 'RobotGrounded' THEN 'GROUNDED'
           WHEN 'RobotReleased' THEN 'OFF_DUTY'
           WHEN 'RobotRetired' THEN 'RETIRED'
           WHEN 'HubRegistered' THEN 'OPEN'
           WHEN 'HubReopened' THEN 'OPEN'
           WHEN 'HubClosed' THEN 'CLOSED'
           WHEN 'CityRegistered' THEN 'REGISTERED'
           WHEN 'PilotCenterRegistered' THEN 'OPEN'
           WHEN 'PilotCenterClosed' THEN 'CLOSED'
           WHEN 'LocationRegistered' THEN 'ACTIVE'
           WHEN 'LocationRetired' THEN 'RETIRED'
       END
  FROM events
 WHERE event_type IN ('RobotRegistered', 'RobotDeployed', 'RobotDeploymentEnded',
                      'RobotWentOnTrip', 'RobotParked', 'RobotGrounded', 'RobotReleased',
                      'RobotRetired', 'HubRegistered', 'HubReopened', 'HubClosed',
                      'CityRegistered', 'PilotCenterRegistered', 'PilotCenterClosed',
                      'LocationRegistered', 'LocationRetired')
 ORDER BY aggregate_type, aggregate_id, sequence DESC;
