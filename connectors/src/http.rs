//! What both HTTP connectors share: the credential-free description of a
//! call, transport errors, `Retry-After`, and query-string encoding.

use std::time::Duration;

use reqwest::header::HeaderMap;
use url::Url;

use crate::{ConnectorError, OutsideCall};

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
