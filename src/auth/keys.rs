//! API keys issued by the service.
//!
//! A credential is `ops_<key_id>_<secret>`: the key id (public, 96 random bits) finds the key,
//! the secret (256 random bits) proves it. Only the SHA-256 of the secret is stored, compared
//! in constant time.
//!
//! Verified keys are cached for `CACHE_TTL`, but never past a revocation: `revoke` sends
//! `NOTIFY api_keys` in the transaction that revokes, every instance listens and drops the key
//! from its cache when the notification arrives (within milliseconds of the commit), and an
//! instance whose listening connection is down caches nothing, so it asks the database on every
//! request until it listens again; a key read from the database while a revocation arrived
//! is not cached. Expiry needs no notification: it is checked on every
//! request against the cached expiry time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, Utc};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use subtle::ConstantTimeEq;

use super::{AuthError, Principal, Role};

/// How long a verified key is trusted without asking the database (revocations cut it short).
pub const CACHE_TTL: Duration = Duration::from_secs(10);
/// How often a key's `last_used_at` is written, at most.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
pub const PREFIX: &str = "ops_";
const CHANNEL: &str = "api_keys";

/// What `keys list` shows of a key: never its secret.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct KeyInfo {
    pub name: String,
    pub role: String,
    pub collections: Option<Vec<String>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("a key name is 1 to 64 characters: lowercase letters, digits, '.', '-' and '_'")]
    InvalidName,
    #[error("a key named {0:?} exists already (names are never reused: revoked keys keep theirs)")]
    NameTaken(String),
    #[error("no key is named {0:?}")]
    NotFound(String),
    #[error("--collections is for service keys: other roles send no commands, admins send all")]
    CollectionsNeedService,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn random(bytes: usize) -> Vec<u8> {
    let mut out = vec![0; bytes];
    SystemRandom::new()
        .fill(&mut out)
        .expect("the operating system's random number generator works");
    out
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Issues a key; returns its credential, which is shown once and stored nowhere.
pub async fn create(
    pool: &PgPool,
    name: &str,
    role: Role,
    collections: Option<Vec<String>>,
    expires_in: Option<Duration>,
) -> Result<String, KeyError> {
    if !valid_name(name) {
        return Err(KeyError::InvalidName);
    }
    if collections.is_some() && role != Role::Service {
        return Err(KeyError::CollectionsNeedService);
    }
    let key_id: String = random(12).iter().map(|b| format!("{b:02x}")).collect();
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random(32));
    let inserted = sqlx::query(
        "INSERT INTO api_keys (name, key_id, secret_hash, role, collections, expires_at)
         VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(&key_id)
    .bind(hash(&secret))
    .bind(role.as_str())
    .bind(collections)
    .bind(expires_in.map(|d| d.as_secs_f64()))
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(KeyError::NameTaken(name.to_string()));
    }
    Ok(format!("{PREFIX}{key_id}_{secret}"))
}

pub async fn list(pool: &PgPool) -> Result<Vec<KeyInfo>, KeyError> {
    Ok(sqlx::query_as(
        "SELECT name, role, collections, created_at, expires_at, revoked_at, last_used_at
           FROM api_keys ORDER BY created_at, name",
    )
    .fetch_all(pool)
    .await?)
}

/// Revokes a key on every instance: the notification that empties their caches is sent by the
/// transaction that revokes. Revoking a revoked key changes nothing and is no error.
pub async fn revoke(pool: &PgPool, name: &str) -> Result<(), KeyError> {
    let mut tx = pool.begin().await?;
    let key_id: Option<String> = sqlx::query_scalar(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE name = $1
         RETURNING key_id",
    )
    .bind(name)
    .fetch_optional(&mut *tx)
    .await?;
    let key_id = key_id.ok_or_else(|| KeyError::NotFound(name.to_string()))?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(&key_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Clone)]
struct CachedKey {
    secret_hash: Vec<u8>,
    principal: Principal,
    expires_at: Option<DateTime<Utc>>,
    revoked: bool,
    cached_at: Instant,
    touched_at: Option<Instant>,
}

/// Verifies API keys, with the cache described above.
#[derive(Clone)]
pub struct KeyVerifier {
    pool: PgPool,
    cache: Arc<RwLock<HashMap<String, CachedKey>>>,
    listening: Arc<AtomicBool>,
    /// Bumped by every revocation heard: a key read from the database before one arrived is
    /// not cached (it may be the very key revoked).
    revocations: Arc<AtomicU64>,
}

impl KeyVerifier {
    /// A verifier; `listen` must run for it to cache.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            cache: Arc::default(),
            listening: Arc::new(AtomicBool::new(false)),
            revocations: Arc::default(),
        }
    }

    /// Listens for revocations until dropped (a task of its own); caching is on while it does.
    pub fn listen(&self) -> tokio::task::JoinHandle<()> {
        let verifier = self.clone();
        tokio::spawn(async move {
            loop {
                match PgListener::connect_with(&verifier.pool).await {
                    Ok(mut listener) => {
                        if listener.listen(CHANNEL).await.is_ok() {
                            // Anything cached before we listened may predate a revocation.
                            verifier.clear();
                            verifier.listening.store(true, Ordering::SeqCst);
                            while let Ok(notification) = listener.recv().await {
                                verifier.forget(notification.payload());
                            }
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "cannot listen for key revocations"),
                }
                verifier.listening.store(false, Ordering::SeqCst);
                verifier.clear();
                tracing::warn!("not listening for key revocations: API keys are not cached");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    }

    /// Whether any key is neither revoked nor expired.
    pub async fn any_usable(&self) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT FROM api_keys WHERE revoked_at IS NULL
                              AND (expires_at IS NULL OR expires_at > now()))",
        )
        .fetch_one(&self.pool)
        .await
    }

    fn clear(&self) {
        self.revocations.fetch_add(1, Ordering::SeqCst);
        self.cache.write().expect("the key cache lock").clear();
    }

    fn forget(&self, key_id: &str) {
        self.revocations.fetch_add(1, Ordering::SeqCst);
        self.cache
            .write()
            .expect("the key cache lock")
            .remove(key_id);
    }

    /// The principal of an API key credential.
    pub async fn verify(&self, credential: &str) -> Result<Principal, AuthError> {
        let (key_id, secret) = credential
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .ok_or(AuthError::UnknownKey)?;
        let key = match self.cached(key_id) {
            Some(key) => key,
            None => self.load(key_id).await?,
        };
        if !bool::from(key.secret_hash.ct_eq(&hash(secret))) {
            return Err(AuthError::UnknownKey);
        }
        if key.revoked {
            return Err(AuthError::Revoked);
        }
        if key.expires_at.is_some_and(|at| at <= Utc::now()) {
            return Err(AuthError::Expired);
        }
        self.touch(key_id, &key);
        Ok(key.principal)
    }

    fn cached(&self, key_id: &str) -> Option<CachedKey> {
        if !self.listening.load(Ordering::SeqCst) {
            return None;
        }
        let cache = self.cache.read().expect("the key cache lock");
        cache
            .get(key_id)
            .filter(|key| key.cached_at.elapsed() < CACHE_TTL)
            .cloned()
    }

    async fn load(&self, key_id: &str) -> Result<CachedKey, AuthError> {
        #[derive(sqlx::FromRow)]
        struct Stored {
            name: String,
            secret_hash: Vec<u8>,
            role: String,
            collections: Option<Vec<String>>,
            expires_at: Option<DateTime<Utc>>,
            revoked: bool,
        }
        // Read before the database is asked: see `revocations`.
        let seen = self.revocations.load(Ordering::SeqCst);
        let stored: Option<Stored> = sqlx::query_as(
            "SELECT name, secret_hash, role, collections, expires_at,
                    revoked_at IS NOT NULL AS revoked
               FROM api_keys WHERE key_id = $1",
        )
        .bind(key_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|err| AuthError::Unavailable(err.to_string()))?;
        let Stored {
            name,
            secret_hash,
            role,
            collections,
            expires_at,
            revoked,
        } = stored.ok_or(AuthError::UnknownKey)?;
        let role: Role = role.parse().map_err(AuthError::Unavailable)?;
        let key = CachedKey {
            secret_hash,
            principal: Principal {
                actor: format!("key:{name}"),
                roles: vec![role],
                collections,
            },
            expires_at,
            revoked,
            cached_at: Instant::now(),
            touched_at: None,
        };
        if self.listening.load(Ordering::SeqCst) && self.revocations.load(Ordering::SeqCst) == seen
        {
            self.cache
                .write()
                .expect("the key cache lock")
                .insert(key_id.to_string(), key.clone());
        }
        Ok(key)
    }

    /// Records the key's use, at most once a minute per instance, off the request's path.
    fn touch(&self, key_id: &str, key: &CachedKey) {
        if key.touched_at.is_some_and(|at| at.elapsed() < TOUCH_EVERY) {
            return;
        }
        if let Some(cached) = self
            .cache
            .write()
            .expect("the key cache lock")
            .get_mut(key_id)
        {
            cached.touched_at = Some(Instant::now());
        }
        let (pool, key_id) = (self.pool.clone(), key_id.to_string());
        tokio::spawn(async move {
            let touched = sqlx::query("UPDATE api_keys SET last_used_at = now() WHERE key_id = $1")
                .bind(key_id)
                .execute(&pool)
                .await;
            if let Err(err) = touched {
                tracing::debug!(error = %err, "cannot record a key's last use");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_are_plain() {
        for good in ["dispatch", "svc.dispatch-1", "a_b"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "Dispatch", "a b", "ключ", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
