//! Balances (`/citizens/{id}/balance`, `/me/balance`): how much of the year's frikort amount is
//! used and left, what is taxable, per employer, and when the cap would be reached at this pace.

use std::collections::BTreeMap;

use actix_web::{get, web};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use smaajob_domain::{Coverage, Money, project};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::{accounting, citizens, companies, employments};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::parse_id;
use crate::routes::citizens::citizen_in_scope;
use crate::services::allocation::cap_for;
use crate::services::audit;
use crate::services::common::{frikort_year, today_copenhagen};
use crate::services::error::OrNotFound;
use crate::services::error::ServiceError;
use crate::services::planning::{planned_shifts, reached_on};
use crate::services::principal::Principal;
use crate::state::AppState;

/// One employer's share of a citizen-year.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EmployerBreakdown {
    /// The employer.
    pub company_id: String,
    /// The employer's name.
    pub company_name: String,
    /// Gross paid, DKK.
    pub gross: String,
    /// Exempt part, DKK.
    pub exempt: String,
    /// Taxable part, DKK.
    pub taxable: String,
    /// Number of payouts (not reversed).
    pub payouts: u32,
}

/// Where the year is heading at the pace so far.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProjectionView {
    /// Average covered earnings per week this year so far, DKK.
    pub weekly_pace: String,
    /// The date the cap would be reached at that pace; absent if not this year.
    pub cap_reached_on: Option<NaiveDate>,
}

/// Pay planned by approved placements and not yet worked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PlannedView {
    /// Expected gross (wage and holiday pay) of the year's remaining approved shifts, DKK.
    pub amount: String,
    /// The shift on which the planned pay would use up the remaining amount; absent if it does not.
    pub cap_reached_on: Option<NaiveDate>,
}

/// A citizen's frikort balance for one year. Employers see only `year`, `cap`,
/// `cap_provisional` and `remaining`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BalanceView {
    /// The citizen.
    pub citizen_id: String,
    /// Income year.
    pub year: i32,
    /// The year's cap, DKK.
    pub cap: String,
    /// True while the year's cap is not set and the latest earlier cap is used.
    pub cap_provisional: bool,
    /// What is left before earnings become taxable, DKK.
    pub remaining: String,
    /// Gross of all payouts this year, DKK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gross: Option<String>,
    /// Tax-free so far, DKK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exempt: Option<String>,
    /// Taxable so far (above the cap or not covered), DKK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxable: Option<String>,
    /// Number of payouts (not reversed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payouts: Option<u32>,
    /// Per employer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_employer: Option<Vec<EmployerBreakdown>>,
    /// The pace this year and when the cap would be reached (current year only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection: Option<ProjectionView>,
    /// Approved placements not yet paid, and when they would reach the cap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub planned: Option<PlannedView>,
}

/// The year asked for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// Income year; defaults to this year (Europe/Copenhagen).
    pub year: Option<i32>,
}

fn year_start(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN)
}

fn year_of(q: &YearQuery) -> Result<i32, ApiError> {
    Ok(frikort_year("year", q.year.unwrap_or_else(|| today_copenhagen().year()))?)
}

#[derive(Default)]
struct Sums {
    gross: i64,
    exempt: i64,
    taxable: i64,
    count: u32,
}

/// Computes the balance; `full` = false gives the employer's view (remaining only).
fn balance(conn: &mut DbConn, citizen_id: &str, year: i32, full: bool) -> Result<BalanceView, ApiError> {
    let cap = cap_for(conn, year)?;
    let cap_ore = cap.amount.money().ore();
    // The stored totals are the source of truth (kept under the citizen-year lock).
    let totals = accounting::find_year(conn, citizen_id, year)?;
    let exempt = totals.as_ref().map_or(0, |t| t.exempt.ore());
    let mut view = BalanceView {
        citizen_id: citizen_id.to_owned(),
        year,
        cap: Money::from_ore(cap_ore).to_string(),
        cap_provisional: cap.provisional,
        remaining: Money::from_ore((cap_ore - exempt).max(0)).to_string(),
        gross: None,
        exempt: None,
        taxable: None,
        payouts: None,
        per_employer: None,
        projection: None,
        planned: None,
    };
    if !full {
        return Ok(view);
    }
    let today = today_copenhagen();
    let mut per: BTreeMap<String, Sums> = BTreeMap::new();
    let mut covered_so_far = 0i64;
    for (p, reversed) in accounting::payouts_of_year(conn, citizen_id, year)? {
        if reversed {
            continue;
        }
        let s = per.entry(p.company_id.clone()).or_default();
        s.gross += p.gross.ore();
        s.exempt += p.exempt.ore();
        s.taxable += p.taxable.ore();
        s.count += 1;
        if p.coverage == Coverage::Covered && p.payment_date <= today {
            covered_so_far += p.gross.ore();
        }
    }
    let mut breakdown = Vec::with_capacity(per.len());
    for (company_id, s) in per {
        let company_name = companies::find(conn, &company_id)?.name;
        breakdown.push(EmployerBreakdown {
            company_id,
            company_name,
            gross: Money::from_ore(s.gross).to_string(),
            exempt: Money::from_ore(s.exempt).to_string(),
            taxable: Money::from_ore(s.taxable).to_string(),
            payouts: s.count,
        });
    }
    view.gross = Some(Money::from_ore(totals.as_ref().map_or(0, |t| t.gross.ore())).to_string());
    view.exempt = Some(Money::from_ore(exempt).to_string());
    view.taxable = Some(Money::from_ore(totals.as_ref().map_or(0, |t| t.taxable.ore())).to_string());
    view.payouts = Some(totals.as_ref().map_or(0, |t| u32::try_from(t.payout_count).unwrap_or(0)));
    view.per_employer = Some(breakdown);
    let remaining = Money::from_ore((cap_ore - exempt).max(0));
    let shifts: Vec<_> = planned_shifts(conn, citizen_id, today.max(year_start(year)))?
        .into_iter()
        .filter(|(d, _)| d.year() == year)
        .collect();
    view.planned = Some(PlannedView {
        amount: Money::from_ore(shifts.iter().map(|(_, g)| g.ore()).sum()).to_string(),
        cap_reached_on: reached_on(&shifts, remaining),
    });
    view.projection = project(year, today, Money::from_ore(covered_so_far), Money::from_ore((cap_ore - exempt).max(0)))
        .map(|p| ProjectionView { weekly_pace: p.weekly_pace.to_string(), cap_reached_on: p.cap_reached_on });
    Ok(view)
}

/// A citizen's balance: full for a coordinator of their municipality; the remaining amount for
/// a company that employs or employed them.
#[utoipa::path(
    tag = "balance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id"), YearQuery),
    responses(
        (status = 200, body = BalanceView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[get("/citizens/{id}/balance")]
pub async fn citizen_balance(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    q: web::Query<YearQuery>,
) -> Result<web::Json<BalanceView>, ApiError> {
    let id = parse_id(&id, "citizen")?;
    let year = year_of(&q)?;
    let view = state
        .read_audited(move |conn| {
            let (municipality, full) = match &principal {
                Principal::Coordinator { municipality, .. } => {
                    (citizen_in_scope(conn, *municipality, &id)?.0.municipality, true)
                }
                Principal::Company { company_id, .. } => {
                    if !employments::company_employs(conn, company_id, &id)? {
                        return Err(ApiError::not_found("citizen"));
                    }
                    (citizens::find(conn, &id)?.0.municipality, false)
                }
                Principal::Citizen { .. } => {
                    return Err(ApiError::Forbidden("citizens read their own balance at /api/v1/me/balance".into()));
                }
                Principal::NewCompany { .. } => return Err(ServiceError::Unregistered.into()),
            };
            let view = balance(conn, &id, year, full)?;
            let details = serde_json::json!({ "year": year });
            let audit_entries =
                vec![audit::entry(&principal, "balance.read", "citizen", &id, Some(&municipality), Some(details))];
            Ok((view, audit_entries))
        })
        .await?;
    Ok(web::Json(view))
}

/// The calling citizen's own balance.
#[utoipa::path(
    tag = "balance",
    security(("bearer" = [])),
    params(YearQuery),
    responses(
        (status = 200, body = BalanceView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[get("/me/balance")]
pub async fn my_balance(
    state: web::Data<AppState>,
    principal: Principal,
    q: web::Query<YearQuery>,
) -> Result<web::Json<BalanceView>, ApiError> {
    let id = parse_id(principal.citizen()?, "citizen")?;
    let year = year_of(&q)?;
    let view = state
        .read_audited(move |conn| {
            let (citizen, _) = citizens::find(conn, &id).or_not_found("citizen")?;
            let view = balance(conn, &id, year, true)?;
            let details = serde_json::json!({ "year": year });
            let audit_entries = vec![audit::entry(
                &principal,
                "balance.read_self",
                "citizen",
                &id,
                Some(&citizen.municipality),
                Some(details),
            )];
            Ok((view, audit_entries))
        })
        .await?;
    Ok(web::Json(view))
}
