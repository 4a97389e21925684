//! Byte-stream scripts (connections, segments, datagrams, CAN frames, clock steps) into the
//! pure simulator entity; invariants in `doipcheck::fuzzing::sim`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| doipcheck::fuzzing::sim::sim_entity(data));
