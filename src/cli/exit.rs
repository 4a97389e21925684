//! Exit codes of the `doipcheck` binary, in one place (README.md "Exit codes").

/// Every case passed or was skipped; a decode had no invalid input.
pub const SUCCESS: u8 = 0;
/// A case failed, was inconclusive or errored; a decode input was invalid.
pub const FAILURE: u8 = 1;
/// Usage or suite error: nothing ran. Also a report or stdout that cannot be written (a full
/// disk; a closed pipe is [`CLOSED_PIPE`]).
pub const USAGE: u8 = 2;
/// The target could not be reached.
pub const UNREACHABLE: u8 = 3;
/// `run` stopped by a signal exits with 128 + the signal's number, after writing whole
/// reports (`cli::run::Stop`): SIGINT (Ctrl-C) 130, SIGTERM (how CI cancels and times out
/// jobs) 143, SIGHUP 129.
pub const SIGINT: u8 = 130;
/// See [`SIGINT`].
pub const SIGTERM: u8 = 143;
/// See [`SIGINT`].
pub const SIGHUP: u8 = 129;
/// The reader of stdout went away (`doipcheck inspect big.pcap | head`): the command stops at
/// once, without a word, with the status a shell reports for a process SIGPIPE ended
/// (128 + 13), as `cat` and `grep` do. `run` and `replay`, whose console is on stderr, go
/// on to their verdicts and reports with a silent console instead (`cli::stdout`).
pub const CLOSED_PIPE: u8 = 141;
