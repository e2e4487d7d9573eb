//! The operator of the scheme: a token with `role: operator` and no scope claim, minted by
//! `smaajob token --role operator`. The operator reads and changes the caps and reads the
//! scheme-wide log of their changes, and reads or changes nothing of any citizen, company or
//! small job (the authorization matrix checks every endpoint; this file the role's edges).

use serde_json::json;
use smaajob_api::auth::{Claims, Role};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
use crate::outside_probe::{raw, request, serve, smaajob};
#[allow(unused_imports)]
use crate::support::*;

both_backends! {
    async fn an_operator_token_without_a_scope_claim_is_accepted_and_one_with_any_scope_claim_is_refused(app) {
        let r = app.get("/api/v1/caps", &app.operator()).await;
        r.expect(200);
        let scoped = [
            Claims { municipality: Some("730".into()), ..claims(Role::Operator, "op") },
            Claims { company_id: Some("c1".into()), ..claims(Role::Operator, "op") },
            Claims { cvr: Some(CVR_A.into()), ..claims(Role::Operator, "op") },
            Claims { citizen_id: Some("p1".into()), ..claims(Role::Operator, "op") },
        ];
        for c in scoped {
            let r = app.get("/api/v1/caps", &app.sign(&c)).await;
            r.expect_problem(401, "invalid_token");
            assert!(r.body["detail"].as_str().unwrap().contains("operator token"), "{}", r.body);
        }
    }

    async fn the_operator_reads_no_citizen_company_or_small_job_and_leaves_no_read_of_one_in_any_log(app) {
        let t = app.coordinator("730");
        let Employee { citizen, company, employment, .. } = employee(&app, "2025-01-01").await;
        let before = app.get("/api/v1/audit?limit=500", &t).await.body["total"].clone();
        let op = app.operator();
        for path in [
            format!("/api/v1/citizens/{citizen}"),
            "/api/v1/citizens".to_owned(),
            format!("/api/v1/citizens/{citizen}/balance"),
            format!("/api/v1/citizens/{citizen}/frikort"),
            format!("/api/v1/companies/{company}"),
            "/api/v1/companies".to_owned(),
            format!("/api/v1/employments/{employment}"),
            format!("/api/v1/employments/{employment}/payouts"),
            "/api/v1/adjustments".to_owned(),
            "/api/v1/placements".to_owned(),
            "/api/v1/tasks".to_owned(),
            "/api/v1/me".to_owned(),
        ] {
            app.get(&path, &op).await.expect_problem(403, "forbidden");
        }
        let r = app.post("/api/v1/citizens", &op, &json!({ "cpr": MARIE, "name": "Marie Jensen" })).await;
        r.expect_problem(403, "forbidden");
        // No read was logged in the municipality, and the operator's own log has no entry about
        // anyone: it holds the scheme's settings only.
        assert_eq!(app.get("/api/v1/audit?limit=500", &t).await.body["total"], before);
        let own = app.get("/api/v1/audit", &op).await;
        assert_eq!(own.expect(200).body["total"], 0, "{}", own.body);
        let filtered = app.get(&format!("/api/v1/audit?target_id={citizen}"), &op).await;
        assert_eq!(filtered.expect(200).body["total"], 0, "{}", filtered.body);
    }
}

/// `smaajob token --role operator` mints a token the server takes as the operator's.
#[test]
fn the_token_command_mints_an_operator_token_with_no_scope() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), "text", &[]);
    let out = smaajob(dir.path()).args(["token", "--role", "operator"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap(),
    )
    .unwrap();
    assert_eq!((claims["role"].as_str(), claims["sub"].as_str()), (Some("operator"), Some("dev-operator")));
    for scope in ["municipality", "company_id", "cvr", "citizen_id"] {
        assert!(claims.get(scope).is_none(), "{claims}");
    }
    let caps = raw(server.port, &request("GET", "/api/v1/caps/2025", Some(&token), &[], None));
    assert_eq!(caps.status, 200, "{}", caps.text());
    let citizens = raw(server.port, &request("GET", "/api/v1/citizens", Some(&token), &[], None));
    citizens.expect_problem(403, "forbidden");
    server.stop();
}
