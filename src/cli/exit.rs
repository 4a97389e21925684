//! Exit codes of the `doipcheck` binary, in one place (design.md "What a user does").

/// Every case passed or was skipped; a decode had no invalid input.
pub const SUCCESS: u8 = 0;
/// A case failed, was inconclusive or errored; a decode input was invalid.
pub const FAILURE: u8 = 1;
/// Usage or suite error: nothing ran.
pub const USAGE: u8 = 2;
/// The target could not be reached.
pub const UNREACHABLE: u8 = 3;
