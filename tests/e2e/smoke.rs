//! The newcomer's walkthrough: enrol a citizen, issue a card, read caps and the audit log.

use serde_json::json;

use crate::both_backends;
#[allow(unused_imports)]
use crate::support::*;

both_backends! {
    async fn a_coordinator_enrols_a_citizen_issues_a_card_and_reads_caps_and_the_audit_log(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let card = app.issue_card(&t, &id).await;
        assert_eq!(card["status"], "active");
        assert_eq!(card["number"].as_str().unwrap().len(), 5);
        let caps = app.get("/api/v1/caps", &t).await;
        caps.expect(200);
        assert_eq!(caps.body["items"][6], json!({
            "year": 2025, "amount": "42766.00", "provisional": false, "source_year": 2025,
            "regulation_percent": "3.6", "set_by": "law", "set_at": "2025-01-01T00:00:00Z"
        }));
        let audit = app.get("/api/v1/audit", &t).await;
        audit.expect(200);
        let actions: Vec<&str> = audit.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["frikort.issued", "citizen.created"]);
    }
}
