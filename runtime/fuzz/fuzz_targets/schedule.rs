//! `runtime/fuzz/run.sh SECONDS schedule`: see `sandstep_fuzz::events::schedule`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: sandstep_fuzz::catch_stack_overflows(), |data: &[u8]| {
    sandstep_fuzz::events::schedule(data);
});
