//! The two migration trees (`migrations/sqlite`, `migrations/postgres`) must describe one
//! schema. Without a database: the same migration names, each with `up.sql` and `down.sql`.
//! With PostgreSQL (`SMAAJOB_TEST_POSTGRES_URL`): both trees are applied and the resulting
//! schemas compared table by table, column by column, key by key, index by index.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text};
use smaajob_persistence::repo::caps;
use smaajob_persistence::testing::TestDatabase;
use smaajob_persistence::{DbConn, connect, run_migrations};

/// Diesel's bookkeeping table: present on both, never part of the compared schema.
const DIESEL_TABLE: &str = "__diesel_schema_migrations";

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
// The schema as both backends describe it, normalised
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    /// Normalised type: `integer`, `bigint`, `text`, `double`, `date`, `timestamp`, …, or
    /// `rowid` for SQLite's `INTEGER PRIMARY KEY` (a 64-bit alias of the row id).
    ty: String,
    /// The type as the database spells it, for messages.
    raw_ty: String,
    not_null: bool,
    /// Filled in by the database (SQLite `AUTOINCREMENT`, PostgreSQL serial/identity).
    generated: bool,
}

#[derive(Debug, Default)]
struct Table {
    /// In declaration order.
    columns: Vec<(String, Column)>,
    primary_key: Vec<String>,
    /// Column sets with a unique constraint or unique index (primary key excluded), each sorted.
    unique: BTreeSet<Vec<String>>,
    /// `column → table.column`.
    foreign_keys: BTreeSet<(String, String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Index {
    table: String,
    columns: Vec<String>,
    unique: bool,
}

#[derive(Debug, Default)]
struct Schema {
    tables: BTreeMap<String, Table>,
    /// Indexes created by name (`CREATE INDEX`), not those backing constraints.
    indexes: BTreeMap<String, Index>,
}

fn sqlite_type(declared: &str, rowid: bool) -> String {
    let d = declared.trim().to_ascii_lowercase();
    match d.as_str() {
        "integer" if rowid => "rowid",
        "integer" | "int" => "integer",
        "bigint" | "int8" => "bigint",
        "text" | "varchar" => "text",
        "double precision" | "double" | "real" | "float" => "double",
        "boolean" | "bool" => "boolean",
        "date" => "date",
        "timestamp" | "datetime" => "timestamp",
        other => return other.to_owned(),
    }
    .to_owned()
}

fn postgres_type(data_type: &str) -> String {
    match data_type {
        "integer" => "integer",
        "bigint" => "bigint",
        "text" | "character varying" => "text",
        "double precision" => "double",
        "boolean" => "boolean",
        "date" => "date",
        "timestamp without time zone" => "timestamp",
        "timestamp with time zone" => "timestamptz",
        other => other,
    }
    .to_owned()
}

/// SQLite's row-id alias holds 64 bits whatever PostgreSQL declares for the key.
fn types_compatible(sqlite: &str, postgres: &str) -> bool {
    sqlite == postgres || (sqlite == "rowid" && matches!(postgres, "integer" | "bigint"))
}

fn split_columns(s: Option<String>) -> Vec<String> {
    s.map(|s| s.split(',').map(str::to_owned).collect()).unwrap_or_default()
}

// --- SQLite -----------------------------------------------------------------------------------

#[derive(QueryableByName)]
struct SqliteTable {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    declared: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    is_unique: i32,
    #[diesel(sql_type = Text)]
    origin: String,
}

#[derive(QueryableByName)]
struct SqliteIndexColumn {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

#[derive(QueryableByName)]
struct SqliteForeignKey {
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    from_col: String,
    #[diesel(sql_type = Nullable<Text>)]
    to_col: Option<String>,
}

fn sqlite_schema(conn: &mut SqliteConnection) -> (Schema, BTreeSet<String>) {
    let all_tables: Vec<SqliteTable> =
        diesel::sql_query("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .load(conn)
            .expect("sqlite_master");
    let all_names: BTreeSet<String> = all_tables.iter().map(|t| t.name.clone()).collect();
    let mut schema = Schema::default();
    for t in all_tables.iter().filter(|t| t.name != DIESEL_TABLE && !t.name.starts_with("sqlite_")) {
        let autoincrement = t.sql.as_deref().unwrap_or("").to_ascii_uppercase().contains("AUTOINCREMENT");
        let cols: Vec<SqliteColumn> = diesel::sql_query(
            "SELECT name, type AS declared, \"notnull\" AS not_null, pk FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind::<Text, _>(&t.name)
        .load(conn)
        .expect("pragma_table_info");
        let pk_count = cols.iter().filter(|c| c.pk > 0).count();
        let mut table = Table::default();
        let mut pk: Vec<(i32, String)> = Vec::new();
        for c in &cols {
            // Only a lone INTEGER PRIMARY KEY column aliases the 64-bit row id.
            let rowid = c.pk > 0 && pk_count == 1 && c.declared.eq_ignore_ascii_case("integer");
            table.columns.push((
                c.name.clone(),
                Column {
                    ty: sqlite_type(&c.declared, rowid),
                    raw_ty: c.declared.clone(),
                    not_null: c.not_null != 0,
                    generated: rowid && autoincrement,
                },
            ));
            if c.pk > 0 {
                pk.push((c.pk, c.name.clone()));
            }
        }
        pk.sort();
        table.primary_key = pk.into_iter().map(|(_, n)| n).collect();

        let indexes: Vec<SqliteIndex> =
            diesel::sql_query("SELECT name, \"unique\" AS is_unique, origin FROM pragma_index_list(?) ORDER BY name")
                .bind::<Text, _>(&t.name)
                .load(conn)
                .expect("pragma_index_list");
        for ix in indexes {
            let columns: Vec<String> = diesel::sql_query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                .bind::<Text, _>(&ix.name)
                .load::<SqliteIndexColumn>(conn)
                .expect("pragma_index_info")
                .into_iter()
                .map(|c| c.name.unwrap_or_else(|| "<expression>".into()))
                .collect();
            if ix.is_unique != 0 && ix.origin != "pk" {
                let mut set = columns.clone();
                set.sort();
                table.unique.insert(set);
            }
            if ix.origin == "c" {
                schema
                    .indexes
                    .insert(ix.name.clone(), Index { table: t.name.clone(), columns, unique: ix.is_unique != 0 });
            }
        }

        let fks: Vec<SqliteForeignKey> = diesel::sql_query(
            "SELECT \"table\" AS ref_table, \"from\" AS from_col, \"to\" AS to_col FROM pragma_foreign_key_list(?)",
        )
        .bind::<Text, _>(&t.name)
        .load(conn)
        .expect("pragma_foreign_key_list");
        for fk in fks {
            // A missing `to` means the parent's primary key.
            let to = fk.to_col.unwrap_or_else(|| "<primary key>".into());
            table.foreign_keys.insert((fk.from_col, fk.ref_table, to));
        }
        schema.tables.insert(t.name.clone(), table);
    }
    (schema, all_names)
}

// --- PostgreSQL -------------------------------------------------------------------------------

#[derive(QueryableByName)]
struct PgTable {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
    #[diesel(sql_type = Bool)]
    generated: bool,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Bool)]
    is_primary: bool,
    #[diesel(sql_type = Bool)]
    backs_constraint: bool,
    #[diesel(sql_type = Nullable<Text>)]
    columns: Option<String>,
}

#[derive(QueryableByName)]
struct PgForeignKey {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    ref_column: String,
}

fn postgres_schema(conn: &mut PgConnection) -> (Schema, BTreeSet<String>) {
    let all_names: BTreeSet<String> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .load::<PgTable>(conn)
    .expect("information_schema.tables")
    .into_iter()
    .map(|t| t.name)
    .collect();
    let mut schema = Schema::default();
    for name in all_names.iter().filter(|n| *n != DIESEL_TABLE) {
        let cols: Vec<PgColumn> = diesel::sql_query(
            "SELECT column_name::text AS name, data_type::text AS data_type, \
                    is_nullable = 'YES' AS nullable, \
                    (coalesce(column_default, '') LIKE 'nextval(%' OR is_identity = 'YES') AS generated \
             FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
        )
        .bind::<Text, _>(name)
        .load(conn)
        .expect("information_schema.columns");
        let table = Table {
            columns: cols
                .into_iter()
                .map(|c| {
                    let column = Column {
                        ty: postgres_type(&c.data_type),
                        raw_ty: c.data_type,
                        not_null: !c.nullable,
                        generated: c.generated,
                    };
                    (c.name, column)
                })
                .collect(),
            ..Table::default()
        };
        schema.tables.insert(name.clone(), table);
    }

    let indexes: Vec<PgIndex> = diesel::sql_query(
        "SELECT ic.relname::text AS index_name, tc.relname::text AS table_name, \
                i.indisunique AS is_unique, i.indisprimary AS is_primary, \
                EXISTS (SELECT 1 FROM pg_constraint c \
                        WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid \
                          AND c.contype IN ('p', 'u', 'x')) AS backs_constraint, \
                (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
                   FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) AS columns \
         FROM pg_index i \
         JOIN pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_class tc ON tc.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = tc.relnamespace \
         WHERE n.nspname = 'public' ORDER BY 1",
    )
    .load(conn)
    .expect("pg_index");
    for ix in indexes {
        let Some(table) = schema.tables.get_mut(&ix.table_name) else { continue };
        let columns = split_columns(ix.columns);
        if ix.is_primary {
            table.primary_key = columns.clone();
        } else if ix.is_unique {
            let mut set = columns.clone();
            set.sort();
            table.unique.insert(set);
        }
        if !ix.backs_constraint {
            schema.indexes.insert(ix.index_name, Index { table: ix.table_name, columns, unique: ix.is_unique });
        }
    }

    let fks: Vec<PgForeignKey> = diesel::sql_query(
        "SELECT cl.relname::text AS table_name, a.attname::text AS column_name, \
                rcl.relname::text AS ref_table, ra.attname::text AS ref_column \
         FROM pg_constraint c \
         JOIN pg_class cl ON cl.oid = c.conrelid \
         JOIN pg_class rcl ON rcl.oid = c.confrelid \
         JOIN pg_namespace n ON n.oid = cl.relnamespace \
         CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(attnum, refnum) \
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
         JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.refnum \
         WHERE c.contype = 'f' AND n.nspname = 'public'",
    )
    .load(conn)
    .expect("pg_constraint");
    for fk in fks {
        if let Some(table) = schema.tables.get_mut(&fk.table_name) {
            table.foreign_keys.insert((fk.column_name, fk.ref_table, fk.ref_column));
        }
    }
    (schema, all_names)
}

// --- Comparison -------------------------------------------------------------------------------

fn show_set<T: std::fmt::Debug>(s: &BTreeSet<T>) -> String {
    format!("{:?}", s.iter().collect::<Vec<_>>())
}

/// Every difference, one line each; empty when the schemas match.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    let s_tables: BTreeSet<&String> = sqlite.tables.keys().collect();
    let p_tables: BTreeSet<&String> = postgres.tables.keys().collect();
    for t in s_tables.difference(&p_tables) {
        out.push(format!("table {t}: only in SQLite"));
    }
    for t in p_tables.difference(&s_tables) {
        out.push(format!("table {t}: only in PostgreSQL"));
    }
    for name in s_tables.intersection(&p_tables) {
        let (s, p) = (&sqlite.tables[*name], &postgres.tables[*name]);
        let s_cols: BTreeMap<&String, &Column> = s.columns.iter().map(|(n, c)| (n, c)).collect();
        let p_cols: BTreeMap<&String, &Column> = p.columns.iter().map(|(n, c)| (n, c)).collect();
        for (col, sc) in &s_cols {
            let Some(pc) = p_cols.get(col) else {
                out.push(format!("{name}.{col}: only in SQLite ({})", sc.raw_ty));
                continue;
            };
            if !types_compatible(&sc.ty, &pc.ty) {
                out.push(format!(
                    "{name}.{col}: type SQLite `{}` ({}) vs PostgreSQL `{}` ({})",
                    sc.raw_ty, sc.ty, pc.raw_ty, pc.ty
                ));
            }
            if sc.not_null != pc.not_null {
                let nn = |b: bool| if b { "NOT NULL" } else { "nullable" };
                out.push(format!("{name}.{col}: SQLite {} vs PostgreSQL {}", nn(sc.not_null), nn(pc.not_null)));
            }
            if sc.generated != pc.generated {
                out.push(format!(
                    "{name}.{col}: generated by the database on SQLite: {}, on PostgreSQL: {}",
                    sc.generated, pc.generated
                ));
            }
        }
        for col in p_cols.keys().filter(|c| !s_cols.contains_key(*c)) {
            out.push(format!("{name}.{col}: only in PostgreSQL ({})", p_cols[col].raw_ty));
        }
        let s_order: Vec<&String> = s.columns.iter().map(|(n, _)| n).collect();
        let p_order: Vec<&String> = p.columns.iter().map(|(n, _)| n).collect();
        if s_cols.keys().eq(p_cols.keys()) && s_order != p_order {
            out.push(format!("{name}: column order SQLite {s_order:?} vs PostgreSQL {p_order:?}"));
        }
        if s.primary_key != p.primary_key {
            out.push(format!("{name}: primary key SQLite {:?} vs PostgreSQL {:?}", s.primary_key, p.primary_key));
        }
        if s.unique != p.unique {
            out.push(format!(
                "{name}: unique column sets SQLite {} vs PostgreSQL {}",
                show_set(&s.unique),
                show_set(&p.unique)
            ));
        }
        if s.foreign_keys != p.foreign_keys {
            let fk = |set: &BTreeSet<(String, String, String)>| {
                set.iter().map(|(c, t, r)| format!("{name}.{c} → {t}.{r}")).collect::<Vec<_>>()
            };
            out.push(format!(
                "{name}: foreign keys SQLite {:?} vs PostgreSQL {:?}",
                fk(&s.foreign_keys),
                fk(&p.foreign_keys)
            ));
        }
    }
    let s_ix: BTreeSet<&String> = sqlite.indexes.keys().collect();
    let p_ix: BTreeSet<&String> = postgres.indexes.keys().collect();
    for ix in s_ix.difference(&p_ix) {
        out.push(format!("index {ix}: only in SQLite ({:?})", sqlite.indexes[*ix]));
    }
    for ix in p_ix.difference(&s_ix) {
        out.push(format!("index {ix}: only in PostgreSQL ({:?})", postgres.indexes[*ix]));
    }
    for ix in s_ix.intersection(&p_ix) {
        let (s, p) = (&sqlite.indexes[*ix], &postgres.indexes[*ix]);
        if s != p {
            out.push(format!("index {ix}: SQLite {s:?} vs PostgreSQL {p:?}"));
        }
    }
    out
}

fn describe(schema: &Schema) -> String {
    let mut s = String::new();
    for (name, t) in &schema.tables {
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|(n, c)| format!("{n} {}{}", c.ty, if c.not_null { " not null" } else { "" }))
            .collect();
        let _ = writeln!(s, "  {name}({}) pk {:?}", cols.join(", "), t.primary_key);
    }
    for (name, ix) in &schema.indexes {
        let _ = writeln!(s, "  index {name} on {}({})", ix.table, ix.columns.join(", "));
    }
    s
}

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

    let diff = differences(&sqlite, &postgres);
    assert!(
        diff.is_empty(),
        "migrations/sqlite and migrations/postgres produce different schemas:\n  {}\n\nSQLite:\n{}\nPostgreSQL:\n{}",
        diff.join("\n  "),
        describe(&sqlite),
        describe(&postgres)
    );
}
