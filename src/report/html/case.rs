//! One case in the HTML report: the line always shown (verdict, id, title, clause, why) and the
//! details filled in when opened (kept as a text block until then, so 10 000 cases load fast):
//! where it is written, the failing step with expected against actual, the sequence chart,
//! timing plots, notes and what the recording left out, the transcript, the capture.

use std::path::Path;

use maud::{Markup, PreEscaped, html};

use super::chart::sequence_chart;
use super::human;
use super::plot::timing_plot;
use crate::report::log::CaseLog;
use crate::report::text::{printable, transcript};
use crate::report::waivers::shown_status;
use crate::runner::event::{CaseFinished, Event, Reason};
use crate::suite::value::BytePattern;

/// The `<details>` of one case; `n` numbers it in the page (`#case=case-N` opens it).
pub fn case_section(
    n: usize,
    case: &CaseLog,
    finished: Option<&CaseFinished>,
    html_dir: &Path,
) -> Markup {
    let info = &case.info;
    let verdict = shown_status(finished);
    let text = format!(
        "{} {} {} {} {}",
        info.id,
        info.title,
        info.clause.as_deref().unwrap_or(""),
        info.suite,
        info.tags.join(" ")
    )
    .to_lowercase();
    let why = finished.and_then(|f| f.reason.as_ref()).map(|r| printable(&r.message));
    html! {
        details.case id={"case-" (n)} data-verdict=(verdict) data-suite=(printable(&info.suite))
            data-tags=(printable(&info.tags.join(" "))) data-text=(printable(&text)) {
            summary {
                span class={"v " (verdict)} { (verdict) }
                " " code { (printable(&info.id)) } " " (printable(&info.title))
                @if let Some(c) = &info.clause { " " span.muted { (printable(c)) } }
                @if let Some(f) = finished { " " span.dur { (human(f.duration)) } }
                @if let Some(why) = why { div.why { (why) } }
                @if let Some(w) = finished.and_then(|f| f.waiver.as_ref()) {
                    div.why.muted { "waived: " (printable(&w.reason)) " (accepted by " (printable(&w.accepted_by)) " until " (printable(&w.until)) ")" }
                }
            }
            // A data block, not a <template>: the parser keeps it as one string instead of
            // building its nodes, which is what keeps 10 000 cases quick to load. `</` is
            // written `<\/` so the block cannot end early (every `<` in it is markup maud
            // wrote: text from the target is escaped); the script undoes that when it fills
            // the case in.
            script.detail type="text/x-doipcheck-case" {
                (PreEscaped(details(case, finished, html_dir).into_string().replace("</", "<\\/")))
            }
        }
    }
}

fn details(case: &CaseLog, finished: Option<&CaseFinished>, html_dir: &Path) -> Markup {
    let info = &case.info;
    let frames = case.events.iter().filter(|e| matches!(e, Event::Frame(_))).count();
    let bytes: usize =
        case.events.iter().map(|e| if let Event::Frame(f) = e { f.bytes.len() } else { 0 }).sum();
    let notes: Vec<&str> = case
        .events
        .iter()
        .filter_map(|e| if let Event::Note(n) = e { Some(n.text.as_str()) } else { None })
        .collect();
    let metrics: Vec<_> = case
        .events
        .iter()
        .filter_map(|e| if let Event::Metric(m) = e { Some(m) } else { None })
        .collect();
    html! {
        div.detail {
            dl {
                dt { "suite" } dd { (printable(&info.suite)) " — " (printable(&info.suite_title)) }
                dt { "source" } dd { code { (printable(&info.suite_file.to_string_lossy())) ":" (info.line) } }
                @if !info.tags.is_empty() { dt { "tags" } dd { (printable(&info.tags.join(", "))) } }
                @if !info.requires.is_empty() { dt { "requires" } dd { (printable(&info.requires.join(", "))) } }
                @if !info.matrix.is_empty() {
                    dt { "matrix" }
                    dd { @for (k, v) in &info.matrix { code { (printable(k)) "=" (printable(v)) } " " } }
                }
                @if let Some(f) = finished {
                    @if f.attempts > 1 { dt { "attempts" } dd { (f.attempts) @if f.flaky { " (flaky)" } } }
                    @if let Some(capture) = &f.capture {
                        dt { "capture" }
                        dd { a.capture href=(relative_href(capture, html_dir)) { (printable(&capture.to_string_lossy())) } }
                    }
                }
                dt { "recorded" } dd.recorded { (frames) " frames, " (bytes) " bytes" }
            }
            @if let Some(reason) = finished.and_then(|f| f.reason.as_ref()) { (failure(reason)) }
            @if frames > 0 || finished.is_some_and(|f| f.reason.is_some()) {
                (sequence_chart(case, finished))
            }
            @for m in &metrics { (timing_plot(m)) }
            @if !notes.is_empty() {
                ul.notes { @for n in &notes { li { (printable(n)) } } }
            }
            details.transcript {
                summary { "transcript" }
                pre { (transcript(case.started_at, &case.events)) }
            }
        }
    }
}

/// The failing step: the sentence, where, each field expected against actual, and the bytes
/// with the differing ones marked.
fn failure(reason: &Reason) -> Markup {
    html! {
        div.failure {
            p { b { (printable(&reason.message)) } }
            @if let Some(step) = &reason.step {
                p.muted { "at " code { (printable(&step.location.to_string())) } " (" (printable(&step.kind)) " step " (step.index + 1) ")" }
            }
            @if !reason.fields.is_empty() {
                table.fields {
                    tr { th { "field" } th { "expected" } th { "actual" } }
                    @for f in &reason.fields {
                        tr.diff[f.expected != f.actual] {
                            td { code { (printable(&f.field)) } }
                            td { (printable(&f.expected)) }
                            td { (printable(&f.actual)) }
                        }
                    }
                }
            }
            @if reason.expected_hex.is_some() || reason.actual_bytes.is_some() {
                (hex_compare(reason.expected_hex.as_deref(), reason.actual_bytes.as_deref()))
            }
        }
    }
}

/// The expected pattern (`02 fd ?? 1? ..`) over the actual bytes, a byte marked where they
/// differ: read with the suites' own pattern rules ([`BytePattern`]: `??` any byte, `?` any
/// nibble, a trailing `..` any further bytes).
fn hex_compare(expected: Option<&str>, actual: Option<&[u8]>) -> Markup {
    const MAX: usize = 256;
    let tokens: Vec<&str> = expected.map(|e| e.split_whitespace().collect()).unwrap_or_default();
    let pattern = expected.and_then(|e| BytePattern::parse(e).ok());
    // Byte by byte only when each token is one byte of the pattern (and `..` its end); other
    // patterns are shown as written.
    let byte_tokens = tokens.len() - usize::from(tokens.last() == Some(&".."));
    let pattern = pattern.filter(|p| {
        p.bytes.len() == byte_tokens && tokens.iter().take(byte_tokens).all(|t| t.len() == 2)
    });
    let plain = pattern.is_some();
    let actual = actual.unwrap_or_default();
    let differs = |i: usize| -> bool {
        let Some(p) = &pattern else { return false };
        match (p.bytes.get(i), actual.get(i)) {
            (Some(&(v, m)), Some(&b)) => b & m != v & m,
            // Past the pattern: allowed after `..`, extra otherwise; a missing byte differs.
            (None, Some(_)) => !p.open_tail,
            (_, None) => i < p.bytes.len(),
        }
    };
    let len = tokens.len().max(actual.len());
    html! {
        table.hex {
            @if let Some(e) = expected {
                tr {
                    th { "expected" }
                    td { @if plain {
                        @for (i, t) in tokens.iter().enumerate().take(MAX) { span.diff[i < byte_tokens && differs(i)] { (t) } " " }
                    } @else { (printable(e)) } }
                }
            }
            tr {
                th { "actual" }
                td {
                    @for (i, b) in actual.iter().enumerate().take(MAX) { span.diff[differs(i)] { (format!("{b:02x}")) } " " }
                    @if len > MAX { "… (" (actual.len()) " bytes)" }
                }
            }
        }
    }
}

/// `path` as a link from the report's folder: relative when it lies under it.
fn relative_href(path: &Path, html_dir: &Path) -> String {
    let rel = path.strip_prefix(html_dir).unwrap_or(path);
    rel.to_string_lossy().replace('\\', "/").replace('#', "%23").replace('?', "%3F")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts marked as differing, expected row then actual row.
    fn marked(expected: &str, actual: &[u8]) -> Vec<String> {
        let html = hex_compare(Some(expected), Some(actual)).into_string();
        html.split("<span class=\"diff\">")
            .skip(1)
            .map(|s| s[..s.find('<').unwrap()].to_owned())
            .collect()
    }

    #[test]
    fn bytes_are_marked_where_they_differ_also_with_nibble_wildcards_and_an_open_tail() {
        // `..`: any further bytes; `1?`: any low nibble.
        assert_eq!(marked("02 fd 1? ..", &[0x02, 0xfe, 0x13, 0x99, 0x98]), ["fd", "fe"]);
        assert_eq!(marked("02 fd 1? ..", &[0x02, 0xfd, 0x23]), ["1?", "23"]);
        // Without `..` a byte past the pattern differs, and so does one missing.
        assert_eq!(marked("02 fd", &[0x02, 0xfd, 0x00]), ["00"]);
        assert_eq!(marked("02 fd ?? ..", &[0x02]), ["fd", "??"]);
    }
}
