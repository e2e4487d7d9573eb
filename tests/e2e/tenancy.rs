//! Tenancy: a municipality never sees or changes another municipality's citizens, cards,
//! employments, payouts, tasks, placements or hours; a company never another company's; a citizen
//! never another citizen's. A record outside the caller's scope answers exactly as an id that
//! does not exist, so ids cannot be probed.

use std::collections::BTreeSet;

use awc::http::Method;
use chrono::Datelike;
use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// Sends a request that must be refused as 404 `not_found`, and the same request with `id`
/// replaced by an id that does not exist: the two answers must not differ, so ids cannot be probed.
async fn assert_hidden(app: &TestApp, token: &str, method: &Method, path: &str, id: &str, body: Option<&Value>) {
    let what = format!("{method} {path}");
    let r = app.request(method, path, Some(token), body).await;
    assert_problem(&r, 404, "not_found", &what);
    let unknown = path.replace(id, &uuid::Uuid::new_v4().to_string());
    let none = app.request(method, &unknown, Some(token), body).await;
    assert_problem(&none, 404, "not_found", &format!("{what} with an unknown id"));
    assert_eq!(r.body["detail"], none.body["detail"], "{what}");
}

/// Randers (730) with two companies and two card holders: Jens works for A and for B, Mette for
/// B only. A paid Jens 40 000 kr in March 2024 and B paid him 10 000 kr in April, crossing the
/// 2024 cap (41 280 kr); then A reversed its payout, which re-split B's: an adjustment of B's.
/// B also paid Mette 1 000 kr.
struct TwoEmployers {
    coordinator: String,
    jens: String,
    jens_card: String,
    mette: String,
    a: String,
    b: String,
    a_token: String,
    b_token: String,
    jens_at_a: String,
    jens_at_b: String,
    mette_at_b: String,
    a_to_jens: String,
    b_to_jens: String,
    b_to_mette: String,
    /// A's reversal of its payout, as A got it.
    reversal: Resp,
}

impl TwoEmployers {
    async fn new(app: &TestApp) -> TwoEmployers {
        let coordinator = app.coordinator("730");
        let (jens, jens_card) = app.card_holder(&coordinator, JENS, "Jens Hansen", "2019-01-01").await;
        let (mette, mette_card) = app.card_holder(&coordinator, METTE, "Mette Jensen", "2019-01-01").await;
        let a = app.register_company(&coordinator, CVR_A, "Bager Hansen ApS").await;
        let b = app.register_company(&coordinator, &cvr(2), "Tømrer Olsen ApS").await;
        let (a_token, b_token) = (app.company(&a), app.company(&b));
        let jens_at_a = app.register_employment(&a_token, &employment_by_card(JENS, &jens_card, "2024-01-01")).await;
        let jens_at_b = app.register_employment(&b_token, &employment_by_card(JENS, &jens_card, "2024-01-01")).await;
        let mette_at_b = app.register_employment(&b_token, &employment_by_card(METTE, &mette_card, "2024-01-01")).await;
        let paid = |r: Resp| {
            r.expect(201);
            r.body["payout"]["id"].as_str().expect("a payout id").to_owned()
        };
        let march = payout_body("2024-03-28", "2024-03-01", "2024-03-27", "40000.00");
        let a_to_jens = paid(app.payout(&a_token, &jens_at_a, &march).await);
        let april = payout_body("2024-04-30", "2024-04-01", "2024-04-29", "10000.00");
        let crossed = app.payout(&b_token, &jens_at_b, &april).await;
        assert_eq!(crossed.body["payout"]["taxable"], "8720.00", "{}", crossed.body);
        let b_to_jens = paid(crossed);
        let april = payout_body("2024-04-30", "2024-04-01", "2024-04-29", "1000.00");
        let b_to_mette = paid(app.payout(&b_token, &mette_at_b, &april).await);
        let path = format!("/api/v1/payouts/{a_to_jens}/reversal");
        let reversal = app.post(&path, &a_token, &json!({ "reason": "Udbetalt to gange" })).await;
        reversal.expect(201);
        // B's payout is now wholly exempt, and B has an adjustment to report.
        let own = app.get("/api/v1/adjustments", &b_token).await;
        own.expect(200);
        assert!(field(&own.body["items"], "payout_id").contains(&b_to_jens), "{}", own.body);
        TwoEmployers {
            coordinator,
            jens,
            jens_card,
            mette,
            a,
            b,
            a_token,
            b_token,
            jens_at_a,
            jens_at_b,
            mette_at_b,
            a_to_jens,
            b_to_jens,
            b_to_mette,
            reversal,
        }
    }
}

both_backends! {
    async fn a_coordinator_gets_404_for_every_citizen_endpoint_on_a_citizen_of_another_municipality(app) {
        let randers = app.coordinator("730");
        let aarhus = app.coordinator("751");
        let with_card = app.enrol(&randers, "010190-1234", "Jens Hansen").await;
        app.issue_card(&randers, &with_card).await;
        let without_card = app.enrol(&randers, "020285-1234", "Mette Jensen").await;
        let cases = [
            (Method::GET, format!("/api/v1/citizens/{with_card}"), None),
            (Method::PATCH, format!("/api/v1/citizens/{with_card}"), Some(json!({ "name": "Someone Else" }))),
            (Method::POST, format!("/api/v1/citizens/{without_card}/frikort"), Some(all_attested())),
            (Method::GET, format!("/api/v1/citizens/{with_card}/frikort"), None),
            (Method::POST, format!("/api/v1/citizens/{with_card}/frikort/deactivate"), Some(json!({ "reason": "SU" }))),
            (Method::POST, format!("/api/v1/citizens/{with_card}/frikort/reactivate"), Some(all_attested())),
            (Method::POST, format!("/api/v1/citizens/{with_card}/frikort/controls"), Some(all_attested())),
            (
                Method::POST,
                format!("/api/v1/citizens/{with_card}/frikort/decision-time"),
                Some(json!({ "decided_at": "2024-01-01T00:00:00Z", "reason": "Forkert tidspunkt" })),
            ),
            (Method::GET, format!("/api/v1/citizens/{with_card}/balance"), None),
            (Method::GET, format!("/api/v1/citizens/{with_card}/balance?year=2024"), None),
        ];
        let unknown = uuid::Uuid::new_v4().to_string();
        for (method, path, body) in cases {
            let what = format!("{method} {path} by 751");
            let r = app.request(&method, &path, Some(&aarhus), body.as_ref()).await;
            assert_problem(&r, 404, "not_found", &what);
            // Indistinguishable from an id that does not exist, so ids cannot be probed.
            let path = path.replace(&with_card, &unknown).replace(&without_card, &unknown);
            let none = app.request(&method, &path, Some(&aarhus), body.as_ref()).await;
            assert_eq!(r.body["detail"], none.body["detail"], "{what}");
        }
        // Nothing changed.
        let seen = app.get(&format!("/api/v1/citizens/{with_card}"), &randers).await;
        seen.expect(200);
        assert_eq!(seen.body["name"], "Jens Hansen");
        assert_eq!(seen.body["municipality"]["code"], "730");
        assert_eq!(seen.body["frikort"]["status"], "active");
        let other = app.get(&format!("/api/v1/citizens/{without_card}"), &randers).await;
        other.expect(200);
        assert_eq!(other.body["frikort"], Value::Null);
    }

    async fn a_coordinator_cannot_enrol_a_citizen_in_another_municipality(app) {
        let aarhus = app.coordinator("751");
        let r = app.post("/api/v1/citizens", &aarhus, &json!({ "cpr": "010190-1234", "name": "Jens Hansen", "municipality": "730" })).await;
        r.expect_problem(403, "forbidden");
        let list = app.get("/api/v1/citizens", &app.coordinator("730")).await;
        list.expect(200);
        assert_eq!(list.body["total"], 0);
    }

    async fn a_coordinators_lists_audit_log_and_controls_due_never_contain_another_municipalitys_citizens(app) {
        let randers = app.coordinator("730");
        let aarhus = app.coordinator("751");
        let jens = app.enrol(&randers, "010190-1234", "Jens Hansen").await;
        app.issue_card(&randers, &jens).await;
        let mette = app.enrol(&aarhus, "020285-1234", "Mette Jensen").await;
        app.issue_card(&aarhus, &mette).await;
        app.get(&format!("/api/v1/citizens/{jens}"), &randers).await.expect(200);

        for (token, own, other) in [(&aarhus, &mette, &jens), (&randers, &jens, &mette)] {
            let list = app.get("/api/v1/citizens", token).await;
            list.expect(200);
            assert_eq!(ids(&list.body["items"]), [own.as_str()]);
            assert_eq!(list.body["total"], 1);

            // Every card issued this year is due by then.
            let year = chrono::Utc::now().year() + 3;
            let due = app.get(&format!("/api/v1/frikort/controls-due?year={year}"), token).await;
            due.expect(200);
            assert_eq!(field(&due.body["items"], "citizen_id"), [own.as_str()]);

            let audit = app.get("/api/v1/audit", token).await;
            audit.expect(200);
            let targets: Vec<&str> =
                audit.body["items"].as_array().unwrap().iter().map(|e| e["target_id"].as_str().unwrap()).collect();
            assert!(!targets.is_empty());
            assert!(targets.iter().all(|t| *t == own.as_str()), "{targets:?} should only name {own}, never {other}");
            let filtered = app.get(&format!("/api/v1/audit?target_id={other}"), token).await;
            filtered.expect(200);
            assert_eq!(filtered.body["items"], json!([]));
        }
    }

    async fn a_company_reads_its_own_record_but_not_another_company_nor_any_coordinator_endpoint(app) {
        let coordinator = app.coordinator("730");
        let own = app.register_company(&coordinator, CVR_A, "Bager Hansen ApS").await;
        let other = app.register_company(&coordinator, &cvr(2), "Tømrer Olsen ApS").await;
        let t = app.company(&own);
        let me = app.get(&format!("/api/v1/companies/{own}"), &t).await;
        me.expect(200);
        assert_eq!(me.body["id"], own.as_str());
        assert_eq!(me.body["name"], "Bager Hansen ApS");
        let r = app.get(&format!("/api/v1/companies/{other}"), &t).await;
        r.expect_problem(404, "not_found");
        let none = app.get(&format!("/api/v1/companies/{}", uuid::Uuid::new_v4()), &t).await;
        none.expect_problem(404, "not_found");
        assert_eq!(r.body["detail"], none.body["detail"]);

        let body = json!({ "verified": true });
        for r in [
            app.get("/api/v1/companies", &t).await,
            app.patch(&format!("/api/v1/companies/{own}"), &t, &body).await,
            app.post("/api/v1/companies", &t, &json!({ "cvr": cvr(3), "name": "X", "contact": { "name": "Y" } })).await,
            app.get("/api/v1/citizens", &t).await,
            app.get("/api/v1/audit", &t).await,
            app.get("/api/v1/frikort/controls-due", &t).await,
            app.get("/api/v1/me", &t).await,
        ] {
            r.expect_problem(403, "forbidden");
        }
        let still = app.get(&format!("/api/v1/companies/{own}"), &coordinator).await;
        assert_eq!(still.body["verified"], false, "the company could not verify itself");
    }

    async fn a_citizen_reads_themself_through_me_but_not_another_citizen(app) {
        let coordinator = app.coordinator("730");
        let jens = app.enrol(&coordinator, "010190-1234", "Jens Hansen").await;
        app.issue_card(&coordinator, &jens).await;
        let mette = app.enrol(&coordinator, "020285-1234", "Mette Jensen").await;
        let t = app.citizen(&jens);
        let me = app.get("/api/v1/me", &t).await;
        me.expect(200);
        assert_eq!(me.body["id"], jens.as_str());
        assert_eq!(me.body["name"], "Jens Hansen");
        assert_eq!(me.body["cpr_masked"], "010190-XXXX");
        assert_eq!(me.body["frikort"]["status"], "active");
        let her = app.get("/api/v1/me", &app.citizen(&mette)).await;
        her.expect(200);
        assert_eq!(her.body["id"], mette.as_str());

        for path in [
            format!("/api/v1/citizens/{mette}"),
            format!("/api/v1/citizens/{jens}"),
            format!("/api/v1/citizens/{mette}/frikort"),
            format!("/api/v1/citizens/{jens}/frikort"),
        ] {
            assert_problem(&app.get(&path, &t).await, 403, "forbidden", &path);
        }
        let gone = app.get("/api/v1/me", &app.citizen(&uuid::Uuid::new_v4().to_string())).await;
        gone.expect_problem(404, "not_found");
    }

    async fn a_coordinator_registers_an_employment_by_citizen_id_and_a_company_only_for_itself(app) {
        let w = Records::new(&app).await;
        let other = app.register_company(&w.coordinator, &cvr(2), "Tømrer Olsen ApS").await;
        let by_id = |company: &str| json!({
            "citizen_id": w.citizen_id, "company_id": company,
            "start_date": "2024-01-01", "contact": { "name": "Karen Bager" },
        });
        let by_card = |company: &str| json!({
            "citizen": { "cpr": JENS, "frikort_number": w.frikort }, "company_id": company,
            "start_date": "2024-01-01", "contact": { "name": "Karen Bager" },
        });
        // A coordinator names the citizen by id, for any company.
        let r = app.post("/api/v1/employments", &w.coordinator, &by_id(&other)).await;
        r.expect(201);
        assert_eq!(r.body["citizen_id"], w.citizen_id.as_str());
        assert_eq!(r.body["company_id"], other.as_str());
        assert_eq!(r.body["registered_by"], "coord-730");
        // A company registers for itself only, and never by the citizen's internal id.
        app.post("/api/v1/employments", &w.company, &by_card(&other)).await.expect_problem(403, "forbidden");
        let r = app.post("/api/v1/employments", &w.company, &by_id(&w.company_id)).await;
        r.expect_problem(422, "validation");
        assert_eq!(r.error_fields(), ["citizen_id"]);
        // A citizen registers nothing, whichever way the body names them.
        for body in [by_id(&w.company_id), by_card(&w.company_id)] {
            app.post("/api/v1/employments", &w.citizen, &body).await.expect_problem(403, "forbidden");
        }
        let other_token = app.company(&other);
        let list = app.get("/api/v1/employments", &other_token).await;
        list.expect(200);
        assert_eq!(list.body["total"], 1, "only the coordinator's registration: {}", list.body);
    }

    async fn a_company_sees_neither_another_companys_employments_payouts_adjustments_nor_unrelated_balances(app) {
        let s = TwoEmployers::new(&app).await;
        let t = &s.a_token;

        let list = app.get("/api/v1/employments", t).await;
        list.expect(200);
        assert_eq!(ids(&list.body["items"]), [s.jens_at_a.as_str()]);
        assert_eq!(list.body["total"], 1);
        let ended = app.get("/api/v1/employments?status=ended", t).await;
        ended.expect(200);
        assert_eq!(ended.body["total"], 0);
        let adjustments = app.get("/api/v1/adjustments", t).await;
        adjustments.expect(200);
        let items = adjustments.body["items"].as_array().unwrap();
        assert!(items.iter().all(|a| a["company_id"] == s.a.as_str()), "only A's own: {}", adjustments.body);
        assert!(!field(&adjustments.body["items"], "payout_id").contains(&s.b_to_jens), "{}", adjustments.body);
        assert_eq!(adjustments.body["total"], items.len());

        let payout = payout_body("2024-05-31", "2024-05-01", "2024-05-30", "500.00");
        let reason = json!({ "reason": "Forkert beløb" });
        let cases = [
            (Method::GET, format!("/api/v1/employments/{}", s.jens_at_b), &s.jens_at_b, None),
            (Method::GET, format!("/api/v1/employments/{}", s.mette_at_b), &s.mette_at_b, None),
            (Method::GET, format!("/api/v1/employments/{}/payouts", s.jens_at_b), &s.jens_at_b, None),
            (Method::GET, format!("/api/v1/employments/{}/payouts", s.mette_at_b), &s.mette_at_b, None),
            (Method::POST, format!("/api/v1/employments/{}/payouts", s.jens_at_b), &s.jens_at_b, Some(&payout)),
            (Method::POST, format!("/api/v1/employments/{}/end", s.mette_at_b), &s.mette_at_b, Some(&reason)),
            (Method::POST, format!("/api/v1/payouts/{}/reversal", s.b_to_jens), &s.b_to_jens, Some(&reason)),
            (Method::POST, format!("/api/v1/payouts/{}/reversal", s.b_to_mette), &s.b_to_mette, Some(&reason)),
            (Method::GET, format!("/api/v1/citizens/{}/balance", s.mette), &s.mette, None),
            (Method::GET, format!("/api/v1/citizens/{}/balance?year=2024", s.mette), &s.mette, None),
        ];
        for (method, path, id, body) in &cases {
            assert_hidden(&app, t, method, path, id, *body).await;
        }

        // A citizen A employs: the cap, what is left of it and what that is based on, nothing
        // about other employers or income outside Småjob.
        let balance = app.get(&format!("/api/v1/citizens/{}/balance?year=2024", s.jens), t).await;
        balance.expect(200);
        let keys: BTreeSet<&str> = balance.body.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from(["citizen_id", "year", "cap", "cap_provisional", "remaining", "based_on", "reconciled_on"])
        );
        assert_eq!(balance.body["remaining"], "31280.00");
        let full = app.get(&format!("/api/v1/citizens/{}/balance?year=2024", s.jens), &s.coordinator).await;
        full.expect(200);
        assert_eq!(full.body["remaining"], balance.body["remaining"]);
        assert_eq!(full.body["per_employer"].as_array().map(Vec::len), Some(1), "{}", full.body);

        // Nothing at B changed.
        for id in [&s.jens_at_b, &s.mette_at_b] {
            let e = app.get(&format!("/api/v1/employments/{id}"), &s.b_token).await;
            assert_eq!(e.expect(200).body["status"], "active");
            let payouts = app.get(&format!("/api/v1/employments/{id}/payouts"), &s.b_token).await;
            payouts.expect(200);
            assert_eq!(payouts.body["items"].as_array().map(Vec::len), Some(1), "{}", payouts.body);
            assert_eq!(payouts.body["items"][0]["reversed"], false);
        }
        assert_eq!(s.b, app.get(&format!("/api/v1/employments/{}", s.jens_at_b), &s.b_token).await.body["company_id"]);
    }

    async fn a_coordinator_gets_404_for_the_employments_payouts_and_balances_of_another_municipality(app) {
        let s = TwoEmployers::new(&app).await;
        let aarhus = app.coordinator("751");

        for path in ["/api/v1/employments", "/api/v1/adjustments"] {
            let list = app.get(path, &aarhus).await;
            list.expect(200);
            assert_eq!((list.body["items"].clone(), list.body["total"].clone()), (json!([]), json!(0)), "{path}");
        }

        let payout = payout_body("2024-05-31", "2024-05-01", "2024-05-30", "500.00");
        let reason = json!({ "reason": "Forkert beløb" });
        let cases = [
            (Method::GET, format!("/api/v1/employments/{}", s.jens_at_a), &s.jens_at_a, None),
            (Method::GET, format!("/api/v1/employments/{}/payouts", s.jens_at_a), &s.jens_at_a, None),
            (Method::POST, format!("/api/v1/employments/{}/payouts", s.jens_at_a), &s.jens_at_a, Some(&payout)),
            (Method::POST, format!("/api/v1/employments/{}/end", s.jens_at_b), &s.jens_at_b, Some(&reason)),
            (Method::POST, format!("/api/v1/payouts/{}/reversal", s.b_to_jens), &s.b_to_jens, Some(&reason)),
            // Already reversed: still a 404, not a 409 that would give the payout away.
            (Method::POST, format!("/api/v1/payouts/{}/reversal", s.a_to_jens), &s.a_to_jens, Some(&reason)),
            (Method::GET, format!("/api/v1/citizens/{}/balance", s.jens), &s.jens, None),
            (Method::GET, format!("/api/v1/citizens/{}/balance?year=2024", s.mette), &s.mette, None),
        ];
        for (method, path, id, body) in &cases {
            assert_hidden(&app, &aarhus, method, path, id, *body).await;
        }

        // Registering an employment of a 730 citizen: unknown by id, unmatched by CPR and card.
        let by_id = |citizen: &str| json!({
            "citizen_id": citizen, "company_id": s.a,
            "start_date": "2024-01-01", "contact": { "name": "Karen Bager" },
        });
        let r = app.post("/api/v1/employments", &aarhus, &by_id(&s.jens)).await;
        assert_problem(&r, 404, "not_found", "by id");
        let none = app.post("/api/v1/employments", &aarhus, &by_id(&uuid::Uuid::new_v4().to_string())).await;
        assert_eq!(r.body["detail"], none.body["detail"]);
        let by_card = json!({
            "citizen": { "cpr": JENS, "frikort_number": s.jens_card }, "company_id": s.a,
            "start_date": "2024-01-01", "contact": { "name": "Karen Bager" },
        });
        let r = app.post("/api/v1/employments", &aarhus, &by_card).await;
        assert_problem(&r, 422, "citizen_not_matched", "by CPR and card");

        // Nothing in Randers changed.
        let list = app.get("/api/v1/employments?status=active", &s.coordinator).await;
        list.expect(200);
        assert_eq!(list.body["total"], 3, "{}", list.body);
        let payouts = app.get(&format!("/api/v1/employments/{}/payouts", s.jens_at_b), &s.coordinator).await;
        payouts.expect(200);
        assert_eq!(payouts.body["items"].as_array().map(Vec::len), Some(1), "{}", payouts.body);
        assert_eq!(payouts.body["items"][0]["reversed"], false);
        let payouts = app.get(&format!("/api/v1/employments/{}/payouts", s.jens_at_a), &s.coordinator).await;
        assert_eq!(payouts.expect(200).body["items"].as_array().map(Vec::len), Some(1), "{}", payouts.body);
    }

    async fn a_citizen_never_sees_another_citizens_balance_or_employments(app) {
        let s = TwoEmployers::new(&app).await;
        let t = app.citizen(&s.mette);

        let list = app.get("/api/v1/employments", &t).await;
        list.expect(200);
        assert_eq!(ids(&list.body["items"]), [s.mette_at_b.as_str()]);
        assert_eq!(list.body["total"], 1);
        let adjustments = app.get("/api/v1/adjustments", &t).await;
        adjustments.expect(200);
        assert!(
            adjustments.body["items"].as_array().unwrap().iter().all(|a| a["citizen_id"] == s.mette.as_str()),
            "{}",
            adjustments.body
        );
        assert!(!field(&adjustments.body["items"], "payout_id").contains(&s.b_to_jens));
        // Jens does see the adjustment of his own payout.
        let his = app.get("/api/v1/adjustments", &app.citizen(&s.jens)).await;
        his.expect(200);
        assert!(field(&his.body["items"], "payout_id").contains(&s.b_to_jens), "{}", his.body);

        for (path, id) in [
            (format!("/api/v1/employments/{}", s.jens_at_a), &s.jens_at_a),
            (format!("/api/v1/employments/{}", s.jens_at_b), &s.jens_at_b),
            (format!("/api/v1/employments/{}/payouts", s.jens_at_b), &s.jens_at_b),
        ] {
            assert_hidden(&app, &t, &Method::GET, &path, id, None).await;
        }
        // A citizen reads a balance through /me/balance only, never by id (not even their own).
        for id in [&s.jens, &s.mette] {
            let path = format!("/api/v1/citizens/{id}/balance?year=2024");
            assert_problem(&app.get(&path, &t).await, 403, "forbidden", &path);
        }
        let own = app.get("/api/v1/me/balance?year=2024", &t).await;
        own.expect(200);
        assert_eq!(own.body["citizen_id"], s.mette.as_str());
        assert_eq!(own.body["gross"], "1000.00", "{}", own.body);
        assert_eq!(own.body["payouts"], 1, "{}", own.body);
        let employers: Vec<&str> = own.body["per_employer"].as_array().unwrap().iter()
            .map(|e| e["company_id"].as_str().unwrap())
            .collect();
        assert_eq!(employers, [s.b.as_str()]);
        let his = app.get("/api/v1/me/balance?year=2024", &app.citizen(&s.jens)).await;
        his.expect(200);
        assert_eq!(his.body["citizen_id"], s.jens.as_str());
        assert_eq!(his.body["exempt"], "10000.00", "{}", his.body);
    }

    // A company reversing or back-dating its own payout re-splits the citizen's other payouts,
    // other employers' included. Those adjustments are the other employers' to act on (they find
    // them in their own `GET /adjustments`); showing them to this company tells it who else
    // employs the citizen, on which employment, and what that employer pays — the very amounts
    // the company view of a balance leaves out.
    async fn a_companys_receipts_show_only_its_own_adjustments(app) {
        let s = TwoEmployers::new(&app).await;
        let foreign = |receipt: &Value| -> Vec<Value> {
            let adjustments = receipt["adjustments"].as_array().unwrap();
            adjustments.iter().filter(|a| a["company_id"] != s.a.as_str()).cloned().collect()
        };
        // A's reversal re-split B's April payout.
        let after_reversal = foreign(&s.reversal.body);
        // A back-dated payout of A's in February pushes B's April payout over the cap again.
        let february = payout_body("2024-02-28", "2024-02-01", "2024-02-27", "35000.00");
        let r = app.payout(&s.a_token, &s.jens_at_a, &february).await;
        r.expect(201);
        let after_payout = foreign(&r.body);
        // B is told, in its own list.
        let b_list = app.get("/api/v1/adjustments", &s.b_token).await;
        b_list.expect(200);
        let b_payouts = field(&b_list.body["items"], "payout_id");
        assert_eq!(b_payouts.iter().filter(|p| **p == s.b_to_jens).count(), 2, "{}", b_list.body);
        assert!(
            after_reversal.is_empty() && after_payout.is_empty(),
            "company A is shown company B's adjustments: on reversal {after_reversal:?}; \
             on a back-dated payout {after_payout:?}"
        );
    }

    async fn a_company_never_sees_another_companys_tasks_placements_or_hours(app) {
        let w = Records::new(&app).await;
        let b = app.register_company(&w.coordinator, &cvr(2), "Tømrer Olsen ApS").await;
        app.patch(&format!("/api/v1/companies/{b}"), &w.coordinator, &json!({ "verified": true })).await.expect(200);
        let b_token = app.company(&b);
        let b_draft = draft_task(&app, &b_token, &small_job(0)).await;
        let b_task = open_task(&app, &b_token, &small_job(0)).await;
        let mette = app.enrol(&w.coordinator, METTE, "Mette Jensen").await;
        let b_placement = approved_accepting_excess(&app, &w.coordinator, &b_task, &mette).await;
        // Reported by the coordinator, so a company would be the side to answer it; and by B.
        let b_report = reported(&app, &w.coordinator, &b_placement, -1, "1").await;
        let b_own_report = reported(&app, &b_token, &b_placement, -2, "1").await;
        let t = &w.company;

        let tasks = app.get("/api/v1/tasks?limit=200", t).await;
        tasks.expect(200);
        let own = |i: &Value| i["company_id"] == w.company_id.as_str();
        assert!(tasks.body["items"].as_array().unwrap().iter().all(own), "{}", tasks.body);
        let seen = ids(&tasks.body["items"]);
        assert!(!seen.contains(&b_task) && !seen.contains(&b_draft), "{}", tasks.body);
        let placements = app.get("/api/v1/placements?limit=200", t).await;
        placements.expect(200);
        assert!(placements.body["items"].as_array().unwrap().iter().all(own), "{}", placements.body);
        assert!(!ids(&placements.body["items"]).contains(&b_placement));
        let b_sees = app.get("/api/v1/placements", &b_token).await;
        assert_eq!(ids(&b_sees.expect(200).body["items"]), [b_placement.as_str()]);

        let reason = json!({ "reason": "Ikke vores" });
        let hours = json!({ "shift_date": day(-3), "hours": "1" });
        let cases = [
            (Method::GET, format!("/api/v1/tasks/{b_task}"), &b_task, None),
            (Method::PATCH, format!("/api/v1/tasks/{b_draft}"), &b_draft, Some(json!({ "title": "Overtaget" }))),
            (Method::POST, format!("/api/v1/tasks/{b_draft}/open"), &b_draft, None),
            (Method::POST, format!("/api/v1/tasks/{b_task}/complete"), &b_task, None),
            (Method::POST, format!("/api/v1/tasks/{b_task}/cancel"), &b_task, Some(reason.clone())),
            (Method::GET, format!("/api/v1/placements/{b_placement}"), &b_placement, None),
            (Method::POST, format!("/api/v1/placements/{b_placement}/cancel"), &b_placement, None),
            (Method::POST, format!("/api/v1/placements/{b_placement}/no-show"), &b_placement, None),
            (Method::POST, format!("/api/v1/placements/{b_placement}/hours"), &b_placement, Some(hours)),
            (Method::GET, format!("/api/v1/placements/{b_placement}/hours"), &b_placement, None),
            (Method::POST, format!("/api/v1/hours/{b_report}/confirm"), &b_report, None),
            (Method::POST, format!("/api/v1/hours/{b_report}/dispute"), &b_report, Some(reason.clone())),
            (Method::POST, format!("/api/v1/hours/{b_own_report}/confirm"), &b_own_report, None),
        ];
        for (method, path, id, body) in &cases {
            assert_hidden(&app, t, method, path, id, body.as_ref()).await;
        }
        // Nor does it create tasks for B.
        let r = app.post("/api/v1/tasks", t, &task_for_company(&b)).await;
        assert_problem(&r, 403, "forbidden", "a task for another company");

        // Nothing of B's changed.
        let task = app.get(&format!("/api/v1/tasks/{b_task}"), &b_token).await;
        assert_eq!(task.expect(200).body["status"], "open");
        let draft = app.get(&format!("/api/v1/tasks/{b_draft}"), &b_token).await;
        assert_eq!(draft.expect(200).body["title"], "Småjob 0");
        assert_eq!(draft.body["status"], "draft");
        let p = app.get(&format!("/api/v1/placements/{b_placement}"), &b_token).await;
        assert_eq!(p.expect(200).body["state"], "approved");
        let reports = app.get(&format!("/api/v1/placements/{b_placement}/hours"), &b_token).await;
        let statuses: Vec<&Value> = reports.expect(200).body["items"].as_array().unwrap().iter().map(|r| &r["status"]).collect();
        assert_eq!(statuses, [&json!("reported"), &json!("reported")], "{}", reports.body);
        let tasks = app.get("/api/v1/tasks", &b_token).await;
        let mut own = ids(&tasks.expect(200).body["items"]);
        own.sort_unstable();
        let mut expected = [b_task.as_str(), b_draft.as_str()];
        expected.sort_unstable();
        assert_eq!(own, expected);
    }

    async fn a_coordinator_gets_404_for_another_municipalitys_tasks_placements_and_hours_and_counts_none_of_them(app) {
        let w = Records::new(&app).await;
        let aarhus = app.coordinator("751");

        // Randers' queue and statistics are full; Aarhus' lists, queue and statistics are empty.
        let randers_queue = app.get("/api/v1/queue", &w.coordinator).await;
        randers_queue.expect(200);
        let waiting: Vec<&str> = randers_queue.body["awaiting_approval"].as_array().unwrap().iter()
            .map(|p| p["placement_id"].as_str().unwrap())
            .collect();
        assert_eq!(waiting.len(), 2, "{}", randers_queue.body);
        assert_eq!(randers_queue.body["unconfirmed_hours"].as_array().map(Vec::len), Some(6), "{}", randers_queue.body);
        let randers_stats = app.get("/api/v1/stats/placements", &w.coordinator).await;
        randers_stats.expect(200);
        assert!(randers_stats.body["items"][0]["tasks_opened"].as_u64() >= Some(15), "{}", randers_stats.body);
        assert!(randers_stats.body["items"][0]["placements_approved"].as_u64() >= Some(5), "{}", randers_stats.body);

        for path in ["/api/v1/tasks", "/api/v1/placements"] {
            let list = app.get(path, &aarhus).await;
            list.expect(200);
            assert_eq!((list.body["items"].clone(), list.body["total"].clone()), (json!([]), json!(0)), "{path}");
        }
        let queue = app.get("/api/v1/queue", &aarhus).await;
        queue.expect(200);
        for (list, items) in queue.body.as_object().unwrap() {
            assert_eq!(items, &json!([]), "{list} in Aarhus' queue: {}", queue.body);
        }
        let stats = app.get("/api/v1/stats/placements", &aarhus).await;
        stats.expect(200);
        assert_eq!(stats.body["items"][0]["municipality"], "751");
        for figure in ["tasks_opened", "positions", "positions_filled", "placements_approved"] {
            assert_eq!(stats.body["items"][0][figure], 0, "{figure}: {}", stats.body);
        }
        assert_eq!(stats.body["items"][0]["median_hours_to_placement"], Value::Null);

        let reason = json!({ "reason": "Ikke vores borger" });
        let hours = json!({ "shift_date": w.shifts_to_report[0], "hours": "1" });
        let approve = json!({ "accept_taxable_excess": true });
        let cases = [
            (Method::GET, "/api/v1/tasks/{}", &w.task, None),
            (Method::PATCH, "/api/v1/tasks/{}", &w.draft_task, Some(json!({ "title": "Overtaget" }))),
            (Method::POST, "/api/v1/tasks/{}/open", &w.tasks_to_open[0], None),
            (Method::POST, "/api/v1/tasks/{}/complete", &w.tasks_to_complete[0], None),
            (Method::POST, "/api/v1/tasks/{}/cancel", &w.tasks_to_cancel[0], Some(reason.clone())),
            (Method::GET, "/api/v1/placements/{}", &w.placement, None),
            (Method::POST, "/api/v1/placements/{}/offer", &w.interested, None),
            (Method::POST, "/api/v1/placements/{}/approve", &w.accepted_to_approve, Some(approve)),
            (Method::POST, "/api/v1/placements/{}/reject", &w.accepted_to_reject, Some(reason.clone())),
            (Method::POST, "/api/v1/placements/{}/cancel", &w.placements_to_cancel[0], None),
            (Method::POST, "/api/v1/placements/{}/cancel", &w.offer_to_accept, None),
            (Method::POST, "/api/v1/placements/{}/no-show", &w.placements_to_no_show[0], None),
            (Method::POST, "/api/v1/placements/{}/hours", &w.placement, Some(hours)),
            (Method::GET, "/api/v1/placements/{}/hours", &w.placement, None),
            (Method::POST, "/api/v1/hours/{}/confirm", &w.reports_to_confirm[0], None),
            (Method::POST, "/api/v1/hours/{}/dispute", &w.reports_to_dispute[0], Some(reason.clone())),
        ];
        for (method, template, id, body) in &cases {
            assert_hidden(&app, &aarhus, method, &template.replace("{}", id), id, body.as_ref()).await;
        }

        // Offering Randers' task to an Aarhus citizen: the task is unknown to Aarhus.
        let ole = app.enrol(&aarhus, "050590-1234", "Ole Larsen").await;
        let r = app.post("/api/v1/placements", &aarhus, &json!({ "task_id": w.task, "citizen_id": ole })).await;
        assert_problem(&r, 404, "not_found", "offering another municipality's task");
        let unknown = json!({ "task_id": uuid::Uuid::new_v4().to_string(), "citizen_id": ole });
        let none = app.post("/api/v1/placements", &aarhus, &unknown).await;
        assert_eq!(r.body["detail"], none.body["detail"]);
        // Aarhus' own task, for Randers' company: Randers' citizen is unknown to Aarhus.
        let own = open_task(&app, &aarhus, &task_for_company(&w.company_id)).await;
        let r = app.post("/api/v1/placements", &aarhus, &json!({ "task_id": own, "citizen_id": w.citizen_id })).await;
        assert_problem(&r, 404, "not_found", "offering to another municipality's citizen");
        // Nor does Aarhus create a task in Randers.
        let mut in_randers = task_for_company(&w.company_id);
        in_randers["municipality"] = json!("730");
        assert_problem(&app.post("/api/v1/tasks", &aarhus, &in_randers).await, 403, "forbidden", "a task in 730");
        let list = app.get("/api/v1/tasks", &aarhus).await;
        assert_eq!(ids(&list.expect(200).body["items"]), [own.as_str()]);

        // Nothing in Randers changed.
        let again = app.get("/api/v1/queue", &w.coordinator).await;
        again.expect(200);
        assert_eq!(again.body["awaiting_approval"], randers_queue.body["awaiting_approval"]);
        assert_eq!(again.body["unconfirmed_hours"], randers_queue.body["unconfirmed_hours"]);
        let draft = app.get(&format!("/api/v1/tasks/{}", w.draft_task), &w.coordinator).await;
        assert_eq!(draft.expect(200).body["title"], "Småjob 0");
        let unchanged =
            [(&w.interested, "interested"), (&w.placements_to_cancel[0], "approved"), (&w.offer_to_accept, "offered")];
        for (id, state) in unchanged {
            let p = app.get(&format!("/api/v1/placements/{id}"), &w.coordinator).await;
            assert_eq!(p.expect(200).body["state"], state, "{}", p.body);
        }
    }

    async fn a_citizen_never_sees_another_citizens_placements_or_offers_nor_another_municipalitys_tasks(app) {
        let w = Records::new(&app).await;
        let mette = app.enrol(&w.coordinator, METTE, "Mette Jensen").await;
        let her = app.citizen(&mette);
        let her_offer = offer(&app, &w.coordinator, &w.task, &mette).await;

        let list = app.get("/api/v1/placements", &her).await;
        assert_eq!(ids(&list.expect(200).body["items"]), [her_offer.as_str()]);
        assert_eq!(list.body["total"], 1);
        let offers = app.get("/api/v1/me/offers", &her).await;
        assert_eq!(ids(&offers.expect(200).body["items"]), [her_offer.as_str()]);
        let his = app.get("/api/v1/placements?limit=200", &w.citizen).await;
        his.expect(200);
        let own = |p: &Value| p["citizen_id"] == w.citizen_id.as_str();
        assert!(his.body["items"].as_array().unwrap().iter().all(own), "{}", his.body);
        assert!(!ids(&his.body["items"]).contains(&her_offer));
        let his_offers = app.get("/api/v1/me/offers", &w.citizen).await;
        let mut his_offers = ids(&his_offers.expect(200).body["items"]);
        his_offers.sort_unstable();
        let mut expected = [w.offer_to_accept.as_str(), w.offer_to_decline.as_str()];
        expected.sort_unstable();
        assert_eq!(his_offers, expected);

        let reason = json!({ "reason": "Det var ikke mig" });
        let cases = [
            (Method::GET, "/api/v1/placements/{}", &w.placement, None),
            (Method::GET, "/api/v1/placements/{}/hours", &w.placement, None),
            (Method::POST, "/api/v1/me/offers/{}/accept", &w.offer_to_accept, None),
            (Method::POST, "/api/v1/me/offers/{}/decline", &w.offer_to_decline, None),
            (Method::POST, "/api/v1/placements/{}/cancel", &w.accepted_to_reject, None),
            (Method::POST, "/api/v1/placements/{}/cancel", &w.interested, None),
            (Method::POST, "/api/v1/hours/{}/confirm", &w.reports_to_confirm[2], None),
            (Method::POST, "/api/v1/hours/{}/dispute", &w.reports_to_dispute[2], Some(reason)),
        ];
        for (method, template, id, body) in &cases {
            assert_hidden(&app, &her, method, &template.replace("{}", id), id, body.as_ref()).await;
        }
        // And the other way round.
        let path = format!("/api/v1/placements/{her_offer}");
        assert_hidden(&app, &w.citizen, &Method::GET, &path, &her_offer, None).await;
        let path = format!("/api/v1/me/offers/{her_offer}/accept");
        assert_hidden(&app, &w.citizen, &Method::POST, &path, &her_offer, None).await;

        // An open task of Aarhus, and a draft of Randers: neither is the Randers citizen's to see.
        let aarhus = app.coordinator("751");
        let aarhus_task = open_task(&app, &aarhus, &task_for_company(&w.company_id)).await;
        for (method, path, id) in [
            (Method::GET, format!("/api/v1/tasks/{aarhus_task}"), &aarhus_task),
            (Method::POST, format!("/api/v1/me/tasks/{aarhus_task}/interest"), &aarhus_task),
            (Method::GET, format!("/api/v1/tasks/{}", w.draft_task), &w.draft_task),
            (Method::POST, format!("/api/v1/me/tasks/{}/interest", w.draft_task), &w.draft_task),
        ] {
            assert_hidden(&app, &w.citizen, &method, &path, id, None).await;
        }
        let open = app.get("/api/v1/me/tasks?limit=200", &w.citizen).await;
        open.expect(200);
        let items = open.body["items"].as_array().unwrap();
        assert!(items.iter().all(|t| t["municipality"] == "730" && t["status"] == "open"), "{}", open.body);
        let seen = ids(&open.body["items"]);
        assert!(seen.contains(&w.task) && !seen.contains(&aarhus_task), "{}", open.body);
        // An Aarhus citizen sees it, and none of Randers'.
        let ole = app.enrol(&aarhus, "050590-1234", "Ole Larsen").await;
        let theirs = app.get("/api/v1/me/tasks", &app.citizen(&ole)).await;
        assert_eq!(ids(&theirs.expect(200).body["items"]), [aarhus_task.as_str()]);
        // Nothing of the Randers citizen's changed.
        let unchanged =
            [(&w.offer_to_accept, "offered"), (&w.offer_to_decline, "offered"), (&w.interested, "interested")];
        for (id, state) in unchanged {
            let p = app.get(&format!("/api/v1/placements/{id}"), &w.citizen).await;
            assert_eq!(p.expect(200).body["state"], state, "{}", p.body);
        }
    }
}
