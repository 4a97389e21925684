//! The ISO-TP faults of a simulated ECU, as a fault injector around the conformant stack (the
//! smoltcp middleware shape): frames coming in are rewritten or dropped before the stack sees
//! them (so its receiver takes a wrong SN, its sender ignores WAIT, BS, STmin or OVFLW), frames
//! going out are rewritten or dropped (wrong SN, wrong padding, no FC OVFLW), the timer
//! faults change the stack's N_Bs / N_Cr / N_As / N_Ar and the WAIT faults its receiver's
//! N_WFTmax. Each fault breaks exactly one rule of ISO 15765-2:2016 (see [`Fault::rule`]); the
//! injector keeps the little state some need (consecutive frames received, whether a CTS was
//! seen for the message being sent).
//!
//! Frames are judged by their N_PCI, after the address byte of extended and mixed addressing;
//! the addressing faults rewrite or drop that byte, the CAN FD faults the ECU's TX_DL and its
//! reading of escaped single frames.
//!
//! One robustness fault takes the ECU down, for the fuzzer to find (docs/architecture.md
//! "Simulator and faults"): after a large first
//! frame the injector reports the ECU hung, and [`super::ecu::EcuNode`] stops receiving,
//! sending and waking up until a power cycle builds a new one.

use super::faults::{Fault, FaultSet};
use crate::codec::can::{CanFrame, CanId};
use crate::codec::isotp::{AddressingMode, CLASSIC_CAN_DL, PciView, StMin, TxDl};
use crate::proto::isotp::{IsoTpAddress, ReceiverProfile, Timers};
use core::time::Duration;

/// How long "never" is for the timer faults: long enough for any case, still a bound.
const NEVER: Duration = Duration::from_secs(3600);

/// The stack's timers as the faulty ECU runs them.
pub fn timers(faults: FaultSet, mut timers: Timers) -> Timers {
    if faults.has(Fault::IsotpNCrNever) {
        timers.n_cr = NEVER;
    }
    if faults.has(Fault::IsotpNCrEarly) {
        timers.n_cr /= 2;
    }
    if faults.has(Fault::IsotpNBsNever) {
        timers.n_bs = NEVER;
    }
    if faults.has(Fault::IsotpNANever) {
        timers.n_as = NEVER;
        timers.n_ar = NEVER;
    }
    if faults.has(Fault::IsotpNBsEarly) {
        timers.n_bs /= 2;
    }
    timers
}

/// The receiver's FC WAIT limit as the faulty ECU runs it (only a busy ECU, one configured
/// with `wait_frames`, ever reaches it).
pub fn receiver(faults: FaultSet, mut receiver: ReceiverProfile) -> ReceiverProfile {
    if faults.has(Fault::IsotpNWftMaxOffByOne) {
        receiver.n_wft_max = receiver.n_wft_max.saturating_sub(1);
    }
    if faults.has(Fault::IsotpExceedsNWftMax) {
        receiver.n_wft_max = u32::MAX;
    }
    receiver
}

/// The TX_DL the faulty ECU sends with: `isotp_fd_tx_dl_8` keeps an FD ECU to 8-byte frames.
pub fn tx_dl(faults: FaultSet, tx_dl: TxDl) -> TxDl {
    if faults.has(Fault::IsotpFdTxDl8) { TxDl::CLASSIC } else { tx_dl }
}

/// The fault injector of one ECU.
#[derive(Debug)]
pub struct Injector {
    faults: FaultSet,
    rx_id: CanId,
    functional_id: Option<CanId>,
    /// The address byte (N_TA or N_AE) that starts frames to the ECU, with extended / mixed
    /// addressing.
    rx_address_byte: Option<u8>,
    /// The address byte that starts the ECU's own frames.
    tx_address_byte: Option<u8>,
    /// Normal fixed addressing: `isotp_fixed_reply_not_swapped` answers on the request's id.
    normal_fixed: bool,
    /// The configured padding byte (the `isotp_wrong_padding` fault writes its complement).
    padding: u8,
    /// Consecutive frames taken since the last first frame (for the expected SN).
    cfs_received: u32,
    /// `isotp_unexpected_frame_blocks`: an unexpected CF / FC arrived; the next SF / FF is lost.
    blocked: bool,
    /// `isotp_no_resume_after_block`: a CTS came for the message being sent.
    cts_seen: bool,
    /// `isotp_hang_on_large_ff_dl`: a physical first frame announcing more bytes than this
    /// hangs the ECU (whatever its buffer: the conformant one answers it with CTS or OVFLW);
    /// the simulator's `robustness.isotp_hang_ff_dl`.
    hang_ff_dl: u32,
    /// `isotp_hang_on_large_ff_dl`: a large first frame arrived; the ECU is silent for good.
    hung: bool,
}

impl Injector {
    /// The injector of an ECU whose end of the link is `address`.
    pub fn new(faults: FaultSet, address: &IsoTpAddress, padding: u8, hang_ff_dl: u32) -> Self {
        Injector {
            faults,
            rx_id: address.rx.id,
            functional_id: address.functional_rx.map(|a| a.id),
            rx_address_byte: address.rx.address_byte,
            tx_address_byte: address.tx.address_byte,
            normal_fixed: address.mode == AddressingMode::NormalFixed,
            padding,
            cfs_received: 0,
            blocked: false,
            cts_seen: false,
            hang_ff_dl,
            hung: false,
        }
    }

    /// Payload bytes of a classic frame after the address byte.
    fn classic_room(&self) -> usize {
        CLASSIC_CAN_DL - usize::from(self.rx_address_byte.is_some())
    }

    fn has(&self, fault: Fault) -> bool {
        self.faults.has(fault)
    }

    /// Whether the ECU is down (`isotp_hang_on_large_ff_dl`): it takes no frame and sends none
    /// until a power cycle.
    pub fn is_hung(&self) -> bool {
        self.hung
    }

    /// `frame` (on the ECU's request or functional id) as the faulty ECU perceives it; `None`
    /// drops it. `receiving` / `sending`: the stack's state before the frame.
    pub fn incoming(
        &mut self,
        frame: &CanFrame,
        receiving: bool,
        sending: bool,
    ) -> Option<CanFrame> {
        if self.hung {
            return None;
        }
        let (address_byte, data) = split_address(frame.data(), self.rx_address_byte.is_some());
        let address_byte = match (address_byte, self.rx_address_byte) {
            (Some(b), Some(own)) if b != own && self.has(Fault::IsotpIgnoresAddressByte) => {
                Some(own)
            }
            // Another node's frame: the stack ignores it, the injector's state must too.
            (Some(b), Some(own)) if b != own => return Some(*frame),
            (b, _) => b,
        };
        let Some(&pci) = data.first() else { return Some(*frame) };
        if frame.id() == self.rx_id && pci >> 4 == 0x1 && self.hangs_on(data) {
            self.hung = true;
            return None;
        }
        if pci == 0x00 && frame.is_fd() && self.has(Fault::IsotpFdIgnoresSfEscape) {
            return None;
        }
        let mut id = frame.id();
        let mut d = data.to_vec();
        let functional = Some(id) == self.functional_id && id != self.rx_id;
        if functional && self.has(Fault::IsotpIgnoresFunctional) {
            return None;
        }
        if functional && pci >> 4 == 0x1 && self.has(Fault::IsotpAcceptsFunctionalFf) {
            id = self.rx_id;
        }
        let classic = !frame.is_fd();
        if pci >> 4 <= 0x1 {
            if std::mem::take(&mut self.blocked) {
                return None;
            }
            if receiving && self.has(Fault::IsotpIgnoresUnexpectedPdu) {
                return None;
            }
        }
        match pci >> 4 {
            0x0 => {
                let sf_dl = pci & 0x0F;
                if classic && self.has(Fault::IsotpAcceptsInvalidSfDl) && !(1..=7).contains(&sf_dl)
                {
                    d.resize(self.classic_room(), self.padding);
                    d[0] = (self.classic_room() - 1) as u8;
                } else if classic && self.has(Fault::IsotpSfDlShort) && (1..=7).contains(&sf_dl) {
                    d[0] = sf_dl - 1;
                }
            }
            0x1 => {
                if let Some(rewritten) = self.first_frame(&d) {
                    d = rewritten?;
                }
                self.cfs_received = 0;
            }
            0x2 if !receiving => self.unexpected(),
            0x2 => {
                let expected = ((self.cfs_received + 1) & 0x0F) as u8;
                if self.has(Fault::IsotpAcceptsWrongSn) {
                    d[0] = 0x20 | expected;
                }
                if self.has(Fault::IsotpSnWrapsTo1) && expected == 0 && pci & 0x0F == 0 {
                    d[0] = 0x21; // the faulty receiver wanted 1 after F
                }
                self.cfs_received += 1;
            }
            0x3 => {
                if !sending {
                    self.unexpected();
                }
                if d.len() >= 3 && !self.flow_control(&mut d) {
                    return None;
                }
            }
            _ => {
                if receiving && self.has(Fault::IsotpReservedPciAborts) {
                    // Taken as a CF with a wrong SN: the reception ends with N_WRONG_SN.
                    let wrong = ((self.cfs_received + 9) & 0x0F) as u8;
                    d[0] = 0x20 | wrong;
                }
            }
        }
        rebuild_as(frame, id, &join_address(address_byte, &d))
    }

    /// `isotp_hang_on_large_ff_dl`: whether the first frame `d` (N_PDU, classic or escaped
    /// FF_DL) takes the ECU down.
    fn hangs_on(&self, d: &[u8]) -> bool {
        self.has(Fault::IsotpHangOnLargeFfDl)
            && PciView::new(d, AddressingMode::Normal)
                .ff_dl()
                .is_some_and(|dl| dl > self.hang_ff_dl)
    }

    /// A CF or FC nobody waits for.
    fn unexpected(&mut self) {
        if self.has(Fault::IsotpUnexpectedFrameBlocks) {
            self.blocked = true;
        }
    }

    /// The first frame `d` rewritten by the FF_DL faults: `None` = unchanged, `Some(None)` =
    /// dropped.
    fn first_frame(&self, d: &[u8]) -> Option<Option<Vec<u8>>> {
        if d.len() < 2 {
            return None;
        }
        let ff_dl_12 = (u16::from(d[0] & 0x0F) << 8) | u16::from(d[1]);
        if ff_dl_12 == 0 {
            let escaped = u32::from_be_bytes([*d.get(2)?, *d.get(3)?, *d.get(4)?, *d.get(5)?]);
            if self.has(Fault::IsotpAcceptsEscapedSmallFfDl) && (8..=4095).contains(&escaped) {
                // Taken as the 12-bit form of the same FF_DL.
                let mut n = vec![0x10 | (escaped >> 8) as u8, escaped as u8];
                n.extend_from_slice(&d[6..]);
                n.resize(d.len().max(self.classic_room()), self.padding);
                return Some(Some(n));
            }
            return None;
        }
        if ff_dl_12 < 8 && self.has(Fault::IsotpAcceptsShortFfDl) {
            let mut n = d.to_vec();
            n[0] = 0x10;
            n[1] = 0x08;
            return Some(Some(n));
        }
        if ff_dl_12 == 8 && self.has(Fault::IsotpIgnoresSmallestFf) {
            return Some(None);
        }
        None
    }

    /// Rewrites the flow control `d` as the faulty sender perceives it; `false` drops it.
    fn flow_control(&mut self, d: &mut [u8]) -> bool {
        let fs = d[0] & 0x0F;
        if self.has(Fault::IsotpIgnoresWait) && fs == 0x1 {
            d[0] = 0x30; // WAIT taken for CTS
        }
        if self.has(Fault::IsotpIgnoresOverflow) && fs == 0x2 {
            d[0] = 0x30;
        }
        if self.has(Fault::IsotpReservedFsAsCts) && fs >= 0x3 {
            d[0] = 0x30;
        }
        if self.has(Fault::IsotpBlockSizeIgnored) {
            d[1] = 0x00;
        }
        if self.has(Fault::IsotpIgnoresStMin) {
            d[2] = 0x00;
        }
        if self.has(Fault::IsotpReservedStMinNot127ms)
            && matches!(StMin::from_raw(d[2]), StMin::Reserved(_))
        {
            d[2] = 0x00;
        }
        if self.has(Fault::IsotpStMinMicrosAsReserved) && (0xF1..=0xF9).contains(&d[2]) {
            d[2] = 0x80; // reserved: 127 ms
        }
        if d[0] == 0x30 && self.has(Fault::IsotpNoResumeAfterBlock) {
            return !std::mem::replace(&mut self.cts_seen, true);
        }
        true
    }

    /// `frame` as the faulty ECU puts it on the bus; `None` drops it.
    pub fn outgoing(&mut self, frame: CanFrame) -> Option<CanFrame> {
        let (address_byte, data) = split_address(frame.data(), self.tx_address_byte.is_some());
        let pci = *data.first()?;
        let mut d = data.to_vec();
        match pci >> 4 {
            0x0 => {
                let content = 1 + usize::from(pci & 0x0F);
                self.pad_wrongly(&mut d, content);
            }
            0x1 => self.cts_seen = false,
            0x2 if self.has(Fault::IsotpWrongSn) => d[0] = 0x20 | ((pci + 1) & 0x0F),
            0x3 => {
                if pci == 0x32 && self.has(Fault::IsotpNoFcOverflow) {
                    return None;
                }
                if pci == 0x30 && d.len() >= 3 && self.has(Fault::IsotpFcWrongStMin) {
                    d[2] = d[2].wrapping_add(1);
                }
                self.pad_wrongly(&mut d, 3);
            }
            _ => {}
        }
        let address_byte = if self.has(Fault::IsotpReplyWithoutAddressByte) {
            None
        } else if self.has(Fault::IsotpReplyToOwnAddress) {
            address_byte.and(self.rx_address_byte)
        } else {
            address_byte
        };
        let mut data = join_address(address_byte, &d);
        // Without its address byte the frame keeps its CAN_DL: the faulty sender pads instead.
        data.resize(data.len().max(frame.data().len()), self.padding);
        let id = if self.normal_fixed && self.has(Fault::IsotpFixedReplyNotSwapped) {
            swap_normal_fixed(frame.id())
        } else {
            frame.id()
        };
        rebuild_as(&frame, id, &data)
    }

    /// `isotp_wrong_padding`: the bytes after `content` get the complement of the padding.
    fn pad_wrongly(&self, d: &mut [u8], content: usize) {
        if self.has(Fault::IsotpWrongPadding) && d.len() <= self.classic_room() {
            for b in d.iter_mut().skip(content) {
                *b = !self.padding;
            }
        }
    }
}

/// The address byte (when the link has one) and the N_PDU of a frame's data.
fn split_address(data: &[u8], has_address_byte: bool) -> (Option<u8>, &[u8]) {
    match data.split_first() {
        Some((&byte, rest)) if has_address_byte => (Some(byte), rest),
        _ => (None, data),
    }
}

/// A frame's data from its address byte and N_PDU.
fn join_address(address_byte: Option<u8>, pdu: &[u8]) -> Vec<u8> {
    address_byte.into_iter().chain(pdu.iter().copied()).collect()
}

/// `0x18DA<TA><SA>` with TA and SA swapped (ISO 15765-2:2016 §10.3: normal fixed addressing).
fn swap_normal_fixed(id: CanId) -> CanId {
    let [p, f, ta, sa] = id.raw().to_be_bytes();
    CanId::new(u32::from_be_bytes([p, f, sa, ta]), true).unwrap_or(id)
}

/// `frame` with a new id and data (same format); the original if that cannot be built.
fn rebuild_as(frame: &CanFrame, id: CanId, data: &[u8]) -> Option<CanFrame> {
    let rebuilt = if frame.is_fd() {
        CanFrame::new_fd(id, data, frame.brs())
    } else {
        CanFrame::new(id, data)
    };
    Some(rebuilt.unwrap_or(*frame))
}
