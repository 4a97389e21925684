//! `doipcheck isotp dump`: every frame on the bus as one human line, like can-utils' isotpdump.
//!
//! ```text
//!     0.001208       7E0  [8]         SF SF_DL 3 [22 F1 90]
//!     0.001311       7E8  [8]         FF FF_DL 20 [62 F1 90 57 30 4C]
//!     0.001400       7E0  [3]         FC CTS BS 3 STmin 500 us
//!     0.001650  18DAF110  [12 FD BRS] CF SN 1 [21 21 21 21 21 21 21 21 21 21 21]
//!     0.001702       7E0  [4]         TA F1  SF SF_DL 2 [3E 00]
//!     0.001800       7E0  [2]         invalid: N_PCI type: 0x4 is reserved (...) [40 00]
//! ```
//! Seconds since the dump started, the id (3 digits 11-bit, 8 digits 29-bit), CAN_DL with FD
//! and BRS marks, the address byte (TA for extended, AE for mixed addressing), then the N_PDU
//! as the ISO-TP codec reads it, or why it is not a valid one.

use super::args::{Addressing, parse_can_id};
use crate::cli::exit;
use crate::cli::stdout::{self, Stdout};
use crate::codec::can::CanId;
use crate::codec::isotp::{AddressingMode, describe_frame};
use crate::notation;
use crate::transport::can::{CanSpec, CanTransport, Origin};
use std::io::Write;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct DumpArgs {
    /// CAN transport: memory:NAME, cannelloni:LOCAL_PORT@HOST:PORT or socketcan:IFACE.
    #[arg(long, value_name = "SPEC")]
    pub can: CanSpec,
    /// Show only frames with this id (hex; repeatable). Default: every frame.
    #[arg(long = "id", value_name = "ID", value_parser = parse_can_id)]
    pub ids: Vec<CanId>,
    /// Addressing format, which says whether the first data byte is an address byte.
    #[arg(long, value_enum, default_value_t = Addressing::Normal)]
    pub addressing: Addressing,
    /// Stop after this many frames.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Stop after this long (e.g. 10s); without it the dump runs until Ctrl-C or --count.
    #[arg(long, value_name = "DURATION", value_parser = notation::parse_duration)]
    pub timeout: Option<Duration>,
}

pub async fn run(args: DumpArgs) -> u8 {
    let mut transport = match super::open(&args.can).await {
        Ok(t) => t,
        Err(code) => return code,
    };
    match dump(&mut transport, &args, &mut Stdout::new()).await {
        Ok(()) => exit::SUCCESS,
        Err(code) => code,
    }
}

/// Writes a line per frame to `out`, flushed, until `--count`, `--timeout` or Ctrl-C; a write
/// error (the reader of a pipe went away) stops it with the error's exit code.
pub async fn dump(
    transport: &mut CanTransport,
    args: &DumpArgs,
    out: &mut impl Write,
) -> Result<(), u8> {
    let start = Instant::now();
    let deadline = args.timeout.map(|t| start + t);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mode = AddressingMode::from(args.addressing);
    let mut shown = 0u64;
    while args.count.is_none_or(|n| shown < n) {
        tokio::select! {
            r = transport.recv() => {
                let rx = r.map_err(|e| super::report_transport_error(&e))?;
                if !args.ids.is_empty() && !args.ids.contains(&rx.frame.id()) {
                    continue;
                }
                let t = rx.at.saturating_duration_since(start).as_secs_f64();
                let echo = if rx.origin == Origin::Echo { " (own)" } else { "" };
                writeln!(out, "{t:>12.6}  {}{echo}", describe_frame(&rx.frame, mode))
                    .and_then(|()| out.flush())
                    .map_err(|e| stdout::write_failed(&e))?;
                shown += 1;
            }
            _ = tokio::time::sleep_until(deadline.unwrap_or(start).into()), if deadline.is_some() => break,
            _ = &mut ctrl_c => break,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::can::CanFrame;
    use crate::codec::can::{ExtendedId, StandardId};

    fn classic(id: u16, data: &[u8]) -> CanFrame {
        CanFrame::new(StandardId::new(id).unwrap(), data).unwrap()
    }

    #[test]
    fn lines_for_every_frame_type_and_defect() {
        let fd_sf: Vec<u8> = [&[0x00, 10][..], &[0xAB; 10]].concat();
        let frames = [
            (
                classic(0x7E0, &[0x03, 0x22, 0xF1, 0x90, 0xCC, 0xCC, 0xCC, 0xCC]),
                AddressingMode::Normal,
            ),
            (
                classic(0x7E8, &[0x10, 0x14, 0x62, 0xF1, 0x90, 0x57, 0x30, 0x4C]),
                AddressingMode::Normal,
            ),
            (classic(0x7E0, &[0x30, 0x03, 0xF5]), AddressingMode::Normal),
            (classic(0x7E0, &[0x31, 0x00, 0x00]), AddressingMode::Normal),
            (classic(0x7E0, &[0x32, 0x00, 0x00]), AddressingMode::Normal),
            (classic(0x7E0, &[0x37, 0x00, 0x85]), AddressingMode::Normal),
            (classic(0x7E8, &[0x2F, 1, 2, 3, 4, 5, 6, 7]), AddressingMode::Normal),
            (classic(0x7E8, &[0x10, 0x00, 0x00, 0x00, 0x13, 0x88, 1, 2]), AddressingMode::Normal),
            (classic(0x7E0, &[0x40, 0x00]), AddressingMode::Normal),
            (classic(0x7E0, &[0x00, 0x05, 1, 2, 3, 4, 5]), AddressingMode::Normal),
            (classic(0x7E0, &[0x30, 0x00]), AddressingMode::Normal),
            (classic(0x7E0, &[]), AddressingMode::Normal),
            (classic(0x7E0, &[0xF1, 0x02, 0x3E, 0x00]), AddressingMode::Extended),
            (classic(0x7E0, &[0x55, 0x21, 9, 9]), AddressingMode::Mixed),
            (
                CanFrame::new_fd(ExtendedId::new(0x18DA_F110).unwrap(), &fd_sf, true).unwrap(),
                AddressingMode::NormalFixed,
            ),
            (
                CanFrame::new_fd(StandardId::new(0x123).unwrap(), &[0x21; 12], false).unwrap(),
                AddressingMode::Normal,
            ),
        ];
        let text: String = frames.iter().map(|(f, m)| describe_frame(f, *m) + "\n").collect();
        insta::assert_snapshot!(text);
    }

    #[test]
    fn dump_filters_by_id_stops_at_count_and_marks_own_frames() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let spec: CanSpec = "memory:cli-dump-test?echo".parse().unwrap();
            let mut transport = CanTransport::open(&spec).await.unwrap();
            let peer = crate::transport::can::memory::MemoryBus::named("cli-dump-test")
                .node(Default::default());
            peer.send(&classic(0x100, &[0x01, 0xAA]));
            peer.send(&classic(0x7E8, &[0x01, 0x7E]));
            transport.send(&classic(0x7E8, &[0x30, 0, 0])).await.unwrap();
            peer.send(&classic(0x7E8, &[0x21, 1]));
            let args = DumpArgs {
                can: spec,
                ids: vec![parse_can_id("7E8").unwrap()],
                addressing: Addressing::Normal,
                count: Some(2),
                timeout: Some(Duration::from_secs(5)),
            };
            let mut out = Vec::new();
            dump(&mut transport, &args, &mut out).await.unwrap();
            let text = String::from_utf8(out).unwrap();
            let lines: Vec<&str> =
                text.lines().map(|l| l.trim_start().split_once("  ").unwrap().1).collect();
            assert_eq!(
                lines,
                vec![
                    "     7E8  [2]         SF SF_DL 1 [7E]",
                    "     7E8  [3]         FC CTS BS 0 STmin 0 ms (own)"
                ]
            );
        });
    }

    #[test]
    fn dump_ends_at_its_timeout_on_a_silent_bus() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let spec: CanSpec = "memory:cli-dump-silent".parse().unwrap();
            let mut transport = CanTransport::open(&spec).await.unwrap();
            let args = DumpArgs {
                can: spec,
                ids: vec![],
                addressing: Addressing::Normal,
                count: None,
                timeout: Some(Duration::from_millis(30)),
            };
            let started = Instant::now();
            let mut out = Vec::new();
            dump(&mut transport, &args, &mut out).await.unwrap();
            assert!(out.is_empty());
            assert!(started.elapsed() >= Duration::from_millis(30));
        });
    }
}
