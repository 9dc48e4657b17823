//! `runtime/fuzz/run.sh SECONDS jsonata`: see `sandstep_fuzz::engine::jsonata`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: sandstep_fuzz::catch_stack_overflows(), |data: &[u8]| {
    sandstep_fuzz::engine::jsonata(data);
});
