//! The head of a fuzzing campaign's page (`doipcheck fuzz` writes report.html beside its
//! findings): the cases per mutation x start state as a heat map (then per transport: TCP,
//! TLS, UDP), and the rate over time as a line. The findings themselves are the page's cases,
//! each with its sequence chart.

use maud::{Markup, html};

use crate::report::text::printable;

/// What the campaign's page shows above its findings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CampaignView {
    /// One line: cases, time, rate, seed, liveness checks.
    pub summary: String,
    /// The start states (columns), in the order the fuzzer lists them.
    pub states: Vec<String>,
    /// Per mutation (row), its cases in each state of `states`.
    pub rows: Vec<(String, Vec<u64>)>,
    /// Per transport (`tcp`, `tls`, `udp`, `can`), its cases in each state of `states`: how
    /// many went over TLS, below the mutations.
    pub transports: Vec<(String, Vec<u64>)>,
    /// Cases sent by each time (seconds since the start, cases), in order.
    pub progress: Vec<(f64, u64)>,
    /// What the campaign did not fuzz and why: probes the target failed before the first
    /// case, services left out after they stayed dead (since which case).
    pub notes: Vec<String>,
}

const WIDTH: f64 = 480.0;
const HEIGHT: f64 = 120.0;

/// The heat map and the rate line.
pub fn campaign_section(c: &CampaignView) -> Markup {
    let most = c.rows.iter().flat_map(|(_, n)| n.iter().copied()).max().unwrap_or(0).max(1);
    let most_over = c.transports.iter().flat_map(|(_, n)| n.iter().copied()).max();
    let most = most.max(most_over.unwrap_or(0));
    // Shade on a log scale: a mutation tried 10 times stays visible beside one tried 10 000.
    let shade = |n: u64| {
        if n == 0 {
            return "background:none".to_owned();
        }
        let level = ((n as f64).ln_1p() / (most as f64).ln_1p()).clamp(0.08, 1.0);
        format!("background:rgba(40,110,200,{level:.2})")
    };
    html! {
        section #campaign {
            h2 { "Fuzzing campaign" }
            p { (printable(&c.summary)) }
            @if !c.notes.is_empty() {
                ul.notes { @for note in &c.notes { li { (printable(note)) } } }
            }
            details open {
                summary { h3.inline { "Cases per mutation and start state, then per transport" } }
                table.tally.heat {
                    tr { th { "mutation" } @for s in &c.states { th { (printable(s)) } } }
                    @for (mutation, counts) in &c.rows {
                        tr {
                            td { (printable(mutation)) }
                            @for n in counts { td style=(shade(*n)) { @if *n > 0 { (n) } } }
                        }
                    }
                    @if !c.transports.is_empty() {
                        tr.transports { th { "over" } @for s in &c.states { th { (printable(s)) } } }
                        @for (transport, counts) in &c.transports {
                            tr {
                                td { (printable(transport)) }
                                @for n in counts { td style=(shade(*n)) { (n) } }
                            }
                        }
                    }
                }
            }
            (rate_line(&c.progress))
        }
    }
}

/// Cases per second between samples, as a step line over the run (each interval at its
/// rate, so that one interval is drawn too).
fn rate_line(progress: &[(f64, u64)]) -> Markup {
    let rates: Vec<(f64, f64, f64)> = progress
        .windows(2)
        .filter(|w| w[1].0 > w[0].0)
        .map(|w| (w[0].0, w[1].0, (w[1].1 - w[0].1.min(w[1].1)) as f64 / (w[1].0 - w[0].0)))
        .collect();
    let (Some(end), Some(top)) = (
        rates.last().map(|r| r.1),
        rates.iter().map(|r| r.2).fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r)))),
    ) else {
        return html! { p.muted { "Too short a campaign for a rate over time." } };
    };
    let top = top.max(1.0);
    let point = |t: f64, r: f64| {
        let x = 40.0 + t / end.max(1e-9) * WIDTH;
        let y = 10.0 + (1.0 - r / top) * HEIGHT;
        format!("{x:.1},{y:.1}")
    };
    let points: Vec<String> =
        rates.iter().flat_map(|&(from, to, r)| [point(from, r), point(to, r)]).collect();
    html! {
        figure.plot {
            figcaption { b { "Cases per second over the run" } " (peak " (format!("{top:.0}")) ")" }
            svg xmlns="http://www.w3.org/2000/svg" width=(WIDTH as i64 + 50) height=(HEIGHT as i64 + 30)
                role="img" aria-label="cases per second over the run" {
                line.axis x1="40" y1=(HEIGHT as i64 + 10) x2=(WIDTH as i64 + 40) y2=(HEIGHT as i64 + 10) {}
                polyline points=(points.join(" ")) fill="none" stroke="currentColor" {}
                text x="0" y="16" { (format!("{top:.0}")) }
                text x="40" y=(HEIGHT as i64 + 26) { "0 s" }
                text x=(WIDTH as i64 + 40) y=(HEIGHT as i64 + 26) text-anchor="end" { (format!("{end:.0} s")) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_heat_map_has_a_row_per_mutation_and_the_rate_a_point_per_interval() {
        let view = CampaignView {
            summary: "300 cases in 3 s".into(),
            states: vec!["connected".into(), "activated".into()],
            rows: vec![("valid".into(), vec![200, 0]), ("<b>".into(), vec![0, 100])],
            transports: Vec::new(),
            progress: vec![(0.0, 0), (1.0, 100), (2.0, 250), (3.0, 300)],
            notes: vec!["left out: the UDP service since case 7".into()],
        };
        let page = campaign_section(&view).into_string();
        assert!(page.contains("<li>left out: the UDP service since case 7</li>"), "{page}");
        assert!(page.contains("<td>valid</td>") && page.contains("&lt;b&gt;"), "{page}");
        assert_eq!(page.matches("rgba(40,110,200,").count(), 2, "{page}");
        let points = page.split("points=\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(points.split(' ').count(), 6, "{points}");
        assert!(page.contains("(peak 150)"), "{page}");
        let one = CampaignView { progress: vec![(0.0, 0), (0.5, 10)], ..view.clone() };
        assert!(campaign_section(&one).into_string().contains("points=\"40.0,10.0 520.0,10.0\""));
        let short = CampaignView { progress: vec![(0.5, 10)], ..view };
        assert!(campaign_section(&short).into_string().contains("Too short"));
    }

    /// A row per transport under the mutations, each count written (a TLS row of zeros says
    /// that no case went over TLS).
    #[test]
    fn the_heat_map_has_a_row_per_transport() {
        let view = CampaignView {
            states: vec!["connected".into(), "udp".into()],
            rows: vec![("valid".into(), vec![30, 10])],
            transports: vec![
                ("tcp".into(), vec![20, 0]),
                ("tls".into(), vec![10, 0]),
                ("udp".into(), vec![0, 10]),
            ],
            ..CampaignView::default()
        };
        let page = campaign_section(&view).into_string();
        assert!(page.contains("<th>over</th>"), "{page}");
        let tls = page.split("<td>tls</td>").nth(1).expect("a TLS row");
        let row = tls.split("</tr>").next().unwrap();
        assert_eq!(row.matches("<td").count(), 2, "{row}");
        assert!(row.contains(">10</td>") && row.contains(">0</td>"), "{row}");
    }
}
