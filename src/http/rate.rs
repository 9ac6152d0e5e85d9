//! Rate limits (GCRA, with governor): one budget per principal, and one per client address for
//! requests that bring no valid credential, so that guessing keys is slow and costs nothing.
//! Over budget: `429` with `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::problem::{ApiError, Code};

/// Requests per second, with bursts of as many.
#[derive(Debug, Clone, Copy)]
pub struct RateSettings {
    /// Per authenticated principal (0: no limit).
    pub per_principal: u32,
    /// Per client address, for requests without a valid credential (0: no limit).
    pub per_address: u32,
}

pub struct RateLimits {
    principals: Option<DefaultKeyedRateLimiter<String>>,
    addresses: Option<DefaultKeyedRateLimiter<IpAddr>>,
}

fn limiter<K: std::hash::Hash + Eq + Clone>(per_second: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_second).map(|n| RateLimiter::keyed(Quota::per_second(n)))
}

impl RateLimits {
    pub fn new(settings: RateSettings) -> Arc<Self> {
        let limits = Arc::new(Self {
            principals: limiter(settings.per_principal),
            addresses: limiter(settings.per_address),
        });
        // Forget idle keys now and then, so that many addresses cost no lasting memory.
        let weak = Arc::downgrade(&limits);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            loop {
                every.tick().await;
                let Some(limits) = weak.upgrade() else { return };
                if let Some(l) = &limits.principals {
                    l.retain_recent();
                }
                if let Some(l) = &limits.addresses {
                    l.retain_recent();
                }
            }
        });
        limits
    }

    pub fn principal(&self, actor: &str) -> Result<(), Limited> {
        check(
            self.principals.as_ref(),
            &actor.to_string(),
            "this credential",
        )
    }

    pub fn address(&self, address: IpAddr) -> Result<(), Limited> {
        check(
            self.addresses.as_ref(),
            &address,
            "requests without a valid credential from this address",
        )
    }
}

/// A request over its budget: answered `429` with `Retry-After`.
#[derive(Debug)]
pub struct Limited {
    whose: &'static str,
    retry_after_seconds: u64,
}

impl IntoResponse for Limited {
    fn into_response(self) -> Response {
        let seconds = self.retry_after_seconds;
        let mut response = ApiError::new(
            Code::RateLimited,
            format!("too many requests for {}; retry in {seconds} s", self.whose),
        )
        .with("retry_after_seconds", seconds)
        .into_response();
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(&seconds.to_string()).expect("digits"),
        );
        response
    }
}

fn check<K: std::hash::Hash + Eq + Clone>(
    limiter: Option<&DefaultKeyedRateLimiter<K>>,
    key: &K,
    whose: &'static str,
) -> Result<(), Limited> {
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        Limited {
            whose,
            retry_after_seconds: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    })
}
