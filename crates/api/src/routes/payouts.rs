//! Payouts (`/employments/{id}/payouts`, `/payouts/{id}/reversal`) and adjustments
//! (`/adjustments`): every krone registered, split exactly into the exempt part and the taxable
//! excess, re-split whenever anything the split depends on changes.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{Datelike, Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use smaajob_domain::{CardCoverage, Coverage, Money, Split, card_coverage, holiday_pay};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::accounting::{self, AdjustmentScope, PayoutRow, ReversalRow};
use smaajob_persistence::repo::citizens::CitizenRow;
use smaajob_persistence::repo::employments::{self, EmploymentRow};
use smaajob_persistence::repo::{audit, new_id, now};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, parse_id};
use crate::idempotency::{self, Idempotency, IdempotencyHeader, Reply};
use crate::routes::employments::employment_in_scope;
use crate::services::allocation::{Cause, Reallocated, card_periods, lock_year, reallocate, register};
use crate::services::audit as audit_log;
use crate::services::common::{
    check_not_before_scheme, copenhagen_date, frikort_year, optional_text, today_copenhagen,
};
use crate::services::error::OrNotFound;
use crate::services::error::{Code, ServiceError};
use crate::services::error::{Fields, checked};
use crate::services::principal::Principal;
use crate::state::AppState;
use crate::views::{
    AdjustmentView, BalanceSummary, PayoutReceipt, PayoutView, Warning, adjustment_view, money, payout_view,
};

/// The largest gross a single payout may have (a typo guard far above any small job).
const MAX_PAYOUT_KRONER: i64 = 1_000_000;
/// Payouts are registered when paid; a payment date may lie at most this far ahead.
const MAX_DAYS_AHEAD: i64 = 31;

/// A payout to register.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterPayout {
    /// The day the money is paid; its calendar year is the income year.
    pub payment_date: NaiveDate,
    /// First day of the work paid for.
    pub worked_from: NaiveDate,
    /// Last day of the work paid for.
    pub worked_to: NaiveDate,
    /// The wage, DKK decimal string, positive.
    #[schema(example = "1250.00")]
    pub wage: String,
    /// Holiday pay paid with the wage; omitted → 12.5 % of the wage; `"0.00"` → paid separately later.
    pub holiday_pay: Option<String>,
    /// Pension paid out to the citizen, default `"0.00"`.
    pub pension: Option<String>,
}

/// A reversal (correction) of a payout; the payout itself stays, marked reversed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReversePayout {
    /// Why the payout is reversed.
    pub reason: String,
}

/// Filter of the adjustment list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdjustmentFilter {
    /// Only this income year.
    pub year: Option<i32>,
}

fn summary(r: &Reallocated, full: bool) -> BalanceSummary {
    let remaining = (r.year.cap_ore - r.year.exempt_ore).max(0);
    BalanceSummary {
        year: r.year.year,
        cap: money(r.year.cap_ore),
        cap_provisional: r.year.cap_provisional,
        remaining: money(remaining),
        gross: full.then(|| money(r.year.gross_ore)),
        exempt: full.then(|| money(r.year.exempt_ore)),
        taxable: full.then(|| money(r.year.taxable_ore)),
    }
}

/// The adjustments a caller may see: a company only those of its own payouts (another
/// employer's amounts are not its business); coordinators and citizens all of them.
fn visible_adjustments(principal: &Principal, r: &Reallocated) -> Vec<AdjustmentView> {
    r.adjustments
        .iter()
        .filter(|a| match principal {
            Principal::Company { company_id, .. } => a.company_id == *company_id,
            _ => true,
        })
        .map(adjustment_view)
        .collect()
}

fn warnings(p: &PayoutRow, split: &Split, r: &Reallocated, adjustments: &[AdjustmentView]) -> Vec<Warning> {
    let mut w = Vec::new();
    let warn = |code: &str, message: String| Warning { code: code.into(), message };
    match split.coverage {
        Coverage::Covered if split.taxable.is_positive() => w.push(warn(
            "cap_crossed",
            format!(
                "{} kr of this payout is above the frikort amount: it is ordinary taxable A-income that must be reported to eIndkomst",
                split.taxable
            ),
        )),
        Coverage::CardInactive => w.push(warn(
            "not_covered",
            "the frikort was not active during the work period: the whole payout is taxable and must be reported to eIndkomst".into(),
        )),
        Coverage::OutsideEmployment => w.push(warn(
            "not_covered",
            "the work period lies outside the registered employment: the whole payout is taxable and must be reported to eIndkomst".into(),
        )),
        _ => {}
    }
    let remaining = r.year.cap_ore - r.year.exempt_ore;
    if remaining > 0 && remaining * 10 < r.year.cap_ore {
        w.push(warn(
            "cap_nearly_reached",
            format!("only {} kr of this year's frikort amount is left", money(remaining)),
        ));
    }
    if p.late_registration {
        w.push(warn(
            "late_registration",
            "work began before the employment was registered; § 6 requires registration before work starts".into(),
        ));
    }
    if r.cap.provisional {
        w.push(warn(
            "provisional_cap",
            format!(
                "the {} cap is not set yet; {}'s amount is used until it is, and splits may change then",
                r.year.year, r.cap.source_year
            ),
        ));
    }
    if !adjustments.is_empty() {
        w.push(warn(
            "splits_changed",
            format!(
                "{} earlier payout(s) of the year changed split; see `adjustments` and correct eIndkomst",
                adjustments.len()
            ),
        ));
    }
    w
}

/// A payout's amounts, parsed and checked.
#[derive(Debug, Clone, Copy)]
pub struct ParsedPayout {
    wage: Money,
    holiday_pay: Money,
    separate: bool,
    pension: Money,
    gross: Money,
}

impl ParsedPayout {
    /// Pay for confirmed hours: the wage, with 12.5 % holiday pay on top and no pension.
    pub fn wage_with_holiday_pay(wage: Money) -> Result<ParsedPayout, ApiError> {
        let holiday_pay = holiday_pay(wage);
        let gross = wage
            .checked_add(holiday_pay)
            .ok_or_else(|| ApiError::field("hours", "too_large", "the pay is too large"))?;
        Ok(ParsedPayout { wage, holiday_pay, separate: false, pension: Money::ZERO, gross })
    }
}

fn parse_payout(b: &RegisterPayout) -> Result<ParsedPayout, ApiError> {
    let mut f = Fields::new();
    let wage = f.check("wage", Money::parse_positive(&b.wage));
    let holiday = f.check_opt("holiday_pay", b.holiday_pay.as_deref().map(Money::parse_non_negative));
    let pension = f.check_opt("pension", b.pension.as_deref().map(Money::parse_non_negative));
    if b.worked_to < b.worked_from {
        f.push("worked_to", "before_worked_from", "the work period ends before it starts");
    }
    if b.payment_date < b.worked_from {
        f.push("payment_date", "before_work", "the payment date is before the work started");
    }
    check_not_before_scheme(&mut f, "worked_from", b.worked_from);
    if b.payment_date > today_copenhagen() + Duration::days(MAX_DAYS_AHEAD) {
        f.push(
            "payment_date",
            "too_far_ahead",
            format!("register payouts when paid (at most {MAX_DAYS_AHEAD} days ahead)"),
        );
    }
    f.finish()?;
    let wage = checked(wage)?;
    let (holiday_pay, separate) = match checked(holiday)? {
        None => (holiday_pay(wage), false),
        Some(h) => (h, h.is_zero()),
    };
    let pension = checked(pension)?.unwrap_or(Money::ZERO);
    let gross = wage
        .checked_add(holiday_pay)
        .and_then(|g| g.checked_add(pension))
        .filter(|g| *g <= Money::from_kroner(MAX_PAYOUT_KRONER))
        .ok_or_else(|| {
            ApiError::field("wage", "too_large", format!("a payout above {MAX_PAYOUT_KRONER} kr is refused as a typo"))
        })?;
    Ok(ParsedPayout { wage, holiday_pay, separate, pension, gross })
}

/// Registers a payout on an employment and returns its split, the new balance and warnings.
#[utoipa::path(
    tag = "payouts",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Employment id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response"),
    ),
    request_body = RegisterPayout,
    responses(
        (status = 201, description = "Registered", body = PayoutReceipt),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, description = "The employment has ended", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = Problem),
        (status = 422, description = "Invalid amounts or dates, a work period straddling a card decision, or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/employments/{id}/payouts")]
pub async fn register_payout(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyHeader,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<RegisterPayout>,
) -> Result<HttpResponse, ApiError> {
    if let Principal::Citizen { .. } = principal {
        return Err(ApiError::Forbidden("citizens cannot register payouts".into()));
    }
    let employment_id = parse_id(&id, "employment")?;
    let b = body.into_inner();
    let idem = Idempotency::new(&principal, key, &req, &b);
    let parsed = parse_payout(&b)?;
    idempotency::run(&state, idem, move |conn| {
        let (employment, _, _, citizen) = employment_in_scope(conn, &principal, &employment_id)?;
        let work = Work { payment_date: b.payment_date, worked_from: b.worked_from, worked_to: b.worked_to };
        let receipt = record_payout(conn, &principal, &employment, &citizen, work, &parsed)?;
        Reply::new(StatusCode::CREATED, &receipt)
    })
    .await
}

/// When the work happened and when it is paid.
#[derive(Debug, Clone, Copy)]
pub struct Work {
    /// Payment date (its year is the income year).
    pub payment_date: NaiveDate,
    /// First day worked.
    pub worked_from: NaiveDate,
    /// Last day worked.
    pub worked_to: NaiveDate,
}

/// Registers a payout on an employment inside the caller's write transaction: locks the
/// citizen-year, refuses a work period straddling a card decision, splits it, audits it, and
/// returns the receipt (companies see only cap and remaining of the balance).
pub fn record_payout(
    conn: &mut DbConn,
    principal: &Principal,
    employment: &EmploymentRow,
    citizen: &CitizenRow,
    work: Work,
    parsed: &ParsedPayout,
) -> Result<PayoutReceipt, ApiError> {
    // Lock the employment first: ending it and paying on it must not interleave.
    let employment = &employments::lock(conn, &employment.id)?;
    if employment.ended_at.is_some() {
        return Err(ApiError::Conflict {
            code: Code::EmploymentEnded,
            detail: "the employment has ended; register later work on a new employment".into(),
        });
    }
    let year = work.payment_date.year();
    // The cap and the card are read under the lock, so a cap set or a card decision committed
    // meanwhile is seen (and not undone by a split computed from what was read before).
    let (mut locked, cap) = lock_year(conn, &citizen.id, year)?;
    let periods = card_periods(conn, &citizen.id)?;
    if card_coverage(&periods, work.worked_from, work.worked_to) == CardCoverage::Partial {
        return Err(ApiError::Unprocessable {
            code: Code::WorkPeriodStraddlesCardChange,
            detail: "the frikort was active for only part of the work period; register two payouts, split where the card was deactivated or reactivated".into(),
        });
    }
    let sequence = locked.next_sequence;
    locked.next_sequence += 1;
    let row = PayoutRow {
        id: new_id(),
        employment_id: employment.id.clone(),
        citizen_id: citizen.id.clone(),
        company_id: employment.company_id.clone(),
        year,
        sequence,
        payment_date: work.payment_date,
        worked_from: work.worked_from,
        worked_to: work.worked_to,
        wage_ore: parsed.wage.ore(),
        holiday_pay_ore: parsed.holiday_pay.ore(),
        holiday_pay_separate: parsed.separate,
        pension_ore: parsed.pension.ore(),
        gross_ore: parsed.gross.ore(),
        // Placeholders until the allocation below sets the real split.
        exempt_ore: 0,
        taxable_ore: parsed.gross.ore(),
        coverage: "covered".into(),
        late_registration: work.worked_from < copenhagen_date(employment.registered_at),
        registered_by: principal.sub().to_owned(),
        registered_by_role: principal.role().as_str().to_owned(),
        created_at: now(),
    };
    accounting::insert_payout(conn, &row)?;
    let r = register(conn, locked, cap, &row, &periods)?;
    let split = *r.splits.get(&row.id).ok_or_else(|| ApiError::Internal("the new payout was not allocated".into()))?;
    let details = serde_json::json!({
        "payout_id": row.id, "employment_id": row.employment_id, "gross": money(row.gross_ore),
        "exempt": split.exempt.to_string(), "taxable": split.taxable.to_string(), "adjustments": r.adjustments.len(),
    });
    audit::append(
        conn,
        &[audit_log::entry(
            principal,
            "payout.registered",
            "citizen",
            &citizen.id,
            Some(&citizen.municipality),
            Some(details),
        )],
    )?;
    let adjustments = visible_adjustments(principal, &r);
    Ok(PayoutReceipt {
        warnings: warnings(&row, &split, &r, &adjustments),
        payout: payout_view(&row, false, Some(&split)),
        balance: summary(&r, !matches!(principal, Principal::Company { .. })),
        adjustments,
    })
}

/// Reverses a payout: it stops counting, the year is re-split, and every changed split is an adjustment.
#[utoipa::path(
    tag = "payouts",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Payout id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response"),
    ),
    request_body = ReversePayout,
    responses(
        (status = 201, description = "Reversed", body = PayoutReceipt),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 403, response = Problem),
        (status = 404, response = Problem),
        (status = 409, description = "Already reversed", body = Problem, content_type = "application/problem+json"),
        (status = 422, response = Problem),
    )
)]
#[post("/payouts/{id}/reversal")]
pub async fn reverse_payout(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyHeader,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<ReversePayout>,
) -> Result<HttpResponse, ApiError> {
    if let Principal::Citizen { .. } = principal {
        return Err(ApiError::Forbidden("citizens cannot reverse payouts".into()));
    }
    let payout_id = parse_id(&id, "payout")?;
    let b = body.into_inner();
    let idem = Idempotency::new(&principal, key, &req, &b);
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", Some(&b.reason), 2000);
    if reason.is_none() {
        f.push("reason", "required", "give the reason for the reversal");
    }
    f.finish()?;
    let reason = checked(reason)?;
    idempotency::run(&state, idem, move |conn| {
        let (payout, _) = accounting::find_payout(conn, &payout_id).or_not_found("payout")?;
        let (_, _, _, citizen) = employment_in_scope(conn, &principal, &payout.employment_id)
            .map_err(|e| if matches!(e, ApiError::NotFound(_)) { ApiError::not_found("payout") } else { e })?;
        // Lock first, then look: a concurrent reversal of the same payout waits and then sees it,
        // and a cap set meanwhile is read after it committed.
        let (locked, cap) = lock_year(conn, &citizen.id, payout.year)?;
        if accounting::find_payout(conn, &payout_id)?.1 {
            return Err(ApiError::Conflict {
                code: Code::PayoutAlreadyReversed,
                detail: "the payout is already reversed".into(),
            });
        }
        accounting::insert_reversal(
            conn,
            &ReversalRow {
                payout_id: payout.id.clone(),
                reason,
                reversed_by: principal.sub().to_owned(),
                reversed_by_role: principal.role().as_str().to_owned(),
                created_at: now(),
            },
        )?;
        let r = reallocate(conn, locked, cap, Cause::Reversal, Some(&payout.id), None)?;
        let split =
            *r.splits.get(&payout.id).ok_or_else(|| ApiError::Internal("the payout was not allocated".into()))?;
        let details = serde_json::json!({ "payout_id": payout.id, "adjustments": r.adjustments.len() });
        audit::append(
            conn,
            &[audit_log::entry(
                &principal,
                "payout.reversed",
                "citizen",
                &citizen.id,
                Some(&citizen.municipality),
                Some(details),
            )],
        )?;
        let adjustments = visible_adjustments(&principal, &r);
        let receipt = PayoutReceipt {
            warnings: warnings(&payout, &split, &r, &adjustments)
                .into_iter()
                .filter(|w| w.code != "late_registration")
                .collect(),
            payout: payout_view(&payout, true, Some(&split)),
            balance: summary(&r, !matches!(principal, Principal::Company { .. })),
            adjustments,
        };
        Reply::new(StatusCode::CREATED, &receipt)
    })
    .await
}

/// The payouts of an employment, newest first.
#[utoipa::path(
    tag = "payouts",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Employment id")),
    responses(
        (status = 200, body = Vec<PayoutView>),
        (status = 401, response = Problem),
        (status = 404, response = Problem),
    )
)]
#[get("/employments/{id}/payouts")]
pub async fn list_payouts(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
) -> Result<web::Json<Vec<PayoutView>>, ApiError> {
    let employment_id = parse_id(&id, "employment")?;
    let views = state
        .read_audited(move |conn| {
            let (_, _, _, citizen) = employment_in_scope(conn, &principal, &employment_id)?;
            let rows = accounting::payouts_of_employment(conn, &employment_id)?;
            let audit_entries = vec![audit_log::entry(
                &principal,
                "payout.listed",
                "employment",
                &employment_id,
                Some(&citizen.municipality),
                None,
            )];
            Ok((rows.iter().map(|(p, r)| payout_view(p, *r, None)).collect(), audit_entries))
        })
        .await?;
    Ok(web::Json(views))
}

/// Adjustments: a company sees what it must correct in eIndkomst; a coordinator sees the
/// municipality's; a citizen their own.
#[utoipa::path(
    tag = "payouts",
    security(("bearer" = [])),
    params(AdjustmentFilter, PageQuery),
    responses(
        (status = 200, body = Paged<AdjustmentView>),
        (status = 400, response = Problem),
        (status = 401, response = Problem),
        (status = 422, response = Problem),
    )
)]
#[get("/adjustments")]
pub async fn list_adjustments(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<AdjustmentFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<AdjustmentView>>, ApiError> {
    let page = page.into_inner().page()?;
    let year = filter.year.map(|y| frikort_year("year", y)).transpose()?;
    let scope = match &principal {
        Principal::Company { company_id, .. } => AdjustmentScope::Company(company_id.clone()),
        Principal::Coordinator { municipality, .. } => AdjustmentScope::Municipality(municipality.to_string()),
        Principal::Citizen { citizen_id, .. } => AdjustmentScope::Citizen(citizen_id.clone()),
        Principal::NewCompany { .. } => return Err(ServiceError::Unregistered.into()),
    };
    let paged = state
        .read(move |conn: &mut DbConn| {
            let (rows, total) = accounting::list_adjustments(conn, &scope, year, page)?;
            Ok(Paged {
                items: rows.iter().map(|(a, _)| adjustment_view(a)).collect(),
                total,
                limit: page.limit,
                offset: page.offset,
            })
        })
        .await?;
    Ok(web::Json(paged))
}
