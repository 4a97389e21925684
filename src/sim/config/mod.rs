//! The simulator's configuration: one YAML document (see `fixtures/sim/sim.yaml`) whose every field
//! has a default that matches ISO 13400-2:2019 (timers of Table 39 / docs/protocol.md#timers), so
//! an empty file is a conformant entity.
//!
//! [`SimConfig::from_yaml_str`] parses and validates text; reading the file is the caller's job
//! (this module is pure). Errors carry the line and column of the offending value.

mod load;
mod values;

pub use load::SimConfigError;
pub use values::{ConfigDuration, ConfigIpAddr, ConfigSocketAddr, ConfigVin, HexBytes, SixBytes};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// The whole simulator: one DoIP entity (a gateway with a local UDS responder) and the CAN ECUs
/// behind it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Protocol version the entity implements and writes in every reply (0x02 = 2012,
    /// 0x03 = 2019). Requests must carry it (or 0xFF in vehicle identification requests).
    pub protocol_version: u8,
    /// The entity's logical address (ISO 13400-2:2019 Table 13).
    pub logical_address: Spanned<u16>,
    pub vin: ConfigVin,
    pub eid: SixBytes,
    pub gid: SixBytes,
    /// Further action byte of the announcement (0x00 none, 0x10 central security).
    pub further_action: u8,
    /// VIN/GID sync status byte; absent = the 32-byte announcement without it.
    pub vin_gid_sync_status: Option<u8>,
    pub node_type: NodeTypeSetting,
    /// MCTS: how many TCP_DATA sockets may be registered (routing activated) at once.
    pub max_tcp_sockets: u8,
    /// Hard limit of open TCP connections (activated or not); more are refused at accept.
    /// Bounds the simulator's memory under a connection flood.
    pub max_connections: u16,
    /// MDS: the largest DoIP message (header excluded) the entity can ever process.
    pub max_data_size: u32,
    /// Payload bytes all sockets together may hold in messages still arriving; a header that
    /// would exceed it is NACKed with 0x03 (out of memory) and its message skipped.
    pub rx_buffer_budget: u32,
    /// Delayed answers (UDS delays, response-pending sequences) the entity holds at once; a
    /// diagnostic message that would need more is NACKed with 0x05 (out of memory).
    pub max_pending_outputs: u32,
    /// Whether the entity status response carries MDS (it is optional, Table 11).
    pub report_max_data_size: bool,
    pub power_mode: PowerModeSetting,
    /// Logical addresses of testers allowed to activate routing.
    pub tester_addresses: Vec<u16>,
    /// Functional logical address: requests to it go to the local responder and every ECU.
    pub functional_address: u16,
    pub activation: Vec<ActivationTypeConfig>,
    /// What a diagnostic message on a socket without routing activation gets (sources differ:
    /// docs/protocol.md#routing-activation).
    pub unactivated_diagnostic: UnactivatedDiagnostic,
    /// How many bytes of the request the diagnostic ACK/NACK echoes (ISO 13400-2:2019 Table 28
    /// "previous diagnostic message data", optional).
    pub ack_echo_bytes: u16,
    pub timing: Timing,
    pub network: Network,
    pub announce: Announce,
    /// The entity's own UDS responder (diagnostic messages to `logical_address`).
    pub uds: UdsConfig,
    /// CAN ECUs behind the gateway, reached over ISO-TP.
    pub ecus: Vec<EcuConfig>,
    /// Where the robustness faults trip (they are off unless switched on by name).
    pub robustness: Robustness,
    /// The CAN bus of the ECUs as a transport spec (`cannelloni:20000@127.0.0.1:20001`,
    /// `memory:NAME`); absent = a private in-process memory bus.
    pub can: Option<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            protocol_version: 0x02,
            logical_address: unspanned(0x0010),
            vin: ConfigVin(*b"WDOIPCHECK0000001"),
            eid: SixBytes([0x00, 0x1A, 0x2B, 0x3C, 0x4D, 0x5E]),
            gid: SixBytes([0x00, 0x1A, 0x2B, 0x3C, 0x4D, 0x5F]),
            further_action: 0x00,
            vin_gid_sync_status: None,
            node_type: NodeTypeSetting::Gateway,
            max_tcp_sockets: 4,
            max_connections: 256,
            max_data_size: 4096,
            rx_buffer_budget: 1 << 20,
            max_pending_outputs: 16_384,
            report_max_data_size: true,
            power_mode: PowerModeSetting::Ready,
            tester_addresses: vec![0x0E00, 0x0E80, 0x0F00],
            functional_address: 0xE400,
            activation: vec![
                ActivationTypeConfig::plain(0x00),
                ActivationTypeConfig::plain(0x01),
                ActivationTypeConfig { requires_tls: true, ..ActivationTypeConfig::plain(0xE0) },
            ],
            unactivated_diagnostic: UnactivatedDiagnostic::Nack,
            ack_echo_bytes: 0,
            timing: Timing::default(),
            network: Network::default(),
            announce: Announce::default(),
            uds: UdsConfig::default(),
            ecus: Vec::new(),
            robustness: Robustness::default(),
            can: None,
        }
    }
}

/// The thresholds of the robustness faults (`hang_after_oversized_diag`,
/// `isotp_hang_on_large_ff_dl`). They are settings, not constants, so that a test can draw
/// them at random and show that the fuzzer finds each fault from the protocol's own
/// boundaries rather than from a number it was told (docs/architecture.md#live-fuzzing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Robustness {
    /// `hang_after_oversized_diag`: a diagnostic message with more user data than this hangs
    /// the entity. At most `max_data_size` - 5, so that a message above it still fits the MDS.
    pub oversized_diag_user_data: u32,
    /// `isotp_hang_on_large_ff_dl`: a physical first frame announcing more than this (FF_DL,
    /// 12-bit or escaped 32-bit) hangs a CAN ECU. 8 to 0xFFFF_FFFE, so that a larger FF_DL
    /// exists.
    pub isotp_hang_ff_dl: u32,
}

impl Robustness {
    /// The largest `isotp_hang_ff_dl`: one below the largest 32-bit FF_DL
    /// (ISO 15765-2:2016 §9.6.3.1).
    pub const MAX_ISOTP_HANG_FF_DL: u32 = u32::MAX - 1;
    /// The smallest `isotp_hang_ff_dl`: the smallest legal FF_DL of a classic first frame
    /// (ISO 15765-2:2016 §9.6.3.2).
    pub const MIN_ISOTP_HANG_FF_DL: u32 = 8;

    /// The largest `oversized_diag_user_data` for an entity of this MDS: a diagnostic message
    /// carries source and target address (4 bytes) before its user data (ISO 13400-2:2019
    /// Table 21), and one byte more must still fit.
    pub const fn max_oversized_diag_user_data(max_data_size: u32) -> u32 {
        max_data_size.saturating_sub(5)
    }
}

impl Default for Robustness {
    fn default() -> Self {
        Robustness { oversized_diag_user_data: 64, isotp_hang_ff_dl: 2048 }
    }
}

/// Node type of the entity status response (ISO 13400-2:2019 Table 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeTypeSetting {
    Gateway,
    Node,
}

impl NodeTypeSetting {
    pub const fn code(self) -> u8 {
        match self {
            NodeTypeSetting::Gateway => 0x00,
            NodeTypeSetting::Node => 0x01,
        }
    }
}

/// Diagnostic power mode (ISO 13400-2:2019 Table 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PowerModeSetting {
    NotReady,
    Ready,
    NotSupported,
}

impl PowerModeSetting {
    pub const fn code(self) -> u8 {
        match self {
            PowerModeSetting::NotReady => 0x00,
            PowerModeSetting::Ready => 0x01,
            PowerModeSetting::NotSupported => 0x02,
        }
    }
}

/// What happens to a diagnostic message on a socket that has not activated routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnactivatedDiagnostic {
    /// Diagnostic NACK 0x02 (invalid source address); the socket stays open.
    Nack,
    /// Close the socket without an answer.
    Close,
}

/// What the entity does after accepting an activation type that needs confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Confirmation {
    /// No confirmation needed: code 0x10.
    #[default]
    None,
    /// Code 0x11 (will be activated, confirmation required); the socket stays open.
    Pending,
    /// Code 0x05 (rejected confirmation); the socket is closed.
    Rejected,
}

/// One supported routing activation type and what it requires (ISO 13400-2:2019 Table 24/25).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ActivationTypeConfig {
    #[serde(rename = "type")]
    pub activation_type: u8,
    /// Only on the TLS port (2019): on plain TCP the answer is 0x07.
    #[serde(default)]
    pub requires_tls: bool,
    /// Denied with 0x04 unless the request's OEM-specific field equals this value.
    #[serde(default)]
    pub authentication: Option<HexBytes>,
    #[serde(default)]
    pub confirmation: Confirmation,
}

impl ActivationTypeConfig {
    pub fn plain(activation_type: u8) -> Self {
        ActivationTypeConfig {
            activation_type,
            requires_tls: false,
            authentication: None,
            confirmation: Confirmation::None,
        }
    }
}

/// DoIP timers (docs/protocol.md#timers; ISO 13400-2:2019 Table 39 defaults).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timing {
    /// Upper bound of the random A_DoIP_Announce_Wait before the first announcement.
    pub a_doip_announce_wait: ConfigDuration,
    pub a_doip_announce_interval: ConfigDuration,
    pub a_doip_announce_num: u8,
    pub t_tcp_initial_inactivity: ConfigDuration,
    pub t_tcp_general_inactivity: ConfigDuration,
    pub t_tcp_alive_check: ConfigDuration,
    /// A_Processing_Time: the entity's bound for answering UDP requests (it answers at once;
    /// faults use this to answer late).
    pub a_processing_time: ConfigDuration,
    /// A_DoIP_Diagnostic_Message timeout: the bound for the diagnostic ACK/NACK.
    pub a_doip_diagnostic_message: ConfigDuration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            a_doip_announce_wait: ConfigDuration::from_millis(500),
            a_doip_announce_interval: ConfigDuration::from_millis(500),
            a_doip_announce_num: 3,
            t_tcp_initial_inactivity: ConfigDuration::from_millis(2_000),
            t_tcp_general_inactivity: ConfigDuration::from_millis(300_000),
            t_tcp_alive_check: ConfigDuration::from_millis(500),
            a_processing_time: ConfigDuration::from_millis(2_000),
            a_doip_diagnostic_message: ConfigDuration::from_millis(2_000),
        }
    }
}

/// Where the process binds (used by the driver only). Port 0 = an ephemeral port.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Network {
    pub bind: ConfigIpAddr,
    pub tcp_port: u16,
    pub udp_port: u16,
    /// TLS TCP_DATA port (ISO 13400-2:2019: 3496); absent = no TLS listener.
    pub tls_port: Option<u16>,
    /// PEM certificate chain and key paths; absent = a self-signed certificate is generated.
    pub tls_certificate: Option<String>,
    pub tls_private_key: Option<String>,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            bind: ConfigIpAddr(core::net::IpAddr::V4(core::net::Ipv4Addr::LOCALHOST)),
            tcp_port: 13400,
            udp_port: 13400,
            tls_port: Some(3496),
            tls_certificate: None,
            tls_private_key: None,
        }
    }
}

/// Vehicle announcements (ISO 13400-2:2019 §9.2 / docs/protocol.md#vehicle-identification).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Announce {
    pub enabled: bool,
    /// Where announcements go: loopback unless told otherwise (never broadcast by default).
    pub destination: ConfigSocketAddr,
    /// Seed of the RNG drawing A_DoIP_Announce_Wait, so runs are reproducible.
    pub seed: u64,
}

impl Default for Announce {
    fn default() -> Self {
        Announce {
            enabled: true,
            destination: ConfigSocketAddr(core::net::SocketAddr::new(
                core::net::IpAddr::V4(core::net::Ipv4Addr::LOCALHOST),
                13400,
            )),
            seed: 0x5EED,
        }
    }
}

/// A UDS responder (ISO 14229-1): the entity's own, or one CAN ECU's.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct UdsConfig {
    /// Data identifiers for 0x22 / 0x2E.
    pub dids: BTreeMap<u16, DidConfig>,
    /// Diagnostic sessions 0x10 accepts (0x01 default, 0x02 programming, 0x03 extended).
    pub sessions: Vec<u8>,
    /// Reset types 0x11 accepts (0x01 hard, 0x02 key off/on, 0x03 soft).
    pub reset_types: Vec<u8>,
    /// Security access 0x27; absent = service not supported.
    pub security: Option<SecurityConfig>,
    /// P2server_max reported in the 0x50 response.
    pub p2_server_max: ConfigDuration,
    /// P2*server_max reported in the 0x50 response.
    pub p2_star_server_max: ConfigDuration,
    /// Per-service timing: a delay before the answer and response-pending (0x78) sequences.
    pub services: BTreeMap<u8, ServiceTiming>,
    /// Longest request the responder accepts; longer ones are NACKed at the DoIP level with
    /// 0x04 (diagnostic message too large).
    pub max_request_length: u32,
}

impl Default for UdsConfig {
    fn default() -> Self {
        let mut dids = BTreeMap::new();
        dids.insert(
            0xF190,
            DidConfig { ascii: Some("WDOIPCHECK0000001".into()), ..DidConfig::default() },
        );
        dids.insert(0xF18C, DidConfig { ascii: Some("SIM-0001".into()), ..DidConfig::default() });
        dids.insert(
            0x0100,
            DidConfig {
                hex: Some(HexBytes(vec![0x00, 0x00])),
                writable: true,
                ..Default::default()
            },
        );
        UdsConfig {
            dids,
            sessions: vec![0x01, 0x02, 0x03],
            reset_types: vec![0x01, 0x02, 0x03],
            security: Some(SecurityConfig::default()),
            p2_server_max: ConfigDuration::from_millis(50),
            p2_star_server_max: ConfigDuration::from_millis(5_000),
            services: BTreeMap::new(),
            max_request_length: 4095,
        }
    }
}

/// One data identifier: its value as ASCII text or hex bytes (exactly one of them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct DidConfig {
    pub ascii: Option<String>,
    pub hex: Option<HexBytes>,
    /// 0x2E may overwrite it (with a value of the same length).
    pub writable: bool,
    /// Writing needs this security level unlocked (the odd requestSeed sub-function).
    pub write_security_level: Option<u8>,
}

impl DidConfig {
    /// The initial value (validation guarantees exactly one of `ascii` / `hex`).
    pub fn value(&self) -> Vec<u8> {
        match (&self.ascii, &self.hex) {
            (Some(text), _) => text.as_bytes().to_vec(),
            (None, Some(bytes)) => bytes.0.clone(),
            (None, None) => Vec::new(),
        }
    }
}

/// Security access 0x27 with a fixed seed and key = seed XOR mask: simple, but it exercises
/// the whole requestSeed / sendKey exchange, including a wrong key (NRC 0x35).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Odd requestSeed sub-functions supported (sendKey is the next even value).
    pub levels: Vec<u8>,
    pub seed: HexBytes,
    /// key = seed XOR key_mask (same length as the seed).
    pub key_mask: HexBytes,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            levels: vec![0x01],
            seed: HexBytes(vec![0x12, 0x34, 0x56, 0x78]),
            key_mask: HexBytes(vec![0xA5, 0xA5, 0xA5, 0xA5]),
        }
    }
}

/// Timing of one service's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceTiming {
    /// Time before the first answer (pending or final).
    pub delay: ConfigDuration,
    /// How many NRC 0x78 (response pending) answers come before the final one.
    pub pending: u8,
    /// Time between response-pending answers and before the final one.
    pub pending_interval: ConfigDuration,
}

/// A CAN ECU behind the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EcuConfig {
    pub name: String,
    pub logical_address: Spanned<u16>,
    /// CAN ID the gateway sends requests on (the ECU's receive ID).
    pub request_id: u32,
    /// CAN ID the ECU answers on.
    pub response_id: u32,
    /// Functional request ID the ECU also listens on (single frames only, ISO 15765-2:2016
    /// §10.3.1), e.g. 0x7DF for OBD; absent = physical requests only.
    #[serde(default)]
    pub functional_id: Option<u32>,
    /// 29-bit identifiers.
    #[serde(default)]
    pub extended: bool,
    #[serde(default)]
    pub isotp: IsotpConfig,
    #[serde(default)]
    pub uds: UdsConfig,
    /// Simulate this ECU on the bus (false: the gateway only routes to it, for a real or
    /// external ECU on the configured `can` bus).
    #[serde(default = "yes")]
    pub simulated: bool,
}

fn yes() -> bool {
    true
}

/// ISO-TP parameters of one ECU link (ISO 15765-2:2016 §9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IsotpConfig {
    /// Block size sent in flow control frames (0 = no further FC).
    pub block_size: u8,
    /// Raw STmin byte sent in flow control frames.
    pub st_min: u8,
    /// Padding byte for classic frames; absent = length-optimised frames.
    pub padding: Option<u8>,
    pub n_bs: ConfigDuration,
    pub n_cr: ConfigDuration,
    /// N_Br: how long the ECU's receiver waits before each flow control it sends, so also the
    /// spacing of its FC WAIT train (ISO 15765-2:2016 §9.7: N_Br + N_Ar < 0.9 N_Bs keeps the
    /// sender's N_Bs from expiring between them).
    pub n_br: ConfigDuration,
    /// FC WAITs the ECU sends before each CTS (after the FF and after each block): a busy ECU
    /// (ISO 15765-2:2016 §9.6.5.1).
    pub wait_frames: u32,
    /// N_WFTmax: WAITs in a row the ECU may send; needing more (`wait_frames` above it) ends
    /// each reception with N_WFT_OVRN instead of the next WAIT (ISO 15765-2:2016 §9.6.5.1).
    pub n_wft_max: u32,
    /// The ECU's ISO-TP receive buffer: a first frame with a larger FF_DL gets FC OVFLW
    /// (ISO 15765-2:2016 §9.6.5.1). Absent = `uds.max_request_length` (what the gateway lets
    /// through).
    pub max_receive_size: Option<u32>,
    /// How frames carry the addresses (ISO 15765-2:2016 §10.3).
    pub addressing: EcuAddressing,
    /// Extended addressing: the N_TA byte that starts frames to the ECU (its own address).
    pub ecu_address: Option<u8>,
    /// Extended addressing: the N_TA byte that starts the ECU's frames (the tester's address).
    pub tester_address: Option<u8>,
    /// Mixed addressing: the N_AE byte that starts every frame, both directions.
    pub address_extension: Option<u8>,
    /// CAN FD frames (ISO 15765-2:2016 §9.6: CAN_DL up to 64, SF_DL escape, FF with 62 bytes).
    pub fd: bool,
    /// Bit rate switch on the ECU's FD frames.
    pub brs: bool,
    /// TX_DL: the longest frame the ECU sends (8, 12, 16, 20, 24, 32, 48 or 64; above 8 needs
    /// `fd`). Absent = 64 with `fd`, else 8.
    pub tx_dl: Option<u8>,
    /// N_As and N_Ar: how long the ECU's stack waits for its CAN controller to confirm a frame
    /// (N_TIMEOUT_A, ISO 15765-2:2016 §9.7).
    pub n_a: ConfigDuration,
    /// How long the ECU's CAN controller holds each frame before it reaches the bus (a loaded
    /// bus where its frames lose arbitration); the transmit confirmation comes then. 0 = at
    /// once. A frame the stack gave up on (N_As / N_Ar) still goes out: the controller has it.
    pub tx_delay: ConfigDuration,
}

/// The addressing format of an ECU link (ISO 15765-2:2016 §10.3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EcuAddressing {
    /// One CAN id per direction, no address byte.
    #[default]
    Normal,
    /// 29-bit ids `0x18DA<TA><SA>`: `request_id` names the ECU (TA) and the tester (SA),
    /// `response_id` is its mirror.
    NormalFixed,
    /// Every frame starts with the target's address (`ecu_address` / `tester_address`).
    Extended,
    /// Every frame starts with `address_extension`; 11-bit ids.
    Mixed,
}

impl Default for IsotpConfig {
    fn default() -> Self {
        IsotpConfig {
            block_size: 0,
            st_min: 0,
            padding: Some(0xCC),
            n_bs: ConfigDuration::from_millis(1_000),
            n_cr: ConfigDuration::from_millis(1_000),
            n_br: ConfigDuration::from_millis(0),
            wait_frames: 0,
            n_wft_max: 0,
            max_receive_size: None,
            addressing: EcuAddressing::Normal,
            ecu_address: None,
            tester_address: None,
            address_extension: None,
            fd: false,
            brs: false,
            tx_dl: None,
            n_a: ConfigDuration::from_millis(1_000),
            tx_delay: ConfigDuration::from_millis(0),
        }
    }
}

/// A value with no source position (defaults and values set in code).
pub fn unspanned<T>(value: T) -> Spanned<T> {
    Spanned::new(value, serde_saphyr::Location::UNKNOWN, serde_saphyr::Location::UNKNOWN)
}

impl SimConfig {
    /// Parses and validates one YAML document; errors carry line and column.
    pub fn from_yaml_str(text: &str) -> Result<SimConfig, SimConfigError> {
        load::from_yaml_str(text)
    }

    /// The same, with every mistake of the file at once (in file order; never empty on
    /// `Err`), for `doipcheck sim --config` and the profile's `simulator` file.
    pub fn from_yaml_str_all(text: &str) -> Result<SimConfig, Vec<SimConfigError>> {
        load::from_yaml_str_all(text)
    }

    /// The default entity on ephemeral loopback ports (port 0) with announcements off: what a
    /// test or a runner job wants (announcements to a fixed port would reach other instances).
    pub fn ephemeral() -> SimConfig {
        let mut config = SimConfig::default();
        config.network.tcp_port = 0;
        config.network.udp_port = 0;
        config.network.tls_port = Some(0);
        config.announce.enabled = false;
        config
    }

    /// The entity's logical address.
    pub fn entity_address(&self) -> u16 {
        self.logical_address.value
    }

    /// The configuration of activation type `t`, if supported.
    pub fn activation_type(&self, t: u8) -> Option<&ActivationTypeConfig> {
        self.activation.iter().find(|a| a.activation_type == t)
    }
}
