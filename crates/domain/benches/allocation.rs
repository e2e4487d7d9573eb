//! How long re-allocating one citizen-year takes. Every reversal, back-dated
//! payout, cap change or card correction re-runs `allocate` inside the
//! write transaction of that citizen-year, so it must stay well under a
//! millisecond even for an unusually busy year.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use chrono::{Duration, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use smaajob_domain::{AllocationInput, CardPeriod, EmploymentSpan, Money, OutsideIncomeFacts, PayoutFacts, allocate};

/// SplitMix64: a seeded generator, so every run measures the same year
/// without pulling in a random-number crate.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn busy_year() -> (Vec<CardPeriod>, Vec<EmploymentSpan>, Vec<PayoutFacts>) {
    let mut rng = SplitMix64(0x5EED_2024);
    let year_start = day(2024, 1, 1);
    // Issued before the year; deactivated in June, reactivated in August
    // (UTC instants that are not local midnights, as real decisions are).
    let card_periods = vec![
        CardPeriod {
            from: day(2023, 3, 1).and_hms_opt(8, 30, 0).unwrap(),
            to: Some(day(2024, 6, 15).and_hms_opt(12, 0, 0).unwrap()),
        },
        CardPeriod { from: day(2024, 8, 1).and_hms_opt(7, 15, 0).unwrap(), to: None },
    ];
    let employments = vec![
        EmploymentSpan { id: "emp-a".into(), start: day(2023, 11, 1), end: None },
        EmploymentSpan { id: "emp-b".into(), start: day(2024, 2, 1), end: Some(day(2024, 9, 30)) },
        EmploymentSpan { id: "emp-c".into(), start: day(2024, 5, 1), end: Some(day(2024, 12, 31)) },
    ];
    let payouts = (0..1_000)
        .map(|i| {
            let payment_date = year_start + Duration::days(rng.below(366) as i64);
            let worked_to = payment_date - Duration::days(rng.below(14) as i64);
            let worked_from = worked_to - Duration::days(rng.below(7) as i64);
            PayoutFacts {
                id: format!("payout-{i:04}"),
                employment_id: employments[rng.below(3) as usize].id.clone(),
                // Registration order differs from payment order, as it does
                // when payouts are back-dated.
                sequence: rng.below(1_000_000) as i64 * 1_000 + i,
                payment_date,
                worked_from,
                worked_to,
                gross: Money::from_ore(1 + rng.below(200_000) as i64),
                reversed: rng.below(20) == 0,
            }
        })
        .collect();
    (card_periods, employments, payouts)
}

/// Outside income from employers registering directly with the national register: 50 entries
/// paid across the year, interleaved with the payouts.
fn outside_income() -> Vec<OutsideIncomeFacts> {
    let mut rng = SplitMix64(0x0075_1DE0);
    (0..50)
        .map(|i| OutsideIncomeFacts {
            id: format!("outside-{i:02}"),
            sequence: rng.below(1_000_000) as i64 * 1_000 + 500 + i,
            payment_date: day(2024, 1, 1) + Duration::days(rng.below(366) as i64),
            amount: Money::from_ore(1 + rng.below(200_000) as i64),
            withdrawn: rng.below(20) == 0,
        })
        .collect()
}

fn bench_allocate(c: &mut Criterion) {
    let (card_periods, employments, payouts) = busy_year();
    let input = AllocationInput {
        cap: Money::from_kroner(41_280),
        card_periods: &card_periods,
        employments: &employments,
        payouts: &payouts,
        outside_income: &[],
    };
    c.bench_function("allocate 1000 payouts, 3 employments, 2 card periods", |b| {
        b.iter(|| allocate(black_box(&input)))
    });
    let outside = outside_income();
    let with_outside = AllocationInput { outside_income: &outside, ..input };
    c.bench_function("allocate 1000 payouts and 50 outside income entries", |b| {
        b.iter(|| allocate(black_box(&with_outside)))
    });
}

criterion_group!(benches, bench_allocate);
criterion_main!(benches);
