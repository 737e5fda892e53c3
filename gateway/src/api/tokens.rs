//! `/api/v1/tokens`: API token management (admin).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, ApiState};
use crate::auth::{AuthError, Principal, Role, TokenInfo};

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// The new token's role.
    pub role: Role,
    /// A name for people (default `{role}-{id}`).
    pub name: Option<String>,
}

/// A created token: the secret is shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token's description.
    pub token: TokenInfo,
    /// The secret to send as `Authorization: Bearer <secret>`; not stored,
    /// never shown again.
    pub secret: String,
}

/// `GET /api/v1/tokens`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Every token, oldest first (never a secret).
    pub items: Vec<TokenInfo>,
}

fn store_error(e: AuthError) -> ApiError {
    match e {
        AuthError::NotFound(id) => ApiError::not_found(format!("no token has the id '{id}'")),
        other => {
            tracing::error!(error = %other, "api: token store failed");
            ApiError::unavailable(other.to_string())
        }
    }
}

/// Lists the API tokens.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    responses((status = 200, body = TokenList), (status = 401, body = super::Problem), (status = 403, body = super::Problem)),
    security(("bearer" = ["admin"])))]
pub(crate) async fn list(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    let items = state.tokens.list().await.map_err(store_error)?;
    Ok(HttpResponse::Ok().json(TokenList { items }))
}

/// Creates a token; the answer holds its secret, shown this once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens",
    request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = super::Problem), (status = 401, body = super::Problem), (status = 403, body = super::Problem)),
    security(("bearer" = ["admin"])))]
pub(crate) async fn create(
    principal: Principal,
    state: web::Data<ApiState>,
    body: web::Json<CreateToken>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let (token, secret) = state
        .tokens
        .create(body.role, body.name.as_deref().unwrap_or(""))
        .await
        .map_err(store_error)?;
    tracing::info!(token_id = %token.id, requested_by = %principal.requested_by(), "api: token created over the API");
    Ok(HttpResponse::Created().json(CreatedToken { token, secret }))
}

/// Revokes a token: from now on it is refused (401).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 200, body = TokenInfo), (status = 401, body = super::Problem), (status = 403, body = super::Problem), (status = 404, body = super::Problem)),
    security(("bearer" = ["admin"])))]
pub(crate) async fn revoke(
    principal: Principal,
    state: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let token = state
        .tokens
        .revoke(&id.into_inner())
        .await
        .map_err(store_error)?;
    tracing::info!(token_id = %token.id, requested_by = %principal.requested_by(), "api: token revoked over the API");
    Ok(HttpResponse::Ok().json(token))
}
