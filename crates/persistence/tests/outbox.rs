//! The outbox against real databases (SQLite, and PostgreSQL when configured): claiming due
//! messages for a lease, two claimers never holding the same message, a claim that runs out
//! (a dispatcher killed mid-send) freeing the message, and an attempt recorded once.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use chrono::Duration;
use common::migrated;
use smaajob_domain::notification::{Channel, EventType, MessageId, MessageState, RecipientKind};
use smaajob_persistence::repo::outbox::{self, AttemptRow, Finish, OutboxRow};
use smaajob_persistence::repo::{new_id, now};
use smaajob_persistence::testing::TestDatabase;
use smaajob_persistence::types::new_record_id;
use smaajob_persistence::{BackendKind, RepoError, write_transaction};

fn message(due: chrono::NaiveDateTime) -> OutboxRow {
    OutboxRow {
        id: new_record_id(),
        event_id: new_id(),
        event_type: EventType::PayoutRegistered,
        event_key: None,
        recipient_kind: RecipientKind::Citizen,
        recipient: new_id(),
        channel: Channel::Sms,
        subscription_id: None,
        municipality: Some("730".into()),
        text: "Der er registreret en udbetaling.".into(),
        payload: "{}".into(),
        state: MessageState::Pending,
        attempts: 0,
        failures: 0,
        next_attempt_at: due,
        claimed_until: None,
        created_at: due,
        delivered_at: None,
        last_error: None,
    }
}

fn attempt(m: &OutboxRow, ok: bool) -> AttemptRow {
    AttemptRow {
        message_id: m.id.clone(),
        attempt: m.attempts + 1,
        at: now(),
        succeeded: ok,
        error: (!ok).then(|| "the receiver answered 500".to_owned()),
        duration_ms: 3,
    }
}

fn ids(rows: &[OutboxRow]) -> Vec<MessageId> {
    let mut ids: Vec<MessageId> = rows.iter().map(|m| m.id.clone()).collect();
    ids.sort();
    ids
}

on_both_backends! {
    fn a_claimed_message_is_not_claimed_again_until_its_lease_runs_out(db) {
        let pool = migrated(db);
        let mut conn = pool.get().unwrap();
        let t = now();
        let due = message(t - Duration::seconds(1));
        let later = message(t + Duration::hours(1));
        outbox::insert(&mut conn, &[due.clone(), later]).unwrap();
        let lease = t + Duration::seconds(30);
        let first = write_transaction(&mut conn, |c| outbox::claim_due(c, t, lease, 10)).unwrap();
        assert_eq!(ids(&first), vec![due.id.clone()], "only what is due");
        assert_eq!(first[0].claimed_until, Some(lease));
        let again = write_transaction(&mut conn, |c| outbox::claim_due(c, t, lease, 10)).unwrap();
        assert!(again.is_empty(), "held by the first claim");
        // The claimer was killed: after the lease the message is claimed (and sent) again.
        let after = lease + Duration::seconds(1);
        let retaken = write_transaction(&mut conn, |c| outbox::claim_due(c, after, after + Duration::seconds(30), 10)).unwrap();
        assert_eq!(ids(&retaken), vec![due.id.clone()]);
    }

    fn an_attempt_is_recorded_once_even_when_two_dispatchers_finish_the_same_message(db) {
        let pool = migrated(db);
        let mut conn = pool.get().unwrap();
        let t = now();
        let m = message(t);
        outbox::insert(&mut conn, std::slice::from_ref(&m)).unwrap();
        let claimed = write_transaction(&mut conn, |c| outbox::claim_due(c, t, t + Duration::seconds(30), 1)).unwrap();
        let retry_at = t + Duration::seconds(10);
        let first = write_transaction(&mut conn, |c| outbox::finish(c, &claimed[0], &attempt(&claimed[0], false), &Finish::RetryAt(retry_at))).unwrap();
        assert!(first);
        // A second dispatcher whose claim had run out finishes the same attempt: it is not recorded.
        let second = write_transaction(&mut conn, |c| outbox::finish(c, &claimed[0], &attempt(&claimed[0], true), &Finish::Delivered)).unwrap();
        assert!(!second);
        let stored = outbox::find(&mut conn, &m.id).unwrap();
        assert_eq!((stored.state, stored.attempts, stored.failures), (MessageState::Pending, 1, 1));
        assert_eq!((stored.next_attempt_at, stored.claimed_until), (retry_at, None));
        assert_eq!(outbox::attempts_of(&mut conn, &m.id).unwrap().len(), 1);
    }
}

/// PostgreSQL: two dispatchers claiming at the same moment split the due messages between them
/// (`FOR UPDATE SKIP LOCKED`); neither waits for the other and none is claimed twice.
#[test]
fn two_claimers_on_postgresql_never_hold_the_same_message() {
    let Some(db) = TestDatabase::postgres("two_claimers_skip_locked") else { return };
    assert_eq!(db.url().kind(), BackendKind::Postgres);
    let pool = migrated(&db);
    let t = now();
    let rows: Vec<OutboxRow> = (0..10).map(|i| message(t - Duration::seconds(10 - i))).collect();
    outbox::insert(&mut pool.get().unwrap(), &rows).unwrap();
    let (mut a, mut b) = (pool.get().unwrap(), pool.get().unwrap());
    let lease = t + Duration::seconds(30);
    // The first claim's transaction stays open (its rows locked) while the second claims.
    let (first, second) = write_transaction(&mut a, |ca| {
        let first = outbox::claim_due(ca, t, lease, 4)?;
        let second = write_transaction(&mut b, |cb| outbox::claim_due(cb, t, lease, 10))?;
        Ok::<_, RepoError>((first, second))
    })
    .unwrap();
    assert_eq!((first.len(), second.len()), (4, 6));
    let mut all = ids(&first);
    all.extend(ids(&second));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 10, "every message claimed once");
}
