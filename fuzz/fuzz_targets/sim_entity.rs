//! Byte-stream scripts (connections, segments, datagrams, CAN frames, clock steps) into the
//! pure simulator entity; invariants in `doipcheck::fuzz_entry::sim`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| doipcheck::fuzz_entry::sim::sim_entity(data));
