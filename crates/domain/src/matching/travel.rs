//! Where people and work are, and how long it takes to get from one to the other.
//!
//! Every constant of the travel model is named here, in one place: the grid a home location is
//! snapped to, the box a Danish coordinate must fall in, and per mode of transport a speed and a
//! detour factor. A door-to-door time for walking, cycling, moped and car is the great-circle
//! (haversine) distance times the mode's detour factor, divided by its speed, rounded up to a
//! whole minute. Public transport is not estimated from distance: its times come from a
//! timetable search, given to the engine as facts.

use serde::{Deserialize, Serialize};

use crate::citizen::{FieldError, GeoPoint, TransportMode};

/// Mean Earth radius in metres (IUGG), used by the haversine distance.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// The southernmost latitude of Denmark (Gedser Odde lies at 54.56° N), with a margin.
pub const DENMARK_MIN_LAT: f64 = 54.50;
/// The northernmost latitude of Denmark (Grenen, 57.75° N), with a margin.
pub const DENMARK_MAX_LAT: f64 = 57.80;
/// The westernmost longitude of Denmark (Blåvandshuk, 8.07° E), with a margin.
pub const DENMARK_MIN_LON: f64 = 8.00;
/// The easternmost longitude of Denmark (Ertholmene east of Bornholm, 15.19° E), with a margin.
pub const DENMARK_MAX_LON: f64 = 15.25;

/// The latitude step of the home-location grid in millionths of a degree: 2,250 µ° ≈ 250 m.
pub const HOME_GRID_LAT_MICRODEGREES: i64 = 2_250;
/// The longitude step of the home-location grid in millionths of a degree: 4,000 µ° is 258 m at
/// 54.5° N and 238 m at 57.8° N, so about 250 m all over Denmark.
pub const HOME_GRID_LON_MICRODEGREES: i64 = 4_000;

/// The maximum one-way travel time a citizen gets unless one is set, in minutes.
pub const DEFAULT_MAX_TRAVEL_MINUTES: u16 = 45;
/// The shortest maximum one-way travel time that can be set, in minutes.
pub const MIN_MAX_TRAVEL_MINUTES: u16 = 5;
/// The longest maximum one-way travel time that can be set, in minutes.
pub const MAX_MAX_TRAVEL_MINUTES: u16 = 180;

/// Walking: 4.8 km/h (a typical adult pace), streets make the way 1.3 times the straight line.
pub const WALK: ModeModel = ModeModel { km_per_hour: 4.8, detour_factor: 1.3 };
/// Cycling: 15 km/h (everyday cycling, not sport), 1.3 times the straight line.
pub const BICYCLE: ModeModel = ModeModel { km_per_hour: 15.0, detour_factor: 1.3 };
/// Moped (knallert 30): 25 km/h door to door, 1.3 times the straight line.
pub const MOPED: ModeModel = ModeModel { km_per_hour: 25.0, detour_factor: 1.3 };
/// Car: 45 km/h door to door (town streets and country roads, parking included), 1.4 times the
/// straight line since roads bend more than paths between towns.
pub const CAR: ModeModel = ModeModel { km_per_hour: 45.0, detour_factor: 1.4 };

/// How one mode of transport is modelled: a speed and a detour factor over the straight line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModeModel {
    /// Average door-to-door speed in km/h.
    pub km_per_hour: f64,
    /// How much longer the way is than the straight line (≥ 1).
    pub detour_factor: f64,
}

impl ModeModel {
    /// The model of a mode estimated from distance; `None` for public transport, which comes
    /// from a timetable.
    pub fn of(mode: TransportMode) -> Option<ModeModel> {
        match mode {
            TransportMode::Walk => Some(WALK),
            TransportMode::Bicycle => Some(BICYCLE),
            TransportMode::Moped => Some(MOPED),
            TransportMode::Car => Some(CAR),
            TransportMode::PublicTransport => None,
        }
    }

    /// Whole minutes (rounded up) to cover `metres` of straight-line distance.
    pub fn minutes_for(self, metres: f64) -> u32 {
        let minutes = metres * self.detour_factor / (self.km_per_hour * 1000.0 / 60.0);
        // Distances within Denmark are a few hundred km at most, so this never saturates.
        minutes.ceil().clamp(0.0, f64::from(u32::MAX)) as u32
    }
}

/// The great-circle distance between two points in metres (haversine formula).
pub fn haversine_m(a: GeoPoint, b: GeoPoint) -> f64 {
    let (lat1, lat2) = (a.lat().to_radians(), b.lat().to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.lon() - a.lon()).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Door-to-door minutes by a distance-modelled mode; `None` for public transport.
pub fn travel_minutes(mode: TransportMode, from: GeoPoint, to: GeoPoint) -> Option<u32> {
    ModeModel::of(mode).map(|m| m.minutes_for(haversine_m(from, to)))
}

/// A coordinate inside Denmark's bounding box (see the `DENMARK_*` constants). The box also
/// holds some sea and a strip of Schleswig; it keeps out swapped coordinates and places abroad.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GeoPoint", into = "GeoPoint")]
pub struct DanishPoint(GeoPoint);

impl DanishPoint {
    /// Accepts a point inside Denmark's bounding box, else `outside_denmark`.
    pub fn new(point: GeoPoint) -> Result<DanishPoint, FieldError> {
        let inside = (DENMARK_MIN_LAT..=DENMARK_MAX_LAT).contains(&point.lat())
            && (DENMARK_MIN_LON..=DENMARK_MAX_LON).contains(&point.lon());
        if inside {
            Ok(DanishPoint(point))
        } else {
            Err(FieldError::new(
                "outside_denmark",
                format!(
                    "the coordinates must lie in Denmark (latitude {DENMARK_MIN_LAT} to {DENMARK_MAX_LAT}, \
                     longitude {DENMARK_MIN_LON} to {DENMARK_MAX_LON})"
                ),
            ))
        }
    }

    /// Parses latitude and longitude in degrees: on the globe, then in Denmark.
    pub fn parse(lat: f64, lon: f64) -> Result<DanishPoint, FieldError> {
        DanishPoint::new(GeoPoint::new(lat, lon)?)
    }

    /// The point.
    pub fn point(self) -> GeoPoint {
        self.0
    }
}

impl TryFrom<GeoPoint> for DanishPoint {
    type Error = FieldError;

    fn try_from(p: GeoPoint) -> Result<DanishPoint, FieldError> {
        DanishPoint::new(p)
    }
}

impl From<DanishPoint> for GeoPoint {
    fn from(p: DanishPoint) -> GeoPoint {
        p.0
    }
}

/// A home location coarsened to the nearest point of a grid of about 250 m
/// ([`HOME_GRID_LAT_MICRODEGREES`] × [`HOME_GRID_LON_MICRODEGREES`]), so the exact address is
/// never kept. The only way to make one from exact coordinates is [`CoarseHome::snap`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoarseHome(GeoPoint);

fn snap_degrees(degrees: f64, step_microdegrees: i64) -> f64 {
    let steps = (degrees * 1e6 / step_microdegrees as f64).round() as i64;
    (steps * step_microdegrees) as f64 / 1e6
}

impl CoarseHome {
    /// Snaps a point to the nearest grid point; snapping a snapped point changes nothing.
    pub fn snap(point: DanishPoint) -> CoarseHome {
        CoarseHome::snap_point(point.point())
    }

    fn snap_point(p: GeoPoint) -> CoarseHome {
        let lat = snap_degrees(p.lat(), HOME_GRID_LAT_MICRODEGREES);
        let lon = snap_degrees(p.lon(), HOME_GRID_LON_MICRODEGREES);
        // A grid point next to a valid point is on the globe; keep the original if not.
        CoarseHome(GeoPoint::new(lat, lon).unwrap_or(p))
    }

    /// Reads a stored (already snapped) home location, snapping it again so a value that did
    /// not come through [`CoarseHome::snap`] is coarsened all the same.
    pub fn stored(lat: f64, lon: f64) -> Result<CoarseHome, FieldError> {
        Ok(CoarseHome::snap_point(GeoPoint::new(lat, lon)?))
    }

    /// The grid point.
    pub fn point(self) -> GeoPoint {
        self.0
    }
}

/// How far a citizen is willing to travel one way, in whole minutes
/// ([`MIN_MAX_TRAVEL_MINUTES`]..=[`MAX_MAX_TRAVEL_MINUTES`]; default
/// [`DEFAULT_MAX_TRAVEL_MINUTES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TravelLimit(u16);

impl Default for TravelLimit {
    fn default() -> TravelLimit {
        TravelLimit(DEFAULT_MAX_TRAVEL_MINUTES)
    }
}

impl TravelLimit {
    /// Accepts whole minutes in the allowed range, else `max_travel_minutes_range`.
    pub fn new(minutes: i64) -> Result<TravelLimit, FieldError> {
        u16::try_from(minutes)
            .ok()
            .filter(|m| (MIN_MAX_TRAVEL_MINUTES..=MAX_MAX_TRAVEL_MINUTES).contains(m))
            .map(TravelLimit)
            .ok_or_else(|| {
                FieldError::new(
                    "max_travel_minutes_range",
                    format!(
                        "the maximum travel time must be {MIN_MAX_TRAVEL_MINUTES} to {MAX_MAX_TRAVEL_MINUTES} minutes"
                    ),
                )
            })
    }

    /// The limit in minutes.
    pub fn minutes(self) -> u32 {
        u32::from(self.0)
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

    #[test]
    fn the_distance_from_randers_to_aarhus_is_about_36_km() {
        let randers = p(56.4607, 10.0364);
        let aarhus = p(56.1572, 10.2107);
        let km = haversine_m(randers, aarhus) / 1000.0;
        assert!((35.0..37.0).contains(&km), "{km}");
        assert_eq!(haversine_m(randers, randers), 0.0);
    }

    #[test]
    fn travel_time_is_distance_times_detour_over_speed_rounded_up() {
        // 1 km straight: walking 1.3 km at 4.8 km/h = 16.25 min → 17.
        assert_eq!(WALK.minutes_for(1000.0), 17);
        // Cycling 1.3 km at 15 km/h = 5.2 min → 6; car 1.4 km at 45 km/h = 1.87 → 2.
        assert_eq!(BICYCLE.minutes_for(1000.0), 6);
        assert_eq!(CAR.minutes_for(1000.0), 2);
        assert_eq!(MOPED.minutes_for(0.0), 0);
        assert_eq!(travel_minutes(TransportMode::PublicTransport, p(56.46, 10.03), p(56.47, 10.04)), None);
    }

    #[test]
    fn coordinates_abroad_or_swapped_are_outside_denmark() {
        assert!(DanishPoint::parse(56.4607, 10.0364).is_ok());
        assert!(DanishPoint::parse(55.1, 14.9).is_ok()); // Bornholm
        for (lat, lon) in [(10.0364, 56.4607), (52.52, 13.40), (59.91, 10.75), (0.0, 0.0)] {
            assert_eq!(DanishPoint::parse(lat, lon).unwrap_err().code, "outside_denmark", "{lat} {lon}");
        }
        assert_eq!(DanishPoint::parse(91.0, 10.0).unwrap_err().code, "geo_out_of_range");
    }

    #[test]
    fn a_home_is_snapped_to_the_250_m_grid() {
        let home = CoarseHome::snap(DanishPoint::parse(56.4607, 10.0364).unwrap()).point();
        assert_eq!((home.lat(), home.lon()), (56.4615, 10.036));
    }

    #[test]
    fn travel_limits_are_5_to_180_minutes_defaulting_to_45() {
        assert_eq!(TravelLimit::default().minutes(), 45);
        assert_eq!(TravelLimit::new(5).unwrap().minutes(), 5);
        assert_eq!(TravelLimit::new(180).unwrap().minutes(), 180);
        for bad in [-1, 0, 4, 181, 70_000] {
            assert_eq!(TravelLimit::new(bad).unwrap_err().code, "max_travel_minutes_range");
        }
    }

    proptest! {
        #[test]
        fn a_snapped_home_is_within_about_150_m_of_the_address_and_snapping_again_changes_nothing(
            lat in DENMARK_MIN_LAT..DENMARK_MAX_LAT, lon in DENMARK_MIN_LON..DENMARK_MAX_LON,
        ) {
            let exact = DanishPoint::parse(lat, lon).unwrap();
            let snapped = CoarseHome::snap(exact);
            // Half a cell diagonal: √(125² + 129²) ≈ 180 m at most.
            prop_assert!(haversine_m(exact.point(), snapped.point()) <= 185.0);
            let again = CoarseHome::stored(snapped.point().lat(), snapped.point().lon()).unwrap();
            prop_assert_eq!(again, snapped);
        }

        #[test]
        fn a_longer_way_never_takes_less_time(a in 0.0f64..200_000.0, b in 0.0f64..200_000.0) {
            let (near, far) = if a <= b { (a, b) } else { (b, a) };
            for model in [WALK, BICYCLE, MOPED, CAR] {
                prop_assert!(model.minutes_for(near) <= model.minutes_for(far));
            }
        }
    }
}
