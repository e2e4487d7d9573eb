//! Bus times for matching: per task shift, one Connection Scan profile from the municipality's
//! stored GTFS feed serves every citizen ([`smaajob_domain::matching::transit`]). The profiles of a
//! task are kept in process, keyed by the feed's id (a new import is a new id) and the task's id
//! and `updated_at` (a change to the task is a new key), so they are built once until the feed or
//! the task changes. The day timetables they are scanned over are kept apart, by feed and the
//! services that run, so tasks on the same kind of day share one copy (a regional weekday is
//! about 25 MB).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{NaiveDate, NaiveDateTime, Timelike};
use smaajob_domain::GeoPoint;
use smaajob_domain::matching::{Connection, Timetable, TransitProfile};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::gtfs as repo;
use smaajob_persistence::repo::tasks::TaskRow;

use crate::services::error::ServiceError;

/// Tasks whose profiles are kept at most; past that the cache starts afresh.
const MAX_CACHED_TASKS: usize = 64;
/// Day timetables (distinct sets of services running) kept at most; past that they start afresh.
const MAX_CACHED_TIMETABLES: usize = 8;

/// The profiles of one task's shifts: one per distinct (services running, start, end).
#[derive(Debug)]
pub struct TaskTransit {
    shifts: Vec<(Arc<Timetable>, TransitProfile)>,
}

impl TaskTransit {
    /// The door-to-door minutes by bus from `home` that make every upcoming shift in the feed's
    /// days, arriving before it starts and with a way back: the longest of them; `None` when
    /// some shift cannot be reached, or no shift lies in the feed's days.
    pub fn minutes_from(&self, home: GeoPoint) -> Option<u32> {
        if self.shifts.is_empty() {
            return None;
        }
        self.shifts.iter().map(|(t, p)| t.minutes_from(p, home)).try_fold(0, |worst, m| m.map(|m| m.max(worst)))
    }

    /// How many profiles (distinct service days and times) were built.
    pub fn profile_count(&self) -> usize {
        self.shifts.len()
    }
}

/// Feed id, task id, the task's `updated_at`, and the day the shifts were counted from (a past
/// shift drops out of the profiles at midnight).
type Key = (String, String, NaiveDateTime, NaiveDate);

/// A feed's id and the services that run on a day.
type DayKey = (String, Vec<i32>);

/// The in-process cache of task profiles and day timetables, shared by every worker.
#[derive(Debug, Default)]
pub struct TransitCache {
    tasks: Mutex<HashMap<Key, Arc<TaskTransit>>>,
    timetables: Mutex<HashMap<DayKey, Arc<Timetable>>>,
}

impl TransitCache {
    /// An empty cache.
    pub fn new() -> TransitCache {
        TransitCache::default()
    }

    fn get(&self, key: &Key) -> Option<Arc<TaskTransit>> {
        self.tasks.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: Key, value: Arc<TaskTransit>) {
        if let Ok(mut tasks) = self.tasks.lock() {
            if tasks.len() >= MAX_CACHED_TASKS {
                tasks.clear();
            }
            tasks.insert(key, value);
        }
    }

    fn timetable(&self, key: &DayKey) -> Option<Arc<Timetable>> {
        self.timetables.lock().ok()?.get(key).cloned()
    }

    fn put_timetable(&self, key: DayKey, value: Arc<Timetable>) {
        if let Ok(mut days) = self.timetables.lock() {
            if days.len() >= MAX_CACHED_TIMETABLES {
                days.clear();
            }
            days.insert(key, value);
        }
    }
}

fn seconds(t: chrono::NaiveTime) -> u32 {
    t.num_seconds_from_midnight()
}

fn index(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The bus profiles of `task` at `site` from `municipality`'s feed, for its shifts from `today`
/// on; `None` when the municipality has no feed.
pub fn for_task(
    conn: &mut DbConn,
    cache: &TransitCache,
    municipality: &str,
    task: &TaskRow,
    site: GeoPoint,
    today: NaiveDate,
) -> Result<Option<Arc<TaskTransit>>, ServiceError> {
    let Some(feed) = repo::current(conn, municipality)? else {
        return Ok(None);
    };
    let key = (feed.id.clone(), task.id.clone(), task.updated_at, today);
    if let Some(hit) = cache.get(&key) {
        return Ok(Some(hit));
    }
    let (Some(first), Some(last)) = (feed.first_day, feed.last_day) else {
        return Ok(Some(Arc::new(TaskTransit { shifts: Vec::new() })));
    };
    // Shifts from today within the feed's days, grouped by the services that run that day and
    // the shift's times: each group is one timetable and one profile.
    let mut groups: BTreeMap<(Vec<i32>, u32, u32), ()> = BTreeMap::new();
    for shift in task.schedule.0.shifts().into_iter().filter(|s| s.date >= today && s.date >= first && s.date <= last) {
        let services = repo::services_on(conn, &feed.id, shift.date)?;
        groups.insert((services, seconds(shift.start), seconds(shift.end)), ());
    }
    let mut stops: Option<Vec<GeoPoint>> = None;
    let mut shifts = Vec::new();
    for (services, start, end) in groups.into_keys() {
        let day = (feed.id.clone(), services);
        let timetable = match cache.timetable(&day) {
            Some(t) => t,
            None => {
                let stops = match &stops {
                    Some(s) => s.clone(),
                    None => {
                        let read = repo::stops(conn, &feed.id)?
                            .into_iter()
                            .map(|s| {
                                GeoPoint::new(s.lat, s.lon).map_err(|_| {
                                    ServiceError::internal(format!("stored stop {} is invalid", s.stop_id))
                                })
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        stops.insert(read).clone()
                    }
                };
                let connections = repo::rides_of(conn, &feed.id, &day.1)?
                    .into_iter()
                    .map(|r| Connection {
                        from: index(r.from_stop),
                        to: index(r.to_stop),
                        departs: index(r.departs),
                        arrives: index(r.arrives),
                        trip: index(r.trip),
                    })
                    .collect();
                let t = Arc::new(Timetable::new(stops, connections));
                cache.put_timetable(day, Arc::clone(&t));
                t
            }
        };
        let profile = timetable.profile(site, start, end);
        shifts.push((timetable, profile));
    }
    let built = Arc::new(TaskTransit { shifts });
    cache.put(key, Arc::clone(&built));
    Ok(Some(built))
}
