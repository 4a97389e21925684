//! `doipcheck inspect --junit FILE`: one `<testsuite>` per capture (name = the file), one
//! `<testcase>` per check of [`crate::inspect::CHECKS`] (classname = the file, name = check id
//! and what it asks), failing with the count and the first findings (packets, message, clause).
//! A capture that could not be read is one `<error>` testcase. DeclaredTimes checks are testcases only
//! when a profile declared the values.

use std::path::PathBuf;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::output::Totals;
use crate::inspect::CHECKS;
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
                for (check, asks) in CHECKS {
                    if !timing && check.starts_with("timing.") {
                        continue;
                    }
                    let status = match totals.by_check.iter().find(|(c, ..)| c == check) {
                        None => TestCaseStatus::success(),
                        Some((_, count, kept)) => {
                            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                            s.set_type("finding");
                            s.set_message(format!("{count} finding(s)"));
                            s.set_description(printable(&kept.join("\n")));
                            s
                        }
                    };
                    let mut tc = TestCase::new(format!("{check}: {asks}"), status);
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
    use crate::pcap::read::ReadStats;

    #[test]
    fn one_testcase_per_check_failing_with_its_findings() {
        let totals = Totals {
            stats: ReadStats::default(),
            isotp_messages: 0,
            can_byte_order: None,
            findings: 2,
            gzip: false,
            by_check: vec![("doip.nack_code", 2, vec!["packets 4, 5: wrong code".into()])],
        };
        let results = vec![
            (PathBuf::from("a.pcap"), Ok(totals)),
            (PathBuf::from("b.pcap"), Err("not a capture".into())),
        ];
        let xml = report(&results, false);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
        let timing = CHECKS.iter().filter(|(c, _)| c.starts_with("timing.")).count();
        assert_eq!(cases.len(), CHECKS.len() - timing + 1);
        let failures: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("failure")).collect();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].attribute("message"), Some("2 finding(s)"));
        assert!(failures[0].text().unwrap().contains("packets 4, 5"));
        assert_eq!(doc.descendants().filter(|n| n.has_tag_name("error")).count(), 1);
        assert_eq!(report(&results[..1], true).matches("<testcase").count(), CHECKS.len());
    }
}
