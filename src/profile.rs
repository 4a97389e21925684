//! What the unit under test declares, typed: [`TargetProfile`] and its parts
//! (docs/architecture.md#target-profile). Pure (no I/O), so that every layer, the pure ones
//! included, takes the part it needs. The profile file is read into it once, by
//! `suite::profile` (which alone spells the keys and holds their defaults).

use std::time::Duration;

/// The timer keys a generated suite names as `${profile.<key>}` (`doipcheck import`); their
/// declaration, type and default are `suite::profile::KEYS`.
pub mod timer_key {
    pub const A_PROCESSING_TIME: &str = "timing.a_processing_time";
    pub const A_DOIP_DIAGNOSTIC_MESSAGE: &str = "timing.a_doip_diagnostic_message";
    pub const A_DOIP_CTRL: &str = "timing.a_doip_ctrl";
    pub const T_TCP_ALIVE_CHECK: &str = "timing.t_tcp_alive_check";
    pub const T_TCP_INITIAL_INACTIVITY: &str = "timing.t_tcp_initial_inactivity";
    pub const T_TCP_GENERAL_INACTIVITY: &str = "timing.t_tcp_general_inactivity";
    pub const P2: &str = "uds.p2";
    pub const P2_STAR: &str = "uds.p2_star";
    /// The TCP inactivity timers (whose keys share this prefix).
    pub const TCP_INACTIVITY_PREFIX: &str = "timing.t_tcp";
}

/// The keys of the declared values the judge's timing and ISO-TP rules hold a target to, as
/// its rule catalogue names them (`judge::rules`, docs/rules.md); their declaration, type and
/// default are `suite::profile::KEYS`.
pub mod declared_key {
    pub const TOLERANCE: &str = "timing.tolerance";
    pub const A_DOIP_ANNOUNCE_INTERVAL: &str = "timing.a_doip_announce_interval";
    pub const A_DOIP_ANNOUNCE_NUM: &str = "timing.a_doip_announce_num";
    pub const ISOTP_N_BS: &str = "isotp.n_bs";
    pub const ISOTP_N_CR: &str = "isotp.n_cr";
    pub const ISOTP_WFT_MAX: &str = "isotp.wft_max";
    pub const ISOTP_PADDING: &str = "isotp.padding";
    pub const ISOTP_BLOCK_SIZE: &str = "isotp.block_size";
    pub const ISOTP_ST_MIN: &str = "isotp.st_min";
    pub const UNKNOWN_ADDRESS: &str = "unknown_address";
    pub const ACTIVATION_TYPES: &str = "activation_types";
    pub const MAX_SOCKETS: &str = "max_sockets";
    pub const MAX_DATA_SIZE: &str = "max_data_size";
}

/// What the unit under test declares, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetProfile {
    pub name: String,
    /// The built-in simulator's configuration file (relative to the profile), if any.
    pub simulator: Option<String>,
    /// DoIP protocol version (0x02 = 2012, 0x03 = 2019).
    pub protocol_version: u8,
    pub addresses: Addresses,
    pub ports: Ports,
    pub identity: Identification,
    pub activation: Activation,
    pub timers: DoipTimers,
    pub recording: RecordLimits,
    pub uds: UdsProfile,
    pub can: CanProfile,
    pub isotp: IsoTpProfile,
    pub capabilities: Vec<String>,
    /// Shell command that power-cycles a --target (capability `power_cycle`).
    pub power_cycle_command: Option<String>,
    /// Where UDP requests go that are broadcast (`network.broadcast_address`).
    pub broadcast_address: String,
}

/// Logical addresses (ISO 13400-2:2019 Table 13), roles checked at load (`addresses.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addresses {
    pub entity: u16,
    /// The harness's own tester address.
    pub tester: u16,
    /// Further testers the entity accepts, for cases with several testers.
    pub second_tester: u16,
    pub third_tester: u16,
    pub functional: u16,
    /// An address nobody has and the entity does not accept as a tester.
    pub unknown: u16,
    /// ECUs behind a gateway.
    pub ecus: Vec<u16>,
    pub gateway: GatewayAddresses,
}

/// The gateway's ECUs that cases single out (capability `doip.gateway`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GatewayAddresses {
    /// An ECU that answers UDS.
    pub ecu: Option<u16>,
    /// An ECU routed to whose node does not answer.
    pub unreachable: Option<u16>,
    /// An ECU whose ISO-TP buffer is smaller than the requests routed to it.
    pub overflow: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub tcp: u16,
    pub udp: u16,
    pub tls: u16,
}

/// What the entity says about itself over UDP (ISO 13400-2:2019 Tables 5, 11, 13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identification {
    pub vin: String,
    pub eid: [u8; 6],
    pub gid: [u8; 6],
    pub node_type: String,
    pub max_sockets: u8,
    pub max_data_size: Option<u32>,
    pub power_mode: String,
    pub further_action: u8,
}

/// The routing activation types the entity supports and the special ones cases provoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    pub types: Vec<u8>,
    pub authentication_type: Option<u8>,
    pub authentication_oem: Option<u32>,
    pub confirmation_type: Option<u8>,
    pub rejected_confirmation_type: Option<u8>,
}

/// The entity's DoIP timers (ISO 13400-2:2019 Table 46) and the slack of every timing check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoipTimers {
    pub a_doip_ctrl: Duration,
    pub a_processing_time: Duration,
    pub a_doip_diagnostic_message: Duration,
    pub a_doip_announce_wait: Duration,
    pub a_doip_announce_interval: Duration,
    pub a_doip_announce_num: u8,
    pub a_vehicle_discovery_timer: Duration,
    pub t_tcp_initial_inactivity: Duration,
    pub t_tcp_general_inactivity: Duration,
    pub t_tcp_alive_check: Duration,
    /// Slack of every `within` / `not_before` (`timing.tolerance`).
    pub tolerance: Duration,
}

/// How much of a case's traffic is recorded (a flooding target must not exhaust memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordLimits {
    pub frames: u32,
    pub bytes: u64,
}

/// The UDS facts cases rely on (ISO 14229-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdsProfile {
    /// Where diagnostic messages go: an ECU behind the gateway, else the entity.
    pub target_address: u16,
    /// The DID cases read, and its value.
    pub did: u16,
    pub did_value: Vec<u8>,
    pub p2: Duration,
    pub p2_star: Duration,
    pub max_request_length: Option<u32>,
}

impl UdsProfile {
    /// The length of the positive answer to reading [`UdsProfile::did`]: 0x62, the DID, the
    /// value (ISO 14229-1 §11.2).
    pub fn did_response_length(&self) -> usize {
        3 + self.did_value.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanProfile {
    pub fd: bool,
    /// Slack of CAN gap assertions.
    pub gap_tolerance: Duration,
}

/// One further ISO-TP node on its own id pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdPair {
    pub tx_id: u32,
    pub rx_id: u32,
}

/// The ISO-TP node the CAN cases talk to and the harness's side of it (ISO 15765-2:2016).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoTpProfile {
    pub tx_id: u32,
    pub rx_id: u32,
    pub functional_id: u32,
    pub extended_ids: bool,
    pub padding: u8,
    /// The node's BS and STmin in its flow controls.
    pub block_size: u8,
    pub st_min: u8,
    /// The harness's BS and STmin in its flow controls.
    pub harness_block_size: u8,
    pub harness_st_min: u8,
    pub n_bs: Duration,
    pub n_cr: Duration,
    pub wft_max: u8,
    pub settle_time: Duration,
    pub reaction_time: Duration,
    pub busy: Option<IdPair>,
    pub busy_wait_frames: Option<u32>,
    pub wft_overrun: Option<IdPair>,
    pub wft_overrun_max: Option<u32>,
    pub fd: Option<IdPair>,
    pub extended_addressing: Option<IdPair>,
    pub extended_target_address: Option<u8>,
    pub extended_source_address: Option<u8>,
    pub mixed_addressing: Option<IdPair>,
    pub mixed_address_extension: Option<u8>,
    pub normal_fixed: Option<IdPair>,
    pub late_confirmation: Option<IdPair>,
}

impl TargetProfile {
    pub fn has_capability(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// The longest a CAN node may keep the bus busy after a case: the longest of its N_Bs,
    /// N_Cr and P2* (a sender waiting for FC, a receiver waiting for CF, a pending answer).
    pub fn can_settle_bound(&self) -> Duration {
        self.isotp.n_bs.max(self.isotp.n_cr).max(self.uds.p2_star)
    }
}
