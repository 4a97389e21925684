//! `doipcheck inspect --junit FILE`: one `<testsuite>` per capture (name = the file), one
//! `<testcase>` per rule of [`crate::judge::RULES`] (classname = the file, name = rule id and
//! what the target must do), failing with the count and the first findings (packets, message,
//! clause), skipped as not applicable when the capture held nothing for the rule to judge.
//! A capture that could not be read is one `<error>` testcase. Rules of declared values are
//! testcases only when a profile declared them.

use std::path::PathBuf;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::output::{RuleOutcome, Totals};
use crate::report::printable;

/// The JUnit XML of an inspect run.
pub fn report(results: &[(PathBuf, Result<Totals, String>)], timing: bool) -> String {
    let mut report = Report::new("doipcheck inspect");
    for (path, result) in results {
        let file = printable(&path.display().to_string());
        let mut suite = TestSuite::new(file.clone());
        match result {
            Err(why) => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
                status.set_type("unreadable");
                status.set_message(printable(why));
                let mut tc = TestCase::new("capture readable", status);
                tc.set_classname(file.clone());
                suite.add_test_case(tc);
            }
            Ok(totals) => {
                for (rule, outcome) in totals.outcomes(timing) {
                    let status = match outcome {
                        RuleOutcome::Kept(_) => TestCaseStatus::success(),
                        RuleOutcome::NotApplicable => {
                            let mut s = TestCaseStatus::skipped();
                            s.set_message("not applicable: the capture holds nothing it judges");
                            s
                        }
                        RuleOutcome::Broken(count, kept) => {
                            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                            s.set_type("finding");
                            s.set_message(format!("{count} finding(s)"));
                            s.set_description(printable(&kept.join("\n")));
                            s
                        }
                    };
                    let mut tc =
                        TestCase::new(format!("{}: {}", rule.id, rule.requirement), status);
                    tc.set_classname(file.clone());
                    suite.add_test_case(tc);
                }
            }
        }
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::{RULES, Rule, rules};
    use crate::pcap::read::ReadStats;

    /// Every rule judged once, except `missing`.
    fn judged_all_but(missing: &Rule) -> Vec<u64> {
        RULES.iter().map(|r| u64::from(r.index != missing.index)).collect()
    }

    #[test]
    fn one_testcase_per_rule_failing_with_its_findings_skipped_when_not_applicable() {
        let totals = Totals {
            stats: ReadStats::default(),
            isotp_messages: 0,
            can_byte_order: None,
            findings: 2,
            gzip: false,
            by_rule: vec![(&rules::DOIP_NACK_CODE, 2, vec!["packets 4, 5: wrong code".into()])],
            judged: judged_all_but(&rules::ISOTP_FRAME),
        };
        let results = vec![
            (PathBuf::from("a.pcap"), Ok(totals)),
            (PathBuf::from("b.pcap"), Err("not a capture".into())),
        ];
        let xml = report(&results, false);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
        let timing = RULES.iter().filter(|r| r.needs_profile()).count();
        assert_eq!(cases.len(), RULES.len() - timing + 1);
        let failures: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("failure")).collect();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].attribute("message"), Some("2 finding(s)"));
        assert!(failures[0].text().unwrap().contains("packets 4, 5"));
        assert_eq!(doc.descendants().filter(|n| n.has_tag_name("error")).count(), 1);
        let skipped: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("skipped")).collect();
        assert_eq!(skipped.len(), 1, "only isotp.frame had nothing to judge");
        let skipped_case = skipped[0].parent().unwrap().attribute("name").unwrap();
        assert!(skipped_case.starts_with("isotp.frame:"), "{skipped_case}");
        assert_eq!(report(&results[..1], true).matches("<testcase").count(), RULES.len());
    }
}
