//! What one invocation may use. Every limit has a default a hostile module cannot abuse;
//! a Task state's `TimeoutSeconds` and `HeartbeatSeconds` override the clock limits.

use sandstep_engine::TaskRequest;
use std::time::Duration;

/// Limits of one task invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Fuel (about one unit per WebAssembly instruction). Running out is `States.Timeout`.
    pub fuel: u64,
    /// Wall-clock deadline, from the start of the invocation: `States.Timeout`.
    pub timeout: Duration,
    /// The longest time allowed between heartbeats (`HeartbeatSeconds`), counted from the
    /// start and from each `heartbeat.beat`: `States.HeartbeatTimeout`.
    pub heartbeat: Option<Duration>,
    /// Linear memory per instance, in bytes. At most [`super::Options::max_memory_bytes`].
    pub memory_bytes: usize,
    /// Elements per table.
    pub table_elements: usize,
    /// Core and component instances per invocation (a component counts its inner ones).
    pub instances: usize,
    /// The largest input, in bytes: larger is `States.DataLimitExceeded`.
    pub max_input_bytes: usize,
    /// The largest output, in bytes: larger is `States.DataLimitExceeded`. For a command
    /// this also bounds what is captured of stdout, which carries the output.
    pub max_output_bytes: usize,
    /// What is kept of a command's stderr (the failure cause); the rest is dropped.
    pub stderr_bytes: usize,
    /// Log lines kept per invocation; later lines are counted and dropped.
    pub log_lines: usize,
    /// The longest log line kept, in bytes; longer lines are cut.
    pub log_line_bytes: usize,
}

/// 256 KiB: AWS Step Functions' payload limit (the engine's, so there is one).
pub const PAYLOAD_LIMIT: usize = sandstep_engine::limits::PAYLOAD_LIMIT_BYTES;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            // About a minute of a busy loop on current hardware: the deadline usually
            // ends a runaway task first.
            fuel: 100_000_000_000,
            timeout: Duration::from_secs(60),
            heartbeat: None,
            memory_bytes: 64 << 20,
            table_elements: 20_000,
            instances: 64,
            max_input_bytes: PAYLOAD_LIMIT,
            max_output_bytes: PAYLOAD_LIMIT,
            stderr_bytes: 16 * 1024,
            log_lines: 1000,
            log_line_bytes: 4096,
        }
    }
}

impl Limits {
    /// These limits with a Task state's `TimeoutSeconds` and `HeartbeatSeconds` applied.
    pub fn for_task(self, request: &TaskRequest) -> Limits {
        Limits {
            timeout: request
                .timeout_seconds
                .map(Duration::from_secs)
                .unwrap_or(self.timeout),
            heartbeat: request
                .heartbeat_seconds
                .map(Duration::from_secs)
                .or(self.heartbeat),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandstep_engine::TaskId;

    #[test]
    fn task_seconds_override_the_defaults() {
        let request = TaskRequest {
            id: TaskId(1),
            resource: "arn:aws:lambda:us-east-1:000000000000:function:echo".into(),
            input: serde_json::json!({}),
            timeout_seconds: Some(5),
            heartbeat_seconds: Some(2),
            attempt: 0,
            state_name: "T".into(),
            task_token: None,
        };
        let limits = Limits::default().for_task(&request);
        assert_eq!(limits.timeout, Duration::from_secs(5));
        assert_eq!(limits.heartbeat, Some(Duration::from_secs(2)));
        assert_eq!(limits.memory_bytes, 64 << 20);
        let plain = Limits::default().for_task(&TaskRequest {
            timeout_seconds: None,
            heartbeat_seconds: None,
            ..request
        });
        assert_eq!(plain.timeout, Duration::from_secs(60));
        assert_eq!(plain.heartbeat, None);
    }
}
