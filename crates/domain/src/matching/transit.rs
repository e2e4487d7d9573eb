//! Public-transport travel time with the Connection Scan Algorithm (Dibbelt, Pajor, Strasser and
//! Wagner, "Connection Scan Algorithm", 2013/2018), as one search per task shift that serves every
//! citizen:
//!
//! - **Out**, a reverse (arrive-by) scan from the work location: for every stop, the latest time
//!   one can leave it by bus and still walk to the work in time for the shift's start. A
//!   connection that arrives after that is never used.
//! - **Back**, a forward scan from the work location after the shift ends: the earliest arrival
//!   at every stop on the same service day.
//!
//! A citizen's door-to-door time is then read off the stops within walking distance of their
//! home: the time from leaving home to the shift's start, walking to the stop included (waiting
//! at the work included too: it is the time the trip costs them). A citizen reaches the work by
//! bus only when there is such a trip **and** a way back. Walks to, from and between stops are
//! straight line × [`WALK`]'s detour at its speed, at most [`MAX_ACCESS_WALK_M`] to or from a stop
//! and [`MAX_TRANSFER_WALK_M`] between two stops; changing at one stop takes no time.
//!
//! Times are seconds after midnight of the service day (GTFS times may pass 24:00).

use std::collections::HashMap;

use crate::citizen::GeoPoint;
use crate::matching::travel::{WALK, haversine_m};

/// The farthest walk (straight line) from home to a stop, or from a stop to the work.
pub const MAX_ACCESS_WALK_M: f64 = 1_000.0;
/// The farthest walk (straight line) between two stops to change buses.
pub const MAX_TRANSFER_WALK_M: f64 = 400.0;

/// Seconds to walk a straight-line distance, with [`WALK`]'s detour and speed, rounded up.
pub fn walk_seconds(metres: f64) -> u32 {
    let seconds = metres * WALK.detour_factor / (WALK.km_per_hour / 3.6);
    seconds.ceil().clamp(0.0, f64::from(u32::MAX)) as u32
}

/// One ride of one trip from a stop to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection {
    /// Index of the stop it leaves from.
    pub from: u32,
    /// Index of the stop it arrives at.
    pub to: u32,
    /// Departure, seconds after midnight of the service day.
    pub departs: u32,
    /// Arrival, seconds after midnight of the service day (not before `departs`).
    pub arrives: u32,
    /// Index of the trip it belongs to.
    pub trip: u32,
}

/// The stops of a feed, indexed by a grid of about 1 km for "stops near here".
#[derive(Debug, Clone)]
struct StopIndex {
    cells: HashMap<(i32, i32), Vec<u32>>,
}

/// Cell size of the stop index: 0.01° latitude (1.1 km) × 0.016° longitude (≈ 1 km in Denmark),
/// so every stop within [`MAX_ACCESS_WALK_M`] of a point is in its cell or the eight around it.
const CELL_LAT: f64 = 0.01;
const CELL_LON: f64 = 0.016;

fn cell(p: GeoPoint) -> (i32, i32) {
    ((p.lat() / CELL_LAT).floor() as i32, (p.lon() / CELL_LON).floor() as i32)
}

impl StopIndex {
    fn new(stops: &[GeoPoint]) -> StopIndex {
        let mut cells: HashMap<(i32, i32), Vec<u32>> = HashMap::new();
        for (i, p) in stops.iter().enumerate() {
            cells.entry(cell(*p)).or_default().push(u32::try_from(i).unwrap_or(u32::MAX));
        }
        StopIndex { cells }
    }

    /// The stops within `radius` metres (at most [`MAX_ACCESS_WALK_M`]) of `p`, with the distance.
    fn near(&self, stops: &[GeoPoint], p: GeoPoint, radius: f64) -> Vec<(u32, f64)> {
        let (la, lo) = cell(p);
        let mut out = Vec::new();
        for dla in -1..=1 {
            for dlo in -1..=1 {
                for &s in self.cells.get(&(la + dla, lo + dlo)).into_iter().flatten() {
                    let d = haversine_m(p, stops[s as usize]);
                    if d <= radius {
                        out.push((s, d));
                    }
                }
            }
        }
        out
    }
}

/// A service day's timetable: stops, connections sorted by departure, and the walks between
/// stops for changing buses.
#[derive(Debug, Clone)]
pub struct Timetable {
    stops: Vec<GeoPoint>,
    connections: Vec<Connection>,
    trips: usize,
    /// Per stop, the stops one can walk to for a change, with the seconds it takes.
    footpaths: Vec<Vec<(u32, u32)>>,
    index: StopIndex,
}

impl Timetable {
    /// Prepares a day's timetable. Connections that name a stop that does not exist, or arrive
    /// before they depart, are left out.
    pub fn new(stops: Vec<GeoPoint>, mut connections: Vec<Connection>) -> Timetable {
        let n = stops.len();
        connections.retain(|c| (c.from as usize) < n && (c.to as usize) < n && c.arrives >= c.departs);
        connections.sort_by_key(|c| (c.departs, c.arrives, c.trip, c.from));
        let trips = connections.iter().map(|c| c.trip as usize + 1).max().unwrap_or(0);
        let index = StopIndex::new(&stops);
        let footpaths = stops
            .iter()
            .enumerate()
            .map(|(i, p)| {
                index
                    .near(&stops, *p, MAX_TRANSFER_WALK_M)
                    .into_iter()
                    .filter(|(s, _)| *s as usize != i)
                    .map(|(s, d)| (s, walk_seconds(d)))
                    .collect()
            })
            .collect();
        Timetable { stops, connections, trips, footpaths, index }
    }

    /// How many stops.
    pub fn stop_count(&self) -> usize {
        self.stops.len()
    }

    /// How many connections.
    pub fn connection_count(&self) -> usize {
        self.connections.len()
    }

    /// The public-transport profile of one shift at `site`, from `start` to `end` (seconds after
    /// midnight of its service day).
    pub fn profile(&self, site: GeoPoint, start: u32, end: u32) -> TransitProfile {
        let n = self.stops.len();
        let egress = self.index.near(&self.stops, site, MAX_ACCESS_WALK_M);

        // Out: the latest time one may be at each stop, walking to the site from it directly
        // (`walk_only`) or after a ride (`by_ride`); u32::MAX-free by using Option.
        let mut walk_only: Vec<Option<u32>> = vec![None; n];
        for &(s, d) in &egress {
            walk_only[s as usize] = start.checked_sub(walk_seconds(d));
        }
        let mut by_ride: Vec<Option<u32>> = vec![None; n];
        let mut trip_ok = vec![false; self.trips];
        for c in self.connections.iter().rev() {
            let (a, b) = (c.from as usize, c.to as usize);
            let latest_at_b = walk_only[b].max(by_ride[b]);
            if trip_ok[c.trip as usize] || latest_at_b.is_some_and(|t| c.arrives <= t) {
                trip_ok[c.trip as usize] = true;
                if by_ride[a].is_none_or(|t| t < c.departs) {
                    by_ride[a] = Some(c.departs);
                    for &(from, secs) in &self.footpaths[a] {
                        let leave = c.departs.checked_sub(secs);
                        if by_ride[from as usize] < leave {
                            by_ride[from as usize] = leave;
                        }
                    }
                }
            }
        }

        // Back: the earliest arrival at each stop after the shift ends.
        let mut earliest: Vec<Option<u32>> = vec![None; n];
        for &(s, d) in &egress {
            earliest[s as usize] = Some(end.saturating_add(walk_seconds(d)));
        }
        let mut back: Vec<Option<u32>> = vec![None; n];
        let mut boarded = vec![false; self.trips];
        for c in &self.connections {
            let (a, b) = (c.from as usize, c.to as usize);
            let at_a = match (earliest[a], back[a]) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
            if boarded[c.trip as usize] || at_a.is_some_and(|t| t <= c.departs) {
                boarded[c.trip as usize] = true;
                if back[b].is_none_or(|t| c.arrives < t) {
                    back[b] = Some(c.arrives);
                    for &(to, secs) in &self.footpaths[b] {
                        let there = c.arrives.saturating_add(secs);
                        if back[to as usize].is_none_or(|t| there < t) {
                            back[to as usize] = Some(there);
                        }
                    }
                }
            }
        }
        let min_egress = egress.iter().map(|&(_, d)| walk_seconds(d)).min();
        TransitProfile { start, latest: by_ride, back, min_egress }
    }

    /// The door-to-door minutes by public transport from `home` for a shift's profile: see
    /// [`TransitProfile::minutes_from`].
    pub fn minutes_from(&self, profile: &TransitProfile, home: GeoPoint) -> Option<u32> {
        let near = self.index.near(&self.stops, home, MAX_ACCESS_WALK_M);
        let way_back = near.iter().any(|&(s, _)| profile.back[s as usize].is_some());
        if !way_back {
            return None;
        }
        near.iter()
            .filter_map(|&(s, d)| {
                let leave_stop = profile.latest[s as usize]?;
                let leave_home = leave_stop.checked_sub(walk_seconds(d))?;
                Some(profile.start - leave_home)
            })
            .min()
            .map(|seconds| seconds.div_ceil(60))
    }
}

/// The result of one shift's search: per stop the latest departure by bus that reaches the work
/// in time, and the earliest arrival back after the shift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitProfile {
    start: u32,
    latest: Vec<Option<u32>>,
    back: Vec<Option<u32>>,
    min_egress: Option<u32>,
}

impl TransitProfile {
    /// The latest departure by bus from each stop that reaches the work before the shift starts.
    pub fn latest_departures(&self) -> &[Option<u32>] {
        &self.latest
    }

    /// The earliest arrival at each stop by bus after the shift ends.
    pub fn earliest_returns(&self) -> &[Option<u32>] {
        &self.back
    }

    /// The shortest walk from a stop to the work, in seconds, if a stop is near enough.
    pub fn min_egress_seconds(&self) -> Option<u32> {
        self.min_egress
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn p(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint::new(lat, lon).unwrap()
    }

    fn hm(h: u32, m: u32) -> u32 {
        h * 3600 + m * 60
    }

    /// A line from the town (stop 0) to the edge (stop 1) to the industrial site (stop 2), each
    /// about 5 km apart; the site lies 300 m from stop 2, the home 200 m from stop 0.
    fn line() -> (Vec<GeoPoint>, GeoPoint, GeoPoint) {
        let stops = vec![p(56.4600, 10.0400), p(56.4600, 10.1200), p(56.4600, 10.2000)];
        (stops, p(56.4627, 10.2000), p(56.4618, 10.0400))
    }

    fn ride(trip: u32, legs: &[(u32, u32, u32, u32)]) -> Vec<Connection> {
        legs.iter().map(|&(from, to, departs, arrives)| Connection { from, to, departs, arrives, trip }).collect()
    }

    #[test]
    fn a_bus_that_arrives_in_time_and_one_back_give_a_door_to_door_time() {
        let (stops, site, home) = line();
        let mut c = ride(0, &[(0, 1, hm(6, 30), hm(6, 40)), (1, 2, hm(6, 40), hm(6, 50))]);
        c.extend(ride(1, &[(2, 1, hm(12, 10), hm(12, 20)), (1, 0, hm(12, 20), hm(12, 30))]));
        let t = Timetable::new(stops, c);
        let profile = t.profile(site, hm(7, 0), hm(12, 0));
        // Walk 200 m (≈ 4 min) to the stop, leave 06:30: 06:26 to 07:00 is 34 minutes.
        let minutes = t.minutes_from(&profile, home).unwrap();
        assert_eq!(minutes, 34);
        // The same bus is too late for a 06:45 shift.
        let early = t.profile(site, hm(6, 45), hm(12, 0));
        assert_eq!(t.minutes_from(&early, home), None);
    }

    #[test]
    fn without_a_way_back_the_bus_does_not_count() {
        let (stops, site, home) = line();
        let c = ride(0, &[(0, 1, hm(6, 30), hm(6, 40)), (1, 2, hm(6, 40), hm(6, 50))]);
        let t = Timetable::new(stops, c);
        assert_eq!(t.minutes_from(&t.profile(site, hm(7, 0), hm(12, 0)), home), None);
        // Far from every stop, nothing is reachable either.
        let far = p(56.50, 10.04);
        assert_eq!(t.minutes_from(&t.profile(site, hm(7, 0), hm(12, 0)), far), None);
    }

    #[test]
    fn a_change_between_two_lines_at_one_stop_is_made() {
        let (stops, site, home) = line();
        let mut c = ride(0, &[(0, 1, hm(6, 0), hm(6, 10))]);
        c.extend(ride(1, &[(1, 2, hm(6, 15), hm(6, 25))]));
        c.extend(ride(2, &[(2, 0, hm(13, 0), hm(13, 20))]));
        let t = Timetable::new(stops, c);
        let minutes = t.minutes_from(&t.profile(site, hm(7, 0), hm(12, 0)), home).unwrap();
        assert_eq!(minutes, 64, "05:56 to 07:00");
        // A connecting bus that leaves before the first arrives is no change.
        let mut c = ride(0, &[(0, 1, hm(6, 0), hm(6, 10))]);
        c.extend(ride(1, &[(1, 2, hm(6, 5), hm(6, 25))]));
        c.extend(ride(2, &[(2, 0, hm(13, 0), hm(13, 20))]));
        let (stops, _, _) = line();
        let t = Timetable::new(stops, c);
        assert_eq!(t.minutes_from(&t.profile(site, hm(7, 0), hm(12, 0)), home), None);
    }

    fn arb_timetable() -> impl Strategy<Value = (Vec<GeoPoint>, Vec<Connection>)> {
        let stops = prop::collection::vec((56.40f64..56.48, 10.00f64..10.10), 2..12);
        stops
            .prop_flat_map(|raw| {
                let n = raw.len() as u32;
                let conns = prop::collection::vec((0..n, 0..n, hm(5, 0)..hm(9, 0), 60u32..1800, 0u32..6), 0..60);
                (Just(raw), conns)
            })
            .prop_map(|(raw, conns)| {
                let stops = raw.into_iter().map(|(a, b)| p(a, b)).collect();
                let connections = conns
                    .into_iter()
                    .filter(|(a, b, ..)| a != b)
                    .map(|(from, to, departs, length, trip)| Connection {
                        from,
                        to,
                        departs,
                        arrives: departs + length,
                        trip,
                    })
                    .collect();
                (stops, connections)
            })
    }

    proptest! {
        #[test]
        fn a_bus_time_is_never_shorter_than_its_walks_to_and_from_the_stops(
            (stops, connections) in arb_timetable(),
            site in (56.40f64..56.48, 10.00f64..10.10),
            home in (56.40f64..56.48, 10.00f64..10.10),
        ) {
            let (site, home) = (p(site.0, site.1), p(home.0, home.1));
            let t = Timetable::new(stops.clone(), connections);
            let profile = t.profile(site, hm(8, 0), hm(8, 30));
            if let Some(minutes) = t.minutes_from(&profile, home) {
                let access = stops.iter().map(|s| haversine_m(home, *s)).filter(|d| *d <= MAX_ACCESS_WALK_M)
                    .map(walk_seconds).min().unwrap();
                let egress = profile.min_egress_seconds().unwrap();
                prop_assert!(minutes * 60 >= access + egress, "{minutes} min < {access} s + {egress} s");
            }
        }

        #[test]
        fn a_connection_arriving_after_the_shift_starts_is_never_used(
            (stops, connections) in arb_timetable(),
            late in prop::collection::vec((0u32..12, 0u32..12, 0u32..1800, 0u32..6), 0..30),
            site in (56.40f64..56.48, 10.00f64..10.10),
        ) {
            let site = p(site.0, site.1);
            let start = hm(8, 0);
            let n = stops.len() as u32;
            let before = Timetable::new(stops.clone(), connections.clone()).profile(site, start, start + 1800);
            // The same timetable with extra rides that all arrive after the shift starts, on the
            // trips already there (so a rider could stay seated onto them) and on new ones.
            let mut more = connections;
            for (from, to, after, trip) in late {
                let departs = start + after;
                more.push(Connection { from: from % n, to: to % n, departs, arrives: departs + 1 + after % 600, trip });
            }
            let after = Timetable::new(stops, more).profile(site, start, start + 1800);
            prop_assert_eq!(before.latest_departures(), after.latest_departures());
        }
    }
}
