//! Caps over HTTP: the yearly list with provisional years and its pages, one year; only the
//! operator changes a cap, by amount or by regulation percentage, with a reason, by confirming a
//! preview of what the change re-splits; the validation of all of it, and the audit of every
//! change, scheme-wide and in each municipality whose citizens' years it re-split.

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
        "regulation_percent": null, "set_by": null, "set_at": null, "reason": null
    })
}

/// The entries of `action` in the log `token` reads, newest first.
async fn audit_of(app: &TestApp, token: &str, action: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/audit?action={action}"), token).await;
    r.expect(200);
    r.body["items"].as_array().unwrap().clone()
}

/// The `cap.set` entries of the scheme-wide log (the operator's), newest first.
async fn cap_audit(app: &TestApp) -> Vec<Value> {
    audit_of(app, &app.operator(), "cap.set").await
}

/// The operator's `PUT /caps/{year}` with `body` as given.
async fn put_cap(app: &TestApp, year: i32, body: &Value) -> Resp {
    app.put(&format!("/api/v1/caps/{year}"), &app.operator(), body).await
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
        let items = r.body["items"].as_array().unwrap();
        let years: Vec<i64> = items.iter().map(|c| c["year"].as_i64().unwrap()).collect();
        let expected: Vec<i64> = (2019..=i64::from(next_year())).collect();
        assert_eq!(years, expected, "one entry per year, oldest first");
        assert_eq!((&r.body["total"], &r.body["limit"], &r.body["offset"]), (&json!(expected.len()), &json!(50), &json!(0)));
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
                "regulation_percent": null, "set_by": "law", "set_at": "2024-01-01T00:00:00Z", "reason": null
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
            let r = put_cap(&app, year, &cap_change(json!({ "amount": "43000", "confirm": "x" }))).await;
            expect_field_error(&r, "year", "cap_year_out_of_range");
            let r = put_cap(&app, year, &cap_change(json!({ "regulation_percent": "2" }))).await;
            expect_field_error(&r, "year", "cap_year_out_of_range");
            let r = preview_cap(&app, year, &cap_change(json!({ "amount": "43000" }))).await;
            expect_field_error(&r, "year", "cap_year_out_of_range");
        }
        app.get("/api/v1/caps/twenty", &t).await.expect_problem(404, "not_found");
        assert!(cap_audit(&app).await.is_empty());
    }

    async fn a_cap_set_by_amount_ends_the_years_provisional_status_and_the_next_year_borrows_it(app) {
        let t = app.coordinator("730");
        let before = app.get("/api/v1/caps/2026", &t).await;
        assert_eq!(before.body, provisional(2026, "42766.00", 2025));

        let started = Utc::now();
        let r = change_cap(&app, 2026, json!({ "amount": "43500" })).await;
        r.expect(200);
        assert_eq!(r.body["previous"], provisional(2026, "42766.00", 2025));
        let cap = &r.body["cap"];
        assert_eq!(cap["year"], 2026);
        assert_eq!(cap["amount"], "43500.00");
        assert_eq!(cap["provisional"], false);
        assert_eq!(cap["source_year"], 2026);
        assert_eq!(cap["regulation_percent"], Value::Null);
        assert_eq!(cap["set_by"], "operator-1");
        assert_eq!(cap["reason"], CAP_REASON);
        let set_at: DateTime<Utc> = cap["set_at"].as_str().unwrap().parse().unwrap();
        assert!(set_at >= started - chrono::Duration::seconds(5) && set_at <= Utc::now(), "{set_at}");

        let r = app.get("/api/v1/caps/2026", &t).await;
        r.expect(200);
        assert_eq!(&r.body, cap, "the cap read is the cap the change answered with");
        let r = app.get("/api/v1/caps/2027", &t).await;
        assert_eq!(r.body, provisional(2027, "43500.00", 2026), "the next year borrows the new cap");
        let list = app.get("/api/v1/caps", &t).await;
        let later: Vec<&Value> =
            list.body["items"].as_array().unwrap().iter().filter(|c| c["year"].as_i64() > Some(2026)).collect();
        assert!(later.iter().all(|c| c["source_year"] == 2026 && c["amount"] == "43500.00"), "{}", list.body);

        // Setting it again replaces it; "43500.00" (with zero øre) is a whole-kroner amount too.
        let r = change_cap(&app, 2026, json!({ "amount": "44000.00", "reason": "Rettet beløb" })).await;
        r.expect(200);
        assert_eq!(r.body["cap"]["amount"], "44000.00");
        assert_eq!(r.body["previous"]["amount"], "43500.00");
        let read = app.get("/api/v1/caps/2026", &t).await;
        assert_eq!((read.body["amount"].clone(), read.body["reason"].clone()), (json!("44000.00"), json!("Rettet beløb")));
        // A statutory year can be corrected retroactively, by the operator.
        change_cap(&app, 2023, json!({ "amount": "20000" })).await.expect(200);
        assert_eq!(app.get("/api/v1/caps/2023", &t).await.body["set_by"], "operator-1");
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
            let r = put_cap(&app, 2026, &cap_change(json!({ "amount": amount, "confirm": "x" }))).await;
            assert_eq!(r.status, 422, "{amount}: {}", r.body);
            expect_field_error(&r, "amount", code);
            let r = preview_cap(&app, 2026, &cap_change(json!({ "amount": amount }))).await;
            expect_field_error(&r, "amount", code);
        }
        for amount in ["43,500", "43500 kr", "1e5", ""] {
            let r = put_cap(&app, 2026, &cap_change(json!({ "amount": amount }))).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["amount"], "{amount}: {}", r.body);
        }
        let r = put_cap(&app, 2026, &cap_change(json!({ "amount": 43500 }))).await;
        assert_eq!(r.status, 422, "a JSON number is not a decimal string: {}", r.body);
        // Nothing was stored and nothing audited.
        assert_eq!(app.get("/api/v1/caps/2026", &t).await.body["provisional"], true);
        assert!(cap_audit(&app).await.is_empty());
    }

    async fn exactly_one_of_amount_or_regulation_percent_is_required(app) {
        let t = app.coordinator("730");
        for body in [
            json!({}),
            json!({ "amount": "43500", "regulation_percent": "2.9" }),
            json!({ "amount": null, "regulation_percent": null }),
        ] {
            let r = put_cap(&app, 2026, &cap_change(body.clone())).await;
            expect_field_error(&r, "amount", "one_of_amount_or_percent");
            let r = preview_cap(&app, 2026, &cap_change(body)).await;
            expect_field_error(&r, "amount", "one_of_amount_or_percent");
        }
        let r = put_cap(&app, 2026, &cap_change(json!({ "amount": "43500", "note": "x" }))).await;
        assert_eq!(r.status, 422, "unknown fields are refused: {}", r.body);
        let r = preview_cap(&app, 2026, &cap_change(json!({ "amount": "43500", "confirm": "x" }))).await;
        assert_eq!(r.status, 422, "a preview takes no `confirm`: {}", r.body);
        assert_eq!(app.get("/api/v1/caps/2026", &t).await.body["provisional"], true);
    }

    async fn a_cap_set_by_regulation_percent_is_the_previous_cap_times_the_percentage_rounded_to_whole_kroner(app) {
        let t = app.coordinator("730");
        // 42,766 × 1.029 = 44,006.214 → 44,006.
        let r = change_cap(&app, 2026, json!({ "regulation_percent": "2.9" })).await;
        r.expect(200);
        assert_eq!(r.body["cap"]["amount"], "44006.00");
        assert_eq!(r.body["cap"]["regulation_percent"], "2.9");
        assert_eq!(r.body["cap"]["provisional"], false);
        assert_eq!(r.body["cap"]["source_year"], 2026);
        let r = app.get("/api/v1/caps/2026", &t).await;
        assert_eq!((r.body["amount"].clone(), r.body["regulation_percent"].clone()), (json!("44006.00"), json!("2.9")));
        assert_eq!(app.get("/api/v1/caps/2027", &t).await.body, provisional(2027, "44006.00", 2026));

        // The law's own example: 2025 = 41,280 × 1.036 = 42,766.08 → 42,766.
        let r = change_cap(&app, 2025, json!({ "regulation_percent": "3.6" })).await;
        r.expect(200);
        assert_eq!(r.body["cap"]["amount"], "42766.00");
        // A negative regulation: 44,006 × 0.9875 = 43,455.925 → 43,456 (nearest krone).
        let r = change_cap(&app, 2027, json!({ "regulation_percent": "-1.25" })).await;
        r.expect(200);
        assert_eq!(r.body["cap"]["amount"], "43456.00");
        assert_eq!(r.body["cap"]["regulation_percent"], "-1.25");
        // Trailing zeros do not change the stored percentage: "2.50" is "2.5".
        let r = change_cap(&app, 2028, json!({ "regulation_percent": "2.50" })).await;
        r.expect(200);
        assert_eq!(r.body["cap"]["regulation_percent"], "2.5");
        // 43,456 × 1.025 = 44,542.4 → 44,542.
        assert_eq!(r.body["cap"]["amount"], "44542.00");
        // A year later set by amount carries no percentage.
        let r = change_cap(&app, 2026, json!({ "amount": "44000" })).await;
        assert_eq!(r.body["cap"]["regulation_percent"], Value::Null);

        for (pct, code) in [
            ("2.12345", "cap_percent_format"),
            ("2,9", "cap_percent_format"),
            ("+2.9", "cap_percent_format"),
            ("", "cap_percent_format"),
            ("150", "cap_percent_out_of_range"),
            ("-50.01", "cap_percent_out_of_range"),
        ] {
            let r = put_cap(&app, 2029, &cap_change(json!({ "regulation_percent": pct }))).await;
            assert_eq!(r.status, 422, "{pct}: {}", r.body);
            expect_field_error(&r, "regulation_percent", code);
        }
    }

    async fn regulating_a_year_whose_previous_year_is_not_set_is_a_conflict(app) {
        let t = app.coordinator("730");
        // 2027 is provisional (borrowed from 2025), not set: 2028 cannot be regulated from it.
        assert_eq!(app.get("/api/v1/caps/2027", &t).await.body["provisional"], true);
        let body = cap_change(json!({ "regulation_percent": "2.0" }));
        let r = preview_cap(&app, 2028, &body).await;
        r.expect_problem(409, "previous_cap_not_set");
        assert!(r.body["detail"].as_str().unwrap().contains("2027"), "{}", r.body);
        let mut confirmed = body.clone();
        confirmed["confirm"] = json!("0".repeat(64));
        put_cap(&app, 2028, &confirmed).await.expect_problem(409, "previous_cap_not_set");
        assert_eq!(app.get("/api/v1/caps/2028", &t).await.body["provisional"], true, "nothing was stored");
        assert!(cap_audit(&app).await.is_empty());
        // The first year has no previous year at all.
        preview_cap(&app, 2019, &cap_change(json!({ "regulation_percent": "1" })))
            .await
            .expect_problem(409, "previous_cap_not_set");
        // Once 2027 is set, 2028 can be regulated from it.
        change_cap(&app, 2027, json!({ "amount": "45000" })).await.expect(200);
        let r = change_cap(&app, 2028, json!({ "regulation_percent": "2.0" })).await;
        r.expect(200);
        assert_eq!(r.body["cap"]["amount"], "45900.00");
    }

    async fn setting_a_far_year_extends_the_list_to_it_with_the_years_between_provisional(app) {
        let t = app.coordinator("730");
        let far = next_year() + 3;
        change_cap(&app, far, json!({ "amount": "50000" })).await.expect(200);
        let r = app.get("/api/v1/caps", &t).await;
        let items = r.body["items"].as_array().unwrap();
        assert_eq!(items.last().unwrap()["year"], far, "the list reaches the last year set");
        assert_eq!(items.len() as i32, far - 2019 + 1);
        assert_eq!(r.body["total"], far - 2019 + 1);
        for c in &items[7..items.len() - 1] {
            assert_eq!(c["source_year"], 2025, "{c}");
            assert_eq!(c["provisional"], true, "{c}");
        }
        assert_eq!(items.last().unwrap()["provisional"], false);
        let r = app.get(&format!("/api/v1/caps/{}", far + 1), &t).await;
        assert_eq!(r.body, provisional(far + 1, "50000.00", far));
    }

    async fn every_cap_change_is_audited_scheme_wide_with_the_previous_and_the_new_amount_and_the_reason(app) {
        change_cap(&app, 2026, json!({ "amount": "43500", "reason": "Første udmelding" })).await.expect(200);
        change_cap(&app, 2026, json!({ "regulation_percent": "2.9" })).await.expect(200);
        change_cap(&app, 2025, json!({ "amount": "42000" })).await.expect(200);
        let entries = cap_audit(&app).await;
        assert_eq!(entries.len(), 3, "{entries:?}");
        let shape =
            |e: &Value| (e["target_type"].clone(), e["target_id"].clone(), e["actor"].clone(), e["actor_role"].clone());
        assert_eq!(shape(&entries[0]), (json!("cap"), json!("2025"), json!("operator-1"), json!("operator")));
        assert_details(
            &entries[0],
            json!({
                "year": 2025, "amount": "42000.00", "previous_amount": "42766.00", "previous_provisional": false,
                "regulation_percent": null, "reason": CAP_REASON,
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
                "year": 2026, "amount": "43500.00", "previous_amount": "42766.00", "previous_provisional": true,
                "regulation_percent": null, "reason": "Første udmelding",
            }),
        );
        // With no citizen paid, nothing was re-split, and no municipality's log has an entry.
        assert_details(
            &entries[0],
            json!({ "impact": {
                "years": [], "citizen_years": 0, "citizens": 0, "companies": 0, "payouts": 0,
                "exempt_change": "0.00", "municipalities": [],
            } }),
        );
        for m in ["730", "751"] {
            let r = app.get("/api/v1/audit", &app.coordinator(m)).await;
            assert_eq!(r.expect(200).body["total"], 0, "{m}: {}", r.body);
        }
        // Previews and reading caps are not audited.
        preview_cap(&app, 2027, &cap_change(json!({ "amount": "45000" }))).await.expect(200);
        app.get("/api/v1/caps", &app.operator()).await.expect(200);
        app.get("/api/v1/caps/2026", &app.coordinator("730")).await.expect(200);
        let all = app.get("/api/v1/audit", &app.operator()).await;
        assert_eq!(all.body["items"].as_array().unwrap().len(), 3, "{}", all.body);
    }

    async fn the_cap_list_comes_in_pages_of_the_common_shape(app) {
        let t = app.coordinator("730");
        let years = i64::from(next_year()) - 2019 + 1;
        let r = app.get("/api/v1/caps?limit=3&offset=2", &t).await;
        r.expect(200);
        let mut keys: Vec<&str> = r.body.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["items", "limit", "offset", "total"]);
        let page: Vec<i64> = r.body["items"].as_array().unwrap().iter().map(|c| c["year"].as_i64().unwrap()).collect();
        assert_eq!(page, [2021, 2022, 2023]);
        assert_eq!((&r.body["total"], &r.body["limit"], &r.body["offset"]), (&json!(years), &json!(3), &json!(2)));
        let past_the_end = app.get(&format!("/api/v1/caps?offset={years}"), &t).await;
        past_the_end.expect(200);
        assert_eq!(past_the_end.body["items"], json!([]));
        assert_eq!(past_the_end.body["total"], years);
        for bad in ["limit=0", "limit=201", "offset=-1"] {
            let r = app.get(&format!("/api/v1/caps?{bad}"), &t).await;
            r.expect_problem(422, "validation");
        }
    }

    async fn only_the_operator_may_preview_or_change_a_cap(app) {
        let t = app.coordinator("730");
        let company = app.register_company(&t, CVR_A, "Bager Hansen").await;
        let citizen = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let body = cap_change(json!({ "amount": "99999" }));
        let confirm = preview_cap(&app, 2026, &body).await.expect(200).body["confirm"].clone();
        let mut confirmed = body.clone();
        confirmed["confirm"] = confirm;
        for token in [t.clone(), app.coordinator("751"), app.company(&company), app.citizen(&citizen)] {
            app.post("/api/v1/caps/2026/preview", &token, &body).await.expect_problem(403, "forbidden");
            // Not even with a valid confirmation.
            app.put("/api/v1/caps/2026", &token, &confirmed).await.expect_problem(403, "forbidden");
        }
        for path in ["/api/v1/caps/2026", "/api/v1/caps/2026/preview"] {
            let method = if path.ends_with("preview") { awc::http::Method::POST } else { awc::http::Method::PUT };
            let r = app.send(method, path, None, Some("application/json"), confirmed.to_string().into_bytes()).await;
            assert_eq!(r.status, 401, "body: {}", r.body);
        }
        assert_eq!(app.get("/api/v1/caps/2026", &t).await.body["provisional"], true);
        assert!(cap_audit(&app).await.is_empty());
    }

    async fn a_coordinators_cap_change_is_forbidden_and_leaves_every_citizens_exempt_amount_as_it_was(app) {
        // The outside probe: a coordinator of 751 set the 2025 cap of the whole country to 1 kr.
        let t = app.coordinator("751");
        let company = app.register_company(&t, CVR_A, "Bager Hansen").await;
        let (citizen, _) = paid(&app, &t, &company, JENS, &[("2025-06-27", "40000.00")]).await;
        assert_eq!(balance(&app, &t, &citizen, 2025).await["exempt"], "40000.00");

        let r = app.put("/api/v1/caps/2025", &t, &json!({ "amount": "1" })).await;
        r.expect_problem(403, "forbidden");
        let r = app.put("/api/v1/caps/2025", &t, &json!({ "amount": "1", "reason": "x", "confirm": "x" })).await;
        r.expect_problem(403, "forbidden");
        app.post("/api/v1/caps/2025/preview", &t, &json!({ "amount": "1", "reason": "x" }))
            .await
            .expect_problem(403, "forbidden");

        let after = balance(&app, &t, &citizen, 2025).await;
        assert_eq!((after["cap"].clone(), after["exempt"].clone()), (json!("42766.00"), json!("40000.00")), "{after}");
        let cap = app.get("/api/v1/caps/2025", &t).await;
        assert_eq!((cap.body["amount"].clone(), cap.body["set_by"].clone()), (json!("42766.00"), json!("law")));
        let adjustments = app.get("/api/v1/adjustments", &t).await;
        assert_eq!(adjustments.expect(200).body["total"], 0, "{}", adjustments.body);
        assert!(cap_audit(&app).await.is_empty());
    }

    async fn the_operator_must_give_a_reason_of_plain_bounded_text_to_preview_or_change_a_cap(app) {
        let long = "x".repeat(501);
        let cases = [
            (json!({ "amount": "40000" }), "required"),
            (json!({ "amount": "40000", "reason": null }), "required"),
            (json!({ "amount": "40000", "reason": "" }), "required"),
            (json!({ "amount": "40000", "reason": "   " }), "required"),
            (json!({ "amount": "40000", "reason": long }), "too_long"),
            (json!({ "amount": "40000", "reason": "Lov \u{202E}nr. 616" }), "invisible_characters"),
            (json!({ "amount": "40000", "reason": "Lov\u{200B}616" }), "invisible_characters"),
            (json!({ "amount": "40000", "reason": "Lov\u{0007}616" }), "control_characters"),
        ];
        for (body, code) in cases {
            let r = preview_cap(&app, 2025, &body).await;
            assert_eq!(r.status, 422, "{body}: {}", r.body);
            expect_field_error(&r, "reason", code);
            let mut confirmed = body.clone();
            confirmed["confirm"] = json!("x");
            expect_field_error(&put_cap(&app, 2025, &confirmed).await, "reason", code);
        }
        // 500 characters are enough, and are kept as given.
        let r = change_cap(&app, 2026, json!({ "amount": "44000", "reason": "æ".repeat(500) })).await;
        r.expect(200);
        assert_eq!(r.body["cap"]["reason"], "æ".repeat(500));
        let cap = app.get("/api/v1/caps/2025", &app.operator()).await;
        assert_eq!((cap.body["amount"].clone(), cap.body["reason"].clone()), (json!("42766.00"), Value::Null));
        assert_eq!(cap_audit(&app).await.len(), 1);
    }

    async fn a_preview_counts_the_citizen_years_employers_and_payouts_a_change_re_splits_and_changes_nothing(app) {
        let w = two_municipalities(&app).await;
        let before = snapshot(&app, &w).await;
        let r = preview_cap(&app, 2025, &cap_change(json!({ "amount": "40000" }))).await;
        r.expect(200);
        assert_eq!(r.body["impact"], w.expected_impact(), "{}", r.body);
        assert_eq!(r.body["cap"]["amount"], "40000.00");
        assert_eq!(r.body["cap"]["set_by"], "operator-1");
        assert_eq!(r.body["previous"]["amount"], "42766.00");
        assert_eq!(r.body["previous"]["set_by"], "law");
        let confirm = r.body["confirm"].as_str().unwrap();
        assert!(confirm.len() == 64 && confirm.chars().all(|c| c.is_ascii_hexdigit()), "{confirm}");
        // The same preview again gives the same fingerprint: it is of the change, not of the moment.
        let again = preview_cap(&app, 2025, &cap_change(json!({ "amount": "40000", "reason": "Andet ord" }))).await;
        assert_eq!(again.body["confirm"], r.body["confirm"]);
        assert_eq!(again.body["impact"], r.body["impact"]);

        // Nothing changed: the cap, every balance, no adjustment, no audit entry.
        assert_eq!(snapshot(&app, &w).await, before);
        assert!(cap_audit(&app).await.is_empty());
        assert!(audit_of(&app, &w.randers, "cap.resplit").await.is_empty());
    }

    async fn a_confirmed_change_does_what_its_preview_showed_and_is_audited_scheme_wide_and_in_each_municipality_it_touched(app) {
        let w = two_municipalities(&app).await;
        let body = cap_change(json!({ "amount": "40000" }));
        let preview = preview_cap(&app, 2025, &body).await;
        preview.expect(200);
        let mut confirmed = body.clone();
        confirmed["confirm"] = preview.body["confirm"].clone();
        let r = put_cap(&app, 2025, &confirmed).await;
        r.expect(200);
        // The change is the previewed one.
        assert_eq!(r.body["impact"], preview.body["impact"]);
        assert_eq!(r.body["confirm"], preview.body["confirm"]);
        assert_eq!(r.body["previous"], preview.body["previous"]);
        let without_time = |v: &Value| {
            let mut v = v.clone();
            v["set_at"] = Value::Null;
            v
        };
        assert_eq!(without_time(&r.body["cap"]), without_time(&preview.body["cap"]));
        assert_eq!(r.body["impact"], w.expected_impact());

        // The years are re-split as the impact said.
        let a = balance(&app, &w.randers, &w.a, 2025).await;
        assert_eq!((a["cap"].clone(), a["exempt"].clone(), a["taxable"].clone()), (json!("40000.00"), json!("40000.00"), json!("5000.00")));
        let c = balance(&app, &w.horsens, &w.c, 2026).await;
        assert_eq!((c["cap"].clone(), c["cap_provisional"].clone(), c["exempt"].clone()), (json!("40000.00"), json!(true), json!("40000.00")));
        assert_eq!(balance(&app, &w.randers, &w.b, 2024).await["exempt"], "5000.00", "2024 is not touched");
        for (coordinator, count) in [(&w.randers, 1), (&w.horsens, 2)] {
            let adjustments = app.get("/api/v1/adjustments", coordinator).await;
            let items = adjustments.expect(200).body["items"].as_array().unwrap().clone();
            assert_eq!(items.len(), count, "{}", adjustments.body);
            assert!(items.iter().all(|a| a["cause"] == "cap_changed"), "{}", adjustments.body);
        }

        // Scheme-wide: the whole change, for the operator.
        let entries = cap_audit(&app).await;
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_details(
            &entries[0],
            json!({
                "year": 2025, "amount": "40000.00", "previous_amount": "42766.00", "reason": CAP_REASON,
                "confirm": preview.body["confirm"],
                "impact": {
                    "years": [2025, 2026], "citizen_years": 4, "citizens": 3, "companies": 2, "payouts": 3,
                    "exempt_change": "-6532.00", "municipalities": ["615", "730"],
                },
            }),
        );
        // In each municipality the change touched: what it did there; in no other.
        let randers = audit_of(&app, &w.randers, "cap.resplit").await;
        assert_eq!(randers.len(), 1, "{randers:?}");
        assert_eq!((randers[0]["actor"].clone(), randers[0]["actor_role"].clone()), (json!("operator-1"), json!("operator")));
        assert_details(
            &randers[0],
            json!({
                "year": 2025, "amount": "40000.00", "previous_amount": "42766.00", "reason": CAP_REASON,
                "impact": { "citizen_years": 1, "citizens": 1, "payouts": 1, "exempt_change": "-2766.00" },
            }),
        );
        let horsens = audit_of(&app, &w.horsens, "cap.resplit").await;
        assert_details(
            &horsens[0],
            json!({ "impact": { "citizen_years": 3, "citizens": 2, "payouts": 2, "exempt_change": "-3766.00" } }),
        );
        assert!(audit_of(&app, &app.coordinator("101"), "cap.resplit").await.is_empty());
        // The operator's log holds the scheme's settings only, no municipality's entries.
        let all = app.get("/api/v1/audit", &app.operator()).await;
        let items = all.expect(200).body["items"].as_array().unwrap().clone();
        assert!(items.iter().all(|e| e["target_type"] == "cap" && e["action"] == "cap.set"), "{}", all.body);
    }

    async fn a_confirmation_that_no_longer_matches_what_the_change_would_do_is_refused_and_changes_nothing(app) {
        let t = app.coordinator("730");
        let company = app.register_company(&t, CVR_A, "Bager Hansen").await;
        // 39,000 kr: under the new cap of 40,000 too, so the change re-splits the year and changes
        // no payout's split.
        let (citizen, employment) =
            paid(&app, &t, &company, JENS, &[("2025-03-28", "30000.00"), ("2025-06-27", "9000.00")]).await;
        let body = cap_change(json!({ "amount": "40000" }));
        let preview = preview_cap(&app, 2025, &body).await;
        assert_eq!((preview.body["impact"]["citizen_years"].clone(), preview.body["impact"]["payouts"].clone()), (json!(1), json!(0)));
        let stale = preview.body["confirm"].clone();

        // Without a confirmation: a preview is required.
        put_cap(&app, 2025, &body).await.expect_problem(409, "cap_preview_required");
        // A payout registered meanwhile changes what the change would do: it takes 2,000 kr of
        // exempt under the old cap, and would keep 1,000 under the new one.
        let late = payout_body("2025-09-30", "2025-09-30", "2025-09-30", "2000.00");
        app.payout(&app.company(&company), &employment, &late).await.expect(201);
        let mut confirmed = body.clone();
        confirmed["confirm"] = stale.clone();
        let r = put_cap(&app, 2025, &confirmed).await;
        r.expect_problem(409, "cap_preview_stale");
        // The confirmation of another change, or any other text, is no confirmation of this one.
        let other = preview_cap(&app, 2025, &cap_change(json!({ "amount": "41000" }))).await.expect(200).body["confirm"].clone();
        for confirm in [other, json!("not a fingerprint"), json!("")] {
            confirmed["confirm"] = confirm;
            put_cap(&app, 2025, &confirmed).await.expect_problem(409, "cap_preview_stale");
        }
        // Nothing changed.
        let cap = app.get("/api/v1/caps/2025", &t).await;
        assert_eq!((cap.body["amount"].clone(), cap.body["set_by"].clone()), (json!("42766.00"), json!("law")));
        assert_eq!(balance(&app, &t, &citizen, 2025).await["exempt"], "41000.00");
        assert_eq!(app.get("/api/v1/adjustments", &t).await.body["total"], 0);
        assert!(cap_audit(&app).await.is_empty());

        // A fresh preview sees the new payout and confirms.
        let fresh = preview_cap(&app, 2025, &body).await;
        assert_ne!(fresh.body["confirm"], stale);
        assert_eq!(fresh.body["impact"]["payouts"], 1, "the late payout loses exempt: {}", fresh.body);
        assert_eq!(fresh.body["impact"]["exempt_change"], "-1000.00");
        confirmed["confirm"] = fresh.body["confirm"].clone();
        let r = put_cap(&app, 2025, &confirmed).await;
        r.expect(200);
        assert_eq!(r.body["impact"], fresh.body["impact"]);
        assert_eq!(balance(&app, &t, &citizen, 2025).await["exempt"], "40000.00");
    }

    async fn a_retried_confirmation_with_the_same_idempotency_key_answers_the_applied_change_once(app) {
        let t = app.coordinator("730");
        let company = app.register_company(&t, CVR_A, "Bager Hansen").await;
        paid(&app, &t, &company, JENS, &[("2025-06-27", "42000.00")]).await;
        let mut body = cap_change(json!({ "amount": "41000" }));
        body["confirm"] = preview_cap(&app, 2025, &body).await.expect(200).body["confirm"].clone();
        let (operator, key) = (app.operator(), [("Idempotency-Key", "cap-2025")]);
        let method = awc::http::Method::PUT;
        let first = app.json_with_headers(method.clone(), "/api/v1/caps/2025", &operator, &key, &body).await;
        first.expect(200);
        assert_eq!(first.body["impact"]["payouts"], 1);
        let retry = app.json_with_headers(method, "/api/v1/caps/2025", &operator, &key, &body).await;
        retry.expect(200);
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(retry.body, first.body);
        assert_eq!(cap_audit(&app).await.len(), 1);
        // Without the key, the same confirmation now describes nothing that would happen.
        put_cap(&app, 2025, &body).await.expect_problem(409, "cap_preview_stale");
    }
}

/// A card holder (card since 2019) of the coordinator's municipality, employed by `company` from
/// 2024 and paid each `(payment date, wage)` (no holiday pay) for work on that day: the citizen's
/// id and the employment's.
async fn paid(
    app: &TestApp,
    coordinator: &str,
    company: &str,
    cpr: &str,
    payouts: &[(&str, &str)],
) -> (String, String) {
    let (citizen, number) = app.card_holder(coordinator, cpr, "Kim Jensen", "2019-01-01").await;
    let token = app.company(company);
    let employment = app.register_employment(&token, &employment_by_card(cpr, &number, "2024-01-01")).await;
    for (day, wage) in payouts {
        app.payout(&token, &employment, &payout_body(day, day, day, wage)).await.expect(201);
    }
    (citizen, employment)
}

/// Paid card holders in Randers (730) and Horsens (615), each municipality with its own employer.
struct TwoMunicipalities {
    randers: String,
    horsens: String,
    /// Randers: 30,000 + 15,000 kr in 2025 (the cap crossed by the second payout).
    a: String,
    /// Randers: 5,000 kr in 2024 only (a year the change does not touch).
    b: String,
    /// Horsens: 41,000 kr in 2025 and 43,000 kr in 2026 (a year that borrows 2025's cap).
    c: String,
    /// Horsens: 1,000 kr in 2025 (under the new cap too).
    d: String,
}

async fn two_municipalities(app: &TestApp) -> TwoMunicipalities {
    let randers = app.coordinator("730");
    let horsens = app.coordinator("615");
    let bakery = app.register_company(&randers, CVR_A, "Bager Hansen").await;
    let joinery = app.register_company(&horsens, &cvr(7), "Snedker Olsen").await;
    let (a, _) = paid(app, &randers, &bakery, JENS, &[("2025-03-28", "30000.00"), ("2025-06-27", "15000.00")]).await;
    let (b, _) = paid(app, &randers, &bakery, MARIE, &[("2024-05-31", "5000.00")]).await;
    let (c, _) = paid(app, &horsens, &joinery, OLE, &[("2025-04-30", "41000.00"), ("2026-02-27", "43000.00")]).await;
    let (d, _) = paid(app, &horsens, &joinery, METTE, &[("2025-05-30", "1000.00")]).await;
    TwoMunicipalities { randers, horsens, a, b, c, d }
}

impl TwoMunicipalities {
    /// What lowering 2025's cap from 42,766 to 40,000 kr re-splits: A's 2025 (the second payout
    /// loses 2,766 kr of exempt), C's 2025 (−1,000) and 2026 (−2,766), D's 2025 (no split changes).
    fn expected_impact(&self) -> Value {
        json!({
            "years": [2025, 2026], "citizen_years": 4, "citizens": 3, "companies": 2, "payouts": 3,
            "exempt_change": "-6532.00",
            "municipalities": [
                { "municipality": "615", "citizen_years": 3, "citizens": 2, "payouts": 2, "exempt_change": "-3766.00" },
                { "municipality": "730", "citizen_years": 1, "citizens": 1, "payouts": 1, "exempt_change": "-2766.00" },
            ],
        })
    }
}

/// Everything a cap change could touch: the caps, each citizen's balance of 2024–2026, and each
/// municipality's adjustments.
async fn snapshot(app: &TestApp, w: &TwoMunicipalities) -> Vec<Value> {
    let mut seen = vec![app.get("/api/v1/caps", &w.randers).await.body];
    for (coordinator, citizen) in [(&w.randers, &w.a), (&w.randers, &w.b), (&w.horsens, &w.c), (&w.horsens, &w.d)] {
        for year in 2024..=2026 {
            let mut b = balance(app, coordinator, citizen, year).await;
            // The projection counts from today, which is not what a change would touch.
            b["projection"] = Value::Null;
            seen.push(b);
        }
    }
    for coordinator in [&w.randers, &w.horsens] {
        seen.push(app.get("/api/v1/adjustments", coordinator).await.body);
    }
    seen
}
