//! Operations that span several repositories and the domain rules, run inside the caller's
//! transaction.

pub mod accounting;
pub mod planning;
