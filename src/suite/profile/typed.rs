//! Building the typed profile ([`TargetProfile`], defined in the pure `crate::profile`) from a
//! read profile's values: the only place besides [`super::KEYS`] that names the keys.

use super::Values;
use crate::profile::*;
use crate::suite::value::Value;
use std::time::Duration;

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
