//! Signing in on the pages at real identity providers: `oidc-provider` (OpenID Certified, run
//! by Node.js from `tests/oidc`) as three issuers, one per kind of user, followed over HTTP as a
//! browser without JavaScript does it (redirects, a cookie jar per host). Without Node.js or the
//! provider's packages (`npm ci` in `tests/oidc`) these tests say they were skipped, unless
//! `SMAAJOB_REQUIRE_OIDC` is set (CI sets it), as with PostgreSQL.
//!
//! Beside them, the API's bearer tokens with keys from a JWKS URL, fetched again for a new `kid`
//! but never more than once per refresh floor, and citizen tokens that carry a CPR number.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openidconnect::url::Url;
use serde_json::{Value, json};
use smaajob_api::auth::{Claims, KeySource, Role};
use smaajob_api::oidc::{DEFAULT_CPR_CLAIM, DEFAULT_CVR_CLAIM, IssuerConfig, IssuerKind, SignInConfig};

use crate::fixtures::*;
use crate::support::*;

/// A running `oidc-provider` with three issuers; stopped when dropped.
struct LocalProvider {
    child: Child,
    issuers: HashMap<String, String>,
    _accounts: tempfile::NamedTempFile,
}

impl Drop for LocalProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the provider for a Småjob server at `app_base`, with these accounts; `None` (and a
/// line saying the test was skipped) when Node.js or the provider is not installed.
fn start_provider(app_base: &str, accounts: &Value) -> Option<LocalProvider> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/oidc");
    let installed = dir.join("node_modules/oidc-provider/package.json").exists();
    let node = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    if !(installed && node) {
        let why = if node { "run `npm ci` in tests/oidc" } else { "Node.js is not installed" };
        assert!(
            std::env::var_os("SMAAJOB_REQUIRE_OIDC").is_none(),
            "SMAAJOB_REQUIRE_OIDC is set but the local OpenID provider cannot run: {why}"
        );
        eprintln!("skipped: the local OpenID provider cannot run ({why})");
        return None;
    }
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(accounts.to_string().as_bytes()).unwrap();
    let mut child = Command::new("node")
        .arg(dir.join("provider.js"))
        .arg(app_base)
        .arg(file.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node starts");
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut line).expect("the provider says where it is");
    // The provider writes notices to stdout later on; a closed pipe would stop it.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    let issuers: HashMap<String, String> = serde_json::from_str(&line).expect("the issuers as JSON");
    Some(LocalProvider { child, issuers, _accounts: file })
}

/// A free port on the loopback address (the provider must know the server's redirect URLs
/// before the server starts).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A server whose pages sign in at a fresh local provider with `accounts`.
async fn spawn_signed(backend: Backend, test: &str, accounts: Value) -> Option<(TestApp, LocalProvider)> {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let provider = start_provider(&base, &accounts)?;
    let issuers = IssuerKind::ALL
        .into_iter()
        .map(|kind| IssuerConfig {
            kind,
            issuer: provider.issuers[kind.slug()].clone(),
            client_id: "smaajob".into(),
            client_secret: Some("smaajob-test-secret".into()),
            redirect_url: format!("{base}/log-ind/oidc/{}/retur", kind.slug()),
            scopes: vec!["profile".into()],
        })
        .collect();
    let app = spawn_with(backend, test, |s| {
        s.bind = format!("127.0.0.1:{port}");
        s.sign_in = SignInConfig { issuers, ..SignInConfig::default() };
    })
    .await?;
    Some((app, provider))
}

/// One request of a walk, as sent and answered.
struct Step {
    url: Url,
    status: u16,
    body: String,
}

/// A browser with a cookie jar per host, following redirects itself.
struct Browser {
    client: awc::Client,
    jar: HashMap<String, HashMap<String, String>>,
}

impl Browser {
    fn new() -> Browser {
        Browser { client: awc::Client::builder().disable_redirects().finish(), jar: HashMap::new() }
    }

    fn host(url: &Url) -> String {
        format!("{}:{}", url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(0))
    }

    fn cookie_header(&self, url: &Url) -> Option<String> {
        let jar = self.jar.get(&Browser::host(url))?;
        (!jar.is_empty()).then(|| jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }

    /// The Småjob session cookie held for `url`'s host.
    fn session(&self, url: &Url) -> Option<String> {
        self.jar.get(&Browser::host(url)).and_then(|j| j.get("smaajob_session").cloned())
    }

    fn set_session(&mut self, url: &Url, value: &str) {
        self.jar.entry(Browser::host(url)).or_default().insert("smaajob_session".into(), value.into());
    }

    /// One request, with a cookie header of our choosing (`None`: the jar's).
    async fn send(
        &mut self,
        method: awc::http::Method,
        url: &Url,
        form: Option<&[(&str, &str)]>,
    ) -> (Step, Option<Url>) {
        let cookie = self.cookie_header(url);
        let mut req = self.client.request(method, url.as_str());
        if let Some(c) = &cookie {
            req = req.insert_header(("Cookie", c.as_str()));
        }
        let mut res = match form {
            Some(fields) => req.send_form(&fields).await,
            None => req.send().await,
        }
        .unwrap_or_else(|e| panic!("{url} answers: {e}"));
        let body = String::from_utf8_lossy(&res.body().limit(1 << 20).await.expect("a body")).into_owned();
        for set in res.headers().get_all("set-cookie").filter_map(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or("");
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let jar = self.jar.entry(Browser::host(url)).or_default();
            if value.is_empty() || set.to_ascii_lowercase().contains("max-age=0") {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.to_owned());
            }
        }
        let next = res.headers().get("location").and_then(|v| v.to_str().ok()).map(|l| url.join(l).expect("a URL"));
        (Step { url: url.clone(), status: res.status().as_u16(), body }, next)
    }

    /// GETs `url` and follows redirects to the end; every request on the way.
    async fn walk(&mut self, url: Url) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next.take() {
            assert!(steps.len() < 20, "too many redirects");
            let (step, location) = self.send(awc::http::Method::GET, &url, None).await;
            steps.push(step);
            next = location;
        }
        steps
    }
}

/// Starts a sign-in of `kind` at the app, and picks `account` at the provider (as a person
/// would on its login page); returns the walk up to (not including) the provider's answer to
/// the app, and the answer's URL.
async fn to_the_answer(browser: &mut Browser, app: &TestApp, kind: IssuerKind, account: &str) -> Url {
    let start = Url::parse(&format!("{}/log-ind/oidc/{}", app.base, kind.slug())).unwrap();
    let (step, location) = browser.send(awc::http::Method::GET, &start, None).await;
    assert_eq!(step.status, 303, "{}", step.body);
    let mut authorize = location.expect("sent to the provider");
    let query: HashMap<String, String> = authorize.query_pairs().into_owned().collect();
    assert_eq!(query.get("code_challenge_method").map(String::as_str), Some("S256"), "PKCE: {authorize}");
    assert!(query.contains_key("code_challenge") && query.contains_key("state") && query.contains_key("nonce"));
    authorize.query_pairs_mut().append_pair("login_hint", account);
    let mut next = Some(authorize);
    while let Some(url) = next.take() {
        if url.as_str().starts_with(&app.base) {
            return url;
        }
        let (step, location) = browser.send(awc::http::Method::GET, &url, None).await;
        assert!(location.is_some(), "the provider stopped at {url}: {} {}", step.status, step.body);
        next = location;
    }
    unreachable!("the loop returns at the app")
}

/// Signs in as `account` and follows the app's redirects to the start page.
async fn sign_in(browser: &mut Browser, app: &TestApp, kind: IssuerKind, account: &str) -> Vec<Step> {
    let answer = to_the_answer(browser, app, kind, account).await;
    browser.walk(answer).await
}

#[track_caller]
fn is_sign_in_page(step: &Step, status: u16, notice: &str) {
    assert_eq!(step.status, status, "{}: {}", step.url, step.body);
    assert!(step.body.contains("<h1>Log ind</h1>"), "{}", step.body);
    assert!(step.body.contains(notice), "`{notice}` missing: {}", step.body);
    assert!(!step.body.contains("Mit fribeløb") && !step.body.contains("Log ud"), "{}", step.body);
}

const UNKNOWN_CPR: &str = "0202901999";

fn accounts() -> Value {
    json!({
        "jens": { "name": "Jens Hansen", DEFAULT_CPR_CLAIM: JENS.replace('-', "") },
        "stranger": { "name": "Ukendt Borger", DEFAULT_CPR_CLAIM: UNKNOWN_CPR },
        "karen": { "name": "Karen Bager", DEFAULT_CVR_CLAIM: CVR_A },
        "mette": { "name": "Mette Koordinator", "municipality": RANDERS, "groups": ["staff", "smaajob-coordinator"] },
        "outsider": { "name": "Anders Ansat", "municipality": RANDERS, "groups": ["staff"] },
    })
}

/// Runs a sign-in test on SQLite and on PostgreSQL, with a server and a provider.
macro_rules! signed_both {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        mod sqlite {
            use super::*;
            $(
                #[actix_web::test]
                async fn $name() {
                    let Some(($app, _provider)) = spawn_signed(Backend::Sqlite, stringify!($name), accounts()).await else { return };
                    $body
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                #[actix_web::test]
                async fn $name() {
                    let Some(($app, _provider)) = spawn_signed(Backend::Postgres, stringify!($name), accounts()).await else { return };
                    $body
                }
            )*
        }
    };
}

mod pages {
    use super::*;

    signed_both! {
        async fn a_citizen_signs_in_with_mitid_by_cpr_and_sees_their_balance_page(app) {
            let coordinator = app.coordinator(RANDERS);
            app.enrol(&coordinator, JENS, "Jens Hansen").await;
            let mut b = Browser::new();
            let steps = sign_in(&mut b, &app, IssuerKind::Citizen, "jens").await;
            let last = steps.last().unwrap();
            assert_eq!((last.url.path(), last.status), ("/borger", 200), "{}", last.body);
            assert!(last.body.contains("Mit fribeløb") && last.body.contains("Jens Hansen"), "{}", last.body);
            assert!(!last.body.contains(JENS) && !last.body.contains(&JENS.replace('-', "")), "no CPR on the page");
        }

        async fn a_company_signs_in_with_mitid_erhverv_by_its_cvr(app) {
            let coordinator = app.coordinator(RANDERS);
            app.register_company(&coordinator, CVR_A, "Bager Hansen ApS").await;
            let mut b = Browser::new();
            let last = sign_in(&mut b, &app, IssuerKind::Company, "karen").await.pop().unwrap();
            assert_eq!((last.url.path(), last.status), ("/virksomhed", 200), "{}", last.body);
            assert!(last.body.contains("Bager Hansen ApS"), "{}", last.body);
        }

        async fn a_coordinator_signs_in_with_the_municipality_and_group_claims(app) {
            let mut b = Browser::new();
            let last = sign_in(&mut b, &app, IssuerKind::Coordinator, "mette").await.pop().unwrap();
            assert_eq!((last.url.path(), last.status), ("/koordinator", 200), "{}", last.body);
            assert!(last.body.contains("Mette Koordinator"), "{}", last.body);
        }

        async fn someone_without_the_coordinator_group_is_refused(app) {
            let mut b = Browser::new();
            let last = sign_in(&mut b, &app, IssuerKind::Coordinator, "outsider").await.pop().unwrap();
            is_sign_in_page(&last, 401, "Log-ind lykkedes ikke");
        }

        async fn an_unknown_cpr_gets_a_clear_danish_page_and_no_session(app) {
            let mut b = Browser::new();
            let last = sign_in(&mut b, &app, IssuerKind::Citizen, "stranger").await.pop().unwrap();
            is_sign_in_page(&last, 403, "du er ikke tilmeldt Småjob");
            assert!(!last.body.contains(UNKNOWN_CPR));
            let base = Url::parse(&app.base).unwrap();
            let again = b.walk(base.join("/borger").unwrap()).await.pop().unwrap();
            is_sign_in_page(&again, 401, "Log ind");
        }

        async fn an_unregistered_company_gets_a_clear_danish_page(app) {
            let mut b = Browser::new();
            let last = sign_in(&mut b, &app, IssuerKind::Company, "karen").await.pop().unwrap();
            is_sign_in_page(&last, 403, "Virksomheden er ikke registreret i Småjob");
        }

        async fn an_answer_with_another_state_is_refused(app) {
            let mut b = Browser::new();
            let answer = to_the_answer(&mut b, &app, IssuerKind::Coordinator, "mette").await;
            let mut forged = answer.clone();
            let pairs: Vec<(String, String)> = answer.query_pairs().into_owned().collect();
            forged.query_pairs_mut().clear();
            for (k, v) in pairs {
                forged.query_pairs_mut().append_pair(&k, if k == "state" { "another-state" } else { &v });
            }
            let last = b.walk(forged).await.pop().unwrap();
            is_sign_in_page(&last, 403, "Log-ind lykkedes ikke");
        }

        async fn a_replayed_code_is_refused_even_with_the_cookie_it_was_issued_to(app) {
            let mut b = Browser::new();
            let answer = to_the_answer(&mut b, &app, IssuerKind::Coordinator, "mette").await;
            let pending = b.session(&answer).expect("the pending sign-in's cookie");
            let first = b.walk(answer.clone()).await.pop().unwrap();
            assert_eq!(first.url.path(), "/koordinator");
            // The same answer again from this browser: the session no longer waits for one.
            let again = b.walk(answer.clone()).await.pop().unwrap();
            is_sign_in_page(&again, 401, "Log-ind lykkedes ikke");
            // And with the cookie from before: the provider refuses a code used once.
            let mut thief = Browser::new();
            thief.set_session(&answer, &pending);
            let replay = thief.walk(answer).await.pop().unwrap();
            is_sign_in_page(&replay, 401, "Log-ind lykkedes ikke");
        }

        async fn a_tampered_cookie_at_the_answer_gets_the_sign_in_page(app) {
            let mut b = Browser::new();
            let answer = to_the_answer(&mut b, &app, IssuerKind::Coordinator, "mette").await;
            let mut cookie = b.session(&answer).unwrap().into_bytes();
            let i = cookie.len() / 2;
            cookie[i] = if cookie[i] == b'A' { b'B' } else { b'A' };
            b.set_session(&answer, std::str::from_utf8(&cookie).unwrap());
            let last = b.walk(answer).await.pop().unwrap();
            is_sign_in_page(&last, 401, "Din session kunne ikke læses");
        }

        async fn an_answer_without_the_session_that_started_it_is_refused(app) {
            let mut b = Browser::new();
            let answer = to_the_answer(&mut b, &app, IssuerKind::Coordinator, "mette").await;
            let last = Browser::new().walk(answer).await.pop().unwrap();
            is_sign_in_page(&last, 401, "Log-ind lykkedes ikke");
        }

        async fn with_an_issuer_configured_there_is_no_development_sign_in(app) {
            let mut b = Browser::new();
            let base = Url::parse(&app.base).unwrap();
            let page = b.walk(base.join("/log-ind").unwrap()).await.pop().unwrap();
            assert!(page.body.contains("/log-ind/oidc/borger") && page.body.contains("/log-ind/oidc/koordinator"));
            assert!(!page.body.contains("/log-ind/udvikler"), "{}", page.body);
            let csrf = page.body.split("name=\"csrf\" value=\"").nth(1).map(|r| r.split('"').next().unwrap().to_owned());
            let form = [("csrf", csrf.as_deref().unwrap_or("")), ("user", "coordinator:730")];
            let (refused, _) = b.send(awc::http::Method::POST, &base.join("/log-ind/udvikler").unwrap(), Some(&form)).await;
            is_sign_in_page(&refused, 403, "Udviklerlogin er ikke tilladt");
        }

        async fn sign_out_clears_the_session_and_ends_it_at_the_provider(app) {
            let mut b = Browser::new();
            let start = sign_in(&mut b, &app, IssuerKind::Coordinator, "mette").await.pop().unwrap();
            let csrf = start.body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
            let base = Url::parse(&app.base).unwrap();
            let (out, location) = b.send(awc::http::Method::POST, &base.join("/log-ud").unwrap(), Some(&[("csrf", &csrf)])).await;
            assert_eq!(out.status, 303);
            let location = location.unwrap();
            assert!(location.path().starts_with("/session/end"), "{location}");
            let query: HashMap<String, String> = location.query_pairs().into_owned().collect();
            assert_eq!(query.get("client_id").map(String::as_str), Some("smaajob"));
            assert_eq!(query.get("post_logout_redirect_uri"), Some(&format!("{}/log-ind?ok=ud", app.base)));
            assert_eq!(b.session(&base), None, "the cookie is removed");
            let after = b.walk(base.join("/koordinator").unwrap()).await.pop().unwrap();
            is_sign_in_page(&after, 401, "Log ind");
        }
    }
}

// The API's bearer tokens with keys from a JWKS URL (auth, not storage: SQLite only).

mod jwks_url {
    use super::*;
    use actix_web::{App, HttpResponse, HttpServer, web};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use smaajob_api::jwks::RemoteJwks;

    const JWKS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/jwt/jwks.json"));
    const RSA_PRIVATE: &[u8] =
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/jwt/rs256-private.pem"));
    const EC_PRIVATE: &[u8] =
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/jwt/es256-private.pem"));

    /// A JWKS endpoint whose document a test changes, counting the fetches.
    struct KeyServer {
        url: String,
        document: Arc<Mutex<String>>,
        fetches: Arc<AtomicUsize>,
    }

    fn only(kid: &str) -> String {
        let all: Value = serde_json::from_str(JWKS).unwrap();
        let keys: Vec<Value> = all["keys"].as_array().unwrap().iter().filter(|k| k["kid"] == kid).cloned().collect();
        json!({ "keys": keys }).to_string()
    }

    fn key_server(document: String) -> KeyServer {
        let document = Arc::new(Mutex::new(document));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (d, f) = (document.clone(), fetches.clone());
        let server = HttpServer::new(move || {
            let (d, f) = (d.clone(), f.clone());
            App::new().route(
                "/jwks.json",
                web::get().to(move || {
                    let (d, f) = (d.clone(), f.clone());
                    async move {
                        f.fetch_add(1, Ordering::SeqCst);
                        let body = d.lock().unwrap().clone();
                        HttpResponse::Ok().content_type("application/json").body(body)
                    }
                }),
            )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let port = server.addrs()[0].port();
        actix_web::rt::spawn(server.run());
        KeyServer { url: format!("http://127.0.0.1:{port}/jwks.json"), document, fetches }
    }

    async fn app_with(keys: &KeyServer, floor: Duration, test: &str) -> TestApp {
        let http = smaajob_api::jwks::http_client().unwrap();
        let remote = Arc::new(RemoteJwks::new(keys.url.clone(), http, floor));
        spawn_with_keys(Backend::Sqlite, test, KeySource::JwksUrl(remote)).await.unwrap()
    }

    fn signed(alg: Algorithm, key: &EncodingKey, kid: &str, claims: &Claims) -> String {
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, claims, key).unwrap()
    }

    fn coordinator() -> Claims {
        Claims { municipality: Some(RANDERS.into()), ..claims(Role::Coordinator, "coord-jwks") }
    }

    #[actix_web::test]
    async fn a_key_published_after_start_is_fetched_when_a_token_names_it() {
        let keys = key_server(only("test-rsa"));
        let app = app_with(&keys, Duration::ZERO, "jwks_url_rotation").await;
        let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap();
        let ec = EncodingKey::from_ec_pem(EC_PRIVATE).unwrap();
        let token = signed(Algorithm::RS256, &rsa, "test-rsa", &coordinator());
        app.get("/api/v1/audit", &token).await.expect(200);
        app.get("/api/v1/audit", &token).await.expect(200);
        assert_eq!(keys.fetches.load(Ordering::SeqCst), 1, "a known kid is served from memory");
        let rotated = signed(Algorithm::ES256, &ec, "test-ec", &coordinator());
        app.get("/api/v1/audit", &rotated).await.expect_problem(401, "invalid_token");
        *keys.document.lock().unwrap() = JWKS.to_owned();
        app.get("/api/v1/audit", &rotated).await.expect(200);
        app.get("/api/v1/audit", &token).await.expect(200);
    }

    #[actix_web::test]
    async fn made_up_kids_are_refused_without_fetching_again_within_the_floor() {
        let keys = key_server(JWKS.to_owned());
        let app = app_with(&keys, Duration::from_secs(3600), "jwks_url_floor").await;
        let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap();
        app.get("/api/v1/audit", &signed(Algorithm::RS256, &rsa, "test-rsa", &coordinator())).await.expect(200);
        for i in 0..10 {
            let forged = signed(Algorithm::RS256, &rsa, &format!("forged-{i}"), &coordinator());
            app.get("/api/v1/audit", &forged).await.expect_problem(401, "invalid_token");
        }
        assert_eq!(keys.fetches.load(Ordering::SeqCst), 1, "one fetch, however many unknown kids");
    }

    #[actix_web::test]
    async fn a_citizen_token_with_a_cpr_claim_reads_that_citizens_balance_and_an_unknown_cpr_is_refused() {
        let keys = key_server(JWKS.to_owned());
        let app = app_with(&keys, Duration::from_secs(60), "jwks_url_cpr").await;
        let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap();
        let coord = signed(Algorithm::RS256, &rsa, "test-rsa", &coordinator());
        let id = app.enrol(&coord, JENS, "Jens Hansen").await;
        let citizen = Claims { cpr: Some(JENS.replace('-', "")), ..claims(Role::Citizen, "mitid-jens") };
        let token = signed(Algorithm::RS256, &rsa, "test-rsa", &citizen);
        let mine = app.get("/api/v1/me/balance", &token).await;
        mine.expect(200);
        assert_eq!(mine.body["citizen_id"], id.as_str(), "{}", mine.body);
        let stranger = Claims { cpr: Some(UNKNOWN_CPR.into()), ..claims(Role::Citizen, "mitid-stranger") };
        let r = app.get("/api/v1/me/balance", &signed(Algorithm::RS256, &rsa, "test-rsa", &stranger)).await;
        r.expect_problem(403, "forbidden");
        assert!(
            !r.raw.windows(UNKNOWN_CPR.len()).any(|w| w == UNKNOWN_CPR.as_bytes()),
            "the refusal does not quote the CPR"
        );
        let bad = Claims { cpr: Some("3213901234".into()), ..claims(Role::Citizen, "mitid-bad") };
        app.get("/api/v1/audit", &signed(Algorithm::RS256, &rsa, "test-rsa", &bad))
            .await
            .expect_problem(401, "invalid_token");
    }
}
