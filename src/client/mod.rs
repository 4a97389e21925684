//! A small DoIP client for a person at a terminal (`doipcheck discover`, `doipcheck request`):
//! vehicle identification over UDP ([`discovery`]) and a diagnostic session over TCP or TLS
//! ([`session`]: routing activation, UDS requests with ACK, NRC 0x78 and P2*, alive checks).
//!
//! The session talks through the tester connection (`transport::doip::tester`), recording
//! nothing; discovery reuses the runner's UDP socket (`runner::udp`). Every wait has a deadline,
//! a received length is capped, and bytes that do not decode are kept with the rule they
//! break, so the commands can show a broken answer instead of dropping it. The UDP socket
//! records events for reports; here nobody reads them (`Recorder::quiet`).

pub mod discovery;
pub mod probe;
pub mod session;

#[cfg(test)]
mod tests;
