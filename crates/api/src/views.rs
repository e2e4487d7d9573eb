//! Wire views that more than one resource's routes show: an employment, a payout, an adjustment,
//! a contact person. Pure mappings from what the use cases return.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use smaajob_domain::Split;
use smaajob_domain::{Email, Money, Name, Phone, WeeklyHours};
use smaajob_persistence::repo::accounting::{AdjustmentRow, PayoutRow};
use smaajob_persistence::repo::employments::EmploymentRow;
use utoipa::ToSchema;

use crate::http::utc;
use crate::services::error::Fields;
use crate::services::payouts::{Receipt, YearBalance};

/// A reason for a decision.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    /// Why, in the caseworker's or company's words; shown in the history.
    pub reason: Option<String>,
}

/// The company's contact person for small jobs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// The contact person's full name.
    pub name: String,
    /// Phone number.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
}

/// Parsed contact fields.
pub type ContactRow = (String, Option<String>, Option<String>);

/// Parses a contact person, recording field problems under `contact.*`.
pub fn parse_contact(f: &mut Fields, c: &Contact) -> Option<ContactRow> {
    let name = f.check("contact.name", Name::parse(&c.name));
    let phone = f.check_opt("contact.phone", c.phone.as_deref().map(Phone::parse));
    let email = f.check_opt("contact.email", c.email.as_deref().map(Email::parse));
    Some((name?.as_str().to_owned(), phone?.map(|p| p.as_str().to_owned()), email?.map(|e| e.as_str().to_owned())))
}

/// An employment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EmploymentView {
    /// The employment's id.
    pub id: String,
    /// The employee.
    pub citizen_id: String,
    /// The employee's name.
    pub citizen_name: String,
    /// The employer.
    pub company_id: String,
    /// The employer's name.
    pub company_name: String,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day, if known.
    pub end_date: Option<NaiveDate>,
    /// Expected hours per week, decimal hours with two decimals (`"7.50"`).
    #[schema(example = "7.50")]
    pub expected_hours_per_week: Option<String>,
    /// Expected pay, DKK.
    pub expected_pay: Option<String>,
    /// The responsible contact person.
    pub contact: Contact,
    /// `active` or `ended`.
    pub status: String,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
    /// Who registered it.
    pub registered_by: String,
    /// When it was ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Why it was ended.
    pub end_reason: Option<String>,
}
/// Builds the view of a stored employment.
pub fn employment_view((e, citizen_name, company_name): (EmploymentRow, String, String)) -> EmploymentView {
    EmploymentView {
        status: if e.ended_at.is_some() { "ended" } else { "active" }.to_owned(),
        expected_pay: e.expected_pay.map(|m| m.to_string()),
        contact: Contact { name: e.contact_name, phone: e.contact_phone, email: e.contact_email },
        registered_at: utc(e.registered_at),
        ended_at: e.ended_at.map(utc),
        id: e.id.into(),
        citizen_id: e.citizen_id,
        citizen_name,
        company_id: e.company_id.into(),
        company_name,
        start_date: e.start_date,
        end_date: e.end_date,
        expected_hours_per_week: e.expected_hours_per_week.and_then(WeeklyHours::from_stored).map(|h| h.to_string()),
        registered_by: e.registered_by,
        end_reason: e.end_reason,
    }
}

/// A payout and its current split.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PayoutView {
    /// The payout's id.
    pub id: String,
    /// The employment it pays for.
    pub employment_id: String,
    /// The employee.
    pub citizen_id: String,
    /// The employer.
    pub company_id: String,
    /// The income year (the payment date's year).
    pub income_year: i32,
    /// Payment date.
    pub payment_date: NaiveDate,
    /// First day worked.
    pub worked_from: NaiveDate,
    /// Last day worked.
    pub worked_to: NaiveDate,
    /// Wage, DKK.
    pub wage: String,
    /// Holiday pay, DKK.
    pub holiday_pay: String,
    /// True when holiday pay is paid separately later.
    pub holiday_pay_separately: bool,
    /// Pension, DKK.
    pub pension: String,
    /// Wage + holiday pay + pension, DKK.
    pub gross: String,
    /// The tax-free part, DKK.
    pub exempt: String,
    /// The part above the cap (or not covered), DKK: ordinary A-income the employer reports to eIndkomst.
    pub taxable: String,
    /// `covered`, `card_inactive`, `outside_employment` or `reversed`.
    pub coverage: String,
    /// True once reversed.
    pub reversed: bool,
    /// True when work began before the employment was registered.
    pub late_registration: bool,
    /// When it was registered.
    pub registered_at: DateTime<Utc>,
}

/// Something the registering party should know.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Warning {
    /// `cap_crossed`, `cap_nearly_reached`, `not_covered`, `late_registration`, `provisional_cap`, `splits_changed`,
    /// `income_year_of_payment` (a pay run paying work of one year in the next).
    pub code: String,
    /// What it means and what to do.
    pub message: String,
}

/// The citizen-year after a change. Companies see only the cap and the remaining amount.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BalanceSummary {
    /// Income year.
    pub year: i32,
    /// The cap, DKK.
    pub cap: String,
    /// True while the year's cap is not set and the previous year's is used.
    pub cap_provisional: bool,
    /// What is left of the cap, DKK.
    pub remaining: String,
    /// Gross of all income known, outside income included (coordinators, citizens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gross: Option<String>,
    /// Exempt so far (coordinators, citizens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exempt: Option<String>,
    /// Taxable so far (coordinators, citizens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxable: Option<String>,
}

/// A change of a payout's split after it was first reported: the employer corrects eIndkomst.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdjustmentView {
    /// The adjustment's id.
    pub id: String,
    /// The payout whose split changed.
    pub payout_id: String,
    /// Its employment.
    pub employment_id: String,
    /// The employer who may have to correct its eIndkomst report.
    pub company_id: String,
    /// The employee.
    pub citizen_id: String,
    /// Income year.
    pub year: i32,
    /// Exempt before, DKK.
    pub old_exempt: String,
    /// Taxable before, DKK.
    pub old_taxable: String,
    /// Exempt after, DKK.
    pub new_exempt: String,
    /// Taxable after, DKK.
    pub new_taxable: String,
    /// Change of the taxable part to report (positive: report more A-income), DKK.
    pub taxable_change: String,
    /// `reversal`, `backdated_payout`, `cap_changed`, `card_changed` or `outside_income`.
    pub cause: String,
    /// What caused it: a payout id, a cap year, a card event, an outside income entry or a register statement.
    pub cause_ref: Option<String>,
    /// When the adjustment was recorded.
    pub created_at: DateTime<Utc>,
}

/// What a payout registration or reversal returns.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PayoutReceipt {
    /// The payout and its split.
    pub payout: PayoutView,
    /// The citizen-year afterwards.
    pub balance: BalanceSummary,
    /// Things to act on (e.g. report the taxable part to eIndkomst).
    pub warnings: Vec<Warning>,
    /// Other payouts whose split changed because of this one.
    pub adjustments: Vec<AdjustmentView>,
}

/// An amount of øre as a DKK decimal string.
pub fn money(ore: i64) -> String {
    Money::from_ore(ore).to_string()
}

/// Builds the view of a payout with its current split.
pub fn payout_view(p: &PayoutRow, reversed: bool, split: Option<&Split>) -> PayoutView {
    let split = split.copied().unwrap_or(Split { exempt: p.exempt, taxable: p.taxable, coverage: p.coverage });
    PayoutView {
        id: p.id.to_string(),
        employment_id: p.employment_id.to_string(),
        citizen_id: p.citizen_id.clone(),
        company_id: p.company_id.to_string(),
        income_year: p.year,
        payment_date: p.payment_date,
        worked_from: p.worked_from,
        worked_to: p.worked_to,
        wage: p.wage.to_string(),
        holiday_pay: p.holiday_pay.to_string(),
        holiday_pay_separately: p.holiday_pay_separate,
        pension: p.pension.to_string(),
        gross: p.gross.to_string(),
        exempt: split.exempt.to_string(),
        taxable: split.taxable.to_string(),
        coverage: split.coverage.as_str().to_owned(),
        reversed,
        late_registration: p.late_registration,
        registered_at: utc(p.created_at),
    }
}

/// Builds the view of an adjustment.
pub fn adjustment_view(a: &AdjustmentRow) -> AdjustmentView {
    AdjustmentView {
        id: a.id.clone(),
        payout_id: a.payout_id.to_string(),
        employment_id: a.employment_id.to_string(),
        company_id: a.company_id.to_string(),
        citizen_id: a.citizen_id.clone(),
        year: a.year,
        old_exempt: a.old_exempt.to_string(),
        old_taxable: a.old_taxable.to_string(),
        new_exempt: a.new_exempt.to_string(),
        new_taxable: a.new_taxable.to_string(),
        taxable_change: Money::from_ore(a.new_taxable.ore() - a.old_taxable.ore()).to_string(),
        cause: a.cause.as_str().to_owned(),
        cause_ref: a.cause_ref.clone(),
        created_at: utc(a.created_at),
    }
}

/// The view of a citizen-year after a change.
pub fn balance_summary(b: &YearBalance) -> BalanceSummary {
    BalanceSummary {
        year: b.year,
        cap: b.cap.to_string(),
        cap_provisional: b.cap_provisional,
        remaining: b.remaining.to_string(),
        gross: b.totals.map(|t| t.gross.to_string()),
        exempt: b.totals.map(|t| t.exempt.to_string()),
        taxable: b.totals.map(|t| t.taxable.to_string()),
    }
}

/// The view of a payout registration's or reversal's outcome.
pub fn receipt_view(r: &Receipt) -> PayoutReceipt {
    PayoutReceipt {
        payout: payout_view(&r.payout, r.reversed, Some(&r.split)),
        balance: balance_summary(&r.balance),
        warnings: r
            .notices
            .iter()
            .map(|n| Warning { code: n.kind.as_str().to_owned(), message: n.message.clone() })
            .collect(),
        adjustments: r.adjustments.iter().map(adjustment_view).collect(),
    }
}
