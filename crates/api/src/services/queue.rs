//! The coordinator's work queue: everything in the municipality waiting on a coordinator,
//! oldest first within each list.

use chrono::{Datelike, NaiveDateTime};
use smaajob_domain::{CardStatus, Money, PlacementState, YearTotals, is_control_due};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::citizens::{self, CardFilter};
use smaajob_persistence::repo::companies::{self, CompanyRow};
use smaajob_persistence::repo::frikort::{self, CardRow};
use smaajob_persistence::repo::placements::{self, PlacementRow};
use smaajob_persistence::repo::shift_reports::{self, ShiftReportRow};
use smaajob_persistence::repo::tasks::TaskRow;
use smaajob_persistence::repo::{Page, accounting};

use crate::services::allocation::cap_for;
use crate::services::audit::{self, Audited};
use crate::services::common::today_copenhagen;
use crate::services::error::ServiceError;
use crate::services::guesses::{self, LockedOutCompany};
use crate::services::principal::Principal;

/// Offers unanswered for longer than this are chased.
pub const OFFER_CHASE_HOURS: i64 = 48;
/// Citizens who have used this share of their cap are watched.
pub const NEAR_CAP_PERCENT: i64 = 80;

/// A placement waiting on someone.
#[derive(Debug, Clone)]
pub struct WaitingPlacement {
    /// The placement.
    pub placement: PlacementRow,
    /// Its task.
    pub task: TaskRow,
    /// The citizen's name.
    pub citizen_name: String,
    /// Waiting since.
    pub since: NaiveDateTime,
    /// Whole hours waited.
    pub age_hours: i64,
}

/// Hours reported and not yet confirmed or disputed.
#[derive(Debug, Clone)]
pub struct WaitingHours {
    /// The report.
    pub report: ShiftReportRow,
    /// The citizen's name.
    pub citizen_name: String,
    /// The task's title.
    pub task_title: String,
    /// Whole hours waited.
    pub age_hours: i64,
}

/// A company waiting for verification.
#[derive(Debug, Clone)]
pub struct WaitingCompany {
    /// The company.
    pub company: CompanyRow,
    /// Whole hours since it registered.
    pub age_hours: i64,
}

/// An active card whose control is due this year or overdue.
#[derive(Debug, Clone)]
pub struct DueCard {
    /// The card.
    pub card: CardRow,
    /// The card holder's name.
    pub citizen_name: String,
}

/// A citizen who has used most of this year's frikort amount.
#[derive(Debug, Clone)]
pub struct NearCap {
    /// The citizen.
    pub citizen_id: String,
    /// The citizen's name.
    pub citizen_name: String,
    /// This year's cap.
    pub cap: Money,
    /// Used (exempt) so far.
    pub exempt: Money,
    /// What is left.
    pub remaining: Money,
    /// Share of the cap used, in percent (rounded down).
    pub used_percent: i64,
}

/// Everything waiting on the coordinator.
#[derive(Debug, Clone)]
pub struct Queue {
    /// Accepted placements awaiting approval.
    pub awaiting_approval: Vec<WaitingPlacement>,
    /// Offers the citizen has not answered for more than [`OFFER_CHASE_HOURS`].
    pub unanswered_offers: Vec<WaitingPlacement>,
    /// Reported hours not yet confirmed or disputed.
    pub unconfirmed_hours: Vec<WaitingHours>,
    /// Companies of the municipality awaiting verification.
    pub companies_awaiting_verification: Vec<WaitingCompany>,
    /// Active cards whose control of the conditions is due.
    pub cards_due_for_control: Vec<DueCard>,
    /// Citizens above [`NEAR_CAP_PERCENT`] of this year's cap.
    pub citizens_near_cap: Vec<NearCap>,
    /// Companies of the municipality locked out for wrong CPR or card numbers, now or in the
    /// last [`guesses::LOCKOUT_SHOWN_FOR`], latest lock first.
    pub companies_locked_out: Vec<LockedOutCompany>,
}

fn hours_since(t: NaiveDateTime, now: NaiveDateTime) -> i64 {
    (now - t).num_hours().max(0)
}

fn waiting(
    conn: &mut DbConn,
    municipality: &str,
    state: PlacementState,
    now: NaiveDateTime,
    since: fn(&PlacementRow) -> NaiveDateTime,
) -> Result<Vec<WaitingPlacement>, ServiceError> {
    Ok(placements::in_state_for_municipality(conn, municipality, state)?
        .into_iter()
        .map(|(placement, task, citizen_name)| {
            let since = since(&placement);
            WaitingPlacement { age_hours: hours_since(since, now), since, placement, task, citizen_name }
        })
        .collect())
}

/// The coordinator's queue. An audited read: the citizens near their cap are personal data.
pub fn queue(conn: &mut DbConn, principal: &Principal) -> Result<Audited<Queue>, ServiceError> {
    let own = principal.coordinator()?.to_string();
    let now = smaajob_persistence::repo::now();
    let awaiting_approval =
        waiting(conn, &own, PlacementState::Accepted, now, |p| p.answered_at.unwrap_or(p.updated_at))?;
    let mut unanswered_offers =
        waiting(conn, &own, PlacementState::Offered, now, |p| p.offered_at.unwrap_or(p.updated_at))?;
    unanswered_offers.retain(|w| w.age_hours > OFFER_CHASE_HOURS);
    let unconfirmed_hours = shift_reports::unanswered_in(conn, &own)?
        .into_iter()
        .map(|(report, citizen_name, task_title)| WaitingHours {
            age_hours: hours_since(report.reported_at, now),
            report,
            citizen_name,
            task_title,
        })
        .collect();
    let mut companies_awaiting_verification: Vec<WaitingCompany> = companies::unverified_in(conn, &own)?
        .into_iter()
        .map(|company| WaitingCompany { age_hours: hours_since(company.created_at, now), company })
        .collect();
    // Oldest first; companies registered in the same hour stay in name order.
    companies_awaiting_verification.sort_by_key(|c| std::cmp::Reverse(c.age_hours));
    let year = today_copenhagen().year();
    let cards_due_for_control = frikort::active_cards_in(conn, &own)?
        .into_iter()
        .filter(|(c, _)| is_control_due(c.issued_on.year(), c.last_control_on.map(|d| d.year()), year))
        .map(|(card, citizen_name)| DueCard { card, citizen_name })
        .collect();
    let cap = cap_for(conn, year)?.amount.money().ore();
    let mut citizens_near_cap = Vec::new();
    let everyone = Page { limit: 100_000, offset: 0 };
    for (citizen, _) in citizens::list(conn, &own, CardFilter::Status(CardStatus::Active), everyone)?.0 {
        let exempt = accounting::find_year(conn, &citizen.id, year)?.map_or(0, |y| y.exempt.ore());
        if cap > 0 && exempt * 100 >= cap * NEAR_CAP_PERCENT {
            citizens_near_cap.push(NearCap {
                citizen_id: citizen.id,
                citizen_name: citizen.name,
                cap: Money::from_ore(cap),
                exempt: Money::from_ore(exempt),
                remaining: YearTotals { exempt: Money::from_ore(exempt), ..YearTotals::empty(Money::from_ore(cap)) }
                    .remaining(),
                used_percent: exempt * 100 / cap,
            });
        }
    }
    let entries = citizens_near_cap
        .iter()
        .map(|c| audit::entry(principal, "balance.listed", "citizen", &c.citizen_id, Some(&own), None))
        .collect();
    let companies_locked_out = guesses::locked_out_companies(conn, &own)?;
    let queue = Queue {
        awaiting_approval,
        unanswered_offers,
        unconfirmed_hours,
        companies_awaiting_verification,
        cards_due_for_control,
        citizens_near_cap,
        companies_locked_out,
    };
    Ok(Audited::new(queue, entries))
}
