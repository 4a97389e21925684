//! `doipcheck replay CAPTURE [--target HOST[:PORT]]`: `import`, then `run` of the imported
//! suite, in one command. The suite is written to `REPORT_DIR/replay/NAME.yaml` (what ran stays
//! readable next to its reports) and handed to [`super::run`] unchanged, so verdicts, console,
//! JUnit, JSON and pcapng are `run`'s; without `--target` the built-in simulator plays the
//! entity, as in `run`.

use std::path::PathBuf;

use clap::Args;

use super::exit;
use super::import::{ImportFailed, ImportFlags, default_name, import_file};
use super::run::{PcapArg, RunArgs};
use super::suite_files::SuiteFiles;

/// Replay a recorded capture against a target (or the built-in simulator).
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A pcap or pcapng file (gzip-compressed too).
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
    /// The DoIP entity, HOST or HOST:PORT; without it, the built-in simulator.
    #[arg(short, long, value_name = "HOST[:PORT]")]
    pub target: Option<String>,
    /// Target profile (as in `run`): its timers bound the answers, its ports are read as DoIP.
    #[arg(short, long)]
    pub profile: Option<PathBuf>,
    /// CAN transport for the ISO-TP conversations against --target (as in `run`).
    #[arg(long, value_name = "SPEC")]
    pub can: Option<String>,
    /// Run against a simulator with this fault switched on (repeatable).
    #[arg(long = "sim-fault", value_name = "NAME")]
    pub sim_faults: Vec<String>,
    /// Where reports (and the imported suite, under replay/) go.
    #[arg(short = 'o', long, default_value = "reports")]
    pub report_dir: PathBuf,
    /// JUnit file (default: REPORT_DIR/junit.xml).
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// JSON file (default: REPORT_DIR/report.json).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Which cases keep a pcapng capture.
    #[arg(long, value_enum, default_value_t = PcapArg::Failing)]
    pub pcap: PcapArg,
    /// Plain console lines, no progress bar.
    #[arg(long)]
    pub plain: bool,
    #[command(flatten)]
    pub flags: ImportFlags,
}

/// Runs `doipcheck replay`; returns the exit code.
pub fn run(args: ReplayArgs) -> u8 {
    // The profile the run will use: the given one, else the simulator's without --target
    // and the standard's defaults with one (as `run` chooses).
    let profile = super::validate::profile_choice(args.profile.as_deref(), args.target.is_some());
    let name = default_name(&args.capture);
    let dir = args.report_dir.join("replay");
    let suite = dir.join(format!("{name}.yaml"));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: creating {}: {e}", dir.display());
        return exit::USAGE;
    }
    let mut out = SuiteFiles::new(Some(&suite));
    let imported =
        match import_file(&args.capture, profile.as_deref(), &name, &args.flags, &mut out) {
            Ok(imported) => imported,
            Err(ImportFailed::Input(message)) => {
                eprintln!("error: {message}");
                return exit::USAGE;
            }
            Err(ImportFailed::Output(e)) => {
                eprintln!("error: writing {}: {e}", suite.display());
                return exit::USAGE;
            }
        };
    for note in &imported.notes {
        eprintln!("note: {note}");
    }
    eprintln!(
        "replay: {} case(s) imported from {} into {}",
        imported.cases,
        args.capture.display(),
        imported.files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ")
    );
    super::run::run(RunArgs {
        paths: imported.files,
        target: args.target,
        profile: args.profile,
        sim_faults: args.sim_faults,
        can: args.can,
        report_dir: args.report_dir,
        junit: args.junit,
        json: args.json,
        pcap: args.pcap,
        plain: args.plain,
        ..RunArgs::default()
    })
}
