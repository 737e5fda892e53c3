//! The control API under `/_sandbox/`: the manifest, fault rules, the log of
//! accepted writes, and each system's own controls (seeding, driving events)
//! under `/_sandbox/{system}/`.

use actix_web::{web, HttpResponse};

use crate::faults::FaultRule;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::{Seed, System, World};

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/_sandbox")
            .route("/manifest", web::get().to(manifest))
            .route("/faults", web::get().to(list_faults))
            .route("/faults", web::post().to(add_fault))
            .route("/faults", web::delete().to(clear_faults))
            .route("/faults/{id}", web::delete().to(remove_fault))
            .route("/{system}/received", web::get().to(received))
            .route("/{system}/received", web::delete().to(clear_received))
            .configure(crate::world::system_control_routes),
    );
}

async fn manifest(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(world.manifest())
}

async fn list_faults(world: web::Data<World>) -> HttpResponse {
    HttpResponse::Ok().json(world.faults.list())
}

async fn add_fault(world: web::Data<World>, rule: web::Json<FaultRule>) -> HttpResponse {
    let id = world.faults.add(rule.into_inner());
    HttpResponse::Created().json(serde_json::json!({ "id": id }))
}

async fn clear_faults(world: web::Data<World>) -> HttpResponse {
    world.faults.clear();
    HttpResponse::NoContent().finish()
}

async fn remove_fault(world: web::Data<World>, id: web::Path<u64>) -> HttpResponse {
    if world.faults.remove(id.into_inner()) {
        HttpResponse::NoContent().finish()
    } else {
        HttpResponse::NotFound().json(serde_json::json!({ "error": "no such fault rule" }))
    }
}

fn unknown_system(name: &str) -> HttpResponse {
    let known: Vec<&str> = System::ALL.iter().map(|s| s.prefix()).collect();
    HttpResponse::NotFound().json(serde_json::json!({
        "error": format!("unknown system '{name}'; known: {}", known.join(", "))
    }))
}

async fn received(world: web::Data<World>, system: web::Path<String>) -> HttpResponse {
    match System::from_prefix(&system) {
        Some(system) => HttpResponse::Ok().json(world.received.of(system)),
        None => unknown_system(&system),
    }
}

async fn clear_received(world: web::Data<World>, system: web::Path<String>) -> HttpResponse {
    match System::from_prefix(&system) {
        Some(system) => {
            world.received.clear(system);
            HttpResponse::NoContent().finish()
        }
        None => unknown_system(&system),
    }
}

/// The seed named in a system's `POST /reset` body (`demo` or `empty`).
pub fn seed_named(name: &str) -> Result<Seed, String> {
    match name {
        "demo" => Ok(Seed::Demo),
        "empty" => Ok(Seed::Empty),
        other => Err(format!("unknown seed '{other}' (demo, empty)")),
    }
}

/// `current` with the keys of `changes` (a JSON object of `what`) replaced,
/// validated again as a whole: how the systems' settings and variant
/// routes take partial updates.
pub fn merged<T: Serialize + DeserializeOwned>(
    current: &T,
    changes: Value,
    what: &str,
) -> Result<T, String> {
    let mut merged = serde_json::to_value(current).map_err(|e| e.to_string())?;
    let Value::Object(changes) = changes else {
        return Err(format!("expected a JSON object of {what}"));
    };
    for (key, value) in changes {
        merged[key] = value;
    }
    serde_json::from_value(merged).map_err(|e| e.to_string())
}
