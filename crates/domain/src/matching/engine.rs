//! The matching engine: which citizens can take a task, and in which order.
//!
//! A citizen is first held against the **hard filters** ([`Exclusion`]); failing any of them
//! leaves them out, with every reason that applies. Those who pass get a **soft score** made of
//! parts shown separately ([`ScoreParts`], each 0–1000 and weighted by [`WEIGHTS`]). All
//! arithmetic is in integers, so the same inputs give the same scores on every machine, and
//! ties are broken by the citizen's stable key (their id): the ranking is deterministic.
//!
//! The engine does no I/O: the caller gathers the facts ([`TaskProfile`], [`CitizenFacts`],
//! [`PairFacts`]) and gets back a [`Ranking`].

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use serde::Serialize;

use crate::allocation::{CardCoverage, CoveredDays};
use crate::citizen::{GeoPoint, Skill, TransportMode, WeeklyAvailability};
use crate::cpr::age_on;
use crate::frikort::MINIMUM_AGE;
use crate::matching::travel::{CoarseHome, ModeModel, TravelLimit, haversine_m};
use crate::money::Money;
use crate::pay::{estimated_pay, holiday_pay};
use crate::schedule::Schedule;

/// The weight of each score part; they add up to 100, so a score is at most 100 × 1000.
pub const WEIGHTS: Weights =
    Weights { skills: 25, availability: 20, travel: 20, headroom: 15, fairness: 15, waiting: 5 };

/// How far back offers and paid work count for fairness, in days.
pub const FAIRNESS_WINDOW_DAYS: i64 = 90;

/// Waiting since enrolment counts up to this many days (then it is full).
pub const WAITING_FULL_AFTER_DAYS: i64 = 365;

/// How many matched skills make the skills part full.
pub const SKILLS_FULL_AT: u32 = 3;

/// The weight of each score part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Weights {
    /// Weight of [`ScoreParts::skills`].
    pub skills: u32,
    /// Weight of [`ScoreParts::availability`].
    pub availability: u32,
    /// Weight of [`ScoreParts::travel`].
    pub travel: u32,
    /// Weight of [`ScoreParts::headroom`].
    pub headroom: u32,
    /// Weight of [`ScoreParts::fairness`].
    pub fairness: u32,
    /// Weight of [`ScoreParts::waiting`].
    pub waiting: u32,
}

/// What is known about a task, prepared once for every citizen it is matched against.
#[derive(Debug, Clone)]
pub struct TaskProfile {
    schedule: Schedule,
    start: NaiveTime,
    end: NaiveTime,
    shifts_per_weekday: [u32; 7],
    shift_count: u32,
    weekly_minutes: u32,
    frikort_only: bool,
    required_skills: Vec<Skill>,
    words: BTreeSet<String>,
    location: GeoPoint,
    pay_year: Option<i32>,
    pay_in_year: Money,
    first_date: NaiveDate,
    last_date: NaiveDate,
}

impl TaskProfile {
    /// Prepares a task: its schedule, paid minutes per shift and hourly wage (for the pay
    /// expected in the year of its next shift from `today`, holiday pay included), whether it is
    /// for frikort holders only, its required skills, its title and description (for skills it
    /// mentions), and its work location.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        schedule: Schedule,
        paid_minutes_per_shift: u32,
        hourly_wage: Money,
        frikort_only: bool,
        required_skills: Vec<Skill>,
        text: &str,
        location: GeoPoint,
        today: NaiveDate,
    ) -> TaskProfile {
        let (start, end) = match &schedule {
            Schedule::Single { start, end, .. } | Schedule::Weekly { start, end, .. } => (*start, *end),
        };
        let mut shifts_per_weekday = [0u32; 7];
        for d in schedule.dates() {
            shifts_per_weekday[d.weekday().num_days_from_monday() as usize] += 1;
        }
        let shift_count = shifts_per_weekday.iter().sum();
        let pay = estimated_pay(&schedule, paid_minutes_per_shift, hourly_wage, today);
        let (pay_year, pay_in_year) = pay
            .into_iter()
            .next()
            .map_or((None, Money::ZERO), |(y, w)| (Some(y), Money::from_ore(w.ore() + holiday_pay(w).ore())));
        let words = text
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        TaskProfile {
            weekly_minutes: schedule.max_minutes_in_a_week(paid_minutes_per_shift),
            first_date: schedule.first_date(),
            last_date: schedule.last_date(),
            schedule,
            start,
            end,
            shifts_per_weekday,
            shift_count,
            frikort_only,
            required_skills,
            words,
            location,
            pay_year,
            pay_in_year,
        }
    }

    /// The calendar year of the task's next shift from the day it was prepared, whose exempt
    /// amount the headroom part weighs; `None` when no shift lies ahead.
    pub fn pay_year(&self) -> Option<i32> {
        self.pay_year
    }

    /// Expected gross pay (wage and holiday pay) of the task's shifts in [`Self::pay_year`].
    pub fn pay_in_year(&self) -> Money {
        self.pay_in_year
    }

    /// The work location.
    pub fn location(&self) -> GeoPoint {
        self.location
    }
}

/// A citizen's approved placement on another task: its schedule and paid minutes per shift.
#[derive(Debug, Clone)]
pub struct Booking {
    /// The schedule of the booked task.
    pub schedule: Schedule,
    /// Paid minutes per shift of the booked task.
    pub paid_minutes_per_shift: u32,
}

/// What is left of a citizen's exempt amount in one calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headroom {
    /// The calendar year.
    pub year: i32,
    /// Cap minus exempt income so far, never negative.
    pub left: Money,
}

/// What is known about a citizen, independent of the task.
#[derive(Debug, Clone)]
pub struct CitizenFacts {
    /// The stable tie-breaking key (the citizen's id).
    pub key: String,
    /// Birth date, from the CPR number.
    pub birth_date: NaiveDate,
    /// The days the citizen's frikort was or is active (none without a card).
    pub card_days: CoveredDays,
    /// What the citizen can do, sorted.
    pub skills: Vec<Skill>,
    /// When the citizen can work; no slots means nothing was stated.
    pub availability: WeeklyAvailability,
    /// The coarsened home location, if known.
    pub home: Option<CoarseHome>,
    /// How the citizen can travel.
    pub modes: Vec<TransportMode>,
    /// The longest one-way trip the citizen accepts.
    pub limit: TravelLimit,
    /// Approved placements on other tasks.
    pub bookings: Vec<Booking>,
    /// What is left of the exempt amount, per year (only with an active card).
    pub headroom: Vec<Headroom>,
    /// Offers made to the citizen in the last [`FAIRNESS_WINDOW_DAYS`].
    pub recent_offers: u32,
    /// Minutes of paid work in the last [`FAIRNESS_WINDOW_DAYS`].
    pub recent_paid_minutes: u32,
    /// The day the citizen was enrolled.
    pub enrolled_on: NaiveDate,
}

/// What is known about one citizen and one task together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairFacts {
    /// Door-to-door public-transport minutes from a timetable, arriving before the shift
    /// starts and with a way back; `None` when no such trip exists or no feed is loaded.
    pub public_transport_minutes: Option<u32>,
    /// The citizen already has a live placement (interest, offer, acceptance or approval) on
    /// the task.
    pub live_placement: bool,
}

/// Why a citizen is left out of a task's candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// A frikort task, and no active card covers the shift dates.
    NoActiveCard,
    /// Under 18 on the first shift.
    Under18,
    /// Already booked at an overlapping time.
    OverlappingBooking,
    /// With this task the week holds more hours than the citizen said they can work.
    WeeklyHoursExceeded,
    /// None of the shifts falls in the citizen's stated availability.
    Unavailable,
    /// No mode of the citizen's reaches the work within their limit (or the home is unknown).
    Unreachable,
    /// The citizen lacks a skill the task requires.
    MissingSkill,
    /// The citizen already has a live placement on this task.
    AlreadyPlaced,
}

crate::coded_enum!(Exclusion, "exclusion reason" {
    NoActiveCard => "no_active_card",
    Under18 => "under_18",
    OverlappingBooking => "overlapping_booking",
    WeeklyHoursExceeded => "weekly_hours_exceeded",
    Unavailable => "unavailable",
    Unreachable => "unreachable",
    MissingSkill => "missing_skill",
    AlreadyPlaced => "already_placed",
});

impl Exclusion {
    /// A short reason in Danish and English.
    pub fn texts(self) -> (&'static str, &'static str) {
        match self {
            Exclusion::NoActiveCard => {
                ("intet aktivt frikort i opgavens periode", "no active frikort for the task's dates")
            }
            Exclusion::Under18 => ("under 18 år", "under 18"),
            Exclusion::OverlappingBooking => ("allerede booket på samme tid", "already booked at the same time"),
            Exclusion::WeeklyHoursExceeded => ("for mange timer om ugen", "too many hours a week"),
            Exclusion::Unavailable => ("ikke til rådighed på vagterne", "not available for the shifts"),
            Exclusion::Unreachable => ("kan ikke nå frem inden for sin grænse", "cannot get there within their limit"),
            Exclusion::MissingSkill => ("mangler en krævet kompetence", "lacks a required skill"),
            Exclusion::AlreadyPlaced => ("har allerede et forløb på opgaven", "already has a placement on the task"),
        }
    }
}

/// A mode's door-to-door time, and whether it is within the citizen's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModeTime {
    /// The mode.
    pub mode: TransportMode,
    /// Minutes one way; `None` when it cannot be told (no home, no timetable trip).
    pub minutes: Option<u32>,
    /// `minutes` is known and at most the citizen's limit.
    pub within_limit: bool,
}

/// How the task's pay fits in what is left of the exempt amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "fit")]
pub enum HeadroomFit {
    /// All of it is exempt.
    Full {
        /// What is left of the exempt amount before the task.
        left: Money,
    },
    /// Part of it is exempt; the rest is estimated taxable.
    Partial {
        /// What is left of the exempt amount before the task.
        left: Money,
        /// The estimated taxable part.
        taxable: Money,
    },
    /// Nothing is left: all of it would be taxable.
    None,
    /// The citizen holds no active card (or no shift lies ahead): the pay is ordinary income.
    NoCard,
}

/// The soft score's parts, each 0–1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScoreParts {
    /// Required skills held plus the citizen's skills the task's text mentions, full at
    /// [`SKILLS_FULL_AT`].
    pub skills: u32,
    /// The share of shifts inside the stated availability (500 when none is stated), and the
    /// room left in the stated weekly hours.
    pub availability: u32,
    /// How much of the travel limit the fastest mode leaves unused.
    pub travel: u32,
    /// 1000 when the pay fits the exempt amount, in proportion when it fits partly.
    pub headroom: u32,
    /// Fewer recent offers and less recent paid work score higher.
    pub fairness: u32,
    /// Days since enrolment, full after [`WAITING_FULL_AFTER_DAYS`].
    pub waiting: u32,
}

impl ScoreParts {
    /// The weighted sum (0–100,000).
    pub fn total(&self) -> u32 {
        let w = WEIGHTS;
        self.skills * w.skills
            + self.availability * w.availability
            + self.travel * w.travel
            + self.headroom * w.headroom
            + self.fairness * w.fairness
            + self.waiting * w.waiting
    }
}

/// One short, readable reason, with a code for programs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// Stable code, e.g. `travel` or `no_active_card`.
    pub code: &'static str,
    /// The reason in Danish.
    pub da: String,
    /// The reason in English.
    pub en: String,
}

/// The outcome of matching one citizen against one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// Every hard filter that failed, in code order; empty for a candidate.
    pub exclusions: Vec<Exclusion>,
    /// The time by each of the citizen's modes.
    pub travel: Vec<ModeTime>,
    /// The fastest mode within the limit, with its minutes.
    pub best: Option<(TransportMode, u32)>,
    /// The score parts (computed for excluded citizens too, for the record).
    pub parts: ScoreParts,
    /// How the pay fits the exempt amount.
    pub headroom: HeadroomFit,
    /// The citizen's skills the task requires or mentions.
    pub skills_matched: Vec<Skill>,
    /// The share of shifts (0–1000) inside the stated availability; `None` when none is stated.
    pub covered_share: Option<u32>,
}

impl Evaluation {
    /// Passed every hard filter.
    pub fn is_candidate(&self) -> bool {
        self.exclusions.is_empty()
    }

    /// The weighted score.
    pub fn score(&self) -> u32 {
        self.parts.total()
    }
}

/// What [`assess`] finds, without allocating: the hard filters as bits (by [`Exclusion::ALL`]
/// position) and everything the score needs.
#[derive(Debug, Clone, Copy)]
struct Assessment {
    exclusions: u16,
    distance_m: Option<f64>,
    best: Option<(TransportMode, u32)>,
    parts: ScoreParts,
    headroom: HeadroomFit,
    covered_share: Option<u32>,
}

fn per_mille(num: u64, den: u64) -> u32 {
    (num.min(den) * 1000).checked_div(den).map_or(0, |v| u32::try_from(v).unwrap_or(1000))
}

fn weekday_index(d: Weekday) -> usize {
    d.num_days_from_monday() as usize
}

fn mode_minutes(mode: TransportMode, distance_m: Option<f64>, pair: PairFacts) -> Option<u32> {
    let distance = distance_m?;
    match ModeModel::of(mode) {
        Some(model) => Some(model.minutes_for(distance)),
        None => pair.public_transport_minutes,
    }
}

fn bit(x: Exclusion) -> u16 {
    1 << (x as u16)
}

fn matches_skill(task: &TaskProfile, s: &Skill) -> bool {
    task.required_skills.contains(s) || task.words.contains(s.as_str())
}

/// The hard filters and the score of one citizen for one task, as of `today`.
fn assess(task: &TaskProfile, citizen: &CitizenFacts, pair: PairFacts, today: NaiveDate) -> Assessment {
    let mut exclusions = 0u16;

    if task.frikort_only && citizen.card_days.coverage(task.first_date, task.last_date) != CardCoverage::Whole {
        exclusions |= bit(Exclusion::NoActiveCard);
    }
    if age_on(citizen.birth_date, task.first_date) < MINIMUM_AGE {
        exclusions |= bit(Exclusion::Under18);
    }
    if citizen.bookings.iter().any(|b| b.schedule.overlaps(&task.schedule)) {
        exclusions |= bit(Exclusion::OverlappingBooking);
    }
    let booked_minutes: u32 =
        citizen.bookings.iter().map(|b| b.schedule.max_minutes_in_a_week(b.paid_minutes_per_shift)).sum();
    let hours_room = match citizen.availability.max_hours_per_week() {
        None => 1000,
        Some(h) => {
            let limit = u32::from(h) * 60;
            if booked_minutes + task.weekly_minutes > limit {
                exclusions |= bit(Exclusion::WeeklyHoursExceeded);
            }
            1000 - per_mille(u64::from(booked_minutes), u64::from(limit))
        }
    };
    let slots = citizen.availability.slots();
    let covered_share = (!slots.is_empty()).then(|| {
        let mut fits = [false; 7];
        for s in slots.iter().filter(|s| s.from <= task.start && task.end <= s.to) {
            fits[weekday_index(s.weekday)] = true;
        }
        let covered: u32 = (0..7).filter(|&d| fits[d]).map(|d| task.shifts_per_weekday[d]).sum();
        per_mille(u64::from(covered), u64::from(task.shift_count))
    });
    if covered_share == Some(0) {
        exclusions |= bit(Exclusion::Unavailable);
    }

    // One distance serves every mode estimated from it.
    let distance_m = citizen.home.map(|h| haversine_m(h.point(), task.location));
    let limit = citizen.limit.minutes();
    let best = citizen
        .modes
        .iter()
        .filter_map(|&mode| mode_minutes(mode, distance_m, pair).filter(|m| *m <= limit).map(|m| (mode, m)))
        .min_by_key(|&(mode, m)| (m, mode));
    if best.is_none() {
        exclusions |= bit(Exclusion::Unreachable);
    }

    if !task.required_skills.iter().all(|s| citizen.skills.binary_search(s).is_ok()) {
        exclusions |= bit(Exclusion::MissingSkill);
    }
    if pair.live_placement {
        exclusions |= bit(Exclusion::AlreadyPlaced);
    }

    let matched = u32::try_from(citizen.skills.iter().filter(|s| matches_skill(task, s)).count()).unwrap_or(u32::MAX);
    let headroom = match (task.pay_year, citizen.headroom.iter().find(|h| Some(h.year) == task.pay_year)) {
        (Some(_), Some(h)) if h.left.ore() >= task.pay_in_year.ore() => HeadroomFit::Full { left: h.left },
        (Some(_), Some(h)) if h.left.is_positive() => {
            HeadroomFit::Partial { left: h.left, taxable: Money::from_ore(task.pay_in_year.ore() - h.left.ore()) }
        }
        (Some(_), Some(_)) => HeadroomFit::None,
        _ => HeadroomFit::NoCard,
    };
    let headroom_part = match headroom {
        HeadroomFit::Full { .. } => 1000,
        HeadroomFit::Partial { left, .. } => {
            per_mille(left.ore().unsigned_abs(), task.pay_in_year.ore().unsigned_abs())
        }
        HeadroomFit::None | HeadroomFit::NoCard => 0,
    };
    // Each offer weighs as much as ten hours of paid work.
    let recent_hours_tenths = u64::from(citizen.recent_paid_minutes) / 6;
    let fairness =
        u32::try_from(100_000 / (100 + 100 * u64::from(citizen.recent_offers) + recent_hours_tenths)).unwrap_or(0);
    let waiting_days = (today - citizen.enrolled_on).num_days().clamp(0, WAITING_FULL_AFTER_DAYS);
    let parts = ScoreParts {
        skills: per_mille(u64::from(matched.min(SKILLS_FULL_AT)), u64::from(SKILLS_FULL_AT)),
        availability: (covered_share.unwrap_or(500) * 7 + hours_room * 3) / 10,
        travel: best.map_or(0, |(_, m)| 1000 - per_mille(u64::from(m), u64::from(limit))),
        headroom: headroom_part,
        fairness,
        waiting: per_mille(waiting_days.unsigned_abs(), WAITING_FULL_AFTER_DAYS.unsigned_abs()),
    };
    Assessment { exclusions, distance_m, best, parts, headroom, covered_share }
}

fn evaluation_of(a: Assessment, task: &TaskProfile, citizen: &CitizenFacts, pair: PairFacts) -> Evaluation {
    let limit = citizen.limit.minutes();
    Evaluation {
        exclusions: Exclusion::ALL.into_iter().filter(|x| a.exclusions & bit(*x) != 0).collect(),
        travel: citizen
            .modes
            .iter()
            .map(|&mode| {
                let minutes = mode_minutes(mode, a.distance_m, pair);
                ModeTime { mode, minutes, within_limit: minutes.is_some_and(|m| m <= limit) }
            })
            .collect(),
        best: a.best,
        parts: a.parts,
        headroom: a.headroom,
        skills_matched: citizen.skills.iter().filter(|s| matches_skill(task, s)).cloned().collect(),
        covered_share: a.covered_share,
    }
}

/// Matches one citizen against one task, as of `today`.
pub fn evaluate(task: &TaskProfile, citizen: &CitizenFacts, pair: PairFacts, today: NaiveDate) -> Evaluation {
    evaluation_of(assess(task, citizen, pair, today), task, citizen, pair)
}

/// Whole kroner with a thousands separator (`.` in Danish, `,` in English), rounded down.
fn kroner(m: Money, separator: char) -> String {
    let digits = (m.ore().max(0) / 100).to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

fn mode_names(mode: TransportMode) -> (&'static str, &'static str) {
    match mode {
        TransportMode::Walk => ("Gang", "Walk"),
        TransportMode::Bicycle => ("Cykel", "Bicycle"),
        TransportMode::PublicTransport => ("Bus", "Bus"),
        TransportMode::Car => ("Bil", "Car"),
        TransportMode::Moped => ("Knallert", "Moped"),
    }
}

/// The short readable reasons of an evaluation: for a candidate why they fit (travel, skills,
/// headroom, availability, fairness), for an excluded citizen why they are left out.
pub fn reasons(e: &Evaluation, citizen: &CitizenFacts, today: NaiveDate) -> Vec<Reason> {
    if !e.is_candidate() {
        return e
            .exclusions
            .iter()
            .map(|x| {
                let (da, en) = x.texts();
                Reason { code: x.as_str(), da: da.to_owned(), en: en.to_owned() }
            })
            .collect();
    }
    let mut out = Vec::new();
    if let Some((mode, minutes)) = e.best {
        let (da, en) = mode_names(mode);
        out.push(Reason { code: "travel", da: format!("{da} {minutes} min"), en: format!("{en} {minutes} min") });
    }
    if !e.skills_matched.is_empty() {
        let list = e.skills_matched.iter().map(Skill::as_str).collect::<Vec<_>>().join(", ");
        out.push(Reason { code: "skills", da: format!("kan {list}"), en: format!("skills: {list}") });
    }
    match e.headroom {
        HeadroomFit::Full { left } => out.push(Reason {
            code: "headroom_full",
            da: format!("{} kr. tilbage af fribeløbet", kroner(left, '.')),
            en: format!("DKK {} left of the exempt amount", kroner(left, ',')),
        }),
        HeadroomFit::Partial { left, taxable } => out.push(Reason {
            code: "headroom_partial",
            da: format!(
                "{} kr. tilbage af fribeløbet, ca. {} kr. skattepligtigt",
                kroner(left, '.'),
                kroner(taxable, '.')
            ),
            en: format!(
                "DKK {} left of the exempt amount, about DKK {} taxable",
                kroner(left, ','),
                kroner(taxable, ',')
            ),
        }),
        HeadroomFit::None => out.push(Reason {
            code: "headroom_none",
            da: "fribeløbet er brugt".to_owned(),
            en: "the exempt amount is used up".to_owned(),
        }),
        HeadroomFit::NoCard => {}
    }
    match e.covered_share {
        Some(1000) => out.push(Reason {
            code: "availability",
            da: "passer til rådigheden".to_owned(),
            en: "fits their availability".to_owned(),
        }),
        Some(share) => out.push(Reason {
            code: "availability_partial",
            da: format!("kan {} % af vagterne", share / 10),
            en: format!("can do {} % of the shifts", share / 10),
        }),
        None => {}
    }
    if citizen.recent_offers == 0 && citizen.recent_paid_minutes == 0 {
        out.push(Reason {
            code: "fairness",
            da: "ingen tilbud eller arbejde for nylig".to_owned(),
            en: "no recent offers or work".to_owned(),
        });
    }
    let days = (today - citizen.enrolled_on).num_days().max(0);
    out.push(Reason { code: "waiting", da: format!("venter {days} dage"), en: format!("waiting {days} days") });
    out
}

/// One ranked or excluded citizen: their index in the input, and the evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    /// The index of the citizen in the slice given to [`rank`].
    pub index: usize,
    /// The evaluation.
    pub evaluation: Evaluation,
}

/// A task's ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranking {
    /// The best candidates, best first: score descending, then key ascending.
    pub candidates: Vec<Ranked>,
    /// How many passed every hard filter.
    pub candidate_count: usize,
    /// The citizens left out (when asked for), by key.
    pub excluded: Vec<Ranked>,
    /// How many were left out.
    pub excluded_count: usize,
}

/// Ranks citizens for a task: at most `limit` candidates, best first, and (with
/// `include_excluded`) everyone left out. `pair` gives the facts of each citizen and the task.
/// Every citizen is weighed without allocating; only those returned are written out whole.
pub fn rank(
    task: &TaskProfile,
    citizens: &[CitizenFacts],
    pair: impl Fn(usize) -> PairFacts,
    limit: usize,
    include_excluded: bool,
    today: NaiveDate,
) -> Ranking {
    let mut candidates: Vec<(u32, usize)> = Vec::new();
    let mut excluded = Vec::new();
    let mut excluded_count = 0;
    for (index, citizen) in citizens.iter().enumerate() {
        let facts = pair(index);
        let a = assess(task, citizen, facts, today);
        if a.exclusions == 0 {
            candidates.push((a.parts.total(), index));
        } else {
            excluded_count += 1;
            if include_excluded {
                excluded.push(Ranked { index, evaluation: evaluation_of(a, task, citizen, facts) });
            }
        }
    }
    let order =
        |a: &(u32, usize), b: &(u32, usize)| b.0.cmp(&a.0).then_with(|| citizens[a.1].key.cmp(&citizens[b.1].key));
    let candidate_count = candidates.len();
    if limit < candidates.len() {
        if limit == 0 {
            candidates.clear();
        } else {
            candidates.select_nth_unstable_by(limit - 1, order);
            candidates.truncate(limit);
        }
    }
    candidates.sort_by(order);
    let candidates = candidates
        .into_iter()
        .map(|(_, index)| Ranked { index, evaluation: evaluate(task, &citizens[index], pair(index), today) })
        .collect();
    excluded.sort_by(|a, b| citizens[a.index].key.cmp(&citizens[b.index].key));
    Ranking { candidates, candidate_count, excluded, excluded_count }
}
