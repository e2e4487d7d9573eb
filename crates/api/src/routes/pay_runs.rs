//! Pay runs (`/pay-runs`, `/pay-runs/preview`, `/pay-runs/{id}`): confirmed hours of a period
//! are paid on a real payment date, by bank, cash or MobilePay. The preview shows every line —
//! the payout per citizen and employment, its split and income year — before anything is kept;
//! the commit registers them in one transaction, and paid hours are never paid again.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::CompanyId;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, parse_id, utc};
use crate::idempotency::{self, Idempotency, IdempotencyHeader, Reply};
use crate::json::Json;
use crate::responses::{ApiErrors, Conflict, Invalid, JsonBody, NotFound};
use crate::services::pay_runs::{self, PayRun, PayRunCommand, PayRunInput, PayRunLine};
use crate::services::principal::Principal;
use crate::state::AppState;
use crate::views::{AdjustmentView, PayoutView, Warning, adjustment_view, payout_view};
use smaajob_persistence::repo::pay_runs::PayRunRow;

/// A pay run to preview or commit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayRunRequest {
    /// First shift date paid.
    #[serde(deserialize_with = "crate::http::strict_date::required")]
    pub period_from: NaiveDate,
    /// Last shift date paid (at most 92 days after `period_from`).
    #[serde(deserialize_with = "crate::http::strict_date::required")]
    pub period_to: NaiveDate,
    /// The day the money is paid, on or after `period_to`: its calendar year is the income year.
    #[serde(deserialize_with = "crate::http::strict_date::required")]
    pub payment_date: NaiveDate,
    /// `bank`, `cash` or `mobilepay`.
    #[schema(example = "bank")]
    pub payment_method: String,
    /// A coordinator's run for one company's workers only; a company's run is always its own.
    #[serde(default)]
    pub company_id: Option<String>,
}

/// A pay run's facts and totals (the sums of its payouts as registered).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PayRunSummary {
    /// The run's id; absent in a preview.
    pub id: Option<String>,
    /// True once committed; false in a preview.
    pub committed: bool,
    /// The coordinator's municipality, for a coordinator's run.
    pub municipality: Option<String>,
    /// The one company whose workers it pays, when it is one company's.
    pub company_id: Option<String>,
    /// First shift date paid.
    pub period_from: NaiveDate,
    /// Last shift date paid.
    pub period_to: NaiveDate,
    /// The payment date.
    pub payment_date: NaiveDate,
    /// The income year of everything it pays (the payment date's year).
    pub income_year: i32,
    /// `bank`, `cash` or `mobilepay`.
    pub payment_method: String,
    /// How many payouts.
    pub lines: i32,
    /// How many shifts they pay.
    pub shifts: i32,
    /// Wages, DKK.
    pub wage: String,
    /// Holiday pay, DKK.
    pub holiday_pay: String,
    /// Pension, DKK.
    pub pension: String,
    /// Wage + holiday pay + pension, DKK.
    pub gross: String,
    /// Who ran it.
    pub created_by: String,
    /// The running role.
    pub created_by_role: String,
    /// When it was committed (or previewed).
    pub created_at: DateTime<Utc>,
}

/// One payout of a pay run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PayRunLineView {
    /// The payout's id; absent in a preview.
    pub payout_id: Option<String>,
    /// The citizen paid.
    pub citizen_id: String,
    /// The citizen's name.
    pub citizen_name: String,
    /// The employment it is paid on.
    pub employment_id: String,
    /// The employer.
    pub company_id: String,
    /// The task.
    pub task_title: String,
    /// The reports of hours it pays.
    pub shift_reports: Vec<String>,
    /// First shift paid.
    pub worked_from: NaiveDate,
    /// Last shift paid.
    pub worked_to: NaiveDate,
    /// Hours worked in all, decimal.
    pub hours: String,
    /// Wage, DKK (the sum of the shifts' hours × the hourly wage, each rounded to øre).
    pub wage: String,
    /// Holiday pay, DKK: 12.5 % of the wage, paid with it.
    pub holiday_pay: String,
    /// Pension, DKK.
    pub pension: String,
    /// Wage + holiday pay + pension, DKK: what counts toward the cap.
    pub gross: String,
    /// The tax-free part, DKK.
    pub exempt: String,
    /// The taxable part, DKK: ordinary A-income to report to eIndkomst.
    pub taxable: String,
    /// `covered`, `card_inactive` or `outside_employment`.
    pub coverage: String,
    /// The income year: the payment date's, whenever the shifts were worked.
    pub income_year: i32,
    /// Things to act on (e.g. `income_year_of_payment`, `cap_crossed`, `not_covered`).
    pub warnings: Vec<Warning>,
}

/// A pay run with every line, as previewed or as committed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PayRunView {
    /// The run and its totals.
    pub run: PayRunSummary,
    /// Its payouts, per citizen and employment.
    pub lines: Vec<PayRunLineView>,
    /// Earlier payouts whose split the run changes (it pays before them), as far as the caller may see.
    pub adjustments: Vec<AdjustmentView>,
}

/// A committed pay run with its payouts as they stand now (a payout reversed since is marked).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StoredPayRunView {
    /// The run and its totals as registered.
    pub run: PayRunSummary,
    /// Its payouts.
    pub payouts: Vec<PayoutView>,
}

fn summary_view(r: &PayRunRow, committed: bool) -> PayRunSummary {
    PayRunSummary {
        id: committed.then(|| r.id.clone()),
        committed,
        municipality: r.municipality.clone(),
        company_id: r.company_id.clone().map(String::from),
        period_from: r.period_from,
        period_to: r.period_to,
        payment_date: r.payment_date,
        income_year: smaajob_domain::income_year(r.payment_date),
        payment_method: r.payment_method.as_str().to_owned(),
        lines: r.lines,
        shifts: r.shifts,
        wage: r.wage.to_string(),
        holiday_pay: r.holiday_pay.to_string(),
        pension: r.pension.to_string(),
        gross: r.gross.to_string(),
        created_by: r.created_by.clone(),
        created_by_role: r.created_by_role.clone(),
        created_at: utc(r.created_at),
    }
}

fn line_view(l: &PayRunLine) -> PayRunLineView {
    let hours = rust_decimal::Decimal::from(l.minutes) / rust_decimal::Decimal::from(60);
    PayRunLineView {
        payout_id: l.payout_id.as_ref().map(ToString::to_string),
        citizen_id: l.citizen_id.clone(),
        citizen_name: l.citizen_name.clone(),
        employment_id: l.employment_id.to_string(),
        company_id: l.company_id.to_string(),
        task_title: l.task_title.clone(),
        shift_reports: l.reports.iter().map(ToString::to_string).collect(),
        worked_from: l.worked_from,
        worked_to: l.worked_to,
        hours: hours.round_dp(2).normalize().to_string(),
        wage: l.wage.to_string(),
        holiday_pay: l.holiday_pay.to_string(),
        pension: l.pension.to_string(),
        gross: l.gross.to_string(),
        exempt: l.split.exempt.to_string(),
        taxable: l.split.taxable.to_string(),
        coverage: l.split.coverage.as_str().to_owned(),
        income_year: l.income_year,
        warnings: l
            .notices
            .iter()
            .map(|n| Warning { code: n.kind.as_str().to_owned(), message: n.message.clone() })
            .collect(),
    }
}

fn run_view(r: &PayRun) -> PayRunView {
    PayRunView {
        run: summary_view(&r.row, r.committed),
        lines: r.lines.iter().map(line_view).collect(),
        adjustments: r.adjustments.iter().map(adjustment_view).collect(),
    }
}

fn command(b: &PayRunRequest) -> Result<PayRunCommand, ApiError> {
    // A malformed company id names no company, like a well-formed id of none.
    let company_id = match &b.company_id {
        None => None,
        Some(raw) => Some(CompanyId::parse(raw).map_err(|_| ApiError::not_found("company"))?),
    };
    Ok(PayRunCommand::parse(&PayRunInput {
        period_from: b.period_from,
        period_to: b.period_to,
        payment_date: b.payment_date,
        payment_method: &b.payment_method,
        company_id,
    })?)
}

/// Shows what a pay run would pay, without keeping anything: every line per citizen and
/// employment (hours, wage, holiday pay, pension, the exempt/taxable split it would get and its
/// income year) and the totals.
#[utoipa::path(
    tag = "pay runs",
    security(("bearer" = [])),
    request_body = PayRunRequest,
    responses(
        (status = 200, description = "What the run would pay", body = PayRunView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "Hours of the period await confirmation (listed in `obstacles`), an employment has ended, or nothing is waiting for pay", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pay-runs/preview")]
pub async fn preview_pay_run(
    state: web::Data<AppState>,
    principal: Principal,
    body: Json<PayRunRequest>,
) -> Result<web::Json<PayRunView>, ApiError> {
    pay_runs::may_run(&principal)?;
    let cmd = command(&body)?;
    let run = state.write(move |conn| Ok(pay_runs::preview(conn, &principal, &cmd)?)).await?;
    Ok(web::Json(run_view(&run)))
}

/// Commits a pay run: each line becomes a payout on the payment date, in one transaction. Hours
/// already paid are not paid again: the same run committed twice pays nothing the second time
/// (409 `nothing_to_pay`), and a retry with the same `Idempotency-Key` returns the first answer.
#[utoipa::path(
    tag = "pay runs",
    security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response")),
    request_body = PayRunRequest,
    responses(
        (status = 201, description = "Committed", body = PayRunView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "Hours of the period await confirmation (listed in `obstacles`), an employment has ended, nothing is waiting for pay, or another run paid them meanwhile", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pay-runs")]
pub async fn commit_pay_run(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyHeader,
    req: HttpRequest,
    body: Json<PayRunRequest>,
) -> Result<HttpResponse, ApiError> {
    pay_runs::may_run(&principal)?;
    let b = body.into_inner();
    let idem = Idempotency::new(&principal, key, &req, &b);
    let cmd = command(&b)?;
    idempotency::run(&state, idem, move |conn| {
        let run = pay_runs::commit(conn, &principal, &cmd)?;
        Reply::new(StatusCode::CREATED, &run_view(&run))
    })
    .await
}

/// The pay runs the caller may see, newest first: a coordinator the municipality's, a company
/// those that paid its workers only.
#[utoipa::path(
    tag = "pay runs",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, body = Paged<PayRunSummary>),
        ApiErrors, Invalid,
    )
)]
#[get("/pay-runs")]
pub async fn list_pay_runs(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<PayRunSummary>>, ApiError> {
    let page = page.into_inner().page()?;
    let (rows, total) = state.read(move |conn| Ok(pay_runs::list(conn, &principal, page)?)).await?;
    Ok(web::Json(Paged {
        items: rows.iter().map(|r| summary_view(r, true)).collect(),
        total,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// One committed pay run with its payouts as they stand now.
#[utoipa::path(
    tag = "pay runs",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Pay run id")),
    responses(
        (status = 200, body = StoredPayRunView),
        ApiErrors, NotFound,
    )
)]
#[get("/pay-runs/{id}")]
pub async fn get_pay_run(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<StoredPayRunView>, ApiError> {
    let id = parse_id(&id, "pay run")?;
    let stored = state
        .read_audited(move |conn| {
            let read = pay_runs::find(conn, &principal, &id)?;
            Ok(read.into_parts())
        })
        .await?;
    Ok(web::Json(StoredPayRunView {
        run: summary_view(&stored.row, true),
        payouts: stored.payouts.iter().map(|(p, reversed)| payout_view(p, *reversed, None)).collect(),
    }))
}
