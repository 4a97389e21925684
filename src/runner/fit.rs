//! Does the profile describe the target? Checked once before the first case, so that a run
//! whose profile is for another unit says so up front instead of failing thirty cases for
//! reasons that are not the target's: against the built-in simulator, the profile's facts
//! against the simulator's configuration; against a `--target`, the simulator-only entries
//! of the profile and one routing activation that reads the entity's logical address.
//! The findings are warnings: the run goes on (a profile may be wrong on purpose).

use super::TargetEndpoints;
use crate::codec::doip::{
    ActivationType, HEADER_LEN, Message, Payload, PayloadType, ProtocolVersion,
    RoutingActivationRequest, RoutingActivationResponseCode,
};
use crate::sim::config::SimConfig;
use crate::suite::profile::Profile;
use crate::suite::value::Value;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where the profile and the built-in simulator's configuration disagree on what the suites
/// compare (addresses, identification, versions, socket count).
pub fn simulator_mismatches(profile: &Profile, config: &SimConfig) -> Vec<String> {
    let mut out = Vec::new();
    let mut compare = |key: &str, profile_says: Option<String>, sim_has: String| {
        if let Some(said) = profile_says
            && said != sim_has
        {
            out.push(format!(
                "the profile's {key} is {said}, the built-in simulator's is {sim_has}"
            ));
        }
    };
    let int = |key: &str| match profile.get(key) {
        Some(Value::Int(v)) => Some(*v),
        _ => None,
    };
    compare(
        "entity_address",
        int("entity_address").map(|v| format!("0x{v:04X}")),
        format!("0x{:04X}", config.logical_address.value),
    );
    compare(
        "protocol_version",
        int("protocol_version").map(|v| format!("0x{v:02X}")),
        format!("0x{:02X}", config.protocol_version),
    );
    compare(
        "max_sockets",
        int("max_sockets").map(|v| v.to_string()),
        config.max_tcp_sockets.to_string(),
    );
    compare(
        "vin",
        match profile.get("vin") {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        },
        String::from_utf8_lossy(&config.vin.0).into_owned(),
    );
    for (key, sim) in [("eid", config.eid.0), ("gid", config.gid.0)] {
        compare(
            key,
            match profile.get(key) {
                Some(Value::Bytes(b)) => Some(hex(b)),
                _ => None,
            },
            hex(&sim),
        );
    }
    if let Some(tester) = int("tester_address")
        && !config.tester_addresses.iter().any(|t| u64::from(*t) == tester)
    {
        out.push(format!(
            "the profile's tester_address 0x{tester:04X} is not one the built-in simulator accepts ({})",
            config
                .tester_addresses
                .iter()
                .map(|t| format!("0x{t:04X}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

/// What in the profile cannot hold for a `--target` (the profile-file form of these checks,
/// with line and column, is `suite::profile::check_for_target`).
pub fn target_profile_warnings(profile: &Profile) -> Vec<String> {
    let mut out = Vec::new();
    if profile.get("simulator").is_some() {
        out.push("the profile names a `simulator` configuration: it describes the built-in simulator, not this target".to_owned());
    }
    if profile.has_capability("sim") {
        out.push("the profile lists capability `sim`: its cases need the built-in simulator and fail against a --target".to_owned());
    }
    if profile.has_capability("power_cycle") && profile.get("power_cycle_command").is_none() {
        out.push("the profile lists capability `power_cycle` without `power_cycle_command`: the power_cycle cases cannot restart this target".to_owned());
    }
    out
}

/// One routing activation on the target's data port, with the profile's tester address and
/// first activation type: the entity's logical address must be the profile's
/// `entity_address`, and the activation must succeed. Silence or an unexpected answer is
/// reported as such (the cases will show the details).
pub async fn probe_target(
    target: &TargetEndpoints,
    profile: &Profile,
    timeout: Duration,
) -> Vec<String> {
    match tokio::time::timeout(timeout, activate(target, profile)).await {
        Ok(Ok(Some(problem))) => vec![problem],
        Ok(Ok(None)) => Vec::new(),
        Ok(Err(e)) => vec![format!("the routing activation probe failed: {e}")],
        Err(_) => vec![format!(
            "no routing activation response within {}: the profile's tester_address or activation_types may not fit this target",
            crate::suite::value::format_duration(timeout)
        )],
    }
}

/// A routing activation response is small (13 bytes with the OEM field, Table 25); anything
/// longer is not one, and is not read.
const MAX_PROBE_PAYLOAD: u32 = 64;

async fn activate(target: &TargetEndpoints, profile: &Profile) -> std::io::Result<Option<String>> {
    let int = |key: &str, default: u64| profile.int(key).unwrap_or(default);
    let tester = int("tester_address", 0x0E80) as u16;
    let entity = int("entity_address", 0x1000) as u16;
    let activation_type = match profile.get("activation_types") {
        Some(Value::List(l)) => match l.first() {
            Some(Value::Int(t)) => *t as u8,
            _ => 0,
        },
        _ => 0,
    };
    let version = ProtocolVersion::from(int("protocol_version", 0x02) as u8);
    let request = Message::new(
        version,
        Payload::RoutingActivationRequest(RoutingActivationRequest::new(
            tester,
            ActivationType::from(activation_type),
        )),
    );
    let mut stream =
        tokio::net::TcpStream::connect(std::net::SocketAddr::new(target.ip, target.tcp)).await?;
    stream.write_all(&request.to_bytes()).await?;
    let mut header = [0u8; HEADER_LEN];
    stream.read_exact(&mut header).await?;
    let payload_type = u16::from_be_bytes([header[2], header[3]]);
    let length = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    if payload_type != PayloadType::RoutingActivationResponse.raw() || length > MAX_PROBE_PAYLOAD {
        return Ok(Some(format!(
            "the target answered a routing activation request (tester 0x{tester:04X}, type 0x{activation_type:02X}) with payload type 0x{payload_type:04X}, length {length}, not a routing activation response"
        )));
    }
    let mut bytes = header.to_vec();
    bytes.resize(HEADER_LEN + length as usize, 0);
    stream.read_exact(&mut bytes[HEADER_LEN..]).await?;
    let message = match Message::parse(&bytes) {
        Ok(m) => m,
        Err(e) => {
            return Ok(Some(format!("the target's routing activation response is malformed: {e}")));
        }
    };
    let Payload::RoutingActivationResponse(response) = message.payload else {
        return Ok(None);
    };
    let mut problems = Vec::new();
    if response.entity_logical_address != entity {
        problems.push(format!(
            "the target's logical address is 0x{:04X}, the profile's entity_address 0x{entity:04X}",
            response.entity_logical_address
        ));
    }
    if response.response_code != RoutingActivationResponseCode::SuccessfullyActivated {
        problems.push(format!(
            "routing activation (tester 0x{tester:04X}, type 0x{activation_type:02X}) answered {}",
            response.response_code
        ));
    }
    Ok((!problems.is_empty()).then(|| problems.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_does_not_describe_the_simulator() {
        let found = simulator_mismatches(&Profile::defaults(), &SimConfig::default());
        assert!(found.iter().any(|m| m.contains("entity_address is 0x1000")), "{found:?}");
    }

    #[test]
    fn the_shipped_profile_describes_the_shipped_simulator() {
        let path = crate::suite::builtin::profile();
        let profile = crate::suite::load::load_profile(Some(&path)).expect("loads");
        let config = crate::runner::target::simulator_config(&profile, Some(&path)).expect("sim");
        assert_eq!(simulator_mismatches(&profile, &config), Vec::<String>::new());
    }

    #[test]
    fn simulator_only_entries_are_named() {
        let path = crate::suite::builtin::profile();
        let profile = crate::suite::load::load_profile(Some(&path)).expect("loads");
        let found = target_profile_warnings(&profile);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(target_profile_warnings(&Profile::defaults()).is_empty());
    }
}
