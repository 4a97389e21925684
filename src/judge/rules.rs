//! The rule catalogue: every rule the judge holds a target to, once. A rule has an id that
//! every command reports (`run`'s failure reason, `inspect`'s findings, JUnit testcases,
//! `replay`, the fuzzer's reply checks), the clause it comes from, what the target must do, and
//! what the judge needs to apply it (declared values from a profile). `docs/rules.md` is
//! generated from this table (`cargo test --test it schema`, `DOIPCHECK_UPDATE_SCHEMA=1`
//! rewrites it).
//!
//! May import: `crate::profile` (the names of the keys a rule needs).

use crate::profile::{declared_key as D, timer_key as T};

/// One rule of the catalogue.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Its place in [`RULES`] (for per-rule counters).
    pub index: usize,
    /// Stable id, `area.name`: what reports, waivers and `expect_findings:` name.
    pub id: &'static str,
    /// The clause of the standard (or the source the rule rests on).
    pub clause: &'static str,
    /// What the target must do, in one sentence: the expectation a finding breaks.
    pub requirement: &'static str,
    /// What the judge needs besides the traffic: profile keys of declared values; empty when
    /// the traffic alone says it.
    pub needs: &'static [&'static str],
}

impl Rule {
    /// Whether the rule judges declared timing values (applied only when a profile gave them).
    pub fn needs_profile(&self) -> bool {
        !self.needs.is_empty()
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

macro_rules! rules {
    ($($name:ident = $id:literal, $clause:literal, $requirement:literal, [$($need:expr),*];)*) => {
        /// The rules' places in [`RULES`].
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[repr(usize)]
        enum Index { $($name),* }
        $(
            #[doc = $requirement]
            pub static $name: Rule = Rule {
                index: Index::$name as usize,
                id: $id,
                clause: $clause,
                requirement: $requirement,
                needs: &[$($need),*],
            };
        )*
        /// Every rule, in catalogue order (DoIP, ISO-TP, then timing).
        pub static RULES: &[&Rule] = &[$(&$name),*];
    };
}

rules! {
    DOIP_ENTITY_MESSAGE = "doip.entity_message",
        "ISO 13400-2:2019 §8.1 generic DoIP header, payload type table",
        "every message the entity sends passes the header rules: version and inverse, a known payload type on its transport, a length the type allows",
        [];
    DOIP_DEFINED_CODE = "doip.defined_code",
        "ISO 13400-2:2019 Tables 19, 25, 29, 30 (generic NACK, routing activation, diagnostic ACK and NACK codes)",
        "every code the entity sends is defined: generic NACK 0x00-0x04, routing activation response 0x00-0x07, 0x10, 0x11 or VM-specific 0xE0-0xFE, diagnostic ACK 0x00, diagnostic NACK 0x02-0x08",
        [];
    DOIP_REPLY_VERSION = "doip.reply_version",
        "ISO 13400-2:2019 §8.1.1 protocol version",
        "a reply carries the protocol version of the request it answers (of the profile's protocol_version when the request used the default 0xFF)",
        [];
    DOIP_VEHICLE_IDENTIFICATION_MATCH = "doip.vehicle_identification_match",
        "ISO 13400-2:2019 §9.2 vehicle identification",
        "a vehicle identification request with an EID or VIN is answered only by the entity with that EID or VIN",
        [];
    DOIP_NACK_CODE = "doip.nack_code",
        "ISO 13400-2:2019 §8.1.2 generic DoIP header handling",
        "a bad tester header is answered by the generic NACK its fault calls for: 0x00 pattern, 0x01 unknown type, 0x02 too large (a payload above the MDS the profile declares, with --profile), 0x04 invalid length",
        [];
    DOIP_SOCKET_FATE = "doip.socket_fate",
        "ISO 13400-2:2019 §8.1.2 generic DoIP header handling",
        "after NACK 0x00 or 0x04 the entity closes the socket and sends nothing more; after 0x01 or 0x02 it keeps it open",
        [];
    DOIP_ACTIVATION_RESPONSE_ADDRESS = "doip.activation_response_address",
        "ISO 13400-2:2019 §9.3, Table 24 routing activation response",
        "the routing activation response names as tester the source address of the request it answers",
        [];
    DOIP_ACTIVATION_CHANGED_SOURCE = "doip.activation_changed_source",
        "ISO 13400-2:2019 §9.3, Table 25 routing activation response code 0x02",
        "on a socket already activated for one tester address, a routing activation request from another source address is denied (0x02, or the code of a check that comes first, e.g. 0x00 for an unknown address), never activated",
        [];
    DOIP_ACTIVATION_SOCKET_FATE = "doip.activation_socket_fate",
        "ISO 13400-2:2019 §9.3, Table 25 routing activation response codes",
        "after a routing activation denial 0x00-0x03, 0x05 or 0x06 the entity closes the socket and sends nothing more; after 0x04, 0x07 or 0x11 it keeps it open",
        [];
    DOIP_DIAGNOSTIC_ACK_ORDER = "doip.diagnostic_ack_order",
        "ISO 13400-2:2019 §8.6 diagnostic message and acknowledgement",
        "the diagnostic message ACK or NACK, with source and target swapped, comes before the answer to that request",
        [];
    DOIP_DIAGNOSTIC_ACK_ADDRESSES = "doip.diagnostic_ack_addresses",
        "ISO 13400-2:2019 §8.6, Table 28 diagnostic message acknowledgement",
        "a diagnostic ACK or NACK goes from the request's target address to its source address",
        [];
    DOIP_ACTIVATION_BEFORE_DIAGNOSTICS = "doip.activation_before_diagnostics",
        "ISO 13400-2:2019 §8.4 routing activation",
        "a diagnostic message is acknowledged or answered only on a socket where routing was activated for its source address",
        [];
    DOIP_DECLARED_ACTIVATION = "doip.declared_activation",
        "ISO 13400-2:2019 Table 25 (codes 0x00, 0x06)",
        "a routing activation from the address nobody has is denied with 0x00 (unknown source address), one of an activation type the entity does not support with 0x06",
        [D::UNKNOWN_ADDRESS, D::ACTIVATION_TYPES];
    DOIP_DECLARED_TARGET = "doip.declared_target",
        "ISO 13400-2:2019 Table 30 (code 0x03)",
        "a diagnostic message to the address nobody has is NACKed with 0x03 (unknown target address)",
        [D::UNKNOWN_ADDRESS];
    DOIP_DECLARED_STATUS = "doip.declared_status",
        "ISO 13400-2:2019 Table 11",
        "the entity status response reports the max concurrent sockets (MCTS) and max data size (MDS) the entity declares",
        [D::MAX_SOCKETS, D::MAX_DATA_SIZE];
    ISOTP_FRAME = "isotp.frame",
        "ISO 15765-2:2016 §9.6 N_PCI",
        "every frame the ECU sends is a valid N_PDU",
        [];
    ISOTP_DEFINED_FLOW_CONTROL = "isotp.defined_flow_control",
        "ISO 15765-2:2016 §9.6.5.1 Table 18 (FS), §9.6.5.4 Table 20 (STmin)",
        "every flow control the ECU sends has a defined flow status (CTS, WAIT, OVFLW) and, with CTS, a defined STmin (0x00-0x7F, 0xF1-0xF9)",
        [];
    ISOTP_SEQUENCE = "isotp.sequence",
        "ISO 15765-2:2016 §9.6.4.3 sequence number",
        "the ECU's consecutive frames count SN 1..F, 0.. without a skip",
        [];
    ISOTP_MESSAGE_ORDER = "isotp.message_order",
        "ISO 15765-2:2016 §9.8.3 unexpected N_PDU",
        "the ECU finishes a segmented message before it starts another, and sends no consecutive frame without a first frame",
        [];
    ISOTP_FLOW_CONTROL = "isotp.flow_control",
        "ISO 15765-2:2016 §9.6.5 flow control",
        "the ECU waits for the tester's flow control and keeps its block size and STmin",
        [];
    ISOTP_PADDING = "isotp.padding_byte",
        "ISO 15765-2:2016 §10.4.2.1 frame padding",
        "a padded classic frame of the node (single frame, flow control) carries the padding byte it declares after its N_PDU",
        [D::ISOTP_PADDING];
    ISOTP_IGNORED_FRAME = "isotp.ignored_frame",
        "ISO 15765-2:2016 §9.6 N_PCI, §9.6.4.3 (N_WRONG_SN), §9.8.3 unexpected N_PDU",
        "the ECU does not react to a frame it must ignore (an invalid N_PDU, a consecutive frame out of sequence or without a first frame): no flow control, no answer",
        [];
    ISOTP_DECLARED_FLOW_CONTROL = "isotp.declared_flow_control",
        "ISO 15765-2:2016 §9.6.5.3, §9.6.5.4 BS and STmin",
        "the node's flow control CTS carries the block size and STmin it declares",
        [D::ISOTP_BLOCK_SIZE, D::ISOTP_ST_MIN];
    TIMING_UDP_ANSWER = "timing.udp_answer",
        "ISO 13400-2:2019 Table 39 (A_Processing_Time)",
        "UDP answers come within A_Processing_Time; a vehicle identification (without EID or VIN), entity status or power mode request left unanswered past it while the traffic goes on breaks it too",
        [T::A_PROCESSING_TIME, D::TOLERANCE];
    TIMING_DIAGNOSTIC_ACK = "timing.diagnostic_ack",
        "ISO 13400-2:2019 Table 39 (A_DoIP_Diagnostic_Message)",
        "the diagnostic message ACK or NACK comes within A_DoIP_Diagnostic_Message",
        [T::A_DOIP_DIAGNOSTIC_MESSAGE, D::TOLERANCE];
    TIMING_UDS_P2 = "timing.uds_p2",
        "ISO 14229-2 P2 / P2* server",
        "a UDS answer comes within P2, or within P2* after each NRC 0x78",
        [T::P2, T::P2_STAR, D::TOLERANCE];
    TIMING_ALIVE_CHECK = "timing.alive_check",
        "ISO 13400-2:2019 §9.4, Table 39 (T_TCP_Alive_Check)",
        "a socket whose alive check got no response within T_TCP_Alive_Check is closed; one with a response is not",
        [T::T_TCP_ALIVE_CHECK, D::TOLERANCE];
    TIMING_ANNOUNCE_INTERVAL = "timing.announce_interval",
        "ISO 13400-2:2019 Table 39 (A_DoIP_Announce_Interval)",
        "vehicle announcements of a burst are A_DoIP_Announce_Interval apart",
        [D::A_DOIP_ANNOUNCE_INTERVAL, D::TOLERANCE];
    TIMING_ANNOUNCE_COUNT = "timing.announce_count",
        "ISO 13400-2:2019 Table 39 (A_DoIP_Announce_Num)",
        "a burst of vehicle announcements has A_DoIP_Announce_Num of them",
        [D::A_DOIP_ANNOUNCE_NUM];
    TIMING_ISOTP_N_BS = "timing.isotp_n_bs",
        "ISO 15765-2:2016 §9.7, Table 16 (N_Bs)",
        "the ECU sends no consecutive frame after a flow control that came later than N_Bs",
        [D::ISOTP_N_BS, D::TOLERANCE];
    TIMING_ISOTP_N_CR = "timing.isotp_n_cr",
        "ISO 15765-2:2016 §9.7, Table 16 (N_Cr)",
        "the ECU does not answer a request whose consecutive frame came later than N_Cr",
        [D::ISOTP_N_CR, D::TOLERANCE];
    TIMING_ISOTP_WAIT_COUNT = "timing.isotp_wait_count",
        "ISO 15765-2:2016 §9.6.5.1, Table 16 (N_WFTmax)",
        "the ECU sends at most N_WFTmax flow control WAIT in a row",
        [D::ISOTP_WFT_MAX];
}

/// The rule with this id.
pub fn by_id(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

/// The catalogue as Markdown: `docs/rules.md`.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Rules\n\nEvery rule the judge holds a target to (`src/judge/rules.rs`; this page is \
         generated from it). Every command reports a broken rule by its id: `run` fails the case \
         with it, `inspect` and `replay` list it as a finding, the fuzzer's reply checks name \
         it. A rule that needs declared values applies only when a profile gives them; with \
         nothing to judge it is *not applicable*, never a pass.\n\n\
         | rule | the target must | clause | needs |\n|---|---|---|---|\n",
    );
    for rule in RULES {
        let needs = if rule.needs.is_empty() {
            "the traffic".to_string()
        } else {
            rule.needs.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            rule.id, rule.requirement, rule.clause, needs
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_found_by_id() {
        for (i, rule) in RULES.iter().enumerate() {
            assert!(RULES[..i].iter().all(|r| r.id != rule.id), "{} twice", rule.id);
            assert_eq!(by_id(rule.id), Some(*rule));
            assert_eq!(rule.index, i);
        }
        assert_eq!(by_id("doip.nope"), None);
    }
}
