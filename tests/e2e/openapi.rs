//! The committed OpenAPI document matches the code, and the server publishes it and the docs.

use std::path::PathBuf;

use awc::http::Method;

use crate::support::*;

fn committed_path() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/openapi.json"))
}

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let generated = smaajob_api::openapi::spec_json();
    if std::env::var("UPDATE_OPENAPI").as_deref() == Ok("1") {
        std::fs::write(committed_path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is out of date: regenerate it with \
         `UPDATE_OPENAPI=1 cargo test -p smaajob-api --test e2e openapi` and commit it"
    );
}

#[test]
fn every_operation_documents_its_error_responses_and_security() {
    let spec: serde_json::Value = serde_json::from_str(&smaajob_api::openapi::spec_json()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            let documents = |statuses: &[&str], why: &str| {
                for status in statuses {
                    assert!(responses.contains_key(*status), "{method} {path} documents no {status} ({why})");
                }
            };
            if path.starts_with("/api/v1/") {
                documents(&["400", "401", "403", "503"], "every operation under /api/v1");
                assert!(op["security"].is_array(), "{method} {path} documents no security");
            }
            if path.contains('{') {
                documents(&["404"], "a path parameter");
            }
            if op.get("requestBody").is_some() {
                documents(&["400", "413", "415", "422"], "a request body");
            }
            // A shared response is referenced by name and defined once, under components.
            for (status, response) in responses {
                if let Some(name) = response["$ref"].as_str() {
                    let name = name.trim_start_matches("#/components/responses/");
                    assert!(spec["components"]["responses"][name].is_object(), "{method} {path} {status}: {name}");
                }
            }
            assert!(responses.keys().any(|k| k.starts_with('2')), "{method} {path} documents no success");
        }
    }
}

#[actix_web::test]
async fn the_server_publishes_its_openapi_document_and_an_offline_swagger_ui() {
    let app = spawn(Backend::Sqlite, "openapi").await.unwrap();
    let doc = app.send(Method::GET, "/openapi.json", None, None, Vec::new()).await;
    doc.expect(200);
    assert_eq!(doc.body["info"]["title"], "Småjob API");
    let ui = app.send(Method::GET, "/docs/", None, None, Vec::new()).await;
    ui.expect(200);
    let html = String::from_utf8_lossy(&ui.raw);
    assert!(html.contains("swagger-ui"), "{html}");
    // The UI's assets are served by this binary, not fetched from the internet.
    let bundle = app.send(Method::GET, "/docs/swagger-ui-bundle.js", None, None, Vec::new()).await;
    bundle.expect(200);
    assert!(bundle.raw.len() > 100_000);
    let redirect = app.send(Method::GET, "/docs", None, None, Vec::new()).await;
    assert!(matches!(redirect.status, 200 | 308), "{}", redirect.status);
}

#[actix_web::test]
async fn health_readiness_and_metrics_answer_without_a_token() {
    let app = spawn(Backend::Sqlite, "ops").await.unwrap();
    app.send(Method::GET, "/healthz", None, None, Vec::new()).await.expect(200);
    let ready = app.send(Method::GET, "/readyz", None, None, Vec::new()).await;
    ready.expect(200);
    assert_eq!(ready.body["status"], "ok");
    let metrics = app.send(Method::GET, "/metrics", None, None, Vec::new()).await;
    metrics.expect(200);
    let text = String::from_utf8_lossy(&metrics.raw);
    assert!(text.contains("smaajob_http_requests_total"), "{text}");
}
