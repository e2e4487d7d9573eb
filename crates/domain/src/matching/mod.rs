//! Matching citizens to small jobs: where people live and work and how long the trip takes
//! ([`travel`]; by bus, from a timetable, [`transit`]), and the engine that filters and ranks
//! ([`engine`]).

pub mod engine;
pub mod transit;
pub mod travel;

pub use engine::{
    Booking, CitizenFacts, Evaluation, Exclusion, FAIRNESS_WINDOW_DAYS, Headroom, HeadroomFit, ModeTime, PairFacts,
    Ranked, Ranking, Reason, SKILLS_FULL_AT, ScoreParts, TaskProfile, WAITING_FULL_AFTER_DAYS, WEIGHTS, Weights,
    evaluate, rank, reasons,
};
pub use transit::{Connection, MAX_ACCESS_WALK_M, MAX_TRANSFER_WALK_M, Timetable, TransitProfile, walk_seconds};
pub use travel::{
    BICYCLE, CAR, CoarseHome, DEFAULT_MAX_TRAVEL_MINUTES, DanishPoint, MAX_MAX_TRAVEL_MINUTES, MIN_MAX_TRAVEL_MINUTES,
    MOPED, ModeModel, TravelLimit, WALK, haversine_m, travel_minutes,
};

#[cfg(test)]
mod tests;
