//! Register entries: what a coordinator must type into the national frikort solution
//! (socialtfrikort.dk) for each payout with an exempt part, and the corrections to make there when
//! a re-allocation later changed that exempt part.
//!
//! A payout's entries form a chain. The first is a *registration* of the exempt amount. Once it
//! is registered, a change of the exempt amount makes it `needs_correction` and adds a
//! *correction* of its own (the amount the register must hold from then on). A change while an
//! entry is still pending amends that pending entry instead: nothing of it has reached the
//! register yet. The amounts the entries move the register by (`exempt − previous_exempt`) add up,
//! over the entries that are not cancelled, to the payout's exempt amount at every moment.

use chrono::{Datelike, Months, NaiveDate};

use crate::money::Money;

crate::id_types! {
    /// A register entry's id.
    RegisterEntryId => "register entry",
}

/// What an entry asks the coordinator to do in the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegisterEntryKind {
    /// Register a payout's exempt amount.
    Registration,
    /// Change what the register holds for a payout to a new exempt amount.
    Correction,
}

crate::coded_enum!(RegisterEntryKind, "register entry kind" {
    Registration => "registration",
    Correction => "correction",
});

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegisterEntryStatus {
    /// To be typed into the register.
    Pending,
    /// Typed in, and what the register holds.
    Registered,
    /// Typed in, but the exempt amount changed since: its correction is pending.
    NeedsCorrection,
    /// Typed in and corrected since by a registered correction.
    Corrected,
    /// Never to be typed in: the exempt amount went back to what the register holds before the
    /// entry was typed in.
    Cancelled,
}

crate::coded_enum!(RegisterEntryStatus, "register entry status" {
    Pending => "pending",
    Registered => "registered",
    NeedsCorrection => "needs_correction",
    Corrected => "corrected",
    Cancelled => "cancelled",
});

impl RegisterEntryStatus {
    /// Whether the entry has been typed into the national register.
    pub fn is_registered(self) -> bool {
        matches!(
            self,
            RegisterEntryStatus::Registered | RegisterEntryStatus::NeedsCorrection | RegisterEntryStatus::Corrected
        )
    }
}

/// The day of the month after the basis by which an entry is to be registered.
///
/// The frikort law sets no day of its own for registering the wage; Småjob uses the reporting
/// deadline small employers have for eIndkomst (the 10th of the month after the pay month), so the
/// company's paperwork has one monthly rhythm and the register is never behind eIndkomst.
pub const REGISTRATION_DEADLINE_DAY: u32 = 10;

/// The day by which an entry made on `basis` (a registration: its payment date; a correction: the
/// day the change was made) must be registered: the 10th of the following month.
pub fn registration_due(basis: NaiveDate) -> NaiveDate {
    let first = basis.with_day(1).unwrap_or(basis);
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    next.with_day(REGISTRATION_DEADLINE_DAY).unwrap_or(next)
}

/// Whether an entry in `status`, due on `due_on`, is overdue on `today`.
pub fn is_overdue(status: RegisterEntryStatus, due_on: NaiveDate, today: NaiveDate) -> bool {
    status == RegisterEntryStatus::Pending && today > due_on
}

/// What a payout's chain of entries looks like to the planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainState {
    /// The exempt amount of the entry last typed into the register, if any was.
    pub standing: Option<Money>,
    /// The pending entry, if there is one: its `previous_exempt` and `exempt`.
    pub pending: Option<PendingEntry>,
}

/// The amounts of a pending entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingEntry {
    /// What the register holds before it.
    pub previous_exempt: Money,
    /// What it says the register must hold.
    pub exempt: Money,
}

/// What to do with a payout's entries when its exempt amount is now `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryAction {
    /// The chain already says `target`.
    Nothing,
    /// Add a registration of `target` (nothing was registered, nothing is pending).
    Register,
    /// Add a correction from the standing amount to `target`; the standing entry needs correction.
    Correct,
    /// Amend the pending entry to say `target`.
    Amend,
    /// Cancel the pending entry: the register already holds `target` (or nothing was registered
    /// and there is nothing to register). A cancelled correction puts its target back to registered.
    Cancel,
}

/// The one rule for keeping a payout's entries in step with its exempt amount.
pub fn plan(state: ChainState, target: Money) -> EntryAction {
    let standing = state.standing.unwrap_or(Money::ZERO);
    match state.pending {
        Some(p) if p.previous_exempt == target => EntryAction::Cancel,
        Some(p) if p.exempt == target => EntryAction::Nothing,
        Some(_) => EntryAction::Amend,
        None if standing == target => EntryAction::Nothing,
        None if state.standing.is_some() => EntryAction::Correct,
        None => EntryAction::Register,
    }
}

/// A national reference as the coordinator types it in from the register's receipt: trimmed, 1 to
/// 64 printable characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalReference(String);

/// A national reference that cannot be kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NationalReferenceError {
    /// Nothing but spaces.
    #[error("the national register's reference is required")]
    Empty,
    /// Longer than 64 characters.
    #[error("the national register's reference has at most 64 characters")]
    TooLong,
    /// A control or formatting character.
    #[error("the national register's reference may hold printable characters only")]
    Unprintable,
}

impl NationalReference {
    /// The longest reference kept.
    pub const MAX_CHARS: usize = 64;

    /// Reads a reference.
    pub fn parse(text: &str) -> Result<NationalReference, NationalReferenceError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(NationalReferenceError::Empty);
        }
        if t.chars().count() > Self::MAX_CHARS {
            return Err(NationalReferenceError::TooLong);
        }
        if t.chars().any(|c| c.is_control() || crate::citizen::is_hidden_formatting(c)) {
            return Err(NationalReferenceError::Unprintable);
        }
        Ok(NationalReference(t.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn an_entry_is_due_on_the_tenth_of_the_month_after_its_basis() {
        assert_eq!(registration_due(d(2026, 3, 31)), d(2026, 4, 10));
        assert_eq!(registration_due(d(2026, 12, 1)), d(2027, 1, 10));
        assert_eq!(registration_due(d(2024, 1, 31)), d(2024, 2, 10));
    }

    #[test]
    fn only_a_pending_entry_past_its_due_day_is_overdue() {
        let due = d(2026, 4, 10);
        assert!(!is_overdue(RegisterEntryStatus::Pending, due, due));
        assert!(is_overdue(RegisterEntryStatus::Pending, due, d(2026, 4, 11)));
        assert!(!is_overdue(RegisterEntryStatus::Registered, due, d(2027, 1, 1)));
        assert!(!is_overdue(RegisterEntryStatus::Cancelled, due, d(2027, 1, 1)));
    }

    #[test]
    fn a_reference_is_trimmed_and_refused_when_empty_long_or_unprintable() {
        assert_eq!(NationalReference::parse("  SF-2026-0042 ").unwrap().as_str(), "SF-2026-0042");
        assert_eq!(NationalReference::parse("   "), Err(NationalReferenceError::Empty));
        assert_eq!(NationalReference::parse(&"x".repeat(65)), Err(NationalReferenceError::TooLong));
        assert_eq!(NationalReference::parse("a\u{0}b"), Err(NationalReferenceError::Unprintable));
    }

    /// A model of a payout's chain, run through the planner as the service runs it.
    #[derive(Debug, Default)]
    struct Chain {
        /// (previous_exempt, exempt, status)
        entries: Vec<(i64, i64, RegisterEntryStatus)>,
    }

    impl Chain {
        fn state(&self) -> ChainState {
            use RegisterEntryStatus as S;
            ChainState {
                standing: self.entries.iter().rev().find(|e| e.2.is_registered()).map(|e| Money::from_ore(e.1)),
                pending: self
                    .entries
                    .iter()
                    .find(|e| e.2 == S::Pending)
                    .map(|e| PendingEntry { previous_exempt: Money::from_ore(e.0), exempt: Money::from_ore(e.1) }),
            }
        }

        fn apply(&mut self, target: i64) {
            use RegisterEntryStatus as S;
            let state = self.state();
            let standing = state.standing.map_or(0, Money::ore);
            match plan(state, Money::from_ore(target)) {
                EntryAction::Nothing => {}
                EntryAction::Register => self.entries.push((0, target, S::Pending)),
                EntryAction::Correct => {
                    if let Some(e) = self.entries.iter_mut().rev().find(|e| e.2 == S::Registered) {
                        e.2 = S::NeedsCorrection;
                    }
                    self.entries.push((standing, target, S::Pending));
                }
                EntryAction::Amend => {
                    if let Some(e) = self.entries.iter_mut().find(|e| e.2 == S::Pending) {
                        e.1 = target;
                    }
                }
                EntryAction::Cancel => {
                    let corrects = self.entries.iter().position(|e| e.2 == S::Pending).is_some_and(|i| i > 0);
                    if let Some(e) = self.entries.iter_mut().find(|e| e.2 == S::Pending) {
                        e.2 = S::Cancelled;
                    }
                    if corrects && let Some(e) = self.entries.iter_mut().rev().find(|e| e.2 == S::NeedsCorrection) {
                        e.2 = S::Registered;
                    }
                }
            }
        }

        fn register(&mut self) {
            use RegisterEntryStatus as S;
            if let Some(i) = self.entries.iter().position(|e| e.2 == S::Pending) {
                self.entries[i].2 = S::Registered;
                if let Some(e) = self.entries[..i].iter_mut().rev().find(|e| e.2 == S::NeedsCorrection) {
                    e.2 = S::Corrected;
                }
            }
        }

        fn net(&self) -> i64 {
            self.entries.iter().filter(|e| e.2 != RegisterEntryStatus::Cancelled).map(|e| e.1 - e.0).sum()
        }
    }

    proptest! {
        /// Whatever the exempt amount does and whenever the coordinator registers, the entries
        /// that are not cancelled move the register by exactly the payout's exempt amount, at most
        /// one entry is pending, and a pending entry never restates what the register holds.
        #[test]
        fn the_entries_net_of_corrections_always_add_up_to_the_exempt_amount(
            steps in proptest::collection::vec((0i64..5, any::<bool>()), 1..30),
        ) {
            let mut chain = Chain::default();
            for (target, register) in steps {
                let target = target * 10_000;
                chain.apply(target);
                prop_assert_eq!(chain.net(), target);
                if register {
                    chain.register();
                    prop_assert_eq!(chain.net(), target);
                }
                let pending = chain.entries.iter().filter(|e| e.2 == RegisterEntryStatus::Pending).count();
                prop_assert!(pending <= 1);
                if let Some(p) = chain.state().pending {
                    prop_assert_ne!(p.previous_exempt, p.exempt);
                }
            }
        }
    }
}
