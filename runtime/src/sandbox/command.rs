//! Running a WASI preview 1 command: input on stdin, output on stdout, exit status.
//!
//! The command gets no arguments, no environment, no preopened directory, no socket,
//! virtual clocks, and a `poll_oneoff` that answers `ENOSYS`: a sleeping command would
//! block its thread where the epoch deadline cannot reach it.

use super::clock::VirtualClock;
use super::invoke::{self, Guarded};
use super::limiter::Limiter;
use super::outcome::Ending;
use super::watch::Watch;
use super::Ran;
use crate::host::Logs;
use std::time::Duration;
use wasmtime::{Engine, InstancePre, Linker};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{I32Exit, WasiCtxBuilder};

/// The store data of a command.
pub(crate) struct CommandState {
    wasi: WasiP1Ctx,
    watch: Watch,
    limiter: Limiter,
}

impl Guarded for CommandState {
    fn watch(&mut self) -> &mut Watch {
        &mut self.watch
    }

    fn limiter(&mut self) -> &mut Limiter {
        &mut self.limiter
    }
}

/// WASI's `nosys` errno.
const ERRNO_NOSYS: i32 = 52;

/// The linker every command is linked with.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<CommandState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s: &mut CommandState| &mut s.wasi)?;
    linker.allow_shadowing(true);
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "poll_oneoff",
        |_: i32, _: i32, _: i32, _: i32| -> i32 { ERRNO_NOSYS },
    )?;
    linker.allow_shadowing(false);
    Ok(linker)
}

/// Everything one command invocation needs.
pub(crate) struct Call<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) pre: &'a InstancePre<CommandState>,
    pub(crate) watch: Watch,
    pub(crate) limiter: Limiter,
    pub(crate) fuel: u64,
    /// The invocation's start, since the Unix epoch: where the virtual wall clock starts.
    pub(crate) wall_start: Duration,
    pub(crate) max_output_bytes: usize,
    pub(crate) stderr_bytes: usize,
}

pub(crate) fn run(call: Call<'_>, input: &str) -> Ran {
    // One byte more than allowed: a full pipe means the output was too large.
    let stdout = MemoryOutputPipe::new(call.max_output_bytes.saturating_add(1));
    let stderr = MemoryOutputPipe::new(call.stderr_bytes);
    let clock = VirtualClock::starting_at(call.wall_start);
    let wasi = WasiCtxBuilder::new()
        .stdin(MemoryInputPipe::new(input.to_owned()))
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .wall_clock(clock.clone())
        .monotonic_clock(clock)
        .build_p1();
    let state = CommandState {
        wasi,
        watch: call.watch,
        limiter: call.limiter,
    };
    let mut store = wasmtime::Store::new(call.engine, state);
    let result = invoke::arm(&mut store, call.fuel)
        .and_then(|()| call.pre.instantiate(&mut store))
        .and_then(|instance| instance.get_typed_func::<(), ()>(&mut store, "_start"))
        .and_then(|start| start.call(&mut store, ()));
    let fuel_used = invoke::fuel_used(&mut store, call.fuel);
    let state = store.into_data();
    let stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();
    let exit = match &result {
        Ok(()) => Some(0),
        Err(e) => e.downcast_ref::<I32Exit>().map(|exit| exit.0),
    };
    let ending = match (exit, result) {
        (Some(0), _) => {
            let out = stdout.contents();
            if out.len() > call.max_output_bytes {
                Ending::OutputTooLarge { size: None }
            } else {
                match String::from_utf8(out.to_vec()) {
                    Ok(text) => Ending::Returned(text),
                    Err(_) => Ending::HostFault("the command's output is not UTF-8 text".into()),
                }
            }
        }
        (Some(code), _) => Ending::Exited {
            code,
            stderr: stderr.clone(),
        },
        (None, Err(e)) => invoke::failure(&e, &state.watch, state.limiter.refused),
        (None, Ok(())) => Ending::HostFault("the command ended without an exit status".into()),
    };
    Ran {
        ending,
        fuel_used,
        logs: Logs::default(),
        stderr,
    }
}
