//! End-to-end tests over HTTP against a spawned server, on SQLite and on PostgreSQL.
//! PostgreSQL runs when `SMAAJOB_TEST_POSTGRES_URL` names a server (see the README).
//!
//! One file per resource of the API (`crates/api/src/routes`), named after it; beside them the
//! authorization matrix, tokens, the operator role, tenancy, concurrency, problems, privacy and the OpenAPI
//! document, and `story`, the journeys end to end. `support` is the harness (the server, tokens,
//! requests and responses), `fixtures` the test data and setup every file shares.

#![allow(clippy::unwrap_used)]

mod fixtures;
mod support;

mod atp_rates;
mod audit;
mod audit_chain;
mod balance;
mod caps;
mod citizens;
mod companies;
mod employments;
mod frikort;
mod frikort_takeover;
mod gtfs;
mod guessing;
mod hours;
mod idempotency_expiry;
mod matching;
mod notifications;
mod outside_income;
mod pay_runs;
mod payouts;
mod placements;
mod queue;
mod register_entries;
mod tasks;
mod transfers;
mod transit;

mod auth_matrix;
mod auth_tokens;
mod browser;
mod concurrency;
mod openapi;
mod operator;
mod outside_probe;
mod pages;
mod privacy;
mod problems;
mod sign_in;
mod spec_conformance;
mod story;
mod strict_input;
mod tenancy;
