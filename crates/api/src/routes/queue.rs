//! The coordinator's work queue (`/queue`) and time-to-placement statistics (`/stats/placements`).

use actix_web::{get, web};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::{Money, is_control_due, nearest_rank};
use smaajob_persistence::repo::{accounting, citizens, companies, frikort, placements, shift_reports, tasks};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::utc;
use crate::services::allocation::cap_for;
use crate::services::audit;
use crate::services::common::{start_of_day_utc, today_copenhagen};
use crate::services::principal::Principal;
use crate::state::AppState;

/// Offers unanswered for longer than this are chased.
const OFFER_CHASE_HOURS: i64 = 48;
/// Citizens who have used this share of their cap are watched.
const NEAR_CAP_PERCENT: i64 = 80;

/// A placement waiting on someone.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WaitingPlacement {
    /// The placement.
    pub placement_id: String,
    /// The task.
    pub task_id: String,
    /// The task's title.
    pub task_title: String,
    /// The citizen.
    pub citizen_id: String,
    /// The citizen's name.
    pub citizen_name: String,
    /// Waiting since.
    pub since: DateTime<Utc>,
    /// Hours waited.
    pub age_hours: i64,
}

/// Hours reported and not yet confirmed or disputed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WaitingHours {
    /// The report.
    pub report_id: String,
    /// The placement.
    pub placement_id: String,
    /// The citizen's name.
    pub citizen_name: String,
    /// The task's title.
    pub task_title: String,
    /// The shift's date.
    pub shift_date: NaiveDate,
    /// Reported by (`company` or `coordinator`).
    pub reported_by_role: String,
    /// Hours waited.
    pub age_hours: i64,
}

/// A company waiting for verification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WaitingCompany {
    /// The company.
    pub company_id: String,
    /// Its name.
    pub name: String,
    /// Its CVR number.
    pub cvr: String,
    /// Hours since it registered.
    pub age_hours: i64,
}

/// A card whose control is due this year or overdue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DueCard {
    /// The card holder.
    pub citizen_id: String,
    /// The card holder's name.
    pub citizen_name: String,
    /// The card number.
    pub number: String,
}

/// A citizen who has used most of this year's frikort amount.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NearCap {
    /// The citizen.
    pub citizen_id: String,
    /// The citizen's name.
    pub citizen_name: String,
    /// The cap, DKK.
    pub cap: String,
    /// Used (exempt) so far, DKK.
    pub exempt: String,
    /// Left, DKK.
    pub remaining: String,
    /// Share of the cap used, in percent (rounded down).
    pub used_percent: i64,
}

/// Everything waiting on the coordinator, oldest first within each list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Queue {
    /// Accepted placements awaiting approval.
    pub awaiting_approval: Vec<WaitingPlacement>,
    /// Offers the citizen has not answered for more than 48 hours.
    pub unanswered_offers: Vec<WaitingPlacement>,
    /// Reported hours not yet confirmed or disputed.
    pub unconfirmed_hours: Vec<WaitingHours>,
    /// Companies of the municipality awaiting verification.
    pub companies_awaiting_verification: Vec<WaitingCompany>,
    /// Active cards whose control of the conditions is due.
    pub cards_due_for_control: Vec<DueCard>,
    /// Citizens above 80 % of this year's cap.
    pub citizens_near_cap: Vec<NearCap>,
}

fn hours_since(t: NaiveDateTime, now: NaiveDateTime) -> i64 {
    (now - t).num_hours().max(0)
}

/// The coordinator's queue: what waits on them, oldest first.
#[utoipa::path(
    tag = "queue",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Queue),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
    )
)]
#[get("/queue")]
pub async fn queue(state: web::Data<AppState>, principal: Principal) -> Result<web::Json<Queue>, ApiError> {
    let own = principal.coordinator()?.to_string();
    let q = state
        .read_audited(move |conn| {
            let now = smaajob_persistence::repo::now();
            let waiting = |rows: Vec<placements::PlacementWithTask>,
                           since: fn(&placements::PlacementRow) -> NaiveDateTime| {
                rows.into_iter()
                    .map(|(p, t, name)| WaitingPlacement {
                        since: utc(since(&p)),
                        age_hours: hours_since(since(&p), now),
                        placement_id: p.id,
                        task_id: t.id,
                        task_title: t.title,
                        citizen_id: p.citizen_id,
                        citizen_name: name,
                    })
                    .collect::<Vec<_>>()
            };
            let awaiting_approval = waiting(placements::in_state_for_municipality(conn, &own, "accepted")?, |p| {
                p.answered_at.unwrap_or(p.updated_at)
            });
            let mut unanswered_offers = waiting(placements::in_state_for_municipality(conn, &own, "offered")?, |p| {
                p.offered_at.unwrap_or(p.updated_at)
            });
            unanswered_offers.retain(|w| w.age_hours > OFFER_CHASE_HOURS);
            let unconfirmed_hours = shift_reports::unanswered_in(conn, &own)?
                .into_iter()
                .map(|(r, citizen_name, task_title)| WaitingHours {
                    age_hours: hours_since(r.reported_at, now),
                    report_id: r.id,
                    placement_id: r.placement_id,
                    citizen_name,
                    task_title,
                    shift_date: r.shift_date,
                    reported_by_role: r.reported_by_role,
                })
                .collect();
            let mut companies_awaiting_verification: Vec<WaitingCompany> =
                companies::list(conn, Some("unverified"), smaajob_persistence::repo::Page { limit: 1_000, offset: 0 })?
                    .0
                    .into_iter()
                    .filter(|c| c.municipality.as_deref() == Some(own.as_str()))
                    .map(|c| WaitingCompany {
                        age_hours: hours_since(c.created_at, now),
                        company_id: c.id,
                        name: c.name,
                        cvr: c.cvr,
                    })
                    .collect();
            companies_awaiting_verification.sort_by_key(|c| std::cmp::Reverse(c.age_hours));
            let year = today_copenhagen().year();
            let cards_due_for_control = frikort::active_cards_in(conn, &own)?
                .into_iter()
                .filter(|(c, _)| is_control_due(c.issued_on.year(), c.last_control_on.map(|d| d.year()), year))
                .map(|(c, citizen_name)| DueCard { citizen_id: c.citizen_id, citizen_name, number: c.number })
                .collect();
            let cap = cap_for(conn, year)?.amount.money().ore();
            let mut citizens_near_cap = Vec::new();
            for (citizen, _) in citizens::list(
                conn,
                &own,
                citizens::CardFilter::Status("active"),
                smaajob_persistence::repo::Page { limit: 100_000, offset: 0 },
            )?
            .0
            {
                let exempt = accounting::find_year(conn, &citizen.id, year)?.map_or(0, |y| y.exempt.ore());
                if cap > 0 && exempt * 100 >= cap * NEAR_CAP_PERCENT {
                    citizens_near_cap.push(NearCap {
                        citizen_id: citizen.id,
                        citizen_name: citizen.name,
                        cap: Money::from_ore(cap).to_string(),
                        exempt: Money::from_ore(exempt).to_string(),
                        remaining: Money::from_ore((cap - exempt).max(0)).to_string(),
                        used_percent: exempt * 100 / cap,
                    });
                }
            }
            let entries: Vec<_> = citizens_near_cap
                .iter()
                .map(|c| audit::entry(&principal, "balance.listed", "citizen", &c.citizen_id, Some(&own), None))
                .collect();
            let audit_entries = entries;
            Ok((
                Queue {
                    awaiting_approval,
                    unanswered_offers,
                    unconfirmed_hours,
                    companies_awaiting_verification,
                    cards_due_for_control,
                    citizens_near_cap,
                },
                audit_entries,
            ))
        })
        .await?;
    Ok(web::Json(q))
}

/// The period of the statistics.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// First day (tasks opened on or after it); default 90 days ago.
    pub from: Option<NaiveDate>,
    /// Last day (tasks opened on or before it); default today.
    pub to: Option<NaiveDate>,
}

/// Time to placement for one municipality.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlacementStats {
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
    /// Positions held by an approved placement or worked to completion (a refilled position counts once).
    pub positions_filled: u32,
    /// Approved placements on those tasks, refills included: the placements the medians describe.
    pub placements_approved: u32,
    /// Median hours from a task opening to an approved placement on it.
    pub median_hours_to_placement: Option<i64>,
    /// 90th percentile of those hours.
    pub p90_hours_to_placement: Option<i64>,
}

/// Statistics on time to placement: the figure the jobcenter wants down.
#[utoipa::path(
    tag = "queue",
    security(("bearer" = [])),
    params(StatsQuery),
    responses(
        (status = 200, body = Vec<PlacementStats>),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[get("/stats/placements")]
pub async fn placement_stats(
    state: web::Data<AppState>,
    principal: Principal,
    q: web::Query<StatsQuery>,
) -> Result<web::Json<Vec<PlacementStats>>, ApiError> {
    let own = principal.coordinator()?.to_string();
    let to = q.to.unwrap_or_else(today_copenhagen);
    let from = q.from.unwrap_or(to - Duration::days(90));
    if from > to {
        return Err(ApiError::field("from", "after_to", "`from` is after `to`"));
    }
    if (to - from).num_days() > 3_660 {
        return Err(ApiError::field("from", "period_too_long", "at most ten years"));
    }
    let stats = state
        .read(move |conn| {
            // The period is in Copenhagen calendar days, like everything the jobcenter reads.
            let (start, end) = (start_of_day_utc(from), start_of_day_utc(to + Duration::days(1)));
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
            let holds = |p: &&placements::PlacementRow| p.state == "approved" || p.state == "completed";
            let positions_filled: u32 = opened
                .iter()
                .map(|t| {
                    let filled = placed.iter().filter(|p| p.task_id == t.id).filter(holds).count();
                    u32::try_from(filled.min(usize::try_from(t.positions).unwrap_or(0))).unwrap_or(0)
                })
                .sum();
            Ok(vec![PlacementStats {
                municipality: own.clone(),
                from,
                to,
                tasks_opened: u32::try_from(opened.len()).unwrap_or(u32::MAX),
                positions: opened.iter().map(|t| u32::try_from(t.positions).unwrap_or(0)).sum(),
                positions_filled,
                placements_approved: u32::try_from(hours.len()).unwrap_or(u32::MAX),
                median_hours_to_placement: nearest_rank(&hours, 50),
                p90_hours_to_placement: nearest_rank(&hours, 90),
            }])
        })
        .await?;
    Ok(web::Json(stats))
}
