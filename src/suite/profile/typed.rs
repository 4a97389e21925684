//! The profile, typed: [`TargetProfile`] and its parts, built once from a read [`Profile`]
//! (docs/architecture.md#target-profile). Every consumer takes the part it needs; the key
//! names and defaults stay declared once, in [`super::KEYS`], and are spelled only here.

use super::Values;
use crate::suite::value::Value;
use std::time::Duration;

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
    /// The typed profile of read values (which hold every defaulted key; a value out of its
    /// part's range is the only failure).
    pub(super) fn new(profile: &Values) -> Result<TargetProfile, String> {
        let r = Reader(profile);
        let pair = |prefix: &str| -> Result<Option<IdPair>, String> {
            Ok(
                match (
                    r.opt_u32(&format!("{prefix}.tx_id"))?,
                    r.opt_u32(&format!("{prefix}.rx_id"))?,
                ) {
                    (Some(tx_id), Some(rx_id)) => Some(IdPair { tx_id, rx_id }),
                    _ => None,
                },
            )
        };
        let entity = r.u16("entity_address")?;
        Ok(TargetProfile {
            name: r.text("name")?,
            simulator: r.opt_text("simulator")?,
            protocol_version: r.u8("protocol_version")?,
            addresses: Addresses {
                entity,
                tester: r.u16("tester_address")?,
                second_tester: r.u16("second_tester_address")?,
                third_tester: r.u16("third_tester_address")?,
                functional: r.u16("functional_address")?,
                unknown: r.u16("unknown_address")?,
                ecus: r.u16_list("ecu_addresses")?,
                gateway: GatewayAddresses {
                    ecu: r.opt_u16("gateway.ecu_address")?,
                    unreachable: r.opt_u16("gateway.unreachable_address")?,
                    overflow: r.opt_u16("gateway.overflow_address")?,
                },
            },
            ports: Ports {
                tcp: r.u16("ports.tcp")?,
                udp: r.u16("ports.udp")?,
                tls: r.u16("ports.tls")?,
            },
            identity: Identification {
                vin: r.text("vin")?,
                eid: r.array6("eid")?,
                gid: r.array6("gid")?,
                node_type: r.text("node_type")?,
                max_sockets: r.u8("max_sockets")?,
                max_data_size: r.opt_u32("max_data_size")?,
                power_mode: r.text("power_mode")?,
                further_action: r.u8("further_action")?,
            },
            activation: Activation {
                types: r
                    .ints("activation_types")?
                    .into_iter()
                    .map(|v| narrow(v, "activation_types"))
                    .collect::<Result<_, _>>()?,
                authentication_type: r.opt_u8("activation.authentication_type")?,
                authentication_oem: r.opt_u32("activation.authentication_oem")?,
                confirmation_type: r.opt_u8("activation.confirmation_type")?,
                rejected_confirmation_type: r.opt_u8("activation.rejected_confirmation_type")?,
            },
            timers: DoipTimers {
                a_doip_ctrl: r.duration("timing.a_doip_ctrl")?,
                a_processing_time: r.duration("timing.a_processing_time")?,
                a_doip_diagnostic_message: r.duration("timing.a_doip_diagnostic_message")?,
                a_doip_announce_wait: r.duration("timing.a_doip_announce_wait")?,
                a_doip_announce_interval: r.duration("timing.a_doip_announce_interval")?,
                a_doip_announce_num: r.u8("timing.a_doip_announce_num")?,
                a_vehicle_discovery_timer: r.duration("timing.a_vehicle_discovery_timer")?,
                t_tcp_initial_inactivity: r.duration("timing.t_tcp_initial_inactivity")?,
                t_tcp_general_inactivity: r.duration("timing.t_tcp_general_inactivity")?,
                t_tcp_alive_check: r.duration("timing.t_tcp_alive_check")?,
                tolerance: r.duration("timing.tolerance")?,
            },
            recording: RecordLimits {
                frames: r.u32("recording.max_frames")?,
                bytes: r.int("recording.max_bytes")?,
            },
            uds: UdsProfile {
                target_address: r.opt_u16("uds.target_address")?.unwrap_or(entity),
                did: r.u16("uds.did")?,
                did_value: r.bytes("uds.did_value")?,
                p2: r.duration("uds.p2")?,
                p2_star: r.duration("uds.p2_star")?,
                max_request_length: r.opt_u32("uds.max_request_length")?,
            },
            can: CanProfile {
                fd: r.flag("can.fd")?,
                gap_tolerance: r.duration("can.gap_tolerance")?,
            },
            isotp: IsoTpProfile {
                tx_id: r.u32("isotp.tx_id")?,
                rx_id: r.u32("isotp.rx_id")?,
                functional_id: r.u32("isotp.functional_id")?,
                extended_ids: r.flag("isotp.extended_ids")?,
                padding: r.u8("isotp.padding")?,
                block_size: r.u8("isotp.block_size")?,
                st_min: r.u8("isotp.st_min")?,
                harness_block_size: r.u8("isotp.harness_block_size")?,
                harness_st_min: r.u8("isotp.harness_st_min")?,
                n_bs: r.duration("isotp.n_bs")?,
                n_cr: r.duration("isotp.n_cr")?,
                wft_max: r.u8("isotp.wft_max")?,
                settle_time: r.duration("isotp.settle_time")?,
                reaction_time: r.duration("isotp.reaction_time")?,
                busy: pair("isotp.busy")?,
                busy_wait_frames: r.opt_u32("isotp.busy.wait_frames")?,
                wft_overrun: pair("isotp.wft_overrun")?,
                wft_overrun_max: r.opt_u32("isotp.wft_overrun.wft_max")?,
                fd: pair("isotp.fd")?,
                extended_addressing: pair("isotp.extended_addressing")?,
                extended_target_address: r.opt_u8("isotp.extended_addressing.target_address")?,
                extended_source_address: r.opt_u8("isotp.extended_addressing.source_address")?,
                mixed_addressing: pair("isotp.mixed_addressing")?,
                mixed_address_extension: r.opt_u8("isotp.mixed_addressing.address_extension")?,
                normal_fixed: pair("isotp.normal_fixed")?,
                late_confirmation: pair("isotp.late_confirmation")?,
            },
            capabilities: r.texts("capabilities")?,
            power_cycle_command: r.opt_text("power_cycle_command")?,
            broadcast_address: r.text("network.broadcast_address")?,
        })
    }

    pub fn has_capability(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// The longest a CAN node may keep the bus busy after a case: the longest of its N_Bs,
    /// N_Cr and P2* (a sender waiting for FC, a receiver waiting for CF, a pending answer).
    pub fn can_settle_bound(&self) -> Duration {
        self.isotp.n_bs.max(self.isotp.n_cr).max(self.uds.p2_star)
    }
}

fn narrow<T: TryFrom<u64>>(v: u64, key: &str) -> Result<T, String> {
    T::try_from(v).map_err(|_| format!("profile key {key}: {v:#x} is out of range"))
}

/// Reads keys of a [`Profile`] by their declared type.
struct Reader<'a>(&'a Values);

impl Reader<'_> {
    fn value(&self, key: &str) -> Result<&Value, String> {
        self.0.get(key).ok_or_else(|| format!("the profile has no {key} (and it has no default)"))
    }
    fn int(&self, key: &str) -> Result<u64, String> {
        self.0.int(key)
    }
    fn opt_int(&self, key: &str) -> Result<Option<u64>, String> {
        match self.0.get(key) {
            None => Ok(None),
            Some(_) => self.0.int(key).map(Some),
        }
    }
    fn u8(&self, key: &str) -> Result<u8, String> {
        narrow(self.int(key)?, key)
    }
    fn u16(&self, key: &str) -> Result<u16, String> {
        narrow(self.int(key)?, key)
    }
    fn u32(&self, key: &str) -> Result<u32, String> {
        narrow(self.int(key)?, key)
    }
    fn opt_u8(&self, key: &str) -> Result<Option<u8>, String> {
        self.opt_int(key)?.map(|v| narrow(v, key)).transpose()
    }
    fn opt_u16(&self, key: &str) -> Result<Option<u16>, String> {
        self.opt_int(key)?.map(|v| narrow(v, key)).transpose()
    }
    fn opt_u32(&self, key: &str) -> Result<Option<u32>, String> {
        self.opt_int(key)?.map(|v| narrow(v, key)).transpose()
    }
    fn duration(&self, key: &str) -> Result<Duration, String> {
        self.0.duration(key)
    }
    fn flag(&self, key: &str) -> Result<bool, String> {
        match self.value(key)? {
            Value::Bool(b) => Ok(*b),
            other => Err(format!("profile key {key} is {}, not a boolean", other.type_name())),
        }
    }
    fn text(&self, key: &str) -> Result<String, String> {
        self.opt_text(key)?
            .ok_or_else(|| format!("the profile has no {key} (and it has no default)"))
    }
    fn opt_text(&self, key: &str) -> Result<Option<String>, String> {
        self.0.text(key).map(|t| t.map(str::to_owned))
    }
    fn bytes(&self, key: &str) -> Result<Vec<u8>, String> {
        match self.value(key)? {
            Value::Bytes(b) => Ok(b.clone()),
            other => Err(format!("profile key {key} is {}, not bytes", other.type_name())),
        }
    }
    fn array6(&self, key: &str) -> Result<[u8; 6], String> {
        let b = self.bytes(key)?;
        b.try_into().map_err(|b: Vec<u8>| format!("profile key {key} has {} bytes, not 6", b.len()))
    }
    fn list(&self, key: &str) -> Result<&[Value], String> {
        match self.value(key)? {
            Value::List(items) => Ok(items),
            other => Err(format!("profile key {key} is {}, not a list", other.type_name())),
        }
    }
    fn ints(&self, key: &str) -> Result<Vec<u64>, String> {
        self.list(key)?
            .iter()
            .map(|v| match v {
                Value::Int(i) => Ok(*i),
                other => Err(format!("profile key {key} holds {}", other.type_name())),
            })
            .collect()
    }
    fn u16_list(&self, key: &str) -> Result<Vec<u16>, String> {
        self.ints(key)?.into_iter().map(|v| narrow(v, key)).collect()
    }
    fn texts(&self, key: &str) -> Result<Vec<String>, String> {
        self.list(key)?
            .iter()
            .map(|v| match v {
                Value::Str(s) => Ok(s.clone()),
                other => Err(format!("profile key {key} holds {}", other.type_name())),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key with a default is typed from it: the defaults are stated once, in KEYS.
    #[test]
    fn the_defaults_type_to_the_standards_values() {
        let p = super::super::Profile::defaults().target().clone();
        assert_eq!(p.protocol_version, 0x02);
        assert_eq!(p.addresses.tester, 0x0E80);
        assert_eq!(p.addresses.entity, 0x1000);
        assert_eq!(p.uds.target_address, 0x1000, "UDS goes to the entity by default");
        assert_eq!(p.ports, Ports { tcp: 13400, udp: 13400, tls: 3496 });
        assert_eq!(p.timers.a_doip_ctrl, Duration::from_secs(2));
        assert_eq!(p.timers.t_tcp_general_inactivity, Duration::from_secs(300));
        assert_eq!(p.uds.p2_star, Duration::from_secs(5));
        assert_eq!(p.recording, RecordLimits { frames: 2000, bytes: 1_048_576 });
        assert_eq!(p.uds.did_response_length(), 20);
        assert_eq!(p.isotp.busy, None);
        assert!(p.has_capability("doip.tcp") && !p.has_capability("doip.tls"));
    }

    #[test]
    fn the_shipped_profile_types_every_part() {
        let src = include_str!("../../../suites/profile.yaml");
        let mut d = crate::suite::diag::Diagnostics::new(std::path::Path::new("profile.yaml"));
        let read =
            super::super::Profile::read(&crate::suite::yaml::parse(src).expect("yaml"), &mut d);
        assert!(d.is_empty(), "{:?}", d.list);
        let p = read.target().clone();
        assert_eq!(p.addresses.gateway.ecu, Some(0x0011));
        assert_eq!(p.addresses.ecus.len(), 10);
        assert_eq!(p.identity.eid, [0x00, 0x1A, 0x2B, 0x3C, 0x4D, 0x5E]);
        assert_eq!(p.activation.authentication_oem, Some(0xCAFE_BABE));
        assert_eq!(p.isotp.busy, Some(IdPair { tx_id: 0x7E3, rx_id: 0x7EB }));
        assert_eq!(p.isotp.busy_wait_frames, Some(2));
        assert_eq!(p.isotp.extended_target_address, Some(0x17));
        assert_eq!(p.uds.target_address, 0x0010);
        assert_eq!(p.can_settle_bound(), Duration::from_secs(5));
    }
}
