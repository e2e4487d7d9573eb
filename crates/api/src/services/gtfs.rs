//! GTFS import: a municipality's public-transport timetable, read from a GTFS zip with
//! `gtfs-structures` and reduced to what the Connection Scan Algorithm needs (stops, the days each
//! service runs, and one connection per ride between two consecutive stops of a trip). A new
//! import replaces the municipality's previous feed in the caller's transaction; a zip that is
//! not GTFS, a missing required file, or a line that cannot be read is a 422 naming the file (and
//! the line where the reader tells it), and the old feed stays in use.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Cursor;

use chrono::{Datelike, NaiveDate, Weekday};
use gtfs_structures::{Error as GtfsError, Exception, Gtfs};
use sha2::{Digest, Sha256};
use smaajob_domain::{GeoPoint, MunicipalityCode};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::gtfs::{self as repo, ConnectionRow, FeedRow, NewFeed, ServiceDayRow, StopRow};
use smaajob_persistence::repo::{new_id, now};

use crate::services::error::{Code, ServiceError};
use crate::services::principal::Principal;

/// The largest GTFS zip accepted, in bytes (a regional operator's feed is some tens of MB).
pub const MAX_FEED_BYTES: usize = 128 * 1024 * 1024;

/// The most days one calendar.txt row may span when expanded into service days (about three
/// years): a longer one is refused rather than filling the database.
const MAX_CALENDAR_DAYS: i64 = 1_100;

/// What an import stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The feed's summary: id (its version), counts, first and last service day.
    pub feed: FeedRow,
    /// Stops the feed lists without coordinates (stations' entrances, nodes), left out.
    pub stops_without_location: usize,
}

/// A GTFS zip refused: which file (and line) and why.
fn refused(detail: String) -> ServiceError {
    ServiceError::rule(Code::InvalidGtfs, detail)
}

/// A reader error as a problem naming the file and, where the reader tells it, the line.
fn describe(e: GtfsError) -> ServiceError {
    match e {
        GtfsError::MissingFile(file) => refused(format!("the GTFS feed has no {file}, a required file")),
        GtfsError::CSVError { file_name, source, .. } => {
            let line = source.position().map(|p| format!(" line {}", p.line())).unwrap_or_default();
            refused(format!("{file_name}{line}: {source}"))
        }
        GtfsError::NamedFileIO { file_name, source } => refused(format!("{file_name} cannot be read: {source}")),
        GtfsError::ReferenceError(id) => refused(format!(
            "an id is used that no file defines (stop_times.txt names trips and stops, trips.txt routes and services): {id}"
        )),
        GtfsError::InvalidTime(t) => refused(format!("stop_times.txt: '{t}' is not a time (HH:MM:SS)")),
        GtfsError::Zip(z) => refused(format!("the feed is not a readable zip archive: {z}")),
        other => refused(format!("the GTFS feed cannot be read: {other}")),
    }
}

/// The reader's civil date (ISO `YYYY-MM-DD` when shown) as a chrono date.
fn chrono_date(d: impl std::fmt::Display) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&d.to_string(), "%Y-%m-%d").ok()
}

fn index(n: usize, what: &str) -> Result<i32, ServiceError> {
    i32::try_from(n).map_err(|_| refused(format!("the feed has more {what} than can be stored")))
}

/// Reads a GTFS zip into the rows of a new feed for `municipality` (no database).
pub fn read_feed(bytes: &[u8], municipality: MunicipalityCode, by: &str) -> Result<(NewFeed, usize), ServiceError> {
    let gtfs = Gtfs::from_reader(Cursor::new(bytes)).map_err(describe)?;
    let feed_id = new_id();

    // Stops with coordinates, numbered in stop_id order so a re-import numbers them alike.
    let mut stop_ids: Vec<&String> = gtfs.stops.keys().collect();
    stop_ids.sort();
    let mut stop_index: HashMap<&str, i32> = HashMap::new();
    let mut stops = Vec::new();
    let mut without_location = 0;
    for id in stop_ids {
        let stop = &gtfs.stops[id];
        let (Some(lat), Some(lon)) = (stop.latitude, stop.longitude) else {
            without_location += 1;
            continue;
        };
        GeoPoint::new(lat, lon)
            .map_err(|e| refused(format!("stops.txt: stop {id} has coordinates that are not a place ({e})")))?;
        let idx = index(stops.len(), "stops")?;
        stop_index.insert(id.as_str(), idx);
        stops.push(StopRow { feed_id: feed_id.clone(), idx, stop_id: id.clone(), lat, lon });
    }

    // Services: calendar.txt weekdays between its dates, then calendar_dates.txt on top.
    let mut days: BTreeMap<&str, BTreeSet<NaiveDate>> = BTreeMap::new();
    for (id, c) in &gtfs.calendar {
        let (Some(start), Some(end)) = (chrono_date(c.start_date), chrono_date(c.end_date)) else {
            return Err(refused(format!("calendar.txt: service {id} has a date that does not exist")));
        };
        if (end - start).num_days() > MAX_CALENDAR_DAYS {
            return Err(refused(format!(
                "calendar.txt: service {id} runs from {start} to {end}, longer than {MAX_CALENDAR_DAYS} days"
            )));
        }
        let runs = days.entry(id.as_str()).or_default();
        for day in start.iter_days().take_while(|d| *d <= end) {
            let on = match day.weekday() {
                Weekday::Mon => c.monday,
                Weekday::Tue => c.tuesday,
                Weekday::Wed => c.wednesday,
                Weekday::Thu => c.thursday,
                Weekday::Fri => c.friday,
                Weekday::Sat => c.saturday,
                Weekday::Sun => c.sunday,
            };
            if on {
                runs.insert(day);
            }
        }
    }
    for (id, exceptions) in &gtfs.calendar_dates {
        let runs = days.entry(id.as_str()).or_default();
        for e in exceptions {
            let day = chrono_date(e.date)
                .ok_or_else(|| refused(format!("calendar_dates.txt: service {id} has a date that does not exist")))?;
            match e.exception_type {
                Exception::Added => runs.insert(day),
                Exception::Deleted => runs.remove(&day),
            };
        }
    }
    let service_index: HashMap<&str, i32> =
        days.keys().enumerate().map(|(i, id)| Ok((*id, index(i, "services")?))).collect::<Result<_, ServiceError>>()?;
    let mut service_days = Vec::new();
    for (id, runs) in &days {
        for day in runs {
            service_days.push(ServiceDayRow { feed_id: feed_id.clone(), service: service_index[id], day: *day });
        }
    }

    // Connections: consecutive timed stops of each trip whose service is known, in trip_id order.
    let mut trip_ids: Vec<&String> = gtfs.trips.keys().collect();
    trip_ids.sort();
    let mut connections = Vec::new();
    let mut trips = 0usize;
    for id in trip_ids {
        let trip = &gtfs.trips[id];
        let Some(&service) = service_index.get(trip.service_id.as_str()) else {
            return Err(refused(format!(
                "trips.txt: trip {id} runs on service {} that neither calendar.txt nor calendar_dates.txt defines",
                trip.service_id
            )));
        };
        let timed: Vec<(i32, u32, u32)> = trip
            .stop_times
            .iter()
            .filter_map(|st| {
                let stop = *stop_index.get(st.stop.id.as_str())?;
                let arrives = st.arrival_time.or(st.departure_time)?;
                let departs = st.departure_time.or(st.arrival_time)?;
                Some((stop, arrives, departs))
            })
            .collect();
        let trip_no = index(trips, "trips")?;
        let mut seq = 0;
        for pair in timed.windows(2) {
            let ((from, _, departs), (to, arrives, _)) = (pair[0], pair[1]);
            if arrives < departs {
                return Err(refused(format!(
                    "stop_times.txt: trip {id} arrives at stop {} before it leaves the stop before",
                    stops[to as usize].stop_id
                )));
            }
            let secs = |t: u32| {
                i32::try_from(t)
                    .map_err(|_| refused(format!("stop_times.txt: trip {id} has a time past what can be stored")))
            };
            connections.push(ConnectionRow {
                feed_id: feed_id.clone(),
                trip: trip_no,
                seq,
                service,
                from_stop: from,
                to_stop: to,
                departs: secs(departs)?,
                arrives: secs(arrives)?,
            });
            seq += 1;
        }
        if seq > 0 {
            trips += 1;
        }
    }

    let all_days = service_days.iter().map(|d| d.day);
    let feed = FeedRow {
        id: feed_id,
        municipality: municipality.to_string(),
        sha256: hex(&Sha256::digest(bytes)),
        imported_at: now(),
        imported_by: by.to_owned(),
        stop_count: index(stops.len(), "stops")?,
        trip_count: index(trips, "trips")?,
        connection_count: index(connections.len(), "connections")?,
        first_day: all_days.clone().min(),
        last_day: all_days.max(),
    };
    Ok((NewFeed { feed, stops, service_days, connections }, without_location))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Imports a GTFS zip as `municipality`'s feed, replacing the previous one (in the caller's
/// transaction: a refused feed changes nothing).
pub fn import_for(
    conn: &mut DbConn,
    municipality: MunicipalityCode,
    by: &str,
    bytes: &[u8],
) -> Result<Imported, ServiceError> {
    let (new, stops_without_location) = read_feed(bytes, municipality, by)?;
    if new.connections.is_empty() {
        return Err(refused(
            "stop_times.txt: no trip has two timed stops with coordinates, so the feed has no ride".into(),
        ));
    }
    repo::replace(conn, &new)?;
    Ok(Imported { feed: new.feed, stops_without_location })
}

/// A coordinator's upload: the feed becomes their municipality's.
pub fn import(conn: &mut DbConn, principal: &Principal, bytes: &[u8]) -> Result<Imported, ServiceError> {
    let municipality = principal.coordinator()?;
    import_for(conn, municipality, principal.sub(), bytes)
}

/// The coordinator's municipality's feed now in use; 404 when none is imported.
pub fn current(conn: &mut DbConn, principal: &Principal) -> Result<FeedRow, ServiceError> {
    let municipality = principal.coordinator()?;
    repo::current(conn, &municipality.to_string())?.ok_or(ServiceError::NotFound("GTFS feed"))
}
