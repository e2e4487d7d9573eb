#![allow(clippy::unwrap_used)]

use super::*;
use crate::caps::{CapYear, resolve_cap, statutory_cap_set, statutory_caps};
use crate::frikort::{CardEventKind, active_periods};
use chrono::{Duration, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Europe::Copenhagen;
use proptest::prelude::*;
use proptest::sample::Index;

// ---------------------------------------------------------------- helpers

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn kr(kroner: i64) -> Money {
    Money::from_kroner(kroner)
}

fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

/// A Copenhagen wall-clock time as the UTC instant the system stores.
fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
    let wall = day(y, mo, d).and_hms_opt(h, mi, 0).unwrap();
    Copenhagen.from_local_datetime(&wall).earliest().unwrap().naive_utc()
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
    day(y, mo, d).and_hms_opt(h, mi, 0).unwrap()
}

fn always_active() -> Vec<CardPeriod> {
    vec![CardPeriod { from: local(2018, 1, 1, 0, 0), to: None }]
}

fn open_employment(id: &str) -> EmploymentSpan {
    EmploymentSpan { id: id.into(), start: day(2018, 1, 1), end: None }
}

/// A payout in employment `e1` for the week before it was paid.
fn payout(id: &str, sequence: i64, paid: NaiveDate, gross: Money) -> PayoutFacts {
    PayoutFacts {
        id: id.into(),
        employment_id: "e1".into(),
        sequence,
        payment_date: paid,
        worked_from: paid - Duration::days(7),
        worked_to: paid - Duration::days(1),
        gross,
        reversed: false,
    }
}

fn worked(mut p: PayoutFacts, from: NaiveDate, to: NaiveDate) -> PayoutFacts {
    p.worked_from = from;
    p.worked_to = to;
    p
}

fn reversed(mut p: PayoutFacts) -> PayoutFacts {
    p.reversed = true;
    p
}

/// Allocates with a card that is always active and one open employment.
fn run(cap: Money, payouts: &[PayoutFacts]) -> Allocation {
    let cards = always_active();
    let employments = [open_employment("e1")];
    allocate(&AllocationInput { cap, card_periods: &cards, employments: &employments, payouts, outside_income: &[] })
}

fn parts(a: &Allocation, id: &str) -> (Money, Money) {
    let s = a.splits[id];
    (s.exempt, s.taxable)
}

fn coverage(a: &Allocation, id: &str) -> Coverage {
    a.splits[id].coverage
}

fn change(id: &str, old: (Money, Money), new: (Money, Money)) -> SplitChange {
    SplitChange { payout_id: id.into(), old_exempt: old.0, old_taxable: old.1, new_exempt: new.0, new_taxable: new.1 }
}

// ------------------------------------------------------- worked examples

#[test]
fn in_2024_forty_thousand_then_two_thousand_leaves_1280_exempt_and_720_taxable() {
    let payouts = [payout("a", 1, day(2024, 3, 1), kr(40_000)), payout("b", 2, day(2024, 4, 1), kr(2_000))];
    let a = run(kr(41_280), &payouts);
    assert_eq!(parts(&a, "a"), (kr(40_000), kr(0)));
    assert_eq!(parts(&a, "b"), (kr(1_280), kr(720)));
    assert_eq!((a.gross, a.exempt, a.taxable), (kr(42_000), kr(41_280), kr(720)));
}

#[test]
fn every_statutory_cap_from_2019_to_2025_is_split_exactly_by_the_payout_that_crosses_it() {
    assert_eq!(statutory_caps().len(), 7);
    for &(year, cap_kroner) in statutory_caps() {
        let payouts = [
            payout("a", 1, day(year, 3, 1), kr(cap_kroner - 1_000)),
            payout("b", 2, day(year, 4, 1), m("2000.50")),
            payout("c", 3, day(year, 5, 1), kr(10)),
        ];
        let a = run(kr(cap_kroner), &payouts);
        assert_eq!(parts(&a, "a"), (kr(cap_kroner - 1_000), kr(0)), "{year}");
        assert_eq!(parts(&a, "b"), (kr(1_000), m("1000.50")), "{year}");
        assert_eq!(parts(&a, "c"), (kr(0), kr(10)), "{year}");
        assert_eq!(coverage(&a, "c"), Coverage::Covered, "over the cap is taxable, not uncovered");
        assert_eq!((a.exempt, a.taxable), (kr(cap_kroner), m("1010.50")), "{year}");
    }
}

#[test]
fn a_payout_that_lands_exactly_on_the_cap_is_wholly_exempt_and_the_next_wholly_taxable() {
    let payouts = [payout("a", 1, day(2025, 2, 1), kr(42_766)), payout("b", 2, day(2025, 2, 2), m("0.01"))];
    let a = run(kr(42_766), &payouts);
    assert_eq!(parts(&a, "a"), (kr(42_766), kr(0)));
    assert_eq!(parts(&a, "b"), (kr(0), m("0.01")));
}

#[test]
fn payouts_paid_the_same_day_take_headroom_in_registration_sequence_not_id_order() {
    let paid = day(2024, 6, 1);
    let payouts = [payout("a", 2, paid, kr(30_000)), payout("b", 1, paid, kr(30_000))];
    let a = run(kr(41_280), &payouts);
    assert_eq!(parts(&a, "b"), (kr(30_000), kr(0)));
    assert_eq!(parts(&a, "a"), (kr(11_280), kr(18_720)));
}

#[test]
fn the_order_payouts_are_passed_in_does_not_matter() {
    let payouts = [
        payout("a", 1, day(2024, 1, 20), kr(15_000)),
        payout("b", 2, day(2024, 2, 20), kr(15_000)),
        payout("c", 3, day(2024, 3, 20), kr(15_000)),
    ];
    let forward = run(kr(41_280), &payouts);
    let mut backward = payouts.to_vec();
    backward.reverse();
    assert_eq!(run(kr(41_280), &backward), forward);
    assert_eq!(parts(&forward, "c"), (kr(11_280), kr(3_720)));
}

/// 2026 has no cap of its own yet, so 2025's 42,766 is used provisionally
/// until the regulated cap is entered.
fn provisional_2026() -> (Money, Vec<PayoutFacts>) {
    let resolved = resolve_cap(CapYear::parse(2026).unwrap(), &statutory_cap_set()).unwrap();
    assert!(resolved.provisional);
    let payouts = vec![
        payout("p1", 1, day(2026, 2, 1), kr(30_000)),
        payout("p2", 2, day(2026, 4, 1), kr(10_000)),
        payout("p3", 3, day(2026, 6, 1), kr(5_000)),
        payout("p4", 4, day(2026, 8, 1), kr(3_000)),
    ];
    (resolved.amount.money(), payouts)
}

#[test]
fn a_provisional_cap_later_set_higher_adjusts_only_the_payout_that_crossed_it() {
    let (provisional, payouts) = provisional_2026();
    let before = run(provisional, &payouts);
    assert_eq!(parts(&before, "p3"), (kr(2_766), kr(2_234)));
    assert_eq!(parts(&before, "p4"), (kr(0), kr(3_000)));

    let after = run(kr(44_000), &payouts);
    assert_eq!(
        split_changes(&before.splits, &after.splits),
        vec![change("p3", (kr(2_766), kr(2_234)), (kr(4_000), kr(1_000)))]
    );
    assert_eq!(parts(&after, "p4"), (kr(0), kr(3_000)));
    assert_eq!((after.exempt, after.taxable), (kr(44_000), kr(4_000)));

    // Raised far enough, the last payout becomes exempt too.
    let generous = run(kr(50_000), &payouts);
    assert_eq!(
        split_changes(&before.splits, &generous.splits),
        vec![
            change("p3", (kr(2_766), kr(2_234)), (kr(5_000), kr(0))),
            change("p4", (kr(0), kr(3_000)), (kr(3_000), kr(0))),
        ]
    );
}

#[test]
fn a_provisional_cap_later_set_lower_moves_exempt_income_back_to_taxable() {
    let (provisional, payouts) = provisional_2026();
    let before = run(provisional, &payouts);
    let after = run(kr(35_000), &payouts);
    assert_eq!(
        split_changes(&before.splits, &after.splits),
        vec![
            change("p2", (kr(10_000), kr(0)), (kr(5_000), kr(5_000))),
            change("p3", (kr(2_766), kr(2_234)), (kr(0), kr(5_000))),
        ]
    );
    assert_eq!((after.exempt, after.taxable), (kr(35_000), kr(13_000)));
}

/// Issued valid from 1 January 2024; deactivated by a decision on
/// 15 June 2024 at 14:00; reactivated on 1 August 2024 at 09:00.
fn card_with_a_break() -> Vec<CardPeriod> {
    active_periods(&[
        (CardEventKind::Issued, local(2024, 1, 1, 0, 0)),
        (CardEventKind::Deactivated, local(2024, 6, 15, 14, 0)),
        (CardEventKind::Reactivated, local(2024, 8, 1, 9, 0)),
    ])
}

#[test]
fn after_a_mid_year_deactivation_work_is_fully_taxable_and_the_decision_day_is_not_covered() {
    let cards = card_with_a_break();
    let paid = day(2024, 6, 30);
    let payouts = [
        worked(payout("before", 1, paid, kr(1_000)), day(2024, 6, 10), day(2024, 6, 14)),
        worked(payout("decision-day", 2, paid, kr(1_000)), day(2024, 6, 15), day(2024, 6, 15)),
        worked(payout("straddling", 3, paid, kr(1_000)), day(2024, 6, 13), day(2024, 6, 17)),
        worked(payout("after", 4, paid, kr(1_000)), day(2024, 6, 20), day(2024, 6, 25)),
    ];
    let employments = [open_employment("e1")];
    let a = allocate(&AllocationInput {
        cap: kr(41_280),
        card_periods: &cards,
        employments: &employments,
        payouts: &payouts,
        outside_income: &[],
    });
    assert_eq!(card_coverage(&cards, day(2024, 6, 13), day(2024, 6, 17)), CardCoverage::Partial);
    assert_eq!(card_coverage(&cards, day(2024, 6, 15), day(2024, 6, 15)), CardCoverage::None);
    assert_eq!(coverage(&a, "before"), Coverage::Covered);
    assert_eq!(parts(&a, "before"), (kr(1_000), kr(0)));
    for id in ["decision-day", "straddling", "after"] {
        assert_eq!(coverage(&a, id), Coverage::CardInactive, "{id}");
        assert_eq!(parts(&a, id), (kr(0), kr(1_000)), "{id}");
    }
    assert_eq!((a.gross, a.exempt, a.taxable), (kr(4_000), kr(1_000), kr(3_000)));
}

#[test]
fn a_reactivated_card_covers_from_the_first_whole_day_after_the_decision() {
    let cards = card_with_a_break();
    assert_eq!(card_coverage(&cards, day(2024, 7, 31), day(2024, 7, 31)), CardCoverage::None);
    assert_eq!(card_coverage(&cards, day(2024, 8, 1), day(2024, 8, 1)), CardCoverage::None);
    assert_eq!(card_coverage(&cards, day(2024, 8, 2), day(2024, 8, 2)), CardCoverage::Whole);
    assert_eq!(card_coverage(&cards, day(2024, 8, 2), day(2030, 1, 1)), CardCoverage::Whole);
    assert_eq!(card_coverage(&cards, day(2024, 1, 1), day(2024, 12, 31)), CardCoverage::Partial);
    assert_eq!(card_coverage(&cards, day(2023, 12, 31), day(2023, 12, 31)), CardCoverage::None);
    assert_eq!(card_coverage(&cards, day(2024, 1, 1), day(2024, 6, 14)), CardCoverage::Whole);
}

#[test]
fn a_deactivation_at_local_midnight_still_covers_the_day_before() {
    let cards = [CardPeriod { from: local(2024, 1, 1, 0, 0), to: Some(local(2024, 6, 15, 0, 0)) }];
    assert_eq!(card_coverage(&cards, day(2024, 6, 14), day(2024, 6, 14)), CardCoverage::Whole);
    assert_eq!(card_coverage(&cards, day(2024, 6, 15), day(2024, 6, 15)), CardCoverage::None);
}

#[test]
fn a_card_issued_during_the_day_covers_from_the_next_day() {
    let cards = [CardPeriod { from: local(2024, 3, 4, 0, 1), to: None }];
    assert_eq!(card_coverage(&cards, day(2024, 3, 4), day(2024, 3, 4)), CardCoverage::None);
    assert_eq!(card_coverage(&cards, day(2024, 3, 5), day(2024, 3, 5)), CardCoverage::Whole);
}

#[test]
fn back_to_back_periods_cover_continuously_but_a_gap_within_a_day_does_not() {
    let seamless = [
        CardPeriod { from: local(2024, 1, 1, 0, 0), to: Some(local(2024, 6, 15, 0, 0)) },
        CardPeriod { from: local(2024, 6, 15, 0, 0), to: None },
    ];
    assert_eq!(card_coverage(&seamless, day(2024, 6, 10), day(2024, 6, 20)), CardCoverage::Whole);
    // Deactivated at 14:00 and reactivated at 16:00 the same day: no
    // single period spans the day, so it is not covered.
    let gap = [
        CardPeriod { from: local(2024, 1, 1, 0, 0), to: Some(local(2024, 6, 15, 14, 0)) },
        CardPeriod { from: local(2024, 6, 15, 16, 0), to: None },
    ];
    assert_eq!(card_coverage(&gap, day(2024, 6, 15), day(2024, 6, 15)), CardCoverage::None);
    assert_eq!(card_coverage(&gap, day(2024, 6, 10), day(2024, 6, 20)), CardCoverage::Partial);
    // Overlapping periods (a damaged history) still cover the union.
    let overlapping = [
        CardPeriod { from: local(2024, 1, 1, 0, 0), to: Some(local(2024, 8, 1, 0, 0)) },
        CardPeriod { from: local(2024, 3, 1, 0, 0), to: Some(local(2024, 5, 1, 0, 0)) },
    ];
    assert_eq!(card_coverage(&overlapping, day(2024, 4, 20), day(2024, 7, 31)), CardCoverage::Whole);
}

#[test]
fn no_card_or_an_empty_day_range_covers_nothing() {
    assert_eq!(card_coverage(&[], day(2024, 1, 1), day(2024, 1, 1)), CardCoverage::None);
    assert_eq!(card_coverage(&always_active(), day(2024, 1, 2), day(2024, 1, 1)), CardCoverage::None);
    let empty = [CardPeriod { from: local(2024, 5, 1, 12, 0), to: Some(local(2024, 5, 1, 12, 0)) }];
    assert_eq!(card_coverage(&empty, day(2024, 5, 1), day(2024, 5, 1)), CardCoverage::None);
}

#[test]
fn the_23_hour_day_when_summer_time_starts_is_covered_by_a_period_of_exactly_that_day() {
    // Last Sunday of March 2024: 00:00 CET is 23:00 UTC the day before,
    // and the next midnight is 00:00 CEST = 22:00 UTC, 23 hours later.
    assert_eq!(local(2024, 3, 31, 0, 0), utc(2024, 3, 30, 23, 0));
    assert_eq!(local(2024, 4, 1, 0, 0), utc(2024, 3, 31, 22, 0));
    let cards = [CardPeriod { from: utc(2024, 3, 30, 23, 0), to: Some(utc(2024, 3, 31, 22, 0)) }];
    assert_eq!(card_coverage(&cards, day(2024, 3, 31), day(2024, 3, 31)), CardCoverage::Whole);
    assert_eq!(card_coverage(&cards, day(2024, 3, 30), day(2024, 3, 30)), CardCoverage::None);
    assert_eq!(card_coverage(&cards, day(2024, 4, 1), day(2024, 4, 1)), CardCoverage::None);
    assert_eq!(card_coverage(&cards, day(2024, 3, 30), day(2024, 4, 1)), CardCoverage::Partial);
    // One minute short at either end and the day is not covered.
    let late = [CardPeriod { from: utc(2024, 3, 30, 23, 1), to: Some(utc(2024, 3, 31, 22, 0)) }];
    assert_eq!(card_coverage(&late, day(2024, 3, 31), day(2024, 3, 31)), CardCoverage::None);
    let early = [CardPeriod { from: utc(2024, 3, 30, 23, 0), to: Some(utc(2024, 3, 31, 21, 59)) }];
    assert_eq!(card_coverage(&early, day(2024, 3, 31), day(2024, 3, 31)), CardCoverage::None);
}

#[test]
fn the_25_hour_day_when_summer_time_ends_needs_all_25_hours() {
    // Last Sunday of October 2024: 00:00 CEST is 22:00 UTC the day
    // before, and the next midnight is 00:00 CET = 23:00 UTC.
    assert_eq!(local(2024, 10, 27, 0, 0), utc(2024, 10, 26, 22, 0));
    assert_eq!(local(2024, 10, 28, 0, 0), utc(2024, 10, 27, 23, 0));
    let whole = [CardPeriod { from: utc(2024, 10, 26, 22, 0), to: Some(utc(2024, 10, 27, 23, 0)) }];
    assert_eq!(card_coverage(&whole, day(2024, 10, 27), day(2024, 10, 27)), CardCoverage::Whole);
    // 24 hours is one hour short of this day.
    let day_long = [CardPeriod { from: utc(2024, 10, 26, 22, 0), to: Some(utc(2024, 10, 27, 22, 0)) }];
    assert_eq!(card_coverage(&day_long, day(2024, 10, 27), day(2024, 10, 27)), CardCoverage::None);
    // A card valid from 27 October starts on 26 October in UTC, but
    // does not cover 26 October.
    let issued = [CardPeriod { from: utc(2024, 10, 26, 22, 0), to: None }];
    assert_eq!(card_coverage(&issued, day(2024, 10, 26), day(2024, 10, 26)), CardCoverage::None);
    assert_eq!(card_coverage(&issued, day(2024, 10, 27), day(2024, 10, 28)), CardCoverage::Whole);
    // A deactivation at 02:30 in the repeated hour (the second one,
    // 01:30 UTC) still leaves the day uncovered.
    let cut = [CardPeriod { from: utc(2024, 1, 1, 0, 0), to: Some(utc(2024, 10, 27, 1, 30)) }];
    assert_eq!(card_coverage(&cut, day(2024, 10, 26), day(2024, 10, 26)), CardCoverage::Whole);
    assert_eq!(card_coverage(&cut, day(2024, 10, 27), day(2024, 10, 27)), CardCoverage::None);
}

#[test]
fn a_back_dated_payout_pushes_a_later_payout_over_the_cap() {
    let a = payout("a", 1, day(2024, 3, 1), kr(30_000));
    let c = payout("c", 2, day(2024, 5, 1), kr(10_000));
    let before = run(kr(41_280), &[a.clone(), c.clone()]);
    assert_eq!(parts(&before, "c"), (kr(10_000), kr(0)));

    // Registered last, but paid in April: it comes before `c`.
    let b = payout("b", 3, day(2024, 4, 1), kr(5_000));
    let after = run(kr(41_280), &[a, c, b]);
    assert_eq!(parts(&after, "b"), (kr(5_000), kr(0)));
    assert_eq!(parts(&after, "c"), (kr(6_280), kr(3_720)));
    assert_eq!(
        split_changes(&before.splits, &after.splits),
        vec![change("c", (kr(10_000), kr(0)), (kr(6_280), kr(3_720)))]
    );
}

#[test]
fn a_reversal_frees_headroom_for_later_payouts_and_no_longer_counts() {
    let a = payout("a", 1, day(2024, 3, 1), kr(30_000));
    let b = payout("b", 2, day(2024, 4, 1), kr(20_000));
    let before = run(kr(41_280), &[a.clone(), b.clone()]);
    assert_eq!(parts(&before, "b"), (kr(11_280), kr(8_720)));

    let after = run(kr(41_280), &[reversed(a), b]);
    assert_eq!(coverage(&after, "a"), Coverage::Reversed);
    assert_eq!(parts(&after, "a"), (kr(0), kr(0)));
    assert_eq!(parts(&after, "b"), (kr(20_000), kr(0)));
    assert_eq!((after.gross, after.exempt, after.taxable), (kr(20_000), kr(20_000), kr(0)));
    assert_eq!(
        split_changes(&before.splits, &after.splits),
        vec![
            change("a", (kr(30_000), kr(0)), (kr(0), kr(0))),
            change("b", (kr(11_280), kr(8_720)), (kr(20_000), kr(0))),
        ]
    );
}

/// Why "reverse and re-register restores every split" only holds when no
/// other payout shares the payment date: the re-registered copy gets the
/// highest sequence, so under (payment date, sequence) ordering it moves
/// behind the payouts paid the same day, and headroom moves with it. The
/// totals are restored all the same.
#[test]
fn re_registering_a_reversed_payout_can_move_headroom_between_payouts_paid_the_same_day() {
    let paid = day(2024, 6, 1);
    let a = payout("a", 1, paid, kr(30_000));
    let b = payout("b", 2, paid, kr(30_000));
    let before = run(kr(41_280), &[a.clone(), b.clone()]);
    assert_eq!(parts(&before, "a"), (kr(30_000), kr(0)));
    assert_eq!(parts(&before, "b"), (kr(11_280), kr(18_720)));

    let again = PayoutFacts { id: "a2".into(), sequence: 3, ..a.clone() };
    let after = run(kr(41_280), &[reversed(a), b, again]);
    assert_eq!(parts(&after, "b"), (kr(30_000), kr(0)));
    assert_eq!(parts(&after, "a2"), (kr(11_280), kr(18_720)));
    assert_eq!((after.gross, after.exempt, after.taxable), (before.gross, before.exempt, before.taxable));
}

#[test]
fn work_outside_the_registered_employment_is_fully_taxable() {
    let cards = always_active();
    let employments = [EmploymentSpan { id: "e1".into(), start: day(2024, 3, 1), end: Some(day(2024, 3, 31)) }];
    let paid = day(2024, 4, 5);
    let payouts = [
        worked(payout("exactly", 1, paid, kr(100)), day(2024, 3, 1), day(2024, 3, 31)),
        worked(payout("starts-early", 2, paid, kr(100)), day(2024, 2, 29), day(2024, 3, 10)),
        worked(payout("ends-late", 3, paid, kr(100)), day(2024, 3, 20), day(2024, 4, 1)),
        PayoutFacts { employment_id: "unknown".into(), ..worked(payout("unknown", 4, paid, kr(100)), paid, paid) },
    ];
    let a = allocate(&AllocationInput {
        cap: kr(41_280),
        card_periods: &cards,
        employments: &employments,
        payouts: &payouts,
        outside_income: &[],
    });
    assert_eq!(coverage(&a, "exactly"), Coverage::Covered);
    assert_eq!(parts(&a, "exactly"), (kr(100), kr(0)));
    for id in ["starts-early", "ends-late", "unknown"] {
        assert_eq!(coverage(&a, id), Coverage::OutsideEmployment, "{id}");
        assert_eq!(parts(&a, id), (kr(0), kr(100)), "{id}");
    }
}

#[test]
fn the_employment_period_includes_both_ends_and_may_be_open() {
    let span = EmploymentSpan { id: "e".into(), start: day(2024, 3, 1), end: Some(day(2024, 3, 31)) };
    assert!(within_employment(&span, day(2024, 3, 1), day(2024, 3, 31)));
    assert!(!within_employment(&span, day(2024, 2, 29), day(2024, 3, 31)));
    assert!(!within_employment(&span, day(2024, 3, 1), day(2024, 4, 1)));
    let open = EmploymentSpan { end: None, ..span };
    assert!(within_employment(&open, day(2024, 3, 1), day(2099, 1, 1)));
    assert!(!within_employment(&open, day(2024, 2, 29), day(2024, 3, 1)));
}

#[test]
fn reversal_is_reported_before_employment_and_employment_before_the_card() {
    let employments = [EmploymentSpan { id: "e1".into(), start: day(2024, 3, 1), end: None }];
    let outside = worked(payout("outside", 1, day(2024, 3, 5), kr(100)), day(2024, 2, 1), day(2024, 2, 2));
    let payouts = [reversed(PayoutFacts { id: "reversed-outside".into(), ..outside.clone() }), outside];
    // No card at all: every payout would also be CardInactive.
    let a = allocate(&AllocationInput {
        cap: kr(41_280),
        card_periods: &[],
        employments: &employments,
        payouts: &payouts,
        outside_income: &[],
    });
    assert_eq!(coverage(&a, "reversed-outside"), Coverage::Reversed);
    assert_eq!(coverage(&a, "outside"), Coverage::OutsideEmployment);
}

#[test]
fn coverage_names_are_snake_case() {
    assert_eq!(Coverage::Covered.as_str(), "covered");
    assert_eq!(Coverage::CardInactive.as_str(), "card_inactive");
    assert_eq!(Coverage::OutsideEmployment.as_str(), "outside_employment");
    assert_eq!(Coverage::Reversed.as_str(), "reversed");
}

#[test]
fn split_changes_list_only_amount_changes_of_payouts_in_both_in_id_order() {
    let s = |e: i64, t: i64, coverage| Split { exempt: kr(e), taxable: kr(t), coverage };
    let before = BTreeMap::from([
        ("b".to_owned(), s(10, 0, Coverage::Covered)),
        ("a".to_owned(), s(5, 5, Coverage::Covered)),
        ("gone".to_owned(), s(1, 0, Coverage::Covered)),
        ("same".to_owned(), s(0, 7, Coverage::CardInactive)),
    ]);
    let after = BTreeMap::from([
        ("b".to_owned(), s(4, 6, Coverage::Covered)),
        ("a".to_owned(), s(10, 0, Coverage::Covered)),
        ("new".to_owned(), s(3, 0, Coverage::Covered)),
        // A different reason with the same amounts needs no correction.
        ("same".to_owned(), s(0, 7, Coverage::OutsideEmployment)),
    ]);
    assert_eq!(
        split_changes(&before, &after),
        vec![change("a", (kr(5), kr(5)), (kr(10), kr(0))), change("b", (kr(10), kr(0)), (kr(4), kr(6)))]
    );
    assert_eq!(split_changes(&before, &before), vec![]);
}

#[test]
fn an_empty_year_allocates_nothing() {
    let a = run(kr(41_280), &[]);
    assert!(a.splits.is_empty());
    assert_eq!((a.gross, a.exempt, a.taxable), (Money::ZERO, Money::ZERO, Money::ZERO));
}

#[test]
fn a_cap_below_zero_exempts_nothing() {
    let a = run(kr(-5), &[payout("a", 1, day(2024, 3, 1), kr(100))]);
    assert_eq!(parts(&a, "a"), (kr(0), kr(100)));
}

#[test]
fn a_payout_appended_to_the_2024_totals_takes_the_headroom_they_leave() {
    let cards = always_active();
    let employments = [open_employment("e1")];
    let first = run(kr(41_280), &[payout("a", 1, day(2024, 3, 1), kr(40_000))]);
    let totals = YearTotals::of(kr(41_280), &first);
    assert_eq!(
        totals,
        YearTotals { cap: kr(41_280), gross: kr(40_000), exempt: kr(40_000), taxable: kr(0), payouts: 1 }
    );
    assert_eq!(totals.remaining(), kr(1_280));

    let appended = append_payout(totals, &cards, &employments, &payout("b", 2, day(2024, 4, 1), kr(2_000)));
    assert_eq!(appended.split, Split { exempt: kr(1_280), taxable: kr(720), coverage: Coverage::Covered });
    assert_eq!(
        appended.totals,
        YearTotals { cap: kr(41_280), gross: kr(42_000), exempt: kr(41_280), taxable: kr(720), payouts: 2 }
    );
    assert_eq!(appended.totals.remaining(), Money::ZERO);

    let outside = PayoutFacts { employment_id: "unknown".into(), ..payout("c", 3, day(2024, 5, 1), kr(100)) };
    let appended = append_payout(totals, &cards, &employments, &outside);
    assert_eq!(appended.split, Split { exempt: kr(0), taxable: kr(100), coverage: Coverage::OutsideEmployment });
    assert_eq!((appended.totals.exempt, appended.totals.remaining()), (kr(40_000), kr(1_280)));
}

#[test]
fn the_remaining_headroom_is_never_below_zero() {
    let totals = |cap: i64, exempt: i64| YearTotals { cap: kr(cap), exempt: kr(exempt), ..YearTotals::empty(kr(cap)) };
    assert_eq!(totals(41_280, 0).remaining(), kr(41_280));
    assert_eq!(totals(41_280, 41_280).remaining(), Money::ZERO);
    // Exempt under a provisional cap that was later set lower.
    assert_eq!(totals(35_000, 41_280).remaining(), Money::ZERO);
    assert_eq!(totals(-5, 0).remaining(), Money::ZERO);
}

#[test]
fn year_totals_count_only_payouts_that_are_not_reversed() {
    let payouts = [payout("a", 1, day(2024, 3, 1), kr(100)), reversed(payout("b", 2, day(2024, 3, 2), kr(50)))];
    let totals = YearTotals::of(kr(41_280), &run(kr(41_280), &payouts));
    assert_eq!(totals, YearTotals { cap: kr(41_280), gross: kr(100), exempt: kr(100), taxable: kr(0), payouts: 1 });
    assert_eq!(YearTotals::of(kr(41_280), &run(kr(41_280), &[])), YearTotals::empty(kr(41_280)));
}

#[test]
fn projection_is_only_for_the_year_in_progress() {
    assert_eq!(project(2024, day(2025, 1, 5), kr(1_000), kr(1_000)), None);
    assert_eq!(project(2025, day(2024, 12, 31), kr(1_000), kr(1_000)), None);
}

#[test]
fn the_pace_is_gross_per_elapsed_week_and_the_cap_day_is_rounded_up() {
    // 10 March 2024 is day 70: ten weeks.
    let p = project(2024, day(2024, 3, 10), kr(10_000), kr(5_000)).unwrap();
    assert_eq!(p, Projection { weekly_pace: kr(1_000), cap_reached_on: Some(day(2024, 4, 14)) });
    // 35.00007 days → 36.
    let p = project(2024, day(2024, 3, 10), kr(10_000), m("5000.01")).unwrap();
    assert_eq!(p.cap_reached_on, Some(day(2024, 4, 15)));
}

#[test]
fn the_first_days_of_january_count_as_one_week() {
    let p = project(2024, day(2024, 1, 3), kr(700), kr(1_400)).unwrap();
    assert_eq!(p, Projection { weekly_pace: kr(700), cap_reached_on: Some(day(2024, 1, 17)) });
    let p = project(2024, day(2024, 1, 8), kr(800), kr(1_400)).unwrap();
    assert_eq!(p.weekly_pace, kr(700));
}

#[test]
fn the_weekly_pace_rounds_half_away_from_zero_to_ore() {
    // 14 January: two weeks; 0.05 kr / 2 = 0.025 → 0.03.
    assert_eq!(project(2024, day(2024, 1, 14), m("0.05"), kr(1)).unwrap().weekly_pace, m("0.03"));
    // 20 January: 20/7 weeks; 100 kr × 7 / 20 = 35.00.
    assert_eq!(project(2024, day(2024, 1, 20), kr(100), kr(1)).unwrap().weekly_pace, kr(35));
    // 10 January: 10/7 weeks; 0.01 × 7 / 10 = 0.007 → 0.01.
    assert_eq!(project(2024, day(2024, 1, 10), m("0.01"), kr(1)).unwrap().weekly_pace, m("0.01"));
}

#[test]
fn no_cap_day_is_projected_past_new_year_when_reached_or_without_earnings() {
    // 1 December 2024 is day 336: 48 weeks; 48,000 kr → 1,000 kr a week.
    let today = day(2024, 12, 1);
    assert_eq!(project(2024, today, kr(48_000), kr(4_000)).unwrap().cap_reached_on, Some(day(2024, 12, 29)));
    // 4285.71 kr needs 29.99997 → 30 days: exactly New Year's Eve.
    assert_eq!(project(2024, today, kr(48_000), m("4285.71")).unwrap().cap_reached_on, Some(day(2024, 12, 31)));
    assert_eq!(project(2024, today, kr(48_000), m("4285.72")).unwrap().cap_reached_on, None);
    assert_eq!(project(2024, today, kr(48_000), kr(5_000)).unwrap().cap_reached_on, None);
    assert_eq!(
        project(2024, today, kr(48_000), Money::ZERO).unwrap(),
        Projection { weekly_pace: kr(1_000), cap_reached_on: None }
    );
    assert_eq!(
        project(2024, today, Money::ZERO, kr(5_000)).unwrap(),
        Projection { weekly_pace: Money::ZERO, cap_reached_on: None }
    );
    // A pace that rounds to zero øre cannot reach anything either.
    assert_eq!(project(2024, today, m("0.01"), kr(5_000)).unwrap().weekly_pace, Money::ZERO);
}

// ---------------------------------------------------------- outside income

fn outside(id: &str, sequence: i64, paid: NaiveDate, amount: Money) -> OutsideIncomeFacts {
    OutsideIncomeFacts { id: id.into(), sequence, payment_date: paid, amount, withdrawn: false }
}

fn run_with_outside(cap: Money, payouts: &[PayoutFacts], outside_income: &[OutsideIncomeFacts]) -> Allocation {
    let cards = always_active();
    let employments = [open_employment("e1")];
    allocate(&AllocationInput { cap, card_periods: &cards, employments: &employments, payouts, outside_income })
}

#[test]
fn outside_income_paid_earlier_takes_the_headroom_first_and_a_later_payout_splits_with_what_is_left() {
    let payouts = [payout("p1", 1, day(2024, 6, 28), kr(5_000))];
    let earlier = [outside("o1", 2, day(2024, 3, 1), kr(40_000))];
    let a = run_with_outside(kr(41_280), &payouts, &earlier);
    assert_eq!(a.outside_splits["o1"].exempt, kr(40_000));
    assert_eq!(parts(&a, "p1"), (kr(1_280), kr(3_720)));
    assert_eq!((a.gross, a.outside_gross, a.exempt, a.taxable), (kr(45_000), kr(40_000), kr(41_280), kr(3_720)));
}

#[test]
fn outside_income_paid_later_leaves_an_earlier_payout_exempt_and_takes_what_is_left() {
    let payouts = [payout("p1", 1, day(2024, 6, 28), kr(5_000))];
    let later = [outside("o1", 2, day(2024, 9, 1), kr(40_000))];
    let a = run_with_outside(kr(41_280), &payouts, &later);
    assert_eq!(parts(&a, "p1"), (kr(5_000), Money::ZERO));
    let o = a.outside_splits["o1"];
    assert_eq!((o.exempt, o.taxable, o.coverage), (kr(36_280), kr(3_720), Coverage::Covered));
}

#[test]
fn recording_outside_income_paid_before_a_payout_is_a_split_change_of_that_payout() {
    let payouts = [payout("p1", 1, day(2024, 6, 28), kr(5_000))];
    let before = run_with_outside(kr(41_280), &payouts, &[]);
    let after = run_with_outside(kr(41_280), &payouts, &[outside("o1", 2, day(2024, 3, 1), kr(40_000))]);
    let changes = split_changes(&before.splits, &after.splits);
    assert_eq!(changes.len(), 1);
    assert_eq!((changes[0].new_exempt, changes[0].new_taxable), (kr(1_280), kr(3_720)));
}

#[test]
fn withdrawn_outside_income_counts_for_nothing() {
    let payouts = [payout("p1", 1, day(2024, 6, 28), kr(5_000))];
    let withdrawn = [OutsideIncomeFacts { withdrawn: true, ..outside("o1", 2, day(2024, 3, 1), kr(40_000)) }];
    let a = run_with_outside(kr(41_280), &payouts, &withdrawn);
    assert_eq!(
        a.outside_splits["o1"],
        Split { exempt: Money::ZERO, taxable: Money::ZERO, coverage: Coverage::Reversed }
    );
    assert_eq!((a.gross, a.outside_gross, a.exempt), (kr(5_000), Money::ZERO, kr(5_000)));
    assert_eq!(a, run_with_outside(kr(41_280), &payouts, &[]).with_outside_split_of("o1", &a));
}

impl Allocation {
    /// This allocation with `other`'s split of outside entry `id` added (to compare the rest).
    fn with_outside_split_of(mut self, id: &str, other: &Allocation) -> Allocation {
        self.outside_splits.insert(id.into(), other.outside_splits[id]);
        self
    }
}

#[test]
fn the_outside_income_cause_is_named_outside_income() {
    assert_eq!(AdjustmentCause::OutsideIncome.as_str(), "outside_income");
    assert_eq!(AdjustmentCause::parse("outside_income"), Some(AdjustmentCause::OutsideIncome));
}

// -------------------------------------------------------- property tests

/// A payout's employment index meaning "an id no employment has".
const MISSING: usize = usize::MAX;

#[derive(Debug, Clone)]
struct RawPayout {
    employment: usize,
    paid_day: i64,
    lag: i64,
    days_worked: i64,
    gross: i64,
    reversed: bool,
}

/// A citizen-year: a statutory cap, a card history with deactivations
/// and reactivations, up to three employments (payouts sometimes name a
/// missing one) and up to 59 payouts registered in a random sequence.
#[derive(Debug, Clone)]
struct Year {
    year: i32,
    cap: Money,
    card_periods: Vec<CardPeriod>,
    employments: Vec<EmploymentSpan>,
    payouts: Vec<PayoutFacts>,
    /// Another registration order of the same payouts.
    other_sequences: Vec<i64>,
}

impl Year {
    fn allocate(&self) -> Allocation {
        self.allocate_payouts(&self.payouts)
    }

    fn allocate_payouts(&self, payouts: &[PayoutFacts]) -> Allocation {
        allocate(&AllocationInput {
            cap: self.cap,
            card_periods: &self.card_periods,
            employments: &self.employments,
            payouts,
            outside_income: &[],
        })
    }

    fn allocate_with_outside(&self, outside_income: &[OutsideIncomeFacts]) -> Allocation {
        allocate(&AllocationInput {
            cap: self.cap,
            card_periods: &self.card_periods,
            employments: &self.employments,
            payouts: &self.payouts,
            outside_income,
        })
    }

    fn next_sequence(&self) -> i64 {
        self.payouts.iter().map(|p| p.sequence).max().unwrap_or(0) + 1
    }

    fn build(&self, id: String, raw: &RawPayout, sequence: i64) -> PayoutFacts {
        let paid = day(self.year, 1, 1) + Duration::days(raw.paid_day);
        let worked_to = paid - Duration::days(raw.lag);
        PayoutFacts {
            id,
            employment_id: match raw.employment {
                MISSING => "missing".into(),
                i => self.employments[i % self.employments.len()].id.clone(),
            },
            sequence,
            payment_date: paid,
            worked_from: worked_to - Duration::days(raw.days_worked),
            worked_to,
            gross: Money::from_ore(raw.gross),
            reversed: raw.reversed,
        }
    }
}

fn days_in(year: i32) -> i64 {
    (day(year + 1, 1, 1) - day(year, 1, 1)).num_days()
}

fn year_and_cap() -> impl Strategy<Value = (i32, Money)> {
    prop::sample::select(statutory_caps().to_vec()).prop_map(|(year, kroner)| (year, Money::from_kroner(kroner)))
}

/// Instants from December of the year before to January after, half of
/// them exactly at a Copenhagen midnight (cards valid from a date).
fn instant(year: i32) -> impl Strategy<Value = NaiveDateTime> {
    let base = day(year - 1, 12, 1);
    let span = (day(year + 1, 2, 1) - base).num_days();
    prop_oneof![
        (0..span * 24 * 60).prop_map(move |minute| base.and_time(NaiveTime::MIN) + Duration::minutes(minute)),
        (0..span).prop_map(move |d| copenhagen_midnight_utc(base + Duration::days(d)).unwrap()),
    ]
}

/// Issued (half the time well before the year), then alternately
/// deactivated and reactivated; sometimes no card at all.
fn card_periods(year: i32) -> impl Strategy<Value = Vec<CardPeriod>> {
    let long_ago = copenhagen_midnight_utc(day(year - 1, 6, 1)).unwrap();
    (prop::bool::ANY, prop::collection::vec(instant(year), 0..=6)).prop_map(move |(issued_long_ago, mut times)| {
        if issued_long_ago {
            times.push(long_ago);
        }
        times.sort();
        let events: Vec<_> = times
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let kind = match i {
                    0 => CardEventKind::Issued,
                    i if i % 2 == 1 => CardEventKind::Deactivated,
                    _ => CardEventKind::Reactivated,
                };
                (kind, t)
            })
            .collect();
        active_periods(&events)
    })
}

fn employments(year: i32) -> impl Strategy<Value = Vec<EmploymentSpan>> {
    prop::collection::vec((-200i64..120, prop::option::of(60i64..500)), 1..=3).prop_map(move |spans| {
        spans
            .into_iter()
            .enumerate()
            .map(|(i, (offset, length))| {
                let start = day(year, 1, 1) + Duration::days(offset);
                EmploymentSpan { id: format!("e{i}"), start, end: length.map(|l| start + Duration::days(l)) }
            })
            .collect()
    })
}

/// 1 øre to 50,000 kr, half of them at most 1,000 kr so that years
/// with many payouts under the cap are common too.
fn gross() -> impl Strategy<Value = i64> {
    prop_oneof![1i64..=100_000, 1i64..=5_000_000]
}

fn raw_payout(year: i32) -> impl Strategy<Value = RawPayout> {
    (
        prop_oneof![9 => 0usize..3, 1 => Just(MISSING)],
        0..days_in(year),
        0i64..30,
        0i64..14,
        gross(),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(employment, paid_day, lag, days_worked, gross, reversed)| RawPayout {
            employment,
            paid_day,
            lag,
            days_worked,
            gross,
            reversed,
        })
}

/// Up to 8 entries of outside income paid any day of `year`, some withdrawn,
/// with sequences that interleave with the payouts'.
fn outside_income(year: i32) -> impl Strategy<Value = Vec<OutsideIncomeFacts>> {
    prop::collection::vec((0..days_in(year), 1i64..80, gross(), prop::bool::weighted(0.15)), 0..=8).prop_map(
        move |raws| {
            raws.into_iter()
                .enumerate()
                .map(|(i, (paid_day, sequence, amount, withdrawn))| OutsideIncomeFacts {
                    id: format!("o{i:02}"),
                    sequence,
                    payment_date: day(year, 1, 1) + Duration::days(paid_day),
                    amount: Money::from_ore(amount),
                    withdrawn,
                })
                .collect()
        },
    )
}

/// A year with outside income in it.
fn a_year_with_outside_income() -> impl Strategy<Value = (Year, Vec<OutsideIncomeFacts>)> {
    a_year().prop_flat_map(|y| {
        let year = y.year;
        (Just(y), outside_income(year))
    })
}

fn a_year() -> impl Strategy<Value = Year> {
    year_and_cap()
        .prop_flat_map(|(year, cap)| {
            (
                Just(year),
                Just(cap),
                card_periods(year),
                employments(year),
                prop::collection::vec(raw_payout(year), 0..60),
            )
        })
        .prop_flat_map(|(year, cap, card_periods, employments, raws)| {
            let sequences = Just((1..=raws.len() as i64).collect::<Vec<_>>()).prop_shuffle();
            (Just(year), Just(cap), Just(card_periods), Just(employments), Just(raws), sequences.clone(), sequences)
        })
        .prop_map(|(year, cap, card_periods, employments, raws, sequences, other_sequences)| {
            let mut y = Year { year, cap, card_periods, employments, payouts: Vec::new(), other_sequences };
            y.payouts = raws
                .iter()
                .zip(&sequences)
                .enumerate()
                .map(|(i, (raw, &s))| y.build(format!("p{i:02}"), raw, s))
                .collect();
            y
        })
}

/// The coverage rule for one day, transcribed literally.
fn naive_day_covered(periods: &[CardPeriod], d: NaiveDate) -> bool {
    let midnight =
        |d: NaiveDate| Copenhagen.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap()).earliest().unwrap().naive_utc();
    let (start, end) = (midnight(d), midnight(d.succ_opt().unwrap()));
    periods.iter().any(|p| p.from <= start && p.to.is_none_or(|to| to >= end))
}

fn naive_card_coverage(periods: &[CardPeriod], from: NaiveDate, to: NaiveDate) -> CardCoverage {
    let covered: Vec<bool> = from.iter_days().take_while(|d| *d <= to).map(|d| naive_day_covered(periods, d)).collect();
    if covered.is_empty() || covered.iter().all(|c| !c) {
        CardCoverage::None
    } else if covered.iter().all(|c| *c) {
        CardCoverage::Whole
    } else {
        CardCoverage::Partial
    }
}

fn naive_coverage(y: &Year, p: &PayoutFacts) -> Coverage {
    if p.reversed {
        return Coverage::Reversed;
    }
    let span = y.employments.iter().find(|e| e.id == p.employment_id);
    if !span.is_some_and(|s| s.start <= p.worked_from && s.end.is_none_or(|end| p.worked_to <= end)) {
        return Coverage::OutsideEmployment;
    }
    if naive_card_coverage(&y.card_periods, p.worked_from, p.worked_to) == CardCoverage::Whole {
        Coverage::Covered
    } else {
        Coverage::CardInactive
    }
}

fn sum(amounts: impl Iterator<Item = Money>) -> i64 {
    amounts.map(Money::ore).sum()
}

/// The adjustments between two allocations, plus the splits of payouts
/// only one of them has, account for the whole change of the totals.
fn check_changes_account_for_totals(before: &Allocation, after: &Allocation) -> Result<(), TestCaseError> {
    let changes = split_changes(&before.splits, &after.splits);
    let expected: Vec<&String> = before
        .splits
        .iter()
        .filter(|(id, old)| {
            after.splits.get(*id).is_some_and(|new| (new.exempt, new.taxable) != (old.exempt, old.taxable))
        })
        .map(|(id, _)| id)
        .collect();
    prop_assert_eq!(changes.iter().map(|c| &c.payout_id).collect::<Vec<_>>(), expected);
    let only = |a: &Allocation, b: &Allocation| -> (i64, i64) {
        let extra: Vec<&Split> =
            a.splits.iter().filter(|(id, _)| !b.splits.contains_key(*id)).map(|(_, s)| s).collect();
        (sum(extra.iter().map(|s| s.exempt)), sum(extra.iter().map(|s| s.taxable)))
    };
    let (added_exempt, added_taxable) = only(after, before);
    let (removed_exempt, removed_taxable) = only(before, after);
    let changed_exempt: i64 = changes.iter().map(|c| c.new_exempt.ore() - c.old_exempt.ore()).sum();
    let changed_taxable: i64 = changes.iter().map(|c| c.new_taxable.ore() - c.old_taxable.ore()).sum();
    prop_assert_eq!(changed_exempt + added_exempt - removed_exempt, after.exempt.ore() - before.exempt.ore());
    prop_assert_eq!(changed_taxable + added_taxable - removed_taxable, after.taxable.ore() - before.taxable.ore());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_split_adds_up_and_the_totals_stay_within_the_cap(y in a_year()) {
        let a = y.allocate();
        prop_assert_eq!(a.splits.len(), y.payouts.len());
        let mut cap_reached = false;
        let mut ordered: Vec<&PayoutFacts> = y.payouts.iter().collect();
        ordered.sort_by_key(|p| (p.payment_date, p.sequence));
        for p in ordered {
            let s = a.splits[&p.id];
            prop_assert!(!s.exempt.is_negative() && !s.taxable.is_negative(), "{:?}", s);
            if p.reversed {
                prop_assert_eq!(s, Split { exempt: Money::ZERO, taxable: Money::ZERO, coverage: Coverage::Reversed });
                continue;
            }
            prop_assert_eq!(s.exempt.ore() + s.taxable.ore(), p.gross.ore());
            if s.coverage != Coverage::Covered {
                prop_assert_eq!(s.exempt, Money::ZERO);
            } else {
                // Greedy: once a covered payout was cut short, nothing later gets headroom.
                prop_assert!(!cap_reached || s.exempt.is_zero());
                cap_reached |= s.taxable.is_positive();
            }
        }
        prop_assert_eq!(a.gross.ore(), sum(y.payouts.iter().filter(|p| !p.reversed).map(|p| p.gross)));
        prop_assert_eq!(a.exempt.ore(), sum(a.splits.values().map(|s| s.exempt)));
        prop_assert_eq!(a.taxable.ore(), sum(a.splits.values().map(|s| s.taxable)));
        prop_assert_eq!(a.exempt.ore() + a.taxable.ore(), a.gross.ore());
        prop_assert!(!a.exempt.is_negative() && a.exempt <= y.cap);
    }

    #[test]
    fn the_exempt_total_is_the_cap_or_all_covered_gross_whichever_is_less(y in a_year()) {
        let a = y.allocate();
        let covered = sum(y.payouts.iter().filter(|p| a.splits[&p.id].coverage == Coverage::Covered).map(|p| p.gross));
        prop_assert_eq!(a.exempt.ore(), covered.min(y.cap.ore()));
    }

    #[test]
    fn every_payout_gets_the_first_reason_that_applies_to_it(y in a_year()) {
        let a = y.allocate();
        for p in &y.payouts {
            prop_assert_eq!(a.splits[&p.id].coverage, naive_coverage(&y, p), "{:?}", p);
        }
    }

    #[test]
    fn neither_registration_order_nor_input_order_changes_the_exempt_total_or_any_coverage(y in a_year()) {
        let a = y.allocate();
        let mut rearrived = y.payouts.clone();
        for (p, &s) in rearrived.iter_mut().zip(&y.other_sequences) {
            p.sequence = s;
        }
        let b = y.allocate_payouts(&rearrived);
        prop_assert_eq!((a.gross, a.exempt, a.taxable), (b.gross, b.exempt, b.taxable));
        for (id, s) in &a.splits {
            prop_assert_eq!(s.coverage, b.splits[id].coverage);
        }
        // With no two payouts paid the same day the sequence cannot matter at all.
        let mut dates: Vec<_> = y.payouts.iter().map(|p| p.payment_date).collect();
        dates.sort();
        dates.dedup();
        if dates.len() == y.payouts.len() {
            prop_assert_eq!(&a, &b);
        }
        let mut shuffled = y.payouts.clone();
        shuffled.reverse();
        let third = shuffled.len() / 3;
        shuffled.rotate_left(third);
        prop_assert_eq!(&y.allocate_payouts(&shuffled), &a);
    }

    #[test]
    fn reversing_a_payout_and_re_registering_the_same_facts_restores_the_totals(y in a_year(), pick in any::<Index>()) {
        let live: Vec<usize> = (0..y.payouts.len()).filter(|&i| !y.payouts[i].reversed).collect();
        prop_assume!(!live.is_empty());
        let i = live[pick.index(live.len())];
        let before = y.allocate();
        let mut payouts = y.payouts.clone();
        payouts[i].reversed = true;
        payouts.push(PayoutFacts { id: "again".into(), sequence: y.next_sequence(), ..y.payouts[i].clone() });
        let after = y.allocate_payouts(&payouts);
        prop_assert_eq!((after.gross, after.exempt, after.taxable), (before.gross, before.exempt, before.taxable));
    }

    /// The per-payout form needs the payment date to be unshared: the
    /// copy's new, highest sequence places it after every payout paid the
    /// same day, where the original may have been before some of them (see
    /// `re_registering_a_reversed_payout_can_move_headroom_between_payouts_paid_the_same_day`).
    /// With the date unshared, the copy takes exactly the original's place
    /// in (payment date, sequence) order, so every split is the same.
    #[test]
    fn reversing_and_re_registering_restores_every_split_when_no_other_payout_shares_the_payment_date(
        y in a_year(),
        pick in any::<Index>(),
    ) {
        let live: Vec<usize> = (0..y.payouts.len()).filter(|&i| !y.payouts[i].reversed).collect();
        prop_assume!(!live.is_empty());
        let i = live[pick.index(live.len())];
        let original = &y.payouts[i];
        prop_assume!(y.payouts.iter().filter(|p| p.payment_date == original.payment_date).count() == 1);
        let before = y.allocate();
        let mut payouts = y.payouts.clone();
        payouts[i].reversed = true;
        payouts.push(PayoutFacts { id: "again".into(), sequence: y.next_sequence(), ..original.clone() });
        let after = y.allocate_payouts(&payouts);
        let old = before.splits[&original.id];
        prop_assert_eq!(after.splits["again"], old);
        for (id, split) in &before.splits {
            if *id != original.id {
                prop_assert_eq!(after.splits[id], *split, "{}", id);
            }
        }
    }

    #[test]
    fn split_changes_account_for_the_difference_of_the_totals(
        y in a_year(),
        other_cap in year_and_cap(),
        pick in any::<Index>(),
        back_dated in raw_payout(2023),
        other_cards in card_periods(2024),
    ) {
        let before = y.allocate();

        let recapped = Year { cap: other_cap.1, ..y.clone() };
        check_changes_account_for_totals(&before, &recapped.allocate())?;

        if !y.payouts.is_empty() {
            let mut payouts = y.payouts.clone();
            let i = pick.index(payouts.len());
            payouts[i].reversed = true;
            check_changes_account_for_totals(&before, &y.allocate_payouts(&payouts))?;
        }

        // Registered last, paid any day of the year, usually before others.
        let mut payouts = y.payouts.clone();
        let back_dated = RawPayout { paid_day: back_dated.paid_day.min(days_in(y.year) - 1), reversed: false, ..back_dated };
        payouts.push(y.build("back-dated".into(), &back_dated, y.next_sequence()));
        check_changes_account_for_totals(&before, &y.allocate_payouts(&payouts))?;

        // A corrected card history (the generated periods are for 2024;
        // in other years they mostly remove coverage, which is a change too).
        let recarded = Year { card_periods: other_cards, ..y.clone() };
        check_changes_account_for_totals(&before, &recarded.allocate())?;
    }

    #[test]
    fn a_payout_paid_after_every_other_never_changes_the_earlier_splits(
        y in a_year(),
        raw in raw_payout(2024),
        days_later in 1i64..30,
        sequence in -5i64..100,
    ) {
        let before = y.allocate();
        let last_paid = y.payouts.iter().map(|p| p.payment_date).max().unwrap_or(day(y.year, 1, 1));
        let mut late = y.build("late".into(), &raw, sequence);
        late.payment_date = last_paid + Duration::days(days_later);
        let mut payouts = y.payouts.clone();
        payouts.push(late);
        let after = y.allocate_payouts(&payouts);
        for (id, split) in &before.splits {
            prop_assert_eq!(after.splits[id], *split, "{}", id);
        }
        prop_assert_eq!(after.exempt.ore() - before.exempt.ore(), after.splits["late"].exempt.ore());
        // Which is why the payout can be appended to the stored totals alone.
        let late = &payouts[payouts.len() - 1];
        let appended = append_payout(YearTotals::of(y.cap, &before), &y.card_periods, &y.employments, late);
        prop_assert_eq!(appended, Appended { split: after.splits["late"], totals: YearTotals::of(y.cap, &after) });
    }

    /// A new registration gets the year's next sequence, so a payout paid
    /// the same day as the latest one comes after it too.
    #[test]
    fn appending_a_payout_paid_no_earlier_than_every_other_equals_re_allocating_the_year(
        y in a_year(),
        raw in raw_payout(2024),
        days_later in 0i64..30,
        extra_sequence in 0i64..3,
    ) {
        let before = y.allocate();
        let last_paid = y.payouts.iter().map(|p| p.payment_date).max().unwrap_or(day(y.year, 1, 1));
        let mut late = y.build("late".into(), &raw, y.next_sequence() + extra_sequence);
        late.payment_date = last_paid + Duration::days(days_later);
        let appended = append_payout(YearTotals::of(y.cap, &before), &y.card_periods, &y.employments, &late);
        let mut payouts = y.payouts.clone();
        payouts.push(late);
        let after = y.allocate_payouts(&payouts);
        prop_assert_eq!(appended.split, after.splits["late"]);
        prop_assert_eq!(appended.totals, YearTotals::of(y.cap, &after));
        prop_assert_eq!(appended.totals.remaining(), Money::from_ore((y.cap.ore() - after.exempt.ore()).max(0)));
    }

    #[test]
    fn appending_every_payout_in_allocation_order_gives_the_allocation_of_the_year(y in a_year()) {
        let allocation = y.allocate();
        let mut ordered: Vec<&PayoutFacts> = y.payouts.iter().collect();
        ordered.sort_by(|a, b| (a.payment_date, a.sequence, &a.id).cmp(&(b.payment_date, b.sequence, &b.id)));
        let mut totals = YearTotals::empty(y.cap);
        for payout in ordered {
            let appended = append_payout(totals, &y.card_periods, &y.employments, payout);
            prop_assert_eq!(appended.split, allocation.splits[&payout.id], "{}", payout.id);
            totals = appended.totals;
        }
        prop_assert_eq!(totals, YearTotals::of(y.cap, &allocation));
    }

    #[test]
    fn outside_income_plus_smaajob_income_is_the_allocations_gross((y, outside) in a_year_with_outside_income()) {
        let a = y.allocate_with_outside(&outside);
        let smaajob = sum(y.payouts.iter().filter(|p| !p.reversed).map(|p| p.gross));
        let outside_sum = sum(outside.iter().filter(|o| !o.withdrawn).map(|o| o.amount));
        prop_assert_eq!(a.outside_gross.ore(), outside_sum);
        prop_assert_eq!(a.gross.ore(), smaajob + outside_sum);
        prop_assert_eq!(a.exempt.ore() + a.taxable.ore(), a.gross.ore());
        prop_assert!(!a.exempt.is_negative() && a.exempt <= y.cap);
        prop_assert_eq!(a.outside_splits.len(), outside.len());
        let all_splits = || a.splits.values().chain(a.outside_splits.values());
        prop_assert_eq!(a.exempt.ore(), sum(all_splits().map(|s| s.exempt)));
        prop_assert_eq!(a.taxable.ore(), sum(all_splits().map(|s| s.taxable)));
        for o in &outside {
            let s = a.outside_splits[&o.id];
            if o.withdrawn {
                prop_assert_eq!(s, Split { exempt: Money::ZERO, taxable: Money::ZERO, coverage: Coverage::Reversed });
            } else {
                prop_assert_eq!(s.exempt.ore() + s.taxable.ore(), o.amount.ore());
            }
        }
        // And the count of payouts does not count the outside entries.
        prop_assert_eq!(YearTotals::of(y.cap, &a).payouts as usize, y.payouts.iter().filter(|p| !p.reversed).count());
    }

    /// Outside income is allocated exactly as a covered payout with the same
    /// date, sequence and amount would be.
    #[test]
    fn outside_income_takes_headroom_exactly_like_a_covered_payout_on_its_date((y, outside) in a_year_with_outside_income()) {
        let with_outside = y.allocate_with_outside(&outside);
        let cards = always_active();
        let e1 = EmploymentSpan { id: "covered".into(), start: day(y.year - 1, 1, 1), end: None };
        let mut employments = y.employments.clone();
        employments.push(e1);
        // Under an always-active card the year's payouts keep their split only if their coverage
        // is kept: the covered ones stay covered, the others are made fully taxable by naming a
        // missing employment.
        let mut payouts: Vec<PayoutFacts> = y
            .payouts
            .iter()
            .map(|p| {
                let mut p = p.clone();
                if with_outside.splits[&p.id].coverage != Coverage::Covered {
                    p.employment_id = "missing".into();
                }
                p
            })
            .collect();
        payouts.extend(outside.iter().map(|o| PayoutFacts {
            id: o.id.clone(),
            employment_id: "covered".into(),
            sequence: o.sequence,
            payment_date: o.payment_date,
            worked_from: o.payment_date,
            worked_to: o.payment_date,
            gross: o.amount,
            reversed: o.withdrawn,
        }));
        let as_payouts = allocate(&AllocationInput {
            cap: y.cap,
            card_periods: &cards,
            employments: &employments,
            payouts: &payouts,
            outside_income: &[],
        });
        prop_assert_eq!((as_payouts.gross, as_payouts.exempt, as_payouts.taxable), (with_outside.gross, with_outside.exempt, with_outside.taxable));
        for p in &y.payouts {
            let (a, b) = (with_outside.splits[&p.id], as_payouts.splits[&p.id]);
            prop_assert_eq!((a.exempt, a.taxable), (b.exempt, b.taxable), "{}", p.id);
        }
        for o in &outside {
            prop_assert_eq!(with_outside.outside_splits[&o.id], as_payouts.splits[&o.id], "{}", o.id);
        }
    }

    #[test]
    fn a_payout_appended_after_all_outside_income_equals_re_allocating_the_year(
        (y, outside) in a_year_with_outside_income(),
        raw in raw_payout(2024),
        days_later in 0i64..30,
    ) {
        let before = y.allocate_with_outside(&outside);
        let last_paid = y
            .payouts
            .iter()
            .map(|p| p.payment_date)
            .chain(outside.iter().map(|o| o.payment_date))
            .max()
            .unwrap_or(day(y.year, 1, 1));
        let next = 1 + y.payouts.iter().map(|p| p.sequence).chain(outside.iter().map(|o| o.sequence)).max().unwrap_or(0);
        let mut late = y.build("late".into(), &raw, next);
        late.payment_date = last_paid + Duration::days(days_later);
        let appended = append_payout(YearTotals::of(y.cap, &before), &y.card_periods, &y.employments, &late);
        let mut payouts = y.payouts.clone();
        payouts.push(late);
        let after = allocate(&AllocationInput {
            cap: y.cap,
            card_periods: &y.card_periods,
            employments: &y.employments,
            payouts: &payouts,
            outside_income: &outside,
        });
        prop_assert_eq!(appended.split, after.splits["late"]);
        prop_assert_eq!(appended.totals, YearTotals::of(y.cap, &after));
    }

    #[test]
    fn card_coverage_agrees_with_a_day_by_day_check(
        (year, periods) in year_and_cap().prop_flat_map(|(year, _)| (Just(year), card_periods(year))),
        start in -40i64..400,
        length in -2i64..60,
    ) {
        let from = day(year, 1, 1) + Duration::days(start);
        let to = from + Duration::days(length);
        prop_assert_eq!(card_coverage(&periods, from, to), naive_card_coverage(&periods, from, to));
    }

    /// Arbitrary, overlapping, abutting and empty periods packed into
    /// three weeks around a DST change, so that day boundaries, 23- and
    /// 25-hour days and runs of covered days that merely touch all occur.
    #[test]
    fn card_coverage_agrees_with_a_day_by_day_check_for_any_periods_around_a_dst_change(
        base in prop::sample::select(vec![day(2024, 3, 20), day(2024, 10, 17), day(2025, 3, 20), day(2025, 10, 16)]),
        periods in prop::collection::vec((0i64..21 * 24, prop::option::of(0i64..21 * 24), any::<bool>(), any::<bool>()), 0..5),
        start in 0i64..21,
        length in -1i64..21,
    ) {
        // Hours from 00:00 UTC of `base`, or snapped to that day's Copenhagen midnight.
        let at = |hours: i64, snap: bool| {
            let t = base.and_time(NaiveTime::MIN) + Duration::hours(hours);
            if snap { copenhagen_midnight_utc(copenhagen_date(t)).unwrap() } else { t }
        };
        let periods: Vec<CardPeriod> = periods
            .into_iter()
            .map(|(from, to, snap_from, snap_to)| CardPeriod { from: at(from, snap_from), to: to.map(|to| at(to, snap_to)) })
            .collect();
        let from = base + Duration::days(start);
        let to = from + Duration::days(length);
        prop_assert_eq!(card_coverage(&periods, from, to), naive_card_coverage(&periods, from, to));
    }

    #[test]
    fn the_projected_day_is_the_first_on_which_the_pace_covers_the_remaining_headroom(
        today in (0i64..366).prop_map(|d| day(2024, 1, 1) + Duration::days(d)),
        so_far in 0i64..=5_000_000,
        remaining in 0i64..=5_000_000,
    ) {
        let p = project(2024, today, Money::from_ore(so_far), Money::from_ore(remaining)).unwrap();
        let weeks_x7 = i64::from(today.ordinal()).max(7);
        // |pace − so_far × 7 / days| ≤ half an øre
        prop_assert!((i128::from(p.weekly_pace.ore()) * 2 * i128::from(weeks_x7) - i128::from(so_far) * 14).abs() <= i128::from(weeks_x7));
        if let Some(reached) = p.cap_reached_on {
            let n = i128::from((reached - today).num_days());
            let pace = i128::from(p.weekly_pace.ore());
            prop_assert!(n * pace >= i128::from(remaining) * 7);
            prop_assert!((n - 1) * pace < i128::from(remaining) * 7);
            prop_assert!(reached.year() == 2024);
        } else {
            let pace = i128::from(p.weekly_pace.ore());
            let year_end_days = i128::from((day(2024, 12, 31) - today).num_days());
            prop_assert!(remaining == 0 || pace == 0 || year_end_days * pace < i128::from(remaining) * 7);
        }
    }
}
