//! `/api/openapi.json`: an OpenAPI 3.1 document that lists exactly the mounted `/api`
//! routes, each with its answers, and parses as the version it claims.

use std::collections::BTreeSet;

use rocket::http::Status;
use serde_json::Value;

use crate::common::TestApp;

/// `(METHOD, /api/path/{param})` for each mounted `/api` route, as OpenAPI writes paths.
fn mounted(app: &TestApp) -> BTreeSet<(String, String)> {
    app.client
        .rocket()
        .routes()
        .filter(|r| r.uri.path().starts_with("/api/"))
        .map(|r| {
            let path = r.uri.path().to_string().replace('<', "{").replace('>', "}");
            (r.method.as_str().to_owned(), path)
        })
        .collect()
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, _) in item.as_object().expect("a path item") {
            found.insert((method.to_uppercase(), path.clone()));
        }
    }
    found
}

async fn document(app: &TestApp) -> Value {
    let response = app.client.get("/api/openapi.json").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    response.into_json().await.expect("JSON")
}

#[rocket::async_test]
async fn the_document_lists_every_mounted_api_route_and_no_other() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let mounted = mounted(&app);
    let documented = documented(&doc);
    let missing: Vec<_> = mounted.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&mounted).collect();
    assert!(
        missing.is_empty(),
        "mounted but not in the document: {missing:?}"
    );
    assert!(
        unknown.is_empty(),
        "documented but not mounted: {unknown:?}"
    );
    assert!(mounted.len() > 20, "{mounted:?}");
}

#[rocket::async_test]
async fn every_operation_has_an_answer_and_the_error_shape() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            let answers = op["responses"].as_object().expect("responses");
            assert!(
                answers.keys().any(|s| s.starts_with('2')),
                "{method} {path} has no success answer"
            );
            if path != "/api/openapi.json" {
                assert!(
                    answers.contains_key("4XX"),
                    "{method} {path}: no error answer"
                );
            }
        }
    }
    // Every schema named by a `$ref` is in the document.
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for part in text.split("\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap_or_default();
        assert!(
            schemas.contains_key(name),
            "{name} is referred to but missing"
        );
    }
    for name in [
        "Chat",
        "Message",
        "Attachment",
        "Updates",
        "ErrorBody",
        "Me",
    ] {
        assert!(schemas.contains_key(name), "{name}");
    }
}

#[rocket::async_test]
async fn the_document_is_public_and_needs_no_session() {
    let app = TestApp::new().await;
    let response = app.client.get("/api/openapi.json").dispatch().await;
    assert_eq!(response.status(), Status::Ok);
    assert!(response.content_type().is_some_and(|t| t.is_json()));
}
