//! The same mistake gets the same answer however it is made, and the OpenAPI document lists it:
//! a malformed id in a body is refused as an unknown one is, an integer too large for its type is
//! out of range like any other, and every operation that reads a JSON body answers 413 and 415
//! as the document says.

use awc::http::Method;
use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// A well-formed id of no record.
const UNKNOWN: &str = "0b7c6f1e-3f1a-4c39-9d27-2d35b1f0c0aa";
/// Ids that name nothing because they are not written as this API writes ids.
const MALFORMED: [&str; 4] =
    ["not-an-id", "", "{0b7c6f1e-3f1a-4c39-9d27-2d35b1f0c0aa}", "0B7C6F1E-3F1A-4C39-9D27-2D35B1F0C0AA"];

/// Every operation of the document that reads a JSON body, with its path filled in (a
/// well-formed id of no record, a year the frikort covers).
fn json_body_operations() -> Vec<(Method, String)> {
    let spec: Value = serde_json::from_str(&smaajob_api::openapi::spec_json()).unwrap();
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            // A body of another kind (the GTFS zip) has its own tests.
            if op["requestBody"]["content"].get("application/json").is_some() {
                let filled = path.replace("{id}", UNKNOWN).replace("{year}", "2030");
                ops.push((Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), filled));
            }
        }
    }
    assert!(ops.len() > 25, "the document lists {} operations with a body", ops.len());
    ops
}

both_backends! {
    async fn a_malformed_company_id_in_a_task_is_refused_as_an_unknown_company_is(app) {
        let t = app.coordinator(RANDERS);
        let unknown = app.post("/api/v1/tasks", &t, &with(task_body(), json!({ "company_id": UNKNOWN }))).await;
        assert_problem(&unknown, 422, "unknown_company", "a well-formed id of no company");
        for malformed in MALFORMED {
            let r = app.post("/api/v1/tasks", &t, &with(task_body(), json!({ "company_id": malformed }))).await;
            assert_problem(&r, 422, "unknown_company", malformed);
        }
        assert_eq!(app.get("/api/v1/tasks", &t).await.body["total"], 0);
    }

    async fn a_malformed_company_id_in_an_employment_is_refused_as_an_unknown_company_is(app) {
        let t = app.coordinator(RANDERS);
        let (citizen, _) = app.card_holder(&t, JENS, "Jens Hansen", &date(0)).await;
        let body = |company: &str| employment_by_id(&citizen, company, &date(0));
        let unknown = app.post("/api/v1/employments", &t, &body(UNKNOWN)).await;
        assert_problem(&unknown, 422, "unknown_company", "a well-formed id of no company");
        for malformed in MALFORMED {
            let r = app.post("/api/v1/employments", &t, &body(malformed)).await;
            assert_problem(&r, 422, "unknown_company", malformed);
        }
        assert_eq!(app.get("/api/v1/employments", &t).await.body["total"], 0);
    }

    async fn a_cap_year_too_large_for_an_integer_is_out_of_range_like_any_other(app) {
        let t = app.coordinator(RANDERS);
        let operator = app.operator();
        let body = json!({ "amount": "50000", "reason": "Satsregulering" });
        for year in ["99999", "2147483648", "99999999999999999999999", "-2147483649", "2018"] {
            let put = app.put(&format!("/api/v1/caps/{year}"), &operator, &body).await;
            expect_field_error(&put, "year", "cap_year_out_of_range");
            let get = app.get(&format!("/api/v1/caps/{year}"), &t).await;
            assert_problem(&get, 404, "not_found", year);
        }
        // A path that is not a number names no year.
        for not_a_year in ["twenty", "2030.0", "0x7e9"] {
            let put = app.put(&format!("/api/v1/caps/{not_a_year}"), &operator, &body).await;
            assert_problem(&put, 404, "not_found", not_a_year);
            assert_problem(&app.get(&format!("/api/v1/caps/{not_a_year}"), &t).await, 404, "not_found", not_a_year);
        }
        app.get("/api/v1/caps/2030", &t).await.expect(200);
    }

    async fn a_query_integer_too_large_for_its_type_is_out_of_range_like_any_other(app) {
        let t = app.coordinator(RANDERS);
        let citizen = app.enrol(&t, JENS, "Jens Hansen").await;
        for (path, parameter) in [
            ("/api/v1/citizens?limit=", "limit"),
            ("/api/v1/tasks?offset=", "offset"),
            ("/api/v1/adjustments?year=", "year"),
            ("/api/v1/frikort/controls-due?year=", "year"),
            (&format!("/api/v1/citizens/{citizen}/balance?year=") as &str, "year"),
        ] {
            let limits = if parameter == "offset" { ["-1", "1000001"] } else { ["0", "99999"] };
            for value in limits.iter().copied().chain(["9223372036854775808", "-99999999999999999999999"]) {
                let r = app.get(&format!("{path}{value}"), &t).await;
                expect_field_error(&r, parameter, "out_of_range");
            }
            // A value that is not an integer cannot be read at all.
            assert_problem(&app.get(&format!("{path}ten"), &t).await, 400, "invalid_query", path);
        }
    }

    async fn every_operation_with_a_json_body_refuses_a_body_that_is_not_json_with_415(app) {
        let t = app.coordinator(RANDERS);
        for (method, path) in json_body_operations() {
            let what = format!("{method} {path}");
            let r = app.send(method.clone(), &path, Some(&t), Some("text/plain"), b"{}".to_vec()).await;
            assert_problem(&r, 415, "unsupported_media_type", &what);
            let r = app.send(method, &path, Some(&t), None, b"{}".to_vec()).await;
            assert_problem(&r, 415, "unsupported_media_type", &what);
        }
    }

    async fn every_operation_with_a_json_body_refuses_a_body_over_the_limit_with_413(app) {
        let t = app.coordinator(RANDERS);
        let big = serde_json::to_vec(&json!({ "reason": "x".repeat(20 * 1024) })).unwrap();
        for (method, path) in json_body_operations() {
            let r = app.send(method, &path, Some(&t), Some("application/json"), big.clone()).await;
            assert_problem(&r, 413, "payload_too_large", &path);
        }
    }

    async fn an_optional_body_may_be_left_out_or_null_but_not_sent_in_another_form(app) {
        let t = app.coordinator(RANDERS);
        // (A rejection needs its reason, so its body may not be left out.)
        for step in ["offer", "cancel", "no-show", "approve"] {
            let path = format!("/api/v1/placements/{UNKNOWN}/{step}");
            // Read and found acceptable, the request goes on to find no placement.
            for (content_type, body) in [(None, &b""[..]), (Some("application/json"), b"null"), (Some("application/json"), b"{}")] {
                let r = app.send(Method::POST, &path, Some(&t), content_type, body.to_vec()).await;
                assert_problem(&r, 404, "not_found", &path);
            }
            let r = app.send(Method::POST, &path, Some(&t), Some("text/plain"), b"reason".to_vec()).await;
            assert_problem(&r, 415, "unsupported_media_type", &path);
            let r = app.send(Method::POST, &path, Some(&t), Some("application/json"), b"{,}".to_vec()).await;
            assert_problem(&r, 400, "malformed_json", &path);
            let r = app.post(&path, &t, &json!({ "reason": 7, "accept_taxable_excess": "yes" })).await;
            r.expect_problem(422, "validation");
        }
    }
}
