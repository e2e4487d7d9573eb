//! Hours over HTTP: the company (or a coordinator) reports the hours of a past shift of an
//! approved placement, and the other side confirms them, after which a pay run pays them, or
//! disputes them, after which the shift is reported again with the settled hours. Who may answer,
//! what confirmed hours pay and how that splits against the frikort amount, and simultaneous
//! answers and reports. Pay runs themselves are tested in `pay_runs`.
//!
//! The placements are on a [`weekly_task`], relative to today (Europe/Copenhagen): its past shifts
//! (7…2 days ago) take hours, and the weekday of [`OFF`] has none.

use std::rc::Rc;

use chrono::TimeZone;
use serde_json::json;
use smaajob_api::auth::{Claims, Role};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

both_backends! {
    async fn hours_are_reported_once_for_past_shifts_of_an_approved_placement_within_the_shift_length(app) {
        let w = placed(&app, RANDERS, 1, "140.00").await;
        // Not a day of the schedule: the weekday without shifts, and a day before the pattern.
        for shift in [OFF, -25] {
            let r = report(&app, &w.company, &w.placement, shift, "3").await;
            r.expect_problem(422, "validation");
            assert_eq!(field_codes(&r), [("shift_date".to_owned(), "not_a_shift".to_owned())], "{}", r.body);
        }
        // Not in the future.
        let r = report(&app, &w.company, &w.placement, 2, "3").await;
        r.expect_problem(422, "validation");
        assert_eq!(field_codes(&r), [("shift_date".to_owned(), "in_future".to_owned())], "{}", r.body);
        // At most the shift's length (08:00–12:00), though more than the 3.5 paid hours is fine.
        let r = report(&app, &w.company, &w.placement, -7, "4.25").await;
        r.expect_problem(422, "validation");
        assert_eq!(field_codes(&r), [("hours".to_owned(), "hours_exceed_shift".to_owned())], "{}", r.body);
        // Hours are decimal, positive, in whole minutes; every field problem is told at once.
        let bad = [("3,5", "hours_format"), ("0", "hours_not_positive"), ("0.01", "hours_not_whole_minutes")];
        for (hours, code) in bad {
            let r = report(&app, &w.company, &w.placement, 2, hours).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["hours", "shift_date"], "{hours}: {}", r.body);
            assert!(field_codes(&r).contains(&("hours".to_owned(), code.to_owned())), "{hours}: {}", r.body);
        }
        // The citizen confirms hours; they do not report them.
        report(&app, &w.citizen, &w.placement, -7, "3").await.expect_problem(403, "forbidden");

        let first = reported(&app, &w.company, &w.placement, -7, "4").await;
        report(&app, &w.company, &w.placement, -7, "2").await.expect_problem(409, "hours_already_reported");
        // Nor by the coordinator for the company.
        report(&app, &w.coordinator, &w.placement, -7, "2").await.expect_problem(409, "hours_already_reported");
        let listed = hours_of(&app, &w.company, &w.placement).await;
        assert_eq!(ids(&listed), [first]);
        assert_eq!((&listed[0]["hours"], &listed[0]["reported_by_role"]), (&json!("4"), &json!("company")));
        assert!(listed[0]["payout"].is_null());

        // Only approved placements take hours: an accepted one does not yet.
        let (other, _) = app.card_holder(&w.coordinator, &cpr(2), "Mette Jensen", &date(-35)).await;
        let task = open_task(&app, &w.company, &weekly_task("Lagerhjælp", "140.00", 1, true)).await;
        let accepted = offer(&app, &w.coordinator, &task, &other).await;
        // The company does not even see a placement before it is approved; the coordinator is told why.
        report(&app, &w.company, &accepted, -7, "3").await.expect_problem(404, "not_found");
        report(&app, &w.coordinator, &accepted, -7, "3").await.expect_problem(409, "placement_not_approved");
        accept(&app, &app.citizen(&other), &accepted).await;
        report(&app, &w.company, &accepted, -7, "3").await.expect_problem(404, "not_found");
        report(&app, &w.coordinator, &accepted, -7, "3").await.expect_problem(409, "placement_not_approved");
    }

    async fn a_report_id_in_any_but_the_canonical_lowercase_form_names_no_report(app) {
        let w = placed(&app, RANDERS, 1, "140.00").await;
        let id = reported(&app, &w.company, &w.placement, -7, "3").await;
        for other in [id.to_uppercase(), id.replace('-', ""), format!("urn:uuid:{id}"), "not-an-id".to_owned()] {
            let r = confirm(&app, &w.citizen, &other).await;
            r.expect_problem(404, "not_found");
            assert_eq!(r.body["detail"], "no hours report with that id", "{other}: {}", r.body);
            dispute(&app, &w.citizen, &other, "not so").await.expect_problem(404, "not_found");
        }
        confirm(&app, &w.citizen, &id).await.expect(200);
    }

    async fn a_disputed_shift_is_reported_again_with_the_settled_hours_and_then_confirmed(app) {
        let w = placed(&app, RANDERS, 1, "140.00").await;
        let report_id = reported(&app, &w.company, &w.placement, -6, "3.5").await;
        let r = app.post(&format!("/api/v1/hours/{report_id}/dispute"), &w.citizen, &json!({ "reason": " " })).await;
        r.expect_problem(422, "validation");
        assert_eq!(r.error_fields(), ["reason"]);
        // The reporter does not dispute its own report.
        dispute(&app, &w.company, &report_id, "forkert").await.expect_problem(403, "forbidden");

        let r = dispute(&app, &w.citizen, &report_id, "Jeg gik kl. 11").await;
        r.expect(200);
        assert_eq!((&r.body["status"], &r.body["dispute_reason"]), (&json!("disputed"), &json!("Jeg gik kl. 11")));
        assert_eq!(r.body["answered_by"], format!("citizen-{}", w.citizen_id));
        assert!(r.body["answered_at"].is_string() && r.body["payout"].is_null(), "{}", r.body);
        assert!(queue(&app, &w.coordinator).await["unconfirmed_hours"].as_array().unwrap().is_empty());
        // A disputed report is not confirmed or disputed again as it stands.
        confirm(&app, &w.coordinator, &report_id).await.expect_problem(409, "hours_already_answered");
        confirm(&app, &w.citizen, &report_id).await.expect_problem(409, "hours_already_answered");
        dispute(&app, &w.citizen, &report_id, "igen").await.expect_problem(409, "hours_already_answered");

        // Settled: the company reports the shift again, on the same report, and the citizen confirms.
        let again = report(&app, &w.company, &w.placement, -6, "3").await;
        again.expect(201);
        assert_eq!((&again.body["id"], &again.body["status"], &again.body["hours"]), (&json!(report_id), &json!("reported"), &json!("3")));
        assert!(again.body["answered_by"].is_null() && again.body["dispute_reason"].is_null(), "{}", again.body);
        report(&app, &w.coordinator, &w.placement, -6, "3").await.expect_problem(409, "hours_already_reported");
        confirm(&app, &w.citizen, &report_id).await.expect(200);
        assert_eq!(pay_confirmed(&app, &w.coordinator).await["lines"][0]["wage"], "420.00");
        let listed = hours_of(&app, &w.coordinator, &w.placement).await;
        assert_eq!(ids(&listed), [report_id]);
        assert_eq!((&listed[0]["status"], &listed[0]["hours"]), (&json!("confirmed"), &json!("3")));
        let r = app.get(&format!("/api/v1/employments/{}/payouts", w.employment), &w.coordinator).await;
        r.expect(200);
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    }
}

/// Who answers reported hours: the side that did not report them, once.
mod answering {
    use super::*;

    both_backends! {
        async fn a_coordinators_report_is_answered_by_the_company_or_the_citizen_never_by_a_coordinator(app) {
            let w = placed(&app, RANDERS, 1, "140.00").await;
            let colleague = colleague(&app, RANDERS, "coord-kollega");
            let first = reported(&app, &w.coordinator, &w.placement, -7, "3.5").await;
            let listed = hours_of(&app, &w.company, &w.placement).await;
            assert_eq!(pick(&listed[0], &["reported_by", "reported_by_role"]), json!(["coord-730", "coordinator"]));
            // Neither the reporting coordinator nor a colleague answers a coordinator's report.
            for (who, token) in [("the reporter", &w.coordinator), ("a colleague", &colleague)] {
                assert_problem(&confirm(&app, token, &first).await, 403, "forbidden", who);
                assert_problem(&dispute(&app, token, &first, "forkert").await, 403, "forbidden", who);
            }
            assert!(hours_of(&app, &w.company, &w.placement).await[0]["answered_by"].is_null());

            // The company confirms it, once.
            let r = confirm(&app, &w.company, &first).await;
            r.expect(200);
            assert_eq!(r.body["status"], "confirmed");
            assert_eq!(r.body["answered_by"], format!("company-{}", w.company_id));
            assert!(r.body["payout"].is_null(), "a pay run pays it: {}", r.body);
            confirm(&app, &w.company, &first).await.expect_problem(409, "hours_already_answered");
            confirm(&app, &w.citizen, &first).await.expect_problem(409, "hours_already_answered");
            dispute(&app, &w.citizen, &first, "forkert").await.expect_problem(409, "hours_already_answered");
            // A coordinator is still not the other side of a coordinator's report.
            confirm(&app, &colleague, &first).await.expect_problem(403, "forbidden");

            // The citizen confirms another.
            let second = reported(&app, &colleague, &w.placement, -6, "3").await;
            confirm(&app, &w.coordinator, &second).await.expect_problem(403, "forbidden");
            let r = confirm(&app, &w.citizen, &second).await;
            r.expect(200);
            assert_eq!(r.body["answered_by"], format!("citizen-{}", w.citizen_id));
            confirm(&app, &w.company, &second).await.expect_problem(409, "hours_already_answered");

            // The company disputes a third.
            let third = reported(&app, &w.coordinator, &w.placement, -5, "2").await;
            let r = dispute(&app, &w.company, &third, "Hun var her kun en time").await;
            r.expect(200);
            assert_eq!(pick(&r.body, &["status", "dispute_reason"]), json!(["disputed", "Hun var her kun en time"]));
            confirm(&app, &w.citizen, &third).await.expect_problem(409, "hours_already_answered");
            dispute(&app, &w.company, &third, "igen").await.expect_problem(409, "hours_already_answered");

            let listed = hours_of(&app, &w.coordinator, &w.placement).await;
            assert_eq!(ids(&listed), [first.clone(), second.clone(), third]);
            assert_eq!(column(&listed, "status"), json!(["confirmed", "confirmed", "disputed"]));
            // One pay run pays both confirmed shifts as one payout (3.5 h + 3 h at 140.00); the
            // disputed one waits.
            let run = pay_confirmed(&app, &w.coordinator).await;
            assert_eq!(pick(&run["lines"][0], &["shift_reports", "wage"]), json!([[first, second], "910.00"]));
            let r = app.get(&format!("/api/v1/employments/{}/payouts", w.employment), &w.coordinator).await;
            r.expect(200);
            assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "one payout per pay line: {}", r.body);
        }

        async fn a_companys_report_is_answered_by_the_citizen_or_a_coordinator_never_by_the_company(app) {
            let w = placed(&app, RANDERS, 1, "140.00").await;
            // Other people of the same company: another login, and a business identity by CVR.
            let other_login =
                app.sign(&Claims { company_id: Some(w.company_id.clone()), ..claims(Role::Company, "other-login") });
            let by_cvr = app.company_cvr_token_as(&cvr(1), "mitid-erhverv-bo");
            let first = reported(&app, &w.company, &w.placement, -7, "3.5").await;
            for (who, token) in [("the reporter", &w.company), ("another login", &other_login), ("by CVR", &by_cvr)] {
                assert_problem(&confirm(&app, token, &first).await, 403, "forbidden", who);
                assert_problem(&dispute(&app, token, &first, "forkert").await, 403, "forbidden", who);
            }
            let listed = hours_of(&app, &other_login, &w.placement).await;
            assert_eq!(pick(&listed[0], &["status", "answered_by", "payout"]), json!(["reported", null, null]));

            // The citizen confirms it, once.
            let r = confirm(&app, &w.citizen, &first).await;
            r.expect(200);
            assert_eq!(r.body["answered_by"], format!("citizen-{}", w.citizen_id));
            confirm(&app, &w.citizen, &first).await.expect_problem(409, "hours_already_answered");
            confirm(&app, &w.coordinator, &first).await.expect_problem(409, "hours_already_answered");
            dispute(&app, &w.coordinator, &first, "forkert").await.expect_problem(409, "hours_already_answered");

            // Another login of the company reports the next shift; a coordinator confirms it.
            let second = reported(&app, &other_login, &w.placement, -6, "3").await;
            confirm(&app, &w.company, &second).await.expect_problem(403, "forbidden");
            let r = confirm(&app, &w.coordinator, &second).await;
            r.expect(200);
            assert_eq!(r.body["answered_by"], "coord-730");
            confirm(&app, &w.citizen, &second).await.expect_problem(409, "hours_already_answered");
            confirm(&app, &w.coordinator, &second).await.expect_problem(409, "hours_already_answered");

            pay_confirmed(&app, &w.company).await;
            let listed = hours_of(&app, &w.company, &w.placement).await;
            assert_eq!(column(&listed, "status"), json!(["confirmed", "confirmed"]));
            assert_eq!(column(&listed, "reported_by"), json!([format!("company-{}", w.company_id), "other-login"]));
            assert!(listed.as_array().unwrap().iter().all(|r| r["payout"]["id"].is_string()), "{listed}");
        }

        async fn parties_of_other_tasks_and_other_municipalities_do_not_see_or_answer_the_hours(app) {
            let w = placed(&app, RANDERS, 1, "140.00").await;
            // Another company and citizen of Randers, on another task; and a placement in Aarhus.
            let neighbour = placed(&app, RANDERS, 2, "140.00").await;
            let aarhus = placed(&app, AARHUS, 3, "140.00").await;
            let by_company = reported(&app, &w.company, &w.placement, -7, "3.5").await;
            let by_coordinator = reported(&app, &w.coordinator, &w.placement, -6, "3").await;
            let outsiders = [
                ("the company of another task", &neighbour.company),
                ("the citizen of another task", &neighbour.citizen),
                ("another municipality's coordinator", &aarhus.coordinator),
                ("another municipality's company", &aarhus.company),
                ("another municipality's citizen", &aarhus.citizen),
            ];
            for (who, token) in outsiders {
                let r = app.get(&format!("/api/v1/placements/{}/hours", w.placement), token).await;
                assert_problem(&r, 404, "not_found", who);
                let r = report(&app, token, &w.placement, -5, "3").await;
                if who.contains("citizen") {
                    // Observed: a citizen never reports hours, so the role is refused before the
                    // placement is looked up (403 whichever placement it is; nothing is revealed).
                    assert_problem(&r, 403, "forbidden", who);
                } else {
                    assert_problem(&r, 404, "not_found", who);
                }
                for report_id in [&by_company, &by_coordinator] {
                    assert_problem(&confirm(&app, token, report_id).await, 404, "not_found", who);
                    assert_problem(&dispute(&app, token, report_id, "forkert").await, 404, "not_found", who);
                }
            }
            // Nothing changed.
            let listed = hours_of(&app, &w.coordinator, &w.placement).await;
            assert_eq!(ids(&listed), [by_company.clone(), by_coordinator.clone()]);
            assert_eq!(column(&listed, "status"), json!(["reported", "reported"]));
            let r = app.get(&format!("/api/v1/employments/{}/payouts", w.employment), &w.coordinator).await;
            assert_eq!(r.body["items"], json!([]));
            // The outsiders see their own placements' hours (none).
            assert_eq!(hours_of(&app, &neighbour.company, &neighbour.placement).await, json!([]));
            assert_eq!(hours_of(&app, &aarhus.coordinator, &aarhus.placement).await, json!([]));
            // The parties themselves do answer.
            confirm(&app, &w.citizen, &by_company).await.expect(200);
            confirm(&app, &w.company, &by_coordinator).await.expect(200);
        }
    }
}

/// What confirmed hours pay, and how it is split against the frikort amount.
mod pay {
    use super::*;

    both_backends! {
        async fn confirmed_hours_pay_the_wage_rounded_to_ore_and_holiday_pay_split_at_the_cap(app) {
            let w = placed(&app, RANDERS, 1, "131.31").await;
            let quarter = reported(&app, &w.company, &w.placement, -7, "0.25").await;
            let (_, first) = confirm_and_pay(&app, &w.citizen, &w.coordinator, &quarter).await;
            // 0.25 h × 131.31 = 32.8275 → 32.83; 12.5 % holiday pay of that = 4.10375 → 4.10.
            let amounts = pick(&first, &["wage", "holiday_pay", "pension", "gross"]);
            assert_eq!(amounts, json!(["32.83", "4.10", "0.00", "36.93"]));
            assert_eq!(pick(&first, &["exempt", "taxable", "coverage"]), json!(["36.93", "0.00", "covered"]));
            assert_eq!(pick(&first, &["worked_from", "worked_to", "hours"]), json!([date(-7), date(-7), "0.25"]));
            assert!(!warning_codes(&first).contains(&"cap_crossed".to_owned()), "{first}");

            // A payout registered directly leaves 100.00 kr of this year's cap.
            let cap = cap_ore(&app, &w.coordinator, this_year()).await;
            let paid = pay(&app, &w.coordinator, &w.employment, cap - 3_693 - 10_000).await;
            assert_eq!(pick(&paid["payout"], &["exempt", "taxable"]), json!([kr(cap - 13_693), "0.00"]));
            assert_eq!(paid["balance"]["remaining"], "100.00");

            // 3.5 h × 131.31 = 459.585 → 459.59; holiday pay 57.44875 → 57.45; 517.04 in all.
            let crossing = reported(&app, &w.company, &w.placement, -6, "3.5").await;
            let (_, second) = confirm_and_pay(&app, &w.citizen, &w.coordinator, &crossing).await;
            assert_eq!(pick(&second, &["wage", "holiday_pay", "gross"]), json!(["459.59", "57.45", "517.04"]));
            assert_eq!(pick(&second, &["exempt", "taxable", "coverage"]), json!(["100.00", "417.04", "covered"]));
            assert!(warning_codes(&second).contains(&"cap_crossed".to_owned()), "{second}");

            // The company sees the same amounts on the reported shifts.
            let listed = hours_of(&app, &w.company, &w.placement).await;
            assert_eq!(ids(&listed), [quarter, crossing]);
            assert_eq!(column(&listed, "hours"), json!(["0.25", "3.5"]));
            let keys = ["wage", "holiday_pay", "gross", "exempt", "taxable", "coverage"];
            assert_eq!(pick(&listed[0]["payout"], &keys), pick(&first, &keys));
            assert_eq!(pick(&listed[1]["payout"], &keys), pick(&second, &keys));
            assert_eq!((&listed[0]["payout"]["id"], &listed[1]["payout"]["id"]), (&first["payout_id"], &second["payout_id"]));
            assert_eq!(listed[1]["payout"]["payment_date"], date(0));
            // The list is a page like every other: the second report alone, of two.
            let r = app.get(&format!("/api/v1/placements/{}/hours?limit=1&offset=1", w.placement), &w.company).await;
            r.expect(200);
            assert_eq!(pick(&r.body, &["total", "limit", "offset"]), json!([2, 1, 1]));
            assert_eq!(r.body["items"], json!([listed[1].clone()]));

            let r = app.get("/api/v1/me/balance", &w.citizen).await;
            r.expect(200);
            assert_eq!(pick(&r.body, &["exempt", "taxable", "remaining"]), json!([kr(cap), "417.04", "0.00"]));
            assert_eq!(r.body["payouts"], 3);
        }

        async fn a_shift_worked_after_the_card_was_deactivated_is_paid_on_its_own_wholly_taxable_line(app) {
            let w = placed(&app, RANDERS, 1, "140.00").await;
            let card = format!("/api/v1/citizens/{}/frikort", w.citizen_id);
            let body = json!({ "reason": "Startet på SU-uddannelse" });
            let r = app.post(&format!("{card}/deactivate"), &w.coordinator, &body).await;
            r.expect(200);
            // The decision in fact took effect at midnight (Copenhagen) five days ago.
            let local = day(-5).and_hms_opt(0, 0, 0).unwrap();
            let midnight = chrono_tz::Europe::Copenhagen.from_local_datetime(&local).single().unwrap();
            let decided_at = midnight.with_timezone(&chrono::Utc).to_rfc3339();
            let body = json!({ "decided_at": decided_at, "reason": "Tastefejl" });
            app.post(&format!("{card}/decision-time"), &w.coordinator, &body).await.expect(200);

            let before = reported(&app, &w.company, &w.placement, -7, "3.5").await;
            let after = reported(&app, &w.company, &w.placement, -4, "3.5").await;
            confirm(&app, &w.citizen, &after).await.expect(200);
            confirm(&app, &w.coordinator, &before).await.expect(200);
            // One run, two lines: the shifts are cut where the card changed.
            let run = pay_confirmed(&app, &w.coordinator).await;
            let lines = run["lines"].as_array().unwrap();
            assert_eq!(column(&run["lines"], "shift_reports"), json!([[before], [after]]));
            let covered = pick(&lines[0], &["gross", "exempt", "taxable", "coverage"]);
            assert_eq!(covered, json!(["551.25", "551.25", "0.00", "covered"]));
            assert!(!warning_codes(&lines[0]).contains(&"not_covered".to_owned()), "{run}");
            let uncovered = pick(&lines[1], &["gross", "exempt", "taxable", "coverage"]);
            assert_eq!(uncovered, json!(["551.25", "0.00", "551.25", "card_inactive"]));
            let codes = warning_codes(&lines[1]);
            assert!(codes.contains(&"not_covered".to_owned()), "{codes:?}");
            assert!(!codes.contains(&"cap_crossed".to_owned()), "{codes:?}");

            let listed = hours_of(&app, &w.company, &w.placement).await;
            assert_eq!(ids(&listed), [before, after]);
            let split = pick(&listed[1]["payout"], &["exempt", "taxable", "coverage"]);
            assert_eq!(split, json!(["0.00", "551.25", "card_inactive"]));
            let r = app.get("/api/v1/me/balance", &w.citizen).await;
            assert_eq!(pick(&r.body, &["gross", "exempt", "taxable"]), json!(["1102.50", "551.25", "551.25"]));
        }

        async fn confirmed_hours_on_an_employment_that_ended_are_named_and_a_pay_run_pays_nothing(app) {
            let w = placed(&app, RANDERS, 1, "140.00").await;
            let report_id = reported(&app, &w.company, &w.placement, -7, "3.5").await;
            let path = format!("/api/v1/employments/{}/end", w.employment);
            let r = app.post(&path, &w.company, &json!({ "reason": "Opsagt" })).await;
            r.expect(200);
            assert!(r.body["ended_at"].is_string(), "{}", r.body);

            confirm(&app, &w.citizen, &report_id).await.expect(200);
            for token in [&w.coordinator, &w.company] {
                let body = pay_run_body(-35, 0, 0, "cash");
                for r in [preview_pay_run(&app, token, &body).await, commit_pay_run(&app, token, &body).await] {
                    r.expect_problem(409, "employment_ended");
                    assert_eq!(pick(&r.body["obstacles"][0], &["kind", "id"]), json!(["employment", w.employment]));
                }
            }
            // Rolled back whole: confirmed, and no payout.
            let listed = hours_of(&app, &w.company, &w.placement).await;
            assert_eq!(pick(&listed[0], &["status", "payout"]), json!(["confirmed", null]));
            let r = app.get(&format!("/api/v1/employments/{}/payouts", w.employment), &w.coordinator).await;
            r.expect(200);
            assert_eq!(r.body["items"], json!([]));
            let r = app.get("/api/v1/me/balance", &w.citizen).await;
            r.expect(200);
            assert_eq!((&r.body["gross"], &r.body["payouts"]), (&json!("0.00"), &json!(0)));
        }
    }
}

/// Simultaneous answers and reports of the same shift.
mod racing {
    use super::*;

    fn one_of_three(status: u16, code: &str) -> Vec<(u16, String)> {
        vec![(status, String::new()), (409, code.to_owned()), (409, code.to_owned())]
    }

    both_backends! {
        async fn three_simultaneous_confirmations_of_a_report_confirm_it_once(app) {
            let app = Rc::new(app);
            let w = placed(&app, RANDERS, 1, "140.00").await;
            let mut confirmed = Vec::new();
            for shift in [-7, -6, -5, -4, -3] {
                let report_id = reported(&app, &w.company, &w.placement, shift, "3.5").await;
                let path = format!("/api/v1/hours/{report_id}/confirm");
                let tokens = [&w.citizen, &w.coordinator, &w.citizen];
                let responses = at_once(&app, tokens.map(|t| Post::new(&path, t, &json!({})))).await;
                let expected = one_of_three(200, "hours_already_answered");
                assert_eq!(outcomes(&responses), expected, "shift {shift}: {responses:?}");
                confirmed.push(report_id);
            }
            let hours = hours_of(&app, &w.company, &w.placement).await;
            assert!(hours.as_array().unwrap().iter().all(|h| h["status"] == "confirmed"), "{hours}");
            // Each shift is paid once: 5 × 3.5 h at 140.00 with holiday pay.
            let run = pay_confirmed(&app, &w.coordinator).await;
            assert_eq!(run["lines"][0]["shift_reports"], json!(confirmed));
            let r = app.get("/api/v1/me/balance", &w.citizen).await;
            assert_eq!((&r.body["gross"], &r.body["payouts"]), (&json!("2756.25"), &json!(1)));
        }

        async fn three_simultaneous_reports_of_a_shift_make_one_report(app) {
            let app = Rc::new(app);
            let w = placed(&app, RANDERS, 1, "140.00").await;
            let path = format!("/api/v1/placements/{}/hours", w.placement);
            for shift in [-7, -6, -5] {
                let body = json!({ "shift_date": date(shift), "hours": "3" });
                let tokens = [&w.company, &w.coordinator, &w.company];
                let responses = at_once(&app, tokens.map(|t| Post::new(&path, t, &body))).await;
                let expected = one_of_three(201, "hours_already_reported");
                assert_eq!(outcomes(&responses), expected, "shift {shift}: {responses:?}");
            }
            let listed = hours_of(&app, &w.coordinator, &w.placement).await;
            assert_eq!(column(&listed, "shift_date"), json!([date(-7), date(-6), date(-5)]));
            assert_eq!(column(&listed, "status"), json!(["reported", "reported", "reported"]));
        }
    }

    /// Found while writing these tests and fixed since. PostgreSQL only: SQLite serializes
    /// writers (`BEGIN IMMEDIATE`), so the race cannot happen there.
    #[actix_web::test]
    async fn simultaneous_re_reports_of_a_disputed_shift_make_one_report() {
        let name = "simultaneous_re_reports_of_a_disputed_shift_make_one_report";
        let Some(app) = spawn(Backend::Postgres, name).await else { return };
        let app = Rc::new(app);
        let w = placed(&app, RANDERS, 1, "140.00").await;
        let path = format!("/api/v1/placements/{}/hours", w.placement);
        let mut seen = Vec::new();
        for shift in [-7, -6, -5, -4, -3, -2, 0] {
            let report_id = reported(&app, &w.company, &w.placement, shift, "3").await;
            dispute(&app, &w.citizen, &report_id, "Jeg gik kl. 10").await.expect(200);
            let body = json!({ "shift_date": date(shift), "hours": "2" });
            let responses =
                at_once(&app, [&w.company, &w.coordinator, &w.company].map(|t| Post::new(&path, t, &body))).await;
            seen.push((shift, outcomes(&responses)));
        }
        let expected = vec![
            (201, String::new()),
            (409, "hours_already_reported".to_owned()),
            (409, "hours_already_reported".to_owned()),
        ];
        for (shift, outcome) in &seen {
            assert_eq!(outcome, &expected, "shift {shift}: one re-report is taken, the others refused; all: {seen:?}");
        }
    }
}
