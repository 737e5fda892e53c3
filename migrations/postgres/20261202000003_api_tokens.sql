-- API tokens of the operator API and the dashboard (mlc-gateway::auth).
-- The secret itself is never stored: `hash` is the hex SHA-256 of the token
-- (`mlc_` + 32 random bytes, base64url), looked up by equality. Times are
-- epoch milliseconds.
CREATE TABLE api_tokens
(
  id           text   NOT NULL PRIMARY KEY,
  name         text   NOT NULL,
  role         text   NOT NULL,
  hash         text   NOT NULL UNIQUE,
  created_at   bigint NOT NULL,
  revoked_at   bigint,
  last_used_at bigint
);
