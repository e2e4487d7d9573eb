//! The guess ledger: wrong guesses at a CPR number and card number, one counter per subject
//! (scope and subject), kept in the database so lockouts survive restarts and are shared by
//! every instance. The counting rules are `smaajob_domain::guessing`'s; this module only keeps
//! the counters.

use diesel::prelude::*;
use smaajob_domain::GuessCounter;

use crate::db::DbConn;
use crate::error::RepoError;
use crate::repo::lock_row;
use crate::schema::guess_counters;

/// What a counter counts the guesses of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GuessScope {
    /// The company or coordinator who sent the guess.
    Actor,
    /// The address the guess came from.
    Source,
    /// The CPR number guessed at, by its keyed hash.
    Citizen,
}

impl GuessScope {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            GuessScope::Actor => "actor",
            GuessScope::Source => "source",
            GuessScope::Citizen => "citizen",
        }
    }
}

/// One counter's key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GuessKey {
    /// What is counted.
    pub scope: GuessScope,
    /// Who or what: `company:<id>`, `coordinator:<municipality>:<sub>`, an address, a CPR hash.
    pub subject: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = guess_counters)]
#[diesel(treat_none_as_null = true)]
struct CounterRow {
    scope: String,
    subject: String,
    window_started_at: chrono::NaiveDateTime,
    wrong_in_window: i32,
    wrong_total: i64,
    lockouts: i32,
    locked_until: Option<chrono::NaiveDateTime>,
    last_wrong_at: chrono::NaiveDateTime,
}

impl CounterRow {
    fn new(key: &GuessKey, c: &GuessCounter) -> Result<CounterRow, RepoError> {
        let too_big = || RepoError::Corrupt("a guess count does not fit its column".into());
        Ok(CounterRow {
            scope: key.scope.as_str().to_owned(),
            subject: key.subject.clone(),
            window_started_at: c.window_started_at,
            wrong_in_window: i32::try_from(c.wrong_in_window).map_err(|_| too_big())?,
            wrong_total: i64::try_from(c.wrong_total).map_err(|_| too_big())?,
            lockouts: i32::try_from(c.lockouts).map_err(|_| too_big())?,
            locked_until: c.locked_until,
            last_wrong_at: c.last_wrong_at,
        })
    }

    fn counter(self) -> Result<GuessCounter, RepoError> {
        let corrupt =
            || RepoError::Corrupt(format!("guess counter {}/{} holds a negative count", self.scope, self.subject));
        Ok(GuessCounter {
            window_started_at: self.window_started_at,
            wrong_in_window: u32::try_from(self.wrong_in_window).map_err(|_| corrupt())?,
            wrong_total: u64::try_from(self.wrong_total).map_err(|_| corrupt())?,
            lockouts: u32::try_from(self.lockouts).map_err(|_| corrupt())?,
            locked_until: self.locked_until,
            last_wrong_at: self.last_wrong_at,
        })
    }
}

/// Inserts an empty counter for each key that has none. `ON CONFLICT DO NOTHING` does not go
/// through the multi-backend connection, so each backend runs it on its own connection; two
/// instances creating the same counter at once both go on to lock the one row.
fn insert_missing(conn: &mut DbConn, rows: &[CounterRow]) -> Result<(), RepoError> {
    match conn {
        DbConn::Pg(c) => {
            diesel::insert_into(guess_counters::table).values(rows).on_conflict_do_nothing().execute(c)?;
        }
        DbConn::Sqlite(c) => {
            for row in rows {
                diesel::insert_into(guess_counters::table).values(row).on_conflict_do_nothing().execute(c)?;
            }
        }
    }
    Ok(())
}

/// Locks the counters of `keys` for the rest of the write transaction and reads them; a key
/// without a counter gets an empty one (no guesses, started `now`). Keys are locked in one order
/// (scope, then subject) whatever order they come in, so two guesses never wait on each other.
pub fn lock(conn: &mut DbConn, keys: &[GuessKey], now: chrono::NaiveDateTime) -> Result<Vec<GuessCounter>, RepoError> {
    let mut ordered: Vec<&GuessKey> = keys.iter().collect();
    ordered.sort();
    ordered.dedup();
    let empty = GuessCounter {
        window_started_at: now,
        wrong_in_window: 0,
        wrong_total: 0,
        lockouts: 0,
        locked_until: None,
        last_wrong_at: now,
    };
    let rows = ordered.iter().map(|k| CounterRow::new(k, &empty)).collect::<Result<Vec<_>, _>>()?;
    insert_missing(conn, &rows)?;
    for key in &ordered {
        let _: String = lock_row!(
            &mut *conn,
            guess_counters::table.find((key.scope.as_str(), key.subject.as_str())).select(guess_counters::subject)
        )?;
    }
    keys.iter().map(|k| find(conn, k)?.ok_or(RepoError::NotFound)).collect()
}

/// The counter of one key, if it has one.
pub fn find(conn: &mut DbConn, key: &GuessKey) -> Result<Option<GuessCounter>, RepoError> {
    guess_counters::table
        .find((key.scope.as_str(), key.subject.as_str()))
        .select(CounterRow::as_select())
        .first(conn)
        .optional()?
        .map(CounterRow::counter)
        .transpose()
}

/// Stores a counter read with [`lock`].
pub fn save(conn: &mut DbConn, key: &GuessKey, counter: &GuessCounter) -> Result<(), RepoError> {
    let row = CounterRow::new(key, counter)?;
    let n = diesel::update(guess_counters::table.find((key.scope.as_str(), key.subject.as_str())))
        .set(&row)
        .execute(conn)?;
    if n == 1 { Ok(()) } else { Err(RepoError::NotFound) }
}

/// The counters of `scope` whose subject starts with `prefix` and whose last lock ends at or
/// after `since`, latest lock first, with their subjects.
pub fn locked_since(
    conn: &mut DbConn,
    scope: GuessScope,
    prefix: &str,
    since: chrono::NaiveDateTime,
) -> Result<Vec<(String, GuessCounter)>, RepoError> {
    guess_counters::table
        .filter(guess_counters::scope.eq(scope.as_str()))
        .filter(guess_counters::subject.like(format!("{}%", escape_like(prefix))).escape('\\'))
        .filter(guess_counters::locked_until.ge(since))
        .order((guess_counters::locked_until.desc(), guess_counters::subject.asc()))
        .select(CounterRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| Ok((row.subject.clone(), row.counter()?)))
        .collect()
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Deletes counters with no wrong guess and no lock since `cutoff`: they hold nothing that
/// still counts. Returns how many went.
pub fn purge_quiet_since(conn: &mut DbConn, cutoff: chrono::NaiveDateTime) -> Result<usize, RepoError> {
    Ok(diesel::delete(
        guess_counters::table
            .filter(guess_counters::last_wrong_at.lt(cutoff))
            .filter(guess_counters::locked_until.is_null().or(guess_counters::locked_until.lt(cutoff))),
    )
    .execute(conn)?)
}
