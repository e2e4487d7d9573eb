//! The test data and the setup every end-to-end file shares: people, companies and dates, request
//! bodies, records made through the API (or, where a test needs the past, straight in the
//! database), and readers of response values. The harness itself (spawning, tokens, requests,
//! [`Resp`]) is in `support`. Each helper lives here once; a file keeps only what no other file
//! needs.

use std::collections::BTreeSet;
use std::rc::Rc;

use awc::http::Method;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc, Weekday};
use serde_json::{Value, json};
use smaajob_api::auth::{Claims, Role};
use smaajob_persistence::repo::frikort::{self as card_repo, CardRow};
use smaajob_persistence::repo::placements::{self as placement_repo, PlacementRow};
use smaajob_persistence::repo::tasks::{self as task_repo, TaskRow};

use crate::support::*;

// ---------------------------------------------------------------------------------------------
// People, places and companies.

/// Jens Hansen, the usual card holder.
pub const JENS: &str = "010190-1234";
/// Marie Jensen.
pub const MARIE: &str = "020290-2345";
/// Mette Jensen.
pub const METTE: &str = "020285-1234";
/// Ole Olsen.
pub const OLE: &str = "030390-3456";
/// Anna Berg.
pub const ANNA: &str = "040490-4567";

/// The municipality most tests work in.
pub const RANDERS: &str = "730";
/// Another municipality, whose records Randers must never see.
pub const AARHUS: &str = "751";

/// A valid CVR number (modulus 11).
pub const CVR_A: &str = "10150817";

/// A valid CVR number derived from a seed, different for different seeds.
pub fn cvr(seed: u32) -> String {
    (1_000_000 + seed * 37..).find_map(smaajob_domain::with_valid_checksum).expect("some prefix completes").to_string()
}

/// A distinct CPR number of an adult born in 1990 (the 7th digit `1` puts it in the 1900s).
pub fn cpr(seed: u32) -> String {
    format!("{:02}{:02}90-{:04}", 1 + seed % 28, 1 + (seed / 28) % 12, 1000 + seed)
}

/// The contact person a company registers with.
pub const COMPANY_CONTACT: &str = "Karen Bager";
/// The contact person named on [`task_body`] (the one an approval registers the employment with).
pub const TASK_CONTACT: &str = "Mette Mortensen";

// ---------------------------------------------------------------------------------------------
// Dates, on the calendar the server counts in (Europe/Copenhagen).

/// Today in Europe/Copenhagen.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&chrono_tz::Europe::Copenhagen).date_naive()
}

/// This calendar year in Europe/Copenhagen.
pub fn this_year() -> i32 {
    today().year()
}

/// The day `offset` days from today.
pub fn day(offset: i64) -> NaiveDate {
    today() + Duration::days(offset)
}

/// [`day`] as the API writes a date.
pub fn date(offset: i64) -> String {
    day(offset).to_string()
}

/// Two consecutive days, a week or more ahead, in the same calendar year.
pub fn two_days_in_one_year() -> (NaiveDate, NaiveDate) {
    let first = day(7);
    if (first + Duration::days(1)).year() == first.year() {
        (first, first + Duration::days(1))
    } else {
        (day(8), day(9))
    }
}

/// June 1st `years` years before this year.
pub fn years_ago(years: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(today().year() - years, 6, 1).unwrap()
}

/// Copenhagen midnight at the start of `d`, in UTC.
pub fn start_of_day(d: NaiveDate) -> DateTime<Utc> {
    chrono_tz::Europe::Copenhagen
        .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

/// `h` hours before now, as the database stores a time.
pub fn hours_ago(h: i64) -> NaiveDateTime {
    smaajob_persistence::repo::now() - Duration::hours(h)
}

// ---------------------------------------------------------------------------------------------
// Reading response values.

/// The `id` of a record.
pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_owned()
}

/// The `id` of every element of a list, in order.
pub fn ids(list: &Value) -> Vec<String> {
    field(list, "id")
}

/// One string field of every element of a list, in order.
pub fn field(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|e| e[key].as_str().unwrap_or_else(|| panic!("no {key} in {e}")).to_owned())
        .collect()
}

/// The ids of a page's items, sorted.
pub fn page_ids(page: &Value) -> Vec<String> {
    let mut ids = ids(&page["items"]);
    ids.sort();
    ids
}

/// The ids of a list response's items, sorted; the response must be a 200.
pub fn listed_ids(r: &Resp) -> Vec<String> {
    r.expect(200);
    page_ids(&r.body)
}

/// The `name` of every item of a page, in order.
pub fn names(r: &Resp) -> Vec<String> {
    field(&r.body["items"], "name")
}

/// The values of `keys` in `v`, as a JSON array (to compare several fields at once).
pub fn pick(v: &Value, keys: &[&str]) -> Value {
    Value::Array(keys.iter().map(|k| v[*k].clone()).collect())
}

/// One field of every element of a list, as a JSON array.
pub fn column(list: &Value, key: &str) -> Value {
    Value::Array(
        list.as_array().unwrap_or_else(|| panic!("not a list: {list}")).iter().map(|e| e[key].clone()).collect(),
    )
}

/// The strings, sorted.
pub fn sorted<S: AsRef<str>>(v: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut v: Vec<String> = v.into_iter().map(|s| s.as_ref().to_owned()).collect();
    v.sort();
    v
}

/// The keys of a JSON object.
pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// A set of keys, to compare with [`keys`].
pub fn set(keys: &[&str]) -> BTreeSet<String> {
    keys.iter().map(|k| (*k).to_owned()).collect()
}

/// An amount in øre, from the API's decimal string (never negative).
pub fn ore(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not an amount: {v}"));
    let (kroner, ore) = s.split_once('.').unwrap_or_else(|| panic!("not an amount: {s}"));
    assert!(!kroner.starts_with('-'), "negative amount {s}");
    kroner.parse::<i64>().unwrap() * 100 + ore.parse::<i64>().unwrap()
}

/// An amount in øre as the API writes it.
pub fn kr(ore: i64) -> String {
    format!("{}.{:02}", ore / 100, ore % 100)
}

/// `(gross, exempt, taxable, remaining, payouts)` of a full balance.
pub fn totals(b: &Value) -> (&str, &str, &str, &str, u64) {
    (
        b["gross"].as_str().unwrap(),
        b["exempt"].as_str().unwrap(),
        b["taxable"].as_str().unwrap(),
        b["remaining"].as_str().unwrap(),
        b["payouts"].as_u64().unwrap(),
    )
}

/// The codes of a receipt's warnings.
pub fn warning_codes(receipt: &Value) -> Vec<String> {
    field(&receipt["warnings"], "code")
}

/// The actions of audit entries, in order.
pub fn actions(entries: &[Value]) -> Vec<String> {
    entries.iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect()
}

/// A fresh random id that names nothing.
pub fn unknown_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

// ---------------------------------------------------------------------------------------------
// Request bodies.

/// An issue body with every eligibility condition attested.
pub fn all_attested() -> Value {
    json!({ "attestations": attestations(true) })
}

/// The four attestations, all set to `value`.
pub fn attestations(value: bool) -> Value {
    json!({
        "no_su_eligible_education": value,
        "no_taxable_work_income_over_threshold": value,
        "residence_9_of_last_10_years": value,
        "in_target_group": value,
    })
}

/// An employment a company registers for itself, naming the citizen by CPR and card number.
pub fn employment_by_card(cpr: &str, frikort_number: &str, start_date: &str) -> Value {
    json!({
        "citizen": { "cpr": cpr, "frikort_number": frikort_number },
        "start_date": start_date,
        "contact": { "name": "Karen Bager" },
    })
}

/// An employment a coordinator registers for a company, naming the citizen by id.
pub fn employment_by_id(citizen_id: &str, company_id: &str, start_date: &str) -> Value {
    json!({
        "citizen_id": citizen_id,
        "company_id": company_id,
        "start_date": start_date,
        "contact": { "name": "Karen Bager" },
    })
}

/// A payout with holiday pay paid separately (`"0.00"`), so its gross is the wage.
pub fn payout_body(payment_date: &str, worked_from: &str, worked_to: &str, wage: &str) -> Value {
    json!({
        "payment_date": payment_date, "worked_from": worked_from, "worked_to": worked_to,
        "wage": wage, "holiday_pay": "0.00",
    })
}

/// A one-shift schedule.
pub fn single(date: NaiveDate, start: &str, end: &str) -> Value {
    json!({ "kind": "single", "date": date, "start": start, "end": end })
}

/// A weekly schedule.
pub fn weekly(weekdays: &[&str], start: &str, end: &str, from: NaiveDate, to: NaiveDate) -> Value {
    json!({ "kind": "weekly", "weekdays": weekdays, "start": start, "end": end, "from": from, "to": to })
}

/// A valid task: one shift 08:00–12:00 ten days ahead, 3.5 paid hours at 140 kr, one position.
pub fn task_body() -> Value {
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
pub fn with(mut body: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().expect("an object of changes") {
        body[k] = v.clone();
    }
    body
}

/// A task body with one shift on `date` from `start` to `end`, `hours` paid at `wage`.
pub fn shift(date: NaiveDate, start: &str, end: &str, hours: &str, wage: &str) -> Value {
    with(task_body(), json!({ "schedule": single(date, start, end), "hours_per_shift": hours, "hourly_wage": wage }))
}

/// The day (relative to today) whose weekday has no shift in a [`weekly_task`].
pub const OFF: i64 = -8;

/// A weekly task, 08:00–12:00 (4 hours), 3.5 paid hours a shift, from 21 days ago to 21 days
/// ahead on every weekday except that of [`OFF`] (so also of yesterday), which gives past shifts
/// to report (7…2 days ago) and known days without a shift.
pub fn weekly_task(title: &str, wage: &str, positions: u32, frikort_only: bool) -> Value {
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

/// A small job in time slot `slot` of the day: one paid hour from 06:00 + `slot` every day from
/// three weeks ago to two weeks ahead, at [`SITE`]. Its past shifts take hours; distinct slots
/// never overlap, so one citizen can be approved on several.
pub fn small_job(slot: u32) -> Value {
    json!({
        "title": format!("Småjob {slot}"),
        "description": "Fej gården og bær kasser ind.",
        "place": { "address": "Vestergade 1, 8900 Randers", "lat": SITE.0, "lon": SITE.1 },
        "schedule": {
            "kind": "weekly", "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": format!("{:02}:00", 6 + slot), "end": format!("{:02}:00", 7 + slot),
            "from": day(-21), "to": day(14),
        },
        "hours_per_shift": "1",
        "hourly_wage": "130.00",
        "positions": 2,
        "frikort_only": false,
        "contact": { "name": "Karen Bager" },
    })
}

/// A [`small_job`] naming its company, as a coordinator creates it.
pub fn task_for_company(company_id: &str) -> Value {
    let mut body = small_job(0);
    body["company_id"] = json!(company_id);
    body
}

// ---------------------------------------------------------------------------------------------
// Citizens, cards, companies, employments and payouts, made through the API.

impl TestApp {
    /// Enrols a citizen in the token's municipality and returns the id.
    pub async fn enrol(&self, token: &str, cpr: &str, name: &str) -> String {
        let r = self.post("/api/v1/citizens", token, &json!({ "cpr": cpr, "name": name })).await;
        r.expect(201);
        r.body["id"].as_str().expect("an id").to_owned()
    }

    /// Issues a card with every condition attested and returns the card view.
    pub async fn issue_card(&self, token: &str, citizen_id: &str) -> Value {
        let r = self.post(&format!("/api/v1/citizens/{citizen_id}/frikort"), token, &all_attested()).await;
        r.expect(201);
        r.body.clone()
    }

    /// Enrols a citizen in the coordinator's municipality and issues a card valid from
    /// `valid_from`; returns the citizen's id and the card number.
    pub async fn card_holder(&self, coordinator: &str, cpr: &str, name: &str, valid_from: &str) -> (String, String) {
        let id = self.enrol(coordinator, cpr, name).await;
        let r = self
            .post(
                &format!("/api/v1/citizens/{id}/frikort"),
                coordinator,
                &json!({ "attestations": attestations(true), "valid_from": valid_from }),
            )
            .await;
        r.expect(201);
        (id, r.body["number"].as_str().expect("a card number").to_owned())
    }

    /// Registers a company and returns the id.
    pub async fn register_company(&self, token: &str, cvr: &str, name: &str) -> String {
        let r = self
            .post(
                "/api/v1/companies",
                token,
                &json!({ "cvr": cvr, "name": name, "contact": { "name": "Karen Bager" } }),
            )
            .await;
        r.expect(201);
        r.body["id"].as_str().expect("an id").to_owned()
    }

    /// Registers an employment and returns its id.
    pub async fn register_employment(&self, token: &str, body: &Value) -> String {
        let r = self.post("/api/v1/employments", token, body).await;
        r.expect(201);
        r.body["id"].as_str().expect("an id").to_owned()
    }

    /// Registers a payout on an employment.
    pub async fn payout(&self, token: &str, employment_id: &str, body: &Value) -> Resp {
        self.post(&format!("/api/v1/employments/{employment_id}/payouts"), token, body).await
    }
}

/// A citizen of the coordinator's municipality without a card.
pub async fn person(app: &TestApp, coord: &str, n: u32) -> String {
    app.enrol(coord, &cpr(n), &format!("Borger {n}")).await
}

/// A citizen of the coordinator's municipality with a card valid from today.
pub async fn holder(app: &TestApp, coord: &str, n: u32) -> String {
    let id = person(app, coord, n).await;
    app.issue_card(coord, &id).await;
    id
}

/// A citizen without a card who works at most `hours` a week.
pub async fn limited(app: &TestApp, coord: &str, n: u32, hours: u8) -> String {
    let body = json!({
        "cpr": cpr(n), "name": format!("Borger {n}"),
        "availability": { "slots": [], "max_hours_per_week": hours },
    });
    let r = app.post("/api/v1/citizens", coord, &body).await;
    r.expect(201);
    r.body["id"].as_str().unwrap().to_owned()
}

/// Deactivates the citizen's card for `reason`; returns the card view.
pub async fn deactivate(app: &TestApp, token: &str, citizen_id: &str, reason: &str) -> Value {
    let path = format!("/api/v1/citizens/{citizen_id}/frikort/deactivate");
    let r = app.post(&path, token, &json!({ "reason": reason })).await;
    r.expect(200);
    r.body.clone()
}

/// A company registers itself with its CVR token, in Randers.
pub async fn register_self(app: &TestApp, token: &str, name: &str) -> Resp {
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

/// A company a coordinator registers already verified (in the coordinator's municipality).
pub async fn verified_company(app: &TestApp, coordinator: &str, seed: u32) -> String {
    let body = json!({
        "cvr": cvr(seed), "name": format!("Bageriet nr. {seed}"),
        "contact": { "name": "Karen Bager" }, "verified": true,
    });
    let r = app.post("/api/v1/companies", coordinator, &body).await;
    r.expect(201);
    id(&r.body)
}

/// Registers a company with a CVR token and has a coordinator verify it: (id, CVR token).
pub async fn self_registered_company(app: &TestApp, coord: &str, seed: u32, name: &str) -> (String, String) {
    let token = app.company_cvr_token(&cvr(seed));
    let r = register_self(app, &token, name).await;
    r.expect(201);
    let id = r.body["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/api/v1/companies/{id}"), coord, &json!({ "verified": true })).await.expect(200);
    (id, token)
}

/// A coordinator of `municipality` with its own subject, beside [`TestApp::coordinator`]'s.
pub fn colleague(app: &TestApp, municipality: &str, sub: &str) -> String {
    app.sign(&Claims { municipality: Some(municipality.into()), ..claims(Role::Coordinator, sub) })
}

/// A card holder of Randers (card valid since 2019), employed by one company from `start`.
pub struct Employee {
    pub coordinator: String,
    pub citizen: String,
    pub cpr: &'static str,
    pub number: String,
    pub company: String,
    pub company_token: String,
    pub employment: String,
}

/// Jens, employed by Bager Hansen from `start`.
pub async fn employee(app: &TestApp, start: &str) -> Employee {
    let coordinator = app.coordinator("730");
    let (citizen, number) = app.card_holder(&coordinator, JENS, "Jens Hansen", "2019-01-01").await;
    let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
    let company_token = app.company(&company);
    let employment = app.register_employment(&company_token, &employment_by_card(JENS, &number, start)).await;
    Employee { coordinator, citizen, cpr: JENS, number, company, company_token, employment }
}

impl Employee {
    /// Another company employing the same citizen from `start`: (company id, token, employment id).
    pub async fn second_employer(&self, app: &TestApp, start: &str) -> (String, String, String) {
        let company = app.register_company(&self.coordinator, &cvr(2), "Tømrer Olsen").await;
        let token = app.company(&company);
        let employment = app.register_employment(&token, &employment_by_card(self.cpr, &self.number, start)).await;
        (company, token, employment)
    }

    /// A payout by the employer; returns the receipt.
    pub async fn pay(&self, app: &TestApp, paid: &str, from: &str, to: &str, wage: &str) -> Value {
        let r = app.payout(&self.company_token, &self.employment, &payout_body(paid, from, to, wage)).await;
        r.expect(201);
        r.body.clone()
    }

    /// The coordinator's (full) view of the citizen's balance.
    pub async fn balance(&self, app: &TestApp, year: i32) -> Value {
        balance(app, &self.coordinator, &self.citizen, year).await
    }

    /// The payouts of the employment, by id.
    pub async fn payout(&self, app: &TestApp, id: &str) -> Value {
        payouts_of(app, &self.company_token, &self.employment)
            .await
            .into_iter()
            .find(|p| p["id"] == id)
            .unwrap_or_else(|| panic!("payout {id} is listed"))
    }
}

/// A citizen's balance of a year, as the token sees it.
pub async fn balance(app: &TestApp, token: &str, citizen: &str, year: i32) -> Value {
    let r = app.get(&format!("/api/v1/citizens/{citizen}/balance?year={year}"), token).await;
    r.expect(200);
    r.body.clone()
}

/// The payouts of an employment.
pub async fn payouts_of(app: &TestApp, token: &str, employment: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/employments/{employment}/payouts"), token).await;
    r.expect(200);
    r.body["items"].as_array().unwrap().clone()
}

/// A wage-only payout (holiday pay paid separately) on an employment, paid today for work
/// 10 to 4 days ago.
pub async fn pay(app: &TestApp, token: &str, employment: &str, amount_ore: i64) -> Value {
    let r = app.payout(token, employment, &payout_body(&date(0), &date(-10), &date(-4), &kr(amount_ore))).await;
    r.expect(201);
    r.body.clone()
}

/// A year's cap in øre.
pub async fn cap_ore(app: &TestApp, token: &str, year: i32) -> i64 {
    let r = app.get(&format!("/api/v1/caps/{year}"), token).await;
    r.expect(200);
    ore(&r.body["amount"])
}

// ---------------------------------------------------------------------------------------------
// The audit log.

/// The audit log of the token's municipality, newest first.
pub async fn audit_log(app: &TestApp, token: &str) -> Vec<Value> {
    let r = app.get("/api/v1/audit?limit=500", token).await;
    r.expect(200);
    r.body["items"].as_array().unwrap().clone()
}

/// The coordinator's audit entries about one target, newest first.
pub async fn audit_of(app: &TestApp, token: &str, target: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/audit?target_id={target}"), token).await;
    r.expect(200);
    r.body["items"].as_array().unwrap().clone()
}

// ---------------------------------------------------------------------------------------------
// Small jobs: tasks, placements and hours, made through the API.

/// A coordinator of Randers, and a company that registered itself with its CVR token and was
/// verified.
pub struct Hiring {
    pub coord: String,
    pub company_id: String,
    pub company: String,
}

/// The coordinator and the verified company Bager Hansen.
pub async fn hiring(app: &TestApp) -> Hiring {
    let coord = app.coordinator("730");
    let (company_id, company) = self_registered_company(app, &coord, 1, "Bager Hansen ApS").await;
    Hiring { coord, company_id, company }
}

/// Creates a draft task; returns its view.
pub async fn create_task(app: &TestApp, token: &str, body: &Value) -> Value {
    let r = app.post("/api/v1/tasks", token, body).await;
    r.expect(201);
    r.body.clone()
}

/// Creates a draft task; returns its id.
pub async fn draft_task(app: &TestApp, token: &str, body: &Value) -> String {
    let task = create_task(app, token, body).await;
    assert_eq!(task["status"], "draft");
    id(&task)
}

/// Creates and opens a task; returns its id.
pub async fn open_task(app: &TestApp, token: &str, body: &Value) -> String {
    let id = draft_task(app, token, body).await;
    let r = task_action(app, token, &id, "open").await;
    r.expect(200);
    assert_eq!(r.body["status"], "open");
    id
}

/// A task as the token sees it.
pub async fn task(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/tasks/{id}"), token).await;
    r.expect(200);
    r.body.clone()
}

/// A step of a task (`open`, `complete`, `cancel`) with an empty body.
pub async fn task_action(app: &TestApp, token: &str, id: &str, action: &str) -> Resp {
    app.post(&format!("/api/v1/tasks/{id}/{action}"), token, &json!({})).await
}

/// The citizen's interest in an open task; returns the placement.
pub async fn interest(app: &TestApp, citizen_token: &str, task: &str) -> String {
    let r = app.post(&format!("/api/v1/me/tasks/{task}/interest"), citizen_token, &json!({})).await;
    r.expect(201);
    id(&r.body)
}

/// The coordinator offers the task to the citizen; returns the placement's id.
pub async fn offer(app: &TestApp, coordinator: &str, task: &str, citizen: &str) -> String {
    let r = app.post("/api/v1/placements", coordinator, &json!({ "task_id": task, "citizen_id": citizen })).await;
    r.expect(201);
    assert_eq!(r.body["state"], "offered");
    id(&r.body)
}

/// The citizen (by token) accepts an offer.
pub async fn accept(app: &TestApp, citizen: &str, placement: &str) {
    let r = app.post(&format!("/api/v1/me/offers/{placement}/accept"), citizen, &json!({})).await;
    r.expect(200);
    assert_eq!(r.body["state"], "accepted");
}

/// Offered and accepted by the citizen (by id); returns the placement's id.
pub async fn accepted(app: &TestApp, coordinator: &str, task: &str, citizen: &str) -> String {
    let id = offer(app, coordinator, task, citizen).await;
    accept(app, &app.citizen(citizen), &id).await;
    id
}

/// Asks to approve a placement, with an empty body.
pub async fn approve(app: &TestApp, coordinator: &str, placement: &str) -> Resp {
    app.post(&format!("/api/v1/placements/{placement}/approve"), coordinator, &json!({})).await
}

/// Approves an accepted placement; returns the approval (placement, employment, estimates).
pub async fn approval(app: &TestApp, coordinator: &str, placement: &str) -> Value {
    let r = approve(app, coordinator, placement).await;
    r.expect(200);
    assert_eq!(r.body["placement"]["state"], "approved");
    r.body.clone()
}

/// Offered, accepted and approved; returns the approval.
pub async fn approved(app: &TestApp, coordinator: &str, task: &str, citizen: &str) -> Value {
    let id = accepted(app, coordinator, task, citizen).await;
    approval(app, coordinator, &id).await
}

/// Offered, accepted and approved with `accept_taxable_excess`; returns the placement's id.
pub async fn approved_accepting_excess(app: &TestApp, coordinator: &str, task: &str, citizen: &str) -> String {
    let p = accepted(app, coordinator, task, citizen).await;
    let r = app
        .post(&format!("/api/v1/placements/{p}/approve"), coordinator, &json!({ "accept_taxable_excess": true }))
        .await;
    r.expect(200);
    p
}

/// A placement as the token sees it.
pub async fn placement(app: &TestApp, token: &str, id: &str) -> Value {
    let r = app.get(&format!("/api/v1/placements/{id}"), token).await;
    r.expect(200);
    r.body.clone()
}

/// A step with an empty body.
pub async fn step(app: &TestApp, token: &str, path: &str) -> Resp {
    app.post(path, token, &json!({})).await
}

/// A citizen placed on a company's open task, up to the approved placement and its employment.
pub struct Placed {
    pub coordinator: String,
    pub company_id: String,
    pub company: String,
    pub citizen_id: String,
    pub citizen: String,
    #[allow(dead_code)]
    pub task: String,
    pub placement: String,
    pub employment: String,
}

/// A verified company (seed `seed`) with a frikort-only [`weekly_task`] at `wage`, and a card
/// holder (card valid from 35 days ago) offered, accepting and approved on it; all in
/// `municipality`.
pub async fn placed(app: &TestApp, municipality: &str, seed: u32, wage: &str) -> Placed {
    let coordinator = app.coordinator(municipality);
    let company_id = verified_company(app, &coordinator, seed).await;
    let company = app.company(&company_id);
    let task = open_task(app, &company, &weekly_task(&format!("Butikshjælp {seed}"), wage, 1, true)).await;
    let (citizen_id, _) = app.card_holder(&coordinator, &cpr(seed), &format!("Borger {seed}"), &date(-35)).await;
    let citizen = app.citizen(&citizen_id);
    let placement = offer(app, &coordinator, &task, &citizen_id).await;
    accept(app, &citizen, &placement).await;
    let approval = approval(app, &coordinator, &placement).await;
    let employment = id(&approval["employment"]);
    Placed { coordinator, company_id, company, citizen_id, citizen, task, placement, employment }
}

/// Reports `hours` on the placement's shift `shift` days from today.
pub async fn report(app: &TestApp, token: &str, placement: &str, shift: i64, hours: &str) -> Resp {
    let body = json!({ "shift_date": date(shift), "hours": hours });
    app.post(&format!("/api/v1/placements/{placement}/hours"), token, &body).await
}

/// Reports hours that must be accepted; returns the report's id.
pub async fn reported(app: &TestApp, token: &str, placement: &str, shift: i64, hours: &str) -> String {
    let r = report(app, token, placement, shift, hours).await;
    r.expect(201);
    assert_eq!(r.body["status"], "reported");
    assert_eq!(r.body["shift_date"], date(shift));
    id(&r.body)
}

/// Confirms reported hours.
pub async fn confirm(app: &TestApp, token: &str, report: &str) -> Resp {
    app.post(&format!("/api/v1/hours/{report}/confirm"), token, &json!({})).await
}

/// A pay run for the shifts `from`..=`to` days from today, paid `paid` days from today by `method`.
pub fn pay_run_body(from: i64, to: i64, paid: i64, method: &str) -> Value {
    json!({ "period_from": date(from), "period_to": date(to), "payment_date": date(paid), "payment_method": method })
}

/// Previews a pay run.
pub async fn preview_pay_run(app: &TestApp, token: &str, body: &Value) -> Resp {
    app.post("/api/v1/pay-runs/preview", token, body).await
}

/// Commits a pay run.
pub async fn commit_pay_run(app: &TestApp, token: &str, body: &Value) -> Resp {
    app.post("/api/v1/pay-runs", token, body).await
}

/// Pays the confirmed hours of the last 35 days today by bank, as `token` (a coordinator or the
/// company); returns the committed run.
pub async fn pay_confirmed(app: &TestApp, token: &str) -> Value {
    let r = commit_pay_run(app, token, &pay_run_body(-35, 0, 0, "bank")).await;
    r.expect(201);
    assert_eq!(r.body["run"]["committed"], true, "{}", r.body);
    r.body.clone()
}

/// Confirms reported hours and pays them at once (a pay run of the last 35 days, today, by bank,
/// as the coordinator `payer`); returns the confirmation and the run's one line.
pub async fn confirm_and_pay(app: &TestApp, token: &str, payer: &str, report: &str) -> (Value, Value) {
    let c = confirm(app, token, report).await;
    c.expect(200);
    let run = pay_confirmed(app, payer).await;
    let lines = run["lines"].as_array().unwrap_or_else(|| panic!("no lines: {run}"));
    assert_eq!(lines.len(), 1, "one line: {run}");
    (c.body.clone(), lines[0].clone())
}

/// Disputes reported hours for `reason`.
pub async fn dispute(app: &TestApp, token: &str, report: &str, reason: &str) -> Resp {
    app.post(&format!("/api/v1/hours/{report}/dispute"), token, &json!({ "reason": reason })).await
}

/// The hours reported on a placement.
pub async fn hours_of(app: &TestApp, token: &str, placement: &str) -> Value {
    let r = app.get(&format!("/api/v1/placements/{placement}/hours"), token).await;
    r.expect(200);
    let items = r.body["items"].as_array().unwrap_or_else(|| panic!("not a page: {}", r.body));
    assert_eq!(r.body["total"], json!(items.len()), "one page holds them all: {}", r.body);
    r.body["items"].clone()
}

/// The coordinator's work queue.
pub async fn queue(app: &TestApp, coordinator: &str) -> Value {
    let r = app.get("/api/v1/queue", coordinator).await;
    r.expect(200);
    r.body.clone()
}

/// The coordinator's municipality's placement statistics from `from` to `to` days from today.
pub async fn stats(app: &TestApp, coordinator: &str, from: i64, to: i64) -> Value {
    let r = app.get(&format!("/api/v1/stats/placements?from={}&to={}", date(from), date(to)), coordinator).await;
    r.expect(200);
    let list = r.body["items"].as_array().unwrap_or_else(|| panic!("not a page: {}", r.body));
    assert_eq!(list.len(), 1, "one municipality: {}", r.body);
    assert_eq!(r.body["total"], 1, "{}", r.body);
    list[0].clone()
}

/// Real records and a token of each role, so that a request of the authorization matrix
/// would otherwise succeed: Randers with a card holder employed by a verified company, their
/// payouts, and small jobs of that company with the card holder's placements and hours on them.
pub struct Records {
    /// Enrolled in 730 with a card since 2019, employed by the company since 2024.
    pub citizen_id: String,
    /// Enrolled in 730 without a card.
    pub applicant_id: String,
    pub company_id: String,
    /// The citizen's card number.
    pub frikort: String,
    /// The citizen's employment at the company.
    pub employment_id: String,
    /// One-shot records: per role allowed to end an employment or reverse a payout, its own
    /// employment to end and its own payout (on `employment_id`) to reverse: the coordinator's
    /// first, the company's second.
    pub employments_to_end: [String; 2],
    pub payouts_to_reverse: [String; 2],
    /// The citizen's outside income to withdraw, and a pending register statement to accept.
    pub outside_income: String,
    pub statement: String,
    /// Small jobs, all the (verified) company's in 730. Open, with nothing of the citizen's on it.
    pub task: String,
    pub draft_task: String,
    /// One-shot records, per role as above: drafts to open, open tasks to complete and to cancel.
    pub tasks_to_open: [String; 2],
    pub tasks_to_complete: [String; 2],
    pub tasks_to_cancel: [String; 2],
    /// The citizen's placements, each on its own open task (a citizen has one live placement
    /// per task): interested, offered (two), accepted (two), and approved ones to cancel and to
    /// record a no-show on, per role as above.
    pub interested: String,
    pub offer_to_accept: String,
    pub offer_to_decline: String,
    pub accepted_to_approve: String,
    pub accepted_to_reject: String,
    pub placements_to_cancel: [String; 2],
    pub placements_to_no_show: [String; 2],
    /// The citizen's approved placement whose past shifts take hours.
    pub placement: String,
    /// Past shifts of `placement` without hours, per role as above.
    pub shifts_to_report: [String; 2],
    /// Hours on `placement` for each role to answer (the coordinator's, the company's, the
    /// citizen's): the coordinator's and the citizen's reported by the company, the company's by
    /// the coordinator.
    pub reports_to_confirm: [String; 3],
    pub reports_to_dispute: [String; 3],
    /// A coordinator's pay run for the company (so both see it) paying one shift of `placement`.
    pub pay_run: String,
    /// The pending register entry of a payout no row reverses.
    pub register_entry: String,
    pub coordinator: String,
    pub company: String,
    pub citizen: String,
    pub operator: String,
}

impl Records {
    /// Makes every record.
    pub async fn new(app: &TestApp) -> Records {
        let coordinator = app.coordinator("730");
        let (citizen_id, frikort) = app.card_holder(&coordinator, JENS, "Jens Hansen", "2019-01-01").await;
        let applicant_id = app.enrol(&coordinator, "030378-1234", "Anna Berg").await;
        let company_id = app.register_company(&coordinator, CVR_A, "Bager Hansen ApS").await;
        let company = app.company(&company_id);
        let employ =
            || async { app.register_employment(&company, &employment_by_card(JENS, &frikort, "2024-01-01")).await };
        let employment_id = employ().await;
        let employments_to_end = [employ().await, employ().await];
        let mut payouts_to_reverse = Vec::new();
        for (paid, from, to) in [("2024-03-28", "2024-03-01", "2024-03-27"), ("2024-04-30", "2024-04-01", "2024-04-29")]
        {
            let r = app.payout(&company, &employment_id, &payout_body(paid, from, to, "1000.00")).await;
            r.expect(201);
            payouts_to_reverse.push(r.body["payout"]["id"].as_str().expect("a payout id").to_owned());
        }

        let recorded =
            record_outside_income(app, &coordinator, &citizen_id, &outside_income_body("2024-02-01", "50.00", None))
                .await;
        recorded.expect(201);
        let outside_income = id(&recorded.body["outside_income"]);
        // Of a year nothing else touches, so its differences still hold when it is accepted.
        let imported = import_statement(app, &coordinator, &citizen_id, 2023, "2023-12-31", &statement_file(&[])).await;
        imported.expect(201);
        let statement = id(&imported.body);

        // Small jobs: a verified company, its tasks, and the citizen's placements on them.
        let path = format!("/api/v1/companies/{company_id}");
        app.patch(&path, &coordinator, &json!({ "verified": true })).await.expect(200);
        let mut jobs = Vec::new();
        for slot in 0..=10 {
            jobs.push(open_task(app, &company, &small_job(slot)).await);
        }
        let [
            hours_job,
            cancel_a,
            cancel_b,
            no_show_a,
            no_show_b,
            approve_job,
            reject_job,
            accept_job,
            decline_job,
            interest_job,
            task,
        ]: [String; 11] = jobs.try_into().expect("eleven tasks");
        // Approved on tasks of distinct slots, so no approval overlaps another.
        let c = &citizen_id;
        let placement = approved_accepting_excess(app, &coordinator, &hours_job, c).await;
        let placements_to_cancel = [
            approved_accepting_excess(app, &coordinator, &cancel_a, c).await,
            approved_accepting_excess(app, &coordinator, &cancel_b, c).await,
        ];
        let placements_to_no_show = [
            approved_accepting_excess(app, &coordinator, &no_show_a, c).await,
            approved_accepting_excess(app, &coordinator, &no_show_b, c).await,
        ];
        let accepted_to_approve = accepted(app, &coordinator, &approve_job, c).await;
        let accepted_to_reject = accepted(app, &coordinator, &reject_job, c).await;
        let offer_to_accept = offer(app, &coordinator, &accept_job, c).await;
        let offer_to_decline = offer(app, &coordinator, &decline_job, c).await;
        let citizen = app.citizen(&citizen_id);
        let interested = interest(app, &citizen, &interest_job).await;
        let job = small_job(0);
        let draft = draft_task(app, &company, &job).await;
        let tasks_to_open = [draft_task(app, &company, &job).await, draft_task(app, &company, &job).await];
        let tasks_to_complete = [open_task(app, &company, &job).await, open_task(app, &company, &job).await];
        let tasks_to_cancel = [open_task(app, &company, &job).await, open_task(app, &company, &job).await];
        let by_company = |days_ago: i64| reported(app, &company, &placement, -days_ago, "1");
        let by_coordinator = |days_ago: i64| reported(app, &coordinator, &placement, -days_ago, "1");
        let reports_to_confirm = [by_company(1).await, by_coordinator(2).await, by_company(3).await];
        let reports_to_dispute = [by_company(4).await, by_coordinator(5).await, by_company(6).await];
        let shifts_to_report = [date(-7), date(-8)];
        let paid = by_company(9).await;
        confirm(app, &citizen, &paid).await.expect(200);
        let mut body = pay_run_body(-9, -9, 0, "bank");
        body["company_id"] = json!(company_id);
        let run = commit_pay_run(app, &coordinator, &body).await;
        run.expect(201);
        let pay_run = run.body["run"]["id"].as_str().expect("a pay run id").to_owned();
        let pending = app.get("/api/v1/register-entries?status=pending&limit=200", &coordinator).await;
        pending.expect(200);
        let register_entry = pending.body["items"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| !payouts_to_reverse.iter().any(|p| e["payout_id"] == p.as_str()))
            .and_then(|e| e["id"].as_str())
            .expect("the pay run's payout is to be registered")
            .to_owned();

        Records {
            register_entry,
            citizen,
            task,
            draft_task: draft,
            tasks_to_open,
            tasks_to_complete,
            tasks_to_cancel,
            interested,
            offer_to_accept,
            offer_to_decline,
            accepted_to_approve,
            accepted_to_reject,
            placements_to_cancel,
            placements_to_no_show,
            placement,
            shifts_to_report,
            reports_to_confirm,
            reports_to_dispute,
            pay_run,
            company,
            coordinator,
            operator: app.operator(),
            citizen_id,
            applicant_id,
            company_id,
            frikort,
            employment_id,
            employments_to_end,
            payouts_to_reverse: payouts_to_reverse.try_into().expect("two payouts"),
            outside_income,
            statement,
        }
    }

    /// The token of a role.
    pub fn token(&self, role: Role) -> &str {
        match role {
            Role::Operator => &self.operator,
            Role::Coordinator => &self.coordinator,
            Role::Company => &self.company,
            Role::Citizen => &self.citizen,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Straight to the database, for what the API does not let a test set: the past.

/// Changes a placement's row.
pub fn edit_placement(app: &TestApp, id: &str, f: impl FnOnce(&mut PlacementRow)) {
    let mut conn = app.pool.get().unwrap();
    let (mut p, _, _) = placement_repo::find(&mut conn, id).unwrap();
    f(&mut p);
    placement_repo::update(&mut conn, &p).unwrap();
}

/// Changes a task's row.
pub fn edit_task(app: &TestApp, id: &str, f: impl FnOnce(&mut TaskRow)) {
    let mut conn = app.pool.get().unwrap();
    let (mut t, _, _) = task_repo::find(&mut conn, id).unwrap();
    f(&mut t);
    task_repo::update(&mut conn, &t).unwrap();
}

/// Changes the row of a citizen's card.
pub fn edit_card(app: &TestApp, citizen_id: &str, f: impl FnOnce(&mut CardRow)) {
    let mut conn = app.pool.get().unwrap();
    let mut card = card_repo::find_by_citizen(&mut conn, citizen_id).unwrap().expect("the citizen has a card");
    f(&mut card);
    card_repo::update(&mut conn, &card).unwrap();
}

/// When a placement was approved, as stored.
pub fn approved_at(app: &TestApp, placement: &str) -> NaiveDateTime {
    let mut conn = app.pool.get().unwrap();
    placement_repo::find(&mut conn, placement).unwrap().0.approved_at.expect("approved")
}

/// Backdates an offer (its offer time and last change) by `h` hours.
pub fn offered_hours_ago(app: &TestApp, placement: &str, h: i64) {
    let at = hours_ago(h);
    edit_placement(app, placement, |p| (p.offered_at, p.created_at, p.updated_at) = (Some(at), at, at));
}

// ---------------------------------------------------------------------------------------------
// Requests at once.

/// A `POST` to send alongside others.
pub struct Post {
    path: String,
    token: String,
    key: Option<String>,
    body: Value,
}

impl Post {
    /// A `POST` of `body` to `path` with `token`.
    pub fn new(path: &str, token: &str, body: &Value) -> Post {
        Post { path: path.to_owned(), token: token.to_owned(), key: None, body: body.clone() }
    }

    /// The same, with an `Idempotency-Key`.
    pub fn with_key(self, key: Option<String>) -> Post {
        Post { key, ..self }
    }
}

/// Sends every request at once, each in its own task; the responses in order.
pub async fn at_once(app: &Rc<TestApp>, posts: impl IntoIterator<Item = Post>) -> Vec<Resp> {
    let tasks: Vec<_> = posts
        .into_iter()
        .map(|post| {
            let app = Rc::clone(app);
            actix_web::rt::spawn(async move {
                match &post.key {
                    Some(key) => app.post_with_key(&post.path, &post.token, key, &post.body).await,
                    None => app.post(&post.path, &post.token, &post.body).await,
                }
            })
        })
        .collect();
    let mut responses = Vec::with_capacity(tasks.len());
    for task in tasks {
        responses.push(task.await.expect("the request task completes"));
    }
    responses
}

/// Statuses and problem codes, sorted.
pub fn outcomes(responses: &[Resp]) -> Vec<(u16, String)> {
    let mut o: Vec<_> =
        responses.iter().map(|r| (r.status, r.body["code"].as_str().unwrap_or("").to_owned())).collect();
    o.sort();
    o
}

// ---------------------------------------------------------------------------------------------
// Caps: only the operator changes one, with a reason, by confirming a preview.

/// The reason the cap-change helpers give.
pub const CAP_REASON: &str = "Satsregulering efter finansloven";

/// `setting` (`amount` or `regulation_percent`) with [`CAP_REASON`] unless it names a reason.
pub fn cap_change(setting: Value) -> Value {
    let mut body = setting;
    if body.get("reason").is_none() {
        body["reason"] = json!(CAP_REASON);
    }
    body
}

/// The operator's preview of a cap change (the body as given).
pub async fn preview_cap(app: &TestApp, year: i32, body: &Value) -> Resp {
    app.post(&format!("/api/v1/caps/{year}/preview"), &app.operator(), body).await
}

/// The operator previews a change of `year`'s cap ([`cap_change`] of `setting`) and confirms it
/// with the preview's fingerprint; the confirmation's answer.
pub async fn change_cap(app: &TestApp, year: i32, setting: Value) -> Resp {
    let body = cap_change(setting);
    let preview = preview_cap(app, year, &body).await;
    preview.expect(200);
    let mut confirmed = body;
    confirmed["confirm"] = preview.body["confirm"].clone();
    app.put(&format!("/api/v1/caps/{year}"), &app.operator(), &confirmed).await
}

// ---------------------------------------------------------------------------------------------
// Outside income and register statements.

/// Outside income paid on `paid`, from `employer_cvr` when given.
pub fn outside_income_body(paid: &str, amount: &str, employer_cvr: Option<&str>) -> Value {
    json!({ "payment_date": paid, "amount": amount, "employer_cvr": employer_cvr, "source": "Lønseddel fra Café Ærø ApS" })
}

/// Records outside income of a citizen as `token`.
pub async fn record_outside_income(app: &TestApp, token: &str, citizen: &str, body: &Value) -> Resp {
    app.post(&format!("/api/v1/citizens/{citizen}/outside-income"), token, body).await
}

/// A register statement file: the header and one `CVR;Arbejdsgiver;Udbetalingsdato;Beløb` line each.
pub fn statement_file(lines: &[&str]) -> String {
    let mut text = "CVR;Arbejdsgiver;Udbetalingsdato;Beløb\n".to_owned();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// Imports a register statement of `year` drawn on `drawn_on` for a citizen as `token`.
pub async fn import_statement(
    app: &TestApp,
    token: &str,
    citizen: &str,
    year: i32,
    drawn_on: &str,
    text: &str,
) -> Resp {
    let body = json!({ "year": year, "drawn_on": drawn_on, "statement": text });
    app.post(&format!("/api/v1/citizens/{citizen}/register-statements"), token, &body).await
}

/// Accepts a register statement as `token`.
pub async fn accept_statement(app: &TestApp, token: &str, statement: &str) -> Resp {
    app.request(&Method::POST, &format!("/api/v1/register-statements/{statement}/acceptance"), Some(token), None).await
}

// ---------------------------------------------------------------------------------------------
// Matching: citizens with a home, modes and a card, and tasks placed in Randers.

/// The work location of [`task_body`] (Vestergade 1, Randers).
pub const SITE: (f64, f64) = (56.4607, 10.0364);

/// A home `km` kilometres due north of [`SITE`].
pub fn km_north(km: f64) -> Value {
    json!({ "lat": SITE.0 + km / 111.2, "lon": SITE.1 })
}

/// Enrols a citizen with a home (`home`: a `{lat, lon}` object or null), transport modes and the
/// skills `opvask` and `kundeservice` (those [`task_body`] requires), and with a card valid from
/// today when `card`; returns the id.
pub async fn traveller(app: &TestApp, coord: &str, n: u32, home: Value, modes: &[&str], card: bool) -> String {
    let body = json!({
        "cpr": cpr(n), "name": format!("Borger {n}"), "home": home, "transport_modes": modes,
        "skills": ["opvask", "kundeservice"],
    });
    let r = app.post("/api/v1/citizens", coord, &body).await;
    r.expect(201);
    let id = r.body["id"].as_str().unwrap().to_owned();
    if card {
        app.issue_card(coord, &id).await;
    }
    id
}

/// A task's candidates as the coordinator sees them, for a query string (without the `?`).
pub async fn candidates(app: &TestApp, coord: &str, task: &str, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/tasks/{task}/candidates?{query}"), coord).await;
    r.expect(200);
    r.body.clone()
}

/// The citizen ids of a list of candidate views, in order.
pub fn candidate_ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|c| c["citizen_id"].as_str().unwrap().to_owned()).collect()
}

/// The synthetic GTFS feed in `tests/fixtures/gtfs/line` (one line, town → ring road →
/// industrial site and back, on weekdays of 2026–2027) as a zip, with some files replaced
/// (`Some(text)`) or left out (`None`).
pub fn gtfs_zip(changes: &[(&str, Option<&str>)]) -> Vec<u8> {
    use std::io::Write;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/gtfs/line");
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for name in names {
        let text = match changes.iter().find(|(n, _)| *n == name) {
            Some((_, None)) => continue,
            Some((_, Some(text))) => (*text).to_owned(),
            None => std::fs::read_to_string(dir.join(&name)).unwrap(),
        };
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// Uploads a GTFS zip as the coordinator's municipality's feed.
pub async fn upload_gtfs(app: &TestApp, token: &str, zip: Vec<u8>) -> Resp {
    app.send(awc::http::Method::POST, "/api/v1/gtfs", Some(token), Some("application/zip"), zip).await
}

/// `(company id, gross, exempt, taxable, covered gross, payouts)` in øre, per employer.
pub type EmployerSums = Vec<(String, i64, i64, i64, i64, i32)>;

/// Asserts that the employers' totals stored for a citizen-year equal those recomputed from the
/// year's payouts (not reversed) and their current splits, and that `employers` employers have
/// any; returns them.
pub fn assert_employer_totals_are_recomputable(
    app: &TestApp,
    citizen: &str,
    year: i32,
    employers: usize,
) -> EmployerSums {
    use smaajob_persistence::repo::{accounting, employer_totals};
    let mut conn = app.pool.get().unwrap();
    let stored: EmployerSums = employer_totals::of_year(&mut conn, citizen, year)
        .unwrap()
        .into_iter()
        .map(|(t, _)| {
            (
                t.company_id.to_string(),
                t.gross.ore(),
                t.exempt.ore(),
                t.taxable.ore(),
                t.covered_gross.ore(),
                t.payout_count,
            )
        })
        .collect();
    let mut recomputed: std::collections::BTreeMap<String, (i64, i64, i64, i64, i32)> = Default::default();
    for (p, reversed) in accounting::payouts_of_year(&mut conn, citizen, year).unwrap() {
        if reversed {
            continue;
        }
        let s = recomputed.entry(p.company_id.to_string()).or_default();
        s.0 += p.gross.ore();
        s.1 += p.exempt.ore();
        s.2 += p.taxable.ore();
        if p.coverage == smaajob_domain::Coverage::Covered {
            s.3 += p.gross.ore();
        }
        s.4 += 1;
    }
    let recomputed: EmployerSums = recomputed.into_iter().map(|(c, s)| (c, s.0, s.1, s.2, s.3, s.4)).collect();
    assert_eq!(stored, recomputed, "stored employer totals of {year} differ from the payouts");
    assert_eq!(stored.len(), employers, "{stored:?}");
    stored
}
