//! A citizen's statement from the national frikort register (socialtfrikort.dk), and how it is
//! reconciled with what Småjob knows.
//!
//! The national register is the truth about a citizen's registered frikort income. A statement
//! lists the register's entries for one income year; [`parse_statement`] reads it (a file in
//! another format is refused whole, a malformed line is named by its line number), and
//! [`reconcile`] lists where it disagrees with Småjob:
//!
//! - an entry from an employer that is not one of the citizen's Småjob employers, and that Småjob
//!   does not know as outside income, is outside income to record;
//! - outside income Småjob knows, paid no later than the day the statement was drawn, that the
//!   register does not have, is to be withdrawn;
//! - for a Småjob employer, the register's amount per payment date must equal the exempt amount
//!   Småjob splits to it; a difference is a registration to correct in the register, which
//!   accepting the statement does not change (Småjob's own payouts are its records).
//!
//! Nothing changes until a coordinator accepts the reconciliation.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};

use crate::cvr::Cvr;
use crate::money::Money;

/// The header a statement starts with (fields separated by `;`, the register's export format).
pub const STATEMENT_HEADER: [&str; 4] = ["CVR", "Arbejdsgiver", "Udbetalingsdato", "Beløb"];

/// The most entries one statement may have (a year of weekly pay from many employers fits).
pub const MAX_STATEMENT_LINES: usize = 5_000;

/// Where an imported statement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementStatus {
    /// Imported; nothing changed yet.
    Pending,
    /// A coordinator accepted its differences; the citizen-year is reconciled as of its date.
    Accepted,
    /// Another statement of the same citizen-year was accepted first.
    Superseded,
}

crate::coded_enum!(StatementStatus, "register statement status" {
    Pending => "pending",
    Accepted => "accepted",
    Superseded => "superseded",
});

/// One entry of a register statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    /// The line of the file it was read from (the header is line 1).
    pub line: u32,
    /// The employer that registered it.
    pub employer_cvr: Cvr,
    /// The employer's name as the register shows it.
    pub employer_name: String,
    /// The day the employer paid it.
    pub payment_date: NaiveDate,
    /// The frikort amount registered.
    pub amount: Money,
}

/// What is wrong with one line of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The line of the file (the header is line 1).
    pub line: u32,
    /// The column: `cvr`, `employer`, `payment_date`, `amount`, or `line` for the line as a whole.
    pub field: &'static str,
    /// A stable snake_case code.
    pub code: &'static str,
    /// What is wrong, for a person.
    pub message: String,
}

/// Why a statement is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// Not a register statement at all (no or another header, another separator, not text):
    /// refused as a whole.
    #[error("not a register statement: {0}")]
    UnknownFormat(String),
    /// A register statement with lines that cannot be read; nothing of it is used.
    #[error("{} line(s) of the statement cannot be read", .0.len())]
    MalformedLines(Vec<LineError>),
}

/// Reads a statement for income year `year`, drawn from the register on `drawn_on`.
///
/// The file is `;`-separated with the header [`STATEMENT_HEADER`] (a byte-order mark, case and
/// surrounding spaces aside). Dates are `YYYY-MM-DD` or `DD-MM-YYYY`; amounts are positive
/// kroner with a decimal comma or point (`1.234,50`, `1234,50`, `1234.50`). Every line must be
/// paid in `year` and no later than `drawn_on`. Every malformed line is listed, not only the
/// first.
pub fn parse_statement(text: &str, year: i32, drawn_on: NaiveDate) -> Result<Vec<StatementLine>, StatementError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Line by line, so a line number is the file's own (the csv reader skips blank lines without
    // counting them); a field may still be quoted, but not span lines.
    let mut numbered = text.lines().zip(1u32..).filter(|(l, _)| !l.trim().is_empty());
    let header = match numbered.next() {
        None => return Err(StatementError::UnknownFormat("the file is empty".into())),
        Some((header, _)) => read_record(header)
            .map_err(|e| StatementError::UnknownFormat(format!("the first line cannot be read: {e}")))?,
    };
    let fields: Vec<&str> = header.iter().map(str::trim).collect();
    let matches = fields.len() == STATEMENT_HEADER.len()
        && fields.iter().zip(STATEMENT_HEADER).all(|(got, want)| got.to_lowercase() == want.to_lowercase());
    if !matches {
        return Err(StatementError::UnknownFormat(format!(
            "the first line must be the header `{}`",
            STATEMENT_HEADER.join(";")
        )));
    }
    let mut lines = Vec::new();
    let mut errors = Vec::new();
    for (text, line) in numbered {
        if lines.len() + errors.len() >= MAX_STATEMENT_LINES {
            return Err(StatementError::UnknownFormat(format!("a statement has at most {MAX_STATEMENT_LINES} lines")));
        }
        let record = match read_record(text) {
            Ok(r) => r,
            Err(e) => {
                errors.push(LineError { line, field: "line", code: "unreadable", message: e.to_string() });
                continue;
            }
        };
        match parse_line(line, &record, year, drawn_on) {
            Ok(parsed) => lines.push(parsed),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() { Ok(lines) } else { Err(StatementError::MalformedLines(errors)) }
}

/// One line's fields.
fn read_record(line: &str) -> Result<csv::StringRecord, csv::Error> {
    let mut reader =
        csv::ReaderBuilder::new().delimiter(b';').has_headers(false).flexible(true).from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    reader.read_record(&mut record)?;
    Ok(record)
}

fn parse_line(
    line: u32,
    record: &csv::StringRecord,
    year: i32,
    drawn_on: NaiveDate,
) -> Result<StatementLine, Vec<LineError>> {
    let error = |field, code, message: String| LineError { line, field, code, message };
    if record.len() != STATEMENT_HEADER.len() {
        return Err(vec![error(
            "line",
            "field_count",
            format!("the line has {} fields where the header has {}", record.len(), STATEMENT_HEADER.len()),
        )]);
    }
    let field = |i: usize| record.get(i).unwrap_or("").trim();
    let mut errors = Vec::new();
    let cvr = Cvr::parse(field(0)).map_err(|e| errors.push(error("cvr", e.code(), e.to_string()))).ok();
    let name = field(1);
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(error("employer", "invalid", "the employer's name must be 1 to 200 characters".into()));
    }
    let date = parse_date(field(2));
    match date {
        None => errors.push(error("payment_date", "invalid", "a date is YYYY-MM-DD or DD-MM-YYYY".into())),
        Some(d) if d.year() != year => {
            errors.push(error(
                "payment_date",
                "other_year",
                format!("the statement is for {year}; this is paid in {}", d.year()),
            ));
        }
        Some(d) if d > drawn_on => {
            errors.push(error(
                "payment_date",
                "after_drawn_on",
                format!("paid after the statement was drawn ({drawn_on})"),
            ));
        }
        Some(_) => {}
    }
    let amount = Money::parse_positive(&decimal_point(field(3)))
        .map_err(|e| errors.push(error("amount", e.code(), e.to_string())))
        .ok();
    match (cvr, date, amount) {
        (Some(employer_cvr), Some(payment_date), Some(amount)) if errors.is_empty() => {
            Ok(StatementLine { line, employer_cvr, employer_name: name.to_owned(), payment_date, amount })
        }
        _ => Err(errors),
    }
}

/// `YYYY-MM-DD` or `DD-MM-YYYY`.
fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().or_else(|| NaiveDate::parse_from_str(s, "%d-%m-%Y").ok())
}

/// A Danish amount (`1.234,50`) in the point notation [`Money::parse`] reads; an amount without
/// a comma is left as it is.
fn decimal_point(s: &str) -> String {
    if s.contains(',') { s.replace('.', "").replace(',', ".") } else { s.to_owned() }
}

/// What Småjob split as exempt to one of its employers on one payment date (Σ over the
/// employer's payouts paid that day that are not reversed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmaajobRegistration {
    /// The Småjob employer.
    pub employer_cvr: Cvr,
    /// The payment date.
    pub payment_date: NaiveDate,
    /// The exempt amount to be registered for it.
    pub exempt: Money,
}

/// Outside income Småjob knows (not withdrawn).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownOutsideIncome {
    /// The entry's id.
    pub id: String,
    /// The outside employer, when it was recorded.
    pub employer_cvr: Option<Cvr>,
    /// The day it was paid.
    pub payment_date: NaiveDate,
    /// The amount.
    pub amount: Money,
}

/// What kind of disagreement a [`Difference`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DifferenceKind {
    /// The register has outside income Småjob does not know: recorded when accepted.
    MissingInSmaajob,
    /// Småjob knows outside income the register does not have: withdrawn when accepted.
    MissingInRegister,
    /// The register's amount for a Småjob employer's payment date is not the exempt amount
    /// Småjob split: the registration must be corrected in the register; accepting changes
    /// nothing in Småjob.
    RegistrationDiffers,
}

crate::coded_enum!(DifferenceKind, "register difference" {
    MissingInSmaajob => "missing_in_smaajob",
    MissingInRegister => "missing_in_register",
    RegistrationDiffers => "registration_differs",
});

/// One disagreement between a statement and Småjob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What kind.
    pub kind: DifferenceKind,
    /// The employer, when known.
    pub employer_cvr: Option<Cvr>,
    /// The payment date.
    pub payment_date: NaiveDate,
    /// What the register has for it (zero when it has nothing).
    pub register_amount: Money,
    /// What Småjob has for it (zero when it has nothing).
    pub smaajob_amount: Money,
    /// The statement line, for income missing in Småjob.
    pub line: Option<u32>,
    /// Småjob's outside income entry, for income missing in the register.
    pub outside_income_id: Option<String>,
}

/// The result of [`reconcile`]: the differences, and what accepting them does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reconciliation {
    /// Every disagreement, in (payment date, kind, line) order.
    pub differences: Vec<Difference>,
    /// The statement lines to record as outside income, in line order.
    pub to_record: Vec<StatementLine>,
    /// The outside income entries to withdraw, by id.
    pub to_withdraw: Vec<String>,
}

/// Compares a statement's lines with what Småjob knows of the same citizen-year: the CVRs of the
/// citizen's Småjob employers, the exempt amounts Småjob split to them, and the outside income it
/// knows. Payouts and outside income paid after `drawn_on` are not compared (the register could
/// not have them yet).
pub fn reconcile(
    lines: &[StatementLine],
    smaajob_employers: &BTreeSet<Cvr>,
    registrations: &[SmaajobRegistration],
    outside: &[KnownOutsideIncome],
    drawn_on: NaiveDate,
) -> Reconciliation {
    let mut result = Reconciliation::default();

    // Småjob employers: per (employer, date), the register's sum against Småjob's exempt sum.
    let mut per_day: BTreeMap<(Cvr, NaiveDate), (i64, i64)> = BTreeMap::new();
    for l in lines.iter().filter(|l| smaajob_employers.contains(&l.employer_cvr)) {
        per_day.entry((l.employer_cvr, l.payment_date)).or_default().0 += l.amount.ore();
    }
    for r in registrations.iter().filter(|r| r.payment_date <= drawn_on && r.exempt.is_positive()) {
        per_day.entry((r.employer_cvr, r.payment_date)).or_default().1 += r.exempt.ore();
    }
    for ((cvr, date), (register, smaajob)) in per_day {
        if register != smaajob {
            result.differences.push(Difference {
                kind: DifferenceKind::RegistrationDiffers,
                employer_cvr: Some(cvr),
                payment_date: date,
                register_amount: Money::from_ore(register),
                smaajob_amount: Money::from_ore(smaajob),
                line: None,
                outside_income_id: None,
            });
        }
    }

    // Other employers: each line matched to one known entry of the same employer, date and
    // amount, else to one recorded without an employer on the same date and amount.
    let mut unmatched: Vec<&KnownOutsideIncome> = outside.iter().filter(|o| o.payment_date <= drawn_on).collect();
    for l in lines.iter().filter(|l| !smaajob_employers.contains(&l.employer_cvr)) {
        let same = |o: &&KnownOutsideIncome, cvr: Option<Cvr>| {
            o.employer_cvr == cvr && o.payment_date == l.payment_date && o.amount == l.amount
        };
        let found = unmatched
            .iter()
            .position(|o| same(o, Some(l.employer_cvr)))
            .or_else(|| unmatched.iter().position(|o| same(o, None)));
        match found {
            Some(i) => {
                unmatched.remove(i);
            }
            None => {
                result.differences.push(Difference {
                    kind: DifferenceKind::MissingInSmaajob,
                    employer_cvr: Some(l.employer_cvr),
                    payment_date: l.payment_date,
                    register_amount: l.amount,
                    smaajob_amount: Money::ZERO,
                    line: Some(l.line),
                    outside_income_id: None,
                });
                result.to_record.push(l.clone());
            }
        }
    }
    for o in unmatched {
        result.differences.push(Difference {
            kind: DifferenceKind::MissingInRegister,
            employer_cvr: o.employer_cvr,
            payment_date: o.payment_date,
            register_amount: Money::ZERO,
            smaajob_amount: o.amount,
            line: None,
            outside_income_id: Some(o.id.clone()),
        });
        result.to_withdraw.push(o.id.clone());
    }
    result.differences.sort_by(|a, b| {
        (a.payment_date, a.kind, a.line, &a.outside_income_id).cmp(&(
            b.payment_date,
            b.kind,
            b.line,
            &b.outside_income_id,
        ))
    });
    result
}

#[cfg(test)]
mod tests;
