//! `sandstep:host/heartbeat`: restarts the heartbeat clock the epoch callback checks.

use super::sandstep::host::heartbeat::Host;
use super::{HostError, HostState};
use std::time::Instant;

impl Host for HostState {
    #[tracing::instrument(name = "host.heartbeat.beat", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn beat(&mut self) -> wasmtime::Result<Result<(), HostError>> {
        // Nothing to grant: a module may always say it is alive.
        self.watch.beat(Instant::now());
        Ok(Ok(()))
    }
}
