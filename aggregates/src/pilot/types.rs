seed_enum! {
    /// Seed `PilotLocation`: where a pilot works.
    pub enum PilotLocation {
        OaDavao,
        TdcxIndia,
        TdcxColombia,
        Us,
        TaskusIndia,
    }
}

seed_enum! {
    /// Seed `ShiftStatus`. OFF_SHIFT is where a shift ends.
    pub enum ShiftStatus {
        OnShift,
        OffShift,
        Unresponsive,
        OnCooldown,
        OnBreak,
    }
}

seed_enum! {
    /// Seed `PilotAssignmentStatus`, plus FINISHED (ours): the pilot's part is done (its task
    /// completed, or a client finished it early, which frees the task for another pilot).
    pub enum PilotAssignmentStatus {
        Requested,
        Abandoned,
        Accepted,
        Rejected,
        Canceled,
        Revoked,
        Stale,
        Finished,
    }
}

seed_enum! {
    /// A reservation's status (ours: the seed keeps only its history).
    pub enum ReservationStatus {
        Active,
        Released,
        Expired,
    }
}

impl PilotAssignmentStatus {
    /// REQUESTED and ACCEPTED hold the pilot; every other status ends the assignment.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Requested | Self::Accepted)
    }
}
