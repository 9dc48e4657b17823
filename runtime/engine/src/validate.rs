//! Validation of ASL documents with AWS's rules and diagnostic codes.
//! HELPER-OWNED: replaced by the real implementation; API contract below must be kept.

/// A state machine type: some rules apply to only one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineType {
    /// Durable, exactly-once.
    Standard,
    /// In-memory, at-least-once.
    Express,
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The definition is refused.
    Error,
    /// Reported, not refused.
    Warning,
}

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// How serious.
    pub severity: Severity,
    /// AWS's code, e.g. `SCHEMA_VALIDATION_FAILED`.
    pub code: &'static str,
    /// JSON-pointer-like location, e.g. `/States/Pass`.
    pub location: String,
    /// Human-readable message.
    pub message: String,
}

/// Validates a definition's text; an empty list means valid.
pub fn validate(text: &str, machine_type: MachineType) -> Vec<Diagnostic> {
    let _ = (text, machine_type);
    Vec::new()
}
