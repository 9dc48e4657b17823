//! Logging into the execution's log and the server's `tracing` output.
//!
//! Lines beyond the per-task budget are dropped; logging never fails a task.
//!
//! ```no_run
//! sandstep_sdk::log::info(&format!("reserved {} items", 3));
//! ```

#[cfg(target_arch = "wasm32")]
use crate::bindings::sandstep::host::log as wit;

/// How important a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed.
    Trace,
    /// For debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected.
    Warn,
    /// A failure.
    Error,
}

/// Writes one line at `level`.
///
/// Outside wasm (a handler's unit tests) the line goes to stderr instead.
pub fn write(level: Level, message: &str) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        eprintln!("[{level:?}] {message}");
    }
    #[cfg(target_arch = "wasm32")]
    {
        let level = match level {
            Level::Trace => wit::Level::Trace,
            Level::Debug => wit::Level::Debug,
            Level::Info => wit::Level::Info,
            Level::Warn => wit::Level::Warn,
            Level::Error => wit::Level::Error,
        };
        wit::write(level, message);
    }
}

/// Writes one line at [`Level::Trace`].
pub fn trace(message: &str) {
    write(Level::Trace, message);
}

/// Writes one line at [`Level::Debug`].
pub fn debug(message: &str) {
    write(Level::Debug, message);
}

/// Writes one line at [`Level::Info`].
pub fn info(message: &str) {
    write(Level::Info, message);
}

/// Writes one line at [`Level::Warn`].
pub fn warn(message: &str) {
    write(Level::Warn, message);
}

/// Writes one line at [`Level::Error`].
pub fn error(message: &str) {
    write(Level::Error, message);
}
