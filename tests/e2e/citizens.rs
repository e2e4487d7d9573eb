//! Citizens over HTTP: enrolment with every field, CPR masking, duplicates, paging and filters,
//! partial updates, `/me`, and the audit of reads (moves between municipalities are in `transfers`).

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// Completed years between `born` and `on`, computed independently of the server.
fn age(born: NaiveDate, on: NaiveDate) -> i64 {
    let years = i64::from(on.year() - born.year());
    if (on.month(), on.day()) < (born.month(), born.day()) { years - 1 } else { years }
}

/// A citizen with every field filled in. CPR 150392-3761: born 15 March 1992 (7th digit 3 → 1900s).
fn full_citizen(cpr: &str) -> Value {
    json!({
        "cpr": cpr,
        "name": "  Mette Kjær Ølgaard ",
        "phone": "+45 12 34 56 78",
        "municipality": "730",
        "skills": [" Gardening", "gardening", "Dishwashing ", "PAINTING", "painting"],
        "availability": {
            "slots": [
                { "weekday": "sat", "from": "08:00", "to": "12:00" },
                { "weekday": "mon", "from": "16:00", "to": "18:30" }
            ],
            "max_hours_per_week": 10
        },
        "home": { "lat": 56.4607, "lon": 10.0364, "postcode": "8900" },
        "transport_modes": ["bicycle", "walk", "bicycle"]
    })
}

/// The response without the fields whose digits are random or clock-made (ids, timestamps), so
/// that searching it for the CPR serial cannot hit by chance.
fn without_random_fields(v: &Value) -> String {
    let mut v = v.clone();
    strip(&mut v);
    v.to_string()
}

fn strip(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in ["id", "created_at", "updated_at"] {
                m.remove(k);
            }
            m.values_mut().for_each(strip);
        }
        Value::Array(a) => a.iter_mut().for_each(strip),
        _ => {}
    }
}

/// Asserts that a response never shows the CPR in full or its serial digits.
#[track_caller]
fn assert_no_cpr(r: &Resp, digits: &str) {
    let raw = String::from_utf8_lossy(&r.raw);
    let dashed = format!("{}-{}", &digits[..6], &digits[6..]);
    assert!(!raw.contains(digits) && !raw.contains(&dashed), "the full CPR leaked: {raw}");
    assert!(!without_random_fields(&r.body).contains(&digits[6..]), "the CPR serial leaked: {raw}");
}

both_backends! {
    async fn a_citizen_enrolled_with_every_field_comes_back_normalized_and_masked(app) {
        let t = app.coordinator("730");
        let r = app.post("/api/v1/citizens", &t, &full_citizen("150392-3761")).await;
        r.expect(201);
        let c = &r.body;
        let id = c["id"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{c}");
        assert_eq!(r.header("location"), Some(format!("/api/v1/citizens/{id}").as_str()));
        assert_eq!(c["cpr_masked"], "150392-XXXX");
        assert!(c.get("cpr").is_none(), "{c}");
        assert_eq!(c["birth_date"], "1992-03-15");
        let born = NaiveDate::from_ymd_opt(1992, 3, 15).unwrap();
        assert_eq!(c["age"], age(born, today()));
        assert_eq!(c["name"], "Mette Kjær Ølgaard");
        assert_eq!(c["phone"], "+4512345678");
        assert_eq!(c["municipality"], json!({ "code": "730", "name": "Randers" }));
        assert_eq!(c["skills"], json!(["dishwashing", "gardening", "painting"]));
        assert_eq!(
            c["availability"],
            json!({
                "slots": [
                    { "weekday": "mon", "from": "16:00", "to": "18:30" },
                    { "weekday": "sat", "from": "08:00", "to": "12:00" }
                ],
                "max_hours_per_week": 10
            })
        );
        // Kept coarse: snapped to the 250 m grid.
        assert_eq!(c["home"], json!({ "lat": 56.4615, "lon": 10.036, "postcode": "8900" }));
        assert_eq!(c["transport_modes"], json!(["bicycle", "walk"]));
        assert_eq!(c["frikort"], Value::Null);
        let created: DateTime<Utc> = c["created_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(c["updated_at"], c["created_at"]);
        assert!((Utc::now() - created).num_seconds().abs() < 60, "{c}");
        assert_no_cpr(&r, "1503923761");

        // What was stored reads back the same.
        let g = app.get(&format!("/api/v1/citizens/{id}"), &t).await;
        g.expect(200);
        assert_eq!(g.body, r.body);
        assert_no_cpr(&g, "1503923761");
    }

    async fn a_cpr_without_a_dash_is_accepted_and_masked_the_same_way(app) {
        let t = app.coordinator("730");
        let r = app.post("/api/v1/citizens", &t, &json!({ "cpr": "1503923761", "name": "Mette Ølgaard" })).await;
        r.expect(201);
        assert_eq!(r.body["cpr_masked"], "150392-XXXX");
        assert_eq!(r.body["birth_date"], "1992-03-15");
        assert_no_cpr(&r, "1503923761");
    }

    async fn a_citizen_enrolled_with_only_cpr_and_name_gets_empty_defaults(app) {
        let t = app.coordinator("730");
        let r = app.post("/api/v1/citizens", &t, &json!({ "cpr": "010190-1234", "name": "Jens Hansen" })).await;
        r.expect(201);
        let c = &r.body;
        assert_eq!(c["phone"], Value::Null);
        assert_eq!(c["home"], Value::Null);
        assert_eq!(c["skills"], json!([]));
        assert_eq!(c["transport_modes"], json!([]));
        assert_eq!(c["availability"], json!({ "slots": [], "max_hours_per_week": null }));
        assert_eq!(c["municipality"], json!({ "code": "730", "name": "Randers" }));
        assert_eq!(c["frikort"], Value::Null);
    }

    async fn the_seventh_digit_of_the_cpr_decides_the_century_of_the_birth_date(app) {
        let t = app.coordinator("730");
        for (cpr, born) in [
            ("010105-4321", "2005-01-01"),
            ("010137-4321", "1937-01-01"),
            ("010150-5321", "2050-01-01"),
            ("010170-5321", "1870-01-01"),
            ("010105-2321", "1905-01-01"),
            ("290200-4321", "2000-02-29"),
        ] {
            let r = app.post("/api/v1/citizens", &t, &json!({ "cpr": cpr, "name": "Some Body" })).await;
            r.expect(201);
            assert_eq!(r.body["birth_date"], born, "{cpr}");
            assert_eq!(r.body["cpr_masked"], format!("{}-XXXX", &cpr[..6]), "{cpr}");
        }
    }

    async fn enrolling_the_same_cpr_twice_is_a_conflict_whether_or_not_it_has_a_dash(app) {
        let t = app.coordinator("730");
        app.enrol(&t, "010190-1234", "Jens Hansen").await;
        for cpr in ["010190-1234", "0101901234", " 0101901234 "] {
            let r = app.post("/api/v1/citizens", &t, &json!({ "cpr": cpr, "name": "Jens Hansen" })).await;
            r.expect_problem(409, "citizen_exists");
            assert_no_cpr(&r, "0101901234");
        }
        // The other way round: first without the dash, then with it.
        app.enrol(&t, "0202021234", "Bo Berg").await;
        app.post("/api/v1/citizens", &t, &json!({ "cpr": "020202-1234", "name": "Bo Berg" }))
            .await
            .expect_problem(409, "citizen_exists");
        let list = app.get("/api/v1/citizens", &t).await;
        list.expect(200);
        assert_eq!(list.body["total"], 2);
    }

    async fn a_cpr_enrolled_in_another_municipality_is_not_enrolled_again_but_pointed_to_the_transfer(app) {
        app.enrol(&app.coordinator("751"), "010190-1234", "Jens Hansen").await;
        let t = app.coordinator("730");
        app.post("/api/v1/citizens", &t, &json!({ "cpr": "0101901234", "name": "Jens Hansen" }))
            .await
            .expect_problem(409, "citizen_enrolled_elsewhere");
        let list = app.get("/api/v1/citizens", &t).await;
        assert_eq!(list.body["total"], 0);
    }

    async fn a_coordinator_cannot_enrol_a_citizen_in_another_municipality(app) {
        let t = app.coordinator("730");
        let r = app
            .post(
                "/api/v1/citizens",
                &t,
                &json!({ "cpr": "010190-1234", "name": "Jens Hansen", "municipality": "751" }),
            )
            .await;
        r.expect_problem(403, "forbidden");
        for m in ["730", "751"] {
            let list = app.get("/api/v1/citizens", &app.coordinator(m)).await;
            assert_eq!(list.body["total"], 0, "{m}");
        }
        // Naming the own municipality explicitly is fine.
        let ok = app
            .post(
                "/api/v1/citizens",
                &t,
                &json!({ "cpr": "010190-1234", "name": "Jens Hansen", "municipality": "730" }),
            )
            .await;
        ok.expect(201);
        assert_eq!(ok.body["municipality"]["code"], "730");
    }

    async fn the_citizen_list_is_ordered_by_name_and_paginated(app) {
        let t = app.coordinator("730");
        for (i, name) in ["Erik Eriksen", "Anne Andersen", "Dorte Dahl", "Bo Berg", "Carl Clausen"].iter().enumerate() {
            app.enrol(&t, &format!("01019{i}-1234"), name).await;
        }
        app.enrol(&app.coordinator("751"), "010180-1234", "Aage Aarhusianer").await;

        let all = app.get("/api/v1/citizens", &t).await;
        all.expect(200);
        assert_eq!(names(&all), ["Anne Andersen", "Bo Berg", "Carl Clausen", "Dorte Dahl", "Erik Eriksen"]);
        assert_eq!(
            (all.body["total"].clone(), all.body["limit"].clone(), all.body["offset"].clone()),
            (json!(5), json!(50), json!(0))
        );
        for c in all.body["items"].as_array().unwrap() {
            assert_eq!(c["municipality"]["code"], "730");
            assert!(c["cpr_masked"].as_str().unwrap().ends_with("-XXXX"));
        }
        assert!(!without_random_fields(&all.body).contains("1234"), "{}", all.body);

        let p1 = app.get("/api/v1/citizens?limit=2", &t).await;
        p1.expect(200);
        assert_eq!(names(&p1), ["Anne Andersen", "Bo Berg"]);
        assert_eq!(
            (p1.body["total"].clone(), p1.body["limit"].clone(), p1.body["offset"].clone()),
            (json!(5), json!(2), json!(0))
        );
        let p2 = app.get("/api/v1/citizens?limit=2&offset=2", &t).await;
        assert_eq!(names(&p2), ["Carl Clausen", "Dorte Dahl"]);
        assert_eq!(p2.body["offset"], 2);
        let p3 = app.get("/api/v1/citizens?offset=4&limit=2", &t).await;
        assert_eq!(names(&p3), ["Erik Eriksen"]);
        assert_eq!(p3.body["total"], 5);
        let beyond = app.get("/api/v1/citizens?offset=10", &t).await;
        beyond.expect(200);
        assert_eq!(beyond.body["items"], json!([]));
        assert_eq!(beyond.body["total"], 5);

        let other = app.get("/api/v1/citizens", &app.coordinator("751")).await;
        assert_eq!(names(&other), ["Aage Aarhusianer"]);
        assert_eq!(other.body["total"], 1);
    }

    async fn the_citizen_list_filters_by_frikort_status(app) {
        let t = app.coordinator("730");
        let active = app.enrol(&t, "010190-1234", "Anne Aktiv").await;
        let deactivated = app.enrol(&t, "020290-1234", "Dennis Deaktiveret").await;
        let reactivated = app.enrol(&t, "030390-1234", "Rikke Reaktiveret").await;
        let none = app.enrol(&t, "040490-1234", "Niels Nul").await;
        let active_number = app.issue_card(&t, &active).await["number"].clone();
        for id in [&deactivated, &reactivated] {
            app.issue_card(&t, id).await;
            app.post(&format!("/api/v1/citizens/{id}/frikort/deactivate"), &t, &json!({ "reason": "flyttet" }))
                .await
                .expect(200);
        }
        app.post(&format!("/api/v1/citizens/{reactivated}/frikort/reactivate"), &t, &all_attested()).await.expect(200);

        let a = app.get("/api/v1/citizens?frikort=active", &t).await;
        a.expect(200);
        assert_eq!(ids(&a.body["items"]), [active.as_str(), reactivated.as_str()]);
        assert_eq!(a.body["total"], 2);
        assert_eq!(a.body["items"][0]["frikort"], json!({ "number": active_number, "status": "active" }));
        let d = app.get("/api/v1/citizens?frikort=deactivated", &t).await;
        assert_eq!(ids(&d.body["items"]), [deactivated.as_str()]);
        assert_eq!(d.body["items"][0]["frikort"]["status"], "deactivated");
        assert_eq!(d.body["total"], 1);
        let n = app.get("/api/v1/citizens?frikort=none", &t).await;
        assert_eq!(ids(&n.body["items"]), [none.as_str()]);
        assert_eq!(n.body["items"][0]["frikort"], Value::Null);
        let all = app.get("/api/v1/citizens", &t).await;
        assert_eq!(all.body["total"], 4);
        // The filter and paging combine.
        let page = app.get("/api/v1/citizens?frikort=active&limit=1&offset=1", &t).await;
        assert_eq!(ids(&page.body["items"]), [reactivated]);
        assert_eq!(page.body["total"], 2);

        for bad in ["expired", "ACTIVE", ""] {
            let r = app.get(&format!("/api/v1/citizens?frikort={bad}"), &t).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["frikort"], "{bad}");
            assert_eq!(r.body["errors"][0]["code"], "frikort_filter");
        }
    }

    async fn a_coordinator_reads_one_citizen_and_cannot_see_another_municipalitys(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let r = app.get(&format!("/api/v1/citizens/{id}"), &t).await;
        r.expect(200);
        assert_eq!(r.body["id"], id.as_str());
        assert_eq!(r.body["name"], "Jens Hansen");
        assert_eq!(r.body["cpr_masked"], "010190-XXXX");
        app.get(&format!("/api/v1/citizens/{id}"), &app.coordinator("751")).await.expect_problem(404, "not_found");
        let unknown = uuid::Uuid::new_v4();
        app.get(&format!("/api/v1/citizens/{unknown}"), &t).await.expect_problem(404, "not_found");
    }

    async fn patch_changes_the_given_fields_and_leaves_absent_ones_alone(app) {
        let t = app.coordinator("730");
        let created = app.post("/api/v1/citizens", &t, &full_citizen("150392-3761")).await;
        created.expect(201);
        let before = created.body.clone();
        let id = before["id"].as_str().unwrap();

        let r = app
            .patch(
                &format!("/api/v1/citizens/{id}"),
                &t,
                &json!({
                    "name": "Mette Ølgaard Jensen",
                    "skills": ["Cooking", " cooking "],
                    "transport_modes": ["car"]
                }),
            )
            .await;
        r.expect(200);
        let after = &r.body;
        assert_eq!(after["name"], "Mette Ølgaard Jensen");
        assert_eq!(after["skills"], json!(["cooking"]));
        assert_eq!(after["transport_modes"], json!(["car"]));
        for same in [
            "id",
            "cpr_masked",
            "birth_date",
            "age",
            "phone",
            "municipality",
            "availability",
            "home",
            "frikort",
            "created_at",
        ] {
            assert_eq!(after[same], before[same], "{same} changed");
        }
        let updated: DateTime<Utc> = after["updated_at"].as_str().unwrap().parse().unwrap();
        let created_at: DateTime<Utc> = before["created_at"].as_str().unwrap().parse().unwrap();
        assert!(updated > created_at, "{after}");
        assert_no_cpr(&r, "1503923761");

        // An empty patch changes nothing visible.
        let empty = app.patch(&format!("/api/v1/citizens/{id}"), &t, &json!({})).await;
        empty.expect(200);
        assert_eq!(empty.body["name"], "Mette Ølgaard Jensen");
        assert_eq!(empty.body["home"], before["home"]);

        // Availability and home are replaced whole.
        let r = app
            .patch(
                &format!("/api/v1/citizens/{id}"),
                &t,
                &json!({
                    "availability": { "slots": [{ "weekday": "wed", "from": "09:00", "to": "11:00" }] },
                    "home": { "postcode": "8000" },
                    "phone": "87654321"
                }),
            )
            .await;
        r.expect(200);
        assert_eq!(
            r.body["availability"],
            json!({ "slots": [{ "weekday": "wed", "from": "09:00", "to": "11:00" }], "max_hours_per_week": null })
        );
        assert_eq!(r.body["home"], json!({ "lat": null, "lon": null, "postcode": "8000" }));
        assert_eq!(r.body["phone"], "87654321");

        // What the PATCH answered is what is stored.
        let g = app.get(&format!("/api/v1/citizens/{id}"), &t).await;
        assert_eq!(g.body, r.body);
    }

    async fn patch_with_null_clears_phone_and_home(app) {
        let t = app.coordinator("730");
        let created = app.post("/api/v1/citizens", &t, &full_citizen("150392-3761")).await;
        let id = created.body["id"].as_str().unwrap();
        let r = app.patch(&format!("/api/v1/citizens/{id}"), &t, &json!({ "phone": null, "home": null })).await;
        r.expect(200);
        assert_eq!(r.body["phone"], Value::Null);
        assert_eq!(r.body["home"], Value::Null);
        assert_eq!(r.body["name"], "Mette Kjær Ølgaard");
        assert_eq!(r.body["skills"], created.body["skills"]);
        let g = app.get(&format!("/api/v1/citizens/{id}"), &t).await;
        assert_eq!(g.body["phone"], Value::Null);
        assert_eq!(g.body["home"], Value::Null);
        // `null` for a required field is not a way to clear it.
        let r = app.patch(&format!("/api/v1/citizens/{id}"), &t, &json!({ "name": null })).await;
        r.expect(200);
        assert_eq!(r.body["name"], "Mette Kjær Ølgaard");
    }

    async fn patch_refuses_invalid_values_and_changes_nothing(app) {
        let t = app.coordinator("730");
        let created = app.post("/api/v1/citizens", &t, &full_citizen("150392-3761")).await;
        let id = created.body["id"].as_str().unwrap();
        let r = app
            .patch(
                &format!("/api/v1/citizens/{id}"),
                &t,
                &json!({
                    "name": " ", "phone": "12", "home": { "lat": 56.0 }, "skills": [""]
                }),
            )
            .await;
        r.expect_problem(422, "validation");
        let mut fields = r.error_fields();
        fields.sort();
        assert_eq!(fields, ["home", "name", "phone", "skills"]);
        let g = app.get(&format!("/api/v1/citizens/{id}"), &t).await;
        assert_eq!(g.body, created.body);
        // Another municipality's coordinator cannot change the citizen at all.
        app.patch(&format!("/api/v1/citizens/{id}"), &app.coordinator("751"), &json!({ "name": "Hijacked" }))
            .await
            .expect_problem(404, "not_found");
        assert_eq!(app.get(&format!("/api/v1/citizens/{id}"), &t).await.body["name"], "Mette Kjær Ølgaard");
    }

    async fn a_citizen_reads_their_own_record_at_me(app) {
        let t = app.coordinator("730");
        let created = app.post("/api/v1/citizens", &t, &full_citizen("150392-3761")).await;
        let id = created.body["id"].as_str().unwrap().to_owned();
        let card = app.issue_card(&t, &id).await;
        let me = app.get("/api/v1/me", &app.citizen(&id)).await;
        me.expect(200);
        assert_eq!(me.body["id"], id.as_str());
        assert_eq!(me.body["name"], "Mette Kjær Ølgaard");
        assert_eq!(me.body["cpr_masked"], "150392-XXXX");
        assert_eq!(me.body["frikort"], json!({ "number": card["number"], "status": "active" }));
        assert_eq!(me.body["skills"], created.body["skills"]);
        assert_no_cpr(&me, "1503923761");
        // Another citizen sees only themself.
        let other = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        let theirs = app.get("/api/v1/me", &app.citizen(&other)).await;
        assert_eq!(theirs.body["id"], other.as_str());
        assert_eq!(theirs.body["frikort"], Value::Null);
        // A token for a citizen that does not exist finds nothing.
        let ghost = uuid::Uuid::new_v4().to_string();
        app.get("/api/v1/me", &app.citizen(&ghost)).await.expect_problem(404, "not_found");
    }

    async fn reads_of_citizens_are_audited(app) {
        let t = app.coordinator("730");
        let a = app.enrol(&t, "010190-1234", "Anne Andersen").await;
        let b = app.enrol(&t, "020290-1234", "Bo Berg").await;
        app.get(&format!("/api/v1/citizens/{a}"), &t).await.expect(200);
        app.get("/api/v1/citizens", &t).await.expect(200);
        app.get("/api/v1/me", &app.citizen(&b)).await.expect(200);

        let log = audit_log(&app, &t).await;
        let actions: Vec<(&str, &str, &str, &str)> = log
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap(),
                    e["target_id"].as_str().unwrap(),
                    e["actor"].as_str().unwrap(),
                    e["actor_role"].as_str().unwrap(),
                )
            })
            .collect();
        let self_actor = format!("citizen-{b}");
        assert_eq!(
            actions,
            [
                ("citizen.read_self", b.as_str(), self_actor.as_str(), "citizen"),
                ("citizen.listed", b.as_str(), "coord-730", "coordinator"),
                ("citizen.listed", a.as_str(), "coord-730", "coordinator"),
                ("citizen.read", a.as_str(), "coord-730", "coordinator"),
                ("citizen.created", b.as_str(), "coord-730", "coordinator"),
                ("citizen.created", a.as_str(), "coord-730", "coordinator"),
            ]
        );
        // A page lists (and audits) only the citizens it shows.
        app.get("/api/v1/citizens?limit=1&offset=1", &t).await.expect(200);
        let log = audit_log(&app, &t).await;
        assert_eq!(
            (log[0]["action"].as_str(), log[0]["target_id"].as_str()),
            (Some("citizen.listed"), Some(b.as_str()))
        );
        assert_eq!(log[1]["action"], "citizen.read_self");
        // A refused read (another municipality's citizen) is not a read.
        app.get(&format!("/api/v1/citizens/{a}"), &app.coordinator("751")).await.expect(404);
        assert!(audit_log(&app, &app.coordinator("751")).await.is_empty());
        assert_eq!(audit_log(&app, &t).await.len(), log.len());
        // Nothing in the log reveals a CPR.
        let raw = app.get("/api/v1/audit?limit=500", &t).await;
        let text = String::from_utf8_lossy(&raw.raw);
        assert!(!text.contains("0101901234") && !text.contains("010190-1234"), "{text}");
    }

    async fn patch_changes_are_audited_with_the_changed_field_names(app) {
        let t = app.coordinator("730");
        let id = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        app.patch(&format!("/api/v1/citizens/{id}"), &t, &json!({ "name": "Jens Peter Hansen", "phone": null }))
            .await
            .expect(200);
        let log = audit_log(&app, &t).await;
        assert_eq!(log[0]["action"], "citizen.updated");
        assert_eq!(log[0]["target_id"], id.as_str());
        assert_eq!(log[0]["details"], json!({ "fields": ["name", "phone"] }));
    }
}
