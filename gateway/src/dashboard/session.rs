//! Dashboard sessions: a random id in a cookie, mapped in memory to who
//! signed in, a CSRF token and an expiry.
//!
//! The cookie (`mlc_session`) holds 32 random bytes (base64url) and nothing
//! else; it is `HttpOnly`, `SameSite=Strict`, `Path=/`, and `Secure` when the
//! request came over HTTPS (as actix-web's connection info sees it: the
//! scheme of the connection, or `Forwarded`/`X-Forwarded-Proto` from a proxy
//! in front). Sessions live in this process only: a restart signs everyone
//! out. The token behind a session is looked up again at most once a minute,
//! so revoking it ends its sessions within a minute.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{web, FromRequest, HttpRequest};
use base64::Engine;
use rand::RngCore;

use super::{Dashboard, DashboardError};
use crate::auth::{Principal, Role};

/// How long a session lasts from sign-in.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// The session cookie's name.
pub const COOKIE: &str = "mlc_session";

/// How often the token behind a session is checked again (revocation).
const RECHECK: Duration = Duration::from_secs(60);

/// The open sessions of this process. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, Entry>>>,
    lifetime: Duration,
}

struct Entry {
    principal: Principal,
    csrf: String,
    expires_at: Instant,
    checked_at: Instant,
}

/// The signed-in user of a request (an extractor: a request without a valid
/// session is sent to the sign-in page).
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Who signed in, with which role.
    pub principal: Principal,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    session: String,
}

impl Sessions {
    /// No sessions yet; each will last `lifetime`.
    pub fn new(lifetime: Duration) -> Sessions {
        Sessions {
            inner: Arc::new(Mutex::new(HashMap::new())),
            lifetime,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a session for `principal`: its id (the cookie's value).
    pub fn open(&self, principal: Principal) -> String {
        let id = random_token();
        let now = Instant::now();
        let mut sessions = self.lock();
        sessions.retain(|_, e| e.expires_at > now);
        sessions.insert(
            id.clone(),
            Entry {
                principal,
                csrf: random_token(),
                expires_at: now + self.lifetime,
                checked_at: now,
            },
        );
        id
    }

    /// The session `id`, if open, and whether its token is due a check.
    fn find(&self, id: &str) -> Option<(SignedIn, bool)> {
        let now = Instant::now();
        let mut sessions = self.lock();
        let entry = sessions.get(id)?;
        if entry.expires_at <= now {
            sessions.remove(id);
            return None;
        }
        let due = now.duration_since(entry.checked_at) >= RECHECK;
        Some((
            SignedIn {
                principal: entry.principal.clone(),
                csrf: entry.csrf.clone(),
                session: id.to_owned(),
            },
            due,
        ))
    }

    fn checked(&self, id: &str) {
        if let Some(entry) = self.lock().get_mut(id) {
            entry.checked_at = Instant::now();
        }
    }

    /// Ends the session `id`.
    pub fn close(&self, id: &str) {
        self.lock().remove(id);
    }

    /// The cookie that carries session `id` on `req`'s scheme.
    pub(crate) fn cookie(&self, req: &HttpRequest, id: String) -> Cookie<'static> {
        let secure = req.connection_info().scheme() == "https";
        Cookie::build(COOKIE, id)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(secure)
            .max_age(time::Duration::seconds(
                i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX),
            ))
            .finish()
    }
}

/// A cookie that removes the session cookie.
pub(crate) fn removal() -> Cookie<'static> {
    let mut cookie = Cookie::build(COOKIE, "").path("/").finish();
    cookie.make_removal();
    cookie
}

impl SignedIn {
    /// Whether this user may do what `role` may.
    pub fn may(&self, role: Role) -> bool {
        self.principal.has(role)
    }

    /// Refuses (403) unless the user has `role`.
    pub fn require(&self, role: Role) -> Result<(), DashboardError> {
        if self.may(role) {
            Ok(())
        } else {
            Err(DashboardError::Forbidden(format!(
                "This needs the {role} role; you are signed in as a {}.",
                self.principal.role
            )))
        }
    }

    /// Refuses (403) unless `token` is this session's CSRF token.
    pub fn check_csrf(&self, token: &str) -> Result<(), DashboardError> {
        if constant_time_eq(token.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(DashboardError::Csrf)
        }
    }

    /// The session's id.
    pub(crate) fn session_id(&self) -> &str {
        &self.session
    }

    /// How the user's commands are recorded: `dashboard:{token name}`.
    pub fn requested_by(&self) -> String {
        format!("dashboard:{}", self.principal.name)
    }
}

impl FromRequest for SignedIn {
    type Error = DashboardError;
    type Future = Pin<Box<dyn Future<Output = Result<SignedIn, DashboardError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let dashboard = req.app_data::<web::Data<Dashboard>>().cloned();
        let cookie = req.cookie(COOKIE).map(|c| c.value().to_owned());
        let next = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        let next = if req.method() == actix_web::http::Method::GET && next != "/live" {
            next
        } else {
            "/".to_owned()
        };
        Box::pin(async move {
            let dashboard = dashboard
                .ok_or_else(|| DashboardError::Unavailable("the dashboard is not set up".into()))?;
            let sign_in = || DashboardError::SignIn { next: next.clone() };
            let id = cookie.ok_or_else(sign_in)?;
            let (signed_in, due) = dashboard.sessions.find(&id).ok_or_else(sign_in)?;
            if due {
                match dashboard.tokens.get(&signed_in.principal.token_id).await {
                    Ok(Some(token)) if token.revoked_at.is_none() => {
                        dashboard.sessions.checked(&id)
                    }
                    Ok(_) => {
                        tracing::info!(token_id = %signed_in.principal.token_id, "dashboard: session of a revoked token ended");
                        dashboard.sessions.close(&id);
                        return Err(sign_in());
                    }
                    Err(error) => {
                        tracing::warn!(%error, "dashboard: cannot check a session's token");
                        return Err(DashboardError::Unavailable(
                            "the token store does not answer".into(),
                        ));
                    }
                }
            }
            Ok(signed_in)
        })
    }
}

/// 32 random bytes, base64url.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            token_id: "t1".into(),
            name: "ops".into(),
            role,
        }
    }

    #[test]
    fn a_session_is_found_until_closed_and_checks_its_csrf_token() {
        let sessions = Sessions::new(Duration::from_secs(60));
        let id = sessions.open(principal(Role::Viewer));
        let (signed_in, due) = sessions.find(&id).unwrap();
        assert!(!due);
        assert!(signed_in.check_csrf(&signed_in.csrf.clone()).is_ok());
        assert!(signed_in.check_csrf("forged").is_err());
        assert!(signed_in.require(Role::Operator).is_err());
        assert!(signed_in.require(Role::Viewer).is_ok());
        sessions.close(&id);
        assert!(sessions.find(&id).is_none());
        assert!(sessions.find("unknown").is_none());
    }

    #[test]
    fn an_expired_session_is_gone() {
        let sessions = Sessions::new(Duration::ZERO);
        let id = sessions.open(principal(Role::Admin));
        assert!(sessions.find(&id).is_none());
    }
}
