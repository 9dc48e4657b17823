//! `runtime/fuzz/run.sh SECONDS dynamo_expressions`: see `sandstep_fuzz::dynamo`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: sandstep_fuzz::catch_stack_overflows(), |data: &[u8]| {
    sandstep_fuzz::dynamo::expressions(data);
});
