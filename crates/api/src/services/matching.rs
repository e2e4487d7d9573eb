//! Matching: the ranked, explained candidates for a task (coordinators) and the open tasks ranked
//! for a citizen (their suggestions); an offer to a candidate is the placements' offer. The facts are
//! read in bulk ([`smaajob_persistence::repo::matching`]) and weighed by the domain's engine
//! ([`smaajob_domain::matching`]); every list that names citizens is audited.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, NaiveDateTime};
use smaajob_domain::matching::{
    Booking, CitizenFacts, CoarseHome, Evaluation, FAIRNESS_WINDOW_DAYS, Headroom, PairFacts, Reason, TaskProfile,
    TravelLimit, evaluate, rank, reasons,
};
use smaajob_domain::{
    CardEventKind, CoveredDays, GeoPoint, Money, Skill, TaskStatus, YearTotals, active_periods, copenhagen_midnight_utc,
};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::citizens::CitizenRow;
use smaajob_persistence::repo::matching::{self as facts, Who};
use smaajob_persistence::repo::tasks::{ListedTask, TaskRow, TaskScope};
use smaajob_persistence::repo::{Page, citizens, tasks};

use crate::services::allocation::cap_for;
use crate::services::audit::{Audited, entry};
use crate::services::citizens::own_id;
use crate::services::common::today_copenhagen;
use crate::services::error::{Code, OrNotFound, ServiceError};
use crate::services::principal::Principal;
use crate::services::scope::{self, ScopedTask};
use crate::services::tasks::{holds_active_card, stored_paid_minutes};

/// The most candidates one list may ask for.
pub const MAX_CANDIDATES: usize = 100;
/// Candidates listed unless a limit is given.
pub const DEFAULT_CANDIDATES: usize = 20;

/// What a candidate list asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CandidateQuery {
    /// How many candidates at most.
    pub limit: usize,
    /// Whether the citizens left out are listed too, with why.
    pub include_excluded: bool,
}

impl CandidateQuery {
    /// `limit` 1 to [`MAX_CANDIDATES`] (default [`DEFAULT_CANDIDATES`]); a field error otherwise.
    pub fn parse(limit: Option<i64>, include_excluded: Option<bool>) -> Result<CandidateQuery, ServiceError> {
        let limit = match limit {
            None => DEFAULT_CANDIDATES,
            Some(n) => usize::try_from(n).ok().filter(|n| (1..=MAX_CANDIDATES).contains(n)).ok_or_else(|| {
                ServiceError::field("limit", "out_of_range", format!("between 1 and {MAX_CANDIDATES} candidates"))
            })?,
        };
        Ok(CandidateQuery { limit, include_excluded: include_excluded.unwrap_or(false) })
    }
}

/// One citizen as matched against a task: who, the evaluation, and its reasons.
#[derive(Debug, Clone)]
pub struct Matched {
    /// The citizen's id.
    pub citizen_id: String,
    /// The citizen's name.
    pub citizen_name: String,
    /// The travel limit the evaluation used.
    pub limit: TravelLimit,
    /// The engine's evaluation.
    pub evaluation: Evaluation,
    /// The readable reasons, in Danish and English.
    pub reasons: Vec<Reason>,
}

/// A task's ranked candidates.
#[derive(Debug, Clone)]
pub struct Candidates {
    /// The task.
    pub task_id: String,
    /// How many citizens of the municipality were weighed.
    pub considered: usize,
    /// How many passed every hard filter.
    pub candidate_count: usize,
    /// How many were left out.
    pub excluded_count: usize,
    /// The best candidates, best first.
    pub candidates: Vec<Matched>,
    /// The citizens left out, by id (only when asked for).
    pub excluded: Vec<Matched>,
}

/// A task ranked for a citizen.
#[derive(Debug, Clone)]
pub struct Suggestion {
    /// The task.
    pub task: TaskRow,
    /// The company's name.
    pub company_name: String,
    /// The evaluation.
    pub evaluation: Evaluation,
    /// The readable reasons.
    pub reasons: Vec<Reason>,
}

/// The facts of a task for the engine; a task without a work location cannot be matched.
fn profile(task: &TaskRow) -> Result<TaskProfile, ServiceError> {
    let (Some(lat), Some(lon)) = (task.lat, task.lon) else {
        return Err(ServiceError::rule(
            Code::TaskWithoutLocation,
            "the task has no work location (place.lat and place.lon); give one so travel times can be told",
        ));
    };
    let location = GeoPoint::new(lat, lon)
        .map_err(|_| ServiceError::internal(format!("stored location of task {} is invalid", task.id)))?;
    let skills = task
        .required_skills
        .0
        .iter()
        .map(|s| Skill::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ServiceError::internal(format!("a stored skill is invalid: {e}")))?;
    Ok(TaskProfile::new(
        task.schedule.0.clone(),
        stored_paid_minutes(task)?,
        task.hourly_wage,
        task.frikort_only,
        skills,
        &format!("{} {}", task.title, task.description),
        location,
        today_copenhagen(),
    ))
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::internal(format!("stored {what} is corrupt: {e}"))
}

/// Reads every fact the engine needs about the citizens named by `who`, in a handful of
/// queries; headroom is read for `years`.
fn gather(conn: &mut DbConn, who: Who<'_>, years: &[i32]) -> Result<Vec<(CitizenRow, CitizenFacts)>, ServiceError> {
    let today = today_copenhagen();
    let rows = facts::citizens_of(conn, who)?;

    let mut events: HashMap<String, Vec<(CardEventKind, NaiveDateTime)>> = HashMap::new();
    for (citizen, kind, at) in facts::card_events(conn, who)? {
        let kind = CardEventKind::parse(&kind).ok_or_else(|| corrupt("card event kind", &kind))?;
        events.entry(citizen).or_default().push((kind, at));
    }
    let mut bookings: HashMap<String, Vec<Booking>> = HashMap::new();
    for (citizen, task) in facts::approved_tasks(conn, who)? {
        let booking = Booking { paid_minutes_per_shift: stored_paid_minutes(&task)?, schedule: task.schedule.0 };
        bookings.entry(citizen).or_default().push(booking);
    }
    let since_day = today - Duration::days(FAIRNESS_WINDOW_DAYS);
    let mut offers: HashMap<String, u32> = HashMap::new();
    let since = copenhagen_midnight_utc(since_day).unwrap_or_else(|| since_day.and_time(chrono::NaiveTime::MIN));
    for citizen in facts::offers_since(conn, who, since)? {
        *offers.entry(citizen).or_default() += 1;
    }
    let mut worked: HashMap<String, u32> = HashMap::new();
    for (citizen, minutes) in facts::worked_since(conn, who, since_day)? {
        *worked.entry(citizen).or_default() += u32::try_from(minutes).unwrap_or(0);
    }
    let mut caps = BTreeMap::new();
    let mut exempt: HashMap<String, BTreeMap<i32, i64>> = HashMap::new();
    for &year in years {
        caps.insert(year, cap_for(conn, year)?.amount.money());
        for (citizen, ore) in facts::exempt_in(conn, who, year)? {
            exempt.entry(citizen).or_default().insert(year, ore);
        }
    }

    rows.into_iter()
        .map(|row| {
            let periods = events.remove(&row.id).map(|e| active_periods(&e)).unwrap_or_default();
            let active_now = periods.last().is_some_and(|p| p.to.is_none());
            let headroom = if active_now {
                caps.iter()
                    .map(|(&year, cap)| {
                        let used = exempt.get(&row.id).and_then(|y| y.get(&year)).copied().unwrap_or(0);
                        let totals = YearTotals { exempt: Money::from_ore(used), ..YearTotals::empty(*cap) };
                        Headroom { year, left: totals.remaining() }
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let mut skills = row
                .skills
                .0
                .iter()
                .map(|s| Skill::parse(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| corrupt("skill", e))?;
            skills.sort();
            let availability = row.availability.0.clone();
            let modes = row.transport_modes.0.clone();
            let home = match (row.home_lat, row.home_lon) {
                (Some(lat), Some(lon)) => Some(CoarseHome::stored(lat, lon).map_err(|e| corrupt("home", e))?),
                _ => None,
            };
            let limit = TravelLimit::new(i64::from(row.max_travel_minutes)).map_err(|e| corrupt("travel limit", e))?;
            let citizen = CitizenFacts {
                key: row.id.clone(),
                birth_date: row.birth_date,
                card_days: CoveredDays::new(&periods),
                skills,
                availability,
                home,
                modes,
                limit,
                bookings: bookings.remove(&row.id).unwrap_or_default(),
                headroom,
                recent_offers: offers.get(&row.id).copied().unwrap_or(0),
                recent_paid_minutes: worked.get(&row.id).copied().unwrap_or(0),
                enrolled_on: row.created_at.date(),
            };
            Ok((row, citizen))
        })
        .collect()
}

fn matched(row: &CitizenRow, citizen: &CitizenFacts, evaluation: Evaluation) -> Matched {
    let today = today_copenhagen();
    Matched {
        citizen_id: row.id.clone(),
        citizen_name: row.name.clone(),
        limit: citizen.limit,
        reasons: reasons(&evaluation, citizen, today),
        evaluation,
    }
}

/// The ranked candidates for a task of the coordinator's municipality (another municipality's
/// task is not found), with every citizen named logged in the audit trail.
pub fn candidates(
    conn: &mut DbConn,
    principal: &Principal,
    task_id: &str,
    query: CandidateQuery,
) -> Result<Audited<Candidates>, ServiceError> {
    let own = principal.coordinator()?.to_string();
    let ScopedTask { task, .. } = scope::task(conn, principal, task_id)?;
    let profile = profile(&task)?;
    let years: Vec<i32> = profile.pay_year().into_iter().collect();
    let people = gather(conn, Who::Municipality(&own), &years)?;
    let live: HashSet<String> = facts::live_on_task(conn, task_id)?.into_iter().collect();
    let (rows, citizens): (Vec<CitizenRow>, Vec<CitizenFacts>) = people.into_iter().unzip();
    let pair = |i: usize| PairFacts { public_transport_minutes: None, live_placement: live.contains(&citizens[i].key) };
    let ranking = rank(&profile, &citizens, pair, query.limit, query.include_excluded, today_copenhagen());
    let write = |r: smaajob_domain::matching::Ranked| matched(&rows[r.index], &citizens[r.index], r.evaluation);
    let listed = Candidates {
        task_id: task.id.clone(),
        considered: citizens.len(),
        candidate_count: ranking.candidate_count,
        excluded_count: ranking.excluded_count,
        candidates: ranking.candidates.into_iter().map(write).collect(),
        excluded: ranking.excluded.into_iter().map(write).collect(),
    };
    let entries = listed
        .candidates
        .iter()
        .map(|m| (m, "candidate"))
        .chain(listed.excluded.iter().map(|m| (m, "excluded")))
        .map(|(m, as_what)| {
            let details = serde_json::json!({ "task_id": task.id, "listed_as": as_what });
            entry(principal, "citizen.matched", "citizen", &m.citizen_id, Some(&own), Some(details))
        })
        .collect();
    Ok(Audited::new(listed, entries))
}

/// The most open tasks a citizen's suggestions weigh.
const MAX_SUGGESTION_TASKS: i64 = 500;

/// One page of suggestions, and how many there are in all.
#[derive(Debug, Clone)]
pub struct Suggestions {
    /// The suggestions of this page, best first.
    pub items: Vec<Suggestion>,
    /// How many tasks are suggested in all.
    pub total: i64,
    /// The page.
    pub page: Page,
}

/// One page of the open tasks of the calling citizen's municipality they can take, best first,
/// with reasons; tasks without a work location or that the citizen is left out of are not
/// shown. Only the citizen's own facts are read, and the read is logged.
pub fn suggestions(conn: &mut DbConn, principal: &Principal, page: Page) -> Result<Audited<Suggestions>, ServiceError> {
    let id = own_id(principal)?;
    let (row, _) = citizens::find(conn, &id).or_not_found("citizen")?;
    let card_holder = holds_active_card(conn, &id)?;
    let scope = TaskScope::OpenIn { municipality: row.municipality.clone(), card_holder };
    let all = Page { limit: MAX_SUGGESTION_TASKS, offset: 0 };
    let (open, _) = tasks::list(conn, &scope, Some(TaskStatus::Open), all)?;
    let profiles: Vec<(ListedTask, TaskProfile)> = open
        .into_iter()
        .filter(|l| l.task.lat.is_some() && l.task.lon.is_some())
        .map(|l| profile(&l.task).map(|p| (l, p)))
        .collect::<Result<_, _>>()?;
    let mut years: Vec<i32> = profiles.iter().filter_map(|(_, p)| p.pay_year()).collect();
    years.sort_unstable();
    years.dedup();
    let (_, citizen) = gather(conn, Who::Citizen(&id), &years)?.pop().ok_or(ServiceError::NotFound("citizen"))?;
    let live: HashSet<String> = facts::live_tasks_of(conn, &id)?.into_iter().collect();
    let today = today_copenhagen();
    let mut out: Vec<Suggestion> = profiles
        .into_iter()
        .filter_map(|(listed, profile)| {
            let pair = PairFacts { public_transport_minutes: None, live_placement: live.contains(&listed.task.id) };
            let evaluation = evaluate(&profile, &citizen, pair, today);
            evaluation.is_candidate().then(|| Suggestion {
                reasons: reasons(&evaluation, &citizen, today),
                evaluation,
                company_name: listed.company_name,
                task: listed.task,
            })
        })
        .collect();
    out.sort_by(|a, b| b.evaluation.score().cmp(&a.evaluation.score()).then_with(|| a.task.id.cmp(&b.task.id)));
    let total = i64::try_from(out.len()).unwrap_or(i64::MAX);
    let skip = usize::try_from(page.offset).unwrap_or(usize::MAX);
    let take = usize::try_from(page.limit).unwrap_or(0);
    let items = out.into_iter().skip(skip).take(take).collect();
    let logged = entry(principal, "citizen.suggestions_read", "citizen", &id, Some(&row.municipality), None);
    Ok(Audited::new(Suggestions { items, total, page }, vec![logged]))
}
