//! `doipcheck inspect CAPTURE...`: decode a recorded capture (pcap or pcapng, gzip or not) and
//! judge what the target did, passively.
//!
//! Each file is read twice: a survey of its CAN frames (byte order of the ids, ISO-TP id pairs),
//! then the transcript, checked by [`crate::inspect`] as it goes. Transcript: a console transcript
//! (packet, time since the first packet, who sent what, decoded) with findings inline and
//! per-connection summaries, or `--json`, one object per line: `doip`, `isotp`, `finding`,
//! `notice`, `connection`, and last a `summary` per file (see [`output`]); `--junit FILE`
//! adds one testsuite per capture with one testcase per check.
//!
//! Exit 0 when no file has a finding, 1 when one has, 2 when a file cannot be read as a capture
//! (or the arguments or profile are wrong).

mod events;
mod json_line;
mod junit;
pub mod output;

use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::exit;
use super::stdout::{self, Stdout};
use crate::codec::can::{CanId, ExtendedId, StandardId};
use crate::codec::isotp::{AddressingMode, parse_fixed_id};
use crate::judge::{Declared, Judge};
use crate::pcap::read::{IsoTpPair, ReadConfig, Reader, Survey, SurveyResult};
use crate::pcap::socketcan::CanByteOrder;
use crate::pcap::source::read_file;
use crate::suite::load;

use output::{Format, Totals, Transcript};

/// Decode and check recorded captures.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// pcap or pcapng files (gzip-compressed ones too).
    #[arg(required = true, value_name = "CAPTURE")]
    pub captures: Vec<PathBuf>,
    /// One JSON object per line instead of the transcript.
    #[arg(long)]
    pub json: bool,
    /// Only the findings, notices, connection summaries and the summary: no line per message
    /// (the judge still reads every one).
    #[arg(long)]
    pub findings_only: bool,
    /// Target profile: its DoIP ports (ports.tcp, ports.udp, ports.tls) are read as DoIP too, and
    /// answers are timed against its A_Processing_Time, A_DoIP_Diagnostic_Message, P2 and P2*
    /// (plus timing.tolerance).
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Another TCP/UDP port DoIP runs on (repeatable; 13400 always is).
    #[arg(long = "doip-port", value_name = "N")]
    pub doip_ports: Vec<u16>,
    /// ISO-TP id pair, tester's id first (hex, e.g. 7E0:7E8 or 18DA10F1:18DAF110; repeatable).
    /// Without it the pairs are found from the frames.
    #[arg(long = "isotp", value_name = "TX:RX")]
    pub isotp: Vec<String>,
    /// Byte order of the CAN ids in SocketCAN records; without it, detected per file.
    #[arg(long, value_enum)]
    pub can_byte_order: Option<ByteOrderArg>,
    /// Also write the reports of a run into DIR: report.html, junit.xml and report.json, one
    /// suite per capture and one case per check, failing with its findings.
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Also write a JUnit file: one testsuite per capture, one testcase per check.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// `--can-byte-order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ByteOrderArg {
    /// Big-endian, as link type 227 defines it.
    Network,
    /// Little-endian, as some candump converters write it.
    Host,
}

/// What every file is inspected with: the checked arguments.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Ports and limits of the reader (its byte order and pairs are set per file).
    pub read: ReadConfig,
    /// `--isotp` pairs; empty: found per file.
    pub isotp_pairs: Vec<IsoTpPair>,
    /// `--can-byte-order`; `None`: detected per file.
    pub can_byte_order: Option<CanByteOrder>,
    /// The profile's declared timing values (`--profile`); `None`: the timing rules are not
    /// applied.
    pub declared: Option<Declared>,
    /// `--findings-only`: no line per message.
    pub findings_only: bool,
}

/// Runs `doipcheck inspect`; returns the exit code.
pub fn run(args: InspectArgs) -> u8 {
    let settings = match settings_from(&args) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::USAGE;
        }
    };
    let mut out = Stdout::new();
    let format = if args.json { Format::Json } else { Format::Console };
    let mut code = exit::SUCCESS;
    let mut results = Vec::new();
    for path in &args.captures {
        match inspect_file(path, &settings, format, &mut out) {
            Ok(totals) => {
                if totals.findings > 0 {
                    code = code.max(exit::FAILURE);
                }
                results.push((path.clone(), Ok(totals)));
            }
            Err(NotInspected::Unreadable(message)) => {
                if let Err(e) = out.flush() {
                    return stdout::write_failed(&e);
                }
                eprintln!("error: {}: {message}", path.display());
                code = exit::USAGE;
                results.push((path.clone(), Err(message)));
            }
            // No reports either: whoever read the transcript stopped the command.
            Err(NotInspected::Output(e)) => return stdout::write_failed(&e),
        }
    }
    if let Err(e) = out.flush() {
        return stdout::write_failed(&e);
    }
    if let Some(dir) = &args.report_dir {
        let events = events::run_events(&results, settings.declared.is_some());
        match crate::report::write_all(&crate::report::ReportOptions::new(dir), &events) {
            Ok(written) => eprintln!(
                "reports: {} ({} bytes), {}, {}",
                written.html.display(),
                written.html_bytes,
                written.junit.display(),
                written.json.display()
            ),
            Err(e) => {
                eprintln!("error: writing the reports into {}: {e}", dir.display());
                code = exit::USAGE;
            }
        }
    }
    if let Some(junit) = &args.junit {
        let xml = junit::report(&results, settings.declared.is_some());
        if let Err(e) = std::fs::write(junit, xml) {
            eprintln!("error: writing {}: {e}", junit.display());
            code = exit::USAGE;
        }
    }
    code
}

/// Why a file's inspection did not end with its totals.
#[derive(Debug, thiserror::Error)]
pub enum NotInspected {
    /// The file is no readable capture: why.
    #[error("{0}")]
    Unreadable(String),
    /// The transcript could not be written (the reader of a pipe went away): the file was not
    /// read on.
    #[error("writing the transcript: {0}")]
    Output(std::io::Error),
}

/// Inspects one file, writing its transcript to `out`; stops reading at the first failed write.
pub fn inspect_file(
    path: &Path,
    settings: &Settings,
    format: Format,
    out: &mut dyn Write,
) -> Result<Totals, NotInspected> {
    let (config, surveyed) = surveyed_config(path, settings).map_err(NotInspected::Unreadable)?;
    let mut output = Transcript::new(format, out, path).findings_only(settings.findings_only);
    output.header(&config.isotp_pairs, surveyed.can_byte_order);
    let mut inspector =
        Judge::with_declared(output, &config.isotp_pairs, settings.declared.as_ref());
    let mut reader = Reader::new(config);
    let outcome = read_file(path, |record| {
        reader.record(record, &mut inspector);
        if inspector.report_mut().write_failed() {
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })
    .map_err(|e| NotInspected::Unreadable(format!("cannot open: {e}")))?;
    if let Some(e) = inspector.report_mut().write_error() {
        return Err(NotInspected::Output(e));
    }
    reader.finish(&mut inspector);
    let findings = inspector.findings();
    let isotp_messages = inspector.isotp_messages();
    let judged = inspector.judged().to_vec();
    let mut output = inspector.into_report();
    for why in &outcome.skipped {
        output.notice(None, &format!("record skipped: {why}"));
    }
    if let Some(why) = &outcome.stopped {
        output.notice(None, why);
    }
    let totals = Totals {
        stats: *reader.stats(),
        isotp_messages,
        can_byte_order: surveyed.can_byte_order,
        findings,
        gzip: outcome.gzip,
        by_rule: output.take_by_rule(),
        judged,
    };
    output.summary(&totals);
    match output.write_error() {
        Some(e) => Err(NotInspected::Output(e)),
        None => Ok(totals),
    }
}

/// The first pass over a file (see [`Survey`]): the reader's configuration for it, with the
/// CAN byte order and ISO-TP pairs found (unless the settings give them), and the survey.
/// `Err` when the file is no readable capture. A pcap file whose link type is not SocketCAN
/// is surveyed from its first record; any other file is read whole.
pub fn surveyed_config(
    path: &Path,
    settings: &Settings,
) -> Result<(ReadConfig, SurveyResult), String> {
    let mut survey = Survey::new(settings.can_byte_order);
    let outcome = read_file(path, |record| {
        if record.linktype == u32::from(pcap_file::DataLink::CAN_SOCKETCAN) {
            survey.record(record.data, record.time);
        } else if record.one_link_type {
            // No CAN frame in the whole file: nothing to survey, and no reason to read on.
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })
    .map_err(|e| format!("cannot open: {e}"))?;
    if outcome.unreadable() {
        return Err(outcome.stopped.unwrap_or_default());
    }
    let surveyed = survey.finish();
    let mut config = settings.read.clone();
    config.can_byte_order = surveyed.can_byte_order.unwrap_or(CanByteOrder::Network);
    config.isotp_pairs = if settings.isotp_pairs.is_empty() {
        surveyed.pairs.clone()
    } else {
        settings.isotp_pairs.clone()
    };
    Ok((config, surveyed))
}

/// The checked arguments, with the profile's ports and timing values.
pub fn settings_from(args: &InspectArgs) -> Result<Settings, String> {
    let mut config = ReadConfig::default();
    config.doip_ports.extend(args.doip_ports.iter().copied());
    let mut declared = None;
    if let Some(path) = &args.profile {
        let profile = load::load_profile(Some(path)).map_err(|e| e.render())?;
        let p = profile.target();
        config.doip_ports.extend([p.ports.tcp, p.ports.udp]);
        config.tls_ports.push(p.ports.tls);
        config.st_min_tolerance = p.can.gap_tolerance;
        config.entity_max_data_size = p.identity.max_data_size;
        declared = Some(Declared::from_profile(p));
    }
    config.doip_ports.sort_unstable();
    config.doip_ports.dedup();
    config.tls_ports.retain(|p| !config.doip_ports.contains(p));
    config.tls_ports.sort_unstable();
    config.tls_ports.dedup();
    let can_byte_order = args.can_byte_order.map(|o| match o {
        ByteOrderArg::Network => CanByteOrder::Network,
        ByteOrderArg::Host => CanByteOrder::Host,
    });
    Ok(Settings {
        read: config,
        isotp_pairs: parse_pairs(&args.isotp)?,
        can_byte_order,
        declared,
        findings_only: args.findings_only,
    })
}

/// `--isotp TX:RX` values.
pub(crate) fn parse_pairs(values: &[String]) -> Result<Vec<IsoTpPair>, String> {
    values
        .iter()
        .map(|v| {
            let (tx, rx) = v
                .split_once(':')
                .ok_or_else(|| format!("--isotp {v}: expected TX:RX, e.g. 7E0:7E8"))?;
            let (tx, rx) = (parse_can_id(tx, v)?, parse_can_id(rx, v)?);
            let addressing = parse_fixed_id(tx).map_or(AddressingMode::Normal, |p| p.mode);
            Ok(IsoTpPair { tx, rx, addressing })
        })
        .collect()
}

/// A CAN id in hex: 29-bit when it has more than 3 digits or does not fit 11 bits.
fn parse_can_id(text: &str, whole: &str) -> Result<CanId, String> {
    let digits = text.trim().trim_start_matches("0x").trim_start_matches("0X");
    let raw = u32::from_str_radix(digits, 16)
        .map_err(|_| format!("--isotp {whole}: `{text}` is not a hex CAN id"))?;
    let id = if digits.len() > 3 || raw > 0x7FF {
        ExtendedId::new(raw).map(CanId::Extended)
    } else {
        StandardId::new(raw as u16).map(CanId::Standard)
    };
    id.ok_or_else(|| format!("--isotp {whole}: 0x{raw:X} is no CAN id (29 bits at most)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotp_pairs_parse_in_both_widths_and_bad_ones_say_why() {
        let pairs = parse_pairs(&["7E0:7e8".into(), "0x18DA10F1:18DAF110".into()]).unwrap();
        assert_eq!(pairs[0].tx, CanId::Standard(StandardId::new(0x7E0).unwrap()));
        assert_eq!(pairs[1].addressing, AddressingMode::NormalFixed);
        assert!(parse_pairs(&["7E0".into()]).unwrap_err().contains("expected TX:RX"));
        assert!(parse_pairs(&["7E0:zz".into()]).unwrap_err().contains("not a hex CAN id"));
        assert!(parse_pairs(&["7E0:3FFFFFFF".into()]).unwrap_err().contains("29 bits"));
    }
}
