//! YAML text -> validated [`SimConfig`], with the line and column of every error. Syntax and type
//! errors come from serde-saphyr (which knows the failing node's position); the cross-field rules
//! below use the positions kept by `Spanned` fields.

use super::{EcuAddressing, EcuConfig, Robustness, SimConfig, UdsConfig};
use crate::codec::isotp::TxDl;
use core::fmt;
use serde_saphyr::Location;

/// A configuration error at a position of the YAML text (1-based; 0 = position unknown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfigError {
    pub line: u64,
    pub column: u64,
    pub message: String,
    /// What to write instead (`did you mean \`logical_address\`?`).
    pub help: Option<String>,
}

impl SimConfigError {
    fn at(location: Location, message: impl Into<String>) -> Self {
        SimConfigError {
            line: location.line(),
            column: location.column(),
            message: message.into(),
            help: None,
        }
    }

    /// `file:line:col: message`, the form editors and CI logs link to.
    pub fn with_file(&self, file: &str) -> String {
        if self.line == 0 {
            format!("{file}: {}", self.message)
        } else {
            format!("{file}:{}:{}: {}", self.line, self.column, self.message)
        }
    }
}

impl fmt::Display for SimConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}:{}: {}", self.line, self.column, self.message)
        }
    }
}

impl std::error::Error for SimConfigError {}

pub(super) fn from_yaml_str(text: &str) -> Result<SimConfig, SimConfigError> {
    from_yaml_str_all(text).map_err(|mut errors| errors.swap_remove(0))
}

/// How many mistakes one file reports at most (each costs a parse of the file).
const MAX_ERRORS: usize = 32;

/// Every mistake of the file, not just the first: after each error serde-saphyr reports, the
/// entry it points at is blanked out (its line and the lines nested under it, keeping every
/// other position), and the text is read again; the entry then takes its default. A syntax
/// error, an error without a position, or the cross-field rules end the search. The errors
/// come in file order; never empty on `Err`.
pub(super) fn from_yaml_str_all(text: &str) -> Result<SimConfig, Vec<SimConfigError>> {
    // An empty document is the all-defaults configuration.
    if text.trim().is_empty()
        || text.lines().all(|l| l.trim().is_empty() || l.trim().starts_with('#'))
    {
        return Ok(SimConfig::default());
    }
    let mut errors = Vec::new();
    let mut blanked_lines: Vec<usize> = Vec::new();
    let mut current = text.to_owned();
    loop {
        match serde_saphyr::from_str::<SimConfig>(&current) {
            Ok(config) => {
                if errors.is_empty() {
                    return validate(&config).map(|()| config).map_err(|e| vec![e]);
                }
                break;
            }
            Err(e) => {
                let location = e.location().unwrap_or(Location::UNKNOWN);
                let error = explain(SimConfigError::at(
                    location,
                    first_line(&e.without_snippet().to_string()),
                ));
                let line = location.line() as usize;
                // A key whose whole block was blanked for an earlier mistake now holds
                // nothing: that is the earlier mistake's echo, not one of the file's.
                let echo = blanked_lines.contains(&(line + 1))
                    && current
                        .lines()
                        .nth(line.saturating_sub(1))
                        .is_some_and(|l| l.trim_end().ends_with(':'));
                if !echo {
                    errors.push(error);
                }
                let blanked = blank_entry(&current, line);
                blanked_lines.extend(
                    current
                        .split('\n')
                        .zip(blanked.split('\n'))
                        .enumerate()
                        .filter(|(_, (before, after))| before != after)
                        .map(|(i, _)| i + 1),
                );
                if errors.len() >= MAX_ERRORS || line == 0 || blanked == current {
                    break;
                }
                current = blanked;
            }
        }
    }
    errors.dedup();
    if errors.is_empty() {
        // Only echoes were found (cannot happen without a first mistake); keep the contract.
        errors.push(SimConfigError::at(Location::UNKNOWN, "the configuration does not read"));
    }
    errors.sort_by_key(|e| (e.line, e.column));
    Err(errors)
}

/// serde-saphyr's wording made ours: an unknown field gets the closest known name instead
/// of the list of 26, a duplicate key says so without the library's option name.
fn explain(mut error: SimConfigError) -> SimConfigError {
    if let Some(rest) = error.message.strip_prefix("unknown field `")
        && let Some((name, expected)) = rest.split_once("`, expected ")
    {
        let known: Vec<&str> = expected
            .trim_start_matches("one of ")
            .split(", ")
            .map(|k| k.trim_matches('`'))
            .collect();
        let name = name.to_owned();
        error.help = Some(match crate::notation::did_you_mean(&name, known.iter().copied()) {
            Some(best) => format!("did you mean `{best}`?"),
            None => format!("known keys here: {}", known.join(", ")),
        });
        error.message = format!("unknown key `{name}`");
    } else if let Some(max) = match error.message.as_str() {
        "invalid u8" => Some("255 (0xFF)"),
        "invalid u16" => Some("65535 (0xFFFF)"),
        "invalid u32" => Some("4294967295 (0xFFFFFFFF)"),
        _ => None,
    } {
        error.message = format!("expected an integer from 0 to {max}");
        error.help = Some("write it in decimal or hex (`0x10`)".to_owned());
    } else if error.message.contains("DuplicateKeyPolicy") || error.message.contains("duplicate") {
        let text = error.message.split(", set DuplicateKeyPolicy").next().unwrap_or("");
        error.message = text.to_owned();
        error.help = Some("a key may appear once in each map".to_owned());
    }
    error
}

/// `text` with the entry that starts on `line` (1-based) replaced by blank lines: that line
/// and every following line indented deeper (its nested block). Line numbers stay the same.
fn blank_entry(text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let Some(first) = line.checked_sub(1).filter(|i| *i < lines.len()) else {
        return text.to_owned();
    };
    let indent = |l: &str| l.len() - l.trim_start().len();
    let own = indent(lines[first]);
    let mut end = first + 1;
    while end < lines.len() {
        let l = lines[end];
        if !l.trim().is_empty() && !l.trim_start().starts_with('#') && indent(l) <= own {
            break;
        }
        end += 1;
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| if (first..end).contains(&i) { "" } else { *l })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first line of serde-saphyr's message without its ` at line L, column C` suffix (the
/// position is printed once, in front).
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message).trim();
    match line.rfind(" at line ") {
        Some(i) if line[i..].contains(", column ") => line[..i].to_string(),
        _ => line.to_string(),
    }
}

/// Rules no single field can check on its own.
fn validate(config: &SimConfig) -> Result<(), SimConfigError> {
    let entity = &config.logical_address;
    let unknown = Location::UNKNOWN;
    if !matches!(config.protocol_version, 0x01..=0x04) {
        return Err(SimConfigError::at(
            unknown,
            format!(
                "protocol_version 0x{:02X} is not a DoIP version the entity can implement (0x01-0x04)",
                config.protocol_version
            ),
        ));
    }
    if entity.value == 0x0000 || config.tester_addresses.contains(&entity.value) {
        return Err(SimConfigError::at(
            entity.referenced,
            format!(
                "logical_address 0x{:04X} is reserved or a tester address (ISO 13400-2:2019 Table 13)",
                entity.value
            ),
        ));
    }
    if config.max_tcp_sockets == 0 {
        return Err(SimConfigError::at(unknown, "max_tcp_sockets must be at least 1"));
    }
    if u32::from(config.max_connections) < u32::from(config.max_tcp_sockets) {
        return Err(SimConfigError::at(
            unknown,
            "max_connections must be at least max_tcp_sockets (each registered socket is a connection)",
        ));
    }
    if config.max_data_size < 5 {
        return Err(SimConfigError::at(
            unknown,
            "max_data_size must hold at least a diagnostic message with one byte of user data (5)",
        ));
    }
    let r = &config.robustness;
    let most = Robustness::max_oversized_diag_user_data(config.max_data_size);
    if r.oversized_diag_user_data > most {
        return Err(SimConfigError::at(
            unknown,
            format!(
                "robustness.oversized_diag_user_data {} leaves no larger diagnostic message within max_data_size {} (at most {most})",
                r.oversized_diag_user_data, config.max_data_size
            ),
        ));
    }
    if !(Robustness::MIN_ISOTP_HANG_FF_DL..=Robustness::MAX_ISOTP_HANG_FF_DL)
        .contains(&r.isotp_hang_ff_dl)
    {
        return Err(SimConfigError::at(
            unknown,
            format!(
                "robustness.isotp_hang_ff_dl {} is outside {}..={} (an FF_DL above it must exist)",
                r.isotp_hang_ff_dl,
                Robustness::MIN_ISOTP_HANG_FF_DL,
                Robustness::MAX_ISOTP_HANG_FF_DL
            ),
        ));
    }
    let mut seen_types = Vec::new();
    for a in &config.activation {
        if seen_types.contains(&a.activation_type) {
            return Err(SimConfigError::at(
                unknown,
                format!("activation type 0x{:02X} is listed twice", a.activation_type),
            ));
        }
        seen_types.push(a.activation_type);
        if a.requires_tls && config.network.tls_port.is_none() {
            return Err(SimConfigError::at(
                unknown,
                format!(
                    "activation type 0x{:02X} requires TLS but network.tls_port is not set",
                    a.activation_type
                ),
            ));
        }
    }
    validate_uds("uds", &config.uds)?;
    let mut addresses = vec![entity.value, config.functional_address];
    for ecu in &config.ecus {
        validate_ecu(ecu, &addresses, config)?;
        addresses.push(ecu.logical_address.value);
    }
    Ok(())
}

fn validate_ecu(ecu: &EcuConfig, taken: &[u16], config: &SimConfig) -> Result<(), SimConfigError> {
    let la = &ecu.logical_address;
    if taken.contains(&la.value) || config.tester_addresses.contains(&la.value) || la.value == 0 {
        return Err(SimConfigError::at(
            la.referenced,
            format!(
                "ECU `{}` logical_address 0x{:04X} is already used by the entity, the functional address, a tester or another ECU",
                ecu.name, la.value
            ),
        ));
    }
    let limit = if ecu.extended { 0x1FFF_FFFF } else { 0x7FF };
    let ids = [
        ("request_id", Some(ecu.request_id)),
        ("response_id", Some(ecu.response_id)),
        ("functional_id", ecu.functional_id),
    ];
    for (field, id) in ids.into_iter().filter_map(|(f, id)| Some((f, id?))) {
        if id > limit {
            return Err(SimConfigError::at(
                la.referenced,
                format!(
                    "ECU `{}` {field} 0x{id:X} does not fit a {} identifier",
                    ecu.name,
                    if ecu.extended { "29-bit" } else { "11-bit" }
                ),
            ));
        }
    }
    if ecu.request_id == ecu.response_id {
        return Err(SimConfigError::at(
            la.referenced,
            format!("ECU `{}` request_id and response_id must differ", ecu.name),
        ));
    }
    if ecu.functional_id.is_some_and(|f| f == ecu.request_id || f == ecu.response_id) {
        return Err(SimConfigError::at(
            la.referenced,
            format!("ECU `{}` functional_id must differ from request_id and response_id", ecu.name),
        ));
    }
    validate_ecu_isotp(ecu).map_err(|rule| {
        SimConfigError::at(la.referenced, format!("ECU `{}` isotp: {rule}", ecu.name))
    })?;
    validate_uds(&format!("ecus.{}.uds", ecu.name), &ecu.uds)
}

/// The addressing and frame format of an ECU link hang together (ISO 15765-2:2016 §10.3).
fn validate_ecu_isotp(ecu: &EcuConfig) -> Result<(), String> {
    let isotp = &ecu.isotp;
    let needs = |field: &str, value: Option<u8>, mode: &str| {
        value.map(|_| ()).ok_or_else(|| format!("{mode} addressing needs `{field}`"))
    };
    match isotp.addressing {
        EcuAddressing::Normal => {}
        EcuAddressing::Extended => {
            needs("ecu_address", isotp.ecu_address, "extended")?;
            needs("tester_address", isotp.tester_address, "extended")?;
        }
        EcuAddressing::Mixed => {
            needs("address_extension", isotp.address_extension, "mixed")?;
            if ecu.extended {
                return Err("mixed addressing is simulated with 11-bit ids only".into());
            }
        }
        EcuAddressing::NormalFixed => {
            let [_, _, ta, sa] = ecu.request_id.to_be_bytes();
            let expected = (
                0x18DA_0000 | u32::from(ta) << 8 | u32::from(sa),
                0x18DA_0000 | u32::from(sa) << 8 | u32::from(ta),
            );
            if !ecu.extended || (ecu.request_id, ecu.response_id) != expected {
                return Err(format!(
                    "normal fixed addressing needs `extended: true`, request_id 0x18DA<ECU><tester> and response_id its mirror 0x18DA<tester><ECU> (0x{:08X} / 0x{:08X} here)",
                    ecu.request_id, ecu.response_id
                ));
            }
        }
    }
    if isotp.addressing != EcuAddressing::Normal && ecu.functional_id.is_some() {
        return Err("functional_id is simulated with normal addressing only".into());
    }
    if let Some(tx_dl) = isotp.tx_dl {
        if TxDl::new(usize::from(tx_dl)).is_none() {
            return Err(format!("tx_dl {tx_dl} is not a CAN_DL (8, 12, 16, 20, 24, 32, 48, 64)"));
        }
        if tx_dl > 8 && !isotp.fd {
            return Err(format!("tx_dl {tx_dl} needs `fd: true`"));
        }
    }
    if isotp.brs && !isotp.fd {
        return Err("brs needs `fd: true`".into());
    }
    Ok(())
}

fn validate_uds(path: &str, uds: &UdsConfig) -> Result<(), SimConfigError> {
    let unknown = Location::UNKNOWN;
    for (did, value) in &uds.dids {
        if value.ascii.is_some() == value.hex.is_some() {
            return Err(SimConfigError::at(
                unknown,
                format!("{path}.dids.0x{did:04X} needs exactly one of `ascii` or `hex`"),
            ));
        }
    }
    if let Some(security) = &uds.security {
        if security.seed.0.len() != security.key_mask.0.len() || security.seed.0.is_empty() {
            return Err(SimConfigError::at(
                unknown,
                format!("{path}.security: seed and key_mask must be non-empty and of equal length"),
            ));
        }
        if let Some(level) = security.levels.iter().find(|l| *l % 2 == 0 || **l > 0x7D) {
            return Err(SimConfigError::at(
                unknown,
                format!(
                    "{path}.security.levels: 0x{level:02X} is not an odd requestSeed sub-function (0x01-0x7D, ISO 14229-1 Table 42)"
                ),
            ));
        }
    }
    if uds.max_request_length == 0 {
        return Err(SimConfigError::at(
            unknown,
            format!("{path}.max_request_length must be at least 1"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    #[test]
    fn the_shipped_example_loads() {
        let text = include_str!("../../../fixtures/sim/sim.yaml");
        let c = from_yaml_str(text).unwrap();
        assert_eq!(c.activation.len(), 5);
        assert_eq!(c.uds.services[&0x2E].pending, 2);
        assert_eq!(c.announce.seed, 24301);
    }

    #[test]
    fn robustness_thresholds_inside_their_legal_ranges_load_and_outside_are_refused() {
        let c =
            from_yaml_str("robustness: { oversized_diag_user_data: 4091, isotp_hang_ff_dl: 8 }")
                .unwrap();
        assert_eq!(
            (c.robustness.oversized_diag_user_data, c.robustness.isotp_hang_ff_dl),
            (4091, 8)
        );
        for (text, key) in [
            // MDS 4096 - 4 bytes of addresses = 4092: nothing larger would fit.
            ("robustness: { oversized_diag_user_data: 4092 }", "oversized_diag_user_data"),
            ("max_data_size: 100\nrobustness: { oversized_diag_user_data: 96 }", "oversized"),
            ("robustness: { isotp_hang_ff_dl: 7 }", "isotp_hang_ff_dl"),
            ("robustness: { isotp_hang_ff_dl: 4294967295 }", "isotp_hang_ff_dl"),
        ] {
            let e = from_yaml_str(text).unwrap_err();
            assert!(e.message.contains(key), "{text}: {e}");
        }
    }

    #[test]
    fn an_empty_document_is_the_default_entity() {
        let c = from_yaml_str("# nothing\n").unwrap();
        assert_eq!(c.protocol_version, 0x02);
        assert_eq!(c.timing.t_tcp_general_inactivity.get(), Duration::from_secs(300));
        assert_eq!(c.timing.t_tcp_initial_inactivity.get(), Duration::from_secs(2));
        assert_eq!(c.timing.t_tcp_alive_check.get(), Duration::from_millis(500));
        assert_eq!(c.timing.a_doip_announce_num, 3);
    }

    #[test]
    fn hex_integers_durations_and_dids_parse() {
        let text = "\
protocol_version: 0x03
logical_address: 0x1000
vin: ABCDEFGHJKLMNPRST
eid: '02:00:00:00:00:01'
timing:
  t_tcp_alive_check: 250ms
uds:
  dids:
    0xF190: { ascii: HELLO }
    0x1234: { hex: '01 02', writable: true }
ecus:
  - name: engine
    logical_address: 0x0011
    request_id: 0x7E0
    response_id: 0x7E8
";
        let c = from_yaml_str(text).unwrap();
        assert_eq!(c.protocol_version, 3);
        assert_eq!(c.entity_address(), 0x1000);
        assert_eq!(&c.vin.0, b"ABCDEFGHJKLMNPRST");
        assert_eq!(c.eid.0, [2, 0, 0, 0, 0, 1]);
        assert_eq!(c.timing.t_tcp_alive_check.get(), Duration::from_millis(250));
        assert_eq!(c.uds.dids[&0xF190].value(), b"HELLO");
        assert_eq!(c.uds.dids[&0x1234].value(), vec![1, 2]);
        assert_eq!(c.ecus[0].logical_address.value, 0x11);
        assert_eq!(c.ecus[0].logical_address.referenced.line(), 13);
    }

    #[test]
    fn a_bad_value_is_reported_at_its_line_and_column() {
        let e = from_yaml_str("timing:\n  t_tcp_alive_check: 500\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 22), "{e}");
        assert!(e.message.ends_with("e.g. `500ms`"), "{e}");
        assert_eq!(e.with_file("sim.yaml"), format!("sim.yaml:2:22: {}", e.message));
    }

    #[test]
    fn a_short_vin_is_reported_at_its_position() {
        let e = from_yaml_str("protocol_version: 2\nvin: ABC\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        assert!(e.message.contains("17 characters"), "{e}");
    }

    #[test]
    fn every_mistake_is_reported_with_a_suggestion() {
        let text = "logical_adress: 0x0010\nmax_tcp_sockets: two\ntiming:\n  t_tcp_alive_check: 500\nnetwork:\n  tcp_prot: 1\n";
        let errors = from_yaml_str_all(text).unwrap_err();
        let found: Vec<(u64, &str, Option<&str>)> =
            errors.iter().map(|e| (e.line, e.message.as_str(), e.help.as_deref())).collect();
        assert_eq!(found.len(), 4, "{found:?}");
        assert_eq!(
            found[0],
            (1, "unknown key `logical_adress`", Some("did you mean `logical_address`?"))
        );
        assert_eq!(found[1].1, "expected an integer from 0 to 255 (0xFF)");
        assert_eq!(found[2].0, 4, "the timer's value, not its emptied parent: {found:?}");
        assert_eq!(found[3], (6, "unknown key `tcp_prot`", Some("did you mean `tcp_port`?")));
    }

    #[test]
    fn an_unknown_key_is_an_error() {
        let e = from_yaml_str("max_sockets: 3\n").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        assert!(e.message.contains("max_sockets"), "{e}");
    }

    #[test]
    fn a_duplicate_ecu_address_points_at_the_second_ecu() {
        let text = "\
ecus:
  - { name: a, logical_address: 0x11, request_id: 0x7E0, response_id: 0x7E8 }
  - { name: b, logical_address: 0x11, request_id: 0x7E1, response_id: 0x7E9 }
";
        let e = from_yaml_str(text).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("already used"), "{e}");
    }

    #[test]
    fn an_entity_address_in_the_tester_list_is_rejected() {
        let e = from_yaml_str("logical_address: 0x0E00\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 18), "{e}");
    }

    #[test]
    fn a_did_needs_exactly_one_value() {
        let e = from_yaml_str("uds:\n  dids:\n    0x0001: { writable: true }\n").unwrap_err();
        assert!(e.message.contains("exactly one of"), "{e}");
    }

    #[test]
    fn an_even_security_level_is_rejected() {
        let e = from_yaml_str("uds:\n  security: { levels: [2], seed: '01', key_mask: '02' }\n")
            .unwrap_err();
        assert!(e.message.contains("odd requestSeed"), "{e}");
    }

    #[test]
    fn an_ecu_link_whose_addressing_or_frame_format_does_not_hang_together_is_rejected() {
        let ecu = |extra: &str| {
            format!(
                "ecus:\n  - {{ name: a, logical_address: 0x11, request_id: 0x7E0, response_id: 0x7E8, {extra} }}\n"
            )
        };
        for (extra, says) in [
            ("isotp: { addressing: extended, ecu_address: 0x11 }", "needs `tester_address`"),
            ("isotp: { addressing: mixed }", "needs `address_extension`"),
            ("isotp: { addressing: normal_fixed }", "0x18DA<ECU><tester>"),
            ("isotp: { tx_dl: 12 }", "needs `fd: true`"),
            ("isotp: { fd: true, tx_dl: 13 }", "not a CAN_DL"),
            (
                "functional_id: 0x7DF, isotp: { addressing: mixed, address_extension: 1 }",
                "normal addressing only",
            ),
        ] {
            let e = from_yaml_str(&ecu(extra)).unwrap_err();
            assert_eq!(e.line, 2, "{extra}: {e}");
            assert!(e.message.contains(says), "{extra}: {e}");
        }
        let fixed = "extended: true, request_id: 0x18DA19F1, response_id: 0x18DAF119, \
                     isotp: { addressing: normal_fixed }";
        let text = ecu(fixed).replace("request_id: 0x7E0, response_id: 0x7E8, ", "");
        from_yaml_str(&text).unwrap();
    }
}
