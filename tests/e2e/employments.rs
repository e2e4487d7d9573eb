//! Employments over HTTP: a company registers for itself by CPR + card number (one generic
//! refusal for every mismatch), a coordinator by citizen id for a named company, who sees which
//! employments, ending one, and retries with an `Idempotency-Key`.

use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// Enrols a citizen of the coordinator's municipality and issues a card with a chosen number.
async fn holder_with_number(app: &TestApp, coordinator: &str, cpr: &str, name: &str, number: &str) -> String {
    let id = app.enrol(coordinator, cpr, name).await;
    let body = json!({ "attestations": attestations(true), "valid_from": "2019-01-01", "number": number });
    app.post(&format!("/api/v1/citizens/{id}/frikort"), coordinator, &body).await.expect(201);
    id
}

both_backends! {
    async fn a_company_registers_an_employment_naming_the_citizen_by_cpr_and_card_number(app) {
        let coordinator = app.coordinator("730");
        let citizen = holder_with_number(&app, &coordinator, JENS, "Jens Hansen", "11111").await;
        let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
        let t = app.company(&company);
        // The dash of the CPR number is optional.
        let body = json!({
            "citizen": { "cpr": "0101901234", "frikort_number": "11111" },
            "start_date": "2024-01-01",
            "end_date": "2024-12-31",
            "expected_hours_per_week": "8",
            "expected_pay": "20000.00",
            "contact": { "name": "Karen Bager", "phone": "+4512345678" },
        });
        let r = app.post("/api/v1/employments", &t, &body).await;
        r.expect(201);
        let e = &r.body;
        assert_eq!(e["citizen_id"], citizen.as_str());
        assert_eq!(e["citizen_name"], "Jens Hansen");
        assert_eq!(e["company_id"], company.as_str());
        assert_eq!(e["company_name"], "Bager Hansen");
        assert_eq!(e["start_date"], "2024-01-01");
        assert_eq!(e["end_date"], "2024-12-31");
        assert_eq!(e["expected_hours_per_week"], "8.00");
        assert_eq!(e["expected_pay"], "20000.00");
        assert_eq!(e["contact"]["name"], "Karen Bager");
        assert_eq!(e["status"], "active");
        assert_eq!(e["registered_by"], format!("company-{company}"));
        assert!(e["ended_at"].is_null() && e["end_reason"].is_null(), "body: {e}");
        assert!(!String::from_utf8_lossy(&r.raw).contains("010190"), "the CPR number is never echoed: {e}");

        let id = e["id"].as_str().unwrap();
        let got = app.get(&format!("/api/v1/employments/{id}"), &t).await;
        got.expect(200);
        assert_eq!(got.body, r.body);
    }

    async fn every_mismatch_of_cpr_and_card_number_gets_one_and_the_same_refusal(app) {
        let coordinator = app.coordinator("730");
        holder_with_number(&app, &coordinator, JENS, "Jens Hansen", "11111").await;
        holder_with_number(&app, &coordinator, MARIE, "Marie Jensen", "22222").await;
        let deactivated = holder_with_number(&app, &coordinator, OLE, "Ole Olsen", "33333").await;
        deactivate(&app, &coordinator, &deactivated, "betingelserne er ikke længere opfyldt").await;
        app.enrol(&coordinator, ANNA, "Anna Berg").await;
        let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
        let t = app.company(&company);

        let cases = [
            ("a CPR number nobody has", "050590-1678", "11111"),
            ("a wrong card number", JENS, "11112"),
            ("a deactivated card", OLE, "33333"),
            ("another citizen's card", JENS, "22222"),
            ("a citizen without a card", ANNA, "11111"),
        ];
        let mut first: Option<Value> = None;
        for (n, (what, cpr, number)) in (10..).zip(cases) {
            // A company each: five wrong guesses from one company would lock it out (see `guessing`).
            let guesser = app.company(&app.register_company(&coordinator, &cvr(n), &format!("Firma {n}")).await);
            let r = app.post("/api/v1/employments", &guesser, &employment_by_card(cpr, number, "2024-01-01")).await;
            r.expect_problem(422, "citizen_not_matched");
            assert!(r.body.get("errors").is_none(), "{what}: no hint which part was wrong: {}", r.body);
            // Every answer quotes its own request id; all else must be the same.
            let mut body = r.body.clone();
            body.as_object_mut().map(|b| b.remove("request_id"));
            match &first {
                None => first = Some(body),
                Some(same) => assert_eq!(&body, same, "{what} is refused exactly like the others"),
            }
        }
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &t).await), Vec::<String>::new());
        // The right pair still works.
        app.register_employment(&t, &employment_by_card(MARIE, "22222", "2024-01-01")).await;
    }

    async fn a_company_cannot_register_an_employment_for_another_company_and_a_citizen_cannot_register_one(app) {
        let coordinator = app.coordinator("730");
        let citizen = holder_with_number(&app, &coordinator, JENS, "Jens Hansen", "11111").await;
        let own = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
        let other = app.register_company(&coordinator, &cvr(2), "Tømrer Olsen").await;
        let t = app.company(&own);

        let mut body = employment_by_card(JENS, "11111", "2024-01-01");
        body["company_id"] = json!(other);
        app.post("/api/v1/employments", &t, &body).await.expect_problem(403, "forbidden");
        app.post("/api/v1/employments", &app.citizen(&citizen), &employment_by_card(JENS, "11111", "2024-01-01"))
            .await
            .expect_problem(403, "forbidden");
        // A company names the citizen by CPR and card number, never by id.
        let r = app
            .post(
                "/api/v1/employments",
                &t,
                &json!({
                    "citizen_id": citizen, "start_date": "2024-01-01", "contact": { "name": "Karen Bager" },
                }),
            )
            .await;
        expect_field_error(&r, "citizen_id", "not_allowed");
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &coordinator).await), Vec::<String>::new());

        // Its own id is fine.
        body["company_id"] = json!(own);
        let id = app.register_employment(&t, &body).await;
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &coordinator).await), [id]);
    }

    async fn a_coordinator_registers_by_citizen_id_for_a_named_company_of_its_own_citizens_only(app) {
        let randers = app.coordinator("730");
        let aarhus = app.coordinator("751");
        let own = holder_with_number(&app, &randers, JENS, "Jens Hansen", "11111").await;
        let foreign = holder_with_number(&app, &aarhus, MARIE, "Marie Jensen", "22222").await;
        let company = app.register_company(&randers, CVR_A, "Bager Hansen").await;

        let r = app.post("/api/v1/employments", &randers, &employment_by_id(&own, &company, "2024-02-01")).await;
        r.expect(201);
        assert_eq!(r.body["citizen_id"], own.as_str());
        assert_eq!(r.body["company_id"], company.as_str());
        assert_eq!(r.body["registered_by"], "coord-730");
        let registered = r.body["id"].as_str().unwrap().to_owned();

        let mut without_company = employment_by_id(&own, &company, "2024-02-01");
        without_company.as_object_mut().unwrap().remove("company_id");
        expect_field_error(
            &app.post("/api/v1/employments", &randers, &without_company).await,
            "company_id",
            "required",
        );
        app.post("/api/v1/employments", &randers, &employment_by_id(&foreign, &company, "2024-02-01"))
            .await
            .expect_problem(404, "not_found");
        // By CPR + card number, another municipality's citizen is the generic refusal.
        let mut by_card = employment_by_card(MARIE, "22222", "2024-02-01");
        by_card["company_id"] = json!(company);
        app.post("/api/v1/employments", &randers, &by_card).await.expect_problem(422, "citizen_not_matched");

        assert_eq!(listed_ids(&app.get("/api/v1/employments", &randers).await), [registered]);
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &aarhus).await), Vec::<String>::new());
    }

    async fn a_citizen_without_an_active_card_cannot_be_employed(app) {
        let coordinator = app.coordinator("730");
        let without = app.enrol(&coordinator, JENS, "Jens Hansen").await;
        let deactivated = holder_with_number(&app, &coordinator, MARIE, "Marie Jensen", "22222").await;
        deactivate(&app, &coordinator, &deactivated, "betingelserne er ikke længere opfyldt").await;
        let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
        for citizen in [&without, &deactivated] {
            app.post("/api/v1/employments", &coordinator, &employment_by_id(citizen, &company, "2024-01-01"))
                .await
                .expect_problem(422, "no_active_card");
        }
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &coordinator).await), Vec::<String>::new());
    }

    async fn a_company_sees_its_current_and_former_employees_and_never_another_company_s(app) {
        let coordinator = app.coordinator("730");
        holder_with_number(&app, &coordinator, JENS, "Jens Hansen", "11111").await;
        holder_with_number(&app, &coordinator, MARIE, "Marie Jensen", "22222").await;
        let a = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
        let b = app.register_company(&coordinator, &cvr(2), "Tømrer Olsen").await;
        let (ta, tb) = (app.company(&a), app.company(&b));
        let a_current = app.register_employment(&ta, &employment_by_card(JENS, "11111", "2024-03-01")).await;
        let a_former = app.register_employment(&ta, &employment_by_card(MARIE, "22222", "2024-01-01")).await;
        app.post(&format!("/api/v1/employments/{a_former}/end"), &ta, &json!({ "end_date": "2024-02-29" }))
            .await
            .expect(200);
        // Company B employs one of the same citizens.
        let b_own = app.register_employment(&tb, &employment_by_card(JENS, "11111", "2024-05-01")).await;

        assert_eq!(listed_ids(&app.get("/api/v1/employments", &ta).await), sorted(vec![&a_current, &a_former]));
        assert_eq!(listed_ids(&app.get("/api/v1/employments?status=active", &ta).await), [a_current.as_str()]);
        assert_eq!(listed_ids(&app.get("/api/v1/employments?status=ended", &ta).await), [a_former.as_str()]);
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &tb).await), [b_own.as_str()]);
        app.get(&format!("/api/v1/employments/{b_own}"), &ta).await.expect_problem(404, "not_found");
        app.get(&format!("/api/v1/employments/{a_former}"), &tb).await.expect_problem(404, "not_found");
        app.get(&format!("/api/v1/employments/{a_former}"), &ta).await.expect(200);
        let total = app.get("/api/v1/employments", &ta).await;
        assert_eq!(total.body["total"], 2);
    }

    async fn a_coordinator_sees_only_the_employments_of_its_own_municipality_s_citizens(app) {
        let randers = app.coordinator("730");
        let aarhus = app.coordinator("751");
        holder_with_number(&app, &randers, JENS, "Jens Hansen", "11111").await;
        holder_with_number(&app, &aarhus, MARIE, "Marie Jensen", "22222").await;
        let company = app.register_company(&randers, CVR_A, "Bager Hansen").await;
        let t = app.company(&company);
        let in_randers = app.register_employment(&t, &employment_by_card(JENS, "11111", "2024-01-01")).await;
        let in_aarhus = app.register_employment(&t, &employment_by_card(MARIE, "22222", "2024-01-01")).await;

        assert_eq!(listed_ids(&app.get("/api/v1/employments", &randers).await), [in_randers.as_str()]);
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &aarhus).await), [in_aarhus.as_str()]);
        app.get(&format!("/api/v1/employments/{in_randers}"), &aarhus).await.expect_problem(404, "not_found");
        app.get(&format!("/api/v1/employments/{in_aarhus}"), &randers).await.expect_problem(404, "not_found");
        // The company sees both: its employees live in different municipalities.
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &t).await), sorted(vec![&in_randers, &in_aarhus]));
    }

    async fn a_citizen_sees_only_their_own_employments(app) {
        let coordinator = app.coordinator("730");
        let jens = holder_with_number(&app, &coordinator, JENS, "Jens Hansen", "11111").await;
        let marie = holder_with_number(&app, &coordinator, MARIE, "Marie Jensen", "22222").await;
        let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
        let t = app.company(&company);
        let of_jens = app.register_employment(&t, &employment_by_card(JENS, "11111", "2024-01-01")).await;
        let of_marie = app.register_employment(&t, &employment_by_card(MARIE, "22222", "2024-01-01")).await;

        let tj = app.citizen(&jens);
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &tj).await), [of_jens.as_str()]);
        app.get(&format!("/api/v1/employments/{of_jens}"), &tj).await.expect(200);
        app.get(&format!("/api/v1/employments/{of_marie}"), &tj).await.expect_problem(404, "not_found");
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &app.citizen(&marie)).await), [of_marie]);
        // A citizen cannot end an employment either.
        app.post(&format!("/api/v1/employments/{of_jens}/end"), &tj, &json!({})).await.expect_problem(403, "forbidden");
    }

    async fn an_ended_employment_takes_no_more_payouts_and_cannot_end_twice(app) {
        let coordinator = app.coordinator("730");
        holder_with_number(&app, &coordinator, JENS, "Jens Hansen", "11111").await;
        let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
        let t = app.company(&company);
        let id = app.register_employment(&t, &employment_by_card(JENS, "11111", "2024-01-01")).await;
        app.payout(&t, &id, &payout_body("2024-03-05", "2024-03-01", "2024-03-04", "1000.00")).await.expect(201);

        // Not before the last paid work.
        let r = app.post(&format!("/api/v1/employments/{id}/end"), &t, &json!({ "end_date": "2024-03-03" })).await;
        expect_field_error(&r, "end_date", "before_paid_work");

        let r = app
            .post(
                &format!("/api/v1/employments/{id}/end"),
                &t,
                &json!({ "end_date": "2024-03-31", "reason": "sæsonen er slut" }),
            )
            .await;
        r.expect(200);
        assert_eq!(r.body["status"], "ended");
        assert_eq!(r.body["end_date"], "2024-03-31");
        assert_eq!(r.body["end_reason"], "sæsonen er slut");
        assert!(r.body["ended_at"].is_string(), "body: {}", r.body);
        assert_eq!(app.get(&format!("/api/v1/employments/{id}"), &t).await.body["status"], "ended");

        let late = app.payout(&t, &id, &payout_body("2024-03-30", "2024-03-25", "2024-03-29", "500.00")).await;
        late.expect_problem(409, "employment_ended");
        app.post(&format!("/api/v1/employments/{id}/end"), &t, &json!({}))
            .await
            .expect_problem(409, "employment_ended");

        let payouts = app.get(&format!("/api/v1/employments/{id}/payouts"), &t).await;
        payouts.expect(200);
        assert_eq!(payouts.body["items"].as_array().unwrap().len(), 1, "the refused payout was not written");
    }

    async fn expected_hours_per_week_are_decimal_hours_like_every_other_number_of_hours(app) {
        let t = app.coordinator("730");
        let (citizen, _) = app.card_holder(&t, JENS, "Jens Hansen", "2019-01-01").await;
        let company = app.register_company(&t, CVR_A, "Bager Hansen").await;
        let body = |hours: Value| {
            with(employment_by_id(&citizen, &company, &date(0)), json!({ "expected_hours_per_week": hours }))
        };
        for (sent, code) in [
            (json!("0"), "out_of_range"),
            (json!("60.01"), "out_of_range"),
            (json!("-2"), "out_of_range"),
            (json!("7,5"), "hours_format"),
            (json!("7.555"), "hours_format"),
        ] {
            let r = app.post("/api/v1/employments", &t, &body(sent.clone())).await;
            expect_field_error(&r, "expected_hours_per_week", code);
        }
        // A JSON number is no longer read as hours.
        let r = app.post("/api/v1/employments", &t, &body(json!(7.5))).await;
        expect_field_error(&r, "expected_hours_per_week", "invalid_value");
        assert_eq!(app.get("/api/v1/employments", &t).await.body["total"], 0);
        let r = app.post("/api/v1/employments", &t, &body(json!("12.25"))).await;
        r.expect(201);
        assert_eq!(r.body["expected_hours_per_week"], "12.25");
        let listed = app.get(&format!("/api/v1/employments/{}", id(&r.body)), &t).await;
        assert_eq!(listed.body["expected_hours_per_week"], "12.25");
    }

    async fn an_end_date_before_the_start_is_refused(app) {
        let coordinator = app.coordinator("730");
        holder_with_number(&app, &coordinator, JENS, "Jens Hansen", "11111").await;
        let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
        let t = app.company(&company);

        let mut body = employment_by_card(JENS, "11111", "2024-06-01");
        body["end_date"] = json!("2024-05-31");
        expect_field_error(&app.post("/api/v1/employments", &t, &body).await, "end_date", "before_start");
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &t).await), Vec::<String>::new());

        let id = app.register_employment(&t, &employment_by_card(JENS, "11111", "2024-06-01")).await;
        let r = app.post(&format!("/api/v1/employments/{id}/end"), &t, &json!({ "end_date": "2024-05-31" })).await;
        expect_field_error(&r, "end_date", "before_start");
        assert_eq!(app.get(&format!("/api/v1/employments/{id}"), &t).await.body["status"], "active");
        // Ending on the first day is fine.
        let r = app.post(&format!("/api/v1/employments/{id}/end"), &t, &json!({ "end_date": "2024-06-01" })).await;
        r.expect(200);
        assert_eq!(r.body["end_date"], "2024-06-01");
    }

    async fn retrying_a_registration_with_the_same_idempotency_key_returns_the_same_employment(app) {
        let coordinator = app.coordinator("730");
        holder_with_number(&app, &coordinator, JENS, "Jens Hansen", "11111").await;
        let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
        let t = app.company(&company);
        let body = employment_by_card(JENS, "11111", "2024-01-01");

        let first = app.post_with_key("/api/v1/employments", &t, "ansaettelse-1", &body).await;
        first.expect(201);
        assert_eq!(first.header("idempotent-replayed"), None);
        let retry = app.post_with_key("/api/v1/employments", &t, "ansaettelse-1", &body).await;
        retry.expect(201);
        assert_eq!(retry.header("idempotent-replayed"), Some("true"));
        assert_eq!(retry.body, first.body);
        let id = first.body["id"].as_str().unwrap().to_owned();
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &t).await), [id.as_str()]);

        let mut other = body.clone();
        other["start_date"] = json!("2024-02-01");
        app.post_with_key("/api/v1/employments", &t, "ansaettelse-1", &other)
            .await
            .expect_problem(422, "idempotency_key_reused");
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &t).await), [id]);
    }
}
