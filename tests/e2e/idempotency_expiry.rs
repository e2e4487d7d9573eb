//! `Idempotency-Key`s expire: a retry within the lifetime replays the first response, a retry
//! after it is a new request, and the server deletes expired keys in the background.

use diesel::prelude::*;
use serde_json::json;
use smaajob_persistence::schema::idempotency_keys;

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
use crate::outside_probe::{raw, request, serve};
use crate::support::*;

const JENS: &str = "010190-1234";

/// Moves every stored key's creation back by `days`, as if the clock had run on.
fn age_keys(app: &TestApp, days: i64) {
    let mut conn = app.pool.get().unwrap();
    let keys: Vec<(String, String, chrono::NaiveDateTime)> = idempotency_keys::table
        .select((idempotency_keys::caller, idempotency_keys::idempotency_key, idempotency_keys::created_at))
        .load(&mut conn)
        .unwrap();
    for (caller, key, created_at) in keys {
        diesel::update(idempotency_keys::table.find((caller, key)))
            .set(idempotency_keys::created_at.eq(created_at - chrono::Duration::days(days)))
            .execute(&mut conn)
            .unwrap();
    }
}

fn stored_keys(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    idempotency_keys::table.count().get_result(&mut conn).unwrap()
}

both_backends! {
    async fn a_retry_after_the_key_expired_is_a_new_request(app) {
        let coordinator = app.coordinator("730");
        let (_, number) = app.card_holder(&coordinator, JENS, "Jens Hansen", "2019-01-01").await;
        let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
        let t = app.company(&company);
        let employment = app.register_employment(&t, &employment_by_card(JENS, &number, "2024-01-01")).await;
        let path = format!("/api/v1/employments/{employment}/payouts");
        let body = payout_body("2024-03-05", "2024-02-01", "2024-02-29", "1000.00");

        let first = app.post_with_key(&path, &t, "march-wages", &body).await;
        first.expect(201);
        let replay = app.post_with_key(&path, &t, "march-wages", &body).await;
        replay.expect(201);
        assert_eq!(replay.header("Idempotent-Replayed"), Some("true"));
        assert_eq!(replay.body["payout"]["id"], first.body["payout"]["id"]);

        // Six days on the key still holds; eight days on (the default lifetime is seven) it is gone.
        age_keys(&app, 6);
        let within = app.post_with_key(&path, &t, "march-wages", &body).await;
        assert_eq!(within.header("Idempotent-Replayed"), Some("true"));
        age_keys(&app, 2);
        let after = app.post_with_key(&path, &t, "march-wages", &body).await;
        after.expect(201);
        assert_eq!(after.header("Idempotent-Replayed"), None);
        assert_ne!(after.body["payout"]["id"], first.body["payout"]["id"], "a second payout was registered");
        // The new response is remembered under the key again.
        let again = app.post_with_key(&path, &t, "march-wages", &body).await;
        assert_eq!(again.header("Idempotent-Replayed"), Some("true"));
        assert_eq!(again.body["payout"]["id"], after.body["payout"]["id"]);
    }

    async fn purging_deletes_only_the_expired_keys(app) {
        let coordinator = app.coordinator("730");
        let (_, number) = app.card_holder(&coordinator, JENS, "Jens Hansen", "2019-01-01").await;
        let company = app.register_company(&coordinator, CVR_A, "Bager Hansen").await;
        let t = app.company(&company);
        let employment = app.register_employment(&t, &employment_by_card(JENS, &number, "2024-01-01")).await;
        let path = format!("/api/v1/employments/{employment}/payouts");
        let old = payout_body("2024-03-05", "2024-02-01", "2024-02-29", "1000.00");
        app.post_with_key(&path, &t, "old", &old).await.expect(201);
        age_keys(&app, 8);
        let new = payout_body("2024-04-05", "2024-03-01", "2024-03-31", "1000.00");
        app.post_with_key(&path, &t, "new", &new).await.expect(201);
        assert_eq!(stored_keys(&app), 2);
        let mut conn = app.pool.get().unwrap();
        let purged = smaajob_api::idempotency::purge_expired(&mut conn, smaajob_api::config::DEFAULT_IDEMPOTENCY_TTL).unwrap();
        assert_eq!(purged, 1);
        assert_eq!(stored_keys(&app), 1);
    }
}

/// The server purges on its own: with a one-second lifetime a key is gone within seconds.
#[test]
fn the_server_deletes_expired_keys_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), "text", &["--idempotency-ttl", "1s"]);
    let t = server.coordinator_token(dir.path());
    let enrol = json!({ "cpr": JENS, "name": "Jens Hansen" }).to_string();
    let r = raw(server.port, &request("POST", "/api/v1/citizens", Some(&t), &[], Some(&enrol)));
    assert_eq!(r.status, 201, "{}", r.text());
    let citizen = r.json()["id"].as_str().unwrap().to_owned();
    let card = json!({ "attestations": attestations(true), "valid_from": "2019-01-01" }).to_string();
    let r =
        raw(server.port, &request("POST", &format!("/api/v1/citizens/{citizen}/frikort"), Some(&t), &[], Some(&card)));
    assert_eq!(r.status, 201, "{}", r.text());
    let company = json!({ "cvr": CVR_A, "name": "Bager Hansen", "contact": { "name": "Karen Bager" } }).to_string();
    let r = raw(server.port, &request("POST", "/api/v1/companies", Some(&t), &[], Some(&company)));
    assert_eq!(r.status, 201, "{}", r.text());
    let company_id = r.json()["id"].as_str().unwrap().to_owned();
    let employment = json!({
        "citizen_id": citizen, "company_id": company_id, "start_date": "2024-01-01",
        "contact": { "name": "Karen Bager" },
    })
    .to_string();
    let keyed = request("POST", "/api/v1/employments", Some(&t), &[("Idempotency-Key", "k1")], Some(&employment));
    assert_eq!(raw(server.port, &keyed).status, 201);

    let db =
        smaajob_persistence::DatabaseUrl::parse(&dir.path().join("smaajob.sqlite3").display().to_string()).unwrap();
    let pool = smaajob_persistence::connect(&db, 1).unwrap();
    let count = || -> i64 { idempotency_keys::table.count().get_result(&mut pool.get().unwrap()).unwrap() };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while count() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let log = server.stop();
    assert_eq!(count(), 0, "the expired key is still stored:\n{log}");
    assert!(log.contains("expired idempotency keys deleted"), "{log}");
}
