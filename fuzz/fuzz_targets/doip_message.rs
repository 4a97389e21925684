//! Parse one DoIP message; if it parses, emitting it gives the input back.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| doipcheck::fuzz_entry::doip::doip_message(data));
