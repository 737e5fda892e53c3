//! Authentication (facts §0.5, §3.2): OAuth 1.0a signed with the
//! integration's four credentials on every request; Bearer tokens (admin
//! tokens from `POST /V1/integration/admin/token`, and the integration
//! access token alone only when `integration_as_bearer` is on).
//!
//! The OAuth checks follow `Magento\Framework\Oauth\Oauth::
//! validateAccessTokenRequest` in order: version, required parameters,
//! token length, signature method, consumer, nonce and timestamp, token,
//! signature. Input problems (`OauthInputException`) are 400, the others
//! (`Oauth\Exception`, an `AuthenticationException`) 401. A request without
//! usable credentials is a guest, refused by the route's ACL check with 401
//! "The consumer isn't authorized to access %resources.".

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::HttpRequest;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{
    percent_decode, query_pairs, rawurlencode, MageError, ParamSort, SignatureMethods, State,
};

/// The admin user of the admin-token flow.
pub(crate) const ADMIN_USERNAME: &str = "admin";
/// Its password.
pub(crate) const ADMIN_PASSWORD: &str = "Admin123!";

/// Magento's key and token length (`Oauth\Helper\Oauth::LENGTH_*`).
const LENGTH: usize = 32;

/// An activated integration: its consumer and access token.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Integration {
    pub consumer_id: u64,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub access_token: String,
    pub access_token_secret: String,
    /// Revoked tokens are refused ("Access token has been revoked").
    pub revoked: bool,
}

impl Integration {
    /// The sandbox's integration: 32-character credentials derived from a
    /// fixed string, so the manifest is stable.
    pub fn primary() -> Integration {
        let derive = |what: &str| -> String {
            let digest = Sha256::digest(format!("mlc-sandbox adobe_commerce {what}").as_bytes());
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()[..LENGTH]
                .to_string()
        };
        Integration {
            consumer_id: 1,
            consumer_key: derive("consumer key"),
            consumer_secret: derive("consumer secret"),
            access_token: derive("access token"),
            access_token_secret: derive("access token secret"),
            revoked: false,
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Caller {
    /// The integration (OAuth or its token as Bearer).
    Integration,
    /// An admin user (admin token).
    Admin,
}

/// Authenticates the request; `Ok(None)` is a guest (the route then answers
/// 401 for its ACL resource).
pub(crate) fn authenticate(
    req: &HttpRequest,
    state: &mut State,
) -> Result<Option<Caller>, MageError> {
    let Some(value) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let trimmed = value.trim();
    if let Some(token) = trimmed
        .strip_prefix("Bearer ")
        .or_else(|| trimmed.strip_prefix("bearer "))
    {
        return Ok(bearer(token.trim(), state));
    }
    // `_processHeader`: everything after the first "oauth " (any case).
    match trimmed.to_ascii_lowercase().find("oauth ") {
        Some(at) => oauth(req, &trimmed[at + 6..], state).map(Some),
        None => Ok(None),
    }
}

fn bearer(token: &str, state: &mut State) -> Option<Caller> {
    let now = chrono::Utc::now().timestamp();
    state.admin_tokens.retain(|_, expires| *expires > now);
    if state.admin_tokens.contains_key(token) {
        return Some(Caller::Admin);
    }
    // Since 2.4.4 the integration token alone is a guest unless the
    // store allows it (facts §0.5).
    let i = &state.integration;
    (state.settings.integration_as_bearer
        && !i.revoked
        && constant_time_eq(i.access_token.as_bytes(), token.as_bytes()))
    .then_some(Caller::Integration)
}

/// Issues an admin token for `username`/`password` (facts §3.2).
pub(crate) fn admin_token(
    state: &mut State,
    username: Option<&str>,
    password: Option<&str>,
) -> Result<String, MageError> {
    let mut missing = Vec::new();
    if username.is_none_or(str::is_empty) {
        missing.push(MageError::required("username"));
    }
    if password.is_none_or(str::is_empty) {
        missing.push(MageError::required("password"));
    }
    if !missing.is_empty() {
        return Err(MageError::input(400, missing));
    }
    if username != Some(ADMIN_USERNAME) || password != Some(ADMIN_PASSWORD) {
        return Err(MageError::new(
            401,
            "The account sign-in was incorrect or your account is disabled temporarily. \
             Please wait and try again later.",
        ));
    }
    let serial = state.token_serial();
    let digest = Sha256::digest(format!("mlc-sandbox adobe_commerce admin token {serial}"));
    let token: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let expires = chrono::Utc::now().timestamp() + state.settings.admin_token_lifetime_secs;
    state.admin_tokens.insert(token.clone(), expires);
    Ok(token)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `name` is an OAuth protocol parameter (`_isProtocolParameter`).
fn is_protocol(name: &str) -> bool {
    name.starts_with("oauth_")
}

/// The parameters signed: the header's `oauth_*` (rawurldecoded), then the
/// query string (`urldecode`d, last duplicate wins), and a form body.
fn signed_params(req: &HttpRequest, header_rest: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    for part in header_rest.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        if is_protocol(k) {
            params.insert(
                percent_decode(k, false),
                percent_decode(v.trim().trim_matches('"'), false),
            );
        }
    }
    for (k, v) in query_pairs(req.query_string()) {
        params.insert(k, v);
    }
    params
}

/// The signature base string (facts §3.2, RFC 5849 §3.4.1): method, the
/// base URL (scheme, host and path as requested, no query) and the
/// parameters, each `rawurlencode`d, sorted by encoded name then value,
/// joined with `&`, the whole encoded again.
pub(crate) fn base_string(
    method: &str,
    url: &str,
    params: &BTreeMap<String, String>,
    sort: ParamSort,
) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "oauth_signature")
        .map(|(k, v)| (rawurlencode(k), rawurlencode(v)))
        .collect();
    match sort {
        ParamSort::Rfc5849 => pairs.sort(),
        ParamSort::Natural => pairs.sort_by(|a, b| strnatcmp(&a.0, &b.0)),
    }
    let joined = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        rawurlencode(url),
        rawurlencode(&joined)
    )
}

/// PHP's `strnatcmp`: runs of digits compare by value, the rest byte by
/// byte.
fn strnatcmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn runs(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ra, rb) = (runs(a), runs(b));
    for (x, y) in ra.iter().zip(rb.iter()) {
        let o = match (x.0, y.0) {
            (true, true) => {
                let (tx, ty) = (x.1.trim_start_matches('0'), y.1.trim_start_matches('0'));
                tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty))
            }
            _ => x.1.cmp(y.1),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    ra.len().cmp(&rb.len())
}

/// `base64(HMAC(percent(consumer_secret)&percent(token_secret), base))`.
pub(crate) fn sign(method: &str, base: &str, consumer_secret: &str, token_secret: &str) -> String {
    let key = format!(
        "{}&{}",
        rawurlencode(consumer_secret),
        rawurlencode(token_secret)
    );
    let mac = match method {
        "HMAC-SHA1" => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).expect("any key");
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key");
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
    };
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// The URL in the base string: the scheme (`https` behind
/// `X-Forwarded-Proto: https`), the host as sent, and the raw path.
fn request_url(req: &HttpRequest) -> String {
    let https = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let scheme = if https { "https" } else { "http" };
    let host = req.connection_info().host().to_ascii_lowercase();
    format!("{scheme}://{host}{}", req.uri().path())
}

const REQUIRED: [&str; 6] = [
    "oauth_consumer_key",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_nonce",
    "oauth_timestamp",
    "oauth_token",
];

fn oauth(req: &HttpRequest, header_rest: &str, state: &mut State) -> Result<Caller, MageError> {
    let params = signed_params(req, header_rest);
    let get = |name: &str| params.get(name).map(String::as_str);
    // _validateVersionParam
    if let Some(version) = get("oauth_version") {
        if version != "1.0" {
            return Err(
                MageError::new(400, "The \"%1\" Oauth version isn't supported.")
                    .with(json!([version])),
            );
        }
    }
    // _checkRequiredParams
    let missing: Vec<MageError> = REQUIRED
        .iter()
        .filter(|name| get(name).is_none())
        .map(|name| MageError::required(name))
        .collect();
    if !missing.is_empty() {
        return Err(MageError::input(400, missing));
    }
    let token = get("oauth_token").unwrap_or_default();
    if token.len() != LENGTH {
        return Err(MageError::new(
            400,
            "The token length is invalid. Check the length and try again.",
        ));
    }
    let method = get("oauth_signature_method").unwrap_or_default();
    let supported = match state.settings.signature_methods {
        SignatureMethods::Both => matches!(method, "HMAC-SHA1" | "HMAC-SHA256"),
        SignatureMethods::Sha256Only => method == "HMAC-SHA256",
    };
    if !supported {
        return Err(
            MageError::new(400, "Signature method %1 is not supported").with(json!([method]))
        );
    }
    let integration = state.integration.clone();
    let consumer_key = get("oauth_consumer_key").unwrap_or_default();
    if consumer_key.len() != LENGTH {
        return Err(MageError::new(
            401,
            "Consumer key is not the correct length",
        ));
    }
    if consumer_key != integration.consumer_key {
        return Err(MageError::new(
            401,
            "A consumer having the specified key does not exist",
        ));
    }
    // NonceGenerator::validateNonce: the timestamp may not be more than
    // TIME_DEVIATION ahead; a nonce is not reused while it is remembered.
    let now = chrono::Utc::now().timestamp();
    let timestamp: i64 = get("oauth_timestamp")
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);
    let too_old = state
        .settings
        .max_timestamp_age_secs
        .is_some_and(|age| timestamp < now - age);
    if timestamp <= 0 || timestamp > now + state.settings.timestamp_deviation_secs || too_old {
        return Err(MageError::new(
            400,
            "Incorrect timestamp value in the oauth_timestamp parameter",
        ));
    }
    let nonce = get("oauth_nonce").unwrap_or_default().to_string();
    if state.nonces.len() % 1024 == 1023 {
        let keep = now - state.settings.nonce_retention_secs;
        state.nonces.retain(|_, used| *used >= keep);
    }
    if state.nonces.contains_key(&nonce) {
        return Err(MageError::new(
            401,
            "The nonce is already being used by the consumer with ID %1",
        )
        .with(json!([integration.consumer_id.to_string()])));
    }
    state.nonces.insert(nonce, now);
    // Token provider: the token must exist, belong to the consumer, and not
    // be revoked.
    if token != integration.access_token {
        return Err(MageError::new(401, "Specified token does not exist"));
    }
    if integration.revoked {
        return Err(MageError::new(401, "Access token has been revoked"));
    }
    let base = base_string(
        req.method().as_str(),
        &request_url(req),
        &params,
        state.settings.param_sort,
    );
    let computed = sign(
        method,
        &base,
        &integration.consumer_secret,
        &integration.access_token_secret,
    );
    let received = get("oauth_signature").unwrap_or_default();
    if !constant_time_eq(computed.as_bytes(), received.as_bytes()) {
        tracing::debug!(%base, "adobe_commerce sandbox: OAuth signature mismatch");
        return Err(MageError::new(
            401,
            "The signature is invalid. Verify and try again.",
        ));
    }
    Ok(Caller::Integration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        use std::cmp::Ordering;
        assert_eq!(strnatcmp("a%5B2%5D", "a%5B10%5D"), Ordering::Less);
        assert_eq!(strnatcmp("a%5B10%5D", "a%5B2%5D"), Ordering::Greater);
        assert_eq!(strnatcmp("oauth_nonce", "oauth_token"), Ordering::Less);
        assert_eq!(strnatcmp("abc", "abc"), Ordering::Equal);
    }

    #[test]
    fn base_string_encodes_brackets_and_spaces() {
        let mut params = BTreeMap::new();
        params.insert(
            "searchCriteria[filter_groups][0][filters][0][value]".to_string(),
            "2016-07-01 00:00:00".to_string(),
        );
        params.insert("oauth_nonce".to_string(), "n".to_string());
        params.insert("oauth_signature".to_string(), "x".to_string());
        let base = base_string(
            "get",
            "http://h:1/rest/V1/orders",
            &params,
            ParamSort::Rfc5849,
        );
        assert_eq!(
            base,
            "GET&http%3A%2F%2Fh%3A1%2Frest%2FV1%2Forders&oauth_nonce%3Dn%26\
             searchCriteria%255Bfilter_groups%255D%255B0%255D%255Bfilters%255D%255B0%255D\
             %255Bvalue%255D%3D2016-07-01%252000%253A00%253A00"
        );
    }
}
