//! The OpenAPI document: it parses as OpenAPI 3 (with the `oas3` crate),
//! every path has operations with responses and a bearer requirement naming
//! a role, and it lists exactly the routes the server serves under `/api`
//! ([`mlc_gateway::api::ROUTES`], through which every route is registered)
//! with the same roles.

mod support;

use std::collections::BTreeSet;

use mlc_gateway::auth::Role;
use support::{concrete, on_both_backends, Server};

async fn the_document_validates_and_lists_every_route(backend: &str) {
    let server = Server::start(backend).await;
    let text = server.openapi().await;
    let spec = oas3::from_json(&text).expect("the document parses as OpenAPI 3");
    let version = spec
        .validate_version()
        .expect("a supported OpenAPI version");
    assert_eq!(version.major, 3);
    assert!(!spec.info.title.is_empty());

    let raw: serde_json::Value = serde_json::from_str(&text).unwrap();
    let scheme = &raw["components"]["securitySchemes"]["bearer"];
    assert_eq!(scheme["type"], "http", "{scheme}");
    assert_eq!(scheme["scheme"], "bearer", "{scheme}");

    let paths = spec.paths.as_ref().expect("paths");
    let mut listed = BTreeSet::new();
    for (path, item) in paths {
        let methods: Vec<_> = item.methods().into_iter().collect();
        assert!(!methods.is_empty(), "{path} has operations");
        for (method, operation) in methods {
            let responses = operation.responses.as_ref().expect("responses");
            assert!(!responses.is_empty(), "{method} {path} has responses");
            assert!(
                responses.contains_key("401") && responses.contains_key("403"),
                "{method} {path} documents its refusals"
            );
            let roles = &operation.security[0].0["bearer"];
            let role: Role = roles[0].parse().unwrap();
            listed.insert((method.as_str().to_owned(), path.clone(), role));
        }
    }
    let served: BTreeSet<(String, String, Role)> = mlc_gateway::api::ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned(), r.role))
        .collect();
    assert_eq!(
        listed, served,
        "the document lists exactly the served routes"
    );

    // Each listed route is served (not the fallback's "no such route").
    let admin = server.token[&Role::Admin].clone();
    for (method, path, _) in &listed {
        let (status, body) = server.call(method, &concrete(path), Some(&admin)).await;
        assert!(
            !(status == 404
                && body["detail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("no such route")),
            "{method} {path} is not served: {body}"
        );
        assert_ne!(status, 405, "{method} {path}");
    }
    // And something not listed is not.
    let (status, body) = server
        .call("GET", "/api/v1/nothing-here", Some(&admin))
        .await;
    assert_eq!(status, 404, "{body}");

    // What is served is what the code generates.
    let generated = serde_json::to_value(mlc_gateway::openapi::document()).unwrap();
    assert_eq!(raw, generated);
}

on_both_backends!(the_document_validates_and_lists_every_route);
