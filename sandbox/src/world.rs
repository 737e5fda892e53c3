//! The simulated outside world: each system's data, the fault rules and the
//! log of accepted writes, shared by every request.

use std::sync::{Mutex, MutexGuard};

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::faults::{Faults, Guard};
use crate::received::Log;
use crate::{sage300, woocommerce, Seed, System};

/// Everything the sandbox simulates.
pub struct World {
    base: String,
    seed: Seed,
    /// Every write each system accepted.
    pub received: Log,
    /// The fault rules in force.
    pub faults: Faults,
    sage300: Mutex<sage300::State>,
    woocommerce: Mutex<woocommerce::State>,
}

impl World {
    pub(crate) fn new(base: String, seed: Seed) -> World {
        World {
            base,
            seed,
            received: Log::default(),
            faults: Faults::default(),
            sage300: Mutex::new(sage300::State::new(seed)),
            woocommerce: Mutex::new(woocommerce::State::new(seed)),
        }
    }

    /// The seed the world started from.
    pub fn seed(&self) -> Seed {
        self.seed
    }

    /// The systems served so far.
    pub fn systems(&self) -> Vec<System> {
        vec![System::Sage300, System::Woocommerce]
    }

    /// The base URL of `system`, as a client configures it.
    pub fn base_url(&self, system: System) -> String {
        let path = match system {
            System::Sage300 => sage300::BASE_PATH,
            System::Woocommerce => woocommerce::BASE_PATH,
            _ => "/",
        };
        format!("{}/{}{}", self.base, system.prefix(), path)
    }

    /// One object per system: `base_url` and the credentials.
    pub fn manifest(&self) -> serde_json::Value {
        let mut manifest = serde_json::Map::new();
        for system in self.systems() {
            let mut entry = match system {
                System::Sage300 => sage300::credentials(self),
                System::Woocommerce => woocommerce::credentials(self),
                _ => serde_json::json!({}),
            };
            entry["base_url"] = self.base_url(system).into();
            manifest.insert(system.prefix().to_string(), entry);
        }
        manifest.into()
    }

    /// An error response in `system`'s own shape.
    pub fn error_response(
        &self,
        system: System,
        status: StatusCode,
        message: &str,
    ) -> HttpResponse {
        match system {
            System::Sage300 => sage300::error_response(status, message),
            System::Woocommerce => woocommerce::error_response(status, message),
            _ => HttpResponse::build(status).json(serde_json::json!({ "message": message })),
        }
    }

    /// The Sage 300 company data.
    pub fn sage300(&self) -> MutexGuard<'_, sage300::State> {
        self.sage300.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The WooCommerce store data.
    pub fn woocommerce(&self) -> MutexGuard<'_, woocommerce::State> {
        self.woocommerce.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Every system's routes under its prefix, each wrapped in the fault and
/// received-log guard.
pub(crate) fn system_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(&format!("/{}", System::Sage300.prefix()))
            .wrap(Guard(System::Sage300))
            .configure(sage300::routes),
    )
    .service(
        web::scope(&format!("/{}", System::Woocommerce.prefix()))
            .wrap(Guard(System::Woocommerce))
            .configure(woocommerce::routes),
    );
}
