//! Arbitrary frames, time steps, confirmations and sends into an ISO-TP endpoint; oracles in
//! `doipcheck::fuzz_entry::isotp` (buffer bound, valid own frames, no stuck timers).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    doipcheck::fuzz_entry::isotp::isotp_receiver(data);
});
