//! Register entries: every exempt amount is registered with the national frikort solution
//! (socialtfrikort.dk) by the coordinator, who does the paperwork for the companies. Each payout
//! with an exempt part gets a registration to type in; when a re-allocation (a reversal, a
//! back-dated payout, a cap change, a card decision, outside income) changes the exempt part of a
//! registered payout, the registered entry needs correction and the correction to make is an entry
//! of its own. Entries are kept in step with the payout's split in the transaction that splits it
//! ([`follow_split`]), so the entries that are not cancelled always move the register by exactly
//! the payouts' exempt amounts.

use chrono::NaiveDate;
use smaajob_domain::{
    ChainState, CitizenId, CompanyId, EntryAction, NationalReference, PendingEntry, RegisterEntryId, RegisterEntryKind,
    RegisterEntryStatus, mask_birth_date, plan_register_entries, registration_due,
};
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::accounting::PayoutRow;
use smaajob_persistence::repo::audit::NewAuditEntry;
use smaajob_persistence::repo::register_entries::{self, EntryFilter, ListedEntry, RegisterEntryRow};
use smaajob_persistence::repo::{Page, frikort, now};
use smaajob_persistence::{DbConn, RepoError};

use crate::services::audit::{self, Audited};
use crate::services::common::today_copenhagen;
use crate::services::error::{Code, OrNotFound, ServiceError};
use crate::services::principal::Principal;

/// Keeps a payout's register entries in step with its split, as just stored: a first exempt part
/// is a registration to make, a change of a registered one a correction, a change of a pending
/// one amends it. Runs in the transaction that stores the split.
pub fn follow_split(conn: &mut DbConn, payout: &PayoutRow) -> Result<(), ServiceError> {
    let entries = register_entries::of_payout(conn, &payout.id)?;
    let pending = entries.iter().find(|e| e.status == RegisterEntryStatus::Pending);
    let standing = entries.iter().rev().find(|e| e.status == RegisterEntryStatus::Registered);
    let state = ChainState {
        standing: match pending {
            Some(p) => (p.kind == RegisterEntryKind::Correction).then_some(p.previous_exempt),
            None => standing.map(|e| e.exempt),
        },
        pending: pending.map(|p| PendingEntry { previous_exempt: p.previous_exempt, exempt: p.exempt }),
    };
    let t = now();
    match plan_register_entries(state, payout.exempt) {
        EntryAction::Nothing => {}
        EntryAction::Amend => {
            let p = pending.ok_or_else(|| ServiceError::internal("no pending register entry to amend"))?;
            register_entries::amend(conn, &p.id, payout.exempt, t)?;
        }
        EntryAction::Cancel => {
            let p = pending.ok_or_else(|| ServiceError::internal("no pending register entry to cancel"))?;
            register_entries::set_status(conn, &p.id, RegisterEntryStatus::Cancelled, t)?;
            // The register holds what it held before the correction: the corrected entry stands.
            if let Some(corrected) = &p.corrects_id {
                register_entries::set_status(conn, corrected, RegisterEntryStatus::Registered, t)?;
            }
        }
        EntryAction::Register => {
            let row = new_entry(conn, payout, RegisterEntryKind::Registration, None, payout.payment_date)?;
            register_entries::insert(conn, &row)?;
        }
        EntryAction::Correct => {
            let registered = standing.ok_or_else(|| ServiceError::internal("no registered entry to correct"))?.clone();
            register_entries::set_status(conn, &registered.id, RegisterEntryStatus::NeedsCorrection, t)?;
            let mut row =
                new_entry(conn, payout, RegisterEntryKind::Correction, Some(registered.id), today_copenhagen())?;
            row.previous_exempt = registered.exempt;
            register_entries::insert(conn, &row)?;
        }
    }
    Ok(())
}

/// A new pending entry for a payout's exempt part; `basis` is the day its deadline counts from.
fn new_entry(
    conn: &mut DbConn,
    payout: &PayoutRow,
    kind: RegisterEntryKind,
    corrects_id: Option<RegisterEntryId>,
    basis: NaiveDate,
) -> Result<RegisterEntryRow, ServiceError> {
    // An exempt part needs a card, so a registration without one is a broken invariant.
    let card = frikort::find_by_citizen(conn, &payout.citizen_id)?
        .ok_or_else(|| ServiceError::internal("an exempt payout of a citizen without a card"))?;
    let stored = |e| ServiceError::internal(format!("a stored id does not parse: {e}"));
    let t = now();
    Ok(RegisterEntryRow {
        id: smaajob_persistence::types::new_record_id(),
        payout_id: payout.id.clone(),
        citizen_id: CitizenId::parse(&payout.citizen_id).map_err(stored)?,
        company_id: payout.company_id.clone(),
        year: payout.year,
        kind,
        corrects_id,
        card_number: card.number,
        previous_exempt: smaajob_domain::Money::ZERO,
        exempt: payout.exempt,
        status: RegisterEntryStatus::Pending,
        due_on: registration_due(basis),
        created_at: t,
        updated_at: t,
        registered_by: None,
        registered_at: None,
        national_reference: None,
    })
}

/// Which entries a coordinator asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EntryView {
    /// What is still to do: pending entries and the registered ones that need correction.
    #[default]
    Open,
    /// Entries (registrations and corrections) to type in.
    Pending,
    /// Registered entries whose correction is pending.
    NeedsCorrection,
    /// Pending entries past their due day.
    Overdue,
    /// Registered entries as the register holds them.
    Registered,
    /// Registered entries a registered correction replaced.
    Corrected,
    /// Entries never to be typed in.
    Cancelled,
    /// Every entry.
    All,
}

impl EntryView {
    /// Reads a `status` filter.
    pub fn parse(text: &str) -> Option<EntryView> {
        Some(match text {
            "open" => EntryView::Open,
            "pending" => EntryView::Pending,
            "needs_correction" => EntryView::NeedsCorrection,
            "overdue" => EntryView::Overdue,
            "registered" => EntryView::Registered,
            "corrected" => EntryView::Corrected,
            "cancelled" => EntryView::Cancelled,
            "all" => EntryView::All,
            _ => return None,
        })
    }

    fn filter(self, today: NaiveDate) -> (Vec<RegisterEntryStatus>, Option<NaiveDate>) {
        use RegisterEntryStatus as S;
        match self {
            EntryView::Open => (vec![S::Pending, S::NeedsCorrection], None),
            EntryView::Pending => (vec![S::Pending], None),
            EntryView::NeedsCorrection => (vec![S::NeedsCorrection], None),
            EntryView::Overdue => (vec![S::Pending], Some(today)),
            EntryView::Registered => (vec![S::Registered], None),
            EntryView::Corrected => (vec![S::Corrected], None),
            EntryView::Cancelled => (vec![S::Cancelled], None),
            EntryView::All => (Vec::new(), None),
        }
    }
}

/// A coordinator's question for entries.
#[derive(Debug, Clone, Default)]
pub struct EntryQuery {
    /// Which entries.
    pub view: EntryView,
    /// Only this employer's.
    pub company_id: Option<CompanyId>,
    /// Only this income year's.
    pub year: Option<i32>,
}

/// An entry as the coordinator sees it, with whether it is overdue today.
#[derive(Debug, Clone)]
pub struct SeenEntry {
    /// The entry and what it is typed in with.
    pub listed: ListedEntry,
    /// Pending and past its due day.
    pub overdue: bool,
    /// The citizen's CPR masked (`DDMMYY-XXXX`).
    pub cpr_masked: String,
}

/// One page of entries.
#[derive(Debug)]
pub struct EntryPage {
    /// The entries of the page, the earliest due first.
    pub items: Vec<SeenEntry>,
    /// How many entries the question has in all.
    pub total: i64,
}

fn seen(listed: ListedEntry, today: NaiveDate) -> SeenEntry {
    let overdue = smaajob_domain::is_overdue(listed.entry.status, listed.entry.due_on, today);
    let cpr_masked = mask_birth_date(listed.birth_date);
    SeenEntry { listed, overdue, cpr_masked }
}

/// One audit entry per citizen whose (masked or full) CPR the read shows.
fn logged(principal: &Principal, action: &str, own: &str, entries: &[SeenEntry]) -> Vec<NewAuditEntry> {
    let mut citizens: Vec<&CitizenId> = entries.iter().map(|e| &e.listed.entry.citizen_id).collect();
    citizens.sort();
    citizens.dedup();
    citizens.into_iter().map(|c| audit::entry(principal, action, "citizen", c.as_str(), Some(own), None)).collect()
}

/// One page of the register entries of the coordinator's municipality's citizens. An audited read.
pub fn list(
    conn: &mut DbConn,
    principal: &Principal,
    query: &EntryQuery,
    page: Page,
) -> Result<Audited<EntryPage>, ServiceError> {
    let own = principal.coordinator()?.to_string();
    let today = today_copenhagen();
    let (statuses, due_before) = query.view.filter(today);
    let filter = EntryFilter { statuses, due_before, company_id: query.company_id.clone(), year: query.year };
    let (rows, total) = register_entries::page_of_municipality(conn, &own, &filter, page)?;
    let items: Vec<SeenEntry> = rows.into_iter().map(|r| seen(r, today)).collect();
    let entries = logged(principal, "register_entry.listed", &own, &items);
    Ok(Audited::new(EntryPage { items, total }, entries))
}

/// The most entries one export holds (a month of a large municipality fits many times over).
pub const MAX_EXPORT_ENTRIES: i64 = 10_000;

/// An entry for the export, with the citizen's full CPR (the register needs it).
#[derive(Debug, Clone)]
pub struct ExportedEntry {
    /// The entry as the list shows it.
    pub seen: SeenEntry,
    /// The ten digits of the CPR number.
    pub cpr: String,
}

/// The entries of a question for typing into the register, with full CPR numbers: the one place
/// the coordinator sees them. At most [`MAX_EXPORT_ENTRIES`]. An audited read.
pub fn export(
    conn: &mut DbConn,
    key: &DataKey,
    principal: &Principal,
    query: &EntryQuery,
) -> Result<Audited<Vec<ExportedEntry>>, ServiceError> {
    let listed = list(conn, principal, query, Page { limit: MAX_EXPORT_ENTRIES, offset: 0 })?.value;
    let own = principal.coordinator()?.to_string();
    let entries = logged(principal, "register_entry.exported", &own, &listed.items);
    let exported = listed
        .items
        .into_iter()
        .map(|seen| {
            let cpr = key.decrypt(seen.listed.entry.citizen_id.as_str(), &seen.listed.cpr_ciphertext)?;
            Ok(ExportedEntry { seen, cpr })
        })
        .collect::<Result<Vec<_>, RepoError>>()?;
    Ok(Audited::new(exported, entries))
}

/// Marks a pending entry of the coordinator's municipality registered, with the reference the
/// national register gave it; a registered correction makes the entry it corrects `corrected`.
/// Runs in a write transaction; the change is audited.
pub fn mark_registered(
    conn: &mut DbConn,
    principal: &Principal,
    id: &RegisterEntryId,
    reference: &NationalReference,
) -> Result<SeenEntry, ServiceError> {
    let own = principal.coordinator()?.to_string();
    let found = register_entries::find_listed(conn, id).or_not_found("register entry")?;
    if found.municipality != own {
        return Err(ServiceError::NotFound("register entry"));
    }
    let t = now();
    match register_entries::mark_registered(conn, id, principal.sub(), reference.as_str(), t) {
        Err(RepoError::NotFound) => {
            return Err(ServiceError::conflict(
                Code::RegisterEntryNotPending,
                format!(
                    "the register entry is {}, not pending: only a pending entry is registered",
                    found.entry.status
                ),
            ));
        }
        other => other?,
    }
    if let Some(corrected) = &found.entry.corrects_id {
        register_entries::set_status(conn, corrected, RegisterEntryStatus::Corrected, t)?;
    }
    let details = serde_json::json!({
        "register_entry_id": id.as_str(), "kind": found.entry.kind.as_str(), "national_reference": reference.as_str(),
    });
    let entry = audit::entry(
        principal,
        "register_entry.registered",
        "citizen",
        found.entry.citizen_id.as_str(),
        Some(&own),
        Some(details),
    );
    audit::record(conn, entry)?;
    let listed = register_entries::find_listed(conn, id)?;
    Ok(seen(listed, today_copenhagen()))
}
