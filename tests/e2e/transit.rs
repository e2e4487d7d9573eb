//! Bus times in matching over HTTP, against the synthetic feed in `tests/fixtures/gtfs/line`
//! (Centrum 06:30 → Ringvej 06:40 → Industri 06:50 on weekdays, back from Industri at 16:10): a
//! citizen who can only take the bus ranks once a feed is imported, a bus that arrives after the
//! shift starts or a shift that ends after the last bus home is not used, and a new feed or a
//! changed task changes the answer. The transport-gap report counts, per task and by postcode,
//! who matches on everything but travel, what rules them out and who a bus would bring.

use chrono::{Datelike, NaiveDate, Weekday};
use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// The Centrum stop of the fixture feed (the line's first stop).
const CENTRUM: (f64, f64) = (56.4600, 10.0400);
/// The Industri stop of the fixture feed, where the task's work is.
const INDUSTRI: (f64, f64) = (56.4600, 10.2000);

/// The first weekday (Monday to Friday, when the fixture's buses run) at least two days ahead.
fn weekday_ahead() -> NaiveDate {
    (2..).map(day).find(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)).unwrap()
}

/// A task at the industrial site with one shift on [`weekday_ahead`] from `start` to `end`.
fn industrial_task(start: &str, end: &str) -> Value {
    with(
        task_body(),
        json!({
            "title": "Pakning på lageret",
            "place": { "address": "Industrivej 1, 8900 Randers", "lat": INDUSTRI.0, "lon": INDUSTRI.1 },
            "schedule": single(weekday_ahead(), start, end),
            "hours_per_shift": "3.0",
        }),
    )
}

/// A citizen living by the Centrum stop who goes only by bus.
async fn bus_rider(app: &TestApp, coord: &str, n: u32) -> String {
    traveller(app, coord, n, json!({ "lat": CENTRUM.0, "lon": CENTRUM.1 }), &["public_transport"], true).await
}

/// The listed entry of `citizen` in a candidate list (candidates or excluded).
fn entry<'a>(list: &'a Value, citizen: &str) -> &'a Value {
    list["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .chain(list["excluded"].as_array().unwrap())
        .find(|c| c["citizen_id"] == citizen)
        .unwrap_or_else(|| panic!("{citizen} is not listed: {list}"))
}

fn codes(c: &Value) -> Vec<String> {
    c["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap().to_owned()).collect()
}

/// The fixture feed without its morning trip out to the industrial site.
fn feed_without_the_morning_bus() -> Vec<u8> {
    let trips = "route_id,service_id,trip_id\nR1,HVERDAG,HJEM1\n";
    let times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence
HJEM1,16:10:00,16:10:00,S3,1
HJEM1,16:20:00,16:20:00,S2,2
HJEM1,16:30:00,16:30:00,S1,3
";
    gtfs_zip(&[("trips.txt", Some(trips)), ("stop_times.txt", Some(times))])
}

/// [`industrial_task`] at another address.
fn industrial_task_at(address: &str, start: &str, end: &str) -> Value {
    let mut body = industrial_task(start, end);
    body["place"]["address"] = json!(address);
    body
}

/// The transport-gap report as `token` sees it, for a query string (without the `?`).
async fn gaps(app: &TestApp, token: &str, query: &str) -> Resp {
    app.get(&format!("/api/v1/reports/transport-gaps?{query}"), token).await
}

fn counts(v: &Value) -> [u64; 6] {
    ["matching_but_travel", "reachable", "by_bicycle", "by_bus", "unreachable", "would_reach_by_bus"]
        .map(|k| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}")))
}

fn ruled_out(v: &Value) -> Vec<(String, u64, u64)> {
    let mut out: Vec<(String, u64, u64)> = v["ruled_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["by"].as_str().unwrap().to_owned(),
                r["max_travel_minutes"].as_u64().unwrap(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

both_backends! {
    async fn the_transport_gap_report_counts_who_a_bus_would_bring_per_task_and_by_postcode(app) {
        let w = hiring(&app).await;
        upload_gtfs(&app, &w.coord, gtfs_zip(&[])).await.expect(201);
        let centrum = json!({ "lat": CENTRUM.0, "lon": CENTRUM.1 });
        let by_industri = json!({ "lat": INDUSTRI.0 + 1.0 / 111.2, "lon": INDUSTRI.1 });
        bus_rider(&app, &w.coord, 1).await;
        traveller(&app, &w.coord, 2, by_industri, &["bicycle"], true).await;
        // 10 km by bicycle is over 45 minutes; the bus is in time for 07:00 only.
        traveller(&app, &w.coord, 3, centrum.clone(), &["bicycle", "public_transport"], true).await;
        traveller(&app, &w.coord, 4, centrum, &["walk"], true).await;
        traveller(&app, &w.coord, 5, Value::Null, &["public_transport"], true).await;
        // Without the required skills: not counted at all.
        person(&app, &w.coord, 6).await;
        let early = open_task(&app, &w.company, &industrial_task_at("Industrivej 1, 8940 Randers SV", "06:45", "10:00")).await;
        let fits = open_task(&app, &w.company, &industrial_task_at("Industrivej 3, 8940 Randers SV", "07:00", "11:00")).await;
        let town = open_task(&app, &w.company, &task_body()).await;
        let no_place = with(task_body(), json!({ "place": { "address": "Et sted i byen" } }));
        open_task(&app, &w.company, &no_place).await;

        let r = gaps(&app, &w.coord, "").await;
        let report = r.expect(200).body.clone();
        assert_eq!(r.content_type(), "application/json");
        assert_eq!((&report["municipality"], &report["citizens"], &report["tasks_without_location"]), (&json!("730"), &json!(6), &json!(1)));
        assert!(report["feed_id"].is_string());
        let line = |id: &str| report["tasks"].as_array().unwrap().iter().find(|t| t["task_id"] == id).unwrap().clone();
        let e = line(&early);
        assert_eq!((&e["postcode"], &e["status"], &e["positions"], &e["filled"]), (&json!("8940"), &json!("open"), &json!(1), &json!(0)));
        // matching, reachable, by bicycle, by bus, unreachable, would reach by bus.
        assert_eq!(counts(&e), [5, 1, 1, 0, 4, 2], "{e}");
        assert_eq!(ruled_out(&e), vec![
            ("bicycle".to_owned(), 45, 1), ("home_unknown".to_owned(), 45, 1),
            ("public_transport".to_owned(), 45, 1), ("walk".to_owned(), 45, 1),
        ]);
        let f = line(&fits);
        assert_eq!(counts(&f), [5, 3, 1, 2, 2, 0], "{f}");
        assert_eq!(ruled_out(&f), vec![("home_unknown".to_owned(), 45, 1), ("walk".to_owned(), 45, 1)]);
        assert_eq!(line(&town)["postcode"], "8900");
        let area = report["areas"].as_array().unwrap().iter().find(|a| a["postcode"] == "8940").unwrap().clone();
        assert_eq!(area["tasks"], 2);
        assert_eq!(counts(&area), [10, 4, 2, 2, 6, 2]);
        assert_eq!(ruled_out(&area), vec![
            ("bicycle".to_owned(), 45, 1), ("home_unknown".to_owned(), 45, 2),
            ("public_transport".to_owned(), 45, 1), ("walk".to_owned(), 45, 2),
        ]);
        assert!(!r.body.to_string().contains("Borger"), "counts only, no citizen is named");

        // The same as CSV, by parameter or by Accept.
        let csv = gaps(&app, &w.coord, "format=csv").await;
        csv.expect(200);
        assert!(csv.content_type().starts_with("text/csv"), "{}", csv.content_type());
        let text = String::from_utf8(csv.raw.clone()).unwrap();
        let rows: Vec<&str> = text.lines().collect();
        assert!(rows[0].starts_with("level,postcode,task_id,title,status,first_date,tasks,matching_but_travel"), "{}", rows[0]);
        assert_eq!(rows.len(), 1 + 3 + 2, "three tasks and two postcodes: {text}");
        assert!(rows.iter().any(|r| r.starts_with("area,8940,,,,,2,10,4,2,2,6,2,")), "{text}");
        assert!(rows.iter().any(|r| r.starts_with(&format!("task,8940,{early},"))), "{text}");
        let by_accept = app.json_with_headers(
            awc::http::Method::GET, "/api/v1/reports/transport-gaps", &w.coord, &[("Accept", "text/csv")], &Value::Null,
        ).await;
        assert_eq!(String::from_utf8(by_accept.expect(200).raw.clone()).unwrap(), text);

        // A period before every shift has no tasks.
        let r = gaps(&app, &w.coord, &format!("from={}&to={}", date(-40), date(-35))).await;
        assert_eq!(r.expect(200).body["tasks"], json!([]));
    }

    async fn only_a_coordinator_reads_the_transport_gap_report_and_only_of_their_own_municipality(app) {
        let w = hiring(&app).await;
        open_task(&app, &w.company, &industrial_task("07:00", "11:00")).await;
        bus_rider(&app, &w.coord, 1).await;
        let rider_token = app.citizen(&bus_rider(&app, &w.coord, 2).await);
        gaps(&app, &w.company, "").await.expect_problem(403, "forbidden");
        gaps(&app, &rider_token, "").await.expect_problem(403, "forbidden");
        gaps(&app, &app.operator(), "").await.expect_problem(403, "forbidden");
        let other = gaps(&app, &app.coordinator(AARHUS), "").await;
        assert_eq!((&other.expect(200).body["tasks"], &other.body["citizens"]), (&json!([]), &json!(0)));
        assert_eq!(other.body["feed_id"], Value::Null);
        let mine = gaps(&app, &w.coord, "").await;
        assert_eq!(mine.expect(200).body["tasks"].as_array().unwrap().len(), 1);
        // No timetable: the bus riders cannot get there, and a bus would bring both.
        assert_eq!(counts(&mine.body["tasks"][0]), [2, 0, 0, 0, 2, 2]);
    }

    async fn a_transport_gap_report_with_a_bad_period_or_format_is_a_clear_problem(app) {
        let coord = app.coordinator("730");
        let r = gaps(&app, &coord, &format!("from={}&to={}", date(5), date(1))).await;
        r.expect_problem(422, "validation");
        expect_field_error(&r, "from", "after_to");
        let r = gaps(&app, &coord, &format!("from={}&to={}", date(0), date(400))).await;
        expect_field_error(&r, "to", "period_too_long");
        let r = gaps(&app, &coord, "format=xml").await;
        expect_field_error(&r, "format", "unknown_format");
        gaps(&app, &coord, "from=2026-13-01").await.expect_problem(400, "invalid_query");
    }

    async fn a_citizen_who_can_only_take_the_bus_ranks_once_a_feed_is_imported_and_not_before(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &industrial_task("07:00", "11:00")).await;
        let rider = bus_rider(&app, &w.coord, 1).await;

        // No feed: the bus cannot be weighed, and the reasons say so.
        let before = candidates(&app, &w.coord, &t, "include_excluded=true").await;
        assert_eq!(candidate_ids(&before["candidates"]), Vec::<String>::new());
        let left_out = entry(&before, &rider);
        assert_eq!(left_out["excluded_because"], json!(["unreachable"]));
        assert_eq!(codes(left_out), vec!["unreachable", "no_timetable"]);
        assert_eq!(left_out["travel"], json!([{ "mode": "public_transport", "minutes": null, "within_limit": false }]));

        upload_gtfs(&app, &w.coord, gtfs_zip(&[])).await.expect(201);
        let after = candidates(&app, &w.coord, &t, "include_excluded=true").await;
        assert_eq!(candidate_ids(&after["candidates"]), vec![rider.clone()]);
        let c = entry(&after, &rider);
        assert_eq!(c["best_mode"], "public_transport");
        // Leaving home a little before the 06:30 bus, at the site 06:50 for the 07:00 start:
        // the time counts the walk to the stop and the wait at the work.
        let minutes = c["best_minutes"].as_u64().unwrap();
        assert!((30..=36).contains(&minutes), "door to door by bus: {minutes}");
        let das: Vec<&str> = c["reasons"].as_array().unwrap().iter().map(|r| r["da"].as_str().unwrap()).collect();
        assert!(das.contains(&format!("Bus {minutes} min").as_str()), "{das:?}");

        // The rider's suggestions weigh the same bus.
        let r = app.get("/api/v1/me/suggestions", &app.citizen(&rider)).await;
        r.expect(200);
        assert_eq!(r.body["items"][0]["task_id"], t.as_str());
        assert_eq!((&r.body["items"][0]["best_mode"], &r.body["items"][0]["best_minutes"]), (&json!("public_transport"), &json!(minutes)));

        // A new feed without the morning bus is a new answer, not the kept one.
        upload_gtfs(&app, &w.coord, feed_without_the_morning_bus()).await.expect(201);
        let again = candidates(&app, &w.coord, &t, "include_excluded=true").await;
        assert_eq!(candidate_ids(&again["candidates"]), Vec::<String>::new());
        let left_out = entry(&again, &rider);
        assert_eq!(codes(left_out), vec!["unreachable"], "a feed is in use, only no trip in time");
        let r = app.get("/api/v1/me/suggestions", &app.citizen(&rider)).await;
        assert_eq!(r.expect(200).body["total"], 0);
    }

    async fn a_bus_that_arrives_after_the_shift_starts_or_a_shift_after_the_last_bus_home_is_not_used(app) {
        let w = hiring(&app).await;
        upload_gtfs(&app, &w.coord, gtfs_zip(&[])).await.expect(201);
        let rider = bus_rider(&app, &w.coord, 1).await;
        // The bus is at the site 06:50: too late for 06:45.
        let early = open_task(&app, &w.company, &industrial_task("06:45", "10:00")).await;
        // The last bus home leaves the site 16:10: a shift until 16:30 has no way back.
        let late = open_task(&app, &w.company, &industrial_task("13:00", "16:30")).await;
        // In time for 07:00, and home at 16:10 after 11:00.
        let fits = open_task(&app, &w.company, &industrial_task("07:00", "11:00")).await;
        for t in [&early, &late] {
            let list = candidates(&app, &w.coord, t, "include_excluded=true").await;
            let left_out = entry(&list, &rider);
            assert_eq!(left_out["excluded_because"], json!(["unreachable"]), "{t}");
            assert_eq!(left_out["travel"][0]["minutes"], Value::Null, "{t}");
        }
        let list = candidates(&app, &w.coord, &fits, "").await;
        assert_eq!(candidate_ids(&list["candidates"]), vec![rider.clone()]);
        let r = app.get("/api/v1/me/suggestions", &app.citizen(&rider)).await;
        let suggested: Vec<&str> = r.body["items"].as_array().unwrap().iter().map(|s| s["task_id"].as_str().unwrap()).collect();
        assert_eq!(suggested, vec![fits.as_str()]);
    }

    async fn a_changed_task_is_weighed_again_against_the_timetable(app) {
        let w = hiring(&app).await;
        upload_gtfs(&app, &w.coord, gtfs_zip(&[])).await.expect(201);
        let rider = bus_rider(&app, &w.coord, 1).await;
        // A draft can be matched already; its profile is kept until the task changes.
        let t = draft_task(&app, &w.company, &industrial_task("07:00", "11:00")).await;
        let list = candidates(&app, &w.coord, &t, "").await;
        assert_eq!(candidate_ids(&list["candidates"]), vec![rider.clone()]);
        let earlier = json!({ "schedule": single(weekday_ahead(), "06:30", "10:00") });
        app.patch(&format!("/api/v1/tasks/{t}"), &w.company, &earlier).await.expect(200);
        let list = candidates(&app, &w.coord, &t, "include_excluded=true").await;
        assert_eq!(candidate_ids(&list["candidates"]), Vec::<String>::new(), "the 06:30 start is before the bus");
        assert_eq!(entry(&list, &rider)["excluded_because"], json!(["unreachable"]));
    }

    async fn the_randers_demo_shows_a_transport_gap_at_the_early_shift_in_randers_no(app) {
        let summary = {
            let mut conn = app.pool.get().unwrap();
            smaajob_api::demo::load(&mut conn, &app.data_key).unwrap()
        };
        assert!(matches!(summary.feed, Some((_, true))), "the demo imports its timetable");
        let again = {
            let mut conn = app.pool.get().unwrap();
            smaajob_api::demo::load(&mut conn, &app.data_key).unwrap()
        };
        assert_eq!((again.created, &again.tasks), (0, &summary.tasks), "loading it again changes nothing");
        let task = |title: &str| summary.tasks.iter().find(|(t, _)| t == title).unwrap().1.clone();
        let (early, paderup) = (task("Pakkeri, tidlig vagt"), task("Montage af reoler, dagvagt"));
        let coord = app.coordinator("730");

        let report = gaps(&app, &coord, "").await.expect(200).body.clone();
        let line = |id: &str| report["tasks"].as_array().unwrap().iter().find(|t| t["task_id"] == id).unwrap().clone();
        // Line 3 is at Randers NØ at 06:24, after the 06:00 start: four who would take the bus
        // cannot get there; two can by bicycle.
        let e = line(&early);
        assert_eq!(counts(&e), [6, 2, 2, 0, 4, 4], "{e}");
        assert_eq!(e["postcode"], "8930");
        assert!(ruled_out(&e).contains(&("public_transport".to_owned(), 45, 3)), "{e}");
        // Line 1 is at Paderup at 06:42 for 07:00.
        let p = line(&paderup);
        assert_eq!(counts(&p), [3, 2, 2, 1, 1, 1], "{p}");

        let list = candidates(&app, &coord, &paderup, "").await;
        let oliver = list["candidates"].as_array().unwrap().iter().find(|c| c["name"] == "Oliver Madsen").unwrap();
        let bus = oliver["travel"].as_array().unwrap().iter().find(|t| t["mode"] == "public_transport").unwrap();
        assert_eq!(bus["within_limit"], true, "{oliver}");
        assert!((20..=45).contains(&bus["minutes"].as_u64().unwrap()), "{bus}");
    }
}
