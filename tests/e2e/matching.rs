//! Matching over HTTP: a task's ranked, explained candidates for the coordinator of its
//! municipality, the citizen's own suggestions, and an offer straight from a candidate. What must
//! hold: no excluded citizen among the candidates, a deterministic ranking, fairness rotating the
//! first among equals as offers are made, no home coordinates in what a company can see, and an
//! audit entry for every citizen a list names.

use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// Every key anywhere in a JSON value.
fn all_keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.push(k.clone());
                all_keys(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| all_keys(x, out)),
        _ => {}
    }
}

both_backends! {
    async fn candidates_are_ranked_with_reasons_and_the_excluded_are_listed_apart_with_why(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &with(task_body(), json!({ "frikort_only": true }))).await;
        let near = traveller(&app, &w.coord, 1, km_north(1.0), &["bicycle"], true).await;
        let farther = traveller(&app, &w.coord, 2, km_north(4.0), &["bicycle"], true).await;
        let too_far = traveller(&app, &w.coord, 3, km_north(30.0), &["walk", "bicycle"], true).await;
        let no_card = traveller(&app, &w.coord, 4, km_north(1.0), &["bicycle"], false).await;
        let homeless = traveller(&app, &w.coord, 5, Value::Null, &["bicycle"], true).await;

        let list = candidates(&app, &w.coord, &t, "").await;
        assert_eq!(candidate_ids(&list["candidates"]), vec![near.clone(), farther.clone()]);
        assert_eq!((&list["considered"], &list["candidate_count"], &list["excluded_count"]), (&json!(5), &json!(2), &json!(3)));
        assert_eq!(list["excluded"], json!([]), "the excluded are listed only on request");
        let first = &list["candidates"][0];
        assert_eq!((&first["best_mode"], &first["max_travel_minutes"]), (&json!("bicycle"), &json!(45)));
        let minutes = first["best_minutes"].as_u64().unwrap();
        assert!((5..=7).contains(&minutes), "1 km by bicycle: {minutes}");
        let das: Vec<&str> = first["reasons"].as_array().unwrap().iter().map(|r| r["da"].as_str().unwrap()).collect();
        assert!(das.contains(&format!("Cykel {minutes} min").as_str()), "{das:?}");
        assert!(das.contains(&"kan kundeservice, opvask"), "{das:?}");
        assert_eq!(first["headroom"]["fit"], "full");
        assert!(first["parts"]["travel"]["value"].as_u64().unwrap() > list["candidates"][1]["parts"]["travel"]["value"].as_u64().unwrap());
        assert_eq!(first["parts"]["travel"]["weight"], 20);

        let all = candidates(&app, &w.coord, &t, "include_excluded=true&limit=1").await;
        assert_eq!(candidate_ids(&all["candidates"]), vec![near.clone()]);
        let mut left_out = vec![too_far.clone(), no_card.clone(), homeless.clone()];
        left_out.sort();
        assert_eq!(candidate_ids(&all["excluded"]), left_out);
        let why = |id: &str| {
            all["excluded"].as_array().unwrap().iter().find(|c| c["citizen_id"] == id).unwrap()["excluded_because"].clone()
        };
        assert_eq!(why(&too_far), json!(["unreachable"]));
        assert_eq!(why(&no_card), json!(["no_active_card"]));
        assert_eq!(why(&homeless), json!(["unreachable"]));
        let walk = all["excluded"].as_array().unwrap().iter().find(|c| c["citizen_id"] == too_far.as_str()).unwrap();
        assert_eq!(walk["travel"][0]["mode"], "walk");
        assert_eq!(walk["travel"][0]["within_limit"], false);
        for c in all["candidates"].as_array().unwrap() {
            assert!(!left_out.contains(&c["citizen_id"].as_str().unwrap().to_owned()));
        }
        // No view of matching carries a home location.
        let mut keys = Vec::new();
        all_keys(&all, &mut keys);
        assert!(!keys.iter().any(|k| k == "lat" || k == "lon" || k == "home"), "{keys:?}");
    }

    async fn the_ranking_is_deterministic_and_equals_are_ordered_by_id(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &task_body()).await;
        let mut equals = Vec::new();
        for n in 1..=4 {
            equals.push(traveller(&app, &w.coord, n, km_north(2.0), &["bicycle"], false).await);
        }
        equals.sort();
        let first = candidates(&app, &w.coord, &t, "").await;
        let again = candidates(&app, &w.coord, &t, "").await;
        assert_eq!(first["candidates"], again["candidates"]);
        assert_eq!(candidate_ids(&first["candidates"]), equals);
        let scores: Vec<u64> = first["candidates"].as_array().unwrap().iter().map(|c| c["score"].as_u64().unwrap()).collect();
        assert!(scores.windows(2).all(|s| s[0] == s[1]), "{scores:?}");
    }

    async fn fairness_rotates_who_comes_first_among_equals_as_offers_are_made(app) {
        let w = hiring(&app).await;
        let mut people = Vec::new();
        for n in 1..=3 {
            people.push(traveller(&app, &w.coord, n, km_north(2.0), &["bicycle"], false).await);
        }
        let mut firsts = Vec::new();
        for round in 0..3 {
            let body = with(task_body(), json!({ "title": format!("Opgave {round}") }));
            let t = open_task(&app, &w.company, &body).await;
            let list = candidates(&app, &w.coord, &t, "limit=1").await;
            let first = list["candidates"][0]["citizen_id"].as_str().unwrap().to_owned();
            let r = app.post(&format!("/api/v1/tasks/{t}/candidates/{first}/offer"), &w.coord, &json!({})).await;
            r.expect(201);
            assert_eq!((&r.body["state"], &r.body["citizen_id"]), (&json!("offered"), &json!(first.as_str())));
            firsts.push(first);
        }
        people.sort();
        let mut seen = firsts.clone();
        seen.sort();
        assert_eq!(seen, people, "each came first once: {firsts:?}");
    }

    async fn an_offer_from_a_candidate_is_the_placements_offer_and_leaves_them_placed(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &task_body()).await;
        let c = traveller(&app, &w.coord, 1, km_north(1.0), &["bicycle"], false).await;
        let path = format!("/api/v1/tasks/{t}/candidates/{c}/offer");
        let r = app.post(&path, &w.coord, &json!({})).await;
        r.expect(201);
        let p = id(&r.body);
        assert_eq!(r.header("location"), Some(format!("/api/v1/placements/{p}").as_str()));
        assert_eq!(page_ids(&app.get("/api/v1/me/offers", &app.citizen(&c)).await.body), vec![p]);
        app.post(&path, &w.coord, &json!({})).await.expect_problem(409, "placement_exists");
        let list = candidates(&app, &w.coord, &t, "include_excluded=true").await;
        assert_eq!(list["candidates"], json!([]));
        assert_eq!(list["excluded"][0]["excluded_because"], json!(["already_placed"]));
        // The offer's own checks: an unknown citizen or task is not found, a company may not.
        app.post(&format!("/api/v1/tasks/{t}/candidates/{}/offer", unknown_id()), &w.coord, &json!({}))
            .await
            .expect_problem(404, "not_found");
        app.post(&format!("/api/v1/tasks/{}/candidates/{c}/offer", unknown_id()), &w.coord, &json!({}))
            .await
            .expect_problem(404, "not_found");
        app.post(&path, &w.company, &json!({})).await.expect_problem(403, "forbidden");
    }

    async fn only_a_coordinator_of_the_tasks_municipality_sees_its_candidates_and_every_one_is_audited(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &task_body()).await;
        let a = traveller(&app, &w.coord, 1, km_north(1.0), &["bicycle"], false).await;
        let b = traveller(&app, &w.coord, 2, km_north(60.0), &["bicycle"], false).await;
        let path = format!("/api/v1/tasks/{t}/candidates?include_excluded=true");
        app.get(&path, &w.company).await.expect_problem(403, "forbidden");
        app.get(&path, &app.citizen(&a)).await.expect_problem(403, "forbidden");
        app.get(&path, &app.coordinator(AARHUS)).await.expect_problem(404, "not_found");
        app.get(&format!("/api/v1/tasks/{}/candidates", unknown_id()), &w.coord).await.expect_problem(404, "not_found");
        app.get(&path, &w.coord).await.expect(200);
        let log = app.get("/api/v1/audit?action=citizen.matched", &w.coord).await;
        log.expect(200);
        let mut named: Vec<String> =
            log.body["items"].as_array().unwrap().iter().map(|e| e["target_id"].as_str().unwrap().to_owned()).collect();
        named.sort();
        let mut want = vec![a, b];
        want.sort();
        assert_eq!(named, want);
        // The other municipality's log holds nothing of it.
        let other = app.get("/api/v1/audit?action=citizen.matched", &app.coordinator(AARHUS)).await;
        assert_eq!(other.body["total"], 0);
    }

    async fn a_citizen_sees_only_their_own_suggestions_with_reasons(app) {
        let w = hiring(&app).await;
        let near = open_task(&app, &w.company, &task_body()).await;
        let far_body = with(task_body(), json!({
            "title": "Lager i Aalborg",
            "place": { "address": "Langerak 1, Aalborg", "lat": 57.03, "lon": 9.92 },
        }));
        let far = open_task(&app, &w.company, &far_body).await;
        let me = traveller(&app, &w.coord, 1, km_north(1.0), &["bicycle"], false).await;
        let other = traveller(&app, &w.coord, 2, km_north(1.0), &["bicycle"], false).await;
        let r = app.get("/api/v1/me/suggestions", &app.citizen(&me)).await;
        r.expect(200);
        let tasks: Vec<&str> = r.body["items"].as_array().unwrap().iter().map(|s| s["task_id"].as_str().unwrap()).collect();
        assert_eq!(r.body["total"], 1);
        assert_eq!(tasks, vec![near.as_str()], "the unreachable task is not suggested");
        assert_ne!(tasks, vec![far.as_str()]);
        assert_eq!(r.body["items"][0]["best_mode"], "bicycle");
        assert!(r.body["items"][0]["reasons"].as_array().unwrap().iter().any(|x| x["code"] == "travel"));
        let text = r.body.to_string();
        assert!(!text.contains(&other) && !text.contains("Borger 2"), "no other citizen is named");
        app.get("/api/v1/me/suggestions", &w.coord).await.expect_problem(403, "forbidden");
        app.get("/api/v1/me/suggestions", &w.company).await.expect_problem(403, "forbidden");
        let log = app.get("/api/v1/audit?action=citizen.suggestions_read", &w.coord).await;
        assert_eq!(log.body["items"][0]["target_id"], me.as_str());
    }

    async fn homes_are_kept_coarse_and_must_lie_in_denmark_as_must_work_locations(app) {
        let w = hiring(&app).await;
        let r = app
            .post("/api/v1/citizens", &w.coord, &json!({ "cpr": cpr(1), "name": "Bo", "home": { "lat": 56.4607, "lon": 10.0364 }, "max_travel_minutes": 30 }))
            .await;
        r.expect(201);
        assert_eq!(r.body["home"], json!({ "lat": 56.4615, "lon": 10.036, "postcode": null }), "snapped to the 250 m grid");
        assert_eq!(r.body["max_travel_minutes"], 30);
        let id = id(&r.body);
        let r = app.patch(&format!("/api/v1/citizens/{id}"), &w.coord, &json!({ "max_travel_minutes": 200 })).await;
        r.expect_problem(422, "validation");
        assert_eq!(r.error_fields(), vec!["max_travel_minutes"]);
        let r = app.patch(&format!("/api/v1/citizens/{id}"), &w.coord, &json!({ "max_travel_minutes": 60 })).await;
        assert_eq!(r.body["max_travel_minutes"], 60);
        let r = app
            .post("/api/v1/citizens", &w.coord, &json!({ "cpr": cpr(2), "name": "Bo", "home": { "lat": 52.52, "lon": 13.40 } }))
            .await;
        r.expect_problem(422, "validation");
        assert_eq!(r.body["errors"][0]["code"], "outside_denmark");
        let abroad = with(task_body(), json!({ "place": { "address": "Berlin", "lat": 52.52, "lon": 13.40 } }));
        let r = app.post("/api/v1/tasks", &w.company, &abroad).await;
        r.expect_problem(422, "validation");
        assert_eq!(r.body["errors"][0]["code"], "outside_denmark");
    }

    async fn a_task_without_a_location_or_a_limit_out_of_range_is_a_clear_problem(app) {
        let w = hiring(&app).await;
        let nowhere = open_task(&app, &w.company, &with(task_body(), json!({ "place": { "address": "Et sted" } }))).await;
        app.get(&format!("/api/v1/tasks/{nowhere}/candidates"), &w.coord).await.expect_problem(422, "task_without_location");
        let t = open_task(&app, &w.company, &task_body()).await;
        for bad in ["limit=0", "limit=101", "limit=-1"] {
            let r = app.get(&format!("/api/v1/tasks/{t}/candidates?{bad}"), &w.coord).await;
            r.expect_problem(422, "validation");
            assert_eq!(r.error_fields(), vec!["limit"], "{bad}");
        }
        app.get(&format!("/api/v1/tasks/{t}/candidates?include_excluded=perhaps"), &w.coord).await.expect_problem(400, "invalid_query");
    }
}
