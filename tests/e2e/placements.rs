//! Placements over HTTP: a coordinator offers a task to a citizen, or turns a citizen's interest
//! into an offer; the citizen accepts or declines; the coordinator approves (which registers the
//! employment and fills a position) or rejects; cancelling and no-shows free the position. Each
//! approval check refuses with its own code, and the checks hold when two approvals race. Dates
//! are relative to today so the tests never go stale.

use std::rc::Rc;

use awc::http::Method;
use chrono::{Datelike, Duration};
use serde_json::json;

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

both_backends! {
    async fn an_accepted_offer_is_approved_registering_the_employment_and_filling_the_task(app) {
        let w = hiring(&app).await;
        let date = day(10);
        let body = with(shift(date, "08:00", "12:00", "4", "140.00"), json!({ "positions": 2 }));
        let t = open_task(&app, &w.company, &body).await;
        let (card, no_card) = (holder(&app, &w.coord, 1).await, person(&app, &w.coord, 2).await);
        let p = offer(&app, &w.coord, &t, &card).await;
        let me = app.citizen(&card);
        let offers = app.get("/api/v1/me/offers", &me).await;
        assert_eq!(page_ids(&offers.body), vec![p.clone()]);
        assert_eq!(offers.body["items"][0]["task_title"], "Hjælp i bageriet lørdag formiddag");
        assert_eq!(app.get("/api/v1/me/offers", &app.citizen(&no_card)).await.body["total"], 0);
        let r = step(&app, &me, &format!("/api/v1/me/offers/{p}/accept")).await;
        r.expect(200);
        assert_eq!(r.body["state"], "accepted");
        assert!(r.body["answered_at"].is_string());
        assert_eq!(app.get("/api/v1/me/offers", &me).await.body["total"], 0);
        assert_eq!(task(&app, &w.coord, &t).await["positions_filled"], 0, "accepting reserves nothing");
        // 4 h × 140 kr + 12.5 % holiday pay = 630 kr, well within the card's amount.
        let r = approve(&app, &w.coord, &p).await;
        r.expect(200);
        let a = r.body.clone();
        assert_eq!((&a["estimated_pay"], &a["estimated_taxable"]), (&json!("630.00"), &json!("0.00")));
        assert_eq!(a["placement"]["state"], "approved");
        assert_eq!(a["placement"]["estimated_pay"], "630.00");
        let e = &a["employment"];
        assert_eq!(a["placement"]["employment_id"], e["id"]);
        assert_eq!((&e["company_id"], &e["citizen_id"]), (&json!(w.company_id.as_str()), &json!(card.as_str())));
        assert_eq!((&e["start_date"], &e["end_date"]), (&json!(date), &json!(date)));
        assert_eq!((&e["expected_pay"], &e["expected_hours_per_week"]), (&json!("630.00"), &json!("4.00")));
        assert_eq!((&e["contact"]["name"], &e["status"]), (&json!(TASK_CONTACT), &json!("active")));
        let v = task(&app, &w.coord, &t).await;
        assert_eq!((&v["status"], &v["positions_filled"]), (&json!("open"), &json!(1)));
        // The company finds the employment registered on its behalf.
        let list = app.get("/api/v1/employments", &w.company).await;
        assert_eq!(page_ids(&list.body), vec![e["id"].as_str().unwrap().to_owned()]);
        assert_eq!(list.body["items"][0]["contact"]["name"], TASK_CONTACT);
        // The second (last) position: no card, so the whole pay is expected to be taxable.
        let b = approved(&app, &w.coord, &t, &no_card).await;
        assert_eq!((&b["estimated_pay"], &b["estimated_taxable"]), (&json!("630.00"), &json!("630.00")));
        let v = task(&app, &w.company, &t).await;
        assert_eq!((&v["status"], &v["positions_filled"]), (&json!("filled"), &json!(2)));
        assert!(v["filled_at"].is_string());
        assert_eq!(app.get("/api/v1/employments", &w.company).await.body["total"], 2);
        assert_eq!(placement(&app, &w.company, &p).await["state"], "approved");
        let logged = actions(&audit_of(&app, &w.coord, &p).await);
        assert_eq!(logged, ["placement.approved", "placement.accept", "placement.offered"]);
        let emp_audit = actions(&audit_of(&app, &w.coord, e["id"].as_str().unwrap()).await);
        assert!(emp_audit.contains(&"employment.registered".to_owned()), "{emp_audit:?}");
        // Completing the task completes its approved placements.
        task_action(&app, &w.company, &t, "complete").await.expect(200);
        assert_eq!(placement(&app, &w.coord, &p).await["state"], "completed");
    }

    async fn a_citizens_interest_becomes_an_offer_that_is_accepted_and_approved(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &task_body()).await;
        let c = holder(&app, &w.coord, 1).await;
        let me = app.citizen(&c);
        assert_eq!(page_ids(&app.get("/api/v1/me/tasks", &me).await.body), vec![t.clone()]);
        let r = app.post(&format!("/api/v1/me/tasks/{t}/interest"), &me, &json!({})).await;
        r.expect(201);
        let p = r.body["id"].as_str().unwrap().to_owned();
        // The coordinator sees the interest, and cannot make a second placement beside it.
        let mine = app.get("/api/v1/placements?state=interested", &w.coord).await;
        assert_eq!(page_ids(&mine.body), vec![p.clone()]);
        app.post("/api/v1/placements", &w.coord, &json!({ "task_id": t, "citizen_id": c }))
            .await
            .expect_problem(409, "placement_exists");
        assert_eq!(app.get("/api/v1/me/offers", &me).await.body["total"], 0, "interest is not an offer");
        let r = step(&app, &w.coord, &format!("/api/v1/placements/{p}/offer")).await;
        r.expect(200);
        assert_eq!(r.body["state"], "offered");
        assert!(r.body["interested_at"].is_string() && r.body["offered_at"].is_string());
        assert_eq!(page_ids(&app.get("/api/v1/me/offers", &me).await.body), vec![p.clone()]);
        step(&app, &me, &format!("/api/v1/me/offers/{p}/accept")).await.expect(200);
        let r = approve(&app, &w.coord, &p).await;
        r.expect(200);
        assert_eq!(r.body["placement"]["id"], p.as_str());
        let v = task(&app, &w.coord, &t).await;
        assert_eq!((&v["status"], &v["positions_filled"]), (&json!("filled"), &json!(1)));
        assert_eq!(app.get("/api/v1/me/tasks", &me).await.body["total"], 0, "a filled task is no longer open");
        let actions = actions(&audit_of(&app, &w.coord, &p).await);
        assert_eq!(actions, ["placement.approved", "placement.accept", "placement.offer", "placement.interested"]);
    }

    async fn a_citizen_declines_an_offer_and_can_be_offered_the_task_again(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &task_body()).await;
        let c = person(&app, &w.coord, 1).await;
        let me = app.citizen(&c);
        let p = offer(&app, &w.coord, &t, &c).await;
        let why = json!({ "reason": "Jeg arbejder den dag" });
        let r = app.post(&format!("/api/v1/me/offers/{p}/decline"), &me, &why).await;
        r.expect(200);
        assert_eq!((&r.body["state"], &r.body["reason"]), (&json!("declined"), &json!("Jeg arbejder den dag")));
        assert_eq!(app.get("/api/v1/me/offers", &me).await.body["total"], 0);
        step(&app, &me, &format!("/api/v1/me/offers/{p}/accept")).await.expect_problem(409, "illegal_transition");
        approve(&app, &w.coord, &p).await.expect_problem(409, "illegal_transition");
        assert_eq!(task(&app, &w.coord, &t).await["positions_filled"], 0);
        let again = offer(&app, &w.coord, &t, &c).await;
        assert_ne!(again, p, "a new placement keeps the declined one's history");
        assert_eq!(placement(&app, &w.coord, &p).await["state"], "declined");
    }

    async fn rejecting_an_accepted_placement_needs_a_reason(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &task_body()).await;
        let c = person(&app, &w.coord, 1).await;
        let p = accepted(&app, &w.coord, &t, &c).await;
        let path = format!("/api/v1/placements/{p}/reject");
        let r = app.send(Method::POST, &path, Some(&w.coord), None, Vec::new()).await;
        r.expect_problem(422, "validation");
        assert_eq!(r.error_fields(), ["reason"]);
        for body in [json!({}), json!({ "reason": null }), json!({ "reason": "   " })] {
            let r = app.post(&path, &w.coord, &body).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["reason"]);
        }
        assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
        let r = app.post(&path, &w.coord, &json!({ "reason": "Borgeren er ikke klar til opgaven endnu" })).await;
        r.expect(200);
        assert_eq!(r.body["state"], "rejected");
        assert_eq!(r.body["reason"], "Borgeren er ikke klar til opgaven endnu");
        approve(&app, &w.coord, &p).await.expect_problem(409, "illegal_transition");
        app.post(&path, &w.coord, &json!({ "reason": "igen" })).await.expect_problem(409, "illegal_transition");
        assert_eq!(app.get("/api/v1/employments", &w.company).await.body["total"], 0);
    }

    async fn cancel_and_no_show_free_the_position_for_another_citizen(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &task_body()).await;
        let (a, b) = (person(&app, &w.coord, 1).await, person(&app, &w.coord, 2).await);
        let c = person(&app, &w.coord, 3).await;
        let pa = accepted(&app, &w.coord, &t, &a).await;
        let pb = accepted(&app, &w.coord, &t, &b).await;
        let pc = accepted(&app, &w.coord, &t, &c).await;
        approve(&app, &w.coord, &pa).await.expect(200);
        assert_eq!(task(&app, &w.coord, &t).await["status"], "filled");
        approve(&app, &w.coord, &pb).await.expect_problem(409, "no_free_position");
        // The coordinator cancels the approved placement: the task is open again.
        let r = app.post(&format!("/api/v1/placements/{pa}/cancel"), &w.coord, &json!({ "reason": "Syg" })).await;
        r.expect(200);
        assert_eq!((&r.body["state"], &r.body["reason"]), (&json!("cancelled"), &json!("Syg")));
        let v = task(&app, &w.coord, &t).await;
        assert_eq!((&v["status"], &v["positions_filled"]), (&json!("open"), &json!(0)));
        approve(&app, &w.coord, &pb).await.expect(200);
        assert_eq!(task(&app, &w.coord, &t).await["status"], "filled");
        // The company records a no-show: open again, and the third citizen gets the position.
        let r = step(&app, &w.company, &format!("/api/v1/placements/{pb}/no-show")).await;
        r.expect(200);
        assert_eq!(r.body["state"], "no_show");
        let v = task(&app, &w.company, &t).await;
        assert_eq!((&v["status"], &v["positions_filled"]), (&json!("open"), &json!(0)));
        approve(&app, &w.coord, &pc).await.expect(200);
        let v = task(&app, &w.company, &t).await;
        assert_eq!((&v["status"], &v["positions_filled"]), (&json!("filled"), &json!(1)));
        assert_eq!(actions(&audit_of(&app, &w.coord, &pa).await)[0], "placement.cancel");
        assert_eq!(actions(&audit_of(&app, &w.coord, &pb).await)[0], "placement.no_show");
    }

    async fn illegal_placement_steps_are_409(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &with(task_body(), json!({ "positions": 2 }))).await;
        let (a, b) = (person(&app, &w.coord, 1).await, person(&app, &w.coord, 2).await);
        let me = app.citizen(&a);
        let p = offer(&app, &w.coord, &t, &a).await;
        approve(&app, &w.coord, &p).await.expect_problem(409, "illegal_transition");
        let offer_again = format!("/api/v1/placements/{p}/offer");
        let no_show = format!("/api/v1/placements/{p}/no-show");
        step(&app, &w.coord, &offer_again).await.expect_problem(409, "illegal_transition");
        step(&app, &w.coord, &no_show).await.expect_problem(409, "illegal_transition");
        step(&app, &me, &format!("/api/v1/me/offers/{p}/accept")).await.expect(200);
        step(&app, &me, &format!("/api/v1/me/offers/{p}/accept")).await.expect_problem(409, "illegal_transition");
        step(&app, &me, &format!("/api/v1/me/offers/{p}/decline")).await.expect_problem(409, "illegal_transition");
        step(&app, &w.coord, &no_show).await.expect_problem(409, "illegal_transition");
        approve(&app, &w.coord, &p).await.expect(200);
        approve(&app, &w.coord, &p).await.expect_problem(409, "illegal_transition");
        app.post(&format!("/api/v1/placements/{p}/reject"), &w.coord, &json!({ "reason": "for sent" }))
            .await
            .expect_problem(409, "illegal_transition");
        app.post("/api/v1/placements", &w.coord, &json!({ "task_id": t, "citizen_id": a }))
            .await
            .expect_problem(409, "placement_exists");
        let q = offer(&app, &w.coord, &t, &b).await;
        let cancel = format!("/api/v1/placements/{q}/cancel");
        step(&app, &w.coord, &cancel).await.expect(200);
        step(&app, &w.coord, &cancel).await.expect_problem(409, "illegal_transition");
        step(&app, &app.citizen(&b), &format!("/api/v1/me/offers/{q}/accept"))
            .await
            .expect_problem(409, "illegal_transition");
        assert_eq!(placement(&app, &w.coord, &p).await["state"], "approved");
        assert_eq!(task(&app, &w.coord, &t).await["positions_filled"], 1);
    }

    async fn a_step_by_the_wrong_role_is_403(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &with(task_body(), json!({ "positions": 2 }))).await;
        let c = person(&app, &w.coord, 1).await;
        let me = app.citizen(&c);
        app.post("/api/v1/placements", &w.company, &json!({ "task_id": t, "citizen_id": c }))
            .await
            .expect_problem(403, "forbidden");
        app.post("/api/v1/placements", &me, &json!({ "task_id": t, "citizen_id": c }))
            .await
            .expect_problem(403, "forbidden");
        let interest = format!("/api/v1/me/tasks/{t}/interest");
        app.post(&interest, &w.coord, &json!({})).await.expect_problem(403, "forbidden");
        let p = offer(&app, &w.coord, &t, &c).await;
        step(&app, &w.coord, &format!("/api/v1/me/offers/{p}/accept")).await.expect_problem(403, "forbidden");
        step(&app, &w.coord, &format!("/api/v1/me/offers/{p}/decline")).await.expect_problem(403, "forbidden");
        // The company does not see an offer at all until the citizen is approved.
        step(&app, &w.company, &format!("/api/v1/me/offers/{p}/accept")).await.expect_problem(404, "not_found");
        step(&app, &w.company, &format!("/api/v1/me/offers/{p}/decline")).await.expect_problem(404, "not_found");
        step(&app, &me, &format!("/api/v1/placements/{p}/cancel")).await.expect_problem(403, "forbidden");
        step(&app, &me, &format!("/api/v1/me/offers/{p}/accept")).await.expect(200);
        for token in [&me, &w.company] {
            approve(&app, token, &p).await.expect_problem(403, "forbidden");
        }
        app.post(&format!("/api/v1/placements/{p}/reject"), &me, &json!({ "reason": "nej" }))
            .await
            .expect_problem(403, "forbidden");
        // Not approved yet, so not the company's to see.
        app.post(&format!("/api/v1/placements/{p}/reject"), &w.company, &json!({ "reason": "nej" }))
            .await
            .expect_problem(404, "not_found");
        assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
        approve(&app, &w.coord, &p).await.expect(200);
        step(&app, &me, &format!("/api/v1/placements/{p}/cancel")).await.expect_problem(403, "forbidden");
        step(&app, &me, &format!("/api/v1/placements/{p}/no-show")).await.expect_problem(403, "forbidden");
        assert_eq!(placement(&app, &w.coord, &p).await["state"], "approved");
        // Interest: the citizen's to make, the coordinator's to turn into an offer.
        let d = person(&app, &w.coord, 2).await;
        let i = app.post(&interest, &app.citizen(&d), &json!({})).await;
        let i = i.body["id"].as_str().unwrap().to_owned();
        step(&app, &app.citizen(&d), &format!("/api/v1/placements/{i}/offer")).await.expect_problem(403, "forbidden");
        step(&app, &w.company, &format!("/api/v1/placements/{i}/offer")).await.expect_problem(404, "not_found");
        assert_eq!(placement(&app, &w.coord, &i).await["state"], "interested");
    }

    async fn a_citizen_cannot_see_or_answer_another_citizens_placement(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &task_body()).await;
        let (a, b) = (person(&app, &w.coord, 1).await, person(&app, &w.coord, 2).await);
        let p = offer(&app, &w.coord, &t, &a).await;
        let other = app.citizen(&b);
        app.get(&format!("/api/v1/placements/{p}"), &other).await.expect_problem(404, "not_found");
        for action in ["accept", "decline"] {
            step(&app, &other, &format!("/api/v1/me/offers/{p}/{action}")).await.expect_problem(404, "not_found");
        }
        assert_eq!(app.get("/api/v1/placements", &other).await.body["total"], 0);
        assert_eq!(app.get("/api/v1/me/offers", &other).await.body["total"], 0);
        // Nor can another municipality's coordinator or another company.
        app.get(&format!("/api/v1/placements/{p}"), &app.coordinator("751")).await.expect_problem(404, "not_found");
        let (_, bravo) = self_registered_company(&app, &w.coord, 2, "Bravo ApS").await;
        app.get(&format!("/api/v1/placements/{p}"), &bravo).await.expect_problem(404, "not_found");
        assert_eq!(app.get("/api/v1/placements", &bravo).await.body["total"], 0);
        // The placement's own citizen and the coordinator see it; the task's company sees the
        // citizens placed with it, not those merely offered the task.
        assert_eq!(placement(&app, &app.citizen(&a), &p).await["state"], "offered");
        app.get(&format!("/api/v1/placements/{p}"), &w.company).await.expect_problem(404, "not_found");
        assert_eq!(page_ids(&app.get("/api/v1/placements", &app.citizen(&a)).await.body), vec![p.clone()]);
        assert_eq!(placement(&app, &app.citizen(&a), &p).await["state"], "offered", "untouched");
    }
}

/// Approval checks: each refusal with a setup that triggers exactly it, then the fix lets it pass.
mod approval {
    use super::*;

    both_backends! {
        async fn approval_needs_the_task_to_be_open(app) {
            let w = hiring(&app).await;
            let t = open_task(&app, &w.company, &task_body()).await;
            let p = accepted(&app, &w.coord, &t, &person(&app, &w.coord, 1).await).await;
            // A task that stops being open under an approval in flight (set directly, as a
            // concurrent completion would) refuses it.
            {
                let mut conn = app.pool.get().unwrap();
                let mut task = smaajob_persistence::repo::tasks::lock(&mut conn, &t).unwrap();
                task.status = smaajob_domain::TaskStatus::Completed;
                smaajob_persistence::repo::tasks::update(&mut conn, &task).unwrap();
            }
            approve(&app, &w.coord, &p).await.expect_problem(409, "task_not_open");
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
            assert_eq!(app.get("/api/v1/employments", &w.company).await.body["total"], 0);
        }

        async fn approval_needs_a_free_position(app) {
            let w = hiring(&app).await;
            let t = open_task(&app, &w.company, &task_body()).await;
            let first = accepted(&app, &w.coord, &t, &person(&app, &w.coord, 1).await).await;
            let second = accepted(&app, &w.coord, &t, &person(&app, &w.coord, 2).await).await;
            approve(&app, &w.coord, &first).await.expect(200);
            approve(&app, &w.coord, &second).await.expect_problem(409, "no_free_position");
            assert_eq!(placement(&app, &w.coord, &second).await["state"], "accepted");
            assert_eq!(app.get("/api/v1/employments", &w.company).await.body["total"], 1);
            step(&app, &w.coord, &format!("/api/v1/placements/{first}/cancel")).await.expect(200);
            approve(&app, &w.coord, &second).await.expect(200);
        }

        async fn approval_needs_a_verified_company(app) {
            let w = hiring(&app).await;
            let t = open_task(&app, &w.company, &task_body()).await;
            let p = accepted(&app, &w.coord, &t, &person(&app, &w.coord, 1).await).await;
            let company = format!("/api/v1/companies/{}", w.company_id);
            let reject = json!({ "verified": false, "verification_reason": "Ejerskifte, skal tjekkes igen" });
            app.patch(&company, &w.coord, &reject).await.expect(200);
            approve(&app, &w.coord, &p).await.expect_problem(409, "company_not_verified");
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
            app.patch(&company, &w.coord, &json!({ "verified": true })).await.expect(200);
            approve(&app, &w.coord, &p).await.expect(200);
        }

        async fn a_frikort_only_task_needs_a_card_active_through_the_whole_schedule(app) {
            let w = hiring(&app).await;
            let body = with(task_body(), json!({
                "frikort_only": true, "positions": 4, "schedule": weekly(&["sat"], "08:00", "12:00", day(7), day(34))
            }));
            let t = open_task(&app, &w.company, &body).await;
            let none = person(&app, &w.coord, 1).await;
            let (late, _) = app.card_holder(&w.coord, &cpr(2), "Borger 2", &day(21).to_string()).await;
            let deactivated = holder(&app, &w.coord, 3).await;
            app.post(&format!("/api/v1/citizens/{deactivated}/frikort/deactivate"), &w.coord, &json!({
                "reason": "Flyttet til udlandet"
            })).await.expect(200);
            let ok = holder(&app, &w.coord, 4).await;
            for c in [&none, &late, &deactivated] {
                let p = accepted(&app, &w.coord, &t, c).await;
                approve(&app, &w.coord, &p).await.expect_problem(422, "no_active_card_for_schedule");
                assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
            }
            approved(&app, &w.coord, &t, &ok).await;
            assert_eq!(task(&app, &w.coord, &t).await["positions_filled"], 1);
            // The same citizens are fine on a task for every small-job seeker.
            let open_to_all = open_task(&app, &w.company, &with(body, json!({ "frikort_only": false }))).await;
            for c in [&none, &late, &deactivated] {
                approved(&app, &w.coord, &open_to_all, c).await;
            }
        }

        async fn approval_refuses_a_shift_overlapping_an_approved_placement(app) {
            let w = hiring(&app).await;
            let d = day(10);
            let first = open_task(&app, &w.company, &shift(d, "08:00", "12:00", "4", "140.00")).await;
            let overlapping = open_task(&app, &w.company, &shift(d, "11:00", "15:00", "4", "140.00")).await;
            let touching = open_task(&app, &w.company, &shift(d, "12:00", "16:00", "4", "140.00")).await;
            let tomorrow = shift(d + Duration::days(1), "08:00", "12:00", "4", "140.00");
            let next_day = open_task(&app, &w.company, &tomorrow).await;
            let c = person(&app, &w.coord, 1).await;
            let p = accepted(&app, &w.coord, &overlapping, &c).await;
            approved(&app, &w.coord, &first, &c).await;
            approve(&app, &w.coord, &p).await.expect_problem(409, "overlapping_placement");
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
            approved(&app, &w.coord, &touching, &c).await;
            approved(&app, &w.coord, &next_day, &c).await;
            // Another citizen is not affected by this one's placements.
            approved(&app, &w.coord, &overlapping, &person(&app, &w.coord, 2).await).await;
        }

        async fn approval_respects_the_citizens_weekly_hours_limit(app) {
            let w = hiring(&app).await;
            let c = limited(&app, &w.coord, 1, 6).await;
            // 4 h every Saturday and Sunday is 8 h a week: over the limit of 6 on its own.
            let weekend = with(shift(day(7), "08:00", "12:00", "4", "140.00"), json!({
                "schedule": weekly(&["sat", "sun"], "08:00", "12:00", day(7), day(20))
            }));
            let weekend = open_task(&app, &w.company, &weekend).await;
            let p = accepted(&app, &w.coord, &weekend, &c).await;
            approve(&app, &w.coord, &p).await.expect_problem(422, "weekly_hours_exceeded");
            // 4 h, then 3 h more: together over the limit.
            let (d1, d2) = (day(10), day(11));
            // In the afternoon, so they never overlap the weekend mornings.
            let four = open_task(&app, &w.company, &shift(d1, "13:00", "17:00", "4", "140.00")).await;
            let three = open_task(&app, &w.company, &shift(d2, "13:00", "17:00", "3", "140.00")).await;
            approved(&app, &w.coord, &four, &c).await;
            let q = accepted(&app, &w.coord, &three, &c).await;
            approve(&app, &w.coord, &q).await.expect_problem(422, "weekly_hours_exceeded");
            assert_eq!(placement(&app, &w.coord, &q).await["state"], "accepted");
            app.patch(&format!("/api/v1/citizens/{c}"), &w.coord, &json!({
                "availability": { "slots": [], "max_hours_per_week": 7 }
            })).await.expect(200);
            approve(&app, &w.coord, &q).await.expect(200);
            approve(&app, &w.coord, &p).await.expect_problem(422, "weekly_hours_exceeded");
        }

        async fn approval_past_the_remaining_frikort_amount_needs_accept_taxable_excess(app) {
            let w = hiring(&app).await;
            // One 20-hour shift at 2,400 kr/h: 48,000 kr + 6,000 kr holiday pay, above any cap so far.
            let date = day(7);
            let t = open_task(&app, &w.company, &shift(date, "00:00", "20:00", "20", "2400.00")).await;
            let c = holder(&app, &w.coord, 1).await;
            let cap = cap_ore(&app, &w.coord, date.year()).await;
            let pay = 5_400_000;
            assert!(pay > cap, "the cap of {} is {}", date.year(), kr(cap));
            let p = accepted(&app, &w.coord, &t, &c).await;
            let r = approve(&app, &w.coord, &p).await;
            r.expect_problem(422, "would_exceed_frikort");
            let detail = r.body["detail"].as_str().unwrap();
            assert!(detail.contains(&kr(pay - cap)), "{detail}");
            let path = format!("/api/v1/placements/{p}/approve");
            app.post(&path, &w.coord, &json!({ "accept_taxable_excess": false }))
                .await
                .expect_problem(422, "would_exceed_frikort");
            let r = app.send(Method::POST, &path, Some(&w.coord), None, Vec::new()).await;
            r.expect_problem(422, "would_exceed_frikort");
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
            assert_eq!(app.get("/api/v1/employments", &w.company).await.body["total"], 0);
            let r = app.post(&path, &w.coord, &json!({ "accept_taxable_excess": true })).await;
            r.expect(200);
            assert_eq!(r.body["estimated_pay"], kr(pay));
            assert_eq!(r.body["estimated_taxable"], kr(pay - cap));
            assert_eq!(r.body["employment"]["expected_pay"], kr(pay));
            let v = placement(&app, &w.coord, &p).await;
            assert_eq!((&v["state"], &v["estimated_taxable"]), (&json!("approved"), &json!(kr(pay - cap))));
        }

        async fn planned_pay_of_other_approved_placements_counts_against_the_remaining_amount(app) {
            let w = hiring(&app).await;
            let (d1, d2) = two_days_in_one_year();
            let cap = cap_ore(&app, &w.coord, d1.year()).await;
            // First: 20 h at a wage that leaves 400 kr of the cap (a multiple of 8 keeps the holiday pay whole).
            let first_pay = cap - 40_000;
            let wage = first_pay / 20 * 1000 / 1125 / 8 * 8;
            let first_pay = wage * 20 * 1125 / 1000;
            let left = cap - first_pay;
            assert!((40_000..40_200).contains(&left), "cap {} wage {} left {}", kr(cap), kr(wage), kr(left));
            let big = open_task(&app, &w.company, &shift(d1, "00:00", "20:00", "20", &kr(wage))).await;
            // Second: 4 h at 200 kr = 900 kr with holiday pay, more than what is left.
            let small = open_task(&app, &w.company, &shift(d2, "08:00", "12:00", "4", "200.00")).await;
            let c = holder(&app, &w.coord, 1).await;
            let a = approved(&app, &w.coord, &big, &c).await;
            assert_eq!((&a["estimated_pay"], &a["estimated_taxable"]), (&json!(kr(first_pay)), &json!("0.00")));
            let p = accepted(&app, &w.coord, &small, &c).await;
            approve(&app, &w.coord, &p).await.expect_problem(422, "would_exceed_frikort");
            let go_ahead = json!({ "accept_taxable_excess": true });
            let r = app.post(&format!("/api/v1/placements/{p}/approve"), &w.coord, &go_ahead).await;
            r.expect(200);
            let estimate = (&r.body["estimated_pay"], &r.body["estimated_taxable"]);
            assert_eq!(estimate, (&json!("900.00"), &json!(kr(90_000 - left))));
            // A citizen without those plans gets the small task within the amount.
            let other = holder(&app, &w.coord, 2).await;
            let small2 = open_task(&app, &w.company, &shift(d2, "08:00", "12:00", "4", "200.00")).await;
            assert_eq!(approved(&app, &w.coord, &small2, &other).await["estimated_taxable"], "0.00");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Concurrency: two coordinators approving at once.

/// Sends each approval `(token, placement)` at once, each in its own task; the responses in order.
async fn approve_at_once(app: &Rc<TestApp>, approvals: Vec<(String, String)>) -> Vec<Resp> {
    let posts = approvals
        .iter()
        .map(|(token, placement)| Post::new(&format!("/api/v1/placements/{placement}/approve"), token, &json!({})));
    at_once(app, posts).await
}

/// The approved placements of a task, as the coordinator lists them.
async fn approved_on(app: &TestApp, coord: &str, task: &str) -> usize {
    let r = app.get("/api/v1/placements?state=approved&limit=200", coord).await;
    r.expect(200);
    r.body["items"].as_array().unwrap().iter().filter(|p| p["task_id"] == task).count()
}

/// Exactly one of two concurrent approvals won; the other lost with `status` and `code`:
/// (winner, loser) as indexes.
#[track_caller]
fn one_winner(results: &[Resp], status: u16, code: &str, round: i64) -> (usize, usize) {
    let mut statuses = [results[0].status, results[1].status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, status], "round {round}: {} / {}", results[0].body, results[1].body);
    let (winner, loser) = if results[0].status == 200 { (0, 1) } else { (1, 0) };
    results[loser].expect_problem(status, code);
    (winner, loser)
}

async fn race_for_the_last_position(app: Rc<TestApp>) {
    let w = hiring(&app).await;
    let second = colleague(&app, "730", "coord-730-kollega");
    let mut n = 0;
    for round in 0..4 {
        let positions = 1 + round % 3;
        let body =
            with(task_body(), json!({ "positions": positions, "schedule": single(day(7 + round), "08:00", "12:00") }));
        let t = open_task(&app, &w.company, &body).await;
        for _ in 1..positions {
            n += 1;
            approved(&app, &w.coord, &t, &person(&app, &w.coord, n).await).await;
        }
        n += 1;
        let a = accepted(&app, &w.coord, &t, &person(&app, &w.coord, n).await).await;
        n += 1;
        let b = accepted(&app, &w.coord, &t, &person(&app, &w.coord, n).await).await;
        let results = approve_at_once(&app, vec![(w.coord.clone(), a.clone()), (second.clone(), b.clone())]).await;
        let (winner, loser) = one_winner(&results, 409, "no_free_position", round);
        let ids = [&a, &b];
        assert_eq!(placement(&app, &w.coord, ids[winner]).await["state"], "approved");
        assert_eq!(placement(&app, &w.coord, ids[loser]).await["state"], "accepted");
        let v = task(&app, &w.coord, &t).await;
        assert_eq!((&v["status"], &v["positions_filled"]), (&json!("filled"), &json!(positions)), "round {round}");
        assert_eq!(approved_on(&app, &w.coord, &t).await, positions as usize, "round {round}");
    }
    let employments = app.get("/api/v1/employments?limit=200", &w.company).await;
    assert_eq!(employments.body["total"], 1 + 2 + 3 + 1, "one employment per approval, none for a lost race");
}

/// One citizen accepted on two tasks whose shifts overlap, approved by two coordinators at once:
/// the checks that span the citizen's placements must see each other, so only one may pass.
async fn race_for_one_citizen(app: Rc<TestApp>) {
    let w = hiring(&app).await;
    let second = colleague(&app, "730", "coord-730-kollega");
    for round in 0..5 {
        let d = day(7 + round);
        let morning = open_task(&app, &w.company, &shift(d, "08:00", "12:00", "4", "140.00")).await;
        let midday = open_task(&app, &w.company, &shift(d, "10:00", "14:00", "4", "140.00")).await;
        let c = person(&app, &w.coord, 100 + u32::try_from(round).unwrap()).await;
        let a = accepted(&app, &w.coord, &morning, &c).await;
        let b = accepted(&app, &w.coord, &midday, &c).await;
        let results = approve_at_once(&app, vec![(w.coord.clone(), a), (second.clone(), b)]).await;
        one_winner(&results, 409, "overlapping_placement", round);
        let all = app.get("/api/v1/placements?state=approved&limit=200", &w.coord).await;
        let mine = all.body["items"].as_array().unwrap().iter().filter(|p| p["citizen_id"] == c.as_str()).count();
        assert_eq!(mine, 1, "round {round}: the citizen holds two overlapping approved placements");
    }
}

/// A card holder accepted on two tasks (on different days) whose expected pay each fits the
/// remaining frikort amount but together crosses it, approved at once without
/// `accept_taxable_excess`: only one may pass, the other must see the first's planned pay.
async fn race_for_one_citizens_headroom(app: Rc<TestApp>) {
    let w = hiring(&app).await;
    let second = colleague(&app, "730", "coord-730-kollega");
    let (d1, d2) = two_days_in_one_year();
    let cap = cap_ore(&app, &w.coord, d1.year()).await;
    // 20 h at a wage making about 60 % of the cap with holiday pay.
    let wage = cap * 6 / 10 / 20 * 1000 / 1125 / 8 * 8;
    for round in 0..3 {
        let first = open_task(&app, &w.company, &shift(d1, "00:00", "20:00", "20", &kr(wage))).await;
        let next = open_task(&app, &w.company, &shift(d2, "00:00", "20:00", "20", &kr(wage))).await;
        let c = holder(&app, &w.coord, 200 + u32::try_from(round).unwrap()).await;
        let a = accepted(&app, &w.coord, &first, &c).await;
        let b = accepted(&app, &w.coord, &next, &c).await;
        let results = approve_at_once(&app, vec![(w.coord.clone(), a), (second.clone(), b)]).await;
        one_winner(&results, 422, "would_exceed_frikort", round);
    }
}

/// Approvals racing. The checks spanning one citizen's placements (overlap, weekly hours, frikort
/// headroom) hold when two approvals of that citizen race: the citizen's row is locked during an
/// approval.
mod races {
    use super::*;

    both_backends! {
        async fn two_coordinators_approving_for_the_last_position_at_once_fill_it_exactly_once(app) {
            race_for_the_last_position(Rc::new(app)).await;
        }

        async fn approving_one_citizen_for_two_overlapping_tasks_at_once_approves_only_one(app) {
            race_for_one_citizen(Rc::new(app)).await;
        }

        async fn approving_one_citizen_for_two_tasks_at_once_never_spends_the_same_frikort_headroom_twice(app) {
            race_for_one_citizens_headroom(Rc::new(app)).await;
        }
    }
}
