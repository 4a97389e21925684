//! The page's first section when the run has a baseline (`run --baseline`, `report --diff`):
//! the counts of each kind of change, the cases of each (capped), every timer's drift.

use maud::{Markup, html};

use super::super::diff::{MAX_LISTED, RunDiff, timer_cells};
use super::url_part;
use crate::report::text::printable;

pub fn diff_section(d: &RunDiff) -> Markup {
    let regressed = d.new_failures() > 0;
    html! {
        section #baseline class=(if regressed { "baseline regressed" } else { "baseline" }) {
            h2 { "Since the baseline" }
            p #baseline-headline { (printable(&d.headline())) " (against " code { (printable(&d.baseline.to_string_lossy())) } ")" }
            @for (title, _, cases) in d.sections() {
                @if !cases.is_empty() {
                    details open[cases.len() <= 20] data-kind=(title) {
                        summary { b { (title) } " (" (cases.len()) ")" }
                        ul {
                            @for c in cases.iter().take(MAX_LISTED) {
                                li {
                                    a href={"#q=" (url_part(&c.id.to_lowercase()))} { code { (printable(&c.name())) } }
                                    " " (printable(&c.title)) ": " b { (c.status) }
                                }
                            }
                            @if cases.len() > MAX_LISTED { li.muted { (cases.len() - MAX_LISTED) " more" } }
                        }
                    }
                }
            }
            @if !d.timers.is_empty() {
                table.timers {
                    tr { th { "timer" } th { "median before" } th { "median now" } th { "change" } th { "worst before" } th { "worst now" } th { "limit" } }
                    @for t in &d.timers {
                        tr class=[t.over_limit().then_some("over")] {
                            td { code { (printable(&t.name)) } }
                            @for cell in timer_cells(t) { td { (cell) } }
                        }
                    }
                }
            }
        }
    }
}
