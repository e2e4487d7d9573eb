//! Payouts over HTTP, with the real caps: a payout splits into the exempt part and the taxable
//! excess, holiday pay, back-dated payouts, reversals, and what cap changes, card decisions and
//! their corrections do to the splits already made (each change an adjustment); refused input,
//! retries with an `Idempotency-Key`, and the adjustments a company is shown.

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

async fn adjustments(app: &TestApp, token: &str, year: i32) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/adjustments?year={year}&limit=200"), token).await;
    r.expect(200);
    r.body["items"].as_array().unwrap().clone()
}

/// `(exempt, taxable, coverage)` of a payout view.
fn split(p: &Value) -> (&str, &str, &str) {
    (p["exempt"].as_str().unwrap(), p["taxable"].as_str().unwrap(), p["coverage"].as_str().unwrap())
}

/// The money fields of an adjustment and its cause.
fn change(a: &Value) -> [&str; 6] {
    ["old_exempt", "old_taxable", "new_exempt", "new_taxable", "taxable_change", "cause"]
        .map(|k| a[k].as_str().unwrap())
}

/// The frikort decision-time correction.
async fn correct_decision(app: &TestApp, w: &Employee, decided_at: &str) -> Value {
    let r = app
        .post(
            &format!("/api/v1/citizens/{}/frikort/decision-time", w.citizen),
            &w.coordinator,
            &json!({ "decided_at": decided_at, "reason": "afgørelsen blev truffet tidligere end registreret" }),
        )
        .await;
    r.expect(200);
    r.body.clone()
}

both_backends! {
    async fn a_payout_that_crosses_the_cap_splits_into_the_rest_of_the_cap_and_a_taxable_excess(app) {
        let w = employee(&app, "2024-01-01").await;
        let first = w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "40000.00").await;
        let p = &first["payout"];
        assert_eq!(p["wage"], "40000.00");
        assert_eq!(p["holiday_pay"], "0.00");
        assert_eq!(p["holiday_pay_separately"], true);
        assert_eq!(p["pension"], "0.00");
        assert_eq!(p["gross"], "40000.00");
        assert_eq!(split(p), ("40000.00", "0.00", "covered"));
        assert_eq!(p["income_year"], 2024);
        assert_eq!(p["reversed"], false);
        assert_eq!(p["employment_id"], w.employment.as_str());
        assert_eq!(p["company_id"], w.company.as_str());
        assert_eq!(p["citizen_id"], w.citizen.as_str());
        // The employment was registered today, after the work: covered, but flagged.
        assert_eq!(p["late_registration"], true);
        assert_eq!(warning_codes(&first), ["cap_nearly_reached", "late_registration"]);
        // A company sees only the cap and what is left of it.
        assert_eq!(
            first["balance"],
            json!({ "year": 2024, "cap": "41280.00", "cap_provisional": false, "remaining": "1280.00" })
        );
        assert_eq!(first["adjustments"], json!([]));

        let second = w.pay(&app, "2024-04-30", "2024-04-01", "2024-04-29", "2000.00").await;
        assert_eq!(split(&second["payout"]), ("1280.00", "720.00", "covered"));
        assert_eq!(warning_codes(&second), ["cap_crossed", "late_registration"]);
        let crossed = &second["warnings"][0]["message"];
        assert!(crossed.as_str().unwrap().contains("720.00"), "the message names the taxable part: {crossed}");
        assert_eq!(second["balance"]["remaining"], "0.00");
        assert_eq!(second["adjustments"], json!([]));

        // Once the cap is used up, everything is taxable.
        let third = w.pay(&app, "2024-05-31", "2024-05-01", "2024-05-30", "500.00").await;
        assert_eq!(split(&third["payout"]), ("0.00", "500.00", "covered"));
        assert!(warning_codes(&third).contains(&"cap_crossed".to_owned()), "{third}");

        let b = w.balance(&app, 2024).await;
        assert_eq!(b["citizen_id"], w.citizen.as_str());
        assert_eq!(b["year"], 2024);
        assert_eq!(b["cap"], "41280.00");
        assert_eq!(b["cap_provisional"], false);
        assert_eq!(totals(&b), ("42500.00", "41280.00", "1220.00", "0.00", 3));
        assert!(b.get("projection").is_none(), "no projection for a past year: {b}");
        let listed: Vec<(String, String)> = payouts_of(&app, &w.company_token, &w.employment)
            .await
            .iter()
            .map(|p| (p["exempt"].as_str().unwrap().to_owned(), p["taxable"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(listed.len(), 3);
        for expected in [("40000.00", "0.00"), ("1280.00", "720.00"), ("0.00", "500.00")] {
            assert!(listed.contains(&(expected.0.to_owned(), expected.1.to_owned())), "{listed:?}");
        }
    }

    async fn a_payout_counts_in_the_year_of_its_payment_date(app) {
        let w = employee(&app, "2024-01-01").await;
        let r = w.pay(&app, "2025-01-03", "2024-12-16", "2024-12-31", "3000.00").await;
        assert_eq!(r["payout"]["income_year"], 2025);
        assert_eq!(r["balance"]["cap"], "42766.00");
        assert_eq!(r["balance"]["remaining"], "39766.00");
        assert_eq!(totals(&w.balance(&app, 2024).await), ("0.00", "0.00", "0.00", "41280.00", 0));
        assert_eq!(totals(&w.balance(&app, 2025).await), ("3000.00", "3000.00", "0.00", "39766.00", 1));
    }

    async fn holiday_pay_defaults_to_twelve_and_a_half_percent_of_the_wage_rounded_half_away_from_zero(app) {
        let w = employee(&app, "2024-01-01").await;
        let t = &w.company_token;
        let cases = [
            (json!({ "wage": "100.01" }), "12.50", false, "112.51"),
            (json!({ "wage": "0.04" }), "0.01", false, "0.05"),
            (json!({ "wage": "1000.00" }), "125.00", false, "1125.00"),
            (json!({ "wage": "1000.00", "holiday_pay": "0.00" }), "0.00", true, "1000.00"),
            (json!({ "wage": "1000.00", "holiday_pay": "100.00", "pension": "50.00" }), "100.00", false, "1150.00"),
        ];
        for (amounts, holiday, separately, gross) in cases {
            let mut body =
                json!({ "payment_date": "2024-06-28", "worked_from": "2024-06-03", "worked_to": "2024-06-27" });
            for (k, v) in amounts.as_object().unwrap() {
                body[k] = v.clone();
            }
            let r = app.payout(t, &w.employment, &body).await;
            r.expect(201);
            let p = &r.body["payout"];
            assert_eq!(p["holiday_pay"], holiday, "{amounts}");
            assert_eq!(p["holiday_pay_separately"], separately, "{amounts}");
            assert_eq!(p["gross"], gross, "{amounts}");
            assert_eq!(split(p), (gross, "0.00", "covered"), "{amounts}");
        }
        let b = w.balance(&app, 2024).await;
        assert_eq!(totals(&b), ("3387.56", "3387.56", "0.00", "37892.44", 5));
    }

    async fn a_back_dated_payout_pushes_a_later_one_over_the_cap_and_records_a_backdated_payout_adjustment(app) {
        let w = employee(&app, "2024-01-01").await;
        let late = w.pay(&app, "2024-08-30", "2024-08-01", "2024-08-29", "40000.00").await;
        let late_id = id(&late["payout"]);
        assert_eq!(split(&late["payout"]), ("40000.00", "0.00", "covered"));

        let early = w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "2000.00").await;
        let early_id = id(&early["payout"]);
        // Paid first, so it takes its whole amount from the cap.
        assert_eq!(split(&early["payout"]), ("2000.00", "0.00", "covered"));
        assert!(warning_codes(&early).contains(&"splits_changed".to_owned()), "{early}");
        let adjusted = early["adjustments"].as_array().unwrap();
        assert_eq!(adjusted.len(), 1, "{early}");
        let a = &adjusted[0];
        assert_eq!(a["payout_id"], late_id.as_str());
        assert_eq!(a["employment_id"], w.employment.as_str());
        assert_eq!(a["company_id"], w.company.as_str());
        assert_eq!(a["citizen_id"], w.citizen.as_str());
        assert_eq!(a["year"], 2024);
        assert_eq!(change(a), ["40000.00", "0.00", "39280.00", "720.00", "720.00", "backdated_payout"]);
        assert_eq!(a["cause_ref"], early_id.as_str());

        // The company finds it in its list to correct eIndkomst; so does the coordinator.
        assert_eq!(adjustments(&app, &w.company_token, 2024).await, std::slice::from_ref(a));
        assert_eq!(adjustments(&app, &w.coordinator, 2024).await, std::slice::from_ref(a));
        assert_eq!(split(&w.payout(&app, &late_id).await), ("39280.00", "720.00", "covered"));
        assert_eq!(totals(&w.balance(&app, 2024).await), ("42000.00", "41280.00", "720.00", "0.00", 2));

        // Registered in payment order instead, the same payouts end with the same splits.
        let (other, other_number) = app.card_holder(&w.coordinator, MARIE, "Marie Jensen", "2019-01-01").await;
        let e =
            app.register_employment(&w.company_token, &employment_by_card(MARIE, &other_number, "2024-01-01")).await;
        let r =
            app.payout(&w.company_token, &e, &payout_body("2024-03-28", "2024-03-01", "2024-03-27", "2000.00")).await;
        assert_eq!(split(&r.body["payout"]), ("2000.00", "0.00", "covered"));
        let r =
            app.payout(&w.company_token, &e, &payout_body("2024-08-30", "2024-08-01", "2024-08-29", "40000.00")).await;
        assert_eq!(split(&r.body["payout"]), ("39280.00", "720.00", "covered"));
        assert_eq!(r.body["adjustments"], json!([]));
        let b = app.get(&format!("/api/v1/citizens/{other}/balance?year=2024"), &w.coordinator).await;
        assert_eq!(totals(&b.body), ("42000.00", "41280.00", "720.00", "0.00", 2));
    }

    async fn the_stored_employer_totals_equal_those_recomputed_after_back_dating_reversals_cap_changes_and_deactivations(app) {
        let w = employee(&app, "2024-01-01").await;
        let (b_company, b_token, b_employment) = w.second_employer(&app, "2024-01-01").await;
        let pay_b = |paid: &'static str, from: &'static str, to: &'static str, wage: &'static str| {
            let (app, b_token, b_employment) = (&app, &b_token, &b_employment);
            async move {
                let r = app.payout(b_token, b_employment, &payout_body(paid, from, to, wage)).await;
                r.expect(201);
                id(&r.body["payout"])
            }
        };
        let first = id(&w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "20000.00").await["payout"]);
        let b_first = pay_b("2024-04-30", "2024-04-01", "2024-04-29", "15000.00").await;
        w.pay(&app, "2024-05-31", "2024-05-01", "2024-05-30", "10000.00").await;
        assert_employer_totals_are_recomputable(&app, &w.citizen, 2024, 2);

        // Back-dated: paid before the others, so the year is re-split.
        pay_b("2024-02-15", "2024-02-01", "2024-02-14", "5000.00").await;
        assert_employer_totals_are_recomputable(&app, &w.citizen, 2024, 2);

        let reason = json!({ "reason": "forkert beløb" });
        app.post(&format!("/api/v1/payouts/{first}/reversal"), &w.company_token, &reason).await.expect(201);
        assert_employer_totals_are_recomputable(&app, &w.citizen, 2024, 2);

        change_cap(&app, 2024, json!({ "amount": "30000" })).await.expect(200);
        let after_cap = assert_employer_totals_are_recomputable(&app, &w.citizen, 2024, 2);
        assert_eq!(after_cap.iter().map(|s| s.2).sum::<i64>(), 3_000_000, "the new cap is used up: {after_cap:?}");

        // A deactivation dated back uncovers the work after it; later work is not covered either.
        deactivate(&app, &w.coordinator, &w.citizen, "betingelserne er ikke længere opfyldt").await;
        correct_decision(&app, &w, "2024-05-01T10:00:00Z").await;
        let uncovered = assert_employer_totals_are_recomputable(&app, &w.citizen, 2024, 2);
        assert!(uncovered.iter().any(|s| s.4 < s.1), "some gross is no longer covered: {uncovered:?}");
        w.pay(&app, "2024-06-28", "2024-06-03", "2024-06-27", "1000.00").await;
        assert_employer_totals_are_recomputable(&app, &w.citizen, 2024, 2);

        // An employer whose payouts are all reversed has no share left.
        for payout in [b_first] {
            app.post(&format!("/api/v1/payouts/{payout}/reversal"), &b_token, &reason).await.expect(201);
        }
        let b_left = assert_employer_totals_are_recomputable(&app, &w.citizen, 2024, 2);
        assert_eq!(b_left.iter().find(|s| s.0 == b_company).map(|s| s.5), Some(1), "{b_left:?}");

        // The balance shows the stored shares.
        let b = w.balance(&app, 2024).await;
        let shown: Vec<(String, i64, i64, i64)> = b["per_employer"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["company_id"].as_str().unwrap().to_owned(), ore(&e["gross"]), ore(&e["exempt"]), ore(&e["taxable"])))
            .collect();
        assert_eq!(shown, b_left.iter().map(|s| (s.0.clone(), s.1, s.2, s.3)).collect::<Vec<_>>());
    }

    async fn reversing_a_payout_frees_its_headroom_for_later_payouts_and_the_reversed_one_stays_listed(app) {
        let w = employee(&app, "2024-01-01").await;
        let first = id(&w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "40000.00").await["payout"]);
        let second = id(&w.pay(&app, "2024-04-30", "2024-04-01", "2024-04-29", "2000.00").await["payout"]);
        let path = format!("/api/v1/payouts/{first}/reversal");
        let reason = json!({ "reason": "forkert beløb" });

        // Nobody else can reverse it.
        let (_, other_token, _) = w.second_employer(&app, "2024-01-01").await;
        app.post(&path, &other_token, &reason).await.expect_problem(404, "not_found");
        app.post(&path, &app.citizen(&w.citizen), &reason).await.expect_problem(403, "forbidden");
        app.post(&format!("/api/v1/payouts/{}/reversal", unknown_id()), &w.company_token, &reason)
            .await
            .expect_problem(404, "not_found");

        let r = app.post_with_key(&path, &w.company_token, "tilbagefoersel-1", &reason).await;
        r.expect(201);
        let p = &r.body["payout"];
        assert_eq!(p["id"], first.as_str());
        assert_eq!(p["reversed"], true);
        assert_eq!(split(p), ("0.00", "0.00", "reversed"));
        assert_eq!(p["gross"], "40000.00");
        assert_eq!(r.body["balance"]["remaining"], "39280.00");
        // Both splits changed: the reversed payout's own (to nothing) and the next one's.
        let mut adjusted = r.body["adjustments"].as_array().unwrap().clone();
        assert_eq!(adjusted.len(), 2, "{}", r.body);
        adjusted.sort_by_key(|a| a["payout_id"] != first.as_str());
        assert_eq!(adjusted[0]["payout_id"], first.as_str());
        assert_eq!(change(&adjusted[0]), ["40000.00", "0.00", "0.00", "0.00", "0.00", "reversal"]);
        assert_eq!(adjusted[1]["payout_id"], second.as_str());
        assert_eq!(change(&adjusted[1]), ["1280.00", "720.00", "2000.00", "0.00", "-720.00", "reversal"]);
        for a in &adjusted {
            assert_eq!(a["cause_ref"], first.as_str());
        }

        // A retry with the key is the same answer; without one it is a conflict.
        let retry = app.post_with_key(&path, &w.company_token, "tilbagefoersel-1", &reason).await;
        retry.expect(201);
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(retry.body, r.body);
        app.post(&path, &w.company_token, &reason).await.expect_problem(409, "payout_already_reversed");
        app.post(&path, &w.coordinator, &reason).await.expect_problem(409, "payout_already_reversed");

        let reversed = w.payout(&app, &first).await;
        assert_eq!(reversed["reversed"], true);
        assert_eq!(split(&reversed), ("0.00", "0.00", "reversed"));
        assert_eq!(reversed["gross"], "40000.00");
        assert_eq!(split(&w.payout(&app, &second).await), ("2000.00", "0.00", "covered"));
        assert_eq!(totals(&w.balance(&app, 2024).await), ("2000.00", "2000.00", "0.00", "39280.00", 1));
        assert_eq!(adjustments(&app, &w.company_token, 2024).await.len(), 2);
    }

    async fn setting_a_provisional_year_s_cap_re_splits_it_with_cap_changed_adjustments_and_makes_it_final(app) {
        let year = this_year();
        let w = employee(&app, &format!("{year}-01-01")).await;
        let cap = app.get(&format!("/api/v1/caps/{year}"), &w.coordinator).await;
        cap.expect(200);
        assert_eq!(cap.body["provisional"], true, "this test needs {year} to have no cap set yet: {}", cap.body);
        let provisional_amount = cap.body["amount"].as_str().unwrap().to_owned();
        assert_eq!(provisional_amount, "42766.00", "2025's amount is used until {year}'s is set");

        let first =
            w.pay(&app, &format!("{year}-01-10"), &format!("{year}-01-02"), &format!("{year}-01-09"), "40000.00").await;
        assert!(warning_codes(&first).contains(&"provisional_cap".to_owned()), "{first}");
        assert_eq!(first["balance"]["cap_provisional"], true);
        let second =
            w.pay(&app, &format!("{year}-01-20"), &format!("{year}-01-12"), &format!("{year}-01-19"), "2000.00").await;
        let second_id = id(&second["payout"]);
        assert_eq!(split(&second["payout"]), ("2000.00", "0.00", "covered"));
        let b = w.balance(&app, year).await;
        assert_eq!(b["cap_provisional"], true);
        assert_eq!(totals(&b), ("42000.00", "42000.00", "0.00", "766.00", 2));

        let r = change_cap(&app, year, json!({ "amount": "41000" })).await;
        r.expect(200);
        assert_eq!(r.body["cap"]["amount"], "41000.00");
        assert_eq!(r.body["cap"]["provisional"], false);
        assert_eq!(r.body["impact"]["payouts"], 1);

        let adjusted = adjustments(&app, &w.company_token, year).await;
        assert_eq!(adjusted.len(), 1, "{adjusted:?}");
        assert_eq!(adjusted[0]["payout_id"], second_id.as_str());
        assert_eq!(change(&adjusted[0]), ["2000.00", "0.00", "1000.00", "1000.00", "1000.00", "cap_changed"]);
        assert_eq!(adjusted[0]["cause_ref"], year.to_string());
        assert_eq!(split(&w.payout(&app, &second_id).await), ("1000.00", "1000.00", "covered"));
        let b = w.balance(&app, year).await;
        assert_eq!(b["cap"], "41000.00");
        assert_eq!(b["cap_provisional"], false);
        assert_eq!(totals(&b), ("42000.00", "41000.00", "1000.00", "0.00", 2));
        // Payouts from now on no longer warn of a provisional cap.
        let third =
            w.pay(&app, &format!("{year}-01-25"), &format!("{year}-01-21"), &format!("{year}-01-24"), "100.00").await;
        assert!(!warning_codes(&third).contains(&"provisional_cap".to_owned()), "{third}");
        assert_eq!(third["balance"]["cap_provisional"], false);
    }

    async fn changing_a_cap_re_splits_the_later_years_that_borrow_it_provisionally(app) {
        let year = this_year();
        let previous = year - 1;
        let w = employee(&app, &format!("{previous}-01-01")).await;
        let cap = app.get(&format!("/api/v1/caps/{year}"), &w.coordinator).await;
        assert_eq!(cap.body["provisional"], true, "this test needs {year} to have no cap set yet: {}", cap.body);
        assert_eq!(cap.body["source_year"], previous, "{}", cap.body);
        w.pay(&app, &format!("{year}-01-10"), &format!("{year}-01-02"), &format!("{year}-01-09"), "40000.00").await;
        let second = id(&w
            .pay(&app, &format!("{year}-01-20"), &format!("{year}-01-12"), &format!("{year}-01-19"), "2500.00")
            .await["payout"]);
        let in_previous = id(&w
            .pay(
                &app,
                &format!("{previous}-06-28"),
                &format!("{previous}-06-02"),
                &format!("{previous}-06-27"),
                "1000.00",
            )
            .await["payout"]);

        change_cap(&app, previous, json!({ "amount": "42000" })).await.expect(200);

        let b = w.balance(&app, year).await;
        assert_eq!(b["cap"], "42000.00");
        assert_eq!(b["cap_provisional"], true);
        assert_eq!(totals(&b), ("42500.00", "42000.00", "500.00", "0.00", 2));
        let adjusted = adjustments(&app, &w.coordinator, year).await;
        assert_eq!(adjusted.len(), 1, "{adjusted:?}");
        assert_eq!(adjusted[0]["payout_id"], second.as_str());
        assert_eq!(change(&adjusted[0]), ["2500.00", "0.00", "2000.00", "500.00", "500.00", "cap_changed"]);
        assert_eq!(adjusted[0]["cause_ref"], previous.to_string());
        // The year whose cap changed is re-split too (nothing changes for it here).
        assert_eq!(split(&w.payout(&app, &in_previous).await), ("1000.00", "0.00", "covered"));
        assert_eq!(w.balance(&app, previous).await["cap"], "42000.00");
    }

    async fn work_from_the_day_of_a_deactivation_on_is_not_covered_and_fully_taxable(app) {
        let w = employee(&app, "2024-01-01").await;
        deactivate(&app, &w.coordinator, &w.citizen, "betingelserne er ikke længere opfyldt").await;
        // Work on the day of the decision (today) is not covered: hours cannot be told apart.
        let day = today().to_string();
        let r = w.pay(&app, &day, &day, &day, "800.00").await;
        assert_eq!(split(&r["payout"]), ("0.00", "800.00", "card_inactive"));
        assert!(warning_codes(&r).contains(&"not_covered".to_owned()), "{r}");
        assert!(!warning_codes(&r).contains(&"cap_crossed".to_owned()), "{r}");

        // Put the decision in the middle of 2024 (12:00 in Copenhagen on 1 July).
        let corrected = correct_decision(&app, &w, "2024-07-01T10:00:00Z").await;
        assert_eq!(corrected["adjustments"], json!([]));
        let before = w.pay(&app, "2024-07-01", "2024-06-24", "2024-06-30", "1000.00").await;
        assert_eq!(split(&before["payout"]), ("1000.00", "0.00", "covered"));
        let on_the_day = w.pay(&app, "2024-07-02", "2024-07-01", "2024-07-01", "300.00").await;
        assert_eq!(split(&on_the_day["payout"]), ("0.00", "300.00", "card_inactive"));
        let after = w.pay(&app, "2024-07-15", "2024-07-08", "2024-07-12", "1500.00").await;
        assert_eq!(split(&after["payout"]), ("0.00", "1500.00", "card_inactive"));
        assert!(warning_codes(&after).contains(&"not_covered".to_owned()), "{after}");
        assert_eq!(after["balance"]["remaining"], "40280.00");
        assert_eq!(totals(&w.balance(&app, 2024).await), ("2800.00", "1000.00", "1800.00", "40280.00", 3));
    }

    async fn a_work_period_straddling_a_deactivation_is_refused_and_nothing_is_written(app) {
        let w = employee(&app, "2024-01-01").await;
        deactivate(&app, &w.coordinator, &w.citizen, "betingelserne er ikke længere opfyldt").await;
        correct_decision(&app, &w, "2024-07-01T10:00:00Z").await;
        w.pay(&app, "2024-06-10", "2024-06-03", "2024-06-07", "1000.00").await;
        let before = w.balance(&app, 2024).await;

        for (from, to) in [("2024-06-28", "2024-07-03"), ("2024-06-30", "2024-07-01")] {
            let r = app.payout(&w.company_token, &w.employment, &payout_body("2024-07-05", from, to, "2000.00")).await;
            r.expect_problem(422, "work_period_straddles_card_change");
        }
        assert_eq!(w.balance(&app, 2024).await, before);
        assert_eq!(totals(&before), ("1000.00", "1000.00", "0.00", "40280.00", 1));
        assert_eq!(payouts_of(&app, &w.company_token, &w.employment).await.len(), 1);
        assert!(adjustments(&app, &w.coordinator, 2024).await.is_empty());
        // The same work registered as two payouts, split at the decision, is fine.
        let covered = w.pay(&app, "2024-07-05", "2024-06-28", "2024-06-30", "1000.00").await;
        assert_eq!(split(&covered["payout"]), ("1000.00", "0.00", "covered"));
        let uncovered = w.pay(&app, "2024-07-05", "2024-07-01", "2024-07-03", "1000.00").await;
        assert_eq!(split(&uncovered["payout"]), ("0.00", "1000.00", "card_inactive"));
    }

    async fn correcting_a_deactivation_to_an_earlier_time_uncovers_paid_work_with_card_changed_adjustments(app) {
        let w = employee(&app, "2024-01-01").await;
        deactivate(&app, &w.coordinator, &w.citizen, "betingelserne er ikke længere opfyldt").await;
        correct_decision(&app, &w, "2024-09-01T10:00:00Z").await;
        // Paid first, for work in June; then paid later for work in May.
        let june = id(&w.pay(&app, "2024-06-10", "2024-06-03", "2024-06-07", "2000.00").await["payout"]);
        let may = w.pay(&app, "2024-08-30", "2024-05-06", "2024-05-10", "40000.00").await;
        assert_eq!(split(&may["payout"]), ("39280.00", "720.00", "covered"));
        let may = id(&may["payout"]);

        // The card was in fact deactivated on 1 June: the June work was never covered.
        let r = correct_decision(&app, &w, "2024-06-01T10:00:00Z").await;
        let history = r["card"]["history"].as_array().unwrap();
        let deactivation = history.iter().find(|e| e["kind"] == "deactivated").unwrap();
        assert_eq!(deactivation["effective_at"], "2024-06-01T10:00:00Z");
        let mut adjusted = r["adjustments"].as_array().unwrap().clone();
        adjusted.sort_by_key(|a| a["payout_id"] != june.as_str());
        assert_eq!(adjusted.len(), 2, "{r}");
        assert_eq!(adjusted[0]["payout_id"], june.as_str());
        assert_eq!(change(&adjusted[0]), ["2000.00", "0.00", "0.00", "2000.00", "2000.00", "card_changed"]);
        assert_eq!(adjusted[1]["payout_id"], may.as_str());
        assert_eq!(change(&adjusted[1]), ["39280.00", "720.00", "40000.00", "0.00", "-720.00", "card_changed"]);
        for a in &adjusted {
            assert!(a["cause_ref"].is_string(), "{a}");
        }

        assert_eq!(split(&w.payout(&app, &june).await), ("0.00", "2000.00", "card_inactive"));
        assert_eq!(split(&w.payout(&app, &may).await), ("40000.00", "0.00", "covered"));
        assert_eq!(totals(&w.balance(&app, 2024).await), ("42000.00", "40000.00", "2000.00", "1280.00", 2));
        assert_eq!(adjustments(&app, &w.company_token, 2024).await.len(), 2);
    }

    async fn a_back_dated_deactivation_re_splits_the_payouts_it_uncovers(app) {
        use smaajob_persistence::repo::frikort as card_repo;
        let w = employee(&app, "2024-01-01").await;
        // A card issued long ago: its last decision (the issue) lies in the past.
        {
            let mut conn = app.pool.get().unwrap();
            let mut card = card_repo::find_by_citizen(&mut conn, &w.citizen).unwrap().unwrap();
            card.status_changed_at = NaiveDate::from_ymd_opt(2019, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
            card_repo::update(&mut conn, &card).unwrap();
        }
        let july = id(&w.pay(&app, "2024-07-15", "2024-07-08", "2024-07-12", "1500.00").await["payout"]);
        let june = id(&w.pay(&app, "2024-06-10", "2024-06-03", "2024-06-07", "1000.00").await["payout"]);

        let r = app
            .post(
                &format!("/api/v1/citizens/{}/frikort/deactivate", w.citizen),
                &w.coordinator,
                &json!({ "decided_at": "2024-07-01T10:00:00Z", "reason": "flyttet til udlandet" }),
            )
            .await;
        r.expect(200);
        assert_eq!(r.body["status"], "deactivated");

        assert_eq!(split(&w.payout(&app, &july).await), ("0.00", "1500.00", "card_inactive"));
        assert_eq!(split(&w.payout(&app, &june).await), ("1000.00", "0.00", "covered"));
        let adjusted = adjustments(&app, &w.company_token, 2024).await;
        assert_eq!(adjusted.len(), 1, "{adjusted:?}");
        assert_eq!(adjusted[0]["payout_id"], july.as_str());
        assert_eq!(change(&adjusted[0]), ["1500.00", "0.00", "0.00", "1500.00", "1500.00", "card_changed"]);
        assert_eq!(totals(&w.balance(&app, 2024).await), ("2500.00", "1000.00", "1500.00", "40280.00", 2));
    }

    async fn a_reactivation_covers_work_from_the_day_after_the_decision_and_its_time_can_be_corrected(app) {
        let w = employee(&app, "2024-01-01").await;
        deactivate(&app, &w.coordinator, &w.citizen, "betingelserne er ikke længere opfyldt").await;
        correct_decision(&app, &w, "2024-03-01T10:00:00Z").await;
        let path = format!("/api/v1/citizens/{}/frikort/reactivate", w.citizen);
        let body = json!({ "attestations": attestations(true), "reason": "betingelserne er opfyldt igen" });
        app.post(&path, &w.coordinator, &body).await.expect(200);
        // Reactivated now: work in May is not covered yet.
        let may = id(&w.pay(&app, "2024-05-10", "2024-05-02", "2024-05-08", "1000.00").await["payout"]);
        assert_eq!(split(&w.payout(&app, &may).await), ("0.00", "1000.00", "card_inactive"));

        // The reactivation was in fact decided on 1 May at 12:00 in Copenhagen.
        let r = correct_decision(&app, &w, "2024-05-01T10:00:00Z").await;
        assert_eq!(r["card"]["status"], "active");
        let adjusted = r["adjustments"].as_array().unwrap();
        assert_eq!(adjusted.len(), 1, "{r}");
        assert_eq!(adjusted[0]["payout_id"], may.as_str());
        assert_eq!(change(&adjusted[0]), ["0.00", "1000.00", "1000.00", "0.00", "-1000.00", "card_changed"]);
        // The day of the decision itself is not covered; the days after it are.
        let on_the_day = w.pay(&app, "2024-05-03", "2024-05-01", "2024-05-01", "200.00").await;
        assert_eq!(split(&on_the_day["payout"]), ("0.00", "200.00", "card_inactive"));
        let in_march = w.pay(&app, "2024-03-20", "2024-03-04", "2024-03-15", "300.00").await;
        assert_eq!(split(&in_march["payout"]), ("0.00", "300.00", "card_inactive"));
        app.payout(&w.company_token, &w.employment, &payout_body("2024-05-03", "2024-04-29", "2024-05-02", "400.00"))
            .await
            .expect_problem(422, "work_period_straddles_card_change");
        assert_eq!(totals(&w.balance(&app, 2024).await), ("1500.00", "1000.00", "500.00", "40280.00", 3));
    }

    async fn a_payout_for_work_outside_the_employment_is_not_covered(app) {
        let w = employee(&app, "2024-05-01").await;
        let r = w.pay(&app, "2024-05-10", "2024-04-29", "2024-05-03", "1000.00").await;
        assert_eq!(split(&r["payout"]), ("0.00", "1000.00", "outside_employment"));
        assert!(warning_codes(&r).contains(&"not_covered".to_owned()), "{r}");
        assert_eq!(totals(&w.balance(&app, 2024).await), ("1000.00", "0.00", "1000.00", "41280.00", 1));
    }

    async fn refused_payouts_get_a_problem_and_write_nothing(app) {
        let w = employee(&app, "2024-01-01").await;
        let (_, other_token, other_employment) = w.second_employer(&app, "2024-01-01").await;
        let ended =
            app.register_employment(&w.company_token, &employment_by_card(w.cpr, &w.number, "2024-01-01")).await;
        app.post(&format!("/api/v1/employments/{ended}/end"), &w.company_token, &json!({ "end_date": "2024-02-29" }))
            .await
            .expect(200);
        let ok = payout_body("2024-03-28", "2024-03-01", "2024-03-27", "1000.00");
        let with = |k: &str, v: &str| {
            let mut b = ok.clone();
            b[k] = json!(v);
            b
        };

        let invalid = [
            (with("wage", "-100.00"), "wage", "money_not_positive"),
            (with("wage", "0.00"), "wage", "money_not_positive"),
            (with("wage", "0"), "wage", "money_not_positive"),
            (with("wage", "12.345"), "wage", "money_too_precise"),
            (with("wage", "1e5"), "wage", "money_format"),
            (with("wage", "2000000.00"), "wage", "too_large"),
            (with("holiday_pay", "-1.00"), "holiday_pay", "money_negative"),
            (with("pension", "1.001"), "pension", "money_too_precise"),
            (with("worked_to", "2024-02-28"), "worked_to", "before_worked_from"),
            (with("payment_date", "2024-02-29"), "payment_date", "before_work"),
            (with("worked_from", "2018-12-31"), "worked_from", "before_scheme"),
        ];
        for (body, field, code) in &invalid {
            let r = app.payout(&w.company_token, &w.employment, body).await;
            r.expect_problem(422, "validation");
            let errors: Vec<(&str, &str)> = r.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
                .collect();
            assert_eq!(errors, [(*field, *code)], "{body}: {}", r.body);
        }
        // Payouts are registered when paid: at most 31 days ahead.
        let ahead = (today() + chrono::Duration::days(40)).to_string();
        let r = app.payout(&w.company_token, &w.employment, &payout_body(&ahead, &ahead, &ahead, "1000.00")).await;
        r.expect_problem(422, "validation");
        assert_eq!(r.error_fields(), ["payment_date"], "{}", r.body);
        assert_eq!(r.body["errors"][0]["code"], "too_far_ahead");
        // Amounts are strings, never JSON numbers.
        let mut number = ok.clone();
        number["wage"] = json!(1000);
        let r = app.payout(&w.company_token, &w.employment, &number).await;
        assert!(r.status == 400 || r.status == 422, "a number wage is refused: {} {}", r.status, r.body);

        app.payout(&w.company_token, &unknown_id(), &ok).await.expect_problem(404, "not_found");
        app.payout(&other_token, &w.employment, &ok).await.expect_problem(404, "not_found");
        app.payout(&w.company_token, &other_employment, &ok).await.expect_problem(404, "not_found");
        app.payout(&w.company_token, &ended, &ok).await.expect_problem(409, "employment_ended");
        app.payout(&app.citizen(&w.citizen), &w.employment, &ok).await.expect_problem(403, "forbidden");

        let b = w.balance(&app, 2024).await;
        assert_eq!(totals(&b), ("0.00", "0.00", "0.00", "41280.00", 0));
        for (token, employment) in
            [(&w.company_token, &w.employment), (&w.company_token, &ended), (&other_token, &other_employment)]
        {
            assert!(payouts_of(&app, token, employment).await.is_empty());
        }
        // And the valid payout goes through afterwards.
        w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "1000.00").await;
    }

    async fn a_retried_payout_with_the_same_idempotency_key_is_registered_and_counted_once(app) {
        let w = employee(&app, "2024-01-01").await;
        let path = format!("/api/v1/employments/{}/payouts", w.employment);
        let body = payout_body("2024-03-28", "2024-03-01", "2024-03-27", "1000.00");

        let first = app.post_with_key(&path, &w.company_token, "loen-marts", &body).await;
        first.expect(201);
        assert_eq!(first.header("idempotent-replayed"), None);
        let retry = app.post_with_key(&path, &w.company_token, "loen-marts", &body).await;
        retry.expect(201);
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(retry.body, first.body);
        let payout = id(&first.body["payout"]);
        assert_eq!(totals(&w.balance(&app, 2024).await), ("1000.00", "1000.00", "0.00", "40280.00", 1));

        let mut changed = body.clone();
        changed["wage"] = json!("1001.00");
        app.post_with_key(&path, &w.company_token, "loen-marts", &changed)
            .await
            .expect_problem(422, "idempotency_key_reused");
        assert_eq!(payouts_of(&app, &w.company_token, &w.employment).await.len(), 1);

        // The key belongs to its caller: another company, or a coordinator sending the very same
        // request, is a new request.
        let (_, other_token, other_employment) = w.second_employer(&app, "2024-01-01").await;
        let other = app
            .post_with_key(
                &format!("/api/v1/employments/{other_employment}/payouts"),
                &other_token,
                "loen-marts",
                &body,
            )
            .await;
        other.expect(201);
        assert_eq!(other.header("idempotent-replayed"), None);
        assert_ne!(id(&other.body["payout"]), payout);
        let by_coordinator = app.post_with_key(&path, &w.coordinator, "loen-marts", &body).await;
        by_coordinator.expect(201);
        assert_eq!(by_coordinator.header("idempotent-replayed"), None);
        assert_ne!(id(&by_coordinator.body["payout"]), payout);
        assert_eq!(totals(&w.balance(&app, 2024).await), ("3000.00", "3000.00", "0.00", "38280.00", 3));
    }

    async fn a_company_s_receipts_show_only_adjustments_of_its_own_payouts(app) {
        let w = employee(&app, "2024-01-01").await;
        let (b_company, b_token, b_employment) = w.second_employer(&app, "2024-01-01").await;
        let a_payout = id(&w.pay(&app, "2024-08-30", "2024-08-01", "2024-08-29", "40000.00").await["payout"]);

        // B's back-dated payout moves 720.00 of A's payout above the cap.
        let r = app
            .payout(&b_token, &b_employment, &payout_body("2024-03-28", "2024-03-01", "2024-03-27", "2000.00"))
            .await;
        r.expect(201);
        let b_payout = id(&r.body["payout"]);
        assert_eq!(r.body["adjustments"], json!([]), "B must not see A's payout or its amounts: {}", r.body);
        assert!(!warning_codes(&r.body).contains(&"splits_changed".to_owned()), "B has nothing to correct: {}", r.body);
        // A finds it in its own list; B's list is empty.
        let a_list = adjustments(&app, &w.company_token, 2024).await;
        assert_eq!(a_list.len(), 1);
        assert_eq!(a_list[0]["payout_id"], a_payout.as_str());
        assert_eq!(change(&a_list[0]), ["40000.00", "0.00", "39280.00", "720.00", "720.00", "backdated_payout"]);
        assert!(adjustments(&app, &b_token, 2024).await.is_empty());

        // B reverses its payout: A's split changes back, and B sees only its own payout's change.
        let r = app.post(&format!("/api/v1/payouts/{b_payout}/reversal"), &b_token, &json!({ "reason": "fejl" })).await;
        r.expect(201);
        let shown = r.body["adjustments"].as_array().unwrap();
        assert!(shown.iter().all(|a| a["company_id"] == b_company.as_str()), "B must not see A's payout: {}", r.body);
        assert_eq!(shown.len(), 1, "{}", r.body);
        assert_eq!(change(&shown[0]), ["2000.00", "0.00", "0.00", "0.00", "0.00", "reversal"]);
        let a_list = adjustments(&app, &w.company_token, 2024).await;
        assert_eq!(a_list.len(), 2);
        assert!(
            a_list.iter().any(|a| change(a) == ["39280.00", "720.00", "40000.00", "0.00", "-720.00", "reversal"]),
            "{a_list:?}"
        );
        // The coordinator sees all of them.
        assert_eq!(adjustments(&app, &w.coordinator, 2024).await.len(), 3);
    }

    async fn the_payouts_of_an_employment_come_one_page_at_a_time_newest_first(app) {
        let w = employee(&app, "2024-01-01").await;
        for day in ["2024-02-01", "2024-03-01", "2024-04-01"] {
            w.pay(&app, day, "2024-01-02", "2024-01-31", "100.00").await;
        }
        let path = format!("/api/v1/employments/{}/payouts", w.employment);
        let first = app.get(&format!("{path}?limit=2"), &w.company_token).await;
        first.expect(200);
        assert_eq!(pick(&first.body, &["total", "limit", "offset"]), json!([3, 2, 0]));
        assert_eq!(field(&first.body["items"], "payment_date"), ["2024-04-01", "2024-03-01"]);
        let rest = app.get(&format!("{path}?limit=2&offset=2"), &w.company_token).await;
        assert_eq!(pick(&rest.body, &["total", "limit", "offset"]), json!([3, 2, 2]));
        assert_eq!(field(&rest.body["items"], "payment_date"), ["2024-02-01"]);
        let all = app.get(&path, &w.coordinator).await;
        assert_eq!(pick(&all.body, &["total", "limit", "offset"]), json!([3, 50, 0]));
        expect_field_error(&app.get(&format!("{path}?limit=0"), &w.coordinator).await, "limit", "out_of_range");
    }
}
