//! Throwaway databases for tests (feature `testing`): an SQLite file in a temporary directory,
//! or a fresh PostgreSQL database created through the server named by
//! `SMAAJOB_TEST_POSTGRES_URL` and dropped again when the guard goes.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::db::DatabaseUrl;

/// The environment variable naming a PostgreSQL server for tests (an admin URL such as
/// `postgres://postgres@127.0.0.1:5432/postgres`).
pub const POSTGRES_URL_ENV: &str = "SMAAJOB_TEST_POSTGRES_URL";
/// When set to `1`, a missing PostgreSQL fails the test instead of skipping it (CI sets it).
pub const REQUIRE_POSTGRES_ENV: &str = "SMAAJOB_REQUIRE_POSTGRES";

/// A database that exists for one test.
pub struct TestDatabase {
    url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new SQLite database file in its own temporary directory.
    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let path = dir.path().join("test.sqlite3");
        let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display())).expect("valid SQLite URL");
        TestDatabase { url, cleanup: Cleanup::Dir(dir) }
    }

    /// A new empty PostgreSQL database, or `None` (with a notice on stderr) when no server is
    /// configured. Panics when [`REQUIRE_POSTGRES_ENV`] is `1` and none is configured.
    pub fn postgres(test: &str) -> Option<TestDatabase> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_ENV) else {
            if std::env::var(REQUIRE_POSTGRES_ENV).as_deref() == Ok("1") {
                panic!("{REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_URL_ENV} is not set");
            }
            eprintln!("SKIPPED on PostgreSQL: {test} (set {POSTGRES_URL_ENV} to run it)");
            return None;
        };
        let name = format!("smaajob_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin =
            PgConnection::establish(&admin_url).unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_ENV}: {e}"));
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
        let url = DatabaseUrl::parse(&format!("{base}/{name}")).expect("valid PostgreSQL URL");
        Some(TestDatabase { url, cleanup: Cleanup::Postgres { admin_url, name } })
    }

    /// The database's URL.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            // FORCE ends the pool's connections that may still be open.
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}
