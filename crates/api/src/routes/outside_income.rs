//! Outside income (`/citizens/{id}/outside-income`, `/outside-income/{id}/withdrawal`) and
//! national-register statements (`/citizens/{id}/register-statements`,
//! `/register-statements/{id}/acceptance`): frikort income registered outside Småjob counts toward
//! the cap like a payout, and a statement from the register reconciles a citizen-year once a
//! coordinator accepts its differences.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::{Difference, OutsideIncomeId, RegisterStatementId, Split};
use smaajob_persistence::repo::outside_income::{OutsideIncomeRow, StatementRow};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, parse_id, path_id, utc};
use crate::idempotency::{self, Idempotency, IdempotencyHeader, Reply};
use crate::json::Json;
use crate::responses::{ApiErrors, Conflict, Invalid, JsonBody, NotFound};
use crate::services::common::{frikort_year, optional_text};
use crate::services::error::{Fields, checked};
use crate::services::outside_income::{self, NewOutsideIncome, OutsideIncomeInput, OutsideIncomeReceipt};
use crate::services::principal::Principal;
use crate::services::register_statements::{self, AcceptedStatement, ImportStatement, ImportedStatement};
use crate::state::AppState;
use crate::views::{AdjustmentView, BalanceSummary, adjustment_view, balance_summary};

/// Outside income to record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordOutsideIncome {
    /// The day the outside employer paid it; its calendar year is the income year, and it takes
    /// headroom in payment-date order like a payout.
    #[serde(deserialize_with = "crate::http::strict_date::required")]
    pub payment_date: NaiveDate,
    /// The frikort amount registered for it, DKK decimal string, positive.
    #[schema(example = "2500.00")]
    pub amount: String,
    /// The outside employer's CVR number, when known.
    pub employer_cvr: Option<String>,
    /// Where the coordinator knows it from: the employer, a letter, the citizen's own statement.
    #[schema(example = "Lønseddel fra Café Ærø ApS")]
    pub source: String,
}

/// Why outside income is withdrawn.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawOutsideIncome {
    /// Why, in the coordinator's words (e.g. recorded twice); kept with the entry.
    pub reason: String,
}

/// One entry of outside income.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutsideIncomeView {
    /// The entry's id.
    pub id: String,
    /// The citizen who earned it.
    pub citizen_id: String,
    /// Income year (the payment date's calendar year).
    pub income_year: i32,
    /// The day the outside employer paid it.
    pub payment_date: NaiveDate,
    /// The amount registered, DKK.
    pub amount: String,
    /// The outside employer's CVR number, when known.
    pub employer_cvr: Option<String>,
    /// Where it is known from.
    pub source: String,
    /// The register statement whose acceptance recorded it, if one did.
    pub statement_id: Option<String>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// When it was withdrawn; absent while it counts.
    pub withdrawn_at: Option<DateTime<Utc>>,
    /// Why it was withdrawn.
    pub withdrawn_reason: Option<String>,
}

/// What recording or withdrawing outside income returns.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutsideIncomeReceiptView {
    /// The entry.
    pub outside_income: OutsideIncomeView,
    /// The part of it under the cap now, DKK (zero once withdrawn).
    pub exempt: String,
    /// The part of it above the cap now, DKK (the outside employer's to report).
    pub taxable: String,
    /// The citizen-year afterwards.
    pub balance: BalanceSummary,
    /// Småjob payouts whose split changed because of it: their employers correct eIndkomst.
    pub adjustments: Vec<AdjustmentView>,
}

/// The filter of the outside income list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearFilter {
    /// Only this income year.
    #[serde(default, deserialize_with = "crate::http::saturating::optional_i32")]
    pub year: Option<i32>,
}

/// A statement from the national frikort register to import.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRegisterStatement {
    /// The income year the statement covers; every line must be paid in it.
    pub year: i32,
    /// The day the statement was drawn from the register; no line may be paid later.
    #[serde(deserialize_with = "crate::http::strict_date::required")]
    pub drawn_on: NaiveDate,
    /// The statement file's text: `;`-separated, first line `CVR;Arbejdsgiver;Udbetalingsdato;Beløb`,
    /// dates `YYYY-MM-DD` or `DD-MM-YYYY`, amounts with a decimal comma or point.
    #[schema(example = "CVR;Arbejdsgiver;Udbetalingsdato;Beløb\n10000009;Café Ærø ApS;15-03-2026;2.500,00\n")]
    pub statement: String,
}

/// One disagreement between a register statement and Småjob.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DifferenceView {
    /// `missing_in_smaajob` (outside income the register has: recorded when accepted),
    /// `missing_in_register` (outside income Småjob has and the register does not: withdrawn
    /// when accepted) or `registration_differs` (a Småjob employer's registration the register
    /// holds another amount for: correct it in the register; accepting changes nothing here).
    pub kind: String,
    /// The employer's CVR number, when known.
    pub employer_cvr: Option<String>,
    /// The payment date.
    pub payment_date: NaiveDate,
    /// What the register has for it, DKK (zero when nothing).
    pub register_amount: String,
    /// What Småjob has for it, DKK (zero when nothing).
    pub smaajob_amount: String,
    /// The statement's line, for income missing in Småjob.
    pub line: Option<u32>,
    /// Småjob's outside income entry, for income missing in the register.
    pub outside_income_id: Option<String>,
}

/// A register statement as imported.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisterStatementView {
    /// The statement's id (accept it at `/register-statements/{id}/acceptance`).
    pub id: String,
    /// The citizen it is of.
    pub citizen_id: String,
    /// The income year it covers.
    pub year: i32,
    /// The day it was drawn from the register.
    pub drawn_on: NaiveDate,
    /// `pending` (nothing changed yet), `accepted` or `superseded`.
    pub status: String,
    /// How many entries it has.
    pub lines: Option<usize>,
    /// Every disagreement with Småjob's records.
    pub differences: Vec<DifferenceView>,
    /// When it was imported.
    pub imported_at: DateTime<Utc>,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
}

/// What accepting a register statement did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AcceptedStatementView {
    /// The statement, accepted.
    pub statement: RegisterStatementView,
    /// Outside income recorded from its lines.
    pub recorded: Vec<OutsideIncomeView>,
    /// Ids of the outside income withdrawn because the register does not have it.
    pub withdrawn: Vec<String>,
    /// Småjob payouts whose split changed: their employers correct eIndkomst.
    pub adjustments: Vec<AdjustmentView>,
    /// The citizen-year afterwards.
    pub balance: BalanceSummary,
}

fn income_view(o: &OutsideIncomeRow) -> OutsideIncomeView {
    OutsideIncomeView {
        id: o.id.to_string(),
        citizen_id: o.citizen_id.clone(),
        income_year: o.year,
        payment_date: o.payment_date,
        amount: o.amount.to_string(),
        employer_cvr: o.employer_cvr.clone(),
        source: o.source.clone(),
        statement_id: o.statement_id.as_ref().map(ToString::to_string),
        recorded_at: utc(o.created_at),
        withdrawn_at: o.withdrawn_at.map(utc),
        withdrawn_reason: o.withdrawn_reason.clone(),
    }
}

fn receipt_view(r: &OutsideIncomeReceipt) -> OutsideIncomeReceiptView {
    let Split { exempt, taxable, .. } = r.split;
    OutsideIncomeReceiptView {
        outside_income: income_view(&r.income),
        exempt: exempt.to_string(),
        taxable: taxable.to_string(),
        balance: balance_summary(&r.balance),
        adjustments: r.adjustments.iter().map(adjustment_view).collect(),
    }
}

fn difference_view(d: &Difference) -> DifferenceView {
    DifferenceView {
        kind: d.kind.as_str().to_owned(),
        employer_cvr: d.employer_cvr.map(|c| c.to_string()),
        payment_date: d.payment_date,
        register_amount: d.register_amount.to_string(),
        smaajob_amount: d.smaajob_amount.to_string(),
        line: d.line,
        outside_income_id: d.outside_income_id.clone(),
    }
}

fn statement_view(s: &StatementRow, lines: Option<usize>, differences: &[Difference]) -> RegisterStatementView {
    RegisterStatementView {
        id: s.id.to_string(),
        citizen_id: s.citizen_id.clone(),
        year: s.year,
        drawn_on: s.drawn_on,
        status: s.status.as_str().to_owned(),
        lines,
        differences: differences.iter().map(difference_view).collect(),
        imported_at: utc(s.created_at),
        accepted_at: s.accepted_at.map(utc),
    }
}

fn imported_view(i: &ImportedStatement) -> RegisterStatementView {
    statement_view(&i.statement, Some(i.lines), &i.differences)
}

fn accepted_view(a: &AcceptedStatement) -> AcceptedStatementView {
    AcceptedStatementView {
        statement: statement_view(&a.statement, None, &a.differences),
        recorded: a.recorded.iter().map(income_view).collect(),
        withdrawn: a.withdrawn.clone(),
        adjustments: a.adjustments.iter().map(adjustment_view).collect(),
        balance: balance_summary(&a.balance),
    }
}

/// Records frikort income a citizen earned outside Småjob (coordinators): it counts toward the cap
/// on its payment date, and Småjob payouts paid later split with what it left.
#[utoipa::path(
    tag = "outside income",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Citizen id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response"),
    ),
    request_body = RecordOutsideIncome,
    responses(
        (status = 201, description = "Recorded", body = OutsideIncomeReceiptView),
        ApiErrors, NotFound, Conflict, JsonBody,
    )
)]
#[post("/citizens/{id}/outside-income")]
pub async fn record_outside_income(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyHeader,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<RecordOutsideIncome>,
) -> Result<HttpResponse, ApiError> {
    principal.coordinator()?;
    let citizen_id = parse_id(&id, "citizen")?;
    let b = body.into_inner();
    let idem = Idempotency::new(&principal, key, &req, &b);
    let income = NewOutsideIncome::parse(&OutsideIncomeInput {
        payment_date: b.payment_date,
        amount: &b.amount,
        employer_cvr: b.employer_cvr.as_deref(),
        source: Some(&b.source),
    })?;
    idempotency::run(&state, idem, move |conn| {
        let receipt = outside_income::record(conn, &principal, &citizen_id, &income)?;
        Reply::new(StatusCode::CREATED, &receipt_view(&receipt))
    })
    .await
}

/// The outside income of a citizen (coordinators), newest payment first, withdrawn entries included.
#[utoipa::path(
    tag = "outside income",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Citizen id"), YearFilter, PageQuery),
    responses(
        (status = 200, body = Paged<OutsideIncomeView>),
        ApiErrors, NotFound, Invalid,
    )
)]
#[get("/citizens/{id}/outside-income")]
pub async fn list_outside_income(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    filter: web::Query<YearFilter>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<OutsideIncomeView>>, ApiError> {
    let citizen_id = parse_id(&id, "citizen")?;
    let page = page.into_inner().page()?;
    let year = filter.year.map(|y| frikort_year("year", y)).transpose()?;
    let listed = state
        .read_audited(move |conn| {
            Ok(outside_income::of_citizen(conn, &principal, &citizen_id, year, page)?.into_parts())
        })
        .await?;
    let items = listed.items.iter().map(income_view).collect();
    Ok(web::Json(Paged { items, total: listed.total, limit: page.limit, offset: page.offset }))
}

/// Withdraws outside income recorded in error (coordinators): it stops counting and the year is re-split.
#[utoipa::path(
    tag = "outside income",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Outside income id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response"),
    ),
    request_body = WithdrawOutsideIncome,
    responses(
        (status = 201, description = "Withdrawn", body = OutsideIncomeReceiptView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "Withdrawn already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/outside-income/{id}/withdrawal")]
pub async fn withdraw_outside_income(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyHeader,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<WithdrawOutsideIncome>,
) -> Result<HttpResponse, ApiError> {
    principal.coordinator()?;
    let income_id = path_id::<OutsideIncomeId>(&id)?;
    let b = body.into_inner();
    let idem = Idempotency::new(&principal, key, &req, &b);
    let mut f = Fields::new();
    let reason = optional_text(&mut f, "reason", Some(&b.reason), 2000);
    if reason.is_none() {
        f.push("reason", "required", "give the reason for the withdrawal");
    }
    f.finish()?;
    let reason = checked(reason)?;
    idempotency::run(&state, idem, move |conn| {
        let receipt = outside_income::withdraw(conn, &principal, &income_id, &reason)?;
        Reply::new(StatusCode::CREATED, &receipt_view(&receipt))
    })
    .await
}

/// Imports a citizen's statement from the national frikort register (coordinators). It lists where
/// the register and Småjob disagree and changes nothing until it is accepted. A file of another
/// format is refused whole (422 `statement_format_unknown`); each malformed line is a field
/// problem named `statement.line[N].column`.
#[utoipa::path(
    tag = "outside income",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Citizen id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response"),
    ),
    request_body = ImportRegisterStatement,
    responses(
        (status = 201, description = "Imported, pending acceptance", body = RegisterStatementView),
        ApiErrors, NotFound, Conflict, JsonBody,
    )
)]
#[post("/citizens/{id}/register-statements")]
pub async fn import_register_statement(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyHeader,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<ImportRegisterStatement>,
) -> Result<HttpResponse, ApiError> {
    principal.coordinator()?;
    let citizen_id = parse_id(&id, "citizen")?;
    let b = body.into_inner();
    let idem = Idempotency::new(&principal, key, &req, &b);
    let cmd = ImportStatement { year: b.year, drawn_on: b.drawn_on, text: b.statement };
    idempotency::run(&state, idem, move |conn| {
        let imported = register_statements::import(conn, &principal, &citizen_id, &cmd)?;
        Reply::new(StatusCode::CREATED, &imported_view(&imported))
    })
    .await
}

/// Accepts a pending register statement (coordinators): the outside income it lists is recorded or
/// withdrawn, the year is re-split, and the year counts as reconciled as of the statement's date.
#[utoipa::path(
    tag = "outside income",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Register statement id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first response"),
    ),
    responses(
        (status = 200, description = "Accepted", body = AcceptedStatementView),
        ApiErrors, NotFound, Conflict,
        (status = 409, description = "Not pending, or Småjob's records changed since the import", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/register-statements/{id}/acceptance")]
pub async fn accept_register_statement(
    state: web::Data<AppState>,
    principal: Principal,
    key: IdempotencyHeader,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.coordinator()?;
    let statement_id = path_id::<RegisterStatementId>(&id)?;
    let idem = Idempotency::new(&principal, key, &req, &serde_json::Value::Null);
    idempotency::run(&state, idem, move |conn| {
        let accepted = register_statements::accept(conn, &principal, &statement_id)?;
        Reply::new(StatusCode::OK, &accepted_view(&accepted))
    })
    .await
}
