//! `runtime/fuzz/run.sh SECONDS sigv4`: see `sandstep_fuzz::server::sigv4`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: sandstep_fuzz::catch_stack_overflows(), |data: &[u8]| {
    sandstep_fuzz::server::sigv4(data);
});
