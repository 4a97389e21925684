//! The transcript of `doipcheck inspect`, for people (console) or machines (`--json`, one
//! object per line, keys in a fixed order):
//!
//! - `{"kind":"doip","packet":N,"time_us":T,"transport":"tcp"|"udp","payload_type":INT,
//!   "connection":N|null,"from":"tester"|"entity","src":"ip:port","dst":"ip:port","length":N,
//!   "valid":BOOL,"summary":"...","error":"rule"|null}`
//! - `{"kind":"isotp","packet":N,"time_us":T,"can_id":INT,"length":N,"data":"hex",
//!   "first_packet":N,"from":"tester"|"ecu","uds":"..."}`
//! - `{"kind":"finding","check":"...","packets":[N...],"message":"...","clause":"..."}`
//! - `{"kind":"notice","packet":N|null,"message":"..."}`: what the reader passed over or
//!   could not follow (skipped records, gaps, resyncs, a truncated file), not a finding
//! - `{"kind":"connection",...}`: a TCP connection's summary when it ends
//! - last, per file: `{"kind":"summary","file":"...","packets":N,"doip_messages":N,
//!   "isotp_messages":N,"can_frames":N,"can_byte_order":"network"|"host"|null,"findings":N}`
//!
//! `time_us` is the packet's timestamp in microseconds since 1970-01-01 UTC; the console shows
//! seconds since the file's first packet.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::json_line::JsonLine;

use crate::codec::can::CanId;
use crate::codec::doip::HeaderView;
use crate::codec::uds::describe as uds_summary;
use crate::judge::{ConnectionSummary, Finding, RULES, Report, Rule};
use crate::pcap::Side;
use crate::pcap::read::{
    At, CaptureEvent, CarriedBy, IsoTpEvent, IsoTpPair, ReadStats, SenderViolation,
};
use crate::pcap::socketcan::CanByteOrder;

/// Console or JSON lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Console,
    Json,
}

/// What one file came to.
#[derive(Debug, Clone)]
pub struct Totals {
    pub stats: ReadStats,
    pub isotp_messages: u64,
    pub can_byte_order: Option<CanByteOrder>,
    pub findings: u64,
    pub gzip: bool,
    /// Per rule that found something: how many findings, and the first few as text.
    pub by_rule: Vec<(&'static Rule, u64, Vec<String>)>,
    /// How often each rule (by [`Rule::index`]) had something to judge.
    pub judged: Vec<u64>,
}

/// What a capture showed of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleOutcome<'t> {
    /// Judged, never broken: how often it was judged.
    Kept(u64),
    /// Broken: how often, and the first findings as text.
    Broken(u64, &'t [String]),
    /// Nothing in the capture for this rule to judge.
    NotApplicable,
}

impl Totals {
    /// The rules a report lists (the profile's timing rules only with a profile), each with
    /// what the capture showed of it.
    pub fn outcomes(&self, timing: bool) -> impl Iterator<Item = (&'static Rule, RuleOutcome<'_>)> {
        RULES.iter().copied().filter(move |r| timing || !r.needs_profile()).map(|rule| {
            let outcome = match self.by_rule.iter().find(|(r, ..)| r.index == rule.index) {
                Some((_, count, kept)) => RuleOutcome::Broken(*count, kept),
                None => match self.judged.get(rule.index).copied().unwrap_or(0) {
                    0 => RuleOutcome::NotApplicable,
                    n => RuleOutcome::Kept(n),
                },
            };
            (rule, outcome)
        })
    }
}

/// Findings kept as text per rule for `--junit`.
const FINDINGS_KEPT_PER_RULE: usize = 50;

/// The transcript writer of one file.
pub struct Transcript<'w> {
    format: Format,
    out: Sink<'w>,
    file: String,
    /// Timestamp of the first packet, for relative console times.
    start: Option<Duration>,
    /// ECU-side ISO-TP ids (the `rx` of each pair).
    ecu_ids: Vec<CanId>,
    /// The JSON line being built, reused (the transcript is the hot path of a large file).
    line: String,
    /// Findings per rule (see [`Totals::by_rule`]).
    by_rule: Vec<(&'static Rule, u64, Vec<String>)>,
    /// No line per message or frame (`--findings-only`).
    findings_only: bool,
    /// The `"src":..,"dst":..` fragments of the last address pairs (a connection's two
    /// directions): formatting socket addresses is the dearest part of a line.
    addresses: AddressFragments,
}

/// The JSON fragments of the last [`AddressFragments::SLOTS`] (source, destination) pairs.
#[derive(Debug, Default)]
struct AddressFragments {
    slots: Vec<(SocketAddr, SocketAddr, String)>,
    next: usize,
}

impl AddressFragments {
    const SLOTS: usize = 4;

    /// `"src":"SRC","dst":"DST"` as [`JsonLine::display`] writes each.
    fn get(&mut self, src: SocketAddr, dst: SocketAddr) -> &str {
        let found = self.slots.iter().position(|(s, d, _)| *s == src && *d == dst);
        let at = match found {
            Some(at) => at,
            None => {
                let fragment = format!("\"src\":\"{src}\",\"dst\":\"{dst}\"");
                if self.slots.len() < Self::SLOTS {
                    self.slots.push((src, dst, fragment));
                    self.slots.len() - 1
                } else {
                    let at = self.next;
                    self.next = (self.next + 1) % Self::SLOTS;
                    self.slots[at] = (src, dst, fragment);
                    at
                }
            }
        };
        &self.slots[at].2
    }
}

impl<'w> Transcript<'w> {
    pub fn new(format: Format, out: &'w mut dyn Write, path: &Path) -> Self {
        Transcript {
            format,
            out: Sink { out, error: None },
            file: path.display().to_string(),
            start: None,
            ecu_ids: Vec::new(),
            line: String::new(),
            by_rule: Vec::new(),
            findings_only: false,
            addresses: AddressFragments::default(),
        }
    }

    /// Writes no line per message or frame, only findings, notices and summaries.
    pub fn findings_only(mut self, on: bool) -> Self {
        self.findings_only = on;
        self
    }

    /// The first write error (the reader of stdout went away): nothing has been written since,
    /// and the reading should stop.
    pub fn write_error(&mut self) -> Option<io::Error> {
        self.out.error.take()
    }

    /// Whether a write has failed (see [`Transcript::write_error`]).
    pub fn write_failed(&self) -> bool {
        self.out.error.is_some()
    }

    /// The file's first lines (console only): what the survey found.
    pub fn header(&mut self, pairs: &[IsoTpPair], order: Option<CanByteOrder>) {
        self.ecu_ids = pairs.iter().map(|p| p.rx).collect();
        if self.format == Format::Json {
            return;
        }
        let _ = writeln!(self.out, "{}", self.file);
        if let Some(order) = order {
            let _ = writeln!(self.out, "  CAN ids read in {} byte order", order.id());
        }
        for p in pairs {
            let _ = writeln!(
                self.out,
                "  ISO-TP pair: tester {} -> ECU {} ({} addressing)",
                p.tx, p.rx, p.addressing
            );
        }
    }

    fn time(&mut self, at: At) -> String {
        let start = *self.start.get_or_insert(at.time);
        let rel = at.time.saturating_sub(start);
        format!("{:>7} {:>4}.{:06}", at.packet, rel.as_secs(), rel.subsec_micros())
    }

    fn line(&mut self, at: Option<At>, text: &str) {
        let prefix = match at {
            Some(at) => self.time(at),
            None => format!("{:>19}", ""),
        };
        let _ = writeln!(self.out, "{prefix}  {text}");
    }

    fn json(&mut self, pairs: &[(&str, Value)]) {
        let mut line = String::from("{");
        for (i, (key, value)) in pairs.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            line.push_str(&Value::String((*key).to_owned()).to_string());
            line.push(':');
            line.push_str(&value.to_string());
        }
        line.push('}');
        let _ = writeln!(self.out, "{line}");
    }

    /// Something the reader passed over or could not follow.
    pub fn notice(&mut self, at: Option<At>, message: &str) {
        match self.format {
            Format::Console => self.line(at, &format!("note: {message}")),
            Format::Json => self.json(&[
                ("kind", "notice".into()),
                ("packet", at.map_or(Value::Null, |a| a.packet.into())),
                ("message", message.into()),
            ]),
        }
    }

    /// The findings per check so far.
    pub fn take_by_rule(&mut self) -> Vec<(&'static Rule, u64, Vec<String>)> {
        std::mem::take(&mut self.by_rule)
    }

    /// The file's last line.
    pub fn summary(&mut self, t: &Totals) {
        let order = t.can_byte_order.map_or(Value::Null, |o| o.id().into());
        match self.format {
            Format::Json => {
                let file = self.file.clone();
                self.json(&[
                    ("kind", "summary".into()),
                    ("file", file.into()),
                    ("packets", t.stats.packets.into()),
                    ("doip_messages", t.stats.doip_messages.into()),
                    ("isotp_messages", t.isotp_messages.into()),
                    ("can_frames", t.stats.can_frames.into()),
                    ("can_byte_order", order),
                    ("findings", t.findings.into()),
                ]);
            }
            Format::Console => {
                let tcp = t.stats.tcp;
                let _ = writeln!(
                    self.out,
                    "summary: {} packets{}, {} DoIP messages, {} ISO-TP messages, {} CAN frames, \
                     {} TCP segments ({} retransmitted, {} out of order, {} gaps), {} TLS bytes, \
                     {} records skipped; {} finding(s)",
                    t.stats.packets,
                    if t.gzip { " (gzip)" } else { "" },
                    t.stats.doip_messages,
                    t.isotp_messages,
                    t.stats.can_frames,
                    tcp.segments,
                    tcp.retransmissions,
                    tcp.out_of_order,
                    tcp.gaps,
                    t.stats.encrypted_bytes,
                    t.stats.skipped,
                    t.findings
                );
            }
        }
    }

    fn doip(
        &mut self,
        at: At,
        carrier: &CarriedBy,
        from: Side,
        bytes: &[u8],
        message: &Result<crate::codec::doip::Message<'_>, crate::codec::doip::Error>,
    ) {
        let (transport, conn, src, dst) = match carrier {
            CarriedBy::Tcp(c) => {
                let (s, d) = match from {
                    Side::Tester => (c.tester, c.entity),
                    Side::Entity => (c.entity, c.tester),
                };
                ("tcp", Some(c.id), s, d)
            }
            CarriedBy::Udp { src, dst } => ("udp", None, *src, *dst),
        };
        let payload_type = HeaderView::new(bytes).ok().map(|h| h.payload_type().raw());
        match self.format {
            Format::Json => {
                let mut j = JsonLine::start(&mut self.line, "doip");
                j.num("packet", at.packet);
                j.num("time_us", micros(at.time));
                j.str("transport", transport);
                match payload_type {
                    Some(t) => j.num("payload_type", u64::from(t)),
                    None => j.null("payload_type"),
                }
                match conn {
                    Some(id) => j.num("connection", u64::from(id)),
                    None => j.null("connection"),
                }
                j.str("from", side(from));
                j.raw(self.addresses.get(src, dst));
                j.num("length", bytes.len() as u64);
                j.bool("valid", message.is_ok());
                match message {
                    Ok(m) => j.text("summary", m.payload.summary()),
                    Err(e) => j.text("summary", format_args!("invalid: {e}")),
                }
                match message {
                    Ok(_) => j.null("error"),
                    Err(e) => j.str("error", e.rule.id()),
                }
                j.end();
                let _ = self.out.write_all(self.line.as_bytes());
            }
            Format::Console => {
                let summary = match message {
                    Ok(m) => m.payload.info(),
                    Err(e) => format!("invalid: {e}"),
                };
                let via = match conn {
                    Some(id) => format!("TCP#{id}"),
                    None => "UDP".into(),
                };
                let arrow = match from {
                    Side::Tester => "tester -> entity",
                    Side::Entity => "entity -> tester",
                };
                self.line(Some(at), &format!("{via:<6} {arrow}  {summary}"));
            }
        }
    }

    fn isotp_message(&mut self, can_id: CanId, first: u64, at: At, length: u32, data: &[u8]) {
        let from = if self.ecu_ids.contains(&can_id) { "ecu" } else { "tester" };
        let uds = uds_summary(data);
        match self.format {
            Format::Json => {
                let mut j = JsonLine::start(&mut self.line, "isotp");
                j.num("packet", at.packet);
                j.num("time_us", micros(at.time));
                j.num("can_id", u64::from(can_id.raw()));
                j.num("length", u64::from(length));
                j.hex("data", data);
                j.num("first_packet", first);
                j.str("from", from);
                j.str("uds", &uds);
                j.end();
                let _ = self.out.write_all(self.line.as_bytes());
            }
            Format::Console => {
                let text = format!(
                    "CAN {can_id:<8} {from:<6} ISO-TP {length} bytes{}: {uds}",
                    if first == at.packet {
                        String::new()
                    } else {
                        format!(" (from packet {first})")
                    }
                );
                self.line(Some(at), &text);
            }
        }
    }
}

impl Report for Transcript<'_> {
    fn event(&mut self, event: &CaptureEvent<'_>) {
        let per_message = matches!(
            event,
            CaptureEvent::Doip { .. }
                | CaptureEvent::IsoTp(IsoTpEvent::Message { .. })
                | CaptureEvent::Opened { .. }
                | CaptureEvent::Closed { .. }
                | CaptureEvent::Encrypted { .. }
                | CaptureEvent::Can { .. }
                | CaptureEvent::Data { .. }
        );
        if self.findings_only && per_message {
            return;
        }
        match event {
            CaptureEvent::Doip { at, carrier, from, bytes, message } => {
                self.doip(*at, carrier, *from, bytes, message)
            }
            CaptureEvent::IsoTp(IsoTpEvent::Message { can_id, first, last, length, data }) => {
                let at = At { packet: last.packet, time: last.time };
                self.isotp_message(*can_id, first.packet, at, *length, data);
            }
            CaptureEvent::IsoTp(IsoTpEvent::SenderViolation { can_id, at, violation, .. })
                if !self.ecu_ids.contains(can_id)
                    || matches!(
                        violation,
                        SenderViolation::Unfinished { .. }
                            | SenderViolation::UnexpectedPdu { waiting_for_fc: true }
                    ) =>
            {
                let at = At { packet: at.packet, time: at.time };
                let who = if self.ecu_ids.contains(can_id) { "ECU" } else { "tester" };
                let text = format!("{who} {can_id}: {}", violation_text(violation));
                self.notice(Some(at), &text);
            }
            CaptureEvent::IsoTp(IsoTpEvent::InvalidFrame { can_id, at, error })
                if !self.ecu_ids.contains(can_id) =>
            {
                let at = At { packet: at.packet, time: at.time };
                self.notice(
                    Some(at),
                    &format!("tester {can_id}: frame ignored by a receiver: {error}"),
                );
            }
            CaptureEvent::Opened { at, conn } if self.format == Format::Console => {
                let how = if conn.handshake { "" } else { " (no SYN in the capture)" };
                let tls = if conn.tls { " TLS" } else { "" };
                let text = format!(
                    "TCP#{:<2}{tls} open: tester {} -> entity {}{how}",
                    conn.id, conn.tester, conn.entity
                );
                self.line(Some(*at), &text);
            }
            CaptureEvent::Closed { at, conn, by, reset } if self.format == Format::Console => {
                let how = if *reset { "reset (RST)" } else { "closed its side (FIN)" };
                self.line(Some(*at), &format!("TCP#{:<2} {} {how}", conn.id, side(*by)));
            }
            CaptureEvent::Gap { at, conn, from, missing } => {
                let text = format!(
                    "TCP#{}: the capture lost {missing} bytes the {} sent",
                    conn.id,
                    side(*from)
                );
                self.notice(Some(*at), &text);
            }
            CaptureEvent::Resynced { at, conn, from, skipped } => {
                let text = format!(
                    "TCP#{}: {}'s DoIP stream found again at a plausible header after {skipped} bytes",
                    conn.id,
                    side(*from)
                );
                self.notice(Some(*at), &text);
            }
            CaptureEvent::DoipTooLong { at, conn, from, declared, .. } => {
                let text = format!(
                    "TCP#{}: {} sent a DoIP message of {declared} payload bytes, longer than the reader holds; skipped undecoded",
                    conn.id,
                    side(*from)
                );
                self.notice(Some(*at), &text);
            }
            CaptureEvent::Encrypted { at, conn, from, bytes } if self.format == Format::Console => {
                let text = format!(
                    "TCP#{:<2} {} -> {} bytes of TLS (not decoded)",
                    conn.id,
                    side(*from),
                    bytes
                );
                self.line(Some(*at), &text);
            }
            CaptureEvent::CanRecord { at, error, .. } => self.notice(Some(*at), &error.to_string()),
            CaptureEvent::Skipped { at, why } => self.notice(Some(*at), &why.to_string()),
            CaptureEvent::DoipPortFound { at, port, udp } => {
                let carrier = if *udp { "a UDP datagram" } else { "a TCP segment" };
                let text = format!(
                    "DoIP found by its header on port {port} ({carrier}; neither 13400 nor a --doip-port): TCP and UDP on it are read as DoIP from this packet on"
                );
                self.notice(Some(*at), &text);
            }
            _ => {}
        }
    }

    fn finding(&mut self, f: &Finding) {
        let packets: Vec<String> = f.packets.iter().map(u64::to_string).collect();
        let text = format!("packets {}: {} ({})", packets.join(", "), f.message, f.rule.clause);
        match self.by_rule.iter_mut().find(|(r, ..)| r.index == f.rule.index) {
            Some((_, n, kept)) => {
                *n += 1;
                if kept.len() < FINDINGS_KEPT_PER_RULE {
                    kept.push(text);
                }
            }
            None => self.by_rule.push((f.rule, 1, vec![text])),
        }
        match self.format {
            Format::Json => self.json(&[
                ("kind", "finding".into()),
                ("rule", f.rule.id.into()),
                ("clause", f.rule.clause.into()),
                ("expected", f.rule.requirement.into()),
                ("message", f.message.clone().into()),
                ("packets", Value::from(f.packets.clone())),
            ]),
            Format::Console => {
                let packets: Vec<String> = f.packets.iter().map(u64::to_string).collect();
                let text = format!(
                    "FINDING {}: {} (packets {}; {})",
                    f.rule.id,
                    f.message,
                    packets.join(", "),
                    f.rule.clause
                );
                self.line(None, &text);
            }
        }
    }

    fn connection(&mut self, s: &ConnectionSummary) {
        let closed = match s.closed_by {
            Some((by, true)) => format!("reset by the {}", side(by)),
            Some((by, false)) => format!("closed first by the {}", side(by)),
            None if s.open_at_end => "still open at the end of the capture".into(),
            None => "not closed in the capture".into(),
        };
        match self.format {
            Format::Json => self.json(&[
                ("kind", "connection".into()),
                ("connection", s.conn.id.into()),
                ("tester", s.conn.tester.to_string().into()),
                ("entity", s.conn.entity.to_string().into()),
                ("tls", s.conn.tls.into()),
                ("tester_messages", s.tester_messages.into()),
                ("entity_messages", s.entity_messages.into()),
                ("activated", s.activated.into()),
                ("gaps", s.gaps.into()),
                ("closed", closed.into()),
            ]),
            Format::Console => {
                let tls = if s.conn.tls {
                    format!(", {} TLS bytes", s.encrypted_bytes)
                } else {
                    String::new()
                };
                let text = format!(
                    "TCP#{:<2} summary: {} tester / {} entity messages, {}activated, {} gap(s){tls}, {closed}",
                    s.conn.id,
                    s.tester_messages,
                    s.entity_messages,
                    if s.activated { "" } else { "not " },
                    s.gaps
                );
                self.line(None, &text);
            }
        }
    }
}

/// The transcript's writer: keeps the first write error and writes nothing after it, so the
/// many writes of the transcript need no check each, and the reading loop checks once per
/// record.
struct Sink<'w> {
    out: &'w mut dyn Write,
    error: Option<io::Error>,
}

impl Sink<'_> {
    /// The result of `call` on the writer, its error kept when it is the first (an interrupted
    /// call is retried by `write_all`, not kept); after that every call fails at once.
    fn keep<T>(&mut self, call: impl FnOnce(&mut dyn Write) -> io::Result<T>) -> io::Result<T> {
        if self.error.is_none() {
            match call(&mut *self.out) {
                Err(e) if e.kind() != io::ErrorKind::Interrupted => self.error = Some(e),
                other => return other,
            }
        }
        Err(io::Error::other("an earlier write of the transcript failed"))
    }
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.keep(|out| out.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.keep(|out| out.flush())
    }
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Tester => "tester",
        Side::Entity => "entity",
    }
}

fn micros(t: Duration) -> u64 {
    u64::try_from(t.as_micros()).unwrap_or(u64::MAX)
}

fn violation_text(v: &SenderViolation) -> String {
    match v {
        SenderViolation::WrongSn { expected, found } => {
            format!("CF SN {found:X} where {expected:X} was due")
        }
        SenderViolation::UnexpectedPdu { waiting_for_fc: true } => {
            "new message while the last waited for a flow control (given up?)".into()
        }
        SenderViolation::UnexpectedPdu { waiting_for_fc: false } => {
            "new message before the last was finished".into()
        }
        SenderViolation::CfBeforeFc { block_size } => {
            format!("CF before the flow control (BS {block_size})")
        }
        SenderViolation::StMinNotKept { gap, st_min } => {
            format!("CFs {} us apart, STmin {} us", gap.as_micros(), st_min.as_micros())
        }
        SenderViolation::UnexpectedCf => "CF without a first frame".into(),
        SenderViolation::Unfinished { received, length } => {
            format!("{received} of {length} bytes, then nothing")
        }
    }
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn an_address_fragment_is_the_pair_as_json_strings_and_the_slots_are_reused() {
        let mut fragments = AddressFragments::default();
        let pairs: Vec<(SocketAddr, SocketAddr)> = (0..6u16)
            .map(|i| {
                let src: SocketAddr = format!("[::1]:{}", 50000 + i).parse().unwrap();
                (src, "127.0.0.1:13400".parse().unwrap())
            })
            .collect();
        for _ in 0..2 {
            for (src, dst) in &pairs {
                let json = format!("{{{}}}", fragments.get(*src, *dst));
                let value: serde_json::Value = serde_json::from_str(&json).unwrap();
                assert_eq!(value["src"], src.to_string());
                assert_eq!(value["dst"], dst.to_string());
            }
        }
        assert_eq!(fragments.slots.len(), AddressFragments::SLOTS);
    }
}
