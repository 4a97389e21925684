//! `doipcheck merge-junit -o OUT IN...`: one JUnit report from the `junit.xml` files of
//! `--shard K/N` runs (concatenating them would not be XML). See [`crate::report::merge_junit`].

use super::exit;
use crate::report::{JunitInput, merge_junit, write_junit};
use clap::Args;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest JUnit file read (a whole shipped run's is well under 1 MiB).
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct MergeJunitArgs {
    /// Where the merged report goes (written whole or not at all).
    #[arg(long, short, value_name = "OUT")]
    pub output: PathBuf,
    /// The shards' JUnit files, in shard order.
    #[arg(required = true, value_name = "IN")]
    pub inputs: Vec<PathBuf>,
}

/// Runs the command and returns the exit code: 0 written, 2 an input could not be read or is
/// not a JUnit report (nothing written), 1 the output could not be written.
pub fn run(args: MergeJunitArgs) -> u8 {
    let mut inputs = Vec::new();
    for path in &args.inputs {
        match read_bounded(path) {
            Ok(xml) => inputs.push(JunitInput { name: path.display().to_string(), xml }),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return exit::USAGE;
            }
        }
    }
    let merged = match merge_junit(&inputs) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    match write_junit(&args.output, &merged) {
        Ok(()) => {
            eprintln!(
                "merged {} files: {} test cases ({} failures, {} errors, {} skipped) into {}",
                inputs.len(),
                merged.tests,
                merged.failures,
                merged.errors,
                merged.skipped,
                args.output.display()
            );
            exit::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", args.output.display());
            exit::FAILURE
        }
    }
}

fn read_bounded(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    std::fs::File::open(path)?.take(MAX_INPUT_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_INPUT_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB: not a JUnit file of ours",
            MAX_INPUT_BYTES >> 20
        )));
    }
    Ok(text)
}
