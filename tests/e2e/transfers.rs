//! A citizen who moves keeps the card, and the new municipality takes over the data
//! (`POST /citizens/transfers`): what moves, what the old municipality may still read of its
//! period and what it may no longer do, both municipalities' logs, and the enrolment of a CPR
//! another municipality has, which points to the transfer and is logged in both.

use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
use crate::support::*;

const TRANSFERS: &str = "/api/v1/citizens/transfers";

fn transfer(cpr: &str, reason: &str) -> Value {
    json!({ "cpr": cpr, "reason": reason })
}

fn citizen(id: &str) -> String {
    format!("/api/v1/citizens/{id}")
}

/// The entries of a log with this action.
fn with_action<'a>(log: &'a [Value], action: &str) -> Vec<&'a Value> {
    log.iter().filter(|e| e["action"] == action).collect()
}

/// A card holder of Randers (card since 2024) employed by a company that paid them twice in 2024.
struct Moving {
    randers: String,
    aarhus: String,
    id: String,
    number: String,
    company_id: String,
    company: String,
    employment: String,
}

async fn moving(app: &TestApp) -> Moving {
    let randers = app.coordinator(RANDERS);
    let aarhus = app.coordinator(AARHUS);
    let (id, number) = app.card_holder(&randers, JENS, "Jens Hansen", "2024-01-01").await;
    let company_id = app.register_company(&randers, CVR_A, "Bager Hansen ApS").await;
    let company = app.company(&company_id);
    let employment = app.register_employment(&company, &employment_by_card(JENS, &number, "2024-01-01")).await;
    for (paid, from, to, wage) in
        [("2024-03-28", "2024-03-01", "2024-03-27", "30000.00"), ("2024-04-30", "2024-04-01", "2024-04-29", "15000.00")]
    {
        app.payout(&company, &employment, &payout_body(paid, from, to, wage)).await.expect(201);
    }
    Moving { randers, aarhus, id, number, company_id, company, employment }
}

both_backends! {
    async fn a_transfer_moves_the_citizen_the_card_and_its_history_and_the_balance_to_the_new_municipality(app) {
        let m = moving(&app).await;
        let balance = format!("/api/v1/citizens/{}/balance?year=2024", m.id);
        let before = app.get(&balance, &m.randers).await;
        before.expect(200);
        let card_before = app.get(&format!("{}/frikort", citizen(&m.id)), &m.randers).await;
        card_before.expect(200);
        let payouts_before = app.get(&format!("/api/v1/employments/{}/payouts", m.employment), &m.randers).await;
        payouts_before.expect(200);

        let r = app.post(TRANSFERS, &m.aarhus, &transfer("0101901234", "Flyttet til Aarhus 1. december")).await;
        r.expect(200);
        assert_eq!(r.body["id"], m.id.as_str());
        assert_eq!(r.body["municipality"], json!({ "code": "751", "name": "Aarhus" }));
        assert_eq!(r.body["frikort"], json!({ "number": m.number, "status": "active" }), "the citizen keeps the card");
        assert!(r.body.get("responsible_until").is_none(), "{}", r.body);
        assert!(!String::from_utf8_lossy(&r.raw).contains("0101901234"), "{}", r.body);

        // Aarhus sees everything: the citizen, the same card with its history, the same balance,
        // the employment and its payouts.
        assert_eq!(app.get(&citizen(&m.id), &m.aarhus).await.expect(200).body["name"], "Jens Hansen");
        let card = app.get(&format!("{}/frikort", citizen(&m.id)), &m.aarhus).await;
        assert_eq!(card.expect(200).body, card_before.body);
        assert_eq!(app.get(&balance, &m.aarhus).await.expect(200).body, before.body, "the balance is unchanged");
        let employments = app.get("/api/v1/employments", &m.aarhus).await;
        assert_eq!(listed_ids(&employments), [m.employment.as_str()]);
        let payouts = app.get(&format!("/api/v1/employments/{}/payouts", m.employment), &m.aarhus).await;
        assert_eq!(payouts.expect(200).body, payouts_before.body);
        assert_eq!(listed_ids(&app.get("/api/v1/citizens?frikort=active", &m.aarhus).await), [m.id.as_str()]);
        // The employer's view does not depend on the municipality.
        app.get(&format!("/api/v1/employments/{}", m.employment), &m.company).await.expect(200);
    }

    async fn from_the_transfer_time_the_old_municipality_changes_nothing_and_sees_no_new_data(app) {
        let m = moving(&app).await;
        app.post(TRANSFERS, &m.aarhus, &transfer(JENS, "Flyttet")).await.expect(200);

        // No change of the citizen or the card, in any way.
        let refused = [
            app.patch(&citizen(&m.id), &m.randers, &json!({ "phone": "+4512345678" })).await,
            app.post(&format!("{}/frikort/deactivate", citizen(&m.id)), &m.randers, &json!({ "reason": "r" })).await,
            app.post(&format!("{}/frikort/controls", citizen(&m.id)), &m.randers, &all_attested()).await,
            app.post(&format!("/api/v1/employments/{}/payouts", m.employment), &m.randers, &payout_body("2024-05-30", "2024-05-01", "2024-05-29", "100.00")).await,
            app.post("/api/v1/employments", &m.randers, &employment_by_id(&m.id, &m.company_id, "2024-06-01")).await,
        ];
        for (i, r) in refused.iter().enumerate() {
            assert!(matches!(r.status, 403 | 404), "change {i} by the old municipality: {} {}", r.status, r.body);
        }
        refused[0].expect_problem(403, "forbidden");
        assert!(refused[0].body["detail"].as_str().unwrap().contains("moved"), "{}", refused[0].body);

        // Nothing that is the new municipality's now: the balance, employments, payouts, lists.
        app.get(&format!("/api/v1/citizens/{}/balance?year=2024", m.id), &m.randers).await.expect_problem(403, "forbidden");
        app.get(&format!("/api/v1/employments/{}", m.employment), &m.randers).await.expect_problem(404, "not_found");
        app.get(&format!("/api/v1/employments/{}/payouts", m.employment), &m.randers).await.expect_problem(404, "not_found");
        assert_eq!(listed_ids(&app.get("/api/v1/employments", &m.randers).await), Vec::<String>::new());
        assert_eq!(listed_ids(&app.get("/api/v1/citizens", &m.randers).await), Vec::<String>::new());
        assert_eq!(listed_ids(&app.get("/api/v1/adjustments", &m.randers).await), Vec::<String>::new());

        // A municipality that was never responsible learns nothing.
        let odense = app.coordinator("461");
        app.get(&citizen(&m.id), &odense).await.expect_problem(404, "not_found");
        app.patch(&citizen(&m.id), &odense, &json!({ "name": "X" })).await.expect_problem(404, "not_found");
        app.get(&format!("{}/frikort", citizen(&m.id)), &odense).await.expect_problem(404, "not_found");
    }

    async fn the_old_municipality_reads_the_record_and_the_card_as_they_stood_at_the_transfer(app) {
        let m = moving(&app).await;
        let record_before = app.get(&citizen(&m.id), &m.randers).await;
        record_before.expect(200);
        let card_before = app.get(&format!("{}/frikort", citizen(&m.id)), &m.randers).await;
        card_before.expect(200);
        let moved = app.post(TRANSFERS, &m.aarhus, &transfer(JENS, "Flyttet")).await;
        moved.expect(200);

        // Aarhus changes the citizen and decides on the card after the move.
        app.patch(&citizen(&m.id), &m.aarhus, &json!({ "phone": "+4587654321", "home": { "postcode": "8000" } }))
            .await
            .expect(200);
        app.post(&format!("{}/frikort/deactivate", citizen(&m.id)), &m.aarhus, &json!({ "reason": "SU" }))
            .await
            .expect(200);

        let record = app.get(&citizen(&m.id), &m.randers).await;
        record.expect(200);
        let until = record.body["responsible_until"].as_str().expect("responsible_until is set").to_owned();
        let mut as_it_stood = record.body.clone();
        as_it_stood.as_object_mut().unwrap().remove("responsible_until");
        as_it_stood["age"] = record_before.body["age"].clone();
        assert_eq!(as_it_stood, record_before.body, "the record as it stood, without Aarhus's changes");
        assert_eq!(record.body["municipality"]["code"], "730");

        let card = app.get(&format!("{}/frikort", citizen(&m.id)), &m.randers).await;
        card.expect(200);
        assert_eq!(card.body["responsible_until"], until.as_str());
        assert_eq!((&card.body["status"], &card.body["history"]), (&card_before.body["status"], &card_before.body["history"]));
        assert_eq!(card.body["status"], "active", "Aarhus's deactivation is not Randers's to see");

        // Aarhus sees the current state.
        let now = app.get(&citizen(&m.id), &m.aarhus).await;
        assert_eq!((now.body["phone"].as_str(), now.body["frikort"]["status"].as_str()), (Some("+4587654321"), Some("deactivated")));
        assert_eq!(app.get(&format!("{}/frikort", citizen(&m.id)), &m.aarhus).await.body["history"].as_array().unwrap().len(), 2);

        // The reads are filed in Randers's log, as of the end of its period.
        let reads: Vec<Value> = audit_of(&app, &m.randers, &m.id).await.into_iter()
            .filter(|e| e["details"]["as_of"].is_string())
            .collect();
        assert_eq!(actions(&reads), ["frikort.read", "citizen.read"]);
    }

    async fn the_transfer_is_logged_in_both_municipalities_with_its_reason_and_the_old_log_stays(app) {
        let m = moving(&app).await;
        let randers_before = audit_log(&app, &m.randers).await;
        let reason = "Flyttet til Aarhus pr. 1. december";
        app.post(TRANSFERS, &m.aarhus, &transfer(JENS, reason)).await.expect(200);

        let randers_log = audit_log(&app, &m.randers).await;
        let aarhus_log = audit_log(&app, &m.aarhus).await;
        let out = with_action(&randers_log, "citizen.transferred_out");
        let into = with_action(&aarhus_log, "citizen.transferred_in");
        assert_eq!((out.len(), into.len()), (1, 1), "randers: {randers_log:?}, aarhus: {aarhus_log:?}");
        for e in [out[0], into[0]] {
            assert_eq!((e["target_id"].as_str(), e["actor"].as_str()), (Some(m.id.as_str()), Some("coord-751")), "{e}");
            assert_eq!(pick(&e["details"], &["from", "to", "reason"]), json!(["730", "751", reason]), "{e}");
            assert!(e["details"]["transferred_at"].is_string(), "{e}");
        }
        assert!(with_action(&aarhus_log, "citizen.transferred_out").is_empty());
        // Randers's log keeps every entry of its period (newest first, so they are its tail).
        let ids = |log: &[Value]| log.iter().map(|e| e["id"].clone()).collect::<Vec<_>>();
        assert!(ids(&randers_log).ends_with(&ids(&randers_before)), "{randers_log:?}");
        assert!(actions(&randers_log).contains(&"frikort.issued".to_owned()));
        for log in [&randers_log, &aarhus_log] {
            assert!(!serde_json::to_string(log).unwrap().contains("0101901234"), "no CPR in a log: {log:?}");
        }
    }

    async fn enrolling_a_cpr_another_municipality_has_points_to_the_transfer_and_is_logged_in_both(app) {
        let randers = app.coordinator(RANDERS);
        let aarhus = app.coordinator(AARHUS);
        let jens = app.enrol(&aarhus, JENS, "Jens Hansen").await;

        let r = app.post("/api/v1/citizens", &randers, &json!({ "cpr": "0101901234", "name": "Jens Hansen" })).await;
        r.expect_problem(409, "citizen_enrolled_elsewhere");
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains("/api/v1/citizens/transfers"), "{detail}");
        let raw = String::from_utf8_lossy(&r.raw);
        for secret in [jens.as_str(), "0101901234", "010190-1234"] {
            assert!(!raw.contains(secret), "the refusal names {secret}: {raw}");
        }
        assert!(!detail.contains("751") && !detail.contains("Aarhus"), "the other municipality is not named: {detail}");
        assert_eq!(listed_ids(&app.get("/api/v1/citizens", &randers).await), Vec::<String>::new());

        // Randers's log has the refusal, without the other municipality's citizen id; Aarhus's
        // log says who tried, from where, tied to Randers's entry.
        let randers_log = audit_log(&app, &randers).await;
        let refused = with_action(&randers_log, "citizen.enrolment_refused");
        assert_eq!(refused.len(), 1, "{randers_log:?}");
        assert_eq!(refused[0]["details"]["code"], "citizen_enrolled_elsewhere");
        assert!(!serde_json::to_string(&randers_log).unwrap().contains(&jens), "{randers_log:?}");
        let aarhus_log = audit_log(&app, &aarhus).await;
        let attempted = with_action(&aarhus_log, "citizen.enrolment_attempted");
        assert_eq!(attempted.len(), 1, "{aarhus_log:?}");
        assert_eq!(
            (attempted[0]["target_id"].as_str(), attempted[0]["actor"].as_str(), &attempted[0]["details"]["by_municipality"]),
            (Some(jens.as_str()), Some("coord-730"), &json!("730"))
        );
        assert_eq!(attempted[0]["details"]["attempt"], refused[0]["target_id"]);

        // Enrolling again in the own municipality stays what it was.
        app.post("/api/v1/citizens", &aarhus, &json!({ "cpr": JENS, "name": "Jens Hansen" }))
            .await
            .expect_problem(409, "citizen_exists");
        // And the transfer the refusal points to works.
        app.post(TRANSFERS, &randers, &transfer(JENS, "Flyttet til Randers")).await.expect(200);
    }

    async fn a_transfer_needs_a_reason_of_bounded_plain_text(app) {
        let aarhus = app.coordinator(AARHUS);
        let randers = app.coordinator(RANDERS);
        let id = app.enrol(&randers, JENS, "Jens Hansen").await;
        let r = app.post(TRANSFERS, &aarhus, &json!({ "cpr": JENS })).await;
        expect_field_error(&r, "reason", "required");
        let too_long = "x".repeat(2001);
        for (reason, code) in [("", "required"), ("  ", "required"), (too_long.as_str(), "too_long"), ("fl\u{202E}yttet", "invisible_characters")] {
            let r = app.post(TRANSFERS, &aarhus, &transfer(JENS, reason)).await;
            expect_field_error(&r, "reason", code);
        }
        let r = app.post(TRANSFERS, &aarhus, &transfer("3201901234", "Flyttet")).await;
        r.expect_problem(422, "validation");
        assert_eq!(r.error_fields(), ["cpr"]);
        // Nothing moved.
        assert_eq!(app.get(&citizen(&id), &randers).await.expect(200).body["municipality"]["code"], "730");
        assert!(with_action(&audit_log(&app, &randers).await, "citizen.transferred_out").is_empty());
    }

    async fn transferring_your_own_citizen_or_a_cpr_nobody_enrolled_is_refused_and_logged(app) {
        let randers = app.coordinator(RANDERS);
        let id = app.enrol(&randers, JENS, "Jens Hansen").await;

        app.post(TRANSFERS, &randers, &transfer(JENS, "Flyttet")).await.expect_problem(409, "already_responsible");
        let r = app.post(TRANSFERS, &randers, &transfer(MARIE, "Flyttet")).await;
        r.expect_problem(422, "not_enrolled");
        assert!(r.body["detail"].as_str().unwrap().contains("POST /api/v1/citizens"), "{}", r.body);
        // Neither created nor moved anything.
        assert_eq!(listed_ids(&app.get("/api/v1/citizens", &randers).await), [id.as_str()]);
        assert!(app.get(&citizen(&id), &randers).await.expect(200).body.get("responsible_until").is_none());

        let log = audit_log(&app, &randers).await;
        let refused = with_action(&log, "citizen.transfer_refused");
        let seen: Vec<(&str, &str)> = refused.iter()
            .map(|e| (e["target_type"].as_str().unwrap(), e["details"]["code"].as_str().unwrap()))
            .collect();
        assert_eq!(seen, [("transfer", "not_enrolled"), ("citizen", "already_responsible")]);
        assert_eq!(refused[1]["target_id"], id.as_str());
        let text = serde_json::to_string(&log).unwrap();
        assert!(!text.contains("0202902345") && !text.contains("020290-2345"), "no CPR in the log: {log:?}");
    }

    async fn a_citizen_who_moves_back_is_the_first_municipality_s_again_with_everything(app) {
        let m = moving(&app).await;
        app.post(TRANSFERS, &m.aarhus, &transfer(JENS, "Flyttet til Aarhus")).await.expect(200);
        app.patch(&citizen(&m.id), &m.aarhus, &json!({ "phone": "+4587654321" })).await.expect(200);
        app.post(TRANSFERS, &m.randers, &transfer(JENS, "Flyttet tilbage")).await.expect(200);

        // Randers is responsible again and sees what Aarhus recorded meanwhile.
        let now = app.get(&citizen(&m.id), &m.randers).await;
        now.expect(200);
        assert_eq!((now.body["phone"].as_str(), now.body.get("responsible_until")), (Some("+4587654321"), None));
        app.patch(&citizen(&m.id), &m.randers, &json!({ "name": "Jens Hansen Berg" })).await.expect(200);
        // Aarhus reads its own period only.
        let aarhus_view = app.get(&citizen(&m.id), &m.aarhus).await;
        aarhus_view.expect(200);
        assert_eq!((aarhus_view.body["name"].as_str(), aarhus_view.body["municipality"]["code"].as_str()), (Some("Jens Hansen"), Some("751")));
        assert!(aarhus_view.body["responsible_until"].is_string());
        app.patch(&citizen(&m.id), &m.aarhus, &json!({ "name": "X" })).await.expect_problem(403, "forbidden");
    }

    async fn a_card_decision_racing_the_transfer_is_either_in_the_old_record_or_refused(app) {
        let app = std::rc::Rc::new(app);
        let randers = app.coordinator(RANDERS);
        let aarhus = app.coordinator(AARHUS);
        const N: u32 = 6;
        let mut holders = Vec::new();
        for n in 0..N {
            let cpr = cpr(n);
            let (id, _) = app.card_holder(&randers, &cpr, &format!("Borger {n}"), "2024-01-01").await;
            holders.push((cpr, id));
        }
        let mut races = Vec::new();
        for (cpr, id) in &holders {
            let deactivation = {
                let (app, randers, id) = (std::rc::Rc::clone(&app), randers.clone(), id.clone());
                actix_web::rt::spawn(async move {
                    app.post(&format!("/api/v1/citizens/{id}/frikort/deactivate"), &randers, &json!({ "reason": "SU" })).await
                })
            };
            let moved = {
                let (app, aarhus, cpr) = (std::rc::Rc::clone(&app), aarhus.clone(), cpr.clone());
                actix_web::rt::spawn(async move { app.post(TRANSFERS, &aarhus, &transfer(&cpr, "Flyttet")).await })
            };
            races.push((id.clone(), deactivation, moved));
        }
        for (id, deactivation, moved) in races {
            let (deactivation, moved) = (deactivation.await.unwrap(), moved.await.unwrap());
            moved.expect(200);
            // Decided before the transfer: in the record Randers keeps; else refused, and the
            // card is active for both.
            let expected = match deactivation.status {
                200 => "deactivated",
                403 => "active",
                other => panic!("deactivation answered {other}: {}", deactivation.body),
            };
            let kept = app.get(&format!("{}/frikort", citizen(&id)), &randers).await;
            assert_eq!(kept.expect(200).body["status"], expected, "{}", kept.body);
            let now = app.get(&format!("{}/frikort", citizen(&id)), &aarhus).await;
            assert_eq!(now.expect(200).body["history"], kept.body["history"], "nothing recorded after the transfer");
        }
    }

    async fn the_old_hand_over_by_changing_the_municipality_is_gone(app) {
        let randers = app.coordinator(RANDERS);
        let id = app.enrol(&randers, JENS, "Jens Hansen").await;
        let r = app.patch(&citizen(&id), &randers, &json!({ "municipality": "751" })).await;
        expect_field_error(&r, "municipality", "unknown_field");
        app.get(&citizen(&id), &app.coordinator(AARHUS)).await.expect_problem(404, "not_found");
        assert_eq!(app.get(&citizen(&id), &randers).await.expect(200).body["municipality"]["code"], "730");
    }
}
