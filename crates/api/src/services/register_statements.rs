//! Register statements: a coordinator imports a citizen's statement from the national frikort
//! register (the truth about registered frikort income) to reconcile a citizen-year. The import
//! lists where the register and Småjob disagree and changes nothing; accepting it records the
//! outside income the register has and Småjob lacked, withdraws outside income the register does
//! not have, re-splits the year, and marks the year reconciled as of the day the statement was
//! drawn. A Småjob employer's registration the register holds another amount for is listed, to be
//! corrected in the register: Småjob's own payouts are its records and stay as they are.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use smaajob_domain::{
    AdjustmentCause, CompanyId, Cvr, Difference, KnownOutsideIncome, OutsideIncomeId, Reconciliation,
    RegisterStatementId, SmaajobRegistration, StatementError, StatementLine, StatementStatus, parse_statement,
    reconcile,
};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::accounting::{self, AdjustmentRow};
use smaajob_persistence::repo::outside_income::{self, OutsideIncomeRow, StatementLineRow, StatementRow};
use smaajob_persistence::repo::{companies, employments, now};
use smaajob_persistence::types::new_record_id;

use crate::services::allocation::{lock_year, reallocate};
use crate::services::audit;
use crate::services::common::{frikort_year, json, today_copenhagen};
use crate::services::error::{Code, FieldIssue, OrNotFound, ServiceError};
use crate::services::outside_income::{NewOutsideIncome, new_row};
use crate::services::payouts::YearBalance;
use crate::services::principal::Principal;
use crate::services::scope;

/// A statement to import, as the coordinator sends it.
#[derive(Debug, Clone)]
pub struct ImportStatement {
    /// The income year the statement covers.
    pub year: i32,
    /// The day it was drawn from the register.
    pub drawn_on: NaiveDate,
    /// The statement file's text.
    pub text: String,
}

/// What an import returns: the statement, pending, and where it disagrees with Småjob.
#[derive(Debug, Clone)]
pub struct ImportedStatement {
    /// The statement as stored.
    pub statement: StatementRow,
    /// How many lines it has.
    pub lines: usize,
    /// Every disagreement; accepting acts on the outside-income ones.
    pub differences: Vec<Difference>,
}

/// What accepting a statement did.
#[derive(Debug, Clone)]
pub struct AcceptedStatement {
    /// The statement, accepted.
    pub statement: StatementRow,
    /// Every disagreement it had (the same as at import).
    pub differences: Vec<Difference>,
    /// Outside income recorded from its lines.
    pub recorded: Vec<OutsideIncomeRow>,
    /// Outside income withdrawn because the register does not have it, by id.
    pub withdrawn: Vec<String>,
    /// Payouts whose split changed.
    pub adjustments: Vec<AdjustmentRow>,
    /// The citizen-year afterwards.
    pub balance: YearBalance,
}

/// Imports a statement of a citizen of the coordinator's municipality. A file of another format is
/// refused as a whole (422 `statement_format_unknown`), a malformed line is named by its line
/// (422 with one field per problem, `statement.line[N].column`). Runs in a write transaction;
/// nothing but the statement itself is written.
pub fn import(
    conn: &mut DbConn,
    principal: &Principal,
    citizen_id: &str,
    cmd: &ImportStatement,
) -> Result<ImportedStatement, ServiceError> {
    let municipality = principal.coordinator()?;
    let year = frikort_year("year", cmd.year)?;
    if cmd.drawn_on > today_copenhagen() {
        return Err(ServiceError::field("drawn_on", "in_future", "the day the statement was drawn has not come yet"));
    }
    if cmd.drawn_on.year() < year {
        return Err(ServiceError::field(
            "drawn_on",
            "before_year",
            "a statement of a year is drawn in that year or later",
        ));
    }
    let citizen = scope::citizen(conn, municipality, citizen_id)?.citizen;
    let lines = parse_statement(&cmd.text, year, cmd.drawn_on).map_err(statement_refused)?;
    let reconciliation = reconciliation(conn, &citizen.id, year, &lines, cmd.drawn_on)?;
    let statement = StatementRow {
        id: new_record_id(),
        citizen_id: citizen.id.clone(),
        year,
        drawn_on: cmd.drawn_on,
        status: StatementStatus::Pending,
        differences: differences_json(&reconciliation.differences)?,
        imported_by: principal.sub().to_owned(),
        imported_by_role: principal.actor().ok_or_else(scope::no_personal_data)?,
        created_at: now(),
        accepted_by: None,
        accepted_at: None,
    };
    let rows: Vec<StatementLineRow> = lines
        .iter()
        .map(|l| StatementLineRow {
            statement_id: statement.id.clone(),
            line: i32::try_from(l.line).unwrap_or(i32::MAX),
            employer_cvr: l.employer_cvr.to_string(),
            employer_name: l.employer_name.clone(),
            payment_date: l.payment_date,
            amount: l.amount,
        })
        .collect();
    outside_income::insert_statement(conn, &statement, &rows)?;
    let details = serde_json::json!({
        "statement_id": statement.id, "year": year, "lines": rows.len(),
        "differences": reconciliation.differences.len(),
    });
    let logged = audit::entry(
        principal,
        "register_statement.imported",
        "citizen",
        &citizen.id,
        Some(&citizen.municipality),
        Some(details),
    );
    audit::record(conn, logged)?;
    Ok(ImportedStatement { statement, lines: rows.len(), differences: reconciliation.differences })
}

/// Accepts a pending statement: what it lists as outside income to record or withdraw is done,
/// the year is re-split, and the year is reconciled as of the statement's date. Refused (409)
/// when the statement is not pending, or when Småjob's records changed since the import so that
/// the differences are no longer those the coordinator saw. Runs in a write transaction.
pub fn accept(
    conn: &mut DbConn,
    principal: &Principal,
    statement_id: &RegisterStatementId,
) -> Result<AcceptedStatement, ServiceError> {
    let municipality = principal.coordinator()?;
    let found = outside_income::find_statement(conn, statement_id).or_not_found("register statement")?;
    let citizen = match scope::citizen_for_change(conn, municipality, &found.citizen_id) {
        Err(ServiceError::NotFound(_)) => return Err(ServiceError::NotFound("register statement")),
        other => other?.citizen,
    };
    let (mut year, cap) = lock_year(conn, &citizen.id, found.year)?;
    let statement = outside_income::find_statement(conn, statement_id)?;
    if statement.status != StatementStatus::Pending {
        return Err(ServiceError::conflict(
            Code::StatementNotPending,
            format!("the statement is {} already", statement.status.as_str()),
        ));
    }
    let lines = stored_lines(conn, &statement.id)?;
    let reconciliation = reconciliation(conn, &citizen.id, statement.year, &lines, statement.drawn_on)?;
    if differences_json(&reconciliation.differences)? != statement.differences {
        return Err(ServiceError::conflict(
            Code::StatementStale,
            "Småjob's records of the year changed since the statement was imported; import it again to see the differences now",
        ));
    }
    let source = format!("the national register's statement drawn on {}", statement.drawn_on);
    let mut recorded = Vec::with_capacity(reconciliation.to_record.len());
    for line in &reconciliation.to_record {
        let income = NewOutsideIncome::from_statement(
            line.payment_date,
            line.amount,
            line.employer_cvr,
            format!("{} ({source})", line.employer_name),
        );
        let row = new_row(principal, &mut year, &income, Some(&statement.id))?;
        outside_income::insert(conn, &row)?;
        recorded.push(row);
    }
    let reason = format!("not in {source}");
    for id in &reconciliation.to_withdraw {
        // The reconciliation names the entries it was given, which were read as typed ids.
        let id = OutsideIncomeId::parse(id).map_err(|e| ServiceError::internal(e.to_string()))?;
        outside_income::withdraw(conn, &id, principal.sub(), &reason, now())?;
    }
    let t = now();
    outside_income::accept_statement(conn, &statement, principal.sub(), t)?;
    let r = reallocate(conn, year, cap, AdjustmentCause::OutsideIncome, Some(statement.id.as_str()))?;
    let details = serde_json::json!({
        "statement_id": statement.id, "recorded": recorded.len(), "withdrawn": reconciliation.to_withdraw.len(),
        "adjustments": r.adjustments.len(),
    });
    let logged = audit::entry(
        principal,
        "register_statement.accepted",
        "citizen",
        &citizen.id,
        Some(&citizen.municipality),
        Some(details),
    );
    audit::record(conn, logged)?;
    let statement = StatementRow {
        status: StatementStatus::Accepted,
        accepted_by: Some(principal.sub().to_owned()),
        accepted_at: Some(t),
        ..statement
    };
    // Only coordinators record outside income or accept statements: the totals are theirs to see.
    let balance = YearBalance::after(&r, true);
    Ok(AcceptedStatement {
        statement,
        differences: reconciliation.differences,
        recorded,
        withdrawn: reconciliation.to_withdraw,
        adjustments: r.adjustments,
        balance,
    })
}

/// The refusal of a statement that cannot be read.
fn statement_refused(e: StatementError) -> ServiceError {
    match e {
        StatementError::UnknownFormat(why) => {
            ServiceError::rule(Code::StatementFormatUnknown, format!("not a register statement: {why}"))
        }
        StatementError::MalformedLines(errors) => ServiceError::Invalid(
            errors
                .into_iter()
                .map(|e| {
                    FieldIssue::new(
                        format!("statement.line[{}].{}", e.line, e.field),
                        e.code,
                        format!("line {}: {}", e.line, e.message),
                    )
                })
                .collect(),
        ),
    }
}

/// A stored statement's lines as the domain reads them.
fn stored_lines(conn: &mut DbConn, statement_id: &RegisterStatementId) -> Result<Vec<StatementLine>, ServiceError> {
    outside_income::lines_of(conn, statement_id)?
        .into_iter()
        .map(|l| {
            let employer_cvr = Cvr::parse(&l.employer_cvr)
                .map_err(|_| ServiceError::internal(format!("stored statement line {} has no CVR", l.line)))?;
            Ok(StatementLine {
                line: u32::try_from(l.line).map_err(|_| ServiceError::internal("a stored line number is negative"))?,
                employer_cvr,
                employer_name: l.employer_name,
                payment_date: l.payment_date,
                amount: l.amount,
            })
        })
        .collect()
}

/// Compares a statement's lines with what Småjob knows of the citizen-year now.
fn reconciliation(
    conn: &mut DbConn,
    citizen_id: &str,
    year: i32,
    lines: &[StatementLine],
    drawn_on: NaiveDate,
) -> Result<Reconciliation, ServiceError> {
    let mut cvr_of: BTreeMap<CompanyId, Cvr> = BTreeMap::new();
    for employment in employments::of_citizen(conn, citizen_id)? {
        if cvr_of.contains_key(&employment.company_id) {
            continue;
        }
        let company = companies::find(conn, &employment.company_id)?;
        let cvr = Cvr::parse(&company.cvr).map_err(|_| {
            ServiceError::internal(format!("company {} has a stored CVR that does not read", company.id))
        })?;
        cvr_of.insert(employment.company_id, cvr);
    }
    let employers: BTreeSet<Cvr> = cvr_of.values().copied().collect();
    let mut registrations = Vec::new();
    for (payout, reversed) in accounting::payouts_of_year(conn, citizen_id, year)? {
        let Some(cvr) = cvr_of.get(&payout.company_id) else { continue };
        if !reversed {
            registrations.push(SmaajobRegistration {
                employer_cvr: *cvr,
                payment_date: payout.payment_date,
                exempt: payout.exempt,
            });
        }
    }
    let mut known = Vec::new();
    for o in outside_income::of_year(conn, citizen_id, year)? {
        if o.withdrawn() {
            continue;
        }
        let employer_cvr = o.employer_cvr.as_deref().map(Cvr::parse).transpose().map_err(|_| {
            ServiceError::internal(format!("outside income {} has a stored CVR that does not read", o.id))
        })?;
        known.push(KnownOutsideIncome {
            id: o.id.into(),
            employer_cvr,
            payment_date: o.payment_date,
            amount: o.amount,
        });
    }
    Ok(reconcile(lines, &employers, &registrations, &known, drawn_on))
}

/// The differences as stored with a statement, to see at acceptance whether they still hold.
fn differences_json(differences: &[Difference]) -> Result<String, ServiceError> {
    let items: Vec<serde_json::Value> = differences
        .iter()
        .map(|d| {
            serde_json::json!({
                "kind": d.kind.as_str(),
                "employer_cvr": d.employer_cvr.map(|c| c.to_string()),
                "payment_date": d.payment_date,
                "register_amount": d.register_amount.to_string(),
                "smaajob_amount": d.smaajob_amount.to_string(),
                "line": d.line,
                "outside_income_id": d.outside_income_id,
            })
        })
        .collect();
    json(&items)
}
