//! `runtime/fuzz/run.sh SECONDS definition`: see `sandstep_fuzz::engine::definition`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: sandstep_fuzz::catch_stack_overflows(), |data: &[u8]| {
    sandstep_fuzz::engine::definition(data);
});
