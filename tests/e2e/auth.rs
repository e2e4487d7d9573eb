//! Authentication and authorization: who may call which endpoint, what each role can see, which
//! tokens are refused, and tokens from an external identity provider (RS256/ES256, PEM or JWKS).

use std::collections::BTreeSet;

use awc::http::Method;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Datelike;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use smaajob_api::auth::{Claims, KeySource, Role};

use crate::both_backends;
#[allow(unused_imports)]
use crate::support::*;

// ---------------------------------------------------------------------------------------------
// The auth matrix: one row per endpoint under /api/v1.
// ---------------------------------------------------------------------------------------------

const COORDINATOR: &[Role] = &[Role::Coordinator];
const CITIZEN: &[Role] = &[Role::Citizen];
const COORDINATOR_OR_OWN_COMPANY: &[Role] = &[Role::Coordinator, Role::Company];
/// A coordinator of the employee's municipality, or the employing company itself.
const COORDINATOR_OR_EMPLOYER: &[Role] = &[Role::Coordinator, Role::Company];
const EVERY_ROLE: &[Role] = &[Role::Coordinator, Role::Company, Role::Citizen];
const COMPANY: &[Role] = &[Role::Company];
/// A coordinator of the task's municipality, or the company whose task it is.
const COORDINATOR_OR_TASK_OWNER: &[Role] = &[Role::Coordinator, Role::Company];

/// The year used for `{year}` in paths.
const CAP_YEAR: &str = "2030";

/// The world's citizen: holds a card, employed by the world's company.
const JENS: &str = "010190-1234";

/// An endpoint, the roles it serves and the status a request of such a role gets. Paths and
/// bodies name placeholders that [`World::fill`] fills in: `{citizen}`, `{applicant}`,
/// `{company}`, `{year}`, `{frikort}`, `{employment}`, `{employment_to_end}`,
/// `{payout_to_reverse}`, `{now}`, and for small jobs `{task}`, `{draft_task}`,
/// `{task_to_open}`, `{task_to_complete}`, `{task_to_cancel}`, `{interested}`,
/// `{offer_to_accept}`, `{offer_to_decline}`, `{accepted_to_approve}`, `{accepted_to_reject}`,
/// `{placement_to_cancel}`, `{placement_to_no_show}`, `{placement}`, `{shift_to_report}`,
/// `{report_to_confirm}` and `{report_to_dispute}`.
struct Endpoint {
    method: Method,
    template: &'static str,
    allowed: &'static [Role],
    ok: u16,
    body: Option<Value>,
    /// Roles the endpoint does not serve that may not even see the record the path names: they
    /// get 404, where the other roles it does not serve get 403.
    hidden_from: &'static [Role],
}

fn ep(method: Method, template: &'static str, allowed: &'static [Role], ok: u16, body: Option<Value>) -> Endpoint {
    Endpoint { method, template, allowed, ok, body, hidden_from: &[] }
}

/// Every endpoint under /api/v1. The success test sends the rows in this order, so a row may
/// rely on the rows above it (the applicant's card is issued before it is read, deactivated,
/// reactivated and its last decision re-timed; the world citizen's card is active when the
/// employment rows name it).
fn endpoints() -> Vec<Endpoint> {
    use Method as M;
    vec![
        ep(
            M::POST,
            "/api/v1/citizens",
            COORDINATOR,
            201,
            Some(json!({ "cpr": "020285-1234", "name": "Mette Jensen" })),
        ),
        ep(M::GET, "/api/v1/citizens", COORDINATOR, 200, None),
        ep(M::GET, "/api/v1/citizens/{citizen}", COORDINATOR, 200, None),
        ep(M::PATCH, "/api/v1/citizens/{citizen}", COORDINATOR, 200, Some(json!({ "phone": "+4512345678" }))),
        ep(M::GET, "/api/v1/me", CITIZEN, 200, None),
        ep(M::POST, "/api/v1/citizens/{applicant}/frikort", COORDINATOR, 201, Some(all_attested())),
        ep(M::GET, "/api/v1/citizens/{applicant}/frikort", COORDINATOR, 200, None),
        ep(
            M::POST,
            "/api/v1/citizens/{applicant}/frikort/deactivate",
            COORDINATOR,
            200,
            Some(json!({ "reason": "SU" })),
        ),
        ep(M::POST, "/api/v1/citizens/{applicant}/frikort/reactivate", COORDINATOR, 200, Some(all_attested())),
        // A control in the year of issue breaks a domain rule (422): the request got past authorization.
        ep(M::POST, "/api/v1/citizens/{applicant}/frikort/controls", COORDINATOR, 422, Some(all_attested())),
        // Re-times the reactivation just made to the moment of this request: after the
        // deactivation above and not in the future, so it is a valid correction.
        ep(
            M::POST,
            "/api/v1/citizens/{applicant}/frikort/decision-time",
            COORDINATOR,
            200,
            Some(json!({ "decided_at": "{now}", "reason": "Afgørelsen blev registreret for sent" })),
        ),
        ep(M::GET, "/api/v1/frikort/controls-due", COORDINATOR, 200, None),
        ep(M::GET, "/api/v1/caps", EVERY_ROLE, 200, None),
        ep(M::GET, "/api/v1/caps/{year}", EVERY_ROLE, 200, None),
        ep(M::PUT, "/api/v1/caps/{year}", COORDINATOR, 200, Some(json!({ "amount": "50000" }))),
        ep(
            M::POST,
            "/api/v1/companies",
            COORDINATOR,
            201,
            Some(json!({ "cvr": cvr(1), "name": "Tømrer Olsen ApS", "contact": { "name": "Ole Olsen" } })),
        ),
        ep(M::GET, "/api/v1/companies", COORDINATOR, 200, None),
        ep(M::GET, "/api/v1/companies/{company}", COORDINATOR_OR_OWN_COMPANY, 200, None),
        ep(M::PATCH, "/api/v1/companies/{company}", COORDINATOR, 200, Some(json!({ "verified": true }))),
        ep(M::GET, "/api/v1/audit", COORDINATOR, 200, None),
        // One body serves both roles: the CPR and card number name the citizen (a coordinator
        // may also name them by id, see the employment test below), and `company_id` is the
        // company's own id. Each allowed role registers one more employment.
        ep(
            M::POST,
            "/api/v1/employments",
            COORDINATOR_OR_EMPLOYER,
            201,
            Some(json!({
                "citizen": { "cpr": JENS, "frikort_number": "{frikort}" },
                "company_id": "{company}",
                "start_date": "2024-01-01",
                "contact": { "name": "Karen Bager" },
            })),
        ),
        ep(M::GET, "/api/v1/employments", EVERY_ROLE, 200, None),
        ep(M::GET, "/api/v1/employments/{employment}", EVERY_ROLE, 200, None),
        // An employment ends once (again: 409), so each allowed role ends its own.
        ep(
            M::POST,
            "/api/v1/employments/{employment_to_end}/end",
            COORDINATOR_OR_EMPLOYER,
            200,
            Some(json!({ "reason": "Sæsonen er slut" })),
        ),
        ep(
            M::POST,
            "/api/v1/employments/{employment}/payouts",
            COORDINATOR_OR_EMPLOYER,
            201,
            Some(payout_body("2024-06-28", "2024-06-03", "2024-06-27", "1000.00")),
        ),
        ep(M::GET, "/api/v1/employments/{employment}/payouts", EVERY_ROLE, 200, None),
        // A payout is reversed once (again: 409), so each allowed role reverses its own.
        ep(
            M::POST,
            "/api/v1/payouts/{payout_to_reverse}/reversal",
            COORDINATOR_OR_EMPLOYER,
            201,
            Some(json!({ "reason": "Forkert timetal" })),
        ),
        ep(M::GET, "/api/v1/adjustments", EVERY_ROLE, 200, None),
        // The company employs the citizen, so it may read the remaining amount.
        ep(M::GET, "/api/v1/citizens/{citizen}/balance", COORDINATOR_OR_EMPLOYER, 200, None),
        ep(M::GET, "/api/v1/me/balance", CITIZEN, 200, None),
        // --- Small jobs ---
        // The world's company is registered already: 409 `company_exists` is as far as a
        // registered company's token gets, past authorization (other roles: 403). An unregistered
        // CVR's 201 is tested on its own below.
        ep(
            M::POST,
            "/api/v1/companies/self",
            COMPANY,
            409,
            Some(json!({ "name": "Bager Hansen ApS", "municipality": "730", "contact": { "name": "Karen Bager" } })),
        ),
        ep(M::GET, "/api/v1/companies/self", COMPANY, 200, None),
        // A company names itself, a coordinator names the company: one body serves both.
        ep(M::POST, "/api/v1/tasks", COORDINATOR_OR_TASK_OWNER, 201, Some(task_for_company("{company}"))),
        ep(M::GET, "/api/v1/tasks", COORDINATOR_OR_TASK_OWNER, 200, None),
        // An open task of the citizen's municipality: every role sees it.
        ep(M::GET, "/api/v1/tasks/{task}", EVERY_ROLE, 200, None),
        ep(
            M::PATCH,
            "/api/v1/tasks/{draft_task}",
            COORDINATOR_OR_TASK_OWNER,
            200,
            Some(json!({ "title": "Ny titel" })),
        ),
        // A task opens, completes and is cancelled once (again: 409), so each allowed role
        // acts on its own task.
        ep(M::POST, "/api/v1/tasks/{task_to_open}/open", COORDINATOR_OR_TASK_OWNER, 200, None),
        ep(M::POST, "/api/v1/tasks/{task_to_complete}/complete", COORDINATOR_OR_TASK_OWNER, 200, None),
        ep(
            M::POST,
            "/api/v1/tasks/{task_to_cancel}/cancel",
            COORDINATOR_OR_TASK_OWNER,
            200,
            Some(json!({ "reason": "Opgaven blev aflyst" })),
        ),
        ep(M::GET, "/api/v1/me/tasks", CITIZEN, 200, None),
        ep(
            M::POST,
            "/api/v1/placements",
            COORDINATOR,
            201,
            Some(json!({ "task_id": "{task}", "citizen_id": "{applicant}" })),
        ),
        ep(M::POST, "/api/v1/me/tasks/{task}/interest", CITIZEN, 201, None),
        ep(M::GET, "/api/v1/placements", EVERY_ROLE, 200, None),
        ep(M::GET, "/api/v1/me/offers", CITIZEN, 200, None),
        // The citizen's approved placement on the company's task.
        ep(M::GET, "/api/v1/placements/{placement}", EVERY_ROLE, 200, None),
        // Every placement below is the world citizen's on the company's task, so the coordinator
        // and the citizen see it and get 403 for a step that is not theirs. The company sees only
        // the placements it was given (approved ones): until then it gets 404. Each step succeeds
        // once.
        ep(M::POST, "/api/v1/placements/{interested}/offer", COORDINATOR, 200, None).hidden_from(COMPANY),
        ep(M::POST, "/api/v1/me/offers/{offer_to_accept}/accept", CITIZEN, 200, None).hidden_from(COMPANY),
        ep(M::POST, "/api/v1/me/offers/{offer_to_decline}/decline", CITIZEN, 200, None).hidden_from(COMPANY),
        ep(
            M::POST,
            "/api/v1/placements/{accepted_to_approve}/approve",
            COORDINATOR,
            200,
            Some(json!({ "accept_taxable_excess": true })),
        ),
        ep(
            M::POST,
            "/api/v1/placements/{accepted_to_reject}/reject",
            COORDINATOR,
            200,
            Some(json!({ "reason": "Opgaven passer ikke til borgeren" })),
        )
        .hidden_from(COMPANY),
        // Approved placements: the coordinator or the company cancels or records a no-show, each
        // on its own (the citizen withdraws only before approval; an approved one is refused 403).
        ep(M::POST, "/api/v1/placements/{placement_to_cancel}/cancel", COORDINATOR_OR_EMPLOYER, 200, None),
        ep(M::POST, "/api/v1/placements/{placement_to_no_show}/no-show", COORDINATOR_OR_EMPLOYER, 200, None),
        // A shift's hours are reported once (again: 409), so each allowed role reports its own shift.
        ep(
            M::POST,
            "/api/v1/placements/{placement}/hours",
            COORDINATOR_OR_EMPLOYER,
            201,
            Some(json!({ "shift_date": "{shift_to_report}", "hours": "1" })),
        ),
        ep(M::GET, "/api/v1/placements/{placement}/hours", EVERY_ROLE, 200, None),
        // Hours are answered once, by the side that did not report them: the coordinator answers
        // a company's report, the company a coordinator's, the citizen either. Each role gets its
        // own report (confirmed hours become a payout: 201).
        ep(M::POST, "/api/v1/hours/{report_to_confirm}/confirm", EVERY_ROLE, 201, None),
        ep(
            M::POST,
            "/api/v1/hours/{report_to_dispute}/dispute",
            EVERY_ROLE,
            200,
            Some(json!({ "reason": "Der blev kun arbejdet en halv time" })),
        ),
        ep(M::GET, "/api/v1/queue", COORDINATOR, 200, None),
        ep(M::GET, "/api/v1/stats/placements", COORDINATOR, 200, None),
    ]
}

/// The day `offset` days from today (UTC; Copenhagen is never behind, so a negative offset is
/// always a past day there too).
fn day(offset: i64) -> chrono::NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Duration::days(offset)
}

/// A small job in time slot `slot` of the day: one paid hour from 06:00 + `slot` every day from
/// three weeks ago to two weeks ahead. Its past shifts take hours; distinct slots never overlap,
/// so the world citizen can be approved on several.
fn small_job(slot: u32) -> Value {
    json!({
        "title": format!("Småjob {slot}"),
        "description": "Fej gården og bær kasser ind.",
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

/// A small job naming its company, as a coordinator creates it.
fn task_for_company(company_id: &str) -> Value {
    let mut body = small_job(0);
    body["company_id"] = json!(company_id);
    body
}

fn id_of(r: &Resp, status: u16) -> String {
    r.expect(status);
    r.body["id"].as_str().expect("an id").to_owned()
}

/// Creates a draft task; returns its id.
async fn draft_task(app: &TestApp, token: &str, body: &Value) -> String {
    id_of(&app.post("/api/v1/tasks", token, body).await, 201)
}

/// Creates and opens a task; returns its id.
async fn open_task(app: &TestApp, token: &str, body: &Value) -> String {
    let id = draft_task(app, token, body).await;
    app.post(&format!("/api/v1/tasks/{id}/open"), token, &json!({})).await.expect(200);
    id
}

/// The coordinator offers `task` to `citizen`; returns the placement.
async fn offer(app: &TestApp, coordinator: &str, task: &str, citizen: &str) -> String {
    id_of(&app.post("/api/v1/placements", coordinator, &json!({ "task_id": task, "citizen_id": citizen })).await, 201)
}

/// An offer the citizen accepted.
async fn accepted(app: &TestApp, coordinator: &str, task: &str, citizen: &str) -> String {
    let p = offer(app, coordinator, task, citizen).await;
    app.post(&format!("/api/v1/me/offers/{p}/accept"), &app.citizen(citizen), &json!({})).await.expect(200);
    p
}

/// An accepted offer the coordinator approved.
async fn approved(app: &TestApp, coordinator: &str, task: &str, citizen: &str) -> String {
    let p = accepted(app, coordinator, task, citizen).await;
    let r = app
        .post(&format!("/api/v1/placements/{p}/approve"), coordinator, &json!({ "accept_taxable_excess": true }))
        .await;
    r.expect(200);
    p
}

/// The citizen's interest in an open task.
async fn interest(app: &TestApp, citizen_token: &str, task: &str) -> String {
    id_of(&app.post(&format!("/api/v1/me/tasks/{task}/interest"), citizen_token, &json!({})).await, 201)
}

/// One hour reported on the placement's shift of `date`; returns the report.
async fn report(app: &TestApp, token: &str, placement: &str, date: chrono::NaiveDate) -> String {
    let body = json!({ "shift_date": date, "hours": "1" });
    id_of(&app.post(&format!("/api/v1/placements/{placement}/hours"), token, &body).await, 201)
}

/// Real records and a token of each role, so requests in the matrix would otherwise succeed.
struct World {
    /// Enrolled in 730 with a card since 2019, employed by the company since 2024.
    citizen_id: String,
    /// Enrolled in 730 without a card.
    applicant_id: String,
    company_id: String,
    /// The citizen's card number.
    frikort: String,
    /// The citizen's employment at the company.
    employment_id: String,
    /// One-shot records: per role allowed to end an employment or reverse a payout, its own
    /// employment to end and its own payout (on `employment_id`) to reverse. See [`one_shot`].
    employments_to_end: [String; 2],
    payouts_to_reverse: [String; 2],
    /// Small jobs, all the (verified) company's in 730. Open, with nothing of the citizen's on it.
    task: String,
    draft_task: String,
    /// One-shot records, per role as in [`one_shot`]: drafts to open, open tasks to complete
    /// and to cancel.
    tasks_to_open: [String; 2],
    tasks_to_complete: [String; 2],
    tasks_to_cancel: [String; 2],
    /// The citizen's placements, each on its own open task (a citizen has one live placement
    /// per task): interested, offered (two), accepted (two), and approved ones to cancel and to
    /// record a no-show on, per role as in [`one_shot`].
    interested: String,
    offer_to_accept: String,
    offer_to_decline: String,
    accepted_to_approve: String,
    accepted_to_reject: String,
    placements_to_cancel: [String; 2],
    placements_to_no_show: [String; 2],
    /// The citizen's approved placement whose past shifts take hours.
    placement: String,
    /// Past shifts of `placement` without hours, per role as in [`one_shot`].
    shifts_to_report: [String; 2],
    /// Hours on `placement` for each role to answer, per role as in [`per_role`]: the
    /// coordinator's and the citizen's reported by the company, the company's by the coordinator.
    reports_to_confirm: [String; 3],
    reports_to_dispute: [String; 3],
    coordinator: String,
    company: String,
    citizen: String,
}

impl World {
    async fn new(app: &TestApp) -> World {
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
        let placement = approved(app, &coordinator, &hours_job, c).await;
        let placements_to_cancel =
            [approved(app, &coordinator, &cancel_a, c).await, approved(app, &coordinator, &cancel_b, c).await];
        let placements_to_no_show =
            [approved(app, &coordinator, &no_show_a, c).await, approved(app, &coordinator, &no_show_b, c).await];
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
        let by_company = |days_ago: i64| report(app, &company, &placement, day(-days_ago));
        let by_coordinator = |days_ago: i64| report(app, &coordinator, &placement, day(-days_ago));
        let reports_to_confirm = [by_company(1).await, by_coordinator(2).await, by_company(3).await];
        let reports_to_dispute = [by_company(4).await, by_coordinator(5).await, by_company(6).await];
        let shifts_to_report = [day(-7).to_string(), day(-8).to_string()];

        World {
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
            company,
            coordinator,
            citizen_id,
            applicant_id,
            company_id,
            frikort,
            employment_id,
            employments_to_end,
            payouts_to_reverse: payouts_to_reverse.try_into().expect("two payouts"),
        }
    }

    fn token(&self, role: Role) -> &str {
        match role {
            Role::Coordinator => &self.coordinator,
            Role::Company => &self.company,
            Role::Citizen => &self.citizen,
        }
    }

    /// Fills the placeholders of a path or body for a request as `role` (`None`: no token).
    fn fill(&self, text: &str, role: Option<Role>) -> String {
        text.replace("{citizen}", &self.citizen_id)
            .replace("{applicant}", &self.applicant_id)
            .replace("{company}", &self.company_id)
            .replace("{year}", CAP_YEAR)
            .replace("{frikort}", &self.frikort)
            .replace("{employment}", &self.employment_id)
            .replace("{employment_to_end}", one_shot(&self.employments_to_end, role))
            .replace("{payout_to_reverse}", one_shot(&self.payouts_to_reverse, role))
            .replace("{now}", &chrono::Utc::now().to_rfc3339())
            .replace("{task}", &self.task)
            .replace("{draft_task}", &self.draft_task)
            .replace("{task_to_open}", one_shot(&self.tasks_to_open, role))
            .replace("{task_to_complete}", one_shot(&self.tasks_to_complete, role))
            .replace("{task_to_cancel}", one_shot(&self.tasks_to_cancel, role))
            .replace("{interested}", &self.interested)
            .replace("{offer_to_accept}", &self.offer_to_accept)
            .replace("{offer_to_decline}", &self.offer_to_decline)
            .replace("{accepted_to_approve}", &self.accepted_to_approve)
            .replace("{accepted_to_reject}", &self.accepted_to_reject)
            .replace("{placement_to_cancel}", one_shot(&self.placements_to_cancel, role))
            .replace("{placement_to_no_show}", one_shot(&self.placements_to_no_show, role))
            .replace("{placement}", &self.placement)
            .replace("{shift_to_report}", one_shot(&self.shifts_to_report, role))
            .replace("{report_to_confirm}", per_role(&self.reports_to_confirm, role))
            .replace("{report_to_dispute}", per_role(&self.reports_to_dispute, role))
    }
}

/// The record of a request that succeeds only once per record: the company's for a company
/// token, the coordinator's for any other (a refused request changes nothing).
fn one_shot(records: &[String; 2], role: Option<Role>) -> &str {
    if role == Some(Role::Company) { &records[1] } else { &records[0] }
}

/// Like [`one_shot`] for requests every role may make: the coordinator's (also for no token),
/// the company's, the citizen's.
fn per_role(records: &[String; 3], role: Option<Role>) -> &str {
    match role {
        None | Some(Role::Coordinator) => &records[0],
        Some(Role::Company) => &records[1],
        Some(Role::Citizen) => &records[2],
    }
}

impl Endpoint {
    fn hidden_from(self, roles: &'static [Role]) -> Endpoint {
        Endpoint { hidden_from: roles, ..self }
    }

    fn label(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    async fn send(&self, app: &TestApp, w: &World, role: Option<Role>) -> Resp {
        self.send_with(app, w, role, role.map(|r| w.token(r))).await
    }

    /// Sends the request filled in for `role`, with any token.
    async fn send_with(&self, app: &TestApp, w: &World, role: Option<Role>, token: Option<&str>) -> Resp {
        let path = w.fill(self.template, role);
        let body = self.body.as_ref().map(|b| serde_json::from_str(&w.fill(&b.to_string(), role)).expect("JSON"));
        send(app, &self.method, &path, token, body.as_ref()).await
    }
}

/// Sends a request with an optional token and an optional JSON body.
async fn send(app: &TestApp, method: &Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Resp {
    match body {
        Some(b) => {
            app.send(method.clone(), path, token, Some("application/json"), serde_json::to_vec(b).unwrap()).await
        }
        None => app.send(method.clone(), path, token, None, Vec::new()).await,
    }
}

/// `/api/v1/citizens/{id}` → `/api/v1/citizens/{}`, so table templates and OpenAPI paths compare.
fn normalized(method: &str, template: &str) -> String {
    let path: Vec<&str> = template.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect();
    format!("{} {}", method.to_uppercase(), path.join("/"))
}

/// Asserts a problem, naming what was sent when it fails.
fn assert_problem(r: &Resp, status: u16, code: &str, what: &str) {
    assert_eq!((r.status, r.body["code"].as_str()), (status, Some(code)), "{what}: {}", r.body);
    r.expect_problem(status, code);
}

/// Asserts a 401 `invalid_token` problem with a Bearer challenge naming the error.
fn assert_invalid_token(r: &Resp, what: &str) {
    assert_problem(r, 401, "invalid_token", what);
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{what}: challenge {challenge:?}");
    assert!(challenge.contains(r#"error="invalid_token""#), "{what}: challenge {challenge:?}");
}

// ---------------------------------------------------------------------------------------------
// Tokens.
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// A company token naming an unregistered CVR number (`Principal::NewCompany`): it may only
// register the company.
// ---------------------------------------------------------------------------------------------

fn is_self_registration(e: &Endpoint) -> bool {
    e.method == Method::POST && e.template == "/api/v1/companies/self"
}

/// Sends the rows `which` selects with an unregistered company's token (filled in as for a
/// company) and lists each answer other than 403 `forbidden`.
async fn answers_to_an_unregistered_company(
    app: &TestApp,
    w: &World,
    token: &str,
    which: impl Fn(&Endpoint) -> bool,
) -> Vec<String> {
    let mut answered = Vec::new();
    for e in endpoints().iter().filter(|e| which(e)) {
        let r = e.send_with(app, w, Some(Role::Company), Some(token)).await;
        if (r.status, r.body["code"].as_str()) == (403, Some("forbidden")) {
            r.expect_problem(403, "forbidden");
        } else {
            answered.push(format!("{} → {} {}", e.label(), r.status, r.body["code"]));
        }
    }
    answered
}

/// A coordinator endpoint whose answer depends on the token only.
const PROBE: &str = "/api/v1/citizens";

/// Valid claims of a coordinator of Randers (730).
fn coordinator_claims() -> Claims {
    Claims { municipality: Some("730".into()), ..claims(Role::Coordinator, "coord-730") }
}

/// Signs anything serializable with the given algorithm, key and optional `kid`.
fn sign<T: serde::Serialize>(alg: Algorithm, key: &EncodingKey, kid: Option<&str>, claims: &T) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).expect("the token signs")
}

/// Signs with the test servers' shared secret, but with any algorithm.
fn sign_secret<T: serde::Serialize>(alg: Algorithm, claims: &T) -> String {
    sign(alg, &EncodingKey::from_secret(SECRET.as_bytes()), None, claims)
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

/// Replaces a token's payload and keeps its header and signature.
fn with_payload(token: &str, payload: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS has three parts");
    format!("{}.{}.{}", parts[0], b64(payload), parts[2])
}

/// A token's payload, decoded.
fn payload_of(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("a payload part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// Sends `GET path` with a raw `Authorization` header value.
async fn get_with_authorization(app: &TestApp, path: &str, authorization: &str) -> Resp {
    let mut res = awc::Client::default()
        .get(format!("{}{}", app.base, path))
        .insert_header(("Authorization", authorization))
        .send()
        .await
        .expect("the server answers");
    let raw = res.body().await.expect("the body is readable").to_vec();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Resp { status: res.status().as_u16(), headers: res.headers().clone(), body, raw }
}

/// Asserts that `token` is refused as invalid on the probe endpoint.
async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    assert_invalid_token(&app.get(PROBE, token).await, what);
}

/// Asserts that `token` is accepted on the probe endpoint.
async fn assert_accepted(app: &TestApp, token: &str, what: &str) {
    let r = app.get(PROBE, token).await;
    assert_eq!(r.status, 200, "{what}: {}", r.body);
}

fn ids(items: &Value) -> Vec<&str> {
    items.as_array().expect("an array").iter().map(|i| i["id"].as_str().expect("an id")).collect()
}

fn citizen_ids(items: &Value) -> Vec<&str> {
    items.as_array().expect("an array").iter().map(|i| i["citizen_id"].as_str().expect("a citizen id")).collect()
}

/// The `payout_id`s of a list of adjustments.
fn payout_ids(items: &Value) -> Vec<&str> {
    items.as_array().expect("an array").iter().map(|i| i["payout_id"].as_str().expect("a payout id")).collect()
}

/// Sends a request that must be refused as 404 `not_found`, and the same request with `id`
/// replaced by an id that does not exist: the two answers must not differ, so ids cannot be probed.
async fn assert_hidden(app: &TestApp, token: &str, method: &Method, path: &str, id: &str, body: Option<&Value>) {
    let what = format!("{method} {path}");
    let r = send(app, method, path, Some(token), body).await;
    assert_problem(&r, 404, "not_found", &what);
    let unknown = path.replace(id, &uuid::Uuid::new_v4().to_string());
    let none = send(app, method, &unknown, Some(token), body).await;
    assert_problem(&none, 404, "not_found", &format!("{what} with an unknown id"));
    assert_eq!(r.body["detail"], none.body["detail"], "{what}");
}

const METTE: &str = "020285-1234";

/// Randers (730) with two companies and two card holders: Jens works for A and for B, Mette for
/// B only. A paid Jens 40 000 kr in March 2024 and B paid him 10 000 kr in April, crossing the
/// 2024 cap (41 280 kr); then A reversed its payout, which re-split B's: an adjustment of B's.
/// B also paid Mette 1 000 kr.
struct TwoEmployers {
    coordinator: String,
    jens: String,
    jens_card: String,
    mette: String,
    a: String,
    b: String,
    a_token: String,
    b_token: String,
    jens_at_a: String,
    jens_at_b: String,
    mette_at_b: String,
    a_to_jens: String,
    b_to_jens: String,
    b_to_mette: String,
    /// A's reversal of its payout, as A got it.
    reversal: Resp,
}

impl TwoEmployers {
    async fn new(app: &TestApp) -> TwoEmployers {
        let coordinator = app.coordinator("730");
        let (jens, jens_card) = app.card_holder(&coordinator, JENS, "Jens Hansen", "2019-01-01").await;
        let (mette, mette_card) = app.card_holder(&coordinator, METTE, "Mette Jensen", "2019-01-01").await;
        let a = app.register_company(&coordinator, CVR_A, "Bager Hansen ApS").await;
        let b = app.register_company(&coordinator, &cvr(2), "Tømrer Olsen ApS").await;
        let (a_token, b_token) = (app.company(&a), app.company(&b));
        let jens_at_a = app.register_employment(&a_token, &employment_by_card(JENS, &jens_card, "2024-01-01")).await;
        let jens_at_b = app.register_employment(&b_token, &employment_by_card(JENS, &jens_card, "2024-01-01")).await;
        let mette_at_b = app.register_employment(&b_token, &employment_by_card(METTE, &mette_card, "2024-01-01")).await;
        let paid = |r: Resp| {
            r.expect(201);
            r.body["payout"]["id"].as_str().expect("a payout id").to_owned()
        };
        let march = payout_body("2024-03-28", "2024-03-01", "2024-03-27", "40000.00");
        let a_to_jens = paid(app.payout(&a_token, &jens_at_a, &march).await);
        let april = payout_body("2024-04-30", "2024-04-01", "2024-04-29", "10000.00");
        let crossed = app.payout(&b_token, &jens_at_b, &april).await;
        assert_eq!(crossed.body["payout"]["taxable"], "8720.00", "{}", crossed.body);
        let b_to_jens = paid(crossed);
        let april = payout_body("2024-04-30", "2024-04-01", "2024-04-29", "1000.00");
        let b_to_mette = paid(app.payout(&b_token, &mette_at_b, &april).await);
        let path = format!("/api/v1/payouts/{a_to_jens}/reversal");
        let reversal = app.post(&path, &a_token, &json!({ "reason": "Udbetalt to gange" })).await;
        reversal.expect(201);
        // B's payout is now wholly exempt, and B has an adjustment to report.
        let own = app.get("/api/v1/adjustments", &b_token).await;
        own.expect(200);
        assert!(payout_ids(&own.body["items"]).contains(&b_to_jens.as_str()), "{}", own.body);
        TwoEmployers {
            coordinator,
            jens,
            jens_card,
            mette,
            a,
            b,
            a_token,
            b_token,
            jens_at_a,
            jens_at_b,
            mette_at_b,
            a_to_jens,
            b_to_jens,
            b_to_mette,
            reversal,
        }
    }
}

both_backends! {
    // --- 1. The auth matrix ----------------------------------------------------------------

    async fn the_auth_matrix_lists_every_endpoint_of_the_openapi_description(app) {
        let spec = app.send(Method::GET, "/openapi.json", None, None, Vec::new()).await;
        spec.expect(200);
        let mut served = BTreeSet::new();
        for (path, item) in spec.body["paths"].as_object().unwrap() {
            if !path.starts_with("/api/v1/") {
                continue;
            }
            for method in ["get", "put", "post", "patch", "delete"] {
                if item.get(method).is_some() {
                    served.insert(normalized(method, path));
                }
            }
        }
        let table: BTreeSet<String> =
            endpoints().iter().map(|e| normalized(e.method.as_str(), e.template)).collect();
        let missing: Vec<&String> = served.difference(&table).collect();
        assert!(missing.is_empty(), "add a row to `endpoints()` for each of {missing:?}");
        let gone: Vec<&String> = table.difference(&served).collect();
        assert!(gone.is_empty(), "`endpoints()` lists endpoints the server does not serve: {gone:?}");
        assert_eq!(table.len(), endpoints().len(), "an endpoint is listed twice");
    }

    async fn a_request_without_a_token_is_refused_with_a_bearer_challenge_on_every_endpoint(app) {
        let w = World::new(&app).await;
        for e in endpoints() {
            let r = e.send(&app, &w, None).await;
            assert_problem(&r, 401, "missing_token", &e.label());
            // RFC 6750 § 3.1: a request without credentials gets a challenge without an error code.
            let challenge = r.header("www-authenticate").unwrap_or_default();
            assert_eq!(challenge, r#"Bearer realm="smaajob""#, "{}", e.label());
        }
    }

    async fn a_token_of_a_role_an_endpoint_does_not_serve_is_forbidden_on_every_endpoint(app) {
        let w = World::new(&app).await;
        let (mut refused, mut hidden) = (0, 0);
        for e in endpoints() {
            for role in EVERY_ROLE.iter().filter(|r| !e.allowed.contains(r)) {
                let r = e.send(&app, &w, Some(*role)).await;
                let what = format!("{} as {}", e.label(), role.as_str());
                if e.hidden_from.contains(role) {
                    assert_problem(&r, 404, "not_found", &what);
                    hidden += 1;
                } else {
                    assert_problem(&r, 403, "forbidden", &what);
                    refused += 1;
                }
            }
        }
        // The company on the offer, acceptance, declining and rejection of a placement it was
        // never given.
        assert_eq!(hidden, 4);
        // 16 coordinator-only endpoints × 2 roles, /me and /me/balance × 2, and the citizen on
        // GET /companies/{id}, GET /citizens/{id}/balance and the 4 employment and payout writes.
        // Small jobs: 6 coordinator-only endpoints (offer, interest to offer, approve, reject,
        // queue, statistics) and 2 company-only ones (/companies/self) × 2 roles; 5 citizen-only
        // ones (/me/tasks, interest, /me/offers, accept, decline) × 2; the citizen on the 7 of
        // coordinators and companies (creating, listing, changing, opening, completing and
        // cancelling tasks; reporting hours) and on cancelling or no-showing an approved
        // placement; less the 4 hidden from the company.
        assert_eq!(refused, 16 * 2 + 2 * 2 + 6 + 8 * 2 + 5 * 2 + 7 + 2 - 4);
    }

    async fn every_endpoint_succeeds_for_each_role_it_serves(app) {
        let w = World::new(&app).await;
        for e in endpoints() {
            for role in e.allowed {
                let r = e.send(&app, &w, Some(*role)).await;
                assert_eq!(r.status, e.ok, "{} as {}: {}", e.label(), role.as_str(), r.body);
            }
        }
        // Each role allowed to end an employment or reverse a payout used up its own record.
        for id in &w.employments_to_end {
            let e = app.get(&format!("/api/v1/employments/{id}"), &w.coordinator).await;
            assert_eq!(e.expect(200).body["status"], "ended", "{}", e.body);
        }
        let payouts = app.get(&format!("/api/v1/employments/{}/payouts", w.employment_id), &w.coordinator).await;
        payouts.expect(200);
        let reversed: BTreeSet<&str> = payouts.body.as_array().unwrap().iter()
            .filter(|p| p["reversed"] == true)
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(reversed, w.payouts_to_reverse.iter().map(String::as_str).collect());
        // … and each role allowed to step a task, a placement or hours used up its own.
        let tasks =
            [(&w.tasks_to_open, "open"), (&w.tasks_to_complete, "completed"), (&w.tasks_to_cancel, "cancelled")];
        for (ids, status) in tasks {
            for id in ids {
                let t = app.get(&format!("/api/v1/tasks/{id}"), &w.coordinator).await;
                assert_eq!(t.expect(200).body["status"], status, "{}", t.body);
            }
        }
        let placements = [
            (&w.interested, "offered"),
            (&w.offer_to_accept, "accepted"),
            (&w.offer_to_decline, "declined"),
            (&w.accepted_to_approve, "approved"),
            (&w.accepted_to_reject, "rejected"),
            (&w.placements_to_cancel[0], "cancelled"),
            (&w.placements_to_cancel[1], "cancelled"),
            (&w.placements_to_no_show[0], "no_show"),
            (&w.placements_to_no_show[1], "no_show"),
        ];
        for (id, state) in placements {
            let p = app.get(&format!("/api/v1/placements/{id}"), &w.coordinator).await;
            assert_eq!(p.expect(200).body["state"], state, "{}", p.body);
        }
        let hours = app.get(&format!("/api/v1/placements/{}/hours", w.placement), &w.coordinator).await;
        hours.expect(200);
        let status_of = |id: &str| {
            hours.body["items"].as_array().unwrap().iter().find(|r| r["id"] == id).map(|r| r["status"].clone())
        };
        for id in &w.reports_to_confirm {
            assert_eq!(status_of(id), Some(json!("confirmed")), "{}", hours.body);
        }
        for id in &w.reports_to_dispute {
            assert_eq!(status_of(id), Some(json!("disputed")), "{}", hours.body);
        }
        let reported: BTreeSet<&str> = hours.body["items"].as_array().unwrap().iter()
            .map(|r| r["shift_date"].as_str().unwrap())
            .collect();
        assert!(w.shifts_to_report.iter().all(|d| reported.contains(d.as_str())), "{}", hours.body);
    }

    async fn an_unregistered_companys_token_is_forbidden_everywhere_but_self_registration(app) {
        let w = World::new(&app).await;
        let token = app.company_cvr_token(&cvr(5));
        let checked = |e: &Endpoint| !is_self_registration(e);
        let answered = answers_to_an_unregistered_company(&app, &w, &token, checked).await;
        assert!(answered.is_empty(), "an unregistered company was not refused 403: {answered:#?}");
        // Nothing was registered on its behalf meanwhile; now it registers itself and is a company.
        let e = endpoints().into_iter().find(is_self_registration).expect("the self-registration row");
        let r = e.send_with(&app, &w, Some(Role::Company), Some(&token)).await;
        r.expect(201);
        assert_eq!((r.body["cvr"].as_str(), r.body["verified"].as_bool()), (Some(cvr(5).as_str()), Some(false)));
        let me = app.get("/api/v1/companies/self", &token).await;
        assert_eq!(me.expect(200).body["id"], r.body["id"]);
        let tasks = app.get("/api/v1/tasks", &token).await;
        assert_eq!(tasks.expect(200).body["total"], 0, "none of the other company's tasks: {}", tasks.body);
    }

    async fn the_caps_are_readable_by_every_authenticated_role(app) {
        let w = World::new(&app).await;
        let by_coordinator = app.get("/api/v1/caps", &w.coordinator).await;
        by_coordinator.expect(200);
        let year = app.get("/api/v1/caps/2025", &w.coordinator).await;
        year.expect(200);
        assert_eq!(year.body["amount"], "42766.00");
        for role in [Role::Company, Role::Citizen] {
            let all = app.get("/api/v1/caps", w.token(role)).await;
            all.expect(200);
            assert_eq!(all.body, by_coordinator.body, "{}", role.as_str());
            let one = app.get("/api/v1/caps/2025", w.token(role)).await;
            one.expect(200);
            assert_eq!(one.body, year.body, "{}", role.as_str());
            let put = app.put("/api/v1/caps/2030", w.token(role), &json!({ "amount": "50000" })).await;
            put.expect_problem(403, "forbidden");
        }
    }

    // --- 2. Scope ------------------------------------------------------------------------

    async fn a_coordinator_gets_404_for_every_citizen_endpoint_on_a_citizen_of_another_municipality(app) {
        let randers = app.coordinator("730");
        let aarhus = app.coordinator("751");
        let with_card = app.enrol(&randers, "010190-1234", "Jens Hansen").await;
        app.issue_card(&randers, &with_card).await;
        let without_card = app.enrol(&randers, "020285-1234", "Mette Jensen").await;
        let cases = [
            (Method::GET, format!("/api/v1/citizens/{with_card}"), None),
            (Method::PATCH, format!("/api/v1/citizens/{with_card}"), Some(json!({ "name": "Someone Else" }))),
            (Method::PATCH, format!("/api/v1/citizens/{with_card}"), Some(json!({ "municipality": "751" }))),
            (Method::POST, format!("/api/v1/citizens/{without_card}/frikort"), Some(all_attested())),
            (Method::GET, format!("/api/v1/citizens/{with_card}/frikort"), None),
            (Method::POST, format!("/api/v1/citizens/{with_card}/frikort/deactivate"), Some(json!({ "reason": "SU" }))),
            (Method::POST, format!("/api/v1/citizens/{with_card}/frikort/reactivate"), Some(all_attested())),
            (Method::POST, format!("/api/v1/citizens/{with_card}/frikort/controls"), Some(all_attested())),
            (
                Method::POST,
                format!("/api/v1/citizens/{with_card}/frikort/decision-time"),
                Some(json!({ "decided_at": "2024-01-01T00:00:00Z", "reason": "Forkert tidspunkt" })),
            ),
            (Method::GET, format!("/api/v1/citizens/{with_card}/balance"), None),
            (Method::GET, format!("/api/v1/citizens/{with_card}/balance?year=2024"), None),
        ];
        let unknown = uuid::Uuid::new_v4().to_string();
        for (method, path, body) in cases {
            let what = format!("{method} {path} by 751");
            let r = send(&app, &method, &path, Some(&aarhus), body.as_ref()).await;
            assert_problem(&r, 404, "not_found", &what);
            // Indistinguishable from an id that does not exist, so ids cannot be probed.
            let path = path.replace(&with_card, &unknown).replace(&without_card, &unknown);
            let none = send(&app, &method, &path, Some(&aarhus), body.as_ref()).await;
            assert_eq!(r.body["detail"], none.body["detail"], "{what}");
        }
        // Nothing changed.
        let seen = app.get(&format!("/api/v1/citizens/{with_card}"), &randers).await;
        seen.expect(200);
        assert_eq!(seen.body["name"], "Jens Hansen");
        assert_eq!(seen.body["municipality"]["code"], "730");
        assert_eq!(seen.body["frikort"]["status"], "active");
        let other = app.get(&format!("/api/v1/citizens/{without_card}"), &randers).await;
        other.expect(200);
        assert_eq!(other.body["frikort"], Value::Null);
    }

    async fn a_coordinator_cannot_enrol_a_citizen_in_another_municipality(app) {
        let aarhus = app.coordinator("751");
        let r = app.post("/api/v1/citizens", &aarhus, &json!({ "cpr": "010190-1234", "name": "Jens Hansen", "municipality": "730" })).await;
        r.expect_problem(403, "forbidden");
        let list = app.get("/api/v1/citizens", &app.coordinator("730")).await;
        list.expect(200);
        assert_eq!(list.body["total"], 0);
    }

    async fn a_coordinators_lists_audit_log_and_controls_due_never_contain_another_municipalitys_citizens(app) {
        let randers = app.coordinator("730");
        let aarhus = app.coordinator("751");
        let jens = app.enrol(&randers, "010190-1234", "Jens Hansen").await;
        app.issue_card(&randers, &jens).await;
        let mette = app.enrol(&aarhus, "020285-1234", "Mette Jensen").await;
        app.issue_card(&aarhus, &mette).await;
        app.get(&format!("/api/v1/citizens/{jens}"), &randers).await.expect(200);

        for (token, own, other) in [(&aarhus, &mette, &jens), (&randers, &jens, &mette)] {
            let list = app.get("/api/v1/citizens", token).await;
            list.expect(200);
            assert_eq!(ids(&list.body["items"]), [own.as_str()]);
            assert_eq!(list.body["total"], 1);

            // Every card issued this year is due by then.
            let year = chrono::Utc::now().year() + 3;
            let due = app.get(&format!("/api/v1/frikort/controls-due?year={year}"), token).await;
            due.expect(200);
            assert_eq!(citizen_ids(&due.body), [own.as_str()]);

            let audit = app.get("/api/v1/audit", token).await;
            audit.expect(200);
            let targets: Vec<&str> =
                audit.body["items"].as_array().unwrap().iter().map(|e| e["target_id"].as_str().unwrap()).collect();
            assert!(!targets.is_empty());
            assert!(targets.iter().all(|t| *t == own.as_str()), "{targets:?} should only name {own}, never {other}");
            let filtered = app.get(&format!("/api/v1/audit?target_id={other}"), token).await;
            filtered.expect(200);
            assert_eq!(filtered.body["items"], json!([]));
        }
    }

    async fn a_company_reads_its_own_record_but_not_another_company_nor_any_coordinator_endpoint(app) {
        let coordinator = app.coordinator("730");
        let own = app.register_company(&coordinator, CVR_A, "Bager Hansen ApS").await;
        let other = app.register_company(&coordinator, &cvr(2), "Tømrer Olsen ApS").await;
        let t = app.company(&own);
        let me = app.get(&format!("/api/v1/companies/{own}"), &t).await;
        me.expect(200);
        assert_eq!(me.body["id"], own.as_str());
        assert_eq!(me.body["name"], "Bager Hansen ApS");
        let r = app.get(&format!("/api/v1/companies/{other}"), &t).await;
        r.expect_problem(404, "not_found");
        let none = app.get(&format!("/api/v1/companies/{}", uuid::Uuid::new_v4()), &t).await;
        none.expect_problem(404, "not_found");
        assert_eq!(r.body["detail"], none.body["detail"]);

        let body = json!({ "verified": true });
        for r in [
            app.get("/api/v1/companies", &t).await,
            app.patch(&format!("/api/v1/companies/{own}"), &t, &body).await,
            app.post("/api/v1/companies", &t, &json!({ "cvr": cvr(3), "name": "X", "contact": { "name": "Y" } })).await,
            app.get("/api/v1/citizens", &t).await,
            app.get("/api/v1/audit", &t).await,
            app.get("/api/v1/frikort/controls-due", &t).await,
            app.get("/api/v1/me", &t).await,
        ] {
            r.expect_problem(403, "forbidden");
        }
        let still = app.get(&format!("/api/v1/companies/{own}"), &coordinator).await;
        assert_eq!(still.body["verified"], false, "the company could not verify itself");
    }

    async fn a_citizen_reads_themself_through_me_but_not_another_citizen(app) {
        let coordinator = app.coordinator("730");
        let jens = app.enrol(&coordinator, "010190-1234", "Jens Hansen").await;
        app.issue_card(&coordinator, &jens).await;
        let mette = app.enrol(&coordinator, "020285-1234", "Mette Jensen").await;
        let t = app.citizen(&jens);
        let me = app.get("/api/v1/me", &t).await;
        me.expect(200);
        assert_eq!(me.body["id"], jens.as_str());
        assert_eq!(me.body["name"], "Jens Hansen");
        assert_eq!(me.body["cpr_masked"], "010190-XXXX");
        assert_eq!(me.body["frikort"]["status"], "active");
        let her = app.get("/api/v1/me", &app.citizen(&mette)).await;
        her.expect(200);
        assert_eq!(her.body["id"], mette.as_str());

        for path in [
            format!("/api/v1/citizens/{mette}"),
            format!("/api/v1/citizens/{jens}"),
            format!("/api/v1/citizens/{mette}/frikort"),
            format!("/api/v1/citizens/{jens}/frikort"),
        ] {
            assert_problem(&app.get(&path, &t).await, 403, "forbidden", &path);
        }
        let gone = app.get("/api/v1/me", &app.citizen(&uuid::Uuid::new_v4().to_string())).await;
        gone.expect_problem(404, "not_found");
    }

    async fn a_coordinator_registers_an_employment_by_citizen_id_and_a_company_only_for_itself(app) {
        let w = World::new(&app).await;
        let other = app.register_company(&w.coordinator, &cvr(2), "Tømrer Olsen ApS").await;
        let by_id = |company: &str| json!({
            "citizen": { "id": w.citizen_id }, "company_id": company,
            "start_date": "2024-01-01", "contact": { "name": "Karen Bager" },
        });
        let by_card = |company: &str| json!({
            "citizen": { "cpr": JENS, "frikort_number": w.frikort }, "company_id": company,
            "start_date": "2024-01-01", "contact": { "name": "Karen Bager" },
        });
        // A coordinator names the citizen by id, for any company.
        let r = app.post("/api/v1/employments", &w.coordinator, &by_id(&other)).await;
        r.expect(201);
        assert_eq!(r.body["citizen_id"], w.citizen_id.as_str());
        assert_eq!(r.body["company_id"], other.as_str());
        assert_eq!(r.body["registered_by"], "coord-730");
        // A company registers for itself only, and never by the citizen's internal id.
        app.post("/api/v1/employments", &w.company, &by_card(&other)).await.expect_problem(403, "forbidden");
        let r = app.post("/api/v1/employments", &w.company, &by_id(&w.company_id)).await;
        r.expect_problem(422, "validation");
        assert_eq!(r.error_fields(), ["citizen.id"]);
        // A citizen registers nothing, whichever way the body names them.
        for body in [by_id(&w.company_id), by_card(&w.company_id)] {
            app.post("/api/v1/employments", &w.citizen, &body).await.expect_problem(403, "forbidden");
        }
        let other_token = app.company(&other);
        let list = app.get("/api/v1/employments", &other_token).await;
        list.expect(200);
        assert_eq!(list.body["total"], 1, "only the coordinator's registration: {}", list.body);
    }

    async fn a_company_sees_neither_another_companys_employments_payouts_adjustments_nor_unrelated_balances(app) {
        let s = TwoEmployers::new(&app).await;
        let t = &s.a_token;

        let list = app.get("/api/v1/employments", t).await;
        list.expect(200);
        assert_eq!(ids(&list.body["items"]), [s.jens_at_a.as_str()]);
        assert_eq!(list.body["total"], 1);
        let ended = app.get("/api/v1/employments?status=ended", t).await;
        ended.expect(200);
        assert_eq!(ended.body["total"], 0);
        let adjustments = app.get("/api/v1/adjustments", t).await;
        adjustments.expect(200);
        let items = adjustments.body["items"].as_array().unwrap();
        assert!(items.iter().all(|a| a["company_id"] == s.a.as_str()), "only A's own: {}", adjustments.body);
        assert!(!payout_ids(&adjustments.body["items"]).contains(&s.b_to_jens.as_str()), "{}", adjustments.body);
        assert_eq!(adjustments.body["total"], items.len());

        let payout = payout_body("2024-05-31", "2024-05-01", "2024-05-30", "500.00");
        let reason = json!({ "reason": "Forkert beløb" });
        let cases = [
            (Method::GET, format!("/api/v1/employments/{}", s.jens_at_b), &s.jens_at_b, None),
            (Method::GET, format!("/api/v1/employments/{}", s.mette_at_b), &s.mette_at_b, None),
            (Method::GET, format!("/api/v1/employments/{}/payouts", s.jens_at_b), &s.jens_at_b, None),
            (Method::GET, format!("/api/v1/employments/{}/payouts", s.mette_at_b), &s.mette_at_b, None),
            (Method::POST, format!("/api/v1/employments/{}/payouts", s.jens_at_b), &s.jens_at_b, Some(&payout)),
            (Method::POST, format!("/api/v1/employments/{}/end", s.mette_at_b), &s.mette_at_b, Some(&reason)),
            (Method::POST, format!("/api/v1/payouts/{}/reversal", s.b_to_jens), &s.b_to_jens, Some(&reason)),
            (Method::POST, format!("/api/v1/payouts/{}/reversal", s.b_to_mette), &s.b_to_mette, Some(&reason)),
            (Method::GET, format!("/api/v1/citizens/{}/balance", s.mette), &s.mette, None),
            (Method::GET, format!("/api/v1/citizens/{}/balance?year=2024", s.mette), &s.mette, None),
        ];
        for (method, path, id, body) in &cases {
            assert_hidden(&app, t, method, path, id, *body).await;
        }

        // A citizen A employs: the cap and what is left of it, nothing about other employers.
        let balance = app.get(&format!("/api/v1/citizens/{}/balance?year=2024", s.jens), t).await;
        balance.expect(200);
        let keys: BTreeSet<&str> = balance.body.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, BTreeSet::from(["citizen_id", "year", "cap", "cap_provisional", "remaining"]));
        assert_eq!(balance.body["remaining"], "31280.00");
        let full = app.get(&format!("/api/v1/citizens/{}/balance?year=2024", s.jens), &s.coordinator).await;
        full.expect(200);
        assert_eq!(full.body["remaining"], balance.body["remaining"]);
        assert_eq!(full.body["per_employer"].as_array().map(Vec::len), Some(1), "{}", full.body);

        // Nothing at B changed.
        for id in [&s.jens_at_b, &s.mette_at_b] {
            let e = app.get(&format!("/api/v1/employments/{id}"), &s.b_token).await;
            assert_eq!(e.expect(200).body["status"], "active");
            let payouts = app.get(&format!("/api/v1/employments/{id}/payouts"), &s.b_token).await;
            payouts.expect(200);
            assert_eq!(payouts.body.as_array().map(Vec::len), Some(1), "{}", payouts.body);
            assert_eq!(payouts.body[0]["reversed"], false);
        }
        assert_eq!(s.b, app.get(&format!("/api/v1/employments/{}", s.jens_at_b), &s.b_token).await.body["company_id"]);
    }

    async fn a_coordinator_gets_404_for_the_employments_payouts_and_balances_of_another_municipality(app) {
        let s = TwoEmployers::new(&app).await;
        let aarhus = app.coordinator("751");

        for path in ["/api/v1/employments", "/api/v1/adjustments"] {
            let list = app.get(path, &aarhus).await;
            list.expect(200);
            assert_eq!((list.body["items"].clone(), list.body["total"].clone()), (json!([]), json!(0)), "{path}");
        }

        let payout = payout_body("2024-05-31", "2024-05-01", "2024-05-30", "500.00");
        let reason = json!({ "reason": "Forkert beløb" });
        let cases = [
            (Method::GET, format!("/api/v1/employments/{}", s.jens_at_a), &s.jens_at_a, None),
            (Method::GET, format!("/api/v1/employments/{}/payouts", s.jens_at_a), &s.jens_at_a, None),
            (Method::POST, format!("/api/v1/employments/{}/payouts", s.jens_at_a), &s.jens_at_a, Some(&payout)),
            (Method::POST, format!("/api/v1/employments/{}/end", s.jens_at_b), &s.jens_at_b, Some(&reason)),
            (Method::POST, format!("/api/v1/payouts/{}/reversal", s.b_to_jens), &s.b_to_jens, Some(&reason)),
            // Already reversed: still a 404, not a 409 that would give the payout away.
            (Method::POST, format!("/api/v1/payouts/{}/reversal", s.a_to_jens), &s.a_to_jens, Some(&reason)),
            (Method::GET, format!("/api/v1/citizens/{}/balance", s.jens), &s.jens, None),
            (Method::GET, format!("/api/v1/citizens/{}/balance?year=2024", s.mette), &s.mette, None),
        ];
        for (method, path, id, body) in &cases {
            assert_hidden(&app, &aarhus, method, path, id, *body).await;
        }

        // Registering an employment of a 730 citizen: unknown by id, unmatched by CPR and card.
        let by_id = |citizen: &str| json!({
            "citizen": { "id": citizen }, "company_id": s.a,
            "start_date": "2024-01-01", "contact": { "name": "Karen Bager" },
        });
        let r = app.post("/api/v1/employments", &aarhus, &by_id(&s.jens)).await;
        assert_problem(&r, 404, "not_found", "by id");
        let none = app.post("/api/v1/employments", &aarhus, &by_id(&uuid::Uuid::new_v4().to_string())).await;
        assert_eq!(r.body["detail"], none.body["detail"]);
        let by_card = json!({
            "citizen": { "cpr": JENS, "frikort_number": s.jens_card }, "company_id": s.a,
            "start_date": "2024-01-01", "contact": { "name": "Karen Bager" },
        });
        let r = app.post("/api/v1/employments", &aarhus, &by_card).await;
        assert_problem(&r, 422, "citizen_not_matched", "by CPR and card");

        // Nothing in Randers changed.
        let list = app.get("/api/v1/employments?status=active", &s.coordinator).await;
        list.expect(200);
        assert_eq!(list.body["total"], 3, "{}", list.body);
        let payouts = app.get(&format!("/api/v1/employments/{}/payouts", s.jens_at_b), &s.coordinator).await;
        payouts.expect(200);
        assert_eq!(payouts.body.as_array().map(Vec::len), Some(1), "{}", payouts.body);
        assert_eq!(payouts.body[0]["reversed"], false);
        let payouts = app.get(&format!("/api/v1/employments/{}/payouts", s.jens_at_a), &s.coordinator).await;
        assert_eq!(payouts.expect(200).body.as_array().map(Vec::len), Some(1), "{}", payouts.body);
    }

    async fn a_citizen_never_sees_another_citizens_balance_or_employments(app) {
        let s = TwoEmployers::new(&app).await;
        let t = app.citizen(&s.mette);

        let list = app.get("/api/v1/employments", &t).await;
        list.expect(200);
        assert_eq!(ids(&list.body["items"]), [s.mette_at_b.as_str()]);
        assert_eq!(list.body["total"], 1);
        let adjustments = app.get("/api/v1/adjustments", &t).await;
        adjustments.expect(200);
        assert!(
            adjustments.body["items"].as_array().unwrap().iter().all(|a| a["citizen_id"] == s.mette.as_str()),
            "{}",
            adjustments.body
        );
        assert!(!payout_ids(&adjustments.body["items"]).contains(&s.b_to_jens.as_str()));
        // Jens does see the adjustment of his own payout.
        let his = app.get("/api/v1/adjustments", &app.citizen(&s.jens)).await;
        his.expect(200);
        assert!(payout_ids(&his.body["items"]).contains(&s.b_to_jens.as_str()), "{}", his.body);

        for (path, id) in [
            (format!("/api/v1/employments/{}", s.jens_at_a), &s.jens_at_a),
            (format!("/api/v1/employments/{}", s.jens_at_b), &s.jens_at_b),
            (format!("/api/v1/employments/{}/payouts", s.jens_at_b), &s.jens_at_b),
        ] {
            assert_hidden(&app, &t, &Method::GET, &path, id, None).await;
        }
        // A citizen reads a balance through /me/balance only, never by id (not even their own).
        for id in [&s.jens, &s.mette] {
            let path = format!("/api/v1/citizens/{id}/balance?year=2024");
            assert_problem(&app.get(&path, &t).await, 403, "forbidden", &path);
        }
        let own = app.get("/api/v1/me/balance?year=2024", &t).await;
        own.expect(200);
        assert_eq!(own.body["citizen_id"], s.mette.as_str());
        assert_eq!(own.body["gross"], "1000.00", "{}", own.body);
        assert_eq!(own.body["payouts"], 1, "{}", own.body);
        let employers: Vec<&str> = own.body["per_employer"].as_array().unwrap().iter()
            .map(|e| e["company_id"].as_str().unwrap())
            .collect();
        assert_eq!(employers, [s.b.as_str()]);
        let his = app.get("/api/v1/me/balance?year=2024", &app.citizen(&s.jens)).await;
        his.expect(200);
        assert_eq!(his.body["citizen_id"], s.jens.as_str());
        assert_eq!(his.body["exempt"], "10000.00", "{}", his.body);
    }

    async fn a_company_never_sees_another_companys_tasks_placements_or_hours(app) {
        let w = World::new(&app).await;
        let b = app.register_company(&w.coordinator, &cvr(2), "Tømrer Olsen ApS").await;
        app.patch(&format!("/api/v1/companies/{b}"), &w.coordinator, &json!({ "verified": true })).await.expect(200);
        let b_token = app.company(&b);
        let b_draft = draft_task(&app, &b_token, &small_job(0)).await;
        let b_task = open_task(&app, &b_token, &small_job(0)).await;
        let mette = app.enrol(&w.coordinator, METTE, "Mette Jensen").await;
        let b_placement = approved(&app, &w.coordinator, &b_task, &mette).await;
        // Reported by the coordinator, so a company would be the side to answer it; and by B.
        let b_report = report(&app, &w.coordinator, &b_placement, day(-1)).await;
        let b_own_report = report(&app, &b_token, &b_placement, day(-2)).await;
        let t = &w.company;

        let tasks = app.get("/api/v1/tasks?limit=200", t).await;
        tasks.expect(200);
        let own = |i: &Value| i["company_id"] == w.company_id.as_str();
        assert!(tasks.body["items"].as_array().unwrap().iter().all(own), "{}", tasks.body);
        let seen = ids(&tasks.body["items"]);
        assert!(!seen.contains(&b_task.as_str()) && !seen.contains(&b_draft.as_str()), "{}", tasks.body);
        let placements = app.get("/api/v1/placements?limit=200", t).await;
        placements.expect(200);
        assert!(placements.body["items"].as_array().unwrap().iter().all(own), "{}", placements.body);
        assert!(!ids(&placements.body["items"]).contains(&b_placement.as_str()));
        let b_sees = app.get("/api/v1/placements", &b_token).await;
        assert_eq!(ids(&b_sees.expect(200).body["items"]), [b_placement.as_str()]);

        let reason = json!({ "reason": "Ikke vores" });
        let hours = json!({ "shift_date": day(-3), "hours": "1" });
        let cases = [
            (Method::GET, format!("/api/v1/tasks/{b_task}"), &b_task, None),
            (Method::PATCH, format!("/api/v1/tasks/{b_draft}"), &b_draft, Some(json!({ "title": "Overtaget" }))),
            (Method::POST, format!("/api/v1/tasks/{b_draft}/open"), &b_draft, None),
            (Method::POST, format!("/api/v1/tasks/{b_task}/complete"), &b_task, None),
            (Method::POST, format!("/api/v1/tasks/{b_task}/cancel"), &b_task, Some(reason.clone())),
            (Method::GET, format!("/api/v1/placements/{b_placement}"), &b_placement, None),
            (Method::POST, format!("/api/v1/placements/{b_placement}/cancel"), &b_placement, None),
            (Method::POST, format!("/api/v1/placements/{b_placement}/no-show"), &b_placement, None),
            (Method::POST, format!("/api/v1/placements/{b_placement}/hours"), &b_placement, Some(hours)),
            (Method::GET, format!("/api/v1/placements/{b_placement}/hours"), &b_placement, None),
            (Method::POST, format!("/api/v1/hours/{b_report}/confirm"), &b_report, None),
            (Method::POST, format!("/api/v1/hours/{b_report}/dispute"), &b_report, Some(reason.clone())),
            (Method::POST, format!("/api/v1/hours/{b_own_report}/confirm"), &b_own_report, None),
        ];
        for (method, path, id, body) in &cases {
            assert_hidden(&app, t, method, path, id, body.as_ref()).await;
        }
        // Nor does it create tasks for B.
        let r = app.post("/api/v1/tasks", t, &task_for_company(&b)).await;
        assert_problem(&r, 403, "forbidden", "a task for another company");

        // Nothing of B's changed.
        let task = app.get(&format!("/api/v1/tasks/{b_task}"), &b_token).await;
        assert_eq!(task.expect(200).body["status"], "open");
        let draft = app.get(&format!("/api/v1/tasks/{b_draft}"), &b_token).await;
        assert_eq!(draft.expect(200).body["title"], "Småjob 0");
        assert_eq!(draft.body["status"], "draft");
        let p = app.get(&format!("/api/v1/placements/{b_placement}"), &b_token).await;
        assert_eq!(p.expect(200).body["state"], "approved");
        let reports = app.get(&format!("/api/v1/placements/{b_placement}/hours"), &b_token).await;
        let statuses: Vec<&Value> = reports.expect(200).body["items"].as_array().unwrap().iter().map(|r| &r["status"]).collect();
        assert_eq!(statuses, [&json!("reported"), &json!("reported")], "{}", reports.body);
        let tasks = app.get("/api/v1/tasks", &b_token).await;
        let mut own = ids(&tasks.expect(200).body["items"]);
        own.sort_unstable();
        let mut expected = [b_task.as_str(), b_draft.as_str()];
        expected.sort_unstable();
        assert_eq!(own, expected);
    }

    async fn a_coordinator_gets_404_for_another_municipalitys_tasks_placements_and_hours_and_counts_none_of_them(app) {
        let w = World::new(&app).await;
        let aarhus = app.coordinator("751");

        // Randers' queue and statistics are full; Aarhus' lists, queue and statistics are empty.
        let randers_queue = app.get("/api/v1/queue", &w.coordinator).await;
        randers_queue.expect(200);
        let waiting: Vec<&str> = randers_queue.body["awaiting_approval"].as_array().unwrap().iter()
            .map(|p| p["placement_id"].as_str().unwrap())
            .collect();
        assert_eq!(waiting.len(), 2, "{}", randers_queue.body);
        assert_eq!(randers_queue.body["unconfirmed_hours"].as_array().map(Vec::len), Some(6), "{}", randers_queue.body);
        let randers_stats = app.get("/api/v1/stats/placements", &w.coordinator).await;
        randers_stats.expect(200);
        assert!(randers_stats.body["items"][0]["tasks_opened"].as_u64() >= Some(15), "{}", randers_stats.body);
        assert!(randers_stats.body["items"][0]["placements_approved"].as_u64() >= Some(5), "{}", randers_stats.body);

        for path in ["/api/v1/tasks", "/api/v1/placements"] {
            let list = app.get(path, &aarhus).await;
            list.expect(200);
            assert_eq!((list.body["items"].clone(), list.body["total"].clone()), (json!([]), json!(0)), "{path}");
        }
        let queue = app.get("/api/v1/queue", &aarhus).await;
        queue.expect(200);
        for (list, items) in queue.body.as_object().unwrap() {
            assert_eq!(items, &json!([]), "{list} in Aarhus' queue: {}", queue.body);
        }
        let stats = app.get("/api/v1/stats/placements", &aarhus).await;
        stats.expect(200);
        assert_eq!(stats.body["items"][0]["municipality"], "751");
        for figure in ["tasks_opened", "positions", "positions_filled", "placements_approved"] {
            assert_eq!(stats.body["items"][0][figure], 0, "{figure}: {}", stats.body);
        }
        assert_eq!(stats.body["items"][0]["median_hours_to_placement"], Value::Null);

        let reason = json!({ "reason": "Ikke vores borger" });
        let hours = json!({ "shift_date": w.shifts_to_report[0], "hours": "1" });
        let approve = json!({ "accept_taxable_excess": true });
        let cases = [
            (Method::GET, "/api/v1/tasks/{}", &w.task, None),
            (Method::PATCH, "/api/v1/tasks/{}", &w.draft_task, Some(json!({ "title": "Overtaget" }))),
            (Method::POST, "/api/v1/tasks/{}/open", &w.tasks_to_open[0], None),
            (Method::POST, "/api/v1/tasks/{}/complete", &w.tasks_to_complete[0], None),
            (Method::POST, "/api/v1/tasks/{}/cancel", &w.tasks_to_cancel[0], Some(reason.clone())),
            (Method::GET, "/api/v1/placements/{}", &w.placement, None),
            (Method::POST, "/api/v1/placements/{}/offer", &w.interested, None),
            (Method::POST, "/api/v1/placements/{}/approve", &w.accepted_to_approve, Some(approve)),
            (Method::POST, "/api/v1/placements/{}/reject", &w.accepted_to_reject, Some(reason.clone())),
            (Method::POST, "/api/v1/placements/{}/cancel", &w.placements_to_cancel[0], None),
            (Method::POST, "/api/v1/placements/{}/cancel", &w.offer_to_accept, None),
            (Method::POST, "/api/v1/placements/{}/no-show", &w.placements_to_no_show[0], None),
            (Method::POST, "/api/v1/placements/{}/hours", &w.placement, Some(hours)),
            (Method::GET, "/api/v1/placements/{}/hours", &w.placement, None),
            (Method::POST, "/api/v1/hours/{}/confirm", &w.reports_to_confirm[0], None),
            (Method::POST, "/api/v1/hours/{}/dispute", &w.reports_to_dispute[0], Some(reason.clone())),
        ];
        for (method, template, id, body) in &cases {
            assert_hidden(&app, &aarhus, method, &template.replace("{}", id), id, body.as_ref()).await;
        }

        // Offering Randers' task to an Aarhus citizen: the task is unknown to Aarhus.
        let ole = app.enrol(&aarhus, "050590-1234", "Ole Larsen").await;
        let r = app.post("/api/v1/placements", &aarhus, &json!({ "task_id": w.task, "citizen_id": ole })).await;
        assert_problem(&r, 404, "not_found", "offering another municipality's task");
        let unknown = json!({ "task_id": uuid::Uuid::new_v4().to_string(), "citizen_id": ole });
        let none = app.post("/api/v1/placements", &aarhus, &unknown).await;
        assert_eq!(r.body["detail"], none.body["detail"]);
        // Aarhus' own task, for Randers' company: Randers' citizen is unknown to Aarhus.
        let own = open_task(&app, &aarhus, &task_for_company(&w.company_id)).await;
        let r = app.post("/api/v1/placements", &aarhus, &json!({ "task_id": own, "citizen_id": w.citizen_id })).await;
        assert_problem(&r, 404, "not_found", "offering to another municipality's citizen");
        // Nor does Aarhus create a task in Randers.
        let mut in_randers = task_for_company(&w.company_id);
        in_randers["municipality"] = json!("730");
        assert_problem(&app.post("/api/v1/tasks", &aarhus, &in_randers).await, 403, "forbidden", "a task in 730");
        let list = app.get("/api/v1/tasks", &aarhus).await;
        assert_eq!(ids(&list.expect(200).body["items"]), [own.as_str()]);

        // Nothing in Randers changed.
        let again = app.get("/api/v1/queue", &w.coordinator).await;
        again.expect(200);
        assert_eq!(again.body["awaiting_approval"], randers_queue.body["awaiting_approval"]);
        assert_eq!(again.body["unconfirmed_hours"], randers_queue.body["unconfirmed_hours"]);
        let draft = app.get(&format!("/api/v1/tasks/{}", w.draft_task), &w.coordinator).await;
        assert_eq!(draft.expect(200).body["title"], "Småjob 0");
        let unchanged =
            [(&w.interested, "interested"), (&w.placements_to_cancel[0], "approved"), (&w.offer_to_accept, "offered")];
        for (id, state) in unchanged {
            let p = app.get(&format!("/api/v1/placements/{id}"), &w.coordinator).await;
            assert_eq!(p.expect(200).body["state"], state, "{}", p.body);
        }
    }

    async fn a_citizen_never_sees_another_citizens_placements_or_offers_nor_another_municipalitys_tasks(app) {
        let w = World::new(&app).await;
        let mette = app.enrol(&w.coordinator, METTE, "Mette Jensen").await;
        let her = app.citizen(&mette);
        let her_offer = offer(&app, &w.coordinator, &w.task, &mette).await;

        let list = app.get("/api/v1/placements", &her).await;
        assert_eq!(ids(&list.expect(200).body["items"]), [her_offer.as_str()]);
        assert_eq!(list.body["total"], 1);
        let offers = app.get("/api/v1/me/offers", &her).await;
        assert_eq!(ids(&offers.expect(200).body["items"]), [her_offer.as_str()]);
        let his = app.get("/api/v1/placements?limit=200", &w.citizen).await;
        his.expect(200);
        let own = |p: &Value| p["citizen_id"] == w.citizen_id.as_str();
        assert!(his.body["items"].as_array().unwrap().iter().all(own), "{}", his.body);
        assert!(!ids(&his.body["items"]).contains(&her_offer.as_str()));
        let his_offers = app.get("/api/v1/me/offers", &w.citizen).await;
        let mut his_offers = ids(&his_offers.expect(200).body["items"]);
        his_offers.sort_unstable();
        let mut expected = [w.offer_to_accept.as_str(), w.offer_to_decline.as_str()];
        expected.sort_unstable();
        assert_eq!(his_offers, expected);

        let reason = json!({ "reason": "Det var ikke mig" });
        let cases = [
            (Method::GET, "/api/v1/placements/{}", &w.placement, None),
            (Method::GET, "/api/v1/placements/{}/hours", &w.placement, None),
            (Method::POST, "/api/v1/me/offers/{}/accept", &w.offer_to_accept, None),
            (Method::POST, "/api/v1/me/offers/{}/decline", &w.offer_to_decline, None),
            (Method::POST, "/api/v1/placements/{}/cancel", &w.accepted_to_reject, None),
            (Method::POST, "/api/v1/placements/{}/cancel", &w.interested, None),
            (Method::POST, "/api/v1/hours/{}/confirm", &w.reports_to_confirm[2], None),
            (Method::POST, "/api/v1/hours/{}/dispute", &w.reports_to_dispute[2], Some(reason)),
        ];
        for (method, template, id, body) in &cases {
            assert_hidden(&app, &her, method, &template.replace("{}", id), id, body.as_ref()).await;
        }
        // And the other way round.
        let path = format!("/api/v1/placements/{her_offer}");
        assert_hidden(&app, &w.citizen, &Method::GET, &path, &her_offer, None).await;
        let path = format!("/api/v1/me/offers/{her_offer}/accept");
        assert_hidden(&app, &w.citizen, &Method::POST, &path, &her_offer, None).await;

        // An open task of Aarhus, and a draft of Randers: neither is the Randers citizen's to see.
        let aarhus = app.coordinator("751");
        let aarhus_task = open_task(&app, &aarhus, &task_for_company(&w.company_id)).await;
        for (method, path, id) in [
            (Method::GET, format!("/api/v1/tasks/{aarhus_task}"), &aarhus_task),
            (Method::POST, format!("/api/v1/me/tasks/{aarhus_task}/interest"), &aarhus_task),
            (Method::GET, format!("/api/v1/tasks/{}", w.draft_task), &w.draft_task),
            (Method::POST, format!("/api/v1/me/tasks/{}/interest", w.draft_task), &w.draft_task),
        ] {
            assert_hidden(&app, &w.citizen, &method, &path, id, None).await;
        }
        let open = app.get("/api/v1/me/tasks?limit=200", &w.citizen).await;
        open.expect(200);
        let items = open.body["items"].as_array().unwrap();
        assert!(items.iter().all(|t| t["municipality"] == "730" && t["status"] == "open"), "{}", open.body);
        let seen = ids(&open.body["items"]);
        assert!(seen.contains(&w.task.as_str()) && !seen.contains(&aarhus_task.as_str()), "{}", open.body);
        // An Aarhus citizen sees it, and none of Randers'.
        let ole = app.enrol(&aarhus, "050590-1234", "Ole Larsen").await;
        let theirs = app.get("/api/v1/me/tasks", &app.citizen(&ole)).await;
        assert_eq!(ids(&theirs.expect(200).body["items"]), [aarhus_task.as_str()]);
        // Nothing of the Randers citizen's changed.
        let unchanged =
            [(&w.offer_to_accept, "offered"), (&w.offer_to_decline, "offered"), (&w.interested, "interested")];
        for (id, state) in unchanged {
            let p = app.get(&format!("/api/v1/placements/{id}"), &w.citizen).await;
            assert_eq!(p.expect(200).body["state"], state, "{}", p.body);
        }
    }

    // --- 3. Bad tokens -------------------------------------------------------------------

    async fn a_token_that_expired_two_hours_ago_is_refused(app) {
        let now = chrono::Utc::now().timestamp();
        assert_accepted(&app, &app.sign(&coordinator_claims()), "fresh").await;
        let expired = Claims { exp: now - 7200, iat: now - 10_800, ..coordinator_claims() };
        assert_refused(&app, &app.sign(&expired), "expired").await;
    }

    async fn a_token_that_expired_seconds_ago_is_still_accepted_within_the_leeway(app) {
        let now = chrono::Utc::now().timestamp();
        let just_expired = Claims { exp: now - 10, iat: now - 3600, ..coordinator_claims() };
        assert_accepted(&app, &app.sign(&just_expired), "expired 10 s ago").await;
    }

    async fn a_token_that_is_not_valid_for_two_more_hours_is_refused(app) {
        let now = chrono::Utc::now().timestamp();
        let early = Claims { nbf: Some(now + 7200), exp: now + 10_800, ..coordinator_claims() };
        assert_refused(&app, &app.sign(&early), "nbf in two hours").await;
        let valid_now = Claims { nbf: Some(now - 5), ..coordinator_claims() };
        assert_accepted(&app, &app.sign(&valid_now), "nbf passed").await;
    }

    async fn a_token_for_another_audience_is_refused(app) {
        let c = Claims { aud: "some-other-api".into(), ..coordinator_claims() };
        assert_refused(&app, &app.sign(&c), "wrong audience").await;
    }

    async fn a_token_from_another_issuer_is_refused(app) {
        let c = Claims { iss: "https://evil.example".into(), ..coordinator_claims() };
        assert_refused(&app, &app.sign(&c), "wrong issuer").await;
    }

    async fn an_unsigned_alg_none_token_is_refused(app) {
        let payload = serde_json::to_value(coordinator_claims()).unwrap();
        let token = format!("{}.{}.", b64(&json!({ "alg": "none", "typ": "JWT" })), b64(&payload));
        assert_refused(&app, &token, "alg none").await;
        let capitalised = format!("{}.{}.", b64(&json!({ "alg": "None", "typ": "JWT" })), b64(&payload));
        assert_refused(&app, &capitalised, "alg None").await;
    }

    async fn a_token_signed_with_another_hmac_algorithm_is_refused(app) {
        assert_accepted(&app, &sign_secret(Algorithm::HS256, &coordinator_claims()), "HS256").await;
        assert_refused(&app, &sign_secret(Algorithm::HS384, &coordinator_claims()), "HS384").await;
        assert_refused(&app, &sign_secret(Algorithm::HS512, &coordinator_claims()), "HS512").await;
    }

    async fn a_token_with_a_tampered_payload_is_refused(app) {
        let token = app.sign(&coordinator_claims());
        let mut payload = payload_of(&token);
        payload["municipality"] = json!("751");
        assert_refused(&app, &with_payload(&token, &payload), "municipality changed").await;
        let mut payload = payload_of(&token);
        payload["exp"] = json!(chrono::Utc::now().timestamp() + 365 * 86_400);
        assert_refused(&app, &with_payload(&token, &payload), "expiry extended").await;
        let citizen = app.citizen(&uuid::Uuid::new_v4().to_string());
        let mut payload = payload_of(&citizen);
        payload["role"] = json!("coordinator");
        payload["municipality"] = json!("730");
        assert_refused(&app, &with_payload(&citizen, &payload), "citizen promoted to coordinator").await;
    }

    async fn a_token_signed_with_another_secret_is_refused(app) {
        let key = EncodingKey::from_secret(b"another-secret-another-secret-0123456789");
        assert_refused(&app, &sign(Algorithm::HS256, &key, None, &coordinator_claims()), "other secret").await;
    }

    async fn a_garbage_token_is_refused(app) {
        for garbage in ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "....", "Bearer"] {
            assert_refused(&app, garbage, garbage).await;
        }
    }

    async fn a_basic_authorization_header_is_refused_as_an_invalid_token(app) {
        for header in ["Basic Y29vcmQ6c2VjcmV0", "Bearer", "Bearer    ", "Token abc"] {
            assert_invalid_token(&get_with_authorization(&app, PROBE, header).await, header);
        }
        // The scheme is case-insensitive; only the scheme was wrong above.
        let token = app.sign(&coordinator_claims());
        get_with_authorization(&app, PROBE, &format!("bearer {token}")).await.expect(200);
    }

    async fn a_coordinator_token_without_a_real_municipality_is_refused(app) {
        let missing = Claims { municipality: None, ..coordinator_claims() };
        assert_refused(&app, &app.sign(&missing), "no municipality").await;
        for code in ["999", "000", "73", "abc", ""] {
            let bad = Claims { municipality: Some(code.into()), ..coordinator_claims() };
            assert_refused(&app, &app.sign(&bad), code).await;
        }
    }

    async fn a_company_or_citizen_token_without_its_scope_claim_is_refused(app) {
        for role in [Role::Company, Role::Citizen] {
            let r = app.get("/api/v1/caps", &app.sign(&claims(role, "someone"))).await;
            assert_invalid_token(&r, role.as_str());
        }
    }

    async fn a_token_with_an_unknown_role_or_without_a_subject_is_refused(app) {
        let mut admin = serde_json::to_value(coordinator_claims()).unwrap();
        admin["role"] = json!("admin");
        assert_refused(&app, &sign_secret(Algorithm::HS256, &admin), "role admin").await;
        let mut anonymous = serde_json::to_value(coordinator_claims()).unwrap();
        anonymous.as_object_mut().unwrap().remove("sub");
        assert_refused(&app, &sign_secret(Algorithm::HS256, &anonymous), "no sub").await;
        let mut eternal = serde_json::to_value(coordinator_claims()).unwrap();
        eternal.as_object_mut().unwrap().remove("exp");
        assert_refused(&app, &sign_secret(Algorithm::HS256, &eternal), "no exp").await;
    }
}

// ---------------------------------------------------------------------------------------------
// A company's payout receipts.
// ---------------------------------------------------------------------------------------------

/// A company reversing or back-dating its own payout re-splits the citizen's other payouts,
/// other employers' included. Those adjustments are the other employers' to act on (they find
/// them in their own `GET /adjustments`); showing them to this company tells it who else
/// employs the citizen, on which employment, and what that employer pays — the very amounts the
/// company view of a balance leaves out.
async fn a_companys_receipts_show_only_its_own_adjustments(app: TestApp) {
    let s = TwoEmployers::new(&app).await;
    let foreign = |receipt: &Value| -> Vec<Value> {
        receipt["adjustments"].as_array().unwrap().iter().filter(|a| a["company_id"] != s.a.as_str()).cloned().collect()
    };
    // A's reversal re-split B's April payout.
    let after_reversal = foreign(&s.reversal.body);
    // A back-dated payout of A's in February pushes B's April payout over the cap again.
    let february = payout_body("2024-02-28", "2024-02-01", "2024-02-27", "35000.00");
    let r = app.payout(&s.a_token, &s.jens_at_a, &february).await;
    r.expect(201);
    let after_payout = foreign(&r.body);
    // B is told, in its own list.
    let b_list = app.get("/api/v1/adjustments", &s.b_token).await;
    b_list.expect(200);
    assert_eq!(payout_ids(&b_list.body["items"]).iter().filter(|p| **p == s.b_to_jens).count(), 2, "{}", b_list.body);
    assert!(
        after_reversal.is_empty() && after_payout.is_empty(),
        "company A is shown company B's adjustments: on reversal {after_reversal:?}; \
         on a back-dated payout {after_payout:?}"
    );
}

mod company_receipts {
    use super::*;

    #[actix_web::test]
    async fn sqlite_a_companys_receipts_show_only_its_own_adjustments() {
        let app = spawn(Backend::Sqlite, "receipts_own_adjustments").await.expect("SQLite always runs");
        a_companys_receipts_show_only_its_own_adjustments(app).await;
    }

    #[actix_web::test]
    async fn postgres_a_companys_receipts_show_only_its_own_adjustments() {
        let Some(app) = spawn(Backend::Postgres, "receipts_own_adjustments").await else { return };
        a_companys_receipts_show_only_its_own_adjustments(app).await;
    }
}

// ---------------------------------------------------------------------------------------------
// 4. An external identity provider (RS256/ES256 with a PEM key or a JWKS). Auth, not storage:
// SQLite only.
// ---------------------------------------------------------------------------------------------

mod identity_provider {
    use super::*;

    const RSA_PRIVATE: &[u8] =
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/jwt/rs256-private.pem"));
    const RSA_PUBLIC: &[u8] =
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/jwt/rs256-public.pem"));
    const EC_PRIVATE: &[u8] =
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/jwt/es256-private.pem"));
    const EC_PUBLIC: &[u8] =
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/jwt/es256-public.pem"));
    const JWKS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/jwt/jwks.json"));

    fn rsa() -> EncodingKey {
        EncodingKey::from_rsa_pem(RSA_PRIVATE).expect("the RSA fixture key")
    }

    fn ec() -> EncodingKey {
        EncodingKey::from_ec_pem(EC_PRIVATE).expect("the EC fixture key")
    }

    async fn spawn_keys(test: &str, keys: KeySource) -> TestApp {
        spawn_with_keys(Backend::Sqlite, test, keys).await.expect("SQLite always runs")
    }

    #[actix_web::test]
    async fn an_rs256_token_is_accepted_with_the_rsa_public_key() {
        let app = spawn_keys("rs256_pem", KeySource::Pem(RSA_PUBLIC.to_vec())).await;
        let token = sign(Algorithm::RS256, &rsa(), None, &coordinator_claims());
        assert_accepted(&app, &token, "RS256").await;
        let id = app.enrol(&token, "010190-1234", "Jens Hansen").await;
        let audit = app.get("/api/v1/audit", &token).await;
        audit.expect(200);
        assert_eq!(audit.body["items"][0]["target_id"], id.as_str());
        assert_eq!(audit.body["items"][0]["actor"], "coord-730");
    }

    #[actix_web::test]
    async fn an_es256_token_is_accepted_with_the_ec_public_key() {
        let app = spawn_keys("es256_pem", KeySource::Pem(EC_PUBLIC.to_vec())).await;
        assert_accepted(&app, &sign(Algorithm::ES256, &ec(), None, &coordinator_claims()), "ES256").await;
    }

    #[actix_web::test]
    async fn with_a_pem_key_the_other_asymmetric_algorithm_and_the_shared_secret_are_refused() {
        let app = spawn_keys("pem_other_alg", KeySource::Pem(RSA_PUBLIC.to_vec())).await;
        assert_refused(&app, &sign(Algorithm::ES256, &ec(), None, &coordinator_claims()), "ES256 on RSA").await;
        assert_refused(&app, &app.coordinator("730"), "HS256 with the test secret").await;
        let app = spawn_keys("pem_other_alg_ec", KeySource::Pem(EC_PUBLIC.to_vec())).await;
        assert_refused(&app, &sign(Algorithm::RS256, &rsa(), None, &coordinator_claims()), "RS256 on EC").await;
    }

    #[actix_web::test]
    async fn an_hs256_token_signed_with_the_public_key_as_secret_is_refused() {
        for (name, public) in [("alg_confusion_rsa", RSA_PUBLIC), ("alg_confusion_ec", EC_PUBLIC)] {
            let app = spawn_keys(name, KeySource::Pem(public.to_vec())).await;
            let forged = sign(Algorithm::HS256, &EncodingKey::from_secret(public), None, &coordinator_claims());
            assert_refused(&app, &forged, name).await;
        }
    }

    #[actix_web::test]
    async fn with_a_jwks_rs256_and_es256_tokens_naming_their_key_are_accepted() {
        let app = spawn_keys("jwks_ok", KeySource::Jwks(JWKS.into())).await;
        assert_accepted(&app, &sign(Algorithm::RS256, &rsa(), Some("test-rsa"), &coordinator_claims()), "RS256").await;
        assert_accepted(&app, &sign(Algorithm::ES256, &ec(), Some("test-ec"), &coordinator_claims()), "ES256").await;
    }

    #[actix_web::test]
    async fn with_a_jwks_an_unknown_kid_is_refused() {
        let app = spawn_keys("jwks_unknown_kid", KeySource::Jwks(JWKS.into())).await;
        assert_refused(&app, &sign(Algorithm::RS256, &rsa(), Some("rotated-away"), &coordinator_claims()), "kid").await;
    }

    #[actix_web::test]
    async fn with_a_jwks_a_token_without_a_kid_is_refused() {
        let app = spawn_keys("jwks_no_kid", KeySource::Jwks(JWKS.into())).await;
        assert_refused(&app, &sign(Algorithm::RS256, &rsa(), None, &coordinator_claims()), "RS256 no kid").await;
        assert_refused(&app, &sign(Algorithm::ES256, &ec(), None, &coordinator_claims()), "ES256 no kid").await;
    }

    #[actix_web::test]
    async fn with_a_jwks_a_kid_naming_the_other_key_is_refused() {
        let app = spawn_keys("jwks_swapped_kid", KeySource::Jwks(JWKS.into())).await;
        assert_refused(&app, &sign(Algorithm::RS256, &rsa(), Some("test-ec"), &coordinator_claims()), "RSA as test-ec")
            .await;
        assert_refused(&app, &sign(Algorithm::ES256, &ec(), Some("test-rsa"), &coordinator_claims()), "EC as test-rsa")
            .await;
    }

    #[actix_web::test]
    async fn with_a_jwks_an_hs256_token_is_refused() {
        let app = spawn_keys("jwks_hs256", KeySource::Jwks(JWKS.into())).await;
        for (kid, secret) in [("test-rsa", RSA_PUBLIC), ("test-ec", EC_PUBLIC), ("test-rsa", SECRET.as_bytes())] {
            let forged = sign(Algorithm::HS256, &EncodingKey::from_secret(secret), Some(kid), &coordinator_claims());
            assert_refused(&app, &forged, kid).await;
        }
        assert_refused(&app, &app.coordinator("730"), "HS256 with the test secret, no kid").await;
    }

    #[actix_web::test]
    async fn with_a_jwks_an_expired_or_misaddressed_token_is_still_refused() {
        let app = spawn_keys("jwks_claims", KeySource::Jwks(JWKS.into())).await;
        let now = chrono::Utc::now().timestamp();
        for (what, c) in [
            ("expired", Claims { exp: now - 7200, iat: now - 10_800, ..coordinator_claims() }),
            ("audience", Claims { aud: "some-other-api".into(), ..coordinator_claims() }),
            ("issuer", Claims { iss: "https://evil.example".into(), ..coordinator_claims() }),
        ] {
            assert_refused(&app, &sign(Algorithm::RS256, &rsa(), Some("test-rsa"), &c), what).await;
        }
    }

    /// RFC 7519 § 4.1.3: `aud` is in general an array of strings; identity providers (Keycloak,
    /// Entra ID, Auth0 with several APIs) send `"aud": ["smaajob-api", …]`.
    #[actix_web::test]
    async fn an_identity_provider_token_with_an_audience_array_naming_this_api_is_accepted() {
        let app = spawn_keys("aud_array", KeySource::Pem(RSA_PUBLIC.to_vec())).await;
        let mut c = serde_json::to_value(coordinator_claims()).unwrap();
        c["aud"] = json!(["smaajob-api", "account"]);
        assert_accepted(&app, &sign(Algorithm::RS256, &rsa(), None, &c), "aud array").await;
    }
}
