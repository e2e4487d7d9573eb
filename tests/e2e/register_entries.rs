//! Register entries over HTTP: every exempt amount becomes a registration for the national frikort
//! solution; an adjustment of a registered one makes it need correction and adds the correction
//! to make; the coordinator lists what is pending, needing correction or overdue, exports it as
//! CSV (the one place with full CPR numbers) and marks entries registered with the register's
//! reference. The entries, net of corrections, add up to the payouts' exempt amounts across
//! reversals, back-dated payouts and cap changes.

use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// The entries of a `status` view, as the coordinator lists them.
async fn entries(app: &TestApp, token: &str, status: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/register-entries?status={status}&limit=200"), token).await;
    r.expect(200);
    r.body["items"].as_array().unwrap().clone()
}

async fn register(app: &TestApp, token: &str, entry: &str, reference: &str) -> Resp {
    app.post(
        &format!("/api/v1/register-entries/{entry}/registered"),
        token,
        &json!({ "national_reference": reference }),
    )
    .await
}

/// `(kind, status, previous_exempt, exempt, change)` of an entry.
fn amounts(e: &Value) -> (&str, &str, &str, &str, &str) {
    let s = |k: &str| e[k].as_str().unwrap();
    (s("kind"), s("status"), s("previous_exempt"), s("exempt"), s("change"))
}

/// An entry's `change` in øre; negative for a correction downwards.
fn change_ore(e: &Value) -> i64 {
    let text = e["change"].as_str().unwrap();
    match text.strip_prefix('-') {
        Some(magnitude) => -ore(&json!(magnitude)),
        None => ore(&json!(text)),
    }
}

/// Sums of the entries net of corrections and of the payouts' exempt amounts, in øre.
async fn reconciled(app: &TestApp, w: &Employee, employments: &[(&str, &str)]) -> (i64, i64) {
    let all = entries(app, &w.coordinator, "all").await;
    let net: i64 = all.iter().filter(|e| e["status"] != "cancelled").map(change_ore).sum();
    let mut exempt = 0;
    for (token, employment) in employments {
        exempt += payouts_of(app, token, employment).await.iter().map(|p| ore(&p["exempt"])).sum::<i64>();
    }
    (net, exempt)
}

both_backends! {
    async fn a_payout_with_an_exempt_part_is_a_pending_registration_with_what_the_register_asks_for(app) {
        let w = employee(&app, "2024-01-01").await;
        let body = json!({ "payment_date": "2024-03-28", "worked_from": "2024-03-01", "worked_to": "2024-03-27",
                           "wage": "1000.00", "holiday_pay": "125.00", "pension": "20.00" });
        let r = app.payout(&w.company_token, &w.employment, &body).await;
        r.expect(201);
        let payout = id(&r.body["payout"]);
        let listed = entries(&app, &w.coordinator, "pending").await;
        assert_eq!(listed.len(), 1);
        let e = &listed[0];
        assert_eq!(amounts(e), ("registration", "pending", "0.00", "1145.00", "1145.00"));
        assert_eq!(e["payout_id"], payout.as_str());
        assert_eq!(e["employer_cvr"], CVR_A);
        assert_eq!(e["employer_name"], "Bager Hansen");
        assert_eq!(e["citizen_id"], w.citizen.as_str());
        assert_eq!(e["cpr_masked"], "010190-XXXX");
        assert_eq!(e["card_number"], w.number.as_str());
        assert_eq!((e["period_from"].as_str(), e["period_to"].as_str()), (Some("2024-03-01"), Some("2024-03-27")));
        assert_eq!(e["payment_date"], "2024-03-28");
        assert_eq!((e["wage"].as_str(), e["holiday_pay"].as_str(), e["pension"].as_str()),
                   (Some("1000.00"), Some("125.00"), Some("20.00")));
        assert_eq!(e["due_on"], "2024-04-10", "due on the 10th of the month after the payment date");
        assert_eq!(e["overdue"], true, "long past its due day");
        assert_eq!(listed, entries(&app, &w.coordinator, "overdue").await);
        assert!(!e.to_string().contains("0101901234"), "no full CPR in the list: {e}");
    }

    async fn a_payout_without_an_exempt_part_has_no_register_entry(app) {
        let w = employee(&app, "2024-01-01").await;
        w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "41280.00").await;
        w.pay(&app, "2024-04-30", "2024-04-01", "2024-04-29", "500.00").await;
        let listed = entries(&app, &w.coordinator, "all").await;
        assert_eq!(listed.len(), 1, "only the payout under the cap: {listed:?}");
        assert_eq!(listed[0]["exempt"], "41280.00");
    }

    async fn marking_an_entry_registered_keeps_the_reference_who_and_when_and_a_second_time_is_a_conflict(app) {
        let w = employee(&app, "2024-01-01").await;
        w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "1000.00").await;
        let entry = id(&entries(&app, &w.coordinator, "pending").await[0]);
        let r = register(&app, &w.coordinator, &entry, "  SF-2024-000421 ").await;
        r.expect(200);
        assert_eq!(r.body["status"], "registered");
        assert_eq!(r.body["national_reference"], "SF-2024-000421");
        assert_eq!(r.body["registered_by"], "coord-730");
        assert_eq!(r.body["overdue"], false);
        assert!(r.body["registered_at"].is_string());
        assert!(entries(&app, &w.coordinator, "open").await.is_empty(), "nothing left to do");
        assert_eq!(ids(&json!(entries(&app, &w.coordinator, "registered").await)), vec![entry.clone()]);
        assert_problem(&register(&app, &w.coordinator, &entry, "SF-2").await, 409, "register_entry_not_pending", "twice");
        let logged = audit_of(&app, &w.coordinator, &w.citizen).await;
        assert!(actions(&logged).contains(&"register_entry.registered".to_owned()), "{:?}", actions(&logged));
    }

    async fn a_reversal_of_a_registered_payout_makes_it_need_correction_and_the_correction_is_an_entry_of_its_own(app) {
        let w = employee(&app, "2024-01-01").await;
        let payout = id(&w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "1000.00").await["payout"]);
        let registration = id(&entries(&app, &w.coordinator, "pending").await[0]);
        register(&app, &w.coordinator, &registration, "SF-1").await.expect(200);

        app.post(&format!("/api/v1/payouts/{payout}/reversal"), &w.company_token, &json!({ "reason": "forkert beløb" }))
            .await
            .expect(201);
        let open = entries(&app, &w.coordinator, "open").await;
        assert_eq!(open.len(), 2, "{open:?}");
        let original = open.iter().find(|e| e["id"] == registration.as_str()).unwrap();
        assert_eq!(amounts(original), ("registration", "needs_correction", "0.00", "1000.00", "1000.00"));
        let correction = open.iter().find(|e| e["kind"] == "correction").unwrap();
        assert_eq!(amounts(correction), ("correction", "pending", "1000.00", "0.00", "-1000.00"));
        assert_eq!(correction["corrects_id"], registration.as_str());
        assert_eq!(correction["payout_id"], payout.as_str());
        assert_eq!(ids(&json!(entries(&app, &w.coordinator, "needs_correction").await)), vec![registration.clone()]);

        register(&app, &w.coordinator, &id(correction), "SF-1-K").await.expect(200);
        let all = entries(&app, &w.coordinator, "all").await;
        let status = |entry: &str| all.iter().find(|e| e["id"] == entry).unwrap()["status"].clone();
        assert_eq!(status(&registration), "corrected");
        assert_eq!(status(&id(correction)), "registered");
        assert!(entries(&app, &w.coordinator, "open").await.is_empty());
    }

    async fn a_change_before_registration_amends_or_cancels_the_pending_entry_instead_of_adding_one(app) {
        let w = employee(&app, "2024-01-01").await;
        let later = id(&w.pay(&app, "2024-05-31", "2024-05-01", "2024-05-30", "30000.00").await["payout"]);
        // Back-dated: paid first, it takes 20,000 of the cap, and the later payout keeps 21,280.
        let earlier = id(&w.pay(&app, "2024-02-15", "2024-02-01", "2024-02-14", "20000.00").await["payout"]);
        let pending = entries(&app, &w.coordinator, "pending").await;
        assert_eq!(pending.len(), 2, "one entry per payout, amended in place: {pending:?}");
        let of = |p: &str| pending.iter().find(|e| e["payout_id"] == p).unwrap().clone();
        assert_eq!(amounts(&of(&later)), ("registration", "pending", "0.00", "21280.00", "21280.00"));
        assert_eq!(amounts(&of(&earlier)), ("registration", "pending", "0.00", "20000.00", "20000.00"));

        app.post(&format!("/api/v1/payouts/{earlier}/reversal"), &w.company_token, &json!({ "reason": "dobbelt" }))
            .await
            .expect(201);
        let pending = entries(&app, &w.coordinator, "pending").await;
        assert_eq!(pending.len(), 1, "{pending:?}");
        assert_eq!(amounts(&pending[0]), ("registration", "pending", "0.00", "30000.00", "30000.00"));
        let cancelled = entries(&app, &w.coordinator, "cancelled").await;
        assert_eq!(cancelled.len(), 1);
        assert_eq!(cancelled[0]["payout_id"], earlier.as_str());
    }

    async fn the_entries_net_of_corrections_add_up_to_the_exempt_amounts_across_reversals_back_dating_and_cap_changes(app) {
        let w = employee(&app, "2024-01-01").await;
        let (_, b_token, b_employment) = w.second_employer(&app, "2024-01-01").await;
        let both = [(w.company_token.as_str(), w.employment.as_str()), (b_token.as_str(), b_employment.as_str())];
        let check = |step: &'static str| {
            let (app, w, both) = (&app, &w, &both);
            async move {
                let (net, exempt) = reconciled(app, w, both).await;
                assert_eq!(net, exempt, "after {step}");
            }
        };
        let first = id(&w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "20000.00").await["payout"]);
        app.payout(&b_token, &b_employment, &payout_body("2024-04-30", "2024-04-01", "2024-04-29", "15000.00")).await.expect(201);
        check("two payouts").await;
        w.pay(&app, "2024-05-31", "2024-05-01", "2024-05-30", "10000.00").await;
        check("a payout over the cap").await;
        // Register everything, so what follows needs corrections.
        for e in entries(&app, &w.coordinator, "pending").await {
            register(&app, &w.coordinator, &id(&e), "SF-A").await.expect(200);
        }
        app.payout(&b_token, &b_employment, &payout_body("2024-02-15", "2024-02-01", "2024-02-14", "5000.00")).await.expect(201);
        check("a back-dated payout").await;
        assert!(!entries(&app, &w.coordinator, "needs_correction").await.is_empty(), "back-dating re-split a registered one");
        app.post(&format!("/api/v1/payouts/{first}/reversal"), &w.company_token, &json!({ "reason": "forkert" }))
            .await
            .expect(201);
        check("a reversal").await;
        for e in entries(&app, &w.coordinator, "pending").await {
            register(&app, &w.coordinator, &id(&e), "SF-B").await.expect(200);
        }
        change_cap(&app, 2024, json!({ "amount": "30000" })).await.expect(200);
        check("a lower cap").await;
        change_cap(&app, 2024, json!({ "amount": "41280" })).await.expect(200);
        check("the cap back").await;
        let registered: i64 = entries(&app, &w.coordinator, "all").await.iter()
            .filter(|e| ["registered", "needs_correction", "corrected"].contains(&e["status"].as_str().unwrap()))
            .map(change_ore)
            .sum();
        let pending: i64 = entries(&app, &w.coordinator, "pending").await.iter().map(change_ore).sum();
        let (_, exempt) = reconciled(&app, &w, &both).await;
        assert_eq!(registered + pending, exempt, "what is registered plus what is to do is the exempt total");
    }

    async fn the_export_is_csv_with_full_cpr_numbers_and_every_read_of_entries_is_audited(app) {
        let w = employee(&app, "2024-01-01").await;
        w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "1000.00").await;
        let r = app.get("/api/v1/register-entries/export", &w.coordinator).await;
        r.expect(200);
        assert!(r.content_type().starts_with("text/csv"), "{}", r.content_type());
        let text = String::from_utf8(r.raw.clone()).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("entry_id,kind,status,due_on,employer_cvr,employer_name,cpr,citizen_name,card_number,period_from,period_to,payment_date,wage,holiday_pay,pension,exempt,previously_registered_exempt,change")
        );
        let row: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert_eq!(&row[1..], &["registration", "pending", "2024-04-10", CVR_A, "Bager Hansen", JENS, "Jens Hansen",
            w.number.as_str(), "2024-03-01", "2024-03-27", "2024-03-28", "1000.00", "0.00", "0.00", "1000.00", "0.00", "1000.00"]);
        assert_eq!(lines.next(), None);
        entries(&app, &w.coordinator, "open").await;
        let logged = actions(&audit_of(&app, &w.coordinator, &w.citizen).await);
        assert!(logged.contains(&"register_entry.exported".to_owned()), "{logged:?}");
        assert!(logged.contains(&"register_entry.listed".to_owned()), "{logged:?}");
    }

    async fn another_municipality_sees_no_entries_and_cannot_mark_one_registered(app) {
        let w = employee(&app, "2024-01-01").await;
        w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "1000.00").await;
        let entry = id(&entries(&app, &w.coordinator, "pending").await[0]);
        let aarhus = app.coordinator(AARHUS);
        assert!(entries(&app, &aarhus, "all").await.is_empty());
        let export = app.get("/api/v1/register-entries/export?status=all", &aarhus).await;
        export.expect(200);
        let text = String::from_utf8(export.raw.clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "the header only: {text}");
        assert_problem(&register(&app, &aarhus, &entry, "SF-1").await, 404, "not_found", "another municipality's entry");
        assert_eq!(entries(&app, &w.coordinator, "pending").await[0]["status"], "pending", "unchanged");
    }

    async fn a_bad_filter_or_reference_is_a_clear_problem_and_changes_nothing(app) {
        let w = employee(&app, "2024-01-01").await;
        w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "1000.00").await;
        let entry = id(&entries(&app, &w.coordinator, "pending").await[0]);
        let r = app.get("/api/v1/register-entries?status=done", &w.coordinator).await;
        expect_field_error(&r, "status", "unknown_status");
        let r = app.get("/api/v1/register-entries?company_id=BAGER", &w.coordinator).await;
        expect_field_error(&r, "company_id", "invalid_id");
        let r = app.get("/api/v1/register-entries/export?year=1999", &w.coordinator).await;
        expect_field_error(&r, "year", "out_of_range");
        expect_field_error(&register(&app, &w.coordinator, &entry, "   ").await, "national_reference", "invalid");
        expect_field_error(&register(&app, &w.coordinator, &entry, &"x".repeat(65)).await, "national_reference", "invalid");
        assert_problem(&register(&app, &w.coordinator, &unknown_id(), "SF-1").await, 404, "not_found", "no such entry");
        assert_problem(&register(&app, &w.coordinator, "not-an-id", "SF-1").await, 404, "not_found", "a malformed id");
        assert_eq!(entries(&app, &w.coordinator, "pending").await[0]["id"], entry.as_str(), "still pending");
    }

    async fn the_list_filters_by_employer_and_income_year(app) {
        let w = employee(&app, "2024-01-01").await;
        let (b_company, b_token, b_employment) = w.second_employer(&app, "2024-01-01").await;
        w.pay(&app, "2024-03-28", "2024-03-01", "2024-03-27", "1000.00").await;
        app.payout(&b_token, &b_employment, &payout_body("2025-01-30", "2025-01-01", "2025-01-29", "500.00")).await.expect(201);
        let r = app.get(&format!("/api/v1/register-entries?company_id={b_company}"), &w.coordinator).await;
        r.expect(200);
        assert_eq!(r.body["total"], 1);
        assert_eq!(r.body["items"][0]["employer_name"], "Tømrer Olsen");
        let r = app.get("/api/v1/register-entries?year=2024", &w.coordinator).await;
        r.expect(200);
        assert_eq!(r.body["total"], 1);
        assert_eq!(r.body["items"][0]["income_year"], 2024);
    }
}
