//! The fuzzer's grammars and settings from the typed profile: what the generators may vary
//! and what the liveness oracle waits for, each read from the profile's part that declares it
//! (docs/architecture.md#live-fuzzing). The generators themselves stay pure (`model`).

use super::live::LiveSettings;
use super::model::doip::DoipGrammar;
use super::model::isotp::IsoTpGrammar;
use crate::suite::profile::TargetProfile;
use std::net::SocketAddr;
use std::time::Duration;

/// What the DoIP generator draws from: the entity's addresses, version, activation types,
/// identification and DID. A profile without `max_data_size` keeps the generator's own bound.
pub fn doip_grammar(profile: &TargetProfile) -> DoipGrammar {
    let fallback = DoipGrammar::default();
    let a = &profile.addresses;
    let mut vin = fallback.vin;
    if profile.identity.vin.len() == vin.len() {
        vin.copy_from_slice(profile.identity.vin.as_bytes());
    }
    DoipGrammar {
        version: profile.protocol_version,
        tester_address: a.tester,
        entity_address: a.entity,
        ecu_addresses: a.ecus.clone(),
        functional_address: a.functional,
        activation_types: if profile.activation.types.is_empty() {
            fallback.activation_types
        } else {
            profile.activation.types.clone()
        },
        max_data_size: profile.identity.max_data_size.unwrap_or(fallback.max_data_size),
        vin,
        eid: profile.identity.eid,
        dids: vec![profile.uds.did],
        uds_max_request_length: profile.uds.max_request_length,
        udp: profile.has_capability("doip.udp"),
        // Set by the campaign, which knows whether the target serves TLS ([`tls_endpoint`]).
        tls_share: 0,
    }
}

/// What the ISO-TP generator draws from: the node's frame format, DID and buffer. A profile
/// without `uds.max_request_length` keeps the generator's own bound.
pub fn isotp_grammar(profile: &TargetProfile) -> IsoTpGrammar {
    let fallback = IsoTpGrammar::default();
    IsoTpGrammar {
        fd: profile.can.fd,
        padding: profile.isotp.padding,
        did: profile.uds.did,
        did_response_length: profile.uds.did_response_length(),
        max_request_length: profile
            .uds
            .max_request_length
            .map_or(fallback.max_request_length, |l| l as usize),
        functional: profile.has_capability("isotp.functional"),
    }
}

/// The TLS data port the DoIP fuzzer sends its TLS cases to: the target's (`served`), when the
/// profile has `doip.tls`, as `run` runs the suites that require it.
pub fn tls_endpoint(profile: &TargetProfile, served: Option<SocketAddr>) -> Option<SocketAddr> {
    served.filter(|_| profile.has_capability("doip.tls"))
}

/// P2 and P2* of the profile, each with its timing tolerance: how long an answer may take.
pub fn uds_deadlines(profile: &TargetProfile) -> (Duration, Duration) {
    let tolerance = profile.timers.tolerance;
    (profile.uds.p2 + tolerance, profile.uds.p2_star + tolerance)
}

/// The DoIP fuzzer's settings: the target's endpoints, the grammar's facts, the profile's
/// timers (each with its tolerance) and which probes the liveness check may use. Without a
/// TLS data port: the campaign sets [`LiveSettings::tls`] from [`tls_endpoint`].
pub fn live_settings(
    profile: &TargetProfile,
    g: &DoipGrammar,
    tcp: SocketAddr,
    udp: SocketAddr,
    batch: u64,
    monitor: Option<String>,
) -> LiveSettings {
    let (mut tester_present, mut ecus) = (Vec::new(), Vec::new());
    if profile.has_capability("uds") {
        tester_present.push(g.entity_address);
        // Every ECU the profile names, the gateway's own ECU first (probed round robin), but
        // the one it declares unreachable (routed to, no node answers).
        let gateway = &profile.addresses.gateway;
        let first = gateway.ecu.filter(|_| profile.has_capability("doip.gateway"));
        for &ecu in first.iter().chain(&profile.addresses.ecus) {
            if ecu != g.entity_address && !ecus.contains(&ecu) && Some(ecu) != gateway.unreachable {
                ecus.push(ecu);
            }
        }
    }
    let (p2, p2_star) = uds_deadlines(profile);
    LiveSettings {
        tcp,
        udp,
        tls: None,
        version: g.version,
        tester_address: g.tester_address,
        activation_type: g.activation_types.first().copied().unwrap_or(0),
        max_data_size: g.max_data_size,
        ctrl: profile.timers.a_doip_ctrl + profile.timers.tolerance,
        p2,
        p2_star,
        alive_check: profile.has_capability("doip.alive_check"),
        identification: profile.has_capability("doip.udp"),
        entity_status: profile.has_capability("doip.udp")
            && profile.has_capability("doip.entity_status"),
        tester_present,
        ecus,
        alive_check_barrier: true,
        keep_alive: (profile.timers.t_tcp_general_inactivity / 2).max(Duration::from_millis(10)),
        batch,
        monitor,
        command_bound: Duration::from_secs(60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::profile::Profile;

    /// Liveness probes the entity every check and each ECU the profile names in turn, the
    /// gateway's ECU first, each once; not the one it declares unreachable.
    #[test]
    fn every_ecu_the_profile_names_is_a_round_robin_probe() {
        let p = Profile::from_yaml_str(
            "tester_address: 0x0E80\nentity_address: 0x0010\necu_addresses: [0x0011, 0x0012, 0x0013, 0x0010]\n\
             gateway: { ecu_address: 0x0012, unreachable_address: 0x0013 }\ncapabilities: [doip.tcp, uds, doip.gateway]\n",
        )
        .map_err(|d| format!("{:?}", d.list))
        .expect("profile");
        let g = doip_grammar(p.target());
        let tcp = SocketAddr::from(([127, 0, 0, 1], 13400));
        let s = live_settings(p.target(), &g, tcp, tcp, 64, None);
        assert_eq!(s.tester_present, [0x0010]);
        assert_eq!(s.ecus, [0x0012, 0x0011]);
    }

    /// The shipped profile's facts reach the grammars: nothing is restated by the fuzzer.
    #[test]
    fn the_grammars_take_the_profiles_facts() {
        let p = Profile::from_yaml_str(
            "tester_address: 0x0E00\nsecond_tester_address: 0x0E80\nentity_address: 0x0020\n\
             max_data_size: 512\nuds:\n  did: 0xF18A\n  p2: 20ms\ntiming:\n  tolerance: 5ms\n\
             capabilities: [doip.tcp, uds]\n",
        )
        .map_err(|d| format!("{:?}", d.list))
        .expect("profile");
        let g = doip_grammar(p.target());
        assert_eq!((g.tester_address, g.entity_address, g.max_data_size), (0x0E00, 0x0020, 512));
        assert_eq!(g.dids, [0xF18A]);
        assert!(!g.udp);
        let tcp = SocketAddr::from(([127, 0, 0, 1], 13400));
        let s = live_settings(p.target(), &g, tcp, tcp, 64, None);
        assert_eq!(s.p2, Duration::from_millis(25));
        assert_eq!(s.tester_present, [0x0020]);
        assert!(s.ecus.is_empty());
        let i = isotp_grammar(p.target());
        assert_eq!((i.did, i.did_response_length), (0xF18A, 20));
    }
}
