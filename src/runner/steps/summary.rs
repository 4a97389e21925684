//! One line per step for events, transcripts and the console: what the step does, with its
//! expressions as written (`${profile.*}` references stay readable).

use crate::runner::message::{self as msg, show_expr, show_matcher};
use crate::suite::model::{Listen, StepKind, StreamKind, Timing, UdpPayload};

/// One line describing a step, for events and transcripts.
pub fn summary(kind: &StepKind) -> String {
    let conn = |c: &str| if c == "main" { String::new() } else { format!(" on {c}") };
    let timing = |t: &Timing| {
        let mut s = String::new();
        if let Some(w) = &t.within {
            s.push_str(&format!(" within {}", show_expr(w)));
        }
        if let Some(n) = &t.not_before {
            s.push_str(&format!(" not before {}", show_expr(n)));
        }
        s
    };
    match kind {
        StepKind::Connect { connection, transport, .. } => format!(
            "connect {}{}",
            if *transport == StreamKind::Tls { "tls" } else { "tcp" },
            conn(connection)
        ),
        StepKind::Disconnect { connection } => format!("disconnect{}", conn(connection)),
        StepKind::Activate { connection, .. } => format!("activate routing{}", conn(connection)),
        StepKind::Send { connection, message, overrides } => {
            let mut s =
                format!("send {}{}", msg::describe_body(message, show_expr), conn(connection));
            if overrides.version.is_some()
                || overrides.inverse_version.is_some()
                || overrides.payload_type.is_some()
                || overrides.payload_length.is_some()
                || overrides.truncate.is_some()
                || overrides.append.is_some()
            {
                s.push_str(" (malformed)");
            }
            s
        }
        StepKind::SendRaw { connection, hex, chunks, .. } => {
            let chunked = if chunks.is_empty() {
                String::new()
            } else {
                format!(" in {} chunks", chunks.len() + 1)
            };
            format!("send_raw {}{chunked}{}", show_expr(hex), conn(connection))
        }
        StepKind::Expect { connection, message, timing: t } => format!(
            "expect {}{}{}",
            msg::describe_body(message, show_matcher),
            timing(t),
            conn(connection)
        ),
        StepKind::ExpectRaw { connection, hex, timing: t, .. } => {
            format!("expect_raw {}{}{}", show_expr(hex), timing(t), conn(connection))
        }
        StepKind::ExpectNone { on, duration } => format!(
            "expect nothing{} for {}{}",
            match on {
                Listen::Can { id: Some(i) } => format!(" on id {}", show_expr(i)),
                _ => String::new(),
            },
            show_expr(duration),
            conn(on.connection_name())
        ),
        StepKind::ExpectClosed { connection, within, not_before } => format!(
            "expect closed{}{}{}",
            within.as_ref().map(|w| format!(" within {}", show_expr(w))).unwrap_or_default(),
            not_before
                .as_ref()
                .map(|n| format!(" not before {}", show_expr(n)))
                .unwrap_or_default(),
            conn(connection)
        ),
        StepKind::ExpectOpen { connection, duration } => {
            format!("expect open for {}{}", show_expr(duration), conn(connection))
        }
        StepKind::UdpSend { payload, .. } => match payload {
            UdpPayload::Message(m) => format!("udp_send {}", msg::describe_body(m, show_expr)),
            UdpPayload::Hex(h) => format!("udp_send {}", show_expr(h)),
        },
        StepKind::PowerCycle { .. } => "power cycle the target".to_string(),
        StepKind::UdpExpect { payload, timing: t, .. } => match payload {
            UdpPayload::Message(m) => {
                format!("udp_expect {}{}", msg::describe_body(m, show_matcher), timing(t))
            }
            UdpPayload::Hex(h) => format!("udp_expect {}{}", show_expr(h), timing(t)),
        },
        StepKind::CanSend { id, data, .. } => {
            format!("can_send {}#{}", show_expr(id), show_expr(data))
        }
        StepKind::CanExpect { id, .. } => format!("can_expect {}", show_expr(id)),
        StepKind::IsotpSend { data, functional, .. } => format!(
            "isotp_send {}{}",
            show_expr(data),
            if *functional { " (functional)" } else { "" }
        ),
        StepKind::IsotpExpect { data, .. } => format!("isotp_expect {}", show_expr(data)),
        StepKind::Wait(d) => format!("wait {}", show_expr(d)),
        StepKind::Capture(pairs) => format!(
            "capture {}",
            pairs.iter().map(|(n, f)| format!("{n}={f}")).collect::<Vec<_>>().join(" ")
        ),
        StepKind::Measure { name, .. } => format!("measure {name}"),
    }
}
