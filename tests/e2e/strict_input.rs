//! One spelling per value: a negative zero amount, a non-canonical id in a path and a name with
//! invisible formatting characters are refused, not quietly read as something else.

use serde_json::json;

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
use crate::support::*;

const JENS: &str = "010190-1234";

both_backends! {
    async fn a_negative_zero_amount_is_a_field_error_and_plain_zero_is_accepted(app) {
        let coordinator = app.coordinator("730");
        let (_, number) = app.card_holder(&coordinator, JENS, "Jens Hansen", "2019-01-01").await;
        let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
        let t = app.company(&company);
        let employment = app.register_employment(&t, &employment_by_card(JENS, &number, "2024-01-01")).await;
        let mut body = payout_body("2024-03-05", "2024-02-01", "2024-02-29", "1000.00");
        body["holiday_pay"] = json!("-0.00");
        let r = app.payout(&t, &employment, &body).await;
        expect_field_error(&r, "holiday_pay", "money_negative_zero");
        body["holiday_pay"] = json!("0.00");
        app.payout(&t, &employment, &body).await.expect(201);
    }

    async fn a_path_id_in_any_but_the_canonical_lowercase_form_names_no_resource(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, JENS, "Jens Hansen").await;
        app.get(&format!("/api/v1/citizens/{id}"), &t).await.expect(200);
        let upper = id.to_uppercase();
        let simple = id.replace('-', "");
        for other in [format!("%7B{id}%7D"), format!("urn:uuid:{id}"), upper, simple] {
            let r = app.get(&format!("/api/v1/citizens/{other}"), &t).await;
            r.expect_problem(404, "not_found");
        }
    }

    async fn a_name_with_a_bidi_override_or_a_zero_width_character_is_a_field_error(app) {
        let t = app.coordinator("730");
        for name in ["Anne \u{202E}nesnaH", "Anne\u{200B}Hansen", "Anne\u{2060}Hansen", "\u{FEFF}Anne Hansen"] {
            let r = app.post("/api/v1/citizens", &t, &json!({ "cpr": JENS, "name": name })).await;
            expect_field_error(&r, "name", "name_invisible_characters");
        }
        app.enrol(&t, JENS, "Anne Hansen").await;
    }
}

/// Dates in request bodies are written one way: `YYYY-MM-DD`.
mod dates {
    use super::*;

    both_backends! {
        async fn a_payout_with_a_date_not_written_yyyy_mm_dd_is_refused_and_nothing_is_paid(app) {
            let w = employee(&app, "2024-01-01").await;
            for loose in ["2024-3-5", "2024-03-5", "20240305", "2024-03-05T00:00:00"] {
                let body = payout_body(loose, "2024-02-01", "2024-02-29", "1000.00");
                let r = app.payout(&w.company_token, &w.employment, &body).await;
                r.expect_problem(422, "validation");
                assert!(r.body["errors"][0]["message"].as_str().unwrap_or_default().contains("YYYY-MM-DD"), "{}", r.body);
            }
            let ok = app.payout(&w.company_token, &w.employment, &payout_body("2024-03-05", "2024-02-01", "2024-02-29", "1000.00")).await;
            ok.expect(201);
            assert_eq!(totals(&w.balance(&app, 2024).await).4, 1, "only the well-written payout counts");
        }
    }
}
