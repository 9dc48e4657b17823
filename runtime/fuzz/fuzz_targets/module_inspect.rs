//! `runtime/fuzz/run.sh SECONDS module_inspect`: see `sandstep_fuzz::server::module_inspect`.
#![no_main]

libfuzzer_sys::fuzz_target!(init: sandstep_fuzz::catch_stack_overflows(), |data: &[u8]| {
    sandstep_fuzz::server::module_inspect(data);
});
