//! The tamper-evident audit log against real databases: an untouched log verifies, and editing,
//! deleting or inserting any entry directly in the database (SQL, bypassing Småjob) is found, on
//! SQLite (`sqlite::NAME`) and PostgreSQL (`postgres::NAME`, skipped with a notice unless
//! `SMAAJOB_TEST_POSTGRES_URL` names a server).

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::migrated;
use diesel::prelude::*;
use smaajob_persistence::repo::audit::{self, NewAuditEntry};
use smaajob_persistence::repo::audit_chain::{self, Break, BrokenLink, SCHEME_CHAIN, VerifyReport};
use smaajob_persistence::testing::TestDatabase;
use smaajob_persistence::{DbConn, DbPool, PooledConn, RepoError, connect, write_transaction};

fn conn(pool: &DbPool) -> PooledConn {
    pool.get().expect("a pooled connection")
}

fn entry(municipality: Option<&str>, action: &str, target: &str) -> NewAuditEntry {
    NewAuditEntry {
        // Nanoseconds on purpose: the stored (truncated) time is what is hashed.
        at: smaajob_persistence::repo::now() + chrono::Duration::nanoseconds(123),
        actor: "coord-730".to_owned(),
        actor_role: "coordinator".to_owned(),
        action: action.to_owned(),
        target_type: "citizen".to_owned(),
        target_id: target.to_owned(),
        municipality: municipality.map(str::to_owned),
        details: Some(r#"{"fields":["name"]}"#.to_owned()),
    }
}

/// Appends, each call in a write transaction of its own: 730 gets entries 1–3 and 6, 751 gets 4,
/// the scheme chain 5 (ids in an empty log).
fn seed(c: &mut DbConn) {
    let batches = [
        vec![entry(Some("730"), "citizen.read", "a"), entry(Some("730"), "citizen.read", "b")],
        vec![entry(Some("730"), "citizen.created", "c")],
        vec![entry(Some("751"), "citizen.read", "d"), entry(None, "cap.set", "2027")],
        vec![entry(Some("730"), "citizen.updated", "a")],
    ];
    for batch in batches {
        write_transaction(c, |c| audit::append(c, &batch)).expect("append");
    }
}

fn sql(c: &mut DbConn, statement: &str) {
    diesel::sql_query(statement).execute(c).unwrap_or_else(|e| panic!("{statement}: {e}"));
}

fn verify(c: &mut DbConn) -> VerifyReport {
    audit_chain::verify(c).expect("verify runs")
}

/// The first broken link of `chain`, which must exist in the report.
fn broken(report: &VerifyReport, chain: &str) -> Option<BrokenLink> {
    report.chains.iter().find(|r| r.chain == chain).unwrap_or_else(|| panic!("no chain {chain}")).broken.clone()
}

fn link(entry_id: i64, problem: Break) -> Option<BrokenLink> {
    Some(BrokenLink { entry_id: Some(entry_id), problem })
}

/// The id the database gave the `n`th entry (1-based) of the seeded log.
fn id_of(c: &mut DbConn, n: usize) -> i64 {
    use smaajob_persistence::schema::audit_log;
    let ids: Vec<i64> = audit_log::table.select(audit_log::id).order(audit_log::id).load(c).expect("ids");
    ids[n - 1]
}

on_both_backends! {
    fn an_untouched_log_verifies_chain_by_chain(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        assert!(verify(&mut c).is_intact(), "an empty log verifies");
        seed(&mut c);
        let report = verify(&mut c);
        assert!(report.is_intact(), "{report:?}");
        let lengths: Vec<(&str, i64)> = report.chains.iter().map(|r| (r.chain.as_str(), r.verified)).collect();
        assert_eq!(lengths, [("730", 4), ("751", 1), (SCHEME_CHAIN, 1)]);
        assert!(report.chains.iter().all(|r| r.last_hash.len() == 64 && r.last_hash != audit_chain::GENESIS));
    }

    fn editing_an_entry_is_detected_at_that_entry(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        seed(&mut c);
        let second = id_of(&mut c, 2);
        sql(&mut c, &format!("UPDATE audit_log SET target_id = 'someone-else' WHERE id = {second}"));
        let report = verify(&mut c);
        assert_eq!(broken(&report, "730"), link(second, Break::Altered));
        assert_eq!(broken(&report, "751"), None, "the other chains still verify");
        assert_eq!(report.broken().count(), 1);
    }

    fn editing_an_entry_together_with_its_hash_is_detected_at_the_next_entry(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        seed(&mut c);
        let (first, second) = (id_of(&mut c, 1), id_of(&mut c, 2));
        sql(&mut c, &format!("UPDATE audit_log SET entry_hash = '{}' WHERE id = {first}", "f".repeat(64)));
        assert_eq!(broken(&verify(&mut c), "730"), link(first, Break::Altered));
        // Rewritten consistently (fields and hash recomputed): the next entry no longer follows it.
        let fields = audit_chain::EntryFields {
            at: chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap(),
            actor: "mallory",
            actor_role: "coordinator",
            action: "citizen.read",
            target_type: "citizen",
            target_id: "a",
            municipality: Some("730"),
            details: None,
        };
        let forged = audit_chain::entry_hash(audit_chain::GENESIS, &fields);
        sql(
            &mut c,
            &format!(
                "UPDATE audit_log SET at = '2020-01-01 00:00:00', actor = 'mallory', details = NULL, entry_hash = '{forged}' WHERE id = {first}"
            ),
        );
        assert_eq!(broken(&verify(&mut c), "730"), link(second, Break::NotLinked));
    }

    fn deleting_an_entry_inside_a_chain_is_detected_at_the_entry_after_it(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        seed(&mut c);
        let (second, third) = (id_of(&mut c, 2), id_of(&mut c, 3));
        sql(&mut c, &format!("DELETE FROM audit_log WHERE id = {second}"));
        assert_eq!(broken(&verify(&mut c), "730"), link(third, Break::NotLinked));
        let first = id_of(&mut c, 1);
        sql(&mut c, &format!("DELETE FROM audit_log WHERE id = {first}"));
        assert_eq!(broken(&verify(&mut c), "730"), link(third, Break::NotLinked), "nor can the chain's start be cut off");
    }

    fn deleting_entries_from_the_end_of_a_chain_is_detected_against_its_head(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        seed(&mut c);
        let (third, sixth) = (id_of(&mut c, 3), id_of(&mut c, 6));
        sql(&mut c, &format!("DELETE FROM audit_log WHERE id = {sixth}"));
        let expected = Break::EndMoved { head_last_id: sixth, head_length: 4, found_last_id: third, found_length: 3 };
        assert_eq!(broken(&verify(&mut c), "730"), Some(BrokenLink { entry_id: None, problem: expected }));
        // Every entry of a chain deleted: its head remains and says so.
        sql(&mut c, "DELETE FROM audit_log WHERE municipality = '751'");
        let fourth = match broken(&verify(&mut c), "751") {
            Some(BrokenLink { entry_id: None, problem: Break::EndMoved { head_last_id, head_length: 1, found_length: 0, .. } }) => head_last_id,
            other => panic!("the emptied chain must be broken at its end: {other:?}"),
        };
        assert!(fourth > third);
    }

    fn inserting_an_entry_directly_is_detected_wherever_it_goes(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        seed(&mut c);
        let insert = "INSERT INTO audit_log (at, actor, actor_role, action, target_type, target_id, municipality, details) \
                      VALUES ('2026-12-04 01:00:00', 'mallory', 'coordinator', 'citizen.read', 'citizen', 'x', '730', NULL)";
        sql(&mut c, insert);
        let inserted = id_of(&mut c, 7);
        assert_eq!(broken(&verify(&mut c), "730"), link(inserted, Break::Unhashed));
        sql(&mut c, &format!("DELETE FROM audit_log WHERE id = {inserted}"));
        assert!(verify(&mut c).is_intact(), "removing it again restores the chain");

        // Inserted with a hash that links to the chain's end: the head does not know it.
        let last: String = {
            use smaajob_persistence::schema::audit_chains;
            audit_chains::table.find("730").select(audit_chains::last_hash).first(&mut c).expect("head")
        };
        let fields = audit_chain::EntryFields {
            at: chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap().and_hms_opt(1, 0, 0).unwrap(),
            actor: "mallory",
            actor_role: "coordinator",
            action: "citizen.read",
            target_type: "citizen",
            target_id: "x",
            municipality: Some("730"),
            details: None,
        };
        let forged = audit_chain::entry_hash(&last, &fields);
        sql(&mut c, &format!(
            "INSERT INTO audit_log (at, actor, actor_role, action, target_type, target_id, municipality, details, prev_hash, entry_hash) \
             VALUES ('2026-12-04 01:00:00', 'mallory', 'coordinator', 'citizen.read', 'citizen', 'x', '730', NULL, '{last}', '{forged}')"
        ));
        assert!(matches!(broken(&verify(&mut c), "730"), Some(BrokenLink { entry_id: None, problem: Break::EndMoved { .. } })));

        // Inserted into a municipality that has no chain yet.
        sql(&mut c, &insert.replace("'730'", "'101'"));
        let report = verify(&mut c);
        let into_new = id_of(&mut c, 8);
        assert_eq!(broken(&report, "101"), link(into_new, Break::Unhashed));
    }

    fn moving_an_entry_to_another_municipality_breaks_both_chains(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        seed(&mut c);
        let (third, sixth) = (id_of(&mut c, 3), id_of(&mut c, 6));
        sql(&mut c, &format!("UPDATE audit_log SET municipality = '751' WHERE id = {third}"));
        let report = verify(&mut c);
        assert_eq!(broken(&report, "730"), link(sixth, Break::NotLinked));
        assert_eq!(broken(&report, "751"), link(third, Break::NotLinked), "the moved entry does not start 751's chain");
    }

    fn entries_written_before_the_chain_are_sealed_into_it_once(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        seed(&mut c);
        // The state the migration leaves an existing log in: entries without hashes, no heads,
        // the last existing id recorded, not sealed.
        sql(&mut c, "UPDATE audit_log SET prev_hash = NULL, entry_hash = NULL");
        sql(&mut c, "DELETE FROM audit_chains");
        sql(&mut c, "UPDATE audit_chain_start SET legacy_until = (SELECT MAX(id) FROM audit_log), sealed = FALSE");
        assert!(!verify(&mut c).is_intact(), "unsealed entries are not taken on trust");
        assert_eq!(audit_chain::seal_legacy(&mut c).expect("seal"), 6);
        let report = verify(&mut c);
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(audit_chain::seal_legacy(&mut c).expect("seal again"), 0, "sealing happens once");

        // After the seal, an entry without a hash is a break again, also among the old ids'
        // neighbours, and appending goes on from the sealed chain.
        write_transaction(&mut c, |c| audit::append(c, &[entry(Some("730"), "citizen.read", "z")])).expect("append");
        assert!(verify(&mut c).is_intact());
        let second = id_of(&mut c, 2);
        sql(&mut c, &format!("UPDATE audit_log SET prev_hash = NULL, entry_hash = NULL WHERE id = {second}"));
        assert_eq!(smaajob_persistence::run_migrations(&mut c).expect("migrations"), 0);
        assert_eq!(broken(&verify(&mut c), "730"), link(second, Break::Unhashed), "a later run does not re-seal");
    }

    fn two_servers_appending_to_one_chain_at_once_do_not_fork_it(db) {
        // Two pools on one database stand for two server processes; each has four threads
        // appending in their own write transactions, as the audit writer and the services do.
        let pools = [migrated(db), connect(db.url(), 4).expect("a second pool")];
        let threads: Vec<_> = pools
            .iter()
            .flat_map(|pool| (0..4).map(move |t| (pool.clone(), t)))
            .map(|(pool, t)| {
                std::thread::spawn(move || {
                    let mut c = pool.get().expect("a connection");
                    for i in 0..25u32 {
                        let batch = [
                            entry(Some("730"), "citizen.read", &format!("{t}-{i}")),
                            entry(Some("730"), "citizen.read", &format!("{t}-{i}b")),
                            entry(if i.is_multiple_of(2) { Some("751") } else { None }, "citizen.read", "x"),
                        ];
                        write_transaction(&mut c, |c| audit::append(c, &batch)).map_err(|e: RepoError| e.to_string())?;
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("no panic").expect("every append commits");
        }
        let mut c = conn(&pools[0]);
        let report = verify(&mut c);
        assert!(report.is_intact(), "{report:?}");
        let lengths: Vec<(&str, i64)> = report.chains.iter().map(|r| (r.chain.as_str(), r.verified)).collect();
        assert_eq!(lengths, [("730", 400), ("751", 104), (SCHEME_CHAIN, 96)]);
    }
}
