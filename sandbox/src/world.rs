//! The simulated outside world: each system's data, the fault rules and the
//! log of accepted writes, shared by every request.
//!
//! Every system module has the same face: `State::new(seed)`, `BASE_PATH`,
//! `routes`, `control_routes`, `credentials` and `error_response`. The
//! `systems!` list below wires each one in.

use std::sync::{Mutex, MutexGuard};

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use crate::faults::{Faults, Guard};
use crate::received::Log;
use crate::{Seed, System};

macro_rules! systems {
    ($($variant:ident => $module:ident),+ $(,)?) => {
        /// Everything the sandbox simulates.
        pub struct World {
            base: String,
            tls_base: String,
            tls_certificate_pem: String,
            seed: Seed,
            /// Every write each system accepted.
            pub received: Log,
            /// The fault rules in force.
            pub faults: Faults,
            $($module: Mutex<crate::$module::State>,)+
        }

        impl World {
            pub(crate) fn new(base: String, tls_base: String, tls_certificate_pem: String, seed: Seed) -> World {
                World {
                    base,
                    tls_base,
                    tls_certificate_pem,
                    seed,
                    received: Log::default(),
                    faults: Faults::default(),
                    $($module: Mutex::new(crate::$module::State::new(seed)),)+
                }
            }

            $(
                #[doc = concat!("The `", stringify!($module), "` simulator's data.")]
                pub fn $module(&self) -> MutexGuard<'_, crate::$module::State> {
                    self.$module.lock().unwrap_or_else(|e| e.into_inner())
                }
            )+

            fn base_path(system: System) -> &'static str {
                match system {
                    $(System::$variant => crate::$module::BASE_PATH,)+
                }
            }

            fn credentials(&self, system: System) -> serde_json::Value {
                match system {
                    $(System::$variant => crate::$module::credentials(self),)+
                }
            }

            /// An error response in `system`'s own shape.
            pub fn error_response(&self, system: System, status: StatusCode, message: &str) -> HttpResponse {
                match system {
                    $(System::$variant => crate::$module::error_response(status, message),)+
                }
            }
        }

        /// Every system's routes under its prefix, each wrapped in the fault
        /// and received-log guard.
        pub(crate) fn system_routes(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::scope(&format!("/{}", System::$variant.prefix()))
                        .wrap(Guard(System::$variant))
                        .configure(crate::$module::routes),
                );
            )+
        }

        /// Every system's control routes under `/_sandbox/{prefix}`.
        pub(crate) fn system_control_routes(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(web::scope(&format!("/{}", System::$variant.prefix())).configure(crate::$module::control_routes));
            )+
        }
    };
}

systems! {
    Sage300 => sage300,
    SageX3 => sagex3,
    Sage100 => sage100,
    Woocommerce => woocommerce,
    AdobeCommerce => adobe_commerce,
    Bigcommerce => bigcommerce,
    Shipstation => shipstation,
}

impl World {
    /// The seed the world started from.
    pub fn seed(&self) -> Seed {
        self.seed
    }

    /// The root of the HTTPS port (`https://host:port`), whose certificate
    /// is [`World::tls_certificate_pem`].
    pub fn tls_base(&self) -> &str {
        &self.tls_base
    }

    /// The self-signed certificate of the HTTPS port, PEM.
    pub fn tls_certificate_pem(&self) -> &str {
        &self.tls_certificate_pem
    }

    /// The systems served.
    pub fn systems(&self) -> Vec<System> {
        System::ALL.to_vec()
    }

    /// The base URL of `system`, as a client configures it.
    pub fn base_url(&self, system: System) -> String {
        format!(
            "{}/{}{}",
            self.base,
            system.prefix(),
            World::base_path(system)
        )
    }

    /// One object per system: `base_url` and the credentials a client
    /// needs, named as that system names them.
    pub fn manifest(&self) -> serde_json::Value {
        let mut manifest = serde_json::Map::new();
        for system in self.systems() {
            let mut entry = self.credentials(system);
            entry["base_url"] = self.base_url(system).into();
            manifest.insert(system.prefix().to_string(), entry);
        }
        manifest.into()
    }
}
