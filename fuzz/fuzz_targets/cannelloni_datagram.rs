//! Any bytes as a cannelloni v2 datagram: decode never panics, errors point inside the input,
//! and decoded data frames re-encode to an equivalent datagram.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| doipcheck::fuzz_entry::cannelloni::cannelloni_datagram(data));
