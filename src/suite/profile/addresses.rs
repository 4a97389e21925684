//! The load-time checks of the logical addresses a profile names (docs/protocol.md#ports-and-addresses).
//!
//! Cases use the profile's testers (`tester_address`, `second_tester_address`,
//! `third_tester_address`) and its `unknown_address` instead of inventing "another tester" or
//! "an address nobody accepts". That only means something when the addresses are what their
//! role says: testers distinct from each other and from every node, each a unicast source
//! address, and the unknown address nobody's. A profile that breaks this is refused here, at
//! load, naming the key, rather than failing a conformant entity later.

use super::Values;
use crate::suite::diag::Diagnostics;
use crate::suite::value::Value;
use crate::suite::yaml::Pos;
use std::collections::BTreeMap;

/// The tester addresses, in the order cases use them.
pub const TESTERS: [&str; 3] = ["tester_address", "second_tester_address", "third_tester_address"];

/// Keys naming a node (the entity, a functional group, ECUs behind it): never a tester, never
/// the unknown address.
const NODES: [&str; 5] = [
    "entity_address",
    "functional_address",
    "gateway.ecu_address",
    "gateway.unreachable_address",
    "gateway.overflow_address",
];

const UNKNOWN: &str = "unknown_address";
const ECUS: &str = "ecu_addresses";

/// ISO 13400-2:2019 Table 13: 0x0000 is reserved, 0xE000-0xE3FF use-case specific,
/// 0xE400-0xEFFF functional groups, 0xF000-0xFFFF reserved; none is a tester's source address.
fn is_unicast_source(address: u64) -> bool {
    (0x0001..=0xDFFF).contains(&address)
}

/// One address of the profile: the key (with an index for list entries), its value, where it
/// was written (`None`: the key's default).
struct Named {
    key: String,
    value: u64,
    pos: Option<Pos>,
}

fn named(profile: &Values, given: &BTreeMap<String, Pos>, key: &str) -> Vec<Named> {
    let pos = given.get(key).copied();
    match profile.get(key) {
        Some(Value::Int(v)) => vec![Named { key: key.to_owned(), value: *v, pos }],
        Some(Value::List(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                Value::Int(v) => Some(Named { key: format!("{key}[{i}]"), value: *v, pos }),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Reports every address of the profile that cannot play its role; `root` is where a mistake
/// made only of defaults is reported.
pub fn check(profile: &Values, given: &BTreeMap<String, Pos>, root: Pos, diags: &mut Diagnostics) {
    let testers: Vec<Named> = TESTERS.iter().flat_map(|k| named(profile, given, k)).collect();
    let mut nodes: Vec<Named> = NODES.iter().flat_map(|k| named(profile, given, k)).collect();
    nodes.extend(named(profile, given, ECUS));
    let unknown = named(profile, given, UNKNOWN);

    for t in &testers {
        if !is_unicast_source(t.value) {
            diags.error_help(
                t.pos.unwrap_or(root),
                format!(
                    "`{}` 0x{:04X} cannot be a tester's source address (ISO 13400-2:2019 Table 13)",
                    t.key, t.value
                ),
                "not a tester address",
                "tester addresses lie in 0x0001..=0xDFFF, usually 0x0E00..=0x0FFF",
            );
        }
    }
    let tester_help = |k: &str| {
        format!(
            "set `{k}` to another tester address the entity accepts (the cases with several testers use it)"
        )
    };
    for (i, later) in testers.iter().enumerate() {
        for earlier in &testers[..i] {
            clash(earlier, later, diags, root, "the testers need distinct addresses", &tester_help);
        }
        for node in &nodes {
            clash(node, later, diags, root, "a tester cannot have a node's address", &tester_help);
        }
    }
    let unknown_help = |_: &str| {
        format!(
            "set `{UNKNOWN}` to an address that no node has and the entity does not accept as a tester"
        )
    };
    for u in &unknown {
        for other in testers.iter().chain(&nodes) {
            clash(other, u, diags, root, "the unknown address must be nobody's", &unknown_help);
        }
    }
}

/// Reports `b` having `a`'s value, at `b` where it was written, else at `a` (a default cannot
/// be wrong on its own); the help names `b`, the key to set.
fn clash(
    a: &Named,
    b: &Named,
    diags: &mut Diagnostics,
    root: Pos,
    why: &str,
    help: &dyn Fn(&str) -> String,
) {
    if a.value != b.value {
        return;
    }
    let at = b.pos.or(a.pos).unwrap_or(root);
    let key = b.key.split('[').next().unwrap_or(&b.key);
    let default = if b.pos.is_none() { " (its default)" } else { "" };
    diags.error_help(
        at,
        format!("`{}` 0x{:04X}{default} is also `{}`: {why}", b.key, b.value, a.key),
        "address used twice",
        help(key),
    );
}

#[cfg(test)]
mod tests {
    use crate::suite::diag::Diagnostics;
    use crate::suite::profile::Profile;
    use std::path::Path;

    fn errors(src: &str) -> Vec<String> {
        let mut d = Diagnostics::new(Path::new("p.yaml"));
        Profile::read(&crate::suite::yaml::parse(src).unwrap(), &mut d);
        d.list
            .iter()
            .map(|d| {
                let help = d.help.as_deref().unwrap_or("");
                format!("{}: {} / {help}", d.pos.unwrap(), d.message)
            })
            .collect()
    }

    #[test]
    fn the_defaults_and_the_shipped_profile_are_consistent() {
        assert_eq!(errors("name: x\n"), Vec::<String>::new());
        let shipped = include_str!("../../../suites/profile.yaml");
        assert_eq!(errors(shipped), Vec::<String>::new());
    }

    /// The field's most common tester address is the default second tester: the profile must
    /// then name another, and the error says which key.
    #[test]
    fn a_tester_address_equal_to_a_defaulted_second_tester_names_the_key_to_set() {
        assert_eq!(
            errors("tester_address: 0x0E00\n"),
            [
                "1:17: `second_tester_address` 0x0E00 (its default) is also `tester_address`: the testers need distinct addresses / set `second_tester_address` to another tester address the entity accepts (the cases with several testers use it)"
            ]
        );
        let fixed = "tester_address: 0x0E00\nsecond_tester_address: 0x0E80\n";
        assert_eq!(errors(fixed), Vec::<String>::new());
    }

    #[test]
    fn testers_must_be_unicast_and_not_a_node() {
        assert_eq!(
            errors("third_tester_address: 0xE400\nentity_address: 0x0E80\n"),
            [
                "1:23: `third_tester_address` 0xE400 cannot be a tester's source address (ISO 13400-2:2019 Table 13) / tester addresses lie in 0x0001..=0xDFFF, usually 0x0E00..=0x0FFF",
                "2:17: `tester_address` 0x0E80 (its default) is also `entity_address`: a tester cannot have a node's address / set `tester_address` to another tester address the entity accepts (the cases with several testers use it)",
                "1:23: `third_tester_address` 0xE400 is also `functional_address`: a tester cannot have a node's address / set `third_tester_address` to another tester address the entity accepts (the cases with several testers use it)",
            ]
        );
    }

    #[test]
    fn the_unknown_address_is_nobodys() {
        assert_eq!(
            errors("ecu_addresses: [0x0011, 0x0FFF]\n"),
            [
                "1:16: `unknown_address` 0x0FFF (its default) is also `ecu_addresses[1]`: the unknown address must be nobody's / set `unknown_address` to an address that no node has and the entity does not accept as a tester"
            ]
        );
    }
}
