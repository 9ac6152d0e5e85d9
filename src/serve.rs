//! The HTTP server: hyper under the axum router, as axum's `serve-with-hyper` example does it,
//! for what `axum::serve` cannot set: a cap on open connections, a header-read timeout (a
//! client that sends half a request header is cut off), an idle timeout on kept-alive
//! connections, and the client's address for the rate limits. Request-body and whole-request
//! timeouts are tower-http layers on the router.

use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// The longest a client may take to send a request's headers (hyper counts from
    /// connecting, and from the end of the previous response).
    pub header_read_timeout: Duration,
    /// A kept-alive connection with no request for this long after its last one is closed
    /// (the header-read timeout closes it too, whichever comes first).
    pub idle_timeout: Duration,
    /// Connections open at once; past it, new ones wait in the listen queue.
    pub max_connections: usize,
}

/// When a connection last finished a request (0: none yet), and how many it has in flight.
struct Activity {
    started: Instant,
    last_millis: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            last_millis: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let millis = self.started.elapsed().as_millis() as u64;
        self.last_millis.store(millis.max(1), Ordering::Relaxed);
    }

    /// How long a kept-alive connection has waited for its next request; `None` while one is
    /// in flight or before the first (the header-read timeout bounds that wait).
    fn idle_for(&self) -> Option<Duration> {
        let last = self.last_millis.load(Ordering::Relaxed);
        if last == 0 || self.in_flight.load(Ordering::Relaxed) > 0 {
            return None;
        }
        Some(
            self.started
                .elapsed()
                .saturating_sub(Duration::from_millis(last)),
        )
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the requests in flight
/// finish (up to 30 s).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, address) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let activity = Arc::new(Activity::new());
            let seen = activity.clone();
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(ConnectInfo(address));
                let (router, seen) = (router.clone(), seen.clone());
                seen.in_flight.fetch_add(1, Ordering::Relaxed);
                async move {
                    let response = router.oneshot(request).await;
                    seen.touch();
                    seen.in_flight.fetch_sub(1, Ordering::Relaxed);
                    Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
                }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            let check =
                (limits.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
            let mut closing = false;
            loop {
                tokio::select! {
                    served = connection.as_mut() => {
                        if let Err(err) = served {
                            tracing::debug!(%address, error = %err, "connection ended");
                        }
                        break;
                    }
                    _ = stopping.changed(), if !closing => {
                        closing = true;
                        connection.as_mut().graceful_shutdown();
                    }
                    () = tokio::time::sleep(check), if !closing => {
                        if activity.idle_for().is_some_and(|idle| idle >= limits.idle_timeout) {
                            closing = true;
                            connection.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // The connections close once their requests are done; wait for them, within reason.
    let all = limits.max_connections.max(1) as u32;
    let _ = tokio::time::timeout(Duration::from_secs(30), permits.acquire_many(all)).await;
}
