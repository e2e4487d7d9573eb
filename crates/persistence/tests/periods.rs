//! Periods of responsibility against real databases (SQLite, and PostgreSQL when configured):
//! the migration's backfill of existing citizens, one open period per citizen, and ending one.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use common::migrated;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use smaajob_domain::WeeklyAvailability;
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::citizens::{self, CitizenRow};
use smaajob_persistence::repo::periods::{self, PeriodRow};
use smaajob_persistence::repo::{self};
use smaajob_persistence::schema;
use smaajob_persistence::testing::TestDatabase;
use smaajob_persistence::types::Json;
use smaajob_persistence::{RepoError, run_migrations};

fn citizen(cpr: &str, municipality: &str, created_days_ago: i64) -> CitizenRow {
    let key = DataKey::from_bytes(&[7; 32]);
    let id = repo::new_id();
    let t = repo::now() - chrono::Duration::days(created_days_ago);
    CitizenRow {
        cpr_hash: key.lookup_hash(cpr),
        cpr_ciphertext: key.encrypt(&id, cpr),
        id,
        birth_date: chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
        name: "Jens Hansen".to_owned(),
        phone: None,
        municipality: municipality.to_owned(),
        skills: Json(Vec::new()),
        availability: Json(WeeklyAvailability::default()),
        home_lat: None,
        home_lon: None,
        postcode: None,
        transport_modes: Json(Vec::new()),
        created_at: t,
        updated_at: t,
    }
}

fn open_period(row: &CitizenRow) -> PeriodRow {
    PeriodRow {
        citizen_id: row.id.clone(),
        municipality: row.municipality.clone(),
        started_at: row.created_at,
        ended_at: None,
        reason: None,
        record_at_end: None,
    }
}

on_both_backends! {
    fn the_migration_gives_every_citizen_enrolled_before_it_a_period_from_their_enrolment(db) {
        let pool = migrated(db);
        let mut c = pool.get().unwrap();
        // Back to the state before the migration, with citizens enrolled then.
        c.batch_execute(
            "DROP TABLE municipality_periods; \
             DELETE FROM __diesel_schema_migrations WHERE version LIKE '%000007';",
        )
        .unwrap();
        let earlier = [citizen("0101901234", "730", 400), citizen("0202902345", "751", 3)];
        for row in &earlier {
            diesel::insert_into(schema::citizens::table).values(row.clone()).execute(&mut *c).unwrap();
        }
        assert_eq!(run_migrations(&mut c).unwrap(), 1, "the periods migration runs again");
        for row in &earlier {
            assert_eq!(periods::of_citizen(&mut c, &row.id).unwrap(), [open_period(row)]);
        }
    }

    fn a_citizen_has_one_open_period_and_ending_it_keeps_the_record_as_it_stood(db) {
        let pool = migrated(db);
        let mut c = pool.get().unwrap();
        let row = citizen("0101901234", "730", 10);
        citizens::insert(&mut c, &row).unwrap();
        assert_eq!(periods::of_citizen(&mut c, &row.id).unwrap(), [open_period(&row)]);
        assert_eq!(periods::latest_ended(&mut c, &row.id, "730").unwrap(), None);

        // A second open period is refused by the database.
        let at = repo::now();
        let next = PeriodRow { municipality: "751".into(), started_at: at, reason: Some("Flyttet".into()), ..open_period(&row) };
        assert!(matches!(periods::open(&mut c, &next), Err(RepoError::Conflict { .. })));

        periods::close(&mut c, &row.id, at, r#"{"kept":true}"#).unwrap();
        periods::open(&mut c, &next).unwrap();
        let ended = periods::latest_ended(&mut c, &row.id, "730").unwrap().expect("Randers's period ended");
        assert_eq!((ended.ended_at, ended.record_at_end.as_deref()), (Some(at), Some(r#"{"kept":true}"#)));
        assert_eq!(periods::latest_ended(&mut c, &row.id, "751").unwrap(), None, "Aarhus's period is open");
        assert_eq!(periods::of_citizen(&mut c, &row.id).unwrap(), [ended, next]);

        // Ending a citizen's period when none is open is not silently nothing.
        let stranger = citizen("0303903456", "730", 1);
        diesel::insert_into(schema::citizens::table).values(stranger.clone()).execute(&mut *c).unwrap();
        assert!(matches!(periods::close(&mut c, &stranger.id, at, "{}"), Err(RepoError::NotFound)));
    }
}
