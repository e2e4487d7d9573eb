//! The schema of a migrated database as the database itself describes it, normalised so an
//! SQLite and a PostgreSQL description can be compared: tables, columns (type, nullability,
//! generated ids), primary keys, unique column sets, foreign keys, named indexes and CHECK
//! constraints.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text};

use super::ddl;

/// Diesel's bookkeeping table: present on both, never part of the compared schema.
pub const DIESEL_TABLE: &str = "__diesel_schema_migrations";

// ---------------------------------------------------------------------------------------------
// The schema as both backends describe it, normalised
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Normalised type: `integer`, `bigint`, `text`, `double`, `date`, `timestamp`, …, or
    /// `rowid` for SQLite's `INTEGER PRIMARY KEY` (a 64-bit alias of the row id).
    pub ty: String,
    /// The type as the database spells it, for messages.
    pub raw_ty: String,
    pub not_null: bool,
    /// Filled in by the database (SQLite `AUTOINCREMENT`, PostgreSQL serial/identity).
    pub generated: bool,
}

#[derive(Debug, Default)]
pub struct Table {
    /// In declaration order.
    pub columns: Vec<(String, Column)>,
    pub primary_key: Vec<String>,
    /// Column sets with a unique constraint or unique index (primary key excluded), each sorted.
    pub unique: BTreeSet<Vec<String>>,
    /// `column → table.column`.
    pub foreign_keys: BTreeSet<(String, String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    pub table: String,
    pub columns: Vec<String>,
    pub unique: bool,
}

#[derive(Debug, Default)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
    /// Indexes created by name (`CREATE INDEX`), not those backing constraints.
    pub indexes: BTreeMap<String, Index>,
}

pub fn sqlite_type(declared: &str, rowid: bool) -> String {
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

pub fn postgres_type(data_type: &str) -> String {
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
pub fn types_compatible(sqlite: &str, postgres: &str) -> bool {
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

pub fn sqlite_schema(conn: &mut SqliteConnection) -> (Schema, BTreeSet<String>) {
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

pub fn postgres_schema(conn: &mut PgConnection) -> (Schema, BTreeSet<String>) {
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
pub fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
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

pub fn describe(schema: &Schema) -> String {
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

// --- CHECK constraints ------------------------------------------------------------------------

/// The CHECK expressions of every table as SQLite keeps them: in the `CREATE TABLE` text it stores.
pub fn sqlite_checks(conn: &mut SqliteConnection) -> BTreeMap<String, Vec<String>> {
    let tables: Vec<SqliteTable> =
        diesel::sql_query("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .load(conn)
            .expect("sqlite_master");
    let mut out = BTreeMap::new();
    for t in tables.iter().filter(|t| t.name != DIESEL_TABLE && !t.name.starts_with("sqlite_")) {
        let checks = ddl::check_constraints(t.sql.as_deref().unwrap_or(""));
        out.insert(t.name.clone(), checks.into_values().flatten().collect());
    }
    out
}

#[derive(QueryableByName)]
struct PgCheck {
    #[diesel(sql_type = Text)]
    def: String,
}

fn pg_check_defs(conn: &mut PgConnection, relation: &str) -> Vec<String> {
    let mut defs: Vec<String> = diesel::sql_query(
        "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint \
         WHERE conrelid = to_regclass($1) AND contype = 'c'",
    )
    .bind::<Text, _>(relation)
    .load::<PgCheck>(conn)
    .expect("pg_constraint")
    .into_iter()
    .map(|c| c.def)
    .collect();
    defs.sort();
    defs
}

/// The CHECK constraints of every table of the public schema, as PostgreSQL prints them.
pub fn postgres_checks(conn: &mut PgConnection) -> BTreeMap<String, Vec<String>> {
    let tables: Vec<PgTable> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .load(conn)
    .expect("information_schema.tables");
    tables
        .into_iter()
        .filter(|t| t.name != DIESEL_TABLE)
        .map(|t| {
            let defs = pg_check_defs(conn, &format!("public.{}", t.name));
            (t.name, defs)
        })
        .collect()
}

/// SQLite's CHECK expressions as PostgreSQL prints them, so both sides compare as text: each is
/// added to an empty temporary copy of the same PostgreSQL table (PostgreSQL rewrites `BETWEEN`,
/// `IN` and parentheses in its own way). One that PostgreSQL refuses comes back as a line saying
/// so, which then matches nothing. Tables missing on PostgreSQL are left out (reported elsewhere).
pub fn sqlite_checks_as_postgres_prints_them(
    conn: &mut PgConnection,
    sqlite: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    const COPY: &str = "pg_temp.parity_check_copy";
    let mut out = BTreeMap::new();
    for (table, exprs) in sqlite {
        let created =
            conn.batch_execute(&format!("DROP TABLE IF EXISTS {COPY}; CREATE TEMP TABLE {COPY} (LIKE public.{table})"));
        if created.is_err() {
            continue;
        }
        let mut defs = Vec::new();
        for expr in exprs {
            if let Err(e) = conn.batch_execute(&format!("ALTER TABLE {COPY} ADD CHECK ({expr})")) {
                defs.push(format!("CHECK ({expr}) is not valid on PostgreSQL: {e}"));
            }
        }
        defs.extend(pg_check_defs(conn, COPY));
        defs.sort();
        out.insert(table.clone(), defs);
        conn.batch_execute(&format!("DROP TABLE {COPY}")).expect("drop the temporary copy");
    }
    out
}

/// Every CHECK constraint on one side only, one line each; empty when both sides have the same.
pub fn check_differences(
    sqlite: &BTreeMap<String, Vec<String>>,
    postgres: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut out = Vec::new();
    let none = Vec::new();
    let tables: BTreeSet<&String> = sqlite.keys().chain(postgres.keys()).collect();
    for table in tables {
        let s = sqlite.get(table).unwrap_or(&none);
        let mut p_left: Vec<&String> = postgres.get(table).unwrap_or(&none).iter().collect();
        for def in s {
            match p_left.iter().position(|p| *p == def) {
                Some(i) => {
                    p_left.remove(i);
                }
                None => out.push(format!("{table}: {def} only in SQLite")),
            }
        }
        out.extend(p_left.into_iter().map(|def| format!("{table}: {def} only in PostgreSQL")));
    }
    out
}
