//! Authentication and rate limits of both versions, applied to every route
//! of `/v1` and `/v2` before the handler runs.
//!
//! - V1 (facts §4.1): `Authorization: Basic base64(apiKey:apiSecret)`; 40
//!   requests a minute per key pair; every answer carries
//!   `X-Rate-Limit-Limit`, `-Remaining` and `-Reset` (seconds until the
//!   window resets); over the limit 429 (with `Retry-After` too).
//! - V2 (facts §4.5): `API-Key: <key>` (header names are case-insensitive,
//!   so the docs' `api-key` works); 200 a minute; 429 with `Retry-After`.
//!
//! The window is fixed: it starts at the first counted request and lasts
//! `rate_window_secs`. Refused requests (401, 429) are not counted.

use std::time::{Duration, Instant};

use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::{web, HttpResponse, ResponseError};
use base64::Engine;

use super::errors::{V1Error, V2Error};
use super::{V1_API_KEY, V1_API_SECRET, V2_API_KEY};
use crate::World;

/// The API version a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// Basic auth, `ssapi.shipstation.com`.
    V1,
    /// `API-Key`, `api.shipstation.com/v2`.
    V2,
}

/// The headers to add to the answer of an accepted request.
pub type RateHeaders = Vec<(HeaderName, HeaderValue)>;

/// Decodes Basic credentials.
fn basic(req: &ServiceRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (key, secret) = text.split_once(':')?;
    Some((key.to_string(), secret.to_string()))
}

/// Checks the credentials and counts the request; the headers to add, or
/// the refusal.
pub fn gate(api: Api, req: &ServiceRequest) -> Result<RateHeaders, Box<HttpResponse>> {
    let Some(world) = req.app_data::<web::Data<World>>() else {
        return Err(Box::new(HttpResponse::InternalServerError().finish()));
    };
    let key =
        match api {
            Api::V1 => match basic(req) {
                Some((k, s)) if k == V1_API_KEY && s == V1_API_SECRET => format!("{k}:{s}"),
                // The subscribe operation documents 401 `{"message"}` (§4.4).
                Some(_) => {
                    return Err(Box::new(
                        V1Error::new(401, "Authorization has been denied for this request.")
                            .error_response(),
                    ))
                }
                None => {
                    let mut refused =
                        V1Error::new(401, "Authorization has been denied for this request.")
                            .error_response();
                    refused.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static("Basic realm=\"ssapi.shipstation.com\""),
                    );
                    return Err(Box::new(refused));
                }
            },
            Api::V2 => {
                let given = req
                    .headers()
                    .get("api-key")
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim);
                match given {
                Some(k) if k == V2_API_KEY => k.to_string(),
                Some(_) => {
                    return Err(Box::new(V2Error::new(
                        401,
                        "security",
                        "unauthorized",
                        "The API key is invalid. Please see https://www.shipengine.com/docs/auth",
                    )
                    .error_response()))
                }
                None => {
                    return Err(Box::new(V2Error::new(
                        401,
                        "security",
                        "unauthorized",
                        "The request is missing the API-Key header.",
                    )
                    .error_response()))
                }
            }
            }
        };
    let mut st = world.shipstation();
    let limit = match api {
        Api::V1 => st.settings.v1_rate_limit,
        Api::V2 => st.settings.v2_rate_limit,
    };
    let window = Duration::from_secs(st.settings.rate_window_secs.max(1));
    let now = Instant::now();
    let slot = st.windows.entry((api, key)).or_insert((now, 0));
    if now.duration_since(slot.0) >= window {
        *slot = (now, 0);
    }
    let left = window.saturating_sub(now.duration_since(slot.0));
    // Whole seconds, rounded up: "0" would invite an immediate retry.
    let reset = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    if slot.1 >= limit {
        let mut refused = match api {
            // Exact V1 429 body UNVERIFIED (§4.1): the V1 error shape.
            Api::V1 => V1Error::new(429, "Too Many Requests").error_response(),
            Api::V2 => V2Error::new(
                429,
                "system",
                "rate_limit_exceeded",
                "You have exceeded the rate limit.",
            )
            .error_response(),
        };
        let h = refused.headers_mut();
        h.insert(header::RETRY_AFTER, reset.into());
        if api == Api::V1 {
            add_headers(h, rate_headers(limit, 0, reset));
        }
        return Err(Box::new(refused));
    }
    slot.1 += 1;
    let remaining = limit - slot.1;
    Ok(match api {
        Api::V1 => rate_headers(limit, remaining, reset),
        // The facts give V2 only `Retry-After` on 429.
        Api::V2 => Vec::new(),
    })
}

fn rate_headers(limit: u32, remaining: u32, reset: u64) -> RateHeaders {
    vec![
        (
            HeaderName::from_static("x-rate-limit-limit"),
            HeaderValue::from(limit),
        ),
        (
            HeaderName::from_static("x-rate-limit-remaining"),
            HeaderValue::from(remaining),
        ),
        (
            HeaderName::from_static("x-rate-limit-reset"),
            HeaderValue::from(reset),
        ),
    ]
}

/// Adds `headers` to an answer.
pub fn add_headers(map: &mut HeaderMap, headers: RateHeaders) {
    for (k, v) in headers {
        map.insert(k, v);
    }
}
