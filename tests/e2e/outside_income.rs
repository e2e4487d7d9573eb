//! Outside income over HTTP: frikort income registered with the national register outside
//! Småjob takes headroom on its payment date like a payout (earlier Småjob payouts keep theirs,
//! later ones split with what it left, back-dated ones re-split the year with adjustments), every
//! balance says what it is based on, and a statement from the national register is imported,
//! shown as differences, and changes nothing until a coordinator accepts it.

use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// Asserts that a full balance's outside and Småjob income add up to its gross (the allocation's).
#[track_caller]
fn assert_parts_add_up(b: &Value) {
    assert_eq!(ore(&b["outside_income"]) + ore(&b["smaajob_income"]), ore(&b["gross"]), "{b}");
}

/// The first adjustment of a receipt, as (payout, new exempt, new taxable, cause).
fn first_adjustment(receipt: &Value) -> (String, String, String, String) {
    let a = &receipt["adjustments"][0];
    let text = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
    (text("payout_id"), text("new_exempt"), text("new_taxable"), text("cause"))
}

both_backends! {
    async fn outside_income_paid_before_a_payout_takes_the_headroom_first_and_the_payout_is_adjusted(app) {
        let w = employee(&app, "2024-01-01").await;
        // 5,000 kr (holiday pay paid separately), all exempt so far.
        let paid = w.pay(&app, "2024-06-28", "2024-06-01", "2024-06-27", "5000.00").await;
        let payout = id(&paid["payout"]);

        let r = record_outside_income(&app, &w.coordinator, &w.citizen, &outside_income_body("2024-03-01", "40000.00", Some(&cvr(9)))).await;
        r.expect(201);
        assert_eq!((r.body["exempt"].as_str(), r.body["taxable"].as_str()), (Some("40000.00"), Some("0.00")));
        assert_eq!(r.body["outside_income"]["income_year"], 2024);
        assert_eq!(r.body["balance"]["remaining"], "0.00");
        assert_eq!(first_adjustment(&r.body), (payout.clone(), "1280.00".into(), "3720.00".into(), "outside_income".into()));
        // The payout's split changed and its employer sees the adjustment.
        assert_eq!((w.payout(&app, &payout).await["exempt"].as_str(), w.payout(&app, &payout).await["taxable"].as_str()), (Some("1280.00"), Some("3720.00")));
        let adjustments = app.get("/api/v1/adjustments?year=2024", &w.company_token).await;
        adjustments.expect(200);
        assert_eq!(adjustments.body["items"][0]["cause"], "outside_income");
        assert_eq!(adjustments.body["items"][0]["cause_ref"], r.body["outside_income"]["id"]);

        let b = w.balance(&app, 2024).await;
        assert_eq!(totals(&b), ("45000.00", "41280.00", "3720.00", "0.00", 1));
        assert_eq!((b["outside_income"].as_str(), b["smaajob_income"].as_str()), (Some("40000.00"), Some("5000.00")));
        assert_eq!(b["based_on"], "income known to Småjob, not yet reconciled with the national register");
        assert_eq!(b["reconciled_on"], Value::Null);
        assert_parts_add_up(&b);
        // The employer sees the remaining amount only, and what it is based on, not the outside income.
        let employer = balance(&app, &w.company_token, &w.citizen, 2024).await;
        assert_eq!(keys(&employer), set(&["citizen_id", "year", "cap", "cap_provisional", "remaining", "based_on", "reconciled_on"]));
        assert_eq!(employer["remaining"], "0.00");
    }

    async fn a_payout_paid_after_outside_income_splits_with_what_it_left(app) {
        let w = employee(&app, "2024-01-01").await;
        record_outside_income(&app, &w.coordinator, &w.citizen, &outside_income_body("2024-03-01", "40000.00", None)).await.expect(201);
        let paid = w.pay(&app, "2024-06-28", "2024-06-01", "2024-06-27", "5000.00").await;
        assert_eq!((paid["payout"]["exempt"].as_str(), paid["payout"]["taxable"].as_str()), (Some("1280.00"), Some("3720.00")));
        assert!(warning_codes(&paid).contains(&"cap_crossed".to_owned()), "{paid}");
        assert_eq!(paid["adjustments"], json!([]));
        // A payout on the same day as later outside income is re-run, not appended: the order holds.
        record_outside_income(&app, &w.coordinator, &w.citizen, &outside_income_body("2024-09-01", "100.00", None)).await.expect(201);
        let later = w.pay(&app, "2024-08-30", "2024-08-01", "2024-08-29", "100.00").await;
        assert_eq!(later["payout"]["exempt"], "0.00");
        let b = w.balance(&app, 2024).await;
        assert_eq!(totals(&b), ("45200.00", "41280.00", "3920.00", "0.00", 2));
        assert_parts_add_up(&b);
    }

    async fn a_back_dated_payout_paid_before_outside_income_takes_the_headroom_first(app) {
        let w = employee(&app, "2024-01-01").await;
        let recorded = record_outside_income(&app, &w.coordinator, &w.citizen, &outside_income_body("2024-06-01", "40000.00", None)).await;
        recorded.expect(201);
        assert_eq!(recorded.body["exempt"], "40000.00");
        // Paid in March, registered after: it comes first, so it is all exempt, and the outside
        // income (no Småjob payout, so no adjustment) is what goes over the cap.
        let paid = w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "5000.00").await;
        assert_eq!((paid["payout"]["exempt"].as_str(), paid["payout"]["taxable"].as_str()), (Some("5000.00"), Some("0.00")));
        assert_eq!(paid["adjustments"], json!([]));
        let b = w.balance(&app, 2024).await;
        assert_eq!(totals(&b), ("45000.00", "41280.00", "3720.00", "0.00", 1));
        assert_parts_add_up(&b);
        // A reversal of the payout gives the headroom back to the outside income.
        let reversal = format!("/api/v1/payouts/{}/reversal", id(&paid["payout"]));
        app.post(&reversal, &w.company_token, &json!({ "reason": "Forkert beløb" })).await.expect(201);
        let b = w.balance(&app, 2024).await;
        assert_eq!(totals(&b), ("40000.00", "40000.00", "0.00", "1280.00", 0));
        assert_parts_add_up(&b);
    }

    async fn withdrawing_outside_income_gives_its_headroom_back_once(app) {
        let w = employee(&app, "2024-01-01").await;
        let paid = w.pay(&app, "2024-06-28", "2024-06-01", "2024-06-27", "5000.00").await;
        let payout = id(&paid["payout"]);
        let recorded = record_outside_income(&app, &w.coordinator, &w.citizen, &outside_income_body("2024-03-01", "40000.00", None)).await;
        recorded.expect(201);
        let income = id(&recorded.body["outside_income"]);

        let path = format!("/api/v1/outside-income/{income}/withdrawal");
        let r = app.post(&path, &w.coordinator, &json!({ "reason": "Registreret to gange" })).await;
        r.expect(201);
        assert_eq!(r.body["outside_income"]["withdrawn_reason"], "Registreret to gange");
        assert_eq!((r.body["exempt"].as_str(), r.body["taxable"].as_str()), (Some("0.00"), Some("0.00")));
        assert_eq!(first_adjustment(&r.body), (payout.clone(), "5000.00".into(), "0.00".into(), "outside_income".into()));
        let b = w.balance(&app, 2024).await;
        assert_eq!(totals(&b), ("5000.00", "5000.00", "0.00", "36280.00", 1));
        assert_parts_add_up(&b);

        assert_problem(&app.post(&path, &w.coordinator, &json!({ "reason": "igen" })).await, 409, "outside_income_already_withdrawn", "twice");
        expect_field_error(&app.post(&path, &w.coordinator, &json!({ "reason": " " })).await, "reason", "required");
        // The list shows both the entry and its withdrawal, and reading it is audited.
        let list = app.get(&format!("/api/v1/citizens/{}/outside-income?year=2024", w.citizen), &w.coordinator).await;
        list.expect(200);
        assert_eq!(list.body["total"], 1);
        assert!(list.body["items"][0]["withdrawn_at"].is_string(), "{}", list.body);
        let logged = actions(&audit_of(&app, &w.coordinator, &w.citizen).await);
        for action in ["outside_income.recorded", "outside_income.withdrawn", "outside_income.listed"] {
            assert!(logged.iter().any(|a| a == action), "{action} in {logged:?}");
        }
    }

    async fn bad_outside_income_is_refused_field_by_field_and_changes_nothing(app) {
        let w = employee(&app, "2024-01-01").await;
        let before = w.balance(&app, 2024).await;
        let post = |body: Value| {
            let (app, coordinator, citizen) = (&app, w.coordinator.clone(), w.citizen.clone());
            async move { record_outside_income(app, &coordinator, &citizen, &body).await }
        };
        expect_field_error(&post(outside_income_body("2024-03-01", "-5.00", None)).await, "amount", "money_not_positive");
        expect_field_error(&post(outside_income_body("2024-03-01", "12,50", None)).await, "amount", "money_format");
        expect_field_error(&post(outside_income_body("2024-03-01", "1000001.00", None)).await, "amount", "too_large");
        expect_field_error(&post(outside_income_body("2024-03-01", "10.00", Some("12345678"))).await, "employer_cvr", "cvr_checksum");
        expect_field_error(&post(outside_income_body(&date(1), "10.00", None)).await, "payment_date", "in_future");
        expect_field_error(&post(outside_income_body("2018-12-31", "10.00", None)).await, "payment_date", "before_scheme");
        expect_field_error(&post(json!({ "payment_date": "2024-03-01", "amount": "10.00", "source": "" })).await, "source", "required");
        post(json!({ "payment_date": "2024-03-01", "amount": "10.00" })).await.expect(422);
        assert_eq!(w.balance(&app, 2024).await, before);
    }

    async fn only_a_coordinator_of_the_citizen_s_municipality_records_or_reads_outside_income(app) {
        let w = employee(&app, "2024-01-01").await;
        let body = outside_income_body("2024-03-01", "100.00", None);
        let path = format!("/api/v1/citizens/{}/outside-income", w.citizen);
        for token in [w.company_token.clone(), app.citizen(&w.citizen), app.operator()] {
            assert_eq!(app.post(&path, &token, &body).await.status, 403);
            assert_eq!(app.get(&path, &token).await.status, 403);
        }
        let aarhus = app.coordinator(AARHUS);
        assert_problem(&app.post(&path, &aarhus, &body).await, 404, "not_found", "another municipality");
        assert_problem(&app.get(&path, &aarhus).await, 404, "not_found", "another municipality");
        let unknown = format!("/api/v1/citizens/{}/outside-income", unknown_id());
        assert_problem(&app.post(&unknown, &w.coordinator, &body).await, 404, "not_found", "unknown citizen");
        let recorded = record_outside_income(&app, &w.coordinator, &w.citizen, &body).await;
        recorded.expect(201);
        let withdrawal = format!("/api/v1/outside-income/{}/withdrawal", id(&recorded.body["outside_income"]));
        assert_problem(&app.post(&withdrawal, &aarhus, &json!({ "reason": "x" })).await, 404, "not_found", "another municipality");
        let unknown = format!("/api/v1/outside-income/{}/withdrawal", unknown_id());
        assert_problem(&app.post(&unknown, &w.coordinator, &json!({ "reason": "x" })).await, 404, "not_found", "unknown entry");
    }

    async fn a_register_statement_lists_its_differences_and_changes_nothing_until_it_is_accepted(app) {
        let w = employee(&app, "2024-01-01").await;
        // 20,000 kr exempt, registered with the register as 19,500 kr.
        w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "20000.00").await;
        // Recorded by hand, but not in the register.
        let manual = record_outside_income(&app, &w.coordinator, &w.citizen, &outside_income_body("2024-05-01", "1000.00", Some(&cvr(3)))).await;
        manual.expect(201);
        let before = w.balance(&app, 2024).await;
        let file = statement_file(&[
            &format!("{CVR_A};Bager Hansen;28-03-2024;19.500,00"),
            &format!("{};Café Ærø ApS;2024-04-15;10000,00", cvr(4)),
        ]);
        let r = import_statement(&app, &w.coordinator, &w.citizen, 2024, "2024-06-30", &file).await;
        r.expect(201);
        assert_eq!((r.body["status"].as_str(), r.body["lines"].as_u64()), (Some("pending"), Some(2)));
        let kinds: Vec<String> = field(&r.body["differences"], "kind");
        assert_eq!(kinds, ["registration_differs", "missing_in_smaajob", "missing_in_register"]);
        assert_eq!(
            pick(&r.body["differences"][0], &["employer_cvr", "register_amount", "smaajob_amount"]),
            json!([CVR_A, "19500.00", "20000.00"])
        );
        assert_eq!(r.body["differences"][1]["line"], 3);
        assert_eq!(r.body["differences"][2]["outside_income_id"], manual.body["outside_income"]["id"]);
        assert_eq!(w.balance(&app, 2024).await, before, "an import changes nothing");

        let statement = id(&r.body);
        let accepted = accept_statement(&app, &w.coordinator, &statement).await;
        accepted.expect(200);
        assert_eq!(accepted.body["statement"]["status"], "accepted");
        assert_eq!(field(&accepted.body["recorded"], "amount"), ["10000.00"]);
        assert_eq!(accepted.body["withdrawn"], json!([manual.body["outside_income"]["id"]]));
        let b = w.balance(&app, 2024).await;
        assert_eq!((b["outside_income"].as_str(), b["smaajob_income"].as_str()), (Some("10000.00"), Some("20000.00")));
        assert_eq!(b["remaining"], "11280.00");
        assert_parts_add_up(&b);
        assert_eq!(b["reconciled_on"], "2024-06-30");
        assert_eq!(b["based_on"], "income known to Småjob, last reconciled with the national register on 2024-06-30");
        // Småjob's own payout stays as it is: the register must be corrected instead.
        assert_eq!(b["per_employer"][0]["exempt"], "20000.00");
        assert_problem(&accept_statement(&app, &w.coordinator, &statement).await, 409, "statement_not_pending", "twice");
        let logged = actions(&audit_of(&app, &w.coordinator, &w.citizen).await);
        for action in ["register_statement.imported", "register_statement.accepted"] {
            assert!(logged.iter().any(|a| a == action), "{action} in {logged:?}");
        }
    }

    async fn a_statement_in_another_format_is_refused_whole_and_a_malformed_line_is_named(app) {
        let w = employee(&app, "2024-01-01").await;
        let before = w.balance(&app, 2024).await;
        for text in ["", "Dato,Tekst,Beløb\n2024-01-01,x,1.00\n", "CVR;Arbejdsgiver;Beløb\n"] {
            let r = import_statement(&app, &w.coordinator, &w.citizen, 2024, "2024-06-30", text).await;
            assert_problem(&r, 422, "statement_format_unknown", text);
        }
        let file = statement_file(&[
            &format!("{};Café;2024-04-15;100,00", cvr(4)),
            &format!("{};Café;2024-04-15;hundrede", cvr(4)),
            &format!("{};Café;2023-12-31;100,00", cvr(4)),
        ]);
        let r = import_statement(&app, &w.coordinator, &w.citizen, 2024, "2024-06-30", &file).await;
        r.expect_problem(422, "validation");
        assert_eq!(
            field_codes(&r),
            [
                ("statement.line[3].amount".to_owned(), "money_format".to_owned()),
                ("statement.line[4].payment_date".to_owned(), "other_year".to_owned()),
            ]
        );
        assert!(r.body["errors"][0]["message"].as_str().unwrap().starts_with("line 3:"), "{}", r.body);
        expect_field_error(
            &import_statement(&app, &w.coordinator, &w.citizen, 2024, &date(1), &statement_file(&[])).await,
            "drawn_on",
            "in_future",
        );
        expect_field_error(
            &import_statement(&app, &w.coordinator, &w.citizen, 2024, "2023-12-31", &statement_file(&[])).await,
            "drawn_on",
            "before_year",
        );
        assert_eq!(w.balance(&app, 2024).await, before);
    }

    async fn a_statement_whose_differences_changed_since_the_import_is_refused_as_stale(app) {
        let w = employee(&app, "2024-01-01").await;
        let file = statement_file(&[&format!("{};Café;2024-04-15;100,00", cvr(4))]);
        let r = import_statement(&app, &w.coordinator, &w.citizen, 2024, "2024-06-30", &file).await;
        r.expect(201);
        // Meanwhile the same income is recorded by hand: the statement no longer adds it.
        record_outside_income(&app, &w.coordinator, &w.citizen, &outside_income_body("2024-04-15", "100.00", Some(&cvr(4)))).await.expect(201);
        assert_problem(&accept_statement(&app, &w.coordinator, &id(&r.body)).await, 409, "statement_stale", "stale");
        assert_eq!(w.balance(&app, 2024).await["outside_income"], "100.00");
        // Imported again, it agrees and accepting it records nothing new.
        let again = import_statement(&app, &w.coordinator, &w.citizen, 2024, "2024-06-30", &file).await;
        again.expect(201);
        assert_eq!(again.body["differences"], json!([]));
        let accepted = accept_statement(&app, &w.coordinator, &id(&again.body)).await;
        accepted.expect(200);
        assert_eq!(accepted.body["recorded"], json!([]));
        assert_eq!(w.balance(&app, 2024).await["outside_income"], "100.00");
        // The stale one was superseded by the accepted one.
        assert_problem(&accept_statement(&app, &w.coordinator, &id(&r.body)).await, 409, "statement_not_pending", "superseded");
    }

    async fn only_the_citizen_s_coordinator_imports_or_accepts_a_statement(app) {
        let w = employee(&app, "2024-01-01").await;
        let file = statement_file(&[]);
        for token in [w.company_token.clone(), app.citizen(&w.citizen), app.operator()] {
            assert_eq!(import_statement(&app, &token, &w.citizen, 2024, "2024-06-30", &file).await.status, 403);
        }
        let aarhus = app.coordinator(AARHUS);
        assert_problem(&import_statement(&app, &aarhus, &w.citizen, 2024, "2024-06-30", &file).await, 404, "not_found", "aarhus");
        let r = import_statement(&app, &w.coordinator, &w.citizen, 2024, "2024-06-30", &file).await;
        r.expect(201);
        assert_problem(&accept_statement(&app, &aarhus, &id(&r.body)).await, 404, "not_found", "aarhus accepts");
        assert_eq!(accept_statement(&app, &w.company_token, &id(&r.body)).await.status, 403);
        assert_problem(&accept_statement(&app, &w.coordinator, &unknown_id()).await, 404, "not_found", "unknown");
    }
}
