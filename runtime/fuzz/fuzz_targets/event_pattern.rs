//! `runtime/fuzz/run.sh SECONDS event_pattern`: see `sandstep_fuzz::events`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: sandstep_fuzz::catch_stack_overflows(), |data: &[u8]| {
    sandstep_fuzz::events::event_pattern(data);
});
