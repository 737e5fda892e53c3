//! The sandbox's HTTPS port: a self-signed certificate made at start, as a
//! locally installed service (the Sage 100 agent) would present one.

use std::net::IpAddr;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A fresh self-signed certificate and the server configuration using it.
pub(crate) struct SelfSigned {
    /// The certificate, for clients that must trust it explicitly.
    pub certificate_pem: String,
    /// The rustls configuration of the HTTPS listener.
    pub server_config: rustls::ServerConfig,
}

impl SelfSigned {
    /// A certificate for `localhost` and `ip`.
    pub(crate) fn new(ip: IpAddr) -> std::io::Result<SelfSigned> {
        let names = vec!["localhost".to_string(), ip.to_string()];
        let certified = rcgen::generate_simple_self_signed(names).map_err(std::io::Error::other)?;
        let certificate_pem = certified.cert.pem();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let chain = vec![CertificateDer::from(certified.cert.der().to_vec())];
        // The provider is named here: the process may hold more than one.
        let server_config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(std::io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(std::io::Error::other)?;
        Ok(SelfSigned {
            certificate_pem,
            server_config,
        })
    }
}
