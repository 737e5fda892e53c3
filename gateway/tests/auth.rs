//! API tokens over real HTTP, on SQLite and PostgreSQL: every route the
//! OpenAPI document lists (so a new route cannot escape) refuses a missing,
//! wrong or revoked token with 401 and a too-weak role with 403, and lets
//! the right role through; tokens are stored hashed, listed without
//! secrets, revocable, and manageable by admins over the API.

mod support;

use mlc_gateway::auth::{Role, TokenStore};
use serde_json::json;
use support::{concrete, on_both_backends, Server};

/// The role an operation's `bearer` security requirement names.
fn role_of(operation: &oas3::spec::Operation) -> Role {
    let requirement = operation
        .security
        .first()
        .expect("every operation has a security requirement");
    let scopes = requirement
        .0
        .get("bearer")
        .expect("the requirement is the bearer scheme");
    assert_eq!(scopes.len(), 1, "one role per operation: {scopes:?}");
    scopes[0].parse().expect("the scope is a role")
}

async fn every_route_refuses_bad_tokens_and_weak_roles(backend: &str) {
    let server = Server::start(backend).await;
    let spec = oas3::from_json(server.openapi().await).expect("the document parses");
    let operations: Vec<_> = spec.operations().collect();
    assert!(operations.len() >= 18, "{} operations", operations.len());
    for (path, method, operation) in operations {
        let method = method.as_str();
        let route = concrete(&path);
        let needed = role_of(operation);
        let what = format!("{method} {route}");

        let (status, body) = server.call(method, &route, None).await;
        assert_eq!(status, 401, "{what} without a token: {body}");
        assert_eq!(body["code"], "unauthorized", "{what}: {body}");

        let wrong = "mlc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let (status, body) = server.call(method, &route, Some(wrong)).await;
        assert_eq!(status, 401, "{what} with a wrong token: {body}");
        let (status, body) = server.call(method, &route, Some("not-even-a-token")).await;
        assert_eq!(status, 401, "{what} with garbage: {body}");

        let (status, body) = server.call(method, &route, Some(&server.revoked)).await;
        assert_eq!(status, 401, "{what} with a revoked token: {body}");
        assert_eq!(body["code"], "unauthorized");

        for weaker in [Role::Viewer, Role::Operator]
            .into_iter()
            .filter(|r| *r < needed)
        {
            let (status, body) = server
                .call(method, &route, Some(&server.token[&weaker]))
                .await;
            assert_eq!(status, 403, "{what} as {weaker}: {body}");
            assert_eq!(body["code"], "forbidden");
            let detail = body["detail"].as_str().unwrap();
            assert!(detail.contains(needed.as_str()), "{what}: {detail}");
        }

        for enough in [Role::Viewer, Role::Operator, Role::Admin]
            .into_iter()
            .filter(|r| *r >= needed)
        {
            let (status, body) = server
                .call(method, &route, Some(&server.token[&enough]))
                .await;
            assert!(
                status != 401 && status != 403,
                "{what} as {enough}: {status} {body}"
            );
        }
    }
    // /healthz alone needs no token.
    let (status, _) = server.call("GET", "/healthz", None).await;
    assert_eq!(status, 200);
}

async fn tokens_are_hashed_listed_and_revoked(backend: &str) {
    let server = Server::start(backend).await;
    let tokens = TokenStore::new(server.store.clone());
    let (info, secret) = tokens.create(Role::Operator, "ci").await.unwrap();
    assert!(secret.starts_with("mlc_"));
    assert!(
        secret.len() >= 4 + 43,
        "32 random bytes in base64url: {secret}"
    );
    assert_eq!(info.role, Role::Operator);
    let principal = tokens.verify(&secret).await.unwrap().expect("valid");
    assert_eq!(principal.role, Role::Operator);
    assert_eq!(principal.name, "ci");
    assert_eq!(principal.token_id, info.id);
    assert!(tokens.verify("mlc_nope").await.unwrap().is_none());

    // Only the hash is stored.
    let stored: Vec<(String,)> = match (server.store.sqlite_pool(), server.store.postgres_pool()) {
        (Some(pool), _) => sqlx::query_as("SELECT hash FROM api_tokens")
            .fetch_all(pool)
            .await
            .unwrap(),
        (None, Some(pool)) => sqlx::query_as("SELECT hash FROM api_tokens")
            .fetch_all(pool)
            .await
            .unwrap(),
        _ => unreachable!(),
    };
    assert!(stored
        .iter()
        .all(|(h,)| h.len() == 64 && !h.contains(&secret)));

    let listed = tokens.list().await.unwrap();
    let me = listed.iter().find(|t| t.id == info.id).unwrap();
    assert!(me.last_used_at.is_some(), "verify records the use");
    assert!(!serde_json::to_string(&listed).unwrap().contains(&secret));

    // Over the API (admin): list, create, revoke.
    let admin = server.token[&Role::Admin].clone();
    let url = |p: &str| format!("{}/api/v1{p}", server.base);
    let list: serde_json::Value = server
        .http
        .get(url("/tokens"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 5, "{list}");
    assert!(
        !list.to_string().contains("mlc_"),
        "no secret listed: {list}"
    );
    assert!(!list.to_string().contains("hash"), "no hash listed: {list}");

    let response = server
        .http
        .post(url("/tokens"))
        .bearer_auth(&admin)
        .json(&json!({"role": "viewer", "name": "dashboard"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let created: serde_json::Value = response.json().await.unwrap();
    let viewer = created["secret"].as_str().unwrap().to_owned();
    let viewer_id = created["token"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["token"]["role"], "viewer");
    let (status, _) = server.call("GET", "/api/v1/documents", Some(&viewer)).await;
    assert_eq!(status, 200);
    let (status, body) = server.call("POST", "/api/v1/replay", Some(&viewer)).await;
    assert_eq!(status, 403, "{body}");

    let (status, body) = server.call("POST", "/api/v1/tokens", Some(&admin)).await;
    assert_eq!(status, 400, "a role is needed: {body}");

    let (status, revoked) = server
        .call(
            "DELETE",
            &format!("/api/v1/tokens/{viewer_id}"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    let (status, _) = server.call("GET", "/api/v1/documents", Some(&viewer)).await;
    assert_eq!(status, 401);
    let (status, _) = server
        .call("DELETE", "/api/v1/tokens/nope", Some(&admin))
        .await;
    assert_eq!(status, 404);
}

on_both_backends!(
    every_route_refuses_bad_tokens_and_weak_roles,
    tokens_are_hashed_listed_and_revoked,
);
