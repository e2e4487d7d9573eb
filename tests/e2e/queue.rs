//! The coordinator's work queue and the placement statistics over HTTP. The queue lists what
//! waits on the coordinator: unanswered offers, placements awaiting approval, unconfirmed hours,
//! companies awaiting verification, cards due for control and citizens near the cap, never
//! another municipality's. The statistics count, per municipality and period, the tasks opened,
//! their positions and how many hours it took to fill them.
//!
//! Dates are relative to today (Europe/Copenhagen); times in the past are set in the database.

use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use serde_json::json;

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// Backdates an acceptance (its answer time and last change, as accepting sets both) by `h` hours.
fn accepted_hours_ago(app: &TestApp, placement: &str, h: i64) {
    let at = hours_ago(h);
    edit_placement(app, placement, |p| (p.answered_at, p.updated_at) = (Some(at), at));
}

/// A card holder (card valid from 35 days ago) employed by a verified company since 30 days ago:
/// (citizen id, employment id, company token).
async fn employed_holder(app: &TestApp, coordinator: &str, seed: u32) -> (String, String, String) {
    let (citizen, number) = app.card_holder(coordinator, &cpr(seed), &format!("Borger {seed}"), &date(-35)).await;
    let company = app.company(&verified_company(app, coordinator, seed).await);
    let employment = app.register_employment(&company, &employment_by_card(&cpr(seed), &number, &date(-30))).await;
    (citizen, employment, company)
}

both_backends! {
    async fn offers_unanswered_for_more_than_48_hours_are_chased_oldest_first(app) {
        let coordinator = app.coordinator(RANDERS);
        let company = app.company(&verified_company(&app, &coordinator, 1).await);
        let task = open_task(&app, &company, &weekly_task("Butikshjælp", "140.00", 1, false)).await;
        let mut offers = Vec::new();
        for (seed, name) in [(1, "Anne"), (2, "Bo"), (3, "Carl"), (4, "Dorte")] {
            let citizen = app.enrol(&coordinator, &cpr(seed), name).await;
            let placement = offer(&app, &coordinator, &task, &citizen).await;
            offers.push((citizen, placement));
        }
        offered_hours_ago(&app, &offers[0].1, 49);
        offered_hours_ago(&app, &offers[1].1, 72);
        offered_hours_ago(&app, &offers[2].1, 47);
        // Dorte's offer is fresh.
        let q = queue(&app, &coordinator).await;
        let chased = &q["unanswered_offers"];
        assert_eq!(field(chased, "placement_id"), [offers[1].1.clone(), offers[0].1.clone()]);
        assert_eq!(column(chased, "age_hours"), json!([72, 49]));
        assert_eq!(column(chased, "citizen_name"), json!(["Bo", "Anne"]));
        assert_eq!(column(chased, "citizen_id"), json!([offers[1].0, offers[0].0]));
        assert_eq!(pick(&chased[0], &["task_id", "task_title"]), json!([task, "Butikshjælp"]));
        assert!(q["awaiting_approval"].as_array().unwrap().is_empty(), "{q}");

        // Bo declines: his offer waits on no one.
        let path = format!("/api/v1/me/offers/{}/decline", offers[1].1);
        let r = app.post(&path, &app.citizen(&offers[1].0), &json!({})).await;
        r.expect(200);
        assert_eq!(r.body["state"], "declined");
        let q = queue(&app, &coordinator).await;
        assert_eq!(field(&q["unanswered_offers"], "placement_id"), [offers[0].1.clone()]);

        // Anne accepts: hers now awaits approval instead.
        accept(&app, &app.citizen(&offers[0].0), &offers[0].1).await;
        let q = queue(&app, &coordinator).await;
        assert!(q["unanswered_offers"].as_array().unwrap().is_empty(), "{q}");
        assert_eq!(field(&q["awaiting_approval"], "placement_id"), [offers[0].1.clone()]);
    }

    async fn accepted_placements_await_approval_oldest_first(app) {
        let coordinator = app.coordinator(RANDERS);
        let company = app.company(&verified_company(&app, &coordinator, 1).await);
        let task = open_task(&app, &company, &weekly_task("Butikshjælp", "140.00", 3, false)).await;
        let mut accepted = Vec::new();
        for (seed, name) in [(1, "Anne"), (2, "Bo"), (3, "Carl")] {
            let citizen = app.enrol(&coordinator, &cpr(seed), name).await;
            let placement = offer(&app, &coordinator, &task, &citizen).await;
            accept(&app, &app.citizen(&citizen), &placement).await;
            accepted.push(placement);
        }
        // Accepted 5 hours ago (Anne), 30 hours ago (Bo) and just now (Carl).
        accepted_hours_ago(&app, &accepted[0], 5);
        accepted_hours_ago(&app, &accepted[1], 30);
        let q = queue(&app, &coordinator).await;
        let waiting = &q["awaiting_approval"];
        assert_eq!(field(waiting, "placement_id"), [accepted[1].clone(), accepted[0].clone(), accepted[2].clone()]);
        assert_eq!(column(waiting, "age_hours"), json!([30, 5, 0]));
        assert_eq!(column(waiting, "citizen_name"), json!(["Bo", "Anne", "Carl"]));
        assert!(q["unanswered_offers"].as_array().unwrap().is_empty(), "accepted offers are not chased: {q}");

        // Approved and rejected ones wait no longer.
        approval(&app, &coordinator, &accepted[1]).await;
        let path = format!("/api/v1/placements/{}/reject", accepted[0]);
        let r = app.post(&path, &coordinator, &json!({ "reason": "Passer ikke" })).await;
        r.expect(200);
        let q = queue(&app, &coordinator).await;
        assert_eq!(field(&q["awaiting_approval"], "placement_id"), [accepted[2].clone()]);
    }

    async fn citizens_who_have_used_80_percent_of_the_cap_are_watched(app) {
        let coordinator = app.coordinator(RANDERS);
        let cap = cap_ore(&app, &coordinator, this_year()).await;
        let limit = cap * 80 / 100;
        let (above, above_employment, above_company) = employed_holder(&app, &coordinator, 1).await;
        let (over, over_employment, over_company) = employed_holder(&app, &coordinator, 2).await;
        let (below, below_employment, below_company) = employed_holder(&app, &coordinator, 3).await;
        pay(&app, &above_company, &above_employment, limit + 1).await;
        pay(&app, &over_company, &over_employment, cap + 100_000).await;
        pay(&app, &below_company, &below_employment, limit - 1).await;

        let q = queue(&app, &coordinator).await;
        let near = q["citizens_near_cap"].as_array().unwrap().clone();
        let mut listed = field(&q["citizens_near_cap"], "citizen_id");
        listed.sort();
        let mut expected = vec![above.clone(), over.clone()];
        expected.sort();
        assert_eq!(listed, expected, "80 % − 1 øre ({below}) is not listed: {q}");
        let entry = |id: &str| near.iter().find(|e| e["citizen_id"] == id).unwrap().clone();
        let keys = ["citizen_name", "cap", "exempt", "remaining", "used_percent"];
        let expected = json!(["Borger 1", kr(cap), kr(limit + 1), kr(cap - limit - 1), 80]);
        assert_eq!(pick(&entry(&above), &keys), expected);
        assert_eq!(pick(&entry(&over), &keys), json!(["Borger 2", kr(cap), kr(cap), "0.00", 100]));
    }

    async fn cards_due_for_control_are_those_issued_or_last_controlled_two_years_ago_or_more(app) {
        let coordinator = app.coordinator(RANDERS);
        let mut holders = Vec::new();
        for seed in 1..=6 {
            let (citizen, number) =
                app.card_holder(&coordinator, &cpr(seed), &format!("Borger {seed}"), &date(-35)).await;
            holders.push((citizen, number));
        }
        let this_year = today();
        edit_card(&app, &holders[0].0, |c| c.issued_on = years_ago(2));
        edit_card(&app, &holders[1].0, |c| (c.issued_on, c.last_control_on) = (years_ago(4), Some(years_ago(3))));
        edit_card(&app, &holders[2].0, |c| c.issued_on = years_ago(1));
        // holders[3]: issued this year.
        edit_card(&app, &holders[4].0, |c| (c.issued_on, c.last_control_on) = (years_ago(3), Some(this_year)));
        edit_card(&app, &holders[5].0, |c| c.issued_on = years_ago(3));
        let path = format!("/api/v1/citizens/{}/frikort/deactivate", holders[5].0);
        app.post(&path, &coordinator, &json!({ "reason": "Fraflyttet" })).await.expect(200);

        let q = queue(&app, &coordinator).await;
        let due = &q["cards_due_for_control"];
        // Oldest issue first.
        assert_eq!(field(due, "citizen_id"), [holders[1].0.clone(), holders[0].0.clone()]);
        assert_eq!(column(due, "number"), json!([holders[1].1, holders[0].1]));
        assert_eq!(column(due, "citizen_name"), json!(["Borger 2", "Borger 1"]));
    }

    async fn another_municipalitys_work_never_appears_and_only_coordinators_read_the_queue(app) {
        let randers = app.coordinator(RANDERS);
        // In Aarhus: hours to confirm, a card holder over the cap and due for control, an old
        // offer, an accepted placement and an unverified company.
        let w = placed(&app, AARHUS, 1, "140.00").await;
        let aarhus = w.coordinator.clone();
        let report_id = reported(&app, &w.company, &w.placement, -7, "3.5").await;
        let cap = cap_ore(&app, &aarhus, this_year()).await;
        pay(&app, &aarhus, &w.employment, cap).await;
        let two_years_ago = NaiveDate::from_ymd_opt(today().year() - 2, 6, 1).unwrap();
        edit_card(&app, &w.citizen_id, |c| c.issued_on = two_years_ago);
        let task = open_task(&app, &w.company, &weekly_task("Lagerhjælp", "140.00", 2, false)).await;
        let chased = app.enrol(&aarhus, &cpr(2), "Mette Jensen").await;
        let chased = offer(&app, &aarhus, &task, &chased).await;
        offered_hours_ago(&app, &chased, 72);
        let waiting = app.enrol(&aarhus, &cpr(3), "Ole Olsen").await;
        let accepted = offer(&app, &aarhus, &task, &waiting).await;
        accept(&app, &app.citizen(&waiting), &accepted).await;
        let body = json!({ "cvr": cvr(4), "name": "Ny Butik ApS", "contact": { "name": "Karen Bager" } });
        let r = app.post("/api/v1/companies", &aarhus, &body).await;
        r.expect(201);
        let unverified = id(&r.body);

        let q = queue(&app, &aarhus).await;
        assert_eq!(field(&q["awaiting_approval"], "placement_id"), [accepted]);
        assert_eq!(field(&q["unanswered_offers"], "placement_id"), [chased]);
        assert_eq!(field(&q["unconfirmed_hours"], "report_id"), [report_id]);
        assert_eq!(field(&q["companies_awaiting_verification"], "company_id"), [unverified]);
        assert_eq!(field(&q["cards_due_for_control"], "citizen_id"), std::slice::from_ref(&w.citizen_id));
        assert_eq!(field(&q["citizens_near_cap"], "citizen_id"), std::slice::from_ref(&w.citizen_id));

        let q = queue(&app, &randers).await;
        let lists = [
            "awaiting_approval", "unanswered_offers", "unconfirmed_hours",
            "companies_awaiting_verification", "cards_due_for_control", "citizens_near_cap",
        ];
        for list in lists {
            assert!(q[list].as_array().is_some_and(|l| l.is_empty()), "{list} in Randers: {q}");
        }

        let unregistered = app.company_cvr_token(&cvr(5));
        let others = [("company", &w.company), ("citizen", &w.citizen), ("unregistered company", &unregistered)];
        for (who, token) in others {
            assert_problem(&app.get("/api/v1/queue", token).await, 403, "forbidden", who);
        }
        let r = app.send(awc::http::Method::GET, "/api/v1/queue", None, None, Vec::new()).await;
        r.expect_problem(401, "missing_token");
    }
}

/// Time-to-placement statistics: the period, what is counted in it, Copenhagen calendar days,
/// and each position once.
mod statistics {
    use super::*;

    async fn stats_at(app: &TestApp, token: &str, query: &str) -> Resp {
        app.get(&format!("/api/v1/stats/placements{query}"), token).await
    }

    /// A citizen (enrolled with `seed`) offered, accepting and approved on `task`; the placement.
    async fn place(app: &TestApp, coordinator: &str, task: &str, seed: u32) -> String {
        let citizen = person(app, coordinator, seed).await;
        id(&approved(app, coordinator, task, &citizen).await["placement"])
    }

    both_backends! {
        async fn the_statistics_period_is_checked_and_defaults_to_the_last_90_days(app) {
            let coordinator = app.coordinator(RANDERS);
            let r = stats_at(&app, &coordinator, &format!("?from={}&to={}", date(0), date(-1))).await;
            r.expect_problem(422, "validation");
            assert_eq!(field_codes(&r), [("from".to_owned(), "after_to".to_owned())], "{}", r.body);
            // At most ten years (3 660 days).
            let too_long = (day(0) - Duration::days(3_661)).to_string();
            let r = stats_at(&app, &coordinator, &format!("?from={too_long}&to={}", date(0))).await;
            r.expect_problem(422, "validation");
            assert_eq!(field_codes(&r), [("from".to_owned(), "period_too_long".to_owned())], "{}", r.body);
            let longest = (day(0) - Duration::days(3_660)).to_string();
            stats_at(&app, &coordinator, &format!("?from={longest}&to={}", date(0))).await.expect(200);
            stats_at(&app, &coordinator, &format!("?from={}&to={}", date(0), date(0))).await.expect(200);
            for bad in ["?from=2025-13-01", "?to=i-dag", "?from=2025-02-30", "?from=01-02-2025&to=2025-03-01"] {
                assert_problem(&stats_at(&app, &coordinator, bad).await, 400, "invalid_query", bad);
            }

            // The last 90 days by default, or 90 days up to `to`, or `from` up to today.
            let periods = [
                (String::new(), date(-90), date(0)),
                (format!("?to={}", date(-10)), date(-100), date(-10)),
                (format!("?from={}", date(-5)), date(-5), date(0)),
            ];
            for (query, from, to) in periods {
                let r = stats_at(&app, &coordinator, &query).await;
                r.expect(200);
                assert_eq!(pick(&r.body["items"][0], &["municipality", "from", "to"]), json!([RANDERS, from, to]), "{query}");
                assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
                assert_eq!(pick(&r.body, &["total", "limit", "offset"]), json!([1, 50, 0]), "{query}");
            }

            // For coordinators only.
            let company = app.company(&verified_company(&app, &coordinator, 1).await);
            assert_problem(&stats_at(&app, &company, "").await, 403, "forbidden", "company");
            let r = app.send(awc::http::Method::GET, "/api/v1/stats/placements", None, None, Vec::new()).await;
            r.expect_problem(401, "missing_token");
        }

        async fn time_to_placement_runs_from_a_tasks_opening_to_each_approval_in_the_period(app) {
            let coordinator = app.coordinator(RANDERS);
            let company = app.company(&verified_company(&app, &coordinator, 1).await);
            // Four positions filled 10, 1, 3 and 2 hours after the task opened, 30 hours ago.
            let busy = open_task(&app, &company, &weekly_task("Butikshjælp", "140.00", 4, false)).await;
            let mut placements = Vec::new();
            for seed in 1..=4 {
                placements.push(place(&app, &coordinator, &busy, seed).await);
            }
            let opened = hours_ago(30);
            edit_task(&app, &busy, |t| t.opened_at = Some(opened));
            for (placement, h) in placements.iter().zip([10, 1, 3, 2]) {
                edit_placement(&app, placement, |p| p.approved_at = Some(opened + Duration::hours(h)));
            }
            assert_eq!(approved_at(&app, &placements[1]), opened + Duration::hours(1));
            // One placed within the hour and cancelled after approval: still an approved placement.
            let dropped = open_task(&app, &company, &weekly_task("Lagerhjælp", "140.00", 1, false)).await;
            let cancelled = place(&app, &coordinator, &dropped, 5).await;
            let r = app.post(&format!("/api/v1/placements/{cancelled}/cancel"), &coordinator, &json!({})).await;
            r.expect(200);
            assert_eq!(r.body["state"], "cancelled");
            // An open task nobody is placed on yet, with two positions.
            open_task(&app, &company, &weekly_task("Kassehjælp", "140.00", 2, false)).await;
            // A task opened ten days ago, placed on an hour later: outside the period.
            let older = open_task(&app, &company, &weekly_task("Oprydning", "140.00", 1, false)).await;
            let placement = place(&app, &coordinator, &older, 6).await;
            let long_ago = hours_ago(240);
            edit_task(&app, &older, |t| t.opened_at = Some(long_ago));
            edit_placement(&app, &placement, |p| p.approved_at = Some(long_ago + Duration::hours(1)));
            // Another municipality's task, placed on in the period.
            let aarhus = app.coordinator(AARHUS);
            let other = app.company(&verified_company(&app, &aarhus, 2).await);
            let theirs = open_task(&app, &other, &weekly_task("Butikshjælp i Aarhus", "140.00", 1, false)).await;
            place(&app, &aarhus, &theirs, 7).await;

            let s = stats(&app, &coordinator, -3, 0).await;
            let counts = ["tasks_opened", "positions", "positions_filled", "placements_approved"];
            // The cancelled placement was approved (it counts in the times) but holds no position now.
            assert_eq!(pick(&s, &counts), json!([3, 7, 4, 5]), "{s}");
            // Hours 0, 1, 2, 3 and 10: nearest rank 3 of 5 and 5 of 5.
            assert_eq!(pick(&s, &["median_hours_to_placement", "p90_hours_to_placement"]), json!([2, 10]), "{s}");

            let s = stats(&app, &coordinator, -12, -9).await;
            assert_eq!(pick(&s, &counts), json!([1, 1, 1, 1]), "{s}");
            assert_eq!(pick(&s, &["median_hours_to_placement", "p90_hours_to_placement"]), json!([1, 1]), "{s}");
            let s = stats(&app, &aarhus, -3, 0).await;
            let theirs = pick(&s, &["municipality", "tasks_opened", "positions", "placements_approved"]);
            assert_eq!(theirs, json!([AARHUS, 1, 1, 1]), "{s}");
        }

        async fn the_statistics_count_a_task_on_the_copenhagen_day_it_was_opened(app) {
            let coordinator = app.coordinator(RANDERS);
            let company = app.company(&verified_company(&app, &coordinator, 1).await);
            let task = open_task(&app, &company, &weekly_task("Butikshjælp", "140.00", 1, false)).await;
            // 00:30 in Copenhagen this morning is still yesterday in UTC.
            let local = day(0).and_hms_opt(0, 30, 0).unwrap();
            let opened = chrono_tz::Europe::Copenhagen.from_local_datetime(&local).single().unwrap().naive_utc();
            edit_task(&app, &task, |t| t.opened_at = Some(opened));
            let s = stats(&app, &coordinator, 0, 0).await;
            assert_eq!(s["tasks_opened"], 1, "opened today (Copenhagen): {s}");
            let s = stats(&app, &coordinator, -1, -1).await;
            assert_eq!(s["tasks_opened"], 0, "not opened yesterday (Copenhagen): {s}");
        }

        async fn the_statistics_never_count_more_positions_filled_than_positions(app) {
            let coordinator = app.coordinator(RANDERS);
            let company = app.company(&verified_company(&app, &coordinator, 1).await);
            let task = open_task(&app, &company, &weekly_task("Butikshjælp", "140.00", 1, false)).await;
            let first = app.enrol(&coordinator, &cpr(1), "Borger 1").await;
            let placement = offer(&app, &coordinator, &task, &first).await;
            accept(&app, &app.citizen(&first), &placement).await;
            approval(&app, &coordinator, &placement).await;
            // The citizen drops out; the freed position is filled by another.
            let r = app.post(&format!("/api/v1/placements/{placement}/cancel"), &coordinator, &json!({})).await;
            r.expect(200);
            let second = app.enrol(&coordinator, &cpr(2), "Borger 2").await;
            let placement = offer(&app, &coordinator, &task, &second).await;
            accept(&app, &app.citizen(&second), &placement).await;
            approval(&app, &coordinator, &placement).await;
            let r = app.get(&format!("/api/v1/tasks/{task}"), &coordinator).await;
            assert_eq!((&r.body["positions"], &r.body["positions_filled"]), (&json!(1), &json!(1)));

            let s = stats(&app, &coordinator, -1, 0).await;
            assert_eq!((&s["tasks_opened"], &s["positions"]), (&json!(1), &json!(1)));
            assert_eq!(s["positions_filled"], 1, "one position, filled: {s}");
            assert_eq!(s["placements_approved"], 2, "two placements were approved on it: {s}");
        }
    }

    /// Found while writing these tests and fixed since (on SQLite, where it showed).
    #[actix_web::test]
    async fn a_refilled_position_of_a_two_position_task_counts_once() {
        let app = spawn(Backend::Sqlite, "a_refilled_position_of_a_two_position_task_counts_once").await.unwrap();
        let coordinator = app.coordinator(RANDERS);
        let company = app.company(&verified_company(&app, &coordinator, 1).await);
        let task = open_task(&app, &company, &weekly_task("Butikshjælp", "140.00", 2, false)).await;
        let first = place(&app, &coordinator, &task, 1).await;
        let r = app.post(&format!("/api/v1/placements/{first}/cancel"), &coordinator, &json!({})).await;
        r.expect(200);
        // The freed position is filled by another; the second position stays open.
        place(&app, &coordinator, &task, 2).await;
        let r = app.get(&format!("/api/v1/tasks/{task}"), &coordinator).await;
        assert_eq!(pick(&r.body, &["positions", "positions_filled"]), json!([2, 1]));

        let s = stats(&app, &coordinator, -1, 0).await;
        assert_eq!(pick(&s, &["tasks_opened", "positions", "placements_approved"]), json!([1, 2, 2]), "{s}");
        assert_eq!(s["positions_filled"], 1, "one position, filled twice: {s}");
    }
}
