//! The yearly frikort caps (beløbsgrænser): public figures every role reads. The statutory
//! amounts ship with the software; only the operator changes a cap, with a reason, after a
//! preview of what the change re-splits. A year without its own cap borrows the latest earlier
//! one, provisionally.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;
use sha2::{Digest, Sha256};
use smaajob_domain::{
    CapAmount, CapYear, FIRST_CAP_YEAR, Money, RegulationPercent, ResolvedCap, regulate, resolve_cap,
};
use smaajob_persistence::repo::audit::{self, NewAuditEntry};
use smaajob_persistence::repo::caps::{self, CapRow};
use smaajob_persistence::repo::{Page, accounting};
use smaajob_persistence::{DbConn, rolled_back};

use crate::services::allocation::{CapResplit, reallocate_after_cap_change, stored_amount};
use crate::services::audit::entry;
use crate::services::common::{optional_text, today_copenhagen};
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

/// The longest reason for a cap change, in characters.
pub const MAX_REASON: usize = 500;

/// Changes a year's cap.
#[derive(Debug, Clone)]
pub struct SetCap {
    /// The year.
    pub year: CapYear,
    /// The amount, or how to compute it.
    pub setting: CapSetting,
    /// Why the operator changes it (kept with the cap and in the audit log).
    pub reason: String,
}

impl SetCap {
    /// Parses a cap change: a frikort year, exactly one of an amount or a regulation percentage,
    /// and a reason (1–500 characters, no control, bidirectional or zero-width characters).
    pub fn parse(
        year: i32,
        amount: Option<&str>,
        regulation_percent: Option<&str>,
        reason: Option<&str>,
    ) -> Result<SetCap, ServiceError> {
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
        let text = optional_text(&mut f, "reason", reason, MAX_REASON);
        if text.is_none() && reason.is_none_or(|r| r.trim().is_empty()) {
            f.push("reason", "required", "give the reason for changing the statutory amount");
        }
        f.finish()?;
        Ok(SetCap { year: checked(year)?, setting: checked(setting)?, reason: checked(text)? })
    }
}

/// The fingerprint of one previewed cap change: what the operator confirms. It covers the year,
/// the new and the previous cap and every re-split citizen-year and changed payout split, so it
/// no longer matches once anything the change would do is different. The reason is not part of
/// it: it explains the change and moves no money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// A fingerprint as the caller sent it; any text is taken, and one that matches no preview
    /// is refused when the change is confirmed.
    pub fn given(text: &str) -> Fingerprint {
        Fingerprint(text.trim().to_owned())
    }

    /// The fingerprint as text (64 lower-case hexadecimal digits).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a cap change does in one municipality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MunicipalityImpact {
    /// The municipality code.
    pub municipality: String,
    /// Citizen-years of its citizens re-split.
    pub citizen_years: usize,
    /// Its citizens whose years are re-split.
    pub citizens: usize,
    /// Payouts of its citizens whose split changes.
    pub payouts: usize,
    /// The change of its citizens' exempt total (negative when the cap goes down).
    pub exempt_change: Money,
}

/// What a cap change does: the citizen-years it re-splits and the payouts whose split changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapImpact {
    /// The years re-split: the year changed and later years that use its cap provisionally.
    pub years: Vec<i32>,
    /// Citizen-years re-split (their cap changes).
    pub citizen_years: usize,
    /// Citizens whose years are re-split.
    pub citizens: usize,
    /// Employers with a payout whose split changes (they correct their eIndkomst reports).
    pub companies: usize,
    /// Payouts whose split changes (one adjustment each).
    pub payouts: usize,
    /// The change of the exempt total over every citizen (the taxable total changes by as much
    /// the other way).
    pub exempt_change: Money,
    /// The same by municipality, in code order (only municipalities with a re-split year).
    pub municipalities: Vec<MunicipalityImpact>,
}

/// A cap change, previewed or applied.
#[derive(Debug, Clone)]
pub struct CapChange {
    /// The cap as the change leaves it.
    pub cap: Cap,
    /// The cap in force before (provisional when the year had none of its own).
    pub previous: Cap,
    /// What the change re-splits.
    pub impact: CapImpact,
    /// The fingerprint to confirm this change with.
    pub fingerprint: Fingerprint,
}

/// Caps are public figures every role may read (the operator too); an unregistered company may
/// only register itself.
pub fn ensure_reader(principal: &Principal) -> Result<(), ServiceError> {
    match principal {
        Principal::NewCompany { .. } => Err(ServiceError::Unregistered),
        Principal::Operator { .. }
        | Principal::Coordinator { .. }
        | Principal::Company { .. }
        | Principal::Citizen { .. } => Ok(()),
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

/// Runs a cap change and rolls it back: the impact and fingerprint of exactly what
/// [`set`] would do now (the operator only). It runs the same code as [`set`], in a savepoint
/// that is undone, so the preview cannot differ from the change it previews.
pub fn preview(conn: &mut DbConn, principal: &Principal, cmd: &SetCap) -> Result<CapChange, ServiceError> {
    principal.operator()?;
    rolled_back(conn, |c| apply(c, principal, cmd))
}

/// Changes a year's cap by amount or by regulation of the previous year's cap (the operator
/// only, with the fingerprint of a [`preview`] of the same change), re-splits every citizen-year
/// that uses it (each changed split becomes an adjustment), and audits it: once scheme-wide, and
/// once in each municipality whose citizens' years were re-split. When the change would now do
/// anything other than what was previewed, nothing is changed (`cap_preview_stale`).
pub fn set(
    conn: &mut DbConn,
    principal: &Principal,
    cmd: &SetCap,
    confirm: Option<&Fingerprint>,
) -> Result<CapChange, ServiceError> {
    principal.operator()?;
    let confirm = confirm.ok_or_else(|| {
        ServiceError::conflict(
            Code::CapPreviewRequired,
            "a cap change re-splits citizens' years: preview it (POST /api/v1/caps/{year}/preview with the same body) and send its `confirm` value",
        )
    })?;
    let change = apply(conn, principal, cmd)?;
    if change.fingerprint != *confirm {
        // Returning an error rolls the whole transaction back: nothing of the change is kept.
        return Err(ServiceError::conflict(
            Code::CapPreviewStale,
            "the change would now do something other than the preview you confirmed (payouts or caps changed meanwhile, or the body differs): preview it again",
        ));
    }
    audit::append(conn, &audit_entries(principal, cmd, &change))?;
    Ok(change)
}

/// The change itself, shared by [`preview`] and [`set`].
fn apply(conn: &mut DbConn, principal: &Principal, cmd: &SetCap) -> Result<CapChange, ServiceError> {
    // First: no citizen-year may be split with the old cap after this, and a concurrent cap
    // change (which takes the same lock) waits, so the caps read below stay as read.
    accounting::lock_all_years(conn)?;
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
    let previous = get_unchecked(conn, year)?;
    let row = CapRow {
        year: year.get(),
        amount: amount.money(),
        regulation_percent: match cmd.setting {
            CapSetting::Regulation(p) => Some(p.get().normalize().to_string()),
            CapSetting::Amount(_) => None,
        },
        set_by: principal.sub().to_owned(),
        set_at: smaajob_persistence::repo::now(),
        reason: Some(cmd.reason.clone()),
    };
    caps::set(conn, &row)?;
    // Every citizen-year using this cap (directly or provisionally) is re-split now.
    let resplit = reallocate_after_cap_change(conn, row.year)?;
    let fingerprint = fingerprint(&row, &previous, &resplit);
    let impact = impact(&resplit)?;
    let cap = get_unchecked(conn, year)?;
    Ok(CapChange { cap, previous, impact, fingerprint })
}

/// SHA-256 over a canonical listing of the change: the year, the new cap and the one it
/// replaces, every re-split citizen-year and every changed split (by payout id).
fn fingerprint(row: &CapRow, previous: &Cap, resplit: &CapResplit) -> Fingerprint {
    let mut h = Sha256::new();
    let mut line = |text: String| {
        h.update(text.as_bytes());
        h.update(b"\n");
    };
    line(format!("smaajob cap change v1 {} {} {:?}", row.year, row.amount.ore(), row.regulation_percent));
    let p = &previous.resolved;
    line(format!("previous {} {} {}", p.amount.money().ore(), p.provisional, p.source_year));
    for y in &resplit.years {
        line(format!("year {} {}", y.year, y.citizen_id));
    }
    let mut changed: Vec<_> = resplit.adjustments.iter().collect();
    changed.sort_by(|a, b| a.payout_id.cmp(&b.payout_id));
    for a in changed {
        line(format!(
            "payout {} {} {} {} {}",
            a.payout_id,
            a.old_exempt.ore(),
            a.old_taxable.ore(),
            a.new_exempt.ore(),
            a.new_taxable.ore()
        ));
    }
    Fingerprint(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Counts what a re-split changed, in all and by municipality.
fn impact(resplit: &CapResplit) -> Result<CapImpact, ServiceError> {
    let overflow = || ServiceError::internal("the exempt change of a cap change overflows");
    let municipality_of: BTreeMap<&str, &str> =
        resplit.years.iter().map(|y| (y.citizen_id.as_str(), y.municipality.as_str())).collect();
    let mut by_municipality: BTreeMap<&str, (usize, BTreeSet<&str>, usize, Money)> = BTreeMap::new();
    for y in &resplit.years {
        let m = by_municipality.entry(&y.municipality).or_insert((0, BTreeSet::new(), 0, Money::ZERO));
        m.0 += 1;
        m.1.insert(&y.citizen_id);
    }
    let mut exempt_change = Money::ZERO;
    for a in &resplit.adjustments {
        let change = a.new_exempt.checked_sub(a.old_exempt).ok_or_else(overflow)?;
        exempt_change = exempt_change.checked_add(change).ok_or_else(overflow)?;
        let m = municipality_of
            .get(a.citizen_id.as_str())
            .and_then(|m| by_municipality.get_mut(m))
            .ok_or_else(|| ServiceError::internal("an adjustment of a citizen-year that was not re-split"))?;
        m.2 += 1;
        m.3 = m.3.checked_add(change).ok_or_else(overflow)?;
    }
    let years: BTreeSet<i32> = resplit.years.iter().map(|y| y.year).collect();
    Ok(CapImpact {
        years: years.into_iter().collect(),
        citizen_years: resplit.years.len(),
        citizens: municipality_of.len(),
        companies: resplit.adjustments.iter().map(|a| a.company_id.as_str()).collect::<BTreeSet<_>>().len(),
        payouts: resplit.adjustments.len(),
        exempt_change,
        municipalities: by_municipality
            .into_iter()
            .map(|(m, (citizen_years, citizens, payouts, exempt_change))| MunicipalityImpact {
                municipality: m.to_owned(),
                citizen_years,
                citizens: citizens.len(),
                payouts,
                exempt_change,
            })
            .collect(),
    })
}

/// The audit entries of an applied change: the whole change in the scheme-wide log, and in each
/// municipality whose citizens' years were re-split what it did there.
fn audit_entries(principal: &Principal, cmd: &SetCap, change: &CapChange) -> Vec<NewAuditEntry> {
    let year = change.cap.resolved.year.to_string();
    let amounts = serde_json::json!({
        "year": change.cap.resolved.year,
        "amount": change.cap.resolved.amount.money().to_string(),
        "previous_amount": change.previous.resolved.amount.money().to_string(),
        "previous_provisional": change.previous.resolved.provisional,
        "regulation_percent": change.cap.set.as_ref().and_then(|s| s.regulation_percent.clone()),
        "reason": cmd.reason,
    });
    let with = |extra: serde_json::Value| {
        let mut details = amounts.clone();
        if let (Some(d), Some(e)) = (details.as_object_mut(), extra.as_object()) {
            d.extend(e.clone());
        }
        details
    };
    let i = &change.impact;
    let scheme = with(serde_json::json!({
        "impact": {
            "years": i.years, "citizen_years": i.citizen_years, "citizens": i.citizens,
            "companies": i.companies, "payouts": i.payouts, "exempt_change": i.exempt_change.to_string(),
            "municipalities": i.municipalities.iter().map(|m| m.municipality.as_str()).collect::<Vec<_>>(),
        },
        "confirm": change.fingerprint.as_str(),
    }));
    let mut entries = vec![entry(principal, "cap.set", "cap", &year, None, Some(scheme))];
    for m in &i.municipalities {
        let local = with(serde_json::json!({
            "impact": {
                "citizen_years": m.citizen_years, "citizens": m.citizens, "payouts": m.payouts,
                "exempt_change": m.exempt_change.to_string(),
            },
        }));
        entries.push(entry(principal, "cap.resplit", "cap", &year, Some(&m.municipality), Some(local)));
    }
    entries
}

/// One year's cap (provisional when not set), for any caller.
fn get_unchecked(conn: &mut DbConn, year: CapYear) -> Result<Cap, ServiceError> {
    let (rows, set) = load_set(conn)?;
    resolve_cap(year, &set).map(|r| cap(r, &rows)).ok_or_else(|| ServiceError::internal("no cap resolves"))
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
