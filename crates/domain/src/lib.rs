//! Domain rules for Småjob: Danish small jobs and the *socialt frikort*.
//!
//! This crate is pure: no I/O, no clocks, no randomness. Every value that
//! crosses a trust boundary has a newtype with a `parse` constructor, so once
//! a value exists it is known to be valid ("parse, don't validate").
//!
//! CPR numbers deserve special care: [`Cpr`] has no `Display` and no serde
//! support, its `Debug` shows only the masked form, and no error message in
//! this crate ever echoes the input of a CPR parse.

pub mod allocation;
pub mod calendar;
pub mod caps;
pub mod citizen;
pub mod coded;
pub mod cpr;
pub mod cvr;
pub mod frikort;
pub mod lifecycle;
pub mod money;
pub mod municipality;
pub mod pay;
pub mod schedule;
pub mod stats;

pub use allocation::*;
pub use calendar::*;
pub use caps::*;
pub use citizen::*;
pub use cpr::*;
pub use cvr::*;
pub use frikort::*;
pub use lifecycle::*;
pub use money::*;
pub use municipality::*;
pub use pay::*;
pub use schedule::*;
pub use stats::*;
