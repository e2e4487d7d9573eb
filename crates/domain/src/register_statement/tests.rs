#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn cvr(prefix: u32) -> Cvr {
    Cvr::with_valid_checksum(prefix).unwrap()
}

const DRAWN: (i32, u32, u32) = (2026, 11, 30);

fn drawn() -> NaiveDate {
    day(DRAWN.0, DRAWN.1, DRAWN.2)
}

fn parse(text: &str) -> Result<Vec<StatementLine>, StatementError> {
    parse_statement(text, 2026, drawn())
}

fn header() -> String {
    STATEMENT_HEADER.join(";")
}

#[test]
fn a_statement_is_read_with_danish_dates_and_decimal_commas() {
    let c = cvr(1_000_000);
    let text =
        format!("\u{feff}{}\n{c};Café Ærø ApS;15-03-2026;1.234,50\n{c};Café Ærø ApS;2026-04-01;800.00\n", header());
    let lines = parse(&text).unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].line, 2);
    assert_eq!(lines[0].employer_name, "Café Ærø ApS");
    assert_eq!(lines[0].payment_date, day(2026, 3, 15));
    assert_eq!(lines[0].amount, Money::parse("1234.50").unwrap());
    assert_eq!(lines[1].amount, Money::from_kroner(800));
}

#[test]
fn a_file_without_the_header_is_refused_as_a_whole() {
    for text in ["", "CVR,Arbejdsgiver,Udbetalingsdato,Beløb\n", "Dato;Tekst;Beløb\n2026-01-01;x;1,00\n", "{}"] {
        assert!(matches!(parse(text), Err(StatementError::UnknownFormat(_))), "{text:?}");
    }
}

#[test]
fn every_malformed_line_is_named_by_its_line_number_and_column() {
    let c = cvr(1_000_000);
    let text = format!(
        "{}\n{c};A;2026-01-05;100,00\n12345678;A;2026-01-05;100,00\n{c};A;2026-02-30;100,00\n{c};A;2025-12-31;-5\n{c};A;2026-01-05\n",
        header()
    );
    let Err(StatementError::MalformedLines(errors)) = parse(&text) else { panic!("refused") };
    let named: Vec<(u32, &str, &str)> = errors.iter().map(|e| (e.line, e.field, e.code)).collect();
    assert_eq!(
        named,
        vec![
            (3, "cvr", "cvr_checksum"),
            (4, "payment_date", "invalid"),
            (5, "payment_date", "other_year"),
            (5, "amount", "money_not_positive"),
            (6, "line", "field_count"),
        ]
    );
}

#[test]
fn a_line_paid_after_the_statement_was_drawn_is_malformed() {
    let text = format!("{}\n{};A;2026-12-01;100,00\n", header(), cvr(1_000_000));
    let Err(StatementError::MalformedLines(errors)) = parse(&text) else { panic!("refused") };
    assert_eq!((errors[0].line, errors[0].code), (2, "after_drawn_on"));
}

#[test]
fn blank_lines_are_skipped_and_line_numbers_still_count_them() {
    let text = format!("{}\n\n{};A;2026-01-05;1\n", header(), cvr(1_000_000));
    assert_eq!(parse(&text).unwrap()[0].line, 3);
}

fn line(n: u32, employer: Cvr, paid: NaiveDate, kroner: i64) -> StatementLine {
    StatementLine {
        line: n,
        employer_cvr: employer,
        employer_name: "X".into(),
        payment_date: paid,
        amount: Money::from_kroner(kroner),
    }
}

fn known(id: &str, employer: Option<Cvr>, paid: NaiveDate, kroner: i64) -> KnownOutsideIncome {
    KnownOutsideIncome { id: id.into(), employer_cvr: employer, payment_date: paid, amount: Money::from_kroner(kroner) }
}

#[test]
fn reconciling_lists_new_outside_income_missing_entries_and_differing_registrations() {
    let (ours, theirs, other) = (cvr(1_000_000), cvr(2_000_000), cvr(3_000_000));
    let lines = [
        line(2, ours, day(2026, 3, 1), 1_000),
        line(3, theirs, day(2026, 3, 2), 500),
        line(4, other, day(2026, 4, 1), 700),
    ];
    let employers = BTreeSet::from([ours]);
    let registrations = [
        SmaajobRegistration { employer_cvr: ours, payment_date: day(2026, 3, 1), exempt: Money::from_kroner(1_200) },
        // Paid after the statement was drawn: not compared.
        SmaajobRegistration { employer_cvr: ours, payment_date: day(2026, 12, 1), exempt: Money::from_kroner(9) },
    ];
    let outside = [
        known("matched", None, day(2026, 3, 2), 500),
        known("gone", Some(other), day(2026, 5, 1), 300),
        known("later", Some(other), day(2026, 12, 2), 300),
    ];
    let r = reconcile(&lines, &employers, &registrations, &outside, drawn());
    let kinds: Vec<DifferenceKind> = r.differences.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        vec![DifferenceKind::RegistrationDiffers, DifferenceKind::MissingInSmaajob, DifferenceKind::MissingInRegister]
    );
    assert_eq!(r.differences[0].register_amount, Money::from_kroner(1_000));
    assert_eq!(r.differences[0].smaajob_amount, Money::from_kroner(1_200));
    assert_eq!(r.to_record.iter().map(|l| l.line).collect::<Vec<_>>(), vec![4]);
    assert_eq!(r.to_withdraw, vec!["gone".to_owned()]);
}

fn statement_text(lines: &[(u32, u32, i64)]) -> String {
    let mut text = header();
    for (prefix, day_of_year, ore) in lines {
        let d = day(2026, 1, 1) + chrono::Duration::days(i64::from(*day_of_year));
        let amount = Money::from_ore(*ore).to_string().replace('.', ",");
        text.push_str(&format!("\n{};Firma {prefix};{};{amount}", cvr(*prefix), d.format("%d-%m-%Y")));
    }
    text
}

fn raw_lines() -> impl Strategy<Value = Vec<(u32, u32, i64)>> {
    prop::collection::vec(
        (prop::sample::select(vec![1_000_000u32, 2_000_000, 3_000_000]), 0u32..333, 1i64..5_000_000),
        0..30,
    )
}

proptest! {
    #[test]
    fn a_written_statement_reads_back_line_by_line(raw in raw_lines()) {
        let lines = parse(&statement_text(&raw)).unwrap();
        prop_assert_eq!(lines.len(), raw.len());
        for (i, (l, (prefix, _, ore))) in lines.iter().zip(&raw).enumerate() {
            prop_assert_eq!(l.line as usize, i + 2);
            prop_assert_eq!(l.employer_cvr, cvr(*prefix));
            prop_assert_eq!(l.amount.ore(), *ore);
        }
    }

    /// Accepting records the missing outside income and withdraws what the register lacks; a
    /// second reconciliation then finds no outside-income difference, and the outside income
    /// known is exactly the register's.
    #[test]
    fn after_accepting_the_outside_income_agrees_with_the_register(
        raw in raw_lines(),
        known_raw in prop::collection::vec((prop::option::of(prop::sample::select(vec![2_000_000u32, 3_000_000])), 0u32..360, 1i64..5_000_000), 0..10),
        ours_is_first in any::<bool>(),
    ) {
        let lines = parse(&statement_text(&raw)).unwrap();
        let employers: BTreeSet<Cvr> = if ours_is_first { BTreeSet::from([cvr(1_000_000)]) } else { BTreeSet::new() };
        let mut outside: Vec<KnownOutsideIncome> = known_raw
            .iter()
            .enumerate()
            .map(|(i, (prefix, d, ore))| KnownOutsideIncome {
                id: format!("k{i}"),
                employer_cvr: prefix.map(cvr),
                payment_date: day(2026, 1, 1) + chrono::Duration::days(i64::from(*d)),
                amount: Money::from_ore(*ore),
            })
            .collect();
        let r = reconcile(&lines, &employers, &[], &outside, drawn());
        outside.retain(|o| !r.to_withdraw.contains(&o.id));
        outside.extend(r.to_record.iter().map(|l| KnownOutsideIncome {
            id: format!("l{}", l.line),
            employer_cvr: Some(l.employer_cvr),
            payment_date: l.payment_date,
            amount: l.amount,
        }));
        let again = reconcile(&lines, &employers, &[], &outside, drawn());
        prop_assert!(again.differences.iter().all(|d| d.kind == DifferenceKind::RegistrationDiffers), "{:?}", again.differences);
        let register_outside: i64 = lines.iter().filter(|l| !employers.contains(&l.employer_cvr)).map(|l| l.amount.ore()).sum();
        let known_until_drawn: i64 = outside.iter().filter(|o| o.payment_date <= drawn()).map(|o| o.amount.ore()).sum();
        prop_assert_eq!(known_until_drawn, register_outside);
    }
}
