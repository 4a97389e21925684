//! Capture reading, pure: records in, events out. No files, no clock, no sockets: the record
//! bytes and their timestamps are the only input ([`super::source`] opens files).
//!
//! ```text
//!  bytes ─► file (pcap / pcapng records) ─► link (Ethernet, 802.1Q, SLL v1/v2, raw IP, BSD
//!  loopback, SocketCAN) ─┬─► TCP ─► tcp (reassembly per direction) ─► doip (deframer) ─► CaptureEvent
//!                        ├─► UDP on a DoIP port ─► one message per datagram ───────────► CaptureEvent
//!                        ├─► TCP on the TLS port ─► counted, not decoded ──────────────► CaptureEvent
//!                        └─► CAN ─► socketcan (byte order from the survey) ─► isotp ──► CaptureEvent
//! ```
//!
//! A capture is read in two passes: [`Survey`] sees only the CAN records and says which byte
//! order their ids are in and which ids pair up as ISO-TP request/response ids; [`Reader`] then
//! decodes everything with that knowledge and calls an [`CaptureSink`] with each [`CaptureEvent`], in
//! packet order (a TCP message is reported at the packet that completed it).
//!
//! Every byte may be hostile: nothing here panics or allocates by a length read from the file.
//! Memory is bounded by the open connections and the data they hold ([`Limits`]).
//!
//! May import: `crate::codec` and `crate::pcap` (shared format definitions); nothing that
//! does I/O.

pub mod doip;
pub mod event;
pub mod file;
pub mod gzip;
pub mod isotp;
pub mod link;
pub mod reader;
pub mod stream;
pub mod survey;
pub mod tcp;

pub use doip::{DoipEvent, DoipStream};
pub use event::{At, CaptureEvent, CaptureSink, CarriedBy, SkipReason, TcpFlow};
pub use file::{FileError, FileParser, Parsed, Record};
pub use isotp::{FrameAt, IsoTpEvent, IsoTpReader, SenderViolation};
pub use link::RecordPayload;
pub use reader::{ReadConfig, ReadStats, Reader};
pub use survey::{IsoTpPair, Survey, SurveyResult};
pub use tcp::{Dir, FlowMeta, Limits, TcpEvent, TcpStats};
