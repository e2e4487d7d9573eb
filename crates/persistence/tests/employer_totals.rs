//! The employers' totals of a citizen-year against real databases, on both backends: a payout's
//! share adds to its employer's row (created by the first), a re-split replaces the year's rows,
//! the rows read back with the employers' names, and the covered payouts paid after a day are
//! found (the balance's pace counts only what is paid).

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use chrono::NaiveDate;
use common::migrated;
use smaajob_domain::{
    Actor, CompanyId, Coverage, EmploymentId, Money, TransportMode, Verification, WeeklyAvailability,
};
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::accounting::{self, CitizenYearRow, PayoutRow};
use smaajob_persistence::repo::citizens::CitizenRow;
use smaajob_persistence::repo::companies::CompanyRow;
use smaajob_persistence::repo::employer_totals::{self, EmployerTotalsRow};
use smaajob_persistence::repo::employments::EmploymentRow;
use smaajob_persistence::repo::{self, citizens, companies, employments};
use smaajob_persistence::testing::TestDatabase;
use smaajob_persistence::types::{Json, new_record_id};
use smaajob_persistence::{DbConn, write_transaction};

const YEAR: i32 = 2024;

fn day(month: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(YEAR, month, d).unwrap()
}

fn company(conn: &mut DbConn, cvr: &str, name: &str) -> String {
    let t = repo::now();
    let row = CompanyRow {
        id: new_record_id(),
        cvr: cvr.to_owned(),
        name: name.to_owned(),
        address: None,
        postcode: None,
        lat: None,
        lon: None,
        contact_name: "Karen Bager".to_owned(),
        contact_phone: None,
        contact_email: None,
        verification: Verification::Verified,
        verification_reason: None,
        municipality: Some("730".to_owned()),
        created_at: t,
        updated_at: t,
    };
    companies::insert(conn, &row).unwrap();
    row.id.to_string()
}

/// A citizen with a citizen-year of [`YEAR`] and an employment at each company; the employments'
/// ids, in the companies' order.
fn citizen_with_year(conn: &mut DbConn, companies: &[&str]) -> (String, Vec<EmploymentId>) {
    let key = DataKey::from_bytes(&[7; 32]);
    let id = repo::new_id();
    let t = repo::now();
    let citizen = CitizenRow {
        cpr_hash: key.lookup_hash("0101901234"),
        cpr_ciphertext: key.encrypt(&id, "0101901234"),
        id: id.clone(),
        birth_date: NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
        name: "Jens Hansen".to_owned(),
        phone: None,
        municipality: "730".to_owned(),
        skills: Json(Vec::new()),
        availability: Json(WeeklyAvailability::default()),
        home_lat: None,
        home_lon: None,
        postcode: None,
        transport_modes: Json(vec![TransportMode::Bicycle]),
        max_travel_minutes: 45,
        created_at: t,
        updated_at: t,
    };
    citizens::insert(conn, &citizen).unwrap();
    let year = CitizenYearRow {
        citizen_id: id.clone(),
        year: YEAR,
        cap: Money::from_kroner(41_280),
        cap_provisional: false,
        gross: Money::ZERO,
        exempt: Money::ZERO,
        taxable: Money::ZERO,
        payout_count: 0,
        next_sequence: 1,
        updated_at: t,
    };
    accounting::lock_year(conn, &year).unwrap();
    let employments = companies
        .iter()
        .map(|company_id| {
            let row = EmploymentRow {
                id: new_record_id(),
                citizen_id: id.clone(),
                company_id: CompanyId::parse(company_id).unwrap(),
                start_date: day(1, 1),
                end_date: None,
                expected_hours_per_week: None,
                expected_pay: None,
                contact_name: "Karen Bager".into(),
                contact_phone: None,
                contact_email: None,
                registered_at: t,
                registered_by: "coord-730".into(),
                registered_by_role: Actor::Coordinator,
                ended_at: None,
                end_reason: None,
            };
            employments::insert(conn, &row).unwrap();
            row.id
        })
        .collect();
    (id, employments)
}

fn share(citizen: &str, company: &str, gross: i64, exempt: i64, covered: i64, count: i32) -> EmployerTotalsRow {
    EmployerTotalsRow {
        citizen_id: citizen.to_owned(),
        year: YEAR,
        company_id: CompanyId::parse(company).unwrap(),
        gross: Money::from_ore(gross),
        exempt: Money::from_ore(exempt),
        taxable: Money::from_ore(gross - exempt),
        covered_gross: Money::from_ore(covered),
        payout_count: count,
    }
}

fn read(conn: &mut DbConn, citizen: &str) -> Vec<(String, i64, i64, i64, i64, i32, String)> {
    employer_totals::of_year(conn, citizen, YEAR)
        .unwrap()
        .into_iter()
        .map(|(s, name)| {
            (
                s.company_id.to_string(),
                s.gross.ore(),
                s.exempt.ore(),
                s.taxable.ore(),
                s.covered_gross.ore(),
                s.payout_count,
                name,
            )
        })
        .collect()
}

on_both_backends! {
    fn a_payout_s_share_adds_to_its_employer_s_row_and_a_re_split_replaces_the_year_s_rows(db) {
        let pool = migrated(db);
        let mut conn = pool.get().unwrap();
        write_transaction(&mut conn, |c| {
            let (a, b) = (company(c, "10150817", "Bager Hansen"), company(c, "20150816", "Tømrer Olsen"));
            let (citizen, _) = citizen_with_year(c, &[&a, &b]);
            assert!(read(c, &citizen).is_empty());

            employer_totals::add(c, &share(&citizen, &a, 10_000, 10_000, 10_000, 1))?;
            employer_totals::add(c, &share(&citizen, &a, 5_000, 2_000, 5_000, 1))?;
            employer_totals::add(c, &share(&citizen, &b, 7_000, 0, 0, 1))?;
            let mut expected = vec![
                (a.clone(), 15_000, 12_000, 3_000, 15_000, 2, "Bager Hansen".to_owned()),
                (b.clone(), 7_000, 0, 7_000, 0, 1, "Tømrer Olsen".to_owned()),
            ];
            expected.sort();
            assert_eq!(read(c, &citizen), expected);

            // A re-split: employer b's only payout reversed, a's split anew.
            employer_totals::replace_year(c, &citizen, YEAR, &[share(&citizen, &a, 15_000, 15_000, 15_000, 2)])?;
            assert_eq!(read(c, &citizen), vec![(a.clone(), 15_000, 15_000, 0, 15_000, 2, "Bager Hansen".to_owned())]);
            employer_totals::replace_year(c, &citizen, YEAR, &[])?;
            assert!(read(c, &citizen).is_empty());
            Ok::<(), smaajob_persistence::RepoError>(())
        })
        .unwrap();
    }

    fn the_covered_gross_paid_after_a_day_counts_only_covered_payouts_paid_later(db) {
        let pool = migrated(db);
        let mut conn = pool.get().unwrap();
        write_transaction(&mut conn, |c| {
            let a = company(c, "10150817", "Bager Hansen");
            let (citizen, employments) = citizen_with_year(c, &[&a]);
            let payouts = [
                (day(3, 1), 10_000, Coverage::Covered),
                (day(3, 20), 20_000, Coverage::Covered),
                (day(3, 21), 40_000, Coverage::CardInactive),
                (day(3, 31), 80_000, Coverage::Covered),
            ];
            for (sequence, (paid, gross, coverage)) in (1..).zip(payouts) {
                let covered = coverage == Coverage::Covered;
                accounting::insert_payout(
                    c,
                    &PayoutRow {
                        id: new_record_id(),
                        employment_id: employments[0].clone(),
                        citizen_id: citizen.clone(),
                        company_id: CompanyId::parse(&a).unwrap(),
                        year: YEAR,
                        sequence,
                        payment_date: paid,
                        worked_from: day(1, 1),
                        worked_to: day(1, 1),
                        wage: Money::from_ore(gross),
                        holiday_pay: Money::ZERO,
                        holiday_pay_separate: true,
                        pension: Money::ZERO,
                        gross: Money::from_ore(gross),
                        exempt: Money::from_ore(if covered { gross } else { 0 }),
                        taxable: Money::from_ore(if covered { 0 } else { gross }),
                        coverage,
                        late_registration: false,
                        registered_by: "coord-730".into(),
                        registered_by_role: Actor::Coordinator,
                        created_at: repo::now(),
                    },
                )?;
            }
            let after = |c: &mut DbConn, d| employer_totals::covered_gross_paid_after(c, &citizen, YEAR, d).unwrap().ore();
            assert_eq!(after(c, day(2, 28)), 110_000);
            assert_eq!(after(c, day(3, 1)), 100_000, "a payout paid on the day itself is paid");
            assert_eq!(after(c, day(3, 20)), 80_000, "the uncovered payout does not count");
            assert_eq!(after(c, day(3, 31)), 0);
            Ok::<(), smaajob_persistence::RepoError>(())
        })
        .unwrap();
    }
}
