seed_enum! {
    /// Seed `TripStatus`.
    pub enum TripStatus {
        AtStop,
        ReadyToDepart,
        InTransit,
        Completed,
        Cancelled,
    }
}

impl TripStatus {
    /// COMPLETED and CANCELLED end a trip: it accepts no further status change.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }
}

seed_enum! {
    /// Seed `TripType`.
    pub enum TripType {
        Jitp,
        Deployment,
        Delivery,
        Return,
        None,
    }
}

seed_enum! {
    /// What a robot on a trip needs a field operator for.
    pub enum AssistanceKind {
        Stuck,
        BlockedPath,
        HardwareFault,
        LowBattery,
        Vandalism,
        Other,
    }
}

seed_enum! {
    /// How a field operator closed an assistance request. Recorded as said: `TRIP_CANCELLED` does
    /// not cancel the trip, which takes its own `CancelTrip`.
    pub enum AssistanceOutcome {
        Resolved,
        RobotRecovered,
        TripCancelled,
        Unresolved,
    }
}

seed_enum! {
    /// Where an assistance request stands: REQUESTED, then ACKNOWLEDGED by a field operator, then
    /// RESOLVED (a request may also be resolved straight from REQUESTED).
    pub enum AssistanceStatus {
        Requested,
        Acknowledged,
        Resolved,
    }
}
