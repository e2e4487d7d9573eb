//! Guesses at who a citizen is. A CPR number with a frikort number is all a company needs to
//! register an employment, and the answer names the citizen and opens their balance; a
//! coordinator's enrolment of a CPR number that is already enrolled tells that the person is.
//! Each such attempt is a guess, and wrong guesses are limited three ways:
//!
//! - per **actor** (the company, or the coordinator), so one account cannot walk the card numbers;
//! - per **source** address, so many accounts behind one address cannot either;
//! - per **citizen** (the CPR number's keyed hash, never the CPR), so many accounts at many
//!   addresses cannot walk one person's card number. That lock stops companies only: a
//!   coordinator from another municipality never matches the citizen by card anyway, and the
//!   citizen's own coordinator must stay able to register the citizen's real work while someone
//!   else is guessing at them.
//!
//! A guess is counted before it is answered, in its own committed transaction ([`reserve`]),
//! so that the count stays even though the request's own transaction fails, and concurrent
//! guesses cannot slip under the limit together; when it turns out right, [`settle`] gives the
//! count back. An actor that trips its limit is written to its municipality's audit log, and
//! the coordinator's queue lists it ([`locked_out_companies`]).

use std::net::IpAddr;

use chrono::{NaiveDateTime, TimeDelta};
use smaajob_domain::{Cpr, GuessCounter, GuessLimit, retry_after_seconds};
use smaajob_persistence::DbConn;
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::companies::{self, CompanyRow};
use smaajob_persistence::repo::guesses::{self, GuessKey, GuessScope};
use smaajob_persistence::repo::now;

use crate::services::audit;
use crate::services::error::{Code, ServiceError};
use crate::services::principal::Principal;

/// How long the coordinator's queue keeps showing a lockout after it ended.
pub const LOCKOUT_SHOWN_FOR: TimeDelta = TimeDelta::days(7);
/// Counters with no wrong guess and no lock for this long are deleted.
pub const QUIET_COUNTERS_KEPT_FOR: TimeDelta = TimeDelta::days(2);

/// The limits of the three scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuessLimits {
    /// Per company or coordinator.
    pub actor: GuessLimit,
    /// Per source address.
    pub source: GuessLimit,
    /// Per CPR number guessed at.
    pub citizen: GuessLimit,
}

/// Default wrong guesses per company or coordinator in one window.
pub const DEFAULT_ACTOR_GUESSES: u32 = 5;
/// Default wrong guesses per source address in one window: an office may hold several companies.
pub const DEFAULT_SOURCE_GUESSES: u32 = 20;
/// Default wrong guesses at one CPR number in one window, from anyone.
pub const DEFAULT_CITIZEN_GUESSES: u32 = 5;
/// Default window of the actor and source counts.
pub const DEFAULT_WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Default window of the citizen count.
pub const DEFAULT_CITIZEN_WINDOW: TimeDelta = TimeDelta::hours(1);
/// Default first lock; each earlier lockout doubles it.
pub const DEFAULT_LOCK: TimeDelta = TimeDelta::minutes(15);
/// Default longest lock.
pub const DEFAULT_MAX_LOCK: TimeDelta = TimeDelta::hours(24);

impl Default for GuessLimits {
    fn default() -> GuessLimits {
        let limit = |n, window| GuessLimit::new(n, window, DEFAULT_LOCK, DEFAULT_MAX_LOCK);
        match (
            limit(DEFAULT_ACTOR_GUESSES, DEFAULT_WINDOW),
            limit(DEFAULT_SOURCE_GUESSES, DEFAULT_WINDOW),
            limit(DEFAULT_CITIZEN_GUESSES, DEFAULT_CITIZEN_WINDOW),
        ) {
            (Ok(actor), Ok(source), Ok(citizen)) => GuessLimits { actor, source, citizen },
            _ => unreachable!("the default guess limits are valid"),
        }
    }
}

/// A number of wrong guesses per window, as configured (`5/15m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuessCount {
    /// Wrong guesses allowed in one window; the last of them locks.
    pub max_wrong: u32,
    /// The window.
    pub window: std::time::Duration,
}

impl GuessCount {
    /// Parses `N/WINDOW`, e.g. `5/15m` or `20/1h`.
    pub fn parse(s: &str) -> Result<GuessCount, String> {
        let (n, window) = s.split_once('/').ok_or("expected N/WINDOW, e.g. 5/15m")?;
        let max_wrong = n.trim().parse::<u32>().map_err(|_| format!("{n:?} is not a whole number"))?;
        let window = humantime::parse_duration(window.trim()).map_err(|e| e.to_string())?;
        Ok(GuessCount { max_wrong, window })
    }
}

impl GuessLimits {
    /// The limits of the three scopes with one lock policy: the first lock, doubled per earlier
    /// lockout up to the longest.
    pub fn new(
        actor: GuessCount,
        source: GuessCount,
        citizen: GuessCount,
        lock: std::time::Duration,
        max_lock: std::time::Duration,
    ) -> Result<GuessLimits, smaajob_domain::GuessLimitError> {
        let delta = |d: std::time::Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        let limit = |c: GuessCount| GuessLimit::new(c.max_wrong, delta(c.window), delta(lock), delta(max_lock));
        Ok(GuessLimits { actor: limit(actor)?, source: limit(source)?, citizen: limit(citizen)? })
    }
}

/// Who makes a guess, from where, at whom.
#[derive(Debug, Clone)]
pub struct GuessAttempt {
    actor: Option<Actor>,
    source: Option<GuessKey>,
    citizen: Option<GuessKey>,
}

#[derive(Debug, Clone)]
struct Actor {
    key: GuessKey,
    /// The company, when a company guesses: its lock is reported to its municipality.
    company_id: Option<String>,
    /// The coordinator's municipality, when a coordinator guesses.
    municipality: Option<String>,
    sub: String,
}

impl GuessAttempt {
    /// A guess by `principal` from `source` (the peer address), naming `cpr` if the guess names
    /// a CPR number and card number. The CPR is kept only as its keyed hash.
    pub fn new(principal: &Principal, source: Option<IpAddr>, cpr: Option<&Cpr>, key: &DataKey) -> GuessAttempt {
        let actor = match principal {
            Principal::Company { sub, company_id } => Some(Actor {
                key: GuessKey { scope: GuessScope::Actor, subject: format!("company:{company_id}") },
                company_id: Some(company_id.clone()),
                municipality: None,
                sub: sub.clone(),
            }),
            Principal::Coordinator { sub, municipality } => Some(Actor {
                key: GuessKey { scope: GuessScope::Actor, subject: format!("coordinator:{municipality}:{sub}") },
                company_id: None,
                municipality: Some(municipality.to_string()),
                sub: sub.clone(),
            }),
            // Others cannot guess here: the use case refuses them before any lookup.
            _ => None,
        };
        GuessAttempt {
            actor,
            source: source.map(|ip| GuessKey { scope: GuessScope::Source, subject: source_subject(ip) }),
            citizen: cpr.map(|c| GuessKey { scope: GuessScope::Citizen, subject: key.lookup_hash(c.digits()) }),
        }
    }

    fn keys(&self) -> Vec<(GuessKey, bool)> {
        let by_company = self.actor.as_ref().is_some_and(|a| a.company_id.is_some());
        let mut keys = Vec::new();
        if let Some(a) = &self.actor {
            keys.push((a.key.clone(), true));
        }
        if let Some(s) = &self.source {
            keys.push((s.clone(), true));
        }
        if let Some(c) = &self.citizen {
            // Counted for everyone, binding for companies only (see the module documentation).
            keys.push((c.clone(), by_company));
        }
        keys
    }
}

/// The source address as counted: an IPv4 address whole, an IPv6 address by its /64 network,
/// since one household or host is routinely given a whole /64 to pick addresses from.
pub fn source_subject(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn limit_of(limits: &GuessLimits, scope: GuessScope) -> &GuessLimit {
    match scope {
        GuessScope::Actor => &limits.actor,
        GuessScope::Source => &limits.source,
        GuessScope::Citizen => &limits.citizen,
    }
}

/// A counted guess, to be settled once it is answered.
#[derive(Debug, Clone)]
pub struct Reservation {
    counted: Vec<CountedKey>,
}

#[derive(Debug, Clone)]
struct CountedKey {
    key: GuessKey,
    before: GuessCounter,
    locked: bool,
    binding: bool,
    locked_until: Option<NaiveDateTime>,
}

/// The refusal of a guess while, or because, a lock binds the guesser.
pub fn too_many(wait: TimeDelta) -> ServiceError {
    let seconds = retry_after_seconds(wait);
    ServiceError::Throttled {
        code: Code::TooManyGuesses,
        detail: format!(
            "too many wrong CPR or frikort numbers; try again in {seconds} seconds. If the numbers are right, the citizen's jobcenter can register the employment"
        ),
        retry_after_seconds: seconds,
    }
}

/// Counts a guess before it is answered, or refuses it while a lock that binds the guesser
/// holds. Runs in its own write transaction, committed before the guess is answered.
pub fn reserve(conn: &mut DbConn, limits: &GuessLimits, attempt: &GuessAttempt) -> Result<Reservation, ServiceError> {
    let at = now();
    let keys = attempt.keys();
    let plain: Vec<GuessKey> = keys.iter().map(|(k, _)| k.clone()).collect();
    let counters = guesses::lock(conn, &plain, at)?;
    let wait =
        keys.iter().zip(&counters).filter(|((_, binding), _)| *binding).filter_map(|(_, c)| c.locked_for(at)).max();
    if let Some(wait) = wait {
        return Err(too_many(wait));
    }
    let mut counted = Vec::new();
    for ((key, binding), before) in keys.into_iter().zip(counters) {
        // A lock that does not bind this guesser (a citizen's, for a coordinator) runs its course.
        if before.locked_for(at).is_some() {
            continue;
        }
        let next = limit_of(limits, key.scope).count(Some(&before), at);
        guesses::save(conn, &key, &next.counter)?;
        let locked_until = next.counter.locked_until;
        counted.push(CountedKey { key, before, locked: next.locked, binding, locked_until });
    }
    Ok(Reservation { counted })
}

/// What settling a guess found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// A right guess, given back.
    Right,
    /// A wrong guess, still counted.
    Wrong,
    /// A wrong guess that locked the guesser out for this long.
    LockedOut(TimeDelta),
}

/// Settles a guess counted by [`reserve`] once it is answered: a right one is given back; a
/// wrong one that tripped the guesser's limit is written to the audit log of the actor's
/// municipality. Runs in its own write transaction.
pub fn settle(
    conn: &mut DbConn,
    attempt: &GuessAttempt,
    reservation: &Reservation,
    wrong: bool,
) -> Result<Settled, ServiceError> {
    let at = now();
    if !wrong {
        let keys: Vec<GuessKey> = reservation.counted.iter().map(|c| c.key.clone()).collect();
        let counters = guesses::lock(conn, &keys, at)?;
        for (c, mut counter) in reservation.counted.iter().zip(counters) {
            counter.refund(c.locked, Some(&c.before));
            guesses::save(conn, &c.key, &counter)?;
        }
        return Ok(Settled::Right);
    }
    let wait = reservation
        .counted
        .iter()
        .filter(|c| c.locked && c.binding)
        .filter_map(|c| c.locked_until.filter(|until| *until > at).map(|until| until - at))
        .max();
    let Some(wait) = wait else { return Ok(Settled::Wrong) };
    if let Some(actor) = &attempt.actor
        && let Some(tripped) = reservation.counted.iter().find(|c| c.locked && c.key == actor.key)
    {
        report_lockout(conn, actor, &tripped.key)?;
    }
    Ok(Settled::LockedOut(wait))
}

/// Writes an actor's lockout to its municipality's audit log, where the coordinators look.
fn report_lockout(conn: &mut DbConn, actor: &Actor, key: &GuessKey) -> Result<(), ServiceError> {
    let Some(counter) = guesses::find(conn, key)? else { return Ok(()) };
    let (target_type, target_id, municipality) = match (&actor.company_id, &actor.municipality) {
        (Some(company_id), _) => {
            let company = companies::find(conn, company_id)?;
            ("company", company_id.clone(), company.municipality)
        }
        (None, municipality) => ("coordinator", actor.sub.clone(), municipality.clone()),
    };
    let details = serde_json::json!({
        "wrong_guesses": counter.wrong_total,
        "lockouts": counter.lockouts,
        "locked_until": counter.locked_until.map(|t| t.and_utc()),
    });
    let entry = smaajob_persistence::repo::audit::NewAuditEntry {
        at: now(),
        actor: actor.sub.clone(),
        actor_role: if actor.company_id.is_some() { "company" } else { "coordinator" }.to_owned(),
        action: "guessing.locked_out".to_owned(),
        target_type: target_type.to_owned(),
        target_id,
        municipality,
        details: Some(details.to_string()),
    };
    audit::record(conn, entry)
}

/// A company of the municipality locked out for wrong guesses, now or in the last
/// [`LOCKOUT_SHOWN_FOR`].
#[derive(Debug, Clone)]
pub struct LockedOutCompany {
    /// The company.
    pub company: CompanyRow,
    /// Its guess counter.
    pub counter: GuessCounter,
    /// When its latest lockout ends (or ended).
    pub locked_until: NaiveDateTime,
    /// Whether it is locked out now.
    pub locked: bool,
}

/// The companies of `municipality` locked out for guessing recently, latest lock first.
pub fn locked_out_companies(conn: &mut DbConn, municipality: &str) -> Result<Vec<LockedOutCompany>, ServiceError> {
    let at = now();
    let since = at - LOCKOUT_SHOWN_FOR;
    let mut out = Vec::new();
    for (subject, counter) in guesses::locked_since(conn, GuessScope::Actor, "company:", since)? {
        let Some(company_id) = subject.strip_prefix("company:") else { continue };
        let company = match companies::find(conn, company_id) {
            Ok(c) => c,
            Err(smaajob_persistence::RepoError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        if let Some(locked_until) = counter.locked_until
            && company.municipality.as_deref() == Some(municipality)
        {
            out.push(LockedOutCompany { company, locked: counter.locked_for(at).is_some(), counter, locked_until });
        }
    }
    Ok(out)
}

/// Deletes counters that hold nothing that still counts; returns how many went.
pub fn purge_quiet(conn: &mut DbConn) -> Result<usize, smaajob_persistence::RepoError> {
    guesses::purge_quiet_since(conn, now() - QUIET_COUNTERS_KEPT_FOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_source_is_counted_by_its_network_and_a_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap_or(IpAddr::from([0; 4]));
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(source_subject(a), source_subject(b));
        assert_eq!(source_subject(a), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap_or(IpAddr::from([0; 4]));
        assert_eq!(source_subject(mapped), "192.0.2.7");
    }
}
