//! The keys a target profile may hold: each with its type, its default (where the standard
//! gives one: ISO 13400-2:2019 Table 46 timings, ports 13400/3496, ISO 14229 P2/P2*) and a
//! line of documentation, and the capabilities `requires:` may name. Declared once here:
//! reading (`super`), the typed view (`Profile::duration` ...), `${profile.*}`
//! checks and the docs all read these tables.

/// The type of a profile key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Int {
        max: u64,
    },
    Str,
    Bool,
    Duration,
    Bytes {
        len: usize,
    },
    /// Hex bytes of a length within `min..=max`.
    BytesBetween {
        min: usize,
        max: usize,
    },
    /// 17 characters.
    Vin,
    StrList,
    IntList {
        max: u64,
    },
}

/// One key of the profile.
#[derive(Debug, Clone, Copy)]
pub struct ProfileKey {
    /// Dotted path: `timing.a_doip_ctrl`.
    pub path: &'static str,
    pub ty: KeyType,
    /// The default when the profile leaves the key out, as YAML text; `None`: no default
    /// (a `${profile.x}` to it then fails the case with "profile has no x").
    pub default: Option<&'static str>,
    pub doc: &'static str,
}

const U8: KeyType = KeyType::Int { max: 0xFF };
const U16: KeyType = KeyType::Int { max: 0xFFFF };
const U32: KeyType = KeyType::Int { max: 0xFFFF_FFFF };

const fn key(
    path: &'static str,
    ty: KeyType,
    default: Option<&'static str>,
    doc: &'static str,
) -> ProfileKey {
    ProfileKey { path, ty, default, doc }
}

/// Every key a profile may hold.
pub const KEYS: &[ProfileKey] = &[
    key("name", KeyType::Str, Some("target"), "Name of the unit under test, for reports."),
    key(
        "simulator",
        KeyType::Str,
        None,
        "Simulator configuration (path relative to this profile) the built-in simulator runs \
         with when no --target is given; without it, the simulator's defaults.",
    ),
    key(
        "protocol_version",
        U8,
        Some("0x02"),
        "DoIP protocol version the entity implements (0x02 = 2012, 0x03 = 2019).",
    ),
    key(
        "inverse_version",
        U8,
        None,
        "Derived, not written in the file: protocol_version XOR 0xFF.",
    ),
    key("entity_address", U16, Some("0x1000"), "Logical address of the DoIP entity."),
    key("tester_address", U16, Some("0x0E80"), "Logical address the harness uses as a tester."),
    key(
        "second_tester_address",
        U16,
        Some("0x0E00"),
        "Another tester address the entity accepts, for cases with two testers (a changed \
         source address, concurrent testers); distinct from tester_address.",
    ),
    key(
        "third_tester_address",
        U16,
        Some("0x0F00"),
        "A third tester address the entity accepts, for cases that fill every socket; distinct \
         from the other two.",
    ),
    key("functional_address", U16, Some("0xE400"), "Functional (group) logical address."),
    key(
        "ecu_addresses",
        KeyType::IntList { max: 0xFFFF },
        Some("[]"),
        "Logical addresses of ECUs behind a gateway.",
    ),
    key(
        "gateway.ecu_address",
        U16,
        None,
        "A CAN ECU behind the gateway that answers UDS (capability doip.gateway).",
    ),
    key(
        "gateway.unreachable_address",
        U16,
        None,
        "An ECU address the gateway routes to whose node does not answer (diagnostic NACK 0x06).",
    ),
    key(
        "gateway.overflow_address",
        U16,
        None,
        "An ECU whose ISO-TP buffer is smaller than the requests the gateway routes to it \
         (FC OVFLW: diagnostic NACK 0x08).",
    ),
    key(
        "unknown_address",
        U16,
        Some("0x0FFF"),
        "A logical address no node has and the entity does not accept as a tester (for \
         negative tests); distinct from every address above.",
    ),
    key(
        "vin",
        KeyType::Vin,
        Some("\"00000000000000000\""),
        "Vehicle identification number (17 characters).",
    ),
    key(
        "eid",
        KeyType::Bytes { len: 6 },
        Some("\"00 00 00 00 00 00\""),
        "Entity identification (6 bytes, usually a MAC address).",
    ),
    key(
        "gid",
        KeyType::Bytes { len: 6 },
        Some("\"00 00 00 00 00 00\""),
        "Group identification (6 bytes).",
    ),
    key(
        "node_type",
        KeyType::Str,
        Some("gateway"),
        "`gateway` or `node` (entity status response).",
    ),
    key("max_sockets", U8, Some("1"), "Max concurrent TCP data sockets (MCTS)."),
    key("max_data_size", U32, None, "Max data size (MDS) when the entity reports it."),
    key(
        "activation_types",
        KeyType::IntList { max: 0xFF },
        Some("[0x00]"),
        "Routing activation types the entity accepts.",
    ),
    key(
        "activation.authentication_type",
        U8,
        None,
        "An activation type that needs authentication in the OEM-specific field (code 0x04 \
         without it); with capability doip.activation_authentication.",
    ),
    key(
        "activation.authentication_oem",
        U32,
        None,
        "The OEM-specific field value that authenticates activation.authentication_type.",
    ),
    key(
        "activation.confirmation_type",
        U8,
        None,
        "An activation type that needs confirmation (code 0x11 first); with capability \
         doip.activation_confirmation.",
    ),
    key(
        "activation.rejected_confirmation_type",
        U8,
        None,
        "An activation type whose confirmation the entity rejects (code 0x05).",
    ),
    key("power_mode", KeyType::Str, Some("ready"), "Diagnostic power mode the entity reports."),
    key("further_action", U8, Some("0x00"), "Further action byte of the vehicle announcement."),
    key(
        "capabilities",
        KeyType::StrList,
        Some("[doip.tcp, doip.udp]"),
        "What the target supports; `requires:` selects cases by these.",
    ),
    key(
        "power_cycle_command",
        KeyType::Str,
        None,
        "Shell command that power-cycles a --target for the `power_cycle` step (with capability \
         power_cycle); the built-in simulator restarts itself.",
    ),
    key("ports.tcp", U16, Some("13400"), "TCP_DATA port (ISO 13400-2:2019 Table 47)."),
    key("ports.udp", U16, Some("13400"), "UDP_DISCOVERY port."),
    key("ports.tls", U16, Some("3496"), "TLS TCP_DATA port (2019)."),
    key(
        "network.broadcast_address",
        KeyType::Str,
        Some("255.255.255.255"),
        "Where `udp_send: { to: broadcast }` goes.",
    ),
    key(
        "timing.a_doip_ctrl",
        KeyType::Duration,
        Some("2s"),
        "A_DoIP_Ctrl: the tester's wait for UDP responses.",
    ),
    key(
        "timing.a_processing_time",
        KeyType::Duration,
        Some("2s"),
        "A_Processing_Time: the entity's time to answer.",
    ),
    key(
        "timing.a_doip_diagnostic_message",
        KeyType::Duration,
        Some("50ms"),
        "A_DoIP_Diagnostic_Message: diagnostic ACK/NACK performance time.",
    ),
    key(
        "timing.a_doip_announce_wait",
        KeyType::Duration,
        Some("500ms"),
        "A_DoIP_Announce_Wait: maximum random delay before the first announcement.",
    ),
    key(
        "timing.a_doip_announce_interval",
        KeyType::Duration,
        Some("500ms"),
        "A_DoIP_Announce_Interval.",
    ),
    key("timing.a_doip_announce_num", KeyType::Int { max: 255 }, Some("3"), "A_DoIP_Announce_Num."),
    key(
        "timing.a_vehicle_discovery_timer",
        KeyType::Duration,
        Some("5s"),
        "A_Vehicle_Discovery_Timer.",
    ),
    key(
        "timing.t_tcp_initial_inactivity",
        KeyType::Duration,
        Some("2s"),
        "T_TCP_Initial_Inactivity.",
    ),
    key(
        "timing.t_tcp_general_inactivity",
        KeyType::Duration,
        Some("300s"),
        "T_TCP_General_Inactivity.",
    ),
    key("timing.t_tcp_alive_check", KeyType::Duration, Some("500ms"), "T_TCP_Alive_Check."),
    key(
        "timing.tolerance",
        KeyType::Duration,
        Some("50ms"),
        "Slack granted to every timing assertion against the declared values.",
    ),
    key(
        "recording.max_frames",
        U32,
        Some("2000"),
        "Frames (and notes) recorded per case in events, JSON, JUnit and pcapng; later ones are counted, not recorded.",
    ),
    key(
        "recording.max_bytes",
        U32,
        Some("1048576"),
        "Bytes recorded per case (1 MiB); later frames are counted, not recorded.",
    ),
    key(
        "uds.target_address",
        U16,
        None,
        "Logical address the diagnostic cases send UDS requests to, and that acknowledges and answers them; default: entity_address. Set it to an ECU behind a gateway whose entity does not answer UDS itself.",
    ),
    key(
        "uds.did",
        U16,
        Some("0xF190"),
        "A data identifier the ISO-TP node answers ReadDataByIdentifier (0x22) for: the ISO-TP \
         suites read it to get a segmented answer (the simulator's VIN, ISO 14229-1 Table C.1).",
    ),
    key(
        "uds.did_value",
        KeyType::BytesBetween { min: 11, max: 17 },
        Some("\"57 44 4F 49 50 43 48 45 43 4B 30 30 30 30 30 30 31\""),
        "The bytes the node answers for uds.did (default: the simulator's VIN WDOIPCHECK0000001). \
         11 to 17 bytes, so that the answer `62 <did> <value>` (14 to 20 bytes) is a classic \
         first frame and exactly two consecutive frames, as the sender cases script them; a \
         node whose DIDs are shorter or longer needs another DID.",
    ),
    key(
        "uds.did_request",
        KeyType::BytesBetween { min: 3, max: 3 },
        None,
        "Derived, not written in the file: the request `22 <uds.did>`.",
    ),
    key(
        "uds.did_response",
        KeyType::BytesBetween { min: 14, max: 20 },
        None,
        "Derived, not written in the file: the answer `62 <uds.did> <uds.did_value>`.",
    ),
    key(
        "uds.did_response_length",
        U16,
        None,
        "Derived, not written in the file: the length of uds.did_response (the FF_DL of its \
         first frame).",
    ),
    key(
        "uds.did_response_cf1",
        KeyType::BytesBetween { min: 7, max: 7 },
        None,
        "Derived, not written in the file: the data of the first consecutive frame of \
         uds.did_response on classic CAN (its bytes 7 to 13).",
    ),
    key(
        "uds.did_response_cf2",
        KeyType::BytesBetween { min: 1, max: 7 },
        None,
        "Derived, not written in the file: the data of the second consecutive frame of \
         uds.did_response on classic CAN (its bytes 14 to 20), before any padding.",
    ),
    key("uds.p2", KeyType::Duration, Some("50ms"), "P2 server (ISO 14229-2)."),
    key("uds.p2_star", KeyType::Duration, Some("5s"), "P2* server after NRC 0x78."),
    key(
        "uds.max_request_length",
        U32,
        None,
        "Longest UDS request the entity's own server takes (longer ones below max_data_size \
         get diagnostic NACK 0x04).",
    ),
    key("can.fd", KeyType::Bool, Some("false"), "Use CAN FD frames."),
    key(
        "can.gap_tolerance",
        KeyType::Duration,
        Some("2ms"),
        "Slack of `can_expect` gap_min / gap_max (frames are stamped where the transport takes \
         them in, so STmin-sized gaps need less than timing.tolerance).",
    ),
    key("isotp.tx_id", U32, Some("0x7E0"), "CAN id the harness sends ISO-TP frames on."),
    key("isotp.rx_id", U32, Some("0x7E8"), "CAN id the target answers on."),
    key(
        "isotp.functional_id",
        U32,
        Some("0x7DF"),
        "CAN id of functionally addressed requests the target takes (single frames only).",
    ),
    key("isotp.extended_ids", KeyType::Bool, Some("false"), "29-bit CAN ids."),
    key("isotp.padding", U8, Some("0xCC"), "Padding byte of classic frames."),
    key("isotp.block_size", U8, Some("0"), "BS the target's receiver announces."),
    key("isotp.st_min", U8, Some("0"), "STmin the target's receiver announces (raw byte)."),
    key(
        "isotp.harness_block_size",
        U8,
        Some("0"),
        "BS the harness grants in its flow control (`isotp_expect`).",
    ),
    key(
        "isotp.harness_st_min",
        U8,
        Some("0"),
        "STmin the harness grants in its flow control (raw byte).",
    ),
    key("isotp.n_bs", KeyType::Duration, Some("1s"), "N_Bs timeout."),
    key("isotp.n_cr", KeyType::Duration, Some("1s"), "N_Cr timeout."),
    key("isotp.wft_max", U8, Some("0"), "N_WFTmax of the target's receiver."),
    key(
        "isotp.settle_time",
        KeyType::Duration,
        Some("150ms"),
        "Quiet time on the bus that ends a case that used CAN: what the node sends until then \
         (a late answer, the rest of a transfer) is recorded in that case, not matched by the \
         next (longer than the longest STmin, 127 ms, a transfer may pause); bounded by the longest of isotp.n_bs, isotp.n_cr and uds.p2_star.",
    ),
    key(
        "isotp.reaction_time",
        KeyType::Duration,
        Some("300ms"),
        "How long the target may take to react to an ISO-TP frame: the window in which an \
         `expect_none` on CAN waits for a frame that must not come.",
    ),
    key(
        "isotp.busy.tx_id",
        U32,
        None,
        "A busy ISO-TP node (capability isotp.fc_wait): CAN id the harness sends on.",
    ),
    key("isotp.busy.rx_id", U32, None, "The busy node's answer id."),
    key(
        "isotp.busy.wait_frames",
        U32,
        None,
        "FC WAITs the busy node sends before each CTS (at most its N_WFTmax).",
    ),
    key(
        "isotp.wft_overrun.tx_id",
        U32,
        None,
        "A node whose receiver needs more FC WAITs than its N_WFTmax allows (capability \
         isotp.wft_overrun): CAN id the harness sends on.",
    ),
    key("isotp.wft_overrun.rx_id", U32, None, "The overrun node's answer id."),
    key(
        "isotp.wft_overrun.wft_max",
        U32,
        None,
        "N_WFTmax of the overrun node: the WAITs it sends before giving up (N_WFT_OVRN).",
    ),
    key(
        "isotp.fd.tx_id",
        U32,
        None,
        "A CAN FD ISO-TP node with TX_DL 64 (capability isotp.can_fd): CAN id the harness sends \
         on.",
    ),
    key("isotp.fd.rx_id", U32, None, "The CAN FD node's answer id."),
    key(
        "isotp.extended_addressing.tx_id",
        U32,
        None,
        "An ISO-TP node with extended addressing (capability isotp.extended_addressing): CAN id \
         the harness sends on.",
    ),
    key("isotp.extended_addressing.rx_id", U32, None, "The extended-addressing node's answer id."),
    key(
        "isotp.extended_addressing.target_address",
        U8,
        None,
        "The node's own address: the N_TA byte that starts frames to it.",
    ),
    key(
        "isotp.extended_addressing.source_address",
        U8,
        None,
        "The tester's address: the N_TA byte that starts the node's frames.",
    ),
    key(
        "isotp.mixed_addressing.tx_id",
        U32,
        None,
        "An ISO-TP node with mixed addressing, 11-bit ids (capability isotp.mixed_addressing): \
         CAN id the harness sends on.",
    ),
    key("isotp.mixed_addressing.rx_id", U32, None, "The mixed-addressing node's answer id."),
    key(
        "isotp.mixed_addressing.address_extension",
        U8,
        None,
        "The N_AE byte that starts every frame, both directions.",
    ),
    key(
        "isotp.normal_fixed.tx_id",
        U32,
        None,
        "An ISO-TP node with normal fixed addressing (capability \
         isotp.normal_fixed_addressing): the 29-bit id 0x18DA<node><tester> the harness sends \
         on.",
    ),
    key("isotp.normal_fixed.rx_id", U32, None, "Its answer id, the mirror 0x18DA<tester><node>."),
    key(
        "isotp.late_confirmation.tx_id",
        U32,
        None,
        "A node whose frames reach the bus only after its N_As / N_Ar (capability \
         isotp.late_confirmation): CAN id the harness sends on.",
    ),
    key("isotp.late_confirmation.rx_id", U32, None, "That node's answer id."),
];

/// Capabilities a profile may list and a `requires:` may name.
pub const CAPABILITIES: &[(&str, &str)] = &[
    ("doip.tcp", "DoIP over TCP on ports.tcp"),
    ("doip.udp", "vehicle identification and status over UDP on ports.udp"),
    ("doip.tls", "DoIP over TLS on ports.tls (2019)"),
    ("doip.entity_status", "answers the DoIP entity status request"),
    ("doip.power_mode", "answers the diagnostic power mode information request"),
    ("doip.mds", "reports max data size in the entity status response"),
    ("doip.announcements", "sends vehicle announcements after start"),
    ("doip.alive_check", "sends alive check requests when all sockets are taken"),
    ("doip.central_security", "routing activation type 0xE0"),
    (
        "doip.activation_authentication",
        "an activation type that needs authentication (profile activation.authentication_*)",
    ),
    (
        "doip.activation_confirmation",
        "an activation type that needs confirmation (profile activation.confirmation_type)",
    ),
    ("doip.oem_specific", "OEM-specific field in routing activation"),
    ("doip.gateway", "routes diagnostic messages to CAN ECUs behind it (profile gateway.*)"),
    ("uds", "a UDS server behind the entity address"),
    ("isotp", "an ISO-TP node on the profile's CAN bus"),
    (
        "isotp.functional",
        "the ISO-TP node also takes functionally addressed single frames on isotp.functional_id",
    ),
    (
        "isotp.fc_wait",
        "a busy ISO-TP node that sends FC WAITs before its CTS (profile isotp.busy.*)",
    ),
    (
        "isotp.wft_overrun",
        "an ISO-TP node that needs more FC WAITs than its N_WFTmax (profile isotp.wft_overrun.*)",
    ),
    (
        "isotp.can_fd",
        "a CAN FD ISO-TP node with TX_DL 64 that reads DID 0xF190 (profile isotp.fd.*)",
    ),
    (
        "isotp.extended_addressing",
        "an ISO-TP node with extended addressing (profile isotp.extended_addressing.*)",
    ),
    (
        "isotp.mixed_addressing",
        "an ISO-TP node with mixed addressing and 11-bit ids (profile isotp.mixed_addressing.*)",
    ),
    (
        "isotp.normal_fixed_addressing",
        "an ISO-TP node with normal fixed addressing, 29-bit ids (profile isotp.normal_fixed.*)",
    ),
    (
        "isotp.late_confirmation",
        "an ISO-TP node whose frames reach the bus only after its N_As / N_Ar (a loaded bus; \
         profile isotp.late_confirmation.*)",
    ),
    ("can.fd", "CAN FD frames"),
    (
        "power_cycle",
        "the harness can restart the target (`power_cycle` step): the built-in simulator, or a \
         --target with power_cycle_command",
    ),
    ("sim", "only the built-in simulator (cases that need its fault switches)"),
];
