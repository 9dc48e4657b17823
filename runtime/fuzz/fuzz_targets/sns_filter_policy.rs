//! `runtime/fuzz/run.sh SECONDS sns_filter_policy`: see `sandstep_fuzz::sns`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: sandstep_fuzz::catch_stack_overflows(), |data: &[u8]| {
    sandstep_fuzz::sns::filter_policy(data);
});
