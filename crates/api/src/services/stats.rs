//! Time-to-placement statistics: how long a municipality's tasks wait from opening to each
//! approved placement, the figure the jobcenter wants down.

use chrono::{Duration, NaiveDate};
use smaajob_domain::{PlacementState, nearest_rank};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::{placements, tasks};

use crate::services::common::{start_of_day_utc, today_copenhagen};
use crate::services::error::ServiceError;
use crate::services::principal::Principal;
use crate::services::tasks::stored_positions;

/// The longest period the statistics cover, in days (about ten years).
const MAX_PERIOD_DAYS: i64 = 3_660;

/// A period of Copenhagen calendar days, both ends included.
#[derive(Debug, Clone, Copy)]
pub struct StatsPeriod {
    from: NaiveDate,
    to: NaiveDate,
}

impl StatsPeriod {
    /// The period from `from` (default: 90 days before `to`) to `to` (default: today); `from`
    /// must not be after `to`, and the period at most ten years.
    pub fn parse(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<StatsPeriod, ServiceError> {
        let to = to.unwrap_or_else(today_copenhagen);
        let from = from.unwrap_or(to - Duration::days(90));
        if from > to {
            return Err(ServiceError::field("from", "after_to", "`from` is after `to`"));
        }
        if (to - from).num_days() > MAX_PERIOD_DAYS {
            return Err(ServiceError::field("from", "period_too_long", "at most ten years"));
        }
        Ok(StatsPeriod { from, to })
    }
}

/// Time to placement for one municipality.
#[derive(Debug, Clone)]
pub struct PlacementFigures {
    /// The municipality.
    pub municipality: String,
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period.
    pub to: NaiveDate,
    /// Tasks opened in the period.
    pub tasks_opened: u32,
    /// Positions of those tasks.
    pub positions: u32,
    /// Positions held by an approved placement or worked to completion.
    pub positions_filled: u32,
    /// Approved placements on those tasks, refills included.
    pub placements_approved: u32,
    /// Median whole hours from a task opening to an approved placement on it.
    pub median_hours_to_placement: Option<i64>,
    /// 90th percentile of those hours.
    pub p90_hours_to_placement: Option<i64>,
}

fn count(n: usize) -> Result<u32, ServiceError> {
    u32::try_from(n).map_err(|_| ServiceError::internal(format!("{n} is too many to count")))
}

/// The coordinator's municipality's time to placement for tasks opened in the period.
pub fn placement_figures(
    conn: &mut DbConn,
    principal: &Principal,
    period: StatsPeriod,
) -> Result<PlacementFigures, ServiceError> {
    let own = principal.coordinator()?.to_string();
    // The period is in Copenhagen calendar days, like everything the jobcenter reads.
    let (start, end) = (start_of_day_utc(period.from), start_of_day_utc(period.to + Duration::days(1)));
    let opened = tasks::opened_between(conn, &own, start, end)?;
    let ids: Vec<String> = opened.iter().map(|t| t.id.clone()).collect();
    let placed = placements::ever_approved_of_tasks(conn, &ids)?;
    let hours: Vec<i64> = placed
        .iter()
        .filter_map(|p| {
            let task = opened.iter().find(|t| t.id == p.task_id)?;
            Some((p.approved_at? - task.opened_at?).num_hours().max(0))
        })
        .collect();
    // Filled = held now or worked to the end; a position refilled after a cancellation or
    // no-show is one position, placed twice (both placements count in placements_approved).
    let (mut positions, mut positions_filled) = (0u32, 0u32);
    for t in &opened {
        let wanted = stored_positions(t)?;
        let mut holding = 0u32;
        for p in placed.iter().filter(|p| p.task_id == t.id) {
            if matches!(p.state, PlacementState::Approved | PlacementState::Completed) {
                holding += 1;
            }
        }
        positions += wanted;
        positions_filled += holding.min(wanted);
    }
    Ok(PlacementFigures {
        municipality: own,
        from: period.from,
        to: period.to,
        tasks_opened: count(opened.len())?,
        positions,
        positions_filled,
        placements_approved: count(hours.len())?,
        median_hours_to_placement: nearest_rank(&hours, 50),
        p90_hours_to_placement: nearest_rank(&hours, 90),
    })
}
