//! Capture writing: a [`PcapngWriter`] turns what a case did into a pcapng file Wireshark and tshark
//! decode as DoIP.
//!
//! Each TCP connection gets a synthesized three-way handshake, every frame becomes a segment
//! with consistent sequence and acknowledgement numbers, and a close becomes FIN/ACK or RST.
//! UDP datagrams become Ethernet/IP/UDP packets; CAN frames go on their own
//! LINKTYPE_CAN_SOCKETCAN interface per bus. Timestamps are the frames' monotonic times on the
//! wall clock of the run's start.
//!
//! By default ([`PortMapping::Standard`]) the entity side is written as port 13400, the port
//! Wireshark dissects DoIP on, because the built-in simulator listens on ephemeral ports: the
//! file opens decoded, and the section comment and each connection's first packet say so and
//! name the real port. TLS connections are shown decrypted on the same port.
//!
//! May import `codec` (CAN frames), `proto::time` and `pcap::socketcan`.

mod capture;
mod link;
mod tcp;

pub use capture::{
    CaptureError, CaptureOptions, Endpoints, PacketDirection, PcapngWriter, PortMapping,
};
pub use link::SynthesisError;
pub use tcp::{Close, Side};
