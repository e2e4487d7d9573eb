//! Frikort over HTTP: issue (numbers, age, attestations), deactivate and reactivate with their
//! rules on decision times, the history, and the periodic control of the conditions.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// A CPR number for someone born on `born` (1900–2036), with the 7th digit that selects the
/// right century: 0 for the 1900s, 4 for 2000–2036 (4 with YY ≤ 36 means the 2000s).
fn cpr_born(born: NaiveDate, serial: &str) -> String {
    let seventh = match born.year() {
        1900..=1999 => '0',
        2000..=2036 => '4',
        y => panic!("no CPR century for {y}"),
    };
    format!("{:02}{:02}{:02}-{seventh}{serial}", born.day(), born.month(), born.year() % 100)
}

/// Someone who turns 18 exactly today (18 × 12 months back; 29 Feb falls back to 28 Feb, which
/// still makes them 18 today).
fn born_18_years_ago_today() -> NaiveDate {
    today().checked_sub_months(Months::new(18 * 12)).unwrap()
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}")).parse().unwrap()
}

fn kinds(card: &Value) -> Vec<String> {
    card["history"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
}

/// Moves a card's issue (and valid-from) date into the past, directly in the database.
fn backdate_card(app: &TestApp, citizen_id: &str, issued_on: NaiveDate) {
    edit_card(app, citizen_id, |card| (card.issued_on, card.valid_from) = (issued_on, issued_on));
}

fn path(id: &str, tail: &str) -> String {
    format!("/api/v1/citizens/{id}/frikort{tail}")
}

async fn card(app: &TestApp, t: &str, id: &str) -> Value {
    let r = app.get(&path(id, ""), t).await;
    r.expect(200);
    r.body.clone()
}

async fn reactivate(app: &TestApp, t: &str, id: &str, reason: &str) -> Value {
    let r =
        app.post(&path(id, "/reactivate"), t, &json!({ "attestations": attestations(true), "reason": reason })).await;
    r.expect(200);
    r.body.clone()
}

async fn controls_due(app: &TestApp, t: &str, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/frikort/controls-due{query}"), t).await;
    r.expect(200);
    r.body["items"].as_array().unwrap().clone()
}

both_backends! {
    async fn issuing_a_card_generates_a_five_digit_number_and_starts_the_history(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let r = app
            .post(&path(&id, ""), &t, &json!({ "attestations": attestations(true), "note": "  første kort " }))
            .await;
        r.expect(201);
        assert_eq!(r.header("location"), Some(path(&id, "").as_str()));
        let c = &r.body;
        let number = c["number"].as_str().unwrap();
        assert!(number.len() == 5 && number.bytes().all(|b| b.is_ascii_digit()), "{c}");
        assert_eq!(c["citizen_id"], id.as_str());
        assert_eq!(c["status"], "active");
        assert_eq!(c["valid_from"], today().to_string());
        assert_eq!(c["issued_on"], today().to_string());
        assert_eq!(c["last_control_on"], Value::Null);
        assert_eq!(c["control_due_year"], this_year() + 2);
        let history = c["history"].as_array().unwrap();
        assert_eq!(history.len(), 1);
        let issued = &history[0];
        assert_eq!(issued["kind"], "issued");
        assert_eq!(issued["reason"], "første kort");
        assert_eq!(issued["attestations"], attestations(true));
        assert_eq!(issued["actor"], "coord-730");
        assert_eq!(issued["municipality"], "730");
        assert_eq!(at(&issued["effective_at"]), start_of_day(today()));
        assert!((Utc::now() - at(&issued["recorded_at"])).num_seconds().abs() < 60);

        // The card reads back the same, and shows with the citizen.
        assert_eq!(card(&app, &t, &id).await, r.body);
        let citizen = app.get(&format!("/api/v1/citizens/{id}"), &t).await;
        assert_eq!(citizen.body["frikort"], json!({ "number": number, "status": "active" }));
        assert_eq!(
            actions(&audit_log(&app, &t).await),
            ["citizen.read", "frikort.read", "frikort.issued", "citizen.created"]
        );
    }

    async fn generated_card_numbers_differ_between_citizens(app) {
        let t = app.coordinator("730");
        let mut numbers = Vec::new();
        for i in 0..5 {
            let id = app.enrol(&t, &format!("01019{i}-1234"), "Some Body").await;
            numbers.push(app.issue_card(&t, &id).await["number"].as_str().unwrap().to_owned());
        }
        let mut unique = numbers.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), numbers.len(), "{numbers:?}");
    }

    async fn a_card_can_be_issued_with_an_explicit_number_and_a_taken_number_is_a_conflict(app) {
        let t = app.coordinator("730");
        let a = app.enrol(&t, "010190-1234", "Anne Andersen").await;
        let b = app.enrol(&t, "020290-1234", "Bo Berg").await;
        let r = app.post(&path(&a, ""), &t, &json!({ "number": "00042", "attestations": attestations(true) })).await;
        r.expect(201);
        assert_eq!(r.body["number"], "00042");

        let taken =
            app.post(&path(&b, ""), &t, &json!({ "number": "00042", "attestations": attestations(true) })).await;
        taken.expect_problem(409, "card_number_taken");
        app.get(&path(&b, ""), &t).await.expect_problem(404, "not_found");
        // Numbers are unique across municipalities too.
        let aarhus = app.coordinator("751");
        let c = app.enrol(&aarhus, "030390-1234", "Carl Clausen").await;
        app.post(&path(&c, ""), &aarhus, &json!({ "number": "00042", "attestations": attestations(true) }))
            .await
            .expect_problem(409, "card_number_taken");

        // Surrounding blanks are trimmed; anything but five digits is refused.
        let r = app.post(&path(&b, ""), &t, &json!({ "number": " 04217 ", "attestations": attestations(true) })).await;
        r.expect(201);
        assert_eq!(r.body["number"], "04217");
        for bad in ["4217", "123456", "abcde", "", "0042a"] {
            let r =
                app.post(&path(&c, ""), &aarhus, &json!({ "number": bad, "attestations": attestations(true) })).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["number"], "{bad}");
            assert_eq!(r.body["errors"][0]["code"], "frikort_number_format");
        }
        app.get(&path(&c, ""), &aarhus).await.expect_problem(404, "not_found");
    }

    async fn a_citizen_gets_one_card_and_a_second_issue_is_a_conflict(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let first = app.issue_card(&t, &id).await;
        app.post(&path(&id, ""), &t, &all_attested()).await.expect_problem(409, "card_exists");
        // Also when the card is deactivated: it is reactivated, not issued anew.
        deactivate(&app, &t, &id, "flyttet til udlandet").await;
        app.post(&path(&id, ""), &t, &all_attested()).await.expect_problem(409, "card_exists");
        app.post(&path(&id, ""), &t, &json!({ "number": "55555", "attestations": attestations(true) }))
            .await
            .expect_problem(409, "card_exists");
        let now = card(&app, &t, &id).await;
        assert_eq!(now["number"], first["number"]);
        assert_eq!(kinds(&now), ["issued", "deactivated"]);
    }

    async fn a_citizen_who_is_17_on_the_issue_date_cannot_get_a_card(app) {
        let t = app.coordinator("730");
        // Seventeen and a half: the birthday is months away whatever today is.
        let born = today().checked_sub_months(Months::new(17 * 12 + 6)).unwrap();
        let cpr = cpr_born(born, "321");
        let id = app.enrol(&t, &cpr, "Ung Ulla").await;
        let before = actions(&audit_log(&app, &t).await);
        let r = app.post(&path(&id, ""), &t, &all_attested()).await;
        r.expect_problem(422, "underage");
        assert!(r.body["detail"].as_str().unwrap().contains("17"), "{}", r.body);
        app.get(&path(&id, ""), &t).await.expect_problem(404, "not_found");
        assert_eq!(actions(&audit_log(&app, &t).await), before);
    }

    async fn a_citizen_who_turns_18_today_can_get_a_card_but_not_one_who_turns_18_tomorrow(app) {
        let t = app.coordinator("730");
        let eighteen = born_18_years_ago_today();
        let id = app.enrol(&t, &cpr_born(eighteen, "321"), "Atten Anders").await;
        app.issue_card(&t, &id).await;

        let seventeen = eighteen + Duration::days(1);
        let id = app.enrol(&t, &cpr_born(seventeen, "322"), "Sytten Sofie").await;
        app.post(&path(&id, ""), &t, &all_attested()).await.expect_problem(422, "underage");
        app.get(&path(&id, ""), &t).await.expect_problem(404, "not_found");
    }

    async fn a_card_valid_from_the_eighteenth_birthday_can_be_issued_the_day_before(app) {
        let t = app.coordinator("730");
        let born = born_18_years_ago_today() + Duration::days(1);
        let id = app.enrol(&t, &cpr_born(born, "321"), "Snart Atten").await;
        let eighteenth = today() + Duration::days(1);
        app.post(&path(&id, ""), &t, &json!({ "valid_from": today(), "attestations": attestations(true) }))
            .await
            .expect_problem(422, "underage");
        let r = app
            .post(&path(&id, ""), &t, &json!({ "valid_from": eighteenth, "attestations": attestations(true) }))
            .await;
        r.expect(201);
        assert_eq!(r.body["valid_from"], eighteenth.to_string());
    }

    async fn a_false_attestation_is_a_validation_error_naming_each_condition(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let mut one = attestations(true);
        one["in_target_group"] = json!(false);
        let r = app.post(&path(&id, ""), &t, &json!({ "attestations": one })).await;
        r.expect_problem(422, "validation");
        assert_eq!(r.error_fields(), ["attestations.in_target_group"]);
        assert_eq!(r.body["errors"][0]["code"], "condition_not_met");

        let r = app.post(&path(&id, ""), &t, &json!({ "attestations": attestations(false) })).await;
        r.expect_problem(422, "validation");
        assert_eq!(
            r.error_fields(),
            [
                "attestations.no_su_eligible_education",
                "attestations.no_taxable_work_income_over_threshold",
                "attestations.residence_9_of_last_10_years",
                "attestations.in_target_group",
            ]
        );
        // Attestations cannot be left out, neither all nor one.
        app.post(&path(&id, ""), &t, &json!({})).await.expect_problem(422, "validation");
        let mut missing = attestations(true);
        missing.as_object_mut().unwrap().remove("residence_9_of_last_10_years");
        app.post(&path(&id, ""), &t, &json!({ "attestations": missing })).await.expect_problem(422, "validation");
        app.get(&path(&id, ""), &t).await.expect_problem(404, "not_found");
    }

    async fn valid_from_may_not_precede_the_scheme_or_lie_more_than_a_year_ahead(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let too_far = (today() + Duration::days(400)).to_string();
        for (valid_from, code) in [("2018-12-31", "before_scheme"), (too_far.as_str(), "too_far_ahead")] {
            let r = app
                .post(&path(&id, ""), &t, &json!({ "valid_from": valid_from, "attestations": attestations(true) }))
                .await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["valid_from"]);
            assert_eq!(r.body["errors"][0]["code"], code);
        }
        app.get(&path(&id, ""), &t).await.expect_problem(404, "not_found");
        let r = app
            .post(&path(&id, ""), &t, &json!({ "valid_from": "2019-01-01", "attestations": attestations(true) }))
            .await;
        r.expect(201);
        assert_eq!(r.body["valid_from"], "2019-01-01");
        assert_eq!(r.body["issued_on"], today().to_string());
        assert_eq!(
            at(&r.body["history"][0]["effective_at"]),
            start_of_day(NaiveDate::from_ymd_opt(2019, 1, 1).unwrap())
        );
    }

    async fn deactivation_takes_effect_now_by_default(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let issued = app.issue_card(&t, &id).await;
        let before = Utc::now();
        let r = app.post(&path(&id, "/deactivate"), &t, &json!({ "reason": "  begyndt på SU-uddannelse " })).await;
        let after = Utc::now();
        r.expect(200);
        assert_eq!(r.body["status"], "deactivated");
        assert_eq!(r.body["number"], issued["number"]);
        assert_eq!(kinds(&r.body), ["issued", "deactivated"]);
        let ev = &r.body["history"][1];
        assert_eq!(ev["reason"], "begyndt på SU-uddannelse");
        assert_eq!(ev["attestations"], Value::Null);
        assert_eq!(ev["actor"], "coord-730");
        let effective = at(&ev["effective_at"]);
        assert!(
            effective >= before - Duration::milliseconds(1) && effective <= after,
            "{effective} not in {before}..{after}"
        );
        assert_eq!(card(&app, &t, &id).await, r.body);
        let citizen = app.get(&format!("/api/v1/citizens/{id}"), &t).await;
        assert_eq!(citizen.body["frikort"]["status"], "deactivated");
    }

    async fn deactivation_records_an_explicit_decision_time(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        app.issue_card(&t, &id).await;
        let decided = Utc::now();
        let r = app.post(&path(&id, "/deactivate"), &t, &json!({ "decided_at": decided, "reason": "afgørelse" })).await;
        r.expect(200);
        let effective = at(&r.body["history"][1]["effective_at"]);
        assert!((effective - decided).num_microseconds().unwrap().abs() < 1, "{effective} vs {decided}");
    }

    async fn a_deactivation_cannot_be_dated_in_the_future_or_before_the_issue(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let issued = app.issue_card(&t, &id).await;
        let cases =
            [(Utc::now() + Duration::hours(1), "in_future"), (Utc::now() - Duration::days(1), "before_last_decision")];
        for (decided_at, code) in cases {
            let r = app.post(&path(&id, "/deactivate"), &t, &json!({ "decided_at": decided_at, "reason": "r" })).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["decided_at"]);
            assert_eq!(r.body["errors"][0]["code"], code);
        }
        assert_eq!(card(&app, &t, &id).await, issued);
    }

    async fn deactivating_twice_is_a_conflict(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        app.issue_card(&t, &id).await;
        let once = deactivate(&app, &t, &id, "første").await;
        app.post(&path(&id, "/deactivate"), &t, &json!({ "reason": "anden" }))
            .await
            .expect_problem(409, "card_already_deactivated");
        assert_eq!(card(&app, &t, &id).await, once);
    }

    async fn a_deactivation_needs_a_reason(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let issued = app.issue_card(&t, &id).await;
        let r = app.post(&path(&id, "/deactivate"), &t, &json!({})).await;
        r.expect_problem(422, "validation");
        app.post(&path(&id, "/deactivate"), &t, &json!({ "reason": null })).await.expect_problem(422, "validation");
        let too_long = "x".repeat(2001);
        for (reason, code) in
            [("", "required"), ("   ", "required"), (too_long.as_str(), "too_long"), ("a\u{7}b", "control_characters")]
        {
            let r = app.post(&path(&id, "/deactivate"), &t, &json!({ "reason": reason })).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["reason"], "{reason:?}");
            assert_eq!(r.body["errors"][0]["code"], code, "{reason:?}");
        }
        assert_eq!(card(&app, &t, &id).await, issued);
    }

    async fn reactivation_needs_a_new_assessment_of_the_conditions(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        app.issue_card(&t, &id).await;
        let deactivated = deactivate(&app, &t, &id, "i job").await;

        app.post(&path(&id, "/reactivate"), &t, &json!({})).await.expect_problem(422, "validation");
        app.post(&path(&id, "/reactivate"), &t, &json!({ "reason": "ledig igen" }))
            .await
            .expect_problem(422, "validation");
        let mut one = attestations(true);
        one["no_taxable_work_income_over_threshold"] = json!(false);
        let r = app.post(&path(&id, "/reactivate"), &t, &json!({ "attestations": one })).await;
        r.expect_problem(422, "validation");
        assert_eq!(r.error_fields(), ["attestations.no_taxable_work_income_over_threshold"]);
        assert_eq!(card(&app, &t, &id).await, deactivated);

        let before = Utc::now();
        let r = app
            .post(&path(&id, "/reactivate"), &t, &json!({ "attestations": attestations(true), "reason": "ledig igen" }))
            .await;
        r.expect(200);
        assert_eq!(r.body["status"], "active");
        assert_eq!(kinds(&r.body), ["issued", "deactivated", "reactivated"]);
        let ev = &r.body["history"][2];
        assert_eq!(ev["reason"], "ledig igen");
        assert_eq!(ev["attestations"], attestations(true));
        assert!(at(&ev["effective_at"]) >= before - Duration::milliseconds(1));
        // The reason is optional on reactivation.
        deactivate(&app, &t, &id, "igen i job").await;
        let r = app.post(&path(&id, "/reactivate"), &t, &all_attested()).await;
        r.expect(200);
        assert_eq!(r.body["history"][4]["reason"], Value::Null);
    }

    async fn reactivating_an_active_card_is_a_conflict(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let issued = app.issue_card(&t, &id).await;
        app.post(&path(&id, "/reactivate"), &t, &all_attested()).await.expect_problem(409, "card_already_active");
        assert_eq!(card(&app, &t, &id).await, issued);
    }

    async fn a_reactivation_cannot_precede_the_deactivation(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        app.issue_card(&t, &id).await;
        let before_deactivation = Utc::now();
        let deactivated = deactivate(&app, &t, &id, "i job").await;
        let r = app
            .post(
                &path(&id, "/reactivate"),
                &t,
                &json!({ "decided_at": before_deactivation, "attestations": attestations(true) }),
            )
            .await;
        r.expect_problem(422, "validation");
        assert_eq!(r.error_fields(), ["decided_at"]);
        assert_eq!(r.body["errors"][0]["code"], "before_last_decision");
        let future = Utc::now() + Duration::days(2);
        let r = app
            .post(&path(&id, "/reactivate"), &t, &json!({ "decided_at": future, "attestations": attestations(true) }))
            .await;
        r.expect_problem(422, "validation");
        assert_eq!(r.body["errors"][0]["code"], "in_future");
        assert_eq!(card(&app, &t, &id).await, deactivated);
    }

    async fn the_history_lists_every_decision_in_order(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        app.issue_card(&t, &id).await;
        deactivate(&app, &t, &id, "første stop").await;
        reactivate(&app, &t, &id, "første start").await;
        deactivate(&app, &t, &id, "andet stop").await;
        reactivate(&app, &t, &id, "anden start").await;
        let c = card(&app, &t, &id).await;
        assert_eq!(c["status"], "active");
        assert_eq!(kinds(&c), ["issued", "deactivated", "reactivated", "deactivated", "reactivated"]);
        let history = c["history"].as_array().unwrap();
        let reasons: Vec<&Value> = history.iter().map(|e| &e["reason"]).collect();
        assert_eq!(
            reasons,
            [&Value::Null, &json!("første stop"), &json!("første start"), &json!("andet stop"), &json!("anden start")]
        );
        for pair in history.windows(2) {
            assert!(at(&pair[0]["effective_at"]) <= at(&pair[1]["effective_at"]), "{c}");
            assert!(at(&pair[0]["recorded_at"]) <= at(&pair[1]["recorded_at"]), "{c}");
        }
        for e in history {
            let attested = e["kind"] == "issued" || e["kind"] == "reactivated";
            assert_eq!(e["attestations"] == attestations(true), attested, "{e}");
            assert_eq!(e["actor"], "coord-730");
        }
        let actions = actions(&audit_log(&app, &t).await);
        assert_eq!(
            actions[1..6],
            [
                "frikort.reactivated",
                "frikort.deactivated",
                "frikort.reactivated",
                "frikort.deactivated",
                "frikort.issued"
            ]
        );
    }

    async fn a_control_in_the_year_of_issue_is_refused(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let issued = app.issue_card(&t, &id).await;
        app.post(&path(&id, "/controls"), &t, &all_attested()).await.expect_problem(422, "control_in_issue_year");
        // Backdated into the year of issue as well.
        backdate_card(&app, &id, NaiveDate::from_ymd_opt(this_year() - 2, 6, 15).unwrap());
        let r = app.post(&path(&id, "/controls"), &t, &json!({
            "controlled_on": NaiveDate::from_ymd_opt(this_year() - 2, 12, 31).unwrap(),
            "attestations": attestations(true)
        })).await;
        r.expect_problem(422, "control_in_issue_year");
        let c = card(&app, &t, &id).await;
        assert_eq!(c["history"], issued["history"]);
        assert_eq!(c["last_control_on"], Value::Null);
    }

    async fn a_card_issued_now_is_due_for_control_two_calendar_years_later(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let c = app.issue_card(&t, &id).await;
        assert!(controls_due(&app, &t, "").await.is_empty());
        assert!(controls_due(&app, &t, &format!("?year={}", this_year() + 1)).await.is_empty());
        let due = controls_due(&app, &t, &format!("?year={}", this_year() + 2)).await;
        assert_eq!(
            due,
            [json!({
                "citizen_id": id, "citizen_name": "Jens Hansen", "number": c["number"], "issued_on": today().to_string(),
                "last_control_on": null, "due_year": this_year() + 2, "overdue": false
            })]
        );
        let later = controls_due(&app, &t, &format!("?year={}", this_year() + 3)).await;
        assert_eq!(later[0]["overdue"], true);
        for bad in ["2018", "2101"] {
            let r = app.get(&format!("/api/v1/frikort/controls-due?year={bad}"), &t).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["year"]);
        }
        app.get("/api/v1/frikort/controls-due?year=next", &t).await.expect_problem(400, "invalid_query");
    }

    async fn the_controls_due_come_one_page_at_a_time(app) {
        let t = app.coordinator("730");
        for n in 0..3 {
            let id = app.enrol(&t, &cpr(n), &format!("Borger {n}")).await;
            app.issue_card(&t, &id).await;
        }
        let year = this_year() + 2;
        let first = app.get(&format!("/api/v1/frikort/controls-due?year={year}&limit=2"), &t).await;
        first.expect(200);
        assert_eq!(pick(&first.body, &["total", "limit", "offset"]), json!([3, 2, 0]));
        assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
        let rest = app.get(&format!("/api/v1/frikort/controls-due?year={year}&limit=2&offset=2"), &t).await;
        assert_eq!(pick(&rest.body, &["total", "limit", "offset"]), json!([3, 2, 2]));
        let mut seen: Vec<Value> = first.body["items"].as_array().unwrap().clone();
        seen.extend(rest.body["items"].as_array().unwrap().iter().cloned());
        let mut citizens: Vec<&str> = seen.iter().map(|c| c["citizen_id"].as_str().unwrap()).collect();
        citizens.sort();
        citizens.dedup();
        assert_eq!(citizens.len(), 3, "each card is on one page: {seen:?}");
        let r = app.get("/api/v1/frikort/controls-due?offset=-1", &t).await;
        expect_field_error(&r, "offset", "out_of_range");
    }

    async fn a_card_issued_two_years_ago_is_due_until_its_control_is_recorded(app) {
        let t = app.coordinator("730");
        let due_id = app.enrol(&t, "010190-1234", "Dorte Due").await;
        let overdue_id = app.enrol(&t, "020290-1234", "Ole Overdue").await;
        let inactive_id = app.enrol(&t, "030390-1234", "Ivan Inaktiv").await;
        let fresh_id = app.enrol(&t, "040490-1234", "Frida Frisk").await;
        let aarhus = app.coordinator("751");
        let elsewhere_id = app.enrol(&aarhus, "050590-1234", "Aage Aarhus").await;
        for id in [&due_id, &overdue_id, &inactive_id, &fresh_id] {
            app.issue_card(&t, id).await;
        }
        app.issue_card(&aarhus, &elsewhere_id).await;
        let two_years_ago = NaiveDate::from_ymd_opt(this_year() - 2, 3, 1).unwrap();
        let three_years_ago = NaiveDate::from_ymd_opt(this_year() - 3, 11, 30).unwrap();
        backdate_card(&app, &due_id, two_years_ago);
        backdate_card(&app, &overdue_id, three_years_ago);
        backdate_card(&app, &inactive_id, three_years_ago);
        backdate_card(&app, &elsewhere_id, three_years_ago);
        deactivate(&app, &t, &inactive_id, "i job").await;

        let due = controls_due(&app, &t, "").await;
        let summary: Vec<(&str, &Value, &Value, &Value)> = due
            .iter()
            .map(|d| (d["citizen_name"].as_str().unwrap(), &d["issued_on"], &d["due_year"], &d["overdue"]))
            .collect();
        assert_eq!(
            summary,
            [
                ("Ole Overdue", &json!(three_years_ago.to_string()), &json!(this_year() - 1), &json!(true)),
                ("Dorte Due", &json!(two_years_ago.to_string()), &json!(this_year()), &json!(false)),
            ]
        );
        assert_eq!(card(&app, &t, &due_id).await["control_due_year"], this_year());
        assert_eq!(controls_due(&app, &aarhus, "").await.len(), 1);

        let r = app
            .post(&path(&due_id, "/controls"), &t, &json!({ "attestations": attestations(true), "note": "samtale" }))
            .await;
        r.expect(200);
        assert_eq!(actions(&audit_log(&app, &t).await)[0], "frikort.controlled");
        assert_eq!(r.body["status"], "active");
        assert_eq!(r.body["last_control_on"], today().to_string());
        assert_eq!(r.body["control_due_year"], this_year() + 2);
        assert_eq!(kinds(&r.body), ["issued", "controlled"]);
        let ev = &r.body["history"][1];
        assert_eq!(ev["reason"], "samtale");
        assert_eq!(ev["attestations"], attestations(true));
        assert_eq!(at(&ev["effective_at"]), start_of_day(today()));
        assert_eq!(card(&app, &t, &due_id).await, r.body);

        let due = controls_due(&app, &t, "").await;
        let names: Vec<&str> = due.iter().map(|d| d["citizen_name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Ole Overdue"]);

        // A control may be dated back, to a year after the year of issue.
        let last_year = NaiveDate::from_ymd_opt(this_year() - 1, 5, 20).unwrap();
        let r = app
            .post(
                &path(&overdue_id, "/controls"),
                &t,
                &json!({ "controlled_on": last_year, "attestations": attestations(true) }),
            )
            .await;
        r.expect(200);
        assert_eq!(r.body["last_control_on"], last_year.to_string());
        assert_eq!(r.body["control_due_year"], this_year() + 1);
        assert!(controls_due(&app, &t, "").await.is_empty());
    }

    async fn a_control_needs_an_active_card_the_conditions_and_a_sensible_date(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        app.issue_card(&t, &id).await;
        backdate_card(&app, &id, NaiveDate::from_ymd_opt(this_year() - 2, 3, 1).unwrap());
        let before = card(&app, &t, &id).await;

        let mut one = attestations(true);
        one["residence_9_of_last_10_years"] = json!(false);
        let r = app.post(&path(&id, "/controls"), &t, &json!({ "attestations": one })).await;
        r.expect_problem(422, "conditions_not_met");
        assert!(r.body["detail"].as_str().unwrap().contains("residence_9_of_last_10_years"), "{}", r.body);
        let r = app
            .post(
                &path(&id, "/controls"),
                &t,
                &json!({ "controlled_on": today() + Duration::days(1), "attestations": attestations(true) }),
            )
            .await;
        r.expect_problem(422, "validation");
        assert_eq!(r.error_fields(), ["controlled_on"]);
        app.post(&path(&id, "/controls"), &t, &json!({})).await.expect_problem(422, "validation");
        assert_eq!(card(&app, &t, &id).await, before);

        app.post(&path(&id, "/controls"), &t, &all_attested()).await.expect(200);
        let earlier = NaiveDate::from_ymd_opt(this_year() - 1, 1, 10).unwrap();
        let r = app
            .post(&path(&id, "/controls"), &t, &json!({ "controlled_on": earlier, "attestations": attestations(true) }))
            .await;
        r.expect_problem(422, "validation");
        assert_eq!(r.body["errors"][0]["code"], "before_last_control");

        deactivate(&app, &t, &id, "i job").await;
        app.post(&path(&id, "/controls"), &t, &all_attested()).await.expect_problem(409, "card_not_active");
        assert!(controls_due(&app, &t, &format!("?year={}", this_year() + 5)).await.is_empty());
    }

    async fn a_citizen_without_a_card_has_no_card_to_read_or_change(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let r = app.get(&path(&id, ""), &t).await;
        r.expect_problem(404, "not_found");
        app.post(&path(&id, "/deactivate"), &t, &json!({ "reason": "r" })).await.expect_problem(404, "not_found");
        app.post(&path(&id, "/reactivate"), &t, &all_attested()).await.expect_problem(404, "not_found");
        app.post(&path(&id, "/controls"), &t, &all_attested()).await.expect_problem(404, "not_found");
        // An unknown citizen has no card either, and cannot be given one.
        let ghost = uuid::Uuid::new_v4().to_string();
        app.get(&path(&ghost, ""), &t).await.expect_problem(404, "not_found");
        app.post(&path(&ghost, ""), &t, &all_attested()).await.expect_problem(404, "not_found");
        let citizen = app.get(&format!("/api/v1/citizens/{id}"), &t).await;
        assert_eq!(citizen.body["frikort"], Value::Null);
    }

    async fn another_municipality_can_neither_issue_nor_read_nor_change_the_card(app) {
        let t = app.coordinator("730");
        let aarhus = app.coordinator("751");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        app.post(&path(&id, ""), &aarhus, &all_attested()).await.expect_problem(404, "not_found");
        let issued = app.issue_card(&t, &id).await;
        app.get(&path(&id, ""), &aarhus).await.expect_problem(404, "not_found");
        app.post(&path(&id, "/deactivate"), &aarhus, &json!({ "reason": "r" })).await.expect_problem(404, "not_found");
        assert_eq!(card(&app, &t, &id).await, issued);
        assert!(controls_due(&app, &aarhus, &format!("?year={}", this_year() + 2)).await.is_empty());
    }

    async fn the_citizen_view_follows_the_card_status(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let number = app.issue_card(&t, &id).await["number"].clone();
        let status = |body: &Value| body["frikort"].clone();
        let me = app.citizen(&id);
        assert_eq!(status(&app.get("/api/v1/me", &me).await.body), json!({ "number": number, "status": "active" }));
        deactivate(&app, &t, &id, "pause").await;
        assert_eq!(
            status(&app.get(&format!("/api/v1/citizens/{id}"), &t).await.body),
            json!({ "number": number, "status": "deactivated" })
        );
        assert_eq!(status(&app.get("/api/v1/me", &me).await.body)["status"], "deactivated");
        assert_eq!(app.get("/api/v1/citizens?frikort=deactivated", &t).await.body["total"], 1);
        assert_eq!(app.get("/api/v1/citizens?frikort=active", &t).await.body["total"], 0);
        assert_eq!(app.get("/api/v1/citizens?frikort=none", &t).await.body["total"], 0);
        reactivate(&app, &t, &id, "videre").await;
        let list = app.get("/api/v1/citizens?frikort=active", &t).await;
        assert_eq!(list.body["total"], 1);
        assert_eq!(status(&list.body["items"][0]), json!({ "number": number, "status": "active" }));
    }
}

/// A card's validity period: the age rule applies on valid-from, and a card deactivated before
/// it becomes valid never becomes active.
mod validity {
    use super::*;

    both_backends! {
        async fn a_card_cannot_be_valid_from_a_date_before_the_citizen_turned_18(app) {
            let t = app.coordinator("730");
            // 18 years and 2 months old today; 17 years and 8 months old six months ago.
            let born = today().checked_sub_months(Months::new(18 * 12 + 2)).unwrap();
            let id = app.enrol(&t, &cpr_born(born, "321"), "Nylig Atten").await;
            let valid_from = today().checked_sub_months(Months::new(6)).unwrap();
            let r = app
                .post(&path(&id, ""), &t, &json!({ "valid_from": valid_from, "attestations": attestations(true) }))
                .await;
            r.expect_problem(422, "underage");
            app.get(&path(&id, ""), &t).await.expect_problem(404, "not_found");
        }

        async fn a_card_valid_from_a_future_date_keeps_its_issue_first_in_the_history(app) {
            let t = app.coordinator("730");
            let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
            let valid_from = today() + Duration::days(30);
            let r = app
                .post(&path(&id, ""), &t, &json!({ "valid_from": valid_from, "attestations": attestations(true) }))
                .await;
            r.expect(201);
            assert_eq!(r.body["valid_from"], valid_from.to_string());
            let c = deactivate(&app, &t, &id, "fortrudt").await;
            assert_eq!(kinds(&c), ["issued", "deactivated"], "the history is not in decision order: {c}");
        }
    }
}
