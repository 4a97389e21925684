//! An ISO-TP finding as a suite case that `doipcheck run` replays.

use super::{CanCase, CanState, IsoTpGrammar};
use crate::fuzz::model::repro::{Oracle, Repro, finding_suite};
use crate::import::yaml::Node;
use crate::notation::hex_spaced;

/// What the CAN repro needs besides the cases.
#[derive(Debug, Clone)]
pub struct CanReproInput<'a> {
    pub number: u32,
    pub seed: u64,
    pub cases: &'a [CanCase],
    pub oracle: &'a Oracle,
    pub detail: &'a str,
    pub grammar: &'a IsoTpGrammar,
}

const TX: &str = "${profile.isotp.tx_id}";
const RX: &str = "${profile.isotp.rx_id}";
const FUNCTIONAL: &str = "${profile.isotp.functional_id}";

/// The suite file of a CAN finding: for each case its start state reached with `can_send` /
/// `can_expect`, its frames as `can_send`, then the bus left to settle and a transfer the
/// node may still hold released (FC CTS, ignored by a node that holds none, ISO 15765-2:2016
/// §9.8.3); then the oracle that failed, through the harness's ISO-TP stack.
pub fn repro_can_yaml(input: &CanReproInput<'_>) -> Repro {
    let g = input.grammar;
    let mut steps = Vec::new();
    let mut requires = vec!["isotp", "uds"];
    for case in input.cases {
        match case.state {
            CanState::Idle => {}
            CanState::MidReception => {
                steps.push(can_send(TX, &g.reception_first_frame(), false));
                steps.push(can_expect_any());
            }
            CanState::MidTransmission => {
                if let Some(request) = g.transmission_request() {
                    steps.push(can_send(TX, &request, false));
                    steps.push(can_expect_any());
                }
            }
        }
        for f in &case.frames {
            if f.functional {
                requires.push("isotp.functional");
            }
            if f.fd {
                requires.push("isotp.can_fd");
            }
            steps.push(can_send(if f.functional { FUNCTIONAL } else { TX }, &f.data, f.fd));
        }
        steps.push(Node::entry("can_settle", Node::map(Vec::<(String, Node)>::new())));
        steps.push(can_send(TX, &g.continue_to_send(), false));
        steps.push(Node::entry("can_settle", Node::map(Vec::<(String, Node)>::new())));
    }
    let symptom_from = steps.len();
    let stated = oracle_steps(input.oracle, g, &mut steps);
    let step_count = steps.len();
    requires.sort_unstable();
    requires.dedup();
    let id = format!("FUZZ-{:04}", input.number);
    let indexes: Vec<String> = input.cases.iter().take(5).map(|c| c.index.to_string()).collect();
    let title = format!(
        "{} after {} ISO-TP fuzz case(s) (seed {}, case {}{})",
        input.oracle,
        input.cases.len(),
        input.seed,
        indexes.join(", "),
        if input.cases.len() > 5 { ", ..." } else { "" }
    );
    let case = vec![
        ("id".to_string(), Node::plain(id)),
        ("title".to_string(), Node::text(title)),
        ("tags".to_string(), Node::seq([Node::plain("fuzz")])),
        ("requires".to_string(), Node::seq(requires.iter().map(|r| Node::plain(*r)))),
        ("handlers".to_string(), Node::seq([Node::plain("tolerate_response_pending")])),
        ("steps".to_string(), Node::seq(steps)),
    ];
    let first = format!(
        "Finding {:04} of `doipcheck fuzz --can --seed {}`: {}",
        input.number, input.seed, input.oracle
    );
    let yaml = finding_suite(input.number, input.detail, first, "[--can SPEC --profile P]", case);
    Repro::new(yaml, stated.then_some(symptom_from), step_count)
}

fn can_send(id: &str, data: &[u8], fd: bool) -> Node {
    let mut body = vec![
        ("id".to_string(), Node::text(id)),
        ("data".to_string(), Node::text(hex_spaced(data))),
    ];
    if fd {
        body.push(("fd".into(), Node::plain("true")));
    }
    Node::entry("can_send", Node::Map(body))
}

/// Any frame of the node within P2 (its FC or the first frame of its answer).
fn can_expect_any() -> Node {
    Node::entry(
        "can_expect",
        Node::map([("id", Node::text(RX)), ("within", Node::text("${profile.uds.p2}"))]),
    )
}

fn isotp_exchange(request: &str, answer: &str, steps: &mut Vec<Node>) {
    steps.push(Node::entry("isotp_send", Node::map([("data", Node::text(request))])));
    steps.push(Node::entry(
        "isotp_expect",
        Node::map([("data", Node::text(answer)), ("within", Node::text("${profile.uds.p2}"))]),
    ));
}

/// Appends the steps that ask `oracle`, all of them its symptom; false when no step states it.
fn oracle_steps(oracle: &Oracle, g: &IsoTpGrammar, steps: &mut Vec<Node>) -> bool {
    match oracle {
        Oracle::IsoTpTesterPresent => isotp_exchange("3E 00", "7E 00", steps),
        Oracle::IsoTpReception => {
            // A segmented request (FF + CFs) is received and answered: any answer to it.
            let mut request = vec![0x3E, 0x00];
            request.resize(g.reception_length(), 0);
            isotp_exchange(&hex_spaced(&request), "..", steps);
        }
        Oracle::IsoTpTransmission => {
            let [hi, lo] = g.did.to_be_bytes();
            isotp_exchange(&hex_spaced(&[0x22, hi, lo]), "..", steps);
        }
        // A rule of the judge: `run`'s judge of the replayed traffic finds it again, by its
        // id (`findings::confirm`). A flood or the monitor: the capture shows the traffic.
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::model::isotp::CaseFrame;

    #[test]
    fn a_repro_reaches_each_state_sends_the_frames_settles_and_asks_the_oracle() {
        let g = IsoTpGrammar::default();
        let cases = [CanCase {
            index: 41,
            state: CanState::MidTransmission,
            mutation: "ff_dl_large",
            frames: vec![CaseFrame {
                functional: false,
                fd: false,
                data: vec![0x18, 0x01, 0, 0, 0, 0, 0, 0],
            }],
        }];
        let repro = repro_can_yaml(&CanReproInput {
            number: 3,
            seed: 0,
            cases: &cases,
            oracle: &Oracle::IsoTpTesterPresent,
            detail: "no answer",
            grammar: &g,
        });
        // Reaching the state (2), the frame (1), settle, FC CTS, settle (3), then the
        // TesterPresent exchange: its two steps are the symptom.
        assert_eq!(repro.symptom_steps, Some(6..8));
        let yaml = repro.yaml;
        for needle in [
            "id: FUZZ-0003",
            "03 22 f1 90 cc cc cc cc",
            "18 01 00 00 00 00 00 00",
            "can_settle: {}",
            "30 00 00 cc cc cc cc cc",
            "isotp_send",
            "7E 00",
            "${profile.uds.p2}",
        ] {
            assert!(yaml.contains(needle), "{needle} missing from\n{yaml}");
        }
        assert!(!yaml.contains("fd: true"));
    }
}
