//! Balances (`/citizens/{id}/balance`, `/me/balance`): how much of the year's frikort amount is
//! used and left, what is taxable, per employer, and when the cap would be reached at this pace.

use actix_web::{get, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::http::parse_id;
use crate::responses::{ApiErrors, Invalid, NotFound};
use crate::services::balance::{self as service, Balance};
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
/// `cap_provisional`, `remaining` and what it is based on.
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
    /// What the balance is based on, for a person: the income known to Småjob, and when it was
    /// last reconciled with the national register (which holds the truth).
    #[schema(example = "income known to Småjob, last reconciled with the national register on 2026-11-30")]
    pub based_on: String,
    /// The day the statement last accepted from the national register was drawn; absent if the
    /// year was never reconciled.
    pub reconciled_on: Option<NaiveDate>,
    /// Gross of all income known this year (Småjob's payouts and outside income), DKK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gross: Option<String>,
    /// The part of `gross` registered outside Småjob, DKK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outside_income: Option<String>,
    /// The part of `gross` paid through Småjob, DKK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smaajob_income: Option<String>,
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
    #[serde(default, deserialize_with = "crate::http::saturating::optional_i32")]
    pub year: Option<i32>,
}

/// What a balance is based on, in words.
fn based_on(reconciled_on: Option<NaiveDate>) -> String {
    match reconciled_on {
        Some(day) => format!("income known to Småjob, last reconciled with the national register on {day}"),
        None => "income known to Småjob, not yet reconciled with the national register".to_owned(),
    }
}

/// Builds the view of a balance; an employer's has no details.
fn view(b: Balance) -> BalanceView {
    let mut view = BalanceView {
        citizen_id: b.citizen_id,
        year: b.year,
        cap: b.cap.amount.money().to_string(),
        cap_provisional: b.cap.provisional,
        remaining: b.remaining.to_string(),
        based_on: based_on(b.reconciled_on),
        reconciled_on: b.reconciled_on,
        gross: None,
        outside_income: None,
        smaajob_income: None,
        exempt: None,
        taxable: None,
        payouts: None,
        per_employer: None,
        projection: None,
        planned: None,
    };
    if let Some(d) = b.details {
        view.gross = Some(d.gross.to_string());
        view.outside_income = Some(d.outside_income.to_string());
        view.smaajob_income = Some(d.smaajob_income.to_string());
        view.exempt = Some(d.exempt.to_string());
        view.taxable = Some(d.taxable.to_string());
        view.payouts = Some(d.payouts);
        view.per_employer = Some(
            d.per_employer
                .into_iter()
                .map(|e| EmployerBreakdown {
                    company_id: e.company_id.into(),
                    company_name: e.company_name,
                    gross: e.gross.to_string(),
                    exempt: e.exempt.to_string(),
                    taxable: e.taxable.to_string(),
                    payouts: e.payouts,
                })
                .collect(),
        );
        view.projection = d
            .projection
            .map(|p| ProjectionView { weekly_pace: p.weekly_pace.to_string(), cap_reached_on: p.cap_reached_on });
        view.planned =
            Some(PlannedView { amount: d.planned.amount.to_string(), cap_reached_on: d.planned.cap_reached_on });
    }
    view
}

/// A citizen's balance: full for a coordinator of their municipality; the remaining amount for
/// a company that employs or employed them.
#[utoipa::path(
    tag = "balance",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id"), YearQuery),
    responses(
        (status = 200, body = BalanceView),
        ApiErrors, NotFound, Invalid,
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
    let year = q.year;
    let balance =
        state.read_audited(move |conn| Ok(service::citizen_balance(conn, &principal, &id, year)?.into_parts())).await?;
    Ok(web::Json(view(balance)))
}

/// The calling citizen's own balance.
#[utoipa::path(
    tag = "balance",
    security(("bearer" = [])),
    params(YearQuery),
    responses(
        (status = 200, body = BalanceView),
        ApiErrors, NotFound, Invalid,
    )
)]
#[get("/me/balance")]
pub async fn my_balance(
    state: web::Data<AppState>,
    principal: Principal,
    q: web::Query<YearQuery>,
) -> Result<web::Json<BalanceView>, ApiError> {
    let year = q.year;
    let balance = state.read_audited(move |conn| Ok(service::my_balance(conn, &principal, year)?.into_parts())).await?;
    Ok(web::Json(view(balance)))
}
