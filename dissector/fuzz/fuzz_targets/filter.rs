#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| peerscope_dissector::check::filter(data));
