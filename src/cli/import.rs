//! `doipcheck import CAPTURE -o suite.yaml`: the recorded conversations of a capture as a
//! suite ([`crate::import`] does the work; here are the arguments, the file reading and the
//! output). `replay` ([`super::replay`]) imports the same way and runs the result.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::exit;
use super::inspect::{ByteOrderArg, InspectArgs, settings_from, surveyed_config};
use super::suite_files::SuiteFiles;
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

/// Runs `doipcheck import`; returns the exit code.
pub fn run(args: ImportArgs) -> u8 {
    let profile_path = args.profile.clone().unwrap_or_else(super::validate::default_profile);
    let name = args.name.clone().unwrap_or_else(|| default_name(&args.capture));
    let mut out = SuiteFiles::new(args.output.as_deref());
    match import_file(&args.capture, Some(&profile_path), &name, &args.flags, &mut out) {
        Ok(imported) => {
            for note in &imported.notes {
                eprintln!("note: {note}");
            }
            match imported.files.as_slice() {
                [] => exit::SUCCESS,
                files => {
                    let shown: Vec<String> =
                        files.iter().map(|f| f.display().to_string()).collect();
                    eprintln!(
                        "{}: {} case(s) from {} (check with `doipcheck validate {}`)",
                        shown.join(", "),
                        imported.cases,
                        args.capture.display(),
                        shown.join(" ")
                    );
                    exit::SUCCESS
                }
            }
        }
        Err(ImportFailed::Input(message)) => {
            eprintln!("error: {message}");
            exit::USAGE
        }
        Err(ImportFailed::Output(e)) if args.output.is_none() => super::stdout::write_failed(&e),
        Err(ImportFailed::Output(e)) => {
            eprintln!("error: writing the suite: {e}");
            exit::USAGE
        }
    }
}

/// An imported suite: the files written (none on standard output), its cases, and notes for
/// the user (the profile keys that replay an ISO-TP pair on its recorded ids).
#[derive(Debug, Clone)]
pub struct Imported {
    pub files: Vec<PathBuf>,
    pub cases: usize,
    pub notes: Vec<String>,
}

/// Why an import gave no suite.
#[derive(Debug)]
pub enum ImportFailed {
    /// The capture or the profile (said as a sentence).
    Input(String),
    /// Writing the suite.
    Output(std::io::Error),
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

/// Reads `capture` (two passes, as `inspect`) into a suite written to `out` as each
/// conversation ends, with `profile`'s timers and ports (`None`: the standard's defaults).
pub fn import_file(
    capture: &Path,
    profile: Option<&Path>,
    name: &str,
    flags: &ImportFlags,
    out: &mut SuiteFiles,
) -> Result<Imported, ImportFailed> {
    let input = |e: String| ImportFailed::Input(e);
    let loaded = load::load_profile(profile).map_err(|e| input(e.render()))?;
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
    let settings = settings_from(&inspect_args).map_err(input)?;
    let (mut config, _) = surveyed_config(capture, &settings)
        .map_err(|e| input(format!("{}: {e}", capture.display())))?;
    // Frames of the profile's pair are the tester's and its ECU's even when the ECU never
    // answered (then the survey finds no pair): they replay as frames.
    let profile_pair = (loaded.target().isotp.tx_id, loaded.target().isotp.rx_id);
    if flags.isotp.is_empty()
        && let Ok(pairs) =
            super::inspect::parse_pairs(&[format!("{:X}:{:X}", profile_pair.0, profile_pair.1)])
    {
        for pair in pairs {
            if !config.isotp_pairs.iter().any(|p| p.tx == pair.tx || p.rx == pair.rx) {
                config.isotp_pairs.push(pair);
            }
        }
    }
    let notes = config
        .isotp_pairs
        .iter()
        .filter(|p| (p.tx.raw(), p.rx.raw()) != profile_pair)
        .map(|p| {
            format!(
                "the ISO-TP cases of {tx:X}/{rx:X} replay on the profile's ids ({:X}/{:X}); \
                 to replay them on the recorded ids set isotp.tx_id: 0x{tx:X} and isotp.rx_id: \
                 0x{rx:X}{}",
                profile_pair.0,
                profile_pair.1,
                if p.tx.is_extended() { " and isotp.extended_ids: true" } else { "" },
                tx = p.tx.raw(),
                rx = p.rx.raw(),
            )
        })
        .collect();
    let options =
        options(&loaded, capture, name, flags, config.isotp_pairs.clone()).map_err(input)?;
    out.begin(&options);
    let mut importer = Importer::new(options);
    let mut reader = Reader::new(config);
    let mut written: std::io::Result<()> = Ok(());
    read_file(capture, |record| {
        reader.record(record, &mut importer);
        for case in importer.take_ready() {
            written = out.case(&case);
            if written.is_err() {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    })
    .map_err(|e| input(format!("{}: cannot open: {e}", capture.display())))?;
    written.map_err(ImportFailed::Output)?;
    reader.finish(&mut importer);
    let finished = importer.finish().map_err(|e| input(format!("{}: {e}", capture.display())))?;
    for case in &finished.cases {
        out.case(case).map_err(ImportFailed::Output)?;
    }
    let files = std::mem::replace(out, SuiteFiles::new(None))
        .finish(&finished.tail)
        .map_err(ImportFailed::Output)?;
    Ok(Imported { files, cases: finished.count, notes })
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
