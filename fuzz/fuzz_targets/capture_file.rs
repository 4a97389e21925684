//! Whole capture files through inspect's engine (survey, reader, checks) with small limits.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| doipcheck::fuzz_entry::capture::capture_file(data));
