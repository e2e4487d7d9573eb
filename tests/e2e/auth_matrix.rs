//! The authorization matrix: one row per endpoint under /api/v1 with the roles it serves, checked
//! against the OpenAPI description. Every endpoint refuses a request without a token (with a
//! Bearer challenge) and a token of a role it does not serve, succeeds for each role it serves
//! on real records, and a company token naming an unregistered CVR number may only register the
//! company.

use std::collections::BTreeSet;

use awc::http::Method;
use serde_json::{Value, json};
use smaajob_api::auth::Role;

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

const COORDINATOR: &[Role] = &[Role::Coordinator];
const CITIZEN: &[Role] = &[Role::Citizen];
const COORDINATOR_OR_OWN_COMPANY: &[Role] = &[Role::Coordinator, Role::Company];
/// A coordinator of the employee's municipality, or the employing company itself.
const COORDINATOR_OR_EMPLOYER: &[Role] = &[Role::Coordinator, Role::Company];
/// The parties to small jobs and frikort: every role but the operator.
const EVERY_PARTY: &[Role] = &[Role::Coordinator, Role::Company, Role::Citizen];
/// Every role there is, the operator of the scheme included.
const EVERY_ROLE: &[Role] = &[Role::Operator, Role::Coordinator, Role::Company, Role::Citizen];
/// The operator runs the scheme-wide settings (the caps) and reads their audit trail, nothing else.
const OPERATOR: &[Role] = &[Role::Operator];
/// A coordinator reads their municipality's log, the operator the scheme-wide one.
const COORDINATOR_OR_OPERATOR: &[Role] = &[Role::Coordinator, Role::Operator];
const COMPANY: &[Role] = &[Role::Company];
/// A coordinator of the task's municipality, or the company whose task it is.
const COORDINATOR_OR_TASK_OWNER: &[Role] = &[Role::Coordinator, Role::Company];

/// The year used for `{year}` in paths.
const CAP_YEAR: &str = "2030";

/// An endpoint, the roles it serves and the status a request of such a role gets. Paths and
/// bodies name placeholders that [`Records::fill`] fills in: `{citizen}`, `{applicant}`,
/// `{company}`, `{year}`, `{frikort}`, `{employment}`, `{employment_to_end}`,
/// `{payout_to_reverse}`, `{now}`, and for small jobs `{task}`, `{draft_task}`,
/// `{task_to_open}`, `{task_to_complete}`, `{task_to_cancel}`, `{interested}`,
/// `{offer_to_accept}`, `{offer_to_decline}`, `{accepted_to_approve}`, `{accepted_to_reject}`,
/// `{placement_to_cancel}`, `{placement_to_no_show}`, `{placement}`, `{shift_to_report}`,
/// `{report_to_confirm}`, `{report_to_dispute}`, `{pay_run}` and `{register_entry}`.
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

fn pay_run_of_2024() -> Value {
    json!({ "period_from": "2024-01-01", "period_to": "2024-01-31", "payment_date": "2024-02-01", "payment_method": "bank" })
}

fn ep(method: Method, template: &'static str, allowed: &'static [Role], ok: u16, body: Option<Value>) -> Endpoint {
    Endpoint { method, template, allowed, ok, body, hidden_from: &[] }
}

/// Every endpoint under /api/v1. The success test sends the rows in this order, so a row may
/// rely on the rows above it (the applicant's card is issued before it is read, deactivated,
/// reactivated and its last decision re-timed; the card holder's card is active when the
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
        // The citizen is the coordinator's own already (409): the request got past authorization.
        ep(
            M::POST,
            "/api/v1/citizens/transfers",
            COORDINATOR,
            409,
            Some(json!({ "cpr": JENS, "reason": "Flyttet til kommunen" })),
        ),
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
        // Caps are public figures: every role reads them, the operator too.
        ep(M::GET, "/api/v1/caps", EVERY_ROLE, 200, None),
        ep(M::GET, "/api/v1/caps/{year}", EVERY_ROLE, 200, None),
        ep(
            M::POST,
            "/api/v1/caps/{year}/preview",
            OPERATOR,
            200,
            Some(json!({ "amount": "50000", "reason": "Satsregulering" })),
        ),
        // Without the `confirm` of a preview a change is refused (409 `cap_preview_required`):
        // the request got past authorization. Confirmed changes are tested in caps.rs.
        ep(
            M::PUT,
            "/api/v1/caps/{year}",
            OPERATOR,
            409,
            Some(json!({ "amount": "50000", "reason": "Satsregulering" })),
        ),
        // ATP rates are scheme-wide figures like the caps: the operator sets a year's rate (before
        // it is read below), every role reads them.
        ep(
            M::PUT,
            "/api/v1/atp-rates/{year}",
            OPERATOR,
            200,
            Some(json!({ "employee_per_hour": "0.53", "employer_per_hour": "1.06", "reason": "ATP-satser" })),
        ),
        ep(M::GET, "/api/v1/atp-rates", EVERY_ROLE, 200, None),
        ep(M::GET, "/api/v1/atp-rates/{year}", EVERY_ROLE, 200, None),
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
        ep(M::GET, "/api/v1/audit", COORDINATOR_OR_OPERATOR, 200, None),
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
        ep(M::GET, "/api/v1/employments", EVERY_PARTY, 200, None),
        ep(M::GET, "/api/v1/employments/{employment}", EVERY_PARTY, 200, None),
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
        ep(M::GET, "/api/v1/employments/{employment}/payouts", EVERY_PARTY, 200, None),
        // A payout is reversed once (again: 409), so each allowed role reverses its own.
        ep(
            M::POST,
            "/api/v1/payouts/{payout_to_reverse}/reversal",
            COORDINATOR_OR_EMPLOYER,
            201,
            Some(json!({ "reason": "Forkert timetal" })),
        ),
        ep(M::GET, "/api/v1/adjustments", EVERY_PARTY, 200, None),
        // The company employs the citizen, so it may read the remaining amount.
        ep(M::GET, "/api/v1/citizens/{citizen}/balance", COORDINATOR_OR_EMPLOYER, 200, None),
        ep(M::GET, "/api/v1/me/balance", CITIZEN, 200, None),
        // --- Outside income and register statements (coordinators only) ---
        ep(
            M::POST,
            "/api/v1/citizens/{citizen}/outside-income",
            COORDINATOR,
            201,
            Some(outside_income_body("2024-02-01", "100.00", None)),
        ),
        ep(M::GET, "/api/v1/citizens/{citizen}/outside-income", COORDINATOR, 200, None),
        ep(
            M::POST,
            "/api/v1/outside-income/{outside_income}/withdrawal",
            COORDINATOR,
            201,
            Some(json!({ "reason": "Registreret to gange" })),
        ),
        ep(
            M::POST,
            "/api/v1/citizens/{citizen}/register-statements",
            COORDINATOR,
            201,
            Some(
                json!({ "year": 2024, "drawn_on": "2024-12-31", "statement": "CVR;Arbejdsgiver;Udbetalingsdato;Beløb\n" }),
            ),
        ),
        ep(M::POST, "/api/v1/register-statements/{statement}/acceptance", COORDINATOR, 200, None),
        // --- Register entries (coordinators only: they do the paperwork for the companies) ---
        ep(M::GET, "/api/v1/register-entries", COORDINATOR, 200, None),
        ep(M::GET, "/api/v1/register-entries/export", COORDINATOR, 200, None),
        ep(
            M::POST,
            "/api/v1/register-entries/{register_entry}/registered",
            COORDINATOR,
            200,
            Some(json!({ "national_reference": "SF-2024-000001" })),
        ),
        // --- Small jobs ---
        // The records' company is registered already: 409 `company_exists` is as far as a
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
        ep(M::GET, "/api/v1/tasks/{task}", EVERY_PARTY, 200, None),
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
        ep(M::GET, "/api/v1/placements", EVERY_PARTY, 200, None),
        ep(M::GET, "/api/v1/me/offers", CITIZEN, 200, None),
        // The citizen's approved placement on the company's task.
        ep(M::GET, "/api/v1/placements/{placement}", EVERY_PARTY, 200, None),
        // Every placement below is the card holder's on the company's task, so the coordinator
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
        ep(M::GET, "/api/v1/placements/{placement}/hours", EVERY_PARTY, 200, None),
        // Hours are answered once, by the side that did not report them: the coordinator answers
        // a company's report, the company a coordinator's, the citizen either. Each role gets its
        // own report (confirmed hours wait for a pay run: 200).
        ep(M::POST, "/api/v1/hours/{report_to_confirm}/confirm", EVERY_PARTY, 200, None),
        ep(
            M::POST,
            "/api/v1/hours/{report_to_dispute}/dispute",
            EVERY_PARTY,
            200,
            Some(json!({ "reason": "Der blev kun arbejdet en halv time" })),
        ),
        // Pay runs: a coordinator's or a company's. Nothing awaits pay in 2024's January, so a
        // preview and a commit get as far as 409 `nothing_to_pay`, past authorization.
        ep(M::POST, "/api/v1/pay-runs/preview", COORDINATOR_OR_EMPLOYER, 409, Some(pay_run_of_2024())),
        ep(M::POST, "/api/v1/pay-runs", COORDINATOR_OR_EMPLOYER, 409, Some(pay_run_of_2024())),
        ep(M::GET, "/api/v1/pay-runs", COORDINATOR_OR_EMPLOYER, 200, None),
        // The coordinator's run for the company: both see it.
        ep(M::GET, "/api/v1/pay-runs/{pay_run}", COORDINATOR_OR_EMPLOYER, 200, None),
        // --- Matching ---
        ep(M::GET, "/api/v1/tasks/{task}/candidates", COORDINATOR, 200, None),
        // The applicant has the offer of the task made above (409 `placement_exists`): the request
        // got past authorization. Offers from a candidate are tested in matching.rs.
        ep(M::POST, "/api/v1/tasks/{task}/candidates/{applicant}/offer", COORDINATOR, 409, None),
        ep(M::GET, "/api/v1/me/suggestions", CITIZEN, 200, None),
        // A body not sent as a zip (415 `unsupported_media_type`): the request got past
        // authorization. Imports are tested in gtfs.rs; with none, reading the feed is 404.
        ep(M::POST, "/api/v1/gtfs", COORDINATOR, 415, None),
        ep(M::GET, "/api/v1/gtfs", COORDINATOR, 404, None),
        ep(M::GET, "/api/v1/reports/transport-gaps", COORDINATOR, 200, None),
        ep(M::GET, "/api/v1/queue", COORDINATOR, 200, None),
        ep(M::GET, "/api/v1/stats/placements", COORDINATOR, 200, None),
        // --- Notifications ---
        // Webhooks are kept by companies (their own) and coordinators (their integrations); a
        // public address literal needs no name lookup. A subscription no caller owns is 404 for
        // both, past authorization: owners' subscriptions are tested in notifications.rs.
        ep(
            M::POST,
            "/api/v1/webhook-subscriptions",
            COORDINATOR_OR_OWN_COMPANY,
            201,
            Some(json!({ "url": "https://93.184.216.34/hook", "event_types": ["placement.approved"] })),
        ),
        ep(M::GET, "/api/v1/webhook-subscriptions", COORDINATOR_OR_OWN_COMPANY, 200, None),
        ep(M::POST, "/api/v1/webhook-subscriptions/{unknown}/secret", COORDINATOR_OR_OWN_COMPANY, 404, None),
        ep(M::DELETE, "/api/v1/webhook-subscriptions/{unknown}", COORDINATOR_OR_OWN_COMPANY, 404, None),
        ep(M::GET, "/api/v1/dead-letters", COORDINATOR, 200, None),
        ep(M::POST, "/api/v1/dead-letters/{unknown}/resend", COORDINATOR, 404, None),
    ]
}

impl Records {
    /// Fills the placeholders of a path or body for a request as `role` (`None`: no token).
    fn fill(&self, text: &str, role: Option<Role>) -> String {
        text.replace("{citizen}", &self.citizen_id)
            .replace("{applicant}", &self.applicant_id)
            .replace("{company}", &self.company_id)
            .replace("{year}", CAP_YEAR)
            .replace("{unknown}", "00000000-0000-4000-8000-000000000000")
            .replace("{frikort}", &self.frikort)
            .replace("{employment}", &self.employment_id)
            .replace("{outside_income}", &self.outside_income)
            .replace("{statement}", &self.statement)
            .replace("{pay_run}", &self.pay_run)
            .replace("{register_entry}", &self.register_entry)
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
        // The operator is refused before any record is read.
        None | Some(Role::Coordinator) | Some(Role::Operator) => &records[0],
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

    async fn send(&self, app: &TestApp, w: &Records, role: Option<Role>) -> Resp {
        self.send_with(app, w, role, role.map(|r| w.token(r))).await
    }

    /// Sends the request filled in for `role`, with any token.
    async fn send_with(&self, app: &TestApp, w: &Records, role: Option<Role>, token: Option<&str>) -> Resp {
        let path = w.fill(self.template, role);
        let body = self.body.as_ref().map(|b| serde_json::from_str(&w.fill(&b.to_string(), role)).expect("JSON"));
        app.request(&self.method, &path, token, body.as_ref()).await
    }
}

/// `/api/v1/citizens/{id}` → `/api/v1/citizens/{}`, so table templates and OpenAPI paths compare.
fn normalized(method: &str, template: &str) -> String {
    let path: Vec<&str> = template.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect();
    format!("{} {}", method.to_uppercase(), path.join("/"))
}

// A company token naming an unregistered CVR number (`Principal::NewCompany`): it may only
// register the company.

fn is_self_registration(e: &Endpoint) -> bool {
    e.method == Method::POST && e.template == "/api/v1/companies/self"
}

/// Sends the rows `which` selects with an unregistered company's token (filled in as for a
/// company) and lists each answer other than 403 `forbidden`.
async fn answers_to_an_unregistered_company(
    app: &TestApp,
    w: &Records,
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

both_backends! {
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
        let w = Records::new(&app).await;
        for e in endpoints() {
            let r = e.send(&app, &w, None).await;
            assert_problem(&r, 401, "missing_token", &e.label());
            // RFC 6750 § 3.1: a request without credentials gets a challenge without an error code.
            let challenge = r.header("www-authenticate").unwrap_or_default();
            assert_eq!(challenge, r#"Bearer realm="smaajob""#, "{}", e.label());
        }
    }

    async fn a_token_of_a_role_an_endpoint_does_not_serve_is_forbidden_on_every_endpoint(app) {
        let w = Records::new(&app).await;
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
        // The operator on every endpoint but its 8 (reading caps twice, previewing and setting
        // a cap, reading the audit log, setting and reading ATP rates twice); the coordinator,
        // the company and the citizen on the operator's 2 cap changes and 1 ATP rate change.
        let operator_refused = endpoints().len() - 8;
        // 16 coordinator-only endpoints (with GET /audit, which the operator also reads, and the
        // transfer of a citizen) and 5 of outside income and register statements × 2 roles, /me
        // and /me/balance × 2, and the citizen on GET /companies/{id}, GET /citizens/{id}/balance and the 4 employment and payout writes.
        // Small jobs: 8 coordinator-only endpoints (offer, interest to offer, approve, reject,
        // queue, statistics, candidates, offer to a candidate) and 2 company-only ones
        // (/companies/self) × 2 roles; 6 citizen-only ones (/me/tasks, interest, /me/offers,
        // accept, decline, /me/suggestions) × 2; the citizen on the 7 of
        // coordinators and companies (creating, listing, changing, opening, completing and
        // cancelling tasks; reporting hours) and on cancelling or no-showing an approved
        // placement; the citizen on the 4 pay run endpoints; less the 4 hidden from the company.
        // GTFS and reports: 3 coordinator-only endpoints (import, current feed, transport gaps)
        // × 2 roles. Register entries: 3 coordinator-only endpoints × 2 roles. Notifications: the
        // citizen on the 4 webhook subscription endpoints, and the 2 coordinator-only dead-letter
        // endpoints × 2 roles.
        assert_eq!(
            refused,
            operator_refused + 3 * 3 + (16 + 5) * 2 + 2 * 2 + 6 + 10 * 2 + 6 * 2 + 7 + 2 + 4 - 4 + 3 * 2 + 3 * 2 + 4 + 2 * 2
        );
    }

    async fn every_endpoint_succeeds_for_each_role_it_serves(app) {
        let w = Records::new(&app).await;
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
        let reversed: BTreeSet<&str> = payouts.body["items"].as_array().unwrap().iter()
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
        let w = Records::new(&app).await;
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

    async fn the_caps_are_readable_by_every_authenticated_role_and_changed_by_the_operator_only(app) {
        let w = Records::new(&app).await;
        let by_coordinator = app.get("/api/v1/caps", &w.coordinator).await;
        by_coordinator.expect(200);
        let year = app.get("/api/v1/caps/2025", &w.coordinator).await;
        year.expect(200);
        assert_eq!(year.body["amount"], "42766.00");
        for role in [Role::Operator, Role::Company, Role::Citizen] {
            let all = app.get("/api/v1/caps", w.token(role)).await;
            all.expect(200);
            assert_eq!(all.body, by_coordinator.body, "{}", role.as_str());
            let one = app.get("/api/v1/caps/2025", w.token(role)).await;
            one.expect(200);
            assert_eq!(one.body, year.body, "{}", role.as_str());
        }
        // Only the operator changes a cap.
        for role in EVERY_PARTY {
            let body = json!({ "amount": "50000", "reason": "Satsregulering" });
            app.put("/api/v1/caps/2030", w.token(*role), &body).await.expect_problem(403, "forbidden");
            app.post("/api/v1/caps/2030/preview", w.token(*role), &body).await.expect_problem(403, "forbidden");
        }
    }
}
