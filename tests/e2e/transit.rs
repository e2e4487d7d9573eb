//! Bus times in matching over HTTP, against the synthetic feed in `tests/fixtures/gtfs/line`
//! (Centrum 06:30 → Ringvej 06:40 → Industri 06:50 on weekdays, back from Industri at 16:10): a
//! citizen who can only take the bus ranks once a feed is imported, a bus that arrives after the
//! shift starts or a shift that ends after the last bus home is not used, and a new feed or a
//! changed task changes the answer.

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

both_backends! {
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
}
