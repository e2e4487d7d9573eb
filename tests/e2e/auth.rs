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

/// The year used for `{year}` in paths.
const CAP_YEAR: &str = "2030";

/// The world's citizen: holds a card, employed by the world's company.
const JENS: &str = "010190-1234";

/// An endpoint, the roles it serves and the status a request of such a role gets. Paths and
/// bodies name placeholders that [`World::fill`] fills in: `{citizen}`, `{applicant}`,
/// `{company}`, `{year}`, `{frikort}`, `{employment}`, `{employment_to_end}`,
/// `{payout_to_reverse}` and `{now}`.
struct Endpoint {
    method: Method,
    template: &'static str,
    allowed: &'static [Role],
    ok: u16,
    body: Option<Value>,
}

fn ep(method: Method, template: &'static str, allowed: &'static [Role], ok: u16, body: Option<Value>) -> Endpoint {
    Endpoint { method, template, allowed, ok, body }
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
    ]
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
        World {
            citizen: app.citizen(&citizen_id),
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
    }
}

/// The record of a request that succeeds only once per record: the company's for a company
/// token, the coordinator's for any other (a refused request changes nothing).
fn one_shot(records: &[String; 2], role: Option<Role>) -> &str {
    if role == Some(Role::Company) { &records[1] } else { &records[0] }
}

impl Endpoint {
    fn label(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    async fn send(&self, app: &TestApp, w: &World, role: Option<Role>) -> Resp {
        let path = w.fill(self.template, role);
        let body = self.body.as_ref().map(|b| serde_json::from_str(&w.fill(&b.to_string(), role)).expect("JSON"));
        send(app, &self.method, &path, role.map(|r| w.token(r)), body.as_ref()).await
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
        let mut refused = 0;
        for e in endpoints() {
            for role in EVERY_ROLE.iter().filter(|r| !e.allowed.contains(r)) {
                let r = e.send(&app, &w, Some(*role)).await;
                assert_problem(&r, 403, "forbidden", &format!("{} as {}", e.label(), role.as_str()));
                refused += 1;
            }
        }
        // 16 coordinator-only endpoints × 2 roles, /me and /me/balance × 2, and the citizen on
        // GET /companies/{id}, GET /citizens/{id}/balance and the 4 employment and payout writes.
        assert_eq!(refused, 16 * 2 + 2 * 2 + 6);
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
