//! Re-embed migrations whenever either migrations tree changes; without this diesel_migrations
//! silently keeps the set it saw at the last build.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations/sqlite");
    println!("cargo:rerun-if-changed=../../migrations/postgres");
}
