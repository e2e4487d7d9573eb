//! `src/schema.rs` is written by hand; these tests hold it to the migrated database. A fresh
//! database on each backend (PostgreSQL when `SMAAJOB_TEST_POSTGRES_URL` is set) is migrated and
//! every table, primary key, column, column type (as diesel maps it) and nullability is compared
//! with what `schema.rs` declares, as are the foreign keys behind its `joinable!` lines.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::introspect::{Schema, postgres_schema, sqlite_schema};
use smaajob_persistence::testing::TestDatabase;
use smaajob_persistence::{DbConn, connect, run_migrations};

const SCHEMA_RS: &str = include_str!("../src/schema.rs");

#[derive(Debug, Clone, PartialEq, Eq)]
struct DeclaredColumn {
    name: String,
    /// The diesel SQL type inside any `Nullable<…>`, e.g. `BigInt`.
    sql_type: String,
    nullable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct DeclaredTable {
    name: String,
    primary_key: Vec<String>,
    columns: Vec<DeclaredColumn>,
}

/// `joinable!(child -> parent (column))`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Joinable {
    child: String,
    parent: String,
    column: String,
}

#[derive(Debug, Default)]
struct Declared {
    tables: Vec<DeclaredTable>,
    joinables: Vec<Joinable>,
}

/// Reads the `table!` and `joinable!` invocations of a schema.rs. Anything in a table body that
/// is not `name -> Type,` is refused, so the parser cannot silently skip a declaration.
fn parse_schema_rs(text: &str) -> Declared {
    let mut declared = Declared::default();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("diesel::joinable!(") {
            let (child, rest) = rest.split_once("->").expect("joinable!(child -> parent (column))");
            let (parent, column) = rest.split_once('(').expect("joinable!(child -> parent (column))");
            declared.joinables.push(Joinable {
                child: child.trim().to_owned(),
                parent: parent.trim().to_owned(),
                column: column.trim_end_matches(");").trim_end_matches(')').trim().to_owned(),
            });
            continue;
        }
        if line != "diesel::table! {" {
            continue;
        }
        let head = lines.next().expect("a table name after `table! {`");
        let (name, keys) = head.split_once('(').unwrap_or_else(|| panic!("`{head}`: expected `name (key, …) {{`"));
        let keys = keys.split_once(')').map_or("", |(k, _)| k);
        let mut table = DeclaredTable {
            name: name.trim().to_owned(),
            primary_key: keys.split(',').map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).collect(),
            columns: Vec::new(),
        };
        for line in lines.by_ref() {
            if line == "}" {
                break;
            }
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            let (column, ty) = line
                .trim_end_matches(',')
                .split_once("->")
                .unwrap_or_else(|| panic!("table {}: `{line}` is not `name -> Type,`", table.name));
            let ty = ty.trim();
            let (sql_type, nullable) = match ty.strip_prefix("Nullable<").and_then(|t| t.strip_suffix('>')) {
                Some(inner) => (inner, true),
                None => (ty, false),
            };
            table.columns.push(DeclaredColumn {
                name: column.trim().to_owned(),
                sql_type: sql_type.trim().to_owned(),
                nullable,
            });
        }
        declared.tables.push(table);
    }
    declared
}

/// The diesel SQL types that read a column of this normalised database type (see
/// `common::introspect`). SQLite's row id is 64-bit whatever its declared type says.
fn diesel_types_for(db_type: &str) -> &'static [&'static str] {
    match db_type {
        "integer" => &["Integer"],
        "bigint" => &["BigInt"],
        "rowid" => &["BigInt", "Integer"],
        "text" => &["Text"],
        "double" => &["Double"],
        "boolean" => &["Bool"],
        "date" => &["Date"],
        "timestamp" => &["Timestamp"],
        "timestamptz" => &["Timestamptz"],
        _ => &[],
    }
}

/// Every way schema.rs departs from the database, one line each; empty when it matches.
fn drift(declared: &Declared, db: &Schema, backend: &str) -> Vec<String> {
    let mut out = Vec::new();
    let by_name: BTreeMap<&str, &DeclaredTable> = declared.tables.iter().map(|t| (t.name.as_str(), t)).collect();
    for name in db.tables.keys().filter(|n| !by_name.contains_key(n.as_str())) {
        out.push(format!("table {name}: in the {backend} database, missing from schema.rs"));
    }
    for table in &declared.tables {
        let Some(actual) = db.tables.get(&table.name) else {
            out.push(format!("table {}: in schema.rs, missing from the {backend} database", table.name));
            continue;
        };
        if table.primary_key != actual.primary_key {
            out.push(format!(
                "table {}: schema.rs declares primary key {:?}, {backend} has {:?}",
                table.name, table.primary_key, actual.primary_key
            ));
        }
        let db_columns: BTreeMap<&str, _> = actual.columns.iter().map(|(n, c)| (n.as_str(), c)).collect();
        for column in &table.columns {
            let at = format!("{}.{}", table.name, column.name);
            let Some(db_column) = db_columns.get(column.name.as_str()) else {
                out.push(format!("{at}: in schema.rs, missing from the {backend} database"));
                continue;
            };
            let accepted = diesel_types_for(&db_column.ty);
            if !accepted.contains(&column.sql_type.as_str()) {
                out.push(format!(
                    "{at}: schema.rs declares {}, {backend} has `{}` (read as {})",
                    column.sql_type,
                    db_column.raw_ty,
                    if accepted.is_empty() { "no type diesel maps here".to_owned() } else { accepted.join(" or ") }
                ));
            }
            if column.nullable == db_column.not_null {
                let says = |nullable: bool| if nullable { "nullable" } else { "NOT NULL" };
                out.push(format!(
                    "{at}: schema.rs declares it {}, {backend} has it {}",
                    says(column.nullable),
                    says(!db_column.not_null)
                ));
            }
        }
        let declared_names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        for (name, _) in actual.columns.iter().filter(|(n, _)| !declared_names.contains(&n.as_str())) {
            out.push(format!("{}.{name}: in the {backend} database, missing from schema.rs", table.name));
        }
        let db_names: Vec<&str> = actual.columns.iter().map(|(n, _)| n.as_str()).collect();
        let mut sorted_declared = declared_names.clone();
        let mut sorted_db = db_names.clone();
        sorted_declared.sort_unstable();
        sorted_db.sort_unstable();
        if sorted_declared == sorted_db && declared_names != db_names {
            out.push(format!(
                "table {}: schema.rs lists the columns as {declared_names:?}, {backend} as {db_names:?}",
                table.name
            ));
        }
    }
    for j in &declared.joinables {
        let has_key = db.tables.get(&j.child).is_some_and(|t| {
            t.foreign_keys.iter().any(|(column, parent, _)| *column == j.column && *parent == j.parent)
        });
        if !has_key {
            out.push(format!(
                "joinable!({} -> {} ({})): the {backend} database has no such foreign key",
                j.child, j.parent, j.column
            ));
        }
    }
    out
}

fn assert_no_drift(declared: &Declared, db: &Schema, backend: &str) {
    assert!(declared.tables.len() >= 15, "schema.rs parsed to only {} tables", declared.tables.len());
    let diff = drift(declared, db, backend);
    assert!(diff.is_empty(), "src/schema.rs does not match the migrated {backend} database:\n  {}", diff.join("\n  "));
}

fn migrated_sqlite_schema() -> Schema {
    let db = TestDatabase::sqlite();
    let pool = connect(db.url(), 1).expect("SQLite");
    let mut conn = pool.get().expect("a connection");
    run_migrations(&mut conn).expect("the migrations apply");
    let DbConn::Sqlite(c) = &mut *conn else { panic!("an SQLite connection") };
    sqlite_schema(c).0
}

#[test]
fn schema_rs_matches_the_migrated_sqlite_database() {
    assert_no_drift(&parse_schema_rs(SCHEMA_RS), &migrated_sqlite_schema(), "SQLite");
}

#[test]
fn schema_rs_matches_the_migrated_postgresql_database() {
    let Some(db) = TestDatabase::postgres("schema_rs_matches_the_migrated_postgresql_database") else { return };
    let pool = connect(db.url(), 1).expect("PostgreSQL");
    let mut conn = pool.get().expect("a connection");
    run_migrations(&mut conn).expect("the migrations apply");
    let DbConn::Pg(c) = &mut *conn else { panic!("a PostgreSQL connection") };
    assert_no_drift(&parse_schema_rs(SCHEMA_RS), &postgres_schema(c).0, "PostgreSQL");
}

#[test]
fn schema_rs_is_read_with_its_keys_types_nullability_and_joins() {
    let declared = parse_schema_rs(SCHEMA_RS);
    let caps = declared.tables.iter().find(|t| t.name == "caps").expect("caps");
    assert_eq!(caps.primary_key, ["year"]);
    let column = |name: &str| caps.columns.iter().find(|c| c.name == name).expect("a caps column").clone();
    assert_eq!(
        column("amount_ore"),
        DeclaredColumn { name: "amount_ore".into(), sql_type: "BigInt".into(), nullable: false }
    );
    assert_eq!(
        column("regulation_percent"),
        DeclaredColumn { name: "regulation_percent".into(), sql_type: "Text".into(), nullable: true }
    );
    let years = declared.tables.iter().find(|t| t.name == "citizen_years").expect("citizen_years");
    assert_eq!(years.primary_key, ["citizen_id", "year"]);
    assert!(declared.joinables.contains(&Joinable {
        child: "payouts".into(),
        parent: "employments".into(),
        column: "employment_id".into()
    }));
}

#[test]
fn a_schema_rs_that_drifted_from_the_database_is_reported_line_by_line() {
    let drifted = SCHEMA_RS
        // The caps' column only (other tables have an amount_ore too).
        .replace(
            "        year -> Integer,\n        amount_ore -> BigInt,\n",
            "        year -> Integer,\n        amount_ore -> Integer,\n",
        )
        .replace(
            "        phone -> Nullable<Text>,\n        municipality -> Text,\n",
            "        phone -> Text,\n        municipality -> Text,\n",
        )
        // The caps' set_by (the first table that has one).
        .replacen("        set_by -> Text,\n", "", 1)
        .replace(
            "        close_reason -> Nullable<Text>,\n",
            "        close_reason -> Nullable<Text>,\n        close_note -> Text,\n",
        )
        .replace("    idempotency_keys (caller, idempotency_key) {", "    idempotency_keys (caller) {")
        .replace("    payout_reversals (payout_id) {", "    payout_undos (payout_id) {")
        .replace(
            "diesel::joinable!(tasks -> companies (company_id));",
            "diesel::joinable!(tasks -> citizens (company_id));",
        );
    let mut diff = drift(&parse_schema_rs(&drifted), &migrated_sqlite_schema(), "SQLite");
    diff.sort();
    let mut expected = vec![
        "caps.amount_ore: schema.rs declares Integer, SQLite has `BIGINT` (read as BigInt)",
        "caps.set_by: in the SQLite database, missing from schema.rs",
        "citizens.phone: schema.rs declares it NOT NULL, SQLite has it nullable",
        "joinable!(tasks -> citizens (company_id)): the SQLite database has no such foreign key",
        "table idempotency_keys: schema.rs declares primary key [\"caller\"], \
         SQLite has [\"caller\", \"idempotency_key\"]",
        "table payout_reversals: in the SQLite database, missing from schema.rs",
        "table payout_undos: in schema.rs, missing from the SQLite database",
        "tasks.close_note: in schema.rs, missing from the SQLite database",
    ];
    expected.sort_unstable();
    assert_eq!(diff, expected);
}
