//! The seeded ISO-TP case generator: each mutation's frames, in each start state.

use super::{CanCase, CanState, CaseFrame, IsoTpGrammar};
use crate::codec::can::fd_padded_len;
use crate::fuzz::model::Dice;

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

/// The largest FF_DL of a first frame without the escape (12 bits, ISO 15765-2:2016 §9.6.3.1).
const MAX_12_BIT_FF_DL: u16 = 0x0FFF;

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
                let ff_dl =
                    (base + dice.pick(&[-1i64, 0, 1])).clamp(8, i64::from(MAX_12_BIT_FF_DL)) as u16;
                vec![self.padded([ff_dl_bytes(ff_dl), vec![0x3E, 0x00], dice.bytes(4)].concat())]
            }
            "ff_dl_large" => {
                // Above the node's buffer up to the 12-bit edge (ISO 15765-2:2016 §9.6.3.1):
                // the node must answer FC OVFLW (§9.6.5.1), whatever FF_DL it gets.
                let above = (g.max_request_length + 1).min(MAX_12_BIT_FF_DL as usize) as u16;
                let any = above + dice.below(usize::from(MAX_12_BIT_FF_DL - above) + 1) as u16;
                let ff_dl = dice.pick(&[above, MAX_12_BIT_FF_DL, any]);
                vec![self.padded([ff_dl_bytes(ff_dl), dice.bytes(6)].concat())]
            }
            "ff_escape_small" => {
                let top = u32::from(MAX_12_BIT_FF_DL);
                let any = dice_u32(dice) % (top + 1);
                let ff_dl = dice.pick(&[0u32, 8, 20, top, any]);
                vec![self.padded(
                    [vec![0x10, 0x00], ff_dl.to_be_bytes().to_vec(), dice.bytes(2)].concat(),
                )]
            }
            "ff_escape_large" => {
                // The escape's own range (§9.6.3.1): 4096 up to the 32-bit edge, with the
                // 16-bit edge between.
                let low = u32::from(MAX_12_BIT_FF_DL) + 1;
                let any = dice_u32(dice).max(low);
                let ff_dl = dice.pick(&[low, 0xFFFF, 0x1_0000, u32::MAX, any]);
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
                let ff_dl = dice.pick(&[
                    (len - 2) as u16,
                    (len - 1) as u16,
                    len as u16,
                    8,
                    MAX_12_BIT_FF_DL,
                ]);
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
}
