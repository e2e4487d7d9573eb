//! Small jobs end to end: a company registers itself with its CVR token and is verified, drafts
//! and opens tasks; a coordinator matches citizens to them (offers, or turns interest into an
//! offer), citizens accept or decline, and the coordinator approves — each refusal of an approval
//! with its own code — or rejects. Dates are relative to today so the tests never go stale.

use std::rc::Rc;

use awc::http::Method;
use chrono::{Datelike, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use smaajob_api::auth::{Claims, Role};

use crate::both_backends;
#[allow(unused_imports)]
use crate::support::*;

/// The contact person a company registers with.
const COMPANY_CONTACT: &str = "Karen Bager";
/// The contact person named on tasks (the one an approval registers the employment with).
const TASK_CONTACT: &str = "Mette Mortensen";

// ---------------------------------------------------------------------------------------------
// Dates, people and bodies.

/// Today, as the test sees it (at most a day from Copenhagen's; every date used is days away).
fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// The day `offset` days from today.
fn day(offset: i64) -> NaiveDate {
    today() + Duration::days(offset)
}

/// Two consecutive days, a week or more ahead, in the same calendar year.
fn two_days_in_one_year() -> (NaiveDate, NaiveDate) {
    let first = day(7);
    if (first + Duration::days(1)).year() == first.year() {
        (first, first + Duration::days(1))
    } else {
        (day(8), day(9))
    }
}

/// A distinct CPR number of an adult born in 1990 (the 7th digit `1` puts it in the 1900s).
fn cpr_no(n: u32) -> String {
    format!("{:02}{:02}90-{:04}", 1 + n % 28, 1 + (n / 28) % 12, 1000 + n)
}

fn single(date: NaiveDate, start: &str, end: &str) -> Value {
    json!({ "kind": "single", "date": date, "start": start, "end": end })
}

fn weekly(weekdays: &[&str], start: &str, end: &str, from: NaiveDate, to: NaiveDate) -> Value {
    json!({ "kind": "weekly", "weekdays": weekdays, "start": start, "end": end, "from": from, "to": to })
}

/// A valid task: one shift 08:00–12:00 ten days ahead, 3.5 paid hours at 140 kr, one position.
fn task_body() -> Value {
    json!({
        "title": "Hjælp i bageriet lørdag formiddag",
        "description": "Fold kagekasser, fyld hylder op og fej gulv.",
        "required_skills": ["Opvask", "kundeservice"],
        "place": { "address": "Vestergade 1, 8900 Randers", "lat": 56.4607, "lon": 10.0364 },
        "schedule": single(day(10), "08:00", "12:00"),
        "hours_per_shift": "3.5",
        "hourly_wage": "140.00",
        "positions": 1,
        "frikort_only": false,
        "contact": { "name": TASK_CONTACT, "phone": "+4512345678" },
    })
}

/// `body` with the top-level fields of `changes` replaced.
fn with(mut body: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().expect("an object of changes") {
        body[k] = v.clone();
    }
    body
}

/// A task body with one shift on `date` from `start` to `end`, `hours` paid at `wage`.
fn shift(date: NaiveDate, start: &str, end: &str, hours: &str, wage: &str) -> Value {
    with(task_body(), json!({ "schedule": single(date, start, end), "hours_per_shift": hours, "hourly_wage": wage }))
}

/// The ids of a page's items.
fn ids(page: &Value) -> Vec<String> {
    let mut ids: Vec<String> = page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {page}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// An amount in øre, from the API's decimal string.
fn ore(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not an amount: {v}"));
    let (kroner, ore) = s.split_once('.').unwrap();
    kroner.parse::<i64>().unwrap() * 100 + ore.parse::<i64>().unwrap()
}

fn kr(ore: i64) -> String {
    format!("{}.{:02}", ore / 100, ore % 100)
}

// ---------------------------------------------------------------------------------------------
// Setup through the API.

/// A coordinator of 730, and a company that registered itself with its CVR token and was
/// verified.
struct World {
    coord: String,
    company_id: String,
    company: String,
}

async fn register_self(app: &TestApp, token: &str, name: &str) -> Resp {
    app.post(
        "/api/v1/companies/self",
        token,
        &json!({
            "name": name, "municipality": "730",
            "contact": { "name": COMPANY_CONTACT, "email": "karen@bager.dk" },
        }),
    )
    .await
}

/// Registers a company with a CVR token and has a coordinator verify it: (id, CVR token).
async fn verified_company(app: &TestApp, coord: &str, seed: u32, name: &str) -> (String, String) {
    let token = app.company_cvr_token(&cvr(seed));
    let r = register_self(app, &token, name).await;
    r.expect(201);
    let id = r.body["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/api/v1/companies/{id}"), coord, &json!({ "verified": true })).await.expect(200);
    (id, token)
}

async fn world(app: &TestApp) -> World {
    let coord = app.coordinator("730");
    let (company_id, company) = verified_company(app, &coord, 1, "Bager Hansen ApS").await;
    World { coord, company_id, company }
}

async fn create_task(app: &TestApp, token: &str, body: &Value) -> Value {
    let r = app.post("/api/v1/tasks", token, body).await;
    r.expect(201);
    r.body.clone()
}

/// Creates and opens a task; returns its id.
async fn open_task(app: &TestApp, token: &str, body: &Value) -> String {
    let id = create_task(app, token, body).await["id"].as_str().unwrap().to_owned();
    let r = app.post(&format!("/api/v1/tasks/{id}/open"), token, &json!({})).await;
    r.expect(200);
    assert_eq!(r.body["status"], "open");
    id
}

async fn task(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/tasks/{id}"), token).await;
    r.expect(200);
    r.body.clone()
}

async fn task_action(app: &TestApp, token: &str, id: &str, action: &str) -> Resp {
    app.post(&format!("/api/v1/tasks/{id}/{action}"), token, &json!({})).await
}

/// A citizen of the coordinator's municipality without a card.
async fn person(app: &TestApp, coord: &str, n: u32) -> String {
    app.enrol(coord, &cpr_no(n), &format!("Borger {n}")).await
}

/// A citizen of the coordinator's municipality with a card valid from today.
async fn holder(app: &TestApp, coord: &str, n: u32) -> String {
    let id = person(app, coord, n).await;
    app.issue_card(coord, &id).await;
    id
}

/// A citizen without a card who works at most `hours` a week.
async fn limited(app: &TestApp, coord: &str, n: u32, hours: u8) -> String {
    let body = json!({
        "cpr": cpr_no(n), "name": format!("Borger {n}"),
        "availability": { "slots": [], "max_hours_per_week": hours },
    });
    let r = app.post("/api/v1/citizens", coord, &body).await;
    r.expect(201);
    r.body["id"].as_str().unwrap().to_owned()
}

/// The coordinator offers the task to the citizen; returns the placement's id.
async fn offered(app: &TestApp, coord: &str, task: &str, citizen: &str) -> String {
    let r = app.post("/api/v1/placements", coord, &json!({ "task_id": task, "citizen_id": citizen })).await;
    r.expect(201);
    assert_eq!(r.body["state"], "offered");
    r.body["id"].as_str().unwrap().to_owned()
}

/// Offered and accepted by the citizen; returns the placement's id.
async fn accepted(app: &TestApp, coord: &str, task: &str, citizen: &str) -> String {
    let id = offered(app, coord, task, citizen).await;
    let r = app.post(&format!("/api/v1/me/offers/{id}/accept"), &app.citizen(citizen), &json!({})).await;
    r.expect(200);
    assert_eq!(r.body["state"], "accepted");
    id
}

async fn approve(app: &TestApp, coord: &str, placement: &str) -> Resp {
    app.post(&format!("/api/v1/placements/{placement}/approve"), coord, &json!({})).await
}

/// Offered, accepted and approved; returns the approval.
async fn approved(app: &TestApp, coord: &str, task: &str, citizen: &str) -> Value {
    let id = accepted(app, coord, task, citizen).await;
    let r = approve(app, coord, &id).await;
    r.expect(200);
    assert_eq!(r.body["placement"]["state"], "approved");
    r.body.clone()
}

async fn placement(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/placements/{id}"), token).await;
    r.expect(200);
    r.body.clone()
}

async fn step(app: &TestApp, token: &str, path: &str) -> Resp {
    app.post(path, token, &json!({})).await
}

/// The actions of the audit entries about one target, newest first.
async fn audit_actions(app: &TestApp, coord: &str, target: &str) -> Vec<String> {
    let r = app.get(&format!("/api/v1/audit?target_id={target}"), coord).await;
    r.expect(200);
    r.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

/// This year's (or the given year's) cap in øre.
async fn cap_ore(app: &TestApp, token: &str, year: i32) -> i64 {
    let r = app.get(&format!("/api/v1/caps/{year}"), token).await;
    r.expect(200);
    ore(&r.body["amount"])
}

/// The approved placements of a task, as the coordinator lists them.
async fn approved_on(app: &TestApp, coord: &str, task: &str) -> usize {
    let r = app.get("/api/v1/placements?state=approved&limit=200", coord).await;
    r.expect(200);
    r.body["items"].as_array().unwrap().iter().filter(|p| p["task_id"] == task).count()
}

// ---------------------------------------------------------------------------------------------
// Company self-service.

mod self_service {
    use super::*;

    both_backends! {
        async fn a_company_registers_itself_with_its_cvr_token_and_starts_unverified(app) {
            let coord = app.coordinator("730");
            let token = app.company_cvr_token(CVR_A);
            app.get("/api/v1/companies/self", &token).await.expect_problem(403, "forbidden");
            let r = register_self(&app, &token, "Bager Hansen ApS").await;
            r.expect(201);
            let id = r.body["id"].as_str().unwrap().to_owned();
            assert_eq!(r.header("location"), Some(format!("/api/v1/companies/{id}").as_str()));
            assert_eq!(r.body["cvr"], CVR_A);
            assert_eq!(r.body["name"], "Bager Hansen ApS");
            assert_eq!((&r.body["verified"], &r.body["verification"]), (&json!(false), &json!("unverified")));
            assert_eq!(r.body["contact"]["name"], COMPANY_CONTACT);
            assert_eq!(r.body["municipality"], "730", "the municipality whose coordinators verify it is shown");
            let me = app.get("/api/v1/companies/self", &token).await;
            me.expect(200);
            assert_eq!(me.body["id"], id.as_str());
            assert_eq!(me.body["municipality"], "730");
            assert_eq!(me.body["verification"], "unverified");
            // Another person of the same company (same CVR, other subject) reaches the same record.
            let colleague = app.company_cvr_token_as(CVR_A, "someone-else-at-bager-hansen");
            assert_eq!(app.get("/api/v1/companies/self", &colleague).await.body["id"], id.as_str());
            // The municipality's coordinators find it among the unverified and in their audit log.
            let list = app.get("/api/v1/companies?verification=unverified", &coord).await;
            assert_eq!(ids(&list.body), vec![id.clone()]);
            assert!(audit_actions(&app, &coord, &id).await.contains(&"company.registered".to_owned()));
        }

        async fn a_cvr_token_of_an_unregistered_company_may_only_register_it(app) {
            let coord = app.coordinator("730");
            let other = app.register_company(&coord, &cvr(7), "Anden ApS").await;
            let token = app.company_cvr_token(&cvr(1));
            for path in ["/api/v1/companies/self", "/api/v1/tasks", "/api/v1/placements", "/api/v1/employments"] {
                app.get(path, &token).await.expect_problem(403, "forbidden");
            }
            app.get(&format!("/api/v1/companies/{other}"), &token).await.expect_problem(403, "forbidden");
            app.post("/api/v1/tasks", &token, &task_body()).await.expect_problem(403, "forbidden");
            let (_, company) = verified_company(&app, &coord, 2, "Tredje ApS").await;
            let t = open_task(&app, &company, &task_body()).await;
            app.get(&format!("/api/v1/tasks/{t}"), &token).await.expect_problem(403, "forbidden");
            register_self(&app, &token, "Ny Virksomhed ApS").await.expect(201);
            app.get("/api/v1/companies/self", &token).await.expect(200);
            let own = app.get("/api/v1/tasks", &token).await;
            own.expect(200);
            assert_eq!(own.body["total"], 0, "a new company sees none of the others' tasks");
        }

        async fn registering_with_a_cvr_other_than_the_tokens_is_forbidden(app) {
            let token = app.company_cvr_token(&cvr(1));
            let body = |cvr: &str| json!({
                "cvr": cvr, "name": "Bager Hansen ApS", "municipality": "730", "contact": { "name": COMPANY_CONTACT }
            });
            app.post("/api/v1/companies/self", &token, &body(&cvr(2))).await.expect_problem(403, "forbidden");
            app.get("/api/v1/companies/self", &token).await.expect_problem(403, "forbidden");
            let r = app.post("/api/v1/companies/self", &token, &body("12345678")).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["cvr"]);
            let r = app.post("/api/v1/companies/self", &token, &body(&cvr(1))).await;
            r.expect(201);
            assert_eq!(r.body["cvr"], cvr(1).as_str());
        }

        async fn self_registration_checks_its_fields_and_is_for_company_tokens_only(app) {
            let coord = app.coordinator("730");
            let token = app.company_cvr_token(&cvr(1));
            let r = app.post("/api/v1/companies/self", &token, &json!({
                "name": "Bager Hansen ApS", "municipality": "999", "postcode": "89", "contact": { "name": "" }
            })).await;
            r.expect_problem(422, "validation");
            assert_eq!(sorted(r.error_fields()), ["contact.name", "municipality", "postcode"]);
            let no_municipality = json!({ "name": "X", "contact": { "name": "Y" } });
            let r = app.post("/api/v1/companies/self", &token, &no_municipality).await;
            r.expect_problem(422, "validation");
            app.get("/api/v1/companies/self", &token).await.expect_problem(403, "forbidden");
            let citizen = app.citizen(&person(&app, &coord, 1).await);
            for t in [&coord, &citizen] {
                register_self(&app, t, "Bager Hansen ApS").await.expect_problem(403, "forbidden");
                app.get("/api/v1/companies/self", t).await.expect_problem(403, "forbidden");
            }
            assert_eq!(app.get("/api/v1/companies", &coord).await.body["total"], 0, "nothing was registered");
        }

        async fn a_token_whose_cvr_claim_is_not_a_valid_cvr_is_refused(app) {
            for bad in ["12345678", "1015081", "01234567", "abcdefgh"] {
                let token = app.company_cvr_token(bad);
                register_self(&app, &token, "Bager Hansen ApS").await.expect_problem(401, "invalid_token");
                app.get("/api/v1/companies/self", &token).await.expect_problem(401, "invalid_token");
            }
        }

        async fn registering_a_company_twice_is_a_conflict(app) {
            let coord = app.coordinator("730");
            let token = app.company_cvr_token(&cvr(1));
            register_self(&app, &token, "Bager Hansen ApS").await.expect(201);
            register_self(&app, &token, "Bager Hansen ApS").await.expect_problem(409, "company_exists");
            let colleague = app.company_cvr_token_as(&cvr(1), "another-employee");
            register_self(&app, &colleague, "Bager Hansen 2 ApS").await.expect_problem(409, "company_exists");
            // A company a coordinator registered cannot register itself again either.
            app.register_company(&coord, &cvr(2), "Slagter Jensen").await;
            let token = app.company_cvr_token(&cvr(2));
            register_self(&app, &token, "Slagter Jensen").await.expect_problem(409, "company_exists");
            assert_eq!(app.get("/api/v1/companies", &coord).await.body["total"], 2);
        }

        async fn an_unverified_company_drafts_tasks_and_opens_them_once_a_coordinator_verifies_it(app) {
            let coord = app.coordinator("730");
            let token = app.company_cvr_token(&cvr(1));
            let id = register_self(&app, &token, "Bager Hansen ApS").await.body["id"].as_str().unwrap().to_owned();
            let draft = create_task(&app, &token, &task_body()).await;
            assert_eq!((&draft["status"], &draft["company_verified"]), (&json!("draft"), &json!(false)));
            let t = draft["id"].as_str().unwrap();
            task_action(&app, &token, t, "open").await.expect_problem(409, "company_not_verified");
            task_action(&app, &coord, t, "open").await.expect_problem(409, "company_not_verified");
            assert_eq!(task(&app, &token, t).await["status"], "draft");
            // Rejecting needs a reason; without one nothing changes.
            let r = app.patch(&format!("/api/v1/companies/{id}"), &coord, &json!({ "verified": false })).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["verification_reason"]);
            let r = app.patch(&format!("/api/v1/companies/{id}"), &coord, &json!({
                "verified": false, "verification_reason": "   "
            })).await;
            r.expect_problem(422, "validation");
            assert_eq!(app.get("/api/v1/companies/self", &token).await.body["verification"], "unverified");
            let r = app.patch(&format!("/api/v1/companies/{id}"), &coord, &json!({ "verified": true })).await;
            r.expect(200);
            assert_eq!((&r.body["verified"], &r.body["verification"]), (&json!(true), &json!("verified")));
            assert_eq!(app.get("/api/v1/companies/self", &token).await.body["verified"], true);
            let opened = task_action(&app, &token, t, "open").await;
            opened.expect(200);
            assert_eq!((&opened.body["status"], &opened.body["company_verified"]), (&json!("open"), &json!(true)));
        }

        async fn a_rejected_company_sees_the_reason_and_cannot_open_tasks(app) {
            let coord = app.coordinator("730");
            let token = app.company_cvr_token(&cvr(1));
            let id = register_self(&app, &token, "Bager Hansen ApS").await.body["id"].as_str().unwrap().to_owned();
            let t = create_task(&app, &token, &task_body()).await["id"].as_str().unwrap().to_owned();
            let r = app.patch(&format!("/api/v1/companies/{id}"), &coord, &json!({
                "verified": false, "verification_reason": "CVR-nummeret er ophørt"
            })).await;
            r.expect(200);
            let me = app.get("/api/v1/companies/self", &token).await;
            assert_eq!((&me.body["verified"], &me.body["verification"]), (&json!(false), &json!("rejected")));
            assert_eq!(me.body["verification_reason"], "CVR-nummeret er ophørt");
            task_action(&app, &token, &t, "open").await.expect_problem(409, "company_not_verified");
            assert_eq!(task(&app, &coord, &t).await["status"], "draft");
        }

        async fn a_registered_companys_token_is_scoped_to_that_company(app) {
            let coord = app.coordinator("730");
            let (a, token_a) = verified_company(&app, &coord, 1, "Alfa ApS").await;
            let (b, _) = verified_company(&app, &coord, 2, "Bravo ApS").await;
            assert_eq!(app.get("/api/v1/companies/self", &token_a).await.body["id"], a.as_str());
            app.get(&format!("/api/v1/companies/{a}"), &token_a).await.expect(200);
            app.get(&format!("/api/v1/companies/{b}"), &token_a).await.expect_problem(404, "not_found");
            app.get("/api/v1/companies", &token_a).await.expect_problem(403, "forbidden");
            app.patch(&format!("/api/v1/companies/{a}"), &token_a, &json!({ "verified": true }))
                .await
                .expect_problem(403, "forbidden");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tasks.

mod tasks {
    use super::*;

    both_backends! {
        async fn a_company_creates_a_single_shift_task_as_a_draft(app) {
            let w = world(&app).await;
            let date = day(10);
            let r = app.post("/api/v1/tasks", &w.company, &with(task_body(), json!({ "positions": 2 }))).await;
            r.expect(201);
            let v = r.body.clone();
            let id = v["id"].as_str().unwrap();
            assert_eq!(r.header("location"), Some(format!("/api/v1/tasks/{id}").as_str()));
            assert_eq!(v["status"], "draft");
            assert_eq!(v["company_id"], w.company_id.as_str());
            assert_eq!(v["company_name"], "Bager Hansen ApS");
            assert_eq!(v["company_verified"], true);
            assert_eq!(v["municipality"], "730");
            assert_eq!(v["schedule"], json!({
                "kind": "single", "date": date, "weekdays": null, "start": "08:00", "end": "12:00",
                "from": null, "to": null
            }));
            assert_eq!(v["shifts"], 1);
            assert_eq!((&v["hours_per_shift"], &v["hourly_wage"]), (&json!("3.50"), &json!("140.00")));
            assert_eq!((&v["positions"], &v["positions_filled"]), (&json!(2), &json!(0)));
            assert_eq!(v["required_skills"], json!(["kundeservice", "opvask"]));
            assert_eq!(v["contact"]["name"], TASK_CONTACT);
            assert_eq!(v["frikort_only"], false);
            assert!(v["opened_at"].is_null() && v["filled_at"].is_null() && v["closed_at"].is_null());
            assert_eq!(task(&app, &w.company, id).await, v);
            assert_eq!(task(&app, &w.coord, id).await, v);
            assert_eq!(audit_actions(&app, &w.coord, id).await, ["task.created"]);
        }

        async fn a_company_creates_a_weekly_task_and_the_view_counts_its_shifts(app) {
            let w = world(&app).await;
            // 28 days hold every weekday exactly four times.
            let (from, to) = (day(7), day(34));
            let body = with(task_body(), json!({
                "schedule": weekly(&["sun", "sat", "sat"], "09:00", "13:00", from, to),
                "hours_per_shift": "4", "hourly_wage": "152.50", "frikort_only": true,
            }));
            let v = create_task(&app, &w.company, &body).await;
            assert_eq!(v["status"], "draft");
            assert_eq!(v["schedule"], json!({
                "kind": "weekly", "date": null, "weekdays": ["sat", "sun"], "start": "09:00", "end": "13:00",
                "from": from, "to": to
            }));
            assert_eq!(v["shifts"], 8);
            assert_eq!((&v["hours_per_shift"], &v["hourly_wage"]), (&json!("4.00"), &json!("152.50")));
            assert_eq!(v["frikort_only"], true);
            let list = app.get("/api/v1/tasks?status=draft", &w.company).await;
            assert_eq!(ids(&list.body), vec![v["id"].as_str().unwrap().to_owned()]);
        }

        async fn every_invalid_task_field_is_refused_with_422_and_nothing_is_written(app) {
            let w = world(&app).await;
            let d = day(10);
            let cases: Vec<(&str, Value, &str, &str)> = vec![
                ("end before start", json!({ "schedule": single(d, "12:00", "08:00") }),
                    "schedule", "schedule_end_not_after_start"),
                ("end at start", json!({ "schedule": single(d, "08:00", "08:00") }),
                    "schedule", "schedule_end_not_after_start"),
                ("weekly to before from", json!({ "schedule": weekly(&["sat"], "08:00", "12:00", d, day(3)) }),
                    "schedule", "schedule_to_before_from"),
                ("no weekdays", json!({ "schedule": weekly(&[], "08:00", "12:00", d, day(40)) }),
                    "schedule", "schedule_no_weekdays"),
                ("bad weekday", json!({ "schedule": weekly(&["saturday"], "08:00", "12:00", d, day(40)) }),
                    "schedule.weekdays[0]", "weekday"),
                ("unknown weekday", json!({ "schedule": weekly(&["sat", "xyz"], "08:00", "12:00", d, day(40)) }),
                    "schedule.weekdays[1]", "weekday"),
                ("bad time", json!({ "schedule": single(d, "8", "12:00") }), "schedule.start", "time_format"),
                ("bad kind", json!({ "schedule": { "kind": "monthly", "start": "08:00", "end": "12:00" } }),
                    "schedule.kind", "schedule_kind"),
                ("wage below floor", json!({ "hourly_wage": "129.99" }), "hourly_wage", "below_wage_floor"),
                ("hours beyond the shift", json!({ "hours_per_shift": "4.5" }),
                    "hours_per_shift", "hours_exceed_shift"),
                ("positions 0", json!({ "positions": 0 }), "positions", "out_of_range"),
                ("positions 101", json!({ "positions": 101 }), "positions", "out_of_range"),
                ("empty title", json!({ "title": "  " }), "title", ""),
            ];
            for (what, changes, field, code) in cases {
                let r = app.post("/api/v1/tasks", &w.company, &with(task_body(), changes)).await;
                assert_eq!(r.status, 422, "{what}: {}", r.body);
                r.expect_problem(422, "validation");
                let errors = r.body["errors"].as_array().unwrap();
                assert!(
                    errors.iter().any(|e| e["field"] == field && (code.is_empty() || e["code"] == code)),
                    "{what}: expected {field}/{code} in {}", r.body
                );
            }
            let mut no_title = task_body();
            no_title.as_object_mut().unwrap().remove("title");
            let r = app.post("/api/v1/tasks", &w.company, &no_title).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["body"]);
            assert_eq!(app.get("/api/v1/tasks", &w.company).await.body["total"], 0);
            assert_eq!(app.get("/api/v1/tasks", &w.coord).await.body["total"], 0);
            let audit = app.get("/api/v1/audit?action=task.created", &w.coord).await;
            assert_eq!(audit.body["items"], json!([]));
            // The boundaries themselves are fine.
            let edge = with(task_body(), json!({ "hourly_wage": "130.00", "hours_per_shift": "4", "positions": 100 }));
            let v = create_task(&app, &w.company, &edge).await;
            assert_eq!(
                (&v["hourly_wage"], &v["hours_per_shift"], &v["positions"]),
                (&json!("130.00"), &json!("4.00"), &json!(100))
            );
            assert_eq!(app.get("/api/v1/tasks", &w.company).await.body["total"], 1);
        }

        async fn a_task_goes_from_draft_to_open_to_completed_and_illegal_steps_are_409(app) {
            let w = world(&app).await;
            let t = create_task(&app, &w.company, &task_body()).await["id"].as_str().unwrap().to_owned();
            task_action(&app, &w.company, &t, "complete").await.expect_problem(409, "illegal_transition");
            let citizen = app.citizen(&person(&app, &w.coord, 1).await);
            task_action(&app, &citizen, &t, "open").await.expect_problem(403, "forbidden");
            let r = task_action(&app, &w.company, &t, "open").await;
            r.expect(200);
            assert_eq!(r.body["status"], "open");
            assert!(r.body["opened_at"].is_string());
            task_action(&app, &w.company, &t, "open").await.expect_problem(409, "illegal_transition");
            let r = task_action(&app, &w.coord, &t, "complete").await;
            r.expect(200);
            assert_eq!(r.body["status"], "completed");
            assert!(r.body["closed_at"].is_string());
            for action in ["open", "complete", "cancel"] {
                task_action(&app, &w.company, &t, action).await.expect_problem(409, "illegal_transition");
            }
            assert_eq!(audit_actions(&app, &w.coord, &t).await, ["task.complete", "task.open", "task.created"]);
            // A draft can be cancelled, with a reason; a cancelled task goes nowhere.
            let c = create_task(&app, &w.company, &task_body()).await["id"].as_str().unwrap().to_owned();
            let why = json!({ "reason": "Ovnen er i stykker" });
            let r = app.post(&format!("/api/v1/tasks/{c}/cancel"), &w.company, &why).await;
            r.expect(200);
            assert_eq!((&r.body["status"], &r.body["close_reason"]), (&json!("cancelled"), &why["reason"]));
            for action in ["open", "complete", "cancel"] {
                task_action(&app, &w.company, &c, action).await.expect_problem(409, "illegal_transition");
            }
            assert_eq!(audit_actions(&app, &w.coord, &c).await, ["task.cancel", "task.created"]);
            // A task whose every shift lies in the past cannot open.
            let past = shift(day(-10), "08:00", "12:00", "4", "140.00");
            let p = create_task(&app, &w.company, &past).await["id"].as_str().unwrap().to_owned();
            task_action(&app, &w.company, &p, "open").await.expect_problem(422, "schedule_in_past");
            assert_eq!(task(&app, &w.company, &p).await["status"], "draft");
        }

        async fn only_draft_tasks_can_be_changed(app) {
            let w = world(&app).await;
            let t = create_task(&app, &w.company, &task_body()).await["id"].as_str().unwrap().to_owned();
            let path = format!("/api/v1/tasks/{t}");
            let (from, to) = (day(7), day(20));
            let r = app.patch(&path, &w.company, &json!({
                "title": "Oprydning efter markedsdag", "hourly_wage": "150.00", "positions": 3,
                "schedule": weekly(&["sat"], "08:00", "12:00", from, to)
            })).await;
            r.expect(200);
            assert_eq!(r.body["title"], "Oprydning efter markedsdag");
            assert_eq!(
                (&r.body["hourly_wage"], &r.body["positions"], &r.body["shifts"]),
                (&json!("150.00"), &json!(3), &json!(2))
            );
            assert_eq!(r.body["hours_per_shift"], "3.50", "absent fields stay");
            // A shorter shift than the stored paid hours, and a wage below the floor: nothing changes.
            let shorter = json!({ "schedule": single(day(9), "08:00", "10:00") });
            let r = app.patch(&path, &w.company, &shorter).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.body["errors"][0]["code"], "hours_exceed_shift");
            app.patch(&path, &w.company, &json!({ "hourly_wage": "100.00" })).await.expect_problem(422, "validation");
            app.patch(&path, &w.company, &json!({ "positions": 0 })).await.expect_problem(422, "validation");
            let v = task(&app, &w.company, &t).await;
            assert_eq!((&v["hourly_wage"], &v["shifts"], &v["positions"]), (&json!("150.00"), &json!(2), &json!(3)));
            let citizen = app.citizen(&person(&app, &w.coord, 1).await);
            app.patch(&path, &citizen, &json!({ "title": "X" })).await.expect_problem(403, "forbidden");
            task_action(&app, &w.company, &t, "open").await.expect(200);
            let retitle = json!({ "title": "Ny titel" });
            app.patch(&path, &w.company, &retitle).await.expect_problem(409, "task_not_editable");
            app.patch(&path, &w.coord, &json!({ "positions": 1 })).await.expect_problem(409, "task_not_editable");
            assert_eq!(task(&app, &w.company, &t).await["title"], "Oprydning efter markedsdag");
            task_action(&app, &w.company, &t, "cancel").await.expect(200);
            let retitle = json!({ "title": "Ny titel" });
            app.patch(&path, &w.company, &retitle).await.expect_problem(409, "task_not_editable");
            let actions = audit_actions(&app, &w.coord, &t).await;
            assert_eq!(actions, ["task.cancel", "task.open", "task.updated", "task.created"]);
        }

        async fn a_company_cannot_see_or_touch_another_companys_task(app) {
            let w = world(&app).await;
            let (b_id, b) = verified_company(&app, &w.coord, 2, "Bravo ApS").await;
            let t = create_task(&app, &b, &task_body()).await["id"].as_str().unwrap().to_owned();
            app.get(&format!("/api/v1/tasks/{t}"), &w.company).await.expect_problem(404, "not_found");
            app.patch(&format!("/api/v1/tasks/{t}"), &w.company, &json!({ "title": "Mit" }))
                .await
                .expect_problem(404, "not_found");
            for action in ["open", "complete", "cancel"] {
                task_action(&app, &w.company, &t, action).await.expect_problem(404, "not_found");
            }
            assert_eq!(app.get("/api/v1/tasks", &w.company).await.body["total"], 0);
            assert_eq!(ids(&app.get("/api/v1/tasks", &b).await.body), vec![t.clone()]);
            let r = app.post("/api/v1/tasks", &w.company, &with(task_body(), json!({ "company_id": b_id }))).await;
            r.expect_problem(403, "forbidden");
            assert_eq!(task(&app, &b, &t).await["status"], "draft");
        }

        async fn a_coordinator_sees_only_the_tasks_of_their_municipality(app) {
            let w = world(&app).await;
            let aarhus = app.coordinator("751");
            let t = open_task(&app, &w.company, &task_body()).await;
            app.get(&format!("/api/v1/tasks/{t}"), &aarhus).await.expect_problem(404, "not_found");
            task_action(&app, &aarhus, &t, "cancel").await.expect_problem(404, "not_found");
            assert_eq!(app.get("/api/v1/tasks", &aarhus).await.body["total"], 0);
            assert_eq!(ids(&app.get("/api/v1/tasks", &w.coord).await.body), vec![t.clone()]);
            // Aarhus drafts a task for the same company, in Aarhus; Randers does not see it.
            let body = with(task_body(), json!({ "company_id": w.company_id }));
            let a = create_task(&app, &aarhus, &body).await;
            assert_eq!(a["municipality"], "751");
            let a = a["id"].as_str().unwrap().to_owned();
            app.get(&format!("/api/v1/tasks/{a}"), &w.coord).await.expect_problem(404, "not_found");
            assert_eq!(ids(&app.get("/api/v1/tasks", &aarhus).await.body), vec![a.clone()]);
            assert_eq!(ids(&app.get("/api/v1/tasks", &w.coord).await.body), vec![t.clone()]);
            // The company sees both of its tasks; Aarhus cannot draft one for Randers.
            assert_eq!(ids(&app.get("/api/v1/tasks", &w.company).await.body), sorted(vec![t, a]));
            let r = app.post("/api/v1/tasks", &aarhus, &with(body, json!({ "municipality": "730" }))).await;
            r.expect_problem(403, "forbidden");
        }

        async fn citizens_see_open_tasks_of_their_municipality_and_frikort_only_ones_with_an_active_card(app) {
            let w = world(&app).await;
            let aarhus = app.coordinator("751");
            let plain = open_task(&app, &w.company, &task_body()).await;
            let frikort = open_task(&app, &w.company, &with(task_body(), json!({ "frikort_only": true }))).await;
            let draft = create_task(&app, &w.company, &task_body()).await["id"].as_str().unwrap().to_owned();
            let cancelled = open_task(&app, &w.company, &task_body()).await;
            task_action(&app, &w.company, &cancelled, "cancel").await.expect(200);
            let in_aarhus = open_task(&app, &w.company, &with(task_body(), json!({ "municipality": "751" }))).await;
            let no_card = person(&app, &w.coord, 1).await;
            let card = holder(&app, &w.coord, 2).await;
            let deactivated = holder(&app, &w.coord, 3).await;
            app.post(&format!("/api/v1/citizens/{deactivated}/frikort/deactivate"), &w.coord, &json!({
                "reason": "Har fået SU-berettigende uddannelse"
            })).await.expect(200);
            let aarhusianer = holder(&app, &aarhus, 4).await;
            let sees = |c: &str| {
                let (app, token) = (&app, app.citizen(c));
                async move {
                    let r = app.get("/api/v1/me/tasks", &token).await;
                    r.expect(200);
                    assert_eq!(r.body["total"], r.body["items"].as_array().unwrap().len());
                    ids(&r.body)
                }
            };
            assert_eq!(sees(&no_card).await, vec![plain.clone()]);
            assert_eq!(sees(&card).await, sorted(vec![plain.clone(), frikort.clone()]));
            assert_eq!(sees(&deactivated).await, vec![plain.clone()]);
            assert_eq!(sees(&aarhusianer).await, vec![in_aarhus.clone()]);
            let card_t = app.citizen(&card);
            app.get(&format!("/api/v1/tasks/{plain}"), &card_t).await.expect(200);
            for hidden in [&draft, &cancelled, &in_aarhus] {
                app.get(&format!("/api/v1/tasks/{hidden}"), &card_t).await.expect_problem(404, "not_found");
            }
            app.get("/api/v1/tasks", &card_t).await.expect_problem(403, "forbidden");
            // Interest: only in tasks the citizen sees, once.
            let interest = |c: &str, t: &str| {
                let (app, token, path) = (&app, app.citizen(c), format!("/api/v1/me/tasks/{t}/interest"));
                async move { app.post(&path, &token, &json!({})).await }
            };
            interest(&no_card, &frikort).await.expect_problem(404, "not_found");
            interest(&deactivated, &frikort).await.expect_problem(404, "not_found");
            interest(&card, &draft).await.expect_problem(404, "not_found");
            interest(&aarhusianer, &plain).await.expect_problem(404, "not_found");
            // Nor can either municipality's coordinator offer across the border.
            let across = json!({ "task_id": plain, "citizen_id": aarhusianer });
            app.post("/api/v1/placements", &w.coord, &across).await.expect_problem(404, "not_found");
            app.post("/api/v1/placements", &aarhus, &across).await.expect_problem(404, "not_found");
            let r = interest(&card, &frikort).await;
            r.expect(201);
            assert_eq!((&r.body["state"], &r.body["task_id"]), (&json!("interested"), &json!(frikort.as_str())));
            assert!(r.body["interested_at"].is_string() && r.body["offered_at"].is_null());
            interest(&card, &frikort).await.expect_problem(409, "placement_exists");
            interest(&no_card, &plain).await.expect(201);
        }

        async fn cancelling_a_task_cancels_its_live_placements(app) {
            let w = world(&app).await;
            let t = open_task(&app, &w.company, &with(task_body(), json!({ "positions": 3 }))).await;
            let c: Vec<String> = {
                let mut c = Vec::new();
                for n in 1..=5 {
                    c.push(person(&app, &w.coord, n).await);
                }
                c
            };
            let interested = app.post(&format!("/api/v1/me/tasks/{t}/interest"), &app.citizen(&c[0]), &json!({})).await;
            let interested = interested.body["id"].as_str().unwrap().to_owned();
            let offer = offered(&app, &w.coord, &t, &c[1]).await;
            let accept = accepted(&app, &w.coord, &t, &c[2]).await;
            let approval = approved(&app, &w.coord, &t, &c[3]).await;
            let approve_id = approval["placement"]["id"].as_str().unwrap().to_owned();
            let declined = offered(&app, &w.coord, &t, &c[4]).await;
            step(&app, &app.citizen(&c[4]), &format!("/api/v1/me/offers/{declined}/decline")).await.expect(200);
            assert_eq!(task(&app, &w.coord, &t).await["positions_filled"], 1);
            let why = json!({ "reason": "Butikken lukker" });
            let r = app.post(&format!("/api/v1/tasks/{t}/cancel"), &w.coord, &why).await;
            r.expect(200);
            assert_eq!((&r.body["status"], &r.body["positions_filled"]), (&json!("cancelled"), &json!(0)));
            for p in [&interested, &offer, &accept, &approve_id] {
                let v = placement(&app, &w.coord, p).await;
                assert_eq!((&v["state"], &v["reason"]), (&json!("cancelled"), &json!("the task was cancelled")), "{v}");
                assert!(v["decided_at"].is_string());
            }
            assert_eq!(placement(&app, &w.coord, &declined).await["state"], "declined");
            assert_eq!(app.get("/api/v1/me/offers", &app.citizen(&c[1])).await.body["total"], 0);
            step(&app, &app.citizen(&c[1]), &format!("/api/v1/me/offers/{offer}/accept"))
                .await
                .expect_problem(409, "illegal_transition");
            approve(&app, &w.coord, &accept).await.expect_problem(409, "illegal_transition");
            let again = app.post("/api/v1/placements", &w.coord, &json!({ "task_id": t, "citizen_id": c[1] })).await;
            again.expect_problem(409, "task_not_open");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Placements: the happy paths and the lifecycle.

mod placements {
    use super::*;

    both_backends! {
        async fn an_accepted_offer_is_approved_registering_the_employment_and_filling_the_task(app) {
            let w = world(&app).await;
            let date = day(10);
            let body = with(shift(date, "08:00", "12:00", "4", "140.00"), json!({ "positions": 2 }));
            let t = open_task(&app, &w.company, &body).await;
            let (card, no_card) = (holder(&app, &w.coord, 1).await, person(&app, &w.coord, 2).await);
            let p = offered(&app, &w.coord, &t, &card).await;
            let me = app.citizen(&card);
            let offers = app.get("/api/v1/me/offers", &me).await;
            assert_eq!(ids(&offers.body), vec![p.clone()]);
            assert_eq!(offers.body["items"][0]["task_title"], "Hjælp i bageriet lørdag formiddag");
            assert_eq!(app.get("/api/v1/me/offers", &app.citizen(&no_card)).await.body["total"], 0);
            let r = step(&app, &me, &format!("/api/v1/me/offers/{p}/accept")).await;
            r.expect(200);
            assert_eq!(r.body["state"], "accepted");
            assert!(r.body["answered_at"].is_string());
            assert_eq!(app.get("/api/v1/me/offers", &me).await.body["total"], 0);
            assert_eq!(task(&app, &w.coord, &t).await["positions_filled"], 0, "accepting reserves nothing");
            // 4 h × 140 kr + 12.5 % holiday pay = 630 kr, well within the card's amount.
            let r = approve(&app, &w.coord, &p).await;
            r.expect(200);
            let a = r.body.clone();
            assert_eq!((&a["estimated_pay"], &a["estimated_taxable"]), (&json!("630.00"), &json!("0.00")));
            assert_eq!(a["placement"]["state"], "approved");
            assert_eq!(a["placement"]["estimated_pay"], "630.00");
            let e = &a["employment"];
            assert_eq!(a["placement"]["employment_id"], e["id"]);
            assert_eq!((&e["company_id"], &e["citizen_id"]), (&json!(w.company_id.as_str()), &json!(card.as_str())));
            assert_eq!((&e["start_date"], &e["end_date"]), (&json!(date), &json!(date)));
            assert_eq!((&e["expected_pay"], &e["expected_hours_per_week"]), (&json!("630.00"), &json!(4.0)));
            assert_eq!((&e["contact"]["name"], &e["status"]), (&json!(TASK_CONTACT), &json!("active")));
            let v = task(&app, &w.coord, &t).await;
            assert_eq!((&v["status"], &v["positions_filled"]), (&json!("open"), &json!(1)));
            // The company finds the employment registered on its behalf.
            let list = app.get("/api/v1/employments", &w.company).await;
            assert_eq!(ids(&list.body), vec![e["id"].as_str().unwrap().to_owned()]);
            assert_eq!(list.body["items"][0]["contact"]["name"], TASK_CONTACT);
            // The second (last) position: no card, so the whole pay is expected to be taxable.
            let b = approved(&app, &w.coord, &t, &no_card).await;
            assert_eq!((&b["estimated_pay"], &b["estimated_taxable"]), (&json!("630.00"), &json!("630.00")));
            let v = task(&app, &w.company, &t).await;
            assert_eq!((&v["status"], &v["positions_filled"]), (&json!("filled"), &json!(2)));
            assert!(v["filled_at"].is_string());
            assert_eq!(app.get("/api/v1/employments", &w.company).await.body["total"], 2);
            assert_eq!(placement(&app, &w.company, &p).await["state"], "approved");
            let actions = audit_actions(&app, &w.coord, &p).await;
            assert_eq!(actions, ["placement.approved", "placement.accept", "placement.offered"]);
            let emp_audit = audit_actions(&app, &w.coord, e["id"].as_str().unwrap()).await;
            assert!(emp_audit.contains(&"employment.registered".to_owned()), "{emp_audit:?}");
            // Completing the task completes its approved placements.
            task_action(&app, &w.company, &t, "complete").await.expect(200);
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "completed");
        }

        async fn a_citizens_interest_becomes_an_offer_that_is_accepted_and_approved(app) {
            let w = world(&app).await;
            let t = open_task(&app, &w.company, &task_body()).await;
            let c = holder(&app, &w.coord, 1).await;
            let me = app.citizen(&c);
            assert_eq!(ids(&app.get("/api/v1/me/tasks", &me).await.body), vec![t.clone()]);
            let r = app.post(&format!("/api/v1/me/tasks/{t}/interest"), &me, &json!({})).await;
            r.expect(201);
            let p = r.body["id"].as_str().unwrap().to_owned();
            // The coordinator sees the interest, and cannot make a second placement beside it.
            let mine = app.get("/api/v1/placements?state=interested", &w.coord).await;
            assert_eq!(ids(&mine.body), vec![p.clone()]);
            app.post("/api/v1/placements", &w.coord, &json!({ "task_id": t, "citizen_id": c }))
                .await
                .expect_problem(409, "placement_exists");
            assert_eq!(app.get("/api/v1/me/offers", &me).await.body["total"], 0, "interest is not an offer");
            let r = step(&app, &w.coord, &format!("/api/v1/placements/{p}/offer")).await;
            r.expect(200);
            assert_eq!(r.body["state"], "offered");
            assert!(r.body["interested_at"].is_string() && r.body["offered_at"].is_string());
            assert_eq!(ids(&app.get("/api/v1/me/offers", &me).await.body), vec![p.clone()]);
            step(&app, &me, &format!("/api/v1/me/offers/{p}/accept")).await.expect(200);
            let r = approve(&app, &w.coord, &p).await;
            r.expect(200);
            assert_eq!(r.body["placement"]["id"], p.as_str());
            let v = task(&app, &w.coord, &t).await;
            assert_eq!((&v["status"], &v["positions_filled"]), (&json!("filled"), &json!(1)));
            assert_eq!(app.get("/api/v1/me/tasks", &me).await.body["total"], 0, "a filled task is no longer open");
            let actions = audit_actions(&app, &w.coord, &p).await;
            assert_eq!(actions, ["placement.approved", "placement.accept", "placement.offer", "placement.interested"]);
        }

        async fn a_citizen_declines_an_offer_and_can_be_offered_the_task_again(app) {
            let w = world(&app).await;
            let t = open_task(&app, &w.company, &task_body()).await;
            let c = person(&app, &w.coord, 1).await;
            let me = app.citizen(&c);
            let p = offered(&app, &w.coord, &t, &c).await;
            let why = json!({ "reason": "Jeg arbejder den dag" });
            let r = app.post(&format!("/api/v1/me/offers/{p}/decline"), &me, &why).await;
            r.expect(200);
            assert_eq!((&r.body["state"], &r.body["reason"]), (&json!("declined"), &json!("Jeg arbejder den dag")));
            assert_eq!(app.get("/api/v1/me/offers", &me).await.body["total"], 0);
            step(&app, &me, &format!("/api/v1/me/offers/{p}/accept")).await.expect_problem(409, "illegal_transition");
            approve(&app, &w.coord, &p).await.expect_problem(409, "illegal_transition");
            assert_eq!(task(&app, &w.coord, &t).await["positions_filled"], 0);
            let again = offered(&app, &w.coord, &t, &c).await;
            assert_ne!(again, p, "a new placement keeps the declined one's history");
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "declined");
        }

        async fn rejecting_an_accepted_placement_needs_a_reason(app) {
            let w = world(&app).await;
            let t = open_task(&app, &w.company, &task_body()).await;
            let c = person(&app, &w.coord, 1).await;
            let p = accepted(&app, &w.coord, &t, &c).await;
            let path = format!("/api/v1/placements/{p}/reject");
            let r = app.send(Method::POST, &path, Some(&w.coord), None, Vec::new()).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["reason"]);
            for body in [json!({}), json!({ "reason": null }), json!({ "reason": "   " })] {
                let r = app.post(&path, &w.coord, &body).await;
                r.expect_problem(422, "validation");
                assert_eq!(r.error_fields(), ["reason"]);
            }
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
            let r = app.post(&path, &w.coord, &json!({ "reason": "Borgeren er ikke klar til opgaven endnu" })).await;
            r.expect(200);
            assert_eq!(r.body["state"], "rejected");
            assert_eq!(r.body["reason"], "Borgeren er ikke klar til opgaven endnu");
            approve(&app, &w.coord, &p).await.expect_problem(409, "illegal_transition");
            app.post(&path, &w.coord, &json!({ "reason": "igen" })).await.expect_problem(409, "illegal_transition");
            assert_eq!(app.get("/api/v1/employments", &w.company).await.body["total"], 0);
        }

        async fn cancel_and_no_show_free_the_position_for_another_citizen(app) {
            let w = world(&app).await;
            let t = open_task(&app, &w.company, &task_body()).await;
            let (a, b) = (person(&app, &w.coord, 1).await, person(&app, &w.coord, 2).await);
            let c = person(&app, &w.coord, 3).await;
            let pa = accepted(&app, &w.coord, &t, &a).await;
            let pb = accepted(&app, &w.coord, &t, &b).await;
            let pc = accepted(&app, &w.coord, &t, &c).await;
            approve(&app, &w.coord, &pa).await.expect(200);
            assert_eq!(task(&app, &w.coord, &t).await["status"], "filled");
            approve(&app, &w.coord, &pb).await.expect_problem(409, "no_free_position");
            // The coordinator cancels the approved placement: the task is open again.
            let r = app.post(&format!("/api/v1/placements/{pa}/cancel"), &w.coord, &json!({ "reason": "Syg" })).await;
            r.expect(200);
            assert_eq!((&r.body["state"], &r.body["reason"]), (&json!("cancelled"), &json!("Syg")));
            let v = task(&app, &w.coord, &t).await;
            assert_eq!((&v["status"], &v["positions_filled"]), (&json!("open"), &json!(0)));
            approve(&app, &w.coord, &pb).await.expect(200);
            assert_eq!(task(&app, &w.coord, &t).await["status"], "filled");
            // The company records a no-show: open again, and the third citizen gets the position.
            let r = step(&app, &w.company, &format!("/api/v1/placements/{pb}/no-show")).await;
            r.expect(200);
            assert_eq!(r.body["state"], "no_show");
            let v = task(&app, &w.company, &t).await;
            assert_eq!((&v["status"], &v["positions_filled"]), (&json!("open"), &json!(0)));
            approve(&app, &w.coord, &pc).await.expect(200);
            let v = task(&app, &w.company, &t).await;
            assert_eq!((&v["status"], &v["positions_filled"]), (&json!("filled"), &json!(1)));
            assert_eq!(audit_actions(&app, &w.coord, &pa).await[0], "placement.cancel");
            assert_eq!(audit_actions(&app, &w.coord, &pb).await[0], "placement.no_show");
        }

        async fn illegal_placement_steps_are_409(app) {
            let w = world(&app).await;
            let t = open_task(&app, &w.company, &with(task_body(), json!({ "positions": 2 }))).await;
            let (a, b) = (person(&app, &w.coord, 1).await, person(&app, &w.coord, 2).await);
            let me = app.citizen(&a);
            let p = offered(&app, &w.coord, &t, &a).await;
            approve(&app, &w.coord, &p).await.expect_problem(409, "illegal_transition");
            let offer_again = format!("/api/v1/placements/{p}/offer");
            let no_show = format!("/api/v1/placements/{p}/no-show");
            step(&app, &w.coord, &offer_again).await.expect_problem(409, "illegal_transition");
            step(&app, &w.coord, &no_show).await.expect_problem(409, "illegal_transition");
            step(&app, &me, &format!("/api/v1/me/offers/{p}/accept")).await.expect(200);
            step(&app, &me, &format!("/api/v1/me/offers/{p}/accept")).await.expect_problem(409, "illegal_transition");
            step(&app, &me, &format!("/api/v1/me/offers/{p}/decline")).await.expect_problem(409, "illegal_transition");
            step(&app, &w.coord, &no_show).await.expect_problem(409, "illegal_transition");
            approve(&app, &w.coord, &p).await.expect(200);
            approve(&app, &w.coord, &p).await.expect_problem(409, "illegal_transition");
            app.post(&format!("/api/v1/placements/{p}/reject"), &w.coord, &json!({ "reason": "for sent" }))
                .await
                .expect_problem(409, "illegal_transition");
            app.post("/api/v1/placements", &w.coord, &json!({ "task_id": t, "citizen_id": a }))
                .await
                .expect_problem(409, "placement_exists");
            let q = offered(&app, &w.coord, &t, &b).await;
            let cancel = format!("/api/v1/placements/{q}/cancel");
            step(&app, &w.coord, &cancel).await.expect(200);
            step(&app, &w.coord, &cancel).await.expect_problem(409, "illegal_transition");
            step(&app, &app.citizen(&b), &format!("/api/v1/me/offers/{q}/accept"))
                .await
                .expect_problem(409, "illegal_transition");
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "approved");
            assert_eq!(task(&app, &w.coord, &t).await["positions_filled"], 1);
        }

        async fn a_step_by_the_wrong_role_is_403(app) {
            let w = world(&app).await;
            let t = open_task(&app, &w.company, &with(task_body(), json!({ "positions": 2 }))).await;
            let c = person(&app, &w.coord, 1).await;
            let me = app.citizen(&c);
            app.post("/api/v1/placements", &w.company, &json!({ "task_id": t, "citizen_id": c }))
                .await
                .expect_problem(403, "forbidden");
            app.post("/api/v1/placements", &me, &json!({ "task_id": t, "citizen_id": c }))
                .await
                .expect_problem(403, "forbidden");
            let interest = format!("/api/v1/me/tasks/{t}/interest");
            app.post(&interest, &w.coord, &json!({})).await.expect_problem(403, "forbidden");
            let p = offered(&app, &w.coord, &t, &c).await;
            step(&app, &w.coord, &format!("/api/v1/me/offers/{p}/accept")).await.expect_problem(403, "forbidden");
            step(&app, &w.coord, &format!("/api/v1/me/offers/{p}/decline")).await.expect_problem(403, "forbidden");
            // The company does not see an offer at all until the citizen is approved.
            step(&app, &w.company, &format!("/api/v1/me/offers/{p}/accept")).await.expect_problem(404, "not_found");
            step(&app, &w.company, &format!("/api/v1/me/offers/{p}/decline")).await.expect_problem(404, "not_found");
            step(&app, &me, &format!("/api/v1/placements/{p}/cancel")).await.expect_problem(403, "forbidden");
            step(&app, &me, &format!("/api/v1/me/offers/{p}/accept")).await.expect(200);
            for token in [&me, &w.company] {
                approve(&app, token, &p).await.expect_problem(403, "forbidden");
            }
            app.post(&format!("/api/v1/placements/{p}/reject"), &me, &json!({ "reason": "nej" }))
                .await
                .expect_problem(403, "forbidden");
            // Not approved yet, so not the company's to see.
            app.post(&format!("/api/v1/placements/{p}/reject"), &w.company, &json!({ "reason": "nej" }))
                .await
                .expect_problem(404, "not_found");
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
            approve(&app, &w.coord, &p).await.expect(200);
            step(&app, &me, &format!("/api/v1/placements/{p}/cancel")).await.expect_problem(403, "forbidden");
            step(&app, &me, &format!("/api/v1/placements/{p}/no-show")).await.expect_problem(403, "forbidden");
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "approved");
            // Interest: the citizen's to make, the coordinator's to turn into an offer.
            let d = person(&app, &w.coord, 2).await;
            let i = app.post(&interest, &app.citizen(&d), &json!({})).await;
            let i = i.body["id"].as_str().unwrap().to_owned();
            step(&app, &app.citizen(&d), &format!("/api/v1/placements/{i}/offer")).await.expect_problem(403, "forbidden");
            step(&app, &w.company, &format!("/api/v1/placements/{i}/offer")).await.expect_problem(404, "not_found");
            assert_eq!(placement(&app, &w.coord, &i).await["state"], "interested");
        }

        async fn a_citizen_cannot_see_or_answer_another_citizens_placement(app) {
            let w = world(&app).await;
            let t = open_task(&app, &w.company, &task_body()).await;
            let (a, b) = (person(&app, &w.coord, 1).await, person(&app, &w.coord, 2).await);
            let p = offered(&app, &w.coord, &t, &a).await;
            let other = app.citizen(&b);
            app.get(&format!("/api/v1/placements/{p}"), &other).await.expect_problem(404, "not_found");
            for action in ["accept", "decline"] {
                step(&app, &other, &format!("/api/v1/me/offers/{p}/{action}")).await.expect_problem(404, "not_found");
            }
            assert_eq!(app.get("/api/v1/placements", &other).await.body["total"], 0);
            assert_eq!(app.get("/api/v1/me/offers", &other).await.body["total"], 0);
            // Nor can another municipality's coordinator or another company.
            app.get(&format!("/api/v1/placements/{p}"), &app.coordinator("751")).await.expect_problem(404, "not_found");
            let (_, bravo) = verified_company(&app, &w.coord, 2, "Bravo ApS").await;
            app.get(&format!("/api/v1/placements/{p}"), &bravo).await.expect_problem(404, "not_found");
            assert_eq!(app.get("/api/v1/placements", &bravo).await.body["total"], 0);
            // The placement's own citizen and the coordinator see it; the task's company sees the
            // citizens placed with it, not those merely offered the task.
            assert_eq!(placement(&app, &app.citizen(&a), &p).await["state"], "offered");
            app.get(&format!("/api/v1/placements/{p}"), &w.company).await.expect_problem(404, "not_found");
            assert_eq!(ids(&app.get("/api/v1/placements", &app.citizen(&a)).await.body), vec![p.clone()]);
            assert_eq!(placement(&app, &app.citizen(&a), &p).await["state"], "offered", "untouched");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Approval checks: each refusal with a setup that triggers exactly it, then the fix lets it pass.

mod approval {
    use super::*;

    both_backends! {
        async fn approval_needs_the_task_to_be_open(app) {
            let w = world(&app).await;
            let t = open_task(&app, &w.company, &task_body()).await;
            let p = accepted(&app, &w.coord, &t, &person(&app, &w.coord, 1).await).await;
            // A task that stops being open under an approval in flight (set directly, as a
            // concurrent completion would) refuses it.
            {
                let mut conn = app.pool.get().unwrap();
                let mut task = smaajob_persistence::repo::tasks::lock(&mut conn, &t).unwrap();
                task.status = "completed".into();
                smaajob_persistence::repo::tasks::update(&mut conn, &task).unwrap();
            }
            approve(&app, &w.coord, &p).await.expect_problem(409, "task_not_open");
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
            assert_eq!(app.get("/api/v1/employments", &w.company).await.body["total"], 0);
        }

        async fn completing_a_task_lets_its_open_offers_and_acceptances_lapse(app) {
            let w = world(&app).await;
            let t = open_task(&app, &w.company, &task_body()).await;
            let p = accepted(&app, &w.coord, &t, &person(&app, &w.coord, 1).await).await;
            task_action(&app, &w.company, &t, "complete").await.expect(200);
            let lapsed = placement(&app, &w.coord, &p).await;
            assert_eq!((&lapsed["state"], &lapsed["reason"]), (&json!("cancelled"), &json!("the task was completed")));
            approve(&app, &w.coord, &p).await.expect_problem(409, "illegal_transition");
            assert_eq!(app.get("/api/v1/employments", &w.company).await.body["total"], 0);
        }

        async fn approval_needs_a_free_position(app) {
            let w = world(&app).await;
            let t = open_task(&app, &w.company, &task_body()).await;
            let first = accepted(&app, &w.coord, &t, &person(&app, &w.coord, 1).await).await;
            let second = accepted(&app, &w.coord, &t, &person(&app, &w.coord, 2).await).await;
            approve(&app, &w.coord, &first).await.expect(200);
            approve(&app, &w.coord, &second).await.expect_problem(409, "no_free_position");
            assert_eq!(placement(&app, &w.coord, &second).await["state"], "accepted");
            assert_eq!(app.get("/api/v1/employments", &w.company).await.body["total"], 1);
            step(&app, &w.coord, &format!("/api/v1/placements/{first}/cancel")).await.expect(200);
            approve(&app, &w.coord, &second).await.expect(200);
        }

        async fn approval_needs_a_verified_company(app) {
            let w = world(&app).await;
            let t = open_task(&app, &w.company, &task_body()).await;
            let p = accepted(&app, &w.coord, &t, &person(&app, &w.coord, 1).await).await;
            let company = format!("/api/v1/companies/{}", w.company_id);
            let reject = json!({ "verified": false, "verification_reason": "Ejerskifte, skal tjekkes igen" });
            app.patch(&company, &w.coord, &reject).await.expect(200);
            approve(&app, &w.coord, &p).await.expect_problem(409, "company_not_verified");
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
            app.patch(&company, &w.coord, &json!({ "verified": true })).await.expect(200);
            approve(&app, &w.coord, &p).await.expect(200);
        }

        async fn a_frikort_only_task_needs_a_card_active_through_the_whole_schedule(app) {
            let w = world(&app).await;
            let body = with(task_body(), json!({
                "frikort_only": true, "positions": 4, "schedule": weekly(&["sat"], "08:00", "12:00", day(7), day(34))
            }));
            let t = open_task(&app, &w.company, &body).await;
            let none = person(&app, &w.coord, 1).await;
            let (late, _) = app.card_holder(&w.coord, &cpr_no(2), "Borger 2", &day(21).to_string()).await;
            let deactivated = holder(&app, &w.coord, 3).await;
            app.post(&format!("/api/v1/citizens/{deactivated}/frikort/deactivate"), &w.coord, &json!({
                "reason": "Flyttet til udlandet"
            })).await.expect(200);
            let ok = holder(&app, &w.coord, 4).await;
            for c in [&none, &late, &deactivated] {
                let p = accepted(&app, &w.coord, &t, c).await;
                approve(&app, &w.coord, &p).await.expect_problem(422, "no_active_card_for_schedule");
                assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
            }
            approved(&app, &w.coord, &t, &ok).await;
            assert_eq!(task(&app, &w.coord, &t).await["positions_filled"], 1);
            // The same citizens are fine on a task for every small-job seeker.
            let open_to_all = open_task(&app, &w.company, &with(body, json!({ "frikort_only": false }))).await;
            for c in [&none, &late, &deactivated] {
                approved(&app, &w.coord, &open_to_all, c).await;
            }
        }

        async fn approval_refuses_a_shift_overlapping_an_approved_placement(app) {
            let w = world(&app).await;
            let d = day(10);
            let first = open_task(&app, &w.company, &shift(d, "08:00", "12:00", "4", "140.00")).await;
            let overlapping = open_task(&app, &w.company, &shift(d, "11:00", "15:00", "4", "140.00")).await;
            let touching = open_task(&app, &w.company, &shift(d, "12:00", "16:00", "4", "140.00")).await;
            let tomorrow = shift(d + Duration::days(1), "08:00", "12:00", "4", "140.00");
            let next_day = open_task(&app, &w.company, &tomorrow).await;
            let c = person(&app, &w.coord, 1).await;
            let p = accepted(&app, &w.coord, &overlapping, &c).await;
            approved(&app, &w.coord, &first, &c).await;
            approve(&app, &w.coord, &p).await.expect_problem(409, "overlapping_placement");
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
            approved(&app, &w.coord, &touching, &c).await;
            approved(&app, &w.coord, &next_day, &c).await;
            // Another citizen is not affected by this one's placements.
            approved(&app, &w.coord, &overlapping, &person(&app, &w.coord, 2).await).await;
        }

        async fn approval_respects_the_citizens_weekly_hours_limit(app) {
            let w = world(&app).await;
            let c = limited(&app, &w.coord, 1, 6).await;
            // 4 h every Saturday and Sunday is 8 h a week: over the limit of 6 on its own.
            let weekend = with(shift(day(7), "08:00", "12:00", "4", "140.00"), json!({
                "schedule": weekly(&["sat", "sun"], "08:00", "12:00", day(7), day(20))
            }));
            let weekend = open_task(&app, &w.company, &weekend).await;
            let p = accepted(&app, &w.coord, &weekend, &c).await;
            approve(&app, &w.coord, &p).await.expect_problem(422, "weekly_hours_exceeded");
            // 4 h, then 3 h more: together over the limit.
            let (d1, d2) = (day(10), day(11));
            // In the afternoon, so they never overlap the weekend mornings.
            let four = open_task(&app, &w.company, &shift(d1, "13:00", "17:00", "4", "140.00")).await;
            let three = open_task(&app, &w.company, &shift(d2, "13:00", "17:00", "3", "140.00")).await;
            approved(&app, &w.coord, &four, &c).await;
            let q = accepted(&app, &w.coord, &three, &c).await;
            approve(&app, &w.coord, &q).await.expect_problem(422, "weekly_hours_exceeded");
            assert_eq!(placement(&app, &w.coord, &q).await["state"], "accepted");
            app.patch(&format!("/api/v1/citizens/{c}"), &w.coord, &json!({
                "availability": { "slots": [], "max_hours_per_week": 7 }
            })).await.expect(200);
            approve(&app, &w.coord, &q).await.expect(200);
            approve(&app, &w.coord, &p).await.expect_problem(422, "weekly_hours_exceeded");
        }

        async fn approval_past_the_remaining_frikort_amount_needs_accept_taxable_excess(app) {
            let w = world(&app).await;
            // One 20-hour shift at 2,400 kr/h: 48,000 kr + 6,000 kr holiday pay, above any cap so far.
            let date = day(7);
            let t = open_task(&app, &w.company, &shift(date, "00:00", "20:00", "20", "2400.00")).await;
            let c = holder(&app, &w.coord, 1).await;
            let cap = cap_ore(&app, &w.coord, date.year()).await;
            let pay = 5_400_000;
            assert!(pay > cap, "the cap of {} is {}", date.year(), kr(cap));
            let p = accepted(&app, &w.coord, &t, &c).await;
            let r = approve(&app, &w.coord, &p).await;
            r.expect_problem(422, "would_exceed_frikort");
            let detail = r.body["detail"].as_str().unwrap();
            assert!(detail.contains(&kr(pay - cap)), "{detail}");
            let path = format!("/api/v1/placements/{p}/approve");
            app.post(&path, &w.coord, &json!({ "accept_taxable_excess": false }))
                .await
                .expect_problem(422, "would_exceed_frikort");
            let r = app.send(Method::POST, &path, Some(&w.coord), None, Vec::new()).await;
            r.expect_problem(422, "would_exceed_frikort");
            assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
            assert_eq!(app.get("/api/v1/employments", &w.company).await.body["total"], 0);
            let r = app.post(&path, &w.coord, &json!({ "accept_taxable_excess": true })).await;
            r.expect(200);
            assert_eq!(r.body["estimated_pay"], kr(pay));
            assert_eq!(r.body["estimated_taxable"], kr(pay - cap));
            assert_eq!(r.body["employment"]["expected_pay"], kr(pay));
            let v = placement(&app, &w.coord, &p).await;
            assert_eq!((&v["state"], &v["estimated_taxable"]), (&json!("approved"), &json!(kr(pay - cap))));
        }

        async fn planned_pay_of_other_approved_placements_counts_against_the_remaining_amount(app) {
            let w = world(&app).await;
            let (d1, d2) = two_days_in_one_year();
            let cap = cap_ore(&app, &w.coord, d1.year()).await;
            // First: 20 h at a wage that leaves 400 kr of the cap (a multiple of 8 keeps the holiday pay whole).
            let first_pay = cap - 40_000;
            let wage = first_pay / 20 * 1000 / 1125 / 8 * 8;
            let first_pay = wage * 20 * 1125 / 1000;
            let left = cap - first_pay;
            assert!((40_000..40_200).contains(&left), "cap {} wage {} left {}", kr(cap), kr(wage), kr(left));
            let big = open_task(&app, &w.company, &shift(d1, "00:00", "20:00", "20", &kr(wage))).await;
            // Second: 4 h at 200 kr = 900 kr with holiday pay, more than what is left.
            let small = open_task(&app, &w.company, &shift(d2, "08:00", "12:00", "4", "200.00")).await;
            let c = holder(&app, &w.coord, 1).await;
            let a = approved(&app, &w.coord, &big, &c).await;
            assert_eq!((&a["estimated_pay"], &a["estimated_taxable"]), (&json!(kr(first_pay)), &json!("0.00")));
            let p = accepted(&app, &w.coord, &small, &c).await;
            approve(&app, &w.coord, &p).await.expect_problem(422, "would_exceed_frikort");
            let go_ahead = json!({ "accept_taxable_excess": true });
            let r = app.post(&format!("/api/v1/placements/{p}/approve"), &w.coord, &go_ahead).await;
            r.expect(200);
            let estimate = (&r.body["estimated_pay"], &r.body["estimated_taxable"]);
            assert_eq!(estimate, (&json!("900.00"), &json!(kr(90_000 - left))));
            // A citizen without those plans gets the small task within the amount.
            let other = holder(&app, &w.coord, 2).await;
            let small2 = open_task(&app, &w.company, &shift(d2, "08:00", "12:00", "4", "200.00")).await;
            assert_eq!(approved(&app, &w.coord, &small2, &other).await["estimated_taxable"], "0.00");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Found while writing these tests and fixed since.

mod fixed {
    use super::*;

    both_backends! {
        async fn blanking_a_drafts_description_is_a_validation_error(app) {
            let w = world(&app).await;
            let t = create_task(&app, &w.company, &task_body()).await["id"].as_str().unwrap().to_owned();
            let r = app.patch(&format!("/api/v1/tasks/{t}"), &w.company, &json!({ "description": "  " })).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["description"]);
        }
        async fn a_citizen_without_an_active_card_cannot_read_a_frikort_only_task(app) {
            let w = world(&app).await;
            let frikort = open_task(&app, &w.company, &with(task_body(), json!({ "frikort_only": true }))).await;
            let no_card = app.citizen(&person(&app, &w.coord, 1).await);
            assert_eq!(app.get("/api/v1/me/tasks", &no_card).await.body["total"], 0);
            app.get(&format!("/api/v1/tasks/{frikort}"), &no_card).await.expect_problem(404, "not_found");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Concurrency: two coordinators approving for the last position at once.

/// A coordinator token of 730 for another person.
fn other_coordinator(app: &TestApp, sub: &str) -> String {
    app.sign(&Claims { municipality: Some("730".into()), ..claims(Role::Coordinator, sub) })
}

/// Sends each approval `(token, placement)` at once, each in its own task; the responses in order.
async fn approve_at_once(app: &Rc<TestApp>, approvals: Vec<(String, String)>) -> Vec<Resp> {
    let spawned: Vec<_> = approvals
        .into_iter()
        .map(|(token, placement)| {
            let app = Rc::clone(app);
            actix_web::rt::spawn(async move { approve(&app, &token, &placement).await })
        })
        .collect();
    let mut results = Vec::new();
    for handle in spawned {
        results.push(handle.await.unwrap());
    }
    results
}

/// Exactly one of two concurrent approvals won; the other lost with `status` and `code`:
/// (winner, loser) as indexes.
#[track_caller]
fn one_winner(results: &[Resp], status: u16, code: &str, round: i64) -> (usize, usize) {
    let mut statuses = [results[0].status, results[1].status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, status], "round {round}: {} / {}", results[0].body, results[1].body);
    let (winner, loser) = if results[0].status == 200 { (0, 1) } else { (1, 0) };
    results[loser].expect_problem(status, code);
    (winner, loser)
}

async fn race_for_the_last_position(app: Rc<TestApp>) {
    let w = world(&app).await;
    let second = other_coordinator(&app, "coord-730-kollega");
    let mut n = 0;
    for round in 0..4 {
        let positions = 1 + round % 3;
        let body =
            with(task_body(), json!({ "positions": positions, "schedule": single(day(7 + round), "08:00", "12:00") }));
        let t = open_task(&app, &w.company, &body).await;
        for _ in 1..positions {
            n += 1;
            approved(&app, &w.coord, &t, &person(&app, &w.coord, n).await).await;
        }
        n += 1;
        let a = accepted(&app, &w.coord, &t, &person(&app, &w.coord, n).await).await;
        n += 1;
        let b = accepted(&app, &w.coord, &t, &person(&app, &w.coord, n).await).await;
        let results = approve_at_once(&app, vec![(w.coord.clone(), a.clone()), (second.clone(), b.clone())]).await;
        let (winner, loser) = one_winner(&results, 409, "no_free_position", round);
        let ids = [&a, &b];
        assert_eq!(placement(&app, &w.coord, ids[winner]).await["state"], "approved");
        assert_eq!(placement(&app, &w.coord, ids[loser]).await["state"], "accepted");
        let v = task(&app, &w.coord, &t).await;
        assert_eq!((&v["status"], &v["positions_filled"]), (&json!("filled"), &json!(positions)), "round {round}");
        assert_eq!(approved_on(&app, &w.coord, &t).await, positions as usize, "round {round}");
    }
    let employments = app.get("/api/v1/employments?limit=200", &w.company).await;
    assert_eq!(employments.body["total"], 1 + 2 + 3 + 1, "one employment per approval, none for a lost race");
}

/// One citizen accepted on two tasks whose shifts overlap, approved by two coordinators at once:
/// the checks that span the citizen's placements must see each other, so only one may pass.
async fn race_for_one_citizen(app: Rc<TestApp>) {
    let w = world(&app).await;
    let second = other_coordinator(&app, "coord-730-kollega");
    for round in 0..5 {
        let d = day(7 + round);
        let morning = open_task(&app, &w.company, &shift(d, "08:00", "12:00", "4", "140.00")).await;
        let midday = open_task(&app, &w.company, &shift(d, "10:00", "14:00", "4", "140.00")).await;
        let c = person(&app, &w.coord, 100 + u32::try_from(round).unwrap()).await;
        let a = accepted(&app, &w.coord, &morning, &c).await;
        let b = accepted(&app, &w.coord, &midday, &c).await;
        let results = approve_at_once(&app, vec![(w.coord.clone(), a), (second.clone(), b)]).await;
        one_winner(&results, 409, "overlapping_placement", round);
        let all = app.get("/api/v1/placements?state=approved&limit=200", &w.coord).await;
        let mine = all.body["items"].as_array().unwrap().iter().filter(|p| p["citizen_id"] == c.as_str()).count();
        assert_eq!(mine, 1, "round {round}: the citizen holds two overlapping approved placements");
    }
}

/// A card holder accepted on two tasks (on different days) whose expected pay each fits the
/// remaining frikort amount but together crosses it, approved at once without
/// `accept_taxable_excess`: only one may pass, the other must see the first's planned pay.
async fn race_for_one_citizens_headroom(app: Rc<TestApp>) {
    let w = world(&app).await;
    let second = other_coordinator(&app, "coord-730-kollega");
    let (d1, d2) = two_days_in_one_year();
    let cap = cap_ore(&app, &w.coord, d1.year()).await;
    // 20 h at a wage making about 60 % of the cap with holiday pay.
    let wage = cap * 6 / 10 / 20 * 1000 / 1125 / 8 * 8;
    for round in 0..3 {
        let first = open_task(&app, &w.company, &shift(d1, "00:00", "20:00", "20", &kr(wage))).await;
        let next = open_task(&app, &w.company, &shift(d2, "00:00", "20:00", "20", &kr(wage))).await;
        let c = holder(&app, &w.coord, 200 + u32::try_from(round).unwrap()).await;
        let a = accepted(&app, &w.coord, &first, &c).await;
        let b = accepted(&app, &w.coord, &next, &c).await;
        let results = approve_at_once(&app, vec![(w.coord.clone(), a), (second.clone(), b)]).await;
        one_winner(&results, 422, "would_exceed_frikort", round);
    }
}

mod race {
    use super::*;

    both_backends! {
        async fn two_coordinators_approving_for_the_last_position_at_once_fill_it_exactly_once(app) {
            race_for_the_last_position(Rc::new(app)).await;
        }
    }
}

/// The checks spanning one citizen's placements (overlap, weekly hours, frikort headroom) hold
/// when two approvals of that citizen race: the citizen's row is locked during an approval.
mod race_per_citizen {
    use super::*;

    const OVERLAP: &str = "approving_one_citizen_for_two_overlapping_tasks_at_once_approves_only_one";
    const HEADROOM: &str = "approving_one_citizen_for_two_tasks_at_once_never_spends_the_same_frikort_headroom_twice";

    mod sqlite {
        use super::*;

        #[actix_web::test]
        async fn approving_one_citizen_for_two_overlapping_tasks_at_once_approves_only_one() {
            race_for_one_citizen(Rc::new(spawn(Backend::Sqlite, OVERLAP).await.expect("SQLite always runs"))).await;
        }

        #[actix_web::test]
        async fn approving_one_citizen_for_two_tasks_at_once_never_spends_the_same_frikort_headroom_twice() {
            let app = spawn(Backend::Sqlite, HEADROOM).await.expect("SQLite always runs");
            race_for_one_citizens_headroom(Rc::new(app)).await;
        }
    }

    mod postgres {
        use super::*;

        #[actix_web::test]
        async fn approving_one_citizen_for_two_overlapping_tasks_at_once_approves_only_one() {
            let Some(app) = spawn(Backend::Postgres, OVERLAP).await else { return };
            race_for_one_citizen(Rc::new(app)).await;
        }

        #[actix_web::test]
        async fn approving_one_citizen_for_two_tasks_at_once_never_spends_the_same_frikort_headroom_twice() {
            let Some(app) = spawn(Backend::Postgres, HEADROOM).await else { return };
            race_for_one_citizens_headroom(Rc::new(app)).await;
        }
    }
}
