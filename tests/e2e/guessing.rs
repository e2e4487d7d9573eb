//! Guessing who a citizen is: wrong CPR and card numbers are limited per company (or
//! coordinator), per source address and per citizen, in a ledger that outlives the server; the
//! coordinator hears of a company that trips its limit; a source's request rate is capped; and
//! card numbers tell nothing about the municipality.

use std::time::Duration;

use serde_json::{Value, json};
use smaajob_api::Settings;
use smaajob_api::services::guesses::{GuessCount, GuessLimits};

use crate::fixtures::*;
use crate::on_both_backends;
use crate::support::{Backend, Resp, TestApp, spawn, spawn_with};

const START: &str = "2024-01-01";

fn count(s: &str) -> GuessCount {
    GuessCount::parse(s).unwrap()
}

/// Limits of `actor`, `source` and `citizen` wrong guesses per window, a first lock of 15
/// minutes doubling up to a day.
fn limits(actor: &str, source: &str, citizen: &str) -> impl FnOnce(&mut Settings) {
    let limits = GuessLimits::new(
        count(actor),
        count(source),
        count(citizen),
        Duration::from_secs(15 * 60),
        Duration::from_secs(24 * 60 * 60),
    )
    .unwrap();
    move |s: &mut Settings| s.guess_limits = limits
}

/// A Randers card holder and the card's number.
async fn holder(app: &TestApp, coordinator: &str, cpr: &str, name: &str) -> (String, String) {
    app.card_holder(coordinator, cpr, name, "2019-01-01").await
}

async fn register(app: &TestApp, token: &str, cpr: &str, number: &str) -> Resp {
    app.post("/api/v1/employments", token, &employment_by_card(cpr, number, START)).await
}

/// A card number that is not `number`.
fn other_than(number: &str, n: u32) -> String {
    let mine: u32 = number.parse().unwrap();
    format!("{:05}", (mine + 1 + n) % 100_000)
}

/// Asserts a 429 guess refusal with a `Retry-After` of at most `max_seconds` and more than `min_seconds`.
#[track_caller]
fn expect_locked(r: &Resp, code: &str, min_seconds: u64, max_seconds: u64) {
    r.expect_problem(429, code);
    let wait: u64 = r.header("retry-after").expect("a Retry-After header").parse().expect("whole seconds");
    assert!(wait > min_seconds && wait <= max_seconds, "Retry-After {wait} not in ({min_seconds}, {max_seconds}]");
}

/// Verified companies of Randers, with their tokens.
async fn companies(app: &TestApp, coordinator: &str, n: u32) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for seed in 0..n {
        let id = app.register_company(coordinator, &cvr(seed), &format!("Firma {seed}")).await;
        out.push((id.clone(), app.company(&id)));
    }
    out
}

on_both_backends! {
    the_fifth_wrong_guess_from_one_company_locks_it_out_for_fifteen_minutes_by_default,
    the_nth_wrong_guess_answers_429_with_retry_after_and_then_a_right_guess_is_refused_too,
    wrong_guesses_survive_a_restart_and_are_shared_by_instances,
    wrong_guesses_from_one_source_address_lock_every_company_there,
    wrong_guesses_at_one_citizen_lock_out_companies_but_not_the_citizens_own_coordinator,
    a_citizen_lock_tells_nothing_about_whether_the_cpr_number_is_known,
    a_right_guess_under_the_limit_works_and_is_not_counted,
    the_coordinator_sees_a_locked_out_company_in_the_queue_and_the_audit_log,
    enrolments_that_find_a_cpr_number_enrolled_are_limited_per_coordinator,
    transfers_of_cpr_numbers_nobody_enrolled_are_limited_per_coordinator,
    the_source_rate_answers_429_with_retry_after_on_the_endpoints_that_take_a_cpr_number,
    demo_card_numbers_are_drawn_at_random_and_stay_put_when_the_demo_is_loaded_again,
}

async fn the_fifth_wrong_guess_from_one_company_locks_it_out_for_fifteen_minutes_by_default(backend: Backend) {
    let Some(app) = spawn(backend, "guess_default_limits").await else { return };
    let coordinator = app.coordinator(RANDERS);
    let (_, number) = holder(&app, &coordinator, JENS, "Jens Hansen").await;
    let (_, token) = companies(&app, &coordinator, 1).await.remove(0);
    for n in 0..4 {
        register(&app, &token, JENS, &other_than(&number, n)).await.expect_problem(422, "citizen_not_matched");
    }
    let fifth = register(&app, &token, JENS, &other_than(&number, 4)).await;
    expect_locked(&fifth, "too_many_guesses", 15 * 60 - 60, 15 * 60);
}

async fn the_nth_wrong_guess_answers_429_with_retry_after_and_then_a_right_guess_is_refused_too(backend: Backend) {
    let Some(app) = spawn_with(backend, "guess_nth", limits("3/15m", "100/15m", "100/1h")).await else { return };
    let coordinator = app.coordinator(RANDERS);
    let (_, number) = holder(&app, &coordinator, JENS, "Jens Hansen").await;
    let mut firms = companies(&app, &coordinator, 2).await;
    let (_, other) = firms.remove(1);
    let (_, guesser) = firms.remove(0);
    register(&app, &guesser, JENS, &other_than(&number, 0)).await.expect_problem(422, "citizen_not_matched");
    register(&app, &guesser, "050590-1678", &number).await.expect_problem(422, "citizen_not_matched");
    let third = register(&app, &guesser, JENS, &other_than(&number, 1)).await;
    expect_locked(&third, "too_many_guesses", 15 * 60 - 60, 15 * 60);
    assert!(third.body["detail"].as_str().unwrap().contains("jobcenter"), "{}", third.body);
    // Locked: even the right pair is refused, and nothing is registered.
    expect_locked(&register(&app, &guesser, JENS, &number).await, "too_many_guesses", 15 * 60 - 60, 15 * 60);
    assert_eq!(listed_ids(&app.get("/api/v1/employments", &guesser).await), Vec::<String>::new());
    // Another company is not bound by this one's lock.
    register(&app, &other, JENS, &number).await.expect(201);
}

async fn wrong_guesses_survive_a_restart_and_are_shared_by_instances(backend: Backend) {
    let tight = || limits("3/15m", "100/15m", "100/1h");
    let Some(first) = spawn_with(backend, "guess_restart", tight()).await else { return };
    let coordinator = first.coordinator(RANDERS);
    let (_, number) = holder(&first, &coordinator, JENS, "Jens Hansen").await;
    let (_, token) = companies(&first, &coordinator, 1).await.remove(0);
    for n in 0..2 {
        register(&first, &token, JENS, &other_than(&number, n)).await.expect_problem(422, "citizen_not_matched");
    }
    // A new server on the same database (a restart, or a second instance) knows both guesses.
    let second = first.another_instance(tight()).await;
    let third = register(&second, &token, JENS, &other_than(&number, 2)).await;
    expect_locked(&third, "too_many_guesses", 15 * 60 - 60, 15 * 60);
    expect_locked(&register(&first, &token, JENS, &number).await, "too_many_guesses", 15 * 60 - 60, 15 * 60);
    expect_locked(&register(&second, &token, JENS, &number).await, "too_many_guesses", 15 * 60 - 60, 15 * 60);
}

async fn wrong_guesses_from_one_source_address_lock_every_company_there(backend: Backend) {
    let Some(app) = spawn_with(backend, "guess_source", limits("100/15m", "3/15m", "100/1h")).await else { return };
    let coordinator = app.coordinator(RANDERS);
    let (_, jens) = holder(&app, &coordinator, JENS, "Jens Hansen").await;
    let (_, marie) = holder(&app, &coordinator, MARIE, "Marie Jensen").await;
    let (anna, _) = holder(&app, &coordinator, ANNA, "Anna Berg").await;
    let firms = companies(&app, &coordinator, 4).await;
    // Three companies behind one address, one wrong guess each, at different citizens.
    register(&app, &firms[0].1, JENS, &other_than(&jens, 0)).await.expect_problem(422, "citizen_not_matched");
    register(&app, &firms[1].1, MARIE, &other_than(&marie, 0)).await.expect_problem(422, "citizen_not_matched");
    let third = register(&app, &firms[2].1, OLE, "12345").await;
    expect_locked(&third, "too_many_guesses", 15 * 60 - 60, 15 * 60);
    // A fourth company at the same address, with a right pair, waits too.
    expect_locked(&register(&app, &firms[3].1, JENS, &jens).await, "too_many_guesses", 15 * 60 - 60, 15 * 60);
    // So does an enrolment there (it could find a CPR number enrolled), but a coordinator
    // registering by citizen id is not guessing.
    let enrol = app.post("/api/v1/citizens", &coordinator, &json!({ "cpr": cpr(300), "name": "Ny" })).await;
    expect_locked(&enrol, "too_many_guesses", 15 * 60 - 60, 15 * 60);
    app.post("/api/v1/employments", &coordinator, &employment_by_id(&anna, &firms[0].0, START)).await.expect(201);
}

async fn wrong_guesses_at_one_citizen_lock_out_companies_but_not_the_citizens_own_coordinator(backend: Backend) {
    let Some(app) = spawn_with(backend, "guess_citizen", limits("100/15m", "100/15m", "3/1h")).await else { return };
    let coordinator = app.coordinator(RANDERS);
    let (jens_id, jens) = holder(&app, &coordinator, JENS, "Jens Hansen").await;
    let (_, marie) = holder(&app, &coordinator, MARIE, "Marie Jensen").await;
    let firms = companies(&app, &coordinator, 4).await;
    for (n, (_, token)) in firms.iter().take(2).enumerate() {
        let r = register(&app, token, JENS, &other_than(&jens, u32::try_from(n).unwrap())).await;
        r.expect_problem(422, "citizen_not_matched");
    }
    let third = register(&app, &firms[2].1, JENS, &other_than(&jens, 2)).await;
    expect_locked(&third, "too_many_guesses", 15 * 60 - 60, 15 * 60);
    // Any company naming Jens now waits, with the right numbers too; Marie is not affected.
    expect_locked(&register(&app, &firms[3].1, JENS, &jens).await, "too_many_guesses", 15 * 60 - 60, 15 * 60);
    register(&app, &firms[3].1, MARIE, &marie).await.expect(201);
    // Jens's own coordinator still registers his real work, by card or by id.
    let by_card = with(employment_by_card(JENS, &jens, START), json!({ "company_id": firms[0].0 }));
    app.post("/api/v1/employments", &coordinator, &by_card).await.expect(201);
    app.post("/api/v1/employments", &coordinator, &employment_by_id(&jens_id, &firms[1].0, START)).await.expect(201);
}

async fn a_citizen_lock_tells_nothing_about_whether_the_cpr_number_is_known(backend: Backend) {
    let Some(app) = spawn_with(backend, "guess_unknown", limits("100/15m", "100/15m", "3/1h")).await else { return };
    let coordinator = app.coordinator(RANDERS);
    let (_, jens) = holder(&app, &coordinator, JENS, "Jens Hansen").await;
    let firms = companies(&app, &coordinator, 1).await;
    let token = &firms[0].1;
    let nobody = "050590-1678";
    let mut answers: Vec<(&str, Vec<(u16, Value)>)> = Vec::new();
    for cpr in [JENS, nobody] {
        let mut seen = Vec::new();
        for n in 0..4 {
            let r = register(&app, token, cpr, &other_than(&jens, n)).await;
            let mut body = r.body.clone();
            body.as_object_mut().map(|b| b.remove("request_id"));
            seen.push((r.status, body));
        }
        answers.push((cpr, seen));
    }
    assert_eq!(answers[0].1.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [422, 422, 429, 429]);
    assert_eq!(answers[0].1, answers[1].1, "a known and an unknown CPR number are refused alike");
}

async fn a_right_guess_under_the_limit_works_and_is_not_counted(backend: Backend) {
    let Some(app) = spawn_with(backend, "guess_right", limits("3/15m", "100/15m", "100/1h")).await else { return };
    let coordinator = app.coordinator(RANDERS);
    let (_, number) = holder(&app, &coordinator, JENS, "Jens Hansen").await;
    let (_, token) = companies(&app, &coordinator, 1).await.remove(0);
    register(&app, &token, JENS, &other_than(&number, 0)).await.expect_problem(422, "citizen_not_matched");
    let right = register(&app, &token, JENS, &number).await;
    right.expect(201);
    assert_eq!(right.body["citizen_name"], "Jens Hansen", "{}", right.body);
    // The right guess was given back: this is the second wrong one, not the third.
    register(&app, &token, JENS, &other_than(&number, 1)).await.expect_problem(422, "citizen_not_matched");
    let third = register(&app, &token, JENS, &other_than(&number, 2)).await;
    expect_locked(&third, "too_many_guesses", 15 * 60 - 60, 15 * 60);
}

async fn the_coordinator_sees_a_locked_out_company_in_the_queue_and_the_audit_log(backend: Backend) {
    let Some(app) = spawn_with(backend, "guess_queue", limits("3/15m", "100/15m", "100/1h")).await else { return };
    let coordinator = app.coordinator(RANDERS);
    let (_, number) = holder(&app, &coordinator, JENS, "Jens Hansen").await;
    let (company, token) = companies(&app, &coordinator, 1).await.remove(0);
    assert_eq!(queue(&app, &coordinator).await["companies_locked_out"], json!([]));
    for n in 0..3 {
        register(&app, &token, JENS, &other_than(&number, n)).await;
    }
    let listed = queue(&app, &coordinator).await["companies_locked_out"].clone();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let entry = &listed[0];
    assert_eq!(pick(entry, &["company_id", "name", "cvr"]), json!([company, "Firma 0", cvr(0)]));
    assert_eq!(
        (entry["wrong_guesses"].as_u64(), entry["lockouts"].as_u64(), entry["locked"].as_bool()),
        (Some(3), Some(1), Some(true))
    );
    let until: chrono::DateTime<chrono::Utc> = serde_json::from_value(entry["locked_until"].clone()).unwrap();
    let left = until - chrono::Utc::now();
    assert!(left > chrono::TimeDelta::minutes(14) && left <= chrono::TimeDelta::minutes(15), "{entry}");
    // Another municipality's coordinator does not see Randers' company.
    assert_eq!(queue(&app, &app.coordinator(AARHUS)).await["companies_locked_out"], json!([]));
    let audit: Vec<Value> = audit_of(&app, &coordinator, &company)
        .await
        .into_iter()
        .filter(|e| e["action"] == "guessing.locked_out")
        .collect();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["details"]["wrong_guesses"], 3);
    assert_eq!(audit[0]["actor_role"], "company");
}

async fn enrolments_that_find_a_cpr_number_enrolled_are_limited_per_coordinator(backend: Backend) {
    let Some(app) = spawn_with(backend, "guess_enrol", limits("3/15m", "100/15m", "100/1h")).await else { return };
    let prober = app.coordinator(AARHUS);
    app.enrol(&app.coordinator(RANDERS), JENS, "Jens Hansen").await;
    app.enrol(&prober, MARIE, "Marie Jensen").await;
    // Enrolments of people nobody has enrolled are not probes, however many.
    for n in 0..4 {
        person(&app, &prober, 100 + n).await;
    }
    // One CPR number enrolled in another municipality, one in the prober's own.
    let r = app.post("/api/v1/citizens", &prober, &json!({ "cpr": JENS, "name": "X" })).await;
    r.expect_problem(409, "citizen_enrolled_elsewhere");
    let r = app.post("/api/v1/citizens", &prober, &json!({ "cpr": MARIE, "name": "X" })).await;
    r.expect_problem(409, "citizen_exists");
    let third = app.post("/api/v1/citizens", &prober, &json!({ "cpr": JENS, "name": "X" })).await;
    expect_locked(&third, "too_many_guesses", 15 * 60 - 60, 15 * 60);
    let fresh = app.post("/api/v1/citizens", &prober, &json!({ "cpr": cpr(200), "name": "Y" })).await;
    expect_locked(&fresh, "too_many_guesses", 15 * 60 - 60, 15 * 60);
    // A colleague (another subject) of the same municipality is not locked.
    app.enrol(&colleague(&app, AARHUS, "kollega"), &cpr(201), "Z").await;
}

async fn transfers_of_cpr_numbers_nobody_enrolled_are_limited_per_coordinator(backend: Backend) {
    let Some(app) = spawn_with(backend, "guess_transfer", limits("3/15m", "100/15m", "100/1h")).await else { return };
    let prober = app.coordinator(AARHUS);
    app.enrol(&app.coordinator(RANDERS), JENS, "Jens Hansen").await;
    let transfer = |cpr: String| json!({ "cpr": cpr, "reason": "Flyttet til kommunen" });
    for n in 0..2 {
        let r = app.post("/api/v1/citizens/transfers", &prober, &transfer(cpr(300 + n))).await;
        r.expect_problem(422, "not_enrolled");
    }
    let third = app.post("/api/v1/citizens/transfers", &prober, &transfer(cpr(302))).await;
    expect_locked(&third, "too_many_guesses", 15 * 60 - 60, 15 * 60);
    // While the lock holds, a real transfer is refused too, and nothing moves.
    let real = app.post("/api/v1/citizens/transfers", &prober, &transfer(JENS.to_owned())).await;
    expect_locked(&real, "too_many_guesses", 15 * 60 - 60, 15 * 60);
    let randers = app.get("/api/v1/citizens", &app.coordinator(RANDERS)).await;
    assert_eq!(randers.expect(200).body["total"], 1, "{}", randers.body);
    // A colleague (another subject) of the same municipality is not locked.
    let colleague = colleague(&app, AARHUS, "kollega");
    app.post("/api/v1/citizens/transfers", &colleague, &transfer(JENS.to_owned())).await.expect(200);
}

async fn the_source_rate_answers_429_with_retry_after_on_the_endpoints_that_take_a_cpr_number(backend: Backend) {
    let rate = |s: &mut Settings| {
        s.source_rate = smaajob_api::guess_guard::SourceRateConfig {
            period: Duration::from_secs(60 * 60),
            burst: std::num::NonZeroU32::new(3).unwrap(),
        }
    };
    let Some(app) = spawn_with(backend, "guess_rate", rate).await else { return };
    let coordinator = app.coordinator(RANDERS);
    let body = employment_by_card(JENS, "12345", START);
    // Refused or not, three requests use the burst up.
    for _ in 0..3 {
        assert_ne!(app.post("/api/v1/employments", &coordinator, &body).await.status, 429);
    }
    let over = app.post("/api/v1/employments", &coordinator, &body).await;
    expect_locked(&over, "rate_limited", 60 * 60 - 60, 60 * 60);
    let enrol = app.post("/api/v1/citizens", &coordinator, &json!({ "cpr": JENS, "name": "Jens" })).await;
    expect_locked(&enrol, "rate_limited", 60 * 60 - 60, 60 * 60);
    // Other endpoints are not rate-limited by it.
    for _ in 0..5 {
        app.get("/api/v1/caps", &coordinator).await.expect(200);
    }
}

async fn demo_card_numbers_are_drawn_at_random_and_stay_put_when_the_demo_is_loaded_again(backend: Backend) {
    let Some(first) = spawn(backend, "guess_demo_a").await else { return };
    let Some(second) = spawn(backend, "guess_demo_b").await else { return };
    let numbers = |app: &TestApp| {
        let mut conn = app.pool.get().unwrap();
        let summary = smaajob_api::demo::load(&mut conn, &app.data_key).unwrap();
        summary.citizens.into_iter().filter_map(|(_, _, card)| card).collect::<Vec<String>>()
    };
    let loaded = numbers(&first);
    assert!(loaded.len() >= 3, "{loaded:?}");
    assert_eq!(numbers(&first), loaded, "loading the demo again keeps its cards");
    let (ones, twos) = (loaded, numbers(&second));
    assert_ne!(ones, twos, "two demo databases draw different numbers");
    for card in ones.iter().chain(&twos) {
        let number = card.split(',').next().unwrap();
        assert!(number.len() == 5 && number.bytes().all(|b| b.is_ascii_digit()), "{card}");
    }
    // The numbers used to be the municipality code and a serial (73001, 73002, …, 75101).
    let coded = |cards: &[String]| cards.iter().all(|c| c.starts_with("730") || c.starts_with("751"));
    assert!(!coded(&ones) && !coded(&twos), "{ones:?} {twos:?}");
}
