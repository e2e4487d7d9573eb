//! From a company's self-registration to pay for confirmed hours, over HTTP: hours reported per
//! shift and confirmed or disputed by the other side, the coordinator's work queue, and the
//! time-to-placement statistics.
//!
//! Dates are relative to today (Europe/Copenhagen): the test tasks run weekly 08:00–12:00 from
//! 21 days ago to 21 days ahead on every weekday but one — the weekday of 8 days ago (so also of
//! yesterday) — which gives past shifts to report (7…2 days ago) and known days without a shift.

use std::rc::Rc;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Weekday};
use serde_json::{Value, json};
use smaajob_api::auth::{Claims, Role};
use smaajob_persistence::repo::frikort::{self as card_repo, CardRow};
use smaajob_persistence::repo::placements::{self as placement_repo, PlacementRow};
use smaajob_persistence::repo::tasks::{self as task_repo, TaskRow};

use crate::both_backends;
#[allow(unused_imports)]
use crate::support::*;

const RANDERS: &str = "730";
const AARHUS: &str = "751";

/// The day (relative to today) whose weekday has no shift in the test schedules.
const OFF: i64 = -8;

fn today() -> NaiveDate {
    smaajob_api::routes::common::today_copenhagen()
}

fn day(offset: i64) -> NaiveDate {
    today() + Duration::days(offset)
}

fn date(offset: i64) -> String {
    day(offset).to_string()
}

/// A valid, distinct CPR number per seed (born in January 1990).
fn cpr(seed: u32) -> String {
    format!("{:02}0190-{:04}", 1 + seed % 28, 1000 + seed)
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|e| e[key].as_str().unwrap_or_else(|| panic!("no {key} in {e}")).to_owned())
        .collect()
}

/// Amounts as øre, from the API's decimal strings.
fn ore(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not an amount: {v}"));
    let (kroner, ore) = s.split_once('.').unwrap_or_else(|| panic!("not an amount: {s}"));
    kroner.parse::<i64>().unwrap() * 100 + ore.parse::<i64>().unwrap()
}

fn kr(ore: i64) -> String {
    format!("{}.{:02}", ore / 100, ore % 100)
}

/// The values of `keys` in `v`, as a JSON array (to compare several fields at once).
fn pick(v: &Value, keys: &[&str]) -> Value {
    Value::Array(keys.iter().map(|k| v[*k].clone()).collect())
}

/// One field of every element of a list, as a JSON array.
fn column(list: &Value, key: &str) -> Value {
    Value::Array(
        list.as_array().unwrap_or_else(|| panic!("not a list: {list}")).iter().map(|e| e[key].clone()).collect(),
    )
}

/// The (field, code) pairs of a validation problem.
fn field_codes(r: &Resp) -> Vec<(String, String)> {
    r.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| (e["field"].as_str().unwrap_or("").to_owned(), e["code"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A weekly task, 08:00–12:00 (4 hours), 3.5 paid hours a shift, from 21 days ago to 21 days
/// ahead on every weekday except that of [`OFF`].
fn task_body(title: &str, wage: &str, positions: u32, frikort_only: bool) -> Value {
    let off = day(OFF).weekday();
    let mut weekdays = Vec::new();
    let mut d = Weekday::Mon;
    for _ in 0..7 {
        if d != off {
            weekdays.push(d.to_string().to_lowercase());
        }
        d = d.succ();
    }
    json!({
        "title": title,
        "description": "Hjælp i butikken om formiddagen",
        "schedule": {
            "kind": "weekly", "weekdays": weekdays, "start": "08:00", "end": "12:00", "from": date(-21), "to": date(21),
        },
        "hours_per_shift": "3.5",
        "hourly_wage": wage,
        "positions": positions,
        "frikort_only": frikort_only,
        "contact": { "name": "Karen Bager" },
    })
}

/// A company a coordinator registers already verified (in the coordinator's municipality).
async fn verified_company(app: &TestApp, coordinator: &str, seed: u32) -> String {
    let body = json!({
        "cvr": cvr(seed), "name": format!("Bageriet nr. {seed}"),
        "contact": { "name": "Karen Bager" }, "verified": true,
    });
    let r = app.post("/api/v1/companies", coordinator, &body).await;
    r.expect(201);
    id(&r.body)
}

/// Creates a task as `token` and opens it; returns its id.
async fn open_task(app: &TestApp, token: &str, body: &Value) -> String {
    let r = app.post("/api/v1/tasks", token, body).await;
    r.expect(201);
    assert_eq!(r.body["status"], "draft");
    let task = id(&r.body);
    let r = app.post(&format!("/api/v1/tasks/{task}/open"), token, &json!({})).await;
    r.expect(200);
    assert_eq!(r.body["status"], "open");
    task
}

async fn offer(app: &TestApp, coordinator: &str, task: &str, citizen: &str) -> String {
    let r = app.post("/api/v1/placements", coordinator, &json!({ "task_id": task, "citizen_id": citizen })).await;
    r.expect(201);
    assert_eq!(r.body["state"], "offered");
    id(&r.body)
}

async fn accept(app: &TestApp, citizen: &str, placement: &str) {
    let r = app.post(&format!("/api/v1/me/offers/{placement}/accept"), citizen, &json!({})).await;
    r.expect(200);
    assert_eq!(r.body["state"], "accepted");
}

/// Approves an accepted placement; returns the approval (placement, employment, estimates).
async fn approve(app: &TestApp, coordinator: &str, placement: &str) -> Value {
    let r = app.post(&format!("/api/v1/placements/{placement}/approve"), coordinator, &json!({})).await;
    r.expect(200);
    assert_eq!(r.body["placement"]["state"], "approved");
    r.body.clone()
}

/// A citizen placed on a company's open task, up to the approved placement and its employment.
struct Placed {
    coordinator: String,
    company_id: String,
    company: String,
    citizen_id: String,
    citizen: String,
    task: String,
    placement: String,
    employment: String,
}

/// A verified company (seed `seed`) with a frikort-only weekly task at `wage`, and a card holder
/// (card valid from 35 days ago) offered, accepting and approved on it; all in `municipality`.
async fn placed(app: &TestApp, municipality: &str, seed: u32, wage: &str) -> Placed {
    let coordinator = app.coordinator(municipality);
    let company_id = verified_company(app, &coordinator, seed).await;
    let company = app.company(&company_id);
    let task = open_task(app, &company, &task_body(&format!("Butikshjælp {seed}"), wage, 1, true)).await;
    let (citizen_id, _) = app.card_holder(&coordinator, &cpr(seed), &format!("Borger {seed}"), &date(-35)).await;
    let citizen = app.citizen(&citizen_id);
    let placement = offer(app, &coordinator, &task, &citizen_id).await;
    accept(app, &citizen, &placement).await;
    let approval = approve(app, &coordinator, &placement).await;
    let employment = id(&approval["employment"]);
    Placed { coordinator, company_id, company, citizen_id, citizen, task, placement, employment }
}

async fn report(app: &TestApp, token: &str, placement: &str, shift: i64, hours: &str) -> Resp {
    let body = json!({ "shift_date": date(shift), "hours": hours });
    app.post(&format!("/api/v1/placements/{placement}/hours"), token, &body).await
}

/// Reports hours that must be accepted; returns the report's id.
async fn reported(app: &TestApp, token: &str, placement: &str, shift: i64, hours: &str) -> String {
    let r = report(app, token, placement, shift, hours).await;
    r.expect(201);
    assert_eq!(r.body["status"], "reported");
    assert_eq!(r.body["shift_date"], date(shift));
    id(&r.body)
}

async fn confirm(app: &TestApp, token: &str, report: &str) -> Resp {
    app.post(&format!("/api/v1/hours/{report}/confirm"), token, &json!({})).await
}

async fn dispute(app: &TestApp, token: &str, report: &str, reason: &str) -> Resp {
    app.post(&format!("/api/v1/hours/{report}/dispute"), token, &json!({ "reason": reason })).await
}

async fn hours_of(app: &TestApp, token: &str, placement: &str) -> Value {
    let r = app.get(&format!("/api/v1/placements/{placement}/hours"), token).await;
    r.expect(200);
    r.body.clone()
}

async fn queue(app: &TestApp, coordinator: &str) -> Value {
    let r = app.get("/api/v1/queue", coordinator).await;
    r.expect(200);
    r.body.clone()
}

async fn stats(app: &TestApp, coordinator: &str, from: i64, to: i64) -> Value {
    let r = app.get(&format!("/api/v1/stats/placements?from={}&to={}", date(from), date(to)), coordinator).await;
    r.expect(200);
    let list = r.body.as_array().unwrap_or_else(|| panic!("not a list: {}", r.body));
    assert_eq!(list.len(), 1, "one municipality: {}", r.body);
    list[0].clone()
}

/// This year's cap in øre.
async fn cap_ore(app: &TestApp, token: &str) -> i64 {
    let r = app.get(&format!("/api/v1/caps/{}", today().year()), token).await;
    r.expect(200);
    ore(&r.body["amount"])
}

/// A wage-only payout (holiday pay paid separately) on an employment, paid today for work
/// 10 to 4 days ago.
async fn pay(app: &TestApp, token: &str, employment: &str, amount_ore: i64) -> Value {
    let r = app.payout(token, employment, &payout_body(&date(0), &date(-10), &date(-4), &kr(amount_ore))).await;
    r.expect(201);
    r.body.clone()
}

fn edit_placement(app: &TestApp, id: &str, f: impl FnOnce(&mut PlacementRow)) {
    let mut conn = app.pool.get().unwrap();
    let (mut p, _, _) = placement_repo::find(&mut conn, id).unwrap();
    f(&mut p);
    placement_repo::update(&mut conn, &p).unwrap();
}

fn edit_task(app: &TestApp, id: &str, f: impl FnOnce(&mut TaskRow)) {
    let mut conn = app.pool.get().unwrap();
    let (mut t, _, _) = task_repo::find(&mut conn, id).unwrap();
    f(&mut t);
    task_repo::update(&mut conn, &t).unwrap();
}

fn edit_card(app: &TestApp, citizen_id: &str, f: impl FnOnce(&mut CardRow)) {
    let mut conn = app.pool.get().unwrap();
    let mut card = card_repo::find_by_citizen(&mut conn, citizen_id).unwrap().expect("the citizen has a card");
    f(&mut card);
    card_repo::update(&mut conn, &card).unwrap();
}

fn approved_at(app: &TestApp, placement: &str) -> NaiveDateTime {
    let mut conn = app.pool.get().unwrap();
    placement_repo::find(&mut conn, placement).unwrap().0.approved_at.expect("approved")
}

fn hours_ago(h: i64) -> NaiveDateTime {
    smaajob_persistence::repo::now() - Duration::hours(h)
}

/// Backdates an offer (its offer time and last change) by `h` hours.
fn offered_hours_ago(app: &TestApp, placement: &str, h: i64) {
    let at = hours_ago(h);
    edit_placement(app, placement, |p| (p.offered_at, p.created_at, p.updated_at) = (Some(at), at, at));
}

/// A card holder (card valid from 35 days ago) employed by a company since 30 days ago:
/// (citizen id, employment id, company token).
async fn employee(app: &TestApp, coordinator: &str, seed: u32) -> (String, String, String) {
    let (citizen, number) = app.card_holder(coordinator, &cpr(seed), &format!("Borger {seed}"), &date(-35)).await;
    let company = app.company(&verified_company(app, coordinator, seed).await);
    let employment = app.register_employment(&company, &employment_by_card(&cpr(seed), &number, &date(-30))).await;
    (citizen, employment, company)
}

both_backends! {
    async fn a_self_registered_company_is_verified_opens_a_task_and_pays_the_placed_citizen_for_confirmed_hours(app) {
        let coordinator = app.coordinator(RANDERS);
        // The company signs in with a business identity (a `cvr` claim) and registers itself.
        let company = app.sign(&Claims { cvr: Some(cvr(1)), ..claims(Role::Company, "mitid-erhverv-karen") });
        let body =
            json!({ "name": "Bageriet i Randers", "municipality": RANDERS, "contact": { "name": "Karen Bager" } });
        let r = app.post("/api/v1/companies/self", &company, &body).await;
        r.expect(201);
        assert_eq!((&r.body["verified"], &r.body["verification"]), (&json!(false), &json!("unverified")));
        let company_id = id(&r.body);
        let q = queue(&app, &coordinator).await;
        assert_eq!(ids(&q["companies_awaiting_verification"], "company_id"), [company_id.as_str()]);
        assert_eq!(q["companies_awaiting_verification"][0]["cvr"], cvr(1));

        // It may draft a task, but opening waits for verification.
        let r = app.post("/api/v1/tasks", &company, &task_body("Butikshjælp", "140.00", 1, true)).await;
        r.expect(201);
        let task = id(&r.body);
        app.post(&format!("/api/v1/tasks/{task}/open"), &company, &json!({}))
            .await
            .expect_problem(409, "company_not_verified");

        let r = app.patch(&format!("/api/v1/companies/{company_id}"), &coordinator, &json!({ "verified": true })).await;
        r.expect(200);
        assert_eq!(r.body["verified"], true);
        assert!(queue(&app, &coordinator).await["companies_awaiting_verification"].as_array().unwrap().is_empty());

        let r = app.post(&format!("/api/v1/tasks/{task}/open"), &company, &json!({})).await;
        r.expect(200);
        assert_eq!(r.body["status"], "open");
        assert!(r.body["opened_at"].is_string(), "the opening is recorded: {}", r.body);
        let s = stats(&app, &coordinator, -1, 0).await;
        assert_eq!((&s["municipality"], &s["tasks_opened"], &s["positions"]), (&json!(RANDERS), &json!(1), &json!(1)));
        assert_eq!(s["positions_filled"], 0);
        assert!(s["median_hours_to_placement"].is_null() && s["p90_hours_to_placement"].is_null(), "{s}");

        // The coordinator offers it to a card holder, who accepts.
        let (citizen_id, _) = app.card_holder(&coordinator, &cpr(1), "Jens Hansen", &date(-35)).await;
        let citizen = app.citizen(&citizen_id);
        let placement = offer(&app, &coordinator, &task, &citizen_id).await;
        let r = app.get("/api/v1/me/offers", &citizen).await;
        r.expect(200);
        assert_eq!(ids(&r.body["items"], "id"), [placement.as_str()]);
        let q = queue(&app, &coordinator).await;
        assert!(q["unanswered_offers"].as_array().unwrap().is_empty(), "a fresh offer is not chased: {q}");
        assert!(q["awaiting_approval"].as_array().unwrap().is_empty());
        accept(&app, &citizen, &placement).await;

        let q = queue(&app, &coordinator).await;
        assert_eq!(ids(&q["awaiting_approval"], "placement_id"), [placement.as_str()]);
        let waiting = &q["awaiting_approval"][0];
        assert_eq!((&waiting["task_id"], &waiting["citizen_id"]), (&json!(task), &json!(citizen_id)));
        assert_eq!((&waiting["citizen_name"], &waiting["age_hours"]), (&json!("Jens Hansen"), &json!(0)));

        // Approval registers the employment from the first shift on the company's behalf.
        let approval = approve(&app, &coordinator, &placement).await;
        assert_eq!(approval["employment"]["start_date"], date(-21));
        assert_eq!(approval["employment"]["company_id"], company_id);
        assert_eq!(approval["estimated_taxable"], "0.00");
        let q = queue(&app, &coordinator).await;
        assert!(q["awaiting_approval"].as_array().unwrap().is_empty(), "approved is no longer awaiting: {q}");

        // The company reports the hours of a past shift; the citizen confirms them.
        let report_id = reported(&app, &company, &placement, -7, "3.5").await;
        let q = queue(&app, &coordinator).await;
        assert_eq!(ids(&q["unconfirmed_hours"], "report_id"), [report_id.as_str()]);
        assert_eq!(q["unconfirmed_hours"][0]["reported_by_role"], "company");
        assert_eq!(q["unconfirmed_hours"][0]["shift_date"], date(-7));

        let r = confirm(&app, &citizen, &report_id).await;
        r.expect(201);
        assert_eq!(r.body["report"]["status"], "confirmed");
        let payout = &r.body["receipt"]["payout"];
        assert_eq!(pick(payout, &["wage", "holiday_pay", "gross"]), json!(["490.00", "61.25", "551.25"]));
        assert_eq!((&payout["exempt"], &payout["taxable"]), (&json!("551.25"), &json!("0.00")));
        assert_eq!((&payout["worked_from"], &payout["worked_to"]), (&json!(date(-7)), &json!(date(-7))));
        assert_eq!((&payout["payment_date"], &payout["coverage"]), (&json!(date(0)), &json!("covered")));
        assert_eq!(payout["employment_id"], approval["employment"]["id"]);
        // Observed: the shift lies before the approval that registered the employment, so the
        // payout is flagged (and warned) as work begun before registration.
        assert_eq!(payout["late_registration"], true);
        assert!(ids(&r.body["receipt"]["warnings"], "code").contains(&"late_registration".to_owned()), "{}", r.body);
        assert!(queue(&app, &coordinator).await["unconfirmed_hours"].as_array().unwrap().is_empty());

        // The citizen's balance holds it: 3.5 h × 140.00 = 490.00, + 12.5 % holiday pay = 551.25.
        let r = app.get("/api/v1/me/balance", &citizen).await;
        r.expect(200);
        assert_eq!(pick(&r.body, &["gross", "exempt", "taxable"]), json!(["551.25", "551.25", "0.00"]));
        assert_eq!(r.body["payouts"], 1);
        assert_eq!(ore(&r.body["remaining"]), cap_ore(&app, &citizen).await - 55_125);

        // The company sees exactly what to pay, and that none of it is taxable.
        let hours = hours_of(&app, &company, &placement).await;
        assert_eq!(ids(&hours, "id"), [report_id]);
        assert_eq!((&hours[0]["hours"], &hours[0]["status"]), (&json!("3.5"), &json!("confirmed")));
        let paid = &hours[0]["payout"];
        assert_eq!((&paid["wage"], &paid["holiday_pay"]), (&json!("490.00"), &json!("61.25")));
        assert_eq!((&paid["exempt"], &paid["taxable"]), (&json!("551.25"), &json!("0.00")));

        // The statistics count the opened task and its filled position.
        let s = stats(&app, &coordinator, -1, 0).await;
        assert_eq!((&s["tasks_opened"], &s["positions"], &s["positions_filled"]), (&json!(1), &json!(1), &json!(1)));
        assert!(s["median_hours_to_placement"].as_i64().is_some_and(|h| h >= 0), "{s}");
        assert!(s["p90_hours_to_placement"].as_i64().is_some_and(|h| h >= 0), "{s}");
    }

    async fn hours_are_reported_once_for_past_shifts_of_an_approved_placement_within_the_shift_length(app) {
        let w = placed(&app, RANDERS, 1, "140.00").await;
        // Not a day of the schedule: the weekday without shifts, and a day before the pattern.
        for shift in [OFF, -25] {
            let r = report(&app, &w.company, &w.placement, shift, "3").await;
            r.expect_problem(422, "validation");
            assert_eq!(field_codes(&r), [("shift_date".to_owned(), "not_a_shift".to_owned())], "{}", r.body);
        }
        // Not in the future.
        let r = report(&app, &w.company, &w.placement, 2, "3").await;
        r.expect_problem(422, "validation");
        assert_eq!(field_codes(&r), [("shift_date".to_owned(), "in_future".to_owned())], "{}", r.body);
        // At most the shift's length (08:00–12:00), though more than the 3.5 paid hours is fine.
        let r = report(&app, &w.company, &w.placement, -7, "4.25").await;
        r.expect_problem(422, "validation");
        assert_eq!(field_codes(&r), [("hours".to_owned(), "hours_exceed_shift".to_owned())], "{}", r.body);
        // Hours are decimal, positive, in whole minutes; every field problem is told at once.
        let bad = [("3,5", "hours_format"), ("0", "hours_not_positive"), ("0.01", "hours_not_whole_minutes")];
        for (hours, code) in bad {
            let r = report(&app, &w.company, &w.placement, 2, hours).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["hours", "shift_date"], "{hours}: {}", r.body);
            assert!(field_codes(&r).contains(&("hours".to_owned(), code.to_owned())), "{hours}: {}", r.body);
        }
        // The citizen confirms hours; they do not report them.
        report(&app, &w.citizen, &w.placement, -7, "3").await.expect_problem(403, "forbidden");

        let first = reported(&app, &w.company, &w.placement, -7, "4").await;
        report(&app, &w.company, &w.placement, -7, "2").await.expect_problem(409, "hours_already_reported");
        // Nor by the coordinator for the company.
        report(&app, &w.coordinator, &w.placement, -7, "2").await.expect_problem(409, "hours_already_reported");
        let listed = hours_of(&app, &w.company, &w.placement).await;
        assert_eq!(ids(&listed, "id"), [first]);
        assert_eq!((&listed[0]["hours"], &listed[0]["reported_by_role"]), (&json!("4"), &json!("company")));
        assert!(listed[0]["payout"].is_null());

        // Only approved placements take hours: an accepted one does not yet.
        let (other, _) = app.card_holder(&w.coordinator, &cpr(2), "Mette Jensen", &date(-35)).await;
        let task = open_task(&app, &w.company, &task_body("Lagerhjælp", "140.00", 1, true)).await;
        let accepted = offer(&app, &w.coordinator, &task, &other).await;
        report(&app, &w.company, &accepted, -7, "3").await.expect_problem(409, "placement_not_approved");
        accept(&app, &app.citizen(&other), &accepted).await;
        report(&app, &w.company, &accepted, -7, "3").await.expect_problem(409, "placement_not_approved");
        report(&app, &w.coordinator, &accepted, -7, "3").await.expect_problem(409, "placement_not_approved");
    }

    async fn a_disputed_shift_is_reported_again_with_the_settled_hours_and_then_confirmed(app) {
        let w = placed(&app, RANDERS, 1, "140.00").await;
        let report_id = reported(&app, &w.company, &w.placement, -6, "3.5").await;
        let r = app.post(&format!("/api/v1/hours/{report_id}/dispute"), &w.citizen, &json!({ "reason": " " })).await;
        r.expect_problem(422, "validation");
        assert_eq!(r.error_fields(), ["reason"]);
        // The reporter does not dispute its own report.
        dispute(&app, &w.company, &report_id, "forkert").await.expect_problem(403, "forbidden");

        let r = dispute(&app, &w.citizen, &report_id, "Jeg gik kl. 11").await;
        r.expect(200);
        assert_eq!((&r.body["status"], &r.body["dispute_reason"]), (&json!("disputed"), &json!("Jeg gik kl. 11")));
        assert_eq!(r.body["answered_by"], format!("citizen-{}", w.citizen_id));
        assert!(r.body["answered_at"].is_string() && r.body["payout"].is_null(), "{}", r.body);
        assert!(queue(&app, &w.coordinator).await["unconfirmed_hours"].as_array().unwrap().is_empty());
        // A disputed report is not confirmed or disputed again as it stands.
        confirm(&app, &w.coordinator, &report_id).await.expect_problem(409, "hours_already_answered");
        confirm(&app, &w.citizen, &report_id).await.expect_problem(409, "hours_already_answered");
        dispute(&app, &w.citizen, &report_id, "igen").await.expect_problem(409, "hours_already_answered");

        // Settled: the company reports the shift again, on the same report, and the citizen confirms.
        let again = report(&app, &w.company, &w.placement, -6, "3").await;
        again.expect(201);
        assert_eq!((&again.body["id"], &again.body["status"], &again.body["hours"]), (&json!(report_id), &json!("reported"), &json!("3")));
        assert!(again.body["answered_by"].is_null() && again.body["dispute_reason"].is_null(), "{}", again.body);
        report(&app, &w.coordinator, &w.placement, -6, "3").await.expect_problem(409, "hours_already_reported");
        let c = confirm(&app, &w.citizen, &report_id).await;
        c.expect(201);
        assert_eq!(c.body["receipt"]["payout"]["wage"], "420.00");
        let listed = hours_of(&app, &w.coordinator, &w.placement).await;
        assert_eq!(ids(&listed, "id"), [report_id]);
        assert_eq!((&listed[0]["status"], &listed[0]["hours"]), (&json!("confirmed"), &json!("3")));
        let r = app.get(&format!("/api/v1/employments/{}/payouts", w.employment), &w.coordinator).await;
        r.expect(200);
        assert_eq!(r.body.as_array().unwrap().len(), 1);
    }
}

/// The statistics count Copenhagen calendar days and each position once.
mod statistics {
    use super::*;

    both_backends! {
        async fn the_statistics_count_a_task_on_the_copenhagen_day_it_was_opened(app) {
            let coordinator = app.coordinator(RANDERS);
            let company = app.company(&verified_company(&app, &coordinator, 1).await);
            let task = open_task(&app, &company, &task_body("Butikshjælp", "140.00", 1, false)).await;
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
            let task = open_task(&app, &company, &task_body("Butikshjælp", "140.00", 1, false)).await;
            let first = app.enrol(&coordinator, &cpr(1), "Borger 1").await;
            let placement = offer(&app, &coordinator, &task, &first).await;
            accept(&app, &app.citizen(&first), &placement).await;
            approve(&app, &coordinator, &placement).await;
            // The citizen drops out; the freed position is filled by another.
            let r = app.post(&format!("/api/v1/placements/{placement}/cancel"), &coordinator, &json!({})).await;
            r.expect(200);
            let second = app.enrol(&coordinator, &cpr(2), "Borger 2").await;
            let placement = offer(&app, &coordinator, &task, &second).await;
            accept(&app, &app.citizen(&second), &placement).await;
            approve(&app, &coordinator, &placement).await;
            let r = app.get(&format!("/api/v1/tasks/{task}"), &coordinator).await;
            assert_eq!((&r.body["positions"], &r.body["positions_filled"]), (&json!(1), &json!(1)));

            let s = stats(&app, &coordinator, -1, 0).await;
            assert_eq!((&s["tasks_opened"], &s["positions"]), (&json!(1), &json!(1)));
            assert_eq!(s["positions_filled"], 1, "one position, filled: {s}");
            assert_eq!(s["placements_approved"], 2, "two placements were approved on it: {s}");
        }
    }
}
