//! The two migration trees (`migrations/sqlite`, `migrations/postgres`) must describe one
//! schema.
//!
//! Without a database: the same migration names, each with `up.sql` and `down.sql`, and the
//! same DDL in each pair of files, statement by statement and column by column, CHECK
//! constraints included, once the few spellings that must differ are normalised (see
//! `common/ddl.rs`).
//!
//! With PostgreSQL (`SMAAJOB_TEST_POSTGRES_URL`): both trees are applied and the resulting
//! schemas compared table by table, column by column, key by key, index by index and CHECK
//! constraint by CHECK constraint.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::ddl;
use common::introspect::{
    Column, DIESEL_TABLE, Index, Schema, Table, check_differences, describe, differences, postgres_checks,
    postgres_schema, postgres_type, sqlite_checks, sqlite_checks_as_postgres_prints_them, sqlite_schema, sqlite_type,
    types_compatible,
};
use smaajob_persistence::repo::caps;
use smaajob_persistence::testing::TestDatabase;
use smaajob_persistence::{DbConn, connect, run_migrations};

fn migrations_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations")
}

fn migration_names(backend: &str) -> BTreeSet<String> {
    let dir = migrations_root().join(backend);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn both_migration_trees_have_the_same_migrations_each_with_up_and_down_sql() {
    let sqlite = migration_names("sqlite");
    let postgres = migration_names("postgres");
    assert!(!sqlite.is_empty(), "migrations/sqlite has migrations");
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "migration folders differ:\n  only in sqlite:   {only_sqlite:?}\n  only in postgres: {only_postgres:?}"
    );
    let mut problems = Vec::new();
    for backend in ["sqlite", "postgres"] {
        for name in &sqlite {
            for file in ["up.sql", "down.sql"] {
                let path = migrations_root().join(backend).join(name).join(file);
                match std::fs::read_to_string(&path) {
                    Ok(sql) if sql.trim().is_empty() => problems.push(format!("{backend}/{name}/{file} is empty")),
                    Ok(_) => {}
                    Err(e) => problems.push(format!("{backend}/{name}/{file}: {e}")),
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn migration_names_sort_in_the_order_they_must_run() {
    // diesel runs migrations in version (name) order: each must start with a sortable version.
    for name in migration_names("sqlite") {
        let version = name.split('_').next().unwrap_or("");
        assert!(
            !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '-'),
            "`{name}` does not start with a version such as 2026-11-27-000001"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Offline: the DDL as written
// ---------------------------------------------------------------------------------------------

#[test]
fn both_migration_trees_spell_the_same_ddl_once_backend_spellings_are_normalised() {
    let names: BTreeSet<String> = migration_names("sqlite").union(&migration_names("postgres")).cloned().collect();
    let read = |backend: &str, name: &str, file: &str| {
        std::fs::read_to_string(migrations_root().join(backend).join(name).join(file)).unwrap_or_default()
    };
    let mut diff = Vec::new();
    let mut tables = 0;
    for name in &names {
        for file in ["up.sql", "down.sql"] {
            let sqlite = read("sqlite", name, file);
            tables += sqlite.to_ascii_uppercase().matches("CREATE TABLE").count();
            diff.extend(ddl::compare(&format!("{name}/{file}"), &sqlite, &read("postgres", name, file)));
        }
    }
    assert!(tables >= 15, "the SQLite tree creates only {tables} tables: was anything read?");
    assert!(
        diff.is_empty(),
        "migrations/sqlite and migrations/postgres differ (file: statement: item: backend:line `text`):\n  {}",
        diff.join("\n  ")
    );
}

#[test]
fn the_offline_comparison_reports_a_changed_check_and_a_missing_column_with_their_lines() {
    let sqlite = "-- caps
CREATE TABLE caps (
    year INTEGER PRIMARY KEY NOT NULL CHECK (year BETWEEN 2019 AND 2100),
    amount_ore BIGINT NOT NULL,
    set_by TEXT NOT NULL,
    CHECK (amount_ore > 0)
);
";
    let postgres = "-- caps
CREATE TABLE caps (
    year INTEGER PRIMARY KEY NOT NULL CHECK (year BETWEEN 2019 AND 2099),
    amount_ore BIGINT NOT NULL,
    CHECK (amount_ore >= 0)
);
";
    let diff = ddl::compare("m/up.sql", sqlite, postgres);
    assert_eq!(
        diff,
        [
            "m/up.sql: table caps: column year differs: \
             sqlite:3 `year INTEGER PRIMARY KEY NOT NULL CHECK (year BETWEEN 2019 AND 2100)` vs \
             postgres:3 `year INTEGER PRIMARY KEY NOT NULL CHECK (year BETWEEN 2019 AND 2099)`",
            "m/up.sql: table caps: column set_by only in sqlite:5 `set_by TEXT NOT NULL`",
            "m/up.sql: table caps: table constraint differs: sqlite:6 `CHECK (amount_ore > 0)` vs \
             postgres:5 `CHECK (amount_ore >= 0)`",
        ]
    );
}

#[test]
fn the_offline_comparison_ignores_case_comments_layout_and_the_backend_spellings_of_one_type() {
    let sqlite = "create table log (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, -- the row id
  at DATETIME NOT NULL,
  ok BOOL, n INT8, x REAL
);
CREATE INDEX log_at ON log (at);";
    for postgres in [
        "CREATE TABLE log (id BIGSERIAL PRIMARY KEY NOT NULL, at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
            ok BOOLEAN, n BIGINT, x DOUBLE PRECISION); CREATE INDEX log_at ON log (at);",
        "CREATE TABLE log (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY NOT NULL, at TIMESTAMP NOT NULL,
            ok BOOL, n INT8, x FLOAT8);
         /* by time */ CREATE INDEX log_at ON log (at);",
        "CREATE TABLE log (id BIGINT GENERATED BY DEFAULT AS IDENTITY (START WITH 1) PRIMARY KEY NOT NULL,
            at TIMESTAMP NOT NULL, ok BOOLEAN, n BIGINT, x DOUBLE PRECISION);
         CREATE INDEX log_at ON log (at);",
    ] {
        assert_eq!(ddl::compare("m/up.sql", sqlite, postgres), Vec::<String>::new(), "{postgres}");
    }
}

#[test]
fn the_offline_comparison_reports_types_ids_statements_and_order_that_really_differ() {
    let sqlite = "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, at TIMESTAMP NOT NULL, n INTEGER);
CREATE INDEX t_at ON t (at);
DROP TABLE a;
DROP TABLE b;";
    let postgres = "CREATE TABLE t (id SERIAL PRIMARY KEY NOT NULL, at TIMESTAMPTZ NOT NULL, n BIGINT);
DROP TABLE b;
DROP TABLE a;
CREATE INDEX t_other ON t (n);";
    let diff = ddl::compare("m/up.sql", sqlite, postgres);
    let expected = [
        "m/up.sql: table t: column id differs: sqlite:1 `id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL` vs \
         postgres:1 `id SERIAL PRIMARY KEY NOT NULL`",
        "m/up.sql: table t: column at differs: sqlite:1 `at TIMESTAMP NOT NULL` vs \
         postgres:1 `at TIMESTAMPTZ NOT NULL`",
        "m/up.sql: table t: column n differs: sqlite:1 `n INTEGER` vs postgres:1 `n BIGINT`",
        "m/up.sql: index t_at only in sqlite:2 `CREATE INDEX t_at ON t (at)`",
        "m/up.sql: index t_other only in postgres:4 `CREATE INDEX t_other ON t (n)`",
        "m/up.sql: statement order sqlite [\"table t\", \"drop table a\", \"drop table b\"] vs \
         postgres [\"table t\", \"drop table b\", \"drop table a\"]",
    ];
    assert_eq!(diff, expected);
}

#[test]
fn the_check_expressions_of_a_create_table_are_found_on_columns_and_on_the_table() {
    let sql = "CREATE TABLE p (a INTEGER NOT NULL CHECK (a > 0), b TEXT CHECK (b IN ('x', 'y')),
        CONSTRAINT c CHECK ((a + 1) > 1), CHECK (a < 9));";
    let checks = ddl::check_constraints(sql);
    assert_eq!(
        checks,
        BTreeMap::from([(
            "p".to_owned(),
            vec!["a > 0".to_owned(), "b IN ('x', 'y')".to_owned(), "(a + 1) > 1".to_owned(), "a < 9".to_owned()]
        )])
    );
}

#[test]
fn a_check_on_one_side_only_is_reported_per_table() {
    let sqlite = BTreeMap::from([("t".to_owned(), vec!["CHECK ((a > 0))".to_owned(), "CHECK ((b > 0))".to_owned()])]);
    let postgres =
        BTreeMap::from([("t".to_owned(), vec!["CHECK ((a >= 0))".to_owned(), "CHECK ((b > 0))".to_owned()])]);
    assert_eq!(
        check_differences(&sqlite, &postgres),
        ["t: CHECK ((a > 0)) only in SQLite", "t: CHECK ((a >= 0)) only in PostgreSQL"]
    );
    assert!(check_differences(&sqlite, &sqlite).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Online: the migrated databases
// ---------------------------------------------------------------------------------------------

#[test]
fn the_normalisation_pairs_sqlite_and_postgresql_spellings_of_the_same_types() {
    let pairs = [
        ("TEXT", false, "text"),
        ("BIGINT", false, "bigint"),
        ("INTEGER", false, "integer"),
        ("INTEGER", true, "bigint"),
        ("INTEGER", true, "integer"),
        ("DOUBLE PRECISION", false, "double precision"),
        ("DATE", false, "date"),
        ("TIMESTAMP", false, "timestamp without time zone"),
    ];
    for (sqlite, rowid, pg) in pairs {
        assert!(types_compatible(&sqlite_type(sqlite, rowid), &postgres_type(pg)), "{sqlite} ↔ {pg}");
    }
    let mismatches = [
        ("TIMESTAMP", false, "timestamp with time zone"),
        ("INTEGER", false, "bigint"),
        ("BIGINT", false, "integer"),
        ("TEXT", false, "integer"),
        ("DOUBLE PRECISION", false, "numeric"),
    ];
    for (sqlite, rowid, pg) in mismatches {
        assert!(!types_compatible(&sqlite_type(sqlite, rowid), &postgres_type(pg)), "{sqlite} must not match {pg}");
    }
}

fn col(ty: &str, not_null: bool) -> Column {
    Column { ty: ty.into(), raw_ty: ty.into(), not_null, generated: false }
}

#[test]
fn the_comparison_reports_every_kind_of_difference_on_its_own_line() {
    let table = |columns: Vec<(&str, Column)>| Table {
        columns: columns.into_iter().map(|(n, c)| (n.to_owned(), c)).collect(),
        primary_key: vec!["id".into()],
        unique: BTreeSet::from([vec!["cvr".to_owned()]]),
        foreign_keys: BTreeSet::from([("owner".to_owned(), "people".to_owned(), "id".to_owned())]),
    };
    let index = |columns: &[&str]| Index {
        table: "firms".into(),
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        unique: false,
    };
    let mut sqlite = Schema::default();
    sqlite.tables.insert(
        "firms".into(),
        table(vec![("id", col("rowid", true)), ("cvr", col("text", true)), ("at", col("timestamp", true))]),
    );
    sqlite.tables.insert("only_here".into(), Table::default());
    sqlite.indexes.insert("firms_cvr".into(), index(&["cvr"]));
    sqlite.indexes.insert("firms_at".into(), index(&["at"]));
    let mut postgres = Schema::default();
    let mut firms =
        table(vec![("id", col("bigint", true)), ("cvr", col("text", false)), ("at", col("timestamptz", true))]);
    firms.primary_key = vec!["cvr".into()];
    firms.unique.clear();
    firms.foreign_keys.clear();
    firms.columns.push(("extra".into(), col("text", false)));
    postgres.tables.insert("firms".into(), firms);
    postgres.indexes.insert("firms_cvr".into(), index(&["cvr", "id"]));

    let diff = differences(&sqlite, &postgres);
    let expected = [
        "table only_here: only in SQLite",
        "firms.at: type SQLite `timestamp` (timestamp) vs PostgreSQL `timestamptz` (timestamptz)",
        "firms.cvr: SQLite NOT NULL vs PostgreSQL nullable",
        "firms.extra: only in PostgreSQL (text)",
        "firms: primary key SQLite [\"id\"] vs PostgreSQL [\"cvr\"]",
        "firms: unique column sets SQLite [[\"cvr\"]] vs PostgreSQL []",
        "firms: foreign keys SQLite [\"firms.owner → people.id\"] vs PostgreSQL []",
        "index firms_at: only in SQLite",
        "index firms_cvr: SQLite",
    ];
    for e in expected {
        assert!(diff.iter().any(|d| d.starts_with(e)), "missing `{e}` in:\n{}", diff.join("\n"));
    }
    assert_eq!(diff.len(), expected.len(), "{}", diff.join("\n"));
    assert!(differences(&sqlite, &sqlite).is_empty(), "a schema equals itself");
}

#[test]
fn both_migration_trees_produce_the_same_schema() {
    let Some(pg_db) = TestDatabase::postgres("both_migration_trees_produce_the_same_schema") else { return };
    let sqlite_db = TestDatabase::sqlite();

    let sqlite_pool = connect(sqlite_db.url(), 1).expect("SQLite");
    let postgres_pool = connect(pg_db.url(), 1).expect("PostgreSQL");
    let mut sqlite_conn = sqlite_pool.get().expect("SQLite connection");
    let mut postgres_conn = postgres_pool.get().expect("PostgreSQL connection");
    let expected = migration_names("sqlite").len();
    assert_eq!(run_migrations(&mut sqlite_conn).expect("SQLite migrations"), expected);
    assert_eq!(run_migrations(&mut postgres_conn).expect("PostgreSQL migrations"), expected);

    // The seeded data is the same, too.
    assert_eq!(caps::list(&mut sqlite_conn).expect("caps"), caps::list(&mut postgres_conn).expect("caps"));

    let DbConn::Sqlite(s) = &mut *sqlite_conn else { panic!("an SQLite connection") };
    let DbConn::Pg(p) = &mut *postgres_conn else { panic!("a PostgreSQL connection") };
    let (sqlite, sqlite_all) = sqlite_schema(s);
    let (postgres, postgres_all) = postgres_schema(p);

    // Diesel's own table exists on both (the migrations ran through it) but is not compared.
    assert!(sqlite_all.contains(DIESEL_TABLE), "{sqlite_all:?}");
    assert!(postgres_all.contains(DIESEL_TABLE), "{postgres_all:?}");
    assert!(!sqlite.tables.contains_key(DIESEL_TABLE) && !postgres.tables.contains_key(DIESEL_TABLE));
    assert!(sqlite.indexes.values().chain(postgres.indexes.values()).all(|ix| ix.table != DIESEL_TABLE));

    // Guard against comparing two empty descriptions.
    for expected_table in ["caps", "citizens", "frikort_cards", "frikort_events", "companies", "audit_log"] {
        assert!(sqlite.tables.contains_key(expected_table), "SQLite lacks {expected_table}:\n{}", describe(&sqlite));
    }
    assert!(
        sqlite.tables.values().any(|t| !t.foreign_keys.is_empty()) && !sqlite.indexes.is_empty(),
        "the SQLite description found no foreign keys or indexes:\n{}",
        describe(&sqlite)
    );

    let mut diff = differences(&sqlite, &postgres);

    // CHECK constraints: PostgreSQL prints both sides, so `BETWEEN`, `IN` and parentheses are
    // spelled alike.
    let sqlite_checks = sqlite_checks(s);
    let check_count: usize = sqlite_checks.values().map(Vec::len).sum();
    assert!(check_count >= 20, "SQLite shows only {check_count} CHECK constraints: {sqlite_checks:?}");
    let postgres_checks = postgres_checks(p);
    diff.extend(check_differences(&sqlite_checks_as_postgres_prints_them(p, &sqlite_checks), &postgres_checks));

    assert!(
        diff.is_empty(),
        "migrations/sqlite and migrations/postgres produce different schemas:\n  {}\n\nSQLite:\n{}\nPostgreSQL:\n{}",
        diff.join("\n  "),
        describe(&sqlite),
        describe(&postgres)
    );
}
