//! End-to-end tests over HTTP against a spawned server, on SQLite and on PostgreSQL.
//! PostgreSQL runs when `SMAAJOB_TEST_POSTGRES_URL` names a server (see the README).

#![allow(clippy::unwrap_used)]

mod support;

mod audit;
mod auth;
mod caps;
mod citizens;
mod companies;
mod frikort;
mod frikort_takeover;
mod idempotency_expiry;
mod openapi;
mod outside_probe;
mod privacy;
mod problems;
mod smoke;
mod strict_input;

mod accounting;
mod concurrency;
mod employments;
mod jobs;
mod journey;
