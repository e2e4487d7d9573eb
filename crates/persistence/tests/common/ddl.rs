//! The migration SQL read without a database: split into statements and, for `CREATE TABLE`, into
//! column definitions and table constraints, with the few spellings that must differ between
//! SQLite and PostgreSQL normalised away, so the two trees can be compared item by item.
//!
//! What is normalised (everything else must be spelled the same, CHECK constraints included):
//! - letter case of keywords and unquoted names, whitespace and comments;
//! - type synonyms of each backend (`INT`/`INT4` → `INTEGER`, `INT8` → `BIGINT`, `BOOL` →
//!   `BOOLEAN`, SQLite `REAL`/`DOUBLE`/`FLOAT` and PostgreSQL `FLOAT8` → `DOUBLE PRECISION`,
//!   SQLite `DATETIME` and PostgreSQL `TIMESTAMP WITHOUT TIME ZONE` → `TIMESTAMP`, PostgreSQL
//!   `TIMESTAMP WITH TIME ZONE` → `TIMESTAMPTZ`);
//! - a 64-bit id the database assigns: SQLite `INTEGER PRIMARY KEY AUTOINCREMENT` and PostgreSQL
//!   `BIGSERIAL` or `BIGINT GENERATED … AS IDENTITY`. A 32-bit `SERIAL` is not the same thing.

use std::collections::BTreeMap;

/// Which tree a file belongs to: the spellings each accepts differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `migrations/sqlite`.
    Sqlite,
    /// `migrations/postgres`.
    Postgres,
}

impl Dialect {
    fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    /// A keyword or unquoted name, upper-cased (both backends ignore its case).
    Word(String),
    /// A quoted name, `"…"`, as written.
    Quoted(String),
    /// A string literal, `'…'`, as written.
    Str(String),
    Number(String),
    Punct(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
    start: usize,
    end: usize,
}

fn is_word(t: &Token, w: &str) -> bool {
    matches!(&t.tok, Tok::Word(x) if x == w)
}

fn is_punct(t: &Token, p: &str) -> bool {
    matches!(&t.tok, Tok::Punct(x) if x == p)
}

fn tokenize(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let start_line = line;
        if c == b'\n' {
            line += 1;
            i += 1;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if sql[i..].starts_with("--") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if sql[i..].starts_with("/*") {
            let end = sql[i + 2..].find("*/").map_or(bytes.len(), |e| i + 2 + e + 2);
            line += sql[i..end].matches('\n').count();
            i = end;
            continue;
        }
        let tok = if c == b'\'' || c == b'"' {
            // A doubled quote inside is the quote itself.
            i += 1;
            loop {
                match bytes.get(i) {
                    None => break,
                    Some(&q) if q == c && bytes.get(i + 1) == Some(&c) => i += 2,
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some(&b'\n') => {
                        line += 1;
                        i += 1;
                    }
                    Some(_) => i += 1,
                }
            }
            let text = sql[start..i].to_owned();
            if c == b'\'' { Tok::Str(text) } else { Tok::Quoted(text) }
        } else if c.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            Tok::Number(sql[start..i].to_owned())
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            Tok::Word(sql[start..i].to_ascii_uppercase())
        } else {
            let two = sql.get(i..i + 2).unwrap_or("");
            let len = if ["<=", ">=", "<>", "!=", "||", "::"].contains(&two) {
                2
            } else {
                sql[i..].chars().next().map_or(1, char::len_utf8)
            };
            i += len;
            Tok::Punct(sql[start..i].to_owned())
        };
        out.push(Token { tok, line: start_line, start, end: i });
    }
    out
}

/// Tokens as one comparable string.
fn render(tokens: &[Token]) -> String {
    let mut s = String::new();
    for (i, t) in tokens.iter().enumerate() {
        let text = match &t.tok {
            Tok::Word(x) | Tok::Quoted(x) | Tok::Str(x) | Tok::Number(x) | Tok::Punct(x) => x.as_str(),
        };
        let tight_before = matches!(text, ")" | ",");
        let tight_after_prev = i > 0 && is_punct(&tokens[i - 1], "(");
        if i > 0 && !tight_before && !tight_after_prev {
            s.push(' ');
        }
        s.push_str(text);
    }
    s
}

/// The source text of a run of tokens, whitespace collapsed, for messages.
fn source(sql: &str, tokens: &[Token]) -> String {
    match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => sql[first.start..last.end].split_whitespace().collect::<Vec<_>>().join(" "),
        _ => String::new(),
    }
}

/// Splits at `sep` tokens outside parentheses.
fn split_top_level<'t>(tokens: &'t [Token], sep: &str) -> Vec<&'t [Token]> {
    let mut parts = Vec::new();
    let (mut depth, mut from) = (0i32, 0);
    for (i, t) in tokens.iter().enumerate() {
        if is_punct(t, "(") {
            depth += 1;
        } else if is_punct(t, ")") {
            depth -= 1;
        } else if depth == 0 && is_punct(t, sep) {
            parts.push(&tokens[from..i]);
            from = i + 1;
        }
    }
    parts.push(&tokens[from..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// The index of the `)` closing the `(` at `open`.
fn closing_paren(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        if is_punct(t, "(") {
            depth += 1;
        } else if is_punct(t, ")") {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

fn word(w: &str, like: &Token) -> Token {
    Token { tok: Tok::Word(w.to_owned()), ..like.clone() }
}

/// Words that end a column's type and start its constraints.
const CONSTRAINT_WORDS: [&str; 12] = [
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "REFERENCES",
    "COLLATE",
    "GENERATED",
    "AUTOINCREMENT",
    "AS",
];

/// A column definition with the backend's spelling of its type replaced by the shared one.
fn normalise_column(dialect: Dialect, tokens: &[Token]) -> Vec<Token> {
    let Some((name, rest)) = tokens.split_first() else { return Vec::new() };
    let type_len = rest
        .iter()
        .position(|t| matches!(&t.tok, Tok::Word(w) if CONSTRAINT_WORDS.contains(&w.as_str())))
        .unwrap_or(rest.len());
    let (ty, constraints) = rest.split_at(type_len);
    let ty_words: Vec<&str> = ty
        .iter()
        .map(|t| match &t.tok {
            Tok::Word(w) => w.as_str(),
            _ => "",
        })
        .collect();
    let mut constraints: Vec<Token> = constraints.to_vec();

    let canonical: Option<&str> = match (dialect, ty_words.as_slice()) {
        (_, ["INTEGER"]) => Some("INTEGER"),
        (_, ["BIGINT"]) => Some("BIGINT"),
        (_, ["TEXT"]) => Some("TEXT"),
        (_, ["BOOLEAN" | "BOOL"]) => Some("BOOLEAN"),
        (_, ["DATE"]) => Some("DATE"),
        (_, ["TIMESTAMP"]) => Some("TIMESTAMP"),
        (_, ["DOUBLE", "PRECISION"]) => Some("DOUBLE PRECISION"),
        (Dialect::Sqlite, ["INT"]) => Some("INTEGER"),
        (Dialect::Sqlite, ["INT8"]) => Some("BIGINT"),
        (Dialect::Sqlite, ["REAL" | "DOUBLE" | "FLOAT"]) => Some("DOUBLE PRECISION"),
        (Dialect::Sqlite, ["DATETIME"]) => Some("TIMESTAMP"),
        (Dialect::Postgres, ["INT" | "INT4"]) => Some("INTEGER"),
        (Dialect::Postgres, ["INT8"]) => Some("BIGINT"),
        (Dialect::Postgres, ["FLOAT8"]) => Some("DOUBLE PRECISION"),
        (Dialect::Postgres, ["TIMESTAMP", "WITHOUT", "TIME", "ZONE"]) => Some("TIMESTAMP"),
        (Dialect::Postgres, ["TIMESTAMPTZ"] | ["TIMESTAMP", "WITH", "TIME", "ZONE"]) => Some("TIMESTAMPTZ"),
        (Dialect::Postgres, ["BIGSERIAL" | "SERIAL8"]) => Some("GENERATED_ID"),
        _ => None,
    };
    let mut canonical = canonical.map(str::to_owned);

    match dialect {
        Dialect::Sqlite => {
            // AUTOINCREMENT only exists on an INTEGER PRIMARY KEY, the 64-bit row id.
            if let Some(i) = constraints.iter().position(|t| is_word(t, "AUTOINCREMENT"))
                && canonical.as_deref() == Some("INTEGER")
            {
                constraints.remove(i);
                canonical = Some("GENERATED_ID".into());
            }
        }
        Dialect::Postgres => {
            // `GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY [ ( options ) ]` on a BIGINT.
            if let Some(i) = constraints.iter().position(|t| is_word(t, "GENERATED")) {
                let mut j = i + 1;
                if constraints.get(j).is_some_and(|t| is_word(t, "ALWAYS")) {
                    j += 1;
                } else if constraints.get(j).is_some_and(|t| is_word(t, "BY"))
                    && constraints.get(j + 1).is_some_and(|t| is_word(t, "DEFAULT"))
                {
                    j += 2;
                }
                if constraints.get(j).is_some_and(|t| is_word(t, "AS"))
                    && constraints.get(j + 1).is_some_and(|t| is_word(t, "IDENTITY"))
                    && canonical.as_deref() == Some("BIGINT")
                {
                    let mut end = j + 2;
                    if constraints.get(end).is_some_and(|t| is_punct(t, "(")) {
                        end = closing_paren(&constraints, end).map_or(constraints.len(), |e| e + 1);
                    }
                    constraints.drain(i..end);
                    canonical = Some("GENERATED_ID".into());
                }
            }
        }
    }

    let mut out = vec![name.clone()];
    match (canonical, ty.first()) {
        (Some(c), Some(first)) => out.extend(c.split(' ').map(|w| word(w, first))),
        _ => out.extend(ty.iter().cloned()),
    }
    out.extend(constraints);
    out
}

/// One column definition or table constraint of a `CREATE TABLE`.
#[derive(Debug, Clone, Default)]
struct Item {
    /// Comparable form, after normalisation.
    normal: String,
    /// As written, for messages.
    text: String,
    line: usize,
}

#[derive(Debug, Default)]
struct Table {
    /// Column definitions by name, in declaration order.
    columns: Vec<(String, Item)>,
    /// PRIMARY KEY, UNIQUE, FOREIGN KEY and CHECK clauses written apart from a column.
    constraints: Vec<Item>,
    /// Anything after the closing parenthesis (`WITHOUT ROWID`, `STRICT`).
    options: Item,
}

#[derive(Debug)]
struct Statement {
    /// What it creates, drops or fills, e.g. `table caps`, `index caps_year`, `drop table caps`.
    key: String,
    normal: String,
    text: String,
    line: usize,
    table: Option<Table>,
}

const TABLE_CONSTRAINT_WORDS: [&str; 6] = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "EXCLUDE"];

fn item(sql: &str, normal: &[Token], written: &[Token]) -> Item {
    Item { normal: render(normal), text: source(sql, written), line: written.first().map_or(0, |t| t.line) }
}

fn parse_table(dialect: Dialect, sql: &str, tokens: &[Token]) -> Option<Table> {
    let open = tokens.iter().position(|t| is_punct(t, "("))?;
    let close = closing_paren(tokens, open)?;
    let mut table = Table::default();
    for part in split_top_level(&tokens[open + 1..close], ",") {
        let first = &part[0];
        let is_constraint = matches!(&first.tok, Tok::Word(w) if TABLE_CONSTRAINT_WORDS.contains(&w.as_str()));
        if is_constraint {
            table.constraints.push(item(sql, part, part));
        } else {
            let name = render(&part[..1]).to_ascii_lowercase();
            table.columns.push((name, item(sql, &normalise_column(dialect, part), part)));
        }
    }
    let options = &tokens[close + 1..];
    table.options = item(sql, options, options);
    Some(table)
}

/// The name after a run of leading words such as `CREATE UNIQUE INDEX IF NOT EXISTS`.
fn name_after(tokens: &[Token], skip: &[&str]) -> (String, usize) {
    let mut i = 0;
    while tokens.get(i).is_some_and(|t| skip.iter().any(|w| is_word(t, w))) {
        i += 1;
    }
    (tokens.get(i).map(|t| render(std::slice::from_ref(t)).to_ascii_lowercase()).unwrap_or_default(), i)
}

fn parse(dialect: Dialect, sql: &str) -> Vec<Statement> {
    let tokens = tokenize(sql);
    let mut statements = Vec::new();
    let mut inserts: BTreeMap<String, usize> = BTreeMap::new();
    for (n, stmt) in split_top_level(&tokens, ";").into_iter().enumerate() {
        let words: Vec<&str> = stmt
            .iter()
            .take(3)
            .map(|t| match &t.tok {
                Tok::Word(w) => w.as_str(),
                _ => "",
            })
            .collect();
        let mut table = None;
        let key = match words.as_slice() {
            ["CREATE", "TABLE", ..] | ["CREATE", "TEMP" | "TEMPORARY", "TABLE"] => {
                table = parse_table(dialect, sql, stmt);
                format!(
                    "table {}",
                    name_after(stmt, &["CREATE", "TEMP", "TEMPORARY", "TABLE", "IF", "NOT", "EXISTS"]).0
                )
            }
            ["CREATE", "INDEX" | "UNIQUE", ..] => {
                format!("index {}", name_after(stmt, &["CREATE", "UNIQUE", "INDEX", "IF", "NOT", "EXISTS"]).0)
            }
            ["DROP", kind, ..] => {
                format!("drop {} {}", kind.to_ascii_lowercase(), name_after(&stmt[2..], &["IF", "EXISTS"]).0)
            }
            ["INSERT", "INTO", ..] => {
                let name = name_after(&stmt[2..], &[]).0;
                let k = inserts.entry(name.clone()).or_default();
                *k += 1;
                format!("insert into {name} #{k}")
            }
            ["ALTER", "TABLE", ..] => {
                let name = name_after(&stmt[2..], &["IF", "EXISTS", "ONLY"]).0;
                let k = inserts.entry(format!("alter {name}")).or_default();
                *k += 1;
                format!("alter table {name} #{k}")
            }
            _ => format!("statement #{} ({})", n + 1, words.join(" ").to_ascii_lowercase()),
        };
        statements.push(Statement { key, normal: render(stmt), text: source(sql, stmt), line: stmt[0].line, table });
    }
    statements
}

/// One side of a difference, for messages: `sqlite:12 `text``.
fn at(dialect: Dialect, line: usize, text: &str) -> String {
    format!("{}:{line} `{text}`", dialect.name())
}

fn compare_tables(file: &str, key: &str, s: &Table, p: &Table, out: &mut Vec<String>) {
    let (sd, pd) = (Dialect::Sqlite, Dialect::Postgres);
    let p_cols: BTreeMap<&str, &Item> = p.columns.iter().map(|(n, i)| (n.as_str(), i)).collect();
    let s_cols: BTreeMap<&str, &Item> = s.columns.iter().map(|(n, i)| (n.as_str(), i)).collect();
    for (name, si) in &s.columns {
        match p_cols.get(name.as_str()) {
            None => out.push(format!("{file}: {key}: column {name} only in {}", at(sd, si.line, &si.text))),
            Some(pi) if pi.normal != si.normal => out.push(format!(
                "{file}: {key}: column {name} differs: {} vs {}",
                at(sd, si.line, &si.text),
                at(pd, pi.line, &pi.text)
            )),
            Some(_) => {}
        }
    }
    for (name, pi) in &p.columns {
        if !s_cols.contains_key(name.as_str()) {
            out.push(format!("{file}: {key}: column {name} only in {}", at(pd, pi.line, &pi.text)));
        }
    }
    let s_order: Vec<&str> = s.columns.iter().map(|(n, _)| n.as_str()).collect();
    let p_order: Vec<&str> = p.columns.iter().map(|(n, _)| n.as_str()).collect();
    if s_cols.keys().eq(p_cols.keys()) && s_order != p_order {
        out.push(format!("{file}: {key}: column order sqlite {s_order:?} vs postgres {p_order:?}"));
    }

    // Table constraints have no name to pair them by: those on one side only are paired in order
    // as "differs", so a changed CHECK reads as one difference with both lines.
    let mut p_left: Vec<&Item> = p.constraints.iter().collect();
    let mut s_only = Vec::new();
    for si in &s.constraints {
        match p_left.iter().position(|pi| pi.normal == si.normal) {
            Some(i) => {
                p_left.remove(i);
            }
            None => s_only.push(si),
        }
    }
    let pairs = s_only.len().min(p_left.len());
    for (si, pi) in s_only.iter().zip(&p_left) {
        out.push(format!(
            "{file}: {key}: table constraint differs: {} vs {}",
            at(sd, si.line, &si.text),
            at(pd, pi.line, &pi.text)
        ));
    }
    for si in &s_only[pairs..] {
        out.push(format!("{file}: {key}: table constraint only in {}", at(sd, si.line, &si.text)));
    }
    for pi in &p_left[pairs..] {
        out.push(format!("{file}: {key}: table constraint only in {}", at(pd, pi.line, &pi.text)));
    }
    if s.options.normal != p.options.normal {
        out.push(format!(
            "{file}: {key}: table options differ: sqlite `{}` vs postgres `{}`",
            s.options.text, p.options.text
        ));
    }
}

/// Every difference between the SQLite and the PostgreSQL text of one migration file, one line
/// each, naming the file, the statement, the item and the line on each side. Empty when they match.
pub fn compare(file: &str, sqlite: &str, postgres: &str) -> Vec<String> {
    let (sd, pd) = (Dialect::Sqlite, Dialect::Postgres);
    let s = parse(sd, sqlite);
    let p = parse(pd, postgres);
    let mut out = Vec::new();
    let p_by_key: BTreeMap<&str, &Statement> = p.iter().map(|st| (st.key.as_str(), st)).collect();
    let s_by_key: BTreeMap<&str, &Statement> = s.iter().map(|st| (st.key.as_str(), st)).collect();
    for ss in &s {
        let Some(ps) = p_by_key.get(ss.key.as_str()) else {
            out.push(format!("{file}: {} only in {}", ss.key, at(sd, ss.line, &ss.text)));
            continue;
        };
        match (&ss.table, &ps.table) {
            (Some(st), Some(pt)) => compare_tables(file, &ss.key, st, pt, &mut out),
            _ if ss.normal != ps.normal => out.push(format!(
                "{file}: {} differs: {} vs {}",
                ss.key,
                at(sd, ss.line, &ss.text),
                at(pd, ps.line, &ps.text)
            )),
            _ => {}
        }
    }
    for ps in &p {
        if !s_by_key.contains_key(ps.key.as_str()) {
            out.push(format!("{file}: {} only in {}", ps.key, at(pd, ps.line, &ps.text)));
        }
    }
    let s_order: Vec<&str> = s.iter().map(|st| st.key.as_str()).filter(|k| p_by_key.contains_key(k)).collect();
    let p_order: Vec<&str> = p.iter().map(|st| st.key.as_str()).filter(|k| s_by_key.contains_key(k)).collect();
    if s_order != p_order {
        out.push(format!("{file}: statement order sqlite {s_order:?} vs postgres {p_order:?}"));
    }
    out
}

/// The CHECK expressions of every `CREATE TABLE` in `sql` (column and table constraints), by
/// table, as written.
pub fn check_constraints(sql: &str) -> BTreeMap<String, Vec<String>> {
    let tokens = tokenize(sql);
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for stmt in split_top_level(&tokens, ";") {
        if !(stmt.len() > 2 && is_word(&stmt[0], "CREATE") && stmt.iter().take(3).any(|t| is_word(t, "TABLE"))) {
            continue;
        }
        let (name, _) = name_after(stmt, &["CREATE", "TEMP", "TEMPORARY", "TABLE", "IF", "NOT", "EXISTS"]);
        let checks = out.entry(name).or_default();
        for (i, t) in stmt.iter().enumerate() {
            if is_word(t, "CHECK")
                && stmt.get(i + 1).is_some_and(|t| is_punct(t, "("))
                && let Some(close) = closing_paren(stmt, i + 1)
            {
                checks.push(source(sql, &stmt[i + 2..close]));
            }
        }
    }
    out
}
