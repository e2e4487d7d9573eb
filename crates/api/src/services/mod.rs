//! The use cases: one module per resource, one home per workflow.
//!
//! Contract, for every module here:
//! - A use case takes the acting [`principal::Principal`], a typed command (already parsed from
//!   the request: ids, amounts and dates are valid values) and a `&mut DbConn`, and returns a
//!   typed outcome or a [`error::ServiceError`]. It never returns a wire view and never names an
//!   HTTP status or header: the JSON routes and the pages render outcomes their own way.
//! - The caller owns the transaction: a write use case runs inside `AppState::write` (or
//!   `idempotency::run`), a read of personal data inside `AppState::read_audited`, returning its
//!   audit entries with the value ([`audit::Audited`]), so no read is ever answered unlogged.
//! - Who may see what is decided once, in [`scope`].
//! - Modules here never import `crate::routes`; a test in `tests/layering.rs` keeps it so.
pub mod allocation;
pub mod atp_rates;
pub mod audit;
pub mod balance;
pub mod caps;
pub mod citizens;
pub mod common;
pub mod companies;
pub mod employments;
pub mod error;
pub mod frikort;
pub mod gtfs;
pub mod guesses;
pub mod hours;
pub mod matching;
pub mod notifications;
pub mod outside_income;
pub mod pay_runs;
pub mod payouts;
pub mod placements;
pub mod planning;
pub mod principal;
pub mod queue;
pub mod register_entries;
pub mod register_statements;
pub mod scope;
pub mod sign_in;
pub mod stats;
pub mod tasks;
pub mod transit;
pub mod transport_gaps;
pub mod webhooks;
