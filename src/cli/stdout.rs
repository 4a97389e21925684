//! The one writer of every command's standard output.
//!
//! Rust ignores SIGPIPE, so a write to a pipe whose reader has gone (`doipcheck inspect
//! big.pcap | head -1`) fails with [`io::ErrorKind::BrokenPipe`] instead of ending the process,
//! and `print!` panics on it. Commands therefore write through [`Stdout`] and pass the write
//! error up: it stops whatever loop feeds the output (a capture is not read on, a dump not
//! continued), and [`exit_code`] turns it into [`exit::CLOSED_PIPE`] (141, what a shell reports
//! for a process SIGPIPE ended), quietly. Any other write error (a full disk) is said on stderr
//! and exits [`exit::USAGE`], like a report that cannot be written.
//!
//! `run` and `replay` print their console on stderr, not here: when its reader goes
//! (`run 2>&1 | head`) the console goes quiet and the run goes on to its verdicts and reports,
//! its product (`report::console`; docs/architecture.md "Verdicts and exit codes").

use std::io::{self, BufWriter, Write};

use super::exit;

/// A command's stdout, buffered: bulk output (a transcript) goes out in blocks, and
/// [`Stdout::line`] flushes at once for interactive output (a dump, a request session, the
/// simulator's log). Flush before exiting: dropping it flushes too, but drops the error.
pub struct Stdout {
    out: BufWriter<io::Stdout>,
}

impl Stdout {
    pub fn new() -> Self {
        Stdout { out: BufWriter::with_capacity(64 * 1024, io::stdout()) }
    }

    /// Writes `text` and a newline, and flushes.
    pub fn line(&mut self, text: &str) -> io::Result<()> {
        writeln!(self.out, "{text}")?;
        self.out.flush()
    }

    /// Writes `text` as it is, and flushes.
    pub fn all(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())?;
        self.out.flush()
    }
}

impl Default for Stdout {
    fn default() -> Self {
        Stdout::new()
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Prints `text` whole (a command that builds its output first) and returns `code`, or the
/// code of the write error (see [`exit_code`]).
pub fn print(text: &str, code: u8) -> u8 {
    exit_code(Stdout::new().all(text), code)
}

/// `code` when the output was written; otherwise the code of the write error.
pub fn exit_code(written: io::Result<()>, code: u8) -> u8 {
    match written {
        Ok(()) => code,
        Err(e) => write_failed(&e),
    }
}

/// The code a command's body returned, or the code of the write error that stopped it.
pub fn exit_code_of(result: io::Result<u8>) -> u8 {
    result.unwrap_or_else(|e| write_failed(&e))
}

/// The exit code of a failed write to stdout: [`exit::CLOSED_PIPE`] without a word when the
/// reader went away, else [`exit::USAGE`] after saying why on stderr.
pub fn write_failed(e: &io::Error) -> u8 {
    if is_closed_pipe(e) {
        exit::CLOSED_PIPE
    } else {
        eprintln!("error: writing to stdout: {e}");
        exit::USAGE
    }
}

/// The reader of the pipe has gone (EPIPE).
pub fn is_closed_pipe(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_quiet_141_and_other_write_errors_are_2() {
        assert_eq!(exit_code(Ok(()), exit::FAILURE), exit::FAILURE);
        assert_eq!(exit_code(Err(io::ErrorKind::BrokenPipe.into()), 0), 141);
        assert_eq!(exit_code(Err(io::ErrorKind::StorageFull.into()), 0), exit::USAGE);
    }
}
