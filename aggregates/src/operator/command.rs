use serde::Deserialize;
use uuid::Uuid;

use super::{DevicePlatform, OperatorRole, OperatorStatus};
use crate::{CommandNames, Name, Note};

/// Commands on an operator, deserialized from `{"<CommandName>": {...fields}}`, unknown fields
/// refused.
#[derive(Debug, Clone, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[derive(strum::IntoStaticStr, strum::VariantNames)]
pub enum OperatorCommand {
    RegisterOperator {
        role: OperatorRole,
        /// The identity provider's user; unique among operators.
        #[serde(default)]
        user_id: Option<Uuid>,
        #[serde(default)]
        display_name: Option<Name>,
    },
    ChangeOperatorStatus {
        status: OperatorStatus,
    },
    AssignOperatorToHub {
        hub_id: Uuid,
    },
    RemoveOperatorFromHub {
        hub_id: Uuid,
    },
    RegisterMobileDevice {
        /// The device's own identifier, as its platform gives it.
        device_id: Name,
        platform: DevicePlatform,
        #[serde(default)]
        app_version: Option<Name>,
    },
    RemoveMobileDevice {
        device_id: Name,
    },
    DeactivateOperator {
        #[serde(default)]
        reason: Option<Note>,
    },
}

impl CommandNames for OperatorCommand {
    fn name(&self) -> &'static str {
        self.into()
    }

    fn creates_stream(&self) -> bool {
        matches!(self, Self::RegisterOperator { .. })
    }
}
