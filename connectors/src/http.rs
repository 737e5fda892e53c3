//! What both HTTP connectors share: sending a request (traced and timed),
//! the credential-free description of a call, transport errors,
//! `Retry-After`, and query-string encoding.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use opentelemetry::metrics::Histogram;
use opentelemetry::KeyValue;
use reqwest::header::HeaderMap;
use tracing::Instrument;
use url::Url;

use crate::{ConnectorError, OutsideCall};

/// Bucket bounds of `mlc_outside_http_seconds`, in seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

fn latency() -> &'static Histogram<f64> {
    static LATENCY: OnceLock<Histogram<f64>> = OnceLock::new();
    LATENCY.get_or_init(|| {
        opentelemetry::global::meter("mlc-connectors")
            .f64_histogram("mlc_outside_http")
            .with_unit("s")
            .with_description(
                "Calls to the outside systems, by system, method and status (0: no answer)",
            )
            .with_boundaries(LATENCY_BUCKETS.to_vec())
            .build()
    })
}

/// A 200-299 answer or not, as read whole.
pub(crate) struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The answer's body.
    pub body: Vec<u8>,
}

/// Sends `request` (described by `call`) to `system` and reads the whole
/// answer, in a client span `outside call` (a child of the caller's span,
/// so a document's ERP post joins its trace) and timed into the histogram
/// `mlc_outside_http_seconds{system,method,status}`.
pub(crate) async fn send(
    display_name: &'static str,
    call: &OutsideCall,
    request: reqwest::RequestBuilder,
) -> Result<Response, ConnectorError> {
    let system = slug(display_name);
    let span = tracing::info_span!(
        "outside call",
        otel.name = %format!("{system} {}", call.method),
        otel.kind = "client",
        system,
        http.request.method = call.method,
        url.path = %call.path,
        http.response.status_code = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = async {
        let response = request.send().await?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok::<_, reqwest::Error>(Response {
            status,
            headers,
            body,
        })
    }
    .instrument(span.clone())
    .await;
    let elapsed = started.elapsed();
    let status = result.as_ref().map_or(0, |r| r.status);
    span.record("http.response.status_code", status);
    latency().record(
        elapsed.as_secs_f64(),
        &[
            KeyValue::new("system", system),
            KeyValue::new("method", call.method),
            KeyValue::new("status", i64::from(status)),
        ],
    );
    tracing::debug!(
        system,
        call = %call,
        status,
        elapsed_ms = elapsed.as_millis() as u64,
        "outside call"
    );
    result.map_err(|e| transport_error(display_name, call.clone(), e))
}

/// A system's name as a metric label and in span names: `sage300`,
/// `woocommerce` (lower case, no spaces).
fn slug(system: &str) -> &'static str {
    match system {
        "Sage 300" => "sage300",
        "WooCommerce" => "woocommerce",
        "Sage X3" => "sagex3",
        "Sage 100" => "sage100",
        "Adobe Commerce" => "adobecommerce",
        "BigCommerce" => "bigcommerce",
        "ShipStation" => "shipstation",
        _ => "other",
    }
}

/// Query parameters that carry credentials and never appear in an
/// [`OutsideCall`].
const SECRET_PARAMS: [&str; 3] = ["consumer_key", "consumer_secret", "oauth_"];

fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.iter().any(|p| name.starts_with(p))
}

/// The call as it may be shown: method, path and the query without any
/// credential parameter (`consumer_key`, `consumer_secret`, `oauth_*`).
pub(crate) fn outside_call(method: &'static str, url: &Url) -> OutsideCall {
    let mut path = url.path().to_owned();
    if let Some(query) = url.query() {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|part| {
                let name = part.split('=').next().unwrap_or_default();
                !part.is_empty() && !is_secret_param(name)
            })
            .collect();
        if !kept.is_empty() {
            path.push('?');
            path.push_str(&kept.join("&"));
        }
    }
    OutsideCall { method, path }
}

/// A transport failure (timeout, refused or broken connection) as
/// [`ConnectorError::Unreachable`], with the URL (and so any credential in
/// it) left out of the detail.
pub(crate) fn transport_error(
    system: &'static str,
    call: OutsideCall,
    error: reqwest::Error,
) -> ConnectorError {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the connection failed"
    };
    let mut chain = String::new();
    let mut source = std::error::Error::source(&error);
    while let Some(s) = source {
        chain.push_str(&format!(": {s}"));
        source = s.source();
    }
    ConnectorError::Unreachable {
        system,
        call,
        detail: format!("{kind}: {}{chain}", error.without_url()),
    }
}

/// `Retry-After` as seconds (the HTTP-date form is read as "unknown").
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Percent-encodes a query-string component (RFC 3986 unreserved kept,
/// space as `%20`, never `+`), keeping the OData characters `$ ' , ( ) :`
/// readable.
pub(crate) fn encode_query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'$'
            | b','
            | b'\''
            | b'('
            | b')'
            | b':' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A message cut to a readable length for errors.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 300;
    let text = text.trim();
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_never_show_credentials() {
        let url = Url::parse(
            "http://h/wp-json/wc/v3/orders?page=2&consumer_key=ck_1&consumer_secret=cs_2&oauth_signature=x&oauth_nonce=n&per_page=100",
        )
        .unwrap();
        let call = outside_call("GET", &url);
        assert_eq!(call.path, "/wp-json/wc/v3/orders?page=2&per_page=100");
        let url = Url::parse("http://h/a?oauth_signature=x").unwrap();
        assert_eq!(outside_call("GET", &url).to_string(), "GET /a");
    }

    #[test]
    fn query_values_are_encoded_for_odata() {
        assert_eq!(
            encode_query_value("Email eq 'o''brien@x.com' and A ge 2"),
            "Email%20eq%20'o''brien%40x.com'%20and%20A%20ge%202"
        );
        assert_eq!(encode_query_value("a+b&c=d/é"), "a%2Bb%26c%3Dd%2F%C3%A9");
    }
}
