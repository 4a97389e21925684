//! Does the profile describe the target? Checked once before the first case, so that a run
//! whose profile is for another unit says so up front instead of failing thirty cases for
//! reasons that are not the target's: against the built-in simulator, the profile's facts
//! against the simulator's configuration; against a `--target`, the simulator-only entries
//! of the profile (the routing activation that reads the entity's logical address is
//! `cli::run`'s, through `client::Session`).
//! The findings are warnings: the run goes on (a profile may be wrong on purpose).

use crate::sim::config::SimConfig;
use crate::suite::profile::TargetProfile;

/// Where the profile and the built-in simulator's configuration disagree on what the suites
/// compare (addresses, identification, versions, socket count, the UDS facts of the ISO-TP
/// node).
pub fn simulator_mismatches(profile: &TargetProfile, config: &SimConfig) -> Vec<String> {
    let mut out = Vec::new();
    let mut compare = |what: &str, profile_says: String, sim_has: String| {
        if profile_says != sim_has {
            out.push(format!(
                "the profile's {what} is {profile_says}, the built-in simulator's is {sim_has}"
            ));
        }
    };
    compare(
        "entity_address",
        format!("0x{:04X}", profile.addresses.entity),
        format!("0x{:04X}", config.logical_address.value),
    );
    compare(
        "protocol_version",
        format!("0x{:02X}", profile.protocol_version),
        format!("0x{:02X}", config.protocol_version),
    );
    compare(
        "max_sockets",
        profile.identity.max_sockets.to_string(),
        config.max_tcp_sockets.to_string(),
    );
    compare(
        "vin",
        profile.identity.vin.clone(),
        String::from_utf8_lossy(&config.vin.0).into_owned(),
    );
    compare("eid", hex(&profile.identity.eid), hex(&config.eid.0));
    compare("gid", hex(&profile.identity.gid), hex(&config.gid.0));
    let a = &profile.addresses;
    for (what, tester) in [
        ("tester_address", a.tester),
        ("second_tester_address", a.second_tester),
        ("third_tester_address", a.third_tester),
    ] {
        if !config.tester_addresses.contains(&tester) {
            out.push(format!(
                "the profile's {what} 0x{tester:04X} is not one the built-in simulator accepts ({})",
                config
                    .tester_addresses
                    .iter()
                    .map(|t| format!("0x{t:04X}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    out.extend(isotp_node_mismatches(profile, config));
    out
}

/// The ISO-TP suites read `uds.did` of the node on `isotp.tx_id` and expect `uds.did_value`:
/// the simulator's ECU listening on that id must answer exactly that.
fn isotp_node_mismatches(profile: &TargetProfile, config: &SimConfig) -> Vec<String> {
    let (tx, did, value) = (profile.isotp.tx_id, profile.uds.did, &profile.uds.did_value);
    let Some(ecu) = config.ecus.iter().find(|e| e.request_id == tx) else {
        return vec![format!(
            "the profile's isotp.tx_id is 0x{tx:X}, and no ECU of the built-in simulator listens on it"
        )];
    };
    let Some(sim) = ecu.uds.dids.get(&did) else {
        return vec![format!(
            "the profile's uds.did is 0x{did:04X}, which the built-in simulator's ECU {} does not answer",
            ecu.name
        )];
    };
    let sim = sim.value();
    if sim == *value {
        Vec::new()
    } else {
        vec![format!(
            "the profile's uds.did_value is {}, the built-in simulator's ECU {} answers 0x{did:04X} with {}",
            hex(value),
            ecu.name,
            hex(&sim)
        )]
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

/// What in the profile cannot hold for a `--target` (the profile-file form of these checks,
/// with line and column, is `suite::profile::check_for_target`).
pub fn target_profile_warnings(profile: &TargetProfile) -> Vec<String> {
    let mut out = Vec::new();
    if profile.simulator.is_some() {
        out.push("the profile names a `simulator` configuration: it describes the built-in simulator, not this target".to_owned());
    }
    if profile.has_capability("sim") {
        out.push("the profile lists capability `sim`: its cases need the built-in simulator and fail against a --target".to_owned());
    }
    if profile.has_capability("power_cycle") && profile.power_cycle_command.is_none() {
        out.push("the profile lists capability `power_cycle` without `power_cycle_command`: the power_cycle cases cannot restart this target".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::profile::Profile;

    #[test]
    fn the_default_profile_does_not_describe_the_simulator() {
        let found = simulator_mismatches(Profile::defaults().target(), &SimConfig::default());
        assert!(found.iter().any(|m| m.contains("entity_address is 0x1000")), "{found:?}");
    }

    #[test]
    fn the_shipped_profile_describes_the_shipped_simulator() {
        let path = crate::suite::builtin::profile();
        let profile = crate::suite::load::load_profile(Some(&path)).expect("loads");
        let config = crate::runner::target::simulator_config(&profile, Some(&path)).expect("sim");
        assert_eq!(simulator_mismatches(profile.target(), &config), Vec::<String>::new());
    }

    #[test]
    fn uds_facts_that_differ_from_the_simulators_ecu_are_named() {
        let path = crate::suite::builtin::profile();
        let loaded = crate::suite::load::load_profile(Some(&path)).expect("loads");
        let config = crate::runner::target::simulator_config(&loaded, Some(&path)).expect("sim");
        let shipped = loaded.target().clone();
        let mut profile = shipped.clone();
        profile.uds.did_value = b"PYTHON-ISOTP-01".to_vec();
        let found = simulator_mismatches(&profile, &config);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("uds.did_value is 50 59 54"), "{found:?}");
        assert!(found[0].contains("ECU engine answers 0xF190 with 57 44 4F"), "{found:?}");
        profile = shipped.clone();
        profile.uds.did = 0xF18A;
        let found = simulator_mismatches(&profile, &config);
        assert_eq!(
            found,
            [
                "the profile's uds.did is 0xF18A, which the built-in simulator's ECU engine does not answer"
            ]
        );
        profile = shipped;
        profile.isotp.tx_id = 0x7D0;
        let found = simulator_mismatches(&profile, &config);
        assert_eq!(
            found,
            [
                "the profile's isotp.tx_id is 0x7D0, and no ECU of the built-in simulator listens on it"
            ]
        );
    }

    #[test]
    fn simulator_only_entries_are_named() {
        let path = crate::suite::builtin::profile();
        let profile = crate::suite::load::load_profile(Some(&path)).expect("loads");
        let found = target_profile_warnings(profile.target());
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(target_profile_warnings(Profile::defaults().target()).is_empty());
    }
}
