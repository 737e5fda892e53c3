//! The bigcommerce simulator (to be written from shared/systems/).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::{Seed, World};

/// The simulated system's data.
#[derive(Debug, Default)]
pub struct State {}

impl State {
    /// The data to start with.
    pub fn new(_seed: Seed) -> State {
        State::default()
    }
}

/// The path under the system prefix that a client takes as its base URL.
pub const BASE_PATH: &str = "/";

/// The system's API routes, under its prefix.
pub fn routes(_cfg: &mut web::ServiceConfig) {}

/// The system's control routes, under `/_sandbox/{prefix}`.
pub fn control_routes(_cfg: &mut web::ServiceConfig) {}

/// What a client needs besides the base URL, named as the system names it.
pub fn credentials(_world: &World) -> serde_json::Value {
    serde_json::json!({})
}

/// An error in the system's own shape.
pub fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(serde_json::json!({ "message": message }))
}
