//! `doipcheck profile init`: a commented profile for a real entity, written from the key and
//! capability tables ([`KEYS`], [`CAPABILITIES`]) so that it documents every key and cannot
//! drift from what the reader accepts. Every value written is the key's default (the
//! standard's); keys without a default are written commented out with the kind of value they
//! take. Simulator-only entries (`simulator`, capability `sim`) are left out, and
//! `power_cycle` is offered only together with its command.

use super::DERIVED_UDS;
use super::keys::{CAPABILITIES, KEYS, KeyType, ProfileKey};

/// Keys that have no place in a profile for a real entity: the built-in simulator's
/// configuration, and keys derived from others.
const NOT_WRITTEN: &[&str] = &[
    "simulator",
    "inverse_version",
    DERIVED_UDS[0],
    DERIVED_UDS[1],
    DERIVED_UDS[2],
    DERIVED_UDS[3],
    DERIVED_UDS[4],
];

/// What the profile describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A DoIP entity (`doipcheck run --target HOST`).
    DoipEntity,
    /// A CAN node without DoIP (`doipcheck run suites/isotp --can SPEC`): an ISO-TP node with
    /// a UDS server that also takes functionally addressed single frames.
    CanNode,
}

impl Unit {
    /// Capabilities the written profile lists uncommented: what every such unit has.
    fn on_by_default(self) -> &'static [&'static str] {
        match self {
            Unit::DoipEntity => &["doip.tcp", "doip.udp"],
            Unit::CanNode => &["isotp", "isotp.functional", "uds"],
        }
    }

    fn header(self) -> (&'static str, &'static str) {
        match self {
            Unit::DoipEntity => {
                ("a DoIP entity", "`doipcheck run --target HOST --profile THIS_FILE`")
            }
            Unit::CanNode => (
                "a CAN node (ISO-TP, UDS; no DoIP)",
                "`doipcheck run suites/isotp --can SPEC --profile THIS_FILE`",
            ),
        }
    }
}

/// Comment lines are wrapped to this width.
const WIDTH: usize = 96;

/// The profile text. `version`: the tool's, for the header.
pub fn template(version: &str, unit: Unit) -> String {
    let mut out = String::new();
    let (what, how) = unit.header();
    out.push_str(&format!(
        "# Target profile for {what}, written by `doipcheck profile init` (doipcheck {version}).\n\
         # It describes the unit under test: {how}.\n\
         # Every key is optional. The values below are the defaults (ISO 13400-2:2019 timings and\n\
         # ports, ISO 14229-2 P2/P2*): change what your unit declares; keys written as comments\n\
         # have no default and select the cases that need them. docs/suite-format.md (\"Target\n\
         # profile\") documents every key; `doipcheck validate --profile THIS_FILE --target X`\n\
         # checks the file.\n"
    ));
    let keys: Vec<&ProfileKey> = KEYS.iter().filter(|k| !NOT_WRITTEN.contains(&k.path)).collect();
    let mut open: Vec<&str> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let parts: Vec<&str> = key.path.split('.').collect();
        let (groups, leaf) = parts.split_at(parts.len() - 1);
        let common = open.iter().zip(groups).take_while(|(a, b)| a == b).count();
        open.truncate(common);
        for (depth, group) in groups.iter().enumerate().skip(common) {
            let prefix = groups[..=depth].join(".");
            // A group whose keys are all commented out is commented out too: an empty map
            // would not read as one.
            let live = keys[i..]
                .iter()
                .any(|k| k.path.starts_with(&format!("{prefix}.")) && k.default.is_some());
            out.push('\n');
            let indent = "  ".repeat(depth);
            out.push_str(&format!("{indent}{}{group}:\n", if live { "" } else { "# " }));
            open.push(group);
        }
        let indent = "  ".repeat(groups.len());
        if groups.is_empty() {
            out.push('\n');
        }
        comment(&mut out, &indent, key.doc);
        if key.path == "capabilities" {
            capabilities(&mut out, &indent, unit);
            continue;
        }
        match key.default {
            Some(value) => out.push_str(&format!("{indent}{}: {value}\n", leaf[0])),
            None => out.push_str(&format!("{indent}# {}: {}\n", leaf[0], placeholder(key.ty))),
        }
    }
    out
}

fn capabilities(out: &mut String, indent: &str, unit: Unit) {
    out.push_str(&format!("{indent}capabilities:\n"));
    for (name, doc) in CAPABILITIES.iter().filter(|(c, _)| *c != "sim") {
        let on = unit.on_by_default().contains(name);
        let note = if *name == "power_cycle" { "; needs power_cycle_command" } else { "" };
        comment(out, &format!("{indent}  "), &format!("{doc}{note}."));
        out.push_str(&format!("{indent}  {}- {name}\n", if on { "" } else { "# " }));
    }
}

/// What a key without a default takes, as a hint after the commented key.
fn placeholder(ty: KeyType) -> String {
    match ty {
        KeyType::Int { max } if max <= 0xFF => "<0x00..0xFF>".into(),
        KeyType::Int { max } if max <= 0xFFFF => "<0x0000..0xFFFF>".into(),
        KeyType::Int { .. } => "<integer>".into(),
        KeyType::Str => "\"<text>\"".into(),
        KeyType::Bool => "<true|false>".into(),
        KeyType::Duration => "<duration, e.g. 500ms>".into(),
        KeyType::Bytes { len } => format!("\"<{len} hex bytes>\""),
        KeyType::BytesBetween { min, max } => format!("\"<{min} to {max} hex bytes>\""),
        KeyType::Vin => "\"<17 characters>\"".into(),
        KeyType::StrList => "[<names>]".into(),
        KeyType::IntList { .. } => "[<integers>]".into(),
    }
}

/// `doc` as `# ` lines wrapped at [`WIDTH`].
fn comment(out: &mut String, indent: &str, doc: &str) {
    let mut line = String::new();
    for word in doc.split_whitespace() {
        if !line.is_empty() && indent.len() + 2 + line.len() + 1 + word.len() > WIDTH {
            out.push_str(&format!("{indent}# {line}\n"));
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(&format!("{indent}# {line}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::diag::Diagnostics;
    use crate::suite::profile::{Profile, check_for_target};
    use std::path::Path;

    fn read(text: &str) -> (Profile, Vec<String>) {
        let tree = crate::suite::yaml::parse(text).expect("the template is YAML");
        let mut d = Diagnostics::new(Path::new("init.yaml"));
        check_for_target(&tree, &mut d);
        let profile = Profile::read(&tree, &mut d);
        (profile, d.list.iter().map(|d| d.message.clone()).collect())
    }

    /// The written profile reads without a mistake, is fit for a --target, and holds exactly
    /// the defaults.
    #[test]
    fn the_template_reads_as_the_defaults_and_fits_a_target() {
        let text = template("test", Unit::DoipEntity);
        let (profile, errors) = read(&text);
        assert!(errors.is_empty(), "{errors:?}\n{text}");
        assert_eq!(profile, Profile::defaults());
    }

    /// Every key is written (as a value or a comment) and documented; nothing simulator-only.
    #[test]
    fn the_template_names_every_key_and_capability() {
        let text = template("test", Unit::DoipEntity);
        for key in KEYS.iter().filter(|k| !NOT_WRITTEN.contains(&k.path)) {
            let leaf = key.path.rsplit('.').next().unwrap_or(key.path);
            assert!(text.contains(&format!("{leaf}:")), "key {} missing", key.path);
        }
        for (name, _) in CAPABILITIES.iter().filter(|(c, _)| *c != "sim") {
            assert!(text.contains(&format!("- {name}\n")), "capability {name} missing");
        }
        assert!(!text.contains("- sim\n") && !text.contains("simulator:"));
        assert!(text.lines().all(|l| l.len() <= WIDTH), "a line is too long");
    }

    /// Uncommenting the optional lines gives a profile the reader explains, line by line: the
    /// placeholders are not mistaken for values.
    /// The CAN node's profile: the same keys and defaults, the capabilities of an ISO-TP node
    /// with a UDS server and no DoIP.
    #[test]
    fn the_can_node_template_lists_the_node_capabilities() {
        let text = template("test", Unit::CanNode);
        let (profile, errors) = read(&text);
        assert!(errors.is_empty(), "{errors:?}");
        for cap in ["isotp", "isotp.functional", "uds"] {
            assert!(profile.has_capability(cap), "{cap}");
        }
        assert!(!profile.has_capability("doip.tcp") && !profile.has_capability("doip.udp"));
        assert_eq!(profile.target().isotp.tx_id, Profile::defaults().target().isotp.tx_id);
    }

    #[test]
    fn uncommented_placeholders_are_reported_not_taken() {
        let text =
            template("test", Unit::DoipEntity).replace("# max_data_size: ", "max_data_size: ");
        let (_, errors) = read(&text);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("max_data_size"), "{errors:?}");
    }
}
