//! A simulated CAN ECU behind the gateway: our ISO-TP stack ([`Endpoint`]) on the ECU's CAN
//! ids, answering with its own [`UdsResponder`]. It is the peer of the gateway and also the
//! ISO-TP target of the ISO-TP suites (any node on the bus may talk to it).
//!
//! The ISO-TP faults are applied here as a fault injector around the conformant stack (the
//! smoltcp middleware shape): flow control frames coming in are rewritten before the stack
//! sees them (so its sender ignores WAIT, BS or STmin), and frames going out are rewritten or
//! dropped (wrong SN, no FC OVFLW). Each breaks exactly one rule of ISO 15765-2:2016.

use super::config::{EcuAddressing, EcuConfig, IsotpConfig};
use super::ecu_faults::{self, Injector};
use super::faults::FaultSet;
use super::uds::UdsResponder;
use crate::codec::can::{CanFrame, CanId};
use crate::codec::isotp::{FrameFormat, Padding, StMin, TxDl};
use crate::proto::isotp::{
    CanAddress, Endpoint, IsoTpAddress, IsoTpConfig, ReceiverProfile, Timers, TransferEvent,
    TxConfirmation,
};
use crate::proto::time::Instant;
use core::time::Duration;
use std::collections::VecDeque;

/// Which end of an ECU link a configuration is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkEnd {
    /// The ECU: receives on `request_id`, sends on `response_id`.
    Ecu,
    /// The gateway (or any tester): sends on `request_id`, receives on `response_id`.
    Tester,
}

/// The ISO-TP configuration of one end of an ECU's link.
pub fn isotp_config(ecu: &EcuConfig, side: LinkEnd) -> IsoTpConfig {
    let address = link_address(ecu, side);
    let mut config = IsoTpConfig::new(address);
    config.format =
        FrameFormat { fd: ecu.isotp.fd, brs: ecu.isotp.brs, padding: padding(&ecu.isotp) };
    config.tx_dl = ecu
        .isotp
        .tx_dl
        .and_then(|dl| TxDl::new(usize::from(dl)))
        .unwrap_or(if ecu.isotp.fd { TxDl::FD_MAX } else { TxDl::CLASSIC });
    config.timers = Timers {
        n_as: ecu.isotp.n_a.get(),
        n_ar: ecu.isotp.n_a.get(),
        n_bs: ecu.isotp.n_bs.get(),
        n_cr: ecu.isotp.n_cr.get(),
        n_br: match side {
            LinkEnd::Ecu => ecu.isotp.n_br.get(),
            LinkEnd::Tester => Duration::ZERO,
        },
        ..Timers::default()
    };
    config.receiver = ReceiverProfile {
        block_size: ecu.isotp.block_size,
        st_min: StMin::from_raw(ecu.isotp.st_min),
        max_receive_size: match side {
            LinkEnd::Ecu => ecu.isotp.max_receive_size.unwrap_or(ecu.uds.max_request_length),
            LinkEnd::Tester => ReceiverProfile::default().max_receive_size,
        },
        ..ReceiverProfile::default()
    };
    if side == LinkEnd::Ecu {
        // Only the ECU acts busy: the gateway's receiver takes its answers at once.
        config.receiver.wait_frames = ecu.isotp.wait_frames;
        config.receiver.n_wft_max = ecu.isotp.n_wft_max;
    }
    config
}

/// The addressing of the ECU's end (`LinkEnd::Ecu`) or of its tester's (ISO 15765-2:2016 §10.3).
fn link_address(ecu: &EcuConfig, side: LinkEnd) -> IsoTpAddress {
    let id = |raw| CanId::new(raw, ecu.extended).unwrap_or_else(zero_id);
    let isotp = &ecu.isotp;
    let ecu_side = IsoTpAddress::normal(id(ecu.response_id), id(ecu.request_id));
    let ecu_side = match isotp.addressing {
        EcuAddressing::Normal => {
            let mut address = ecu_side;
            // The ECU also takes functionally addressed single frames (ISO 15765-2:2016 §10.3.1).
            address.functional_rx = ecu.functional_id.map(|raw| CanAddress::new(id(raw), None));
            address
        }
        EcuAddressing::NormalFixed => {
            // request_id is 0x18DA<ECU><tester> (validated).
            let [_, _, ecu_address, tester] = ecu.request_id.to_be_bytes();
            IsoTpAddress::normal_fixed(ecu_address, tester)
        }
        EcuAddressing::Extended => IsoTpAddress::extended(
            id(ecu.response_id),
            id(ecu.request_id),
            isotp.ecu_address.unwrap_or_default(),
            isotp.tester_address.unwrap_or_default(),
        ),
        EcuAddressing::Mixed => IsoTpAddress::mixed_11bit(
            id(ecu.response_id),
            id(ecu.request_id),
            isotp.address_extension.unwrap_or_default(),
        ),
    };
    match side {
        LinkEnd::Ecu => ecu_side,
        LinkEnd::Tester => ecu_side.reversed(),
    }
}

/// Validation keeps ids in range; this is the unreachable fallback that keeps the code
/// panic-free.
fn zero_id() -> CanId {
    CanId::Standard(crate::codec::can::StandardId::MAX)
}

fn padding(isotp: &IsotpConfig) -> Padding {
    match isotp.padding {
        Some(byte) => Padding::padded(byte),
        None => Padding::length_optimised(0xCC),
    }
}

/// One simulated ECU.
#[derive(Debug)]
pub struct EcuNode {
    pub name: String,
    pub logical_address: u16,
    rx_id: CanId,
    functional_id: Option<CanId>,
    endpoint: Endpoint,
    uds: UdsResponder,
    /// UDS responses not yet due (delays, response-pending sequences).
    scheduled: Vec<(Instant, Vec<u8>)>,
    /// Due responses waiting for the sender (one message at a time).
    ready: VecDeque<Vec<u8>>,
    injector: Injector,
    /// `isotp.tx_delay`: how long the CAN controller holds each frame.
    tx_delay: Duration,
    /// Frames in the CAN controller with the time each reaches the bus, oldest first.
    controller: VecDeque<(Instant, CanFrame)>,
}

/// Responses an ECU holds at most (a tester flooding requests cannot grow memory).
const MAX_QUEUED_RESPONSES: usize = 64;

impl EcuNode {
    /// The ECU `config` describes, with `faults`; `hang_ff_dl` is the simulator's
    /// `robustness.isotp_hang_ff_dl` (used only under `isotp_hang_on_large_ff_dl`).
    pub fn new(
        config: &EcuConfig,
        faults: FaultSet,
        hang_ff_dl: u32,
    ) -> Result<Self, crate::proto::isotp::ConfigError> {
        let mut isotp = isotp_config(config, LinkEnd::Ecu);
        isotp.timers = ecu_faults::timers(faults, isotp.timers);
        isotp.receiver = ecu_faults::receiver(faults, isotp.receiver);
        isotp.tx_dl = ecu_faults::tx_dl(faults, isotp.tx_dl);
        let functional_id = isotp.address.functional_rx.map(|a| a.id);
        let injector = Injector::new(faults, &isotp.address, isotp.format.padding.byte, hang_ff_dl);
        let tx_delay = config.isotp.tx_delay.get();
        if !tx_delay.is_zero() {
            // The stack waits for each frame's confirmation (N_As / N_Ar run meanwhile).
            isotp.tx_confirmation = TxConfirmation::Explicit;
        }
        Ok(EcuNode {
            name: config.name.clone(),
            logical_address: config.logical_address.value,
            rx_id: isotp.address.rx.id,
            functional_id,
            endpoint: Endpoint::new(isotp)?,
            uds: UdsResponder::new(&config.uds),
            scheduled: Vec::new(),
            ready: VecDeque::new(),
            injector,
            tx_delay,
            controller: VecDeque::new(),
        })
    }

    /// A frame from the bus (frames for other nodes are ignored by the stack).
    pub fn handle_frame(&mut self, now: Instant, frame: &CanFrame) {
        if frame.id() != self.rx_id && Some(frame.id()) != self.functional_id {
            return;
        }
        let (receiving, sending) = (self.endpoint.is_receiving(), self.endpoint.is_sending());
        if let Some(frame) = self.injector.incoming(frame, receiving, sending) {
            self.endpoint.handle_frame(now, &frame);
        }
        if self.injector.is_hung() {
            // `isotp_hang_on_large_ff_dl`: what the ECU owed anyone is lost with it.
            self.scheduled.clear();
            self.ready.clear();
            self.controller.clear();
            return;
        }
        self.pump(now);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.injector.is_hung() {
            return;
        }
        self.endpoint.handle_timeout(now);
        self.pump(now);
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.injector.is_hung() {
            // A hung ECU has no timer left: the host is not woken for it.
            return None;
        }
        let scheduled = self.scheduled.iter().map(|(t, _)| *t).min();
        let on_bus = self.controller.front().map(|(t, _)| *t);
        [self.endpoint.poll_timeout(), scheduled, on_bus].into_iter().flatten().min()
    }

    /// The next frame for the bus.
    pub fn poll_transmit(&mut self, now: Instant) -> Option<CanFrame> {
        if self.injector.is_hung() {
            return None;
        }
        if self.tx_delay.is_zero() {
            return self.next_frame(now);
        }
        // A held frame is confirmed when it reaches the bus; only then does the stack give its
        // next one (TxConfirmation::Explicit), so the controller holds one frame per half.
        while let Some(frame) = self.next_frame(now) {
            self.controller.push_back((now + self.tx_delay, frame));
        }
        let (due, _) = self.controller.front()?;
        if *due > now {
            return None;
        }
        let (_, frame) = self.controller.pop_front()?;
        self.endpoint.handle_tx_confirmation(now);
        self.pump(now);
        Some(frame)
    }

    /// The stack's next frame, through the fault injector.
    fn next_frame(&mut self, now: Instant) -> Option<CanFrame> {
        loop {
            let frame = self.endpoint.poll_transmit()?;
            self.pump(now);
            if let Some(frame) = self.injector.outgoing(frame) {
                return Some(frame);
            }
        }
    }

    /// Requests in, UDS responses scheduled, due responses handed to the sender.
    fn pump(&mut self, now: Instant) {
        while let Some(event) = self.endpoint.poll_event() {
            if let TransferEvent::MessageReceived { payload, .. } = event {
                for response in self.uds.handle_request(&payload) {
                    if self.scheduled.len() + self.ready.len() < MAX_QUEUED_RESPONSES {
                        self.scheduled.push((now + response.delay, response.bytes));
                    }
                }
            }
        }
        let mut i = 0;
        while i < self.scheduled.len() {
            if self.scheduled[i].0 <= now {
                let (_, bytes) = self.scheduled.remove(i);
                self.ready.push_back(bytes);
            } else {
                i += 1;
            }
        }
        if !self.endpoint.is_sending()
            && let Some(next) = self.ready.pop_front()
        {
            // Cannot fail: not busy, and UDS responses are never empty.
            let _ = self.endpoint.send(now, &next);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The ECU on its own, frame in, frames out, on a virtual clock that stands still unless a
    //! test moves it.

    use super::*;
    use crate::sim::config::{Robustness, unspanned};
    use crate::sim::faults::Fault;

    const REQUEST_ID: u32 = 0x7E0;
    const FUNCTIONAL_ID: u32 = 0x7DF;
    const TESTER_PRESENT: [u8; 3] = [0x02, 0x3E, 0x00];
    /// The ECU's own address with extended addressing: frames to it start with it.
    const ECU_ADDRESS: u8 = 0x17;
    const HANG: Option<Fault> = Some(Fault::IsotpHangOnLargeFfDl);

    /// An ECU on 0x7E0 / 0x7E8 (functional 0x7DF) with the default 4095-byte buffer;
    /// `extended`: extended addressing, ECU 0x17, tester 0xF1.
    fn ecu(fault: Option<Fault>, extended: bool) -> EcuNode {
        ecu_hanging_above(fault, extended, Robustness::default().isotp_hang_ff_dl)
    }

    /// [`ecu`] whose `isotp_hang_on_large_ff_dl` trips above `hang_ff_dl`.
    fn ecu_hanging_above(fault: Option<Fault>, extended: bool, hang_ff_dl: u32) -> EcuNode {
        let mut isotp = IsotpConfig::default();
        if extended {
            isotp.addressing = EcuAddressing::Extended;
            isotp.ecu_address = Some(ECU_ADDRESS);
            isotp.tester_address = Some(0xF1);
        }
        let config = EcuConfig {
            name: "engine".into(),
            logical_address: unspanned(0x0011),
            request_id: REQUEST_ID,
            response_id: 0x7E8,
            functional_id: (!extended).then_some(FUNCTIONAL_ID),
            extended: false,
            isotp,
            uds: Default::default(),
            simulated: true,
        };
        EcuNode::new(&config, fault.into_iter().collect(), hang_ff_dl).unwrap()
    }

    /// Sends `data` (padded to 8 bytes) on `id`; the frames' data the ECU sends back.
    fn exchange_on(ecu: &mut EcuNode, id: u32, data: &[u8]) -> Vec<Vec<u8>> {
        let mut padded = data.to_vec();
        padded.resize(8, 0xCC);
        let frame = CanFrame::new(CanId::new(id, false).unwrap(), &padded).unwrap();
        ecu.handle_frame(Instant::ZERO, &frame);
        core::iter::from_fn(|| ecu.poll_transmit(Instant::ZERO))
            .map(|f| f.data().to_vec())
            .collect()
    }

    fn exchange(ecu: &mut EcuNode, data: &[u8]) -> Vec<Vec<u8>> {
        exchange_on(ecu, REQUEST_ID, data)
    }

    /// The first frame (N_PDU) announcing `ff_dl`: 12-bit up to 4095, escaped above.
    fn first_frame(ff_dl: u32) -> Vec<u8> {
        if ff_dl <= 0x0FFF {
            vec![0x10 | (ff_dl >> 8) as u8, ff_dl as u8, 0x2E, 0x03, 0x00, 0x11, 0x11, 0x11]
        } else {
            [&[0x10, 0x00][..], &ff_dl.to_be_bytes(), &[0x2E, 0x03]].concat()
        }
    }

    /// Whether the ECU answers TesterPresent (`02 7E 00`) and is awake.
    fn answers_tester_present(ecu: &mut EcuNode) -> bool {
        exchange(ecu, &TESTER_PRESENT).first().is_some_and(|sf| sf[..3] == [0x02, 0x7E, 0x00])
    }

    #[test]
    fn an_ff_dl_at_the_threshold_is_answered_and_one_above_hangs_the_faulty_ecu_for_good() {
        // Thresholds inside and beyond the 4095-byte buffer, 12-bit and escaped: the
        // conformant ECU answers CTS within its buffer, OVFLW above (ISO 15765-2:2016
        // §9.6.5.1); the faulty one hangs on anything above its threshold.
        for threshold in [Robustness::default().isotp_hang_ff_dl, 8, 4094, 0x10000] {
            let cts_or_overflow = |ff_dl: u32| if ff_dl <= 4095 { 0x30 } else { 0x32 };
            for ff_dl in [threshold, threshold + 1] {
                for fault in [None, HANG] {
                    let mut e = ecu_hanging_above(fault, false, threshold);
                    let fc = exchange(&mut e, &first_frame(ff_dl));
                    if fault.is_some() && ff_dl > threshold {
                        assert_eq!(fc, Vec::<Vec<u8>>::new(), "{ff_dl:#x}: not even FC OVFLW");
                        assert_eq!(e.poll_timeout(), None, "{ff_dl:#x}: no timer left to fire");
                        assert!(!answers_tester_present(&mut e), "{ff_dl:#x}");
                        e.handle_timeout(Instant::ZERO + Duration::from_secs(3600));
                        assert!(!answers_tester_present(&mut e), "{ff_dl:#x}: still hung");
                    } else {
                        let statuses: Vec<u8> = fc.iter().map(|f| f[0]).collect();
                        assert_eq!(statuses, [cts_or_overflow(ff_dl)], "{ff_dl:#x} {fault:?}");
                        // Answered whether a reception is open (after CTS the SF ends it,
                        // N_UNEXP_PDU) or not (after OVFLW).
                        assert!(answers_tester_present(&mut e), "{ff_dl:#x} {fault:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_large_first_frame_stops_the_answer_in_progress() {
        for fault in [None, HANG] {
            let mut e = ecu(fault, false);
            // Read the 17-byte VIN: the answer's FF goes out, its CFs wait for the FC.
            let ff = exchange(&mut e, &[0x03, 0x22, 0xF1, 0x90]);
            assert_eq!(ff[0][..2], [0x10, 20]);
            exchange(&mut e, &first_frame(0x10000));
            let cfs = exchange(&mut e, &[0x30, 0x00, 0x00]);
            let expected = if fault.is_some() { 0 } else { 2 };
            assert_eq!(cfs.len(), expected, "{fault:?}: {cfs:x?}");
        }
    }

    #[test]
    fn only_a_physical_first_frame_for_this_ecu_hangs_it() {
        // On the functional id (ignored: functional addressing is single-frame only) and on
        // another node's id, a large FF does nothing.
        let mut e = ecu(HANG, false);
        exchange_on(&mut e, FUNCTIONAL_ID, &first_frame(0x10000));
        exchange_on(&mut e, 0x7E1, &first_frame(0x10000));
        assert!(answers_tester_present(&mut e));
        // Extended addressing: an FF for another node's address byte does nothing, one for
        // the ECU's own address (classic FF_DL, behind the address byte) hangs it.
        let mut e = ecu(HANG, true);
        let for_node =
            |address: u8, pdu: &[u8]| [&[address][..], &pdu[..pdu.len().min(7)]].concat();
        exchange(&mut e, &for_node(0x18, &first_frame(4095)));
        let answer = exchange(&mut e, &for_node(ECU_ADDRESS, &TESTER_PRESENT));
        assert_eq!(answer[0][..4], [0xF1, 0x02, 0x7E, 0x00]);
        let fc = exchange(&mut e, &for_node(ECU_ADDRESS, &first_frame(4095)));
        assert_eq!(fc, Vec::<Vec<u8>>::new());
        assert!(exchange(&mut e, &for_node(ECU_ADDRESS, &TESTER_PRESENT)).is_empty());
    }
}
