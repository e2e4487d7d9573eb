//! Spawning the real server on a random port against a throwaway database, and talking to it
//! over HTTP.

#![allow(dead_code)]

use std::time::Duration;

use awc::http::Method;
use serde_json::Value;
use smaajob_api::auth::{Authenticator, Claims, KeySource, Role};
use smaajob_api::config::{DEFAULT_AUDIENCE, DEFAULT_ISSUER};
use smaajob_api::{Application, Settings};
use smaajob_persistence::DbPool;
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::testing::TestDatabase;

/// The HS256 secret of test servers.
pub const SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file in a temporary directory.
    Sqlite,
    /// A fresh PostgreSQL database (skipped when none is configured).
    Postgres,
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub base: String,
    pub port: u16,
    pub pool: DbPool,
    pub data_key: DataKey,
    pub backend: Backend,
    minter: Authenticator,
    client: awc::Client,
    /// Shared by every instance started on the same database; dropped with the last.
    db: std::rc::Rc<TestDatabase>,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Resp {
    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, with the body in the message when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Resp {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        self
    }

    /// Asserts an RFC 9457 problem with this status and code.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, code: &str) -> &Resp {
        assert_eq!(self.status, status, "unexpected status; body: {}", self.body);
        assert_eq!(self.content_type(), "application/problem+json", "body: {}", self.body);
        assert_eq!(self.body["status"], status, "body: {}", self.body);
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert_eq!(self.body["type"], format!("urn:smaajob:problem:{code}"), "body: {}", self.body);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string(), "body: {}", self.body);
        self
    }

    /// The per-field errors of a validation problem, as `field` names.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

/// Spawns a server with an HS256 secret; `None` when the backend is PostgreSQL and none is configured.
pub async fn spawn(backend: Backend, test: &str) -> Option<TestApp> {
    spawn_with_keys(backend, test, KeySource::Hs256(SECRET.as_bytes().to_vec())).await
}

/// Spawns a server that verifies tokens with the given keys.
pub async fn spawn_with_keys(backend: Backend, test: &str, keys: KeySource) -> Option<TestApp> {
    spawn_configured(backend, test, keys, |_| {}).await
}

/// Spawns a server with the test settings changed by `tweak` (e.g. tighter guess limits).
pub async fn spawn_with(backend: Backend, test: &str, tweak: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    spawn_configured(backend, test, KeySource::Hs256(SECRET.as_bytes().to_vec()), tweak).await
}

async fn spawn_configured(
    backend: Backend,
    test: &str,
    keys: KeySource,
    tweak: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    if std::env::var_os("SMAAJOB_TEST_LOG").is_some() {
        // The server's log on stderr, e.g. to see what an internal error was.
        smaajob_api::telemetry::init(smaajob_api::telemetry::LogFormat::Text);
    }
    let db = match backend {
        Backend::Sqlite => TestDatabase::sqlite(),
        Backend::Postgres => TestDatabase::postgres(test)?,
    };
    Some(start(std::rc::Rc::new(db), backend, keys, tweak).await)
}

/// The settings of a test server on `db`.
fn test_settings(db: &TestDatabase, keys: KeySource) -> Settings {
    Settings {
        bind: "127.0.0.1:0".into(),
        database_url: db.url().clone(),
        auth: Authenticator::new(keys, DEFAULT_ISSUER, DEFAULT_AUDIENCE).expect("test keys are valid"),
        data_key: DataKey::from_bytes(&[42; 32]),
        max_body_bytes: 16 * 1024,
        pool_size: 4,
        blocking_threads: None,
        wage_floor: smaajob_domain::Money::from_kroner(130),
        idempotency_ttl: smaajob_api::config::DEFAULT_IDEMPOTENCY_TTL,
        guess_limits: smaajob_api::services::guesses::GuessLimits::default(),
        // Every test talks from 127.0.0.1, often many requests at once: the in-memory source rate
        // is tested on its own (`guessing`), with its own settings.
        source_rate: smaajob_api::guess_guard::SourceRateConfig {
            period: Duration::from_millis(1),
            burst: std::num::NonZeroU32::new(10_000).expect("not zero"),
        },
        // The dispatcher runs only in the tests of notifications, which start it with their settings.
        notify: smaajob_api::config::NotifySettings {
            dispatch: smaajob_api::dispatch::DispatchSettings { in_process: false, ..Default::default() },
            ..Default::default()
        },
        sign_in: Default::default(),
    }
}

async fn start(
    db: std::rc::Rc<TestDatabase>,
    backend: Backend,
    keys: KeySource,
    tweak: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = test_settings(&db, keys);
    tweak(&mut settings);
    let data_key = settings.data_key.clone();
    let app = Application::build(settings).await.expect("the test server starts");
    let port = app.port();
    let pool = app.pool().clone();
    actix_web::rt::spawn(app.run_until_stopped());
    let client = awc::Client::builder().timeout(Duration::from_secs(60)).finish();
    let minter = Authenticator::new(KeySource::Hs256(SECRET.as_bytes().to_vec()), DEFAULT_ISSUER, DEFAULT_AUDIENCE)
        .expect("valid secret");
    TestApp { base: format!("http://127.0.0.1:{port}"), port, pool, data_key, backend, minter, client, db }
}

impl TestApp {
    /// The database's URL, for running the binary on it (test databases have no password, so
    /// the redacted form is the URL itself).
    pub fn database_url(&self) -> String {
        self.db.url().redacted()
    }

    /// A second server instance on the same database (as after a restart, or beside this one
    /// behind a load balancer), with the test settings changed by `tweak`.
    pub async fn another_instance(&self, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        start(self.db.clone(), self.backend, KeySource::Hs256(SECRET.as_bytes().to_vec()), tweak).await
    }
}

/// Claims as the `token` command would make them, valid for an hour.
pub fn claims(role: Role, sub: &str) -> Claims {
    let now = chrono::Utc::now().timestamp();
    Claims {
        sub: sub.into(),
        role,
        exp: now + 3600,
        iat: now,
        nbf: None,
        iss: DEFAULT_ISSUER.into(),
        aud: DEFAULT_AUDIENCE.into(),
        municipality: None,
        company_id: None,
        cvr: None,
        citizen_id: None,
        cpr: None,
    }
}

impl TestApp {
    /// Signs claims with the test secret.
    pub fn sign(&self, claims: &Claims) -> String {
        self.minter.mint(claims).expect("HS256 minting works")
    }

    /// The operator's token (scheme-wide settings; no scope claim).
    pub fn operator(&self) -> String {
        self.sign(&claims(Role::Operator, "operator-1"))
    }

    /// A coordinator token for a municipality.
    pub fn coordinator(&self, municipality: &str) -> String {
        self.sign(&Claims {
            municipality: Some(municipality.into()),
            ..claims(Role::Coordinator, &format!("coord-{municipality}"))
        })
    }

    /// A company token.
    pub fn company(&self, company_id: &str) -> String {
        self.sign(&Claims {
            company_id: Some(company_id.into()),
            ..claims(Role::Company, &format!("company-{company_id}"))
        })
    }

    /// A citizen token.
    pub fn citizen(&self, citizen_id: &str) -> String {
        self.sign(&Claims {
            citizen_id: Some(citizen_id.into()),
            ..claims(Role::Citizen, &format!("citizen-{citizen_id}"))
        })
    }

    /// Sends a request with an optional token, content type and raw body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Resp {
        let mut req = self.client.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        if let Some(ct) = content_type {
            req = req.insert_header(("Content-Type", ct));
        }
        let mut res = req.send_body(body).await.expect("the server answers");
        let raw = res.body().limit(16 * 1024 * 1024).await.expect("the body is readable").to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Resp { status: res.status().as_u16(), headers: res.headers().clone(), body, raw }
    }

    /// `GET` with a token.
    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.send(Method::GET, path, Some(token), None, Vec::new()).await
    }

    /// A JSON request with a token.
    pub async fn json(&self, method: Method, path: &str, token: &str, body: &Value) -> Resp {
        self.send(method, path, Some(token), Some("application/json"), serde_json::to_vec(body).expect("JSON")).await
    }

    /// `POST` JSON with a token.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.json(Method::POST, path, token, body).await
    }

    /// `PATCH` JSON with a token.
    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.json(Method::PATCH, path, token, body).await
    }

    /// `PUT` JSON with a token.
    pub async fn put(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.json(Method::PUT, path, token, body).await
    }

    /// A request with an optional token and an optional JSON body.
    pub async fn request(&self, method: &Method, path: &str, token: Option<&str>, body: Option<&Value>) -> Resp {
        match body {
            Some(b) => {
                self.send(method.clone(), path, token, Some("application/json"), serde_json::to_vec(b).expect("JSON"))
                    .await
            }
            None => self.send(method.clone(), path, token, None, Vec::new()).await,
        }
    }
}

/// `(field, code)` of every per-field error of a validation problem.
pub fn field_codes(r: &Resp) -> Vec<(String, String)> {
    r.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| (e["field"].as_str().unwrap_or("").to_owned(), e["code"].as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts a problem with this status and code, naming what was sent (or who sent it) when it fails.
#[track_caller]
pub fn assert_problem(r: &Resp, status: u16, code: &str, what: &str) {
    assert_eq!((r.status, r.body["code"].as_str()), (status, Some(code)), "{what}: {}", r.body);
    r.expect_problem(status, code);
}

/// Asserts a 422 validation problem with exactly this one field error.
#[track_caller]
pub fn expect_field_error(r: &Resp, field: &str, code: &str) {
    r.expect_problem(422, "validation");
    assert_eq!(field_codes(r), [(field.to_owned(), code.to_owned())], "body: {}", r.body);
}

/// Runs each test body once on SQLite and once on PostgreSQL, as `sqlite::NAME` and `postgres::NAME`.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[actix_web::test]
                async fn $name() {
                    let $app = $crate::support::spawn($crate::support::Backend::Sqlite, stringify!($name)).await.expect("SQLite always runs");
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[actix_web::test]
                async fn $name() {
                    let Some($app) = $crate::support::spawn($crate::support::Backend::Postgres, stringify!($name)).await else { return };
                    $body
                }
            )*
        }
    };
}

/// Runs each named `async fn NAME(backend: Backend)` once on SQLite and once on PostgreSQL, as
/// `sqlite::NAME` and `postgres::NAME`, for tests that spawn their own server (with settings of
/// their own) rather than the default one [`both_backends!`] gives.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name($crate::support::Backend::Postgres).await
                }
            )*
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Requests with extra headers.

impl TestApp {
    /// A JSON request with a token and extra headers (e.g. `Idempotency-Key`).
    pub async fn json_with_headers(
        &self,
        method: Method,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> Resp {
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("Content-Type", "application/json"));
        for (name, value) in headers {
            req = req.insert_header((*name, *value));
        }
        let mut res = req.send_body(serde_json::to_vec(body).expect("JSON")).await.expect("the server answers");
        let raw = res.body().limit(16 * 1024 * 1024).await.expect("the body is readable").to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Resp { status: res.status().as_u16(), headers: res.headers().clone(), body, raw }
    }

    /// `POST` JSON with an `Idempotency-Key`.
    pub async fn post_with_key(&self, path: &str, token: &str, key: &str, body: &Value) -> Resp {
        self.json_with_headers(Method::POST, path, token, &[("Idempotency-Key", key)], body).await
    }
}

// ---------------------------------------------------------------------------------------------
// Company tokens as a business identity provider sends them (only a `cvr` claim).

impl TestApp {
    /// A company token carrying only a `cvr` claim; it resolves to the company registered with
    /// that CVR number, or lets it register itself (`POST /companies/self`).
    pub fn company_cvr_token(&self, cvr: &str) -> String {
        self.company_cvr_token_as(cvr, &format!("company-cvr-{cvr}"))
    }

    /// Like [`TestApp::company_cvr_token`], for another person (`sub`) of the same company.
    pub fn company_cvr_token_as(&self, cvr: &str, sub: &str) -> String {
        self.sign(&Claims { cvr: Some(cvr.into()), ..claims(Role::Company, sub) })
    }
}
