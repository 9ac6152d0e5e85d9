seed_enum! {
    /// A robot's state: the seed's `RobotStateEventState` (ON_TRIP, PARKED, GROUNDED, OFF_DUTY,
    /// DEPLOYED), plus RETIRED, ours and final. OFF_DUTY: at a hub, out of service; DEPLOYED: in
    /// service and free; ON_TRIP: driving a trip; PARKED: in service, waiting at a stop; GROUNDED:
    /// out of service for a fault or a hold, until maintenance releases it.
    pub enum RobotStatus {
        OnTrip,
        Parked,
        Grounded,
        OffDuty,
        Deployed,
        Retired,
    }
}

impl RobotStatus {
    /// In service: DEPLOYED, ON_TRIP or PARKED (a deployment is open).
    pub fn in_service(self) -> bool {
        matches!(self, Self::Deployed | Self::OnTrip | Self::Parked)
    }
}

seed_enum! {
    /// Why a robot is grounded.
    pub enum GroundingReason {
        HardwareFault,
        LowBattery,
        Damaged,
        SafetyHold,
        Maintenance,
        Other,
    }
}
