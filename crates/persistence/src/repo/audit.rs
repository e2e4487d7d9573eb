//! The audit log: who read or changed what, when. Append-only.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::RepoError;
use crate::repo::Page;
use crate::schema::audit_log;

/// An audit entry to append.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_log)]
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

/// Appends entries.
pub fn append(conn: &mut DbConn, entries: &[NewAuditEntry]) -> Result<(), RepoError> {
    // Multi-row INSERT with a DEFAULT id is not expressible across both backends; entries
    // are few per request and share the caller's transaction.
    for entry in entries {
        diesel::insert_into(audit_log::table).values(entry).execute(conn)?;
    }
    Ok(())
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
