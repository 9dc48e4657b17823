//! `runtime/fuzz/run.sh SECONDS aws_request`: see `sandstep_fuzz::server::aws_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: sandstep_fuzz::catch_stack_overflows(), |data: &[u8]| {
    sandstep_fuzz::server::aws_request(data);
});
