//! `GET /caps`, `GET /caps/{year}`, `PUT /caps/{year}`: the yearly frikort amounts.

use std::collections::BTreeMap;

use actix_web::{get, put, web};
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::{
    CapAmount, CapYear, FIRST_CAP_YEAR, Money, RegulationPercent, ResolvedCap, regulate, resolve_cap,
};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::{accounting, audit, caps, caps::CapRow};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::http::utc;
use crate::services::allocation::reallocate_after_cap_change;
use crate::services::audit as audit_log;
use crate::services::common::today_copenhagen;
use crate::services::error::{Code, ServiceError};
use crate::services::error::{Fields, checked};
use crate::services::principal::Principal;
use crate::state::AppState;

/// The cap (beløbsgrænse) of one calendar year.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CapView {
    /// The calendar year.
    pub year: i32,
    /// The tax-free amount in DKK, a decimal string.
    #[schema(example = "42766.00")]
    pub amount: String,
    /// True when no cap is set for this year yet and the latest earlier year's amount is used
    /// until the real cap is entered.
    pub provisional: bool,
    /// The year whose amount is used (differs from `year` only when provisional).
    pub source_year: i32,
    /// The regulation percentage (satsreguleringsprocent) the amount was computed from, if any.
    pub regulation_percent: Option<String>,
    /// Who set the amount (`law` for the statutory amounts); absent when provisional.
    pub set_by: Option<String>,
    /// When the amount was set; absent when provisional.
    pub set_at: Option<DateTime<Utc>>,
}

/// A new cap for a year: exactly one of `amount` or `regulation_percent`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetCap {
    /// The amount in whole DKK, a decimal string (e.g. `"43500"` or `"43500.00"`).
    pub amount: Option<String>,
    /// The regulation percentage applied to the previous year's cap (e.g. `"2.9"`); the result
    /// is rounded to the nearest whole krone.
    pub regulation_percent: Option<String>,
}

/// Caps are public figures every role may read; an unregistered company may only register itself.
fn public_reader(principal: &Principal) -> Result<(), ApiError> {
    match principal {
        Principal::NewCompany { .. } => Err(ServiceError::Unregistered.into()),
        _ => Ok(()),
    }
}

fn load_set(conn: &mut DbConn) -> Result<(Vec<CapRow>, BTreeMap<i32, CapAmount>), ApiError> {
    let rows = caps::list(conn)?;
    let set = rows.iter().filter_map(|r| CapAmount::from_kroner(r.amount_ore / 100).map(|a| (r.year, a))).collect();
    Ok((rows, set))
}

fn view(resolved: ResolvedCap, rows: &[CapRow]) -> CapView {
    let row = rows.iter().find(|r| r.year == resolved.year && !resolved.provisional);
    CapView {
        year: resolved.year,
        amount: resolved.amount.money().to_string(),
        provisional: resolved.provisional,
        source_year: resolved.source_year,
        regulation_percent: row.and_then(|r| r.regulation_percent.clone()),
        set_by: row.map(|r| r.set_by.clone()),
        set_at: row.map(|r| utc(r.set_at)),
    }
}

/// Every year from 2019 through next year (or the last year set), provisional where not set.
#[utoipa::path(
    tag = "caps",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caps, oldest first", body = Vec<CapView>),
        (status = 401, response = Problem),
    )
)]
#[get("/caps")]
pub async fn list_caps(state: web::Data<AppState>, principal: Principal) -> Result<web::Json<Vec<CapView>>, ApiError> {
    public_reader(&principal)?;
    let views = state
        .read(|conn| {
            let (rows, set) = load_set(conn)?;
            let last = set.keys().next_back().copied().unwrap_or(FIRST_CAP_YEAR).max(today_copenhagen().year() + 1);
            Ok((FIRST_CAP_YEAR..=last)
                .filter_map(|y| CapYear::parse(y).ok())
                .filter_map(|y| resolve_cap(y, &set))
                .map(|r| view(r, &rows))
                .collect())
        })
        .await?;
    Ok(web::Json(views))
}

/// One year's cap, provisional if it is not set yet.
#[utoipa::path(
    tag = "caps",
    security(("bearer" = [])),
    params(("year" = i32, Path, description = "Calendar year, 2019–2100")),
    responses(
        (status = 200, body = CapView),
        (status = 401, response = Problem),
        (status = 404, description = "No cap exists for that year", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/caps/{year}")]
pub async fn get_cap(
    state: web::Data<AppState>,
    principal: Principal,
    year: web::Path<i32>,
) -> Result<web::Json<CapView>, ApiError> {
    public_reader(&principal)?;
    let year = CapYear::parse(year.into_inner())
        .map_err(|_| ApiError::NotFound("the frikort exists from 2019 to 2100".into()))?;
    let view = state
        .read(move |conn| {
            let (rows, set) = load_set(conn)?;
            resolve_cap(year, &set)
                .map(|r| view(r, &rows))
                .ok_or_else(|| ApiError::NotFound("no cap for that year".into()))
        })
        .await?;
    Ok(web::Json(view))
}

/// Sets a year's cap by amount or by regulation of the previous year's cap (coordinator), and
/// re-splits every citizen-year that uses it; each changed split becomes an adjustment.
#[utoipa::path(
    tag = "caps",
    security(("bearer" = [])),
    params(("year" = i32, Path, description = "Calendar year, 2019–2100")),
    request_body = SetCap,
    responses(
        (status = 200, description = "The cap now in force", body = CapView),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, description = "Not a coordinator", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Regulation needs the previous year's cap to be set", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid year, amount or percentage", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/caps/{year}")]
pub async fn set_cap(
    state: web::Data<AppState>,
    principal: Principal,
    year: web::Path<i32>,
    body: web::Json<SetCap>,
) -> Result<web::Json<CapView>, ApiError> {
    let municipality = principal.coordinator()?;
    let body = body.into_inner();
    let mut f = Fields::new();
    let year = f.check("year", CapYear::parse(year.into_inner()));
    let (amount, percent) = match (&body.amount, &body.regulation_percent) {
        (Some(a), None) => (f.check("amount", CapAmount::parse(a)), None),
        (None, Some(p)) => (None, f.check("regulation_percent", RegulationPercent::parse(p))),
        _ => {
            f.push("amount", "one_of_amount_or_percent", "give exactly one of `amount` or `regulation_percent`");
            (None, None)
        }
    };
    f.finish()?;
    let year = checked(year)?;
    let view = state
        .write(move |conn| {
            let amount = match (amount, percent) {
                (Some(a), _) => a,
                (None, Some(pct)) => {
                    let previous = caps::find(conn, year.get() - 1)?
                        .and_then(|r| CapAmount::from_kroner(r.amount_ore / 100))
                        .ok_or_else(|| ApiError::Conflict {
                            code: Code::PreviousCapNotSet,
                            detail: format!("regulation needs the {} cap to be set first", year.get() - 1),
                        })?;
                    regulate(previous, pct)
                        .map_err(|e| ApiError::field("regulation_percent", "out_of_range", e.to_string()))?
                }
                (None, None) => return Err(ApiError::Internal("no amount after validation".into())),
            };
            // Before the cap is written: no citizen-year may be split with the old cap after this.
            accounting::lock_all_years(conn)?;
            let before = caps::find(conn, year.get())?;
            let row = CapRow {
                year: year.get(),
                amount_ore: amount.money().ore(),
                regulation_percent: percent.map(|p| p.get().normalize().to_string()),
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
            audit::append(
                conn,
                &[audit_log::entry(
                    &principal,
                    "cap.set",
                    "cap",
                    &row.year.to_string(),
                    Some(&municipality.to_string()),
                    Some(details),
                )],
            )?;
            let (rows, set) = load_set(conn)?;
            resolve_cap(year, &set).map(|r| view(r, &rows)).ok_or_else(|| ApiError::Internal("cap vanished".into()))
        })
        .await?;
    Ok(web::Json(view))
}
