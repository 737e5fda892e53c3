//! API tokens and roles.
//!
//! Every API and dashboard route except `/healthz` needs a token. A token is
//! `mlc_` followed by 32 random bytes in base64url; it is shown once, when it
//! is created ([`TokenStore::create`], `ml-connector tokens create`), and only
//! its SHA-256 is stored (table `api_tokens`). The secret has 256 bits of
//! entropy, so a fast hash is right; tokens are looked up by their hash, so
//! no secret is ever compared byte by byte.
//!
//! Roles are ordered: a [`Role::Viewer`] reads; a [`Role::Operator`] also
//! replays, rewinds, pauses and resumes; a [`Role::Admin`] also manages
//! instances and tokens.
//!
//! Routes ask for a role with the [`RequireRole`] middleware (`Authorization:
//! Bearer <token>`), which answers 401 `{"code": "unauthorized"}` for a
//! missing, unknown or revoked token and 403 `{"code": "forbidden"}` naming
//! the role needed for a token whose role is too weak; on success the handler
//! can take the [`Principal`] as an extractor. The dashboard, which keeps its
//! own session cookie, calls [`TokenStore::verify`] once at sign-in and keeps
//! the [`Principal`]'s role.

mod middleware;

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use chrono::{DateTime, Utc};
use mlc_store::EventStore;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use middleware::{bearer_token, RequireRole};

/// What a token may do; ordered, each role includes the ones below it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Reads, replays, rewinds, pauses and resumes.
    Operator,
    /// Everything, including instance and token management.
    Admin,
}

impl Role {
    /// The role's name: `viewer`, `operator` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not `viewer`, `operator` or `admin`.
#[derive(Debug, thiserror::Error)]
#[error("unknown role '{0}': expected viewer, operator or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "admin" => Ok(Role::Admin),
            _ => Err(UnknownRole(s.to_owned())),
        }
    }
}

/// Who a verified token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The token's id.
    pub token_id: String,
    /// The token's name.
    pub name: String,
    /// The token's role.
    pub role: Role,
}

impl Principal {
    /// Whether this principal may do what `needed` may.
    pub fn has(&self, needed: Role) -> bool {
        self.role >= needed
    }

    /// How commands requested with this token are attributed: `token:{name}`.
    pub fn requested_by(&self) -> String {
        format!("token:{}", self.name)
    }
}

/// A token as listed: never its secret nor its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    /// The token's id (what `tokens revoke` takes).
    pub id: String,
    /// A name for people (who or what uses it).
    pub name: String,
    /// The token's role.
    pub role: Role,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it was last used (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Why the token table could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The database failed.
    #[error("api tokens: database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored row could not be read.
    #[error("api tokens: stored token {id} has an unknown role '{role}'")]
    Corrupt {
        /// The token's id.
        id: String,
        /// The stored role.
        role: String,
    },
    /// No token has this id.
    #[error("no token has the id '{0}'")]
    NotFound(String),
}

/// Runs `$body` with `$pool` bound to the store's pool, whichever backend it is.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match ($store.sqlite_pool(), $store.postgres_pool()) {
            (Some($pool), _) => $body,
            (None, Some($pool)) => $body,
            (None, None) => unreachable!("a store has one pool"),
        }
    };
}

/// How often `last_used_at` is written at most, per token (milliseconds).
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

const COLUMNS: &str = "id, name, role, created_at, revoked_at, last_used_at";

type Row = (String, String, String, i64, Option<i64>, Option<i64>);

fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn info(row: Row) -> Result<TokenInfo, AuthError> {
    let (id, name, role, created_at, revoked_at, last_used_at) = row;
    let role = role.parse().map_err(|_| AuthError::Corrupt {
        id: id.clone(),
        role,
    })?;
    Ok(TokenInfo {
        id,
        name,
        role,
        created_at: time(created_at),
        revoked_at: revoked_at.map(time),
        last_used_at: last_used_at.map(time),
    })
}

/// The hex SHA-256 of a token, as stored.
fn hash(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// The API tokens, in the store's database (table `api_tokens`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct TokenStore {
    store: EventStore,
}

impl TokenStore {
    /// Tokens kept in `store`'s database (migrated by [`EventStore::migrate`]).
    pub fn new(store: EventStore) -> TokenStore {
        TokenStore { store }
    }

    /// Creates a token: its description and the secret, which is shown this
    /// once and never stored.
    pub async fn create(&self, role: Role, name: &str) -> Result<(TokenInfo, String), AuthError> {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let secret = format!(
            "mlc_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        );
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let name = match name.trim() {
            "" => format!("{role}-{id}"),
            name => name.to_owned(),
        };
        let now = Utc::now().timestamp_millis();
        const INSERT: &str = "INSERT INTO api_tokens (id, name, role, hash, created_at) \
                              VALUES ($1, $2, $3, $4, $5)";
        mlc_store::with_write_turn!(self.store, pool => {
            sqlx::query(INSERT)
                .bind(&id)
                .bind(&name)
                .bind(role.as_str())
                .bind(hash(&secret))
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ())?
        });
        tracing::info!(token_id = %id, token_name = %name, %role, "api token created");
        let info = TokenInfo {
            id,
            name,
            role,
            created_at: time(now),
            revoked_at: None,
            last_used_at: None,
        };
        Ok((info, secret))
    }

    /// Who `secret` belongs to; `None` for an unknown or revoked token.
    pub async fn verify(&self, secret: &str) -> Result<Option<Principal>, AuthError> {
        if !secret.starts_with("mlc_") {
            return Ok(None);
        }
        const SELECT: &str =
            "SELECT id, name, role, last_used_at FROM api_tokens WHERE hash = $1 AND revoked_at IS NULL";
        let row: Option<(String, String, String, Option<i64>)> = on_pool!(self.store, pool => {
            sqlx::query_as(SELECT).bind(hash(secret)).fetch_optional(pool).await?
        });
        let Some((id, name, role, last_used_at)) = row else {
            return Ok(None);
        };
        let role: Role = role.parse().map_err(|_| AuthError::Corrupt {
            id: id.clone(),
            role,
        })?;
        let now = Utc::now().timestamp_millis();
        if last_used_at.is_none_or(|t| now - t >= LAST_USED_RESOLUTION_MS) {
            const UPDATE: &str = "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2";
            let updated = mlc_store::with_write_turn!(self.store, pool => {
                sqlx::query(UPDATE).bind(now).bind(&id).execute(pool).await.map(|_| ())
            });
            if let Err(error) = updated {
                // Not worth refusing the request for.
                tracing::warn!(token_id = %id, %error, "cannot record when an api token was last used");
            }
        }
        Ok(Some(Principal {
            token_id: id,
            name,
            role,
        }))
    }

    /// Every token, oldest first (never a secret or a hash).
    pub async fn list(&self) -> Result<Vec<TokenInfo>, AuthError> {
        let select = format!("SELECT {COLUMNS} FROM api_tokens ORDER BY created_at, id");
        let rows: Vec<Row> = on_pool!(self.store, pool => {
            sqlx::query_as(&select).fetch_all(pool).await?
        });
        rows.into_iter().map(info).collect()
    }

    /// One token, by id.
    pub async fn get(&self, id: &str) -> Result<Option<TokenInfo>, AuthError> {
        let select = format!("SELECT {COLUMNS} FROM api_tokens WHERE id = $1");
        let row: Option<Row> = on_pool!(self.store, pool => {
            sqlx::query_as(&select).bind(id).fetch_optional(pool).await?
        });
        row.map(info).transpose()
    }

    /// Revokes the token `id` (from now on it is refused); revoking a revoked
    /// token keeps its first revocation time. Answers the token as it is now.
    pub async fn revoke(&self, id: &str) -> Result<TokenInfo, AuthError> {
        let now = Utc::now().timestamp_millis();
        const UPDATE: &str =
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
        let changed = mlc_store::with_write_turn!(self.store, pool => {
            sqlx::query(UPDATE).bind(now).bind(id).execute(pool).await?.rows_affected()
        });
        let token = self
            .get(id)
            .await?
            .ok_or_else(|| AuthError::NotFound(id.to_owned()))?;
        if changed > 0 {
            tracing::info!(token_id = %token.id, token_name = %token.name, role = %token.role, "api token revoked");
        }
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_parse() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
        assert_eq!("Operator".parse::<Role>().unwrap(), Role::Operator);
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn the_hash_is_hex_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
