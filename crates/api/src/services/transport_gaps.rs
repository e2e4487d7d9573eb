//! The transport-gap report: for each open or unfilled task of the coordinator's municipality in
//! a period, and summed by the postcode of its work location, how many citizens match on
//! everything but travel, which mode and limit rule the rest out, and how many a bus within
//! their limit would bring there. It is the evidence a municipality takes to the transit
//! authority, so it carries counts only and names no citizen.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use smaajob_domain::matching::{CitizenFacts, Evaluation, Exclusion, PairFacts, evaluate};
use smaajob_domain::{TaskStatus, TransportMode};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::gtfs as feeds;
use smaajob_persistence::repo::matching::Who;
use smaajob_persistence::repo::tasks;

use crate::services::common::today_copenhagen;
use crate::services::error::ServiceError;
use crate::services::matching::{bus_minutes, gather, profile_as_of};
use crate::services::principal::Principal;
use crate::services::transit::{self, TransitCache};

/// The longest period one report covers.
pub const MAX_REPORT_DAYS: i64 = 366;
/// The most tasks one report weighs (by first date).
pub const MAX_REPORT_TASKS: i64 = 1000;

/// A period of days, both ends included, whose tasks the report covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GapPeriod {
    from: NaiveDate,
    to: NaiveDate,
}

impl GapPeriod {
    /// From `from` (default 30 days before today) to `to` (default 60 days after today); `from`
    /// must not be after `to`, and the period is at most [`MAX_REPORT_DAYS`].
    pub fn parse(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<GapPeriod, ServiceError> {
        let today = today_copenhagen();
        let from = from.unwrap_or(today - Duration::days(30));
        let to = to.unwrap_or(today + Duration::days(60));
        if to < from {
            return Err(ServiceError::field("from", "after_to", "`from` is after `to`"));
        }
        if (to - from).num_days() > MAX_REPORT_DAYS {
            return Err(ServiceError::field("to", "period_too_long", format!("at most {MAX_REPORT_DAYS} days")));
        }
        Ok(GapPeriod { from, to })
    }
}

/// What keeps the citizens who match on everything but travel from reaching a task.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum RuledOutBy {
    /// Their fastest known mode takes longer than their limit (or, for the bus, there is no
    /// trip in time and back).
    Mode(TransportMode),
    /// Their home location is not known.
    HomeUnknown,
    /// They declared no way to travel.
    NoMode,
}

impl RuledOutBy {
    /// The code: a transport mode, `home_unknown` or `no_mode`.
    pub fn code(&self) -> &'static str {
        match self {
            RuledOutBy::Mode(m) => m.as_str(),
            RuledOutBy::HomeUnknown => "home_unknown",
            RuledOutBy::NoMode => "no_mode",
        }
    }
}

/// How many citizens one mode and limit rule out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuledOut {
    /// What rules them out.
    pub by: RuledOutBy,
    /// Their limit on one-way travel, in minutes.
    pub limit_minutes: u32,
    /// How many citizens.
    pub count: u32,
}

/// The counts of one task or area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GapCounts {
    /// Citizens who pass every hard filter except travel.
    pub matching_but_travel: u32,
    /// Of those, how many reach the work within their limit by some mode of theirs.
    pub reachable: u32,
    /// Of those, how many reach it by bicycle within their limit.
    pub by_bicycle: u32,
    /// Of those, how many reach it by bus within their limit (a trip in time and one back).
    pub by_bus: u32,
    /// Of those, how many cannot reach it by any mode of theirs.
    pub unreachable: u32,
    /// Of the unreachable, how many ride the bus and have a known home: they would be
    /// reachable if a bus brought them to the site within their limit.
    pub would_reach_by_bus: u32,
}

impl GapCounts {
    fn add(&mut self, o: &GapCounts) {
        self.matching_but_travel += o.matching_but_travel;
        self.reachable += o.reachable;
        self.by_bicycle += o.by_bicycle;
        self.by_bus += o.by_bus;
        self.unreachable += o.unreachable;
        self.would_reach_by_bus += o.would_reach_by_bus;
    }
}

/// One task's line of the report.
#[derive(Debug, Clone)]
pub struct TaskGap {
    /// The task.
    pub task_id: String,
    /// Its title.
    pub title: String,
    /// The company's name.
    pub company_name: String,
    /// Its status: `open`, or `cancelled` / `completed` with positions never filled.
    pub status: TaskStatus,
    /// The address the company gave.
    pub address: Option<String>,
    /// The postcode read from the address, if any.
    pub postcode: Option<String>,
    /// The first day with a shift.
    pub first_date: NaiveDate,
    /// Positions wanted.
    pub positions: u32,
    /// Positions held by an approved or completed placement.
    pub filled: u32,
    /// The counts.
    pub counts: GapCounts,
    /// What rules out the unreachable, most first.
    pub ruled_out: Vec<RuledOut>,
}

/// One postcode's sums.
#[derive(Debug, Clone)]
pub struct AreaGap {
    /// The postcode (`None`: addresses without one).
    pub postcode: Option<String>,
    /// How many tasks.
    pub tasks: u32,
    /// The counts, summed over its tasks (a citizen counts once per task).
    pub counts: GapCounts,
    /// What rules out the unreachable, summed, most first.
    pub ruled_out: Vec<RuledOut>,
}

/// The transport-gap report of a municipality.
#[derive(Debug, Clone)]
pub struct TransportGaps {
    /// The municipality.
    pub municipality: String,
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub to: NaiveDate,
    /// The GTFS feed the bus times come from (`None`: no timetable imported).
    pub feed_id: Option<String>,
    /// Citizens of the municipality weighed.
    pub citizens: u32,
    /// The tasks, by first date.
    pub tasks: Vec<TaskGap>,
    /// Tasks in the period without a work location, left out.
    pub tasks_without_location: u32,
    /// The sums by postcode, by postcode.
    pub areas: Vec<AreaGap>,
}

/// The first four-digit number in an address between 1000 and 9999: a Danish postcode.
pub fn postcode(address: &str) -> Option<String> {
    address.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 4 && !w.starts_with('0')).map(str::to_owned)
}

/// Whether `mode` is one of the citizen's and within their limit.
fn within(e: &Evaluation, mode: TransportMode) -> bool {
    e.travel.iter().any(|t| t.mode == mode && t.within_limit)
}

/// What rules an unreachable citizen out: their fastest known mode, else why none is known.
fn ruled_out_by(e: &Evaluation, citizen: &CitizenFacts) -> RuledOutBy {
    if citizen.home.is_none() {
        return RuledOutBy::HomeUnknown;
    }
    let fastest = e.travel.iter().filter_map(|t| t.minutes.map(|m| (m, t.mode))).min();
    match fastest {
        Some((_, mode)) => RuledOutBy::Mode(mode),
        None if citizen.modes.contains(&TransportMode::PublicTransport) => {
            RuledOutBy::Mode(TransportMode::PublicTransport)
        }
        None => RuledOutBy::NoMode,
    }
}

/// Citizens ruled out, by what rules them out and their limit.
type Groups = BTreeMap<(RuledOutBy, u32), u32>;

fn sorted(groups: Groups) -> Vec<RuledOut> {
    let mut out: Vec<RuledOut> =
        groups.into_iter().map(|((by, limit_minutes), count)| RuledOut { by, limit_minutes, count }).collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| (&a.by, a.limit_minutes).cmp(&(&b.by, b.limit_minutes))));
    out
}

/// The transport-gap report of the coordinator's municipality for `period`: counts only.
pub fn transport_gaps(
    conn: &mut DbConn,
    principal: &Principal,
    period: GapPeriod,
    cache: &TransitCache,
) -> Result<TransportGaps, ServiceError> {
    let own = principal.coordinator()?.to_string();
    let today = today_copenhagen();
    let listed = tasks::unfilled_between(conn, &own, period.from, period.to, MAX_REPORT_TASKS)?;
    let mut tasks_without_location = 0u32;
    let mut profiles = Vec::new();
    for l in listed {
        if l.task.lat.is_none() || l.task.lon.is_none() {
            tasks_without_location += 1;
            continue;
        }
        // A task whose shifts are over is weighed as of its first shift in the period.
        let as_of = if l.task.last_date >= today { today } else { l.task.first_date.max(period.from) };
        let profile = profile_as_of(&l.task, as_of)?;
        profiles.push((l, profile, as_of));
    }
    let mut years: Vec<i32> = profiles.iter().filter_map(|(_, p, _)| p.pay_year()).collect();
    years.sort_unstable();
    years.dedup();
    let people = gather(conn, Who::Municipality(&own), &years)?;
    let feed_id = feeds::current(conn, &own)?.map(|f| f.id);

    let mut gaps = Vec::with_capacity(profiles.len());
    let mut areas: BTreeMap<Option<String>, (u32, GapCounts, Groups)> = BTreeMap::new();
    for (l, profile, as_of) in profiles {
        let bus = transit::for_task(conn, cache, &own, &l.task, profile.location(), as_of)?;
        let mut counts = GapCounts::default();
        let mut groups = Groups::new();
        for (_, citizen) in &people {
            let pair =
                PairFacts { public_transport_minutes: bus_minutes(bus.as_deref(), citizen), live_placement: false };
            let e = evaluate(&profile, citizen, pair, as_of);
            if e.exclusions.iter().any(|x| *x != Exclusion::Unreachable) {
                continue;
            }
            counts.matching_but_travel += 1;
            counts.by_bicycle += u32::from(within(&e, TransportMode::Bicycle));
            counts.by_bus += u32::from(within(&e, TransportMode::PublicTransport));
            if e.exclusions.is_empty() {
                counts.reachable += 1;
            } else {
                counts.unreachable += 1;
                if citizen.home.is_some() && citizen.modes.contains(&TransportMode::PublicTransport) {
                    counts.would_reach_by_bus += 1;
                }
                *groups.entry((ruled_out_by(&e, citizen), citizen.limit.minutes())).or_default() += 1;
            }
        }
        let code = l.task.address.as_deref().and_then(postcode);
        let area = areas.entry(code.clone()).or_default();
        area.0 += 1;
        area.1.add(&counts);
        for (k, n) in &groups {
            *area.2.entry(k.clone()).or_default() += n;
        }
        gaps.push(TaskGap {
            task_id: l.task.id.clone(),
            title: l.task.title.clone(),
            company_name: l.company_name,
            status: l.task.status,
            address: l.task.address.clone(),
            postcode: code,
            first_date: l.task.first_date,
            positions: u32::try_from(l.task.positions).unwrap_or(0),
            filled: u32::try_from(l.approved).unwrap_or(0),
            counts,
            ruled_out: sorted(groups),
        });
    }
    Ok(TransportGaps {
        municipality: own,
        from: period.from,
        to: period.to,
        feed_id,
        citizens: u32::try_from(people.len()).unwrap_or(u32::MAX),
        tasks: gaps,
        tasks_without_location,
        areas: areas
            .into_iter()
            .map(|(postcode, (tasks, counts, groups))| AreaGap { postcode, tasks, counts, ruled_out: sorted(groups) })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postcode_is_the_first_four_digit_number_of_the_address() {
        assert_eq!(postcode("Vestergade 1, 8900 Randers C").as_deref(), Some("8900"));
        assert_eq!(postcode("Industrivej 12, 8940 Randers SV").as_deref(), Some("8940"));
        assert_eq!(postcode("Blok 12345, Randers"), None);
        assert_eq!(postcode("Gade 0123"), None);
        assert_eq!(postcode("Langerak 1, Aalborg"), None);
    }
}
