//! The seeded DoIP case generator: valid messages of every payload type (reserved ones too),
//! then field-aware mutations (lengths, version, addresses from every range, activation
//! types, UDS requests, identification fields) and structure mutations (truncate, append,
//! duplicate, concatenate, drip across segments, a second socket, half-close), each case in
//! one of the [`StartState`]s. Case `i` of seed `s` is a function of `(s, i)` alone, so a
//! finding names its case by seed and index and the generator can make it again.

use super::{Action, Dice, FuzzCase, StartState};
use crate::codec::doip::{HEADER_LEN, HeaderView, PayloadType};

/// What the generator knows of the target (from the profile): the values a valid message
/// carries, and the ranges mutations draw from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoipGrammar {
    /// The protocol version the entity speaks (header byte 0).
    pub version: u8,
    /// Our logical address (routing activation source address).
    pub tester_address: u16,
    /// The entity's logical address.
    pub entity_address: u16,
    /// ECUs behind the entity (diagnostic target addresses).
    pub ecu_addresses: Vec<u16>,
    /// The functional (broadcast) logical address.
    pub functional_address: u16,
    /// Activation types the entity accepts.
    pub activation_types: Vec<u8>,
    /// The entity's max data size (MDS).
    pub max_data_size: u32,
    /// VIN, EID and GID of the entity.
    pub vin: [u8; 17],
    /// EID.
    pub eid: [u8; 6],
    /// DIDs the UDS server answers (ReadDataByIdentifier).
    pub dids: Vec<u16>,
    /// The longest UDS request the target takes (`uds.max_request_length`), if declared.
    pub uds_max_request_length: Option<u32>,
    /// Whether the fuzzer may send UDP requests (the profile has `doip.udp`).
    pub udp: bool,
    /// Percent of the TCP cases sent over TLS instead (0 without `doip.tls`; see
    /// [`over_tls`]).
    pub tls_share: u8,
}

impl Default for DoipGrammar {
    /// ISO 13400-2 examples: tester 0x0E80, entity 0x1000, version 0x02, MDS 4096.
    fn default() -> Self {
        DoipGrammar {
            version: 0x02,
            tester_address: 0x0E80,
            entity_address: 0x1000,
            ecu_addresses: Vec::new(),
            functional_address: 0xE400,
            activation_types: vec![0x00],
            max_data_size: 4096,
            vin: *b"WDOIPCHECK0000001",
            eid: [0, 0x1A, 0x2B, 0x3C, 0x4D, 0x5E],
            dids: vec![0xF190],
            uds_max_request_length: None,
            udp: true,
            tls_share: 0,
        }
    }
}

/// The largest message the generator writes: the MDS plus a little (so that MDS+1 exists),
/// never more than 64 KiB whatever the profile says.
const MAX_CASE_MESSAGE: usize = 64 * 1024;

/// Every mutation name the generator uses, for coverage reports (payload type x state x
/// mutation) and for the test that each is reachable.
pub const MUTATIONS: &[&str] = &[
    "valid",
    "length_zero",
    "length_minus_1",
    "length_plus_1",
    "length_mds",
    "length_mds_plus_1",
    "length_huge",
    "version_other",
    "inverse_wrong",
    "type_reserved",
    "type_other_transport",
    "source_address",
    "target_address",
    "activation_type",
    "activation_oem_field",
    "uds_service",
    "uds_subfunction",
    "uds_did",
    "uds_length",
    "truncate",
    "append",
    "duplicate",
    "concatenate",
    "drip",
    "second_socket",
    "half_close",
    "garbage",
    "udp_request",
    "udp_identification",
];

/// The first entries of [`MUTATIONS`] apply to a message of any payload type (the header and
/// its length); the rest are field, structure and UDP mutations.
const HEADER_MUTATIONS: usize = 11;

/// The generator for one run: the grammar and the seed.
#[derive(Debug, Clone)]
pub struct DoipGenerator {
    grammar: DoipGrammar,
    seed: u64,
}

impl DoipGenerator {
    /// A generator of `grammar`'s cases from `seed`.
    pub fn new(grammar: DoipGrammar, seed: u64) -> Self {
        DoipGenerator { grammar, seed }
    }

    /// The grammar in use.
    pub fn grammar(&self) -> &DoipGrammar {
        &self.grammar
    }

    /// Case `index`: the same `(seed, index)` gives the same case.
    pub fn case(&self, index: u64) -> FuzzCase {
        let mut dice = Dice::for_case(self.seed, index);
        let g = &self.grammar;
        if g.udp && dice.chance(8) {
            return self.udp_case(index, &mut dice);
        }
        let state = match dice.below(20) {
            0..=5 => StartState::Connected,
            6..=13 => StartState::Activated,
            14..=16 => StartState::ExtendedSession,
            _ => StartState::MidMessage,
        };
        let base_type = self.pick_payload_type(state, &mut dice);
        let mut message = self.valid_message(base_type, &mut dice);
        let mutation = self.mutate_fields(base_type, &mut message, &mut dice);
        let (mutation, actions) = self.structure(mutation, message, &mut dice);
        let tls = over_tls(index, g.tls_share);
        FuzzCase { index, state, mutation, payload_type: base_type, actions, tls }
    }

    /// Mostly the types a tester sends on TCP in that state; sometimes any type, reserved
    /// ones included.
    fn pick_payload_type(&self, state: StartState, dice: &mut Dice) -> u16 {
        const TESTER_TCP: [u16; 4] = [0x0005, 0x0007, 0x0008, 0x8001];
        const OTHERS: [u16; 12] = [
            0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0006, 0x4001, 0x4002, 0x4003, 0x4004, 0x8002,
            0x8003,
        ];
        match dice.below(10) {
            0 => dice.pick(&OTHERS),
            1 => loop {
                let t = dice.u16();
                if !PayloadType::from(t).is_named() {
                    break t;
                }
            },
            // Diagnostic messages need an activated socket to reach UDS.
            _ if state.activated() && dice.chance(60) => 0x8001,
            _ if state == StartState::Connected && dice.chance(40) => 0x0005,
            _ => dice.pick(&TESTER_TCP),
        }
    }

    /// A message of `payload_type` with valid fields for this grammar.
    fn valid_message(&self, payload_type: u16, dice: &mut Dice) -> Vec<u8> {
        let g = &self.grammar;
        let payload = match payload_type {
            0x0000 => vec![dice.below(5) as u8],
            0x0002 => g.eid.to_vec(),
            0x0003 => g.vin.to_vec(),
            0x0004 => {
                let mut p = g.vin.to_vec();
                p.extend(g.entity_address.to_be_bytes());
                p.extend(g.eid);
                p.extend(g.eid);
                p.push(0);
                p
            }
            0x0005 => {
                let mut p = g.tester_address.to_be_bytes().to_vec();
                p.push(dice.pick(&g.activation_types));
                p.extend([0, 0, 0, 0]);
                p
            }
            0x0006 => {
                let mut p = g.tester_address.to_be_bytes().to_vec();
                p.extend(g.entity_address.to_be_bytes());
                p.extend([0x10, 0, 0, 0, 0]);
                p
            }
            0x0008 => g.tester_address.to_be_bytes().to_vec(),
            0x4002 => vec![0, 2, 0, 0, 0, 0x10, 0],
            0x4004 => vec![1],
            0x8001..=0x8003 => {
                let mut p = g.tester_address.to_be_bytes().to_vec();
                p.extend(self.diagnostic_target(dice).to_be_bytes());
                match payload_type {
                    0x8001 => p.extend(self.uds_request(dice)),
                    _ => p.push(0),
                }
                p
            }
            0x0001 | 0x0007 | 0x4001 | 0x4003 => Vec::new(),
            _ => {
                let n = dice.below(16);
                dice.bytes(n)
            }
        };
        frame(g.version, payload_type, &payload)
    }

    fn diagnostic_target(&self, dice: &mut Dice) -> u16 {
        let g = &self.grammar;
        match dice.below(10) {
            0..=5 => g.entity_address,
            6 | 7 if !g.ecu_addresses.is_empty() => dice.pick(&g.ecu_addresses),
            8 => g.functional_address,
            _ => g.entity_address,
        }
    }

    /// A well-formed UDS request: the services a diagnostic server commonly has.
    fn uds_request(&self, dice: &mut Dice) -> Vec<u8> {
        let did = dice.pick(&self.grammar.dids).to_be_bytes();
        match dice.below(6) {
            0 => vec![0x3E, 0x00],
            1 => vec![0x10, dice.pick(&[0x01, 0x03])],
            2 => vec![0x22, did[0], did[1]],
            3 => vec![0x27, 0x01],
            4 => vec![0x11, 0x01],
            _ => vec![0x19, 0x02, 0xFF],
        }
    }

    /// Applies one field-aware mutation (or none, "valid") and names it.
    fn mutate_fields(&self, payload_type: u16, m: &mut Vec<u8>, dice: &mut Dice) -> &'static str {
        let g = &self.grammar;
        let len = (m.len() - HEADER_LEN) as u32;
        let mds = g.max_data_size.min(MAX_CASE_MESSAGE as u32);
        let specific: &[&'static str] = match payload_type {
            0x0005 => {
                &["activation_type", "activation_type", "activation_oem_field", "source_address"]
            }
            0x8001 => &[
                "uds_service",
                "uds_subfunction",
                "uds_did",
                "uds_length",
                "uds_length",
                "source_address",
                "target_address",
            ],
            0x0008 | 0x8002 | 0x8003 => &["source_address"],
            _ => &[],
        };
        let generic = &MUTATIONS[..HEADER_MUTATIONS];
        let name = if !specific.is_empty() && dice.chance(55) {
            dice.pick(specific)
        } else {
            dice.pick(generic)
        };
        match name {
            "length_zero" => set_length(m, 0),
            "length_minus_1" => set_length(m, len.wrapping_sub(1)),
            "length_plus_1" => set_length(m, len + 1),
            "length_mds" => set_length(m, mds),
            "length_mds_plus_1" => set_length(m, mds + 1),
            "length_huge" => set_length(m, dice.pick(&[u32::MAX, 0x8000_0000, 0x0001_0000])),
            "version_other" => {
                let any = dice.u8();
                let v = dice.pick(&[0x00, 0x01, 0x03, 0x04, 0xFF, any]);
                m[0] = v;
                m[1] = !v;
            }
            "inverse_wrong" => m[1] = m[1].wrapping_add(1 + dice.below(255) as u8),
            "type_reserved" => loop {
                let t = dice.u16();
                if !PayloadType::from(t).is_named() {
                    set_type(m, t);
                    break;
                }
            },
            "type_other_transport" => {
                let t =
                    dice.pick(&[0x0001u16, 0x0002, 0x0003, 0x0004, 0x4001, 0x4002, 0x4003, 0x4004]);
                set_type(m, t);
            }
            "source_address" | "target_address" => {
                let at = HEADER_LEN + if name == "source_address" { 0 } else { 2 };
                if m.len() >= at + 2 {
                    let a = self.any_address(dice);
                    m[at..at + 2].copy_from_slice(&a.to_be_bytes());
                }
            }
            "activation_type" if m.len() > HEADER_LEN + 2 => {
                // Reserved 0x02-0xDF, central security 0xE0, OEM 0xE1-0xFF (Table 24).
                m[HEADER_LEN + 2] = match dice.below(3) {
                    0 => 0x02 + dice.below(0xDE) as u8,
                    1 => 0xE1 + dice.below(0x1F) as u8,
                    _ => dice.pick(&[0x00, 0x01, 0xE0, 0xFF]),
                };
            }
            "activation_oem_field" => {
                let extra = dice.pick(&[4usize, 1, 3, 5]);
                let oem = dice.bytes(extra);
                m.extend(oem);
                set_length(m, len + extra as u32);
            }
            "uds_service" | "uds_subfunction" | "uds_did" | "uds_length"
                if m.len() >= HEADER_LEN + 4 =>
            {
                let mut uds = m.split_off(HEADER_LEN + 4);
                self.mutate_uds(name, &mut uds, dice);
                m.extend(uds);
                let len = (m.len() - HEADER_LEN) as u32;
                set_length(m, len);
            }
            _ => return "valid",
        }
        name
    }

    fn any_address(&self, dice: &mut Dice) -> u16 {
        let g = &self.grammar;
        match dice.below(8) {
            0 => g.tester_address,
            1 => g.entity_address,
            2 if !g.ecu_addresses.is_empty() => dice.pick(&g.ecu_addresses),
            3 => g.functional_address,
            // Reserved and edge values (Table 13): 0x0000, 0xFFFF, the OBD range.
            4 => dice.pick(&[0x0000, 0xFFFF, 0xE3FF, 0xF000]),
            5 => 0x0E00 + dice.below(0x100) as u16,
            _ => dice.u16(),
        }
    }

    fn mutate_uds(&self, name: &str, uds: &mut Vec<u8>, dice: &mut Dice) {
        match name {
            "uds_service" => {
                let sid = dice.u8();
                match uds.first_mut() {
                    Some(first) => *first = sid,
                    None => uds.push(sid),
                }
            }
            "uds_subfunction" => {
                let any = dice.u8();
                let sub = dice.pick(&[0x00, 0x7F, 0x80, 0x83, 0xFF, any]);
                uds.truncate(1);
                uds.push(sub);
            }
            "uds_did" => {
                let any = dice.u16();
                let did = dice.pick(&[0x0000u16, 0xFFFF, 0xF180, 0xF18C, any]);
                *uds = vec![0x22];
                uds.extend(did.to_be_bytes());
                if dice.chance(30) {
                    uds.extend(dice.u16().to_be_bytes());
                }
            }
            _ => {
                let n = self.uds_length(dice);
                let sid = uds.first().copied().unwrap_or(0x22);
                *uds = dice.bytes(n);
                if let Some(first) = uds.first_mut() {
                    *first = sid;
                }
            }
        }
    }

    /// A length of UDS request from the protocol's and the profile's own boundaries, never
    /// from what a target is thought to break on: empty, one byte, the classic single frame's
    /// edge behind a gateway (SF_DL 7, ISO 15765-2:2016 §9.6.2.1), the 12-bit FF_DL edge
    /// (4095), the profile's UDS request limit (`uds.max_request_length`) and the most the
    /// MDS leaves for user data (ISO 13400-2:2019 Table 21: SA and TA come first), each ± 1,
    /// or any length up to that most.
    fn uds_length(&self, dice: &mut Dice) -> usize {
        let g = &self.grammar;
        let most = (g.max_data_size as usize).saturating_sub(4).min(MAX_CASE_MESSAGE);
        let limit = g.uds_max_request_length.map_or(most, |l| l as usize);
        let edge = dice.pick(&[0, 1, 7, 4095, limit, most]);
        let n = match dice.below(4) {
            0 => edge.saturating_sub(1),
            1 => edge + 1,
            2 => dice.below(most + 1),
            _ => edge,
        };
        n.min(most)
    }

    /// Wraps the message in actions, sometimes with a structure mutation (which then names
    /// the case when the fields were left valid, else the field mutation does).
    fn structure(
        &self,
        field: &'static str,
        m: Vec<u8>,
        dice: &mut Dice,
    ) -> (&'static str, Vec<Action>) {
        let name = if dice.chance(70) {
            return (field, vec![Action::Send(m)]);
        } else {
            dice.pick(&[
                "truncate",
                "append",
                "duplicate",
                "concatenate",
                "drip",
                "drip",
                "second_socket",
                "half_close",
                "garbage",
            ])
        };
        let actions = match name {
            "truncate" => {
                let keep = dice.below(m.len());
                vec![Action::Send(m[..keep.max(1)].to_vec())]
            }
            "append" => {
                let mut m = m;
                let n = 1 + dice.below(16);
                let extra = dice.bytes(n);
                m.extend(extra);
                vec![Action::Send(m)]
            }
            "duplicate" => vec![Action::Send(m.clone()), Action::Send(m)],
            "concatenate" => {
                let mut all = m;
                for _ in 0..1 + dice.below(4) {
                    let t = dice.pick(&[0x0007u16, 0x0008, 0x8001, 0x0005, 0x4001]);
                    all.extend(self.valid_message(t, dice));
                }
                vec![Action::Send(all)]
            }
            "drip" => {
                // Header split inside (1..7) or at its end, sometimes byte by byte.
                let first = 1 + dice.below(HEADER_LEN.min(m.len()).max(1));
                let chunks =
                    if dice.chance(20) { vec![1; (m.len() - 1).min(12)] } else { vec![first] };
                vec![Action::Drip { bytes: m, chunks }]
            }
            "second_socket" => {
                let other = self.valid_message(dice.pick(&[0x0005u16, 0x8001, 0x0007]), dice);
                vec![Action::Send(m), Action::SecondSocket(other)]
            }
            "half_close" => vec![Action::Send(m), Action::Close],
            _ => {
                let n = dice.below(64) + 1;
                vec![Action::Send(dice.bytes(n))]
            }
        };
        let name = if field == "valid" { name } else { field };
        // A case that ends with half a message cannot be followed on its socket: half of the
        // dripped cases close, so that connections whose header came split get released.
        let mut actions = actions;
        if name == "drip" && dice.chance(50) {
            actions.push(Action::Close);
        }
        (name, actions)
    }

    /// A UDP case: a request of the discovery port (Table 17), valid or mutated.
    fn udp_case(&self, index: u64, dice: &mut Dice) -> FuzzCase {
        let g = &self.grammar;
        let t = dice.pick(&[0x0001u16, 0x0002, 0x0003, 0x4001, 0x4003, 0x0005, 0x8001]);
        let mut m = self.valid_message(t, dice);
        let mutation = if dice.chance(50) {
            let mutated = self.mutate_fields(t, &mut m, dice);
            if mutated == "valid" { "udp_request" } else { mutated }
        } else if matches!(t, 0x0002 | 0x0003) {
            // Identification with another VIN/EID, or a length that is not the field's.
            let n = if dice.chance(50) { if t == 0x0002 { 6 } else { 17 } } else { dice.below(20) };
            let body = dice.bytes(n);
            m = frame(g.version, t, &body);
            "udp_identification"
        } else {
            "udp_request"
        };
        FuzzCase {
            index,
            state: StartState::Udp,
            mutation,
            payload_type: t,
            actions: vec![Action::Udp(m)],
            tls: false,
        }
    }
}

/// The share of TCP cases that go over TLS when the profile has `doip.tls`, in percent
/// (`fuzz --tls-share`). A TLS case costs about three times the CPU of a TCP one against the
/// built-in simulator (a fresh connection pays a handshake, both ends in one process): a
/// tenth keeps the campaign's rate within a fifth of plain TCP, while the TLS service still
/// gets a block of every start state and mutation every [`TLS_BLOCK`] x 10 cases.
pub const DEFAULT_TLS_SHARE_PERCENT: u8 = 10;

/// Cases in a row that share a transport: the fuzzer keeps one activated connection, and a
/// tester address is active on one socket at a time (ISO 13400-2:2019 Table 25, code 0x03: the
/// same source address on a second socket is alive-checked on the first and denied), so TCP and TLS cases come in
/// blocks rather than alternating, each switch costing one connection and activation.
pub const TLS_BLOCK: u64 = 64;

/// Whether case `index` goes over TLS with `share` percent of the blocks of [`TLS_BLOCK`]
/// cases over TLS, spread evenly: the last block of every `100 / share` (with 10 %, cases
/// 576..640 of each 640), so that a short campaign starts with the TCP service, the one every
/// entity has. A function of the index alone: the generator's draws, and so every case's
/// bytes, are the same with or without TLS.
pub fn over_tls(index: u64, share: u8) -> bool {
    let share = u64::from(share.min(100));
    let block = index / TLS_BLOCK;
    (block + 1) * share / 100 > block * share / 100
}

/// A whole message: header (version, inverse, type, length) and payload.
pub fn frame(version: u8, payload_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(HEADER_LEN + payload.len());
    m.push(version);
    m.push(!version);
    m.extend(payload_type.to_be_bytes());
    m.extend((payload.len() as u32).to_be_bytes());
    m.extend_from_slice(payload);
    m
}

/// Writes the payload length of the message `m` (a whole header at least) through the codec's
/// view.
fn set_length(m: &mut [u8], length: u32) {
    if let Ok(mut header) = HeaderView::new(m) {
        header.set_payload_length(length);
    }
}

/// Writes the payload type of the message `m`, as [`set_length`].
fn set_type(m: &mut [u8], payload_type: u16) {
    if let Ok(mut header) = HeaderView::new(m) {
        header.set_payload_type(payload_type);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn generator() -> DoipGenerator {
        let grammar = DoipGrammar { ecu_addresses: vec![0x0011], ..DoipGrammar::default() };
        DoipGenerator::new(grammar, 7)
    }

    #[test]
    fn the_same_seed_and_index_give_the_same_case() {
        let (a, b) = (generator(), generator());
        for i in 0..500 {
            assert_eq!(a.case(i), b.case(i));
        }
        let other = DoipGenerator::new(a.grammar().clone(), 8);
        assert!((0..50).any(|i| other.case(i) != a.case(i)));
    }

    #[test]
    fn every_mutation_state_and_action_kind_is_reached() {
        let g = generator();
        let cases: Vec<FuzzCase> = (0..20_000).map(|i| g.case(i)).collect();
        let mutations: BTreeSet<&str> = cases.iter().map(|c| c.mutation).collect();
        for m in MUTATIONS {
            assert!(mutations.contains(m), "mutation {m} never generated");
        }
        assert!(mutations.iter().all(|m| MUTATIONS.contains(m)), "{mutations:?}");
        let states: BTreeSet<StartState> = cases.iter().map(|c| c.state).collect();
        assert_eq!(states.len(), StartState::ALL.len());
        let has = |f: fn(&Action) -> bool| cases.iter().any(|c| c.actions.iter().any(f));
        assert!(has(|a| matches!(a, Action::Drip { .. })));
        assert!(has(|a| matches!(a, Action::SecondSocket(_))));
        assert!(has(|a| matches!(a, Action::Close)));
        assert!(has(|a| matches!(a, Action::Udp(_))));
        // Reserved payload types and reserved activation types are among them.
        assert!(cases.iter().any(|c| !PayloadType::from(c.payload_type).is_named()));
        assert!(cases.iter().any(|c| c.mutation == "activation_type"
            && c.actions.iter().any(
                |a| matches!(a, Action::Send(b) if b.len() > 10 && (0x02..0xE0).contains(&b[10]))
            )));
    }

    #[test]
    fn no_case_is_larger_than_the_bound() {
        let g = DoipGenerator::new(
            DoipGrammar { max_data_size: u32::MAX, ..DoipGrammar::default() },
            1,
        );
        for i in 0..5_000 {
            let c = g.case(i);
            for a in &c.actions {
                assert!(a.main_stream_bytes().len() <= MAX_CASE_MESSAGE + 256, "case {i}");
            }
        }
    }

    /// User data lengths of the `uds_length` cases on an activated socket among the first `n`
    /// cases, with the index of each length's first case.
    fn diagnostic_lengths(g: &DoipGenerator, n: u64) -> std::collections::BTreeMap<usize, u64> {
        let mut seen = std::collections::BTreeMap::new();
        for i in 0..n {
            let c = g.case(i);
            for a in &c.actions {
                if let Action::Send(b) = a
                    && c.state.activated()
                    && c.mutation == "uds_length"
                    && b.len() >= HEADER_LEN + 4
                    && let Ok(header) = HeaderView::new(b.as_slice())
                    && header.payload_type() == PayloadType::DiagnosticMessage
                {
                    // The declared length: a structure mutation may append or cut bytes.
                    let declared = header.payload_length() as usize;
                    seen.entry(declared - 4).or_insert(i);
                }
            }
        }
        seen
    }

    #[test]
    fn uds_lengths_come_from_the_profiles_limits_and_the_largest_comes_early() {
        // The largest user data the MDS allows (ISO 13400-2:2019 Table 21) is what finds a
        // target that breaks on "too much", whatever its own threshold: the default seed
        // reaches it on an activated socket within the first batches.
        let g = DoipGenerator::new(DoipGrammar::default(), 0);
        let most = DoipGrammar::default().max_data_size as usize - 4;
        let first = diagnostic_lengths(&g, 2_000).get(&most).copied();
        assert!(first.is_some_and(|i| i < 500), "largest first at {first:?}");
        // A declared UDS limit and the MDS move the boundaries with them.
        let grammar = DoipGrammar {
            max_data_size: 1000,
            uds_max_request_length: Some(100),
            ..DoipGrammar::default()
        };
        let seen = diagnostic_lengths(&DoipGenerator::new(grammar, 0), 20_000);
        for n in [0, 1, 99, 100, 101, 995, 996] {
            assert!(seen.contains_key(&n), "{n} bytes never drawn");
        }
        assert!(seen.keys().all(|&n| n <= 996), "{:?}", seen.keys().last());
    }

    /// The TLS share picks whole blocks, spread evenly, after TCP ones; it changes only the
    /// transport: every case's bytes are the same as without TLS, and UDP cases stay UDP.
    #[test]
    fn a_tls_share_sends_whole_blocks_over_tls_and_changes_nothing_else() {
        let blocks = |share: u8| -> Vec<bool> {
            (0..8).map(|b| over_tls(b * TLS_BLOCK, share)).collect::<Vec<_>>()
        };
        assert_eq!(blocks(0), [false; 8]);
        assert_eq!(blocks(100), [true; 8]);
        assert_eq!(blocks(25), [false, false, false, true, false, false, false, true]);
        assert_eq!(blocks(50), [false, true, false, true, false, true, false, true]);
        let third = 3 * TLS_BLOCK;
        assert!((third..third + TLS_BLOCK).all(|i| over_tls(i, 25)));
        assert!(!over_tls(third - 1, 25) && !over_tls(third + TLS_BLOCK, 25));
        assert_eq!((0..10 * TLS_BLOCK).filter(|&i| over_tls(i, 10)).count() as u64, TLS_BLOCK);
        let plain = generator();
        let grammar = DoipGrammar { tls_share: 25, ..plain.grammar().clone() };
        let tls = DoipGenerator::new(grammar, 7);
        let mut over = 0;
        for i in 0..4 * TLS_BLOCK {
            let (a, b) = (plain.case(i), tls.case(i));
            assert!(!a.tls);
            assert_eq!(FuzzCase { tls: false, ..b.clone() }, a);
            assert_eq!(b.tls, over_tls(i, 25) && b.state != StartState::Udp, "case {i}");
            over += u64::from(b.tls);
        }
        assert!(over > TLS_BLOCK / 2 && over <= TLS_BLOCK, "{over}");
    }
}
