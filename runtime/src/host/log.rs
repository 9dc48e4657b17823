//! `sandstep:host/log`: lines into `tracing` and into the invocation's bounded log.

use super::sandstep::host::log::{Host, Level};
use super::{HostState, Logs};
use crate::sandbox::outcome::{LogLevel, LogLine};

impl Logs {
    /// Keeps a line, cut at the line limit, unless the line budget is spent.
    pub(crate) fn push(&mut self, level: LogLevel, mut message: String) -> bool {
        if self.lines.len() >= self.max_lines {
            self.dropped = self.dropped.saturating_add(1);
            return false;
        }
        if message.len() > self.max_line_bytes {
            let mut cut = self.max_line_bytes;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        self.lines.push(LogLine { level, message });
        true
    }
}

impl Host for HostState {
    fn write(&mut self, level: Level, message: String) -> wasmtime::Result<()> {
        // Logging needs no grant: it only reaches the tenant's own execution log.
        let level = match level {
            Level::Trace => LogLevel::Trace,
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        if !self.logs.push(level, message) {
            return Ok(());
        }
        let Some(line) = self.logs.lines.last() else {
            return Ok(());
        };
        let c = &self.caller;
        let (tenant, execution, state, module, message) = (
            c.tenant.0.as_str(),
            c.execution_arn.as_str(),
            c.state_name.as_str(),
            c.module.as_str(),
            line.message.as_str(),
        );
        macro_rules! emit {
            ($level:expr) => {
                tracing::event!(target: "sandstep::task", $level, tenant, execution, state, module, "{message}")
            };
        }
        match level {
            LogLevel::Trace => emit!(tracing::Level::TRACE),
            LogLevel::Debug => emit!(tracing::Level::DEBUG),
            LogLevel::Info => emit!(tracing::Level::INFO),
            LogLevel::Warn => emit!(tracing::Level::WARN),
            LogLevel::Error => emit!(tracing::Level::ERROR),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_lines_cut_on_char_boundaries() {
        let mut logs = Logs {
            max_lines: 2,
            max_line_bytes: 4,
            ..Logs::default()
        };
        assert!(logs.push(LogLevel::Info, "héllo".into()));
        assert_eq!(logs.lines[0].message, "hél…");
        assert!(logs.push(LogLevel::Warn, "ok".into()));
        assert!(!logs.push(LogLevel::Error, "dropped".into()));
        assert_eq!((logs.lines.len(), logs.dropped), (2, 1));
    }
}
