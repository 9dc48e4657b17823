//! Test-only package: see `all/main.rs`.
