//! The audit log: who read or changed what, when. Append-only, and tamper-evident: every entry
//! is hashed into its municipality's chain as it is appended (see [`crate::repo::audit_chain`]).

use std::collections::BTreeMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::RepoError;
use crate::repo::{Page, audit_chain, truncate_to_micros};
use crate::schema::audit_log;

/// An audit entry to append.
#[derive(Debug, Clone)]
pub struct NewAuditEntry {
    /// When (UTC).
    pub at: chrono::NaiveDateTime,
    /// The actor's subject (`sub` claim).
    pub actor: String,
    /// The actor's role.
    pub actor_role: String,
    /// What happened, e.g. `citizen.read`.
    pub action: String,
    /// The kind of thing acted on, e.g. `citizen`.
    pub target_type: String,
    /// The id of the thing acted on.
    pub target_id: String,
    /// The municipality whose log this entry belongs to.
    pub municipality: Option<String>,
    /// Extra facts as JSON; never personal identifiers such as a CPR.
    pub details: Option<String>,
}

/// A stored audit entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    /// Increasing sequence number.
    pub id: i64,
    /// When (UTC).
    pub at: chrono::NaiveDateTime,
    /// The actor's subject.
    pub actor: String,
    /// The actor's role.
    pub actor_role: String,
    /// What happened.
    pub action: String,
    /// The kind of thing acted on.
    pub target_type: String,
    /// The id of the thing acted on.
    pub target_id: String,
    /// The municipality whose log this entry belongs to.
    pub municipality: Option<String>,
    /// Extra facts as JSON.
    pub details: Option<String>,
}

/// Appends entries, each to the end of its municipality's chain (see [`crate::repo::audit_chain`]):
/// its `prev_hash` is the hash of the chain's last entry, its `entry_hash` covers that and its own
/// fields, and the chain's head moves to it. Run it inside the caller's write transaction: on
/// PostgreSQL the heads stay locked until it commits, so no other writer (in this process or
/// another) appends to the same chain in between and forks it; on SQLite the write transaction
/// (`BEGIN IMMEDIATE`) already serializes every writer.
pub fn append(conn: &mut DbConn, entries: &[NewAuditEntry]) -> Result<(), RepoError> {
    append_all(conn, entries)
}

/// [`append`] for entries gathered from several requests (the audit writer's group commit): each
/// chain's head is locked, read and moved once for all of them.
pub fn append_all<'a, I>(conn: &mut DbConn, entries: I) -> Result<(), RepoError>
where
    I: IntoIterator<Item = &'a NewAuditEntry>,
{
    // Heads are locked in the order of their names, so two transactions that append to the same
    // chains take the locks in the same order. (A deadlock that another statement order causes
    // is retried by `write_transaction`.)
    let mut by_chain: BTreeMap<&str, Vec<&NewAuditEntry>> = BTreeMap::new();
    for entry in entries {
        by_chain.entry(audit_chain::chain_of(entry.municipality.as_deref())).or_default().push(entry);
    }
    for (chain, list) in by_chain {
        let mut head = audit_chain::lock_head(conn, chain)?;
        for entry in list.iter().copied() {
            // Stored as hashed: PostgreSQL keeps microseconds only.
            let at = truncate_to_micros(entry.at);
            let row = ChainedEntry { entry, at, prev_hash: &head.last_hash, entry_hash: String::new() };
            let entry_hash = audit_chain::entry_hash(&head.last_hash, &row.fields());
            let row = ChainedEntry { entry_hash, ..row };
            diesel::insert_into(audit_log::table).values(row.values()).execute(conn)?;
            head = audit_chain::Head { last_id: head.last_id, last_hash: row.entry_hash, length: head.length + 1 };
        }
        // The chain's last id, read once (from the municipality index) rather than returned by
        // every insert: with the head locked, no other transaction has appended to it since.
        // Two fixed-shape queries rather than one boxed one, so that each stays prepared on the
        // connection (diesel caches only statements whose shape is known at compile time).
        let last_id: Option<i64> = match list.first().and_then(|e| e.municipality.as_deref()) {
            Some(m) => audit_log::table
                .filter(audit_log::municipality.eq(m))
                .select(diesel::dsl::max(audit_log::id))
                .first(conn)?,
            None => audit_log::table
                .filter(audit_log::municipality.is_null())
                .select(diesel::dsl::max(audit_log::id))
                .first(conn)?,
        };
        head.last_id = last_id.unwrap_or(head.last_id);
        audit_chain::save_head(conn, chain, &head)?;
    }
    Ok(())
}

/// An entry with its place in the chain, as inserted.
struct ChainedEntry<'a> {
    entry: &'a NewAuditEntry,
    at: chrono::NaiveDateTime,
    prev_hash: &'a str,
    entry_hash: String,
}

impl ChainedEntry<'_> {
    fn fields(&self) -> audit_chain::EntryFields<'_> {
        audit_chain::EntryFields {
            at: self.at,
            actor: &self.entry.actor,
            actor_role: &self.entry.actor_role,
            action: &self.entry.action,
            target_type: &self.entry.target_type,
            target_id: &self.entry.target_id,
            municipality: self.entry.municipality.as_deref(),
            details: self.entry.details.as_deref(),
        }
    }

    #[allow(clippy::type_complexity)]
    fn values(
        &self,
    ) -> (
        diesel::dsl::Eq<audit_log::at, chrono::NaiveDateTime>,
        diesel::dsl::Eq<audit_log::actor, &str>,
        diesel::dsl::Eq<audit_log::actor_role, &str>,
        diesel::dsl::Eq<audit_log::action, &str>,
        diesel::dsl::Eq<audit_log::target_type, &str>,
        diesel::dsl::Eq<audit_log::target_id, &str>,
        diesel::dsl::Eq<audit_log::municipality, Option<&str>>,
        diesel::dsl::Eq<audit_log::details, Option<&str>>,
        diesel::dsl::Eq<audit_log::prev_hash, Option<&str>>,
        diesel::dsl::Eq<audit_log::entry_hash, Option<&str>>,
    ) {
        (
            audit_log::at.eq(self.at),
            audit_log::actor.eq(self.entry.actor.as_str()),
            audit_log::actor_role.eq(self.entry.actor_role.as_str()),
            audit_log::action.eq(self.entry.action.as_str()),
            audit_log::target_type.eq(self.entry.target_type.as_str()),
            audit_log::target_id.eq(self.entry.target_id.as_str()),
            audit_log::municipality.eq(self.entry.municipality.as_deref()),
            audit_log::details.eq(self.entry.details.as_deref()),
            audit_log::prev_hash.eq(Some(self.prev_hash)),
            audit_log::entry_hash.eq(Some(self.entry_hash.as_str())),
        )
    }
}

/// The filters of a query of the log.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only entries about this target id.
    pub target_id: Option<String>,
    /// Only entries of this actor.
    pub actor: Option<String>,
    /// Only entries of this action.
    pub action: Option<String>,
    /// Only entries at or after this time.
    pub from: Option<chrono::NaiveDateTime>,
    /// Only entries before this time.
    pub to: Option<chrono::NaiveDateTime>,
    /// Only entries with a sequence number below this (for paging backwards).
    pub before_id: Option<i64>,
}

/// Which part of the log a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditLog<'a> {
    /// The entries filed in one municipality's log.
    Municipality(&'a str),
    /// The scheme-wide entries, filed in no municipality's log, about these kinds of target only
    /// (e.g. `cap`): entries about a company without a municipality are filed nowhere too, and
    /// are not the scheme's.
    SchemeWide(&'a [&'a str]),
}

/// One page of the entries of a log matching `q`, newest first.
pub fn list(conn: &mut DbConn, log: AuditLog<'_>, q: &AuditQuery, page: Page) -> Result<Vec<AuditRow>, RepoError> {
    Ok(matching(log, q)
        .select(AuditRow::as_select())
        .order(audit_log::id.desc())
        .limit(page.limit)
        .offset(page.offset)
        .load(conn)?)
}

/// How many entries of a log match `q`.
pub fn count(conn: &mut DbConn, log: AuditLog<'_>, q: &AuditQuery) -> Result<i64, RepoError> {
    Ok(matching(log, q).count().get_result(conn)?)
}

/// The entries of a log that match `q`, as a query to select from or count.
fn matching<'a>(log: AuditLog<'a>, q: &'a AuditQuery) -> audit_log::BoxedQuery<'a, <DbConn as Connection>::Backend> {
    let mut query = match log {
        AuditLog::Municipality(m) => audit_log::table.filter(audit_log::municipality.eq(m)).into_boxed(),
        AuditLog::SchemeWide(targets) => audit_log::table
            .filter(audit_log::municipality.is_null())
            .filter(audit_log::target_type.eq_any(targets.iter().copied()))
            .into_boxed(),
    };
    if let Some(t) = &q.target_id {
        query = query.filter(audit_log::target_id.eq(t.as_str()));
    }
    if let Some(a) = &q.actor {
        query = query.filter(audit_log::actor.eq(a.as_str()));
    }
    if let Some(a) = &q.action {
        query = query.filter(audit_log::action.eq(a.as_str()));
    }
    if let Some(f) = q.from {
        query = query.filter(audit_log::at.ge(f));
    }
    if let Some(t) = q.to {
        query = query.filter(audit_log::at.lt(t));
    }
    if let Some(b) = q.before_id {
        query = query.filter(audit_log::id.lt(b));
    }
    query
}
