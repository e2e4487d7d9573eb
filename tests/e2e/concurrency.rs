//! Concurrent writers to one citizen-year: many payouts at once never spend the same headroom
//! twice, retries of one keyed request (payout or employment) register it once, a reversal racing
//! new payouts leaves consistent totals, and one payout is reversed once however many try. Each
//! request runs in its own task; all are awaited. The known bugs at the end are races on
//! PostgreSQL: a cap change and an employment's end racing payouts.

use std::rc::Rc;
use std::time::Instant;

use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// The payment date of the `i`-th concurrent payout: spread over the year, so most arrive
/// back-dated relative to some other and force re-allocations.
fn paid_on(i: usize) -> String {
    let day =
        chrono::NaiveDate::from_ymd_opt(2025, 2, 1).unwrap() + chrono::Duration::days(i64::try_from(i * 7).unwrap());
    day.to_string()
}

async fn all_adjustments(app: &TestApp, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    loop {
        let r = app.get(&format!("/api/v1/adjustments?year=2025&limit=200&offset={}", all.len()), token).await;
        r.expect(200);
        let items = r.body["items"].as_array().unwrap().clone();
        let total = r.body["total"].as_u64().unwrap();
        let done = items.is_empty();
        all.extend(items);
        if done || all.len() as u64 >= total {
            return all;
        }
    }
}

/// Sends every body as a payout on the employment at once, each in its own task.
async fn payouts_at_once(
    app: &Rc<TestApp>,
    token: &str,
    employment: &str,
    bodies: Vec<(Option<String>, Value)>,
) -> Vec<Resp> {
    let path = format!("/api/v1/employments/{employment}/payouts");
    at_once(app, bodies.into_iter().map(|(key, body)| Post::new(&path, token, &body).with_key(key))).await
}

both_backends! {
    async fn forty_concurrent_payouts_over_the_cap_spend_exactly_the_cap_and_lose_nothing(app) {
        let app = Rc::new(app);
        let Employee { coordinator, citizen, company_token: token, employment, .. } =
            employee(&app, "2025-01-01").await;
        const N: usize = 40;
        let bodies = (0..N).map(|i| (None, payout_body(&paid_on(i), &paid_on(i), &paid_on(i), "1500.00"))).collect();

        let started = Instant::now();
        let responses = payouts_at_once(&app, &token, &employment, bodies).await;
        println!("{:?}: {N} concurrent payouts took {:?}", app.backend, started.elapsed());

        let mut first_splits = std::collections::BTreeMap::new();
        for r in &responses {
            r.expect(201);
            let p = &r.body["payout"];
            first_splits.insert(p["id"].as_str().unwrap().to_owned(), (ore(&p["exempt"]), ore(&p["taxable"])));
            assert!(ore(&r.body["balance"]["remaining"]) <= 4_276_600);
        }
        assert_eq!(first_splits.len(), N, "every payout got its own id");

        let b = balance(&app, &coordinator, &citizen, 2025).await;
        assert_eq!(b["exempt"], "42766.00");
        assert_eq!(b["gross"], "60000.00");
        assert_eq!(b["taxable"], "17234.00");
        assert_eq!(b["remaining"], "0.00");
        assert_eq!(b["payouts"], N);

        // The payouts themselves add up to the balance: nothing lost, nothing counted twice.
        let r = app.get(&format!("/api/v1/employments/{employment}/payouts"), &token).await;
        r.expect(200);
        let payouts = r.body["items"].as_array().unwrap();
        assert_eq!(payouts.len(), N);
        let exempt: i64 = payouts.iter().map(|p| ore(&p["exempt"])).sum();
        let taxable: i64 = payouts.iter().map(|p| ore(&p["taxable"])).sum();
        assert_eq!(kr(exempt), "42766.00");
        assert_eq!(kr(taxable), "17234.00");

        // Whatever order they arrived in, the split is the one of payment order: the first 28
        // (by payment date) wholly exempt, the 29th takes the last 766.00, the rest is taxable.
        let mut by_date: Vec<&Value> = payouts.iter().collect();
        by_date.sort_by_key(|p| p["payment_date"].as_str().unwrap().to_owned());
        for (i, p) in by_date.iter().enumerate() {
            let expected = match i {
                0..28 => ("1500.00", "0.00"),
                28 => ("766.00", "734.00"),
                _ => ("0.00", "1500.00"),
            };
            assert_eq!(
                (p["exempt"].as_str().unwrap(), p["taxable"].as_str().unwrap()),
                expected,
                "payout {i} by date: {p}"
            );
        }

        // Every change after a payout's receipt is an adjustment: receipt + adjustments = now.
        let adjusted = all_adjustments(&app, &token).await;
        for p in payouts {
            let id = p["id"].as_str().unwrap();
            let (mut exempt, mut taxable) = first_splits[id];
            for a in adjusted.iter().filter(|a| a["payout_id"] == id) {
                assert_eq!(a["cause"], "backdated_payout", "{a}");
                exempt += ore(&a["new_exempt"]) - ore(&a["old_exempt"]);
                taxable += ore(&a["new_taxable"]) - ore(&a["old_taxable"]);
            }
            assert_eq!(
                (kr(exempt), kr(taxable)),
                (p["exempt"].as_str().unwrap().to_owned(), p["taxable"].as_str().unwrap().to_owned()),
                "{p}"
            );
        }
    }

    async fn thirty_two_concurrent_retries_of_one_keyed_payout_register_it_once(app) {
        let app = Rc::new(app);
        let Employee { coordinator, citizen, company_token: token, employment, .. } =
            employee(&app, "2025-01-01").await;
        const N: usize = 32;
        let body = payout_body("2025-03-31", "2025-03-01", "2025-03-28", "1500.00");
        let bodies = (0..N).map(|_| (Some("loen-marts-2025".to_owned()), body.clone())).collect();

        let started = Instant::now();
        let responses = payouts_at_once(&app, &token, &employment, bodies).await;
        println!("{:?}: {N} concurrent retries took {:?}", app.backend, started.elapsed());

        for r in &responses {
            r.expect(201);
        }
        let ids: std::collections::BTreeSet<&str> =
            responses.iter().map(|r| r.body["payout"]["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 1, "every retry names the same payout: {ids:?}");
        let replayed = responses.iter().filter(|r| r.header("idempotent-replayed") == Some("true")).count();
        assert_eq!(replayed, N - 1, "all but the first are replays");
        for r in &responses {
            assert_eq!(r.body, responses[0].body);
        }

        let r = app.get(&format!("/api/v1/employments/{employment}/payouts"), &token).await;
        r.expect(200);
        assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
        let b = balance(&app, &coordinator, &citizen, 2025).await;
        assert_eq!(
            (&b["gross"], &b["exempt"], &b["taxable"], &b["payouts"]),
            (&json!("1500.00"), &json!("1500.00"), &json!("0.00"), &json!(1))
        );
    }

    async fn a_reversal_racing_twenty_new_payouts_leaves_consistent_totals(app) {
        let app = Rc::new(app);
        let Employee { coordinator, citizen, company_token: token, employment, .. } =
            employee(&app, "2025-01-01").await;
        let first =
            app.payout(&token, &employment, &payout_body("2025-01-31", "2025-01-02", "2025-01-30", "20000.00")).await;
        first.expect(201);
        let reversed = first.body["payout"]["id"].as_str().unwrap().to_owned();

        const N: usize = 20;
        let bodies = (0..N).map(|i| (None, payout_body(&paid_on(i), &paid_on(i), &paid_on(i), "2500.00"))).collect();
        let reversal = {
            let (app, token, path) = (Rc::clone(&app), token.clone(), format!("/api/v1/payouts/{reversed}/reversal"));
            actix_web::rt::spawn(
                async move { app.post(&path, &token, &json!({ "reason": "dobbeltregistreret" })).await },
            )
        };
        let started = Instant::now();
        let responses = payouts_at_once(&app, &token, &employment, bodies).await;
        let reversal = reversal.await.expect("the reversal task completes");
        println!("{:?}: a reversal racing {N} payouts took {:?}", app.backend, started.elapsed());

        reversal.expect(201);
        assert_eq!(reversal.body["payout"]["reversed"], true);
        for r in &responses {
            r.expect(201);
        }

        // 20 × 2,500.00 = 50,000.00 counts; the reversed 20,000.00 does not.
        let b = balance(&app, &coordinator, &citizen, 2025).await;
        let (gross, exempt, taxable) = (ore(&b["gross"]), ore(&b["exempt"]), ore(&b["taxable"]));
        assert!(exempt <= 4_276_600, "{b}");
        assert_eq!(exempt + taxable, gross, "{b}");
        assert_eq!(b["gross"], "50000.00");
        assert_eq!(b["exempt"], "42766.00");
        assert_eq!(b["taxable"], "7234.00");
        assert_eq!(b["payouts"], N);

        let r = app.get(&format!("/api/v1/employments/{employment}/payouts"), &token).await;
        r.expect(200);
        let payouts = r.body["items"].as_array().unwrap();
        assert_eq!(payouts.len(), N + 1);
        let original = payouts.iter().find(|p| p["id"] == reversed.as_str()).unwrap();
        assert_eq!(
            (original["reversed"].clone(), original["exempt"].clone(), original["taxable"].clone()),
            (json!(true), json!("0.00"), json!("0.00"))
        );
        let live: Vec<&Value> = payouts.iter().filter(|p| p["reversed"] == false).collect();
        assert_eq!(live.len(), N);
        assert_eq!(kr(live.iter().map(|p| ore(&p["exempt"])).sum()), "42766.00");
        assert_eq!(kr(live.iter().map(|p| ore(&p["taxable"])).sum()), "7234.00");
        for p in &live {
            assert_eq!(ore(&p["exempt"]) + ore(&p["taxable"]), ore(&p["gross"]), "{p}");
        }
    }

    async fn concurrent_reversals_of_one_payout_reverse_it_exactly_once(app) {
        let app = Rc::new(app);
        let Employee { coordinator, citizen, company_token: token, employment, .. } =
            employee(&app, "2025-01-01").await;
        let first =
            app.payout(&token, &employment, &payout_body("2025-01-31", "2025-01-02", "2025-01-30", "40000.00")).await;
        first.expect(201);
        let second =
            app.payout(&token, &employment, &payout_body("2025-02-28", "2025-02-03", "2025-02-27", "5000.00")).await;
        second.expect(201);
        let reversed = first.body["payout"]["id"].as_str().unwrap().to_owned();

        const N: usize = 16;
        let tasks: Vec<_> = (0..N)
            .map(|_| {
                let (app, token, path) =
                    (Rc::clone(&app), token.clone(), format!("/api/v1/payouts/{reversed}/reversal"));
                actix_web::rt::spawn(async move {
                    app.post(&path, &token, &json!({ "reason": "dobbeltregistreret" })).await
                })
            })
            .collect();
        let mut responses = Vec::new();
        for t in tasks {
            responses.push(t.await.expect("the reversal task completes"));
        }
        let done: Vec<&Resp> = responses.iter().filter(|r| r.status == 201).collect();
        assert_eq!(done.len(), 1, "exactly one reversal succeeds");
        for r in responses.iter().filter(|r| r.status != 201) {
            r.expect_problem(409, "payout_already_reversed");
        }
        let b = balance(&app, &coordinator, &citizen, 2025).await;
        assert_eq!(
            (&b["gross"], &b["exempt"], &b["taxable"], &b["payouts"]),
            (&json!("5000.00"), &json!("5000.00"), &json!("0.00"), &json!(1))
        );
        // One reversal, so one adjustment each for the reversed payout and the one it freed.
        let adjusted = all_adjustments(&app, &token).await;
        assert_eq!(adjusted.len(), 2, "{adjusted:?}");
    }

    async fn concurrent_retries_of_one_keyed_employment_registration_register_it_once(app) {
        let app = Rc::new(app);
        let coordinator = app.coordinator("730");
        let (_, number) = app.card_holder(&coordinator, JENS, "Jens Hansen", "2019-01-01").await;
        let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
        let token = app.company(&company);
        const N: usize = 16;
        let tasks: Vec<_> = (0..N)
            .map(|_| {
                let (app, token, body) =
                    (Rc::clone(&app), token.clone(), employment_by_card(JENS, &number, "2025-01-01"));
                actix_web::rt::spawn(async move {
                    app.post_with_key("/api/v1/employments", &token, "ansaettelse-1", &body).await
                })
            })
            .collect();
        let mut responses = Vec::new();
        for t in tasks {
            responses.push(t.await.expect("the registration task completes"));
        }
        for r in &responses {
            r.expect(201);
            assert_eq!(r.body, responses[0].body);
        }
        let replayed = responses.iter().filter(|r| r.header("idempotent-replayed") == Some("true")).count();
        assert_eq!(replayed, N - 1);
        let list = app.get("/api/v1/employments", &token).await;
        list.expect(200);
        assert_eq!(list.body["total"], 1);
        assert_eq!(list.body["items"][0]["id"], responses[0].body["id"]);
    }
}

/// Races between a cap change or an employment's end and new payouts (found as bugs on
/// PostgreSQL and fixed: the citizen-year lock is taken with the table lock a cap change waits
/// for, the cap is read under it, and ending and paying lock the employment).
mod races {
    use super::*;

    /// The operator's cap change while payouts arrive: a payout registered between the preview
    /// and the confirmation changes what the change would do (409 `cap_preview_stale`), so the
    /// operator previews again, as a person would, until the confirmation holds.
    async fn change_cap_while_payouts_arrive(app: &TestApp, year: i32, setting: Value) -> Resp {
        for _ in 0..100 {
            let r = change_cap(app, year, setting.clone()).await;
            if r.status != 409 || r.body["code"] != "cap_preview_stale" {
                return r;
            }
        }
        panic!("the cap change never held still long enough to be confirmed");
    }

    both_backends! {
        async fn a_cap_change_racing_new_payouts_leaves_every_split_computed_with_the_new_cap(app) {
            let app = Rc::new(app);
            let Employee { coordinator, citizen, company_token: token, employment, .. } =
                employee(&app, "2025-01-01").await;
            const N: usize = 20;
            let bodies = (0..N).map(|i| (None, payout_body(&paid_on(i), &paid_on(i), &paid_on(i), "2500.00"))).collect();
            let cap_change = {
                let app = Rc::clone(&app);
                actix_web::rt::spawn(async move {
                    // Let the first payouts queue on the citizen-year first.
                    actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
                    change_cap_while_payouts_arrive(&app, 2025, json!({ "amount": "30000" })).await
                })
            };
            let responses = payouts_at_once(&app, &token, &employment, bodies).await;
            cap_change.await.expect("the cap task completes").expect(200);
            for r in &responses {
                r.expect(201);
            }

            // 20 × 2,500.00 under the new cap of 30,000: exactly 30,000.00 exempt, whatever the order.
            let b = balance(&app, &coordinator, &citizen, 2025).await;
            assert_eq!(b["cap"], "30000.00");
            assert_eq!(
                (&b["gross"], &b["exempt"], &b["taxable"]),
                (&json!("50000.00"), &json!("30000.00"), &json!("20000.00")),
                "{b}"
            );
            let r = app.get(&format!("/api/v1/employments/{employment}/payouts"), &token).await;
            r.expect(200);
            let exempt: i64 = r.body["items"].as_array().unwrap().iter().map(|p| ore(&p["exempt"])).sum();
            assert_eq!(kr(exempt), "30000.00");
        }

        async fn an_employment_ended_while_payouts_arrive_never_holds_payouts_for_work_after_its_end(app) {
            let app = Rc::new(app);
            let coordinator = app.coordinator("730");
            let (_, number) = app.card_holder(&coordinator, JENS, "Jens Hansen", "2019-01-01").await;
            let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
            let token = app.company(&company);
            // A few rounds, each on a fresh employment: the race is not won every time.
            for round in 0..4 {
                let employment = app.register_employment(&token, &employment_by_card(JENS, &number, "2025-01-01")).await;
                let end = {
                    let (app, token, path) =
                        (Rc::clone(&app), token.clone(), format!("/api/v1/employments/{employment}/end"));
                    actix_web::rt::spawn(async move { app.post(&path, &token, &json!({ "end_date": "2025-01-31" })).await })
                };
                let bodies =
                    (0..10).map(|i| (None, payout_body(&paid_on(i), &paid_on(i), &paid_on(i), "100.00"))).collect();
                let responses = payouts_at_once(&app, &token, &employment, bodies).await;
                let end = end.await.expect("the end task completes");
                let registered = responses.iter().filter(|r| r.status == 201).count();
                // Either the end was refused (work after it is paid), or no payout got in after it.
                if end.status == 200 {
                    assert_eq!(
                        registered, 0,
                        "round {round}: ended on 2025-01-31, yet {registered} payouts for February work were registered"
                    );
                    for r in &responses {
                        r.expect_problem(409, "employment_ended");
                    }
                } else {
                    assert_eq!(end.status, 422, "round {round}: {}", end.body);
                    assert_eq!(end.body["errors"][0]["code"], "before_paid_work");
                }
            }
        }

        async fn a_cap_change_racing_the_first_payouts_of_many_citizens_reaches_every_citizen_year(app) {
            let app = Rc::new(app);
            let coordinator = app.coordinator("730");
            let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
            let token = app.company(&company);
            let mut people = Vec::new();
            for i in 1..=24u32 {
                let cpr = format!("{i:02}0190-{}", 1000 + i);
                let (citizen, number) = app.card_holder(&coordinator, &cpr, &format!("Person {i}"), "2019-01-01").await;
                let employment = app.register_employment(&token, &employment_by_card(&cpr, &number, "2025-01-01")).await;
                people.push((citizen, employment));
            }
            let tasks: Vec<_> = people
                .iter()
                .map(|(_, employment)| {
                    let (app, token, path) =
                        (Rc::clone(&app), token.clone(), format!("/api/v1/employments/{employment}/payouts"));
                    actix_web::rt::spawn(async move {
                        app.post(&path, &token, &payout_body("2025-03-31", "2025-03-01", "2025-03-28", "40000.00")).await
                    })
                })
                .collect();
            let cap_change = {
                let app = Rc::clone(&app);
                actix_web::rt::spawn(async move {
                    // While the first payouts of the citizen-years are being registered.
                    actix_web::rt::time::sleep(std::time::Duration::from_millis(10)).await;
                    change_cap_while_payouts_arrive(&app, 2025, json!({ "amount": "30000" })).await
                })
            };
            for t in tasks {
                t.await.expect("the payout task completes").expect(201);
            }
            cap_change.await.expect("the cap task completes").expect(200);
            // Each citizen's one payout of 40,000.00 is 30,000.00 exempt under the new cap.
            let mut wrong = Vec::new();
            for (citizen, _) in &people {
                let b = balance(&app, &coordinator, citizen, 2025).await;
                if b["exempt"] != "30000.00" {
                    wrong.push(format!("{} {}", b["cap"], b["exempt"]));
                }
            }
            assert!(
                wrong.is_empty(),
                "{:?}: {} of {} citizen-years split with a stale cap: {wrong:?}",
                app.backend,
                wrong.len(),
                people.len()
            );
        }
    }
}
