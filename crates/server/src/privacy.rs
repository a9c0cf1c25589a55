//! What keeps patient data out of places it does not belong: the log line of each request
//! (its method and a path with any token blanked; never a query string or a header, so no
//! `Authorization`, cookie or `?token=` reaches the log at any level), and caches (every answer
//! that may carry patient data is `Cache-Control: no-store`).

use crate::auth::{PATIENT_TOKEN_PREFIX, STAFF_TOKEN_PREFIX, STATION_TOKEN_PREFIX};
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// What stands in the log for a path segment that is a token.
const BLANKED: &str = "{token}";

/// Longer than any id or slug of ours: a segment this long is taken for a secret even when it
/// does not carry one of our prefixes (a token mistyped or cut short).
const SECRET_LENGTH: usize = 40;

fn looks_secret(segment: &str) -> bool {
    [
        PATIENT_TOKEN_PREFIX,
        STAFF_TOKEN_PREFIX,
        STATION_TOKEN_PREFIX,
    ]
    .iter()
    .any(|p| segment.starts_with(p))
        || segment.len() >= SECRET_LENGTH
}

/// The request's path as the log may show it: no query, tokens blanked.
pub fn loggable_path(path: &str) -> String {
    path.split('/')
        .map(|s| if looks_secret(s) { BLANKED } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// The span each request is logged in (tower-http's default would record the whole URI).
pub fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %req.method(),
        path = %loggable_path(req.uri().path()),
    )
}

/// Answers of the API that carry no patient data, and so may be cached.
fn cacheable(path: &str) -> bool {
    path == "/healthz" || path == "/v1/openapi.json"
}

/// Marks every API answer (but the health check and the OpenAPI document) `no-store`, unless
/// its handler said otherwise. The patient pages set it themselves, with their other headers.
pub async fn no_store(req: Request, next: Next) -> Response {
    let keep = cacheable(req.uri().path());
    let mut res = next.run(req).await;
    if !keep {
        res.headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_a_path_are_blanked_and_ids_kept() {
        let visit = "0b7e3c52-8a3f-4a5e-9a57-5c1a2f0f6d11";
        assert_eq!(
            loggable_path(&format!("/wait/fdp_{}/leave", "a".repeat(64))),
            "/wait/{token}/leave"
        );
        assert_eq!(
            loggable_path(&format!("/v1/visits/{visit}/claim")),
            format!("/v1/visits/{visit}/claim")
        );
        assert_eq!(loggable_path("/wait/fdp_short"), "/wait/{token}");
        assert_eq!(
            loggable_path(&format!("/x/{}", "9".repeat(64))),
            "/x/{token}"
        );
    }
}
