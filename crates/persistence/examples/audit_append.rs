//! The audit append rate with the hash chain against the same run's rate without it.
//!
//! `SMAAJOB_TEST_POSTGRES_URL=postgres://… cargo run --release -p smaajob-persistence --example audit_append [ENTRIES]`
//!
//! On a fresh SQLite file (and on a fresh PostgreSQL database when `SMAAJOB_TEST_POSTGRES_URL` names a server), appends
//! ENTRIES entries (default 20,000) in write transactions of 1 entry (a change's own entry) and of
//! 64 (the audit writer's group commit under load): once as the log appended before the chain, a
//! plain INSERT per entry, and once through `audit::append_all`, which locks the chain's head,
//! hashes each entry and moves the head. The two alternate (plain, chained, plain, chained) so a
//! machine's changing load falls on both; each prints its rate.

#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use std::time::Instant;

use diesel::prelude::*;
use smaajob_persistence::repo::audit::{self, NewAuditEntry};
use smaajob_persistence::schema::audit_log;
use smaajob_persistence::testing::TestDatabase;
use smaajob_persistence::{DbConn, RepoError, connect, run_migrations, write_transaction};

fn entry(i: usize) -> NewAuditEntry {
    NewAuditEntry {
        at: smaajob_persistence::repo::now(),
        actor: "coord-730".to_owned(),
        actor_role: "coordinator".to_owned(),
        action: "citizen.read".to_owned(),
        target_type: "citizen".to_owned(),
        target_id: format!("c{i}"),
        municipality: Some(if i.is_multiple_of(4) { "751" } else { "730" }.to_owned()),
        details: Some(r#"{"fields":["name","phone"]}"#.to_owned()),
    }
}

/// The append of the log before the chain: one INSERT per entry.
fn plain(conn: &mut DbConn, entries: &[NewAuditEntry]) -> Result<(), RepoError> {
    for e in entries {
        diesel::insert_into(audit_log::table)
            .values((
                audit_log::at.eq(e.at),
                audit_log::actor.eq(&e.actor),
                audit_log::actor_role.eq(&e.actor_role),
                audit_log::action.eq(&e.action),
                audit_log::target_type.eq(&e.target_type),
                audit_log::target_id.eq(&e.target_id),
                audit_log::municipality.eq(&e.municipality),
                audit_log::details.eq(&e.details),
            ))
            .execute(conn)?;
    }
    Ok(())
}

fn rate(conn: &mut DbConn, total: usize, batch: usize, chained: bool) -> f64 {
    let batches: Vec<Vec<NewAuditEntry>> =
        (0..total / batch).map(|b| (0..batch).map(|i| entry(b * batch + i)).collect()).collect();
    let started = Instant::now();
    for entries in &batches {
        write_transaction(conn, |c| if chained { audit::append_all(c, entries) } else { plain(c, entries) }).unwrap();
    }
    (batches.len() * batch) as f64 / started.elapsed().as_secs_f64()
}

fn run(name: &str, db: &TestDatabase, total: usize) {
    let pool = connect(db.url(), 1).unwrap();
    let mut conn = pool.get().unwrap();
    run_migrations(&mut conn).unwrap();
    for batch in [1, 64] {
        // A warm-up so neither mode pays for the first pages of the table.
        rate(&mut conn, 64.min(total), batch, true);
        let mut figures = Vec::new();
        for chained in [false, true, false, true] {
            figures.push(rate(&mut conn, total, batch, chained));
        }
        let (plain_rate, chained_rate) = ((figures[0] + figures[2]) / 2.0, (figures[1] + figures[3]) / 2.0);
        println!(
            "RESULT {name} batch={batch:>2} entries/s: plain {:.0} and {:.0}, chained {:.0} and {:.0}; chained/plain {:.2}",
            figures[0],
            figures[2],
            figures[1],
            figures[3],
            chained_rate / plain_rate
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map_or(20_000, |n| n.parse().expect("ENTRIES is a number"));
    run("sqlite", &TestDatabase::sqlite(), total);
    if let Some(db) = TestDatabase::postgres("audit_append") {
        run("postgres", &db, total);
    }
}
