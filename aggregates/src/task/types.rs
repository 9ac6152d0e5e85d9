seed_enum! {
    /// Seed `TaskStatus`.
    pub enum TaskStatus {
        Scheduled,
        Pending,
        InProgress,
        Paused,
        Arrived,
        Completed,
        Cancelled,
    }
}

impl TaskStatus {
    /// COMPLETED and CANCELLED end a task: it accepts no further command.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }
}

seed_enum! {
    /// Seed `TaskType`.
    pub enum TaskType {
        JitpTrip,
        DeploymentTrip,
        DeliveryTrip,
        ReturnTrip,
        None,
    }
}

seed_enum! {
    /// Why a task was cancelled. The seed's `AttemptCancellationReason` has "40+ reasons" but does
    /// not list them; this is our set, grouped by who or what caused the cancellation. Values are
    /// only ever added, never renamed. `OTHER` requires a note.
    pub enum CancellationReason {
        // The customer or the merchant.
        CustomerRequested,
        CustomerUnreachable,
        CustomerNotPresent,
        MerchantRequested,
        MerchantClosed,
        OrderNotReady,
        ItemsUnavailable,
        DuplicateOrder,
        // The destination.
        AddressInvalid,
        AddressUnreachable,
        OutsideServiceArea,
        // The robot.
        RobotUnavailable,
        RobotHardwareFault,
        RobotLowBattery,
        RobotStuck,
        RobotVandalized,
        RobotConnectivityLost,
        // The pilots.
        NoPilotAvailable,
        PilotAbandoned,
        // Conditions on the way.
        RouteBlocked,
        Weather,
        UnsafeConditions,
        SafetyIncident,
        // Operations.
        HubClosed,
        ScheduleExpired,
        OperationalDecision,
        TestTask,
        Other,
    }
}
