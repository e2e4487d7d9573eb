//! The yearly frikort caps (beløbsgrænser): public figures every role reads, set by coordinators.
//! A year without its own cap borrows the latest earlier one, provisionally.

use std::collections::BTreeMap;

use chrono::Datelike;
use smaajob_domain::{
    CapAmount, CapYear, FIRST_CAP_YEAR, Money, RegulationPercent, ResolvedCap, regulate, resolve_cap,
};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::caps::{self, CapRow};
use smaajob_persistence::repo::{Page, accounting, audit};

use crate::services::allocation::reallocate_after_cap_change;
use crate::services::audit::entry;
use crate::services::common::today_copenhagen;
use crate::services::error::{Code, Fields, ServiceError, checked};
use crate::services::principal::Principal;

/// A year's cap, and the stored row when the year has its own.
#[derive(Debug, Clone)]
pub struct Cap {
    /// The cap in force and where it comes from.
    pub resolved: ResolvedCap,
    /// The year's own setting; `None` while provisional.
    pub set: Option<CapRow>,
}

/// A page of caps, oldest year first.
#[derive(Debug, Clone)]
pub struct CapList {
    /// The caps of this page.
    pub items: Vec<Cap>,
    /// How many years the list has in all.
    pub total: i64,
    /// The page.
    pub page: Page,
}

/// How a new cap is given.
#[derive(Debug, Clone, Copy)]
pub enum CapSetting {
    /// As an amount.
    Amount(CapAmount),
    /// As a regulation of the previous year's cap.
    Regulation(RegulationPercent),
}

/// Sets a year's cap.
#[derive(Debug, Clone, Copy)]
pub struct SetCap {
    /// The year.
    pub year: CapYear,
    /// The amount, or how to compute it.
    pub setting: CapSetting,
}

impl SetCap {
    /// Parses a new cap: a frikort year and exactly one of an amount or a regulation percentage.
    pub fn parse(year: i32, amount: Option<&str>, regulation_percent: Option<&str>) -> Result<SetCap, ServiceError> {
        let mut f = Fields::new();
        let year = f.check("year", CapYear::parse(year));
        let setting = match (amount, regulation_percent) {
            (Some(a), None) => f.check("amount", CapAmount::parse(a)).map(CapSetting::Amount),
            (None, Some(p)) => f.check("regulation_percent", RegulationPercent::parse(p)).map(CapSetting::Regulation),
            _ => {
                f.push("amount", "one_of_amount_or_percent", "give exactly one of `amount` or `regulation_percent`");
                None
            }
        };
        f.finish()?;
        Ok(SetCap { year: checked(year)?, setting: checked(setting)? })
    }
}

/// Caps are public figures every role may read; an unregistered company may only register itself.
pub fn ensure_reader(principal: &Principal) -> Result<(), ServiceError> {
    match principal {
        Principal::NewCompany { .. } => Err(ServiceError::Unregistered),
        _ => Ok(()),
    }
}

/// Every year from 2019 through next year (or the last year set), provisional where not set;
/// one page of them.
pub fn list(conn: &mut DbConn, principal: &Principal, page: Page) -> Result<CapList, ServiceError> {
    ensure_reader(principal)?;
    let (rows, set) = load_set(conn)?;
    let last = set.keys().next_back().copied().unwrap_or(FIRST_CAP_YEAR).max(today_copenhagen().year() + 1);
    let all: Vec<Cap> = (FIRST_CAP_YEAR..=last)
        .filter_map(|y| CapYear::parse(y).ok())
        .filter_map(|y| resolve_cap(y, &set))
        .map(|r| cap(r, &rows))
        .collect();
    let total = i64::try_from(all.len()).map_err(|e| ServiceError::internal(e.to_string()))?;
    let skip = usize::try_from(page.offset).map_err(|e| ServiceError::internal(e.to_string()))?;
    let take = usize::try_from(page.limit).map_err(|e| ServiceError::internal(e.to_string()))?;
    Ok(CapList { items: all.into_iter().skip(skip).take(take).collect(), total, page })
}

/// One year's cap, provisional if it is not set yet.
pub fn get(conn: &mut DbConn, principal: &Principal, year: CapYear) -> Result<Cap, ServiceError> {
    ensure_reader(principal)?;
    let (rows, set) = load_set(conn)?;
    resolve_cap(year, &set).map(|r| cap(r, &rows)).ok_or(ServiceError::NotFound("cap"))
}

/// The cap in force for a year, provisional when the year has none of its own.
pub fn in_force(conn: &mut DbConn, year: CapYear) -> Result<ResolvedCap, ServiceError> {
    let (_, set) = load_set(conn)?;
    resolve_cap(year, &set).ok_or_else(|| ServiceError::internal(format!("no cap resolves for {}", year.get())))
}

/// Sets a year's cap by amount or by regulation of the previous year's cap (coordinators), and
/// re-splits every citizen-year that uses it; each changed split becomes an adjustment.
pub fn set(conn: &mut DbConn, principal: &Principal, cmd: SetCap) -> Result<Cap, ServiceError> {
    let municipality = principal.coordinator()?;
    let year = cmd.year;
    let amount = match cmd.setting {
        CapSetting::Amount(a) => a,
        CapSetting::Regulation(pct) => {
            let previous = caps::find(conn, year.get() - 1)?.ok_or_else(|| {
                ServiceError::conflict(
                    Code::PreviousCapNotSet,
                    format!("regulation needs the {} cap to be set first", year.get() - 1),
                )
            })?;
            regulate(stored_amount(&previous)?, pct)
                .map_err(|e| ServiceError::field("regulation_percent", "out_of_range", e.to_string()))?
        }
    };
    // Before the cap is written: no citizen-year may be split with the old cap after this.
    accounting::lock_all_years(conn)?;
    let before = caps::find(conn, year.get())?;
    let row = CapRow {
        year: year.get(),
        amount_ore: amount.money().ore(),
        regulation_percent: match cmd.setting {
            CapSetting::Regulation(p) => Some(p.get().normalize().to_string()),
            CapSetting::Amount(_) => None,
        },
        set_by: principal.sub().to_owned(),
        set_at: smaajob_persistence::repo::now(),
    };
    caps::set(conn, &row)?;
    // Every citizen-year using this cap (directly or provisionally) is re-split now.
    let adjustments = reallocate_after_cap_change(conn, row.year)?;
    let details = serde_json::json!({
        "year": row.year,
        "amount": amount.money().to_string(),
        "previous_amount": before.map(|b| Money::from_ore(b.amount_ore).to_string()),
        "regulation_percent": row.regulation_percent,
        "adjustments": adjustments,
    });
    let logged =
        entry(principal, "cap.set", "cap", &row.year.to_string(), Some(&municipality.to_string()), Some(details));
    audit::append(conn, &[logged])?;
    let (rows, set) = load_set(conn)?;
    resolve_cap(year, &set).map(|r| cap(r, &rows)).ok_or_else(|| ServiceError::internal("the cap just set vanished"))
}

fn cap(resolved: ResolvedCap, rows: &[CapRow]) -> Cap {
    let set = rows.iter().find(|r| r.year == resolved.year && !resolved.provisional).cloned();
    Cap { resolved, set }
}

/// Every stored cap, and the amounts by year; a stored amount that does not read is an error.
fn load_set(conn: &mut DbConn) -> Result<(Vec<CapRow>, BTreeMap<i32, CapAmount>), ServiceError> {
    let rows = caps::list(conn)?;
    let set = rows.iter().map(|r| Ok((r.year, stored_amount(r)?))).collect::<Result<_, ServiceError>>()?;
    Ok((rows, set))
}

fn stored_amount(row: &CapRow) -> Result<CapAmount, ServiceError> {
    Some(row.amount_ore)
        .filter(|ore| ore % 100 == 0)
        .and_then(|ore| CapAmount::from_kroner(ore / 100))
        .ok_or_else(|| ServiceError::internal(format!("the stored cap of {} is not a valid amount", row.year)))
}
