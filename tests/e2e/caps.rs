//! Caps over HTTP: the yearly list with provisional years, one year, setting a cap by amount or
//! by regulation percentage, the validation of both, and the audit of every change.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// Next calendar year in Europe/Copenhagen: the list always reaches it.
fn next_year() -> i32 {
    this_year() + 1
}

/// The statutory caps as the API shows them.
const LAW: [(i32, &str); 7] = [
    (2019, "20000.00"),
    (2020, "20000.00"),
    (2021, "20000.00"),
    (2022, "20000.00"),
    (2023, "40000.00"),
    (2024, "41280.00"),
    (2025, "42766.00"),
];

/// The view of a provisional year borrowing `source_year`'s `amount`.
fn provisional(year: i32, amount: &str, source_year: i32) -> Value {
    json!({
        "year": year, "amount": amount, "provisional": true, "source_year": source_year,
        "regulation_percent": null, "set_by": null, "set_at": null
    })
}

/// The `cap.set` entries of the coordinator's log, newest first.
async fn cap_audit(app: &TestApp, token: &str) -> Vec<Value> {
    let r = app.get("/api/v1/audit?action=cap.set", token).await;
    r.expect(200);
    r.body["items"].as_array().unwrap().clone()
}

/// Every key of `expected` is in the entry's details with that value (other keys may follow).
#[track_caller]
fn assert_details(entry: &Value, expected: Value) {
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&entry["details"][k], v, "details.{k} of {entry}");
    }
}

both_backends! {
    async fn the_cap_list_runs_from_2019_through_next_year_with_unset_years_provisional_from_the_last_set_year(app) {
        let t = app.coordinator("730");
        let r = app.get("/api/v1/caps", &t).await;
        r.expect(200);
        let items = r.body.as_array().unwrap();
        let years: Vec<i64> = items.iter().map(|c| c["year"].as_i64().unwrap()).collect();
        let expected: Vec<i64> = (2019..=i64::from(next_year())).collect();
        assert_eq!(years, expected, "one entry per year, oldest first");
        for (i, (year, amount)) in LAW.iter().enumerate() {
            let c = &items[i];
            assert_eq!(c["year"], *year);
            assert_eq!(c["amount"], *amount, "{c}");
            assert_eq!(c["provisional"], false, "{c}");
            assert_eq!(c["source_year"], *year, "{c}");
            assert_eq!(c["set_by"], "law", "{c}");
            assert!(c["set_at"].is_string(), "{c}");
        }
        assert_eq!(items[5]["regulation_percent"], Value::Null);
        assert_eq!(items[6]["regulation_percent"], "3.6");
        for c in &items[7..] {
            let year = c["year"].as_i64().unwrap() as i32;
            assert_eq!(*c, provisional(year, "42766.00", 2025), "years after 2025 borrow 2025's cap");
        }
    }

    async fn one_years_cap_is_read_with_its_source_and_an_unset_year_borrows_the_latest_earlier_cap(app) {
        let t = app.coordinator("730");
        let r = app.get("/api/v1/caps/2024", &t).await;
        r.expect(200);
        assert_eq!(
            r.body,
            json!({
                "year": 2024, "amount": "41280.00", "provisional": false, "source_year": 2024,
                "regulation_percent": null, "set_by": "law", "set_at": "2024-01-01T00:00:00Z"
            })
        );
        let r = app.get("/api/v1/caps/2019", &t).await;
        r.expect(200);
        assert_eq!(r.body["amount"], "20000.00");
        for year in [2026, 2040, 2100] {
            let r = app.get(&format!("/api/v1/caps/{year}"), &t).await;
            r.expect(200);
            assert_eq!(r.body, provisional(year, "42766.00", 2025));
        }
        // Any signed-in role may read caps; nobody unsigned may.
        let company = app.register_company(&t, CVR_A, "Bager Hansen").await;
        app.get("/api/v1/caps/2025", &app.company(&company)).await.expect(200);
        let citizen = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        app.get("/api/v1/caps", &app.citizen(&citizen)).await.expect(200);
        let r = app.send(awc::http::Method::GET, "/api/v1/caps", None, None, Vec::new()).await;
        assert_eq!(r.status, 401, "body: {}", r.body);
    }

    async fn years_before_2019_or_after_2100_are_not_found_when_read_and_invalid_when_set(app) {
        let t = app.coordinator("730");
        for year in [2018, 2101, 0, -5] {
            app.get(&format!("/api/v1/caps/{year}"), &t).await.expect_problem(404, "not_found");
        }
        for year in [2018, 2101] {
            let r = app.put(&format!("/api/v1/caps/{year}"), &t, &json!({ "amount": "43000" })).await;
            expect_field_error(&r, "year", "cap_year_out_of_range");
            let r = app.put(&format!("/api/v1/caps/{year}"), &t, &json!({ "regulation_percent": "2" })).await;
            expect_field_error(&r, "year", "cap_year_out_of_range");
        }
        app.get("/api/v1/caps/twenty", &t).await.expect_problem(404, "not_found");
        assert!(cap_audit(&app, &t).await.is_empty());
    }

    async fn a_cap_set_by_amount_ends_the_years_provisional_status_and_the_next_year_borrows_it(app) {
        let t = app.coordinator("730");
        let before = app.get("/api/v1/caps/2026", &t).await;
        assert_eq!(before.body, provisional(2026, "42766.00", 2025));

        let started = Utc::now();
        let r = app.put("/api/v1/caps/2026", &t, &json!({ "amount": "43500" })).await;
        r.expect(200);
        assert_eq!(r.body["year"], 2026);
        assert_eq!(r.body["amount"], "43500.00");
        assert_eq!(r.body["provisional"], false);
        assert_eq!(r.body["source_year"], 2026);
        assert_eq!(r.body["regulation_percent"], Value::Null);
        assert_eq!(r.body["set_by"], "coord-730");
        let set_at: DateTime<Utc> = r.body["set_at"].as_str().unwrap().parse().unwrap();
        assert!(set_at >= started - chrono::Duration::seconds(5) && set_at <= Utc::now(), "{set_at}");

        let r = app.get("/api/v1/caps/2026", &t).await;
        r.expect(200);
        assert_eq!(r.body["provisional"], false);
        assert_eq!(r.body["amount"], "43500.00");
        let r = app.get("/api/v1/caps/2027", &t).await;
        assert_eq!(r.body, provisional(2027, "43500.00", 2026), "the next year borrows the new cap");
        let list = app.get("/api/v1/caps", &t).await;
        let later: Vec<&Value> =
            list.body.as_array().unwrap().iter().filter(|c| c["year"].as_i64() > Some(2026)).collect();
        assert!(later.iter().all(|c| c["source_year"] == 2026 && c["amount"] == "43500.00"), "{}", list.body);

        // Setting it again replaces it; "43500.00" (with zero øre) is a whole-kroner amount too.
        let r = app.put("/api/v1/caps/2026", &t, &json!({ "amount": "44000.00" })).await;
        r.expect(200);
        assert_eq!(r.body["amount"], "44000.00");
        assert_eq!(app.get("/api/v1/caps/2026", &t).await.body["amount"], "44000.00");
        // A statutory year can be corrected retroactively.
        let r = app.put("/api/v1/caps/2023", &t, &json!({ "amount": "20000" })).await;
        r.expect(200);
        assert_eq!(app.get("/api/v1/caps/2023", &t).await.body["set_by"], "coord-730");
    }

    async fn an_amount_that_is_not_a_positive_whole_number_of_kroner_is_refused(app) {
        let t = app.coordinator("730");
        let cases = [
            ("43500.50", "cap_not_whole_kroner"),
            ("43500.5", "cap_not_whole_kroner"),
            ("0.01", "cap_not_whole_kroner"),
            ("-1", "cap_not_positive"),
            ("-43500", "cap_not_positive"),
            ("0", "cap_not_positive"),
            ("0.00", "cap_not_positive"),
            ("43500.001", "money_too_precise"),
            ("10000001", "cap_too_large"),
        ];
        for (amount, code) in cases {
            let r = app.put("/api/v1/caps/2026", &t, &json!({ "amount": amount })).await;
            assert_eq!(r.status, 422, "{amount}: {}", r.body);
            expect_field_error(&r, "amount", code);
        }
        for amount in ["43,500", "43500 kr", "1e5", ""] {
            let r = app.put("/api/v1/caps/2026", &t, &json!({ "amount": amount })).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["amount"], "{amount}: {}", r.body);
        }
        let r = app.put("/api/v1/caps/2026", &t, &json!({ "amount": 43500 })).await;
        assert_eq!(r.status, 422, "a JSON number is not a decimal string: {}", r.body);
        // Nothing was stored and nothing audited.
        assert_eq!(app.get("/api/v1/caps/2026", &t).await.body["provisional"], true);
        assert!(cap_audit(&app, &t).await.is_empty());
    }

    async fn exactly_one_of_amount_or_regulation_percent_is_required(app) {
        let t = app.coordinator("730");
        for body in [
            json!({}),
            json!({ "amount": "43500", "regulation_percent": "2.9" }),
            json!({ "amount": null, "regulation_percent": null }),
        ] {
            let r = app.put("/api/v1/caps/2026", &t, &body).await;
            expect_field_error(&r, "amount", "one_of_amount_or_percent");
        }
        let r = app.put("/api/v1/caps/2026", &t, &json!({ "amount": "43500", "note": "x" })).await;
        assert_eq!(r.status, 422, "unknown fields are refused: {}", r.body);
        assert_eq!(app.get("/api/v1/caps/2026", &t).await.body["provisional"], true);
    }

    async fn a_cap_set_by_regulation_percent_is_the_previous_cap_times_the_percentage_rounded_to_whole_kroner(app) {
        let t = app.coordinator("730");
        // 42,766 × 1.029 = 44,006.214 → 44,006.
        let r = app.put("/api/v1/caps/2026", &t, &json!({ "regulation_percent": "2.9" })).await;
        r.expect(200);
        assert_eq!(r.body["amount"], "44006.00");
        assert_eq!(r.body["regulation_percent"], "2.9");
        assert_eq!(r.body["provisional"], false);
        assert_eq!(r.body["source_year"], 2026);
        let r = app.get("/api/v1/caps/2026", &t).await;
        assert_eq!((r.body["amount"].clone(), r.body["regulation_percent"].clone()), (json!("44006.00"), json!("2.9")));
        assert_eq!(app.get("/api/v1/caps/2027", &t).await.body, provisional(2027, "44006.00", 2026));

        // The law's own example: 2025 = 41,280 × 1.036 = 42,766.08 → 42,766.
        let r = app.put("/api/v1/caps/2025", &t, &json!({ "regulation_percent": "3.6" })).await;
        r.expect(200);
        assert_eq!(r.body["amount"], "42766.00");
        // A negative regulation: 44,006 × 0.9875 = 43,455.925 → 43,456 (nearest krone).
        let r = app.put("/api/v1/caps/2027", &t, &json!({ "regulation_percent": "-1.25" })).await;
        r.expect(200);
        assert_eq!(r.body["amount"], "43456.00");
        assert_eq!(r.body["regulation_percent"], "-1.25");
        // Trailing zeros do not change the stored percentage: "2.50" is "2.5".
        let r = app.put("/api/v1/caps/2028", &t, &json!({ "regulation_percent": "2.50" })).await;
        r.expect(200);
        assert_eq!(r.body["regulation_percent"], "2.5");
        // 43,456 × 1.025 = 44,542.4 → 44,542.
        assert_eq!(r.body["amount"], "44542.00");
        // A year later set by amount carries no percentage.
        let r = app.put("/api/v1/caps/2026", &t, &json!({ "amount": "44000" })).await;
        assert_eq!(r.body["regulation_percent"], Value::Null);

        for (pct, code) in [
            ("2.12345", "cap_percent_format"),
            ("2,9", "cap_percent_format"),
            ("+2.9", "cap_percent_format"),
            ("", "cap_percent_format"),
            ("150", "cap_percent_out_of_range"),
            ("-50.01", "cap_percent_out_of_range"),
        ] {
            let r = app.put("/api/v1/caps/2029", &t, &json!({ "regulation_percent": pct })).await;
            assert_eq!(r.status, 422, "{pct}: {}", r.body);
            expect_field_error(&r, "regulation_percent", code);
        }
    }

    async fn regulating_a_year_whose_previous_year_is_not_set_is_a_conflict(app) {
        let t = app.coordinator("730");
        // 2027 is provisional (borrowed from 2025), not set: 2028 cannot be regulated from it.
        assert_eq!(app.get("/api/v1/caps/2027", &t).await.body["provisional"], true);
        let r = app.put("/api/v1/caps/2028", &t, &json!({ "regulation_percent": "2.0" })).await;
        r.expect_problem(409, "previous_cap_not_set");
        assert!(r.body["detail"].as_str().unwrap().contains("2027"), "{}", r.body);
        assert_eq!(app.get("/api/v1/caps/2028", &t).await.body["provisional"], true, "nothing was stored");
        assert!(cap_audit(&app, &t).await.is_empty());
        // The first year has no previous year at all.
        app.put("/api/v1/caps/2019", &t, &json!({ "regulation_percent": "1" }))
            .await
            .expect_problem(409, "previous_cap_not_set");
        // Once 2027 is set, 2028 can be regulated from it.
        app.put("/api/v1/caps/2027", &t, &json!({ "amount": "45000" })).await.expect(200);
        let r = app.put("/api/v1/caps/2028", &t, &json!({ "regulation_percent": "2.0" })).await;
        r.expect(200);
        assert_eq!(r.body["amount"], "45900.00");
    }

    async fn setting_a_far_year_extends_the_list_to_it_with_the_years_between_provisional(app) {
        let t = app.coordinator("730");
        let far = next_year() + 3;
        app.put(&format!("/api/v1/caps/{far}"), &t, &json!({ "amount": "50000" })).await.expect(200);
        let r = app.get("/api/v1/caps", &t).await;
        let items = r.body.as_array().unwrap();
        assert_eq!(items.last().unwrap()["year"], far, "the list reaches the last year set");
        assert_eq!(items.len() as i32, far - 2019 + 1);
        for c in &items[7..items.len() - 1] {
            assert_eq!(c["source_year"], 2025, "{c}");
            assert_eq!(c["provisional"], true, "{c}");
        }
        assert_eq!(items.last().unwrap()["provisional"], false);
        let r = app.get(&format!("/api/v1/caps/{}", far + 1), &t).await;
        assert_eq!(r.body, provisional(far + 1, "50000.00", far));
    }

    async fn every_cap_change_is_audited_with_the_previous_and_the_new_amount(app) {
        let t = app.coordinator("730");
        app.put("/api/v1/caps/2026", &t, &json!({ "amount": "43500" })).await.expect(200);
        app.put("/api/v1/caps/2026", &t, &json!({ "regulation_percent": "2.9" })).await.expect(200);
        app.put("/api/v1/caps/2025", &t, &json!({ "amount": "42000" })).await.expect(200);
        let entries = cap_audit(&app, &t).await;
        assert_eq!(entries.len(), 3, "{entries:?}");
        let shape =
            |e: &Value| (e["target_type"].clone(), e["target_id"].clone(), e["actor"].clone(), e["actor_role"].clone());
        assert_eq!(shape(&entries[0]), (json!("cap"), json!("2025"), json!("coord-730"), json!("coordinator")));
        assert_details(
            &entries[0],
            json!({
                "year": 2025, "amount": "42000.00", "previous_amount": "42766.00", "regulation_percent": null
            }),
        );
        assert_details(
            &entries[1],
            json!({
                "year": 2026, "amount": "44006.00", "previous_amount": "43500.00", "regulation_percent": "2.9"
            }),
        );
        assert_eq!(entries[2]["target_id"], "2026");
        assert_details(
            &entries[2],
            json!({
                "year": 2026, "amount": "43500.00", "previous_amount": null, "regulation_percent": null
            }),
        );
        // The change is filed in the deciding coordinator's municipality only.
        let other = app.coordinator("751");
        assert!(cap_audit(&app, &other).await.is_empty());
        // Reading caps is not audited.
        app.get("/api/v1/caps", &t).await.expect(200);
        app.get("/api/v1/caps/2026", &t).await.expect(200);
        let all = app.get("/api/v1/audit", &t).await;
        assert_eq!(all.body["items"].as_array().unwrap().len(), 3, "{}", all.body);
    }

    async fn only_a_coordinator_may_set_a_cap(app) {
        let t = app.coordinator("730");
        let company = app.register_company(&t, CVR_A, "Bager Hansen").await;
        let citizen = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        for token in [app.company(&company), app.citizen(&citizen)] {
            let r = app.put("/api/v1/caps/2026", &token, &json!({ "amount": "99999" })).await;
            r.expect_problem(403, "forbidden");
        }
        let r = app
            .send(
                awc::http::Method::PUT,
                "/api/v1/caps/2026",
                None,
                Some("application/json"),
                br#"{"amount":"99999"}"#.to_vec(),
            )
            .await;
        assert_eq!(r.status, 401, "body: {}", r.body);
        assert_eq!(app.get("/api/v1/caps/2026", &t).await.body["provisional"], true);
    }
}
