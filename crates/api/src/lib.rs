//! Småjob's HTTP API: actix-web handlers, JWT auth, problem+json errors and the OpenAPI
//! description. The `smaajob` binary (in `main.rs`) wraps it in a command line.

pub mod app;
pub mod audit_writer;
pub mod auth;
pub mod config;
pub mod demo;
pub mod dispatch;
pub mod error;
pub mod guess_guard;
pub mod http;
pub mod idempotency;
pub mod json;
pub mod jwks;
pub mod mail;
pub mod oidc;
pub mod openapi;
pub mod pages;
pub mod request_id;
pub mod responses;
pub mod routes;
pub mod services;
pub mod sms;
pub mod state;
pub mod telemetry;
pub mod views;

pub use app::Application;
pub use config::Settings;
