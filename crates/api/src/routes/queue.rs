//! The coordinator's work queue (`/queue`) and time-to-placement statistics (`/stats/placements`).

use actix_web::{get, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::http::{PageQuery, Paged, utc};
use crate::responses::{ApiErrors, Invalid};
use crate::services::principal::Principal;
use crate::services::queue as work_queue;
use crate::services::stats::{self, PlacementFigures, StatsPeriod};
use crate::state::AppState;

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

/// A company locked out for guessing CPR or frikort numbers: someone with its credentials tried
/// too many wrong ones. Worth a call to the company.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LockedOutCompany {
    /// The company.
    pub company_id: String,
    /// Its name.
    pub name: String,
    /// Its CVR number.
    pub cvr: String,
    /// Wrong guesses counted in all (forgotten two days after the last one and the last lock).
    pub wrong_guesses: u64,
    /// Lockouts not yet forgotten; each doubles the next.
    pub lockouts: u32,
    /// The last wrong guess.
    pub last_wrong_at: DateTime<Utc>,
    /// When the latest lockout ends (or ended).
    pub locked_until: DateTime<Utc>,
    /// Whether it is still locked out.
    pub locked: bool,
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
    /// Companies of the municipality locked out for wrong CPR or frikort numbers, now or in the
    /// last 7 days, latest lock first.
    pub companies_locked_out: Vec<LockedOutCompany>,
}

fn waiting_placement(w: work_queue::WaitingPlacement) -> WaitingPlacement {
    WaitingPlacement {
        since: utc(w.since),
        age_hours: w.age_hours,
        placement_id: w.placement.id,
        task_id: w.task.id,
        task_title: w.task.title,
        citizen_id: w.placement.citizen_id,
        citizen_name: w.citizen_name,
    }
}

fn queue_view(q: work_queue::Queue) -> Queue {
    Queue {
        awaiting_approval: q.awaiting_approval.into_iter().map(waiting_placement).collect(),
        unanswered_offers: q.unanswered_offers.into_iter().map(waiting_placement).collect(),
        unconfirmed_hours: q
            .unconfirmed_hours
            .into_iter()
            .map(|w| WaitingHours {
                age_hours: w.age_hours,
                report_id: w.report.id.into(),
                placement_id: w.report.placement_id,
                citizen_name: w.citizen_name,
                task_title: w.task_title,
                shift_date: w.report.shift_date,
                reported_by_role: w.report.reported_by_role.as_str().to_owned(),
            })
            .collect(),
        companies_awaiting_verification: q
            .companies_awaiting_verification
            .into_iter()
            .map(|w| WaitingCompany {
                age_hours: w.age_hours,
                company_id: w.company.id.into(),
                name: w.company.name,
                cvr: w.company.cvr,
            })
            .collect(),
        cards_due_for_control: q
            .cards_due_for_control
            .into_iter()
            .map(|d| DueCard { citizen_id: d.card.citizen_id, citizen_name: d.citizen_name, number: d.card.number })
            .collect(),
        citizens_near_cap: q
            .citizens_near_cap
            .into_iter()
            .map(|c| NearCap {
                citizen_id: c.citizen_id,
                citizen_name: c.citizen_name,
                cap: c.cap.to_string(),
                exempt: c.exempt.to_string(),
                remaining: c.remaining.to_string(),
                used_percent: c.used_percent,
            })
            .collect(),
        companies_locked_out: q
            .companies_locked_out
            .into_iter()
            .map(|l| LockedOutCompany {
                company_id: l.company.id.into(),
                name: l.company.name,
                cvr: l.company.cvr,
                wrong_guesses: l.counter.wrong_total,
                lockouts: l.counter.lockouts,
                last_wrong_at: utc(l.counter.last_wrong_at),
                locked_until: utc(l.locked_until),
                locked: l.locked,
            })
            .collect(),
    }
}

/// The coordinator's queue: what waits on them, oldest first.
#[utoipa::path(
    tag = "queue",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Queue),
        ApiErrors,
    )
)]
#[get("/queue")]
pub async fn queue(state: web::Data<AppState>, principal: Principal) -> Result<web::Json<Queue>, ApiError> {
    let q = state
        .read_audited(move |conn| {
            let read = work_queue::queue(conn, &principal)?;
            Ok((read.value, read.entries))
        })
        .await?;
    Ok(web::Json(queue_view(q)))
}

/// The period of the statistics.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// First day (tasks opened on or after it); default 90 days ago.
    #[serde(default, deserialize_with = "crate::http::strict_date::optional")]
    pub from: Option<NaiveDate>,
    /// Last day (tasks opened on or before it); default today.
    #[serde(default, deserialize_with = "crate::http::strict_date::optional")]
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

fn stats_view(f: PlacementFigures) -> PlacementStats {
    PlacementStats {
        municipality: f.municipality,
        from: f.from,
        to: f.to,
        tasks_opened: f.tasks_opened,
        positions: f.positions,
        positions_filled: f.positions_filled,
        placements_approved: f.placements_approved,
        median_hours_to_placement: f.median_hours_to_placement,
        p90_hours_to_placement: f.p90_hours_to_placement,
    }
}

/// Statistics on time to placement: the figure the jobcenter wants down.
///
/// A page of one item: the coordinator's municipality.
#[utoipa::path(
    tag = "queue",
    security(("bearer" = [])),
    params(StatsQuery, PageQuery),
    responses(
        (status = 200, body = Paged<PlacementStats>),
        ApiErrors, Invalid,
    )
)]
#[get("/stats/placements")]
pub async fn placement_stats(
    state: web::Data<AppState>,
    principal: Principal,
    q: web::Query<StatsQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<PlacementStats>>, ApiError> {
    principal.coordinator()?;
    let period = StatsPeriod::parse(q.from, q.to)?;
    let page = page.into_inner().page()?;
    let figures = state.read(move |conn| Ok(stats::placement_figures(conn, &principal, period)?)).await?;
    let items = if page.offset == 0 { vec![stats_view(figures)] } else { Vec::new() };
    Ok(web::Json(Paged { items, total: 1, limit: page.limit, offset: page.offset }))
}
