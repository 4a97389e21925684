//! Merging the JUnit files of `--shard K/N` runs into one report, as if one run had made it.
//!
//! Concatenating the files is not XML (one root element per document, XML 1.0 §2.1), so CI
//! tools either take the shard files as a set (each is a whole, valid report) or get this merge:
//! `<testsuite>`s of the same suite file (same name and `file` property) become one, with their
//! test cases in the order the inputs were given, counts summed, the earliest `timestamp` and
//! the summed `time`; `<testsuites>` gets the earliest start and the span from it to the latest
//! end of an input (shards run side by side), or the summed time when a start is missing.

use quick_junit::{Report, TestSuite};
use std::time::Duration;

/// One JUnit file to merge: where it came from (for errors) and its text.
#[derive(Debug, Clone)]
pub struct JunitInput {
    pub name: String,
    pub xml: String,
}

/// Merges shard reports. The error names the input and the element that did not parse.
pub fn merge_junit(inputs: &[JunitInput]) -> Result<Report, String> {
    let mut merged = Report::new("doipcheck");
    let mut suites: Vec<TestSuite> = Vec::new();
    let mut starts = Vec::new();
    let mut ends = Vec::new();
    let mut summed = Duration::ZERO;
    for input in inputs {
        let report = Report::deserialize_from_str(&input.xml)
            .map_err(|e| format!("{}: not a JUnit report: {e}", input.name))?;
        summed = summed.saturating_add(report.time.unwrap_or_default());
        if let Some(start) = report.timestamp {
            starts.push(start);
            if let Some(end) = report.time.and_then(|t| chrono::Duration::from_std(t).ok()) {
                ends.push(start + end);
            }
        }
        for suite in report.test_suites {
            match suites.iter_mut().find(|s| same_suite(s, &suite)) {
                Some(into) => absorb(into, suite),
                None => suites.push(suite),
            }
        }
    }
    let start = starts.iter().min().copied();
    if let Some(start) = start {
        merged.set_timestamp(start);
    }
    let span = match (start, ends.iter().max()) {
        (Some(start), Some(end)) if starts.len() == inputs.len() && ends.len() == inputs.len() => {
            (*end - start).to_std().ok()
        }
        _ => None,
    };
    merged.set_time(span.unwrap_or(summed));
    merged.add_test_suites(suites);
    Ok(merged)
}

/// The suite file a `<testsuite>` stands for: its name and its `file` property.
fn same_suite(a: &TestSuite, b: &TestSuite) -> bool {
    let file = |s: &TestSuite| {
        s.properties.iter().find(|p| p.name.as_str() == "file").map(|p| p.value.clone())
    };
    a.name == b.name && file(a) == file(b)
}

fn absorb(into: &mut TestSuite, from: TestSuite) {
    let time = match (into.time, from.time) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    };
    into.time = time;
    into.timestamp = match (into.timestamp, from.timestamp) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    into.add_test_cases(from.test_cases);
}

#[cfg(test)]
mod tests {
    use super::*;
    use quick_junit::{TestCase, TestCaseStatus};

    fn shard(start: &str, time_ms: u64, cases: &[(&str, &str, bool)]) -> JunitInput {
        let mut report = Report::new("doipcheck");
        report.set_timestamp(chrono::DateTime::parse_from_rfc3339(start).unwrap());
        report.set_time(Duration::from_millis(time_ms));
        let mut suites: Vec<TestSuite> = Vec::new();
        for (suite, case, pass) in cases {
            let status = if *pass {
                TestCaseStatus::success()
            } else {
                TestCaseStatus::non_success(quick_junit::NonSuccessKind::Failure)
            };
            let mut tc = TestCase::new(*case, status);
            tc.set_time(Duration::from_millis(10));
            let index = match suites.iter().position(|s| s.name.as_str() == *suite) {
                Some(i) => i,
                None => {
                    let mut s = TestSuite::new(*suite);
                    s.add_property(quick_junit::Property::new("file", format!("{suite}.yaml")));
                    s.set_time(Duration::ZERO);
                    s.set_timestamp(chrono::DateTime::parse_from_rfc3339(start).unwrap());
                    suites.push(s);
                    suites.len() - 1
                }
            };
            suites[index].add_test_case(tc);
            let t = suites[index].time.unwrap() + Duration::from_millis(10);
            suites[index].set_time(t);
        }
        report.add_test_suites(suites);
        JunitInput { name: format!("shard-{start}"), xml: report.to_string().unwrap() }
    }

    #[test]
    fn suites_split_across_shards_become_one_with_counts_times_and_the_earliest_start() {
        let one = shard("2026-11-22T08:00:01Z", 500, &[("a", "A-1", true), ("b", "B-1", false)]);
        let two = shard("2026-11-22T08:00:00Z", 700, &[("a", "A-2", false)]);
        let merged = merge_junit(&[one, two]).unwrap();
        assert_eq!((merged.tests, merged.failures), (3, 2));
        // Shard two ran 08:00:00.000-08:00:00.700, shard one 08:00:01.000-08:00:01.500.
        assert_eq!(merged.time, Some(Duration::from_millis(1500)));
        assert_eq!(merged.timestamp.unwrap().to_rfc3339(), "2026-11-22T08:00:00+00:00");
        let a = &merged.test_suites[0];
        let names: Vec<&str> = a.test_cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!((a.name.as_str(), names, a.tests, a.failures), ("a", vec!["A-1", "A-2"], 2, 1));
        assert_eq!(a.time, Some(Duration::from_millis(20)));
        assert_eq!(a.timestamp.unwrap().to_rfc3339(), "2026-11-22T08:00:00+00:00");
        assert_eq!(merged.test_suites.len(), 2);
    }

    #[test]
    fn a_file_that_is_not_junit_is_named_in_the_error() {
        let bad = JunitInput { name: "shard-2/junit.xml".into(), xml: "<testsuites>".into() };
        let err = merge_junit(&[bad]).unwrap_err();
        assert!(err.starts_with("shard-2/junit.xml: not a JUnit report"), "{err}");
    }
}
