//! `doipcheck import CAPTURE -o suite.yaml`: the recorded conversations of a capture as a
//! suite ([`crate::import`] does the work; here are the arguments, the file reading and the
//! output). `replay` ([`super::replay`]) imports the same way and runs the result.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::exit;
use super::inspect::{ByteOrderArg, InspectArgs, settings_from, surveyed_config};
use crate::import::{ImportOptions, Importer, Masks, Pace, Timer};
use crate::pcap::read::Reader;
use crate::pcap::source::read_file;
use crate::suite::load;
use crate::suite::profile::Profile;

/// How the capture is read and what the suite holds to: shared by `import` and `replay`.
#[derive(Debug, Clone, Args, Default)]
pub struct ImportFlags {
    /// Another TCP/UDP port DoIP runs on in the capture (repeatable; 13400 and the profile's
    /// ports always are).
    #[arg(long = "doip-port", value_name = "N")]
    pub doip_ports: Vec<u16>,
    /// ISO-TP id pair, tester's id first (hex, e.g. 7E0:7E8; repeatable). Without it the pairs
    /// are found from the frames.
    #[arg(long = "isotp", value_name = "TX:RX")]
    pub isotp: Vec<String>,
    /// Byte order of the CAN ids in SocketCAN records; without it, detected per file.
    #[arg(long, value_enum)]
    pub can_byte_order: Option<ByteOrderArg>,
    /// `recorded`: a `wait` before each tester action reproduces the recorded pause; `fast`:
    /// no waits.
    #[arg(long, value_enum, default_value_t = PaceArg::Recorded)]
    pub pace: PaceArg,
    /// Also match this field with `any` in every expected message (a DoIP field name, e.g.
    /// `vin`, repeatable); `seed` masks a UDS SecurityAccess seed.
    #[arg(long = "mask", value_name = "FIELD")]
    pub masks: Vec<String>,
    /// Expect every value as recorded: no default masks (the SecurityAccess seed and
    /// currently_open_sockets are masked by default).
    #[arg(long)]
    pub exact: bool,
}

/// `--pace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum PaceArg {
    #[default]
    Recorded,
    Fast,
}

/// Turn a recorded capture into a suite.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A pcap or pcapng file (gzip-compressed too).
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
    /// The suite file to write (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Target profile: its timers bound the expected answers (`${profile.*}`), its ports are
    /// read as DoIP (default: the simulator's profile).
    #[arg(short, long)]
    pub profile: Option<PathBuf>,
    /// The suite's name (default: `import-` and the capture's file name).
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub flags: ImportFlags,
}

/// The profile timers an imported answer may be bounded by (ISO 13400-2:2019 Table 39,
/// ISO 14229-2 P2/P2*).
/// Runs `doipcheck import`; returns the exit code.
pub fn run(args: ImportArgs) -> u8 {
    let profile_path = args.profile.clone().unwrap_or_else(super::validate::default_profile);
    let name = args.name.clone().unwrap_or_else(|| default_name(&args.capture));
    match import_file(&args.capture, Some(&profile_path), &name, &args.flags) {
        Ok(imported) => match &args.output {
            Some(path) => match std::fs::write(path, &imported.yaml) {
                Ok(()) => {
                    eprintln!(
                        "{}: {} case(s) from {} (check with `doipcheck validate {}`)",
                        path.display(),
                        imported.cases,
                        args.capture.display(),
                        path.display()
                    );
                    exit::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: writing {}: {e}", path.display());
                    exit::USAGE
                }
            },
            None => super::stdout::print(&imported.yaml, exit::SUCCESS),
        },
        Err(message) => {
            eprintln!("error: {message}");
            exit::USAGE
        }
    }
}

/// An imported suite: its text and how many cases it has.
#[derive(Debug, Clone)]
pub struct Imported {
    pub yaml: String,
    pub cases: usize,
}

/// `import-` and the file name up to its first dot, as a suite name may be written.
pub fn default_name(capture: &Path) -> String {
    let stem = capture.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = stem.split('.').next().unwrap_or_default();
    let clean: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .collect();
    format!("import-{}", if clean.is_empty() { "capture" } else { &clean })
}

/// Reads `capture` (two passes, as `inspect`) into a suite, with `profile`'s timers and
/// ports (`None`: the standard's defaults).
pub fn import_file(
    capture: &Path,
    profile: Option<&Path>,
    name: &str,
    flags: &ImportFlags,
) -> Result<Imported, String> {
    let loaded = load::load_profile(profile).map_err(|e| e.render())?;
    let inspect_args = InspectArgs {
        captures: vec![capture.to_path_buf()],
        json: false,
        profile: profile.map(Path::to_path_buf),
        doip_ports: flags.doip_ports.clone(),
        isotp: flags.isotp.clone(),
        can_byte_order: flags.can_byte_order,
        junit: None,
        report_dir: None,
        findings_only: false,
    };
    let settings = settings_from(&inspect_args)?;
    let (mut config, _) =
        surveyed_config(capture, &settings).map_err(|e| format!("{}: {e}", capture.display()))?;
    // Frames of the profile's pair are the tester's and its ECU's even when the ECU never
    // answered (then the survey finds no pair): they replay as frames.
    if flags.isotp.is_empty()
        && let (tx, rx) = (loaded.target().isotp.tx_id, loaded.target().isotp.rx_id)
        && let Ok(pairs) = super::inspect::parse_pairs(&[format!("{tx:X}:{rx:X}")])
    {
        for pair in pairs {
            if !config.isotp_pairs.iter().any(|p| p.tx == pair.tx || p.rx == pair.rx) {
                config.isotp_pairs.push(pair);
            }
        }
    }
    let options = options(&loaded, capture, name, flags, config.isotp_pairs.clone())?;
    let mut importer = Importer::new(options);
    let mut reader = Reader::new(config);
    read_file(capture, |record| {
        reader.record(record, &mut importer);
        ControlFlow::Continue(())
    })
    .map_err(|e| format!("{}: cannot open: {e}", capture.display()))?;
    reader.finish(&mut importer);
    let (yaml, cases) = importer.finish().map_err(|e| format!("{}: {e}", capture.display()))?;
    Ok(Imported { yaml, cases })
}

fn options(
    profile: &Profile,
    capture: &Path,
    name: &str,
    flags: &ImportFlags,
    isotp_pairs: Vec<crate::pcap::read::IsoTpPair>,
) -> Result<ImportOptions, String> {
    let known: Vec<&str> = crate::suite::messages::MESSAGES
        .iter()
        .flat_map(|m| m.fields.iter().map(|f| f.name))
        .chain([crate::import::SEED])
        .collect();
    for mask in &flags.masks {
        if !known.contains(&mask.as_str()) {
            let help = crate::suite::diag::did_you_mean(mask, known.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Err(format!("--mask: `{mask}` is no message field{help}"));
        }
    }
    let mut masks = if flags.exact { Masks::none() } else { Masks::varying() };
    for mask in &flags.masks {
        if !masks.names.contains(mask) {
            masks.names.push(mask.clone());
        }
    }
    let timers = profile
        .named_timers()
        .into_iter()
        .map(|(key, value)| Timer { key: key.to_owned(), value })
        .collect();
    let protocol_version = profile.target().protocol_version;
    Ok(ImportOptions {
        name: name.to_string(),
        source: capture.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        pace: match flags.pace {
            PaceArg::Recorded => Pace::Recorded,
            PaceArg::Fast => Pace::Fast,
        },
        masks,
        timers,
        tolerance: profile.target().timers.tolerance,
        protocol_version,
        isotp_pairs,
    })
}
