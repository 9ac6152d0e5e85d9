//! Authentication on every route but the public ones, and the `Principal` extractor with which
//! a handler checks the role it needs.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::context::ApiContext;
use super::problem::{ApiError, Code};
use crate::auth::{Access, AuthError, Principal};

/// The routes that answer without a credential.
pub const PUBLIC: [&str; 5] = [
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/docs",
    "/docs/scalar.js",
];

/// What a route needs, by its template (`/v1/tasks/{id}/commands`): `None` for the public
/// ones. The one table both the router and the OpenAPI document read.
pub fn required<'a>(
    method: &axum::http::Method,
    template: &'a str,
) -> Option<(Access, Option<&'a str>)> {
    if PUBLIC.contains(&template) {
        return None;
    }
    let segments: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    Some(match segments.as_slice() {
        ["v1", collection, "{id}", "commands"] if method == axum::http::Method::POST => {
            (Access::Command, Some(*collection))
        }
        // A quote is recorded: asking for one is a command on the collection.
        ["v1", collection @ "availability-quotes"] if method == axum::http::Method::POST => {
            (Access::Command, Some(*collection))
        }
        ["v1", _, "{id}", "verify"] => (Access::Verify, None),
        ["v1", "dead-letters", ..] | ["v1", "admin", ..] => (Access::Admin, None),
        _ => (Access::Read, None),
    })
}

/// Authenticates the request, checks that its principal may use the route (`required`), and
/// leaves the `Principal` in the request's extensions. A public route passes without a
/// credential; one it is given is still checked (an admin's `/readyz` shows more), and a bad
/// one is ignored there.
pub async fn authenticate(
    State(ctx): State<ApiContext>,
    mut request: Request,
    next: Next,
) -> Response {
    let public = PUBLIC.contains(&request.uri().path());
    let header = request.headers().get(header::AUTHORIZATION).cloned();
    // Two credentials are one too many: which one would the request be?
    let ambiguous = request
        .headers()
        .get_all(header::AUTHORIZATION)
        .iter()
        .count()
        > 1;
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    // A request without a valid credential spends its address's budget; a valid one, its
    // principal's.
    let refused = |err: AuthError| match address.map(|a| ctx.rate.address(a)) {
        Some(Err(limited)) => limited.into_response(),
        _ => unauthorized(err),
    };
    let principal = match header {
        _ if ambiguous && !public => return refused(AuthError::Malformed),
        _ if ambiguous => None,
        None if public => None,
        None => return refused(AuthError::Missing),
        Some(value) => match ctx.auth.authenticate(&value).await {
            Ok(principal) => {
                if let Err(limited) = ctx.rate.principal(&principal.actor) {
                    return limited.into_response();
                }
                Some(principal)
            }
            Err(_) if public => None,
            Err(err) => return refused(err),
        },
    };
    let template = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string());
    if let (Some(principal), Some(template)) = (&principal, template) {
        if let Some((access, collection)) = required(request.method(), &template) {
            if let Err(forbidden) = principal.require(access, collection) {
                return forbidden.into_response();
            }
        }
    }
    if let Some(principal) = principal {
        request.extensions_mut().insert(principal);
    }
    next.run(request).await
}

fn unauthorized(err: AuthError) -> Response {
    let challenge = match &err {
        AuthError::Missing => "Bearer".to_string(),
        other => format!(
            "Bearer error=\"invalid_token\", error_description=\"{}\"",
            other.to_string().replace('"', "'")
        ),
    };
    let mut response = ApiError::new(err.code(), err.to_string()).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

impl Principal {
    /// `403` unless it may use a route of `access` (on `collection`, for commands).
    pub fn require(&self, access: Access, collection: Option<&str>) -> Result<(), ApiError> {
        if self.may(access, collection) {
            return Ok(());
        }
        let roles: Vec<&str> = access.roles().iter().map(|r| r.as_str()).collect();
        let detail = match (access, collection) {
            (Access::Command, Some(collection)) => format!(
                "commands on {collection} need the service role with {collection} among its \
                 collections, or the admin role"
            ),
            _ => format!("this route needs the role {}", roles.join(" or ")),
        };
        Err(ApiError::new(Code::Forbidden, detail).with("roles_needed", roles))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::new(AuthError::Missing.code(), AuthError::Missing.to_string()))
    }
}
