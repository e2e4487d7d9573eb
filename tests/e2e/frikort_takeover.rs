//! A municipality taking over a card that has been valid for a while registers it with the
//! earlier valid-from date; its later decisions are measured against when the previous decision
//! took effect, not against when the take-over was typed in.

use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
use crate::support::*;

const JENS: &str = "010190-1234";

fn path(id: &str, tail: &str) -> String {
    format!("/api/v1/citizens/{id}/frikort{tail}")
}

fn decisions(card: &Value) -> Vec<(String, String)> {
    card["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap().to_owned(), e["effective_at"].as_str().unwrap().to_owned()))
        .collect()
}

both_backends! {
    async fn a_card_taken_over_with_an_earlier_valid_from_date_can_be_deactivated_from_a_date_after_it(app) {
        let t = app.coordinator("730");
        let (id, _) = app.card_holder(&t, JENS, "Jens Hansen", "2025-01-01").await;
        let r = app
            .post(&path(&id, "/deactivate"), &t, &json!({ "decided_at": "2025-06-01T10:00:00Z", "reason": "flyttet" }))
            .await;
        r.expect(200);
        assert_eq!(r.body["status"], "deactivated");
        let history = decisions(&r.body);
        assert_eq!(history.len(), 2, "{}", r.body);
        assert_eq!(history[1].0, "deactivated");
        assert_eq!(history[1].1.parse::<chrono::DateTime<chrono::Utc>>().unwrap().to_rfc3339(), "2025-06-01T10:00:00+00:00");
    }

    async fn a_deactivation_before_a_taken_over_cards_valid_from_date_is_still_refused(app) {
        let t = app.coordinator("730");
        let (id, _) = app.card_holder(&t, JENS, "Jens Hansen", "2025-01-01").await;
        let r = app
            .post(&path(&id, "/deactivate"), &t, &json!({ "decided_at": "2024-12-01T10:00:00Z", "reason": "fejl" }))
            .await;
        expect_field_error(&r, "decided_at", "before_last_decision");
    }

    async fn after_a_reactivation_of_a_taken_over_card_a_deactivation_cannot_precede_it(app) {
        let t = app.coordinator("730");
        let (id, _) = app.card_holder(&t, JENS, "Jens Hansen", "2025-01-01").await;
        app.post(&path(&id, "/deactivate"), &t, &json!({ "decided_at": "2025-03-01T10:00:00Z", "reason": "job" }))
            .await
            .expect(200);
        let body = json!({ "decided_at": "2025-08-01T10:00:00Z", "attestations": attestations(true) });
        app.post(&path(&id, "/reactivate"), &t, &body).await.expect(200);
        let r = app
            .post(&path(&id, "/deactivate"), &t, &json!({ "decided_at": "2025-07-01T10:00:00Z", "reason": "r" }))
            .await;
        expect_field_error(&r, "decided_at", "before_last_decision");
        app.post(&path(&id, "/deactivate"), &t, &json!({ "decided_at": "2025-09-01T10:00:00Z", "reason": "r" }))
            .await
            .expect(200);
    }
}
