//! The simulator faults that no rule of the judge shows in the captures of the cases that
//! detect them, each with why: either the fault is not visible on the wire as a breach (it
//! shows as silence, or only much later), or it is visible but the judge holds no rule for it
//! yet, and the sentence says what that rule would need. The selftest prints this list; the
//! shipped-suites test fails when a fault is missing here although no rule shows it, or is
//! listed although a rule now shows it, so the list stays true.
//!
//! May import: nothing (a table).

/// Whether the fault's breach can be seen in the traffic of the case that detects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// It shows as something that does not happen (no answer, no close, a hung target), or
    /// only long after: a capture cannot tell it from a target that rightly keeps quiet or a
    /// capture that ends. The case that provokes it knows what was due; the fuzzer's
    /// liveness checks find the robustness ones.
    NotOnTheWire,
    /// The breach is in the traffic; the judge has no rule for it yet.
    NoRuleYet,
}

/// One fault no rule shows, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unjudged {
    pub fault: &'static str,
    pub visibility: Visibility,
    pub why: &'static str,
}

const fn silent(fault: &'static str, why: &'static str) -> Unjudged {
    Unjudged { fault, visibility: Visibility::NotOnTheWire, why }
}

const fn no_rule(fault: &'static str, why: &'static str) -> Unjudged {
    Unjudged { fault, visibility: Visibility::NoRuleYet, why }
}

/// The list, in the simulator's fault order.
pub const UNJUDGED: &[Unjudged] = &[
    no_rule(
        "close_on_out_of_memory",
        "after NACK 0x03 the socket must stay open; the judge's socket-fate rule covers codes 0x00 and 0x04 only, and whether 0x03 was right depends on the entity's momentary memory",
    ),
    silent(
        "drops_second_message_in_segment",
        "the second message of a segment gets no answer: silence",
    ),
    silent(
        "cannot_reassemble_split_header",
        "a message whose header came in two segments gets no answer: silence",
    ),
    no_rule(
        "activation_no_alive_check_when_full",
        "whether the entity had to alive-check depends on how many sockets were registered, which a capture of one connection does not show",
    ),
    no_rule(
        "activation_no_alive_check_same_sa",
        "whether the entity had to alive-check depends on the other socket with the same address, which a capture of one connection does not show",
    ),
    no_rule(
        "activation_ignores_tls_requirement",
        "needs a profile key naming the activation types that require TLS (code 0x07 on plain TCP)",
    ),
    no_rule(
        "activation_close_on_missing_auth",
        "the socket must stay open after code 0x04: Table 25's socket fate for 0x04 is not in the judge's activation_socket_fate table",
    ),
    no_rule(
        "activation_skips_confirmation",
        "needs the profile's confirmation type judged: its activation must be answered with 0x11 first",
    ),
    no_rule(
        "alive_check_response_ignored",
        "the breach spans two connections (the socket the entity alive-checks and the one asking for activation); the judge's rules follow one connection at a time",
    ),
    silent("no_alive_check_answer", "an alive check request without response: silence"),
    no_rule(
        "ncts_wrong",
        "NCTS must equal the sockets open at the time: a capture shows only the connections it saw",
    ),
    silent(
        "udp_answer_late",
        "the answer comes after A_Processing_Time plus the tolerance, after the case stopped listening: the capture holds no answer",
    ),
    silent("announce_count_wrong", "one announcement too few: silence where the last should be"),
    no_rule(
        "announce_no_wait",
        "the first announcement must wait A_DoIP_Announce_Wait after the restart: the restart itself is not on the wire",
    ),
    no_rule(
        "diag_no_nack_too_large",
        "needs the target ECU's buffer size, which the profile does not declare",
    ),
    no_rule(
        "diag_no_nack_out_of_memory",
        "whether the entity was out of memory at that moment is not on the wire",
    ),
    silent("initial_inactivity_never", "the entity never closes an idle socket: silence"),
    no_rule(
        "initial_inactivity_early",
        "needs a rule over T_TCP_Initial_Inactivity: a close before it on a socket without activation",
    ),
    silent("general_inactivity_never", "the entity never closes an idle socket: silence"),
    no_rule(
        "general_inactivity_early",
        "needs a rule over T_TCP_General_Inactivity: a close before it on an idle activated socket",
    ),
    silent(
        "alive_check_timeout_never",
        "the entity never closes a socket that did not answer: silence",
    ),
    no_rule(
        "alive_check_timeout_early",
        "the entity closes a socket before T_TCP_Alive_Check ran out: timing.alive_check does not judge an early close, because a capture written by a tester that reads an idle socket only later shows the request at the close",
    ),
    silent(
        "hang_after_oversized_diag",
        "the entity stops serving: silence (the fuzzer's liveness check finds it)",
    ),
    silent(
        "crash_on_reserved_activation_type",
        "the entity stops serving: silence (the fuzzer's liveness check finds it)",
    ),
    silent(
        "udp_dies_on_bad_header",
        "after the bad datagram the UDP service answers nothing: silence in the case's capture (timing.udp_answer shows it when a capture goes on past A_Processing_Time, as fixtures/captures/lo-udp-dies.pcap does)",
    ),
    silent(
        "udp_dies_on_bad_identification_length",
        "instead of NACK 0x04 the UDP service answers nothing from then on: silence",
    ),
    silent(
        "leak_socket_on_split_header",
        "shows only many connections later, as sockets the entity no longer has",
    ),
    silent(
        "isotp_hang_on_large_ff_dl",
        "the ECU stops serving: silence (the fuzzer's liveness check finds it)",
    ),
    no_rule(
        "isotp_sf_dl_short",
        "the ECU reads fewer bytes than SF_DL and answers another request than the one sent: which answer is right only the case knows",
    ),
    no_rule(
        "isotp_no_fc_overflow",
        "needs the node's receive buffer, which the profile does not declare",
    ),
    silent("isotp_ignores_smallest_ff", "a valid first frame gets no flow control: silence"),
    silent(
        "isotp_sn_wraps_to_1",
        "the ECU aborts a valid reception at the SN wrap and does not answer: silence",
    ),
    silent(
        "isotp_n_cr_early",
        "the ECU aborts a reception whose next CF was in time and does not answer: silence",
    ),
    silent(
        "isotp_ignores_unexpected_pdu",
        "the new message during a reception gets no answer: silence",
    ),
    silent("isotp_unexpected_frame_blocks", "the next valid request gets no answer: silence"),
    silent(
        "isotp_reserved_pci_aborts",
        "the reception the reserved frame interrupted gets no answer: silence",
    ),
    silent(
        "isotp_ignores_functional",
        "a functional request gets no answer: silence, on an id outside the profile's pair",
    ),
    no_rule(
        "isotp_accepts_functional_ff",
        "the reaction is to a frame on the functional id, which is outside the profile's ISO-TP pair the judge reassembles",
    ),
    no_rule(
        "isotp_st_min_us_as_reserved",
        "the ECU keeps 127 ms for STmin 0xF1-0xF9: longer than asked is allowed (ISO 15765-2 sets no upper bound short of N_Cr); only the case's bound tells",
    ),
    silent("isotp_n_bs_early", "the ECU gives up before N_Bs and sends nothing more: silence"),
    silent("isotp_no_resume_after_block", "after the next CTS no further CF comes: silence"),
    silent("isotp_n_a_never", "the confirmation never comes and the transfer just stops: silence"),
    silent(
        "isotp_n_wft_max_off_by_one",
        "the ECU as sender gives up one WAIT early and sends nothing more: silence",
    ),
    no_rule(
        "isotp_exceeds_n_wft_max",
        "on the pair the profile names for N_WFT_OVRN (isotp.wft_overrun), outside the pair the judge reassembles",
    ),
    no_rule(
        "isotp_ignores_address_byte",
        "extended addressing: on a pair outside the one the judge reassembles (normal addressing)",
    ),
    no_rule(
        "isotp_reply_without_address_byte",
        "extended addressing: on a pair outside the one the judge reassembles (normal addressing)",
    ),
    no_rule(
        "isotp_reply_to_own_address",
        "extended addressing: on a pair outside the one the judge reassembles (normal addressing)",
    ),
    no_rule(
        "isotp_fixed_reply_not_swapped",
        "normal fixed addressing: the ECU's frames go on an id outside the pair the judge reassembles",
    ),
    no_rule(
        "isotp_fd_tx_dl_8",
        "CAN FD: on the profile's isotp.fd pair, outside the one the judge reassembles",
    ),
    no_rule(
        "isotp_fd_ignores_sf_escape",
        "CAN FD: on the profile's isotp.fd pair, outside the one the judge reassembles",
    ),
    no_rule(
        "diag_wrong_nack_unreachable",
        "NACK 0x06 is right only when the ECU behind the gateway did not answer on CAN, which a capture of the DoIP side does not show",
    ),
    no_rule(
        "diag_wrong_nack_transport_error",
        "NACK 0x08 is right only when the ISO-TP transfer behind the gateway failed, which a capture of the DoIP side does not show",
    ),
];

/// The entry of `fault`, if no rule shows it.
pub fn unjudged(fault: &str) -> Option<&'static Unjudged> {
    UNJUDGED.iter().find(|u| u.fault == fault)
}
