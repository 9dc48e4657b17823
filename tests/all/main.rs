//! Sandstep's integration tests: one binary, one module per topic.
// Test code: a failed unwrap is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod api;
mod awssdk;
mod bindings;
mod browser;
mod cases;
mod cli;
mod clients;
mod console;
mod designer;
mod durability;
#[path = "../../runtime/fuzz/src/server_regressions.rs"]
mod fuzz;
mod hardening;
mod hardening_api;
mod hardening_modules;
mod http_tasks;
mod integrations;
mod postgres;
mod samples;
mod sandbox;
mod support;
mod triggers;
