//! Timing plots for `measure` steps: the measured value against its allowed window (`min:` to
//! `max:`) and the tolerance past `max:`, as inline SVG.

use std::time::Duration;

use maud::{Markup, html};

use super::chart::self_closed;
use super::human;
use crate::report::text::printable;
use crate::runner::event::MetricEvent;

const WIDTH: f64 = 420.0;
const HEIGHT: i64 = 40;

/// One plot for one metric.
pub fn timing_plot(m: &MetricEvent) -> Markup {
    let top = m.max.map(|max| max + m.tolerance).unwrap_or_default().max(m.min.unwrap_or_default());
    let scale = top.max(m.value).as_secs_f64().max(1e-6) * 1.25;
    let x = |d: Duration| (d.as_secs_f64() / scale * WIDTH).round() as i64;
    let low = m.min.unwrap_or_default();
    let inside = m.min.is_none_or(|min| m.value >= min)
        && m.max.is_none_or(|max| m.value <= max + m.tolerance);
    let window = match (m.min, m.max) {
        (None, None) => "no bounds".to_owned(),
        (min, max) => format!(
            "allowed {} .. {}",
            min.map(human).unwrap_or_else(|| "0".into()),
            max.map(|d| format!("{} (+{} tolerance)", human(d), human(m.tolerance)))
                .unwrap_or_else(|| "∞".into())
        ),
    };
    self_closed(html! {
        figure.plot {
            figcaption {
                b { (printable(&m.name)) } " = " (human(m.value)) "; " (window)
            }
            svg xmlns="http://www.w3.org/2000/svg" width=(WIDTH as i64 + 20) height=(HEIGHT)
                role="img" aria-label={"timing of " (printable(&m.name))} {
                line.axis x1="10" y1="28" x2=(WIDTH as i64 + 10) y2="28" {}
                @if let Some(max) = m.max {
                    rect.window x=(10 + x(low)) y="8" width=(x(max) - x(low)) height="20" {}
                    rect.tolerance x=(10 + x(max)) y="8" width=(x(max + m.tolerance) - x(max)) height="20" {}
                } @else if m.min.is_some() {
                    rect.window x=(10 + x(low)) y="8" width=(WIDTH as i64 - x(low)) height="20" {}
                }
                line.value.outside[!inside] x1=(10 + x(m.value)) y1="4" x2=(10 + x(m.value)) y2="32" {}
                text x="10" y="39" { "0" }
                text x=(WIDTH as i64 + 10) y="39" text-anchor="end" { (human(Duration::from_secs_f64(scale))) }
            }
        }
    })
}
