//! Rows that carry domain types (see `smaajob_persistence::types`), end to end on both backends:
//! the seeded `caps` table read and written with its amount as `Money`, and a test-only table with
//! every kind of typed column, created in a migrated database.

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use chrono::{NaiveDate, NaiveTime};
use common::migrated;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use smaajob_domain::{Money, PlacementState, Schedule, TaskStatus};
use smaajob_persistence::schema::caps;
use smaajob_persistence::testing::TestDatabase;
use smaajob_persistence::types::{Code, Json, JsonText, NullableJsonText, NullableOre, Ore};
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

/// The seeded caps, with the amount as `Money` (the crate's own `CapRow` keeps `i64` øre).
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
}
