//! Event Hook delivery bodies, as the daemon's hook endpoint receives them.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    lanyard_fuzz::harness::hook_payload(data);
});
