//! The audit log's hash chains, which make it tamper-evident.
//!
//! There is one chain per municipality (the entries filed in its log) and one, [`SCHEME_CHAIN`],
//! for the entries filed in none. Per municipality rather than one global chain because the
//! municipality is the data controller: it can verify, export and (later) prune its own log
//! without another's, and on PostgreSQL writers of different municipalities do not queue on one
//! head row.
//!
//! Each entry stores `prev_hash` (the `entry_hash` of the entry before it in its chain, or
//! [`GENESIS`] for the first) and `entry_hash`, SHA-256 over a version label, `prev_hash` and the
//! entry's fields (the time as microseconds since the epoch), each length-prefixed so no two different entries encode alike. The head row
//! of each chain (`audit_chains`) records the last entry's id and hash and the chain's length:
//! appenders lock it, so chains never fork, and [`verify`] compares the end of the walked chain
//! with it, so entries deleted from the end are found too.
//!
//! What it detects: any entry edited, deleted or inserted directly in the database, unless whoever
//! did it also recomputed every later hash of that chain and its head (the hash is not keyed). To
//! catch that too, keep the chains' last hashes, which `smaajob audit verify` prints, somewhere the
//! database's administrators cannot write: a chain whose earlier head is no longer one of its
//! entries' hashes was rewritten.

use std::collections::BTreeMap;

use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::{DbConn, write_transaction};
use crate::error::RepoError;
use crate::repo::lock_row;
use crate::schema::{audit_chain_start, audit_chains, audit_log};

/// The chain of the entries filed in no municipality's log (scheme-wide ones such as caps).
pub const SCHEME_CHAIN: &str = "scheme";

/// The `prev_hash` of a chain's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How many entries a walk of the log reads per query.
const WALK_PAGE: i64 = 10_000;

/// The chain an entry of `municipality`'s log belongs to.
pub fn chain_of(municipality: Option<&str>) -> &str {
    municipality.unwrap_or(SCHEME_CHAIN)
}

/// The fields of an entry that its hash covers (all but its id, which the database assigns).
#[derive(Debug, Clone, Copy)]
pub struct EntryFields<'a> {
    /// When, truncated to microseconds as stored.
    pub at: chrono::NaiveDateTime,
    /// The actor's subject.
    pub actor: &'a str,
    /// The actor's role.
    pub actor_role: &'a str,
    /// What happened.
    pub action: &'a str,
    /// The kind of thing acted on.
    pub target_type: &'a str,
    /// The id of the thing acted on.
    pub target_id: &'a str,
    /// The municipality whose log the entry is filed in.
    pub municipality: Option<&'a str>,
    /// Extra facts as JSON.
    pub details: Option<&'a str>,
}

/// The hash of an entry that follows `prev_hash` in its chain, as lowercase hex.
pub fn entry_hash(prev_hash: &str, fields: &EntryFields<'_>) -> String {
    fn put(hasher: &mut Sha256, value: Option<&[u8]>) {
        match value {
            None => hasher.update([0u8]),
            Some(bytes) => {
                hasher.update([1u8]);
                hasher.update((bytes.len() as u64).to_be_bytes());
                hasher.update(bytes);
            }
        }
    }
    let mut hasher = Sha256::new();
    hasher.update(b"smaajob/audit-entry/v1\0");
    put(&mut hasher, Some(prev_hash.as_bytes()));
    // The time as microseconds since the epoch: what both backends store, without formatting.
    put(&mut hasher, Some(&fields.at.and_utc().timestamp_micros().to_be_bytes()));
    for value in [
        Some(fields.actor),
        Some(fields.actor_role),
        Some(fields.action),
        Some(fields.target_type),
        Some(fields.target_id),
        fields.municipality,
        fields.details,
    ] {
        put(&mut hasher, value.map(str::as_bytes));
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(64);
    for byte in hasher.finalize() {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    hex
}

/// The end of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = audit_chains)]
pub struct Head {
    /// The id of the chain's last entry (0 while it has none).
    pub last_id: i64,
    /// The hash of the chain's last entry ([`GENESIS`] while it has none).
    pub last_hash: String,
    /// How many entries the chain has.
    pub length: i64,
}

/// Locks `chain`'s head for the rest of the caller's write transaction and reads it, creating an
/// empty head for a chain that has none yet. Two transactions creating the same head at once
/// both go on to lock the one row.
pub(crate) fn lock_head(conn: &mut DbConn, chain: &str) -> Result<Head, RepoError> {
    if let Some(head) = lock_existing_head(conn, chain)? {
        return Ok(head);
    }
    let empty = (
        audit_chains::chain.eq(chain),
        audit_chains::last_id.eq(0_i64),
        audit_chains::last_hash.eq(GENESIS),
        audit_chains::length.eq(0_i64),
    );
    // `ON CONFLICT DO NOTHING` does not go through the multi-backend connection.
    match &mut *conn {
        DbConn::Pg(c) => diesel::insert_into(audit_chains::table).values(empty).on_conflict_do_nothing().execute(c)?,
        DbConn::Sqlite(c) => {
            diesel::insert_into(audit_chains::table).values(empty).on_conflict_do_nothing().execute(c)?
        }
    };
    lock_existing_head(conn, chain)?.ok_or(RepoError::NotFound)
}

/// Locks and reads a head in one statement (it is on the path of every audited request). The
/// head's columns are plain integers and text, which both inner connections read.
fn lock_existing_head(conn: &mut DbConn, chain: &str) -> Result<Option<Head>, RepoError> {
    let head = || {
        audit_chains::table.find(chain).select((audit_chains::last_id, audit_chains::last_hash, audit_chains::length))
    };
    let found = match conn {
        // No key of the head is referred to, so `FOR NO KEY UPDATE` locks all that matters.
        DbConn::Pg(c) => head().for_no_key_update().first::<(i64, String, i64)>(c).optional()?,
        // Writers are serialized by `BEGIN IMMEDIATE` already (see `lock_row`).
        DbConn::Sqlite(c) => head().first::<(i64, String, i64)>(c).optional()?,
    };
    Ok(found.map(|(last_id, last_hash, length)| Head { last_id, last_hash, length }))
}

/// Moves `chain`'s head (locked by [`lock_head`] in this transaction) to `head`.
pub(crate) fn save_head(conn: &mut DbConn, chain: &str, head: &Head) -> Result<(), RepoError> {
    diesel::update(audit_chains::table.find(chain))
        .set((
            audit_chains::last_id.eq(head.last_id),
            audit_chains::last_hash.eq(&head.last_hash),
            audit_chains::length.eq(head.length),
        ))
        .execute(conn)?;
    Ok(())
}

/// A stored entry with its place in its chain.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
struct ChainRow {
    id: i64,
    at: chrono::NaiveDateTime,
    actor: String,
    actor_role: String,
    action: String,
    target_type: String,
    target_id: String,
    municipality: Option<String>,
    details: Option<String>,
    prev_hash: Option<String>,
    entry_hash: Option<String>,
}

impl ChainRow {
    fn fields(&self) -> EntryFields<'_> {
        EntryFields {
            at: self.at,
            actor: &self.actor,
            actor_role: &self.actor_role,
            action: &self.action,
            target_type: &self.target_type,
            target_id: &self.target_id,
            municipality: self.municipality.as_deref(),
            details: self.details.as_deref(),
        }
    }
}

/// The entries after `after`, in id order, at most `limit` (`upto` bounds the id, inclusive).
fn entries_after(conn: &mut DbConn, after: i64, upto: Option<i64>, limit: i64) -> Result<Vec<ChainRow>, RepoError> {
    let mut query = audit_log::table.filter(audit_log::id.gt(after)).into_boxed();
    if let Some(upto) = upto {
        query = query.filter(audit_log::id.le(upto));
    }
    Ok(query.select(ChainRow::as_select()).order(audit_log::id.asc()).limit(limit).load(conn)?)
}

/// Hashes the entries written before the chains existed (up to the id the migration recorded)
/// into their chains, in id order, once: later calls find the log sealed and do nothing. Runs
/// with the migrations (see [`crate::db::run_migrations`]), so before any server of this version
/// appends. Returns how many entries it hashed.
pub fn seal_legacy(conn: &mut DbConn) -> Result<u64, RepoError> {
    write_transaction(conn, |conn| {
        let _: i32 = lock_row!(&mut *conn, audit_chain_start::table.find(1).select(audit_chain_start::id))?;
        let (legacy_until, sealed): (i64, bool) = audit_chain_start::table
            .find(1)
            .select((audit_chain_start::legacy_until, audit_chain_start::sealed))
            .first(conn)?;
        if sealed {
            return Ok(0);
        }
        let mut heads: BTreeMap<String, Head> = BTreeMap::new();
        let mut after = 0;
        let mut hashed = 0;
        loop {
            let page = entries_after(conn, after, Some(legacy_until), WALK_PAGE)?;
            let Some(last) = page.last() else { break };
            after = last.id;
            for row in &page {
                let chain = chain_of(row.municipality.as_deref()).to_owned();
                let head = match heads.get_mut(&chain) {
                    Some(head) => head,
                    None => {
                        let head = lock_head(conn, &chain)?;
                        heads.entry(chain.clone()).or_insert(head)
                    }
                };
                let hash = entry_hash(&head.last_hash, &row.fields());
                diesel::update(audit_log::table.find(row.id))
                    .set((audit_log::prev_hash.eq(Some(&head.last_hash)), audit_log::entry_hash.eq(Some(&hash))))
                    .execute(conn)?;
                *head = Head { last_id: row.id, last_hash: hash, length: head.length + 1 };
                hashed += 1;
            }
        }
        for (chain, head) in &heads {
            save_head(conn, chain, head)?;
        }
        diesel::update(audit_chain_start::table.find(1)).set(audit_chain_start::sealed.eq(true)).execute(conn)?;
        Ok(hashed)
    })
}

/// Why a chain does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The entry has no hash: it was inserted directly in the database (or the legacy entries
    /// were never sealed).
    Unhashed,
    /// The entry does not follow the one before it in the chain: an entry before it was deleted
    /// or changed along with its hash, or this one was inserted.
    NotLinked,
    /// The entry's fields no longer give its hash: it was changed after it was written.
    Altered,
    /// The chain ends elsewhere than its head records: entries were deleted from its end, or
    /// appended without moving the head.
    EndMoved {
        /// The last entry the head records.
        head_last_id: i64,
        /// How many entries the head records.
        head_length: i64,
        /// The last entry found.
        found_last_id: i64,
        /// How many entries were found.
        found_length: i64,
    },
    /// The chain has entries but no head: they were inserted or moved (their municipality
    /// changed) directly in the database.
    NoHead,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Unhashed => f.write_str("the entry carries no hash (inserted outside Småjob, or never sealed)"),
            Break::NotLinked => f.write_str(
                "the entry does not follow the one before it (an earlier entry was deleted or rewritten, or this one inserted)",
            ),
            Break::Altered => f.write_str("the entry's fields do not match its hash (changed after it was written)"),
            Break::EndMoved { head_last_id, head_length, found_last_id, found_length } => write!(
                f,
                "the chain's head records {head_length} entries ending at id {head_last_id}, but {found_length} were found ending at id {found_last_id} (entries deleted from the end, or appended outside Småjob)"
            ),
            Break::NoHead => f.write_str("the chain has entries but no head (entries inserted or moved outside Småjob)"),
        }
    }
}

/// The first broken link of a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// The entry where the chain breaks; `None` when the break is at its end (see [`Break::EndMoved`]).
    pub entry_id: Option<i64>,
    /// What is wrong there.
    pub problem: Break,
}

/// What [`verify`] found for one chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// The chain: a municipality code, or [`SCHEME_CHAIN`].
    pub chain: String,
    /// How many entries were checked before the first break (all of them when intact).
    pub verified: i64,
    /// The hash of the last entry verified: keep it outside the database to detect a rewrite.
    pub last_hash: String,
    /// The first broken link, if any.
    pub broken: Option<BrokenLink>,
}

/// What [`verify`] found, chain by chain in the order of their names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// One report per chain (those with entries, a head, or both).
    pub chains: Vec<ChainReport>,
}

impl VerifyReport {
    /// True when no chain is broken.
    pub fn is_intact(&self) -> bool {
        self.chains.iter().all(|c| c.broken.is_none())
    }

    /// The chains that are broken, with their first broken link.
    pub fn broken(&self) -> impl Iterator<Item = (&str, &BrokenLink)> {
        self.chains.iter().filter_map(|c| c.broken.as_ref().map(|b| (c.chain.as_str(), b)))
    }
}

/// Walks every chain from its start, in one snapshot of the database, and reports for each the
/// first broken link. Concurrent appends do not disturb it: it sees the log and the heads as of
/// its start.
pub fn verify(conn: &mut DbConn) -> Result<VerifyReport, RepoError> {
    crate::db::read_transaction(conn, |conn| {
        if let DbConn::Pg(_) = conn {
            // One snapshot for the whole walk: the heads read last must match the entries read
            // page by page before them.
            diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(conn)?;
        }
        walk(conn)
    })
}

fn walk(conn: &mut DbConn) -> Result<VerifyReport, RepoError> {
    struct Walked {
        report: ChainReport,
        last_id: i64,
    }
    let mut chains: BTreeMap<String, Walked> = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = entries_after(conn, after, None, WALK_PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in page {
            let chain = chain_of(row.municipality.as_deref()).to_owned();
            let walked = chains.entry(chain.clone()).or_insert_with(|| Walked {
                report: ChainReport { chain, verified: 0, last_hash: GENESIS.to_owned(), broken: None },
                last_id: 0,
            });
            if walked.report.broken.is_some() {
                continue;
            }
            let problem = match (&row.prev_hash, &row.entry_hash) {
                (Some(prev), Some(hash)) => {
                    if *prev != walked.report.last_hash {
                        Some(Break::NotLinked)
                    } else if entry_hash(prev, &row.fields()) != *hash {
                        Some(Break::Altered)
                    } else {
                        None
                    }
                }
                _ => Some(Break::Unhashed),
            };
            match problem {
                Some(problem) => walked.report.broken = Some(BrokenLink { entry_id: Some(row.id), problem }),
                None => {
                    walked.report.verified += 1;
                    walked.report.last_hash = row.entry_hash.unwrap_or_default();
                    walked.last_id = row.id;
                }
            }
        }
    }
    let heads: Vec<(String, Head)> =
        audit_chains::table.select((audit_chains::chain, Head::as_select())).order(audit_chains::chain).load(conn)?;
    let mut heads: BTreeMap<String, Head> = heads.into_iter().collect();
    let mut reports = Vec::new();
    for (chain, walked) in chains {
        let mut report = walked.report;
        match heads.remove(&chain) {
            None if report.broken.is_none() => {
                report.broken = Some(BrokenLink { entry_id: None, problem: Break::NoHead });
            }
            Some(head)
                if report.broken.is_none()
                    && (head.last_hash != report.last_hash || head.length != report.verified) =>
            {
                report.broken = Some(BrokenLink {
                    entry_id: None,
                    problem: Break::EndMoved {
                        head_last_id: head.last_id,
                        head_length: head.length,
                        found_last_id: walked.last_id,
                        found_length: report.verified,
                    },
                });
            }
            _ => {}
        }
        reports.push(report);
    }
    // Heads whose chain has no entry left: every entry of it was deleted.
    for (chain, head) in heads {
        let broken = (head.length != 0).then_some(BrokenLink {
            entry_id: None,
            problem: Break::EndMoved {
                head_last_id: head.last_id,
                head_length: head.length,
                found_last_id: 0,
                found_length: 0,
            },
        });
        reports.push(ChainReport { chain, verified: 0, last_hash: GENESIS.to_owned(), broken });
    }
    reports.sort_by(|a, b| a.chain.cmp(&b.chain));
    Ok(VerifyReport { chains: reports })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(details: Option<&'a str>) -> EntryFields<'a> {
        EntryFields {
            at: chrono::NaiveDate::from_ymd_opt(2026, 12, 4)
                .and_then(|d| d.and_hms_micro_opt(1, 2, 3, 456_789))
                .expect("a real time"),
            actor: "coord",
            actor_role: "coordinator",
            action: "citizen.read",
            target_type: "citizen",
            target_id: "c1",
            municipality: Some("730"),
            details,
        }
    }

    #[test]
    fn an_entry_hash_depends_on_the_previous_hash_and_every_field() {
        let base = entry_hash(GENESIS, &fields(None));
        assert_eq!(base.len(), 64);
        assert_eq!(base, entry_hash(GENESIS, &fields(None)), "the hash is deterministic");
        assert_ne!(base, entry_hash(&base, &fields(None)), "the previous hash counts");
        assert_ne!(base, entry_hash(GENESIS, &fields(Some(""))), "an empty detail differs from none");
        let moved = EntryFields { municipality: None, ..fields(None) };
        assert_ne!(base, entry_hash(GENESIS, &moved));
        // Length prefixes: moving a character from one field to the next changes the hash.
        let shifted = EntryFields { actor: "coor", actor_role: "dcoordinator", ..fields(None) };
        assert_ne!(base, entry_hash(GENESIS, &shifted));
    }
}
