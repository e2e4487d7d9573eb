//! Imported GTFS timetables, one per municipality, reduced to what the Connection Scan Algorithm
//! needs: stops, the days each service runs, and the connections (one ride of one trip from a stop
//! to the next). [`replace`] swaps a municipality's feed inside the caller's transaction, so a
//! failed import leaves the old feed in use.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::RepoError;
use crate::schema::{gtfs_connections, gtfs_feeds, gtfs_service_days, gtfs_stops};

/// Rows per INSERT statement: well below SQLite's 32,766 bound parameters at eight columns.
const CHUNK: usize = 2_000;

/// A feed's summary row: which feed a municipality uses, since when and how large it is.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = gtfs_feeds)]
pub struct FeedRow {
    /// The feed's id; a new import gets a new one, so it is the feed's version.
    pub id: String,
    /// The municipality code whose tasks use the feed.
    pub municipality: String,
    /// SHA-256 of the imported zip, hex.
    pub sha256: String,
    /// When it was imported (UTC).
    pub imported_at: NaiveDateTime,
    /// Who imported it (the token's subject, or `cli`).
    pub imported_by: String,
    /// How many stops.
    pub stop_count: i32,
    /// How many trips with at least one connection.
    pub trip_count: i32,
    /// How many connections.
    pub connection_count: i32,
    /// The first day any service runs.
    pub first_day: Option<NaiveDate>,
    /// The last day any service runs.
    pub last_day: Option<NaiveDate>,
}

/// One stop of a feed.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = gtfs_stops)]
pub struct StopRow {
    /// The feed.
    pub feed_id: String,
    /// The stop's number in the feed, 0 up.
    pub idx: i32,
    /// The stop's GTFS `stop_id`.
    pub stop_id: String,
    /// Latitude, WGS84.
    pub lat: f64,
    /// Longitude, WGS84.
    pub lon: f64,
}

/// One day a service runs.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = gtfs_service_days)]
pub struct ServiceDayRow {
    /// The feed.
    pub feed_id: String,
    /// The service's number in the feed.
    pub service: i32,
    /// The day it runs.
    pub day: NaiveDate,
}

/// One ride of one trip from a stop to the next.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = gtfs_connections)]
pub struct ConnectionRow {
    /// The feed.
    pub feed_id: String,
    /// The trip's number in the feed.
    pub trip: i32,
    /// The ride's place in its trip, 0 up.
    pub seq: i32,
    /// The service (days) the trip runs on.
    pub service: i32,
    /// The stop it leaves (a stop number).
    pub from_stop: i32,
    /// The stop it arrives at (a stop number).
    pub to_stop: i32,
    /// Departure, seconds after midnight of the service day.
    pub departs: i32,
    /// Arrival, seconds after midnight of the service day.
    pub arrives: i32,
}

/// A whole feed as imported.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeed {
    /// The summary row.
    pub feed: FeedRow,
    /// Its stops.
    pub stops: Vec<StopRow>,
    /// The days its services run.
    pub service_days: Vec<ServiceDayRow>,
    /// Its connections.
    pub connections: Vec<ConnectionRow>,
}

/// Replaces the municipality's feed by `new` (its previous stops, days and connections are
/// deleted with it). Atomic only inside the caller's transaction.
pub fn replace(conn: &mut DbConn, new: &NewFeed) -> Result<(), RepoError> {
    let old: Vec<String> = gtfs_feeds::table
        .filter(gtfs_feeds::municipality.eq(&new.feed.municipality))
        .select(gtfs_feeds::id)
        .load(conn)?;
    for id in &old {
        diesel::delete(gtfs_connections::table.filter(gtfs_connections::feed_id.eq(id))).execute(conn)?;
        diesel::delete(gtfs_service_days::table.filter(gtfs_service_days::feed_id.eq(id))).execute(conn)?;
        diesel::delete(gtfs_stops::table.filter(gtfs_stops::feed_id.eq(id))).execute(conn)?;
        diesel::delete(gtfs_feeds::table.find(id)).execute(conn)?;
    }
    diesel::insert_into(gtfs_feeds::table).values(&new.feed).execute(conn)?;
    // A multi-row INSERT does not go through the multi-backend connection: per backend.
    macro_rules! insert_all {
        ($table:expr, $rows:expr) => {
            for chunk in $rows.chunks(CHUNK) {
                match conn {
                    DbConn::Pg(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                    DbConn::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                };
            }
        };
    }
    insert_all!(gtfs_stops::table, new.stops);
    insert_all!(gtfs_service_days::table, new.service_days);
    insert_all!(gtfs_connections::table, new.connections);
    Ok(())
}

/// The municipality's current feed, if one is imported.
pub fn current(conn: &mut DbConn, municipality: &str) -> Result<Option<FeedRow>, RepoError> {
    Ok(gtfs_feeds::table
        .filter(gtfs_feeds::municipality.eq(municipality))
        .select(FeedRow::as_select())
        .first(conn)
        .optional()?)
}

/// The feed's stops, by number.
pub fn stops(conn: &mut DbConn, feed_id: &str) -> Result<Vec<StopRow>, RepoError> {
    Ok(gtfs_stops::table
        .filter(gtfs_stops::feed_id.eq(feed_id))
        .select(StopRow::as_select())
        .order(gtfs_stops::idx.asc())
        .load(conn)?)
}

/// One ride as the Connection Scan Algorithm reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = gtfs_connections)]
pub struct Ride {
    /// The trip's number in the feed.
    pub trip: i32,
    /// The stop it leaves (a stop number).
    pub from_stop: i32,
    /// The stop it arrives at (a stop number).
    pub to_stop: i32,
    /// Departure, seconds after midnight of the service day.
    pub departs: i32,
    /// Arrival, seconds after midnight of the service day.
    pub arrives: i32,
}

/// The services (by number) that run on `day`, ascending.
pub fn services_on(conn: &mut DbConn, feed_id: &str, day: NaiveDate) -> Result<Vec<i32>, RepoError> {
    Ok(gtfs_service_days::table
        .filter(gtfs_service_days::feed_id.eq(feed_id))
        .filter(gtfs_service_days::day.eq(day))
        .select(gtfs_service_days::service)
        .order(gtfs_service_days::service.asc())
        .load(conn)?)
}

/// The rides of every trip of these services.
pub fn rides_of(conn: &mut DbConn, feed_id: &str, services: &[i32]) -> Result<Vec<Ride>, RepoError> {
    Ok(gtfs_connections::table
        .filter(gtfs_connections::feed_id.eq(feed_id))
        .filter(gtfs_connections::service.eq_any(services))
        .select(Ride::as_select())
        .load(conn)?)
}
