//! The waiver file (`--waivers FILE`) read into typed waivers: deviations a customer accepted,
//! each naming a case or a rule, with a reason, who accepted it and until when. Read like a
//! suite (every mistake at once, each with file:line:col); today's date is an argument. What a
//! run does with them is the report's (`report::waivers`).
//!
//! ```yaml
//! waivers:
//!   - case: HDR-INV-001            # a case id, glob allowed, like --case
//!     reason: closes after 600 ms; deviation D-42
//!     accepted_by: J. Doe (OEM)
//!     until: 2027-03-31            # the last day it holds
//!   - rule: "ISO 13400-2:2019 Table 19"   # every case checking this clause (glob allowed)
//!     ...
//! ```

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::case_info::CaseInfo;
use super::diag::{Diagnostic, Diagnostics};
use super::load::{LoadErrors, read_text};
use super::read::unknown;
use super::select::case_pattern_matches;
use super::yaml::{self, Pos, Yaml, YamlKind};

/// What a waiver names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaiverTarget {
    /// A case id (the expanded id of a matrix case, or the id as written), glob allowed.
    Case(String),
    /// A clause as the suites write it (`ISO 13400-2:2019 Table 19`), glob allowed.
    Rule(String),
}

/// One accepted deviation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// Where it is written, for the messages.
    pub pos: Pos,
    pub target: WaiverTarget,
    pub reason: String,
    pub accepted_by: String,
    /// The last day it holds.
    pub until: NaiveDate,
}

impl Waiver {
    /// Whether the waiver names this case (by id or by its clause).
    pub fn matches(&self, info: &CaseInfo) -> bool {
        match &self.target {
            WaiverTarget::Case(pattern) => {
                let written = info.id.split('[').next().unwrap_or(&info.id);
                case_pattern_matches(pattern, &info.id, written)
            }
            WaiverTarget::Rule(pattern) => info
                .clause
                .as_deref()
                .is_some_and(|c| case_pattern_matches(pattern, c.trim(), c.trim())),
        }
    }
}

/// A waiver file as read, with the day the run judges it on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverSet {
    pub file: PathBuf,
    pub waivers: Vec<Waiver>,
    pub today: NaiveDate,
}

/// Reads `path` (see the module doc). Errors are rendered like a suite's.
pub fn load_waivers(path: &Path, today: NaiveDate) -> Result<WaiverSet, LoadErrors> {
    let diagnostic = |pos, message: String| Diagnostic {
        file: path.to_owned(),
        pos,
        message,
        label: "here".into(),
        help: None,
    };
    let src =
        read_text(path).map_err(|e| LoadErrors::from_diagnostics(vec![diagnostic(None, e)]))?;
    read_waivers(path, &src, today).map_err(LoadErrors::from_diagnostics)
}

/// Parses the text of a waiver file named `file`: every mistake, or the waivers.
pub fn read_waivers(
    file: &Path,
    src: &str,
    today: NaiveDate,
) -> Result<WaiverSet, Vec<Diagnostic>> {
    let mut d = Diagnostics::new(file);
    let root = yaml::parse(src).map_err(|e| {
        vec![Diagnostic {
            file: file.to_owned(),
            pos: e.pos,
            message: e.message,
            label: "here".into(),
            help: None,
        }]
    })?;
    let mut waivers = Vec::new();
    let items = match &root.kind {
        YamlKind::Map(entries) => {
            for (k, _) in entries.iter().filter(|(k, _)| k.name != "waivers") {
                unknown(&mut d, k.pos, "key in a waiver file", &k.name, ["waivers"]);
            }
            match entries.iter().find(|(k, _)| k.name == "waivers") {
                Some((_, Yaml { kind: YamlKind::Seq(items), .. })) => items.as_slice(),
                Some((_, other)) => {
                    d.error(
                        other.pos,
                        format!("`waivers` must be a list, not {}", other.describe()),
                        "not a list",
                    );
                    &[]
                }
                None => {
                    d.error(root.pos, "a waiver file needs `waivers:`, a list", "no `waivers`");
                    &[]
                }
            }
        }
        _ => {
            d.error(
                root.pos,
                format!("a waiver file is a map with `waivers:`, not {}", root.describe()),
                "not a map",
            );
            &[]
        }
    };
    for item in items {
        if let Some(w) = read_waiver(item, &mut d) {
            waivers.push(w);
        }
    }
    if d.is_empty() { Ok(WaiverSet { file: file.to_owned(), waivers, today }) } else { Err(d.list) }
}

const KEYS: [&str; 5] = ["case", "rule", "reason", "accepted_by", "until"];

fn read_waiver(item: &Yaml, d: &mut Diagnostics) -> Option<Waiver> {
    let YamlKind::Map(entries) = &item.kind else {
        d.error(
            item.pos,
            format!(
                "a waiver is a map (case or rule, reason, accepted_by, until), not {}",
                item.describe()
            ),
            "not a map",
        );
        return None;
    };
    for (k, _) in entries.iter().filter(|(k, _)| !KEYS.contains(&k.name.as_str())) {
        unknown(d, k.pos, "key in a waiver", &k.name, KEYS);
    }
    let get = |name: &str| entries.iter().find(|(k, _)| k.name == name).map(|(_, v)| v);
    let text = |name: &str, d: &mut Diagnostics| -> Option<String> {
        match get(name) {
            None => {
                d.error(
                    item.pos,
                    format!("this waiver has no `{name}`"),
                    format!("`{name}` missing"),
                );
                None
            }
            Some(v) => match v.as_str().map(str::trim) {
                Some(s) if !s.is_empty() => Some(s.to_owned()),
                _ => {
                    d.error(
                        v.pos,
                        format!("`{name}` must be a text that is not empty"),
                        "not a text",
                    );
                    None
                }
            },
        }
    };
    let target = match (get("case"), get("rule")) {
        (Some(_), Some(rule)) => {
            // Both named: say so once, at the second.
            d.error(rule.pos, "a waiver names a case or a rule, not both", "second target");
            None
        }
        (Some(_), None) => text("case", d).map(WaiverTarget::Case),
        (None, Some(_)) => text("rule", d).map(WaiverTarget::Rule),
        (None, None) => {
            d.error(item.pos, "this waiver names neither a `case` nor a `rule`", "what is waived?");
            None
        }
    };
    let reason = text("reason", d);
    let accepted_by = text("accepted_by", d);
    let until = text("until", d).and_then(|s| match NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
        Ok(date) => Some(date),
        Err(_) => {
            let pos = get("until").map_or(item.pos, |v| v.pos);
            d.error_help(
                pos,
                format!("`until: {s}` is not a date"),
                "not YYYY-MM-DD",
                "write the last day it holds, e.g. 2027-03-31",
            );
            None
        }
    });
    Some(Waiver {
        pos: item.pos,
        target: target?,
        reason: reason?,
        accepted_by: accepted_by?,
        until: until?,
    })
}
