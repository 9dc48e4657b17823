//! The bodies of Sandstep's fuzz targets, kept apart from the `fuzz_target!` shells in
//! `fuzz_targets/` so that the regression tests replay inputs through the same code:
//! `runtime/engine/src/fuzz_regressions.rs` includes [`engine`],
//! `runtime/dynamo/src/fuzz_regressions.rs` includes [`dynamo`],
//! `runtime/sns/src/fuzz_regressions.rs` includes [`sns`],
//! `runtime/events/src/fuzz_regressions.rs` includes [`events`], and the integration test binary
//! includes `server.rs`.
//!
//! The code under test runs on the server's tokio threads, whose stacks are 2 MiB; `run.sh`
//! gives the fuzzer's main thread the same (`ulimit -s 2048`), so that a stack overflow shows up
//! at the input size that would take the server down, not only at the larger size that
//! overflows the default 8 MiB. (A thread of that size per input, or one thread handed each
//! input, costs 2.5 times the throughput.) The regression tests run inputs on 2 MiB threads.
//!
//! Each target calls [`catch_stack_overflows`] first: without it an overflow kills the process
//! silently and libFuzzer loses the input.

/// Targets on the pure engine.
pub mod engine;

/// The target on DynamoDB's pure data model (`sandstep-dynamo`).
pub mod dynamo;

/// The target on SNS's filter policies (`sandstep-sns`).
pub mod sns;

/// The targets on EventBridge's patterns and schedules (`sandstep-events`).
pub mod events;

/// Targets on the server crate (it links wasmtime): `--features server`.
#[cfg(feature = "server")]
pub mod server;

/// Makes a stack overflow a crash that libFuzzer reports and saves the input of.
///
/// A `#![no_main]` binary skips Rust's runtime set-up, so nothing gives the main thread an
/// alternate signal stack: the overflow's SIGSEGV finds no stack to run libFuzzer's handler on,
/// and the process dies without a word. This installs an alternate stack and a SIGSEGV/SIGBUS
/// handler that says what happened and aborts; libFuzzer, which starts after this, chains its
/// SIGSEGV handler to it and catches the SIGABRT, on the alternate stack. Call it once, from the
/// target's `init`.
pub fn catch_stack_overflows() {
    const ALT_STACK_BYTES: usize = 256 << 10;
    let stack: &'static mut [u8] = Box::leak(vec![0u8; ALT_STACK_BYTES].into_boxed_slice());
    let alt = libc::stack_t {
        ss_sp: stack.as_mut_ptr().cast(),
        ss_flags: 0,
        ss_size: stack.len(),
    };
    // SAFETY: the alternate stack is leaked, so it outlives the thread (the main thread) whose
    // signals run on it; `on_fault` only makes async-signal-safe calls.
    unsafe {
        libc::sigaltstack(&alt, std::ptr::null_mut());
        for signal in [libc::SIGSEGV, libc::SIGBUS] {
            let mut action: libc::sigaction = std::mem::zeroed();
            let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                on_fault;
            action.sa_sigaction = handler as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

extern "C" fn on_fault(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // Safe Rust faults no other way (the engine and server deny `unsafe_code`).
    const MESSAGE: &[u8] =
        b"\n==sandstep-fuzz== SIGSEGV/SIGBUS: the input overflowed the stack; aborting\n";
    // SAFETY: `write` and `abort` are async-signal-safe.
    unsafe {
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::abort();
    }
}
