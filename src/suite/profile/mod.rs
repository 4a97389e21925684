//! The target profile: what the unit under test declares (docs/architecture.md#target-profile).
//!
//! A profile is a YAML file of known keys, each with a type and, where the standard gives one,
//! a default (ISO 13400-2:2019 Table 46 timings, ports 13400/3496, ISO 14229 P2/P2*). Suites read
//! it as `${profile.<path>}`; `requires:` names [`CAPABILITIES`] the profile must list.

mod addresses;
pub mod fit;
pub mod init;
mod keys;
mod typed;

pub use crate::profile::{
    Activation, Addresses, CanProfile, DoipTimers, GatewayAddresses, IdPair, Identification,
    IsoTpProfile, Ports, RecordLimits, TargetProfile, UdsProfile, timer_key,
};
pub use addresses::TESTERS;
pub use keys::{CAPABILITIES, KEYS, KeyType, ProfileKey};

use crate::suite::diag::{Diagnostics, did_you_mean};
use crate::suite::value::{Value, parse_duration, parse_hex, parse_int};
use crate::suite::yaml::{Pos, Yaml, YamlKind};
use std::collections::BTreeMap;
use std::path::Path;

/// Keys derived from `uds.did` and `uds.did_value`: the request, the answer, its length.
pub const DERIVED_UDS: [&str; 5] = [
    "uds.did_request",
    "uds.did_response",
    "uds.did_response_length",
    "uds.did_response_cf1",
    "uds.did_response_cf2",
];

/// A loaded profile: every key with its value (given or default) for `${profile.*}`, and the
/// same typed ([`TargetProfile`]), which is what code reads. Keys are spelled only in this
/// module.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    values: Values,
    target: TargetProfile,
}

/// The profile's values by dotted key; read by key only inside this module.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Values(BTreeMap<String, Value>);

impl Profile {
    /// The profile with every default and nothing else.
    pub fn defaults() -> Profile {
        let values = Values::defaults();
        let target = TargetProfile::new(&values).expect("the defaults declared in KEYS type");
        Profile { values, target }
    }

    /// Reads a profile file's tree; mistakes go to `diags`.
    pub fn read(y: &Yaml, diags: &mut Diagnostics) -> Profile {
        let mut values = Values::defaults();
        // Derived from what the file says, not from the defaults it overrides.
        values.0.remove("uds.target_address");
        let mut given = BTreeMap::new();
        walk(y, "", &mut values, &mut given, diags);
        values.derive();
        addresses::check(&values, &given, y.pos, diags);
        match TargetProfile::new(&values) {
            Ok(target) => Profile { values, target },
            Err(message) => {
                diags.error(y.pos, message, "profile");
                Profile::defaults()
            }
        }
    }

    /// A profile from YAML text (`<text>` in its diagnostics): for tests and built-in texts.
    pub fn from_yaml_str(src: &str) -> Result<Profile, Diagnostics> {
        let mut diags = Diagnostics::new(Path::new("<text>"));
        let y = crate::suite::yaml::parse(src).map_err(|e| {
            let mut d = Diagnostics::new(Path::new("<text>"));
            d.push(e.pos, e.message, String::new(), None);
            d
        })?;
        let p = Profile::read(&y, &mut diags);
        if diags.is_empty() { Ok(p) } else { Err(diags) }
    }

    /// What the profile declares, typed: what code reads.
    pub fn target(&self) -> &TargetProfile {
        &self.target
    }

    pub fn has_capability(&self, cap: &str) -> bool {
        self.target.has_capability(cap)
    }

    /// Every `${profile.*}` variable for a scope.
    pub fn scope_entries(&self) -> impl Iterator<Item = (String, Value)> + '_ {
        self.values.0.iter().map(|(k, v)| (format!("profile.{k}"), v.clone()))
    }

    /// The protocol timers a generated suite may name ([`timer_key`]), with their values.
    pub fn named_timers(&self) -> Vec<(&'static str, std::time::Duration)> {
        use timer_key::*;
        let t = &self.target;
        vec![
            (A_PROCESSING_TIME, t.timers.a_processing_time),
            (A_DOIP_DIAGNOSTIC_MESSAGE, t.timers.a_doip_diagnostic_message),
            (A_DOIP_CTRL, t.timers.a_doip_ctrl),
            (T_TCP_ALIVE_CHECK, t.timers.t_tcp_alive_check),
            (T_TCP_INITIAL_INACTIVITY, t.timers.t_tcp_initial_inactivity),
            (T_TCP_GENERAL_INACTIVITY, t.timers.t_tcp_general_inactivity),
            (P2, t.uds.p2),
            (P2_STAR, t.uds.p2_star),
        ]
    }

    /// The value at a dotted path, as `${profile.<path>}` resolves it.
    pub fn resolve(&self, path: &str) -> Option<&Value> {
        self.values.get(path)
    }
}

impl Values {
    /// Every default of [`KEYS`] and what derives from them.
    fn defaults() -> Values {
        let mut diags = Diagnostics::new(Path::new("<defaults>"));
        let mut values = Values::default();
        for k in KEYS {
            if let Some(text) = k.default {
                let y = crate::suite::yaml::parse(text).expect("default values are valid YAML");
                if let Some(v) = convert(&y, k, &mut diags) {
                    values.0.insert(k.path.to_owned(), v);
                }
            }
        }
        debug_assert!(diags.is_empty(), "{:?}", diags.list);
        values.derive();
        values
    }

    /// Sets the derived keys from the ones they derive from.
    fn derive(&mut self) {
        if let (Some(Value::Int(did)), Some(Value::Bytes(value))) =
            (self.0.get("uds.did"), self.0.get("uds.did_value"))
        {
            // ReadDataByIdentifier (ISO 14229-1 §11.2): request 22 <did>, answer 62 <did> <value>.
            let did = (*did as u16).to_be_bytes();
            let request = [&[0x22][..], &did].concat();
            let response = [&[0x62][..], &did, value].concat();
            let length = Value::Int(response.len() as u64);
            // Classic CAN (ISO 15765-2:2016 §9.6.3, §9.6.4): the FF holds bytes 0..6, each CF
            // 7 more; uds.did_value's 11..=17 bytes make the answer exactly FF + 2 CFs.
            let cf = |from: usize| {
                response.get(from..(from + 7).min(response.len())).map(<[u8]>::to_vec)
            };
            if let (Some(cf1), Some(cf2)) = (cf(6), cf(13)) {
                self.0.insert(DERIVED_UDS[3].to_owned(), Value::Bytes(cf1));
                self.0.insert(DERIVED_UDS[4].to_owned(), Value::Bytes(cf2));
            }
            self.0.insert(DERIVED_UDS[0].to_owned(), Value::Bytes(request));
            self.0.insert(DERIVED_UDS[1].to_owned(), Value::Bytes(response));
            self.0.insert(DERIVED_UDS[2].to_owned(), length);
        }
        if let Some(Value::Int(v)) = self.0.get("protocol_version") {
            let inverse = Value::Int(*v ^ 0xFF);
            self.0.insert("inverse_version".to_owned(), inverse);
        }
        if !self.0.contains_key("uds.target_address")
            && let Some(entity) = self.0.get("entity_address").cloned()
        {
            self.0.insert("uds.target_address".to_owned(), entity);
        }
    }

    /// The value at a dotted path (`timing.a_doip_ctrl`).
    pub(super) fn get(&self, path: &str) -> Option<&Value> {
        self.0.get(path)
    }

    /// A duration key, typed: the value given or the default declared in [`KEYS`] (the one
    /// place defaults live; code never repeats them).
    pub(super) fn duration(&self, path: &str) -> Result<std::time::Duration, String> {
        match self.typed(path)? {
            Value::Duration(d) => Ok(*d),
            other => Err(format!("profile key {path} is {}, not a duration", other.type_name())),
        }
    }

    /// An integer key, typed (see [`Values::duration`]).
    pub(super) fn int(&self, path: &str) -> Result<u64, String> {
        match self.typed(path)? {
            Value::Int(v) => Ok(*v),
            other => Err(format!("profile key {path} is {}, not an integer", other.type_name())),
        }
    }

    /// A text key, typed (see [`Values::duration`]); `None` when the profile leaves out a key
    /// that has no default.
    pub(super) fn text(&self, path: &str) -> Result<Option<&str>, String> {
        if !is_known_path(path) {
            return Err(format!("`{path}` is not a profile key"));
        }
        match self.get(path) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(other) => Err(format!("profile key {path} is {}, not text", other.type_name())),
        }
    }

    fn typed(&self, path: &str) -> Result<&Value, String> {
        if !is_known_path(path) {
            return Err(format!("`{path}` is not a profile key"));
        }
        self.get(path).ok_or_else(|| format!("the profile has no {path} (and it has no default)"))
    }
}

/// Whether `path` is a key of the profile (or a group of keys).
pub fn is_known_path(path: &str) -> bool {
    KEYS.iter().any(|k| k.path == path)
}

/// Reads the keys of `y` into `profile`; `given` gets where each key was written.
fn walk(
    y: &Yaml,
    prefix: &str,
    profile: &mut Values,
    given: &mut BTreeMap<String, Pos>,
    diags: &mut Diagnostics,
) {
    let YamlKind::Map(entries) = &y.kind else {
        let what = if prefix.is_empty() {
            "the profile".to_owned()
        } else {
            format!("`{}`", prefix.trim_end_matches('.'))
        };
        diags.error(
            y.pos,
            format!("{what} must be a map, found {}", y.describe()),
            "expected a map",
        );
        return;
    };
    for (k, v) in entries {
        let path = format!("{prefix}{}", k.name);
        if path == "inverse_version" {
            diags.error(
                k.pos,
                "`inverse_version` is derived from `protocol_version`; do not set it",
                "derived key",
            );
        } else if DERIVED_UDS.contains(&path.as_str()) {
            diags.error(
                k.pos,
                format!("`{path}` is derived from `uds.did` and `uds.did_value`; do not set it"),
                "derived key",
            );
        } else if let Some(spec) = KEYS.iter().find(|s| s.path == path) {
            if let Some(value) = convert(v, spec, diags) {
                if spec.path == "capabilities" {
                    check_capabilities(v, diags);
                }
                given.insert(path.clone(), v.pos);
                profile.0.insert(path, value);
            }
        } else if KEYS.iter().any(|s| s.path.starts_with(&format!("{path}."))) {
            walk(v, &format!("{path}."), profile, given, diags);
        } else {
            let siblings = sibling_names(prefix);
            let help = did_you_mean(&k.name, siblings.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| format!("known keys here: {}", siblings.join(", ")));
            diags.error_help(k.pos, format!("unknown profile key `{path}`"), "unknown key", help);
        }
    }
}

/// The mistakes that make a profile unfit for a `--target` (a real entity): capability `sim`
/// (cases that need the built-in simulator's fault switches), capability `power_cycle`
/// without the `power_cycle_command` that performs it, and the `simulator` key (the built-in
/// simulator's configuration, which a --target ignores). The profile of the built-in
/// simulator, copied for an ECU, has all three.
pub fn check_for_target(y: &Yaml, diags: &mut Diagnostics) {
    let YamlKind::Map(entries) = &y.kind else { return };
    let has_command = entries.iter().any(|(k, _)| k.name == "power_cycle_command");
    for (k, v) in entries {
        if k.name == "simulator" {
            diags.error_help(
                k.pos,
                "`simulator` configures the built-in simulator; a --target ignores it",
                "simulator only",
                "remove it from a profile for a real entity (`doipcheck profile init` writes one)",
            );
        }
        if k.name != "capabilities" {
            continue;
        }
        let YamlKind::Seq(items) = &v.kind else { continue };
        for item in items {
            match item.as_str() {
                Some("sim") => diags.error_help(
                    item.pos,
                    "capability `sim` cannot hold for a --target: it selects cases that need the built-in simulator's fault switches",
                    "simulator only",
                    "remove it (`doipcheck profile init` writes a profile for a real entity)",
                ),
                Some("power_cycle") if !has_command => diags.error_help(
                    item.pos,
                    "capability `power_cycle` needs `power_cycle_command` for a --target: the harness has no other way to restart it",
                    "no command to perform it",
                    "add `power_cycle_command: \"<shell command that restarts the unit>\"`, or remove the capability",
                ),
                _ => {}
            }
        }
    }
}

fn sibling_names(prefix: &str) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = KEYS
        .iter()
        .filter_map(|k| k.path.strip_prefix(prefix))
        .map(|rest| rest.split('.').next().unwrap_or(rest))
        .collect();
    names.dedup();
    names
}

fn check_capabilities(y: &Yaml, diags: &mut Diagnostics) {
    if let YamlKind::Seq(items) = &y.kind {
        for item in items {
            if let Some(s) = item.as_str() {
                check_capability(s, item.pos, diags);
            }
        }
    }
}

/// Reports a capability name that is not in [`CAPABILITIES`].
pub fn check_capability(name: &str, pos: Pos, diags: &mut Diagnostics) {
    if CAPABILITIES.iter().any(|(c, _)| *c == name) {
        return;
    }
    let help = did_you_mean(name, CAPABILITIES.iter().map(|(c, _)| *c))
        .map(|s| format!("did you mean `{s}`?"))
        .unwrap_or_else(|| {
            format!(
                "known capabilities: {}",
                CAPABILITIES.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
            )
        });
    diags.error_help(pos, format!("unknown capability `{name}`"), "unknown capability", help);
}

fn convert(y: &Yaml, spec: &ProfileKey, diags: &mut Diagnostics) -> Option<Value> {
    let r = convert_value(y, spec.ty);
    match r {
        Ok(v) => Some(v),
        Err(msg) => {
            diags.error(y.pos, format!("profile key `{}`: {msg}", spec.path), "wrong value");
            None
        }
    }
}

/// A profile value of type `ty` from YAML. One arm per key type.
fn convert_value(y: &Yaml, ty: KeyType) -> Result<Value, String> {
    let int = |y: &Yaml, max: u64| -> Result<u64, String> {
        let v = match &y.kind {
            YamlKind::Int(i) => u64::try_from(*i).map_err(|_| format!("{i} is negative"))?,
            YamlKind::Str(s) => parse_int(s)?,
            _ => return Err(format!("expected an integer, found {}", y.describe())),
        };
        if v > max {
            return Err(format!("{v:#x} is larger than {max:#x}"));
        }
        Ok(v)
    };
    match ty {
        KeyType::Int { max } => int(y, max).map(Value::Int),
        KeyType::Str => match &y.kind {
            YamlKind::Str(s) => Ok(Value::Str(s.clone())),
            _ => Err(format!("expected a string, found {}", y.describe())),
        },
        KeyType::Bool => match &y.kind {
            YamlKind::Bool(b) => Ok(Value::Bool(*b)),
            _ => Err(format!("expected true or false, found {}", y.describe())),
        },
        KeyType::Duration => match &y.kind {
            YamlKind::Str(s) => parse_duration(s).map(Value::Duration),
            YamlKind::Int(i) => parse_duration(&i.to_string()).map(Value::Duration),
            _ => Err(format!("expected a duration like `500ms`, found {}", y.describe())),
        },
        KeyType::Bytes { len } => match &y.kind {
            YamlKind::Str(s) => {
                let b = parse_hex(s)?;
                if b.len() != len {
                    return Err(format!("expected {len} bytes, found {}", b.len()));
                }
                Ok(Value::Bytes(b))
            }
            _ => Err(format!("expected {len} hex bytes, found {}", y.describe())),
        },
        KeyType::BytesBetween { min, max } => match &y.kind {
            YamlKind::Str(s) => {
                let b = parse_hex(s)?;
                if !(min..=max).contains(&b.len()) {
                    return Err(format!("expected {min} to {max} bytes, found {}", b.len()));
                }
                Ok(Value::Bytes(b))
            }
            _ => Err(format!("expected {min} to {max} hex bytes, found {}", y.describe())),
        },
        KeyType::Vin => match &y.kind {
            YamlKind::Str(s) if s.len() == 17 && s.is_ascii() => Ok(Value::Str(s.clone())),
            YamlKind::Str(s) => {
                Err(format!("a VIN has 17 ASCII characters, `{s}` has {}", s.chars().count()))
            }
            _ => Err(format!("expected a 17-character VIN, found {}", y.describe())),
        },
        KeyType::StrList => match &y.kind {
            YamlKind::Seq(items) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(|s| Value::Str(s.to_owned()))
                        .ok_or_else(|| format!("expected strings, found {}", i.describe()))
                })
                .collect::<Result<_, _>>()
                .map(Value::List),
            _ => Err(format!("expected a list, found {}", y.describe())),
        },
        KeyType::IntList { max } => match &y.kind {
            YamlKind::Seq(items) => items
                .iter()
                .map(|i| int(i, max).map(Value::Int))
                .collect::<Result<_, _>>()
                .map(Value::List),
            _ => Err(format!("expected a list, found {}", y.describe())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(src: &str) -> (Profile, Vec<String>) {
        let mut d = Diagnostics::new(Path::new("p.yaml"));
        let p = Profile::read(&crate::suite::yaml::parse(src).unwrap(), &mut d);
        (p, d.list.iter().map(|d| format!("{}: {}", d.pos.unwrap(), d.message)).collect())
    }

    #[test]
    fn a_simulator_profile_is_refused_for_a_target() {
        let src = "simulator: sim.yaml\ncapabilities: [doip.tcp, sim, power_cycle]\n";
        let mut d = Diagnostics::new(Path::new("p.yaml"));
        check_for_target(&crate::suite::yaml::parse(src).unwrap(), &mut d);
        let found: Vec<String> =
            d.list.iter().map(|d| format!("{}: {}", d.pos.unwrap(), d.message)).collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("1:1: `simulator`"), "{found:?}");
        assert!(found[1].starts_with("2:26: capability `sim`"), "{found:?}");
        assert!(found[2].starts_with("2:31: capability `power_cycle` needs"), "{found:?}");
        let fit = "capabilities: [doip.tcp, power_cycle]\npower_cycle_command: ./cycle.sh\n";
        let mut d = Diagnostics::new(Path::new("p.yaml"));
        check_for_target(&crate::suite::yaml::parse(fit).unwrap(), &mut d);
        assert!(d.list.is_empty(), "{:?}", d.list);
    }

    #[test]
    fn defaults_follow_the_standard() {
        let p = Profile::defaults();
        assert_eq!(
            p.values.get("timing.a_doip_ctrl"),
            Some(&Value::Duration(std::time::Duration::from_secs(2)))
        );
        assert_eq!(p.values.get("ports.tls"), Some(&Value::Int(3496)));
        assert!(p.has_capability("doip.tcp") && !p.has_capability("doip.tls"));
    }

    #[test]
    fn given_values_replace_defaults_and_mistakes_are_all_reported() {
        let (p, errors) = read(
            "tester_address: 0x0E81\ntiming:\n  t_tcp_alive_chek: 1s\n  a_doip_ctrl: 2\ncapabilities: [doip.tsl]\nvin: short\n",
        );
        assert_eq!(p.values.get("tester_address"), Some(&Value::Int(0x0E81)));
        assert_eq!(
            errors,
            [
                "3:3: unknown profile key `timing.t_tcp_alive_chek`",
                "4:16: profile key `timing.a_doip_ctrl`: duration `2` needs a unit (us, ms, s, min or h), e.g. `2ms`",
                "5:16: unknown capability `doip.tsl`",
                "6:6: profile key `vin`: a VIN has 17 ASCII characters, `short` has 5",
            ]
        );
    }

    /// UDS requests go to the entity unless the profile names an ECU behind a gateway.
    #[test]
    fn the_uds_target_address_defaults_to_the_entity_and_can_name_an_ecu() {
        let (p, errors) = read("entity_address: 0x2000\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(p.values.int("uds.target_address"), Ok(0x2000));
        let (p, errors) = read("entity_address: 0x2000\nuds:\n  target_address: 0x0E21\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(p.values.int("uds.target_address"), Ok(0x0E21));
    }

    /// The ISO-TP suites read one DID: request, answer and FF_DL follow from it.
    #[test]
    fn the_did_request_and_answer_derive_from_uds_did_and_its_value() {
        let p = Profile::defaults();
        assert_eq!(p.values.get("uds.did_request"), Some(&Value::Bytes(vec![0x22, 0xF1, 0x90])));
        assert_eq!(p.values.int("uds.did_response_length"), Ok(20));
        let (p, errors) = read(
            "uds:\n  did: 0xF18A\n  did_value: \"50 59 54 48 4F 4E 2D 49 53 4F 54 50 2D 30 31\"\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let Some(Value::Bytes(answer)) = p.values.get("uds.did_response") else { panic!("{p:?}") };
        assert_eq!(answer[..3], [0x62, 0xF1, 0x8A]);
        assert_eq!(&answer[3..], b"PYTHON-ISOTP-01");
        assert_eq!(p.values.int("uds.did_response_length"), Ok(18));
        assert_eq!(p.values.get("uds.did_response_cf1"), Some(&Value::Bytes(b"HON-ISO".to_vec())));
        assert_eq!(p.values.get("uds.did_response_cf2"), Some(&Value::Bytes(b"TP-01".to_vec())));
        let (_, errors) = read("uds:\n  did_value: \"01 02 03\"\n  did_response_length: 6\n");
        assert_eq!(
            errors,
            [
                "2:14: profile key `uds.did_value`: expected 11 to 17 bytes, found 3",
                "3:3: `uds.did_response_length` is derived from `uds.did` and `uds.did_value`; do not set it",
            ]
        );
    }
}
