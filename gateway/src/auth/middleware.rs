//! [`RequireRole`]: the middleware that lets a request through only with a
//! token of a strong enough role, and the [`Principal`] extractor.

use std::future::{ready, Future, Ready};
use std::pin::Pin;
use std::rc::Rc;

use actix_web::body::EitherBody;
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header;
use actix_web::{web, Error, FromRequest, HttpMessage, HttpRequest, ResponseError};

use super::{Principal, Role, TokenStore};
use crate::api::ApiError;

/// The token of `Authorization: Bearer <token>`, if the header has one.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Middleware (`.wrap(RequireRole(Role::Operator))` on a route, resource or
/// scope) that lets a request through only with `Authorization: Bearer
/// <token>` of at least this role; the token store is the app data
/// `web::Data<TokenStore>`. Refuses with 401 `unauthorized` (no, unknown or
/// revoked token) or 403 `forbidden` (the role is too weak; the detail
/// names the role needed), before the handler reads the request. Puts the
/// [`Principal`] in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub struct RequireRole(pub Role);

impl<S, B> Transform<S, ServiceRequest> for RequireRole
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RequireRoleService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequireRoleService {
            service: Rc::new(service),
            role: self.0,
        }))
    }
}

/// The service [`RequireRole`] wraps around a route.
pub struct RequireRoleService<S> {
    service: Rc<S>,
    role: Role,
}

impl<S, B> Service<ServiceRequest> for RequireRoleService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let needed = self.role;
        Box::pin(async move {
            match authorize(req.request(), needed).await {
                Ok(principal) => {
                    req.extensions_mut().insert(principal);
                    let res = service.call(req).await?;
                    Ok(res.map_into_left_body())
                }
                Err(refusal) => {
                    let response = refusal.error_response();
                    Ok(req.into_response(response).map_into_right_body())
                }
            }
        })
    }
}

/// Who the request's bearer token belongs to, if its role is at least `needed`.
pub(crate) async fn authorize(req: &HttpRequest, needed: Role) -> Result<Principal, ApiError> {
    let Some(secret) = bearer_token(req) else {
        return Err(ApiError::unauthorized(
            "this route needs a token: send Authorization: Bearer <token> \
             (create one with `ml-connector tokens create`)",
        ));
    };
    let Some(tokens) = req.app_data::<web::Data<TokenStore>>() else {
        tracing::error!("no token store is configured: refusing every token");
        return Err(ApiError::unauthorized("this server accepts no token"));
    };
    let principal = match tokens.verify(secret).await {
        Ok(Some(principal)) => principal,
        Ok(None) => {
            return Err(ApiError::unauthorized(
                "the token is unknown or was revoked",
            ))
        }
        Err(error) => {
            tracing::error!(%error, "cannot verify an api token");
            return Err(ApiError::unavailable(
                "cannot verify the token now; try again",
            ));
        }
    };
    if !principal.has(needed) {
        return Err(ApiError::forbidden(format!(
            "this needs the {needed} role (or stronger); the token '{}' is {}",
            principal.name, principal.role
        )));
    }
    Ok(principal)
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Principal, ApiError>>;

    /// The principal [`RequireRole`] let through; 401 on a route it does not guard.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .ok_or_else(|| ApiError::unauthorized("this route needs a token")),
        )
    }
}
