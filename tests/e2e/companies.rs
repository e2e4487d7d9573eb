//! Companies over HTTP: registration with CVR validation and duplicates, the list with its
//! verification filter and paging, who may read a company, partial updates including
//! verification and rejection, and the audit of each of these; and a company's self-service:
//! it registers itself with its CVR token, waits for a coordinator's verification, and only
//! then opens tasks.

use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// A registration with every field filled in.
fn full_company(cvr: &str) -> Value {
    json!({
        "cvr": cvr,
        "name": "  Bager Hansen ApS ",
        "address": " Torvegade 4 ",
        "postcode": "8900",
        "location": { "lat": 56.4607, "lon": 10.0364 },
        "contact": { "name": "Karen Bager", "phone": "+45 12 34 56 78", "email": "Karen@Bager.DK" }
    })
}

both_backends! {
    async fn a_coordinator_registers_a_company_with_a_valid_cvr(app) {
        let t = app.coordinator("730");
        let r = app.post("/api/v1/companies", &t, &full_company(CVR_A)).await;
        r.expect(201);
        let id = r.body["id"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
        assert_eq!(r.header("location"), Some(format!("/api/v1/companies/{id}").as_str()));
        assert_eq!(r.body["cvr"], CVR_A);
        assert_eq!(r.body["name"], "Bager Hansen ApS", "names are trimmed");
        assert_eq!(r.body["address"], "Torvegade 4");
        assert_eq!(r.body["postcode"], "8900");
        assert_eq!(r.body["location"], json!({ "lat": 56.4607, "lon": 10.0364 }));
        assert_eq!(
            r.body["contact"],
            json!({ "name": "Karen Bager", "phone": "+4512345678", "email": "Karen@bager.dk" })
        );
        assert_eq!(r.body["verified"], false);
        assert_eq!(r.body["verification"], "unverified");
        assert_eq!(r.body["verification_reason"], Value::Null);
        assert_eq!(r.body["created_at"], r.body["updated_at"]);
        // What was stored reads back the same.
        let read = app.get(&format!("/api/v1/companies/{id}"), &t).await;
        read.expect(200);
        assert_eq!(read.body, r.body);

        // The smallest registration, verified at once; the CVR may have surrounding spaces.
        let cvr = cvr(1);
        let body =
            json!({ "cvr": format!(" {cvr} "), "name": "Lille Firma", "contact": { "name": "Ole" }, "verified": true });
        let r = app.post("/api/v1/companies", &t, &body).await;
        r.expect(201);
        assert_eq!(r.body["cvr"], cvr);
        assert_eq!((r.body["verified"].clone(), r.body["verification"].clone()), (json!(true), json!("verified")));
        for field in ["address", "postcode", "location", "verification_reason"] {
            assert_eq!(r.body[field], Value::Null, "{field}");
        }
        assert_eq!(r.body["contact"], json!({ "name": "Ole", "phone": null, "email": null }));
    }

    async fn a_company_shows_its_municipality_which_a_coordinator_may_name_but_only_as_their_own(app) {
        let t = app.coordinator("730");
        let register = |cvr: &str, municipality: Value| {
            json!({ "cvr": cvr, "name": "Firma", "contact": { "name": "Ole" }, "municipality": municipality })
        };
        // Absent or null: the coordinator's own; named: must be the coordinator's own.
        let r = app.post("/api/v1/companies", &t, &json!({ "cvr": CVR_A, "name": "Firma", "contact": { "name": "Ole" } })).await;
        r.expect(201);
        assert_eq!(r.body["municipality"], "730");
        let r = app.post("/api/v1/companies", &t, &register(&cvr(1), Value::Null)).await;
        assert_eq!(r.expect(201).body["municipality"], "730");
        let r = app.post("/api/v1/companies", &t, &register(&cvr(2), json!("730"))).await;
        let id = r.expect(201).body["id"].as_str().unwrap().to_owned();
        assert_eq!(r.body["municipality"], "730");
        for read in [app.get(&format!("/api/v1/companies/{id}"), &t).await, app.get("/api/v1/companies", &t).await] {
            assert!(read.expect(200).body.to_string().contains("\"municipality\":\"730\""), "{}", read.body);
        }

        // Another municipality's companies are vouched for by its own coordinators.
        let r = app.post("/api/v1/companies", &t, &register(&cvr(3), json!("751"))).await;
        r.expect_problem(403, "forbidden");
        let r = app.post("/api/v1/companies", &t, &register(&cvr(3), json!("7300"))).await;
        expect_field_error(&r, "municipality", "municipality_format");
        // Every invalid field at once, the municipality among them.
        let r = app.post("/api/v1/companies", &t, &json!({ "cvr": "1", "name": "Firma", "contact": { "name": "Ole" }, "municipality": "999" })).await;
        r.expect_problem(422, "validation");
        let mut fields = r.error_fields();
        fields.sort();
        assert_eq!(fields, ["cvr", "municipality"], "{}", r.body);
        assert_eq!(app.get("/api/v1/companies", &t).await.body["total"], 3, "nothing else was stored");
    }

    async fn a_cvr_with_a_wrong_check_digit_or_not_eight_digits_is_refused(app) {
        let t = app.coordinator("730");
        let register = |cvr: &str| json!({ "cvr": cvr, "name": "Firma", "contact": { "name": "Ole" } });
        let r = app.post("/api/v1/companies", &t, &register("10150818")).await;
        expect_field_error(&r, "cvr", "cvr_checksum");
        for bad in ["1015081", "101508170", "01015081", "1015081a", "", "10 150 817"] {
            let r = app.post("/api/v1/companies", &t, &register(bad)).await;
            assert_eq!(r.status, 422, "{bad:?}: {}", r.body);
            expect_field_error(&r, "cvr", "cvr_format");
        }
        // Every invalid field is reported at once.
        let body = json!({
            "cvr": "10150818", "name": " ", "postcode": "12",
            "location": { "lat": 91.0, "lon": 0.0 },
            "contact": { "name": "", "email": "nope" }
        });
        let r = app.post("/api/v1/companies", &t, &body).await;
        r.expect_problem(422, "validation");
        let mut fields = r.error_fields();
        fields.sort();
        assert_eq!(fields, ["contact.email", "contact.name", "cvr", "location", "name", "postcode"], "{}", r.body);
        let list = app.get("/api/v1/companies", &t).await;
        assert_eq!(list.body["total"], 0, "nothing was stored");
    }

    async fn registering_a_cvr_that_is_already_registered_is_a_conflict(app) {
        let t = app.coordinator("730");
        app.register_company(&t, CVR_A, "Bager Hansen").await;
        let r = app
            .post(
                "/api/v1/companies",
                &t,
                &json!({ "cvr": CVR_A, "name": "Another Name", "contact": { "name": "Ole" } }),
            )
            .await;
        r.expect_problem(409, "company_exists");
        // Also from another municipality: a CVR is registered once in the whole system.
        let r = app
            .post(
                "/api/v1/companies",
                &app.coordinator("751"),
                &json!({ "cvr": CVR_A, "name": "Bager", "contact": { "name": "Ole" } }),
            )
            .await;
        r.expect_problem(409, "company_exists");
        let list = app.get("/api/v1/companies", &t).await;
        assert_eq!(list.body["total"], 1);
    }

    async fn only_a_coordinator_registers_lists_or_changes_companies(app) {
        let t = app.coordinator("730");
        let id = app.register_company(&t, CVR_A, "Bager Hansen").await;
        let citizen = app.enrol(&t, "010190-1234", "Jens Hansen").await;
        for token in [app.company(&id), app.citizen(&citizen)] {
            app.post("/api/v1/companies", &token, &json!({ "cvr": cvr(2), "name": "X", "contact": { "name": "Ole" } }))
                .await
                .expect_problem(403, "forbidden");
            app.get("/api/v1/companies", &token).await.expect_problem(403, "forbidden");
            app.patch(&format!("/api/v1/companies/{id}"), &token, &json!({ "verified": true }))
                .await
                .expect_problem(403, "forbidden");
        }
        app.get(&format!("/api/v1/companies/{id}"), &app.citizen(&citizen)).await.expect_problem(403, "forbidden");
        let r = app.get(&format!("/api/v1/companies/{id}"), &t).await;
        assert_eq!(r.body["verification"], "unverified", "the company could not verify itself");
    }

    async fn the_company_list_is_ordered_by_name_filtered_by_verification_and_paged(app) {
        let t = app.coordinator("730");
        let mut ids = std::collections::HashMap::new();
        for (i, name) in ["Echo ApS", "Charlie I/S", "Alfa ApS", "Delta ApS", "Bravo A/S"].into_iter().enumerate() {
            ids.insert(name, app.register_company(&t, &cvr(10 + i as u32), name).await);
        }
        for name in ["Bravo A/S", "Delta ApS"] {
            app.patch(&format!("/api/v1/companies/{}", ids[name]), &t, &json!({ "verified": true })).await.expect(200);
        }
        app.patch(
            &format!("/api/v1/companies/{}", ids["Echo ApS"]),
            &t,
            &json!({ "verified": false, "verification_reason": "no activity" }),
        )
        .await
        .expect(200);

        let r = app.get("/api/v1/companies", &t).await;
        r.expect(200);
        assert_eq!(names(&r), ["Alfa ApS", "Bravo A/S", "Charlie I/S", "Delta ApS", "Echo ApS"]);
        assert_eq!(
            (r.body["total"].clone(), r.body["limit"].clone(), r.body["offset"].clone()),
            (json!(5), json!(50), json!(0))
        );

        let page = |q: &str| format!("/api/v1/companies?{q}");
        let r = app.get(&page("limit=2"), &t).await;
        assert_eq!(
            (names(&r), r.body["total"].clone(), r.body["limit"].clone()),
            (vec!["Alfa ApS".into(), "Bravo A/S".into()], json!(5), json!(2))
        );
        let r = app.get(&page("limit=2&offset=2"), &t).await;
        assert_eq!((names(&r), r.body["offset"].clone()), (vec!["Charlie I/S".into(), "Delta ApS".into()], json!(2)));
        let r = app.get(&page("limit=2&offset=4"), &t).await;
        assert_eq!(names(&r), ["Echo ApS"]);
        let r = app.get(&page("offset=10"), &t).await;
        assert_eq!((names(&r).len(), r.body["total"].clone()), (0, json!(5)));

        let r = app.get(&page("verification=verified"), &t).await;
        assert_eq!((names(&r), r.body["total"].clone()), (vec!["Bravo A/S".into(), "Delta ApS".into()], json!(2)));
        assert!(r.body["items"].as_array().unwrap().iter().all(|c| c["verified"] == true));
        let r = app.get(&page("verification=unverified"), &t).await;
        assert_eq!((names(&r), r.body["total"].clone()), (vec!["Alfa ApS".into(), "Charlie I/S".into()], json!(2)));
        let r = app.get(&page("verification=rejected"), &t).await;
        assert_eq!(names(&r), ["Echo ApS"]);
        assert_eq!(r.body["items"][0]["verification_reason"], "no activity");
        let r = app.get(&page("verification=verified&limit=1&offset=1"), &t).await;
        assert_eq!((names(&r), r.body["total"].clone()), (vec!["Delta ApS".into()], json!(2)));

        expect_field_error(&app.get(&page("verification=maybe"), &t).await, "verification", "verification_filter");
        for bad in ["limit=0", "limit=201", "offset=-1"] {
            let r = app.get(&page(bad), &t).await;
            assert_eq!(r.status, 422, "{bad}: {}", r.body);
        }
        app.get(&page("limit=200"), &t).await.expect(200);
        // Companies are shared: a coordinator of another municipality sees the same list.
        assert_eq!(app.get("/api/v1/companies", &app.coordinator("751")).await.body["total"], 5);
    }

    async fn a_company_is_read_by_any_coordinator_and_by_itself_but_not_by_another_company(app) {
        let t = app.coordinator("730");
        let mine = app.register_company(&t, CVR_A, "Bager Hansen").await;
        let other = app.register_company(&t, &cvr(3), "Smed Jensen").await;
        let path = format!("/api/v1/companies/{mine}");
        let r = app.get(&path, &t).await;
        r.expect(200);
        assert_eq!(r.body["id"], mine.as_str());
        app.get(&path, &app.coordinator("751")).await.expect(200);
        let r = app.get(&path, &app.company(&mine)).await;
        r.expect(200);
        assert_eq!(r.body["cvr"], CVR_A);
        app.get(&path, &app.company(&other)).await.expect_problem(404, "not_found");
        // Ids have one spelling: the upper-case form names no company.
        app.get(&format!("/api/v1/companies/{}", mine.to_uppercase()), &app.company(&mine))
            .await
            .expect_problem(404, "not_found");
        app.get(&format!("/api/v1/companies/{}", uuid::Uuid::new_v4()), &t).await.expect_problem(404, "not_found");
        app.get("/api/v1/companies/not-a-uuid", &t).await.expect_problem(404, "not_found");
    }

    async fn a_coordinator_verifies_or_rejects_a_company_and_a_rejection_needs_a_reason(app) {
        let t = app.coordinator("730");
        let id = app.register_company(&t, CVR_A, "Bager Hansen").await;
        let path = format!("/api/v1/companies/{id}");

        let r = app
            .patch(&path, &t, &json!({ "verified": true, "verification_reason": "checked in the CVR register" }))
            .await;
        r.expect(200);
        assert_eq!((r.body["verified"].clone(), r.body["verification"].clone()), (json!(true), json!("verified")));
        assert_eq!(r.body["verification_reason"], "checked in the CVR register");

        for body in [
            json!({ "verified": false }),
            json!({ "verified": false, "verification_reason": "   " }),
            json!({ "verified": false, "verification_reason": null }),
        ] {
            let r = app.patch(&path, &t, &body).await;
            expect_field_error(&r, "verification_reason", "required");
        }
        assert_eq!(app.get(&path, &t).await.body["verification"], "verified", "a refused rejection changes nothing");

        let r = app.patch(&path, &t, &json!({ "verified": false, "verification_reason": "not a real business" })).await;
        r.expect(200);
        assert_eq!((r.body["verified"].clone(), r.body["verification"].clone()), (json!(false), json!("rejected")));
        assert_eq!(r.body["verification_reason"], "not a real business");
        assert_eq!(app.get(&path, &t).await.body["verification"], "rejected");

        // Verifying again without a note clears the old rejection reason.
        let r = app.patch(&path, &t, &json!({ "verified": true })).await;
        r.expect(200);
        assert_eq!(r.body["verification"], "verified");
        assert_eq!(r.body["verification_reason"], Value::Null);
        // A change that does not touch verification keeps it.
        let r = app.patch(&path, &t, &json!({ "name": "Bager Hansen & Søn" })).await;
        assert_eq!(
            (r.body["name"].clone(), r.body["verification"].clone()),
            (json!("Bager Hansen & Søn"), json!("verified"))
        );
    }

    async fn a_patch_changes_only_the_fields_given_and_null_clears_address_and_location(app) {
        let t = app.coordinator("730");
        let created = app.post("/api/v1/companies", &t, &full_company(CVR_A)).await;
        created.expect(201);
        let id = created.body["id"].as_str().unwrap();
        let path = format!("/api/v1/companies/{id}");

        let r = app.patch(&path, &t, &json!({ "address": null, "location": null })).await;
        r.expect(200);
        assert_eq!(r.body["address"], Value::Null);
        assert_eq!(r.body["location"], Value::Null);
        for kept in ["cvr", "name", "postcode", "contact", "verification", "created_at"] {
            assert_eq!(r.body[kept], created.body[kept], "{kept} is untouched");
        }
        let time = |v: &Value| v.as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
        assert!(time(&r.body["updated_at"]) >= time(&created.body["updated_at"]), "{}", r.body);
        let stored = app.get(&path, &t).await;
        assert_eq!((stored.body["address"].clone(), stored.body["location"].clone()), (Value::Null, Value::Null));

        // A contact is replaced whole: fields left out of the new contact are gone.
        let r = app.patch(&path, &t, &json!({ "contact": { "name": "Ny Kontakt", "email": "ny@bager.dk" } })).await;
        r.expect(200);
        assert_eq!(r.body["contact"], json!({ "name": "Ny Kontakt", "phone": null, "email": "ny@bager.dk" }));

        let r = app
            .patch(
                &path,
                &t,
                &json!({ "postcode": null, "address": "Ny Vej 1", "location": { "lat": 55.0, "lon": 9.5 } }),
            )
            .await;
        r.expect(200);
        assert_eq!(r.body["postcode"], Value::Null);
        assert_eq!(r.body["address"], "Ny Vej 1");
        assert_eq!(r.body["location"], json!({ "lat": 55.0, "lon": 9.5 }));

        // An empty body changes nothing but is accepted.
        let before = app.get(&path, &t).await;
        let r = app.patch(&path, &t, &json!({})).await;
        r.expect(200);
        for kept in ["name", "address", "postcode", "location", "contact", "verification"] {
            assert_eq!(r.body[kept], before.body[kept], "{kept}");
        }

        // Invalid values are refused field by field and change nothing.
        let r = app
            .patch(
                &path,
                &t,
                &json!({ "postcode": "89000", "contact": { "name": "" }, "location": { "lat": 0.0, "lon": 200.0 } }),
            )
            .await;
        r.expect_problem(422, "validation");
        let mut fields = r.error_fields();
        fields.sort();
        assert_eq!(fields, ["contact.name", "location", "postcode"]);
        let r = app.patch(&path, &t, &json!({ "cvr": "12345674" })).await;
        assert_eq!(r.status, 422, "the CVR cannot be changed: {}", r.body);
        assert_eq!(app.get(&path, &t).await.body["cvr"], CVR_A);
        app.patch(&format!("/api/v1/companies/{}", uuid::Uuid::new_v4()), &t, &json!({ "name": "X" }))
            .await
            .expect_problem(404, "not_found");
    }

    async fn registering_reading_and_changing_a_company_are_audited(app) {
        let t = app.coordinator("730");
        let id = app.register_company(&t, CVR_A, "Bager Hansen").await;
        let path = format!("/api/v1/companies/{id}");
        app.get(&path, &t).await.expect(200);
        app.get(&path, &app.company(&id)).await.expect(200);
        app.patch(&path, &t, &json!({ "address": null, "verified": true })).await.expect(200);
        app.get("/api/v1/companies", &t).await.expect(200);

        let entries = audit_of(&app, &t, &id).await;
        let shape: Vec<(String, String, String, String)> = entries
            .iter()
            .map(|e| {
                let s = |k: &str| e[k].as_str().unwrap().to_owned();
                (s("action"), s("actor"), s("actor_role"), s("target_type"))
            })
            .collect();
        let company_sub = format!("company-{id}");
        let row =
            |a: &str, actor: &str, role: &str| (a.to_owned(), actor.to_owned(), role.to_owned(), "company".to_owned());
        assert_eq!(
            shape,
            [
                row("company.updated", "coord-730", "coordinator"),
                row("company.read", &company_sub, "company"),
                row("company.read", "coord-730", "coordinator"),
                row("company.created", "coord-730", "coordinator"),
            ]
        );
        assert_eq!(entries[0]["details"], json!({ "fields": ["address", "verification"], "verification": "verified" }));
        assert_eq!(entries[1]["details"], Value::Null);
        assert_eq!(entries[3]["details"], json!({ "cvr": CVR_A, "verification": "unverified" }));
        assert!(entries.iter().all(|e| e["target_id"] == id.as_str()));

        // A coordinator of another municipality reading the company is filed in their own log.
        let aarhus = app.coordinator("751");
        app.get(&path, &aarhus).await.expect(200);
        let theirs = audit_of(&app, &aarhus, &id).await;
        assert_eq!(theirs.len(), 1, "{theirs:?}");
        assert_eq!(
            (theirs[0]["action"].clone(), theirs[0]["actor"].clone()),
            (json!("company.read"), json!("coord-751"))
        );
        assert_eq!(audit_of(&app, &t, &id).await.len(), 4);

        // Refused requests leave no trace.
        app.post("/api/v1/companies", &t, &json!({ "cvr": CVR_A, "name": "Dup", "contact": { "name": "Ole" } }))
            .await
            .expect(409);
        app.patch(&path, &t, &json!({ "verified": false })).await.expect(422);
        app.get(&path, &app.company(&uuid::Uuid::new_v4().to_string())).await.expect(404);
        assert_eq!(audit_of(&app, &t, &id).await.len(), 4);
    }
}

/// A company registers itself with its CVR token (as a business identity provider sends it: only
/// a `cvr` claim), starts unverified and opens tasks once a coordinator verifies it.
mod self_service {
    use super::*;

    both_backends! {
        async fn a_company_registers_itself_with_its_cvr_token_and_starts_unverified(app) {
            let coord = app.coordinator("730");
            let token = app.company_cvr_token(CVR_A);
            app.get("/api/v1/companies/self", &token).await.expect_problem(403, "forbidden");
            let r = register_self(&app, &token, "Bager Hansen ApS").await;
            r.expect(201);
            let id = r.body["id"].as_str().unwrap().to_owned();
            assert_eq!(r.header("location"), Some(format!("/api/v1/companies/{id}").as_str()));
            assert_eq!(r.body["cvr"], CVR_A);
            assert_eq!(r.body["name"], "Bager Hansen ApS");
            assert_eq!((&r.body["verified"], &r.body["verification"]), (&json!(false), &json!("unverified")));
            assert_eq!(r.body["contact"]["name"], COMPANY_CONTACT);
            assert_eq!(r.body["municipality"], "730", "the municipality whose coordinators verify it is shown");
            let me = app.get("/api/v1/companies/self", &token).await;
            me.expect(200);
            assert_eq!(me.body["id"], id.as_str());
            assert_eq!(me.body["municipality"], "730");
            assert_eq!(me.body["verification"], "unverified");
            // Another person of the same company (same CVR, other subject) reaches the same record.
            let colleague = app.company_cvr_token_as(CVR_A, "someone-else-at-bager-hansen");
            assert_eq!(app.get("/api/v1/companies/self", &colleague).await.body["id"], id.as_str());
            // The municipality's coordinators find it among the unverified and in their audit log.
            let list = app.get("/api/v1/companies?verification=unverified", &coord).await;
            assert_eq!(page_ids(&list.body), vec![id.clone()]);
            assert!(actions(&audit_of(&app, &coord, &id).await).contains(&"company.registered".to_owned()));
        }

        async fn a_cvr_token_of_an_unregistered_company_may_only_register_it(app) {
            let coord = app.coordinator("730");
            let other = app.register_company(&coord, &cvr(7), "Anden ApS").await;
            let token = app.company_cvr_token(&cvr(1));
            for path in ["/api/v1/companies/self", "/api/v1/tasks", "/api/v1/placements", "/api/v1/employments"] {
                app.get(path, &token).await.expect_problem(403, "forbidden");
            }
            app.get(&format!("/api/v1/companies/{other}"), &token).await.expect_problem(403, "forbidden");
            app.post("/api/v1/tasks", &token, &task_body()).await.expect_problem(403, "forbidden");
            let (_, company) = self_registered_company(&app, &coord, 2, "Tredje ApS").await;
            let t = open_task(&app, &company, &task_body()).await;
            app.get(&format!("/api/v1/tasks/{t}"), &token).await.expect_problem(403, "forbidden");
            register_self(&app, &token, "Ny Virksomhed ApS").await.expect(201);
            app.get("/api/v1/companies/self", &token).await.expect(200);
            let own = app.get("/api/v1/tasks", &token).await;
            own.expect(200);
            assert_eq!(own.body["total"], 0, "a new company sees none of the others' tasks");
        }

        async fn registering_with_a_cvr_other_than_the_tokens_is_forbidden(app) {
            let token = app.company_cvr_token(&cvr(1));
            let body = |cvr: &str| json!({
                "cvr": cvr, "name": "Bager Hansen ApS", "municipality": "730", "contact": { "name": COMPANY_CONTACT }
            });
            app.post("/api/v1/companies/self", &token, &body(&cvr(2))).await.expect_problem(403, "forbidden");
            app.get("/api/v1/companies/self", &token).await.expect_problem(403, "forbidden");
            let r = app.post("/api/v1/companies/self", &token, &body("12345678")).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["cvr"]);
            let r = app.post("/api/v1/companies/self", &token, &body(&cvr(1))).await;
            r.expect(201);
            assert_eq!(r.body["cvr"], cvr(1).as_str());
        }

        async fn self_registration_checks_its_fields_and_is_for_company_tokens_only(app) {
            let coord = app.coordinator("730");
            let token = app.company_cvr_token(&cvr(1));
            let r = app.post("/api/v1/companies/self", &token, &json!({
                "name": "Bager Hansen ApS", "municipality": "999", "postcode": "89", "contact": { "name": "" }
            })).await;
            r.expect_problem(422, "validation");
            assert_eq!(sorted(r.error_fields()), ["contact.name", "municipality", "postcode"]);
            let no_municipality = json!({ "name": "X", "contact": { "name": "Y" } });
            let r = app.post("/api/v1/companies/self", &token, &no_municipality).await;
            r.expect_problem(422, "validation");
            app.get("/api/v1/companies/self", &token).await.expect_problem(403, "forbidden");
            let citizen = app.citizen(&person(&app, &coord, 1).await);
            for t in [&coord, &citizen] {
                register_self(&app, t, "Bager Hansen ApS").await.expect_problem(403, "forbidden");
                app.get("/api/v1/companies/self", t).await.expect_problem(403, "forbidden");
            }
            assert_eq!(app.get("/api/v1/companies", &coord).await.body["total"], 0, "nothing was registered");
        }

        async fn registering_a_company_twice_is_a_conflict(app) {
            let coord = app.coordinator("730");
            let token = app.company_cvr_token(&cvr(1));
            register_self(&app, &token, "Bager Hansen ApS").await.expect(201);
            register_self(&app, &token, "Bager Hansen ApS").await.expect_problem(409, "company_exists");
            let colleague = app.company_cvr_token_as(&cvr(1), "another-employee");
            register_self(&app, &colleague, "Bager Hansen 2 ApS").await.expect_problem(409, "company_exists");
            // A company a coordinator registered cannot register itself again either.
            app.register_company(&coord, &cvr(2), "Slagter Jensen").await;
            let token = app.company_cvr_token(&cvr(2));
            register_self(&app, &token, "Slagter Jensen").await.expect_problem(409, "company_exists");
            assert_eq!(app.get("/api/v1/companies", &coord).await.body["total"], 2);
        }

        async fn an_unverified_company_drafts_tasks_and_opens_them_once_a_coordinator_verifies_it(app) {
            let coord = app.coordinator("730");
            let token = app.company_cvr_token(&cvr(1));
            let id = register_self(&app, &token, "Bager Hansen ApS").await.body["id"].as_str().unwrap().to_owned();
            let draft = create_task(&app, &token, &task_body()).await;
            assert_eq!((&draft["status"], &draft["company_verified"]), (&json!("draft"), &json!(false)));
            let t = draft["id"].as_str().unwrap();
            task_action(&app, &token, t, "open").await.expect_problem(409, "company_not_verified");
            task_action(&app, &coord, t, "open").await.expect_problem(409, "company_not_verified");
            assert_eq!(task(&app, &token, t).await["status"], "draft");
            // Rejecting needs a reason; without one nothing changes.
            let r = app.patch(&format!("/api/v1/companies/{id}"), &coord, &json!({ "verified": false })).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), ["verification_reason"]);
            let r = app.patch(&format!("/api/v1/companies/{id}"), &coord, &json!({
                "verified": false, "verification_reason": "   "
            })).await;
            r.expect_problem(422, "validation");
            assert_eq!(app.get("/api/v1/companies/self", &token).await.body["verification"], "unverified");
            let r = app.patch(&format!("/api/v1/companies/{id}"), &coord, &json!({ "verified": true })).await;
            r.expect(200);
            assert_eq!((&r.body["verified"], &r.body["verification"]), (&json!(true), &json!("verified")));
            assert_eq!(app.get("/api/v1/companies/self", &token).await.body["verified"], true);
            let opened = task_action(&app, &token, t, "open").await;
            opened.expect(200);
            assert_eq!((&opened.body["status"], &opened.body["company_verified"]), (&json!("open"), &json!(true)));
        }

        async fn a_rejected_company_sees_the_reason_and_cannot_open_tasks(app) {
            let coord = app.coordinator("730");
            let token = app.company_cvr_token(&cvr(1));
            let id = register_self(&app, &token, "Bager Hansen ApS").await.body["id"].as_str().unwrap().to_owned();
            let t = create_task(&app, &token, &task_body()).await["id"].as_str().unwrap().to_owned();
            let r = app.patch(&format!("/api/v1/companies/{id}"), &coord, &json!({
                "verified": false, "verification_reason": "CVR-nummeret er ophørt"
            })).await;
            r.expect(200);
            let me = app.get("/api/v1/companies/self", &token).await;
            assert_eq!((&me.body["verified"], &me.body["verification"]), (&json!(false), &json!("rejected")));
            assert_eq!(me.body["verification_reason"], "CVR-nummeret er ophørt");
            task_action(&app, &token, &t, "open").await.expect_problem(409, "company_not_verified");
            assert_eq!(task(&app, &coord, &t).await["status"], "draft");
        }

        async fn a_registered_companys_token_is_scoped_to_that_company(app) {
            let coord = app.coordinator("730");
            let (a, token_a) = self_registered_company(&app, &coord, 1, "Alfa ApS").await;
            let (b, _) = self_registered_company(&app, &coord, 2, "Bravo ApS").await;
            assert_eq!(app.get("/api/v1/companies/self", &token_a).await.body["id"], a.as_str());
            app.get(&format!("/api/v1/companies/{a}"), &token_a).await.expect(200);
            app.get(&format!("/api/v1/companies/{b}"), &token_a).await.expect_problem(404, "not_found");
            app.get("/api/v1/companies", &token_a).await.expect_problem(403, "forbidden");
            app.patch(&format!("/api/v1/companies/{a}"), &token_a, &json!({ "verified": true }))
                .await
                .expect_problem(403, "forbidden");
        }
    }
}
