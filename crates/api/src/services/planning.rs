//! Pay already planned for a citizen: approved placements' shifts not yet reported as worked.

use chrono::NaiveDate;
use smaajob_domain::{Money, WorkedTime, holiday_pay, pay_for};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::{placements, shift_reports};

use crate::services::error::ServiceError;

/// Expected gross pay (wage plus holiday pay) per shift of the citizen's approved placements
/// dated on or after `from`, leaving out shifts whose hours are already reported; date order.
pub fn planned_shifts(
    conn: &mut DbConn,
    citizen_id: &str,
    from: NaiveDate,
) -> Result<Vec<(NaiveDate, Money)>, ServiceError> {
    let mut planned = Vec::new();
    for (p, task) in placements::approved_of_citizen(conn, citizen_id)? {
        let reported: Vec<NaiveDate> =
            shift_reports::of_placement(conn, &p.id)?.into_iter().map(|r| r.shift_date).collect();
        let worked =
            u32::try_from(task.paid_minutes_per_shift).ok().and_then(WorkedTime::from_minutes).ok_or_else(|| {
                ServiceError::internal(format!("stored paid minutes per shift of task {} are invalid", task.id))
            })?;
        let wage = pay_for(worked, task.hourly_wage);
        let gross = Money::from_ore(wage.ore() + holiday_pay(wage).ore());
        for shift in task.schedule.shifts() {
            if shift.date >= from && !reported.contains(&shift.date) {
                planned.push((shift.date, gross));
            }
        }
    }
    planned.sort_by_key(|(d, _)| *d);
    Ok(planned)
}

/// The first date on which the planned pay, added in date order, reaches `remaining`.
pub fn reached_on(planned: &[(NaiveDate, Money)], remaining: Money) -> Option<NaiveDate> {
    if !remaining.is_positive() {
        return None;
    }
    let mut sum = 0i64;
    planned.iter().find_map(|(d, g)| {
        sum += g.ore();
        (sum >= remaining.ore()).then_some(*d)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, day).unwrap_or_default()
    }

    #[test]
    fn the_cap_is_reached_on_the_shift_that_uses_the_last_of_it() {
        let planned =
            [(d(1), Money::from_kroner(300)), (d(8), Money::from_kroner(300)), (d(15), Money::from_kroner(300))];
        assert_eq!(reached_on(&planned, Money::from_kroner(600)), Some(d(8)));
        assert_eq!(reached_on(&planned, Money::from_kroner(601)), Some(d(15)));
        assert_eq!(reached_on(&planned, Money::from_kroner(901)), None);
        assert_eq!(reached_on(&planned, Money::ZERO), None);
    }
}
