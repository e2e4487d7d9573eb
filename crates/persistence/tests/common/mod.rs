//! Helpers shared by the test crates of this package; each uses a part of them.

#![allow(dead_code)]

pub mod ddl;
pub mod introspect;

use smaajob_persistence::testing::TestDatabase;
use smaajob_persistence::{DbPool, connect, run_migrations};

/// A pool of 4 on the database with every migration applied.
pub fn migrated(db: &TestDatabase) -> DbPool {
    let pool = connect(db.url(), 4).expect("the test database accepts connections");
    let mut conn = pool.get().expect("a pooled connection");
    run_migrations(&mut conn).expect("the migrations apply");
    pool
}

/// Runs each body once per backend, as `sqlite::NAME` and `postgres::NAME`; `$db` is the
/// throwaway [`TestDatabase`] (empty, not migrated).
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($(fn $name:ident($db:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $name() {
                    let $db: &TestDatabase = &TestDatabase::sqlite();
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $name() {
                    let Some(db) = TestDatabase::postgres(stringify!($name)) else { return };
                    let $db: &TestDatabase = &db;
                    $body
                }
            )*
        }
    };
}
