//! Helpers shared by the schema tests.

// Each test crate uses a part of them.
#![allow(dead_code)]

pub mod ddl;
pub mod introspect;
