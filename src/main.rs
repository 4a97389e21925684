//! The `doipcheck` binary: parse arguments, dispatch, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    doipcheck::cli::main()
}
