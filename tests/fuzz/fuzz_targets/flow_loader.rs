//! Flow files: YAML → compiled flow → checks across files → a dry run.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    lanyard_fuzz::harness::flow_loader(data);
});
