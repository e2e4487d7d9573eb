//! The repositories against real databases: every test body runs once on SQLite (`sqlite::NAME`)
//! and once on PostgreSQL (`postgres::NAME`, skipped with a notice unless
//! `SMAAJOB_TEST_POSTGRES_URL` names a server).

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use chrono::{Duration, NaiveDate, NaiveDateTime, Timelike};
use common::migrated;
use diesel::prelude::*;
use smaajob_domain::{
    Attestations, CardEventKind, CardId, CardStatus, Money, TransportMode, Verification, WeeklyAvailability,
};
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::audit::{AuditLog, AuditQuery, AuditRow, NewAuditEntry};
use smaajob_persistence::repo::caps::CapRow;
use smaajob_persistence::repo::citizens::{CardFilter, CardSummary, CitizenRow};
use smaajob_persistence::repo::companies::CompanyRow;
use smaajob_persistence::repo::frikort::{CardEventRow, CardRow};
use smaajob_persistence::repo::{self, Page, audit, caps, citizens, companies, frikort};
use smaajob_persistence::testing::TestDatabase;
use smaajob_persistence::types::{Json, new_record_id};
use smaajob_persistence::{
    BackendKind, DbConn, DbPool, PooledConn, RepoError, connect, read_transaction, rolled_back, run_migrations,
    write_transaction,
};

// ---------------------------------------------------------------------------------------------
// Helpers and fixtures
// ---------------------------------------------------------------------------------------------

fn conn(pool: &DbPool) -> PooledConn {
    pool.get().expect("a pooled connection")
}

fn key() -> DataKey {
    DataKey::from_bytes(&[7; 32])
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
}

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32, micro: u32) -> NaiveDateTime {
    date(y, m, d).and_hms_micro_opt(h, min, s, micro).expect("a real time")
}

fn migration_dirs(backend: &str) -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(backend);
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("read {}: {e}", root.display()))
        .map(|e| e.expect("a directory entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn backend_dir(kind: BackendKind) -> &'static str {
    match kind {
        BackendKind::Sqlite => "sqlite",
        BackendKind::Postgres => "postgres",
    }
}

fn citizen(key: &DataKey, cpr: &str, name: &str, municipality: &str) -> CitizenRow {
    let id = repo::new_id();
    let t = repo::now();
    CitizenRow {
        cpr_hash: key.lookup_hash(cpr),
        cpr_ciphertext: key.encrypt(&id, cpr),
        id,
        birth_date: date(1990, 1, 1),
        name: name.to_owned(),
        phone: None,
        municipality: municipality.to_owned(),
        skills: Json(vec!["gardening".to_owned()]),
        availability: Json(WeeklyAvailability::default()),
        home_lat: None,
        home_lon: None,
        postcode: None,
        transport_modes: Json(vec![TransportMode::Bicycle]),
        created_at: t,
        updated_at: t,
        max_travel_minutes: 45,
    }
}

fn card(citizen_id: &str, number: &str, status: &str) -> CardRow {
    let t = repo::now();
    CardRow {
        id: new_record_id(),
        citizen_id: citizen_id.to_owned(),
        number: number.to_owned(),
        status: CardStatus::parse(status).expect("a card status"),
        valid_from: date(2026, 1, 1),
        issued_on: date(2026, 1, 1),
        last_control_on: None,
        status_changed_at: t,
        created_at: t,
        updated_at: t,
    }
}

fn company(cvr: &str, name: &str, verification: &str) -> CompanyRow {
    let t = repo::now();
    CompanyRow {
        id: new_record_id(),
        cvr: cvr.to_owned(),
        name: name.to_owned(),
        address: Some("Torvet 1".to_owned()),
        postcode: Some("8900".to_owned()),
        lat: Some(56.460_6),
        lon: Some(10.036_5),
        contact_name: "Karen Bager".to_owned(),
        contact_phone: Some("+4512345678".to_owned()),
        contact_email: None,
        verification: Verification::parse(verification).expect("a verification"),
        verification_reason: None,
        municipality: Some("730".to_owned()),
        created_at: t,
        updated_at: t,
    }
}

fn event(card_id: &CardId, kind: &str, effective_at: NaiveDateTime, recorded_at: NaiveDateTime) -> CardEventRow {
    CardEventRow {
        id: repo::new_id(),
        card_id: card_id.clone(),
        kind: CardEventKind::parse(kind).expect("a card event kind"),
        effective_at,
        corrected_from: None,
        reason: None,
        attestations: None,
        actor: "coord-730".to_owned(),
        municipality: "730".to_owned(),
        recorded_at,
    }
}

fn entry(municipality: Option<&str>, actor: &str, action: &str, target: &str, when: NaiveDateTime) -> NewAuditEntry {
    NewAuditEntry {
        at: when,
        actor: actor.to_owned(),
        actor_role: "coordinator".to_owned(),
        action: action.to_owned(),
        target_type: "citizen".to_owned(),
        target_id: target.to_owned(),
        municipality: municipality.map(str::to_owned),
        details: Some(r#"{"n":1}"#.to_owned()),
    }
}

fn page(limit: i64, offset: i64) -> Page {
    Page { limit, offset }
}

fn names(rows: &[(CitizenRow, Option<CardSummary>)]) -> Vec<&str> {
    rows.iter().map(|(c, _)| c.name.as_str()).collect()
}

/// `(action, target_id, actor)` of each row, for compact comparisons.
fn triples(rows: &[AuditRow]) -> Vec<(String, String, String)> {
    rows.iter().map(|r| (r.action.clone(), r.target_id.clone(), r.actor.clone())).collect()
}

fn triple(action: &str, target: &str, actor: &str) -> (String, String, String) {
    (action.to_owned(), target.to_owned(), actor.to_owned())
}

// ---------------------------------------------------------------------------------------------
// Both backends
// ---------------------------------------------------------------------------------------------

on_both_backends! {
    fn migrations_apply_to_a_fresh_database_and_a_second_run_applies_none(db) {
        let pool = connect(db.url(), 4).expect("connect");
        let mut first = conn(&pool);
        let expected = migration_dirs(backend_dir(first.kind())).len();
        assert!(expected > 0, "there are migrations to apply");
        assert_eq!(run_migrations(&mut first).expect("first run"), expected);
        assert_eq!(run_migrations(&mut first).expect("second run"), 0, "a second run applies nothing");
        let mut other = conn(&pool);
        assert_eq!(run_migrations(&mut other).expect("another connection"), 0);
        drop((first, other));
        // A restarted process (a new pool) finds nothing to do either, and the data survives.
        let again = connect(db.url(), 1).expect("reconnect");
        let mut c = conn(&again);
        assert_eq!(run_migrations(&mut c).expect("after restart"), 0);
        assert_eq!(caps::list(&mut c).expect("caps").len(), 7, "the seed ran exactly once");
    }

    fn the_statutory_caps_2019_to_2025_are_seeded_in_exact_ore(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let rows = caps::list(&mut c).expect("caps");
        let got: Vec<(i32, i64)> = rows.iter().map(|r| (r.year, r.amount.ore())).collect();
        assert_eq!(
            got,
            [
                (2019, 2_000_000),
                (2020, 2_000_000),
                (2021, 2_000_000),
                (2022, 2_000_000),
                (2023, 4_000_000),
                (2024, 4_128_000),
                (2025, 4_276_600),
            ]
        );
        assert!(rows.iter().all(|r| r.set_by == "law"), "{rows:?}");
        let y2025 = caps::find(&mut c, 2025).expect("query").expect("2025 is seeded");
        assert_eq!(
            y2025,
            CapRow {
                year: 2025,
                amount: Money::from_ore(4_276_600),
                regulation_percent: Some("3.6".into()),
                set_by: "law".into(),
                set_at: at(2025, 1, 1, 0, 0, 0, 0),
                reason: None,
            }
        );
        assert_eq!(caps::find(&mut c, 2024).expect("query").expect("2024").regulation_percent, None);
        assert_eq!(caps::find(&mut c, 2026).expect("query"), None, "later years are not known in advance");
        assert_eq!(caps::find(&mut c, 2018).expect("query"), None);
    }

    fn setting_a_cap_replaces_a_set_year_and_inserts_an_unset_one(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let replaced = CapRow {
            year: 2025,
            amount: Money::from_ore(4_300_000),
            regulation_percent: None,
            set_by: "operator".into(),
            set_at: repo::now(),
            reason: Some("Finanslov 2025, rettet".into()),
        };
        write_transaction(&mut c, |c| caps::set(c, &replaced)).expect("replace 2025");
        assert_eq!(caps::find(&mut c, 2025).expect("query"), Some(replaced.clone()));
        assert_eq!(caps::list(&mut c).expect("list").len(), 7, "replacing adds no row");

        let inserted = CapRow {
            year: 2026,
            amount: Money::from_ore(4_400_600),
            regulation_percent: Some("2.9".into()),
            set_by: "operator".into(),
            set_at: repo::now(),
            reason: Some("Satsregulering 2026".into()),
        };
        write_transaction(&mut c, |c| caps::set(c, &inserted)).expect("insert 2026");
        let rows = caps::list(&mut c).expect("list");
        assert_eq!(rows.len(), 8);
        assert_eq!(rows.last(), Some(&inserted), "the list is in year order");
        assert_eq!(rows[6], replaced);

        // Replacing with `None` clears the regulation percentage and the reason (None is written as NULL).
        let cleared = CapRow { regulation_percent: None, reason: None, amount: Money::from_ore(4_500_000), ..inserted };
        write_transaction(&mut c, |c| caps::set(c, &cleared)).expect("replace 2026");
        assert_eq!(caps::find(&mut c, 2026).expect("query"), Some(cleared));
    }

    fn a_cap_outside_2019_to_2100_or_not_above_zero_is_refused_by_a_check_constraint(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let row = |year, amount_ore| CapRow {
            year,
            amount: Money::from_ore(amount_ore),
            regulation_percent: None,
            set_by: "operator".into(),
            set_at: repo::now(),
            reason: None,
        };
        for (year, amount, column) in
            [(2101, 100, "year"), (2018, 100, "year"), (2030, 0, "amount_ore"), (2030, -100, "amount_ore")]
        {
            let err = write_transaction(&mut c, |c| caps::set(c, &row(year, amount))).expect_err("refused");
            match &err {
                RepoError::Check { constraint } => {
                    assert!(constraint.contains(column), "{year}/{amount}: {constraint}");
                }
                other => panic!("{year}/{amount}: expected a check violation, got {other:?}"),
            }
        }
        assert_eq!(caps::list(&mut c).expect("list").len(), 7);
    }

    fn citizens_are_found_with_their_card_and_listed_by_name_with_card_filters_and_paging(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let k = key();
        let dorte = citizen(&k, "0202921111", "Dorte", "730");
        let anna = citizen(&k, "0101901234", "Anna", "730");
        let carl = citizen(&k, "0303932222", "Carl", "730");
        let bo = citizen(&k, "0404943333", "Bo", "730");
        let erik = citizen(&k, "0505954444", "Erik", "751");
        for row in [&dorte, &anna, &carl, &bo, &erik] {
            citizens::insert(&mut c, row).expect("insert citizen");
        }
        frikort::insert(&mut c, &card(&anna.id, "00001", "active")).expect("card");
        frikort::insert(&mut c, &card(&bo.id, "00002", "deactivated")).expect("card");
        frikort::insert(&mut c, &card(&dorte.id, "00003", "active")).expect("card");

        let (row, summary) = citizens::find(&mut c, &anna.id).expect("Anna");
        assert_eq!(row, anna, "the stored row reads back unchanged");
        assert_eq!(summary, Some(CardSummary { number: "00001".into(), status: CardStatus::Active }));
        assert_eq!(citizens::find(&mut c, &carl.id).expect("Carl"), (carl.clone(), None));
        assert_eq!(
            citizens::find_id_by_cpr_hash(&mut c, &k.lookup_hash("0101901234")).expect("q"),
            Some(anna.id.clone())
        );
        assert_eq!(citizens::find_id_by_cpr_hash(&mut c, &k.lookup_hash("0101901235")).expect("q"), None);

        let list = |c: &mut DbConn, m: &str, f: CardFilter, p: Page| citizens::list(c, m, f, p).expect("list");
        let (rows, total) = list(&mut c, "730", CardFilter::Any, page(50, 0));
        assert_eq!((names(&rows), total), (vec!["Anna", "Bo", "Carl", "Dorte"], 4));
        assert_eq!(rows[1].1, Some(CardSummary { number: "00002".into(), status: CardStatus::Deactivated }));
        let (rows, total) = list(&mut c, "730", CardFilter::Status(CardStatus::Active), page(50, 0));
        assert_eq!((names(&rows), total), (vec!["Anna", "Dorte"], 2));
        let (rows, total) = list(&mut c, "730", CardFilter::Status(CardStatus::Deactivated), page(50, 0));
        assert_eq!((names(&rows), total), (vec!["Bo"], 1));
        let (rows, total) = list(&mut c, "730", CardFilter::NoCard, page(50, 0));
        assert_eq!((names(&rows), total), (vec!["Carl"], 1));
        assert_eq!(rows[0].1, None);
        let (rows, total) = list(&mut c, "751", CardFilter::Any, page(50, 0));
        assert_eq!((names(&rows), total), (vec!["Erik"], 1));
        let (rows, total) = list(&mut c, "101", CardFilter::Any, page(50, 0));
        assert_eq!((names(&rows), total), (vec![], 0));

        // Paging: the total is of every match, not of the page.
        let (rows, total) = list(&mut c, "730", CardFilter::Any, page(3, 0));
        assert_eq!((names(&rows), total), (vec!["Anna", "Bo", "Carl"], 4));
        let (rows, total) = list(&mut c, "730", CardFilter::Any, page(3, 3));
        assert_eq!((names(&rows), total), (vec!["Dorte"], 4));
        let (rows, total) = list(&mut c, "730", CardFilter::Any, page(3, 10));
        assert_eq!((names(&rows), total), (vec![], 4));
        let (rows, total) = list(&mut c, "730", CardFilter::Status(CardStatus::Active), page(1, 1));
        assert_eq!((names(&rows), total), (vec!["Dorte"], 2));

        // Same names are ordered by id, so pages never overlap or skip.
        let twin_a = citizen(&k, "0606965555", "Anna", "730");
        let twin_b = citizen(&k, "0707976666", "Anna", "730");
        citizens::insert(&mut c, &twin_a).expect("twin");
        citizens::insert(&mut c, &twin_b).expect("twin");
        let mut annas = vec![anna.id.clone(), twin_a.id.clone(), twin_b.id.clone()];
        annas.sort();
        let mut paged = Vec::new();
        for offset in 0..3 {
            let (rows, _) = list(&mut c, "730", CardFilter::Any, page(1, offset));
            paged.push(rows[0].0.id.clone());
        }
        assert_eq!(paged, annas);

        let mut changed = carl.clone();
        changed.name = "Carl Christian".into();
        changed.phone = Some("+4587654321".into());
        changed.updated_at = repo::now();
        citizens::update(&mut c, &changed).expect("update");
        assert_eq!(citizens::find(&mut c, &carl.id).expect("Carl").0, changed);
    }

    fn a_second_citizen_with_the_same_cpr_is_a_conflict_on_cpr_hash(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let k = key();
        citizens::insert(&mut c, &citizen(&k, "0101901234", "Jens Hansen", "730")).expect("first");
        let err = citizens::insert(&mut c, &citizen(&k, "0101901234", "Jens Hansen", "751")).expect_err("duplicate");
        assert!(matches!(err, RepoError::Conflict { .. }), "{err:?}");
        assert!(err.is_conflict_on("cpr_hash"), "{err:?}");
        assert!(!err.is_conflict_on("cvr") && !err.is_conflict_on("number"), "{err:?}");
        let (_, total) = citizens::list(&mut c, "751", CardFilter::Any, page(50, 0)).expect("list");
        assert_eq!(total, 0, "the refused row was not stored");
    }

    fn companies_are_listed_by_name_and_a_second_company_with_the_same_cvr_is_a_conflict_on_cvr(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let charlie = CompanyRow {
            verification_reason: Some("no CVR activity".into()),
            ..company("12345674", "Charlie ApS", "rejected")
        };
        let alfa = company("10150817", "Alfa A/S", "verified");
        let bravo = CompanyRow {
            address: None,
            postcode: None,
            lat: None,
            lon: None,
            municipality: None,
            ..company("21436587", "Bravo I/S", "unverified")
        };
        for row in [&charlie, &alfa, &bravo] {
            companies::insert(&mut c, row).expect("insert company");
        }
        let err = companies::insert(&mut c, &company("10150817", "Alfa Kopi", "unverified")).expect_err("duplicate");
        assert!(matches!(err, RepoError::Conflict { .. }), "{err:?}");
        assert!(err.is_conflict_on("cvr"), "{err:?}");
        assert!(!err.is_conflict_on("cpr_hash"), "{err:?}");

        assert_eq!(companies::find(&mut c, &bravo.id).expect("Bravo"), bravo);
        assert_eq!(companies::find_by_cvr(&mut c, "10150817").expect("q"), Some(alfa.clone()));
        assert_eq!(companies::find_by_cvr(&mut c, "99999999").expect("q"), None);

        let names = |rows: Vec<CompanyRow>| rows.into_iter().map(|r| r.name).collect::<Vec<_>>();
        let (rows, total) = companies::list(&mut c, None, page(2, 0)).expect("list");
        assert_eq!((names(rows), total), (vec!["Alfa A/S".to_owned(), "Bravo I/S".to_owned()], 3));
        let (rows, total) = companies::list(&mut c, None, page(2, 2)).expect("list");
        assert_eq!((names(rows), total), (vec!["Charlie ApS".to_owned()], 3));
        let (rows, total) = companies::list(&mut c, Some(Verification::Verified), page(50, 0)).expect("list");
        assert_eq!((names(rows), total), (vec!["Alfa A/S".to_owned()], 1));
        let (rows, total) = companies::list(&mut c, Some(Verification::Rejected), page(50, 0)).expect("list");
        assert_eq!(rows, vec![charlie.clone()]);
        assert_eq!(total, 1);

        let changed = CompanyRow {
            address: None,
            lat: None,
            lon: None,
            verification: Verification::Verified,
            verification_reason: None,
            updated_at: repo::now(),
            ..charlie
        };
        companies::update(&mut c, &changed).expect("update");
        assert_eq!(companies::find(&mut c, &changed.id).expect("Charlie"), changed);
    }

    fn a_second_card_with_the_same_number_is_a_conflict_on_number(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let k = key();
        let a = citizen(&k, "0101901234", "A", "730");
        let b = citizen(&k, "0202921111", "B", "730");
        citizens::insert(&mut c, &a).expect("a");
        citizens::insert(&mut c, &b).expect("b");
        frikort::insert(&mut c, &card(&a.id, "04217", "active")).expect("first card");
        assert!(frikort::number_taken(&mut c, "04217").expect("q"));
        assert!(!frikort::number_taken(&mut c, "04218").expect("q"));

        let err = frikort::insert(&mut c, &card(&b.id, "04217", "active")).expect_err("same number");
        assert!(matches!(err, RepoError::Conflict { .. }), "{err:?}");
        assert!(err.is_conflict_on("number"), "{err:?}");
        assert!(!err.is_conflict_on("citizen_id"), "{err:?}");

        // One card per citizen, too.
        let err = frikort::insert(&mut c, &card(&a.id, "04218", "active")).expect_err("second card");
        assert!(err.is_conflict_on("citizen_id"), "{err:?}");
        assert_eq!(frikort::find_by_citizen(&mut c, &b.id).expect("q"), None);
    }

    fn a_card_for_a_missing_citizen_or_an_event_for_a_missing_card_is_a_missing_reference(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let orphan = card(&repo::new_id(), "00042", "active");
        let err = frikort::insert(&mut c, &orphan).expect_err("no such citizen");
        assert!(matches!(err, RepoError::ForeignKey { .. }), "{err:?}");
        assert!(!frikort::number_taken(&mut c, "00042").expect("q"), "nothing was stored");

        let err = frikort::append_event(&mut c, &event(&new_record_id(), "issued", repo::now(), repo::now()))
            .expect_err("no such card");
        assert!(matches!(err, RepoError::ForeignKey { .. }), "{err:?}");
    }

    fn a_cards_events_come_back_in_effective_time_order(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let k = key();
        let holder = citizen(&k, "0101901234", "Holder", "730");
        let other = citizen(&k, "0202921111", "Other", "730");
        citizens::insert(&mut c, &holder).expect("holder");
        citizens::insert(&mut c, &other).expect("other");
        let mine = card(&holder.id, "10000", "active");
        let theirs = card(&other.id, "10001", "active");
        frikort::insert(&mut c, &mine).expect("card");
        frikort::insert(&mut c, &theirs).expect("card");

        let t0 = at(2026, 3, 1, 9, 0, 0, 0);
        let issued = event(&mine.id, "issued", t0, t0);
        // Same effective time as the deactivation, recorded earlier: it comes first.
        let controlled = event(&mine.id, "controlled", t0 + Duration::days(2), t0 + Duration::days(1));
        let deactivated = event(&mine.id, "deactivated", t0 + Duration::days(2), t0 + Duration::days(2));
        // Recorded last but effective before the reactivation's effective time.
        let backdated = CardEventRow {
            reason: Some("decision registered late".into()),
            attestations: Some(Json(Attestations {
                no_su_eligible_education: true,
                no_taxable_work_income_over_threshold: true,
                residence_9_of_last_10_years: true,
                in_target_group: true,
            })),
            ..event(&mine.id, "reactivated", t0 + Duration::days(3), t0 + Duration::days(9))
        };
        let reactivated = event(&mine.id, "reactivated", t0 + Duration::days(5), t0 + Duration::days(5));
        let foreign = event(&theirs.id, "issued", t0 + Duration::days(1), t0);
        for e in [&reactivated, &deactivated, &foreign, &backdated, &issued, &controlled] {
            frikort::append_event(&mut c, e).expect("append");
        }
        assert_eq!(
            frikort::events(&mut c, &mine.id).expect("events"),
            vec![issued.clone(), controlled.clone(), deactivated.clone(), backdated.clone(), reactivated.clone()]
        );

        // A corrected decision moves in the order and keeps its first recorded effective time.
        frikort::correct_event_time(&mut c, &deactivated, t0 + Duration::days(4)).expect("correct");
        let once = CardEventRow {
            effective_at: t0 + Duration::days(4),
            corrected_from: Some(t0 + Duration::days(2)),
            ..deactivated
        };
        frikort::correct_event_time(&mut c, &once, t0 + Duration::days(6)).expect("correct again");
        let twice = CardEventRow { effective_at: t0 + Duration::days(6), ..once };
        assert_eq!(
            frikort::events(&mut c, &mine.id).expect("events"),
            vec![issued, controlled, backdated, reactivated, twice]
        );
        assert_eq!(frikort::events(&mut c, &theirs.id).expect("events"), vec![foreign]);
        assert_eq!(frikort::events(&mut c, &new_record_id()).expect("events"), vec![]);

        let changed = CardRow {
            status: CardStatus::Deactivated,
            status_changed_at: repo::now(),
            last_control_on: Some(date(2027, 2, 1)),
            ..mine.clone()
        };
        frikort::update(&mut c, &changed).expect("update");
        assert_eq!(frikort::find_by_citizen(&mut c, &holder.id).expect("q"), Some(changed));
        let active = frikort::active_cards_in(&mut c, "730").expect("active");
        assert_eq!(active, vec![(theirs, "Other".to_owned())], "only active cards are listed");
    }

    fn audit_entries_are_listed_newest_first_per_municipality_with_filters_and_before_id_paging(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let t = |s: i64| at(2026, 5, 1, 12, 0, 0, 0) + Duration::seconds(s);
        audit::append(
            &mut c,
            &[
                entry(Some("730"), "a", "citizen.read", "t1", t(0)),
                entry(Some("730"), "b", "citizen.created", "t2", t(1)),
                entry(Some("751"), "a", "citizen.read", "t1", t(2)),
                entry(Some("730"), "a", "citizen.read", "t2", t(2)),
                entry(None, "a", "citizen.read", "t1", t(3)),
                entry(Some("730"), "a", "company.read", "t3", t(3)),
                entry(Some("730"), "b", "citizen.read", "t1", t(4)),
            ],
        )
        .expect("append");
        let list =
            |c: &mut DbConn, m: &str, q: AuditQuery, limit: i64| audit::list(c, AuditLog::Municipality(m), &q, page(limit, 0)).expect("list");

        let all = list(&mut c, "730", AuditQuery::default(), 100);
        assert_eq!(
            triples(&all),
            [
                triple("citizen.read", "t1", "b"),
                triple("company.read", "t3", "a"),
                triple("citizen.read", "t2", "a"),
                triple("citizen.created", "t2", "b"),
                triple("citizen.read", "t1", "a"),
            ]
        );
        assert!(all.windows(2).all(|w| w[0].id > w[1].id), "ids strictly decrease");
        assert!(all.iter().all(|r| r.municipality.as_deref() == Some("730")));
        assert_eq!(all[0].at, t(4));
        assert_eq!(all[0].actor_role, "coordinator");
        assert_eq!(all[0].target_type, "citizen");
        assert_eq!(all[0].details.as_deref(), Some(r#"{"n":1}"#));

        let q = |f: fn(&mut AuditQuery)| {
            let mut q = AuditQuery::default();
            f(&mut q);
            q
        };
        let by_target = list(&mut c, "730", q(|q| q.target_id = Some("t1".into())), 100);
        assert_eq!(triples(&by_target), [triple("citizen.read", "t1", "b"), triple("citizen.read", "t1", "a")]);
        let by_actor = list(&mut c, "730", q(|q| q.actor = Some("b".into())), 100);
        assert_eq!(triples(&by_actor), [triple("citizen.read", "t1", "b"), triple("citizen.created", "t2", "b")]);
        let by_action = list(&mut c, "730", q(|q| q.action = Some("citizen.read".into())), 100);
        assert_eq!(by_action.len(), 3);
        let combined = list(
            &mut c,
            "730",
            q(|q| {
                q.actor = Some("a".into());
                q.action = Some("citizen.read".into());
            }),
            100,
        );
        assert_eq!(triples(&combined), [triple("citizen.read", "t2", "a"), triple("citizen.read", "t1", "a")]);

        // `from` is inclusive, `to` exclusive.
        let from = AuditQuery { from: Some(t(2)), ..AuditQuery::default() };
        assert_eq!(list(&mut c, "730", from, 100).iter().map(|r| r.at).collect::<Vec<_>>(), [t(4), t(3), t(2)]);
        let to = AuditQuery { to: Some(t(2)), ..AuditQuery::default() };
        assert_eq!(list(&mut c, "730", to, 100).iter().map(|r| r.at).collect::<Vec<_>>(), [t(1), t(0)]);
        let window = AuditQuery { from: Some(t(1)), to: Some(t(3)), ..AuditQuery::default() };
        assert_eq!(list(&mut c, "730", window, 100).iter().map(|r| r.at).collect::<Vec<_>>(), [t(2), t(1)]);

        // Paging backwards by sequence number.
        let first = list(&mut c, "730", AuditQuery::default(), 2);
        assert_eq!(first.len(), 2);
        let second = list(&mut c, "730", AuditQuery { before_id: Some(first[1].id), ..AuditQuery::default() }, 2);
        let third = list(&mut c, "730", AuditQuery { before_id: Some(second[1].id), ..AuditQuery::default() }, 2);
        assert_eq!(third.len(), 1);
        let pages: Vec<i64> = first.iter().chain(&second).chain(&third).map(|r| r.id).collect();
        assert_eq!(pages, all.iter().map(|r| r.id).collect::<Vec<_>>());
        assert!(
            list(&mut c, "730", AuditQuery { before_id: Some(third[0].id), ..AuditQuery::default() }, 2).is_empty()
        );
        // Paging by offset, with the count of every match beside it.
        let skipped = audit::list(&mut c, AuditLog::Municipality("730"), &AuditQuery::default(), page(2, 3)).expect("list");
        assert_eq!(skipped.iter().map(|r| r.id).collect::<Vec<_>>(), all[3..].iter().map(|r| r.id).collect::<Vec<_>>());
        assert_eq!(audit::count(&mut c, AuditLog::Municipality("730"), &AuditQuery::default()).expect("count"), 5);
        let older = AuditQuery { before_id: Some(all[1].id), actor: Some("a".into()), ..AuditQuery::default() };
        assert_eq!(audit::count(&mut c, AuditLog::Municipality("730"), &older).expect("count"), 2);
        assert_eq!(audit::count(&mut c, AuditLog::Municipality("101"), &AuditQuery::default()).expect("count"), 0);

        // Another municipality sees only its own entries; entries without one are in no log.
        assert_eq!(triples(&list(&mut c, "751", AuditQuery::default(), 100)), [triple("citizen.read", "t1", "a")]);
        assert!(list(&mut c, "101", AuditQuery::default(), 100).is_empty());
    }

    fn the_scheme_wide_log_holds_only_entries_filed_in_no_municipality_about_the_targets_named(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let t = |s: i64| at(2026, 5, 1, 12, 0, 0, 0) + Duration::seconds(s);
        let cap = |municipality: Option<&str>, action: &str, s: i64| NewAuditEntry {
            target_type: "cap".into(),
            ..entry(municipality, "operator", action, "2025", t(s))
        };
        audit::append(
            &mut c,
            &[
                cap(None, "cap.set", 0),
                // A read of a company without a municipality is filed nowhere, and is not the scheme's.
                NewAuditEntry { target_type: "company".into(), ..entry(None, "a", "company.read", "c1", t(1)) },
                entry(None, "a", "citizen.read", "t1", t(2)),
                cap(Some("730"), "cap.resplit", 3),
                cap(None, "cap.set", 4),
            ],
        )
        .expect("append");
        let scheme = AuditLog::SchemeWide(&["cap"]);
        let rows = audit::list(&mut c, scheme, &AuditQuery::default(), page(10, 0)).expect("list");
        assert_eq!(rows.iter().map(|r| r.at).collect::<Vec<_>>(), [t(4), t(0)]);
        assert!(rows.iter().all(|r| r.municipality.is_none() && r.target_type == "cap"), "{rows:?}");
        assert_eq!(audit::count(&mut c, scheme, &AuditQuery::default()).expect("count"), 2);
        let to = AuditQuery { to: Some(t(1)), ..AuditQuery::default() };
        assert_eq!(audit::count(&mut c, scheme, &to).expect("count"), 1, "the filters apply");
        assert!(audit::list(&mut c, AuditLog::SchemeWide(&[]), &AuditQuery::default(), page(10, 0)).expect("list").is_empty());
        // The municipality's copy stays in its own log.
        let own = audit::list(&mut c, AuditLog::Municipality("730"), &AuditQuery::default(), page(10, 0)).expect("list");
        assert_eq!(own.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(), ["cap.resplit"]);
    }

    fn finding_a_missing_row_is_not_found_but_a_failing_query_is_a_database_error(db) {
        let pool = connect(db.url(), 2).expect("connect");
        let mut c = conn(&pool);
        // Before migrations the tables do not exist: that must never look like "not found".
        let err = citizens::find(&mut c, "x").expect_err("no table");
        assert!(matches!(err, RepoError::Database(_)), "{err:?}");
        let err = companies::find(&mut c, &new_record_id()).expect_err("no table");
        assert!(matches!(err, RepoError::Database(_)), "{err:?}");
        let err = caps::find(&mut c, 2025).expect_err("no table");
        assert!(matches!(err, RepoError::Database(_)), "{err:?}");
        drop(c);

        let pool = migrated(db);
        let mut c = conn(&pool);
        let missing = repo::new_id();
        assert!(matches!(citizens::find(&mut c, &missing), Err(RepoError::NotFound)));
        assert!(matches!(companies::find(&mut c, &new_record_id()), Err(RepoError::NotFound)));
        assert_eq!(caps::find(&mut c, 2030).expect("q"), None);
        assert_eq!(frikort::find_by_citizen(&mut c, &missing).expect("q"), None);
        assert_eq!(citizens::find_id_by_cpr_hash(&mut c, "nope").expect("q"), None);
        assert_eq!(companies::find_by_cvr(&mut c, "10150817").expect("q"), None);
        let ghost = citizen(&key(), "0101901234", "Ghost", "730");
        assert!(matches!(citizens::update(&mut c, &ghost), Err(RepoError::NotFound)));
        assert!(matches!(
            companies::update(&mut c, &company("10150817", "Ghost", "verified")),
            Err(RepoError::NotFound)
        ));
        assert!(matches!(frikort::update(&mut c, &card(&missing, "00001", "active")), Err(RepoError::NotFound)));
    }

    fn a_dry_run_inside_a_write_transaction_is_undone_while_the_writes_around_it_commit(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let cap = |year, amount_ore| CapRow {
            year,
            amount: Money::from_ore(amount_ore),
            regulation_percent: None,
            set_by: "operator".into(),
            set_at: repo::now(),
            reason: Some("dry run".into()),
        };
        let seen = write_transaction(&mut c, |c| {
            caps::set(c, &cap(2030, 100))?;
            // The dry run sees its own writes and the transaction's earlier ones.
            let inside = rolled_back(c, |c| {
                caps::set(c, &cap(2031, 200))?;
                caps::set(c, &cap(2030, 300))?;
                caps::list(c)
            })?;
            caps::set(c, &cap(2032, 400))?;
            Ok::<_, RepoError>(inside)
        })
        .expect("commits");
        assert_eq!(seen.iter().map(|r| (r.year, r.amount.ore())).filter(|(y, _)| *y >= 2030).collect::<Vec<_>>(), [
            (2030, 300),
            (2031, 200)
        ]);
        assert_eq!(caps::find(&mut c, 2030).expect("q").map(|r| r.amount.ore()), Some(100), "the dry run's update is undone");
        assert_eq!(caps::find(&mut c, 2031).expect("q"), None, "the dry run's insert is undone");
        assert!(caps::find(&mut c, 2032).expect("q").is_some(), "writes after the dry run commit");

        // A dry run that fails answers its error, and is undone as well.
        let err = write_transaction(&mut c, |c| {
            rolled_back(c, |c| {
                caps::set(c, &cap(2033, 100))?;
                caps::set(c, &cap(2101, 100))
            })
        })
        .expect_err("the check constraint refuses 2101");
        assert!(matches!(err, RepoError::Check { .. }), "{err:?}");
        assert_eq!(caps::find(&mut c, 2033).expect("q"), None);
    }

    fn a_write_transaction_rolls_back_every_write_when_the_closure_fails(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let k = key();
        let person = citizen(&k, "0101901234", "Jens", "730");
        let firm = company("10150817", "Alfa", "verified");
        let cap = |year, amount_ore| CapRow {
            year,
            amount: Money::from_ore(amount_ore),
            regulation_percent: None,
            set_by: "t".into(),
            set_at: repo::now(),
            reason: None,
        };

        let result: Result<(), RepoError> = write_transaction(&mut c, |c| {
            citizens::insert(c, &person)?;
            frikort::insert(c, &card(&person.id, "00001", "active"))?;
            companies::insert(c, &firm)?;
            caps::set(c, &cap(2025, 100))?;
            caps::set(c, &cap(2026, 100))?;
            audit::append(c, &[entry(Some("730"), "a", "citizen.created", &person.id, repo::now())])?;
            Err(RepoError::Config("the caller gave up".into()))
        });
        assert!(matches!(&result, Err(RepoError::Config(m)) if m == "the caller gave up"), "{result:?}");

        // Seen from the same connection and from another one: nothing happened.
        for conn in [&mut c, &mut conn(&pool)] {
            assert!(matches!(citizens::find(conn, &person.id), Err(RepoError::NotFound)));
            assert!(matches!(companies::find(conn, &firm.id), Err(RepoError::NotFound)));
            assert!(!frikort::number_taken(conn, "00001").expect("q"));
            assert_eq!(caps::find(conn, 2025).expect("q").map(|r| r.amount.ore()), Some(4_276_600));
            assert_eq!(caps::find(conn, 2026).expect("q"), None);
            assert!(audit::list(conn, AuditLog::Municipality("730"), &AuditQuery::default(), page(10, 0)).expect("q").is_empty());
        }

        // A database error inside the transaction rolls back the earlier writes too, and the
        // connection is usable afterwards (PostgreSQL would otherwise report an aborted transaction).
        companies::insert(&mut c, &firm).expect("the firm exists");
        let result: Result<(), RepoError> = write_transaction(&mut c, |c| {
            caps::set(c, &cap(2026, 100))?;
            companies::insert(c, &company("10150817", "Copy", "verified"))?;
            Ok(())
        });
        assert!(result.as_ref().is_err_and(|e| e.is_conflict_on("cvr")), "{result:?}");
        assert_eq!(caps::find(&mut c, 2026).expect("the connection still works"), None);

        // And a closure that succeeds commits everything, visible to other connections.
        write_transaction(&mut c, |c| {
            citizens::insert(c, &person)?;
            caps::set(c, &cap(2026, 100))
        })
        .expect("commit");
        let mut other = conn(&pool);
        assert_eq!(citizens::find(&mut other, &person.id).expect("committed").0, person);
        assert_eq!(caps::find(&mut other, 2026).expect("q").map(|r| r.amount.ore()), Some(100));

        // A read transaction returns what the closure read and leaves the connection clean.
        let n = read_transaction(&mut other, |c| caps::list(c).map(|r| r.len())).expect("read");
        assert_eq!(n, 8);
        let n = write_transaction(&mut other, |c| caps::list(c).map(|r| r.len())).expect("write after read");
        assert_eq!(n, 8);
    }

    fn locking_a_citizen_finds_its_row_and_a_missing_one_is_not_found(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let person = citizen(&key(), "0101901234", "Jens", "730");
        citizens::insert(&mut c, &person).expect("insert");
        write_transaction(&mut c, |c| citizens::lock(c, &person.id)).expect("the row is there to lock");
        let missing: Result<(), RepoError> = write_transaction(&mut c, |c| citizens::lock(c, &repo::new_id()));
        assert!(matches!(missing, Err(RepoError::NotFound)), "{missing:?}");
    }

    fn timestamps_dates_and_coordinates_round_trip_identically(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let now = repo::now();
        assert_eq!(now.nanosecond() % 1_000, 0, "now() is truncated to microseconds: {now}");
        let odd = date(2026, 3, 29).and_hms_nano_opt(1, 2, 3, 123_456_789).expect("valid");
        let truncated = repo::truncate_to_micros(odd);
        assert_eq!(truncated, date(2026, 3, 29).and_hms_nano_opt(1, 2, 3, 123_456_000).expect("valid"));
        assert_eq!(repo::truncate_to_micros(truncated), truncated, "truncation is idempotent");
        let last_micro = at(1999, 12, 31, 23, 59, 59, 999_999);

        let person = CitizenRow {
            birth_date: date(1937, 12, 31),
            home_lat: Some(56.460_734_512_345),
            home_lon: Some(-10.036_543_210_987),
            phone: Some("+4512345678".into()),
            postcode: Some("8900".into()),
            created_at: truncated,
            updated_at: last_micro,
            ..citizen(&key(), "3112371234", "Æble Ørn Åsen", "730")
        };
        citizens::insert(&mut c, &person).expect("insert");
        assert_eq!(citizens::find(&mut c, &person.id).expect("find").0, person);

        let leap = CardRow {
            valid_from: date(2024, 2, 29),
            issued_on: date(2024, 2, 28),
            last_control_on: Some(date(2100, 12, 31)),
            status_changed_at: last_micro,
            created_at: now,
            updated_at: truncated,
            ..card(&person.id, "29022", "active")
        };
        frikort::insert(&mut c, &leap).expect("card");
        assert_eq!(frikort::find_by_citizen(&mut c, &person.id).expect("q"), Some(leap.clone()));
        let e = event(&leap.id, "issued", truncated, last_micro);
        frikort::append_event(&mut c, &e).expect("event");
        assert_eq!(frikort::events(&mut c, &leap.id).expect("events"), vec![e]);

        let cap = CapRow {
            year: 2030,
            amount: Money::from_ore(5_000_000),
            regulation_percent: Some("-1.25".into()),
            set_by: "x".into(),
            set_at: truncated,
            reason: Some("Grund med æøå".into()),
        };
        caps::set(&mut c, &cap).expect("cap");
        assert_eq!(caps::find(&mut c, 2030).expect("q"), Some(cap));

        audit::append(&mut c, &[entry(Some("730"), "a", "x", "y", truncated)]).expect("audit");
        let rows = audit::list(&mut c, AuditLog::Municipality("730"), &AuditQuery::default(), page(1, 0)).expect("list");
        assert_eq!(rows[0].at, truncated);
        // Filters compare exact stored values: `from` equal to the stored time includes it.
        let from = AuditQuery {
            from: Some(truncated),
            to: Some(truncated + Duration::microseconds(1)),
            ..AuditQuery::default()
        };
        assert_eq!(audit::list(&mut c, AuditLog::Municipality("730"), &from, page(10, 0)).expect("list").len(), 1);
    }

    fn a_cpr_is_stored_only_encrypted_bound_to_its_row_and_found_by_its_keyed_hash(db) {
        let pool = migrated(db);
        let mut c = conn(&pool);
        let k = key();
        let cpr = "0101901234";
        let person = citizen(&k, cpr, "Jens Hansen", "730");
        citizens::insert(&mut c, &person).expect("insert");
        let other = citizen(&k, "0202921111", "Other", "730");
        citizens::insert(&mut c, &other).expect("insert");

        use smaajob_persistence::schema::citizens as t;
        let (hash, sealed): (String, String) = t::table
            .filter(t::id.eq(&person.id))
            .select((t::cpr_hash, t::cpr_ciphertext))
            .first(&mut *c)
            .expect("raw columns");
        for stored in [&hash, &sealed] {
            assert!(!stored.contains(cpr) && !stored.contains("010190-1234"), "CPR in the clear: {stored}");
        }
        assert!(sealed.starts_with("v1:"), "{sealed}");
        assert_eq!(k.decrypt(&person.id, &sealed).expect("decrypts for its row"), cpr);
        assert!(matches!(k.decrypt(&other.id, &sealed), Err(RepoError::Corrupt(_))), "bound to the row id");
        assert!(DataKey::from_bytes(&[8; 32]).decrypt(&person.id, &sealed).is_err(), "another key cannot read it");
        assert_eq!(citizens::find_id_by_cpr_hash(&mut c, &k.lookup_hash(cpr)).expect("q"), Some(person.id.clone()));
        let foreign_key_hash = DataKey::from_bytes(&[8; 32]).lookup_hash(cpr);
        assert_eq!(citizens::find_id_by_cpr_hash(&mut c, &foreign_key_hash).expect("q"), None);

        // On SQLite the whole database file (and its write-ahead log) can be searched byte by byte.
        if let Some(path) = db.url().sqlite_path() {
            drop(c);
            let contains = |bytes: &[u8], needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
            let mut seen_name = false;
            for file in [path.to_owned(), format!("{path}-wal")] {
                let Ok(bytes) = std::fs::read(&file) else { continue };
                for needle in [cpr, "010190-1234"] {
                    assert!(!contains(&bytes, needle), "{needle} appears in {file}");
                }
                seen_name |= contains(&bytes, "Jens Hansen");
            }
            assert!(seen_name, "the byte search sees stored text, so it would see a CPR too");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SQLite only
// ---------------------------------------------------------------------------------------------

#[derive(QueryableByName)]
struct ForeignKeys {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    foreign_keys: i32,
}

#[derive(QueryableByName)]
struct BusyTimeout {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    timeout: i32,
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

#[test]
fn every_pooled_sqlite_connection_enforces_foreign_keys_uses_wal_and_waits_for_locks() {
    let db = TestDatabase::sqlite();
    let pool = migrated(&db);
    // Hold every connection of the pool at once so each one is checked, not one reused.
    let mut held: Vec<PooledConn> = (0..4).map(|_| conn(&pool)).collect();
    for c in &mut held {
        let DbConn::Sqlite(c) = &mut **c else { panic!("an SQLite URL gives SQLite connections") };
        let fk: ForeignKeys = diesel::sql_query("PRAGMA foreign_keys").get_result(c).expect("pragma");
        assert_eq!(fk.foreign_keys, 1, "foreign_keys is ON");
        let busy: BusyTimeout = diesel::sql_query("PRAGMA busy_timeout").get_result(c).expect("pragma");
        assert_eq!(busy.timeout, 10_000, "busy_timeout is set by the pool's customizer");
        let journal: JournalMode = diesel::sql_query("PRAGMA journal_mode").get_result(c).expect("pragma");
        assert_eq!(journal.journal_mode, "wal");
    }
    drop(held);

    // Enforcement depends on the pragma: a connection with it OFF stores the orphan the pool refused.
    let mut c = conn(&pool);
    let orphan = card(&repo::new_id(), "00042", "active");
    assert!(matches!(frikort::insert(&mut c, &orphan), Err(RepoError::ForeignKey { .. })));
    let path = db.url().sqlite_path().expect("an SQLite path");
    let mut raw = DbConn::Sqlite(SqliteConnection::establish(path).expect("raw connection"));
    diesel::connection::SimpleConnection::batch_execute(&mut raw, "PRAGMA foreign_keys = OFF").expect("pragma");
    frikort::insert(&mut raw, &orphan).expect("accepted without the pragma");
    assert!(frikort::number_taken(&mut c, "00042").expect("q"));
}

#[test]
fn concurrent_read_modify_write_transactions_on_sqlite_neither_fail_nor_lose_updates() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 25;
    let db = TestDatabase::sqlite();
    let pool = migrated(&db);
    let start = std::sync::Arc::new(std::sync::Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let pool = pool.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                let mut errors = Vec::new();
                for _ in 0..ROUNDS {
                    let result = pool.get().map_err(RepoError::from).and_then(|mut c| {
                        write_transaction(&mut c, |c| {
                            let row = caps::find(c, 2025)?.ok_or(RepoError::NotFound)?;
                            // Give the other writers every chance to interleave between read and write.
                            std::thread::yield_now();
                            caps::set(c, &CapRow { amount: Money::from_ore(row.amount.ore() + 1), ..row })
                        })
                    });
                    if let Err(e) = result {
                        errors.push(e.to_string());
                    }
                }
                errors
            })
        })
        .collect();
    let errors: Vec<String> = workers.into_iter().flat_map(|w| w.join().expect("the worker finishes")).collect();
    assert!(
        errors.is_empty(),
        "{} of {} transactions failed, e.g. {:?}",
        errors.len(),
        THREADS * ROUNDS,
        errors.first()
    );
    let mut c = conn(&pool);
    let final_amount = caps::find(&mut c, 2025).expect("q").expect("2025").amount.ore();
    assert_eq!(final_amount, 4_276_600 + (THREADS * ROUNDS) as i64, "no update was lost");
}

#[test]
fn a_locked_row_on_postgresql_holds_off_other_writers_of_it_but_not_rows_that_refer_to_it() {
    let name = "a_locked_row_on_postgresql_holds_off_other_writers_of_it_but_not_rows_that_refer_to_it";
    let Some(db) = TestDatabase::postgres(name) else { return };
    let pool = migrated(&db);
    let mut holder = conn(&pool);
    let mut other = conn(&pool);
    let person = citizen(&key(), "0101901234", "Jens", "730");
    citizens::insert(&mut holder, &person).expect("insert");
    // Give up quickly instead of waiting for the holder's transaction to end.
    diesel::connection::SimpleConnection::batch_execute(&mut *other, "SET lock_timeout = '300ms'").expect("set");

    write_transaction(&mut holder, |c| {
        citizens::lock(c, &person.id)?;
        // Another writer of the locked row waits (and here times out)…
        let renamed = citizens::update(&mut other, &CitizenRow { name: "Jensen".into(), ..person.clone() });
        assert!(matches!(&renamed, Err(RepoError::Database(_))), "the update was not held off: {renamed:?}");
        // …but a row whose foreign key refers to it goes in: `FOR UPDATE` would hold it off too.
        frikort::insert(&mut other, &card(&person.id, "00001", "active")).expect("a card for the locked citizen");
        Ok::<_, RepoError>(())
    })
    .expect("the holder commits");
    assert_eq!(citizens::find(&mut other, &person.id).expect("q").0.name, "Jens");
    assert!(frikort::number_taken(&mut other, "00001").expect("q"));
}
