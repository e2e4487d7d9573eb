//! Limits on guessing who a citizen is: a CPR number with a frikort number is the only thing a
//! company needs to name (and then see) a citizen, and 100,000 card numbers are few, so wrong
//! guesses are counted and lock the guesser out for a while.
//!
//! A [`GuessCounter`] counts the guesses of one subject (a company, a source address, a CPR
//! number's keyed hash) in fixed windows. Reaching [`GuessLimit::max_wrong`] in one window
//! locks the subject for [`GuessLimit::lock`], doubled for every earlier lockout up to
//! [`GuessLimit::max_lock`]. The lockouts are forgotten after [`FORGET_LOCKOUTS_AFTER`] without
//! a wrong guess or a lock, so a slip on Monday does not double a lock a month later.
//!
//! Only wrong guesses are counted ([`GuessLimit::count`]). Pure rules: the caller passes the time.

use chrono::{NaiveDateTime, TimeDelta};

/// A quiet day after the last wrong guess and the last lock makes earlier lockouts forgotten.
pub const FORGET_LOCKOUTS_AFTER: TimeDelta = TimeDelta::hours(24);

/// How many wrong guesses one subject may make, and how long it is locked out after that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuessLimit {
    max_wrong: u32,
    window: TimeDelta,
    lock: TimeDelta,
    max_lock: TimeDelta,
}

/// Why a limit cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GuessLimitError {
    /// No guess at all would be allowed.
    #[error("at least one guess must be allowed per window")]
    NoGuesses,
    /// A window, a lock or a longest lock is not positive, or the longest lock is shorter than the first.
    #[error("the window and the locks must be positive, and the longest lock at least the first")]
    Durations,
}

impl GuessLimit {
    /// `max_wrong` wrong guesses per `window`, then a lock of `lock`, doubled for each earlier
    /// lockout, never longer than `max_lock`.
    pub fn new(
        max_wrong: u32,
        window: TimeDelta,
        lock: TimeDelta,
        max_lock: TimeDelta,
    ) -> Result<Self, GuessLimitError> {
        if max_wrong == 0 {
            return Err(GuessLimitError::NoGuesses);
        }
        if window <= TimeDelta::zero() || lock <= TimeDelta::zero() || max_lock < lock {
            return Err(GuessLimitError::Durations);
        }
        Ok(GuessLimit { max_wrong, window, lock, max_lock })
    }

    /// Wrong guesses allowed in one window; the last of them locks.
    pub fn max_wrong(&self) -> u32 {
        self.max_wrong
    }

    /// The counting window.
    pub fn window(&self) -> TimeDelta {
        self.window
    }

    /// The first lock.
    pub fn lock(&self) -> TimeDelta {
        self.lock
    }

    /// The longest lock.
    pub fn max_lock(&self) -> TimeDelta {
        self.max_lock
    }

    /// How long the lock after `earlier` lockouts lasts: the first lock doubled per earlier
    /// lockout, at most the longest lock.
    pub fn lock_length(&self, earlier: u32) -> TimeDelta {
        let mut length = self.lock;
        for _ in 0..earlier {
            length = length.checked_mul(2).unwrap_or(self.max_lock);
            if length >= self.max_lock {
                return self.max_lock;
            }
        }
        length
    }

    /// Counts one wrong guess of a subject that is not locked at `now` (see [`GuessCounter::locked_for`]):
    /// a new window starts when the last one has passed, old lockouts are forgotten after a quiet
    /// day, and the guess that reaches the limit locks the subject.
    pub fn count(&self, before: Option<&GuessCounter>, now: NaiveDateTime) -> Counted {
        let mut counter = match before {
            None => GuessCounter {
                window_started_at: now,
                wrong_in_window: 0,
                wrong_total: 0,
                lockouts: 0,
                locked_until: None,
                last_wrong_at: now,
            },
            Some(c) => c.clone(),
        };
        if now >= counter.window_started_at + self.window {
            counter.window_started_at = now;
            counter.wrong_in_window = 0;
        }
        let quiet_since = counter.locked_until.map_or(counter.last_wrong_at, |l| l.max(counter.last_wrong_at));
        if now - quiet_since > FORGET_LOCKOUTS_AFTER {
            counter.lockouts = 0;
        }
        counter.wrong_in_window += 1;
        counter.wrong_total += 1;
        counter.last_wrong_at = now;
        let mut locked = false;
        if counter.wrong_in_window >= self.max_wrong {
            counter.locked_until = Some(now + self.lock_length(counter.lockouts));
            counter.lockouts += 1;
            counter.wrong_in_window = 0;
            counter.window_started_at = now;
            locked = true;
        }
        Counted { counter, locked }
    }
}

/// A counter after [`GuessLimit::count`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The counter with the guess counted.
    pub counter: GuessCounter,
    /// Whether this guess locked the subject.
    pub locked: bool,
}

/// The wrong guesses of one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuessCounter {
    /// When the current window began.
    pub window_started_at: NaiveDateTime,
    /// Wrong guesses in the current window.
    pub wrong_in_window: u32,
    /// Wrong guesses ever counted.
    pub wrong_total: u64,
    /// Lockouts not yet forgotten; each doubles the next lock.
    pub lockouts: u32,
    /// Locked until then, if a lock was ever tripped.
    pub locked_until: Option<NaiveDateTime>,
    /// The last wrong guess.
    pub last_wrong_at: NaiveDateTime,
}

impl GuessCounter {
    /// How long the subject is still locked at `now`, if it is.
    pub fn locked_for(&self, now: NaiveDateTime) -> Option<TimeDelta> {
        self.locked_until.filter(|until| *until > now).map(|until| until - now)
    }
}

/// Seconds to wait, rounded up, as a `Retry-After` header carries them (at least one).
pub fn retry_after_seconds(wait: TimeDelta) -> u64 {
    let millis = u64::try_from(wait.num_milliseconds()).unwrap_or(0).max(1);
    millis.div_ceil(1000)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(minutes: i64) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 3).unwrap().and_hms_opt(8, 0, 0).unwrap()
            + TimeDelta::minutes(minutes)
    }

    fn limit() -> GuessLimit {
        GuessLimit::new(5, TimeDelta::minutes(15), TimeDelta::minutes(15), TimeDelta::hours(24)).unwrap()
    }

    fn guesses(limit: &GuessLimit, times: &[i64]) -> (GuessCounter, Vec<bool>) {
        let mut counter: Option<GuessCounter> = None;
        let mut locks = Vec::new();
        for t in times {
            let counted = limit.count(counter.as_ref(), at(*t));
            locks.push(counted.locked);
            counter = Some(counted.counter);
        }
        (counter.unwrap(), locks)
    }

    #[test]
    fn the_fifth_wrong_guess_in_a_window_locks_for_the_first_lock() {
        let (c, locks) = guesses(&limit(), &[0, 1, 2, 3, 4]);
        assert_eq!(locks, [false, false, false, false, true]);
        assert_eq!(c.locked_until, Some(at(4 + 15)));
        assert_eq!(c.locked_for(at(10)), Some(TimeDelta::minutes(9)));
        assert_eq!(c.locked_for(at(19)), None);
        assert_eq!((c.wrong_total, c.lockouts), (5, 1));
    }

    #[test]
    fn guesses_spread_over_windows_do_not_lock() {
        let (c, locks) = guesses(&limit(), &[0, 1, 2, 3, 15, 16, 17, 18, 30]);
        assert!(locks.iter().all(|l| !l), "{locks:?}");
        assert_eq!(c.wrong_total, 9);
        assert_eq!(c.locked_until, None);
    }

    #[test]
    fn each_lockout_doubles_the_next_lock_up_to_the_longest() {
        let l = limit();
        let lengths: Vec<i64> = (0..10).map(|n| l.lock_length(n).num_minutes()).collect();
        assert_eq!(lengths, [15, 30, 60, 120, 240, 480, 960, 1440, 1440, 1440]);
        // Five wrong, locked 15 min; five more right after the lock, locked 30 min.
        let (c, _) = guesses(&l, &[0, 1, 2, 3, 4, 20, 21, 22, 23, 24]);
        assert_eq!(c.locked_until, Some(at(24 + 30)));
        assert_eq!(c.lockouts, 2);
    }

    #[test]
    fn lockouts_are_forgotten_after_a_quiet_day_past_the_lock() {
        let l = limit();
        let day = 24 * 60;
        let (c, _) =
            guesses(&l, &[0, 1, 2, 3, 4, 19 + day + 1, 19 + day + 2, 19 + day + 3, 19 + day + 4, 19 + day + 5]);
        assert_eq!(c.locked_until, Some(at(19 + day + 5 + 15)), "a first lock again");
        assert_eq!(c.lockouts, 1);
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up() {
        assert_eq!(retry_after_seconds(TimeDelta::milliseconds(1)), 1);
        assert_eq!(retry_after_seconds(TimeDelta::milliseconds(1_001)), 2);
        assert_eq!(retry_after_seconds(TimeDelta::minutes(15)), 900);
        assert_eq!(retry_after_seconds(TimeDelta::zero()), 1);
    }

    #[test]
    fn a_limit_allows_at_least_one_guess_and_positive_durations() {
        let m = TimeDelta::minutes(1);
        assert_eq!(GuessLimit::new(0, m, m, m), Err(GuessLimitError::NoGuesses));
        assert_eq!(GuessLimit::new(1, TimeDelta::zero(), m, m), Err(GuessLimitError::Durations));
        assert_eq!(GuessLimit::new(1, m, m * 2, m), Err(GuessLimitError::Durations));
    }
}
