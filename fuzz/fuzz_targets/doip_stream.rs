//! The TCP deframer finds the same messages under any chunking (first 5 bytes: chunk plan).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| doipcheck::fuzz_entry::doip::doip_stream(data));
