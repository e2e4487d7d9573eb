//! How long the public-transport profile of one task shift takes against a regional-size
//! timetable: one reverse and one forward connection scan serve every citizen of the candidate
//! list, so this bounds what a timetable adds to it (target ≤ 200 ms).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use smaajob_domain::GeoPoint;
use smaajob_domain::matching::{Connection, Timetable};

/// SplitMix64: a seeded generator, so every run builds the same timetable.
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

/// A region of 100 × 100 km (about Midttrafik's east): 8,000 stops at random, 400 lines of 30
/// stops each, run both ways every 15 to 30 minutes from 05:00 to 24:00, 1 to 3 minutes between
/// stops. About 1.1 million connections a day.
fn region() -> Timetable {
    let mut rng = SplitMix64(0x5EED_6775);
    let stops: Vec<GeoPoint> = (0..8_000)
        .map(|_| {
            let lat = 55.9 + rng.below(90_000) as f64 / 100_000.0;
            let lon = 9.5 + rng.below(160_000) as f64 / 100_000.0;
            GeoPoint::new(lat, lon).unwrap()
        })
        .collect();
    let mut connections = Vec::new();
    let mut trip = 0u32;
    for _ in 0..400 {
        // A line wanders from a random stop to stops near the previous one.
        let mut line = vec![rng.below(8_000) as u32];
        while line.len() < 30 {
            let last = stops[*line.last().unwrap() as usize];
            let next = (0..40)
                .map(|_| rng.below(8_000) as u32)
                .min_by(|a, b| {
                    let da =
                        (stops[*a as usize].lat() - last.lat()).abs() + (stops[*a as usize].lon() - last.lon()).abs();
                    let db =
                        (stops[*b as usize].lat() - last.lat()).abs() + (stops[*b as usize].lon() - last.lon()).abs();
                    da.total_cmp(&db)
                })
                .unwrap();
            line.push(next);
        }
        let hops: Vec<u32> = (1..line.len()).map(|_| 60 + rng.below(120) as u32).collect();
        let headway = 900 + rng.below(900) as u32;
        for direction in 0..2 {
            let order: Vec<u32> = if direction == 0 { line.clone() } else { line.iter().rev().copied().collect() };
            let mut start = 5 * 3600 + rng.below(u64::from(headway)) as u32;
            while start < 24 * 3600 {
                let mut t = start;
                for (i, w) in order.windows(2).enumerate() {
                    let hop = hops[if direction == 0 { i } else { hops.len() - 1 - i }];
                    connections.push(Connection { from: w[0], to: w[1], departs: t, arrives: t + hop, trip });
                    t += hop;
                }
                trip += 1;
                start += headway;
            }
        }
    }
    Timetable::new(stops, connections)
}

fn bench(c: &mut Criterion) {
    let timetable = region();
    println!("timetable: {} stops, {} connections", timetable.stop_count(), timetable.connection_count());
    let site = GeoPoint::new(56.35, 10.3).unwrap();
    c.bench_function("public-transport profile of one shift, regional timetable", |b| {
        b.iter(|| black_box(timetable.profile(black_box(site), 6 * 3600, 14 * 3600)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
