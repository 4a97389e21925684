//! Virtual-clock tests of the ISO-TP stack: a scripted peer that writes raw frames at exact
//! instants (`sender`, `receiver`), two endpoints wired back to back (`endpoint`), and property
//! tests (`props`). No test sleeps: the clock is an argument.

mod endpoint;
mod props;
mod receiver;
mod sender;

use core::time::Duration;

use crate::codec::can::{CanFrame, CanId, StandardId};
use crate::codec::isotp::{FlowControl, FlowStatus, FrameFormat, IsoTpPdu, Padding, StMin, TxDl};
use crate::proto::time::Instant;

use super::{Endpoint, IsoTpAddress, IsoTpConfig, NResult, TransferEvent};

pub(super) const TESTER_TX: u16 = 0x7E0;
pub(super) const TESTER_RX: u16 = 0x7E8;

pub(super) fn sid(raw: u16) -> CanId {
    StandardId::new(raw).unwrap().into()
}

pub(super) fn ms(n: u64) -> Instant {
    Instant::from_millis(n)
}

pub(super) fn dur_ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The tester side: sends on 0x7E0, receives on 0x7E8, classic CAN padded with 0xCC.
pub(super) fn config() -> IsoTpConfig {
    IsoTpConfig::new(IsoTpAddress::normal(sid(TESTER_TX), sid(TESTER_RX)))
}

pub(super) fn fd_config(tx_dl: usize) -> IsoTpConfig {
    let mut c = config();
    c.tx_dl = TxDl::new(tx_dl).unwrap();
    c.format = FrameFormat { fd: true, brs: true, padding: Padding::padded(0xCC) };
    c
}

pub(super) fn endpoint(config: IsoTpConfig) -> Endpoint {
    Endpoint::new(config).unwrap()
}

pub(super) fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

/// Frames the scripted peer sends to the endpoint under test (on its rx id 0x7E8).
pub(super) struct Peer {
    pub id: CanId,
    pub address_byte: Option<u8>,
    pub format: FrameFormat,
}

impl Peer {
    pub fn new() -> Self {
        Peer { id: sid(TESTER_RX), address_byte: None, format: FrameFormat::default() }
    }

    pub fn fd() -> Self {
        Peer {
            format: FrameFormat { fd: true, brs: false, padding: Padding::padded(0xCC) },
            ..Peer::new()
        }
    }

    pub fn pdu(&self, pdu: IsoTpPdu<'_>) -> CanFrame {
        pdu.emit(self.id, self.address_byte, &self.format).unwrap()
    }

    pub fn raw(&self, data: &[u8]) -> CanFrame {
        CanFrame::new(self.id, data).unwrap()
    }

    pub fn raw_fd(&self, data: &[u8]) -> CanFrame {
        CanFrame::new_fd(self.id, data, false).unwrap()
    }

    pub fn fc(&self, flow_status: FlowStatus, block_size: u8, st_min: u8) -> CanFrame {
        self.pdu(IsoTpPdu::FlowControl(FlowControl {
            flow_status,
            block_size,
            st_min: StMin::from_raw(st_min),
        }))
    }

    pub fn cts(&self, block_size: u8, st_min: u8) -> CanFrame {
        self.fc(FlowStatus::ContinueToSend, block_size, st_min)
    }

    pub fn sf(&self, data: &[u8]) -> CanFrame {
        self.pdu(IsoTpPdu::single(data, self.address_byte.map_or(0, |_| 1)))
    }

    pub fn ff(&self, ff_dl: u32, data: &[u8]) -> CanFrame {
        self.pdu(IsoTpPdu::first(ff_dl, data))
    }

    pub fn cf(&self, sn: u8, data: &[u8]) -> CanFrame {
        self.pdu(IsoTpPdu::ConsecutiveFrame { sn, data })
    }
}

pub(super) fn drain_frames(ep: &mut Endpoint) -> Vec<CanFrame> {
    std::iter::from_fn(|| ep.poll_transmit()).collect()
}

pub(super) fn drain_events(ep: &mut Endpoint) -> Vec<TransferEvent> {
    std::iter::from_fn(|| ep.poll_event()).collect()
}

/// The N_PCI type nibble of a frame we sent (normal addressing).
pub(super) fn pci(frame: &CanFrame) -> u8 {
    frame.data()[0]
}

pub(super) fn send_failed(result: NResult) -> TransferEvent {
    TransferEvent::SendFailed { result }
}

pub(super) fn receive_failed(result: NResult) -> TransferEvent {
    TransferEvent::ReceiveFailed { result }
}

/// A frame on the wire with the instant it was emitted and by whom (`true`: endpoint `a`).
#[derive(Debug, Clone)]
pub(super) struct Emitted {
    pub at: Instant,
    pub from_a: bool,
    pub frame: CanFrame,
}

/// Two endpoints on a loss-free, order-keeping link, driven by a virtual clock that jumps to
/// the next wake-up. Frames are delivered at the instant they are emitted.
pub(super) struct Pair {
    pub a: Endpoint,
    pub b: Endpoint,
    pub now: Instant,
    pub wire: Vec<Emitted>,
    pub events_a: Vec<TransferEvent>,
    pub events_b: Vec<TransferEvent>,
}

impl Pair {
    pub fn new(a: IsoTpConfig, b: IsoTpConfig) -> Self {
        Pair {
            a: endpoint(a),
            b: endpoint(b),
            now: Instant::ZERO,
            wire: Vec::new(),
            events_a: Vec::new(),
            events_b: Vec::new(),
        }
    }

    /// `a` is the tester of [`config`], `b` the same config reversed.
    pub fn with(config: IsoTpConfig) -> Self {
        let mut b = config;
        b.address = config.address.reversed();
        Pair::new(config, b)
    }

    /// Moves frames until both are quiet, then jumps the clock, until nothing is left to do
    /// or `limit` is reached. Returns false if the limit was hit.
    pub fn run(&mut self, limit: Instant) -> bool {
        loop {
            let mut moved = false;
            while let Some(frame) = self.a.poll_transmit() {
                self.wire.push(Emitted { at: self.now, from_a: true, frame });
                self.b.handle_frame(self.now, &frame);
                moved = true;
            }
            while let Some(frame) = self.b.poll_transmit() {
                self.wire.push(Emitted { at: self.now, from_a: false, frame });
                self.a.handle_frame(self.now, &frame);
                moved = true;
            }
            self.events_a.extend(std::iter::from_fn(|| self.a.poll_event()));
            self.events_b.extend(std::iter::from_fn(|| self.b.poll_event()));
            if moved {
                continue;
            }
            let next = match (self.a.poll_timeout(), self.b.poll_timeout()) {
                (Some(x), Some(y)) => x.min(y),
                (x, y) => match x.or(y) {
                    Some(t) => t,
                    None => return true,
                },
            };
            if next > limit {
                return false;
            }
            self.now = self.now.max(next);
            self.a.handle_timeout(self.now);
            self.b.handle_timeout(self.now);
        }
    }

    pub fn frames_from_a(&self) -> impl Iterator<Item = &Emitted> {
        self.wire.iter().filter(|e| e.from_a)
    }
}
