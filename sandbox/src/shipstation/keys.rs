//! The keys that sign V2 webhook deliveries (facts §4.5: RSASSA-PKCS1-v1_5
//! with SHA-256 over `"{timestamp}.{raw body}"`, public keys in a JWKS
//! looked up by `kid`).
//!
//! Two fixed 2048-bit test keys are embedded (generated once with
//! `openssl genrsa`), rather than generated per process: RSA key generation
//! is slow in debug builds, and fixed keys keep signatures reproducible. The
//! first signs until `POST /_sandbox/shipstation/keys/rotate`; after a
//! rotation the JWKS lists both keys, the new one first. These keys are
//! public test material and protect nothing.

use std::sync::OnceLock;

use actix_web::{web, HttpResponse};
use base64::Engine;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::World;

const PEMS: [&str; 2] = [include_str!("keys/key1.pem"), include_str!("keys/key2.pem")];

/// The key ids, as the JWKS names them.
pub const KIDS: [&str; 2] = ["ss-sandbox-2026-1", "ss-sandbox-2026-2"];

fn keys() -> &'static [RsaPrivateKey; 2] {
    static KEYS: OnceLock<[RsaPrivateKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        PEMS.map(|pem| RsaPrivateKey::from_pkcs1_pem(pem).expect("the embedded test key parses"))
    })
}

/// base64(RSASSA-PKCS1-v1_5-SHA256(key `index`, `message`)).
pub fn sign(index: usize, message: &[u8]) -> String {
    let key = SigningKey::<Sha256>::new(keys()[index % 2].clone());
    let signature = key.sign(message);
    base64::engine::general_purpose::STANDARD.encode(signature.to_bytes())
}

/// One JWK (RFC 7517 RSA public key).
fn jwk(index: usize) -> Value {
    let public = keys()[index].to_public_key();
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    json!({
        "kty": "RSA",
        "use": "sig",
        "alg": "RS256",
        "kid": KIDS[index],
        "n": b64(public.n().to_bytes_be()),
        "e": b64(public.e().to_bytes_be()),
    })
}

/// `GET /shipstation/jwks`: the keys that verify deliveries (no auth, as
/// the public JWKS URL of §4.5).
pub async fn jwks(world: web::Data<World>) -> HttpResponse {
    let (current, rotated) = {
        let st = world.shipstation();
        (st.signing_key, st.rotated)
    };
    let mut list = vec![jwk(current)];
    if rotated {
        list.push(jwk(1 - current));
    }
    HttpResponse::Ok().json(json!({ "keys": list }))
}
