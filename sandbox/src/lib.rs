//! Simulators of the seven outside systems (Sage 300, Sage X3, Sage 100,
//! WooCommerce, Adobe Commerce, BigCommerce, ShipStation), written from the
//! facts in `shared/systems/`, never from `mlc-connectors`: a connector is
//! right when this independent sandbox accepts it.
//!
//! One HTTP server serves every system under its own path prefix
//! ([`System::prefix`]), plus a control API under `/_sandbox/` to seed data,
//! drive events, inject faults ([`faults`]) and inspect what each system
//! accepted ([`received`]).
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use mlc_sandbox::{Sandbox, SandboxOptions, System};
//! let sandbox = Sandbox::start(SandboxOptions::default()).await?;
//! println!("{}", sandbox.base_url(System::Sage300));
//! println!("{}", sandbox.manifest());
//! sandbox.stop().await;
//! # Ok(()) }
//! ```

pub mod adobe_commerce;
pub mod bigcommerce;
pub mod control;
pub mod faults;
pub mod received;
pub mod sage100;
pub mod sage300;
pub mod sagex3;
pub mod shipstation;
mod tls;
pub mod woocommerce;
mod world;

use std::net::SocketAddr;

use actix_web::{web, App, HttpServer};

pub use world::World;

/// The outside systems the sandbox plays. Serialized as their prefix.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum System {
    /// Sage 300 Web API (REST/OData).
    Sage300,
    /// Sage X3 (api1 REST, GraphQL).
    #[serde(rename = "sagex3")]
    SageX3,
    /// Sage 100 (eBusiness Web Services SOAP, local agent).
    Sage100,
    /// WooCommerce REST API v3 and webhooks.
    Woocommerce,
    /// Adobe Commerce (Magento 2) REST.
    AdobeCommerce,
    /// BigCommerce REST v2/v3 and webhooks.
    Bigcommerce,
    /// ShipStation V1 and V2.
    Shipstation,
}

impl System {
    /// Every system, in manifest order.
    pub const ALL: [System; 7] = [
        System::Sage300,
        System::SageX3,
        System::Sage100,
        System::Woocommerce,
        System::AdobeCommerce,
        System::Bigcommerce,
        System::Shipstation,
    ];

    /// The path prefix the system is served under, and its name in the
    /// manifest and the control API.
    pub fn prefix(self) -> &'static str {
        match self {
            System::Sage300 => "sage300",
            System::SageX3 => "sagex3",
            System::Sage100 => "sage100",
            System::Woocommerce => "woocommerce",
            System::AdobeCommerce => "adobe_commerce",
            System::Bigcommerce => "bigcommerce",
            System::Shipstation => "shipstation",
        }
    }

    /// The system named `prefix`.
    pub fn from_prefix(prefix: &str) -> Option<System> {
        System::ALL.into_iter().find(|s| s.prefix() == prefix)
    }
}

/// The data the sandbox starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Seed {
    /// Nothing: tests seed what they need through the control API.
    #[default]
    Empty,
    /// A believable shop: hundreds of SKUs with prices and stock in the ERPs
    /// and matching products in the stores, a few hundred customers.
    Demo,
}

/// How to start the sandbox.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The data to start with.
    pub seed: Seed,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            seed: Seed::Empty,
        }
    }
}

/// A running sandbox.
pub struct Sandbox {
    addr: SocketAddr,
    world: web::Data<World>,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Sandbox {
    /// Binds, seeds and starts serving. Besides the plain HTTP address, a
    /// second port answers over HTTPS with a self-signed certificate, for
    /// the systems that are only reached that way (the Sage 100 agent).
    pub async fn start(options: SandboxOptions) -> std::io::Result<Sandbox> {
        let listener = std::net::TcpListener::bind(options.listen)?;
        let addr = listener.local_addr()?;
        let tls_listener = std::net::TcpListener::bind((addr.ip(), 0))?;
        let tls_addr = tls_listener.local_addr()?;
        let tls = tls::SelfSigned::new(addr.ip())?;
        let world = web::Data::new(World::new(
            format!("http://{addr}"),
            format!("https://{tls_addr}"),
            tls.certificate_pem.clone(),
            options.seed,
        ));
        let app_world = world.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_world.clone())
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .configure(control::routes)
                .configure(world::system_routes)
        })
        .workers(2)
        .disable_signals()
        .listen(listener)?
        .listen_rustls_0_23(tls_listener, tls.server_config)?
        .run();
        let handle = server.handle();
        let task = tokio::spawn(server);
        Ok(Sandbox {
            addr,
            world,
            handle,
            task,
        })
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of `system`, as a client configures it.
    pub fn base_url(&self, system: System) -> String {
        self.world.base_url(system)
    }

    /// One object per system: `base_url` and the credentials a client needs,
    /// named as that system names them.
    pub fn manifest(&self) -> serde_json::Value {
        self.world.manifest()
    }

    /// The simulated world, for tests that inspect or drive it directly.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// Stops serving; requests in flight finish.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
    }
}
