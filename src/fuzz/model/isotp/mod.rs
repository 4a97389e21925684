//! The seeded ISO-TP case generator (`doipcheck fuzz --can`): raw CAN frames for an ISO-TP
//! node (ISO 15765-2:2016, normal addressing), built around its N_PCI: single frames with
//! every SF_DL and escape misuse, first frames whose FF_DL lies (small, at the buffer, above
//! it up to 4095, escaped when it need not be, the 32-bit edge), consecutive frames when idle or with skipped and
//! repeated SNs, flow controls with reserved FS and STmin and extreme BS, reserved N_PCI
//! types, DLC / length mismatches, CAN FD lengths, functional first frames, and bursts of
//! these. Each case starts in one of the [`CanState`]s: idle, in the middle of the node's
//! reception (it answered our first frame with FC CTS), or in the middle of its transmission
//! (it sent the first frame of a response and waits for our FC). Case `i` of seed `s` is a
//! function of `(s, i)` alone, like the DoIP generator's.
//!
//! The parts: what the node and a case are (here), the generator ([`generate`]), what a frame
//! of the node is for the fuzzer's bookkeeping ([`replies`]; the rules it must keep are the
//! judge's) and a finding as a suite case of `can_send` steps ([`repro`]). All pure.

mod generate;
mod replies;
mod repro;

pub use generate::{IsoTpGenerator, MUTATIONS};
pub use replies::Reply;
pub use repro::{CanReproInput, repro_can_yaml};

use crate::codec::can::fd_padded_len;
use core::fmt;

/// What the generator knows of the node (from the profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoTpGrammar {
    /// The node speaks CAN FD (`can.fd`): frames of up to 64 bytes are fuzzed too.
    pub fd: bool,
    /// The padding byte of classic frames (`isotp.padding`).
    pub padding: u8,
    /// The DID the node answers (`uds.did`), for the mid-transmission state.
    pub did: u16,
    /// Length of the node's answer to reading `did` (`uds.did_response_length`): the
    /// mid-transmission state exists only when it needs a first frame.
    pub did_response_length: usize,
    /// The node's receive buffer (`uds.max_request_length`).
    pub max_request_length: usize,
    /// The node takes functionally addressed frames (`isotp.functional`).
    pub functional: bool,
}

impl Default for IsoTpGrammar {
    /// The built-in simulator's CAN ECU "engine" (suites/profile.yaml).
    fn default() -> Self {
        IsoTpGrammar {
            fd: false,
            padding: 0xCC,
            did: 0xF190,
            did_response_length: 20,
            max_request_length: 32,
            functional: true,
        }
    }
}

impl IsoTpGrammar {
    /// Length of the request whose first frame puts the node in the middle of a reception:
    /// within its buffer (so it answers FC CTS), two CFs at most.
    pub fn reception_length(&self) -> usize {
        self.max_request_length.clamp(8, 20)
    }

    /// The first frame of that request: `3E 00` and zeros (a TesterPresent too long by UDS
    /// rules, answered with NRC 0x13 if it is ever completed).
    pub fn reception_first_frame(&self) -> Vec<u8> {
        let len = self.reception_length();
        self.pad(vec![0x10 | (len >> 8) as u8, len as u8, 0x3E, 0x00, 0, 0, 0, 0])
    }

    /// The single frame whose answer puts the node in the middle of a transmission (it sends
    /// a first frame and waits for our FC), or `None` when that answer fits a single frame.
    pub fn transmission_request(&self) -> Option<Vec<u8>> {
        let single_max = if self.fd { 62 } else { 7 };
        if self.did_response_length <= single_max {
            return None;
        }
        let [hi, lo] = self.did.to_be_bytes();
        Some(self.pad(vec![0x03, 0x22, hi, lo]))
    }

    /// TesterPresent (`3E 00`) as a single frame: the barrier after each case and the first
    /// liveness probe.
    pub fn tester_present(&self) -> Vec<u8> {
        self.pad(vec![0x02, 0x3E, 0x00])
    }

    /// FC CTS with BS 0 and STmin 0: the rest of a transfer at once.
    pub fn continue_to_send(&self) -> Vec<u8> {
        self.pad(vec![0x30, 0x00, 0x00])
    }

    /// `data` padded to a classic frame (8 bytes) or, longer, to the next CAN FD length.
    pub fn pad(&self, mut data: Vec<u8>) -> Vec<u8> {
        let target = if data.len() <= 8 { 8 } else { fd_padded_len(data.len()).unwrap_or(64) };
        data.truncate(64);
        data.resize(target.max(data.len()), self.padding);
        data
    }
}

/// Where a case starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CanState {
    /// Nothing in progress.
    Idle,
    /// The node answered our first frame with FC CTS and waits for consecutive frames.
    MidReception,
    /// The node sent the first frame of its answer and waits for our flow control.
    MidTransmission,
}

impl CanState {
    /// Every state, in the order reports list them.
    pub const ALL: [CanState; 3] =
        [CanState::Idle, CanState::MidReception, CanState::MidTransmission];

    /// The name used in finding.json and the console.
    pub const fn name(self) -> &'static str {
        match self {
            CanState::Idle => "idle",
            CanState::MidReception => "mid_reception",
            CanState::MidTransmission => "mid_transmission",
        }
    }
}

impl fmt::Display for CanState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One frame of a case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseFrame {
    /// On the functional id (`isotp.functional_id`) instead of the node's request id.
    pub functional: bool,
    /// A CAN FD frame (data up to 64 bytes).
    pub fd: bool,
    /// The frame's data (its length is the DLC).
    pub data: Vec<u8>,
}

/// One generated ISO-TP case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CanCase {
    /// 0-based index in the run.
    pub index: u64,
    /// The state reached before the frames.
    pub state: CanState,
    /// The mutation that made the case, e.g. `ff_dl_large`.
    pub mutation: &'static str,
    /// The frames, sent back to back.
    pub frames: Vec<CaseFrame>,
}

impl CanCase {
    /// The coverage column: the N_PCI type of the first frame (`SF`, `FF`, `CF`, `FC`,
    /// `reserved`, or `empty` for a frame without data).
    pub fn pci_bucket(&self) -> &'static str {
        let first = self.frames.first().and_then(|f| f.data.first());
        match first.map(|b| b >> 4) {
            None => "empty",
            Some(0) => "SF",
            Some(1) => "FF",
            Some(2) => "CF",
            Some(3) => "FC",
            Some(_) => "reserved",
        }
    }

    /// Valid TesterPresent single frames (`02 3E 00`) in the case: each is answered like the
    /// barrier, so the barrier waits for one answer more per each.
    pub fn tester_presents(&self) -> usize {
        self.frames
            .iter()
            .filter(|f| f.data.len() <= 8 && f.data.get(..3) == Some(&[0x02, 0x3E, 0x00]))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_segmented_answer_there_is_no_mid_transmission_state() {
        let grammar = IsoTpGrammar { did_response_length: 7, ..IsoTpGrammar::default() };
        assert_eq!(grammar.transmission_request(), None);
        let generator = IsoTpGenerator::new(grammar, 1);
        assert!((0..2_000).all(|i| generator.case(i).state != CanState::MidTransmission));
    }

    #[test]
    fn only_a_valid_tester_present_counts_for_the_barrier() {
        let g = IsoTpGrammar::default();
        let frame = |data: Vec<u8>| CaseFrame { functional: false, fd: false, data };
        let case = CanCase {
            index: 0,
            state: CanState::Idle,
            mutation: "burst",
            frames: vec![
                frame(g.tester_present()),
                frame(vec![0x02, 0x3E, 0x80]),
                frame(vec![0x03, 0x3E, 0x00, 0x00]),
            ],
        };
        assert_eq!(case.tester_presents(), 1);
    }
}
