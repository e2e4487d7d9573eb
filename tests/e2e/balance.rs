//! A citizen's balance over HTTP: the year's cap, what was paid against it (in all and per
//! employer), what remains and the day the cap is projected to be reached; and who may read it
//! (the citizen's municipality in full, an employer only what remains, the citizen their own).

use chrono::Datelike;
use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

both_backends! {
    async fn the_balance_is_broken_down_per_employer(app) {
        let w = employee(&app, "2024-01-01").await;
        let (b_company, b_token, b_employment) = w.second_employer(&app, "2024-01-01").await;
        w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "20000.00").await;
        app.payout(&b_token, &b_employment, &payout_body("2024-04-30", "2024-04-01", "2024-04-29", "15000.00"))
            .await
            .expect(201);
        w.pay(&app, "2024-05-31", "2024-05-01", "2024-05-30", "10000.00").await;

        let b = w.balance(&app, 2024).await;
        assert_eq!(totals(&b), ("45000.00", "41280.00", "3720.00", "0.00", 3));
        let per = b["per_employer"].as_array().unwrap();
        assert_eq!(per.len(), 2, "{b}");
        let of = |company: &str| per.iter().find(|e| e["company_id"] == company).unwrap().clone();
        assert_eq!(
            of(&w.company),
            json!({
                "company_id": w.company, "company_name": "Bager Hansen",
                "gross": "30000.00", "exempt": "26280.00", "taxable": "3720.00", "payouts": 2,
            })
        );
        assert_eq!(
            of(&b_company),
            json!({
                "company_id": b_company, "company_name": "Tømrer Olsen",
                "gross": "15000.00", "exempt": "15000.00", "taxable": "0.00", "payouts": 1,
            })
        );
        // The citizen sees the same on /me/balance.
        let me = app.get("/api/v1/me/balance?year=2024", &app.citizen(&w.citizen)).await;
        me.expect(200);
        assert_eq!(me.body, b);
    }

    async fn an_employer_sees_only_the_remaining_amount_of_its_employee_s_balance(app) {
        let w = employee(&app, "2024-01-01").await;
        let (_, b_token, b_employment) = w.second_employer(&app, "2024-01-01").await;
        w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "20000.00").await;
        let r = app
            .payout(&b_token, &b_employment, &payout_body("2024-04-30", "2024-04-01", "2024-04-29", "15000.00"))
            .await;
        r.expect(201);
        assert_eq!(keys(&r.body["balance"]), set(&["year", "cap", "cap_provisional", "remaining"]));

        for token in [&w.company_token, &b_token] {
            let r = app.get(&format!("/api/v1/citizens/{}/balance?year=2024", w.citizen), token).await;
            r.expect(200);
            assert_eq!(
                r.body,
                json!({
                    "citizen_id": w.citizen, "year": 2024,
                    "cap": "41280.00", "cap_provisional": false, "remaining": "6280.00",
                    "based_on": "income known to Småjob, not yet reconciled with the national register",
                    "reconciled_on": null,
                })
            );
        }
        // A former employer still sees it.
        app.post(&format!("/api/v1/employments/{b_employment}/end"), &b_token, &json!({ "end_date": "2024-04-30" }))
            .await
            .expect(200);
        app.get(&format!("/api/v1/citizens/{}/balance?year=2024", w.citizen), &b_token).await.expect(200);
        // A coordinator gets the full view, with a receipt to match.
        let full = app
            .payout(&w.coordinator, &w.employment, &payout_body("2024-05-31", "2024-05-01", "2024-05-30", "100.00"))
            .await;
        full.expect(201);
        assert_eq!(
            full.body["balance"],
            json!({
                "year": 2024, "cap": "41280.00", "cap_provisional": false, "remaining": "6180.00",
                "gross": "35100.00", "exempt": "35100.00", "taxable": "0.00",
            })
        );
    }

    async fn a_citizen_reads_only_their_own_balance(app) {
        let w = employee(&app, "2024-01-01").await;
        w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "20000.00").await;
        let (other, _) = app.card_holder(&w.coordinator, MARIE, "Marie Jensen", "2019-01-01").await;
        let other_token = app.citizen(&other);

        app.get(&format!("/api/v1/citizens/{}/balance?year=2024", w.citizen), &other_token)
            .await
            .expect_problem(403, "forbidden");
        // Not even their own by id: citizens use /me/balance.
        app.get(&format!("/api/v1/citizens/{other}/balance?year=2024"), &other_token)
            .await
            .expect_problem(403, "forbidden");
        let mine = app.get("/api/v1/me/balance?year=2024", &other_token).await;
        mine.expect(200);
        assert_eq!(mine.body["citizen_id"], other.as_str());
        assert_eq!(totals(&mine.body), ("0.00", "0.00", "0.00", "41280.00", 0));
        assert_eq!(mine.body["per_employer"], json!([]));

        let own = app.get("/api/v1/me/balance?year=2024", &app.citizen(&w.citizen)).await;
        own.expect(200);
        assert_eq!(own.body["citizen_id"], w.citizen.as_str());
        assert_eq!(totals(&own.body), ("20000.00", "20000.00", "0.00", "21280.00", 1));
        // Companies and coordinators have no /me/balance.
        app.get("/api/v1/me/balance?year=2024", &w.company_token).await.expect_problem(403, "forbidden");
    }

    async fn nobody_but_an_employer_or_the_citizen_s_municipality_reads_the_balance(app) {
        let w = employee(&app, "2024-01-01").await;
        w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "20000.00").await;
        let stranger = app.register_company(&w.coordinator, &cvr(3), "Fremmed ApS").await;
        let path = format!("/api/v1/citizens/{}/balance?year=2024", w.citizen);
        app.get(&path, &app.company(&stranger)).await.expect_problem(404, "not_found");
        app.get(&path, &app.coordinator("751")).await.expect_problem(404, "not_found");
        app.get(&format!("/api/v1/citizens/{}/balance?year=2024", unknown_id()), &w.coordinator)
            .await
            .expect_problem(404, "not_found");
    }

    async fn the_balance_defaults_to_this_year_and_projects_the_day_the_cap_is_reached(app) {
        let today = today();
        let year = today.year();
        let w = employee(&app, &format!("{year}-01-01")).await;
        let day = today.to_string();
        w.pay(&app, &day, &day, &day, "42000.00").await;
        let me = app.get("/api/v1/me/balance", &app.citizen(&w.citizen)).await;
        me.expect(200);
        assert_eq!(me.body["year"], year);
        let cap_ore: i64 = 4_276_600; // this year's cap is 2025's, provisionally (see caps)
        assert_eq!(me.body["cap"], "42766.00");
        let remaining = cap_ore - 4_200_000;
        assert_eq!(me.body["remaining"], "766.00");
        // Pace = covered gross so far × 7 / days elapsed (at least a week), to the øre.
        let days = i64::from(today.ordinal()).max(7);
        let pace = (4_200_000 * 7 * 2 + days) / (2 * days);
        let projection = &me.body["projection"];
        assert_eq!(projection["weekly_pace"], format!("{}.{:02}", pace / 100, pace % 100));
        let reached = today + chrono::Duration::days((remaining * 7 + pace - 1) / pace);
        let expected = if reached.year() == year { json!(reached.to_string()) } else { Value::Null };
        assert_eq!(projection["cap_reached_on"], expected);
        let by_coordinator = app.get(&format!("/api/v1/citizens/{}/balance", w.citizen), &w.coordinator).await;
        by_coordinator.expect(200);
        assert_eq!(by_coordinator.body, me.body);
    }
}
