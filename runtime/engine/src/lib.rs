//! The pure, deterministic Amazon States Language (ASL) interpreter at the heart of Sandstep.
#![deny(missing_docs)]

pub mod choice;
pub mod intrinsics;
pub mod jsonpath;
pub mod timestamp;
pub mod validate;
