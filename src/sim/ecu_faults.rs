//! The ISO-TP faults of a simulated ECU, as a fault injector around the conformant stack (the
//! smoltcp middleware shape): frames coming in are rewritten or dropped before the stack sees
//! them (so its receiver takes a wrong SN, its sender ignores WAIT, BS, STmin or OVFLW), frames
//! going out are rewritten or dropped (wrong SN, wrong padding, no FC OVFLW), the timer
//! faults change the stack's N_Bs / N_Cr and the WAIT faults its receiver's N_WFTmax. Each fault breaks exactly one rule of
//! ISO 15765-2:2016 (see [`Fault::rule`]); the injector keeps the little state some need
//! (consecutive frames received, whether a CTS was seen for the message being sent).
//!
//! Frames are judged by their first data byte (normal addressing, as the simulated ECUs use).

use super::faults::{Fault, FaultSet};
use crate::codec::can::{CanFrame, CanId};
use crate::codec::isotp::{CLASSIC_CAN_DL, StMin};
use crate::proto::isotp::{ReceiverProfile, Timers};
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

/// The fault injector of one ECU.
#[derive(Debug)]
pub struct Injector {
    faults: FaultSet,
    rx_id: CanId,
    functional_id: Option<CanId>,
    /// The configured padding byte (the `isotp_wrong_padding` fault writes its complement).
    padding: u8,
    /// Consecutive frames taken since the last first frame (for the expected SN).
    cfs_received: u32,
    /// `isotp_unexpected_frame_blocks`: an unexpected CF / FC arrived; the next SF / FF is lost.
    blocked: bool,
    /// `isotp_no_resume_after_block`: a CTS came for the message being sent.
    cts_seen: bool,
}

impl Injector {
    pub fn new(faults: FaultSet, rx_id: CanId, functional_id: Option<CanId>, padding: u8) -> Self {
        Injector {
            faults,
            rx_id,
            functional_id,
            padding,
            cfs_received: 0,
            blocked: false,
            cts_seen: false,
        }
    }

    fn has(&self, fault: Fault) -> bool {
        self.faults.has(fault)
    }

    /// `frame` (on the ECU's request or functional id) as the faulty ECU perceives it; `None`
    /// drops it. `receiving` / `sending`: the stack's state before the frame.
    pub fn incoming(
        &mut self,
        frame: &CanFrame,
        receiving: bool,
        sending: bool,
    ) -> Option<CanFrame> {
        let data = frame.data();
        let Some(&pci) = data.first() else { return Some(*frame) };
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
                    d.resize(CLASSIC_CAN_DL, self.padding);
                    d[0] = 0x07;
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
        rebuild_as(frame, id, &d)
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
                n.resize(d.len().max(CLASSIC_CAN_DL), self.padding);
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
        let data = frame.data();
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
        rebuild_as(&frame, frame.id(), &d)
    }

    /// `isotp_wrong_padding`: the bytes after `content` get the complement of the padding.
    fn pad_wrongly(&self, d: &mut [u8], content: usize) {
        if self.has(Fault::IsotpWrongPadding) && d.len() <= CLASSIC_CAN_DL {
            for b in d.iter_mut().skip(content) {
                *b = !self.padding;
            }
        }
    }
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
