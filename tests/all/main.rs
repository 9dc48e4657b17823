//! Sandstep's integration tests: one binary, one module per topic.

mod cases;
mod cli;
