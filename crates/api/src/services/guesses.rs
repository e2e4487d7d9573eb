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
//! A guess is refused while a lock binds the guesser ([`check`]); a wrong one is counted after
//! it is answered, in its own transaction, since the request's own transaction has failed
//! ([`record_wrong`]). Right guesses are not counted and take no lock, so a payroll run that
//! registers many employments at once is not slowed or refused. The price: guesses already
//! being answered when one of them trips a lock are answered too, so a guesser gets at most as
//! many extra guesses per lock as it has requests in flight, which the per-source request rate
//! ([`crate::guess_guard::limit_source`]) and the connection pool bound. An actor that trips its limit is written to its municipality's audit log, and
//! the coordinator's queue lists it ([`locked_out_companies`]).

use std::net::IpAddr;

use chrono::{NaiveDateTime, TimeDelta};
use smaajob_domain::{CompanyId, Cpr, GuessCounter, GuessLimit, retry_after_seconds};
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
    company_id: Option<CompanyId>,
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

/// Refuses a guess while a lock binds the guesser. A read that takes no lock, so right guesses
/// sent at once (a payroll run) do not queue behind each other.
pub fn check(conn: &mut DbConn, attempt: &GuessAttempt) -> Result<(), ServiceError> {
    let at = now();
    let mut wait: Option<TimeDelta> = None;
    for (key, binding) in attempt.keys() {
        if binding && let Some(left) = guesses::find(conn, &key)?.and_then(|c| c.locked_for(at)) {
            wait = Some(wait.map_or(left, |w| w.max(left)));
        }
    }
    wait.map_or(Ok(()), |w| Err(too_many(w)))
}

/// Counts a wrong guess in every scope, in its own write transaction (the request's own
/// transaction has failed). Returns how long the guesser is now locked out when this guess
/// reached a limit that binds it; an actor that trips its limit is written to the audit log of
/// its municipality. A counter that another guess locked meanwhile is left to run its course.
pub fn record_wrong(
    conn: &mut DbConn,
    limits: &GuessLimits,
    attempt: &GuessAttempt,
) -> Result<Option<TimeDelta>, ServiceError> {
    let at = now();
    let keys = attempt.keys();
    let plain: Vec<GuessKey> = keys.iter().map(|(k, _)| k.clone()).collect();
    let counters = guesses::lock(conn, &plain, at)?;
    let mut wait: Option<TimeDelta> = None;
    let mut actor_tripped = None;
    for ((key, binding), before) in keys.into_iter().zip(counters) {
        if before.locked_for(at).is_some() {
            continue;
        }
        let counted = limit_of(limits, key.scope).count(Some(&before), at);
        guesses::save(conn, &key, &counted.counter)?;
        if counted.locked && binding {
            let left = counted.counter.locked_for(at).unwrap_or_default();
            wait = Some(wait.map_or(left, |w| w.max(left)));
        }
        if counted.locked && attempt.actor.as_ref().is_some_and(|a| a.key == key) {
            actor_tripped = Some(counted.counter);
        }
    }
    if let (Some(counter), Some(actor)) = (actor_tripped, &attempt.actor) {
        report_lockout(conn, actor, &counter)?;
    }
    Ok(wait)
}

/// Writes an actor's lockout to its municipality's audit log, where the coordinators look.
fn report_lockout(conn: &mut DbConn, actor: &Actor, counter: &GuessCounter) -> Result<(), ServiceError> {
    let (target_type, target_id, municipality) = match (&actor.company_id, &actor.municipality) {
        (Some(company_id), _) => {
            let company = companies::find(conn, company_id)?;
            ("company", company_id.to_string(), company.municipality)
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
        // A subject is written from a company's typed id; any other text names no company.
        let Ok(company_id) = CompanyId::parse(company_id) else { continue };
        let company = match companies::find(conn, &company_id) {
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
