//! JWTs from the platform's identity provider: OAuth 2 client credentials for services, OIDC
//! for people. Checked with jsonwebtoken (ring underneath, as for the service's own keys):
//! the signature (RS256, ES256 or EdDSA) against the provider's JWKS, `exp`, `nbf`, `iss` and
//! `aud`, with a small leeway. A token naming a key id the JWKS lacks makes it fetch the JWKS
//! again (the provider rotated its keys), at most once per `refetch_interval`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, RwLock};

use super::{AuthError, Principal, Role};

#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// A file, or an `https://` URL (`http://` only on the loopback interface).
    pub jwks: String,
    pub issuer: String,
    pub audience: String,
    /// The claim naming the principal's roles: a string or an array of strings.
    pub roles_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// The shortest time between two fetches of the JWKS.
    pub refetch_interval: Duration,
}

pub struct JwtVerifier {
    settings: JwtSettings,
    keys: RwLock<JwkSet>,
    fetched_at: Mutex<Instant>,
    /// Tokens verified already, by their SHA-256, until they expire: a client sends the same
    /// token for its whole life, and checking its signature each time cost more than the rest
    /// of authentication. Bounded; emptied whole when full, and when the keys are fetched again.
    verified: std::sync::Mutex<HashMap<[u8; 32], (Principal, i64)>>,
}

/// Tokens kept verified at most.
const VERIFIED_TOKENS: usize = 10_000;

/// The algorithms accepted; `none` and the HMAC ones never are.
const ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

impl JwtVerifier {
    /// Loads the JWKS once; the service does not start without it.
    pub async fn new(settings: JwtSettings) -> anyhow::Result<Self> {
        let keys = fetch(&settings.jwks).await?;
        Ok(Self {
            settings,
            keys: RwLock::new(keys),
            fetched_at: Mutex::new(Instant::now()),
            verified: Default::default(),
        })
    }

    /// The token's principal: from the tokens verified already while it has not expired
    /// (`exp` checked on every use, with the leeway), else checked in full.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = chrono::Utc::now().timestamp();
        let leeway = self.settings.leeway.as_secs() as i64;
        if let Some((principal, exp)) = self.verified_lock().get(&digest) {
            if now <= exp + leeway {
                return Ok(principal.clone());
            }
        }
        let (principal, exp) = self.check(token).await?;
        let mut verified = self.verified_lock();
        if verified.len() >= VERIFIED_TOKENS {
            verified.clear();
        }
        verified.insert(digest, (principal.clone(), exp));
        Ok(principal)
    }

    fn verified_lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], (Principal, i64)>> {
        self.verified
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Checks a token in full; returns its principal and its `exp`.
    async fn check(&self, token: &str) -> Result<(Principal, i64), AuthError> {
        let invalid = |why: &str| AuthError::InvalidToken(why.to_string());
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("not a JWT"))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(invalid("its algorithm is not RS256, ES256 or EdDSA"));
        }
        let kid = header
            .kid
            .ok_or_else(|| invalid("its header names no key (kid)"))?;
        let key = match self.key(&kid).await {
            Some(key) => key,
            None => {
                self.refetch().await;
                self.key(&kid)
                    .await
                    .ok_or_else(|| invalid("it names a key the issuer does not publish"))?
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.settings.leeway.as_secs();
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => AuthError::TokenExpired,
                ErrorKind::ImmatureSignature => invalid("it is not valid yet (nbf)"),
                ErrorKind::InvalidAudience => invalid("it is for another audience"),
                ErrorKind::InvalidIssuer => invalid("it is from another issuer"),
                ErrorKind::InvalidSignature => invalid("its signature does not verify"),
                ErrorKind::MissingRequiredClaim(claim) => {
                    AuthError::InvalidToken(format!("it lacks the {claim} claim"))
                }
                ErrorKind::InvalidAlgorithm => invalid("its algorithm does not fit its key"),
                _ => invalid("it cannot be decoded"),
            })?
            .claims;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if sub.is_empty() {
            return Err(invalid("its subject (sub) is empty"));
        }
        let roles = strings(claims.get(&self.settings.roles_claim))
            .iter()
            .filter_map(|role| role.parse::<Role>().ok())
            .collect();
        let collections = claims.get("collections").map(|value| strings(Some(value)));
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        let principal = Principal {
            actor: format!("jwt:{sub}@{}", self.settings.issuer),
            roles,
            collections,
        };
        Ok((principal, exp))
    }

    async fn key(&self, kid: &str) -> Option<DecodingKey> {
        let keys = self.keys.read().await;
        let jwk = keys.find(kid)?;
        DecodingKey::from_jwk(jwk).ok()
    }

    /// Fetches the JWKS again unless it was fetched within `refetch_interval`.
    async fn refetch(&self) {
        let mut fetched_at = self.fetched_at.lock().await;
        if fetched_at.elapsed() < self.settings.refetch_interval {
            return;
        }
        *fetched_at = Instant::now();
        match fetch(&self.settings.jwks).await {
            Ok(keys) => {
                *self.keys.write().await = keys;
                // A key the provider withdrew must not keep its tokens alive here.
                self.verified_lock().clear();
            }
            Err(err) => tracing::warn!(error = %format!("{err:#}"), "cannot fetch the JWKS again"),
        }
    }
}

/// A claim that is a string or an array of strings.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => vec![],
    }
}

async fn fetch(source: &str) -> anyhow::Result<JwkSet> {
    use anyhow::Context;
    let text = if source.starts_with("https://") || loopback_http(source) {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?
            .get(source)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("cannot fetch the JWKS from {source}"))?
            .text()
            .await?
    } else if source.starts_with("http://") {
        anyhow::bail!(
            "the JWKS must come over https (plain http only from the loopback interface)"
        );
    } else {
        tokio::fs::read_to_string(source)
            .await
            .with_context(|| format!("cannot read the JWKS file {source}"))?
    };
    serde_json::from_str(&text).with_context(|| format!("{source} is not a JWKS document"))
}

fn loopback_http(source: &str) -> bool {
    [
        "http://127.0.0.1:",
        "http://127.0.0.1/",
        "http://localhost:",
        "http://localhost/",
        "http://[::1]",
    ]
    .iter()
    .any(|prefix| source.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_roles_claim_is_a_string_or_a_list() {
        assert_eq!(strings(Some(&Value::from("admin"))), ["admin"]);
        assert_eq!(
            strings(Some(&serde_json::json!(["service", 3, "auditor"]))),
            ["service", "auditor"]
        );
        assert!(strings(None).is_empty());
    }

    #[test]
    fn plain_http_is_for_the_loopback_interface_only() {
        assert!(loopback_http("http://127.0.0.1:8080/jwks.json"));
        assert!(!loopback_http("http://127.0.0.1.evil.example/jwks.json"));
        assert!(!loopback_http("http://idp.example.com/jwks.json"));
    }
}
