#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bgone_core::fuzzing::exercise(data));
