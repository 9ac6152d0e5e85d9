//! The bodies and headers the API answers with.

use axum::http::HeaderValue;

/// The answer header carrying a command's consistency token.
pub const CONSISTENCY_TOKEN: &str = "x-consistency-token";

/// A stream version as an entity tag: `"3"`.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}
