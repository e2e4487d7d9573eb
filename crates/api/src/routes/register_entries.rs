//! Register entries (`/register-entries`, `/register-entries/export`,
//! `/register-entries/{id}/registered`): the registrations and corrections a coordinator types
//! into the national frikort solution (socialtfrikort.dk) for the companies, listed, exported as
//! CSV with full CPR numbers for the typing, and marked registered with the register's reference.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::{CompanyId, NationalReference, RegisterEntryId};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, Problem};
use crate::http::{PageQuery, Paged, path_id, utc};
use crate::json::Json;
use crate::responses::{ApiErrors, Conflict, Invalid, JsonBody, NotFound};
use crate::services::common::frikort_year;
use crate::services::error::{Fields, ServiceError};
use crate::services::principal::Principal;
use crate::services::register_entries::{self, EntryQuery, EntryView, ExportedEntry, SeenEntry};
use crate::state::AppState;

/// Which register entries to list or export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntryFilterQuery {
    /// `open` (default: pending entries and registered ones that need correction), `pending`,
    /// `needs_correction`, `overdue` (pending past the due day), `registered`, `corrected`,
    /// `cancelled` or `all`.
    pub status: Option<String>,
    /// Only this employer's entries (a company id).
    pub company_id: Option<String>,
    /// Only this income year's entries.
    #[serde(default, deserialize_with = "crate::http::saturating::optional_i32")]
    pub year: Option<i32>,
}

impl EntryFilterQuery {
    fn query(&self) -> Result<EntryQuery, ApiError> {
        let mut f = Fields::new();
        let view = match self.status.as_deref() {
            None => Some(EntryView::Open),
            Some(s) => EntryView::parse(s).or_else(|| {
                f.push(
                    "status",
                    "unknown_status",
                    "one of open, pending, needs_correction, overdue, registered, corrected, cancelled, all",
                );
                None
            }),
        };
        let company_id = match self.company_id.as_deref() {
            None => None,
            Some(raw) => CompanyId::parse(raw)
                .map_err(|_| f.push("company_id", "invalid_id", "a company id (a lowercase hyphenated UUID)"))
                .ok(),
        };
        f.finish()?;
        let year = self.year.map(|y| frikort_year("year", y)).transpose()?;
        Ok(EntryQuery { view: view.unwrap_or_default(), company_id, year })
    }
}

/// The national register's reference for an entry typed in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRegistered {
    /// The reference the national frikort solution gave the registration or correction, as shown
    /// on its receipt (1 to 64 printable characters).
    #[schema(example = "SF-2026-000421")]
    pub national_reference: String,
}

/// A register entry: what to type into the national frikort solution, and where it stands.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegisterEntryView {
    /// The entry's id.
    pub id: String,
    /// `registration` (register the payout's exempt amount) or `correction` (change what the
    /// register holds for the payout to `exempt`).
    pub kind: String,
    /// `pending` (to type in), `registered` (typed in; the register holds it),
    /// `needs_correction` (typed in, but the exempt amount changed since: its correction is
    /// pending), `corrected` (a registered correction replaced it) or `cancelled` (never to type
    /// in: the exempt amount went back before it was typed in).
    pub status: String,
    /// Pending and past its due day.
    pub overdue: bool,
    /// The day by which it is to be registered: the 10th of the month after the payment date
    /// (for a correction, after the change).
    pub due_on: NaiveDate,
    /// The registered entry a correction corrects.
    pub corrects_id: Option<String>,
    /// The payout it registers or corrects.
    pub payout_id: String,
    /// The employer's CVR number.
    pub employer_cvr: String,
    /// The employer's name.
    pub employer_name: String,
    /// The citizen.
    pub citizen_id: String,
    /// The citizen's name.
    pub citizen_name: String,
    /// The citizen's CPR number masked as `DDMMYY-XXXX` (the full number is in the export only).
    pub cpr_masked: String,
    /// The citizen's frikort number.
    pub card_number: String,
    /// Income year.
    pub income_year: i32,
    /// First day of the employment period the payout pays.
    pub period_from: NaiveDate,
    /// Last day of it.
    pub period_to: NaiveDate,
    /// The payment date.
    pub payment_date: NaiveDate,
    /// Wage paid, DKK.
    pub wage: String,
    /// Holiday pay paid with it, DKK.
    pub holiday_pay: String,
    /// Pension paid, DKK.
    pub pension: String,
    /// The exempt amount the register must hold for the payout once this entry is typed in, DKK.
    pub exempt: String,
    /// What the register holds for it before, DKK (zero for a registration).
    pub previous_exempt: String,
    /// `exempt − previous_exempt`, DKK: how much the entry moves the register.
    pub change: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it was marked registered.
    pub registered_at: Option<DateTime<Utc>>,
    /// Who marked it registered (the token's subject).
    pub registered_by: Option<String>,
    /// The reference the national register gave it.
    pub national_reference: Option<String>,
}

fn entry_view(s: &SeenEntry) -> RegisterEntryView {
    let l = &s.listed;
    let e = &l.entry;
    RegisterEntryView {
        id: e.id.to_string(),
        kind: e.kind.as_str().to_owned(),
        status: e.status.as_str().to_owned(),
        overdue: s.overdue,
        due_on: e.due_on,
        corrects_id: e.corrects_id.as_ref().map(ToString::to_string),
        payout_id: e.payout_id.to_string(),
        employer_cvr: l.employer_cvr.clone(),
        employer_name: l.employer_name.clone(),
        citizen_id: e.citizen_id.to_string(),
        citizen_name: l.citizen_name.clone(),
        cpr_masked: s.cpr_masked.clone(),
        card_number: e.card_number.clone(),
        income_year: e.year,
        period_from: l.payout.worked_from,
        period_to: l.payout.worked_to,
        payment_date: l.payout.payment_date,
        wage: l.payout.wage.to_string(),
        holiday_pay: l.payout.holiday_pay.to_string(),
        pension: l.payout.pension.to_string(),
        exempt: e.exempt.to_string(),
        previous_exempt: e.previous_exempt.to_string(),
        change: e.change().to_string(),
        created_at: utc(e.created_at),
        registered_at: e.registered_at.map(utc),
        registered_by: e.registered_by.clone(),
        national_reference: e.national_reference.clone(),
    }
}

/// The export's columns, in the order of the national solution's registration form (employer,
/// employee, period, payment, amounts), then what Småjob needs to match the receipt back.
const CSV_HEADER: [&str; 18] = [
    "entry_id",
    "kind",
    "status",
    "due_on",
    "employer_cvr",
    "employer_name",
    "cpr",
    "citizen_name",
    "card_number",
    "period_from",
    "period_to",
    "payment_date",
    "wage",
    "holiday_pay",
    "pension",
    "exempt",
    "previously_registered_exempt",
    "change",
];

fn csv_of(entries: &[ExportedEntry]) -> Result<Vec<u8>, ApiError> {
    let fail = |e: csv::Error| ApiError::Internal(format!("writing the CSV failed: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_HEADER).map_err(fail)?;
    for x in entries {
        let v = entry_view(&x.seen);
        let cpr = format!("{}-{}", &x.cpr[..6.min(x.cpr.len())], &x.cpr[6.min(x.cpr.len())..]);
        w.write_record([
            v.id,
            v.kind,
            v.status,
            v.due_on.to_string(),
            v.employer_cvr,
            v.employer_name,
            cpr,
            v.citizen_name,
            v.card_number,
            v.period_from.to_string(),
            v.period_to.to_string(),
            v.payment_date.to_string(),
            v.wage,
            v.holiday_pay,
            v.pension,
            v.exempt,
            v.previous_exempt,
            v.change,
        ])
        .map_err(fail)?;
    }
    w.into_inner().map_err(|e| ApiError::Internal(format!("writing the CSV failed: {e}")))
}

/// The register entries of the coordinator's municipality's citizens, the earliest due first:
/// by default what is still to do (pending entries, and registered ones that need correction).
/// CPR numbers are masked; the read is audited per citizen.
#[utoipa::path(
    tag = "register entries",
    security(("bearer" = [])),
    params(EntryFilterQuery, PageQuery),
    responses(
        (status = 200, body = Paged<RegisterEntryView>),
        ApiErrors, Invalid,
    )
)]
#[get("/register-entries")]
pub async fn list_register_entries(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<EntryFilterQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Paged<RegisterEntryView>>, ApiError> {
    principal.coordinator()?;
    let query = filter.query()?;
    let page = page.into_inner().page()?;
    let listed = state
        .read_audited(move |conn| Ok(register_entries::list(conn, &principal, &query, page)?.into_parts()))
        .await?;
    let items = listed.items.iter().map(entry_view).collect();
    Ok(web::Json(Paged { items, total: listed.total, limit: page.limit, offset: page.offset }))
}

/// The register entries for typing into the national frikort solution, as CSV with the citizens'
/// full CPR numbers (the register needs them; this export is the one place they appear), at most
/// 10,000 entries, the earliest due first. The same filter as the list. The read is audited per
/// citizen.
#[utoipa::path(
    tag = "register entries",
    security(("bearer" = [])),
    params(EntryFilterQuery),
    responses(
        (status = 200, description = "The entries as CSV", content(
            (String = "text/csv", example = "entry_id,kind,status,due_on,employer_cvr,employer_name,cpr,citizen_name,card_number,period_from,period_to,payment_date,wage,holiday_pay,pension,exempt,previously_registered_exempt,change\n")
        )),
        ApiErrors, Invalid,
    )
)]
#[get("/register-entries/export")]
pub async fn export_register_entries(
    state: web::Data<AppState>,
    principal: Principal,
    filter: web::Query<EntryFilterQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.coordinator()?;
    let query = filter.query()?;
    let key = state.data_key.clone();
    let exported = state
        .read_audited(move |conn| Ok(register_entries::export(conn, &key, &principal, &query)?.into_parts()))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"register-entries.csv\""))
        .insert_header(("Cache-Control", "no-store"))
        .body(csv_of(&exported)?))
}

/// Marks a pending register entry registered (coordinators), with the reference the national
/// register gave it. A registered correction makes the entry it corrects `corrected`.
#[utoipa::path(
    tag = "register entries",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Register entry id")),
    request_body = MarkRegistered,
    responses(
        (status = 200, description = "Registered", body = RegisterEntryView),
        ApiErrors, NotFound, Conflict, JsonBody,
        (status = 409, description = "The entry is not pending (registered already, or cancelled)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/register-entries/{id}/registered")]
pub async fn mark_register_entry_registered(
    state: web::Data<AppState>,
    principal: Principal,
    id: web::Path<String>,
    body: Json<MarkRegistered>,
) -> Result<web::Json<RegisterEntryView>, ApiError> {
    principal.coordinator()?;
    let id: RegisterEntryId = path_id(&id)?;
    let reference = NationalReference::parse(&body.national_reference)
        .map_err(|e| ServiceError::field("national_reference", "invalid", e.to_string()))?;
    let entry =
        state.write(move |conn| Ok(register_entries::mark_registered(conn, &principal, &id, &reference)?)).await?;
    Ok(web::Json(entry_view(&entry)))
}
