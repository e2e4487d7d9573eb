//! GTFS import over HTTP: a coordinator uploads their municipality's timetable as a zip; a new
//! feed replaces the old one, and a refused feed (not a zip, a required file missing, a line that
//! cannot be read) is a 422 naming the file and line while the old feed stays in use.

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

const BAD_TIME: &str = "trip_id,arrival_time,departure_time,stop_id,stop_sequence
UD1,06:30:00,06:30:00,S1,1
UD1,06:4x:00,06:40:00,S2,2
";

both_backends! {
    async fn a_coordinator_imports_a_feed_and_a_new_import_replaces_it(app) {
        let coord = app.coordinator("730");
        let r = upload_gtfs(&app, &coord, gtfs_zip(&[])).await;
        let first = r.expect(201).body.clone();
        assert_eq!((&first["municipality"], &first["stops"], &first["trips"], &first["connections"]),
            (&serde_json::json!("730"), &serde_json::json!(3), &serde_json::json!(2), &serde_json::json!(4)), "{first}");
        assert_eq!((&first["first_day"], &first["last_day"]), (&serde_json::json!("2026-01-01"), &serde_json::json!("2027-12-31")));
        assert_eq!(first["stops_without_location"], 0);
        let current = app.get("/api/v1/gtfs", &coord).await;
        assert_eq!(current.expect(200).body["id"], first["id"]);
        // A date-time with its offset, as the document says (it once came without one).
        let imported_at = current.body["imported_at"].as_str().unwrap_or_default();
        assert!(chrono::DateTime::parse_from_rfc3339(imported_at).is_ok(), "{imported_at}");

        // The same line without its way home: the new feed is the one in use, with its counts.
        let out_only = "route_id,service_id,trip_id\nR1,HVERDAG,UD1\n";
        let times = "trip_id,arrival_time,departure_time,stop_id,stop_sequence
UD1,06:30:00,06:30:00,S1,1
UD1,06:40:00,06:40:00,S2,2
UD1,06:50:00,06:50:00,S3,3
";
        let r = upload_gtfs(&app, &coord, gtfs_zip(&[("trips.txt", Some(out_only)), ("stop_times.txt", Some(times))])).await;
        let second = r.expect(201).body.clone();
        assert_ne!(second["id"], first["id"]);
        assert_eq!((&second["trips"], &second["connections"]), (&serde_json::json!(1), &serde_json::json!(2)));
        let current = app.get("/api/v1/gtfs", &coord).await;
        assert_eq!(current.expect(200).body["id"], second["id"]);
        assert_eq!(current.body["stops_without_location"], serde_json::Value::Null, "told on import only");
        assert_eq!(current.body["connections"], 2);

        // Another municipality's feed is its own.
        app.get("/api/v1/gtfs", &app.coordinator("751")).await.expect_problem(404, "not_found");
    }

    async fn a_refused_feed_names_the_file_and_line_and_the_old_feed_stays_in_use(app) {
        let coord = app.coordinator("730");
        let old = upload_gtfs(&app, &coord, gtfs_zip(&[])).await.expect(201).body["id"].clone();

        let r = upload_gtfs(&app, &coord, b"this is not a zip archive".to_vec()).await;
        r.expect_problem(422, "invalid_gtfs");
        assert!(r.body["detail"].as_str().unwrap().contains("zip"), "{}", r.body);

        let r = upload_gtfs(&app, &coord, gtfs_zip(&[("stops.txt", None)])).await;
        r.expect_problem(422, "invalid_gtfs");
        assert!(r.body["detail"].as_str().unwrap().contains("stops.txt"), "{}", r.body);

        let r = upload_gtfs(&app, &coord, gtfs_zip(&[("stop_times.txt", Some(BAD_TIME))])).await;
        r.expect_problem(422, "invalid_gtfs");
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.starts_with("stop_times.txt line 3"), "{detail}");

        let unknown_stop = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nUD1,06:30:00,06:30:00,NOWHERE,1\n";
        let r = upload_gtfs(&app, &coord, gtfs_zip(&[("stop_times.txt", Some(unknown_stop))])).await;
        r.expect_problem(422, "invalid_gtfs");
        assert!(r.body["detail"].as_str().unwrap().contains("NOWHERE"), "{}", r.body);

        let no_service = "route_id,service_id,trip_id\nR1,SOENDAG,UD1\nR1,HVERDAG,HJEM1\n";
        let r = upload_gtfs(&app, &coord, gtfs_zip(&[("trips.txt", Some(no_service))])).await;
        r.expect_problem(422, "invalid_gtfs");
        assert!(r.body["detail"].as_str().unwrap().starts_with("trips.txt: trip UD1"), "{}", r.body);

        let current = app.get("/api/v1/gtfs", &coord).await;
        assert_eq!(current.expect(200).body["id"], old);
        assert_eq!(current.body["connections"], 4);
    }

    async fn a_feed_not_sent_as_a_zip_is_refused_with_415_before_it_is_read(app) {
        let coord = app.coordinator("730");
        for content_type in [Some("application/json"), Some("text/plain"), None] {
            let r = app.send(awc::http::Method::POST, "/api/v1/gtfs", Some(&coord), content_type, gtfs_zip(&[])).await;
            r.expect_problem(415, "unsupported_media_type");
        }
        app.get("/api/v1/gtfs", &coord).await.expect_problem(404, "not_found");
        let r = app.send(awc::http::Method::POST, "/api/v1/gtfs", Some(&coord), Some("application/octet-stream"), gtfs_zip(&[])).await;
        r.expect(201);
    }

    async fn only_a_coordinator_imports_or_reads_a_feed(app) {
        let w = hiring(&app).await;
        let citizen = app.citizen("7b0c2f3e-1d4a-4c55-9e61-2a8f0b9d3c10");
        for token in [&w.company, &citizen, &app.operator()] {
            upload_gtfs(&app, token, gtfs_zip(&[])).await.expect_problem(403, "forbidden");
            app.get("/api/v1/gtfs", token).await.expect_problem(403, "forbidden");
        }
        app.get("/api/v1/gtfs", &w.coord).await.expect_problem(404, "not_found");
    }
}
