//! The audit log over HTTP: newest first, its filters, pages by `limit` and `offset` (with
//! `before` holding the log still), the bounds of both, one municipality never seeing another's
//! entries, and no entry ever carrying a CPR number.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// A page of the coordinator's log for a query string (without the `?`).
async fn audit(app: &TestApp, token: &str, query: &str) -> Resp {
    let r = app.get(&format!("/api/v1/audit?{query}"), token).await;
    r.expect(200);
    r
}

fn items(r: &Resp) -> Vec<Value> {
    r.body["items"].as_array().unwrap().clone()
}

/// The ids of audit entries (integers, in order).
fn entry_ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

fn time(e: &Value) -> DateTime<Utc> {
    e["at"].as_str().unwrap().parse().unwrap()
}

/// Percent-encodes a query value (timestamps carry `:` and may carry `+`).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Lets the clock move on so consecutive entries get distinct timestamps.
async fn tick() {
    actix_web::rt::time::sleep(Duration::from_millis(5)).await;
}

both_backends! {
    async fn the_audit_log_lists_the_newest_entry_first(app) {
        let t = app.coordinator("730");
        let citizen = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        tick().await;
        app.get(&format!("/api/v1/citizens/{citizen}"), &t).await.expect(200);
        tick().await;
        let company = app.register_company(&t, CVR_A, "Bager Hansen").await;
        tick().await;
        app.patch(&format!("/api/v1/citizens/{citizen}"), &t, &json!({ "phone": "+4512345678" })).await.expect(200);

        let r = audit(&app, &t, "").await;
        let all = items(&r);
        assert_eq!(actions(&all), ["citizen.updated", "company.created", "citizen.read", "citizen.created"]);
        assert!(entry_ids(&all).windows(2).all(|w| w[0] > w[1]), "ids strictly decrease: {:?}", entry_ids(&all));
        assert!(all.windows(2).all(|w| time(&w[0]) >= time(&w[1])), "times never increase");
        assert_eq!(r.body["total"], 4, "one page holds everything");
        let mut page_keys: Vec<&str> = r.body.as_object().unwrap().keys().map(String::as_str).collect();
        page_keys.sort_unstable();
        assert_eq!(page_keys, ["items", "limit", "offset", "total"]);
        assert_eq!((&r.body["limit"], &r.body["offset"]), (&json!(100), &json!(0)), "the defaults");
        let e = &all[1];
        assert_eq!(e["target_type"], "company");
        assert_eq!(e["target_id"], company.as_str());
        assert_eq!(e["actor"], "coord-730");
        assert_eq!(e["actor_role"], "coordinator");
        let at = time(e);
        assert!(at <= Utc::now() && at > Utc::now() - chrono::Duration::minutes(5), "{at}");
        let mut keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["action", "actor", "actor_role", "at", "details", "id", "target_id", "target_type"]);
        assert_eq!(all[3]["target_id"], citizen.as_str());
    }

    async fn the_audit_log_is_filtered_by_target_action_actor_and_time(app) {
        let t = app.coordinator("730");
        let b = colleague(&app, "730", "coord-b");
        let x = app.register_company(&t, CVR_A, "Xylo").await;
        tick().await;
        let y = app.register_company(&t, &cvr(5), "Yarn").await;
        tick().await;
        app.get(&format!("/api/v1/companies/{x}"), &b).await.expect(200);
        tick().await;
        app.patch(&format!("/api/v1/companies/{y}"), &t, &json!({ "verified": true })).await.expect(200);
        tick().await;
        app.get(&format!("/api/v1/companies/{x}"), &t).await.expect(200);
        let all = items(&audit(&app, &t, "").await);
        assert_eq!(all.len(), 5);

        let by_target = items(&audit(&app, &t, &format!("target_id={x}")).await);
        assert_eq!(actions(&by_target), ["company.read", "company.read", "company.created"]);
        assert!(by_target.iter().all(|e| e["target_id"] == x.as_str()));
        let by_action = items(&audit(&app, &t, "action=company.created").await);
        assert_eq!(by_action.iter().map(|e| e["target_id"].clone()).collect::<Vec<_>>(), [json!(y), json!(x)]);
        let by_actor = items(&audit(&app, &t, "actor=coord-b").await);
        assert_eq!(by_actor.len(), 1);
        assert_eq!(
            (by_actor[0]["action"].clone(), by_actor[0]["target_id"].clone()),
            (json!("company.read"), json!(x))
        );
        let combined = items(&audit(&app, &t, &format!("target_id={x}&actor=coord-730&action=company.read")).await);
        assert_eq!(combined.len(), 1);
        assert_eq!(combined[0]["id"], all[0]["id"]);
        assert!(items(&audit(&app, &t, "action=citizen.read").await).is_empty());
        assert!(items(&audit(&app, &t, "target_id=nothing").await).is_empty());

        // `from` includes its instant, `to` excludes it.
        let middle = all[2]["at"].as_str().unwrap().to_owned();
        let from = items(&audit(&app, &t, &format!("from={}", enc(&middle))).await);
        assert_eq!(entry_ids(&from), entry_ids(&all[..3]), "from {middle}");
        let to = items(&audit(&app, &t, &format!("to={}", enc(&middle))).await);
        assert_eq!(entry_ids(&to), entry_ids(&all[3..]), "to {middle}");
        let (lo, hi) = (all[3]["at"].as_str().unwrap(), all[1]["at"].as_str().unwrap());
        let window = items(&audit(&app, &t, &format!("from={}&to={}", enc(lo), enc(hi))).await);
        assert_eq!(entry_ids(&window), entry_ids(&all[2..4]));
        // Another offset means the same instant.
        let plus_two = time(&all[2]).with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap()).to_rfc3339();
        let from_offset = items(&audit(&app, &t, &format!("from={}", enc(&plus_two))).await);
        assert_eq!(entry_ids(&from_offset), entry_ids(&all[..3]), "from {plus_two}");
        assert!(items(&audit(&app, &t, "from=2999-01-01T00:00:00Z").await).is_empty());
        assert!(items(&audit(&app, &t, "to=2000-01-01T00:00:00Z").await).is_empty());

        for bad in ["from=yesterday", "to=2026-13-01T00:00:00Z", "before=abc"] {
            let r = app.get(&format!("/api/v1/audit?{bad}"), &t).await;
            r.expect_problem(400, "invalid_query");
        }
    }

    async fn the_audit_log_pages_by_offset_and_before_holds_it_still(app) {
        let t = app.coordinator("730");
        for i in 0..7 {
            app.register_company(&t, &cvr(20 + i), &format!("Firma {i}")).await;
        }
        let all = items(&audit(&app, &t, "").await);
        assert_eq!(all.len(), 7);

        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        let mut offset = 0;
        loop {
            let r = audit(&app, &t, &format!("limit=3&offset={offset}")).await;
            assert_eq!((&r.body["total"], &r.body["limit"], &r.body["offset"]), (&json!(7), &json!(3), &json!(offset)));
            let page = items(&r);
            if page.is_empty() {
                break;
            }
            sizes.push(page.len());
            seen.extend(entry_ids(&page));
            offset += 3;
            assert!(sizes.len() < 10, "paging does not end");
        }
        assert_eq!(sizes, [3, 3, 1]);
        assert_eq!(seen, entry_ids(&all), "the pages together are the whole log, in order, once");

        // A page that ends exactly at the last entry, and one just short of it.
        let r = audit(&app, &t, "limit=7").await;
        assert_eq!((items(&r).len(), r.body["total"].clone()), (7, json!(7)));
        let r = audit(&app, &t, "limit=6").await;
        assert_eq!(entry_ids(&items(&r)), entry_ids(&all[..6]));
        assert_eq!(r.body["total"], 7);
        // `before` holds the log still: a new entry does not shift the pages read under it.
        let before = all[0]["id"].as_i64().unwrap() + 1;
        app.register_company(&t, &cvr(30), "Firma ny").await;
        assert_eq!(audit(&app, &t, "").await.body["total"], 8);
        let r = audit(&app, &t, &format!("before={before}&limit=3&offset=3")).await;
        assert_eq!(entry_ids(&items(&r)), entry_ids(&all[3..6]));
        assert_eq!(r.body["total"], 7);
        // `before` combines with the filters and is exclusive.
        let r = audit(&app, &t, &format!("before={}&action=company.created", all[0]["id"])).await;
        assert_eq!(entry_ids(&items(&r)), entry_ids(&all[1..]));
        assert_eq!(r.body["total"], 6);
        let r = audit(&app, &t, &format!("before={}", all[6]["id"])).await;
        assert!(items(&r).is_empty());
        assert_eq!(r.body["total"], 0);
    }

    async fn a_limit_outside_1_to_500_or_an_offset_outside_0_to_1000000_is_refused(app) {
        let t = app.coordinator("730");
        for i in 0..3 {
            app.register_company(&t, &cvr(40 + i), &format!("Firma {i}")).await;
        }
        for bad in [0, 501, -1, 100_000] {
            let r = app.get(&format!("/api/v1/audit?limit={bad}"), &t).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["limit"], "limit={bad}: {}", r.body);
            assert_eq!(r.body["errors"][0]["code"], "out_of_range");
        }
        let r = audit(&app, &t, "limit=1").await;
        assert_eq!(items(&r).len(), 1);
        assert_eq!(r.body["total"], 3, "more entries than the page holds");
        let r = audit(&app, &t, "limit=500").await;
        assert_eq!(items(&r).len(), 3);
        app.get("/api/v1/audit?limit=ten", &t).await.expect_problem(400, "invalid_query");
        for bad in [-1, 1_000_001] {
            let r = app.get(&format!("/api/v1/audit?offset={bad}"), &t).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["offset"], "offset={bad}: {}", r.body);
        }
        let r = audit(&app, &t, "offset=2").await;
        assert_eq!((items(&r).len(), r.body["total"].clone()), (1, json!(3)));
    }

    async fn a_coordinator_never_sees_another_municipalitys_entries(app) {
        let randers = app.coordinator("730");
        let aarhus = app.coordinator("751");
        let citizen = app.enrol(&randers, "010190-1234", "Jens Hansen").await;
        app.issue_card(&randers, &citizen).await;
        app.get(&format!("/api/v1/citizens/{citizen}"), &randers).await.expect(200);
        let company = app.register_company(&randers, CVR_A, "Bager Hansen").await;
        app.patch(&format!("/api/v1/citizens/{citizen}"), &randers, &json!({ "phone": "+4512345678" })).await.expect(200);
        // Aarhus cannot reach Randers' citizen, and does its own work.
        app.get(&format!("/api/v1/citizens/{citizen}"), &aarhus).await.expect(404);
        let own = app.register_company(&aarhus, &cvr(7), "Aarhus Firma").await;

        let theirs = items(&audit(&app, &randers, "limit=500").await);
        assert_eq!(theirs.len(), 5, "{theirs:?}");
        let mine = items(&audit(&app, &aarhus, "limit=500").await);
        assert_eq!(actions(&mine), ["company.created"]);
        assert_eq!(mine[0]["target_id"], own.as_str());
        let their_ids = entry_ids(&theirs);
        assert!(entry_ids(&mine).iter().all(|id| !their_ids.contains(id)));
        assert!(theirs.iter().all(|e| e["actor"] == "coord-730"), "Randers sees none of Aarhus' entries");

        // No filter reaches across: not by target, actor, action, or an id cursor.
        for q in [
            format!("target_id={citizen}"),
            format!("target_id={company}"),
            "actor=coord-730".to_owned(),
            "action=citizen.created".to_owned(),
            "action=citizen.updated".to_owned(),
            format!("before={}", their_ids[0] + 1),
        ] {
            let r = audit(&app, &aarhus, &q).await;
            assert!(items(&r).iter().all(|e| e["actor"] == "coord-751"), "{q}: {}", r.body);
            assert!(items(&r).iter().all(|e| !their_ids.contains(&e["id"].as_i64().unwrap())), "{q}: {}", r.body);
        }
        // And only coordinators read a log at all.
        let company_token = app.company(&company);
        app.get("/api/v1/audit", &company_token).await.expect_problem(403, "forbidden");
        app.get("/api/v1/audit", &app.citizen(&citizen)).await.expect_problem(403, "forbidden");
        let r = app.send(awc::http::Method::GET, "/api/v1/audit", None, None, Vec::new()).await;
        assert_eq!(r.status, 401, "body: {}", r.body);
    }

    async fn no_audit_entry_ever_contains_a_cpr_number(app) {
        let randers = app.coordinator("730");
        let aarhus = app.coordinator("751");
        let cprs = ["010190-1234", "1503923761"];
        let jens = app.enrol(&randers, cprs[0], "Jens Hansen").await;
        let mette = app.enrol(&randers, cprs[1], "Mette Ølgaard").await;
        // A second enrolment of the same person (with and without the dash) is refused: still no CPR.
        app.post("/api/v1/citizens", &randers, &json!({ "cpr": "0101901234", "name": "Jens Igen" })).await.expect(409);
        app.post("/api/v1/citizens", &randers, &json!({ "cpr": "150392-3761", "name": "Mette Igen" }))
            .await
            .expect(409);
        app.get(&format!("/api/v1/citizens/{jens}"), &randers).await.expect(200);
        app.get("/api/v1/citizens", &randers).await.expect(200);
        app.get("/api/v1/me", &app.citizen(&jens)).await.expect(200);
        app.issue_card(&randers, &jens).await;
        app.get(&format!("/api/v1/citizens/{jens}/frikort"), &randers).await.expect(200);
        app.post(
            &format!("/api/v1/citizens/{jens}/frikort/deactivate"),
            &randers,
            &json!({ "reason": "moved abroad" }),
        )
        .await
        .expect(200);
        app.post(&format!("/api/v1/citizens/{jens}/frikort/reactivate"), &randers, &all_attested()).await.expect(200);
        app.patch(&format!("/api/v1/citizens/{mette}"), &randers, &json!({ "phone": "+45 87 65 43 21" }))
            .await
            .expect(200);
        app.post("/api/v1/citizens/transfers", &aarhus, &json!({ "cpr": cprs[1], "reason": "Flyttet" })).await.expect(200);
        // Enrolling a citizen of another municipality is refused, and logged in both.
        app.post("/api/v1/citizens", &randers, &json!({ "cpr": cprs[1], "name": "Mette Igen" })).await.expect(409);
        app.get(&format!("/api/v1/citizens/{mette}"), &aarhus).await.expect(200);

        let mut bodies = Vec::new();
        let mut logged = Vec::new();
        for token in [&randers, &aarhus] {
            let r = audit(&app, token, "limit=500").await;
            logged.extend(actions(&items(&r)));
            // What went over the wire, and the parsed whole re-serialized (unescaped text).
            bodies.push(String::from_utf8(r.raw.clone()).unwrap());
            bodies.push(serde_json::to_string(&r.body).unwrap());
        }
        for expected in [
            "citizen.created",
            "citizen.read",
            "citizen.listed",
            "citizen.read_self",
            "citizen.updated",
            "citizen.transferred_out",
            "citizen.transferred_in",
            "citizen.enrolment_refused",
            "citizen.enrolment_attempted",
            "frikort.issued",
            "frikort.read",
            "frikort.deactivated",
            "frikort.reactivated",
        ] {
            assert!(logged.iter().any(|a| a == expected), "{expected} is logged: {logged:?}");
        }
        for body in &bodies {
            for cpr in cprs {
                let digits = cpr.replace('-', "");
                let dashed = format!("{}-{}", &digits[..6], &digits[6..]);
                for needle in [&digits, &dashed] {
                    assert!(!body.contains(needle.as_str()), "the audit log contains a CPR ({needle}): {body}");
                }
            }
        }
    }

    // An entry at `…123456` µs lies before `from = …123456500` ns and before `to = …123456500` ns:
    // the bounds must not be truncated to the stored precision before comparing.
    async fn a_sub_microsecond_from_or_to_bound_is_compared_exactly(app) {
        let t = app.coordinator("730");
        app.register_company(&t, CVR_A, "Bager Hansen").await;
        let all = items(&audit(&app, &t, "").await);
        let at = time(&all[0]);
        let just_after = (at + chrono::Duration::nanoseconds(500)).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let from = items(&audit(&app, &t, &format!("from={}", enc(&just_after))).await);
        assert!(from.is_empty(), "an entry at {at:?} is not at or after {just_after}: {from:?}");
        let to = items(&audit(&app, &t, &format!("to={}", enc(&just_after))).await);
        assert_eq!(entry_ids(&to), entry_ids(&all), "an entry at {at:?} is before {just_after}");
    }
}
