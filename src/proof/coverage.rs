//! The coverage page (docs/coverage.md), generated from the suites. For
//! each payload type, generic NACK code, routing activation code, diagnostic ACK/NACK code,
//! DoIP timer, simulator fault and ISO-TP catalogue item: the cases that cover it, or why
//! nothing does yet. CI checks the checked-in file is current (tests/it/coverage.rs).
//!
//! Coverage is read from what the cases do, after substituting the profile, suite vars and
//! matrix parameters: the payload types of every message sent or expected (typed, or in raw
//! hex, walking the DoIP headers), the code values an `expect` names, the
//! `${profile.timing.*}` values a step uses. ISO-TP items are covered by cases tagged with the
//! item's name in lower case (`n_timeout_bs`), since CAN steps carry no DoIP message.

//!
//! May import: `runner`, `suite`; never `cli` (cli calls it).

use crate::runner::target::known_faults;
use crate::suite::messages::{self, Codes};
use crate::suite::model::StepKind;
use crate::suite::profile::Profile;
use crate::suite::select::SelectedCase;
use crate::suite::step_args::{Matcher, MessageBody, UdpPayload};
use crate::suite::value::{Expr, Value, to_bytes, to_int};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// The ten DoIP timing parameters (ISO 13400-2:2019 Table 39), as profile keys.
const DOIP_TIMERS: &[(&str, &str)] = &[
    ("a_doip_ctrl", "A_DoIP_Ctrl"),
    ("a_doip_announce_wait", "A_DoIP_Announce_Wait"),
    ("a_doip_announce_interval", "A_DoIP_Announce_Interval"),
    ("a_doip_announce_num", "A_DoIP_Announce_Num"),
    ("a_doip_diagnostic_message", "A_DoIP_Diagnostic_Message"),
    ("t_tcp_general_inactivity", "T_TCP_General_Inactivity"),
    ("t_tcp_initial_inactivity", "T_TCP_Initial_Inactivity"),
    ("t_tcp_alive_check", "T_TCP_Alive_Check"),
    ("a_processing_time", "A_Processing_Time"),
    ("a_vehicle_discovery_timer", "A_Vehicle_Discovery_Timer"),
];

/// The ISO-TP catalogue of docs/protocol.md#n_result and #ignored-frames: N_Results and the
/// behaviours the suites must cover.
const ISOTP_ITEMS: &[&str] = &[
    "N_TIMEOUT_A",
    "N_TIMEOUT_Bs",
    "N_TIMEOUT_Cr",
    "N_WRONG_SN",
    "N_INVALID_FS",
    "N_UNEXP_PDU",
    "N_WFT_OVRN",
    "N_BUFFER_OVFLW",
    "N_ERROR",
    "FC_CTS",
    "FC_WAIT",
    "FC_OVFLW",
    "BS",
    "STmin",
    "SN_wrap",
    "SF_DL",
    "FF_DL",
    "padding",
    "CAN_FD",
    "addressing",
    "functional_addressing",
];

/// Why an item has no case yet (shown only while nothing covers it).
const KNOWN_GAPS: &[(&str, &str)] = &[
    (
        "timer a_vehicle_discovery_timer",
        "GID synchronisation between entities: the sources give only the value (5 s; one source says 500 ms; docs/protocol.md), not the procedure, and the simulator is one entity, so a case would guess the rule",
    ),
    ("diagnostic nack 0x07", "the simulator has one network"),
];

/// What one planned case touches.
#[derive(Debug, Default)]
struct Touches {
    payload_types: BTreeSet<u16>,
    generic_nack: BTreeSet<u8>,
    routing: BTreeSet<u8>,
    diagnostic_ack: BTreeSet<u8>,
    diagnostic_nack: BTreeSet<u8>,
    timers: BTreeSet<String>,
}

struct Resolver {
    scope: BTreeMap<String, Value>,
}

impl Resolver {
    fn new(profile: &Profile, case: &SelectedCase) -> Resolver {
        // A case whose scope does not resolve is a load error before this runs; should one
        // get here, its profile values still count.
        let scope = case.scope(profile).unwrap_or_else(|_| profile.scope_entries().collect());
        Resolver { scope }
    }

    fn value(&self, e: &Expr) -> Option<Value> {
        e.resolve(&self.scope).ok()
    }

    fn int(&self, e: &Expr) -> Option<u64> {
        self.value(e).and_then(|v| to_int(&v).ok())
    }

    /// A code field's value: a number or a code name.
    fn code(&self, e: &Expr, codes: Codes) -> Option<u8> {
        match self.value(e)? {
            Value::Str(s) => codes.value_of(&s),
            v => to_int(&v).ok().and_then(|n| u8::try_from(n).ok()),
        }
    }
}

/// The payload types of the DoIP messages in `bytes`, walking header after header.
fn payload_types_in(bytes: &[u8], out: &mut BTreeSet<u16>) {
    let mut rest = bytes;
    while rest.len() >= 8 {
        out.insert(u16::from_be_bytes([rest[2], rest[3]]));
        let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        match rest.get(8 + len..) {
            Some(next) => rest = next,
            None => break,
        }
    }
}

/// Payload type of a hex pattern's header (`02 FD 80 02 ?? ...`), when bytes 2-3 are literal.
fn pattern_type(text: &str) -> Option<u16> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let byte = |i: usize| tokens.get(i).and_then(|t| u8::from_str_radix(t, 16).ok());
    Some(u16::from_be_bytes([byte(2)?, byte(3)?]))
}

fn touches(profile: &Profile, case: &SelectedCase) -> Touches {
    let r = Resolver::new(profile, case);
    let mut t = Touches::default();
    let c = case.case();
    let steps = case.suite.setup.iter().chain(&c.setup).chain(&c.steps).chain(&c.finally);
    let named = |t: &mut Touches, name: &str| {
        if let Some(m) = messages::message(name) {
            t.payload_types.insert(m.payload_type);
        }
    };
    for step in steps {
        for e in step.kind.exprs() {
            for v in e.vars() {
                if let Some(timer) = v.name.strip_prefix("profile.timing.") {
                    t.timers.insert(timer.to_owned());
                }
            }
        }
        match &step.kind {
            StepKind::Activate(s) => {
                t.payload_types.extend([0x0005, 0x0006]);
                let code = s
                    .response_code
                    .as_ref()
                    .and_then(|e| r.code(e, Codes::RoutingActivationResponse))
                    .unwrap_or(0x10);
                t.routing.insert(code);
            }
            StepKind::Send(s) => {
                let (message, overrides) = (&s.message, &s.overrides);
                match overrides.payload_type.as_ref().and_then(|e| r.int(e)) {
                    Some(pt) => {
                        t.payload_types.insert(pt as u16);
                    }
                    None => named(&mut t, &message.name),
                }
            }
            StepKind::UdpSend(s) => match &s.payload {
                UdpPayload::Message(m) => {
                    match s.overrides.payload_type.as_ref().and_then(|e| r.int(e)) {
                        Some(pt) => {
                            t.payload_types.insert(pt as u16);
                        }
                        None => named(&mut t, &m.name),
                    }
                }
                UdpPayload::Hex(h) => {
                    if let Some(b) = r.value(h).and_then(|v| to_bytes(&v).ok()) {
                        payload_types_in(&b, &mut t.payload_types);
                    }
                }
            },
            StepKind::SendRaw(s) => {
                if let Some(b) = r.value(&s.hex).and_then(|v| to_bytes(&v).ok()) {
                    payload_types_in(&b, &mut t.payload_types);
                }
            }
            StepKind::Expect(s) => expected(&r, &mut t, &s.message),
            StepKind::UdpExpect(s) => match &s.payload {
                UdpPayload::Message(m) => expected(&r, &mut t, m),
                UdpPayload::Hex(h) => {
                    if let Some(pt) = r.value(h).and_then(|v| pattern_type(&v.to_string())) {
                        t.payload_types.insert(pt);
                    }
                }
            },
            StepKind::ExpectRaw(s) => {
                if let Some(pt) = r.value(&s.hex).and_then(|v| pattern_type(&v.to_string())) {
                    t.payload_types.insert(pt);
                }
            }
            _ => {}
        }
    }
    t
}

/// An `expect` of a typed message: its type and the codes it names.
fn expected(r: &Resolver, t: &mut Touches, m: &MessageBody<Matcher>) {
    let Some(spec) = messages::message(&m.name) else { return };
    t.payload_types.insert(spec.payload_type);
    for (field, _, matcher) in &m.fields {
        let Some(codes) = spec.field(field).and_then(|f| f.codes) else { continue };
        let set = match codes {
            Codes::GenericNack => &mut t.generic_nack,
            Codes::RoutingActivationResponse => &mut t.routing,
            Codes::DiagnosticAck => &mut t.diagnostic_ack,
            Codes::DiagnosticNack => &mut t.diagnostic_nack,
            _ => continue,
        };
        let values: Vec<&Expr> = match matcher {
            Matcher::Exact(e) => vec![e],
            Matcher::OneOf(v) => v.iter().collect(),
            _ => Vec::new(),
        };
        set.extend(values.into_iter().filter_map(|e| r.code(e, codes)));
    }
}

/// Case ids grouped by their written id: `HDR-UNK-001 (18)` for a matrix family.
fn case_list(ids: &[&SelectedCase]) -> String {
    let mut groups: Vec<(String, usize)> = Vec::new();
    for p in ids {
        let base = p.case().id.clone();
        match groups.last_mut() {
            Some((b, n)) if *b == base => *n += 1,
            _ => groups.push((base, 1)),
        }
    }
    groups
        .iter()
        .map(|(b, n)| if *n > 1 { format!("{b} ({n})") } else { b.clone() })
        .collect::<Vec<_>>()
        .join(", ")
}

fn gap(key: &str) -> &'static str {
    KNOWN_GAPS.iter().find(|(k, _)| *k == key).map_or("no case yet", |(_, why)| why)
}

/// One table: item, cases covering it (or the gap).
fn table(
    s: &mut String,
    heading: &str,
    rows: Vec<(String, String, Vec<&SelectedCase>)>,
    gap_of: impl Fn(&str) -> &'static str,
) {
    let covered = rows.iter().filter(|(_, _, c)| !c.is_empty()).count();
    let _ = writeln!(s, "## {heading} ({covered}/{} covered)\n", rows.len());
    let _ = writeln!(s, "| item | cases | count |");
    let _ = writeln!(s, "|---|---|---|");
    for (key, label, cases) in &rows {
        if cases.is_empty() {
            let _ = writeln!(s, "| {label} | **not covered**: {} | 0 |", gap_of(key));
        } else {
            let _ = writeln!(s, "| {label} | {} | {} |", case_list(cases), cases.len());
        }
    }
    s.push('\n');
}

/// docs/coverage.md for `plan`.
pub fn generate(plan: &[SelectedCase], profile: &Profile) -> String {
    let touched: Vec<Touches> = plan.iter().map(|p| touches(profile, p)).collect();
    let runnable: Vec<usize> = (0..plan.len()).filter(|&i| plan[i].skip.is_none()).collect();
    let pick = |f: &dyn Fn(&Touches, &SelectedCase) -> bool| -> Vec<&SelectedCase> {
        runnable.iter().filter(|&&i| f(&touched[i], &plan[i])).map(|&i| &plan[i]).collect()
    };
    let is_isotp = |p: &SelectedCase| p.suite.file.components().any(|c| c.as_os_str() == "isotp");
    let doip = runnable.iter().filter(|&&i| !is_isotp(&plan[i])).count();
    let mut s = String::new();
    s.push_str(
        "# Coverage of the shipped suites\n\n\
         Generated by `doipcheck coverage -o docs/coverage.md` from suites/ and the simulator's\n\
         profile; do not edit by hand (CI checks it is current). A case covers a payload type it\n\
         sends or expects, a code its `expect` names, a timer whose `${profile.timing.*}` value a\n\
         step uses, a fault it lists in `detects` (proved by `doipcheck selftest`), and an ISO-TP\n\
         item it is tagged with. Counts are after matrix expansion.\n\n",
    );
    let _ = writeln!(
        s,
        "Cases: {} ({} DoIP, {} ISO-TP); {} skipped by the profile.\n",
        runnable.len(),
        doip,
        runnable.len() - doip,
        plan.len() - runnable.len()
    );
    let rows = messages::MESSAGES
        .iter()
        .map(|m| {
            let pt = m.payload_type;
            (
                format!("payload 0x{pt:04X}"),
                format!("0x{pt:04X} {}", m.name),
                pick(&|t, _| t.payload_types.contains(&pt)),
            )
        })
        .collect();
    table(&mut s, "Payload types", rows, gap);
    let reserved =
        pick(&|t, _| t.payload_types.iter().any(|pt| messages::message_for_type(*pt).is_none()));
    let _ = writeln!(
        s,
        "Reserved and VM-specific payload types (sent on purpose): {}.\n",
        case_list(&reserved)
    );
    let code_rows = |codes: Codes, key: &str, get: fn(&Touches) -> &BTreeSet<u8>| {
        codes
            .named()
            .iter()
            .map(|&(name, v)| {
                (
                    format!("{key} 0x{v:02X}"),
                    format!("0x{v:02X} {name}"),
                    pick(&|t, _| get(t).contains(&v)),
                )
            })
            .collect::<Vec<_>>()
    };
    table(
        &mut s,
        "Generic NACK codes",
        code_rows(Codes::GenericNack, "generic nack", |t| &t.generic_nack),
        gap,
    );
    table(
        &mut s,
        "Routing activation response codes",
        code_rows(Codes::RoutingActivationResponse, "routing", |t| &t.routing),
        gap,
    );
    let mut diag = code_rows(Codes::DiagnosticAck, "diagnostic ack", |t| &t.diagnostic_ack);
    diag.extend(code_rows(Codes::DiagnosticNack, "diagnostic nack", |t| &t.diagnostic_nack));
    table(&mut s, "Diagnostic message ACK and NACK codes", diag, gap);
    let timer_rows = DOIP_TIMERS
        .iter()
        .map(|&(key, name)| {
            let value = profile
                .scope_entries()
                .find(|(k, _)| *k == format!("profile.timing.{key}"))
                .map(|(_, v)| format!(" ({v} in the profile)"))
                .unwrap_or_default();
            (format!("timer {key}"), format!("{name}{value}"), pick(&|t, _| t.timers.contains(key)))
        })
        .collect();
    table(&mut s, "DoIP timers", timer_rows, gap);
    let fault_rows = known_faults()
        .into_iter()
        .map(|f| {
            (
                format!("fault {f}"),
                format!("`{f}`"),
                pick(&|_, p| p.info.detects.iter().any(|d| d == f)),
            )
        })
        .collect();
    table(&mut s, "Simulator faults (detects)", fault_rows, gap);
    let isotp_rows = ISOTP_ITEMS
        .iter()
        .map(|&item| {
            let tag = item.to_lowercase();
            (format!("isotp {item}"), item.to_owned(), pick(&|_, p| p.info.tags.contains(&tag)))
        })
        .collect();
    table(&mut s, "ISO-TP catalogue (ISO 15765-2)", isotp_rows, gap);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_walked_one_after_another() {
        let mut out = BTreeSet::new();
        payload_types_in(
            &[2, 0xFD, 0x12, 0x34, 0, 0, 0, 2, 0, 7, 2, 0xFD, 0, 7, 0, 0, 0, 0],
            &mut out,
        );
        assert_eq!(out.into_iter().collect::<Vec<_>>(), vec![0x0007, 0x1234]);
        let mut huge = BTreeSet::new();
        payload_types_in(&[2, 0xFD, 0x80, 0x01, 0xFF, 0xFF, 0xFF, 0xFF], &mut huge);
        assert_eq!(huge.into_iter().collect::<Vec<_>>(), vec![0x8001]);
    }

    #[test]
    fn a_pattern_names_its_payload_type_when_literal() {
        assert_eq!(pattern_type("02 fd 80 02 ?? ?? .."), Some(0x8002));
        assert_eq!(pattern_type("02 fd ?? 02"), None);
        assert_eq!(pattern_type("02"), None);
    }
}
