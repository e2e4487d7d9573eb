//! How long ranking the top 20 of 100,000 citizens for one task takes: the whole municipality
//! is weighed on every candidate list, so this must stay well under 20 ms.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use chrono::{Duration, NaiveDate, NaiveTime, Weekday};
use criterion::{Criterion, criterion_group, criterion_main};
use smaajob_domain::matching::{
    Booking, CitizenFacts, CoarseHome, Headroom, PairFacts, TaskProfile, TravelLimit, rank,
};
use smaajob_domain::{
    AvailabilitySlot, CardPeriod, CoveredDays, GeoPoint, Money, Schedule, Skill, TransportMode, WeeklyAvailability,
};

/// SplitMix64: a seeded generator, so every run ranks the same citizens.
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

    fn unit(&mut self) -> f64 {
        self.below(1_000_000) as f64 / 1_000_000.0
    }
}

fn t(h: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, 0, 0).unwrap()
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

const SKILLS: [&str; 8] = ["bage", "pakke", "rengøring", "lager", "kørekort", "have", "kasse", "opvask"];
const WEEKDAYS: [Weekday; 7] =
    [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];
const MODES: [TransportMode; 5] = [
    TransportMode::Walk,
    TransportMode::Bicycle,
    TransportMode::PublicTransport,
    TransportMode::Car,
    TransportMode::Moped,
];

/// Citizens spread over 30 × 30 km around Randers, with one to three skills, modes and slots,
/// most with a card, a few with a booking.
fn citizens(n: usize) -> Vec<CitizenFacts> {
    let mut rng = SplitMix64(0x5EED_2026);
    (0..n)
        .map(|i| {
            let skills = {
                let mut s: Vec<Skill> =
                    (0..1 + rng.below(3)).map(|_| Skill::parse(SKILLS[rng.below(8) as usize]).unwrap()).collect();
                s.sort();
                s.dedup();
                s
            };
            let modes = {
                let mut m: Vec<TransportMode> = (0..1 + rng.below(3)).map(|_| MODES[rng.below(5) as usize]).collect();
                m.sort();
                m.dedup();
                m
            };
            let mut slots = Vec::new();
            for &weekday in &WEEKDAYS {
                if rng.below(2) == 0 {
                    slots.push(AvailabilitySlot {
                        weekday,
                        from: t(6 + rng.below(4) as u32),
                        to: t(14 + rng.below(6) as u32),
                    });
                }
            }
            let card = rng.below(10) < 8;
            CitizenFacts {
                key: format!("{i:08x}-0000-4000-8000-000000000000"),
                birth_date: NaiveDate::from_ymd_opt(1960 + rng.below(48) as i32, 1 + rng.below(12) as u32, 1).unwrap(),
                card_days: if card {
                    CoveredDays::new(&[CardPeriod { from: day(1, 1).and_hms_opt(0, 0, 0).unwrap(), to: None }])
                } else {
                    CoveredDays::default()
                },
                skills,
                availability: WeeklyAvailability::new(slots, (rng.below(2) == 0).then_some(20)).unwrap(),
                home: Some(CoarseHome::stored(56.33 + rng.unit() * 0.27, 9.79 + rng.unit() * 0.49).unwrap()),
                modes,
                limit: TravelLimit::new(20 + rng.below(60) as i64).unwrap(),
                bookings: if rng.below(10) == 0 {
                    vec![Booking {
                        schedule: Schedule::single(day(12, 1 + rng.below(28) as u32), t(8), t(12)).unwrap(),
                        paid_minutes_per_shift: 240,
                    }]
                } else {
                    Vec::new()
                },
                headroom: if card {
                    vec![Headroom { year: 2026, left: Money::from_kroner(rng.below(42_000) as i64) }]
                } else {
                    Vec::new()
                },
                recent_offers: rng.below(4) as u32,
                recent_paid_minutes: rng.below(3000) as u32,
                enrolled_on: day(12, 1) - Duration::days(rng.below(700) as i64),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let today = day(12, 1);
    let schedule = Schedule::weekly(vec![Weekday::Sat, Weekday::Sun], t(8), t(12), day(12, 5), day(12, 31)).unwrap();
    let task = TaskProfile::new(
        schedule,
        240,
        Money::from_kroner(150),
        true,
        vec![Skill::parse("pakke").unwrap()],
        "Pakkeri i Randers Øst søger hjælp til at pakke og lager",
        GeoPoint::new(56.4607, 10.0364).unwrap(),
        today,
    );
    let everyone = citizens(100_000);
    let pt: Vec<Option<u32>> = (0..everyone.len()).map(|i| (i % 3 == 0).then_some(25 + (i % 40) as u32)).collect();
    c.bench_function("rank top 20 of 100,000 citizens", |b| {
        b.iter(|| {
            let pair = |i: usize| PairFacts { public_transport_minutes: pt[i], live_placement: false };
            black_box(rank(black_box(&task), black_box(&everyone), pair, 20, false, today))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
