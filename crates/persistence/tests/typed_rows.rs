//! Rows that carry domain types (see `smaajob_persistence::types`), end to end on both backends:
//! the seeded `caps` table read and written with its amount as `Money`, a test-only table with
//! every kind of typed column, created in a migrated database, and the repositories' own rows,
//! whose stored codes and JSON that do not read are errors naming the column.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use chrono::{NaiveDate, NaiveTime};
use common::migrated;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use smaajob_domain::{
    Actor, Attestations, CardEventKind, CardStatus, Money, PlacementState, ReportStatus, Schedule, TaskStatus,
    TransportMode, Verification, WeeklyAvailability,
};
use smaajob_persistence::crypto::DataKey;
use smaajob_persistence::repo::citizens::CitizenRow;
use smaajob_persistence::repo::companies::CompanyRow;
use smaajob_persistence::repo::employments::EmploymentRow;
use smaajob_persistence::repo::frikort::{CardEventRow, CardRow};
use smaajob_persistence::repo::placements::PlacementRow;
use smaajob_persistence::repo::shift_reports::ShiftReportRow;
use smaajob_persistence::repo::tasks::TaskRow;
use smaajob_persistence::repo::{self, citizens, companies, employments, frikort, placements, shift_reports, tasks};
use smaajob_persistence::schema::{
    caps, citizens as citizens_t, placements as placements_t, shift_reports as shift_reports_t, tasks as tasks_t,
};
use smaajob_persistence::testing::TestDatabase;
use smaajob_persistence::types::{Code, Json, JsonText, NullableJsonText, NullableOre, Ore, new_record_id};
use smaajob_persistence::{DbConn, MultiBackend, RepoError};

mod demo_schema {
    #![allow(missing_docs)]
    diesel::table! {
        typed_demo (id) {
            id -> Text,
            amount_ore -> BigInt,
            refund_ore -> Nullable<BigInt>,
            status -> Text,
            state -> Text,
            schedule -> Text,
            skills -> Nullable<Text>,
        }
    }
}
use demo_schema::typed_demo;

/// The same DDL on both backends: no type in it is spelled differently.
const TYPED_DEMO_DDL: &str = "CREATE TABLE typed_demo (
    id TEXT PRIMARY KEY NOT NULL,
    amount_ore BIGINT NOT NULL,
    refund_ore BIGINT,
    status TEXT NOT NULL,
    state TEXT NOT NULL,
    schedule TEXT NOT NULL,
    skills TEXT
)";

/// Every kind of typed field, written the way the `types` module doc shows.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = typed_demo, check_for_backend(MultiBackend))]
#[diesel(treat_none_as_null = true)]
struct DemoRow {
    id: String,
    #[diesel(serialize_as = Ore)]
    amount_ore: Money,
    #[diesel(serialize_as = NullableOre)]
    refund_ore: Option<Money>,
    #[diesel(serialize_as = Code)]
    status: TaskStatus,
    #[diesel(serialize_as = Code)]
    state: PlacementState,
    #[diesel(serialize_as = JsonText)]
    schedule: Json<Schedule>,
    #[diesel(serialize_as = NullableJsonText)]
    skills: Option<Json<Vec<String>>>,
}

/// The seeded caps, with the amount as `Money`, declared here the way the pattern shows.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = caps, check_for_backend(MultiBackend))]
struct TypedCap {
    year: i32,
    #[diesel(column_name = amount_ore, serialize_as = Ore)]
    amount: Money,
    set_by: String,
    set_at: chrono::NaiveDateTime,
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn schedule() -> Schedule {
    Schedule::single(NaiveDate::from_ymd_opt(2026, 12, 5).unwrap(), time(8, 0), time(12, 0)).unwrap()
}

fn demo(id: &str) -> DemoRow {
    DemoRow {
        id: id.to_owned(),
        amount_ore: Money::from_ore(123_456),
        refund_ore: None,
        status: TaskStatus::Open,
        state: PlacementState::NoShow,
        schedule: Json(schedule()),
        skills: Some(Json(vec!["gardening".to_owned()])),
    }
}

/// A migrated database with the test-only table.
fn demo_db(db: &TestDatabase) -> smaajob_persistence::DbPool {
    let pool = migrated(db);
    pool.get().unwrap().batch_execute(TYPED_DEMO_DDL).expect("create typed_demo");
    pool
}

fn load(conn: &mut DbConn, id: &str) -> QueryResult<DemoRow> {
    typed_demo::table.find(id).select(DemoRow::as_select()).first(conn)
}

/// Stores raw text in one column of an otherwise valid row, as an older or broken writer might.
fn store_raw(conn: &mut DbConn, id: &str, column: &str, value: &str) {
    diesel::insert_into(typed_demo::table).values(demo(id)).execute(conn).expect("insert");
    diesel::sql_query(format!("UPDATE typed_demo SET {column} = '{value}' WHERE id = '{id}'"))
        .execute(conn)
        .expect("store the raw value");
}

/// The message of the error that loading a row which does not read as its types must give.
fn corrupt(result: QueryResult<DemoRow>) -> String {
    match result {
        Err(e @ diesel::result::Error::DeserializationError(_)) => match RepoError::from(e) {
            RepoError::Corrupt(message) => message,
            other => panic!("a deserialization error is stored data that is corrupt, not {other:?}"),
        },
        other => panic!("expected a deserialization error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The repositories' rows: one of each, linked, written through the repositories
// ---------------------------------------------------------------------------------------------

/// One row of every typed table, linked by their keys.
struct Stored {
    company: CompanyRow,
    task: TaskRow,
    citizen: CitizenRow,
    card: CardRow,
    event: CardEventRow,
    placement: PlacementRow,
    employment: EmploymentRow,
    report: ShiftReportRow,
}

fn attested() -> Attestations {
    Attestations {
        no_su_eligible_education: true,
        no_taxable_work_income_over_threshold: true,
        residence_9_of_last_10_years: true,
        in_target_group: true,
    }
}

/// Writes one linked row of every typed table through the repositories.
fn stored(conn: &mut DbConn) -> Stored {
    let t = repo::now();
    let key = DataKey::from_bytes(&[7; 32]);
    let company = CompanyRow {
        id: new_record_id(),
        cvr: "10150817".into(),
        name: "Bageriet".into(),
        address: None,
        postcode: None,
        lat: None,
        lon: None,
        contact_name: "Karen Bager".into(),
        contact_phone: None,
        contact_email: None,
        verification: Verification::Verified,
        verification_reason: None,
        municipality: Some("730".into()),
        created_at: t,
        updated_at: t,
    };
    companies::insert(conn, &company).expect("company");
    let task = TaskRow {
        id: repo::new_id(),
        company_id: company.id.clone(),
        municipality: "730".into(),
        title: "Opvask".into(),
        description: "Opvask i køkkenet".into(),
        required_skills: Json(vec!["køkken".into()]),
        address: None,
        lat: None,
        lon: None,
        schedule: Json(schedule()),
        first_date: schedule().first_date(),
        last_date: schedule().last_date(),
        paid_minutes_per_shift: 240,
        hourly_wage: Money::from_ore(15_250),
        positions: 1,
        frikort_only: true,
        contact_name: "Karen Bager".into(),
        contact_phone: None,
        contact_email: None,
        status: TaskStatus::Filled,
        opened_at: Some(t),
        filled_at: Some(t),
        closed_at: None,
        close_reason: None,
        created_by: "coord-730".into(),
        created_at: t,
        updated_at: t,
    };
    tasks::insert(conn, &task).expect("task");
    let citizen_id = repo::new_id();
    let citizen = CitizenRow {
        cpr_hash: key.lookup_hash("0101901234"),
        cpr_ciphertext: key.encrypt(&citizen_id, "0101901234"),
        id: citizen_id,
        birth_date: NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
        name: "Jens Hansen".into(),
        phone: None,
        municipality: "730".into(),
        skills: Json(vec!["køkken".into()]),
        availability: Json(WeeklyAvailability::default()),
        home_lat: None,
        home_lon: None,
        postcode: None,
        transport_modes: Json(vec![TransportMode::Bicycle, TransportMode::PublicTransport]),
        created_at: t,
        updated_at: t,
        max_travel_minutes: 45,
    };
    citizens::insert(conn, &citizen).expect("citizen");
    let card = CardRow {
        id: new_record_id(),
        citizen_id: citizen.id.clone(),
        number: "12345".into(),
        status: CardStatus::Active,
        valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        issued_on: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        last_control_on: None,
        status_changed_at: t,
        created_at: t,
        updated_at: t,
    };
    frikort::insert(conn, &card).expect("card");
    let event = CardEventRow {
        id: repo::new_id(),
        card_id: card.id.clone(),
        kind: CardEventKind::Issued,
        effective_at: t,
        corrected_from: None,
        reason: None,
        attestations: Some(Json(attested())),
        actor: "coord-730".into(),
        municipality: "730".into(),
        recorded_at: t,
    };
    frikort::append_event(conn, &event).expect("event");
    let employment = EmploymentRow {
        id: new_record_id(),
        citizen_id: citizen.id.clone(),
        company_id: company.id.clone(),
        start_date: schedule().first_date(),
        end_date: Some(schedule().last_date()),
        expected_hours_per_week: Some(4.0),
        expected_pay: Some(Money::from_ore(68_625)),
        contact_name: "Karen Bager".into(),
        contact_phone: None,
        contact_email: None,
        registered_at: t,
        registered_by: "coord-730".into(),
        registered_by_role: Actor::Coordinator,
        ended_at: None,
        end_reason: None,
    };
    employments::insert(conn, &employment).expect("employment");
    let placement = PlacementRow {
        id: repo::new_id(),
        task_id: task.id.clone(),
        citizen_id: citizen.id.clone(),
        state: PlacementState::Approved,
        interested_at: None,
        offered_at: Some(t),
        offered_by: Some("coord-730".into()),
        answered_at: Some(t),
        approved_at: Some(t),
        decided_at: Some(t),
        decided_by: Some("coord-730".into()),
        reason: None,
        employment_id: Some(employment.id.clone()),
        estimated_pay: Some(Money::from_ore(68_625)),
        estimated_taxable: Some(Money::ZERO),
        created_at: t,
        updated_at: t,
    };
    placements::insert(conn, &placement).expect("placement");
    let report = ShiftReportRow {
        id: new_record_id(),
        placement_id: placement.id.clone(),
        shift_date: schedule().first_date(),
        minutes: 240,
        status: ReportStatus::Disputed,
        reported_by: "company".into(),
        reported_by_role: Actor::Company,
        reported_at: t,
        answered_by: Some("citizen".into()),
        answered_at: Some(t),
        dispute_reason: Some("I left at 11".into()),
        payout_id: None,
    };
    shift_reports::insert(conn, &report).expect("report");
    Stored { company, task, citizen, card, event, placement, employment, report }
}

/// Overwrites one column of one row of a real table with raw text, as an older or broken writer
/// (or a hand edit) might. The column's CHECK constraint, where it has one, is lifted first: on
/// SQLite for this connection, on PostgreSQL by dropping it from this throwaway database.
fn overwrite(conn: &mut DbConn, table: &str, column: &str, key: (&str, &str), value: &str) {
    let update = format!("UPDATE {table} SET {column} = '{value}' WHERE {} = '{}'", key.0, key.1);
    let sql = match conn {
        DbConn::Sqlite(_) => {
            format!("PRAGMA ignore_check_constraints = ON; {update}; PRAGMA ignore_check_constraints = OFF;")
        }
        DbConn::Pg(_) => format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{column}_check; {update};"),
    };
    conn.batch_execute(&sql).expect("store the raw value");
}

/// The message of the `Corrupt` error a repository read must give.
fn corrupt_repo<T: std::fmt::Debug>(result: Result<T, RepoError>) -> String {
    match result {
        Err(RepoError::Corrupt(message)) => message,
        other => panic!("a stored value that does not read is RepoError::Corrupt, not {other:?}"),
    }
}

on_both_backends! {
    fn a_typed_row_round_trips_money_codes_and_json_and_filters_by_them(db) {
        let pool = demo_db(db);
        let mut c = pool.get().unwrap();
        let row = demo("a");
        diesel::insert_into(typed_demo::table).values(row.clone()).execute(&mut c).expect("insert");
        assert_eq!(load(&mut c, "a").expect("load"), row);

        let changed = DemoRow {
            amount_ore: Money::from_ore(-5),
            refund_ore: Some(Money::from_ore(99)),
            status: TaskStatus::Cancelled,
            skills: None,
            ..row.clone()
        };
        diesel::update(typed_demo::table.find("a")).set(changed.clone()).execute(&mut c).expect("update");
        assert_eq!(load(&mut c, "a").expect("load"), changed);

        // Stored as plain øre, codes and JSON text, which other code and people can read.
        let raw: (i64, Option<i64>, String, String, String, Option<String>) = typed_demo::table
            .find("a")
            .select((
                typed_demo::amount_ore,
                typed_demo::refund_ore,
                typed_demo::status,
                typed_demo::state,
                typed_demo::schedule,
                typed_demo::skills,
            ))
            .first(&mut c)
            .expect("raw");
        assert_eq!(raw.0, -5);
        assert_eq!(raw.1, Some(99));
        assert_eq!((raw.2.as_str(), raw.3.as_str()), ("cancelled", "no_show"));
        assert_eq!(serde_json::from_str::<Schedule>(&raw.4).expect("JSON"), schedule());
        assert_eq!(raw.5, None);

        // Filters take the same adapters as the row's fields.
        diesel::insert_into(typed_demo::table).values(demo("b")).execute(&mut c).expect("insert");
        let open: Vec<String> = typed_demo::table
            .filter(typed_demo::status.eq(Code::from(TaskStatus::Open)))
            .filter(typed_demo::amount_ore.ge(Ore::from(Money::from_ore(100))))
            .select(typed_demo::id)
            .load(&mut c)
            .expect("filter");
        assert_eq!(open, ["b"]);
        let amounts: Vec<Money> =
            typed_demo::table.order(typed_demo::id).select(typed_demo::amount_ore).load(&mut c).expect("one column");
        assert_eq!(amounts, [Money::from_ore(-5), Money::from_ore(123_456)]);
    }

    fn an_unknown_stored_code_is_an_error_naming_the_kind_and_the_code_never_a_default(db) {
        let pool = demo_db(db);
        let mut c = pool.get().unwrap();
        store_raw(&mut c, "a", "status", "archived");
        let message = corrupt(load(&mut c, "a"));
        assert_eq!(message, "Error deserializing field 'status': `archived` is not a known task status");
        store_raw(&mut c, "b", "state", "Approved");
        let message = corrupt(load(&mut c, "b"));
        assert_eq!(message, "Error deserializing field 'state': `Approved` is not a known placement state");
    }

    fn stored_json_that_does_not_read_as_its_type_is_an_error_naming_the_type(db) {
        let pool = demo_db(db);
        let mut c = pool.get().unwrap();
        store_raw(&mut c, "a", "schedule", "{\"kind\":\"single\"");
        let message = corrupt(load(&mut c, "a"));
        assert!(message.contains("stored JSON does not read as") && message.contains("Schedule"), "{message}");

        // Well-formed JSON that breaks the type's own rules: a shift ending before it starts.
        let backwards = r#"{"kind":"single","date":"2026-12-05","start":"12:00","end":"08:00"}"#;
        store_raw(&mut c, "b", "schedule", backwards);
        let message = corrupt(load(&mut c, "b"));
        assert!(message.contains("Schedule: a shift must end after it starts"), "{message}");

        store_raw(&mut c, "c", "skills", "[1, 2]");
        let message = corrupt(load(&mut c, "c"));
        assert!(message.contains("Vec<alloc::string::String>"), "{message}");
    }

    fn a_value_that_does_not_serialize_is_a_write_error_not_a_panic(db) {
        #[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
        #[diesel(table_name = typed_demo, check_for_backend(MultiBackend))]
        struct OddRow {
            id: String,
            #[diesel(serialize_as = Ore)]
            amount_ore: Money,
            #[diesel(serialize_as = Code)]
            status: TaskStatus,
            #[diesel(serialize_as = Code)]
            state: PlacementState,
            // JSON objects need string keys: this map cannot be written.
            #[diesel(serialize_as = JsonText)]
            schedule: Json<std::collections::BTreeMap<(u8, u8), u8>>,
        }
        let pool = demo_db(db);
        let mut c = pool.get().unwrap();
        let odd = OddRow {
            id: "a".into(),
            amount_ore: Money::ZERO,
            status: TaskStatus::Draft,
            state: PlacementState::Offered,
            schedule: Json([((1, 2), 3)].into()),
        };
        let err = diesel::insert_into(typed_demo::table).values(odd).execute(&mut c).expect_err("refused");
        assert!(matches!(err, diesel::result::Error::SerializationError(_)), "{err:?}");
        assert!(err.to_string().contains("does not serialize to JSON"), "{err}");
        let count: i64 = typed_demo::table.count().get_result(&mut c).expect("count");
        assert_eq!(count, 0);
    }

    fn the_seeded_caps_read_and_write_as_money(db) {
        let pool = migrated(db);
        let mut c = pool.get().unwrap();
        let cap_2025: TypedCap = caps::table.find(2025).select(TypedCap::as_select()).first(&mut c).expect("2025");
        assert_eq!(cap_2025.amount, Money::from_ore(4_276_600));

        let cap_2026 = TypedCap { year: 2026, amount: Money::from_kroner(44_000), ..cap_2025 };
        diesel::insert_into(caps::table).values(cap_2026.clone()).execute(&mut c).expect("insert 2026");
        let stored: i64 = caps::table.find(2026).select(caps::amount_ore).first(&mut c).expect("raw");
        assert_eq!(stored, 4_400_000);
        assert_eq!(caps::table.find(2026).select(TypedCap::as_select()).first(&mut c), Ok(cap_2026));
    }

    fn the_repositories_rows_round_trip_their_money_codes_and_json(db) {
        let pool = migrated(db);
        let mut c = pool.get().unwrap();
        let s = stored(&mut c);
        assert_eq!(companies::find(&mut c, &s.company.id).expect("company"), s.company);
        assert_eq!(
            tasks::find(&mut c, &s.task.id).expect("task"),
            (s.task.clone(), s.company.name.clone(), Verification::Verified)
        );
        let (citizen, card) = citizens::find(&mut c, &s.citizen.id).expect("citizen");
        assert_eq!(citizen, s.citizen);
        assert_eq!(card.map(|k| (k.number, k.status)), Some(("12345".to_owned(), CardStatus::Active)));
        assert_eq!(frikort::find_by_citizen(&mut c, &s.citizen.id).expect("card"), Some(s.card.clone()));
        assert_eq!(frikort::events(&mut c, &s.card.id).expect("events"), vec![s.event.clone()]);
        assert_eq!(employments::find(&mut c, &s.employment.id).expect("employment").0, s.employment);
        assert_eq!(placements::find(&mut c, &s.placement.id).expect("placement").0, s.placement);
        assert_eq!(shift_reports::find(&mut c, &s.report.id).expect("report"), s.report);

        // Stored as before the rows were typed: øre, codes and the same JSON text.
        let raw: (i64, String, String, String) = tasks_t::table
            .find(&s.task.id)
            .select((tasks_t::hourly_wage_ore, tasks_t::status, tasks_t::schedule, tasks_t::required_skills))
            .first(&mut c)
            .expect("raw task");
        assert_eq!((raw.0, raw.1.as_str(), raw.3.as_str()), (15_250, "filled", r#"["køkken"]"#));
        assert_eq!(serde_json::from_str::<Schedule>(&raw.2).expect("JSON"), schedule());
        let modes: String = citizens_t::table
            .find(&s.citizen.id)
            .select(citizens_t::transport_modes)
            .first(&mut c)
            .expect("raw citizen");
        assert_eq!(modes, r#"["bicycle","public_transport"]"#);
        let estimated: Option<i64> = placements_t::table
            .find(&s.placement.id)
            .select(placements_t::estimated_pay_ore)
            .first(&mut c)
            .expect("raw placement");
        assert_eq!(estimated, Some(68_625));

        // Filters by typed values find the rows.
        assert_eq!(
            placements::in_state_for_municipality(&mut c, "730", PlacementState::Approved).expect("approved").len(),
            1
        );
        assert_eq!(placements::live_of_task(&mut c, &s.task.id).expect("live").len(), 1);
        assert_eq!(companies::unverified_in(&mut c, "730").expect("unverified"), vec![]);
        assert_eq!(frikort::active_cards_in(&mut c, "730").expect("active").len(), 1);
        assert!(shift_reports::answer(&mut c, &s.report.id, ReportStatus::Confirmed, "x", repo::now(), None)
            .map(|answered| !answered)
            .expect("a disputed report is not answered again"));
    }

    fn a_stored_code_no_enum_knows_is_an_error_naming_the_column_never_a_default(db) {
        let pool = migrated(db);
        let mut c = pool.get().unwrap();
        let s = stored(&mut c);
        let named = |message: String, column: &str, kind: &str| {
            assert!(message.contains(&format!("'{column}'")), "names the column {column}: {message}");
            assert!(message.contains(&format!("`archived` is not a known {kind}")), "{message}");
        };

        overwrite(&mut c, "companies", "verification", ("id", s.company.id.as_str()), "archived");
        named(corrupt_repo(companies::find(&mut c, &s.company.id)), "verification", "company verification");
        // A task's company is read with it: the join fails the same way.
        named(corrupt_repo(tasks::find(&mut c, &s.task.id)), "verification", "company verification");

        overwrite(&mut c, "tasks", "status", ("id", &s.task.id), "archived");
        named(corrupt_repo(tasks::lock(&mut c, &s.task.id)), "status", "task status");

        overwrite(&mut c, "placements", "state", ("id", &s.placement.id), "archived");
        named(corrupt_repo(placements::find(&mut c, &s.placement.id)), "state", "placement state");
        let ever = placements::ever_approved_of_tasks(&mut c, std::slice::from_ref(&s.task.id));
        named(corrupt_repo(ever), "state", "placement state");
        // Not a live state either: the filter leaves the row out rather than guessing.
        assert_eq!(placements::live_of_task(&mut c, &s.task.id).expect("live"), vec![]);

        // Who registered or reported is a role the system knows, never a free text.
        overwrite(&mut c, "employments", "registered_by_role", ("id", s.employment.id.as_str()), "archived");
        named(corrupt_repo(employments::find(&mut c, &s.employment.id)), "registered_by_role", "actor");
        overwrite(&mut c, "shift_reports", "reported_by_role", ("id", s.report.id.as_str()), "archived");
        named(corrupt_repo(shift_reports::find(&mut c, &s.report.id)), "reported_by_role", "actor");
        overwrite(&mut c, "shift_reports", "reported_by_role", ("id", s.report.id.as_str()), "company");

        overwrite(&mut c, "shift_reports", "status", ("id", s.report.id.as_str()), "archived");
        named(corrupt_repo(shift_reports::find(&mut c, &s.report.id)), "status", "hours report status");

        overwrite(&mut c, "frikort_events", "kind", ("id", &s.event.id), "archived");
        named(corrupt_repo(frikort::events(&mut c, &s.card.id)), "kind", "card event kind");

        overwrite(&mut c, "frikort_cards", "status", ("id", s.card.id.as_str()), "archived");
        named(corrupt_repo(frikort::find_by_citizen(&mut c, &s.citizen.id)), "status", "card status");
        // The brief of the card beside the citizen reads the same column.
        let message = corrupt_repo(citizens::find(&mut c, &s.citizen.id));
        assert!(message.contains("`archived` is not a known card status"), "{message}");
    }

    fn stored_json_that_does_not_read_is_an_error_naming_the_column_never_a_default(db) {
        let pool = migrated(db);
        let mut c = pool.get().unwrap();
        let s = stored(&mut c);
        let named = |message: String, column: &str, ty: &str| {
            assert!(message.contains(&format!("'{column}'")), "names the column {column}: {message}");
            assert!(message.contains("stored JSON does not read as") && message.contains(ty), "{message}");
        };

        overwrite(&mut c, "tasks", "schedule", ("id", &s.task.id), r#"{"kind":"single"}"#);
        named(corrupt_repo(tasks::find(&mut c, &s.task.id)), "schedule", "Schedule");
        overwrite(&mut c, "tasks", "schedule", ("id", &s.task.id), &serde_json::to_string(&schedule()).unwrap());
        overwrite(&mut c, "tasks", "required_skills", ("id", &s.task.id), "gardening");
        named(corrupt_repo(tasks::find(&mut c, &s.task.id)), "required_skills", "Vec<alloc::string::String>");

        for (column, raw, ty) in [
            ("skills", "{}", "Vec<alloc::string::String>"),
            ("availability", "[]", "WeeklyAvailability"),
            ("transport_modes", r#"["teleport"]"#, "TransportMode"),
        ] {
            let fresh = CitizenRow {
                id: repo::new_id(),
                cpr_hash: format!("hash-{column}"),
                ..s.citizen.clone()
            };
            citizens::insert(&mut c, &fresh).expect("citizen");
            overwrite(&mut c, "citizens", column, ("id", &fresh.id), raw);
            named(corrupt_repo(citizens::find(&mut c, &fresh.id)), column, ty);
        }

        overwrite(&mut c, "frikort_events", "attestations", ("id", &s.event.id), r#"{"in_target_group":true}"#);
        named(corrupt_repo(frikort::events(&mut c, &s.card.id)), "attestations", "Attestations");
    }

    fn a_copy_of_a_citizen_and_their_card_as_json_keeps_the_stored_text_of_each_json_column(db) {
        let pool = migrated(db);
        let mut c = pool.get().unwrap();
        let s = stored(&mut c);
        // Copies kept with an ended period were written while these fields were text: they must
        // read back, and new copies must look the same.
        let copy = serde_json::to_value(&s.citizen).unwrap();
        assert_eq!(copy["skills"], r#"["køkken"]"#);
        assert_eq!(copy["transport_modes"], r#"["bicycle","public_transport"]"#);
        assert_eq!(copy["availability"], serde_json::to_string(&WeeklyAvailability::default()).unwrap());
        assert!(copy.get("cpr_hash").is_none() && copy.get("cpr_ciphertext").is_none());
        let back: CitizenRow = serde_json::from_value(copy).unwrap();
        assert_eq!(back, CitizenRow { cpr_hash: String::new(), cpr_ciphertext: String::new(), ..s.citizen });
        let event = serde_json::to_value(&s.event).unwrap();
        assert_eq!(event["kind"], "issued");
        assert_eq!(event["attestations"], serde_json::to_string(&attested()).unwrap());
        assert_eq!(serde_json::from_value::<CardEventRow>(event).unwrap(), s.event);
        let none = CardEventRow { attestations: None, ..s.event };
        assert_eq!(serde_json::to_value(&none).unwrap()["attestations"], serde_json::Value::Null);
        assert_eq!(serde_json::to_value(&s.card).unwrap()["status"], "active");
    }

    fn a_stored_id_not_in_the_one_uuid_form_is_an_error_naming_the_column(db) {
        let pool = migrated(db);
        let mut c = pool.get().unwrap();
        let s = stored(&mut c);
        let raw: String =
            shift_reports_t::table.select(shift_reports_t::id).first(&mut c).expect("the stored id's text");
        assert_eq!(raw, s.report.id.as_str());
        for spelling in ["not-an-id", "0F8FAD5B-D9CB-469F-A165-70867728950E"] {
            let current: String = shift_reports_t::table.select(shift_reports_t::id).first(&mut c).expect("id");
            overwrite(&mut c, "shift_reports", "id", ("id", &current), spelling);
            let message = corrupt_repo(shift_reports::of_placement(&mut c, &s.placement.id));
            assert!(message.contains("'id'"), "names the column: {message}");
            assert!(message.contains(&format!("`{spelling}` is not a hours report id")), "{message}");
        }
    }
}
