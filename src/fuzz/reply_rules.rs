//! The fuzzers' reply checks are the judge's rules (docs/rules.md): a finding of the judge
//! over a case's traffic is the case's violation, named by the rule's id with its clause
//! ([`Oracle::Rule`]), for the DoIP fuzzer and the ISO-TP one alike, less the rules a fuzzed
//! stream cannot be held to ([`NOT_JUDGED_WHEN_FUZZING`]), which `run` and `inspect` judge on
//! the suites' traffic (docs/architecture.md#live-fuzzing).

use super::model::repro::{Oracle, ReplyViolation};
use crate::judge::{Finding, Rule, rules};

/// Rules of the judge whose findings the fuzzers do not report: what they expect depends on
/// what the judge cannot know of a fuzzed stream.
pub const NOT_JUDGED_WHEN_FUZZING: [&Rule; 6] = [
    // The entity's supported protocol versions decide between NACK 0x00 and the NACK a header
    // would otherwise get, and between an answer in the request's version and a NACK.
    &rules::DOIP_NACK_CODE,
    &rules::DOIP_REPLY_VERSION,
    // Which of several pipelined requests (functional ones too) an answer belongs to.
    &rules::DOIP_DIAGNOSTIC_ACK_ORDER,
    // The ISO-TP fuzzer sends its frames back to back (a case's burst, then the barrier's
    // TesterPresent and flow control), so the node's reaction to one frame may follow a later
    // one on the bus: which frame it reacted to, and which of several flow controls it had
    // read when it sent a consecutive frame (or gave up its transmission on an OVFLW or a
    // reserved FS, ISO 15765-2:2016 §9.6.5.1), depends on scheduling, not on the node. Each
    // frame on its own (`isotp.frame`, `isotp.defined_flow_control`) and the node's own
    // sequence numbers (`isotp.sequence`) do not. Seen against the conformant simulator
    // (`fuzz --can sim`, seed 0, case 1136): FC CTS BS 1, then an FC with a reserved FS in
    // the same burst; the simulator had not sent its CF yet, so it ignored the second FC
    // (§9.8.3), while the judge took it as ending the transmission and the CF as one
    // without a first frame (`isotp.message_order`).
    &rules::ISOTP_IGNORED_FRAME,
    &rules::ISOTP_FLOW_CONTROL,
    &rules::ISOTP_MESSAGE_ORDER,
];

/// The first of `findings` a fuzzer reports, as the case's violation: its rule id is the
/// oracle, and the detail says what the target did, with the rule's clause.
pub fn violation_in(findings: &[Finding]) -> Option<ReplyViolation> {
    let finding = findings.iter().find(|f| !NOT_JUDGED_WHEN_FUZZING.contains(&f.rule))?;
    Some(ReplyViolation {
        oracle: Oracle::Rule(finding.rule.id),
        detail: format!("{} ({})", finding.message, finding.rule.clause),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &'static Rule) -> Finding {
        Finding { rule, packets: vec![3], message: "ECU 7E8 sent ...".into() }
    }

    #[test]
    fn the_first_finding_of_a_rule_judged_when_fuzzing_is_the_violation() {
        assert_eq!(violation_in(&[]), None);
        assert_eq!(violation_in(&[finding(&rules::ISOTP_FLOW_CONTROL)]), None);
        let v = violation_in(&[
            finding(&rules::ISOTP_MESSAGE_ORDER),
            finding(&rules::ISOTP_SEQUENCE),
            finding(&rules::ISOTP_FRAME),
        ])
        .unwrap();
        assert_eq!(v.oracle, Oracle::Rule("isotp.sequence"));
        assert_eq!(v.detail, format!("ECU 7E8 sent ... ({})", rules::ISOTP_SEQUENCE.clause));
    }
}
