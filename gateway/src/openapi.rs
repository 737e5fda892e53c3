//! The OpenAPI 3 document of the operator API, generated from the handlers'
//! `#[utoipa::path]` attributes and the request and response types'
//! `ToSchema` derives, served at `GET /api/openapi.json`.
//!
//! The document itself needs a viewer token like every route but
//! `/healthz`. Every operation names the weakest role it lets through as
//! the scope of its `bearer` security requirement (OpenAPI 3.1 allows role
//! names there for non-OAuth schemes), e.g. `security: [{"bearer":
//! ["operator"]}]`.

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::{self, instances, jobs, tokens};
use crate::auth::{Role, TokenInfo};

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("mlc_<base64url>")
                    .description(Some(
                        "An API token from `ml-connector tokens create --role viewer|operator|admin`; \
                         the scopes of each operation's requirement name the weakest role it lets through",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ml-connector operator API",
        description = "Instances, documents, the failure queue, replays and API tokens. \
                       Errors are `{code, detail}` with one HTTP status per code."
    ),
    paths(
        openapi_document,
        instances::list,
        instances::show,
        instances::pause,
        instances::resume,
        instances::check,
        api::list,
        api::docs::show,
        api::docs::preview,
        api::docs::replay,
        api::docs::rewind,
        api::failures,
        jobs::start,
        jobs::show,
        jobs::cancel,
        tokens::list,
        tokens::create,
        tokens::revoke,
    ),
    components(schemas(
        api::Problem,
        api::ActBody,
        instances::InstanceList,
        instances::InstanceView,
        instances::PauseBody,
        instances::PauseOutcome,
        instances::CheckReport,
        instances::SystemCheck,
        jobs::BulkBody,
        jobs::BulkFilterBody,
        jobs::Job,
        jobs::JobStatus,
        tokens::CreateToken,
        tokens::CreatedToken,
        tokens::TokenList,
        TokenInfo,
        Role,
    )),
    modifiers(&BearerScheme),
    tags(
        (name = "instances", description = "Instances: health, pause, resume, connectivity"),
        (name = "documents", description = "Documents and their timelines; replay, rewind, preview"),
        (name = "failures", description = "The failure queue"),
        (name = "replay", description = "Bulk replay jobs"),
        (name = "tokens", description = "API tokens (admin)"),
        (name = "openapi", description = "This document"),
    )
)]
struct ApiDoc;

/// The OpenAPI document of the operator API.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// This OpenAPI document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "openapi",
    responses((status = 200, description = "The OpenAPI 3 document", body = Object), (status = 401, body = api::Problem), (status = 403, body = api::Problem)),
    security(("bearer" = ["viewer"])))]
#[allow(dead_code)]
fn openapi_document() {}

/// `GET /api/openapi.json`.
pub(crate) async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(document())
}
