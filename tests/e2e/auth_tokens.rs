//! Tokens: which bearer tokens the server refuses (expired, not yet valid, for another audience
//! or issuer, unsigned, signed with another algorithm or key, tampered with, malformed, without
//! the claims a role needs), and tokens from an external identity provider (RS256/ES256 with a
//! PEM key or a JWKS).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use smaajob_api::auth::{Claims, KeySource, Role};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

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

/// Asserts a 401 `invalid_token` problem with a Bearer challenge naming the error.
fn assert_invalid_token(r: &Resp, what: &str) {
    assert_problem(r, 401, "invalid_token", what);
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{what}: challenge {challenge:?}");
    assert!(challenge.contains(r#"error="invalid_token""#), "{what}: challenge {challenge:?}");
}

both_backends! {
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

    async fn a_company_token_whose_company_id_is_not_an_id_is_refused(app) {
        // Only a holder of the signing key can mint one, so it is a broken token, not a request for
        // an unknown company.
        for bad in ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000G"] {
            let token = app.company(bad);
            assert_invalid_token(&app.get("/api/v1/tasks", &token).await, bad);
        }
    }

    async fn a_token_whose_cvr_claim_is_not_a_valid_cvr_is_refused(app) {
        for bad in ["12345678", "1015081", "01234567", "abcdefgh"] {
            let token = app.company_cvr_token(bad);
            register_self(&app, &token, "Bager Hansen ApS").await.expect_problem(401, "invalid_token");
            app.get("/api/v1/companies/self", &token).await.expect_problem(401, "invalid_token");
        }
    }
}

// An external identity provider (RS256/ES256 with a PEM key or a JWKS). Auth, not storage:
// SQLite only.

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
