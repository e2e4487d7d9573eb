#![allow(clippy::unwrap_used)]

use chrono::{NaiveDate, NaiveTime, Weekday};
use proptest::prelude::*;

use super::*;
use crate::allocation::CoveredDays;
use crate::citizen::{AvailabilitySlot, GeoPoint, Skill, TransportMode, WeeklyAvailability};
use crate::frikort::CardPeriod;
use crate::money::Money;
use crate::schedule::Schedule;

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn t(h: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, 0, 0).unwrap()
}

fn today() -> NaiveDate {
    day(12, 1)
}

/// The site: an industrial area east of Randers.
fn site() -> GeoPoint {
    GeoPoint::new(56.4607, 10.0364).unwrap()
}

/// A home `km` kilometres due north of the site.
fn home_km_north(km: f64) -> CoarseHome {
    CoarseHome::stored(56.4607 + km / 111.2, 10.0364).unwrap()
}

fn skill(s: &str) -> Skill {
    Skill::parse(s).unwrap()
}

/// A Saturday 08–12 shift on 12 December, 4 paid hours at 150 kr, for frikort holders.
fn task(required: &[&str]) -> TaskProfile {
    let schedule = Schedule::single(day(12, 12), t(8), t(12)).unwrap();
    TaskProfile::new(
        schedule,
        240,
        Money::from_kroner(150),
        true,
        required.iter().map(|s| skill(s)).collect(),
        "Bageriet søger hjælp: bage boller og pakke",
        site(),
        today(),
    )
}

/// An adult card holder 3 km away by bicycle, free on Saturdays, with 10,000 kr of headroom.
fn citizen(key: &str) -> CitizenFacts {
    CitizenFacts {
        key: key.to_owned(),
        birth_date: NaiveDate::from_ymd_opt(1990, 5, 1).unwrap(),
        card_days: CoveredDays::new(&[CardPeriod { from: day(1, 1).and_hms_opt(0, 0, 0).unwrap(), to: None }]),
        skills: vec![skill("bage")],
        availability: WeeklyAvailability::new(
            vec![AvailabilitySlot { weekday: Weekday::Sat, from: t(7), to: t(14) }],
            Some(20),
        )
        .unwrap(),
        home: Some(home_km_north(3.0)),
        modes: vec![TransportMode::Bicycle],
        limit: TravelLimit::default(),
        bookings: Vec::new(),
        headroom: vec![Headroom { year: 2026, left: Money::from_kroner(10_000) }],
        recent_offers: 0,
        recent_paid_minutes: 0,
        enrolled_on: day(6, 1),
    }
}

fn eval(c: &CitizenFacts) -> Evaluation {
    evaluate(&task(&[]), c, PairFacts::default(), today())
}

#[test]
fn a_fitting_citizen_is_a_candidate_with_readable_reasons_in_danish_and_english() {
    let c = citizen("a");
    let e = eval(&c);
    assert!(e.is_candidate(), "{:?}", e.exclusions);
    // 3 km × 1.3 at 15 km/h = 15.6 min → 16 (the grid snap moves the home by at most ~125 m).
    let (mode, minutes) = e.best.unwrap();
    assert_eq!(mode, TransportMode::Bicycle);
    assert!((15..=17).contains(&minutes), "{minutes}");
    let r = reasons(&e, &c, today());
    let da: Vec<&str> = r.iter().map(|r| r.da.as_str()).collect();
    assert!(da.contains(&format!("Cykel {minutes} min").as_str()), "{da:?}");
    assert!(da.contains(&"kan bage"), "{da:?}");
    assert!(da.contains(&"10.000 kr. tilbage af fribeløbet"), "{da:?}");
    assert!(r.iter().any(|r| r.en == "DKK 10,000 left of the exempt amount"));
    assert_eq!(e.headroom, HeadroomFit::Full { left: Money::from_kroner(10_000) });
}

#[test]
fn every_hard_filter_excludes_with_its_code() {
    let check = |change: &dyn Fn(&mut CitizenFacts), pair: PairFacts, required: &[&str], want: Exclusion| {
        let mut c = citizen("a");
        change(&mut c);
        let e = evaluate(&task(required), &c, pair, today());
        assert_eq!(e.exclusions, vec![want]);
        assert_eq!(reasons(&e, &c, today())[0].code, want.as_str());
    };
    let none = PairFacts::default();
    check(&|c| c.card_days = CoveredDays::default(), none, &[], Exclusion::NoActiveCard);
    check(
        &|c| {
            c.card_days = CoveredDays::new(&[CardPeriod { from: day(12, 13).and_hms_opt(0, 0, 0).unwrap(), to: None }])
        },
        none,
        &[],
        Exclusion::NoActiveCard,
    );
    check(&|c| c.birth_date = NaiveDate::from_ymd_opt(2008, 12, 13).unwrap(), none, &[], Exclusion::Under18);
    check(
        &|c| {
            c.bookings = vec![Booking {
                schedule: Schedule::single(day(12, 12), t(11), t(13)).unwrap(),
                paid_minutes_per_shift: 120,
            }]
        },
        none,
        &[],
        Exclusion::OverlappingBooking,
    );
    check(
        &|c| {
            c.availability = WeeklyAvailability::new(c.availability.slots().to_vec(), Some(5)).unwrap();
            c.bookings = vec![Booking {
                schedule: Schedule::single(day(12, 10), t(8), t(10)).unwrap(),
                paid_minutes_per_shift: 120,
            }];
        },
        none,
        &[],
        Exclusion::WeeklyHoursExceeded,
    );
    check(
        &|c| {
            c.availability =
                WeeklyAvailability::new(vec![AvailabilitySlot { weekday: Weekday::Sat, from: t(9), to: t(14) }], None)
                    .unwrap()
        },
        none,
        &[],
        Exclusion::Unavailable,
    );
    check(&|c| c.home = Some(home_km_north(30.0)), none, &[], Exclusion::Unreachable);
    check(&|c| c.home = None, none, &[], Exclusion::Unreachable);
    check(&|c| c.modes.clear(), none, &[], Exclusion::Unreachable);
    check(&|c| c.modes = vec![TransportMode::PublicTransport], none, &[], Exclusion::Unreachable);
    check(&|_| {}, none, &["bage", "kørekort"], Exclusion::MissingSkill);
    check(&|_| {}, PairFacts { live_placement: true, ..none }, &[], Exclusion::AlreadyPlaced);
}

#[test]
fn a_limit_set_higher_or_another_mode_makes_a_far_home_reachable() {
    let mut c = citizen("a");
    c.home = Some(home_km_north(12.0));
    assert_eq!(eval(&c).exclusions, vec![Exclusion::Unreachable]);
    c.limit = TravelLimit::new(70).unwrap();
    assert!(eval(&c).is_candidate());
    c.limit = TravelLimit::default();
    c.modes = vec![TransportMode::Bicycle, TransportMode::Car];
    assert_eq!(eval(&c).best.unwrap().0, TransportMode::Car);
    c.modes = vec![TransportMode::PublicTransport];
    let e = evaluate(&task(&[]), &c, PairFacts { public_transport_minutes: Some(38), ..PairFacts::default() }, today());
    assert_eq!(e.best, Some((TransportMode::PublicTransport, 38)));
}

#[test]
fn a_task_that_does_not_need_a_card_takes_citizens_without_one_and_their_pay_is_ordinary_income() {
    let schedule = Schedule::single(day(12, 12), t(8), t(12)).unwrap();
    let open = TaskProfile::new(schedule, 240, Money::from_kroner(150), false, vec![], "", site(), today());
    let mut c = citizen("a");
    c.card_days = CoveredDays::default();
    c.headroom.clear();
    let e = evaluate(&open, &c, PairFacts::default(), today());
    assert!(e.is_candidate());
    assert_eq!(e.headroom, HeadroomFit::NoCard);
    assert_eq!(e.parts.headroom, 0);
}

#[test]
fn headroom_fits_fully_partly_or_not_at_all() {
    // 4 h × 150 kr = 600 kr + 12.5 % holiday pay = 675 kr.
    assert_eq!(task(&[]).pay_in_year(), Money::from_kroner(675));
    let mut c = citizen("a");
    c.headroom = vec![Headroom { year: 2026, left: Money::from_kroner(475) }];
    let e = eval(&c);
    assert_eq!(e.headroom, HeadroomFit::Partial { left: Money::from_kroner(475), taxable: Money::from_kroner(200) });
    assert_eq!(e.parts.headroom, 703);
    assert!(
        reasons(&e, &c, today()).iter().any(|r| r.da == "475 kr. tilbage af fribeløbet, ca. 200 kr. skattepligtigt")
    );
    c.headroom = vec![Headroom { year: 2026, left: Money::ZERO }];
    assert_eq!(eval(&c).headroom, HeadroomFit::None);
}

#[test]
fn the_nearer_more_skilled_and_less_offered_citizen_ranks_higher() {
    let base = citizen("a");
    let mut near = citizen("b");
    near.home = Some(home_km_north(1.0));
    assert!(eval(&near).parts.travel > eval(&base).parts.travel);
    assert!(eval(&near).score() > eval(&base).score());
    let mut unskilled = citizen("c");
    unskilled.skills.clear();
    assert!(eval(&unskilled).score() < eval(&base).score());
    let mut offered = citizen("d");
    offered.recent_offers = 2;
    assert!(eval(&offered).parts.fairness < eval(&base).parts.fairness);
    let mut worked = citizen("e");
    worked.recent_paid_minutes = 600;
    assert!(eval(&worked).parts.fairness < eval(&base).parts.fairness);
    let mut newcomer = citizen("f");
    newcomer.enrolled_on = today();
    assert!(eval(&newcomer).parts.waiting < eval(&base).parts.waiting);
}

#[test]
fn ranking_returns_the_top_n_and_the_excluded_on_request() {
    let mut citizens: Vec<CitizenFacts> = (0..10).map(|i| citizen(&format!("c{i:02}"))).collect();
    citizens[3].card_days = CoveredDays::default();
    citizens[7].home = Some(home_km_north(0.5));
    let r = rank(&task(&[]), &citizens, |_| PairFacts::default(), 3, true, today());
    assert_eq!(r.candidate_count, 9);
    assert_eq!(r.excluded_count, 1);
    let keys: Vec<&str> = r.candidates.iter().map(|c| citizens[c.index].key.as_str()).collect();
    // The nearest first, then equals by key.
    assert_eq!(keys, ["c07", "c00", "c01"]);
    assert_eq!(r.excluded.len(), 1);
    assert_eq!(r.excluded[0].evaluation.exclusions, vec![Exclusion::NoActiveCard]);
    let r = rank(&task(&[]), &citizens, |_| PairFacts::default(), 0, false, today());
    assert!(r.candidates.is_empty() && r.excluded.is_empty());
    assert_eq!((r.candidate_count, r.excluded_count), (9, 1));
}

fn arb_citizen() -> impl Strategy<Value = CitizenFacts> {
    (
        "[a-z]{1,6}",
        0u32..4,
        prop::option::of(0.0f64..25.0),
        prop::bool::ANY,
        prop::bool::ANY,
        0u32..4,
        0u32..3000,
        0i64..400,
        prop::option::of(0u32..90),
        prop::sample::subsequence(vec!["bage", "pakke", "kørekort"], 0..3),
    )
        .prop_map(|(key, modes, km, card, available, offers, minutes, waited, _pt, skills)| {
            let mut c = citizen(&key);
            c.modes = [TransportMode::Walk, TransportMode::Bicycle, TransportMode::Car, TransportMode::PublicTransport]
                [..modes as usize]
                .to_vec();
            c.home = km.map(home_km_north);
            if !card {
                c.card_days = CoveredDays::default();
            }
            if !available {
                c.availability = WeeklyAvailability::new(
                    vec![AvailabilitySlot { weekday: Weekday::Mon, from: t(8), to: t(9) }],
                    None,
                )
                .unwrap();
            }
            c.recent_offers = offers;
            c.recent_paid_minutes = minutes;
            c.enrolled_on = today() - chrono::Duration::days(waited);
            c.skills = skills.into_iter().map(skill).collect();
            c
        })
}

proptest! {
    #[test]
    fn no_excluded_citizen_is_ever_among_the_candidates(
        citizens in prop::collection::vec(arb_citizen(), 0..40),
        pt in prop::collection::vec(prop::option::of(0u32..90), 40),
        limit in 0usize..50,
        required in prop::sample::subsequence(vec!["bage", "pakke"], 0..2),
    ) {
        let task = task(&required);
        let pair = |i: usize| PairFacts { public_transport_minutes: pt[i], live_placement: i % 7 == 3 };
        let r = rank(&task, &citizens, pair, limit, true, today());
        for c in &r.candidates {
            prop_assert!(evaluate(&task, &citizens[c.index], pair(c.index), today()).is_candidate());
        }
        for x in &r.excluded {
            prop_assert!(!x.evaluation.exclusions.is_empty());
            prop_assert!(r.candidates.iter().all(|c| c.index != x.index));
        }
        prop_assert_eq!(r.candidate_count + r.excluded_count, citizens.len());
        prop_assert_eq!(r.candidates.len(), limit.min(r.candidate_count));
    }

    #[test]
    fn ranking_is_deterministic_and_does_not_depend_on_input_order(
        citizens in prop::collection::vec(arb_citizen(), 0..40),
        limit in 1usize..50,
        seed in any::<u64>(),
    ) {
        let task = task(&[]);
        let keys = |cs: &[CitizenFacts], r: &Ranking| {
            r.candidates.iter().map(|c| (cs[c.index].key.clone(), c.evaluation.score())).collect::<Vec<_>>()
        };
        let first = rank(&task, &citizens, |_| PairFacts::default(), limit, false, today());
        let again = rank(&task, &citizens, |_| PairFacts::default(), limit, false, today());
        prop_assert_eq!(&first, &again);
        // Shuffled (deterministically from the seed): the same keys in the same order, unless two
        // citizens share a key and a score, which the key cannot tell apart.
        let mut shuffled = citizens.clone();
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = usize::try_from((seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) % (i as u64 + 1)).unwrap();
            shuffled.swap(i, j);
        }
        let other = rank(&task, &shuffled, |_| PairFacts::default(), limit, false, today());
        prop_assert_eq!(keys(&citizens, &first), keys(&shuffled, &other));
        let scores: Vec<u32> = first.candidates.iter().map(|c| c.evaluation.score()).collect();
        prop_assert!(scores.windows(2).all(|w| w[0] >= w[1]));
    }

    #[test]
    fn fairness_rotates_the_first_among_equals_as_offers_are_made(n in 2usize..8, rounds in 1usize..20) {
        let task = task(&[]);
        let mut citizens: Vec<CitizenFacts> = (0..n).map(|i| citizen(&format!("c{i}"))).collect();
        let mut firsts = Vec::new();
        for _ in 0..rounds {
            let r = rank(&task, &citizens, |_| PairFacts::default(), 1, false, today());
            let first = r.candidates[0].index;
            // The first is always one of those with the fewest offers so far.
            let fewest = citizens.iter().map(|c| c.recent_offers).min().unwrap();
            prop_assert_eq!(citizens[first].recent_offers, fewest);
            citizens[first].recent_offers += 1;
            firsts.push(first);
        }
        // Every citizen comes first once before anyone comes first twice.
        for window in firsts.chunks(n) {
            let distinct: std::collections::BTreeSet<_> = window.iter().collect();
            prop_assert_eq!(distinct.len(), window.len());
        }
    }
}
