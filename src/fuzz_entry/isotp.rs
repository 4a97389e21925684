//! Fuzz entry point `isotp_receiver`: arbitrary frames, time steps, confirmations and sends
//! into an ISO-TP [`Endpoint`] (the receiver, with its sender beside it), with oracles:
//! - the reception buffer never exceeds the max receive size, no payload is larger;
//! - every frame we emit parses back with the codec, fits TX_DL and goes to our tx id;
//! - a received payload has the length its FF announced;
//! - after a step and draining `poll_transmit`, no timer is left due (nothing gets stuck);
//! - the event queue stays bounded.
//!
//! Input layout (missing bytes read as 0): a 6-byte header, then steps.
//! ```text
//! h0 bits 0-2 addressing (mod 6), bit 3 FD/TX_DL 64, bit 4 explicit confirmation,
//!    bit 5 dynamic BS/STmin, bit 6 length-optimised padding
//! h1 BS granted   h2 STmin granted   h3 bits 0-1 WAITs sent, bits 4-5 N_WFTmax
//! h4 h5 max receive size (u16 BE)
//! step: op; op & 3 = 0 frame: delay_ms len data[len]; bit 2: force our address byte;
//!                     op >> 6: 0-1 our rx id, 2 functional rx id, 3 a foreign id
//!           1 time step: delay_ms (u16 BE)    2 tx confirmation    3 send: len (u16 BE)
//! ```
//!
//! May import `crate::codec` and `crate::proto`.

use core::time::Duration;

use crate::codec::can::{CanFrame, CanId, StandardId, fd_padded_len};
use crate::codec::isotp::{FrameFormat, IsoTpPdu, Padding, StMin, TxDl};
use crate::proto::isotp::{
    CanAddress, Endpoint, FcParameters, IsoTpAddress, IsoTpConfig, MAX_QUEUED_IGNORED,
    TransferEvent, TxConfirmation,
};
use crate::proto::time::Instant;

/// Steps beyond this are not run, so one input stays fast.
const MAX_STEPS: usize = 4096;

struct Input<'a> {
    data: &'a [u8],
}

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

fn sid(raw: u16) -> CanId {
    StandardId::new(raw & 0x7FF).map(CanId::from).unwrap_or(CanId::Standard(StandardId::MAX))
}

fn address(selector: u8) -> IsoTpAddress {
    match selector % 6 {
        0 => IsoTpAddress::normal(sid(0x7E8), sid(0x7E0)),
        1 => IsoTpAddress::normal_fixed(0x10, 0xF1),
        2 => IsoTpAddress::extended(sid(0x610), sid(0x6F1), 0x10, 0xF1),
        3 => IsoTpAddress::mixed_11bit(sid(0x7E8), sid(0x7E0), 0x55),
        4 => IsoTpAddress::mixed_29bit(0x10, 0xF1, 0x55),
        _ => IsoTpAddress::normal(sid(0x123), sid(0x456)),
    }
}

fn config(input: &mut Input<'_>) -> IsoTpConfig {
    let h0 = input.byte();
    let mut address = address(h0 & 0x07);
    address.functional_rx = Some(CanAddress::new(sid(0x7DF), address.rx.address_byte));
    let mut c = IsoTpConfig::new(address);
    if h0 & 0x08 != 0 {
        c.tx_dl = TxDl::FD_MAX;
        c.format = FrameFormat { fd: true, brs: true, ..c.format };
    }
    if h0 & 0x10 != 0 {
        c.tx_confirmation = TxConfirmation::Explicit;
    }
    if h0 & 0x20 != 0 {
        c.sender.fc_parameters = FcParameters::Dynamic;
    }
    c.format.padding = Padding { byte: 0xCC, length_optimised: h0 & 0x40 != 0 };
    c.receiver.block_size = input.byte();
    c.receiver.st_min = StMin::from_raw(input.byte());
    let h3 = input.byte();
    c.receiver.wait_frames = (h3 & 0x03) as u32;
    c.receiver.n_wft_max = ((h3 >> 4) & 0x03) as u32;
    c.receiver.max_receive_size = input.u16() as u32;
    c.timers.n_br = Duration::from_millis((h3 >> 6) as u64 * 10);
    c
}

/// What one input made the endpoint do, so the corpus replay can show the seeds reach deep
/// states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub frames_sent: usize,
    pub messages_received: usize,
    pub messages_sent: usize,
    pub receive_failures: usize,
    pub send_failures: usize,
    pub frames_ignored: usize,
}

/// Runs one fuzz input; panics when an oracle fails.
pub fn isotp_receiver(data: &[u8]) -> Summary {
    let mut summary = Summary::default();
    let mut input = Input { data };
    let config = config(&mut input);
    let Ok(mut ep) = Endpoint::new(config) else { return summary };
    let max = config.receiver.max_receive_size as usize;
    let mut now = Instant::ZERO;
    let mut announced: Option<u32> = None;
    for _ in 0..MAX_STEPS {
        if input.is_empty() {
            break;
        }
        let op = input.byte();
        match op & 0x03 {
            0 => {
                now += Duration::from_millis(input.byte() as u64);
                if let Some(frame) = frame(&mut input, op, &config) {
                    ep.handle_frame(now, &frame);
                }
            }
            1 => {
                now += Duration::from_millis(input.u16() as u64);
                ep.handle_timeout(now);
            }
            2 => ep.handle_tx_confirmation(now),
            _ => {
                let len = input.u16() as usize;
                let message: Vec<u8> = (0..len).map(|i| i as u8).collect();
                // Refusals (busy, empty) are part of the API, not findings.
                let _ = ep.send(now, &message);
            }
        }
        check(&mut ep, &config, max, now, &mut announced, &mut summary);
    }
    summary
}

fn frame(input: &mut Input<'_>, op: u8, config: &IsoTpConfig) -> Option<CanFrame> {
    let requested = (input.byte() % 65) as usize;
    let mut bytes = [0u8; 64];
    for b in bytes.iter_mut().take(requested) {
        *b = input.byte();
    }
    let address = config.address;
    let (id, address_byte) = match op >> 6 {
        0 | 1 => (address.rx.id, address.rx.address_byte),
        2 => (sid(0x7DF), address.rx.address_byte),
        _ => (sid(0x100), None),
    };
    if op & 0x04 != 0
        && let Some(b) = address_byte
    {
        bytes[0] = b;
    }
    let built = if requested > 8 {
        let len = fd_padded_len(requested).unwrap_or(64);
        CanFrame::new_fd(id, &bytes[..len], false)
    } else {
        CanFrame::new(id, &bytes[..requested])
    };
    built.ok()
}

fn check(
    ep: &mut Endpoint,
    config: &IsoTpConfig,
    max: usize,
    now: Instant,
    announced: &mut Option<u32>,
    summary: &mut Summary,
) {
    assert!(ep.receive_buffer_capacity() <= max, "reception buffer above max receive size");
    let tx = config.address.tx;
    let functional_tx = config.address.functional_tx;
    while let Some(frame) = ep.poll_transmit() {
        assert!(
            frame.id() == tx.id || functional_tx.is_some_and(|f| f.id == frame.id()),
            "frame {frame} on a foreign id"
        );
        assert!(frame.len() <= config.tx_dl.get(), "frame {frame} above TX_DL");
        let parsed = IsoTpPdu::parse(frame.data(), config.address.mode);
        assert!(parsed.is_ok(), "we emitted an invalid frame {frame}: {parsed:?}");
        summary.frames_sent += 1;
    }
    assert!(ep.pending_events() <= MAX_QUEUED_IGNORED + 16, "event queue grows");
    while let Some(event) = ep.poll_event() {
        match event {
            TransferEvent::FirstFrameReceived { ff_dl } => *announced = Some(ff_dl),
            TransferEvent::MessageReceived { payload, target } => {
                summary.messages_received += 1;
                assert!(payload.len() <= max, "payload above max receive size");
                if target == crate::codec::isotp::TargetAddressType::Physical
                    && payload.len() > crate::codec::isotp::max_sf_dl(64, 0)
                {
                    assert_eq!(Some(payload.len() as u32), *announced, "length != FF_DL");
                }
            }
            TransferEvent::MessageSent => summary.messages_sent += 1,
            TransferEvent::ReceiveFailed { .. } => summary.receive_failures += 1,
            TransferEvent::SendFailed { .. } => summary.send_failures += 1,
            TransferEvent::FrameIgnored { .. } => summary.frames_ignored += 1,
            TransferEvent::OverflowRefused { .. } => {}
        }
    }
    if let Some(t) = ep.poll_timeout() {
        assert!(t > now, "timer due at {t:?} left pending at {now:?}");
    }
}
