//! `doipcheck request --target HOST[:PORT] HEX...`: one diagnostic session from the terminal.
//! Connects (TCP, or TLS with `--tls`), activates routing, sends each UDS request as a
//! diagnostic message and prints what came back, decoded (the session logic is
//! `crate::client::session`). Requests come from the arguments (one per argument) or, without
//! any, one per line of stdin, over the same connection.
//!
//! The session's traffic goes through the judge (`crate::judge`): each rule the entity broke
//! is shown after the answers, with its clause.
//!
//! Exit 0 when every answer is positive, 1 on a negative answer, a NACK, silence, a denied
//! activation or a broken rule, 2 on usage errors, 3 when the entity cannot be reached.

use super::decode::{code_json, json_string, object};
use super::exit;
use super::received::{finding_json, finding_text, received_json, write_received};
use super::stdout::{self, Stdout};
use crate::client::session::{Exchange, OpenError, RequestOutcome, Session, SessionSettings};
use crate::codec::doip::ActivationType;
use crate::codec::uds::{Response, ServiceId};
use crate::notation::{self, format_duration};
use crate::suite::{load, value::parse_int};
use crate::transport::doip::tester::tls;
use clap::Args;
use std::io::{self, BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RequestArgs {
    /// UDS requests as hex, one per argument (`22F190`, "22 F1 90"). Without any, one request
    /// per line of stdin (empty lines and `#` comments skipped).
    pub hex: Vec<String>,
    /// The DoIP entity, HOST or HOST:PORT (default port: the profile's ports.tcp, 13400, or
    /// ports.tls, 3496, with --tls).
    #[arg(short, long, value_name = "HOST[:PORT]")]
    pub target: String,
    /// Profile for addresses and timers (default: the standard's values; the target address
    /// then comes from the routing activation response).
    #[arg(short, long)]
    pub profile: Option<PathBuf>,
    /// Tester logical address (default: the profile's tester_address, 0x0E80).
    #[arg(long, value_name = "SA", value_parser = parse_u16)]
    pub source_address: Option<u16>,
    /// Logical address the requests go to (default: the profile's uds.target_address with
    /// --profile, else the entity's address from its routing activation response).
    #[arg(long, value_name = "TA", value_parser = parse_u16)]
    pub target_address: Option<u16>,
    /// Routing activation type (default 0x00).
    #[arg(long, value_name = "T", value_parser = parse_u8)]
    pub activation_type: Option<u8>,
    /// TLS (ISO 13400-2:2019 §9.1.1); the entity's certificate is not judged.
    #[arg(long)]
    pub tls: bool,
    /// With --tls: also append the session's secrets to FILE in the NSS key-log format, for
    /// Wireshark to decrypt your own recording of it.
    #[arg(long, value_name = "FILE", requires = "tls")]
    pub tls_keylog: Option<PathBuf>,
    /// One JSON object per line: the session, then one per request.
    #[arg(long)]
    pub json: bool,
}

fn parse_u16(text: &str) -> Result<u16, String> {
    let v = parse_int(text)?;
    u16::try_from(v).map_err(|_| format!("`{text}` is larger than 0xFFFF"))
}

fn parse_u8(text: &str) -> Result<u8, String> {
    let v = parse_int(text)?;
    u8::try_from(v).map_err(|_| format!("`{text}` is larger than 0xFF"))
}

/// Runs `doipcheck request`; returns the exit code.
pub fn run(args: RequestArgs) -> u8 {
    let (settings, addr, tls) = match prepare(&args) {
        Ok(ready) => ready,
        Err(text) => {
            eprintln!("error: {text}");
            return exit::USAGE;
        }
    };
    let requests = if args.hex.is_empty() {
        if std::io::stdin().is_terminal() {
            eprintln!(
                "error: no request. Give UDS requests as hex, e.g. `doipcheck request -t {} 22F190`, or pipe one per line on stdin.",
                args.target
            );
            return exit::USAGE;
        }
        Requests::Stdin
    } else {
        let mut parsed = Vec::new();
        for text in &args.hex {
            match parse_request(text) {
                Ok(bytes) => parsed.push(bytes),
                Err(e) => {
                    eprintln!("error: {e}");
                    return exit::USAGE;
                }
            }
        }
        Requests::Given(parsed)
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::FAILURE;
        }
    };
    stdout::exit_code_of(runtime.block_on(session(args.json, settings, addr, tls, requests)))
}

enum Requests {
    Given(Vec<Vec<u8>>),
    Stdin,
}

fn parse_request(text: &str) -> Result<Vec<u8>, String> {
    match notation::parse_hex(text)? {
        bytes if bytes.is_empty() => Err(format!("request `{text}` has no bytes")),
        bytes => Ok(bytes),
    }
}

type Prepared = (SessionSettings, SocketAddr, Option<std::sync::Arc<rustls::ClientConfig>>);

fn prepare(args: &RequestArgs) -> Result<Prepared, String> {
    let profile = load::load_profile(args.profile.as_deref()).map_err(|e| e.render())?;
    let mut settings = SessionSettings::from_profile(profile.target(), args.profile.is_some());
    if let Some(sa) = args.source_address {
        settings.tester_address = sa;
    }
    if let Some(ta) = args.target_address {
        settings.target_address = Some(ta);
    }
    if let Some(t) = args.activation_type {
        settings.activation_type = ActivationType::from_raw(t);
    }
    let (ip, port) = super::run::parse_target(&args.target)?;
    let ports = profile.target().ports;
    let port = port.unwrap_or(if args.tls { ports.tls } else { ports.tcp });
    let tls = match args.tls {
        true => {
            let key_log = args.tls_keylog.as_deref().map(tls::KeyLogFile::open).transpose()?;
            let key_log =
                key_log.map(|k| std::sync::Arc::new(k) as std::sync::Arc<dyn rustls::KeyLog>);
            Some(tls::client_config(key_log)?)
        }
        false => None,
    };
    Ok((settings, SocketAddr::new(ip, port), tls))
}

async fn session(
    json: bool,
    settings: SessionSettings,
    addr: SocketAddr,
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    requests: Requests,
) -> io::Result<u8> {
    let mut out = SessionOutput { json, out: Stdout::new() };
    out.settings(&settings, addr, tls.is_some())?;
    let mut session = match Session::open(addr, tls, settings.clone()).await {
        Ok(session) => session,
        Err(OpenError::Unreachable(why)) => {
            out.unreachable(&why)?;
            return Ok(exit::UNREACHABLE);
        }
        Err(OpenError::NotActivated { why, received }) => {
            out.not_activated(&why, &received)?;
            return Ok(exit::FAILURE);
        }
    };
    out.activated(&session, settings.target_address.is_some())?;
    let mut all_positive = true;
    match requests {
        Requests::Given(list) => {
            for uds in list {
                let exchange = session.request(&uds).await;
                all_positive &= exchange.outcome.is_positive();
                out.exchange(&exchange)?;
            }
        }
        Requests::Stdin => {
            // Lines are read between requests: alive checks that come while the user types
            // are answered with the next request's wait (the socket buffers them).
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                let text = line.trim();
                if text.is_empty() || text.starts_with('#') {
                    continue;
                }
                let uds = match parse_request(text) {
                    Ok(uds) => uds,
                    Err(e) => {
                        out.line(
                            &format!("skipped: {e}"),
                            &object(&[("skipped", json_string(&e))]),
                        )?;
                        all_positive = false;
                        continue;
                    }
                };
                let exchange = session.request(&uds).await;
                all_positive &= exchange.outcome.is_positive();
                out.exchange(&exchange)?;
                if matches!(exchange.outcome, RequestOutcome::Ended(_)) {
                    break;
                }
            }
        }
    }
    let findings = session.close().await;
    out.findings(&findings)?;
    Ok(if all_positive && findings.is_empty() { exit::SUCCESS } else { exit::FAILURE })
}

/// Text or JSON lines on stdout, flushed per exchange (stdin sessions are interactive).
struct SessionOutput {
    json: bool,
    out: Stdout,
}

impl SessionOutput {
    fn line(&mut self, text: &str, json: &str) -> io::Result<()> {
        self.out.line(if self.json { json } else { text })
    }

    fn settings(&mut self, s: &SessionSettings, addr: SocketAddr, tls: bool) -> io::Result<()> {
        let transport = if tls { "TLS" } else { "TCP" };
        let target = match s.target_address {
            Some(ta) => format!("0x{ta:04X}"),
            None => "the entity's address (from routing activation)".into(),
        };
        let text = format!(
            "request: {addr} over {transport}, protocol version 0x{:02X}, tester 0x{:04X}, target {target}, activation type 0x{:02X}\n\
             waits: ACK {} (A_DoIP_Diagnostic_Message), P2 {}, P2* {} after NRC 0x78, each + {} tolerance",
            s.protocol_version.raw(),
            s.tester_address,
            s.activation_type.raw(),
            format_duration(s.ack_timeout),
            format_duration(s.p2),
            format_duration(s.p2_star),
            format_duration(s.tolerance),
        );
        let ms = |d: std::time::Duration| d.as_millis().to_string();
        let json = object(&[
            ("event", json_string("settings")),
            ("target", json_string(&addr.to_string())),
            ("transport", json_string(&transport.to_lowercase())),
            ("protocol_version", s.protocol_version.raw().to_string()),
            ("tester_address", s.tester_address.to_string()),
            ("target_address", s.target_address.map_or("null".into(), |t| t.to_string())),
            ("activation_type", s.activation_type.raw().to_string()),
            ("ack_timeout_ms", ms(s.ack_timeout)),
            ("p2_ms", ms(s.p2)),
            ("p2_star_ms", ms(s.p2_star)),
            ("tolerance_ms", ms(s.tolerance)),
        ]);
        self.line(&text, &json)
    }

    /// What the judge found in the session's traffic (docs/rules.md), one line each.
    fn findings(&mut self, findings: &[crate::judge::Finding]) -> io::Result<()> {
        for f in findings {
            self.line(&finding_text(f), &finding_json(f))?;
        }
        Ok(())
    }

    fn unreachable(&mut self, why: &str) -> io::Result<()> {
        let json = object(&[("event", json_string("unreachable")), ("error", json_string(why))]);
        self.line(&format!("unreachable: {why}"), &json)
    }

    fn not_activated(
        &mut self,
        why: &str,
        received: &[crate::client::session::SessionMessage],
    ) -> io::Result<()> {
        let mut text = format!("routing not activated: {why}\n");
        received.iter().for_each(|r| write_received(&mut text, r));
        let json = object(&[
            ("event", json_string("not_activated")),
            ("error", json_string(why)),
            ("received", list(received.iter().map(received_json))),
        ]);
        self.line(text.trim_end(), &json)
    }

    fn activated(&mut self, session: &Session, explicit_target: bool) -> io::Result<()> {
        let a = &session.activation;
        let mut text = format!(
            "routing activated: entity 0x{:04X}, tester 0x{:04X}; requests go to 0x{:04X}{}\n",
            a.entity_logical_address,
            a.tester_logical_address,
            session.target_address,
            if explicit_target { "" } else { " (the entity's address)" }
        );
        session.activation_received.iter().for_each(|r| write_received(&mut text, r));
        let json = object(&[
            ("event", json_string("activated")),
            ("entity_address", a.entity_logical_address.to_string()),
            ("target_address", session.target_address.to_string()),
            ("received", list(session.activation_received.iter().map(received_json))),
        ]);
        self.line(text.trim_end(), &json)
    }

    fn exchange(&mut self, e: &Exchange) -> io::Result<()> {
        let mut text = format!(
            "> {} -> 0x{:04X}\n",
            notation::hex_spaced(&e.request).to_uppercase(),
            e.target_address
        );
        e.received.iter().for_each(|r| write_received(&mut text, r));
        text.push_str(&format!("  = {}", outcome_text(&e.request, &e.outcome, e.pending)));
        let json = object(&[
            ("event", json_string("request")),
            ("request", json_string(&hex::encode(&e.request))),
            ("target_address", e.target_address.to_string()),
            ("received", list(e.received.iter().map(received_json))),
            ("pending", e.pending.to_string()),
            ("outcome", outcome_json(&e.request, &e.outcome)),
        ]);
        self.line(&text, &json)
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(","))
}

/// One line: the decoded answer (SID, NRC name, DID value as hex and ASCII).
fn outcome_text(request: &[u8], outcome: &RequestOutcome, pending: u32) -> String {
    let pending = match pending {
        0 => String::new(),
        n => format!(" after {n} response pending (NRC 0x78)"),
    };
    match outcome {
        RequestOutcome::Positive(bytes) => {
            let service = ServiceId::from_raw(bytes[0].wrapping_sub(0x40));
            let mut text = format!(
                "positive response to {service} (0x{:02X}){pending}: {}",
                bytes[0],
                notation::hex_spaced(bytes).to_uppercase()
            );
            if let Some((did, value)) = did_value(request, bytes) {
                text.push_str(&format!(
                    "\n    DID 0x{did:04X} = {} \"{}\"",
                    notation::hex_spaced(value).to_uppercase(),
                    ascii(value)
                ));
            }
            text
        }
        RequestOutcome::Negative { bytes, nrc } => {
            let service =
                Response::parse(bytes).map(|r| r.service().to_string()).unwrap_or_default();
            format!(
                "NEGATIVE response to {service}{pending}: NRC 0x{:02X} {}",
                nrc.raw(),
                nrc.description().unwrap_or("(unknown NRC)")
            )
        }
        RequestOutcome::Nack(code) => format!(
            "diagnostic message NACK 0x{:02X} {}",
            code.raw(),
            code.description().unwrap_or("(unknown code)")
        ),
        RequestOutcome::NoAck { waited } => {
            format!("NO diagnostic ACK or NACK within {}", format_duration(*waited))
        }
        RequestOutcome::NoAnswer { waited } => {
            format!("acknowledged, but NO answer within {}{pending}", format_duration(*waited))
        }
        RequestOutcome::NotUds { bytes, why } => {
            format!("not a UDS response ({why}): {}", notation::hex_spaced(bytes).to_uppercase())
        }
        RequestOutcome::Ended(why) => format!("connection ended: {why}"),
    }
}

fn outcome_json(request: &[u8], outcome: &RequestOutcome) -> String {
    let kind = |k: &str| ("kind", json_string(k));
    match outcome {
        RequestOutcome::Positive(bytes) => {
            let mut pairs = vec![
                kind("positive"),
                ("sid", bytes[0].to_string()),
                ("response", json_string(&hex::encode(bytes))),
            ];
            if let Some((did, value)) = did_value(request, bytes) {
                pairs.push((
                    "did",
                    object(&[
                        ("id", did.to_string()),
                        ("hex", json_string(&hex::encode(value))),
                        ("ascii", json_string(&ascii(value))),
                    ]),
                ));
            }
            object(&pairs)
        }
        RequestOutcome::Negative { bytes, nrc } => object(&[
            kind("negative"),
            ("response", json_string(&hex::encode(bytes))),
            ("nrc", code_json(u64::from(nrc.raw()), nrc.id())),
        ]),
        RequestOutcome::Nack(code) => {
            object(&[kind("nack"), ("nack_code", code_json(u64::from(code.raw()), code.id()))])
        }
        RequestOutcome::NoAck { waited } => {
            object(&[kind("no_ack"), ("waited_ms", waited.as_millis().to_string())])
        }
        RequestOutcome::NoAnswer { waited } => {
            object(&[kind("no_answer"), ("waited_ms", waited.as_millis().to_string())])
        }
        RequestOutcome::NotUds { bytes, why } => object(&[
            kind("not_uds"),
            ("response", json_string(&hex::encode(bytes))),
            ("error", json_string(why)),
        ]),
        RequestOutcome::Ended(why) => object(&[kind("ended"), ("error", json_string(why))]),
    }
}

/// The DID and its value when `request` reads exactly one DID (`22 HH LL`) and `response`
/// answers it (`62 HH LL value...`). Several DIDs cannot be split without their lengths.
fn did_value<'a>(request: &[u8], response: &'a [u8]) -> Option<(u16, &'a [u8])> {
    match (request, response) {
        ([0x22, hi, lo], [0x62, rhi, rlo, value @ ..]) if (hi, lo) == (rhi, rlo) => {
            Some((u16::from_be_bytes([*hi, *lo]), value))
        }
        _ => None,
    }
}

/// Printable ASCII as itself, anything else as `.` (a hostile value cannot move the cursor).
fn ascii(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::uds::Nrc;

    #[test]
    fn a_single_did_is_shown_as_hex_and_ascii() {
        let answer = [0x62, 0xF1, 0x90, b'W', b'D', 0x01];
        let text = outcome_text(&[0x22, 0xF1, 0x90], &RequestOutcome::Positive(answer.to_vec()), 0);
        assert_eq!(
            text,
            "positive response to ReadDataByIdentifier (0x62): 62 F1 90 57 44 01\n    DID 0xF190 = 57 44 01 \"WD.\""
        );
        assert_eq!(did_value(&[0x22, 0xF1, 0x90, 0xF1, 0x8C], &answer), None, "two DIDs");
        assert_eq!(did_value(&[0x22, 0xF1, 0x8C], &answer), None, "another DID");
    }

    #[test]
    fn a_negative_answer_names_its_nrc_and_the_pending_count() {
        let outcome =
            RequestOutcome::Negative { bytes: vec![0x7F, 0x22, 0x31], nrc: Nrc::RequestOutOfRange };
        assert_eq!(
            outcome_text(&[0x22, 0x12, 0x34], &outcome, 2),
            "NEGATIVE response to ReadDataByIdentifier after 2 response pending (NRC 0x78): NRC 0x31 requestOutOfRange"
        );
        let json: serde_json::Value =
            serde_json::from_str(&outcome_json(&[0x22], &outcome)).unwrap();
        assert_eq!(json["nrc"]["name"], "request_out_of_range");
        assert_eq!(json["nrc"]["value"], 0x31);
    }

    #[test]
    fn addresses_take_hex_or_decimal_and_refuse_what_does_not_fit() {
        assert_eq!(parse_u16("0x0E80"), Ok(0x0E80));
        assert_eq!(parse_u16("3712"), Ok(3712));
        assert!(parse_u16("0x10000").unwrap_err().contains("larger than 0xFFFF"));
        assert!(parse_u8("0x100").is_err());
        assert!(parse_request("").unwrap_err().contains("no bytes"));
    }
}
