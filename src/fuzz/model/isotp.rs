//! The seeded ISO-TP case generator (`doipcheck fuzz --can`): raw CAN frames for an ISO-TP
//! node (ISO 15765-2:2016, normal addressing), built around its N_PCI: single frames with
//! every SF_DL and escape misuse, first frames whose FF_DL lies (small, at the buffer, above
//! 2048, escaped when it need not be), consecutive frames when idle or with skipped and
//! repeated SNs, flow controls with reserved FS and STmin and extreme BS, reserved N_PCI
//! types, DLC / length mismatches, CAN FD lengths, functional first frames, and bursts of
//! these. Each case starts in one of the [`CanState`]s: idle, in the middle of the node's
//! reception (it answered our first frame with FC CTS), or in the middle of its transmission
//! (it sent the first frame of a response and waits for our FC). Case `i` of seed `s` is a
//! function of `(s, i)` alone, like the DoIP generator's.
//!
//! Also here, pure: [`check_can_reply`] (the rules every frame of the node must keep) and
//! [`repro_can_yaml`] (a finding as a suite case of `can_send` steps).

use super::Dice;
use super::replies::Violation;
use super::repro::{Oracle, finding_suite};
use crate::codec::can::fd_padded_len;
use crate::codec::isotp::{AddressingMode, FlowStatus, IsoTpPdu, StMin};
use crate::import::yaml::Node;
use crate::notation::hex_spaced;
use core::fmt;

/// What the generator knows of the node (from the profile).
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Every mutation the generator uses (coverage, and the test that each is reachable).
pub const MUTATIONS: &[&str] = &[
    "sf_valid",
    "sf_uds_random",
    "sf_dl_zero",
    "sf_dl_too_long",
    "sf_dl_beyond_frame",
    "sf_escape_classic",
    "ff_dl_small",
    "ff_dl_buffer",
    "ff_dl_large",
    "ff_escape_small",
    "ff_escape_large",
    "ff_then_too_few_cf",
    "ff_then_too_many_cf",
    "cf_idle",
    "cf_sn_skip",
    "cf_sn_repeat",
    "cf_sn_zero",
    "fc_reserved_fs",
    "fc_reserved_st_min",
    "fc_bs_extreme",
    "fc_wait_train",
    "fc_overflow",
    "fc_short",
    "reserved_pci",
    "empty_frame",
    "dlc_short",
    "fd_lengths",
    "functional_ff",
    "functional_sf",
    "garbage",
    "burst",
];

/// Reserved STmin values (ISO 15765-2:2016 Table 20): 0x80-0xF0 and 0xFA-0xFF.
const RESERVED_ST_MIN: [u8; 6] = [0x80, 0xAA, 0xF0, 0xFA, 0xFE, 0xFF];

/// The generator for one run.
#[derive(Debug, Clone)]
pub struct IsoTpGenerator {
    grammar: IsoTpGrammar,
    seed: u64,
}

impl IsoTpGenerator {
    pub fn new(grammar: IsoTpGrammar, seed: u64) -> Self {
        IsoTpGenerator { grammar, seed }
    }

    pub fn grammar(&self) -> &IsoTpGrammar {
        &self.grammar
    }

    /// Case `index`: the same `(seed, index)` gives the same case.
    pub fn case(&self, index: u64) -> CanCase {
        let mut dice = Dice::for_case(self.seed, index);
        let transmission = self.grammar.transmission_request().is_some();
        let state = match dice.below(8) {
            0..=3 => CanState::Idle,
            4 | 5 => CanState::MidReception,
            _ if transmission => CanState::MidTransmission,
            _ => CanState::Idle,
        };
        let mutation = self.pick_mutation(&mut dice);
        let frames = if mutation == "burst" {
            let mut frames = Vec::new();
            for _ in 0..2 + dice.below(3) {
                let part = self.pick_mutation(&mut dice);
                let part = if part == "burst" { "garbage" } else { part };
                frames.extend(self.frames(part, state, &mut dice));
            }
            frames
        } else {
            self.frames(mutation, state, &mut dice)
        };
        CanCase { index, state, mutation, frames }
    }

    fn pick_mutation(&self, dice: &mut Dice) -> &'static str {
        loop {
            let name = dice.pick(MUTATIONS);
            let allowed = match name {
                "fd_lengths" => self.grammar.fd,
                "functional_ff" | "functional_sf" => self.grammar.functional,
                _ => true,
            };
            if allowed {
                return name;
            }
        }
    }

    fn frame(&self, data: Vec<u8>) -> CaseFrame {
        CaseFrame { functional: false, fd: data.len() > 8, data }
    }

    /// A frame padded as the node expects.
    fn padded(&self, data: Vec<u8>) -> CaseFrame {
        self.frame(self.grammar.pad(data))
    }

    /// The frames of one mutation in `state`.
    fn frames(&self, name: &'static str, state: CanState, dice: &mut Dice) -> Vec<CaseFrame> {
        let g = &self.grammar;
        // The SN the node expects next: 1 right after a first frame.
        let ff = |dice: &mut Dice| -> Vec<CaseFrame> {
            if state == CanState::MidReception {
                Vec::new()
            } else {
                let len = 8 + dice.below(13);
                vec![self.padded(vec![0x10, len as u8, 0x3E, 0x00, 0, 0, 0, 0])]
            }
        };
        let cf = |sn: u8, dice: &mut Dice| {
            self.padded([vec![0x20 | (sn & 0x0F)], dice.bytes(7)].concat())
        };
        match name {
            "sf_valid" => {
                let uds = self.uds_request(dice);
                vec![self.padded([vec![uds.len() as u8], uds].concat())]
            }
            "sf_uds_random" => {
                let n = 1 + dice.below(7);
                let uds = dice.bytes(n);
                vec![self.padded([vec![n as u8], uds].concat())]
            }
            "sf_dl_zero" => vec![self.padded([vec![0x00], dice.bytes(7)].concat())],
            "sf_dl_too_long" => {
                let sf_dl = 8 + dice.below(8) as u8;
                vec![self.padded([vec![sf_dl], vec![0x3E, 0x00], dice.bytes(5)].concat())]
            }
            "sf_dl_beyond_frame" => {
                // SF_DL says 7, the frame carries fewer bytes (no padding).
                let n = 1 + dice.below(6);
                vec![self.frame([vec![0x07], vec![0x22], dice.bytes(n - 1)].concat())]
            }
            "sf_escape_classic" => {
                let sf_dl = dice.pick(&[0u8, 1, 2, 6, 7, 8, 0xFF]);
                vec![self.padded(vec![0x00, sf_dl, 0x3E, 0x00])]
            }
            "ff_dl_small" => {
                let ff_dl = dice.below(8) as u8;
                vec![self.padded([vec![0x10, ff_dl], dice.bytes(6)].concat())]
            }
            "ff_dl_buffer" => {
                let base = g.max_request_length as i64;
                let ff_dl = (base + dice.pick(&[-1i64, 0, 1])).clamp(8, 4095) as u16;
                vec![self.padded([ff_dl_bytes(ff_dl), vec![0x3E, 0x00], dice.bytes(4)].concat())]
            }
            "ff_dl_large" => {
                let any = 2049 + dice.below(4095 - 2049 + 1) as u16;
                let ff_dl = dice.pick(&[2049u16, 4095, any]);
                vec![self.padded([ff_dl_bytes(ff_dl), dice.bytes(6)].concat())]
            }
            "ff_escape_small" => {
                let any = dice_u32(dice) % 4096;
                let ff_dl = dice.pick(&[0u32, 8, 20, 4095, any]);
                vec![self.padded(
                    [vec![0x10, 0x00], ff_dl.to_be_bytes().to_vec(), dice.bytes(2)].concat(),
                )]
            }
            "ff_escape_large" => {
                let any = 4096 + dice_u32(dice) % 0x10_0000;
                let ff_dl = dice.pick(&[4096u32, 0x1_0000, 0xFFFF_FFFF, any]);
                vec![self.padded(
                    [vec![0x10, 0x00], ff_dl.to_be_bytes().to_vec(), dice.bytes(2)].concat(),
                )]
            }
            "ff_then_too_few_cf" => {
                // FF_DL 20 needs two CFs; one at most is sent (the node waits N_Cr).
                let mut frames =
                    vec![self.padded([vec![0x10, 20, 0x3E, 0x00], dice.bytes(4)].concat())];
                if dice.chance(50) {
                    frames.push(cf(1, dice));
                }
                frames
            }
            "ff_then_too_many_cf" => {
                let mut frames =
                    vec![self.padded([vec![0x10, 9, 0x3E, 0x00], dice.bytes(4)].concat())];
                for sn in 1..=2 + dice.below(3) as u8 {
                    frames.push(cf(sn, dice));
                }
                frames
            }
            "cf_idle" => {
                let sn = dice.below(16) as u8;
                vec![cf(sn, dice)]
            }
            "cf_sn_skip" => {
                let mut frames = ff(dice);
                let sn = dice.pick(&[0u8, 2, 3, 0xF]);
                frames.push(cf(sn, dice));
                frames
            }
            "cf_sn_repeat" => {
                let mut frames = ff(dice);
                frames.push(cf(1, dice));
                frames.push(cf(1, dice));
                frames
            }
            "cf_sn_zero" => {
                let mut frames = ff(dice);
                frames.push(cf(0, dice));
                frames
            }
            "fc_reserved_fs" => {
                let fs = 3 + dice.below(13) as u8;
                vec![self.padded(vec![0x30 | fs, dice.u8(), dice.u8()])]
            }
            "fc_reserved_st_min" => {
                let st = dice.pick(&RESERVED_ST_MIN);
                vec![self.padded(vec![0x30, dice.pick(&[0u8, 1, 8]), st])]
            }
            "fc_bs_extreme" => {
                let bs = dice.pick(&[0u8, 1, 0xFF]);
                let st = dice.pick(&[0u8, 0x7F, 0xF1, 0xF9]);
                vec![self.padded(vec![0x30, bs, st])]
            }
            "fc_wait_train" => {
                let n = 1 + dice.below(12);
                vec![self.padded(vec![0x31, 0, 0]); n]
            }
            "fc_overflow" => vec![self.padded(vec![0x32, 0, 0])],
            "fc_short" => {
                let n = 1 + dice.below(2);
                vec![self.frame([vec![0x30], vec![0; n - 1]].concat())]
            }
            "reserved_pci" => {
                let pci = (4 + dice.below(12) as u8) << 4 | dice.below(16) as u8;
                vec![self.padded([vec![pci], dice.bytes(7)].concat())]
            }
            "empty_frame" => vec![self.frame(Vec::new())],
            "dlc_short" => {
                // A frame a padding node expects at 8 bytes, cut short (DLC below its content).
                let whole = match dice.below(3) {
                    0 => vec![0x03, 0x22, 0xF1, 0x90],
                    1 => vec![0x10, 20, 0x3E, 0x00, 0, 0, 0, 0],
                    _ => vec![0x30, 0x00, 0x00],
                };
                let n = 1 + dice.below(whole.len() - 1);
                vec![self.frame(whole[..n].to_vec())]
            }
            "fd_lengths" => vec![self.fd_frame(dice)],
            "functional_ff" => {
                let mut frame = self.padded(vec![0x10, 20, 0x3E, 0x00, 0, 0, 0, 0]);
                frame.functional = true;
                vec![frame]
            }
            "functional_sf" => {
                let uds = if dice.chance(50) { vec![0x3E, 0x80] } else { self.uds_request(dice) };
                let mut frame = self.padded([vec![uds.len() as u8], uds].concat());
                frame.functional = true;
                vec![frame]
            }
            _ => {
                // garbage: any bytes, any length the bus carries.
                let max = if g.fd { 64 } else { 8 };
                let n = dice.below(max + 1);
                let n = if n > 8 { fd_padded_len(n).unwrap_or(64) } else { n };
                vec![self.frame(dice.bytes(n))]
            }
        }
    }

    /// A CAN FD frame of a length above 8 (ISO 15765-2:2016 §9.6.2.1 Table 10): an escaped SF
    /// with any SF_DL, an SF not escaped, or a first frame with FF_DL around the minimum.
    fn fd_frame(&self, dice: &mut Dice) -> CaseFrame {
        let len = dice.pick(&[12usize, 16, 20, 24, 32, 48, 64]);
        let mut data = match dice.below(3) {
            0 => {
                let sf_dl = dice.pick(&[0u8, 1, 7, 8, (len - 2) as u8, (len - 1) as u8, 0xFF]);
                vec![0x00, sf_dl, 0x3E, 0x00]
            }
            1 => vec![0x02, 0x3E, 0x00],
            _ => {
                let ff_dl = dice.pick(&[(len - 2) as u16, (len - 1) as u16, len as u16, 8, 4095]);
                ff_dl_bytes(ff_dl)
            }
        };
        data.resize(len, self.grammar.padding);
        CaseFrame { functional: false, fd: true, data }
    }

    /// A well-formed UDS request a diagnostic server commonly answers (TesterPresent with
    /// the positive answer suppressed, so the barrier's count stays exact).
    fn uds_request(&self, dice: &mut Dice) -> Vec<u8> {
        let [hi, lo] = self.grammar.did.to_be_bytes();
        match dice.below(6) {
            0 => vec![0x3E, 0x80],
            1 => vec![0x10, dice.pick(&[0x01, 0x03])],
            2 => vec![0x22, hi, lo],
            3 => vec![0x27, 0x01],
            4 => vec![0x22, dice.u8(), dice.u8()],
            _ => vec![0x19, 0x02, 0xFF],
        }
    }
}

fn dice_u32(dice: &mut Dice) -> u32 {
    u32::from(dice.u16()) << 16 | u32::from(dice.u16())
}

/// The N_PCI of a 12-bit first frame.
fn ff_dl_bytes(ff_dl: u16) -> Vec<u8> {
    vec![0x10 | ((ff_dl >> 8) & 0x0F) as u8, ff_dl as u8]
}

/// What a frame from the node is, once checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// A single frame carrying this many bytes (the first of them in `first`).
    Single { len: usize, first: [u8; 3] },
    /// A first frame announcing `ff_dl` bytes and carrying `carried` of them.
    First { ff_dl: u32, carried: usize },
    /// A consecutive frame carrying `carried` bytes.
    Consecutive { carried: usize },
    /// A flow control.
    Flow,
}

/// The rules every frame the node sends must keep (ISO 15765-2:2016 §9.6): a known N_PCI
/// type, an SF_DL and FF_DL valid for the frame's length, an FC with a defined flow status
/// and STmin. Padding is not judged here (the profile's suites do that).
pub fn check_can_reply(data: &[u8]) -> Result<Reply, Violation> {
    let violation = |kind: &'static str, why: String| Violation {
        kind,
        detail: format!("the node sent [{}]: {why}", hex_spaced(data)),
    };
    let pdu = match IsoTpPdu::parse(data, AddressingMode::Normal) {
        Ok((_, pdu)) => pdu,
        Err(e) => return Err(violation("invalid_n_pdu", format!("{e} (ISO 15765-2:2016 §9.6)"))),
    };
    Ok(match pdu {
        IsoTpPdu::SingleFrame { data: payload, .. } => {
            let mut first = [0u8; 3];
            for (to, from) in first.iter_mut().zip(payload) {
                *to = *from;
            }
            Reply::Single { len: payload.len(), first }
        }
        IsoTpPdu::FirstFrame { ff_dl, data: payload, .. } => {
            Reply::First { ff_dl, carried: payload.len() }
        }
        IsoTpPdu::ConsecutiveFrame { data: payload, .. } => {
            Reply::Consecutive { carried: payload.len() }
        }
        IsoTpPdu::FlowControl(fc) => {
            if fc.flow_status.description().is_none() {
                return Err(violation(
                    "reserved_flow_status",
                    format!("{} (ISO 15765-2:2016 §9.6.5.1 Table 18)", fc.flow_status),
                ));
            }
            if fc.flow_status == FlowStatus::ContinueToSend && fc.st_min.is_reserved() {
                return Err(violation(
                    "reserved_st_min",
                    format!(
                        "STmin 0x{:02X} is reserved (ISO 15765-2:2016 §9.6.5.4 Table 20)",
                        StMin::raw(fc.st_min)
                    ),
                ));
            }
            Reply::Flow
        }
    })
}

/// What the CAN repro needs besides the cases.
#[derive(Debug, Clone)]
pub struct CanReproInput<'a> {
    pub number: u32,
    pub seed: u64,
    pub cases: &'a [CanCase],
    pub oracle: &'a Oracle,
    pub detail: &'a str,
    pub grammar: &'a IsoTpGrammar,
}

const TX: &str = "${profile.isotp.tx_id}";
const RX: &str = "${profile.isotp.rx_id}";
const FUNCTIONAL: &str = "${profile.isotp.functional_id}";

/// The suite file of a CAN finding: for each case its start state reached with `can_send` /
/// `can_expect`, its frames as `can_send`, then the bus left to settle and a transfer the
/// node may still hold released (FC CTS, ignored by a node that holds none, ISO 15765-2:2016
/// §9.8.3); then the oracle that failed, through the harness's ISO-TP stack.
pub fn repro_can_yaml(input: &CanReproInput<'_>) -> String {
    let g = input.grammar;
    let mut steps = Vec::new();
    let mut requires = vec!["isotp", "uds"];
    for case in input.cases {
        match case.state {
            CanState::Idle => {}
            CanState::MidReception => {
                steps.push(can_send(TX, &g.reception_first_frame(), false));
                steps.push(can_expect_any());
            }
            CanState::MidTransmission => {
                if let Some(request) = g.transmission_request() {
                    steps.push(can_send(TX, &request, false));
                    steps.push(can_expect_any());
                }
            }
        }
        for f in &case.frames {
            if f.functional {
                requires.push("isotp.functional");
            }
            if f.fd {
                requires.push("isotp.can_fd");
            }
            steps.push(can_send(if f.functional { FUNCTIONAL } else { TX }, &f.data, f.fd));
        }
        steps.push(Node::entry("can_settle", Node::map(Vec::<(String, Node)>::new())));
        steps.push(can_send(TX, &g.continue_to_send(), false));
        steps.push(Node::entry("can_settle", Node::map(Vec::<(String, Node)>::new())));
    }
    oracle_steps(input.oracle, g, &mut steps);
    requires.sort_unstable();
    requires.dedup();
    let id = format!("FUZZ-{:04}", input.number);
    let indexes: Vec<String> = input.cases.iter().take(5).map(|c| c.index.to_string()).collect();
    let title = format!(
        "{} after {} ISO-TP fuzz case(s) (seed {}, case {}{})",
        input.oracle,
        input.cases.len(),
        input.seed,
        indexes.join(", "),
        if input.cases.len() > 5 { ", ..." } else { "" }
    );
    let case = vec![
        ("id".to_string(), Node::plain(id)),
        ("title".to_string(), Node::text(title)),
        ("tags".to_string(), Node::seq([Node::plain("fuzz")])),
        ("requires".to_string(), Node::seq(requires.iter().map(|r| Node::plain(*r)))),
        ("handlers".to_string(), Node::seq([Node::plain("tolerate_response_pending")])),
        ("steps".to_string(), Node::seq(steps)),
    ];
    let first = format!(
        "Finding {:04} of `doipcheck fuzz --can --seed {}`: {}",
        input.number, input.seed, input.oracle
    );
    finding_suite(input.number, input.detail, first, "[--can SPEC --profile P]", case)
}

fn can_send(id: &str, data: &[u8], fd: bool) -> Node {
    let mut body = vec![
        ("id".to_string(), Node::text(id)),
        ("data".to_string(), Node::text(hex_spaced(data))),
    ];
    if fd {
        body.push(("fd".into(), Node::plain("true")));
    }
    Node::entry("can_send", Node::Map(body))
}

/// Any frame of the node within P2 (its FC or the first frame of its answer).
fn can_expect_any() -> Node {
    Node::entry(
        "can_expect",
        Node::map([("id", Node::text(RX)), ("within", Node::text("${profile.uds.p2}"))]),
    )
}

fn isotp_exchange(request: &str, answer: &str, steps: &mut Vec<Node>) {
    steps.push(Node::entry("isotp_send", Node::map([("data", Node::text(request))])));
    steps.push(Node::entry(
        "isotp_expect",
        Node::map([("data", Node::text(answer)), ("within", Node::text("${profile.uds.p2}"))]),
    ));
}

fn oracle_steps(oracle: &Oracle, g: &IsoTpGrammar, steps: &mut Vec<Node>) {
    match oracle {
        Oracle::IsoTpTesterPresent => isotp_exchange("3E 00", "7E 00", steps),
        Oracle::IsoTpReception => {
            // A segmented request (FF + CFs) is received and answered: any answer to it.
            let mut request = vec![0x3E, 0x00];
            request.resize(g.reception_length(), 0);
            isotp_exchange(&hex_spaced(&request), "..", steps);
        }
        Oracle::IsoTpTransmission => {
            let [hi, lo] = g.did.to_be_bytes();
            isotp_exchange(&hex_spaced(&[0x22, hi, lo]), "..", steps);
        }
        // A protocol rule, a flood or the monitor: the repro replays the traffic, and its
        // capture shows the frame.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn a_seed_repeats_its_cases_and_another_seed_does_not() {
        let a = IsoTpGenerator::new(IsoTpGrammar::default(), 7);
        let b = IsoTpGenerator::new(IsoTpGrammar::default(), 8);
        let first: Vec<CanCase> = (0..200).map(|i| a.case(i)).collect();
        let again: Vec<CanCase> = (0..200).map(|i| a.case(i)).collect();
        let other: Vec<CanCase> = (0..200).map(|i| b.case(i)).collect();
        assert_eq!(first, again);
        assert_ne!(first, other);
    }

    #[test]
    fn every_mutation_state_and_pci_type_is_reached() {
        // A CAN FD node whose answer needs a first frame even with TX_DL 64.
        let grammar =
            IsoTpGrammar { fd: true, did_response_length: 100, ..IsoTpGrammar::default() };
        let generator = IsoTpGenerator::new(grammar, 0);
        let (mut mutations, mut states, mut buckets) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for i in 0..20_000 {
            let case = generator.case(i);
            mutations.insert(case.mutation);
            states.insert(case.state);
            buckets.insert(case.pci_bucket());
            for f in &case.frames {
                assert!(f.data.len() <= 64, "case {i}: {} bytes", f.data.len());
                assert!(f.fd || f.data.len() <= 8, "case {i}: a classic frame over 8 bytes");
            }
        }
        assert_eq!(mutations, MUTATIONS.iter().copied().collect());
        assert_eq!(states, CanState::ALL.into_iter().collect());
        let all: BTreeSet<&str> = ["SF", "FF", "CF", "FC", "reserved", "empty"].into();
        assert_eq!(buckets, all);
    }

    #[test]
    fn a_classic_node_gets_no_fd_frame_and_no_functional_frame_without_the_capability() {
        let grammar = IsoTpGrammar { functional: false, ..IsoTpGrammar::default() };
        let generator = IsoTpGenerator::new(grammar, 3);
        for i in 0..5_000 {
            for f in generator.case(i).frames {
                assert!(!f.fd && f.data.len() <= 8 && !f.functional, "case {i}: {f:?}");
            }
        }
    }

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

    #[test]
    fn node_frames_are_checked_by_the_n_pci_rules() {
        assert_eq!(
            check_can_reply(&[0x02, 0x7E, 0x00, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC]),
            Ok(Reply::Single { len: 2, first: [0x7E, 0x00, 0x00] })
        );
        assert_eq!(
            check_can_reply(&[0x10, 0x14, 0x62, 0xF1, 0x90, 0x57, 0x44, 0x4F]),
            Ok(Reply::First { ff_dl: 20, carried: 6 })
        );
        assert_eq!(check_can_reply(&[0x32, 0, 0]), Ok(Reply::Flow));
        let kind = |data: &[u8]| check_can_reply(data).map_err(|v| v.kind).err();
        assert_eq!(kind(&[0x33, 0, 0]), Some("reserved_flow_status"));
        assert_eq!(kind(&[0x30, 0, 0xFA]), Some("reserved_st_min"));
        assert_eq!(kind(&[0x30, 0, 0xF1]), None, "100 us is defined");
        assert_eq!(kind(&[0x40, 0, 0]), Some("invalid_n_pdu"));
        assert_eq!(kind(&[0x10, 0x05, 0, 0, 0, 0, 0, 0]), Some("invalid_n_pdu"), "FF_DL 5");
        assert_eq!(kind(&[]), Some("invalid_n_pdu"));
        let v = check_can_reply(&[0x00, 0x02, 0x7E, 0x00]).unwrap_err();
        assert!(v.detail.contains("00 02 7e 00") && v.detail.contains("§9.6"), "{}", v.detail);
    }

    #[test]
    fn a_repro_reaches_each_state_sends_the_frames_settles_and_asks_the_oracle() {
        let g = IsoTpGrammar::default();
        let cases = [CanCase {
            index: 41,
            state: CanState::MidTransmission,
            mutation: "ff_dl_large",
            frames: vec![CaseFrame {
                functional: false,
                fd: false,
                data: vec![0x18, 0x01, 0, 0, 0, 0, 0, 0],
            }],
        }];
        let yaml = repro_can_yaml(&CanReproInput {
            number: 3,
            seed: 0,
            cases: &cases,
            oracle: &Oracle::IsoTpTesterPresent,
            detail: "no answer",
            grammar: &g,
        });
        for needle in [
            "id: FUZZ-0003",
            "03 22 f1 90 cc cc cc cc",
            "18 01 00 00 00 00 00 00",
            "can_settle: {}",
            "30 00 00 cc cc cc cc cc",
            "isotp_send",
            "7E 00",
            "${profile.uds.p2}",
        ] {
            assert!(yaml.contains(needle), "{needle} missing from\n{yaml}");
        }
        assert!(!yaml.contains("fd: true"));
    }
}
