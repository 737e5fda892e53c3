//! API accounts and the gate every request passes (§2.1, §2.2):
//! `X-Auth-Token` must be the token of an API account of the store named by
//! the path's `store_hash`; `X-Auth-Client` is ignored ("no longer
//! required"). Refusals are in the shape of the API asked (v2 array, v3
//! object). Then the store-wide rate limit counts the request and its
//! headers go on the answer.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::{web, HttpMessage, ResponseError};
use futures::future::LocalBoxFuture;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Api, BcError, STORE_HASH};
use crate::World;

/// A store-level API account (§2.1): its credentials and whether its
/// scopes are read-only.
#[derive(Debug, Clone, Serialize)]
pub struct ApiAccount {
    /// A label.
    pub name: String,
    /// `client_id`: the hooks it creates are its own (§2.7).
    pub client_id: String,
    /// `client_secret`: signs its hooks' deliveries (§2.9).
    pub client_secret: String,
    /// `access_token`, sent as `X-Auth-Token`.
    pub access_token: String,
    /// Read-only scopes: writes are 403.
    pub read_only: bool,
}

/// Lower-case alphanumerics derived from `seed`, `len` long.
fn token(seed: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::new();
    let mut round = 0u32;
    while out.len() < len {
        let digest = Sha256::digest(format!("{seed}/{round}").as_bytes());
        out.extend(
            digest
                .iter()
                .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char),
        );
        round += 1;
    }
    out.truncate(len);
    out
}

impl ApiAccount {
    /// The account in the manifest (modify scopes).
    pub fn primary() -> ApiAccount {
        ApiAccount::derived("mlc-connector", false)
    }

    /// An account with credentials derived from `name`.
    pub fn derived(name: &str, read_only: bool) -> ApiAccount {
        ApiAccount {
            name: name.to_string(),
            client_id: token(&format!("{name}/client_id"), 31),
            client_secret: token(&format!("{name}/client_secret"), 64),
            access_token: token(&format!("{name}/access_token"), 31),
            read_only,
        }
    }
}

/// Who is calling; in the request's extensions after the gate.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account's `client_id`.
    pub client_id: String,
}

/// The API a path belongs to.
pub(crate) fn api_of(path: &str) -> Api {
    if path.contains("/v2/") || path.ends_with("/v2") {
        Api::V2
    } else {
        Api::V3
    }
}

/// The store hash in `/.../stores/{hash}/...`.
fn store_hash_of(path: &str) -> Option<&str> {
    let rest = &path[path.find("/stores/")? + "/stores/".len()..];
    rest.split('/').next()
}

/// The gate (a `wrap_fn` on `/stores/{store_hash}`).
pub(crate) fn gate<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> LocalBoxFuture<'static, Result<ServiceResponse<BoxBody>, actix_web::Error>>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    let api = api_of(req.path());
    let Some(world) = req.app_data::<web::Data<World>>().cloned() else {
        let e = BcError::new(api, 500, "Internal Server Error");
        return Box::pin(async move { Ok(req.into_response(e.error_response())) });
    };
    let refuse = |req: ServiceRequest, e: BcError| -> LocalBoxFuture<'static, _> {
        Box::pin(async move { Ok(req.into_response(e.error_response())) })
    };
    let token = req
        .headers()
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let hash_ok = store_hash_of(req.path()) == Some(STORE_HASH);
    let read = matches!(req.method().as_str(), "GET" | "HEAD" | "OPTIONS");
    let outcome = {
        let mut st = world.bigcommerce();
        let account = token
            .as_deref()
            .and_then(|t| st.accounts.iter().find(|a| a.access_token == t))
            .cloned();
        match (token.as_deref(), account) {
            (None, _) | (Some(""), _) => Err(BcError::new(
                api,
                401,
                "No credentials were supplied: send the X-Auth-Token header.",
            )),
            (Some(_), None) => Err(BcError::new(
                api,
                401,
                "The X-Auth-Token is not valid for this store.",
            )),
            // A token is bound to its store (decision: 401, not 404).
            (Some(_), Some(_)) if !hash_ok => Err(BcError::new(
                api,
                401,
                "The X-Auth-Token is not valid for this store.",
            )),
            (Some(_), Some(a)) if a.read_only && !read => Err(BcError::new(
                api,
                403,
                "You don't have a required scope to access the endpoint",
            )),
            (Some(_), Some(a)) => {
                let (quota, window) = (
                    st.settings.rate_limit_quota,
                    st.settings.rate_limit_window_ms,
                );
                let with_headers = st.settings.rate_limit_headers_on_429;
                match st.rate.take(quota, window) {
                    Ok(info) => Ok((a, info)),
                    Err(info) => {
                        let e = BcError::new(api, 429, "Too many requests");
                        let mut resp = e.error_response();
                        if with_headers {
                            info.apply(resp.headers_mut(), true);
                        }
                        return Box::pin(async move { Ok(req.into_response(resp)) });
                    }
                }
            }
        }
    };
    match outcome {
        Err(e) => refuse(req, e),
        Ok((account, info)) => {
            req.extensions_mut().insert(Caller {
                client_id: account.client_id,
            });
            let fut = srv.call(req);
            Box::pin(async move {
                let mut res = fut.await?.map_into_boxed_body();
                info.apply(res.headers_mut(), false);
                Ok(res)
            })
        }
    }
}

/// The caller's `client_id` (set by the gate).
pub(crate) fn client_id(req: &actix_web::HttpRequest) -> String {
    req.extensions()
        .get::<Caller>()
        .map(|c| c.client_id.clone())
        .unwrap_or_default()
}
