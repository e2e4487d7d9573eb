//! Register entries: the registrations and corrections to type into the national frikort
//! solution, one chain per payout with an exempt part (the rule that keeps a chain in step with
//! the payout's split is the domain's `register_entry::plan`).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use smaajob_domain::{CitizenId, CompanyId, Money, PayoutId, RegisterEntryId, RegisterEntryKind, RegisterEntryStatus};

use crate::db::{DbConn, MultiBackend};
use crate::error::RepoError;
use crate::repo::Page;
use crate::schema::{citizens, companies, payouts, register_entries};
use crate::types::{Code, IdText, NullableIdText, Ore};

/// One register entry.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = register_entries, check_for_backend(MultiBackend))]
pub struct RegisterEntryRow {
    /// Row id.
    #[diesel(serialize_as = IdText)]
    pub id: RegisterEntryId,
    /// The payout whose exempt part it registers or corrects.
    #[diesel(serialize_as = IdText)]
    pub payout_id: PayoutId,
    /// The employee.
    #[diesel(serialize_as = IdText)]
    pub citizen_id: CitizenId,
    /// The employer.
    #[diesel(serialize_as = IdText)]
    pub company_id: CompanyId,
    /// The payout's income year.
    pub year: i32,
    /// A registration, or a correction of a registered entry.
    #[diesel(serialize_as = Code)]
    pub kind: RegisterEntryKind,
    /// The registered entry a correction corrects.
    #[diesel(serialize_as = NullableIdText)]
    pub corrects_id: Option<RegisterEntryId>,
    /// The citizen's frikort number when the entry was made.
    pub card_number: String,
    /// What the register holds for the payout before this entry, øre (zero for a registration).
    #[diesel(column_name = previous_exempt_ore, serialize_as = Ore)]
    pub previous_exempt: Money,
    /// What the register must hold for the payout after it, øre.
    #[diesel(column_name = exempt_ore, serialize_as = Ore)]
    pub exempt: Money,
    /// Where it stands.
    #[diesel(serialize_as = Code)]
    pub status: RegisterEntryStatus,
    /// The day by which it is to be registered.
    pub due_on: NaiveDate,
    /// Made (UTC).
    pub created_at: NaiveDateTime,
    /// Last changed (UTC).
    pub updated_at: NaiveDateTime,
    /// The subject of the token that marked it registered.
    pub registered_by: Option<String>,
    /// When it was marked registered (UTC).
    pub registered_at: Option<NaiveDateTime>,
    /// The reference the national register gave it.
    pub national_reference: Option<String>,
}

impl RegisterEntryRow {
    /// How much the entry moves what the register holds for the payout.
    pub fn change(&self) -> Money {
        Money::from_ore(self.exempt.ore() - self.previous_exempt.ore())
    }
}

/// The payout facts an entry shows (they never change after the payout is registered).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = payouts, check_for_backend(MultiBackend))]
pub struct EntryPayout {
    /// Payment date.
    pub payment_date: NaiveDate,
    /// First day worked.
    pub worked_from: NaiveDate,
    /// Last day worked.
    pub worked_to: NaiveDate,
    /// Wage, øre.
    #[diesel(column_name = wage_ore)]
    pub wage: Money,
    /// Holiday pay, øre.
    #[diesel(column_name = holiday_pay_ore)]
    pub holiday_pay: Money,
    /// Pension, øre.
    #[diesel(column_name = pension_ore)]
    pub pension: Money,
}

/// An entry with what it is to be typed in with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedEntry {
    /// The entry.
    pub entry: RegisterEntryRow,
    /// Its payout.
    pub payout: EntryPayout,
    /// The employer's CVR number.
    pub employer_cvr: String,
    /// The employer's name.
    pub employer_name: String,
    /// The citizen's name.
    pub citizen_name: String,
    /// The citizen's birth date (the masked CPR is made from it).
    pub birth_date: NaiveDate,
    /// The citizen's encrypted CPR (bound to the citizen's id), for the coordinator's export only.
    pub cpr_ciphertext: String,
    /// The citizen's municipality now.
    pub municipality: String,
}

/// Which entries a list shows.
#[derive(Debug, Clone)]
pub struct EntryFilter {
    /// Only these statuses (every status when empty).
    pub statuses: Vec<RegisterEntryStatus>,
    /// Only entries due before this day.
    pub due_before: Option<NaiveDate>,
    /// Only this employer's.
    pub company_id: Option<CompanyId>,
    /// Only this income year's.
    pub year: Option<i32>,
}

/// Inserts an entry.
pub fn insert(conn: &mut DbConn, row: &RegisterEntryRow) -> Result<(), RepoError> {
    diesel::insert_into(register_entries::table).values(row.clone()).execute(conn)?;
    Ok(())
}

/// One entry.
pub fn find(conn: &mut DbConn, id: &RegisterEntryId) -> Result<RegisterEntryRow, RepoError> {
    Ok(register_entries::table.find(id.as_str()).select(RegisterEntryRow::as_select()).first(conn)?)
}

/// A payout's entries, cancelled ones included, in the order they were made.
pub fn of_payout(conn: &mut DbConn, payout_id: &PayoutId) -> Result<Vec<RegisterEntryRow>, RepoError> {
    Ok(register_entries::table
        .filter(register_entries::payout_id.eq(payout_id.as_str()))
        .order((register_entries::created_at.asc(), register_entries::id.asc()))
        .select(RegisterEntryRow::as_select())
        .load(conn)?)
}

/// Sets an entry's status.
pub fn set_status(
    conn: &mut DbConn,
    id: &RegisterEntryId,
    status: RegisterEntryStatus,
    at: NaiveDateTime,
) -> Result<(), RepoError> {
    let n = diesel::update(register_entries::table.find(id.as_str()))
        .set((register_entries::status.eq(status.as_str()), register_entries::updated_at.eq(at)))
        .execute(conn)?;
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Changes the amount a pending entry says the register must hold.
pub fn amend(conn: &mut DbConn, id: &RegisterEntryId, exempt: Money, at: NaiveDateTime) -> Result<(), RepoError> {
    let n = diesel::update(
        register_entries::table
            .find(id.as_str())
            .filter(register_entries::status.eq(RegisterEntryStatus::Pending.as_str())),
    )
    .set((register_entries::exempt_ore.eq(exempt.ore()), register_entries::updated_at.eq(at)))
    .execute(conn)?;
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

/// Marks a pending entry registered with the national register's reference; `NotFound` when it is
/// not pending (any more).
pub fn mark_registered(
    conn: &mut DbConn,
    id: &RegisterEntryId,
    by: &str,
    reference: &str,
    at: NaiveDateTime,
) -> Result<(), RepoError> {
    let n = diesel::update(
        register_entries::table
            .find(id.as_str())
            .filter(register_entries::status.eq(RegisterEntryStatus::Pending.as_str())),
    )
    .set((
        register_entries::status.eq(RegisterEntryStatus::Registered.as_str()),
        register_entries::registered_by.eq(Some(by)),
        register_entries::registered_at.eq(Some(at)),
        register_entries::national_reference.eq(Some(reference)),
        register_entries::updated_at.eq(at),
    ))
    .execute(conn)?;
    if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
}

type EntryColumns = (
    diesel::dsl::AsSelect<RegisterEntryRow, MultiBackend>,
    diesel::dsl::AsSelect<EntryPayout, MultiBackend>,
    companies::cvr,
    companies::name,
    citizens::name,
    citizens::birth_date,
    citizens::cpr_ciphertext,
    citizens::municipality,
);

fn columns() -> EntryColumns {
    (
        RegisterEntryRow::as_select(),
        EntryPayout::as_select(),
        companies::cvr,
        companies::name,
        citizens::name,
        citizens::birth_date,
        citizens::cpr_ciphertext,
        citizens::municipality,
    )
}

type Loaded = (RegisterEntryRow, EntryPayout, String, String, String, NaiveDate, String, String);

fn listed(
    (entry, payout, employer_cvr, employer_name, citizen_name, birth_date, cpr_ciphertext, municipality): Loaded,
) -> ListedEntry {
    ListedEntry { entry, payout, employer_cvr, employer_name, citizen_name, birth_date, cpr_ciphertext, municipality }
}

/// One entry with what it is typed in with.
pub fn find_listed(conn: &mut DbConn, id: &RegisterEntryId) -> Result<ListedEntry, RepoError> {
    let loaded: Loaded = register_entries::table
        .inner_join(payouts::table)
        .inner_join(citizens::table)
        .inner_join(companies::table)
        .filter(register_entries::id.eq(id.as_str()))
        .select(columns())
        .first(conn)?;
    Ok(listed(loaded))
}

/// One page of the entries of the citizens a municipality is responsible for now, as `filter`
/// says, the earliest due first, and how many there are in all.
pub fn page_of_municipality(
    conn: &mut DbConn,
    municipality: &str,
    filter: &EntryFilter,
    page: Page,
) -> Result<(Vec<ListedEntry>, i64), RepoError> {
    let statuses: Vec<&'static str> = filter.statuses.iter().map(|s| s.as_str()).collect();
    let base = || {
        let mut q = register_entries::table
            .inner_join(payouts::table)
            .inner_join(citizens::table)
            .inner_join(companies::table)
            .filter(citizens::municipality.eq(municipality.to_owned()))
            .into_boxed();
        if !statuses.is_empty() {
            q = q.filter(register_entries::status.eq_any(statuses.clone()));
        }
        if let Some(day) = filter.due_before {
            q = q.filter(register_entries::due_on.lt(day));
        }
        if let Some(company) = &filter.company_id {
            q = q.filter(register_entries::company_id.eq(company.as_str().to_owned()));
        }
        if let Some(year) = filter.year {
            q = q.filter(register_entries::year.eq(year));
        }
        q
    };
    let total: i64 = base().count().get_result(conn)?;
    let rows: Vec<Loaded> = base()
        .order((register_entries::due_on.asc(), register_entries::created_at.asc(), register_entries::id.asc()))
        .select(columns())
        .limit(page.limit)
        .offset(page.offset)
        .load(conn)?;
    Ok((rows.into_iter().map(listed).collect(), total))
}
