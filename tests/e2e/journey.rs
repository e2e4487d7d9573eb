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
    smaajob_api::services::common::today_copenhagen()
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
    #[allow(dead_code)]
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

/// Every report of a placement (one page, which holds them all here).
async fn hours_of(app: &TestApp, token: &str, placement: &str) -> Value {
    let r = app.get(&format!("/api/v1/placements/{placement}/hours"), token).await;
    r.expect(200);
    let items = r.body["items"].as_array().unwrap_or_else(|| panic!("not a page: {}", r.body));
    assert_eq!(r.body["total"], json!(items.len()), "{}", r.body);
    r.body["items"].clone()
}

async fn queue(app: &TestApp, coordinator: &str) -> Value {
    let r = app.get("/api/v1/queue", coordinator).await;
    r.expect(200);
    r.body.clone()
}

async fn stats(app: &TestApp, coordinator: &str, from: i64, to: i64) -> Value {
    let r = app.get(&format!("/api/v1/stats/placements?from={}&to={}", date(from), date(to)), coordinator).await;
    r.expect(200);
    let list = r.body["items"].as_array().unwrap_or_else(|| panic!("not a page: {}", r.body));
    assert_eq!(list.len(), 1, "one municipality: {}", r.body);
    assert_eq!(r.body["total"], 1, "{}", r.body);
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
        // The company does not even see a placement before it is approved; the coordinator is told why.
        report(&app, &w.company, &accepted, -7, "3").await.expect_problem(404, "not_found");
        report(&app, &w.coordinator, &accepted, -7, "3").await.expect_problem(409, "placement_not_approved");
        accept(&app, &app.citizen(&other), &accepted).await;
        report(&app, &w.company, &accepted, -7, "3").await.expect_problem(404, "not_found");
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

/// The codes of a receipt's warnings.
fn warning_codes(receipt: &Value) -> Vec<String> {
    ids(&receipt["warnings"], "code")
}

/// Asserts a problem's status and code, naming who got it.
#[track_caller]
fn refused(r: &Resp, status: u16, code: &str, who: &str) {
    assert_eq!((r.status, r.body["code"].as_str()), (status, Some(code)), "{who}: {}", r.body);
    assert_eq!(r.content_type(), "application/problem+json", "{who}");
}

/// Who answers reported hours: the side that did not report them, once.
mod answering {
    use super::*;

    /// A coordinator of `municipality` other than [`TestApp::coordinator`]'s.
    fn colleague(app: &TestApp, municipality: &str) -> String {
        app.sign(&Claims { municipality: Some(municipality.into()), ..claims(Role::Coordinator, "coord-kollega") })
    }

    both_backends! {
        async fn a_coordinators_report_is_answered_by_the_company_or_the_citizen_never_by_a_coordinator(app) {
            let w = placed(&app, RANDERS, 1, "140.00").await;
            let colleague = colleague(&app, RANDERS);
            let first = reported(&app, &w.coordinator, &w.placement, -7, "3.5").await;
            let listed = hours_of(&app, &w.company, &w.placement).await;
            assert_eq!(pick(&listed[0], &["reported_by", "reported_by_role"]), json!(["coord-730", "coordinator"]));
            // Neither the reporting coordinator nor a colleague answers a coordinator's report.
            for (who, token) in [("the reporter", &w.coordinator), ("a colleague", &colleague)] {
                refused(&confirm(&app, token, &first).await, 403, "forbidden", who);
                refused(&dispute(&app, token, &first, "forkert").await, 403, "forbidden", who);
            }
            assert!(hours_of(&app, &w.company, &w.placement).await[0]["answered_by"].is_null());

            // The company confirms it, once.
            let r = confirm(&app, &w.company, &first).await;
            r.expect(201);
            assert_eq!(r.body["report"]["status"], "confirmed");
            assert_eq!(r.body["report"]["answered_by"], format!("company-{}", w.company_id));
            assert_eq!(r.body["receipt"]["payout"]["wage"], "490.00");
            confirm(&app, &w.company, &first).await.expect_problem(409, "hours_already_answered");
            confirm(&app, &w.citizen, &first).await.expect_problem(409, "hours_already_answered");
            dispute(&app, &w.citizen, &first, "forkert").await.expect_problem(409, "hours_already_answered");
            // A coordinator is still not the other side of a coordinator's report.
            confirm(&app, &colleague, &first).await.expect_problem(403, "forbidden");

            // The citizen confirms another.
            let second = reported(&app, &colleague, &w.placement, -6, "3").await;
            confirm(&app, &w.coordinator, &second).await.expect_problem(403, "forbidden");
            let r = confirm(&app, &w.citizen, &second).await;
            r.expect(201);
            assert_eq!(r.body["report"]["answered_by"], format!("citizen-{}", w.citizen_id));
            assert_eq!(r.body["receipt"]["payout"]["wage"], "420.00");
            confirm(&app, &w.company, &second).await.expect_problem(409, "hours_already_answered");

            // The company disputes a third.
            let third = reported(&app, &w.coordinator, &w.placement, -5, "2").await;
            let r = dispute(&app, &w.company, &third, "Hun var her kun en time").await;
            r.expect(200);
            assert_eq!(pick(&r.body, &["status", "dispute_reason"]), json!(["disputed", "Hun var her kun en time"]));
            confirm(&app, &w.citizen, &third).await.expect_problem(409, "hours_already_answered");
            dispute(&app, &w.company, &third, "igen").await.expect_problem(409, "hours_already_answered");

            let listed = hours_of(&app, &w.coordinator, &w.placement).await;
            assert_eq!(ids(&listed, "id"), [first, second, third]);
            assert_eq!(column(&listed, "status"), json!(["confirmed", "confirmed", "disputed"]));
            let r = app.get(&format!("/api/v1/employments/{}/payouts", w.employment), &w.coordinator).await;
            r.expect(200);
            assert_eq!(r.body.as_array().unwrap().len(), 2, "one payout per confirmation: {}", r.body);
        }

        async fn a_companys_report_is_answered_by_the_citizen_or_a_coordinator_never_by_the_company(app) {
            let w = placed(&app, RANDERS, 1, "140.00").await;
            // Other people of the same company: another login, and a business identity by CVR.
            let other_login =
                app.sign(&Claims { company_id: Some(w.company_id.clone()), ..claims(Role::Company, "other-login") });
            let by_cvr = app.company_cvr_token_as(&cvr(1), "mitid-erhverv-bo");
            let first = reported(&app, &w.company, &w.placement, -7, "3.5").await;
            for (who, token) in [("the reporter", &w.company), ("another login", &other_login), ("by CVR", &by_cvr)] {
                refused(&confirm(&app, token, &first).await, 403, "forbidden", who);
                refused(&dispute(&app, token, &first, "forkert").await, 403, "forbidden", who);
            }
            let listed = hours_of(&app, &other_login, &w.placement).await;
            assert_eq!(pick(&listed[0], &["status", "answered_by", "payout"]), json!(["reported", null, null]));

            // The citizen confirms it, once.
            let r = confirm(&app, &w.citizen, &first).await;
            r.expect(201);
            assert_eq!(r.body["report"]["answered_by"], format!("citizen-{}", w.citizen_id));
            confirm(&app, &w.citizen, &first).await.expect_problem(409, "hours_already_answered");
            confirm(&app, &w.coordinator, &first).await.expect_problem(409, "hours_already_answered");
            dispute(&app, &w.coordinator, &first, "forkert").await.expect_problem(409, "hours_already_answered");

            // Another login of the company reports the next shift; a coordinator confirms it.
            let second = reported(&app, &other_login, &w.placement, -6, "3").await;
            confirm(&app, &w.company, &second).await.expect_problem(403, "forbidden");
            let r = confirm(&app, &w.coordinator, &second).await;
            r.expect(201);
            assert_eq!(r.body["report"]["answered_by"], "coord-730");
            confirm(&app, &w.citizen, &second).await.expect_problem(409, "hours_already_answered");
            confirm(&app, &w.coordinator, &second).await.expect_problem(409, "hours_already_answered");

            let listed = hours_of(&app, &w.company, &w.placement).await;
            assert_eq!(column(&listed, "status"), json!(["confirmed", "confirmed"]));
            assert_eq!(column(&listed, "reported_by"), json!([format!("company-{}", w.company_id), "other-login"]));
            assert!(listed.as_array().unwrap().iter().all(|r| r["payout"]["id"].is_string()), "{listed}");
        }

        async fn parties_of_other_tasks_and_other_municipalities_do_not_see_or_answer_the_hours(app) {
            let w = placed(&app, RANDERS, 1, "140.00").await;
            // Another company and citizen of Randers, on another task; and a placement in Aarhus.
            let neighbour = placed(&app, RANDERS, 2, "140.00").await;
            let aarhus = placed(&app, AARHUS, 3, "140.00").await;
            let by_company = reported(&app, &w.company, &w.placement, -7, "3.5").await;
            let by_coordinator = reported(&app, &w.coordinator, &w.placement, -6, "3").await;
            let outsiders = [
                ("the company of another task", &neighbour.company),
                ("the citizen of another task", &neighbour.citizen),
                ("another municipality's coordinator", &aarhus.coordinator),
                ("another municipality's company", &aarhus.company),
                ("another municipality's citizen", &aarhus.citizen),
            ];
            for (who, token) in outsiders {
                let r = app.get(&format!("/api/v1/placements/{}/hours", w.placement), token).await;
                refused(&r, 404, "not_found", who);
                let r = report(&app, token, &w.placement, -5, "3").await;
                if who.contains("citizen") {
                    // Observed: a citizen never reports hours, so the role is refused before the
                    // placement is looked up (403 whichever placement it is; nothing is revealed).
                    refused(&r, 403, "forbidden", who);
                } else {
                    refused(&r, 404, "not_found", who);
                }
                for report_id in [&by_company, &by_coordinator] {
                    refused(&confirm(&app, token, report_id).await, 404, "not_found", who);
                    refused(&dispute(&app, token, report_id, "forkert").await, 404, "not_found", who);
                }
            }
            // Nothing changed.
            let listed = hours_of(&app, &w.coordinator, &w.placement).await;
            assert_eq!(ids(&listed, "id"), [by_company.clone(), by_coordinator.clone()]);
            assert_eq!(column(&listed, "status"), json!(["reported", "reported"]));
            let r = app.get(&format!("/api/v1/employments/{}/payouts", w.employment), &w.coordinator).await;
            assert_eq!(r.body, json!([]));
            // The outsiders see their own placements' hours (none).
            assert_eq!(hours_of(&app, &neighbour.company, &neighbour.placement).await, json!([]));
            assert_eq!(hours_of(&app, &aarhus.coordinator, &aarhus.placement).await, json!([]));
            // The parties themselves do answer.
            confirm(&app, &w.citizen, &by_company).await.expect(201);
            confirm(&app, &w.company, &by_coordinator).await.expect(201);
        }
    }
}

/// What confirmed hours pay, and how it is split against the frikort amount.
mod pay {
    use super::*;

    both_backends! {
        async fn confirmed_hours_pay_the_wage_rounded_to_ore_and_holiday_pay_split_at_the_cap(app) {
            let w = placed(&app, RANDERS, 1, "131.31").await;
            let quarter = reported(&app, &w.company, &w.placement, -7, "0.25").await;
            let r = confirm(&app, &w.citizen, &quarter).await;
            r.expect(201);
            let first = r.body["receipt"]["payout"].clone();
            // 0.25 h × 131.31 = 32.8275 → 32.83; 12.5 % holiday pay of that = 4.10375 → 4.10.
            let amounts = pick(&first, &["wage", "holiday_pay", "pension", "gross"]);
            assert_eq!(amounts, json!(["32.83", "4.10", "0.00", "36.93"]));
            assert_eq!(pick(&first, &["exempt", "taxable", "coverage"]), json!(["36.93", "0.00", "covered"]));
            let dates = pick(&first, &["payment_date", "worked_from", "worked_to"]);
            assert_eq!(dates, json!([date(0), date(-7), date(-7)]));
            assert_eq!(first["holiday_pay_separately"], false);
            assert!(!warning_codes(&r.body["receipt"]).contains(&"cap_crossed".to_owned()), "{}", r.body);

            // A payout registered directly leaves 100.00 kr of this year's cap.
            let cap = cap_ore(&app, &w.coordinator).await;
            let paid = pay(&app, &w.coordinator, &w.employment, cap - 3_693 - 10_000).await;
            assert_eq!(pick(&paid["payout"], &["exempt", "taxable"]), json!([kr(cap - 13_693), "0.00"]));
            assert_eq!(paid["balance"]["remaining"], "100.00");

            // 3.5 h × 131.31 = 459.585 → 459.59; holiday pay 57.44875 → 57.45; 517.04 in all.
            let crossing = reported(&app, &w.company, &w.placement, -6, "3.5").await;
            let r = confirm(&app, &w.citizen, &crossing).await;
            r.expect(201);
            let second = r.body["receipt"]["payout"].clone();
            assert_eq!(pick(&second, &["wage", "holiday_pay", "gross"]), json!(["459.59", "57.45", "517.04"]));
            assert_eq!(pick(&second, &["exempt", "taxable", "coverage"]), json!(["100.00", "417.04", "covered"]));
            assert!(warning_codes(&r.body["receipt"]).contains(&"cap_crossed".to_owned()), "{}", r.body);
            assert_eq!(r.body["receipt"]["balance"]["remaining"], "0.00");
            let adjustments = r.body["receipt"]["adjustments"].as_array().unwrap();
            assert!(adjustments.is_empty(), "earlier splits stand: {}", r.body);

            // The company sees the same amounts on the reported shifts.
            let listed = hours_of(&app, &w.company, &w.placement).await;
            assert_eq!(ids(&listed, "id"), [quarter, crossing]);
            assert_eq!(column(&listed, "hours"), json!(["0.25", "3.5"]));
            let keys = ["id", "wage", "holiday_pay", "gross", "exempt", "taxable", "coverage", "payment_date"];
            assert_eq!(pick(&listed[0]["payout"], &keys), pick(&first, &keys));
            assert_eq!(pick(&listed[1]["payout"], &keys), pick(&second, &keys));
            // The list is a page like every other: the second report alone, of two.
            let r = app.get(&format!("/api/v1/placements/{}/hours?limit=1&offset=1", w.placement), &w.company).await;
            r.expect(200);
            assert_eq!(pick(&r.body, &["total", "limit", "offset"]), json!([2, 1, 1]));
            assert_eq!(r.body["items"], json!([listed[1].clone()]));

            let r = app.get("/api/v1/me/balance", &w.citizen).await;
            r.expect(200);
            assert_eq!(pick(&r.body, &["exempt", "taxable", "remaining"]), json!([kr(cap), "417.04", "0.00"]));
            assert_eq!(r.body["payouts"], 3);
        }

        async fn a_shift_worked_after_the_card_was_deactivated_is_wholly_taxable(app) {
            let w = placed(&app, RANDERS, 1, "140.00").await;
            let card = format!("/api/v1/citizens/{}/frikort", w.citizen_id);
            let body = json!({ "reason": "Startet på SU-uddannelse" });
            let r = app.post(&format!("{card}/deactivate"), &w.coordinator, &body).await;
            r.expect(200);
            // The decision in fact took effect at midnight (Copenhagen) five days ago.
            let local = day(-5).and_hms_opt(0, 0, 0).unwrap();
            let midnight = chrono_tz::Europe::Copenhagen.from_local_datetime(&local).single().unwrap();
            let decided_at = midnight.with_timezone(&chrono::Utc).to_rfc3339();
            let body = json!({ "decided_at": decided_at, "reason": "Tastefejl" });
            app.post(&format!("{card}/decision-time"), &w.coordinator, &body).await.expect(200);

            let before = reported(&app, &w.company, &w.placement, -7, "3.5").await;
            let after = reported(&app, &w.company, &w.placement, -4, "3.5").await;
            let r = confirm(&app, &w.citizen, &after).await;
            r.expect(201);
            let uncovered = r.body["receipt"]["payout"].clone();
            assert_eq!(pick(&uncovered, &["gross", "exempt", "taxable"]), json!(["551.25", "0.00", "551.25"]));
            assert_eq!(uncovered["coverage"], "card_inactive");
            let codes = warning_codes(&r.body["receipt"]);
            assert!(codes.contains(&"not_covered".to_owned()), "{codes:?}");
            assert!(!codes.contains(&"cap_crossed".to_owned()), "{codes:?}");

            // A shift before the deactivation is still covered.
            let r = confirm(&app, &w.coordinator, &before).await;
            r.expect(201);
            let covered = &r.body["receipt"]["payout"];
            let split = pick(covered, &["gross", "exempt", "taxable", "coverage"]);
            assert_eq!(split, json!(["551.25", "551.25", "0.00", "covered"]));
            assert!(!warning_codes(&r.body["receipt"]).contains(&"not_covered".to_owned()), "{}", r.body);

            let listed = hours_of(&app, &w.company, &w.placement).await;
            assert_eq!(ids(&listed, "id"), [before, after]);
            let split = pick(&listed[1]["payout"], &["exempt", "taxable", "coverage"]);
            assert_eq!(split, json!(["0.00", "551.25", "card_inactive"]));
            let r = app.get("/api/v1/me/balance", &w.citizen).await;
            assert_eq!(pick(&r.body, &["gross", "exempt", "taxable"]), json!(["1102.50", "551.25", "551.25"]));
        }

        async fn a_confirmation_refused_because_the_employment_ended_leaves_the_report_unanswered(app) {
            let w = placed(&app, RANDERS, 1, "140.00").await;
            let report_id = reported(&app, &w.company, &w.placement, -7, "3.5").await;
            let path = format!("/api/v1/employments/{}/end", w.employment);
            let r = app.post(&path, &w.company, &json!({ "reason": "Opsagt" })).await;
            r.expect(200);
            assert!(r.body["ended_at"].is_string(), "{}", r.body);

            confirm(&app, &w.citizen, &report_id).await.expect_problem(409, "employment_ended");
            confirm(&app, &w.coordinator, &report_id).await.expect_problem(409, "employment_ended");
            // Rolled back whole: still reported and unanswered, and no payout.
            let listed = hours_of(&app, &w.company, &w.placement).await;
            assert_eq!(ids(&listed, "id"), std::slice::from_ref(&report_id));
            let keys = ["status", "answered_by", "answered_at", "payout"];
            assert_eq!(pick(&listed[0], &keys), json!(["reported", null, null, null]));
            let r = app.get(&format!("/api/v1/employments/{}/payouts", w.employment), &w.coordinator).await;
            r.expect(200);
            assert_eq!(r.body, json!([]));
            let r = app.get("/api/v1/me/balance", &w.citizen).await;
            r.expect(200);
            assert_eq!((&r.body["gross"], &r.body["payouts"]), (&json!("0.00"), &json!(0)));
            assert_eq!(ids(&queue(&app, &w.coordinator).await["unconfirmed_hours"], "report_id"), std::slice::from_ref(&report_id));
            // It can still be disputed.
            dispute(&app, &w.citizen, &report_id, "Ansættelsen er ophørt").await.expect(200);
        }
    }
}

/// Simultaneous answers and reports of the same shift.
mod racing {
    use super::*;

    /// Posts `body` to `path` once per token, all at once, each in its own task.
    pub(super) async fn at_once(app: &Rc<TestApp>, path: &str, tokens: &[&str], body: &Value) -> Vec<Resp> {
        let tasks: Vec<_> = tokens
            .iter()
            .map(|token| {
                let (app, path, token, body) = (Rc::clone(app), path.to_owned(), (*token).to_owned(), body.clone());
                actix_web::rt::spawn(async move { app.post(&path, &token, &body).await })
            })
            .collect();
        let mut responses = Vec::with_capacity(tasks.len());
        for task in tasks {
            responses.push(task.await.expect("the request task completes"));
        }
        responses
    }

    /// Statuses and problem codes, sorted.
    pub(super) fn outcomes(responses: &[Resp]) -> Vec<(u16, String)> {
        let mut o: Vec<_> =
            responses.iter().map(|r| (r.status, r.body["code"].as_str().unwrap_or("").to_owned())).collect();
        o.sort();
        o
    }

    fn one_of_three(code: &str) -> Vec<(u16, String)> {
        vec![(201, String::new()), (409, code.to_owned()), (409, code.to_owned())]
    }

    both_backends! {
        async fn three_simultaneous_confirmations_of_a_report_make_one_payout(app) {
            let app = Rc::new(app);
            let w = placed(&app, RANDERS, 1, "140.00").await;
            let mut payouts = Vec::new();
            for shift in [-7, -6, -5, -4, -3] {
                let report_id = reported(&app, &w.company, &w.placement, shift, "3.5").await;
                let path = format!("/api/v1/hours/{report_id}/confirm");
                let responses = at_once(&app, &path, &[&w.citizen, &w.coordinator, &w.citizen], &json!({})).await;
                let expected = one_of_three("hours_already_answered");
                assert_eq!(outcomes(&responses), expected, "shift {shift}: {responses:?}");
                let won = responses.iter().find(|r| r.status == 201).unwrap();
                payouts.push(won.body["receipt"]["payout"]["id"].as_str().unwrap().to_owned());
            }
            let r = app.get(&format!("/api/v1/employments/{}/payouts", w.employment), &w.coordinator).await;
            r.expect(200);
            let mut listed = ids(&r.body, "id");
            listed.sort();
            payouts.sort();
            assert_eq!(listed, payouts, "exactly one payout per report");
            let hours = hours_of(&app, &w.company, &w.placement).await;
            assert!(hours.as_array().unwrap().iter().all(|h| h["status"] == "confirmed"), "{hours}");
            let r = app.get("/api/v1/me/balance", &w.citizen).await;
            assert_eq!((&r.body["gross"], &r.body["payouts"]), (&json!("2756.25"), &json!(5)));
        }

        async fn three_simultaneous_reports_of_a_shift_make_one_report(app) {
            let app = Rc::new(app);
            let w = placed(&app, RANDERS, 1, "140.00").await;
            let path = format!("/api/v1/placements/{}/hours", w.placement);
            for shift in [-7, -6, -5] {
                let body = json!({ "shift_date": date(shift), "hours": "3" });
                let responses = at_once(&app, &path, &[&w.company, &w.coordinator, &w.company], &body).await;
                let expected = one_of_three("hours_already_reported");
                assert_eq!(outcomes(&responses), expected, "shift {shift}: {responses:?}");
            }
            let listed = hours_of(&app, &w.coordinator, &w.placement).await;
            assert_eq!(column(&listed, "shift_date"), json!([date(-7), date(-6), date(-5)]));
            assert_eq!(column(&listed, "status"), json!(["reported", "reported", "reported"]));
        }
    }
}

/// The coordinator's work queue.
mod work_queue {
    use super::*;

    /// Backdates an acceptance (its answer time and last change, as accepting sets both) by `h` hours.
    fn accepted_hours_ago(app: &TestApp, placement: &str, h: i64) {
        let at = hours_ago(h);
        edit_placement(app, placement, |p| (p.answered_at, p.updated_at) = (Some(at), at));
    }

    /// June 1st `years` years before this year.
    fn years_ago(years: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(today().year() - years, 6, 1).unwrap()
    }

    both_backends! {
        async fn offers_unanswered_for_more_than_48_hours_are_chased_oldest_first(app) {
            let coordinator = app.coordinator(RANDERS);
            let company = app.company(&verified_company(&app, &coordinator, 1).await);
            let task = open_task(&app, &company, &task_body("Butikshjælp", "140.00", 1, false)).await;
            let mut offers = Vec::new();
            for (seed, name) in [(1, "Anne"), (2, "Bo"), (3, "Carl"), (4, "Dorte")] {
                let citizen = app.enrol(&coordinator, &cpr(seed), name).await;
                let placement = offer(&app, &coordinator, &task, &citizen).await;
                offers.push((citizen, placement));
            }
            offered_hours_ago(&app, &offers[0].1, 49);
            offered_hours_ago(&app, &offers[1].1, 72);
            offered_hours_ago(&app, &offers[2].1, 47);
            // Dorte's offer is fresh.
            let q = queue(&app, &coordinator).await;
            let chased = &q["unanswered_offers"];
            assert_eq!(ids(chased, "placement_id"), [offers[1].1.clone(), offers[0].1.clone()]);
            assert_eq!(column(chased, "age_hours"), json!([72, 49]));
            assert_eq!(column(chased, "citizen_name"), json!(["Bo", "Anne"]));
            assert_eq!(column(chased, "citizen_id"), json!([offers[1].0, offers[0].0]));
            assert_eq!(pick(&chased[0], &["task_id", "task_title"]), json!([task, "Butikshjælp"]));
            assert!(q["awaiting_approval"].as_array().unwrap().is_empty(), "{q}");

            // Bo declines: his offer waits on no one.
            let path = format!("/api/v1/me/offers/{}/decline", offers[1].1);
            let r = app.post(&path, &app.citizen(&offers[1].0), &json!({})).await;
            r.expect(200);
            assert_eq!(r.body["state"], "declined");
            let q = queue(&app, &coordinator).await;
            assert_eq!(ids(&q["unanswered_offers"], "placement_id"), [offers[0].1.clone()]);

            // Anne accepts: hers now awaits approval instead.
            accept(&app, &app.citizen(&offers[0].0), &offers[0].1).await;
            let q = queue(&app, &coordinator).await;
            assert!(q["unanswered_offers"].as_array().unwrap().is_empty(), "{q}");
            assert_eq!(ids(&q["awaiting_approval"], "placement_id"), [offers[0].1.clone()]);
        }

        async fn accepted_placements_await_approval_oldest_first(app) {
            let coordinator = app.coordinator(RANDERS);
            let company = app.company(&verified_company(&app, &coordinator, 1).await);
            let task = open_task(&app, &company, &task_body("Butikshjælp", "140.00", 3, false)).await;
            let mut accepted = Vec::new();
            for (seed, name) in [(1, "Anne"), (2, "Bo"), (3, "Carl")] {
                let citizen = app.enrol(&coordinator, &cpr(seed), name).await;
                let placement = offer(&app, &coordinator, &task, &citizen).await;
                accept(&app, &app.citizen(&citizen), &placement).await;
                accepted.push(placement);
            }
            // Accepted 5 hours ago (Anne), 30 hours ago (Bo) and just now (Carl).
            accepted_hours_ago(&app, &accepted[0], 5);
            accepted_hours_ago(&app, &accepted[1], 30);
            let q = queue(&app, &coordinator).await;
            let waiting = &q["awaiting_approval"];
            assert_eq!(ids(waiting, "placement_id"), [accepted[1].clone(), accepted[0].clone(), accepted[2].clone()]);
            assert_eq!(column(waiting, "age_hours"), json!([30, 5, 0]));
            assert_eq!(column(waiting, "citizen_name"), json!(["Bo", "Anne", "Carl"]));
            assert!(q["unanswered_offers"].as_array().unwrap().is_empty(), "accepted offers are not chased: {q}");

            // Approved and rejected ones wait no longer.
            approve(&app, &coordinator, &accepted[1]).await;
            let path = format!("/api/v1/placements/{}/reject", accepted[0]);
            let r = app.post(&path, &coordinator, &json!({ "reason": "Passer ikke" })).await;
            r.expect(200);
            let q = queue(&app, &coordinator).await;
            assert_eq!(ids(&q["awaiting_approval"], "placement_id"), [accepted[2].clone()]);
        }

        async fn citizens_who_have_used_80_percent_of_the_cap_are_watched(app) {
            let coordinator = app.coordinator(RANDERS);
            let cap = cap_ore(&app, &coordinator).await;
            let limit = cap * 80 / 100;
            let (above, above_employment, above_company) = employee(&app, &coordinator, 1).await;
            let (over, over_employment, over_company) = employee(&app, &coordinator, 2).await;
            let (below, below_employment, below_company) = employee(&app, &coordinator, 3).await;
            pay(&app, &above_company, &above_employment, limit + 1).await;
            pay(&app, &over_company, &over_employment, cap + 100_000).await;
            pay(&app, &below_company, &below_employment, limit - 1).await;

            let q = queue(&app, &coordinator).await;
            let near = q["citizens_near_cap"].as_array().unwrap().clone();
            let mut listed = ids(&q["citizens_near_cap"], "citizen_id");
            listed.sort();
            let mut expected = vec![above.clone(), over.clone()];
            expected.sort();
            assert_eq!(listed, expected, "80 % − 1 øre ({below}) is not listed: {q}");
            let entry = |id: &str| near.iter().find(|e| e["citizen_id"] == id).unwrap().clone();
            let keys = ["citizen_name", "cap", "exempt", "remaining", "used_percent"];
            let expected = json!(["Borger 1", kr(cap), kr(limit + 1), kr(cap - limit - 1), 80]);
            assert_eq!(pick(&entry(&above), &keys), expected);
            assert_eq!(pick(&entry(&over), &keys), json!(["Borger 2", kr(cap), kr(cap), "0.00", 100]));
        }

        async fn cards_due_for_control_are_those_issued_or_last_controlled_two_years_ago_or_more(app) {
            let coordinator = app.coordinator(RANDERS);
            let mut holders = Vec::new();
            for seed in 1..=6 {
                let (citizen, number) =
                    app.card_holder(&coordinator, &cpr(seed), &format!("Borger {seed}"), &date(-35)).await;
                holders.push((citizen, number));
            }
            let this_year = today();
            edit_card(&app, &holders[0].0, |c| c.issued_on = years_ago(2));
            edit_card(&app, &holders[1].0, |c| (c.issued_on, c.last_control_on) = (years_ago(4), Some(years_ago(3))));
            edit_card(&app, &holders[2].0, |c| c.issued_on = years_ago(1));
            // holders[3]: issued this year.
            edit_card(&app, &holders[4].0, |c| (c.issued_on, c.last_control_on) = (years_ago(3), Some(this_year)));
            edit_card(&app, &holders[5].0, |c| c.issued_on = years_ago(3));
            let path = format!("/api/v1/citizens/{}/frikort/deactivate", holders[5].0);
            app.post(&path, &coordinator, &json!({ "reason": "Fraflyttet" })).await.expect(200);

            let q = queue(&app, &coordinator).await;
            let due = &q["cards_due_for_control"];
            // Oldest issue first.
            assert_eq!(ids(due, "citizen_id"), [holders[1].0.clone(), holders[0].0.clone()]);
            assert_eq!(column(due, "number"), json!([holders[1].1, holders[0].1]));
            assert_eq!(column(due, "citizen_name"), json!(["Borger 2", "Borger 1"]));
        }

        async fn another_municipalitys_work_never_appears_and_only_coordinators_read_the_queue(app) {
            let randers = app.coordinator(RANDERS);
            // In Aarhus: hours to confirm, a card holder over the cap and due for control, an old
            // offer, an accepted placement and an unverified company.
            let w = placed(&app, AARHUS, 1, "140.00").await;
            let aarhus = w.coordinator.clone();
            let report_id = reported(&app, &w.company, &w.placement, -7, "3.5").await;
            let cap = cap_ore(&app, &aarhus).await;
            pay(&app, &aarhus, &w.employment, cap).await;
            let two_years_ago = NaiveDate::from_ymd_opt(today().year() - 2, 6, 1).unwrap();
            edit_card(&app, &w.citizen_id, |c| c.issued_on = two_years_ago);
            let task = open_task(&app, &w.company, &task_body("Lagerhjælp", "140.00", 2, false)).await;
            let chased = app.enrol(&aarhus, &cpr(2), "Mette Jensen").await;
            let chased = offer(&app, &aarhus, &task, &chased).await;
            offered_hours_ago(&app, &chased, 72);
            let waiting = app.enrol(&aarhus, &cpr(3), "Ole Olsen").await;
            let accepted = offer(&app, &aarhus, &task, &waiting).await;
            accept(&app, &app.citizen(&waiting), &accepted).await;
            let body = json!({ "cvr": cvr(4), "name": "Ny Butik ApS", "contact": { "name": "Karen Bager" } });
            let r = app.post("/api/v1/companies", &aarhus, &body).await;
            r.expect(201);
            let unverified = id(&r.body);

            let q = queue(&app, &aarhus).await;
            assert_eq!(ids(&q["awaiting_approval"], "placement_id"), [accepted]);
            assert_eq!(ids(&q["unanswered_offers"], "placement_id"), [chased]);
            assert_eq!(ids(&q["unconfirmed_hours"], "report_id"), [report_id]);
            assert_eq!(ids(&q["companies_awaiting_verification"], "company_id"), [unverified]);
            assert_eq!(ids(&q["cards_due_for_control"], "citizen_id"), std::slice::from_ref(&w.citizen_id));
            assert_eq!(ids(&q["citizens_near_cap"], "citizen_id"), std::slice::from_ref(&w.citizen_id));

            let q = queue(&app, &randers).await;
            let lists = [
                "awaiting_approval", "unanswered_offers", "unconfirmed_hours",
                "companies_awaiting_verification", "cards_due_for_control", "citizens_near_cap",
            ];
            for list in lists {
                assert!(q[list].as_array().is_some_and(|l| l.is_empty()), "{list} in Randers: {q}");
            }

            let unregistered = app.company_cvr_token(&cvr(5));
            let others = [("company", &w.company), ("citizen", &w.citizen), ("unregistered company", &unregistered)];
            for (who, token) in others {
                refused(&app.get("/api/v1/queue", token).await, 403, "forbidden", who);
            }
            let r = app.send(awc::http::Method::GET, "/api/v1/queue", None, None, Vec::new()).await;
            r.expect_problem(401, "missing_token");
        }
    }
}

/// Time-to-placement statistics: the period, and what is counted in it.
mod placement_figures {
    use super::*;

    async fn stats_at(app: &TestApp, token: &str, query: &str) -> Resp {
        app.get(&format!("/api/v1/stats/placements{query}"), token).await
    }

    /// A citizen (enrolled with `seed`) offered, accepting and approved on `task`; the placement.
    pub(super) async fn place(app: &TestApp, coordinator: &str, task: &str, seed: u32) -> String {
        let citizen = app.enrol(coordinator, &cpr(seed), &format!("Borger {seed}")).await;
        let placement = offer(app, coordinator, task, &citizen).await;
        accept(app, &app.citizen(&citizen), &placement).await;
        approve(app, coordinator, &placement).await;
        placement
    }

    both_backends! {
        async fn the_statistics_period_is_checked_and_defaults_to_the_last_90_days(app) {
            let coordinator = app.coordinator(RANDERS);
            let r = stats_at(&app, &coordinator, &format!("?from={}&to={}", date(0), date(-1))).await;
            r.expect_problem(422, "validation");
            assert_eq!(field_codes(&r), [("from".to_owned(), "after_to".to_owned())], "{}", r.body);
            // At most ten years (3 660 days).
            let too_long = (day(0) - Duration::days(3_661)).to_string();
            let r = stats_at(&app, &coordinator, &format!("?from={too_long}&to={}", date(0))).await;
            r.expect_problem(422, "validation");
            assert_eq!(field_codes(&r), [("from".to_owned(), "period_too_long".to_owned())], "{}", r.body);
            let longest = (day(0) - Duration::days(3_660)).to_string();
            stats_at(&app, &coordinator, &format!("?from={longest}&to={}", date(0))).await.expect(200);
            stats_at(&app, &coordinator, &format!("?from={}&to={}", date(0), date(0))).await.expect(200);
            for bad in ["?from=2025-13-01", "?to=i-dag", "?from=2025-02-30", "?from=01-02-2025&to=2025-03-01"] {
                refused(&stats_at(&app, &coordinator, bad).await, 400, "invalid_query", bad);
            }

            // The last 90 days by default, or 90 days up to `to`, or `from` up to today.
            let periods = [
                (String::new(), date(-90), date(0)),
                (format!("?to={}", date(-10)), date(-100), date(-10)),
                (format!("?from={}", date(-5)), date(-5), date(0)),
            ];
            for (query, from, to) in periods {
                let r = stats_at(&app, &coordinator, &query).await;
                r.expect(200);
                assert_eq!(pick(&r.body["items"][0], &["municipality", "from", "to"]), json!([RANDERS, from, to]), "{query}");
                assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
                assert_eq!(pick(&r.body, &["total", "limit", "offset"]), json!([1, 50, 0]), "{query}");
            }

            // For coordinators only.
            let company = app.company(&verified_company(&app, &coordinator, 1).await);
            refused(&stats_at(&app, &company, "").await, 403, "forbidden", "company");
            let r = app.send(awc::http::Method::GET, "/api/v1/stats/placements", None, None, Vec::new()).await;
            r.expect_problem(401, "missing_token");
        }

        async fn time_to_placement_runs_from_a_tasks_opening_to_each_approval_in_the_period(app) {
            let coordinator = app.coordinator(RANDERS);
            let company = app.company(&verified_company(&app, &coordinator, 1).await);
            // Four positions filled 10, 1, 3 and 2 hours after the task opened, 30 hours ago.
            let busy = open_task(&app, &company, &task_body("Butikshjælp", "140.00", 4, false)).await;
            let mut placements = Vec::new();
            for seed in 1..=4 {
                placements.push(place(&app, &coordinator, &busy, seed).await);
            }
            let opened = hours_ago(30);
            edit_task(&app, &busy, |t| t.opened_at = Some(opened));
            for (placement, h) in placements.iter().zip([10, 1, 3, 2]) {
                edit_placement(&app, placement, |p| p.approved_at = Some(opened + Duration::hours(h)));
            }
            assert_eq!(approved_at(&app, &placements[1]), opened + Duration::hours(1));
            // One placed within the hour and cancelled after approval: still an approved placement.
            let dropped = open_task(&app, &company, &task_body("Lagerhjælp", "140.00", 1, false)).await;
            let cancelled = place(&app, &coordinator, &dropped, 5).await;
            let r = app.post(&format!("/api/v1/placements/{cancelled}/cancel"), &coordinator, &json!({})).await;
            r.expect(200);
            assert_eq!(r.body["state"], "cancelled");
            // An open task nobody is placed on yet, with two positions.
            open_task(&app, &company, &task_body("Kassehjælp", "140.00", 2, false)).await;
            // A task opened ten days ago, placed on an hour later: outside the period.
            let older = open_task(&app, &company, &task_body("Oprydning", "140.00", 1, false)).await;
            let placement = place(&app, &coordinator, &older, 6).await;
            let long_ago = hours_ago(240);
            edit_task(&app, &older, |t| t.opened_at = Some(long_ago));
            edit_placement(&app, &placement, |p| p.approved_at = Some(long_ago + Duration::hours(1)));
            // Another municipality's task, placed on in the period.
            let aarhus = app.coordinator(AARHUS);
            let other = app.company(&verified_company(&app, &aarhus, 2).await);
            let theirs = open_task(&app, &other, &task_body("Butikshjælp i Aarhus", "140.00", 1, false)).await;
            place(&app, &aarhus, &theirs, 7).await;

            let s = stats(&app, &coordinator, -3, 0).await;
            let counts = ["tasks_opened", "positions", "positions_filled", "placements_approved"];
            // The cancelled placement was approved (it counts in the times) but holds no position now.
            assert_eq!(pick(&s, &counts), json!([3, 7, 4, 5]), "{s}");
            // Hours 0, 1, 2, 3 and 10: nearest rank 3 of 5 and 5 of 5.
            assert_eq!(pick(&s, &["median_hours_to_placement", "p90_hours_to_placement"]), json!([2, 10]), "{s}");

            let s = stats(&app, &coordinator, -12, -9).await;
            assert_eq!(pick(&s, &counts), json!([1, 1, 1, 1]), "{s}");
            assert_eq!(pick(&s, &["median_hours_to_placement", "p90_hours_to_placement"]), json!([1, 1]), "{s}");
            let s = stats(&app, &aarhus, -3, 0).await;
            let theirs = pick(&s, &["municipality", "tasks_opened", "positions", "placements_approved"]);
            assert_eq!(theirs, json!([AARHUS, 1, 1, 1]), "{s}");
        }
    }
}

/// Found while writing these tests and fixed since (each runs on the backend where it showed).
mod found_and_fixed {
    use super::placement_figures::place;
    use super::racing::{at_once, outcomes};
    use super::*;
    use crate::support::{Backend, spawn};

    #[actix_web::test]
    async fn a_refilled_position_of_a_two_position_task_counts_once() {
        let app = spawn(Backend::Sqlite, "a_refilled_position_of_a_two_position_task_counts_once").await.unwrap();
        let coordinator = app.coordinator(RANDERS);
        let company = app.company(&verified_company(&app, &coordinator, 1).await);
        let task = open_task(&app, &company, &task_body("Butikshjælp", "140.00", 2, false)).await;
        let first = place(&app, &coordinator, &task, 1).await;
        let r = app.post(&format!("/api/v1/placements/{first}/cancel"), &coordinator, &json!({})).await;
        r.expect(200);
        // The freed position is filled by another; the second position stays open.
        place(&app, &coordinator, &task, 2).await;
        let r = app.get(&format!("/api/v1/tasks/{task}"), &coordinator).await;
        assert_eq!(pick(&r.body, &["positions", "positions_filled"]), json!([2, 1]));

        let s = stats(&app, &coordinator, -1, 0).await;
        assert_eq!(pick(&s, &["tasks_opened", "positions", "placements_approved"]), json!([1, 2, 2]), "{s}");
        assert_eq!(s["positions_filled"], 1, "one position, filled twice: {s}");
    }

    /// PostgreSQL only: SQLite serializes writers (`BEGIN IMMEDIATE`), so the race cannot happen there.
    #[actix_web::test]
    async fn simultaneous_re_reports_of_a_disputed_shift_make_one_report() {
        let name = "simultaneous_re_reports_of_a_disputed_shift_make_one_report";
        let Some(app) = spawn(Backend::Postgres, name).await else { return };
        let app = Rc::new(app);
        let w = placed(&app, RANDERS, 1, "140.00").await;
        let path = format!("/api/v1/placements/{}/hours", w.placement);
        let mut seen = Vec::new();
        for shift in [-7, -6, -5, -4, -3, -2, 0] {
            let report_id = reported(&app, &w.company, &w.placement, shift, "3").await;
            dispute(&app, &w.citizen, &report_id, "Jeg gik kl. 10").await.expect(200);
            let body = json!({ "shift_date": date(shift), "hours": "2" });
            let responses = at_once(&app, &path, &[&w.company, &w.coordinator, &w.company], &body).await;
            seen.push((shift, outcomes(&responses)));
        }
        let expected = vec![
            (201, String::new()),
            (409, "hours_already_reported".to_owned()),
            (409, "hours_already_reported".to_owned()),
        ];
        for (shift, outcome) in &seen {
            assert_eq!(outcome, &expected, "shift {shift}: one re-report is taken, the others refused; all: {seen:?}");
        }
    }
}
