//! The audit trail of personal data: every read and every change of a citizen's data leaves an
//! entry (who, in which role, did what to which record, filed in which municipality's log), and
//! a coordinator reads their municipality's log. Changes of the scheme-wide settings (the caps)
//! are filed in no municipality's log, and the operator reads those; a cap change also leaves an
//! entry in each municipality whose citizens' years it re-split.

use chrono::{DateTime, NaiveDateTime, Utc};
use smaajob_persistence::DbConn;
use smaajob_persistence::repo::Page;
use smaajob_persistence::repo::audit::{self as audit_log, AuditLog, AuditQuery, AuditRow, NewAuditEntry};

use crate::services::error::{Fields, ServiceError};
use crate::services::principal::Principal;

/// A value read from personal data together with the audit entries the read produced; the
/// adapter answers with the value only once the entries are committed.
#[derive(Debug)]
pub struct Audited<T> {
    /// What was read.
    pub value: T,
    /// The entries that must be committed before `value` is shown to anyone.
    pub entries: Vec<NewAuditEntry>,
}

impl<T> Audited<T> {
    /// A value with the entries logging its read.
    pub fn new(value: T, entries: Vec<NewAuditEntry>) -> Audited<T> {
        Audited { value, entries }
    }

    /// The value and the entries, as `AppState::read_audited` takes them.
    pub fn into_parts(self) -> (T, Vec<NewAuditEntry>) {
        (self.value, self.entries)
    }
}

/// The outcome of a change whose refusal is logged as well: the use case appends the refusal's
/// audit entries and returns [`Attempt::Refused`], so the write transaction commits them, and
/// the adapter answers with the refusal afterwards (an `Err` would roll the entries back).
#[derive(Debug)]
pub enum Attempt<T> {
    /// The change was made.
    Done(T),
    /// The change was refused; the entries that log the refusal are written.
    Refused(ServiceError),
}

impl<T> Attempt<T> {
    /// The outcome as a result, once the transaction has committed.
    pub fn into_result(self) -> Result<T, ServiceError> {
        match self {
            Attempt::Done(v) => Ok(v),
            Attempt::Refused(e) => Err(e),
        }
    }
}

/// An audit entry for `principal` doing `action` to a target, filed in `municipality`'s log.
pub fn entry(
    principal: &Principal,
    action: &str,
    target_type: &str,
    target_id: &str,
    municipality: Option<&str>,
    details: Option<serde_json::Value>,
) -> NewAuditEntry {
    NewAuditEntry {
        at: smaajob_persistence::repo::now(),
        actor: principal.sub().to_owned(),
        actor_role: principal.role().as_str().to_owned(),
        action: action.to_owned(),
        target_type: target_type.to_owned(),
        target_id: target_id.to_owned(),
        municipality: municipality.map(str::to_owned),
        details: details.map(|d| d.to_string()),
    }
}

/// Appends one entry to the audit log inside the caller's write transaction, so the change and
/// its entry commit together.
pub fn record(conn: &mut DbConn, entry: NewAuditEntry) -> Result<(), ServiceError> {
    Ok(audit_log::append(conn, &[entry])?)
}

/// The filters and the page of an audit log listing, as entered.
#[derive(Debug, Clone, Default)]
pub struct AuditInput {
    /// Only entries about this target id.
    pub target_id: Option<String>,
    /// Only entries of this actor.
    pub actor: Option<String>,
    /// Only entries of this action.
    pub action: Option<String>,
    /// Only entries at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Only entries before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only entries older than this sequence number.
    pub before: Option<i64>,
    /// How many entries at most (1–500, default 100).
    pub limit: Option<i64>,
    /// How many entries to skip (default 0).
    pub offset: Option<i64>,
}

/// Lists one page of the log the caller reads.
#[derive(Debug, Clone)]
pub struct ListAudit {
    /// The filters.
    pub query: AuditQuery,
    /// The page.
    pub page: Page,
}

impl ListAudit {
    /// Parses the filters and the page: a limit of 1–500 (default 100), an offset of
    /// 0–1,000,000 (default 0).
    pub fn parse(input: AuditInput) -> Result<ListAudit, ServiceError> {
        let limit = input.limit.unwrap_or(100);
        let offset = input.offset.unwrap_or(0);
        let mut f = Fields::new();
        if !(1..=500).contains(&limit) {
            f.push("limit", "out_of_range", "limit must be between 1 and 500");
        }
        if !(0..=1_000_000).contains(&offset) {
            f.push("offset", "out_of_range", "offset must be between 0 and 1000000");
        }
        f.finish()?;
        let query = AuditQuery {
            target_id: input.target_id,
            actor: input.actor,
            action: input.action,
            from: input.from.map(|t| ceil_to_micros(t.naive_utc())),
            to: input.to.map(|t| ceil_to_micros(t.naive_utc())),
            before_id: input.before,
        };
        Ok(ListAudit { query, page: Page { limit, offset } })
    }
}

/// Stored times are whole microseconds and PostgreSQL compares at that precision; rounding a
/// finer bound up keeps `from` inclusive and `to` exclusive on both backends.
fn ceil_to_micros(t: NaiveDateTime) -> NaiveDateTime {
    let truncated = smaajob_persistence::repo::truncate_to_micros(t);
    if truncated == t { t } else { truncated + chrono::Duration::microseconds(1) }
}

/// A stored audit entry with its details read.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    /// The stored entry.
    pub row: AuditRow,
    /// Its details.
    pub details: Option<serde_json::Value>,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone)]
pub struct AuditList {
    /// The entries of this page.
    pub items: Vec<AuditRecord>,
    /// How many entries match in all.
    pub total: i64,
    /// The page.
    pub page: Page,
}

/// The kinds of target of the scheme-wide settings, whose changes are filed in no municipality's
/// log and read by the operator.
pub const SCHEME_TARGETS: &[&str] = &["cap", "atp_rate"];

/// The part of the log a principal reads: a coordinator their municipality's, the operator the
/// scheme-wide settings' (never an entry about a citizen or a company); 403 for other roles.
fn readable_log(principal: &Principal) -> Result<Log, ServiceError> {
    match principal {
        Principal::Operator { .. } => Ok(Log::SchemeWide),
        _ => Ok(Log::Municipality(principal.coordinator()?.to_string())),
    }
}

enum Log {
    Municipality(String),
    SchemeWide,
}

impl Log {
    fn as_repo(&self) -> AuditLog<'_> {
        match self {
            Log::Municipality(m) => AuditLog::Municipality(m),
            Log::SchemeWide => AuditLog::SchemeWide(SCHEME_TARGETS),
        }
    }
}

/// Whether the principal may read the log at all (coordinators and the operator); checked
/// before the query is parsed.
pub fn may_read(principal: &Principal) -> Result<(), ServiceError> {
    readable_log(principal).map(|_| ())
}

/// One page of the log the principal reads, newest first: a coordinator's municipality's, or
/// the operator's scheme-wide one.
pub fn list(conn: &mut DbConn, principal: &Principal, cmd: ListAudit) -> Result<AuditList, ServiceError> {
    let log = readable_log(principal)?;
    let total = audit_log::count(conn, log.as_repo(), &cmd.query)?;
    let items = audit_log::list(conn, log.as_repo(), &cmd.query, cmd.page)?
        .into_iter()
        .map(|row| {
            let details = row.details.as_deref().map(serde_json::from_str).transpose().map_err(|e| {
                ServiceError::internal(format!("stored audit details of entry {} are corrupt: {e}", row.id))
            })?;
            Ok(AuditRecord { row, details })
        })
        .collect::<Result<_, ServiceError>>()?;
    Ok(AuditList { items, total, page: cmd.page })
}
