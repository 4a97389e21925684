//! UDP step kinds: vehicle identification, entity status and power mode requests and their
//! answers, and vehicle announcements (ISO 13400-2:2019 §9.2, §9.3).

use super::reader::StepReader;
use super::stream::{not_before_wait, show_timing, timing_args, timing_args_mut};
use super::{Arg, ArgMut, ArgType, Medium, StepDef, WaitValue};
use crate::suite::show::{describe_body, show_expr, show_matcher};
use crate::suite::spec::{MessageKey, NOT_BEFORE, OVERRIDE, StepSpec, Ty, WITHIN, k};
use crate::suite::step_args::{Matcher, OverrideExprs, TimeBounds, UdpDestination, UdpPayload};
use crate::suite::value::Expr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct UdpSend {
    pub payload: UdpPayload<Expr>,
    pub overrides: OverrideExprs,
    pub to: UdpDestination,
}

impl StepDef for UdpSend {
    const SPEC: StepSpec = StepSpec {
        name: "udp_send",
        doc: "Send a typed message or hex over UDP to the discovery port.",
        scalar: None,
        keys: &[
            k("hex", Ty::Hex, "Raw bytes instead of a typed message."),
            k(
                "to",
                Ty::Value,
                "`unicast` (default), `broadcast` (the profile's broadcast address) or `HOST:PORT`.",
            ),
            OVERRIDE,
        ],
        message: MessageKey::OrHex { matchers: false },
        bare: false,
    };
    fn medium(&self) -> Medium {
        Medium::DoipUdp
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        let payload = r.udp_send_payload()?;
        let to = match r.word("to") {
            None if r.get("to").is_none() => UdpDestination::Unicast,
            Some("unicast") => UdpDestination::Unicast,
            Some("broadcast") => UdpDestination::Broadcast,
            _ => UdpDestination::Address(r.expr("to")?),
        };
        Some(UdpSend { payload, overrides: r.overrides(), to })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        let mut out = vec![match &self.payload {
            UdpPayload::Message(m) => Arg::Send(m),
            UdpPayload::Hex(h) => Arg::Value(h, ArgType::Hex),
        }];
        out.push(Arg::OverrideExprs(&self.overrides));
        if let UdpDestination::Address(a) = &self.to {
            out.push(Arg::Value(a, ArgType::Text));
        }
        out
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        let mut out = vec![match &mut self.payload {
            UdpPayload::Message(m) => ArgMut::Send(m),
            UdpPayload::Hex(h) => ArgMut::Value(h, ArgType::Hex),
        }];
        out.push(ArgMut::OverrideExprs(&mut self.overrides));
        if let UdpDestination::Address(a) = &mut self.to {
            out.push(ArgMut::Value(a, ArgType::Text));
        }
        out
    }
    fn summary(&self) -> String {
        match &self.payload {
            UdpPayload::Message(m) => format!("udp_send {}", describe_body(m, show_expr)),
            UdpPayload::Hex(h) => format!("udp_send {}", show_expr(h)),
        }
    }
}

#[derive(Debug, Clone)]
pub struct UdpExpect {
    pub payload: UdpPayload<Matcher>,
    pub timing: TimeBounds,
    /// Match this many datagrams in a row (default 1); `timing` bounds the first.
    pub count: Option<Expr>,
    /// With `count`: each further datagram comes this long after the previous one
    /// (± the tolerance), e.g. A_DoIP_Announce_Interval.
    pub interval: Option<Expr>,
    /// Message kinds recorded and passed over while waiting (answers to datagrams the case
    /// sent before, which a conformant entity gives and a faulty one may not).
    pub pass_over: Vec<&'static str>,
}

impl StepDef for UdpExpect {
    const SPEC: StepSpec = StepSpec {
        name: "udp_expect",
        doc: "Wait for a UDP datagram: a typed message with matchers, or a hex pattern.",
        scalar: None,
        keys: &[
            k("hex", Ty::Pattern, "A pattern instead of a typed message."),
            WITHIN,
            NOT_BEFORE,
            k(
                "count",
                Ty::Value,
                "Match this many datagrams in a row (default 1); within / not_before bound the first.",
            ),
            k(
                "interval",
                Ty::Duration,
                "With count: each further datagram comes this long after the previous (± tolerance).",
            ),
            k(
                "pass_over",
                Ty::StrList,
                "Message kinds recorded and passed over while waiting, e.g. [generic_nack].",
            ),
        ],
        message: MessageKey::OrHex { matchers: true },
        bare: false,
    };
    fn medium(&self) -> Medium {
        Medium::DoipUdp
    }

    fn read(r: &mut StepReader<'_, '_>) -> Option<Self> {
        Some(UdpExpect {
            payload: r.udp_expect_payload()?,
            timing: r.timing(),
            count: r.expr("count"),
            interval: r.expr("interval"),
            pass_over: r.message_names("pass_over"),
        })
    }
    fn args(&self) -> Vec<Arg<'_>> {
        let mut out = vec![match &self.payload {
            UdpPayload::Message(m) => Arg::Expect(m),
            UdpPayload::Hex(h) => Arg::Value(h, ArgType::Pattern),
        }];
        out.extend(timing_args(&self.timing));
        out.extend(self.count.iter().map(|e| Arg::Value(e, ArgType::Int)));
        out.extend(self.interval.iter().map(|e| Arg::Value(e, ArgType::Duration)));
        out
    }
    fn args_mut(&mut self) -> Vec<ArgMut<'_>> {
        let mut out = vec![match &mut self.payload {
            UdpPayload::Message(m) => ArgMut::Expect(m),
            UdpPayload::Hex(h) => ArgMut::Value(h, ArgType::Pattern),
        }];
        out.extend(timing_args_mut(&mut self.timing));
        out.extend(self.count.iter_mut().map(|e| ArgMut::Value(e, ArgType::Int)));
        out.extend(self.interval.iter_mut().map(|e| ArgMut::Value(e, ArgType::Duration)));
        out
    }
    fn summary(&self) -> String {
        let expected = match &self.payload {
            UdpPayload::Message(m) => describe_body(m, show_matcher),
            UdpPayload::Hex(h) => show_expr(h),
        };
        let passed = if self.pass_over.is_empty() {
            String::new()
        } else {
            format!(" passing over {}", self.pass_over.join(", "))
        };
        format!("udp_expect {expected}{}{passed}", show_timing(&self.timing))
    }
    /// `not_before` plus `count - 1` intervals: the announcements a conformant entity spaces
    /// out (A_DoIP_Announce_Interval).
    fn declared_wait(&self, resolve: &dyn Fn(&Expr) -> Option<WaitValue>) -> Duration {
        let n = match self.count.as_ref().and_then(resolve) {
            Some(WaitValue::Int(n)) => n.clamp(1, 1000),
            _ => 1,
        };
        let interval =
            self.interval.as_ref().and_then(resolve).map(WaitValue::duration).unwrap_or_default();
        not_before_wait(&self.timing, resolve) + interval.saturating_mul((n - 1) as u32)
    }
}
