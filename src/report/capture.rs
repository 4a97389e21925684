//! Per-case pcapng captures from runner events: the connection and frame events of one case
//! replayed into a [`crate::pcap::PcapngWriter`].
//!
//! A TLS connection is written as it went over the wire: its records (from the tls_wire events;
//! its DoIP frames are inside them) on the TLS port, and every session's keys in a Decryption
//! Secrets Block ahead of the first packet, so Wireshark and tshark decrypt it without setup.
//!
//! Mapping: TCP/TLS `opened` -> handshake, `closed_by_us` -> tester FIN, `closed_by_peer` ->
//! entity FIN, `reset` -> RST from the entity (the harness saw the reset), `abandoned` -> tester
//! FIN (the harness dropped the socket at case end). UDP and CAN have no connection packets.
//! Frames that did not decode carry a packet comment saying why.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::log::CaseLog;
use super::text::printable;
use crate::codec::can::{CanFrame, CanId, ExtendedId, fd_padded_len};
use crate::pcap::{
    self, CaptureError, CaptureOptions, Close, Endpoints, PcapngWriter, PortMapping, Side,
};
use crate::proto::time::Instant;
use crate::runner::event::{
    Address, CanFrameMeta, CaseInfo, CaseKey, ConnectionChange, Decoded, Direction, Event,
    FrameEvent, FrameTransport, RunStarted, Verdict,
};

/// Where the capture of a case goes under the report folder: `DIR/captures/NNNN-ID.pcapng`,
/// NNNN the case's place in the plan (unique even when ids repeat across suites), the id with
/// every character but `A-Za-z0-9._-` as `_`, cut to 100 characters.
pub fn capture_path(report_dir: &Path, case: CaseKey, info: &CaseInfo) -> PathBuf {
    let id: String = info
        .id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .take(100)
        .collect();
    report_dir.join("captures").join(format!("{:04}-{id}.pcapng", case.0))
}

/// Which cases keep a capture (`--pcap failing|all|none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CapturePolicy {
    /// Cases that failed, errored or were inconclusive (the default).
    #[default]
    Failing,
    /// Every case that ran (skipped cases send nothing and get none).
    All,
    /// No captures.
    None,
}

impl CapturePolicy {
    /// What the runner puts in `CaseFinished::capture` for `case` ending with `verdict`.
    pub fn capture_for(
        self,
        report_dir: &Path,
        case: CaseKey,
        info: &CaseInfo,
        verdict: Verdict,
    ) -> Option<PathBuf> {
        let keep = match self {
            CapturePolicy::Failing => verdict.is_failure(),
            CapturePolicy::All => verdict != Verdict::Skipped,
            CapturePolicy::None => false,
        };
        keep.then(|| capture_path(report_dir, case, info))
    }
}

fn socket(e: &Address) -> Option<SocketAddr> {
    match e {
        Address::Socket(a) => Some(*a),
        Address::Can { .. } => None,
    }
}

fn direction(d: Direction) -> pcap::PacketDirection {
    match d {
        Direction::Sent => pcap::PacketDirection::Sent,
        Direction::Received => pcap::PacketDirection::Received,
    }
}

/// A packet comment for frames people should look at twice.
fn frame_comment(f: &FrameEvent) -> Option<String> {
    match &f.decoded {
        Decoded::Error { error } => {
            Some(format!("doipcheck could not decode this: {}", printable(error)))
        }
        Decoded::Message { .. } | Decoded::Raw => None,
    }
}

/// The CAN frame of a frame event. Bytes no real frame can hold (more than 8 classic or 64 FD
/// bytes, an id out of range) are written as close as possible, with a note saying so.
fn can_frame(f: &FrameEvent) -> (Option<CanFrame>, Option<String>) {
    // Without frame details, the sender's endpoint names the id; a classic frame is assumed.
    let sender = match f.direction {
        Direction::Sent => &f.local,
        Direction::Received => &f.peer,
    };
    let meta = f.can.unwrap_or(match sender {
        Address::Can { id, extended, .. } => {
            CanFrameMeta { id: *id, extended: *extended, fd: false, brs: false }
        }
        Address::Socket(_) => CanFrameMeta { id: 0, extended: false, fd: false, brs: false },
    });
    let mut note = None;
    let id = CanId::new(meta.id, meta.extended).unwrap_or_else(|| {
        note = Some(format!("CAN id 0x{:X} is out of range", meta.id));
        CanId::Extended(ExtendedId::new(meta.id & 0x1FFF_FFFF).unwrap_or(ExtendedId::MAX))
    });
    let frame = if meta.fd {
        let len = fd_padded_len(f.bytes.len()).unwrap_or(64);
        if len != f.bytes.len() {
            note =
                Some(format!("{} data bytes written as a {len}-byte CAN FD frame", f.bytes.len()));
        }
        let mut data = f.bytes.clone();
        data.resize(len, 0);
        CanFrame::new_fd(id, &data, meta.brs)
    } else {
        let keep = f.bytes.len().min(8);
        if keep != f.bytes.len() {
            note =
                Some(format!("{} data bytes cut to the 8 of a classic CAN frame", f.bytes.len()));
        }
        CanFrame::new(id, &f.bytes[..keep])
    };
    (frame.ok(), note)
}

/// Writes the capture of `case` to `out`: section comment naming the case, suite and target.
pub fn write_case_capture<W: std::io::Write>(
    run: Option<&RunStarted>,
    case: &CaseLog,
    port_mapping: PortMapping,
    out: W,
) -> Result<W, CaptureError> {
    let target = run.map(|r| r.target.as_str()).unwrap_or("unknown target");
    let options = CaptureOptions {
        wall_clock_epoch: Duration::from_micros(run.map_or(0, |r| r.wall_clock_unix_us)),
        comment: printable(&format!(
            "doipcheck case {} \"{}\" from {} ({}) against {target}",
            case.info.id,
            case.info.title,
            case.info.suite,
            case.info.suite_file.to_string_lossy()
        )),
        port_mapping,
    };
    let mut capture = PcapngWriter::new(out, options)?;
    // The sessions' keys before any packet, so a reader decrypts each TLS connection from its
    // first record on.
    let secrets: Vec<String> = case
        .events
        .iter()
        .filter_map(|e| match e {
            Event::TlsKeys(k) => Some(k.lines.iter().map(|l| printable(l))),
            _ => None,
        })
        .flatten()
        .collect();
    if !secrets.is_empty() {
        capture.decryption_secrets(&secrets)?;
    }
    for event in &case.events {
        match event {
            Event::Connection(c)
                if matches!(c.transport, FrameTransport::Tcp | FrameTransport::Tls) =>
            {
                let (Some(tester), Some(entity)) = (socket(&c.local), socket(&c.peer)) else {
                    continue;
                };
                let ends = Endpoints { tester, entity };
                let at = Instant::from_epoch(c.at.0);
                match c.change {
                    ConnectionChange::Opened => {
                        capture.tcp_open(at, ends, c.transport == FrameTransport::Tls)?
                    }
                    ConnectionChange::ClosedByUs | ConnectionChange::Abandoned => {
                        capture.tcp_close(at, ends, Side::Tester, Close::Fin)?
                    }
                    ConnectionChange::ClosedByPeer => {
                        capture.tcp_close(at, ends, Side::Entity, Close::Fin)?
                    }
                    ConnectionChange::Reset => {
                        capture.tcp_close(at, ends, Side::Entity, Close::Reset)?
                    }
                }
            }
            Event::TlsWire(w) => {
                let (Some(tester), Some(entity)) = (socket(&w.local), socket(&w.peer)) else {
                    continue;
                };
                let ends = Endpoints { tester, entity };
                let at = Instant::from_epoch(w.at.0);
                capture.tcp_data(at, ends, direction(w.direction), &w.bytes, None)?;
            }
            // The DoIP inside TLS is in the records above; a reader decrypts it.
            Event::Frame(f) if f.transport == FrameTransport::Tls => {}
            Event::Frame(f) => {
                let at = Instant::from_epoch(f.at.0);
                let comment = frame_comment(f);
                match f.transport {
                    FrameTransport::Tcp | FrameTransport::Tls | FrameTransport::Udp => {
                        let (Some(tester), Some(entity)) = (socket(&f.local), socket(&f.peer))
                        else {
                            continue;
                        };
                        let ends = Endpoints { tester, entity };
                        let write = if f.transport == FrameTransport::Udp {
                            PcapngWriter::udp
                        } else {
                            PcapngWriter::tcp_data
                        };
                        write(
                            &mut capture,
                            at,
                            ends,
                            direction(f.direction),
                            &f.bytes,
                            comment.as_deref(),
                        )?;
                    }
                    FrameTransport::Can => {
                        let bus = match (&f.local, &f.peer) {
                            (Address::Can { bus, .. }, _) | (_, Address::Can { bus, .. }) => {
                                bus.as_str()
                            }
                            _ => "can",
                        };
                        let (Some(frame), note) = can_frame(f) else { continue };
                        let comment = match (comment, note) {
                            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
                            (a, b) => a.or(b),
                        };
                        capture.can(
                            at,
                            &printable(bus),
                            direction(f.direction),
                            &frame,
                            comment.as_deref(),
                        )?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(capture.finish())
}

/// Writes the capture of `case` to the file `path` (creating its folder).
pub fn write_case_capture_file(
    run: Option<&RunStarted>,
    case: &CaseLog,
    port_mapping: PortMapping,
    path: &Path,
) -> std::io::Result<()> {
    super::write_atomically(path, |file| {
        write_case_capture(run, case, port_mapping, &mut *file).map_err(std::io::Error::other)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::event::{CaseKey, RunTime};

    fn info(id: &str) -> CaseInfo {
        super::super::log::test_info(id)
    }

    #[test]
    fn the_policy_keeps_failing_cases_by_default_and_never_skipped_ones() {
        let dir = Path::new("r");
        let keeps = |policy: CapturePolicy, verdict| {
            policy.capture_for(dir, CaseKey(1), &info("X"), verdict).is_some()
        };
        for v in [Verdict::Fail, Verdict::Error, Verdict::Inconclusive] {
            assert!(keeps(CapturePolicy::Failing, v) && keeps(CapturePolicy::All, v));
        }
        assert!(!keeps(CapturePolicy::Failing, Verdict::Pass));
        assert!(keeps(CapturePolicy::All, Verdict::Pass));
        assert!(!keeps(CapturePolicy::All, Verdict::Skipped));
        assert!(!keeps(CapturePolicy::None, Verdict::Fail));
        assert_eq!(
            CapturePolicy::Failing.capture_for(dir, CaseKey(1), &info("X"), Verdict::Fail),
            Some(PathBuf::from("r/captures/0001-X.pcapng"))
        );
    }

    #[test]
    fn capture_paths_are_numbered_and_safe_file_names() {
        let p = capture_path(Path::new("reports"), CaseKey(7), &info("HDR/../x[a=0x1] é"));
        assert_eq!(p, Path::new("reports/captures/0007-HDR_.._x_a_0x1___.pcapng"));
        let long = capture_path(Path::new("r"), CaseKey(12345), &info(&"A".repeat(500)));
        assert_eq!(long.file_name().unwrap().len(), "12345-".len() + 100 + ".pcapng".len());
    }

    fn can_event(bytes: Vec<u8>, meta: Option<CanFrameMeta>) -> FrameEvent {
        FrameEvent {
            case: CaseKey(0),
            at: RunTime::ZERO,
            direction: Direction::Received,
            transport: FrameTransport::Can,
            local: Address::Can { bus: "mem0".into(), id: 0x7E0, extended: false },
            peer: Address::Can { bus: "mem0".into(), id: 0x7E8, extended: false },
            can: meta,
            bytes,
            decoded: Decoded::Raw,
        }
    }

    #[test]
    fn can_frames_without_details_take_the_senders_id() {
        let (frame, note) = can_frame(&can_event(vec![1, 2], None));
        let frame = frame.unwrap();
        assert_eq!((frame.id().raw(), frame.is_fd(), frame.data()), (0x7E8, false, &[1u8, 2][..]));
        assert_eq!(note, None);
    }

    #[test]
    fn impossible_can_frames_are_written_as_close_as_possible_with_a_note() {
        let classic = CanFrameMeta { id: 0x7E8, extended: false, fd: false, brs: false };
        let (frame, note) = can_frame(&can_event(vec![0; 9], Some(classic)));
        assert_eq!(frame.unwrap().len(), 8);
        assert_eq!(note.as_deref(), Some("9 data bytes cut to the 8 of a classic CAN frame"));

        let fd = CanFrameMeta { id: 0x7E8, extended: false, fd: true, brs: false };
        let (frame, note) = can_frame(&can_event(vec![0; 9], Some(fd)));
        assert_eq!(frame.unwrap().len(), 12);
        assert_eq!(note.as_deref(), Some("9 data bytes written as a 12-byte CAN FD frame"));

        let bad_id = CanFrameMeta { id: 0xFFFF_FFFF, extended: false, fd: false, brs: false };
        let (frame, note) = can_frame(&can_event(vec![1], Some(bad_id)));
        assert_eq!(frame.unwrap().id().raw(), 0x1FFF_FFFF);
        assert_eq!(note.as_deref(), Some("CAN id 0xFFFFFFFF is out of range"));
    }
}
