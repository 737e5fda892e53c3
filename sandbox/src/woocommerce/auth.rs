//! REST API keys and authentication (facts §1.2): over HTTPS the
//! query-string pair `consumer_key`/`consumer_secret` first, else HTTP
//! Basic, then OAuth 1.0a; over plain HTTP OAuth 1.0a one-legged only.
//! The permission check per method follows authentication.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::HttpRequest;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{form_pairs, is_form, query_pairs, State, Transport, WcError};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permissions {
    /// GET/HEAD only.
    Read,
    /// POST/PUT/PATCH/DELETE only.
    Write,
    /// Everything.
    ReadWrite,
}

/// A REST API key.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ApiKey {
    pub key_id: u64,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub permissions: Permissions,
}

impl ApiKey {
    /// The key in the manifest: `read_write`, deterministic.
    pub fn primary() -> ApiKey {
        ApiKey::numbered(1, Permissions::ReadWrite)
    }

    /// Key number `n`: `ck_`/`cs_` + 40 hex digits, derived from `n`.
    pub fn numbered(n: u64, permissions: Permissions) -> ApiKey {
        let hex = |what: &str| -> String {
            let digest = Sha256::digest(format!("mlc-sandbox woocommerce {what} {n}").as_bytes());
            digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
        };
        ApiKey {
            key_id: n,
            consumer_key: format!("ck_{}", hex("consumer key")),
            consumer_secret: format!("cs_{}", hex("consumer secret")),
            permissions,
        }
    }
}

/// The error a route answers to an unauthenticated request (its permission
/// callback), e.g. `woocommerce_rest_cannot_view`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Denied(pub &'static str, pub &'static str);

/// Listing a collection.
pub(crate) const CANNOT_LIST: Denied = Denied(
    "woocommerce_rest_cannot_view",
    "Sorry, you cannot list resources.",
);
/// Reading one resource.
pub(crate) const CANNOT_VIEW: Denied = Denied(
    "woocommerce_rest_cannot_view",
    "Sorry, you cannot view this resource.",
);
/// Creating.
pub(crate) const CANNOT_CREATE: Denied = Denied(
    "woocommerce_rest_cannot_create",
    "Sorry, you are not allowed to create resources.",
);
/// Editing.
pub(crate) const CANNOT_EDIT: Denied = Denied(
    "woocommerce_rest_cannot_edit",
    "Sorry, you are not allowed to edit this resource.",
);
/// Deleting.
pub(crate) const CANNOT_DELETE: Denied = Denied(
    "woocommerce_rest_cannot_delete",
    "Sorry, you are not allowed to delete this resource.",
);
/// Batch endpoints.
pub(crate) const CANNOT_BATCH: Denied = Denied(
    "woocommerce_rest_cannot_batch",
    "Sorry, you are not allowed to batch manipulate this resource.",
);

/// Authenticates the request and checks the key's permission for its
/// method; an unauthenticated request gets `denied` with 401.
pub(crate) fn authorize(
    req: &HttpRequest,
    body: &[u8],
    state: &mut State,
    denied: Denied,
) -> Result<(), WcError> {
    let Some(index) = authenticate(req, body, state)? else {
        return Err(WcError::new(401, denied.0, denied.1));
    };
    let permissions = state.keys[index].permissions;
    // check_permissions (facts §1.2).
    match req.method().as_str() {
        "HEAD" | "GET" if permissions == Permissions::Write => Err(WcError::auth(
            "The API key provided does not have read permissions.",
        )),
        "POST" | "PUT" | "PATCH" | "DELETE" if permissions == Permissions::Read => Err(
            WcError::auth("The API key provided does not have write permissions."),
        ),
        "HEAD" | "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => Ok(()),
        _ => Err(WcError::auth("Unknown request method.")),
    }
}

fn forwarded_https(req: &HttpRequest) -> bool {
    req.headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// Whether Basic and query-string keys are accepted (`is_ssl()`).
fn accepts_basic(req: &HttpRequest, transport: Transport) -> bool {
    match transport {
        Transport::Auto | Transport::Https => true,
        Transport::Http => forwarded_https(req),
    }
}

/// The scheme of the URL in the OAuth base string.
fn oauth_scheme(req: &HttpRequest, transport: Transport) -> &'static str {
    match transport {
        Transport::Https => "https",
        Transport::Auto | Transport::Http if forwarded_https(req) => "https",
        _ => "http",
    }
}

/// The index of the authenticated key, `None` when no credentials apply.
fn authenticate(
    req: &HttpRequest,
    body: &[u8],
    state: &mut State,
) -> Result<Option<usize>, WcError> {
    let transport = state.settings.transport;
    let mut basic_error = None;
    if accepts_basic(req, transport) {
        let query = query_pairs(req);
        let find = |name: &str| {
            query
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let pair = match (find("consumer_key"), find("consumer_secret")) {
            (Some(k), Some(s)) => Some((k, s)),
            _ => basic_credentials(req),
        };
        if let Some((key, secret)) = pair {
            match state.keys.iter().position(|k| k.consumer_key == key) {
                Some(i)
                    if constant_time_eq(
                        state.keys[i].consumer_secret.as_bytes(),
                        secret.as_bytes(),
                    ) =>
                {
                    return Ok(Some(i))
                }
                Some(_) => basic_error = Some(WcError::auth("Consumer secret is invalid.")),
                // Unknown key: falls through to OAuth, then to the route's
                // permission check (facts §1.2).
                None => {}
            }
        }
    }
    // If Basic failed, OAuth is tried too.
    match oauth(req, body, state)? {
        Some(i) => Ok(Some(i)),
        None => basic_error.map_or(Ok(None), Err),
    }
}

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, pass) = decoded.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A request parameter as PHP parses it: a scalar, or one level of array
/// (`k[]=v`, `k[sub]=v`).
#[derive(Debug, Clone)]
enum Param {
    Scalar(String),
    Array(Vec<(String, String)>),
}

/// Merges pairs into PHP-style parameters (last scalar wins; `k[]` appends).
fn merge_php(params: &mut BTreeMap<String, Param>, pairs: Vec<(String, String)>) {
    for (key, value) in pairs {
        if let Some(open) = key.find('[') {
            if key.ends_with(']') {
                let name = key[..open].to_string();
                let sub = key[open + 1..key.len() - 1].to_string();
                let entry = params
                    .entry(name)
                    .or_insert_with(|| Param::Array(Vec::new()));
                if let Param::Scalar(_) = entry {
                    *entry = Param::Array(Vec::new());
                }
                if let Param::Array(items) = entry {
                    let sub = if sub.is_empty() {
                        items.len().to_string()
                    } else {
                        sub
                    };
                    items.retain(|(k, _)| *k != sub);
                    items.push((sub, value));
                }
                continue;
            }
        }
        params.insert(key, Param::Scalar(value));
    }
}

/// `rawurlencode`: everything but `A-Za-z0-9-_.~` as `%XX`.
pub(crate) fn rawurlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `rawurldecode`/`urldecode` (`plus_is_space`).
fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `oauth_*` parameters of an `Authorization: OAuth ...` header.
fn oauth_header_params(req: &HttpRequest) -> Vec<(String, String)> {
    let Some(value) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Vec::new();
    };
    let Some(rest) = value
        .trim()
        .strip_prefix("OAuth ")
        .or_else(|| value.trim().strip_prefix("oauth "))
    else {
        return Vec::new();
    };
    rest.split(',')
        .filter_map(|part| {
            let (k, v) = part.trim().split_once('=')?;
            let k = k.trim();
            if !k.starts_with("oauth_") {
                return None;
            }
            Some((
                k.to_string(),
                percent_decode(v.trim().trim_matches('"'), true),
            ))
        })
        .collect()
}

/// The OAuth 1.0a signature base string (facts §1.2): `METHOD & enc(url) &`
/// params sorted by encoded key, each `enc(enc(k)=enc(v))`, joined `%26`.
fn base_string(method: &str, url: &str, params: &BTreeMap<String, Param>) -> String {
    let mut encoded: Vec<(String, &Param)> = params
        .iter()
        .filter(|(k, _)| k.as_str() != "oauth_signature")
        .map(|(k, v)| (rawurlencode(k), v))
        .collect();
    encoded.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut pairs = Vec::new();
    for (key, value) in encoded {
        match value {
            Param::Scalar(v) => pairs.push(rawurlencode(&format!("{key}={}", rawurlencode(v)))),
            Param::Array(items) => {
                for (sub, v) in items {
                    pairs.push(rawurlencode(&format!(
                        "{key}%5B{sub}%5D={}",
                        rawurlencode(v)
                    )));
                }
            }
        }
    }
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        rawurlencode(url),
        pairs.join("%26")
    )
}

const REQUIRED: [&str; 5] = [
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
];

/// OAuth 1.0a one-legged; `None` when the request carries no OAuth params.
fn oauth(req: &HttpRequest, body: &[u8], state: &mut State) -> Result<Option<usize>, WcError> {
    let mut params = BTreeMap::new();
    merge_php(&mut params, query_pairs(req));
    // $_POST: form bodies only; JSON bodies are never signed.
    if is_form(req) {
        merge_php(&mut params, form_pairs(&String::from_utf8_lossy(body)));
    }
    merge_php(&mut params, oauth_header_params(req));
    let scalar = |name: &str| match params.get(name) {
        Some(Param::Scalar(v)) if !v.is_empty() => Some(v.clone()),
        _ => None,
    };
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|n| scalar(n).is_none())
        .collect();
    if missing.len() == REQUIRED.len() {
        return Ok(None);
    }
    if !missing.is_empty() {
        return Err(WcError::auth(format!(
            "Missing OAuth parameter(s) {}",
            missing.join(", ")
        )));
    }
    let consumer_key = scalar("oauth_consumer_key").unwrap_or_default();
    let Some(index) = state
        .keys
        .iter()
        .position(|k| k.consumer_key == consumer_key)
    else {
        return Err(WcError::auth("Consumer key is invalid."));
    };
    let method = scalar("oauth_signature_method").unwrap_or_default();
    let key = format!("{}&", state.keys[index].consumer_secret);
    let scheme = oauth_scheme(req, state.settings.transport);
    let host = req.connection_info().host().to_string();
    let url = format!("{scheme}://{host}{}", req.path());
    let base = base_string(req.method().as_str(), &url, &params);
    let computed = match method.as_str() {
        "HMAC-SHA1" => {
            let mut mac =
                Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).expect("any key length");
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        "HMAC-SHA256" => {
            let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
            mac.update(base.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        _ => {
            return Err(WcError::auth(
                "Invalid signature - signature method is invalid.",
            ))
        }
    };
    let computed = base64::engine::general_purpose::STANDARD.encode(computed);
    let received = percent_decode(
        &scalar("oauth_signature")
            .unwrap_or_default()
            .replace(' ', "+"),
        false,
    );
    if !constant_time_eq(computed.as_bytes(), received.as_bytes()) {
        tracing::debug!(%base, "woocommerce sandbox: OAuth signature mismatch");
        return Err(WcError::auth(
            "Invalid signature - provided signature does not match.",
        ));
    }
    // Timestamp window ±15 min; a nonce is not reused within it.
    let window = 15 * 60;
    let now = chrono::Utc::now().timestamp();
    let timestamp: i64 = scalar("oauth_timestamp")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    if timestamp < now - window || timestamp > now + window {
        return Err(WcError::auth("Invalid timestamp."));
    }
    state.nonces.retain(|_, used| *used >= now - window);
    let nonce = (consumer_key, scalar("oauth_nonce").unwrap_or_default());
    if state.nonces.contains_key(&nonce) {
        return Err(WcError::auth(
            "Invalid nonce - nonce has already been used.",
        ));
    }
    state.nonces.insert(nonce, now);
    Ok(Some(index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_string_double_encodes_pairs() {
        let mut params = BTreeMap::new();
        merge_php(
            &mut params,
            vec![
                ("per_page".into(), "10".into()),
                ("oauth_nonce".into(), "a b".into()),
                ("include[]".into(), "1".into()),
                ("oauth_signature".into(), "x".into()),
            ],
        );
        let base = base_string(
            "get",
            "http://h:1/woocommerce/wp-json/wc/v3/orders",
            &params,
        );
        assert_eq!(
            base,
            "GET&http%3A%2F%2Fh%3A1%2Fwoocommerce%2Fwp-json%2Fwc%2Fv3%2Forders&\
             include%255B0%255D%3D1%26oauth_nonce%3Da%2520b%26per_page%3D10"
        );
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Bb+c%", true), "a+b c%");
        assert_eq!(percent_decode("a%2Bb+c", false), "a+b+c");
    }
}
