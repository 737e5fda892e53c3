//! Who may call (facts §2.1, §2.2; README rule 3).
//!
//! - api1: HTTP Basic with the Syracuse login ([PUB-X3BASIC]); refused: 401
//!   with a Basic challenge.
//! - GraphQL, connected app: `Authorization: Bearer <jwt>` self-signed with
//!   HS256 by the app's secret, claims `iss` = client ID, optional `sub` =
//!   the allowed user, `aud` `''` or the endpoint URL (not checked), `iat`,
//!   `exp` (the public sample signs `iat + 300`), plus the
//!   `x-xtrem-endpoint` header. Expired, badly signed, unknown issuer,
//!   another user, a lifetime longer than the app's "Tokens validity": 401
//!   `{"message":"Unauthorised"}`. `iat` in the future (beyond
//!   [`super::variants::Variants::clock_skew_secs`]): "error 21".
//! - Option (seed page, UNVERIFIED for X3): `POST /v1/token` with
//!   `grant_type=client_credentials`, `client_id`, `client_secret` gives an
//!   opaque bearer token valid 300 s.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::Duration;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::{errors, State};
use crate::World;

/// Lifetime of a client-credentials token (the seed page: 5 minutes).
pub const TOKEN_SECONDS: i64 = 300;

fn header_value(req: &HttpRequest, name: header::HeaderName) -> Option<&str> {
    req.headers().get(name)?.to_str().ok()
}

/// Checks api1 Basic credentials.
pub fn check_basic(req: &HttpRequest, state: &State) -> Result<(), Box<HttpResponse>> {
    let refused = || {
        Box::new(errors::api1(
            StatusCode::UNAUTHORIZED,
            "Authentication required: invalid user or password",
        ))
    };
    let value = header_value(req, header::AUTHORIZATION).ok_or_else(refused)?;
    let (scheme, encoded) = value.trim().split_once(' ').ok_or_else(refused)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(refused());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| refused())?;
    let text = String::from_utf8(decoded).map_err(|_| refused())?;
    let (user, password) = text.split_once(':').ok_or_else(refused)?;
    if user != state.user || password != state.password {
        return Err(refused());
    }
    Ok(())
}

fn unauthorised() -> Box<HttpResponse> {
    Box::new(errors::unauthorised())
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    iat: Option<i64>,
    exp: Option<i64>,
}

/// Checks a GraphQL bearer (JWT or client-credentials token).
pub fn check_bearer(req: &HttpRequest, state: &mut State) -> Result<(), Box<HttpResponse>> {
    let value = header_value(req, header::AUTHORIZATION).ok_or_else(unauthorised)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(unauthorised)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unauthorised());
    }
    let token = token.trim();
    // Tokens live on the wall clock, not the folder's data clock (which
    // tests may move to date records).
    let now = chrono::Utc::now();
    if token.matches('.').count() != 2 {
        // An opaque client-credentials token.
        state.tokens.retain(|(_, expiry)| *expiry > now);
        if state.variants.client_credentials && state.tokens.iter().any(|(t, _)| t == token) {
            return Ok(());
        }
        return Err(unauthorised());
    }
    // Read the issuer first, to find the app whose secret signs the token.
    let mut insecure = Validation::new(Algorithm::HS256);
    insecure.insecure_disable_signature_validation();
    insecure.validate_exp = false;
    insecure.validate_aud = false;
    insecure.required_spec_claims.clear();
    let unverified =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(b""), &insecure)
            .map_err(|_| unauthorised())?;
    let iss = unverified.claims.iss.clone().unwrap_or_default();
    let app = state
        .apps
        .iter()
        .find(|a| a.client_id == iss && a.active)
        .cloned()
        .ok_or_else(unauthorised)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false; // checked below against the folder's clock
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(app.secret.as_bytes()),
        &validation,
    )
    .map_err(|_| unauthorised())?
    .claims;
    let now = now.timestamp();
    let (Some(iat), Some(exp)) = (claims.iat, claims.exp) else {
        return Err(unauthorised());
    };
    if iat > now + state.variants.clock_skew_secs {
        return Err(Box::new(errors::error_21(&format!(
            "The token is issued in the future (iat {iat}, server time {now})"
        ))));
    }
    if exp <= now || exp - iat > state.variants.tokens_validity_secs {
        return Err(unauthorised());
    }
    if let Some(sub) = claims.sub.as_deref() {
        if !sub.is_empty() && !sub.eq_ignore_ascii_case(&app.allowed_user) {
            return Err(unauthorised());
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize, Default)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// `POST /v1/token` (option): form or JSON body, or the client in Basic.
pub async fn token(world: web::Data<World>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let mut request: TokenRequest = serde_json::from_slice(&body)
        .or_else(|_| serde_urlencoded_form(&body))
        .unwrap_or_default();
    if let Some((id, secret)) = header_value(&req, header::AUTHORIZATION)
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|e| {
            base64::engine::general_purpose::STANDARD
                .decode(e.trim())
                .ok()
        })
        .and_then(|d| String::from_utf8(d).ok())
        .and_then(|t| {
            t.split_once(':')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        })
    {
        request.client_id.get_or_insert(id);
        request.client_secret.get_or_insert(secret);
    }
    let mut state = world.sagex3();
    if !state.variants.client_credentials {
        return errors::gateway(StatusCode::NOT_FOUND, "Not found");
    }
    let (Some(grant), Some(id), Some(secret)) =
        (request.grant_type, request.client_id, request.client_secret)
    else {
        return errors::gateway(
            StatusCode::BAD_REQUEST,
            "Missing required request parameters",
        );
    };
    if grant != "client_credentials" {
        return errors::gateway(StatusCode::BAD_REQUEST, "Invalid grant type");
    }
    let Some(app) = state.apps.iter().find(|a| a.client_id == id).cloned() else {
        return errors::unauthorised();
    };
    if app.secret != secret {
        return errors::unauthorised();
    }
    if !app.active {
        return errors::gateway(StatusCode::FORBIDDEN, "The application is disabled.");
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    let expiry = chrono::Utc::now() + Duration::seconds(TOKEN_SECONDS);
    state.tokens.push((token.clone(), expiry));
    HttpResponse::Ok().json(serde_json::json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": TOKEN_SECONDS,
        "scope": "api.graphQL",
    }))
}

fn serde_urlencoded_form(body: &[u8]) -> Result<TokenRequest, ()> {
    let text = std::str::from_utf8(body).map_err(|_| ())?;
    let pairs = web::Query::<Vec<(String, String)>>::from_query(text).map_err(|_| ())?;
    let mut r = TokenRequest::default();
    for (k, v) in pairs.into_inner() {
        match k.as_str() {
            "grant_type" => r.grant_type = Some(v),
            "client_id" => r.client_id = Some(v),
            "client_secret" => r.client_secret = Some(v),
            _ => {}
        }
    }
    Ok(r)
}
