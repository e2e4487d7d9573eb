//! The audit trail of personal data: every read and every change of a citizen's data leaves an
//! entry (who, in which role, did what to which record, filed in which municipality's log).

use smaajob_persistence::repo::audit::NewAuditEntry;

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
