//! Pay runs over HTTP: confirmed hours wait for a pay run, which a coordinator (or a company, for
//! its own workers) previews and then commits with a payment date and method. What a preview
//! shows and keeps (nothing), that the commit pays what the preview showed and its totals are the
//! sums of the payouts it created, that the payment date decides the income year, that nothing is
//! paid twice (a second commit, a retry, two commits at once), that unconfirmed hours hold a run
//! up and are listed, the checks of the request, and who sees which run.
//!
//! The placements are on a [`weekly_task`] relative to today (shifts 7…2 days ago take hours).

use std::rc::Rc;

use chrono::{Datelike, NaiveDate};
use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// A confirmed report on `placement`'s shift `shift` days from today: reported by the company,
/// confirmed by the citizen.
async fn confirmed(app: &TestApp, w: &Placed, shift: i64, hours: &str) -> String {
    let report = reported(app, &w.company, &w.placement, shift, hours).await;
    confirm(app, &w.citizen, &report).await.expect(200);
    report
}

fn sum_ore(items: &[Value], key: &str) -> i64 {
    items.iter().map(|i| ore(&i[key])).sum()
}

async fn stored_run(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/pay-runs/{id}"), token).await;
    r.expect(200);
    r.body.clone()
}

both_backends! {
    async fn a_preview_lists_every_line_and_keeps_nothing_and_the_commit_pays_what_it_showed(app) {
        let jens = placed(&app, RANDERS, 1, "140.00").await;
        let mette = placed(&app, RANDERS, 2, "131.31").await;
        let jens_reports = [confirmed(&app, &jens, -7, "3.5").await, confirmed(&app, &jens, -6, "2").await];
        let mette_report = confirmed(&app, &mette, -5, "0.25").await;
        let body = pay_run_body(-10, -1, 0, "cash");

        let dry = preview_pay_run(&app, &jens.coordinator, &body).await;
        dry.expect(200);
        let run = &dry.body["run"];
        assert_eq!(pick(run, &["id", "committed", "payment_method", "payment_date", "income_year"]),
            json!([null, false, "cash", date(0), this_year()]));
        let lines = dry.body["lines"].as_array().unwrap().clone();
        assert_eq!(lines.len(), 2, "{}", dry.body);
        // One line per citizen and employment, with every amount and the split it would get.
        let of = |citizen: &str| lines.iter().find(|l| l["citizen_id"] == citizen).unwrap().clone();
        let line = of(&jens.citizen_id);
        assert_eq!(pick(&line, &["employment_id", "shift_reports", "worked_from", "worked_to", "hours"]),
            json!([jens.employment, jens_reports, date(-7), date(-6), "5.5"]));
        // 5.5 h × 140.00 = 770.00; holiday pay 96.25.
        assert_eq!(pick(&line, &["wage", "holiday_pay", "pension", "gross", "exempt", "taxable", "coverage"]),
            json!(["770.00", "96.25", "0.00", "866.25", "866.25", "0.00", "covered"]));
        assert_eq!((&line["payout_id"], &line["income_year"]), (&json!(null), &json!(this_year())));
        let line = of(&mette.citizen_id);
        assert_eq!(pick(&line, &["shift_reports", "wage", "holiday_pay", "gross"]), json!([[mette_report], "32.83", "4.10", "36.93"]));
        // The totals are the sums of the lines.
        assert_eq!(pick(run, &["lines", "shifts"]), json!([2, 3]));
        for key in ["wage", "holiday_pay", "pension", "gross"] {
            assert_eq!(ore(&run[key]), sum_ore(&lines, key), "{key}: {}", dry.body);
        }
        // Nothing was kept: no payout, no run, the hours unpaid; the read is audited.
        let r = app.get("/api/v1/me/balance", &jens.citizen).await;
        assert_eq!((&r.body["gross"], &r.body["payouts"]), (&json!("0.00"), &json!(0)));
        assert_eq!(app.get("/api/v1/pay-runs", &jens.coordinator).await.body["total"], 0);
        assert!(hours_of(&app, &jens.company, &jens.placement).await[0]["payout"].is_null());
        let log = app.get("/api/v1/audit?action=payrun.previewed", &jens.coordinator).await;
        assert_eq!(log.expect(200).body["total"], 1, "{}", log.body);

        // The commit pays exactly what the preview showed.
        let r = commit_pay_run(&app, &jens.coordinator, &body).await;
        r.expect(201);
        let committed = r.body.clone();
        let id = committed["run"]["id"].as_str().unwrap().to_owned();
        let keys = ["citizen_id", "employment_id", "shift_reports", "hours", "wage", "holiday_pay", "gross", "exempt", "taxable", "coverage", "income_year"];
        let committed_lines = committed["lines"].as_array().unwrap();
        for (a, b) in committed_lines.iter().zip(&lines) {
            assert_eq!(pick(a, &keys), pick(b, &keys));
        }
        let totals = ["lines", "shifts", "wage", "holiday_pay", "pension", "gross", "payment_method"];
        assert_eq!(pick(&committed["run"], &totals), pick(run, &totals));

        // The run's totals are the sums of the payouts it created, as stored.
        let stored = stored_run(&app, &jens.coordinator, &id).await;
        let payouts = stored["payouts"].as_array().unwrap().clone();
        assert_eq!(sorted(ids(&stored["payouts"])), sorted(field(&committed["lines"], "payout_id")));
        for key in ["wage", "holiday_pay", "pension", "gross"] {
            assert_eq!(ore(&stored["run"][key]), sum_ore(&payouts, key), "{key}: {stored}");
        }
        assert!(payouts.iter().all(|p| p["payment_date"] == date(0) && p["income_year"] == this_year()), "{stored}");
        // Each report shows the payout that paid it; the citizens' balances hold them.
        let listed = hours_of(&app, &jens.company, &jens.placement).await;
        let jens_payout = committed_lines.iter().find(|l| l["citizen_id"] == jens.citizen_id).unwrap()["payout_id"].clone();
        assert!(listed.as_array().unwrap().iter().all(|h| h["payout"]["id"] == jens_payout), "{listed}");
        let r = app.get("/api/v1/me/balance", &jens.citizen).await;
        assert_eq!((&r.body["gross"], &r.body["payouts"]), (&json!("866.25"), &json!(1)));
        let log = app.get(&format!("/api/v1/audit?target_id={id}"), &jens.coordinator).await;
        // Newest first: the commit, and the read of the stored run above.
        assert_eq!(field(&log.expect(200).body["items"], "action"), ["payrun.read", "payrun.committed"]);

        // The same run committed again pays nothing: the hours are paid.
        commit_pay_run(&app, &jens.coordinator, &body).await.expect_problem(409, "nothing_to_pay");
        preview_pay_run(&app, &jens.coordinator, &body).await.expect_problem(409, "nothing_to_pay");
        assert_eq!(app.get("/api/v1/pay-runs", &jens.coordinator).await.body["total"], 1);
        let r = app.get("/api/v1/me/balance", &mette.citizen).await;
        assert_eq!((&r.body["gross"], &r.body["payouts"]), (&json!("36.93"), &json!(1)));
    }

    async fn a_retry_with_the_same_idempotency_key_returns_the_first_run_and_pays_nothing_more(app) {
        let w = placed(&app, RANDERS, 1, "140.00").await;
        confirmed(&app, &w, -7, "3.5").await;
        let body = pay_run_body(-10, -1, 0, "bank");
        let first = app.post_with_key("/api/v1/pay-runs", &w.company, "loen-uge-48", &body).await;
        first.expect(201);
        let again = app.post_with_key("/api/v1/pay-runs", &w.company, "loen-uge-48", &body).await;
        again.expect(201);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.body, first.body);
        // The same key for another run is refused.
        let other = pay_run_body(-10, -1, 0, "cash");
        let r = app.post_with_key("/api/v1/pay-runs", &w.company, "loen-uge-48", &other).await;
        r.expect_problem(422, "idempotency_key_reused");
        let r = app.get("/api/v1/pay-runs", &w.company).await;
        assert_eq!(ids(&r.body["items"]), [first.body["run"]["id"].as_str().unwrap()]);
        assert_eq!(app.get("/api/v1/me/balance", &w.citizen).await.body["payouts"], 1);
    }

    async fn a_period_with_unconfirmed_hours_is_refused_with_those_hours_listed_and_nothing_paid(app) {
        let w = placed(&app, RANDERS, 1, "140.00").await;
        let paid = confirmed(&app, &w, -7, "3.5").await;
        let waiting = [
            reported(&app, &w.company, &w.placement, -6, "3").await,
            reported(&app, &w.coordinator, &w.placement, -5, "2").await,
        ];
        let body = pay_run_body(-10, -1, 0, "bank");
        for r in [preview_pay_run(&app, &w.coordinator, &body).await, commit_pay_run(&app, &w.company, &body).await] {
            r.expect_problem(409, "unconfirmed_hours");
            let obstacles = r.body["obstacles"].as_array().unwrap();
            assert_eq!(field(&r.body["obstacles"], "id"), waiting, "{}", r.body);
            assert_eq!(column(&r.body["obstacles"], "date"), json!([date(-6), date(-5)]));
            assert!(obstacles.iter().all(|o| o["kind"] == "shift_report"), "{}", r.body);
            assert!(obstacles[0]["message"].as_str().unwrap().contains("Borger 1"), "{}", r.body);
        }
        // Nothing was paid.
        assert_eq!(app.get("/api/v1/me/balance", &w.citizen).await.body["payouts"], 0);
        // A period without them is paid; a disputed shift neither holds a run up nor is paid.
        commit_pay_run(&app, &w.coordinator, &pay_run_body(-7, -7, 0, "bank")).await.expect(201);
        dispute(&app, &w.citizen, &waiting[0], "Jeg gik kl. 10").await.expect(200);
        confirm(&app, &w.company, &waiting[1]).await.expect(200);
        let r = commit_pay_run(&app, &w.coordinator, &body).await;
        r.expect(201);
        assert_eq!(r.body["lines"].as_array().unwrap().len(), 1, "{}", r.body);
        assert_eq!(r.body["lines"][0]["shift_reports"], json!([waiting[1]]));
        let listed = hours_of(&app, &w.coordinator, &w.placement).await;
        assert_eq!(ids(&listed), [paid, waiting[0].clone(), waiting[1].clone()]);
        let unpaid: Vec<bool> = listed.as_array().unwrap().iter().map(|h| h["payout"].is_null()).collect();
        assert_eq!(unpaid, [false, true, false]);
    }

    async fn a_december_shift_paid_in_the_new_year_is_income_of_the_year_it_is_paid_in(app) {
        let coordinator = app.coordinator(RANDERS);
        let company_id = verified_company(&app, &coordinator, 1).await;
        let company = app.company(&company_id);
        // Weekly on the weekday of last New Year's Eve, from then to within a year.
        let eve = NaiveDate::from_ymd_opt(this_year() - 1, 12, 31).unwrap();
        let weekday = eve.weekday().to_string().to_lowercase();
        let schedule = weekly(&[weekday.as_str()], "08:00", "12:00", eve, eve + chrono::Duration::days(364));
        let task = open_task(&app, &company, &with(weekly_task("Nytårsoprydning", "140.00", 1, true), json!({ "schedule": schedule }))).await;
        let valid_from = format!("{}-12-01", this_year() - 1);
        let (citizen_id, _) = app.card_holder(&coordinator, &cpr(1), "Borger 1", &valid_from).await;
        let placement = approved_accepting_excess(&app, &coordinator, &task, &citizen_id).await;
        let r = app.post(&format!("/api/v1/placements/{placement}/hours"), &company, &json!({ "shift_date": eve, "hours": "3.5" })).await;
        r.expect(201);
        let report = id(&r.body);
        confirm(&app, &app.citizen(&citizen_id), &report).await.expect(200);

        let body = json!({ "period_from": eve - chrono::Duration::days(30), "period_to": eve, "payment_date": date(0), "payment_method": "bank" });
        let dry = preview_pay_run(&app, &coordinator, &body).await;
        dry.expect(200);
        // Shown before the commit: the shift is income of the payment date's year.
        let line = &dry.body["lines"][0];
        assert_eq!(pick(line, &["worked_from", "income_year"]), json!([eve, this_year()]));
        assert!(warning_codes(line).contains(&"income_year_of_payment".to_owned()), "{}", dry.body);
        assert_eq!(dry.body["run"]["income_year"], this_year());
        let r = commit_pay_run(&app, &coordinator, &body).await;
        r.expect(201);
        assert_eq!(r.body["lines"][0]["income_year"], this_year());
        let this = balance(&app, &coordinator, &citizen_id, this_year()).await;
        assert_eq!((&this["gross"], &this["payouts"]), (&json!("551.25"), &json!(1)));
        let last = balance(&app, &coordinator, &citizen_id, this_year() - 1).await;
        assert_eq!((&last["gross"], &last["payouts"]), (&json!("0.00"), &json!(0)));
    }

    async fn a_pay_run_is_checked_field_by_field_before_anything_is_read(app) {
        let w = placed(&app, RANDERS, 1, "140.00").await;
        let cases = [
            (json!({ "payment_method": "check" }), "payment_method", "unknown_payment_method"),
            (json!({ "period_from": date(-1), "period_to": date(-2) }), "period_to", "before_period_from"),
            (json!({ "period_from": date(-200), "period_to": date(-1) }), "period_to", "period_too_long"),
            (json!({ "period_to": date(-1), "payment_date": date(-2) }), "payment_date", "before_period_end"),
            (json!({ "payment_date": date(40) }), "payment_date", "too_far_ahead"),
            (json!({ "period_from": "2018-12-01" , "period_to": "2018-12-31" }), "period_from", "before_scheme"),
        ];
        for (changes, field_name, code) in cases {
            let body = with(pay_run_body(-10, -1, 0, "bank"), changes.clone());
            for r in [preview_pay_run(&app, &w.coordinator, &body).await, commit_pay_run(&app, &w.coordinator, &body).await] {
                r.expect_problem(422, "validation");
                assert!(field_codes(&r).contains(&(field_name.to_owned(), code.to_owned())), "{changes}: {}", r.body);
            }
        }
        // Unknown fields, and dates in another form, are refused by the reader.
        let r = preview_pay_run(&app, &w.coordinator, &with(pay_run_body(-10, -1, 0, "bank"), json!({ "wage": "1" }))).await;
        r.expect_problem(422, "validation");
        assert_eq!(field_codes(&r), [("wage".to_owned(), "unknown_field".to_owned())]);
        let r = preview_pay_run(&app, &w.coordinator, &with(pay_run_body(-10, -1, 0, "bank"), json!({ "payment_date": "4/12/2026" }))).await;
        assert!(r.status == 400 || r.status == 422, "{}", r.body);
        // Nothing to pay in a period without confirmed hours.
        preview_pay_run(&app, &w.coordinator, &pay_run_body(-10, -1, 0, "bank")).await.expect_problem(409, "nothing_to_pay");
    }

    async fn each_party_runs_pay_only_for_its_own_workers_and_sees_only_its_own_runs(app) {
        let w = placed(&app, RANDERS, 1, "140.00").await;
        let neighbour = placed(&app, RANDERS, 2, "140.00").await;
        let aarhus = placed(&app, AARHUS, 3, "140.00").await;
        let own = confirmed(&app, &w, -7, "3.5").await;
        let theirs = confirmed(&app, &neighbour, -7, "3").await;
        confirmed(&app, &aarhus, -7, "2").await;
        let body = pay_run_body(-10, -1, 0, "mobilepay");

        // A company pays its own workers only, and names no other company.
        let other = with(body.clone(), json!({ "company_id": neighbour.company_id }));
        let r = commit_pay_run(&app, &w.company, &other).await;
        r.expect_problem(422, "validation");
        assert_eq!(field_codes(&r), [("company_id".to_owned(), "not_own_company".to_owned())]);
        let r = commit_pay_run(&app, &w.company, &body).await;
        r.expect(201);
        assert_eq!(r.body["lines"].as_array().unwrap().len(), 1, "{}", r.body);
        assert_eq!(r.body["lines"][0]["shift_reports"], json!([own]));
        assert_eq!(pick(&r.body["run"], &["company_id", "municipality", "created_by_role"]), json!([w.company_id, null, "company"]));
        let company_run = r.body["run"]["id"].as_str().unwrap().to_owned();
        // A coordinator for one company: an unknown one, or a malformed id, names none.
        for company_id in [unknown_id(), "not-an-id".to_owned()] {
            let r = preview_pay_run(&app, &w.coordinator, &with(body.clone(), json!({ "company_id": company_id }))).await;
            r.expect_problem(404, "not_found");
        }
        let mut only = with(body.clone(), json!({ "company_id": neighbour.company_id }));
        let r = commit_pay_run(&app, &w.coordinator, &only).await;
        r.expect(201);
        assert_eq!(r.body["lines"][0]["shift_reports"], json!([theirs]));
        let coordinator_run = r.body["run"]["id"].as_str().unwrap().to_owned();
        // Randers' coordinator pays Randers' citizens only: Aarhus' hours are not Randers' to pay.
        only["company_id"] = json!(aarhus.company_id);
        commit_pay_run(&app, &w.coordinator, &only).await.expect_problem(409, "nothing_to_pay");
        assert_eq!(app.get("/api/v1/me/balance", &aarhus.citizen).await.body["payouts"], 0);

        // Who sees which run: the coordinator the runs of the municipality's coordinators, a
        // company the runs that paid its workers only.
        assert_eq!(ids(&app.get("/api/v1/pay-runs", &w.coordinator).await.body["items"]), std::slice::from_ref(&coordinator_run));
        assert_eq!(ids(&app.get("/api/v1/pay-runs", &w.company).await.body["items"]), std::slice::from_ref(&company_run));
        assert_eq!(ids(&app.get("/api/v1/pay-runs", &neighbour.company).await.body["items"]), std::slice::from_ref(&coordinator_run));
        assert_eq!(app.get("/api/v1/pay-runs", &aarhus.coordinator).await.body["total"], 0);
        stored_run(&app, &neighbour.company, &coordinator_run).await;
        stored_run(&app, &w.company, &company_run).await;
        let hidden = [
            (&aarhus.coordinator, &coordinator_run),
            (&aarhus.company, &company_run),
            (&neighbour.company, &company_run),
            (&w.company, &coordinator_run),
            (&w.coordinator, &company_run),
        ];
        for (token, id) in hidden {
            let r = app.get(&format!("/api/v1/pay-runs/{id}"), token).await;
            r.expect_problem(404, "not_found");
        }
        for id in [unknown_id(), coordinator_run.to_uppercase()] {
            app.get(&format!("/api/v1/pay-runs/{id}"), &w.coordinator).await.expect_problem(404, "not_found");
        }
        // A citizen is paid; they do not run pay or read runs.
        preview_pay_run(&app, &w.citizen, &body).await.expect_problem(403, "forbidden");
        commit_pay_run(&app, &w.citizen, &body).await.expect_problem(403, "forbidden");
        app.get("/api/v1/pay-runs", &w.citizen).await.expect_problem(403, "forbidden");
        app.get(&format!("/api/v1/pay-runs/{company_run}"), &w.citizen).await.expect_problem(403, "forbidden");
    }
}

/// Simultaneous commits of the same run.
mod racing {
    use super::*;

    both_backends! {
        async fn three_simultaneous_commits_of_a_run_pay_each_shift_once(app) {
            let app = Rc::new(app);
            let w = placed(&app, RANDERS, 1, "140.00").await;
            for shift in [-7, -6, -5] {
                confirmed(&app, &w, shift, "3.5").await;
            }
            let body = pay_run_body(-10, -1, 0, "bank");
            let tokens = [&w.coordinator, &w.company, &w.coordinator];
            let responses = at_once(&app, tokens.map(|t| Post::new("/api/v1/pay-runs", t, &body))).await;
            let won: Vec<&Resp> = responses.iter().filter(|r| r.status == 201).collect();
            assert_eq!(won.len(), 1, "{responses:?}");
            for r in responses.iter().filter(|r| r.status != 201) {
                assert_eq!(r.status, 409, "{r:?}");
                let code = r.body["code"].as_str().unwrap();
                assert!(code == "nothing_to_pay" || code == "paid_meanwhile", "{r:?}");
            }
            let r = app.get("/api/v1/me/balance", &w.citizen).await;
            // 3 × 3.5 h × 140.00 = 1470.00, + 183.75 holiday pay.
            assert_eq!((&r.body["gross"], &r.body["payouts"]), (&json!("1653.75"), &json!(1)));
            let runs = app.get("/api/v1/pay-runs", &w.coordinator).await.body["total"].as_i64().unwrap()
                + app.get("/api/v1/pay-runs", &w.company).await.body["total"].as_i64().unwrap();
            assert_eq!(runs, 1);
            assert_eq!(won[0].body["run"]["gross"], "1653.75");
        }
    }
}
