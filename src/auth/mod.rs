//! Who is calling, and what they may do.
//!
//! Every route but `/healthz`, `/readyz`, `/openapi.json` and `/docs` needs
//! `Authorization: Bearer <credential>`: an API key this service issued (`keys`), or a JWT from
//! the platform's identity provider (`jwt`). Either gives a `Principal`: its actor name, which
//! every event it causes records, and its roles.

pub mod jwt;
pub mod keys;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use axum::http::HeaderValue;
use serde::{Deserialize, Serialize};

/// Turns an `Authorization` header into a principal: API keys always, JWTs when an issuer is
/// configured.
#[derive(Clone)]
pub struct Authenticator {
    pub keys: keys::KeyVerifier,
    pub jwt: Option<Arc<jwt::JwtVerifier>>,
}

impl Authenticator {
    pub async fn authenticate(&self, header: &HeaderValue) -> Result<Principal, AuthError> {
        let value = header.to_str().map_err(|_| AuthError::Malformed)?;
        let (scheme, credential) = value.split_once(' ').ok_or(AuthError::Malformed)?;
        let credential = credential.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || credential.is_empty() {
            return Err(AuthError::Malformed);
        }
        if credential.starts_with(keys::PREFIX) {
            return self.keys.verify(credential).await;
        }
        if credential.split('.').count() == 3 {
            return match &self.jwt {
                Some(jwt) => jwt.verify(credential).await,
                None => Err(AuthError::NoIssuer),
            };
        }
        Err(AuthError::UnknownKey)
    }

    /// Whether anything can authenticate at all: an issuer, or at least one usable key.
    pub async fn anyone_can_sign_in(&self) -> bool {
        self.jwt.is_some() || self.keys.any_usable().await.unwrap_or(true)
    }
}

/// What a principal may do (see the README's *Access*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Commands on the collections its credential names, and every read.
    Service,
    /// Reads, the feed, export, time travel.
    Analyst,
    /// Reads, history, the feed, and verification of the audit trail.
    Auditor,
    /// Everything, and the admin endpoints.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Service, Role::Analyst, Role::Auditor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Service => "service",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == value)
            .ok_or_else(|| {
                format!("unknown role {value:?}: one of service, analyst, auditor, admin")
            })
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The actor recorded on every event it causes: `key:<name>`, or `jwt:<sub>@<issuer>`.
    pub actor: String,
    pub roles: Vec<Role>,
    /// The collections it may send commands to as a service; `None`: every collection.
    pub collections: Option<Vec<String>>,
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any authenticated principal.
    Read,
    /// Commands on a collection: a service allowed that collection, or an admin.
    Command,
    /// Verification of the audit trail: an auditor or an admin.
    Verify,
    /// The admin endpoints.
    Admin,
}

impl Access {
    /// The roles that may use a route of this kind (a service only for its collections).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Access::Read => &Role::ALL,
            Access::Command => &[Role::Service, Role::Admin],
            Access::Verify => &[Role::Auditor, Role::Admin],
            Access::Admin => &[Role::Admin],
        }
    }
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether it may use a route of `access`, on `collection` for commands.
    pub fn may(&self, access: Access, collection: Option<&str>) -> bool {
        if self.has(Role::Admin) {
            return true;
        }
        match access {
            Access::Command => {
                self.has(Role::Service)
                    && match (&self.collections, collection) {
                        (None, _) => true,
                        (Some(allowed), Some(c)) => allowed.iter().any(|a| a == c),
                        (Some(_), None) => false,
                    }
            }
            access => access.roles().iter().any(|role| self.has(*role)),
        }
    }
}

/// Why a credential was refused; the text says what is wrong, never what was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("this route needs a credential: Authorization: Bearer <API key or JWT>")]
    Missing,
    #[error("the Authorization header must be one `Bearer <credential>`")]
    Malformed,
    #[error("unknown API key")]
    UnknownKey,
    #[error("the API key was revoked")]
    Revoked,
    #[error("the API key expired")]
    Expired,
    #[error("the token expired")]
    TokenExpired,
    #[error("the token is not valid: {0}")]
    InvalidToken(String),
    #[error("no JWT issuer is configured: only API keys are accepted")]
    NoIssuer,
    #[error("credentials cannot be checked now: {0}")]
    Unavailable(String),
}

impl AuthError {
    pub fn code(&self) -> crate::http::Code {
        use crate::http::Code;
        match self {
            AuthError::Missing => Code::CredentialRequired,
            AuthError::Malformed => Code::MalformedCredential,
            AuthError::UnknownKey => Code::UnknownKey,
            AuthError::Revoked => Code::KeyRevoked,
            AuthError::Expired | AuthError::TokenExpired => Code::CredentialExpired,
            AuthError::InvalidToken(_) | AuthError::NoIssuer => Code::InvalidJwt,
            AuthError::Unavailable(_) => Code::AuthenticationUnavailable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[Role], collections: Option<&[&str]>) -> Principal {
        Principal {
            actor: "key:test".into(),
            roles: roles.to_vec(),
            collections: collections.map(|c| c.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn a_service_commands_only_its_collections() {
        let service = principal(&[Role::Service], Some(&["tasks"]));
        assert!(service.may(Access::Command, Some("tasks")));
        assert!(!service.may(Access::Command, Some("pilots")));
        assert!(service.may(Access::Read, None));
        assert!(!service.may(Access::Verify, None));
        assert!(!service.may(Access::Admin, None));
        let everywhere = principal(&[Role::Service], None);
        assert!(everywhere.may(Access::Command, Some("pilots")));
    }

    #[test]
    fn readers_read_auditors_verify_admins_do_everything() {
        for role in [Role::Analyst, Role::Auditor] {
            let reader = principal(&[role], None);
            assert!(reader.may(Access::Read, None));
            assert!(!reader.may(Access::Command, Some("tasks")));
            assert!(!reader.may(Access::Admin, None));
        }
        assert!(principal(&[Role::Auditor], None).may(Access::Verify, None));
        assert!(!principal(&[Role::Analyst], None).may(Access::Verify, None));
        let admin = principal(&[Role::Admin], Some(&[]));
        for access in [Access::Read, Access::Command, Access::Verify, Access::Admin] {
            assert!(admin.may(access, Some("tasks")));
        }
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        assert_eq!("auditor".parse::<Role>(), Ok(Role::Auditor));
        assert!("Admin".parse::<Role>().is_err());
        assert!("root".parse::<Role>().is_err());
    }
}
