//! The ATP rate table: per year, what casual workers owe in ATP per hour paid (the employee's and
//! the employer's part). Scheme-wide data like the caps: every role reads it, only the operator
//! sets a year's rate, always with a reason, and each change is audited. A year without its own
//! rate uses the latest earlier year's rate, marked provisional.

use std::collections::BTreeMap;

use smaajob_domain::{AtpRate, CapYear, Money, ResolvedAtpRate, resolve_atp_rate};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::atp_rates::{self, AtpRateRow};
use smaajob_persistence::repo::now;

use crate::services::audit;
use crate::services::caps::ensure_reader;
use crate::services::common::optional_text;
use crate::services::error::{Fields, ServiceError, checked};
use crate::services::principal::Principal;

/// The longest reason kept.
const MAX_REASON: usize = 500;

/// A year's rate to set, checked.
#[derive(Debug, Clone)]
pub struct SetAtpRate {
    year: CapYear,
    rate: AtpRate,
    reason: String,
}

impl SetAtpRate {
    /// Parses a rate: a frikort year, both parts as DKK decimals per hour (0 to 100), and a
    /// reason (1–500 characters, no control, bidirectional or zero-width characters).
    pub fn parse(
        year: i32,
        employee_per_hour: &str,
        employer_per_hour: &str,
        reason: Option<&str>,
    ) -> Result<SetAtpRate, ServiceError> {
        let mut f = Fields::new();
        let year = f.check("year", CapYear::parse(year));
        let employee = f.check("employee_per_hour", Money::parse_non_negative(employee_per_hour));
        let employer = f.check("employer_per_hour", Money::parse_non_negative(employer_per_hour));
        let text = optional_text(&mut f, "reason", reason, MAX_REASON);
        if text.is_none() && reason.is_none_or(|r| r.trim().is_empty()) {
            f.push("reason", "required", "give the reason for the rate (the announcement of the year's ATP rates)");
        }
        let rate = match (employee, employer) {
            (Some(e), Some(r)) => match AtpRate::new(e, r) {
                Ok(rate) => Some(rate),
                Err(err) => {
                    let field = if e.ore() > smaajob_domain::MAX_ATP_ORE_PER_HOUR {
                        "employee_per_hour"
                    } else {
                        "employer_per_hour"
                    };
                    f.push(field, "out_of_range", err.to_string());
                    None
                }
            },
            _ => None,
        };
        f.finish()?;
        Ok(SetAtpRate { year: checked(year)?, rate: checked(rate)?, reason: checked(text)? })
    }
}

/// A year's rate as read: the rate in force, and the row that set it.
#[derive(Debug, Clone)]
pub struct AtpRateOfYear {
    /// The year asked for.
    pub year: i32,
    /// The rate in force for it.
    pub resolved: ResolvedAtpRate,
    /// The year's own row, or the earlier year's it uses provisionally.
    pub source: AtpRateRow,
}

fn stored(row: &AtpRateRow) -> Result<AtpRate, ServiceError> {
    AtpRate::new(row.employee_per_hour, row.employer_per_hour)
        .map_err(|e| ServiceError::internal(format!("the stored ATP rate of {} is invalid: {e}", row.year)))
}

/// The rate table as the domain reads it, with the rows that set it.
#[derive(Debug, Clone, Default)]
pub struct RateTable {
    /// The rate of each year that has one.
    pub rates: BTreeMap<i32, AtpRate>,
    /// The row of each such year.
    pub rows: BTreeMap<i32, AtpRateRow>,
}

/// The stored table.
pub fn table(conn: &mut DbConn) -> Result<RateTable, ServiceError> {
    let rows = atp_rates::list(conn)?;
    let rates = rows.iter().map(|r| Ok((r.year, stored(r)?))).collect::<Result<_, ServiceError>>()?;
    Ok(RateTable { rates, rows: rows.into_iter().map(|r| (r.year, r)).collect() })
}

/// The rate in force for a year, or `None` when no year up to it has one.
pub fn in_force(conn: &mut DbConn, year: i32) -> Result<Option<ResolvedAtpRate>, ServiceError> {
    Ok(resolve_atp_rate(year, &table(conn)?.rates))
}

/// Every year with a rate of its own, in year order (every role but an unregistered company).
pub fn list(conn: &mut DbConn, principal: &Principal) -> Result<Vec<AtpRateRow>, ServiceError> {
    ensure_reader(principal)?;
    Ok(atp_rates::list(conn)?)
}

/// One year's rate in force, provisional when it is an earlier year's; 404 when no year up to it
/// has a rate.
pub fn get(conn: &mut DbConn, principal: &Principal, year: CapYear) -> Result<AtpRateOfYear, ServiceError> {
    ensure_reader(principal)?;
    let RateTable { rates, rows } = table(conn)?;
    let resolved = resolve_atp_rate(year.get(), &rates).ok_or(ServiceError::NotFound("ATP rate"))?;
    let source =
        rows.get(&resolved.source_year).cloned().ok_or_else(|| ServiceError::internal("a resolved rate has no row"))?;
    Ok(AtpRateOfYear { year: year.get(), resolved, source })
}

/// Sets a year's rate (the operator only) and audits it with the previous rate. Runs in a write
/// transaction.
pub fn set(conn: &mut DbConn, principal: &Principal, cmd: &SetAtpRate) -> Result<AtpRateOfYear, ServiceError> {
    principal.operator()?;
    let year = cmd.year.get();
    let previous = resolve_atp_rate(year, &table(conn)?.rates);
    let row = AtpRateRow {
        year,
        employee_per_hour: cmd.rate.employee_per_hour(),
        employer_per_hour: cmd.rate.employer_per_hour(),
        set_by: principal.sub().to_owned(),
        set_at: now(),
        reason: cmd.reason.clone(),
    };
    atp_rates::set(conn, &row)?;
    let details = serde_json::json!({
        "year": year,
        "employee_per_hour": row.employee_per_hour.to_string(),
        "employer_per_hour": row.employer_per_hour.to_string(),
        "previous_employee_per_hour": previous.map(|p| p.rate.employee_per_hour().to_string()),
        "previous_employer_per_hour": previous.map(|p| p.rate.employer_per_hour().to_string()),
        "reason": cmd.reason,
    });
    audit::record(conn, audit::entry(principal, "atp_rate.set", "atp_rate", &year.to_string(), None, Some(details)))?;
    let resolved = ResolvedAtpRate { rate: cmd.rate, source_year: year, provisional: false };
    Ok(AtpRateOfYear { year, resolved, source: row })
}
